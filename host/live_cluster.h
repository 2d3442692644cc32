/* Live simulations across several hosts sharing one Redis (sdsim serve --redis): the host that
 * runs a simulation (its owner) publishes its frames on the bus and keeps a lease on it;
 * another host relays those frames to its own WebSockets and forwards control and status
 * requests to the owner. Without Redis every function here does nothing (host.cluster.enabled()
 * is false) and a run is this process's only. docs/live.md "Several hosts".
 *
 * On the bus (host/bus.h):
 *   channel sim:<id>      'F' + 8 bytes (publish time, µs since the epoch, little-endian) +
 *                         the protobuf Frame; 'E' + the final state ("finished" ...)
 *   channel host:<hostid> 'Q' rid '\n' reply-channel '\n' JSON request (to the owner);
 *                         'R' rid '\n' JSON answer (back to the caller's host)
 *   key simulation:<id>   the lease: {"owner","host","state","simTime","speed","updatedAt"},
 *                         10 s, refreshed every 3 s; 30 s once the run has ended
 *   key user:<id>:simulations  sorted set: one member per live run of the user on any host,
 *                         scored by its expiry time (ms), for the per-user limit
 * Loop thread only. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "server_defs.h"

typedef struct sdsim_bus sdsim_bus;
struct lua_State;

/* From sdsim_api_live_register: on with --redis (a bus of its own on that Redis; a random host
 * id is logged). */
void sdsim_cluster_init(sdsim_server *srv, sdsim_api *api);
/* Shutdown, last step: the bus closed, timers closed, everything forgotten. */
void sdsim_cluster_free(void);
int sdsim_cluster_on(void);
/* The cluster's bus (NULL without --redis, or once closing) and this host's id ("" without). */
sdsim_bus *sdsim_cluster_bus(void);
const char *sdsim_cluster_host_id(void);
/* host.cluster.* into the table on top. */
void sdsim_cluster_register(struct lua_State *L);
/* The cluster's lines of /metrics (Prometheus text), nothing without Redis. */
void sdsim_cluster_metrics(FILE *f);

/* ---- the owner's side (api_live.c) ---- */
/* A run started here: its lease and its place in the owner's set (token: its member). */
void sdsim_cluster_run_begin(const char *id, const char *owner, const char *token);
/* Its state changed (pause, resume, step, speed): the lease is rewritten now. */
void sdsim_cluster_run_state(const char *id);
void sdsim_cluster_run_frame(const char *id, const uint8_t *frame, size_t len);
/* It ended: the end message, the lease's final state, its place in the set released. */
void sdsim_cluster_run_end(const char *id, const char *state);
/* Freed from memory. */
void sdsim_cluster_run_forget(const char *id);

/* The per-user limit across hosts: adds token to owner's set and counts the set (cb gets
 * status 0 and the count, this run included, or -1). */
typedef void (*sdsim_cluster_count_cb)(void *ud, int status, int64_t n);
void sdsim_cluster_reserve(const char *owner, const char *token, sdsim_cluster_count_cb cb,
                           void *ud);
void sdsim_cluster_release(const char *owner, const char *token);
/* A token for a new run ("<hostid>:<n>"). */
void sdsim_cluster_token(char *out, size_t n);

/* ---- server_ws.c ---- */
/* Connection ids from here on are requests forwarded by other hosts, answered over the bus. */
#define SDSIM_CLUSTER_CONN_BASE ((uint64_t)1 << 48)
/* The answer to a forwarded request (what the handler sent to its pseudo connection). */
void sdsim_cluster_reply(uint64_t conn_id, const char *text, size_t len);
/* A local subscription to sim_id ended: the relay goes when it was the last one. */
void sdsim_cluster_ws_dropped(const char *sim_id);
/* server_ws.c: open connections subscribed to sim_id. */
int sdsim_ws_subscribers(sdsim_server *s, const char *sim_id);

/* live_sessions.c: user:<id>:session (host.cluster.session, session_get). */
void sdsim_cluster_sessions_register(struct lua_State *L);
void sdsim_cluster_sessions_free(void);
