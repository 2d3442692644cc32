/* `sdsim run FILE [--duration S] [--warmup S] [--seed N] [--replications N] [--json]
 *                 [--assert EXPR] [--scenario NAME [--scenario-param K=V ...]]
 *                 [--plugins DIR [--plugin-cpu S] [--plugin-memory MB]]` */
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
#include "lua_behavior.h"
#include "report.h"
#include "run_design.h"

#define MAX_DURATION 1e7 /* simulated seconds: 115 days is plenty for capacity planning */
#define MAX_REPLICATIONS 1000
#define MAX_SCENARIO_PARAMS 64

typedef struct run_args {
    const char *file;
    double duration, warmup, seed, replications;
    int warmup_given, json;
    const char *assertion;
    const char *scenario; /* --scenario NAME or path; "list" prints the catalogue */
    const char *scenario_params[MAX_SCENARIO_PARAMS];
    int nscenario_params;
    const char *plugins;              /* --plugins DIR: component types from DIR (untrusted) */
    double plugin_cpu, plugin_memory; /* their run's limits: CPU seconds, MB (0: defaults) */
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
          "                      replicas cost_month\n"
          "  --scenario NAME     apply a failure scenario first: scripts/scenarios/NAME.lua\n"
          "                      or the path of any .lua file (docs/scenarios.md); shipped:\n"
          "                      db_failover chaos_monkey zone_outage dependency_slowdown\n"
          "                      retry_storm cache_miss_storm thread_pool_exhaustion\n"
          "                      packet_loss traffic_spike ramp_to_saturation\n"
          "                      (--scenario list: each with its description and parameters)\n"
          "  --scenario-param K=V  a parameter of the scenario, e.g. target=db or at_s=30\n"
          "  --plugins DIR       also load component types from DIR/*.lua (docs/plugin-api.md);\n"
          "                      the run then executes in a sandboxed child process\n"
          "  --plugin-cpu S      CPU seconds such a run may use (default 60)\n"
          "  --plugin-memory MB  Lua memory such a run may use (default 1024)\n",
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
        } else if (!strcmp(arg, "--scenario")) {
            if (!val) rc = -1, fprintf(stderr, "sdsim: --scenario needs a name (or 'list')\n");
            a->scenario = val;
        } else if (!strcmp(arg, "--scenario-param")) {
            if (!val || !strchr(val, '=')) {
                fprintf(stderr, "sdsim: --scenario-param needs KEY=VALUE, not '%s'\n",
                        val ? val : "");
                return -1;
            }
            if (a->nscenario_params == MAX_SCENARIO_PARAMS) {
                fprintf(stderr, "sdsim: at most %d --scenario-param\n", MAX_SCENARIO_PARAMS);
                return -1;
            }
            a->scenario_params[a->nscenario_params++] = val;
        } else if (!strcmp(arg, "--plugins")) {
            if (!val) rc = -1, fprintf(stderr, "sdsim: --plugins needs a directory\n");
            a->plugins = val;
        } else if (!strcmp(arg, "--plugin-cpu")) {
            rc = sdsim_cli_number(arg, val, 0.1, 86400, &a->plugin_cpu);
        } else if (!strcmp(arg, "--plugin-memory")) {
            rc = sdsim_cli_number(arg, val, 16, 65536, &a->plugin_memory);
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
    if (a->scenario && !strcmp(a->scenario, "list")) return 0; /* no design needed */
    if (!a->file) {
        usage(stderr);
        return -1;
    }
    if (a->nscenario_params && !a->scenario) {
        fprintf(stderr, "sdsim: --scenario-param without --scenario\n");
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

static void progress_draw(const sim_run *run, int replication, int window_index, double window,
                          void *ud) {
    progress *p = ud;
    double now = wall_now();
    if (!p->enabled || now - p->started < 1.0 || now - p->last_drawn < 0.1) return;
    p->last_drawn = now;
    p->shown = 1;
    double done = ((window_index + 1) * window) / p->duration;
    double frac = (replication + (done > 1 ? 1 : done)) / p->replications;
    int filled = (int)(frac * 30);
    fprintf(stderr, "\r[%.*s%*s] %3.0f%%  %.0f s of %.0f s simulated", filled,
            "##############################", 30 - filled, "", frac * 100, sim_run_now(run),
            p->duration);
    if (p->replications > 1)
        fprintf(stderr, " (replication %d of %d)", replication + 1, p->replications);
    fflush(stderr);
}

static int check_assertion(const char *expr, sdsim_report *report) {
    char names[1024], err[256];
    int ok =
        sdsim_assert_eval(expr, sdsim_report_lookup, report, names, sizeof names, err, sizeof err);
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

/* `--scenario list`: the shipped scenarios, their descriptions and parameters. */
static int list_scenarios(void) {
    char err[1024];
    char *text = sdsim_scenario_catalog(err, sizeof err);
    if (!text) {
        fprintf(stderr, "sdsim: %s\n", err);
        return SDSIM_EXIT_USAGE;
    }
    fputs(text, stdout);
    free(text);
    return SDSIM_EXIT_OK;
}

/* Loads the design, with the scenario applied when one is given; NULL after saying why. */
static sim_design *load_design(const run_args *a, sdsim_scenario *sc, char *path, size_t cap) {
    sdsim_problems problems = {0};
    sim_design *d;
    if (a->scenario) {
        char err[1024];
        if (sdsim_scenario_resolve(a->scenario, path, cap, err, sizeof err) != 0) {
            fprintf(stderr, "sdsim: --scenario: %s\n", err);
            return NULL;
        }
        *sc = (sdsim_scenario){.file = path,
                               .params = a->scenario_params,
                               .nparams = a->nscenario_params,
                               .duration = a->duration};
        d = sdsim_load_design_file_scenario(a->file, sc, &problems);
        if (!d && sc->error[0]) fprintf(stderr, "sdsim: scenario failed: %s\n", sc->error);
    } else {
        d = sdsim_load_design_file(a->file, &problems);
    }
    if (!d && problems.n > 0) print_problems(a->file, &problems);
    sdsim_problems_free(&problems);
    return d;
}

typedef struct run_body_args {
    const run_args *a;
    sdsim_scenario *sc;
} run_body_args;

static int run_body(sim_design *d, void *ud);

int sdsim_cli_run(int argc, char **argv) {
    run_args a;
    if (parse_args(argc, argv, &a)) return SDSIM_EXIT_USAGE;
    if (a.scenario && !strcmp(a.scenario, "list")) return list_scenarios();
    if (a.plugins) setenv("SDSIM_PLUGINS", a.plugins, 1); /* read by design.lua's type loading */
    sdsim_scenario sc = {0};
    char scenario_path[4096];
    sim_design *d = load_design(&a, &sc, scenario_path, sizeof scenario_path);
    if (!d) return SDSIM_EXIT_USAGE;
    /* Validate the assertion's syntax before spending the run on it. */
    if (a.assertion) {
        char err[256];
        sim_results empty = {.ncomponents = d->ncomponents};
        empty.components = calloc((size_t)d->ncomponents + 1, sizeof *empty.components);
        sdsim_report probe = {.design = d, .results = &empty};
        int syntax = empty.components ? sdsim_assert_eval(a.assertion, sdsim_report_lookup, &probe,
                                                          NULL, 0, err, sizeof err)
                                      : 0;
        free(empty.components);
        if (syntax < 0) {
            fprintf(stderr, "sdsim: --assert '%s': %s\n", a.assertion, err);
            sim_design_free(d);
            return SDSIM_EXIT_USAGE;
        }
    }
    /* Lua behaviours attached; with plugins, the run happens in a sandboxed child. */
    run_body_args body = {&a, &sc};
    sdsim_isolation lim = {.cpu_s = a.plugin_cpu, .memory_mb = (size_t)a.plugin_memory};
    int exit_code = sdsim_behavior_run(d, &lim, run_body, &body);
    sim_design_free(d);
    return exit_code;
}

static int run_body(sim_design *d, void *ud) {
    const run_args *ap = ((run_body_args *)ud)->a;
    sdsim_scenario *scp = ((run_body_args *)ud)->sc;
    progress prog = {.enabled = isatty(2),
                     .started = wall_now(),
                     .duration = ap->duration,
                     .replications = (int)ap->replications};
    sdsim_run_spec spec = {.duration = ap->duration,
                           .warmup = ap->warmup,
                           .seed = (uint64_t)ap->seed,
                           .replications = (int)ap->replications,
                           .progress = progress_draw,
                           .ud = &prog};
    sdsim_run_output out;
    char err[600];
    int rc = sdsim_run_design(d, &spec, &out, err, sizeof err);
    if (prog.shown) fprintf(stderr, "\r%*s\r", 80, "");
    int exit_code = SDSIM_EXIT_USAGE;
    if (rc == 0) {
        out.report.scenario = ap->scenario ? scp->summary : NULL;
        if (ap->json)
            sdsim_report_json(stdout, &out.report);
        else
            sdsim_report_text(stdout, &out.report);
        exit_code = ap->assertion ? check_assertion(ap->assertion, &out.report) : SDSIM_EXIT_OK;
    } else {
        fprintf(stderr, "sdsim: %s: %s\n", ap->file, err);
    }
    sdsim_run_output_free(&out);
    return exit_code;
}
