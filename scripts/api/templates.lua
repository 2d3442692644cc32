-- The template gallery (docs/http-api.md, "Templates"): the templates/*.lua files as the
-- hot-reload registry holds them. Each template was evaluated when the registry validated it
-- (on the thread pool, in a forked sandboxed child, never on the loop); its document comes
-- with it. The description is the document's; the category and the name are the file's
-- header lines "-- category: NAME" and "-- title: Text" (the document's name otherwise). Usage counts live in the templates table (slug = the file's stem),
-- where a template is written (upserted) the first time a project is made from it.
local api = api
local json = api.json
local M = { by_id = {} } -- id -> {version, summary, doc_json}

local NAME_MAX = 200

local module = api.module

-- "-- category: NAME" and "-- title: Text" lines of the file's header comments.
local function header(head, key)
    local v = head and head:match("%-%-%s*" .. key .. ":%s*([^\n]-)%s*\n")
    return v ~= "" and v or nil
end

local function category_of(head)
    local c = header(head, "category")
    return c and c:lower() or "other"
end

-- The gallery's entries, newest versions, sorted by name; decoded once per version. Right
-- after the start the templates are still being validated (on the thread pool, one at a
-- time): wait for them (at most 8 s, below the server's request timeouts) so that the first
-- gallery is whole on a machine that is not overloaded.
local function entries()
    for _ = 1, 160 do
        if host.library.busy() == 0 then break end
        host.sleep(50)
    end
    local list = {}
    for _, t in ipairs(host.library.templates()) do
        if t.doc_json then
            local e = M.by_id[t.id]
            if not e or e.version ~= t.version then
                local ok, doc = pcall(json.decode, t.doc_json)
                if ok and type(doc) == "table" then
                    e = { version = t.version, doc_json = t.doc_json, summary = {
                        id = t.id, name = header(t.head, "title")
                            or type(doc.name) == "string" and doc.name or t.id,
                        category = category_of(t.head),
                        description = type(doc.description) == "string" and doc.description
                            or "",
                        components = type(doc.components) == "table" and #doc.components or 0,
                    } }
                    M.by_id[t.id] = e
                end
            end
            if e then list[#list + 1] = e end
        end
    end
    table.sort(list, function(a, b) return a.summary.id < b.summary.id end)
    return list
end

local function find(id)
    for _, e in ipairs(entries()) do
        if e.summary.id == id then return e end
    end
    api.fail(404, "no such template: " .. tostring(id))
end

-- slug -> {id, usage_count} from the templates table (empty when the store cannot answer).
local function usage()
    local r = host.library.store_template_list()
    local by_slug = {}
    if r.status == "ok" then
        for _, t in ipairs(r.templates or {}) do
            if t.slug then by_slug[t.slug] = t end
        end
    else
        host.log("warn", "templates: usage counts unavailable: " .. tostring(r.error))
    end
    return by_slug
end

local function with_usage(summary, used)
    local out = {}
    for k, v in pairs(summary) do out[k] = v end
    out.usageCount = used and used.usage_count or 0
    return out
end

-- GET /api/templates?category=&q= -> {templates: [{id, name, category, description,
-- components, usageCount}]}
function M.list(req, res)
    local category = req.query.category
    local q = req.query.q and req.query.q:lower() or nil
    if category == "" then category = nil end
    if q == "" then q = nil end
    local used, parts = usage(), {}
    for _, e in ipairs(entries()) do
        local s = e.summary
        local hit = (not category or s.category == category:lower())
            and (not q or s.name:lower():find(q, 1, true) or s.id:find(q, 1, true)
                 or s.description:lower():find(q, 1, true))
        if hit then parts[#parts + 1] = json.encode(with_usage(s, used[s.id])) end
    end
    res:raw_json('{"templates":[' .. table.concat(parts, ",") .. ']}\n')
end

-- GET /api/templates/:id -> the summary with "design": the template's document
function M.get(req, res)
    local e = find(req.params.id)
    local meta = json.encode(with_usage(e.summary, usage()[e.summary.id]))
    res:raw_json(meta:sub(1, -2) .. ',"design":' .. e.doc_json .. "}\n")
end

local function project_json(p)
    local meta = json.encode({ id = p.id, name = p.name, description = p.description,
                               version = p.version, isPublic = p.is_public,
                               forkedFrom = p.forked_from, templateId = p.template_id,
                               createdAt = p.created_at, updatedAt = p.updated_at })
    if not p.design_data then return meta end
    return meta:sub(1, -2) .. ',"design":' .. p.design_data .. "}"
end

local function check_limit(user_id)
    local r = host.store.limits_get(user_id)
    if r.status ~= "ok" then module("auth").store_failed(r) end
    local l = r.limits[1]
    if l.max_projects >= 0 and l.projects_used >= l.max_projects then
        api.fail(403, ("project limit reached: the %s plan allows %d projects; delete one or "
                       .. "upgrade"):format(l.tier or "current", l.max_projects),
                 { limit = l.max_projects, used = l.projects_used })
    end
end

-- POST /api/templates/:id/projects {name?} -> 201 the new project (as POST /api/projects
-- answers), made from the template's document; the template's usage count goes up.
function M.create_project(req, res)
    local user = module("auth").user(req, res)
    local e = find(req.params.id)
    local body = {}
    if req.body:find("%S") then body = req:json() end
    local name = body.name
    if name ~= nil and (type(name) ~= "string" or name == "" or #name > NAME_MAX) then
        api.invalid({ { path = "$.name", reason = ("must be a string of 1 to %d bytes")
            :format(NAME_MAX) } }, "the project is not valid")
    end
    name = name or e.summary.name
    check_limit(user.sub)
    local s = e.summary
    local t = host.library.store_template_put(s.id, s.name, s.description, s.category,
                                              e.doc_json)
    local template_id = t.status == "ok" and t.templates and t.templates[1]
        and t.templates[1].id or nil
    if not template_id then host.log("warn", "templates: cannot record " .. s.id .. ": "
                                     .. tostring(t.error)) end
    local r = host.store.project_create(user.sub, name, s.description, e.doc_json, template_id)
    if r.status ~= "ok" then module("auth").store_failed(r) end
    if template_id then host.library.store_template_use(template_id) end
    res:status(201):raw_json(project_json(r.projects[1]) .. "\n")
end

-- A template changed: its entry is decoded again on the next request (versions differ).
function M.on_reload(ev)
    if ev.kind == "template" and ev.status == "removed" then M.by_id[ev.name] = nil end
end

return M
