/* The --json report (docs/design-format.md, "Report"). Keys come in a fixed order and
 * numbers in a fixed format, so the same run gives the same bytes. */
#include <math.h>
#include "json_writer.h"
#include "report.h"

#define MS(seconds) ((seconds)*1e3)

static void write_ci(sdsim_json *j, const sim_ci95 *ci) {
    sdsim_json_key(j, "ci95");
    sdsim_json_object_begin(j);
    sdsim_json_kv_number(j, "mean_ms_half_width", MS(ci->mean_half));
    sdsim_json_kv_number(j, "p99_ms_half_width", MS(ci->p99_half));
    sdsim_json_object_end(j);
}

static void write_analytic_component(sdsim_json *j, const sim_analytic_component *a,
                                     const sim_component_result *c) {
    sdsim_json_key(j, "analytic");
    sdsim_json_object_begin(j);
    sdsim_json_kv_number(j, "arrival_rps", a->arrival_rate);
    sdsim_json_kv_number(j, "utilization", a->utilization);
    sdsim_json_kv_number(j, "mean_response_ms", MS(a->mean_response));
    sdsim_json_kv_number(j, "saturation_rps", a->saturation_rps);
    sdsim_json_kv_string(j, "exactness", sim_exactness_name(a->exactness));
    double diff = a->mean_response > 0 && isfinite(a->mean_response)
                      ? (c->response.mean - a->mean_response) / a->mean_response
                      : NAN;
    sdsim_json_kv_number(j, "mean_response_rel_diff", diff);
    sdsim_json_object_end(j);
}

static void write_component(sdsim_json *j, const sdsim_report *r, int i) {
    const sim_component *d = &r->design->components[i];
    const sim_component_result *c = &r->results->components[i];
    sdsim_json_key(j, d->id);
    sdsim_json_object_begin(j);
    sdsim_json_kv_string(j, "type", sdsim_component_kind(d));
    sdsim_json_kv_string(j, "behavior", sim_behavior_name(d->behavior));
    sdsim_json_kv_number(j, "throughput_rps", c->throughput);
    sdsim_json_kv_number(j, "utilization", c->utilization);
    sdsim_json_kv_number(j, "mean_in_system", c->mean_in_system);
    sdsim_json_kv_number(j, "mean_queue", c->mean_queue);
    sdsim_json_kv_number(j, "mean_wait_ms", MS(c->mean_wait));
    sdsim_json_kv_number(j, "mean_response_ms", MS(c->response.mean));
    sdsim_json_kv_number(j, "p50_ms", MS(c->response.p50));
    sdsim_json_kv_number(j, "p95_ms", MS(c->response.p95));
    sdsim_json_kv_number(j, "p99_ms", MS(c->response.p99));
    sdsim_json_kv_number(j, "max_ms", MS(c->response.max));
    sdsim_json_kv_integer(j, "arrivals", (long long)c->arrivals);
    sdsim_json_kv_integer(j, "completions", (long long)c->completions);
    sdsim_json_kv_integer(j, "dropped", (long long)c->dropped);
    sdsim_json_kv_integer(j, "errors", (long long)c->errors);
    sdsim_json_kv_integer(j, "timeouts", (long long)c->timeouts);
    sdsim_json_kv_integer(j, "retries", (long long)c->retries);
    sdsim_json_kv_integer(j, "rejected", (long long)c->rejected);
    sdsim_json_kv_integer(j, "shed", (long long)c->shed);
    sdsim_json_kv_number(j, "replicas_mean", c->replicas_mean);
    sdsim_json_kv_integer(j, "replicas_peak", c->replicas_peak);
    sdsim_json_kv_number(j, "cost_month", c->cost_month);
    write_ci(j, &c->ci);
    if (r->analytic) write_analytic_component(j, &r->analytic->components[i], c);
    sdsim_json_object_end(j);
}

static void write_e2e(sdsim_json *j, const sim_e2e_result *e) {
    sdsim_json_key(j, "e2e");
    sdsim_json_object_begin(j);
    sdsim_json_kv_number(j, "throughput_rps", e->throughput);
    sdsim_json_kv_number(j, "mean_ms", MS(e->latency.mean));
    sdsim_json_kv_number(j, "p50_ms", MS(e->latency.p50));
    sdsim_json_kv_number(j, "p95_ms", MS(e->latency.p95));
    sdsim_json_kv_number(j, "p99_ms", MS(e->latency.p99));
    sdsim_json_kv_number(j, "max_ms", MS(e->latency.max));
    sdsim_json_kv_number(j, "error_rate", e->error_rate);
    sdsim_json_kv_integer(j, "dropped", (long long)e->dropped);
    sdsim_json_kv_integer(j, "started", (long long)e->started);
    sdsim_json_kv_integer(j, "completed", (long long)e->completed);
    sdsim_json_kv_integer(j, "failed", (long long)e->failed);
    write_ci(j, &e->ci);
    sdsim_json_object_end(j);
}

static void write_slo(sdsim_json *j, const sdsim_report *r) {
    const sim_slo *s = &r->design->slo;
    const sim_e2e_result *e = &r->results->e2e;
    sdsim_json_key(j, "slo");
    sdsim_json_object_begin(j);
    int pass = 1;
    if (s->p99 > 0) {
        sdsim_json_kv_number(j, "p99_ms", MS(s->p99));
        pass &= e->latency.p99 <= s->p99;
    }
    if (s->error_rate >= 0) {
        sdsim_json_kv_number(j, "error_rate", s->error_rate);
        pass &= e->error_rate <= s->error_rate;
    }
    sdsim_json_key(j, "pass");
    sdsim_json_bool(j, pass);
    sdsim_json_object_end(j);
}

static void write_analytic(sdsim_json *j, const sdsim_report *r) {
    sdsim_json_key(j, "analytic");
    if (!r->analytic) {
        sdsim_json_object_begin(j);
        sdsim_json_kv_string(j, "error", r->analytic_error ? r->analytic_error : "");
        sdsim_json_object_end(j);
        return;
    }
    const sim_analytic *a = r->analytic;
    sdsim_json_object_begin(j);
    sdsim_json_kv_number(j, "offered_rps", a->offered_rps);
    sdsim_json_kv_number(j, "e2e_mean_ms", MS(a->e2e_mean));
    sdsim_json_kv_number(j, "saturation_rps", a->saturation_rps);
    sdsim_json_kv_string(j, "bottleneck",
                         a->bottleneck >= 0 ? r->design->components[a->bottleneck].id : "");
    sdsim_json_kv_string(j, "reason", a->reason);
    sdsim_json_object_end(j);
}

void sdsim_report_json(FILE *out, const sdsim_report *r) {
    sdsim_json j;
    sdsim_json_init(&j, out, 1);
    const sim_results *res = r->results;
    sdsim_json_object_begin(&j);
    sdsim_json_kv_string(&j, "design", r->design->name);
    sdsim_json_kv_integer(&j, "seed", (long long)r->seed);
    sdsim_json_kv_number(&j, "duration_s", r->duration);
    sdsim_json_kv_number(&j, "warmup_s", r->warmup);
    sdsim_json_kv_integer(&j, "replications", r->replications);
    sdsim_json_kv_integer(&j, "events", (long long)res->events);
    sdsim_json_key(&j, "components");
    sdsim_json_object_begin(&j);
    for (int i = 0; i < res->ncomponents; i++)
        write_component(&j, r, i);
    sdsim_json_object_end(&j);
    write_e2e(&j, &res->e2e);
    sdsim_json_key(&j, "bottleneck");
    if (res->bottleneck >= 0) {
        sdsim_json_object_begin(&j);
        sdsim_json_kv_string(&j, "id", r->design->components[res->bottleneck].id);
        sdsim_json_kv_number(&j, "utilization", res->components[res->bottleneck].utilization);
        sdsim_json_object_end(&j);
    } else {
        sdsim_json_null(&j);
    }
    sdsim_json_kv_number(&j, "cost_month", res->cost_month);
    write_slo(&j, r);
    write_analytic(&j, r);
    if (r->scenario) sdsim_json_kv_string(&j, "scenario", r->scenario);
    sdsim_json_object_end(&j);
}
