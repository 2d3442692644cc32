-- category: finance
-- title: Banking ledger
-- Banking ledger: 300 transfers and 4,000 balance queries per second.
--
-- A transfer between the two ledger regions is one atomic transaction: the transfers
-- service asks a two-phase commit coordinator, which prepares and then commits on both ledger
-- databases (each sees two requests per transfer). Committed transfers are published as
-- events on a stream; its consumers feed the statements view (the CQRS read model), which
-- answers balance queries. Customer profiles live in a database with lagging read replicas:
-- a profile read of a customer written less than the lag ago waits for the replica.
-- The balance API is the busiest component:
--   balances holds 1 ms + the view (2 x 0.3 + ~1 ms) = 2.6 ms: 4,000 x 2.6 ms = 10.4 busy
--     workers of 2 x 7 = 14 -> ~0.74.
--   statements: 4,000 queries x 1 ms + 300 events x 0.5 ms = 4.15 of 2 x 8 (~0.26).
--   transfers holds 2 ms + 2PC (2 x 0.5 + ~12 ms: a begin and a decision log of 1 ms, two
--     rounds each waiting for the slower of two 2 x 0.5 + ~3 ms ledger calls) ~= 15 ms:
--     300 x 15 ms = 4.5 of 2 x 8 (~0.28).
--   two_pc: 300 x ~12 ms = 3.6 of 2 x 16 (~0.11; the analytic pass counts each edge once:
--     ~0.08).
--   ledger_east / ledger_west: 600 requests/s x 3 ms = 1.8 of 16 (~0.11).
--   events stream: 300 msgs/s x 1 ms over 4 partitions (~0.08).
--   profiles (read replicas): 500 rps, 5 % writes forwarded to profiles_db (25/s on 25,000
--     customers: a read is stale with probability 1 - exp(-0.001 x 0.2) ~ 0); 475 reads x
--     4 ms = 1.9 of 2 x 8 (~0.12).
-- Costs per replica-hour: services $0.17, coordinator $0.17, ledgers $0.96, partitions
-- $0.03, view $0.20, replicas and primary $0.48: about $3,600 a month.
return {
    version = 1,
    name = "banking_ledger",
    description = "Transfers as two-phase commits across two ledgers, events on a stream into "
        .. "a CQRS statements view for balance queries, profiles on lagging read replicas.",
    components = {
        { id = "customers", type = "client", x = 60, y = 120 },
        { id = "transfers", type = "service", replicas = 2, x = 240, y = 120,
          params = { workers = 8, service_time = { dist = "exp", mean_ms = 2 } } },
        { id = "two_pc", type = "two_phase_commit", replicas = 2, x = 440, y = 120,
          params = { workers = 16 } },
        { id = "ledger_east", type = "database", x = 660, y = 60,
          params = { workers = 16, read_ratio = 0, cost_per_hour = 0.96,
                     service_time = { dist = "lognormal", mean_ms = 3, scv = 1 } } },
        { id = "ledger_west", type = "database", x = 660, y = 180,
          params = { workers = 16, read_ratio = 0, cost_per_hour = 0.96,
                     service_time = { dist = "lognormal", mean_ms = 3, scv = 1 } } },
        { id = "events", type = "stream", replicas = 4, x = 440, y = 280,
          params = { service_time = { dist = "exp", mean_ms = 1 } } },
        { id = "statements", type = "cqrs_read_model", replicas = 2, x = 660, y = 340,
          params = { workers = 8, service_time = { dist = "exp", mean_ms = 1 },
                     query_time = { dist = "exp", mean_ms = 1 },
                     apply_time = { dist = "exp", mean_ms = 0.5 } } },
        { id = "apps", type = "client", x = 60, y = 400 },
        { id = "balances", type = "service", replicas = 2, x = 240, y = 400,
          params = { workers = 7, queue = 500, service_time = { dist = "exp", mean_ms = 1 } } },
        { id = "profile_readers", type = "client", x = 60, y = 540 },
        { id = "profiles", type = "read_replicas", replicas = 2, x = 240, y = 540,
          params = { workers = 8, read_ratio = 0.95, lag_ms = 200, stale_reads = "wait" } },
        { id = "profiles_db", type = "database", x = 440, y = 540,
          params = { workers = 8, read_ratio = 0 } },
    },
    edges = {
        { from = "customers", to = "transfers", latency_ms = 30 },
        { from = "transfers", to = "two_pc", latency_ms = 0.5, timeout_ms = 2000 },
        { from = "two_pc", to = "ledger_east", latency_ms = 0.5, timeout_ms = 500 },
        { from = "two_pc", to = "ledger_west", latency_ms = 0.5, timeout_ms = 500 },
        { from = "transfers", to = "events", mode = "async", latency_ms = 0.5 },
        { from = "events", to = "statements", mode = "async", latency_ms = 0.5 },
        { from = "apps", to = "balances", latency_ms = 30 },
        { from = "balances", to = "statements", latency_ms = 0.3, timeout_ms = 200, retries = 1 },
        { from = "profile_readers", to = "profiles", latency_ms = 30 },
        -- p is not drawn for a Lua behaviour (read_replicas forwards its writes itself); it tells
        -- the analytic pass the share forwarded: the 5 % writes.
        { from = "profiles", to = "profiles_db", mode = "forward", p = 0.05, latency_ms = 0.5 },
    },
    workload = {
        { to = "customers", rps = 300, keys = 1000000, label = "transfers" },
        { to = "apps", rps = 4000, keys = 1000000, label = "balance queries" },
        { to = "profile_readers", rps = 500, keys = 25000, label = "profile reads and edits" },
    },
    slo = { p99_ms = 300, error_rate = 0.001 },
}
