-- A replicated database: replica 0 is the primary and takes every write; reads spread over
-- all replicas that are up by policy. Workers are its connection slots.
return {
    name = "database",
    label = "Database",
    category = "storage",
    icon = "database",
    description = "A primary with read replicas: writes (1 - read_ratio) go to the primary, "
        .. "reads to any replica. Workers are concurrent queries per replica.",
    behavior = "database",
    defaults = { replicas = 1 },
    params = {
        workers = std.param("workers", { default = 16 }),
        queue = std.param("queue"),
        service_time = std.param("service_time",
            { default = { dist = "lognormal", mean_ms = 4, scv = 1 } }),
        read_ratio = std.param("read_ratio"),
        policy = std.param("policy"),
        fanout = std.param("fanout"),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.48 }),
        shed = std.param("shed"),
    },
}
