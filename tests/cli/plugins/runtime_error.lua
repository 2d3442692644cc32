return {
    name = "runtime_error", label = "Oops", category = "compute", icon = "server",
    description = "calls what does not exist",
    params = {},
    behavior = function(req, ctx)
        ctx:work(1)
        return ctx:no_such_method()
    end,
}
