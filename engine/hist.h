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
    double sum;  /* seconds, for the exact mean */
    double max;  /* seconds */
    uint32_t counts[SIM_HIST_BUCKETS];
} sim_hist;

void sim_hist_reset(sim_hist *h);
/* Records a value in seconds; values above the range land in the last bucket. */
void sim_hist_record(sim_hist *h, double seconds);
/* Adds every count of src into dst. */
void sim_hist_merge(sim_hist *dst, const sim_hist *src);
/* The q-quantile (0 <= q <= 1) in seconds: the midpoint of the bucket holding it; 0 when empty. */
double sim_hist_quantile(const sim_hist *h, double q);
double sim_hist_mean(const sim_hist *h);
