-- The design document: decode, normalize, validate, and convert for the engine.
--
-- Loaded by host/design_load.c as a chunk that receives one argument, `host`, a table of C
-- helpers (list_lua, run_file); it returns the module table D. Every check collects a
-- problem {path = "$.components[2].replicas", reason = "..."} and carries on, so one pass
-- reports everything wrong with a document. docs/design-format.md is the prose version of
-- the rules below and docs/design.schema.json the JSON Schema: keep the three in sync.
local host = ...
local cjson_mod = require("cjson")

local D = {}
local floor, huge = math.floor, math.huge
local fmt = string.format
local sort, concat = table.sort, table.concat

D.LIMITS = {
    json_bytes = 16 * 1024 * 1024, -- a design file larger than this is refused unread
    depth = 64,                    -- JSON nesting, and Lua tables returned by templates
    components = 100000,
    replicas = 10000,
    workers = 100000,
    servers = 10000000,            -- sum over components of replicas x workers
    edges = 1000000,
    workloads = 10000,
    faults = 100000,
    steps = 32,                    -- engine/model.h SIM_MAX_STEPS
    empirical = 1000000,
    id_len = 63,                   -- engine/model.h SIM_ID_MAX - 1
    zone_len = 31,                 -- SIM_ZONE_MAX - 1
    name_len = 127,
    rps = 10000000,
    users = 1000000,
    ms = 1e9,                      -- any duration in ms (about 11.6 days)
    s = 1e7,                       -- any time in seconds (about 115 days)
    problems = 200,                -- then one line saying how many more
    template_instructions = 50000000,
    template_memory = 256 * 1024 * 1024,
}
local L = D.LIMITS

D.BEHAVIORS = { "service", "balancer", "cache", "database", "queue" }
D.POLICIES = { "round_robin", "random", "least_conn", "p2c", "consistent_hash", "weighted" }
D.DISTS = { "const", "exp", "erlang", "hyperexp", "lognormal", "uniform", "empirical" }
D.MODES = { "call", "forward", "async" }
D.PATTERNS = { "constant", "ramp", "spike", "diurnal", "steps" }
D.FAULTS = { "crash", "latency", "error_rate", "partition", "zone", "capacity", "hit_ratio",
             "packet_loss" }

---------------------------------------------------------------------------------------------
-- Problems and paths

local function new_problems()
    return { list = {}, more = 0 }
end

local field_path, index_path -- below

-- P.key / P.idx: a scalar being checked whose path is not built unless it has a problem
-- (paths for every valid value were most of the validation time of large designs).
local function add(P, path, reason, ...)
    if #P.list >= L.problems then
        P.more = P.more + 1
        return
    end
    if P.key then
        path = field_path(path, P.key)
    elseif P.idx then
        path = index_path(path, P.idx)
    end
    if select("#", ...) > 0 then reason = fmt(reason, ...) end
    P.list[#P.list + 1] = { path = path, reason = reason }
end

local function finish(P)
    if P.more > 0 then
        P.list[#P.list + 1] = { path = "$", reason = fmt("... and %d more problems", P.more) }
        P.more = 0
    end
    return P.list
end

-- Paths are built for every value checked, so the suffix for each key is memoized.
local key_suffix = setmetatable({}, { __mode = "k" })
function field_path(path, key)
    local sfx = key_suffix[key]
    if not sfx then
        if type(key) == "string" and key:match("^[%a_][%w_]*$") then
            sfx = "." .. key
        else
            sfx = "[" .. fmt("%q", tostring(key)):gsub("\\\n", "\\n") .. "]"
        end
        if type(key) == "string" and #key <= 64 then key_suffix[key] = sfx end
    end
    return path .. sfx
end

function index_path(path, i) return path .. "[" .. (i - 1) .. "]" end

---------------------------------------------------------------------------------------------
-- Values

local NULL = cjson_mod.null

local function set_of(list)
    local s = {}
    for _, v in ipairs(list) do s[v] = true end
    return s
end

-- "array", "object", "empty" (an empty table: [] and {} decode alike), "mixed", or the Lua
-- type name, with "null" for JSON null.
local function kind(v)
    local t = type(v)
    if t == "table" then
        local n, strings, numbers = 0, 0, 0
        for k in next, v do
            n = n + 1
            if type(k) == "string" then strings = strings + 1
            elseif type(k) == "number" then numbers = numbers + 1 end
        end
        if n == 0 then return "empty" end
        if strings == n then return "object" end
        if numbers == n then
            for i = 1, n do if rawget(v, i) == nil then return "mixed" end end
            return "array"
        end
        return "mixed"
    end
    if v == NULL then return "null" end
    return t
end

local function num_text(x)
    if x ~= x then return "NaN" end
    if x == huge then return "Infinity" end
    if x == -huge then return "-Infinity" end
    if x == floor(x) and math.abs(x) < 1e15 then return fmt("%d", x) end
    return fmt("%.10g", x)
end

local function describe(v)
    local k = kind(v)
    if k == "string" then
        local s = #v > 40 and (v:sub(1, 37) .. "...") or v
        return fmt("the string %q", s)
    elseif k == "number" then return "the number " .. num_text(v)
    elseif k == "boolean" then return tostring(v)
    elseif k == "array" then return "an array"
    elseif k == "object" then return "an object"
    elseif k == "empty" then return "an empty array or object"
    elseif k == "mixed" then return "a table mixing list items and named fields"
    elseif k == "null" then return "null"
    elseif k == "nil" then return "nothing"
    end
    return "a " .. k
end

local function is_object(v) local k = kind(v); return k == "object" or k == "empty" end
local function is_array(v) local k = kind(v); return k == "array" or k == "empty" end

-- Levenshtein distance, for "did you mean".
local function distance(a, b)
    if math.abs(#a - #b) > 3 then return 99 end
    local prev, cur = {}, {}
    for j = 0, #b do prev[j] = j end
    for i = 1, #a do
        cur[0] = i
        local ca = a:byte(i)
        for j = 1, #b do
            local cost = (ca == b:byte(j)) and 0 or 1
            cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
        end
        prev, cur = cur, prev
    end
    return prev[#b]
end

local function suggest(word, candidates)
    if type(word) ~= "string" then return "" end
    local best, bestd = nil, 99
    local lw = word:lower()
    for _, c in ipairs(candidates) do
        local lc = c:lower()
        local d = (lc == lw) and 0 or distance(lw, lc)
        -- "latency" for "latency_ms": a unit suffix left out.
        if d > 1 and #lw >= 3 and lc:sub(1, #lw + 1) == lw .. "_" then d = 1 end
        if d < bestd then best, bestd = c, d end
    end
    local allowed = #word <= 4 and 1 or (#word <= 8 and 2 or 3)
    if best and bestd <= allowed then return fmt(" (did you mean '%s'?)", best) end
    return ""
end

local function sorted_keys(t)
    local keys = {}
    for k in next, t do keys[#keys + 1] = k end
    sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    return keys
end

-- The sorted field names of a spec table (specs are never changed once built: memoized).
local keys_memo = setmetatable({}, { __mode = "k" })
local function keys_of(spec_fields)
    local ks = keys_memo[spec_fields]
    if ks then return ks end
    ks = {}
    for k in pairs(spec_fields) do ks[#ks + 1] = k end
    sort(ks)
    keys_memo[spec_fields] = ks
    return ks
end

-- The keys of t that fields does not declare, sorted (so problems come in a stable order).
local function unknown_keys(t, fields)
    local ks
    for k in next, t do
        if fields[k] == nil then
            ks = ks or {}
            ks[#ks + 1] = k
        end
    end
    if not ks then return {} end
    sort(ks, function(a, b) return tostring(a) < tostring(b) end)
    return ks
end

local function deep_copy(v)
    if type(v) ~= "table" then return v end
    local c = {}
    for k, x in next, v do c[k] = deep_copy(x) end
    return c
end

---------------------------------------------------------------------------------------------
-- Checking one value against a field spec
--
-- A spec: { type = "int" | "number" | "string" | "enum" | "bool" | "dist" | "object" | "array",
--   default, required, min, max, exclusive_min (min itself not allowed), values (enum),
--   max_len (string), pattern + pattern_help (string), fields (object), items + min_items +
--   max_items (array), unit, help }. The same language declares component parameters.

local check_value -- forward
local SCALAR = { int = true, number = true, string = true, enum = true, bool = true }

local function range_problem(P, path, x, spec)
    local lo, hi = spec.min, spec.max
    local below = lo and (x < lo or (spec.exclusive_min and x == lo))
    if not below and not (hi and x > hi) then return false end
    local parts = {}
    if lo then parts[1] = fmt("%s %s", spec.exclusive_min and ">" or ">=", num_text(lo)) end
    if hi then parts[#parts + 1] = "<= " .. num_text(hi) end
    add(P, path, "%s is out of range: must be %s%s", num_text(x), concat(parts, " and "),
        spec.help and ("; " .. spec.help) or "")
    return true
end

local function check_number(P, path, v, spec)
    local want = spec.type == "int" and "an integer" or "a number"
    if type(v) ~= "number" then
        add(P, path, "expected %s, got %s", want, describe(v))
        return nil
    end
    if v ~= v then add(P, path, "NaN is not a number a design may use"); return nil end
    if v == huge or v == -huge then
        add(P, path, "%s is not finite (a literal like 1e999 overflows)", num_text(v))
        return nil
    end
    if spec.type == "int" and v ~= floor(v) then
        add(P, path, "expected an integer, got %s", num_text(v))
        return nil
    end
    if range_problem(P, path, v, spec) then return nil end
    return v
end

local function check_string(P, path, v, spec)
    if type(v) ~= "string" then
        add(P, path, "expected a string, got %s", describe(v))
        return nil
    end
    local max_len = spec.max_len or 1024
    if #v > max_len then
        add(P, path, "too long: %d bytes, at most %d", #v, max_len)
        return nil
    end
    if spec.pattern and not v:match(spec.pattern) then
        add(P, path, "%s is not valid: %s", describe(v), spec.pattern_help or spec.pattern)
        return nil
    end
    return v
end

local function check_enum(P, path, v, spec)
    if type(v) ~= "string" then
        add(P, path, "expected one of %s, got %s", concat(spec.values, ", "), describe(v))
        return nil
    end
    for _, x in ipairs(spec.values) do if x == v then return v end end
    add(P, path, "unknown value '%s'%s; expected one of %s", v, suggest(v, spec.values),
        concat(spec.values, ", "))
    return nil
end

-- Checks the listed fields of v (only those present, plus required ones), no unknown-field
-- pass; fills defaults into out and returns it.
local function check_fields(P, path, v, fields, out)
    for _, k in ipairs(keys_of(fields)) do
        local spec, x = fields[k], v[k]
        if spec.custom then -- checked by its own code
        elseif x == nil then
            if spec.required then
                add(P, field_path(path, k), "missing: %s is required%s", k,
                    spec.help and (" (" .. spec.help .. ")") or "")
            elseif spec.default ~= nil then
                out[k] = deep_copy(spec.default)
            end
        elseif SCALAR[spec.type] and type(x) ~= "table" then
            P.key = k
            out[k] = check_value(P, path, x, spec)
            P.key = nil
        else
            out[k] = check_value(P, field_path(path, k), x, spec)
        end
    end
    return out
end

-- Checks the fields of an object: unknown keys, required ones, each value; fills defaults.
-- Returns the normalized copy (nil when v is not an object).
local function check_object(P, path, v, fields, what)
    if not is_object(v) then
        add(P, path, "expected an object%s, got %s", what and (" (" .. what .. ")") or "",
            describe(v))
        return nil
    end
    local names = keys_of(fields)
    local out = {}
    for _, k in ipairs(unknown_keys(v, fields)) do
        do
            add(P, field_path(path, k), "unknown field %s%s; known fields: %s",
                type(k) == "string" and fmt("'%s'", k) or describe(k), suggest(k, names),
                concat(names, ", "))
        end
    end
    return check_fields(P, path, v, fields, out)
end

local function check_array(P, path, v, spec)
    if not is_array(v) then
        add(P, path, "expected an array, got %s", describe(v))
        return nil
    end
    local n = #v
    if spec.min_items and n < spec.min_items then
        add(P, path, "needs at least %d item%s, has %d", spec.min_items,
            spec.min_items == 1 and "" or "s", n)
    end
    if spec.max_items and n > spec.max_items then
        add(P, path, "too many items: %d, at most %d", n, spec.max_items)
        return nil
    end
    local out = {}
    local items = spec.items
    if SCALAR[items.type] then
        for i = 1, n do
            P.idx = i
            out[i] = check_value(P, path, v[i], items)
        end
        P.idx = nil
    else
        for i = 1, n do out[i] = check_value(P, index_path(path, i), v[i], items) end
    end
    return out
end

-- Service and think times: { dist, mean_ms, scv, k, values_ms }.
local DIST_FIELDS = {
    const = { mean_ms = true },
    exp = { mean_ms = true },
    erlang = { mean_ms = true, k = true },
    hyperexp = { mean_ms = true, scv = true },
    lognormal = { mean_ms = true, scv = true },
    uniform = { mean_ms = true, scv = true },
    empirical = { values_ms = true },
}
local DIST_SCV = {
    hyperexp = { type = "number", min = 1, max = 1000, need = "scv >= 1" },
    lognormal = { type = "number", min = 0, exclusive_min = true, max = 1000, need = "scv > 0" },
    uniform = { type = "number", min = 0, max = 1 / 3, need = "0 <= scv <= 1/3" },
}
local DIST_ALL = { dist = true, mean_ms = true, scv = true, k = true, values_ms = true }

local function check_dist(P, path, v)
    if not is_object(v) then
        add(P, path, "expected a distribution object like {\"dist\": \"exp\", \"mean_ms\": 5}, "
            .. "got %s", describe(v))
        return nil
    end
    local all = keys_of(DIST_ALL)
    for _, k in ipairs(unknown_keys(v, DIST_ALL)) do
        do
            add(P, field_path(path, k), "unknown field %s%s; known fields: %s",
                type(k) == "string" and fmt("'%s'", k) or describe(k), suggest(k, all),
                concat(all, ", "))
        end
    end
    if v.dist == nil then
        add(P, field_path(path, "dist"), "missing: dist is required (one of %s)",
            concat(D.DISTS, ", "))
        return nil
    end
    local name = check_enum(P, field_path(path, "dist"), v.dist, { values = D.DISTS })
    if not name then return nil end
    local allowed, ok = DIST_FIELDS[name], true
    for _, k in ipairs({ "mean_ms", "scv", "k", "values_ms" }) do
        if v[k] ~= nil and not allowed[k] then
            add(P, field_path(path, k), "%s does not apply to dist '%s'%s", k, name,
                name == "exp" and k == "scv" and " (its scv is 1)" or "")
            ok = false
        end
    end
    local out = { dist = name }
    if allowed.mean_ms then
        local spec = { type = "number", min = 0, exclusive_min = name ~= "const", max = L.ms }
        if v.mean_ms == nil then
            add(P, field_path(path, "mean_ms"), "missing: dist '%s' needs mean_ms", name)
            ok = false
        else
            out.mean_ms = check_number(P, field_path(path, "mean_ms"), v.mean_ms, spec)
            ok = ok and out.mean_ms ~= nil
        end
    end
    if allowed.scv then
        if v.scv == nil then
            add(P, field_path(path, "scv"), "missing: dist '%s' needs scv (%s)", name,
                DIST_SCV[name].need)
            ok = false
        else
            out.scv = check_number(P, field_path(path, "scv"), v.scv, DIST_SCV[name])
            ok = ok and out.scv ~= nil
        end
    end
    if allowed.k then
        if v.k == nil then
            add(P, field_path(path, "k"), "missing: dist 'erlang' needs k (phases, 1 to 1000)")
            ok = false
        else
            out.k = check_number(P, field_path(path, "k"), v.k,
                { type = "int", min = 1, max = 1000 })
            ok = ok and out.k ~= nil
        end
    end
    if allowed.values_ms then
        local spec = { type = "array", min_items = 1, max_items = L.empirical,
                       items = { type = "number", min = 0, max = L.ms } }
        if v.values_ms == nil then
            add(P, field_path(path, "values_ms"),
                "missing: dist 'empirical' needs values_ms (a non-empty array of ms)")
            ok = false
        else
            local n0 = #P.list + P.more
            out.values_ms = check_array(P, field_path(path, "values_ms"), v.values_ms, spec)
            ok = ok and out.values_ms ~= nil and #P.list + P.more == n0
        end
    end
    return ok and out or nil
end

check_value = function(P, path, v, spec)
    local t = spec.type
    if v == NULL then
        add(P, path, "null is not allowed here: leave the field out instead")
        return nil
    end
    if t == "int" or t == "number" then return check_number(P, path, v, spec)
    elseif t == "string" then return check_string(P, path, v, spec)
    elseif t == "enum" then return check_enum(P, path, v, spec)
    elseif t == "bool" then
        if type(v) ~= "boolean" then
            add(P, path, "expected true or false, got %s", describe(v))
            return nil
        end
        return v
    elseif t == "dist" then return check_dist(P, path, v)
    elseif t == "object" then return check_object(P, path, v, spec.fields)
    elseif t == "array" then return check_array(P, path, v, spec)
    end
    error("design.lua: unknown spec type " .. tostring(t))
end

D.check_value = check_value

---------------------------------------------------------------------------------------------
-- Standard component parameters: what the engine understands. Component type files pick
-- them with std.param(name, overrides) (see components/service.lua) or declare their own.

local ID_PATTERN = "^[%a_][%w_.-]*$"
local ID_HELP = "an id starts with a letter or _ and continues with letters, digits, _ . -"

D.STD_PARAMS = {
    workers = { type = "int", default = 1, min = 0, max = L.workers, unit = "servers",
                help = "servers per replica; 0 = as many as needed (a delay station)" },
    queue = { type = "int", min = 0, max = 100000000, unit = "requests",
              help = "waiting places per replica beyond the workers; absent = unbounded" },
    service_time = { type = "dist", default = { dist = "exp", mean_ms = 5 },
                     help = "time one worker spends on one request" },
    policy = { type = "enum", values = D.POLICIES, default = "round_robin",
               help = "how arrivals are spread over replicas (and over edges for a balancer)" },
    hit_ratio = { type = "number", min = 0, max = 1, default = 0.8,
                  help = "probability that a request is answered without the outgoing edges" },
    read_ratio = { type = "number", min = 0, max = 1, default = 0.9,
                   help = "probability that a request is a read (writes go to replica 0)" },
    fanout = { type = "enum", values = { "sequential", "all" }, default = "sequential",
               help = "all: call every taken call edge at once and wait for all" },
    error_rate = { type = "number", min = 0, max = 1, default = 0,
                   help = "probability that a service ends in an error" },
    cost_per_hour = { type = "number", min = 0, max = 1000000, default = 0, unit = "USD",
                      help = "per replica" },
    rate_limit = { type = "object", help = "token bucket in front of the component",
        fields = {
            rps = { type = "number", required = true, min = 0, exclusive_min = true,
                    max = L.rps, unit = "1/s", help = "tokens per second" },
            burst = { type = "number", min = 1, max = 1e9,
                      help = "bucket size; default: rps (one second of tokens), at least 1" },
        } },
    shed = { type = "object", help = "shed requests that waited too long",
        fields = {
            max_wait_ms = { type = "number", required = true, min = 0, exclusive_min = true,
                            max = L.ms, unit = "ms" },
        } },
    autoscale = { type = "object", help = "replica autoscaling on utilization",
        fields = {
            enabled = { type = "bool", default = true },
            target_utilization = { type = "number", default = 0.6, min = 0,
                                   exclusive_min = true, max = 1 },
            min = { type = "int", min = 1, max = L.replicas,
                    help = "fewest replicas; default: the component's replicas" },
            max = { type = "int", min = 1, max = L.replicas,
                    help = "most replicas; default: 4 x the component's replicas" },
            cooldown_s = { type = "number", default = 30, min = 0, max = L.s, unit = "s" },
            provision_s = { type = "number", default = 10, min = 0, max = L.s, unit = "s" },
            interval_s = { type = "number", default = 0, min = 0, max = L.s, unit = "s",
                           help = "between evaluations; 0 = the metrics window" },
        } },
}

-- A copy of a standard parameter spec with some entries replaced.
function D.std_param(name, overrides)
    local base = D.STD_PARAMS[name]
    if not base then error("std.param: no standard parameter '" .. tostring(name) .. "'", 2) end
    local spec = deep_copy(base)
    for k, v in pairs(overrides or {}) do spec[k] = deep_copy(v) end
    return spec
end

---------------------------------------------------------------------------------------------
-- Component types (components/*.lua)

local SPEC_TYPES = set_of({ "int", "number", "string", "enum", "bool", "dist", "object" })

-- Checks a parameter spec declared by a component type; returns a reason or nil.
local function bad_spec(name, spec, depth)
    if type(spec) ~= "table" then return fmt("params.%s must be a table", name) end
    if not SPEC_TYPES[spec.type] then
        return fmt("params.%s.type must be one of int, number, string, enum, bool, dist, object",
                   name)
    end
    if spec.type == "enum" and (type(spec.values) ~= "table" or #spec.values == 0) then
        return fmt("params.%s: an enum needs values = {...}", name)
    end
    if spec.type == "object" then
        if type(spec.fields) ~= "table" or depth > 4 then
            return fmt("params.%s: an object needs fields = {...}", name)
        end
        for k, f in pairs(spec.fields) do
            local r = bad_spec(name .. "." .. tostring(k), f, depth + 1)
            if r then return r end
        end
    end
    if spec.default ~= nil then
        local P = new_problems()
        check_value(P, "default", spec.default, spec)
        if #P.list > 0 then
            return fmt("params.%s.default: %s", name, P.list[1].reason)
        end
    end
    return nil
end

-- edge_params = {edge field = parameter name}: the type's outgoing call edges take these
-- fields from the component's parameters unless the edge sets them (a circuit_breaker
-- component's breaker and timeout). Only the call-edge resilience fields may be named.
local EDGE_PARAM_FIELDS = set_of({ "timeout_ms", "retries", "backoff_ms", "jitter",
                                   "retry_budget", "breaker" })

local function bad_edge_params(t)
    if t.edge_params == nil then return nil end
    if type(t.edge_params) ~= "table" then return "edge_params must be a table" end
    for field, pname in pairs(t.edge_params) do
        if not EDGE_PARAM_FIELDS[field] then
            return fmt("edge_params: '%s' is not a call edge field a type may set", tostring(field))
        end
        if type(pname) ~= "string" or t.params[pname] == nil then
            return fmt("edge_params.%s must name a declared parameter", field)
        end
    end
    return nil
end

-- Validates one component type table; returns the type or nil, reason.
function D.check_type(t, stem)
    if type(t) ~= "table" then return nil, "must return a table, returned " .. describe(t) end
    if t.name ~= stem then
        return nil, fmt("name must be '%s' (the file name), is %s", stem, describe(t.name))
    end
    if type(t.behavior) == "function" then -- a Lua behaviour (docs/plugin-api.md)
        if t.init ~= nil and type(t.init) ~= "function" then
            return nil, "init must be a function (called once per run with ctx)"
        end
        t.behavior = "script"
    elseif not set_of(D.BEHAVIORS)[t.behavior] then
        return nil, fmt("behavior must be one of %s, or a function (a Lua behaviour, "
                        .. "docs/plugin-api.md)", concat(D.BEHAVIORS, ", "))
    end
    if type(t.params) ~= "table" then return nil, "params must be a table" end
    for _, k in ipairs(sorted_keys(t.params)) do
        if type(k) ~= "string" then return nil, "params keys must be strings" end
        local r = bad_spec(k, t.params[k], 0)
        if r then return nil, r end
        local std = D.STD_PARAMS[k]
        if std and std.type ~= t.params[k].type then
            return nil, fmt("params.%s must have type '%s' (the engine reads it)", k, std.type)
        end
    end
    local r0 = bad_edge_params(t)
    if r0 then return nil, r0 end
    local defaults = t.defaults or {}
    if type(defaults) ~= "table" then return nil, "defaults must be a table" end
    local r = defaults.replicas
    if r ~= nil and (type(r) ~= "number" or r ~= floor(r) or r < 1 or r > L.replicas) then
        return nil, "defaults.replicas must be an integer from 1 to " .. L.replicas
    end
    return t
end

local function sandbox_extras()
    return { std = { param = D.std_param, params = deep_copy(D.STD_PARAMS) } }
end

-- Loads every components/*.lua under root. Returns types (name -> type), broken (name ->
-- reason) and the sorted list of good names.
function D.load_types(root)
    local dir = root .. "/components"
    local files, err = host.list_lua(dir)
    local types, broken, names = {}, {}, {}
    if not files then
        broken["*"] = err
        return types, broken, names
    end
    for _, file in ipairs(files) do
        local stem = file:gsub("%.lua$", "")
        local ok, t = host.run_file(dir .. "/" .. file, sandbox_extras(), 10000000,
                                    64 * 1024 * 1024)
        local reason
        if ok then t, reason = D.check_type(t, stem) end
        if ok and t then
            t.file, t.plugin = dir .. "/" .. file, false
            types[stem] = t
            names[#names + 1] = stem
        else
            broken[stem] = ok and (dir .. "/" .. file .. ": " .. reason) or t
        end
    end
    D.load_plugins(types, broken, names)
    sort(names)
    D.last_types = types -- D.to_engine's default (script components need their type's file)
    return types, broken, names
end

-- Plugin directories (sdsim run --plugins DIR sets SDSIM_PLUGINS, ':'-separated): their types
-- are validated like the built-ins and marked as plugins (their runs are isolated). A broken
-- plugin, or one reusing a built-in name, is listed in D.plugin_problems ("file:line: reason")
-- (and in broken under its name unless a working type has it): it never replaces a working
-- type.
function D.load_plugins(types, broken, names)
    local dirs = host.plugin_dirs and host.plugin_dirs()
    if dirs == nil then dirs = os and os.getenv and os.getenv("SDSIM_PLUGINS") end
    D.plugin_problems = {}
    if not dirs or dirs == "" then return end
    for dir in dirs:gmatch("[^:]+") do
        local files, err = host.list_lua(dir)
        if not files then D.plugin_problems[#D.plugin_problems + 1] = "plugins: " .. err end
        for _, file in ipairs(files or {}) do
            local stem, path = file:gsub("%.lua$", ""), dir .. "/" .. file
            local ok, t = host.run_file(path, sandbox_extras(), 10000000, 64 * 1024 * 1024)
            local reason
            if ok then t, reason = D.check_type(t, stem) end
            if ok and t and types[stem] then
                ok, t = false, fmt("%s: a type named '%s' exists already (%s); a plugin cannot "
                                   .. "replace it", path, stem, types[stem].file or "built in")
            elseif ok and not t then
                ok, t = false, path .. ": " .. reason
            end
            if ok then
                t.file, t.plugin = path, true
                types[stem] = t
                names[#names + 1] = stem
            else
                D.plugin_problems[#D.plugin_problems + 1] = t
                if not types[stem] then broken[stem] = t end
            end
        end
    end
end

---------------------------------------------------------------------------------------------
-- Decoding

-- "at character 57" -> line and column, for people.
local function position(text, char)
    local line, col = 1, 1
    local i = 1
    while i < char and i <= #text do
        local nl = text:find("\n", i, true)
        if not nl or nl >= char then col = char - i + 1; break end
        line, i = line + 1, nl + 1
        col = char - i + 1
    end
    return line, col
end

function D.decode_json(text)
    local P = new_problems()
    if #text == 0 or not text:find("%S") then
        add(P, "$", "the document is empty: expected a JSON object")
        return nil, finish(P)
    end
    if text:sub(1, 3) == "\239\187\191" then text = text:sub(4) end -- a UTF-8 BOM
    local json = cjson_mod.new()
    json.decode_invalid_numbers(false)
    json.decode_max_depth(L.depth)
    local ok, doc = pcall(json.decode, text)
    if not ok then
        local msg = tostring(doc):gsub("^.-:%d+: ", "")
        local char = tonumber(msg:match("at character (%d+)"))
        if msg:find("too many nested") then
            add(P, "$", "JSON nesting deeper than %d levels: %s", L.depth, msg)
        elseif char then
            local line, col = position(text, char)
            local hint = ""
            if text:sub(char):match("^[-+]?[NnIi]") then
                hint = " (NaN and Infinity are not JSON numbers)"
            end
            add(P, "$", "JSON syntax error at line %d, column %d: %s%s", line, col, msg, hint)
        else
            add(P, "$", "JSON syntax error: %s", msg)
        end
        return nil, finish(P)
    end
    return doc, finish(P)
end

-- A plain-data copy of what a template returned: tables with string or positive integer
-- keys, strings, finite or not numbers (checked later), booleans. Raw access only, so a
-- metatable in the template cannot run code here; depth-limited, so a cycle cannot hang.
local function plain_copy(P, path, v, depth, on_path)
    local t = type(v)
    if t == "number" and (v ~= v or v == huge or v == -huge) then
        add(P, path, "%s is not finite", num_text(v))
        return nil
    end
    if t == "string" or t == "number" or t == "boolean" then return v end
    if t ~= "table" then
        add(P, path, "%s is not a design value (use tables, strings, numbers, booleans)",
            describe(v))
        return nil
    end
    if on_path[v] then
        add(P, path, "this table contains itself (a cycle cannot be a JSON document)")
        return nil
    end
    if depth > L.depth then
        add(P, path, "tables nested deeper than %d levels", L.depth)
        return nil
    end
    on_path[v] = true
    local out = {}
    for k, x in next, v do
        local kt = type(k)
        if kt == "string" then
            out[k] = plain_copy(P, field_path(path, k), x, depth + 1, on_path)
        elseif kt == "number" and k >= 1 and k == floor(k) and k < 2 ^ 31 then
            out[k] = plain_copy(P, index_path(path, k), x, depth + 1, on_path)
        else
            add(P, path, "a table key must be a string or a list index, found %s", describe(k))
        end
    end
    on_path[v] = nil
    return out
end

-- In the child process of host.run_template: the template's plain data and its problems as
-- JSON (numbers keep 14 significant digits; cjson's most).
function D.template_json(path)
    local doc, problems = D.run_template(path)
    local json = cjson_mod.new()
    json.encode_sparse_array(true)
    json.encode_number_precision(14)
    local ok, text = pcall(json.encode, { doc = doc, problems = problems })
    if not ok then
        return json.encode({ problems = { { path = "$", reason = "template " .. path
            .. ": its result cannot be written as JSON: " .. tostring(text) } } })
    end
    return text
end

-- A template run in a child process (host.run_template) so that a VM crash costs only it.
function D.run_template_isolated(path)
    local text, why = host.run_template(path)
    if not text then
        return nil, { { path = "$", reason = fmt("template %s %s", path, why) } }
    end
    local json = cjson_mod.new()
    json.decode_max_depth(L.depth + 8)
    local ok, res = pcall(json.decode, text)
    if not ok or type(res) ~= "table" then
        return nil, { { path = "$", reason = fmt("template %s: its result could not be read "
            .. "back (%s)", path, tostring(res)) } }
    end
    if type(res.problems) == "table" and #res.problems > 0 then return nil, res.problems end
    return res.doc, {}
end

function D.run_template(path)
    local P = new_problems()
    local ok, v = host.run_file(path, {}, L.template_instructions, L.template_memory)
    if not ok then
        add(P, "$", "template %s", v)
        return nil, finish(P)
    end
    local doc = plain_copy(P, "$", v, 1, {})
    if #P.list > 0 then return nil, finish(P) end
    return doc, finish(P)
end

---------------------------------------------------------------------------------------------
-- The document

local COMPONENT_FIELDS = {
    id = { type = "string", required = true, max_len = L.id_len, pattern = ID_PATTERN,
           regex = "^[A-Za-z_][A-Za-z0-9_.-]*$",
           pattern_help = ID_HELP },
    type = { type = "string", required = true, max_len = 64 },
    label = { type = "string", max_len = 256 },
    replicas = { type = "int", min = 1, max = L.replicas },
    x = { type = "number", min = -1e7, max = 1e7 },
    y = { type = "number", min = -1e7, max = 1e7 },
    zone = { type = "string", max_len = L.zone_len, pattern = "^[%w_.-]+$",
             regex = "^[A-Za-z0-9_.-]+$",
             pattern_help = "letters, digits, _ . -" },
    params = { type = "object", custom = true }, -- checked against the type's declaration
}

local BREAKER_FIELDS = {
    failures = { type = "int", default = 5, min = 1, max = 1000000 },
    open_ms = { type = "number", default = 5000, min = 0, exclusive_min = true, max = L.ms },
    half_open_probes = { type = "int", default = 1, min = 1, max = 1000000 },
}

local EDGE_FIELDS = {
    from = { type = "string", required = true, max_len = 256 },
    to = { type = "string", required = true, max_len = 256 },
    mode = { type = "enum", values = D.MODES, default = "call" },
    p = { type = "number", min = 0, max = 1, default = 1 },
    weight = { type = "number", min = 0, exclusive_min = true, max = 1e9, default = 1 },
    latency_ms = { type = "number", min = 0, max = L.ms, default = 0 },
    timeout_ms = { type = "number", min = 0, max = L.ms, default = 0 },
    retries = { type = "int", min = 0, max = 100, default = 0 },
    backoff_ms = { type = "object", fields = {
        base = { type = "number", min = 0, max = L.ms, default = 10 },
        max = { type = "number", min = 0, max = L.ms, default = 1000 },
    } },
    jitter = { type = "bool", default = false },
    retry_budget = { type = "number", min = 0, max = 1, default = 0 },
    breaker = { type = "object", fields = BREAKER_FIELDS },
}
local CALL_ONLY = { "timeout_ms", "retries", "backoff_ms", "jitter", "retry_budget", "breaker" }

local PATTERN_FIELDS = {
    type = { type = "enum", values = D.PATTERNS, required = true },
    to_rps = { type = "number", min = 0, max = L.rps },
    start_s = { type = "number", min = 0, max = L.s },
    over_s = { type = "number", min = 0, exclusive_min = true, max = L.s },
    at_s = { type = "number", min = 0, max = L.s },
    for_s = { type = "number", min = 0, exclusive_min = true, max = L.s },
    factor = { type = "number", min = 0, max = 1000 },
    period_s = { type = "number", min = 0, exclusive_min = true, max = L.s },
    amplitude = { type = "number", min = 0, max = 10 },
    steps = { type = "array", min_items = 1, max_items = L.steps, items = { type = "object",
        fields = {
            at_s = { type = "number", required = true, min = 0, max = L.s },
            rps = { type = "number", required = true, min = 0, max = L.rps },
        } } },
}
-- Per pattern type: required fields, optional fields.
local PATTERN_SHAPES = {
    constant = { req = {}, opt = {} },
    ramp = { req = { "to_rps", "over_s" }, opt = { "start_s" } },
    spike = { req = { "at_s", "for_s", "factor" }, opt = {} },
    diurnal = { req = { "period_s", "amplitude" }, opt = {} },
    steps = { req = { "steps" }, opt = {} },
}

local WORKLOAD_FIELDS = {
    to = { type = "string", required = true, max_len = 256 },
    rps = { type = "number", min = 0, exclusive_min = true, max = L.rps, unit = "1/s" },
    pattern = { type = "object", custom = true },
    users = { type = "int", min = 1, max = L.users },
    think_ms = { type = "number", min = 0, max = L.ms },
    think_time = { type = "dist" },
    keys = { type = "int", min = 0, max = 4294967295, default = 0 },
    label = { type = "string", max_len = 256 },
}

local FAULT_FIELDS = {
    at_s = { type = "number", required = true, min = 0, max = L.s },
    fault = { type = "enum", values = D.FAULTS, required = true },
    target = { type = "string", max_len = 256 },
    for_s = { type = "number", min = 0, max = L.s, default = 0 },
    replica = { type = "int", min = 0, max = L.replicas - 1 },
    zone = { type = "string", max_len = L.zone_len },
    value = { type = "number", min = 0, max = L.ms },
    ms = { type = "number", min = 0, max = L.ms },
    factor = { type = "number", min = 0, exclusive_min = true, max = 1000 },
    rate = { type = "number", min = 0, max = 1 },
    ratio = { type = "number", min = 0, max = 1 },
    label = { type = "string", max_len = 256 },
}
-- Per fault: what target names ("component", "edge", none), the fields that may give its
-- value (at most one of them, `value` meaning the first), whether one is required.
local FAULT_SHAPES = {
    crash = { target = "component", values = {}, extra = { replica = true } },
    zone = { target = nil, values = {}, extra = { zone = true } },
    latency = { target = "component", values = { "ms", "factor" }, need = true },
    error_rate = { target = "component", values = { "rate" }, need = true },
    capacity = { target = "component", values = { "factor" }, need = true },
    hit_ratio = { target = "component", values = { "ratio" }, need = true },
    partition = { target = "edge", values = {} },
    packet_loss = { target = "edge", values = { "rate" }, need = true },
}

local SLO_FIELDS = {
    p99_ms = { type = "number", min = 0, exclusive_min = true, max = L.ms },
    error_rate = { type = "number", min = 0, max = 1 },
}

local DOC_FIELDS = {
    version = { type = "int", required = true, help = "must be 1" },
    name = { type = "string", max_len = L.name_len },
    description = { type = "string", max_len = 100000 },
    components = { type = "array", required = true },
    edges = { type = "array" },
    workload = { type = "array" },
    scenario = { type = "array" },
    slo = { type = "object", fields = SLO_FIELDS },
}

-- Reports unknown keys of `v` against `fields` and returns the keys' names list.
local function unknown_fields(P, path, v, fields)
    local names = keys_of(fields)
    for _, k in ipairs(unknown_keys(v, fields)) do
        do
            add(P, field_path(path, k), "unknown field %s%s; known fields: %s",
                type(k) == "string" and fmt("'%s'", k) or describe(k), suggest(k, names),
                concat(names, ", "))
        end
    end
end

local function check_params(P, path, v, ctype)
    local out = {}
    if v ~= nil and not is_object(v) then
        add(P, path, "expected an object, got %s", describe(v))
        v = nil
    end
    v = v or {}
    local names = keys_of(ctype.params)
    for _, k in ipairs(unknown_keys(v, ctype.params)) do
        do
            add(P, field_path(path, k), "unknown parameter %s for type '%s'%s; its parameters: %s",
                type(k) == "string" and fmt("'%s'", k) or describe(k), ctype.name,
                suggest(k, names), concat(names, ", "))
        end
    end
    return check_fields(P, path, v, ctype.params, out)
end

local function check_component(P, path, c, types, type_names, broken)
    if not is_object(c) then
        add(P, path, "expected a component object, got %s", describe(c))
        return nil
    end
    unknown_fields(P, path, c, COMPONENT_FIELDS)
    local out = check_fields(P, path, c, COMPONENT_FIELDS, {})
    local ctype = out.type and types[out.type]
    if out.type and not ctype then
        if broken[out.type] then
            add(P, field_path(path, "type"), "component type '%s' failed to load: %s", out.type,
                broken[out.type])
        else
            add(P, field_path(path, "type"), "unknown component type '%s'%s; known types: %s",
                out.type, suggest(out.type, type_names), concat(type_names, ", "))
        end
    end
    if ctype then
        out.behavior = ctype.behavior
        if out.replicas == nil then out.replicas = (ctype.defaults or {}).replicas or 1 end
        out.params = check_params(P, field_path(path, "params"), c.params, ctype)
    end
    return out
end

-- Parses an edge target "from->to".
local function split_edge(s)
    local a, b = s:match("^%s*(.-)%s*%->%s*(.-)%s*$")
    return a, b
end

local function check_pattern(P, path, v)
    if not is_object(v) then
        add(P, path, "expected a pattern object like {\"type\": \"spike\", ...}, got %s",
            describe(v))
        return nil
    end
    unknown_fields(P, path, v, PATTERN_FIELDS)
    local out = check_fields(P, path, v, { type = PATTERN_FIELDS.type }, {})
    local shape = out.type and PATTERN_SHAPES[out.type]
    if not shape then return nil end
    local allowed = set_of(shape.req)
    for _, k in ipairs(shape.opt) do allowed[k] = true end
    local fields = {}
    for _, k in ipairs(keys_of(PATTERN_FIELDS)) do
        if k ~= "type" then
            if allowed[k] then
                fields[k] = deep_copy(PATTERN_FIELDS[k])
                fields[k].required = set_of(shape.req)[k]
            elseif v[k] ~= nil then
                add(P, field_path(path, k), "%s does not apply to pattern '%s'%s", k, out.type,
                    #shape.req > 0 and (" (it takes " .. concat(shape.req, ", ")
                                        .. (#shape.opt > 0 and (", " .. concat(shape.opt, ", "))
                                            or "") .. ")") or "")
            end
        end
    end
    check_fields(P, path, v, fields, out)
    if out.type == "ramp" and out.start_s == nil then out.start_s = 0 end
    if out.type == "steps" and out.steps then
        for i = 2, #out.steps do
            local a, b = out.steps[i - 1], out.steps[i]
            if a and b and a.at_s and b.at_s and b.at_s < a.at_s then
                add(P, field_path(index_path(field_path(path, "steps"), i), "at_s"),
                    "steps must be in time order: %s s comes after %s s", num_text(b.at_s),
                    num_text(a.at_s))
            end
        end
    end
    return out
end

local function check_workload(P, path, w, ctx)
    if not is_object(w) then
        add(P, path, "expected a workload object, got %s", describe(w))
        return nil
    end
    unknown_fields(P, path, w, WORKLOAD_FIELDS)
    local out = check_fields(P, path, w, WORKLOAD_FIELDS, {})
    if out.to and not ctx.byid[out.to] then
        add(P, field_path(path, "to"), "no component with id '%s'%s", out.to,
            suggest(out.to, ctx.idlist))
    end
    local open, closed = w.rps ~= nil, w.users ~= nil
    if open and closed then
        add(P, path, "give either rps (an open source) or users (a closed population), not both")
    elseif not open and not closed then
        add(P, path, "missing: rps (requests per second, an open source) or users (a closed "
            .. "population)")
    elseif open then
        for _, k in ipairs({ "think_ms", "think_time" }) do
            if w[k] ~= nil then
                add(P, field_path(path, k),
                    "%s applies to a closed workload (users), not to rps", k)
            end
        end
        out.pattern = w.pattern and check_pattern(P, field_path(path, "pattern"), w.pattern)
            or { type = "constant" }
    else
        if w.pattern ~= nil then
            add(P, field_path(path, "pattern"), "pattern applies to an open workload (rps)")
        end
        if w.think_ms ~= nil and w.think_time ~= nil then
            add(P, path, "give think_ms or think_time, not both")
        end
        if out.think_time == nil and w.think_time == nil then
            local ms = out.think_ms or 1000
            out.think_time = ms > 0 and { dist = "exp", mean_ms = ms }
                or { dist = "const", mean_ms = 0 }
        end
        out.think_ms = nil
    end
    if not open then out.pattern = nil end
    return out
end

local function check_fault(P, path, f, ctx, edges_by_name, zones)
    if not is_object(f) then
        add(P, path, "expected a fault object, got %s", describe(f))
        return nil
    end
    unknown_fields(P, path, f, FAULT_FIELDS)
    local out = check_fields(P, path, f, FAULT_FIELDS, {})
    local shape = out.fault and FAULT_SHAPES[out.fault]
    if not shape then return nil end
    local allowed = { at_s = true, fault = true, for_s = true, label = true }
    if shape.target then allowed.target = true end
    for k in pairs(shape.extra or {}) do allowed[k] = true end
    for _, k in ipairs(shape.values) do allowed[k] = true end
    if #shape.values > 0 then allowed.value = true end
    for _, k in ipairs(sorted_keys(f)) do
        if FAULT_FIELDS[k] and not allowed[k] then
            add(P, field_path(path, k), "%s does not apply to fault '%s'", k, out.fault)
        end
    end
    -- The target.
    if shape.target and out.target == nil and f.target == nil then
        add(P, field_path(path, "target"), "missing: fault '%s' needs a target (%s)", out.fault,
            shape.target == "edge" and "an edge written \"from->to\"" or "a component id")
    elseif shape.target == "component" and out.target then
        local c = ctx.byid[out.target]
        if not c then
            add(P, field_path(path, "target"), "no component with id '%s'%s", out.target,
                suggest(out.target, ctx.idlist))
        else
            out.target_index = c.index
            if out.fault == "hit_ratio" and c.behavior ~= "cache" then
                add(P, field_path(path, "target"), "fault 'hit_ratio' needs a cache, '%s' is a %s",
                    out.target, c.type or "?")
            end
            local as = c.params and c.params.autoscale
            local most = math.max(c.replicas or 1, as and as.enabled and as.max or 0)
            if out.replica and c.replicas and out.replica >= most then
                add(P, field_path(path, "replica"), "'%s' has at most %d replica%s (0 to %d)",
                    out.target, most, most == 1 and "" or "s", most - 1)
            end
        end
    elseif shape.target == "edge" and out.target then
        local a, b = split_edge(out.target)
        if not a then
            add(P, field_path(path, "target"), "fault '%s' targets an edge: write \"from->to\"",
                out.fault)
        elseif not edges_by_name[a .. "->" .. b] then
            add(P, field_path(path, "target"), "no edge from '%s' to '%s'", a, b)
        else
            out.target_index = edges_by_name[a .. "->" .. b]
        end
    end
    if out.fault == "zone" then
        if out.zone == nil and f.zone == nil then
            add(P, field_path(path, "zone"), "missing: fault 'zone' needs the zone's name")
        elseif out.zone and not zones[out.zone] then
            add(P, field_path(path, "zone"), "no component is in zone '%s'", out.zone)
        end
    end
    -- The value: one of the kind's fields, or `value` for the first of them.
    local given = {}
    for _, k in ipairs(shape.values) do if f[k] ~= nil then given[#given + 1] = k end end
    if f.value ~= nil and allowed.value then given[#given + 1] = "value" end
    if #given > 1 then
        add(P, path, "give only one of %s", concat(given, ", "))
    elseif #given == 0 and shape.need then
        add(P, path, "missing: fault '%s' needs %s (or value)", out.fault,
            concat(shape.values, " or "))
    elseif #given == 1 then
        local k = given[1]
        local x = out[k]
        if k == "value" then
            k = shape.values[1]
            -- `value` takes the range of the field it stands for.
            if x then x = check_value(P, field_path(path, "value"), x, FAULT_FIELDS[k]) end
        end
        out.value_field, out.value = k, x
    end
    return out
end

-- Finds cycles of call edges; returns a list of {edge index, "a -> b -> a"}.
local function call_cycles(comps, edges)
    local adj = {}
    for i, e in ipairs(edges) do
        if e.mode == "call" and e.from_index and e.to_index and e.from_index ~= e.to_index then
            local a = adj[e.from_index] or {}
            a[#a + 1] = i
            adj[e.from_index] = a
        end
    end
    local state, stack, found = {}, {}, {}
    local n = #comps
    -- Iterative DFS (a design may have 100000 components: no deep recursion).
    for start = 1, n do
        if not state[start] and #found < 10 then
            local frames = { { node = start, next = 1 } }
            state[start] = 1
            stack[1] = start
            while #frames > 0 do
                local fr = frames[#frames]
                local out = adj[fr.node]
                local ei = out and out[fr.next]
                if ei then
                    fr.next = fr.next + 1
                    local to = edges[ei].to_index
                    if state[to] == 1 then
                        local names, on = {}, false
                        for _, node in ipairs(stack) do
                            if node == to then on = true end
                            if on then names[#names + 1] = comps[node].id end
                        end
                        names[#names + 1] = comps[to].id
                        found[#found + 1] = { ei, concat(names, " -> ") }
                    elseif not state[to] then
                        state[to] = 1
                        stack[#stack + 1] = to
                        frames[#frames + 1] = { node = to, next = 1 }
                    end
                else
                    state[fr.node] = 2
                    stack[#stack] = nil
                    frames[#frames] = nil
                end
            end
        end
    end
    return found
end

local function check_edges(P, edges_in, ctx, out)
    local seen = {}
    for i = 1, #edges_in do
        local path = index_path("$.edges", i)
        local e = edges_in[i]
        if not is_object(e) then
            add(P, path, "expected an edge object, got %s", describe(e))
        else
            unknown_fields(P, path, e, EDGE_FIELDS)
            local n = check_fields(P, path, e, EDGE_FIELDS, {})
            for _, end_name in ipairs({ "from", "to" }) do
                local id = n[end_name]
                if id and not ctx.byid[id] then
                    add(P, field_path(path, end_name), "no component with id '%s'%s", id,
                        suggest(id, ctx.idlist))
                elseif id then
                    n[end_name .. "_index"] = ctx.byid[id].index
                end
            end
            if n.from and n.from == n.to then
                add(P, path, "an edge from '%s' to itself", n.from)
            end
            if n.mode and n.mode ~= "call" then
                for _, k in ipairs(CALL_ONLY) do
                    n[k] = nil -- no defaults either: the document stays valid when written back
                    if e[k] ~= nil then
                        add(P, field_path(path, k),
                            "%s applies to call edges only, this edge is %s", k, n.mode)
                    end
                end
            end
            if n.backoff_ms and n.backoff_ms.base and n.backoff_ms.max
                and n.backoff_ms.max < n.backoff_ms.base then
                add(P, field_path(field_path(path, "backoff_ms"), "max"),
                    "max (%s ms) is below base (%s ms)", num_text(n.backoff_ms.max),
                    num_text(n.backoff_ms.base))
            end
            if n.from_index and n.to_index then
                local key = n.from .. "->" .. n.to
                if seen[key] then
                    add(P, path, "a second edge from '%s' to '%s' (the first is $.edges[%d])",
                        n.from, n.to, seen[key] - 1)
                else
                    seen[key] = i
                end
            end
            out[i] = n
        end
    end
    return seen
end

local apply_edge_params -- below

-- Forward and async edges are one exclusive choice: their p must sum to at most 1.
local function check_p_sums(P, comps, edges)
    local sums, members = {}, {}
    for i, e in ipairs(edges) do
        if e.from_index and e.p and (e.mode == "forward" or e.mode == "async") then
            local c = comps[e.from_index]
            if c.behavior ~= "balancer" and c.behavior ~= "script" then
                sums[e.from_index] = (sums[e.from_index] or 0) + e.p
                local m = members[e.from_index] or {}
                m[#m + 1] = fmt("$.edges[%d]", i - 1)
                members[e.from_index] = m
            end
        end
    end
    for ci = 1, #comps do
        if sums[ci] and sums[ci] > 1 + 1e-9 then
            add(P, index_path("$.components", ci),
                "forward and async edges leaving '%s' have p summing to %s, more than 1 (%s)",
                comps[ci].id, num_text(sums[ci]), concat(members[ci], ", "))
        end
    end
end

local function check_components(P, list, types, type_names, broken)
    local comps, byid, idlist = {}, {}, {}
    local servers = 0
    for i = 1, #list do
        local path = index_path("$.components", i)
        local c = check_component(P, path, list[i], types, type_names, broken)
        comps[i] = c or { id = "?" }
        comps[i].index = i
        if c and c.id then
            local first = byid[c.id]
            if first then
                add(P, field_path(path, "id"), "duplicate id '%s' (also $.components[%d])", c.id,
                    first.index - 1)
            else
                byid[c.id] = comps[i]
                idlist[#idlist + 1] = c.id
            end
        end
        if c and c.params then
            local as = c.params.autoscale
            if as and as.enabled and c.replicas then
                as.min = as.min or math.min(c.replicas, L.replicas)
                as.max = as.max or math.min(L.replicas, math.max(as.min, 4 * c.replicas))
                local ap = field_path(field_path(path, "params"), "autoscale")
                if as.min > as.max then
                    add(P, field_path(ap, "min"), "min (%d) is above max (%d)", as.min, as.max)
                elseif c.replicas < as.min or c.replicas > as.max then
                    add(P, field_path(path, "replicas"),
                        "replicas (%d) must lie within autoscale min %d and max %d", c.replicas,
                        as.min, as.max)
                end
            end
            local rl = c.params.rate_limit
            if rl and rl.rps and rl.burst == nil then rl.burst = math.max(1, rl.rps) end
            if c.replicas and c.params.workers then
                servers = servers + c.replicas * c.params.workers
            end
        end
    end
    if servers > L.servers then
        add(P, "$.components", "%s servers in all (replicas x workers summed over components); "
            .. "the limit is %s", num_text(servers), num_text(L.servers))
    end
    return { comps = comps, byid = byid, idlist = idlist }
end

-- Call edges leaving a component whose type declares edge_params take those fields from the
-- component's parameters when the edge itself does not give them (checked as edge fields).
function apply_edge_params(P, comps, types, raw, edges)
    for i, e in ipairs(edges) do
        local c = e.from_index and comps[e.from_index]
        local t = c and c.type and types[c.type]
        if t and t.edge_params and e.mode == "call" and c.params and is_object(raw[i]) then
            for _, field in ipairs(sorted_keys(t.edge_params)) do
                local v = c.params[t.edge_params[field]]
                if raw[i][field] == nil and v ~= nil then
                    e[field] = check_value(P, field_path(index_path("$.edges", i), field),
                                           deep_copy(v), EDGE_FIELDS[field])
                end
            end
        end
    end
end

-- Validates and normalizes a decoded document. Returns the normalized document, or nil,
-- and the problem list (empty when the document is good).
function D.validate(doc, types, type_names, broken, default_name)
    local P = new_problems()
    if not is_object(doc) then
        add(P, "$", "a design is a JSON object with version, name, components, ..., got %s",
            describe(doc))
        return nil, finish(P)
    end
    unknown_fields(P, "$", doc, DOC_FIELDS)
    if doc.version == nil then
        add(P, "$.version", "missing: version is required (this format is version 1)")
    elseif doc.version ~= 1 then
        add(P, "$.version", "unsupported version %s: this sdsim reads version 1",
            type(doc.version) == "number" and num_text(doc.version) or describe(doc.version))
    end
    local out = { version = 1 }
    check_fields(P, "$", doc, { name = DOC_FIELDS.name, description = DOC_FIELDS.description,
                                slo = DOC_FIELDS.slo }, out)
    out.name = out.name or default_name or "design"
    out.slo = out.slo or {}

    -- Components first: everything else refers to their ids.
    local list = doc.components
    local ctx = { comps = {}, byid = {}, idlist = {} }
    if list == nil then
        add(P, "$.components", "missing: components is required (a non-empty array)")
    elseif not is_array(list) then
        add(P, "$.components", "expected an array of components, got %s", describe(list))
    elseif #list == 0 then
        add(P, "$.components", "a design needs at least one component")
    elseif #list > L.components then
        add(P, "$.components", "too many components: %d, at most %d", #list, L.components)
        return nil, finish(P)
    else
        ctx = check_components(P, list, types, type_names or {}, broken or {})
    end
    local comps = ctx.comps
    out.components = {}
    for i = 1, #comps do out.components[i] = comps[i] end

    local function array_field(name, limit)
        local v = doc[name]
        if v == nil then return {} end
        if not is_array(v) then
            add(P, "$." .. name, "expected an array, got %s", describe(v))
            return {}
        end
        if #v > limit then
            add(P, "$." .. name, "too many items: %d, at most %d", #v, limit)
            return {}
        end
        return v
    end

    out.edges = {}
    local edges_in = array_field("edges", L.edges)
    local edges_by_name = check_edges(P, edges_in, ctx, out.edges)
    for _, cyc in ipairs(call_cycles(comps, out.edges)) do
        add(P, index_path("$.edges", cyc[1]), "call edges form a cycle: %s (a call cycle never "
            .. "answers; use forward or async for a loop)", cyc[2])
    end
    check_p_sums(P, comps, out.edges)
    apply_edge_params(P, comps, types or {}, edges_in, out.edges)

    out.workload = {}
    local wl = array_field("workload", L.workloads)
    for i = 1, #wl do
        out.workload[i] = check_workload(P, index_path("$.workload", i), wl[i], ctx)
    end

    local zones = {}
    for i = 1, #comps do if comps[i].zone then zones[comps[i].zone] = true end end
    out.scenario = {}
    local sc = array_field("scenario", L.faults)
    for i = 1, #sc do
        out.scenario[i] = check_fault(P, index_path("$.scenario", i), sc[i], ctx,
                                      edges_by_name, zones)
    end

    if #P.list > 0 then return nil, finish(P) end
    return out, finish(P)
end

---------------------------------------------------------------------------------------------
-- To the engine: seconds, 0-based indices, enum names as engine/model.h parses them.

local function engine_dist(d)
    if not d then return { kind = "const", mean = 0, scv = 0, k = 1 } end
    local e = { kind = d.dist, mean = (d.mean_ms or 0) / 1000, k = d.k or 1 }
    if d.dist == "const" then e.scv = 0
    elseif d.dist == "exp" then e.scv = 1
    elseif d.dist == "erlang" then e.scv = 1 / d.k
    elseif d.dist == "empirical" then
        local vals, sum = {}, 0
        for i, v in ipairs(d.values_ms) do vals[i] = v / 1000; sum = sum + vals[i] end
        e.values, e.mean, e.scv = vals, sum / #vals, 0
    else e.scv = d.scv end
    return e
end

local BEHAVIOR_ENGINE = { service = "service", balancer = "balancer", cache = "cache",
                          database = "database", queue = "queue", script = "script" }

local function script_of(c, types)
    local t = types and types[c.type]
    if c.behavior ~= "script" or not t then return nil end
    return cjson_mod.encode({ file = t.file, params = c.params or {}, plugin = t.plugin })
end

local function engine_component(c, types)
    local p = c.params or {}
    local as, rl, shed = p.autoscale, p.rate_limit, p.shed
    return {
        id = c.id, type = c.type, zone = c.zone or "", behavior = BEHAVIOR_ENGINE[c.behavior],
        replicas = c.replicas, workers = p.workers or 1, queue_cap = p.queue or -1,
        service = engine_dist(p.service_time), policy = p.policy or "round_robin",
        hit_ratio = p.hit_ratio or 0, read_ratio = p.read_ratio or 1,
        fanout_all = p.fanout == "all", error_rate = p.error_rate or 0,
        cost_per_hour = p.cost_per_hour or 0,
        rate_limit = rl and rl.rps or 0, rate_burst = rl and rl.burst or 0,
        shed_wait = shed and shed.max_wait_ms / 1000 or 0,
        autoscale = as and as.enabled and {
            target_util = as.target_utilization, min = as.min, max = as.max,
            cooldown = as.cooldown_s, provision_delay = as.provision_s,
            interval = as.interval_s,
        } or nil,
        script = script_of(c, types),
    }
end

local function engine_edge(e)
    local b = e.breaker
    return {
        from = e.from_index - 1, to = e.to_index - 1, mode = e.mode, p = e.p, weight = e.weight,
        latency = e.latency_ms / 1000, timeout = (e.timeout_ms or 0) / 1000,
        retries = e.retries or 0,
        backoff_base = (e.backoff_ms or {}).base and e.backoff_ms.base / 1000 or 0.01,
        backoff_max = (e.backoff_ms or {}).max and e.backoff_ms.max / 1000 or 1,
        jitter = e.jitter or false, retry_budget = e.retry_budget or 0,
        breaker = b and { failure_threshold = b.failures, open_time = b.open_ms / 1000,
                          half_open_probes = b.half_open_probes } or nil,
    }
end

local function engine_workload(w, comps)
    local e = { to = comps[w.to].index - 1, keys = w.keys or 0 }
    if w.users then
        e.closed, e.users, e.think = true, w.users, engine_dist(w.think_time)
        return e
    end
    local pt = w.pattern or { type = "constant" }
    e.closed, e.rps, e.pattern = false, w.rps, pt.type
    if pt.type == "ramp" then
        e.start, e.over, e.to_rps = pt.start_s, pt.over_s, pt.to_rps
    elseif pt.type == "spike" then
        e.start, e.over, e.factor = pt.at_s, pt.for_s, pt.factor
    elseif pt.type == "diurnal" then
        e.period, e.amplitude = pt.period_s, pt.amplitude
    elseif pt.type == "steps" then
        e.steps = {}
        for i, s in ipairs(pt.steps) do e.steps[i] = { at = s.at_s, rps = s.rps } end
    end
    return e
end

local function engine_fault(f)
    local e = { kind = f.fault, at = f.at_s, duration = f.for_s or 0,
                target = (f.target_index or 0) - 1, replica = f.replica or -1,
                zone = f.zone or "", value = 0, multiply = false }
    local k, v = f.value_field, f.value
    if f.fault == "latency" then
        if k == "factor" then e.value, e.multiply = v, true else e.value = v / 1000 end
    elseif v then
        e.value = v
    end
    return e
end

function D.to_engine(doc, types)
    types = types or D.last_types
    local comps = {}
    for i, c in ipairs(doc.components) do comps[c.id] = { index = i } end
    local e = { name = doc.name, components = {}, edges = {}, workloads = {}, faults = {},
                slo = { p99 = doc.slo.p99_ms and doc.slo.p99_ms / 1000 or 0,
                        error_rate = doc.slo.error_rate or -1 } }
    for i, c in ipairs(doc.components) do e.components[i] = engine_component(c, types) end
    for i, x in ipairs(doc.edges) do e.edges[i] = engine_edge(x) end
    for i, w in ipairs(doc.workload) do e.workloads[i] = engine_workload(w, comps) end
    local faults = {}
    for i, f in ipairs(doc.scenario) do faults[i] = engine_fault(f) end
    -- The engine wants faults sorted by time; a stable sort keeps the document's order on ties.
    for i, f in ipairs(faults) do f.order = i end
    sort(faults, function(a, b)
        if a.at ~= b.at then return a.at < b.at end
        return a.order < b.order
    end)
    e.faults = faults
    return e
end

---------------------------------------------------------------------------------------------
-- The normalized document without the private fields: what `sdsim validate --normalize`
-- (or an export) can write back as JSON.
function D.public(doc)
    local out = deep_copy(doc)
    for _, c in ipairs(out.components) do c.index, c.behavior = nil, nil end
    for _, e in ipairs(out.edges) do e.from_index, e.to_index = nil, nil end
    for _, f in ipairs(out.scenario) do
        if f.value_field then f[f.value_field] = f.value end
        if f.value_field ~= "value" then f.value = nil end
        f.target_index, f.value_field = nil, nil
    end
    return out
end

---------------------------------------------------------------------------------------------
-- The JSON Schema (draft 2020-12) of the document, generated from the specs above and the
-- component types, so that docs/design.schema.json cannot drift from the validator
-- (scripts/sdk/gen_schema.lua writes it; tests/cli/validate.sh compares). Rules that span
-- several values (ids referenced by edges, call cycles, p sums, ranges that depend on the
-- dist or the fault kind) are beyond a schema: the validator checks them.

local function schema_of(spec)
    local t, s = spec.type, {}
    if spec.custom then return { type = "object" } end -- replaced by the caller
    if t == "int" or t == "number" then
        s.type = t == "int" and "integer" or "number"
        if spec.min then
            if spec.exclusive_min then s.exclusiveMinimum = spec.min else s.minimum = spec.min end
        end
        s.maximum = spec.max
    elseif t == "string" then
        s.type, s.maxLength, s.pattern = "string", spec.max_len or 1024, spec.regex
    elseif t == "enum" then
        s.enum = spec.values
    elseif t == "bool" then
        s.type = "boolean"
    elseif t == "dist" then
        s["$ref"] = "#/$defs/dist"
    elseif t == "object" then
        s.type, s.additionalProperties, s.properties = "object", false, {}
        local req = {}
        for _, k in ipairs(keys_of(spec.fields)) do
            s.properties[k] = schema_of(spec.fields[k])
            if spec.fields[k].required then req[#req + 1] = k end
        end
        if #req > 0 then s.required = req end
    elseif t == "array" then
        s.type, s.items = "array", spec.items and schema_of(spec.items)
        s.minItems, s.maxItems = spec.min_items, spec.max_items
    end
    if spec.default ~= nil then s.default = deep_copy(spec.default) end
    if spec.help or spec.unit then
        s.description = (spec.help or "") .. (spec.unit and
            ((spec.help and " " or "") .. "(" .. spec.unit .. ")") or "")
    end
    return s
end

local function object_schema(fields, skip)
    local spec = { type = "object", fields = {} }
    for k, f in pairs(fields) do if not (skip and skip[k]) then spec.fields[k] = f end end
    return schema_of(spec)
end

local function dist_schema()
    local variants = {}
    for _, name in ipairs(D.DISTS) do
        local props, req = { dist = { const = name } }, { "dist" }
        for _, k in ipairs({ "mean_ms", "scv", "k", "values_ms" }) do
            if DIST_FIELDS[name][k] then
                req[#req + 1] = k
                if k == "mean_ms" then
                    props[k] = schema_of({ type = "number", min = 0,
                                           exclusive_min = name ~= "const", max = L.ms })
                elseif k == "scv" then props[k] = schema_of(DIST_SCV[name])
                elseif k == "k" then props[k] = schema_of({ type = "int", min = 1, max = 1000 })
                else
                    props[k] = schema_of({ type = "array", min_items = 1, max_items = L.empirical,
                                           items = { type = "number", min = 0, max = L.ms } })
                end
            end
        end
        variants[#variants + 1] = { type = "object", additionalProperties = false,
                                    properties = props, required = req }
    end
    return { oneOf = variants, description = "a distribution of times in ms" }
end

local function when(field, value, schema)
    return { ["if"] = { properties = { [field] = { const = value } }, required = { field } },
             ["then"] = schema }
end

function D.json_schema(types, names)
    local defs = { dist = dist_schema() }
    local comp = object_schema(COMPONENT_FIELDS)
    comp.required = { "id", "type" }
    comp.allOf = {}
    for _, name in ipairs(names) do
        local ptype = { type = "object", fields = types[name].params }
        defs["params_" .. name] = schema_of(ptype)
        defs["params_" .. name].description = types[name].description
        comp.allOf[#comp.allOf + 1] = when("type", name, { properties = {
            params = { ["$ref"] = "#/$defs/params_" .. name } } })
    end
    comp.properties.params = { type = "object" }
    defs.component = comp
    defs.edge = object_schema(EDGE_FIELDS)
    local not_call = {}
    for _, k in ipairs(CALL_ONLY) do not_call[k] = false end
    defs.edge.allOf = { when("mode", "forward", { properties = not_call }),
                        when("mode", "async", { properties = not_call }) }
    local pattern = object_schema(PATTERN_FIELDS)
    pattern.allOf = {}
    for _, name in ipairs(D.PATTERNS) do
        local shape = PATTERN_SHAPES[name]
        local allowed = { type = true }
        for _, k in ipairs(shape.req) do allowed[k] = true end
        for _, k in ipairs(shape.opt) do allowed[k] = true end
        local props = {}
        for _, k in ipairs(keys_of(PATTERN_FIELDS)) do
            if not allowed[k] then props[k] = false end
        end
        local then_ = { properties = props }
        if #shape.req > 0 then then_.required = shape.req end
        pattern.allOf[#pattern.allOf + 1] = when("type", name, then_)
    end
    defs.pattern = pattern
    local wl = object_schema(WORKLOAD_FIELDS)
    wl.properties.pattern = { ["$ref"] = "#/$defs/pattern" }
    wl.oneOf = {
        { required = { "rps" }, properties = { users = false, think_ms = false,
                                               think_time = false } },
        { required = { "users" }, properties = { rps = false, pattern = false } },
    }
    defs.workload = wl
    local fault = object_schema(FAULT_FIELDS)
    fault.allOf = {}
    for _, name in ipairs(D.FAULTS) do
        local shape = FAULT_SHAPES[name]
        local then_ = {}
        if shape.target then then_.required = { "target" } end
        if name == "zone" then then_.required = { "zone" } end
        if shape.target == "edge" then
            then_.properties = { target = { type = "string", pattern = "^.+->.+$" } }
        end
        if shape.need then
            then_.anyOf = {}
            for _, k in ipairs(shape.values) do
                then_.anyOf[#then_.anyOf + 1] = { required = { k } }
            end
            then_.anyOf[#then_.anyOf + 1] = { required = { "value" } }
        end
        fault.allOf[#fault.allOf + 1] = when("fault", name, then_)
    end
    defs.fault = fault
    local root = object_schema(DOC_FIELDS)
    root.properties.version = { const = 1 }
    root.properties.components = { type = "array", minItems = 1, maxItems = L.components,
                                   items = { ["$ref"] = "#/$defs/component" } }
    root.properties.edges = { type = "array", maxItems = L.edges,
                              items = { ["$ref"] = "#/$defs/edge" } }
    root.properties.workload = { type = "array", maxItems = L.workloads,
                                 items = { ["$ref"] = "#/$defs/workload" } }
    root.properties.scenario = { type = "array", maxItems = L.faults,
                                 items = { ["$ref"] = "#/$defs/fault" } }
    root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    root["$id"] = "https://sdsim.dev/schema/design-v1.json"
    root.title = "sdsim design document, version 1"
    root.description = "Generated by scripts/sdk/gen_schema.lua from scripts/sdk/design.lua "
        .. "and components/*.lua; docs/design-format.md describes every field."
    root["$defs"] = defs
    return root
end

-- JSON with sorted keys and two-space indentation, for files kept in git.
function D.encode_pretty(v, indent)
    indent = indent or ""
    local t = type(v)
    if t == "table" then
        local inner = indent .. "  "
        if #v > 0 or next(v) == nil and getmetatable(v) == "array" then
            local parts = {}
            for i = 1, #v do parts[i] = inner .. D.encode_pretty(v[i], inner) end
            return "[\n" .. concat(parts, ",\n") .. "\n" .. indent .. "]"
        end
        if next(v) == nil then return "{}" end
        local parts = {}
        for _, k in ipairs(sorted_keys(v)) do
            parts[#parts + 1] = inner .. cjson_mod.encode(tostring(k)) .. ": "
                .. D.encode_pretty(v[k], inner)
        end
        return "{\n" .. concat(parts, ",\n") .. "\n" .. indent .. "}"
    elseif t == "number" then
        if v == floor(v) and math.abs(v) < 1e15 then return fmt("%d", v) end
        return fmt("%.17g", v)
    end
    return cjson_mod.encode(v)
end

---------------------------------------------------------------------------------------------
-- One entry point for the host: kind is "json" (arg = the text) or "lua" (arg = the path).
-- Returns engine_table, normalized_document, problems (engine_table nil when any problem).

function D.load(kind_, arg, root, default_name)
    local doc, problems
    if kind_ == "lua" then
        if host.run_template then
            doc, problems = D.run_template_isolated(arg)
        else
            doc, problems = D.run_template(arg)
        end
    else
        doc, problems = D.decode_json(arg)
    end
    if not doc then return nil, nil, problems end
    D.last_doc = type(doc) == "table" and deep_copy(doc) or nil -- the gallery shows it as given
    local types, broken, names = D.load_types(root)
    if broken["*"] then
        return nil, nil, { { path = "$", reason = "cannot read component types: " .. broken["*"] } }
    end
    if D.plugin_problems and #D.plugin_problems > 0 then -- --plugins: every file must load
        local P = {}
        for i, why in ipairs(D.plugin_problems) do P[i] = { path = "$", reason = why } end
        return nil, nil, P
    end
    local norm
    norm, problems = D.validate(doc, types, names, broken, default_name)
    if not norm then return nil, nil, problems end
    return D.to_engine(norm, types), norm, problems
end

-- A document as JSON for clients (the template gallery): sparse arrays allowed, 14 digits.
function D.doc_json(doc)
    local json = cjson_mod.new()
    json.encode_sparse_array(true)
    json.encode_number_precision(14)
    return json.encode(doc)
end

---------------------------------------------------------------------------------------------
-- One type given as text (a user's plugin), in the child process of sdsim_check_type_source:
-- JSON {"ok": true, "decl": {...}} or {"error": "path:line: reason"}. check_type's reasons
-- name a field but no line: the line of the first "field =" assignment is added.

local function line_of(text, reason)
    local field = reason:match("^([%w_%.]+)")
    local seg = field and field:match("([%w_]+)$")
    if not seg then return nil end
    local n = 0
    for line in (text .. "\n"):gmatch("([^\n]*)\n") do
        n = n + 1
        if line:find("%f[%w_]" .. seg .. "%s*=") then return n end
    end
end

local function plain_decl(v, depth)
    if type(v) == "function" then return "<function>" end
    if type(v) ~= "table" or depth > 20 then return v end
    local t = {}
    for k, x in pairs(v) do t[k] = plain_decl(x, depth + 1) end
    return t
end

function D.check_type_json(path, text)
    local json = cjson_mod.new()
    json.encode_sparse_array(true)
    local stem = path:match("([^/]+)%.lua$") or path
    local ok, t = host.run_text(text, path, sandbox_extras(), 10000000, 64 * 1024 * 1024)
    if not ok then return json.encode({ error = t }) end
    -- the returned table's metatable is the plugin's code: check it under a budget too
    local cok, checked, reason = host.pcall_budget(10000000, function()
        local c, r = D.check_type(t, stem)
        return { c = c, r = r }
    end)
    if not cok then return json.encode({ error = path .. ": " .. tostring(checked) }) end
    reason = checked.r
    if not checked.c then
        local line = line_of(text, reason)
        return json.encode({ error = line and (path .. ":" .. line .. ": " .. reason)
                                 or (path .. ": " .. reason), line = line })
    end
    local eok, out = pcall(json.encode, { ok = true, decl = plain_decl(checked.c, 0) })
    return eok and out or json.encode({ ok = true, decl = {} })
end

D.kind, D.describe, D.suggest, D.num_text = kind, describe, suggest, num_text

return D
