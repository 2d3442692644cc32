-- A serverless function: instances (replicas) of `workers` concurrent invocations each,
-- started on demand. The engine's autoscaler stands for the platform: every interval_s it
-- wants enough instances for target_utilization, and a new instance serves only after
-- provision_s -- the cold start; meanwhile requests wait, so cold starts show in latency.
local autoscale = std.param("autoscale", {
    default = { enabled = true, target_utilization = 0.7, min = 1, max = 200, cooldown_s = 0,
                provision_s = 0.4, interval_s = 1 },
    help = "the platform's scaling: provision_s is the cold start, max the concurrency limit",
})
autoscale.fields.target_utilization.default = 0.7
autoscale.fields.cooldown_s.default = 0
autoscale.fields.provision_s.default = 0.4
autoscale.fields.provision_s.help = "cold start: from the scaling decision to a warm instance"
autoscale.fields.interval_s.default = 1

return {
    name = "serverless",
    label = "Serverless function",
    category = "compute",
    icon = "function",
    description = "A function (Lambda, Cloud Functions): instances scale with load from a warm "
        .. "minimum to a concurrency limit; each new instance serves after a cold start.",
    behavior = "service",
    defaults = { replicas = 1 },
    params = {
        workers = std.param("workers", { default = 1,
            help = "concurrent invocations per instance (1 for AWS Lambda)" }),
        queue = std.param("queue"),
        service_time = std.param("service_time", { default = { dist = "exp", mean_ms = 50 },
            help = "warm invocation duration" }),
        policy = std.param("policy", { default = "least_conn" }),
        fanout = std.param("fanout"),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.06,
            help = "per instance-hour (e.g. 1 GB x 3600 s at $0.0000167 per GB-s)" }),
        autoscale = autoscale,
    },
}
