-- Lua component behaviours: the coroutine workers and the `ctx` API (docs/plugin-api.md).
--
-- Loaded by host/lua_behavior.c as a chunk receiving one argument, `host`, a table of C
-- functions bound to the current run (now, random, sample, replica_up, replicas_up, timer,
-- load_type); it returns the module table B. The C side drives everything: for each request
-- it resumes a pooled worker coroutine, which runs the component's behaviour until the
-- behaviour waits; the values yielded are the action for the engine:
--
--   yield(code, arg)   code: 0 answer, 1 work (arg seconds, -1 = sample service_time),
--                      2 sleep (seconds), 3 call (edge index), 4 call_all (table of edge
--                      indices), 5 forward (edge index), 6 async (edge index),
--                      7 fail (reason string)
--
-- and the engine resumes it with the result (true/false for calls). A worker coroutine loops
-- over requests, so coroutines and their `req` tables are reused: nothing is allocated per
-- request on the common path.
local host = ...

local yield, create = coroutine.yield, coroutine.create
local floor, type, error, fmt = math.floor, type, error, string.format
local h_now, h_random, h_sample = host.now, host.random, host.sample
local h_replica_up, h_replicas_up, h_timer = host.replica_up, host.replicas_up, host.timer

local ANSWER, WORK, SLEEP, CALL, CALL_ALL, FORWARD, ASYNC, FAIL = 0, 1, 2, 3, 4, 5, 6, 7
local KINDS = { [0] = "root", [1] = "call", [2] = "copy" }

local B = {}
local types = {}  -- file -> { behavior = fn, init = fn or nil }
local comps = {}  -- engine component index -> { beh, ctx, init, spec }
local timers = {} -- timer id -> { fn, ctx }
local next_timer = 0
local cur         -- the req table of the request whose behaviour is running (nil in timers)

---------------------------------------------------------------------------------------------
-- ctx

local Ctx = {}
Ctx.__index = Ctx

local function running(self, what)
    local r = cur
    if r == nil then
        error(fmt("ctx:%s() outside a request (in init or a timer) at '%s'", what, self.id), 3)
    end
    if r.done ~= nil then
        error(fmt("ctx:%s() after the request was already answered, failed or forwarded",
                  what), 3)
    end
    return r
end

local function edge_of(self, to, what)
    local e = self._edge[to]
    if e == nil then
        error(fmt("ctx:%s(%s): '%s' has no edge to %s (its edges lead to: %s)", what,
                  tostring(to), self.id, tostring(to), self._targets), 3)
    end
    return e
end

-- Distribution tables (a `dist` parameter, or a literal) are prepared once, in C.
local dist_cache = setmetatable({}, { __mode = "k" })

local function dist_seconds(d)
    local hd = dist_cache[d]
    if hd == nil then
        if d.dist == "empirical" then
            local vals = d.values_ms
            hd = function() return vals[floor(h_random() * #vals) + 1] * 0.001 end
        else
            local k = host.prepare(d.dist, (d.mean_ms or 0) * 0.001, d.scv or -1, d.k or 1)
            hd = k
        end
        dist_cache[d] = hd
    end
    if type(hd) == "function" then return hd() end
    return h_sample(hd)
end

function Ctx:work(x)
    local r = running(self, "work")
    local s
    if x == nil then
        s = -1
    elseif type(x) == "number" then
        if not (x >= 0) then error("ctx:work(ms): ms must be a number >= 0", 2) end
        s = x * 0.001
    elseif type(x) == "table" then
        s = dist_seconds(x)
    else
        error("ctx:work(x): x must be nothing, a number of ms or a distribution table", 2)
    end
    yield(WORK, s)
    cur = r
end

function Ctx:sleep(ms)
    local r = running(self, "sleep")
    if type(ms) ~= "number" or not (ms >= 0) then
        error("ctx:sleep(ms): ms must be a number >= 0", 2)
    end
    yield(SLEEP, ms * 0.001)
    cur = r
end

function Ctx:call(to)
    local r = running(self, "call")
    local e = edge_of(self, to, "call")
    local t0 = h_now()
    local ok = yield(CALL, e)
    cur = r
    return ok, (h_now() - t0) * 1000
end

function Ctx:call_all(list)
    local r = running(self, "call_all")
    local es = {}
    if list == nil then
        for i, e in ipairs(self.edges) do
            if e.mode == "call" then es[#es + 1] = self._edge[i] end
        end
    else
        for i, to in ipairs(list) do es[i] = edge_of(self, to, "call_all") end
    end
    if #es == 0 then return true, 0 end
    local t0 = h_now()
    local ok = yield(CALL_ALL, es)
    cur = r
    return ok, (h_now() - t0) * 1000
end

function Ctx:async(to)
    local r = running(self, "async")
    yield(ASYNC, edge_of(self, to or 1, "async"))
    cur = r
end

function Ctx:answer()
    local r = running(self, "answer")
    r.done, r.arg = ANSWER, 0
end

function Ctx:fail(reason)
    local r = running(self, "fail")
    r.done, r.arg = FAIL, tostring(reason or "failed")
end

function Ctx:forward(to)
    local r = running(self, "forward")
    r.done, r.arg = FORWARD, edge_of(self, to or 1, "forward")
end

function Ctx:now() return h_now() * 1000 end

function Ctx:random(m, n)
    local u = h_random()
    if m == nil then return u end
    if n == nil then m, n = 1, m end
    return m + floor(u * (n - m + 1))
end

function Ctx:replica_up(i) return h_replica_up(self._ci, i) end
function Ctx:replicas_up() return h_replicas_up(self._ci) end

function Ctx:after(ms, fn)
    if type(ms) ~= "number" or not (ms >= 0) then
        error("ctx:after(ms, fn): ms must be a number >= 0", 2)
    end
    if type(fn) ~= "function" then error("ctx:after(ms, fn): fn must be a function", 2) end
    next_timer = next_timer + 1
    timers[next_timer] = { fn, self }
    h_timer(self._ci, ms * 0.001, next_timer)
    return next_timer
end

function Ctx:cancel(id) timers[id] = nil end

---------------------------------------------------------------------------------------------
-- The worker coroutines (created and resumed by C)

local function worker()
    local req = { key = 0, attempt = 0, replica = 0, kind = "root" }
    local act, arg = ANSWER, 0
    while true do
        local ci, key, attempt, replica, kind = yield(act, arg)
        local c = comps[ci]
        req.key, req.attempt, req.replica, req.kind = key, attempt, replica, KINDS[kind]
        req.done, req.arg = nil, nil
        cur = req
        c[1](req, c[2])
        cur = nil
        act, arg = req.done or ANSWER, req.arg or 0
    end
end

B.worker = worker

---------------------------------------------------------------------------------------------
-- Set-up (from C)

local function std_stub()
    -- Parameters were validated and normalized already (scripts/sdk/design.lua): at run time
    -- a type file runs only for its functions, so std.param just hands back its overrides.
    local params = setmetatable({}, { __index = function() return {} end })
    return { param = function(_, overrides) return overrides or {} end, params = params }
end

-- Loads a type file (once per file) in the sandbox environment; returns the type table.
local function load_type(file)
    local t = types[file]
    if t then return t end
    local ok, v = host.load_type(file, std_stub())
    if not ok then error(v, 0) end
    if type(v) ~= "table" or type(v.behavior) ~= "function" then
        error(file .. ": the type has no behavior function", 0)
    end
    if v.init ~= nil and type(v.init) ~= "function" then
        error(file .. ": init must be a function", 0)
    end
    types[file] = v
    return v
end

-- spec = { id, type, json, replicas, edges = { {to, mode, p, index}, ... } }; json is the
-- design's text for the component: { file = type file, params = {...}, plugin = bool }.
local cjson = require("cjson")

function B.add_component(ci, spec)
    local j = cjson.decode(spec.json)
    if type(j) ~= "table" or type(j.file) ~= "string" then
        error("no type file is known for this component (a script behaviour without a file)", 0)
    end
    spec.file, spec.params = j.file, type(j.params) == "table" and j.params or {}
    local t = load_type(spec.file)
    comps[ci] = { t.behavior, nil, t.init, spec }
end

local function new_ctx(ci, spec)
    local edge, targets = {}, {}
    local edges = {}
    for i, e in ipairs(spec.edges) do
        edges[i] = { to = e.to, mode = e.mode, p = e.p }
        edge[i] = e.index
        if edge[e.to] == nil then edge[e.to] = e.index end
        targets[#targets + 1] = e.to
    end
    return setmetatable({
        id = spec.id, type = spec.type, params = spec.params, state = {},
        replicas = spec.replicas, edges = edges,
        _ci = ci, _edge = edge, _targets = #targets > 0 and table.concat(targets, ", ")
            or "nowhere",
    }, Ctx)
end

-- A run starts: fresh ctx and state per component, then each init in component order.
function B.begin_run()
    timers, next_timer, cur = {}, 0, nil
    local order = {}
    for ci in pairs(comps) do order[#order + 1] = ci end
    table.sort(order)
    for _, ci in ipairs(order) do
        local c = comps[ci]
        c[2] = new_ctx(ci, c[4])
    end
    for _, ci in ipairs(order) do
        local c = comps[ci]
        if c[3] then c[3](c[2]) end
    end
end

function B.end_run()
    timers, cur = {}, nil
    for _, c in pairs(comps) do c[2] = nil end
end

-- A component timer fires.
function B.fire(id)
    local t = timers[id]
    if t == nil then return end
    timers[id] = nil
    cur = nil
    t[1](t[2])
end

return B
