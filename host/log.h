/* Structured logs for the server: one JSON object per line on stderr, so that a log shipper
 * (or jq) reads them without parsing prose. Every line has "ts" (UTC, RFC 3339 with
 * milliseconds), "level" and either "msg" or the fields of an access log line. */
#pragma once
#include <stddef.h>

typedef enum sdsim_log_level {
    SDSIM_LOG_DEBUG,
    SDSIM_LOG_INFO,
    SDSIM_LOG_WARN,
    SDSIM_LOG_ERROR
} sdsim_log_level;

/* Lines below this level are dropped (default info). */
void sdsim_log_set_level(sdsim_log_level level);

/* {"ts":..., "level":..., "msg": <formatted>} */
void sdsim_log(sdsim_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The access log line of one answered HTTP request:
 * {"ts":..., "level":"info", "method":..., "path":..., "status":..., "ms":..., "bytes":...,
 *  "route":...}. route may be NULL. */
void sdsim_log_access(const char *method, const char *path, int status, double ms, size_t bytes,
                      const char *route);

/* With on, access lines wait in memory (64 kB at most) until sdsim_log_flush or any other
 * line; the server flushes once per loop iteration, before it waits for I/O. Off flushes. */
void sdsim_log_batch(int on);
void sdsim_log_flush(void);

/* Appends s to out as a JSON string (quotes included), never writing more than cap bytes in
 * all (a NUL always ends it). Returns the new length of out. Invalid UTF-8 bytes become
 * U+FFFD, so a hostile path cannot break the line. */
size_t sdsim_log_escape(char *out, size_t len, size_t cap, const char *s);
