/* Open networks against Jackson's theorem and the M/G/1 formula: a tandem of three stations,
 * a probabilistic branch, a loop with feedback, and a caller holding its worker across a call
 * to a delay station.
 *
 * Tolerances: each station is (or behaves in the mean like) an M/M/1 at its own load rho_i
 * seeing n_i customers; the relative standard error of its mean response is then about
 * acc_mm1_relse(rho_i, n_i) = sqrt(2 (1+rho_i) / n_i) / (1 - rho_i) (accuracy.h; it matches or
 * exceeds the seed-to-seed spread measured for single stations). Stations fed by a Poisson
 * stream (tandem, branch: Burke's theorem) get 5 of those standard errors, stations in a
 * feedback loop (whose arrivals are not Poisson and more correlated) 6, never below 2 %. An
 * end-to-end mean is a weighted sum of station means, so its standard error is at most the
 * weighted sum of theirs; it gets the same multiple. Rates and utilizations are counts over
 * about a million events: 1 %. */
#include "accuracy.h"

/* Tandem A -> B -> C with forward edges (p = 1, no latency), Poisson lambda = 100/s into A.
 * Each station is M/M/1 (Burke), so W_i = S_i/(1-rho_i) and e2e = sum W_i; by Reich's theorem
 * a customer's sojourns are independent, so the e2e time is hypoexponential with rates
 * mu_i - lambda and its p99 solves sum_i c_i exp(-theta_i t) = 0.01,
 * c_i = prod_{j != i} theta_j / (theta_j - theta_i). */
static double hypoexp_quantile(const double *theta, int n, double q) {
    double lo = 0, hi = 0;
    for (int i = 0; i < n; i++)
        hi += 50 / theta[i];
    for (int it = 0; it < 200; it++) {
        double t = 0.5 * (lo + hi), surv = 0;
        for (int i = 0; i < n; i++) {
            double c = 1;
            for (int j = 0; j < n; j++)
                if (j != i) c *= theta[j] / (theta[j] - theta[i]);
            surv += c * exp(-theta[i] * t);
        }
        if (surv > 1 - q)
            lo = t;
        else
            hi = t;
    }
    return 0.5 * (lo + hi);
}

static void test_tandem_jackson(void) {
    const double lambda = 100, s[3] = {0.004, 0.007, 0.008}; /* rho 0.4, 0.7, 0.8 */
    const double customers = 2e6;
    const char *ids[3] = {"a", "b", "c"};
    sim_design *d = sim_design_new("tandem");
    int k[3];
    for (int i = 0; i < 3; i++)
        k[i] = acc_station(d, ids[i], 1, SIM_UNBOUNDED, sim_dist_exp(s[i]));
    acc_edge(d, k[0], k[1], SIM_EDGE_FORWARD, 1, 0);
    acc_edge(d, k[1], k[2], SIM_EDGE_FORWARD, 1, 0);
    acc_open(d, k[0], lambda);
    double duration = customers / lambda;
    acc_out o;
    acc_run(d, duration, 0.01 * duration, 11, &o);
    if (!o.ok) goto done;
    double e2e = 0, e2e_se = 0, theta[3];
    for (int i = 0; i < 3; i++) {
        double rho = lambda * s[i], w = s[i] / (1 - rho), se = acc_mm1_relse(rho, customers);
        const sim_component_result *c = &o.c[k[i]];
        char what[64];
        snprintf(what, sizeof what, "%s: W = S/(1-rho), rho %.1f", ids[i], rho);
        acc_expect(what, c->response.mean, w, acc_tol(5, se, 0.02));
        snprintf(what, sizeof what, "%s: utilization = lambda S", ids[i]);
        acc_expect(what, c->utilization, rho, 0.01);
        snprintf(what, sizeof what, "%s: throughput = lambda", ids[i]);
        acc_expect(what, c->throughput, lambda, 0.01);
        e2e += w;
        e2e_se += w * se;
        theta[i] = 1 / s[i] - lambda;
    }
    acc_expect("e2e mean = sum S_i/(1-rho_i)", o.r.e2e.latency.mean, e2e,
               acc_tol(5, e2e_se / e2e, 0.02));
    /* The p99 of a sum is no noisier than the p99 of its largest term (M/M/1 at 0.8, 1.14 %
     * at 2M): 7 %, about 5 sd plus the histogram bucket. */
    acc_expect("e2e p99 (hypoexponential)", o.r.e2e.latency.p99, hypoexp_quantile(theta, 3, 0.99),
               0.07);
    acc_expect("e2e throughput = lambda", o.r.e2e.throughput, lambda, 0.01);
    acc_note_ci("e2e mean", o.r.e2e.latency.mean, o.r.e2e.ci.mean_half);
done:
    sim_design_free(d);
}

/* A forwards with p = 0.3 to B and p = 0.7 to C: random splitting of the Poisson departures
 * of A gives Poisson streams of 30/s and 70/s. e2e = W_A + 0.3 W_B + 0.7 W_C. */
static void test_probabilistic_branch(void) {
    const double gamma = 100, customers = 1e6;
    const double p[3] = {1, 0.3, 0.7}, s[3] = {0.005, 0.020, 0.010}; /* rho 0.5, 0.6, 0.7 */
    const char *ids[3] = {"a", "b", "c"};
    sim_design *d = sim_design_new("branch");
    int k[3];
    for (int i = 0; i < 3; i++)
        k[i] = acc_station(d, ids[i], 1, SIM_UNBOUNDED, sim_dist_exp(s[i]));
    acc_edge(d, k[0], k[1], SIM_EDGE_FORWARD, p[1], 0);
    acc_edge(d, k[0], k[2], SIM_EDGE_FORWARD, p[2], 0);
    acc_open(d, k[0], gamma);
    double duration = customers / gamma;
    acc_out o;
    acc_run(d, duration, 0.01 * duration, 12, &o);
    if (!o.ok) goto done;
    double e2e = 0, e2e_se = 0;
    for (int i = 0; i < 3; i++) {
        double lambda = gamma * p[i], rho = lambda * s[i], w = s[i] / (1 - rho);
        double se = acc_mm1_relse(rho, customers * p[i]);
        const sim_component_result *c = &o.c[k[i]];
        char what[64];
        snprintf(what, sizeof what, "%s: arrival rate = %.0f/s", ids[i], lambda);
        acc_expect(what, (double)c->arrivals / o.r.measured_time, lambda, 0.01);
        snprintf(what, sizeof what, "%s: utilization = %.1f", ids[i], rho);
        acc_expect(what, c->utilization, rho, 0.01);
        snprintf(what, sizeof what, "%s: W = S/(1-rho)", ids[i]);
        acc_expect(what, c->response.mean, w, acc_tol(5, se, 0.02));
        e2e += p[i] * w;
        e2e_se += p[i] * w * se;
    }
    acc_expect("e2e mean = W_A + 0.3 W_B + 0.7 W_C", o.r.e2e.latency.mean, e2e,
               acc_tol(5, e2e_se / e2e, 0.02));
    acc_expect("e2e throughput = gamma", o.r.e2e.throughput, gamma, 0.01);
done:
    sim_design_free(d);
}

/* A -> B (p = 1), B -> A (p = 0.2): traffic equations give lambda_A = lambda_B =
 * gamma / (1 - 0.2); Jackson's product form gives each station the M/M/1 mean
 * W_i = S_i/(1-rho_i) per visit; a customer makes 1/(1-p) visits to each, so
 * e2e = (W_A + W_B) / (1 - p). */
static void test_feedback_loop(void) {
    const double gamma = 50, pb = 0.2, lambda = gamma / (1 - pb), customers = 1e6;
    const double s[2] = {0.008, 0.012}; /* rho 0.5, 0.75 */
    const char *ids[2] = {"a", "b"};
    sim_design *d = sim_design_new("feedback");
    int k[2];
    for (int i = 0; i < 2; i++)
        k[i] = acc_station(d, ids[i], 1, SIM_UNBOUNDED, sim_dist_exp(s[i]));
    acc_edge(d, k[0], k[1], SIM_EDGE_FORWARD, 1, 0);
    acc_edge(d, k[1], k[0], SIM_EDGE_FORWARD, pb, 0);
    acc_open(d, k[0], gamma);
    double duration = customers / gamma;
    acc_out o;
    acc_run(d, duration, 0.01 * duration, 13, &o);
    if (!o.ok) goto done;
    double e2e = 0, e2e_se = 0;
    for (int i = 0; i < 2; i++) {
        double rho = lambda * s[i], w = s[i] / (1 - rho);
        double se = acc_mm1_relse(rho, customers / (1 - pb));
        const sim_component_result *c = &o.c[k[i]];
        char what[64];
        snprintf(what, sizeof what, "%s: arrival rate = gamma/(1-p)", ids[i]);
        acc_expect(what, (double)c->arrivals / o.r.measured_time, lambda, 0.01);
        snprintf(what, sizeof what, "%s: utilization = %.2f", ids[i], rho);
        acc_expect(what, c->utilization, rho, 0.01);
        snprintf(what, sizeof what, "%s: W per visit = S/(1-rho)", ids[i]);
        acc_expect(what, c->response.mean, w, acc_tol(6, se, 0.02));
        e2e += w / (1 - pb);
        e2e_se += w / (1 - pb) * se;
    }
    acc_expect("e2e mean = (W_A + W_B)/(1-p)", o.r.e2e.latency.mean, e2e,
               acc_tol(6, e2e_se / e2e, 0.02));
    acc_expect("e2e throughput = gamma", o.r.e2e.throughput, gamma, 0.01);
done:
    sim_design_free(d);
}

/* A (1 worker, exponential 5 ms) calls D (infinite servers, constant 5 ms) over an edge of
 * 1 ms each way and holds its worker throughout: A's holding time is exp(5 ms) + 7 ms, i.e.
 * mean 12 ms, variance (5 ms)^2, and A is an M/G/1 queue (D never queues).
 * P-K: Wq = lambda E[H^2] / (2 (1-rho)), E[H^2] = 25e-6 + 144e-6 s^2; at lambda 50/s,
 * rho = 0.6, Wq = 10.5625 ms, W = 22.5625 ms. The holding time is less variable than an
 * exponential one, so the M/M/1 standard error at rho 0.6 over 1M customers (0.45 %) bounds
 * it: 3 % is more than 6 of those. D's response is exactly 5 ms (0.1 %); its mean
 * concurrency is lambda * 5 ms (a count average over 1M customers: 1 %). */
static void test_call_holding(void) {
    const double lambda = 50, sa = 0.005, sd = 0.005, lat = 0.001, customers = 1e6;
    const double h = sa + sd + 2 * lat, eh2 = sa * sa + h * h, rho = lambda * h;
    const double wq = lambda * eh2 / (2 * (1 - rho));
    sim_design *d = sim_design_new("call_holding");
    int a = acc_station(d, "a", 1, SIM_UNBOUNDED, sim_dist_exp(sa));
    int b = acc_station(d, "delay", SIM_INFINITE_SERVERS, SIM_UNBOUNDED, sim_dist_const(sd));
    acc_edge(d, a, b, SIM_EDGE_CALL, 1, lat);
    acc_open(d, a, lambda);
    double duration = customers / lambda;
    acc_out o;
    acc_run(d, duration, 0.01 * duration, 14, &o);
    if (!o.ok) goto done;
    const sim_component_result *ca = &o.c[a], *cb = &o.c[b];
    acc_expect("a: utilization = lambda * holding", ca->utilization, rho, 0.01);
    acc_expect("a: mean wait Wq (P-K on holding time)", ca->mean_wait, wq, 0.05);
    acc_expect("a: mean response W = Wq + holding", ca->response.mean, wq + h, 0.03);
    acc_expect("delay: response = 5 ms", cb->response.mean, sd, 0.001);
    acc_expect("delay: mean in system = lambda * 5 ms", cb->mean_in_system, lambda * sd, 0.01);
    acc_expect("delay: throughput = lambda", cb->throughput, lambda, 0.01);
    acc_expect_abs("delay: utilization (delay station) = 0", cb->utilization, 0, 1e-12);
    acc_expect("e2e mean = W at a", o.r.e2e.latency.mean, wq + h, 0.03);
done:
    sim_design_free(d);
}

TEST_MAIN(TEST(test_tandem_jackson), TEST(test_probabilistic_branch), TEST(test_feedback_loop),
          TEST(test_call_holding))
