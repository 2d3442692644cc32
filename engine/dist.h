/* Service-time and think-time distributions, each described by its mean and squared
 * coefficient of variation (scv = variance / mean^2) so that the analytic pass and the
 * simulation speak of the same numbers. Times are in seconds. */
#pragma once
#include "rng.h"

typedef enum sim_dist_kind {
    SIM_DIST_CONST = 0, /* mean; scv 0 */
    SIM_DIST_EXP,       /* mean; scv 1 */
    SIM_DIST_ERLANG,    /* mean, k phases; scv 1/k */
    SIM_DIST_HYPEREXP,  /* mean, scv > 1: two balanced-means exponential phases */
    SIM_DIST_LOGNORMAL, /* mean, scv > 0 */
    SIM_DIST_UNIFORM,   /* mean, scv in [0, 1/3]: symmetric around the mean, never negative */
    SIM_DIST_EMPIRICAL, /* values drawn with equal probability from a list */
} sim_dist_kind;

#define SIM_DIST_KIND_COUNT 7
#define SIM_DIST_ERLANG_MAX_K 1000 /* phases; scv >= 0.001 */

typedef struct sim_dist {
    sim_dist_kind kind;
    double mean; /* seconds */
    double scv;  /* as given (hyperexp, lognormal, uniform) or implied (const, exp, erlang) */
    int k;       /* erlang phases */
    /* Empirical values in seconds; the array is owned by whoever built the design. */
    const double *values;
    int nvalues;
    /* Derived by sim_dist_prepare: */
    double a, b, c;
} sim_dist;

/* Fills the derived fields (and mean/scv of an empirical list). Returns 0, or -1 with a
 * reason in err when the parameters cannot describe a distribution. */
int sim_dist_prepare(sim_dist *d, char *err, int errlen);

/* One sample in seconds, never negative. d must have been prepared. */
double sim_dist_sample(const sim_dist *d, sim_rng *r);

/* Name as written in a design ("exp"), and its inverse (-1 when unknown). */
const char *sim_dist_kind_name(sim_dist_kind k);
int sim_dist_kind_parse(const char *name);

/* Convenience constructors, already prepared. */
sim_dist sim_dist_const(double mean);
sim_dist sim_dist_exp(double mean);

/* A standard exponential sample (mean 1), by ziggurat: ~3x faster than -log(U); for the
 * engine's own Poisson arrivals (gap = sim_dist_exp1(rng) / rate). */
double sim_dist_exp1(sim_rng *r);
/* A standard normal sample (mean 0, variance 1), by ziggurat. */
double sim_dist_normal1(sim_rng *r);
