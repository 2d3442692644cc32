/* Lua behaviour benchmark: M/M/1 and a 3-station tandem where every station is a script
 * component (tests/bench/lua/lua_worker.lua: ctx:work() then forward or answer), so every
 * request runs Lua at every station. Prints events per CPU-second beside the targets, for a
 * trusted run (in this process, JIT on) and a sandboxed one (the same run inside the
 * plugin sandbox's forked child, sdsim_behavior_run with plugin components).
 *
 *   bench_lua [--scale X]      (X multiplies the simulated durations; 0.1 for a smoke run)
 *
 * A sanity line compares each run with queueing theory, so a fast but wrong glue shows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "design_load.h"
#include "lua_behavior.h"
#include "model.h"
#include "sim.h"

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int add_script(sim_design *d, const char *id, double mean, int plugin) {
    sim_component c = sim_component_defaults(id);
    c.behavior = SIM_BEHAVIOR_SCRIPT;
    c.service = sim_dist_exp(mean);
    snprintf(c.type, sizeof c.type, "lua_worker");
    int i = sim_design_add_component(d, &c);
    char json[4200];
    snprintf(json, sizeof json,
             "{\"file\":\"%s/tests/bench/lua/lua_worker.lua\",\"params\":{},"
             "\"plugin\":%s}",
             sdsim_root(), plugin ? "true" : "false");
    sim_design_set_script(d, i, json);
    return i;
}

static void add_source(sim_design *d, int to, double rps) {
    sim_workload w = sim_workload_defaults(to);
    w.rps = rps;
    sim_design_add_workload(d, &w);
}

static const double tandem_means[3] = {0.0008, 0.0009, 0.0007};

static sim_design *build(int tandem, int plugin) {
    sim_design *d = sim_design_new(tandem ? "lua_tandem3" : "lua_mm1");
    if (!tandem) {
        add_script(d, "server", 0.001, plugin);
    } else {
        static const char *ids[3] = {"s1", "s2", "s3"};
        for (int i = 0; i < 3; i++)
            add_script(d, ids[i], tandem_means[i], plugin);
        for (int i = 0; i < 2; i++) {
            sim_edge e = sim_edge_defaults(i, i + 1);
            e.mode = SIM_EDGE_FORWARD;
            sim_design_add_edge(d, &e);
        }
    }
    add_source(d, 0, 800);
    char err[256];
    if (sim_design_check(d, err, sizeof err) != 0) {
        fprintf(stderr, "design refused: %s\n", err);
        exit(1);
    }
    return d;
}

typedef struct bench_run {
    const char *name, *mode;
    int tandem;
    double duration;
} bench_run;

static void check(const bench_run *b, const sim_results *res) {
    if (!b->tandem) {
        printf("    check: utilization %.4f (theory 0.8000), mean response %.3f ms (theory "
               "5.000)\n",
               res->components[0].utilization, res->components[0].response.mean * 1e3);
        return;
    }
    double e2e = 0;
    for (int i = 0; i < 3; i++)
        e2e += 1 / (1 / tandem_means[i] - 800);
    printf("    check: e2e mean %.3f ms (theory %.3f), utilizations %.3f %.3f %.3f (theory "
           "0.640 0.720 0.560)\n",
           res->e2e.latency.mean * 1e3, e2e * 1e3, res->components[0].utilization,
           res->components[1].utilization, res->components[2].utilization);
}

/* The body sdsim_behavior_run runs (in this process, or in the sandbox's child). */
static int body(sim_design *d, void *ud) {
    const bench_run *b = ud;
    sim_options o = sim_options_defaults();
    o.duration = b->duration;
    o.warmup = o.duration * 0.05;
    if (o.duration / o.window > 3600) o.window = o.duration / 3600;
    char err[256];
    double t0 = cpu_seconds();
    sim_run *run = sim_run_new(d, &o, err, sizeof err);
    if (!run) {
        fprintf(stderr, "%s: %s\n", b->name, err);
        return 1;
    }
    if (sim_run_until(run, o.duration) < 0) {
        fprintf(stderr, "%s: %s\n", b->name, sim_run_error(run));
        sim_run_free(run);
        return 1;
    }
    const sim_results *res = sim_run_results(run);
    double cpu = cpu_seconds() - t0, eps = res->events / cpu;
    double target = strcmp(b->mode, "trusted") == 0 ? 5e6 : 1e6;
    printf("%-12s %-9s events %10llu  cpu %6.2f s  %6.2f M events/s  [target >= %.0f M/s: %s]"
           "  (%.0f ns per request-station)\n",
           b->name, b->mode, (unsigned long long)res->events, cpu, eps / 1e6, target / 1e6,
           eps >= target ? "met" : "MISSED", cpu / (res->events / 2.0) * 1e9);
    check(b, res);
    fflush(stdout);
    sim_run_free(run);
    return 0;
}

int main(int argc, char **argv) {
    double scale = 1;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--scale") && i + 1 < argc) scale = atof(argv[++i]);
    int status = 0;
    for (int tandem = 0; tandem <= 1; tandem++)
        for (int plugin = 0; plugin <= 1; plugin++) {
            bench_run b = {tandem ? "lua_tandem3" : "lua_mm1", plugin ? "sandboxed" : "trusted",
                           tandem, (tandem ? 2000 : 6000) * scale};
            sim_design *d = build(tandem, plugin);
            sdsim_isolation lim = {.cpu_s = 120};
            if (sdsim_behavior_run(d, &lim, body, &b) != 0) status = 1;
            sim_design_free(d);
        }
    return status;
}
