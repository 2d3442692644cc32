/* The design model: building a sim_design, its defaults, names, and the invariant check that
 * every run relies on (so that a bad struct gives an error message, never a crash). */
#include "model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- construction ---------------------------------------------------------------------- */

sim_design *sim_design_new(const char *name) {
    sim_design *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    snprintf(d->name, sizeof d->name, "%s", name ? name : "");
    d->slo.error_rate = -1;
    return d;
}

void sim_design_free(sim_design *d) {
    if (!d) return;
    for (int i = 0; i < d->nowned; i++)
        free(d->owned[i]);
    free(d->owned);
    free(d->components);
    free(d->edges);
    free(d->workloads);
    free(d->faults);
    free(d);
}

/* Makes room for one more element of size sz in *arr (count n, capacity *cap). */
static int grow(void **arr, int n, int *cap, size_t sz) {
    if (n < *cap) return 0;
    int ncap = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, (size_t)ncap * sz);
    if (!p) return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

int sim_design_add_component(sim_design *d, const sim_component *c) {
    if (grow((void **)&d->components, d->ncomponents, &d->cap_components, sizeof *c)) return -1;
    d->components[d->ncomponents] = *c;
    d->checked = 0;
    return d->ncomponents++;
}

int sim_design_add_edge(sim_design *d, const sim_edge *e) {
    if (grow((void **)&d->edges, d->nedges, &d->cap_edges, sizeof *e)) return -1;
    d->edges[d->nedges] = *e;
    d->checked = 0;
    return d->nedges++;
}

int sim_design_add_workload(sim_design *d, const sim_workload *w) {
    if (grow((void **)&d->workloads, d->nworkloads, &d->cap_workloads, sizeof *w)) return -1;
    d->workloads[d->nworkloads] = *w;
    d->checked = 0;
    return d->nworkloads++;
}

int sim_design_add_fault(sim_design *d, const sim_fault *f) {
    if (grow((void **)&d->faults, d->nfaults, &d->cap_faults, sizeof *f)) return -1;
    d->faults[d->nfaults] = *f;
    d->checked = 0;
    return d->nfaults++;
}

int sim_design_set_empirical(sim_design *d, sim_dist *dist, const double *values, int n) {
    if (n <= 0 || !values) return -1;
    if (grow((void **)&d->owned, d->nowned, &d->cap_owned, sizeof(double *))) return -1;
    double *copy = malloc((size_t)n * sizeof *copy);
    if (!copy) return -1;
    memcpy(copy, values, (size_t)n * sizeof *copy);
    d->owned[d->nowned++] = copy;
    dist->kind = SIM_DIST_EMPIRICAL;
    dist->values = copy;
    dist->nvalues = n;
    return 0;
}

/* The text lives in the same owned list as empirical values: sim_design_free frees both. */
int sim_design_set_script(sim_design *d, int c, const char *text) {
    if (c < 0 || c >= d->ncomponents || !text) return -1;
    if (grow((void **)&d->owned, d->nowned, &d->cap_owned, sizeof(double *))) return -1;
    char *copy = strdup(text);
    if (!copy) return -1;
    d->owned[d->nowned++] = (double *)(void *)copy;
    d->components[c].script = copy;
    return 0;
}

int sim_design_find(const sim_design *d, const char *id) {
    for (int i = 0; i < d->ncomponents; i++)
        if (strcmp(d->components[i].id, id) == 0) return i;
    return -1;
}

/* ---- defaults -------------------------------------------------------------------------- */

static sim_dist exp_dist(double mean) {
    sim_dist s;
    memset(&s, 0, sizeof s);
    s.kind = SIM_DIST_EXP;
    s.mean = mean;
    s.scv = 1;
    return s;
}

sim_component sim_component_defaults(const char *id) {
    sim_component c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id ? id : "");
    c.behavior = SIM_BEHAVIOR_SERVICE;
    c.replicas = 1;
    c.workers = 1;
    c.queue_cap = SIM_UNBOUNDED;
    c.service = exp_dist(0.005); /* a service that takes no time at all would surprise */
    c.policy = SIM_POLICY_ROUND_ROBIN;
    c.hit_ratio = 0.8;  /* used by caches only */
    c.read_ratio = 0.9; /* used by databases only */
    c.rate_burst = 1;
    c.autoscale.target_util = 0.6;
    c.autoscale.min = 1;
    c.autoscale.max = 10;
    c.autoscale.cooldown = 30;
    c.autoscale.provision_delay = 10;
    c.autoscale.interval = 0; /* the metrics window */
    return c;
}

sim_edge sim_edge_defaults(int from, int to) {
    sim_edge e;
    memset(&e, 0, sizeof e);
    e.from = from;
    e.to = to;
    e.mode = SIM_EDGE_CALL;
    e.p = 1;
    e.weight = 1;
    e.backoff_base = 0.01;
    e.backoff_max = 1;
    e.breaker.failure_threshold = 5;
    e.breaker.open_time = 5;
    e.breaker.half_open_probes = 3;
    return e;
}

sim_workload sim_workload_defaults(int to) {
    sim_workload w;
    memset(&w, 0, sizeof w);
    w.to = to;
    w.rps = 100;
    w.pattern = SIM_PATTERN_CONSTANT;
    w.to_rps = 100;
    w.factor = 1;
    w.period = 86400;
    w.think = exp_dist(1.0);
    return w;
}

sim_fault sim_fault_defaults(sim_fault_kind kind) {
    sim_fault f;
    memset(&f, 0, sizeof f);
    f.kind = kind;
    f.replica = -1;
    switch (kind) {
    case SIM_FAULT_LATENCY:
        f.value = 0.1;
        break;
    case SIM_FAULT_ERROR_RATE:
        f.value = 0.5;
        break;
    case SIM_FAULT_CAPACITY:
        f.value = 0.5;
        break;
    case SIM_FAULT_HIT_RATIO:
        f.value = 0;
        break;
    case SIM_FAULT_PACKET_LOSS:
        f.value = 0.1;
        break;
    default:
        break;
    }
    return f;
}

/* ---- names ----------------------------------------------------------------------------- */

static const char *const behavior_names[] = {"service",  "balancer", "cache",
                                             "database", "queue",    "script"};
static const char *const policy_names[] = {"round_robin", "random",          "least_conn",
                                           "p2c",         "consistent_hash", "weighted"};
static const char *const mode_names[] = {"call", "forward", "async"};
static const char *const pattern_names[] = {"constant", "ramp", "spike", "diurnal", "steps"};
static const char *const fault_names[] = {"crash", "latency",  "error_rate", "partition",
                                          "zone",  "capacity", "hit_ratio",  "packet_loss"};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *name_of(const char *const *names, int n, int v) {
    return v >= 0 && v < n ? names[v] : "?";
}

static int parse_name(const char *const *names, int n, const char *s) {
    if (!s) return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

const char *sim_behavior_name(sim_behavior b) {
    return name_of(behavior_names, COUNT(behavior_names), (int)b);
}
int sim_behavior_parse(const char *s) {
    return parse_name(behavior_names, COUNT(behavior_names), s);
}
const char *sim_policy_name(sim_policy p) {
    return name_of(policy_names, COUNT(policy_names), (int)p);
}
int sim_policy_parse(const char *s) {
    return parse_name(policy_names, COUNT(policy_names), s);
}
const char *sim_edge_mode_name(sim_edge_mode m) {
    return name_of(mode_names, COUNT(mode_names), (int)m);
}
int sim_edge_mode_parse(const char *s) {
    return parse_name(mode_names, COUNT(mode_names), s);
}
const char *sim_pattern_name(sim_pattern p) {
    return name_of(pattern_names, COUNT(pattern_names), (int)p);
}
int sim_pattern_parse(const char *s) {
    return parse_name(pattern_names, COUNT(pattern_names), s);
}
const char *sim_fault_kind_name(sim_fault_kind k) {
    return name_of(fault_names, COUNT(fault_names), (int)k);
}
int sim_fault_kind_parse(const char *s) {
    return parse_name(fault_names, COUNT(fault_names), s);
}

/* ---- check ----------------------------------------------------------------------------- */

/* The check stops at the first problem; each helper returns -1 after writing it. */
typedef struct checker {
    char *err;
    int errlen;
} checker;

__attribute__((format(printf, 2, 3))) static int fail(checker *ck, const char *fmt, ...) {
    if (ck->err && ck->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ck->err, (size_t)ck->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int finite_ge(double v, double lo) {
    return isfinite(v) && v >= lo;
}
static int prob(double v) {
    return isfinite(v) && v >= 0 && v <= 1;
}

static int check_dist(checker *ck, sim_dist *dist, const char *what, const char *who) {
    char why[200];
    if ((int)dist->kind < 0 || (int)dist->kind >= SIM_DIST_KIND_COUNT)
        return fail(ck, "%s '%s': unknown distribution kind %d", what, who, (int)dist->kind);
    if (sim_dist_prepare(dist, why, sizeof why) != 0)
        return fail(ck, "%s '%s': %s", what, who, why);
    return 0;
}

static int check_autoscale(checker *ck, const sim_component *c) {
    const sim_autoscale *a = &c->autoscale;
    if (!a->enabled) return 0;
    if (!(isfinite(a->target_util) && a->target_util > 0 && a->target_util <= 1))
        return fail(ck, "component '%s': autoscale target_util must be in (0, 1]", c->id);
    if (a->min < 1 || a->min > a->max || a->max > SIM_MAX_REPLICAS)
        return fail(ck, "component '%s': autoscale needs 1 <= min <= max <= %d", c->id,
                    SIM_MAX_REPLICAS);
    if (c->replicas < a->min || c->replicas > a->max)
        return fail(ck, "component '%s': replicas %d outside autoscale [%d, %d]", c->id,
                    c->replicas, a->min, a->max);
    if (!finite_ge(a->cooldown, 0) || !finite_ge(a->provision_delay, 0) ||
        !finite_ge(a->interval, 0))
        return fail(ck,
                    "component '%s': autoscale cooldown, provision_delay and interval "
                    "must be finite and >= 0",
                    c->id);
    return 0;
}

static int check_component(checker *ck, sim_component *c, int i) {
    if (memchr(c->id, 0, sizeof c->id) == NULL || c->id[0] == 0)
        return fail(ck, "component %d: id must be a non-empty string under %d bytes", i,
                    SIM_ID_MAX);
    if (memchr(c->zone, 0, sizeof c->zone) == NULL)
        return fail(ck, "component '%s': zone longer than %d bytes", c->id, SIM_ZONE_MAX - 1);
    if ((int)c->behavior < 0 || (int)c->behavior > SIM_BEHAVIOR_SCRIPT)
        return fail(ck, "component '%s': unknown behaviour %d", c->id, (int)c->behavior);
    if ((int)c->policy < 0 || (int)c->policy > SIM_POLICY_WEIGHTED)
        return fail(ck, "component '%s': unknown policy %d", c->id, (int)c->policy);
    if (c->replicas < 1 || c->replicas > SIM_MAX_REPLICAS)
        return fail(ck, "component '%s': replicas %d not in 1..%d", c->id, c->replicas,
                    SIM_MAX_REPLICAS);
    if (c->workers < 0 || c->workers > SIM_MAX_WORKERS)
        return fail(ck, "component '%s': workers %d not in 0..%d", c->id, c->workers,
                    SIM_MAX_WORKERS);
    if (c->queue_cap < SIM_UNBOUNDED)
        return fail(ck, "component '%s': queue_cap %d must be >= 0 or unbounded (-1)", c->id,
                    c->queue_cap);
    if (!prob(c->hit_ratio) || !prob(c->read_ratio) || !prob(c->error_rate))
        return fail(ck, "component '%s': hit_ratio, read_ratio and error_rate must be in [0, 1]",
                    c->id);
    if (!finite_ge(c->cost_per_hour, 0) || !finite_ge(c->rate_limit, 0) ||
        !finite_ge(c->shed_wait, 0))
        return fail(ck,
                    "component '%s': cost_per_hour, rate_limit and shed_wait must be "
                    "finite and >= 0",
                    c->id);
    if (c->rate_limit > 0 && !finite_ge(c->rate_burst, 1))
        return fail(ck, "component '%s': rate_burst must be >= 1 with a rate limit", c->id);
    if (c->fanout_all != 0 && c->fanout_all != 1)
        return fail(ck, "component '%s': fanout_all must be 0 or 1", c->id);
    if (check_dist(ck, &c->service, "service time of component", c->id)) return -1;
    return check_autoscale(ck, c);
}

static int cmp_ids(const void *a, const void *b) {
    return strcmp((*(const sim_component *const *)a)->id, (*(const sim_component *const *)b)->id);
}

/* Ids are unique: sort pointers (n log n, fine for 100,000 components) and compare neighbours. */
static int check_unique_ids(checker *ck, const sim_design *d) {
    const sim_component **v = malloc((size_t)d->ncomponents * sizeof *v);
    if (!v) return fail(ck, "out of memory");
    for (int i = 0; i < d->ncomponents; i++)
        v[i] = &d->components[i];
    qsort(v, (size_t)d->ncomponents, sizeof *v, cmp_ids);
    int rc = 0;
    for (int i = 1; i < d->ncomponents && rc == 0; i++)
        if (strcmp(v[i - 1]->id, v[i]->id) == 0)
            rc = fail(ck, "component id '%s' appears twice", v[i]->id);
    free(v);
    return rc;
}

static int check_edge(checker *ck, const sim_design *d, const sim_edge *e, int i) {
    if (e->from < 0 || e->from >= d->ncomponents || e->to < 0 || e->to >= d->ncomponents)
        return fail(ck, "edge %d: from %d / to %d out of range (0..%d)", i, e->from, e->to,
                    d->ncomponents - 1);
    const char *from = d->components[e->from].id, *to = d->components[e->to].id;
    if ((int)e->mode < 0 || (int)e->mode > SIM_EDGE_ASYNC)
        return fail(ck, "edge %d (%s -> %s): unknown mode %d", i, from, to, (int)e->mode);
    if (!prob(e->p)) return fail(ck, "edge %d (%s -> %s): p must be in [0, 1]", i, from, to);
    if (!finite_ge(e->weight, 0) || !finite_ge(e->latency, 0) || !finite_ge(e->timeout, 0) ||
        !finite_ge(e->backoff_base, 0) || !finite_ge(e->backoff_max, 0) ||
        !finite_ge(e->retry_budget, 0))
        return fail(ck,
                    "edge %d (%s -> %s): weight, latency, timeout, backoff and retry_budget "
                    "must be finite and >= 0",
                    i, from, to);
    if (e->retries < 0 || e->retries > 100)
        return fail(ck, "edge %d (%s -> %s): retries %d not in 0..100", i, from, to, e->retries);
    if (e->jitter != 0 && e->jitter != 1)
        return fail(ck, "edge %d (%s -> %s): jitter must be 0 or 1", i, from, to);
    const sim_breaker *b = &e->breaker;
    if (b->enabled && (b->failure_threshold < 1 || !(isfinite(b->open_time) && b->open_time > 0) ||
                       b->half_open_probes < 1))
        return fail(ck,
                    "edge %d (%s -> %s): breaker needs failure_threshold >= 1, "
                    "open_time > 0, half_open_probes >= 1",
                    i, from, to);
    return 0;
}

/* Forward and async edges are one exclusive choice: their probabilities may not exceed 1. */
static int check_exclusive_sums(checker *ck, const sim_design *d) {
    double *sum = calloc((size_t)d->ncomponents, sizeof *sum);
    if (!sum) return fail(ck, "out of memory");
    for (int i = 0; i < d->nedges; i++)
        if (d->edges[i].mode != SIM_EDGE_CALL) sum[d->edges[i].from] += d->edges[i].p;
    int rc = 0;
    for (int c = 0; c < d->ncomponents && rc == 0; c++)
        if (d->components[c].behavior != SIM_BEHAVIOR_BALANCER &&
            d->components[c].behavior != SIM_BEHAVIOR_SCRIPT && sum[c] > 1 + 1e-9)
            rc = fail(ck, "component '%s': forward + async edge probabilities sum to %g > 1",
                      d->components[c].id, sum[c]);
    free(sum);
    return rc;
}

/* No cycle through call edges: a request would call itself forever. Iterative DFS over the
 * call edges in CSR form (recursion could overflow the stack on long chains). */
static int check_call_cycles(checker *ck, const sim_design *d) {
    int n = d->ncomponents, rc = 0;
    int *start = calloc((size_t)n + 1, sizeof *start);
    int *adj = malloc(((size_t)d->nedges + 1) * sizeof *adj);
    int *adj_edge = malloc(((size_t)d->nedges + 1) * sizeof *adj_edge);
    unsigned char *color = calloc((size_t)n, 1);
    int *stack = malloc((size_t)n * sizeof *stack), *pos = malloc((size_t)n * sizeof *pos);
    if (!start || !adj || !adj_edge || !color || !stack || !pos) {
        rc = fail(ck, "out of memory");
        goto out;
    }
    for (int i = 0; i < d->nedges; i++)
        if (d->edges[i].mode == SIM_EDGE_CALL) start[d->edges[i].from + 1]++;
    for (int c = 0; c < n; c++)
        start[c + 1] += start[c];
    for (int i = 0; i < n; i++)
        pos[i] = start[i];
    for (int i = 0; i < d->nedges; i++)
        if (d->edges[i].mode == SIM_EDGE_CALL) {
            int k = pos[d->edges[i].from]++;
            adj[k] = d->edges[i].to;
            adj_edge[k] = i;
        }
    for (int root = 0; root < n && rc == 0; root++) {
        if (color[root]) continue;
        int top = 0;
        stack[top++] = root;
        pos[root] = start[root];
        color[root] = 1; /* on the stack */
        while (top > 0 && rc == 0) {
            int u = stack[top - 1];
            if (pos[u] == start[u + 1]) {
                color[u] = 2; /* done */
                top--;
                continue;
            }
            int k = pos[u]++, v = adj[k];
            if (color[v] == 1)
                rc = fail(ck, "call edges form a cycle: edge %d (%s -> %s) closes it", adj_edge[k],
                          d->components[u].id, d->components[v].id);
            else if (color[v] == 0) {
                color[v] = 1;
                pos[v] = start[v];
                stack[top++] = v;
            }
        }
    }
out:
    free(start);
    free(adj);
    free(adj_edge);
    free(color);
    free(stack);
    free(pos);
    return rc;
}

static int check_pattern(checker *ck, const sim_workload *w, int i) {
    if ((int)w->pattern < 0 || (int)w->pattern > SIM_PATTERN_STEPS)
        return fail(ck, "workload %d: unknown pattern %d", i, (int)w->pattern);
    if (!finite_ge(w->rps, 0)) return fail(ck, "workload %d: rps must be finite and >= 0", i);
    switch (w->pattern) {
    case SIM_PATTERN_RAMP:
        if (!finite_ge(w->start, 0) || !finite_ge(w->over, 0) || !finite_ge(w->to_rps, 0))
            return fail(ck, "workload %d: ramp needs start, over, to_rps finite and >= 0", i);
        break;
    case SIM_PATTERN_SPIKE:
        if (!finite_ge(w->start, 0) || !finite_ge(w->over, 0) || !finite_ge(w->factor, 0))
            return fail(ck, "workload %d: spike needs start, over, factor finite and >= 0", i);
        break;
    case SIM_PATTERN_DIURNAL:
        if (!(isfinite(w->period) && w->period > 0) || !finite_ge(w->amplitude, 0))
            return fail(ck, "workload %d: diurnal needs period > 0 and amplitude >= 0", i);
        break;
    case SIM_PATTERN_STEPS:
        if (w->nsteps < 0 || w->nsteps > SIM_MAX_STEPS)
            return fail(ck, "workload %d: nsteps %d not in 0..%d", i, w->nsteps, SIM_MAX_STEPS);
        for (int s = 0; s < w->nsteps; s++)
            if (!finite_ge(w->steps[s].at, 0) || !finite_ge(w->steps[s].rps, 0) ||
                (s > 0 && w->steps[s].at < w->steps[s - 1].at))
                return fail(ck, "workload %d: step %d needs at, rps >= 0 and times in order", i, s);
        break;
    default:
        break;
    }
    return 0;
}

static int check_workload(checker *ck, const sim_design *d, sim_workload *w, int i) {
    if (w->to < 0 || w->to >= d->ncomponents)
        return fail(ck, "workload %d: target %d out of range (0..%d)", i, w->to,
                    d->ncomponents - 1);
    if (w->closed != 0 && w->closed != 1) return fail(ck, "workload %d: closed must be 0 or 1", i);
    if (!w->closed) return check_pattern(ck, w, i);
    if (w->users < 1 || w->users > 10000000)
        return fail(ck, "workload %d: users %d not in 1..10000000", i, w->users);
    char who[32];
    snprintf(who, sizeof who, "%d", i);
    return check_dist(ck, &w->think, "think time of workload", who);
}

static int max_replicas(const sim_component *c) {
    return c->autoscale.enabled && c->autoscale.max > c->replicas ? c->autoscale.max : c->replicas;
}

static int check_fault_value(checker *ck, const sim_fault *f, int i) {
    double v = f->value;
    int ok = 1;
    switch (f->kind) {
    case SIM_FAULT_LATENCY:
        ok = f->multiply ? isfinite(v) && v > 0 : finite_ge(v, 0);
        break;
    case SIM_FAULT_ERROR_RATE:
    case SIM_FAULT_HIT_RATIO:
    case SIM_FAULT_PACKET_LOSS:
        ok = prob(v);
        break;
    case SIM_FAULT_CAPACITY:
        ok = isfinite(v) && v > 0;
        break;
    default:
        break;
    }
    if (!ok)
        return fail(ck, "fault %d (%s): value %g out of range", i, sim_fault_kind_name(f->kind), v);
    return 0;
}

static int check_fault(checker *ck, const sim_design *d, const sim_fault *f, int i) {
    if ((int)f->kind < 0 || (int)f->kind > SIM_FAULT_PACKET_LOSS)
        return fail(ck, "fault %d: unknown kind %d", i, (int)f->kind);
    const char *kind = sim_fault_kind_name(f->kind);
    if (!finite_ge(f->at, 0) || !finite_ge(f->duration, 0))
        return fail(ck, "fault %d (%s): at and duration must be finite and >= 0", i, kind);
    if (f->kind == SIM_FAULT_ZONE) {
        if (memchr(f->zone, 0, sizeof f->zone) == NULL || f->zone[0] == 0)
            return fail(ck, "fault %d (zone): zone must be a non-empty string", i);
        return 0;
    }
    if (f->kind == SIM_FAULT_PARTITION || f->kind == SIM_FAULT_PACKET_LOSS) {
        if (f->target < 0 || f->target >= d->nedges)
            return fail(ck, "fault %d (%s): edge %d out of range (0..%d)", i, kind, f->target,
                        d->nedges - 1);
        return check_fault_value(ck, f, i);
    }
    if (f->target < 0 || f->target >= d->ncomponents)
        return fail(ck, "fault %d (%s): component %d out of range (0..%d)", i, kind, f->target,
                    d->ncomponents - 1);
    if (f->kind == SIM_FAULT_CRASH &&
        (f->replica < -1 || f->replica >= max_replicas(&d->components[f->target])))
        return fail(ck, "fault %d (crash): replica %d of '%s' out of range", i, f->replica,
                    d->components[f->target].id);
    return check_fault_value(ck, f, i);
}

int sim_design_check(sim_design *d, char *err, int errlen) {
    checker ck = {err, errlen};
    if (err && errlen > 0) err[0] = 0;
    if (!d) return fail(&ck, "no design");
    d->checked = 0;
    if (d->ncomponents < 1 || d->ncomponents > SIM_MAX_COMPONENTS)
        return fail(&ck, "a design needs 1..%d components (has %d)", SIM_MAX_COMPONENTS,
                    d->ncomponents);
    if (d->nedges < 0 || d->nworkloads < 0 || d->nfaults < 0) return fail(&ck, "negative counts");
    for (int i = 0; i < d->ncomponents; i++)
        if (check_component(&ck, &d->components[i], i)) return -1;
    if (check_unique_ids(&ck, d)) return -1;
    for (int i = 0; i < d->nedges; i++)
        if (check_edge(&ck, d, &d->edges[i], i)) return -1;
    if (check_exclusive_sums(&ck, d) || check_call_cycles(&ck, d)) return -1;
    for (int i = 0; i < d->nworkloads; i++)
        if (check_workload(&ck, d, &d->workloads[i], i)) return -1;
    for (int i = 0; i < d->nfaults; i++)
        if (check_fault(&ck, d, &d->faults[i], i)) return -1;
    if (!(isfinite(d->slo.p99) && d->slo.p99 >= 0) || !isfinite(d->slo.error_rate) ||
        d->slo.error_rate > 1)
        return fail(&ck, "slo: p99 must be >= 0 and error_rate <= 1 (negative = none)");
    d->checked = 1;
    return 0;
}
