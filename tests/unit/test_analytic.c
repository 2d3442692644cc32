/* The analytic pass against closed-form queueing results computed here, in the test.
 * Tolerances: 1e-9 relative for figures the pass computes exactly (only rounding differs);
 * looser ones are stated where the pass is documented as approximate. */
#include <string.h>
#include <time.h>

#include "analytic.h"
#include "test.h"

#define EXACT_REL 1e-9

/* ---- building designs ------------------------------------------------------------------- */

static int add_comp(sim_design *d, const char *id, int workers, sim_dist svc) {
    sim_component c = sim_component_defaults(id);
    c.workers = workers;
    c.service = svc;
    return sim_design_add_component(d, &c);
}

static int add_edge(sim_design *d, int from, int to, sim_edge_mode mode, double p, double lat) {
    sim_edge e = sim_edge_defaults(from, to);
    e.mode = mode;
    e.p = p;
    e.latency = lat;
    return sim_design_add_edge(d, &e);
}

static void add_open(sim_design *d, int to, double rps) {
    sim_workload w = sim_workload_defaults(to);
    w.rps = rps;
    sim_design_add_workload(d, &w);
}

static void add_closed(sim_design *d, int to, int users, double think) {
    sim_workload w = sim_workload_defaults(to);
    w.closed = 1;
    w.users = users;
    w.think = sim_dist_exp(think);
    sim_design_add_workload(d, &w);
}

/* Checks and analyzes; 0 on success, else prints why. */
static int analyze(sim_design *d, sim_analytic *a) {
    char err[256];
    if (sim_design_check(d, err, sizeof err)) {
        fprintf(stderr, "  design check: %s\n", err);
        return -1;
    }
    if (sim_analyze(d, a, err, sizeof err)) {
        fprintf(stderr, "  analyze: %s\n", err);
        return -1;
    }
    return 0;
}

static sim_dist dist_of(sim_dist_kind kind, double mean, double scv) {
    sim_dist s = sim_dist_exp(mean);
    s.kind = kind;
    s.scv = scv;
    return s;
}

/* Erlang C by its textbook sum: P(wait) = (a^c/c!)/(1-rho) / (sum_{k<c} a^k/k! + same). */
static double erlang_c_sum(int c, double a) {
    double term = 1, sum = 0;
    for (int k = 0; k < c; k++) {
        sum += term;
        term *= a / (k + 1);
    }
    double top = term / (1 - a / c);
    return top / (sum + top);
}

/* ---- single stations -------------------------------------------------------------------- */

static void test_mm1(void) {
    sim_design *d = sim_design_new("mm1");
    int s = add_comp(d, "s", 1, sim_dist_exp(0.01));
    add_open(d, s, 80);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        double rho = 0.8, w = 0.01 / (1 - rho);
        const sim_analytic_component *c = &a.components[s];
        CHECK_REL(c->utilization, rho, EXACT_REL);
        CHECK_REL(c->mean_response, w, EXACT_REL);
        CHECK_REL(c->mean_wait, w - 0.01, EXACT_REL);
        CHECK_REL(c->mean_in_system, rho / (1 - rho), EXACT_REL);
        CHECK_REL(c->saturation_rps, 100, EXACT_REL);
        CHECK(c->exactness == SIM_EXACT);
        CHECK_REL(a.e2e_mean, w, EXACT_REL);
        CHECK_REL(a.offered_rps, 80, EXACT_REL);
        CHECK(a.bottleneck == s);
        CHECK(a.closed == 0);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

static void test_mmc_erlang_c(void) {
    sim_design *d = sim_design_new("mmc");
    int s = add_comp(d, "s", 4, sim_dist_exp(0.1));
    add_open(d, s, 32); /* a = 3.2, rho = 0.8 */
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        double c = 4, lam = 32, mean = 0.1, aa = lam * mean;
        double wq = erlang_c_sum(4, aa) * mean / (c - aa);
        CHECK_REL(a.components[s].utilization, 0.8, EXACT_REL);
        CHECK_REL(a.components[s].mean_wait, wq, EXACT_REL);
        CHECK_REL(a.components[s].mean_response, wq + mean, EXACT_REL);
        CHECK_REL(a.components[s].mean_in_system, lam * (wq + mean), EXACT_REL);
        CHECK_REL(a.components[s].saturation_rps, 40, EXACT_REL);
        CHECK(a.components[s].exactness == SIM_EXACT);
    }
    CHECK_REL(sim_erlang_c(4, 3.2), erlang_c_sum(4, 3.2), EXACT_REL);
    CHECK_REL(sim_erlang_c(50, 45), erlang_c_sum(50, 45), 1e-9);
    /* Large stations start the recursion near k = a; compare with the whole recursion. */
    double b = 1, aa = 4900;
    for (int k = 1; k <= 5000; k++)
        b = aa * b / (k + aa * b);
    CHECK_REL(sim_erlang_c(5000, aa), b / (1 - aa / 5000 * (1 - b)), 1e-12);
    sim_analytic_free(&a);
    sim_design_free(d);
}

/* Pollaczek-Khinchine: Wq = lambda E[S^2] / (2 (1 - rho)), E[S^2] = (1 + scv) mean^2. */
static double pk_wait(double lam, double mean, double scv) {
    return lam * (1 + scv) * mean * mean / (2 * (1 - lam * mean));
}

static void test_md1_mg1(void) {
    sim_design *d = sim_design_new("mg1");
    int det = add_comp(d, "det", 1, sim_dist_const(0.01));
    int hyp = add_comp(d, "hyp", 1, dist_of(SIM_DIST_HYPEREXP, 0.01, 4));
    int erl = add_comp(d, "erl", 1, dist_of(SIM_DIST_ERLANG, 0.01, 0.25));
    int two = add_comp(d, "two", 2, sim_dist_const(0.01));
    add_open(d, det, 50);
    add_open(d, hyp, 70);
    add_open(d, erl, 90);
    add_open(d, two, 150);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        CHECK_REL(a.components[det].mean_wait, pk_wait(50, 0.01, 0), EXACT_REL);
        CHECK_REL(a.components[hyp].mean_wait, pk_wait(70, 0.01, 4), EXACT_REL);
        CHECK_REL(a.components[erl].mean_wait, pk_wait(90, 0.01, 0.25), EXACT_REL);
        CHECK(a.components[det].exactness == SIM_EXACT);
        CHECK(a.components[hyp].exactness == SIM_EXACT);
        CHECK(a.components[erl].exactness == SIM_EXACT);
        /* M/D/2: Allen-Cunneen, half the M/M/2 wait; documented as approximate. */
        double aa = 1.5, wq = erlang_c_sum(2, aa) * 0.01 / (2 - aa) * 0.5;
        CHECK_REL(a.components[two].mean_wait, wq, EXACT_REL);
        CHECK(a.components[two].exactness == SIM_APPROXIMATE);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

/* M/M/c/K from the birth-death chain summed here state by state. */
static void mmck_by_states(double lam, double mean, int c, int k, double *pb, double *l) {
    double p[64], a = lam * mean, sum = 0;
    p[0] = 1;
    for (int n = 1; n <= k; n++)
        p[n] = p[n - 1] * a / (n < c ? n : c);
    for (int n = 0; n <= k; n++)
        sum += p[n];
    *l = 0;
    for (int n = 0; n <= k; n++)
        *l += n * p[n] / sum;
    *pb = p[k] / sum;
}

static void test_mmck_blocking(void) {
    sim_design *d = sim_design_new("mmck");
    sim_component c = sim_component_defaults("one");
    c.service = sim_dist_exp(0.01);
    c.queue_cap = 4; /* K = 5 in system */
    int one = sim_design_add_component(d, &c);
    c = sim_component_defaults("three");
    c.workers = 3;
    c.queue_cap = 6;
    c.service = sim_dist_exp(0.05);
    int three = sim_design_add_component(d, &c);
    c = sim_component_defaults("erlangb");
    c.workers = 3;
    c.queue_cap = 0;
    c.service = sim_dist_exp(0.05);
    int eb = sim_design_add_component(d, &c);
    c = sim_component_defaults("over");
    c.queue_cap = 10;
    c.service = sim_dist_exp(0.01);
    int over = sim_design_add_component(d, &c);
    add_open(d, one, 90);
    add_open(d, three, 70);
    add_open(d, eb, 50);
    add_open(d, over, 150); /* rho 1.5: bounded, so it drops instead of being unstable */
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        /* M/M/1/K closed form. */
        double rho = 0.9, k = 5;
        double pb = (1 - rho) * pow(rho, k) / (1 - pow(rho, k + 1));
        double l = rho / (1 - rho) - (k + 1) * pow(rho, k + 1) / (1 - pow(rho, k + 1));
        CHECK_REL(a.components[one].drop_prob, pb, EXACT_REL);
        CHECK_REL(a.components[one].mean_in_system, l, EXACT_REL);
        CHECK_REL(a.components[one].mean_response, l / (90 * (1 - pb)), EXACT_REL);
        CHECK_REL(a.components[one].utilization, 90 * (1 - pb) * 0.01, EXACT_REL);
        CHECK(a.components[one].exactness == SIM_EXACT);
        double pb3, l3;
        mmck_by_states(70, 0.05, 3, 9, &pb3, &l3);
        CHECK_REL(a.components[three].drop_prob, pb3, EXACT_REL);
        CHECK_REL(a.components[three].mean_in_system, l3, EXACT_REL);
        /* Erlang B: (a^c/c!) / sum_{k<=c} a^k/k!, a = 2.5. */
        double aa = 2.5, b = (aa * aa * aa / 6) / (1 + aa + aa * aa / 2 + aa * aa * aa / 6);
        CHECK_REL(a.components[eb].drop_prob, b, EXACT_REL);
        CHECK_REL(a.components[eb].mean_wait, 0, EXACT_REL);
        double pbo, lo;
        mmck_by_states(150, 0.01, 1, 11, &pbo, &lo);
        CHECK_REL(a.components[over].drop_prob, pbo, EXACT_REL);
        CHECK_REL(a.components[over].mean_in_system, lo, EXACT_REL);
        CHECK(a.components[over].exactness == SIM_EXACT);
        /* Saturation scales every source together: 360 rps in all, 150 of them here. */
        CHECK_REL(a.components[over].saturation_rps, 360 / 1.5, EXACT_REL);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

/* Drops at a bounded queue thin the flow it passes on: b2 would be unstable at the offered
 * 120 rps (rho 1.2), but only 120 (1 - Pb) get through b1 (M/M/1/4 at rho 1.2). In a loop the same
 * thinning must leave finite answer times. */
static void test_drops_thin_downstream(void) {
    sim_design *d = sim_design_new("thin");
    sim_component c = sim_component_defaults("b1");
    c.queue_cap = 3;
    c.service = sim_dist_exp(0.01);
    int b1 = sim_design_add_component(d, &c);
    int b2 = add_comp(d, "b2", 1, sim_dist_exp(0.01));
    add_edge(d, b1, b2, SIM_EDGE_FORWARD, 1, 0);
    add_open(d, b1, 120);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        double rho = 1.2, k = 4, pb = (1 - rho) * pow(rho, k) / (1 - pow(rho, k + 1));
        CHECK_REL(a.components[b1].drop_prob, pb, EXACT_REL);
        CHECK_REL(a.components[b2].arrival_rate, 120 * (1 - pb), 1e-9);
        CHECK(a.components[b2].exactness == SIM_APPROXIMATE); /* not a Poisson input */
        CHECK(isfinite(a.e2e_mean));
    }
    sim_analytic_free(&a);
    sim_design_free(d);

    d = sim_design_new("thin-loop");
    b1 = sim_design_add_component(d, &c);
    b2 = add_comp(d, "b2", 1, sim_dist_exp(0.012));
    add_edge(d, b1, b2, SIM_EDGE_FORWARD, 1, 0);
    add_edge(d, b2, b1, SIM_EDGE_FORWARD, 0.2, 0);
    add_open(d, b1, 80);
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        double l1 = a.components[b1].arrival_rate, pb1 = a.components[b1].drop_prob;
        CHECK_REL(a.components[b2].arrival_rate, l1 * (1 - pb1), 1e-9);
        CHECK_REL(l1, 80 + 0.2 * a.components[b2].arrival_rate, 1e-9);
        CHECK(a.components[b2].exactness != SIM_UNSTABLE);
        CHECK(isfinite(a.e2e_mean));
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

/* ---- open networks ---------------------------------------------------------------------- */

static double mm1_r(double lam, double mean) {
    return mean / (1 - lam * mean);
}

static void test_tandem_jackson(void) {
    sim_design *d = sim_design_new("tandem");
    int x = add_comp(d, "x", 1, sim_dist_exp(0.01));
    int y = add_comp(d, "y", 1, sim_dist_exp(0.02));
    add_edge(d, x, y, SIM_EDGE_FORWARD, 1, 0.001);
    add_open(d, x, 30);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        CHECK_REL(a.components[y].arrival_rate, 30, EXACT_REL);
        CHECK_REL(a.components[x].mean_response, mm1_r(30, 0.01), EXACT_REL);
        CHECK_REL(a.e2e_mean, mm1_r(30, 0.01) + 0.001 + mm1_r(30, 0.02), EXACT_REL);
        CHECK(a.components[x].exactness == SIM_EXACT);
        CHECK(a.components[y].exactness == SIM_EXACT);
        CHECK(a.bottleneck == y);
        CHECK_REL(a.saturation_rps, 50, EXACT_REL);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

static void test_branch_split(void) {
    sim_design *d = sim_design_new("branch");
    int x = add_comp(d, "x", 1, sim_dist_exp(0.005));
    int y = add_comp(d, "y", 1, sim_dist_exp(0.01));
    int z = add_comp(d, "z", 1, sim_dist_exp(0.01));
    add_edge(d, x, y, SIM_EDGE_FORWARD, 0.3, 0.002);
    add_edge(d, x, z, SIM_EDGE_FORWARD, 0.5, 0.002);
    add_open(d, x, 100);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        CHECK_REL(a.components[y].arrival_rate, 30, EXACT_REL);
        CHECK_REL(a.components[z].arrival_rate, 50, EXACT_REL);
        double e2e =
            mm1_r(100, 0.005) + 0.3 * (0.002 + mm1_r(30, 0.01)) + 0.5 * (0.002 + mm1_r(50, 0.01));
        CHECK_REL(a.e2e_mean, e2e, EXACT_REL);
        CHECK(a.components[z].exactness == SIM_EXACT);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

static void test_feedback_loop(void) {
    sim_design *d = sim_design_new("feedback");
    int x = add_comp(d, "x", 1, sim_dist_exp(0.004));
    int y = add_comp(d, "y", 2, sim_dist_exp(0.01));
    add_edge(d, x, y, SIM_EDGE_FORWARD, 1, 0.001);
    add_edge(d, y, x, SIM_EDGE_FORWARD, 0.25, 0.001);
    add_open(d, x, 90);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        double lam = 90 / 0.75; /* lambda = gamma / (1 - loop gain) */
        CHECK_REL(a.components[x].arrival_rate, lam, EXACT_REL);
        CHECK_REL(a.components[y].arrival_rate, lam, EXACT_REL);
        double rx = mm1_r(lam, 0.004);
        double aa = lam * 0.01, ry = 0.01 + erlang_c_sum(2, aa) * 0.01 / (2 - aa);
        CHECK_REL(a.components[y].mean_response, ry, EXACT_REL);
        /* T_x = R_x + l + T_y, T_y = R_y + 0.25 (l + T_x). */
        double tx = (rx + 0.001 + ry + 0.25 * 0.001) / (1 - 0.25);
        CHECK_REL(a.e2e_mean, tx, 1e-10);
        CHECK(a.components[x].exactness == SIM_EXACT); /* Jackson: exact despite the loop */
    }
    sim_analytic_free(&a);
    sim_design_free(d);

    /* A self loop: lambda = gamma / (1 - p). */
    d = sim_design_new("self");
    x = add_comp(d, "x", 1, sim_dist_exp(0.004));
    add_edge(d, x, x, SIM_EDGE_FORWARD, 0.6, 0);
    add_open(d, x, 40);
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        CHECK_REL(a.components[x].arrival_rate, 100, EXACT_REL);
        CHECK_REL(a.e2e_mean, mm1_r(100, 0.004) / 0.4, 1e-10);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

static void test_loop_never_leaves(void) {
    sim_design *d = sim_design_new("loop");
    int x = add_comp(d, "x", 1, sim_dist_exp(0.001));
    int y = add_comp(d, "y", 1, sim_dist_exp(0.001));
    add_edge(d, x, y, SIM_EDGE_FORWARD, 1, 0);
    add_edge(d, y, x, SIM_EDGE_FORWARD, 1, 0);
    add_open(d, x, 1);
    char err[256];
    sim_analytic a;
    CHECK(sim_design_check(d, err, sizeof err) == 0);
    CHECK(sim_analyze(d, &a, err, sizeof err) == -1);
    CHECK(strstr(err, "routing loop never leaves") != NULL);
    CHECK(a.components == NULL);
    sim_design_free(d);

    /* Gain above 1 through a call: x calls y (p 1), y forwards back to x (p 1) and also
     * sends an async copy: every visit makes more than one new one. */
    d = sim_design_new("loop2");
    x = add_comp(d, "x", 0, sim_dist_exp(0.001));
    y = add_comp(d, "y", 0, sim_dist_exp(0.001));
    add_edge(d, x, y, SIM_EDGE_CALL, 1, 0);
    add_edge(d, y, x, SIM_EDGE_FORWARD, 0.6, 0);
    add_edge(d, y, y, SIM_EDGE_ASYNC, 0.4, 0);
    add_open(d, x, 1);
    CHECK(sim_design_check(d, err, sizeof err) == 0);
    CHECK(sim_analyze(d, &a, err, sizeof err) == -1);
    CHECK(strstr(err, "never leaves") != NULL);
    sim_design_free(d);

    /* A loop that no traffic reaches is harmless. */
    d = sim_design_new("unreached");
    int s = add_comp(d, "s", 1, sim_dist_exp(0.001));
    x = add_comp(d, "x", 1, sim_dist_exp(0.001));
    y = add_comp(d, "y", 1, sim_dist_exp(0.001));
    add_edge(d, x, y, SIM_EDGE_FORWARD, 1, 0);
    add_edge(d, y, x, SIM_EDGE_FORWARD, 1, 0);
    add_open(d, s, 10);
    CHECK(analyze(d, &a) == 0);
    if (a.components) CHECK(a.components[x].arrival_rate == 0);
    sim_analytic_free(&a);
    sim_design_free(d);
}

static void test_call_holding(void) {
    sim_design *d = sim_design_new("calls");
    int x = add_comp(d, "x", 4, sim_dist_exp(0.01));
    int y = add_comp(d, "y", 1, sim_dist_exp(0.005));
    add_edge(d, x, y, SIM_EDGE_CALL, 0.5, 0.001);
    add_open(d, x, 100);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        double ry = mm1_r(50, 0.005);
        double hold = 0.01 + 0.5 * (2 * 0.001 + ry);
        CHECK_REL(a.components[y].arrival_rate, 50, EXACT_REL);
        CHECK_REL(a.components[y].mean_response, ry, EXACT_REL);
        CHECK_REL(a.components[x].service_demand, hold, EXACT_REL);
        CHECK_REL(a.components[x].utilization, 100 * hold / 4, EXACT_REL);
        CHECK(a.components[x].exactness == SIM_APPROXIMATE);
        CHECK(a.components[y].exactness == SIM_APPROXIMATE); /* its input is not Poisson */
        CHECK(a.e2e_mean > hold && isfinite(a.e2e_mean));
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

/* Scatter-gather waits for the slowest branch. Exponential delay-station branches make the
 * holding time exact in the mean: 3 equal branches of 10 ms -> H_3 * 10 ms; branches of 10 ms
 * (taken half the time) and 20 ms -> P(max > t) = 1 - (1 - e^(-t/20))(1 - 0.5 e^(-t/10)),
 * integrated: 20 + 0.5 * 10 - 0.5 / (1/10 + 1/20) ms. */
static void test_fanout_slowest(void) {
    sim_design *d = sim_design_new("fanout");
    sim_component c = sim_component_defaults("f");
    c.workers = 64;
    c.fanout_all = 1;
    c.service = sim_dist_exp(0.002);
    int f = sim_design_add_component(d, &c);
    int g = sim_design_add_component(d, &c);
    d->components[g].fanout_all = 1;
    snprintf(d->components[g].id, sizeof d->components[g].id, "g");
    for (int k = 0; k < 3; k++) {
        char id[8];
        snprintf(id, sizeof id, "b%d", k);
        int b = add_comp(d, id, SIM_INFINITE_SERVERS, sim_dist_exp(0.01));
        add_edge(d, f, b, SIM_EDGE_CALL, 1, 0);
    }
    int h1 = add_comp(d, "h1", SIM_INFINITE_SERVERS, sim_dist_exp(0.01));
    int h2 = add_comp(d, "h2", SIM_INFINITE_SERVERS, sim_dist_exp(0.02));
    add_edge(d, g, h1, SIM_EDGE_CALL, 0.5, 0);
    add_edge(d, g, h2, SIM_EDGE_CALL, 1, 0);
    add_open(d, f, 100);
    add_open(d, g, 100);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        CHECK_REL(a.components[f].service_demand, 0.002 + 0.01 * (1 + 1.0 / 2 + 1.0 / 3), 1e-12);
        CHECK_REL(a.components[g].service_demand, 0.002 + 0.02 + 0.005 - 0.5 / (100 + 50), 1e-12);
        CHECK_REL(a.components[h1].arrival_rate, 50, EXACT_REL);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

/* A 3-tier pipeline: saturation of each tier = c / (visits * S), the smallest wins. */
static void test_three_tier_bottleneck(void) {
    sim_design *d = sim_design_new("3tier");
    sim_component c = sim_component_defaults("web");
    c.replicas = 2;
    c.workers = 4;
    c.service = sim_dist_exp(0.02);
    int web = sim_design_add_component(d, &c);
    int app = add_comp(d, "app", 8, sim_dist_exp(0.03));
    int db = add_comp(d, "db", 1, sim_dist_exp(0.004));
    add_edge(d, web, app, SIM_EDGE_FORWARD, 1, 0.0005);
    add_edge(d, app, db, SIM_EDGE_FORWARD, 0.3, 0.0005);
    add_open(d, web, 100);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        CHECK_REL(a.components[web].saturation_rps, 2 * 4 / 0.02, EXACT_REL);
        CHECK_REL(a.components[app].saturation_rps, 8 / 0.03, EXACT_REL);
        CHECK_REL(a.components[db].saturation_rps, 1 / (0.3 * 0.004), EXACT_REL);
        CHECK(a.bottleneck == app);
        CHECK_REL(a.saturation_rps, 8 / 0.03, EXACT_REL);
        CHECK(strstr(a.reason, "app saturates first at 267 rps") == a.reason);
        CHECK(strstr(a.reason, "0.38 of its 8 workers") != NULL);
        CHECK_REL(a.components[web].utilization, 50 * 0.02 / 4, EXACT_REL);
    }
    sim_analytic_free(&a);
    sim_design_free(d);

    /* The same tiers as blocking calls with a slow database: the database saturates first
     * (its saturation does not depend on anyone's holding time). */
    d = sim_design_new("3tier-calls");
    c.workers = 16;
    web = sim_design_add_component(d, &c);
    app = add_comp(d, "app", 16, sim_dist_exp(0.01));
    db = add_comp(d, "db", 1, sim_dist_exp(0.03));
    add_edge(d, web, app, SIM_EDGE_CALL, 1, 0.0005);
    add_edge(d, app, db, SIM_EDGE_CALL, 0.3, 0.0005);
    add_open(d, web, 90);
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        CHECK(a.bottleneck == db);
        CHECK_REL(a.saturation_rps, 1 / (0.3 * 0.03), EXACT_REL);
        CHECK(strstr(a.reason, "db saturates first at 111 rps: at 90 rps it needs 0.81") ==
              a.reason);
        double rdb = mm1_r(27, 0.03);
        CHECK_REL(a.components[app].service_demand, 0.01 + 0.3 * (0.001 + rdb), EXACT_REL);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

static void test_cache_miss_flow(void) {
    sim_design *d = sim_design_new("cache");
    sim_component c = sim_component_defaults("cache");
    c.behavior = SIM_BEHAVIOR_CACHE;
    c.hit_ratio = 0.8;
    c.workers = 8;
    c.service = sim_dist_exp(0.001);
    int cache = sim_design_add_component(d, &c);
    int db = add_comp(d, "db", 1, sim_dist_exp(0.01));
    add_edge(d, cache, db, SIM_EDGE_CALL, 1, 0.001);
    add_open(d, cache, 300);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        CHECK_REL(a.components[db].arrival_rate, 300 * 0.2, EXACT_REL);
        double hold = 0.001 + 0.2 * (0.002 + mm1_r(60, 0.01));
        CHECK_REL(a.components[cache].service_demand, hold, EXACT_REL);
        CHECK_REL(a.components[db].saturation_rps, 1 / (0.2 * 0.01), EXACT_REL);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

static void test_balancer_split(void) {
    sim_design *d = sim_design_new("lb");
    sim_component c = sim_component_defaults("lb");
    c.behavior = SIM_BEHAVIOR_BALANCER;
    c.workers = SIM_INFINITE_SERVERS;
    c.service = sim_dist_const(0);
    int lb = sim_design_add_component(d, &c);
    c = sim_component_defaults("wlb");
    c.behavior = SIM_BEHAVIOR_BALANCER;
    c.policy = SIM_POLICY_WEIGHTED;
    c.workers = SIM_INFINITE_SERVERS;
    c.service = sim_dist_const(0);
    int wlb = sim_design_add_component(d, &c);
    int s[3], w[2];
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "s%d", i);
        s[i] = add_comp(d, id, 1, sim_dist_exp(0.01));
        add_edge(d, lb, s[i], SIM_EDGE_FORWARD, 0.1, 0); /* p is ignored by a balancer */
    }
    for (int i = 0; i < 2; i++) {
        char id[8];
        snprintf(id, sizeof id, "w%d", i);
        w[i] = add_comp(d, id, 1, sim_dist_exp(0.01));
        int e = add_edge(d, wlb, w[i], SIM_EDGE_CALL, 1, 0);
        d->edges[e].weight = i == 0 ? 1 : 3;
    }
    add_open(d, lb, 150);
    add_open(d, wlb, 80);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        for (int i = 0; i < 3; i++)
            CHECK_REL(a.components[s[i]].arrival_rate, 50, EXACT_REL);
        CHECK_REL(a.components[w[0]].arrival_rate, 20, EXACT_REL);
        CHECK_REL(a.components[w[1]].arrival_rate, 60, EXACT_REL);
        CHECK(a.components[lb].utilization == 0);
        CHECK(isinf(a.components[lb].saturation_rps));
        /* Round robin is not a Poisson split: approximate. */
        CHECK(a.components[s[0]].exactness == SIM_APPROXIMATE);
        CHECK(a.bottleneck == w[1]);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

static void test_replicas_and_database(void) {
    sim_design *d = sim_design_new("reps");
    sim_component c = sim_component_defaults("rr");
    c.replicas = 2;
    c.service = sim_dist_exp(0.01);
    int rr = sim_design_add_component(d, &c);
    c = sim_component_defaults("rnd");
    c.replicas = 2;
    c.policy = SIM_POLICY_RANDOM;
    c.service = sim_dist_exp(0.01);
    int rnd = sim_design_add_component(d, &c);
    c = sim_component_defaults("db");
    c.behavior = SIM_BEHAVIOR_DATABASE;
    c.replicas = 4;
    c.read_ratio = 0.8;
    c.policy = SIM_POLICY_RANDOM;
    c.service = sim_dist_exp(0.005);
    int db = sim_design_add_component(d, &c);
    add_open(d, rr, 100);
    add_open(d, rnd, 100);
    add_open(d, db, 100);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        /* Round robin over 2: each replica sees Erlang-2 interarrivals (rate 50), an E2/M/1.
         * GI/M/1: sigma = (2 lam / (2 lam + mu (1 - sigma)))^2 with lam 50, mu 100 reads
         * (2 - x)^2 x = 1, i.e. (x - 1)(x^2 - 3x + 1) = 0: sigma = (3 - sqrt 5) / 2. */
        double sigma = (3 - sqrt(5)) / 2, r_rr = 1 / (100 * (1 - sigma));
        CHECK_REL(a.components[rr].mean_response, r_rr, EXACT_REL);
        CHECK_REL(a.components[rr].utilization, 0.5, EXACT_REL);
        CHECK_REL(a.components[rr].mean_in_system, 2 * 50 * r_rr, EXACT_REL);
        CHECK(a.components[rr].exactness == SIM_EXACT);
        CHECK_REL(a.components[rnd].mean_response, mm1_r(50, 0.01), EXACT_REL);
        CHECK(a.components[rnd].exactness == SIM_EXACT);
        /* Primary: writes 20 + a quarter of the reads 20 = 40 rps; the others 20 rps. */
        double r0 = mm1_r(40, 0.005), r1 = mm1_r(20, 0.005);
        /* Utilization is the mean over the 4 replicas, as the simulation reports it. */
        CHECK_REL(a.components[db].utilization, (40 + 3 * 20) * 0.005 / 4, EXACT_REL);
        CHECK_REL(a.components[db].mean_response, (40 * r0 + 60 * r1) / 100, EXACT_REL);
        CHECK_REL(a.components[db].saturation_rps, 300 / (40 * 0.005), EXACT_REL);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

static void test_async_queue_and_limiter(void) {
    sim_design *d = sim_design_new("async");
    int x = add_comp(d, "x", 1, sim_dist_exp(0.002));
    sim_component c = sim_component_defaults("q");
    c.behavior = SIM_BEHAVIOR_QUEUE;
    c.workers = 2;
    c.service = sim_dist_exp(0.01);
    int q = sim_design_add_component(d, &c);
    int y = add_comp(d, "y", 1, sim_dist_exp(0.004));
    c = sim_component_defaults("lim");
    c.rate_limit = 50;
    c.rate_burst = 10;
    c.service = sim_dist_exp(0.01);
    int lim = sim_design_add_component(d, &c);
    add_edge(d, x, q, SIM_EDGE_CALL, 1, 0.001); /* the queue answers at once */
    add_edge(d, x, y, SIM_EDGE_ASYNC, 0.5, 0.001);
    add_open(d, x, 100);
    add_open(d, lim, 100);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        CHECK_REL(a.components[q].arrival_rate, 100, EXACT_REL);
        CHECK_REL(a.components[y].arrival_rate, 50, EXACT_REL);
        CHECK_REL(a.components[x].service_demand, 0.002 + 0.002, EXACT_REL);
        /* Root requests of x: its response only (the async copy does not delay them). Its
         * holding is exp(2 ms) + 2 ms on the wire, E[H^2] = 4e-6 + 16e-6: P-K. */
        double e2e_x = 0.004 + 100 * 20e-6 / (2 * (1 - 0.4));
        double e2e_lim = mm1_r(50, 0.01);
        CHECK_REL(a.e2e_mean, (e2e_x + e2e_lim) / 2, EXACT_REL);
        CHECK_REL(a.components[lim].utilization, 0.5, EXACT_REL);
        CHECK(isinf(a.components[lim].saturation_rps)); /* the limiter protects it */
        CHECK(a.components[lim].exactness == SIM_APPROXIMATE);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

static void test_patterns(void) {
    sim_design *d = sim_design_new("ramp");
    int x = add_comp(d, "x", 1, sim_dist_exp(0.01));
    int y = add_comp(d, "y", 1, sim_dist_exp(0.01));
    sim_workload w = sim_workload_defaults(x);
    w.pattern = SIM_PATTERN_RAMP;
    w.rps = 10;
    w.to_rps = 50;
    w.over = 60;
    sim_design_add_workload(d, &w);
    w = sim_workload_defaults(y);
    w.pattern = SIM_PATTERN_STEPS;
    w.rps = 10;
    w.nsteps = 2;
    w.steps[0] = (sim_step){10, 20};
    w.steps[1] = (sim_step){20, 70};
    sim_design_add_workload(d, &w);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        CHECK_REL(a.components[x].arrival_rate, 50, EXACT_REL);
        CHECK_REL(a.components[y].arrival_rate, 70, EXACT_REL);
        CHECK(a.components[x].exactness == SIM_APPROXIMATE);
        CHECK_REL(a.offered_rps, 120, EXACT_REL);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

static void test_unstable(void) {
    sim_design *d = sim_design_new("unstable");
    int x = add_comp(d, "front", 8, sim_dist_exp(0.001));
    int y = add_comp(d, "back", 1, sim_dist_exp(0.01));
    add_edge(d, x, y, SIM_EDGE_CALL, 1, 0.001);
    add_open(d, x, 120);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    if (a.components) {
        CHECK(a.components[y].exactness == SIM_UNSTABLE);
        CHECK(isinf(a.components[y].mean_wait) && a.components[y].mean_wait > 0);
        CHECK(isinf(a.components[y].mean_response));
        CHECK_REL(a.components[y].utilization, 1.2, EXACT_REL);
        CHECK_REL(a.components[y].saturation_rps, 100, EXACT_REL);
        CHECK(a.components[x].exactness == SIM_UNSTABLE); /* it waits on the callee forever */
        CHECK(a.bottleneck == y);
        CHECK(isinf(a.e2e_mean));
        CHECK(strstr(a.reason, "back saturates first at 100 rps") == a.reason);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

/* ---- closed networks -------------------------------------------------------------------- */

static void test_closed_mva(void) {
    sim_design *d = sim_design_new("closed");
    int x = add_comp(d, "x", 1, sim_dist_exp(0.01));
    int y = add_comp(d, "y", 1, sim_dist_exp(0.02));
    add_edge(d, x, y, SIM_EDGE_FORWARD, 1, 0);
    add_closed(d, x, 3, 0.1);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    /* Exact MVA by hand, Dx = 0.01, Dy = 0.02, Z = 0.1. */
    double dx = 0.01, dy = 0.02, z = 0.1;
    double rx1 = dx, ry1 = dy, x1 = 1 / (z + rx1 + ry1);
    double qx1 = x1 * rx1, qy1 = x1 * ry1;
    double rx2 = dx * (1 + qx1), ry2 = dy * (1 + qy1), x2 = 2 / (z + rx2 + ry2);
    double qx2 = x2 * rx2, qy2 = x2 * ry2;
    double rx3 = dx * (1 + qx2), ry3 = dy * (1 + qy2), x3 = 3 / (z + rx3 + ry3);
    if (a.components) {
        CHECK(a.closed == 1);
        CHECK_REL(a.offered_rps, x3, EXACT_REL);
        CHECK_REL(a.e2e_mean, rx3 + ry3, EXACT_REL);
        CHECK_REL(a.components[x].mean_response, rx3, EXACT_REL);
        CHECK_REL(a.components[y].mean_response, ry3, EXACT_REL);
        CHECK_REL(a.components[y].utilization, x3 * dy, EXACT_REL);
        CHECK_REL(a.components[y].mean_in_system, x3 * ry3, EXACT_REL);
        CHECK(a.components[x].exactness == SIM_EXACT);
        CHECK(a.bottleneck == y);
        CHECK_REL(a.saturation_rps, 1 / dy, EXACT_REL);
        CHECK(strstr(a.reason, "with 3 users") != NULL);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

/* Seidmann: a 2-worker station with S = 0.02 is a single server with 0.01 plus a 0.01 delay.
 * Checked at N = 1 and N = 2 by hand; approximate, so only against the approximation. */
static void test_closed_seidmann(void) {
    sim_design *d = sim_design_new("seidmann");
    int x = add_comp(d, "x", 2, sim_dist_exp(0.02));
    add_closed(d, x, 2, 0.05);
    sim_analytic a;
    CHECK(analyze(d, &a) == 0);
    double dq = 0.01, dd = 0.01, z = 0.05;
    double r1 = dq, x1 = 1 / (z + dd + r1), q1 = x1 * r1;
    double r2 = dq * (1 + q1), x2 = 2 / (z + dd + r2);
    if (a.components) {
        CHECK_REL(a.offered_rps, x2, EXACT_REL);
        CHECK_REL(a.components[x].mean_response, r2 + dd, EXACT_REL);
        CHECK(a.components[x].exactness == SIM_APPROXIMATE);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

static void test_mixed_refused(void) {
    sim_design *d = sim_design_new("mixed");
    int x = add_comp(d, "x", 1, sim_dist_exp(0.01));
    add_open(d, x, 10);
    add_closed(d, x, 5, 1);
    char err[256];
    sim_analytic a;
    CHECK(sim_design_check(d, err, sizeof err) == 0);
    CHECK(sim_analyze(d, &a, err, sizeof err) == -1);
    CHECK(strcmp(err, "mixed open and closed workloads are not supported by the analytic pass") ==
          0);
    sim_analytic_free(&a);
    sim_design_free(d);
}

static int all_defined(const sim_analytic *a) {
    for (int i = 0; i < a->ncomponents; i++) {
        const sim_analytic_component *c = &a->components[i];
        const double v[] = {c->arrival_rate,   c->utilization,    c->mean_wait,
                            c->mean_response,  c->mean_in_system, c->drop_prob,
                            c->saturation_rps, c->service_demand};
        for (int k = 0; k < (int)(sizeof v / sizeof v[0]); k++)
            if (isnan(v[k])) {
                fprintf(stderr, "  component %d: figure %d is NaN\n", i, k);
                return 0;
            }
    }
    return 1;
}

/* ---- robustness ------------------------------------------------------------------------- */

static unsigned fuzz_state = 12345;
static double fuzz_u(void) { /* a small LCG is enough to vary designs reproducibly */
    fuzz_state = fuzz_state * 1103515245u + 12345u;
    return (fuzz_state >> 8) / 16777216.0;
}
static int fuzz_i(int n) {
    return (int)(fuzz_u() * n) % n;
}

static sim_dist fuzz_dist(void) {
    double mean = fuzz_u() < 0.1 ? 0 : 0.0001 + 0.02 * fuzz_u();
    switch (fuzz_i(6)) {
    case 0:
        return sim_dist_const(mean);
    case 1:
        return dist_of(SIM_DIST_ERLANG, mean, 1.0 / (1 + fuzz_i(4)));
    case 2:
        return dist_of(SIM_DIST_HYPEREXP, mean, 1 + 5 * fuzz_u());
    case 3:
        return dist_of(SIM_DIST_LOGNORMAL, mean, 0.1 + 3 * fuzz_u());
    case 4:
        return dist_of(SIM_DIST_UNIFORM, mean, 0.3 * fuzz_u());
    default:
        return sim_dist_exp(mean);
    }
}

static sim_design *fuzz_design(void) {
    sim_design *d = sim_design_new("fuzz");
    int n = 1 + fuzz_i(25);
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "f%d", i);
        sim_component c = sim_component_defaults(id);
        c.behavior = (sim_behavior)fuzz_i(5);
        c.policy = (sim_policy)fuzz_i(6);
        c.workers = fuzz_i(5);
        c.replicas = 1 + fuzz_i(3);
        c.queue_cap = fuzz_u() < 0.3 ? fuzz_i(6) : SIM_UNBOUNDED;
        c.service = fuzz_dist();
        c.hit_ratio = fuzz_u();
        c.read_ratio = fuzz_u();
        c.error_rate = fuzz_u() < 0.2 ? fuzz_u() : 0;
        c.fanout_all = fuzz_u() < 0.2;
        if (fuzz_u() < 0.1) {
            c.rate_limit = 100 * fuzz_u();
            c.rate_burst = 5;
        }
        sim_design_add_component(d, &c);
    }
    double *excl = calloc((size_t)n, sizeof *excl);
    for (int k = fuzz_i(3 * n + 1); k > 0; k--) {
        int from = fuzz_i(n), to = fuzz_i(n);
        sim_edge_mode mode = (sim_edge_mode)fuzz_i(3);
        if (mode == SIM_EDGE_CALL && to <= from) continue; /* calls only go down: no cycle */
        double p = fuzz_u();
        if (mode != SIM_EDGE_CALL) {
            p *= 1 - excl[from];
            excl[from] += p;
        }
        int e = add_edge(d, from, to, mode, p, 0.001 * fuzz_u());
        d->edges[e].weight = fuzz_u() * 3;
    }
    free(excl);
    int closed = fuzz_u() < 0.3, mixed = fuzz_u() < 0.05;
    for (int k = 1 + fuzz_i(3); k > 0; k--) {
        if (closed || (mixed && k == 1))
            add_closed(d, fuzz_i(n), fuzz_i(50), 0.1 * fuzz_u());
        else
            add_open(d, fuzz_i(n), 500 * fuzz_u());
    }
    return d;
}

/* Any design that passes the check gives an error message or figures that are numbers or
 * explicit infinities; never NaN, never a crash (the sanitizer build runs this too). */
static void test_random_designs(void) {
    int solved = 0, refused = 0;
    for (int t = 0; t < 2000; t++) {
        sim_design *d = fuzz_design();
        char err[256];
        if (sim_design_check(d, err, sizeof err) == 0) {
            sim_analytic a;
            if (sim_analyze(d, &a, err, sizeof err) == 0) {
                solved++;
                CHECK(all_defined(&a));
                CHECK(a.bottleneck >= -1 && a.bottleneck < d->ncomponents);
                CHECK(!isnan(a.offered_rps) && !isnan(a.saturation_rps));
                CHECK(a.reason[0] != 0);
            } else {
                refused++;
                CHECK(err[0] != 0);
            }
            sim_analytic_free(&a);
        }
        sim_design_free(d);
    }
    printf("  random designs: %d solved, %d refused with a reason\n", solved, refused);
    CHECK(solved > 500);
}

/* ---- scale ------------------------------------------------------------------------------ */

/* 1,000 components: a chain of forwards with calls and async side edges and a few loops
 * back; it must solve in well under 10 ms (measured; generous under sanitizers). */
static void test_thousand_components(void) {
    sim_design *d = sim_design_new("big");
    enum { N = 1000 };
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof id, "c%d", i);
        sim_component c = sim_component_defaults(id);
        c.workers = 1 + i % 8;
        c.replicas = 1 + i % 3;
        c.queue_cap = i % 7 == 0 ? 50 : SIM_UNBOUNDED;
        c.service = i % 2 ? sim_dist_exp(0.001) : sim_dist_const(0.0005);
        c.behavior = i % 11 == 0 ? SIM_BEHAVIOR_CACHE : SIM_BEHAVIOR_SERVICE;
        sim_design_add_component(d, &c);
    }
    for (int i = 0; i + 1 < N; i++) {
        add_edge(d, i, i + 1, SIM_EDGE_FORWARD, 0.55, 0.0001);
        if (i + 7 < N) add_edge(d, i, i + 7, SIM_EDGE_CALL, 0.25, 0.0001);
        if (i + 3 < N) add_edge(d, i, i + 3, SIM_EDGE_ASYNC, 0.15, 0.0001);
        if (i % 50 == 49) add_edge(d, i, i - 20, SIM_EDGE_FORWARD, 0.1, 0.0001);
    }
    add_open(d, 0, 200);
    char err[256];
    CHECK(sim_design_check(d, err, sizeof err) == 0);
    sim_analytic a;
    double ms = INFINITY;
    int rc = 0;
    for (int run = 0; run < 5; run++) { /* the best of 5: the machine is shared */
        struct timespec t0, t1;
        if (run) sim_analytic_free(&a);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rc = sim_analyze(d, &a, err, sizeof err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ms = fmin(ms, (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
    }
    printf("  1,000 components: %.2f ms (%s)\n", ms, rc ? err : a.reason);
    CHECK(rc == 0);
#if defined(__SANITIZE_ADDRESS__) || !defined(__OPTIMIZE__)
    CHECK(ms < 200); /* sanitizer and debug builds: only that it finishes */
#else
    CHECK(ms < 10);
#endif
    if (rc == 0) {
        CHECK(all_defined(&a));
        CHECK(a.bottleneck >= 0);
        CHECK(a.components[N - 1].arrival_rate > 0);
    }
    sim_analytic_free(&a);
    sim_design_free(d);
}

TEST_MAIN(TEST(test_mm1), TEST(test_mmc_erlang_c), TEST(test_md1_mg1), TEST(test_mmck_blocking),
          TEST(test_drops_thin_downstream), TEST(test_tandem_jackson), TEST(test_branch_split),
          TEST(test_feedback_loop), TEST(test_loop_never_leaves), TEST(test_call_holding),
          TEST(test_fanout_slowest), TEST(test_three_tier_bottleneck), TEST(test_cache_miss_flow),
          TEST(test_balancer_split), TEST(test_replicas_and_database),
          TEST(test_async_queue_and_limiter), TEST(test_patterns), TEST(test_unstable),
          TEST(test_closed_mva), TEST(test_closed_seidmann), TEST(test_mixed_refused),
          TEST(test_random_designs), TEST(test_thousand_components))
