/* Hot reload in the server (docs/hot-reload.md): the registry of host/reload.h started on the
 * server's loop over components/, templates/, scripts/scenarios/ and scripts/api/.
 * - Design loads anywhere in the server read the component types from the registry's current
 *   snapshot (design_load.h's source provider), so a broken file never replaces a working one.
 * - Every change is logged as one JSON line (file, line, error, ms) and handed to the
 *   dispatcher's on_reload (init.lua), which drops the caches that depend on it.
 * - A changed handler module (scripts/api/NAME.lua) that compiled in a fresh state is run in
 *   the API's state and swapped in only if that works too; otherwise the old one stays. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "api.h"
#include "design_load.h"
#include "log.h"
#include "lua_state.h"
#include "reload.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* guards registry for other threads */
static sdsim_reload *registry;
static sdsim_api *the_api;

/* The snapshot a design load reads (any thread). */
static sdsim_lua_sources *provide(void *ud) {
    (void)ud;
    pthread_mutex_lock(&mu);
    sdsim_lua_sources *set = registry ? sdsim_reload_type_sources(registry) : NULL;
    pthread_mutex_unlock(&mu);
    return set;
}

sdsim_reload *sdsim_api_reload(void) {
    return registry;
}

/* The line number in "path:LINE: message" (0 when none). */
static int line_in(const char *error, const char *path) {
    const char *p = error ? strstr(error, path) : NULL;
    if (!p || p[strlen(path)] != ':') return 0;
    return atoi(p + strlen(path) + 1);
}

static const char *status_name(sdsim_reload_status st) {
    return st == SDSIM_RELOAD_SWAPPED    ? "swapped"
           : st == SDSIM_RELOAD_REJECTED ? "rejected"
           : st == SDSIM_RELOAD_REMOVED  ? "removed"
                                         : "restored";
}

/* One JSON line: {"ts","level","msg","event":"reload","kind","name","file","line","status",
 * "version","ms","error"}. */
static void log_event(const sdsim_reload_event *ev, const char *status, const char *error) {
    char buf[4096];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    size_t n =
        (size_t)snprintf(buf, sizeof buf, "{\"ts\":\"%s.%03dZ\",\"level\":\"%s\",\"msg\":", ts,
                         (int)(tv.tv_usec / 1000), error ? "error" : "info");
    char msg[2600];
    snprintf(msg, sizeof msg, "%s %s %s%s%s", sdsim_reload_kind_name(ev->kind), ev->name, status,
             error ? ": " : "", error ? error : "");
    n = sdsim_log_escape(buf, n, sizeof buf - 200, msg);
    n += (size_t)snprintf(buf + n, sizeof buf - n, ",\"event\":\"reload\",\"kind\":");
    n = sdsim_log_escape(buf, n, sizeof buf - 150, sdsim_reload_kind_name(ev->kind));
    n += (size_t)snprintf(buf + n, sizeof buf - n, ",\"name\":");
    n = sdsim_log_escape(buf, n, sizeof buf - 120, ev->name);
    n += (size_t)snprintf(buf + n, sizeof buf - n, ",\"file\":");
    n = sdsim_log_escape(buf, n, sizeof buf - 100, ev->path);
    n += (size_t)snprintf(buf + n, sizeof buf - n,
                          ",\"line\":%d,\"status\":\"%s\",\"version\":%u,\"ms\":%.1f}\n",
                          line_in(error, ev->path), status, ev->version, ev->ms);
    if (n >= sizeof buf) n = sizeof buf - 1;
    ssize_t w = write(2, buf, n);
    (void)w;
}

/* Runs a changed handler module's chunk in the API state and swaps it in through the
 * dispatcher's swap_module (init.lua). NULL, or the reason it was kept out. */
static const char *swap_handler(const sdsim_reload_event *ev, char *why, size_t cap) {
    const sdsim_reload_version *v = sdsim_reload_get(registry, SDSIM_RELOAD_HANDLER, ev->name);
    if (!v) return NULL;
    lua_State *L = sdsim_api_push_dispatcher(the_api);
    int top = lua_gettop(L) - 1;
    char chunk[4200];
    snprintf(chunk, sizeof chunk, "@%s", v->path);
    lua_getfield(L, -1, "swap_module");
    if (!lua_isfunction(L, -1)) {
        snprintf(why, cap, "the dispatcher has no swap_module");
    } else if (luaL_loadbuffer(L, v->source, v->source_len, chunk) != 0) {
        snprintf(why, cap, "%s", lua_tostring(L, -1));
    } else {
        lua_pushstring(L, ev->name);
        lua_insert(L, -2); /* swap_module(name, chunk) */
        if (sdsim_lua_pcall(L, 2, 2, 0, why, cap) == 0) {
            if (lua_toboolean(L, -2))
                why[0] = '\0';
            else
                snprintf(why, cap, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "refused");
        }
    }
    char *nl = strchr(why, '\n');
    if (nl) *nl = '\0';
    lua_settop(L, top);
    sdsim_reload_release(v);
    return why[0] ? why : NULL;
}

/* Tells the dispatcher (init.lua's on_reload) so that it drops what depends on the change. */
static void tell_dispatcher(const sdsim_reload_event *ev, const char *status, const char *error) {
    lua_State *L = sdsim_api_push_dispatcher(the_api);
    int top = lua_gettop(L) - 1;
    lua_getfield(L, -1, "on_reload");
    if (lua_isfunction(L, -1)) {
        lua_createtable(L, 0, 7);
        lua_pushstring(L, sdsim_reload_kind_name(ev->kind));
        lua_setfield(L, -2, "kind");
        lua_pushstring(L, ev->name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, ev->path);
        lua_setfield(L, -2, "file");
        lua_pushstring(L, status);
        lua_setfield(L, -2, "status");
        lua_pushinteger(L, ev->version);
        lua_setfield(L, -2, "version");
        lua_pushnumber(L, ev->ms);
        lua_setfield(L, -2, "ms");
        if (error) {
            lua_pushstring(L, error);
            lua_setfield(L, -2, "error");
        }
        char err[512];
        if (sdsim_lua_pcall(L, 1, 0, 0, err, sizeof err) != 0)
            sdsim_log(SDSIM_LOG_ERROR, "on_reload failed: %s", err);
    }
    lua_settop(L, top);
}

static int starting; /* the first scan: only problems are worth a line */

static void on_change(const sdsim_reload_event *ev, void *ud) {
    (void)ud;
    if (starting) {
        if (ev->status == SDSIM_RELOAD_REJECTED) log_event(ev, "rejected", ev->error);
        return;
    }
    if (!the_api) return;
    const char *status = status_name(ev->status), *error = ev->error;
    char why[1024];
    if (ev->kind == SDSIM_RELOAD_HANDLER && ev->status == SDSIM_RELOAD_SWAPPED) {
        if (!strcmp(ev->name, "init")) {
            error = "init.lua (the dispatcher) is not reloaded: restart the server to apply it";
            status = "kept";
        } else if ((error = swap_handler(ev, why, sizeof why))) {
            status = "rejected";
        }
    }
    /* The first versions of the templates and scenarios the start queued are not news. */
    /* ms 0: no file event, i.e. a template validated again because a type changed. */
    int quiet = ev->status == SDSIM_RELOAD_SWAPPED && !error &&
                (ev->kind == SDSIM_RELOAD_TEMPLATE || ev->kind == SDSIM_RELOAD_SCENARIO) &&
                (ev->version == 1 || ev->ms == 0);
    if (!quiet) log_event(ev, status, error);
    tell_dispatcher(ev, status, error);
}

int sdsim_api_reload_start(sdsim_api *api, uv_loop_t *loop, char *err, size_t errlen) {
    sdsim_reload_opts o = {
        .handlers = 1, .async_start = 1, .revalidate_templates = 1, .cb = on_change, .ud = api};
    const char *debounce = getenv("SDSIM_RELOAD_DEBOUNCE_MS");
    if (debounce) o.debounce_ms = (unsigned)atoi(debounce);
    starting = 1;
    sdsim_reload *r = sdsim_reload_start(loop, &o, err, errlen);
    starting = 0;
    if (!r) return -1;
    pthread_mutex_lock(&mu);
    registry = r;
    the_api = api;
    pthread_mutex_unlock(&mu);
    sdsim_design_set_source_provider(provide, NULL);
    return 0;
}

void sdsim_api_reload_stop(void) {
    pthread_mutex_lock(&mu);
    sdsim_reload *r = registry;
    registry = NULL;
    the_api = NULL;
    pthread_mutex_unlock(&mu);
    if (r) sdsim_reload_stop(r);
    sdsim_design_kill_children(); /* a check still running would hold the shutdown */
}
