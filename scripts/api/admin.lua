-- Administration: accounts (role, tier, active), per-user limits, and the audit log. Only for
-- admins, and the role is read from the users row on every request: a token issued before a
-- demotion (its `role` claim says admin for up to 15 minutes) or held by a deactivated admin
-- gives no admin power. Every change appends an audit row (actor, action, target, detail
-- {from, to}, address). docs/http-api.md "Administration" describes the answers.
local api = api
local json = api.json
local M = {}

local ROLES = { user = true, premium = true, admin = true }
local TIERS = { free = true, pro = true, enterprise = true }
-- Per-user limit overrides: the JSON field, the store's row field, the largest value accepted
-- (generous, but a typo of three extra zeros is refused rather than granted).
local LIMITS = {
    { field = "maxProjects", row = "max_projects", max = 1000000 },
    { field = "maxConcurrentSimulations", row = "max_concurrent_simulations", max = 1000 },
    { field = "maxSimulationDurationS", row = "max_simulation_duration_s", max = 31536000 },
    { field = "maxComponentsPerProject", row = "max_components_per_project", max = 100000 },
}
local USERS_PAGE_MAX = 100 -- the store's page limit
local AUDIT_PAGE_MAX = 500

local function auth() return api.module("auth") end

local function null_if(v, none)
    if v == nil or v == none then return json.null end
    return v
end

-- The account as admins see it (never the password hash).
local function admin_user(u)
    local name = u.first_name or ""
    if u.last_name and u.last_name ~= "" then
        name = (name ~= "" and name .. " " or "") .. u.last_name
    end
    return { id = u.id, email = u.email, name = name, role = u.role,
             subscriptionTier = u.subscription_tier, active = u.is_active,
             createdAt = u.created_at, lastLogin = null_if(u.last_login, 0) }
end

local function limits_view(user_id, l)
    local out = { userId = user_id, tier = l.tier, projectsUsed = l.projects_used,
                  simulationsActive = l.simulations_active }
    for _, spec in ipairs(LIMITS) do out[spec.field] = l[spec.row] end
    return out
end

-- The caller's users row if it is an active admin now; 401 without a valid token, 403 else.
local function require_admin(req, res)
    local claims = auth().user(req, res)
    local r = host.store.user_by_id(claims.sub)
    if r.status == "not_found" then api.fail(403, "admin only") end
    if r.status ~= "ok" then auth().store_failed(r) end
    local me = r.users[1]
    if me.role ~= "admin" or not me.is_active then api.fail(403, "admin only") end
    return me
end

local function audit(actor, action, target, detail)
    local r = host.store.audit_append(actor.id, action, target, json.encode(detail),
                                      host.peer_ip())
    if r.status ~= "ok" then
        -- An admin action that cannot be recorded is still done (the row changed already);
        -- say so loudly so that the gap is noticed.
        host.log("error", "audit " .. action .. " of " .. tostring(target) .. ": " .. r.status
                          .. ": " .. tostring(r.error))
    end
end

-- The target user of /api/admin/users/:id; 404 for an unknown or malformed id.
local function target_user(req)
    local r = host.store.user_by_id(req.params.id)
    if r.status == "not_found" or r.status == "invalid" then api.fail(404, "no such user") end
    if r.status ~= "ok" then auth().store_failed(r) end
    return r.users[1]
end

local function is_null(v)
    return v == nil or v == json.null
end

local function body_object(req)
    local body = req:json()
    if body[1] ~= nil then api.fail(400, "the JSON body must be an object") end
    return body
end

---------------------------------------------------------------------------------------------
-- Accounts

-- GET /api/admin/users?limit=50&offset=0 -> {users, limit, offset, nextOffset}; newest
-- account first. nextOffset is null when this page is the last.
function M.list_users(req, res)
    require_admin(req, res)
    local limit = api.int_query(req, "limit", 50, 1, USERS_PAGE_MAX)
    local offset = api.int_query(req, "offset", 0, 0, 1e9)
    -- one row more than asked tells whether another page follows (the store gives at most
    -- USERS_PAGE_MAX: a full page of that size is assumed to have a next one)
    local r = host.store.user_list(math.min(limit + 1, USERS_PAGE_MAX), offset)
    if r.status ~= "ok" then auth().store_failed(r) end
    local rows, parts = r.users or {}, {}
    for i = 1, math.min(#rows, limit) do parts[i] = json.encode(admin_user(rows[i])) end
    local more = #rows > limit or (#rows == USERS_PAGE_MAX and limit == USERS_PAGE_MAX)
    -- built as text: lua-cjson 2.1.0 would encode an empty list as {}
    res:raw_json(('{"users":[%s],"limit":%d,"offset":%d,"nextOffset":%s}\n'):format(
        table.concat(parts, ","), limit, offset, more and ("%d"):format(offset + limit) or "null"))
end

-- GET /api/admin/users/:id -> the account
function M.get_user(req, res)
    require_admin(req, res)
    res:json(admin_user(target_user(req)))
end

-- The PATCH body checked: {role?, subscriptionTier?, active?}, at least one, nothing else.
local function patch_fields(body)
    local problems, out = {}, {}
    for k in pairs(body) do
        if k ~= "role" and k ~= "subscriptionTier" and k ~= "active" then
            problems[#problems + 1] = { path = "$." .. tostring(k),
                                        reason = "is not a field an admin can change (role, "
                                                 .. "subscriptionTier, active)" }
        end
    end
    if not is_null(body.role) then
        if not ROLES[body.role] then
            problems[#problems + 1] = { path = "$.role",
                                        reason = "must be one of user, premium, admin" }
        else
            out.role = body.role
        end
    end
    if not is_null(body.subscriptionTier) then
        if not TIERS[body.subscriptionTier] then
            problems[#problems + 1] = { path = "$.subscriptionTier",
                                        reason = "must be one of free, pro, enterprise" }
        else
            out.tier = body.subscriptionTier
        end
    end
    if not is_null(body.active) then
        if type(body.active) ~= "boolean" then
            problems[#problems + 1] = { path = "$.active", reason = "must be true or false" }
        else
            out.active = body.active
        end
    end
    if #problems == 0 and out.role == nil and out.tier == nil and out.active == nil then
        problems[1] = { path = "$", reason = "nothing to change: give role, subscriptionTier "
                                             .. "or active" }
    end
    if #problems > 0 then api.invalid(problems, "the change is not valid") end
    return out
end

-- PATCH /api/admin/users/:id {role?, subscriptionTier?, active?} -> the account after.
-- An admin cannot demote or deactivate themself (409): another admin, or `sdsim admin
-- set-role`, must. Deactivating revokes every refresh token of the account.
function M.update_user(req, res)
    local me = require_admin(req, res)
    local change = patch_fields(body_object(req))
    local u = target_user(req)
    if u.id == me.id then
        if change.role and change.role ~= "admin" then
            api.fail(409, "you cannot remove your own admin role: another admin must do it")
        end
        if change.active == false then
            api.fail(409, "you cannot deactivate your own account: another admin must do it")
        end
    end
    local role = change.role ~= u.role and change.role or nil
    local tier = change.tier ~= u.subscription_tier and change.tier or nil
    if role or tier then
        local r = host.store.user_set_role(u.id, role, tier)
        if r.status == "not_found" then api.fail(404, "no such user") end
        if r.status ~= "ok" then auth().store_failed(r) end
        if role then audit(me, "admin.set_role", u.id, { from = u.role, to = role }) end
        if tier then
            audit(me, "admin.set_tier", u.id, { from = u.subscription_tier, to = tier })
        end
        u = r.users[1]
    end
    if change.active ~= nil and change.active ~= u.is_active then
        local r = host.store.user_set_active(u.id, change.active)
        if r.status == "not_found" then api.fail(404, "no such user") end
        if r.status ~= "ok" then auth().store_failed(r) end
        local detail = { from = u.is_active, to = change.active }
        u = r.users[1]
        if not change.active then
            -- signed out at their next refresh; access tokens live out their 15 minutes
            -- except on admin routes, which read the row
            local v = host.store.refresh_revoke_user(u.id)
            if v.status ~= "ok" then auth().store_failed(v) end
            detail.refreshTokensRevoked = v.value
        end
        audit(me, "admin.set_active", u.id, detail)
    end
    res:json(admin_user(u))
end

---------------------------------------------------------------------------------------------
-- Limits

-- GET /api/admin/users/:id/limits -> the effective limits (override, else the tier's) and use
function M.get_limits(req, res)
    require_admin(req, res)
    local u = target_user(req)
    local r = host.store.limits_get(u.id)
    if r.status == "not_found" then api.fail(404, "no such user") end
    if r.status ~= "ok" then auth().store_failed(r) end
    res:json(limits_view(u.id, r.limits[1]))
end

-- PUT /api/admin/users/:id/limits {maxProjects, maxConcurrentSimulations,
-- maxSimulationDurationS, maxComponentsPerProject} -> the effective limits after. The body
-- replaces the user's override: a field that is null or absent follows the tier's default.
function M.set_limits(req, res)
    local me = require_admin(req, res)
    local body, problems, values = body_object(req), {}, {}
    local known = {}
    for _, spec in ipairs(LIMITS) do
        known[spec.field] = true
        local v = body[spec.field]
        if is_null(v) then
            values[#values + 1] = -1 -- cleared: the tier's default
        elseif type(v) ~= "number" or v ~= math.floor(v) or v < 0 or v > spec.max then
            problems[#problems + 1] = { path = "$." .. spec.field,
                                        reason = ("must be an integer from 0 to %d, or null "
                                                  .. "for the plan's default"):format(spec.max) }
        else
            values[#values + 1] = v
        end
    end
    for k in pairs(body) do
        if not known[k] then
            problems[#problems + 1] = { path = "$." .. tostring(k),
                                        reason = "is not a limit (maxProjects, "
                                                 .. "maxConcurrentSimulations, "
                                                 .. "maxSimulationDurationS, "
                                                 .. "maxComponentsPerProject)" }
        end
    end
    if #problems > 0 then api.invalid(problems, "the limits are not valid") end
    local u = target_user(req)
    local before = host.store.limits_get(u.id)
    if before.status ~= "ok" then auth().store_failed(before) end
    local r = host.store.limits_set(u.id, values[1], values[2], values[3], values[4])
    if r.status == "not_found" then api.fail(404, "no such user") end
    if r.status ~= "ok" then auth().store_failed(r) end
    local from, to = limits_view(u.id, before.limits[1]), limits_view(u.id, r.limits[1])
    local detail = { from = {}, to = {}, override = {} }
    for i, spec in ipairs(LIMITS) do
        detail.from[spec.field] = from[spec.field]
        detail.to[spec.field] = to[spec.field]
        detail.override[spec.field] = values[i] >= 0 and values[i] or json.null
    end
    audit(me, "admin.set_limits", u.id, detail)
    res:json(to)
end

---------------------------------------------------------------------------------------------
-- The audit log

-- GET /api/admin/audit?userId=&before=&limit=50 -> {entries, nextBefore}: newest first;
-- userId filters by actor; before (an entry id) pages to older entries.
function M.audit(req, res)
    require_admin(req, res)
    local user = req.query.userId
    if user == "" then user = nil end
    local limit = api.int_query(req, "limit", 50, 1, AUDIT_PAGE_MAX)
    local before = api.int_query(req, "before", 0, 0, 2 ^ 53)
    local r = host.store.audit_list(user, before, limit)
    if r.status == "invalid" then
        api.invalid({ { path = "query.userId", reason = "is not a user id" } },
                    "bad query parameter userId")
    end
    if r.status ~= "ok" then auth().store_failed(r) end
    local parts, rows = {}, r.audit or {}
    for i, a in ipairs(rows) do
        -- detail is spliced in as stored (JSON text), not decoded and encoded again
        local meta = json.encode({ id = a.id, userId = null_if(a.user_id), action = a.action,
                                   target = null_if(a.target), ip = null_if(a.ip),
                                   createdAt = a.created_at })
        parts[i] = meta:sub(1, -2) .. ',"detail":' .. (a.detail or "null") .. "}"
    end
    local next_before = #rows == limit and ("%d"):format(rows[#rows].id) or "null"
    res:raw_json(('{"entries":[%s],"limit":%d,"nextBefore":%s}\n'):format(
        table.concat(parts, ","), limit, next_before))
end

return M
