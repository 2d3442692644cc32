/* The design model: defaults, names, and every invariant sim_design_check defends. */
#include <string.h>

#include "model.h"
#include "test.h"

/* A valid two-component design: api calls db. */
static sim_design *two(void) {
    sim_design *d = sim_design_new("t");
    sim_component a = sim_component_defaults("api"), b = sim_component_defaults("db");
    sim_design_add_component(d, &a);
    sim_design_add_component(d, &b);
    sim_edge e = sim_edge_defaults(0, 1);
    sim_design_add_edge(d, &e);
    sim_workload w = sim_workload_defaults(0);
    sim_design_add_workload(d, &w);
    return d;
}

/* Expects the check to fail with a message containing `needle`. */
static void expect_fail(sim_design *d, const char *needle) {
    char err[256];
    CHECK(sim_design_check(d, err, sizeof err) == -1);
    CHECK(d->checked == 0);
    if (!strstr(err, needle)) fprintf(stderr, "  message was: %s (wanted %s)\n", err, needle);
    CHECK(strstr(err, needle) != NULL);
    sim_design_free(d);
}

static void defaults_and_valid(void) {
    sim_component c = sim_component_defaults("x");
    CHECK(c.replicas == 1 && c.workers == 1 && c.queue_cap == SIM_UNBOUNDED);
    CHECK(c.service.kind == SIM_DIST_EXP && c.service.mean == 0.005);
    sim_edge e = sim_edge_defaults(0, 1);
    CHECK(e.p == 1 && e.latency == 0 && e.mode == SIM_EDGE_CALL);
    sim_design *d = two();
    char err[256];
    CHECK(sim_design_check(d, err, sizeof err) == 0);
    CHECK(d->checked == 1);
    CHECK(sim_design_find(d, "db") == 1 && sim_design_find(d, "nope") == -1);
    sim_component x = sim_component_defaults("x");
    sim_design_add_component(d, &x); /* a change clears the checked mark */
    CHECK(d->checked == 0);
    sim_design_free(d);
}

static void names_round_trip(void) {
    for (int i = 0; i <= SIM_BEHAVIOR_QUEUE; i++)
        CHECK(sim_behavior_parse(sim_behavior_name((sim_behavior)i)) == i);
    for (int i = 0; i <= SIM_POLICY_WEIGHTED; i++)
        CHECK(sim_policy_parse(sim_policy_name((sim_policy)i)) == i);
    for (int i = 0; i <= SIM_EDGE_ASYNC; i++)
        CHECK(sim_edge_mode_parse(sim_edge_mode_name((sim_edge_mode)i)) == i);
    for (int i = 0; i <= SIM_PATTERN_STEPS; i++)
        CHECK(sim_pattern_parse(sim_pattern_name((sim_pattern)i)) == i);
    for (int i = 0; i <= SIM_FAULT_PACKET_LOSS; i++)
        CHECK(sim_fault_kind_parse(sim_fault_kind_name((sim_fault_kind)i)) == i);
    CHECK(sim_policy_parse("p2c") == SIM_POLICY_P2C);
    CHECK(sim_fault_kind_parse("packet_loss") == SIM_FAULT_PACKET_LOSS);
    CHECK(sim_behavior_parse("bogus") == -1 && sim_policy_parse(NULL) == -1);
}

static void invariants(void) {
    sim_design *d = two();
    d->edges[0].to = 5;
    expect_fail(d, "edge 0");
    d = two();
    d->edges[0].p = 1.5;
    expect_fail(d, "edge 0 (api -> db)");
    d = two();
    d->components[1].replicas = 0;
    expect_fail(d, "'db'");
    d = two();
    d->components[0].workers = SIM_MAX_WORKERS + 1;
    expect_fail(d, "workers");
    d = two();
    d->components[0].queue_cap = -2;
    expect_fail(d, "queue_cap");
    d = two();
    d->components[0].error_rate = NAN;
    expect_fail(d, "error_rate");
    d = two();
    d->components[0].service.mean = -1;
    expect_fail(d, "service time of component 'api'");
    d = two();
    strcpy(d->components[1].id, "api");
    expect_fail(d, "appears twice");
    d = two();
    d->workloads[0].to = -1;
    expect_fail(d, "workload 0");
    d = two();
    d->components[0].autoscale.enabled = 1;
    d->components[0].autoscale.min = 3; /* replicas 1 < min */
    expect_fail(d, "autoscale");
}

static void exclusive_sum(void) {
    sim_design *d = two();
    sim_edge f = sim_edge_defaults(0, 1);
    f.mode = SIM_EDGE_FORWARD;
    f.p = 0.6;
    sim_design_add_edge(d, &f);
    f.mode = SIM_EDGE_ASYNC;
    sim_design_add_edge(d, &f); /* 0.6 + 0.6 > 1 */
    expect_fail(d, "sum to 1.2");
    d = two();
    f.p = 0.5;
    sim_design_add_edge(d, &f);
    sim_design_add_edge(d, &f); /* exactly 1 is fine */
    char err[256];
    CHECK(sim_design_check(d, err, sizeof err) == 0);
    sim_design_free(d);
}

static void call_cycle(void) {
    sim_design *d = two();
    sim_component c = sim_component_defaults("c");
    sim_design_add_component(d, &c);
    sim_edge e = sim_edge_defaults(1, 2);
    sim_design_add_edge(d, &e);
    e = sim_edge_defaults(2, 0); /* api -> db -> c -> api */
    sim_design_add_edge(d, &e);
    expect_fail(d, "cycle");
    /* The same loop closed by a forward edge is a Jackson network: allowed. */
    d = two();
    sim_design_add_component(d, &c);
    e = sim_edge_defaults(1, 2);
    sim_design_add_edge(d, &e);
    e = sim_edge_defaults(2, 0);
    e.mode = SIM_EDGE_FORWARD;
    e.p = 0.5;
    sim_design_add_edge(d, &e);
    char err[256];
    CHECK(sim_design_check(d, err, sizeof err) == 0);
    sim_design_free(d);
}

static void faults(void) {
    sim_design *d = two();
    sim_fault f = sim_fault_defaults(SIM_FAULT_PARTITION);
    f.target = 3; /* only one edge */
    sim_design_add_fault(d, &f);
    expect_fail(d, "fault 0 (partition)");
    d = two();
    f = sim_fault_defaults(SIM_FAULT_CRASH);
    f.target = 1;
    f.replica = 1; /* db has one replica */
    sim_design_add_fault(d, &f);
    expect_fail(d, "replica 1");
    d = two();
    f = sim_fault_defaults(SIM_FAULT_ZONE);
    sim_design_add_fault(d, &f); /* no zone named */
    expect_fail(d, "zone");
}

static void empirical_owned(void) {
    sim_design *d = two();
    double v[3] = {0.001, 0.002, 0.003};
    CHECK(sim_design_set_empirical(d, &d->components[0].service, v, 3) == 0);
    v[0] = 99; /* the design keeps its own copy */
    char err[256];
    CHECK(sim_design_check(d, err, sizeof err) == 0);
    CHECK_NEAR(d->components[0].service.mean, 0.002, 1e-12);
    sim_design_free(d);
}

TEST_MAIN(TEST(defaults_and_valid), TEST(names_round_trip), TEST(invariants), TEST(exclusive_sum),
          TEST(call_cycle), TEST(faults), TEST(empirical_owned))
