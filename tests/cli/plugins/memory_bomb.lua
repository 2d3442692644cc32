return {
    name = "memory_bomb", label = "Bomb", category = "compute", icon = "server",
    description = "grows a table without end",
    params = {},
    behavior = function(req, ctx)
        local t = {}
        for i = 1, 1e12 do t[i] = string.rep("x", 64) .. i end
    end,
}
