/* `sdsim serve`: HTTP and WebSocket on one libuv loop (libwebsockets joins the loop), API
 * handlers in Lua coroutines (api.h), simulations on worker threads, never on the loop.
 * docs/http-api.md describes the routes. */
#pragma once
#include <stddef.h>

typedef struct sdsim_server_opts {
    const char *host;       /* listen address; default 127.0.0.1 */
    int port;               /* default 8080 */
    const char *data_dir;   /* default ./data; created when missing */
    const char *static_dir; /* the SPA's files; default frontend/dist under sdsim_root() */
    double read_timeout;    /* seconds a client has to send its headers and its body */
    double drain_timeout;   /* seconds a graceful shutdown waits for requests in flight */
    size_t max_body;        /* request bodies beyond this are refused with 413 */
    size_t max_ws_message;  /* WebSocket messages beyond this close with 1009 */
    int test_routes;        /* /api/debug/...: handlers the tests use (sleep, error) */
    /* Anonymous simulations (POST /api/run) */
    double run_max_duration; /* simulated seconds */
    int run_max_components;
    int run_max_concurrent;   /* at once, server-wide; 429 beyond */
    double run_wall_limit;    /* wall-clock seconds a run may take before it is stopped */
    const char *database_url; /* NULL: SQLite in data_dir; "postgres://...": PostgreSQL */
    const char *redis_url;    /* NULL: the bus (login rate limits) stays in this process */
} sdsim_server_opts;

void sdsim_server_opts_defaults(sdsim_server_opts *o);

/* Serves until SIGTERM or SIGINT, then stops accepting, lets requests in flight finish (at
 * most drain_timeout) and returns 0; 1 when the server could not start. */
int sdsim_server_run(const sdsim_server_opts *o);
