-- category: web
-- title: URL shortener
-- A URL shortener at 20,000 redirects per second.
--
-- Redirects read the short code through a cache (95 % hits) backed by a key-value store;
-- 2 % of requests create links (writes to the primary); every redirect emits a click event
-- to a queue whose consumers batch them into an analytics store. The API tier is the busiest:
--   api holds 1.5 ms + 0.98 x (0.4 ms network + ~0.4 ms cache) + 0.02 x (1 ms + ~3.2 ms kv)
--     ~= 2.4 ms; 20,000 rps x 2.4 ms = 48 busy workers of 4 x 16 = 64 -> ~0.74.
--   cache: 19,600 rps x ~0.41 ms -> ~8 of 16 workers (~0.5).
--   clicks: 20,000 rps x (0.5 ms + 1 % x ~21 ms flush) -> ~14 of 24 consumers (~0.6).
--   analytics: 200 flushes/s x 20 ms -> 4 of 8 workers (~0.5).
return {
    version = 1,
    name = "url_shortener",
    description = "Short-link redirects through a cache, link creation, click analytics.",
    components = {
        { id = "clients", type = "client", x = 60, y = 200 },
        { id = "lb", type = "load_balancer", x = 220, y = 200 },
        { id = "api", type = "service", replicas = 4, x = 400, y = 200,
          params = { workers = 16, queue = 500,
                     service_time = { dist = "exp", mean_ms = 1.5 }, cost_per_hour = 0.085 } },
        { id = "cache", type = "cache", replicas = 2, x = 600, y = 120,
          params = { workers = 8, hit_ratio = 0.95, policy = "consistent_hash",
                     service_time = { dist = "exp", mean_ms = 0.2 }, cost_per_hour = 0.2 } },
        { id = "kv", type = "database", replicas = 3, x = 800, y = 200,
          params = { workers = 16, read_ratio = 0.98,
                     service_time = { dist = "lognormal", mean_ms = 3, scv = 1 },
                     cost_per_hour = 0.35 } },
        { id = "clicks", type = "queue", x = 600, y = 320,
          params = { workers = 24, queue = 1000000,
                     service_time = { dist = "const", mean_ms = 0.5 }, cost_per_hour = 0.05 } },
        { id = "analytics", type = "database", x = 800, y = 360,
          params = { workers = 8, read_ratio = 0,
                     service_time = { dist = "exp", mean_ms = 20 }, cost_per_hour = 0.5 } },
    },
    edges = {
        { from = "clients", to = "lb", latency_ms = 15 },
        { from = "lb", to = "api", latency_ms = 0.5 },
        { from = "api", to = "cache", p = 0.98, latency_ms = 0.2, timeout_ms = 20, retries = 1 },
        { from = "api", to = "kv", p = 0.02, latency_ms = 0.5, timeout_ms = 100, retries = 2,
          backoff_ms = { base = 5, max = 50 }, jitter = true },
        { from = "cache", to = "kv", latency_ms = 0.5, timeout_ms = 100 },
        { from = "api", to = "clicks", mode = "async", p = 1, latency_ms = 0.5 },
        { from = "clicks", to = "analytics", p = 0.01, latency_ms = 0.5 },
    },
    workload = { { to = "clients", rps = 20000, keys = 10000000 } },
    slo = { p99_ms = 100, error_rate = 0.001 },
}
