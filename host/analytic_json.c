/* The analytic prediction as JSON: `sdsim analyze --json` and the server's /api/analyze. */
#include "json_writer.h"
#include "report.h"

void sdsim_analytic_json(FILE *out, const sim_design *d, const sim_analytic *a) {
    sdsim_json j;
    sdsim_json_init(&j, out, 1);
    sdsim_json_object_begin(&j);
    sdsim_json_kv_string(&j, "design", d->name);
    sdsim_json_key(&j, "components");
    sdsim_json_object_begin(&j);
    for (int i = 0; i < a->ncomponents; i++) {
        const sim_analytic_component *c = &a->components[i];
        sdsim_json_key(&j, d->components[i].id);
        sdsim_json_object_begin(&j);
        sdsim_json_kv_number(&j, "arrival_rps", c->arrival_rate);
        sdsim_json_kv_number(&j, "service_demand_ms", c->service_demand * 1e3);
        sdsim_json_kv_number(&j, "utilization", c->utilization);
        sdsim_json_kv_number(&j, "mean_wait_ms", c->mean_wait * 1e3);
        sdsim_json_kv_number(&j, "mean_response_ms", c->mean_response * 1e3);
        sdsim_json_kv_number(&j, "mean_in_system", c->mean_in_system);
        sdsim_json_kv_number(&j, "drop_probability", c->drop_prob);
        sdsim_json_kv_number(&j, "saturation_rps", c->saturation_rps);
        sdsim_json_kv_string(&j, "exactness", sim_exactness_name(c->exactness));
        sdsim_json_object_end(&j);
    }
    sdsim_json_object_end(&j);
    sdsim_json_kv_number(&j, "offered_rps", a->offered_rps);
    sdsim_json_kv_number(&j, "e2e_mean_ms", a->e2e_mean * 1e3);
    sdsim_json_kv_number(&j, "saturation_rps", a->saturation_rps);
    sdsim_json_kv_string(&j, "bottleneck",
                         a->bottleneck >= 0 ? d->components[a->bottleneck].id : "");
    sdsim_json_kv_string(&j, "reason", a->reason);
    sdsim_json_key(&j, "closed");
    sdsim_json_bool(&j, a->closed);
    sdsim_json_object_end(&j);
}
