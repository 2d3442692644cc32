-- A search index: the engine's database behaviour fits it -- indexing writes go to the
-- primary copy (replica 0), queries spread over every copy. Query times are heavy-tailed.
return {
    name = "search_index",
    label = "Search index",
    category = "storage",
    icon = "search",
    description = "A search engine (Elasticsearch, OpenSearch): queries (read_ratio) spread over "
        .. "the replica copies, indexing writes go to the primary; heavy-tailed query times.",
    behavior = "database",
    defaults = { replicas = 2 },
    params = {
        workers = std.param("workers", { default = 8, help = "search threads per replica" }),
        queue = std.param("queue", { default = 1000,
            help = "search queue per replica (Elasticsearch's default is 1000)" }),
        service_time = std.param("service_time",
            { default = { dist = "lognormal", mean_ms = 15, scv = 2 },
              help = "query (or indexing) time" }),
        read_ratio = std.param("read_ratio", { default = 0.95,
            help = "share of requests that are queries; the rest are indexing writes" }),
        policy = std.param("policy"),
        fanout = std.param("fanout"),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.6 }),
        shed = std.param("shed"),
    },
}
