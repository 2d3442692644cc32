-- category: data
-- title: Metrics ingestion
-- Metrics ingestion: 5,000 batches per second (500,000 points) from agents, 200 dashboard
-- queries per second.
--
-- Agents post batches to the ingest service, which validates them and appends them to a
-- partitioned stream (the append is acknowledged at once). One consumer per partition
-- decodes each batch and writes it to the time-series database, sharded by series key; a
-- small share of batches trips an alert rule, evaluated by the alerting service, which pages
-- through an external provider. Dashboards query through a result cache.
-- The stream consumers are the busiest component (one consumer per partition, in order):
--   points: 5,000 batches/s, a consumer holds 1 ms + the write (2 x 0.5 + ~3 ms) = 5 ms:
--     25 busy consumers of 32 partitions -> ~0.78.
--   tsdb: 5,000 writes + 60 query misses/s x 3 ms = 15.2 of 6 shards x 8 (~0.32).
--   ingest holds 1 ms + the append (2 x 1 ms; the stream acknowledges at once) = 3 ms:
--     5,000 x 3 ms = 15 of 3 x 16 (~0.31).
--   query holds 5 ms + cache (2 x 0.3 + 0.2 ms + 30 % x (2 x 0.5 + 3 ms)) ~= 7 ms: 200 x 7 ms
--     = 1.4 of 2 x 8 (~0.09); query cache: 200 x ~1.4 ms -> 0.3 of 4.
--   alerting: 10 evaluations/s x (20 ms + 10 % x (2 x 5 + 150 ms)) -> 0.36 of 2 x 4.
-- Costs per replica-hour: ingest $0.17, partitions $0.03, tsdb shards $0.60, query $0.17,
-- cache $0.20, alerting $0.085: about $4,250 a month.
return {
    version = 1,
    name = "metrics_ingestion",
    description = "Agents push metric batches through an ingest tier onto a partitioned stream; "
        .. "consumers write a sharded time-series database; dashboards query via a cache.",
    components = {
        { id = "agents", type = "client", x = 60, y = 160 },
        { id = "lb", type = "load_balancer", x = 220, y = 160 },
        { id = "ingest", type = "service", replicas = 3, x = 400, y = 160,
          params = { workers = 16, queue = 2000, service_time = { dist = "exp", mean_ms = 1 } } },
        { id = "points", type = "stream", replicas = 32, x = 600, y = 160,
          params = { service_time = { dist = "exp", mean_ms = 1 } } },
        { id = "tsdb", type = "sharded_database", replicas = 6, x = 820, y = 160,
          params = { workers = 8, service_time = { dist = "lognormal", mean_ms = 3, scv = 1 },
                     cost_per_hour = 0.6 } },
        { id = "alerting", type = "service", replicas = 2, x = 820, y = 320,
          params = { workers = 4, service_time = { dist = "exp", mean_ms = 20 },
                     cost_per_hour = 0.085 } },
        { id = "pager", type = "external_api", x = 1020, y = 320 },
        { id = "dashboards", type = "client", x = 60, y = 440 },
        { id = "query", type = "service", replicas = 2, x = 400, y = 440,
          params = { workers = 8, service_time = { dist = "exp", mean_ms = 5 } } },
        { id = "query_cache", type = "cache", x = 600, y = 440,
          params = { hit_ratio = 0.7, service_time = { dist = "exp", mean_ms = 0.2 } } },
    },
    edges = {
        { from = "agents", to = "lb", latency_ms = 20 },
        { from = "lb", to = "ingest", latency_ms = 0.5 },
        { from = "ingest", to = "points", latency_ms = 1, timeout_ms = 1000, retries = 2 },
        { from = "points", to = "tsdb", latency_ms = 0.5, timeout_ms = 1000, retries = 3,
          backoff_ms = { base = 50, max = 1000 }, jitter = true },
        { from = "points", to = "alerting", mode = "async", p = 0.002, latency_ms = 0.5 },
        { from = "alerting", to = "pager", p = 0.1, latency_ms = 5, timeout_ms = 2000,
          retries = 3 },
        { from = "dashboards", to = "query", latency_ms = 30 },
        { from = "query", to = "query_cache", latency_ms = 0.3, timeout_ms = 500 },
        { from = "query_cache", to = "tsdb", latency_ms = 0.5, timeout_ms = 500 },
    },
    workload = {
        { to = "agents", rps = 5000, keys = 100000, label = "metric batches" },
        { to = "dashboards", rps = 200, keys = 10000, label = "dashboard queries" },
    },
    slo = { p99_ms = 250, error_rate = 0.001 },
}
