/* Stations: a request arriving at a component (down check, rate limiter, replica choice), the
 * FIFO queue and workers of each replica, service, shedding, and the ways a request leaves a
 * component (answer, failure) and goes back to whoever is waiting for it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* ---- time integrals -------------------------------------------------------------------- */

/* Called before every change of busy / in-system / waiting / capacity: integrals are exact. */
void sim__acc(sim_run *r, sim_comp *c) {
    double dt = r->now - c->last_t;
    if (dt <= 0) return;
    c->n.busy_int += c->busy * dt;
    c->n.insys_int += c->insys * dt;
    c->n.queue_int += c->waiting * dt;
    c->n.cap_int += (double)c->nup * c->workers * dt;
    c->n.rep_int += c->nup * dt;
    c->last_t = r->now;
}

/* Replicas counted as capacity: not crashed and in rotation, or draining what they hold. */
void sim__set_nup(sim_run *r, int ci) {
    sim_comp *c = &r->comps[ci];
    sim__acc(r, c);
    int n = 0;
    if (!c->down_whole)
        for (int k = 0; k < c->nalloc; k++) {
            const sim_replica *R = &c->reps[k];
            n += !R->crashed && (R->active || R->insys > 0);
        }
    c->nup = n;
    if (n > c->peak) c->peak = n;
}

/* Replicas that take new requests, in ascending order (policies index into this list). */
void sim__rebuild_usable(sim_run *r, int ci) {
    sim_comp *c = &r->comps[ci];
    c->nusable = 0;
    for (int k = 0; k < c->nalloc; k++)
        if (!c->reps[k].crashed && c->reps[k].active) c->usable[c->nusable++] = k;
    c->usable0 = c->nusable ? c->usable[0] : -1;
}

/* ---- consistent hashing ---------------------------------------------------------------- */

static uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static int ring_cmp(const void *a, const void *b) {
    const sim_ring_node *x = a, *y = b;
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    return x->who < y->who ? -1 : (x->who > y->who);
}

/* SIM_VNODES points per member, hashed from (component, member, vnode), sorted by hash. */
static sim_ring_node *ring_make(int ci, int members, uint64_t salt) {
    sim_ring_node *ring = malloc((size_t)members * SIM_VNODES * sizeof *ring);
    if (!ring) return NULL;
    for (int m = 0; m < members; m++)
        for (int v = 0; v < SIM_VNODES; v++) {
            uint64_t h = mix64(((uint64_t)ci << 40) ^ ((uint64_t)m << 8) ^ (uint64_t)v ^ salt);
            ring[m * SIM_VNODES + v] = (sim_ring_node){h, (uint32_t)m};
        }
    qsort(ring, (size_t)members * SIM_VNODES, sizeof *ring, ring_cmp);
    return ring;
}

int sim__ring_build(sim_run *r, int ci) {
    sim_comp *c = &r->comps[ci];
    sim_ring_node *ring = ring_make(ci, c->nalloc, 0);
    if (!ring) return -1;
    free(c->ring);
    c->ring = ring;
    c->nring = c->nalloc * SIM_VNODES;
    c->ring_reps = c->nalloc;
    if (c->behavior == SIM_BEHAVIOR_BALANCER && !c->bring && c->out_e > c->out_b) {
        c->bring = ring_make(ci, (int)(c->out_e - c->out_b), 0x5bd1e995ULL);
        if (!c->bring) return -1;
        c->nbring = (int)(c->out_e - c->out_b) * SIM_VNODES;
    }
    return 0;
}

/* First ring position at or after the key's hash (wrapping), as an index. */
static int ring_start(const sim_ring_node *ring, int n, uint32_t key) {
    uint64_t h = mix64((uint64_t)key * 0x9e3779b97f4a7c15ULL + 1);
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) >> 1;
        if (ring[mid].h < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == n ? 0 : lo;
}

static int ring_replica(sim_run *r, int ci, uint32_t key) {
    sim_comp *c = &r->comps[ci];
    if (c->ring_reps < c->nalloc && sim__ring_build(r, ci)) return -1;
    int k = ring_start(c->ring, c->nring, key);
    for (int s = 0; s < c->nring; s++, k = k + 1 == c->nring ? 0 : k + 1) {
        const sim_replica *R = &c->reps[c->ring[k].who];
        if (!R->crashed && R->active) return (int)c->ring[k].who;
    }
    return -1;
}

/* Used by the balancer (sim_route.c) through the same ring code. */
int sim__ring_edge(sim_run *r, int ci, uint32_t key);
int sim__ring_edge(sim_run *r, int ci, uint32_t key) {
    sim_comp *c = &r->comps[ci];
    if (!c->bring && sim__ring_build(r, ci)) return -1;
    if (!c->bring) return -1;
    return (int)c->bring[ring_start(c->bring, c->nbring, key)].who;
}

/* ---- replica choice -------------------------------------------------------------------- */

static int pick_replica(sim_run *r, int ci, const sim_req *q) {
    sim_comp *c = &r->comps[ci];
    if (c->behavior == SIM_BEHAVIOR_DATABASE && sim_rng_uniform(&r->rng) >= c->read_ratio) {
        const sim_replica *P = &c->reps[0]; /* a write: the primary only */
        return !P->crashed && P->active ? 0 : -1;
    }
    int n = c->nusable;
    if (n == 0) return -1;
    if (n == 1) return c->usable0;
    switch (c->policy) {
    case SIM_POLICY_RANDOM:
        return c->usable[sim_rng_below(&r->rng, (uint32_t)n)];
    case SIM_POLICY_LEAST_CONN: {
        int best = c->usable[0];
        for (int k = 1; k < n; k++)
            if (c->reps[c->usable[k]].insys < c->reps[best].insys) best = c->usable[k];
        return best;
    }
    case SIM_POLICY_P2C: {
        uint32_t a = sim_rng_below(&r->rng, (uint32_t)n);
        uint32_t b = sim_rng_below(&r->rng, (uint32_t)n - 1);
        if (b >= a) b++;
        int x = c->usable[a], y = c->usable[b];
        return c->reps[y].insys < c->reps[x].insys ? y : x;
    }
    case SIM_POLICY_CONSISTENT_HASH:
        return ring_replica(r, ci, q->key);
    default: /* round robin; equal weights are round robin too */
        if (c->rr >= (uint32_t)n) c->rr = 0;
        return c->usable[c->rr++];
    }
}

/* ---- queue and workers ----------------------------------------------------------------- */

/* The integrals must be current (sim__acc) before this is called. */
static void start_service(sim_run *r, sim_comp *c, sim_replica *R, uint32_t i) {
    sim_req *q = REQ(r, i);
    R->busy++;
    R->insys++;
    c->busy++;
    c->insys++;
    q->at = AT_HELD;
    c->n.waited++;
    c->n.wait_sum += r->now - q->arrived;
    if (c->behavior == SIM_BEHAVIOR_SCRIPT) { /* the script decides what the worker does */
        sim__script_start(r, i);
        return;
    }
    double s = sim_dist_sample(&c->service, &r->rng);
    s = (s * c->lat_mul + c->lat_add) / c->cap_mul;
    sim__push(r, r->now + s, EV_SERVICE_END, i, q->epoch);
}

/* Puts the request at the replica: service now, a place in the queue, or 0 (full). */
static int enter_station(sim_run *r, sim_comp *c, int rep, uint32_t i) {
    sim_replica *R = &c->reps[rep];
    sim_req *q = REQ(r, i);
    q->replica = (uint32_t)rep;
    if (c->workers == SIM_INFINITE_SERVERS || R->busy < c->workers) {
        sim__acc(r, c);
        start_service(r, c, R, i);
        return 1;
    }
    if (c->queue_cap != SIM_UNBOUNDED && R->waiting >= c->queue_cap) return 0;
    sim__acc(r, c);
    q->next = SIM_NONE;
    if (R->qtail != SIM_NONE)
        REQ(r, R->qtail)->next = i;
    else
        R->qhead = i;
    R->qtail = i;
    R->waiting++;
    R->insys++;
    c->waiting++;
    c->insys++;
    q->at = AT_WAITING;
    return 1;
}

static uint32_t queue_pop(sim_run *r, sim_comp *c, sim_replica *R) {
    uint32_t i = R->qhead;
    R->qhead = REQ(r, i)->next;
    if (R->qhead == SIM_NONE) R->qtail = SIM_NONE;
    R->waiting--;
    R->insys--;
    c->waiting--;
    c->insys--;
    REQ(r, i)->at = AT_NONE;
    return i;
}

/* Idle workers take waiting requests; one that waited longer than shed_wait is shed. */
static void start_next(sim_run *r, sim_comp *c, sim_replica *R) {
    while (R->waiting > 0 && (c->workers == SIM_INFINITE_SERVERS || R->busy < c->workers)) {
        uint32_t i = queue_pop(r, c, R);
        if (c->shed_wait > 0 && r->now - REQ(r, i)->arrived > c->shed_wait) {
            c->n.shed++;
            sim__fail(r, i, FAIL_ERROR);
            continue;
        }
        start_service(r, c, R, i);
    }
}

void sim__release(sim_run *r, uint32_t i) {
    sim_req *q = REQ(r, i);
    if (q->at != AT_HELD) return;
    int ci = (int)q->comp;
    sim_comp *c = &r->comps[ci];
    sim_replica *R = &c->reps[q->replica];
    sim__acc(r, c);
    R->busy--;
    R->insys--;
    c->busy--;
    c->insys--;
    q->at = AT_NONE;
    if (R->crashed) return;
    start_next(r, c, R);
    if (!R->active && R->insys == 0) sim__set_nup(r, ci); /* a drained replica leaves */
}

/* ---- arrival --------------------------------------------------------------------------- */

static int limiter_admits(sim_run *r, sim_comp *c) {
    double rate = c->rate_limit, burst = c->rate_burst;
    c->tokens += (r->now - c->tok_t) * rate;
    if (c->tokens > burst) c->tokens = burst;
    c->tok_t = r->now;
    if (c->tokens < 1) return 0;
    c->tokens -= 1;
    return 1;
}

/* A queue component acknowledges at once: a detached copy waits for the consumers. */
static void arrive_queue(sim_run *r, sim_comp *c, int rep, uint32_t i) {
    sim_replica *R = &c->reps[rep];
    int room = c->workers == SIM_INFINITE_SERVERS || R->busy < c->workers ||
               c->queue_cap == SIM_UNBOUNDED || R->waiting < c->queue_cap;
    if (!room) {
        sim__fail(r, i, FAIL_DROP);
        return;
    }
    sim_req *q = REQ(r, i);
    uint32_t k = sim__copy(r, i, (int)q->comp);
    if (k == SIM_NONE) return;
    REQ(r, k)->arrived = r->now;
    enter_station(r, c, rep, k);
    sim__leave(r, i);
    sim__dispose(r, i, 1, 0);
}

void sim__arrive(sim_run *r, uint32_t i) {
    sim_req *q = REQ(r, i);
    int ci = (int)q->comp;
    sim_comp *c = &r->comps[ci];
    q->arrived = r->now;
    q->at = AT_NONE;
    c->n.arrivals++;
    if (c->down_whole) {
        sim__fail(r, i, FAIL_ERROR);
        return;
    }
    if (c->rate_limit > 0 && !limiter_admits(r, c)) {
        c->n.rejected++;
        sim__fail(r, i, FAIL_ERROR);
        return;
    }
    int rep = pick_replica(r, ci, q);
    if (rep < 0) {
        sim__fail(r, i, FAIL_ERROR);
        return;
    }
    if (c->behavior == SIM_BEHAVIOR_QUEUE) {
        arrive_queue(r, c, rep, i);
        return;
    }
    if (!enter_station(r, c, rep, i)) sim__fail(r, i, FAIL_DROP);
}

void sim__service_end(sim_run *r, uint32_t i, uint64_t epoch) {
    sim_req *q = REQ(r, i);
    if (q->epoch != epoch || q->at != AT_HELD) return; /* failed by a crash meanwhile */
    sim_comp *c = &r->comps[q->comp];
    double p = c->error_rate > c->err_inj ? c->error_rate : c->err_inj;
    if (p > 0 && sim_rng_uniform(&r->rng) < p) {
        sim__fail(r, i, FAIL_ERROR);
        return;
    }
    sim__after_service(r, i);
}

/* ---- leaving a component --------------------------------------------------------------- */

void sim__answer(sim_run *r, uint32_t i) {
    sim_req *q = REQ(r, i);
    sim_comp *c = &r->comps[q->comp];
    c->n.completions++;
    sim__record_response(r, c, r->now - q->arrived);
    sim__leave(r, i);
    sim__dispose(r, i, 1, 0);
}

void sim__fail(sim_run *r, uint32_t i, int why) {
    sim_req *q = REQ(r, i);
    sim_comp *c = &r->comps[q->comp];
    if (why == FAIL_DROP)
        c->n.dropped++;
    else
        c->n.errors++;
    q->token = 0; /* answers of its outstanding calls are discarded */
    q->pending = 0;
    if (q->at == AT_HELD && c->behavior == SIM_BEHAVIOR_SCRIPT) sim__script_drop(r, i);
    sim__release(r, i);
    sim__leave(r, i);
    sim__dispose(r, i, 0, why);
}

/* The request is done with this component: it goes back to its caller, ends end to end, or
 * (a detached copy, an orphaned child) simply ends. */
void sim__dispose(sim_run *r, uint32_t i, int ok, int why) {
    sim_req *q = REQ(r, i);
    switch (q->kind) {
    case REQ_ROOT:
        sim__root_end(r, i, ok, why);
        break;
    case REQ_CHILD:
        if (q->parent == SIM_NONE) {
            sim__req_free(r, i);
            break;
        }
        q->ok = (uint8_t)ok;
        q->chstate = CH_RETURNING;
        sim__push(r, r->now + r->d->edges[q->edge].latency, EV_CALL_RETURN, i, q->call_id);
        break;
    default:
        sim__req_free(r, i);
        break;
    }
}

/* ---- crash ----------------------------------------------------------------------------- */

/* Everything held or waiting at the replica (rep >= 0) or at every replica (rep = -1) fails
 * now, each counted as an error at c. Held requests are found by one scan of the pool: crashes
 * are rare, and keeping per-replica lists of them would cost cache misses on every service. */
void sim__crash_replica(sim_run *r, int ci, int rep) {
    sim_comp *c = &r->comps[ci];
    sim__acc(r, c);
    for (uint32_t i = 0; i < r->used && c->busy > 0; i++) {
        sim_req *q = REQ(r, i);
        if (q->at != AT_HELD || q->comp != (uint32_t)ci ||
            (rep >= 0 && q->replica != (uint32_t)rep))
            continue;
        if (c->behavior == SIM_BEHAVIOR_SCRIPT) sim__script_drop(r, i);
        sim_replica *R = &c->reps[q->replica];
        R->busy--;
        R->insys--;
        c->busy--;
        c->insys--;
        q->at = AT_NONE;
        q->epoch = ++r->serial; /* its service end is stale now */
        sim__fail(r, i, FAIL_ERROR);
    }
    for (int k = rep >= 0 ? rep : 0; k < (rep >= 0 ? rep + 1 : c->nalloc); k++) {
        sim_replica *R = &c->reps[k];
        while (R->waiting > 0)
            sim__fail(r, queue_pop(r, c, R), FAIL_ERROR);
    }
}
