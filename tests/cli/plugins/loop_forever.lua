return {
    name = "loop_forever", label = "Loop", category = "compute", icon = "server",
    description = "spins in its behaviour",
    params = {},
    behavior = function(req, ctx)
        local x = 0
        while true do x = x + 1 end
    end,
}
