/* Requests forwarded to a run's host and served for other hosts over the bus. See
 * host/live_forward.h.
 *
 * Two small lists: the requests this host forwarded (waiting for an answer: a timer, and the
 * count of PUBLISH's receivers, which tells at once that nobody listens on that host's
 * channel) and those it serves (a handler coroutine running under a pseudo connection id,
 * whose first message sent is the answer). */
#include "live_forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "api.h"
#include "bus.h"
#include "live_cluster.h"

#define FORWARD_TIMEOUT_MS 3000
#define SERVE_TIMEOUT_S 30.0

typedef struct fwd_out {
    uint64_t seq;
    sdsim_api_call *call;
    uv_timer_t timer;
    int resolved, counted, closing;
    double t0;
    struct fwd_out *next;
} fwd_out;

typedef struct fwd_in {
    uint64_t conn;
    char rid[24], reply[48];
    double t0;
    struct fwd_in *next;
} fwd_in;

static struct {
    sdsim_server *srv;
    sdsim_api *api;
    char channel[32];
    fwd_out *out;
    fwd_in *in;
    uint64_t seq, next_conn;
    double rtt[SDSIM_CLUSTER_SAMPLES], rtt_sum, rtt_max;
    uint64_t nrtt, served, forwarded, timeouts, unreachable;
} g;

static sdsim_bus *bus(void) {
    return sdsim_cluster_bus();
}

void sdsim_forward_init(sdsim_server *srv, sdsim_api *api, const char *self_channel) {
    g.srv = srv;
    g.api = api;
    snprintf(g.channel, sizeof g.channel, "%s", self_channel);
}

static void out_closed(uv_handle_t *h) {
    free(h->data);
}

static void out_maybe_free(fwd_out *p) {
    if (!p->resolved || !p->counted || p->closing) return;
    p->closing = 1;
    for (fwd_out **q = &g.out; *q; q = &(*q)->next)
        if (*q == p) {
            *q = p->next;
            break;
        }
    uv_close((uv_handle_t *)&p->timer, out_closed);
}

/* The caller's coroutine gets the answer's text, or nil, code, message. */
static void out_resolve(fwd_out *p, const char *code, const char *msg, const char *text,
                        size_t len) {
    if (p->resolved) return;
    p->resolved = 1;
    uv_timer_stop(&p->timer);
    if (!code) {
        double rtt = sdsim_server_now() - p->t0;
        g.rtt_sum += rtt;
        g.rtt[g.nrtt++ % SDSIM_CLUSTER_SAMPLES] = rtt * 1e3;
        if (rtt > g.rtt_max) g.rtt_max = rtt;
    }
    sdsim_api_call *c = p->call;
    p->call = NULL;
    out_maybe_free(p);
    if (!c || sdsim_api_store_closing()) return;
    lua_State *co = sdsim_api_call_thread(c);
    if (!code) {
        lua_pushlstring(co, text, len);
        sdsim_api_call_resume(c, 1);
        return;
    }
    lua_pushnil(co);
    lua_pushstring(co, code);
    lua_pushstring(co, msg);
    sdsim_api_call_resume(c, 3);
}

static void out_timeout(uv_timer_t *t) {
    g.timeouts++;
    out_resolve(t->data, "timeout", "the host that runs it did not answer within 3 s", NULL, 0);
}

static void out_counted(void *ud, int status, int64_t n) {
    fwd_out *p = ud;
    p->counted = 1;
    if (status != 0)
        out_resolve(p, "unavailable", "the request could not be sent", NULL, 0);
    else if (n == 0) {
        g.unreachable++;
        out_resolve(p, "gone", "the host that runs it is not connected to Redis", NULL, 0);
    }
    out_maybe_free(p);
}

static fwd_out *out_find(uint64_t seq) {
    for (fwd_out *p = g.out; p; p = p->next)
        if (p->seq == seq) return p;
    return NULL;
}

/* Serves a request of another host: the handler runs under a pseudo connection id, and what
 * it sends to that connection is the answer (sdsim_cluster_reply). */
static void serve(const char *data, size_t len) {
    const char *nl1 = memchr(data, '\n', len);
    const char *nl2 = nl1 ? memchr(nl1 + 1, '\n', len - (size_t)(nl1 + 1 - data)) : NULL;
    if (!nl2 || nl1 - data - 1 >= 24 || nl2 - nl1 - 1 >= 48) return;
    fwd_in *in = calloc(1, sizeof *in);
    if (!in) return;
    in->conn = SDSIM_CLUSTER_CONN_BASE + ++g.next_conn;
    snprintf(in->rid, sizeof in->rid, "%.*s", (int)(nl1 - data - 1), data + 1);
    snprintf(in->reply, sizeof in->reply, "%.*s", (int)(nl2 - nl1 - 1), nl1 + 1);
    in->t0 = sdsim_server_now();
    in->next = g.in;
    g.in = in;
    g.served++;
    sdsim_api_ws_handle(g.api, in->conn, nl2 + 1, len - (size_t)(nl2 + 1 - data));
}

void sdsim_cluster_reply(uint64_t conn_id, const char *text, size_t len) {
    for (fwd_in **p = &g.in; *p; p = &(*p)->next) {
        fwd_in *in = *p;
        if (in->conn != conn_id) continue;
        *p = in->next;
        sdsim_bus *b = bus();
        char *msg = malloc(len + 32);
        if (b && msg) {
            int n = snprintf(msg, 32, "R%s\n", in->rid);
            memcpy(msg + n, text, len);
            sdsim_bus_publish(b, in->reply, msg, (size_t)n + len);
        }
        free(msg);
        free(in);
        return;
    }
}

void sdsim_forward_message(void *ud, const char *channel, const char *data, size_t len) {
    if (len < 2) return;
    if (data[0] == 'Q') {
        serve(data, len);
        return;
    }
    if (data[0] != 'R') return;
    const char *nl = memchr(data, '\n', len);
    if (!nl) return;
    fwd_out *p = out_find(strtoull(data + 1, NULL, 10));
    if (p) out_resolve(p, NULL, NULL, nl + 1, len - (size_t)(nl + 1 - data));
}

/* host.cluster.forward(host_id, json) -> the owner's answer (JSON text) | nil, code, message;
 * code: "unavailable" (Redis is down: at once), "gone" (nobody listens on that host's
 * channel), "timeout" (3 s). Yields. */
int sdsim_forward_lua(lua_State *L) {
    const char *host = luaL_checkstring(L, 1);
    size_t n;
    const char *json = luaL_checklstring(L, 2, &n);
    sdsim_api_call *c = sdsim_api_call_check(L, "host.cluster.forward");
    if (!bus() || !sdsim_bus_connected(bus())) {
        lua_pushnil(L);
        lua_pushstring(L, "unavailable");
        lua_pushstring(L, sdsim_cluster_on() ? "it is not connected"
                                             : "this server runs without --redis");
        return 3;
    }
    fwd_out *p = calloc(1, sizeof *p);
    size_t cap = n + 128;
    char *msg = malloc(cap);
    if (!p || !msg) {
        free(p);
        free(msg);
        return luaL_error(L, "out of memory");
    }
    p->seq = ++g.seq;
    p->call = c;
    p->t0 = sdsim_server_now();
    uv_timer_init(&g.srv->loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, out_timeout, FORWARD_TIMEOUT_MS, 0);
    p->next = g.out;
    g.out = p;
    int h = snprintf(msg, cap, "Q%llu\n%s\n", (unsigned long long)p->seq, g.channel);
    memcpy(msg + h, json, n);
    char channel[48];
    snprintf(channel, sizeof channel, "host:%s", host);
    sdsim_bus_publish_count(bus(), channel, msg, (size_t)h + n, out_counted, p);
    free(msg);
    g.forwarded++;
    sdsim_api_call_wait(c);
    return lua_yield(L, 0);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void set_num(lua_State *L, const char *k, double v) {
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

/* {n, p50, p99, max, mean} of the last SDSIM_CLUSTER_SAMPLES of ring (n in all) into the table on
 * top. */
void sdsim_cluster_figures(lua_State *L, const char *k, const double *ring, uint64_t n, double max,
                           double sum) {
    int m = n < SDSIM_CLUSTER_SAMPLES ? (int)n : SDSIM_CLUSTER_SAMPLES;
    double s[SDSIM_CLUSTER_SAMPLES];
    memcpy(s, ring, sizeof s);
    qsort(s, (size_t)m, sizeof s[0], cmp_double);
    lua_createtable(L, 0, 5);
    set_num(L, "n", (double)n);
    set_num(L, "p50", m ? s[m / 2] : 0);
    set_num(L, "p99", m ? s[(m * 99) / 100] : 0);
    set_num(L, "max", max);
    if (sum >= 0) set_num(L, "mean", n ? sum / n : 0);
    lua_setfield(L, -2, k);
}

void sdsim_forward_stats(lua_State *L) {
    set_num(L, "forwarded", (double)g.forwarded);
    set_num(L, "served", (double)g.served);
    set_num(L, "timeouts", (double)g.timeouts);
    set_num(L, "unreachable", (double)g.unreachable);
    sdsim_cluster_figures(L, "roundTripMs", g.rtt, g.nrtt, g.rtt_max * 1e3, g.rtt_sum * 1e3);
}

void sdsim_forward_metrics(FILE *f) {
    fprintf(f,
            "# HELP sdsim_cluster_requests_total Requests between hosts: forwarded from here "
            "(then timed out or unreachable), and served here for another host.\n"
            "# TYPE sdsim_cluster_requests_total counter\n"
            "sdsim_cluster_requests_total{outcome=\"forwarded\"} %llu\n"
            "sdsim_cluster_requests_total{outcome=\"timeout\"} %llu\n"
            "sdsim_cluster_requests_total{outcome=\"unreachable\"} %llu\n"
            "sdsim_cluster_requests_total{outcome=\"served\"} %llu\n",
            (unsigned long long)g.forwarded, (unsigned long long)g.timeouts,
            (unsigned long long)g.unreachable, (unsigned long long)g.served);
}

void sdsim_forward_tick(double now) {
    for (fwd_in **p = &g.in; *p;) {
        fwd_in *in = *p;
        if (now - in->t0 > SERVE_TIMEOUT_S) {
            *p = in->next;
            free(in);
        } else {
            p = &in->next;
        }
    }
}

void sdsim_forward_free(void) {
    while (g.in) {
        fwd_in *in = g.in;
        g.in = in->next;
        free(in);
    }
    while (g.out) {
        fwd_out *p = g.out;
        g.out = p->next;
        uv_close((uv_handle_t *)&p->timer, out_closed);
    }
}
