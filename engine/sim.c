/* A run: building the compact runtime from a checked design, the event loop (one switch on the
 * event kind), and the run's lifecycle. docs/engine.md describes the whole machine. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define POOL_LIMIT_REQUESTS 50000000u
#define POOL_LIMIT_BYTES (2048ull << 20)
#define MAX_REPLICA_SLOTS 10000000ll     /* replicas of all components, autoscale max included */
#define MAX_WINDOW_BYTES (1024ull << 20) /* preallocated metrics windows */
#define SAME_TIME_LIMIT 100000000ull     /* events at one instant before the run gives up */

sim_options sim_options_defaults(void) {
    sim_options o;
    memset(&o, 0, sizeof o);
    o.duration = 60;
    o.warmup = 0;
    o.seed = 1;
    o.window = 1;
    o.batches = 20;
    return o;
}

__attribute__((format(printf, 3, 4))) static void say(char *err, int errlen, const char *fmt, ...) {
    if (!err || errlen <= 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, (size_t)errlen, fmt, ap);
    va_end(ap);
}

static int check_options(const sim_design *d, const sim_options *o, char *err, int errlen) {
    if (!d || !d->checked) {
        say(err, errlen, "the design has not passed sim_design_check");
        return -1;
    }
    if (!(isfinite(o->duration) && o->duration > 0)) {
        say(err, errlen, "duration must be > 0 seconds");
        return -1;
    }
    if (!(isfinite(o->warmup) && o->warmup >= 0 && o->warmup < o->duration)) {
        say(err, errlen, "warmup must be in [0, duration)");
        return -1;
    }
    if (!(isfinite(o->window) && o->window > 0)) {
        say(err, errlen, "window must be > 0 seconds");
        return -1;
    }
    if (o->batches < 0 || o->batches > 1000) {
        say(err, errlen, "batches must be in 0..1000");
        return -1;
    }
    long long slots = 0;
    for (int c = 0; c < d->ncomponents; c++) {
        const sim_component *cp = &d->components[c];
        slots += cp->autoscale.enabled && cp->autoscale.max > cp->replicas ? cp->autoscale.max
                                                                           : cp->replicas;
    }
    if (slots > MAX_REPLICA_SLOTS) {
        say(err, errlen, "too many replicas in all (%lld > %lld)", slots, MAX_REPLICA_SLOTS);
        return -1;
    }
    if (o->keep_windows < 0 || !(isfinite(o->autoscale_interval) && o->autoscale_interval >= 0)) {
        say(err, errlen, "keep_windows and autoscale_interval must be >= 0");
        return -1;
    }
    double wins = ceil(o->duration / o->window - 1e-9);
    if (o->keep_windows > 0 && wins > o->keep_windows) wins = o->keep_windows;
    if (wins * (d->ncomponents + 1) * sizeof(sim_window_stat) > (double)MAX_WINDOW_BYTES) {
        say(err, errlen,
            "%.0f metrics windows x %d components need too much memory: use a "
            "longer window",
            wins, d->ncomponents);
        return -1;
    }
    return 0;
}

/* Edge lists in CSR form per component (grouped by a counting sort): call edges, forward/async
 * edges with cumulative p, every outgoing edge (balancer) with cumulative weights; each list in
 * design order. */
static int build_edges(sim_run *r) {
    const sim_design *d = r->d;
    int n = r->ncomp;
    uint32_t *start = calloc((size_t)n + 1, sizeof *start);
    uint32_t *order = malloc(((size_t)d->nedges + 1) * sizeof *order);
    if (!start || !order) {
        free(start);
        free(order);
        return -1;
    }
    for (int e = 0; e < d->nedges; e++)
        start[d->edges[e].from + 1]++;
    for (int c = 0; c < n; c++)
        start[c + 1] += start[c];
    for (int e = 0; e < d->nedges; e++)
        order[start[d->edges[e].from]++] = (uint32_t)e;
    /* start[c] now points past component c's edges; shift back */
    for (int c = n; c > 0; c--)
        start[c] = start[c - 1];
    start[0] = 0;
    size_t ne = (size_t)d->nedges + 1;
    r->edges = calloc(ne, sizeof *r->edges);
    r->call_list = malloc(ne * sizeof *r->call_list);
    r->fa_list = malloc(ne * sizeof *r->fa_list);
    r->out_list = malloc(ne * sizeof *r->out_list);
    r->fa_cum = malloc(ne * sizeof *r->fa_cum);
    r->out_cum = malloc(ne * sizeof *r->out_cum);
    int rc = 0;
    if (!r->edges || !r->call_list || !r->fa_list || !r->out_list || !r->fa_cum || !r->out_cum)
        rc = -1;
    uint32_t nc = 0, nf = 0, no = 0;
    for (int c = 0; c < n && rc == 0; c++) {
        sim_comp *cp = &r->comps[c];
        cp->call_b = nc;
        cp->fa_b = nf;
        cp->out_b = no;
        double cum = 0, wcum = 0;
        for (uint32_t k = start[c]; k < start[c + 1]; k++) {
            uint32_t e = order[k];
            const sim_edge *ed = &d->edges[e];
            r->out_list[no] = e;
            wcum += ed->weight;
            r->out_cum[no++] = wcum;
            if (ed->mode == SIM_EDGE_CALL) {
                r->call_list[nc++] = e;
            } else {
                r->fa_list[nf] = e;
                cum += ed->p;
                r->fa_cum[nf++] = cum;
            }
        }
        cp->call_e = nc;
        cp->fa_e = nf;
        cp->out_e = no;
        cp->bal_wsum = wcum;
    }
    free(start);
    free(order);
    return rc;
}

static int comp_slots(const sim_component *cfg) {
    return cfg->autoscale.enabled && cfg->autoscale.max > cfg->replicas ? cfg->autoscale.max
                                                                        : cfg->replicas;
}

static int build_components(sim_run *r) {
    const sim_design *d = r->d;
    r->ncomp = d->ncomponents;
    r->comps = sim__big_alloc((size_t)r->ncomp * sizeof *r->comps);
    size_t slots = 0;
    for (int c = 0; c < r->ncomp; c++)
        slots += (size_t)comp_slots(&d->components[c]);
    r->rep_block = calloc(slots, sizeof *r->rep_block);
    r->usable_block = malloc(slots * sizeof *r->usable_block);
    if (!r->comps || !r->rep_block || !r->usable_block) return -1;
    size_t at = 0;
    for (int c = 0; c < r->ncomp; c++) {
        const sim_component *cfg = &d->components[c];
        sim_comp *cp = &r->comps[c];
        cp->cfg = cfg;
        cp->service = cfg->service;
        cp->behavior = (int)cfg->behavior;
        cp->policy = (int)cfg->policy;
        cp->workers = cfg->workers;
        cp->queue_cap = cfg->queue_cap;
        cp->fanout_all = cfg->fanout_all;
        cp->error_rate = cfg->error_rate;
        cp->hit_ratio = cfg->hit_ratio;
        cp->read_ratio = cfg->read_ratio;
        cp->shed_wait = cfg->shed_wait;
        cp->rate_limit = cfg->rate_limit;
        cp->rate_burst = cfg->rate_burst;
        cp->lat_mul = cp->cap_mul = 1;
        cp->hit_over = -1;
        cp->tokens = cfg->rate_burst;
        int n = comp_slots(cfg);
        cp->reps = r->rep_block + at;
        cp->usable = r->usable_block + at;
        at += (size_t)n;
        cp->nalloc = n;
        for (int k = 0; k < n; k++) {
            sim_replica *R = &cp->reps[k];
            R->qhead = R->qtail = SIM_NONE;
            R->active = k < cfg->replicas;
        }
        sim__rebuild_usable(r, c);
        sim__set_nup(r, c);
    }
    return 0;
}

static int build_rings(sim_run *r) {
    for (int c = 0; c < r->ncomp; c++)
        if (r->comps[c].policy == SIM_POLICY_CONSISTENT_HASH && sim__ring_build(r, c)) return -1;
    return 0;
}

static int schedule_clock(sim_run *r) {
    const sim_options *o = &r->o;
    r->next_warm = o->warmup > 0 ? o->warmup : INFINITY;
    if (o->warmup <= 0) sim__warmup(r);
    r->next_win = fmin(o->window, r->end);
    r->next_batch = r->batches >= 2 ? o->warmup + r->batch_len : INFINITY;
    return 0;
}

sim_run *sim_run_new(const sim_design *d, const sim_options *opt, char *err, int errlen) {
    sim_options o = opt ? *opt : sim_options_defaults();
    if (check_options(d, &o, err, errlen)) return NULL;
    sim_run *r = calloc(1, sizeof *r);
    if (!r) {
        say(err, errlen, "out of memory");
        return NULL;
    }
    r->d = d;
    r->o = o;
    r->end = o.duration;
    r->free_head = SIM_NONE;
    r->same_time_limit = SAME_TIME_LIMIT;
    size_t by_bytes = POOL_LIMIT_BYTES / sizeof(sim_req);
    r->limit = by_bytes < POOL_LIMIT_REQUESTS ? (uint32_t)by_bytes : POOL_LIMIT_REQUESTS;
    r->batches = o.batches >= 2 ? o.batches : 0;
    r->batch_len = (o.duration - o.warmup) / (r->batches ? r->batches : 1);
    r->win_cap = (int)ceil(o.duration / o.window - 1e-9);
    if (r->win_cap < 1) r->win_cap = 1;
    r->win_rows = o.keep_windows > 0 && o.keep_windows < r->win_cap ? o.keep_windows : r->win_cap;
    sim_rng_seed_stream(&r->rng, o.seed, 0);
    r->srcs = calloc((size_t)d->nworkloads + 1, sizeof *r->srcs);
    int ok = r->srcs && sim_evq_init(&r->q, 1024) == 0 && build_components(r) == 0 &&
             build_edges(r) == 0 && build_rings(r) == 0 && sim__metrics_init(r) == 0 &&
             schedule_clock(r) == 0 && sim__faults_start(r) == 0 && sim__autoscale_start(r) == 0 &&
             sim__workloads_start(r) == 0 && sim__script_begin(r) == 0;
    if (!ok || r->err[0]) {
        say(err, errlen, "%s", r->err[0] ? r->err : "out of memory building the run");
        sim_run_free(r);
        return NULL;
    }
    return r;
}

void sim_run_free(sim_run *r) {
    if (!r) return;
    sim__script_end(r);
    sim__metrics_free(r);
    if (r->comps)
        for (int c = 0; c < r->ncomp; c++) {
            if (r->comps[c].own_reps) {
                free(r->comps[c].reps);
                free(r->comps[c].usable);
            }
            free(r->comps[c].ring);
            free(r->comps[c].bring);
        }
    sim__big_free(r->comps, (size_t)r->ncomp * sizeof *r->comps);
    free(r->rep_block);
    free(r->usable_block);
    if (r->edges)
        for (int e = 0; e < r->d->nedges; e++)
            free(r->edges[e].tq);
    free(r->edges);
    free(r->call_list);
    free(r->fa_list);
    free(r->out_list);
    free(r->fa_cum);
    free(r->out_cum);
    free(r->srcs);
    free(r->faults);
    free(r->hops);
    sim__pool_free(r);
    sim_evq_free(&r->q);
    free(r);
}

/* ---- the event loop -------------------------------------------------------------------- */

static double next_clock(const sim_run *r) {
    return fmin(r->next_warm, fmin(r->next_win, r->next_batch));
}

/* The clock tick due now (the earliest of warm-up, window end and batch end). */
static void clock_tick(sim_run *r) {
    if (r->next_warm <= r->now) {
        r->next_warm = INFINITY;
        sim__warmup(r);
    } else if (r->next_batch <= r->now) {
        sim__batch(r);
        r->next_batch = INFINITY;
        if (r->nbatch < r->batches)
            r->next_batch = r->nbatch + 1 == r->batches
                                ? r->end /* no rounding gap */
                                : r->o.warmup + (r->nbatch + 1) * r->batch_len;
    } else {
        sim__window(r);
        r->next_win = r->nwin < r->win_cap ? fmin((r->nwin + 1) * r->o.window, r->end) : INFINITY;
    }
}

static void dispatch(sim_run *r, const sim_event *ev) {
    switch (ev->kind) {
    case EV_ARRIVE:
        sim__arrive(r, ev->a);
        break;
    case EV_SERVICE_END:
        sim__service_end(r, ev->a, ev->b);
        break;
    case EV_SOURCE:
        sim__source(r, (int)ev->a, ev->b);
        break;
    case EV_CALL_RETURN:
        sim__call_return(r, ev->a, ev->b);
        break;
    case EV_TIMEOUT:
        sim__edge_timeouts(r, (int)ev->a);
        break;
    case EV_SEND:
        sim__send(r, ev->a, ev->b);
        break;
    case EV_USER:
        sim__user(r, (int)ev->a);
        break;
    case EV_FAULT_START:
        sim__fault_start(r, (int)ev->a);
        break;
    case EV_FAULT_END:
        sim__fault_end(r, (int)ev->a);
        break;
    case EV_AUTOSCALE:
        sim__autoscale(r, (int)ev->a);
        break;
    case EV_PROVISION:
        sim__provision(r, (int)ev->a, (int)ev->b);
        break;
    case EV_SCRIPT_WAKE:
        sim__script_wake(r, ev->a, ev->b);
        break;
    case EV_SCRIPT_TIMER:
        sim__script_timer(r, (int)ev->a, ev->b);
        break;
    }
}

int sim_run_until(sim_run *r, double t) {
    if (r->err[0]) return -1;
    if (r->finished) return 1;
    if (!(t < r->end)) t = r->end;
    sim_event ev = {0};
    double clock = next_clock(r);
    for (;;) {
        double te = sim_evq_empty(&r->q) ? INFINITY : sim_evq_peek_time(&r->q);
        if (clock <= t && clock <= te) {
            r->now = clock;
            clock_tick(r);
            clock = next_clock(r);
            continue;
        }
        if (te > t) break;
        if (sim_evq_pop(&r->q, &ev)) break;
        if (ev.time == r->now && ++r->same_time > r->same_time_limit) {
            snprintf(r->err, sizeof r->err,
                     "simulated time stopped at t=%.6f s: more than %llu "
                     "events at one instant (a loop with no delay, e.g. closed users with zero "
                     "think time hitting a failure)",
                     r->now, (unsigned long long)r->same_time_limit);
            return -1;
        }
        if (ev.time != r->now) r->same_time = 0;
        r->now = ev.time;
        r->events++;
        dispatch(r, &ev);
        if (r->err[0]) return -1;
    }
    if (t > r->now) r->now = t;
    if (r->now >= r->end) {
        r->finished = 1;
        return 1;
    }
    return 0;
}

double sim_run_now(const sim_run *r) {
    return r->now;
}

const char *sim_run_error(const sim_run *r) {
    return r->err[0] ? r->err : r->ctl_err[0] ? r->ctl_err : NULL;
}

double sim_run_next_event(const sim_run *r) {
    return sim_evq_empty(&r->q) ? INFINITY : sim_evq_peek_time(&r->q);
}
