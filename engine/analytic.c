/* The analytic pass: an instant prediction of a design from queueing theory.
 *
 * Open designs: the traffic equations lambda = gamma + lambda Q are solved per strongly connected
 * component of the routing graph (sources first; a dense solve for loops, which also proves that
 * every loop leaves), then every station is solved on its own (Erlang C, Allen-Cunneen,
 * M/M/c/K) with holding times that include the calls it makes, callees first. Closed designs:
 * exact MVA over the same visit ratios (Seidmann for multi-server stations). docs/analytic.md
 * lists every formula and when it is exact. */
#include "analytic.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DENSE_MAX 400        /* loops up to this size are solved by Gaussian elimination */
#define TOL 1e-13            /* relative convergence of every fixed point here */
#define GEOM_LIMIT 10000000L /* most queue places an M/M/c/K sum walks through */
#define MVA_EXACT_WORK 2e7   /* users * stations beyond which MVA turns to Schweitzer */

/* ---- small helpers ---------------------------------------------------------------------- */

static int fail(char *err, int errlen, const char *fmt, ...) {
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, (size_t)errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A sentence that may be cut at the buffer's end (ids are long): vsnprintf says so quietly. */
static void say(char *buf, size_t len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

static double clamp01(double x) {
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* Two figures agree: both infinite, or within TOL relative. */
static int same(double a, double b) {
    if (a == b) return 1;
    if (!isfinite(a) || !isfinite(b)) return 0;
    return fabs(a - b) <= TOL * fmax(fabs(a), fabs(b));
}

/* The squared coefficient of variation, implied by the kind where the kind fixes it. */
static double dist_scv(const sim_dist *d) {
    switch (d->kind) {
    case SIM_DIST_CONST:
        return 0;
    case SIM_DIST_EXP:
        return 1;
    case SIM_DIST_ERLANG:
        return d->k > 0 ? 1.0 / d->k : 1;
    default:
        return isfinite(d->scv) && d->scv >= 0 ? d->scv : 1;
    }
}

const char *sim_exactness_name(sim_exactness e) {
    switch (e) {
    case SIM_EXACT:
        return "exact";
    case SIM_APPROXIMATE:
        return "approximate";
    case SIM_UNSTABLE:
        return "unstable";
    }
    return "unknown";
}

/* ---- one station ------------------------------------------------------------------------ */

double sim_erlang_c(int c, double a) {
    if (c < 1 || !(a >= 0)) return NAN;
    if (a >= c) return 1;
    /* Erlang B by its stable recursion; once it underflows it only shrinks further. Below
     * k = a the recursion contracts errors by about k / a per step, so a large station may
     * start at k0 = a - 40 sqrt(a) from the fluid value 1 - k0 / a: the error left after the
     * remaining steps is below exp(-800). */
    double b = 1;
    int k0 = 1;
    if (a > 1000) {
        double start = floor(a - 40 * sqrt(a));
        if (start > 1 && start < c) {
            k0 = (int)start + 1;
            b = 1 - start / a;
        }
    }
    for (int k = k0; k <= c; k++) {
        b = a * b / (k + a * b);
        if (b < 1e-300) {
            b = 0;
            break;
        }
    }
    double rho = a / c;
    return b / (1 - rho * (1 - b));
}

/* Sums over the queue places of an M/M/c/K: with q = P(c busy, none waiting) / P(n <= c) and
 * r = a / c, P(c + j) is proportional to q r^j. Returns Pb and Lq (in customers). r >= 1 walks
 * backwards from the last place so that r^K never overflows. */
static int mmck_tail(double q, double r, long kq, double *pb, double *lq) {
    if (kq == 0) { /* Erlang B: the last server state is the blocking one */
        *pb = q;
        *lq = 0;
        return 1;
    }
    long lim = kq < GEOM_LIMIT ? kq : GEOM_LIMIT;
    if (r < 1) {
        double t = 1, g1 = 0, g2 = 0;
        long j;
        for (j = 1; j <= lim; j++) {
            t *= r;
            g1 += t;
            g2 += j * t;
            if (t * (j + 1) / ((1 - r) * (1 - r)) <= 1e-18 * g1) break;
        }
        double rk = pow(r, (double)kq);
        double z = 1 + q * g1;
        *pb = q * rk / z;
        *lq = q * g2 / z;
        return j <= lim || kq <= lim; /* the tail left out is negligible either way */
    }
    double s = 1 / r, t = 1, h1 = 0, h2 = 0;
    long i;
    for (i = 0; i < lim; i++) {
        h1 += t;
        h2 += (double)(kq - i) * t;
        t *= s;
        if (s < 1 && t < 1e-18 * (1 - s)) break;
    }
    int complete = i < lim || kq <= lim;
    double z = pow(s, (double)kq) / q + h1;
    *pb = 1 / z;
    *lq = h2 / z;
    if (!complete) { /* r == 1 within a hair over a vast queue: the limits */
        *pb = r > 1 ? 1 - 1 / r : 0;
        *lq = r > 1 ? (double)kq : kq / 2.0;
    }
    return complete;
}

/* M/M/c/K (c workers, kq waiting places): blocking and mean queue exactly, by summing the
 * birth-death probabilities with rescaling so that no term overflows. */
static void station_bounded(double lam, double s, double scv, int expo, int c, long kq,
                            sim_station *o) {
    double a = lam * s, r = a / c;
    double t = 1, sum = 1;
    for (int n = 1; n <= c; n++) {
        t *= a / n;
        sum += t;
        if (sum > 1e250) {
            t /= 1e250;
            sum /= 1e250;
        }
    }
    double pb, lq;
    int complete = mmck_tail(t / sum, r, kq, &pb, &lq);
    double lam_eff = lam * (1 - pb);
    double wq = lam_eff > 0 ? lq / lam_eff : (double)kq * s / c;
    wq *= (1 + scv) / 2; /* Allen-Cunneen's correction; exact only for exponential service */
    o->offered = r;
    o->utilization = lam_eff * s / c;
    o->drop_prob = pb;
    o->mean_wait = wq;
    o->mean_response = wq + s;
    o->mean_in_system = lam_eff * (wq + s);
    o->exact = expo && complete;
    o->unstable = 0;
}

/* E_k/M/1 (every k-th arrival of a Poisson stream of rate k lambda, exponential service): the
 * GI/M/1 root sigma = A*(mu (1 - sigma)), A*(s) = (k lambda / (k lambda + s))^k, by
 * fixed-point iteration from rho (monotone); then Wq = sigma / (mu (1 - sigma)). */
static double ek_m1_wait(double lam, double mean, int k) {
    double mu = 1 / mean, rate = k * lam, sigma = lam * mean;
    for (int it = 0; it < 100000; it++) {
        double next = pow(rate / (rate + mu * (1 - sigma)), k);
        if (fabs(next - sigma) <= 1e-15 * sigma) {
            sigma = next;
            break;
        }
        sigma = next;
    }
    return sigma / (mu * (1 - sigma));
}

int sim_station_solve(double lambda, double mean, double scv, int exp_service, int workers,
                      int queue_cap, sim_station *o) {
    return sim_station_solve_split(lambda, mean, scv, exp_service, workers, queue_cap, 1, o);
}

int sim_station_solve_split(double lambda, double mean, double scv, int exp_service, int workers,
                            int queue_cap, int ways, sim_station *o) {
    memset(o, 0, sizeof *o);
    o->exact = 1;
    o->mean_response = mean;
    if (!(lambda >= 0) || !(mean >= 0) || isnan(scv) || workers < 0 || ways < 1) return -1;
    if (workers == SIM_INFINITE_SERVERS) { /* a delay: no queue, its utilization counts as 0 */
        o->mean_in_system = lambda > 0 ? lambda * mean : 0;
        return 0;
    }
    if (lambda == 0) return 0;
    double a = lambda * mean, rho = a / workers;
    if (queue_cap != SIM_UNBOUNDED) {
        if (!isfinite(a)) { /* the holding time itself is endless: everything blocks */
            o->offered = INFINITY;
            o->utilization = 1; /* every worker ends up held */
            o->drop_prob = 1;
            o->mean_wait = o->mean_response = INFINITY;
            o->mean_in_system = workers + (double)queue_cap;
            o->exact = 0;
            return 0;
        }
        station_bounded(lambda, mean, scv, exp_service, workers, queue_cap, o);
        if (ways > 1) { /* regular arrivals wait less: Allen-Cunneen's arrival term */
            double f = (1.0 / ways + scv) / (1 + scv);
            o->mean_wait *= f;
            o->mean_response = o->mean_wait + mean;
            o->mean_in_system =
                o->utilization * workers + lambda * (1 - o->drop_prob) * o->mean_wait;
            o->exact = 0;
        }
        return 0;
    }
    o->offered = o->utilization = rho;
    if (!(rho < 1)) {
        o->unstable = 1;
        o->exact = 0;
        o->mean_wait = o->mean_response = o->mean_in_system = INFINITY;
        return 0;
    }
    double wq = sim_erlang_c(workers, a) * mean / (workers - a);
    /* Allen-Cunneen, (ca^2 + cs^2) / 2; for Poisson arrivals at one worker this is
     * Pollaczek-Khinchine. Round robin over `ways` replicas makes each replica's interarrival
     * times Erlang-`ways` (ca^2 = 1 / ways): exact by GI/M/1 for one exponential worker. */
    double ca2 = ways > 1 ? 1.0 / ways : 1;
    if (ways > 1 && exp_service && workers == 1)
        wq = ek_m1_wait(lambda, mean, ways);
    else
        wq *= (ca2 + scv) / 2;
    o->mean_wait = wq;
    o->mean_response = wq + mean;
    o->mean_in_system = lambda * (wq + mean);
    o->exact = ways > 1 ? exp_service && workers == 1 : exp_service || workers == 1;
    return 0;
}

/* ---- the routing graph ------------------------------------------------------------------- */

typedef struct graph {
    int n, m;
    int *out_start, *out; /* CSR: edges leaving each component (taken with h > 0) */
    int *in_start, *in;   /* CSR: edges entering each component */
    int *order;           /* components grouped by strongly connected component, sinks first */
    int *scc_of;          /* SCC index (in emission order) of each component */
    int *scc_start;       /* nscc + 1 offsets into order */
    int nscc;
} graph;

/* Everything one analysis needs, allocated once per call. */
typedef struct ana {
    const sim_design *d;
    graph g;
    double *h;      /* per edge: probability that a served request at `from` takes it */
    double *gamma;  /* external arrivals per component */
    double *thin;   /* per component: admitted and not dropped fraction of arrivals */
    double *lambda; /* arrivals per component */
    double *t;      /* answer time as seen by a sender, forward continuation included */
    double *hold;   /* mean holding time of a worker, calls included */
    double *hold_scv;
    double *offered;   /* offered utilization of the busiest replica (for saturation) */
    double *own_resp;  /* closed networks: MVA response per visit, own service only */
    int *pos;          /* scratch: position of a component inside its SCC */
    double *mat, *vec; /* scratch for the dense solve */
    int *calls;        /* 1 when a component makes call edges with h > 0 */
    int closed;
    double pattern; /* 1 when some open workload has a time-varying pattern */
    sim_analytic *out;
} ana;

static int graph_build(graph *g, const sim_design *d, const double *h) {
    int n = d->ncomponents, m = d->nedges;
    g->n = n;
    g->m = m;
    g->out_start = calloc((size_t)n + 1, sizeof(int));
    g->in_start = calloc((size_t)n + 1, sizeof(int));
    g->out = malloc(((size_t)m + 1) * sizeof(int));
    g->in = malloc(((size_t)m + 1) * sizeof(int));
    g->order = malloc((size_t)n * sizeof(int));
    g->scc_of = malloc((size_t)n * sizeof(int));
    g->scc_start = malloc(((size_t)n + 1) * sizeof(int));
    if (!g->out_start || !g->in_start || !g->out || !g->in || !g->order || !g->scc_of ||
        !g->scc_start)
        return -1;
    for (int e = 0; e < m; e++)
        if (h[e] > 0) {
            g->out_start[d->edges[e].from + 1]++;
            g->in_start[d->edges[e].to + 1]++;
        }
    for (int i = 0; i < n; i++) {
        g->out_start[i + 1] += g->out_start[i];
        g->in_start[i + 1] += g->in_start[i];
    }
    int *fo = malloc(((size_t)n + 1) * sizeof(int)), *fi = malloc(((size_t)n + 1) * sizeof(int));
    if (!fo || !fi) {
        free(fo);
        free(fi);
        return -1;
    }
    memcpy(fo, g->out_start, ((size_t)n + 1) * sizeof(int));
    memcpy(fi, g->in_start, ((size_t)n + 1) * sizeof(int));
    for (int e = 0; e < m; e++) /* design order within each list */
        if (h[e] > 0) {
            g->out[fo[d->edges[e].from]++] = e;
            g->in[fi[d->edges[e].to]++] = e;
        }
    free(fo);
    free(fi);
    return 0;
}

static void graph_free(graph *g) {
    free(g->out_start);
    free(g->out);
    free(g->in_start);
    free(g->in);
    free(g->order);
    free(g->scc_of);
    free(g->scc_start);
}

/* Tarjan's strongly connected components, iteratively (a 100,000-long chain must not overflow
 * the C stack). An SCC is emitted after every SCC it reaches: sinks come first. */
static int graph_scc(graph *g, const sim_design *d) {
    int n = g->n;
    int *index = malloc((size_t)n * sizeof(int)), *low = malloc((size_t)n * sizeof(int));
    int *stack = malloc((size_t)n * sizeof(int)), *calls = malloc((size_t)n * sizeof(int));
    int *it = malloc((size_t)n * sizeof(int));
    unsigned char *on = calloc((size_t)n, 1);
    int rc = (!index || !low || !stack || !calls || !it || !on) ? -1 : 0;
    int next = 0, sp = 0, emitted = 0;
    g->nscc = 0;
    for (int s = 0; s < n && rc == 0; s++)
        index[s] = -1;
    for (int s = 0; s < n && rc == 0; s++) {
        if (index[s] >= 0) continue;
        int cs = 0;
        index[s] = low[s] = next++;
        stack[sp++] = s;
        on[s] = 1;
        it[s] = g->out_start[s];
        calls[cs++] = s;
        while (cs > 0) {
            int v = calls[cs - 1];
            if (it[v] < g->out_start[v + 1]) {
                int w = d->edges[g->out[it[v]++]].to;
                if (index[w] < 0) {
                    index[w] = low[w] = next++;
                    stack[sp++] = w;
                    on[w] = 1;
                    it[w] = g->out_start[w];
                    calls[cs++] = w;
                } else if (on[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
                continue;
            }
            cs--;
            if (cs > 0 && low[v] < low[calls[cs - 1]]) low[calls[cs - 1]] = low[v];
            if (low[v] != index[v]) continue;
            g->scc_start[g->nscc] = emitted;
            int w;
            do {
                w = stack[--sp];
                on[w] = 0;
                g->scc_of[w] = g->nscc;
                g->order[emitted++] = w;
            } while (w != v);
            g->nscc++;
        }
    }
    g->scc_start[g->nscc] = emitted;
    free(index);
    free(low);
    free(stack);
    free(calls);
    free(it);
    free(on);
    return rc;
}

/* ---- traffic equations ------------------------------------------------------------------ */

/* The probability that a served request at component i takes edge e: an error ends it, a
 * cache hit answers, a balancer takes exactly one edge by policy, anything else by p. */
static void edge_probabilities(const sim_design *d, double *h) {
    double *wsum = calloc((size_t)d->ncomponents, sizeof *wsum);
    int *deg = calloc((size_t)d->ncomponents, sizeof *deg);
    for (int e = 0; wsum && deg && e < d->nedges; e++) {
        deg[d->edges[e].from]++;
        wsum[d->edges[e].from] += d->edges[e].weight;
    }
    for (int e = 0; e < d->nedges; e++) {
        const sim_edge *ed = &d->edges[e];
        const sim_component *c = &d->components[ed->from];
        double f = 1 - clamp01(c->error_rate);
        if (c->behavior == SIM_BEHAVIOR_CACHE) f *= 1 - clamp01(c->hit_ratio);
        double share = clamp01(ed->p);
        if (c->behavior == SIM_BEHAVIOR_BALANCER && deg && wsum) {
            if (c->policy == SIM_POLICY_WEIGHTED && wsum[ed->from] > 0)
                share = ed->weight / wsum[ed->from];
            else
                share = 1.0 / deg[ed->from];
        }
        h[e] = f * share;
    }
    free(wsum);
    free(deg);
}

/* Gaussian elimination with partial pivoting on the k x k system mat x = vec (row-major).
 * -1 when the matrix is singular: the loop's gain is 1. */
static int dense_solve(double *mat, double *vec, int k) {
    for (int col = 0; col < k; col++) {
        int piv = col;
        for (int r = col + 1; r < k; r++)
            if (fabs(mat[(size_t)r * k + col]) > fabs(mat[(size_t)piv * k + col])) piv = r;
        if (fabs(mat[(size_t)piv * k + col]) < 1e-12) return -1;
        if (piv != col) {
            for (int j = 0; j < k; j++) {
                double tmp = mat[(size_t)col * k + j];
                mat[(size_t)col * k + j] = mat[(size_t)piv * k + j];
                mat[(size_t)piv * k + j] = tmp;
            }
            double tmp = vec[col];
            vec[col] = vec[piv];
            vec[piv] = tmp;
        }
        for (int r = col + 1; r < k; r++) {
            double f = mat[(size_t)r * k + col] / mat[(size_t)col * k + col];
            if (f == 0) continue;
            for (int j = col; j < k; j++)
                mat[(size_t)r * k + j] -= f * mat[(size_t)col * k + j];
            vec[r] -= f * vec[col];
        }
    }
    for (int r = k - 1; r >= 0; r--) {
        double s = vec[r];
        for (int j = r + 1; j < k; j++)
            s -= mat[(size_t)r * k + j] * vec[j];
        vec[r] = s / mat[(size_t)r * k + r];
    }
    return 0;
}

static double edge_q(const ana *a, const double *thin, int e) {
    return a->h[e] * thin[a->d->edges[e].from];
}

/* Inflow of each member from outside the SCC (already solved: sources come first). */
static double scc_inflow(const ana *a, const double *thin, int k, double *b) {
    const graph *g = &a->g;
    double total = 0;
    for (int p = g->scc_start[k]; p < g->scc_start[k + 1]; p++) {
        int j = g->order[p];
        double s = a->gamma[j];
        for (int q = g->in_start[j]; q < g->in_start[j + 1]; q++) {
            int e = g->in[q], from = a->d->edges[e].from;
            if (g->scc_of[from] != k) s += edge_q(a, thin, e) * a->lambda[from];
        }
        b[p - g->scc_start[k]] = s;
        total += s;
    }
    return total;
}

/* A loop of at most DENSE_MAX components: x (I - Q) = b exactly. For an irreducible Q with
 * gain >= 1 the solution is singular or has a negative entry (Perron-Frobenius), which is how
 * a loop that never leaves is recognised. */
static int scc_dense(ana *a, const double *thin, int k, double btotal) {
    const graph *g = &a->g;
    int base = g->scc_start[k], size = g->scc_start[k + 1] - base;
    double *mat = a->mat;
    memset(mat, 0, (size_t)size * size * sizeof *mat);
    for (int r = 0; r < size; r++) {
        int j = g->order[base + r];
        a->pos[j] = r;
        mat[(size_t)r * size + r] = 1;
    }
    for (int r = 0; r < size; r++) {
        int j = g->order[base + r];
        for (int q = g->in_start[j]; q < g->in_start[j + 1]; q++) {
            int e = g->in[q], from = a->d->edges[e].from;
            if (g->scc_of[from] == k) mat[(size_t)r * size + a->pos[from]] -= edge_q(a, thin, e);
        }
    }
    if (dense_solve(mat, a->vec, size)) return -1;
    for (int r = 0; r < size; r++) {
        double x = a->vec[r];
        if (!isfinite(x) || x < -1e-9 * btotal || x > 1e12 * btotal) return -1;
        a->lambda[g->order[base + r]] = x > 0 ? x : 0;
    }
    return 0;
}

/* A larger loop: Gauss-Seidel from zero grows monotonically to the solution when the gain is
 * below 1; no convergence within the budget means it never leaves. */
static int scc_iterate(ana *a, const double *thin, int k, double btotal) {
    const graph *g = &a->g;
    int base = g->scc_start[k], size = g->scc_start[k + 1] - base;
    long work = size + (long)(g->in_start[g->n]);
    long sweeps = 20000000L / work > 200 ? 20000000L / work : 200;
    for (int r = 0; r < size; r++)
        a->lambda[g->order[base + r]] = 0;
    for (long s = 0; s < sweeps; s++) {
        int changed = 0;
        for (int r = 0; r < size; r++) {
            int j = g->order[base + r];
            double x = a->vec[r], self = 0;
            for (int q = g->in_start[j]; q < g->in_start[j + 1]; q++) {
                int e = g->in[q], from = a->d->edges[e].from;
                if (from == j)
                    self += edge_q(a, thin, e);
                else if (g->scc_of[from] == k)
                    x += edge_q(a, thin, e) * a->lambda[from];
            }
            if (self >= 1) return -1;
            x /= 1 - self;
            if (!same(x, a->lambda[j])) changed = 1;
            a->lambda[j] = x;
            if (!(x <= 1e12 * btotal)) return -1;
        }
        if (!changed) return 0;
    }
    return -1;
}

/* Solves lambda = gamma + lambda Q SCC by SCC, sources first. On a loop that never leaves,
 * -1 with one of its components in *loop_at. */
static int solve_traffic(ana *a, const double *thin, int *loop_at) {
    const graph *g = &a->g;
    for (int k = g->nscc - 1; k >= 0; k--) {
        int base = g->scc_start[k], size = g->scc_start[k + 1] - base;
        double btotal = scc_inflow(a, thin, k, a->vec);
        int rc = 0;
        if (btotal <= 0) {
            for (int r = 0; r < size; r++)
                a->lambda[g->order[base + r]] = 0;
        } else if (size <= DENSE_MAX) {
            rc = scc_dense(a, thin, k, btotal);
        } else {
            rc = scc_iterate(a, thin, k, btotal);
        }
        if (rc) {
            *loop_at = g->order[base];
            return -1;
        }
    }
    return 0;
}

/* ---- holding and answer times ----------------------------------------------------------- */

/* The slowest of independent branches, each taken with probability p[k] and lasting an
 * exponential time of mean m[k]: P(max > t) = 1 - prod (1 - p e^(-t/m)), whose expansion gives
 * E[max] = sum over non-empty subsets S of (-1)^(|S|+1) prod p / sum 1/m, and E[max^2] the same
 * with 2 / (sum 1/m)^2. Exact for exponential branches; beyond 12 branches (4,096 subsets) the
 * cheaper sum of means slowest first divided by rank (H_k m for k equal branches). */
static void slowest_branch(const double *p, const double *m, int nb, double *mean, double *m2) {
    *mean = *m2 = 0;
    if (nb > 12) {
        double v[64];
        for (int x = 0; x < nb; x++)
            v[x] = p[x] * m[x];
        for (int x = 1; x < nb; x++) /* insertion sort, slowest first */
            for (int y = x; y > 0 && v[y] > v[y - 1]; y--) {
                double tmp = v[y];
                v[y] = v[y - 1];
                v[y - 1] = tmp;
            }
        for (int x = 0; x < nb; x++)
            *mean += v[x] / (x + 1);
        *m2 = 2 * *mean * *mean;
        return;
    }
    for (unsigned set = 1; set < (1u << nb); set++) {
        double prob = 1, rate = 0;
        int bits = 0;
        for (int x = 0; x < nb; x++)
            if (set & (1u << x)) {
                prob *= p[x];
                rate += 1 / m[x];
                bits++;
            }
        double sign = bits % 2 ? 1 : -1;
        *mean += sign * prob / rate;
        *m2 += sign * 2 * prob / (rate * rate);
    }
}

/* Mean time a worker is held: its own service plus, for each call edge taken, the round trip
 * and the callee's answer time; scatter-gather (fanout_all) waits for the slowest branch
 * instead (slowest_branch). The variance treats each callee's answer time as exponential, for
 * the Allen-Cunneen correction. */
static double holding_time(const ana *a, int i, double *scv_out) {
    const sim_component *c = &a->d->components[i];
    double s = c->service.mean, var = dist_scv(&c->service) * s * s, extra = 0;
    const graph *g = &a->g;
    double bp[64], bm[64];
    int nb = 0;
    for (int q = g->out_start[i]; q < g->out_start[i + 1]; q++) {
        const sim_edge *e = &a->d->edges[g->out[q]];
        if (e->mode != SIM_EDGE_CALL) continue;
        double p = a->h[g->out[q]], t = a->t[e->to], rt = 2 * e->latency;
        if (!isfinite(t)) {
            *scv_out = 1;
            return INFINITY;
        }
        double m = rt + t, m2 = rt * rt + 2 * rt * t + 2 * t * t;
        if (c->fanout_all && nb < 64) {
            if (m > 0) { /* a branch that takes no time never is the slowest */
                bp[nb] = p;
                bm[nb++] = m;
            }
        } else {
            extra += p * m;
            var += p * m2 - p * p * m * m;
        }
    }
    if (nb > 0) {
        double mx, mx2;
        slowest_branch(bp, bm, nb, &mx, &mx2);
        extra += mx;
        var += mx2 > mx * mx ? mx2 - mx * mx : 0;
    }
    double hold = s + extra;
    *scv_out = hold > 0 ? var / (hold * hold) : 0;
    return hold;
}

/* What a sender waits for: the answer of a queue comes at once (its consumers work on a
 * detached copy); anything else answers after its response and the forward edges it takes. */
static double answer_time(const ana *a, int i, double response) {
    const sim_component *c = &a->d->components[i];
    if (c->behavior == SIM_BEHAVIOR_QUEUE) return 0;
    double t = response;
    const graph *g = &a->g;
    for (int q = g->out_start[i]; q < g->out_start[i + 1] && isfinite(t); q++) {
        const sim_edge *e = &a->d->edges[g->out[q]];
        if (e->mode == SIM_EDGE_FORWARD) t += a->h[g->out[q]] * (e->latency + a->t[e->to]);
    }
    return t;
}

/* ---- open stations ---------------------------------------------------------------------- */

/* Solves component i with its arrivals and holding time: replicas split the flow evenly (a
 * database sends writes to its primary and spreads reads), each replica is its own station.
 * Returns the fraction of arrivals that get through (limiter and drops). */
static double solve_open_component(ana *a, int i) {
    const sim_component *c = &a->d->components[i];
    sim_analytic_component *o = &a->out->components[i];
    double lam = a->lambda[i], admit = 1;
    if (c->rate_limit > 0 && lam > c->rate_limit) admit = c->rate_limit / lam;
    double in = lam * admit, rr = clamp01(c->read_ratio);
    int reps = c->replicas, db = c->behavior == SIM_BEHAVIOR_DATABASE && reps > 1;
    double f0 = db ? in * ((1 - rr) + rr / reps) : in / reps;
    double f1 = db ? in * rr / reps : f0;
    double hold = a->hold[i], scv = a->hold_scv[i];
    int expo = c->service.kind == SIM_DIST_EXP && !a->calls[i];
    /* Round robin (equal weights are round robin too) hands each replica every R-th arrival;
     * a database mixes that with its writes, which stay Poisson-like. */
    int robin = c->policy == SIM_POLICY_ROUND_ROBIN || c->policy == SIM_POLICY_WEIGHTED;
    int ways = robin && !db && c->rate_limit <= 0 ? reps : 1;
    sim_station s0, s1;
    sim_station_solve_split(f0, hold, scv, expo, c->workers, c->queue_cap, ways, &s0);
    if (reps > 1 && f1 != f0)
        sim_station_solve_split(f1, hold, scv, expo, c->workers, c->queue_cap, ways, &s1);
    else
        s1 = s0;
    /* Which splits keep the formulas exact: at random (Poisson thinning), or round robin into
     * single exponential workers (E_k/M/1); least_conn, p2c and hashing are not modelled. */
    int split_exact = reps == 1 || c->workers == SIM_INFINITE_SERVERS ||
                      c->policy == SIM_POLICY_RANDOM || (ways > 1 && s0.exact);
    double served0 = f0 * (1 - s0.drop_prob), served1 = f1 * (1 - s1.drop_prob) * (reps - 1);
    double served = served0 + served1;
    int endless = lam > 0 && !isfinite(hold); /* it waits on a saturated callee */
    o->arrival_rate = lam;
    o->service_demand = hold;
    /* The mean over replicas, as the simulation reports it; the primary of a database is
     * busier, and its share is what the saturation point below is made of. Endless holding:
     * all workers held. */
    o->utilization = endless ? 1 : (s0.utilization + (reps - 1) * s1.utilization) / reps;
    o->drop_prob = in > 0 ? clamp01((f0 * s0.drop_prob + f1 * (reps - 1) * s1.drop_prob) / in) : 0;
    o->mean_in_system = s0.mean_in_system + (reps > 1 ? (reps - 1) * s1.mean_in_system : 0);
    if (served > 0 && !s0.unstable && !s1.unstable && !endless) {
        o->mean_wait =
            (served0 * s0.mean_wait + (served1 > 0 ? served1 * s1.mean_wait : 0)) / served;
        o->mean_response =
            (served0 * s0.mean_response + (served1 > 0 ? served1 * s1.mean_response : 0)) / served;
    } else {
        o->mean_wait = s0.mean_wait;
        o->mean_response = s0.mean_response;
    }
    o->exactness = s0.unstable || s1.unstable || endless ? SIM_UNSTABLE
                   : s0.exact && s1.exact && split_exact ? SIM_EXACT
                                                         : SIM_APPROXIMATE;
    /* Saturation: the caller of a saturated callee would need endless holding; its own
     * service then says how much load it could take. */
    double hs = isfinite(hold) ? hold : c->service.mean;
    a->offered[i] = c->workers == SIM_INFINITE_SERVERS ? 0 : f0 / admit * hs / c->workers;
    if (c->rate_limit > 0 && c->workers != SIM_INFINITE_SERVERS &&
        c->rate_limit / reps * hs / c->workers < 1)
        a->offered[i] = 0; /* the limiter keeps it below saturation at any load */
    return admit * (1 - o->drop_prob);
}

/* Closed networks: MVA has the response per visit of the station's own service; the calls it
 * makes are added on top, and its utilization counts the worker held across them. */
static double solve_closed_component(ana *a, int i) {
    const sim_component *c = &a->d->components[i];
    sim_analytic_component *o = &a->out->components[i];
    double lam = a->lambda[i], hold = a->hold[i], s = c->service.mean;
    double resp = a->own_resp[i] + (hold - s);
    int cap = c->workers == SIM_INFINITE_SERVERS ? 0 : c->workers * c->replicas;
    o->arrival_rate = lam;
    o->service_demand = hold;
    o->utilization = cap && lam > 0 ? lam * hold / cap : 0;
    o->mean_wait = a->own_resp[i] - s > 0 ? a->own_resp[i] - s : 0;
    o->mean_response = resp;
    o->mean_in_system = lam > 0 ? lam * resp : 0;
    o->drop_prob = 0;
    o->exactness = SIM_APPROXIMATE; /* settled later from the network's shape */
    a->offered[i] = o->utilization;
    return 1;
}

/* Every component of one SCC, callees first: holding time, station, answer time, repeated
 * until the answer times settle (once for a component outside any loop). A forward loop whose
 * answer times never settle gets infinite ones. Returns the largest change of `thin`. */
static double solve_scc_stations(ana *a, int k, double *thin_next) {
    const graph *g = &a->g;
    int base = g->scc_start[k], size = g->scc_start[k + 1] - base;
    long work = size + 8L * size;
    long passes = 2000000L / work > 100 ? 2000000L / work : 100;
    int converged = 0;
    /* Start from zero: infinite answer times left by an earlier round (before drops thinned
     * the flow) would otherwise feed themselves around a loop. */
    for (int r = 0; r < size; r++)
        a->t[g->order[base + r]] = 0;
    for (long pass = 0; pass < passes && !converged; pass++) {
        converged = 1;
        for (int r = 0; r < size; r++) {
            int i = g->order[base + r];
            double scv, hold = holding_time(a, i, &scv);
            if (pass == 0 || !same(hold, a->hold[i])) {
                a->hold[i] = hold;
                a->hold_scv[i] = scv;
                thin_next[i] =
                    a->closed ? solve_closed_component(a, i) : solve_open_component(a, i);
            }
            double t = answer_time(a, i, a->out->components[i].mean_response);
            if (!same(t, a->t[i])) converged = 0;
            a->t[i] = t;
        }
        if (size == 1 && pass == 0) { /* settled at once unless it feeds itself */
            int i = g->order[base], self = 0;
            for (int q = g->out_start[i]; q < g->out_start[i + 1]; q++)
                if (a->d->edges[g->out[q]].to == i) self = 1;
            if (!self) converged = 1;
        }
    }
    if (!converged)
        for (int r = 0; r < size; r++)
            a->t[g->order[base + r]] = INFINITY;
    double change = 0;
    for (int r = 0; r < size; r++) {
        int i = g->order[base + r];
        change = fmax(change, fabs(thin_next[i] - a->thin[i]));
    }
    return change;
}

static double solve_stations(ana *a, double *thin_next) {
    double change = 0;
    for (int k = 0; k < a->g.nscc; k++)
        change = fmax(change, solve_scc_stations(a, k, thin_next));
    return change;
}

/* ---- exactness -------------------------------------------------------------------------- */

/* Poisson flows and product form survive a component when it is a delay, or an exponential
 * station with an unbounded queue that makes no calls and splits over replicas at random, and
 * when it routes by independent coin flips (a balancer only with the random policy). */
static int keeps_product_form(const ana *a, int i) {
    const sim_component *c = &a->d->components[i];
    if (c->rate_limit > 0 || a->calls[i]) return 0;
    if (c->behavior == SIM_BEHAVIOR_BALANCER && c->policy != SIM_POLICY_RANDOM &&
        a->g.out_start[i + 1] - a->g.out_start[i] > 0)
        return 0;
    if (c->workers == SIM_INFINITE_SERVERS) return 1;
    if (c->replicas > 1 && c->policy != SIM_POLICY_RANDOM) return 0;
    return c->service.kind == SIM_DIST_EXP && c->queue_cap == SIM_UNBOUNDED;
}

/* inputs_ok[i]: every flow into i comes from a source (or, closed, the population) and from
 * components that keep product form; the greatest fixed point over loops. */
static void mark_inputs(const ana *a, unsigned char *ok) {
    const graph *g = &a->g;
    int n = g->n;
    unsigned char *keeps = malloc((size_t)n);
    if (!keeps) {
        memset(ok, 0, (size_t)n);
        return;
    }
    for (int i = 0; i < n; i++) {
        keeps[i] = (unsigned char)keeps_product_form(a, i);
        ok[i] = 1;
    }
    if (a->pattern)
        for (int w = 0; w < a->d->nworkloads; w++)
            if (a->d->workloads[w].pattern != SIM_PATTERN_CONSTANT) ok[a->d->workloads[w].to] = 0;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int i = 0; i < n; i++) {
            if (!ok[i]) continue;
            for (int q = g->in_start[i]; q < g->in_start[i + 1]; q++) {
                int from = a->d->edges[g->in[q]].from;
                if (!ok[from] || !keeps[from]) {
                    ok[i] = 0;
                    changed = 1;
                    break;
                }
            }
        }
    }
    free(keeps);
}

static void settle_exactness(ana *a) {
    int n = a->g.n;
    unsigned char *ok = malloc((size_t)n);
    if (ok) mark_inputs(a, ok);
    int all_product = 1; /* closed: MVA is exact only when every visited station is */
    for (int i = 0; i < n && ok; i++) {
        const sim_component *c = &a->d->components[i];
        int single = c->workers == SIM_INFINITE_SERVERS || (c->workers == 1 && c->replicas == 1);
        if (a->lambda[i] > 0 && (!ok[i] || !keeps_product_form(a, i) || !single))
            all_product = 0; /* Seidmann's stand-in for a multi-server station is approximate */
    }
    for (int i = 0; i < n; i++) {
        sim_analytic_component *o = &a->out->components[i];
        const sim_component *c = &a->d->components[i];
        if (o->exactness == SIM_UNSTABLE) continue;
        int exact;
        if (a->closed) {
            int single =
                c->workers == SIM_INFINITE_SERVERS || (c->workers == 1 && c->replicas == 1);
            exact = ok && all_product && single && a->closed == 1;
        } else {
            exact = ok && ok[i] && o->exactness == SIM_EXACT && !a->calls[i] && c->rate_limit <= 0;
        }
        if (a->lambda[i] == 0 && !a->calls[i])
            exact = 1; /* nothing arrives: nothing to get wrong */
        o->exactness = exact ? SIM_EXACT : SIM_APPROXIMATE;
    }
    free(ok);
}

/* ---- saturation and the reason ---------------------------------------------------------- */

static void workers_text(const sim_component *c, char *buf, size_t len) {
    if (c->behavior == SIM_BEHAVIOR_DATABASE && c->replicas > 1)
        snprintf(buf, len, "primary's %d", c->workers);
    else if (c->replicas > 1)
        snprintf(buf, len, "%d x %d", c->replicas, c->workers);
    else
        snprintf(buf, len, "%d", c->workers);
}

/* saturation_rps of every component scales the current load until its busiest replica needs
 * all its workers; the design's is the smallest, its component the bottleneck. */
static void find_bottleneck(ana *a, double load) {
    sim_analytic *out = a->out;
    out->bottleneck = -1;
    out->saturation_rps = INFINITY;
    for (int i = 0; i < a->g.n; i++) {
        double rho = a->offered[i];
        double sat = rho > 0 && load > 0 ? load / rho : INFINITY;
        if (isnan(sat)) sat = INFINITY;
        out->components[i].saturation_rps = sat;
        if (sat < out->saturation_rps) {
            out->saturation_rps = sat;
            out->bottleneck = i;
        }
    }
    if (out->bottleneck < 0) {
        say(out->reason, sizeof out->reason,
            load > 0 ? "no component saturates: every loaded component is a delay "
                       "station or protected by its rate limiter"
                     : "no component saturates: no workload sends traffic");
        return;
    }
    int b = out->bottleneck;
    const sim_component *c = &a->d->components[b];
    char wk[48];
    workers_text(c, wk, sizeof wk);
    double visits = load > 0 ? a->lambda[b] / load : 0;
    say(out->reason, sizeof out->reason,
        "%s saturates first at %.0f rps: at %.0f rps it needs %.2f of its %s "
        "workers (%.3g ms per request, %.2f visits per request)",
        c->id, out->saturation_rps, load, a->offered[b], wk,
        (isfinite(a->hold[b]) ? a->hold[b] : c->service.mean) * 1e3, visits);
}

/* ---- open designs ----------------------------------------------------------------------- */

/* The rate an open source averages over a typical horizon: the steady state of a ramp, the
 * base of a spike or a day, the last step. */
static double workload_rate(const sim_workload *w) {
    switch (w->pattern) {
    case SIM_PATTERN_RAMP:
        return w->to_rps;
    case SIM_PATTERN_STEPS: {
        double at = -INFINITY, rps = w->rps;
        for (int s = 0; s < w->nsteps && s < SIM_MAX_STEPS; s++)
            if (w->steps[s].at >= at) {
                at = w->steps[s].at;
                rps = w->steps[s].rps;
            }
        return rps;
    }
    default:
        return w->rps;
    }
}

static double open_e2e(const ana *a, double load) {
    if (load <= 0) return NAN;
    double sum = 0;
    for (int w = 0; w < a->d->nworkloads; w++) {
        double r = workload_rate(&a->d->workloads[w]);
        if (r > 0) sum += r * a->t[a->d->workloads[w].to];
    }
    return sum / load;
}

static int loop_error(const ana *a, int at, char *err, int errlen) {
    return fail(err, errlen,
                "routing loop never leaves: requests that reach '%s' come back to it forever "
                "(the loop's gain is >= 1)",
                a->d->components[at].id);
}

/* Traffic, then stations; bounded queues and rate limiters thin the flow they pass on, which
 * changes the traffic: repeat until the admitted fractions settle (damped after a while in
 * case drops and loops oscillate). */
static int analyze_open(ana *a, char *err, int errlen) {
    int n = a->g.n, at = -1;
    double load = 0;
    for (int w = 0; w < a->d->nworkloads; w++) {
        const sim_workload *wl = &a->d->workloads[w];
        double r = workload_rate(wl);
        if (r < 0 || !isfinite(r)) r = 0;
        a->gamma[wl->to] += r;
        load += r;
        if (wl->pattern != SIM_PATTERN_CONSTANT) a->pattern = 1;
    }
    double *next = malloc((size_t)n * sizeof *next);
    if (!next) return fail(err, errlen, "out of memory");
    for (int i = 0; i < n; i++)
        a->thin[i] = 1;
    int rc = 0;
    for (int it = 0; it < 200; it++) {
        if (solve_traffic(a, a->thin, &at)) {
            rc = loop_error(a, at, err, errlen);
            break;
        }
        double change = solve_stations(a, next);
        if (change < 1e-12) break;
        double damp = it < 20 ? 1 : 0.5;
        for (int i = 0; i < n; i++)
            a->thin[i] += damp * (next[i] - a->thin[i]);
    }
    free(next);
    if (rc) return rc;
    a->out->offered_rps = load;
    a->out->e2e_mean = open_e2e(a, load);
    settle_exactness(a); /* a time-varying source makes everything it reaches approximate */
    find_bottleneck(a, load);
    return 0;
}

/* ---- closed designs --------------------------------------------------------------------- */

typedef struct mva_net {
    int nq;       /* queueing stations */
    int *qi;      /* their components */
    double *dq;   /* demand of the single-server part per cycle */
    double delay; /* demand of every delay per cycle (Seidmann's parts, IS, latencies) */
    double *r;    /* response per cycle at each queueing station */
} mva_net;

/* Exact MVA: R_i(n) = D_i (1 + Q_i(n-1)), X(n) = n / (Z + sum R), Q_i(n) = X(n) R_i(n). */
static double mva_exact(const mva_net *m, int users, double z, double *q) {
    double x = 0;
    for (int i = 0; i < m->nq; i++)
        q[i] = 0;
    for (int n = 1; n <= users; n++) {
        double sum = z + m->delay;
        for (int i = 0; i < m->nq; i++) {
            m->r[i] = m->dq[i] * (1 + q[i]);
            sum += m->r[i];
        }
        x = sum > 0 ? n / sum : INFINITY;
        for (int i = 0; i < m->nq; i++)
            q[i] = x * m->r[i];
    }
    return x;
}

/* Schweitzer's approximation for populations too large to walk one by one. */
static double mva_schweitzer(const mva_net *m, int users, double z, double *q) {
    double x = 0, f = (users - 1.0) / users;
    for (int i = 0; i < m->nq; i++)
        q[i] = (double)users / (m->nq + 1);
    for (int it = 0; it < 100000; it++) {
        double sum = z + m->delay, diff = 0;
        for (int i = 0; i < m->nq; i++) {
            m->r[i] = m->dq[i] * (1 + f * q[i]);
            sum += m->r[i];
        }
        x = sum > 0 ? users / sum : INFINITY;
        for (int i = 0; i < m->nq; i++) {
            double nq = x * m->r[i];
            diff = fmax(diff, fabs(nq - q[i]));
            q[i] = nq;
        }
        if (diff < 1e-10 * users) break;
    }
    return x;
}

/* Per cycle: time on the wire (calls both ways, forwards one way). */
static double wire_delay(const ana *a) {
    double sum = 0;
    for (int e = 0; e < a->d->nedges; e++) {
        const sim_edge *ed = &a->d->edges[e];
        double legs = ed->mode == SIM_EDGE_CALL ? 2 : ed->mode == SIM_EDGE_FORWARD ? 1 : 0;
        sum += a->lambda[ed->from] * a->h[e] * legs * ed->latency;
    }
    return sum;
}

static int mva_build(ana *a, mva_net *m) {
    int n = a->g.n;
    m->qi = malloc((size_t)n * sizeof(int));
    m->dq = malloc((size_t)n * sizeof(double));
    m->r = malloc((size_t)n * sizeof(double));
    if (!m->qi || !m->dq || !m->r) return -1;
    m->nq = 0;
    m->delay = wire_delay(a);
    for (int i = 0; i < n; i++) {
        const sim_component *c = &a->d->components[i];
        double dem = a->lambda[i] * c->service.mean;
        if (c->workers == SIM_INFINITE_SERVERS || dem <= 0) {
            m->delay += dem;
            continue;
        }
        int cap = c->workers * c->replicas; /* Seidmann: S/c queueing plus S(c-1)/c delay */
        m->qi[m->nq] = i;
        m->dq[m->nq++] = dem / cap;
        m->delay += dem * (cap - 1) / cap;
    }
    return 0;
}

/* One class: the populations of all closed workloads together, visits weighted by users. */
static int analyze_closed(ana *a, char *err, int errlen) {
    int n = a->g.n, users = 0, classes = 0, at = -1;
    double zsum = 0;
    for (int w = 0; w < a->d->nworkloads; w++) {
        const sim_workload *wl = &a->d->workloads[w];
        if (wl->users <= 0) continue;
        users += wl->users;
        zsum += wl->users * wl->think.mean;
        classes++;
    }
    a->closed = classes > 1 ? 2 : 1;
    for (int w = 0; w < a->d->nworkloads; w++)
        if (a->d->workloads[w].users > 0)
            a->gamma[a->d->workloads[w].to] += (double)a->d->workloads[w].users / users;
    for (int i = 0; i < n; i++)
        a->thin[i] = 1;
    if (users > 0 && solve_traffic(a, a->thin, &at)) return loop_error(a, at, err, errlen);
    double z = users > 0 ? zsum / users : 0, x = 0;
    mva_net m = {0};
    double *q = malloc((size_t)n * sizeof *q), *next = malloc((size_t)n * sizeof *next);
    int rc = (!q || !next || mva_build(a, &m)) ? fail(err, errlen, "out of memory") : 0;
    if (rc == 0 && users > 0) {
        int exact = (double)users * m.nq <= MVA_EXACT_WORK;
        x = exact ? mva_exact(&m, users, z, q) : mva_schweitzer(&m, users, z, q);
        if (!exact) a->closed = 2;
    }
    if (rc == 0) {
        if (!isfinite(x)) x = 0; /* nothing takes time at all: no finite figure to give */
        for (int i = 0; i < n; i++) {
            a->own_resp[i] = a->d->components[i].service.mean; /* what a delay costs */
            if (a->d->components[i].workers != SIM_INFINITE_SERVERS && a->lambda[i] > 0) {
                const sim_component *c = &a->d->components[i];
                int cap = c->workers * c->replicas;
                a->own_resp[i] = c->service.mean * (cap - 1) / cap;
            }
        }
        for (int s = 0; s < m.nq && users > 0; s++)
            a->own_resp[m.qi[s]] += m.r[s] / a->lambda[m.qi[s]];
        for (int i = 0; i < n; i++)
            a->lambda[i] *= x;
        solve_stations(a, next);
        a->out->offered_rps = x;
        a->out->e2e_mean = x > 0 ? users / x - z : NAN;
        settle_exactness(a);
        find_bottleneck(a, x);
        if (a->out->bottleneck >= 0) {
            const sim_component *c = &a->d->components[a->out->bottleneck];
            char wk[48];
            workers_text(c, wk, sizeof wk);
            say(a->out->reason, sizeof a->out->reason,
                "%s saturates first at %.0f rps: with %d users the throughput is "
                "%.0f rps and it needs %.2f of its %s workers (%.3g ms per "
                "request, %.2f visits per request)",
                c->id, a->out->saturation_rps, users, x, a->offered[a->out->bottleneck], wk,
                a->hold[a->out->bottleneck] * 1e3, x > 0 ? a->lambda[a->out->bottleneck] / x : 0);
        }
    }
    free(q);
    free(next);
    free(m.qi);
    free(m.dq);
    free(m.r);
    return rc;
}

/* ---- entry points ----------------------------------------------------------------------- */

static void ana_free(ana *a) {
    graph_free(&a->g);
    free(a->h);
    free(a->gamma);
    free(a->thin);
    free(a->lambda);
    free(a->t);
    free(a->hold);
    free(a->hold_scv);
    free(a->offered);
    free(a->own_resp);
    free(a->pos);
    free(a->mat);
    free(a->vec);
    free(a->calls);
}

static int ana_alloc(ana *a, const sim_design *d) {
    size_t n = (size_t)d->ncomponents, m = (size_t)d->nedges + 1;
    size_t dense = n < DENSE_MAX ? n : DENSE_MAX;
    a->d = d;
    a->h = calloc(m, sizeof(double));
    a->gamma = calloc(n, sizeof(double));
    a->thin = calloc(n, sizeof(double));
    a->lambda = calloc(n, sizeof(double));
    a->t = calloc(n, sizeof(double));
    a->hold = calloc(n, sizeof(double));
    a->hold_scv = calloc(n, sizeof(double));
    a->offered = calloc(n, sizeof(double));
    a->own_resp = calloc(n, sizeof(double));
    a->pos = calloc(n, sizeof(int));
    a->mat = malloc(dense * dense * sizeof(double) + sizeof(double));
    a->vec = calloc(n, sizeof(double));
    a->calls = calloc(n, sizeof(int));
    if (!a->h || !a->gamma || !a->thin || !a->lambda || !a->t || !a->hold || !a->hold_scv ||
        !a->offered || !a->own_resp || !a->pos || !a->mat || !a->vec || !a->calls)
        return -1;
    edge_probabilities(d, a->h);
    if (graph_build(&a->g, d, a->h) || graph_scc(&a->g, d)) return -1;
    for (int e = 0; e < d->nedges; e++)
        if (a->h[e] > 0 && d->edges[e].mode == SIM_EDGE_CALL) a->calls[d->edges[e].from] = 1;
    return 0;
}

int sim_analyze(const sim_design *d, sim_analytic *out, char *err, int errlen) {
    if (err && errlen > 0) err[0] = 0;
    if (!out) return fail(err, errlen, "no output");
    memset(out, 0, sizeof *out);
    out->bottleneck = -1;
    out->e2e_mean = NAN;
    if (!d || d->ncomponents < 1) return fail(err, errlen, "no design");
    int open = 0, closed = 0;
    for (int w = 0; w < d->nworkloads; w++) {
        if (d->workloads[w].closed)
            closed++;
        else
            open++;
    }
    if (open && closed)
        return fail(err, errlen,
                    "mixed open and closed workloads are not supported by the analytic pass");
    out->components = calloc((size_t)d->ncomponents, sizeof *out->components);
    if (!out->components) return fail(err, errlen, "out of memory");
    out->ncomponents = d->ncomponents;
    out->closed = closed > 0;
    ana a;
    memset(&a, 0, sizeof a);
    a.out = out;
    int rc = ana_alloc(&a, d) ? fail(err, errlen, "out of memory")
             : closed         ? analyze_closed(&a, err, errlen)
                              : analyze_open(&a, err, errlen);
    ana_free(&a);
    if (rc) sim_analytic_free(out);
    return rc;
}

void sim_analytic_free(sim_analytic *a) {
    if (!a) return;
    free(a->components);
    a->components = NULL;
    a->ncomponents = 0;
}
