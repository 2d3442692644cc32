/* Script behaviours: components whose behaviour a script host (the Lua glue in host/) decides,
 * action by action, while the engine keeps the mechanics (queues, workers, sampling, calls with
 * their timeouts, retries and breakers, faults, metrics).
 *
 * A request that starts service at a SIM_BEHAVIOR_SCRIPT component holds a worker and asks the
 * host what to do (ops->start). The host answers with an action. Waiting actions (WORK, SLEEP,
 * CALL, CALL_ALL) suspend the request until simulated time has passed, then the engine asks
 * again (ops->resume, with ok = whether the calls succeeded). ASYNC is applied and the host is
 * asked again at once. ANSWER, FAIL and FORWARD end the request at the component and free the
 * host's slot. If the engine fails a request while its behaviour waits (a crash of its
 * replica, an error drawn at the end of a WORK) it tells the host with ops->drop.
 *
 * Plain C: the engine knows nothing of Lua. Nothing here allocates per request. */
#pragma once
#include <stdint.h>
#include "model.h"
#include "sim.h"

typedef enum sim_script_act {
    SIM_ACT_ANSWER = 0, /* the request is answered here (success) */
    SIM_ACT_WORK,       /* hold the worker for value seconds (< 0: sample service_time) */
    SIM_ACT_SLEEP,      /* wait value seconds holding the worker; no fault effects */
    SIM_ACT_CALL,       /* call along edge; resume(ok) when it answered or failed for good */
    SIM_ACT_CALL_ALL,   /* call edges[0..nedges) at once; resume(ok = all answered) */
    SIM_ACT_FORWARD,    /* the request moves on along edge (the worker is freed) */
    SIM_ACT_ASYNC,      /* a detached copy goes along edge; the host is asked again at once */
    SIM_ACT_FAIL,       /* the request fails here (an error at the component) */
} sim_script_act;

typedef struct sim_script_action {
    int kind;         /* sim_script_act */
    double value;     /* WORK, SLEEP: seconds */
    int edge;         /* CALL, FORWARD, ASYNC: an edge index whose `from` is the component */
    const int *edges; /* CALL_ALL: edge indices (the host's memory, read at once) */
    int nedges;
} sim_script_action;

/* What the host learns about a request when its behaviour starts. */
typedef struct sim_script_req {
    int comp;     /* component index */
    int replica;  /* replica serving it */
    uint32_t key; /* consistent-hashing key */
    int attempt;  /* a call's attempt number (1 = first), 0 when not a call */
    int kind;     /* 0 root (workload), 1 call, 2 detached copy */
} sim_script_req;

/* The host's side. Every function returning int returns 0, or -1 after sim_run_abort. */
typedef struct sim_script_ops {
    /* A run is created (at time 0, after its workloads are scheduled): the host's per-run
     * context, or NULL with a reason in err (the run is refused). Component timers may be
     * scheduled from here (sim_run_script_timer). */
    void *(*run_begin)(void *ud, sim_run *run, char *err, int errlen);
    void (*run_end)(void *run_ctx);
    /* A request starts its behaviour: the host takes a slot (any number it likes, stored with
     * the request) and fills the first action. */
    int (*start)(void *run_ctx, const sim_script_req *req, uint32_t *slot, sim_script_action *act);
    /* The slot's last action (WORK, SLEEP, CALL, CALL_ALL, ASYNC) is done: the next one. */
    int (*resume)(void *run_ctx, uint32_t slot, int ok, sim_script_action *act);
    /* The engine failed the request while its behaviour waited: the slot is free again. */
    void (*drop)(void *run_ctx, uint32_t slot);
    /* A component timer set with sim_run_script_timer fires. */
    int (*timer)(void *run_ctx, int comp, uint64_t id);
} sim_script_ops;

/* Installs the host that runs the design's script components (ops must outlive the design's
 * runs; ud is passed to run_begin). */
void sim_design_set_script_host(sim_design *d, const sim_script_ops *ops, void *ud);

/* ---- what a host may ask of a run (from its callbacks) --------------------------------- */

/* Stops the run: sim_run_until returns -1 and sim_run_error gives msg. */
void sim_run_abort(sim_run *r, const char *msg);
/* A uniform number in [0, 1) from the run's routing stream (deterministic per seed). */
double sim_run_random(sim_run *r);
/* One sample of a prepared distribution, in seconds, from the same stream. */
double sim_run_sample(sim_run *r, const sim_dist *d);
/* 1 when replica rep of component comp is up and in rotation (and the component is not
 * down as a whole), else 0. */
int sim_run_replica_up(const sim_run *r, int comp, int rep);
/* Replicas of comp up and in rotation. */
int sim_run_replicas_up(const sim_run *r, int comp);
/* Calls ops->timer(ctx, comp, id) after delay seconds (not past the run's end). 0 or -1. */
int sim_run_script_timer(sim_run *r, int comp, double delay, uint64_t id);
