-- A dependency gets slower (a noisy neighbour, a slow disk, a bad deploy): each of its
-- services takes longer, by a fixed amount or a factor. Watch the callers' latency grow.
local function default_target(s)
    if #s.components({ type = "database" }) > 0 then
        return s.pick(nil, { type = "database" }, "database")
    end
    local calls = s.edges({ mode = "call" })
    if #calls == 0 then error("design '" .. s.name .. "' has no database and no call edge: "
                              .. "name the component with --scenario-param target=ID") end
    s.note("picked " .. calls[1].to .. ": the callee of the first call edge")
    return calls[1].to
end

return {
    name = "dependency_slowdown",
    title = "Dependency slowdown",
    description = "A dependency (default: the first database) serves more slowly for a while: "
        .. "+ms on each service, or x factor.",
    params = {
        target = { type = "string", help = "the slow component (default: the first database)" },
        ms = { type = "number", min = 0, help = "added to each service, ms (default 50)" },
        factor = { type = "number", min = 0.001, max = 1000,
                   help = "multiplies each service instead of ms" },
        at_s = { type = "number", min = 0,
                 help = "when it starts, s (default: a third of the run)" },
        for_s = { type = "number", min = 0,
                  help = "how long it lasts, s (default: a third of the run; 0 = to the end)" },
    },
    build = function(design, s, p)
        local target = p.target and s.pick(p.target) or default_target(s)
        local at, dur = s.window(p.at_s, p.for_s)
        local how = p.factor and { factor = p.factor } or { ms = p.ms or 50 }
        how.for_s = dur
        s.at(at, s.slow(target, how))
    end,
}
