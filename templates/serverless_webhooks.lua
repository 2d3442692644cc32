-- category: serverless
-- title: Serverless webhooks
-- Serverless webhooks: 400 webhook deliveries per second from partners.
--
-- Partners resolve our hostname (5 % of deliveries miss their resolver's cache and ask our
-- authoritative DNS provider), then post to the API gateway, which invokes the handler
-- function. The handler verifies and stores the event in a key-value table (sharded by
-- partner key), enriches 10 % of them through a partner API, and enqueues the rest of the
-- work on a queue drained by a worker pool. The function (Cloud Run style: 10 concurrent
-- invocations per instance) autoscales every 5 s towards 80 % busy: it starts at its
-- steady-state instance count and follows the load (cold starts of 400 ms on scale-up).
-- The handler function is the busiest component:
--   handler: 400 invocations/s, each 30 ms + store (2 x 1 ms + ~4 ms) + 10 % x partner API
--     (2 x 10 ms + ~150 ms) = 53 ms: 21.2 busy of 3 instances x 10 = 30 -> ~0.71 (the
--     autoscaler keeps 3: ceil(3 x 0.71 / 0.8) = 3).
--   gateway: 400 x (1 + 2 x 0.5 + 53) ms = 22 of 2 x 64 (~0.17).
--   events table: 400 x 4 ms = 1.6 of 4 shards x 16 (~0.03).
--   jobs queue: 400 x 1 ms -> 0.4 of 4 (~0.10); workers: 400 x 20 ms = 8 of 2 x 8 (~0.50).
--   dns: a delay station; 20 lookups/s, 5 % of them (1/s) reach the DNS provider.
-- Costs per replica-hour: gateway $0.10, function instance $0.60 (2 vCPU), table shard
-- $0.25, queue $0.05, workers $0.10: about $2,400 a month.
return {
    version = 1,
    name = "serverless_webhooks",
    description = "Webhook receiver on functions: DNS, API gateway, an autoscaled handler "
        .. "function over a sharded table and a partner API, background work on a queue.",
    components = {
        { id = "partners", type = "client", x = 60, y = 200 },
        { id = "dns", type = "dns", x = 220, y = 80 },
        { id = "dns_provider", type = "external_api", x = 420, y = 80,
          params = { service_time = { dist = "lognormal", mean_ms = 20, scv = 1 },
                     error_rate = 0 } },
        { id = "gateway", type = "api_gateway", replicas = 2, x = 220, y = 200,
          params = { rate_limit = { rps = 2000 } } },
        { id = "handler", type = "serverless", replicas = 3, x = 420, y = 200,
          params = { workers = 10, service_time = { dist = "exp", mean_ms = 30 },
                     cost_per_hour = 0.6,
                     autoscale = { enabled = true, target_utilization = 0.8, min = 1,
                                   max = 50, cooldown_s = 0, provision_s = 0.4,
                                   interval_s = 5 } } },
        { id = "events", type = "sharded_database", replicas = 4, x = 640, y = 120,
          params = { workers = 16, service_time = { dist = "lognormal", mean_ms = 4, scv = 1 },
                     cost_per_hour = 0.25 } },
        { id = "partner_api", type = "external_api", x = 640, y = 240 },
        { id = "jobs", type = "queue", x = 640, y = 360,
          params = { workers = 4, service_time = { dist = "const", mean_ms = 1 } } },
        { id = "workers", type = "worker_pool", x = 840, y = 360,
          params = { workers = 8, service_time = { dist = "exp", mean_ms = 20 } } },
    },
    edges = {
        { from = "partners", to = "dns", p = 0.05, latency_ms = 5 },
        { from = "dns", to = "dns_provider", latency_ms = 20, timeout_ms = 2000 },
        { from = "partners", to = "gateway", latency_ms = 40 },
        { from = "gateway", to = "handler", latency_ms = 0.5, timeout_ms = 10000 },
        { from = "handler", to = "events", latency_ms = 1, timeout_ms = 500, retries = 2,
          backoff_ms = { base = 20, max = 200 }, jitter = true },
        { from = "handler", to = "partner_api", p = 0.1, latency_ms = 10, timeout_ms = 2000,
          retries = 1 },
        { from = "handler", to = "jobs", mode = "async", latency_ms = 1 },
        { from = "jobs", to = "workers", mode = "forward", latency_ms = 0.5 },
    },
    workload = { { to = "partners", rps = 400, keys = 5000, label = "webhook deliveries" } },
    slo = { p99_ms = 1000, error_rate = 0.01 },
}
