/* Small statistics helpers for confidence intervals (batch means and replications). */
#pragma once

/* Two-sided Student t quantile for the given confidence level (e.g. 0.95) and degrees of
 * freedom (>= 1). Exact to 3 significant digits, which is all a confidence interval needs. */
double sim_t_quantile(double confidence, int df);

/* Mean and half-width of a confidence interval of n (>= 2) independent observations.
 * With n < 2 the half-width is NaN: there is no interval to give. */
void sim_ci(const double *x, int n, double confidence, double *mean, double *half_width);
