/* From a design file to a sim_design: the text is checked here (size, NUL bytes, UTF-8),
 * decoded, validated and normalized by scripts/sdk/design.lua, and the engine-shaped table
 * it returns is copied into a sim_design, which sim_design_check then defends. */
#include "design_load.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <luajit.h>

#include "lua_state.h"
#include "sandbox.h"
#include "sandbox_proto.h"

#define MAX_DESIGN_BYTES ((size_t)16 << 20) /* scripts/sdk/design.lua LIMITS.json_bytes */
#define LOAD_MEM_LIMIT ((size_t)1 << 30)    /* the whole validation state */

#ifndef SDSIM_SOURCE_DIR
#define SDSIM_SOURCE_DIR "."
#endif

/* ------------------------------------------------------------------------------------- */
/* Problems */

void sdsim_problems_add(sdsim_problems *p, const char *path, const char *fmt, ...) {
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 16;
        sdsim_problem *items = realloc(p->items, (size_t)cap * sizeof *items);
        if (!items) return; /* the caller still sees the earlier problems */
        p->items = items;
        p->cap = cap;
    }
    sdsim_problem *it = &p->items[p->n++];
    snprintf(it->path, sizeof it->path, "%s", path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->reason, sizeof it->reason, fmt, ap);
    va_end(ap);
}

void sdsim_problems_free(sdsim_problems *p) {
    free(p->items);
    p->items = NULL;
    p->n = p->cap = 0;
}

const char *sdsim_root(void) {
    const char *r = getenv("SDSIM_ROOT");
    return r && *r ? r : SDSIM_SOURCE_DIR;
}

/* ------------------------------------------------------------------------------------- */
/* The text itself */

/* Offset of the first byte that is not well-formed UTF-8 (overlongs and surrogates
 * included), or -1. */
static long utf8_error(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            min = 0x80;
            c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            min = 0x800;
            c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            min = 0x10000;
            c &= 0x07;
        } else
            return (long)i;
        if (i + len > n) return (long)i;
        for (size_t j = 1; j < len; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return (long)i;
            c = (c << 6) | (s[i + j] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return (long)i;
        i += len;
    }
    return -1;
}

/* Refuses what cannot be a JSON design before the decoder sees it. 0 or -1. */
static int check_text(const char *text, size_t len, sdsim_problems *problems) {
    if (len > MAX_DESIGN_BYTES) {
        sdsim_problems_add(problems, "$",
                           "the document is %zu bytes, more than the limit of %zu "
                           "(16 MB)",
                           len, MAX_DESIGN_BYTES);
        return -1;
    }
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        sdsim_problems_add(problems, "$",
                           "not a text file: a NUL byte at offset %ld (binary "
                           "data is not a JSON design)",
                           (long)(nul - text));
        return -1;
    }
    long bad = utf8_error((const unsigned char *)text, len);
    if (bad >= 0) {
        sdsim_problems_add(problems, "$",
                           "not valid UTF-8 at byte offset %ld (JSON text must "
                           "be UTF-8)",
                           bad);
        return -1;
    }
    return 0;
}

/* Reads a whole file of at most MAX_DESIGN_BYTES, refusing larger ones unread. */
static char *read_design_file(const char *path, size_t *len, sdsim_problems *problems) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        sdsim_problems_add(problems, "$", "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t want = MAX_DESIGN_BYTES + 1;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && (size_t)size < MAX_DESIGN_BYTES)
            want = (size_t)size + 1; /* one more: a file that grew meanwhile is still seen */
        if (size > (long)MAX_DESIGN_BYTES) {
            sdsim_problems_add(problems, "$",
                               "%s is %ld bytes, more than the limit of %zu "
                               "(16 MB): refused unread",
                               path, size, MAX_DESIGN_BYTES);
            fclose(f);
            return NULL;
        }
        rewind(f);
    }
    /* Read up to one byte past the limit: a pipe or a growing file has no trustworthy size. */
    buf = malloc(want + 1);
    if (!buf) {
        sdsim_problems_add(problems, "$", "out of memory reading %s", path);
        fclose(f);
        return NULL;
    }
    size_t n = fread(buf, 1, want, f);
    if (n == want && want <= MAX_DESIGN_BYTES) { /* it grew: read on up to the limit */
        char *more = realloc(buf, MAX_DESIGN_BYTES + 2);
        if (more) {
            buf = more;
            n += fread(buf + n, 1, MAX_DESIGN_BYTES + 1 - n, f);
        }
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        sdsim_problems_add(problems, "$", "cannot read %s", path);
        free(buf);
        return NULL;
    }
    if (n > MAX_DESIGN_BYTES) {
        sdsim_problems_add(problems, "$", "%s is more than the limit of %zu bytes (16 MB)", path,
                           MAX_DESIGN_BYTES);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* ------------------------------------------------------------------------------------- */
/* Helpers design.lua calls: the host table */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The "*.lua" names of the set's files directly in dir, sorted. */
static int list_from_set(lua_State *L, const sdsim_lua_sources *set, const char *dir) {
    size_t n = strlen(dir);
    const char **names = malloc((size_t)(set->n ? set->n : 1) * sizeof *names);
    if (!names) return luaL_error(L, "out of memory listing %s", dir);
    int k = 0;
    for (int i = 0; i < set->n; i++) {
        const char *p = set->items[i].path, *f = p + n + 1;
        size_t fl = strlen(p) > n ? strlen(f) : 0;
        if (!strncmp(p, dir, n) && p[n] == '/' && !strchr(f, '/') && fl > 4 && f[0] != '.' &&
            !strcmp(f + fl - 4, ".lua"))
            names[k++] = f;
    }
    qsort(names, (size_t)k, sizeof *names, cmp_str);
    lua_createtable(L, k, 0);
    for (int i = 0; i < k; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, i + 1);
    }
    free(names);
    return 1;
}

/* host.plugin_dirs() -> the ':'-separated plugin type directories: the active source set's
 * (a user's plugins), else SDSIM_PLUGINS (sdsim run --plugins), else nil. */
static int host_plugin_dirs(lua_State *L) {
    sdsim_lua_sources *set = sdsim_lua_sources_current();
    const char *dirs = set && set->plugin_dirs ? set->plugin_dirs : getenv("SDSIM_PLUGINS");
    if (dirs && *dirs)
        lua_pushstring(L, dirs);
    else
        lua_pushnil(L);
    return 1;
}

/* host.list_lua(dir) -> sorted array of "*.lua" file names, or nil, message. */
static int host_list_lua(lua_State *L) {
    const char *dir = luaL_checkstring(L, 1);
    sdsim_lua_sources *set = sdsim_lua_sources_current();
    if (set && sdsim_lua_sources_covers(set, dir)) return list_from_set(L, set, dir);
    DIR *d = opendir(dir);
    if (!d) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", dir, strerror(errno));
        return 2;
    }
    char **names = NULL;
    int n = 0, cap = 0, oom = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) && !oom) {
        size_t len = strlen(ent->d_name);
        if (ent->d_name[0] == '.' || len <= 4 || strcmp(ent->d_name + len - 4, ".lua") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn) {
                oom = 1;
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(ent->d_name)))
            oom = 1;
        else
            n++;
    }
    closedir(d);
    /* Sorted in C so the order does not depend on the directory. */
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    if (!oom) {
        lua_createtable(L, n, 0);
        for (int i = 0; i < n; i++) {
            lua_pushstring(L, names[i]);
            lua_rawseti(L, -2, i + 1);
        }
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (oom) return luaL_error(L, "out of memory listing %s", dir);
    return 1;
}

/* Keeps the first line of a Lua error message (the traceback follows it). */
static void first_line(char *msg) {
    char *nl = strchr(msg, '\n');
    if (nl) *nl = '\0';
}

/* host.run_file(path, extras, budget, mem_bytes) -> true, value | false, message.
 * Runs a Lua file in a fresh sandbox environment (plus the fields of extras) under an
 * instruction budget and with at most mem_bytes more memory. */
static int host_run_file(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    long budget = (long)luaL_optnumber(L, 3, 50e6);
    size_t mem = (size_t)luaL_optnumber(L, 4, 256.0 * 1024 * 1024);
    lua_settop(L, 2);
    sdsim_lua_push_sandbox_env(L);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, 3);
    }
    char err[1024];
    if (sdsim_lua_load_file(L, path, 3, MAX_DESIGN_BYTES, err, sizeof err) != 0) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, err);
        return 2;
    }
    size_t outer = sdsim_lua_mem_limit(L), want = sdsim_lua_mem_used(L) + mem;
    sdsim_lua_set_mem_limit(L, outer && outer < want ? outer : want);
    /* Hooks do not fire inside compiled traces: the sandboxed code runs interpreted (and no
     * trace compiled earlier survives), the trusted validation around it keeps the JIT. */
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_FLUSH);
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
    int rc = sdsim_lua_pcall(L, 0, 1, budget, err, sizeof err);
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_FLUSH);
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_ON);
    sdsim_lua_set_mem_limit(L, outer);
    if (rc != 0) {
        lua_gc(L, LUA_GCCOLLECT, 0); /* what a memory bomb left behind */
        first_line(err);
        lua_pushboolean(L, 0);
        if (strstr(err, path))
            lua_pushstring(L, err);
        else
            lua_pushfstring(L, "%s: %s", path, err);
        return 2;
    }
    lua_pushboolean(L, 1);
    lua_insert(L, -2);
    return 2;
}

/* host.run_text(text, path, extras, budget, mem_bytes): host.run_file of a text in memory
 * (a user's plugin) that error messages call `path`. */
static int host_run_text(lua_State *L) {
    size_t len = 0;
    const char *text = luaL_checklstring(L, 1, &len);
    const char *path = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    sdsim_lua_sources *set = sdsim_lua_sources_new();
    if (!set || sdsim_lua_sources_add(set, path, text, len) != 0) {
        sdsim_lua_sources_unref(set);
        return luaL_error(L, "out of memory");
    }
    sdsim_lua_sources *old = sdsim_lua_sources_use(set);
    lua_remove(L, 1);
    int n = host_run_file(L); /* its arguments are checked above: it does not raise */
    sdsim_lua_sources_use(old);
    sdsim_lua_sources_unref(set);
    return n;
}

/* host.sandbox_load(path) -> function | nil, message: the file compiled (never run) with a
 * fresh sandbox environment as its globals, for code that the caller then runs itself
 * (scenario files: their chunk and their build function under one budget). */
static int host_sandbox_load(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    lua_settop(L, 1);
    sdsim_lua_push_sandbox_env(L);
    char err[1024];
    if (sdsim_lua_load_file(L, path, 2, MAX_DESIGN_BYTES, err, sizeof err) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    return 1;
}

/* host.pcall_budget(budget, f, ...) -> true, result | false, message (first line only).
 * f runs interpreted (the JIT is flushed and off meanwhile, so the count hook always fires)
 * under at most `budget` VM instructions; a pcall inside f cannot swallow the cut-off. */
static int host_pcall_budget(lua_State *L) {
    long budget = (long)luaL_checknumber(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    int nargs = lua_gettop(L) - 2;
    lua_remove(L, 1);
    char err[1024];
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_FLUSH);
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
    int rc = sdsim_lua_pcall(L, nargs, 1, budget, err, sizeof err);
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_FLUSH);
    if (rc != 0) {
        lua_gc(L, LUA_GCCOLLECT, 0); /* what a memory bomb left behind */
        first_line(err);
        lua_pushboolean(L, 0);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pushboolean(L, 1);
    lua_insert(L, -2);
    return 2;
}

/* host.cap_memory(bytes): from now on the state may hold at most `bytes` more than it holds
 * now (never more than its cap so far). */
static int host_cap_memory(lua_State *L) {
    size_t more = (size_t)luaL_checknumber(L, 1);
    size_t outer = sdsim_lua_mem_limit(L), want = sdsim_lua_mem_used(L) + more;
    sdsim_lua_set_mem_limit(L, outer && outer < want ? outer : want);
    return 0;
}

static int host_run_template(lua_State *L);
static int host_run_scenario(lua_State *L);
static int host_list_scenarios(lua_State *L);

/* The `host` table the SDK's Lua sees: one C function per entry. */
static const luaL_Reg host_functions[] = {
    {"list_lua", host_list_lua},
    {"run_file", host_run_file},
    {"run_template", host_run_template},
    {"sandbox_load", host_sandbox_load},
    {"pcall_budget", host_pcall_budget},
    {"cap_memory", host_cap_memory},
    {"run_scenario", host_run_scenario},
    {"list_scenarios", host_list_scenarios},
    {"plugin_dirs", host_plugin_dirs},
    {"run_text", host_run_text},
    {NULL, NULL},
};

static void push_host_table(lua_State *L) {
    lua_newtable(L);
    luaL_register(L, NULL, host_functions);
}

/* ------------------------------------------------------------------------------------- */
/* Templates and scenarios run in a child process: some pure-Lua code crashes the VM itself
 * (recursion through string.gsub callbacks or nested coroutines overflows the C stack), and
 * a crash there must cost only the child. The child calls one function of an SDK module
 * (design.lua's D.template_json(path), scenario.lua's S.apply_json(file, input) ...) and
 * writes the string it returns to a pipe; the parent reads it under a wall-clock deadline
 * and kills the child when it passes.
 *
 * The child is a plain fork (the CLI: one thread), or, once sdsim_design_set_exec has named
 * an sdsim binary (the server), a fork that at once execs `sdsim __design-child`: a fork of a
 * threaded process may only make async-signal-safe calls (another thread may have held a lock
 * at the fork, malloc's or LuaJIT's, and the child would wait for it until its deadline), and
 * an exec'd child starts with a fresh address space holding none of the server's secrets. The
 * request (the function, its arguments, and the thread's active source set: the registry's
 * snapshot of the files, a user's plugins) goes to the child's stdin as sandbox_proto frames;
 * the result comes back on descriptor 3. */

#define TEMPLATE_WALL_MS 20000
#define TEMPLATE_MAX_OUTPUT ((size_t)64 << 20)

static int load_sdk(lua_State *L, char *err, size_t errlen);
static int load_scenario_sdk(lua_State *L, int with_design, char *err, size_t errlen);

typedef struct child_args {
    int scenario_sdk; /* 0: call D[fn] of design.lua; 1: S[fn] of scenario.lua */
    const char *fn;
    const char *a, *b; /* the string arguments (b may be NULL) */
    size_t alen, blen;
    int out;
    int lockdown; /* 1: the sandbox's process lock-down once the SDK is loaded (a user's code
                     runs next, and needs no file: sandbox.h sdsim_sandbox_lockdown) */
} child_args;

static int child_main(lua_State *L) {
    child_args *args = lua_touserdata(L, 1);
    char err[1024];
    int rc = args->scenario_sdk ? load_scenario_sdk(L, 0, err, sizeof err)
                                : load_sdk(L, err, sizeof err);
    if (rc != 0) return luaL_error(L, "%s", err);
    if (args->lockdown) {
        int keep[] = {args->out};
        sdsim_lockdown ld = {.keep_fds = keep,
                             .nkeep = 1,
                             .cpu_s = 20,
                             .cpu_grace_s = 1,
                             .as_extra = (size_t)512 << 20,
                             .seccomp = 1};
        if (sdsim_sandbox_lockdown(&ld) != 0) return luaL_error(L, "cannot lock down the check");
    }
    lua_getfield(L, -1, args->fn);
    lua_pushlstring(L, args->a, args->alen);
    int nargs = 1;
    if (args->b) {
        lua_pushlstring(L, args->b, args->blen);
        nargs++;
    }
    if (sdsim_lua_pcall(L, nargs, 1, 0, err, sizeof err) != 0) return luaL_error(L, "%s", err);
    size_t len = 0;
    const char *text = lua_tolstring(L, -1, &len);
    while (text && len > 0) {
        ssize_t w = write(args->out, text, len);
        if (w <= 0) break;
        text += w;
        len -= (size_t)w;
    }
    return 0;
}

static void run_child(child_args *args) {
    /* A child forked by the server's worker thread must not outlive the server. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* Die by the signal itself (a sanitizer's handler would turn it into an exit code). */
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    /* A scenario's user code and the SDK around it share one state: interpreted throughout,
     * so the instruction budget of host.pcall_budget always fires. */
    sdsim_lua_opts opts = {.mem_limit = LOAD_MEM_LIMIT, .jit = !args->scenario_sdk};
    lua_State *L = sdsim_lua_new(&opts);
    if (!L) _exit(3);
    _exit(lua_cpcall(L, child_main, args) == 0 ? 0 : 4);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Reads the child's output until EOF or the deadline; -1 on timeout or overflow. */
static int read_child(int fd, luaL_Buffer *b, long long deadline, const char **why) {
    size_t total = 0;
    char chunk[65536];
    for (;;) {
        long long now = now_ms();
        if (now >= deadline) {
            *why = "took longer than 20 s and was stopped";
            return -1;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(deadline - now));
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) continue; /* the deadline check above ends it */
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        total += (size_t)n;
        if (total > TEMPLATE_MAX_OUTPUT) {
            *why = "returned a result larger than 64 MB";
            return -1;
        }
        luaL_addlstring(b, chunk, (size_t)n);
    }
}

/* The children running now (any thread), so that a server shutting down can end them
 * instead of waiting up to TEMPLATE_WALL_MS for a check nobody needs any more. */
#define MAX_TRACKED_CHILDREN 64
static pthread_mutex_t children_mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t children[MAX_TRACKED_CHILDREN];

static void track_child(pid_t pid, pid_t was) {
    pthread_mutex_lock(&children_mu);
    for (int i = 0; i < MAX_TRACKED_CHILDREN; i++)
        if (children[i] == was) {
            children[i] = pid;
            break;
        }
    pthread_mutex_unlock(&children_mu);
}

void sdsim_design_kill_children(void) {
    pthread_mutex_lock(&children_mu);
    for (int i = 0; i < MAX_TRACKED_CHILDREN; i++)
        if (children[i] > 0) kill(children[i], SIGKILL);
    pthread_mutex_unlock(&children_mu);
}

/* ---- the exec'd child ------------------------------------------------------------------ */

#define CHILD_ARG "__design-child" /* sdsim's hidden subcommand: sdsim_design_child_main */
#define CHILD_OUT_FD 3
#define REQUEST_MAX ((size_t)256 << 20) /* a 16 MB design plus the sources, with room */

enum { REQ_ARGS = 1 }; /* the sources' frames: SDSIM_CHILD_SOURCE, SDSIM_CHILD_PLUGIN_DIRS */

static char exec_path[4096]; /* "": plain fork */

void sdsim_design_set_exec(const char *path) {
    snprintf(exec_path, sizeof exec_path, "%s", path ? path : "");
}

const char *sdsim_child_exec_path(void) {
    return exec_path[0] ? exec_path : NULL;
}

int sdsim_child_put_sources(sdsim_proto_buf *b) {
    const sdsim_lua_sources *set = sdsim_lua_sources_current();
    for (int i = 0; set && i < set->n; i++) {
        size_t f = sdsim_proto_begin(b, SDSIM_CHILD_SOURCE);
        sdsim_proto_put_cstr(b, set->items[i].path);
        sdsim_proto_put_str(b, set->items[i].text, set->items[i].len);
        sdsim_proto_end(b, f);
    }
    if (set && set->plugin_dirs) {
        size_t f = sdsim_proto_begin(b, SDSIM_CHILD_PLUGIN_DIRS);
        sdsim_proto_put_cstr(b, set->plugin_dirs);
        sdsim_proto_end(b, f);
    }
    return b->failed || b->len > REQUEST_MAX ? -1 : 0;
}

/* The request: the arguments, then every file of the active source set. 0 or -1 (memory). */
static int encode_request(const child_args *a, sdsim_proto_buf *b) {
    size_t f = sdsim_proto_begin(b, REQ_ARGS);
    sdsim_proto_put_u32(b, (uint32_t)a->scenario_sdk);
    sdsim_proto_put_u32(b, (uint32_t)a->lockdown);
    sdsim_proto_put_u32(b, a->b != NULL);
    sdsim_proto_put_cstr(b, a->fn);
    sdsim_proto_put_str(b, a->a, a->alen);
    sdsim_proto_put_str(b, a->b ? a->b : "", a->b ? a->blen : 0);
    sdsim_proto_end(b, f);
    return sdsim_child_put_sources(b);
}

/* In the forked child of a threaded process: only async-signal-safe calls until execv. req
 * becomes stdin, out descriptor 3; every other descriptor but 1 and 2 is closed. */
static void exec_child(const char *subcommand, int req, int out, pid_t parent) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL); /* a worker thread's mask would outlive the exec */
    prctl(PR_SET_PDEATHSIG, SIGKILL);      /* kept across exec */
    if (getppid() != parent) _exit(75);    /* the parent died before the line above */
    /* out of the way of 0 and 3 first, whatever numbers they had */
    int r = fcntl(req, F_DUPFD, 10), o = fcntl(out, F_DUPFD, 10);
    if (r < 0 || o < 0 || dup2(r, 0) != 0 || dup2(o, CHILD_OUT_FD) != CHILD_OUT_FD) _exit(76);
#ifdef SYS_close_range
    if (syscall(SYS_close_range, CHILD_OUT_FD + 1, ~0U, 0) != 0)
#endif
        for (int fd = CHILD_OUT_FD + 1; fd < 65536; fd++)
            close(fd);
    char *argv[] = {exec_path, (char *)subcommand, NULL};
    execv(exec_path, argv);
    _exit(127);
}

/* Sends the request within the deadline. A child that died meanwhile (EPIPE) is not an error
 * here: its exit status tells why. 0, or -1 on timeout. */
static int send_request(int fd, const sdsim_proto_buf *req, long long deadline) {
    size_t off = 0;
    while (off < req->len) {
        long long left = deadline - now_ms();
        if (left <= 0) return -1;
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        if (poll(&pfd, 1, (int)left) <= 0) continue;
        ssize_t w = send(fd, req->data + off, req->len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (w <= 0) return 0;
        off += (size_t)w;
    }
    return 0;
}

pid_t sdsim_child_spawn(const char *subcommand, const sdsim_proto_buf *req,
                        void (*body)(void *ud, int out), void *ud, long long deadline_ms,
                        int *out_fd, char *err, size_t errlen) {
    int fds[2], sv[2] = {-1, -1}, exec_it = req != NULL;
    *out_fd = -1;
    if (exec_it && !exec_path[0]) {
        snprintf(err, errlen, "no sdsim binary to exec (sdsim_design_set_exec)");
        return -1;
    }
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    if (exec_it && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        snprintf(err, errlen, "cannot create a socket pair: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    fflush(NULL);
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        if (exec_it) exec_child(subcommand, sv[1], fds[1], parent);
        close(fds[0]);
        body(ud, fds[1]);
        _exit(70); /* body must not return */
    }
    close(fds[1]);
    if (exec_it) close(sv[1]);
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork: %s", strerror(errno));
        close(fds[0]);
        if (exec_it) close(sv[0]);
        return -1;
    }
    track_child(pid, 0);
    int rc = 0;
    if (exec_it) {
        rc = send_request(sv[0], req, deadline_ms);
        close(sv[0]);
    }
    *out_fd = fds[0];
    if (rc != 0) { /* the caller reads nothing: the deadline has passed */
        kill(pid, SIGKILL);
        close(fds[0]);
        *out_fd = -1;
    }
    return pid;
}

int sdsim_child_reap(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    track_child(0, pid);
    return status;
}

static void run_child_body(void *ud, int out) {
    child_args *args = ud;
    args->out = out;
    run_child(args);
}

/* Forks the child: exec'd when an sdsim binary is set, else running args itself. The parent
 * gets the output pipe's read end in *out_fd (-1 with *why set: the deadline passed while the
 * request was being sent). */
static pid_t spawn_child(child_args *args, int *out_fd, long long deadline, const char **why,
                         char *err, size_t errlen) {
    sdsim_proto_buf req = {0};
    int exec_it = exec_path[0] != '\0';
    if (exec_it && encode_request(args, &req) != 0) {
        sdsim_proto_buf_free(&req);
        snprintf(err, errlen, "out of memory for the check's request");
        return -1;
    }
    pid_t pid = sdsim_child_spawn(CHILD_ARG, exec_it ? &req : NULL, run_child_body, args, deadline,
                                  out_fd, err, errlen);
    sdsim_proto_buf_free(&req);
    if (pid > 0 && *out_fd < 0) *why = "took longer than 20 s and was stopped";
    return pid;
}

int sdsim_child_read_request(const char *subcommand, char **out, size_t *outlen) {
    if (fcntl(CHILD_OUT_FD, F_GETFD) < 0) {
        fprintf(stderr, "sdsim %s: internal: run by the server for its isolated work\n",
                subcommand);
        return 2;
    }
    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) return 3;
        if (len == cap) {
            char *more = cap >= REQUEST_MAX ? NULL : realloc(buf, cap *= 2);
            if (!more) {
                free(buf);
                return 3;
            }
            buf = more;
        }
        ssize_t n = read(0, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            free(buf);
            return 3;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(0);
    *out = buf;
    *outlen = len;
    return 0;
}

int sdsim_child_next_frame(sdsim_proto_cursor *all, int *type, sdsim_proto_cursor *payload) {
    if (all->failed) return -1;
    if (all->left == 0) return 0;
    uint32_t flen = sdsim_proto_get_u32(all);
    if (all->failed || flen < 1 || flen > all->left) return -1;
    *type = (unsigned char)all->p[0];
    *payload = (sdsim_proto_cursor){all->p + 1, flen - 1, 0};
    all->p += flen;
    all->left -= flen;
    return 1;
}

int sdsim_child_take_source(int type, sdsim_proto_cursor *c, sdsim_lua_sources **set) {
    if (type != SDSIM_CHILD_SOURCE && type != SDSIM_CHILD_PLUGIN_DIRS) return 1;
    size_t n1 = 0, n2 = 0;
    const char *p1 = sdsim_proto_get_str(c, &n1);
    const char *p2 = type == SDSIM_CHILD_SOURCE ? sdsim_proto_get_str(c, &n2) : NULL;
    char path[4096];
    if (c->failed || n1 >= sizeof path) return 4;
    memcpy(path, p1, n1);
    path[n1] = '\0';
    if (!*set && !(*set = sdsim_lua_sources_new())) return 3;
    if (type == SDSIM_CHILD_SOURCE ? sdsim_lua_sources_add(*set, path, p2, n2)
                                   : sdsim_lua_sources_add_plugin_dir(*set, path))
        return 3;
    return 0;
}

/* `sdsim __design-child`: reads the request from stdin, runs it as run_child does and writes
 * the result to descriptor 3. Returns only when the request is malformed. */
int sdsim_design_child_main(int argc, char **argv) {
    (void)argv;
    char *buf = NULL;
    size_t len = 0;
    if (argc != 0) {
        fprintf(stderr, "sdsim %s: internal: run by the server for its checks\n", CHILD_ARG);
        return 2;
    }
    int rc = sdsim_child_read_request(CHILD_ARG, &buf, &len);
    if (rc != 0) return rc;
    child_args args = {.out = CHILD_OUT_FD};
    char fn[64] = "";
    sdsim_lua_sources *set = NULL;
    sdsim_proto_cursor all = {buf, len, 0}, c;
    int type;
    while ((rc = sdsim_child_next_frame(&all, &type, &c)) == 1) {
        if (type == REQ_ARGS) {
            args.scenario_sdk = (int)sdsim_proto_get_u32(&c);
            args.lockdown = (int)sdsim_proto_get_u32(&c);
            int has_b = (int)sdsim_proto_get_u32(&c);
            sdsim_proto_get_cstr(&c, fn, sizeof fn);
            args.a = sdsim_proto_get_str(&c, &args.alen);
            args.b = sdsim_proto_get_str(&c, &args.blen);
            if (!has_b) args.b = NULL;
            args.fn = fn;
        } else {
            int src = sdsim_child_take_source(type, &c, &set);
            if (src > 1) return src;
        }
        if (c.failed) return 4;
    }
    if (rc < 0 || !args.fn || !args.a) return 4;
    if (set) sdsim_lua_sources_use(set);
    run_child(&args); /* does not return */
    return 0;
}

/* ---- running one ------------------------------------------------------------------------ */

/* Runs args in a child; pushes the text it wrote, or nil and the reason. Returns 1 or 2. */
static int run_isolated(lua_State *L, child_args *args) {
    long long deadline = now_ms() + TEMPLATE_WALL_MS;
    const char *why = NULL;
    char err[256];
    int out = -1;
    pid_t pid = spawn_child(args, &out, deadline, &why, err, sizeof err);
    if (pid < 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    int rc = out < 0 ? -1 : read_child(out, &b, deadline, &why);
    if (out >= 0) close(out);
    if (rc != 0) kill(pid, SIGKILL);
    int status = sdsim_child_reap(pid);
    luaL_pushresult(&b);
    if (rc != 0) {
        lua_pushnil(L);
        lua_pushstring(L, why);
        return 2;
    }
    if (WIFSIGNALED(status)) {
        lua_pushnil(L);
        lua_pushfstring(L,
                        "crashed the Lua VM (signal %d: %s), e.g. by deep recursion through "
                        "string.gsub or coroutines",
                        WTERMSIG(status), strsignal(WTERMSIG(status)));
        return 2;
    }
    size_t len = 0;
    lua_tolstring(L, -1, &len);
    if (len == 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "gave no result (exit status %d)",
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return 2;
    }
    return 1;
}

/* host.run_template(path) -> JSON text of {doc, problems}, or nil, reason. */
static int host_run_template(lua_State *L) {
    size_t len = 0;
    const char *path = luaL_checklstring(L, 1, &len);
    child_args args = {.fn = "template_json", .a = path, .alen = len};
    return run_isolated(L, &args);
}

/* host.run_scenario(file, input_json) -> JSON text of the scenario's patch, or nil, reason. */
static int host_run_scenario(lua_State *L) {
    child_args args = {.scenario_sdk = 1, .fn = "apply_json"};
    args.a = luaL_checklstring(L, 1, &args.alen);
    args.b = luaL_checklstring(L, 2, &args.blen);
    return run_isolated(L, &args);
}

/* host.list_scenarios(dir [, "json"]) -> the catalogue as text (or JSON), or nil, reason. */
static int host_list_scenarios(lua_State *L) {
    child_args args = {.scenario_sdk = 1,
                       .fn = lua_isstring(L, 2) && !strcmp(lua_tostring(L, 2), "json")
                                 ? "list_json"
                                 : "list_text"};
    args.a = luaL_checklstring(L, 1, &args.alen);
    return run_isolated(L, &args);
}

/* ------------------------------------------------------------------------------------- */
/* From the engine-shaped Lua table to sim_design */

static double num_at(lua_State *L, int t, const char *k, double def) {
    lua_getfield(L, t, k);
    double v = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : def;
    lua_pop(L, 1);
    return v;
}

static int int_at(lua_State *L, int t, const char *k, int def) {
    return (int)num_at(L, t, k, def);
}

static int bool_at(lua_State *L, int t, const char *k) {
    lua_getfield(L, t, k);
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static void str_at(lua_State *L, int t, const char *k, char *dst, size_t cap) {
    lua_getfield(L, t, k);
    const char *s = lua_tostring(L, -1);
    snprintf(dst, cap, "%s", s ? s : "");
    lua_pop(L, 1);
}

/* An enum name through its engine parser; -1 (and a problem) when unknown. */
static int enum_at(lua_State *L, int t, const char *k, int (*parse)(const char *), const char *path,
                   sdsim_problems *problems) {
    lua_getfield(L, t, k);
    const char *s = lua_tostring(L, -1);
    int v = s ? parse(s) : -1;
    if (v < 0)
        sdsim_problems_add(problems, path, "the engine does not know %s '%s'", k, s ? s : "");
    lua_pop(L, 1);
    return v;
}

/* Pushes t[k] and returns 1 when it is a table; otherwise pushes nothing and returns 0. */
static int table_at(lua_State *L, int t, const char *k) {
    lua_getfield(L, t, k);
    if (lua_istable(L, -1)) return 1;
    lua_pop(L, 1);
    return 0;
}

typedef struct build {
    lua_State *L;
    sim_design *d;
    sdsim_problems *problems;
    int failed;
} build;

static void dist_at(build *b, int t, const char *k, sim_dist *out, const char *path) {
    lua_State *L = b->L;
    if (!table_at(L, t, k)) return; /* the default stays */
    memset(out, 0, sizeof *out);
    int dt = lua_gettop(L);
    int kind = enum_at(L, dt, "kind", sim_dist_kind_parse, path, b->problems);
    b->failed |= kind < 0;
    out->kind = kind < 0 ? SIM_DIST_CONST : (sim_dist_kind)kind;
    out->mean = num_at(L, dt, "mean", 0);
    out->scv = num_at(L, dt, "scv", 0);
    out->k = int_at(L, dt, "k", 1);
    if (table_at(L, dt, "values")) {
        int n = (int)lua_objlen(L, -1);
        double *vals = malloc((size_t)(n ? n : 1) * sizeof *vals);
        if (vals) {
            for (int i = 0; i < n; i++) {
                lua_rawgeti(L, -1, i + 1);
                vals[i] = lua_tonumber(L, -1);
                lua_pop(L, 1);
            }
        }
        if (!vals || sim_design_set_empirical(b->d, out, vals, n) != 0) {
            sdsim_problems_add(b->problems, path, "out of memory for %d empirical values", n);
            b->failed = 1;
        }
        free(vals);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static void build_component(build *b, int t, int i) {
    lua_State *L = b->L;
    char path[64], id[SIM_ID_MAX];
    snprintf(path, sizeof path, "$.components[%d]", i);
    str_at(L, t, "id", id, sizeof id);
    sim_component c = sim_component_defaults(id);
    str_at(L, t, "zone", c.zone, sizeof c.zone);
    str_at(L, t, "type", c.type, sizeof c.type);
    int v = enum_at(L, t, "behavior", sim_behavior_parse, path, b->problems);
    c.behavior = v < 0 ? SIM_BEHAVIOR_SERVICE : (sim_behavior)v;
    b->failed |= v < 0;
    c.replicas = int_at(L, t, "replicas", 1);
    c.workers = int_at(L, t, "workers", 1);
    c.queue_cap = int_at(L, t, "queue_cap", SIM_UNBOUNDED);
    dist_at(b, t, "service", &c.service, path);
    v = enum_at(L, t, "policy", sim_policy_parse, path, b->problems);
    c.policy = v < 0 ? SIM_POLICY_ROUND_ROBIN : (sim_policy)v;
    b->failed |= v < 0;
    c.hit_ratio = num_at(L, t, "hit_ratio", 0);
    c.read_ratio = num_at(L, t, "read_ratio", 1);
    c.fanout_all = bool_at(L, t, "fanout_all");
    c.error_rate = num_at(L, t, "error_rate", 0);
    c.cost_per_hour = num_at(L, t, "cost_per_hour", 0);
    c.rate_limit = num_at(L, t, "rate_limit", 0);
    c.rate_burst = num_at(L, t, "rate_burst", 0);
    c.shed_wait = num_at(L, t, "shed_wait", 0);
    if (table_at(L, t, "autoscale")) {
        int a = lua_gettop(L);
        c.autoscale.enabled = 1;
        c.autoscale.target_util = num_at(L, a, "target_util", 0.6);
        c.autoscale.min = int_at(L, a, "min", c.replicas);
        c.autoscale.max = int_at(L, a, "max", c.replicas);
        c.autoscale.cooldown = num_at(L, a, "cooldown", 30);
        c.autoscale.provision_delay = num_at(L, a, "provision_delay", 10);
        c.autoscale.interval = num_at(L, a, "interval", 0);
        lua_pop(L, 1);
    }
    int idx = sim_design_add_component(b->d, &c);
    if (idx < 0) b->failed = 1;
    lua_getfield(L, t, "script"); /* a Lua behaviour: its type file and params (lua_behavior.h) */
    if (idx >= 0 && lua_isstring(L, -1) && sim_design_set_script(b->d, idx, lua_tostring(L, -1)))
        b->failed = 1;
    lua_pop(L, 1);
}

static void build_edge(build *b, int t, int i) {
    lua_State *L = b->L;
    char path[64];
    snprintf(path, sizeof path, "$.edges[%d]", i);
    sim_edge e = sim_edge_defaults(int_at(L, t, "from", -1), int_at(L, t, "to", -1));
    int v = enum_at(L, t, "mode", sim_edge_mode_parse, path, b->problems);
    e.mode = v < 0 ? SIM_EDGE_CALL : (sim_edge_mode)v;
    b->failed |= v < 0;
    e.p = num_at(L, t, "p", 1);
    e.weight = num_at(L, t, "weight", 1);
    e.latency = num_at(L, t, "latency", 0);
    e.timeout = num_at(L, t, "timeout", 0);
    e.retries = int_at(L, t, "retries", 0);
    e.backoff_base = num_at(L, t, "backoff_base", e.backoff_base);
    e.backoff_max = num_at(L, t, "backoff_max", e.backoff_max);
    e.jitter = bool_at(L, t, "jitter");
    e.retry_budget = num_at(L, t, "retry_budget", 0);
    if (table_at(L, t, "breaker")) {
        int k = lua_gettop(L);
        e.breaker.enabled = 1;
        e.breaker.failure_threshold = int_at(L, k, "failure_threshold", 5);
        e.breaker.open_time = num_at(L, k, "open_time", 5);
        e.breaker.half_open_probes = int_at(L, k, "half_open_probes", 1);
        lua_pop(L, 1);
    }
    if (sim_design_add_edge(b->d, &e) < 0) b->failed = 1;
}

static void build_workload(build *b, int t, int i) {
    lua_State *L = b->L;
    char path[64];
    snprintf(path, sizeof path, "$.workload[%d]", i);
    sim_workload w = sim_workload_defaults(int_at(L, t, "to", -1));
    w.keys = (uint32_t)num_at(L, t, "keys", 0);
    w.closed = bool_at(L, t, "closed");
    if (w.closed) {
        w.users = int_at(L, t, "users", 1);
        dist_at(b, t, "think", &w.think, path);
    } else {
        w.rps = num_at(L, t, "rps", 0);
        int v = enum_at(L, t, "pattern", sim_pattern_parse, path, b->problems);
        w.pattern = v < 0 ? SIM_PATTERN_CONSTANT : (sim_pattern)v;
        b->failed |= v < 0;
        w.start = num_at(L, t, "start", 0);
        w.over = num_at(L, t, "over", 0);
        w.to_rps = num_at(L, t, "to_rps", 0);
        w.factor = num_at(L, t, "factor", 1);
        w.period = num_at(L, t, "period", 0);
        w.amplitude = num_at(L, t, "amplitude", 0);
        if (table_at(L, t, "steps")) {
            int n = (int)lua_objlen(L, -1);
            for (int s = 0; s < n && s < SIM_MAX_STEPS; s++) {
                lua_rawgeti(L, -1, s + 1);
                w.steps[s].at = num_at(L, lua_gettop(L), "at", 0);
                w.steps[s].rps = num_at(L, lua_gettop(L), "rps", 0);
                lua_pop(L, 1);
            }
            w.nsteps = n < SIM_MAX_STEPS ? n : SIM_MAX_STEPS;
            lua_pop(L, 1);
        }
    }
    if (sim_design_add_workload(b->d, &w) < 0) b->failed = 1;
}

static void build_fault(build *b, int t, int i) {
    lua_State *L = b->L;
    char path[64];
    snprintf(path, sizeof path, "$.scenario[%d]", i);
    int v = enum_at(L, t, "kind", sim_fault_kind_parse, path, b->problems);
    b->failed |= v < 0;
    sim_fault f = sim_fault_defaults(v < 0 ? SIM_FAULT_CRASH : (sim_fault_kind)v);
    f.at = num_at(L, t, "at", 0);
    f.duration = num_at(L, t, "duration", 0);
    f.target = int_at(L, t, "target", -1);
    f.replica = int_at(L, t, "replica", -1);
    str_at(L, t, "zone", f.zone, sizeof f.zone);
    f.value = num_at(L, t, "value", 0);
    f.multiply = bool_at(L, t, "multiply");
    if (sim_design_add_fault(b->d, &f) < 0) b->failed = 1;
}

/* Calls each(b, item_index_on_stack, i) for every item of the array field k of table t. */
static void each_item(build *b, int t, const char *k, void (*each)(build *, int, int)) {
    lua_State *L = b->L;
    if (!table_at(L, t, k)) return;
    int n = (int)lua_objlen(L, -1);
    for (int i = 0; i < n && !b->failed; i++) {
        lua_rawgeti(L, -1, i + 1);
        each(b, lua_gettop(L), i);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* Builds the design from the engine table at index t; NULL (with problems) on failure. */
static sim_design *build_design(lua_State *L, int t, sdsim_problems *problems) {
    char name[128];
    str_at(L, t, "name", name, sizeof name);
    build b = {L, sim_design_new(name), problems, 0};
    if (!b.d) {
        sdsim_problems_add(problems, "$", "out of memory building the design");
        return NULL;
    }
    each_item(&b, t, "components", build_component);
    each_item(&b, t, "edges", build_edge);
    each_item(&b, t, "workloads", build_workload);
    each_item(&b, t, "faults", build_fault);
    if (table_at(L, t, "slo")) {
        b.d->slo.p99 = num_at(L, lua_gettop(L), "p99", 0);
        b.d->slo.error_rate = num_at(L, lua_gettop(L), "error_rate", -1);
        lua_pop(L, 1);
    }
    char err[512] = "";
    if (!b.failed && sim_design_check(b.d, err, sizeof err) != 0) {
        sdsim_problems_add(problems, "$", "%s", err[0] ? err : "the engine refused the design");
        b.failed = 1;
    }
    if (b.failed) {
        if (problems->n == 0)
            sdsim_problems_add(problems, "$", "out of memory building the design");
        sim_design_free(b.d);
        return NULL;
    }
    return b.d;
}

/* ------------------------------------------------------------------------------------- */
/* The load itself, in a protected call so that a memory error anywhere is a problem */

typedef struct load_ctx {
    const char *kind; /* "json" or "lua" */
    const char *arg;  /* the JSON text, or the template's path */
    size_t len;
    const char *default_name;
    sdsim_problems *problems;
    sim_design *design;
    sdsim_scenario *scenario; /* NULL: none */
    char **doc_json;          /* out, when not NULL: the document as given (D.last_doc) */
} load_ctx;

static void add_problems_from(lua_State *L, int t, sdsim_problems *problems) {
    int n = (int)lua_objlen(L, t);
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, t, i);
        lua_getfield(L, -1, "path");
        lua_getfield(L, -2, "reason");
        const char *path = lua_tostring(L, -2), *reason = lua_tostring(L, -1);
        sdsim_problems_add(problems, path ? path : "$", "%s", reason ? reason : "?");
        lua_pop(L, 3);
    }
}

/* Pushes the module table of scripts/sdk/design.lua; -1 with a message on failure. */
static int load_sdk(lua_State *L, char *err, size_t errlen) {
    char path[4096], why[768];
    snprintf(path, sizeof path, "%s/scripts/sdk/design.lua", sdsim_root());
    if (sdsim_lua_load_file(L, path, 0, 0, why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot load the design SDK: %s", why);
        return -1;
    }
    push_host_table(L);
    if (sdsim_lua_pcall(L, 1, 1, 0, why, sizeof why) != 0) {
        first_line(why);
        snprintf(err, errlen, "the design SDK failed: %s", why);
        return -1;
    }
    return 0;
}

/* Pushes the module table of scripts/sdk/scenario.lua, given design.lua's module (on top of
 * the stack, when with_design) and the host table; -1 with a message on failure. */
static int load_scenario_sdk(lua_State *L, int with_design, char *err, size_t errlen) {
    char path[4096], why[768];
    snprintf(path, sizeof path, "%s/scripts/sdk/scenario.lua", sdsim_root());
    if (sdsim_lua_load_file(L, path, 0, 0, why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot load the scenario SDK: %s", why);
        return -1;
    }
    if (with_design)
        lua_pushvalue(L, -2);
    else
        lua_pushnil(L);
    push_host_table(L);
    if (sdsim_lua_pcall(L, 2, 1, 0, why, sizeof why) != 0) {
        first_line(why);
        snprintf(err, errlen, "the scenario SDK failed: %s", why);
        return -1;
    }
    return 0;
}

/* Pushes {file=, params={"k=v", ...}, duration=} for S.load. */
static void push_scenario_args(lua_State *L, const sdsim_scenario *sc) {
    lua_newtable(L);
    lua_pushstring(L, sc->file);
    lua_setfield(L, -2, "file");
    lua_pushnumber(L, sc->duration);
    lua_setfield(L, -2, "duration");
    lua_createtable(L, sc->nparams, 0);
    for (int i = 0; i < sc->nparams; i++) {
        lua_pushstring(L, sc->params[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "params");
}

/* Copies S.load's fourth result ({summary=, error=}) into the scenario. */
static void take_scenario_info(lua_State *L, int info, sdsim_scenario *sc) {
    if (!lua_istable(L, info)) return;
    str_at(L, info, "summary", sc->summary, sizeof sc->summary);
    str_at(L, info, "error", sc->error, sizeof sc->error);
}

/* Calls D.load, or S.load when a scenario is given; leaves engine, problems (and the
 * scenario's info) on the stack. 0, or -1 with a message. */
static int call_load(lua_State *L, load_ctx *ctx, char *err, size_t errlen) {
    if (ctx->scenario && load_scenario_sdk(L, 1, err, errlen) != 0) return -1;
    lua_getfield(L, -1, "load");
    lua_pushstring(L, ctx->kind);
    lua_pushlstring(L, ctx->arg, ctx->len);
    lua_pushstring(L, sdsim_root());
    lua_pushstring(L, ctx->default_name);
    if (ctx->scenario) push_scenario_args(L, ctx->scenario);
    if (sdsim_lua_pcall(L, ctx->scenario ? 5 : 4, 4, 0, err, errlen) != 0) {
        first_line(err);
        return -1;
    }
    return 0;
}

/* The document D.load last decoded or ran (D at index d), as JSON (D.doc_json). */
static void take_doc(lua_State *L, int d, char **out) {
    lua_getfield(L, d, "doc_json");
    lua_getfield(L, d, "last_doc");
    if (lua_isfunction(L, -2) && lua_istable(L, -1) && lua_pcall(L, 1, 1, 0) == 0 &&
        lua_isstring(L, -1))
        *out = strdup(lua_tostring(L, -1));
    lua_settop(L, d + 4); /* D, engine, norm, problems (and the scenario's info) stay */
}

static int load_protected(lua_State *L) {
    load_ctx *ctx = lua_touserdata(L, 1);
    char err[1024];
    if (load_sdk(L, err, sizeof err) != 0) {
        sdsim_problems_add(ctx->problems, "$", "%s", err);
        return 0;
    }
    if (call_load(L, ctx, err, sizeof err) != 0) {
        if (ctx->scenario)
            snprintf(ctx->scenario->error, sizeof ctx->scenario->error, "%s", err);
        else
            sdsim_problems_add(ctx->problems, "$", "validation failed: %s", err);
        return 0;
    }
    int engine = lua_gettop(L) - 3, problems = lua_gettop(L) - 1;
    if (ctx->doc_json) take_doc(L, 2, ctx->doc_json);
    if (ctx->scenario) {
        take_scenario_info(L, lua_gettop(L), ctx->scenario);
        if (ctx->scenario->error[0]) return 0;
    }
    if (lua_istable(L, problems)) add_problems_from(L, problems, ctx->problems);
    if (ctx->problems->n == 0 && lua_istable(L, engine))
        ctx->design = build_design(L, engine, ctx->problems);
    if (!ctx->design && ctx->problems->n == 0)
        sdsim_problems_add(ctx->problems, "$", "the design could not be loaded");
    return 0;
}

static sdsim_lua_sources *(*source_provider)(void *ud);
static void *source_provider_ud;

void sdsim_design_set_source_provider(sdsim_lua_sources *(*fn)(void *ud), void *ud) {
    source_provider = fn;
    source_provider_ud = ud;
}

static sim_design *load_in_state(load_ctx *ctx);

/* With no source set active on this thread, the provider's (the server's registry) is used
 * for this one load. */
static sim_design *load(load_ctx *ctx) {
    sdsim_lua_sources *set = NULL, *old = NULL;
    if (!sdsim_lua_sources_current() && source_provider &&
        (set = source_provider(source_provider_ud)))
        old = sdsim_lua_sources_use(set);
    sim_design *d = load_in_state(ctx);
    if (set) {
        sdsim_lua_sources_use(old);
        sdsim_lua_sources_unref(set);
    }
    return d;
}

static sim_design *load_in_state(load_ctx *ctx) {
    sdsim_lua_opts opts = {.mem_limit = LOAD_MEM_LIMIT, .jit = 1};
    lua_State *L = sdsim_lua_new(&opts);
    if (!L) {
        sdsim_problems_add(ctx->problems, "$", "out of memory creating a Lua state");
        return NULL;
    }
    int before = ctx->problems->n;
    int rc = lua_cpcall(L, load_protected, ctx);
    if (rc != 0) {
        const char *msg = lua_tostring(L, -1);
        sdsim_problems_add(ctx->problems, "$", "%s",
                           rc == LUA_ERRMEM
                               ? "not enough memory to validate the design (the cap is 1 GB)"
                           : msg ? msg
                                 : "unknown error");
    }
    sdsim_lua_close(L);
    int scenario_failed = ctx->scenario && ctx->scenario->error[0];
    if (ctx->design && (ctx->problems->n > before || scenario_failed)) {
        sim_design_free(ctx->design);
        ctx->design = NULL;
    }
    return ctx->design;
}

/* "dir/checkout.json" -> "checkout" */
static void base_name(const char *path, char *out, size_t cap) {
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    snprintf(out, cap, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = '\0';
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

sim_design *sdsim_load_design_file(const char *path, sdsim_problems *problems) {
    return sdsim_load_design_file_scenario(path, NULL, problems);
}

sim_design *sdsim_load_template_doc(const char *path, char **doc_json, sdsim_problems *problems) {
    char name[128];
    base_name(path, name, sizeof name);
    *doc_json = NULL;
    load_ctx ctx = {.kind = "lua",
                    .arg = path,
                    .len = strlen(path),
                    .default_name = name,
                    .problems = problems,
                    .doc_json = doc_json};
    sim_design *d = load(&ctx);
    if (!d) {
        free(*doc_json);
        *doc_json = NULL;
    }
    return d;
}

sim_design *sdsim_load_design_file_scenario(const char *path, sdsim_scenario *sc,
                                            sdsim_problems *problems) {
    char name[128];
    base_name(path, name, sizeof name);
    load_ctx ctx = {.default_name = name, .problems = problems, .scenario = sc};
    if (sc) sc->summary[0] = sc->error[0] = '\0';
    if (ends_with(path, ".lua")) {
        ctx.kind = "lua";
        ctx.arg = path;
        ctx.len = strlen(path);
        return load(&ctx);
    }
    size_t len = 0;
    char *text = read_design_file(path, &len, problems);
    if (!text) return NULL;
    sim_design *d = NULL;
    if (check_text(text, len, problems) == 0) {
        ctx.kind = "json";
        ctx.arg = text;
        ctx.len = len;
        d = load(&ctx);
    }
    free(text);
    return d;
}

sim_design *sdsim_load_design_json_scenario(const char *json, size_t len, sdsim_scenario *sc,
                                            sdsim_problems *problems) {
    if (check_text(json, len, problems) != 0) return NULL;
    if (sc) sc->summary[0] = sc->error[0] = '\0';
    load_ctx ctx = {.kind = "json",
                    .arg = json,
                    .len = len,
                    .default_name = "design",
                    .problems = problems,
                    .scenario = sc};
    return load(&ctx);
}

sim_design *sdsim_load_design_json(const char *json, size_t len, sdsim_problems *problems) {
    if (check_text(json, len, problems) != 0) return NULL;
    load_ctx ctx = {
        .kind = "json", .arg = json, .len = len, .default_name = "design", .problems = problems};
    return load(&ctx);
}

/* ------------------------------------------------------------------------------------- */
/* Finding and listing scenarios */

/* The shipped scenario names, ", "-separated, into out. */
static void shipped_names(char *out, size_t cap) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/scripts/scenarios", sdsim_root());
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d) return;
    char *names[256];
    int n = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) && n < 256) {
        size_t len = strlen(ent->d_name);
        if (ent->d_name[0] != '.' && len > 4 && !strcmp(ent->d_name + len - 4, ".lua") &&
            (names[n] = strndup(ent->d_name, len - 4)))
            n++;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        int w = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", names[i]);
        if (w > 0 && (size_t)w < cap - used) used += (size_t)w;
        free(names[i]);
    }
}

int sdsim_scenario_resolve(const char *name, char *out, size_t cap, char *err, size_t errlen) {
    int is_path = strchr(name, '/') || ends_with(name, ".lua");
    if (is_path)
        snprintf(out, cap, "%s", name);
    else
        snprintf(out, cap, "%s/scripts/scenarios/%s.lua", sdsim_root(), name);
    if (access(out, R_OK) == 0) return 0;
    char names[2048];
    shipped_names(names, sizeof names);
    if (is_path)
        snprintf(err, errlen, "cannot read the scenario file %s: %s", out, strerror(errno));
    else
        snprintf(err, errlen,
                 "no scenario named '%s' (shipped: %s; or give the path of a .lua "
                 "file)",
                 name, names[0] ? names : "none");
    return -1;
}

typedef struct catalog_ctx {
    int json;
    char *text;
    char err[1024];
} catalog_ctx;

static int catalog_protected(lua_State *L) {
    catalog_ctx *ctx = lua_touserdata(L, 1);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/scripts/scenarios", sdsim_root());
    lua_pushcfunction(L, host_list_scenarios);
    lua_pushstring(L, dir);
    lua_pushstring(L, ctx->json ? "json" : "text");
    lua_call(L, 2, 2);
    size_t len = 0;
    const char *text = lua_tolstring(L, -2, &len);
    if (!text) {
        snprintf(ctx->err, sizeof ctx->err, "listing %.500s: %.400s", dir,
                 lua_tostring(L, -1) ? lua_tostring(L, -1) : "failed");
        return 0;
    }
    ctx->text = malloc(len + 1);
    if (ctx->text)
        memcpy(ctx->text, text, len + 1);
    else
        snprintf(ctx->err, sizeof ctx->err, "out of memory");
    return 0;
}

static char *catalog(int json, char *err, size_t errlen) {
    sdsim_lua_opts opts = {.mem_limit = LOAD_MEM_LIMIT, .jit = 1};
    lua_State *L = sdsim_lua_new(&opts);
    if (!L) {
        snprintf(err, errlen, "out of memory creating a Lua state");
        return NULL;
    }
    catalog_ctx ctx = {.json = json};
    if (lua_cpcall(L, catalog_protected, &ctx) != 0)
        snprintf(ctx.err, sizeof ctx.err, "%s",
                 lua_tostring(L, -1) ? lua_tostring(L, -1) : "listing failed");
    sdsim_lua_close(L);
    if (!ctx.text) snprintf(err, errlen, "%s", ctx.err);
    return ctx.text;
}

char *sdsim_scenario_catalog(char *err, size_t errlen) {
    return catalog(0, err, errlen);
}

char *sdsim_scenario_catalog_json(char *err, size_t errlen) {
    return catalog(1, err, errlen);
}

int sdsim_design_sdk_push(lua_State *L, char *err, size_t errlen) {
    int top = lua_gettop(L);
    if (load_sdk(L, err, errlen) == 0) return 0;
    lua_settop(L, top);
    return -1;
}

/* ------------------------------------------------------------------------------------- */
/* One component type from a text (a user's plugin), checked in a forked child */

int sdsim_check_type_source(const char *path, const char *text, size_t len, char **decl_json,
                            char *err, size_t errlen) {
    *decl_json = NULL;
    err[0] = '\0';
    sdsim_lua_opts opts = {.mem_limit = (size_t)64 << 20, .jit = 1};
    lua_State *L = sdsim_lua_new(&opts);
    if (!L) {
        snprintf(err, errlen, "out of memory creating a Lua state");
        return -1;
    }
    child_args args = {.fn = "check_type_json",
                       .a = path,
                       .alen = strlen(path),
                       .b = text,
                       .blen = len,
                       .lockdown = 1};
    int n = run_isolated(L, &args);
    const char *out = lua_tostring(L, -1);
    if (n == 2 || !out)
        snprintf(err, errlen, "%s: %s", path, out ? out : "the check failed");
    else
        *decl_json = strdup(out);
    sdsim_lua_close(L);
    return *decl_json ? 0 : -1;
}
