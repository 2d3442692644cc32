/* `sdsim run FILE [--duration S] [--warmup S] [--seed N] [--replications N] [--json]
 *                 [--assert EXPR]` */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "analytic.h"
#include "assert_expr.h"
#include "cli.h"
#include "design_load.h"
#include "report.h"
#include "run_design.h"

#define MAX_DURATION 1e7     /* simulated seconds: 115 days is plenty for capacity planning */
#define MAX_REPLICATIONS 1000

typedef struct run_args {
    const char *file;
    double duration, warmup, seed, replications;
    int warmup_given, json;
    const char *assertion;
} run_args;

static void usage(FILE *out) {
    fputs("usage: sdsim run FILE [options]\n"
          "  FILE                a design (.json) or a template (.lua)\n"
          "  --duration S        simulated seconds in all (default 60)\n"
          "  --warmup S          first seconds left out of the statistics (default 10% of it)\n"
          "  --seed N            random seed (default 1); the same seed gives the same report\n"
          "  --replications N    independent runs with seeds N, N+1, ...; means and 95% CIs\n"
          "  --json              the report as JSON (docs/report-format.md)\n"
          "  --assert EXPR       exit 1 unless EXPR holds, e.g. 'p99_ms<200 && error_rate<0.001'\n"
          "                      names: mean_ms p50_ms p95_ms p99_ms error_rate throughput_rps\n"
          "                      dropped cost_month max_utilization, and <id>.<figure> with\n"
          "                      figure one of utilization throughput_rps mean_response_ms p50_ms\n"
          "                      p95_ms p99_ms mean_wait_ms errors dropped timeouts mean_queue\n"
          "                      replicas cost_month\n",
          out);
}

int sdsim_cli_number(const char *name, const char *text, double min, double max, double *out) {
    char *end;
    double v = text ? strtod(text, &end) : NAN;
    if (!text || end == text || *end || !isfinite(v) || v < min || v > max) {
        fprintf(stderr, "sdsim: %s needs a number from %g to %g, not '%s'\n", name, min, max,
                text ? text : "");
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, run_args *a) {
    *a = (run_args){.duration = 60, .seed = 1, .replications = 1};
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(stdout);
            exit(SDSIM_EXIT_OK);
        } else if (!strcmp(arg, "--json")) {
            a->json = 1;
            continue;
        } else if (!strcmp(arg, "--duration")) {
            rc = sdsim_cli_number(arg, val, 1e-3, MAX_DURATION, &a->duration);
        } else if (!strcmp(arg, "--warmup")) {
            rc = sdsim_cli_number(arg, val, 0, MAX_DURATION, &a->warmup);
            a->warmup_given = 1;
        } else if (!strcmp(arg, "--seed")) {
            rc = sdsim_cli_number(arg, val, 0, 9007199254740992.0, &a->seed);
        } else if (!strcmp(arg, "--replications")) {
            rc = sdsim_cli_number(arg, val, 1, MAX_REPLICATIONS, &a->replications);
        } else if (!strcmp(arg, "--assert")) {
            if (!val) rc = -1, fprintf(stderr, "sdsim: --assert needs an expression\n");
            a->assertion = val;
        } else if (arg[0] == '-' && arg[1]) {
            fprintf(stderr, "sdsim: unknown option %s (see sdsim run --help)\n", arg);
            return -1;
        } else if (!a->file) {
            a->file = arg;
            continue;
        } else {
            fprintf(stderr, "sdsim: one design file at a time ('%s' is a second)\n", arg);
            return -1;
        }
        if (rc) return -1;
        i++; /* the option's value */
    }
    if (!a->file) {
        usage(stderr);
        return -1;
    }
    if (!a->warmup_given) a->warmup = a->duration / 10;
    if (a->warmup >= a->duration) {
        fprintf(stderr, "sdsim: --warmup (%g s) must be shorter than --duration (%g s)\n",
                a->warmup, a->duration);
        return -1;
    }
    return 0;
}

static double wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A progress bar on stderr, only on a terminal and only once a run has taken a second. */
typedef struct progress {
    int enabled, shown;
    double started, last_drawn, duration;
    int replications;
} progress;

static void progress_draw(const sim_run *run, int replication, int window_index,
                          double window, void *ud) {
    progress *p = ud;
    double now = wall_now();
    if (!p->enabled || now - p->started < 1.0 || now - p->last_drawn < 0.1) return;
    p->last_drawn = now;
    p->shown = 1;
    double done = ((window_index + 1) * window) / p->duration;
    double frac = (replication + (done > 1 ? 1 : done)) / p->replications;
    int filled = (int)(frac * 30);
    fprintf(stderr, "\r[%.*s%*s] %3.0f%%  %.0f s of %.0f s simulated", filled,
            "##############################", 30 - filled, "", frac * 100,
            sim_run_now(run), p->duration);
    if (p->replications > 1)
        fprintf(stderr, " (replication %d of %d)", replication + 1, p->replications);
    fflush(stderr);
}

static int check_assertion(const char *expr, sdsim_report *report) {
    char names[1024], err[256];
    int ok = sdsim_assert_eval(expr, sdsim_report_lookup, report, names, sizeof names, err,
                               sizeof err);
    if (ok < 0) {
        fprintf(stderr, "sdsim: --assert '%s': %s\n", expr, err);
        return SDSIM_EXIT_USAGE;
    }
    if (!ok) {
        fprintf(stderr, "assertion failed: %s (%s)\n", expr, names);
        return SDSIM_EXIT_FAILED;
    }
    fprintf(stderr, "assertion holds: %s (%s)\n", expr, names);
    return SDSIM_EXIT_OK;
}

static void print_problems(const char *file, const sdsim_problems *p) {
    fprintf(stderr, "sdsim: %s is not a valid design (%d problem%s):\n", file, p->n,
            p->n == 1 ? "" : "s");
    for (int i = 0; i < p->n; i++)
        fprintf(stderr, "  %s: %s\n", p->items[i].path, p->items[i].reason);
}

int sdsim_cli_run(int argc, char **argv) {
    run_args a;
    if (parse_args(argc, argv, &a)) return SDSIM_EXIT_USAGE;
    sdsim_problems problems = {0};
    sim_design *d = sdsim_load_design_file(a.file, &problems);
    if (!d) {
        print_problems(a.file, &problems);
        sdsim_problems_free(&problems);
        return SDSIM_EXIT_USAGE;
    }
    /* Validate the assertion's syntax before spending the run on it. */
    if (a.assertion) {
        char err[256];
        sim_results empty = {.ncomponents = d->ncomponents};
        empty.components = calloc((size_t)d->ncomponents + 1, sizeof *empty.components);
        sdsim_report probe = {.design = d, .results = &empty};
        int syntax = empty.components ? sdsim_assert_eval(a.assertion, sdsim_report_lookup,
                                                          &probe, NULL, 0, err, sizeof err)
                                      : 0;
        free(empty.components);
        if (syntax < 0) {
            fprintf(stderr, "sdsim: --assert '%s': %s\n", a.assertion, err);
            sim_design_free(d);
            return SDSIM_EXIT_USAGE;
        }
    }
    progress prog = {.enabled = isatty(2), .started = wall_now(), .duration = a.duration,
                     .replications = (int)a.replications};
    sdsim_run_spec spec = {.duration = a.duration, .warmup = a.warmup, .seed = (uint64_t)a.seed,
                           .replications = (int)a.replications, .progress = progress_draw,
                           .ud = &prog};
    sdsim_run_output out;
    char err[600];
    int rc = sdsim_run_design(d, &spec, &out, err, sizeof err);
    if (prog.shown) fprintf(stderr, "\r%*s\r", 80, "");
    int exit_code = SDSIM_EXIT_USAGE;
    if (rc == 0) {
        if (a.json) sdsim_report_json(stdout, &out.report);
        else sdsim_report_text(stdout, &out.report);
        exit_code = a.assertion ? check_assertion(a.assertion, &out.report) : SDSIM_EXIT_OK;
    } else {
        fprintf(stderr, "sdsim: %s: %s\n", a.file, err);
    }
    sdsim_run_output_free(&out);
    sim_design_free(d);
    return exit_code;
}
