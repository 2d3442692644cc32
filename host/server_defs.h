/* The server's shared state, for the files that make up the server: server.c (loop, lws
 * context, signals, shutdown), server_metrics.c, http.c (HTTP requests), server_ws.c
 * (WebSocket connections), api.c and api_jobs.c (Lua handlers and worker-thread jobs). */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "server.h"

struct lws_context;
struct lws;
typedef struct sdsim_api sdsim_api;
typedef struct sdsim_http_req sdsim_http_req;
typedef struct sdsim_ws_conn sdsim_ws_conn;

#define SDSIM_METRICS_MAX_SERIES 128

/* Requests answered, by route and status (one Prometheus series each). */
typedef struct sdsim_route_series {
    char route[48];
    int status;
    uint64_t count;
    double seconds; /* total time to answer, for the mean */
} sdsim_route_series;

typedef struct sdsim_metrics {
    sdsim_route_series series[SDSIM_METRICS_MAX_SERIES];
    int nseries;
    uint64_t ws_messages_in, ws_messages_out, ws_closed_bad;
    /* Simulation frames written to WebSockets, and frames replaced by a newer one before a
     * slow reader could take them. */
    uint64_t ws_frames_sent, ws_frames_replaced;
} sdsim_metrics;

typedef struct sdsim_server {
    sdsim_server_opts opts;
    uv_loop_t loop;
    struct lws_context *lws;
    uv_signal_t sig_term, sig_int;
    uv_timer_t drain_check;
    uv_timer_t last_resort; /* exits if the loop does not end after the context is gone */
    uv_prepare_t log_flush; /* writes the access lines of each loop iteration at its end */
    double started;         /* sdsim_server_now() at start */
    double drain_deadline;  /* sdsim_server_now() after which shutdown stops waiting */
    int draining;           /* a stop signal arrived: /readyz answers 503 */
    int stopped;            /* the lws context is being or has been destroyed */
    sdsim_api *api;
    sdsim_metrics metrics;
    sdsim_ws_conn *ws_conns; /* open WebSocket connections (closed with 1001 on shutdown) */
    int ws_count;
    int in_flight;    /* HTTP requests received and not yet finished */
    int sims_running; /* simulations queued or running on worker threads */
    int jobs_running; /* all worker-thread jobs queued or running */
    int live_pending; /* live simulations whose final state is not yet in the store */
    int live_running; /* live simulations starting, running or paused */
} sdsim_server;

/* Monotonic seconds. */
double sdsim_server_now(void);

/* server_metrics.c */
void sdsim_metrics_count(sdsim_metrics *m, const char *route, int status, double seconds);
/* The Prometheus text exposition of every figure (malloc'd; *len its length), or NULL. */
char *sdsim_metrics_render(const sdsim_server *s, size_t *len);
/* Resident set size of this process in bytes (0 when unknown). */
size_t sdsim_process_rss(void);

/* What lws keeps per connection (its per-session data): an HTTP request or a WebSocket. */
typedef struct sdsim_session {
    sdsim_http_req *req;
    sdsim_ws_conn *ws;
} sdsim_session;

/* http.c: the lws protocol callback for HTTP and WebSocket (one callback for both, since a
 * WebSocket client that names no subprotocol is bound to the first protocol). */
int sdsim_http_callback(struct lws *wsi, int reason, void *user, void *in, size_t len);

/* server_ws.c */
int sdsim_ws_callback(struct lws *wsi, int reason, void *user, void *in, size_t len);
/* Asks every WebSocket connection to close with 1001 (going away). */
void sdsim_ws_close_all(sdsim_server *s);

/* server_ws.c, for the API (api.c, api_live.c): connections are named by their id (a
 * connection may close while a handler still works on its message). */
/* Queues a text message; 0, or -1 when the connection is gone or closing. */
int sdsim_ws_send_text(sdsim_server *s, uint64_t conn_id, const char *text, size_t len);
void sdsim_ws_close_conn(sdsim_server *s, uint64_t conn_id, int code, const char *reason);
/* Frames of simulation sim_id go to the connection from now on, starting with latest (may be
 * NULL). 0, -1 when the connection is gone, -2 when it has too many subscriptions. */
int sdsim_ws_subscribe(sdsim_server *s, uint64_t conn_id, const char *sim_id, const uint8_t *latest,
                       size_t len);
/* 0, or -1 when the connection was not subscribed. */
int sdsim_ws_unsubscribe(sdsim_server *s, uint64_t conn_id, const char *sim_id);
/* A new frame of sim_id for every subscriber: each connection keeps at most one frame per
 * simulation waiting (a newer one replaces it), so a slow reader gets fewer frames and costs
 * one frame of memory, never slowing the others. */
void sdsim_ws_frame(sdsim_server *s, const char *sim_id, const uint8_t *frame, size_t len);
/* The run ended: {"type":"ended",...} goes to every subscriber after its last frame, and the
 * subscriptions end. */
void sdsim_ws_ended(sdsim_server *s, const char *sim_id, const char *state);
