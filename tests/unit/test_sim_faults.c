/* Faults, live control, autoscaling and workload patterns, seen through the metrics windows
 * (one per second). */
#include "sim_fixture.h"
#include "test.h"

static uint64_t window_errors(sim_run *r, int comp, int from, int to) {
    uint64_t n = 0;
    for (int w = from; w < to; w++)
        n += sim_run_window(r, w, comp)->errors;
    return n;
}

static uint64_t window_arrivals(sim_run *r, int comp, int from, int to) {
    uint64_t n = 0;
    for (int w = from; w < to; w++)
        n += sim_run_window(r, w, comp)->arrivals;
    return n;
}

/* A crash of the whole component from 5 s to 7 s: every arrival in between fails (100/s),
 * none before or after. */
static void crash_and_recovery(void) {
    sim_design *d = sim_design_new("crash");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    fx_open(d, a, 100);
    sim_fault f = sim_fault_defaults(SIM_FAULT_CRASH);
    f.target = a;
    f.at = 5;
    f.duration = 2;
    sim_design_add_fault(d, &f);
    sim_options o = fx_opts(10, 0, 1);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    CHECK(window_errors(r, a, 0, 5) == 0);
    CHECK(window_errors(r, a, 7, 10) == 0);
    CHECK_NEAR((double)window_errors(r, a, 5, 7), 200, 45); /* Poisson(200): 3 sd */
    CHECK(sim_run_window(r, 5, a)->replicas == 0 && sim_run_window(r, 8, a)->replicas == 1);
    CHECK_NEAR(res->components[a].replicas_mean, 0.8, 1e-9);
    CHECK(res->e2e.failed == res->components[a].errors);
    sim_run_free(r);
    sim_design_free(d);
}

/* A crashed replica (1 of 2) takes no traffic; what it held fails once. */
static void replica_crash(void) {
    sim_design *d = sim_design_new("rc");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.004));
    d->components[a].replicas = 2;
    fx_open(d, a, 300); /* rho 0.6 on two replicas, 1.2 on one: the backlog grows */
    sim_fault f = sim_fault_defaults(SIM_FAULT_CRASH);
    f.target = a;
    f.replica = 1;
    f.at = 3.5; /* inside window 3 */
    f.duration = 3;
    sim_design_add_fault(d, &f);
    sim_options o = fx_opts(12, 0, 2);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    CHECK(window_errors(r, a, 0, 3) == 0);
    CHECK(window_errors(r, a, 4, 12) == 0); /* only what replica 1 held at 3.5 s failed */
    CHECK(sim_run_window(r, 5, a)->utilization > 0.95); /* one replica left, overloaded */
    CHECK(sim_run_window(r, 5, a)->replicas == 1);
    CHECK(sim_run_window(r, 7, a)->replicas == 2);
    sim_run_free(r);
    sim_design_free(d);
}

/* What a crashed replica holds fails at the crash: 100 rps of 1 s services on infinite
 * servers hold ~100 requests; a crash of replica 0 of 1 at 5.5 s fails them all at once. */
static void crash_fails_held(void) {
    sim_design *d = sim_design_new("held");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_const(1.0));
    d->components[a].workers = SIM_INFINITE_SERVERS;
    fx_open(d, a, 100);
    sim_fault f = sim_fault_defaults(SIM_FAULT_CRASH);
    f.target = a;
    f.replica = 0;
    f.at = 5.5;
    sim_design_add_fault(d, &f);
    sim_options o = fx_opts(6, 0, 1);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    uint64_t arrived_after = (uint64_t)(sim_run_window(r, 5, a)->arrivals / 2 + 0);
    CHECK(window_errors(r, a, 0, 5) == 0);
    CHECK_NEAR((double)window_errors(r, a, 5, 6), 100 + arrived_after, 35); /* Poisson(100) */
    CHECK(res->components[a].errors == res->e2e.failed);
    sim_run_free(r);
    sim_design_free(d);
}

/* A zone outage takes down every component of the zone, and only those. */
static void zone_outage(void) {
    sim_design *d = sim_design_new("zone");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    int c = fx_comp(d, "c", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    strcpy(d->components[a].zone, "east");
    strcpy(d->components[b].zone, "west");
    strcpy(d->components[c].zone, "east");
    fx_open(d, a, 100);
    fx_open(d, b, 100);
    fx_open(d, c, 100);
    sim_fault f = sim_fault_defaults(SIM_FAULT_ZONE);
    strcpy(f.zone, "east");
    f.at = 2;
    f.duration = 3;
    sim_design_add_fault(d, &f);
    sim_options o = fx_opts(8, 0, 3);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    CHECK(res->components[b].errors == 0);
    CHECK_NEAR((double)window_errors(r, a, 2, 5), 300, 60);
    CHECK_NEAR((double)window_errors(r, c, 2, 5), 300, 60);
    CHECK(window_errors(r, a, 5, 8) == 0 && window_errors(r, c, 0, 2) == 0);
    sim_run_free(r);
    sim_design_free(d);
}

/* A partitioned call edge: without a timeout calls fail at once; with one, they fail when it
 * fires (counted as timeouts). Outside the window, nothing fails. */
static void partition(void) {
    for (int with_timeout = 0; with_timeout < 2; with_timeout++) {
        sim_design *d = sim_design_new("part");
        int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.001));
        int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
        d->components[a].workers = SIM_INFINITE_SERVERS;
        int e = fx_edge(d, a, b, SIM_EDGE_CALL, 1);
        d->edges[e].timeout = with_timeout ? 0.05 : 0;
        fx_open(d, a, 100);
        sim_fault f = sim_fault_defaults(SIM_FAULT_PARTITION);
        f.target = e;
        f.at = 2;
        f.duration = 2;
        sim_design_add_fault(d, &f);
        sim_options o = fx_opts(6, 0, 4);
        const sim_results *res;
        sim_run *r = fx_run(d, &o, &res);
        CHECK_NEAR((double)window_errors(r, a, 2, 5), 200, 45);
        CHECK(window_errors(r, a, 0, 2) == 0 && window_errors(r, a, 5, 6) == 0);
        CHECK(res->components[b].errors == 0);
        CHECK(window_arrivals(r, b, 2, 4) <= 5 + (uint64_t)with_timeout * 0);
        if (with_timeout)
            CHECK(res->components[a].timeouts == res->components[a].errors);
        else
            CHECK(res->components[a].timeouts == 0);
        sim_run_free(r);
        sim_design_free(d);
    }
}

/* Packet loss of 0.3 on a call edge without retries fails ~30 % of requests. */
static void packet_loss(void) {
    sim_design *d = sim_design_new("loss");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    d->components[a].workers = d->components[b].workers = SIM_INFINITE_SERVERS;
    int e = fx_edge(d, a, b, SIM_EDGE_CALL, 1);
    fx_open(d, a, 500);
    sim_fault f = sim_fault_defaults(SIM_FAULT_PACKET_LOSS);
    f.target = e;
    f.value = 0.3;
    sim_design_add_fault(d, &f);
    sim_options o = fx_opts(20, 0, 5);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    CHECK_NEAR(res->e2e.error_rate, 0.3, 0.015); /* sd 0.002 */
    sim_run_free(r);
    sim_design_free(d);
}

/* Loss on forward and async edges: a lost forward fails the request at the sender (counted
 * there); a lost async copy simply never arrives while the sender answers normally. */
static void forward_async_loss(void) {
    sim_design *d = sim_design_new("floss");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    int c = fx_comp(d, "c", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    for (int k = 0; k < 3; k++)
        d->components[k].workers = SIM_INFINITE_SERVERS;
    int fwd = fx_edge(d, a, b, SIM_EDGE_FORWARD, 0.5);
    int asy = fx_edge(d, a, c, SIM_EDGE_ASYNC, 0.5);
    fx_open(d, a, 1000);
    sim_fault f = sim_fault_defaults(SIM_FAULT_PACKET_LOSS);
    f.target = fwd;
    f.value = 0.4;
    sim_design_add_fault(d, &f);
    f = sim_fault_defaults(SIM_FAULT_PARTITION);
    f.target = asy;
    sim_design_add_fault(d, &f);
    sim_options o = fx_opts(20, 0, 3);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    double n = (double)res->components[a].arrivals;
    CHECK_NEAR(res->components[a].errors / n, 0.5 * 0.4, 0.01); /* sd 0.0009 */
    CHECK_NEAR(res->e2e.error_rate, 0.2, 0.01);
    CHECK(res->components[c].arrivals == 0);
    CHECK_NEAR(res->components[b].arrivals / n, 0.5 * 0.6, 0.01);
    sim_run_free(r);
    sim_design_free(d);
}

/* A latency fault (+20 ms from 4 s to 7 s) raises the response time of those windows by
 * 20 ms; a capacity fault of 0.5 doubles the service time; an error-rate fault of 0.25 fails a
 * quarter; a hit-ratio fault of 0 sends every request past the cache. */
static void service_faults(void) {
    sim_design *d = sim_design_new("lat");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_CACHE, sim_dist_const(0.002));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.001));
    d->components[a].workers = d->components[b].workers = SIM_INFINITE_SERVERS;
    d->components[a].hit_ratio = 1;
    fx_edge(d, a, b, SIM_EDGE_CALL, 1);
    fx_open(d, a, 200);
    sim_fault f = sim_fault_defaults(SIM_FAULT_LATENCY);
    f.target = a;
    f.at = 4;
    f.duration = 3;
    f.value = 0.02;
    sim_design_add_fault(d, &f);
    f = sim_fault_defaults(SIM_FAULT_CAPACITY);
    f.target = a;
    f.at = 10;
    f.duration = 2;
    f.value = 0.5;
    sim_design_add_fault(d, &f);
    f = sim_fault_defaults(SIM_FAULT_ERROR_RATE);
    f.target = a;
    f.at = 14;
    f.duration = 4;
    f.value = 0.25;
    sim_design_add_fault(d, &f);
    f = sim_fault_defaults(SIM_FAULT_HIT_RATIO);
    f.target = a;
    f.at = 20;
    f.duration = 2;
    f.value = 0;
    sim_design_add_fault(d, &f);
    sim_options o = fx_opts(24, 0, 6);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    CHECK_REL(sim_run_window(r, 2, a)->p50, 0.002, 0.01);
    CHECK_REL(sim_run_window(r, 5, a)->p50, 0.022, 0.01);
    CHECK_REL(sim_run_window(r, 8, a)->p50, 0.002, 0.01);
    CHECK_REL(sim_run_window(r, 11, a)->p50, 0.004, 0.01);
    double errs = (double)window_errors(r, a, 14, 18), arr = (double)window_arrivals(r, a, 14, 18);
    CHECK_NEAR(errs / arr, 0.25, 0.05);
    CHECK(window_arrivals(r, b, 0, 20) == 0);
    CHECK_NEAR((double)window_arrivals(r, b, 20, 22), (double)window_arrivals(r, a, 20, 22), 3);
    CHECK_REL(sim_run_window(r, 21, -1)->p50, 0.003, 0.01);
    sim_run_free(r);
    sim_design_free(d);
}

/* Live control: inject a crash at 3 s for 1 s, and scale 1 -> 3 replicas at 6 s. */
static void live_control(void) {
    sim_design *d = sim_design_new("live");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    d->components[a].cost_per_hour = 1;
    fx_open(d, a, 100);
    sim_options o = fx_opts(10, 0, 7);
    sim_run *r = fx_new(d, &o);
    CHECK(sim_run_until(r, 3) == 0);
    sim_fault f = sim_fault_defaults(SIM_FAULT_CRASH);
    f.target = a;
    f.duration = 1;
    f.at = 99; /* ignored: live faults start now */
    CHECK(sim_run_inject(r, &f) == 0);
    CHECK(sim_run_until(r, 6) == 0);
    CHECK(sim_run_set_replicas(r, a, 3) == 0);
    CHECK(sim_run_set_replicas(r, a, 0) == -1);
    CHECK(sim_run_until(r, 10) == 1);
    const sim_results *res = sim_run_results(r);
    CHECK_NEAR((double)window_errors(r, a, 3, 4), 100, 35);
    CHECK(window_errors(r, a, 4, 10) == 0);
    CHECK(sim_run_window(r, 8, a)->replicas == 3);
    CHECK_NEAR(res->components[a].replicas_mean, (3 * 1 + 1 * 0 + 2 * 1 + 4 * 3) / 10.0, 1e-9);
    CHECK(res->components[a].replicas_peak == 3);
    CHECK_NEAR(res->components[a].cost_month, res->components[a].replicas_mean * 730, 1e-6);
    sim_run_free(r);
    sim_design_free(d);
}

/* Autoscaling under a spike: 30 rps on 10 ms (u = 0.3 on one replica), then x8 from 10 s to
 * 30 s (2.4 busy servers, 4 at u = 0.6): the autoscaler adds replicas up to its max of 4,
 * then gives them back. */
static void autoscale_spike(void) {
    sim_design *d = sim_design_new("as");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.01));
    sim_autoscale *as = &d->components[a].autoscale;
    as->enabled = 1;
    as->min = 1;
    as->max = 4;
    as->target_util = 0.6;
    as->cooldown = 2;
    as->provision_delay = 1;
    as->interval = 1;
    int w = fx_open(d, a, 30);
    d->workloads[w].pattern = SIM_PATTERN_SPIKE;
    d->workloads[w].start = 10;
    d->workloads[w].over = 20;
    d->workloads[w].factor = 8;
    sim_options o = fx_opts(60, 0, 8);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    CHECK(sim_run_window(r, 8, a)->replicas == 1);
    CHECK(sim_run_window(r, 25, a)->replicas == 4);
    CHECK(res->components[a].replicas_peak == 4);
    CHECK(sim_run_window(r, 58, a)->replicas <= 2);
    sim_run_free(r);
    sim_design_free(d);
}

/* Patterns: the arrivals per window follow ramp, steps and diurnal rates. */
static void patterns(void) {
    sim_design *d = sim_design_new("pat");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    int c = fx_comp(d, "c", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    for (int k = 0; k < 3; k++)
        d->components[k].workers = SIM_INFINITE_SERVERS;
    int w = fx_open(d, a, 1000);
    d->workloads[w].pattern = SIM_PATTERN_RAMP; /* 1000 -> 3000 over [10, 30) */
    d->workloads[w].start = 10;
    d->workloads[w].over = 20;
    d->workloads[w].to_rps = 3000;
    w = fx_open(d, b, 1000);
    d->workloads[w].pattern = SIM_PATTERN_STEPS;
    d->workloads[w].nsteps = 2;
    d->workloads[w].steps[0] = (sim_step){10, 2000};
    d->workloads[w].steps[1] = (sim_step){20, 500};
    w = fx_open(d, c, 1000);
    d->workloads[w].pattern = SIM_PATTERN_DIURNAL;
    d->workloads[w].period = 40;
    d->workloads[w].amplitude = 0.5;
    sim_options o = fx_opts(40, 0, 9);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    /* Poisson counts of ~1000-3000 per window: 5 % is > 3 sd */
    CHECK_REL((double)sim_run_window(r, 5, a)->arrivals, 1000, 0.1);
    CHECK_REL((double)window_arrivals(r, a, 19, 21), 2 * 2000, 0.05);
    CHECK_REL((double)window_arrivals(r, a, 32, 36), 4 * 3000, 0.05);
    CHECK_REL((double)window_arrivals(r, b, 12, 18), 6 * 2000, 0.05);
    CHECK_REL((double)window_arrivals(r, b, 22, 38), 16 * 500, 0.05);
    /* diurnal: 1000 (1 + 0.5 sin(2 pi t / 40)): peak quarter [5, 15) vs trough [25, 35) */
    double peak = 10 * 1000 + 1000 * 0.5 * 40 / (2 * M_PI) * 2 * sin(M_PI / 4) * 2 / 2;
    CHECK_REL((double)window_arrivals(r, c, 5, 15), peak, 0.05);
    CHECK_REL((double)window_arrivals(r, c, 25, 35), 2 * 10000 - peak, 0.05);
    sim_run_free(r);
    sim_design_free(d);
}

TEST_MAIN(TEST(crash_and_recovery), TEST(replica_crash), TEST(crash_fails_held), TEST(zone_outage),
          TEST(partition), TEST(packet_loss), TEST(forward_async_loss), TEST(service_faults),
          TEST(live_control), TEST(autoscale_spike), TEST(patterns))
