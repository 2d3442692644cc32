-- category: social
-- title: News feed (fan-out on write)
-- News feed with fan-out on write: 300 posts and 6,000 feed reads per second.
--
-- A post is stored in the posts database and published on a topic; a fan-out worker then
-- builds the timeline entries of the author's followers (~200 on average, heavy-tailed:
-- celebrities) and writes them to the followers' precomputed timelines in one pipelined batch
-- to the sharded in-memory timeline store. A feed read takes the reader's timeline from that
-- store and hydrates the posts through a cache.
-- The fan-out workers are the busiest component (about 76 % busy):
--   fanout: 300 posts/s, a job holds 9 ms (lognormal, scv 2) + the batch write (2 x 0.3 +
--     0.5 ms) = 10.1 ms: 300 x 10.1 ms = 3.03 busy workers of 2 x 2 = 4 -> ~0.76.
--   feed holds 3 ms + timeline (2 x 0.3 + 0.5 ms) + posts cache (2 x 0.3 + 0.3 ms + 5 % x
--     (2 x 0.5 + 4 ms)) ~= 5.3 ms: 6,000 x 5.3 ms = 32 of 4 x 16 = 64 (~0.50).
--   timelines: (6,000 reads + 300 batches)/s x 0.5 ms = 3.2 busy of 8 shards x 4 (~0.10).
--   post_cache: 6,000 x (0.3 + 5 % x 5 ms) ~= 3.3 of 2 x 8 (~0.21).
--   posts db: 300 writes + 300 misses/s x 4 ms -> 2.4 of 2 x 16 (~0.08; the primary, which
--     takes the writes and half the reads, ~0.11).
--   publish: 300 x (2 ms + posts db 2 x 0.5 + 4 ms) = 2.1 of 2 x 8 (~0.13).
--   new_posts topic: 300 msgs/s x 1 ms (the hand-off to the pool is a forward) -> 0.3 of 8.
-- Costs per replica-hour: services $0.17, caches $0.20, timeline shards $0.25, posts db
-- $0.48, topic $0.05, fan-out workers $0.10: about $3,400 a month.
return {
    version = 1,
    name = "news_feed",
    description = "Fan-out on write: posts pushed into followers' precomputed timelines by a "
        .. "worker pool; feed reads from the timeline store hydrated through a cache.",
    components = {
        { id = "readers", type = "client", x = 60, y = 140 },
        { id = "lb", type = "load_balancer", x = 220, y = 140 },
        { id = "feed", type = "service", replicas = 4, x = 400, y = 140,
          params = { workers = 16, queue = 500, service_time = { dist = "exp", mean_ms = 3 } } },
        { id = "timelines", type = "sharded_database", replicas = 8, x = 640, y = 140,
          params = { workers = 4, service_time = { dist = "exp", mean_ms = 0.5 },
                     cost_per_hour = 0.25 } },
        { id = "post_cache", type = "cache", replicas = 2, x = 640, y = 260,
          params = { workers = 8, hit_ratio = 0.95, service_time = { dist = "exp", mean_ms = 0.3 } } },
        { id = "posts", type = "database", replicas = 2, x = 860, y = 320,
          params = { workers = 16, read_ratio = 0.5 } },
        { id = "authors", type = "client", x = 60, y = 420 },
        { id = "publish", type = "service", replicas = 2, x = 240, y = 420,
          params = { workers = 8, service_time = { dist = "exp", mean_ms = 2 } } },
        { id = "new_posts", type = "pubsub", x = 440, y = 420, params = { workers = 8 } },
        { id = "fanout", type = "worker_pool", replicas = 2, x = 640, y = 420,
          params = { workers = 2, service_time = { dist = "lognormal", mean_ms = 9, scv = 2 } } },
    },
    edges = {
        { from = "readers", to = "lb", latency_ms = 30 },
        { from = "lb", to = "feed", latency_ms = 0.5 },
        { from = "feed", to = "timelines", latency_ms = 0.3, timeout_ms = 100, retries = 1 },
        { from = "feed", to = "post_cache", latency_ms = 0.3, timeout_ms = 100 },
        { from = "post_cache", to = "posts", latency_ms = 0.5, timeout_ms = 300 },
        { from = "authors", to = "publish", latency_ms = 30 },
        { from = "publish", to = "posts", latency_ms = 0.5, timeout_ms = 300, retries = 2 },
        { from = "publish", to = "new_posts", mode = "async", latency_ms = 0.5 },
        { from = "new_posts", to = "fanout", mode = "forward", latency_ms = 0.5 },
        { from = "fanout", to = "timelines", latency_ms = 0.3, timeout_ms = 200, retries = 3 },
    },
    workload = {
        { to = "readers", rps = 6000, keys = 1000000, label = "feed reads" },
        { to = "authors", rps = 300, label = "posts" },
    },
    slo = { p99_ms = 200, error_rate = 0.001 },
}
