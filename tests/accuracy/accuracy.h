/* Shared helpers of the accuracy tests: build small designs, run them, and compare a simulated
 * figure with the value a queueing formula gives, printing both so that docs/accuracy.md can
 * quote them. Expected values always come from formulas computed in the test itself, never
 * from another run of the simulator. Include after test.h. */
#pragma once
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "sim.h"
#include "test.h"

#define ACC_MAX_COMPONENTS 16

/* What a test keeps of one run: the results are copied because the engine's pointer only
 * lives until the next call into the run. */
typedef struct acc_out {
    sim_results r;
    sim_component_result c[ACC_MAX_COMPONENTS];
    int ok;
} acc_out;

static inline int acc_station(sim_design *d, const char *id, int workers, int queue_cap,
                              sim_dist service) {
    sim_component c = sim_component_defaults(id);
    c.behavior = SIM_BEHAVIOR_SERVICE;
    c.replicas = 1;
    c.workers = workers;
    c.queue_cap = queue_cap;
    c.service = service;
    return sim_design_add_component(d, &c);
}

static inline int acc_edge(sim_design *d, int from, int to, sim_edge_mode mode, double p,
                           double latency) {
    sim_edge e = sim_edge_defaults(from, to);
    e.mode = mode;
    e.p = p;
    e.latency = latency;
    return sim_design_add_edge(d, &e);
}

static inline int acc_open(sim_design *d, int to, double rps) {
    sim_workload w = sim_workload_defaults(to);
    w.closed = 0;
    w.rps = rps;
    w.pattern = SIM_PATTERN_CONSTANT;
    return sim_design_add_workload(d, &w);
}

static inline int acc_closed(sim_design *d, int to, int users, double think_mean) {
    sim_workload w = sim_workload_defaults(to);
    w.closed = 1;
    w.users = users;
    w.think = sim_dist_exp(think_mean);
    return sim_design_add_workload(d, &w);
}

/* A distribution given by mean and scv (hyperexp, lognormal), prepared here as well as by
 * sim_design_check so that a bad parameter shows at once. */
static inline sim_dist acc_dist(sim_dist_kind kind, double mean, double scv) {
    sim_dist s;
    memset(&s, 0, sizeof s);
    s.kind = kind;
    s.mean = mean;
    s.scv = scv;
    char err[256] = "";
    if (sim_dist_prepare(&s, err, sizeof err) != 0) {
        fprintf(stderr, "  distribution %s mean %g scv %g: %s\n", sim_dist_kind_name(kind), mean,
                scv, err);
        test_current_failed_ = 1;
        test_checks_failed_++;
    }
    return s;
}

static inline double acc_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Checks and runs a design for `duration` seconds of simulated time, the first `warmup` left
 * out. On any engine error the current test fails and out->ok is 0. */
static inline void acc_run(sim_design *d, double duration, double warmup, uint64_t seed,
                           acc_out *out) {
    memset(out, 0, sizeof *out);
    char err[512] = "";
    if (sim_design_check(d, err, sizeof err) != 0) {
        fprintf(stderr, "  sim_design_check: %s\n", err);
        CHECK(0 && "design refused");
        return;
    }
    sim_options o = sim_options_defaults();
    o.duration = duration;
    o.warmup = warmup;
    o.seed = seed;
    double t0 = acc_now();
    sim_run *run = sim_run_new(d, &o, err, sizeof err);
    if (!run) {
        fprintf(stderr, "  sim_run_new: %s\n", err);
        CHECK(0 && "run refused");
        return;
    }
    int rc = sim_run_until(run, duration);
    if (rc != 1) {
        fprintf(stderr, "  sim_run_until returned %d: %s\n", rc, sim_run_error(run));
        CHECK(rc == 1);
    }
    const sim_results *res = sim_run_results(run);
    CHECK(res != NULL);
    if (res) {
        out->r = *res;
        CHECK(res->ncomponents == d->ncomponents);
        int n = res->ncomponents < ACC_MAX_COMPONENTS ? res->ncomponents : ACC_MAX_COMPONENTS;
        for (int i = 0; i < n; i++)
            out->c[i] = res->components[i];
        out->r.components = out->c;
        out->ok = rc == 1 && res->ncomponents == d->ncomponents;
    }
    double wall = acc_now() - t0;
    printf("  [%s: %.0f s simulated, %llu events in %.2f s wall, %.1f M events/s]\n", d->name,
           duration, (unsigned long long)(res ? res->events : 0), wall,
           res && wall > 0 ? (double)res->events / wall / 1e6 : 0.0);
    sim_run_free(run);
}

/* |simulated - expected| <= rel * |expected|; prints one line either way so the tables of
 * docs/accuracy.md can be filled from the test output. */
static inline void acc_expect(const char *what, double simulated, double expected, double rel) {
    double err = expected != 0 ? (simulated - expected) / fabs(expected) : simulated;
    int pass = isfinite(simulated) && fabs(simulated - expected) <= rel * fabs(expected);
    printf("  %-4s %-44s expected %-11.6g simulated %-11.6g err %+6.2f%%  tol %.1f%%\n",
           pass ? "ok" : "FAIL", what, expected, simulated, 100 * err, 100 * rel);
    if (!pass) {
        test_current_failed_ = 1;
        test_checks_failed_++;
    }
}

/* Absolute tolerance, for figures that may be near zero (probabilities). */
static inline void acc_expect_abs(const char *what, double simulated, double expected,
                                  double tol) {
    int pass = isfinite(simulated) && fabs(simulated - expected) <= tol;
    printf("  %-4s %-44s expected %-11.6g simulated %-11.6g diff %+.2e tol %.1e\n",
           pass ? "ok" : "FAIL", what, expected, simulated, simulated - expected, tol);
    if (!pass) {
        test_current_failed_ = 1;
        test_checks_failed_++;
    }
}

/* Prints the engine's own 95 % batch-means half-width next to a mean, as a sanity check on
 * the stated tolerance (never as the tolerance). */
static inline void acc_note_ci(const char *what, double mean, double half) {
    printf("       %-44s batch-means 95%% CI +-%.3g (%.2f%% of %.6g)\n", what, half,
           mean != 0 ? 100 * half / mean : 0.0, mean);
}

/* Relative standard error of the mean response (or mean number) of an M/M/1 queue at load rho
 * estimated from n customers: the asymptotic variance of the queue-length process (Whitt,
 * 2 rho (1+rho) / (mu (1-rho)^4)) over T = n/lambda gives sqrt(2 (1+rho) / n) / (1-rho).
 * Measured seed-to-seed spreads (see test_single_station.c) are at or below this figure, so
 * networks of exponential stations size their tolerances as a multiple of it. */
static inline double acc_mm1_relse(double rho, double n) {
    return sqrt(2 * (1 + rho) / n) / (1 - rho);
}

/* A tolerance of k standard errors, never below floor. */
static inline double acc_tol(double k, double relse, double floor) {
    return k * relse > floor ? k * relse : floor;
}
