-- A message queue with its consumers: a request is acknowledged as soon as it is enqueued,
-- and the workers (consumers) take it from there, then follow the outgoing edges.
return {
    name = "queue",
    label = "Queue",
    category = "messaging",
    icon = "inbox",
    description = "A message queue (SQS, Kafka, RabbitMQ) and its consumers: senders get an "
        .. "acknowledgement at once; workers are the consumers; a full queue drops.",
    behavior = "queue",
    defaults = { replicas = 1 },
    params = {
        workers = std.param("workers", { default = 4, help = "consumers per replica" }),
        queue = std.param("queue", { help = "messages held per replica; absent = unbounded" }),
        service_time = std.param("service_time", { default = { dist = "exp", mean_ms = 20 },
            help = "time a consumer spends on one message" }),
        policy = std.param("policy"),
        fanout = std.param("fanout"),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.05 }),
        autoscale = std.param("autoscale"),
    },
}
