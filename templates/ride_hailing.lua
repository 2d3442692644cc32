-- category: marketplace
-- title: Ride hailing
-- Ride hailing: 20,000 driver location updates and 500 ride requests per second.
--
-- Drivers stream their positions into a partitioned log (keyed by driver); its consumers
-- write them into a sharded in-memory geo index. A ride request goes through the API gateway
-- to dispatch, which finds nearby drivers in the geo index, prices the ride (surge factors
-- from a cache), asks the maps provider for the ETA, records the trip and publishes the
-- match on a topic that pushes it to the rider and to the driver.
-- Dispatch is the busiest component: it holds a worker across a slow external call.
--   dispatch holds 4 ms + geo (2 x 0.3 + 0.2 ms) + pricing (2 x 0.5 + ~2.3 ms) + maps
--     (2 x 5 + 60 ms) + trips (2 x 0.5 + 4 ms) ~= 83 ms:
--     500 rps x 83 ms = 41.5 busy workers of 4 x 14 = 56 -> ~0.74.
--   locations: 20,000 msgs/s, a consumer holds 0.2 ms + 2 x 0.2 ms + 0.2 ms geo write
--     = 0.8 ms -> 16 of 40 partitions x 1 (~0.40).
--   geo: 20,500 requests/s x 0.2 ms -> 4.1 of 8 shards x 4 (~0.13).
--   pricing: 500 x (2 ms + surge cache 2 x 0.2 + ~0.1 ms + 10 % misses) -> ~1.2 of 2 x 8.
--   trips: 500 writes/s x 4 ms -> 2 of 2 x 16 (the primary takes them all:
--     ~0.13; the report averages both replicas: ~0.06).
--   gateway: 500 x (1 + 1 + 83) ms -> 42.5 of 2 x 64 (~0.33).
--   matches topic: 500 msgs/s x (1 ms + ~2 ms pushes) -> 1.5 of 32 (~0.05).
-- Costs per replica-hour: dispatch $0.17, partitions $0.03, geo shards $0.25, pricing
-- $0.085, cache $0.20, trips $0.48, gateway $0.10, topic $0.05: about $4,000 a month.
return {
    version = 1,
    name = "ride_hailing",
    description = "Driver locations on a stream into a sharded geo index; dispatch matching "
        .. "riders with drivers via geo, pricing, a maps provider and a trips database.",
    components = {
        { id = "drivers", type = "client", x = 60, y = 120 },
        { id = "locations", type = "stream", replicas = 40, x = 260, y = 120,
          params = { service_time = { dist = "exp", mean_ms = 0.2 } } },
        { id = "geo", type = "sharded_database", replicas = 8, x = 700, y = 120,
          params = { workers = 4, service_time = { dist = "exp", mean_ms = 0.2 },
                     cost_per_hour = 0.25 } },
        { id = "riders", type = "client", x = 60, y = 320 },
        { id = "gateway", type = "api_gateway", replicas = 2, x = 260, y = 320,
          params = { rate_limit = { rps = 2000, burst = 2000 } } },
        { id = "dispatch", type = "service", replicas = 4, x = 460, y = 320,
          params = { workers = 14, queue = 200, service_time = { dist = "exp", mean_ms = 4 } } },
        { id = "pricing", type = "service", replicas = 2, x = 700, y = 260,
          params = { workers = 8, service_time = { dist = "exp", mean_ms = 2 },
                     cost_per_hour = 0.085 } },
        { id = "surge", type = "cache", x = 900, y = 260,
          params = { hit_ratio = 0.9, service_time = { dist = "exp", mean_ms = 0.1 } } },
        { id = "maps", type = "external_api", x = 700, y = 380,
          params = { service_time = { dist = "lognormal", mean_ms = 60, scv = 1.5 },
                     error_rate = 0.001 } },
        { id = "trips", type = "database", replicas = 2, x = 700, y = 500,
          params = { read_ratio = 0, service_time = { dist = "lognormal", mean_ms = 4, scv = 1 } } },
        { id = "matches", type = "pubsub", x = 460, y = 500 },
        { id = "rider_push", type = "external_api", x = 700, y = 600,
          params = { service_time = { dist = "lognormal", mean_ms = 2, scv = 1 },
                     error_rate = 0.001 } },
        { id = "driver_push", type = "external_api", x = 900, y = 600,
          params = { service_time = { dist = "lognormal", mean_ms = 2, scv = 1 },
                     error_rate = 0.001 } },
    },
    edges = {
        { from = "drivers", to = "locations", latency_ms = 40 },
        { from = "locations", to = "geo", latency_ms = 0.2, timeout_ms = 100, retries = 1 },
        { from = "riders", to = "gateway", latency_ms = 40 },
        { from = "gateway", to = "dispatch", latency_ms = 0.5, timeout_ms = 5000 },
        { from = "dispatch", to = "geo", latency_ms = 0.3, timeout_ms = 50, retries = 1 },
        { from = "dispatch", to = "pricing", latency_ms = 0.5, timeout_ms = 200, retries = 1 },
        { from = "pricing", to = "surge", latency_ms = 0.2, timeout_ms = 20 },
        { from = "dispatch", to = "maps", latency_ms = 5, timeout_ms = 1000, retries = 1,
          breaker = { failures = 20, open_ms = 10000, half_open_probes = 3 } },
        { from = "dispatch", to = "trips", latency_ms = 0.5, timeout_ms = 500, retries = 2,
          backoff_ms = { base = 10, max = 100 }, jitter = true },
        { from = "dispatch", to = "matches", mode = "async", latency_ms = 0.5 },
        { from = "matches", to = "rider_push", latency_ms = 0.5, timeout_ms = 1000 },
        { from = "matches", to = "driver_push", latency_ms = 0.5, timeout_ms = 1000 },
    },
    workload = {
        { to = "drivers", rps = 20000, keys = 80000, label = "location updates" },
        { to = "riders", rps = 500, keys = 1000000, label = "ride requests" },
    },
    slo = { p99_ms = 1000, error_rate = 0.005 },
}
