/* Caller-side resilience and overload protection: timeouts and retries (with budget), circuit
 * breaker, rate limiter, load shedding, bounded queues. */
#include "sim_fixture.h"
#include "test.h"

/* a calls b; b always takes 50 ms but the call times out after 10 ms and is retried twice.
 * Every request makes 3 attempts (3 timeouts, 2 retries) and then fails at a. Counts are
 * exact up to the few requests still in flight at the end (at 20 rps, < 2). */
static void timeout_and_retries(void) {
    sim_design *d = sim_design_new("t");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.001));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.05));
    d->components[a].workers = d->components[b].workers = SIM_INFINITE_SERVERS;
    int e = fx_edge(d, a, b, SIM_EDGE_CALL, 1);
    d->edges[e].timeout = 0.01;
    d->edges[e].retries = 2;
    d->edges[e].backoff_base = 0.005;
    fx_open(d, a, 20);
    sim_options o = fx_opts(50, 0, 1);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    const sim_component_result *ra = &res->components[a];
    double n = (double)ra->errors;
    CHECK(n > 900);
    CHECK_NEAR((double)ra->timeouts, 3 * n, 6);
    CHECK_NEAR((double)ra->retries, 2 * n, 4);
    CHECK(res->e2e.completed == 0);
    CHECK(res->e2e.failed == ra->errors);
    CHECK_NEAR((double)res->components[b].arrivals, 3 * n, 6); /* late attempts still run */
    sim_run_free(r);
    sim_design_free(d);
}

/* A retry succeeds: b fails half its services; with 3 retries, a request fails only when
 * all 4 attempts fail (1/16), and a makes on average 1 + 1/2 + 1/4 + 1/8 attempts. */
static void retries_recover(void) {
    sim_design *d = sim_design_new("r");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    d->components[a].workers = d->components[b].workers = SIM_INFINITE_SERVERS;
    d->components[b].error_rate = 0.5;
    int e = fx_edge(d, a, b, SIM_EDGE_CALL, 1);
    d->edges[e].retries = 3;
    d->edges[e].backoff_base = 0.001;
    d->edges[e].jitter = 1;
    fx_open(d, a, 200);
    sim_options o = fx_opts(50, 0, 2);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    CHECK_NEAR(res->e2e.error_rate, 1.0 / 16, 0.012); /* sd 0.0024 on 10,000 requests */
    double per = (double)res->components[b].arrivals / (double)res->components[a].arrivals;
    CHECK_NEAR(per, 1.875, 0.03);
    sim_run_free(r);
    sim_design_free(d);
}

/* A retry budget of 10 % caps retries at ~10 % of calls even though every call fails. */
static void retry_budget(void) {
    sim_design *d = sim_design_new("b");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.0001));
    d->components[a].workers = d->components[b].workers = SIM_INFINITE_SERVERS;
    d->components[b].error_rate = 1;
    int e = fx_edge(d, a, b, SIM_EDGE_CALL, 1);
    d->edges[e].retries = 3;
    d->edges[e].retry_budget = 0.1;
    fx_open(d, a, 200);
    sim_options o = fx_opts(20, 0, 3);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    double calls = (double)res->components[a].arrivals;
    CHECK_NEAR(res->components[a].retries / calls, 0.1, 0.01);
    sim_run_free(r);
    sim_design_free(d);
}

/* b is down for the whole run. The breaker (5 failures, open 1 s, 1 probe) lets through 5
 * calls, then one probe per second: ~25 calls reach b in 20 s; the rest are rejected at a. */
static void breaker_opens_and_rejects(void) {
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
    f.duration = 10; /* down for 10 s, then healthy: the breaker closes again */
    sim_design_add_fault(d, &f);
    fx_open(d, a, 100);
    sim_options o = fx_opts(20, 0, 4);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    CHECK(res->components[b].errors >= 5 && res->components[b].errors <= 20);
    CHECK(res->components[a].rejected > 900);
    CHECK_NEAR((double)res->components[a].rejected + res->components[b].errors,
               (double)res->components[a].errors, 0.5);
    /* after recovery (and one open period) everything succeeds */
    uint64_t late_errors = 0;
    for (int w = 12; w < 20; w++)
        late_errors += sim_run_window(r, w, a)->errors;
    CHECK(late_errors == 0);
    sim_run_free(r);
    sim_design_free(d);
}

/* A token bucket at 100/s (burst 10) in front of 300 rps: throughput ~100/s, the rest is
 * rejected (and counted as errors). */
static void rate_limiter(void) {
    sim_design *d = sim_design_new("rl");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.001));
    d->components[a].workers = SIM_INFINITE_SERVERS;
    d->components[a].rate_limit = 100;
    d->components[a].rate_burst = 10;
    fx_open(d, a, 300);
    sim_options o = fx_opts(30, 1, 5);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    CHECK_REL(res->components[a].throughput, 100, 0.02);
    CHECK_REL((double)res->components[a].rejected / res->measured_time, 200, 0.05);
    CHECK(res->components[a].errors == res->components[a].rejected);
    sim_run_free(r);
    sim_design_free(d);
}

/* Overload (rho = 1.5) with shedding at 20 ms: shed requests never get served, the ones
 * served waited at most 20 ms, and the backlog stays bounded. */
static void shedding(void) {
    sim_design *d = sim_design_new("shed");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.01));
    d->components[a].shed_wait = 0.02;
    fx_open(d, a, 150);
    sim_options o = fx_opts(60, 5, 6);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    const sim_component_result *ra = &res->components[a];
    CHECK(ra->shed > 1000);
    CHECK(ra->errors == ra->shed);
    CHECK(ra->mean_wait < 0.02);
    CHECK(ra->throughput < 100.5); /* capacity is 100/s */
    CHECK(ra->mean_queue < 20);
    sim_run_free(r);
    sim_design_free(d);
}

/* M/M/1/K: a bounded queue drops; P_K = (1 - rho) rho^K / (1 - rho^(K+1)) at rho 0.9, K = 3
 * places in all (1 in service + 2 waiting). */
static void bounded_queue_drops(void) {
    sim_design *d = sim_design_new("k");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    d->components[a].queue_cap = 2;
    fx_open(d, a, 900);
    sim_options o = fx_opts(200, 5, 7);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    double rho = 0.9, pk = (1 - rho) * pow(rho, 3) / (1 - pow(rho, 4));
    CHECK_REL((double)res->components[a].dropped / res->components[a].arrivals, pk, 0.03);
    CHECK(res->e2e.dropped == res->components[a].dropped);
    CHECK(res->e2e.failed == res->e2e.dropped);
    sim_run_free(r);
    sim_design_free(d);
}

TEST_MAIN(TEST(timeout_and_retries), TEST(retries_recover), TEST(retry_budget),
          TEST(breaker_opens_and_rejects), TEST(rate_limiter), TEST(shedding),
          TEST(bounded_queue_drops))
