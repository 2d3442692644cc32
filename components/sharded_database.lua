-- A sharded database: each replica is a shard, and every request (read or write) goes to the
-- shard that owns its key (consistent hashing over the shards). Skew comes from the key
-- space (a workload's `keys`); replication inside a shard is not modelled.
return {
    name = "sharded_database",
    label = "Sharded database",
    category = "storage",
    icon = "grid",
    description = "A database partitioned by key (Vitess, Cassandra, DynamoDB): replicas are "
        .. "shards; a request goes to the shard of its key.",
    behavior = "service",
    defaults = { replicas = 4 },
    params = {
        workers = std.param("workers", { default = 16, help = "concurrent queries per shard" }),
        queue = std.param("queue"),
        service_time = std.param("service_time",
            { default = { dist = "lognormal", mean_ms = 4, scv = 1 } }),
        policy = std.param("policy", { default = "consistent_hash",
            help = "consistent_hash routes by key; other policies ignore the key" }),
        fanout = std.param("fanout"),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.48, help = "per shard" }),
        shed = std.param("shed"),
    },
}
