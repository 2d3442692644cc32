/* Requests forwarded between hosts (with --redis): a handler on a host without the run asks the
 * run's host over the bus and waits (3 s at most) for its answer; a host serves the requests of
 * others in handler coroutines under pseudo connection ids. Used by live_cluster.c only; the
 * protocol is in live_cluster.h and docs/live.md "Several hosts". Loop thread only. */
#pragma once
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "server_defs.h"

struct lua_State;

#define SDSIM_CLUSTER_SAMPLES 256 /* latencies kept for the figures of host.cluster.stats */

/* self_channel: "host:<this host's id>", where answers come back. */
void sdsim_forward_init(sdsim_server *srv, sdsim_api *api, const char *self_channel);
/* A message on this host's channel: a request ('Q') or an answer ('R'). */
void sdsim_forward_message(void *ud, const char *channel, const char *data, size_t len);
/* Forgets requests served so long ago that their handler never answered. */
void sdsim_forward_tick(double now);
/* Shutdown (the bus is closing): timers closed, no handler resumed. */
void sdsim_forward_free(void);
/* host.cluster.forward(host_id, json) (see live_forward.c). */
int sdsim_forward_lua(struct lua_State *L);
/* forwarded, served, timeouts, unreachable, roundTripMs into the table on top. */
void sdsim_forward_stats(struct lua_State *L);
/* Its counters in the Prometheus text format (sdsim_cluster_metrics). */
void sdsim_forward_metrics(FILE *f);
/* {n, p50, p99, max[, mean]} of the last SDSIM_CLUSTER_SAMPLES of ring (n in all; sum < 0: no
 * mean) as field k of the table on top. */
void sdsim_cluster_figures(struct lua_State *L, const char *k, const double *ring, uint64_t n,
                           double max, double sum);
