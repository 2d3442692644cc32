-- A consensus cluster (Raft-like) written in Lua (docs/plugin-api.md). Replica `leader` takes
-- the writes; every request is a write that needs the leader and a quorum of live replicas.
-- A heartbeat timer notices when the leader's replica is down and starts an election that
-- lasts election_timeout_ms; writes during the election (or without a quorum) fail with
-- "no leader" / "no quorum". Then the first live replica leads and writes succeed again.
-- Reads (probability read_ratio) are served by any live replica without the leader.
return {
    name = "consensus",
    label = "Consensus cluster",
    category = "storage",
    icon = "vote",
    description = "A Raft-like replicated store: writes go through the leader and need a "
        .. "quorum; when the leader's replica crashes, an election (election_timeout_ms) "
        .. "rejects writes until a new leader is chosen.",
    defaults = { replicas = 3 },
    params = {
        election_timeout_ms = { type = "number", default = 300, min = 1, max = 600000,
                                unit = "ms", help = "how long an election lasts" },
        heartbeat_ms = { type = "number", default = 50, min = 1, max = 60000, unit = "ms",
                         help = "how often the followers check on the leader" },
        replication_ms = { type = "dist", default = { dist = "exp", mean_ms = 1 },
                           help = "leader to quorum round trip for a write" },
        read_ratio = std.param("read_ratio", { default = 0 }),
        workers = std.param("workers", { default = 8 }),
        queue = std.param("queue"),
        service_time = std.param("service_time", { default = { dist = "exp", mean_ms = 0.5 } }),
        cost_per_hour = std.param("cost_per_hour", { default = 0.3 }),
    },
    init = function(ctx)
        local s, p = ctx.state, ctx.params
        s.leader, s.electing, s.term, s.elections = 0, false, 1, 0
        local function elect()
            for i = 0, ctx.replicas - 1 do
                if ctx:replica_up(i) then
                    s.leader, s.term, s.electing = i, s.term + 1, false
                    return
                end
            end
            ctx:after(p.election_timeout_ms, elect) -- nobody is up: try again later
        end
        local function heartbeat()
            if not s.electing and not ctx:replica_up(s.leader) then
                s.electing, s.elections = true, s.elections + 1
                ctx:after(p.election_timeout_ms, elect)
            end
            ctx:after(p.heartbeat_ms, heartbeat)
        end
        ctx:after(p.heartbeat_ms, heartbeat)
    end,
    behavior = function(req, ctx)
        local s, p = ctx.state, ctx.params
        ctx:work()
        if ctx:random() < p.read_ratio then return ctx:answer() end
        if s.electing or not ctx:replica_up(s.leader) then return ctx:fail("no leader") end
        if ctx:replicas_up() * 2 <= ctx.replicas then return ctx:fail("no quorum") end
        ctx:work(p.replication_ms)
        return ctx:answer()
    end,
}
