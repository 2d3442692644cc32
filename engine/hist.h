/* Log-linear (HDR-style) latency histogram: values in microseconds from 1 us up to about
 * 2^36 us (19 hours), 128 linear sub-buckets per power of two, so a percentile is within
 * 1/128 (0.8 %) of the true value. Recording is a few instructions and never allocates. */
#pragma once
#include <stdint.h>

#define SIM_HIST_SUB_BITS 7
#define SIM_HIST_SUB (1 << SIM_HIST_SUB_BITS)
#define SIM_HIST_MAX_EXP 36
#define SIM_HIST_BUCKETS ((SIM_HIST_MAX_EXP - SIM_HIST_SUB_BITS + 1) * SIM_HIST_SUB)

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
