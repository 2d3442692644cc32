-- A retry storm: a dependency slows down, its callers time out and retry at once, with no
-- retry budget and no breaker to hold them back, so the dependency receives several times
-- its normal load exactly when it can least take it (a metastable failure: it may not
-- recover after the slowdown ends).
local function default_target(s)
    if #s.components({ type = "database" }) > 0 then
        return s.pick(nil, { type = "database" }, "database")
    end
    local calls = s.edges({ mode = "call" })
    if #calls == 0 then error("design '" .. s.name .. "' has no call edge to storm") end
    s.note("picked " .. calls[1].to .. ": the callee of the first call edge")
    return calls[1].to
end

return {
    name = "retry_storm",
    title = "Retry storm",
    description = "A dependency (default: the first database) slows down while every call "
        .. "into it has a short timeout and aggressive retries without budget or breaker.",
    params = {
        target = { type = "string", help = "the dependency (default: the first database)" },
        factor = { type = "number", min = 0.001, max = 1000, default = 2.5,
                   help = "its services take this many times longer during the slowdown" },
        retries = { type = "int", min = 0, max = 100, default = 4,
                    help = "retries on every call edge into it (no budget, 1-10 ms backoff)" },
        timeout_ms = { type = "number", min = 0.001,
                       help = "timeout of those calls, ms (default: theirs, at most 100)" },
        keep_breaker = { type = "bool", default = false, help = "keep the edges' breakers" },
        at_s = { type = "number", min = 0,
                 help = "when it slows down, s (default: a third of the run)" },
        for_s = { type = "number", min = 0,
                  help = "how long the slowdown lasts, s (default: a third of the run)" },
    },
    build = function(design, s, p)
        local target = p.target and s.pick(p.target) or default_target(s)
        local calls = s.callers(target)
        if #calls == 0 then
            error("nothing calls '" .. target .. "' (no call edge into it): no retries to storm")
        end
        for _, e in ipairs(calls) do
            local timeout = p.timeout_ms
            if not timeout then
                timeout = (e.timeout_ms and e.timeout_ms > 0) and math.min(e.timeout_ms, 100) or 100
            end
            s.resilience(e.name, { timeout_ms = timeout, retries = p.retries, retry_budget = 0,
                                   backoff_ms = { base = 1, max = 10 }, jitter = false,
                                   breaker = p.keep_breaker and nil or false })
        end
        local at, dur = s.window(p.at_s, p.for_s)
        s.at(at, s.slow(target, { factor = p.factor, for_s = dur }))
    end,
}
