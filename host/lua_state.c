/* LuaJIT states with a memory cap, an instruction budget and a traceback handler. */
#include "lua_state.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <luajit.h>
#include <lualib.h>

extern int luaopen_cjson(lua_State *L);

/* The allocator's user data doubles as the per-state bookkeeping the hook needs. */
typedef struct lua_info {
    size_t used, limit;
    long budget; /* instructions allowed by the current sdsim_lua_pcall, 0 = unlimited */
    long budget_left;
    int tripped; /* the budget ran out: the hook now fires on every instruction */
} lua_info;

/* The count hook fires every HOOK_STEP instructions until the budget is spent. */
#define HOOK_STEP 1000

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    lua_info *s = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        s->used -= old;
        return NULL;
    }
    if (s->limit && nsize > old && s->used - old + nsize > s->limit)
        return NULL; /* Lua raises "not enough memory"; the state stays usable */
    void *p = realloc(ptr, nsize);
    if (p) s->used = s->used - old + nsize;
    return p;
}

static lua_info *info_of(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

static int open_state(lua_State *L) {
    luaL_openlibs(L);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, luaopen_cjson);
    lua_setfield(L, -2, "cjson");
    lua_pop(L, 2);
    return 0;
}

lua_State *sdsim_lua_new(const sdsim_lua_opts *opts) {
    lua_info *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->limit = opts ? opts->mem_limit : 0;
    lua_State *L = lua_newstate(capped_alloc, s);
    if (!L) {
        free(s);
        return NULL;
    }
    if (lua_cpcall(L, open_state, NULL) != 0) {
        sdsim_lua_close(L);
        return NULL;
    }
    /* After luaL_openlibs: opening the jit library switches the JIT back on. */
    if (opts && !opts->jit) luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
    return L;
}

void sdsim_lua_close(lua_State *L) {
    if (!L) return;
    lua_info *s = info_of(L);
    lua_close(L);
    free(s);
}

size_t sdsim_lua_mem_used(lua_State *L) {
    return info_of(L)->used;
}
size_t sdsim_lua_mem_limit(lua_State *L) {
    return info_of(L)->limit;
}
void sdsim_lua_set_mem_limit(lua_State *L, size_t limit) {
    info_of(L)->limit = limit;
}

/* Once the budget is spent the hook is re-armed to fire on every instruction, so a pcall in
 * the script that catches the error gets no further than its next instruction. */
static void budget_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_info *s = info_of(L);
    if (!s->tripped) {
        s->budget_left -= HOOK_STEP;
        if (s->budget_left > 0) return;
        s->tripped = 1;
        lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    }
    /* Level 0 inside a hook is the hooked function itself: name its line. */
    luaL_where(L, 0);
    lua_pushfstring(L, "%sinstruction budget of %d million exceeded (an endless loop?)",
                    lua_tostring(L, -1), (int)(s->budget / 1000000));
    lua_error(L);
}

static int msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static void copy_message(lua_State *L, int rc, char *err, size_t errlen) {
    const char *msg = lua_tostring(L, -1);
    if (rc == LUA_ERRMEM)
        snprintf(err, errlen, "not enough memory (the cap is %zu MB)", info_of(L)->limit >> 20);
    else
        snprintf(err, errlen, "%s", msg ? msg : "unknown error");
}

int sdsim_lua_pcall(lua_State *L, int nargs, int nresults, long budget, char *err, size_t errlen) {
    lua_info *s = info_of(L);
    lua_info outer = *s; /* a nested call (a template run from design.lua) has its own budget */
    int base = lua_gettop(L) - nargs; /* the function's slot */
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    s->budget = budget;
    s->budget_left = budget;
    s->tripped = 0;
    lua_sethook(L, budget > 0 ? budget_hook : NULL, budget > 0 ? LUA_MASKCOUNT : 0, HOOK_STEP);
    int rc = lua_pcall(L, nargs, nresults, base);
    s->budget = outer.budget;
    s->budget_left = outer.budget_left;
    s->tripped = outer.tripped;
    if (outer.budget > 0)
        lua_sethook(L, budget_hook, LUA_MASKCOUNT, outer.tripped ? 1 : HOOK_STEP);
    else
        lua_sethook(L, NULL, 0, 0);
    if (rc != 0) {
        copy_message(L, rc, err, errlen);
        lua_pop(L, 1);
        lua_remove(L, base);
        return -1;
    }
    lua_remove(L, base);
    return 0;
}

/* Reads at most max_bytes (0 = no limit); NULL with a message on failure. */
static char *read_source(const char *path, size_t max_bytes, size_t *len, char *err,
                         size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (max_bytes && n > max_bytes) {
            snprintf(err, errlen, "%s: larger than the limit of %zu bytes", path, max_bytes);
            free(buf);
            fclose(f);
            return NULL;
        }
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        snprintf(err, errlen, "%s: cannot read%s", path, buf ? "" : " (out of memory)");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* ------------------------------------------------------------------------------------- */
/* In-memory sources */

static _Thread_local sdsim_lua_sources *active_set;

sdsim_lua_sources *sdsim_lua_sources_new(void) {
    sdsim_lua_sources *s = calloc(1, sizeof *s);
    if (s) s->refs = 1;
    return s;
}

const sdsim_lua_source *sdsim_lua_sources_find(const sdsim_lua_sources *s, const char *path) {
    for (int i = 0; s && i < s->n; i++)
        if (!strcmp(s->items[i].path, path)) return &s->items[i];
    return NULL;
}

int sdsim_lua_sources_add(sdsim_lua_sources *s, const char *path, const char *text, size_t len) {
    char *t = malloc(len + 1), *p = strdup(path);
    if (!t || !p) {
        free(t);
        free(p);
        return -1;
    }
    memcpy(t, text, len);
    t[len] = '\0';
    sdsim_lua_source *old = (sdsim_lua_source *)sdsim_lua_sources_find(s, path);
    if (old) {
        free(old->path);
        free(old->text);
        *old = (sdsim_lua_source){p, t, len};
        return 0;
    }
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 32;
        sdsim_lua_source *items = realloc(s->items, (size_t)cap * sizeof *items);
        if (!items) {
            free(t);
            free(p);
            return -1;
        }
        s->items = items;
        s->cap = cap;
    }
    s->items[s->n++] = (sdsim_lua_source){p, t, len};
    return 0;
}

int sdsim_lua_sources_add_file(sdsim_lua_sources *s, const char *path, char *err, size_t errlen) {
    size_t len = 0;
    char *text = read_source(path, 16u << 20, &len, err, errlen);
    if (!text) return -1;
    int rc = sdsim_lua_sources_add(s, path, text, len);
    free(text);
    if (rc) snprintf(err, errlen, "out of memory");
    return rc;
}

int sdsim_lua_sources_add_dir(sdsim_lua_sources *s, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *ent;
    char path[4096], err[256];
    while ((ent = readdir(d))) {
        size_t len = strlen(ent->d_name);
        if (ent->d_name[0] == '.' || len <= 4 || strcmp(ent->d_name + len - 4, ".lua")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        if (sdsim_lua_sources_add_file(s, path, err, sizeof err) == 0) n++;
    }
    closedir(d);
    return n;
}

int sdsim_lua_sources_add_plugin_dir(sdsim_lua_sources *s, const char *dir) {
    size_t old = s->plugin_dirs ? strlen(s->plugin_dirs) : 0;
    char *p = realloc(s->plugin_dirs, old + strlen(dir) + 2);
    if (!p) return -1;
    if (old)
        snprintf(p + old, strlen(dir) + 2, ":%s", dir);
    else
        strcpy(p, dir);
    s->plugin_dirs = p;
    return 0;
}

sdsim_lua_sources *sdsim_lua_sources_ref(sdsim_lua_sources *s) {
    if (s) __atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
    return s;
}

void sdsim_lua_sources_unref(sdsim_lua_sources *s) {
    if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    for (int i = 0; i < s->n; i++) {
        free(s->items[i].path);
        free(s->items[i].text);
    }
    free(s->items);
    free(s->plugin_dirs);
    free(s);
}

int sdsim_lua_sources_covers(const sdsim_lua_sources *s, const char *dir) {
    size_t n = strlen(dir);
    for (int i = 0; s && i < s->n; i++) {
        const char *p = s->items[i].path;
        if (!strncmp(p, dir, n) && p[n] == '/' && !strchr(p + n + 1, '/')) return 1;
    }
    return 0;
}

sdsim_lua_sources *sdsim_lua_sources_use(sdsim_lua_sources *s) {
    sdsim_lua_sources *old = active_set;
    active_set = s;
    return old;
}

sdsim_lua_sources *sdsim_lua_sources_current(void) {
    return active_set;
}

/* The text of path from the thread's active set (a copy), or NULL: with err set when the
 * set covers the path's directory but lacks the file (the disk must not be read then). */
static char *active_source(const char *path, size_t max_bytes, size_t *len, char *err,
                           size_t errlen) {
    err[0] = '\0';
    if (!active_set) return NULL;
    const sdsim_lua_source *src = sdsim_lua_sources_find(active_set, path);
    if (!src) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        if (slash && sdsim_lua_sources_covers(active_set, dir))
            snprintf(err, errlen, "%s: cannot open: not in this run's snapshot of the files", path);
        return NULL;
    }
    if (max_bytes && src->len > max_bytes) {
        snprintf(err, errlen, "%s: larger than the limit of %zu bytes", path, max_bytes);
        return NULL;
    }
    char *copy = malloc(src->len + 1);
    if (!copy) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    memcpy(copy, src->text, src->len + 1);
    *len = src->len;
    return copy;
}

int sdsim_lua_load_file(lua_State *L, const char *path, int env_index, size_t max_bytes, char *err,
                        size_t errlen) {
    if (env_index < 0 && env_index > LUA_REGISTRYINDEX) env_index = lua_gettop(L) + env_index + 1;
    size_t len = 0;
    char *src = active_source(path, max_bytes, &len, err, errlen);
    if (!src && !err[0]) src = read_source(path, max_bytes, &len, err, errlen);
    if (!src) return -1;
    if (len > 0 && src[0] == LUA_SIGNATURE[0]) {
        snprintf(err, errlen, "%s: precompiled bytecode is refused, give the source", path);
        free(src);
        return -1;
    }
    char chunk[1024];
    snprintf(chunk, sizeof chunk, "@%s", path);
    int rc = luaL_loadbuffer(L, src, len, chunk);
    free(src);
    if (rc != 0) {
        copy_message(L, rc, err, errlen);
        lua_pop(L, 1);
        return -1;
    }
    if (env_index) {
        lua_pushvalue(L, env_index);
        lua_setfenv(L, -2);
    }
    return 0;
}

/* Undeclared globals are mistakes in a design script: say so instead of yielding nil. */
static int strict_index(lua_State *L) {
    return luaL_error(L, "undeclared global '%s'", luaL_optstring(L, 2, "?"));
}

static int strict_newindex(lua_State *L) {
    return luaL_error(L, "assignment to undeclared global '%s' (use local)",
                      luaL_optstring(L, 2, "?"));
}

/* Copies the global library `name` into a fresh table (without `skip`) at env[name]. */
static void copy_lib(lua_State *L, int env, const char *name, const char *skip) {
    lua_newtable(L);
    lua_getglobal(L, name);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (k && (!skip || strcmp(k, skip) != 0)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, -5);
        } else {
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    lua_setfield(L, env, name);
}

void sdsim_lua_push_sandbox_env(lua_State *L) {
    static const char *const safe[] = {
        "assert", "error",  "ipairs",   "next",         "pairs", "pcall",
        "xpcall", "select", "tonumber", "tostring",     "type",  "unpack",
        "rawget", "rawset", "rawequal", "setmetatable", NULL,
    };
    lua_newtable(L);
    int env = lua_gettop(L);
    for (int i = 0; safe[i]; i++) {
        lua_getglobal(L, safe[i]);
        lua_setfield(L, env, safe[i]);
    }
    copy_lib(L, env, "math", NULL);
    copy_lib(L, env, "string", "dump");
    /* Strings share one metatable whose __index is the real string table: ("").dump would
     * reach string.dump through it. A state that hosts sandboxed code loses dump for good. */
    lua_getglobal(L, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    copy_lib(L, env, "table", NULL);
    copy_lib(L, env, "coroutine", NULL);
    lua_pushvalue(L, env);
    lua_setfield(L, env, "_G");
    lua_newtable(L);
    lua_pushcfunction(L, strict_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, strict_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable"); /* a template cannot lift the strictness */
    lua_setmetatable(L, env);
}
