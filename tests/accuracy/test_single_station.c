/* Single stations against exact queueing formulas: M/M/1, M/M/c (Erlang C), M/G/1
 * (Pollaczek-Khinchine: deterministic, hyperexponential and lognormal service), M/M/1/K and
 * M/E4/1, M/M/c/K blocking, and replicas behind random splitting (each an M/M/1).
 *
 * How the tolerances were sized. The sample mean of a queue's response times is strongly
 * autocorrelated, so its error is far larger than sd/sqrt(n). We measured the seed-to-seed
 * relative standard deviation (12 seeds) of the estimators with a 40-line Lindley /
 * Kiefer-Wolfowitz recursion outside this repository (same distributions), and checked it
 * against this engine's own spread over 8 seeds at 1M customers (in brackets):
 *   M/M/1  rho 0.5, 1M customers:  mean W 0.32 %, p99 0.62 %
 *   M/M/1  rho 0.8, 2M customers:  mean W 0.76 %, p99 1.14 %
 *   M/M/1  rho 0.9, 1M customers:  mean W 1.91 % [2.42 %], p99 2.35 %; at 4M: ~1 %, 1.22 %
 *   M/M/4  rho 0.8, 2M customers:  mean W 0.55 % (1.3 % of Wq)
 *   M/D/1  rho 0.8, 1M customers:  mean W 0.51 %
 *   M/H2/1 rho 0.7 scv 4, 1M:      mean W 1.15 % [1.24 %], so ~0.72 % at 3M
 *   M/LN/1 rho 0.8 scv 2, 1M:      mean W 1.52 % [1.64 %], so ~0.95 % at 3M
 * This agrees with the asymptotic variance of M/M/1 (Whitt): the relative standard error of
 * the mean over n customers is sqrt(2(1+rho)/n)/(1-rho) (accuracy.h, acc_mm1_relse): 0.35 %
 * at rho 0.5 and 1M, 0.97 % at rho 0.9 and 4M. Each tolerance is 4.5 to 5 of those standard
 * deviations (a correct engine fails a check with probability around 1e-5, and a fixed seed
 * makes the outcome reproducible), plus 0.8 % for the histogram's bucket width on
 * percentiles. Utilization and throughput are sums of nearly independent terms: their
 * relative error is about sqrt(2/n) and 1/sqrt(n), 0.15 % at 1M; 1 % is ample. */
#include "accuracy.h"

#define S_MEAN 0.010 /* seconds: the mean service time of most cases */

/* M/M/1: W = S/(1-rho), L = rho/(1-rho), U = rho, X = lambda, and the response time is
 * exponential with rate mu - lambda, so its p99 is -ln(0.01) S/(1-rho). */
static void mm1(double rho, double customers, double tol_mean, double tol_p99) {
    double lambda = rho / S_MEAN;
    sim_design *d = sim_design_new("mm1");
    int a = acc_station(d, "server", 1, SIM_UNBOUNDED, sim_dist_exp(S_MEAN));
    acc_open(d, a, lambda);
    double duration = customers / lambda;
    acc_out o;
    acc_run(d, duration, 0.01 * duration, 1, &o);
    if (o.ok) {
        const sim_component_result *c = &o.c[a];
        double w = S_MEAN / (1 - rho);
        acc_expect("mean response W = S/(1-rho)", c->response.mean, w, tol_mean);
        acc_expect("mean number L = rho/(1-rho)", c->mean_in_system, rho / (1 - rho), tol_mean);
        acc_expect("mean wait Wq = rho S/(1-rho)", c->mean_wait, rho * w, tol_mean / rho);
        acc_expect("utilization = rho", c->utilization, rho, 0.01);
        acc_expect("throughput = lambda", c->throughput, lambda, 0.01);
        acc_expect("p99 response = ln(100) S/(1-rho)", c->response.p99, log(100.0) * w, tol_p99);
        acc_expect("p50 response = ln(2) S/(1-rho)", c->response.p50, log(2.0) * w, tol_p99);
        acc_expect("e2e mean = W", o.r.e2e.latency.mean, w, tol_mean);
        acc_note_ci("mean response", c->response.mean, c->ci.mean_half);
    }
    sim_design_free(d);
}

/* sigma: 0.32 % (mean), 0.62 % (p99) -> 2 % and 3 %. */
static void test_mm1_rho_0_5(void) {
    mm1(0.5, 1e6, 0.02, 0.03);
}
/* sigma: 0.76 %, 1.14 % -> 3.5 % and 7 %. */
static void test_mm1_rho_0_8(void) {
    mm1(0.8, 2e6, 0.035, 0.07);
}
/* sigma: ~1 % (Whitt 0.97 %), 1.22 % -> 5 % and 7 %. */
static void test_mm1_rho_0_9(void) {
    mm1(0.9, 4e6, 0.05, 0.07);
}

/* Erlang C: the probability that an arrival waits in an M/M/c queue with offered load a. */
static double erlang_c(int c, double a) {
    double term = 1, sum = 0; /* term = a^k / k! */
    for (int k = 0; k < c; k++) {
        sum += term;
        term *= a / (k + 1);
    }
    double top = term * c / (c - a);
    return top / (sum + top);
}

/* M/M/4 at rho 0.8: Wq = C/(c mu - lambda), W = Wq + S, Lq = lambda Wq, U = rho.
 * sigma of W 0.55 %, i.e. 1.3 % of Wq -> W 3 %, Wq and Lq 6 %. */
static void test_mmc_erlang_c(void) {
    const int c = 4;
    const double rho = 0.8, mu = 1 / S_MEAN, lambda = rho * c * mu;
    double pw = erlang_c(c, lambda / mu);
    double wq = pw / (c * mu - lambda);
    printf("  Erlang C(4, 3.2) = %.6f (probability of waiting)\n", pw);
    sim_design *d = sim_design_new("mmc");
    int a = acc_station(d, "server", c, SIM_UNBOUNDED, sim_dist_exp(S_MEAN));
    acc_open(d, a, lambda);
    double duration = 2e6 / lambda;
    acc_out o;
    acc_run(d, duration, 0.01 * duration, 2, &o);
    if (o.ok) {
        const sim_component_result *k = &o.c[a];
        acc_expect("mean wait Wq = C/(c mu - lambda)", k->mean_wait, wq, 0.06);
        acc_expect("mean response W = Wq + S", k->response.mean, wq + S_MEAN, 0.03);
        acc_expect("mean queue Lq = lambda Wq", k->mean_queue, lambda * wq, 0.06);
        acc_expect("mean number L = lambda W", k->mean_in_system, lambda * (wq + S_MEAN), 0.03);
        acc_expect("utilization = rho", k->utilization, rho, 0.01);
        acc_expect("throughput = lambda", k->throughput, lambda, 0.01);
        acc_note_ci("mean response", k->response.mean, k->ci.mean_half);
    }
    sim_design_free(d);
}

/* M/G/1 by Pollaczek-Khinchine: Wq = lambda E[S^2] / (2 (1-rho)), E[S^2] = (1+scv) S^2. */
static void mg1(const char *name, sim_dist service, double scv, double rho, double customers,
                uint64_t seed, double tol_w, double tol_wq) {
    double lambda = rho / service.mean;
    double es2 = (1 + scv) * service.mean * service.mean;
    double wq = lambda * es2 / (2 * (1 - rho));
    sim_design *d = sim_design_new(name);
    int a = acc_station(d, "server", 1, SIM_UNBOUNDED, service);
    acc_open(d, a, lambda);
    double duration = customers / lambda;
    acc_out o;
    acc_run(d, duration, 0.01 * duration, seed, &o);
    if (o.ok) {
        const sim_component_result *c = &o.c[a];
        acc_expect("mean wait Wq (P-K)", c->mean_wait, wq, tol_wq);
        acc_expect("mean response W = Wq + S", c->response.mean, wq + service.mean, tol_w);
        acc_expect("mean number L = lambda W", c->mean_in_system, lambda * (wq + service.mean),
                   tol_w);
        acc_expect("utilization = rho", c->utilization, rho, 0.01);
        acc_note_ci("mean response", c->response.mean, c->ci.mean_half);
    }
    sim_design_free(d);
}

/* M/D/1 at rho 0.8: sigma of W 0.51 % (0.77 % of Wq) -> W 2.5 %, Wq 4 %. */
static void test_md1(void) {
    mg1("md1", sim_dist_const(S_MEAN), 0, 0.8, 1e6, 3, 0.025, 0.04);
}

/* M/H2/1, scv 4, rho 0.7, 3M: sigma of W ~0.72 % (0.84 % of Wq) -> W 3.5 %, Wq 4 %. */
static void test_mg1_hyperexp_scv4(void) {
    sim_dist s = acc_dist(SIM_DIST_HYPEREXP, S_MEAN, 4);
    mg1("mh2_1", s, 4, 0.7, 3e6, 4, 0.035, 0.04);
}

/* M/LN/1, scv 2, rho 0.8, 3M: sigma of W ~0.95 % (1.1 % of Wq) -> W 4.5 %, Wq 5 %. */
static void test_mg1_lognormal_scv2(void) {
    sim_dist s = acc_dist(SIM_DIST_LOGNORMAL, S_MEAN, 2);
    mg1("mln_1", s, 2, 0.8, 3e6, 5, 0.045, 0.05);
}

/* M/E4/1 (Erlang, 4 phases, scv 1/4), rho 0.8, 2M customers. Measured sigma of W: 0.34 %
 * (Lindley, 12 seeds at 2M) and 0.66 % (this engine, 8 seeds at 1M, i.e. ~0.47 % at 2M).
 * Wq is 5/7 of W and has W's absolute error: 0.66 % of Wq. -> W 3 %, Wq 4.5 %. */
static void test_mg1_erlang4(void) {
    sim_dist s;
    memset(&s, 0, sizeof s);
    s.kind = SIM_DIST_ERLANG;
    s.mean = S_MEAN;
    s.k = 4;
    s.scv = 0.25;
    char err[256] = "";
    CHECK(sim_dist_prepare(&s, err, sizeof err) == 0);
    mg1("me4_1", s, 0.25, 0.8, 2e6, 10, 0.03, 0.045);
}

/* Stationary distribution of M/M/c/K (K = c + queue places in all) into p[0..K]. */
static void mmck_dist(int c, int k, double a, double *p) {
    double sum = 0;
    p[0] = 1;
    for (int n = 1; n <= k; n++)
        p[n] = p[n - 1] * a / (n <= c ? n : c);
    for (int n = 0; n <= k; n++)
        sum += p[n];
    for (int n = 0; n <= k; n++)
        p[n] /= sum;
}

/* M/M/c/K: drop fraction = p_K (PASTA), throughput = lambda (1 - p_K),
 * L = sum n p_n, W = L / throughput (Little, over admitted requests), U = busy servers / c.
 * The state space is small (K+1 states), so the chain mixes in a few dozen service times and
 * the estimators behave almost like independent samples: with 1M arrivals the drop fraction
 * (about 0.1) has a relative standard error near sqrt((1-p)/(p n)) = 0.3 %, a few times that
 * with the short correlation; 3 % for p_K, W and L, 1 % for throughput and utilization. */
static void mmck(const char *name, int c, int k, double rho, double arrivals, uint64_t seed) {
    double mu = 1 / S_MEAN, lambda = rho * c * mu, a = lambda / mu;
    double p[64];
    mmck_dist(c, k, a, p);
    double l = 0, busy = 0;
    for (int n = 0; n <= k; n++) {
        l += n * p[n];
        busy += (n < c ? n : c) * p[n];
    }
    double x = lambda * (1 - p[k]);
    if (c == 1) { /* the closed form of the brief, as a check on the recursion above */
        double pk = (1 - rho) * pow(rho, k) / (1 - pow(rho, k + 1));
        CHECK_REL(p[k], pk, 1e-12);
    }
    sim_design *d = sim_design_new(name);
    int s = acc_station(d, "server", c, k - c, sim_dist_exp(S_MEAN));
    acc_open(d, s, lambda);
    double duration = arrivals / lambda;
    acc_out o;
    acc_run(d, duration, 0.01 * duration, seed, &o);
    if (o.ok) {
        const sim_component_result *q = &o.c[s];
        double drop = q->arrivals ? (double)q->dropped / (double)q->arrivals : NAN;
        acc_expect("drop fraction = P_K", drop, p[k], 0.03);
        acc_expect("throughput = lambda (1 - P_K)", q->throughput, x, 0.01);
        acc_expect("mean number L = sum n p_n", q->mean_in_system, l, 0.03);
        acc_expect("mean response W = L / X", q->response.mean, l / x, 0.03);
        acc_expect("utilization = E[busy] / c", q->utilization, busy / c, 0.01);
        acc_expect("arrival rate = lambda", (double)q->arrivals / o.r.measured_time, lambda, 0.01);
    }
    sim_design_free(d);
}

/* M/M/1/5 (1 worker, queue_cap 4) at rho 0.9: P_5 = 0.1 * 0.9^5 / (1 - 0.9^6) = 0.1260. */
static void test_mm1k_rho_0_9(void) {
    mmck("mm1k", 1, 5, 0.9, 1e6, 6);
}
/* M/M/1/3 overloaded at rho 1.5: P_3 = 0.4154; a finite queue is stable at any load. */
static void test_mm1k_overloaded(void) {
    mmck("mm1k_over", 1, 3, 1.5, 1e6, 7);
}
/* M/M/2/6 (2 workers, queue_cap 4) at rho 0.9. */
static void test_mmck_c2_k6(void) {
    mmck("mmck", 2, 6, 0.9, 1e6, 8);
}

/* Three replicas with the random policy: random splitting of a Poisson stream gives three
 * independent Poisson streams of lambda/3, so each replica is an M/M/1 at rho 0.8 and the
 * component's response distribution is that of one M/M/1. 2M customers in all (667k per
 * replica, averaged over three): sigma as one M/M/1 at 2M, 0.76 % / 1.14 % -> 3.5 % / 7 %.
 * L is the whole component's: lambda W = 3 rho/(1-rho) by Little. */
static void test_replicas_random_split(void) {
    const double rho = 0.8, lambda = 3 * rho / S_MEAN;
    sim_design *d = sim_design_new("replicas_random");
    sim_component c = sim_component_defaults("api");
    c.replicas = 3;
    c.workers = 1;
    c.queue_cap = SIM_UNBOUNDED;
    c.service = sim_dist_exp(S_MEAN);
    c.policy = SIM_POLICY_RANDOM;
    int a = sim_design_add_component(d, &c);
    acc_open(d, a, lambda);
    double duration = 2e6 / lambda;
    acc_out o;
    acc_run(d, duration, 0.01 * duration, 9, &o);
    if (o.ok) {
        const sim_component_result *k = &o.c[a];
        double w = S_MEAN / (1 - rho);
        acc_expect("mean response W = S/(1-rho)", k->response.mean, w, 0.035);
        acc_expect("p99 response = ln(100) S/(1-rho)", k->response.p99, log(100.0) * w, 0.07);
        acc_expect("utilization = rho", k->utilization, rho, 0.01);
        acc_expect("mean number L = 3 rho/(1-rho)", k->mean_in_system, lambda * w, 0.035);
        acc_expect("throughput = lambda", k->throughput, lambda, 0.01);
    }
    sim_design_free(d);
}

TEST_MAIN(TEST(test_mm1_rho_0_5), TEST(test_mm1_rho_0_8), TEST(test_mm1_rho_0_9),
          TEST(test_mmc_erlang_c), TEST(test_md1), TEST(test_mg1_hyperexp_scv4),
          TEST(test_mg1_lognormal_scv2), TEST(test_mg1_erlang4), TEST(test_mm1k_rho_0_9),
          TEST(test_mm1k_overloaded), TEST(test_mmck_c2_k6), TEST(test_replicas_random_split))
