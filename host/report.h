/* The report of a finished run, for people (a table) and for programs (--json, the format
 * of DESIGN.md), and the figures `--assert` can name. */
#pragma once
#include <stdint.h>
#include <stdio.h>
#include "analytic.h"
#include "sim.h"

typedef struct sdsim_report {
    const sim_design *design;
    const sim_results *results;   /* one run, or the means over replications */
    const sim_analytic *analytic; /* NULL when the analytic pass could not solve the design */
    const char *analytic_error;   /* why not, when analytic is NULL */
    double duration, warmup;
    uint64_t seed;
    int replications;
    double wall_seconds;
    const char *scenario; /* the scenario applied ("db_failover — crash db ..."), or NULL */
} sdsim_report;

void sdsim_report_text(FILE *out, const sdsim_report *r);
void sdsim_report_json(FILE *out, const sdsim_report *r);
/* The analytic prediction alone (`sdsim analyze --json`), keys in a fixed order. */
void sdsim_analytic_json(FILE *out, const sim_design *d, const sim_analytic *a);

/* Names for --assert: e2e figures (p50_ms, p95_ms, p99_ms, mean_ms, error_rate,
 * throughput_rps, dropped, cost_month, max_utilization) and per component
 * <id>.<figure> (utilization, throughput_rps, p99_ms, mean_response_ms, errors, dropped ...).
 * ud is the sdsim_report. */
int sdsim_report_lookup(const char *name, double *value, void *ud);

/* What to call a component in a report: its palette type, else its engine behaviour. */
static inline const char *sdsim_component_kind(const sim_component *c) {
    return c->type[0] ? c->type : sim_behavior_name(c->behavior);
}

/* The relative difference beyond which simulated and analytic figures are called out. */
#define SDSIM_ANALYTIC_WARN 0.15
