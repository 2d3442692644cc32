-- category: commerce
-- title: Ticket booking
-- Ticket booking for a popular event: 1,000 requests per second at the default load.
--
-- Fans pass a waiting room (a rate limiter admitting 1,500 per second: at the default load
-- nobody waits, raise the load to see it reject) and the gateway to the booking service,
-- which reads the seat map and places holds in the inventory database (30 % of its requests
-- are writes: holds and releases), and for the 20 % of requests that check out charges the
-- card through a circuit breaker in front of the payment provider. A confirmed booking
-- queues a confirmation e-mail, sent by a worker pool through an e-mail provider.
-- The booking service is the busiest component (it holds a worker across the payment):
--   booking holds 5 ms + inventory (2 x 0.5 + ~5 ms) + 20 % x payment (2 x 5 ms + ~200 ms;
--     the breaker adds nothing) = 53 ms: 1,000 rps x 53 ms = 53 busy workers of 4 x 18 = 72
--     -> ~0.74.
--   inventory: 1,000 x 5 ms = 5 of 2 x 16 (~0.16; the primary takes the 300 writes and half
--     the reads: ~0.20).
--   gateway: 1,000 x (1 + 2 x 0.5 + 53) ms = 55 of 2 x 64 (~0.43; ~0.46 simulated, as the
--     payment's heavy tail makes booking hold ~56 ms).
--   confirmations (queue): 200 msgs/s x 1 ms -> 0.2 of 4; mailer: 200 x (5 ms + 2 x 2 ms +
--     ~100 ms) = 21.8 of 4 x 16 (~0.34).
--   payments and email: external delay stations (error rates 0.2 % and 0.5 %).
-- Costs per replica-hour: gateway $0.10, booking $0.17, inventory $0.48, queue $0.05,
-- mailer $0.10; the limiter and the breaker cost nothing: about $1,700 a month.
return {
    version = 1,
    name = "ticket_booking",
    description = "A ticket sale: waiting room (rate limiter), booking service over a seat "
        .. "inventory, payments behind a circuit breaker, confirmation e-mails from a queue.",
    components = {
        { id = "fans", type = "client", x = 60, y = 200 },
        { id = "waiting_room", type = "rate_limiter", x = 220, y = 200,
          params = { rate_limit = { rps = 1500, burst = 3000 } } },
        { id = "gateway", type = "api_gateway", replicas = 2, x = 380, y = 200,
          params = { rate_limit = { rps = 5000 } } },
        { id = "booking", type = "service", replicas = 4, x = 560, y = 200,
          params = { workers = 18, queue = 500, service_time = { dist = "exp", mean_ms = 5 } } },
        { id = "inventory", type = "database", replicas = 2, x = 780, y = 100,
          params = { workers = 16, read_ratio = 0.7,
                     service_time = { dist = "lognormal", mean_ms = 5, scv = 1 } } },
        { id = "payment_breaker", type = "circuit_breaker", x = 780, y = 240,
          params = { breaker = { failures = 20, open_ms = 10000, half_open_probes = 5 },
                     timeout_ms = 3000 } },
        { id = "payments", type = "external_api", x = 980, y = 240,
          params = { service_time = { dist = "lognormal", mean_ms = 200, scv = 1.5 },
                     error_rate = 0.002 } },
        { id = "confirmations", type = "queue", x = 560, y = 380,
          params = { workers = 4, service_time = { dist = "const", mean_ms = 1 } } },
        { id = "mailer", type = "worker_pool", replicas = 4, x = 780, y = 380,
          params = { workers = 16, service_time = { dist = "exp", mean_ms = 5 } } },
        { id = "email", type = "external_api", x = 980, y = 380,
          params = { service_time = { dist = "lognormal", mean_ms = 100, scv = 1 } } },
    },
    edges = {
        { from = "fans", to = "waiting_room", latency_ms = 30 },
        { from = "waiting_room", to = "gateway", latency_ms = 0.5 },
        { from = "gateway", to = "booking", latency_ms = 0.5, timeout_ms = 5000 },
        { from = "booking", to = "inventory", latency_ms = 0.5, timeout_ms = 500, retries = 2,
          backoff_ms = { base = 10, max = 100 }, jitter = true },
        { from = "booking", to = "payment_breaker", p = 0.2 },
        { from = "payment_breaker", to = "payments", latency_ms = 5 },
        { from = "booking", to = "confirmations", mode = "async", p = 0.2, latency_ms = 0.5 },
        { from = "confirmations", to = "mailer", mode = "forward", latency_ms = 0.5 },
        { from = "mailer", to = "email", latency_ms = 2, timeout_ms = 5000, retries = 3,
          backoff_ms = { base = 500, max = 5000 }, jitter = true },
    },
    workload = { { to = "fans", rps = 1000, keys = 50000, label = "booking requests" } },
    slo = { p99_ms = 1500, error_rate = 0.005 },
}
