-- Object storage: capacity is the provider's problem (a delay station), latency is a
-- heavy-tailed time to first byte, and a small share of requests fail (503 SlowDown, 500).
-- A rate_limit stands for the per-prefix request quota when it matters.
return {
    name = "object_storage",
    label = "Object storage",
    category = "storage",
    icon = "archive",
    description = "A blob store (S3, GCS): unlimited concurrency, heavy-tailed latency, a small "
        .. "error rate; an optional rate limit for the per-prefix request quota.",
    behavior = "service",
    defaults = { replicas = 1 },
    params = {
        workers = std.param("workers", { default = 0,
            help = "concurrent requests; 0 = unlimited (the provider scales)" }),
        service_time = std.param("service_time",
            { default = { dist = "lognormal", mean_ms = 30, scv = 2 },
              help = "time to first byte plus transfer of a typical object" }),
        error_rate = std.param("error_rate", { default = 0.0005,
            help = "503 SlowDown and 500 responses" }),
        cost_per_hour = std.param("cost_per_hour", { default = 0.03,
            help = "storage of the data set per hour; request pricing is not modelled" }),
        rate_limit = std.param("rate_limit", {
            help = "request quota (S3: ~5,500 GET/s per prefix); absent = none" }),
    },
}
