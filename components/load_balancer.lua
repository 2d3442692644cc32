-- A load balancer spreads each request over its outgoing edges (exactly one is taken, by
-- policy; p is ignored) and holds it while the backend answers. With workers = 0 and no
-- service time it adds nothing of its own, as an L4/L7 balancer that is not the bottleneck.
return {
    name = "load_balancer",
    label = "Load balancer",
    category = "network",
    icon = "split",
    description = "Spreads requests over its outgoing edges by policy (round_robin, random, "
        .. "least_conn, p2c, consistent_hash, weighted by edge weight). No delay unless a "
        .. "service_time is given.",
    behavior = "balancer",
    defaults = { replicas = 1 },
    params = {
        workers = std.param("workers", { default = 0,
            help = "concurrent connections per replica; 0 = unlimited" }),
        queue = std.param("queue"),
        service_time = std.param("service_time", { default = { dist = "const", mean_ms = 0 },
            help = "processing per request (TLS, routing); none by default" }),
        policy = std.param("policy"),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.025 }),
        rate_limit = std.param("rate_limit"),
    },
}
