/* A closed network against exact Mean Value Analysis.
 *
 * N users think for an exponential time (mean Z = 100 ms), then send a request to station A;
 * A forwards it to B and B to C (forward edges, p = 1), and C answers it, which ends the
 * user's wait (the root request completes end to end at C). Each station has one worker and
 * exponential service, so this is a product-form closed network of three FCFS queues and an
 * infinite-server think station, for which MVA is exact:
 *   R_k(n) = D_k (1 + Q_k(n-1)),  X(n) = n / (Z + sum_k R_k(n)),  Q_k(n) = X(n) R_k(n).
 * The recursion runs n = 1..20 in the test; the simulation checks N = 1, 5, 12 (near the
 * knee N* = (Z + sum D) / D_max = 12) and 20 (saturated: X close to 1/D_max).
 *
 * Tolerances: a closed network has a finite state space and regenerates often. Measured
 * outside this repository with a 30-line CTMC simulation of the same network, 12 seeds of
 * 300k cycles each: relative sd of X at most 0.21 % (N = 20) and of the mean response at
 * most 0.37 % (N = 20). Checks: X and utilizations 1.5 %, mean response 2.5 % (about 7
 * sd), per-station response 4 % (one station's share is noisier than the sum). */
#include "accuracy.h"

#define K 3
#define NMAX 20
static const double D[K] = {0.004, 0.010, 0.006};
static const double Z = 0.100;

typedef struct mva {
    double x[NMAX + 1], r[NMAX + 1], rk[NMAX + 1][K];
} mva;

static void mva_solve(mva *m) {
    double q[K] = {0};
    m->x[0] = m->r[0] = 0;
    for (int n = 1; n <= NMAX; n++) {
        double r = 0;
        for (int k = 0; k < K; k++) {
            m->rk[n][k] = D[k] * (1 + q[k]);
            r += m->rk[n][k];
        }
        m->x[n] = n / (Z + r);
        m->r[n] = r;
        for (int k = 0; k < K; k++)
            q[k] = m->x[n] * m->rk[n][k];
    }
}

static void closed_case(int users, uint64_t seed) {
    mva m;
    mva_solve(&m);
    if (users == 1) {
        printf("  MVA:  N      X(N)/s     R(N)/ms\n");
        for (int n = 1; n <= NMAX; n++)
            printf("       %2d  %9.4f  %9.4f\n", n, m.x[n], 1e3 * m.r[n]);
    }
    /* Sanity of the recursion itself: with one user nobody queues, and X(n) stays below
     * the bottleneck bound 1/D_max. */
    CHECK_REL(m.r[1], D[0] + D[1] + D[2], 1e-12);
    CHECK(m.x[NMAX] < 1 / D[1]);

    sim_design *d = sim_design_new("closed_mva");
    const char *ids[K] = {"a", "b", "c"};
    int k[K];
    for (int i = 0; i < K; i++)
        k[i] = acc_station(d, ids[i], 1, SIM_UNBOUNDED, sim_dist_exp(D[i]));
    acc_edge(d, k[0], k[1], SIM_EDGE_FORWARD, 1, 0);
    acc_edge(d, k[1], k[2], SIM_EDGE_FORWARD, 1, 0);
    acc_closed(d, k[0], users, Z);
    double x = m.x[users], duration = 300e3 / x; /* 300k cycles */
    acc_out o;
    acc_run(d, duration, 0.01 * duration, seed, &o);
    if (o.ok) {
        char what[64];
        snprintf(what, sizeof what, "N=%d: throughput X(N)", users);
        acc_expect(what, o.r.e2e.throughput, x, 0.015);
        snprintf(what, sizeof what, "N=%d: mean response R(N)", users);
        acc_expect(what, o.r.e2e.latency.mean, m.r[users], 0.025);
        for (int i = 0; i < K; i++) {
            snprintf(what, sizeof what, "N=%d: %s utilization X D_k", users, ids[i]);
            acc_expect(what, o.c[k[i]].utilization, x * D[i], 0.015);
            snprintf(what, sizeof what, "N=%d: %s response R_k(N)", users, ids[i]);
            acc_expect(what, o.c[k[i]].response.mean, m.rk[users][i], 0.04);
        }
        CHECK(o.r.e2e.failed == 0);
        acc_note_ci("e2e mean", o.r.e2e.latency.mean, o.r.e2e.ci.mean_half);
    }
    sim_design_free(d);
}

static void test_closed_n1(void) {
    closed_case(1, 21);
}
static void test_closed_n5(void) {
    closed_case(5, 22);
}
static void test_closed_n12(void) {
    closed_case(12, 23);
}
static void test_closed_n20(void) {
    closed_case(20, 24);
}

TEST_MAIN(TEST(test_closed_n1), TEST(test_closed_n5), TEST(test_closed_n12), TEST(test_closed_n20))
