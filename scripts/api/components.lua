-- GET /api/components: every component type with its parameters, built on a worker thread by
-- catalog.lua from the hot-reload registry's good versions (a rejected edit is listed under
-- "broken" while the type keeps its last good version). Kept until a type changes
-- (on_reload). With a bearer token, the caller's own valid plugins are listed too, marked
-- "user": true (plugins.lua); that list is kept per user until their plugins change.
local api = api
local M = { user_cache = {}, gen = 0 }

local module = api.module

local function build(plugins)
    local broken = api.json.encode(host.library.type_errors())
    local text, message = host.components(plugins, broken)
    if not text then api.fail(500, message) end
    return text
end

function M.list(req, res)
    local h = req.headers.authorization
    local user = h and h ~= "" and module("auth").user(req, res) or nil
    local plugins = user and module("plugins").sources_of(user.sub) or {}
    local text, gen = nil, M.gen
    -- a list built while a type changed is answered but not kept (gen moved on)
    if #plugins == 0 then
        text = M.cache or build(nil)
        if gen == M.gen then M.cache = text end
    else
        text = M.user_cache[user.sub] or build(plugins)
        if gen == M.gen then M.user_cache[user.sub] = text end
    end
    res:header("cache-control", "no-cache")
    res:raw_json(text)
end

-- A component type changed (or was rejected): every list is stale.
function M.on_reload(ev)
    if ev.kind == "component type" then
        M.gen = M.gen + 1
        M.cache = nil
        M.user_cache = {}
    end
end

-- A user's plugins changed.
function M.forget(user_id)
    M.user_cache[user_id] = nil
end

return M
