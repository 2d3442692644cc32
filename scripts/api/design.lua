-- Handlers on a design document sent as the request body: validation, the analytic
-- prediction and an anonymous simulation. The work runs on worker threads (host.validate,
-- host.analyze, host.run yield this coroutine until it is done).
local api = api -- the dispatcher (init.lua): fail, invalid
local M = {}

-- With a bearer token, the caller's own plugin types (plugins.lua) may be used in the design:
-- they go with the job. Without one, only the built-in types.
local function plugins_of(req)
    local h = req.headers.authorization
    if not h or h == "" then return nil end
    local user = api.module("auth").user(req)
    return api.module("plugins").sources_of(user.sub)
end

-- The body must be JSON (400 otherwise); validation itself (422 with every problem and its
-- JSON path) happens on the worker thread.
local function design_text(req)
    req:json()
    return req.body
end

-- Turns a host function's failure into the answer: 422 with the problems, or an error.
local function answer(res, text, message, code, problems)
    if text then return res:raw_json(text) end
    if code == "invalid" then api.invalid(problems, message) end
    if code == "timeout" or code == "unsupported" or code == "stopped" then
        api.fail(422, message)
    end
    if code == "cancelled" then api.fail(503, message) end
    api.fail(500, message or "the work failed")
end

function M.validate(req, res)
    local text, message, code, problems = host.validate(design_text(req), plugins_of(req))
    if code == "invalid" then
        return res:status(422):json({ ok = false, errors = problems })
    end
    answer(res, text, message, code, problems)
end

function M.analyze(req, res)
    answer(res, host.analyze(design_text(req), plugins_of(req)))
end

-- A query parameter as a number in [min, max], its default when absent; 422 otherwise.
local function number_param(req, name, default, min, max, why)
    local s = req.query[name]
    if s == nil or s == "" then return default end
    local v = tonumber(s)
    if not v or v ~= v or v < min or v > max then
        api.invalid({ { path = "query." .. name,
                        reason = ("must be a number from %g to %g%s, not '%s'"):format(
                            min, max, why or "", s) } }, "bad query parameter " .. name)
    end
    return v
end

-- POST /api/run?duration=S&warmup=S&seed=N: an anonymous simulation with capped duration and
-- components, at most host.config.run_max_concurrent at once server-wide.
function M.run(req, res)
    local cfg = host.config
    local duration = number_param(req, "duration", math.min(60, cfg.run_max_duration), 0.001,
                                  cfg.run_max_duration, " (the limit for anonymous runs)")
    local warmup = number_param(req, "warmup", duration / 10, 0, duration)
    if warmup >= duration then
        api.invalid({ { path = "query.warmup", reason = "must be shorter than the duration" } })
    end
    local seed = number_param(req, "seed", 1, 0, 2 ^ 53)
    local text = design_text(req)
    if host.stats().simulations_running >= cfg.run_max_concurrent then
        res:header("retry-after", 1)
        api.fail(429, ("at most %d anonymous simulations run at once: try again shortly")
                      :format(cfg.run_max_concurrent))
    end
    answer(res, host.run(text, { duration = duration, warmup = warmup, seed = math.floor(seed),
                                 wall_limit = cfg.run_wall_limit,
                                 max_components = cfg.run_max_components },
                        plugins_of(req)))
end

return M
