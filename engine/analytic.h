/* The instant analytic prediction of a design: traffic equations, operational laws,
 * Erlang C / Allen-Cunneen for open stations, M/M/c/K blocking for bounded queues, exact MVA
 * (Seidmann's approximation for multi-server stations) for closed populations. It needs no
 * simulation and runs in microseconds, so the canvas can show it while the user draws. */
#pragma once
#include "model.h"

typedef enum sim_exactness {
    SIM_EXACT = 0,   /* the formula is exact for this station (e.g. M/M/c, M/G/1 mean) */
    SIM_APPROXIMATE, /* an approximation (Allen-Cunneen, call holding times, patterns) */
    SIM_UNSTABLE,    /* utilization >= 1: no steady state; figures are not meaningful */
} sim_exactness;

typedef struct sim_analytic_component {
    double arrival_rate;   /* requests per second reaching the component */
    double service_demand; /* seconds a request holds one worker (calls it makes included) */
    double utilization;    /* per worker; may exceed 1 when saturated */
    double mean_wait;      /* seconds in the queue */
    double mean_response;  /* seconds from arrival to answer */
    double mean_in_system;
    double drop_prob;      /* bounded queues */
    double saturation_rps; /* external load (same mix) at which this component reaches 1 */
    sim_exactness exactness;
} sim_analytic_component;

typedef struct sim_analytic {
    sim_analytic_component *components; /* ncomponents entries */
    int ncomponents;
    double offered_rps;    /* external arrival rate (open) or throughput (closed) */
    double e2e_mean;       /* seconds, NaN when unknown */
    double saturation_rps; /* external load at which the first component saturates */
    int bottleneck;        /* index of that component, -1 if none */
    char reason[256];      /* why it is the bottleneck, in one sentence */
    int closed;            /* the design is a closed network solved by MVA */
} sim_analytic;

/* Solves a checked design. 0, or -1 with a reason in err. */
int sim_analyze(const sim_design *d, sim_analytic *out, char *err, int errlen);
void sim_analytic_free(sim_analytic *a);

/* "exact", "approximate", "unstable". */
const char *sim_exactness_name(sim_exactness e);

/* One station on its own, for the analytic pass and for tests that compare the simulation
 * with theory: Poisson arrivals at `lambda` per second, service of the given mean (seconds)
 * and scv, `workers` servers (SIM_INFINITE_SERVERS: a delay) and `queue_cap` waiting places
 * (SIM_UNBOUNDED: none lost). Unbounded: Erlang C with Allen-Cunneen's (1 + scv) / 2 (exact
 * for exponential service, and for one worker, where it is Pollaczek-Khinchine). Bounded:
 * M/M/c/K, exact for exponential service. 0, or -1 on arguments that describe nothing. */
typedef struct sim_station {
    double offered;     /* lambda * mean / workers: may exceed 1 */
    double utilization; /* carried load per worker (offered when unbounded) */
    double mean_wait, mean_response, mean_in_system; /* INFINITY when unstable */
    double drop_prob;
    int exact;    /* the formula is exact for Poisson arrivals */
    int unstable; /* unbounded and offered >= 1 */
} sim_station;
int sim_station_solve(double lambda, double mean, double scv, int exp_service, int workers,
                      int queue_cap, sim_station *out);
/* The same when the station gets every `ways`-th arrival of a Poisson stream (one replica of
 * `ways` under round robin): interarrival scv 1 / ways; exact (E_k/M/1) for one exponential
 * worker, Allen-Cunneen's (1 / ways + scv) / 2 otherwise. `lambda` is the station's own rate. */
int sim_station_solve_split(double lambda, double mean, double scv, int exp_service, int workers,
                            int queue_cap, int ways, sim_station *out);

/* Erlang C: the probability that an arrival waits at an M/M/c with offered load a = lambda *
 * mean (1 when a >= c). */
double sim_erlang_c(int c, double a);
