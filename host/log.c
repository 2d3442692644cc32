/* JSON-lines logs on stderr (see log.h). Each line is built in a buffer and written with one
 * write(2), so lines from the loop and from worker threads never interleave. Access lines may
 * be batched (sdsim_log_batch): a write(2) per request was a tenth of the server's CPU time
 * under load. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

static sdsim_log_level min_level = SDSIM_LOG_INFO;

/* Access lines waiting for sdsim_log_flush, in order; any other line flushes them first, so
 * the log keeps the order lines were made in. */
#define BATCH_BYTES 65536
static pthread_mutex_t batch_lock = PTHREAD_MUTEX_INITIALIZER;
static int batching;
static char batch[BATCH_BYTES];
static size_t batch_len;

static const char *level_names[] = {"debug", "info", "warn", "error"};

void sdsim_log_set_level(sdsim_log_level level) {
    min_level = level;
}

/* Length of the well-formed UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s) {
    size_t n = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (n == 0 || s[0] >= 0xF8) return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return n;
}

size_t sdsim_log_escape(char *out, size_t len, size_t cap, const char *s) {
    /* Room for the closing quote and the NUL is kept at every step. */
    if (len + 3 > cap) return len;
    out[len++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p && len + 8 < cap;) {
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            out[len++] = '\\';
            out[len++] = (char)c;
            p++;
        } else if (c < 0x20 || c == 0x7F) {
            len += (size_t)snprintf(out + len, cap - len, "\\u%04x", c);
            p++;
        } else if (c < 0x80) {
            out[len++] = (char)c;
            p++;
        } else {
            size_t n = utf8_len(p);
            if (n == 0) {
                memcpy(out + len, "\xEF\xBF\xBD", 3);
                len += 3;
                p++;
            } else {
                memcpy(out + len, p, n);
                len += n;
                p += n;
            }
        }
    }
    out[len++] = '"';
    out[len] = '\0';
    return len;
}

/* {"ts":"2024-05-01T12:00:00.123Z","level":"info" */
static size_t line_start(char *buf, size_t cap, sdsim_log_level level) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    static _Thread_local time_t ts_sec = -1; /* the seconds part changes once a second */
    static _Thread_local char ts[32];
    if (tv.tv_sec != ts_sec) {
        struct tm tm;
        gmtime_r(&tv.tv_sec, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
        ts_sec = tv.tv_sec;
    }
    return (size_t)snprintf(buf, cap, "{\"ts\":\"%s.%03dZ\",\"level\":\"%s\"", ts,
                            (int)(tv.tv_usec / 1000), level_names[level]);
}

static void write_all(const char *buf, size_t len) {
    ssize_t rc = write(2, buf, len);
    (void)rc; /* nowhere to report a failing stderr */
}

/* batch_lock held */
static void batch_flush_locked(void) {
    if (batch_len) write_all(batch, batch_len);
    batch_len = 0;
}

void sdsim_log_flush(void) {
    pthread_mutex_lock(&batch_lock);
    batch_flush_locked();
    pthread_mutex_unlock(&batch_lock);
}

void sdsim_log_batch(int on) {
    pthread_mutex_lock(&batch_lock);
    batch_flush_locked();
    batching = on;
    pthread_mutex_unlock(&batch_lock);
}

/* Ends the line in buf and writes it, after the batched lines; into the batch when batchable
 * and batching is on. */
static void line_write(char *buf, size_t len, size_t cap, int batchable) {
    if (len + 2 > cap) len = cap - 2;
    buf[len++] = '}';
    buf[len++] = '\n';
    pthread_mutex_lock(&batch_lock);
    if (batchable && batching) {
        if (batch_len + len > sizeof batch) batch_flush_locked();
        memcpy(batch + batch_len, buf, len);
        batch_len += len;
    } else {
        batch_flush_locked();
        write_all(buf, len);
    }
    pthread_mutex_unlock(&batch_lock);
}

void sdsim_log(sdsim_log_level level, const char *fmt, ...) {
    if (level < min_level) return;
    char msg[LINE_MAX_BYTES / 2], buf[LINE_MAX_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t len = line_start(buf, sizeof buf, level);
    len += (size_t)snprintf(buf + len, sizeof buf - len, ",\"msg\":");
    len = sdsim_log_escape(buf, len, sizeof buf - 2, msg);
    line_write(buf, len, sizeof buf, 0);
}

void sdsim_log_access(const char *method, const char *path, int status, double ms, size_t bytes,
                      const char *route) {
    if (SDSIM_LOG_INFO < min_level) return;
    char buf[LINE_MAX_BYTES];
    size_t len = line_start(buf, sizeof buf, SDSIM_LOG_INFO);
    len += (size_t)snprintf(buf + len, sizeof buf - len, ",\"method\":");
    len = sdsim_log_escape(buf, len, sizeof buf - 128, method ? method : "-");
    len += (size_t)snprintf(buf + len, sizeof buf - len, ",\"path\":");
    len = sdsim_log_escape(buf, len, sizeof buf - 256, path ? path : "-");
    len += (size_t)snprintf(buf + len, sizeof buf - len, ",\"status\":%d,\"ms\":%.3f,\"bytes\":%zu",
                            status, ms, bytes);
    if (route && len + 80 < sizeof buf) {
        len += (size_t)snprintf(buf + len, sizeof buf - len, ",\"route\":");
        len = sdsim_log_escape(buf, len, sizeof buf - 2, route);
    }
    line_write(buf, len, sizeof buf, 1);
}
