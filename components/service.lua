-- An application service: replicas, each with a pool of workers (threads, processes,
-- connections) and a queue; after its own work it calls, forwards or enqueues along its
-- outgoing edges.
return {
    name = "service",
    label = "Service",
    category = "compute",
    icon = "server",
    description = "An API or worker service: replicas x workers serve requests from a FIFO "
        .. "queue; call edges hold the worker until the callee answers.",
    behavior = "service",
    defaults = { replicas = 2 },
    params = {
        workers = std.param("workers", { default = 8 }),
        queue = std.param("queue"),
        service_time = std.param("service_time", { default = { dist = "exp", mean_ms = 5 } }),
        policy = std.param("policy"),
        fanout = std.param("fanout"),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.17 }),
        rate_limit = std.param("rate_limit"),
        shed = std.param("shed"),
        autoscale = std.param("autoscale"),
    },
}
