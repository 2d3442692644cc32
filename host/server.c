/* The server's life: one libuv loop that libwebsockets joins (LWS_SERVER_OPTION_LIBUV with a
 * foreign loop), signal handling and the graceful shutdown.
 *
 * Shutdown on SIGTERM or SIGINT: /readyz turns 503, the listen socket closes
 * (lws_context_deprecate), WebSockets are closed with 1001, and the loop keeps serving what is
 * in flight until nothing is left or the drain timeout passes; then running simulations are
 * cancelled, the lws context is destroyed, the loop runs until every handle has closed, and
 * the process exits 0. A second signal skips the wait. */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "api.h"
#include "log.h"
#include "server_defs.h"

#define DRAIN_TICK_MS 20
#define HARD_EXIT_MS 5000 /* after the context is destroyed, if the loop still has not ended */

double sdsim_server_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void sdsim_server_opts_defaults(sdsim_server_opts *o) {
    *o = (sdsim_server_opts){.host = "127.0.0.1",
                             .port = 8080,
                             .data_dir = "./data",
                             .read_timeout = 10,
                             .drain_timeout = 10,
                             .max_body = (size_t)4 << 20,
                             .max_ws_message = (size_t)1 << 20,
                             .run_max_duration = 600,
                             .run_max_components = 50,
                             .run_max_concurrent = 2,
                             .run_wall_limit = 30};
}

/* mkdir -p */
static int make_dirs(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* lws's own messages (warnings and errors only) become JSON log lines. */
static void lws_log_line(int level, const char *line) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", line);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    sdsim_log(level & LLL_ERR ? SDSIM_LOG_ERROR : SDSIM_LOG_WARN, "lws: %s", msg);
}

static int lws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len) {
    return sdsim_http_callback(wsi, (int)reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"http", lws_callback, sizeof(sdsim_session), 65536, 0, NULL, 0},
    {"sdsim", lws_callback, sizeof(sdsim_session), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static int create_context(sdsim_server *s) {
    struct lws_context_creation_info info;
    void *loops[1] = {&s->loop};
    memset(&info, 0, sizeof info);
    info.port = s->opts.port;
    info.iface = s->opts.host;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.foreign_loops = loops;
    info.user = s;
    info.pcontext = &s->lws;
    info.vhost_name = "sdsim";
    info.server_string = "sdsim";
    info.timeout_secs = (unsigned)s->opts.read_timeout;
    info.timeout_secs_ah_idle = (unsigned)s->opts.read_timeout;
    info.keepalive_timeout = 5;
    info.max_http_header_data = 8192;
    s->lws = lws_create_context(&info);
    return s->lws ? 0 : -1;
}

/* ------------------------------------------------------------------------------------- */
/* Shutdown */

static void hard_exit(uv_timer_t *t) {
    sdsim_log(SDSIM_LOG_WARN, "the loop did not end %d ms after shutdown: exiting anyway",
              HARD_EXIT_MS);
    _exit(0);
}

/* Destroys the lws context (closing every connection); the loop then ends by itself once the
 * last handle has closed and the last job has come back. */
static void stop(sdsim_server *s) {
    if (s->stopped) return;
    s->stopped = 1;
    uv_timer_stop(&s->drain_check);
    uv_close((uv_handle_t *)&s->drain_check, NULL);
    uv_close((uv_handle_t *)&s->sig_term, NULL);
    uv_close((uv_handle_t *)&s->sig_int, NULL);
    sdsim_api_cancel_all(s->api);
    sdsim_api_store_close();
    sdsim_api_live_free_all();
    if (s->lws) lws_context_destroy(s->lws);
    s->lws = NULL;
    uv_timer_init(&s->loop, &s->last_resort);
    uv_timer_start(&s->last_resort, hard_exit, HARD_EXIT_MS, 0);
    uv_unref((uv_handle_t *)&s->last_resort); /* it must not keep the loop alive */
}

static void drain_tick(uv_timer_t *t) {
    sdsim_server *s = t->data;
    if (s->in_flight == 0 && s->jobs_running == 0 && s->ws_count == 0 && s->live_pending == 0) {
        sdsim_log(SDSIM_LOG_INFO, "drained: stopping");
        stop(s);
    } else if (sdsim_server_now() > s->drain_deadline) {
        sdsim_log(SDSIM_LOG_WARN,
                  "drain timeout: %d requests and %d jobs still in flight are abandoned",
                  s->in_flight, s->jobs_running);
        stop(s);
    }
}

static void on_signal(uv_signal_t *h, int signum) {
    sdsim_server *s = h->data;
    if (s->draining) {
        sdsim_log(SDSIM_LOG_WARN, "second signal %d: stopping without waiting", signum);
        stop(s);
        return;
    }
    s->draining = 1;
    s->drain_deadline = sdsim_server_now() + s->opts.drain_timeout;
    sdsim_log(SDSIM_LOG_INFO,
              "signal %d: shutting down (%d requests and %d jobs in flight, %.3g s to finish)",
              signum, s->in_flight, s->jobs_running, s->opts.drain_timeout);
    if (s->lws) lws_context_deprecate(s->lws, NULL); /* closes the listen socket */
    sdsim_ws_close_all(s);
    sdsim_api_live_stop_all(s); /* their reports are written before the store closes */
    uv_timer_start(&s->drain_check, drain_tick, 0, DRAIN_TICK_MS);
}

/* ------------------------------------------------------------------------------------- */

/* Before the loop waits for I/O: the access lines of what this iteration answered. */
static void flush_log(uv_prepare_t *p) {
    (void)p;
    sdsim_log_flush();
}

static int start(sdsim_server *s) {
    char err[1024];
    if (make_dirs(s->opts.data_dir) != 0) {
        sdsim_log(SDSIM_LOG_ERROR, "cannot create the data directory %s: %s", s->opts.data_dir,
                  strerror(errno));
        return -1;
    }
    if (sdsim_api_store_open(s, s->opts.database_url, err, sizeof err) != 0) {
        sdsim_log(SDSIM_LOG_ERROR, "cannot open the store: %s", err);
        return -1;
    }
    if (!(s->api = sdsim_api_new(s, err, sizeof err))) {
        sdsim_log(SDSIM_LOG_ERROR, "cannot load the API handlers: %s", err);
        return -1;
    }
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_line);
    if (create_context(s) != 0) {
        sdsim_log(SDSIM_LOG_ERROR,
                  "cannot listen on %s:%d (in use? libwebsockets-evlib-uv "
                  "installed?)",
                  s->opts.host, s->opts.port);
        return -1;
    }
    uv_timer_init(&s->loop, &s->drain_check);
    s->drain_check.data = s;
    uv_signal_init(&s->loop, &s->sig_term);
    uv_signal_init(&s->loop, &s->sig_int);
    s->sig_term.data = s->sig_int.data = s;
    uv_signal_start(&s->sig_term, on_signal, SIGTERM);
    uv_signal_start(&s->sig_int, on_signal, SIGINT);
    uv_prepare_init(&s->loop, &s->log_flush);
    uv_prepare_start(&s->log_flush, flush_log);
    uv_unref((uv_handle_t *)&s->log_flush); /* it must not keep the loop alive */
    sdsim_log_batch(1);
    return 0;
}

int sdsim_server_run(const sdsim_server_opts *o) {
    sdsim_server *s = calloc(1, sizeof *s);
    if (!s) return 1;
    s->opts = *o;
    s->started = sdsim_server_now();
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&s->loop);
    if (start(s) != 0) {
        sdsim_api_store_close();
        if (s->lws) lws_context_destroy(s->lws);
        sdsim_api_free(s->api);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        uv_loop_close(&s->loop);
        free(s);
        return 1;
    }
    sdsim_log(SDSIM_LOG_INFO, "listening on http://%s:%d (static files: %s, data: %s)", o->host,
              o->port, o->static_dir ? o->static_dir : "none", o->data_dir);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    sdsim_api_free(s->api);
    uv_close((uv_handle_t *)&s->last_resort, NULL);
    uv_close((uv_handle_t *)&s->log_flush, NULL);
    sdsim_log_batch(0);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&s->loop);
    if (rc) sdsim_log(SDSIM_LOG_WARN, "the loop closed with handles open: %s", uv_strerror(rc));
    sdsim_log(SDSIM_LOG_INFO, "stopped");
    free(s);
    return 0;
}
