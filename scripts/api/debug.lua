-- Handlers for the tests only (sdsim serve --test-routes).
local api = api
local M = {}

-- GET /api/debug/sleep?ms=N: yields for N ms (the loop must go on serving others meanwhile).
function M.sleep(req, res)
    local ms = tonumber(req.query.ms) or 100
    local t0 = host.now()
    host.sleep(ms)
    res:json({ slept_ms = host.now() - t0 })
end

-- GET /api/debug/error: a handler bug (500, logged with its traceback).
function M.error(req, res)
    local t = nil
    return t.field
end

-- /api/debug/echo/:name: the request as the handler sees it.
function M.echo(req, res)
    local body = req.method == "POST" and req:json() or nil
    res:header("x-echo", req.params.name)
    res:json({ method = req.method, path = req.path, params = req.params, query = req.query,
               user_agent = req.headers["user-agent"], body = body })
end

return M
