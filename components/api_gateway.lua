-- An API gateway: a service that authenticates, meters and routes each request, with a token
-- bucket (rate_limit) in front: requests beyond the quota are refused at once (429).
return {
    name = "api_gateway",
    label = "API gateway",
    category = "network",
    icon = "shield",
    description = "An API gateway (Kong, API Gateway, Envoy): per-request auth and routing work, "
        .. "a rate limit that rejects what exceeds the quota, then calls the backends.",
    behavior = "service",
    defaults = { replicas = 2 },
    params = {
        workers = std.param("workers", { default = 64,
            help = "concurrent requests per replica (event loop connections)" }),
        queue = std.param("queue", { default = 1000 }),
        service_time = std.param("service_time", { default = { dist = "exp", mean_ms = 1 },
            help = "auth, metering and routing per request" }),
        policy = std.param("policy"),
        fanout = std.param("fanout"),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.1 }),
        rate_limit = std.param("rate_limit", { default = { rps = 10000 },
            help = "token bucket for the whole gateway: rps quota, burst bucket size; "
                .. "requests without a token fail (counted as rejected)" }),
        shed = std.param("shed"),
        autoscale = std.param("autoscale"),
    },
}
