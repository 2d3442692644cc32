/* Script behaviours (sim_script.h): the engine side. A request held at a script component
 * carries the host's slot; the host's actions are applied here with the engine's own
 * machinery (service-end events for WORK, the call code of sim_route.c for CALL, the usual
 * answer / fail / forward paths).
 *
 * Recursion: applying an action may end a request at once (ANSWER), which frees a worker,
 * which starts the next waiting request, whose behaviour may end at once too, and so on.
 * Calls may also fail synchronously (an open breaker). Nesting is allowed a few levels deep;
 * beyond that, starts and resumes are deferred through an event at the same instant, so the
 * C stack stays bounded whatever the script does. The order of events stays deterministic. */
#include <math.h>
#include <stdio.h>

#include "sim_internal.h"
#include "sim_script.h"

#define SCRIPT_NEST_MAX 4

void sim_design_set_script_host(sim_design *d, const sim_script_ops *ops, void *ud) {
    d->script_ops = ops;
    d->script_ud = ud;
}

/* ---- queries ---------------------------------------------------------------------------- */

void sim_run_abort(sim_run *r, const char *msg) {
    if (!r->err[0])
        snprintf(r->err, sizeof r->err, "%s", msg && *msg ? msg : "stopped by the script host");
}

double sim_run_random(sim_run *r) {
    return sim_rng_uniform(&r->rng);
}

double sim_run_sample(sim_run *r, const sim_dist *d) {
    return sim_dist_sample(d, &r->rng);
}

int sim_run_replica_up(const sim_run *r, int comp, int rep) {
    if (comp < 0 || comp >= r->ncomp) return 0;
    const sim_comp *c = &r->comps[comp];
    if (c->down_whole || rep < 0 || rep >= c->nalloc) return 0;
    return !c->reps[rep].crashed && c->reps[rep].active;
}

int sim_run_replicas_up(const sim_run *r, int comp) {
    if (comp < 0 || comp >= r->ncomp || r->comps[comp].down_whole) return 0;
    return r->comps[comp].nusable;
}

int sim_run_script_timer(sim_run *r, int comp, double delay, uint64_t id) {
    if (comp < 0 || comp >= r->ncomp || !(delay >= 0) || !isfinite(delay)) return -1;
    double t = r->now + delay;
    if (t > r->end) return 0; /* never fires */
    return sim__push(r, t, EV_SCRIPT_TIMER, (uint32_t)comp, id);
}

/* ---- lifecycle --------------------------------------------------------------------------- */

int sim__script_begin(sim_run *r) {
    int first = -1;
    for (int c = 0; c < r->ncomp && first < 0; c++)
        if (r->comps[c].behavior == SIM_BEHAVIOR_SCRIPT) first = c;
    if (first < 0) return 0;
    const sim_script_ops *ops = r->d->script_ops;
    if (!ops) {
        snprintf(r->err, sizeof r->err,
                 "component '%s' (type '%s') has a script behaviour but no script host is "
                 "attached to the design",
                 r->d->components[first].id, r->d->components[first].type);
        return -1;
    }
    r->sops = ops;
    char err[256] = "";
    r->sdepth++;
    r->sctx = ops->run_begin(r->d->script_ud, r, err, sizeof err);
    r->sdepth--;
    if (!r->sctx) {
        sim_run_abort(r, err[0] ? err : "the script host could not start the run");
        return -1;
    }
    return r->err[0] ? -1 : 0;
}

void sim__script_end(sim_run *r) {
    if (r->sops && r->sctx) r->sops->run_end(r->sctx);
    r->sctx = NULL;
}

/* ---- applying actions -------------------------------------------------------------------- */

static int own_edge(const sim_run *r, uint32_t comp, int e) {
    return e >= 0 && e < r->d->nedges && r->d->edges[e].from == (int)comp;
}

static int edge_lost(sim_run *r, int e) {
    const sim_edge_rt *E = &r->edges[e];
    return E->partitioned || (E->loss > 0 && sim_rng_uniform(&r->rng) < E->loss);
}

/* FORWARD: a completion here, then the same request arrives at the target. A lost forward
 * fails at the sender, as for built-in forwards. */
static void forward(sim_run *r, uint32_t i, int e) {
    const sim_edge *ed = &r->d->edges[e];
    sim_req *q = REQ(r, i);
    sim_comp *c = &r->comps[q->comp];
    sim__release(r, i);
    int lost = edge_lost(r, e);
    sim__edge_left(r, e, lost);
    if (lost) {
        sim__fail(r, i, FAIL_ERROR);
        return;
    }
    c->n.completions++;
    sim__record_response(r, c, r->now - q->arrived);
    sim__leave(r, i);
    q->comp = (uint32_t)ed->to;
    sim__push(r, r->now + ed->latency, EV_ARRIVE, i, 0);
}

/* ASYNC: a detached copy goes along the edge (unless the network loses it). */
static void send_copy(sim_run *r, uint32_t i, int e) {
    const sim_edge *ed = &r->d->edges[e];
    int lost = edge_lost(r, e);
    sim__edge_left(r, e, lost);
    if (lost) return;
    uint32_t k = sim__copy(r, i, ed->to);
    if (k != SIM_NONE) sim__push(r, r->now + ed->latency, EV_ARRIVE, k, 0);
}

static void bad_edge(sim_run *r, uint32_t i, int e) {
    char msg[200];
    snprintf(msg, sizeof msg, "script at component '%s': edge %d is not one of its edges",
             r->d->components[REQ(r, i)->comp].id, e);
    sim_run_abort(r, msg);
}

static void call_all(sim_run *r, uint32_t i, const sim_script_action *a) {
    sim_req *q = REQ(r, i);
    for (int k = 0; k < a->nedges; k++)
        if (!own_edge(r, q->comp, a->edges[k])) {
            bad_edge(r, i, a->edges[k]);
            return;
        }
    q->token = ++r->serial;
    q->ok = 1;
    q->pending = 1; /* held until every call is sent, so an early result cannot finish it */
    for (int k = 0; k < a->nedges && !r->err[0]; k++) {
        q->pending++;
        sim__call_edge(r, i, a->edges[k]);
    }
    if (!r->err[0] && --q->pending == 0) sim__script_calls_done(r, i);
}

/* Applies the host's action for request i (held at a script component), asking again after
 * ASYNC. Returns when the request waits or has left the component. */
static void apply(sim_run *r, uint32_t i, sim_script_action *a) {
    r->sdepth++;
    for (;;) {
        sim_req *q = REQ(r, i);
        sim_comp *c = &r->comps[q->comp];
        int k = a->kind;
        if ((k == SIM_ACT_CALL || k == SIM_ACT_FORWARD || k == SIM_ACT_ASYNC) &&
            !own_edge(r, q->comp, a->edge)) {
            bad_edge(r, i, a->edge);
            break;
        }
        if (k == SIM_ACT_WORK) {
            double s = a->value < 0 ? sim_dist_sample(&c->service, &r->rng) : a->value;
            s = (s * c->lat_mul + c->lat_add) / c->cap_mul;
            sim__push(r, r->now + s, EV_SERVICE_END, i, q->epoch);
        } else if (k == SIM_ACT_SLEEP) {
            q->ok = 1;
            sim__push(r, r->now + (a->value > 0 ? a->value : 0), EV_SCRIPT_WAKE, i, q->epoch);
        } else if (k == SIM_ACT_CALL) {
            q->token = ++r->serial;
            q->ok = 1;
            q->pending = 1;
            sim__call_edge(r, i, a->edge);
        } else if (k == SIM_ACT_CALL_ALL) {
            call_all(r, i, a);
        } else if (k == SIM_ACT_ASYNC) {
            send_copy(r, i, a->edge);
            if (r->err[0] || r->sops->resume(r->sctx, q->sslot, 1, a) != 0) break;
            continue;
        } else if (k == SIM_ACT_FORWARD) {
            q->sslot = SIM_NONE;
            forward(r, i, a->edge);
        } else if (k == SIM_ACT_FAIL) {
            q->sslot = SIM_NONE;
            sim__fail(r, i, FAIL_ERROR);
        } else { /* ANSWER */
            q->sslot = SIM_NONE;
            sim__release(r, i);
            sim__answer(r, i);
        }
        break;
    }
    r->sdepth--;
}

void sim__script_start(sim_run *r, uint32_t i) {
    sim_req *q = REQ(r, i);
    q->sslot = SIM_NONE;
    if (r->sdepth >= SCRIPT_NEST_MAX) {
        sim__push(r, r->now, EV_SCRIPT_WAKE, i, q->epoch); /* sslot NONE: a deferred start */
        return;
    }
    sim_script_req info = {(int)q->comp, (int)q->replica, q->key,
                           q->kind == REQ_CHILD ? q->attempt : 0, q->kind};
    sim_script_action act;
    uint32_t slot = SIM_NONE;
    r->sdepth++;
    int rc = r->sops->start(r->sctx, &info, &slot, &act);
    r->sdepth--;
    if (rc != 0) {
        sim_run_abort(r, NULL);
        return;
    }
    q->sslot = slot;
    apply(r, i, &act);
}

void sim__script_resume(sim_run *r, uint32_t i, int ok) {
    sim_req *q = REQ(r, i);
    if (q->sslot == SIM_NONE) return;
    if (r->sdepth >= SCRIPT_NEST_MAX) {
        q->ok = (uint8_t)ok;
        sim__push(r, r->now, EV_SCRIPT_WAKE, i, q->epoch);
        return;
    }
    sim_script_action act;
    r->sdepth++;
    int rc = r->sops->resume(r->sctx, q->sslot, ok, &act);
    r->sdepth--;
    if (rc != 0) {
        sim_run_abort(r, NULL);
        return;
    }
    apply(r, i, &act);
}

/* A sleep's end, a deferred resume (the slot is set) or a deferred start (it is not). */
void sim__script_wake(sim_run *r, uint32_t i, uint64_t epoch) {
    sim_req *q = REQ(r, i);
    if (q->epoch != epoch || q->at != AT_HELD) return; /* failed meanwhile */
    if (r->comps[q->comp].behavior != SIM_BEHAVIOR_SCRIPT) return;
    if (q->sslot == SIM_NONE)
        sim__script_start(r, i);
    else
        sim__script_resume(r, i, q->ok);
}

void sim__script_calls_done(sim_run *r, uint32_t i) {
    sim_req *q = REQ(r, i);
    q->token = 0; /* late answers (none are expected) are discarded */
    sim__script_resume(r, i, q->ok);
}

void sim__script_timer(sim_run *r, int comp, uint64_t id) {
    if (r->sops && r->sops->timer(r->sctx, comp, id) != 0) sim_run_abort(r, NULL);
}

void sim__script_drop(sim_run *r, uint32_t i) {
    sim_req *q = REQ(r, i);
    if (q->sslot == SIM_NONE) return;
    uint32_t slot = q->sslot;
    q->sslot = SIM_NONE;
    if (r->sops) r->sops->drop(r->sctx, slot);
}
