-- A cache in front of a slower store: a hit answers after the cache's own service time, a
-- miss goes on along the outgoing edges (usually a call to the database).
return {
    name = "cache",
    label = "Cache",
    category = "storage",
    icon = "zap",
    description = "An in-memory cache (Redis, Memcached): answers hit_ratio of the requests "
        .. "itself; misses take the outgoing edges.",
    behavior = "cache",
    defaults = { replicas = 1 },
    params = {
        workers = std.param("workers", { default = 4 }),
        queue = std.param("queue"),
        service_time = std.param("service_time", { default = { dist = "exp", mean_ms = 0.3 } }),
        hit_ratio = std.param("hit_ratio"),
        policy = std.param("policy", { default = "consistent_hash" }),
        fanout = std.param("fanout"),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.2 }),
    },
}
