-- category: media
-- title: Video streaming
-- Video streaming: 20,000 segment requests per second through a CDN, 400 API calls per second.
--
-- Players fetch video segments from the CDN (97 % edge hits); misses go to the origin
-- packager, which reads the segment from object storage. Apps call the API gateway for
-- playback: catalog lookups through a cache, a DRM licence from an external provider on
-- playback starts, and a view event on a stream whose consumers batch into the warehouse.
-- The origin packager is the busiest component (about 73 % of its workers busy):
--   cdn: a delay station (edges scale): utilization 0; 20,000 x 3 % = 600 misses/s.
--   origin holds a worker for its own 6 ms + 2 x 1 ms network + ~25 ms storage = 33 ms:
--     600 rps x 33 ms = 19.8 busy workers of 3 x 9 = 27 -> ~0.73.
--   storage: a delay station, 600 rps x 25 ms = 15 requests in flight.
--   gateway: 400 rps holding 1 ms + 2 x 0.5 ms + playback (~34 ms) -> ~14.4 of 2 x 64 (~0.11).
--   playback holds 10 ms + catalog (0.6 ms network + ~0.3 ms + 20 % misses x (1 ms + 4 ms))
--     + 25 % licence starts x (2 x 5 ms + ~80 ms) ~= 34 ms: 400 x 34 ms = 13.6 of 48 (~0.28).
--   catalog cache: 400 rps x ~1.3 ms -> 0.5 of 4 (~0.13); metadata db: 80 rps x 4 ms -> 0.32
--     of 2 x 8 (~0.02).
--   views stream: 400 msgs/s, each consumer 2 ms + 10 % x (2 x 0.5 ms + 10 ms warehouse) =
--     3.1 ms -> 1.24 of 6 partitions (~0.21); warehouse: 40 writes/s x 10 ms -> 0.05 of 8.
-- Costs per replica-hour: CDN POP $0.10, origin $0.34, gateway $0.10, playback $0.17,
-- cache $0.20, database $0.48, partition $0.03, warehouse $1.00: about $3,300 a month.
return {
    version = 1,
    name = "video_streaming",
    description = "Segments through a CDN with an origin packager over object storage; playback "
        .. "API with catalog cache, DRM licences and view events on a stream.",
    components = {
        { id = "players", type = "client", x = 60, y = 160 },
        { id = "cdn", type = "cdn", replicas = 4, x = 240, y = 160,
          params = { hit_ratio = 0.97, service_time = { dist = "lognormal", mean_ms = 12, scv = 1 },
                     cost_per_hour = 0.1 } },
        { id = "origin", type = "service", replicas = 3, x = 440, y = 160,
          params = { workers = 9, queue = 200, service_time = { dist = "exp", mean_ms = 6 },
                     cost_per_hour = 0.34 } },
        { id = "storage", type = "object_storage", x = 640, y = 160,
          params = { service_time = { dist = "lognormal", mean_ms = 25, scv = 2 } } },
        { id = "apps", type = "client", x = 60, y = 380 },
        { id = "gateway", type = "api_gateway", replicas = 2, x = 240, y = 380,
          params = { rate_limit = { rps = 2000, burst = 4000 } } },
        { id = "playback", type = "service", replicas = 3, x = 440, y = 380,
          params = { workers = 16, queue = 500, service_time = { dist = "exp", mean_ms = 10 } } },
        { id = "catalog", type = "cache", x = 640, y = 300,
          params = { workers = 4, hit_ratio = 0.8, service_time = { dist = "exp", mean_ms = 0.3 } } },
        { id = "metadata", type = "database", replicas = 2, x = 840, y = 300,
          params = { workers = 8, read_ratio = 0.99 } },
        { id = "drm", type = "external_api", x = 640, y = 440,
          params = { service_time = { dist = "lognormal", mean_ms = 80, scv = 2 },
                     error_rate = 0.002 } },
        { id = "views", type = "stream", replicas = 6, x = 440, y = 520,
          params = { service_time = { dist = "exp", mean_ms = 2 } } },
        { id = "warehouse", type = "database", x = 640, y = 560,
          params = { workers = 8, read_ratio = 0, service_time = { dist = "exp", mean_ms = 10 },
                     cost_per_hour = 1.0 } },
    },
    edges = {
        { from = "players", to = "cdn", latency_ms = 15 },
        { from = "cdn", to = "origin", latency_ms = 20, timeout_ms = 2000, retries = 1 },
        { from = "origin", to = "storage", latency_ms = 1, timeout_ms = 1000, retries = 2,
          backoff_ms = { base = 20, max = 200 }, jitter = true },
        { from = "apps", to = "gateway", latency_ms = 30 },
        { from = "gateway", to = "playback", latency_ms = 0.5, timeout_ms = 3000 },
        { from = "playback", to = "catalog", latency_ms = 0.3, timeout_ms = 50 },
        { from = "catalog", to = "metadata", latency_ms = 0.5, timeout_ms = 200 },
        { from = "playback", to = "drm", p = 0.25, latency_ms = 5, timeout_ms = 1000,
          retries = 1, breaker = { failures = 20, open_ms = 10000, half_open_probes = 3 } },
        { from = "playback", to = "views", mode = "async", latency_ms = 1 },
        { from = "views", to = "warehouse", p = 0.1, latency_ms = 0.5, timeout_ms = 2000,
          retries = 2 },
    },
    workload = {
        { to = "players", rps = 20000, keys = 1000000, label = "segment fetches" },
        { to = "apps", rps = 400, keys = 100000, label = "playback API" },
    },
    slo = { p99_ms = 400, error_rate = 0.002 },
}
