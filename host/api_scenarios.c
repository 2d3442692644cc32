/* Failure scenarios for the API's live simulations (host/api_scenarios.h).
 *
 * Everything that runs a scenario file (the catalogue, a start with a scenario, a scenario
 * applied to a running simulation) runs on the libuv thread pool, in the forked sandboxed
 * child of host/design_load.c: never on the loop. Applying to a running simulation loads the
 * run's own design text with the scenario (its default times scale with the simulated time
 * left), takes the faults the scenario added (they come last in the document's scenario
 * array), and schedules them from the current simulated time (sdsim_live_schedule). Extra
 * workload sources and changed edge fields cannot be added to a run in progress: such a
 * scenario is refused with a sentence saying to start with it instead. */
#include "api_scenarios.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <lua.h>

#include "api.h"
#include "design_load.h"
#include "lua_state.h"

#define MAX_PARAMS 64
#define NAME_MAX_LEN 64

enum { JOB_LIST, JOB_PREPARE, JOB_APPLY };

typedef struct sc_job {
    uv_work_t work;
    sdsim_api_call *call;
    int kind;
    char *text; /* the design's JSON text */
    size_t len;
    char name[NAME_MAX_LEN + 1];
    char *params[MAX_PARAMS];
    int nparams;
    double duration;
    char id[40];
    sdsim_lua_sources *sources; /* the registry's types and the user's plugins (NULL: disk) */
    /* out */
    char *json;         /* JOB_LIST */
    char err[2400];     /* why it failed, one sentence */
    const char *code;   /* "unknown", "scenario", "invalid" */
    sim_design *design; /* JOB_PREPARE, JOB_APPLY */
    sdsim_problems problems;
    sdsim_scenario sc;
} sc_job;

static struct {
    sdsim_server *srv;
    uv_mutex_t mu; /* the catalogue's cache: written on worker threads */
    int mu_ready;
    char *cache_json, *cache_sig;
} g;

/* ------------------------------------------------------------------------------------- */
/* The scenario directory (worker threads) */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .lua files of scripts/scenarios/ sorted, as "name" (names != NULL: ", "-separated
 * into names) and as a signature "name:mtime:size;..." (sig, malloc'd) that changes with any
 * file. */
static char *scan_dir(char *names, size_t cap) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/scripts/scenarios", sdsim_root());
    if (names && cap) names[0] = '\0';
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char *items[256];
    int n = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) && n < 256) {
        size_t len = strlen(ent->d_name);
        if (ent->d_name[0] == '.' || len <= 4 || strcmp(ent->d_name + len - 4, ".lua")) continue;
        char path[4400];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        if (stat(path, &st) != 0) continue;
        char line[400];
        snprintf(line, sizeof line, "%.*s:%lld.%09ld:%lld;", (int)(len - 4), ent->d_name,
                 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long long)st.st_size);
        if ((items[n] = strdup(line))) n++;
    }
    closedir(d);
    qsort(items, (size_t)n, sizeof *items, cmp_str);
    size_t total = 1, used = 0;
    for (int i = 0; i < n; i++)
        total += strlen(items[i]);
    char *sig = malloc(total);
    if (sig) sig[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (sig) strcat(sig, items[i]);
        if (names) {
            int w = snprintf(names + used, cap - used, "%s%.*s", i ? ", " : "",
                             (int)strcspn(items[i], ":"), items[i]);
            if (w > 0 && (size_t)w < cap - used) used += (size_t)w;
        }
        free(items[i]);
    }
    return sig;
}

static void list_work(sc_job *j) {
    char *sig = scan_dir(NULL, 0);
    uv_mutex_lock(&g.mu);
    if (sig && g.cache_sig && !strcmp(sig, g.cache_sig) && g.cache_json)
        j->json = strdup(g.cache_json);
    uv_mutex_unlock(&g.mu);
    if (j->json) {
        free(sig);
        return;
    }
    j->json = sdsim_scenario_catalog_json(j->err, sizeof j->err);
    uv_mutex_lock(&g.mu);
    if (j->json && sig) {
        free(g.cache_json);
        free(g.cache_sig);
        g.cache_json = strdup(j->json);
        g.cache_sig = sig;
        sig = NULL;
    }
    uv_mutex_unlock(&g.mu);
    free(sig);
}

/* "…/scripts/scenarios/x.lua:3: msg" -> "scripts/scenarios/x.lua:3: msg" (the server's paths
 * are nobody's business). */
static void strip_root(char *msg) {
    const char *root = sdsim_root();
    size_t n = strlen(root);
    char *p;
    while (n && (p = strstr(msg, root)) && p[n] == '/')
        memmove(p, p + n + 1, strlen(p + n + 1) + 1);
}

/* Runs the scenario over the job's design text (PREPARE and APPLY). */
static void load_work(sc_job *j) {
    char file[4096], names[1024];
    snprintf(file, sizeof file, "%s/scripts/scenarios/%s.lua", sdsim_root(), j->name);
    struct stat st;
    if (stat(file, &st) != 0 || !S_ISREG(st.st_mode)) {
        free(scan_dir(names, sizeof names));
        snprintf(j->err, sizeof j->err, "no scenario named '%s' (shipped: %s)", j->name,
                 names[0] ? names : "none");
        j->code = "unknown";
        return;
    }
    j->sc = (sdsim_scenario){.file = file,
                             .params = (const char *const *)j->params,
                             .nparams = j->nparams,
                             .duration = j->duration};
    sdsim_lua_sources *outer = sdsim_lua_sources_use(j->sources);
    j->design = sdsim_load_design_json_scenario(j->text, j->len, &j->sc, &j->problems);
    sdsim_lua_sources_use(outer);
    j->sc.file = NULL;
    if (j->design) return;
    if (j->sc.error[0]) {
        strip_root(j->sc.error);
        snprintf(j->err, sizeof j->err, "scenario %s failed: %s", j->name, j->sc.error);
        j->code = "scenario";
    } else {
        snprintf(j->err, sizeof j->err, "with scenario %s the design has %d problem%s", j->name,
                 j->problems.n, j->problems.n == 1 ? "" : "s");
        for (int i = 0; i < j->problems.n; i++)
            strip_root(j->problems.items[i].reason);
        j->code = "invalid";
    }
}

static void job_work(uv_work_t *w) {
    sc_job *j = w->data;
    if (j->kind == JOB_LIST)
        list_work(j);
    else
        load_work(j);
}

/* ------------------------------------------------------------------------------------- */
/* Back on the loop */

static void job_free(sc_job *j) {
    free(j->text);
    for (int i = 0; i < j->nparams; i++)
        free(j->params[i]);
    free(j->json);
    if (j->sources) sdsim_lua_sources_unref(j->sources);
    if (j->design) sim_design_free(j->design);
    sdsim_problems_free(&j->problems);
    free(j);
}

static void set_str(lua_State *L, const char *k, const char *v) {
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static int push_fail(lua_State *co, const sc_job *j) {
    lua_pushnil(co);
    lua_pushstring(co, j->err[0] ? j->err : "the scenario could not be applied");
    lua_pushstring(co, j->code ? j->code : "invalid");
    lua_createtable(co, j->problems.n, 0);
    for (int i = 0; i < j->problems.n; i++) {
        lua_createtable(co, 0, 2);
        set_str(co, "path", j->problems.items[i].path);
        set_str(co, "reason", j->problems.items[i].reason);
        lua_rawseti(co, -2, i + 1);
    }
    return 4;
}

static int same_resilience(const sim_edge *a, const sim_edge *b) {
    return a->timeout == b->timeout && a->retries == b->retries &&
           a->backoff_base == b->backoff_base && a->backoff_max == b->backoff_max &&
           a->jitter == b->jitter && a->retry_budget == b->retry_budget &&
           a->breaker.enabled == b->breaker.enabled &&
           (!a->breaker.enabled || (a->breaker.failure_threshold == b->breaker.failure_threshold &&
                                    a->breaker.open_time == b->breaker.open_time &&
                                    a->breaker.half_open_probes == b->breaker.half_open_probes));
}

/* What of the scenario's patch a running simulation cannot take: NULL when only faults. */
static const char *unsupported(const sim_design *run, const sim_design *d) {
    if (d->ncomponents != run->ncomponents || d->nedges != run->nedges || d->nfaults < run->nfaults)
        return "its design is not the running one";
    if (d->nworkloads != run->nworkloads) return "it adds workload sources (more traffic)";
    for (int i = 0; i < d->nedges; i++)
        if (!same_resilience(&d->edges[i], &run->edges[i]))
            return "it changes the timeouts, retries or breakers of call edges";
    return NULL;
}

/* APPLY: the faults the scenario added, scheduled from now on the run. */
static int apply_done(lua_State *co, sc_job *j) {
    sdsim_live *l = sdsim_api_live_get(j->id);
    if (!l) {
        snprintf(j->err, sizeof j->err, "the simulation has ended");
        j->code = "ended";
        return push_fail(co, j);
    }
    const sim_design *run = sdsim_live_design(l);
    const char *why = unsupported(run, j->design);
    if (why) {
        snprintf(j->err, sizeof j->err,
                 "scenario %s cannot be applied to a running simulation: %s; that only takes "
                 "effect from the start (start a simulation with config.scenario \"%s\")",
                 j->name, why, j->name);
        j->code = "unsupported";
        return push_fail(co, j);
    }
    int n = j->design->nfaults - run->nfaults;
    if (n == 0) {
        snprintf(j->err, sizeof j->err, "scenario %s adds no fault to this design (%s)", j->name,
                 j->sc.summary);
        j->code = "unsupported";
        return push_fail(co, j);
    }
    char label[1300], err[256] = "";
    snprintf(label, sizeof label, "scenario %s", j->sc.summary);
    double from = 0;
    if (sdsim_live_schedule(l, j->design->faults + run->nfaults, n, label, &from, err,
                            sizeof err)) {
        snprintf(j->err, sizeof j->err, "%s", err);
        j->code = "ended";
        return push_fail(co, j);
    }
    sdsim_live_add_scenario(l, j->sc.summary);
    lua_createtable(co, 0, 3);
    set_str(co, "summary", j->sc.summary);
    lua_pushnumber(co, from);
    lua_setfield(co, -2, "from");
    lua_pushinteger(co, n);
    lua_setfield(co, -2, "faults");
    return 1;
}

static void job_done(uv_work_t *w, int status) {
    sc_job *j = w->data;
    g.srv->jobs_running--;
    lua_State *co = sdsim_api_call_thread(j->call);
    int n;
    if (status == UV_ECANCELED) {
        snprintf(j->err, sizeof j->err, "cancelled: the server is shutting down");
        j->code = "cancelled";
        n = push_fail(co, j);
    } else if (j->kind == JOB_LIST) {
        if (j->json) {
            lua_pushstring(co, j->json);
            n = 1;
        } else {
            lua_pushnil(co);
            lua_pushstring(co, j->err[0] ? j->err : "the scenarios could not be listed");
            n = 2;
        }
    } else if (!j->design) {
        n = push_fail(co, j);
    } else if (j->kind == JOB_PREPARE) {
        sdsim_api_live_push_prepared(co, j->design); /* Lua owns the design now */
        j->design = NULL;
        lua_pushstring(co, j->sc.summary);
        n = 3;
    } else {
        n = apply_done(co, j);
    }
    sdsim_api_call *call = j->call;
    job_free(j);
    sdsim_api_call_resume(call, n);
}

static int queue(lua_State *L, sc_job *j) {
    j->work.data = j;
    if (uv_queue_work(&g.srv->loop, &j->work, job_work, job_done) != 0) {
        job_free(j);
        return luaL_error(L, "host.scenarios: cannot queue the work");
    }
    g.srv->jobs_running++;
    sdsim_api_call_wait(j->call);
    return lua_yield(L, 0);
}

/* ------------------------------------------------------------------------------------- */
/* The bindings */

static sc_job *job_new(lua_State *L, int kind, const char *fname) {
    sdsim_api_call *c = sdsim_api_call_check(L, fname);
    sc_job *j = calloc(1, sizeof *j);
    if (!j) luaL_error(L, "out of memory");
    j->call = c;
    j->kind = kind;
    return j;
}

/* A scenario name: letters, digits, '_' and '-' only (never a path). */
static int check_name(lua_State *L, int idx, char *out) {
    const char *name = luaL_checkstring(L, idx);
    size_t n = strlen(name);
    if (n == 0 || n > NAME_MAX_LEN ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789_-") != n) {
        lua_pushnil(L);
        lua_pushfstring(L, "no scenario named '%s' (a name is letters, digits, _ and -)", name);
        lua_pushstring(L, "unknown");
        return -1;
    }
    memcpy(out, name, n + 1);
    return 0;
}

/* The value of a parameter as --scenario-param takes it; NULL for a type it cannot be. */
static char *param_value(lua_State *L, int idx) {
    char buf[1024];
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
        snprintf(buf, sizeof buf, "%.17g", lua_tonumber(L, idx));
        return strdup(buf);
    case LUA_TSTRING:
        return strdup(lua_tostring(L, idx));
    case LUA_TBOOLEAN:
        return strdup(lua_toboolean(L, idx) ? "true" : "false");
    case LUA_TTABLE: { /* a list: comma-separated */
        size_t used = 0;
        buf[0] = '\0';
        for (int i = 1; i <= (int)lua_objlen(L, idx); i++) {
            lua_rawgeti(L, idx, i);
            const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
            int w = s ? snprintf(buf + used, sizeof buf - used, "%s%s", i > 1 ? "," : "", s) : -1;
            lua_pop(L, 1);
            if (w < 0 || (size_t)w >= sizeof buf - used) return NULL;
            used += (size_t)w;
        }
        return strdup(buf);
    }
    }
    return NULL;
}

/* Params table at idx into the job as "key=value" texts; -1 with a message pushed. */
static int take_params(lua_State *L, int idx, sc_job *j) {
    if (lua_isnoneornil(L, idx)) return 0;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *why = NULL;
        char *v = NULL;
        if (lua_type(L, -2) != LUA_TSTRING)
            why = "parameter names must be strings";
        else if (j->nparams == MAX_PARAMS)
            why = "at most 64 parameters";
        else if (!(v = param_value(L, lua_gettop(L))))
            why = "a parameter must be a number, a string, a boolean or a list of strings";
        if (why) {
            lua_pop(L, 2);
            lua_pushnil(L);
            lua_pushstring(L, why);
            lua_pushstring(L, "invalid");
            return -1;
        }
        size_t n = strlen(lua_tostring(L, -2)) + strlen(v) + 2;
        char *kv = malloc(n);
        if (kv) snprintf(kv, n, "%s=%s", lua_tostring(L, -2), v);
        free(v);
        if (kv) j->params[j->nparams++] = kv;
        lua_pop(L, 1);
    }
    return 0;
}

static int take_text(lua_State *L, int idx, sc_job *j) {
    size_t n;
    const char *text = luaL_checklstring(L, idx, &n);
    if (!(j->text = malloc(n + 1))) return -1;
    memcpy(j->text, text, n + 1);
    j->len = n;
    return 0;
}

static int sc_list(lua_State *L) {
    return queue(L, job_new(L, JOB_LIST, "host.scenarios.list"));
}

/* host.scenarios.prepare(design_text, name, duration, params [, plugins]) */
static int sc_prepare(lua_State *L) {
    char name[NAME_MAX_LEN + 1];
    luaL_checkstring(L, 1);
    if (check_name(L, 2, name)) return 3;
    double duration = luaL_checknumber(L, 3);
    sc_job *j = job_new(L, JOB_PREPARE, "host.scenarios.prepare");
    memcpy(j->name, name, sizeof name);
    j->duration = duration;
    if (take_params(L, 4, j)) {
        job_free(j);
        return 3;
    }
    if (take_text(L, 1, j)) {
        job_free(j);
        return luaL_error(L, "out of memory");
    }
    j->sources = sdsim_api_job_sources(L, 5);
    return queue(L, j);
}

/* host.scenarios.attach(sim_id, design_text [, summary]) */
static int sc_attach(lua_State *L) {
    sdsim_live *l = sdsim_api_live_get(luaL_checkstring(L, 1));
    size_t n;
    const char *text = luaL_checklstring(L, 2, &n);
    const char *summary = luaL_optstring(L, 3, NULL);
    if (!l || sdsim_live_keep_source(l, text, n)) return lua_pushnil(L), 1;
    if (summary && summary[0]) {
        char label[1100];
        snprintf(label, sizeof label, "scenario %s", summary);
        sdsim_live_notice(l, "scenario", -1, label);
        sdsim_live_add_scenario(l, summary);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* host.scenarios.apply(sim_id, name, params [, plugins]) */
static int sc_apply(lua_State *L) {
    const char *id = luaL_checkstring(L, 1);
    char name[NAME_MAX_LEN + 1];
    if (check_name(L, 2, name)) return 3;
    sdsim_live *l = sdsim_api_live_get(id);
    size_t n = 0;
    const char *text = l ? sdsim_live_source(l, &n) : NULL;
    if (!text) {
        lua_pushnil(L);
        lua_pushstring(L, l ? "this simulation did not keep its design: scenarios cannot be "
                              "applied to it"
                            : "the simulation has ended");
        lua_pushstring(L, l ? "unsupported" : "ended");
        return 3;
    }
    sdsim_live_status st;
    sdsim_live_status_get(l, &st);
    if (st.state != SDSIM_LIVE_RUNNING && st.state != SDSIM_LIVE_PAUSED) {
        lua_pushnil(L);
        lua_pushstring(L, "the simulation has ended");
        lua_pushstring(L, "ended");
        return 3;
    }
    sc_job *j = job_new(L, JOB_APPLY, "host.scenarios.apply");
    memcpy(j->name, name, sizeof name);
    snprintf(j->id, sizeof j->id, "%s", id);
    /* default times scale with what is left of the run (at least a second) */
    j->duration = st.duration - st.sim_time > 1 ? st.duration - st.sim_time : 1;
    if (take_params(L, 3, j)) {
        job_free(j);
        return 3;
    }
    if (!(j->text = malloc(n + 1))) {
        job_free(j);
        return luaL_error(L, "out of memory");
    }
    memcpy(j->text, text, n);
    j->text[n] = 0;
    j->len = n;
    j->sources = sdsim_api_job_sources(L, 4);
    return queue(L, j);
}

/* host.scenarios.applied(sim_id) -> {summary...} (the scenarios applied, in order) | nil */
static int sc_applied(lua_State *L) {
    sdsim_live *l = sdsim_api_live_get(luaL_checkstring(L, 1));
    if (!l) return lua_pushnil(L), 1;
    lua_newtable(L);
    const char *s;
    for (int i = 0; (s = sdsim_live_scenario_at(l, i)); i++) {
        lua_pushstring(L, s);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

void sdsim_api_scenarios_register(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"applied", sc_applied}, {"list", sc_list},   {"prepare", sc_prepare},
        {"attach", sc_attach},   {"apply", sc_apply}, {NULL, NULL},
    };
    g.srv = sdsim_api_server(sdsim_api_of(L));
    if (!g.mu_ready) {
        uv_mutex_init(&g.mu);
        g.mu_ready = 1;
    }
    lua_newtable(L);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    lua_setfield(L, -2, "scenarios");
}
