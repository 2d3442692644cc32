-- The database primary (replica 0) crashes and comes back: writes, which only the primary
-- takes, fail meanwhile; reads spread over the replicas still up. Watch errors at the
-- database, timeouts and retries on the calls into it, and the breakers.
return {
    name = "db_failover",
    title = "Database failover",
    description = "Crash the primary (replica 0) of a database for a while; writes fail, "
        .. "reads fail over to the other replicas.",
    params = {
        target = { type = "string", help = "the database (default: the first of type database)" },
        at_s = { type = "number", min = 0,
                 help = "when it crashes, s (default: a third of the run)" },
        for_s = { type = "number", min = 0,
                  help = "how long it stays down, s (default: a third of the run; 0 = for good)" },
        replica = { type = "int", min = 0, default = 0, help = "the replica that crashes" },
    },
    build = function(design, s, p)
        local db = s.pick(p.target, { type = "database" }, "database")
        local at, dur = s.window(p.at_s, p.for_s)
        s.at(at, s.crash(db, { for_s = dur, replica = p.replica }))
    end,
}
