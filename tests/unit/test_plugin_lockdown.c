/* The plugin child's lock-down (lua_behavior.c calls sdsim_sandbox_lockdown, sandbox.h): a
 * run with a plugin type, through sdsim_behavior_run, whose body plays the hostile part from
 * inside the child once the Lua behaviours are attached. The simulation itself still runs
 * and its report still reaches stdout; a descriptor the parent held is closed; open() and
 * fork() kill the child with SIGSYS, which sdsim_behavior_run reports as a crash (exit code
 * 2, "Bad system call" on stderr). Under AddressSanitizer the seccomp filter is left out by
 * design: there only the rlimits stand, and the body's own code comes back. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lua_behavior.h"
#include "sim.h"
#include "test.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#else
#define ASAN 0
#endif

/* The body's exit codes: each says what happened inside the child. */
enum { B_OK = 0, B_NO_RUN = 3, B_WROTE = 4, B_ALLOWED = 5, B_REFUSED = 6 };

static char tmpdir[256];

static void write_type(const char *name, const char *behavior) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.lua", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (!f) return;
    fprintf(f, "return { name = \"%s\", params = {},\n%s\n}\n", name, behavior);
    fclose(f);
}

/* One plugin component of type `type` at 100 requests per second. */
static sim_design *plugin_design(const char *type) {
    sim_design *d = sim_design_new("lockdown");
    sim_component c = sim_component_defaults("p");
    c.behavior = SIM_BEHAVIOR_SCRIPT;
    c.workers = 1;
    c.service = sim_dist_const(0.001);
    snprintf(c.type, sizeof c.type, "%s", type);
    int i = sim_design_add_component(d, &c);
    char json[1024];
    snprintf(json, sizeof json, "{\"file\":\"%s/%s.lua\",\"params\":{},\"plugin\":true}", tmpdir,
             type);
    sim_design_set_script(d, i, json);
    sim_workload w = sim_workload_defaults(i);
    w.rps = 100;
    sim_design_add_workload(d, &w);
    char err[256];
    if (sim_design_check(d, err, sizeof err) != 0) {
        fprintf(stderr, "  design refused: %s\n", err);
        sim_design_free(d);
        return NULL;
    }
    return d;
}

/* The Lua behaviours run under the lock-down: 5 s at 100 rps is about 500 requests. */
static int run_sim(sim_design *d, long *completions) {
    sim_options o = sim_options_defaults();
    o.duration = 5;
    char err[512];
    sim_run *r = sim_run_new(d, &o, err, (int)sizeof err);
    if (!r || sim_run_until(r, 5) < 0) {
        if (r) sim_run_free(r);
        return -1;
    }
    *completions = (long)sim_run_results(r)->components[0].completions;
    sim_run_free(r);
    return 0;
}

/* Runs d's plugin run with body, stdout and stderr of the whole call (parent and child) sent
 * to files; their first bytes come back in out / err. */
static int captured_run(sim_design *d, int (*body)(sim_design *, void *), void *ud, char *out,
                        char *err, size_t cap) {
    char po[300], pe[300];
    snprintf(po, sizeof po, "%s/stdout", tmpdir);
    snprintf(pe, sizeof pe, "%s/stderr", tmpdir);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(po, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    int fe = open(pe, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    dup2(fo, 1);
    dup2(fe, 2);
    sdsim_isolation lim = {.cpu_s = 20};
    int rc = sdsim_behavior_run(d, &lim, body, ud);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so), close(se), close(fo), close(fe);
    const char *paths[2] = {po, pe};
    char *bufs[2] = {out, err};
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(paths[k], "r");
        size_t n = f ? fread(bufs[k], 1, cap - 1, f) : 0;
        bufs[k][n] = '\0';
        if (f) fclose(f);
    }
    return rc;
}

/* ---- the simulation runs and reports ---------------------------------------------------- */

static int body_report(sim_design *d, void *ud) {
    (void)ud;
    long done = 0;
    if (run_sim(d, &done) != 0) return B_NO_RUN;
    printf("completions %ld\n", done); /* the report's way out: stdout, a file here */
    fprintf(stderr, "a line on stderr\n");
    return B_OK;
}

static void test_run_reports_through_stdout(void) {
    sim_design *d = plugin_design("fine");
    CHECK(d != NULL);
    if (!d) return;
    char out[4096], err[4096];
    int rc = captured_run(d, body_report, NULL, out, err, sizeof out);
    CHECK(rc == B_OK);
    long done = -1;
    CHECK(sscanf(out, "completions %ld", &done) == 1);
    /* Poisson arrivals: 500 expected, sd ~22; 400..600 is more than 4 sd either way. */
    CHECK(done >= 400 && done <= 600);
    CHECK(strstr(err, "a line on stderr") != NULL);
    if (rc != B_OK) fprintf(stderr, "  rc %d, stderr: %s\n", rc, err);
    sim_design_free(d);
}

/* ---- descriptors the parent held are closed ---------------------------------------------- */

static int body_write_held(sim_design *d, void *ud) {
    int fd = *(int *)ud;
    long done = 0;
    if (run_sim(d, &done) != 0) return B_NO_RUN;
    if (write(fd, "x", 1) == 1) return B_WROTE;
    return errno == EBADF ? B_OK : B_REFUSED;
}

static void test_held_descriptor_is_closed(void) {
    sim_design *d = plugin_design("fine");
    CHECK(d != NULL);
    if (!d) return;
    int p[2];
    CHECK(pipe(p) == 0);
    char out[4096], err[4096];
    int rc = captured_run(d, body_write_held, &p[1], out, err, sizeof out);
    CHECK(rc == B_OK); /* the write end was closed in the child: EBADF */
    close(p[1]);
    char c;
    CHECK(read(p[0], &c, 1) == 0); /* nothing came through */
    close(p[0]);
    sim_design_free(d);
}

/* ---- open() and fork() are refused by the seccomp filter ---------------------------------- */

static int body_open(sim_design *d, void *ud) {
    (void)d, (void)ud;
    int fd = open("/dev/null", O_RDONLY); /* opens anywhere without the lock-down */
    if (fd < 0) return B_REFUSED;
    close(fd);
    return B_ALLOWED;
}

static int body_fork(sim_design *d, void *ud) {
    (void)d, (void)ud;
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid < 0) return B_REFUSED;
    waitpid(pid, NULL, 0);
    return B_ALLOWED;
}

/* asan_rc: the body's code under ASan (-1: either way), where only the rlimits stand. */
static void check_killed_by_sigsys(int (*body)(sim_design *, void *), int asan_rc) {
    sim_design *d = plugin_design("fine");
    CHECK(d != NULL);
    if (!d) return;
    char out[4096], err[4096];
    int rc = captured_run(d, body, NULL, out, err, sizeof out);
    if (ASAN) {
        /* No seccomp under ASan (sandbox.h): the body returns. */
        CHECK(asan_rc < 0 ? rc == B_ALLOWED || rc == B_REFUSED : rc == asan_rc);
    } else {
        CHECK(rc == 2); /* sdsim_behavior_run's code for a crashed child */
        CHECK(strstr(err, "Bad system call") != NULL); /* strsignal(SIGSYS) */
        CHECK(strstr(err, "fine.lua") != NULL);        /* the plugin file is named */
    }
    if (!ASAN && rc != 2) fprintf(stderr, "  rc %d, stderr: %s\n", rc, err);
    sim_design_free(d);
}

/* Under ASan, RLIMIT_NOFILE (the kept descriptors 0-2 fill it) still refuses the open;
 * RLIMIT_NPROC of 0 refuses the fork only where the process lacks CAP_SYS_RESOURCE. */
static void test_open_is_refused(void) {
    check_killed_by_sigsys(body_open, B_REFUSED);
}
static void test_fork_is_refused(void) {
    check_killed_by_sigsys(body_fork, -1);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sdsim_plugin_lockdown_%d", (int)getpid());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", tmpdir);
    if (system(cmd) != 0) return 1;
    write_type("fine", "behavior = function(req, ctx) ctx:work() end,");
    /* The stdout test first: the child then gets a stdout nobody has written to yet, the
     * case where stdio would fstat the descriptor at its first printf. */
    static const test_case cases[] = {
        TEST(test_run_reports_through_stdout),
        TEST(test_held_descriptor_is_closed),
        TEST(test_open_is_refused),
        TEST(test_fork_is_refused),
    };
    int rc = test_main(cases, (int)(sizeof cases / sizeof cases[0]));
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) rc = 1;
    return rc;
}
