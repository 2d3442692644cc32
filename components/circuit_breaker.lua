-- A circuit breaker in the path: no delay of its own; its breaker and timeout apply to every
-- outgoing call edge (edge_params) unless that edge sets its own. After `failures`
-- consecutive failed calls the edge opens: calls fail at once (rejected) for open_ms, then
-- half_open_probes successes in a row close it again.
return {
    name = "circuit_breaker",
    label = "Circuit breaker",
    category = "resilience",
    icon = "zap-off",
    description = "Guards the calls to its downstream: opens after consecutive failures and "
        .. "fails fast while open, probes after open_ms, closes on successes.",
    behavior = "service",
    defaults = { replicas = 1 },
    params = {
        workers = std.param("workers", { default = 0, help = "0 = unlimited (no queueing)" }),
        service_time = std.param("service_time", { default = { dist = "const", mean_ms = 0 } }),
        breaker = { type = "object", default = { failures = 5, open_ms = 5000,
                                                 half_open_probes = 1 },
            help = "applied to every outgoing call edge that has no breaker of its own",
            fields = {
                failures = { type = "int", default = 5, min = 1, max = 1000000,
                             help = "consecutive failures that open the breaker" },
                open_ms = { type = "number", default = 5000, min = 0, exclusive_min = true,
                            max = 1e9, unit = "ms", help = "time open before probing" },
                half_open_probes = { type = "int", default = 1, min = 1, max = 1000000,
                                     help = "successes in a row that close it" },
            } },
        timeout_ms = { type = "number", default = 1000, min = 0, max = 1e9, unit = "ms",
                       help = "call timeout on the outgoing call edges (a slow call counts as "
                           .. "a failure); 0 = none" },
        fanout = std.param("fanout"),
        cost_per_hour = std.param("cost_per_hour", { default = 0 }),
    },
    edge_params = { breaker = "breaker", timeout_ms = "timeout_ms" },
}
