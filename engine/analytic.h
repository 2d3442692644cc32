/* The instant analytic prediction of a design: traffic equations, operational laws,
 * Erlang C / Allen-Cunneen for open stations, M/M/c/K blocking for bounded queues, exact MVA
 * (Seidmann's approximation for multi-server stations) for closed populations. It needs no
 * simulation and runs in microseconds, so the canvas can show it while the user draws. */
#pragma once
#include "model.h"

typedef enum sim_exactness {
    SIM_EXACT = 0,     /* the formula is exact for this station (e.g. M/M/c, M/G/1 mean) */
    SIM_APPROXIMATE,   /* an approximation (Allen-Cunneen, call holding times, patterns) */
    SIM_UNSTABLE,      /* utilization >= 1: no steady state; figures are not meaningful */
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
    double offered_rps;     /* external arrival rate (open) or throughput (closed) */
    double e2e_mean;        /* seconds, NaN when unknown */
    double saturation_rps;  /* external load at which the first component saturates */
    int bottleneck;         /* index of that component, -1 if none */
    char reason[256];       /* why it is the bottleneck, in one sentence */
    int closed;             /* the design is a closed network solved by MVA */
} sim_analytic;

/* Solves a checked design. 0, or -1 with a reason in err. */
int sim_analyze(const sim_design *d, sim_analytic *out, char *err, int errlen);
void sim_analytic_free(sim_analytic *a);
