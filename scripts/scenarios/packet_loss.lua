-- A lossy link: a share of the requests sent over one edge is lost. A lost call fails (at
-- once, or when its timeout fires), and the caller retries or fails.
local function default_edge(s)
    for _, db in ipairs(s.components({ type = "database" })) do
        local calls = s.callers(db.id)
        if #calls > 0 then
            s.note("picked " .. calls[1].name .. ": the first call edge into a database")
            return calls[1].name
        end
    end
    return s.pick_edge(nil, { mode = "call" }, "call edge")
end

return {
    name = "packet_loss",
    title = "Packet loss",
    description = "An edge (default: the first call edge into a database) loses a share of "
        .. "its requests (default 10 %) for a while.",
    params = {
        target = { type = "string", help = "the edge, FROM->TO (default: the first call edge "
                   .. "into a database)" },
        rate = { type = "number", min = 0, max = 1, default = 0.1, help = "the share lost" },
        at_s = { type = "number", min = 0,
                 help = "when it starts, s (default: a third of the run)" },
        for_s = { type = "number", min = 0,
                  help = "how long it lasts, s (default: a third of the run; 0 = to the end)" },
    },
    build = function(design, s, p)
        local edge = p.target and s.pick_edge(p.target) or default_edge(s)
        local at, dur = s.window(p.at_s, p.for_s)
        s.at(at, s.loss(edge, p.rate, { for_s = dur }))
    end,
}
