/* The C half of the Lua module `sim` (lua_sim.h): reading design files, running a template
 * under an instruction budget, validating a JSON document and running or analysing it. The
 * Lua half is scripts/sdk/sim.lua, which receives these functions as its first argument. */
#include "lua_sim.h"
#include "lua_behavior.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <luajit.h>
#include <lualib.h>

#include "analytic.h"
#include "design_load.h"
#include "lua_state.h"
#include "report.h"
#include "run_design.h"

extern int luaopen_cjson(lua_State *L);

#define MAX_FILE_BYTES ((size_t)16 << 20) /* the loader's limit for design files */
#define MAX_DURATION 1e7
#define MAX_REPLICATIONS 1000
#define BUDGET_KEY "sdsim.sim.budget"
#define HOOK_STEP 1000

/* Raises a message without a "file:line:" prefix: these are the design's or the caller's
 * errors, and the position inside sim.lua would only mislead. */
static int raise(lua_State *L, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    return lua_error(L);
}

/* ------------------------------------------------------------------------------------- */
/* Files and templates */

/* C.read_file(path) -> text | nil, message */
static int l_read_file(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    FILE *f = fopen(path, "rb");
    if (!f) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: cannot open it", path);
        return 2;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char chunk[65536];
    size_t n, total = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && (total += n) <= MAX_FILE_BYTES)
        luaL_addlstring(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    luaL_pushresult(&b);
    if (bad || total > MAX_FILE_BYTES) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path, bad ? "cannot read it" : "larger than 16 MB");
        return 2;
    }
    return 1;
}

/* The template's instruction budget lives in the registry, so that the hook needs no global
 * variable; once spent, the hook fires on every instruction so a pcall cannot swallow it. */
typedef struct budget {
    long left, total;
    int tripped;
} budget;

static void budget_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_getfield(L, LUA_REGISTRYINDEX, BUDGET_KEY);
    budget *b = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!b) return;
    if (!b->tripped) {
        b->left -= HOOK_STEP;
        if (b->left > 0) return;
        b->tripped = 1;
        lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    }
    luaL_where(L, 0);
    lua_pushfstring(L, "%sinstruction budget of %d million exceeded (an endless loop?)",
                    lua_tostring(L, -1), (int)(b->total / 1000000));
    lua_error(L);
}

/* jit.status() of this state: 1 when the JIT compiler is on. */
static int jit_is_on(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED");
    lua_getfield(L, -1, "jit");
    int on = 0;
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "status");
        if (lua_isfunction(L, -1) && lua_pcall(L, 0, 1, 0) == 0) on = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    return on;
}

/* C.run_template(path, budget) -> the value the template returned; raises
 * "template PATH:LINE: message". The template runs in this state, in a fresh allow-listed
 * environment (sdsim_lua_push_sandbox_env), interpreter-only so that the count hook fires. */
static int l_run_template(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    long total = (long)luaL_optnumber(L, 2, 50e6);
    lua_settop(L, 1);
    sdsim_lua_push_sandbox_env(L);
    char err[1024];
    if (sdsim_lua_load_file(L, path, 2, MAX_FILE_BYTES, err, sizeof err) != 0)
        return raise(L, "template %s", err);
    budget *b = lua_newuserdata(L, sizeof *b);
    *b = (budget){.left = total, .total = total};
    lua_setfield(L, LUA_REGISTRYINDEX, BUDGET_KEY);
    lua_Hook old_hook = lua_gethook(L);
    int old_mask = lua_gethookmask(L), old_count = lua_gethookcount(L);
    int jit_was_on = jit_is_on(L);
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_FLUSH);
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_STEP);
    int rc = lua_pcall(L, 0, 1, 0);
    lua_sethook(L, old_hook, old_mask, old_count);
    if (jit_was_on) luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_ON);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, BUDGET_KEY);
    if (rc != 0) {
        const char *msg = lua_tostring(L, -1);
        return raise(L, "template %s", msg ? msg : "failed (error object is not a string)");
    }
    return 1;
}

/* ------------------------------------------------------------------------------------- */
/* Validation, runs and the analytic pass */

/* Raises "the design is not valid: PATH: REASON (N problems)\n  PATH: REASON ..." after
 * freeing them. The first line names the first problem: some hosts show only that line. */
static int raise_problems(lua_State *L, sdsim_problems *p) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char line[1024];
    snprintf(line, sizeof line, "the design is not valid: %s: %s (%d problem%s%s)",
             p->n ? p->items[0].path : "$", p->n ? p->items[0].reason : "?", p->n,
             p->n == 1 ? "" : "s", p->n > 1 ? ", all below" : "");
    luaL_addstring(&b, line);
    for (int i = 0; p->n > 1 && i < p->n; i++) {
        snprintf(line, sizeof line, "\n  %s: %s", p->items[i].path, p->items[i].reason);
        luaL_addstring(&b, line);
    }
    sdsim_problems_free(p);
    luaL_pushresult(&b);
    return lua_error(L);
}

/* Validates the JSON text at stack index 1 and converts it; raises on problems. */
static sim_design *check_design(lua_State *L) {
    size_t len = 0;
    const char *json = luaL_checklstring(L, 1, &len);
    sdsim_problems problems = {0};
    sim_design *d = sdsim_load_design_json(json, len, &problems);
    if (!d) raise_problems(L, &problems);
    sdsim_problems_free(&problems);
    return d;
}

static double number_arg(lua_State *L, int i, const char *name, double min, double max) {
    double v = luaL_checknumber(L, i);
    if (!isfinite(v) || v < min || v > max)
        raise(L, "sim.run: %s must be from %f to %f, not %f", name, min, max, v);
    return v;
}

/* Lua component types of the project (components/) run in this process, as in `sdsim run`;
 * untrusted plugin types need the isolated child that only `sdsim run --plugins` gives. */
static int attach_scripts(sim_design *d, sdsim_behavior_host **host, char *err, size_t errlen) {
    if (!sdsim_design_has_scripts(d)) return 0;
    if (sdsim_design_has_plugins(d)) {
        snprintf(err, errlen, "designs with plugin types run only under `sdsim run --plugins`");
        return -1;
    }
    *host = sdsim_behavior_attach(d, NULL, err, errlen);
    return *host ? 0 : -1;
}

/* C.run(json, duration, warmup, seed, replications) -> the report as JSON text, the very
 * bytes `sdsim run --json` prints for the same design and options. */
static int l_run(lua_State *L) {
    sdsim_run_spec spec = {0};
    spec.duration = number_arg(L, 2, "duration", 1e-3, MAX_DURATION);
    spec.warmup = number_arg(L, 3, "warmup", 0, MAX_DURATION);
    spec.seed = (uint64_t)number_arg(L, 4, "seed", 0, 9007199254740992.0);
    spec.replications = (int)number_arg(L, 5, "replications", 1, MAX_REPLICATIONS);
    if (spec.warmup >= spec.duration)
        return raise(L, "sim.run: warmup (%f s) must be shorter than duration (%f s)", spec.warmup,
                     spec.duration);
    sim_design *d = check_design(L);
    sdsim_run_output out;
    char err[600];
    char *text = NULL;
    size_t len = 0;
    sdsim_behavior_host *scripts = NULL;
    int rc = attach_scripts(d, &scripts, err, sizeof err);
    if (rc == 0)
        rc = sdsim_run_design(d, &spec, &out, err, sizeof err);
    else
        memset(&out, 0, sizeof out);
    if (rc == 0) {
        FILE *f = open_memstream(&text, &len);
        if (f) {
            sdsim_report_json(f, &out.report);
            fclose(f);
        } else {
            rc = -1;
            snprintf(err, sizeof err, "out of memory writing the report");
        }
    }
    sdsim_run_output_free(&out);
    if (scripts) sdsim_behavior_detach(d, scripts);
    sim_design_free(d);
    if (rc != 0) {
        free(text);
        return raise(L, "sim.run: %s", err);
    }
    lua_pushlstring(L, text, len);
    free(text);
    return 1;
}

/* Sets t[k] = v (seconds to milliseconds when ms), leaving NaN out (nil). */
static void set_num(lua_State *L, const char *k, double v) {
    if (isnan(v)) return;
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static void push_analytic_component(lua_State *L, const sim_analytic_component *c) {
    lua_newtable(L);
    set_num(L, "arrival_rps", c->arrival_rate);
    set_num(L, "service_demand_ms", c->service_demand * 1e3);
    set_num(L, "utilization", c->utilization);
    if (c->exactness != SIM_UNSTABLE) {
        set_num(L, "mean_wait_ms", c->mean_wait * 1e3);
        set_num(L, "mean_response_ms", c->mean_response * 1e3);
        set_num(L, "mean_in_system", c->mean_in_system);
    }
    set_num(L, "drop_prob", c->drop_prob);
    set_num(L, "saturation_rps", c->saturation_rps);
    lua_pushstring(L, sim_exactness_name(c->exactness));
    lua_setfield(L, -2, "exactness");
}

/* Pushes the analytic prediction of d: times in ms, an unbounded saturation as math.huge. */
static void push_analytic(lua_State *L, const sim_design *d, const sim_analytic *a) {
    lua_newtable(L);
    set_num(L, "offered_rps", a->offered_rps);
    set_num(L, "e2e_mean_ms", a->e2e_mean * 1e3);
    set_num(L, "saturation_rps", a->saturation_rps);
    if (a->bottleneck >= 0) {
        lua_pushstring(L, d->components[a->bottleneck].id);
        lua_setfield(L, -2, "bottleneck");
    }
    lua_pushstring(L, a->reason);
    lua_setfield(L, -2, "reason");
    lua_pushboolean(L, a->closed);
    lua_setfield(L, -2, "closed");
    lua_newtable(L);
    for (int i = 0; i < a->ncomponents && i < d->ncomponents; i++) {
        push_analytic_component(L, &a->components[i]);
        lua_setfield(L, -2, d->components[i].id);
    }
    lua_setfield(L, -2, "components");
}

/* C.analyze(json) -> the analytic prediction; raises when the design is invalid or the
 * analytic pass cannot solve it. */
static int l_analyze(lua_State *L) {
    sim_design *d = check_design(L);
    sim_analytic a;
    char err[256];
    if (sim_analyze(d, &a, err, sizeof err) != 0) {
        sim_design_free(d);
        return raise(L, "sim.analyze: %s", err);
    }
    /* Pushing may raise only when out of memory; the design and result leak then. */
    push_analytic(L, d, &a);
    sim_analytic_free(&a);
    sim_design_free(d);
    return 1;
}

static int l_clock(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, ts.tv_sec + ts.tv_nsec * 1e-9);
    return 1;
}

static int l_root(lua_State *L) {
    lua_pushstring(L, sdsim_root());
    return 1;
}

static const luaL_Reg bridge[] = {
    {"read_file", l_read_file},
    {"run_template", l_run_template},
    {"run", l_run},
    {"analyze", l_analyze},
    {"clock", l_clock},
    {"root", l_root},
    {NULL, NULL},
};

/* ------------------------------------------------------------------------------------- */
/* The sandbox's `sim` (sdsim script --sandbox): every file it needs is read into a source set
 * (lua_state.h) before the lock-down; sim.load takes template names or design tables only. */

static char sb_root[2048];
static char sb_templates[2048]; /* "chat, ecommerce, ..." for messages */

/* C.read_file in the sandbox: no files. */
static int l_sb_read_file(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    lua_pushnil(L);
    lua_pushfstring(L,
                    "sim.load: the sandbox opens no files ('%s'): give a template name "
                    "(sim.load(\"ecommerce\")) or a design table",
                    path);
    return 2;
}

/* C.resolve(path) -> the template's path in the source set, for "NAME", "NAME.lua",
 * "templates/NAME.lua" or ROOT/templates/NAME.lua; raises for anything else. */
static int l_sb_resolve(lua_State *L) {
    const char *p = luaL_checkstring(L, 1), *base = p;
    size_t rl = strlen(sb_root);
    if (!strncmp(p, sb_root, rl) && !strncmp(p + rl, "/templates/", 11))
        base = p + rl + 11;
    else if (!strncmp(p, "templates/", 10))
        base = p + 10;
    size_t n = strlen(base);
    if (n > 4 && !strcmp(base + n - 4, ".lua")) n -= 4;
    static const char ok_chars[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
    char path[4096];
    snprintf(path, sizeof path, "%s/templates/%.*s.lua", sb_root, (int)(n < 200 ? n : 200), base);
    if (n > 0 && n < 200 && strspn(base, ok_chars) >= n &&
        sdsim_lua_sources_find(sdsim_lua_sources_current(), path)) {
        lua_pushstring(L, path);
        return 1;
    }
    lua_pushfstring(L,
                    "sim.load: in the sandbox only a template (%s) or a design table can be "
                    "loaded, not '%s'",
                    sb_templates, p);
    return lua_error(L); /* no position: sim.lua re-raises it at the caller's line */
}

static const luaL_Reg sandbox_bridge[] = {
    {"read_file", l_sb_read_file},
    {"resolve", l_sb_resolve},
    {"run_template", l_run_template},
    {"run", l_run},
    {"analyze", l_analyze},
    {"clock", l_clock},
    {"root", l_root},
    {NULL, NULL},
};

static int cmp_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The template names of the set, sorted, for messages. */
static void list_templates(const sdsim_lua_sources *set) {
    char dir[2100];
    snprintf(dir, sizeof dir, "%s/templates/", sb_root);
    size_t used = 0, dl = strlen(dir);
    const char *names[256];
    int n = 0;
    for (int i = 0; i < set->n && n < 256; i++)
        if (!strncmp(set->items[i].path, dir, dl)) names[n++] = set->items[i].path + dl;
    qsort(names, (size_t)n, sizeof names[0], cmp_name);
    sb_templates[0] = '\0';
    for (int i = 0; i < n && used + 80 < sizeof sb_templates; i++) {
        int w = snprintf(sb_templates + used, sizeof sb_templates - used, "%s%.*s",
                         used ? ", " : "", (int)(strlen(names[i]) - 4), names[i]);
        if (w > 0) used += (size_t)w;
    }
}

/* (env) -> opens scripts/sdk/sim.lua with the sandbox's bridge and sets env.sim. */
static int open_sandboxed(lua_State *L) {
    char path[4200], err[1024];
    snprintf(path, sizeof path, "%s/scripts/sdk/sim.lua", sb_root);
    if (sdsim_lua_load_file(L, path, 0, 0, err, sizeof err) != 0) return luaL_error(L, "%s", err);
    lua_newtable(L);
    luaL_register(L, NULL, sandbox_bridge);
    lua_pushcfunction(L, luaopen_cjson);
    lua_call(L, 0, 1);
    lua_call(L, 2, 1);
    if (!lua_istable(L, -1)) return luaL_error(L, "%s did not return the module table", path);
    lua_pushliteral(L, "print"); /* sim.print and the searches write where print does */
    lua_rawget(L, 1);
    lua_setfield(L, -2, "out");
    lua_pushliteral(L, "sim");
    lua_insert(L, -2);
    lua_rawset(L, 1); /* the environment refuses undeclared globals: rawset */
    return 0;
}

int sdsim_lua_sim_sandbox_open(lua_State *L, int env) {
    snprintf(sb_root, sizeof sb_root, "%s", sdsim_root());
    sdsim_lua_sources *set = sdsim_lua_sources_new();
    if (!set) return -1;
    static const char *const sdk[] = {"sim", "design", "behavior", "scenario"};
    char path[4200], err[512];
    for (size_t i = 0; i < sizeof sdk / sizeof sdk[0]; i++) {
        snprintf(path, sizeof path, "%s/scripts/sdk/%s.lua", sb_root, sdk[i]);
        if (sdsim_lua_sources_add_file(set, path, err, sizeof err) != 0 && i < 2) {
            sdsim_lua_sources_unref(set);
            return -1;
        }
    }
    snprintf(path, sizeof path, "%s/components", sb_root);
    sdsim_lua_sources_add_dir(set, path);
    snprintf(path, sizeof path, "%s/templates", sb_root);
    sdsim_lua_sources_add_dir(set, path);
    list_templates(set);
    sdsim_lua_sources_use(set); /* for the rest of this (single-threaded) child's life */
    lua_pushcfunction(L, open_sandboxed);
    lua_pushvalue(L, env);
    if (lua_pcall(L, 1, 0, 0) != 0) {
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------- */
/* Opening */

int luaopen_sim(lua_State *L) {
    char path[4096];
    snprintf(path, sizeof path, "%s/scripts/sdk/sim.lua", sdsim_root());
    if (luaL_loadfile(L, path) != 0) return lua_error(L);
    lua_newtable(L);
    luaL_register(L, NULL, bridge);
    lua_pushcfunction(L, luaopen_cjson);
    lua_call(L, 0, 1);
    lua_call(L, 2, 1);
    if (!lua_istable(L, -1)) return luaL_error(L, "%s did not return the module table", path);
    lua_getglobal(L, "package");
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "loaded");
        if (lua_istable(L, -1)) {
            lua_pushvalue(L, -3);
            lua_setfield(L, -2, "sim");
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 1;
}

static int install(lua_State *L) {
    lua_getglobal(L, "package");
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "preload");
        if (lua_istable(L, -1)) {
            lua_pushcfunction(L, luaopen_sim);
            lua_setfield(L, -2, "sim");
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, luaopen_sim);
    lua_call(L, 0, 1);
    lua_setglobal(L, "sim");
    return 0;
}

int sdsim_lua_sim_install(lua_State *L) {
    if (lua_cpcall(L, install, NULL) == 0) return 0;
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "sdsim: the sim module is not available: %s\n", msg ? msg : "?");
    lua_pop(L, 1);
    return -1;
}
