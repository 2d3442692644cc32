-- A content delivery network: edge locations answer hit_ratio of the requests from their
-- cache after the edge latency (service_time: TLS, lookup and first byte at the point of
-- presence); misses take the outgoing edges to the origin. Edges scale with demand, so the
-- default is unlimited concurrency.
return {
    name = "cdn",
    label = "CDN",
    category = "network",
    icon = "cloud",
    description = "A CDN (CloudFront, Fastly): edge caches answer hit_ratio of the requests "
        .. "after the edge latency; misses go to the origin along the outgoing edges.",
    behavior = "cache",
    defaults = { replicas = 1 },
    params = {
        workers = std.param("workers", { default = 0,
            help = "concurrent requests per edge location; 0 = unlimited" }),
        queue = std.param("queue"),
        service_time = std.param("service_time",
            { default = { dist = "lognormal", mean_ms = 8, scv = 1 },
              help = "edge latency: time to first byte at the point of presence" }),
        hit_ratio = std.param("hit_ratio", { default = 0.9,
            help = "share of requests served from the edge cache (the rest go to the origin)" }),
        policy = std.param("policy", { default = "consistent_hash",
            help = "how requests are spread over edge locations (replicas)" }),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.1,
            help = "per edge location (replica); transfer pricing is not modelled" }),
        rate_limit = std.param("rate_limit"),
    },
}
