-- category: commerce
-- title: E-commerce
-- E-commerce checkout and catalog at 10,000 requests per second.
--
-- clients -> lb -> api -> cache -> db (a primary and two read replicas), and an order queue
-- whose consumers write to the database. Sized so that nothing saturates at the default load
-- and the API tier is clearly the busiest (about 75 % of its workers busy):
--   api holds a worker for its own 6 ms plus its calls:
--     0.9 x (0.6 ms network + ~1.1 ms cache) + 0.1 x (1 ms network + ~4.3 ms db) ~= 8.1 ms,
--   10,000 rps x 8.1 ms = 81 busy workers of 6 x 18 = 108 -> ~0.75.
--   cache: 9,000 rps, holds ~1.1 ms (15 % misses call the db) -> ~10 of 24 workers (~0.4).
--   db: 1,350 misses + 1,000 direct + 300 order writes = 2,650 rps x 4 ms -> 10.6 of 24
--       workers (~0.44); the primary also takes every write: 1,060 rps -> ~0.53.
--   orders: 300 rps x (15 + 1 + ~4.3) ms -> ~6 of 12 consumers (~0.5).
-- Crash the db primary (scenario: {at_s = 30, fault = "crash", target = "db", replica = 0})
-- to watch timeouts, retries and the breaker on api -> db; add api replicas to relieve it.
local rps = 10000

return {
    version = 1,
    name = "ecommerce",
    description = "Catalog and checkout: API tier behind a load balancer, read-through cache, "
        .. "replicated database, asynchronous order processing.",
    components = {
        { id = "clients", type = "client", x = 60, y = 240 },
        { id = "lb", type = "load_balancer", x = 220, y = 240, zone = "zone-a" },
        { id = "api", type = "service", replicas = 6, x = 400, y = 240, zone = "zone-a",
          params = { workers = 18, queue = 200,
                     service_time = { dist = "lognormal", mean_ms = 6, scv = 1 },
                     cost_per_hour = 0.17 } },
        { id = "cache", type = "cache", replicas = 3, x = 600, y = 140, zone = "zone-a",
          params = { workers = 8, service_time = { dist = "exp", mean_ms = 0.25 },
                     hit_ratio = 0.85, policy = "consistent_hash", cost_per_hour = 0.2 } },
        { id = "db", type = "database", replicas = 3, x = 800, y = 240, zone = "zone-b",
          params = { workers = 8, queue = 500, read_ratio = 0.9,
                     service_time = { dist = "lognormal", mean_ms = 4, scv = 1.5 },
                     cost_per_hour = 0.48 } },
        { id = "orders", type = "queue", x = 600, y = 360, zone = "zone-b",
          params = { workers = 12, queue = 100000,
                     service_time = { dist = "exp", mean_ms = 15 }, cost_per_hour = 0.05 } },
    },
    edges = {
        { from = "clients", to = "lb", latency_ms = 20 },
        { from = "lb", to = "api", latency_ms = 0.5 },
        { from = "api", to = "cache", p = 0.9, latency_ms = 0.3, timeout_ms = 50, retries = 1 },
        { from = "api", to = "db", p = 0.1, latency_ms = 0.5, timeout_ms = 200, retries = 2,
          backoff_ms = { base = 10, max = 100 }, jitter = true, retry_budget = 0.2,
          breaker = { failures = 20, open_ms = 5000, half_open_probes = 3 } },
        { from = "cache", to = "db", latency_ms = 0.5, timeout_ms = 200 },
        { from = "api", to = "orders", mode = "async", p = 0.03, latency_ms = 1 },
        { from = "orders", to = "db", latency_ms = 0.5, timeout_ms = 500, retries = 3,
          backoff_ms = { base = 50, max = 1000 }, jitter = true },
    },
    workload = { { to = "clients", rps = rps, keys = 1000000 } },
    slo = { p99_ms = 250, error_rate = 0.001 },
}
