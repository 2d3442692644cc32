/* Live simulations for the API's Lua handlers (host.live.*) and the WebSocket bindings they
 * use (host.ws_*). A registry of the live simulations of this process by id, each with the user
 * who owns it; every run is a row of simulation_sessions in the store (its id is the row's), so
 * that its end state and final report outlive the process.
 *
 * Life of a run: host.live.prepare validates the design on a worker thread; host.live.start
 * reserves a place (the user's and the server's concurrency limits are counted here,
 * atomically on the loop thread), creates the session row, then starts the run
 * (host/live_sim.h). Frames go to the subscribed WebSockets as they come; at the end the
 * state, figures and report are written to the row, then the run stays in memory for
 * KEEP_ENDED_S (late subscribers and report readers are served from memory) and is freed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "api.h"
#include "api_scenarios.h"
#include "design_load.h"
#include "json_writer.h"
#include "live_cluster.h"
#include "live_sim.h"
#include "log.h"
#include "lua_state.h"
#include "store.h"

#define KEEP_ENDED_S 30.0 /* an ended run stays in memory this long once persisted */
#define MAX_ENDED_KEPT 64 /* and no more than this many ended runs are kept */
#define MAX_WAITERS 16    /* handlers waiting for one run to end (stop) */
#define SWEEP_MS 1000
#define DEFAULT_SERVER_MAX 8 /* live runs at once in this process (SDSIM_LIVE_MAX) */
#define PREP_MT "sdsim.LiveDesign"

typedef struct live_entry {
    char id[40], owner[40], project[40];
    char token[64]; /* its member in the owner's set of runs on every host (live_cluster.h) */
    int64_t started_at, ended_ms; /* ms since the epoch (the store's clock) */
    sdsim_live *live;             /* NULL while starting */
    int ended;
    sdsim_live_state end_state;
    int persisted;
    double ended_at;
    sdsim_api_call *waiters[MAX_WAITERS];
    int nwaiters;
    struct live_entry *next;
} live_entry;

static struct {
    sdsim_server *srv;
    live_entry *head;
    uv_timer_t sweep;
    int sweep_on;
    int server_max;
} g;

static const char *state_name(sdsim_live_state s) {
    switch (s) {
    case SDSIM_LIVE_RUNNING:
        return "running";
    case SDSIM_LIVE_PAUSED:
        return "paused";
    case SDSIM_LIVE_FINISHED:
        return "finished";
    case SDSIM_LIVE_STOPPED:
        return "stopped";
    case SDSIM_LIVE_FAILED:
        return "failed";
    }
    return "failed";
}

/* The store's word for a state (simulation_sessions.status). */
static const char *db_status(sdsim_live_state s) {
    return s == SDSIM_LIVE_RUNNING ? "active" : state_name(s);
}

static live_entry *find(const char *id) {
    for (live_entry *e = g.head; e; e = e->next)
        if (e->live && !strcmp(e->id, id)) return e;
    return NULL;
}

/* Runs not yet ended (starting ones included) of owner, or of everyone (owner NULL). */
static int count_active(const char *owner) {
    int n = 0;
    for (live_entry *e = g.head; e; e = e->next)
        if (!e->ended && (!owner || !strcmp(e->owner, owner))) n++;
    return n;
}

/* The /metrics gauge of runs not ended. */
static void count_gauge(void) {
    if (g.srv) g.srv->live_running = count_active(NULL);
}

static void entry_unlink(live_entry *e) {
    for (live_entry **p = &g.head; *p; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            return;
        }
}

static void entry_free(live_entry *e) {
    entry_unlink(e);
    if (e->id[0]) sdsim_cluster_run_forget(e->id);
    if (e->live) sdsim_live_free(e->live);
    free(e);
    count_gauge();
}

static void ignore_reply(void *ud, const sdsim_store_reply *r) {
    if (r->status != SDSIM_STORE_OK)
        sdsim_log(SDSIM_LOG_WARN, "simulation session update: %s",
                  r->error ? r->error : sdsim_store_status_name(r->status));
}

/* ------------------------------------------------------------------------------------- */
/* Sweeping ended runs */

static void sweep(uv_timer_t *t) {
    double now = sdsim_server_now();
    int kept = 0;
    live_entry *next;
    for (live_entry *e = g.head; e; e = next) {
        next = e->next;
        if (!e->ended || !e->persisted) continue;
        /* the list is newest first: past MAX_ENDED_KEPT, older ended runs go at once */
        if (now - e->ended_at > KEEP_ENDED_S || ++kept > MAX_ENDED_KEPT) entry_free(e);
    }
}

static void sweep_start(void) {
    if (g.sweep_on || !g.srv) return;
    uv_timer_init(&g.srv->loop, &g.sweep);
    uv_timer_start(&g.sweep, sweep, SWEEP_MS, SWEEP_MS);
    uv_unref((uv_handle_t *)&g.sweep); /* it must not keep the loop alive */
    g.sweep_on = 1;
}

/* ------------------------------------------------------------------------------------- */
/* Callbacks of the runs (loop thread) */

static void on_frame(sdsim_live *live, const uint8_t *frame, size_t len, void *ud) {
    live_entry *e = ud;
    sdsim_ws_frame(g.srv, e->id, frame, len);
    sdsim_cluster_run_frame(e->id, frame, len);
}

static void persisted(void *ud, const sdsim_store_reply *r) {
    char *id = ud;
    if (r->status != SDSIM_STORE_OK)
        sdsim_log(SDSIM_LOG_WARN, "simulation %s: its end was not written: %s", id,
                  r->error ? r->error : sdsim_store_status_name(r->status));
    live_entry *e = find(id);
    if (e && !e->persisted) {
        e->persisted = 1;
        g.srv->live_pending--;
    }
    free(id);
}

/* {"simTime":..,"events":..,"wallSeconds":..,"speed":..,"error":..} for resource_usage. */
static char *usage_json(const sdsim_live_status *st) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    sdsim_json w;
    sdsim_json_init(&w, f, 0);
    sdsim_json_object_begin(&w);
    sdsim_json_kv_number(&w, "simTime", st->sim_time);
    sdsim_json_kv_integer(&w, "events", (long long)st->events);
    sdsim_json_kv_number(&w, "wallSeconds", st->wall_seconds);
    sdsim_json_kv_number(&w, "speed", st->speed);
    if (st->error[0]) sdsim_json_kv_string(&w, "error", st->error);
    sdsim_json_object_end(&w);
    fclose(f);
    return text;
}

/* The run's end into its session row (state, figures, report). */
static void persist(live_entry *e) {
    sdsim_store *store = sdsim_api_store_handle();
    char *id = strdup(e->id);
    if (!store || !id) {
        sdsim_log(SDSIM_LOG_WARN, "simulation %s ended while the store is closed: not written",
                  e->id);
        free(id);
        e->persisted = 1;
        g.srv->live_pending--;
        return;
    }
    sdsim_live_status st;
    sdsim_live_status_get(e->live, &st);
    size_t n = 0;
    char *report = sdsim_live_report_json(e->live, &n);
    char *usage = usage_json(&st);
    sdsim_store_session_update(store, e->id, db_status(e->end_state), usage, report, persisted, id);
    free(report);
    free(usage);
}

static void on_end(sdsim_live *live, sdsim_live_state state, void *ud) {
    live_entry *e = ud;
    e->ended = 1;
    e->end_state = state;
    count_gauge();
    e->ended_at = sdsim_server_now();
    sdsim_store *store = sdsim_api_store_handle();
    e->ended_ms = store ? sdsim_store_now(store) : 0;
    sdsim_ws_ended(g.srv, e->id, state_name(state));
    sdsim_cluster_run_end(e->id, state_name(state));
    persist(e);
    /* Handlers waiting for the end (stop) go on. */
    int n = e->nwaiters;
    sdsim_api_call *w[MAX_WAITERS];
    memcpy(w, e->waiters, sizeof w);
    e->nwaiters = 0;
    for (int i = 0; i < n; i++) {
        lua_pushboolean(sdsim_api_call_thread(w[i]), 1);
        sdsim_api_call_resume(w[i], 1);
    }
}

/* ------------------------------------------------------------------------------------- */
/* host.live.prepare(design_text[, plugins]) -> design, info | nil, message, code, problems
 * plugins: the caller's own component types {{name =, source =}...}. */

typedef struct prep_job {
    uv_work_t work;
    sdsim_api_call *call;
    char *text;
    size_t len;
    sim_design *design;
    sdsim_problems problems;
    sdsim_lua_sources *sources; /* the hot-reload registry's types (NULL: the disk) */
} prep_job;

typedef struct live_prep {
    sim_design *design; /* NULL once a run took it */
} live_prep;

static void prep_work(uv_work_t *w) {
    prep_job *j = w->data;
    sdsim_lua_sources *outer = sdsim_lua_sources_use(j->sources);
    j->design = sdsim_load_design_json(j->text, j->len, &j->problems);
    sdsim_lua_sources_use(outer);
}

static void set_str(lua_State *L, const char *k, const char *v) {
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static void set_num(lua_State *L, const char *k, double v) {
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

/* {name, components = {{index, id, type}...}, edges = {{index, from, to, mode}...}} */
static void push_shape(lua_State *L, const sim_design *d) {
    lua_createtable(L, 0, 3);
    set_str(L, "name", d->name);
    lua_createtable(L, d->ncomponents, 0);
    for (int i = 0; i < d->ncomponents; i++) {
        lua_createtable(L, 0, 3);
        set_num(L, "index", i);
        set_str(L, "id", d->components[i].id);
        set_str(L, "type",
                d->components[i].type[0] ? d->components[i].type
                                         : sim_behavior_name(d->components[i].behavior));
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "components");
    lua_createtable(L, d->nedges, 0);
    for (int i = 0; i < d->nedges; i++) {
        const sim_edge *e = &d->edges[i];
        lua_createtable(L, 0, 4);
        set_num(L, "index", i);
        set_str(L, "from", d->components[e->from].id);
        set_str(L, "to", d->components[e->to].id);
        set_str(L, "mode", sim_edge_mode_name(e->mode));
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "edges");
}

static void prep_done(uv_work_t *w, int status) {
    prep_job *j = w->data;
    g.srv->jobs_running--;
    lua_State *co = sdsim_api_call_thread(j->call);
    int n;
    if (j->design) {
        live_prep *p = lua_newuserdata(co, sizeof *p);
        p->design = j->design;
        luaL_getmetatable(co, PREP_MT);
        lua_setmetatable(co, -2);
        push_shape(co, j->design);
        n = 2;
    } else {
        lua_pushnil(co);
        lua_pushfstring(co, "the design has %d problem%s", j->problems.n,
                        j->problems.n == 1 ? "" : "s");
        lua_pushstring(co, status == UV_ECANCELED ? "cancelled" : "invalid");
        lua_createtable(co, j->problems.n, 0);
        for (int i = 0; i < j->problems.n; i++) {
            lua_createtable(co, 0, 2);
            set_str(co, "path", j->problems.items[i].path);
            set_str(co, "reason", j->problems.items[i].reason);
            lua_rawseti(co, -2, i + 1);
        }
        n = 4;
    }
    sdsim_api_call *call = j->call;
    sdsim_problems_free(&j->problems);
    sdsim_lua_sources_unref(j->sources);
    free(j->text);
    free(j);
    sdsim_api_call_resume(call, n);
}

static int live_prepare(lua_State *L) {
    size_t n;
    const char *text = luaL_checklstring(L, 1, &n);
    sdsim_api_call *c = sdsim_api_call_check(L, "host.live.prepare");
    prep_job *j = calloc(1, sizeof *j);
    if (!j || !(j->text = malloc(n + 1))) {
        free(j);
        return luaL_error(L, "out of memory");
    }
    memcpy(j->text, text, n + 1);
    j->len = n;
    j->call = c;
    j->work.data = j;
    /* The registry's types plus the caller's plugins (arg 2, plugins.lua's sources_of):
     * declarative ones only run live (live_sim refuses Lua behaviours of a user's plugin). */
    j->sources = sdsim_api_job_sources(L, 2);
    if (uv_queue_work(&g.srv->loop, &j->work, prep_work, prep_done) != 0) {
        sdsim_lua_sources_unref(j->sources);
        free(j->text);
        free(j);
        return luaL_error(L, "host.live.prepare: cannot queue the work");
    }
    g.srv->jobs_running++;
    sdsim_api_call_wait(c);
    return lua_yield(L, 0);
}

static int prep_gc(lua_State *L) {
    live_prep *p = luaL_checkudata(L, 1, PREP_MT);
    sim_design_free(p->design);
    p->design = NULL;
    return 0;
}

/* For api_scenarios.c (host/api_scenarios.h): a design loaded elsewhere, pushed as
 * host.live.prepare's two results (the design, owned by Lua from now on, and its shape); and
 * a run still in memory (ended or not), by id. */
void sdsim_api_live_push_prepared(lua_State *co, sim_design *d) {
    live_prep *p = lua_newuserdata(co, sizeof *p);
    p->design = d;
    luaL_getmetatable(co, PREP_MT);
    lua_setmetatable(co, -2);
    push_shape(co, d);
}

sdsim_live *sdsim_api_live_get(const char *id) {
    live_entry *e = find(id);
    return e ? e->live : NULL;
}

/* ------------------------------------------------------------------------------------- */
/* host.live.start(design, opts) -> id | nil, message, code
 * opts: owner, project (or nil), config (JSON text for the session row), duration, warmup,
 * seed, speed, start_paused, max_concurrent (the owner's limit). code: "user_limit",
 * "server_limit", "shutting_down", "failed". */

typedef struct start_ctx {
    live_entry *entry;
    sdsim_api_call *call;
    sim_design *design;
    sdsim_live_opts opts;
    int user_max;           /* with Redis: the owner's limit, counted on every host */
    char *project, *config; /* for the session row, created once the count allowed it */
} start_ctx;

static double opt_num(lua_State *L, int t, const char *k, double def) {
    lua_getfield(L, t, k);
    double v = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : def;
    lua_pop(L, 1);
    return v;
}

static const char *opt_str(lua_State *L, int t, const char *k) {
    lua_getfield(L, t, k);
    const char *v = lua_tostring(L, -1); /* stays valid: the table holds the string */
    lua_pop(L, 1);
    return v;
}

static int start_fail(lua_State *L, const char *code, const char *msg) {
    lua_pushnil(L);
    lua_pushstring(L, msg);
    lua_pushstring(L, code);
    return 3;
}

static void start_resume_error(start_ctx *x, const char *code, const char *msg) {
    if (sdsim_cluster_on()) sdsim_cluster_release(x->entry->owner, x->entry->token);
    lua_State *co = sdsim_api_call_thread(x->call);
    lua_pushnil(co);
    lua_pushstring(co, msg);
    lua_pushstring(co, code);
    sdsim_api_call *call = x->call;
    entry_free(x->entry);
    sim_design_free(x->design);
    free(x);
    sdsim_api_call_resume(call, 3);
}

static void session_created(void *ud, const sdsim_store_reply *r) {
    start_ctx *x = ud;
    if (sdsim_api_store_closing()) { /* shutdown: the handler is dropped with its call */
        entry_free(x->entry);
        sim_design_free(x->design);
        free(x);
        return;
    }
    if (r->status != SDSIM_STORE_OK || r->n < 1) {
        start_resume_error(x, r->status == SDSIM_STORE_UNAVAILABLE ? "unavailable" : "failed",
                           r->error ? r->error : "the session could not be created");
        return;
    }
    live_entry *e = x->entry;
    snprintf(e->id, sizeof e->id, "%s", r->sessions[0].id);
    if (r->sessions[0].project_id)
        snprintf(e->project, sizeof e->project, "%s", r->sessions[0].project_id);
    e->started_at = r->sessions[0].started_at;
    snprintf(x->opts.id, sizeof x->opts.id, "%s", e->id);
    sdsim_store *store = sdsim_api_store_handle();
    if (g.srv->draining) {
        if (store) sdsim_store_session_update(store, e->id, "stopped", NULL, NULL, ignore_reply, 0);
        start_resume_error(x, "shutting_down", "the server is shutting down");
        return;
    }
    sdsim_live_callbacks cb = {.on_frame = on_frame, .on_end = on_end, .ud = e};
    char err[512] = "";
    sdsim_live *l = sdsim_live_start(&g.srv->loop, x->design, &x->opts, &cb, err, sizeof err);
    if (!l) {
        if (store) sdsim_store_session_update(store, e->id, "failed", NULL, NULL, ignore_reply, 0);
        start_resume_error(x, "failed", err[0] ? err : "the run could not start");
        return;
    }
    x->design = NULL; /* the run owns it */
    e->live = l;
    sdsim_cluster_run_begin(e->id, e->owner, e->token);
    g.srv->live_pending++;
    sweep_start();
    if (x->opts.start_paused && store)
        sdsim_store_session_update(store, e->id, "paused", NULL, NULL, ignore_reply, 0);
    lua_State *co = sdsim_api_call_thread(x->call);
    lua_pushstring(co, e->id);
    sdsim_api_call *call = x->call;
    free(x);
    sdsim_api_call_resume(call, 1);
}

/* With Redis, the owner's runs on every host are counted (this one included) before the
 * session row is made: over the limit, the place is given back. */
static void reserved(void *ud, int status, int64_t n) {
    start_ctx *x = ud;
    char *project = x->project, *config = x->config;
    x->project = x->config = NULL;
    sdsim_store *store = sdsim_api_store_handle();
    if (!store || sdsim_api_store_closing()) {
        entry_free(x->entry);
        sim_design_free(x->design);
        free(x);
    } else if (status == 0 && x->user_max >= 0 && n > x->user_max) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "concurrent simulation limit reached: your plan allows %d at once (%d running "
                 "on all hosts); stop one first",
                 x->user_max, (int)n - 1);
        start_resume_error(x, "user_limit", msg);
    } else {
        sdsim_store_session_create(store, x->entry->owner, project, config, session_created, x);
    }
    free(project);
    free(config);
}

static int live_start(lua_State *L) {
    live_prep *p = luaL_checkudata(L, 1, PREP_MT);
    luaL_checktype(L, 2, LUA_TTABLE);
    const char *owner = opt_str(L, 2, "owner"), *project = opt_str(L, 2, "project");
    const char *config = opt_str(L, 2, "config");
    if (!owner) return luaL_error(L, "host.live.start: opts.owner is required");
    if (!p->design) return luaL_error(L, "host.live.start: this design was already started");
    sdsim_api_call *c = sdsim_api_call_check(L, "host.live.start");
    sdsim_store *store = sdsim_api_store_handle();
    if (g.srv->draining || !store)
        return start_fail(L, "shutting_down", "the server is shutting down");
    int user_max = (int)opt_num(L, 2, "max_concurrent", 1);
    char msg[200];
    if (count_active(NULL) >= g.server_max) {
        snprintf(msg, sizeof msg,
                 "the server runs %d live simulations, its limit: try again in a minute",
                 g.server_max);
        return start_fail(L, "server_limit", msg);
    }
    if (user_max >= 0 && count_active(owner) >= user_max) {
        snprintf(msg, sizeof msg,
                 "concurrent simulation limit reached: your plan allows %d at once; stop one "
                 "first",
                 user_max);
        return start_fail(L, "user_limit", msg);
    }
    start_ctx *x = calloc(1, sizeof *x);
    live_entry *e = calloc(1, sizeof *e);
    if (!x || !e) {
        free(x);
        free(e);
        return luaL_error(L, "out of memory");
    }
    snprintf(e->owner, sizeof e->owner, "%s", owner);
    e->next = g.head; /* reserved: counted from now on, found by id once it has one */
    g.head = e;
    count_gauge();
    x->entry = e;
    x->call = c;
    x->design = p->design;
    p->design = NULL;
    x->opts.duration = opt_num(L, 2, "duration", 60);
    x->opts.warmup = opt_num(L, 2, "warmup", 0);
    x->opts.seed = (uint64_t)opt_num(L, 2, "seed", 1);
    x->opts.speed = opt_num(L, 2, "speed", 1);
    lua_getfield(L, 2, "start_paused");
    x->opts.start_paused = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (sdsim_cluster_on()) {
        x->user_max = user_max;
        x->project = project ? strdup(project) : NULL;
        x->config = config ? strdup(config) : NULL;
        sdsim_cluster_token(e->token, sizeof e->token);
        sdsim_cluster_reserve(owner, e->token, reserved, x);
    } else {
        sdsim_store_session_create(store, owner, project, config, session_created, x);
    }
    sdsim_api_call_wait(c);
    return lua_yield(L, 0);
}

/* ------------------------------------------------------------------------------------- */
/* Status and control */

/* The run of this id, or raises: handlers look it up with host.live.status first. */
static live_entry *check_entry(lua_State *L, int idx) {
    const char *id = luaL_checkstring(L, idx);
    live_entry *e = find(id);
    if (!e) luaL_error(L, "no live simulation %s", id);
    return e;
}

/* host.live.status(id) -> {id, owner, projectId, startedAt, state, simTime, duration, speed,
 * events, wallSeconds, error, ended, name, components, edges} | nil (not in memory) */
/* status.workload: each source (design order) with its target and, for an open source of a
 * run still going, the rate in force now (requests/s). */
static void push_workload(lua_State *L, live_entry *e) {
    const sim_design *d = sdsim_live_design(e->live);
    lua_createtable(L, d->nworkloads, 0);
    for (int i = 0; i < d->nworkloads; i++) {
        const sim_workload *w = &d->workloads[i];
        lua_createtable(L, 0, 4);
        set_num(L, "index", i);
        set_str(L, "to", d->components[w->to].id);
        set_str(L, "kind", w->closed ? "closed" : "open");
        double rps = w->closed || e->ended ? -1 : sdsim_live_rate(e->live, i);
        if (rps >= 0) set_num(L, "rps", rps);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "workload");
}

static int live_status(lua_State *L) {
    live_entry *e = find(luaL_checkstring(L, 1));
    if (!e) return lua_pushnil(L), 1;
    sdsim_live_status st;
    sdsim_live_status_get(e->live, &st);
    sdsim_live_state state = e->ended ? e->end_state : st.state;
    push_shape(L, sdsim_live_design(e->live));
    set_str(L, "id", e->id);
    set_str(L, "owner", e->owner);
    if (e->project[0]) set_str(L, "projectId", e->project);
    set_num(L, "startedAt", (double)e->started_at);
    if (e->ended_ms) set_num(L, "endedAt", (double)e->ended_ms);
    set_str(L, "state", state_name(state));
    set_num(L, "simTime", st.sim_time);
    set_num(L, "duration", st.duration);
    set_num(L, "speed", st.speed);
    set_num(L, "events", (double)st.events);
    set_num(L, "wallSeconds", st.wall_seconds);
    if (st.error[0]) set_str(L, "error", st.error);
    push_workload(L, e);
    lua_pushboolean(L, e->ended);
    lua_setfield(L, -2, "ended");
    return 1;
}

/* host.live.count([owner]) -> runs not ended (of owner, or all); also the server's limit */
static int live_count(lua_State *L) {
    const char *owner = lua_isnoneornil(L, 1) ? NULL : luaL_checkstring(L, 1);
    lua_pushinteger(L, count_active(owner));
    lua_pushinteger(L, g.server_max);
    return 2;
}

static int control_result(lua_State *L, int rc, const char *err) {
    if (rc == 0) return lua_pushboolean(L, 1), 1;
    lua_pushnil(L);
    lua_pushstring(L, err[0] ? err : "refused");
    return 2;
}

static int ended_error(lua_State *L, live_entry *e) {
    lua_pushnil(L);
    lua_pushfstring(L, "the simulation has %s",
                    e->end_state == SDSIM_LIVE_FAILED    ? "failed"
                    : e->end_state == SDSIM_LIVE_STOPPED ? "been stopped"
                                                         : "finished");
    return 2;
}

static void db_state(live_entry *e, const char *status) {
    sdsim_store *store = sdsim_api_store_handle();
    if (store) sdsim_store_session_update(store, e->id, status, NULL, NULL, ignore_reply, NULL);
    sdsim_cluster_run_state(e->id); /* the lease says so at once */
}

/* host.live.pause(id), resume(id) -> true | nil, message */
static int live_pause(lua_State *L) {
    live_entry *e = check_entry(L, 1);
    if (e->ended) return ended_error(L, e);
    char err[256] = "";
    int rc = sdsim_live_pause(e->live, err, sizeof err);
    if (rc == 0) db_state(e, "paused");
    return control_result(L, rc, err);
}

static int live_resume(lua_State *L) {
    live_entry *e = check_entry(L, 1);
    if (e->ended) return ended_error(L, e);
    char err[256] = "";
    int rc = sdsim_live_resume(e->live, err, sizeof err);
    if (rc == 0) db_state(e, "active");
    return control_result(L, rc, err);
}

/* host.live.step(id, seconds) */
static int live_step(lua_State *L) {
    live_entry *e = check_entry(L, 1);
    double s = luaL_checknumber(L, 2);
    if (e->ended) return ended_error(L, e);
    char err[256] = "";
    int rc = sdsim_live_step(e->live, s, err, sizeof err);
    if (rc == 0) db_state(e, "paused");
    return control_result(L, rc, err);
}

/* host.live.speed(id, speed) */
static int live_speed(lua_State *L) {
    live_entry *e = check_entry(L, 1);
    double v = luaL_checknumber(L, 2);
    if (e->ended) return ended_error(L, e);
    char err[256] = "";
    int rc = sdsim_live_set_speed(e->live, v, err, sizeof err);
    if (rc == 0) sdsim_cluster_run_state(e->id);
    return control_result(L, rc, err);
}

/* host.live.replicas(id, component_index (0-based), n) */
static int live_replicas(lua_State *L) {
    live_entry *e = check_entry(L, 1);
    int comp = (int)luaL_checkinteger(L, 2), n = (int)luaL_checkinteger(L, 3);
    if (e->ended) return ended_error(L, e);
    char err[256] = "";
    return control_result(L, sdsim_live_set_replicas(e->live, comp, n, err, sizeof err), err);
}

/* host.live.rate(id, source_index (0-based), rps) */
static int live_rate(lua_State *L) {
    live_entry *e = check_entry(L, 1);
    int src = (int)luaL_checkinteger(L, 2);
    double rps = luaL_checknumber(L, 3);
    if (e->ended) return ended_error(L, e);
    char err[256] = "";
    return control_result(L, sdsim_live_set_rate(e->live, src, rps, err, sizeof err), err);
}

/* host.live.inject(id, {kind, target (component or edge index, 0-based), duration, value,
 * multiply, replica, zone}); the fault starts now. */
static int live_inject(lua_State *L) {
    live_entry *e = check_entry(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    const char *kind = opt_str(L, 2, "kind"), *zone = opt_str(L, 2, "zone");
    int k = kind ? sim_fault_kind_parse(kind) : -1;
    if (k < 0) return luaL_error(L, "host.live.inject: unknown fault kind %s", kind ? kind : "nil");
    if (e->ended) return ended_error(L, e);
    sim_fault f = sim_fault_defaults((sim_fault_kind)k);
    sdsim_live_status st;
    sdsim_live_status_get(e->live, &st);
    f.at = st.sim_time;
    f.duration = opt_num(L, 2, "duration", 0);
    f.target = (int)opt_num(L, 2, "target", 0);
    f.replica = (int)opt_num(L, 2, "replica", -1);
    f.value = opt_num(L, 2, "value", f.value);
    lua_getfield(L, 2, "multiply");
    f.multiply = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (zone) snprintf(f.zone, sizeof f.zone, "%s", zone);
    char err[256] = "";
    return control_result(L, sdsim_live_inject(e->live, &f, err, sizeof err), err);
}

/* host.live.stop(id) -> true, once the run has ended (yields until then) */
static int live_stop(lua_State *L) {
    live_entry *e = check_entry(L, 1);
    if (e->ended) return lua_pushboolean(L, 1), 1;
    sdsim_api_call *c = sdsim_api_call_check(L, "host.live.stop");
    if (e->nwaiters == MAX_WAITERS) return luaL_error(L, "too many handlers wait for this run");
    e->waiters[e->nwaiters++] = c;
    sdsim_live_stop(e->live);
    sdsim_api_call_wait(c);
    return lua_yield(L, 0);
}

/* host.live.report(id) -> the report's JSON text | nil (not ended, or failed) */
static int live_report(lua_State *L) {
    live_entry *e = check_entry(L, 1);
    size_t n = 0;
    char *r = e->ended ? sdsim_live_report_json(e->live, &n) : NULL;
    if (!r) return lua_pushnil(L), 1;
    lua_pushlstring(L, r, n);
    free(r);
    return 1;
}

/* ------------------------------------------------------------------------------------- */
/* Sessions in the store: host.live.session(id), host.live.sessions(owner, limit)
 * -> rows {id, user_id, project_id, status, simulation_config, resource_usage, report,
 * started_at, ended_at} (one, or an array) | nil, status */

static void push_session(lua_State *L, const sdsim_sim_session *s) {
    lua_createtable(L, 0, 9);
    const char *k[] = {
        "id", "user_id", "project_id", "status", "simulation_config", "resource_usage", "report"};
    const char *v[] = {s->id,     s->user_id,           s->project_id,
                       s->status, s->simulation_config, s->resource_usage,
                       s->report};
    for (int i = 0; i < 7; i++)
        if (v[i]) set_str(L, k[i], v[i]);
    set_num(L, "started_at", (double)s->started_at);
    set_num(L, "ended_at", (double)s->ended_at);
}

typedef struct session_wait {
    sdsim_api_call *call;
    int many;
} session_wait;

static void session_done(void *ud, const sdsim_store_reply *r) {
    session_wait *w = ud;
    sdsim_api_call *c = w->call;
    int many = w->many;
    free(w);
    if (sdsim_api_store_closing()) return;
    lua_State *co = sdsim_api_call_thread(c);
    if (r->status != SDSIM_STORE_OK) {
        lua_pushnil(co);
        lua_pushstring(co, sdsim_store_status_name(r->status));
        sdsim_api_call_resume(c, 2);
        return;
    }
    if (many) {
        lua_createtable(co, r->n, 0);
        for (int i = 0; i < r->n; i++) {
            push_session(co, &r->sessions[i]);
            lua_rawseti(co, -2, i + 1);
        }
    } else {
        push_session(co, &r->sessions[0]);
    }
    sdsim_api_call_resume(c, 1);
}

static int session_wait_for(lua_State *L, const char *fname, int many, session_wait **out) {
    sdsim_api_call *c = sdsim_api_call_check(L, fname);
    if (!sdsim_api_store_handle()) return luaL_error(L, "%s: the store is not open", fname);
    session_wait *w = calloc(1, sizeof *w);
    if (!w) return luaL_error(L, "out of memory");
    w->call = c;
    w->many = many;
    *out = w;
    sdsim_api_call_wait(c);
    return 0;
}

static int live_session(lua_State *L) {
    const char *id = luaL_checkstring(L, 1);
    session_wait *w;
    session_wait_for(L, "host.live.session", 0, &w);
    sdsim_store_session_get(sdsim_api_store_handle(), id, session_done, w);
    return lua_yield(L, 0);
}

static int live_sessions(lua_State *L) {
    const char *owner = luaL_checkstring(L, 1);
    int limit = (int)luaL_optinteger(L, 2, 50);
    session_wait *w;
    session_wait_for(L, "host.live.sessions", 1, &w);
    sdsim_store_session_list(sdsim_api_store_handle(), owner, 0, limit, 0, session_done, w);
    return lua_yield(L, 0);
}

/* ------------------------------------------------------------------------------------- */
/* host.ws_*: the WebSocket connections, by id */

static uint64_t conn_id(lua_State *L, int idx) {
    return (uint64_t)luaL_checknumber(L, idx);
}

/* host.ws_send(conn_id, json_text) -> true | false (the connection is gone) */
static int ws_send(lua_State *L) {
    size_t n;
    uint64_t id = conn_id(L, 1);
    const char *text = luaL_checklstring(L, 2, &n);
    lua_pushboolean(L, sdsim_ws_send_text(g.srv, id, text, n) == 0);
    return 1;
}

/* host.ws_close(conn_id, code, reason) */
static int ws_close(lua_State *L) {
    uint64_t id = conn_id(L, 1);
    int code = (int)luaL_checkinteger(L, 2);
    sdsim_ws_close_conn(g.srv, id, code, luaL_optstring(L, 3, ""));
    return 0;
}

/* host.ws_subscribe(conn_id, sim_id) -> true | nil, message. The latest frame follows at once,
 * and "ended" when the run is over. The caller has checked the owner. */
static int ws_subscribe(lua_State *L) {
    uint64_t id = conn_id(L, 1);
    live_entry *e = check_entry(L, 2);
    size_t len = 0;
    const uint8_t *latest = sdsim_live_last_frame(e->live, &len);
    int rc = sdsim_ws_subscribe(g.srv, id, e->id, latest, len);
    if (rc == -2) {
        lua_pushnil(L);
        lua_pushstring(L, "too many subscriptions on this connection: unsubscribe first");
        return 2;
    }
    if (rc == 0 && e->ended) sdsim_ws_ended(g.srv, e->id, state_name(e->end_state));
    return control_result(L, rc, "the connection is closing");
}

/* host.ws_unsubscribe(conn_id, sim_id) -> true | false (was not subscribed) */
static int ws_unsubscribe(lua_State *L) {
    uint64_t id = conn_id(L, 1);
    lua_pushboolean(L, sdsim_ws_unsubscribe(g.srv, id, luaL_checkstring(L, 2)) == 0);
    return 1;
}

/* ------------------------------------------------------------------------------------- */

void sdsim_api_live_register(lua_State *L) {
    static const luaL_Reg live_fns[] = {
        {"prepare", live_prepare},   {"start", live_start},
        {"status", live_status},     {"count", live_count},
        {"pause", live_pause},       {"resume", live_resume},
        {"step", live_step},         {"speed", live_speed},
        {"replicas", live_replicas}, {"rate", live_rate},
        {"inject", live_inject},     {"stop", live_stop},
        {"report", live_report},     {"session", live_session},
        {"sessions", live_sessions}, {NULL, NULL},
    };
    static const luaL_Reg ws_fns[] = {
        {"ws_send", ws_send},
        {"ws_close", ws_close},
        {"ws_subscribe", ws_subscribe},
        {"ws_unsubscribe", ws_unsubscribe},
        {NULL, NULL},
    };
    g.srv = sdsim_api_server(sdsim_api_of(L));
    const char *max = getenv("SDSIM_LIVE_MAX");
    g.server_max = max && atoi(max) > 0 ? atoi(max) : DEFAULT_SERVER_MAX;
    if (luaL_newmetatable(L, PREP_MT)) {
        lua_pushcfunction(L, prep_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    lua_newtable(L);
    for (const luaL_Reg *f = live_fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    lua_setfield(L, -2, "live");
    for (const luaL_Reg *f = ws_fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    sdsim_api_scenarios_register(L); /* host.scenarios.* (api_scenarios.c) */
    sdsim_cluster_init(g.srv, sdsim_api_of(L));
    sdsim_cluster_register(L); /* host.cluster.* (live_cluster.c) */
}

void sdsim_api_live_stop_all(sdsim_server *srv) {
    for (live_entry *e = g.head; e; e = e->next)
        if (e->live && !e->ended) sdsim_live_stop(e->live);
}

void sdsim_api_live_free_all(void) {
    live_entry *next;
    for (live_entry *e = g.head; e; e = next) {
        next = e->next;
        if (e->live) entry_free(e); /* a starting one is its store callback's to free */
    }
    if (g.sweep_on) uv_close((uv_handle_t *)&g.sweep, NULL);
    g.sweep_on = 0;
    sdsim_cluster_free();
}
