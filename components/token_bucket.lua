-- A rate limiter written in Lua (docs/plugin-api.md): a token bucket refilled continuously at
-- rate_rps up to burst. A request that finds a token goes on along the first outgoing edge
-- (a forward, so the limiter adds only its own small service time); the others fail at once
-- with "rate limited", which the caller sees as a failed call.
return {
    name = "token_bucket",
    label = "Token bucket",
    category = "resilience",
    icon = "filter",
    description = "A token-bucket rate limiter written in Lua: admits rate_rps requests per "
        .. "second with bursts up to burst and passes them on along its first edge; the rest "
        .. "fail with 'rate limited'.",
    defaults = { replicas = 1 },
    params = {
        rate_rps = { type = "number", default = 100, min = 0, exclusive_min = true,
                     max = 10000000, unit = "1/s", help = "tokens added per second" },
        burst = { type = "number", default = 10, min = 1, max = 1e9, unit = "requests",
                  help = "bucket size: the largest burst admitted at once" },
        workers = std.param("workers", { default = 0 }),
        service_time = std.param("service_time", { default = { dist = "const", mean_ms = 0.05 } }),
        cost_per_hour = std.param("cost_per_hour", { default = 0.05 }),
    },
    init = function(ctx)
        ctx.state.tokens, ctx.state.t = ctx.params.burst, 0
    end,
    behavior = function(req, ctx)
        local s, p = ctx.state, ctx.params
        local now = ctx:now()
        local tokens = s.tokens + (now - s.t) * p.rate_rps / 1000
        s.t = now
        if tokens > p.burst then tokens = p.burst end
        if tokens < 1 then
            s.tokens = tokens
            return ctx:fail("rate limited")
        end
        s.tokens = tokens - 1
        ctx:work()
        if ctx.edges[1] then return ctx:forward() end
        return ctx:answer()
    end,
}
