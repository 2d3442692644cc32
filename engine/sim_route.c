/* Routing after service: cache hits, the balancer's one edge, call edges (sequential or
 * fan-out) with their resilience (timeouts, retries with backoff and budget, circuit breaker,
 * partitions and packet loss), then the exclusive forward/async choice. */
#include <math.h>
#include <stdlib.h>

#include "sim_internal.h"

int sim__ring_edge(sim_run *r, int ci, uint32_t key);

void sim__leave(sim_run *r, uint32_t i) {
    sim_req *q = REQ(r, i);
    if (q->via_edge >= 0) {
        r->edges[q->via_edge].outstanding--;
        q->via_edge = -1;
    }
}

uint32_t sim__copy(sim_run *r, uint32_t i, int to) {
    uint32_t k = sim__req_alloc(r);
    if (k == SIM_NONE) return k;
    sim_req *src = REQ(r, i), *q = REQ(r, k);
    q->kind = REQ_DETACHED;
    q->key = src->key;
    q->created = r->now;
    q->arrived = r->now;
    q->comp = (uint32_t)to;
    return k;
}

/* ---- balancer -------------------------------------------------------------------------- */

static int pick_edge(sim_run *r, const sim_comp *c, const sim_req *q, int ci) {
    uint32_t n = c->out_e - c->out_b;
    const uint32_t *list = r->out_list + c->out_b;
    if (n == 0) return -1;
    if (n == 1) return (int)list[0];
    switch (c->policy) {
    case SIM_POLICY_RANDOM:
        return (int)list[sim_rng_below(&r->rng, n)];
    case SIM_POLICY_LEAST_CONN: {
        uint32_t best = list[0];
        for (uint32_t k = 1; k < n; k++)
            if (r->edges[list[k]].outstanding < r->edges[best].outstanding) best = list[k];
        return (int)best;
    }
    case SIM_POLICY_P2C: {
        uint32_t a = sim_rng_below(&r->rng, n), b = sim_rng_below(&r->rng, n - 1);
        if (b >= a) b++;
        return r->edges[list[b]].outstanding < r->edges[list[a]].outstanding ? (int)list[b]
                                                                             : (int)list[a];
    }
    case SIM_POLICY_CONSISTENT_HASH: {
        int k = sim__ring_edge(r, ci, q->key);
        return k < 0 ? -1 : (int)list[k];
    }
    case SIM_POLICY_WEIGHTED: {
        if (!(c->bal_wsum > 0)) return (int)list[sim_rng_below(&r->rng, n)];
        double u = sim_rng_uniform(&r->rng) * c->bal_wsum;
        const double *cum = r->out_cum + c->out_b;
        for (uint32_t k = 0; k < n; k++)
            if (u < cum[k]) return (int)list[k];
        return (int)list[n - 1];
    }
    default: {
        uint32_t *rr = &r->comps[ci].bal_rr;
        if (*rr >= n) *rr = 0;
        return (int)list[(*rr)++];
    }
    }
}

/* ---- forward and async ----------------------------------------------------------------- */

/* The worker has been released. FORWARD moves the request on; ASYNC sends a copy and answers. */
static void take_edge(sim_run *r, uint32_t i, int e) {
    const sim_edge *ed = &r->d->edges[e];
    sim_req *q = REQ(r, i);
    sim_comp *c = &r->comps[q->comp];
    int from_balancer = c->behavior == SIM_BEHAVIOR_BALANCER;
    const sim_edge_rt *E = &r->edges[e];
    int lost = E->partitioned || (E->loss > 0 && sim_rng_uniform(&r->rng) < E->loss);
    sim__edge_left(r, e, lost);
    if (ed->mode == SIM_EDGE_ASYNC) {
        if (lost) { /* the copy never arrives; the sender does not know */
            sim__answer(r, i);
            return;
        }
        uint32_t k = sim__copy(r, i, ed->to);
        if (k == SIM_NONE) return;
        if (from_balancer) {
            REQ(r, k)->via_edge = e;
            r->edges[e].outstanding++;
        }
        sim__push(r, r->now + ed->latency, EV_ARRIVE, k, 0);
        sim__answer(r, i);
        return;
    }
    if (lost) { /* a forwarded request lost in the network fails where it was sent from */
        sim__fail(r, i, FAIL_ERROR);
        return;
    }
    c->n.completions++; /* forward: the response time here ends now */
    sim__record_response(r, c, r->now - q->arrived);
    sim__leave(r, i);
    q->comp = (uint32_t)ed->to;
    if (from_balancer) {
        q->via_edge = e;
        r->edges[e].outstanding++;
    }
    sim__push(r, r->now + ed->latency, EV_ARRIVE, i, 0);
}

void sim__after_calls(sim_run *r, uint32_t i) {
    sim__release(r, i);
    sim_req *q = REQ(r, i);
    const sim_comp *c = &r->comps[q->comp];
    /* A balancer took its one edge already (a call); the others are not a second choice. */
    if (c->fa_e > c->fa_b && c->behavior != SIM_BEHAVIOR_BALANCER) {
        double u = sim_rng_uniform(&r->rng);
        for (uint32_t k = c->fa_b; k < c->fa_e; k++)
            if (u < r->fa_cum[k]) {
                take_edge(r, i, (int)r->fa_list[k]);
                return;
            }
    }
    sim__answer(r, i);
}

/* ---- calls ----------------------------------------------------------------------------- */

static void attempt(sim_run *r, uint32_t pi, int e, int n);
static void do_send(sim_run *r, uint32_t ci);
static int tmo_add(sim_run *r, int e, double deadline, uint32_t k, uint64_t call_id);

static int is_fanout(const sim_comp *c) {
    return c->fanout_all && c->behavior != SIM_BEHAVIOR_BALANCER;
}

static void breaker_record(sim_run *r, sim_edge_rt *E, const sim_breaker *b, int ok) {
    if (!b->enabled) return;
    if (E->bstate == 0) {
        if (ok)
            E->bcount = 0;
        else if (++E->bcount >= b->failure_threshold) {
            E->bstate = 1;
            E->open_until = r->now + b->open_time;
        }
    } else if (E->bstate == 2) {
        if (!ok) {
            E->bstate = 1;
            E->open_until = r->now + b->open_time;
        } else if (++E->bcount >= b->half_open_probes) {
            E->bstate = 0;
            E->bcount = 0;
        }
    }
}

/* The next call edge taken (each with its p, in design order), or after_calls when none is
 * left. The caller keeps its worker throughout. */
static void next_call(sim_run *r, uint32_t pi) {
    sim_req *q = REQ(r, pi);
    const sim_comp *c = &r->comps[q->comp];
    for (; q->call_pos < c->call_e; q->call_pos++) {
        int e = (int)r->call_list[q->call_pos];
        double p = r->d->edges[e].p;
        if (p >= 1 || sim_rng_uniform(&r->rng) < p) {
            q->pending = 1;
            r->edges[e].calls++;
            attempt(r, pi, e, 1);
            return;
        }
    }
    q->token = 0;
    sim__after_calls(r, pi);
}

/* Scatter-gather: every taken call edge at once; the caller continues when all answered. */
static void fan_out(sim_run *r, uint32_t pi) {
    sim_req *q = REQ(r, pi);
    const sim_comp *c = &r->comps[q->comp];
    uint64_t token = q->token;
    q->pending = 1; /* held until every call is sent, so an early answer cannot finish it */
    for (uint32_t k = c->call_b; k < c->call_e; k++) {
        int e = (int)r->call_list[k];
        double p = r->d->edges[e].p;
        if (p >= 1 || sim_rng_uniform(&r->rng) < p) {
            q->pending++;
            r->edges[e].calls++;
            attempt(r, pi, e, 1);
            if (REQ(r, pi)->token != token) return; /* it failed already */
        }
    }
    if (--q->pending == 0) {
        q->token = 0;
        sim__after_calls(r, pi);
    }
}

static void attempt_result(sim_run *r, uint32_t pi, int e, int n, int ok, int for_breaker) {
    const sim_edge *ed = &r->d->edges[e];
    sim_edge_rt *E = &r->edges[e];
    if (for_breaker) breaker_record(r, E, &ed->breaker, ok);
    E->failed += (uint64_t)!ok;
    sim_req *q = REQ(r, pi);
    sim_comp *c = &r->comps[q->comp];
    if (ok) {
        if (--q->pending > 0) return;
        if (c->behavior == SIM_BEHAVIOR_SCRIPT) {
            sim__script_calls_done(r, pi);
        } else if (is_fanout(c)) {
            q->token = 0;
            sim__after_calls(r, pi);
        } else {
            q->call_pos++;
            next_call(r, pi);
        }
        return;
    }
    int budget_ok =
        ed->retry_budget <= 0 || (double)E->retries_done <= ed->retry_budget * (double)E->calls;
    if (n <= ed->retries && budget_ok) {
        c->n.retries++;
        E->retries_done++;
        double backoff = ed->backoff_base * ldexp(1.0, n - 1);
        if (backoff > ed->backoff_max) backoff = ed->backoff_max;
        if (ed->jitter) backoff *= sim_rng_uniform(&r->rng);
        uint32_t k = sim__req_alloc(r);
        if (k == SIM_NONE) return;
        sim_req *ch = REQ(r, k);
        ch->kind = REQ_CHILD;
        ch->parent = pi;
        ch->ptoken = q->token;
        ch->edge = e;
        ch->attempt = (uint16_t)(n + 1);
        ch->key = q->key;
        ch->created = q->created;
        ch->comp = (uint32_t)ed->to;
        ch->call_id = ++r->serial;
        ch->chstate = CH_WAIT_SEND;
        sim__push(r, r->now + backoff, EV_SEND, k, ch->call_id);
        return;
    }
    if (c->behavior == SIM_BEHAVIOR_SCRIPT) { /* the script learns it and decides */
        q->ok = 0;
        if (--q->pending == 0) sim__script_calls_done(r, pi);
        return;
    }
    sim__fail(r, pi, FAIL_ERROR); /* every attempt failed: the caller answers with an error */
}

void sim__call_edge(sim_run *r, uint32_t pi, int e) {
    r->edges[e].calls++;
    attempt(r, pi, e, 1);
}

static void attempt(sim_run *r, uint32_t pi, int e, int n) {
    uint32_t k = sim__req_alloc(r);
    if (k == SIM_NONE) return;
    sim_req *q = REQ(r, pi), *ch = REQ(r, k);
    ch->kind = REQ_CHILD;
    ch->parent = pi;
    ch->ptoken = q->token;
    ch->edge = e;
    ch->attempt = (uint16_t)n;
    ch->key = q->key;
    ch->created = q->created;
    ch->comp = (uint32_t)r->d->edges[e].to;
    ch->call_id = ++r->serial;
    do_send(r, k);
}

/* The attempt leaves the caller: breaker, timeout, partition and loss, then the network. */
static void do_send(sim_run *r, uint32_t k) {
    sim_req *ch = REQ(r, k);
    int e = ch->edge, n = ch->attempt;
    uint32_t pi = ch->parent;
    const sim_edge *ed = &r->d->edges[e];
    sim_edge_rt *E = &r->edges[e];
    E->sent++;
    ch->created = r->now; /* a child's `created` is its attempt's departure (hops) */
    if (E->bstate == 1) {
        if (r->now >= E->open_until) {
            E->bstate = 2;
            E->bcount = 0;
        } else {
            r->comps[ed->from].n.rejected++;
            sim__hop(r, e, r->now, 0);
            sim__req_free(r, k);
            attempt_result(r, pi, e, n, 0, 0);
            return;
        }
    }
    if (ed->timeout > 0 && tmo_add(r, e, r->now + ed->timeout, k, ch->call_id)) return;
    if (E->partitioned || (E->loss > 0 && sim_rng_uniform(&r->rng) < E->loss)) {
        if (ed->timeout > 0) {
            ch->chstate = CH_LOST; /* nothing arrives; the timeout will tell */
            return;
        }
        sim__hop(r, e, r->now, 0);
        sim__req_free(r, k);
        attempt_result(r, pi, e, n, 0, 1);
        return;
    }
    ch->chstate = CH_FLIGHT;
    if (r->comps[ed->from].behavior == SIM_BEHAVIOR_BALANCER) {
        ch->via_edge = e;
        E->outstanding++;
    }
    sim__push(r, r->now + ed->latency, EV_ARRIVE, k, 0);
}

static int parent_waits(const sim_run *r, const sim_req *ch) {
    return ch->parent != SIM_NONE && REQ(r, ch->parent)->token == ch->ptoken && ch->ptoken;
}

void sim__send(sim_run *r, uint32_t k, uint64_t call_id) {
    sim_req *ch = REQ(r, k);
    if (ch->call_id != call_id) return;
    if (!parent_waits(r, ch)) {
        sim__req_free(r, k);
        return;
    }
    do_send(r, k);
}

void sim__call_return(sim_run *r, uint32_t k, uint64_t call_id) {
    sim_req *ch = REQ(r, k);
    if (ch->call_id != call_id) return;
    int waits = parent_waits(r, ch);
    uint32_t pi = ch->parent;
    int e = ch->edge, n = ch->attempt, ok = ch->ok;
    double departed = ch->created;
    sim__req_free(r, k);
    if (!waits) return;
    sim__hop(r, e, departed, ok);
    attempt_result(r, pi, e, n, ok, 1);
}

static void timeout(sim_run *r, uint32_t k, uint64_t call_id) {
    sim_req *ch = REQ(r, k);
    if (ch->call_id != call_id) return; /* answered (and freed) before its deadline */
    int waits = parent_waits(r, ch);
    uint32_t pi = ch->parent;
    int e = ch->edge, n = ch->attempt;
    double departed = ch->created;
    if (ch->chstate == CH_LOST)
        sim__req_free(r, k);
    else
        ch->parent = SIM_NONE; /* orphaned: it still uses the callee, then ends */
    if (!waits) return;
    sim__hop(r, e, departed, 0);
    r->comps[REQ(r, pi)->comp].n.timeouts++;
    attempt_result(r, pi, e, n, 0, 1);
}

/* Drops entries at the head whose call has ended; arms the heap event for the next one. */
static void tmo_arm(sim_run *r, int e) {
    sim_edge_rt *E = &r->edges[e];
    while (E->tq_n > 0) {
        const sim_tmo *t = &E->tq[E->tq_head];
        if (REQ(r, t->child)->call_id == t->call_id) break;
        E->tq_head = E->tq_head + 1 == E->tq_cap ? 0 : E->tq_head + 1;
        E->tq_n--;
    }
    if (E->tq_n > 0 && !E->tq_armed) {
        E->tq_armed = 1;
        sim__push(r, E->tq[E->tq_head].deadline, EV_TIMEOUT, (uint32_t)e, 0);
    }
}

static int tmo_grow(sim_run *r, sim_edge_rt *E) {
    uint32_t cap = E->tq_cap ? E->tq_cap * 2 : 64;
    sim_tmo *q = malloc((size_t)cap * sizeof *q);
    if (!q) {
        snprintf(r->err, sizeof r->err, "out of memory for call timeouts");
        return -1;
    }
    for (uint32_t k = 0; k < E->tq_n; k++)
        q[k] = E->tq[(E->tq_head + k) % E->tq_cap];
    free(E->tq);
    E->tq = q;
    E->tq_head = 0;
    E->tq_cap = cap;
    return 0;
}

static int tmo_add(sim_run *r, int e, double deadline, uint32_t k, uint64_t call_id) {
    sim_edge_rt *E = &r->edges[e];
    if (E->tq_n == E->tq_cap && tmo_grow(r, E)) return -1;
    uint32_t at = E->tq_head + E->tq_n;
    if (at >= E->tq_cap) at -= E->tq_cap;
    E->tq[at] = (sim_tmo){deadline, call_id, k};
    E->tq_n++;
    tmo_arm(r, e);
    return 0;
}

void sim__edge_timeouts(sim_run *r, int e) {
    sim_edge_rt *E = &r->edges[e];
    E->tq_armed = 1; /* retries sent from here must not arm a second event */
    while (E->tq_n > 0 && E->tq[E->tq_head].deadline <= r->now) {
        sim_tmo t = E->tq[E->tq_head];
        E->tq_head = E->tq_head + 1 == E->tq_cap ? 0 : E->tq_head + 1;
        E->tq_n--;
        timeout(r, t.child, t.call_id);
    }
    E->tq_armed = 0;
    tmo_arm(r, e);
}

/* ---- after service --------------------------------------------------------------------- */

void sim__after_service(sim_run *r, uint32_t i) {
    sim_req *q = REQ(r, i);
    int ci = (int)q->comp;
    sim_comp *c = &r->comps[ci];
    if (c->behavior == SIM_BEHAVIOR_SCRIPT) { /* a WORK ended: the script goes on */
        sim__script_resume(r, i, 1);
        return;
    }
    if (c->behavior == SIM_BEHAVIOR_CACHE) {
        double hit = c->hit_over >= 0 ? c->hit_over : c->hit_ratio;
        if (hit > 0 && sim_rng_uniform(&r->rng) < hit) {
            sim__release(r, i);
            sim__answer(r, i);
            return;
        }
    }
    if (c->behavior == SIM_BEHAVIOR_BALANCER) {
        int e = pick_edge(r, c, q, ci);
        if (e < 0) {
            sim__release(r, i);
            sim__answer(r, i);
        } else if (r->d->edges[e].mode == SIM_EDGE_CALL) {
            q->token = ++r->serial;
            q->call_pos = c->call_e; /* after this one call, none is left */
            q->pending = 1;
            r->edges[e].calls++;
            attempt(r, i, e, 1);
        } else {
            sim__release(r, i);
            take_edge(r, i, e);
        }
        return;
    }
    if (c->call_e == c->call_b) {
        sim__after_calls(r, i);
        return;
    }
    q->token = ++r->serial;
    if (is_fanout(c))
        fan_out(r, i);
    else {
        q->call_pos = c->call_b;
        next_call(r, i);
    }
}
