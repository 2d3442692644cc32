/* Random designs with every mechanism switched on at random (behaviours, policies, call /
 * forward / async edges, resilience, faults, autoscaling, patterns, closed users, live
 * control). Each must run to the end (or stop cleanly on the pool limit) and keep the
 * bookkeeping invariants: nothing ends twice, nothing is counted that did not arrive. Run it
 * under the sanitizer build to catch memory errors too. */
#include "sim_fixture.h"
#include "sim_internal.h"
#include "test.h"

static double unit(sim_rng *g) {
    return sim_rng_uniform(g);
}

static sim_dist random_dist(sim_rng *g) {
    double mean = 0.0005 + 0.005 * unit(g);
    switch (sim_rng_below(g, 4)) {
    case 0:
        return sim_dist_const(mean);
    case 1: {
        sim_dist d = sim_dist_exp(mean);
        d.kind = SIM_DIST_LOGNORMAL;
        d.scv = 2;
        return d;
    }
    default:
        return sim_dist_exp(mean);
    }
}

static void random_component(sim_design *d, sim_rng *g, int i) {
    char id[16];
    snprintf(id, sizeof id, "c%d", i);
    sim_component c = sim_component_defaults(id);
    c.behavior = (sim_behavior)sim_rng_below(g, 5);
    c.policy = (sim_policy)sim_rng_below(g, 6);
    c.replicas = 1 + (int)sim_rng_below(g, 4);
    c.workers = (int)sim_rng_below(g, 4); /* 0 = infinite servers */
    c.queue_cap = sim_rng_below(g, 2) ? SIM_UNBOUNDED : (int)sim_rng_below(g, 20);
    c.service = random_dist(g);
    c.hit_ratio = unit(g);
    c.read_ratio = unit(g);
    c.fanout_all = (int)sim_rng_below(g, 2);
    c.error_rate = sim_rng_below(g, 4) ? 0 : 0.1 * unit(g);
    c.cost_per_hour = unit(g);
    if (!sim_rng_below(g, 5)) {
        c.rate_limit = 50 + 500 * unit(g);
        c.rate_burst = 1 + 10 * unit(g);
    }
    c.shed_wait = sim_rng_below(g, 5) ? 0 : 0.01 * unit(g);
    snprintf(c.zone, sizeof c.zone, "z%u", sim_rng_below(g, 3));
    if (!sim_rng_below(g, 5)) {
        c.autoscale.enabled = 1;
        c.autoscale.min = 1;
        c.autoscale.max = c.replicas + (int)sim_rng_below(g, 4);
        c.autoscale.cooldown = unit(g);
        c.autoscale.provision_delay = unit(g);
        c.autoscale.interval = 0.2 + unit(g);
    }
    sim_design_add_component(d, &c);
}

/* Edges only go forward in index order for calls (no call cycle); forward edges may go back
 * with a small probability (a feedback loop). */
static void random_edges(sim_design *d, sim_rng *g, int n) {
    for (int from = 0; from < n; from++) {
        double left = 1;
        int k = (int)sim_rng_below(g, 4);
        for (int j = 0; j < k; j++) {
            int mode = (int)sim_rng_below(g, 3);
            int to = mode == SIM_EDGE_CALL ? from + 1 + (int)sim_rng_below(g, (uint32_t)n)
                                           : (int)sim_rng_below(g, (uint32_t)n);
            if (to >= n || to == from) continue;
            sim_edge e = sim_edge_defaults(from, to);
            e.mode = (sim_edge_mode)mode;
            e.p = mode == SIM_EDGE_CALL ? unit(g) : left * 0.5 * unit(g);
            if (mode != SIM_EDGE_CALL) left -= e.p;
            e.weight = unit(g);
            e.latency = sim_rng_below(g, 2) ? 0 : 0.002 * unit(g);
            if (mode == SIM_EDGE_CALL && sim_rng_below(g, 2)) {
                e.timeout = 0.001 + 0.02 * unit(g);
                e.retries = (int)sim_rng_below(g, 3);
                e.jitter = (int)sim_rng_below(g, 2);
                e.retry_budget = sim_rng_below(g, 2) ? 0 : 0.2;
                e.breaker.enabled = (int)sim_rng_below(g, 2);
                e.breaker.failure_threshold = 1 + (int)sim_rng_below(g, 5);
                e.breaker.open_time = 0.1 + unit(g);
                e.breaker.half_open_probes = 1 + (int)sim_rng_below(g, 3);
            }
            sim_design_add_edge(d, &e);
        }
    }
}

static void random_workloads(sim_design *d, sim_rng *g, int n) {
    for (int k = 0; k < 2; k++) {
        sim_workload w = sim_workload_defaults((int)sim_rng_below(g, (uint32_t)n));
        if (sim_rng_below(g, 3) == 0) {
            w.closed = 1;
            w.users = 1 + (int)sim_rng_below(g, 50);
            w.think = sim_dist_exp(0.01 + 0.1 * unit(g));
        } else {
            w.rps = 50 + 400 * unit(g);
            w.pattern = (sim_pattern)sim_rng_below(g, 5);
            w.start = 2 * unit(g);
            w.over = 2 * unit(g);
            w.to_rps = 500 * unit(g);
            w.factor = 3 * unit(g);
            w.period = 1 + unit(g);
            w.amplitude = unit(g);
            w.nsteps = 2;
            w.steps[0] = (sim_step){1, 300 * unit(g)};
            w.steps[1] = (sim_step){3, 300 * unit(g)};
        }
        w.keys = sim_rng_below(g, 100);
        sim_design_add_workload(d, &w);
    }
}

static void random_faults(sim_design *d, sim_rng *g, int n) {
    for (int k = 0; k < 4; k++) {
        sim_fault f = sim_fault_defaults((sim_fault_kind)sim_rng_below(g, 8));
        f.at = 4 * unit(g);
        f.duration = sim_rng_below(g, 4) ? unit(g) : 0;
        if (f.kind == SIM_FAULT_PARTITION || f.kind == SIM_FAULT_PACKET_LOSS) {
            if (d->nedges == 0) continue;
            f.target = (int)sim_rng_below(g, (uint32_t)d->nedges);
        } else {
            f.target = (int)sim_rng_below(g, (uint32_t)n);
        }
        if (f.kind == SIM_FAULT_CRASH)
            f.replica = (int)sim_rng_below(g, (uint32_t)d->components[f.target].replicas + 1) - 1;
        if (f.kind == SIM_FAULT_ZONE) snprintf(f.zone, sizeof f.zone, "z%u", sim_rng_below(g, 3));
        f.multiply = (int)sim_rng_below(g, 2);
        if (f.kind == SIM_FAULT_LATENCY) f.value = f.multiply ? 1 + unit(g) : 0.005 * unit(g);
        if (f.kind == SIM_FAULT_CAPACITY) f.value = 0.2 + unit(g);
        if (f.kind == SIM_FAULT_ERROR_RATE || f.kind == SIM_FAULT_HIT_RATIO ||
            f.kind == SIM_FAULT_PACKET_LOSS)
            f.value = unit(g);
        sim_design_add_fault(d, &f);
    }
}

static void invariants(const sim_results *res) {
    for (int c = 0; c < res->ncomponents; c++) {
        const sim_component_result *x = &res->components[c];
        CHECK(x->completions + x->errors + x->dropped <= x->arrivals);
        CHECK(x->shed <= x->errors);
        CHECK(x->utilization >= 0 && x->utilization <= 1 + 1e-9);
        CHECK(x->mean_in_system >= 0 && x->mean_queue >= 0);
        CHECK(x->response.p50 <= x->response.p99 + 1e-12);
        CHECK(!isnan(x->response.mean));
    }
    CHECK(res->e2e.completed + res->e2e.failed <= res->e2e.started);
    CHECK(res->e2e.dropped <= res->e2e.failed);
}

static void random_designs(void) {
    sim_rng g;
    sim_rng_seed(&g, 2024);
    for (int round = 0; round < 300; round++) {
        sim_design *d = sim_design_new("fuzz");
        int n = 2 + (int)sim_rng_below(&g, 10);
        for (int i = 0; i < n; i++)
            random_component(d, &g, i);
        random_edges(d, &g, n);
        random_workloads(d, &g, n);
        random_faults(d, &g, n);
        char err[256];
        if (sim_design_check(d, err, sizeof err) != 0) {
            fprintf(stderr, "  round %d: generator made an invalid design: %s\n", round, err);
            CHECK(0);
            sim_design_free(d);
            continue;
        }
        sim_options o = fx_opts(5, 0, (uint64_t)round);
        o.window = 0.5;
        sim_run *r = sim_run_new(d, &o, err, sizeof err);
        CHECK(r != NULL);
        if (!r) {
            sim_design_free(d);
            continue;
        }
        r->limit = 200000; /* overloaded random designs stop cleanly, quickly */
        int rc = sim_run_until(r, 2.5);
        if (rc == 0) { /* live control in the middle */
            sim_fault f = sim_fault_defaults(SIM_FAULT_CRASH);
            f.target = 0;
            f.duration = 0.5;
            CHECK(sim_run_inject(r, &f) == 0);
            CHECK(sim_run_set_replicas(r, n - 1, 1 + (int)sim_rng_below(&g, 3)) == 0);
            rc = sim_run_until(r, 5);
        }
        if (rc < 0) {
            const char *e = sim_run_error(r);
            CHECK(e && strstr(e, "request pool exhausted"));
            if (!(e && strstr(e, "request pool exhausted")))
                fprintf(stderr, "  round %d: %s\n", round, e ? e : "(no message)");
        } else {
            CHECK(rc == 1);
            CHECK(sim_run_windows(r) == 10);
            invariants(sim_run_results(r));
            const sim_results *res = sim_run_results(r);
            if (getenv("FUZZ_SHOW")) /* FUZZ_SHOW=1 prints what each round did */
                fprintf(stderr, "  round %d: n %d events %llu e2e %llu/%llu\n", round, n,
                        (unsigned long long)res->events, (unsigned long long)res->e2e.completed,
                        (unsigned long long)res->e2e.failed);
        }
        sim_run_free(r);
        sim_design_free(d);
    }
}

TEST_MAIN(TEST(random_designs))
