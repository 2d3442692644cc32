-- A burst of traffic (a sale, a push notification, a retry wave from clients): every open
-- workload source sends factor times its rate for a while. Expressed as extra sources with
-- a steps pattern, so it adds to whatever pattern the design's sources already follow.
return {
    name = "traffic_spike",
    title = "Traffic spike",
    description = "Every open workload source sends factor (default 3) times its rate for a "
        .. "while.",
    params = {
        factor = { type = "number", min = 1, max = 1000, default = 3,
                   help = "the load multiplier during the spike" },
        to = { type = "string", help = "only the sources into this component (default: all)" },
        at_s = { type = "number", min = 0,
                 help = "when it starts, s (default: a third of the run)" },
        for_s = { type = "number", min = 0,
                  help = "how long it lasts, s (default: a third of the run; 0 = to the end)" },
    },
    build = function(design, s, p)
        local at, dur = s.window(p.at_s, p.for_s)
        s.at(at, s.spike(p.factor, { for_s = dur, to = p.to }))
    end,
}
