/* The engine's live views: per-edge counters and state (sim_run_edge_stat), components down,
 * totals, hop sampling, and the window ring (keep_windows). */
#include "sim_fixture.h"
#include "test.h"

/* a calls b; b takes 50 ms, the call times out after 10 ms and is retried twice: every
 * attempt crosses the edge and fails by timeout while a waits, so failed = a's timeouts
 * exactly, and sent = b's arrivals (no latency: every attempt has arrived by now). */
static void timeouts_count_as_failed(void) {
    sim_design *d = sim_design_new("t");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.001));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.05));
    d->components[a].workers = d->components[b].workers = SIM_INFINITE_SERVERS;
    int e = fx_edge(d, a, b, SIM_EDGE_CALL, 1);
    d->edges[e].timeout = 0.01;
    d->edges[e].retries = 2;
    d->edges[e].backoff_base = 0.005;
    fx_open(d, a, 20);
    sim_options o = fx_opts(20, 0, 1);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    sim_edge_stat st;
    CHECK(sim_run_edge_stat(r, e, &st) == 0);
    CHECK(sim_run_edge_stat(r, e + 1, &st) == -1);
    sim_run_edge_stat(r, e, &st);
    CHECK(st.sent > 1000);
    CHECK(st.sent == res->components[b].arrivals);
    CHECK(st.failed == res->components[a].timeouts);
    CHECK(st.partitioned == 0 && st.breaker == 0);
    /* the last window: 20 rps x 3 attempts x 1 s, +- 5 sigma of the Poisson count */
    CHECK(st.win_sent > 60 - 5 * 8 && st.win_sent < 60 + 5 * 8);
    sim_totals t;
    CHECK(sim_run_totals(r, a, &t) == 0);
    CHECK(t.timeouts == res->components[a].timeouts);
    CHECK(sim_run_totals(r, -1, &t) == 0 && t.errors == res->e2e.failed);
    CHECK(sim_run_totals(r, 5, &t) == -1);
    sim_run_free(r);
    sim_design_free(d);
}

/* A partition of the call edge from 5 s to 10 s (no timeout: calls fail at once): during it
 * every window's sent equals its failed; outside it nothing fails. */
static void partition_windows(void) {
    sim_design *d = sim_design_new("p");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    d->components[a].workers = d->components[b].workers = SIM_INFINITE_SERVERS;
    int e = fx_edge(d, a, b, SIM_EDGE_CALL, 1);
    sim_fault f = sim_fault_defaults(SIM_FAULT_PARTITION);
    f.target = e;
    f.at = 5;
    f.duration = 5;
    sim_design_add_fault(d, &f);
    fx_open(d, a, 200);
    sim_options o = fx_opts(15, 0, 2);
    sim_run *r = fx_new(d, &o);
    sim_edge_stat st;
    sim_run_until(r, 4.5);
    sim_run_edge_stat(r, e, &st);
    CHECK(st.partitioned == 0 && st.win_failed == 0 && st.win_sent > 100);
    sim_run_until(r, 7.5);
    sim_run_edge_stat(r, e, &st);
    CHECK(st.partitioned == 1);
    CHECK(st.win_sent > 100 && st.win_failed == st.win_sent);
    sim_run_until(r, 12.5);
    sim_run_edge_stat(r, e, &st);
    CHECK(st.partitioned == 0 && st.win_failed == 0);
    sim_run_until(r, 15);
    const sim_results *res = sim_run_results(r);
    sim_run_edge_stat(r, e, &st);
    CHECK(st.failed == res->components[a].errors); /* one attempt per request, no retries */
    CHECK_REL((double)st.failed, 200 * 5, 0.1);    /* 5 s at 200 rps; sd ~3 % */
    sim_run_free(r);
    sim_design_free(d);
}

/* The breaker of the resilience test (b down 10 s, 5 failures open it for 1 s): open or
 * half-open while b is down, closed at the end; refusals count as failed attempts. */
static void breaker_state(void) {
    sim_design *d = sim_design_new("br");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    d->components[a].workers = SIM_INFINITE_SERVERS;
    int e = fx_edge(d, a, b, SIM_EDGE_CALL, 1);
    d->edges[e].breaker.enabled = 1;
    d->edges[e].breaker.failure_threshold = 5;
    d->edges[e].breaker.open_time = 1;
    d->edges[e].breaker.half_open_probes = 1;
    sim_fault f = sim_fault_defaults(SIM_FAULT_CRASH);
    f.target = b;
    f.duration = 10;
    sim_design_add_fault(d, &f);
    fx_open(d, a, 100);
    sim_options o = fx_opts(20, 0, 4);
    sim_run *r = fx_new(d, &o);
    sim_run_until(r, 3.3);
    sim_edge_stat st;
    sim_run_edge_stat(r, e, &st);
    CHECK(st.breaker == 1 || st.breaker == 2);
    CHECK(sim_run_component_down(r, b) == 1);
    CHECK(sim_run_component_down(r, a) == 0);
    sim_run_until(r, 20);
    sim_run_edge_stat(r, e, &st);
    CHECK(st.breaker == 0);
    CHECK(sim_run_component_down(r, b) == 0);
    CHECK(sim_run_component_down(r, 9) == -1);
    const sim_results *res = sim_run_results(r);
    CHECK(st.failed == res->components[a].errors);
    CHECK(st.sent == res->components[a].arrivals);
    sim_run_free(r);
    sim_design_free(d);
}

/* Forwards with 20 % packet loss: failed / sent ~ 0.2 (sd 0.006 over 4,000), and b receives
 * exactly the others. Replica crashes: one of two is not down, both are. */
static void forward_loss_and_down(void) {
    sim_design *d = sim_design_new("f");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    d->components[a].workers = d->components[b].workers = SIM_INFINITE_SERVERS;
    d->components[b].replicas = 2;
    int e = fx_edge(d, a, b, SIM_EDGE_FORWARD, 1);
    sim_fault f = sim_fault_defaults(SIM_FAULT_PACKET_LOSS);
    f.target = e;
    f.value = 0.2;
    sim_design_add_fault(d, &f);
    fx_open(d, a, 200);
    sim_options o = fx_opts(20, 0, 5);
    sim_run *r = fx_new(d, &o);
    sim_run_until(r, 10);
    sim_fault c = sim_fault_defaults(SIM_FAULT_CRASH);
    c.target = b;
    c.replica = 0;
    CHECK(sim_run_inject(r, &c) == 0);
    CHECK(sim_run_component_down(r, b) == 0);
    c.replica = 1;
    CHECK(sim_run_inject(r, &c) == 0);
    CHECK(sim_run_component_down(r, b) == 1);
    sim_run_until(r, 10.0001);
    sim_edge_stat st;
    sim_run_edge_stat(r, e, &st);
    CHECK_NEAR((double)st.failed / st.sent, 0.2, 0.03);
    CHECK(st.loss == 0.2);
    sim_totals tb;
    sim_run_totals(r, b, &tb);
    CHECK(tb.arrivals == st.sent - st.failed);
    sim_run_free(r);
    sim_design_free(d);
}

static sim_design *chain(void) {
    sim_design *d = sim_design_new("c");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.002));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.003));
    d->components[a].workers = 2;
    d->components[b].workers = 2;
    fx_edge(d, a, b, SIM_EDGE_CALL, 1);
    fx_open(d, a, 300);
    return d;
}

/* Hop sampling: 1 in 10 of the ~3,000 crossings in 10 s, a ring of 16: take returns the 16
 * latest (departed by now), `seen` counts every sampled one; sampling changes no result. */
static void hop_sampling(void) {
    sim_design *d = chain();
    sim_options o = fx_opts(10, 0, 6);
    sim_run *plain = fx_new(d, &o);
    sim_run_until(plain, 10);
    sim_run *r = fx_new(d, &o);
    CHECK(sim_run_sample_hops(r, 10, 16) == 0);
    CHECK(sim_run_sample_hops(r, -1, 16) == -1);
    sim_run_until(r, 10);
    sim_hop h[32];
    uint64_t seen = 0;
    int n = sim_run_take_hops(r, h, 32, &seen);
    CHECK(n == 16);
    sim_edge_stat st;
    sim_run_edge_stat(r, 0, &st);
    CHECK_NEAR((double)seen, st.sent / 10.0, 2);
    for (int k = 0; k < n; k++)
        CHECK(h[k].edge == 0 && h[k].ok == 1 && h[k].at <= 10 && h[k].at > 9);
    CHECK(sim_run_take_hops(r, h, 32, &seen) == 0 && seen == 0);
    const sim_results *a = sim_run_results(plain), *b = sim_run_results(r);
    CHECK(a->events == b->events);
    CHECK(a->e2e.completed == b->e2e.completed);
    CHECK(a->e2e.latency.p99 == b->e2e.latency.p99);
    sim_run_free(plain);
    sim_run_free(r);
    sim_design_free(d);
}

/* keep_windows 4: the last 4 windows are there and equal those of a run keeping all;
 * older ones are NULL. */
static void window_ring(void) {
    sim_design *d = chain();
    sim_options o = fx_opts(10, 0, 7);
    o.window = 0.5;
    sim_run *all = fx_new(d, &o);
    o.keep_windows = 4;
    sim_run *ring = fx_new(d, &o);
    sim_run_until(all, 10);
    sim_run_until(ring, 10);
    CHECK(sim_run_windows(ring) == 20);
    for (int w = 0; w < 20; w++) {
        const sim_window_stat *x = sim_run_window(all, w, 1), *y = sim_run_window(ring, w, 1);
        CHECK(x != NULL);
        if (w < 16) {
            CHECK(y == NULL);
        } else {
            CHECK(y != NULL && y->arrivals == x->arrivals && y->p99 == x->p99);
        }
    }
    o.keep_windows = -1;
    char err[128];
    CHECK(sim_run_new(d, &o, err, sizeof err) == NULL);
    sim_run_free(all);
    sim_run_free(ring);
    sim_design_free(d);
}

TEST_MAIN(TEST(timeouts_count_as_failed), TEST(partition_windows), TEST(breaker_state),
          TEST(forward_loss_and_down), TEST(hop_sampling), TEST(window_ring))
