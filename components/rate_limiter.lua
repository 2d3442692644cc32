-- A rate limiter in the path: a token bucket (the engine's limiter) with no delay of its own.
-- A request without a token fails at once (counted as rejected); the others go on along the
-- outgoing edges.
return {
    name = "rate_limiter",
    label = "Rate limiter",
    category = "resilience",
    icon = "gauge",
    description = "A token bucket in the request path: passes at most rps per second (bursts up "
        .. "to burst), rejects the rest at once; adds no delay.",
    behavior = "service",
    defaults = { replicas = 1 },
    params = {
        workers = std.param("workers", { default = 0, help = "0 = unlimited (no queueing)" }),
        service_time = std.param("service_time", { default = { dist = "const", mean_ms = 0 },
            help = "per-request check time; none by default" }),
        rate_limit = std.param("rate_limit", { default = { rps = 1000 },
            help = "rps: tokens per second; burst: bucket size (default: one second of rps)" }),
        fanout = std.param("fanout"),
        cost_per_hour = std.param("cost_per_hour", { default = 0 }),
    },
}
