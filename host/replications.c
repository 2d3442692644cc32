#include "replications.h"
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "stats.h"

int sdsim_replications_add(sdsim_replications *reps, const sim_results *res) {
    if (reps->n == reps->cap) {
        int cap = reps->cap ? reps->cap * 2 : 4;
        sim_results *runs = realloc(reps->runs, (size_t)cap * sizeof *runs);
        if (!runs) return -1;
        reps->runs = runs;
        reps->cap = cap;
    }
    sim_results *copy = &reps->runs[reps->n];
    *copy = *res;
    size_t bytes = (size_t)res->ncomponents * sizeof *res->components;
    copy->components = malloc(bytes ? bytes : 1);
    if (!copy->components) return -1;
    memcpy(copy->components, res->components, bytes);
    reps->n++;
    return 0;
}

/* The mean of a double field over all runs: offset-based so one loop serves every field. */
static double mean_at(const sdsim_replications *reps, int comp, size_t offset) {
    double sum = 0;
    for (int k = 0; k < reps->n; k++) {
        const char *base = comp < 0 ? (const char *)&reps->runs[k].e2e
                                    : (const char *)&reps->runs[k].components[comp];
        sum += *(const double *)(base + offset);
    }
    return sum / reps->n;
}

static uint64_t mean_count_at(const sdsim_replications *reps, int comp, size_t offset) {
    double sum = 0;
    for (int k = 0; k < reps->n; k++) {
        const char *base = comp < 0 ? (const char *)&reps->runs[k].e2e
                                    : (const char *)&reps->runs[k].components[comp];
        sum += (double)*(const uint64_t *)(base + offset);
    }
    return (uint64_t)llround(sum / reps->n);
}

static void ci_at(const sdsim_replications *reps, int comp, size_t offset, double *half) {
    double x[reps->n], mean;
    for (int k = 0; k < reps->n; k++) {
        const char *base = comp < 0 ? (const char *)&reps->runs[k].e2e
                                    : (const char *)&reps->runs[k].components[comp];
        x[k] = *(const double *)(base + offset);
    }
    sim_ci(x, reps->n, 0.95, &mean, half);
}

#define CD(field) c->field = mean_at(reps, i, offsetof(sim_component_result, field))
#define CC(field) c->field = mean_count_at(reps, i, offsetof(sim_component_result, field))
#define ED(field) e->field = mean_at(reps, -1, offsetof(sim_e2e_result, field))
#define EC(field) e->field = mean_count_at(reps, -1, offsetof(sim_e2e_result, field))

static void summarise_component(sdsim_replications *reps, int i, sim_component_result *c) {
    CC(arrivals), CC(completions), CC(dropped), CC(errors), CC(timeouts), CC(retries);
    CC(rejected), CC(shed);
    CD(throughput), CD(utilization), CD(mean_in_system), CD(mean_queue), CD(mean_wait);
    CD(response.mean), CD(response.p50), CD(response.p95), CD(response.p99), CD(response.max);
    CD(replicas_mean), CD(cost_month);
    c->replicas_peak = 0;
    for (int k = 0; k < reps->n; k++)
        if (reps->runs[k].components[i].replicas_peak > c->replicas_peak)
            c->replicas_peak = reps->runs[k].components[i].replicas_peak;
    ci_at(reps, i, offsetof(sim_component_result, response.mean), &c->ci.mean_half);
    ci_at(reps, i, offsetof(sim_component_result, response.p99), &c->ci.p99_half);
}

static void summarise_e2e(sdsim_replications *reps, sim_e2e_result *e) {
    EC(started), EC(completed), EC(failed), EC(dropped);
    ED(throughput), ED(error_rate);
    ED(latency.mean), ED(latency.p50), ED(latency.p95), ED(latency.p99), ED(latency.max);
    ci_at(reps, -1, offsetof(sim_e2e_result, latency.mean), &e->ci.mean_half);
    ci_at(reps, -1, offsetof(sim_e2e_result, latency.p99), &e->ci.p99_half);
}

int sdsim_replications_summarise(sdsim_replications *reps) {
    if (reps->n == 0) return -1;
    sim_results *s = &reps->summary;
    free(s->components);
    *s = reps->runs[0];
    size_t bytes = (size_t)s->ncomponents * sizeof *s->components;
    s->components = malloc(bytes ? bytes : 1);
    if (!s->components) return -1;
    memcpy(s->components, reps->runs[0].components, bytes);
    if (reps->n == 1) return 0;
    s->events = 0;
    s->cost_month = 0;
    for (int k = 0; k < reps->n; k++)
        s->events += reps->runs[k].events;
    for (int i = 0; i < s->ncomponents; i++) {
        summarise_component(reps, i, &s->components[i]);
        s->cost_month += s->components[i].cost_month;
    }
    summarise_e2e(reps, &s->e2e);
    s->bottleneck = -1;
    double best = 0;
    for (int i = 0; i < s->ncomponents; i++) {
        if (s->components[i].utilization > best) {
            best = s->components[i].utilization;
            s->bottleneck = i;
        }
    }
    return 0;
}

void sdsim_replications_free(sdsim_replications *reps) {
    for (int k = 0; k < reps->n; k++)
        free(reps->runs[k].components);
    free(reps->runs);
    free(reps->summary.components);
    memset(reps, 0, sizeof *reps);
}
