/* The store, accounts' cryptography and the bus for the API's Lua handlers (host.store.*,
 * host.auth.*, host.rate_hit). Every operation that waits (a query, a password hash or verify,
 * a rate-limit count) yields the handler's coroutine and resumes it from the operation's
 * callback on the loop thread, as host.sleep does: the loop never blocks.
 *
 * The store, the signing key and the bus are the server's, one of each per process: they are
 * kept here (the server state in server_defs.h is shared by several files and is not widened
 * for them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <libwebsockets.h>
#include <lua.h>

#include "api.h"
#include "auth.h"
#include "bus.h"
#include "http.h"
#include "log.h"
#include "store.h"

static struct {
    sdsim_store *store;
    sdsim_bus *bus;
    sdsim_jwt_key key;
    int closing; /* shutdown: callbacks no longer resume handlers */
} g;

/* ------------------------------------------------------------------------------------- */
/* Opening and closing */

static void migrated(void *ud, const sdsim_store_reply *r) {
    int *done = ud;
    *done = r->status == SDSIM_STORE_OK ? 1 : -1;
    if (*done < 0)
        sdsim_log(SDSIM_LOG_ERROR, "store migration failed: %s",
                  r->error ? r->error : sdsim_store_status_name(r->status));
    else
        sdsim_log(SDSIM_LOG_INFO, "store (%s) at schema version %lld, %d migration(s) applied",
                  sdsim_store_backend(g.store), (long long)r->value, r->n);
}

int sdsim_api_store_open(sdsim_server *s, const char *database_url, char *err, size_t errlen) {
    size_t len = 0;
    unsigned char secret[SDSIM_JWT_SECRET_MAX];
    int rc = sdsim_jwt_secret_load(s->opts.data_dir, secret, &len, err, errlen);
    if (rc < 0) return -1;
    if (rc == 1) sdsim_log(SDSIM_LOG_WARN, "fixed the permissions of the JWT secret file to 0600");
    if (sdsim_jwt_key_init(&g.key, secret, len, NULL, 0) != 0) {
        snprintf(err, errlen, "bad JWT secret");
        return -1;
    }
    memset(secret, 0, sizeof secret);
    sdsim_store_config cfg = {.data_dir = s->opts.data_dir, .database_url = database_url};
    if (!(g.store = sdsim_store_open(&s->loop, &cfg, err, errlen))) return -1;
    /* The migrations run before the server listens: the loop turns only for them. */
    int done = 0;
    sdsim_store_migrate(g.store, migrated, &done);
    while (!done)
        uv_run(&s->loop, UV_RUN_ONCE);
    if (done < 0) {
        snprintf(err, errlen, "the store's migrations failed (see the log)");
        return -1;
    }
    if (!(g.bus = sdsim_bus_open(&s->loop, s->opts.redis_url, err, errlen))) return -1;
    g.closing = 0;
    return 0;
}

static void closed_nothing(void *ud) {
    (void)ud;
}

void sdsim_api_store_close(void) {
    g.closing = 1;
    if (g.store) sdsim_store_close(g.store, closed_nothing, NULL);
    if (g.bus) sdsim_bus_close(g.bus, closed_nothing, NULL);
    g.store = NULL;
    g.bus = NULL;
}

/* ------------------------------------------------------------------------------------- */
/* Replies as Lua tables */

static void set_str(lua_State *L, const char *k, const char *v) {
    if (!v) return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, int64_t v) {
    lua_pushnumber(L, (double)v);
    lua_setfield(L, -2, k);
}

static void push_user(lua_State *L, const sdsim_user *u) {
    lua_createtable(L, 0, 12);
    set_str(L, "id", u->id);
    set_str(L, "email", u->email);
    set_str(L, "password_hash", u->password_hash);
    set_str(L, "first_name", u->first_name);
    set_str(L, "last_name", u->last_name);
    set_str(L, "role", u->role);
    set_str(L, "subscription_tier", u->subscription_tier);
    set_int(L, "created_at", u->created_at);
    set_int(L, "updated_at", u->updated_at);
    set_int(L, "last_login", u->last_login);
    lua_pushboolean(L, u->is_active);
    lua_setfield(L, -2, "is_active");
}

static void push_refresh(lua_State *L, const sdsim_refresh *r) {
    lua_createtable(L, 0, 8);
    set_str(L, "token_hash", r->token_hash);
    set_str(L, "user_id", r->user_id);
    set_str(L, "family_id", r->family_id);
    set_int(L, "expires_at", r->expires_at);
    set_int(L, "used_at", r->used_at);
    set_int(L, "revoked_at", r->revoked_at);
}

static void push_project(lua_State *L, const sdsim_project *p) {
    lua_createtable(L, 0, 12);
    set_str(L, "id", p->id);
    set_str(L, "user_id", p->user_id);
    set_str(L, "name", p->name);
    set_str(L, "description", p->description);
    set_str(L, "design_data", p->design_data);
    set_str(L, "template_id", p->template_id);
    set_str(L, "forked_from", p->forked_from);
    lua_pushboolean(L, p->is_public);
    lua_setfield(L, -2, "is_public");
    set_int(L, "version", p->version);
    set_int(L, "created_at", p->created_at);
    set_int(L, "updated_at", p->updated_at);
}

static void push_limits(lua_State *L, const sdsim_limits *l) {
    lua_createtable(L, 0, 8);
    set_str(L, "tier", l->tier);
    set_int(L, "max_projects", l->max_projects);
    set_int(L, "max_concurrent_simulations", l->max_concurrent_simulations);
    set_int(L, "max_simulation_duration_s", l->max_simulation_duration_s);
    set_int(L, "max_components_per_project", l->max_components_per_project);
    set_int(L, "projects_used", l->projects_used);
    set_int(L, "simulations_active", l->simulations_active);
}

static void push_audit(lua_State *L, const sdsim_audit *a) {
    lua_createtable(L, 0, 7);
    set_int(L, "id", a->id);
    set_str(L, "user_id", a->user_id);
    set_str(L, "action", a->action);
    set_str(L, "target", a->target);
    set_str(L, "detail", a->detail);
    set_str(L, "ip", a->ip);
    set_int(L, "created_at", a->created_at);
}

/* One array of rows at field k, if the reply has it. */
#define PUSH_ROWS(L, r, field, pushfn)                                                             \
    do {                                                                                           \
        if ((r)->field) {                                                                          \
            lua_createtable(L, (r)->n, 0);                                                         \
            for (int i_ = 0; i_ < (r)->n; i_++) {                                                  \
                pushfn(L, &(r)->field[i_]);                                                        \
                lua_rawseti(L, -2, i_ + 1);                                                        \
            }                                                                                      \
            lua_setfield(L, -2, #field);                                                           \
        }                                                                                          \
    } while (0)

/* {status = "ok" | "not_found" | ... (sdsim_store_status_name), error, n, total, value,
 * users, refresh, projects, limits, audit} */
static void push_reply(lua_State *L, const sdsim_store_reply *r) {
    lua_createtable(L, 0, 8);
    set_str(L, "status", sdsim_store_status_name(r->status));
    set_str(L, "error", r->error);
    set_int(L, "n", r->n);
    set_int(L, "total", r->total);
    set_int(L, "value", r->value);
    PUSH_ROWS(L, r, users, push_user);
    PUSH_ROWS(L, r, refresh, push_refresh);
    PUSH_ROWS(L, r, projects, push_project);
    PUSH_ROWS(L, r, limits, push_limits);
    PUSH_ROWS(L, r, audit, push_audit);
}

/* ------------------------------------------------------------------------------------- */
/* Waiting */

static void store_done(void *ud, const sdsim_store_reply *r) {
    sdsim_api_call *c = ud;
    if (g.closing) return; /* the server is stopping: the handler is dropped with its call */
    push_reply(sdsim_api_call_thread(c), r);
    sdsim_api_call_resume(c, 1);
}

static sdsim_api_call *begin(lua_State *L, const char *fname) {
    sdsim_api_call *c = sdsim_api_call_check(L, fname);
    if (!g.store || g.closing) luaL_error(L, "%s: the store is not open", fname);
    return c;
}

static int wait_for(lua_State *L, sdsim_api_call *c) {
    sdsim_api_call_wait(c);
    return lua_yield(L, 0);
}

static const char *opt_str(lua_State *L, int i) {
    return lua_isnoneornil(L, i) ? NULL : luaL_checkstring(L, i);
}

/* host.store.NAME(args...) -> the reply table (see push_reply). */
#define STORE_FN(name) static int st_##name(lua_State *L)

STORE_FN(user_create) {
    const char *email = luaL_checkstring(L, 1), *hash = luaL_checkstring(L, 2);
    const char *first = opt_str(L, 3), *last = opt_str(L, 4);
    sdsim_api_call *c = begin(L, "host.store.user_create");
    sdsim_store_user_create(g.store, email, hash, first, last, NULL, NULL, store_done, c);
    return wait_for(L, c);
}

STORE_FN(user_by_email) {
    const char *email = luaL_checkstring(L, 1);
    sdsim_api_call *c = begin(L, "host.store.user_by_email");
    sdsim_store_user_by_email(g.store, email, store_done, c);
    return wait_for(L, c);
}

STORE_FN(user_by_id) {
    const char *id = luaL_checkstring(L, 1);
    sdsim_api_call *c = begin(L, "host.store.user_by_id");
    sdsim_store_user_by_id(g.store, id, store_done, c);
    return wait_for(L, c);
}

STORE_FN(user_update_profile) {
    const char *id = luaL_checkstring(L, 1), *first = opt_str(L, 2), *last = opt_str(L, 3);
    const char *email = opt_str(L, 4);
    sdsim_api_call *c = begin(L, "host.store.user_update_profile");
    sdsim_store_user_update_profile(g.store, id, first, last, email, store_done, c);
    return wait_for(L, c);
}

STORE_FN(user_touch_login) {
    const char *id = luaL_checkstring(L, 1);
    sdsim_api_call *c = begin(L, "host.store.user_touch_login");
    sdsim_store_user_touch_login(g.store, id, store_done, c);
    return wait_for(L, c);
}

STORE_FN(refresh_insert) {
    const char *hash = luaL_checkstring(L, 1), *user = luaL_checkstring(L, 2);
    const char *family = opt_str(L, 3);
    int64_t expires = (int64_t)luaL_checknumber(L, 4);
    sdsim_api_call *c = begin(L, "host.store.refresh_insert");
    sdsim_store_refresh_insert(g.store, hash, user, family, expires, store_done, c);
    return wait_for(L, c);
}

STORE_FN(refresh_find) {
    const char *hash = luaL_checkstring(L, 1);
    sdsim_api_call *c = begin(L, "host.store.refresh_find");
    sdsim_store_refresh_find(g.store, hash, store_done, c);
    return wait_for(L, c);
}

STORE_FN(refresh_rotate) {
    const char *old = luaL_checkstring(L, 1), *new = luaL_checkstring(L, 2);
    int64_t expires = (int64_t)luaL_checknumber(L, 3);
    sdsim_api_call *c = begin(L, "host.store.refresh_rotate");
    sdsim_store_refresh_rotate(g.store, old, new, expires, store_done, c);
    return wait_for(L, c);
}

STORE_FN(refresh_revoke_family) {
    const char *family = luaL_checkstring(L, 1);
    sdsim_api_call *c = begin(L, "host.store.refresh_revoke_family");
    sdsim_store_refresh_revoke_family(g.store, family, store_done, c);
    return wait_for(L, c);
}

STORE_FN(project_create) {
    const char *owner = luaL_checkstring(L, 1), *name = luaL_checkstring(L, 2);
    const char *desc = opt_str(L, 3), *design = luaL_checkstring(L, 4);
    const char *tmpl = opt_str(L, 5);
    sdsim_api_call *c = begin(L, "host.store.project_create");
    sdsim_store_project_create(g.store, owner, name, desc, design, tmpl, store_done, c);
    return wait_for(L, c);
}

STORE_FN(project_list) {
    const char *owner = luaL_checkstring(L, 1);
    int limit = (int)luaL_checkinteger(L, 2), offset = (int)luaL_checkinteger(L, 3);
    sdsim_api_call *c = begin(L, "host.store.project_list");
    sdsim_store_project_list(g.store, owner, limit, offset, store_done, c);
    return wait_for(L, c);
}

STORE_FN(project_get) {
    const char *id = luaL_checkstring(L, 1), *viewer = opt_str(L, 2);
    sdsim_api_call *c = begin(L, "host.store.project_get");
    sdsim_store_project_get(g.store, id, viewer, store_done, c);
    return wait_for(L, c);
}

STORE_FN(project_update) {
    const char *id = luaL_checkstring(L, 1), *owner = luaL_checkstring(L, 2);
    int64_t version = (int64_t)luaL_checknumber(L, 3);
    const char *name = opt_str(L, 4), *desc = opt_str(L, 5), *design = opt_str(L, 6);
    sdsim_api_call *c = begin(L, "host.store.project_update");
    sdsim_store_project_update(g.store, id, owner, version, name, desc, design, store_done, c);
    return wait_for(L, c);
}

STORE_FN(project_delete) {
    const char *id = luaL_checkstring(L, 1), *owner = luaL_checkstring(L, 2);
    sdsim_api_call *c = begin(L, "host.store.project_delete");
    sdsim_store_project_delete(g.store, id, owner, store_done, c);
    return wait_for(L, c);
}

STORE_FN(project_fork) {
    const char *id = luaL_checkstring(L, 1), *owner = luaL_checkstring(L, 2);
    const char *name = opt_str(L, 3);
    sdsim_api_call *c = begin(L, "host.store.project_fork");
    sdsim_store_project_fork(g.store, id, owner, name, store_done, c);
    return wait_for(L, c);
}

STORE_FN(limits_get) {
    const char *user = luaL_checkstring(L, 1);
    sdsim_api_call *c = begin(L, "host.store.limits_get");
    sdsim_store_limits_get(g.store, user, store_done, c);
    return wait_for(L, c);
}

STORE_FN(audit_append) {
    const char *user = opt_str(L, 1), *action = luaL_checkstring(L, 2);
    const char *target = opt_str(L, 3), *detail = opt_str(L, 4), *ip = opt_str(L, 5);
    sdsim_api_call *c = begin(L, "host.store.audit_append");
    sdsim_store_audit_append(g.store, user, action, target, detail, ip, store_done, c);
    return wait_for(L, c);
}

/* Administration (scripts/api/admin.lua). */
STORE_FN(user_list) {
    int limit = (int)luaL_checkinteger(L, 1), offset = (int)luaL_checkinteger(L, 2);
    sdsim_api_call *c = begin(L, "host.store.user_list");
    sdsim_store_user_list(g.store, limit, offset, store_done, c);
    return wait_for(L, c);
}

STORE_FN(user_set_role) {
    const char *id = luaL_checkstring(L, 1), *role = opt_str(L, 2), *tier = opt_str(L, 3);
    sdsim_api_call *c = begin(L, "host.store.user_set_role");
    sdsim_store_user_set_role(g.store, id, role, tier, store_done, c);
    return wait_for(L, c);
}

STORE_FN(user_set_active) {
    const char *id = luaL_checkstring(L, 1);
    int active = lua_toboolean(L, 2);
    sdsim_api_call *c = begin(L, "host.store.user_set_active");
    sdsim_store_user_set_active(g.store, id, active, store_done, c);
    return wait_for(L, c);
}

STORE_FN(refresh_revoke_user) {
    const char *id = luaL_checkstring(L, 1);
    sdsim_api_call *c = begin(L, "host.store.refresh_revoke_user");
    sdsim_store_refresh_revoke_user(g.store, id, store_done, c);
    return wait_for(L, c);
}

/* host.store.limits_set(user_id, projects, concurrent, duration_s, components): a negative
 * value clears that override (the tier's default applies). */
STORE_FN(limits_set) {
    const char *id = luaL_checkstring(L, 1);
    int64_t v[4];
    for (int i = 0; i < 4; i++)
        v[i] = (int64_t)luaL_checknumber(L, 2 + i);
    sdsim_api_call *c = begin(L, "host.store.limits_set");
    sdsim_store_limits_set(g.store, id, v[0], v[1], v[2], v[3], store_done, c);
    return wait_for(L, c);
}

/* host.store.audit_list(user_id | nil, before_id, limit) */
STORE_FN(audit_list) {
    const char *user = opt_str(L, 1);
    int64_t before = (int64_t)luaL_checknumber(L, 2);
    int limit = (int)luaL_checkinteger(L, 3);
    sdsim_api_call *c = begin(L, "host.store.audit_list");
    sdsim_store_audit_list(g.store, user, before, limit, store_done, c);
    return wait_for(L, c);
}

/* host.store.now() -> the store's clock in milliseconds (for expiries). */
STORE_FN(now) {
    lua_pushnumber(L, g.store ? (double)sdsim_store_now(g.store) : 0);
    return 1;
}

/* ------------------------------------------------------------------------------------- */
/* host.auth.* */

static void hash_done(void *ud, int status, const char *encoded) {
    sdsim_api_call *c = ud;
    if (g.closing) return;
    lua_State *co = sdsim_api_call_thread(c);
    if (status == 0 && encoded)
        lua_pushstring(co, encoded);
    else
        lua_pushnil(co);
    sdsim_api_call_resume(c, 1);
}

/* host.auth.hash(password) -> the encoded argon2id hash | nil (on the thread pool). */
static int au_hash(lua_State *L) {
    const char *pw = luaL_checkstring(L, 1);
    sdsim_api_call *c = sdsim_api_call_check(L, "host.auth.hash");
    sdsim_server *s = sdsim_api_server(sdsim_api_of(L));
    if (sdsim_password_hash_async(&s->loop, pw, hash_done, c) != 0)
        return luaL_error(L, "host.auth.hash: cannot queue the work");
    return wait_for(L, c);
}

static void verify_done(void *ud, int result) {
    sdsim_api_call *c = ud;
    if (g.closing) return;
    lua_pushboolean(sdsim_api_call_thread(c), result == 1);
    sdsim_api_call_resume(c, 1);
}

/* host.auth.verify(encoded | nil, password) -> true | false. nil burns a verify's time (an
 * unknown email costs what a known one does). */
static int au_verify(lua_State *L) {
    const char *enc = opt_str(L, 1), *pw = luaL_checkstring(L, 2);
    sdsim_api_call *c = sdsim_api_call_check(L, "host.auth.verify");
    sdsim_server *s = sdsim_api_server(sdsim_api_of(L));
    if (sdsim_password_verify_async(&s->loop, enc, pw, verify_done, c) != 0)
        return luaL_error(L, "host.auth.verify: cannot queue the work");
    return wait_for(L, c);
}

/* host.auth.issue(user_id, role) -> access token, expires_in seconds */
static int au_issue(lua_State *L) {
    const char *sub = luaL_checkstring(L, 1), *role = luaL_checkstring(L, 2);
    char *tok = sdsim_jwt_issue(&g.key, sub, role, (int64_t)time(NULL));
    if (!tok) return luaL_error(L, "host.auth.issue: cannot sign the token");
    lua_pushstring(L, tok);
    free(tok);
    lua_pushinteger(L, g.key.ttl_s);
    return 2;
}

/* host.auth.check(token) -> {sub, role, iat, exp} | nil, reason */
static int au_check(lua_State *L) {
    const char *tok = luaL_checkstring(L, 1), *why = "invalid token";
    sdsim_access_claims cl;
    if (sdsim_jwt_verify(&g.key, tok, (int64_t)time(NULL), &cl, &why) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, why);
        return 2;
    }
    lua_createtable(L, 0, 4);
    set_str(L, "sub", cl.sub);
    set_str(L, "role", cl.role);
    set_int(L, "iat", cl.iat);
    set_int(L, "exp", cl.exp);
    return 1;
}

/* host.auth.refresh_new() -> token, hash */
static int au_refresh_new(lua_State *L) {
    char tok[SDSIM_REFRESH_TOKEN_LEN + 1], hash[65];
    if (sdsim_refresh_token_new(tok, hash) != 0) return luaL_error(L, "no random bytes");
    lua_pushstring(L, tok);
    lua_pushstring(L, hash);
    return 2;
}

/* host.auth.refresh_hash(token) -> hash | nil (not shaped like one of ours) */
static int au_refresh_hash(lua_State *L) {
    char hash[65];
    if (sdsim_refresh_token_hash(luaL_checkstring(L, 1), hash) != 0)
        lua_pushnil(L);
    else
        lua_pushstring(L, hash);
    return 1;
}

/* ------------------------------------------------------------------------------------- */
/* host.rate_hit, host.peer_ip */

static void rate_done(void *ud, int status, int64_t value) {
    sdsim_api_call *c = ud;
    if (g.closing) return;
    lua_State *co = sdsim_api_call_thread(c);
    if (status == 0)
        lua_pushnumber(co, (double)value);
    else
        lua_pushnil(co);
    sdsim_api_call_resume(c, 1);
}

/* host.rate_hit(key, window_s) -> hits in the current window (this one included) | nil */
static int host_rate_hit(lua_State *L) {
    const char *key = luaL_checkstring(L, 1);
    int window = (int)luaL_checkinteger(L, 2);
    sdsim_api_call *c = sdsim_api_call_check(L, "host.rate_hit");
    if (!g.bus) return luaL_error(L, "host.rate_hit: no bus");
    sdsim_bus_rate_hit(g.bus, key, window, rate_done, c);
    return wait_for(L, c);
}

/* host.peer_ip() -> the client's address as text ("" when unknown) */
static int host_peer_ip(lua_State *L) {
    sdsim_api_call *c = sdsim_api_call_check(L, "host.peer_ip");
    sdsim_http_req *r = sdsim_api_call_req(c);
    char buf[128] = "";
    if (r && r->wsi) lws_get_peer_simple(r->wsi, buf, sizeof buf);
    lua_pushstring(L, buf);
    return 1;
}

/* ------------------------------------------------------------------------------------- */
/* host.json_field: a top-level member's text, as the client sent it */

static size_t skip_ws(const char *s, size_t i, size_t n) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* The end (one past) of the string starting at s[i] == '"'. */
static size_t skip_string(const char *s, size_t i, size_t n) {
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

/* The end of the value starting at s[i] (the text is known to be valid JSON). */
static size_t skip_value(const char *s, size_t i, size_t n) {
    if (i >= n) return n;
    if (s[i] == '"') return skip_string(s, i, n);
    if (s[i] != '{' && s[i] != '[') {
        while (i < n && !strchr(",}] \t\r\n", s[i]))
            i++;
        return i;
    }
    int depth = 0;
    while (i < n) {
        char ch = s[i];
        if (ch == '"') {
            i = skip_string(s, i, n);
            continue;
        }
        if (ch == '{' || ch == '[') depth++;
        if (ch == '}' || ch == ']') {
            if (--depth == 0) return i + 1;
        }
        i++;
    }
    return n;
}

/* host.json_field(text, key) -> the raw JSON text of member key of the top-level object
 * (byte for byte: re-encoding would turn [] into {} and reorder keys) | nil. text must be
 * valid JSON already (the handler decoded it); key is compared without unescaping. */
static int host_json_field(lua_State *L) {
    size_t n, klen;
    const char *s = luaL_checklstring(L, 1, &n), *key = luaL_checklstring(L, 2, &klen);
    size_t i = skip_ws(s, 0, n);
    if (i >= n || s[i] != '{') return lua_pushnil(L), 1;
    i++;
    while (1) {
        i = skip_ws(s, i, n);
        if (i >= n || s[i] != '"') break;
        size_t kstart = i + 1, kend = skip_string(s, i, n);
        i = skip_ws(s, kend, n);
        if (i >= n || s[i] != ':') break;
        i = skip_ws(s, i + 1, n);
        size_t vend = skip_value(s, i, n);
        if (kend - 1 - kstart == klen && !memcmp(s + kstart, key, klen)) {
            lua_pushlstring(L, s + i, vend - i);
            return 1;
        }
        i = skip_ws(s, vend, n);
        if (i >= n || s[i] != ',') break;
        i++;
    }
    lua_pushnil(L);
    return 1;
}

/* ------------------------------------------------------------------------------------- */

static void set_fns(lua_State *L, const luaL_Reg *fns) {
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
}

void sdsim_api_store_register(lua_State *L) {
    static const luaL_Reg store_fns[] = {
        {"user_create", st_user_create},
        {"user_by_email", st_user_by_email},
        {"user_by_id", st_user_by_id},
        {"user_update_profile", st_user_update_profile},
        {"user_touch_login", st_user_touch_login},
        {"refresh_insert", st_refresh_insert},
        {"refresh_find", st_refresh_find},
        {"refresh_rotate", st_refresh_rotate},
        {"refresh_revoke_family", st_refresh_revoke_family},
        {"project_create", st_project_create},
        {"project_list", st_project_list},
        {"project_get", st_project_get},
        {"project_update", st_project_update},
        {"project_delete", st_project_delete},
        {"project_fork", st_project_fork},
        {"limits_get", st_limits_get},
        {"audit_append", st_audit_append},
        {"now", st_now},
        {"user_list", st_user_list},
        {"user_set_role", st_user_set_role},
        {"user_set_active", st_user_set_active},
        {"refresh_revoke_user", st_refresh_revoke_user},
        {"limits_set", st_limits_set},
        {"audit_list", st_audit_list},
        {NULL, NULL},
    };
    static const luaL_Reg auth_fns[] = {
        {"hash", au_hash},   {"verify", au_verify},           {"issue", au_issue},
        {"check", au_check}, {"refresh_new", au_refresh_new}, {"refresh_hash", au_refresh_hash},
        {NULL, NULL},
    };
    static const luaL_Reg host_fns[] = {
        {"rate_hit", host_rate_hit},
        {"peer_ip", host_peer_ip},
        {"json_field", host_json_field},
        {NULL, NULL},
    };
    lua_newtable(L);
    set_fns(L, store_fns);
    lua_setfield(L, -2, "store");
    lua_newtable(L);
    set_fns(L, auth_fns);
    lua_setfield(L, -2, "auth");
    set_fns(L, host_fns);
}

/* For other files' host.* bindings (api_library.c: templates and plugins): the open store,
 * NULL before it is open and once shutdown has begun (callbacks must not resume then). */
sdsim_store *sdsim_api_store_handle(void) {
    return g.closing ? NULL : g.store;
}
int sdsim_api_store_closing(void) {
    return g.closing;
}
