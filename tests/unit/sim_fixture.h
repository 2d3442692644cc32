/* Small helpers for the engine's unit tests: build a design in a few lines, run it, read
 * the figures. Every helper aborts the test program on a setup error (a broken fixture is not
 * a finding). */
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static inline void fx_die(const char *what, const char *err) {
    fprintf(stderr, "fixture: %s: %s\n", what, err);
    exit(2);
}

/* A component with a given behaviour and service time; workers 1, one replica. */
static inline int fx_comp(sim_design *d, const char *id, sim_behavior b, sim_dist service) {
    sim_component c = sim_component_defaults(id);
    c.behavior = b;
    c.service = service;
    return sim_design_add_component(d, &c);
}

static inline int fx_edge(sim_design *d, int from, int to, sim_edge_mode mode, double p) {
    sim_edge e = sim_edge_defaults(from, to);
    e.mode = mode;
    e.p = p;
    return sim_design_add_edge(d, &e);
}

static inline int fx_open(sim_design *d, int to, double rps) {
    sim_workload w = sim_workload_defaults(to);
    w.rps = rps;
    return sim_design_add_workload(d, &w);
}

static inline sim_options fx_opts(double duration, double warmup, uint64_t seed) {
    sim_options o = sim_options_defaults();
    o.duration = duration;
    o.warmup = warmup;
    o.seed = seed;
    return o;
}

/* Checks the design and creates a run (the caller frees it). */
static inline sim_run *fx_new(sim_design *d, const sim_options *o) {
    char err[256];
    if (sim_design_check(d, err, sizeof err)) fx_die("check", err);
    sim_run *r = sim_run_new(d, o, err, sizeof err);
    if (!r) fx_die("run", err);
    return r;
}

/* Runs to the end; returns the run (for windows) with its results in *res. */
static inline sim_run *fx_run(sim_design *d, const sim_options *o, const sim_results **res) {
    sim_run *r = fx_new(d, o);
    if (sim_run_until(r, o->duration) < 0) fx_die("run_until", sim_run_error(r));
    *res = sim_run_results(r);
    return r;
}
