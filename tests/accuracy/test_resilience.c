/* Resilience mechanics against exact probabilities: retries of a call to a callee that fails
 * at random, a timeout racing an exponential service, and an async edge (the caller answers at
 * once; the target is an M/M/1 fed by the caller's departures).
 *
 * The retry and timeout cases use delay stations (infinite servers) so that no queueing
 * couples requests: each root request is an independent trial, and the counts are sums of
 * independent Bernoulli variables. With n = 1M roots a proportion p has relative standard
 * error sqrt((1-p)/(p n)): 0.6 % for p = 0.027, 0.25 % for p = 0.135; the tolerances (3 %
 * and 2 %) are 5 to 8 of those. */
#include "accuracy.h"

/* A calls B (error_rate e = 0.3) with retries = 2 and no budget or breaker. Attempt i + 1
 * happens only when the first i all failed, so per root request: B arrivals
 * 1 + e + e^2, retries e + e^2, B errors e (1 + e + e^2), and the root fails with e^3. */
static void test_retries_geometric(void) {
    const double e = 0.3, lambda = 1000, roots = 1e6;
    sim_design *d = sim_design_new("retries");
    int a = acc_station(d, "a", SIM_INFINITE_SERVERS, SIM_UNBOUNDED, sim_dist_const(0.001));
    int b = acc_station(d, "b", SIM_INFINITE_SERVERS, SIM_UNBOUNDED, sim_dist_exp(0.001));
    d->components[b].error_rate = e;
    sim_edge ed = sim_edge_defaults(a, b);
    ed.mode = SIM_EDGE_CALL;
    ed.p = 1;
    ed.retries = 2;
    ed.backoff_base = 0.001;
    ed.backoff_max = 0.004;
    ed.jitter = 0;
    ed.retry_budget = 0;
    ed.breaker.enabled = 0;
    sim_design_add_edge(d, &ed);
    acc_open(d, a, lambda);
    double duration = roots / lambda;
    acc_out o;
    acc_run(d, duration, 0.01 * duration, 31, &o);
    if (o.ok) {
        double n = (double)o.r.e2e.started;
        double tries = 1 + e + e * e;
        CHECK(n > 0.9 * roots);
        acc_expect("b arrivals per root = 1 + e + e^2", (double)o.c[b].arrivals / n, tries, 0.01);
        acc_expect("retries per root = e + e^2", (double)o.c[a].retries / n, e + e * e, 0.02);
        acc_expect("b errors per root = e (1 + e + e^2)", (double)o.c[b].errors / n, e * tries,
                   0.02);
        acc_expect("e2e error rate = e^3", o.r.e2e.error_rate, e * e * e, 0.03);
        acc_expect("a errors per root = e^3", (double)o.c[a].errors / n, e * e * e, 0.03);
    }
    sim_design_free(d);
}

/* A calls B (exponential, mean 10 ms, infinite servers) with a 20 ms timeout and no retry:
 * the call times out when B's service exceeds 20 ms, with probability exp(-2) = 0.1353. */
static void test_timeout_exponential(void) {
    const double sb = 0.010, tmo = 0.020, lambda = 1000, roots = 1e6;
    const double pt = exp(-tmo / sb);
    sim_design *d = sim_design_new("timeout");
    int a = acc_station(d, "a", SIM_INFINITE_SERVERS, SIM_UNBOUNDED, sim_dist_const(0.001));
    int b = acc_station(d, "b", SIM_INFINITE_SERVERS, SIM_UNBOUNDED, sim_dist_exp(sb));
    sim_edge ed = sim_edge_defaults(a, b);
    ed.mode = SIM_EDGE_CALL;
    ed.timeout = tmo;
    ed.retries = 0;
    ed.breaker.enabled = 0;
    sim_design_add_edge(d, &ed);
    acc_open(d, a, lambda);
    double duration = roots / lambda;
    acc_out o;
    acc_run(d, duration, 0.01 * duration, 32, &o);
    if (o.ok) {
        double n = (double)o.r.e2e.started;
        CHECK(n > 0.9 * roots);
        acc_expect("timeouts per root = exp(-T/S)", (double)o.c[a].timeouts / n, pt, 0.02);
        acc_expect("e2e error rate = exp(-T/S)", o.r.e2e.error_rate, pt, 0.02);
        /* The late children still complete at B: every root reaches B once. */
        acc_expect("b arrivals per root = 1", (double)o.c[b].arrivals / n, 1, 0.01);
        /* Successful roots took 1 ms at A plus B's service given that it was below T:
         * E[S | S < T] = S - T e^{-T/S} / (1 - e^{-T/S}) for an exponential. Each success is
         * an independent sample with sd < 6 ms: over ~860k the mean is within 0.01 %; 1 %. */
        double cond = sb - tmo * pt / (1 - pt);
        acc_expect("e2e mean of successes = 1 ms + E[S|S<T]", o.r.e2e.latency.mean, 0.001 + cond,
                   0.01);
    }
    sim_design_free(d);
}

/* A (M/M/1, rho 0.5) sends every request on over an async edge to B (M/M/1, rho 0.7) and
 * answers at once: e2e = W_A only, and B, fed by A's Poisson departures (Burke), has
 * W_B = S_B/(1-rho_B). 1M requests; tolerances as in test_networks.c, 5 standard errors of
 * acc_mm1_relse, at least 2 %. */
static void test_async_edge(void) {
    const double lambda = 100, sa = 0.005, sb = 0.007, n = 1e6;
    sim_design *d = sim_design_new("async");
    int a = acc_station(d, "a", 1, SIM_UNBOUNDED, sim_dist_exp(sa));
    int b = acc_station(d, "b", 1, SIM_UNBOUNDED, sim_dist_exp(sb));
    acc_edge(d, a, b, SIM_EDGE_ASYNC, 1, 0);
    acc_open(d, a, lambda);
    double duration = n / lambda;
    acc_out o;
    acc_run(d, duration, 0.01 * duration, 33, &o);
    if (o.ok) {
        double ra = lambda * sa, rb = lambda * sb;
        double wa = sa / (1 - ra), wb = sb / (1 - rb);
        acc_expect("e2e mean = W_A (async answers at once)", o.r.e2e.latency.mean, wa,
                   acc_tol(5, acc_mm1_relse(ra, n), 0.02));
        acc_expect("a: W = S/(1-rho)", o.c[a].response.mean, wa,
                   acc_tol(5, acc_mm1_relse(ra, n), 0.02));
        acc_expect("b: W = S/(1-rho)", o.c[b].response.mean, wb,
                   acc_tol(5, acc_mm1_relse(rb, n), 0.02));
        acc_expect("b: utilization = lambda S_B", o.c[b].utilization, rb, 0.01);
        acc_expect("b: arrival rate = lambda", (double)o.c[b].arrivals / o.r.measured_time, lambda,
                   0.01);
    }
    sim_design_free(d);
}

TEST_MAIN(TEST(test_retries_geometric), TEST(test_timeout_exponential), TEST(test_async_edge))
