/* Scenarios applied by the loader (docs/scenarios.md): what each shipped scenario adds to the
 * engine's design is exact (fault kinds, targets, times, values; extra sources' patterns;
 * changed call edges), chaos crashes follow the documented Park-Miller recipe exactly, and
 * failures come back as one message naming the scenario file and line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "design_load.h"
#include "test.h"

static char eco[512];

static int index_of(const sim_design *d, const char *id) {
    for (int i = 0; i < d->ncomponents; i++)
        if (!strcmp(d->components[i].id, id)) return i;
    return -1;
}

static int edge_index(const sim_design *d, const char *from, const char *to) {
    int f = index_of(d, from), t = index_of(d, to);
    for (int i = 0; i < d->nedges; i++)
        if (d->edges[i].from == f && d->edges[i].to == t) return i;
    return -1;
}

/* Loads the ecommerce template with scenario `name` and params (NULL-terminated). */
static sim_design *load(const char *name, const char *const *params, double duration,
                        sdsim_scenario *sc) {
    static char path[4096];
    char err[1024];
    int n = 0;
    while (params && params[n])
        n++;
    *sc = (sdsim_scenario){.file = path, .params = params, .nparams = n, .duration = duration};
    if (sdsim_scenario_resolve(name, path, sizeof path, err, sizeof err) != 0) {
        fprintf(stderr, "  %s\n", err);
        return NULL;
    }
    sdsim_problems p = {0};
    sim_design *d = sdsim_load_design_file_scenario(eco, sc, &p);
    for (int i = 0; i < p.n; i++)
        fprintf(stderr, "  %s: %s\n", p.items[i].path, p.items[i].reason);
    if (sc->error[0]) fprintf(stderr, "  scenario error: %s\n", sc->error);
    sdsim_problems_free(&p);
    return d;
}

static void db_failover_crashes_the_primary(void) {
    sdsim_scenario sc;
    const char *params[] = {"at_s=30", "for_s=20", NULL};
    sim_design *d = load("db_failover", params, 60, &sc);
    CHECK(d != NULL);
    if (!d) return;
    CHECK(d->nfaults == 1);
    CHECK(d->faults[0].kind == SIM_FAULT_CRASH);
    CHECK(d->faults[0].target == index_of(d, "db"));
    CHECK(d->faults[0].replica == 0);
    CHECK_NEAR(d->faults[0].at, 30, 0);
    CHECK_NEAR(d->faults[0].duration, 20, 0);
    CHECK(!strcmp(sc.summary, "db_failover \xe2\x80\x94 crash db replica 0 at 30 s for 20 s "
                              "(picked db: the first database)"));
    sim_design_free(d);
}

/* Defaults: the middle third of the run, round(90 / 3) = 30. */
static void default_window_is_the_middle_third(void) {
    sdsim_scenario sc;
    sim_design *d = load("cache_miss_storm", NULL, 90, &sc);
    CHECK(d != NULL);
    if (!d) return;
    CHECK(d->nfaults == 1);
    CHECK(d->faults[0].kind == SIM_FAULT_HIT_RATIO);
    CHECK(d->faults[0].target == index_of(d, "cache"));
    CHECK_NEAR(d->faults[0].value, 0.1, 0);
    CHECK_NEAR(d->faults[0].at, 30, 0);
    CHECK_NEAR(d->faults[0].duration, 30, 0);
    sim_design_free(d);
}

/* x3 of a 10,000 rps source for [10, 15): an extra source of +20,000 rps in that window. */
static void spike_is_an_extra_steps_source(void) {
    sdsim_scenario sc;
    const char *params[] = {"factor=3", "at_s=10", "for_s=5", NULL};
    sim_design *d = load("traffic_spike", params, 60, &sc);
    CHECK(d != NULL);
    if (!d) return;
    CHECK(d->nworkloads == 2);
    const sim_workload *base = &d->workloads[0], *w = &d->workloads[1];
    CHECK(base->pattern == SIM_PATTERN_CONSTANT && base->rps == 10000);
    CHECK(w->to == base->to && w->keys == base->keys && !w->closed);
    CHECK(w->pattern == SIM_PATTERN_STEPS && w->nsteps == 2);
    CHECK_NEAR(w->rps, 1e-6, 0);
    CHECK_NEAR(w->steps[0].at, 10, 0);
    CHECK_NEAR(w->steps[0].rps, 20000, 0);
    CHECK_NEAR(w->steps[1].at, 15, 0);
    CHECK_NEAR(w->steps[1].rps, 1e-6, 0);
    sim_design_free(d);
}

/* x2 from 6 s over 48 s (10 % and 80 % of 60 s): a ramp source to +10,000 rps. */
static void ramp_is_an_extra_ramp_source(void) {
    sdsim_scenario sc;
    sim_design *d = load("ramp_to_saturation", NULL, 60, &sc);
    CHECK(d != NULL);
    if (!d) return;
    CHECK(d->nworkloads == 2);
    const sim_workload *w = &d->workloads[1];
    CHECK(w->pattern == SIM_PATTERN_RAMP);
    CHECK_NEAR(w->start, 6, 1e-12);
    CHECK_NEAR(w->over, 48, 1e-12);
    CHECK_NEAR(w->to_rps, 10000, 0);
    sim_design_free(d);
}

/* Every call edge into db: timeout min(theirs, 100 ms), 4 retries, no budget, 1-10 ms
 * backoff, no jitter, no breaker; the db x2.5 for the window. Other edges untouched. */
static void retry_storm_changes_the_calls_into_the_db(void) {
    sdsim_scenario sc;
    sim_design *d = load("retry_storm", NULL, 60, &sc);
    CHECK(d != NULL);
    if (!d) return;
    const char *callers[] = {"api", "cache", "orders"};
    for (int i = 0; i < 3; i++) {
        int e = edge_index(d, callers[i], "db");
        CHECK(e >= 0);
        if (e < 0) continue;
        const sim_edge *x = &d->edges[e];
        CHECK(x->retries == 4);
        CHECK_NEAR(x->retry_budget, 0, 0);
        CHECK_NEAR(x->timeout, 0.1, 1e-12);
        CHECK_NEAR(x->backoff_base, 0.001, 1e-12);
        CHECK_NEAR(x->backoff_max, 0.01, 1e-12);
        CHECK(!x->jitter && !x->breaker.enabled);
    }
    int e = edge_index(d, "api", "cache");
    CHECK(e >= 0 && d->edges[e].retries == 1 && fabs(d->edges[e].timeout - 0.05) < 1e-12);
    CHECK(d->nfaults == 1);
    CHECK(d->faults[0].kind == SIM_FAULT_LATENCY && d->faults[0].multiply);
    CHECK_NEAR(d->faults[0].value, 2.5, 0);
    sim_design_free(d);
}

static void packet_loss_targets_the_first_call_into_a_database(void) {
    sdsim_scenario sc;
    const char *params[] = {"rate=0.25", NULL};
    sim_design *d = load("packet_loss", params, 60, &sc);
    CHECK(d != NULL);
    if (!d) return;
    CHECK(d->nfaults == 1);
    CHECK(d->faults[0].kind == SIM_FAULT_PACKET_LOSS);
    CHECK(d->faults[0].target == edge_index(d, "api", "db"));
    CHECK_NEAR(d->faults[0].value, 0.25, 0);
    sim_design_free(d);
}

/* The documented chaos recipe, replayed in C: Park-Miller from the seed, exponential gaps,
 * a uniform target among the replicated components and a uniform replica, no crash of a
 * replica that is down, the last replica up spared, times rounded to the millisecond. */
typedef struct pm {
    double x;
} pm;
static double pm_next(pm *g) {
    g->x = fmod(g->x * 48271.0, 2147483647.0);
    return g->x / 2147483647.0;
}

static void chaos_follows_the_recipe(void) {
    sdsim_scenario sc;
    const char *params[] = {"seed=7", "mean_interval_s=2", "down_s=3", NULL};
    sim_design *d = load("chaos_monkey", params, 60, &sc);
    CHECK(d != NULL);
    if (!d) return;
    /* ecommerce: replicated components api (6), cache (3), db (3), in design order */
    const char *ids[] = {"api", "cache", "db"};
    int reps[] = {6, 3, 3};
    double down_until[3][6];
    for (int i = 0; i < 3; i++)
        for (int r = 0; r < 6; r++)
            down_until[i][r] = -1;
    pm g = {fmod(7, 2147483646.0) + 1};
    double t = 0;
    int n = 0, mismatches = 0;
    for (;;) {
        t -= 2 * log(1 - pm_next(&g));
        if (t >= 60) break;
        int c = (int)floor(pm_next(&g) * 3), r = (int)floor(pm_next(&g) * reps[c]);
        int up = 0;
        for (int i = 0; i < reps[c]; i++)
            up += down_until[c][i] <= t;
        if (down_until[c][r] > t || up <= 1) continue;
        down_until[c][r] = t + 3;
        if (n < d->nfaults) {
            const sim_fault *f = &d->faults[n];
            mismatches += f->kind != SIM_FAULT_CRASH || f->target != index_of(d, ids[c]) ||
                          f->replica != r || fabs(f->at - floor(t * 1000 + 0.5) / 1000) > 1e-9 ||
                          f->duration != 3;
        }
        n++;
    }
    CHECK(n > 10); /* about 60 / 2 draws */
    CHECK(d->nfaults == n);
    CHECK(mismatches == 0);
    char count[64];
    snprintf(count, sizeof count, "chaos: %d replica crashes", n);
    CHECK(strstr(sc.summary, count) != NULL);
    sim_design_free(d);
}

static void errors_name_file_and_line(void) {
    sdsim_scenario sc;
    const char *params[] = {"target=nosuch", NULL};
    sim_design *d = load("db_failover", params, 60, &sc);
    CHECK(d == NULL);
    CHECK(strstr(sc.error, "db_failover.lua:") != NULL);
    CHECK(strstr(sc.error, "no component 'nosuch'") != NULL);
    const char *bad[] = {"at_s=-1", NULL};
    d = load("db_failover", bad, 60, &sc);
    CHECK(d == NULL);
    CHECK(strstr(sc.error, "parameter at_s needs a number >= 0, not '-1'") != NULL);
}

static void resolve_and_catalog(void) {
    char path[4096], err[1024];
    CHECK(sdsim_scenario_resolve("db_failover", path, sizeof path, err, sizeof err) == 0);
    CHECK(strstr(path, "scripts/scenarios/db_failover.lua") != NULL);
    CHECK(sdsim_scenario_resolve("nope", path, sizeof path, err, sizeof err) == -1);
    CHECK(strstr(err, "no scenario named 'nope'") && strstr(err, "retry_storm"));
    CHECK(sdsim_scenario_resolve("/nonexistent/x.lua", path, sizeof path, err, sizeof err) == -1);
    char *text = sdsim_scenario_catalog(err, sizeof err);
    CHECK(text != NULL);
    if (!text) return;
    const char *names[] = {"db_failover",
                           "chaos_monkey",
                           "zone_outage",
                           "dependency_slowdown",
                           "retry_storm",
                           "cache_miss_storm",
                           "thread_pool_exhaustion",
                           "packet_loss",
                           "traffic_spike",
                           "ramp_to_saturation"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK(strstr(text, names[i]) != NULL);
    CHECK(strstr(text, "broken") == NULL);
    free(text);
}

int main(void) {
    snprintf(eco, sizeof eco, "%s/templates/ecommerce.lua", sdsim_root());
    static const test_case cases[] = {
        TEST(db_failover_crashes_the_primary),
        TEST(default_window_is_the_middle_third),
        TEST(spike_is_an_extra_steps_source),
        TEST(ramp_is_an_extra_ramp_source),
        TEST(retry_storm_changes_the_calls_into_the_db),
        TEST(packet_loss_targets_the_first_call_into_a_database),
        TEST(chaos_follows_the_recipe),
        TEST(errors_name_file_and_line),
        TEST(resolve_and_catalog),
    };
    return test_main(cases, (int)(sizeof cases / sizeof cases[0]));
}
