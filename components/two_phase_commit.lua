-- A two-phase commit coordinator: its participants are its outgoing call edges. Phase 1
-- asks every participant to prepare, at once (a call to each, waiting for all votes); if any
-- vote fails (the participant is down, errs, or times out) the coordinator sends abort to
-- all and the transaction fails. Otherwise it logs the decision and sends commit to all, at
-- once, retrying after commit_backoff_ms until every participant acknowledged (a prepared
-- participant must commit); after commit_attempts the transaction is left in doubt (an error).
-- A participant sees two requests per transaction (prepare, then commit or abort).
return {
    name = "two_phase_commit",
    label = "Two-phase commit",
    category = "coordination",
    icon = "check-check",
    description = "Atomic commit across participants (its outgoing call edges): prepare all, "
        .. "then commit all; any failed vote aborts the transaction everywhere.",
    defaults = { replicas = 1 },
    params = {
        workers = std.param("workers", { default = 32,
            help = "transactions in flight per replica" }),
        queue = std.param("queue"),
        service_time = std.param("service_time", { default = { dist = "exp", mean_ms = 1 },
            help = "writing the transaction log (begin, and the decision)" }),
        commit_attempts = { type = "int", default = 10, min = 1, max = 1000,
            help = "rounds of commit messages before the transaction is left in doubt" },
        commit_backoff_ms = { type = "number", default = 100, min = 0, max = 1e7, unit = "ms",
            help = "wait between commit rounds" },
        policy = std.param("policy"),
        error_rate = std.param("error_rate"),
        cost_per_hour = std.param("cost_per_hour", { default = 0.17 }),
    },
    behavior = function(req, ctx)
        local p = ctx.params
        ctx:work()                          -- log: begin
        if not ctx:call_all() then          -- phase 1: prepare, every participant votes
            ctx:call_all()                  -- phase 2: abort everywhere
            return ctx:fail("aborted: a participant could not prepare")
        end
        ctx:work()                          -- log: the commit decision
        for _ = 1, p.commit_attempts do     -- phase 2: commit until all acknowledge
            if ctx:call_all() then return ctx:answer() end
            ctx:sleep(p.commit_backoff_ms)
        end
        return ctx:fail("in doubt: commit not acknowledged")
    end,
}
