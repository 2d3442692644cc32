/* Work that must not run on the network thread, as host functions of the API state: each
 * queues a job on libuv's thread pool (uv_queue_work), yields the handler's coroutine and
 * resumes it with the job's result. Validation, the analytic pass and simulations all run
 * there; a simulation checks a cancel flag and a wall-clock limit as it goes.
 *
 * Results follow luv's convention: the JSON text of the answer, or nil, message, code[,
 * problems] with code one of "invalid" (problems: an array of {path, reason}), "timeout",
 * "cancelled", "unsupported" (no analytic prediction for this design), "stopped" (the engine
 * stopped the run: the design's fault, e.g. a loop without delay), "failed" (the server's). */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analytic.h"
#include "api.h"
#include "api_jobs.h"
#include "design_load.h"
#include "lua_behavior.h"
#include "reload.h"
#include "sandbox.h"
#include "sandbox_proto.h"
#include "json_writer.h"
#include "log.h"
#include "lua_state.h"
#include "replications.h"
#include "report.h"
#include "run_design.h"

#define CATALOG_MEM_LIMIT ((size_t)256 << 20)
#define SDSIM_USER_PLUGIN_DIR "user-plugins" /* virtual: only ever in a source set */

typedef enum job_kind { JOB_VALIDATE, JOB_ANALYZE, JOB_RUN, JOB_COMPONENTS } job_kind;

typedef struct api_job {
    uv_work_t work;
    sdsim_api_call *call;
    sdsim_server *srv;
    job_kind kind;
    char *input;
    size_t len;
    double duration, warmup, wall_limit;
    uint64_t seed;
    int max_components;
    atomic_int cancel;
    /* The component types this job reads: the registry's snapshot when it was queued (a run
     * keeps the versions it started with) plus the user's plugins; NULL: the disk. */
    sdsim_lua_sources *sources;
    /* Results, written by the worker, read back on the loop */
    char *text; /* the answer's JSON */
    size_t text_len;
    sdsim_problems problems;
    const char *code; /* NULL on success */
    char message[1200];
    struct api_job *next, *prev;
} api_job;

static api_job *jobs; /* queued or running, for cancel_all (loop thread only) */

static double wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fail(api_job *j, const char *code, const char *fmt, const char *arg) {
    j->code = code;
    snprintf(j->message, sizeof j->message, fmt, arg);
}

/* ------------------------------------------------------------------------------------- */
/* The work itself (worker threads) */

/* The design, or NULL with the job failed as "invalid". */
static sim_design *load(api_job *j) {
    sim_design *d = sdsim_load_design_json(j->input, j->len, &j->problems);
    if (!d) {
        j->code = "invalid";
        snprintf(j->message, sizeof j->message, "the design has %d problem%s", j->problems.n,
                 j->problems.n == 1 ? "" : "s");
    }
    return d;
}

typedef struct membuf {
    FILE *f;
    char *data;
    size_t len;
} membuf;

static int membuf_open(membuf *m) {
    m->data = NULL;
    m->len = 0;
    m->f = open_memstream(&m->data, &m->len);
    return m->f ? 0 : -1;
}

static void membuf_take(membuf *m, api_job *j) {
    fclose(m->f);
    j->text = m->data;
    j->text_len = m->len;
}

static void validate_work(api_job *j) {
    sim_design *d = load(j);
    membuf m;
    if (!d || membuf_open(&m)) {
        if (d) fail(j, "failed", "%s", "out of memory");
        sim_design_free(d);
        return;
    }
    sdsim_json w;
    sdsim_json_init(&w, m.f, 0);
    sdsim_json_object_begin(&w);
    sdsim_json_key(&w, "ok");
    sdsim_json_bool(&w, 1);
    sdsim_json_kv_string(&w, "name", d->name);
    sdsim_json_kv_integer(&w, "components", d->ncomponents);
    sdsim_json_kv_integer(&w, "edges", d->nedges);
    sdsim_json_kv_integer(&w, "workloads", d->nworkloads);
    sdsim_json_kv_integer(&w, "faults", d->nfaults);
    sdsim_json_object_end(&w);
    membuf_take(&m, j);
    sim_design_free(d);
}

static void analyze_work(api_job *j) {
    sim_design *d = load(j);
    if (!d) return;
    sim_analytic a;
    char err[256];
    membuf m;
    if (sim_analyze(d, &a, err, sizeof err) != 0) {
        fail(j, "unsupported", "no analytic prediction: %s", err);
    } else {
        if (membuf_open(&m) == 0) {
            sdsim_analytic_json(m.f, d, &a);
            membuf_take(&m, j);
        } else {
            fail(j, "failed", "%s", "out of memory");
        }
        sim_analytic_free(&a);
    }
    sim_design_free(d);
}

/* Runs one replication in steps of simulated time, checking the cancel flag and the wall
 * clock between steps. 0, or -1 with the job failed. */
static int run_steps(api_job *j, sim_run *run, double started) {
    double step = j->duration / 1000, t = step;
    int rc;
    while ((rc = sim_run_until(run, t)) == 0) {
        if (atomic_load(&j->cancel)) {
            fail(j, "cancelled", "%s", "the server is shutting down: the run was stopped");
            return -1;
        }
        if (wall_now() - started > j->wall_limit) {
            char lim[32];
            snprintf(lim, sizeof lim, "%g", j->wall_limit);
            fail(j, "timeout",
                 "the run needed more than %s s of wall-clock time; shorten the duration or "
                 "lower the load",
                 lim);
            return -1;
        }
        t += step;
    }
    if (rc < 0) {
        fail(j, "stopped", "the run stopped: %s", sim_run_error(run));
        return -1;
    }
    return 0;
}

/* The report of the finished run, like run_design.c builds it for `sdsim run --json`. */
static void run_report(api_job *j, const sim_design *d, sim_run *run, double started) {
    sdsim_replications reps = {0};
    sim_analytic a;
    char aerr[256] = "";
    membuf m;
    if (sdsim_replications_add(&reps, sim_run_results(run)) ||
        sdsim_replications_summarise(&reps) || membuf_open(&m)) {
        fail(j, "failed", "%s", "out of memory");
        sdsim_replications_free(&reps);
        return;
    }
    int have = sim_analyze(d, &a, aerr, sizeof aerr) == 0;
    sdsim_report report = {.design = d,
                           .results = &reps.summary,
                           .analytic = have ? &a : NULL,
                           .analytic_error = aerr,
                           .duration = j->duration,
                           .warmup = j->warmup,
                           .seed = j->seed,
                           .replications = 1,
                           .wall_seconds = wall_now() - started};
    sdsim_report_json(m.f, &report);
    membuf_take(&m, j);
    if (have) sim_analytic_free(&a);
    sdsim_replications_free(&reps);
}

/* A design with a user's plugin types runs in a child process, locked down like a sandbox
 * (sandbox.h) once the behaviours are loaded: the report (or the reason it failed) comes back
 * over a pipe, and the child is killed at the wall-clock limit or when the server stops. A
 * crash, an endless loop or a memory bomb in a plugin costs only the child.
 *
 * In the server (sdsim_design_set_exec named sdsim's binary) the child is exec'd afresh as
 * `sdsim __run-child` through design_load.c's plumbing (sdsim_child_spawn): a plain fork of
 * the threaded server could wait forever for a lock (malloc's, LuaJIT's) that another thread
 * held at the fork, and would carry the server's secrets. The design's JSON, the options and
 * the job's source set (the registry's snapshot and the user's plugins) go to its stdin; it
 * loads the design again, exactly as the server did, and writes the same 'R' report or 'E'
 * reason as a forked child on descriptor 3. Without an exec path (unit tests' plain mode) the
 * child is a plain fork running child_run on the parent's loaded design. */

#define RUN_CHILD_ARG "__run-child" /* sdsim_api_run_child_main */
#define RUN_CHILD_OUT_FD 3
enum { RUN_REQ_ARGS = 1 }; /* then the source set's frames (design_load.h) */

/* The options of a run, raw over the request (the same binary reads them). CLOCK_MONOTONIC is
 * system-wide, so the child's wall-clock limit counts from the parent's start. */
typedef struct run_params {
    double duration, warmup, wall_limit, started;
    uint64_t seed;
} run_params;

static sim_options run_options(const api_job *j) {
    sim_options o = sim_options_defaults();
    o.duration = j->duration;
    o.warmup = j->warmup;
    o.seed = j->seed;
    o.window = j->duration / SDSIM_MAX_WINDOWS > 1 ? j->duration / SDSIM_MAX_WINDOWS : 1;
    return o;
}

/* In the child (forked, or exec'd and the design loaded again): attaches the behaviours,
 * locks down, runs, writes 'R' and the report or 'E' and the reason to fd. Never returns. */
static void child_run(api_job *j, sim_design *d, const sim_options *o, double started, int fd) {
    char why[512];
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives the server */
    signal(SIGSEGV, SIG_DFL);
    sdsim_behavior_opts bo = {.mem_limit = (size_t)256 << 20};
    sdsim_behavior_host *h = sdsim_behavior_attach(d, &bo, why, sizeof why);
    if (!h) {
        dprintf(fd, "E%s", why);
        _exit(1);
    }
    int keep[] = {fd};
    sdsim_lockdown ld = {.keep_fds = keep,
                         .nkeep = 1,
                         .cpu_s = (int)j->wall_limit + 1,
                         .cpu_grace_s = 1,
                         .as_extra = ((size_t)512 << 20) + ((size_t)4 << 30),
                         .seccomp = 1};
    if (sdsim_sandbox_lockdown(&ld) != 0) _exit(3);
    sim_run *run = sim_run_new(d, o, why, sizeof why);
    if (!run) {
        dprintf(fd, "Ecannot run: %s", why);
        _exit(1);
    }
    if (run_steps(j, run, started) == 0) run_report(j, d, run, started);
    if (j->code) {
        dprintf(fd, "E%s", j->message);
        _exit(1);
    }
    const char *p = j->text;
    size_t left = j->text_len;
    if (write(fd, "R", 1) != 1) _exit(1);
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w <= 0) _exit(1);
        p += w;
        left -= (size_t)w;
    }
    _exit(0);
}

typedef struct fork_ctx {
    api_job *j;
    sim_design *d;
    const sim_options *o;
    double started;
} fork_ctx;

static void fork_body(void *ud, int out) {
    fork_ctx *c = ud;
    child_run(c->j, c->d, c->o, c->started, out);
}

/* The exec'd child's request: the options and the design's JSON, then the job's sources (the
 * worker thread's active set). 0, or -1 out of memory. */
static int encode_run(const api_job *j, double started, sdsim_proto_buf *b) {
    run_params p = {j->duration, j->warmup, j->wall_limit, started, j->seed};
    size_t f = sdsim_proto_begin(b, RUN_REQ_ARGS);
    sdsim_proto_put_str(b, (const char *)&p, sizeof p);
    sdsim_proto_put_str(b, j->input, j->len);
    sdsim_proto_end(b, f);
    return sdsim_child_put_sources(b);
}

/* `sdsim __run-child`: reads the request from stdin, loads the design with the sources it
 * carries and runs it as child_run does, the answer on descriptor 3. Returns only when the
 * request is malformed (an exit code). */
int sdsim_api_run_child_main(int argc, char **argv) {
    (void)argv;
    char *buf = NULL;
    size_t len = 0;
    if (argc != 0) {
        fprintf(stderr, "sdsim %s: internal: run by the server for runs with plugins\n",
                RUN_CHILD_ARG);
        return 2;
    }
    int rc = sdsim_child_read_request(RUN_CHILD_ARG, &buf, &len), type;
    if (rc != 0) return rc;
    api_job j = {.max_components = 0};
    run_params p = {0};
    sdsim_lua_sources *set = NULL;
    sdsim_proto_cursor all = {buf, len, 0}, c;
    while ((rc = sdsim_child_next_frame(&all, &type, &c)) == 1) {
        if (type == RUN_REQ_ARGS) {
            size_t n = 0;
            const char *raw = sdsim_proto_get_str(&c, &n);
            if (c.failed || n != sizeof p) return 4;
            memcpy(&p, raw, sizeof p);
            j.input = (char *)sdsim_proto_get_str(&c, &j.len);
        } else if ((rc = sdsim_child_take_source(type, &c, &set)) > 1) {
            return rc;
        }
        if (c.failed) return 4;
    }
    if (rc < 0 || !j.input) return 4;
    if (set) sdsim_lua_sources_use(set);
    j.duration = p.duration;
    j.warmup = p.warmup;
    j.wall_limit = p.wall_limit;
    j.seed = p.seed;
    sim_design *d = load(&j);
    if (!d) {
        dprintf(RUN_CHILD_OUT_FD, "E%s", j.problems.n ? j.problems.items[0].reason : j.message);
        _exit(1);
    }
    sim_options o = run_options(&j);
    child_run(&j, d, &o, p.started, RUN_CHILD_OUT_FD); /* does not return */
    return 0;
}

/* Reads the child's answer until EOF, the wall-clock limit (2 s of grace: the child stops
 * itself at the limit) or the cancel flag. The bytes read (NUL-terminated), or NULL. */
static char *read_answer(api_job *j, int fd, double started, size_t *len, int *timed_out) {
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    *timed_out = fd < 0; /* the request could not even be sent in time */
    while (fd >= 0) {
        double left = j->wall_limit + 2 - (wall_now() - started);
        if (left <= 0 || atomic_load(&j->cancel)) {
            *timed_out = 1;
            break;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, left > 0.2 ? 200 : (int)(left * 1000) + 1);
        if (pr <= 0) continue;
        if (*len + 65536 > cap) {
            char *nb = realloc(buf, cap = cap * 2 + 65536);
            if (!nb) break;
            buf = nb;
        }
        ssize_t n = read(fd, buf + *len, cap - *len - 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        *len += (size_t)n;
    }
    if (buf) buf[*len] = '\0';
    return buf;
}

/* The job's outcome from the child's answer and exit status. */
static void take_answer(api_job *j, const char *buf, size_t len, int status, int timed_out) {
    if (timed_out) {
        char lim[32];
        snprintf(lim, sizeof lim, "%g", j->wall_limit);
        fail(j, atomic_load(&j->cancel) ? "cancelled" : "timeout",
             "the run with plugins needed more than %s s of wall-clock time and was stopped", lim);
    } else if (buf && len > 1 && buf[0] == 'R' && WIFEXITED(status) && !WEXITSTATUS(status)) {
        j->text = malloc(len);
        if (j->text) {
            memcpy(j->text, buf + 1, len - 1);
            j->text[len - 1] = '\0';
            j->text_len = len - 1;
        }
    } else if (buf && len > 1 && buf[0] == 'E') {
        fail(j, "stopped", "%s", buf + 1);
    } else if (WIFSIGNALED(status)) {
        char sig[64];
        snprintf(sig, sizeof sig, "signal %d", WTERMSIG(status));
        fail(j, "stopped",
             "the run with plugins crashed or used up its CPU limit (%s); nothing else was "
             "affected",
             sig);
    } else {
        char st[32];
        snprintf(st, sizeof st, "%d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        fail(j, "failed", "the run with plugins gave no result (exit status %s)", st);
    }
}

static void run_isolated(api_job *j, sim_design *d, const sim_options *o, double started) {
    sdsim_proto_buf req = {0};
    int exec_it = sdsim_child_exec_path() != NULL;
    if (exec_it && encode_run(j, started, &req) != 0) {
        sdsim_proto_buf_free(&req);
        fail(j, "failed", "%s", "out of memory for the run's request");
        return;
    }
    fork_ctx ctx = {j, d, o, started};
    long long deadline_ms = (long long)((started + j->wall_limit + 2) * 1000);
    char err[256];
    int out = -1;
    pid_t pid = sdsim_child_spawn(RUN_CHILD_ARG, exec_it ? &req : NULL, fork_body, &ctx,
                                  deadline_ms, &out, err, sizeof err);
    sdsim_proto_buf_free(&req);
    if (pid < 0) {
        fail(j, "failed", "%s", err);
        return;
    }
    size_t len = 0;
    int timed_out = 0;
    char *buf = read_answer(j, out, started, &len, &timed_out);
    if (out >= 0) close(out);
    if (timed_out) kill(pid, SIGKILL);
    int status = sdsim_child_reap(pid);
    take_answer(j, buf, len, status, timed_out);
    free(buf);
}

static void run_work(api_job *j) {
    double started = wall_now();
    sim_design *d = load(j);
    if (!d) return;
    if (d->ncomponents > j->max_components) {
        sdsim_problems_add(&j->problems, "$.components",
                           "an anonymous run takes at most %d components; this design has %d",
                           j->max_components, d->ncomponents);
        fail(j, "invalid", "%s", "the design is too large for an anonymous run");
        sim_design_free(d);
        return;
    }
    sim_options o = run_options(j);
    char why[512];
    if (sdsim_design_has_plugins(d)) {
        run_isolated(j, d, &o, started);
        sim_design_free(d);
        return;
    }
    sdsim_behavior_host *scripts = NULL;
    if (sdsim_design_has_scripts(d) &&
        !(scripts = sdsim_behavior_attach(d, NULL, why, sizeof why))) {
        fail(j, "invalid", "%s", why);
        sim_design_free(d);
        return;
    }
    sim_run *run = sim_run_new(d, &o, why, sizeof why);
    if (!run) {
        fail(j, "failed", "cannot run: %s", why);
    } else {
        if (run_steps(j, run, started) == 0) run_report(j, d, run, started);
        sim_run_free(run);
    }
    if (scripts) sdsim_behavior_detach(d, scripts);
    sim_design_free(d);
}

const char *sdsim_api_run_now(const char *json, size_t len, const sdsim_api_run_opts *opts,
                              char **text, size_t *text_len, char *msg, size_t msglen) {
    api_job j = {.input = (char *)json,
                 .len = len,
                 .duration = opts->duration,
                 .warmup = opts->warmup,
                 .wall_limit = opts->wall_limit,
                 .seed = opts->seed,
                 .max_components = opts->max_components > 0 ? opts->max_components : 1 << 30};
    run_work(&j);
    sdsim_problems_free(&j.problems);
    *text = j.code ? NULL : j.text;
    *text_len = j.code ? 0 : j.text_len;
    if (j.code) free(j.text);
    if (!j.code && !j.text) {
        j.code = "failed";
        snprintf(j.message, sizeof j.message, "out of memory");
    }
    snprintf(msg, msglen, "%s", j.code ? j.message : "");
    return j.code;
}

/* Every component type with its parameters, from scripts/api/catalog.lua given the design
 * SDK (the same loader validation uses). */
static void components_work(api_job *j) {
    sdsim_lua_opts opts = {.mem_limit = CATALOG_MEM_LIMIT, .jit = 1};
    lua_State *L = sdsim_lua_new(&opts);
    char err[1024], path[4096];
    if (!L) {
        fail(j, "failed", "%s", "out of memory");
        return;
    }
    snprintf(path, sizeof path, "%s/scripts/api/catalog.lua", sdsim_root());
    if (sdsim_design_sdk_push(L, err, sizeof err) != 0 ||
        sdsim_lua_load_file(L, path, 0, (size_t)1 << 20, err, sizeof err) != 0) {
        fail(j, "failed", "%s", err);
    } else {
        lua_insert(L, -2); /* catalog(D, root, broken_json) */
        lua_pushstring(L, sdsim_root());
        if (j->input)
            lua_pushlstring(L, j->input, j->len);
        else
            lua_pushnil(L);
        if (sdsim_lua_pcall(L, 3, 1, 0, err, sizeof err) != 0 || !lua_isstring(L, -1)) {
            fail(j, "failed", "%s", err);
        } else {
            size_t n;
            const char *s = lua_tolstring(L, -1, &n);
            if ((j->text = malloc(n + 1))) {
                memcpy(j->text, s, n + 1);
                j->text_len = n;
            }
        }
    }
    sdsim_lua_close(L);
}

static void work(uv_work_t *w) {
    api_job *j = w->data;
    sdsim_lua_sources *outer = sdsim_lua_sources_use(j->sources);
    switch (j->kind) {
    case JOB_VALIDATE:
        validate_work(j);
        break;
    case JOB_ANALYZE:
        analyze_work(j);
        break;
    case JOB_RUN:
        run_work(j);
        break;
    case JOB_COMPONENTS:
        components_work(j);
        break;
    }
    sdsim_lua_sources_use(outer);
    if (!j->code && !j->text) fail(j, "failed", "%s", "out of memory");
}

/* ------------------------------------------------------------------------------------- */
/* Back on the loop */

static void push_problems(lua_State *co, const sdsim_problems *p) {
    lua_createtable(co, p->n, 0);
    for (int i = 0; i < p->n; i++) {
        lua_createtable(co, 0, 2);
        lua_pushstring(co, p->items[i].path);
        lua_setfield(co, -2, "path");
        lua_pushstring(co, p->items[i].reason);
        lua_setfield(co, -2, "reason");
        lua_rawseti(co, -2, i + 1);
    }
}

static void job_unlink(api_job *j) {
    if (j->prev)
        j->prev->next = j->next;
    else
        jobs = j->next;
    if (j->next) j->next->prev = j->prev;
}

static void after_work(uv_work_t *w, int status) {
    api_job *j = w->data;
    job_unlink(j);
    j->srv->jobs_running--;
    if (j->kind == JOB_RUN) j->srv->sims_running--;
    lua_State *co = sdsim_api_call_thread(j->call);
    int n;
    if (status == UV_ECANCELED) fail(j, "cancelled", "%s", "the server is shutting down");
    if (!j->code) {
        lua_pushlstring(co, j->text, j->text_len);
        n = 1;
    } else {
        lua_pushnil(co);
        lua_pushstring(co, j->message);
        lua_pushstring(co, j->code);
        push_problems(co, &j->problems);
        n = 4;
    }
    sdsim_api_call *call = j->call;
    sdsim_lua_sources_unref(j->sources);
    free(j->text);
    free(j->input);
    sdsim_problems_free(&j->problems);
    free(j);
    sdsim_api_call_resume(call, n);
}

/* The sources of a job: the registry's snapshot of the types, plus the plugins in the table
 * at stack index idx ({{name =, source =}...}: a user's, under the virtual directory
 * user-plugins/), when there is one. */
sdsim_lua_sources *sdsim_api_job_sources(lua_State *L, int idx) {
    sdsim_reload *r = sdsim_api_reload();
    sdsim_lua_sources *set = r ? sdsim_reload_type_sources(r) : NULL;
    if (!lua_istable(L, idx)) return set;
    if (!set && !(set = sdsim_lua_sources_new())) return NULL;
    int n = (int)lua_objlen(L, idx), added = 0;
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        lua_getfield(L, -1, "name");
        lua_getfield(L, -2, "source");
        size_t len = 0;
        const char *name = lua_tostring(L, -2), *src = lua_tolstring(L, -1, &len);
        char path[256];
        if (name && src && strlen(name) < 128) {
            snprintf(path, sizeof path, "%s/%s.lua", SDSIM_USER_PLUGIN_DIR, name);
            added += sdsim_lua_sources_add(set, path, src, len) == 0;
        }
        lua_pop(L, 3);
    }
    if (added) sdsim_lua_sources_add_plugin_dir(set, SDSIM_USER_PLUGIN_DIR);
    return set;
}

static void take_sources(lua_State *L, api_job *j, int idx) {
    j->sources = sdsim_api_job_sources(L, idx);
}

/* Queues the job for the calling handler and yields it. */
static int queue(lua_State *L, api_job *j, const char *fname) {
    j->call = sdsim_api_call_check(L, fname);
    sdsim_server *srv = sdsim_api_server(sdsim_api_of(L));
    j->srv = srv;
    j->work.data = j;
    if (uv_queue_work(&srv->loop, &j->work, work, after_work) != 0) {
        sdsim_lua_sources_unref(j->sources);
        free(j->input);
        free(j);
        return luaL_error(L, "%s: cannot queue the work", fname);
    }
    srv->jobs_running++;
    if (j->kind == JOB_RUN) srv->sims_running++;
    j->next = jobs;
    if (jobs) jobs->prev = j;
    jobs = j;
    sdsim_api_call_wait(j->call);
    return lua_yield(L, 0);
}

static api_job *job_new(lua_State *L, job_kind kind, int with_input) {
    size_t n = 0;
    const char *s = with_input ? luaL_checklstring(L, 1, &n) : NULL;
    api_job *j = calloc(1, sizeof *j);
    char *input = with_input ? malloc(n + 1) : NULL;
    if (!j || (with_input && !input)) {
        free(j);
        free(input);
        luaL_error(L, "out of memory");
        return NULL;
    }
    j->kind = kind;
    if (input) {
        memcpy(input, s, n + 1);
        j->input = input;
        j->len = n;
    }
    return j;
}

/* Each of these takes an optional table of the user's plugins ({{name =, source =}...}) as
 * its last argument. */

/* host.validate(json_text) -> {"ok":true,"name":...,"components":N,...} text | nil, msg,
 * code, problems */
static int host_validate(lua_State *L) {
    luaL_checkstring(L, 1);
    api_job *j = job_new(L, JOB_VALIDATE, 1);
    take_sources(L, j, 2);
    return queue(L, j, "host.validate");
}

/* host.analyze(json_text) -> the `sdsim analyze --json` document | nil, msg, code, problems */
static int host_analyze(lua_State *L) {
    luaL_checkstring(L, 1);
    api_job *j = job_new(L, JOB_ANALYZE, 1);
    take_sources(L, j, 2);
    return queue(L, j, "host.analyze");
}

static double opt_field(lua_State *L, int t, const char *k, double def) {
    lua_getfield(L, t, k);
    double v = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : def;
    lua_pop(L, 1);
    return v;
}

/* host.run(json_text, {duration=, warmup=, seed=, wall_limit=, max_components=}) -> the
 * `sdsim run --json` report | nil, msg, code, problems. The handler checks the options'
 * ranges; here they are only clamped to what cannot break the engine. */
static int host_run(lua_State *L) {
    luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    double duration = opt_field(L, 2, "duration", 60);
    double warmup = opt_field(L, 2, "warmup", duration / 10);
    if (!(duration > 0) || !(warmup >= 0) || warmup >= duration || !isfinite(duration))
        return luaL_error(L, "host.run: need 0 <= warmup < duration");
    api_job *j = job_new(L, JOB_RUN, 1);
    j->duration = duration;
    j->warmup = warmup;
    j->seed = (uint64_t)opt_field(L, 2, "seed", 1);
    j->wall_limit = opt_field(L, 2, "wall_limit", 30);
    j->max_components = (int)opt_field(L, 2, "max_components", 1e9);
    take_sources(L, j, 3);
    return queue(L, j, "host.run");
}

/* host.components([plugins[, broken_json]]) -> the catalogue's JSON text | nil, msg, code.
 * broken_json: {"name": "file:line: reason"} of types the registry holds no good version of,
 * added to the catalogue's "broken". */
static int host_components(lua_State *L) {
    api_job *j = job_new(L, JOB_COMPONENTS, 0);
    take_sources(L, j, 1);
    size_t n = 0;
    const char *broken = lua_isstring(L, 2) ? lua_tolstring(L, 2, &n) : NULL;
    if (broken && (j->input = malloc(n + 1))) {
        memcpy(j->input, broken, n + 1);
        j->len = n;
    }
    return queue(L, j, "host.components");
}

void sdsim_api_jobs_register(lua_State *L) {
    static const luaL_Reg fns[] = {{"validate", host_validate},
                                   {"analyze", host_analyze},
                                   {"run", host_run},
                                   {"components", host_components},
                                   {NULL, NULL}};
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
}

void sdsim_api_jobs_cancel_all(void) {
    for (api_job *j = jobs; j; j = j->next) {
        atomic_store(&j->cancel, 1);
        uv_cancel((uv_req_t *)&j->work); /* succeeds only while still queued */
    }
}
