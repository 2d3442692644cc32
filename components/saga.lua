-- A saga coordinator (orchestration): each request is a business transaction made of local
-- steps, one per outgoing call edge, called in design order. When a step fails (its call
-- fails after the edge's timeout and retries), the steps already done are compensated in
-- reverse order -- a compensation is another call on that step's edge (the service's undo
-- operation, same cost) -- and the saga answers with an error. A compensation that fails is
-- retried after compensation_backoff_ms, up to compensation_attempts times; a saga whose
-- compensation never succeeds fails as "stuck" (it would need a human).
return {
    name = "saga",
    label = "Saga coordinator",
    category = "coordination",
    icon = "git-branch",
    description = "Runs a transaction as local steps (its outgoing call edges, in order); on a "
        .. "failed step it compensates the steps done, in reverse, and answers with an error.",
    defaults = { replicas = 2 },
    params = {
        workers = std.param("workers", { default = 32, help = "sagas in flight per replica" }),
        queue = std.param("queue"),
        service_time = std.param("service_time", { default = { dist = "exp", mean_ms = 1 },
            help = "writing the saga log before the first step" }),
        compensation_attempts = { type = "int", default = 5, min = 1, max = 100,
            help = "tries of each compensation before the saga is stuck" },
        compensation_backoff_ms = { type = "number", default = 100, min = 0, max = 1e7,
            unit = "ms", help = "wait between tries of a compensation" },
        policy = std.param("policy"),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.17 }),
    },
    init = function(ctx)
        local steps = {}
        for i, e in ipairs(ctx.edges) do
            if e.mode == "call" then steps[#steps + 1] = i end
        end
        ctx.state.steps = steps
    end,
    behavior = function(req, ctx)
        local steps, p = ctx.state.steps, ctx.params
        ctx:work()
        for i = 1, #steps do
            if not ctx:call(steps[i]) then
                for j = i - 1, 1, -1 do
                    local undone = false
                    for _ = 1, p.compensation_attempts do
                        if ctx:call(steps[j]) then undone = true; break end
                        ctx:sleep(p.compensation_backoff_ms)
                    end
                    if not undone then return ctx:fail("saga stuck: a compensation failed") end
                end
                return ctx:fail("saga compensated")
            end
        end
        return ctx:answer()
    end,
}
