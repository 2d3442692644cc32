-- The load grows steadily until something gives: every open source ramps linearly to
-- to_factor times its rate. Read the windows (or p99 and errors) to see where the design
-- stops keeping up; `sdsim analyze` names the component that saturates first.
return {
    name = "ramp_to_saturation",
    title = "Ramp to saturation",
    description = "Every open workload source ramps linearly to to_factor (default 2) times "
        .. "its rate, from 10 % of the run over the next 80 %.",
    params = {
        to_factor = { type = "number", min = 1, max = 1000, default = 2,
                      help = "the load multiplier reached at the end of the ramp" },
        to = { type = "string", help = "only the sources into this component (default: all)" },
        at_s = { type = "number", min = 0,
                 help = "when the ramp starts, s (default: 10 % of the run)" },
        over_s = { type = "number", min = 0.001,
                   help = "how long it takes, s (default: 80 % of the run)" },
    },
    build = function(design, s, p)
        s.ramp({ to_factor = p.to_factor, to = p.to, at_s = p.at_s or s.duration * 0.1,
                 over_s = p.over_s or s.duration * 0.8 })
    end,
}
