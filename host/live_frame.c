/* Frames of a live run (proto/sdsim.proto, encoded with protobuf-c) and its final report.
 *
 * The builder owns one preallocated protobuf-c message tree (a ComponentStat per component,
 * an EdgeStat per edge, max_hops Hops, the notices) and refills it for every frame, so a
 * frame costs one pass over components and edges plus the encoding: no allocation unless the
 * encoded size grows past the buffer. Rates and percentiles come from the run's last completed
 * metrics window (sim_run_window), counters from sim_run_totals. */
#include "live_frame.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytic.h"
#include "replications.h"
#include "report.h"
#include "run_design.h"
#include "sdsim.pb-c.h"
#include "sim_script.h"

#define DEFAULT_MAX_HOPS 200

struct sdsim_frame_builder {
    const sim_design *d;
    int max_hops;
    Sdsim__V1__Frame frame;
    Sdsim__V1__Totals totals;
    Sdsim__V1__ComponentStat *comps;
    Sdsim__V1__ComponentStat **comp_ptrs;
    Sdsim__V1__EdgeStat *edges;
    Sdsim__V1__EdgeStat **edge_ptrs;
    Sdsim__V1__Hop *hops;
    Sdsim__V1__Hop **hop_ptrs;
    sim_hop *taken;
    Sdsim__V1__Notice notices[SDSIM_NOTICE_MAX];
    Sdsim__V1__Notice *notice_ptrs[SDSIM_NOTICE_MAX];
    uint64_t *sent_before; /* per edge at the previous frame: crossings per frame for sampling */
    uint8_t *down;         /* per component at the previous check */
    int *replicas;         /* replicas up per component at the previous check */
    uint8_t *buf;
    size_t cap;
};

void sdsim_frame_builder_free(sdsim_frame_builder *b) {
    if (!b) return;
    free(b->comps);
    free(b->comp_ptrs);
    free(b->edges);
    free(b->edge_ptrs);
    free(b->hops);
    free(b->hop_ptrs);
    free(b->taken);
    free(b->sent_before);
    free(b->down);
    free(b->replicas);
    free(b->buf);
    free(b);
}

sdsim_frame_builder *sdsim_frame_builder_new(const sim_design *d, int max_hops) {
    sdsim_frame_builder *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    size_t nc = (size_t)d->ncomponents + 1, ne = (size_t)d->nedges + 1;
    b->d = d;
    b->max_hops = max_hops > 0 ? max_hops : DEFAULT_MAX_HOPS;
    size_t nh = (size_t)b->max_hops;
    b->comps = calloc(nc, sizeof *b->comps);
    b->comp_ptrs = calloc(nc, sizeof *b->comp_ptrs);
    b->edges = calloc(ne, sizeof *b->edges);
    b->edge_ptrs = calloc(ne, sizeof *b->edge_ptrs);
    b->hops = calloc(nh, sizeof *b->hops);
    b->hop_ptrs = calloc(nh, sizeof *b->hop_ptrs);
    b->taken = calloc(nh, sizeof *b->taken);
    b->sent_before = calloc(ne, sizeof *b->sent_before);
    b->down = calloc(nc, 1);
    b->replicas = calloc(nc, sizeof *b->replicas);
    if (!b->comps || !b->comp_ptrs || !b->edges || !b->edge_ptrs || !b->hops || !b->hop_ptrs ||
        !b->taken || !b->sent_before || !b->down || !b->replicas) {
        sdsim_frame_builder_free(b);
        return NULL;
    }
    sdsim__v1__frame__init(&b->frame);
    sdsim__v1__totals__init(&b->totals);
    for (int c = 0; c < d->ncomponents; c++) {
        sdsim__v1__component_stat__init(&b->comps[c]);
        b->comps[c].index = (uint32_t)c;
        b->replicas[c] = d->components[c].replicas;
        b->comp_ptrs[c] = &b->comps[c];
    }
    for (int e = 0; e < d->nedges; e++) {
        sdsim__v1__edge_stat__init(&b->edges[e]);
        b->edges[e].index = (uint32_t)e;
        b->edge_ptrs[e] = &b->edges[e];
    }
    for (size_t k = 0; k < nh; k++) {
        sdsim__v1__hop__init(&b->hops[k]);
        b->hop_ptrs[k] = &b->hops[k];
    }
    for (int k = 0; k < SDSIM_NOTICE_MAX; k++) {
        sdsim__v1__notice__init(&b->notices[k]);
        b->notice_ptrs[k] = &b->notices[k];
    }
    b->frame.totals = &b->totals;
    b->frame.components = b->comp_ptrs;
    b->frame.n_components = (size_t)d->ncomponents;
    b->frame.edges = b->edge_ptrs;
    b->frame.n_edges = (size_t)d->nedges;
    b->frame.hops = b->hop_ptrs;
    b->frame.notices = b->notice_ptrs;
    return b;
}

sim_options sdsim_live_sim_options(double duration, double warmup, uint64_t seed) {
    sim_options o = sim_options_defaults();
    o.duration = duration;
    o.warmup = warmup;
    o.seed = seed;
    o.window = SDSIM_LIVE_WINDOW;
    o.keep_windows = SDSIM_LIVE_KEEP_WINDOWS;
    /* `sdsim run` evaluates autoscaling once per window of max(1, duration / 3600) s */
    o.autoscale_interval = duration / SDSIM_MAX_WINDOWS > 1 ? duration / SDSIM_MAX_WINDOWS : 1;
    return o;
}

int sdsim_frame_attach(sdsim_frame_builder *b, sim_run *r) {
    return sim_run_sample_hops(r, 1, b->max_hops);
}

static float ms(float seconds) {
    return seconds * 1000.0f;
}

/* The last completed window's length: the final one may be shorter than the others. */
static double window_len(const sim_run *r, double win) {
    int w = sim_run_windows(r);
    if (w == 0) return win;
    double start = (w - 1) * win, now = sim_run_now(r);
    double end = start + win < now ? start + win : now;
    return end > start ? end - start : win;
}

/* Per component: the window's rates and percentiles, replicas and state now. Returns the
 * index of the most utilized component, -1 when none is busy. */
static int fill_components(sdsim_frame_builder *b, const sim_run *r, int w, double len,
                           double *cost) {
    const sim_design *d = b->d;
    int bottleneck = -1;
    float best = 0;
    *cost = 0;
    for (int c = 0; c < d->ncomponents; c++) {
        Sdsim__V1__ComponentStat *s = &b->comps[c];
        const sim_window_stat *ws = w >= 0 ? sim_run_window(r, w, c) : NULL;
        sim_window_stat zero = {0};
        if (!ws) ws = &zero;
        s->arrival_rate = ws->arrivals / len;
        s->throughput = ws->completions / len;
        s->error_rate = ((double)ws->errors + ws->dropped + ws->timeouts) / len;
        s->utilization = ws->utilization;
        s->queue = ws->mean_queue;
        s->p50_ms = ms(ws->p50);
        s->p95_ms = ms(ws->p95);
        s->p99_ms = ms(ws->p99);
        int up = sim_run_replicas_up(r, c);
        s->replicas = (uint32_t)(up > 0 ? up : 0);
        s->down = sim_run_component_down(r, c) == 1;
        sim_totals t;
        sim_run_totals(r, c, &t);
        s->errors = t.errors;
        *cost += (double)s->replicas * d->components[c].cost_per_hour * 730;
        if (ws->utilization > best) {
            best = ws->utilization;
            bottleneck = c;
        }
    }
    return bottleneck;
}

/* Per edge: rates over the window, state now. Returns the crossings since the last frame. */
static uint64_t fill_edges(sdsim_frame_builder *b, const sim_run *r, double len) {
    uint64_t crossed = 0;
    for (int e = 0; e < b->d->nedges; e++) {
        sim_edge_stat st;
        sim_run_edge_stat(r, e, &st);
        Sdsim__V1__EdgeStat *s = &b->edges[e];
        s->rate = st.win_sent / len;
        s->error_rate = st.win_failed / len;
        s->partitioned = st.partitioned != 0;
        s->breaker = (uint32_t)st.breaker;
        crossed += st.sent - b->sent_before[e];
        b->sent_before[e] = st.sent;
    }
    return crossed;
}

static void fill_totals(sdsim_frame_builder *b, const sim_run *r, int w, double len) {
    Sdsim__V1__Totals *t = &b->totals;
    const sim_window_stat *ws = w >= 0 ? sim_run_window(r, w, -1) : NULL;
    sim_window_stat zero = {0};
    if (!ws) ws = &zero;
    t->arrival_rate = ws->arrivals / len;
    t->throughput = ws->completions / len;
    double ended = (double)ws->completions + ws->errors;
    t->error_rate = ended > 0 ? ws->errors / ended : 0;
    t->p50_ms = ms(ws->p50);
    t->p95_ms = ms(ws->p95);
    t->p99_ms = ms(ws->p99);
    sim_totals all;
    sim_run_totals(r, -1, &all);
    t->completed = all.completions;
    t->failed = all.errors;
    t->dropped = all.dropped;
}

/* The sampled hops since the last frame, and the sampling rate for the next: about max_hops
 * of the crossings a frame sees. */
static void fill_hops(sdsim_frame_builder *b, sim_run *r, uint64_t crossed) {
    double now = sim_run_now(r);
    int n = sim_run_take_hops(r, b->taken, b->max_hops, NULL);
    for (int k = 0; k < n; k++) {
        double ago = now - b->taken[k].at;
        b->hops[k].edge = (uint32_t)b->taken[k].edge;
        b->hops[k].at = (float)(ago > 0 ? ago : 0);
        b->hops[k].ok = b->taken[k].ok != 0;
    }
    b->frame.n_hops = (size_t)n;
    uint64_t every = crossed / (uint64_t)b->max_hops + 1;
    if (every > 1000000000u) every = 1000000000u;
    sim_run_sample_hops(r, (int)every, b->max_hops);
}

static void fill_notices(sdsim_frame_builder *b, const sdsim_frame_meta *m) {
    int n = m->nnotices < SDSIM_NOTICE_MAX ? m->nnotices : SDSIM_NOTICE_MAX;
    const sdsim_notice *src = m->notices + (m->nnotices - n); /* the latest when too many */
    for (int k = 0; k < n; k++) {
        b->notices[k].at = src[k].at;
        b->notices[k].kind = (char *)src[k].kind;
        b->notices[k].text = (char *)src[k].text;
        b->notices[k].component = src[k].component;
    }
    b->frame.n_notices = (size_t)n;
}

static void add_notice(sdsim_notice *x, double at, int comp, const char *kind) {
    x->at = at;
    x->component = comp;
    snprintf(x->kind, sizeof x->kind, "%s", kind);
}

int sdsim_frame_state_changes(sdsim_frame_builder *b, const sim_run *r, sdsim_notice *out,
                              int cap) {
    int n = 0;
    double now = sim_run_now(r);
    for (int c = 0; c < b->d->ncomponents && n < cap; c++) {
        const char *id = b->d->components[c].id;
        uint8_t down = sim_run_component_down(r, c) == 1;
        int up = sim_run_replicas_up(r, c), was = b->replicas[c];
        b->replicas[c] = up;
        if (down != b->down[c]) {
            b->down[c] = down;
            add_notice(&out[n], now, c, down ? "down" : "up");
            snprintf(out[n++].text, sizeof out->text, "%s is %s", id,
                     down ? "down: it takes no requests" : "up again");
        } else if (up != was && !down) { /* autoscaling, a replica crashed or came back */
            add_notice(&out[n], now, c, "replicas");
            snprintf(out[n++].text, sizeof out->text, "%s: %d replica%s up (was %d)", id, up,
                     up == 1 ? "" : "s", was);
        }
    }
    return n;
}

void sdsim_frame_replicas_known(sdsim_frame_builder *b, const sim_run *r, int component) {
    if (component >= 0 && component < b->d->ncomponents)
        b->replicas[component] = sim_run_replicas_up(r, component);
}

const uint8_t *sdsim_frame_build(sdsim_frame_builder *b, sim_run *r, const sdsim_frame_meta *m,
                                 size_t *len) {
    Sdsim__V1__Frame *f = &b->frame;
    double win = SDSIM_LIVE_WINDOW;
    int w = sim_run_windows(r) - 1;
    double wl = window_len(r, win);
    f->simulation_id = (char *)(m->id ? m->id : "");
    f->seq = m->seq;
    f->state = (Sdsim__V1__SimState)m->state;
    f->sim_time = sim_run_now(r);
    f->duration = m->duration;
    f->speed = m->speed;
    f->window = wl;
    f->events = sim_run_events(r);
    f->error = (char *)(m->error ? m->error : "");
    double cost;
    b->totals.bottleneck = fill_components(b, r, w, wl, &cost);
    b->totals.cost_month = cost;
    uint64_t crossed = fill_edges(b, r, wl);
    fill_totals(b, r, w, wl);
    fill_hops(b, r, crossed);
    fill_notices(b, m);
    size_t need = sdsim__v1__frame__get_packed_size(f);
    if (need > b->cap) {
        size_t cap = need + need / 4 + 256;
        uint8_t *p = realloc(b->buf, cap);
        if (!p) return NULL;
        b->buf = p;
        b->cap = cap;
    }
    *len = sdsim__v1__frame__pack(f, b->buf);
    return b->buf;
}

/* ------------------------------------------------------------------------------------- */

int sdsim_live_report_of(const sim_design *d, sim_run *r, double warmup, uint64_t seed,
                         double wall_seconds, char **out, size_t *len) {
    sdsim_replications reps = {0};
    *out = NULL;
    *len = 0;
    if (sdsim_replications_add(&reps, sim_run_results(r)) || sdsim_replications_summarise(&reps)) {
        sdsim_replications_free(&reps);
        return -1;
    }
    sim_analytic a;
    char aerr[256] = "";
    int have = sim_analyze(d, &a, aerr, sizeof aerr) == 0;
    double reached = sim_run_now(r);
    sdsim_report report = {.design = d,
                           .results = &reps.summary,
                           .analytic = have ? &a : NULL,
                           .analytic_error = aerr,
                           .duration = reached,
                           .warmup = warmup < reached ? warmup : reached,
                           .seed = seed,
                           .replications = 1,
                           .wall_seconds = wall_seconds};
    FILE *f = open_memstream(out, len);
    int rc = -1;
    if (f) {
        sdsim_report_json(f, &report);
        rc = fclose(f) == 0 ? 0 : -1;
    }
    if (have) sim_analytic_free(&a);
    sdsim_replications_free(&reps);
    if (rc) {
        free(*out);
        *out = NULL;
        *len = 0;
    }
    return rc;
}
