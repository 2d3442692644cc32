/* The design as the engine sees it: plain structs with indices instead of names, times in
 * seconds. The host fills it from a design document (JSON or a template's Lua table) after
 * validating that document; tests and benchmarks fill it directly. sim_design_check() still
 * defends the engine's own invariants, so a bad struct gives an error, never a crash. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "dist.h"

#define SIM_ID_MAX 64 /* bytes of a component id, NUL included */
#define SIM_ZONE_MAX 32
#define SIM_MAX_REPLICAS 10000
#define SIM_MAX_WORKERS 100000
#define SIM_MAX_COMPONENTS 100000
#define SIM_UNBOUNDED (-1)     /* a queue with no limit */
#define SIM_INFINITE_SERVERS 0 /* workers == 0: every arrival is served at once (delay station) */

/* How a component treats a request. The Lua type declarations (components/NAME.lua) map each
 * palette type onto one of these. */
typedef enum sim_behavior {
    SIM_BEHAVIOR_SERVICE = 0, /* queue + workers + service time, then its outgoing edges */
    SIM_BEHAVIOR_BALANCER,    /* picks ONE outgoing edge by policy (p ignored) */
    SIM_BEHAVIOR_CACHE,       /* answers a hit after service; a miss takes the outgoing edges */
    SIM_BEHAVIOR_DATABASE,    /* replica 0 is the primary: writes go there, reads spread over all */
    SIM_BEHAVIOR_QUEUE,       /* acknowledges on enqueue; workers are the consumers */
    SIM_BEHAVIOR_SCRIPT,      /* a script host (Lua) decides, action by action: sim_script.h */
} sim_behavior;

/* Spreading over replicas (every component) or over outgoing edges (balancer). */
typedef enum sim_policy {
    SIM_POLICY_ROUND_ROBIN = 0,
    SIM_POLICY_RANDOM,
    SIM_POLICY_LEAST_CONN,
    SIM_POLICY_P2C,             /* power of two choices on outstanding requests */
    SIM_POLICY_CONSISTENT_HASH, /* by the request's key, on a ring of virtual nodes */
    SIM_POLICY_WEIGHTED,        /* by edge weight (balancer) or equal weights (replicas) */
} sim_policy;

typedef enum sim_edge_mode {
    SIM_EDGE_CALL = 0, /* the caller holds its worker until the callee answers */
    SIM_EDGE_FORWARD,  /* the request moves on; the worker is freed */
    SIM_EDGE_ASYNC,    /* a copy is enqueued at the target; the caller answers at once */
} sim_edge_mode;

typedef struct sim_autoscale {
    int enabled;
    double target_util;     /* e.g. 0.6 */
    int min, max;           /* replicas */
    double cooldown;        /* seconds between two scaling decisions */
    double provision_delay; /* seconds from decision to a new replica serving */
    double interval;        /* seconds between evaluations (default: the metrics window) */
} sim_autoscale;

typedef struct sim_component {
    char id[SIM_ID_MAX];
    char zone[SIM_ZONE_MAX]; /* "" when unlabelled */
    sim_behavior behavior;
    int replicas;         /* at start, >= 1 */
    int workers;          /* per replica; SIM_INFINITE_SERVERS for a delay station */
    int queue_cap;        /* waiting places per replica beyond the workers; SIM_UNBOUNDED */
    sim_dist service;     /* per request, at one worker */
    sim_policy policy;    /* over replicas, and over edges for a balancer */
    double hit_ratio;     /* cache: probability of answering without the outgoing edges */
    double read_ratio;    /* database: probability that a request is a read */
    int fanout_all;       /* 1: call ALL outgoing call edges in parallel and wait for all */
    double error_rate;    /* intrinsic probability that a service ends in an error */
    double cost_per_hour; /* per replica */
    double rate_limit;    /* token bucket: tokens per second, 0 = no limiter */
    double rate_burst;    /* bucket size (>= 1 when rate_limit > 0) */
    double shed_wait;     /* seconds: a request that waited longer is shed at dequeue; 0 = off */
    sim_autoscale autoscale;
    char type[SIM_ID_MAX]; /* the palette type it came from ("load_balancer"), for reports */
    /* SIM_BEHAVIOR_SCRIPT: the script host's own description of the behaviour (for the Lua
     * host: JSON with the type file and the component's params), owned by the design
     * (sim_design_set_script); NULL otherwise. The engine never reads it. */
    const char *script;
} sim_component;

typedef struct sim_breaker {
    int enabled;
    int failure_threshold; /* consecutive failures that open it */
    double open_time;      /* seconds open before half-open */
    int half_open_probes;  /* successes in half-open that close it again */
} sim_breaker;

typedef struct sim_edge {
    int from, to; /* component indices */
    sim_edge_mode mode;
    double p;       /* probability of taking the edge (ignored from a balancer) */
    double weight;  /* for a weighted balancer */
    double latency; /* seconds, one way */
    /* Caller-side resilience, for call edges. */
    double timeout;      /* seconds, 0 = wait forever */
    int retries;         /* extra attempts after a failure */
    double backoff_base; /* seconds: attempt n waits base * 2^(n-1) ... */
    double backoff_max;  /* ... capped here */
    int jitter;          /* 1: full jitter, uniform in [0, backoff] */
    double retry_budget; /* retries may be at most this fraction of calls (0 = no budget) */
    sim_breaker breaker;
} sim_edge;

typedef enum sim_pattern {
    SIM_PATTERN_CONSTANT = 0,
    SIM_PATTERN_RAMP,    /* rps -> to_rps linearly from start to start + over */
    SIM_PATTERN_SPIKE,   /* rps * factor during [start, start + over) */
    SIM_PATTERN_DIURNAL, /* rps * (1 + amplitude * sin(2 pi t / period)) */
    SIM_PATTERN_STEPS,   /* rps replaced by steps[i].rps from steps[i].at */
} sim_pattern;

#define SIM_MAX_STEPS 32
typedef struct sim_step {
    double at, rps;
} sim_step;

typedef struct sim_workload {
    int to;     /* component index */
    int closed; /* 0: open Poisson source; 1: closed population */
    /* open */
    double rps;
    sim_pattern pattern;
    double start, over, to_rps, factor, period, amplitude;
    sim_step steps[SIM_MAX_STEPS];
    int nsteps;
    /* closed */
    int users;
    sim_dist think;
    /* Requests carry a key drawn uniformly from [0, keys) (consistent hashing); 0 = 2^32. */
    uint32_t keys;
} sim_workload;

typedef enum sim_fault_kind {
    SIM_FAULT_CRASH = 0,   /* a replica (replica >= 0) or the whole component goes down */
    SIM_FAULT_LATENCY,     /* service time + value seconds, or * value when multiply */
    SIM_FAULT_ERROR_RATE,  /* services end in error with probability value */
    SIM_FAULT_PARTITION,   /* the edge (target = edge index) delivers nothing */
    SIM_FAULT_ZONE,        /* every component in zone goes down */
    SIM_FAULT_CAPACITY,    /* service rate * value (value 0.5 = half as fast) */
    SIM_FAULT_HIT_RATIO,   /* a cache's hit ratio becomes value */
    SIM_FAULT_PACKET_LOSS, /* the edge (target = edge index) loses a request with probability value
                            */
} sim_fault_kind;

typedef struct sim_fault {
    sim_fault_kind kind;
    double at;       /* seconds */
    double duration; /* seconds; 0 = until the end */
    int target;      /* component index, or edge index for partition / packet loss */
    int replica;     /* crash: -1 for the whole component */
    char zone[SIM_ZONE_MAX];
    double value;
    int multiply; /* latency: 1 = value is a factor */
} sim_fault;

typedef struct sim_slo {
    double p99;        /* seconds; 0 = none */
    double error_rate; /* fraction; negative = none */
} sim_slo;

typedef struct sim_design {
    char name[128];
    sim_component *components;
    int ncomponents;
    sim_edge *edges;
    int nedges;
    sim_workload *workloads;
    int nworkloads;
    sim_fault *faults;
    int nfaults;
    sim_slo slo;
    /* private: capacities of the arrays above and owned empirical value arrays */
    int cap_components, cap_edges, cap_workloads, cap_faults;
    double **owned;
    int nowned, cap_owned;
    /* private: set by a successful sim_design_check, cleared by every sim_design_add_*;
     * sim_run_new refuses a design without it. */
    int checked;
    /* The script host that runs SIM_BEHAVIOR_SCRIPT components (sim_script.h); set by the
     * host with sim_design_set_script_host. A run of a design with script components and no
     * host is refused. */
    const struct sim_script_ops *script_ops;
    void *script_ud;
} sim_design;

sim_design *sim_design_new(const char *name);
void sim_design_free(sim_design *d);

/* Defaults for each struct (what a design document that omits a field means). */
sim_component sim_component_defaults(const char *id);
sim_edge sim_edge_defaults(int from, int to);
sim_workload sim_workload_defaults(int to);
sim_fault sim_fault_defaults(sim_fault_kind kind);

/* Appending copies the struct; each returns the new index, or -1 when out of memory. */
int sim_design_add_component(sim_design *d, const sim_component *c);
int sim_design_add_edge(sim_design *d, const sim_edge *e);
int sim_design_add_workload(sim_design *d, const sim_workload *w);
int sim_design_add_fault(sim_design *d, const sim_fault *f);
/* Copies n values into memory the design owns and points dist at them. 0, or -1. */
int sim_design_set_empirical(sim_design *d, sim_dist *dist, const double *values, int n);
/* Copies text into memory the design owns and points components[c].script at it. 0, or -1. */
int sim_design_set_script(sim_design *d, int c, const char *text);

int sim_design_find(const sim_design *d, const char *id); /* component index or -1 */

/* Checks the engine's invariants (indices in range, finite positive numbers, no cycle of call
 * edges, sizes within the limits above) and prepares every distribution. Returns 0, or -1 with
 * the first problem in err. Runs refuse a design that has not passed. */
int sim_design_check(sim_design *d, char *err, int errlen);

const char *sim_behavior_name(sim_behavior b);
int sim_behavior_parse(const char *name);
const char *sim_policy_name(sim_policy p);
int sim_policy_parse(const char *name);
const char *sim_edge_mode_name(sim_edge_mode m);
int sim_edge_mode_parse(const char *name);
const char *sim_pattern_name(sim_pattern p);
int sim_pattern_parse(const char *name);
const char *sim_fault_kind_name(sim_fault_kind k);
int sim_fault_kind_parse(const char *name);
