/* The human report: one row per component, then end to end, the bottleneck with its reason,
 * cost, SLO verdicts, and the places where simulation and analysis disagree. */
#include <math.h>
#include <string.h>
#include "report.h"

/* Milliseconds with three significant digits, so columns stay narrow and comparable. */
static const char *fmt_ms(char *buf, size_t n, double seconds) {
    double ms = seconds * 1e3;
    if (!isfinite(ms))
        snprintf(buf, n, "-");
    else if (ms < 10)
        snprintf(buf, n, "%.2f", ms);
    else if (ms < 100)
        snprintf(buf, n, "%.1f", ms);
    else
        snprintf(buf, n, "%.0f", ms);
    return buf;
}

static const char *fmt_rate(char *buf, size_t n, double rps) {
    if (!isfinite(rps))
        snprintf(buf, n, "-");
    else if (rps < 100)
        snprintf(buf, n, "%.1f", rps);
    else
        snprintf(buf, n, "%.0f", rps);
    return buf;
}

static const char *fmt_count(char *buf, size_t n, uint64_t v) {
    if (v < 100000)
        snprintf(buf, n, "%llu", (unsigned long long)v);
    else if (v < 100000000)
        snprintf(buf, n, "%.0fk", v / 1e3);
    else
        snprintf(buf, n, "%.0fM", v / 1e6);
    return buf;
}

static int id_width(const sim_design *d) {
    int w = 9;
    for (int i = 0; i < d->ncomponents; i++) {
        int n = (int)strlen(d->components[i].id);
        if (n > w) w = n;
    }
    return w > 32 ? 32 : w;
}

static void print_header(FILE *out, const sdsim_report *r, int w) {
    fprintf(out, "%-*s %-13s %5s %6s %9s %8s %8s %8s %8s %7s %7s", w, "component", "kind", "repl",
            "util", "thru/s", "mean ms", "p50", "p95", "p99", "dropped", "errors");
    if (r->analytic) fprintf(out, "   %-23s", "analytic util / mean ms");
    fputc('\n', out);
}

static void print_component(FILE *out, const sdsim_report *r, int i, int w) {
    const sim_component *d = &r->design->components[i];
    const sim_component_result *c = &r->results->components[i];
    char b[9][32];
    char util[16];
    if (d->workers == SIM_INFINITE_SERVERS)
        snprintf(util, sizeof util, "-");
    else
        snprintf(util, sizeof util, "%.0f%%", c->utilization * 100);
    fprintf(out, "%-*.*s %-13.13s %5.1f %6s %9s %8s %8s %8s %8s %7s %7s", w, w, d->id,
            sdsim_component_kind(d), c->replicas_mean, util, fmt_rate(b[0], 32, c->throughput),
            fmt_ms(b[1], 32, c->response.mean), fmt_ms(b[2], 32, c->response.p50),
            fmt_ms(b[3], 32, c->response.p95), fmt_ms(b[4], 32, c->response.p99),
            fmt_count(b[5], 32, c->dropped), fmt_count(b[6], 32, c->errors));
    if (r->analytic) {
        const sim_analytic_component *a = &r->analytic->components[i];
        if (a->exactness == SIM_UNSTABLE) {
            fprintf(out, "   %5.0f%% unstable", a->utilization * 100);
        } else {
            fprintf(out, "   %5.0f%% %8s", a->utilization * 100,
                    fmt_ms(b[7], 32, a->mean_response));
        }
    }
    fputc('\n', out);
}

static void print_e2e(FILE *out, const sdsim_report *r) {
    const sim_e2e_result *e = &r->results->e2e;
    char b[8][32];
    fprintf(out,
            "\nend to end   %s req/s ok, mean %s ms (+-%s), p50 %s, p95 %s, p99 %s ms (+-%s)\n",
            fmt_rate(b[0], 32, e->throughput), fmt_ms(b[1], 32, e->latency.mean),
            fmt_ms(b[2], 32, e->ci.mean_half), fmt_ms(b[3], 32, e->latency.p50),
            fmt_ms(b[4], 32, e->latency.p95), fmt_ms(b[5], 32, e->latency.p99),
            fmt_ms(b[6], 32, e->ci.p99_half));
    fprintf(out,
            "             %llu started, %llu completed, %llu failed (%llu dropped): error rate "
            "%.4f%%\n",
            (unsigned long long)e->started, (unsigned long long)e->completed,
            (unsigned long long)e->failed, (unsigned long long)e->dropped, e->error_rate * 100);
}

static void print_bottleneck(FILE *out, const sdsim_report *r) {
    const sim_results *res = r->results;
    if (res->bottleneck >= 0) {
        const sim_component_result *c = &res->components[res->bottleneck];
        fprintf(out, "bottleneck   %s, %.0f%% utilized in the simulation\n",
                r->design->components[res->bottleneck].id, c->utilization * 100);
    }
    if (r->analytic && r->analytic->bottleneck >= 0)
        fprintf(out, "             analysis: %s\n", r->analytic->reason);
    else if (!r->analytic && r->analytic_error)
        fprintf(out, "analysis     not available: %s\n", r->analytic_error);
}

static void print_slo(FILE *out, const sdsim_report *r) {
    const sim_slo *s = &r->design->slo;
    const sim_e2e_result *e = &r->results->e2e;
    char b[2][32];
    if (s->p99 > 0)
        fprintf(out, "SLO          p99 %s ms <= %s ms: %s\n", fmt_ms(b[0], 32, e->latency.p99),
                fmt_ms(b[1], 32, s->p99), e->latency.p99 <= s->p99 ? "PASS" : "FAIL");
    if (s->error_rate >= 0)
        fprintf(out, "SLO          error rate %.4f%% <= %.4f%%: %s\n", e->error_rate * 100,
                s->error_rate * 100, e->error_rate <= s->error_rate ? "PASS" : "FAIL");
}

/* Where simulation and analysis differ by more than SDSIM_ANALYTIC_WARN, say so: either the
 * design is outside the formulas' assumptions or something is worth a closer look. */
static void print_disagreements(FILE *out, const sdsim_report *r) {
    if (!r->analytic) return;
    int said = 0;
    for (int i = 0; i < r->results->ncomponents; i++) {
        const sim_analytic_component *a = &r->analytic->components[i];
        const sim_component_result *c = &r->results->components[i];
        if (a->exactness == SIM_UNSTABLE || !(a->mean_response > 0) || c->completions < 100)
            continue;
        double diff = (c->response.mean - a->mean_response) / a->mean_response;
        if (fabs(diff) <= SDSIM_ANALYTIC_WARN) continue;
        if (!said++) fputs("\nwhere simulation and analysis disagree:\n", out);
        char b[2][32];
        fprintf(out, "  %s: simulated mean %s ms vs analytic %s ms (%+.0f%%, %s formula)\n",
                r->design->components[i].id, fmt_ms(b[0], 32, c->response.mean),
                fmt_ms(b[1], 32, a->mean_response), diff * 100,
                a->exactness == SIM_EXACT ? "exact" : "approximate");
    }
}

void sdsim_report_text(FILE *out, const sdsim_report *r) {
    const sim_results *res = r->results;
    int w = id_width(r->design);
    fprintf(out, "%s: %.0f s simulated (%.0f s warm-up left out), seed %llu", r->design->name,
            r->duration, r->warmup, (unsigned long long)r->seed);
    if (r->replications > 1) fprintf(out, ", means of %d replications", r->replications);
    fprintf(out, "; %.2fM events in %.2f s\n", res->events / 1e6, r->wall_seconds);
    if (r->scenario) fprintf(out, "scenario: %s\n", r->scenario);
    fputc('\n', out);
    print_header(out, r, w);
    for (int i = 0; i < res->ncomponents; i++)
        print_component(out, r, i, w);
    print_e2e(out, r);
    print_bottleneck(out, r);
    fprintf(out, "cost         $%.0f per month\n", res->cost_month);
    print_slo(out, r);
    print_disagreements(out, r);
}
