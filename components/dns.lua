-- DNS resolution: a delay station (no queueing: resolvers are not the bottleneck) that answers
-- hit_ratio of the lookups from its cache (records within their TTL) and sends the rest along
-- its outgoing edges, e.g. a call to an external_api standing for the authoritative servers.
return {
    name = "dns",
    label = "DNS",
    category = "network",
    icon = "globe",
    description = "A DNS resolver: answers cached records (hit_ratio, set by the TTL and the "
        .. "query mix) after its own lookup time; misses take the outgoing edges to the "
        .. "authoritative servers. Unlimited concurrency.",
    behavior = "cache",
    defaults = { replicas = 1 },
    params = {
        workers = std.param("workers", { default = 0,
            help = "concurrent lookups per replica; 0 = unlimited (a delay station)" }),
        service_time = std.param("service_time", { default = { dist = "exp", mean_ms = 1 },
            help = "resolver lookup time for a cached record" }),
        hit_ratio = std.param("hit_ratio", { default = 0.95,
            help = "share of lookups answered from the resolver cache (within TTL)" }),
        policy = std.param("policy"),
        error_rate = std.param("error_rate", { help = "SERVFAIL / timeout probability" }),
        cost_per_hour = std.param("cost_per_hour", { default = 0.001 }),
    },
}
