-- Failure scenarios: Lua timelines applied to a design document before it is validated
-- (docs/scenarios.md).
--
-- Two halves, in two processes:
--   * the parent (the validation state of host/design_load.c) decodes the design, validates
--     it once, hands a description of it to the child, merges the child's patch into the
--     DOCUMENT (appended `scenario` faults and `workload` sources, changed call-edge
--     resilience fields) and validates again, so problems still name JSON paths;
--   * the child (a forked process, interpreter only) runs the user's scenario file in the
--     sandbox under one instruction budget and returns the patch as JSON.
-- Loaded with (D, host): D is design.lua's module in the parent, nil in the child.
local D, host = ...
local cjson = require("cjson")
local getinfo = debug.getinfo
local fmt, floor, concat, sort = string.format, math.floor, table.concat, table.sort
local huge = math.huge

local S = {}
S.BUDGET = 50000000             -- VM instructions for the file and its build, as templates
S.MEMORY = 64 * 1024 * 1024     -- bytes beyond what the child holds before the file runs
-- The validator asks rps > 0 of every open source, so an extra source that should send
-- nothing outside its window sends this instead: one request per 11.6 days.
S.IDLE_RPS = 1e-6
S.MAX_ACTIONS = 10000           -- faults + sources one scenario may add
S.LABEL_MAX = 256

local function codec()
    local j = cjson.new()
    j.encode_sparse_array(true)
    j.encode_number_precision(14)
    j.decode_max_depth(80)
    return j
end

local function first_line(msg)
    return (tostring(msg):match("^[^\n]*"))
end

-- 12.5 -> "12.5", 30 -> "30"
local function num_text(x)
    if x == floor(x) and math.abs(x) < 1e15 then return fmt("%d", x) end
    return fmt("%.4g", x)
end

local function pct(x) return num_text(floor(x * 1000 + 0.5) / 10) .. "%" end

local function sorted_keys(t)
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    return keys
end

---------------------------------------------------------------------------------------------
-- Parameters: declared by the scenario file, given as "key=value" texts on the command line.

local PARAM_TYPES = { string = true, number = true, int = true, bool = true, list = true }

local function check_param_specs(file, params)
    if params == nil then return {} end
    if type(params) ~= "table" then
        error(fmt("%s: params must be a table of {type=..., help=...}, got %s", file,
                  type(params)), 0)
    end
    for _, k in ipairs(sorted_keys(params)) do
        local p = params[k]
        if type(k) ~= "string" or type(p) ~= "table" or not PARAM_TYPES[p.type] then
            error(fmt("%s: params.%s must be {type = \"string\"|\"number\"|\"int\"|\"bool\"|"
                      .. "\"list\", help = ...}", file, tostring(k)), 0)
        end
    end
    return params
end

-- One text from the command line to the declared type; nil, reason when it does not fit.
local function coerce(spec, text)
    local t = spec.type
    if t == "string" then return text end
    if t == "list" then
        local out = {}
        for item in text:gmatch("[^,%s]+") do out[#out + 1] = item end
        return out
    end
    if t == "bool" then
        if text == "true" or text == "1" or text == "yes" then return true end
        if text == "false" or text == "0" or text == "no" then return false end
        return nil, "true or false"
    end
    local x = tonumber(text)
    if not x or x ~= x or x == huge or x == -huge then return nil, "a number" end
    if t == "int" and x ~= floor(x) then return nil, "a whole number" end
    if spec.min and x < spec.min then return nil, "a number >= " .. num_text(spec.min) end
    if spec.max and x > spec.max then return nil, "a number <= " .. num_text(spec.max) end
    return x
end

local function resolve_params(file, specs, given)
    local out = {}
    for k, spec in pairs(specs) do
        if spec.default ~= nil then out[k] = spec.default end
    end
    for _, kv in ipairs(given or {}) do
        local k, v = kv:match("^%s*([%w_]+)%s*=(.*)$")
        if not k then
            error(fmt("%s: --scenario-param '%s' is not key=value", file, kv), 0)
        end
        local spec = specs[k]
        if not spec then
            local known = sorted_keys(specs)
            error(fmt("%s: no parameter '%s' (this scenario takes: %s)", file, k,
                      #known > 0 and concat(known, ", ") or "none"), 0)
        end
        local x, want = coerce(spec, v)
        if x == nil then
            error(fmt("%s: parameter %s needs %s, not '%s'", file, k, want, v), 0)
        end
        out[k] = x
    end
    return out
end

---------------------------------------------------------------------------------------------
-- The DSL bound to one design (child side).

-- Park-Miller "minimal standard" generator: products stay below 2^47, exact in doubles, so
-- the same seed gives the same timeline on every machine.
local function new_rng(seed)
    local x = floor(seed) % 2147483646 + 1
    return function()
        x = (x * 48271) % 2147483647
        return x / 2147483647
    end
end

local function new_dsl(file, input, params)
    local chunk = "@" .. file
    local design_name = input.name or "design"
    local comps, byid, ids = {}, {}, {}
    for i, c in ipairs(input.components or {}) do
        comps[i] = c
        byid[c.id] = c
        ids[i] = c.id
    end
    local edges, byedge = {}, {}
    for i, e in ipairs(input.edges or {}) do
        e.name = e.from .. "->" .. e.to
        edges[i] = e
        byedge[e.name] = e
    end
    local sources = input.workload or {}
    local zones = {}
    for _, c in ipairs(comps) do if c.zone then zones[c.zone] = true end end

    -- The line of the scenario file that is running (the nearest frame in it).
    local function user_line()
        for level = 2, 60 do
            local info = getinfo(level, "Sl")
            if not info then return nil end
            if info.source == chunk and (info.currentline or -1) > 0 then
                return info.currentline
            end
        end
    end
    local function fail(f, ...)
        local line = user_line()
        error((line and (file .. ":" .. line) or file) .. ": " .. fmt(f, ...), 0)
    end

    local function number(fn, what, v, lo, hi, open_lo)
        if type(v) ~= "number" or v ~= v or v == huge or v == -huge then
            fail("%s: %s must be a number, got %s", fn, what,
                 type(v) == "number" and tostring(v) or type(v))
        end
        if (lo and (v < lo or (open_lo and v == lo))) or (hi and v > hi) then
            fail("%s: %s must be %s%s%s, got %s", fn, what,
                 lo and ((open_lo and "> " or ">= ") .. num_text(lo)) or "",
                 lo and hi and " and " or "", hi and ("<= " .. num_text(hi)) or "", num_text(v))
        end
        return v
    end
    local function options(fn, o, allowed)
        if o == nil then return {} end
        if type(o) ~= "table" then fail("%s: options must be a table, got %s", fn, type(o)) end
        for _, k in ipairs(sorted_keys(o)) do
            if not allowed[k] then
                fail("%s: unknown option '%s' (known: %s)", fn, tostring(k),
                     concat(sorted_keys(allowed), ", "))
            end
        end
        return o
    end
    local function id_list()
        local parts = {}
        for i, c in ipairs(comps) do
            if i > 12 then parts[#parts + 1] = "..."; break end
            parts[#parts + 1] = fmt("%s (%s)", c.id, c.type)
        end
        return concat(parts, ", ")
    end
    local function component(fn, ref)
        if type(ref) == "table" and type(ref.id) == "string" then ref = ref.id end
        if type(ref) ~= "string" then
            fail("%s: the target must be a component id (a string), got %s", fn, type(ref))
        end
        local c = byid[ref]
        if not c then
            fail("%s: no component '%s' in design '%s' (its components: %s)", fn, ref,
                 design_name, id_list())
        end
        return c
    end
    local function edge(fn, ref)
        if type(ref) == "table" and type(ref.from) == "string" and type(ref.to) == "string" then
            ref = ref.from .. "->" .. ref.to
        end
        if type(ref) ~= "string" then
            fail("%s: the target must be an edge written \"from->to\", got %s", fn, type(ref))
        end
        local a, b = ref:match("^%s*(.-)%s*%->%s*(.-)%s*$")
        if not a then fail("%s: '%s' is not an edge: write \"from->to\"", fn, ref) end
        local e = byedge[a .. "->" .. b]
        if not e then
            local names = {}
            for i, x in ipairs(edges) do
                if i > 12 then names[#names + 1] = "..."; break end
                names[#names + 1] = x.name
            end
            fail("%s: no edge %s->%s in design '%s' (its edges: %s)", fn, a, b, design_name,
                 #names > 0 and concat(names, ", ") or "none")
        end
        return e
    end

    -- Actions in creation order; the handles given to the scenario are opaque.
    local actions, by_handle, notes, picks = {}, {}, {}, {}
    local described
    local function new_action(a)
        if #actions >= S.MAX_ACTIONS then
            fail("more than %d actions: a scenario adds at most that many", S.MAX_ACTIONS)
        end
        a.line = user_line()
        a.at = a.at or 0
        actions[#actions + 1] = a
        local h = setmetatable({}, { __tostring = function() return "scenario action" end,
                                     __metatable = false })
        by_handle[h] = a
        return h
    end
    local function timing(fn, o)
        local at = o.at_s ~= nil and number(fn, "at_s", o.at_s, 0, 1e7) or nil
        local dur = o.for_s ~= nil and number(fn, "for_s", o.for_s, 0, 1e7) or 0
        return at, dur
    end

    local s = { params = params, duration = input.duration, name = design_name }

    -- Inspection: copies, so that a scenario cannot change what others see.
    local function copy(t)
        local out = {}
        for k, v in pairs(t) do out[k] = type(v) == "table" and copy(v) or v end
        return out
    end
    local function matches(c, filter)
        for k, v in pairs(filter or {}) do if c[k] ~= v then return false end end
        return true
    end
    function s.components(filter)
        local out = {}
        for _, c in ipairs(comps) do if matches(c, filter) then out[#out + 1] = copy(c) end end
        return out
    end
    function s.component(id) return byid[id] and copy(byid[id]) or nil end
    function s.edges(filter)
        local out = {}
        for _, e in ipairs(edges) do if matches(e, filter) then out[#out + 1] = copy(e) end end
        return out
    end
    function s.edge(name)
        if type(name) ~= "string" then return nil end
        local a, b = name:match("^%s*(.-)%s*%->%s*(.-)%s*$")
        local e = a and byedge[a .. "->" .. b]
        return e and copy(e) or nil
    end
    function s.workload()
        local out = {}
        for i, w in ipairs(sources) do out[i] = copy(w) end
        return out
    end
    function s.zones()
        local out = sorted_keys(zones)
        return out
    end

    -- s.pick(ref, filter, what): ref when given (it must exist), else the first component
    -- matching filter (noted in the summary), else an error naming what was looked for.
    function s.pick(ref, filter, what)
        if ref ~= nil then return component("s.pick", ref).id end
        what = what or (filter and (filter.type or filter.behavior)) or "component"
        for _, c in ipairs(comps) do
            if matches(c, filter) then
                picks[#picks + 1] = fmt("%s: the first %s", c.id, what)
                return c.id
            end
        end
        fail("no %s in design '%s' to pick (its components: %s); name one with "
             .. "--scenario-param target=ID", what, design_name, id_list())
    end
    function s.pick_edge(ref, filter, what)
        if ref ~= nil then return edge("s.pick_edge", ref).name end
        what = what or "edge"
        for _, e in ipairs(edges) do
            if matches(e, filter) then
                picks[#picks + 1] = fmt("%s: the first %s", e.name, what)
                return e.name
            end
        end
        fail("no %s in design '%s' to pick; name one with --scenario-param target=FROM->TO",
             what, design_name)
    end
    -- s.window(at_s, for_s): the given times, or the run's middle third for those not given.
    function s.window(at_s, for_s)
        local third = floor(input.duration / 3 + 0.5)
        return at_s or third, for_s or third
    end
    -- s.callers(id): the call edges into a component (copies).
    function s.callers(id)
        return s.edges({ to = component("s.callers", id).id, mode = "call" })
    end
    function s.describe(text)
        if type(text) ~= "string" then fail("s.describe: needs a string, got %s", type(text)) end
        described = text
    end
    function s.note(text)
        if type(text) ~= "string" then fail("s.note: needs a string, got %s", type(text)) end
        notes[#notes + 1] = text
    end

    -- s.at(t, action, ...): the actions start at t seconds; returns them.
    function s.at(t, ...)
        number("s.at", "the time", t, 0, 1e7)
        local n = select("#", ...)
        if n == 0 then fail("s.at: give the actions to time, e.g. s.at(30, s.crash(\"db\"))") end
        for i = 1, n do
            local h = select(i, ...)
            local a = by_handle[h]
            if not a then
                fail("s.at: argument %d is not an action (s.crash, s.slow, s.spike ...), got %s",
                     i + 1, type(h))
            end
            if a.untimed then fail("s.at: %s lasts the whole run and has no time", a.what) end
            a.at = t
        end
        return ...
    end

    -- Faults on components.
    local function component_fault(fn, kind, target, o, extra)
        local c = component(fn, target)
        local at, dur = timing(fn, o)
        local a = { type = "fault", fault = kind, target = c.id, at = at, for_s = dur }
        for k, v in pairs(extra or {}) do a[k] = v end
        return new_action(a)
    end
    function s.crash(target, o)
        o = options("s.crash", o, { at_s = true, for_s = true, replica = true })
        local c = component("s.crash", target)
        local extra = {}
        if o.replica ~= nil then
            number("s.crash", "replica", o.replica, 0, c.max_replicas - 1)
            if o.replica ~= floor(o.replica) then
                fail("s.crash: replica must be a whole number, got %s", num_text(o.replica))
            end
            extra.replica = o.replica
        end
        return component_fault("s.crash", "crash", c.id, o, extra)
    end
    function s.slow(target, o)
        o = options("s.slow", o, { at_s = true, for_s = true, ms = true, factor = true })
        if (o.ms == nil) == (o.factor == nil) then
            fail("s.slow: give exactly one of ms (added to each service) or factor (multiplies "
                 .. "it)")
        end
        local extra = {}
        if o.ms ~= nil then extra.ms = number("s.slow", "ms", o.ms, 0, 1e9) end
        if o.factor ~= nil then
            extra.factor = number("s.slow", "factor", o.factor, 0, 1000, true)
        end
        return component_fault("s.slow", "latency", target, o, extra)
    end
    function s.errors(target, rate, o)
        o = options("s.errors", o, { at_s = true, for_s = true })
        number("s.errors", "the error rate", rate, 0, 1)
        return component_fault("s.errors", "error_rate", target, o, { rate = rate })
    end
    function s.capacity(target, factor, o)
        o = options("s.capacity", o, { at_s = true, for_s = true })
        number("s.capacity", "the factor", factor, 0, 1000, true)
        return component_fault("s.capacity", "capacity", target, o, { factor = factor })
    end
    function s.hit_ratio(target, ratio, o)
        o = options("s.hit_ratio", o, { at_s = true, for_s = true })
        local c = component("s.hit_ratio", target)
        if c.behavior ~= "cache" then
            fail("s.hit_ratio: '%s' is a %s, not a cache", c.id, c.type)
        end
        number("s.hit_ratio", "the hit ratio", ratio, 0, 1)
        return component_fault("s.hit_ratio", "hit_ratio", c.id, o, { ratio = ratio })
    end
    function s.zone_outage(zone, o)
        o = options("s.zone_outage", o, { at_s = true, for_s = true })
        if type(zone) ~= "string" then
            fail("s.zone_outage: the zone must be a string, got %s", type(zone))
        end
        if not zones[zone] then
            local zs = sorted_keys(zones)
            fail("s.zone_outage: no component is in zone '%s' (zones of design '%s': %s)", zone,
                 design_name, #zs > 0 and concat(zs, ", ") or "none")
        end
        local at, dur = timing("s.zone_outage", o)
        return new_action({ type = "fault", fault = "zone", zone = zone, at = at, for_s = dur })
    end

    -- Faults on edges.
    function s.partition(target, o)
        o = options("s.partition", o, { at_s = true, for_s = true })
        local e = edge("s.partition", target)
        local at, dur = timing("s.partition", o)
        return new_action({ type = "fault", fault = "partition", target = e.name, at = at,
                            for_s = dur })
    end
    function s.loss(target, rate, o)
        o = options("s.loss", o, { at_s = true, for_s = true })
        local e = edge("s.loss", target)
        number("s.loss", "the loss rate", rate, 0, 1)
        local at, dur = timing("s.loss", o)
        return new_action({ type = "fault", fault = "packet_loss", target = e.name, rate = rate,
                            at = at, for_s = dur })
    end

    -- Resilience of a call edge, for the whole run.
    local RESILIENCE = { timeout_ms = true, retries = true, backoff_ms = true, jitter = true,
                         retry_budget = true, breaker = true }
    function s.resilience(target, fields)
        local e = edge("s.resilience", target)
        fields = options("s.resilience", fields, RESILIENCE)
        if e.mode ~= "call" then
            fail("s.resilience: %s is a %s edge; timeouts and retries apply to call edges",
                 e.name, e.mode)
        end
        local set = {}
        if fields.timeout_ms ~= nil then
            set.timeout_ms = number("s.resilience", "timeout_ms", fields.timeout_ms, 0, 1e9)
        end
        if fields.retries ~= nil then
            set.retries = number("s.resilience", "retries", fields.retries, 0, 100)
            if set.retries ~= floor(set.retries) then
                fail("s.resilience: retries must be a whole number")
            end
        end
        if fields.retry_budget ~= nil then
            set.retry_budget = number("s.resilience", "retry_budget", fields.retry_budget, 0, 1)
        end
        if fields.jitter ~= nil then
            if type(fields.jitter) ~= "boolean" then
                fail("s.resilience: jitter is true or false")
            end
            set.jitter = fields.jitter
        end
        if fields.backoff_ms ~= nil then
            local b = options("s.resilience backoff_ms", fields.backoff_ms,
                              { base = true, max = true })
            set.backoff_ms = {
                base = number("s.resilience", "backoff_ms.base", b.base or 10, 0, 1e9),
                max = number("s.resilience", "backoff_ms.max", b.max or 1000, 0, 1e9),
            }
        end
        local remove = {}
        if fields.breaker == false then
            remove[1] = "breaker"
        elseif fields.breaker ~= nil then
            if type(fields.breaker) ~= "table" then
                fail("s.resilience: breaker is false (none) or {failures=, open_ms=, "
                     .. "half_open_probes=}")
            end
            set.breaker = copy(fields.breaker)
        end
        return new_action({ type = "edge", untimed = true, what = "s.resilience",
                            from = e.from, to = e.to, name = e.name, set = set,
                            remove = remove })
    end

    -- Load: extra open sources on the same targets as the design's own.
    local function open_sources(fn, to)
        local out = {}
        for _, w in ipairs(sources) do
            if w.rps and (to == nil or w.to == to) then out[#out + 1] = w end
        end
        if #out == 0 then
            fail("%s: design '%s' has no open workload (rps)%s to scale", fn, design_name,
                 to and (" into '" .. to .. "'") or "")
        end
        return out
    end
    function s.spike(factor, o)
        o = options("s.spike", o, { at_s = true, for_s = true, to = true })
        number("s.spike", "the factor", factor, 1, 1000)
        local to = o.to ~= nil and component("s.spike", o.to).id or nil
        local at, dur = timing("s.spike", o)
        return new_action({ type = "load", load = "spike", factor = factor, at = at,
                            for_s = dur, sources = open_sources("s.spike", to) })
    end
    -- s.ramp{to_factor=, over_s=, at_s=, to=}: the offered load grows linearly from its own
    -- rate to to_factor times it over over_s seconds from at_s, and stays there.
    function s.ramp(o)
        o = options("s.ramp", o, { at_s = true, over_s = true, to_factor = true, to = true })
        number("s.ramp", "to_factor", o.to_factor, 1, 1000)
        number("s.ramp", "over_s", o.over_s, 0, 1e7, true)
        local to = o.to ~= nil and component("s.ramp", o.to).id or nil
        local at = timing("s.ramp", o)
        return new_action({ type = "load", load = "ramp", factor = o.to_factor, at = at,
                            over_s = o.over_s, sources = open_sources("s.ramp", to) })
    end

    -- Deterministic random replica crashes: crash times a Poisson process of mean interval
    -- mean_interval_s from the seed, each crash a uniformly drawn target and replica, down
    -- for down_s. A replica already down is not crashed again (overlapping crashes of one
    -- replica would restore each other's state), and with keep_one (default) the last
    -- replica up of a component is spared.
    function s.chaos(o)
        o = options("s.chaos", o, { seed = true, mean_interval_s = true, down_s = true,
                                    targets = true, at_s = true, until_s = true,
                                    keep_one = true })
        local seed = number("s.chaos", "seed", o.seed or 1, 0, 2 ^ 53)
        local mean = number("s.chaos", "mean_interval_s", o.mean_interval_s or 20, 0, 1e7, true)
        local down = number("s.chaos", "down_s", o.down_s or 10, 0, 1e7, true)
        local targets = {}
        if o.targets ~= nil then
            if type(o.targets) ~= "table" then
                fail("s.chaos: targets must be a list of component ids, got %s", type(o.targets))
            end
            for _, t in ipairs(o.targets) do targets[#targets + 1] = component("s.chaos", t) end
        else
            for _, c in ipairs(comps) do
                if c.replicas > 1 then targets[#targets + 1] = c end
            end
        end
        if #targets == 0 then
            fail("s.chaos: design '%s' has no component with more than one replica to crash "
                 .. "(give targets = {...})", design_name)
        end
        local at = timing("s.chaos", o)
        local untl = o.until_s ~= nil and number("s.chaos", "until_s", o.until_s, 0, 1e7)
            or input.duration
        return new_action({ type = "chaos", at = at, until_s = untl, seed = seed, mean = mean,
                            down = down, targets = targets, keep_one = o.keep_one ~= false })
    end

    return s, {
        actions = function() return actions end,
        notes = notes, picks = picks,
        described = function() return described end,
    }
end

---------------------------------------------------------------------------------------------
-- From actions to the patch (child side).

local function label_of(name, file, line)
    local short = file:match("([^/]+)$") or file
    local l = fmt("scenario %s (%s%s)", name, short, line and (":" .. line) or "")
    return l:sub(1, S.LABEL_MAX)
end

local function window(a)
    local w = "at " .. num_text(a.at) .. " s"
    if a.for_s and a.for_s > 0 then w = w .. " for " .. num_text(a.for_s) .. " s" end
    return w
end

local FAULT_TEXT = {
    crash = function(a)
        return "crash " .. a.target
            .. (a.replica and (" replica " .. a.replica) or " (all replicas)")
    end,
    latency = function(a)
        return "slow " .. a.target .. (a.ms and (" +" .. num_text(a.ms) .. " ms")
                                       or (" x" .. num_text(a.factor)))
    end,
    error_rate = function(a) return pct(a.rate) .. " errors at " .. a.target end,
    capacity = function(a) return "capacity of " .. a.target .. " x" .. num_text(a.factor) end,
    hit_ratio = function(a) return "hit ratio of " .. a.target .. " " .. num_text(a.ratio) end,
    zone = function(a) return "zone " .. a.zone .. " down" end,
    partition = function(a) return "partition " .. a.target end,
    packet_loss = function(a) return pct(a.rate) .. " packet loss on " .. a.target end,
}

local function fault_entry(a, label)
    local f = { at_s = a.at, fault = a.fault, label = label }
    if a.for_s and a.for_s > 0 then f.for_s = a.for_s end
    for _, k in ipairs({ "target", "replica", "zone", "ms", "factor", "rate", "ratio" }) do
        if a[k] ~= nil then f[k] = a[k] end
    end
    return f
end

-- An extra source adding (factor - 1) x each source's rate over the action's window.
local function load_entries(a, label, out)
    local extra_total = 0
    for _, w in ipairs(a.sources) do
        local extra = (a.factor - 1) * w.rps
        extra_total = extra_total + extra
        local src = { to = w.to, rps = S.IDLE_RPS, label = label, keys = w.keys }
        if a.load == "spike" then
            local steps = { { at_s = a.at, rps = extra } }
            if a.for_s and a.for_s > 0 then
                steps[2] = { at_s = a.at + a.for_s, rps = S.IDLE_RPS }
            end
            src.pattern = { type = "steps", steps = steps }
        else
            src.pattern = { type = "ramp", start_s = a.at, over_s = a.over_s, to_rps = extra }
        end
        if extra > 0 then out[#out + 1] = src end
    end
    return extra_total
end

local function chaos_entries(a, label, faults)
    local rand = new_rng(a.seed)
    local down_until = {}
    local t, n, hit = a.at, 0, {}
    while true do
        t = t - a.mean * math.log(1 - rand())
        if t >= a.until_s then break end
        local c = a.targets[floor(rand() * #a.targets) + 1]
        local r = floor(rand() * c.replicas)
        local key = c.id .. "#" .. r
        local up = 0
        for i = 0, c.replicas - 1 do
            if (down_until[c.id .. "#" .. i] or -1) <= t then up = up + 1 end
        end
        local is_down = (down_until[key] or -1) > t
        if not is_down and not (a.keep_one and up <= 1) then
            if #faults >= S.MAX_ACTIONS then
                error(fmt("s.chaos: more than %d crashes; raise mean_interval_s", S.MAX_ACTIONS), 0)
            end
            down_until[key] = t + a.down
            faults[#faults + 1] = { at_s = floor(t * 1000 + 0.5) / 1000, fault = "crash",
                                    target = c.id, replica = r, for_s = a.down, label = label }
            n = n + 1
            hit[c.id] = true
        end
    end
    local names = {}
    for _, c in ipairs(a.targets) do names[#names + 1] = c.id end
    return fmt("chaos: %d replica crash%s of %s from %s s (seed %s, every ~%s s, %s s down each)",
               n, n == 1 and "" or "es", concat(names, ", "), num_text(a.at), num_text(a.seed),
               num_text(a.mean), num_text(a.down))
end

-- "timeout 100 ms, 4 retries, no retry budget, backoff 1-10 ms, no breaker"
local function resilience_text(a)
    local set, bits = a.set, {}
    if set.timeout_ms then bits[#bits + 1] = "timeout " .. num_text(set.timeout_ms) .. " ms" end
    if set.retries then bits[#bits + 1] = num_text(set.retries) .. " retries" end
    if set.retry_budget == 0 then bits[#bits + 1] = "no retry budget"
    elseif set.retry_budget then bits[#bits + 1] = "retry budget " .. pct(set.retry_budget) end
    if set.backoff_ms then
        bits[#bits + 1] = fmt("backoff %s-%s ms", num_text(set.backoff_ms.base),
                              num_text(set.backoff_ms.max))
    end
    if set.jitter ~= nil then bits[#bits + 1] = set.jitter and "jitter" or "no jitter" end
    if set.breaker then bits[#bits + 1] = "a breaker" end
    for _, k in ipairs(a.remove) do bits[#bits + 1] = "no " .. k end
    return concat(bits, ", ")
end

local function materialize(name, file, actions)
    local patch = { faults = {}, workload = {}, edges = {} }
    local origins = { faults = {}, workload = {}, edges = {} }
    local parts, edge_parts = {}, {}
    local function origin(list, a, before)
        for i = before + 1, #patch[list] do
            origins[list][i] = a.line and (file .. ":" .. a.line) or file
        end
    end
    for _, a in ipairs(actions) do
        local label = label_of(name, file, a.line)
        local nf, nw, ne = #patch.faults, #patch.workload, #patch.edges
        if a.type == "fault" then
            patch.faults[#patch.faults + 1] = fault_entry(a, label)
            parts[#parts + 1] = FAULT_TEXT[a.fault](a) .. " " .. window(a)
        elseif a.type == "load" then
            local extra = load_entries(a, label, patch.workload)
            if a.load == "spike" then
                parts[#parts + 1] = fmt("traffic x%s %s (+%s rps)", num_text(a.factor),
                                        window(a), num_text(floor(extra + 0.5)))
            else
                parts[#parts + 1] = fmt("traffic ramps to x%s from %s s over %s s (+%s rps)",
                                        num_text(a.factor), num_text(a.at), num_text(a.over_s),
                                        num_text(floor(extra + 0.5)))
            end
        elseif a.type == "chaos" then
            parts[#parts + 1] = chaos_entries(a, label, patch.faults)
        elseif a.type == "edge" then
            patch.edges[#patch.edges + 1] = { from = a.from, to = a.to, set = a.set,
                                              remove = a.remove }
            local text = resilience_text(a)
            local last = edge_parts[#edge_parts]
            if last and last.text == text then
                last.names[#last.names + 1] = a.name
            else
                edge_parts[#edge_parts + 1] = { text = text, names = { a.name } }
            end
        end
        origin("faults", a, nf)
        origin("workload", a, nw)
        origin("edges", a, ne)
        if #patch.faults + #patch.workload > S.MAX_ACTIONS then
            error(fmt("%s: the scenario adds more than %d faults and sources", file,
                      S.MAX_ACTIONS), 0)
        end
    end
    -- Edge changes last, edges with the same change named together.
    for _, g in ipairs(edge_parts) do
        parts[#parts + 1] = concat(g.names, ", ") .. ": " .. g.text
    end
    return patch, origins, parts
end

---------------------------------------------------------------------------------------------
-- Running a scenario file (child side).

local function load_spec(file)
    local chunk, err = host.sandbox_load(file)
    if not chunk then error(err, 0) end
    local spec = chunk()
    if type(spec) ~= "table" then
        error(fmt("%s: a scenario file returns a table {name=, description=, params=, "
                  .. "build=function(design, s, params) ... end}, got %s", file, type(spec)), 0)
    end
    if type(spec.build) ~= "function" then
        error(fmt("%s: the returned table needs build = function(design, s, params)", file), 0)
    end
    local stem = file:match("([^/]+)%.lua$") or file
    if spec.name ~= nil and type(spec.name) ~= "string" then
        error(fmt("%s: name must be a string", file), 0)
    end
    if spec.title ~= nil and type(spec.title) ~= "string" then
        error(fmt("%s: title must be a string", file), 0)
    end
    if spec.description ~= nil and type(spec.description) ~= "string" then
        error(fmt("%s: description must be a string", file), 0)
    end
    spec.name = spec.name or stem
    spec.params = check_param_specs(file, spec.params)
    return spec
end

local function run(file, input)
    local spec = load_spec(file)
    local params = resolve_params(file, spec.params, input.params)
    local s, state = new_dsl(file, input, params)
    spec.build(input.design, s, params)
    local patch, origins, parts = materialize(spec.name, file, state.actions())
    local body = state.described() or concat(parts, "; ")
    if #state.notes > 0 then body = body .. "; " .. concat(state.notes, "; ") end
    if #state.picks > 0 then body = body .. " (picked " .. concat(state.picks, "; ") .. ")" end
    if body == "" then body = "no changes" end
    return { ok = true, patch = patch, origins = origins,
             summary = spec.name .. " \226\128\148 " .. body }
end

-- host.run_scenario's child: input is JSON {name, design, components, edges, workload,
-- params, duration}; returns JSON {ok, patch, origins, summary} or {ok = false, error}.
function S.apply_json(file, input_text)
    local j = codec()
    local input = j.decode(input_text)
    host.cap_memory(S.MEMORY)
    local ok, res = host.pcall_budget(S.BUDGET, run, file, input)
    local out = res
    if not ok then
        local msg = first_line(res)
        if msg:sub(1, #file) ~= file then msg = file .. ": " .. msg end
        out = { ok = false, error = msg }
    end
    local eok, text = pcall(j.encode, out)
    if not eok then
        text = j.encode({ ok = false, error = file .. ": the scenario's result cannot be "
            .. "written as JSON: " .. first_line(text) })
    end
    return text
end

local function param_line(k, p)
    local bits = { p.type }
    if p.default ~= nil then
        bits[#bits + 1] = "default " .. (type(p.default) == "table" and concat(p.default, ",")
                                          or tostring(p.default))
    end
    return fmt("      %-16s %s%s", k, type(p.help) == "string" and (p.help .. " ") or "",
               "(" .. concat(bits, ", ") .. ")")
end

-- host.list_scenarios's child: every scenario under dir with its description and params.
function S.list_text(dir)
    local files, err = host.list_lua(dir)
    if not files then return "cannot list " .. dir .. ": " .. tostring(err) .. "\n" end
    local out = { "scenarios (sdsim run FILE --scenario NAME [--scenario-param KEY=VALUE ...]):",
                  "" }
    host.cap_memory(S.MEMORY)
    for _, f in ipairs(files) do
        local stem = f:gsub("%.lua$", "")
        local ok, spec = host.pcall_budget(S.BUDGET / 10, load_spec, dir .. "/" .. f)
        if not ok then
            out[#out + 1] = fmt("  %-22s (broken: %s)", stem, first_line(spec))
        else
            out[#out + 1] = fmt("  %-22s %s", stem, spec.description or "")
            for _, k in ipairs(sorted_keys(spec.params)) do
                out[#out + 1] = param_line(k, spec.params[k])
            end
        end
    end
    return concat(out, "\n") .. "\n"
end

-- The leading comment block of a file, as one paragraph ("" when none or unreadable).
local function about_of(path)
    local f = io and io.open(path, "r")
    if not f then return "" end
    local lines = {}
    for line in f:lines() do
        local text = line:match("^%-%-%s?(.*)$")
        if not text or line:match("^%-%-%[") then break end
        lines[#lines + 1] = text
    end
    f:close()
    return (concat(lines, " "):gsub("%s+", " "):gsub("^%s+", ""):gsub("%s+$", ""))
end

-- "db_failover" -> "Db failover": the title of a scenario without one.
local function title_of(name)
    local t = name:gsub("_", " ")
    return (t:gsub("^%l", string.upper))
end

-- host.list_scenarios(dir, "json")'s child: every scenario under dir as JSON {scenarios =
-- [{name, title, description, about, params} or {name, error}]}, sorted by name.
function S.list_json(dir)
    local j = codec()
    local files, err = host.list_lua(dir)
    if not files then
        return j.encode({ error = "cannot list " .. dir .. ": " .. tostring(err) })
    end
    host.cap_memory(S.MEMORY)
    local out = {}
    for _, f in ipairs(files) do
        local stem = f:gsub("%.lua$", "")
        local ok, spec = host.pcall_budget(S.BUDGET / 10, load_spec, dir .. "/" .. f)
        if not ok then
            out[#out + 1] = { name = stem, error = first_line(spec) }
        else
            local params = {}
            for k, p in pairs(spec.params) do
                params[k] = { type = p.type, default = p.default, min = p.min, max = p.max,
                              help = type(p.help) == "string" and p.help or nil }
            end
            out[#out + 1] = { name = stem,
                              title = type(spec.title) == "string" and spec.title
                                  or title_of(stem),
                              description = spec.description or "",
                              about = about_of(dir .. "/" .. f),
                              params = params }
        end
    end
    sort(out, function(a, b) return a.name < b.name end)
    return j.encode({ scenarios = out })
end

---------------------------------------------------------------------------------------------
-- The parent side: D.load with the scenario applied between decoding and validation.

-- What the scenario may inspect, from the normalized document.
local function describe_design(norm)
    local comps, edges, workload = {}, {}, {}
    for i, c in ipairs(norm.components) do
        local p = c.params or {}
        local as = p.autoscale
        comps[i] = { id = c.id, type = c.type, behavior = c.behavior, replicas = c.replicas or 1,
                     zone = c.zone, workers = p.workers, index = i - 1,
                     max_replicas = math.max(c.replicas or 1,
                                             as and as.enabled and as.max or 0) }
    end
    for i, e in ipairs(norm.edges) do
        edges[i] = { from = e.from, to = e.to, mode = e.mode, p = e.p, latency_ms = e.latency_ms,
                     timeout_ms = e.timeout_ms, retries = e.retries,
                     retry_budget = e.retry_budget, breaker = e.breaker and true or false,
                     index = i - 1 }
    end
    for i, w in ipairs(norm.workload) do
        workload[i] = { to = w.to, rps = w.rps, users = w.users, keys = w.keys,
                        pattern = w.pattern and w.pattern.type or nil, index = i - 1 }
    end
    return comps, edges, workload
end

local function append(doc, field, items)
    if #items == 0 then return 0 end
    if type(doc[field]) ~= "table" then doc[field] = {} end
    local list = doc[field]
    local base = #list
    for i, x in ipairs(items) do list[base + i] = x end
    return base
end

local function apply_patch(doc, patch)
    local at = { scenario = append(doc, "scenario", patch.faults or {}),
                 workload = append(doc, "workload", patch.workload or {}), edges = {} }
    for _, ch in ipairs(patch.edges or {}) do
        for i, e in ipairs(doc.edges or {}) do
            if type(e) == "table" and e.from == ch.from and e.to == ch.to then
                for k, v in pairs(ch.set or {}) do e[k] = v end
                for _, k in ipairs(ch.remove or {}) do e[k] = nil end
                at.edges[#at.edges + 1] = i
            end
        end
    end
    return at
end

-- Problems in what the scenario added get the file:line that added it in front.
local function annotate(problems, at, origins)
    for _, p in ipairs(problems) do
        local field, idx = (p.path or ""):match("^%$%.(%a+)%[(%d+)%]")
        idx = tonumber(idx)
        local where
        if field == "scenario" and idx and idx >= at.scenario then
            where = origins.faults[idx - at.scenario + 1]
        elseif field == "workload" and idx and idx >= at.workload then
            where = origins.workload[idx - at.workload + 1]
        elseif field == "edges" and idx then
            for n, i in ipairs(at.edges) do
                if i == idx + 1 then where = origins.edges[n] end
            end
        end
        if where then p.reason = "(from the scenario at " .. where .. ") " .. p.reason end
    end
end

-- Returns engine, normalized document, problems, info {summary, error}; like D.load.
function S.load(kind_, arg, root, default_name, scen)
    local info = {}
    local doc, problems
    if kind_ == "lua" then
        doc, problems = D.run_template_isolated(arg)
    else
        doc, problems = D.decode_json(arg)
    end
    if not doc then return nil, nil, problems, info end
    local types, broken, names = D.load_types(root)
    if broken["*"] then
        return nil, nil, { { path = "$", reason = "cannot read component types: "
            .. broken["*"] } }, info
    end
    -- The design itself first: a scenario needs a valid design to look at.
    local norm
    norm, problems = D.validate(doc, types, names, broken, default_name)
    if not norm then return nil, nil, problems, info end
    local j = codec()
    local comps, edges, workload = describe_design(norm)
    local ok, input = pcall(j.encode, {
        name = norm.name, design = D.public(norm), components = comps, edges = edges,
        workload = workload, params = scen.params, duration = scen.duration,
    })
    if not ok then
        info.error = scen.file .. ": cannot hand the design to the scenario: " .. first_line(input)
        return nil, nil, {}, info
    end
    local text, why = host.run_scenario(scen.file, input)
    if not text then
        info.error = fmt("%s: the scenario %s", scen.file, why)
        return nil, nil, {}, info
    end
    local rok, res = pcall(j.decode, text)
    if not rok or type(res) ~= "table" then
        info.error = fmt("%s: the scenario's result could not be read back (%s)", scen.file,
                         first_line(res))
        return nil, nil, {}, info
    end
    if not res.ok then
        info.error = tostring(res.error)
        return nil, nil, {}, info
    end
    info.summary = res.summary
    local at = apply_patch(doc, res.patch or {})
    norm, problems = D.validate(doc, types, names, broken, default_name)
    if not norm then
        annotate(problems, at, res.origins or {})
        return nil, nil, problems, info
    end
    return D.to_engine(norm), norm, problems, info
end

return S
