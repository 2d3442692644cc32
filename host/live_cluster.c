/* Live simulations across hosts sharing one Redis: frames over pub/sub, leases, forwarded
 * requests, the per-user count. See host/live_cluster.h and docs/live.md "Several hosts".
 *
 * Two small tables, on the loop thread: the runs this host owns (lease, frame publishing) and
 * the relays (one bus subscription per remote run watched by local sockets). Requests forwarded
 * to other hosts and served for them are live_forward.c's; user sessions live_sessions.c's. */
#include "live_cluster.h"
#include "live_forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

#include "api.h"
#include "api_scenarios.h"
#include "bus.h"
#include "live_sim.h"
#include "log.h"
#include "store.h"

#define LEASE_TTL_S 10
#define LEASE_REFRESH_S 3.0
#define ENDED_TTL_S 30
#define SET_TTL_S 60
#define TICK_MS 500
#define PROBE_S 1.0         /* nobody listens: a frame a second, to notice a new listener */
#define RELAY_SILENCE_S 3.0 /* a relay this quiet checks the lease (a live run sends >= 1/s) */
#define SETTLE_S 4.0        /* after Redis (re)connects, leases may not be rewritten yet */

typedef struct owned {
    char id[40], owner[40], token[64];
    int ended, listeners;
    char end_state[16];
    double next_probe, watched_at;
    struct owned *next;
} owned;

typedef struct relay {
    char sim[40];
    sdsim_bus_sub *sub;
    double last_msg;
    int checking;
    struct relay *next;
} relay;

static struct {
    sdsim_server *srv;
    sdsim_api *api;
    sdsim_bus *bus; /* a bus of its own: frames do not queue behind the API's commands */
    int on, closing;
    char host[20], channel[32];
    uv_timer_t tick;
    int tick_on;
    uint64_t connects;
    int was_connected;
    double connected_at, last_refresh;
    owned *owned;
    relay *relays;
    uint64_t tokens;
    char *pub; /* the frame message being published (grows to the largest frame) */
    size_t pub_cap;
    /* figures for host.cluster.stats() */
    double lat[SDSIM_CLUSTER_SAMPLES], lat_max;
    uint64_t nlat, relayed, published;
} g;

/* The bus, NULL once it is closing (shutdown): checked before every call. */
static sdsim_bus *bus(void) {
    return g.on && !g.closing ? g.bus : NULL;
}

static double epoch_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int connected(void) {
    sdsim_bus *b = bus();
    return b && sdsim_bus_connected(b);
}

int sdsim_cluster_on(void) {
    return g.on;
}

sdsim_bus *sdsim_cluster_bus(void) {
    return bus();
}

const char *sdsim_cluster_host_id(void) {
    return g.on ? g.host : "";
}

/* ------------------------------------------------------------------------------------- */
/* The owner's side: leases, frames, the user's set */

static owned *owned_find(const char *id) {
    for (owned *o = g.owned; o; o = o->next)
        if (!strcmp(o->id, id)) return o;
    return NULL;
}

static const char *live_state_name(sdsim_live_state s) {
    static const char *names[] = {"", "running", "paused", "finished", "stopped", "failed"};
    return s >= SDSIM_LIVE_RUNNING && s <= SDSIM_LIVE_FAILED ? names[s] : "failed";
}

static void lease_write(owned *o) {
    sdsim_bus *b = bus();
    if (!b) return;
    sdsim_live *l = sdsim_api_live_get(o->id);
    sdsim_live_status st = {0};
    if (l) sdsim_live_status_get(l, &st);
    const char *state = o->ended ? o->end_state : l ? live_state_name(st.state) : "running";
    char key[64], val[400];
    snprintf(key, sizeof key, "simulation:%s", o->id);
    int n = snprintf(val, sizeof val,
                     "{\"owner\":\"%s\",\"host\":\"%s\",\"state\":\"%s\",\"simTime\":%.6f,"
                     "\"speed\":%.17g,\"updatedAt\":%.0f}",
                     o->owner, g.host, state, st.sim_time, st.speed, epoch_s() * 1e3);
    sdsim_bus_kv_set(b, key, val, (size_t)n, o->ended ? ENDED_TTL_S : LEASE_TTL_S, NULL, NULL);
}

static void set_key(char *out, size_t n, const char *owner) {
    snprintf(out, n, "user:%s:simulations", owner);
}

static void set_refresh(const char *owner, const char *token) {
    sdsim_bus *b = bus();
    if (!b) return;
    char key[80];
    set_key(key, sizeof key, owner);
    sdsim_bus_zadd(b, key, (epoch_s() + LEASE_TTL_S) * 1e3, token, SET_TTL_S, NULL, NULL);
}

void sdsim_cluster_token(char *out, size_t n) {
    snprintf(out, n, "%s:%llu", g.on ? g.host : "local", (unsigned long long)++g.tokens);
}

void sdsim_cluster_reserve(const char *owner, const char *token, sdsim_cluster_count_cb cb,
                           void *ud) {
    sdsim_bus *b = bus();
    if (!b) return; /* callers only reserve when the cluster is on */
    char key[80];
    set_key(key, sizeof key, owner);
    sdsim_bus_zadd(b, key, (epoch_s() + LEASE_TTL_S) * 1e3, token, SET_TTL_S, NULL, NULL);
    sdsim_bus_zcount_from(b, key, epoch_s() * 1e3, cb, ud);
}

void sdsim_cluster_release(const char *owner, const char *token) {
    sdsim_bus *b = bus();
    if (!b) return;
    char key[80];
    set_key(key, sizeof key, owner);
    sdsim_bus_zrem(b, key, token, NULL, NULL);
}

void sdsim_cluster_run_begin(const char *id, const char *owner, const char *token) {
    if (!g.on) return;
    owned *o = calloc(1, sizeof *o);
    if (!o) return;
    snprintf(o->id, sizeof o->id, "%s", id);
    snprintf(o->owner, sizeof o->owner, "%s", owner);
    snprintf(o->token, sizeof o->token, "%s", token);
    o->next = g.owned;
    g.owned = o;
    lease_write(o);
    set_refresh(owner, token);
}

void sdsim_cluster_run_state(const char *id) {
    owned *o = g.on ? owned_find(id) : NULL;
    if (o && !o->ended) lease_write(o);
}

static void frame_counted(void *ud, int status, int64_t n) {
    owned *o = owned_find(ud);
    double now = sdsim_server_now();
    /* A frame published before a new listener's SUBSCRIBE reached Redis counts 0: for a second
     * after a watch, such a count does not stop the frames. */
    if (o && status == 0 && (n > 0 || now - o->watched_at > PROBE_S)) {
        o->listeners = n > 0;
        if (!n && o->next_probe < now) o->next_probe = now + PROBE_S;
    }
    free(ud);
}

static void publish_frame(owned *o, const uint8_t *frame, size_t len) {
    sdsim_bus *b = bus();
    if (!b) return;
    if (9 + len > g.pub_cap) {
        char *nb = realloc(g.pub, 9 + len);
        if (!nb) return;
        g.pub = nb;
        g.pub_cap = 9 + len;
    }
    uint64_t us = (uint64_t)(epoch_s() * 1e6);
    g.pub[0] = 'F';
    for (int i = 0; i < 8; i++)
        g.pub[1 + i] = (char)(us >> (8 * i) & 0xff);
    memcpy(g.pub + 9, frame, len);
    char channel[64];
    snprintf(channel, sizeof channel, "sim:%s", o->id);
    char *ud = strdup(o->id);
    if (ud) sdsim_bus_publish_count(b, channel, g.pub, 9 + len, frame_counted, ud);
    g.published++;
}

/* Every frame while someone listens (PUBLISH counted receivers last time), else one a second. */
void sdsim_cluster_run_frame(const char *id, const uint8_t *frame, size_t len) {
    owned *o = g.on ? owned_find(id) : NULL;
    if (!o) return;
    double now = sdsim_server_now();
    if (!o->listeners) {
        if (now < o->next_probe) return;
        o->next_probe = now + PROBE_S;
    }
    publish_frame(o, frame, len);
}

void sdsim_cluster_run_end(const char *id, const char *state) {
    owned *o = g.on ? owned_find(id) : NULL;
    sdsim_bus *b = bus();
    if (!o || !b) return;
    o->ended = 1;
    snprintf(o->end_state, sizeof o->end_state, "%s", state);
    char channel[64], msg[20];
    snprintf(channel, sizeof channel, "sim:%s", id);
    int n = snprintf(msg, sizeof msg, "E%s", state);
    sdsim_bus_publish(b, channel, msg, (size_t)n);
    lease_write(o);
    sdsim_cluster_release(o->owner, o->token);
}

void sdsim_cluster_run_forget(const char *id) {
    for (owned **p = &g.owned; *p; p = &(*p)->next)
        if (!strcmp((*p)->id, id)) {
            owned *o = *p;
            *p = o->next;
            free(o);
            return;
        }
}

/* A host that relays this run asked for it: frames flow at once, the latest first. */
static void watched(const char *id) {
    owned *o = owned_find(id);
    sdsim_live *l = o ? sdsim_api_live_get(id) : NULL;
    if (!l) return;
    o->listeners = 1;
    o->watched_at = sdsim_server_now();
    size_t len = 0;
    const uint8_t *f = sdsim_live_last_frame(l, &len);
    if (f && len) publish_frame(o, f, len);
}

/* ------------------------------------------------------------------------------------- */
/* Relays: frames of a remote run to this host's sockets */

static relay *relay_find(const char *sim) {
    for (relay *r = g.relays; r; r = r->next)
        if (!strcmp(r->sim, sim)) return r;
    return NULL;
}

static void relay_drop(relay *r) {
    for (relay **p = &g.relays; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    if (bus() && r->sub) sdsim_bus_unsubscribe(r->sub);
    free(r);
}

static void latency_sample(const char *data) {
    uint64_t us = 0;
    for (int i = 0; i < 8; i++)
        us |= (uint64_t)(unsigned char)data[1 + i] << (8 * i);
    double ms = epoch_s() * 1e3 - us / 1e3;
    g.lat[g.nlat++ % SDSIM_CLUSTER_SAMPLES] = ms;
    if (ms > g.lat_max) g.lat_max = ms;
}

/* The run ended (its end message, or its lease says so or is gone): "ended" to the sockets. */
static void relay_end(relay *r, const char *state) {
    sdsim_ws_ended(g.srv, r->sim, state);
    relay_drop(r);
}

static void relay_msg(void *ud, const char *channel, const char *data, size_t len) {
    relay *r = ud;
    r->last_msg = sdsim_server_now();
    if (len >= 9 && data[0] == 'F') {
        latency_sample(data);
        g.relayed++;
        sdsim_ws_frame(g.srv, r->sim, (const uint8_t *)data + 9, len - 9);
    } else if (len >= 2 && len < 20 && data[0] == 'E') {
        char state[20];
        snprintf(state, sizeof state, "%.*s", (int)len - 1, data + 1);
        relay_end(r, state);
    }
}

static relay *relay_ensure(const char *sim) {
    relay *r = relay_find(sim);
    sdsim_bus *b = bus();
    if (r || !b) return r;
    if (!(r = calloc(1, sizeof *r))) return NULL;
    snprintf(r->sim, sizeof r->sim, "%s", sim);
    char channel[64];
    snprintf(channel, sizeof channel, "sim:%s", sim);
    r->sub = sdsim_bus_subscribe(b, channel, relay_msg, r);
    r->last_msg = sdsim_server_now();
    r->next = g.relays;
    g.relays = r;
    return r;
}

void sdsim_cluster_ws_dropped(const char *sim_id) {
    relay *r = g.on ? relay_find(sim_id) : NULL;
    if (r && sdsim_ws_subscribers(g.srv, sim_id) == 0) relay_drop(r);
}

/* "state":"<word>" of a lease's JSON (written by lease_write, so the form is known). */
static void lease_state(const char *json, char *out, size_t n) {
    const char *p = strstr(json, "\"state\":\"");
    out[0] = '\0';
    if (p) snprintf(out, n, "%.*s", (int)strcspn(p + 9, "\""), p + 9);
}

static void relay_checked(void *ud, int status, const char *value, size_t len) {
    relay *r = relay_find(ud);
    free(ud);
    if (!r) return;
    r->checking = 0;
    r->last_msg = sdsim_server_now();
    if (status != 0) return;
    char state[20] = "stopped";
    if (value) lease_state(value, state, sizeof state);
    if (!value || !strcmp(state, "finished") || !strcmp(state, "stopped") ||
        !strcmp(state, "failed"))
        relay_end(r, state);
}

/* A relay that hears nothing (the end message lost while Redis was away, the owner killed)
 * asks the lease: gone or ended, its sockets get "ended". */
static void relays_check(double now) {
    if (!connected() || now - g.connected_at < SETTLE_S) return;
    for (relay *r = g.relays; r; r = r->next) {
        if (r->checking || now - r->last_msg < RELAY_SILENCE_S) continue;
        char key[64], *ud = strdup(r->sim);
        if (!ud) continue;
        snprintf(key, sizeof key, "simulation:%s", r->sim);
        r->checking = 1;
        sdsim_bus_kv_get(bus(), key, relay_checked, ud);
    }
}

/* ------------------------------------------------------------------------------------- */
/* The tick: leases refreshed, silent relays checked, abandoned requests forgotten */

static void refresh_all(void) {
    for (owned *o = g.owned; o; o = o->next)
        if (!o->ended) {
            lease_write(o);
            set_refresh(o->owner, o->token);
        }
}

static void on_tick(uv_timer_t *t) {
    sdsim_bus *b = bus();
    if (!b) return;
    double now = sdsim_server_now();
    int up = sdsim_bus_connected(b);
    uint64_t connects = sdsim_bus_connects(b);
    if (up && (!g.was_connected || connects != g.connects)) {
        /* Redis is back (maybe empty): the leases are written again at once. */
        g.connected_at = now;
        g.last_refresh = 0;
        if (g.was_connected || connects > 2)
            sdsim_log(SDSIM_LOG_INFO, "cluster: Redis connected again, leases rewritten");
    }
    g.was_connected = up;
    g.connects = connects;
    if (now - g.last_refresh >= LEASE_REFRESH_S) {
        refresh_all();
        g.last_refresh = now;
    }
    relays_check(now);
    sdsim_forward_tick(now);
}

/* ------------------------------------------------------------------------------------- */
/* host.cluster.* */

/* host.cluster.enabled() -> true when --redis was given */
static int c_enabled(lua_State *L) {
    lua_pushboolean(L, g.on);
    return 1;
}

/* host.cluster.host_id() -> this process's random id ("" without Redis) */
static int c_host_id(lua_State *L) {
    lua_pushstring(L, g.on ? g.host : "");
    return 1;
}

/* host.cluster.is_pseudo(conn_id) -> whether the "connection" is a forwarded request */
static int c_is_pseudo(lua_State *L) {
    lua_pushboolean(L, (uint64_t)luaL_checknumber(L, 1) >= SDSIM_CLUSTER_CONN_BASE);
    return 1;
}

static void lease_read(void *ud, int status, const char *value, size_t len) {
    sdsim_api_call *c = ud;
    if (sdsim_api_store_closing()) return;
    lua_State *co = sdsim_api_call_thread(c);
    if (status != 0) {
        lua_pushnil(co);
        lua_pushstring(co, "the lease could not be read");
        sdsim_api_call_resume(c, 2);
    } else if (value) {
        lua_pushlstring(co, value, len);
        sdsim_api_call_resume(c, 1);
    } else if (sdsim_server_now() - g.connected_at < SETTLE_S) {
        lua_pushnil(co);
        lua_pushstring(co, "Redis came back moments ago: try again in a few seconds");
        sdsim_api_call_resume(c, 2);
    } else {
        lua_pushboolean(co, 0);
        sdsim_api_call_resume(c, 1);
    }
}

static void count_read(void *ud, int status, int64_t n) {
    sdsim_api_call *c = ud;
    if (sdsim_api_store_closing()) return;
    lua_State *co = sdsim_api_call_thread(c);
    if (status == 0)
        lua_pushnumber(co, (double)n);
    else
        lua_pushnil(co);
    sdsim_api_call_resume(c, 1);
}

/* host.cluster.count(user_id) -> the user's live runs on every host | nil (no --redis, or
 * Redis is down). Yields. */
static int c_count(lua_State *L) {
    const char *user = luaL_checkstring(L, 1);
    if (!connected()) return lua_pushnil(L), 1;
    sdsim_api_call *c = sdsim_api_call_check(L, "host.cluster.count");
    char key[80];
    set_key(key, sizeof key, user);
    sdsim_bus_zcount_from(bus(), key, epoch_s() * 1e3, count_read, c);
    sdsim_api_call_wait(c);
    return lua_yield(L, 0);
}

/* host.cluster.lease(id) -> the lease's JSON text | false (none) | nil, message (Redis is
 * down: whether the run lives elsewhere cannot be known). Yields. */
static int c_lease(lua_State *L) {
    const char *id = luaL_checkstring(L, 1);
    if (!g.on) return lua_pushboolean(L, 0), 1;
    sdsim_api_call *c = sdsim_api_call_check(L, "host.cluster.lease");
    if (!connected()) {
        lua_pushnil(L);
        lua_pushstring(L, "it is not connected");
        return 2;
    }
    char key[64];
    snprintf(key, sizeof key, "simulation:%s", id);
    sdsim_bus_kv_get(bus(), key, lease_read, c);
    sdsim_api_call_wait(c);
    return lua_yield(L, 0);
}

/* host.cluster.subscribe(conn_id, sim_id) -> true | nil, message: frames of a run on another
 * host go to the connection (one bus subscription per run, whatever the sockets). The caller
 * has checked the owner. */
static int c_subscribe(lua_State *L) {
    uint64_t conn = (uint64_t)luaL_checknumber(L, 1);
    const char *sim = luaL_checkstring(L, 2);
    int rc = g.on ? sdsim_ws_subscribe(g.srv, conn, sim, NULL, 0) : -1;
    if (rc == 0 && relay_ensure(sim)) return lua_pushboolean(L, 1), 1;
    if (rc == 0) sdsim_ws_unsubscribe(g.srv, conn, sim);
    lua_pushnil(L);
    lua_pushstring(L, rc == -2 ? "too many subscriptions on this connection: unsubscribe first"
                               : "the connection is closing");
    return 2;
}

/* host.cluster.watched(sim_id): another host relays this run (its frames flow from now on). */
static int c_watched(lua_State *L) {
    if (g.on) watched(luaL_checkstring(L, 1));
    return 0;
}

static void set_num(lua_State *L, const char *k, double v) {
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

/* host.cluster.stats() -> {host, connected, owned, relays, published, relayed, latencyMs =
 * {n, p50, p99, max}, forwarded, served, timeouts, unreachable, roundTripMs = {n, p50, p99,
 * max, mean}}: latencies of the last 256 frames and requests, ms */
static int c_stats(lua_State *L) {
    lua_createtable(L, 0, 12);
    lua_pushstring(L, g.host);
    lua_setfield(L, -2, "host");
    lua_pushboolean(L, connected());
    lua_setfield(L, -2, "connected");
    int no = 0, nr = 0;
    for (owned *o = g.owned; o; o = o->next)
        no += !o->ended;
    for (relay *r = g.relays; r; r = r->next)
        nr++;
    set_num(L, "owned", no);
    set_num(L, "relays", nr);
    set_num(L, "published", (double)g.published);
    set_num(L, "relayed", (double)g.relayed);
    sdsim_cluster_figures(L, "latencyMs", g.lat, g.nlat, g.lat_max, -1);
    sdsim_forward_stats(L);
    return 1;
}

void sdsim_cluster_metrics(FILE *f) {
    if (!g.on) return;
    int no = 0, nr = 0;
    for (owned *o = g.owned; o; o = o->next)
        no += !o->ended;
    for (relay *r = g.relays; r; r = r->next)
        nr++;
    fprintf(f,
            "# HELP sdsim_cluster_redis_connected 1 while the cluster's Redis is connected.\n"
            "# TYPE sdsim_cluster_redis_connected gauge\n"
            "sdsim_cluster_redis_connected %d\n"
            "# HELP sdsim_cluster_runs_owned Live runs of this host (leases it keeps).\n"
            "# TYPE sdsim_cluster_runs_owned gauge\n"
            "sdsim_cluster_runs_owned %d\n"
            "# HELP sdsim_cluster_relays Other hosts' runs relayed to sockets here.\n"
            "# TYPE sdsim_cluster_relays gauge\n"
            "sdsim_cluster_relays %d\n"
            "# HELP sdsim_cluster_frames_total Frames published for other hosts, and relayed "
            "from them.\n"
            "# TYPE sdsim_cluster_frames_total counter\n"
            "sdsim_cluster_frames_total{direction=\"published\"} %llu\n"
            "sdsim_cluster_frames_total{direction=\"relayed\"} %llu\n",
            connected(), no, nr, (unsigned long long)g.published, (unsigned long long)g.relayed);
    sdsim_forward_metrics(f);
}

void sdsim_cluster_register(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"enabled", c_enabled},     {"host_id", c_host_id},
        {"is_pseudo", c_is_pseudo}, {"lease", c_lease},
        {"count", c_count},         {"forward", sdsim_forward_lua},
        {"subscribe", c_subscribe}, {"watched", c_watched},
        {"stats", c_stats},         {NULL, NULL},
    };
    lua_newtable(L);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    sdsim_cluster_sessions_register(L);
    lua_setfield(L, -2, "cluster");
}

/* ------------------------------------------------------------------------------------- */

void sdsim_cluster_init(sdsim_server *srv, sdsim_api *api) {
    g.srv = srv;
    g.api = api;
    const char *url = srv->opts.redis_url;
    if (g.on || !url || !*url) return;
    char err[256];
    sdsim_bus *b = sdsim_bus_open(&srv->loop, url, err, sizeof err);
    if (!b) {
        sdsim_log(SDSIM_LOG_ERROR, "cluster: %s: live runs stay on this host", err);
        return;
    }
    g.bus = b;
    g.closing = 0;
    char uuid[37];
    sdsim_uuid_v4(uuid);
    snprintf(g.host, sizeof g.host, "%.8s%.4s", uuid, uuid + 9);
    snprintf(g.channel, sizeof g.channel, "host:%s", g.host);
    g.on = 1;
    sdsim_forward_init(srv, api, g.channel);
    sdsim_bus_subscribe(b, g.channel, sdsim_forward_message, NULL);
    uv_timer_init(&srv->loop, &g.tick);
    uv_timer_start(&g.tick, on_tick, TICK_MS, TICK_MS);
    uv_unref((uv_handle_t *)&g.tick);
    g.tick_on = 1;
    sdsim_log(SDSIM_LOG_INFO, "cluster: this host is %s (live runs shared over Redis)", g.host);
}

static void bus_closed(void *ud) {
    (void)ud;
}

void sdsim_cluster_free(void) {
    if (!g.on) return;
    /* Closing the bus answers the commands in flight (status -1): their callbacks still find
     * the tables, and resume no handler (the API is closing too). */
    g.closing = 1;
    sdsim_bus_close(g.bus, bus_closed, NULL);
    g.bus = NULL;
    while (g.owned) {
        owned *o = g.owned;
        g.owned = o->next;
        free(o);
    }
    while (g.relays) {
        relay *r = g.relays;
        g.relays = r->next;
        free(r);
    }
    sdsim_forward_free();
    sdsim_cluster_sessions_free();
    if (g.tick_on) uv_close((uv_handle_t *)&g.tick, NULL);
    g.tick_on = 0;
    free(g.pub);
    g.pub = NULL;
    g.pub_cap = 0;
    g.on = 0;
}
