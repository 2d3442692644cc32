return {
    name = "good_echo", label = "Echo", category = "compute", icon = "server",
    description = "works then answers",
    params = { workers = std.param("workers", { default = 2 }),
               service_time = std.param("service_time", { default = { dist = "exp", mean_ms = 2 } }) },
    behavior = function(req, ctx)
        ctx:work()
        return ctx:answer()
    end,
}
