/* Independent replications: the same design run with seeds seed, seed+1, ... and summarised
 * as means, with 95 % confidence intervals across replications (which, unlike batch means,
 * need no assumption about autocorrelation inside one run). */
#pragma once
#include "sim.h"

typedef struct sdsim_replications {
    sim_results *runs; /* one deep copy per finished replication */
    int n, cap;
    sim_results summary; /* filled by sdsim_replications_summarise */
} sdsim_replications;

/* Keeps a copy of one replication's results. 0, or -1 when out of memory. */
int sdsim_replications_add(sdsim_replications *reps, const sim_results *res);
/* Means over the replications; with one replication, that replication as it is. */
int sdsim_replications_summarise(sdsim_replications *reps);
void sdsim_replications_free(sdsim_replications *reps);
