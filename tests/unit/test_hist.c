/* The latency histogram: quantiles against the exact quantiles of a sorted sample, the
 * precision bound over the whole range, merge, edge cases, and its size. */
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "hist.h"
#include "test.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The exact q-quantile with the histogram's rank convention: the ceil(q n)-th smallest. */
static double exact_quantile(const double *sorted, int n, double q) {
    long rank = (long)ceil(q * n);
    if (rank < 1) rank = 1;
    return sorted[rank - 1];
}

#define NS 200000
static double sample[NS];

/* Lognormal latencies (mean 10 ms, scv 2): spread over many powers of two. Each quantile must
 * be within 1 % of the exact one (the bucket bound is 1/128 = 0.78 %). */
static void quantiles_match_sorted_sample(void) {
    sim_dist d;
    memset(&d, 0, sizeof d);
    d.kind = SIM_DIST_LOGNORMAL, d.mean = 0.010, d.scv = 2;
    CHECK(sim_dist_prepare(&d, NULL, 0) == 0);
    sim_rng r;
    sim_rng_seed(&r, 11);
    static sim_hist h;
    sim_hist_reset(&h);
    double sum = 0;
    for (int i = 0; i < NS; i++) {
        sample[i] = sim_dist_sample(&d, &r);
        sum += sample[i];
        sim_hist_record(&h, sample[i]);
    }
    qsort(sample, NS, sizeof sample[0], cmp_double);
    static const double qs[] = {0.0001, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9999};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        CHECK_REL(sim_hist_quantile(&h, qs[i]), exact_quantile(sample, NS, qs[i]), 0.01);
    CHECK(h.count == NS);
    CHECK_REL(sim_hist_mean(&h), sum / NS, 1e-12);
    CHECK(h.max == sample[NS - 1]);
    CHECK(sim_hist_quantile(&h, 1.0) == sample[NS - 1]);
}

/* One value v with a much larger one beside it (so the max does not clamp): the median is
 * v's bucket midpoint, within 1/128 of v, for v from 1 us to an hour. */
static void precision_bound_over_the_range(void) {
    static sim_hist h;
    double worst = 0;
    for (double v = 1e-6; v < 3600; v *= 1.0137) {
        sim_hist_reset(&h);
        sim_hist_record(&h, v);
        sim_hist_record(&h, 4000);
        double err = fabs(sim_hist_quantile(&h, 0.5) - v) / v;
        if (err > worst) worst = err;
    }
    CHECK(worst <= 1.0 / 128 + 1e-12);
    CHECK(worst > 0.003); /* the sweep did reach bucket edges */
}

static void merge_equals_recording_everything(void) {
    static sim_hist all, a, b;
    sim_hist_reset(&all), sim_hist_reset(&a), sim_hist_reset(&b);
    sim_rng r;
    sim_rng_seed(&r, 5);
    sim_dist d = sim_dist_exp(0.002);
    for (int i = 0; i < 100000; i++) {
        double x = sim_dist_sample(&d, &r);
        sim_hist_record(&all, x);
        sim_hist_record(i % 3 ? &a : &b, x);
    }
    sim_hist_merge(&a, &b);
    CHECK(a.count == all.count);
    CHECK(a.max == all.max);
    CHECK_REL(a.sum, all.sum, 1e-12);
    CHECK(memcmp(a.counts, all.counts, sizeof a.counts) == 0);
    CHECK(sim_hist_quantile(&a, 0.99) == sim_hist_quantile(&all, 0.99));
    /* Merging an empty histogram changes nothing. */
    sim_hist_reset(&b);
    sim_hist_merge(&a, &b);
    CHECK(a.count == all.count);
}

static void edge_cases(void) {
    static sim_hist h;
    sim_hist_reset(&h);
    CHECK(sim_hist_quantile(&h, 0.5) == 0);
    CHECK(sim_hist_mean(&h) == 0);
    /* Sub-microsecond values land in the first bucket; the report is clamped to the max. */
    sim_hist_record(&h, 2e-7);
    sim_hist_record(&h, 0);
    CHECK(h.counts[0] == 2);
    CHECK(sim_hist_quantile(&h, 0.99) == 2e-7);
    /* Beyond 2^32 us (71.6 minutes): the last bucket, reported as the exact max. */
    sim_hist_reset(&h);
    sim_hist_record(&h, 1e5);
    sim_hist_record(&h, 1e6);
    CHECK(h.counts[SIM_HIST_BUCKETS - 1] == 2);
    CHECK(sim_hist_quantile(&h, 0.5) == 1e6);
    /* Ranks: 4 values, q = 0.5 is the 2nd smallest, q = 0.51 the 3rd, q = 0 the 1st. */
    sim_hist_reset(&h);
    double v[] = {0.001, 0.002, 0.004, 0.008};
    for (int i = 0; i < 4; i++)
        sim_hist_record(&h, v[i]);
    CHECK_REL(sim_hist_quantile(&h, 0.5), 0.002, 1.0 / 128);
    CHECK_REL(sim_hist_quantile(&h, 0.51), 0.004, 1.0 / 128);
    CHECK_REL(sim_hist_quantile(&h, 0), 0.001, 1.0 / 128);
    CHECK(sim_hist_quantile(&h, 1) == 0.008);
}

/* The straightforward definition: scan up from bucket 0 to the one holding rank ceil(q n),
 * report its midpoint (1 + (m + 1/2) / 64) 2^e us, clamped to the max; the last bucket
 * reports the max. */
static double reference_quantile(const sim_hist *h, double q) {
    if (h->count == 0) return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)h->count), seen = 0;
    if (rank < 1) rank = 1;
    for (int i = 0; i < SIM_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen < rank) continue;
        if (i == SIM_HIST_BUCKETS - 1) return h->max;
        int e = i / SIM_HIST_SUB, m = i % SIM_HIST_SUB;
        double v = ldexp(1 + (m + 0.5) / SIM_HIST_SUB, e) * 1e-6;
        return v < h->max ? v : h->max;
    }
    return h->max;
}

/* The histogram scans down from the max's bucket; it must agree exactly with the reference
 * for every q in 0, 0.01, ..., 1 on histograms of 1 to 2,000 values spread from 0.1 us to
 * past the range's end (2^32 us). */
static void quantile_matches_reference_scan(void) {
    static sim_hist h;
    sim_rng r;
    sim_rng_seed(&r, 77);
    int mismatches = 0;
    for (int t = 0; t < 300; t++) {
        sim_hist_reset(&h);
        int n = 1 + (int)sim_rng_below(&r, 2000);
        double lo = pow(10, -7 + 4 * sim_rng_uniform(&r)), span = pow(10, 6 * sim_rng_uniform(&r));
        for (int i = 0; i < n; i++)
            sim_hist_record(&h, lo * pow(span, sim_rng_uniform(&r)));
        if (t % 50 == 0) sim_hist_record(&h, 5000 + t); /* overflow: beyond 71.6 minutes */
        for (int k = 0; k <= 100; k++)
            mismatches += sim_hist_quantile(&h, k / 100.0) != reference_quantile(&h, k / 100.0);
    }
    CHECK(mismatches == 0);
}

/* Small enough to keep one per component, per window and per batch. */
static void size_is_small(void) {
    CHECK(sizeof(sim_hist) <= 8 * 1024 + 64);
}

TEST_MAIN(TEST(quantiles_match_sorted_sample), TEST(precision_bound_over_the_range),
          TEST(merge_equals_recording_everything), TEST(edge_cases),
          TEST(quantile_matches_reference_scan), TEST(size_is_small))
