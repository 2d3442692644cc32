/* Faults (the design's timeline and live injections), live replica changes and autoscaling.
 *
 * Every fault instance is kept; when one starts or ends, the state of its target is recomputed
 * from the instances still active: the latest applied wins, and its end restores whatever the
 * others (or the design) say. Crashes fail what the crashed replicas hold. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

static int add_fault(sim_run *r, const sim_fault *f) {
    if (r->nfaults == r->cap_faults) {
        int cap = r->cap_faults ? r->cap_faults * 2 : 8;
        sim_fault_rt *p = realloc(r->faults, (size_t)cap * sizeof *p);
        if (!p) return -1;
        r->faults = p;
        r->cap_faults = cap;
    }
    sim_fault_rt *x = &r->faults[r->nfaults];
    memset(x, 0, sizeof *x);
    x->f = *f;
    return r->nfaults++;
}

int sim__faults_start(sim_run *r) {
    for (int k = 0; k < r->d->nfaults; k++) {
        int i = add_fault(r, &r->d->faults[k]);
        if (i < 0) return -1;
        if (r->faults[i].f.at <= r->end &&
            sim__push(r, r->faults[i].f.at, EV_FAULT_START, (uint32_t)i, 0))
            return -1;
    }
    return 0;
}

/* The latest active instance of `kind` on `target` (component or edge), or NULL. */
static const sim_fault_rt *latest(const sim_run *r, int kind, int target) {
    const sim_fault_rt *best = NULL;
    for (int k = 0; k < r->nfaults; k++) {
        const sim_fault_rt *x = &r->faults[k];
        if (x->active && (int)x->f.kind == kind && x->f.target == target &&
            (!best || x->order > best->order))
            best = x;
    }
    return best;
}

static int zone_down(const sim_run *r, const char *zone) {
    if (!zone[0]) return 0;
    for (int k = 0; k < r->nfaults; k++) {
        const sim_fault_rt *x = &r->faults[k];
        if (x->active && x->f.kind == SIM_FAULT_ZONE && strcmp(x->f.zone, zone) == 0) return 1;
    }
    return 0;
}

static int replica_crashed(const sim_run *r, int c, int rep) {
    for (int k = 0; k < r->nfaults; k++) {
        const sim_fault_rt *x = &r->faults[k];
        if (x->active && x->f.kind == SIM_FAULT_CRASH && x->f.target == c && x->f.replica == rep)
            return 1;
    }
    return 0;
}

/* Whole-component down (crash with replica -1, or its zone): everything held fails. */
static void update_whole(sim_run *r, int c) {
    sim_comp *cp = &r->comps[c];
    const sim_fault_rt *x = NULL;
    for (int k = 0; k < r->nfaults && !x; k++)
        if (r->faults[k].active && r->faults[k].f.kind == SIM_FAULT_CRASH &&
            r->faults[k].f.target == c && r->faults[k].f.replica == -1)
            x = &r->faults[k];
    int down = x != NULL || zone_down(r, cp->cfg->zone);
    if (down == cp->down_whole) return;
    sim__acc(r, cp);
    cp->down_whole = down;
    if (down) sim__crash_replica(r, c, -1);
    sim__set_nup(r, c);
}

static void update_replica(sim_run *r, int c, int rep) {
    sim_comp *cp = &r->comps[c];
    if (rep >= cp->nalloc) return;
    int crashed = replica_crashed(r, c, rep);
    if (crashed == cp->reps[rep].crashed) return;
    sim__acc(r, cp);
    cp->reps[rep].crashed = (uint8_t)crashed;
    if (crashed) sim__crash_replica(r, c, rep);
    sim__rebuild_usable(r, c);
    sim__set_nup(r, c);
}

/* Recomputes the target's state for the fault's kind. */
static void apply(sim_run *r, const sim_fault *f) {
    const sim_fault_rt *x = latest(r, (int)f->kind, f->target);
    int t = f->target;
    switch (f->kind) {
    case SIM_FAULT_CRASH:
        if (f->replica < 0)
            update_whole(r, t);
        else
            update_replica(r, t, f->replica);
        break;
    case SIM_FAULT_ZONE:
        for (int c = 0; c < r->ncomp; c++)
            if (strcmp(r->comps[c].cfg->zone, f->zone) == 0) update_whole(r, c);
        break;
    case SIM_FAULT_LATENCY:
        r->comps[t].lat_add = x && !x->f.multiply ? x->f.value : 0;
        r->comps[t].lat_mul = x && x->f.multiply ? x->f.value : 1;
        break;
    case SIM_FAULT_ERROR_RATE:
        r->comps[t].err_inj = x ? x->f.value : 0;
        break;
    case SIM_FAULT_CAPACITY:
        r->comps[t].cap_mul = x ? x->f.value : 1;
        break;
    case SIM_FAULT_HIT_RATIO:
        r->comps[t].hit_over = x ? x->f.value : -1;
        break;
    case SIM_FAULT_PARTITION:
        r->edges[t].partitioned = x != NULL;
        break;
    case SIM_FAULT_PACKET_LOSS:
        r->edges[t].loss = x ? x->f.value : 0;
        break;
    }
}

void sim__fault_start(sim_run *r, int i) {
    sim_fault_rt *x = &r->faults[i];
    x->active = 1;
    x->order = ++r->fault_order;
    x->start = r->now;
    x->end = x->f.duration > 0 ? r->now + x->f.duration : -1;
    if (x->end >= 0 && x->end <= r->end) sim__push(r, x->end, EV_FAULT_END, (uint32_t)i, 0);
    sim_fault f = x->f;
    apply(r, &f);
}

void sim__fault_end(sim_run *r, int i) {
    r->faults[i].active = 0;
    sim_fault f = r->faults[i].f;
    apply(r, &f);
}

/* A live fault: checked like the design's own, then applied now. */
int sim_run_inject(sim_run *r, const sim_fault *f) {
    int ok = (int)f->kind >= 0 && (int)f->kind <= SIM_FAULT_PACKET_LOSS && isfinite(f->duration) &&
             f->duration >= 0;
    if (ok && (f->kind == SIM_FAULT_PARTITION || f->kind == SIM_FAULT_PACKET_LOSS))
        ok = f->target >= 0 && f->target < r->d->nedges;
    else if (ok && f->kind != SIM_FAULT_ZONE)
        ok = f->target >= 0 && f->target < r->ncomp &&
             (f->kind != SIM_FAULT_CRASH || f->replica >= -1);
    else if (ok)
        ok = memchr(f->zone, 0, sizeof f->zone) != NULL && f->zone[0];
    if (ok && f->kind != SIM_FAULT_CRASH && f->kind != SIM_FAULT_ZONE &&
        f->kind != SIM_FAULT_PARTITION)
        ok = isfinite(f->value) && f->value >= 0 &&
             (f->kind == SIM_FAULT_LATENCY || f->value <= 1 || f->kind == SIM_FAULT_CAPACITY) &&
             (f->kind != SIM_FAULT_CAPACITY || f->value > 0);
    if (!ok) {
        snprintf(r->ctl_err, sizeof r->ctl_err, "inject: invalid %s fault",
                 sim_fault_kind_name(f->kind));
        return -1;
    }
    sim_fault g = *f;
    g.at = r->now;
    int i = add_fault(r, &g);
    if (i < 0) {
        snprintf(r->ctl_err, sizeof r->ctl_err, "inject: out of memory");
        return -1;
    }
    sim__fault_start(r, i);
    return 0;
}

/* ---- replicas -------------------------------------------------------------------------- */

static int grow_replicas(sim_run *r, int c, int n) {
    sim_comp *cp = &r->comps[c];
    if (n <= cp->nalloc) return 0;
    /* The first arrays live in the run's shared block: copy out of it, then grow freely. */
    sim_replica *reps = malloc((size_t)n * sizeof *reps);
    int *usable = malloc((size_t)n * sizeof *usable);
    if (!reps || !usable) {
        free(reps);
        free(usable);
        return -1;
    }
    memcpy(reps, cp->reps, (size_t)cp->nalloc * sizeof *reps);
    memcpy(usable, cp->usable, (size_t)cp->nusable * sizeof *usable);
    if (cp->own_reps) {
        free(cp->reps);
        free(cp->usable);
    }
    cp->reps = reps;
    cp->usable = usable;
    cp->own_reps = 1;
    for (int k = cp->nalloc; k < n; k++) {
        sim_replica *R = &reps[k];
        memset(R, 0, sizeof *R);
        R->qhead = R->qtail = SIM_NONE;
        R->crashed = (uint8_t)replica_crashed(r, c, k);
    }
    cp->nalloc = n;
    return 0;
}

int sim_run_set_replicas(sim_run *r, int c, int n) {
    if (c < 0 || c >= r->ncomp || n < 1 || n > SIM_MAX_REPLICAS) {
        snprintf(r->ctl_err, sizeof r->ctl_err,
                 "set_replicas: component %d / replicas %d out of range", c, n);
        return -1;
    }
    if (grow_replicas(r, c, n)) {
        snprintf(r->ctl_err, sizeof r->ctl_err, "set_replicas: out of memory");
        return -1;
    }
    sim_comp *cp = &r->comps[c];
    for (int k = 0; k < cp->nalloc; k++) {
        cp->reps[k].active = k < n;
        cp->reps[k].provisioning = 0;
    }
    sim__rebuild_usable(r, c);
    sim__set_nup(r, c);
    return 0;
}

/* ---- autoscaling ----------------------------------------------------------------------- */

static double as_interval(const sim_run *r, const sim_comp *cp) {
    if (cp->cfg->autoscale.interval > 0) return cp->cfg->autoscale.interval;
    return r->o.autoscale_interval > 0 ? r->o.autoscale_interval : r->o.window;
}

int sim__autoscale_start(sim_run *r) {
    for (int c = 0; c < r->ncomp; c++) {
        sim_comp *cp = &r->comps[c];
        if (!cp->cfg->autoscale.enabled) continue;
        cp->as_last_decision = -INFINITY;
        if (sim__push(r, as_interval(r, cp), EV_AUTOSCALE, (uint32_t)c, 0)) return -1;
    }
    return 0;
}

/* Utilization over the last interval decides the replicas wanted (see semantics). */
void sim__autoscale(sim_run *r, int c) {
    sim_comp *cp = &r->comps[c];
    const sim_autoscale *a = &cp->cfg->autoscale;
    sim__acc(r, cp);
    double dcap = cp->n.cap_int - cp->as_cap, dbusy = cp->n.busy_int - cp->as_busy;
    cp->as_cap = cp->n.cap_int;
    cp->as_busy = cp->n.busy_int;
    double u = dcap > 0 ? dbusy / dcap : 0;
    int up = cp->nusable, current = 0;
    for (int k = 0; k < cp->nalloc; k++)
        current += cp->reps[k].active || cp->reps[k].provisioning;
    int desired = (int)ceil(up * u / a->target_util - 1e-9);
    int lo = a->min > 1 ? a->min : 1;
    if (desired < lo) desired = lo;
    if (desired > a->max) desired = a->max;
    int cooled = r->now - cp->as_last_decision >= a->cooldown;
    if (desired > current && cooled) {
        cp->as_last_decision = r->now;
        for (int k = 0, need = desired - current; k < a->max && need > 0; k++) {
            if (grow_replicas(r, c, k + 1)) break;
            sim_replica *R = &cp->reps[k];
            if (R->active || R->provisioning) continue;
            R->provisioning = 1;
            need--;
            sim__push(r, r->now + a->provision_delay, EV_PROVISION, (uint32_t)c, (uint64_t)k);
        }
    } else if (desired < current && cooled) {
        cp->as_last_decision = r->now;
        for (int k = cp->nalloc - 1, extra = current - desired; k >= 0 && extra > 0; k--) {
            sim_replica *R = &cp->reps[k];
            if (!R->active) continue;
            R->active = 0; /* out of rotation: it finishes what it holds */
            extra--;
        }
        sim__rebuild_usable(r, c);
        sim__set_nup(r, c);
    }
    double next = r->now + as_interval(r, cp);
    if (next <= r->end) sim__push(r, next, EV_AUTOSCALE, (uint32_t)c, 0);
}

void sim__provision(sim_run *r, int c, int rep) {
    sim_comp *cp = &r->comps[c];
    if (rep >= cp->nalloc || !cp->reps[rep].provisioning) return;
    cp->reps[rep].provisioning = 0;
    cp->reps[rep].active = 1;
    sim__rebuild_usable(r, c);
    sim__set_nup(r, c);
}
