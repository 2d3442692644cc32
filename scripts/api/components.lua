-- GET /api/components: every component type of components/*.lua with its parameters, built
-- on a worker thread by catalog.lua and kept until the types change (hot reload, next, will
-- clear M.cache).
local api = api
local M = {}

function M.list(req, res)
    if not M.cache then
        local text, message = host.components()
        if not text then api.fail(500, message) end
        M.cache = text
    end
    res:header("cache-control", "no-cache")
    res:raw_json(M.cache)
end

return M
