/* The bus: pub/sub (simulation frames, collaboration), rate limits (login attempts) and short
 * lived keys (sessions), shared by every host through Redis (--redis redis://…), or kept in
 * this process when there is no Redis.
 *
 * Everything is asynchronous on one libuv loop; callbacks never run inside the call. Redis is
 * reached with hiredis' async API on libuv, over two connections (commands; subscriptions).
 * When Redis goes away the bus keeps working in-process (publish reaches this host's
 * subscribers, rate limits and keys are counted here) and reconnects with uv timers (hiredis
 * 0.14 has no async timeouts: a watchdog also drops a connection whose replies stop coming);
 * once back, subscriptions are made again and Redis is used again. Counts and keys kept while
 * Redis was away are not merged back. */
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct uv_loop_s uv_loop_t;
typedef struct sdsim_bus sdsim_bus;
typedef struct sdsim_bus_sub sdsim_bus_sub;

typedef void (*sdsim_bus_msg_cb)(void *ud, const char *channel, const char *data, size_t len);
/* status 0, or -1 (the call failed: value meaningless). */
typedef void (*sdsim_bus_int_cb)(void *ud, int status, int64_t value);
/* status 0 and the value (NULL when the key is absent), or -1. */
typedef void (*sdsim_bus_str_cb)(void *ud, int status, const char *value, size_t len);

/* redis_url NULL or "": in-process. Else redis://[:password@]host[:port][/db]. Returns NULL
 * with a message on a bad URL; an unreachable Redis is not an error (the bus falls back and
 * keeps trying). */
sdsim_bus *sdsim_bus_open(uv_loop_t *loop, const char *redis_url, char *err, size_t errlen);
/* Drops the connections and subscriptions, then calls closed(ud) on the loop. */
void sdsim_bus_close(sdsim_bus *b, void (*closed)(void *ud), void *ud);
int sdsim_bus_uses_redis(const sdsim_bus *b); /* configured with a Redis URL */
int sdsim_bus_connected(const sdsim_bus *b);  /* Redis is up now (both connections) */
/* Times Redis connections were (re)established, for tests and /metrics. */
uint64_t sdsim_bus_connects(const sdsim_bus *b);

/* Every subscriber of channel on every host gets the bytes (on this host only while Redis is
 * away). 0, or -1 if the message could not be queued. */
int sdsim_bus_publish(sdsim_bus *b, const char *channel, const void *data, size_t len);
sdsim_bus_sub *sdsim_bus_subscribe(sdsim_bus *b, const char *channel, sdsim_bus_msg_cb cb,
                                   void *ud);
void sdsim_bus_unsubscribe(sdsim_bus_sub *s);

/* Counts one hit of key in a fixed window of window_s seconds (INCR, then EXPIRE NX): the
 * callback gets the number of hits in the current window, this one included. */
void sdsim_bus_rate_hit(sdsim_bus *b, const char *key, int window_s, sdsim_bus_int_cb cb, void *ud);
/* Keys with a lifetime (ttl_s > 0). set: value 1 when stored; del: keys removed. */
void sdsim_bus_kv_set(sdsim_bus *b, const char *key, const char *value, size_t len, int ttl_s,
                      sdsim_bus_int_cb cb, void *ud);
void sdsim_bus_kv_get(sdsim_bus *b, const char *key, sdsim_bus_str_cb cb, void *ud);
void sdsim_bus_kv_del(sdsim_bus *b, const char *key, sdsim_bus_int_cb cb, void *ud);

/* As sdsim_bus_publish, and cb gets how many subscribers received the message (Redis' PUBLISH
 * count: connections of every host; this host's subscribers while Redis is away). */
int sdsim_bus_publish_count(sdsim_bus *b, const char *channel, const void *data, size_t len,
                            sdsim_bus_int_cb cb, void *ud);
/* Sorted sets whose members expire one by one: a member's score is its expiry time (ms since
 * the epoch), refreshed by adding it again. zadd: ZADD then EXPIRE key ttl_s (the key goes when
 * nothing refreshes it), value 1 when the member is new. zrem: value 1 when it was there.
 * zcount_from: drops the members scored below min, then counts the rest (ZCARD). */
void sdsim_bus_zadd(sdsim_bus *b, const char *key, double score, const char *member, int ttl_s,
                    sdsim_bus_int_cb cb, void *ud);
void sdsim_bus_zrem(sdsim_bus *b, const char *key, const char *member, sdsim_bus_int_cb cb,
                    void *ud);
void sdsim_bus_zcount_from(sdsim_bus *b, const char *key, double min, sdsim_bus_int_cb cb,
                           void *ud);
