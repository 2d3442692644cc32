/* Running a checked design the way `sdsim run` does: replications with seeds seed, seed+1, ...,
 * their summary, the analytic prediction, and the report that ties them together. Shared by
 * the CLI (cli_run.c) and the Lua `sim` module (lua_sim.c), so both give the same figures for
 * the same design, options and seed. */
#pragma once
#include <stdint.h>
#include "analytic.h"
#include "replications.h"
#include "report.h"

/* Metrics windows per run at most: the window widens for long runs. */
#define SDSIM_MAX_WINDOWS 3600.0

typedef struct sdsim_run_spec {
    double duration, warmup; /* seconds; warmup < duration */
    uint64_t seed;
    int replications; /* >= 1 */
    /* Called at the end of each metrics window of each replication (progress bars); may be
     * NULL. `window` is the window length in seconds. */
    void (*progress)(const sim_run *run, int replication, int window_index, double window,
                     void *ud);
    void *ud;
} sdsim_run_spec;

typedef struct sdsim_run_output {
    sdsim_replications reps; /* reps.summary is what the report shows */
    sim_analytic analytic;
    int have_analytic;
    char analytic_error[256];
    sdsim_report report; /* points into this struct and at the design */
} sdsim_run_output;

/* Runs every replication and fills out (free it with sdsim_run_output_free, also after a
 * failure). 0, or -1 with a reason in err ("cannot run: ...", "the run stopped: ..."). */
int sdsim_run_design(const sim_design *d, const sdsim_run_spec *spec, sdsim_run_output *out,
                     char *err, int errlen);
void sdsim_run_output_free(sdsim_run_output *out);
