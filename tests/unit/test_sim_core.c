/* The run loop itself: M/M/1 against its formulas, closed populations, determinism, windows,
 * refusals and the request pool limit. */
#include "sim_fixture.h"
#include "sim_internal.h"
#include "test.h"

/* M/M/1 with rho = 0.8 and S = 1 ms: W = S / (1 - rho) = 5 ms, L = rho / (1 - rho) = 4,
 * Lq = rho^2 / (1 - rho) = 3.2, X = lambda. 2,000 s gives ~1.6 M requests; the batch-means
 * standard error of W is ~0.6 %, so 3 % is a 5-sigma tolerance. */
static void mm1(void) {
    sim_design *d = sim_design_new("mm1");
    fx_comp(d, "s", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    fx_open(d, 0, 800);
    sim_options o = fx_opts(2000, 20, 1);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    const sim_component_result *s = &res->components[0];
    CHECK_REL(s->response.mean, 0.005, 0.03);
    CHECK_REL(s->mean_in_system, 4.0, 0.03);
    CHECK_REL(s->mean_queue, 3.2, 0.035);
    CHECK_REL(s->mean_wait, 0.004, 0.035);
    CHECK_REL(s->utilization, 0.8, 0.01);
    CHECK_REL(s->throughput, 800, 0.01);
    CHECK_REL(s->response.p99, 0.005 * log(100), 0.05); /* W is exponential: p99 = W ln 100 */
    CHECK_REL(res->e2e.latency.mean, s->response.mean, 1e-12);
    CHECK(s->ci.mean_half > 0 && s->ci.mean_half < 0.0005);
    CHECK(res->bottleneck == 0);
    CHECK_NEAR(res->measured_time, 1980, 1e-9);
    sim_run_free(r);
    sim_design_free(d);
}

/* M/M/2 (Erlang C) with lambda = 1600/s, S = 1 ms: rho = 0.8, C(2, 1.6) = 0.7111,
 * W = S + C / (c mu - lambda) = 1 ms + 0.7111 / 400 = 2.778 ms. */
static void mm2(void) {
    sim_design *d = sim_design_new("mm2");
    int s = fx_comp(d, "s", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    d->components[s].workers = 2;
    fx_open(d, 0, 1600);
    sim_options o = fx_opts(600, 10, 3);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    CHECK_REL(res->components[0].response.mean,
              0.001 + (1.6 * 1.6 / 2 / 0.2) / (1 + 1.6 + 1.6 * 1.6 / 2 / 0.2) / 400, 0.03);
    CHECK_REL(res->components[0].utilization, 0.8, 0.01);
    sim_run_free(r);
    sim_design_free(d);
}

/* N users, exponential think Z = 1 s, one M station S = 10 ms: exact MVA for one station:
 * R(n) = S (1 + Q(n-1)), X(n) = n / (Z + R(n)), Q(n) = X(n) R(n). */
static void closed_population(void) {
    sim_design *d = sim_design_new("closed");
    fx_comp(d, "s", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.01));
    sim_workload w = sim_workload_defaults(0);
    w.closed = 1;
    w.users = 50;
    w.think = sim_dist_exp(1.0);
    sim_design_add_workload(d, &w);
    double q = 0, R = 0, X = 0;
    for (int n = 1; n <= 50; n++) {
        R = 0.01 * (1 + q);
        X = n / (1.0 + R);
        q = X * R;
    }
    sim_options o = fx_opts(600, 20, 5);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    CHECK_REL(res->e2e.throughput, X, 0.02);
    CHECK_REL(res->components[0].response.mean, R, 0.04);
    sim_run_free(r);
    sim_design_free(d);
}

/* A small network with every mechanism on; two runs with one seed are bit-identical. */
static sim_design *busy_design(void) {
    sim_design *d = sim_design_new("det");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.002));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_CACHE, sim_dist_exp(0.001));
    int c = fx_comp(d, "c", SIM_BEHAVIOR_DATABASE, sim_dist_exp(0.004));
    d->components[c].replicas = 3;
    d->components[c].policy = SIM_POLICY_P2C;
    int e = fx_edge(d, a, b, SIM_EDGE_CALL, 0.9);
    d->edges[e].timeout = 0.02;
    d->edges[e].retries = 2;
    d->edges[e].jitter = 1;
    fx_edge(d, b, c, SIM_EDGE_CALL, 1);
    fx_edge(d, a, c, SIM_EDGE_ASYNC, 0.3);
    fx_open(d, a, 300);
    sim_fault f = sim_fault_defaults(SIM_FAULT_CRASH);
    f.target = c;
    f.replica = 1;
    f.at = 3;
    f.duration = 2;
    sim_design_add_fault(d, &f);
    return d;
}

static void determinism(void) {
    sim_results copy[2];
    sim_component_result comps[2][3];
    for (int k = 0; k < 3; k++) {
        sim_design *d = busy_design();
        sim_options o = fx_opts(20, 2, k < 2 ? 42 : 43);
        const sim_results *res;
        sim_run *r = fx_run(d, &o, &res);
        if (k < 2) {
            copy[k] = *res;
            memcpy(comps[k], res->components, sizeof comps[k]);
            copy[k].components = NULL;
        } else {
            CHECK(res->e2e.started != copy[0].e2e.started ||
                  res->e2e.latency.mean != copy[0].e2e.latency.mean);
        }
        sim_run_free(r);
        sim_design_free(d);
    }
    CHECK(memcmp(&copy[0], &copy[1], sizeof copy[0]) == 0);
    CHECK(memcmp(comps[0], comps[1], sizeof comps[0]) == 0);
    CHECK(copy[0].e2e.completed > 4000);
}

/* Windows: ceil(duration / window) of them, counts that add up to the run's. */
static void windows(void) {
    sim_design *d = sim_design_new("win");
    fx_comp(d, "s", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    fx_open(d, 0, 500);
    sim_options o = fx_opts(10.5, 0, 1);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    CHECK(sim_run_windows(r) == 11);
    uint64_t sum = 0, e2e = 0;
    for (int w = 0; w < sim_run_windows(r); w++) {
        sum += sim_run_window(r, w, 0)->completions;
        e2e += sim_run_window(r, w, -1)->completions;
    }
    CHECK(sum == res->components[0].completions);
    CHECK(e2e == res->e2e.completed);
    CHECK_NEAR(sim_run_window(r, 3, 0)->utilization, 0.5, 0.1);
    CHECK(sim_run_window(r, 11, 0) == NULL);
    sim_run_free(r);
    sim_design_free(d);
}

/* on_window is called once per closed window, with the window's index, and sees its stats. */
static int seen_windows;
static uint64_t seen_completions;
static void count_window(const sim_run *r, int w, void *ud) {
    CHECK(w == seen_windows);
    CHECK(ud == &seen_windows);
    seen_windows++;
    seen_completions += sim_run_window(r, w, -1)->completions;
}

static void window_callback(void) {
    sim_design *d = sim_design_new("cb");
    fx_comp(d, "s", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    fx_open(d, 0, 200);
    sim_options o = fx_opts(5, 0, 1);
    o.window = 0.5;
    o.on_window = count_window;
    o.ud = &seen_windows;
    sim_run *r = fx_new(d, &o);
    CHECK(sim_run_until(r, 2) == 0);
    const sim_results *mid = sim_run_results(r); /* so-far figures during a live run */
    CHECK(mid->e2e.completed > 300 && mid->measured_time == 2);
    CHECK(seen_windows == 4);
    CHECK(sim_run_until(r, 5) == 1);
    CHECK(seen_windows == 10);
    CHECK(seen_completions == sim_run_results(r)->e2e.completed);
    sim_run_free(r);
    sim_design_free(d);
}

/* Live stepping gives the same answer as one call. */
static void stepping(void) {
    sim_design *d = sim_design_new("step");
    fx_comp(d, "s", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    fx_open(d, 0, 500);
    sim_options o = fx_opts(10, 1, 9);
    const sim_results *a;
    sim_run *r1 = fx_run(d, &o, &a);
    sim_e2e_result one = a->e2e;
    sim_run *r2 = fx_new(d, &o);
    int rc = 0;
    for (double t = 0.05; rc == 0; t += 0.05)
        rc = sim_run_until(r2, t);
    CHECK(rc == 1);
    CHECK(memcmp(&one, &sim_run_results(r2)->e2e, sizeof one) == 0);
    sim_run_free(r1);
    sim_run_free(r2);
    sim_design_free(d);
}

static void refusals(void) {
    sim_design *d = sim_design_new("x");
    fx_comp(d, "s", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    sim_options o = fx_opts(10, 0, 1);
    char err[256] = "";
    CHECK(sim_run_new(d, &o, err, sizeof err) == NULL); /* never checked */
    CHECK(strstr(err, "sim_design_check") != NULL);
    CHECK(sim_design_check(d, err, sizeof err) == 0);
    o.warmup = 10;
    CHECK(sim_run_new(d, &o, err, sizeof err) == NULL);
    o = fx_opts(1e9, 0, 1);
    o.window = 0.001; /* 1e12 windows */
    CHECK(sim_run_new(d, &o, err, sizeof err) == NULL);
    CHECK(strstr(err, "window") != NULL);
    sim_design_free(d);
}

/* rho = 5 with an unbounded queue: the backlog grows without end; with a small pool limit
 * the run stops with a clear error instead of exhausting memory. */
static void pool_exhausted(void) {
    sim_design *d = sim_design_new("over");
    fx_comp(d, "s", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.005));
    fx_open(d, 0, 1000);
    sim_options o = fx_opts(100, 0, 1);
    sim_run *r = fx_new(d, &o);
    r->limit = 20000; /* the real limit is ~20 M requests; same code path */
    CHECK(sim_run_until(r, 100) == -1);
    CHECK(sim_run_error(r) && strstr(sim_run_error(r), "request pool exhausted") != NULL);
    CHECK(sim_run_until(r, 100) == -1);
    sim_run_free(r);
    sim_design_free(d);
}

/* Closed users with zero think time against a component that is down: every request fails
 * at once and the user sends the next at the same instant. The run must stop with a message
 * instead of spinning forever. */
static void zero_delay_loop(void) {
    sim_design *d = sim_design_new("spin");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    sim_workload w = sim_workload_defaults(a);
    w.closed = 1;
    w.users = 3;
    w.think = sim_dist_const(0);
    sim_design_add_workload(d, &w);
    sim_fault f = sim_fault_defaults(SIM_FAULT_CRASH);
    f.target = a;
    f.at = 1;
    sim_design_add_fault(d, &f);
    sim_options o = fx_opts(10, 0, 1);
    sim_run *r = fx_new(d, &o);
    r->same_time_limit = 100000; /* the real limit is 1e8; same code path */
    CHECK(sim_run_until(r, 10) == -1);
    CHECK(sim_run_error(r) && strstr(sim_run_error(r), "simulated time stopped") != NULL);
    CHECK(sim_run_now(r) >= 1 && sim_run_now(r) < 1.01);
    sim_run_free(r);
    sim_design_free(d);
}

TEST_MAIN(TEST(zero_delay_loop), TEST(mm1), TEST(mm2), TEST(closed_population), TEST(determinism),
          TEST(windows), TEST(window_callback), TEST(stepping), TEST(refusals),
          TEST(pool_exhausted))
