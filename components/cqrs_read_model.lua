-- The read side of CQRS: a denormalized view that answers queries and is kept up to date by
-- the write side's events. Events are the asynchronous copies that reach it (connect the
-- write side, or a stream or queue consumer, with an `async` edge); everything else (calls,
-- forwards, workload requests) is a query. Both share the workers: applying events is load
-- too, and while events wait behind queries the view lags behind the writes.
return {
    name = "cqrs_read_model",
    label = "CQRS read model",
    category = "coordination",
    icon = "book-open",
    description = "A query-side view fed by events (async edges into it): events are applied "
        .. "(apply_time), queries answered (query_time); both share the workers.",
    defaults = { replicas = 2 },
    params = {
        workers = std.param("workers", { default = 8 }),
        queue = std.param("queue"),
        service_time = std.param("service_time", { default = { dist = "exp", mean_ms = 2 },
            help = "for the analytic prediction: a typical request (queries dominate)" }),
        query_time = { type = "dist", default = { dist = "exp", mean_ms = 2 },
            help = "time to answer one query from the view" },
        apply_time = { type = "dist", default = { dist = "exp", mean_ms = 0.5 },
            help = "time to apply one event to the view" },
        policy = std.param("policy"),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.2 }),
    },
    behavior = function(req, ctx)
        if req.kind == "copy" then
            ctx:work(ctx.params.apply_time)
        else
            ctx:work(ctx.params.query_time)
        end
        return ctx:answer()
    end,
}
