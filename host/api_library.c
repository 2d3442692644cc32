/* host.library.*: what the template gallery, user plugins and the console need from the host
 * (docs/http-api.md, "Templates" and "Plugins").
 * - templates() / template(id): the hot-reload registry's good templates, with the document
 *   each returned (evaluated when the registry validated it: on the thread pool, in a forked
 *   sandboxed child; never on the loop).
 * - type_names(): the built-in component types the registry holds (a plugin may not reuse one).
 * - check_plugin(name, source): a user's type checked in a forked child on the thread pool.
 * - store_*: the templates and plugins tables (host/store.h), each yielding the handler. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "api.h"
#include "design_load.h"
#include "reload.h"
#include "store.h"

/* ------------------------------------------------------------------------------------- */
/* The registry */

typedef struct each_ctx {
    lua_State *L;
    int n;
    int with_doc;
} each_ctx;

static void push_template(const sdsim_reload_version *v, const char *error, const char *name,
                          void *ud) {
    each_ctx *c = ud;
    lua_State *L = c->L;
    lua_createtable(L, 0, 6);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "id");
    if (v) {
        lua_pushinteger(L, v->version);
        lua_setfield(L, -2, "version");
        lua_pushstring(L, v->hash);
        lua_setfield(L, -2, "hash");
        lua_pushlstring(L, v->source, v->source_len < 4096 ? v->source_len : 4096);
        lua_setfield(L, -2, "head"); /* the header comments carry the category */
        if (v->decl_json) {
            lua_pushstring(L, v->decl_json);
            lua_setfield(L, -2, "doc_json");
        }
    }
    if (error) {
        lua_pushstring(L, error);
        lua_setfield(L, -2, "error");
    }
    lua_rawseti(L, -2, ++c->n);
}

/* host.library.busy() -> validations queued or running (the start's templates included) */
static int lib_busy(lua_State *L) {
    sdsim_reload *r = sdsim_api_reload();
    lua_pushinteger(L, r ? sdsim_reload_busy(r) : 0);
    return 1;
}

/* host.library.templates() -> {{id, version, hash, head, doc_json, error}...} */
static int lib_templates(lua_State *L) {
    lua_newtable(L);
    sdsim_reload *r = sdsim_api_reload();
    each_ctx c = {L, 0, 1};
    if (r) sdsim_reload_each(r, SDSIM_RELOAD_TEMPLATE, push_template, &c);
    return 1;
}

static void push_type_name(const sdsim_reload_version *v, const char *error, const char *name,
                           void *ud) {
    (void)error;
    each_ctx *c = ud;
    if (!v || v->plugin) return;
    lua_pushboolean(c->L, 1);
    lua_setfield(c->L, -2, name);
}

/* host.library.type_names() -> {name = true} of the good built-in types */
static int lib_type_names(lua_State *L) {
    lua_newtable(L);
    sdsim_reload *r = sdsim_api_reload();
    each_ctx c = {L, 0, 0};
    if (r) sdsim_reload_each(r, SDSIM_RELOAD_TYPE, push_type_name, &c);
    return 1;
}

static void push_type_error(const sdsim_reload_version *v, const char *error, const char *name,
                            void *ud) {
    each_ctx *c = ud;
    if (!error) return;
    (void)v;
    lua_pushstring(c->L, error);
    lua_setfield(c->L, -2, name);
}

/* host.library.type_errors() -> {name = "file:line: reason"} of the type files whose last
 * change was rejected (the type keeps its last good version, if it had one) */
static int lib_type_errors(lua_State *L) {
    lua_newtable(L);
    sdsim_reload *r = sdsim_api_reload();
    each_ctx c = {L, 0, 0};
    if (r) sdsim_reload_each(r, SDSIM_RELOAD_TYPE, push_type_error, &c);
    return 1;
}

/* ------------------------------------------------------------------------------------- */
/* Checking a plugin on the thread pool */

typedef struct check_job {
    uv_work_t work;
    sdsim_api_call *call;
    sdsim_server *srv;
    char *path, *source;
    size_t len;
    char *out;
    char err[1024];
} check_job;

static void check_work(uv_work_t *w) {
    check_job *j = w->data;
    sdsim_check_type_source(j->path, j->source, j->len, &j->out, j->err, sizeof j->err);
}

static void check_done(uv_work_t *w, int status) {
    check_job *j = w->data;
    j->srv->jobs_running--;
    lua_State *co = sdsim_api_call_thread(j->call);
    int n = 1;
    if (status == 0 && j->out) {
        lua_pushstring(co, j->out);
    } else {
        lua_pushnil(co);
        lua_pushstring(co, status ? "cancelled" : j->err);
        n = 2;
    }
    sdsim_api_call *call = j->call;
    free(j->path);
    free(j->source);
    free(j->out);
    free(j);
    if (!sdsim_api_store_closing()) sdsim_api_call_resume(call, n);
}

/* host.library.check_plugin(name, source) -> JSON text {"ok":true,"decl":...} or
 * {"error":"NAME.lua:LINE: reason","line":N} | nil, message */
static int lib_check_plugin(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    size_t len = 0;
    const char *src = luaL_checklstring(L, 2, &len);
    sdsim_api_call *call = sdsim_api_call_check(L, "host.library.check_plugin");
    check_job *j = calloc(1, sizeof *j);
    char path[256];
    snprintf(path, sizeof path, "%s.lua", name);
    if (!j || !(j->path = strdup(path)) || !(j->source = malloc(len + 1))) {
        if (j) free(j->path);
        free(j);
        return luaL_error(L, "out of memory");
    }
    memcpy(j->source, src, len + 1);
    j->len = len;
    j->call = call;
    j->srv = sdsim_api_server(sdsim_api_of(L));
    j->work.data = j;
    if (uv_queue_work(&j->srv->loop, &j->work, check_work, check_done) != 0) {
        free(j->path);
        free(j->source);
        free(j);
        return luaL_error(L, "host.library.check_plugin: cannot queue the work");
    }
    j->srv->jobs_running++;
    sdsim_api_call_wait(call);
    return lua_yield(L, 0);
}

/* ------------------------------------------------------------------------------------- */
/* The store: templates and plugins */

static void set_str(lua_State *L, const char *k, const char *v) {
    if (!v) return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static void set_num(lua_State *L, const char *k, double v) {
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static void push_tpl(lua_State *L, const sdsim_template *t) {
    lua_createtable(L, 0, 8);
    set_str(L, "id", t->id);
    set_str(L, "slug", t->slug);
    set_str(L, "name", t->name);
    set_str(L, "category", t->category);
    set_num(L, "usage_count", (double)t->usage_count);
}

static void push_plugin(lua_State *L, const sdsim_plugin *p) {
    lua_createtable(L, 0, 8);
    set_str(L, "id", p->id);
    set_str(L, "owner_id", p->owner_id);
    set_str(L, "name", p->name);
    set_str(L, "source", p->source);
    set_num(L, "version", (double)p->version);
    set_num(L, "created_at", (double)p->created_at);
    set_num(L, "updated_at", (double)p->updated_at);
}

static void store_done(void *ud, const sdsim_store_reply *r) {
    sdsim_api_call *c = ud;
    if (sdsim_api_store_closing()) return;
    lua_State *L = sdsim_api_call_thread(c);
    lua_createtable(L, 0, 6);
    set_str(L, "status", sdsim_store_status_name(r->status));
    set_str(L, "error", r->error);
    set_num(L, "n", r->n);
    set_num(L, "total", (double)r->total);
    set_num(L, "value", (double)r->value);
    if (r->templates || r->plugins) {
        lua_createtable(L, r->n, 0);
        for (int i = 0; i < r->n; i++) {
            if (r->templates)
                push_tpl(L, &r->templates[i]);
            else
                push_plugin(L, &r->plugins[i]);
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, r->templates ? "templates" : "plugins");
    }
    sdsim_api_call_resume(c, 1);
}

static sdsim_store *store_for(lua_State *L, const char *fname, sdsim_api_call **c) {
    *c = sdsim_api_call_check(L, fname);
    sdsim_store *s = sdsim_api_store_handle();
    if (!s) luaL_error(L, "%s: the store is not open", fname);
    return s;
}

static const char *opt_str(lua_State *L, int i) {
    return lua_isnoneornil(L, i) ? NULL : luaL_checkstring(L, i);
}

static int yield_call(lua_State *L, sdsim_api_call *c) {
    sdsim_api_call_wait(c);
    return lua_yield(L, 0);
}

/* store_template_list() -> reply with templates (slug, id, usage_count) */
static int lib_template_list(lua_State *L) {
    sdsim_api_call *c;
    sdsim_store *s = store_for(L, "host.library.store_template_list", &c);
    sdsim_store_template_list(s, NULL, NULL, 1000, 0, store_done, c);
    return yield_call(L, c);
}

/* store_template_put(slug, name, description, category, design_json) -> reply (templates[1]) */
static int lib_template_put(lua_State *L) {
    const char *slug = luaL_checkstring(L, 1), *name = luaL_checkstring(L, 2);
    const char *desc = opt_str(L, 3), *cat = opt_str(L, 4), *design = luaL_checkstring(L, 5);
    sdsim_api_call *c;
    sdsim_store *s = store_for(L, "host.library.store_template_put", &c);
    sdsim_store_template_put(s, slug, name, desc, cat, design, NULL, 1, store_done, c);
    return yield_call(L, c);
}

/* store_template_use(id) -> reply (value = the new usage count) */
static int lib_template_use(lua_State *L) {
    const char *id = luaL_checkstring(L, 1);
    sdsim_api_call *c;
    sdsim_store *s = store_for(L, "host.library.store_template_use", &c);
    sdsim_store_template_use(s, id, store_done, c);
    return yield_call(L, c);
}

static int lib_plugin_put(lua_State *L) {
    const char *owner = luaL_checkstring(L, 1), *name = luaL_checkstring(L, 2);
    const char *src = luaL_checkstring(L, 3);
    sdsim_api_call *c;
    sdsim_store *s = store_for(L, "host.library.store_plugin_put", &c);
    sdsim_store_plugin_put(s, owner, name, src, store_done, c);
    return yield_call(L, c);
}

static int lib_plugin_list(lua_State *L) {
    const char *owner = luaL_checkstring(L, 1);
    sdsim_api_call *c;
    sdsim_store *s = store_for(L, "host.library.store_plugin_list", &c);
    sdsim_store_plugin_list(s, owner, 1000, 0, store_done, c);
    return yield_call(L, c);
}

static int lib_plugin_get(lua_State *L) {
    const char *id = luaL_checkstring(L, 1), *viewer = luaL_checkstring(L, 2);
    sdsim_api_call *c;
    sdsim_store *s = store_for(L, "host.library.store_plugin_get", &c);
    sdsim_store_plugin_get(s, id, viewer, store_done, c);
    return yield_call(L, c);
}

static int lib_plugin_delete(lua_State *L) {
    const char *id = luaL_checkstring(L, 1), *owner = luaL_checkstring(L, 2);
    sdsim_api_call *c;
    sdsim_store *s = store_for(L, "host.library.store_plugin_delete", &c);
    sdsim_store_plugin_delete(s, id, owner, store_done, c);
    return yield_call(L, c);
}

void sdsim_api_library_register(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"templates", lib_templates},
        {"busy", lib_busy},
        {"type_names", lib_type_names},
        {"type_errors", lib_type_errors},
        {"check_plugin", lib_check_plugin},
        {"store_template_list", lib_template_list},
        {"store_template_put", lib_template_put},
        {"store_template_use", lib_template_use},
        {"store_plugin_put", lib_plugin_put},
        {"store_plugin_list", lib_plugin_list},
        {"store_plugin_get", lib_plugin_get},
        {"store_plugin_delete", lib_plugin_delete},
        {NULL, NULL},
    };
    lua_newtable(L);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    lua_setfield(L, -2, "library");
}
