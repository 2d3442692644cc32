/* LuaJIT states for the host: a memory cap through a wrapping allocator, an instruction budget
 * that a pcall inside the script cannot swallow, lua-cjson in package.preload, and one door
 * into Lua (sdsim_lua_pcall) whose errors carry file:line and a traceback.
 *
 * The instruction budget is a count hook: hooks do not run inside JIT-compiled traces, so a
 * state that runs untrusted code is created with the JIT off (opts.jit = 0). */
#pragma once
#include <stddef.h>
#include <lua.h>

typedef struct sdsim_lua_opts {
    size_t mem_limit; /* bytes the state may hold at once; 0 = no cap */
    int jit;          /* 0: interpreter only, so that the instruction budget always fires */
} sdsim_lua_opts;

/* A new state with the standard libraries and cjson (require "cjson"); NULL when out of
 * memory. Close it with sdsim_lua_close. */
lua_State *sdsim_lua_new(const sdsim_lua_opts *opts);
void sdsim_lua_close(lua_State *L);

/* Memory in use and the cap; the cap may be changed at any time (e.g. lowered for a
 * template: sdsim_lua_set_mem_limit(L, sdsim_lua_mem_used(L) + 256 MB)). */
size_t sdsim_lua_mem_used(lua_State *L);
size_t sdsim_lua_mem_limit(lua_State *L);
void sdsim_lua_set_mem_limit(lua_State *L, size_t limit);

/* Calls the function below nargs arguments on the stack, like lua_pcall, with at most
 * `budget` VM instructions (0 = unlimited) and a message handler that adds a traceback.
 * Returns 0 with nresults values pushed, or -1 with the message (first line "file:line:
 * message") copied into err and nothing pushed. A budget overrun gives a message that
 * contains "instruction budget", an allocation over the cap one with "not enough memory". */
int sdsim_lua_pcall(lua_State *L, int nargs, int nresults, long budget, char *err, size_t errlen);

/* Loads a Lua source file (never bytecode) as a function, with chunk name "@path" so errors
 * name the file. When env_index != 0 the function's environment becomes the table at that
 * stack index. Returns 0 with the function pushed, or -1 with a message in err. */
int sdsim_lua_load_file(lua_State *L, const char *path, int env_index, size_t max_bytes, char *err,
                        size_t errlen);

/* Pushes a fresh sandbox environment: a table holding only safe globals (assert, error,
 * ipairs, next, pairs, pcall, xpcall, select, tonumber, tostring, type, unpack, rawget,
 * rawset, rawequal, setmetatable, and copies of math, string without dump, table, and
 * coroutine). Reading or writing an undeclared global raises. No io, os, require, load*,
 * debug, ffi, getmetatable, getfenv/setfenv, string.dump, collectgarbage. */
void sdsim_lua_push_sandbox_env(lua_State *L);

/* ------------------------------------------------------------------------------------- */
/* In-memory sources: files the loaders read from memory instead of the disk. The hot-reload
 * registry's snapshot of the component types (a run keeps the versions it started with), a
 * user's plugins (a virtual directory), or what a sandbox read before its lock-down.
 *
 * A set is made active for the calling thread (a forked child inherits it); then
 * sdsim_lua_load_file reads a path the set holds from the set, and a path in a directory the
 * set covers (one of its files' directories) only from the set, never from the disk. */
typedef struct sdsim_lua_source {
    char *path;
    char *text;
    size_t len;
} sdsim_lua_source;

typedef struct sdsim_lua_sources {
    sdsim_lua_source *items;
    int n, cap;
    char *plugin_dirs; /* ':'-separated plugin type directories (NULL: SDSIM_PLUGINS) */
    int refs;          /* atomic */
} sdsim_lua_sources;

sdsim_lua_sources *sdsim_lua_sources_new(void); /* one reference */
/* Copies text (replacing an earlier entry of the same path). 0, or -1 when out of memory. */
int sdsim_lua_sources_add(sdsim_lua_sources *s, const char *path, const char *text, size_t len);
/* Reads the file into the set; -1 with a message in err. */
int sdsim_lua_sources_add_file(sdsim_lua_sources *s, const char *path, char *err, size_t errlen);
/* Adds every *.lua file of dir (not starting with '.'); the number added, -1 if unreadable. */
int sdsim_lua_sources_add_dir(sdsim_lua_sources *s, const char *dir);
/* Appends a plugin directory to plugin_dirs. */
int sdsim_lua_sources_add_plugin_dir(sdsim_lua_sources *s, const char *dir);
sdsim_lua_sources *sdsim_lua_sources_ref(sdsim_lua_sources *s);
void sdsim_lua_sources_unref(sdsim_lua_sources *s);
const sdsim_lua_source *sdsim_lua_sources_find(const sdsim_lua_sources *s, const char *path);
/* 1 when some file of the set lies directly in dir. */
int sdsim_lua_sources_covers(const sdsim_lua_sources *s, const char *dir);

/* Makes s the calling thread's active set (NULL: none); returns the one it replaces. The set
 * must outlive its use (the caller keeps its reference). */
sdsim_lua_sources *sdsim_lua_sources_use(sdsim_lua_sources *s);
sdsim_lua_sources *sdsim_lua_sources_current(void);
