/* The pieces of a live simulation (host/live_sim.c) that do not depend on its thread: the
 * Frame of proto/sdsim.proto built from a run between two slices, and the final report.
 * Private to live_sim.c and its tests. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "sim.h"

#define SDSIM_LIVE_WINDOW 0.25 /* seconds of simulated time per metrics window in a live run */
#define SDSIM_LIVE_KEEP_WINDOWS 16
#define SDSIM_NOTICE_MAX 64 /* notices per frame; older ones beyond are dropped */

typedef struct sdsim_notice {
    double at; /* simulated seconds */
    char kind[16];
    char text[192];
    int component; /* -1 when none */
} sdsim_notice;

/* What a frame says besides the run's own figures. */
typedef struct sdsim_frame_meta {
    const char *id;
    uint32_t seq;
    int state; /* sdsim_live_state */
    double speed, duration;
    const char *error; /* NULL or "" unless failed */
    const sdsim_notice *notices;
    int nnotices;
} sdsim_frame_meta;

typedef struct sdsim_frame_builder sdsim_frame_builder;

/* The engine options of a live run: short windows (kept in a ring), autoscaling evaluated as
 * often as `sdsim run` does, so the results equal a batch run's with the same seed. */
sim_options sdsim_live_sim_options(double duration, double warmup, uint64_t seed);

/* Everything a frame needs is allocated here, once: building one allocates nothing except
 * when its encoded size outgrows the buffer. max_hops 0 means 200. */
sdsim_frame_builder *sdsim_frame_builder_new(const sim_design *d, int max_hops);
void sdsim_frame_builder_free(sdsim_frame_builder *b);

/* Starts hop sampling on the run (call once after sim_run_new). 0, or -1. */
int sdsim_frame_attach(sdsim_frame_builder *b, sim_run *r);

/* Encodes a frame of the run as it is now (rates over its last completed window; sampled
 * hops taken from the run). Also adapts the run's hop sampling so a frame carries about
 * max_hops hops. The bytes stay valid until the next call; NULL when out of memory. */
const uint8_t *sdsim_frame_build(sdsim_frame_builder *b, sim_run *r, const sdsim_frame_meta *m,
                                 size_t *len);

/* Changes since the previous call become notices appended to out (at most cap; returns how
 * many): "down" / "up" when a component's down flag changed, "replicas" when the replicas up
 * changed otherwise (autoscaling, a replica crashed or recovered). Called before building a
 * frame, so the frame carries them. */
int sdsim_frame_state_changes(sdsim_frame_builder *b, const sim_run *r, sdsim_notice *out, int cap);
/* A change of replicas already announced (set_replicas): no "replicas" notice for it. */
void sdsim_frame_replicas_known(sdsim_frame_builder *b, const sim_run *r, int component);

/* The report of a run (finished, or stopped at its current time), in the JSON of
 * `sdsim run --json` with one replication: malloc'd text in *out. 0, or -1 (out of memory). */
int sdsim_live_report_of(const sim_design *d, sim_run *r, double warmup, uint64_t seed,
                         double wall_seconds, char **out, size_t *len);
