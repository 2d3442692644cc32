/* The bus: Redis through hiredis' async API on libuv, with an in-process fallback. See
 * host/bus.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/adapters/libuv.h>
#include <uv.h>
#include "bus.h"

#define NBUCKETS 1024
#define RETRY_MAX_MS 2000
#define REPLY_TIMEOUT_MS 2000 /* a command unanswered this long drops the connection */
#define CONNECT_TIMEOUT_MS 2000
#define WATCHDOG_MS 250

/* A key of the in-process table (rate counters and keys with a lifetime share it, as they
 * share Redis' key space). */
typedef struct entry {
    struct entry *next;
    char *key, *val;
    size_t len;
    int64_t count;
    uint64_t expires_ms;
    struct zmember *zs; /* a sorted set's members (sdsim_bus_zadd ...), nz of them */
    int nz, zcap;
} entry;

typedef struct zmember {
    char *member;
    double score;
} zmember;

/* A callback to run from the loop rather than inside the call. */
typedef struct deferred {
    struct deferred *next;
    enum { D_MSG, D_INT, D_STR } kind;
    sdsim_bus_int_cb icb;
    sdsim_bus_str_cb scb;
    void *ud;
    int status;
    int64_t value;
    char *channel, *data; /* data NULL: no value */
    size_t len;
} deferred;

struct sdsim_bus_sub {
    sdsim_bus *b;
    sdsim_bus_sub *next;
    char *channel;
    sdsim_bus_msg_cb cb;
    void *ud;
    int dead;
};

typedef struct rconn {
    sdsim_bus *b;
    redisAsyncContext *ac;
    int up, is_sub, backoff_ms, pending;
    uint64_t started_ms, last_reply_ms;
    uv_timer_t retry;
} rconn;

struct sdsim_bus {
    uv_loop_t *loop;
    int redis;
    char host[256], password[256];
    int port, db;
    rconn cmd, sub;
    uv_timer_t watchdog;
    uv_async_t async;
    deferred *dhead, *dtail;
    entry *table[NBUCKETS];
    sdsim_bus_sub *subs;
    int delivering;
    uint64_t connects;
    int closing, open_handles;
    void (*closed)(void *ud);
    void *closed_ud;
};

static void rconn_start(rconn *rc);

/* ---- deferred callbacks ------------------------------------------------------------------- */

static deferred *defer(sdsim_bus *b, int kind) {
    deferred *d = calloc(1, sizeof *d);
    if (!d) abort();
    d->kind = kind;
    if (b->dtail)
        b->dtail->next = d;
    else
        b->dhead = d;
    b->dtail = d;
    uv_async_send(&b->async);
    return d;
}

static void defer_int(sdsim_bus *b, sdsim_bus_int_cb cb, void *ud, int status, int64_t v) {
    if (!cb) return;
    deferred *d = defer(b, D_INT);
    d->icb = cb, d->ud = ud, d->status = status, d->value = v;
}

static void deliver(sdsim_bus *b, const char *channel, const char *data, size_t len) {
    b->delivering++;
    for (sdsim_bus_sub *s = b->subs; s; s = s->next)
        if (!s->dead && !strcmp(s->channel, channel)) s->cb(s->ud, channel, data, len);
    if (--b->delivering) return;
    /* Subscriptions dropped during delivery go now. */
    for (sdsim_bus_sub **p = &b->subs; *p;) {
        sdsim_bus_sub *s = *p;
        if (s->dead) {
            *p = s->next;
            free(s->channel);
            free(s);
        } else {
            p = &s->next;
        }
    }
}

static void on_async(uv_async_t *a) {
    sdsim_bus *b = a->data;
    deferred *d = b->dhead;
    b->dhead = b->dtail = NULL;
    while (d) {
        deferred *next = d->next;
        if (d->kind == D_MSG)
            deliver(b, d->channel, d->data, d->len);
        else if (d->kind == D_INT)
            d->icb(d->ud, d->status, d->value);
        else
            d->scb(d->ud, d->status, d->data, d->len);
        free(d->channel);
        free(d->data);
        free(d);
        d = next;
    }
}

/* ---- the in-process table ----------------------------------------------------------------- */

static unsigned bucket(const char *key) {
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % NBUCKETS;
}

static void entry_free(entry *e) {
    for (int i = 0; i < e->nz; i++)
        free(e->zs[i].member);
    free(e->zs);
    free(e->key);
    free(e->val);
    free(e);
}

/* The live entry for key (expired ones in its bucket are dropped); created if asked. */
static entry *local_find(sdsim_bus *b, const char *key, int create) {
    uint64_t now = uv_now(b->loop);
    entry **p = &b->table[bucket(key)], *found = NULL;
    while (*p) {
        entry *e = *p;
        if (e->expires_ms && e->expires_ms <= now) {
            *p = e->next;
            entry_free(e);
            continue;
        }
        if (!strcmp(e->key, key)) found = e;
        p = &e->next;
    }
    if (found || !create) return found;
    entry *e = calloc(1, sizeof *e);
    e->key = strdup(key);
    e->next = b->table[bucket(key)];
    b->table[bucket(key)] = e;
    return e;
}

static void local_del(sdsim_bus *b, const char *key, int64_t *removed) {
    *removed = 0;
    if (!local_find(b, key, 0)) return;
    for (entry **p = &b->table[bucket(key)]; *p; p = &(*p)->next)
        if (!strcmp((*p)->key, key)) {
            entry *e = *p;
            *p = e->next;
            entry_free(e);
            *removed = 1;
            return;
        }
}

/* ---- Redis connections -------------------------------------------------------------------- */

static int redis_up(const sdsim_bus *b) {
    return b->redis && b->cmd.up;
}

static void on_retry(uv_timer_t *t) {
    rconn_start(t->data);
}

static void retry_later(rconn *rc) {
    if (rc->b->closing) return;
    rc->up = 0;
    rc->pending = 0;
    rc->backoff_ms = rc->backoff_ms ? rc->backoff_ms * 2 : 100;
    if (rc->backoff_ms > RETRY_MAX_MS) rc->backoff_ms = RETRY_MAX_MS;
    uv_timer_start(&rc->retry, on_retry, (uint64_t)rc->backoff_ms, 0);
}

static void on_sub_reply(redisAsyncContext *ac, void *r, void *priv);

static void resubscribe(sdsim_bus *b) {
    for (sdsim_bus_sub *s = b->subs; s; s = s->next) {
        if (s->dead) continue;
        int first = 1; /* one SUBSCRIBE per channel */
        for (sdsim_bus_sub *t = b->subs; t != s; t = t->next)
            if (!t->dead && !strcmp(t->channel, s->channel)) first = 0;
        if (first) redisAsyncCommand(b->sub.ac, on_sub_reply, b, "SUBSCRIBE %s", s->channel);
    }
}

static void on_connect(const redisAsyncContext *ac, int status) {
    rconn *rc = ac->data;
    if (status != REDIS_OK) {
        rc->ac = NULL; /* hiredis frees it after this callback */
        retry_later(rc);
        return;
    }
    rc->up = 1;
    rc->backoff_ms = 0;
    rc->last_reply_ms = uv_now(rc->b->loop);
    rc->b->connects++;
    if (rc->is_sub) resubscribe(rc->b);
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
    rconn *rc = ac->data;
    rc->ac = NULL;
    rc->up = 0;
    retry_later(rc);
}

static void rconn_start(rconn *rc) {
    sdsim_bus *b = rc->b;
    if (b->closing) return;
    redisAsyncContext *ac = redisAsyncConnect(b->host, b->port);
    if (!ac || ac->err) {
        if (ac) redisAsyncFree(ac);
        retry_later(rc);
        return;
    }
    ac->data = rc;
    rc->ac = ac;
    rc->started_ms = uv_now(b->loop);
    redisLibuvAttach(ac, b->loop);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    if (b->password[0]) redisAsyncCommand(ac, NULL, NULL, "AUTH %s", b->password);
    if (!rc->is_sub && b->db) redisAsyncCommand(ac, NULL, NULL, "SELECT %d", b->db);
}

/* Drops a connection that stopped answering (or never finished connecting). */
static void rconn_drop(rconn *rc) {
    redisAsyncContext *ac = rc->ac;
    redisAsyncFree(ac); /* calls on_disconnect if it was connected */
    if (rc->ac == ac) {
        rc->ac = NULL;
        retry_later(rc);
    }
}

static void on_watchdog(uv_timer_t *t) {
    sdsim_bus *b = t->data;
    uint64_t now = uv_now(b->loop);
    rconn *all[2] = {&b->cmd, &b->sub};
    for (int i = 0; i < 2; i++) {
        rconn *rc = all[i];
        if (!rc->ac) continue;
        if (!rc->up && now - rc->started_ms > CONNECT_TIMEOUT_MS)
            rconn_drop(rc);
        else if (rc->up && rc->pending > 0 && now - rc->last_reply_ms > REPLY_TIMEOUT_MS) {
            rconn_drop(rc);
            /* The subscription connection waits silently, so it cannot tell a hung server:
             * the command connection's verdict holds for both. */
            if (rc == &b->cmd && b->sub.ac) rconn_drop(&b->sub);
        }
    }
}

/* ---- commands ----------------------------------------------------------------------------- */

typedef struct cmd_req {
    sdsim_bus *b;
    int kind; /* 0: none, 1: int, 2: str, 3: "OK" as 1 */
    sdsim_bus_int_cb icb;
    sdsim_bus_str_cb scb;
    void *ud;
} cmd_req;

static void on_cmd_reply(redisAsyncContext *ac, void *r, void *priv) {
    cmd_req *q = priv;
    redisReply *reply = r;
    sdsim_bus *b = q->b;
    if (b->cmd.pending > 0) b->cmd.pending--;
    b->cmd.last_reply_ms = uv_now(b->loop);
    int ok = reply && reply->type != REDIS_REPLY_ERROR;
    if (q->kind == 1 && q->icb)
        q->icb(q->ud, ok && reply->type == REDIS_REPLY_INTEGER ? 0 : -1, ok ? reply->integer : 0);
    else if (q->kind == 3 && q->icb)
        q->icb(q->ud, ok ? 0 : -1, ok ? 1 : 0);
    else if (q->kind == 2 && q->scb)
        q->scb(q->ud, ok ? 0 : -1, ok && reply->type == REDIS_REPLY_STRING ? reply->str : NULL,
               ok && reply->type == REDIS_REPLY_STRING ? (size_t)reply->len : 0);
    free(q);
}

/* Sends a command whose reply is watched by the watchdog. */
static int cmd_send(sdsim_bus *b, int kind, sdsim_bus_int_cb icb, sdsim_bus_str_cb scb, void *ud,
                    const char *fmt, ...) {
    cmd_req *q = calloc(1, sizeof *q);
    *q = (cmd_req){b, kind, icb, scb, ud};
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAsyncCommand(b->cmd.ac, on_cmd_reply, q, fmt, ap);
    va_end(ap);
    if (rc != REDIS_OK) {
        free(q);
        return -1;
    }
    if (b->cmd.pending++ == 0) b->cmd.last_reply_ms = uv_now(b->loop);
    return 0;
}

/* ---- pub/sub ------------------------------------------------------------------------------ */

static void on_sub_reply(redisAsyncContext *ac, void *r, void *priv) {
    redisReply *reply = r;
    sdsim_bus *b = priv;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) return;
    redisReply **e = reply->element;
    if (e[0]->type == REDIS_REPLY_STRING && !strcmp(e[0]->str, "message") &&
        e[1]->type == REDIS_REPLY_STRING && e[2]->type == REDIS_REPLY_STRING)
        deliver(b, e[1]->str, e[2]->str, (size_t)e[2]->len);
}

int sdsim_bus_publish(sdsim_bus *b, const char *channel, const void *data, size_t len) {
    if (redis_up(b) && cmd_send(b, 0, NULL, NULL, NULL, "PUBLISH %s %b", channel, data, len) == 0)
        return 0;
    deferred *d = defer(b, D_MSG);
    d->channel = strdup(channel);
    d->data = malloc(len + 1);
    memcpy(d->data, data, len);
    d->data[len] = 0;
    d->len = len;
    return 0;
}

int sdsim_bus_publish_count(sdsim_bus *b, const char *channel, const void *data, size_t len,
                            sdsim_bus_int_cb cb, void *ud) {
    if (redis_up(b) && cmd_send(b, 1, cb, NULL, ud, "PUBLISH %s %b", channel, data, len) == 0)
        return 0;
    int64_t n = 0;
    for (sdsim_bus_sub *s = b->subs; s; s = s->next)
        n += !s->dead && !strcmp(s->channel, channel);
    sdsim_bus_publish(b, channel, data, len);
    defer_int(b, cb, ud, 0, n);
    return 0;
}

static int channel_watched(sdsim_bus *b, const char *channel, const sdsim_bus_sub *except) {
    for (sdsim_bus_sub *s = b->subs; s; s = s->next)
        if (s != except && !s->dead && !strcmp(s->channel, channel)) return 1;
    return 0;
}

sdsim_bus_sub *sdsim_bus_subscribe(sdsim_bus *b, const char *channel, sdsim_bus_msg_cb cb,
                                   void *ud) {
    sdsim_bus_sub *s = calloc(1, sizeof *s);
    *s = (sdsim_bus_sub){b, NULL, strdup(channel), cb, ud, 0};
    int first = !channel_watched(b, channel, NULL);
    s->next = b->subs;
    b->subs = s;
    if (first && b->redis && b->sub.up)
        redisAsyncCommand(b->sub.ac, on_sub_reply, b, "SUBSCRIBE %s", channel);
    return s;
}

void sdsim_bus_unsubscribe(sdsim_bus_sub *s) {
    sdsim_bus *b = s->b;
    if (!channel_watched(b, s->channel, s) && b->redis && b->sub.up)
        redisAsyncCommand(b->sub.ac, on_sub_reply, b, "UNSUBSCRIBE %s", s->channel);
    s->dead = 1;
    if (b->delivering) return;
    for (sdsim_bus_sub **p = &b->subs; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    free(s->channel);
    free(s);
}

/* ---- rate limits and keys ----------------------------------------------------------------- */

void sdsim_bus_rate_hit(sdsim_bus *b, const char *key, int window_s, sdsim_bus_int_cb cb,
                        void *ud) {
    if (window_s < 1) window_s = 1;
    /* INCR then EXPIRE NX, pipelined: the window starts at the first hit, and a crash between
     * the two cannot leave a counter that never expires (the next hit sets it). */
    if (redis_up(b) && cmd_send(b, 1, cb, NULL, ud, "INCR %s", key) == 0) {
        redisAsyncCommand(b->cmd.ac, NULL, NULL, "EXPIRE %s %d NX", key, window_s);
        return;
    }
    entry *e = local_find(b, key, 1);
    if (!e->expires_ms) e->expires_ms = uv_now(b->loop) + (uint64_t)window_s * 1000;
    defer_int(b, cb, ud, 0, ++e->count);
}

void sdsim_bus_kv_set(sdsim_bus *b, const char *key, const char *value, size_t len, int ttl_s,
                      sdsim_bus_int_cb cb, void *ud) {
    if (ttl_s < 1) ttl_s = 1;
    if (redis_up(b) && cmd_send(b, 3, cb, NULL, ud, "SET %s %b EX %d", key, value, len, ttl_s) == 0)
        return;
    entry *e = local_find(b, key, 1);
    free(e->val);
    e->val = malloc(len + 1);
    memcpy(e->val, value, len);
    e->val[len] = 0;
    e->len = len;
    e->count = 0;
    e->expires_ms = uv_now(b->loop) + (uint64_t)ttl_s * 1000;
    defer_int(b, cb, ud, 0, 1);
}

void sdsim_bus_kv_get(sdsim_bus *b, const char *key, sdsim_bus_str_cb cb, void *ud) {
    if (redis_up(b) && cmd_send(b, 2, NULL, cb, ud, "GET %s", key) == 0) return;
    entry *e = local_find(b, key, 0);
    deferred *d = defer(b, D_STR);
    d->scb = cb, d->ud = ud;
    if (e && e->val) {
        d->data = malloc(e->len + 1);
        memcpy(d->data, e->val, e->len + 1);
        d->len = e->len;
    }
}

void sdsim_bus_kv_del(sdsim_bus *b, const char *key, sdsim_bus_int_cb cb, void *ud) {
    if (redis_up(b) && cmd_send(b, 1, cb, NULL, ud, "DEL %s", key) == 0) return;
    int64_t removed;
    local_del(b, key, &removed);
    defer_int(b, cb, ud, 0, removed);
}

/* ---- sorted sets (members that expire one by one: a score is an expiry time) ------------- */

static int local_zindex(const entry *e, const char *member) {
    for (int i = 0; i < e->nz; i++)
        if (!strcmp(e->zs[i].member, member)) return i;
    return -1;
}

static void local_zremove(entry *e, int i) {
    free(e->zs[i].member);
    e->zs[i] = e->zs[--e->nz];
}

void sdsim_bus_zadd(sdsim_bus *b, const char *key, double score, const char *member, int ttl_s,
                    sdsim_bus_int_cb cb, void *ud) {
    char sc[40];
    snprintf(sc, sizeof sc, "%.17g", score);
    if (ttl_s < 1) ttl_s = 1;
    /* ZADD then EXPIRE, pipelined: the key goes once no member is refreshed any more. */
    if (redis_up(b) && cmd_send(b, 1, cb, NULL, ud, "ZADD %s %s %s", key, sc, member) == 0) {
        redisAsyncCommand(b->cmd.ac, NULL, NULL, "EXPIRE %s %d", key, ttl_s);
        return;
    }
    entry *e = local_find(b, key, 1);
    e->expires_ms = uv_now(b->loop) + (uint64_t)ttl_s * 1000;
    int i = local_zindex(e, member), added = i < 0;
    if (i < 0) {
        if (e->nz == e->zcap) {
            int cap = e->zcap ? e->zcap * 2 : 4;
            zmember *nz = realloc(e->zs, (size_t)cap * sizeof *nz);
            if (!nz) abort();
            e->zs = nz;
            e->zcap = cap;
        }
        i = e->nz++;
        e->zs[i].member = strdup(member);
    }
    e->zs[i].score = score;
    defer_int(b, cb, ud, 0, added);
}

void sdsim_bus_zrem(sdsim_bus *b, const char *key, const char *member, sdsim_bus_int_cb cb,
                    void *ud) {
    if (redis_up(b) && cmd_send(b, 1, cb, NULL, ud, "ZREM %s %s", key, member) == 0) return;
    entry *e = local_find(b, key, 0);
    int i = e ? local_zindex(e, member) : -1;
    if (i >= 0) local_zremove(e, i);
    defer_int(b, cb, ud, 0, i >= 0);
}

void sdsim_bus_zcount_from(sdsim_bus *b, const char *key, double min, sdsim_bus_int_cb cb,
                           void *ud) {
    char sc[40];
    snprintf(sc, sizeof sc, "(%.17g", min);
    /* The members below min have expired: they go first (ZREMRANGEBYSCORE), then ZCARD. */
    if (redis_up(b) &&
        redisAsyncCommand(b->cmd.ac, NULL, NULL, "ZREMRANGEBYSCORE %s -inf %s", key, sc) ==
            REDIS_OK &&
        cmd_send(b, 1, cb, NULL, ud, "ZCARD %s", key) == 0)
        return;
    entry *e = local_find(b, key, 0);
    for (int i = 0; e && i < e->nz;)
        if (e->zs[i].score < min)
            local_zremove(e, i);
        else
            i++;
    defer_int(b, cb, ud, 0, e ? e->nz : 0);
}

/* ---- lifetime ----------------------------------------------------------------------------- */

/* redis://[[user]:password@]host[:port][/db] */
static int parse_url(sdsim_bus *b, const char *url, char *err, size_t errlen) {
    if (strncmp(url, "redis://", 8) != 0) {
        snprintf(err, errlen, "a Redis URL starts with redis://");
        return -1;
    }
    const char *p = url + 8, *at = strchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon)
            snprintf(b->password, sizeof b->password, "%.*s", (int)(at - colon - 1), colon + 1);
        p = at + 1;
    }
    size_t hl = strcspn(p, ":/");
    if (hl == 0 || hl >= sizeof b->host) {
        snprintf(err, errlen, "no host in the Redis URL");
        return -1;
    }
    snprintf(b->host, sizeof b->host, "%.*s", (int)hl, p);
    p += hl;
    b->port = 6379;
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (port < 1 || port > 65535 || (*end && *end != '/')) {
            snprintf(err, errlen, "bad port in the Redis URL");
            return -1;
        }
        b->port = (int)port;
        p = end;
    }
    if (*p == '/' && p[1]) b->db = atoi(p + 1);
    return 0;
}

sdsim_bus *sdsim_bus_open(uv_loop_t *loop, const char *redis_url, char *err, size_t errlen) {
    sdsim_bus *b = calloc(1, sizeof *b);
    b->loop = loop;
    if (redis_url && *redis_url) {
        if (parse_url(b, redis_url, err, errlen) != 0) {
            free(b);
            return NULL;
        }
        b->redis = 1;
    }
    uv_async_init(loop, &b->async, on_async);
    b->async.data = b;
    uv_timer_init(loop, &b->watchdog);
    b->watchdog.data = b;
    rconn *all[2] = {&b->cmd, &b->sub};
    for (int i = 0; i < 2; i++) {
        all[i]->b = b;
        all[i]->is_sub = i == 1;
        uv_timer_init(loop, &all[i]->retry);
        all[i]->retry.data = all[i];
    }
    if (b->redis) {
        uv_timer_start(&b->watchdog, on_watchdog, WATCHDOG_MS, WATCHDOG_MS);
        rconn_start(&b->cmd);
        rconn_start(&b->sub);
    }
    return b;
}

static void on_handle_closed(uv_handle_t *h) {
    sdsim_bus *b = h->data;
    if (--b->open_handles) return;
    for (int i = 0; i < NBUCKETS; i++)
        while (b->table[i]) {
            entry *e = b->table[i];
            b->table[i] = e->next;
            entry_free(e);
        }
    while (b->subs) {
        sdsim_bus_sub *s = b->subs;
        b->subs = s->next;
        free(s->channel);
        free(s);
    }
    while (b->dhead) {
        deferred *d = b->dhead;
        b->dhead = d->next;
        free(d->channel);
        free(d->data);
        free(d);
    }
    void (*cb)(void *) = b->closed;
    void *ud = b->closed_ud;
    free(b);
    if (cb) cb(ud);
}

void sdsim_bus_close(sdsim_bus *b, void (*closed)(void *ud), void *ud) {
    if (b->closing) return;
    b->closing = 1;
    b->closed = closed;
    b->closed_ud = ud;
    rconn *all[2] = {&b->cmd, &b->sub};
    for (int i = 0; i < 2; i++) {
        uv_timer_stop(&all[i]->retry);
        if (all[i]->ac) redisAsyncFree(all[i]->ac); /* pending callbacks get NULL replies */
        all[i]->ac = NULL;
        all[i]->up = 0;
    }
    uv_handle_t *handles[4] = {(uv_handle_t *)&b->async, (uv_handle_t *)&b->watchdog,
                               (uv_handle_t *)&b->cmd.retry, (uv_handle_t *)&b->sub.retry};
    b->open_handles = 4;
    for (int i = 0; i < 4; i++) {
        handles[i]->data = b;
        uv_close(handles[i], on_handle_closed);
    }
}

int sdsim_bus_uses_redis(const sdsim_bus *b) {
    return b->redis;
}
int sdsim_bus_connected(const sdsim_bus *b) {
    return b->redis && b->cmd.up && b->sub.up;
}
uint64_t sdsim_bus_connects(const sdsim_bus *b) {
    return b->connects;
}
