#include "json_writer.h"
#include <math.h>
#include <string.h>

void sdsim_json_init(sdsim_json *j, FILE *out, int pretty) {
    memset(j, 0, sizeof *j);
    j->out = out;
    j->pretty = pretty;
}

static void newline_indent(sdsim_json *j) {
    if (!j->pretty) return;
    fputc('\n', j->out);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->out);
}

/* Before a value that is not the value of a key: a comma after a previous sibling. */
static void before_value(sdsim_json *j) {
    if (j->depth == 0) return;
    if (j->count[j->depth] == -1) { /* a key was just written: the value follows it */
        j->count[j->depth] = 1;
        return;
    }
    if (j->count[j->depth]++ > 0) fputc(',', j->out);
    newline_indent(j);
}

static void container_open(sdsim_json *j, char c) {
    before_value(j);
    fputc(c, j->out);
    if (j->depth + 1 < SDSIM_JSON_MAX_DEPTH) j->depth++;
    j->count[j->depth] = 0;
}

static void container_close(sdsim_json *j, char c) {
    int had = j->count[j->depth] != 0;
    if (j->depth > 0) j->depth--;
    if (had) newline_indent(j);
    fputc(c, j->out);
    if (j->depth == 0) fputc('\n', j->out);
}

void sdsim_json_object_begin(sdsim_json *j) {
    container_open(j, '{');
}
void sdsim_json_object_end(sdsim_json *j) {
    container_close(j, '}');
}
void sdsim_json_array_begin(sdsim_json *j) {
    container_open(j, '[');
}
void sdsim_json_array_end(sdsim_json *j) {
    container_close(j, ']');
}

static void write_escaped(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

void sdsim_json_key(sdsim_json *j, const char *key) {
    if (j->count[j->depth]++ > 0) fputc(',', j->out);
    newline_indent(j);
    write_escaped(j->out, key);
    fputs(j->pretty ? ": " : ":", j->out);
    j->count[j->depth] = -1;
}

void sdsim_json_string(sdsim_json *j, const char *s) {
    before_value(j);
    write_escaped(j->out, s ? s : "");
}

/* Nine significant digits: more than any simulated figure deserves, and the same bytes on
 * every run because the value itself is deterministic. */
void sdsim_json_number(sdsim_json *j, double v) {
    before_value(j);
    if (!isfinite(v)) {
        fputs("null", j->out);
        return;
    }
    if (v == 0) v = 0; /* no "-0" */
    fprintf(j->out, "%.9g", v);
}

void sdsim_json_integer(sdsim_json *j, long long v) {
    before_value(j);
    fprintf(j->out, "%lld", v);
}

void sdsim_json_bool(sdsim_json *j, int v) {
    before_value(j);
    fputs(v ? "true" : "false", j->out);
}

void sdsim_json_null(sdsim_json *j) {
    before_value(j);
    fputs("null", j->out);
}

void sdsim_json_kv_number(sdsim_json *j, const char *key, double v) {
    sdsim_json_key(j, key);
    sdsim_json_number(j, v);
}

void sdsim_json_kv_integer(sdsim_json *j, const char *key, long long v) {
    sdsim_json_key(j, key);
    sdsim_json_integer(j, v);
}

void sdsim_json_kv_string(sdsim_json *j, const char *key, const char *s) {
    sdsim_json_key(j, key);
    sdsim_json_string(j, s);
}
