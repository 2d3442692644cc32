-- Live simulations of a signed-in user: start (a saved project or an inline design), list,
-- status, control (pause, resume, step, stop, speed, inject, replicas, workload) and the final
-- report; the same controls over /ws (ws_subscribe, ws_unsubscribe, ws_control). Runs live in this
-- process (host.live.*, host/api_live.c); each is a row of simulation_sessions, so that its
-- end state and report outlive it. Only the owner sees a simulation: anyone else gets 404.
-- With --redis, a run on another host (its lease in Redis names the host) is reached through
-- that host: status, control and report are forwarded to it (host.cluster.forward, answered
-- by M.forwarded there), its frames relayed (host.cluster.subscribe); docs/live.md.
local api = api
local json = api.json
local M = {}

local DEFAULT_DURATION = 60
local MAX_SPEED = 1e6
local MAX_REPLICAS = 10000

local module = api.module

local function auth() return module("auth") end

---------------------------------------------------------------------------------------------
-- Status

local STATES = { active = "running", paused = "paused", finished = "finished",
                 stopped = "stopped", failed = "failed" }

local function decode(text)
    if not text then return {} end
    local ok, v = pcall(json.decode, text)
    return ok and type(v) == "table" and v or {}
end

-- lua-cjson 2.1 writes an empty table as {}: lists that may be empty carry this marker, which
-- encode() turns into [].
local EMPTY = "@@empty-array@@"
local function list(t)
    if t == nil or next(t) == nil then return EMPTY end
    return t
end

local function encode(v)
    return (json.encode(v):gsub('"' .. EMPTY:gsub("%-", "%%-") .. '"', "[]"))
end
M.encode = encode

local function public_status(s)
    return { id = s.id, state = s.state, simTime = s.simTime, duration = s.duration,
             speed = s.speed, events = s.events, wallSeconds = s.wallSeconds, error = s.error,
             components = list(s.components), edges = list(s.edges), projectId = s.projectId,
             startedAt = s.startedAt, endedAt = s.endedAt,
             workload = s.workload and list(s.workload) or nil }
end

-- The status of a run no longer in memory, from its session row. A row still active or
-- paused belongs to a run this process lost (a restart without a graceful stop).
local function row_status(row)
    local config, usage = decode(row.simulation_config), decode(row.resource_usage)
    local state = STATES[row.status] or row.status
    local err = usage.error
    if state == "running" or state == "paused" then
        state, err = "stopped", "the server stopped before the run ended"
    end
    return { id = row.id, state = state, simTime = usage.simTime or 0,
             duration = config.duration, speed = usage.speed or config.speed,
             events = usage.events or 0, wallSeconds = usage.wallSeconds or 0, error = err,
             components = config.components or {}, edges = config.edges or {},
             projectId = row.project_id, startedAt = row.started_at,
             endedAt = row.ended_at ~= 0 and row.ended_at or nil }
end

---------------------------------------------------------------------------------------------
-- Several hosts (host/live_cluster.c)

local cluster = host.cluster.enabled()
local ENDED = { finished = true, stopped = true, failed = true }

-- The lease of a run this process does not hold (a table), or nil: none, or this host's own
-- (a run it lost); 503 when Redis cannot say.
local function remote_lease(id)
    local text, why = host.cluster.lease(id)
    if text == nil then api.fail(503, "Redis is unavailable: " .. tostring(why)) end
    if not text then return nil end
    local lease = decode(text)
    if lease.host == host.cluster.host_id() then return nil end
    return lease
end

-- Asks the run's host (M.forwarded there) -> the answer's body as JSON text.
local function forward(lease, user, op, id, fields)
    local msg = { type = "forwarded", op = op, user = user.sub, role = user.role,
                  simulation = id }
    for k, v in pairs(fields or {}) do msg[k] = v end
    local text, code, why = host.cluster.forward(lease.host, json.encode(msg))
    if not text then
        if code == "timeout" then
            api.fail(504, "the host running this simulation did not answer within 3 s")
        elseif code == "gone" then
            api.fail(503, "the host running this simulation is not reachable (" .. why
                          .. "); the run is reported stopped once its lease expires (10 s)")
        end
        api.fail(503, "Redis is unavailable: " .. tostring(why))
    end
    local r = decode(text)
    if r.error then api.fail(r.status or 500, r.error, r.extra) end
    return host.json_field(text, "body")
end

-- A status another host encoded, as a table (lists that may be empty stay lists).
local function remote_status(text)
    local s = decode(text)
    s.components, s.edges = list(s.components), list(s.edges)
    if s.scenarios then s.scenarios = list(s.scenarios) end
    return s
end

-- The caller's run: live here (with its status), on another host (its lease: third result),
-- or from the store; 404 for anyone else's. here_only: a request another host forwarded
-- (never forwarded again).
local function find(user, id, here_only)
    local live = host.live.status(id)
    if live then
        if live.owner ~= user.sub then api.fail(404, "no such simulation") end
        return live, nil
    end
    local row = host.live.session(id)
    if not row or row.user_id ~= user.sub then api.fail(404, "no such simulation") end
    if cluster and not here_only and (row.status == "active" or row.status == "paused") then
        return nil, row, remote_lease(id)
    end
    return nil, row
end

local function status_of(user, id, here_only)
    local live, row, lease = find(user, id, here_only)
    if lease then return remote_status(forward(lease, user, "status", id)), nil end
    local s = public_status(live or row_status(row))
    -- the failure scenarios applied (summaries): while running from the run, later the one it
    -- started with (its session's config)
    local applied = live and host.scenarios.applied(id)
    if not live then
        local c = decode(row.simulation_config)
        applied = type(c.scenario) == "string" and { c.scenario } or nil
    end
    if applied and #applied > 0 then s.scenarios = applied end
    return s, live
end

---------------------------------------------------------------------------------------------
-- Start

local function number_field(t, k, path, min, max, default, problems, integer)
    local v = t[k]
    if v == nil then return default end
    if type(v) ~= "number" or v ~= v or v < min or v > max
        or (integer and v ~= math.floor(v)) then
        problems[#problems + 1] = { path = path .. "." .. k,
            reason = ("must be %s from %g to %g"):format(integer and "an integer" or "a number",
                                                         min, max) }
        return default
    end
    return v
end

local function parse_config(body, problems)
    local c = body.config
    if c == nil then c = {} end
    if type(c) ~= "table" then
        problems[#problems + 1] = { path = "$.config", reason = "must be an object" }
        c = {}
    end
    local cfg = {}
    cfg.duration = number_field(c, "duration", "$.config", 1e-3, 1e7, DEFAULT_DURATION, problems)
    cfg.warmup = number_field(c, "warmup", "$.config", 0, 1e7, 0, problems)
    cfg.seed = number_field(c, "seed", "$.config", 0, 2 ^ 53, 1, problems, true)
    cfg.speed = number_field(c, "speed", "$.config", 0, MAX_SPEED, 1, problems)
    if c.startPaused ~= nil and type(c.startPaused) ~= "boolean" then
        problems[#problems + 1] = { path = "$.config.startPaused", reason = "must be a boolean" }
    end
    cfg.startPaused = c.startPaused == true
    -- a failure scenario of scripts/scenarios/ applied to the design first (docs/scenarios.md)
    if c.scenario ~= nil and (type(c.scenario) ~= "string" or c.scenario == "") then
        problems[#problems + 1] = { path = "$.config.scenario",
                                    reason = "must be the name of a scenario (GET /api/scenarios)" }
    elseif c.scenario ~= nil then
        cfg.scenario = c.scenario
    end
    if c.scenarioParams ~= nil and type(c.scenarioParams) ~= "table" then
        problems[#problems + 1] = { path = "$.config.scenarioParams", reason = "must be an object" }
    else
        cfg.scenarioParams = c.scenarioParams
    end
    if cfg.warmup >= cfg.duration then
        problems[#problems + 1] = { path = "$.config.warmup",
                                    reason = "must be less than the duration" }
    end
    return cfg
end

-- The design's text and project id from the body: {"projectId"} (the caller's or a public
-- project) or {"design": {...}}.
local function design_source(req, body, user, problems)
    if body.projectId ~= nil then
        if type(body.projectId) ~= "string" then
            problems[#problems + 1] = { path = "$.projectId", reason = "must be a string" }
            return nil
        end
        if #problems > 0 then return nil end
        local r = host.store.project_get(body.projectId, user.sub)
        if r.status == "not_found" or r.status == "invalid" then api.fail(404, "no such project") end
        if r.status ~= "ok" then auth().store_failed(r) end
        return r.projects[1].design_data, body.projectId
    end
    if type(body.design) ~= "table" then
        problems[#problems + 1] = { path = "$.design",
                                    reason = "projectId or design (an object) is required" }
        return nil
    end
    return host.json_field(req.body, "design"), nil
end

local function limits_of(user)
    local r = host.store.limits_get(user.sub)
    if r.status ~= "ok" then auth().store_failed(r) end
    return r.limits[1]
end

local function plan(l)
    return ("the %s plan"):format(l.tier or "current")
end

-- 429 early when the user (or the server) is at the limit of runs at once; host.live.start
-- counts again atomically.
local function check_concurrency(user, l)
    local mine = host.live.count(user.sub)
    if cluster then mine = math.max(mine, host.cluster.count(user.sub) or 0) end -- every host
    local all, server_max = host.live.count()
    if l.max_concurrent_simulations >= 0 and mine >= l.max_concurrent_simulations then
        api.fail(429, ("concurrent simulation limit reached: %s allows %d at once; stop one "
                       .. "first"):format(plan(l), l.max_concurrent_simulations),
                 { limit = l.max_concurrent_simulations, running = mine })
    end
    if all >= server_max then
        api.fail(429, ("the server runs %d live simulations, its limit: try again in a minute")
                     :format(server_max), { limit = server_max })
    end
end

-- POST /api/simulations/start {projectId | design, config?} -> 201 status
function M.start(req, res)
    local user = auth().user(req, res)
    local body, problems = req:json(), {}
    local cfg = parse_config(body, problems)
    local text, project_id = design_source(req, body, user, problems)
    if #problems > 0 then api.invalid(problems, "the request is not valid") end
    local l = limits_of(user)
    if l.max_simulation_duration_s >= 0 and cfg.duration > l.max_simulation_duration_s then
        api.fail(403, ("simulation too long: %s allows %d s of simulated time; this one asks "
                       .. "for %g s"):format(plan(l), l.max_simulation_duration_s, cfg.duration),
                 { limit = l.max_simulation_duration_s })
    end
    check_concurrency(user, l)
    local design, shape, message, design_problems =
        host.live.prepare(text, module("plugins").sources_of(user.sub))
    local summary
    if design and cfg.scenario then -- valid as it is: now with the scenario's timeline
        local d, a, b, c = host.scenarios.prepare(text, cfg.scenario, cfg.duration,
            cfg.scenarioParams, module("plugins").sources_of(user.sub))
        if not d and b ~= "invalid" then
            api.invalid({ { path = "$.config.scenario", reason = a } }, a)
        end
        if d then design, shape, summary = d, a, b else design, shape, design_problems = nil, a, c end
    end
    if not design then
        local ps = {}
        for _, p in ipairs(design_problems or {}) do
            ps[#ps + 1] = { path = (p.path:gsub("^%$", "$.design")), reason = p.reason }
        end
        if #ps == 0 then ps[1] = { path = "$.design", reason = shape } end
        api.invalid(ps, project_id and "the project's design is not valid" or nil)
    end
    if l.max_components_per_project >= 0 and #shape.components > l.max_components_per_project then
        api.fail(403, ("design too large: %s allows %d components in a simulation; this one has "
                       .. "%d"):format(plan(l), l.max_components_per_project, #shape.components),
                 { limit = l.max_components_per_project })
    end
    local config = json.encode({ duration = cfg.duration, warmup = cfg.warmup, seed = cfg.seed,
                                 speed = cfg.speed, startPaused = cfg.startPaused,
                                 name = shape.name, components = shape.components,
                                 edges = shape.edges, scenario = summary })
    local id, why, code = host.live.start(design, {
        owner = user.sub, project = project_id, config = config, duration = cfg.duration,
        warmup = cfg.warmup, seed = cfg.seed, speed = cfg.speed, start_paused = cfg.startPaused,
        max_concurrent = l.max_concurrent_simulations })
    if not id then
        if code == "user_limit" or code == "server_limit" then
            res:header("retry-after", code == "server_limit" and 60 or 5)
            api.fail(429, why)
        end
        if code == "shutting_down" or code == "unavailable" then api.fail(503, why) end
        api.fail(422, "the simulation could not start: " .. tostring(why))
    end
    host.scenarios.attach(id, text, summary) -- kept for scenarios applied later
    local s = status_of(user, id)
    s.scenario = summary
    res:status(201):raw_json(encode(s) .. "\n")
end

---------------------------------------------------------------------------------------------
-- Reading

-- GET /api/sessions -> {enabled, host, session = {sockets = {<hostid> = n}, simulations,
-- lastActivity} | null}: the caller's session across hosts (user:<id>:session, with --redis)
function M.sessions(req, res)
    local user = auth().user(req, res)
    if not cluster then return res:json({ enabled = false }) end
    local text = host.cluster.session_get(user.sub)
    if text == nil then api.fail(503, "Redis is unavailable: the session cannot be read") end
    res:raw_json(('{"enabled":true,"host":"%s","session":%s}\n'):format(host.cluster.host_id(),
                                                                       text or "null"))
end

-- GET /api/cluster -> this host's view of the others: {enabled, host, connected, owned,
-- relays, published, relayed, latencyMs = {n, p50, p99, max} (frame, owner's publish to this
-- host's relay), forwarded, served, timeouts, unreachable, roundTripMs = {n, mean, max}}
function M.cluster(req, res)
    auth().user(req, res)
    if not cluster then return res:json({ enabled = false }) end
    local s = host.cluster.stats()
    s.enabled = true
    res:json(s)
end

-- GET /api/simulations -> {simulations = [status...]} (the caller's, newest first)
function M.list(req, res)
    local user = auth().user(req, res)
    local rows = host.live.sessions(user.sub, 50)
    if not rows then api.fail(503, "the database is unavailable: try again") end
    local items = {}
    for _, row in ipairs(rows) do
        local live = host.live.status(row.id)
        local s = public_status(live or row_status(row))
        if not live and cluster and (row.status == "active" or row.status == "paused") then
            -- on another host: its lease has the state and the time reached
            local text, why = host.cluster.lease(row.id)
            local lease = text and decode(text)
            if lease and lease.host ~= host.cluster.host_id() then
                s.state, s.simTime, s.speed, s.error = lease.state, lease.simTime, lease.speed, nil
            elseif text == nil then
                s.state, s.error = STATES[row.status], "Redis is unavailable: " .. tostring(why)
            end
        end
        s.components, s.edges = nil, nil -- the list stays light: GET /:id has them
        items[#items + 1] = s
    end
    res:raw_json(encode({ simulations = list(items) }) .. "\n")
end

-- GET /api/simulations/:id -> status
function M.status(req, res)
    local user = auth().user(req, res)
    res:raw_json(encode((status_of(user, req.params.id))) .. "\n")
end

-- GET /api/simulations/:id/report -> the `sdsim run --json` report; 409 while running
-- The report's JSON text of a run found here (live) or in the store (row); 409 while it runs
-- or when it ended without one.
local function report_text(live, row)
    local text
    if live then
        if not live.ended then
            api.fail(409, "the simulation is " .. live.state .. ": its report is ready once it "
                          .. "ends (stop it, or wait)", { state = live.state })
        end
        text = host.live.report(live.id)
    else
        text = row.report
    end
    if not text then
        local s = live or row_status(row)
        api.fail(409, "no report: " .. (s.error or "the run ended without one"),
                 { state = s.state })
    end
    return text
end

function M.report(req, res)
    local user = auth().user(req, res)
    local live, row, lease = find(user, req.params.id)
    if lease then return res:raw_json(forward(lease, user, "report", req.params.id)) end
    res:raw_json(report_text(live, row))
end

---------------------------------------------------------------------------------------------
-- Control: the same for REST and /ws. Each returns the status after the change, or raises
-- api.fail (404 not the caller's, 409 the run has ended or the engine refused, 422 a bad
-- field).

local function bad(path, reason)
    api.invalid({ { path = path, reason = reason } }, "the request is not valid")
end

local function component_index(live, id, path)
    if type(id) == "number" and id == math.floor(id) and id >= 0 and id < #live.components then
        return id
    end
    if type(id) ~= "string" then bad(path, "must be a component id") end
    for _, c in ipairs(live.components) do
        if c.id == id then return c.index end
    end
    bad(path, "no component '" .. id .. "' in this design")
end

-- An edge: its index, or "from->to".
local function edge_index(live, v, path)
    if type(v) == "number" then
        if v ~= math.floor(v) or v < 0 or v >= #live.edges then
            bad(path, ("must be an edge index from 0 to %d"):format(#live.edges - 1))
        end
        return v
    end
    if type(v) ~= "string" then bad(path, "must be an edge index or \"from->to\"") end
    local from, to = v:match("^%s*(.-)%s*%->%s*(.-)%s*$")
    for _, e in ipairs(live.edges) do
        if e.from == from and e.to == to then return e.index end
    end
    bad(path, "no edge '" .. v .. "' in this design")
end

local EDGE_FAULTS = { partition = true, packet_loss = true }
local KINDS = { crash = true, latency = true, error_rate = true, partition = true, zone = true,
                capacity = true, hit_ratio = true, packet_loss = true }
local ALIASES = { error = "error_rate" }

local function in_range(v, path, min, max, excl_min)
    if type(v) ~= "number" or v ~= v or v > max or v < min or (excl_min and v == min) then
        bad(path, ("must be a number %s %g and at most %g"):format(excl_min and "above"
                                                                    or "from", min, max))
    end
    return v
end

-- The fault of an inject body, for host.live.inject (target as an index, value as the
-- engine wants it: latency in seconds or a factor).
local function fault_of(live, b)
    local kind = ALIASES[b.kind] or b.kind
    if type(kind) ~= "string" or not KINDS[kind] then
        bad("$.kind", "must be one of crash, latency, error_rate, partition, zone, capacity, "
                      .. "hit_ratio, packet_loss")
    end
    local f = { kind = kind, duration = 0 }
    if b.duration ~= nil then f.duration = in_range(b.duration, "$.duration", 0, 1e7) end
    if kind == "zone" then
        if type(b.zone) ~= "string" or b.zone == "" or #b.zone > 31 then
            bad("$.zone", "is required: the zone to take down")
        end
        f.zone = b.zone
        return f
    end
    if EDGE_FAULTS[kind] then
        f.target = edge_index(live, b.target, "$.target")
    else
        f.target = component_index(live, b.target, "$.target")
    end
    if kind == "crash" then
        if b.replica ~= nil then
            if type(b.replica) ~= "number" or b.replica ~= math.floor(b.replica) or b.replica < 0 then
                bad("$.replica", "must be an integer >= 0")
            end
            f.replica = b.replica
        end
    elseif kind == "latency" then
        local factor = b.factor or (b.multiply and b.value)
        if factor ~= nil then
            f.value, f.multiply = in_range(factor, b.factor and "$.factor" or "$.value", 0, 1000,
                                           true), true
        else
            f.value = in_range(b.ms or b.value, b.ms and "$.ms" or "$.value", 0, 1e7) / 1000
        end
    elseif kind == "capacity" then
        f.value = in_range(b.factor or b.value, b.factor and "$.factor" or "$.value", 0, 1000, true)
    elseif kind == "hit_ratio" then
        f.value = in_range(b.ratio or b.value, b.ratio and "$.ratio" or "$.value", 0, 1)
    elseif kind == "error_rate" or kind == "packet_loss" then
        f.value = in_range(b.rate or b.value, b.rate and "$.rate" or "$.value", 0, 1)
    end
    return f
end

local function refused(why)
    api.fail(409, tostring(why))
end

local actions = {}

function actions.pause(live)
    local ok, why = host.live.pause(live.id)
    if not ok then refused(why) end
end

function actions.resume(live)
    local ok, why = host.live.resume(live.id)
    if not ok then refused(why) end
end

function actions.step(live, b)
    local s = b.seconds == nil and 1 or in_range(b.seconds, "$.seconds", 0, 1e7, true)
    local ok, why = host.live.step(live.id, s)
    if not ok then refused(why) end
end

function actions.speed(live, b)
    local ok, why = host.live.speed(live.id, in_range(b.speed, "$.speed", 0, MAX_SPEED))
    if not ok then refused(why) end
end

function actions.stop(live)
    host.live.stop(live.id)
end

function actions.inject(live, b)
    local ok, why = host.live.inject(live.id, fault_of(live, b))
    if not ok then refused(why) end
end

function actions.replicas(live, b)
    local comp = component_index(live, b.component, "$.component")
    local n = b.replicas
    if type(n) ~= "number" or n ~= math.floor(n) or n < 1 or n > MAX_REPLICAS then
        bad("$.replicas", ("must be an integer from 1 to %d"):format(MAX_REPLICAS))
    end
    local ok, why = host.live.replicas(live.id, comp, n)
    if not ok then refused(why) end
end

-- {"source": i | "to": component id, "rps": n | "factor": f}: the open sources chosen (the
-- one at index i, every open source sending to that component, or the only open source) send
-- rps requests/s from now on, or f times their current rate; 0 pauses them.
local MAX_RPS = 1e7

local function sources_of(live, b)
    local wl, chosen = live.workload or {}, {}
    if b.source ~= nil then
        local i = b.source
        if type(i) ~= "number" or i ~= math.floor(i) or i < 0 or i >= #wl then
            bad("$.source", ("must be a source index from 0 to %d"):format(#wl - 1))
        end
        chosen[1] = wl[i + 1]
    else
        for _, w in ipairs(wl) do
            if w.kind == "open" and (b.to == nil or w.to == b.to) then chosen[#chosen + 1] = w end
        end
        if b.to ~= nil and (type(b.to) ~= "string" or #chosen == 0) then
            bad("$.to", "must be the id of a component an open source sends to")
        end
        if b.to == nil and #chosen ~= 1 then
            bad("$.source", "is required: the design has " .. #chosen .. " open sources")
        end
    end
    for _, w in ipairs(chosen) do
        if w.kind ~= "open" then bad("$.source", "is a closed population (it has no rate)") end
    end
    return chosen
end

function actions.workload(live, b)
    if live.ended then refused("the simulation has ended (" .. live.state .. ")") end
    local chosen = sources_of(live, b)
    if (b.rps == nil) == (b.factor == nil) then bad("$.rps", "give one of rps or factor") end
    local rps = b.rps ~= nil and in_range(b.rps, "$.rps", 0, MAX_RPS) or nil
    local factor = b.factor ~= nil and in_range(b.factor, "$.factor", 0, 1000) or nil
    for _, w in ipairs(chosen) do
        local v = rps or math.min(MAX_RPS, (w.rps or 0) * factor)
        local ok, why = host.live.rate(live.id, w.index, v)
        if not ok then refused(why) end
    end
end

-- The status after action on the caller's run id.
-- {"name": "db_failover", "params": {...}}: the scenario's faults, shifted to start at the
-- current simulated time, wait on the run's timeline (host/api_scenarios.c).
function actions.scenario(live, b)
    if type(b.name) ~= "string" or b.name == "" then
        bad("$.name", "must be the name of a scenario (GET /api/scenarios)")
    end
    if b.params ~= nil and type(b.params) ~= "table" then bad("$.params", "must be an object") end
    local r, why, code, problems = host.scenarios.apply(live.id, b.name, b.params,
                                                        module("plugins").sources_of(live.owner))
    if r then return r end
    if code == "ended" then refused(why) end
    local errors = { { path = "$.name", reason = why } }
    for _, p in ipairs(problems or {}) do errors[#errors + 1] = p end
    api.invalid(errors, why)
end

local function control(user, id, action, body, here_only)
    local fn = actions[action]
    if not fn then
        bad("$.action", "must be one of pause, resume, step, stop, speed, inject, replicas, "
                        .. "workload, scenario")
    end
    local live, row, lease = find(user, id, here_only)
    if lease then
        return remote_status(forward(lease, user, "control", id, { action = action, body = body }))
    end
    if not live then
        if action == "stop" then return public_status(row_status(row)) end
        local s = row_status(row)
        api.fail(409, "the simulation has ended (" .. s.state .. ")", { state = s.state })
    end
    if live.ended and action == "stop" then return public_status(live) end
    local applied = fn(live, body)
    local s = status_of(user, id)
    s.scenario = applied -- the scenario action: {summary, from, faults}
    return s
end
M.control = control

local function rest(action)
    return function(req, res)
        local user = auth().user(req, res)
        local body = req.body:find("%S") and req:json() or {}
        res:raw_json(encode(control(user, req.params.id, action, body)) .. "\n")
    end
end

M.pause = rest("pause")
M.resume = rest("resume")
M.step = rest("step")
M.stop = rest("stop")
M.speed = rest("speed")
M.inject = rest("inject")
M.replicas = rest("replicas")
M.workload = rest("workload")
M.scenario = rest("scenario")

---------------------------------------------------------------------------------------------
-- /ws messages (scripts/api/init.lua routes them here once the connection is authenticated)

local function sim_id(msg)
    if type(msg.simulation) ~= "string" or msg.simulation == "" then
        api.fail(400, "\"simulation\" (the simulation's id) is required")
    end
    return msg.simulation
end

-- {"type":"subscribe","simulation":id} -> {"type":"subscribed", simulation, ...status}, then
-- binary frames (the latest at once), then {"type":"ended"} when the run ends.
function M.ws_subscribe(conn, msg)
    local id = sim_id(msg)
    host.cluster.session(conn.id, conn.user.sub) -- activity
    local live, row, lease = find(conn.user, id)
    local s
    if lease then -- on another host: its frames relayed here, from its latest one
        local ok, why = host.cluster.subscribe(conn.id, id)
        if not ok then api.fail(409, why) end
        local okf, text = pcall(forward, lease, conn.user, "watch", id)
        if not okf then
            host.ws_unsubscribe(conn.id, id)
            error(text, 0)
        end
        s = remote_status(text) -- frames follow, and "ended" from the relay
    else
        s = public_status(live or row_status(row))
    end
    local reply = { type = "subscribed", simulation = id, id = msg.id }
    for k, v in pairs(s) do if k ~= "id" then reply[k] = v end end
    host.ws_send(conn.id, encode(reply))
    if lease then
        if ENDED[s.state] then -- it ended meanwhile: nothing more will come
            host.ws_unsubscribe(conn.id, id)
            host.ws_send(conn.id, { type = "ended", simulation = id, state = s.state })
        end
    elseif live then
        local ok, why = host.ws_subscribe(conn.id, id)
        if not ok then api.fail(409, why) end
    else -- long over: nothing more will come
        host.ws_send(conn.id, { type = "ended", simulation = id, state = s.state })
    end
    return nil
end

function M.ws_unsubscribe(conn, msg)
    local id = sim_id(msg)
    local was = host.ws_unsubscribe(conn.id, id)
    return { type = "unsubscribed", simulation = id, id = msg.id, wasSubscribed = was }
end

-- {"type":"control","simulation":id,"action":...,...} -> {"type":"control_ok", simulation,
-- status}
function M.ws_control(conn, msg)
    local id = sim_id(msg)
    if type(msg.action) ~= "string" then api.fail(400, "\"action\" is required") end
    local s = control(conn.user, id, msg.action, msg)
    return encode({ type = "control_ok", simulation = id, action = msg.action, id = msg.id,
                    status = s })
end

---------------------------------------------------------------------------------------------
-- Requests another host forwarded (init.lua routes {"type":"forwarded"} of a pseudo
-- connection here): the same handlers for that user, on this host's runs only. ->
-- {"status":200,"body":...} or {"status":4xx,"error":...,"extra":...}

local ops = {}
function ops.status(user, msg) return encode((status_of(user, msg.simulation, true))) end
function ops.control(user, msg)
    local body = type(msg.body) == "table" and msg.body or {}
    return encode(control(user, msg.simulation, msg.action, body, true))
end
function ops.watch(user, msg)
    local s = status_of(user, msg.simulation, true)
    host.cluster.watched(msg.simulation) -- frames flow over the bus from now on
    return encode(s)
end
function ops.report(user, msg)
    local live, row = find(user, msg.simulation, true)
    return report_text(live, row)
end

function M.forwarded(msg)
    local user = { sub = msg.user, role = msg.role }
    local op = ops[msg.op]
    local ok, r = pcall(function()
        if type(msg.user) ~= "string" or type(msg.simulation) ~= "string" or not op then
            api.fail(400, "malformed forwarded request")
        end
        return op(user, msg)
    end)
    if ok then return '{"status":200,"body":' .. r .. "}" end
    if type(r) == "table" and r.status and r.message then
        return json.encode({ status = r.status, error = r.message, extra = r.extra })
    end
    host.log("error", "forwarded " .. tostring(msg.op) .. ": " .. tostring(r))
    return json.encode({ status = 500, error = "internal error on the host running it" })
end

return M
