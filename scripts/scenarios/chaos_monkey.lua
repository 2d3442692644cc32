-- Replicas crash at random, like Netflix's Chaos Monkey, but reproducibly: the crash times
-- (a Poisson process), the victims and their replicas all follow from the seed, and end up
-- as ordinary crash faults in the design's scenario array.
return {
    name = "chaos_monkey",
    title = "Chaos monkey",
    description = "Seeded random replica crashes over the whole run (the same seed gives the "
        .. "same crashes); a component's last replica up is spared.",
    params = {
        seed = { type = "int", min = 0, default = 1, help = "the chaos seed" },
        mean_interval_s = { type = "number", min = 0.001,
                            help = "mean time between crashes, s (default: a tenth of the run)" },
        down_s = { type = "number", min = 0.001,
                   help = "how long a crashed replica stays down, s (default: a tenth of "
                       .. "the run)" },
        targets = { type = "list",
                    help = "comma-separated component ids (default: every replicated component)" },
        at_s = { type = "number", min = 0, default = 0, help = "when the chaos starts, s" },
    },
    build = function(design, s, p)
        local tenth = s.duration / 10
        s.at(p.at_s, s.chaos({ seed = p.seed, mean_interval_s = p.mean_interval_s or tenth,
                               down_s = p.down_s or tenth, targets = p.targets }))
    end,
}
