-- A signed-in user's projects: create, list, get, save (with a version check), delete, fork.
-- Designs are validated (host.validate, on a worker thread) before they are saved and stored
-- as the client sent them (host.json_field takes the member's text byte for byte).
local api = api
local json = api.json
local M = {}

local NAME_MAX = 200
local DESCRIPTION_MAX = 10000

local function auth() return api.module("auth") end

-- The project as JSON text; design_data is spliced in as stored (no re-encoding).
local function project_json(p)
    local meta = json.encode({ id = p.id, name = p.name, description = p.description,
                               version = p.version, isPublic = p.is_public,
                               forkedFrom = p.forked_from, templateId = p.template_id,
                               createdAt = p.created_at, updatedAt = p.updated_at })
    if not p.design_data then return meta end
    return meta:sub(1, -2) .. ',"design":' .. p.design_data .. "}"
end

local function send_project(res, p, status)
    res:status(status or 200):raw_json(project_json(p) .. "\n")
end

local function fail_store(r, what)
    if r.status == "not_found" or (r.status == "invalid" and what == "id") then
        api.fail(404, "no such project")
    end
    if r.status == "forbidden" then api.fail(403, "this project belongs to someone else") end
    if r.status == "invalid" then api.fail(422, r.error or "invalid project data") end
    auth().store_failed(r)
end

local function opt_string(body, field, max, problems)
    local v = body[field]
    if v == nil or type(v) == "userdata" then return nil end
    if type(v) ~= "string" or #v > max then
        problems[#problems + 1] = { path = "$." .. field,
                                    reason = ("must be a string of at most %d bytes"):format(max) }
        return nil
    end
    return v
end

-- The design's text from the body, validated: 422 with every problem, its path under $.design.
local function checked_design(req, body, problems, required)
    local d = body.design
    if d == nil then
        if required then problems[#problems + 1] = { path = "$.design", reason = "is required" } end
        return nil
    end
    if type(d) ~= "table" then
        problems[#problems + 1] = { path = "$.design", reason = "must be a JSON object" }
        return nil
    end
    if #problems > 0 then return nil end -- report the request's own problems first
    local text = host.json_field(req.body, "design")
    -- the user's own plugin types (plugins.lua) may be used in their designs
    local user = auth().user(req)
    local plugins = api.module("plugins")
    local ok, message, code, design_problems = host.validate(text, plugins.sources_of(user.sub))
    if not ok then
        if code ~= "invalid" then api.fail(500, message or "validation failed") end
        for _, p in ipairs(design_problems or {}) do
            problems[#problems + 1] = { path = (p.path:gsub("^%$", "$.design")),
                                        reason = p.reason }
        end
        if #problems == 0 then problems[1] = { path = "$.design", reason = message } end
    end
    return text
end

-- 403 when the user's plan (or their own override) allows no more projects.
local function check_limit(user_id)
    local r = host.store.limits_get(user_id)
    if r.status ~= "ok" then auth().store_failed(r) end
    local l = r.limits[1]
    if l.max_projects >= 0 and l.projects_used >= l.max_projects then
        api.fail(403, ("project limit reached: the %s plan allows %d projects; delete one or "
                       .. "upgrade"):format(l.tier or "current", l.max_projects),
                 { limit = l.max_projects, used = l.projects_used })
    end
end

-- Concurrent creations can all pass check_limit (each counts before any inserts): the count
-- is taken again after the insert, and a project beyond the limit is removed and refused.
local function recheck_limit(user_id, project_id)
    local r = host.store.limits_get(user_id)
    if r.status ~= "ok" then return end
    local l = r.limits[1]
    if l.max_projects >= 0 and l.projects_used > l.max_projects then
        host.store.project_delete(project_id, user_id)
        api.fail(403, ("project limit reached: the %s plan allows %d projects; delete one or "
                       .. "upgrade"):format(l.tier or "current", l.max_projects),
                 { limit = l.max_projects, used = l.max_projects })
    end
end

-- POST /api/projects {name, description?, design} -> 201 the project
function M.create(req, res)
    local user = auth().user(req, res)
    local body, problems = req:json(), {}
    local name = opt_string(body, "name", NAME_MAX, problems)
    if not name or name == "" then
        if #problems == 0 then
            problems[#problems + 1] = { path = "$.name", reason = "is required" }
        end
    end
    local description = opt_string(body, "description", DESCRIPTION_MAX, problems)
    local design = checked_design(req, body, problems, true)
    if #problems > 0 then api.invalid(problems, "the project is not valid") end
    check_limit(user.sub)
    local r = host.store.project_create(user.sub, name, description, design, nil)
    if r.status ~= "ok" then fail_store(r) end
    recheck_limit(user.sub, r.projects[1].id)
    send_project(res, r.projects[1], 201)
end

-- GET /api/projects?limit=20&offset=0 -> {projects (without designs), total, limit, offset}
function M.list(req, res)
    local user = auth().user(req, res)
    local limit = api.int_query(req, "limit", 20, 1, 100)
    local offset = api.int_query(req, "offset", 0, 0, 1e9)
    local r = host.store.project_list(user.sub, limit, offset)
    if r.status ~= "ok" then fail_store(r) end
    local parts = {}
    for i, p in ipairs(r.projects or {}) do parts[i] = project_json(p) end
    res:raw_json(('{"projects":[%s],"total":%d,"limit":%d,"offset":%d}\n'):format(
        table.concat(parts, ","), r.total, limit, offset))
end

-- GET /api/projects/:id -> the project with its design (the owner's, or a public one)
function M.get(req, res)
    local user = auth().user(req, res)
    local r = host.store.project_get(req.params.id, user.sub)
    if r.status ~= "ok" then fail_store(r, "id") end
    send_project(res, r.projects[1])
end

-- PUT /api/projects/:id {design, version, name?, description?} -> the saved project
-- (version + 1); 409 {currentVersion} when version is not the stored one.
function M.update(req, res)
    local user = auth().user(req, res)
    local body, problems = req:json(), {}
    local version = body.version
    if type(version) ~= "number" or version ~= math.floor(version) or version < 1 then
        problems[#problems + 1] = { path = "$.version",
                                    reason = "is required: the version this save is based on" }
    end
    local name = opt_string(body, "name", NAME_MAX, problems)
    if name == "" then problems[#problems + 1] = { path = "$.name", reason = "is empty" } end
    local description = opt_string(body, "description", DESCRIPTION_MAX, problems)
    local design = checked_design(req, body, problems, false)
    if #problems > 0 then api.invalid(problems, "the project is not valid") end
    local r = host.store.project_update(req.params.id, user.sub, version, name, description,
                                        design)
    if r.status == "conflict" then
        api.fail(409, ("the project was saved meanwhile (version %d, this save is based on %d): "
                       .. "reload it"):format(r.value, version), { currentVersion = r.value })
    end
    if r.status ~= "ok" then fail_store(r, "id") end
    send_project(res, r.projects[1])
end

-- DELETE /api/projects/:id -> 204
function M.delete(req, res)
    local user = auth().user(req, res)
    local r = host.store.project_delete(req.params.id, user.sub)
    if r.status ~= "ok" then fail_store(r, "id") end
    if r.value ~= 1 then api.fail(404, "no such project") end
    res:status(204):send("")
end

-- POST /api/projects/:id/fork {name?} -> 201 the copy (the user's, private)
function M.fork(req, res)
    local user = auth().user(req, res)
    local body, problems = {}, {}
    if req.body:find("%S") then body = req:json() end
    local name = opt_string(body, "name", NAME_MAX, problems)
    if #problems > 0 then api.invalid(problems, "the fork is not valid") end
    check_limit(user.sub)
    local r = host.store.project_fork(req.params.id, user.sub, name)
    if r.status ~= "ok" then fail_store(r, "id") end
    recheck_limit(user.sub, r.projects[1].id)
    send_project(res, r.projects[1], 201)
end

return M
