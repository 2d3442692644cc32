-- The HTTP API's dispatcher (host/api.c loads it once into the server's trusted Lua state).
-- Every /api request runs M.handle(req) in a coroutine of its own: the route is looked up in
-- M.routes (swappable: hot reload replaces the table), the handler module is loaded from
-- scripts/api/<module>.lua on first use (M.modules, also swappable), and the handler gets the
-- request and a response object. A handler may call host functions that wait (host.sleep,
-- host.validate, host.analyze, host.run, host.components): they yield the coroutine and the
-- server goes on serving others until the result is there.
--
-- M.handle returns status, headers, body, route (the metrics label).
local host = ...
local cjson = require("cjson")

local M = {}

local json = cjson.new()
json.decode_max_depth(64)
json.encode_max_depth(64)
M.json = json

---------------------------------------------------------------------------------------------
-- Errors a handler raises on purpose: M.fail(status, message[, extra fields])

local Fail = {}
Fail.__index = Fail

function M.fail(status, message, extra)
    error(setmetatable({ status = status, message = message, extra = extra }, Fail), 0)
end

-- 422 with every problem: {errors = {{path =, reason =}, ...}}
function M.invalid(problems, message)
    M.fail(422, message or "the design is not valid", { errors = problems })
end

-- The integer query parameter name of req, default when absent; 422 at query.<name> when it
-- is not an integer from min to max.
function M.int_query(req, name, default, min, max)
    local s = req.query[name]
    if s == nil or s == "" then return default end
    local v = tonumber(s)
    if not v or v ~= math.floor(v) or v < min or v > max then
        M.invalid({ { path = "query." .. name,
                      reason = ("must be an integer from %d to %d"):format(min, max) } },
                  "bad query parameter " .. name)
    end
    return v
end

---------------------------------------------------------------------------------------------
-- Request and response objects

local Request = {}
Request.__index = Request

-- The body decoded as JSON (an object or array); a malformed body raises a 400 that names
-- the problem.
function Request:json()
    if self._json ~= nil then return self._json end
    if not self.body:find("%S") then M.fail(400, "the request needs a JSON body") end
    local ok, v = pcall(json.decode, self.body)
    if not ok then
        M.fail(400, "malformed JSON: " .. tostring(v):gsub("^.-:%d+: ", ""))
    end
    if type(v) ~= "table" then M.fail(400, "the JSON body must be an object") end
    self._json = v
    return v
end

local Response = {}
Response.__index = Response

function Response:status(code)
    self._status = code
    return self
end

function Response:header(name, value)
    self._headers[name:lower()] = tostring(value)
    return self
end

function Response:json(value)
    self._headers["content-type"] = "application/json"
    self._body = json.encode(value) .. "\n"
    return self
end

-- A JSON text made elsewhere (a worker thread's report), sent as it is.
function Response:raw_json(text)
    self._headers["content-type"] = "application/json"
    self._body = text
    return self
end

function Response:send(text, content_type)
    self._headers["content-type"] = content_type or "text/plain; charset=utf-8"
    self._body = text
    return self
end

---------------------------------------------------------------------------------------------
-- Routes: "METHOD /api/path/:param" -> "module.function"

local function compile_routes(spec)
    local list = {}
    for key, target in pairs(spec) do
        local method, pattern = key:match("^(%u+) (/%S*)$")
        local module, fn = target:match("^([%w_]+)%.([%w_]+)$")
        if not method or not module then
            error("bad route '" .. key .. "' -> '" .. target .. "'")
        end
        local segs = {}
        for s in pattern:gmatch("[^/]+") do segs[#segs + 1] = s end
        list[#list + 1] = { key = key, method = method, segs = segs, module = module, fn = fn }
    end
    table.sort(list, function(a, b) return a.key < b.key end)
    return list
end

function M.load_routes()
    local chunk = assert(host.load_module("routes"))
    M.routes = compile_routes(chunk())
    M.modules = {}
end

local function match_segs(route, segs)
    if #route.segs ~= #segs then return nil end
    local params = {}
    for i, s in ipairs(route.segs) do
        if s:sub(1, 1) == ":" then params[s:sub(2)] = segs[i]
        elseif s ~= segs[i] then return nil end
    end
    return params
end

-- route, params | nil, allowed methods (a list, empty when the path is unknown)
local function find(method, path)
    local segs = {}
    for s in path:gmatch("[^/]+") do segs[#segs + 1] = s end
    local allowed = {}
    for _, r in ipairs(M.routes) do
        local params = match_segs(r, segs)
        if params then
            if r.method == method or (method == "HEAD" and r.method == "GET") then
                return r, params
            end
            allowed[#allowed + 1] = r.method
        end
    end
    return nil, allowed
end

-- The handler module name (scripts/api/<name>.lua, from the hot-reload registry), loaded once
-- and kept in M.modules (a reload swaps it there).
function M.module(name)
    local mod = M.modules[name]
    if not mod then
        mod = assert(host.load_module(name))()
        M.modules[name] = mod
    end
    return mod
end

local function handler_of(route)
    local mod = M.module(route.module)
    local fn = type(mod) == "table" and mod[route.fn]
    if type(fn) ~= "function" then
        error(("scripts/api/%s.lua has no function %s"):format(route.module, route.fn))
    end
    return fn
end

---------------------------------------------------------------------------------------------
-- One request

local function error_answer(status, message, extra, route, headers)
    local body = { error = message }
    for k, v in pairs(extra or {}) do body[k] = v end
    headers = headers or {}
    headers["content-type"] = "application/json"
    return status, headers, json.encode(body) .. "\n", route
end

local function on_error(e)
    if getmetatable(e) == Fail then return e end
    return debug.traceback(tostring(e), 2)
end

function M.handle(req)
    setmetatable(req, Request)
    local route, params = find(req.method, req.path)
    if not route then
        local allowed = params
        if #allowed > 0 then
            table.sort(allowed)
            return error_answer(405, req.method .. " is not allowed on " .. req.path,
                                { allow = allowed }, "api",
                                { allow = table.concat(allowed, ", ") })
        end
        return error_answer(404, "no such API route: " .. req.path, nil, "api")
    end
    req.params = params
    local res = setmetatable({ _status = 200, _headers = {}, _body = "" }, Response)
    local ok, err = xpcall(function() return handler_of(route)(req, res) end, on_error)
    if not ok then
        if getmetatable(err) == Fail then
            return error_answer(err.status, err.message, err.extra, route.key, res._headers)
        end
        host.log("error", ("%s %s: %s"):format(req.method, req.path, err))
        return error_answer(500, "internal error", nil, route.key)
    end
    res._headers["cache-control"] = res._headers["cache-control"] or "no-store"
    return res._status, res._headers, res._body, route.key
end

---------------------------------------------------------------------------------------------
-- WebSocket /ws (docs/http-api.md). Each text message runs M.ws_message(conn_id, text) in a
-- coroutine of its own (host functions that wait work there); it returns reply | nil, close
-- code, reason. A connection's state is M.ws_conns[id] = {id, user = claims, send}; message
-- types other than ping and auth go to "module.function"(conn, msg) of M.ws_routes once the
-- connection is authenticated (/work/notes/ws.md). Replies later on: host.ws_send(id, value).

local raw_ws_send = host.ws_send
-- host.ws_send(conn_id, table | json text) -> true | false (the connection is gone)
function host.ws_send(id, value)
    if type(value) == "table" then value = json.encode(value) end
    return raw_ws_send(id, value)
end

M.ws_routes = {
    subscribe = "simulations.ws_subscribe",
    unsubscribe = "simulations.ws_unsubscribe",
    control = "simulations.ws_control",
    console = "console.run",
}
M.ws_conns = {}
M.WS_MAX_INFLIGHT = 16

local function ws_conn(id)
    local c = M.ws_conns[id]
    if not c then
        c = { id = id, send = function(v) return host.ws_send(id, v) end }
        M.ws_conns[id] = c
    end
    return c
end

local function ws_error(msg, text)
    return json.encode({ type = "error", error = text, id = msg and msg.id,
                         ["for"] = msg and type(msg.type) == "string" and msg.type or nil })
end

-- {"type":"auth","token":"..."}: a bad token is answered with an error, then the connection
-- is closed with 4401 (a client that sends one has a bug or is probing).
local function ws_auth(conn, msg)
    local claims, why
    if type(msg.token) == "string" and msg.token ~= "" then
        claims, why = host.auth.check(msg.token)
    else
        why = "missing token"
    end
    if not claims then
        conn.user = nil
        host.ws_send(conn.id, ws_error(msg, "invalid token: " .. tostring(why)))
        return nil, 4401, "invalid token"
    end
    conn.user = claims
    host.cluster.session(conn.id, claims.sub) -- user:<id>:session (with --redis)
    return json.encode({ type = "auth_ok", id = msg.id, expiresAt = claims.exp,
                         user = { id = claims.sub, role = claims.role } })
end

local function ws_handler(route)
    local module, fn = route:match("^([%w_]+)%.([%w_]+)$")
    return handler_of({ module = module, fn = fn })
end

local function ws_dispatch(conn_id, text)
    local ok, msg = pcall(json.decode, text)
    if not ok or type(msg) ~= "table" then return nil, 1007, "not a JSON object" end
    -- a request another host forwarded (host/live_cluster.c): never from a client's socket
    if msg.type == "forwarded" and host.cluster.is_pseudo(conn_id) then
        return ws_handler("simulations.forwarded")(msg)
    end
    local conn = ws_conn(conn_id)
    if msg.type == "ping" then return json.encode({ type = "pong", id = msg.id }) end
    if msg.type == "auth" then return ws_auth(conn, msg) end
    local route = type(msg.type) == "string" and M.ws_routes[msg.type]
    if not route then return ws_error(msg, "unknown message type: " .. tostring(msg.type)) end
    if not conn.user then
        return ws_error(msg, "not authenticated: send {\"type\":\"auth\",\"token\":...} first "
                        .. "or connect to /ws?token=...")
    end
    if conn.user.exp and conn.user.exp < os.time() then
        return ws_error(msg, "the access token has expired: send {\"type\":\"auth\"} with a "
                        .. "fresh one")
    end
    -- Each message is a coroutine that may wait (the store): a client that sends faster than
    -- they finish is refused rather than piling them up.
    if (conn.inflight or 0) >= M.WS_MAX_INFLIGHT then
        return ws_error(msg, "too many requests at once on this connection: wait for answers")
    end
    conn.inflight = (conn.inflight or 0) + 1
    local okh, res = xpcall(function() return ws_handler(route)(conn, msg) end, on_error)
    conn.inflight = conn.inflight - 1
    if not okh then
        if getmetatable(res) == Fail then
            local t = { type = "error", error = res.message, id = msg.id, ["for"] = msg.type }
            for k, v in pairs(res.extra or {}) do t[k] = v end
            return json.encode(t)
        end
        host.log("error", ("ws %s: %s"):format(tostring(msg.type), res))
        return ws_error(msg, "internal error")
    end
    if type(res) == "table" then return json.encode(res) end
    return res
end

function M.ws_message(conn_id, text)
    local reply, code, reason = ws_dispatch(conn_id, text)
    return reply, code, reason
end

function M.ws_closed(conn_id)
    local c = M.ws_conns[conn_id]
    if c and c.user then host.cluster.session(conn_id, nil) end
    M.ws_conns[conn_id] = nil
end

---------------------------------------------------------------------------------------------
-- Hot reload (host/api_reload.c, docs/hot-reload.md)

-- A changed scripts/api/NAME.lua that compiled in a fresh state: chunk is it, compiled here.
-- It replaces the module in use only if it runs and returns a table (routes.lua: a route
-- table that compiles); otherwise the old one stays. -> true | false, reason
function M.swap_module(name, chunk)
    local ok, mod = pcall(chunk)
    if not ok then return false, tostring(mod) end
    if type(mod) ~= "table" then
        return false, ("scripts/api/%s.lua returned a %s, not its module table"):format(
            name, type(mod))
    end
    if name == "routes" then
        local cok, compiled = pcall(compile_routes, mod)
        if not cok then return false, tostring(compiled) end
        M.routes = compiled
        return true
    end
    M.modules[name] = mod
    return true
end

-- Every change the registry reports ({kind, name, file, status, version, ms, error}): the
-- loaded modules that keep something derived from the files (on_reload) drop it.
function M.on_reload(ev)
    M.last_reload = ev
    for _, mod in pairs(M.modules) do
        if type(mod) == "table" and type(mod.on_reload) == "function" then
            local ok, err = pcall(mod.on_reload, ev)
            if not ok then host.log("error", "on_reload: " .. tostring(err)) end
        end
    end
end

api = M -- handler modules reach M.fail, M.invalid and M.json through this global
M.load_routes()
return M
