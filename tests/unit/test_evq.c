/* The event queue against a brute-force reference: random interleaved pushes and pops with
 * many equal times, checking that every pop returns the earliest (time, seq) event and that
 * the peeked time is always the earliest pending time. */
#include <math.h>
#include <string.h>

#include "evq.h"
#include "rng.h"
#include "test.h"

#define MAXREF 70000
typedef struct ref_event {
    double time;
    uint64_t seq;
    uint32_t kind, a;
    uint64_t b;
} ref_event;
static ref_event ref[MAXREF];
static int nref;

static int ref_pop(ref_event *out) {
    if (nref == 0) return -1;
    int m = 0;
    for (int i = 1; i < nref; i++)
        if (ref[i].time < ref[m].time || (ref[i].time == ref[m].time && ref[i].seq < ref[m].seq))
            m = i;
    *out = ref[m];
    ref[m] = ref[--nref];
    return 0;
}

static int same(const sim_event *e, const ref_event *r) {
    return e->time == r->time && e->seq == r->seq && e->kind == r->kind && e->a == r->a &&
           e->b == r->b;
}

static double ref_min_time(void) {
    double m = INFINITY;
    for (int i = 0; i < nref; i++)
        if (ref[i].time < m) m = ref[i].time;
    return m;
}

/* Times: a third from {now, now + 0.25, ..., now + 1.75} (ties with now and among pending
 * events), a third now + a delay spread over six orders of magnitude, a third anywhere in
 * [0, 12.25) on a grid of 0.25 (before now too: the heap does not assume a simulation's
 * monotone times). Pushes outnumber pops so the heap grows from 64 to about six thousand
 * events (several doublings), then it is drained. */
static double random_time(sim_rng *r, double now) {
    double u = sim_rng_uniform(r);
    if (u < 1.0 / 3) return now + (double)sim_rng_below(r, 8) * 0.25;
    if (u < 2.0 / 3) return now + pow(10, -4 + 6 * sim_rng_uniform(r)) * sim_rng_uniform(r);
    return (double)sim_rng_below(r, 50) * 0.25;
}

static void random_ops_match_reference(void) {
    sim_evq q;
    CHECK(sim_evq_init(&q, 1) == 0);
    sim_rng r;
    sim_rng_seed(&r, 2024);
    int mismatches = 0, pops = 0, bad_peeks = 0;
    uint64_t seq = 0;
    double now = 0;
    for (int op = 0; op < 60000; op++) {
        if (sim_rng_uniform(&r) < 0.55 && nref < MAXREF) {
            double t = random_time(&r, now);
            uint32_t kind = sim_rng_below(&r, 7), a = (uint32_t)op;
            uint64_t b = sim_rng_next(&r);
            CHECK(sim_evq_push(&q, t, kind, a, b) == 0);
            ref[nref++] = (ref_event){t, seq++, kind, a, b};
        } else {
            sim_event e;
            ref_event want;
            int rc = sim_evq_pop(&q, &e), want_rc = ref_pop(&want);
            mismatches += rc != want_rc || (rc == 0 && !same(&e, &want));
            if (rc == 0) now = e.time;
            pops++;
        }
        mismatches += q.size != (uint32_t)nref;
        bad_peeks += nref > 0 && sim_evq_peek_time(&q) != ref_min_time();
    }
    sim_event e, prev = {-1, 0, 0, 0, 0};
    int unordered = 0;
    while (sim_evq_pop(&q, &e) == 0) {
        ref_event want;
        mismatches += ref_pop(&want) != 0 || !same(&e, &want);
        unordered += e.time < prev.time || (e.time == prev.time && e.seq < prev.seq);
        prev = e;
    }
    CHECK(mismatches == 0);
    CHECK(bad_peeks == 0);
    CHECK(unordered == 0);
    CHECK(nref == 0);
    CHECK(pops > 25000);
    CHECK(sim_evq_empty(&q));
    sim_evq_free(&q);
}

/* Equal times come out in push order (the sequence number is the tie-breaker). */
static void ties_in_push_order(void) {
    sim_evq q;
    CHECK(sim_evq_init(&q, 4) == 0);
    for (uint32_t i = 0; i < 1000; i++)
        CHECK(sim_evq_push(&q, 1.5, 0, i, 0) == 0);
    CHECK(sim_evq_push(&q, 1.0, 9, 0, 0) == 0);
    CHECK(sim_evq_peek_time(&q) == 1.0);
    sim_event e;
    CHECK(sim_evq_pop(&q, &e) == 0 && e.kind == 9);
    int in_order = 1;
    for (uint32_t i = 0; i < 1000; i++)
        in_order &= sim_evq_pop(&q, &e) == 0 && e.a == i;
    CHECK(in_order);
    CHECK(sim_evq_pop(&q, &e) == -1);
    sim_evq_free(&q);
}

/* The classic "hold" pattern of a simulation: pop the earliest, push it again later. */
static void hold_model_keeps_time_monotone(void) {
    sim_evq q;
    CHECK(sim_evq_init(&q, 0) == 0);
    sim_rng r;
    sim_rng_seed(&r, 9);
    for (uint32_t i = 0; i < 10000; i++)
        sim_evq_push(&q, sim_rng_uniform(&r), 0, i, 0);
    double now = 0;
    int backwards = 0;
    for (int i = 0; i < 300000; i++) {
        sim_event e;
        sim_evq_pop(&q, &e);
        backwards += e.time < now;
        now = e.time;
        sim_evq_push(&q, now - log(sim_rng_uniform_pos(&r)), 0, e.a, 0);
    }
    CHECK(backwards == 0);
    CHECK(q.size == 10000);
    sim_evq_free(&q);
    sim_evq_free(&q); /* freeing twice is harmless */
}

TEST_MAIN(TEST(random_ops_match_reference), TEST(ties_in_push_order),
          TEST(hold_model_keeps_time_monotone))
