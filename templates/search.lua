-- category: search
-- title: Full-text search
-- Search: 3,000 queries per second over an index split in three shards, 200 documents per
-- second indexed.
--
-- The search API answers popular queries from a result cache (40 % hits); the rest go to the
-- broker, which asks the three index shards at once (scatter-gather: fanout = "all") and
-- waits for the slowest. New documents arrive on a stream whose indexers write them to one
-- shard each. The broker is the busiest component: it holds a worker for the slowest of
-- three heavy-tailed shard queries.
--   broker: 3,000 x 60 % = 1,800 rps holding 1 ms + 2 x 0.5 ms + the slowest of three shard
--     responses (each ~15 ms, lognormal scv 2; the mean of the maximum is ~29 ms) ~= 31 ms:
--     56 busy workers of 3 x 24 = 72 -> ~0.77.
--   shard_a/b/c: 1,800 queries + ~67 index writes = ~1,870 rps x 15 ms = 28 of 3 x 16 = 48
--     -> ~0.58 each (writes go to the primary copy, replica 0).
--   api holds 2 ms + cache (2 x 0.3 + ~0.3 ms) + 60 % x (2 x 0.5 + ~31 ms) ~= 22 ms:
--     3,000 x 22 ms = 66 of 4 x 32 = 128 (~0.52).
--   results (a read-through cache tier: a connection is held while a miss asks the broker):
--     3,000 x (0.3 ms + 60 % x (2 x 0.5 + ~31 ms)) ~= 58 of 2 x 64 (~0.45).
--   docs stream: 200 msgs/s, a consumer holds 2 ms; indexer pool: 200 jobs/s x (5 ms own +
--     one shard write 2 x 0.5 + ~15 ms) ~= 21 ms -> 4.2 of 2 x 8 (~0.26).
-- Costs per replica-hour: api $0.17, cache $0.20, broker $0.17, shard copy $0.60, indexer
-- $0.10, partition $0.03: about $5,350 a month (the nine shard copies are 74 % of it).
return {
    version = 1,
    name = "search",
    description = "Full-text search: result cache, a broker scattering each query over three "
        .. "index shards, and an indexing pipeline on a stream.",
    components = {
        { id = "users", type = "client", x = 60, y = 200 },
        { id = "lb", type = "load_balancer", x = 220, y = 200, params = { policy = "least_conn" } },
        { id = "api", type = "service", replicas = 4, x = 400, y = 200,
          params = { workers = 32, queue = 500, service_time = { dist = "exp", mean_ms = 2 } } },
        { id = "results", type = "cache", replicas = 2, x = 580, y = 100,
          params = { workers = 64, hit_ratio = 0.4, service_time = { dist = "exp", mean_ms = 0.3 } } },
        { id = "broker", type = "service", replicas = 3, x = 580, y = 260,
          params = { workers = 24, queue = 500, fanout = "all",
                     service_time = { dist = "exp", mean_ms = 1 } } },
        { id = "shard_a", type = "search_index", replicas = 3, x = 800, y = 140,
          params = { workers = 16 } },
        { id = "shard_b", type = "search_index", replicas = 3, x = 800, y = 260,
          params = { workers = 16 } },
        { id = "shard_c", type = "search_index", replicas = 3, x = 800, y = 380,
          params = { workers = 16 } },
        { id = "crawler", type = "client", x = 60, y = 460 },
        { id = "docs", type = "stream", replicas = 4, x = 240, y = 460,
          params = { service_time = { dist = "exp", mean_ms = 2 } } },
        { id = "indexer", type = "worker_pool", replicas = 2, x = 440, y = 460,
          params = { workers = 8, service_time = { dist = "exp", mean_ms = 5 } } },
    },
    edges = {
        { from = "users", to = "lb", latency_ms = 25 },
        { from = "lb", to = "api", latency_ms = 0.5 },
        { from = "api", to = "results", latency_ms = 0.3, timeout_ms = 1000 },
        { from = "results", to = "broker", latency_ms = 0.5, timeout_ms = 1000 },
        { from = "broker", to = "shard_a", latency_ms = 0.5, timeout_ms = 500 },
        { from = "broker", to = "shard_b", latency_ms = 0.5, timeout_ms = 500 },
        { from = "broker", to = "shard_c", latency_ms = 0.5, timeout_ms = 500 },
        { from = "crawler", to = "docs", latency_ms = 5 },
        { from = "docs", to = "indexer", mode = "async", latency_ms = 0.5 },
        { from = "indexer", to = "shard_a", p = 1 / 3, latency_ms = 0.5, timeout_ms = 2000,
          retries = 3, backoff_ms = { base = 100, max = 2000 }, jitter = true },
        { from = "indexer", to = "shard_b", p = 1 / 3, latency_ms = 0.5, timeout_ms = 2000,
          retries = 3, backoff_ms = { base = 100, max = 2000 }, jitter = true },
        { from = "indexer", to = "shard_c", p = 1 / 3, latency_ms = 0.5, timeout_ms = 2000,
          retries = 3, backoff_ms = { base = 100, max = 2000 }, jitter = true },
    },
    workload = {
        { to = "users", rps = 3000, keys = 10000000, label = "queries" },
        { to = "crawler", rps = 200, label = "documents to index" },
    },
    slo = { p99_ms = 300, error_rate = 0.001 },
}
