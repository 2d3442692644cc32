/* The Lua script host (lua_behavior.h): engine callbacks (sim_script_ops) on one side,
 * scripts/sdk/behavior.lua's coroutine workers on the other.
 *
 * Mechanism, chosen by measurement (docs/plugin-api.md, "Performance"): the C event loop
 * resumes a pooled worker coroutine with lua_resume when a request starts its behaviour and
 * after each wait; the coroutine yields the next action as (code, argument). A request costs
 * one resume to start plus one per wait; the JIT compiles the behaviours and the glue. The
 * same path serves trusted and sandboxed runs (the sandbox is a process boundary), so there
 * is one code path to test. */
#include "lua_behavior.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "design_load.h"
#include "lua_state.h"
#include "sandbox.h"
#include "sim_script.h"

#define DEFAULT_MEM ((size_t)1 << 30)
#define TYPE_FILE_MAX ((size_t)4 << 20)

enum { A_ANSWER = 0, A_WORK, A_SLEEP, A_CALL, A_CALL_ALL, A_FORWARD, A_ASYNC, A_FAIL };

typedef struct slot {
    lua_State *co; /* NULL: to be created */
    int ref;       /* keeps co alive */
    int comp;      /* the component whose behaviour it runs (for messages) */
    int busy;
} slot;

struct sdsim_behavior_host {
    lua_State *L;
    sim_design *d;
    sim_run *run; /* the run in progress, NULL between runs */
    int ref_b, ref_worker;
    const char **files; /* per component: its type file (script components), else NULL */
    slot *slots;
    uint32_t nslots, cap_slots;
    uint32_t *free_list;
    uint32_t nfree;
    sim_dist *dists;
    int ndists, cap_dists;
    int *ebuf;
    int cap_ebuf;
};

/* The plugin file whose code runs now: the CPU-limit handler of an isolated run names it. */
static const char *volatile g_running_file;
static const char *const *volatile g_files; /* the attached host's files (per component) */

/* ---- design queries ---------------------------------------------------------------------- */

int sdsim_design_has_scripts(const sim_design *d) {
    for (int c = 0; c < d->ncomponents; c++)
        if (d->components[c].behavior == SIM_BEHAVIOR_SCRIPT) return 1;
    return 0;
}

int sdsim_design_has_plugins(const sim_design *d) {
    for (int c = 0; c < d->ncomponents; c++) {
        const sim_component *cp = &d->components[c];
        if (cp->behavior == SIM_BEHAVIOR_SCRIPT && cp->script &&
            strstr(cp->script, "\"plugin\":true"))
            return 1;
    }
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static void first_line(char *s) {
    char *nl = strchr(s, '\n');
    if (nl) *nl = '\0';
}

/* Stops the run with "component 'id': msg" (msg's first line). Returns -1. */
static int fail_run(sdsim_behavior_host *h, int comp, const char *msg) {
    char buf[512];
    snprintf(buf, sizeof buf, "component '%s': %s",
             comp >= 0 && comp < h->d->ncomponents ? h->d->components[comp].id : "?",
             msg ? msg : "unknown error");
    first_line(buf);
    if (h->run) sim_run_abort(h->run, buf);
    return -1;
}

static sdsim_behavior_host *host_of(lua_State *L) {
    return lua_touserdata(L, lua_upvalueindex(1));
}

static sim_run *run_of(lua_State *L) {
    sdsim_behavior_host *h = host_of(L);
    if (!h->run) luaL_error(L, "no run in progress");
    return h->run;
}

/* ---- the host table behavior.lua receives --------------------------------------------- */

static int l_now(lua_State *L) {
    lua_pushnumber(L, sim_run_now(run_of(L)));
    return 1;
}

static int l_random(lua_State *L) {
    lua_pushnumber(L, sim_run_random(run_of(L)));
    return 1;
}

/* prepare(kind, mean_s, scv (< 0: implied), k) -> handle */
static int l_prepare(lua_State *L) {
    sdsim_behavior_host *h = host_of(L);
    int kind = sim_dist_kind_parse(luaL_checkstring(L, 1));
    if (kind < 0 || kind == SIM_DIST_EMPIRICAL)
        return luaL_error(L, "unknown distribution '%s'", lua_tostring(L, 1));
    sim_dist d = {0};
    d.kind = (sim_dist_kind)kind;
    d.mean = luaL_checknumber(L, 2);
    double scv = luaL_checknumber(L, 3);
    d.k = (int)luaL_checkinteger(L, 4);
    d.scv = scv >= 0 ? scv : kind == SIM_DIST_EXP ? 1 : kind == SIM_DIST_ERLANG ? 1.0 / d.k : 0;
    char err[200];
    if (sim_dist_prepare(&d, err, sizeof err) != 0) return luaL_error(L, "%s", err);
    if (h->ndists == h->cap_dists) {
        int cap = h->cap_dists ? h->cap_dists * 2 : 16;
        sim_dist *p = realloc(h->dists, (size_t)cap * sizeof *p);
        if (!p) return luaL_error(L, "out of memory");
        h->dists = p;
        h->cap_dists = cap;
    }
    h->dists[h->ndists] = d;
    lua_pushinteger(L, h->ndists++);
    return 1;
}

static int l_sample(lua_State *L) {
    sdsim_behavior_host *h = host_of(L);
    int i = (int)luaL_checkinteger(L, 1);
    if (i < 0 || i >= h->ndists) return luaL_error(L, "bad distribution handle");
    lua_pushnumber(L, sim_run_sample(run_of(L), &h->dists[i]));
    return 1;
}

static int l_replica_up(lua_State *L) {
    lua_pushboolean(L, sim_run_replica_up(run_of(L), (int)luaL_checkinteger(L, 1),
                                          (int)luaL_checkinteger(L, 2)));
    return 1;
}

static int l_replicas_up(lua_State *L) {
    lua_pushinteger(L, sim_run_replicas_up(run_of(L), (int)luaL_checkinteger(L, 1)));
    return 1;
}

/* timer(comp, delay_s, id) */
static int l_timer(lua_State *L) {
    int comp = (int)luaL_checkinteger(L, 1);
    double delay = luaL_checknumber(L, 2);
    uint64_t id = (uint64_t)luaL_checknumber(L, 3);
    if (sim_run_script_timer(run_of(L), comp, delay, id) != 0)
        return luaL_error(L, "cannot set a timer (%s)", "bad delay or out of memory");
    return 0;
}

/* load_type(file, std) -> true, type | false, message. The file runs in a fresh sandbox
 * environment with `std` added. */
static int l_load_type(lua_State *L) {
    const char *file = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    sdsim_lua_push_sandbox_env(L);
    lua_pushstring(L, "std");
    lua_pushvalue(L, 2);
    lua_rawset(L, -3); /* the environment refuses plain assignments of new globals */
    char err[768];
    if (sdsim_lua_load_file(L, file, lua_gettop(L), TYPE_FILE_MAX, err, sizeof err) != 0 ||
        sdsim_lua_pcall(L, 0, 1, 0, err, sizeof err) != 0) {
        first_line(err);
        lua_pushboolean(L, 0);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pushboolean(L, 1);
    lua_insert(L, -2);
    return 2;
}

static void push_host_table(lua_State *L, sdsim_behavior_host *h) {
    static const luaL_Reg fns[] = {
        {"now", l_now},       {"random", l_random},         {"prepare", l_prepare},
        {"sample", l_sample}, {"replica_up", l_replica_up}, {"replicas_up", l_replicas_up},
        {"timer", l_timer},   {"load_type", l_load_type},   {NULL, NULL},
    };
    lua_newtable(L);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushlightuserdata(L, h);
        lua_pushcclosure(L, f->func, 1);
        lua_setfield(L, -2, f->name);
    }
}

/* ---- coroutine slots ---------------------------------------------------------------------- */

/* A worker coroutine, resumed once so that it waits at its first yield. */
static int new_worker(sdsim_behavior_host *h, slot *s) {
    lua_State *L = h->L;
    lua_State *co = lua_newthread(L);
    if (!co) return -1;
    s->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_rawgeti(co, LUA_REGISTRYINDEX, h->ref_worker);
    if (lua_resume(co, 0) != LUA_YIELD) {
        luaL_unref(L, LUA_REGISTRYINDEX, s->ref);
        return -1;
    }
    lua_settop(co, 0);
    s->co = co;
    return 0;
}

static int take_slot(sdsim_behavior_host *h, uint32_t *out) {
    uint32_t i;
    if (h->nfree > 0) {
        i = h->free_list[--h->nfree];
    } else {
        if (h->nslots == h->cap_slots) {
            uint32_t cap = h->cap_slots ? h->cap_slots * 2 : 64;
            slot *p = realloc(h->slots, cap * sizeof *p);
            uint32_t *f = p ? realloc(h->free_list, cap * sizeof *f) : NULL;
            if (p) h->slots = p;
            if (!f) return -1;
            h->free_list = f;
            h->cap_slots = cap;
        }
        i = h->nslots++;
        h->slots[i] = (slot){NULL, LUA_NOREF, -1, 0};
    }
    slot *s = &h->slots[i];
    if (!s->co && new_worker(h, s) != 0) {
        h->free_list[h->nfree++] = i;
        return -1;
    }
    s->busy = 1;
    *out = i;
    return 0;
}

static void release_slot(sdsim_behavior_host *h, uint32_t i) {
    h->slots[i].busy = 0;
    h->free_list[h->nfree++] = i;
}

/* The coroutine is abandoned mid-behaviour (its request failed, or the run ended): the
 * garbage collector takes it; the slot gets a fresh worker when next used. */
static void kill_slot(sdsim_behavior_host *h, uint32_t i) {
    slot *s = &h->slots[i];
    if (s->co) luaL_unref(h->L, LUA_REGISTRYINDEX, s->ref);
    s->co = NULL;
    s->ref = LUA_NOREF;
    if (s->busy) release_slot(h, i);
}

/* ---- reading an action -------------------------------------------------------------------- */

static int read_edges(sdsim_behavior_host *h, lua_State *co, sim_script_action *act) {
    int n = lua_istable(co, 2) ? (int)lua_objlen(co, 2) : -1;
    if (n < 0) return -1;
    if (n > h->cap_ebuf) {
        int *p = realloc(h->ebuf, (size_t)n * sizeof *p);
        if (!p) return -1;
        h->ebuf = p;
        h->cap_ebuf = n;
    }
    for (int k = 0; k < n; k++) {
        lua_rawgeti(co, 2, k + 1);
        h->ebuf[k] = (int)lua_tointeger(co, -1);
        lua_pop(co, 1);
    }
    act->edges = h->ebuf;
    act->nedges = n;
    return 0;
}

/* After lua_resume of slot i returned st: the action it yielded, or the run stops. */
static int read_action(sdsim_behavior_host *h, uint32_t i, int st, sim_script_action *act) {
    slot *s = &h->slots[i];
    lua_State *co = s->co;
    g_running_file = NULL;
    if (st != LUA_YIELD) {
        const char *msg = st == 0 ? "the behaviour's worker ended" : lua_tostring(co, -1);
        char buf[512];
        /* Out of memory has no source position: name the type file so the user knows whose
         * code ran out. */
        const char *file = h->files[s->comp] ? h->files[s->comp] : "?";
        if (st == LUA_ERRMEM || (msg && !strcmp(msg, "not enough memory")))
            snprintf(buf, sizeof buf, "%s: not enough memory (the Lua memory limit)", file);
        else
            snprintf(buf, sizeof buf, "%s", msg ? msg : "unknown error");
        kill_slot(h, i);
        return fail_run(h, s->comp, buf);
    }
    int code =
        lua_gettop(co) == 2 && lua_type(co, 1) == LUA_TNUMBER ? (int)lua_tointeger(co, 1) : -1;
    act->kind = code;
    int ok = 1;
    switch (code) {
    case A_WORK:
    case A_SLEEP:
        act->kind = code == A_WORK ? SIM_ACT_WORK : SIM_ACT_SLEEP;
        act->value = lua_tonumber(co, 2);
        ok = isfinite(act->value);
        break;
    case A_CALL:
    case A_ASYNC:
        act->kind = code == A_CALL ? SIM_ACT_CALL : SIM_ACT_ASYNC;
        act->edge = (int)lua_tointeger(co, 2);
        break;
    case A_CALL_ALL:
        act->kind = SIM_ACT_CALL_ALL;
        ok = read_edges(h, co, act) == 0;
        break;
    case A_FORWARD:
        act->kind = SIM_ACT_FORWARD;
        act->edge = (int)lua_tointeger(co, 2);
        release_slot(h, i);
        break;
    case A_ANSWER:
        act->kind = SIM_ACT_ANSWER;
        release_slot(h, i);
        break;
    case A_FAIL:
        act->kind = SIM_ACT_FAIL;
        release_slot(h, i);
        break;
    default:
        ok = 0;
    }
    lua_settop(co, 0);
    if (!ok) {
        kill_slot(h, i);
        return fail_run(h, s->comp,
                        "the behaviour yielded something that is not an action "
                        "(coroutine.yield inside a behaviour?)");
    }
    return 0;
}

/* ---- sim_script_ops ---------------------------------------------------------------------- */

static int call_b(sdsim_behavior_host *h, const char *fn, int nargs, char *err, size_t errlen) {
    lua_State *L = h->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_b);
    lua_getfield(L, -1, fn);
    lua_remove(L, -2);
    lua_insert(L, -(nargs + 1));
    int rc = sdsim_lua_pcall(L, nargs, 0, 0, err, errlen);
    if (rc) first_line(err);
    return rc;
}

static void *op_run_begin(void *ud, sim_run *run, char *err, int errlen) {
    sdsim_behavior_host *h = ud;
    if (h->run) {
        snprintf(err, (size_t)errlen, "the design's Lua behaviours are busy with another run");
        return NULL;
    }
    h->run = run;
    char why[512];
    if (call_b(h, "begin_run", 0, why, sizeof why) != 0) {
        snprintf(err, (size_t)errlen, "init: %s", why);
        h->run = NULL;
        return NULL;
    }
    return h;
}

static void op_run_end(void *ctx) {
    sdsim_behavior_host *h = ctx;
    for (uint32_t i = 0; i < h->nslots; i++)
        if (h->slots[i].busy) kill_slot(h, i); /* requests still in flight at the end */
    char why[512];
    call_b(h, "end_run", 0, why, sizeof why);
    lua_gc(h->L, LUA_GCCOLLECT, 0);
    h->run = NULL;
}

static int op_start(void *ctx, const sim_script_req *rq, uint32_t *slot_out,
                    sim_script_action *act) {
    sdsim_behavior_host *h = ctx;
    uint32_t i;
    if (take_slot(h, &i) != 0) return fail_run(h, rq->comp, "out of memory for coroutines");
    slot *s = &h->slots[i];
    s->comp = rq->comp;
    lua_State *co = s->co;
    lua_pushinteger(co, rq->comp);
    lua_pushnumber(co, rq->key);
    lua_pushinteger(co, rq->attempt);
    lua_pushinteger(co, rq->replica);
    lua_pushinteger(co, rq->kind);
    g_running_file = g_files ? g_files[rq->comp] : NULL;
    *slot_out = i;
    return read_action(h, i, lua_resume(co, 5), act);
}

static int op_resume(void *ctx, uint32_t i, int ok, sim_script_action *act) {
    sdsim_behavior_host *h = ctx;
    slot *s = &h->slots[i];
    lua_pushboolean(s->co, ok);
    g_running_file = g_files ? g_files[s->comp] : NULL;
    return read_action(h, i, lua_resume(s->co, 1), act);
}

static void op_drop(void *ctx, uint32_t i) {
    kill_slot(ctx, i);
}

static int op_timer(void *ctx, int comp, uint64_t id) {
    sdsim_behavior_host *h = ctx;
    lua_pushnumber(h->L, (double)id);
    char err[512];
    g_running_file = g_files ? g_files[comp] : NULL;
    int rc = call_b(h, "fire", 1, err, sizeof err);
    g_running_file = NULL;
    return rc ? fail_run(h, comp, err) : 0;
}

static const sim_script_ops OPS = {op_run_begin, op_run_end, op_start,
                                   op_resume,    op_drop,    op_timer};

/* ---- attaching ---------------------------------------------------------------------------- */

/* Pushes {id, type, json, replicas, edges = {{to, mode, p, index}, ...}} for component c. */
static void push_spec(lua_State *L, const sim_design *d, int c) {
    const sim_component *cp = &d->components[c];
    lua_newtable(L);
    lua_pushstring(L, cp->id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, cp->type);
    lua_setfield(L, -2, "type");
    lua_pushstring(L, cp->script ? cp->script : "{}");
    lua_setfield(L, -2, "json");
    int slots = cp->autoscale.enabled && cp->autoscale.max > cp->replicas ? cp->autoscale.max
                                                                          : cp->replicas;
    lua_pushinteger(L, slots);
    lua_setfield(L, -2, "replicas");
    lua_newtable(L);
    int n = 0;
    for (int e = 0; e < d->nedges; e++) {
        const sim_edge *ed = &d->edges[e];
        if (ed->from != c) continue;
        lua_newtable(L);
        lua_pushstring(L, d->components[ed->to].id);
        lua_setfield(L, -2, "to");
        lua_pushstring(L, sim_edge_mode_name(ed->mode));
        lua_setfield(L, -2, "mode");
        lua_pushnumber(L, ed->p);
        lua_setfield(L, -2, "p");
        lua_pushinteger(L, e);
        lua_setfield(L, -2, "index");
        lua_rawseti(L, -2, ++n);
    }
    lua_setfield(L, -2, "edges");
}

static int load_module(sdsim_behavior_host *h, char *err, size_t errlen) {
    lua_State *L = h->L;
    char path[4096], why[768];
    snprintf(path, sizeof path, "%s/scripts/sdk/behavior.lua", sdsim_root());
    if (sdsim_lua_load_file(L, path, 0, 0, why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot load %s: %s", path, why);
        return -1;
    }
    push_host_table(L, h);
    if (sdsim_lua_pcall(L, 1, 1, 0, why, sizeof why) != 0) {
        first_line(why);
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    lua_getfield(L, -1, "worker");
    h->ref_worker = luaL_ref(L, LUA_REGISTRYINDEX);
    h->ref_b = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* The type file of each script component (from its JSON), for messages. */
static const char **files_of(const sim_design *d) {
    const char **files = calloc((size_t)d->ncomponents + 1, sizeof *files);
    if (!files) return NULL;
    for (int c = 0; c < d->ncomponents; c++) {
        const char *s = d->components[c].script, *f = s ? strstr(s, "\"file\":\"") : NULL;
        if (!f) continue;
        f += 8;
        char *out = malloc(strlen(f) + 1), *o = out;
        for (; out && *f && *f != '"'; f++) /* JSON escapes: cjson writes / as \/ */
            *o++ = f[0] == '\\' && f[1] ? *++f : *f;
        if (out) *o = '\0';
        files[c] = out;
    }
    return files;
}

static void free_files(const char **files, int n) {
    if (!files) return;
    for (int c = 0; c < n; c++)
        free((void *)files[c]);
    free(files);
}

sdsim_behavior_host *sdsim_behavior_attach(sim_design *d, const sdsim_behavior_opts *opts,
                                           char *err, size_t errlen) {
    sdsim_behavior_host *h = calloc(1, sizeof *h);
    sdsim_lua_opts lo = {.mem_limit = opts && opts->mem_limit ? opts->mem_limit : DEFAULT_MEM,
                         .jit = 1};
    if (!h || !(h->L = sdsim_lua_new(&lo))) {
        snprintf(err, errlen, "out of memory creating the Lua state for behaviours");
        free(h);
        return NULL;
    }
    h->d = d;
    if (load_module(h, err, errlen) != 0) goto fail;
    for (int c = 0; c < d->ncomponents; c++) {
        if (d->components[c].behavior != SIM_BEHAVIOR_SCRIPT) continue;
        lua_pushinteger(h->L, c);
        push_spec(h->L, d, c);
        char why[768];
        if (call_b(h, "add_component", 2, why, sizeof why) != 0) {
            snprintf(err, errlen, "component '%s' (type '%s'): %s", d->components[c].id,
                     d->components[c].type, why);
            goto fail;
        }
    }
    h->files = files_of(d);
    g_files = h->files;
    sim_design_set_script_host(d, &OPS, h);
    return h;
fail:
    sdsim_lua_close(h->L);
    free(h);
    return NULL;
}

void sdsim_behavior_detach(sim_design *d, sdsim_behavior_host *h) {
    if (!h) return;
    if (d && d->script_ud == h) sim_design_set_script_host(d, NULL, NULL);
    if (g_files == h->files) g_files = NULL;
    free_files(h->files, h->d->ncomponents);
    sdsim_lua_close(h->L);
    free(h->slots);
    free(h->free_list);
    free(h->dists);
    free(h->ebuf);
    free(h);
}

/* ---- running, isolated when plugins are involved ----------------------------------------- */

/* Attaches d's behaviours, calls lock (when given: the isolated child's lock-down, once
 * every file has been read), runs body, detaches. */
static int run_attached(sim_design *d, size_t mem, int (*lock)(size_t mem),
                        int (*body)(sim_design *, void *), void *ud) {
    char err[1024];
    sdsim_behavior_opts o = {.mem_limit = mem};
    sdsim_behavior_host *h = sdsim_behavior_attach(d, &o, err, sizeof err);
    if (!h) {
        fprintf(stderr, "sdsim: %s\n", err);
        return 2;
    }
    if (lock && lock(mem) != 0) {
        fprintf(stderr, "sdsim: cannot lock down the plugin sandbox\n");
        return 2;
    }
    int rc = body(d, ud);
    sdsim_behavior_detach(d, h);
    return rc;
}

static double g_cpu_s;

static void put(const char *s) {
    ssize_t n = write(2, s, strlen(s));
    (void)n;
}

/* SIGXCPU (the soft CPU limit) in the child: one line naming the code that ran, then exit. */
static void on_xcpu(int sig) {
    (void)sig;
    const char *f = g_running_file;
    char secs[32];
    int v = (int)g_cpu_s, k = 0;
    char tmp[16];
    do
        tmp[k++] = (char)('0' + v % 10), v /= 10;
    while (v && k < 15);
    for (int j = 0; j < k; j++)
        secs[j] = tmp[k - 1 - j];
    secs[k] = '\0';
    put("sdsim: ");
    if (f) put(f), put(": ");
    put("the run with plugins used up its CPU limit of ");
    put(secs);
    put(" s (an endless loop in a behaviour?)\n");
    _exit(2);
}

/* stdout gets its buffer now: left to the first printf, stdio would fstat the descriptor,
 * which the lock-down forbids. A terminal keeps its line buffering. */
static void prepare_stdout(void) {
    static char buf[BUFSIZ];
    setvbuf(stdout, buf, isatty(1) ? _IOLBF : _IOFBF, sizeof buf);
}

/* The same process lock-down as a sandbox child (sandbox.h): only stdout and stderr stay
 * open (the report and the errors), no file, process or network calls from here on. The
 * CPU limit ends the run with on_xcpu's line; SIGKILL 2 s later if that handler cannot run.
 * Address space: what the process has now, twice the Lua cap (JIT machine code is not
 * counted by the Lua allocator) and 4 GB for the engine's pools. */
static int lock_child(size_t mem) {
    static const int keep[] = {1, 2};
    prepare_stdout();
    signal(SIGXCPU, on_xcpu);
    sdsim_lockdown ld = {.keep_fds = keep,
                         .nkeep = 2,
                         .cpu_s = (int)ceil(g_cpu_s),
                         .cpu_grace_s = 2,
                         .as_extra = 2 * mem + ((size_t)4 << 30),
                         .file_output = 1,
                         .seccomp = 1};
    return sdsim_sandbox_lockdown(&ld);
}

/* "plugins/a.lua, plugins/b.lua": the plugin files d uses. */
static void plugin_files(const sim_design *d, char *out, size_t cap) {
    const char **files = files_of(d);
    size_t used = 0;
    out[0] = '\0';
    for (int c = 0; files && c < d->ncomponents; c++) {
        const char *s = d->components[c].script;
        if (!files[c] || !s || !strstr(s, "\"plugin\":true") || strstr(out, files[c])) continue;
        int w = snprintf(out + used, cap - used, "%s%s", used ? ", " : "", files[c]);
        if (w > 0 && (size_t)w < cap - used) used += (size_t)w;
    }
    free_files(files, d->ncomponents);
}

static double mono_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Waits for the child, killing it at the wall-clock deadline. The child's status, or -1. */
static int wait_child(pid_t pid, double wall_s, int *timed_out) {
    double deadline = mono_now() + wall_s;
    int status = 0;
    *timed_out = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) return status;
        if (w < 0 && errno != EINTR) return -1;
        if (mono_now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            *timed_out = 1;
            return status;
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

static int run_isolated(sim_design *d, const sdsim_isolation *lim, size_t mem,
                        int (*body)(sim_design *, void *), void *ud) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "sdsim: cannot fork the plugin sandbox: %s\n", strerror(errno));
        return 2;
    }
    if (pid == 0) {
        g_cpu_s = lim->cpu_s;
        int rc = run_attached(d, mem, lock_child, body, ud);
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    int timed_out;
    int status = wait_child(pid, lim->wall_s, &timed_out);
    if (status >= 0 && WIFEXITED(status) && !timed_out) return WEXITSTATUS(status);
    char files[1024];
    plugin_files(d, files, sizeof files);
    if (timed_out)
        fprintf(stderr,
                "sdsim: %s: the run with plugins took longer than its wall-clock "
                "limit of %.0f s and was stopped\n",
                files, lim->wall_s);
    else if (status >= 0 && WIFSIGNALED(status) &&
             (WTERMSIG(status) == SIGKILL || WTERMSIG(status) == SIGXCPU))
        fprintf(stderr,
                "sdsim: %s: the run with plugins used up its CPU limit of %.0f s and "
                "was stopped\n",
                files, lim->cpu_s);
    else if (status >= 0 && WIFSIGNALED(status))
        fprintf(stderr,
                "sdsim: %s: the run with plugins crashed (signal %d: %s); nothing "
                "else was affected\n",
                files, WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        fprintf(stderr, "sdsim: %s: lost the plugin run (%s)\n", files, strerror(errno));
    return 2;
}

int sdsim_behavior_run(sim_design *d, const sdsim_isolation *lim_in,
                       int (*body)(sim_design *d, void *ud), void *ud) {
    if (!sdsim_design_has_scripts(d)) return body(d, ud);
    sdsim_isolation lim = {60, 0, 1024};
    if (lim_in) {
        if (lim_in->cpu_s > 0) lim.cpu_s = lim_in->cpu_s;
        if (lim_in->wall_s > 0) lim.wall_s = lim_in->wall_s;
        if (lim_in->memory_mb > 0) lim.memory_mb = lim_in->memory_mb;
    }
    if (!(lim.wall_s > 0)) lim.wall_s = 10 * lim.cpu_s + 10;
    size_t mem = lim.memory_mb << 20;
    if (!sdsim_design_has_plugins(d)) return run_attached(d, DEFAULT_MEM, NULL, body, ud);
    return run_isolated(d, &lim, mem, body, ud);
}
