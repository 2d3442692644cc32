/* The loader's isolated checks (templates, scenarios, plugin types) in exec mode
 * (sdsim_design_set_exec): the child is this test program exec'd afresh as
 * `/proc/self/exe __design-child`, as the server execs sdsim. Measured: the results equal
 * those of the plain fork; the thread's in-memory source set travels to the child (a template
 * and a component type that exist only in memory load); the plugin check's lock-down, budget
 * and crash handling hold; several threads checking at once all succeed; a missing binary
 * fails with the exec's status 127 (so exec mode really execs); sdsim_design_kill_children
 * ends an exec'd check at once. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "design_load.h"
#include "lua_state.h"
#include "test.h"

static char eco_[4096];

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Loads a design file; prints its problems. */
static sim_design *load_file(const char *path, sdsim_problems *p) {
    sim_design *d = sdsim_load_design_file(path, p);
    if (!d)
        for (int i = 0; i < p->n && i < 3; i++)
            fprintf(stderr, "  %s: %s\n", p->items[i].path, p->items[i].reason);
    return d;
}

static void template_same_as_fork(void) {
    sdsim_problems p = {0};
    sdsim_design_set_exec(NULL);
    sim_design *forked = load_file(eco_, &p);
    sdsim_design_set_exec("/proc/self/exe");
    sim_design *execd = load_file(eco_, &p);
    CHECK(forked && execd);
    if (forked && execd) {
        CHECK(forked->ncomponents == execd->ncomponents && forked->ncomponents > 3);
        CHECK(forked->nedges == execd->nedges && forked->nworkloads == execd->nworkloads);
        CHECK(!strcmp(forked->components[0].id, execd->components[0].id));
    }
    sim_design_free(forked);
    sim_design_free(execd);
    sdsim_problems_free(&p);
}

/* A template and a component type that exist only in the thread's source set: the exec'd
 * child has them only if the set was sent (its disk has neither). */
static void sources_travel_to_the_child(void) {
    sdsim_design_set_exec("/proc/self/exe");
    sdsim_lua_sources *s = sdsim_lua_sources_new();
    char dir[4200], path[4300];
    snprintf(dir, sizeof dir, "%s/components", sdsim_root());
    CHECK(sdsim_lua_sources_add_dir(s, dir) > 20);
    static const char type[] = "return { name = \"memonly\", behavior = \"service\",\n"
                               "  params = { workers = std.param(\"workers\", "
                               "{ default = 7 }) } }\n";
    snprintf(path, sizeof path, "%s/memonly.lua", dir);
    CHECK(sdsim_lua_sources_add(s, path, type, strlen(type)) == 0);
    static const char tpl[] = "return { version = 1, name = \"mem\",\n"
                              "  components = { { id = \"a\", type = \"memonly\" } },\n"
                              "  workload = { { to = \"a\", rps = 10 } } }\n";
    static const char tpl_path[] = "/nonexistent-sdsim-dir/mem.lua";
    CHECK(sdsim_lua_sources_add(s, tpl_path, tpl, strlen(tpl)) == 0);
    sdsim_lua_sources_use(s);
    sdsim_problems p = {0};
    sim_design *d = load_file(tpl_path, &p);
    CHECK(d && d->ncomponents == 1 && d->components[0].workers == 7);
    sim_design_free(d);
    sdsim_problems_free(&p);
    sdsim_lua_sources_use(NULL);
    sdsim_lua_sources_unref(s);
}

static void plugin_checks(void) {
    sdsim_design_set_exec("/proc/self/exe");
    char *out = NULL, err[512];
    static const char good[] = "return { name = \"probe\", behavior = \"service\",\n"
                               "  params = { workers = std.param(\"workers\") } }\n";
    CHECK(sdsim_check_type_source("probe.lua", good, strlen(good), &out, err, sizeof err) == 0);
    CHECK(out && strstr(out, "\"ok\":true"));
    free(out);
    static const char bad[] = "return {\n  name = \"bad\",\n  behavior = \"teleport\",\n"
                              "  params = {},\n}\n";
    CHECK(sdsim_check_type_source("bad.lua", bad, strlen(bad), &out, err, sizeof err) == 0);
    CHECK(out && strstr(out, "bad.lua:3: behavior must be one of"));
    free(out);
    static const char loop[] = "while true do end\n";
    CHECK(sdsim_check_type_source("loop.lua", loop, strlen(loop), &out, err, sizeof err) == 0);
    CHECK(out && strstr(out, "instruction budget"));
    free(out);
    /* a VM crash (gsub recursing into Lua overflows the C stack) costs only the child */
    static const char crash[] = "local function f(s) return (s:gsub('.', f)) end\nf('x')\n";
    CHECK(sdsim_check_type_source("crash.lua", crash, strlen(crash), &out, err, sizeof err) != 0);
    CHECK(out == NULL && strstr(err, "crash.lua: ") == err);
    free(out);
}

static void scenario_and_catalog(void) {
    sdsim_design_set_exec("/proc/self/exe");
    char file[4096], err[1024];
    CHECK(sdsim_scenario_resolve("db_failover", file, sizeof file, err, sizeof err) == 0);
    const char *params[] = {"at_s=30", "for_s=20"};
    sdsim_scenario sc = {.file = file, .params = params, .nparams = 2, .duration = 60};
    sdsim_problems p = {0};
    sim_design *d = sdsim_load_design_file_scenario(eco_, &sc, &p);
    CHECK(d && d->nfaults == 1 && d->faults[0].at == 30 && d->faults[0].duration == 20);
    CHECK(strstr(sc.summary, "crash db replica 0 at 30 s for 20 s") != NULL);
    sim_design_free(d);
    sdsim_problems_free(&p);
    char *cat = sdsim_scenario_catalog_json(err, sizeof err);
    CHECK(cat && strstr(cat, "\"db_failover\"") && strstr(cat, "\"traffic_spike\""));
    free(cat);
}

static void *load_three(void *arg) {
    int *ok = arg;
    for (int i = 0; i < 3; i++) {
        sdsim_problems p = {0};
        sim_design *d = sdsim_load_design_file(eco_, &p);
        *ok += d != NULL;
        sim_design_free(d);
        sdsim_problems_free(&p);
    }
    return NULL;
}

/* Four threads check at once (the server's worker pool): every check succeeds. */
static void threads_at_once(void) {
    sdsim_design_set_exec("/proc/self/exe");
    pthread_t t[4];
    int ok[4] = {0};
    double t0 = now_s();
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, load_three, &ok[i]) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK(ok[0] + ok[1] + ok[2] + ok[3] == 12);
    printf("  12 template loads in 4 threads: %.2f s\n", now_s() - t0);
}

static void missing_binary_fails_cleanly(void) {
    sdsim_design_set_exec("/nonexistent/sdsim");
    sdsim_problems p = {0};
    sim_design *d = sdsim_load_design_file(eco_, &p);
    CHECK(d == NULL && p.n > 0);
    int said = 0;
    for (int i = 0; i < p.n; i++)
        said |= strstr(p.items[i].reason, "exit status 127") != NULL;
    CHECK(said);
    if (!said && p.n) fprintf(stderr, "  got: %s\n", p.items[0].reason);
    sim_design_free(d);
    sdsim_problems_free(&p);
}

static void *slow_check(void *arg) {
    char **out = arg, err[512] = "";
    /* each find scans 16 MB: the instruction budget would take minutes, the wall clock 20 s */
    static const char slow[] = "local s = string.rep('x', 16 * 1024 * 1024)\n"
                               "while true do s:find('y', 1, true) end\n";
    char *res = NULL;
    if (sdsim_check_type_source("slow.lua", slow, strlen(slow), &res, err, sizeof err) != 0)
        *out = strdup(err);
    else
        *out = res;
    return NULL;
}

static void kill_children_ends_a_check(void) {
    sdsim_design_set_exec("/proc/self/exe");
    pthread_t t;
    char *out = NULL;
    double t0 = now_s();
    CHECK(pthread_create(&t, NULL, slow_check, &out) == 0);
    usleep(700 * 1000); /* exec'd and running (a sanitizer build starts slower) */
    sdsim_design_kill_children();
    pthread_join(t, NULL);
    double took = now_s() - t0;
    CHECK(out && strstr(out, "signal 9"));
    CHECK(took < 5);
    printf("  killed after %.2f s: %s\n", took, out ? out : "(nothing)");
    free(out);
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "__design-child"))
        return sdsim_design_child_main(argc - 2, argv + 2);
    snprintf(eco_, sizeof eco_, "%s/templates/ecommerce.lua", sdsim_root());
    static const test_case cases[] = {
        TEST(template_same_as_fork),
        TEST(sources_travel_to_the_child),
        TEST(plugin_checks),
        TEST(scenario_and_catalog),
        TEST(threads_at_once),
        TEST(missing_binary_fails_cleanly),
        TEST(kill_children_ends_a_check),
    };
    return test_main(cases, (int)(sizeof cases / sizeof cases[0]));
}
