-- The benchmark's Lua behaviour (tests/bench/bench_lua.c): one service_time sample of work,
-- then on along the first outgoing edge if there is one (a tandem), else answer.
return {
    name = "lua_worker",
    label = "Lua worker (benchmark)",
    category = "compute",
    icon = "server",
    description = "Works one service_time sample, then forwards along its first edge or answers.",
    params = {},
    behavior = function(req, ctx)
        ctx:work()
        if ctx.edges[1] then return ctx:forward() end
    end,
}
