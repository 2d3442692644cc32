/* The figures behind /metrics, in the Prometheus text format (version 0.0.4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_cluster.h"
#include "log.h"
#include "server_defs.h"

void sdsim_metrics_count(sdsim_metrics *m, const char *route, int status, double seconds) {
    sdsim_route_series *s = NULL;
    for (int i = 0; i < m->nseries && !s; i++)
        if (m->series[i].status == status && !strcmp(m->series[i].route, route)) s = &m->series[i];
    if (!s && m->nseries < SDSIM_METRICS_MAX_SERIES) {
        s = &m->series[m->nseries++];
        snprintf(s->route, sizeof s->route, "%s", route);
        s->status = status;
    }
    if (!s) { /* a bounded number of series: the rest is "other" in the last one */
        s = &m->series[SDSIM_METRICS_MAX_SERIES - 1];
        snprintf(s->route, sizeof s->route, "other");
    }
    s->count++;
    s->seconds += seconds;
}

size_t sdsim_process_rss(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0, rss = 0;
    if (!f) return 0;
    if (fscanf(f, "%lu %lu", &pages, &rss) != 2) rss = 0;
    fclose(f);
    return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

static void gauge(FILE *f, const char *name, const char *help, double v) {
    fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name, v);
}

static void route_label(FILE *f, const char *route) {
    char esc[128];
    size_t len = sdsim_log_escape(esc, 0, sizeof esc, route); /* quotes and escapes */
    (void)len;
    fputs(esc, f);
}

static void requests(FILE *f, const sdsim_metrics *m) {
    fputs("# HELP sdsim_http_requests_total HTTP requests answered, by route and status.\n"
          "# TYPE sdsim_http_requests_total counter\n",
          f);
    for (int i = 0; i < m->nseries; i++) {
        fputs("sdsim_http_requests_total{route=", f);
        route_label(f, m->series[i].route);
        fprintf(f, ",status=\"%d\"} %llu\n", m->series[i].status,
                (unsigned long long)m->series[i].count);
    }
    fputs("# HELP sdsim_http_request_seconds_sum Time spent answering, by route and status.\n"
          "# TYPE sdsim_http_request_seconds_sum counter\n",
          f);
    for (int i = 0; i < m->nseries; i++) {
        fputs("sdsim_http_request_seconds_sum{route=", f);
        route_label(f, m->series[i].route);
        fprintf(f, ",status=\"%d\"} %.6f\n", m->series[i].status, m->series[i].seconds);
    }
}

char *sdsim_metrics_render(const sdsim_server *s, size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f) return NULL;
    requests(f, &s->metrics);
    gauge(f, "sdsim_http_requests_in_flight", "HTTP requests received and not yet answered.",
          s->in_flight);
    gauge(f, "sdsim_websocket_connections", "Open WebSocket connections.", s->ws_count);
    fprintf(f,
            "# HELP sdsim_websocket_messages_total WebSocket messages, by direction.\n"
            "# TYPE sdsim_websocket_messages_total counter\n"
            "sdsim_websocket_messages_total{direction=\"in\"} %llu\n"
            "sdsim_websocket_messages_total{direction=\"out\"} %llu\n",
            (unsigned long long)s->metrics.ws_messages_in,
            (unsigned long long)s->metrics.ws_messages_out);
    gauge(f, "sdsim_simulations_running", "Simulations queued or running on worker threads.",
          s->sims_running);
    gauge(f, "sdsim_worker_jobs_running", "Worker-thread jobs queued or running.", s->jobs_running);
    gauge(f, "sdsim_live_simulations", "Live simulations starting, running or paused.",
          s->live_running);
    fprintf(f,
            "# HELP sdsim_websocket_frames_total Simulation frames, sent or replaced by a newer "
            "one before a slow reader took them.\n"
            "# TYPE sdsim_websocket_frames_total counter\n"
            "sdsim_websocket_frames_total{outcome=\"sent\"} %llu\n"
            "sdsim_websocket_frames_total{outcome=\"replaced\"} %llu\n",
            (unsigned long long)s->metrics.ws_frames_sent,
            (unsigned long long)s->metrics.ws_frames_replaced);
    gauge(f, "process_resident_memory_bytes", "Resident memory size in bytes.",
          (double)sdsim_process_rss());
    gauge(f, "sdsim_uptime_seconds", "Seconds since the server started.",
          sdsim_server_now() - s->started);
    gauge(f, "sdsim_ready", "1 while serving, 0 while shutting down.", !s->draining);
    sdsim_cluster_metrics(f);
    fclose(f);
    return buf;
}
