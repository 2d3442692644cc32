/* Workloads: open Poisson sources (time-varying rates by thinning against the pattern's
 * maximum) and closed populations of users who think, send one request and wait for it. Each
 * workload draws from its own random stream so that adding one does not shift the others. */
#include <math.h>
#include <stdio.h>

#include "sim_internal.h"

/* The pattern's rate at time t (requests per second, never negative). */
static double rate_at(const sim_workload *w, double t) {
    switch (w->pattern) {
    case SIM_PATTERN_RAMP:
        if (t < w->start) return w->rps;
        if (t >= w->start + w->over) return w->to_rps;
        return w->rps + (w->to_rps - w->rps) * (t - w->start) / w->over;
    case SIM_PATTERN_SPIKE:
        return t >= w->start && t < w->start + w->over ? w->rps * w->factor : w->rps;
    case SIM_PATTERN_DIURNAL: {
        double v = w->rps * (1 + w->amplitude * sin(2 * M_PI * t / w->period));
        return v > 0 ? v : 0;
    }
    case SIM_PATTERN_STEPS: {
        double v = w->rps;
        for (int s = 0; s < w->nsteps && w->steps[s].at <= t; s++)
            v = w->steps[s].rps;
        return v;
    }
    default:
        return w->rps;
    }
}

static double max_rate(const sim_workload *w) {
    double m = w->rps;
    switch (w->pattern) {
    case SIM_PATTERN_RAMP:
        m = fmax(w->rps, w->to_rps);
        break;
    case SIM_PATTERN_SPIKE:
        m = w->rps * fmax(1, w->factor);
        break;
    case SIM_PATTERN_DIURNAL:
        m = w->rps * (1 + w->amplitude);
        break;
    case SIM_PATTERN_STEPS:
        for (int s = 0; s < w->nsteps; s++)
            m = fmax(m, w->steps[s].rps);
        break;
    default:
        break;
    }
    return m;
}

static double exp_gap(sim_rng *g, double rate) {
    return sim_dist_exp1(g) / rate;
}

/* A new root request at the workload's target, arriving now. */
static void new_root(sim_run *r, int w) {
    const sim_workload *wl = &r->d->workloads[w];
    sim_src *s = &r->srcs[w];
    uint32_t i = sim__req_alloc(r);
    if (i == SIM_NONE) return;
    sim_req *q = REQ(r, i);
    q->kind = REQ_ROOT;
    q->wl = w;
    q->key = wl->keys ? sim_rng_below(&s->rng, wl->keys) : (uint32_t)(sim_rng_next(&s->rng) >> 32);
    q->created = r->now;
    q->comp = (uint32_t)wl->to;
    r->e2e.started++;
    sim__arrive(r, i);
}

int sim__workloads_start(sim_run *r) {
    const sim_design *d = r->d;
    for (int w = 0; w < d->nworkloads; w++) {
        const sim_workload *wl = &d->workloads[w];
        sim_src *s = &r->srcs[w];
        sim_rng_seed_stream(&s->rng, r->o.seed, (uint64_t)w + 1);
        if (wl->closed) {
            for (int u = 0; u < wl->users; u++)
                if (sim__push(r, sim_dist_sample(&wl->think, &s->rng), EV_USER, (uint32_t)w, 0))
                    return -1;
            continue;
        }
        s->max_rate = max_rate(wl);
        if (s->max_rate > 0 &&
            sim__push(r, exp_gap(&s->rng, s->max_rate), EV_SOURCE, (uint32_t)w, 0))
            return -1;
    }
    return 0;
}

void sim__source(sim_run *r, int w, uint64_t gen) {
    const sim_workload *wl = &r->d->workloads[w];
    sim_src *s = &r->srcs[w];
    if (gen != s->gen) return; /* drawn before a rate change: superseded */
    int accept = wl->pattern == SIM_PATTERN_CONSTANT || s->overridden ||
                 sim_rng_uniform(&s->rng) * s->max_rate < rate_at(wl, r->now);
    double next = r->now + exp_gap(&s->rng, s->max_rate);
    if (next <= r->end) sim__push(r, next, EV_SOURCE, (uint32_t)w, s->gen);
    if (accept) new_root(r, w);
}

/* A live rate change. The pending arrival is dropped (its event goes stale) and the next one
 * is drawn from now at the new rate: exact for Poisson arrivals, which are memoryless. A
 * time-varying pattern (ramp, spike, diurnal, steps) is replaced by the constant rate from
 * now on. Draws come from the source's own stream, so the run stays deterministic. */
int sim_run_set_rate(sim_run *r, int w, double rps) {
    if (w < 0 || w >= r->d->nworkloads || r->d->workloads[w].closed || !isfinite(rps) || rps < 0) {
        snprintf(r->ctl_err, sizeof r->ctl_err,
                 "set_rate: source %d / rps %g out of range (open sources, rps >= 0)", w, rps);
        return -1;
    }
    sim_src *s = &r->srcs[w];
    s->overridden = 1;
    s->rate = rps;
    s->max_rate = rps;
    s->gen++;
    if (rps <= 0) return 0; /* paused: no arrival until the next change */
    double next = r->now + exp_gap(&s->rng, rps);
    if (next <= r->end && sim__push(r, next, EV_SOURCE, (uint32_t)w, s->gen)) {
        snprintf(r->ctl_err, sizeof r->ctl_err, "set_rate: out of memory");
        return -1;
    }
    return 0;
}

double sim_run_rate(const sim_run *r, int w) {
    if (w < 0 || w >= r->d->nworkloads || r->d->workloads[w].closed) return -1;
    const sim_src *s = &r->srcs[w];
    return s->overridden ? s->rate : rate_at(&r->d->workloads[w], r->now);
}

void sim__user(sim_run *r, int w) {
    new_root(r, w);
}

/* A root request is answered or failed: end to end figures; a closed user thinks again. */
void sim__root_end(sim_run *r, uint32_t i, int ok, int why) {
    sim_req *q = REQ(r, i);
    if (ok) {
        r->e2e.completed++;
        r->e2e.sum += r->now - q->created;
        sim__record_e2e(r, r->now - q->created);
    } else {
        r->e2e.failed++;
        if (why == FAIL_DROP) r->e2e.dropped++;
    }
    int w = q->wl;
    sim__req_free(r, i);
    if (w < 0 || w >= r->d->nworkloads) return;
    const sim_workload *wl = &r->d->workloads[w];
    if (wl->closed) {
        double t = r->now + sim_dist_sample(&wl->think, &r->srcs[w].rng);
        if (t <= r->end) sim__push(r, t, EV_USER, (uint32_t)w, 0);
    }
}
