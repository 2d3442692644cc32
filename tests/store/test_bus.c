/* The bus, in-process and on a real Redis (tests/services/redis.sh; URL in
 * $SDSIM_SERVICES_DIR/redis.url): pub/sub between two "hosts", shared rate limits and keys,
 * Redis going away (the bus falls back to in-process) and coming back (it reconnects and
 * subscribes again), and a Redis that stops answering (the watchdog drops the connection). */
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <uv.h>
#include "bus.h"
#include "test.h"

#ifndef SDSIM_SOURCE_DIR
#define SDSIM_SOURCE_DIR "."
#endif

static uv_loop_t *loop;
static char services[1024];
static char redis_url[256];

typedef struct inbox {
    int n;
    char last[256];
    size_t last_len;
} inbox;

static void on_msg(void *ud, const char *channel, const char *data, size_t len) {
    inbox *in = ud;
    in->n++;
    in->last_len = len < sizeof in->last ? len : sizeof in->last - 1;
    memcpy(in->last, data, in->last_len);
    in->last[in->last_len] = 0;
}

typedef struct answer {
    int done, status;
    int64_t value;
    char str[256];
    int has_str;
} answer;

static void on_int(void *ud, int status, int64_t v) {
    answer *a = ud;
    a->done = 1, a->status = status, a->value = v;
}

static void on_str(void *ud, int status, const char *v, size_t len) {
    answer *a = ud;
    a->done = 1, a->status = status, a->has_str = v != NULL;
    if (v) snprintf(a->str, sizeof a->str, "%.*s", (int)len, v);
}

static void on_tick(uv_timer_t *t) {
    *(int *)t->data = 1;
}

/* Runs the loop until cond holds or ms pass; returns whether it held. */
static int run_ms(int ms, int *flag) {
    uv_timer_t t;
    int fired = 0;
    uv_timer_init(loop, &t);
    t.data = &fired;
    uv_timer_start(&t, on_tick, (uint64_t)ms, 0);
    while (!fired && !(flag && *flag))
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return flag ? *flag : 1;
}

static int wait_connected(sdsim_bus *b, int want, int ms) {
    for (int waited = 0; waited < ms; waited += 20) {
        if (sdsim_bus_connected(b) == want) return 1;
        run_ms(20, NULL);
    }
    return sdsim_bus_connected(b) == want;
}

static int64_t rate(sdsim_bus *b, const char *key, int window) {
    answer a = {0};
    sdsim_bus_rate_hit(b, key, window, on_int, &a);
    CHECK(!a.done); /* never inside the call */
    run_ms(3000, &a.done);
    CHECK(a.done && a.status == 0);
    return a.value;
}

static void closed_cb(void *ud) {
    *(int *)ud = 1;
}

static void close_bus(sdsim_bus *b) {
    int closed = 0;
    sdsim_bus_close(b, closed_cb, &closed);
    run_ms(2000, &closed);
    CHECK(closed);
}

static int64_t int_call(void (*fn)(sdsim_bus *, const char *, double, sdsim_bus_int_cb, void *),
                        sdsim_bus *b, const char *key, double v) {
    answer a = {0};
    fn(b, key, v, on_int, &a);
    CHECK(!a.done);
    run_ms(3000, &a.done);
    CHECK(a.done && a.status == 0);
    return a.value;
}

static int64_t zadd(sdsim_bus *b, const char *key, double score, const char *member) {
    answer a = {0};
    sdsim_bus_zadd(b, key, score, member, 60, on_int, &a);
    CHECK(!a.done);
    run_ms(3000, &a.done);
    CHECK(a.done && a.status == 0);
    return a.value;
}

static int64_t zrem(sdsim_bus *b, const char *key, const char *member) {
    answer a = {0};
    sdsim_bus_zrem(b, key, member, on_int, &a);
    run_ms(3000, &a.done);
    CHECK(a.done && a.status == 0);
    return a.value;
}

static int64_t publish_count(sdsim_bus *b, const char *channel, const char *msg) {
    answer a = {0};
    sdsim_bus_publish_count(b, channel, msg, strlen(msg), on_int, &a);
    CHECK(!a.done);
    run_ms(3000, &a.done);
    CHECK(a.done && a.status == 0);
    return a.value;
}

/* Members expire by score (an expiry time): counting from t drops those below it. Scores are
 * ms since the epoch in the server, any numbers here. */
static void sorted_sets(sdsim_bus *a, sdsim_bus *b, const char *key) {
    CHECK(zadd(a, key, 2000, "a:1") == 1);
    CHECK(zadd(b, key, 3000, "b:1") == 1);
    CHECK(zadd(a, key, 2500, "a:1") == 0); /* refreshed, not new */
    CHECK(int_call(sdsim_bus_zcount_from, b, key, 1000) == 2);
    CHECK(int_call(sdsim_bus_zcount_from, a, key, 2600) == 1); /* a:1 (2500) expired: gone */
    CHECK(int_call(sdsim_bus_zcount_from, b, key, 0) == 1);
    CHECK(zrem(a, key, "b:1") == 1);
    CHECK(zrem(a, key, "b:1") == 0);
    CHECK(int_call(sdsim_bus_zcount_from, b, key, 0) == 0);
}

static void in_process(void) {
    char err[128];
    sdsim_bus *b = sdsim_bus_open(loop, NULL, err, sizeof err);
    CHECK(b && !sdsim_bus_uses_redis(b));
    inbox x = {0}, y = {0}, z = {0};
    sdsim_bus_sub *sx = sdsim_bus_subscribe(b, "frames:1", on_msg, &x);
    sdsim_bus_subscribe(b, "frames:1", on_msg, &y);
    sdsim_bus_subscribe(b, "frames:2", on_msg, &z);
    sdsim_bus_publish(b, "frames:1", "a\0b", 3);
    CHECK(x.n == 0); /* delivered from the loop */
    run_ms(50, NULL);
    CHECK(x.n == 1 && y.n == 1 && z.n == 0 && x.last_len == 3 && !memcmp(x.last, "a\0b", 3));
    sdsim_bus_unsubscribe(sx);
    sdsim_bus_publish(b, "frames:1", "c", 1);
    run_ms(50, NULL);
    CHECK(x.n == 1 && y.n == 2);
    CHECK(rate(b, "login:1.2.3.4", 1) == 1);
    CHECK(rate(b, "login:1.2.3.4", 1) == 2);
    CHECK(rate(b, "login:other", 1) == 1);
    answer a = {0};
    sdsim_bus_kv_set(b, "session:u1", "{\"sim\":1}", 9, 1, on_int, &a);
    run_ms(1000, &a.done);
    CHECK(a.status == 0 && a.value == 1);
    memset(&a, 0, sizeof a);
    sdsim_bus_kv_get(b, "session:u1", on_str, &a);
    run_ms(1000, &a.done);
    CHECK(a.has_str && !strcmp(a.str, "{\"sim\":1}"));
    run_ms(1100, NULL); /* the 1 s window and lifetime pass */
    CHECK(rate(b, "login:1.2.3.4", 1) == 1);
    memset(&a, 0, sizeof a);
    sdsim_bus_kv_get(b, "session:u1", on_str, &a);
    run_ms(1000, &a.done);
    CHECK(a.done && a.status == 0 && !a.has_str);
    memset(&a, 0, sizeof a);
    sdsim_bus_kv_set(b, "k", "v", 1, 60, NULL, NULL);
    sdsim_bus_kv_del(b, "k", on_int, &a);
    run_ms(1000, &a.done);
    CHECK(a.value == 1);
    /* publish_count: the subscribers that got it (y on frames:1; nobody on frames:9) */
    CHECK(publish_count(b, "frames:1", "d") == 1);
    CHECK(publish_count(b, "frames:9", "e") == 0);
    run_ms(50, NULL);
    CHECK(y.n == 3);
    sorted_sets(b, b, "user:u1:simulations");
    close_bus(b);
}

static int redis_ctl(const char *what) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "bash '%s/tests/services/redis.sh' %s '%s' >/dev/null",
             SDSIM_SOURCE_DIR, what, services);
    return system(cmd);
}

static void redis_two_hosts(void) {
    char err[128];
    CHECK(sdsim_bus_open(loop, "http://x", err, sizeof err) == NULL);
    sdsim_bus *a = sdsim_bus_open(loop, redis_url, err, sizeof err);
    sdsim_bus *b = sdsim_bus_open(loop, redis_url, err, sizeof err);
    CHECK(a && b);
    if (!a || !b) return;
    CHECK(wait_connected(a, 1, 3000) && wait_connected(b, 1, 3000));
    inbox on_b = {0};
    sdsim_bus_subscribe(b, "sim:42", on_msg, &on_b);
    run_ms(100, NULL); /* the SUBSCRIBE reaches Redis */
    sdsim_bus_publish(a, "sim:42", "frame\0bin", 9);
    for (int i = 0; i < 100 && on_b.n == 0; i++)
        run_ms(10, NULL);
    CHECK(on_b.n == 1 && on_b.last_len == 9 && !memcmp(on_b.last, "frame\0bin", 9));
    /* Counters and keys are shared between the hosts. */
    char key[64];
    snprintf(key, sizeof key, "login:%d", (int)getpid());
    CHECK(rate(a, key, 60) == 1);
    CHECK(rate(b, key, 60) == 2);
    /* PUBLISH's count: b's subscription (one per channel and connection), then nobody. */
    CHECK(publish_count(a, "sim:42", "counted") == 1);
    CHECK(publish_count(a, "sim:none", "lost") == 0);
    char zkey[64];
    snprintf(zkey, sizeof zkey, "user:%d:simulations", (int)getpid());
    sorted_sets(a, b, zkey); /* one set seen by both hosts */
    answer x = {0};
    sdsim_bus_kv_set(a, "session:u9", "hello", 5, 60, on_int, &x);
    run_ms(2000, &x.done);
    CHECK(x.status == 0 && x.value == 1);
    memset(&x, 0, sizeof x);
    sdsim_bus_kv_get(b, "session:u9", on_str, &x);
    run_ms(2000, &x.done);
    CHECK(x.has_str && !strcmp(x.str, "hello"));

    /* Redis goes away: the bus falls back to this process. */
    uint64_t connects = sdsim_bus_connects(a);
    CHECK(redis_ctl("stop") == 0);
    CHECK(wait_connected(a, 0, 3000));
    inbox on_a = {0};
    sdsim_bus_subscribe(a, "sim:7", on_msg, &on_a);
    sdsim_bus_publish(a, "sim:7", "local", 5);
    run_ms(50, NULL);
    CHECK(on_a.n == 1 && !strcmp(on_a.last, "local"));
    CHECK(rate(a, "login:down", 60) == 1);
    /* sets fall back to this process too: only this host's members count */
    CHECK(zadd(a, "user:down:simulations", 5000, "a:9") == 1);
    CHECK(int_call(sdsim_bus_zcount_from, a, "user:down:simulations", 1000) == 1);
    CHECK(publish_count(a, "sim:7", "local count") == 1);
    /* ... and comes back on the same port: both reconnect and subscribe again. */
    double t0 = uv_now(loop);
    CHECK(redis_ctl("restart") == 0);
    CHECK(wait_connected(a, 1, 5000) && wait_connected(b, 1, 5000));
    printf("  reconnected %.0f ms after Redis restarted\n", uv_now(loop) - t0);
    CHECK(sdsim_bus_connects(a) > connects);
    run_ms(100, NULL);
    on_b.n = 0;
    sdsim_bus_publish(a, "sim:42", "again", 5);
    for (int i = 0; i < 100 && on_b.n == 0; i++)
        run_ms(10, NULL);
    CHECK(on_b.n == 1 && !strcmp(on_b.last, "again"));
    on_a.n = 0;
    sdsim_bus_publish(b, "sim:7", "via redis", 9);
    for (int i = 0; i < 100 && on_a.n == 0; i++)
        run_ms(10, NULL);
    CHECK(on_a.n == 1 && !strcmp(on_a.last, "via redis"));
    close_bus(a);
    close_bus(b);
}

/* A Redis that stops answering (SIGSTOP): the call fails within the watchdog's timeout rather
 * than hanging, and the bus reconnects once it answers again. */
static void redis_hung(void) {
    char err[128], path[1200], dir[1024] = "";
    snprintf(path, sizeof path, "%s/redis.dir", services);
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(dir, sizeof dir, f)) dir[0] = 0;
        fclose(f);
    }
    dir[strcspn(dir, "\n")] = 0;
    snprintf(path, sizeof path, "%s/redis.pid", dir);
    f = fopen(path, "r");
    int pid = 0;
    if (f) {
        if (fscanf(f, "%d", &pid) != 1) pid = 0;
        fclose(f);
    }
    CHECK(pid > 0);
    if (pid <= 0) return;
    sdsim_bus *a = sdsim_bus_open(loop, redis_url, err, sizeof err);
    CHECK(wait_connected(a, 1, 3000));
    kill(pid, SIGSTOP);
    answer x = {0};
    double t0 = uv_now(loop);
    sdsim_bus_rate_hit(a, "login:hung", 60, on_int, &x);
    run_ms(5000, &x.done);
    double waited = uv_now(loop) - t0;
    CHECK(x.done && x.status == -1);
    printf("  a hung Redis: the call failed after %.0f ms\n", waited);
    CHECK(waited < 4000);
    kill(pid, SIGCONT);
    CHECK(wait_connected(a, 1, 5000));
    CHECK(rate(a, "login:hung", 60) >= 1);
    close_bus(a);
}

int main(void) {
    loop = uv_default_loop();
    const char *dir = getenv("SDSIM_SERVICES_DIR");
    snprintf(services, sizeof services, "%s", dir ? dir : ".");
    char path[1200];
    snprintf(path, sizeof path, "%s/redis.url", services);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(redis_url, sizeof redis_url, f)) {
        printf("FAIL redis: no URL in %s (tests/services/redis.sh start DIR)\n", path);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    fclose(f);
    redis_url[strcspn(redis_url, "\r\n")] = 0;
    static const test_case cases[] = {TEST(in_process), TEST(redis_two_hosts), TEST(redis_hung)};
    return test_main(cases, 3);
}
