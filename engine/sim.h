/* Running a design: the public API of the simulation core.
 *
 * A run is single-threaded and deterministic: the same checked design, options and seed give
 * the same results bit for bit. Batch use: sim_run_new, sim_run_until(duration), read the
 * results, sim_run_free. Live use advances in small steps of simulated time and may inject
 * faults or change replicas between steps. Nothing here allocates per event. */
#pragma once
#include <stdint.h>
#include "model.h"

typedef struct sim_run sim_run;

typedef struct sim_options {
    double duration; /* seconds of simulated time in all */
    double warmup;   /* the first seconds, left out of every statistic */
    uint64_t seed;   /* default 1 */
    double window;   /* seconds per metrics window (default 1) */
    int batches;     /* batch-means batches for confidence intervals (default 20) */
    /* Called at the end of each window (live streaming, progress bars); may be NULL. */
    void (*on_window)(const sim_run *run, int window_index, void *ud);
    void *ud;
    /* Live runs (additive): keep only the last keep_windows metrics windows in memory (a
     * ring; 0 = keep all), so a short window over a long run costs constant memory; and the
     * seconds between autoscaling evaluations when a component does not set its own
     * (0 = the window), so a live run with a short window scales like the batch run. */
    int keep_windows;
    double autoscale_interval;
} sim_options;

sim_options sim_options_defaults(void);

/* Latency figures in seconds. */
typedef struct sim_latency {
    double mean, p50, p95, p99, max;
} sim_latency;

/* Confidence interval half-widths (95 %) for the mean and the p99; NaN when unknown. */
typedef struct sim_ci95 {
    double mean_half, p99_half;
} sim_ci95;

typedef struct sim_component_result {
    uint64_t arrivals;     /* requests that reached the component */
    uint64_t completions;  /* answered without error */
    uint64_t dropped;      /* queue full */
    uint64_t errors;       /* failed here: crash, injected or intrinsic errors, limiter, shedding */
    uint64_t timeouts;     /* calls from this component that timed out */
    uint64_t retries;      /* extra attempts this component made */
    uint64_t rejected;     /* rate limiter and circuit breaker refusals (also in errors) */
    uint64_t shed;         /* load shedding (also in errors) */
    double throughput;     /* completions per second */
    double utilization;    /* busy worker time / available worker time; 0 for delay stations */
    double mean_in_system; /* time-average requests waiting or held here */
    double mean_queue;     /* time-average requests waiting */
    double mean_wait;      /* seconds in the queue */
    sim_latency response;  /* arrival to answer, calls it made included */
    sim_ci95 ci;
    double replicas_mean; /* time-average replicas up */
    int replicas_peak;
    double cost_month; /* replicas_mean * cost_per_hour * 730 */
} sim_component_result;

typedef struct sim_e2e_result {
    uint64_t started, completed, failed, dropped;
    double throughput; /* successful completions per second */
    double error_rate; /* failed / (completed + failed) */
    sim_latency latency;
    sim_ci95 ci;
} sim_e2e_result;

/* One metrics window of one component (or of the whole design, end to end). */
typedef struct sim_window_stat {
    uint32_t arrivals, completions, dropped, errors, timeouts;
    float utilization, mean_queue, p50, p95, p99; /* seconds for latencies */
    uint16_t replicas;
} sim_window_stat;

typedef struct sim_results {
    double measured_time;             /* duration - warmup actually simulated */
    uint64_t events;                  /* events processed, warm-up included */
    sim_component_result *components; /* ncomponents entries, design order */
    int ncomponents;
    sim_e2e_result e2e;
    double cost_month;
    int bottleneck; /* component index with the highest utilization, -1 if none */
} sim_results;

/* Creates a run of a design that passed sim_design_check (the run keeps a pointer: the
 * design must outlive it). NULL with a reason in err when it cannot. */
sim_run *sim_run_new(const sim_design *d, const sim_options *o, char *err, int errlen);
void sim_run_free(sim_run *r);

/* Processes every event up to simulated time t (capped at the duration). Returns 0 while
 * time remains, 1 once the duration is reached, -1 on an internal error (sim_run_error). */
int sim_run_until(sim_run *r, double t);
double sim_run_now(const sim_run *r);
const char *sim_run_error(const sim_run *r);

/* Final (or, during a live run, so-far) figures. The pointer stays valid until the next call
 * into the run. */
const sim_results *sim_run_results(sim_run *r);

/* Windows completed so far, and the stats of one (component = -1 for end to end); NULL for
 * an index out of range or, with keep_windows, one no longer kept. */
int sim_run_windows(const sim_run *r);
const sim_window_stat *sim_run_window(const sim_run *r, int window_index, int component);

/* Live control, applied at the current simulated time. A fault's `at` is ignored and its
 * duration counts from now. 0, or -1 with sim_run_error set. */
int sim_run_inject(sim_run *r, const sim_fault *f);
int sim_run_set_replicas(sim_run *r, int component, int replicas);
/* The open source `source` (workload index) arrives at rps from now on (0 pauses it), in place
 * of its pattern; its next arrival is redrawn from now. -1 for a closed or unknown source or
 * rps < 0 / not finite. sim_run_rate: the rate in force now (-1 for a closed/unknown source). */
int sim_run_set_rate(sim_run *r, int source, double rps);
double sim_run_rate(const sim_run *r, int source);

/* ---- live views (cheap reads between two sim_run_until calls; nothing here allocates) ---- */

/* Counters since time 0, warm-up included (component = -1: end to end, where arrivals are
 * requests started, errors are failed requests, completions successful ones). */
typedef struct sim_totals {
    uint64_t arrivals, completions, dropped, errors, timeouts;
} sim_totals;
int sim_run_totals(const sim_run *r, int component, sim_totals *out); /* 0, or -1 out of range */
/* The simulated time of the next event in the queue (INFINITY when none): nothing changes
 * before it, so a paced live run may sleep until then. */
double sim_run_next_event(const sim_run *r);
uint64_t sim_run_events(const sim_run *r); /* events processed so far */

/* 1 when the component takes no new request: crashed as a whole, in a zone outage, or every
 * replica crashed; 0 otherwise (-1 for an index out of range). */
int sim_run_component_down(const sim_run *r, int component);

/* One edge. `sent` counts every request that left over the edge: call attempts (retries
 * included, breaker refusals included), forwarded requests and async copies. `failed` counts
 * call attempts that failed (timeout, error answer, partition, packet loss, breaker refusal)
 * while their caller waited, and forwards/copies lost on the edge. */
typedef struct sim_edge_stat {
    uint64_t sent, failed;         /* since time 0 */
    uint32_t win_sent, win_failed; /* during the last completed metrics window */
    int partitioned;               /* a partition fault is active on it */
    double loss;                   /* packet-loss probability in force */
    int breaker;                   /* 0 closed, 1 open, 2 half-open (open past its open_time) */
} sim_edge_stat;
int sim_run_edge_stat(const sim_run *r, int edge, sim_edge_stat *out); /* 0, or -1 */

/* Hop sampling for animation: one request crossing one edge. A call attempt is recorded when
 * its outcome is known (answer, failure, timeout, refusal), forwards and async copies when
 * they leave; `at` is always the departure time, so records are not in `at` order. */
typedef struct sim_hop {
    double at; /* simulated seconds when the request left the edge's source */
    int32_t edge;
    int32_t ok; /* 0: the attempt failed or the request was lost on the edge */
} sim_hop;

/* Records one hop in every `every_n` (>= 1; 0 turns sampling off) into a ring of `capacity`
 * records, overwriting the oldest when full. The ring is allocated at the first call (or when
 * the capacity changes); calling again only to change every_n allocates nothing. 0, or -1. */
int sim_run_sample_hops(sim_run *r, int every_n, int capacity);
/* Moves up to max of the most recent hops into out (oldest first) and empties the ring.
 * Returns how many; *seen (may be NULL) gets how many hops were sampled since the previous
 * take, overwritten ones included (for adapting every_n). */
int sim_run_take_hops(sim_run *r, sim_hop *out, int max, uint64_t *seen);
