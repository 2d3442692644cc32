-- Accounts: register, login, refresh, logout, the profile (/api/me), and M.user(req, res),
-- the bearer-token check every protected handler calls. Store and password operations
-- (host.store.*, host.auth.hash/verify, host.rate_hit) yield this coroutine until they answer;
-- docs/auth.md says why tokens and refresh rotation are what they are.
local api = api
local json = api.json
local M = {}

local REFRESH_TTL_MS = 30 * 24 * 3600 * 1000 -- a sign-in lasts 30 days of inactivity at most
local LOGIN_WINDOW_S = 300                   -- login attempts per email and address ...
local LOGIN_MAX = 10                         -- ... at most this many per window
local PASSWORD_MIN, PASSWORD_MAX = 8, 1024
local NAME_MAX = 100

---------------------------------------------------------------------------------------------
-- Helpers

-- A store reply that is not OK and not one of the statuses the caller handles: 503 when the
-- database is away, 500 otherwise.
local function store_failed(r)
    if r.status == "unavailable" then api.fail(503, "the database is unavailable: try again") end
    host.log("error", "store: " .. r.status .. ": " .. tostring(r.error))
    api.fail(500, "internal error")
end
M.store_failed = store_failed

local function public_user(u)
    local name = u.first_name
    if u.last_name and u.last_name ~= "" then
        name = (name and name ~= "" and name .. " " or "") .. u.last_name
    end
    return { id = u.id, email = u.email, role = u.role, subscriptionTier = u.subscription_tier,
             name = name, firstName = u.first_name, lastName = u.last_name,
             createdAt = u.created_at, lastLogin = u.last_login ~= 0 and u.last_login or nil }
end

local function check_string(body, field, min, max, problems, required)
    local v = body[field]
    if v == nil or type(v) == "userdata" then -- absent or null
        if required then
            problems[#problems + 1] = { path = "$." .. field, reason = "is required" }
        end
        return nil
    end
    if type(v) ~= "string" then
        problems[#problems + 1] = { path = "$." .. field, reason = "must be a string" }
        return nil
    end
    if #v < min or #v > max then
        problems[#problems + 1] = { path = "$." .. field,
                                    reason = ("must be %d to %d bytes long"):format(min, max) }
        return nil
    end
    return v
end

local function check_email(body, problems, required)
    local e = check_string(body, "email", 3, 254, problems, required)
    if e and not e:match("^[^%s@]+@[^%s@]+%.[^%s@]+$") then
        problems[#problems + 1] = { path = "$.email", reason = "is not an email address" }
        return nil
    end
    return e and e:lower()
end

-- {name} or {firstName, lastName} -> first, last
local function names(body, problems)
    local first = check_string(body, "firstName", 0, NAME_MAX, problems)
    local last = check_string(body, "lastName", 0, NAME_MAX, problems)
    local name = check_string(body, "name", 0, NAME_MAX, problems)
    if name and not first and not last then
        first, last = name:match("^%s*(%S+)%s*(.-)%s*$")
        if not first then first, last = "", "" end
    end
    return first, last
end

local function refuse(problems)
    if #problems > 0 then api.invalid(problems, "the request is not valid") end
end

-- A new refresh token in family (nil: a new sign-in), then the answer.
local function sign_in(res, user, family, status)
    local token, hash = host.auth.refresh_new()
    local r = host.store.refresh_insert(hash, user.id, family, host.store.now() + REFRESH_TTL_MS)
    if r.status ~= "ok" then store_failed(r) end
    local access, ttl = host.auth.issue(user.id, user.role)
    res:status(status or 200):json({ token = access, refreshToken = token, expiresIn = ttl,
                                     user = public_user(user) })
end

local function audit(user_id, action, detail)
    local r = host.store.audit_append(user_id, action, nil,
                                      detail and json.encode(detail) or nil, host.peer_ip())
    if r.status ~= "ok" then host.log("warn", "audit " .. action .. ": " .. r.status) end
end

---------------------------------------------------------------------------------------------
-- The bearer check

-- The signed-in user's claims {sub, role} from `Authorization: Bearer <token>`; 401 with the
-- reason otherwise (missing, malformed, or what the verification refused).
function M.user(req, res)
    local h = req.headers.authorization
    local function deny(why)
        if res then res:header("www-authenticate", 'Bearer error="invalid_token"') end
        api.fail(401, why)
    end
    if not h or h == "" then deny("missing Authorization: Bearer token") end
    local token = h:match("^[Bb]earer +([%w%-_%.=]+)%s*$")
    if not token then deny("malformed Authorization header: expected 'Bearer <token>'") end
    local claims, why = host.auth.check(token)
    if not claims then deny("invalid token: " .. tostring(why)) end
    return claims
end

---------------------------------------------------------------------------------------------
-- Handlers

-- POST /api/auth/register {email, password, name?} -> 201 {token, refreshToken, user}
function M.register(req, res)
    local body, problems = req:json(), {}
    local email = check_email(body, problems, true)
    local password = check_string(body, "password", PASSWORD_MIN, PASSWORD_MAX, problems, true)
    local first, last = names(body, problems)
    refuse(problems)
    local hash = host.auth.hash(password)
    if not hash then api.fail(500, "cannot hash the password") end
    local r = host.store.user_create(email, hash, first, last)
    if r.status == "exists" then api.fail(409, "an account with this email already exists") end
    if r.status == "invalid" then api.fail(422, r.error or "invalid account data") end
    if r.status ~= "ok" then store_failed(r) end
    local user = r.users[1]
    audit(user.id, "register")
    sign_in(res, user, nil, 201)
end

-- POST /api/auth/login {email, password} -> {token, refreshToken, user}; 401 on a wrong
-- password or unknown email (same answer, same time); 429 past LOGIN_MAX attempts per
-- LOGIN_WINDOW_S for one email from one address.
function M.login(req, res)
    local body, problems = req:json(), {}
    local email = check_email(body, problems, true)
    local password = check_string(body, "password", 1, PASSWORD_MAX, problems, true)
    refuse(problems)
    local ip = host.peer_ip()
    local hits = host.rate_hit("login:" .. email .. "|" .. ip, LOGIN_WINDOW_S)
    if hits and hits > LOGIN_MAX then
        res:header("retry-after", LOGIN_WINDOW_S)
        audit(nil, "login_rate_limited", { email = email })
        api.fail(429, ("too many login attempts for this account: try again in %d minutes")
                      :format(math.floor(LOGIN_WINDOW_S / 60)))
    end
    local r = host.store.user_by_email(email)
    if r.status ~= "ok" and r.status ~= "not_found" then store_failed(r) end
    local user = r.status == "ok" and r.users[1] or nil
    -- An unknown email still costs a verify (nil burns the same time): no timing oracle.
    local good = host.auth.verify(user and user.password_hash or nil, password)
    if not good or not user.is_active then
        audit(user and user.id or nil, "login_failed", { email = email })
        api.fail(401, "wrong email or password")
    end
    host.store.user_touch_login(user.id)
    audit(user.id, "login")
    sign_in(res, user, nil, 200)
end

local function refresh_hash(req)
    local body = req:json()
    local token = body.refreshToken
    if type(token) ~= "string" then
        api.invalid({ { path = "$.refreshToken", reason = "is required (a string)" } })
    end
    local hash = host.auth.refresh_hash(token)
    if not hash then api.fail(401, "invalid refresh token") end
    return hash
end

-- POST /api/auth/refresh {refreshToken} -> a new pair; the old refresh token is spent. A
-- spent token sent again revokes its whole family (someone replayed it): 401.
function M.refresh(req, res)
    local old = refresh_hash(req)
    local token, hash = host.auth.refresh_new()
    local r = host.store.refresh_rotate(old, hash, host.store.now() + REFRESH_TTL_MS)
    if r.status == "reused" then
        audit(nil, "refresh_reuse", nil)
        api.fail(401, "refresh token already used: every session of this sign-in is revoked")
    end
    if r.status == "expired" then api.fail(401, "refresh token expired: sign in again") end
    if r.status == "not_found" then api.fail(401, "invalid refresh token") end
    if r.status ~= "ok" then store_failed(r) end
    local u = host.store.user_by_id(r.refresh[1].user_id)
    if u.status ~= "ok" or not u.users[1].is_active then
        api.fail(401, "the account is not active")
    end
    local access, ttl = host.auth.issue(u.users[1].id, u.users[1].role)
    res:json({ token = access, refreshToken = token, expiresIn = ttl,
               user = public_user(u.users[1]) })
end

-- POST /api/auth/logout {refreshToken} -> 204; the sign-in's refresh tokens are revoked
-- (access tokens already issued live out their lifetime).
function M.logout(req, res)
    local hash = refresh_hash(req)
    local r = host.store.refresh_find(hash)
    if r.status == "ok" then
        local row = r.refresh[1]
        local v = host.store.refresh_revoke_family(row.family_id)
        if v.status ~= "ok" then store_failed(v) end
        audit(row.user_id, "logout")
    elseif r.status ~= "not_found" then
        store_failed(r)
    end
    res:status(204):send("")
end

local function current_user(req, res)
    local claims = M.user(req, res)
    local r = host.store.user_by_id(claims.sub)
    if r.status == "not_found" then api.fail(401, "the account no longer exists") end
    if r.status ~= "ok" then store_failed(r) end
    return r.users[1]
end

-- GET /api/me -> the profile and the plan's limits
function M.me(req, res)
    local user = current_user(req, res)
    local out = public_user(user)
    local l = host.store.limits_get(user.id)
    if l.status == "ok" then
        local lim = l.limits[1]
        out.limits = { maxProjects = lim.max_projects, projectsUsed = lim.projects_used,
                       maxConcurrentSimulations = lim.max_concurrent_simulations,
                       maxSimulationDurationS = lim.max_simulation_duration_s,
                       maxComponentsPerProject = lim.max_components_per_project }
    end
    res:json(out)
end

-- PATCH /api/me {name? | firstName?, lastName?, email?} -> the profile
function M.update_me(req, res)
    local claims = M.user(req, res)
    local body, problems = req:json(), {}
    local email = check_email(body, problems, false)
    local first, last = names(body, problems)
    refuse(problems)
    local r = host.store.user_update_profile(claims.sub, first, last, email)
    if r.status == "exists" then api.fail(409, "an account with this email already exists") end
    if r.status == "not_found" then api.fail(401, "the account no longer exists") end
    if r.status == "invalid" then api.fail(422, r.error or "invalid profile") end
    if r.status ~= "ok" then store_failed(r) end
    local u = r.users and r.users[1] or current_user(req, res)
    res:json(public_user(u))
end

return M
