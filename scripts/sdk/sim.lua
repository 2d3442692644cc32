-- The Lua module `sim`: what-if scripting over design documents (docs/scripting.md).
--
-- Loaded by host/lua_sim.c as a chunk that receives (C, cjson): C is the bridge to the host
-- (read_file, run_template, run, analyze, clock, root), cjson the JSON module. Everything
-- above the bridge lives here: document paths, pretty printers, sweeps and the SLO searches.
-- A design is always the DOCUMENT (docs/design-format.md) as a plain Lua table; each run
-- encodes it to JSON and hands it to the same loader and engine as `sdsim run`, so a report
-- here is the `sdsim run --json` report decoded (JSON null becomes nil).
local C, cjson_mod = ...

local sim = {}
local fmt, concat, sort = string.format, table.concat, table.sort
local floor, ceil, huge, abs, max, min = math.floor, math.ceil, math.huge, math.abs, math.max,
    math.min

local json = cjson_mod.new()
json.encode_number_precision(14)
json.decode_max_depth(1000)
local NULL = cjson_mod.null

-- Where sim.print and the searches write; a host may replace it (a sandbox's print).
sim.out = print

local function out(...) return sim.out(...) end

---------------------------------------------------------------------------------------------
-- Values

-- A deep copy of plain data (raw access: a metatable cannot run code here). Keys that are
-- not strings or numbers, and values that are functions, are errors, as in a document.
local function plain(v, path, seen)
    local t = type(v)
    if t == "string" or t == "number" or t == "boolean" or v == NULL then return v end
    if t ~= "table" then error(fmt("%s: a %s is not a design value", path, t), 0) end
    if seen[v] then error(fmt("%s: this table contains itself", path), 0) end
    seen[v] = true
    local c = {}
    for k, x in next, v do
        local kp = type(k) == "number" and fmt("%s[%d]", path, k - 1)
            or (path .. "." .. tostring(k))
        c[k] = plain(x, kp, seen)
    end
    seen[v] = nil
    return c
end

-- The load multiplier of a table (sim.set(d, "load", m)) and the workload it multiplies,
-- kept beside the document (weak keys) so that the document itself stays valid.
local load_of = setmetatable({}, { __mode = "k" })

function sim.copy(d)
    local c = plain(d, "$", {})
    if load_of[d] then load_of[c] = plain(load_of[d], "$", {}) end
    return c
end

local function encode(d)
    if type(d) ~= "table" then error("a design table is needed, got a " .. type(d), 3) end
    local ok, text = pcall(json.encode, d)
    if not ok then
        error("the design cannot be written as JSON: " .. tostring(text):gsub("^.-: ", ""), 3)
    end
    return text
end

-- JSON null -> nil, recursively (absent figures are nil in Lua).
local function denull(v)
    if type(v) ~= "table" then return v end
    for k, x in pairs(v) do
        if x == NULL then v[k] = nil else denull(x) end
    end
    return v
end

---------------------------------------------------------------------------------------------
-- Loading

local function basename(path)
    return (path:match("([^/]+)$") or path):gsub("%.[^.]*$", "")
end

-- sim.load(path) -> the design document as a Lua table. A .lua file is a template: it runs
-- here in an allow-listed environment (no io, os, require ...) under a budget of 50 million
-- instructions; anything else is read as JSON. Validation happens at sim.run / sim.analyze.
-- sim.load(table) -> a plain copy of a design given inline. Under `sdsim script --sandbox`
-- only template names ("ecommerce", "templates/ecommerce.lua") and tables are accepted.
function sim.load(path)
    if type(path) == "table" then -- a design given inline: a plain copy
        local ok, copy = pcall(plain, path, "$", {})
        if not ok then error("sim.load: " .. copy, 2) end
        return copy
    end
    if type(path) ~= "string" then
        error("sim.load(path): path must be a string (or a design table)", 2)
    end
    -- In the sandbox (sdsim script --sandbox) C.resolve admits template names only.
    if C.resolve then
        local ok, p = pcall(C.resolve, path)
        if not ok then error(p, 2) end
        path = p
    end
    local doc
    if path:match("%.lua$") then
        doc = C.run_template(path, 50e6)
        if type(doc) ~= "table" then
            error(fmt("template %s returned a %s, not a design table", path, type(doc)), 2)
        end
        local ok, copy = pcall(plain, doc, "$", {})
        if not ok then error(fmt("template %s: %s", path, copy), 2) end
        doc = copy
    else
        local text, why = C.read_file(path)
        if not text then error(why, 2) end
        if text:sub(1, 3) == "\239\187\191" then text = text:sub(4) end
        local ok, v = pcall(json.decode, text)
        if not ok then error(fmt("%s: JSON syntax error: %s", path, tostring(v)), 2) end
        if type(v) ~= "table" then error(path .. ": the document is not a JSON object", 2) end
        doc = v
    end
    if doc.name == nil then doc.name = basename(path) end
    return doc
end

-- The project directory (templates/, components/, scripts/): SDSIM_ROOT or the source tree.
function sim.root() return C.root() end

-- sim.template("ecommerce") -> sim.load(<root>/templates/ecommerce.lua)
function sim.template(name)
    if type(name) ~= "string" or not name:match("^[%w_.-]+$") then
        error("sim.template(name): a template name like 'ecommerce' is needed", 2)
    end
    return sim.load(C.root() .. "/templates/" .. name:gsub("%.lua$", "") .. ".lua")
end

---------------------------------------------------------------------------------------------
-- Finding things in a document

local function ids(d)
    local list = {}
    for _, c in ipairs(d.components or {}) do list[#list + 1] = tostring(c.id) end
    return concat(list, ", ")
end

local function find_component(d, id)
    for _, c in ipairs(type(d.components) == "table" and d.components or {}) do
        if c.id == id then return c end
    end
end

function sim.component(d, id)
    local c = find_component(d, id)
    if not c then error(fmt("no component '%s' (there are: %s)", tostring(id), ids(d)), 2) end
    return c
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

local function find_edge(d, from, to)
    for _, e in ipairs(type(d.edges) == "table" and d.edges or {}) do
        if e.from == from and e.to == to then return e end
    end
end

function sim.edge(d, from, to)
    local e = find_edge(d, from, to)
    if not e then error(fmt("no edge %s->%s", tostring(from), tostring(to)), 2) end
    return e
end

-- Splits "a.b[2].c" into {"a", "b", 3, "c"} (JSONPath indices count from 0, Lua's from 1).
local function split_fields(rest, where)
    local keys = {}
    for part in rest:gmatch("[^.]+") do
        local name, idx = part:match("^([^%[]*)(.*)$")
        if name ~= "" then keys[#keys + 1] = tonumber(name) and tonumber(name) + 1 or name end
        for i in idx:gmatch("%[(%d+)%]") do keys[#keys + 1] = tonumber(i) + 1 end
        if idx:gsub("%[%d+%]", "") ~= "" then
            error(fmt("bad path '%s' (indices are written [0], [1], ...)", where), 3)
        end
    end
    return keys
end

-- The longest component id that prefixes `path` followed by "." (ids may contain dots).
local function id_prefix(d, path, candidates)
    local best
    for _, c in ipairs(candidates) do
        local id = type(c) == "table" and c.id or c
        if type(id) == "string" and path:sub(1, #id + 1) == id .. "."
            and (not best or #id > #best) then
            best = id
        end
    end
    return best
end

-- Resolves a path to (table, key) of the value it names; creating intermediate tables when
-- `create`. Raises with the known names when the path names nothing.
local SHORT = { workers = { "params", "workers" }, queue = { "params", "queue" },
                service_ms = { "params", "service_time", "mean_ms" },
                cost_per_hour = { "params", "cost_per_hour" } }

local function walk(root, keys, create, where)
    local t = root
    for i = 1, #keys - 1 do
        local k = keys[i]
        if type(t[k]) ~= "table" then
            if not create or t[k] ~= nil then return nil end
            t[k] = {}
        end
        t = t[k]
    end
    return t, keys[#keys]
end

local function resolve(d, path, create)
    if type(d) ~= "table" then error("a design table is needed, got a " .. type(d), 3) end
    if type(path) ~= "string" then error("a path must be a string", 3) end
    if path:sub(1, 2) == "$." then return walk(d, split_fields(path:sub(3), path), create) end
    local arrow = path:find("->", 1, true)
    if arrow then
        local from = trim(path:sub(1, arrow - 1))
        local rest = trim(path:sub(arrow + 2))
        local tos = {}
        for _, e in ipairs(d.edges or {}) do if e.from == from then tos[#tos + 1] = e.to end end
        local to = id_prefix(d, rest, tos)
        if not to then error(fmt("no edge in '%s' (write FROM->TO.field)", path), 3) end
        local keys = split_fields(rest:sub(#to + 2), path)
        return walk(find_edge(d, from, to), keys, create)
    end
    local id = id_prefix(d, path, d.components or {})
    if id then
        local c = find_component(d, id)
        local field = path:sub(#id + 2)
        local keys = SHORT[field] or split_fields(field, path)
        return walk(c, keys, create)
    end
    local top = path:match("^([^.]+)")
    if top == "slo" or top == "name" or top == "description" or top == "version" then
        return walk(d, split_fields(path, path), create)
    end
    error(fmt("'%s' names nothing: use ID.field (components: %s), FROM->TO.field, load, rps, "
        .. "slo.FIELD or $.json.path", path, ids(d)), 3)
end

-- The workload figures `load` multiplies: open rates (and their patterns' rates) and closed
-- populations.
local function each_rate(d, fn)
    for i, w in ipairs(type(d.workload) == "table" and d.workload or {}) do
        if type(w.rps) == "number" then fn(w, "rps", i) end
        if type(w.users) == "number" then fn(w, "users", i) end
        local p = w.pattern
        if type(p) == "table" then
            if type(p.to_rps) == "number" then fn(p, "to_rps", i) end
            for _, s in ipairs(type(p.steps) == "table" and p.steps or {}) do
                if type(s.rps) == "number" then fn(s, "rps", i) end
            end
        end
    end
end

-- A copy of d with every workload rate multiplied by m (users rounded, at least 1).
local function scaled(d, m)
    local c = sim.copy(d)
    each_rate(c, function(t, k)
        t[k] = k == "users" and max(1, floor(t[k] * m + 0.5)) or t[k] * m
    end)
    return c
end

local function open_rps(d)
    local total = 0
    for _, w in ipairs(type(d.workload) == "table" and d.workload or {}) do
        if type(w.rps) == "number" then total = total + w.rps end
    end
    return total
end

local function closed_users(d)
    local total = 0
    for _, w in ipairs(type(d.workload) == "table" and d.workload or {}) do
        if type(w.users) == "number" then total = total + w.users end
    end
    return total
end

local function set_load(d, m)
    if type(m) ~= "number" or not (m > 0) or m == huge then
        error("load must be a positive number", 3)
    end
    local state = load_of[d]
    if not state then
        state = { m = 1, base = {} }
        each_rate(d, function(t, k) state.base[#state.base + 1] = t[k] end)
        load_of[d] = state
    end
    local i = 0
    each_rate(d, function(t, k)
        i = i + 1
        local b = state.base[i] or t[k]
        t[k] = k == "users" and max(1, floor(b * m + 0.5)) or b * m
    end)
    state.m = m
end

-- sim.get(d, path) -> the value (nil when absent: the type's default applies).
function sim.get(d, path)
    if path == "load" then return load_of[d] and load_of[d].m or 1 end
    if path == "rps" then return open_rps(d) end
    local t, k = resolve(d, path, false)
    if t == nil then return nil end
    return t[k]
end

-- sim.set(d, path, value): see docs/scripting.md for the paths. Returns nothing, so that
-- the REPL does not print the whole document after each change.
function sim.set(d, path, value)
    if path == "load" then
        set_load(d, value)
    elseif path == "rps" then
        local now = open_rps(d)
        if now <= 0 then error("the design has no open (rps) workload to scale", 2) end
        set_load(d, (load_of[d] and load_of[d].m or 1) * value / now)
    else
        local t, k = resolve(d, path, true)
        if t == nil then
            error(fmt("cannot set '%s': a value on the way is not a table", path), 2)
        end
        t[k] = value
    end
end

---------------------------------------------------------------------------------------------
-- Runs and the analytic pass

local function run_options(opts)
    opts = opts or {}
    local duration = opts.duration or 60
    return duration, opts.warmup or duration / 10, opts.seed or 1, opts.replications or 1
end

-- sim.run(d, {duration = 60, warmup = duration / 10, seed = 1, replications = 1}) -> report
function sim.run(d, opts)
    local text = C.run(encode(d), run_options(opts))
    return denull(json.decode(text))
end

-- sim.analyze(d) -> {offered_rps, e2e_mean_ms, saturation_rps, bottleneck, reason, closed,
-- components = {ID = {arrival_rps, utilization, mean_response_ms, saturation_rps, ...}}}
function sim.analyze(d)
    return C.analyze(encode(d))
end

---------------------------------------------------------------------------------------------
-- Printing

-- Numbers for people: four significant figures or so, integers as integers.
function sim.num(v)
    if type(v) ~= "number" then return v == nil and "-" or tostring(v) end
    if v ~= v then return "nan" end
    if v == huge or v == -huge then return v > 0 and "inf" or "-inf" end
    local a = abs(v)
    if v == floor(v) and a < 1e15 then return fmt("%d", v) end
    if a >= 1e6 or a < 1e-3 then return fmt("%.3g", v) end
    if a >= 1000 then return fmt("%.0f", v) end
    if a >= 100 then return fmt("%.1f", v) end
    if a >= 1 then return fmt("%.2f", v) end
    return fmt("%.3g", v)
end

local function sorted_keys(t)
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    sort(keys, function(a, b)
        local ta, tb = type(a), type(b)
        if ta ~= tb then return ta == "number" end
        if ta == "number" or ta == "string" then return a < b end
        return tostring(a) < tostring(b)
    end)
    return keys
end

-- sim.table(rows, columns) -> the text of an aligned table (also written with sim.out).
-- rows: a list of tables; columns: a list of keys or {key, title} (default: every key of the
-- first row, sorted). Numbers are right-aligned and shortened by sim.num.
function sim.table(rows, columns, quiet)
    if type(rows) ~= "table" then error("sim.table(rows, columns): rows must be a list", 2) end
    if not columns then
        columns = rows[1] and sorted_keys(rows[1]) or {}
    end
    local keys, titles = {}, {}
    for i, c in ipairs(columns) do
        keys[i] = type(c) == "table" and c[1] or c
        titles[i] = type(c) == "table" and (c[2] or tostring(c[1])) or tostring(c)
    end
    local cells, widths, numeric = {}, {}, {}
    for j, t in ipairs(titles) do widths[j] = #t end
    for i, row in ipairs(rows) do
        cells[i] = {}
        for j, k in ipairs(keys) do
            local v = type(k) == "function" and k(row) or row[k]
            if type(v) == "number" then numeric[j] = true end
            local s = type(v) == "number" and sim.num(v) or (v == nil and "-" or tostring(v))
            cells[i][j] = s
            widths[j] = max(widths[j], #s)
        end
    end
    local function line(vals)
        local parts = {}
        for j, s in ipairs(vals) do
            parts[j] = numeric[j] and fmt("%" .. widths[j] .. "s", s)
                or fmt("%-" .. widths[j] .. "s", s)
        end
        return (concat(parts, "  "):gsub("%s+$", ""))
    end
    local lines = { line(titles) }
    local rule = {}
    for j = 1, #keys do rule[j] = string.rep("-", widths[j]) end
    lines[2] = concat(rule, "  ")
    for i = 1, #rows do lines[#lines + 1] = line(cells[i]) end
    local text = concat(lines, "\n")
    if not quiet then out(text) end
    return text
end

local function is_report(v)
    return type(v) == "table" and type(v.e2e) == "table" and type(v.components) == "table"
end

local function report_text(r)
    local e = r.e2e
    local lines = {}
    lines[1] = fmt("%s: %s s simulated (warm-up %s s), seed %s%s", tostring(r.design),
        sim.num(r.duration_s), sim.num(r.warmup_s), sim.num(r.seed),
        (r.replications or 1) > 1 and fmt(", %d replications", r.replications) or "")
    lines[2] = fmt("e2e: %s rps, mean %s ms, p50 %s ms, p95 %s ms, p99 %s ms, errors %s%%, "
        .. "dropped %s", sim.num(e.throughput_rps), sim.num(e.mean_ms), sim.num(e.p50_ms),
        sim.num(e.p95_ms), sim.num(e.p99_ms), sim.num((e.error_rate or 0) * 100),
        sim.num(e.dropped))
    local rows = {}
    for _, id in ipairs(sorted_keys(r.components)) do
        local c = r.components[id]
        rows[#rows + 1] = { id = id, kind = c.behavior, replicas = c.replicas_mean,
            util = c.utilization, rps = c.throughput_rps, p50 = c.p50_ms, p99 = c.p99_ms,
            errors = c.errors, dropped = c.dropped, cost = c.cost_month }
    end
    lines[3] = sim.table(rows, { "id", "kind", "replicas", "util", "rps", { "p50", "p50_ms" },
        { "p99", "p99_ms" }, "errors", "dropped", { "cost", "cost/month" } }, true)
    local b = r.bottleneck
    lines[4] = fmt("bottleneck: %s   cost: $%s/month%s", b and fmt("%s (utilization %s)", b.id,
        sim.num(b.utilization)) or "none", sim.num(r.cost_month),
        r.slo and fmt("   SLO: %s", r.slo.pass and "PASS" or "FAIL") or "")
    return concat(lines, "\n")
end

-- Pretty text of any value: a report as a summary (inside a table, as one line), tables as
-- nested literals (sorted keys, at most `depth` levels, default 6).
function sim.format(v, depth, indent)
    if is_report(v) then
        if not indent then return report_text(v) end
        return fmt("<report %s: %s rps, p99 %s ms, errors %s>", tostring(v.design),
            sim.num(v.e2e.throughput_rps), sim.num(v.e2e.p99_ms), sim.num(v.e2e.error_rate))
    end
    indent = indent or ""
    depth = depth or 6
    local t = type(v)
    if t == "string" then return fmt("%q", v) end
    if t == "number" then return sim.num(v) end
    if t ~= "table" then return tostring(v) end
    if next(v) == nil then return "{}" end
    if depth <= 0 then return "{...}" end
    local n = #v
    local inner = indent .. "  "
    local parts, short = {}, true
    for _, k in ipairs(sorted_keys(v)) do
        local key = ""
        if not (type(k) == "number" and k >= 1 and k <= n and k == floor(k)) then
            key = (type(k) == "string" and k:match("^[%a_][%w_]*$")) and (k .. " = ")
                or ("[" .. sim.format(k, 1, inner) .. "] = ")
        end
        local s = key .. sim.format(v[k], depth - 1, inner)
        if s:find("\n") or #s > 30 then short = false end
        parts[#parts + 1] = s
    end
    local flat = "{ " .. concat(parts, ", ") .. " }"
    if short and #flat + #indent <= 96 then return flat end
    return "{\n" .. inner .. concat(parts, ",\n" .. inner) .. "\n" .. indent .. "}"
end

-- sim.print(v): a report as a summary table, anything else through sim.format.
function sim.print(v, ...)
    out(sim.format(v, ...))
end

---------------------------------------------------------------------------------------------
-- Sweeps

local function summary_row(r, extra)
    local e = r.e2e
    local row = { throughput = e.throughput_rps, p50_ms = e.p50_ms, p99_ms = e.p99_ms,
                  error_rate = e.error_rate, cost_month = r.cost_month,
                  bottleneck = r.bottleneck and r.bottleneck.id or "-" }
    for k, v in pairs(extra or {}) do row[k] = v end
    return row
end

local SUMMARY_COLUMNS = { { "throughput", "rps" }, "p50_ms", "p99_ms", "error_rate",
                          { "cost_month", "cost/month" }, "bottleneck" }

local function with_first(col, rest)
    local cols = { col }
    for _, c in ipairs(rest) do cols[#cols + 1] = c end
    return cols
end

-- sim.sweep(d, path, values, opts) -> { {value =, report =}, ... }, one run per value on a
-- copy of d (d is not changed), and a table of the results (opts.quiet: no table).
function sim.sweep(d, path, values, opts)
    if type(values) ~= "table" or #values == 0 then
        error("sim.sweep(d, path, values): values must be a non-empty list", 2)
    end
    opts = opts or {}
    local results, rows = {}, {}
    for i, v in ipairs(values) do
        local c = sim.copy(d)
        sim.set(c, path, v)
        local r = sim.run(c, opts)
        results[i] = { value = v, report = r }
        rows[i] = summary_row(r, { value = v })
    end
    if not opts.quiet then sim.table(rows, with_first({ "value", path }, SUMMARY_COLUMNS)) end
    return results
end

---------------------------------------------------------------------------------------------
-- SLOs

local SLO_FIGURES = { p50_ms = true, p95_ms = true, p99_ms = true, mean_ms = true,
                      error_rate = true }

local function check_slo(slo, where)
    if type(slo) ~= "table" or next(slo) == nil then
        error(where .. ": an SLO is needed, e.g. {p99_ms = 200, error_rate = 0.001} "
            .. "(or give the design an slo)", 3)
    end
    for k, v in pairs(slo) do
        if not SLO_FIGURES[k] then
            error(fmt("%s: unknown SLO figure '%s' (use p50_ms, p95_ms, p99_ms, mean_ms, "
                .. "error_rate)", where, tostring(k)), 3)
        end
        if type(v) ~= "number" then error(fmt("%s: slo.%s must be a number", where, k), 3) end
    end
    return slo
end

-- sim.meets(report, slo) -> true | false, "p99_ms 250 > 200"
function sim.meets(r, slo)
    local misses = {}
    for _, k in ipairs(sorted_keys(slo)) do
        local v = r.e2e[k]
        if k == "error_rate" then v = v or 0 end
        if v == nil then
            misses[#misses + 1] = k .. " unknown (nothing completed)"
        elseif v > slo[k] then
            misses[#misses + 1] = fmt("%s %s > %s", k, sim.num(v), sim.num(slo[k]))
        end
    end
    if #misses == 0 then return true end
    return false, concat(misses, ", ")
end

local function search_opts(opts, default_runs)
    local o = {}
    for k, v in pairs(opts or {}) do o[k] = v end
    o.duration = o.duration or 30
    o.max_runs = o.max_runs or default_runs
    return o
end

-- The load multiplier at which the analytic pass says the first component saturates, and
-- the offered rate at load 1 (NaN-free: nil when unknown).
local function analytic_saturation(d)
    local ok, a = pcall(sim.analyze, d)
    if not ok or type(a.saturation_rps) ~= "number" or not (a.offered_rps or 0 > 0) then
        return nil, ok and a or nil
    end
    if a.saturation_rps == huge or a.offered_rps <= 0 then return nil, a end
    return a.saturation_rps / a.offered_rps, a
end

-- A first guess below saturation: the analytic mean response grows like 1 / (1 - rho), and
-- p99 of a response that is roughly exponential is ln(100) times its mean; the guess is the
-- load where that estimate meets slo.p99_ms (only a starting point for the simulations).
local function analytic_guess(d, slo, sat)
    if not slo.p99_ms then return 0.9 * sat end
    local lo, hi = 0, sat
    for _ = 1, 12 do
        local m = (lo + hi) / 2
        local ok, a = pcall(sim.analyze, scaled(d, m))
        local mean = ok and a.e2e_mean_ms
        if mean and mean == mean and mean < huge and mean * 4.6 <= slo.p99_ms then
            lo = m
        else
            hi = m
        end
    end
    return max(lo, 0.05 * sat)
end

-- sim.capacity(d, slo, opts) -> {load =, rps =, runs =, report =, saturation_load =, ...}:
-- the highest load multiplier (1 = the workload as written) whose run meets the SLO. The
-- analytic saturation point brackets the search from above, a guess from the analytic mean
-- starts it, then bisection with simulation runs of opts.duration (30) seconds, at most
-- opts.max_runs (10) runs, until the bracket is within opts.tolerance (2 %).
function sim.capacity(d, slo, opts)
    slo = check_slo(slo or (type(d) == "table" and d.slo), "sim.capacity")
    opts = search_opts(opts, 10)
    local tol = opts.tolerance or 0.02
    local base_rps = open_rps(d)
    local sat = analytic_saturation(d)
    local runs, best = {}, nil
    local function try(m)
        local r = sim.run(scaled(d, m), opts)
        local pass, why = sim.meets(r, slo)
        local u = closed_users(d) > 0 and closed_users(scaled(d, m)) or nil
        runs[#runs + 1] = summary_row(r, { load = m, rps = m * base_rps, users = u,
                                           pass = pass, why = why or "" })
        if pass and (not best or m > best.load) then best = { load = m, report = r } end
        return pass
    end
    local lo, hi -- lo passes (or 0), hi fails (or unknown)
    local guess = sat and analytic_guess(d, slo, sat) or 1
    if try(guess) then lo = guess else hi = guess; lo = 0 end
    if not hi then
        -- Above saturation the SLO fails unless queues are bounded and only latency counts:
        -- check the analytic point (or grow) until something fails.
        local m = sat and max(sat, guess * 1.05) or guess * 2
        while #runs < opts.max_runs do
            if try(m) then lo = m; m = m * 2 else hi = m; break end
        end
    end
    while hi and #runs < opts.max_runs and (hi - lo) > tol * hi do
        local m = (lo + hi) / 2
        if try(m) then lo = m else hi = m end
    end
    local users = closed_users(d)
    local res = { load = lo, rps = lo * base_rps, runs = runs, runs_made = #runs,
                  users = users > 0 and closed_users(scaled(d, lo)) or nil,
                  report = best and best.report, saturation_load = sat,
                  saturation_rps = sat and sat * base_rps, upper = hi,
                  converged = hi ~= nil and (hi - lo) <= tol * hi }
    if not opts.quiet then
        sim.table(runs, { "load", res.users and "users" or "rps", "throughput", "p99_ms",
                          "error_rate", "pass", "why" })
        out(fmt("capacity: load x%s (%s) meets %s; fails at x%s; analytic saturation "
            .. "x%s; %d runs of %s s%s", sim.num(lo), res.users and (sim.num(res.users)
            .. " users") or (sim.num(res.rps) .. " rps"), sim.format(slo),
            sim.num(hi), sim.num(sat), #runs, sim.num(opts.duration),
            res.converged and "" or " (not converged: raise opts.max_runs)"))
    end
    return res
end

---------------------------------------------------------------------------------------------
-- The cheapest configuration

local function config_text(cfg, paths)
    local parts = {}
    for _, p in ipairs(paths) do parts[#parts + 1] = fmt("%s=%s", p, sim.num(cfg[p])) end
    return concat(parts, " ")
end

local function apply(d, cfg)
    local c = sim.copy(d)
    for p, v in pairs(cfg) do sim.set(c, p, v) end
    return c
end

-- "ID.replicas" / "ID.workers": capacity grows in proportion to the value.
local function capacity_path(d, path)
    local id = id_prefix(d, path, d.components or {})
    if not id then return nil end
    local field = path:sub(#id + 2)
    if field == "replicas" or field == "workers" then return id end
end

-- Analytic minimums: every capacity path as small as keeps its component's utilization
-- under `target` (0.85), iterated because callers hold workers while callees answer.
local function analytic_start(d, ranges, paths, target)
    local cfg = {}
    for _, p in ipairs(paths) do cfg[p] = ranges[p][2] end
    for _ = 1, 4 do
        local ok, a = pcall(sim.analyze, apply(d, cfg))
        if not ok then break end
        local changed = false
        for _, p in ipairs(paths) do
            local id = capacity_path(d, p)
            local ac = id and a.components[id]
            if ac and type(ac.utilization) == "number" then
                local need = ceil(cfg[p] * ac.utilization / target - 1e-9)
                need = min(ranges[p][2], max(ranges[p][1], need))
                if need ~= cfg[p] then cfg[p], changed = need, true end
            end
        end
        if not changed then break end
    end
    for _, p in ipairs(paths) do
        if not capacity_path(d, p) then cfg[p] = ranges[p][1] end
    end
    return cfg
end

-- sim.cheapest(d, slo, ranges, opts) -> {config =, cost_month =, report =, runs =}: the
-- cheapest setting of the integer paths in `ranges` ({["api.replicas"] = {1, 16}, ...})
-- whose run meets the SLO. It starts from the analytic minimums (utilization under
-- opts.target, 0.85), then adds capacity at the busiest component until the SLO holds and
-- takes it away, most expensive first, while it still holds: coordinate descent checked by
-- simulation runs of opts.duration (30) seconds, at most opts.max_runs (16). Cost is the
-- report's cost_month (replicas x cost_per_hour x 730), so only replicas change it; other
-- paths are kept as small as the SLO allows.
function sim.cheapest(d, slo, ranges, opts)
    slo = check_slo(slo or (type(d) == "table" and d.slo), "sim.cheapest")
    opts = search_opts(opts, 16)
    if type(ranges) ~= "table" or next(ranges) == nil then
        error("sim.cheapest: ranges must name paths, e.g. {['api.replicas'] = {1, 16}}", 2)
    end
    local paths = sorted_keys(ranges)
    for _, p in ipairs(paths) do
        local r = ranges[p]
        if type(r) ~= "table" or type(r[1]) ~= "number" or type(r[2]) ~= "number"
            or r[1] > r[2] then
            error(fmt("sim.cheapest: ranges['%s'] must be {min, max}", p), 2)
        end
        sim.get(d, p) -- raises when the path names nothing
    end
    local runs, tried = {}, {}
    local best
    local function try(cfg)
        local key = config_text(cfg, paths)
        if tried[key] ~= nil then return tried[key].pass, tried[key].report end
        local r = sim.run(apply(d, cfg), opts)
        local pass, why = sim.meets(r, slo)
        local row = summary_row(r, { config = key, pass = pass, why = why or "" })
        runs[#runs + 1] = row
        tried[key] = { pass = pass, report = r }
        if pass and (not best or r.cost_month < best.cost_month
                     or (r.cost_month == best.cost_month and key < best.key)) then
            local copy = {}
            for k, v in pairs(cfg) do copy[k] = v end
            best = { config = copy, cost_month = r.cost_month, report = r, key = key }
        end
        return pass, r
    end
    local cfg = analytic_start(d, ranges, paths, opts.target or 0.85)
    local start = config_text(cfg, paths)
    -- Up: add capacity where the run says the load is heaviest until the SLO holds.
    local pass, r = try(cfg)
    while not pass and #runs < opts.max_runs do
        local grow, worst
        for _, p in ipairs(paths) do
            local id = capacity_path(d, p)
            local u = id and r.components[id] and r.components[id].utilization or 0
            if cfg[p] < ranges[p][2] and (not worst or u > worst) then grow, worst = p, u end
        end
        if not grow then break end
        cfg[grow] = min(ranges[grow][2], cfg[grow] + max(1, floor(cfg[grow] * 0.25)))
        pass, r = try(cfg)
    end
    -- Down: take capacity away, most expensive per step first, while the SLO holds.
    if pass then
        local unit = {}
        for _, p in ipairs(paths) do
            local id = capacity_path(d, p)
            local c = id and r.components[id]
            unit[p] = (c and p:match("%.replicas$") and c.replicas_mean and c.replicas_mean > 0)
                and c.cost_month / c.replicas_mean or 0
        end
        local order = {}
        for i, p in ipairs(paths) do order[i] = p end
        sort(order, function(a, b)
            if unit[a] ~= unit[b] then return unit[a] > unit[b] end
            return a < b
        end)
        local progress = true
        while progress and #runs < opts.max_runs do
            progress = false
            for _, p in ipairs(order) do
                while cfg[p] > ranges[p][1] and #runs < opts.max_runs do
                    cfg[p] = cfg[p] - 1
                    if try(cfg) then progress = true else cfg[p] = cfg[p] + 1; break end
                end
            end
        end
    end
    local res = { config = best and best.config, cost_month = best and best.cost_month,
                  report = best and best.report, runs = runs, runs_made = #runs,
                  start = start }
    if not opts.quiet then
        sim.table(runs, { "config", { "throughput", "rps" }, "p99_ms", "error_rate",
                          { "cost_month", "cost/month" }, "pass", "why" })
        if best then
            out(fmt("cheapest: %s at $%s/month meets %s (%d runs of %s s; analytic start %s)",
                best.key, sim.num(best.cost_month), sim.format(slo), #runs,
                sim.num(opts.duration), start))
        else
            out(fmt("cheapest: nothing tried meets %s within the ranges (%d runs of %s s)",
                sim.format(slo), #runs, sim.num(opts.duration)))
        end
    end
    return res
end

sim.version = 1
return sim
