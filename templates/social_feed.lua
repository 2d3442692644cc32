-- category: social
-- title: Social feed
-- A social feed at 5,000 timeline reads per second.
--
-- The feed service gathers three things in parallel (fanout = "all": it waits for all of
-- them): the user's timeline (a cache over the posts database), profile data, and ads. 5 %
-- of requests publish a post, fanned out asynchronously to followers by a queue's workers.
-- The ads service is the busiest and the slowest call, so it sets the feed's tail latency:
--   ads: 5,000 rps x 8 ms = 40 busy workers of 3 x 17 = 51 -> ~0.78.
--   feed holds 3 ms + the slowest of its three calls (~11 ms) -> ~70 of 256 workers (~0.27).
--   timeline: 5,000 rps x ~0.9 ms (10 % misses call posts_db) -> ~4.5 of 24 (~0.19).
--   profiles: 5,000 rps x 2 ms -> 10 of 64 (~0.16).
--   posts_db: 500 misses + 250 posts = 750 rps x 5 ms -> ~3.8 of 32 (~0.12).
--   fanout: 250 posts/s x (10 + 1 + ~5) ms -> 4 of 16 consumers (~0.25).
return {
    version = 1,
    name = "social_feed",
    description = "Timeline reads with a scatter-gather feed service, asynchronous post fan-out.",
    components = {
        { id = "clients", type = "client", x = 60, y = 240 },
        { id = "lb", type = "load_balancer", x = 220, y = 240, params = { policy = "least_conn" } },
        { id = "feed", type = "service", replicas = 8, x = 400, y = 240,
          params = { workers = 32, queue = 1000, fanout = "all",
                     service_time = { dist = "exp", mean_ms = 3 }, cost_per_hour = 0.17 } },
        { id = "timeline", type = "cache", replicas = 3, x = 620, y = 100,
          params = { workers = 8, hit_ratio = 0.9, policy = "consistent_hash",
                     service_time = { dist = "exp", mean_ms = 0.3 }, cost_per_hour = 0.2 } },
        { id = "profiles", type = "service", replicas = 4, x = 620, y = 240,
          params = { workers = 16, service_time = { dist = "exp", mean_ms = 2 },
                     cost_per_hour = 0.085 } },
        { id = "ads", type = "service", replicas = 3, x = 620, y = 380,
          params = { workers = 17, queue = 200,
                     service_time = { dist = "lognormal", mean_ms = 8, scv = 2 },
                     cost_per_hour = 0.17 } },
        { id = "posts_db", type = "database", replicas = 2, x = 840, y = 160,
          params = { workers = 16, read_ratio = 0.67,
                     service_time = { dist = "lognormal", mean_ms = 5, scv = 1 },
                     cost_per_hour = 0.48 } },
        { id = "fanout", type = "queue", x = 400, y = 420,
          params = { workers = 16, queue = 100000,
                     service_time = { dist = "exp", mean_ms = 10 }, cost_per_hour = 0.05 } },
    },
    edges = {
        { from = "clients", to = "lb", latency_ms = 25 },
        { from = "lb", to = "feed", latency_ms = 0.5 },
        { from = "feed", to = "timeline", latency_ms = 0.3, timeout_ms = 50 },
        { from = "feed", to = "profiles", latency_ms = 0.5, timeout_ms = 50, retries = 1 },
        { from = "feed", to = "ads", latency_ms = 0.5, timeout_ms = 150,
          breaker = { failures = 50, open_ms = 3000, half_open_probes = 5 } },
        { from = "timeline", to = "posts_db", latency_ms = 0.5, timeout_ms = 200 },
        { from = "feed", to = "fanout", mode = "async", p = 0.05, latency_ms = 0.5 },
        { from = "fanout", to = "posts_db", latency_ms = 0.5, timeout_ms = 500, retries = 3,
          backoff_ms = { base = 20, max = 500 }, jitter = true },
    },
    workload = { { to = "clients", rps = 5000, keys = 5000000 } },
    slo = { p99_ms = 300, error_rate = 0.005 },
}
