/* The server's runs of designs with plugin types (host.run, api_jobs.c) in exec mode
 * (sdsim_design_set_exec): the isolated child is this test program exec'd afresh as
 * `/proc/self/exe __run-child`, as `sdsim serve` execs sdsim. The plugin type exists only in
 * the thread's in-memory source set (under user-plugins/, as a user's plugins reach a job), so
 * an exec'd run that succeeds also shows that the set travelled to the child.
 * Measured: the exec'd run's report is byte for byte the plain fork's (same seed: the engine
 * is deterministic, and the report holds no wall-clock figure); the report agrees with M/M/2
 * (so the behaviour really ran); a missing binary fails with the exec's status 127 (so exec
 * mode really execs); an endless loop in a behaviour is cut off by the limits in both modes;
 * sdsim_design_kill_children (the server's shutdown) ends an exec'd run at once; three
 * threads running at once all succeed. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_jobs.h"
#include "design_load.h"
#include "lua_state.h"
#include "test.h"

/* Two workers, exponential 2 ms service at 500 rps: M/M/2 at rho 0.5. */
static const char echo_src[] =
    "return { name = \"memecho\", behavior = function(req, ctx)\n"
    "    ctx:work()\n"
    "    return ctx:answer()\n"
    "  end,\n"
    "  params = { workers = std.param(\"workers\", { default = 2 }),\n"
    "             service_time = std.param(\"service_time\",\n"
    "                 { default = { dist = \"exp\", mean_ms = 2 } }) } }\n";
static const char loop_src[] = "return { name = \"memloop\", behavior = function(req, ctx)\n"
                               "    while true do end\n"
                               "  end,\n"
                               "  params = { workers = std.param(\"workers\") } }\n";

static const char echo_design[] = "{\"version\":1,\"name\":\"x\",\"components\":[{\"id\":\"p\","
                                  "\"type\":\"memecho\"}],\"workload\":[{\"to\":\"p\",\"rps\":"
                                  "500}]}";
static const char loop_design[] = "{\"version\":1,\"name\":\"x\",\"components\":[{\"id\":\"p\","
                                  "\"type\":\"memloop\"}],\"workload\":[{\"to\":\"p\",\"rps\":"
                                  "100}]}";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The thread's source set: the two plugin types, only in memory, as api_jobs.c builds a
 * user's (sdsim_api_job_sources). */
static sdsim_lua_sources *use_plugins(void) {
    sdsim_lua_sources *s = sdsim_lua_sources_new();
    CHECK(s != NULL);
    if (!s) return NULL;
    CHECK(sdsim_lua_sources_add(s, "user-plugins/memecho.lua", echo_src, strlen(echo_src)) == 0);
    CHECK(sdsim_lua_sources_add(s, "user-plugins/memloop.lua", loop_src, strlen(loop_src)) == 0);
    CHECK(sdsim_lua_sources_add_plugin_dir(s, "user-plugins") == 0);
    sdsim_lua_sources_use(s);
    return s;
}

static void done_plugins(sdsim_lua_sources *s) {
    sdsim_lua_sources_use(NULL);
    sdsim_lua_sources_unref(s);
}

typedef struct outcome {
    const char *code;
    char *text;
    size_t len;
    char msg[1200];
    double took;
} outcome;

static void run(const char *design, double duration, double wall_limit, outcome *o) {
    sdsim_api_run_opts opts = {
        .duration = duration, .warmup = duration / 10, .wall_limit = wall_limit, .seed = 7};
    double t0 = now_s();
    o->code =
        sdsim_api_run_now(design, strlen(design), &opts, &o->text, &o->len, o->msg, sizeof o->msg);
    o->took = now_s() - t0;
}

/* The mean response of component p in a report, or -1. */
static double mean_response(const char *text) {
    const char *k = text ? strstr(text, "\"mean_response_ms\":") : NULL;
    return k ? atof(k + strlen("\"mean_response_ms\":")) : -1;
}

static void exec_equals_fork(void) {
    sdsim_lua_sources *s = use_plugins();
    outcome forked = {0}, execd = {0};
    sdsim_design_set_exec(NULL);
    run(echo_design, 40, 30, &forked);
    sdsim_design_set_exec("/proc/self/exe");
    run(echo_design, 40, 30, &execd);
    CHECK(forked.code == NULL && execd.code == NULL);
    if (forked.code) fprintf(stderr, "  fork: %s: %s\n", forked.code, forked.msg);
    if (execd.code) fprintf(stderr, "  exec: %s: %s\n", execd.code, execd.msg);
    CHECK(forked.text && execd.text && forked.len == execd.len &&
          !memcmp(forked.text, execd.text, forked.len));
    CHECK(execd.text && strstr(execd.text, "\"behavior\": \"script\""));
    /* Erlang C for M/M/2, lambda 500, mu 500: P(wait) = 1/3, Wq = (1/3) / (2 mu - lambda) =
     * 0.667 ms, response 2.667 ms. About 18,000 requests after the warm-up: the standard
     * error of the mean is about 1.5 %; 8 % is a safe tolerance. */
    double m = mean_response(execd.text);
    CHECK_REL(m, 2.0 + 2.0 / 3.0, 0.08);
    printf("  fork %.2f s, exec %.2f s, %zu bytes alike, mean response %.3f ms\n", forked.took,
           execd.took, execd.len, m);
    free(forked.text);
    free(execd.text);
    done_plugins(s);
}

static void missing_binary_fails_cleanly(void) {
    sdsim_lua_sources *s = use_plugins();
    sdsim_design_set_exec("/nonexistent/sdsim");
    outcome o = {0};
    run(echo_design, 5, 30, &o);
    CHECK(o.code && !strcmp(o.code, "failed") && o.text == NULL);
    CHECK(strstr(o.msg, "exit status 127") != NULL);
    if (!strstr(o.msg, "exit status 127")) fprintf(stderr, "  got: %s\n", o.msg);
    free(o.text);
    sdsim_design_set_exec("/proc/self/exe");
    done_plugins(s);
}

/* An endless loop inside a behaviour: the child's CPU limit (wall limit + 1 s) or the
 * parent's deadline (wall limit + 2 s) stops it, in both modes, and the caller gets an
 * error, not a hang. */
static void endless_loop_is_stopped(void) {
    sdsim_lua_sources *s = use_plugins();
    for (int mode = 0; mode < 2; mode++) {
        sdsim_design_set_exec(mode ? "/proc/self/exe" : NULL);
        outcome o = {0};
        run(loop_design, 10, 1, &o);
        CHECK(o.code && (!strcmp(o.code, "stopped") || !strcmp(o.code, "timeout")));
        CHECK(o.took < 6); /* 1 s limit + 2 s grace, + a sanitizer's start-up */
        printf("  %s: %s after %.2f s: %s\n", mode ? "exec" : "fork", o.code ? o.code : "-", o.took,
               o.msg);
        free(o.text);
    }
    sdsim_design_set_exec("/proc/self/exe");
    done_plugins(s);
}

static void *run_loop_thread(void *arg) {
    outcome *o = arg;
    sdsim_lua_sources *s = use_plugins();
    run(loop_design, 10, 20, o);
    done_plugins(s);
    return NULL;
}

static void kill_children_ends_a_run(void) {
    sdsim_design_set_exec("/proc/self/exe");
    pthread_t t;
    outcome o = {0};
    CHECK(pthread_create(&t, NULL, run_loop_thread, &o) == 0);
    usleep(1200 * 1000); /* exec'd and looping (a sanitizer build starts slower) */
    sdsim_design_kill_children();
    pthread_join(t, NULL);
    CHECK(o.code && !strcmp(o.code, "stopped") && strstr(o.msg, "signal 9"));
    CHECK(o.took < 5); /* the limits alone would take 21 s */
    printf("  killed after %.2f s: %s\n", o.took, o.msg);
    free(o.text);
}

static void *run_echo_thread(void *arg) {
    outcome *o = arg;
    sdsim_lua_sources *s = use_plugins();
    run(echo_design, 10, 30, o);
    done_plugins(s);
    return NULL;
}

/* Three worker threads run at once (the server's thread pool): all succeed, alike. */
static void threads_at_once(void) {
    sdsim_design_set_exec("/proc/self/exe");
    pthread_t t[3];
    outcome o[3] = {{0}};
    double t0 = now_s();
    for (int i = 0; i < 3; i++)
        CHECK(pthread_create(&t[i], NULL, run_echo_thread, &o[i]) == 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 3; i++) {
        CHECK(o[i].code == NULL && o[i].text);
        CHECK(o[i].text && o[0].text && !strcmp(o[i].text, o[0].text));
    }
    for (int i = 0; i < 3; i++)
        free(o[i].text);
    printf("  3 runs in 3 threads: %.2f s\n", now_s() - t0);
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "__run-child"))
        return sdsim_api_run_child_main(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "__design-child"))
        return sdsim_design_child_main(argc - 2, argv + 2);
    static const test_case cases[] = {
        TEST(exec_equals_fork),        TEST(missing_binary_fails_cleanly),
        TEST(endless_loop_is_stopped), TEST(kill_children_ends_a_run),
        TEST(threads_at_once),
    };
    return test_main(cases, (int)(sizeof cases / sizeof cases[0]));
}
