-- A signed-in user's own component types (docs/http-api.md, "Plugins"): the Lua source of a
-- type (docs/plugin-api.md) kept in the plugins table. A source is checked before it is saved
-- (host.library.check_plugin: the loaders' own check, in a forked child under their budgets);
-- a saved plugin is listed by GET /api/components for its owner ("user": true) and can be
-- used in their designs (validate, analyze, run: the jobs get the sources; a run whose design
-- uses a plugin with a Lua behaviour runs in a locked-down child process).
local api = api
local M = { cache = {} } -- user id -> {name -> {id, name, source, updated_at}}

local NAME_MAX = 64
local SOURCE_MAX = 256 * 1024

local module = api.module

local function store_failed(r) module("auth").store_failed(r) end

-- The user's plugins with their sources, by name (cached until they change).
local function load_all(user_id)
    local have = M.cache[user_id]
    if have then return have end
    local r = host.library.store_plugin_list(user_id)
    if r.status ~= "ok" then store_failed(r) end
    local all = {}
    for _, p in ipairs(r.plugins or {}) do
        local g = host.library.store_plugin_get(p.id, user_id)
        if g.status == "ok" and g.plugins and g.plugins[1] then all[p.name] = g.plugins[1] end
    end
    M.cache[user_id] = all
    return all
end

local function forget(user_id)
    M.cache[user_id] = nil
    local c = api.modules.components
    if c and c.forget then c.forget(user_id) end
end

-- {{name =, source =}...} of the user's plugins that may be used: not shadowing a built-in
-- type (one that appeared after the plugin was saved). For the jobs (design.lua, projects,
-- components.lua, simulations).
function M.sources_of(user_id)
    local builtins, out = host.library.type_names(), {}
    for name, p in pairs(load_all(user_id)) do
        if not builtins[name] then out[#out + 1] = { name = name, source = p.source } end
    end
    table.sort(out, function(a, b) return a.name < b.name end)
    return out
end

local function user_of(req, res) return module("auth").user(req, res) end

-- GET /api/plugins -> {plugins = [{name, source, updatedAt, error}]}
function M.list(req, res)
    local user = user_of(req, res)
    local builtins, list = host.library.type_names(), {}
    for name, p in pairs(load_all(user.sub)) do
        list[#list + 1] = {
            name = name, source = p.source, version = p.version, updatedAt = p.updated_at,
            error = builtins[name] and ("a built-in component type is named '" .. name
                                        .. "' now: rename the plugin to use it") or api.json.null,
        }
    end
    table.sort(list, function(a, b) return a.name < b.name end)
    if #list == 0 then return res:raw_json('{"plugins":[]}\n') end -- cjson: {} is an object
    res:json({ plugins = list })
end

-- "NAME.lua:12: reason" -> {path = "NAME.lua:12", reason =, line = 12}
local function problem_of(msg, file)
    local path, line, reason = msg:match("^(" .. file:gsub("%p", "%%%0") .. ":(%d+)): (.*)$")
    if path then return { path = path, reason = reason, line = tonumber(line) } end
    local rest = msg:match("^" .. file:gsub("%p", "%%%0") .. ": (.*)$")
    return { path = file, reason = rest or msg }
end

local function refuse(message, problems)
    api.fail(422, message, { errors = problems })
end

-- PUT /api/plugins/:name {source} -> {name, ok = true} | 422 {error, errors = [{path, reason,
-- line}]}
function M.save(req, res)
    local user = user_of(req, res)
    local name = req.params.name
    local file = name .. ".lua"
    if #name > NAME_MAX or not name:match("^[a-z][a-z0-9_]*$") then
        refuse("bad plugin name", { { path = "name", reason = ("a plugin name is lower-case "
            .. "letters, digits and _ (at most %d), starting with a letter"):format(NAME_MAX) } })
    end
    local body = req:json()
    local source = body.source
    if type(source) ~= "string" or #source > SOURCE_MAX then
        refuse("bad source", { { path = "$.source", reason = ("must be Lua text of at most %d "
            .. "bytes"):format(SOURCE_MAX) } })
    end
    if host.library.type_names()[name] then
        refuse("a built-in type has this name", { { path = file, reason = ("a built-in "
            .. "component type is named '%s'; a plugin cannot replace it"):format(name) } })
    end
    local text, why = host.library.check_plugin(name, source)
    if not text then
        why = tostring(why)
        if why:find("cannot fork") or why:find("cannot create a pipe") or why:find("out of memory")
            or why == "cancelled" then
            api.fail(500, "the check could not run: " .. why)
        end
        -- the plugin crashed the checker's VM, or ran past its deadline
        refuse(why, { { path = file, reason = (why:gsub("^" .. file:gsub("%p", "%%%0")
            .. ": ", "")) } })
    end
    local checked = api.json.decode(text)
    if not checked.ok then
        local p = problem_of(checked.error or "invalid", file)
        refuse(checked.error or "the plugin is not valid", { p })
    end
    local r = host.library.store_plugin_put(user.sub, name, source)
    if r.status ~= "ok" then store_failed(r) end
    forget(user.sub)
    local p = r.plugins and r.plugins[1] or {}
    res:json({ name = name, ok = true, version = p.version, updatedAt = p.updated_at })
end

-- DELETE /api/plugins/:name -> 204
function M.delete(req, res)
    local user = user_of(req, res)
    local p = load_all(user.sub)[req.params.name]
    if not p then api.fail(404, "no such plugin") end
    local r = host.library.store_plugin_delete(p.id, user.sub)
    forget(user.sub)
    if r.status == "not_found" then api.fail(404, "no such plugin") end
    if r.status ~= "ok" then store_failed(r) end
    res:status(204):send("")
end

return M
