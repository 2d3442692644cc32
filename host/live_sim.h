/* Live simulations: a design running on a thread of its own, paced against the wall clock at
 * a chosen speed, controlled while it runs (pause, resume, step, stop, speed, faults,
 * replicas), producing a protobuf Frame (proto/sdsim.proto) about 20 times a second.
 *
 * Threads: every function here is called on the loop thread. The simulation thread never
 * touches the loop except through a uv_async_t; callbacks run on the loop thread. Control
 * calls apply to the run between two slices of events, so they may wait for the slice in
 * progress (slices are kept under ~1 ms of CPU) and return the engine's verdict at once. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sim.h"

typedef struct sdsim_live sdsim_live;

typedef enum sdsim_live_state {
    SDSIM_LIVE_RUNNING = 1, /* values as SimState in proto/sdsim.proto */
    SDSIM_LIVE_PAUSED = 2,
    SDSIM_LIVE_FINISHED = 3,
    SDSIM_LIVE_STOPPED = 4,
    SDSIM_LIVE_FAILED = 5,
} sdsim_live_state;

typedef struct sdsim_live_opts {
    char id[40];     /* the simulation's id, copied into every frame */
    double duration; /* seconds of simulated time */
    double warmup;   /* seconds left out of the final report's statistics */
    uint64_t seed;
    double speed;          /* simulated seconds per wall second; 0 = as fast as possible */
    double frame_interval; /* wall seconds between frames; 0 = 0.05 */
    int start_paused;
    int max_hops; /* sampled request hops per frame; 0 = 200 */
} sdsim_live_opts;

typedef struct sdsim_live_callbacks {
    /* A new frame (the latest only: frames not yet handed over are replaced, never queued).
     * The bytes are valid during the call. */
    void (*on_frame)(sdsim_live *live, const uint8_t *frame, size_t len, void *ud);
    /* Once, after the last frame, when the run finished, stopped or failed. */
    void (*on_end)(sdsim_live *live, sdsim_live_state state, void *ud);
    void *ud;
} sdsim_live_callbacks;

typedef struct sdsim_live_status {
    sdsim_live_state state;
    double sim_time, duration, speed;
    uint64_t events;
    double wall_seconds; /* since the start */
    char error[256];     /* state FAILED: why */
} sdsim_live_status;

/* Starts a run of a checked design, which the live simulation then owns (freed with it).
 * NULL with a reason in err when the engine refuses the design. */
sdsim_live *sdsim_live_start(uv_loop_t *loop, sim_design *design, const sdsim_live_opts *opts,
                             const sdsim_live_callbacks *cb, char *err, int errlen);

/* Control. 0, or -1 with a one-line reason in err (e.g. "the simulation has finished", the
 * engine's refusal of a fault). step runs `seconds` of simulated time, then pauses. */
int sdsim_live_pause(sdsim_live *l, char *err, int errlen);
int sdsim_live_resume(sdsim_live *l, char *err, int errlen);
int sdsim_live_step(sdsim_live *l, double seconds, char *err, int errlen);
int sdsim_live_set_speed(sdsim_live *l, double speed, char *err, int errlen);
int sdsim_live_inject(sdsim_live *l, const sim_fault *f, char *err, int errlen);
int sdsim_live_set_replicas(sdsim_live *l, int component, int replicas, char *err, int errlen);
/* The open source `source` (workload index) sends rps requests/s from now on (0 pauses it);
 * sdsim_live_rate: its rate in force, -1 for a closed/unknown source or once the run ended. */
int sdsim_live_set_rate(sdsim_live *l, int source, double rps, char *err, int errlen);
double sdsim_live_rate(sdsim_live *l, int source);
/* Asks the run to stop; on_end follows (STOPPED) once the thread has finished its slice. */
void sdsim_live_stop(sdsim_live *l);

void sdsim_live_status_get(sdsim_live *l, sdsim_live_status *out);
const sim_design *sdsim_live_design(const sdsim_live *l);

/* The latest frame (for a subscriber that just arrived), or NULL before the first one. Valid
 * until control returns to the loop. */
const uint8_t *sdsim_live_last_frame(sdsim_live *l, size_t *len);

/* The final report, in the JSON of `sdsim run --json` (docs/report-format.md), malloc'd;
 * NULL before on_end or when the run failed. */
char *sdsim_live_report_json(sdsim_live *l, size_t *len);

/* Faults on a timeline that counts from the current simulated time (a failure scenario
 * applied while the run goes on): each fault's `at` is an offset in seconds from now, and it
 * is injected when the simulated clock reaches now + at (the run ends its slices there, so
 * the time is exact; at <= 0: at once). Every fault's target is checked against the design
 * first: all or none. `label` (may be NULL) becomes a notice of kind "scenario" ("LABEL (times from
 * 12.000 s)"). *from (may
 * be NULL) gets the simulated time the faults count from. Faults due after the end of the run
 * never start. */
int sdsim_live_schedule(sdsim_live *l, const sim_fault *faults, int n, const char *label,
                        double *from, char *err, int errlen);
/* Scheduled faults not yet started. */
int sdsim_live_pending_faults(sdsim_live *l);

/* The design's source text (JSON), kept with the run for scenarios applied later: a copy is
 * taken (0, or -1 out of memory). sdsim_live_source returns it (NULL when none; valid until
 * the next keep or sdsim_live_free). Loop thread. */
int sdsim_live_keep_source(sdsim_live *l, const char *text, size_t len);
const char *sdsim_live_source(sdsim_live *l, size_t *len);

/* The failure scenarios applied to the run (their summaries), for its status: appended by
 * sdsim_live_add_scenario; sdsim_live_scenario_at returns the i-th (NULL past the last).
 * Loop thread. */
int sdsim_live_add_scenario(sdsim_live *l, const char *summary);
const char *sdsim_live_scenario_at(sdsim_live *l, int i);

/* A notice in the next frame (kind "scenario", "note" ...; component -1 for none). */
void sdsim_live_notice(sdsim_live *l, const char *kind, int component, const char *text);

/* Frees a live simulation whose on_end has been called (or stops it and frees it once the
 * thread has ended, when called earlier: then on_end is not called). */
void sdsim_live_free(sdsim_live *l);
