/* Component behaviours and policies: balancer, cache, database, queue, async, replica choice. */
#include "sim_fixture.h"
#include "sim_internal.h"
#include "test.h"

/* A balancer with three forward edges and round robin: arrivals differ by at most one. */
static void balancer_round_robin_exact(void) {
    sim_design *d = sim_design_new("lb");
    int lb = fx_comp(d, "lb", SIM_BEHAVIOR_BALANCER, sim_dist_const(0));
    d->components[lb].workers = SIM_INFINITE_SERVERS;
    for (int k = 0; k < 3; k++) {
        char id[8];
        snprintf(id, sizeof id, "s%d", k);
        int s = fx_comp(d, id, SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
        fx_edge(d, lb, s, SIM_EDGE_FORWARD, 0.1); /* p is ignored by a balancer */
    }
    fx_open(d, lb, 300);
    sim_options o = fx_opts(20, 0, 1);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    uint64_t a0 = res->components[1].arrivals, a1 = res->components[2].arrivals,
             a2 = res->components[3].arrivals;
    CHECK(a0 + a1 + a2 == res->components[0].completions && a0 > 1800);
    CHECK(a0 - a1 <= 1 && a1 - a2 <= 1 && a0 >= a2); /* round robin: a0 >= a1 >= a2 >= a0 - 1 */
    CHECK(res->components[0].utilization == 0);      /* a delay station */
    sim_run_free(r);
    sim_design_free(d);
}

/* A balancer takes exactly one edge whatever its mode: with a call edge and a forward edge
 * under round robin, each target sees half the requests (and the call's caller does not
 * forward afterwards). */
static void balancer_one_edge_any_mode(void) {
    sim_design *d = sim_design_new("lb2");
    int lb = fx_comp(d, "lb", SIM_BEHAVIOR_BALANCER, sim_dist_const(0));
    d->components[lb].workers = SIM_INFINITE_SERVERS;
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    fx_edge(d, lb, a, SIM_EDGE_CALL, 1);
    fx_edge(d, lb, b, SIM_EDGE_FORWARD, 1);
    fx_open(d, lb, 200);
    sim_options o = fx_opts(10, 0, 3);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    double na = (double)res->components[a].arrivals, nb = (double)res->components[b].arrivals;
    CHECK(na > 900);
    CHECK_NEAR(na, nb, 1.5); /* round robin: exact up to the last request */
    sim_run_free(r);
    sim_design_free(d);
}

/* Balancer policies spread roughly evenly; consistent hashing with one key uses one edge. */
static void balancer_policies(void) {
    int policies[] = {SIM_POLICY_RANDOM, SIM_POLICY_LEAST_CONN, SIM_POLICY_P2C,
                      SIM_POLICY_CONSISTENT_HASH, SIM_POLICY_WEIGHTED};
    for (int k = 0; k < 5; k++)
        for (int onekey = 0; onekey < 2; onekey++) {
            sim_design *d = sim_design_new("lb");
            int lb = fx_comp(d, "lb", SIM_BEHAVIOR_BALANCER, sim_dist_const(0));
            d->components[lb].workers = SIM_INFINITE_SERVERS;
            d->components[lb].policy = (sim_policy)policies[k];
            for (int s = 0; s < 2; s++) {
                char id[8];
                snprintf(id, sizeof id, "s%d", s);
                int c = fx_comp(d, id, SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.002));
                fx_edge(d, lb, c, SIM_EDGE_CALL, 1);
            }
            int w = fx_open(d, lb, 400);
            d->workloads[w].keys = onekey ? 1 : 0;
            sim_options o = fx_opts(10, 0, 7);
            const sim_results *res;
            sim_run *r = fx_run(d, &o, &res);
            double a0 = (double)res->components[1].arrivals,
                   a1 = (double)res->components[2].arrivals;
            double share = a0 / (a0 + a1);
            if (policies[k] == SIM_POLICY_CONSISTENT_HASH && onekey)
                CHECK(share == 0 || share == 1);
            else if (policies[k] == SIM_POLICY_LEAST_CONN) /* ties go to the first edge */
                CHECK(share >= 0.5 && share < 0.8);
            else if (policies[k] != SIM_POLICY_CONSISTENT_HASH)
                CHECK_NEAR(share, 0.5, 0.05); /* +-0.05 is > 6 sigma for ~4000 requests */
            else /* 64 virtual nodes per edge: the ring itself is uneven by several % */
                CHECK_NEAR(share, 0.5, 0.2);
            if (test_current_failed_)
                fprintf(stderr, "  policy %s onekey %d share %g\n",
                        sim_policy_name((sim_policy)policies[k]), onekey, share);
            CHECK(res->e2e.completed > 3500);
            sim_run_free(r);
            sim_design_free(d);
        }
}

/* A weighted balancer follows edge weights (3:1). */
static void balancer_weighted(void) {
    sim_design *d = sim_design_new("w");
    int lb = fx_comp(d, "lb", SIM_BEHAVIOR_BALANCER, sim_dist_const(0));
    d->components[lb].workers = SIM_INFINITE_SERVERS;
    d->components[lb].policy = SIM_POLICY_WEIGHTED;
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    int ea = fx_edge(d, lb, a, SIM_EDGE_FORWARD, 1), eb = fx_edge(d, lb, b, SIM_EDGE_FORWARD, 1);
    d->edges[ea].weight = 3;
    d->edges[eb].weight = 1;
    fx_open(d, lb, 500);
    sim_options o = fx_opts(20, 0, 2);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    double sa = (double)res->components[a].arrivals, sb = (double)res->components[b].arrivals;
    CHECK_NEAR(sa / (sa + sb), 0.75, 0.02); /* sd ~ 0.003 for 10,000 requests */
    sim_run_free(r);
    sim_design_free(d);
}

/* Replica policies over 4 replicas of one component: counted through the run's replicas. */
static void replica_consistent_hash(void) {
    sim_design *d = sim_design_new("ch");
    int s = fx_comp(d, "s", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    d->components[s].replicas = 4;
    d->components[s].workers = SIM_INFINITE_SERVERS;
    d->components[s].service = sim_dist_const(1.0); /* requests stay: we can see where */
    d->components[s].policy = SIM_POLICY_CONSISTENT_HASH;
    int w = fx_open(d, s, 1000);
    d->workloads[w].keys = 3; /* three keys: at most three replicas ever used */
    sim_options o = fx_opts(0.9, 0, 1);
    sim_run *r = fx_new(d, &o);
    sim_run_until(r, 0.9);
    int used = 0, total = 0;
    for (int k = 0; k < 4; k++) {
        used += r->comps[0].reps[k].insys > 0;
        total += r->comps[0].reps[k].insys;
    }
    CHECK(used >= 1 && used <= 3);
    CHECK(total > 800);
    sim_run_free(r);
    sim_design_free(d);
}

/* A cache with hit ratio 0.8 sends 20 % of its requests on to the database. */
static void cache_hit_ratio(void) {
    sim_design *d = sim_design_new("cache");
    int c = fx_comp(d, "cache", SIM_BEHAVIOR_CACHE, sim_dist_exp(0.0005));
    d->components[c].hit_ratio = 0.8;
    int db = fx_comp(d, "db", SIM_BEHAVIOR_DATABASE, sim_dist_exp(0.002));
    fx_edge(d, c, db, SIM_EDGE_CALL, 1);
    fx_open(d, c, 500);
    sim_options o = fx_opts(40, 1, 3);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    double ratio = (double)res->components[db].arrivals / (double)res->components[c].arrivals;
    CHECK_NEAR(ratio, 0.2, 0.01); /* binomial sd 0.0028 on ~19,500 requests */
    sim_run_free(r);
    sim_design_free(d);
}

/* Database writes go to replica 0 only: with replica 0 crashed, exactly the writes
 * (1 - read_ratio = 30 %) fail, and reads still succeed on replicas 1 and 2. */
static void database_writes_primary(void) {
    sim_design *d = sim_design_new("db");
    int db = fx_comp(d, "db", SIM_BEHAVIOR_DATABASE, sim_dist_exp(0.001));
    d->components[db].replicas = 3;
    d->components[db].read_ratio = 0.7;
    fx_open(d, db, 300);
    sim_fault f = sim_fault_defaults(SIM_FAULT_CRASH);
    f.target = db;
    f.replica = 0;
    sim_design_add_fault(d, &f);
    sim_options o = fx_opts(30, 0, 4);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    CHECK_NEAR(res->e2e.error_rate, 0.3, 0.02); /* sd 0.005 on ~9,000 requests */
    CHECK(res->components[db].errors == res->e2e.failed);
    sim_run_free(r);
    sim_design_free(d);
}

/* An async edge answers at once: end to end is the sender's service only, while the target
 * still processes every copy. */
static void async_answers_immediately(void) {
    sim_design *d = sim_design_new("async");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.001));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.05));
    d->components[b].workers = SIM_INFINITE_SERVERS;
    fx_edge(d, a, b, SIM_EDGE_ASYNC, 1);
    fx_open(d, a, 100);
    sim_options o = fx_opts(20, 1, 5);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    CHECK_NEAR(res->e2e.latency.mean, 0.001 + res->components[a].mean_wait, 1e-9);
    CHECK(res->e2e.latency.max < 0.01);
    CHECK_NEAR((double)res->components[b].completions, (double)res->components[a].completions, 10);
    CHECK_NEAR(res->components[b].response.mean, 0.05, 1e-9);
    sim_run_free(r);
    sim_design_free(d);
}

/* A queue component acknowledges on enqueue: the caller's call costs nothing; consumers
 * (one worker, 8 ms) work through the backlog; a full queue drops and the sender sees it. */
static void queue_acknowledges(void) {
    sim_design *d = sim_design_new("q");
    int p = fx_comp(d, "producer", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.001));
    d->components[p].workers = SIM_INFINITE_SERVERS;
    int q = fx_comp(d, "queue", SIM_BEHAVIOR_QUEUE, sim_dist_const(0.008));
    d->components[q].queue_cap = 5;
    fx_edge(d, p, q, SIM_EDGE_CALL, 1);
    fx_open(d, p, 100); /* rho = 0.8 at the consumer */
    sim_options o = fx_opts(30, 1, 6);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    CHECK_NEAR(res->e2e.latency.max, 0.001, 1e-6);   /* the ack costs the producer only */
    CHECK(res->components[q].response.mean > 0.008); /* consumers queue behind each other */
    CHECK(res->components[q].dropped > 0);
    CHECK(res->e2e.failed == res->components[q].dropped); /* the sender sees the drops */
    sim_run_free(r);
    sim_design_free(d);
}

/* Call p and forward p: a call taken with p = 0.5 and an exclusive forward with p = 0.25. */
static void edge_probabilities(void) {
    sim_design *d = sim_design_new("p");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    int c = fx_comp(d, "c", SIM_BEHAVIOR_SERVICE, sim_dist_exp(0.001));
    fx_edge(d, a, b, SIM_EDGE_CALL, 0.5);
    fx_edge(d, a, c, SIM_EDGE_FORWARD, 0.25);
    fx_open(d, a, 200);
    sim_options o = fx_opts(50, 0, 8);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    double n = (double)res->components[a].arrivals;
    CHECK_NEAR(res->components[b].arrivals / n, 0.5, 0.015);
    CHECK_NEAR(res->components[c].arrivals / n, 0.25, 0.015);
    sim_run_free(r);
    sim_design_free(d);
}

/* Scatter-gather: with fanout_all the caller waits for the slowest of its calls. Two
 * constant callees, 10 ms and 30 ms: the caller's response is 30 ms plus its own 1 ms. */
static void fanout_waits_for_all(void) {
    sim_design *d = sim_design_new("fan");
    int a = fx_comp(d, "a", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.001));
    d->components[a].workers = SIM_INFINITE_SERVERS;
    d->components[a].fanout_all = 1;
    int b = fx_comp(d, "b", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.01));
    int c = fx_comp(d, "c", SIM_BEHAVIOR_SERVICE, sim_dist_const(0.03));
    d->components[b].workers = d->components[c].workers = SIM_INFINITE_SERVERS;
    fx_edge(d, a, b, SIM_EDGE_CALL, 1);
    fx_edge(d, a, c, SIM_EDGE_CALL, 1);
    fx_open(d, a, 50);
    sim_options o = fx_opts(10, 0, 1);
    const sim_results *res;
    sim_run *r = fx_run(d, &o, &res);
    CHECK_NEAR(res->e2e.latency.mean, 0.031, 1e-9);
    d->components[a].fanout_all = 0; /* sequential: 41 ms */
    sim_run_free(r);
    r = fx_run(d, &o, &res);
    CHECK_NEAR(res->e2e.latency.mean, 0.041, 1e-9);
    sim_run_free(r);
    sim_design_free(d);
}

TEST_MAIN(TEST(balancer_round_robin_exact), TEST(balancer_one_edge_any_mode),
          TEST(balancer_policies), TEST(balancer_weighted), TEST(replica_consistent_hash),
          TEST(cache_hit_ratio), TEST(database_writes_primary), TEST(async_answers_immediately),
          TEST(queue_acknowledges), TEST(edge_probabilities), TEST(fanout_waits_for_all))
