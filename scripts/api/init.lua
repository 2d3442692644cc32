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

local function handler_of(route)
    local mod = M.modules[route.module]
    if not mod then
        local chunk = assert(host.load_module(route.module))
        mod = chunk()
        M.modules[route.module] = mod
    end
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
-- WebSocket text messages: reply | nil, close code, reason

function M.ws_message(text)
    local ok, msg = pcall(json.decode, text)
    if not ok or type(msg) ~= "table" then return nil, 1007, "not a JSON object" end
    if msg.type == "ping" then
        return json.encode({ type = "pong", id = msg.id })
    end
    return json.encode({ type = "error", error = "unknown message type: " .. tostring(msg.type) })
end

api = M -- handler modules reach M.fail, M.invalid and M.json through this global
M.load_routes()
return M
