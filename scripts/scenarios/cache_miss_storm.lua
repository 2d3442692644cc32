-- The cache stops hitting (a cold restart, an eviction storm, a key-space change): misses
-- pass through to whatever is behind it, usually a database sized for the hit ratio.
return {
    name = "cache_miss_storm",
    title = "Cache miss storm",
    description = "A cache's hit ratio drops (default to 0.1) for a while; its misses flood "
        .. "what is behind it.",
    params = {
        target = { type = "string", help = "the cache (default: the first of type cache)" },
        ratio = { type = "number", min = 0, max = 1, default = 0.1,
                  help = "the hit ratio meanwhile" },
        at_s = { type = "number", min = 0,
                 help = "when it starts, s (default: a third of the run)" },
        for_s = { type = "number", min = 0,
                  help = "how long it lasts, s (default: a third of the run; 0 = to the end)" },
    },
    build = function(design, s, p)
        local cache = s.pick(p.target, { behavior = "cache" }, "cache")
        local at, dur = s.window(p.at_s, p.for_s)
        s.at(at, s.hit_ratio(cache, p.ratio, { for_s = dur }))
        local behind = {}
        for _, e in ipairs(s.edges({ from = cache })) do behind[#behind + 1] = e.to end
        if #behind > 0 then s.note("misses go on to " .. table.concat(behind, ", ")) end
    end,
}
