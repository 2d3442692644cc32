/* Lua component behaviours (docs/plugin-api.md): the shipped Lua types run in small designs
 * (token bucket, consensus with a leader crash), the ctx API's calls / retries / sleeps /
 * async / timers, determinism, errors naming file:line, crashes of replicas holding
 * suspended behaviours, and the plugin sandbox (endless loop, VM crash) costing only its
 * child. Designs come from JSON through the real loader (design.lua), or are built in C with
 * script texts pointing at small type files written to a temporary directory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "design_load.h"
#include "lua_behavior.h"
#include "sim.h"
#include "test.h"

static char tmpdir[256];

static sim_design *load_json(const char *json) {
    sdsim_problems p = {0};
    sim_design *d = sdsim_load_design_json(json, strlen(json), &p);
    for (int i = 0; i < p.n; i++)
        fprintf(stderr, "  problem %s: %s\n", p.items[i].path, p.items[i].reason);
    sdsim_problems_free(&p);
    return d;
}

/* Runs d (behaviours attached) for duration seconds; the run is returned (NULL on failure,
 * with the error copied into err). */
static sim_run *run_for(sim_design *d, double duration, uint64_t seed, char *err, size_t n) {
    sim_options o = sim_options_defaults();
    o.duration = duration;
    o.seed = seed;
    sim_run *r = sim_run_new(d, &o, err, (int)n);
    if (!r) return NULL;
    if (sim_run_until(r, duration) < 0) {
        snprintf(err, n, "%s", sim_run_error(r));
        sim_run_free(r);
        return NULL;
    }
    return r;
}

static int comp(const sim_design *d, const char *id) {
    return sim_design_find(d, id);
}

/* ---- token bucket: 1000 rps offered, 500 admitted --------------------------------------- */

static void test_token_bucket(void) {
    sim_design *d =
        load_json("{\"version\":1,\"components\":["
                  "{\"id\":\"limiter\",\"type\":\"token_bucket\",\"params\":{\"rate_rps\":500,"
                  "\"burst\":20}},"
                  "{\"id\":\"api\",\"type\":\"service\",\"replicas\":1,\"params\":{\"workers\":0,"
                  "\"service_time\":{\"dist\":\"const\",\"mean_ms\":2}}}],"
                  "\"edges\":[{\"from\":\"limiter\",\"to\":\"api\",\"mode\":\"forward\"}],"
                  "\"workload\":[{\"to\":\"limiter\",\"rps\":1000}]}");
    CHECK(d != NULL);
    if (!d) return;
    CHECK(d->components[0].behavior == SIM_BEHAVIOR_SCRIPT);
    char err[512] = "";
    sdsim_behavior_host *h = sdsim_behavior_attach(d, NULL, err, sizeof err);
    CHECK(h != NULL);
    sim_run *r = h ? run_for(d, 40, 1, err, sizeof err) : NULL;
    if (!r) fprintf(stderr, "  %s\n", err);
    CHECK(r != NULL);
    if (r) {
        const sim_results *res = sim_run_results(r);
        const sim_component_result *lim = &res->components[comp(d, "limiter")];
        const sim_component_result *api = &res->components[comp(d, "api")];
        /* Offered 1000/s > rate 500/s: admitted = 500/s + burst/duration (0.5/s), so the
         * throughput is within 2 % of 500 (Poisson noise over 20,000 admissions ~0.7 %). */
        CHECK_REL(api->throughput, 500, 0.02);
        CHECK_REL(lim->throughput, 500, 0.02);
        /* Rejected: the rest of the 1000/s, counted as errors at the limiter. */
        CHECK_REL((double)lim->errors / res->measured_time, 500, 0.03);
        CHECK_NEAR(res->e2e.error_rate, 0.5, 0.02);
        /* A forward: the limiter's response is its own 0.05 ms service. */
        CHECK_NEAR(lim->response.mean * 1e3, 0.05, 1e-6);
        sim_run_free(r);
    }
    sdsim_behavior_detach(d, h);
    sim_design_free(d);
}

/* ---- consensus: the leader crashes, an election rejects writes, then writes succeed ------ */

static void test_consensus_election(void) {
    /* 200 writes/s into a 3-replica cluster; replica 0 (the leader) crashes at 5 s for good.
     * Heartbeat 50 ms, election 300 ms: writes fail from the crash until the election ends,
     * i.e. for between 300 and 350 ms (+ the writes held at the crashed replica). */
    sim_design *d = load_json(
        "{\"version\":1,\"components\":["
        "{\"id\":\"raft\",\"type\":\"consensus\",\"params\":{\"election_timeout_ms\":300,"
        "\"heartbeat_ms\":50}}],"
        "\"workload\":[{\"to\":\"raft\",\"rps\":200}],"
        "\"scenario\":[{\"at_s\":5,\"fault\":\"crash\",\"target\":\"raft\",\"replica\":0}]}");
    CHECK(d != NULL);
    if (!d) return;
    char err[512] = "";
    sdsim_behavior_host *h = sdsim_behavior_attach(d, NULL, err, sizeof err);
    CHECK(h != NULL);
    sim_run *r = h ? run_for(d, 12, 3, err, sizeof err) : NULL;
    if (!r) fprintf(stderr, "  %s\n", err);
    CHECK(r != NULL);
    if (r) {
        const sim_results *res = sim_run_results(r);
        uint64_t errors = res->components[0].errors;
        /* Expected ~200/s x 0.325 s = 65 failed writes; Poisson and detection phase spread
         * it: accept 35..110. */
        CHECK(errors >= 35 && errors <= 110);
        int nwin = sim_run_windows(r);
        uint64_t before = 0, during = 0, after = 0;
        for (int w = 0; w < nwin; w++) {
            uint32_t e = sim_run_window(r, w, 0)->errors;
            if (w < 5)
                before += e;
            else if (w == 5)
                during += e;
            else
                after += e;
        }
        CHECK(before == 0);      /* a healthy cluster never fails a write */
        CHECK(during == errors); /* the election is over within the crash's second */
        CHECK(after == 0);       /* the new leader takes writes */
        /* Two replicas serve afterwards: capacity was enough, throughput stays 200/s. */
        CHECK_REL(res->components[0].throughput, 200 - errors / 12.0, 0.06);
        sim_run_free(r);
    }
    sdsim_behavior_detach(d, h);
    sim_design_free(d);
}

/* ---- designs built in C around small type files ---------------------------------------- */

static void write_type(const char *name, const char *body) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.lua", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (!f) return;
    fprintf(f, "return { name = \"%s\", params = {},\n%s\n}\n", name, body);
    fclose(f);
}

static int add_script(sim_design *d, const char *id, const char *type, int workers, int plugin) {
    sim_component c = sim_component_defaults(id);
    c.behavior = SIM_BEHAVIOR_SCRIPT;
    c.workers = workers;
    c.service = sim_dist_const(0.001);
    snprintf(c.type, sizeof c.type, "%s", type);
    int i = sim_design_add_component(d, &c);
    char json[1024];
    snprintf(json, sizeof json, "{\"file\":\"%s/%s.lua\",\"params\":{\"n\":3},\"plugin\":%s}",
             tmpdir, type, plugin ? "true" : "false");
    sim_design_set_script(d, i, json);
    return i;
}

static int add_service(sim_design *d, const char *id, double mean) {
    sim_component c = sim_component_defaults(id);
    c.workers = 0;
    c.service = sim_dist_const(mean);
    return sim_design_add_component(d, &c);
}

static void add_edge(sim_design *d, int from, int to, sim_edge_mode mode, int retries,
                     double timeout) {
    sim_edge e = sim_edge_defaults(from, to);
    e.mode = mode;
    e.retries = retries;
    e.timeout = timeout;
    e.backoff_base = 0.001;
    sim_design_add_edge(d, &e);
}

static void add_source(sim_design *d, int to, double rps) {
    sim_workload w = sim_workload_defaults(to);
    w.rps = rps;
    sim_design_add_workload(d, &w);
}

static sim_design *checked(sim_design *d) {
    char err[256];
    if (sim_design_check(d, err, sizeof err) != 0) {
        fprintf(stderr, "  design refused: %s\n", err);
        sim_design_free(d);
        return NULL;
    }
    return d;
}

/* Calls, call_all, sleep, async, the elapsed times they report. */
static void test_ctx_api(void) {
    write_type("api_user",
               "behavior = function(req, ctx)\n"
               "  local ok, ms = ctx:call('db')\n" /* db: const 2 ms */
               "  if not ok or math.abs(ms - 2) > 1e-9 then return ctx:fail('call') end\n"
               "  local t0 = ctx:now()\n"
               "  ctx:sleep(3)\n"
               "  if math.abs(ctx:now() - t0 - 3) > 1e-9 then return ctx:fail('sleep') end\n"
               "  local ok2, ms2 = ctx:call_all{'db', 'slow'}\n" /* max(2, 5) ms */
               "  if not ok2 or math.abs(ms2 - 5) > 1e-9 then return ctx:fail('all') end\n"
               "  ctx:async('log')\n"
               "  if ctx.params.n ~= 3 then return ctx:fail('params') end\n"
               "  return ctx:answer()\n"
               "end,");
    sim_design *d = sim_design_new("api");
    int a = add_script(d, "a", "api_user", 0, 0);
    int db = add_service(d, "db", 0.002), slow = add_service(d, "slow", 0.005);
    int log = add_service(d, "log", 0.001);
    add_edge(d, a, db, SIM_EDGE_CALL, 0, 0);
    add_edge(d, a, slow, SIM_EDGE_CALL, 0, 0);
    add_edge(d, a, log, SIM_EDGE_ASYNC, 0, 0);
    add_source(d, a, 100);
    if (!(d = checked(d))) {
        CHECK(0);
        return;
    }
    char err[512] = "";
    sdsim_behavior_host *h = sdsim_behavior_attach(d, NULL, err, sizeof err);
    CHECK(h != NULL);
    sim_run *r = h ? run_for(d, 20, 1, err, sizeof err) : NULL;
    if (!r) fprintf(stderr, "  %s\n", err);
    CHECK(r != NULL);
    if (r) {
        const sim_results *res = sim_run_results(r);
        CHECK(res->components[a].errors == 0); /* every check inside the behaviour held */
        CHECK(res->components[a].completions > 1500);
        /* Response at a = 2 (call) + 3 (sleep) + 5 (call_all) = 10 ms exactly. */
        CHECK_NEAR(res->components[a].response.mean * 1e3, 10, 1e-6);
        /* db gets one call from each of call and call_all; log one async copy. */
        CHECK(res->components[db].arrivals == 2 * res->components[a].arrivals ||
              res->components[db].arrivals + 4 >= 2 * res->components[a].arrivals);
        CHECK(res->components[log].arrivals + 2 >= res->components[a].arrivals);
        sim_run_free(r);
    }
    sdsim_behavior_detach(d, h);
    sim_design_free(d);
}

/* A failing callee: the edge's retries happen, then the behaviour learns ok = false. */
static void test_call_failure_and_retries(void) {
    write_type("retrier", "behavior = function(req, ctx)\n"
                          "  local ok = ctx:call('db')\n"
                          "  if ok then return ctx:answer() end\n"
                          "  return ctx:fail('db down')\n"
                          "end,");
    sim_design *d = sim_design_new("retry");
    int a = add_script(d, "a", "retrier", 0, 0);
    int db = add_service(d, "db", 0.001);
    d->components[db].error_rate = 1; /* every call fails */
    add_edge(d, a, db, SIM_EDGE_CALL, 2, 0);
    add_source(d, a, 50);
    if (!(d = checked(d))) {
        CHECK(0);
        return;
    }
    char err[512] = "";
    sdsim_behavior_host *h = sdsim_behavior_attach(d, NULL, err, sizeof err);
    sim_run *r = h ? run_for(d, 10, 1, err, sizeof err) : NULL;
    CHECK(r != NULL);
    if (r) {
        const sim_results *res = sim_run_results(r);
        const sim_component_result *ca = &res->components[a];
        CHECK(ca->completions == 0);
        CHECK(ca->errors > 400); /* ~50/s for 10 s, each failed by the script */
        /* 2 retries per request: db sees 3 attempts each. */
        CHECK_NEAR((double)res->components[db].arrivals / ca->arrivals, 3, 0.02);
        CHECK(ca->retries >= 2 * ca->errors - 4);
        sim_run_free(r);
    }
    sdsim_behavior_detach(d, h);
    sim_design_free(d);
}

/* Same seed, same results; timers and ctx:random are part of the seeded run. */
static void test_determinism(void) {
    write_type("dice",
               "init = function(ctx) ctx.state.n = 0\n"
               "  local function tick() ctx.state.n = ctx.state.n + 1; ctx:after(7, tick) end\n"
               "  ctx:after(7, tick) end,\n"
               "behavior = function(req, ctx)\n"
               "  ctx:work(ctx:random() * 2)\n"
               "  if ctx:random(10) == 1 then return ctx:fail('dice') end\n"
               "end,");
    double v[2][3];
    for (int k = 0; k < 2; k++) {
        sim_design *d = sim_design_new("dice");
        int a = add_script(d, "a", "dice", 1, 0);
        add_source(d, a, 300);
        if (!(d = checked(d))) {
            CHECK(0);
            return;
        }
        char err[512] = "";
        sdsim_behavior_host *h = sdsim_behavior_attach(d, NULL, err, sizeof err);
        sim_run *r = h ? run_for(d, 10, 42, err, sizeof err) : NULL;
        CHECK(r != NULL);
        if (!r) return;
        const sim_results *res = sim_run_results(r);
        v[k][0] = res->components[0].response.mean;
        v[k][1] = (double)res->components[0].errors;
        v[k][2] = (double)res->events;
        sim_run_free(r);
        sdsim_behavior_detach(d, h);
        sim_design_free(d);
    }
    CHECK(memcmp(v[0], v[1], sizeof v[0]) == 0);
    /* ctx:random(10) == 1 fails 10 % of requests. */
    CHECK(v[0][1] > 0);
}

/* A Lua error in a behaviour stops the run with the file and line. */
static void test_error_names_file_line(void) {
    write_type("broken", "behavior = function(req, ctx)\n"
                         "  ctx:work(1)\n"
                         "  local x = nil\n"
                         "  return x.field\n" /* line 5 of the file (after the header line) */
                         "end,");
    sim_design *d = sim_design_new("broken");
    int a = add_script(d, "a", "broken", 1, 0);
    add_source(d, a, 10);
    if (!(d = checked(d))) {
        CHECK(0);
        return;
    }
    char err[512] = "", want[512];
    sdsim_behavior_host *h = sdsim_behavior_attach(d, NULL, err, sizeof err);
    CHECK(h != NULL);
    sim_run *r = h ? run_for(d, 10, 1, err, sizeof err) : NULL;
    CHECK(r == NULL);
    snprintf(want, sizeof want, "%s/broken.lua:5:", tmpdir);
    CHECK(strstr(err, want) != NULL);
    CHECK(strstr(err, "component 'a'") != NULL);
    if (!strstr(err, want)) fprintf(stderr, "  got: %s\n", err);
    sdsim_behavior_detach(d, h);
    sim_design_free(d);
}

/* A replica crash fails requests whose behaviours are suspended; the run goes on and the
 * dropped coroutines are replaced. */
static void test_crash_drops_suspended(void) {
    write_type("slowpoke", "behavior = function(req, ctx) ctx:work(50); ctx:sleep(50) end,");
    sim_design *d = sim_design_new("crash");
    int a = add_script(d, "a", "slowpoke", 0, 0);
    add_source(d, a, 100);
    sim_fault f = sim_fault_defaults(SIM_FAULT_CRASH);
    f.target = a;
    f.replica = 0;
    f.at = 3;
    f.duration = 1;
    sim_design_add_fault(d, &f);
    if (!(d = checked(d))) {
        CHECK(0);
        return;
    }
    char err[512] = "";
    sdsim_behavior_host *h = sdsim_behavior_attach(d, NULL, err, sizeof err);
    sim_run *r = h ? run_for(d, 8, 1, err, sizeof err) : NULL;
    if (!r) fprintf(stderr, "  %s\n", err);
    CHECK(r != NULL);
    if (r) {
        const sim_results *res = sim_run_results(r);
        /* ~10 in flight (100/s x 100 ms) fail at the crash, ~100 arrive while it is down. */
        CHECK(res->components[a].errors >= 60 && res->components[a].errors <= 160);
        CHECK(res->components[a].completions > 550); /* 7 s of traffic survive */
        CHECK_NEAR(res->components[a].response.mean * 1e3, 100, 1e-6);
        sim_run_free(r);
    }
    sdsim_behavior_detach(d, h);
    sim_design_free(d);
}

/* ---- the plugin sandbox --------------------------------------------------------------- */

static int body_run(sim_design *d, void *ud) {
    char err[512];
    sim_run *r = run_for(d, 5, 1, err, sizeof err);
    if (!r) return 3;
    sim_run_free(r);
    return 0;
}

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int sandboxed_run(const char *type, double cpu_s, double *secs) {
    sim_design *d = sim_design_new("plugin");
    int a = add_script(d, "a", type, 1, 1);
    add_source(d, a, 10);
    if (!(d = checked(d))) return -1;
    sdsim_isolation lim = {.cpu_s = cpu_s};
    double t0 = mono();
    int rc = sdsim_behavior_run(d, &lim, body_run, NULL);
    *secs = mono() - t0;
    sim_design_free(d);
    return rc;
}

static void test_plugin_sandbox(void) {
    double secs;
    write_type("fine", "behavior = function(req, ctx) ctx:work() end,");
    CHECK(sandboxed_run("fine", 10, &secs) == 0); /* the body's own exit code comes back */
    /* An endless loop inside a (JIT-compiled) behaviour: the CPU limit (1 s) cuts it off. */
    write_type("spin", "behavior = function(req, ctx) local i = 0; while true do i = i + 1 end "
                       "end,");
    CHECK(sandboxed_run("spin", 1, &secs) == 2);
    CHECK(secs < 10); /* 1 s of CPU; a loaded machine may stretch the wall clock */
    /* A VM crash (C-stack overflow through gsub): only the child dies. */
    write_type("crash", "behavior = function(req, ctx)\n"
                        "  local function f(s) return (s:gsub('.', f)) end\n"
                        "  f('x') end,");
    /* (2 after the parent's one-line message; under AddressSanitizer the child itself reports
     * the overflow and exits with ASan's status instead of dying by SIGSEGV.) */
    int crash_rc = sandboxed_run("crash", 10, &secs);
#ifdef __SANITIZE_ADDRESS__
    CHECK(crash_rc != 0);
#else
    CHECK(crash_rc == 2);
#endif
    /* A memory bomb: the Lua allocator's cap; the run stops with a message. */
    write_type("bomb", "behavior = function(req, ctx)\n"
                       "  local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(1000) .. i end end,");
    sdsim_isolation lim = {.cpu_s = 20, .memory_mb = 64};
    sim_design *d = sim_design_new("bomb");
    int a = add_script(d, "a", "bomb", 1, 1);
    add_source(d, a, 10);
    if ((d = checked(d))) {
        CHECK(sdsim_behavior_run(d, &lim, body_run, NULL) != 0);
        sim_design_free(d);
    }
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sdsim_lua_behavior_%d", (int)getpid());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", tmpdir);
    if (system(cmd) != 0) return 1;
    static const test_case cases[] = {
        TEST(test_token_bucket),
        TEST(test_consensus_election),
        TEST(test_ctx_api),
        TEST(test_call_failure_and_retries),
        TEST(test_determinism),
        TEST(test_error_names_file_line),
        TEST(test_crash_drops_suspended),
        TEST(test_plugin_sandbox),
    };
    int rc = test_main(cases, (int)(sizeof cases / sizeof cases[0]));
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) rc = 1;
    return rc;
}
