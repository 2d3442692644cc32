/* Design loading: every bad design in tests/data/bad/ reports the problems listed in
 * tests/data/bad/expect.tsv (JSON path, and a substring of the reason); good designs and every
 * template load; the conversion to the engine (ms -> s, indices, defaults) is exact; hostile
 * inputs made at run time (deep nesting, 100 MB, binary, bad UTF-8, too many components) give
 * one clear problem, never a crash or a hang. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "design_load.h"
#include "test.h"

static char tmpdir[256];

static void path_in(char *out, size_t cap, const char *sub, const char *name) {
    snprintf(out, cap, "%s/%s/%s", sdsim_root(), sub, name);
}

static void print_problems(const char *what, const sdsim_problems *p) {
    fprintf(stderr, "  %s:\n", what);
    for (int i = 0; i < p->n; i++)
        fprintf(stderr, "    %s: %s\n", p->items[i].path, p->items[i].reason);
}

/* 1 when some problem has exactly this path and a reason containing sub. */
static int has_problem(const sdsim_problems *p, const char *path, const char *sub) {
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->items[i].path, path) == 0 && strstr(p->items[i].reason, sub)) return 1;
    return 0;
}

static sim_design *load_ok(const char *file) {
    sdsim_problems p = {0};
    sim_design *d = sdsim_load_design_file(file, &p);
    CHECK(d != NULL);
    CHECK(p.n == 0);
    if (!d || p.n) print_problems(file, &p);
    sdsim_problems_free(&p);
    return d;
}

/* Loads file, expects failure with a problem (path, sub); returns the number of problems. */
static int expect_problem(const char *file, const char *path, const char *sub) {
    sdsim_problems p = {0};
    sim_design *d = sdsim_load_design_file(file, &p);
    CHECK(d == NULL);
    int found = has_problem(&p, path, sub);
    CHECK(found);
    if (!found || d) {
        fprintf(stderr, "  expected %s: ...%s...\n", path, sub);
        print_problems(file, &p);
    }
    int n = p.n;
    sim_design_free(d);
    sdsim_problems_free(&p);
    return n;
}

static void bad_designs_report_expected_problems(void) {
    char manifest[512], line[2048];
    path_in(manifest, sizeof manifest, "tests/data/bad", "expect.tsv");
    FILE *f = fopen(manifest, "r");
    CHECK(f != NULL);
    if (!f) return;
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        line[strcspn(line, "\n")] = 0;
        char *file = strtok(line, "\t"), *path = strtok(NULL, "\t"), *sub = strtok(NULL, "");
        CHECK(file && path && sub);
        if (!file || !path || !sub) continue;
        char full[1024];
        path_in(full, sizeof full, "tests/data/bad", file);
        expect_problem(full, path, sub);
        cases++;
    }
    fclose(f);
    CHECK(cases >= 60); /* the manifest was read whole */
}

/* Every file in tests/data/bad/ is listed in the manifest, so none is silently untested. */
static void every_bad_file_is_listed(void) {
    char dir[512], manifest[512];
    path_in(dir, sizeof dir, "tests/data", "bad");
    path_in(manifest, sizeof manifest, "tests/data/bad", "expect.tsv");
    FILE *f = fopen(manifest, "r");
    CHECK(f != NULL);
    if (!f) return;
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "expect.tsv") == 0) continue;
        char key[300];
        snprintf(key, sizeof key, "\n%s\t", e->d_name);
        int listed = strstr(text, key) != NULL;
        CHECK(listed);
        if (!listed) fprintf(stderr, "  %s is not in expect.tsv\n", e->d_name);
    }
    if (d) closedir(d);
}

static void one_file_reports_every_problem(void) {
    char full[1024];
    path_in(full, sizeof full, "tests/data/bad", "many_problems.json");
    /* Five independent mistakes, five problems: validation does not stop at the first. */
    CHECK(expect_problem(full, "$.nme", "did you mean 'name'?") == 5);
}

static void good_designs_load(void) {
    char dir[512];
    path_in(dir, sizeof dir, "tests/data", "good");
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char full[1024];
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        sim_design_free(load_ok(full));
        n++;
    }
    if (d) closedir(d);
    CHECK(n >= 3);
}

static void every_template_loads(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/templates", sdsim_root());
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".lua") != 0) continue;
        char full[1024];
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        sim_design *design = load_ok(full);
        CHECK(design && design->nworkloads >= 1 && design->ncomponents >= 3);
        sim_design_free(design);
        n++;
    }
    if (d) closedir(d);
    CHECK(n >= 3);
}

static int find(const sim_design *d, const char *id) {
    return sim_design_find(d, id);
}

/* The e-commerce template as the engine sees it: values in seconds, defaults filled. */
static void ecommerce_converts_exactly(void) {
    char full[1024];
    path_in(full, sizeof full, "templates", "ecommerce.lua");
    sim_design *d = load_ok(full);
    if (!d) return;
    CHECK(strcmp(d->name, "ecommerce") == 0);
    int api = find(d, "api"), db = find(d, "db"), clients = find(d, "clients");
    int lb = find(d, "lb");
    CHECK(api >= 0 && db >= 0 && clients >= 0 && lb >= 0);
    if (api < 0 || db < 0 || clients < 0 || lb < 0) goto out;
    CHECK(d->components[api].replicas == 6 && d->components[api].workers == 18);
    CHECK(d->components[api].queue_cap == 200);
    CHECK(d->components[api].service.kind == SIM_DIST_LOGNORMAL);
    CHECK_NEAR(d->components[api].service.mean, 0.006, 1e-15);
    CHECK(d->components[db].behavior == SIM_BEHAVIOR_DATABASE);
    CHECK_NEAR(d->components[db].read_ratio, 0.9, 1e-15);
    /* The client type: a delay station with no service time of its own. */
    CHECK(d->components[clients].workers == SIM_INFINITE_SERVERS);
    CHECK(d->components[clients].service.kind == SIM_DIST_CONST);
    CHECK_NEAR(d->components[clients].service.mean, 0, 0);
    CHECK(d->components[lb].behavior == SIM_BEHAVIOR_BALANCER);
    CHECK(d->components[lb].workers == SIM_INFINITE_SERVERS);
    /* The api -> db edge (design order 3): ms -> s, its breaker enabled. */
    const sim_edge *e = &d->edges[3];
    CHECK(e->from == api && e->to == db && e->mode == SIM_EDGE_CALL);
    CHECK_NEAR(e->p, 0.1, 1e-15);
    CHECK_NEAR(e->latency, 0.0005, 1e-15);
    CHECK_NEAR(e->timeout, 0.2, 1e-15);
    CHECK(e->retries == 2 && e->jitter == 1);
    CHECK_NEAR(e->backoff_base, 0.01, 1e-15);
    CHECK_NEAR(e->backoff_max, 0.1, 1e-15);
    CHECK(e->breaker.enabled && e->breaker.failure_threshold == 20);
    CHECK_NEAR(e->breaker.open_time, 5, 1e-15);
    CHECK(d->nworkloads == 1 && d->workloads[0].to == clients && !d->workloads[0].closed);
    CHECK_NEAR(d->workloads[0].rps, 10000, 0);
    CHECK_NEAR(d->slo.p99, 0.25, 1e-15);
    CHECK_NEAR(d->slo.error_rate, 0.001, 1e-15);
out:
    sim_design_free(d);
}

/* tests/data/good/full.json uses every field: check each conversion. */
static void full_design_converts_exactly(void) {
    char full[1024];
    path_in(full, sizeof full, "tests/data/good", "full.json");
    sim_design *d = load_ok(full);
    if (!d) return;
    int lb = find(d, "lb"), a = find(d, "api-a"), jobs = find(d, "jobs"), db = find(d, "db");
    CHECK(lb == 1 && a == 2 && db == 5 && jobs == 6);
    if (lb != 1 || a != 2 || db != 5 || jobs != 6) goto out;
    const sim_component *ca = &d->components[a];
    CHECK(strcmp(ca->zone, "z1") == 0);
    CHECK(ca->policy == SIM_POLICY_P2C && ca->fanout_all == 1);
    CHECK(ca->service.kind == SIM_DIST_HYPEREXP);
    CHECK_NEAR(ca->service.scv, 3, 0);
    CHECK_NEAR(ca->shed_wait, 0.2, 1e-15);
    CHECK(ca->autoscale.enabled && ca->autoscale.min == 2 && ca->autoscale.max == 6);
    CHECK_NEAR(ca->autoscale.cooldown, 20, 0);
    CHECK_NEAR(ca->autoscale.interval, 2, 0);
    CHECK_NEAR(ca->error_rate, 0.001, 1e-15);
    CHECK_NEAR(d->components[lb].rate_limit, 5000, 0);
    CHECK_NEAR(d->components[lb].rate_burst, 500, 0);
    CHECK(d->components[lb].policy == SIM_POLICY_WEIGHTED);
    /* An empty autoscale object: enabled, min = replicas (1), max = 4 x replicas. */
    CHECK(d->components[jobs].autoscale.enabled);
    CHECK(d->components[jobs].autoscale.min == 1 && d->components[jobs].autoscale.max == 4);
    CHECK_NEAR(d->components[jobs].autoscale.target_util, 0.6, 1e-15);
    CHECK_NEAR(d->edges[1].weight, 3, 0);
    CHECK(d->edges[6].mode == SIM_EDGE_ASYNC && d->edges[7].mode == SIM_EDGE_FORWARD);
    /* Workload patterns. */
    CHECK(d->nworkloads == 5);
    if (d->nworkloads == 5) {
        const sim_workload *w = d->workloads;
        CHECK(w[0].pattern == SIM_PATTERN_RAMP && w[0].keys == 1000);
        CHECK_NEAR(w[0].start, 10, 0);
        CHECK_NEAR(w[0].over, 30, 0);
        CHECK_NEAR(w[0].to_rps, 2000, 0);
        CHECK(w[1].pattern == SIM_PATTERN_SPIKE);
        CHECK_NEAR(w[1].start, 20, 0);
        CHECK_NEAR(w[1].over, 5, 0);
        CHECK_NEAR(w[1].factor, 4, 0);
        CHECK(w[2].pattern == SIM_PATTERN_DIURNAL);
        CHECK_NEAR(w[2].period, 60, 0);
        CHECK_NEAR(w[2].amplitude, 0.5, 0);
        CHECK(w[3].pattern == SIM_PATTERN_STEPS && w[3].nsteps == 2);
        CHECK_NEAR(w[3].steps[1].at, 20, 0);
        CHECK_NEAR(w[3].steps[1].rps, 50, 0);
        /* think_ms 0: a constant zero think time. */
        CHECK(w[4].closed && w[4].users == 10 && w[4].think.kind == SIM_DIST_CONST);
    }
    /* Faults, sorted by time (stable): 5 crash api-b, 10 latency +50 ms, 12 latency x3,
     * 14 error_rate, 16 capacity, 18 hit_ratio, 20 partition, 22 packet_loss, 30 crash db
     * replica 0, 40 zone. */
    CHECK(d->nfaults == 10);
    if (d->nfaults == 10) {
        const sim_fault *f = d->faults;
        CHECK(f[0].kind == SIM_FAULT_CRASH && f[0].target == 3 && f[0].replica == -1);
        CHECK_NEAR(f[0].duration, 0, 0);
        CHECK(f[1].kind == SIM_FAULT_LATENCY && !f[1].multiply);
        CHECK_NEAR(f[1].value, 0.05, 1e-15);
        CHECK(f[2].kind == SIM_FAULT_LATENCY && f[2].multiply);
        CHECK_NEAR(f[2].value, 3, 0);
        CHECK(f[3].kind == SIM_FAULT_ERROR_RATE);
        CHECK_NEAR(f[3].value, 0.2, 1e-15);
        CHECK(f[4].kind == SIM_FAULT_CAPACITY);
        CHECK_NEAR(f[4].value, 0.5, 0);
        CHECK(f[5].kind == SIM_FAULT_HIT_RATIO && f[5].target == 4);
        CHECK(f[6].kind == SIM_FAULT_PARTITION && f[6].target == 4);   /* api-b->db: edge 4 */
        CHECK(f[7].kind == SIM_FAULT_PACKET_LOSS && f[7].target == 5); /* "cache -> db" */
        CHECK(f[8].kind == SIM_FAULT_CRASH && f[8].target == db && f[8].replica == 0);
        CHECK_NEAR(f[8].at, 30, 0);
        CHECK_NEAR(f[8].duration, 10, 0);
        CHECK(f[9].kind == SIM_FAULT_ZONE && strcmp(f[9].zone, "z1") == 0);
    }
out:
    sim_design_free(d);
}

static void closed_design_converts_exactly(void) {
    char full[1024];
    path_in(full, sizeof full, "tests/data/good", "closed.json");
    sim_design *d = load_ok(full);
    if (!d) return;
    CHECK(d->components[0].service.kind == SIM_DIST_ERLANG && d->components[0].service.k == 4);
    CHECK_NEAR(d->components[0].service.mean, 0.02, 1e-15);
    /* Empirical values 1, 2, 3, 10 ms: mean 4 ms. */
    CHECK(d->components[1].service.kind == SIM_DIST_EMPIRICAL);
    CHECK(d->components[1].service.nvalues == 4);
    CHECK_NEAR(d->components[1].service.mean, 0.004, 1e-15);
    CHECK(d->workloads[0].closed && d->workloads[0].users == 40);
    CHECK(d->workloads[0].think.kind == SIM_DIST_EXP);
    CHECK_NEAR(d->workloads[0].think.mean, 0.5, 1e-15);
    CHECK(d->workloads[1].think.kind == SIM_DIST_UNIFORM);
    CHECK_NEAR(d->workloads[1].think.scv, 0.1, 1e-15);
    /* No slo given: none. */
    CHECK_NEAR(d->slo.p99, 0, 0);
    CHECK(d->slo.error_rate < 0);
    sim_design_free(d);
}

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fwrite(data, 1, len, f);
    fclose(f);
}

static void hostile_inputs_made_at_run_time(void) {
    char path[512];
    /* 100,000 nested arrays: the decoder's depth limit, not a stack overflow. */
    size_t n = 100000;
    char *deep = malloc(2 * n + 1);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    snprintf(path, sizeof path, "%s/deep.json", tmpdir);
    write_file(path, deep, 2 * n);
    free(deep);
    expect_problem(path, "$", "JSON nesting deeper than 64 levels");

    /* 100 MB (sparse): refused before it is read. */
    snprintf(path, sizeof path, "%s/huge.json", tmpdir);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    CHECK(fd >= 0 && ftruncate(fd, 100L << 20) == 0);
    close(fd);
    expect_problem(path, "$", "more than the limit of 16777216 (16 MB)");

    /* Binary garbage. */
    unsigned char bin[4096];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof bin; i++) {
        x = x * 1103515245u + 12345u;
        bin[i] = (unsigned char)(x >> 16);
    }
    bin[100] = 0;
    snprintf(path, sizeof path, "%s/garbage.json", tmpdir);
    write_file(path, bin, sizeof bin);
    expect_problem(path, "$", "not a text file");

    /* Latin-1 text is not UTF-8. */
    const char *latin1 = "{\"version\": 1, \"name\": \"caf\xe9\"}";
    snprintf(path, sizeof path, "%s/latin1.json", tmpdir);
    write_file(path, latin1, strlen(latin1));
    expect_problem(path, "$", "not valid UTF-8 at byte offset 27");

    /* 100,001 components. */
    snprintf(path, sizeof path, "%s/many.json", tmpdir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("{\"version\": 1, \"components\": [", f);
        for (int i = 0; i <= 100000; i++)
            fprintf(f, "%s{\"id\": \"c%d\", \"type\": \"service\"}", i ? "," : "", i);
        fputs("]}", f);
        fclose(f);
        expect_problem(path, "$.components", "too many components: 100001, at most 100000");
    }

    /* A file that does not exist. */
    snprintf(path, sizeof path, "%s/missing.json", tmpdir);
    expect_problem(path, "$", "cannot open");
}

static void json_in_memory(void) {
    const char *good = "{\"version\": 1, \"components\": [{\"id\": \"a\", \"type\": \"service\"}]}";
    sdsim_problems p = {0};
    sim_design *d = sdsim_load_design_json(good, strlen(good), &p);
    CHECK(d != NULL && p.n == 0);
    if (d) {
        CHECK(strcmp(d->name, "design") == 0); /* no name given */
        /* The service type's defaults: 2 replicas of 8 workers, exp 5 ms, unbounded queue. */
        CHECK(d->components[0].replicas == 2 && d->components[0].workers == 8);
        CHECK(d->components[0].queue_cap == SIM_UNBOUNDED);
        CHECK(d->components[0].service.kind == SIM_DIST_EXP);
        CHECK_NEAR(d->components[0].service.mean, 0.005, 1e-15);
    }
    sim_design_free(d);
    const char *bad = "{\"version\": 1, \"components\": [{\"id\": \"a\", \"type\": \"service\", "
                      "\"replicas\": 1e999}]}";
    d = sdsim_load_design_json(bad, strlen(bad), &p);
    CHECK(d == NULL && has_problem(&p, "$.components[0].replicas", "not finite"));
    sdsim_problems_free(&p);
}

/* The same loader twice in a row gives the same problems in the same order (no state kept
 * between loads, no hash-order dependence). */
static void problems_are_deterministic(void) {
    char full[1024];
    path_in(full, sizeof full, "tests/data/bad", "many_problems.json");
    sdsim_problems a = {0}, b = {0};
    sim_design_free(sdsim_load_design_file(full, &a));
    sim_design_free(sdsim_load_design_file(full, &b));
    CHECK(a.n == b.n && a.n > 0);
    for (int i = 0; i < a.n && i < b.n; i++) {
        CHECK(strcmp(a.items[i].path, b.items[i].path) == 0);
        CHECK(strcmp(a.items[i].reason, b.items[i].reason) == 0);
    }
    sdsim_problems_free(&a);
    sdsim_problems_free(&b);
}

static void setup(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sdsim-design-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        exit(2);
    }
}

static void teardown(void) {
    static const char *const files[] = {"deep.json", "huge.json", "garbage.json", "latin1.json",
                                        "many.json"};
    char path[512];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

int main(void) {
    static const test_case cases[] = {
        TEST(bad_designs_report_expected_problems),
        TEST(every_bad_file_is_listed),
        TEST(one_file_reports_every_problem),
        TEST(good_designs_load),
        TEST(every_template_loads),
        TEST(ecommerce_converts_exactly),
        TEST(full_design_converts_exactly),
        TEST(closed_design_converts_exactly),
        TEST(hostile_inputs_made_at_run_time),
        TEST(json_in_memory),
        TEST(problems_are_deterministic),
    };
    setup();
    int rc = test_main(cases, (int)(sizeof cases / sizeof cases[0]));
    teardown();
    return rc;
}
