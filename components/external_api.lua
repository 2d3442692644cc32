-- A third-party API: someone else's capacity (a delay station), slow and heavy-tailed, with
-- a visible error rate, often behind a quota (rate_limit). Put a timeout, retries and a
-- breaker on the edge that calls it.
return {
    name = "external_api",
    label = "External API",
    category = "external",
    icon = "plug",
    description = "A third-party service (payments, maps, email): unlimited concurrency on our "
        .. "side, heavy-tailed latency, an error rate, an optional quota.",
    behavior = "service",
    defaults = { replicas = 1 },
    params = {
        workers = std.param("workers", { default = 0,
            help = "concurrent calls it accepts; 0 = unlimited" }),
        service_time = std.param("service_time",
            { default = { dist = "lognormal", mean_ms = 150, scv = 3 },
              help = "its response time, network included" }),
        error_rate = std.param("error_rate", { default = 0.005,
            help = "share of calls answered with an error" }),
        cost_per_hour = std.param("cost_per_hour", { default = 0,
            help = "per-call pricing is not modelled" }),
        rate_limit = std.param("rate_limit", { help = "the provider's quota; absent = none" }),
    },
}
