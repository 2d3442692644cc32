/* Log-linear (HDR-style) latency histogram. Values are kept in microseconds: bucket index =
 * 64 * floor(log2(v)) + the next 6 bits of v's mantissa, for v from 1 us to 2^32 us (71.6
 * minutes). Each bucket spans 1/64 of its power of two and a quantile reports the bucket's
 * midpoint, so a reported value is within 1/128 (0.78 %) of a true value in the bucket.
 * Values below 1 us land in the first bucket (reported as ~1 us, or the max when smaller);
 * values above 2^32 us land in the last one, reported as the exact max. 2048 buckets of 4
 * bytes: 8 KB per histogram. Recording is a few instructions and never allocates. */
#pragma once
#include <stdint.h>

#define SIM_HIST_SUB_BITS 6
#define SIM_HIST_SUB (1 << SIM_HIST_SUB_BITS)
#define SIM_HIST_MAX_EXP 32
#define SIM_HIST_BUCKETS (SIM_HIST_MAX_EXP * SIM_HIST_SUB)

typedef struct sim_hist {
    uint64_t count;
    double sum; /* seconds, for the exact mean */
    double max; /* seconds */
    uint32_t counts[SIM_HIST_BUCKETS];
} sim_hist;

void sim_hist_reset(sim_hist *h);

/* The bucket of a value in microseconds, straight from the bits of the double: its exponent
 * picks the power of two and the top SIM_HIST_SUB_BITS bits of its mantissa the sub-bucket. */
static inline uint32_t sim__hist_bucket(double us) {
    if (!(us >= 1.0)) return 0; /* below 1 us, and NaN */
    uint64_t bits;
    __builtin_memcpy(&bits, &us, sizeof bits);
    uint32_t e = (uint32_t)(bits >> 52) - 1023u;
    if (e >= SIM_HIST_MAX_EXP) return SIM_HIST_BUCKETS - 1;
    uint32_t m = (uint32_t)(bits >> (52 - SIM_HIST_SUB_BITS)) & (SIM_HIST_SUB - 1);
    return (e << SIM_HIST_SUB_BITS) | m;
}

/* Records a value in seconds; values above the range land in the last bucket. Inline: it runs
 * for every response at every component. */
static inline void sim_hist_record(sim_hist *h, double seconds) {
    h->counts[sim__hist_bucket(seconds * 1e6)]++;
    h->count++;
    h->sum += seconds;
    if (seconds > h->max) h->max = seconds;
}
/* Adds every count of src into dst. */
void sim_hist_merge(sim_hist *dst, const sim_hist *src);
/* The q-quantile (0 <= q <= 1) in seconds: the midpoint of the bucket holding it; 0 when empty. */
double sim_hist_quantile(const sim_hist *h, double q);
double sim_hist_mean(const sim_hist *h);
