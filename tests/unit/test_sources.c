/* In-memory source sets (host/lua_state.h) and the design loader reading them
 * (host/design_load.h): what the server's hot reload and the sandbox's `sim` rely on. A set
 * holds files; a thread makes it active; sdsim_lua_load_file then reads those files from the
 * set, refuses files missing from a directory the set covers, and the loader takes the
 * component types from the set instead of the disk (a broken file on disk is never read). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "design_load.h"
#include "lua_state.h"
#include "test.h"

static char root_[256];

static const char design_[] = "{\"version\":1,\"name\":\"d\",\"components\":[{\"id\":\"a\","
                              "\"type\":\"probe\"}],\"workload\":[{\"to\":\"a\",\"rps\":10}]}";

static const char probe_good_[] =
    "return { name = \"probe\", behavior = \"service\",\n"
    "         params = { workers = std.param(\"workers\", { default = 3 }) } }\n";

/* A copy of the project's Lua under a temp root, with a broken components/probe.lua. */
static void setup(void) {
    snprintf(root_, sizeof root_, "/tmp/sdsim-test-sources-XXXXXX");
    if (!mkdtemp(root_)) abort();
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/scripts && cp -r %s/components %s/ && cp -r %s/scripts/sdk %s/scripts/"
             " && printf 'return { name = \"probe\",\\n  oops oops\\n}\\n' > "
             "%s/components/probe.lua",
             root_, SDSIM_SOURCE_DIR, root_, SDSIM_SOURCE_DIR, root_, root_);
    if (system(cmd) != 0) abort();
    setenv("SDSIM_ROOT", root_, 1);
}

static void teardown(void) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root_);
    if (system(cmd) != 0) fprintf(stderr, "  could not remove %s\n", root_);
}

/* The set of every good type on disk, and probe from memory. */
static sdsim_lua_sources *good_set(void) {
    sdsim_lua_sources *s = sdsim_lua_sources_new();
    char dir[4200], path[4300];
    snprintf(dir, sizeof dir, "%s/components", root_);
    CHECK(sdsim_lua_sources_add_dir(s, dir) > 20);
    snprintf(path, sizeof path, "%s/probe.lua", dir);
    CHECK(sdsim_lua_sources_add(s, path, probe_good_, strlen(probe_good_)) == 0);
    return s;
}

static void set_basics(void) {
    sdsim_lua_sources *s = sdsim_lua_sources_new();
    CHECK(sdsim_lua_sources_add(s, "/v/a/x.lua", "return 1", 8) == 0);
    CHECK(sdsim_lua_sources_add(s, "/v/a/x.lua", "return 2", 8) == 0); /* replaces */
    CHECK(s->n == 1 && !strcmp(sdsim_lua_sources_find(s, "/v/a/x.lua")->text, "return 2"));
    CHECK(sdsim_lua_sources_covers(s, "/v/a") && !sdsim_lua_sources_covers(s, "/v"));
    CHECK(!sdsim_lua_sources_covers(s, "/v/a/x.lua"));
    lua_State *L = sdsim_lua_new(NULL);
    char err[512];
    CHECK(sdsim_lua_load_file(L, "/v/a/x.lua", 0, 0, err, sizeof err) != 0); /* not active */
    CHECK(sdsim_lua_sources_use(s) == NULL);
    CHECK(sdsim_lua_load_file(L, "/v/a/x.lua", 0, 0, err, sizeof err) == 0);
    CHECK(lua_pcall(L, 0, 1, 0) == 0 && lua_tointeger(L, -1) == 2);
    lua_settop(L, 0);
    /* a covered directory is never read from disk; an uncovered one is */
    CHECK(sdsim_lua_load_file(L, "/v/a/missing.lua", 0, 0, err, sizeof err) != 0);
    CHECK(strstr(err, "not in this run's snapshot") != NULL);
    CHECK(sdsim_lua_sources_use(NULL) == s);
    sdsim_lua_close(L);
    sdsim_lua_sources_unref(s);
}

static void broken_disk_file_is_refused_without_a_set(void) {
    sdsim_problems p = {0};
    sim_design *d = sdsim_load_design_json(design_, strlen(design_), &p);
    CHECK(d == NULL && p.n > 0);
    int named = 0;
    for (int i = 0; i < p.n; i++)
        named |= strstr(p.items[i].reason, "probe") != NULL;
    CHECK(named);
    sim_design_free(d);
    sdsim_problems_free(&p);
}

static void the_set_wins_over_the_disk(void) {
    sdsim_lua_sources *s = good_set();
    sdsim_lua_sources_use(s);
    sdsim_problems p = {0};
    sim_design *d = sdsim_load_design_json(design_, strlen(design_), &p);
    if (!d && p.n) fprintf(stderr, "  %s: %s\n", p.items[0].path, p.items[0].reason);
    CHECK(d != NULL && d->ncomponents == 1 && d->components[0].workers == 3);
    sim_design_free(d);
    sdsim_problems_free(&p);
    sdsim_lua_sources_use(NULL);
    sdsim_lua_sources_unref(s);
}

static sdsim_lua_sources *provided_;
static int provider_calls_;
static sdsim_lua_sources *provide(void *ud) {
    (void)ud;
    provider_calls_++;
    return sdsim_lua_sources_ref(provided_);
}

static void the_provider_is_asked_when_no_set_is_active(void) {
    provided_ = good_set();
    sdsim_design_set_source_provider(provide, NULL);
    sdsim_problems p = {0};
    sim_design *d = sdsim_load_design_json(design_, strlen(design_), &p);
    CHECK(d != NULL && provider_calls_ == 1);
    sim_design_free(d);
    sdsim_problems_free(&p);
    CHECK(sdsim_lua_sources_current() == NULL); /* restored after the load */
    sdsim_design_set_source_provider(NULL, NULL);
    CHECK(provided_->refs == 1); /* the load released its reference */
    sdsim_lua_sources_unref(provided_);
}

static void user_plugins_in_a_virtual_directory(void) {
    sdsim_lua_sources *s = good_set();
    static const char mine[] = "return { name = \"mine\", behavior = \"service\",\n"
                               "  params = { workers = std.param(\"workers\") } }\n";
    CHECK(sdsim_lua_sources_add(s, "user-plugins/mine.lua", mine, strlen(mine)) == 0);
    CHECK(sdsim_lua_sources_add_plugin_dir(s, "user-plugins") == 0);
    sdsim_lua_sources_use(s);
    static const char doc[] = "{\"version\":1,\"components\":[{\"id\":\"a\",\"type\":\"mine\"}],"
                              "\"workload\":[{\"to\":\"a\",\"rps\":5}]}";
    sdsim_problems p = {0};
    sim_design *d = sdsim_load_design_json(doc, strlen(doc), &p);
    if (!d && p.n) fprintf(stderr, "  %s: %s\n", p.items[0].path, p.items[0].reason);
    CHECK(d != NULL);
    sim_design_free(d);
    sdsim_problems_free(&p);
    sdsim_lua_sources_use(NULL);
    sdsim_lua_sources_unref(s);
}

static void check_type_source_gives_lines(void) {
    char *out = NULL, err[512];
    static const char bad[] = "return {\n  name = \"bad\",\n  behavior = \"teleport\",\n"
                              "  params = {},\n}\n";
    CHECK(sdsim_check_type_source("bad.lua", bad, strlen(bad), &out, err, sizeof err) == 0);
    CHECK(out && strstr(out, "bad.lua:3: behavior must be one of"));
    free(out);
    CHECK(sdsim_check_type_source("probe.lua", probe_good_, strlen(probe_good_), &out, err,
                                  sizeof err) == 0);
    CHECK(out && strstr(out, "\"ok\":true"));
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

int main(void) {
    static const test_case cases[] = {
        TEST(set_basics),
        TEST(broken_disk_file_is_refused_without_a_set),
        TEST(the_set_wins_over_the_disk),
        TEST(the_provider_is_asked_when_no_set_is_active),
        TEST(user_plugins_in_a_virtual_directory),
        TEST(check_type_source_gives_lines),
    };
    setup();
    int rc = test_main(cases, (int)(sizeof cases / sizeof cases[0]));
    teardown();
    return rc;
}
