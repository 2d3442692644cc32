/* Replications, analytic pass and report of one design (see run_design.h). */
#include "run_design.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static double wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Adapts the engine's per-window callback to the spec's, which also names the replication. */
typedef struct window_relay {
    const sdsim_run_spec *spec;
    int replication;
    double window;
} window_relay;

static void relay_window(const sim_run *run, int window_index, void *ud) {
    window_relay *w = ud;
    w->spec->progress(run, w->replication, window_index, w->window, w->spec->ud);
}

static int run_replication(const sim_design *d, const sdsim_run_spec *spec, int k,
                           sdsim_replications *reps, char *err, int errlen) {
    sim_options o = sim_options_defaults();
    o.duration = spec->duration;
    o.warmup = spec->warmup;
    o.seed = spec->seed + (uint64_t)k;
    o.window = spec->duration / SDSIM_MAX_WINDOWS > 1 ? spec->duration / SDSIM_MAX_WINDOWS : 1;
    window_relay relay = {spec, k, o.window};
    if (spec->progress) {
        o.on_window = relay_window;
        o.ud = &relay;
    }
    char why[512];
    sim_run *run = sim_run_new(d, &o, why, sizeof why);
    if (!run) {
        snprintf(err, (size_t)errlen, "cannot run: %s", why);
        return -1;
    }
    int rc;
    while ((rc = sim_run_until(run, spec->duration)) == 0) {
    }
    if (rc < 0) {
        snprintf(err, (size_t)errlen, "the run stopped: %s", sim_run_error(run));
        sim_run_free(run);
        return -1;
    }
    rc = sdsim_replications_add(reps, sim_run_results(run));
    sim_run_free(run);
    if (rc) snprintf(err, (size_t)errlen, "out of memory keeping the results");
    return rc;
}

int sdsim_run_design(const sim_design *d, const sdsim_run_spec *spec, sdsim_run_output *out,
                     char *err, int errlen) {
    memset(out, 0, sizeof *out);
    double started = wall_now();
    for (int k = 0; k < spec->replications; k++)
        if (run_replication(d, spec, k, &out->reps, err, errlen)) return -1;
    if (sdsim_replications_summarise(&out->reps)) {
        snprintf(err, (size_t)errlen, "out of memory summarising the replications");
        return -1;
    }
    out->have_analytic =
        sim_analyze(d, &out->analytic, out->analytic_error, sizeof out->analytic_error) == 0;
    out->report = (sdsim_report){.design = d,
                                 .results = &out->reps.summary,
                                 .analytic = out->have_analytic ? &out->analytic : NULL,
                                 .analytic_error = out->analytic_error,
                                 .duration = spec->duration,
                                 .warmup = spec->warmup,
                                 .seed = spec->seed,
                                 .replications = spec->replications,
                                 .wall_seconds = wall_now() - started};
    return 0;
}

void sdsim_run_output_free(sdsim_run_output *out) {
    if (out->have_analytic) sim_analytic_free(&out->analytic);
    out->have_analytic = 0;
    sdsim_replications_free(&out->reps);
}
