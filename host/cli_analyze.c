/* `sdsim analyze FILE [--json]`: the instant analytic prediction, no simulation. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "analytic.h"
#include "cli.h"
#include "design_load.h"
#include "report.h"

static void print_text(const sim_design *d, const sim_analytic *a, double ms) {
    printf("%s: analytic prediction (solved in %.3f ms)\n\n", d->name, ms);
    printf("%-20s %-13s %10s %10s %6s %9s %9s %12s  %s\n", "component", "kind", "arrive/s",
           "demand ms", "util", "wait ms", "resp ms", "saturates at", "formula");
    for (int i = 0; i < a->ncomponents; i++) {
        const sim_analytic_component *c = &a->components[i];
        char sat[32];
        if (isfinite(c->saturation_rps))
            snprintf(sat, sizeof sat, "%.0f/s", c->saturation_rps);
        else
            snprintf(sat, sizeof sat, "never");
        printf("%-20.20s %-13.13s %10.1f %10.3f %5.0f%% %9.3f %9.3f %12s  %s\n",
               d->components[i].id, sdsim_component_kind(&d->components[i]), c->arrival_rate,
               c->service_demand * 1e3, c->utilization * 100, c->mean_wait * 1e3,
               c->mean_response * 1e3, sat, sim_exactness_name(c->exactness));
    }
    printf("\n%s %.1f req/s, end-to-end mean %.3f ms\n",
           a->closed ? "throughput (closed population)" : "offered load", a->offered_rps,
           a->e2e_mean * 1e3);
    if (a->bottleneck >= 0) printf("bottleneck: %s\n", a->reason);
}

int sdsim_cli_analyze(int argc, char **argv) {
    const char *file = NULL;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (argv[i][0] == '-' || file) {
            fprintf(stderr, "usage: sdsim analyze FILE [--json]\n");
            return SDSIM_EXIT_USAGE;
        } else
            file = argv[i];
    }
    if (!file) {
        fprintf(stderr, "usage: sdsim analyze FILE [--json]\n");
        return SDSIM_EXIT_USAGE;
    }
    sdsim_problems problems = {0};
    sim_design *d = sdsim_load_design_file(file, &problems);
    if (!d) {
        for (int i = 0; i < problems.n; i++)
            fprintf(stderr, "%s: %s\n", problems.items[i].path, problems.items[i].reason);
        sdsim_problems_free(&problems);
        return SDSIM_EXIT_USAGE;
    }
    struct timespec t0, t1;
    sim_analytic a;
    char err[256];
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = sim_analyze(d, &a, err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc) {
        fprintf(stderr, "sdsim: no analytic prediction for %s: %s\n", file, err);
        sim_design_free(d);
        return SDSIM_EXIT_FAILED;
    }
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) * 1e-6;
    if (json)
        sdsim_analytic_json(stdout, d, &a);
    else
        print_text(d, &a, ms);
    sim_analytic_free(&a);
    sim_design_free(d);
    return SDSIM_EXIT_OK;
}
