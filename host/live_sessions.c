/* A user's session across hosts (with --redis): the key user:<userId>:session holds
 *   {"sockets":{"<hostid>":2,...},"simulations":1,"lastActivity":<ms since the epoch>}
 * the user's open (authenticated) WebSockets per host, their live runs on every host (the
 * count of user:<id>:simulations) and the time of their last WebSocket activity (connect,
 * subscribe, close). Each host rewrites its own entry of "sockets" on those events (read,
 * merge, write: two hosts writing in the same few milliseconds may lose one count until that
 * host's next event); the key lives SESSION_TTL_S after the last activity.
 * GET /api/sessions shows it (scripts/api/simulations.lua). docs/storage.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

#include "api.h"
#include "bus.h"
#include "live_cluster.h"

#define SESSION_TTL_S 1800
#define MAX_HOSTS 32

typedef struct sock {
    uint64_t conn;
    char user[40];
    struct sock *next;
} sock;

/* One update in flight: the user's count of runs, then the key read, merged and written. */
typedef struct touch {
    char user[40];
    int sockets;
    int64_t simulations;
} touch;

static sock *socks;

static double epoch_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int sockets_of(const char *user) {
    int n = 0;
    for (sock *s = socks; s; s = s->next)
        n += !strcmp(s->user, user);
    return n;
}

static void key_of(char *out, size_t n, const char *user) {
    snprintf(out, n, "user:%s:session", user);
}

/* Appends the other hosts' entries of "sockets" in old (as this file writes them:
 * "sockets":{"h":n,...}) to out, this host's left out. */
static size_t other_hosts(const char *old, const char *self, char *out, size_t cap) {
    size_t len = 0;
    out[0] = '\0';
    const char *p = old ? strstr(old, "\"sockets\":{") : NULL;
    if (!p) return 0;
    p += 11;
    for (int i = 0; i < MAX_HOSTS && *p == '"'; i++) {
        const char *q = strchr(p + 1, '"');
        if (!q || q[1] != ':') break;
        long n = strtol(q + 2, (char **)&q, 10);
        int hl = (int)(strchr(p + 1, '"') - p - 1);
        if (n > 0 && (hl != (int)strlen(self) || strncmp(p + 1, self, (size_t)hl)) && hl < 40 &&
            len + (size_t)hl + 32 < cap)
            len += (size_t)snprintf(out + len, cap - len, "%s\"%.*s\":%ld", len ? "," : "", hl,
                                    p + 1, n);
        if (*q == ',') q++;
        p = q;
    }
    return len;
}

static void merged(void *ud, int status, const char *old, size_t oldlen) {
    touch *t = ud;
    sdsim_bus *b = sdsim_cluster_bus();
    if (b && status == 0) {
        char hosts[2048], val[2400], key[80];
        const char *self = sdsim_cluster_host_id();
        size_t n = other_hosts(old, self, hosts, sizeof hosts);
        if (t->sockets > 0)
            n += (size_t)snprintf(hosts + n, sizeof hosts - n, "%s\"%s\":%d", n ? "," : "", self,
                                  t->sockets);
        int len = snprintf(val, sizeof val,
                           "{\"sockets\":{%s},\"simulations\":%lld,\"lastActivity\":%.0f}", hosts,
                           (long long)t->simulations, epoch_ms());
        key_of(key, sizeof key, t->user);
        sdsim_bus_kv_set(b, key, val, (size_t)len, SESSION_TTL_S, NULL, NULL);
    }
    free(t);
}

static void counted(void *ud, int status, int64_t n) {
    touch *t = ud;
    sdsim_bus *b = sdsim_cluster_bus();
    if (!b) {
        free(t);
        return;
    }
    t->simulations = status == 0 ? n : 0;
    char key[80];
    key_of(key, sizeof key, t->user);
    sdsim_bus_kv_get(b, key, merged, t);
}

static void session_touch(const char *user) {
    sdsim_bus *b = sdsim_cluster_bus();
    touch *t = b ? calloc(1, sizeof *t) : NULL;
    if (!t) return;
    snprintf(t->user, sizeof t->user, "%s", user);
    t->sockets = sockets_of(user);
    char key[80];
    snprintf(key, sizeof key, "user:%s:simulations", user);
    sdsim_bus_zcount_from(b, key, epoch_ms(), counted, t);
}

static void sock_remove(uint64_t conn, char *user, size_t n) {
    user[0] = '\0';
    for (sock **p = &socks; *p; p = &(*p)->next)
        if ((*p)->conn == conn) {
            sock *s = *p;
            *p = s->next;
            snprintf(user, n, "%s", s->user);
            free(s);
            return;
        }
}

/* host.cluster.session(conn_id, user_id | nil): a WebSocket authenticated as user_id (or
 * active: subscribe), or closed (nil); the user's session key is rewritten. */
static int c_session(lua_State *L) {
    uint64_t conn = (uint64_t)luaL_checknumber(L, 1);
    const char *user = luaL_optstring(L, 2, NULL);
    if (!sdsim_cluster_on() || conn >= SDSIM_CLUSTER_CONN_BASE) return 0;
    char old[40];
    sock_remove(conn, old, sizeof old);
    if (user && strlen(user) < sizeof old) {
        sock *s = calloc(1, sizeof *s);
        if (s) {
            s->conn = conn;
            snprintf(s->user, sizeof s->user, "%s", user);
            s->next = socks;
            socks = s;
        }
        session_touch(user);
    }
    if (old[0] && (!user || strcmp(old, user))) session_touch(old);
    return 0;
}

static void session_read(void *ud, int status, const char *value, size_t len) {
    sdsim_api_call *c = ud;
    if (sdsim_api_store_closing()) return;
    lua_State *co = sdsim_api_call_thread(c);
    if (status != 0)
        lua_pushnil(co);
    else if (value)
        lua_pushlstring(co, value, len);
    else
        lua_pushboolean(co, 0);
    sdsim_api_call_resume(c, 1);
}

/* host.cluster.session_get(user_id) -> the key's JSON text | false (none) | nil (Redis down
 * or no --redis). Yields. */
static int c_session_get(lua_State *L) {
    const char *user = luaL_checkstring(L, 1);
    sdsim_bus *b = sdsim_cluster_bus();
    if (!b || !sdsim_bus_connected(b)) return lua_pushnil(L), 1;
    sdsim_api_call *c = sdsim_api_call_check(L, "host.cluster.session_get");
    char key[80];
    key_of(key, sizeof key, user);
    sdsim_bus_kv_get(b, key, session_read, c);
    sdsim_api_call_wait(c);
    return lua_yield(L, 0);
}

void sdsim_cluster_sessions_register(lua_State *L) {
    lua_pushcfunction(L, c_session);
    lua_setfield(L, -2, "session");
    lua_pushcfunction(L, c_session_get);
    lua_setfield(L, -2, "session_get");
}

void sdsim_cluster_sessions_free(void) {
    while (socks) {
        sock *s = socks;
        socks = s->next;
        free(s);
    }
}
