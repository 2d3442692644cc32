-- Read replicas of a database, with replication lag. Each request is a read with probability
-- read_ratio, served by the replica it reached; a write is forwarded to the primary (the
-- first outgoing edge: a `database` or `service` component), and the replicas see it only
-- after a replication lag (exponential, mean lag_ms). A read of a key whose latest write has
-- not yet reached the replicas is stale; stale_reads says what happens to it:
--   serve   -- answered anyway (stale data; nothing in the figures shows it),
--   wait    -- waits for the replica to catch up (causal reads: shows in latency),
--   primary -- is forwarded to the primary (shows in the primary's load),
--   fail    -- fails (the caller may retry).
-- Keys are the workload's request keys, tracked in 65,536 slots (key mod 65,536): keys that
-- share a slot look written together, which can only make more reads stale.
local SLOTS = 65536

return {
    name = "read_replicas",
    label = "Read replicas (replication lag)",
    category = "storage",
    icon = "copy",
    description = "Database read replicas: reads served here, writes forwarded to the primary "
        .. "(first outgoing edge) and replicated after a lag; stale reads wait, go to the "
        .. "primary, fail or are served.",
    defaults = { replicas = 2 },
    params = {
        workers = std.param("workers", { default = 16, help = "concurrent reads per replica" }),
        queue = std.param("queue"),
        service_time = std.param("service_time",
            { default = { dist = "lognormal", mean_ms = 4, scv = 1 }, help = "one read" }),
        read_ratio = std.param("read_ratio", { default = 0.9 }),
        lag_ms = { type = "number", default = 100, min = 0, max = 1e7, unit = "ms",
            help = "mean replication lag (exponential)" },
        stale_reads = { type = "enum", values = { "serve", "wait", "primary", "fail" },
            default = "wait", help = "what a read of a not yet replicated write does" },
        policy = std.param("policy"),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.48 }),
    },
    init = function(ctx)
        ctx.state.visible = {} -- slot -> time (ms) the latest write to it reaches the replicas
    end,
    behavior = function(req, ctx)
        local p, visible = ctx.params, ctx.state.visible
        local slot = req.key % SLOTS
        local now = ctx:now()
        if ctx:random() >= p.read_ratio then
            local at = now + (p.lag_ms > 0 and -p.lag_ms * math.log(1 - ctx:random()) or 0)
            if at > (visible[slot] or 0) then visible[slot] = at end
            return ctx:forward(1)
        end
        local until_ms = visible[slot]
        if until_ms and until_ms > now then
            local mode = p.stale_reads
            if mode == "primary" then return ctx:forward(1) end
            if mode == "fail" then return ctx:fail("stale read") end
            if mode == "wait" then ctx:sleep(until_ms - now) end
        end
        ctx:work()
        return ctx:answer()
    end,
}
