#include "assert_expr.h"
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NESTING 64

typedef struct parser {
    const char *p;
    sdsim_assert_lookup lookup;
    void *ud;
    char *names;
    int names_len;
    char *err;
    int errlen;
    int failed;
    int nesting;
} parser;

static void fail(parser *ps, const char *fmt, const char *what) {
    if (ps->failed) return;
    ps->failed = 1;
    snprintf(ps->err, (size_t)ps->errlen, fmt, what);
}

static void skip_space(parser *ps) {
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

static int accept(parser *ps, const char *tok) {
    skip_space(ps);
    size_t n = strlen(tok);
    if (strncmp(ps->p, tok, n) != 0) return 0;
    ps->p += n;
    return 1;
}

static int is_name_char(char c) {
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

static void note_name(parser *ps, const char *name, double v) {
    if (!ps->names || ps->names_len <= 0) return;
    size_t used = strlen(ps->names);
    if (strstr(ps->names, name)) return; /* said once is enough */
    snprintf(ps->names + used, (size_t)ps->names_len - used, "%s%s = %.6g", used ? ", " : "", name,
             v);
}

static double parse_value(parser *ps) {
    skip_space(ps);
    const char *start = ps->p;
    if (isdigit((unsigned char)*start) || *start == '.' ||
        (*start == '-' && isdigit((unsigned char)start[1]))) {
        char *end;
        double v = strtod(start, &end);
        ps->p = end;
        if (!isfinite(v)) fail(ps, "the number near '%.20s' is not finite", start);
        return v;
    }
    if (!isalpha((unsigned char)*start) && *start != '_') {
        fail(ps, *start ? "expected a name or a number at '%.20s'" : "expected a value%s", start);
        return 0;
    }
    char name[128];
    size_t n = 0;
    while (is_name_char(*ps->p) && n + 1 < sizeof name)
        name[n++] = *ps->p++;
    name[n] = 0;
    double v = 0;
    if (ps->lookup(name, &v, ps->ud) != 0) {
        fail(ps, "unknown figure '%s' (see `sdsim run --help` for the names)", name);
        return 0;
    }
    note_name(ps, name, v);
    return v;
}

static double parse_or(parser *ps);

static double parse_cmp(parser *ps) {
    double a = parse_value(ps);
    if (accept(ps, "<=")) return a <= parse_value(ps);
    if (accept(ps, ">=")) return a >= parse_value(ps);
    if (accept(ps, "==")) return a == parse_value(ps);
    if (accept(ps, "!=")) return a != parse_value(ps);
    if (accept(ps, "<")) return a < parse_value(ps);
    if (accept(ps, ">")) return a > parse_value(ps);
    return a;
}

static double parse_unary(parser *ps) {
    if (++ps->nesting > MAX_NESTING) {
        fail(ps, "the expression nests too deeply%s", "");
        return 0;
    }
    double v;
    if (accept(ps, "!") && !accept(ps, "=")) {
        v = parse_unary(ps) == 0;
    } else if (accept(ps, "(")) {
        v = parse_or(ps);
        if (!accept(ps, ")")) fail(ps, "missing ')' at '%.20s'", ps->p);
    } else {
        v = parse_cmp(ps);
    }
    ps->nesting--;
    return v;
}

static double parse_and(parser *ps) {
    double v = parse_unary(ps);
    while (!ps->failed && accept(ps, "&&")) {
        double w = parse_unary(ps); /* always parsed, so every name is checked and noted */
        v = (v != 0) && (w != 0);
    }
    return v;
}

static double parse_or(parser *ps) {
    double v = parse_and(ps);
    while (!ps->failed && accept(ps, "||")) {
        double w = parse_and(ps);
        v = (v != 0) || (w != 0);
    }
    return v;
}

int sdsim_assert_eval(const char *expr, sdsim_assert_lookup lookup, void *ud, char *names,
                      int names_len, char *err, int errlen) {
    parser ps = {.p = expr,
                 .lookup = lookup,
                 .ud = ud,
                 .names = names,
                 .names_len = names_len,
                 .err = err,
                 .errlen = errlen};
    if (names && names_len > 0) names[0] = 0;
    double v = parse_or(&ps);
    skip_space(&ps);
    if (!ps.failed && *ps.p) fail(&ps, "unexpected '%.20s'", ps.p);
    if (ps.failed) return -1;
    return v != 0;
}
