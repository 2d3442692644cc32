/* The figures `--assert` can name: the end-to-end ones bare, a component's as <id>.<figure>. */
#include <string.h>
#include "report.h"

typedef struct figure {
    const char *name;
    double (*get)(const sdsim_report *r, int component);
} figure;

#define E2E(field) (r->results->e2e.field)
#define COMP(field) (r->results->components[c].field)

static double e2e_mean(const sdsim_report *r, int c) {
    return E2E(latency.mean) * 1e3;
}
static double e2e_p50(const sdsim_report *r, int c) {
    return E2E(latency.p50) * 1e3;
}
static double e2e_p95(const sdsim_report *r, int c) {
    return E2E(latency.p95) * 1e3;
}
static double e2e_p99(const sdsim_report *r, int c) {
    return E2E(latency.p99) * 1e3;
}
static double e2e_errors(const sdsim_report *r, int c) {
    return E2E(error_rate);
}
static double e2e_rps(const sdsim_report *r, int c) {
    return E2E(throughput);
}
static double e2e_dropped(const sdsim_report *r, int c) {
    return (double)E2E(dropped);
}
static double cost(const sdsim_report *r, int c) {
    return r->results->cost_month;
}

static double max_util(const sdsim_report *r, int c) {
    double m = 0;
    for (int i = 0; i < r->results->ncomponents; i++)
        if (r->results->components[i].utilization > m) m = r->results->components[i].utilization;
    return m;
}

static const figure e2e_figures[] = {
    {"mean_ms", e2e_mean},    {"p50_ms", e2e_p50},        {"p95_ms", e2e_p95},
    {"p99_ms", e2e_p99},      {"error_rate", e2e_errors}, {"throughput_rps", e2e_rps},
    {"dropped", e2e_dropped}, {"cost_month", cost},       {"max_utilization", max_util},
};

static double c_util(const sdsim_report *r, int c) {
    return COMP(utilization);
}
static double c_rps(const sdsim_report *r, int c) {
    return COMP(throughput);
}
static double c_mean(const sdsim_report *r, int c) {
    return COMP(response.mean) * 1e3;
}
static double c_p50(const sdsim_report *r, int c) {
    return COMP(response.p50) * 1e3;
}
static double c_p95(const sdsim_report *r, int c) {
    return COMP(response.p95) * 1e3;
}
static double c_p99(const sdsim_report *r, int c) {
    return COMP(response.p99) * 1e3;
}
static double c_wait(const sdsim_report *r, int c) {
    return COMP(mean_wait) * 1e3;
}
static double c_errors(const sdsim_report *r, int c) {
    return (double)COMP(errors);
}
static double c_dropped(const sdsim_report *r, int c) {
    return (double)COMP(dropped);
}
static double c_timeouts(const sdsim_report *r, int c) {
    return (double)COMP(timeouts);
}
static double c_queue(const sdsim_report *r, int c) {
    return COMP(mean_queue);
}
static double c_replicas(const sdsim_report *r, int c) {
    return COMP(replicas_mean);
}
static double c_cost(const sdsim_report *r, int c) {
    return COMP(cost_month);
}

static const figure component_figures[] = {
    {"utilization", c_util},  {"throughput_rps", c_rps}, {"mean_response_ms", c_mean},
    {"p50_ms", c_p50},        {"p95_ms", c_p95},         {"p99_ms", c_p99},
    {"mean_wait_ms", c_wait}, {"errors", c_errors},      {"dropped", c_dropped},
    {"timeouts", c_timeouts}, {"mean_queue", c_queue},   {"replicas", c_replicas},
    {"cost_month", c_cost},
};

static int find(const figure *f, int n, const char *name, const sdsim_report *r, int c,
                double *value) {
    for (int i = 0; i < n; i++) {
        if (strcmp(f[i].name, name) == 0) {
            *value = f[i].get(r, c);
            return 0;
        }
    }
    return -1;
}

int sdsim_report_lookup(const char *name, double *value, void *ud) {
    const sdsim_report *r = ud;
    int n_e2e = (int)(sizeof e2e_figures / sizeof e2e_figures[0]);
    int n_comp = (int)(sizeof component_figures / sizeof component_figures[0]);
    if (find(e2e_figures, n_e2e, name, r, -1, value) == 0) return 0;
    /* <id>.<figure>: ids may contain dots, so split at the last one. */
    const char *dot = strrchr(name, '.');
    if (!dot) return -1;
    char id[SIM_ID_MAX];
    size_t len = (size_t)(dot - name);
    if (len >= sizeof id) return -1;
    memcpy(id, name, len);
    id[len] = 0;
    int c = sim_design_find(r->design, id);
    if (c < 0) return -1;
    return find(component_figures, n_comp, dot + 1, r, c, value);
}
