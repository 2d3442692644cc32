-- category: finance
-- title: Payments saga
-- Payments with a saga: 800 checkouts per second.
--
-- The payments service scores each checkout for fraud, then hands it to a saga coordinator
-- that runs three local steps in order: reserve the funds in the ledger, charge the card
-- through the card network (an external processor, 1 % of charges fail), and record the
-- order. When the charge fails the saga compensates: it releases the reservation in the
-- ledger (a second ledger request) and the checkout fails. Recorded orders queue a receipt.
-- The saga coordinator is the busiest component: it holds a worker for the whole saga.
--   saga holds 1 ms + ledger (2 x 0.5 + ~4 ms) + card (2 x 5 + ~250 ms) + orders (2 x 0.5 +
--     3 ms) = 270 ms: 800 x 270 ms = 216 busy workers of 4 x 72 = 288 -> ~0.75 (the 1 %
--     compensations add 800 x 1 % x 5 ms, nothing visible).
--   payments holds 3 ms + fraud (2 x 0.5 + 5 ms) + saga (2 x 0.5 + 270 ms) = 280 ms:
--     224 of 4 x 96 = 384 (~0.58).
--   gateway: 800 x (1 + 2 x 0.5 + 280) ms = 226 of 2 x 256 (~0.44).
--   fraud: 800 x 5 ms = 4 of 2 x 8 (~0.25).
--   ledger: 800 reservations + 8 releases = 808/s x 4 ms = 3.2 of 16 on the primary (~0.20).
--   orders: 792 x 3 ms = 2.4 of 2 x 8 (~0.15).
--   receipts: 792 msgs/s, a consumer holds 1 ms + the mailer call (2 x 2 ms + ~100 ms) =
--     105 ms -> 83 of 160 consumers (~0.52); mailer: a provider (delay station).
-- Costs per replica-hour: gateway $0.10, payments and saga $0.17, fraud $0.34 (a model on
-- CPU), ledger $0.96 (a large primary), orders $0.085, queue $0.05: about $2,500 a month.
return {
    version = 1,
    name = "payments_saga",
    description = "Checkout payments as an orchestrated saga (reserve funds, charge the card, "
        .. "record the order) with compensation when the charge fails.",
    components = {
        { id = "shoppers", type = "client", x = 60, y = 220 },
        { id = "gateway", type = "api_gateway", replicas = 2, x = 220, y = 220,
          params = { workers = 256, rate_limit = { rps = 3000 } } },
        { id = "payments", type = "service", replicas = 4, x = 400, y = 220,
          params = { workers = 96, queue = 500, service_time = { dist = "exp", mean_ms = 3 } } },
        { id = "fraud", type = "service", replicas = 2, x = 580, y = 100,
          params = { workers = 8, service_time = { dist = "exp", mean_ms = 5 },
                     cost_per_hour = 0.34 } },
        { id = "saga", type = "saga", replicas = 4, x = 580, y = 300,
          params = { workers = 72, compensation_attempts = 5, compensation_backoff_ms = 200 } },
        { id = "ledger", type = "database", x = 800, y = 180,
          params = { workers = 16, read_ratio = 0, cost_per_hour = 0.96,
                     service_time = { dist = "lognormal", mean_ms = 4, scv = 1 } } },
        { id = "card_network", type = "external_api", x = 800, y = 300,
          params = { service_time = { dist = "lognormal", mean_ms = 250, scv = 1.5 },
                     error_rate = 0.01 } },
        { id = "orders", type = "service", replicas = 2, x = 800, y = 420,
          params = { workers = 8, service_time = { dist = "exp", mean_ms = 3 },
                     cost_per_hour = 0.085 } },
        { id = "receipts", type = "queue", x = 1000, y = 420,
          params = { workers = 160, service_time = { dist = "const", mean_ms = 1 } } },
        { id = "mailer", type = "external_api", x = 1180, y = 420,
          params = { service_time = { dist = "lognormal", mean_ms = 100, scv = 1 } } },
    },
    edges = {
        { from = "shoppers", to = "gateway", latency_ms = 40 },
        { from = "gateway", to = "payments", latency_ms = 0.5, timeout_ms = 10000 },
        { from = "payments", to = "fraud", latency_ms = 0.5, timeout_ms = 100, retries = 1 },
        { from = "payments", to = "saga", latency_ms = 0.5, timeout_ms = 10000 },
        -- The saga's steps, in order: its call edges.
        { from = "saga", to = "ledger", latency_ms = 0.5, timeout_ms = 500, retries = 2,
          backoff_ms = { base = 10, max = 100 }, jitter = true },
        { from = "saga", to = "card_network", latency_ms = 5, timeout_ms = 3000 },
        { from = "saga", to = "orders", latency_ms = 0.5, timeout_ms = 500, retries = 2 },
        { from = "orders", to = "receipts", mode = "async", latency_ms = 0.5 },
        { from = "receipts", to = "mailer", latency_ms = 2, timeout_ms = 5000, retries = 3,
          backoff_ms = { base = 500, max = 5000 }, jitter = true },
    },
    workload = { { to = "shoppers", rps = 800, keys = 1000000, label = "checkouts" } },
    slo = { p99_ms = 2500, error_rate = 0.02 },
}
