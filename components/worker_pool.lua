-- A pool of background workers (Celery, Sidekiq): long jobs, usually fed by a queue or an
-- async edge, that scale on utilization and shed jobs that waited too long.
return {
    name = "worker_pool",
    label = "Worker pool",
    category = "compute",
    icon = "cpu",
    description = "Background job workers: replicas x workers run long jobs from their queue; "
        .. "optional autoscaling on utilization and shedding of stale jobs.",
    behavior = "service",
    defaults = { replicas = 2 },
    params = {
        workers = std.param("workers", { default = 4, help = "jobs in parallel per replica" }),
        queue = std.param("queue"),
        service_time = std.param("service_time", { default = { dist = "exp", mean_ms = 200 },
            help = "time per job" }),
        policy = std.param("policy", { default = "least_conn" }),
        fanout = std.param("fanout"),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.1 }),
        shed = std.param("shed"),
        autoscale = std.param("autoscale"),
    },
}
