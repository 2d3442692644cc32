/* Engine throughput benchmark: builds designs through model.h, runs them through sim.h, and
 * prints events processed, CPU seconds, events per CPU-second and peak RSS, one line per case.
 * Each case runs in its own child process, so its peak RSS is its own.
 *
 *   bench_engine [CASE ...] [--scale X]     (cases: mm1 tandem3 big1000; default: all)
 *
 * --scale multiplies every simulated duration (0.1 for a quick smoke run). After each line a
 * sanity check compares the run with queueing theory, so a fast but wrong engine shows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "model.h"
#include "sim.h"

typedef struct bench_case {
    const char *name;
    const char *what;
    double duration;   /* simulated seconds at scale 1 */
    double target_eps; /* events per CPU-second to print beside the figure; 0 = none */
    sim_design *(*build)(void);
    void (*check)(const sim_results *res);
} bench_case;

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0; /* Linux reports kilobytes */
}

static int add_service(sim_design *d, const char *id, int workers, sim_dist service) {
    sim_component c = sim_component_defaults(id);
    c.workers = workers;
    c.service = service;
    return sim_design_add_component(d, &c);
}

static void add_forward(sim_design *d, int from, int to) {
    sim_edge e = sim_edge_defaults(from, to);
    e.mode = SIM_EDGE_FORWARD;
    e.p = 1;
    e.latency = 0;
    sim_design_add_edge(d, &e);
}

static void add_source(sim_design *d, int to, double rps) {
    sim_workload w = sim_workload_defaults(to);
    w.rps = rps;
    sim_design_add_workload(d, &w);
}

static sim_dist dist_of(sim_dist_kind kind, double mean, double scv, int k) {
    sim_dist s;
    memset(&s, 0, sizeof s);
    s.kind = kind, s.mean = mean, s.scv = scv, s.k = k;
    return s;
}

/* ---- M/M/1 at rho 0.8: 800 rps into one worker with exp service of mean 1 ms ---- */

static sim_design *build_mm1(void) {
    sim_design *d = sim_design_new("mm1");
    add_service(d, "server", 1, sim_dist_exp(0.001));
    add_source(d, 0, 800);
    return d;
}

/* Theory: utilization rho = 0.8, mean response 1 / (mu - lambda) = 5 ms. */
static void check_mm1(const sim_results *res) {
    const sim_component_result *c = &res->components[0];
    printf("    check: utilization %.4f (theory 0.8000), mean response %.3f ms (theory 5.000)\n",
           c->utilization, c->response.mean * 1e3);
}

/* ---- Three stations in tandem, forward edges (a Jackson network) ---- */

static const double tandem_means[3] = {0.0008, 0.0009, 0.0007};

static sim_design *build_tandem3(void) {
    sim_design *d = sim_design_new("tandem3");
    static const char *ids[3] = {"s1", "s2", "s3"};
    for (int i = 0; i < 3; i++)
        add_service(d, ids[i], 1, sim_dist_exp(tandem_means[i]));
    add_forward(d, 0, 1);
    add_forward(d, 1, 2);
    add_source(d, 0, 800);
    return d;
}

/* Theory (Jackson): each station is an M/M/1 at 800 rps; e2e mean = sum of 1/(mu_i - 800). */
static void check_tandem3(const sim_results *res) {
    double e2e = 0;
    for (int i = 0; i < 3; i++)
        e2e += 1 / (1 / tandem_means[i] - 800);
    printf("    check: e2e mean %.3f ms (theory %.3f), utilizations %.3f %.3f %.3f "
           "(theory 0.640 0.720 0.560)\n",
           res->e2e.latency.mean * 1e3, e2e * 1e3, res->components[0].utilization,
           res->components[1].utilization, res->components[2].utilization);
}

/* ---- 1,000 components: 100 sources, each into a chain of 10 services (forward edges) ---- */

#define CHAINS 100
#define CHAIN_LEN 10
#define CHAIN_RPS 1000.0 /* per chain; 2 workers of mean 1 ms: utilization 0.5 everywhere */

/* Mixed service-time shapes, all of mean 1 ms. */
static sim_dist mixed_service(int i) {
    switch (i % 6) {
    case 0:
        return sim_dist_exp(0.001);
    case 1:
        return dist_of(SIM_DIST_ERLANG, 0.001, 0, 2);
    case 2:
        return dist_of(SIM_DIST_LOGNORMAL, 0.001, 2, 0);
    case 3:
        return sim_dist_const(0.001);
    case 4:
        return dist_of(SIM_DIST_HYPEREXP, 0.001, 3, 0);
    default:
        return dist_of(SIM_DIST_UNIFORM, 0.001, 0.2, 0);
    }
}

static sim_design *build_big1000(void) {
    sim_design *d = sim_design_new("big1000");
    char id[32];
    for (int ch = 0; ch < CHAINS; ch++) {
        for (int k = 0; k < CHAIN_LEN; k++) {
            snprintf(id, sizeof id, "c%d_s%d", ch, k);
            int idx = add_service(d, id, 2, mixed_service(ch * CHAIN_LEN + k));
            if (k > 0) add_forward(d, idx - 1, idx);
        }
        add_source(d, ch * CHAIN_LEN, CHAIN_RPS);
    }
    return d;
}

/* Theory: every station carries its chain's 1000 rps on 2 workers of mean 1 ms: rho 0.5. */
static void check_big1000(const sim_results *res) {
    double umin = 1, umax = 0;
    for (int i = 0; i < res->ncomponents; i++) {
        double u = res->components[i].utilization;
        if (u < umin) umin = u;
        if (u > umax) umax = u;
    }
    printf("    check: e2e throughput %.0f rps (theory %.0f), utilization %.3f..%.3f "
           "(theory 0.500)\n",
           res->e2e.throughput, CHAINS * CHAIN_RPS, umin, umax);
}

static const bench_case cases[] = {
    {"mm1", "M/M/1 rho 0.8", 12500, 20e6, build_mm1, check_mm1},
    {"tandem3", "3 stations in tandem", 4000, 0, build_tandem3, check_tandem3},
    {"big1000", "1,000 components", 5, 10e6, build_big1000, check_big1000},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

/* Builds, checks and runs one case in this process; prints its line. 0 on success. */
static int run_case(const bench_case *bc, double scale) {
    char err[256] = "";
    sim_design *d = bc->build();
    if (!d || sim_design_check(d, err, sizeof err) != 0) {
        fprintf(stderr, "%s: design refused: %s\n", bc->name, err);
        return 1;
    }
    sim_options o = sim_options_defaults();
    o.duration = bc->duration * scale;
    o.warmup = o.duration * 0.05;
    o.seed = 1;
    /* Like the CLI: at most 3600 metrics windows per run. */
    if (!(o.window > 0)) o.window = 1;
    if (o.duration / o.window > 3600) o.window = o.duration / 3600;

    double t0 = cpu_seconds();
    sim_run *run = sim_run_new(d, &o, err, sizeof err);
    if (!run) {
        fprintf(stderr, "%s: %s\n", bc->name, err);
        return 1;
    }
    double setup = cpu_seconds() - t0;
    if (sim_run_until(run, o.duration) < 0) {
        fprintf(stderr, "%s: %s\n", bc->name, sim_run_error(run));
        return 1;
    }
    const sim_results *res = sim_run_results(run);
    double cpu = cpu_seconds() - t0;
    double eps = res->events / cpu;

    printf("%-10s events %10llu  cpu %6.2f s  %6.1f M events/s  peak RSS %6.1f MB", bc->name,
           (unsigned long long)res->events, cpu, eps / 1e6, peak_rss_mb());
    if (bc->target_eps > 0)
        printf("  [target >= %.0f M/s: %s]", bc->target_eps / 1e6,
               eps >= bc->target_eps ? "met" : "MISSED");
    printf("  (%s, %g s simulated, setup %.3f s of the cpu)\n", bc->what, o.duration, setup);
    bc->check(res);
    fflush(stdout);
    sim_run_free(run);
    sim_design_free(d);
    return 0;
}

/* A child per case: its peak RSS is not inflated by the cases before it. */
static int run_forked(const bench_case *bc, double scale) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return run_case(bc, scale);
    if (pid == 0) _exit(run_case(bc, scale));
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) return 1;
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "%s: killed by signal %d\n", bc->name, WTERMSIG(status));
        return 1;
    }
    return WEXITSTATUS(status);
}

int main(int argc, char **argv) {
    double scale = 1;
    int picked[NCASES] = {0}, npicked = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--scale") && i + 1 < argc) {
            scale = atof(argv[++i]);
            continue;
        }
        int found = 0;
        for (int c = 0; c < NCASES; c++)
            if (!strcmp(argv[i], cases[c].name)) picked[c] = found = 1, npicked++;
        if (!found) {
            fprintf(stderr, "usage: bench_engine [mm1] [tandem3] [big1000] [--scale X]\n");
            return 2;
        }
    }
    if (!(scale > 0)) scale = 1;
    int failed = 0;
    for (int c = 0; c < NCASES; c++)
        if (!npicked || picked[c]) failed |= run_forked(&cases[c], scale);
    return failed;
}
