/* Lua API handlers as coroutines (see api.h). The state is trusted (the project's own code):
 * the JIT stays on and no instruction budget applies; a memory cap still turns a runaway
 * handler into an error instead of taking the machine's memory. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "design_load.h"
#include "http.h"
#include "log.h"
#include "lua_state.h"
#include "reload.h"

#define API_MEM_LIMIT ((size_t)1 << 30)
#define MAX_SOURCE_BYTES ((size_t)1 << 20)
#define MAX_SLEEP_MS 60000.0

struct sdsim_api {
    sdsim_server *srv;
    lua_State *L;
    int dispatcher_ref;      /* the table init.lua returned: handle, ws_message */
    sdsim_api_call *current; /* the call whose coroutine runs now */
    sdsim_api_call *calls;   /* every call not finished yet */
};

struct sdsim_api_call {
    sdsim_api *api;
    sdsim_http_req *req;
    lua_State *co;
    int co_ref;  /* keeps the coroutine from the collector */
    int waiting; /* a host operation will resume it */
    uv_timer_t *timer;
    uint64_t ws_conn; /* a WebSocket message's call (req NULL): the connection to answer */
    sdsim_api_call *next, *prev;
};

static const char API_KEY = 'a'; /* registry key (its address) of the sdsim_api pointer */

sdsim_api *sdsim_api_of(lua_State *L) {
    lua_pushlightuserdata(L, (void *)&API_KEY);
    lua_rawget(L, LUA_REGISTRYINDEX);
    sdsim_api *api = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return api;
}

sdsim_server *sdsim_api_server(sdsim_api *api) {
    return api->srv;
}
lua_State *sdsim_api_call_thread(sdsim_api_call *c) {
    return c->co;
}
sdsim_http_req *sdsim_api_call_req(sdsim_api_call *c) {
    return c->req;
}
void sdsim_api_call_wait(sdsim_api_call *c) {
    c->waiting = 1;
}

sdsim_api_call *sdsim_api_call_check(lua_State *L, const char *fname) {
    sdsim_api *api = sdsim_api_of(L);
    if (!api || !api->current || api->current->co != L)
        luaL_error(L, "%s can only be called from a request handler's own coroutine", fname);
    return api->current;
}

/* ------------------------------------------------------------------------------------- */
/* Calls: start, resume, finish */

static void call_unlink(sdsim_api_call *c) {
    if (c->prev)
        c->prev->next = c->next;
    else
        c->api->calls = c->next;
    if (c->next) c->next->prev = c->prev;
}

static void call_free(sdsim_api_call *c) {
    call_unlink(c);
    luaL_unref(c->api->L, LUA_REGISTRYINDEX, c->co_ref);
    free(c);
}

/* "name: value\n" lines from the headers table at index idx (content-type apart). Header
 * injection is refused: a name or value with a line break (or a name with a colon) is
 * dropped. */
static char *header_lines(lua_State *L, int idx) {
    size_t len = 0, cap = 256;
    char *out = malloc(cap);
    if (!out) return NULL;
    out[0] = '\0';
    if (!lua_istable(L, idx)) return out;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_isstring(L, -1)) {
            const char *k = lua_tostring(L, -2), *v = lua_tostring(L, -1);
            size_t need = strlen(k) + strlen(v) + 4;
            if (!strpbrk(k, "\r\n:") && !strpbrk(v, "\r\n") && strcmp(k, "content-type")) {
                while (len + need >= cap) {
                    char *n = realloc(out, cap * 2);
                    if (!n) break;
                    out = n;
                    cap *= 2;
                }
                if (len + need < cap)
                    len += (size_t)snprintf(out + len, cap - len, "%s: %s\n", k, v);
            }
        }
        lua_pop(L, 1);
    }
    return out;
}

/* The handler returned status, headers, body, route: answer with them. */
static void call_answer(sdsim_api_call *c) {
    lua_State *co = c->co;
    int base = lua_gettop(co) - 3;
    sdsim_http_req *r = c->req;
    int status = (int)lua_tointeger(co, base);
    size_t len = 0;
    const char *body = lua_tolstring(co, base + 2, &len);
    const char *route = lua_tostring(co, base + 3);
    const char *ctype = NULL;
    if (lua_istable(co, base + 1)) {
        lua_getfield(co, base + 1, "content-type");
        ctype = lua_tostring(co, -1);
        lua_pop(co, 1);
    }
    if (route) snprintf(r->route, sizeof r->route, "%s", route);
    if (status < 100 || status > 599) status = 500;
    char *extra = header_lines(co, base + 1);
    char *ct = strdup(ctype ? ctype : "application/json");
    r->api_pending = 0;
    sdsim_http_respond(r, status, ct, body ? body : "", body ? len : 0, extra);
    free(ct);
    free(extra);
}

static void ws_answer(sdsim_api_call *c, int rc);

static void resume(sdsim_api_call *c, int nargs) {
    sdsim_api *api = c->api;
    c->waiting = 0;
    api->current = c;
    int rc = lua_resume(c->co, nargs);
    api->current = NULL;
    if (rc == LUA_YIELD && c->waiting) return; /* a host operation resumes it */
    if (!c->req) {
        ws_answer(c, rc);
    } else if (rc == 0 && lua_gettop(c->co) >= 4) {
        call_answer(c);
    } else {
        const char *msg = rc == LUA_YIELD ? "the handler yielded outside a host operation"
                          : rc == 0       ? "the dispatcher returned no answer"
                                          : lua_tostring(c->co, -1);
        sdsim_log(SDSIM_LOG_ERROR, "API handler for %s %s failed: %s", c->req->method, c->req->path,
                  msg ? msg : "?");
        c->req->api_pending = 0;
        sdsim_http_respond_error(c->req, 500, "internal error", NULL);
    }
    call_free(c);
}

void sdsim_api_call_resume(sdsim_api_call *c, int nargs) {
    resume(c, nargs);
}

/* {method, path, query = {name = value}, headers = {name = value}, body} */
static void push_request(lua_State *L, const sdsim_http_req *r) {
    lua_createtable(L, 0, 8);
    lua_pushstring(L, r->method);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, r->path);
    lua_setfield(L, -2, "path");
    lua_createtable(L, 0, r->nquery);
    for (int i = 0; i < r->nquery; i++) {
        const char *eq = strchr(r->query[i], '=');
        if (eq) {
            lua_pushlstring(L, r->query[i], (size_t)(eq - r->query[i]));
            lua_pushstring(L, eq + 1);
        } else {
            lua_pushstring(L, r->query[i]);
            lua_pushliteral(L, "");
        }
        lua_rawset(L, -3);
    }
    lua_setfield(L, -2, "query");
    lua_createtable(L, 0, r->nheaders / 2);
    for (int i = 0; i + 1 < r->nheaders; i += 2) {
        lua_pushstring(L, r->headers[i + 1]);
        lua_setfield(L, -2, r->headers[i]);
    }
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, r->body ? r->body : "", r->body_len);
    lua_setfield(L, -2, "body");
}

void sdsim_api_handle(sdsim_api *api, sdsim_http_req *r) {
    sdsim_api_call *c = calloc(1, sizeof *c);
    if (!c) {
        sdsim_http_respond_error(r, 500, "out of memory", NULL);
        return;
    }
    lua_State *L = api->L;
    c->api = api;
    c->req = r;
    c->co = lua_newthread(L);
    c->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    c->next = api->calls;
    if (api->calls) api->calls->prev = c;
    api->calls = c;
    r->api_pending = 1;
    lua_rawgeti(c->co, LUA_REGISTRYINDEX, api->dispatcher_ref);
    lua_getfield(c->co, -1, "handle");
    lua_remove(c->co, -2);
    push_request(c->co, r);
    resume(c, 1);
}

/* ------------------------------------------------------------------------------------- */
/* host.* functions of the state */

static void sleep_done(uv_timer_t *t) {
    sdsim_api_call *c = t->data;
    c->timer = NULL;
    uv_close((uv_handle_t *)t, (uv_close_cb)free);
    resume(c, 0);
}

/* host.sleep(ms): yields the handler for ms milliseconds (at most 60 s). */
static int host_sleep(lua_State *L) {
    double ms = luaL_checknumber(L, 1);
    sdsim_api_call *c = sdsim_api_call_check(L, "host.sleep");
    ms = ms < 0 ? 0 : ms > MAX_SLEEP_MS ? MAX_SLEEP_MS : ms;
    uv_timer_t *t = malloc(sizeof *t);
    if (!t) return luaL_error(L, "out of memory");
    uv_timer_init(&c->api->srv->loop, t);
    t->data = c;
    c->timer = t;
    uv_timer_start(t, sleep_done, (uint64_t)ms, 0);
    sdsim_api_call_wait(c);
    return lua_yield(L, 0);
}

/* host.log(level, message) */
static int host_log(lua_State *L) {
    const char *level = luaL_checkstring(L, 1), *msg = luaL_checkstring(L, 2);
    sdsim_log_level lv = !strcmp(level, "error")   ? SDSIM_LOG_ERROR
                         : !strcmp(level, "warn")  ? SDSIM_LOG_WARN
                         : !strcmp(level, "debug") ? SDSIM_LOG_DEBUG
                                                   : SDSIM_LOG_INFO;
    sdsim_log(lv, "%s", msg);
    return 0;
}

/* host.now() -> monotonic milliseconds */
static int host_now(lua_State *L) {
    lua_pushnumber(L, sdsim_server_now() * 1e3);
    return 1;
}

/* host.stats() -> {simulations_running, jobs_running, in_flight, draining} */
static int host_stats(lua_State *L) {
    sdsim_server *s = sdsim_api_of(L)->srv;
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, s->sims_running);
    lua_setfield(L, -2, "simulations_running");
    lua_pushinteger(L, s->jobs_running);
    lua_setfield(L, -2, "jobs_running");
    lua_pushinteger(L, s->in_flight);
    lua_setfield(L, -2, "in_flight");
    lua_pushboolean(L, s->draining);
    lua_setfield(L, -2, "draining");
    return 1;
}

/* host.load_module(name) -> the function of scripts/api/NAME.lua (to call), or nil, message.
 * Names are [a-z0-9_]+ so that nothing outside the directory can be named. */
static int host_load_module(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name)) {
        lua_pushnil(L);
        lua_pushfstring(L, "bad module name '%s'", name);
        return 2;
    }
    char path[4096], err[1024];
    snprintf(path, sizeof path, "%s/scripts/api/%s.lua", sdsim_root(), name);
    /* With hot reload, the registry's last version that compiled (never a broken file). */
    sdsim_reload *r = sdsim_api_reload();
    const sdsim_reload_version *v = r ? sdsim_reload_get(r, SDSIM_RELOAD_HANDLER, name) : NULL;
    if (v) {
        snprintf(path, sizeof path, "@%s", v->path);
        int rc = v->source[0] == LUA_SIGNATURE[0]
                     ? -1
                     : luaL_loadbuffer(L, v->source, v->source_len, path);
        sdsim_reload_release(v);
        if (rc == 0) return 1;
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (r && sdsim_reload_last_error(r, SDSIM_RELOAD_HANDLER, name, err, sizeof err) == 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    if (sdsim_lua_load_file(L, path, 0, MAX_SOURCE_BYTES, err, sizeof err) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    return 1;
}

static void set_number(lua_State *L, const char *k, double v) {
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static void push_config(lua_State *L, const sdsim_server_opts *o) {
    lua_createtable(L, 0, 8);
    lua_pushboolean(L, o->test_routes);
    lua_setfield(L, -2, "test_routes");
    set_number(L, "max_body", (double)o->max_body);
    set_number(L, "run_max_duration", o->run_max_duration);
    set_number(L, "run_max_components", o->run_max_components);
    set_number(L, "run_max_concurrent", o->run_max_concurrent);
    set_number(L, "run_wall_limit", o->run_wall_limit);
}

static void push_host(lua_State *L, sdsim_api *api) {
    static const luaL_Reg fns[] = {
        {"sleep", host_sleep},
        {"log", host_log},
        {"now", host_now},
        {"stats", host_stats},
        {"load_module", host_load_module},
        {NULL, NULL},
    };
    lua_newtable(L);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    sdsim_api_jobs_register(L);
    sdsim_api_store_register(L);
    sdsim_api_library_register(L);
    sdsim_api_console_register(L);
    sdsim_api_live_register(L);
    push_config(L, &api->srv->opts);
    lua_setfield(L, -2, "config");
    lua_pushstring(L, sdsim_root());
    lua_setfield(L, -2, "root");
}

/* ------------------------------------------------------------------------------------- */
/* The state */

static int load_dispatcher(sdsim_api *api, char *err, size_t errlen) {
    lua_State *L = api->L;
    char path[4096];
    snprintf(path, sizeof path, "%s/scripts/api/init.lua", sdsim_root());
    if (sdsim_lua_load_file(L, path, 0, MAX_SOURCE_BYTES, err, errlen) != 0) return -1;
    push_host(L, api);
    lua_pushvalue(L, -1);
    lua_setglobal(L, "host"); /* handler modules use it as a global */
    if (sdsim_lua_pcall(L, 1, 1, 0, err, errlen) != 0) return -1;
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "%s must return the dispatcher table", path);
        return -1;
    }
    api->dispatcher_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

sdsim_api *sdsim_api_new(sdsim_server *srv, char *err, size_t errlen) {
    sdsim_api *api = calloc(1, sizeof *api);
    sdsim_lua_opts opts = {.mem_limit = API_MEM_LIMIT, .jit = 1};
    if (!api || !(api->L = sdsim_lua_new(&opts))) {
        snprintf(err, errlen, "out of memory creating the API's Lua state");
        free(api);
        return NULL;
    }
    api->srv = srv;
    lua_pushlightuserdata(api->L, (void *)&API_KEY);
    lua_pushlightuserdata(api->L, api);
    lua_rawset(api->L, LUA_REGISTRYINDEX);
    /* Before the dispatcher: handler modules are then read from the registry. */
    if (sdsim_api_reload_start(api, &srv->loop, err, errlen) != 0) {
        sdsim_lua_close(api->L);
        free(api);
        return NULL;
    }
    if (load_dispatcher(api, err, errlen) != 0) {
        sdsim_api_reload_stop();
        sdsim_lua_close(api->L);
        free(api);
        return NULL;
    }
    return api;
}

lua_State *sdsim_api_push_dispatcher(sdsim_api *api) {
    lua_rawgeti(api->L, LUA_REGISTRYINDEX, api->dispatcher_ref);
    return api->L;
}

void sdsim_api_cancel_all(sdsim_api *api) {
    sdsim_api_reload_stop(); /* its watchers would keep the loop alive */
    sdsim_api_console_stop_all();
    sdsim_api_jobs_cancel_all();
    for (sdsim_api_call *c = api->calls; c; c = c->next)
        if (c->timer) { /* a sleeping handler: it will not be resumed */
            uv_close((uv_handle_t *)c->timer, (uv_close_cb)free);
            c->timer = NULL;
        }
}

void sdsim_api_free(sdsim_api *api) {
    if (!api) return;
    while (api->calls) {
        sdsim_api_call *c = api->calls;
        if (c->req) sdsim_http_release(c->req);
        call_free(c);
    }
    sdsim_lua_close(api->L);
    free(api);
}

/* ------------------------------------------------------------------------------------- */
/* WebSocket messages: dispatcher.ws_message(conn_id, text) in a coroutine of its own, like an
 * HTTP handler; it returns reply | nil, close code, reason. */

/* The coroutine ended: send its reply, close the connection, or report its error. */
static void ws_answer(sdsim_api_call *c, int rc) {
    lua_State *co = c->co;
    sdsim_server *srv = c->api->srv;
    int top = lua_gettop(co);
    if (rc != 0 || top < 3) {
        const char *msg = rc == LUA_YIELD ? "the handler yielded outside a host operation"
                          : rc == 0       ? "the dispatcher returned no answer"
                                          : lua_tostring(co, -1);
        sdsim_log(SDSIM_LOG_ERROR, "WebSocket handler failed: %s", msg ? msg : "?");
        static const char internal[] = "{\"type\":\"error\",\"error\":\"internal error\"}";
        sdsim_ws_send_text(srv, c->ws_conn, internal, sizeof internal - 1);
        return;
    }
    if (lua_isstring(co, top - 2)) {
        size_t n;
        const char *s = lua_tolstring(co, top - 2, &n);
        sdsim_ws_send_text(srv, c->ws_conn, s, n);
    } else if (lua_isnumber(co, top - 1)) {
        const char *reason = lua_isstring(co, top) ? lua_tostring(co, top) : "";
        sdsim_ws_close_conn(srv, c->ws_conn, (int)lua_tointeger(co, top - 1), reason);
    }
}

void sdsim_api_ws_handle(sdsim_api *api, uint64_t conn_id, const char *text, size_t len) {
    sdsim_api_call *c = calloc(1, sizeof *c);
    if (!c) return;
    lua_State *L = api->L;
    c->api = api;
    c->ws_conn = conn_id;
    c->co = lua_newthread(L);
    c->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    c->next = api->calls;
    if (api->calls) api->calls->prev = c;
    api->calls = c;
    lua_rawgeti(c->co, LUA_REGISTRYINDEX, api->dispatcher_ref);
    lua_getfield(c->co, -1, "ws_message");
    lua_remove(c->co, -2);
    lua_pushnumber(c->co, (double)conn_id);
    lua_pushlstring(c->co, text, len);
    resume(c, 2);
}

void sdsim_api_ws_closed(sdsim_api *api, uint64_t conn_id) {
    lua_State *L = api->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, api->dispatcher_ref);
    lua_getfield(L, -1, "ws_closed");
    lua_remove(L, -2);
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    lua_pushnumber(L, (double)conn_id);
    char err[512];
    if (sdsim_lua_pcall(L, 1, 0, 0, err, sizeof err) != 0)
        sdsim_log(SDSIM_LOG_ERROR, "WebSocket close handler failed: %s", err);
}
