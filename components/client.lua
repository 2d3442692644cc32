-- Clients: where a workload's requests start. A delay station: as many workers as there are
-- requests in flight (workers = 0), no service time of its own, so what it measures is the
-- time its calls take -- the latency the users see.
return {
    name = "client",
    label = "Clients",
    category = "edge",
    icon = "users",
    description = "Users or upstream systems sending requests. Adds no delay of its own; "
        .. "point a workload at it and connect it to the first hop with a call edge.",
    behavior = "service",
    defaults = { replicas = 1 },
    params = {
        workers = std.param("workers", { default = 0,
            help = "0 = unlimited concurrency (each request in flight is one user)" }),
        service_time = std.param("service_time", { default = { dist = "const", mean_ms = 0 },
            help = "client-side think or render time per request" }),
        fanout = std.param("fanout"),
    },
}
