/* Distributions: each one's sample mean and scv against the parameters it was given, a
 * shape check beyond the moments, determinism, and the reasons prepare gives for bad input.
 *
 * N = 2*10^6 samples per distribution. Tolerances: mean within 1 % (the worst standard error
 * here, hyperexp scv 4, is sqrt(4 / N) = 0.14 % of the mean: 7 standard errors), scv within
 * 5 % (the standard error of a sample scv is largest for hyperexp scv 4 and lognormal
 * scv 1, about 1 % and 1.5 %: more than 3 standard errors). */
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "test.h"

#define N 2000000

typedef struct moments {
    double mean, scv, min, max;
} moments;

static moments sample_moments(const sim_dist *d, uint64_t seed) {
    sim_rng r;
    sim_rng_seed(&r, seed);
    double sum = 0, sum2 = 0, lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < N; i++) {
        double x = sim_dist_sample(d, &r);
        sum += x, sum2 += x * x;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
    }
    moments m = {sum / N, 0, lo, hi};
    m.scv = (sum2 / N - m.mean * m.mean) / (m.mean * m.mean);
    return m;
}

static sim_dist make(sim_dist_kind kind, double mean, double scv, int k) {
    sim_dist d;
    memset(&d, 0, sizeof d);
    d.kind = kind, d.mean = mean, d.scv = scv, d.k = k;
    return d;
}

/* Prepares, samples, and checks mean (1 %), scv (5 %) and that no sample is negative. */
static void check_moments(sim_dist d, double want_scv) {
    char err[128] = "";
    CHECK(sim_dist_prepare(&d, err, sizeof err) == 0);
    moments m = sample_moments(&d, 12345);
    CHECK_REL(m.mean, d.mean, 0.01);
    CHECK_REL(m.scv, want_scv, 0.05);
    CHECK(m.min >= 0);
}

static void const_is_exact(void) {
    sim_dist d = sim_dist_const(0.004);
    sim_rng r;
    sim_rng_seed(&r, 1);
    for (int i = 0; i < 10; i++)
        CHECK(sim_dist_sample(&d, &r) == 0.004);
    sim_dist z = sim_dist_const(0);
    char err[64];
    CHECK(sim_dist_prepare(&z, err, sizeof err) == 0);
    CHECK(sim_dist_sample(&z, &r) == 0);
}

static void exp_moments_and_tail(void) {
    check_moments(sim_dist_exp(0.001), 1);
    /* P(X > mean) = e^-1 for an exponential; standard error sqrt(p(1-p)/N) = 3.4e-4. */
    sim_dist d = sim_dist_exp(2.0);
    sim_rng r;
    sim_rng_seed(&r, 3);
    int above = 0;
    for (int i = 0; i < N; i++)
        above += sim_dist_sample(&d, &r) > 2.0;
    CHECK_NEAR((double)above / N, exp(-1), 0.0015);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The ziggurat's exponential against its CDF 1 - e^-x: Kolmogorov-Smirnov over 10^6 samples,
 * sqrt(n) D < 1.95 (p = 0.001); and the tail beyond the ziggurat's base (R = 7.7):
 * P(X > 9) = e^-9, 246 expected in 2*10^6, standard deviation 15.7, tolerance 5 of them. */
static void exp1_matches_cdf_and_tail(void) {
    enum { NKS = 1000000 };
    static double xs[NKS];
    sim_rng r;
    sim_rng_seed(&r, 17);
    for (int i = 0; i < NKS; i++)
        xs[i] = sim_dist_exp1(&r);
    qsort(xs, NKS, sizeof xs[0], cmp_double);
    double dmax = 0;
    for (int i = 0; i < NKS; i++) {
        double f = 1 - exp(-xs[i]);
        double d1 = fabs(f - (double)i / NKS), d2 = fabs((double)(i + 1) / NKS - f);
        if (d1 > dmax) dmax = d1;
        if (d2 > dmax) dmax = d2;
    }
    CHECK(sqrt(NKS) * dmax < 1.95);
    int tail = 0;
    for (int i = 0; i < N; i++)
        tail += sim_dist_exp1(&r) > 9;
    CHECK_NEAR(tail, N * exp(-9), 5 * sqrt(N * exp(-9)));
}

/* The normal ziggurat against Phi: Kolmogorov-Smirnov over 10^6 samples (sqrt(n) D < 1.95,
 * p = 0.001), mean 0 and variance 1 (5 standard errors), and the tail beyond the base layer
 * (R = 3.65): P(|Z| > 3.8) = 1.447e-4, 289 expected in 2*10^6, tolerance 5 sd (85). */
static void normal1_matches_cdf_and_tail(void) {
    enum { NKS = 1000000 };
    static double xs[NKS];
    sim_rng r;
    sim_rng_seed(&r, 23);
    double sum = 0, sum2 = 0;
    for (int i = 0; i < NKS; i++) {
        xs[i] = sim_dist_normal1(&r);
        sum += xs[i], sum2 += xs[i] * xs[i];
    }
    CHECK_NEAR(sum / NKS, 0, 5 / sqrt(NKS));
    CHECK_NEAR(sum2 / NKS, 1, 5 * sqrt(2.0 / NKS));
    qsort(xs, NKS, sizeof xs[0], cmp_double);
    double dmax = 0;
    for (int i = 0; i < NKS; i++) {
        double f = 0.5 * erfc(-xs[i] / sqrt(2));
        double d1 = fabs(f - (double)i / NKS), d2 = fabs((double)(i + 1) / NKS - f);
        if (d1 > dmax) dmax = d1;
        if (d2 > dmax) dmax = d2;
    }
    CHECK(sqrt(NKS) * dmax < 1.95);
    int tail = 0;
    for (int i = 0; i < N; i++)
        tail += fabs(sim_dist_normal1(&r)) > 3.8;
    double p = erfc(3.8 / sqrt(2));
    CHECK_NEAR(tail, N * p, 5 * sqrt(N * p));
}

static void erlang_moments(void) {
    check_moments(make(SIM_DIST_ERLANG, 0.01, 0, 4), 0.25);
    check_moments(make(SIM_DIST_ERLANG, 0.01, 0, 1), 1);
    check_moments(make(SIM_DIST_ERLANG, 3.0, 0, 50), 0.02);
    /* k = 1000, the product-of-uniforms path: 20,000 samples (each is 1,000 draws); the
     * standard error of the sample scv is about sqrt(2 / 20000) = 1 % of it: 5 % is 5 sd, and
     * of the mean sqrt(0.001 / 20000) = 0.02 %. */
    sim_dist big = make(SIM_DIST_ERLANG, 3.0, 0, 1000);
    CHECK(sim_dist_prepare(&big, NULL, 0) == 0);
    sim_rng r;
    sim_rng_seed(&r, 6);
    double sum = 0, sum2 = 0;
    for (int i = 0; i < 20000; i++) {
        double x = sim_dist_sample(&big, &r);
        sum += x, sum2 += x * x;
    }
    double mean = sum / 20000;
    CHECK_REL(mean, 3.0, 0.002);
    CHECK_REL((sum2 / 20000 - mean * mean) / (mean * mean), 0.001, 0.05);
    /* k derived from scv = 1/k when k is not given. */
    sim_dist d = make(SIM_DIST_ERLANG, 1, 0.5, 0);
    CHECK(sim_dist_prepare(&d, NULL, 0) == 0);
    CHECK(d.k == 2);
}

static void hyperexp_moments(void) {
    check_moments(make(SIM_DIST_HYPEREXP, 0.005, 4, 0), 4);
    check_moments(make(SIM_DIST_HYPEREXP, 0.005, 1.5, 0), 1.5);
    /* Balanced means: each phase contributes half of the mean, p1 / rate1 = mean / 2. */
    sim_dist d = make(SIM_DIST_HYPEREXP, 2, 4, 0);
    CHECK(sim_dist_prepare(&d, NULL, 0) == 0);
    CHECK_NEAR(d.a * d.b, 1.0, 1e-12);
    CHECK_NEAR((1 - d.a) * d.c, 1.0, 1e-12);
}

static void lognormal_moments_and_median(void) {
    check_moments(make(SIM_DIST_LOGNORMAL, 0.02, 1, 0), 1);
    check_moments(make(SIM_DIST_LOGNORMAL, 0.02, 0.25, 0), 0.25);
    /* The median is exp(mu) = mean / sqrt(1 + scv): half the samples lie below it. */
    sim_dist d = make(SIM_DIST_LOGNORMAL, 1, 0.5, 0);
    CHECK(sim_dist_prepare(&d, NULL, 0) == 0);
    double median = 1 / sqrt(1.5);
    sim_rng r;
    sim_rng_seed(&r, 8);
    int below = 0;
    for (int i = 0; i < N; i++)
        below += sim_dist_sample(&d, &r) < median;
    CHECK_NEAR((double)below / N, 0.5, 0.0015);
}

static void uniform_moments_and_bounds(void) {
    check_moments(make(SIM_DIST_UNIFORM, 0.01, 0.2, 0), 0.2);
    /* scv 1/3 is the widest: [0, 2 mean]. */
    sim_dist d = make(SIM_DIST_UNIFORM, 1, 1.0 / 3, 0);
    CHECK(sim_dist_prepare(&d, NULL, 0) == 0);
    moments m = sample_moments(&d, 4);
    CHECK(m.min >= 0 && m.min < 0.001);
    CHECK(m.max <= 2 && m.max > 1.999);
    CHECK_REL(m.scv, 1.0 / 3, 0.05);
}

static void empirical_moments(void) {
    static const double v[] = {1, 2, 3, 10};
    sim_dist d = make(SIM_DIST_EMPIRICAL, 0, 0, 0);
    d.values = v, d.nvalues = 4;
    CHECK(sim_dist_prepare(&d, NULL, 0) == 0);
    /* mean 4; population variance (9 + 4 + 1 + 36) / 4 = 12.5; scv 12.5 / 16. */
    CHECK_NEAR(d.mean, 4, 1e-12);
    CHECK_NEAR(d.scv, 12.5 / 16, 1e-12);
    check_moments(d, 12.5 / 16);
    sim_rng r;
    sim_rng_seed(&r, 2);
    int only_values = 1;
    for (int i = 0; i < 1000; i++) {
        double x = sim_dist_sample(&d, &r);
        only_values &= x == 1 || x == 2 || x == 3 || x == 10;
    }
    CHECK(only_values);
}

static void same_seed_same_samples(void) {
    for (int kind = 0; kind < SIM_DIST_KIND_COUNT - 1; kind++) {
        sim_dist d = make((sim_dist_kind)kind, 1, kind == SIM_DIST_HYPEREXP ? 2 : 0.25, 3);
        CHECK(sim_dist_prepare(&d, NULL, 0) == 0);
        sim_rng a, b;
        sim_rng_seed(&a, 77);
        sim_rng_seed(&b, 77);
        int same = 1;
        for (int i = 0; i < 1000; i++)
            same &= sim_dist_sample(&d, &a) == sim_dist_sample(&d, &b);
        CHECK(same);
    }
}

/* prepare must refuse, and its reason must contain `reason`. */
static void check_rejects(sim_dist d, const char *reason) {
    char err[128] = "";
    CHECK(sim_dist_prepare(&d, err, sizeof err) == -1);
    if (!strstr(err, reason)) {
        fprintf(stderr, "  reason '%s' does not mention '%s'\n", err, reason);
        CHECK(0);
    }
}

static void bad_parameters_are_refused(void) {
    check_rejects(make(SIM_DIST_LOGNORMAL, 1, 0, 0), "lognormal needs scv > 0");
    check_rejects(make(SIM_DIST_EXP, NAN, 1, 0), "finite mean");
    check_rejects(make(SIM_DIST_EXP, INFINITY, 1, 0), "finite mean");
    check_rejects(make(SIM_DIST_CONST, -1, 0, 0), "mean >= 0");
    check_rejects(make(SIM_DIST_HYPEREXP, 1, 0.5, 0), "hyperexp needs scv >= 1");
    check_rejects(make(SIM_DIST_UNIFORM, 1, 0.5, 0), "uniform needs scv <= 1/3");
    check_rejects(make(SIM_DIST_ERLANG, 1, 0, 0), "erlang needs k >= 1");
    check_rejects(make(SIM_DIST_ERLANG, 1, 0, 1001), "erlang needs k <= 1000");
    check_rejects(make(SIM_DIST_LOGNORMAL, 1, NAN, 0), "finite scv");
    check_rejects(make((sim_dist_kind)42, 1, 1, 0), "unknown distribution");
    sim_dist e = make(SIM_DIST_EMPIRICAL, 0, 0, 0);
    check_rejects(e, "at least one value");
    static const double neg[] = {1, -2};
    e.values = neg, e.nvalues = 2;
    check_rejects(e, "value 2");
}

static void names_round_trip(void) {
    static const char *names[] = {"const",     "exp",     "erlang",   "hyperexp",
                                  "lognormal", "uniform", "empirical"};
    for (int k = 0; k < SIM_DIST_KIND_COUNT; k++) {
        CHECK(strcmp(sim_dist_kind_name((sim_dist_kind)k), names[k]) == 0);
        CHECK(sim_dist_kind_parse(names[k]) == k);
    }
    CHECK(sim_dist_kind_parse("normal") == -1);
    CHECK(sim_dist_kind_parse(NULL) == -1);
}

TEST_MAIN(TEST(const_is_exact), TEST(exp_moments_and_tail), TEST(exp1_matches_cdf_and_tail),
          TEST(normal1_matches_cdf_and_tail), TEST(erlang_moments), TEST(hyperexp_moments),
          TEST(lognormal_moments_and_median), TEST(uniform_moments_and_bounds),
          TEST(empirical_moments), TEST(same_seed_same_samples), TEST(bad_parameters_are_refused),
          TEST(names_round_trip))
