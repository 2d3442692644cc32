/* Metrics: histograms, metrics windows, batch means and the results. Counters and time
 * integrals are cumulative from time 0 (sim_counts); warm-up, windows and batches keep a
 * snapshot and report differences, so the hot path only ever increments. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"
#include "stats.h"

/* Bytes allowed for the optional histogram families. Window percentiles per component feed
 * the live charts; per-component batch p99s only give the p99 CI, so they go first. */
#define WIN_HIST_BUDGET (256u << 20)  /* ~32,000 components */
#define BATCH_HIST_BUDGET (32u << 20) /* ~4,000 components */

/* Histograms are large (8 KB each) and mostly empty: fresh anonymous pages are zero and
 * the kernel only backs the pages a component actually touches, so a design with many quiet
 * components costs little memory and no set-up time. */
static sim_hist *hists(int n) {
    return sim__big_alloc((size_t)n * sizeof(sim_hist));
}

static void unmap(sim_hist *h, int n) {
    sim__big_free(h, (size_t)n * sizeof(sim_hist));
}

/* Resets only what was used: an untouched histogram's pages stay unbacked. */
static void reset(sim_hist *h) {
    if (h && h->count) sim_hist_reset(h);
}

#define RBUF_BUDGET (64u << 20) /* bytes of response buffers in all */

int sim__metrics_init(sim_run *r) {
    int n = r->ncomp;
    size_t fam = (size_t)n * sizeof(sim_hist);
    sim_hist *run = hists(n), *win = fam <= WIN_HIST_BUDGET ? hists(n) : NULL;
    sim_hist *bat = fam <= BATCH_HIST_BUDGET && r->batches >= 2 ? hists(n) : NULL;
    size_t cap = RBUF_BUDGET / ((size_t)n * sizeof(double));
    cap = cap > 256 ? 256 : cap < 1 ? 1 : cap;
    r->rbuf_bytes = ((size_t)n * cap + 256) * sizeof(double);
    double *buf = sim__big_alloc(r->rbuf_bytes);
    r->e2e_hist = hists(3);
    r->hists_n = n;
    for (int c = 0; c < n; c++) { /* set now, so that a failure below frees them */
        r->comps[c].hist = run ? &run[c] : NULL;
        r->comps[c].whist = win ? &win[c] : NULL;
        r->comps[c].bhist = bat ? &bat[c] : NULL;
        r->comps[c].rbuf = buf ? buf + (size_t)c * cap : NULL;
    }
    if (!run || !r->e2e_hist || !buf) return -1;
    r->e2e_whist = r->e2e_hist + 1;
    r->e2e_bhist = r->e2e_hist + 2;
    r->e2e_rbuf = buf + (size_t)n * cap;
    r->e2e_rbuf_cap = 256;
    for (int c = 0; c < n; c++) {
        sim_comp *cp = &r->comps[c];
        cp->rbuf_cap = (uint32_t)cap;
    }
    if (r->batches >= 2) {
        size_t nb = (size_t)(n + 1) * (size_t)r->batches;
        r->bmean = malloc(nb * sizeof(double));
        r->bp99 = malloc(nb * sizeof(double));
        if (!r->bmean || !r->bp99) return -1;
    }
    r->wins = calloc((size_t)r->win_rows * (size_t)(n + 1), sizeof(sim_window_stat));
    r->cres = calloc((size_t)n, sizeof(sim_component_result));
    return r->wins && r->cres ? 0 : -1;
}

void sim__metrics_free(sim_run *r) {
    if (r->comps && r->ncomp > 0) {
        unmap(r->comps[0].hist, r->hists_n);
        unmap(r->comps[0].whist, r->hists_n);
        unmap(r->comps[0].bhist, r->hists_n);
        sim__big_free(r->comps[0].rbuf, r->rbuf_bytes);
    }
    unmap(r->e2e_hist, 3);
    free(r->bmean);
    free(r->bp99);
    free(r->wins);
    free(r->cres);
}

static void add_totals(sim_hist *h, uint32_t n, double sum, double max) {
    h->count += n;
    h->sum += sum;
    if (max > h->max) h->max = max;
}

/* Buffered values go to the window and batch histograms, and to the run's once warm: one
 * bucket computation per value, totals once per drain. */
static void drain(sim_run *r, const double *v, uint32_t n, sim_hist *run, sim_hist *win,
                  sim_hist *bat) {
    if (!r->warm) run = NULL;
    double sum = 0, max = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t b = sim__hist_bucket(v[k] * 1e6);
        if (win) win->counts[b]++;
        if (run) run->counts[b]++;
        if (bat) bat->counts[b]++;
        sum += v[k];
        if (v[k] > max) max = v[k];
    }
    if (win) add_totals(win, n, sum, max);
    if (run) add_totals(run, n, sum, max);
    if (bat) add_totals(bat, n, sum, max);
}

void sim__drain(sim_run *r, sim_comp *c) {
    drain(r, c->rbuf, c->nrbuf, c->hist, c->whist, c->bhist);
    c->nrbuf = 0;
}

void sim__drain_e2e(sim_run *r) {
    drain(r, r->e2e_rbuf, r->e2e_nrbuf, r->e2e_hist, r->e2e_whist, r->e2e_bhist);
    r->e2e_nrbuf = 0;
}

void sim__flush_hists(sim_run *r) {
    for (int c = 0; c < r->ncomp; c++)
        if (r->comps[c].nrbuf) sim__drain(r, &r->comps[c]);
    if (r->e2e_nrbuf) sim__drain_e2e(r);
}

static void acc_all(sim_run *r) {
    for (int c = 0; c < r->ncomp; c++)
        sim__acc(r, &r->comps[c]);
}

/* ---- warm-up, windows, batches --------------------------------------------------------- */

void sim__warmup(sim_run *r) {
    acc_all(r);
    sim__flush_hists(r); /* what came before goes to the window only */
    for (int c = 0; c < r->ncomp; c++) {
        sim_comp *cp = &r->comps[c];
        cp->at_warm = cp->n;
        cp->at_batch = cp->n;
        cp->peak = cp->nup;
        reset(cp->hist);
        reset(cp->bhist);
    }
    r->e2e_at_warm = r->e2e;
    r->e2e_at_batch = r->e2e;
    reset(r->e2e_hist);
    reset(r->e2e_bhist);
    r->warm = 1;
}

static uint32_t u32(uint64_t v) {
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void fill_quantiles(sim_window_stat *w, const sim_hist *h) {
    if (!h) return;
    w->p50 = (float)sim_hist_quantile(h, 0.50);
    w->p95 = (float)sim_hist_quantile(h, 0.95);
    w->p99 = (float)sim_hist_quantile(h, 0.99);
}

void sim__window(sim_run *r) {
    if (r->nwin >= r->win_cap) return;
    int n = r->ncomp;
    double len = r->now - r->nwin * r->o.window;
    sim_window_stat *row = &r->wins[(size_t)(r->nwin % r->win_rows) * (size_t)(n + 1)];
    acc_all(r);
    sim__flush_hists(r);
    for (int c = 0; c < n; c++) {
        sim_comp *cp = &r->comps[c];
        const sim_counts *a = &cp->at_win, *b = &cp->n;
        sim_window_stat *w = &row[c + 1];
        w->arrivals = u32(b->arrivals - a->arrivals);
        w->completions = u32(b->completions - a->completions);
        w->dropped = u32(b->dropped - a->dropped);
        w->errors = u32(b->errors - a->errors);
        w->timeouts = u32(b->timeouts - a->timeouts);
        double cap = b->cap_int - a->cap_int;
        w->utilization =
            cp->workers > 0 && cap > 0 ? (float)((b->busy_int - a->busy_int) / cap) : 0.0f;
        w->mean_queue = len > 0 ? (float)((b->queue_int - a->queue_int) / len) : 0.0f;
        fill_quantiles(w, cp->whist);
        w->replicas = (uint16_t)(cp->nup > UINT16_MAX ? UINT16_MAX : cp->nup);
        cp->at_win = cp->n;
        reset(cp->whist);
    }
    sim_window_stat *e = &row[0];
    e->arrivals = u32(r->e2e.started - r->e2e_at_win.started);
    e->completions = u32(r->e2e.completed - r->e2e_at_win.completed);
    e->dropped = u32(r->e2e.dropped - r->e2e_at_win.dropped);
    e->errors = u32(r->e2e.failed - r->e2e_at_win.failed);
    fill_quantiles(e, r->e2e_whist);
    r->e2e_at_win = r->e2e;
    reset(r->e2e_whist);
    for (int k = 0; k < r->d->nedges; k++) {
        sim_edge_rt *E = &r->edges[k];
        E->win_sent = u32(E->sent - E->sent_at_win);
        E->win_failed = u32(E->failed - E->failed_at_win);
        E->sent_at_win = E->sent;
        E->failed_at_win = E->failed;
    }
    int k = r->nwin++;
    if (r->o.on_window) r->o.on_window(r, k, r->o.ud);
}

void sim__batch(sim_run *r) {
    if (r->nbatch >= r->batches) return;
    int b = r->nbatch++, B = r->batches;
    sim__flush_hists(r);
    for (int c = 0; c < r->ncomp; c++) {
        sim_comp *cp = &r->comps[c];
        uint64_t dn = cp->n.resp_n - cp->at_batch.resp_n;
        r->bmean[c * B + b] = dn ? (cp->n.resp_sum - cp->at_batch.resp_sum) / (double)dn : NAN;
        r->bp99[c * B + b] = cp->bhist && dn ? sim_hist_quantile(cp->bhist, 0.99) : NAN;
        reset(cp->bhist);
        cp->at_batch = cp->n;
    }
    uint64_t dn = r->e2e.completed - r->e2e_at_batch.completed;
    r->bmean[r->ncomp * B + b] = dn ? (r->e2e.sum - r->e2e_at_batch.sum) / (double)dn : NAN;
    r->bp99[r->ncomp * B + b] = dn ? sim_hist_quantile(r->e2e_bhist, 0.99) : NAN;
    reset(r->e2e_bhist);
    r->e2e_at_batch = r->e2e;
}

/* ---- results --------------------------------------------------------------------------- */

/* Half-width of the 95 % interval over the batches that saw traffic; NaN with fewer than 2. */
static double ci_half(const double *x, int n) {
    double v[n > 0 ? n : 1];
    int m = 0;
    for (int k = 0; k < n; k++)
        if (!isnan(x[k])) v[m++] = x[k];
    if (m < 2) return NAN;
    double mean, half;
    sim_ci(v, m, 0.95, &mean, &half);
    return half;
}

static sim_latency latency_of(const sim_hist *h, double sum, uint64_t n) {
    sim_latency l;
    l.mean = n ? sum / (double)n : 0;
    l.p50 = sim_hist_quantile(h, 0.50);
    l.p95 = sim_hist_quantile(h, 0.95);
    l.p99 = sim_hist_quantile(h, 0.99);
    l.max = h->max;
    return l;
}

static void component_result(sim_run *r, int c, double T, sim_component_result *o) {
    sim_comp *cp = &r->comps[c];
    const sim_counts *a = &cp->at_warm, *b = &cp->n;
    memset(o, 0, sizeof *o);
    o->arrivals = b->arrivals - a->arrivals;
    o->completions = b->completions - a->completions;
    o->dropped = b->dropped - a->dropped;
    o->errors = b->errors - a->errors;
    o->timeouts = b->timeouts - a->timeouts;
    o->retries = b->retries - a->retries;
    o->rejected = b->rejected - a->rejected;
    o->shed = b->shed - a->shed;
    double cap = b->cap_int - a->cap_int;
    o->throughput = T > 0 ? (double)o->completions / T : 0;
    o->utilization = cp->workers > 0 && cap > 0 ? (b->busy_int - a->busy_int) / cap : 0;
    o->mean_in_system = T > 0 ? (b->insys_int - a->insys_int) / T : 0;
    o->mean_queue = T > 0 ? (b->queue_int - a->queue_int) / T : 0;
    uint64_t waited = b->waited - a->waited;
    o->mean_wait = waited ? (b->wait_sum - a->wait_sum) / (double)waited : 0;
    o->response = latency_of(cp->hist, b->resp_sum - a->resp_sum, b->resp_n - a->resp_n);
    int B = r->nbatch;
    o->ci.mean_half = B >= 2 ? ci_half(&r->bmean[c * r->batches], B) : NAN;
    o->ci.p99_half = B >= 2 && cp->bhist ? ci_half(&r->bp99[c * r->batches], B) : NAN;
    o->replicas_mean = T > 0 ? (b->rep_int - a->rep_int) / T : cp->nup;
    o->replicas_peak = cp->peak;
    o->cost_month = o->replicas_mean * cp->cfg->cost_per_hour * 730;
}

static void e2e_result(sim_run *r, double T, sim_e2e_result *o) {
    const sim_e2e *a = &r->e2e_at_warm, *b = &r->e2e;
    memset(o, 0, sizeof *o);
    o->started = b->started - a->started;
    o->completed = b->completed - a->completed;
    o->failed = b->failed - a->failed;
    o->dropped = b->dropped - a->dropped;
    o->throughput = T > 0 ? (double)o->completed / T : 0;
    uint64_t ended = o->completed + o->failed;
    o->error_rate = ended ? (double)o->failed / (double)ended : 0;
    o->latency = latency_of(r->e2e_hist, b->sum - a->sum, o->completed);
    int B = r->nbatch;
    o->ci.mean_half = B >= 2 ? ci_half(&r->bmean[r->ncomp * r->batches], B) : NAN;
    o->ci.p99_half = B >= 2 ? ci_half(&r->bp99[r->ncomp * r->batches], B) : NAN;
}

const sim_results *sim_run_results(sim_run *r) {
    acc_all(r);
    sim__flush_hists(r);
    double T = r->warm ? r->now - r->o.warmup : 0;
    if (T < 0) T = 0;
    sim_results *res = &r->res;
    res->measured_time = T;
    res->events = r->events;
    res->components = r->cres;
    res->ncomponents = r->ncomp;
    res->cost_month = 0;
    res->bottleneck = -1;
    double best = 0;
    for (int c = 0; c < r->ncomp; c++) {
        component_result(r, c, T, &r->cres[c]);
        res->cost_month += r->cres[c].cost_month;
        if (r->cres[c].utilization > best) {
            best = r->cres[c].utilization;
            res->bottleneck = c;
        }
    }
    e2e_result(r, T, &res->e2e);
    return res;
}

int sim_run_windows(const sim_run *r) {
    return r->nwin;
}

const sim_window_stat *sim_run_window(const sim_run *r, int w, int component) {
    if (w < 0 || w >= r->nwin || w < r->nwin - r->win_rows || component < -1 ||
        component >= r->ncomp)
        return NULL;
    size_t row = (size_t)(w % r->win_rows);
    return &r->wins[row * (size_t)(r->ncomp + 1) + (size_t)(component + 1)];
}

/* ---- live views ------------------------------------------------------------------------ */

int sim_run_totals(const sim_run *r, int c, sim_totals *o) {
    if (c < -1 || c >= r->ncomp) return -1;
    if (c < 0) {
        *o = (sim_totals){r->e2e.started, r->e2e.completed, r->e2e.dropped, r->e2e.failed, 0};
        return 0;
    }
    const sim_counts *n = &r->comps[c].n;
    *o = (sim_totals){n->arrivals, n->completions, n->dropped, n->errors, n->timeouts};
    return 0;
}

uint64_t sim_run_events(const sim_run *r) {
    return r->events;
}

int sim_run_component_down(const sim_run *r, int c) {
    if (c < 0 || c >= r->ncomp) return -1;
    return r->comps[c].down_whole || r->comps[c].nusable == 0;
}

int sim_run_edge_stat(const sim_run *r, int e, sim_edge_stat *o) {
    if (e < 0 || e >= r->d->nedges) return -1;
    const sim_edge_rt *E = &r->edges[e];
    o->sent = E->sent;
    o->failed = E->failed;
    o->win_sent = E->win_sent;
    o->win_failed = E->win_failed;
    o->partitioned = E->partitioned;
    o->loss = E->loss;
    /* An open breaker turns half-open lazily, at the next call: show what that call finds. */
    o->breaker = E->bstate == 1 && r->now >= E->open_until ? 2 : E->bstate;
    return 0;
}

int sim_run_sample_hops(sim_run *r, int every_n, int capacity) {
    if (every_n < 0 || capacity < 1) return -1;
    if ((uint32_t)capacity != r->hop_cap) {
        sim_hop *h = malloc((size_t)capacity * sizeof *h);
        if (!h) return -1;
        free(r->hops);
        r->hops = h;
        r->hop_cap = (uint32_t)capacity;
        r->hop_head = r->hop_n = 0;
    }
    r->hop_every = (uint32_t)every_n;
    r->hop_left = (uint32_t)every_n;
    return 0;
}

void sim__hop_record(sim_run *r, int e, double departed, int ok) {
    r->hop_left = r->hop_every;
    r->hop_seen++;
    uint32_t at = r->hop_head + r->hop_n;
    if (at >= r->hop_cap) at -= r->hop_cap;
    r->hops[at] = (sim_hop){departed, e, ok};
    if (r->hop_n < r->hop_cap)
        r->hop_n++;
    else
        r->hop_head = r->hop_head + 1 == r->hop_cap ? 0 : r->hop_head + 1;
}

int sim_run_take_hops(sim_run *r, sim_hop *out, int max, uint64_t *seen) {
    uint32_t want = max > 0 ? (uint32_t)max : 0, n = r->hop_n < want ? r->hop_n : want;
    uint32_t from = r->hop_head + (r->hop_n - n); /* the most recent n */
    for (uint32_t k = 0; k < n; k++)
        out[k] = r->hops[(from + k) % r->hop_cap];
    r->hop_head = r->hop_n = 0;
    if (seen) *seen = r->hop_seen;
    r->hop_seen = 0;
    return (int)n;
}
