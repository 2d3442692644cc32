-- category: messaging
-- title: Chat
-- Chat: 8,000 messages per second sent over WebSocket gateways.
--
-- A message goes through the WebSocket gateway to the chat service, which checks the
-- sender's session in a cache, stores the message in the shard of its conversation
-- (sharded database, by key) and publishes it on a topic. The topic pushes each message to
-- two subscriptions: the delivery service (to the recipients' gateways) and the push
-- notifier, which calls the mobile push provider for the 30 % of recipients that are offline.
-- The chat service is the busiest component (about 73 % of its workers busy):
--   chat holds 1.5 ms + session (2 x 0.3 ms + ~0.3 ms, 2 % misses read the store) + store
--     (2 x 0.5 ms + 3 ms) ~= 6.4 ms (publishing is asynchronous: no holding time):
--     8,000 rps x 6.4 ms = 51 busy workers of 5 x 14 = 70 -> ~0.73.
--   gateway: a delay station of connections (utilization 0).
--   sessions: 8,000 x (0.2 ms + 2 % x (2 x 0.5 + 3) ms) -> 2.2 of 2 x 4 (~0.28).
--   messages: 8,000 + 160 misses = 8,160 queries/s x 3 ms -> 24.5 of 8 shards x 8 (~0.38).
--   topic: 8,000 msgs/s; a delivery holds 1 ms + both pushes at once, the slower one being
--     the notifier's 1 ms + 0.5 ms + 30 % x (2 x 10 + 60) ms -> ~26 ms: 213 of 3 x 128 (~0.55).
--   delivery: 8,000 x 1 ms -> 8 of 3 x 8 (~0.33).
--   notifier: 8,000 x (0.5 ms + 30 % x 80 ms) -> 196 of 8 x 64 (~0.38).
--   push (the provider): a delay station, 2,400 calls/s x 60 ms, 0.3 % errors.
-- Costs per replica-hour: gateway, delivery and notifier $0.085, chat $0.17, cache $0.20,
-- shard $0.48, topic $0.05: about $4,700 a month, most of it the eight shards.
return {
    version = 1,
    name = "chat",
    description = "Messages through WebSocket gateways, a chat service, a sharded message store "
        .. "and a topic that delivers to online users and pushes to offline ones.",
    components = {
        { id = "users", type = "client", x = 60, y = 240 },
        { id = "gateway", type = "service", replicas = 4, x = 240, y = 240,
          params = { workers = 0, service_time = { dist = "const", mean_ms = 0.2 },
                     cost_per_hour = 0.085 } },
        { id = "chat", type = "service", replicas = 5, x = 440, y = 240,
          params = { workers = 14, queue = 500, service_time = { dist = "exp", mean_ms = 1.5 } } },
        { id = "sessions", type = "cache", replicas = 2, x = 640, y = 120,
          params = { workers = 4, hit_ratio = 0.98, service_time = { dist = "exp", mean_ms = 0.2 } } },
        { id = "messages", type = "sharded_database", replicas = 8, x = 640, y = 260,
          params = { workers = 8, service_time = { dist = "lognormal", mean_ms = 3, scv = 1 } } },
        { id = "topic", type = "pubsub", replicas = 3, x = 640, y = 400,
          params = { workers = 128 } },
        { id = "delivery", type = "service", replicas = 3, x = 840, y = 340,
          params = { workers = 8, service_time = { dist = "exp", mean_ms = 1 },
                     cost_per_hour = 0.085 } },
        { id = "notifier", type = "service", replicas = 8, x = 840, y = 460,
          params = { workers = 64, service_time = { dist = "exp", mean_ms = 0.5 },
                     cost_per_hour = 0.085 } },
        { id = "push", type = "external_api", x = 1040, y = 460,
          params = { service_time = { dist = "lognormal", mean_ms = 60, scv = 2 },
                     error_rate = 0.003 } },
    },
    edges = {
        { from = "users", to = "gateway", latency_ms = 30 },
        { from = "gateway", to = "chat", latency_ms = 0.5, timeout_ms = 1000 },
        { from = "chat", to = "sessions", latency_ms = 0.3, timeout_ms = 20, retries = 1 },
        { from = "sessions", to = "messages", latency_ms = 0.5, timeout_ms = 200 },
        { from = "chat", to = "messages", latency_ms = 0.5, timeout_ms = 200, retries = 2,
          backoff_ms = { base = 5, max = 50 }, jitter = true },
        { from = "chat", to = "topic", mode = "async", latency_ms = 0.5 },
        { from = "topic", to = "delivery", latency_ms = 0.5, timeout_ms = 500, retries = 2 },
        { from = "topic", to = "notifier", latency_ms = 0.5, timeout_ms = 2000 },
        { from = "notifier", to = "push", p = 0.3, latency_ms = 10, timeout_ms = 1000, retries = 1,
          breaker = { failures = 50, open_ms = 5000, half_open_probes = 5 } },
    },
    workload = { { to = "users", rps = 8000, keys = 2000000, label = "messages sent" } },
    slo = { p99_ms = 150, error_rate = 0.001 },
}
