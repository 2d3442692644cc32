/* Live rate changes (sim_run_set_rate): an M/M/1 whose arrival rate changes mid-run shows the
 * new rate from then on, a pause stops arrivals, a pattern is replaced, the same calls at the
 * same simulated times give the same run, and bad input is refused without harming the run. */
#include <math.h>

#include "sim_fixture.h"
#include "test.h"

static uint64_t arrivals(const sim_run *r) {
    sim_totals t;
    if (sim_run_totals(r, 0, &t)) fx_die("totals", "component 0");
    return t.arrivals;
}

/* Poisson counts: N ~ Poisson(rps * D), sd = sqrt(rps * D); 4 sigma is the tolerance (a
 * false alarm about once in 16,000 runs; the seed is fixed, so never in practice). */
static void check_count(uint64_t n, double rps, double d) {
    double mean = rps * d;
    CHECK_NEAR((double)n, mean, 4 * sqrt(mean));
}

/* M/M/1, S = 1 ms: 200/s for 50 s, then 400/s (rho 0.4, still stable) for 50 s. Arrivals in
 * [0, 50): 10,000 +- 400; in [50, 100]: 20,000 +- 566. Throughput over the second half follows
 * the arrivals (stable queue; at most a handful in system at t = 100). */
static void doubles(void) {
    sim_design *d = sim_design_new("mm1");
    fx_comp(d, "s", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    fx_open(d, 0, 200);
    sim_options o = fx_opts(100, 0, 7);
    sim_run *r = fx_new(d, &o);
    CHECK(sim_run_until(r, 50) == 0);
    CHECK_NEAR(sim_run_rate(r, 0), 200, 0);
    uint64_t a0 = arrivals(r);
    sim_totals t0;
    sim_run_totals(r, 0, &t0);
    check_count(a0, 200, 50);
    CHECK(sim_run_set_rate(r, 0, 400) == 0);
    CHECK_NEAR(sim_run_rate(r, 0), 400, 0);
    CHECK(sim_run_until(r, 100) == 1);
    uint64_t a1 = arrivals(r) - a0;
    check_count(a1, 400, 50);
    sim_totals t1;
    sim_run_totals(r, 0, &t1);
    /* Completions in the second half: the arrivals, give or take those in system at either end
     * (mean L = rho / (1 - rho) = 0.67 at rho 0.4; 50 is far beyond). */
    CHECK_NEAR((double)(t1.completions - t0.completions), (double)a1, 50);
    sim_run_free(r);
    sim_design_free(d);
}

/* rps 0 pauses the source: its pending arrival is dropped, not one more request arrives; a
 * later change resumes it at the new rate (arrivals in [20, 40]: 300 * 20 = 6,000 +- 310). */
static void pause_resume(void) {
    sim_design *d = sim_design_new("pause");
    fx_comp(d, "s", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    fx_open(d, 0, 500);
    sim_options o = fx_opts(40, 0, 3);
    sim_run *r = fx_new(d, &o);
    CHECK(sim_run_until(r, 5) == 0);
    CHECK(sim_run_set_rate(r, 0, 0) == 0);
    uint64_t a0 = arrivals(r);
    CHECK(sim_run_until(r, 20) == 0);
    CHECK(arrivals(r) == a0);
    CHECK(sim_run_set_rate(r, 0, 300) == 0);
    CHECK(sim_run_until(r, 40) == 1);
    check_count(arrivals(r) - a0, 300, 20);
    sim_run_free(r);
    sim_design_free(d);
}

/* A ramp 100 -> 1000/s over [0, 100] is replaced by a constant 50/s at t = 10: arrivals in
 * [10, 60]: 2,500 +- 200 (the ramp would have given ~16,000). */
static void replaces_pattern(void) {
    sim_design *d = sim_design_new("ramp");
    int s = fx_comp(d, "s", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.0001));
    sim_workload w = sim_workload_defaults(s);
    w.rps = 100;
    w.pattern = SIM_PATTERN_RAMP;
    w.start = 0;
    w.over = 100;
    w.to_rps = 1000;
    sim_design_add_workload(d, &w);
    sim_options o = fx_opts(60, 0, 11);
    sim_run *r = fx_new(d, &o);
    CHECK(sim_run_until(r, 10) == 0);
    CHECK_NEAR(sim_run_rate(r, 0), 190, 1e-9); /* 100 + 900 * 10 / 100 */
    uint64_t a0 = arrivals(r);
    CHECK(sim_run_set_rate(r, 0, 50) == 0);
    CHECK(sim_run_until(r, 60) == 1);
    check_count(arrivals(r) - a0, 50, 50);
    CHECK_NEAR(sim_run_rate(r, 0), 50, 0);
    sim_run_free(r);
    sim_design_free(d);
}

/* One run with changes at fixed simulated times; its results and windows as bytes. */
static void one_run(sim_component_result *comp, sim_e2e_result *e2e, sim_window_stat *win,
                    int *nwin) {
    sim_design *d = sim_design_new("det");
    fx_comp(d, "s", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.002));
    fx_open(d, 0, 100);
    sim_options o = fx_opts(30, 2, 5);
    sim_run *r = fx_new(d, &o);
    const double at[] = {3.25, 9.5, 17, 21.125};
    const double rps[] = {300, 0, 450, 120};
    for (int i = 0; i < 4; i++) {
        if (sim_run_until(r, at[i]) < 0) fx_die("run", sim_run_error(r));
        if (sim_run_set_rate(r, 0, rps[i])) fx_die("set_rate", sim_run_error(r));
    }
    if (sim_run_until(r, 30) != 1) fx_die("run", sim_run_error(r));
    const sim_results *res = sim_run_results(r);
    *comp = res->components[0];
    *e2e = res->e2e;
    *nwin = sim_run_windows(r);
    for (int i = 0; i < *nwin && i < 40; i++)
        win[i] = *sim_run_window(r, i, 0);
    sim_run_free(r);
    sim_design_free(d);
}

static void determinism(void) {
    sim_component_result c1, c2;
    sim_e2e_result e1, e2;
    static sim_window_stat w1[40], w2[40];
    int n1, n2;
    memset(&c1, 0, sizeof c1), memset(&c2, 0, sizeof c2);
    memset(&e1, 0, sizeof e1), memset(&e2, 0, sizeof e2);
    one_run(&c1, &e1, w1, &n1);
    one_run(&c2, &e2, w2, &n2);
    CHECK(c1.arrivals > 1000);
    CHECK(memcmp(&c1, &c2, sizeof c1) == 0);
    CHECK(memcmp(&e1, &e2, sizeof e1) == 0);
    CHECK(n1 == n2 && n1 == 30);
    CHECK(memcmp(w1, w2, sizeof w1) == 0);
    /* The pause of [9.5, 17): windows 10..16 see no arrival. */
    for (int i = 10; i < 17 && i < n1; i++)
        CHECK(w1[i].arrivals == 0);
}

static void refusals(void) {
    sim_design *d = sim_design_new("bad");
    int s = fx_comp(d, "s", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    fx_open(d, s, 100);
    sim_workload w = sim_workload_defaults(s);
    w.closed = 1;
    w.users = 2;
    w.think = sim_dist_const(0.1);
    sim_design_add_workload(d, &w);
    sim_options o = fx_opts(10, 0, 1);
    sim_run *r = fx_new(d, &o);
    CHECK(sim_run_until(r, 1) == 0);
    CHECK(sim_run_set_rate(r, 0, -1) == -1);
    CHECK(sim_run_error(r) && strstr(sim_run_error(r), "set_rate") != NULL);
    CHECK(sim_run_set_rate(r, 0, NAN) == -1);
    CHECK(sim_run_set_rate(r, 0, INFINITY) == -1);
    CHECK(sim_run_set_rate(r, -1, 10) == -1);
    CHECK(sim_run_set_rate(r, 2, 10) == -1);
    CHECK(sim_run_set_rate(r, 1, 10) == -1); /* closed population: no rate */
    CHECK(sim_run_rate(r, 1) < 0 && sim_run_rate(r, 2) < 0);
    CHECK_NEAR(sim_run_rate(r, 0), 100, 0); /* unchanged */
    CHECK(sim_run_until(r, 10) == 1);       /* the run goes on */
    sim_run_free(r);
    sim_design_free(d);
}

TEST_MAIN(TEST(doubles), TEST(pause_resume), TEST(replaces_pattern), TEST(determinism),
          TEST(refusals))
