-- category: storage
-- title: File storage and sync
-- File storage and sync (Dropbox-like): 2,000 API calls and 1,500 downloads per second.
--
-- API calls (listings, renames, upload commits) go through the gateway to the metadata
-- service and its database. 5 % of them commit an upload: a job on the thumbnail queue,
-- whose consumers hand it to the thumbnailer pool; the thumbnailer reads the original from
-- object storage, renders previews, and publishes a change event that the sync service pushes
-- to the user's other devices. Downloads go through a CDN (60 % hits) to object storage.
-- The thumbnailer pool is the busiest component (image rendering is CPU-heavy):
--   thumbnailer: 100 jobs/s, each 250 ms (lognormal, scv 1) + the storage read (2 x 1 ms +
--     ~30 ms) = 282 ms: 28.2 busy workers of 4 x 10 = 40 -> ~0.71.
--   metadata holds 3 ms + meta_db (2 x 0.5 + 3 ms) = 7 ms: 2,000 x 7 ms = 14 of 3 x 16
--     (~0.29).
--   gateway: 2,000 x (1 + 2 x 0.5 + 7) ms = 18 of 2 x 64 (~0.14).
--   meta_db: 2,000 x 3 ms = 6 of 2 x 16 (~0.19; the primary also takes the 10 % writes).
--   thumbs queue: 100 x 1 ms (hand-off) -> 0.1 of 4; changes topic: 100 x (1 ms + 2 x 0.5 +
--     2 ms push) -> 0.4 of 32; sync: 100 x 2 ms -> 0.2 of 3 x 8.
--   cdn and storage: delay stations (the providers scale): 1,500 downloads, 600 CDN misses
--     + 100 thumbnail reads = 700 storage requests/s.
-- Costs per replica-hour: gateway $0.10, metadata $0.17, meta_db $0.48, queue and topic
-- $0.05, thumbnailer $0.34 (CPU-heavy), sync $0.085, CDN POP $0.10, storage $0.03: about
-- $2,650 a month.
return {
    version = 1,
    name = "file_storage",
    description = "File sync and sharing: metadata API over a database, uploads rendered into "
        .. "thumbnails by a worker pool, change events to devices, downloads via a CDN.",
    components = {
        { id = "app", type = "client", x = 60, y = 140 },
        { id = "gateway", type = "api_gateway", replicas = 2, x = 240, y = 140,
          params = { rate_limit = { rps = 5000, burst = 10000 } } },
        { id = "metadata", type = "service", replicas = 3, x = 420, y = 140,
          params = { workers = 16, queue = 500, service_time = { dist = "exp", mean_ms = 3 } } },
        { id = "meta_db", type = "database", replicas = 2, x = 620, y = 80,
          params = { workers = 16, read_ratio = 0.9,
                     service_time = { dist = "lognormal", mean_ms = 3, scv = 1 } } },
        { id = "thumbs", type = "queue", x = 420, y = 300,
          params = { workers = 4, service_time = { dist = "const", mean_ms = 1 } } },
        { id = "thumbnailer", type = "worker_pool", replicas = 4, x = 620, y = 300,
          params = { workers = 10, service_time = { dist = "lognormal", mean_ms = 250, scv = 1 },
                     cost_per_hour = 0.34 } },
        { id = "changes", type = "pubsub", x = 820, y = 300 },
        { id = "sync", type = "service", replicas = 3, x = 1020, y = 300,
          params = { workers = 8, service_time = { dist = "exp", mean_ms = 2 },
                     cost_per_hour = 0.085 } },
        { id = "downloads", type = "client", x = 60, y = 480 },
        { id = "cdn", type = "cdn", replicas = 2, x = 240, y = 480, params = { hit_ratio = 0.6 } },
        { id = "storage", type = "object_storage", x = 820, y = 480 },
    },
    edges = {
        { from = "app", to = "gateway", latency_ms = 30 },
        { from = "gateway", to = "metadata", latency_ms = 0.5, timeout_ms = 2000 },
        { from = "metadata", to = "meta_db", latency_ms = 0.5, timeout_ms = 300, retries = 2,
          backoff_ms = { base = 10, max = 100 }, jitter = true },
        { from = "metadata", to = "thumbs", mode = "async", p = 0.05, latency_ms = 0.5 },
        { from = "thumbs", to = "thumbnailer", mode = "forward", latency_ms = 0.5 },
        { from = "thumbnailer", to = "storage", latency_ms = 1, timeout_ms = 2000, retries = 2 },
        { from = "thumbnailer", to = "changes", mode = "async", latency_ms = 0.5 },
        { from = "changes", to = "sync", latency_ms = 0.5, timeout_ms = 1000, retries = 1 },
        { from = "downloads", to = "cdn", latency_ms = 20 },
        { from = "cdn", to = "storage", latency_ms = 10, timeout_ms = 3000, retries = 1 },
    },
    workload = {
        { to = "app", rps = 2000, keys = 1000000, label = "API calls" },
        { to = "downloads", rps = 1500, keys = 10000000, label = "file downloads" },
    },
    slo = { p99_ms = 500, error_rate = 0.002 },
}
