-- A pub/sub topic: the publisher is acknowledged as soon as the message is stored; delivery
-- workers then push it to every subscription at once (fanout = "all": each outgoing call
-- edge is one subscription, and the delivery waits for all of them to acknowledge).
return {
    name = "pubsub",
    label = "Pub/sub topic",
    category = "messaging",
    icon = "radio",
    description = "A topic (SNS, Google Pub/Sub): publishers get an ack at once; each message is "
        .. "pushed to every subscription (outgoing call edges) in parallel.",
    behavior = "queue",
    defaults = { replicas = 1 },
    params = {
        workers = std.param("workers", { default = 32,
            help = "concurrent deliveries per replica" }),
        queue = std.param("queue", { help = "messages held per replica; absent = unbounded" }),
        service_time = std.param("service_time", { default = { dist = "const", mean_ms = 1 },
            help = "per-message handling before the pushes" }),
        policy = std.param("policy"),
        fanout = std.param("fanout", { default = "all",
            help = "all: push to every subscription at once; sequential: one after another" }),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.05 }),
        autoscale = std.param("autoscale"),
    },
}
