/* The run's private state, shared by the engine's sim_*.c files (docs/engine.md explains the
 * whole machine). Requests are indices into a chunked pool; the design is read-only and the
 * run keeps a compact copy of what the hot path needs (CSR edge lists, cumulative tables). */
#pragma once
#include <stdint.h>
#include <stdio.h>

#include "evq.h"
#include "hist.h"
#include "rng.h"
#include "sim.h"

#define SIM_NONE UINT32_MAX
#define SIM_POOL_SHIFT 16
#define SIM_POOL_CHUNK (1u << SIM_POOL_SHIFT)
#define SIM_VNODES 64 /* consistent-hash virtual nodes per replica or edge */

/* Event kinds: one switch in sim.c dispatches them. */
enum {
    EV_ARRIVE = 0,   /* a = request: it reaches r->comp */
    EV_SERVICE_END,  /* a = request, b = its epoch (stale after a crash) */
    EV_CALL_RETURN,  /* a = child, b = call id: the child's answer reaches its caller */
    EV_TIMEOUT,      /* a = edge: its earliest pending call timeout is due */
    EV_SEND,         /* a = child, b = call id: a retry leaves after its backoff */
    EV_SOURCE,       /* a = workload: next open arrival (candidate, when thinning) */
    EV_USER,         /* a = workload: a closed user ends its think time */
    EV_FAULT_START,  /* a = index in run->faults */
    EV_FAULT_END,    /* a = index in run->faults */
    EV_AUTOSCALE,    /* a = component: evaluate */
    EV_PROVISION,    /* a = component, b = replica: a scaled-up replica comes up */
    EV_SCRIPT_WAKE,  /* a = request, b = its epoch: a script's sleep ended, or a deferred resume */
    EV_SCRIPT_TIMER, /* a = component, b = the host's timer id */
};

/* What a request is. */
enum { REQ_ROOT = 0, REQ_CHILD, REQ_DETACHED };
/* Where a request is with respect to the station at r->comp. */
enum { AT_NONE = 0, AT_WAITING, AT_HELD };
/* Where a child is on its way (for timeouts). */
enum { CH_FLIGHT = 0, CH_LOST, CH_WAIT_SEND, CH_RETURNING };
/* Why a request failed (roots count drops separately). */
enum { FAIL_ERROR = 0, FAIL_DROP };

typedef struct sim_req {
    double created;   /* root: creation time (e2e) */
    double arrived;   /* arrival at the current component */
    uint64_t epoch;   /* changes when pending service events must be ignored */
    uint64_t token;   /* while waiting for calls: children carrying it may answer */
    uint64_t ptoken;  /* child: the caller's token at send */
    uint64_t call_id; /* child: this attempt's identity (timeouts, returns) */
    uint32_t comp, replica;
    uint32_t next;   /* FIFO queue link, free list link */
    uint32_t parent; /* child: caller request, SIM_NONE when orphaned */
    uint32_t key;
    int32_t edge;     /* child: the call edge it travels */
    int32_t via_edge; /* balancer edge it came through (outstanding count) */
    union {
        uint32_t call_pos; /* caller: next call edge (sequential) */
        uint32_t sslot;    /* held at a script component: the host's slot, or SIM_NONE */
    };
    uint32_t pending; /* caller: outstanding calls (fan-out) */
    uint16_t attempt; /* child: 1 for the first attempt */
    uint8_t kind, at, chstate, ok, fail_why;
    int32_t wl; /* root: its workload */
} sim_req;

typedef struct sim_replica {
    uint32_t qhead, qtail;
    int32_t waiting, busy, insys;
    uint8_t crashed, active, provisioning;
} sim_replica;

/* Cumulative counters since time 0; windows, batches and results take differences. */
typedef struct sim_counts {
    uint64_t arrivals, completions, dropped, errors, timeouts, retries, rejected, shed;
    uint64_t waited, resp_n;
    double wait_sum, resp_sum;
    double busy_int, insys_int, queue_int, cap_int, rep_int; /* time integrals */
} sim_counts;

typedef struct sim_ring_node {
    uint64_t h;
    uint32_t who;
} sim_ring_node;

typedef struct sim_comp {
    /* hot: read or written for every request */
    int behavior, policy, workers, queue_cap, fanout_all;
    int32_t busy, insys, waiting;
    int nup;     /* replicas counted as capacity */
    int nusable; /* replicas that take new requests */
    int usable0; /* the first of them (often the only one) */
    int *usable; /* their indices, ascending */
    sim_replica *reps;
    double last_t;
    double error_rate, hit_ratio, read_ratio, shed_wait, rate_limit, rate_burst; /* design */
    double lat_add, lat_mul, cap_mul, err_inj, hit_over; /* fault effects; hit_over < 0: none */
    int down_whole;                                      /* crash of the whole component or zone */
    uint32_t rr, bal_rr;
    uint32_t call_b, call_e; /* call edges in design order: r->call_list[call_b..call_e) */
    uint32_t fa_b, fa_e;     /* forward/async edges: r->fa_list, r->fa_cum */
    uint32_t out_b, out_e;   /* every outgoing edge (balancer): r->out_list */
    sim_dist service;
    sim_counts n; /* cumulative */
    /* Responses are buffered (sequential writes) and drained into the run, window and batch
     * histograms a buffer at a time, so a component's histogram lines are loaded once per
     * drain instead of once per response. Clock ticks drain every buffer first. */
    double *rbuf;
    uint32_t nrbuf, rbuf_cap;
    double tokens, tok_t; /* rate limiter */
    /* cold */
    const sim_component *cfg;
    double bal_wsum; /* balancer weights: r->out_cum */
    int nalloc;      /* replicas allocated */
    int own_reps;    /* reps/usable were grown out of the run's shared block */
    int peak;
    sim_ring_node *ring; /* consistent hash over replicas (built on demand) */
    int nring, ring_reps;
    sim_ring_node *bring; /* consistent hash over outgoing edges (balancer) */
    int nbring;
    double as_last_decision, as_busy, as_cap; /* autoscale */
    sim_counts at_warm, at_win, at_batch;
    sim_hist *hist, *whist, *bhist;
} sim_comp;

/* A call's timeout, queued on its edge. Every call on an edge has the same timeout, so the
 * deadlines of an edge are in send order: one FIFO per edge and one heap event for its head
 * replace a heap event per call (most calls answer long before their timeout; their entries
 * are skipped when they reach the head). */
typedef struct sim_tmo {
    double deadline;
    uint64_t call_id;
    uint32_t child;
} sim_tmo;

typedef struct sim_edge_rt {
    uint64_t calls, retries_done; /* retry budget */
    int32_t outstanding;          /* balancer least_conn */
    int partitioned;
    double loss;
    /* circuit breaker */
    int bstate, bcount; /* 0 closed, 1 open, 2 half-open */
    double open_until;
    /* pending timeouts: a ring buffer */
    sim_tmo *tq;
    uint32_t tq_head, tq_n, tq_cap;
    int tq_armed; /* a heap event for the head is pending */
    /* live views (sim_run_edge_stat) */
    uint64_t sent, failed;
    uint64_t sent_at_win, failed_at_win;
    uint32_t win_sent, win_failed;
} sim_edge_rt;

typedef struct sim_src {
    sim_rng rng;
    double max_rate;
    /* Live rate changes (sim_run_set_rate): once set, the source is a constant Poisson source
     * of `rate` and the pattern no longer applies. `gen` counts changes: an EV_SOURCE event
     * carries the gen it was drawn under and is ignored when stale (no event is removed). */
    int overridden;
    double rate;
    uint64_t gen;
} sim_src;

/* A fault instance (from the design or injected). */
typedef struct sim_fault_rt {
    sim_fault f;
    double start, end; /* end < 0: never */
    uint64_t order;    /* application order: the latest applied wins */
    int active;
} sim_fault_rt;

typedef struct sim_e2e {
    uint64_t started, completed, failed, dropped;
    double sum;
} sim_e2e;

struct sim_run {
    const sim_design *d;
    sim_options o;
    double now, end;
    int finished;
    char err[256];     /* fatal: the run stops */
    char ctl_err[256]; /* the last refused live-control call; the run goes on */
    /* Clock ticks (warm-up, window and batch ends) live outside the event queue and come
     * before any event at the same time, so window k is exactly [k w, (k+1) w). */
    double next_warm, next_win, next_batch;
    sim_evq q;
    sim_rng rng; /* routing, services, policies */
    uint64_t serial;
    uint64_t events;
    uint64_t same_time; /* consecutive events at one instant (a zero-delay loop never ends) */
    uint64_t same_time_limit;
    /* request pool */
    sim_req **chunks;
    uint32_t nchunks, cap_chunks, used, free_head, limit, live;
    /* components and edges */
    sim_comp *comps;
    int ncomp;
    sim_replica *rep_block; /* every component's initial replicas, contiguous (locality) */
    int *usable_block;
    sim_edge_rt *edges;
    uint32_t *call_list, *fa_list, *out_list;
    double *fa_cum, *out_cum;
    sim_src *srcs;
    /* faults */
    sim_fault_rt *faults;
    int nfaults, cap_faults;
    uint64_t fault_order;
    /* metrics */
    int warm;              /* warm-up is over */
    int nwin, win_cap;     /* windows closed, windows in the run */
    int win_rows;          /* rows kept: win_cap, or fewer with keep_windows (a ring) */
    sim_window_stat *wins; /* [win % win_rows][ncomp + 1], e2e first */
    sim_e2e e2e, e2e_at_win, e2e_at_warm, e2e_at_batch;
    uint64_t e2e_win_drop_base, e2e_win_err_base;
    sim_hist *e2e_hist, *e2e_whist, *e2e_bhist;
    int hists_n; /* histograms per family (mapped, see sim_metrics.c) */
    size_t rbuf_bytes;
    double *e2e_rbuf;
    uint32_t e2e_nrbuf, e2e_rbuf_cap;
    int nbatch, batches;
    double batch_len;
    double *bmean, *bp99; /* [(ncomp + 1) * batches], e2e at index ncomp */
    sim_results res;
    sim_component_result *cres;
    /* script behaviours (sim_script.c) */
    const struct sim_script_ops *sops;
    void *sctx;
    int sdepth; /* inside the host or applying its action: resumes are deferred (no recursion) */
    /* hop sampling (sim_metrics.c): a ring of the latest sampled hops */
    uint32_t hop_every, hop_left; /* hop_every 0: off */
    sim_hop *hops;
    uint32_t hop_cap, hop_head, hop_n;
    uint64_t hop_seen;
};

/* ---- pool (sim_request.c) ---- */
static inline sim_req *REQ(const sim_run *r, uint32_t i) {
    return &r->chunks[i >> SIM_POOL_SHIFT][i & (SIM_POOL_CHUNK - 1)];
}
uint32_t sim__req_alloc(sim_run *r); /* SIM_NONE when the pool limit is reached (err set) */
void sim__req_free(sim_run *r, uint32_t i);
void sim__pool_free(sim_run *r);
void *sim__big_alloc(size_t bytes); /* zeroed; huge pages when large */
void sim__big_free(void *p, size_t bytes);

static inline int sim__push(sim_run *r, double t, uint32_t kind, uint32_t a, uint64_t b) {
    if (sim_evq_push(&r->q, t, kind, a, b) == 0) return 0;
    if (!r->err[0]) snprintf(r->err, sizeof r->err, "out of memory for the event queue");
    return -1;
}

/* ---- stations (sim_station.c) ---- */
void sim__arrive(sim_run *r, uint32_t i);
void sim__service_end(sim_run *r, uint32_t i, uint64_t epoch);
void sim__release(sim_run *r, uint32_t i);       /* leaves the worker; next waiting starts */
void sim__answer(sim_run *r, uint32_t i);        /* answered at r->comp (counted there) */
void sim__fail(sim_run *r, uint32_t i, int why); /* failed at r->comp (counted by caller) */
void sim__dispose(sim_run *r, uint32_t i, int ok, int why); /* after the component: up/out */
void sim__rebuild_usable(sim_run *r, int c);
void sim__crash_replica(sim_run *r, int c, int rep); /* rep -1: all; fails held and queued */
void sim__acc(sim_run *r, sim_comp *c);              /* brings time integrals up to now */
void sim__set_nup(sim_run *r, int c);
int sim__ring_build(sim_run *r, int c);

/* ---- routing (sim_route.c) ---- */
void sim__after_service(sim_run *r, uint32_t i);
void sim__after_calls(sim_run *r, uint32_t i); /* releases, then forward/async/answer */
void sim__call_return(sim_run *r, uint32_t child, uint64_t call_id);
void sim__edge_timeouts(sim_run *r, int e); /* fires the edge's due timeouts */
void sim__send(sim_run *r, uint32_t child, uint64_t call_id);
uint32_t sim__copy(sim_run *r, uint32_t i, int to); /* a detached copy bound for `to` */
void sim__leave(sim_run *r, uint32_t i);            /* balancer outstanding bookkeeping */

/* ---- script behaviours (sim_script.c) ---- */
int sim__script_begin(sim_run *r); /* from sim_run_new: the host's per-run context */
void sim__script_end(sim_run *r);
void sim__script_start(sim_run *r, uint32_t i);          /* service starts (worker held) */
void sim__script_resume(sim_run *r, uint32_t i, int ok); /* its wait is over */
void sim__script_wake(sim_run *r, uint32_t i, uint64_t epoch);
void sim__script_timer(sim_run *r, int comp, uint64_t id);
void sim__script_drop(sim_run *r, uint32_t i); /* the engine fails it while it waits */
void sim__script_calls_done(sim_run *r, uint32_t i);
void sim__call_edge(sim_run *r, uint32_t i, int e); /* sim_route.c: one call, first attempt */

/* ---- workloads (sim_workload.c) ---- */
int sim__workloads_start(sim_run *r);
void sim__source(sim_run *r, int w, uint64_t gen);
void sim__user(sim_run *r, int w);
void sim__root_end(sim_run *r, uint32_t i, int ok, int why);

/* ---- faults and autoscaling (sim_fault.c) ---- */
int sim__faults_start(sim_run *r);
void sim__fault_start(sim_run *r, int f);
void sim__fault_end(sim_run *r, int f);
int sim__autoscale_start(sim_run *r);
void sim__autoscale(sim_run *r, int c);
void sim__provision(sim_run *r, int c, int rep);

/* ---- metrics (sim_metrics.c) ---- */
int sim__metrics_init(sim_run *r);
void sim__metrics_free(sim_run *r);
void sim__warmup(sim_run *r);
void sim__window(sim_run *r);
void sim__batch(sim_run *r);
void sim__flush_hists(sim_run *r); /* drains every response buffer */
void sim__drain(sim_run *r, sim_comp *c);
void sim__drain_e2e(sim_run *r);
static inline void sim__record_response(sim_run *r, sim_comp *c, double v) {
    c->n.resp_n++;
    c->n.resp_sum += v;
    c->rbuf[c->nrbuf++] = v;
    if (c->nrbuf == c->rbuf_cap) sim__drain(r, c);
}
void sim__hop_record(sim_run *r, int e, double departed, int ok);
/* A request crossed (or failed to cross) edge e: one branch when sampling is off. */
static inline void sim__hop(sim_run *r, int e, double departed, int ok) {
    if (r->hop_every && --r->hop_left == 0) sim__hop_record(r, e, departed, ok);
}
/* A forward or an async copy left over edge e (lost: the network lost it). */
static inline void sim__edge_left(sim_run *r, int e, int lost) {
    r->edges[e].sent++;
    r->edges[e].failed += (uint64_t)lost;
    sim__hop(r, e, r->now, !lost);
}
/* e2e.completed and e2e.sum are counted by the caller. */
static inline void sim__record_e2e(sim_run *r, double v) {
    r->e2e_rbuf[r->e2e_nrbuf++] = v;
    if (r->e2e_nrbuf == r->e2e_rbuf_cap) sim__drain_e2e(r);
}
