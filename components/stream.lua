-- A partitioned log with one consumer group: each replica is a partition, a message goes to
-- the partition of its key (consistent hashing), and each partition has `workers` consumers
-- of the group (1 in Kafka: a partition is read by one consumer of a group, in order).
-- Producers are acknowledged once the message is appended.
return {
    name = "stream",
    label = "Stream",
    category = "messaging",
    icon = "layers",
    description = "A partitioned log (Kafka, Kinesis): replicas are partitions chosen by key; "
        .. "one consumer per partition processes in order and follows the outgoing edges.",
    behavior = "queue",
    defaults = { replicas = 6 },
    params = {
        workers = std.param("workers", { default = 1,
            help = "consumers of the group per partition (Kafka: 1)" }),
        queue = std.param("queue", { help = "retained messages per partition; absent = unbounded" }),
        service_time = std.param("service_time", { default = { dist = "exp", mean_ms = 5 },
            help = "a consumer's time per message" }),
        policy = std.param("policy", { default = "consistent_hash",
            help = "how messages are spread over partitions: consistent_hash = by key" }),
        fanout = std.param("fanout"),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.03, help = "per partition" }),
    },
}
