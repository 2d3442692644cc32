-- A slow downstream holds its callers' workers: a call edge keeps the caller's worker busy
-- until the callee answers, so when the callee slows down the callers' worker pools fill
-- with waiting calls, their queues grow, and requests that never touch the slow component
-- wait too.
local function default_target(s)
    for _, db in ipairs(s.components({ type = "database" })) do
        if #s.callers(db.id) > 0 then
            s.note("picked " .. db.id .. ": the first database something calls")
            return db.id
        end
    end
    local calls = s.edges({ mode = "call" })
    if #calls == 0 then error("design '" .. s.name .. "' has no call edge: no caller to block") end
    s.note("picked " .. calls[1].to .. ": the callee of the first call edge")
    return calls[1].to
end

return {
    name = "thread_pool_exhaustion",
    title = "Thread pool exhaustion",
    description = "A callee (default: the first database something calls) slows down by "
        .. "+200 ms; its callers' workers block on the calls and their pools run dry.",
    params = {
        target = { type = "string", help = "the slow callee (default: the first called database)" },
        ms = { type = "number", min = 0, default = 200,
               help = "added to each of its services, ms" },
        at_s = { type = "number", min = 0,
                 help = "when it starts, s (default: a third of the run)" },
        for_s = { type = "number", min = 0,
                  help = "how long it lasts, s (default: a third of the run; 0 = to the end)" },
    },
    build = function(design, s, p)
        local target = p.target and s.pick(p.target) or default_target(s)
        local calls = s.callers(target)
        if #calls == 0 then
            error("nothing calls '" .. target .. "' (no call edge into it): no worker to hold")
        end
        local at, dur = s.window(p.at_s, p.for_s)
        s.at(at, s.slow(target, { ms = p.ms, for_s = dur }))
        local who = {}
        for _, e in ipairs(calls) do who[#who + 1] = e.from end
        s.note("holds the workers of " .. table.concat(who, ", "))
    end,
}
