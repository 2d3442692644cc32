/* Log-linear latency histogram (layout and precision in hist.h). */
#include "hist.h"

#include <math.h>
#include <string.h>

void sim_hist_reset(sim_hist *h) { memset(h, 0, sizeof *h); }

/* Midpoint of bucket i in microseconds. */
static double bucket_mid_us(uint32_t i) {
    int e = (int)(i >> SIM_HIST_SUB_BITS);
    double m = (double)(i & (SIM_HIST_SUB - 1));
    return ldexp(1.0 + (m + 0.5) / SIM_HIST_SUB, e);
}

void sim_hist_merge(sim_hist *dst, const sim_hist *src) {
    if (src->count == 0) return;
    for (int i = 0; i < SIM_HIST_BUCKETS; i++) dst->counts[i] += src->counts[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->max > dst->max) dst->max = src->max;
}

/* The bucket holding rank ceil(q * count) (at least 1), reported at its midpoint and never
 * above the largest value recorded; the last bucket also holds the overflow, so it reports
 * the max itself. */
double sim_hist_quantile(const sim_hist *h, double q) {
    if (h->count == 0) return 0;
    if (!(q > 0)) q = 0;
    if (q > 1) q = 1;
    uint64_t rank = (uint64_t)ceil(q * (double)h->count);
    if (rank < 1) rank = 1;
    if (rank > h->count) rank = h->count;
    uint64_t seen = 0;
    uint32_t i = 0;
    for (; i < SIM_HIST_BUCKETS - 1; i++) {
        seen += h->counts[i];
        if (seen >= rank) break;
    }
    if (i == SIM_HIST_BUCKETS - 1) return h->max;
    double v = bucket_mid_us(i) * 1e-6;
    return v < h->max ? v : h->max;
}

double sim_hist_mean(const sim_hist *h) { return h->count ? h->sum / (double)h->count : 0; }
