/* Log-linear latency histogram (layout and precision in hist.h). */
#include "hist.h"

#include <math.h>
#include <string.h>

void sim_hist_reset(sim_hist *h) {
    memset(h, 0, sizeof *h);
}

/* Midpoint of bucket i in microseconds. */
static double bucket_mid_us(uint32_t i) {
    int e = (int)(i >> SIM_HIST_SUB_BITS);
    double m = (double)(i & (SIM_HIST_SUB - 1));
    return ldexp(1.0 + (m + 0.5) / SIM_HIST_SUB, e);
}

void sim_hist_merge(sim_hist *dst, const sim_hist *src) {
    if (src->count == 0) return;
    for (int i = 0; i < SIM_HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->max > dst->max) dst->max = src->max;
}

/* The bucket holding rank ceil(q * count) (at least 1), reported at its midpoint and never
 * above the largest value recorded; the last bucket also holds the overflow, so it reports
 * the max itself. The scan runs down from the max's bucket: latencies sit in a few hundred
 * buckets near the top, while below them lie hundreds of empty ones (1 ms is bucket 576). */
double sim_hist_quantile(const sim_hist *h, double q) {
    if (h->count == 0) return 0;
    if (!(q > 0)) q = 0;
    if (q > 1) q = 1;
    uint64_t rank = (uint64_t)ceil(q * (double)h->count);
    if (rank < 1) rank = 1;
    if (rank > h->count) rank = h->count;
    uint32_t top = sim__hist_bucket(h->max * 1e6);
    if (top == SIM_HIST_BUCKETS - 1 && h->counts[top] > h->count - rank) return h->max;
    /* at_or_below = values in buckets 0..i; bucket i holds the rank when the values below it
     * are fewer than the rank. */
    uint64_t at_or_below = h->count;
    uint32_t i = top;
    for (; i > 0; i--) {
        uint64_t below = at_or_below - h->counts[i];
        if (below < rank) break;
        at_or_below = below;
    }
    double v = bucket_mid_us(i) * 1e-6;
    return v < h->max ? v : h->max;
}

double sim_hist_mean(const sim_hist *h) {
    return h->count ? h->sum / (double)h->count : 0;
}
