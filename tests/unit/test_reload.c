/* Hot reload (host/reload.c): in a temporary copy of the project's Lua (all component types,
 * one template, one scenario), a uv loop watches the files while the test rewrites them.
 * Checked: a good edit swaps in a new version; a syntax error, an endless loop and a
 * validation error leave the old version and name file:line; a held snapshot keeps its
 * version; an identical rewrite makes no version; a deleted file goes. The save-to-available
 * latency over 20 edits is printed, not asserted (it depends on the machine's load). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "design_load.h"
#include "reload.h"
#include "test.h"

static uv_loop_t loop_;
static sdsim_reload *reg_;
static char root_[256], cache_path_[512], tmpl_path_[512];
static char *cache_src_; /* the shipped components/cache.lua */

static int nevents_;
static sdsim_reload_event last_;
static char last_error_[2048];

static void on_event(const sdsim_reload_event *ev, void *ud) {
    last_ = *ev;
    snprintf(last_error_, sizeof last_error_, "%s", ev->error ? ev->error : "");
    nevents_++;
    uv_stop(&loop_);
}

static void on_timeout(uv_timer_t *t) {
    uv_stop(&loop_);
}

/* Runs the loop until an event arrives or ms pass; 1 if an event arrived. */
static int wait_event(unsigned ms) {
    int before = nevents_;
    uv_timer_t t;
    uv_timer_init(&loop_, &t);
    uv_timer_start(&t, on_timeout, ms, 0);
    while (nevents_ == before) {
        uv_run(&loop_, UV_RUN_ONCE);
        if (!uv_is_active((uv_handle_t *)&t)) break;
    }
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop_, UV_RUN_NOWAIT);
    return nevents_ > before;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* cache.lua with `from` replaced by `to` (malloc'd). */
static char *cache_with(const char *from, const char *to) {
    const char *at = strstr(cache_src_, from);
    char *out = calloc(1, strlen(cache_src_) + strlen(to) + 1);
    if (!at) {
        strcpy(out, cache_src_);
        return out;
    }
    memcpy(out, cache_src_, (size_t)(at - cache_src_));
    strcat(out, to);
    strcat(out, at + strlen(from));
    return out;
}

static char *cache_with_workers(int n) {
    char to[64];
    snprintf(to, sizeof to, "std.param(\"workers\", { default = %d })", n);
    return cache_with("std.param(\"workers\", { default = 4 })", to);
}

/* The default of workers in a type version's declaration JSON, or -1. */
static int workers_default(const sdsim_reload_version *v) {
    const char *w = v && v->decl_json ? strstr(v->decl_json, "\"workers\":{") : NULL;
    const char *end = w ? strchr(w, '}') : NULL;
    const char *d = w ? strstr(w, "\"default\":") : NULL;
    return d && d < end ? atoi(d + 10) : -1;
}

static unsigned cache_version(void) {
    const sdsim_reload_version *v = sdsim_reload_get(reg_, SDSIM_RELOAD_TYPE, "cache");
    unsigned n = v ? v->version : 0;
    sdsim_reload_release(v);
    return n;
}

static void setup(void) {
    char src[256], cmd[4096];
    snprintf(src, sizeof src, "%s", sdsim_root());
    snprintf(root_, sizeof root_, "/tmp/sdsim-reload-test-XXXXXX");
    CHECK(mkdtemp(root_) != NULL);
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/templates %s/scripts/scenarios && cp -r %s/components %s/ && "
             "cp %s/templates/url_shortener.lua %s/templates/ && "
             "cp %s/scripts/scenarios/traffic_spike.lua %s/scripts/scenarios/ && "
             "ln -s %s/scripts/sdk %s/scripts/sdk",
             root_, root_, src, root_, src, root_, src, root_, src, root_);
    CHECK(system(cmd) == 0);
    setenv("SDSIM_ROOT", root_, 1); /* the loaders read types and the SDK from the copy */
    snprintf(cache_path_, sizeof cache_path_, "%s/components/cache.lua", root_);
    snprintf(tmpl_path_, sizeof tmpl_path_, "%s/templates/url_shortener.lua", root_);
    cache_src_ = read_text(cache_path_);
    CHECK(cache_src_ != NULL);
    uv_loop_init(&loop_);
    char err[512];
    sdsim_reload_opts o = {.root = root_, .cb = on_event};
    uint64_t t0 = uv_hrtime();
    reg_ = sdsim_reload_start(&loop_, &o, err, sizeof err);
    printf("initial load of the copy: %.0f ms\n", (double)(uv_hrtime() - t0) / 1e6);
    if (!reg_) fprintf(stderr, "  start: %s\n", err);
    CHECK(reg_ != NULL);
}

static void test_initial_load(void) {
    const sdsim_reload_version *t = sdsim_reload_get(reg_, SDSIM_RELOAD_TYPE, "cache");
    const sdsim_reload_version *m = sdsim_reload_get(reg_, SDSIM_RELOAD_TEMPLATE, "url_shortener");
    const sdsim_reload_version *s = sdsim_reload_get(reg_, SDSIM_RELOAD_SCENARIO, "traffic_spike");
    CHECK(t && t->version == 1 && workers_default(t) == 4);
    CHECK(t && strlen(t->hash) == 64 && t->source_len == strlen(cache_src_));
    CHECK(m && m->version == 1 && m->decl_json && strstr(m->decl_json, "\"components\""));
    CHECK(s && s->version == 1);
    CHECK(sdsim_reload_get(reg_, SDSIM_RELOAD_TYPE, "no_such_type") == NULL);
    sdsim_reload_release(t);
    sdsim_reload_release(m);
    sdsim_reload_release(s);
}

static void test_edit_swaps(void) {
    unsigned v0 = cache_version();
    char *text = cache_with_workers(37);
    write_text(cache_path_, text);
    free(text);
    CHECK(wait_event(5000));
    CHECK(last_.status == SDSIM_RELOAD_SWAPPED && last_.version == v0 + 1);
    const sdsim_reload_version *v = sdsim_reload_get(reg_, SDSIM_RELOAD_TYPE, "cache");
    CHECK(v && v->version == v0 + 1 && workers_default(v) == 37);
    CHECK(v && strstr(v->source, "default = 37") != NULL);
    sdsim_reload_release(v);
}

/* Writes a broken cache.lua; the old version stays and the error holds `want`. */
static void expect_rejected(const char *text, const char *want) {
    unsigned v0 = cache_version();
    write_text(cache_path_, text);
    CHECK(wait_event(5000));
    CHECK(last_.status == SDSIM_RELOAD_REJECTED);
    if (!strstr(last_error_, want)) fprintf(stderr, "  error '%s' lacks '%s'\n", last_error_, want);
    CHECK(strstr(last_error_, want) != NULL);
    CHECK(cache_version() == v0);
    const sdsim_reload_version *v = sdsim_reload_get(reg_, SDSIM_RELOAD_TYPE, "cache");
    CHECK(workers_default(v) == 37);
    sdsim_reload_release(v);
    char err[2048];
    CHECK(sdsim_reload_last_error(reg_, SDSIM_RELOAD_TYPE, "cache", err, sizeof err) == 0);
    CHECK(strcmp(err, last_error_) == 0);
}

static void test_broken_versions_rejected(void) {
    char want[700];
    /* A syntax error on line 3. */
    snprintf(want, sizeof want, "%s:3:", cache_path_);
    expect_rejected("return {\n    name = 'cache',\n    behavior = = 'cache',\n}\n", want);
    /* An endless loop at load time: stopped by the instruction budget. */
    expect_rejected("local n = 0\nwhile true do n = n + 1 end\n", "instruction budget");
    snprintf(want, sizeof want, "%s:2:", cache_path_);
    CHECK(strstr(last_error_, want) != NULL);
    /* A validation error (check_type): the line of the field it names (line 10). */
    char *bad = cache_with("behavior = \"cache\"", "behavior = \"bogus\"");
    snprintf(want, sizeof want, "%s:10: behavior must be one of", cache_path_);
    expect_rejected(bad, want);
    free(bad);
    /* Putting the good text back clears the error without a new version. */
    unsigned v0 = cache_version();
    char *good = cache_with_workers(37);
    write_text(cache_path_, good);
    free(good);
    CHECK(wait_event(5000));
    CHECK(last_.status == SDSIM_RELOAD_RESTORED && cache_version() == v0);
    char err[64];
    CHECK(sdsim_reload_last_error(reg_, SDSIM_RELOAD_TYPE, "cache", err, sizeof err) == -1);
}

static void test_snapshot_keeps_version(void) {
    const sdsim_reload_version *held = sdsim_reload_get(reg_, SDSIM_RELOAD_TYPE, "cache");
    unsigned v0 = held ? held->version : 0;
    char *text = cache_with_workers(41);
    write_text(cache_path_, text);
    free(text);
    CHECK(wait_event(5000));
    const sdsim_reload_version *now = sdsim_reload_get(reg_, SDSIM_RELOAD_TYPE, "cache");
    CHECK(now && now->version == v0 + 1 && workers_default(now) == 41);
    CHECK(held && held->version == v0 && workers_default(held) == 37);
    CHECK(held && strstr(held->source, "default = 37") != NULL);
    sdsim_reload_release(held); /* the last reference: freed here (ASan checks) */
    sdsim_reload_release(now);
}

static void test_identical_rewrite_no_version(void) {
    unsigned v0 = cache_version();
    char *same = read_text(cache_path_);
    write_text(cache_path_, same);
    free(same);
    CHECK(!wait_event(400)); /* 10 x the debounce */
    CHECK(cache_version() == v0);
}

static void test_template_rejected_then_fixed(void) {
    char *orig = read_text(tmpl_path_);
    char *bad = strdup(orig);
    char *at = strstr(bad, "type = \"cache\"");
    CHECK(at != NULL);
    if (at) memcpy(at, "type = \"cachx\"", 14);
    write_text(tmpl_path_, bad);
    CHECK(wait_event(10000));
    CHECK(last_.status == SDSIM_RELOAD_REJECTED && last_.kind == SDSIM_RELOAD_TEMPLATE);
    CHECK(strstr(last_error_, tmpl_path_) != NULL && strstr(last_error_, "cachx") != NULL);
    const sdsim_reload_version *v = sdsim_reload_get(reg_, SDSIM_RELOAD_TEMPLATE, "url_shortener");
    CHECK(v && v->version == 1 && strstr(v->source, "type = \"cache\"") != NULL);
    sdsim_reload_release(v);
    /* A real change (a comment) validates and swaps. */
    char *fixed = malloc(strlen(orig) + 32);
    sprintf(fixed, "-- edited\n%s", orig);
    write_text(tmpl_path_, fixed);
    CHECK(wait_event(10000));
    CHECK(last_.status == SDSIM_RELOAD_SWAPPED && last_.version == 2);
    printf("template swap: %.0f ms from the file event\n", last_.ms);
    free(orig);
    free(bad);
    free(fixed);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void test_latency(void) {
    enum { N = 20 };
    double ms[N];
    int ok = 0;
    for (int i = 0; i < N; i++) {
        char *text = cache_with_workers(100 + i);
        uint64_t t0 = uv_hrtime();
        write_text(cache_path_, text);
        free(text);
        int got = wait_event(5000);
        ms[i] = (double)(uv_hrtime() - t0) / 1e6;
        const sdsim_reload_version *v = sdsim_reload_get(reg_, SDSIM_RELOAD_TYPE, "cache");
        ok += got && last_.status == SDSIM_RELOAD_SWAPPED && workers_default(v) == 100 + i;
        sdsim_reload_release(v);
    }
    CHECK(ok == N);
    qsort(ms, N, sizeof ms[0], cmp_double);
    printf("hot reload: median %.0f ms, max %.0f ms from write to available "
           "(component type, %d edits, 40 ms debounce)\n",
           (ms[N / 2 - 1] + ms[N / 2]) / 2, ms[N - 1], N);
}

static void test_delete_removes(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/scripts/scenarios/traffic_spike.lua", root_);
    CHECK(unlink(path) == 0);
    CHECK(wait_event(5000));
    CHECK(last_.status == SDSIM_RELOAD_REMOVED && last_.kind == SDSIM_RELOAD_SCENARIO);
    CHECK(sdsim_reload_get(reg_, SDSIM_RELOAD_SCENARIO, "traffic_spike") == NULL);
}

static void teardown(void) {
    sdsim_reload_stop(reg_);
    uv_run(&loop_, UV_RUN_DEFAULT); /* until the registry's handles are closed */
    CHECK(uv_loop_close(&loop_) == 0);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root_);
    CHECK(system(cmd) == 0);
    free(cache_src_);
}

TEST_MAIN(TEST(setup), TEST(test_initial_load), TEST(test_edit_swaps),
          TEST(test_broken_versions_rejected), TEST(test_snapshot_keeps_version),
          TEST(test_identical_rewrite_no_version), TEST(test_template_rejected_then_fixed),
          TEST(test_latency), TEST(test_delete_removes), TEST(teardown))
