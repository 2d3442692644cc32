/* A raw WebSocket client for tests/cli/server.sh and tests/cli/simulations.sh: it does the
 * handshake by hand so that it can also send what a well-behaved library never would
 * (oversized, binary, invalid UTF-8 frames), and decodes the server's binary messages
 * (sdsim.v1.Frame, proto/sdsim.proto) with protobuf-c.
 *
 *   ws_client PORT PATH ACTION [ARG]
 *     text JSON       send one text message, print what comes back
 *     big N           send a text message of N bytes
 *     binary          send a binary message
 *     badutf8         send a text message that is not UTF-8
 *     hold SECONDS    send nothing, print what comes back until the server closes
 *     script          run the commands read from stdin, one per line:
 *       send JSON            send a text message
 *       wait TYPE [S]        read (printing) until a text message of that "type" (default 5 s;
 *                            exit status 3 when it does not come)
 *       frames S             read for S seconds, printing every message, then a SUMMARY line
 *       quiet S              the same without a line per frame
 *       sleep S              read nothing for S seconds (a client that does not keep up)
 *       close                send a close frame and wait for the server's
 *
 * Prints one line per event: "HANDSHAKE <status>", "TEXT <payload>", "CLOSE <code> <reason>",
 * "EOF" (the connection ended without a close frame), "TIMEOUT", and for binary messages
 * "FRAME key=value ..." (the decoded figures). After `frames`/`quiet`: "SUMMARY frames=N
 * first=SEQ last=SEQ gaps=N (seq numbers skipped) disorder=N (not increasing) rate=PER_S
 * maxgap_ms=N bytes=N texts=N wall=S sim_first=S sim_last=S". Environment: WS_RCVBUF
 * (bytes) shrinks the socket's receive buffer, to make a slow client's backlog reach the
 * server quickly. Loopback only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sdsim.pb-c.h"

static int connect_to(int port, double timeout) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {(time_t)timeout, (suseconds_t)((timeout - (int)timeout) * 1e6)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const char *rcvbuf = getenv("WS_RCVBUF");
    if (rcvbuf) {
        int n = atoi(rcvbuf);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof n);
    }
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        exit(2);
    }
    return fd;
}

static int handshake(int fd, int port, const char *path) {
    char req[1024], resp[4096];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     path, port);
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) return -1;
    size_t len = 0;
    /* Byte by byte, so that no frame after the headers is swallowed. */
    while (len + 1 < sizeof resp) {
        ssize_t r = recv(fd, resp + len, 1, 0);
        if (r <= 0) break;
        len++;
        resp[len] = '\0';
        if (len >= 4 && !memcmp(resp + len - 4, "\r\n\r\n", 4)) break;
    }
    resp[len] = '\0';
    int status = 0;
    sscanf(resp, "HTTP/1.1 %d", &status);
    printf("HANDSHAKE %d\n", status);
    return status == 101 ? 0 : -1;
}

static void send_frame(int fd, int opcode, const unsigned char *data, size_t n) {
    unsigned char hdr[14];
    size_t h = 0;
    hdr[h++] = (unsigned char)(0x80 | opcode);
    if (n < 126) {
        hdr[h++] = (unsigned char)(0x80 | n);
    } else if (n < 65536) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (unsigned char)(n >> 8);
        hdr[h++] = (unsigned char)n;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (unsigned char)((uint64_t)n >> (8 * i));
    }
    const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    memcpy(hdr + h, mask, 4);
    h += 4;
    unsigned char *buf = malloc(h + n);
    memcpy(buf, hdr, h);
    for (size_t i = 0; i < n; i++)
        buf[h + i] = data[i] ^ mask[i % 4];
    /* The server may close before it has read everything (an oversized message): ignore the
     * error and read its close frame. */
    for (size_t off = 0; off < h + n;) {
        ssize_t w = send(fd, buf + off, h + n - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += (size_t)w;
    }
    free(buf);
}

static int read_full(int fd, unsigned char *buf, size_t n) {
    for (size_t off = 0; off < n;) {
        ssize_t r = recv(fd, buf + off, n - off, 0);
        if (r == 0) return 0;
        if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -1;
        off += (size_t)r;
    }
    return 1;
}

/* Prints frames until a close, EOF or the timeout; stops after the first text frame when
 * one_reply. */
static void read_frames(int fd, int one_reply) {
    for (;;) {
        unsigned char h[2], ext[8];
        int rc = read_full(fd, h, 2);
        if (rc <= 0) {
            puts(rc == -2 ? "TIMEOUT" : "EOF");
            return;
        }
        uint64_t n = h[1] & 0x7F;
        if (n == 126 && read_full(fd, ext, 2) == 1)
            n = (uint64_t)ext[0] << 8 | ext[1];
        else if (n == 127 && read_full(fd, ext, 8) == 1) {
            n = 0;
            for (int i = 0; i < 8; i++)
                n = n << 8 | ext[i];
        }
        unsigned char *p = malloc(n + 1);
        if (!p || read_full(fd, p, n) != 1) {
            puts("EOF");
            free(p);
            return;
        }
        p[n] = '\0';
        int op = h[0] & 0x0F;
        if (op == 8) {
            int code = n >= 2 ? p[0] << 8 | p[1] : 0;
            printf("CLOSE %d %s\n", code, n > 2 ? (char *)p + 2 : "");
            free(p);
            return;
        }
        if (op == 1) {
            printf("TEXT %s\n", p);
            fflush(stdout);
            if (one_reply) {
                free(p);
                return;
            }
        }
        free(p);
    }
}

/* ---- script mode ------------------------------------------------------------------------ */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One whole message (continuations joined; pings and pongs skipped): 1 with *op and the
 * payload (malloc'd, NUL-terminated), 0 on EOF, -2 when nothing came before the deadline. */
static int read_message(int fd, double deadline, int *op, unsigned char **out, size_t *outlen) {
    unsigned char *msg = NULL;
    size_t len = 0;
    int first_op = -1;
    for (;;) {
        double left = deadline - now_s();
        if (first_op < 0) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) == 0) return -2;
        }
        unsigned char h[2], ext[8];
        if (read_full(fd, h, 2) != 1) return free(msg), 0;
        uint64_t n = h[1] & 0x7F;
        if (n == 126) {
            if (read_full(fd, ext, 2) != 1) return free(msg), 0;
            n = (uint64_t)ext[0] << 8 | ext[1];
        } else if (n == 127) {
            if (read_full(fd, ext, 8) != 1) return free(msg), 0;
            n = 0;
            for (int i = 0; i < 8; i++)
                n = n << 8 | ext[i];
        }
        unsigned char *nm = realloc(msg, len + n + 1);
        if (!nm || (n && read_full(fd, nm + len, n) != 1)) return free(nm ? nm : msg), 0;
        msg = nm;
        int o = h[0] & 0x0F;
        if (o == 9 || o == 10) continue; /* ping, pong: lws sends none unless asked */
        if (o != 0) first_op = o;
        len += n;
        msg[len] = '\0';
        if (h[0] & 0x80) break;
    }
    *op = first_op;
    *out = msg;
    *outlen = len;
    return 1;
}

typedef struct tally {
    int frames, texts, gaps, disorder;
    uint32_t first, last;
    double t_first, t_last, max_gap; /* wall clock */
    double sim_first, sim_last;      /* simulated time */
    size_t bytes;
} tally;

static void print_frame(const Sdsim__V1__Frame *f) {
    const Sdsim__V1__Totals *t = f->totals;
    printf("FRAME sim=%s seq=%u state=%d t=%.3f duration=%g speed=%g window=%g events=%llu",
           f->simulation_id, f->seq, (int)f->state, f->sim_time, f->duration, f->speed, f->window,
           (unsigned long long)f->events);
    if (t)
        printf(" arr=%.3f thr=%.3f err=%.4f p50=%.3f p99=%.3f completed=%llu failed=%llu "
               "bottleneck=%d",
               t->arrival_rate, t->throughput, t->error_rate, t->p50_ms, t->p99_ms,
               (unsigned long long)t->completed, (unsigned long long)t->failed, t->bottleneck);
    printf(" comps=%zu edges=%zu hops=%zu notices=%zu", f->n_components, f->n_edges, f->n_hops,
           f->n_notices);
    printf(" down=");
    int any = 0;
    for (size_t i = 0; i < f->n_components; i++)
        if (f->components[i]->down) printf("%s%u", any++ ? "," : "", f->components[i]->index);
    printf("%s replicas=", any ? "" : "-");
    for (size_t i = 0; i < f->n_components; i++)
        printf("%s%u", i ? "," : "", f->components[i]->replicas);
    printf(" errors=");
    for (size_t i = 0; i < f->n_components; i++)
        printf("%s%llu", i ? "," : "", (unsigned long long)f->components[i]->errors);
    printf(" util=");
    for (size_t i = 0; i < f->n_components; i++)
        printf("%s%.3f", i ? "," : "", f->components[i]->utilization);
    printf(" edge_err=");
    for (size_t i = 0; i < f->n_edges; i++)
        printf("%s%.2f", i ? "," : "", f->edges[i]->error_rate);
    for (size_t i = 0; i < f->n_notices; i++)
        printf(" notice=%s", f->notices[i]->kind);
    if (f->error && *f->error) printf(" error=\"%s\"", f->error);
    printf("\n");
}

static void count_frame(tally *t, const Sdsim__V1__Frame *f, size_t len) {
    double now = now_s();
    if (t->frames) {
        if (f->seq <= t->last) t->disorder++;
        if (f->seq > t->last + 1) t->gaps += (int)(f->seq - t->last - 1);
        if (now - t->t_last > t->max_gap) t->max_gap = now - t->t_last;
    } else {
        t->first = f->seq;
        t->t_first = now;
        t->sim_first = f->sim_time;
    }
    t->sim_last = f->sim_time;
    t->last = f->seq;
    t->t_last = now;
    t->frames++;
    t->bytes += len;
}

/* Handles one message; returns 1 when the connection is over. */
static int handle(int op, unsigned char *p, size_t n, tally *t, int verbose) {
    if (op == 8) {
        printf("CLOSE %d %s\n", n >= 2 ? p[0] << 8 | p[1] : 0, n > 2 ? (char *)p + 2 : "");
        return 1;
    }
    if (op == 1) {
        t->texts++;
        printf("TEXT %s\n", p);
    } else if (op == 2) {
        Sdsim__V1__Frame *f = sdsim__v1__frame__unpack(NULL, n, p);
        if (!f) {
            printf("BADFRAME %zu bytes\n", n);
        } else {
            count_frame(t, f, n);
            if (verbose) print_frame(f);
            sdsim__v1__frame__free_unpacked(f, NULL);
        }
    }
    fflush(stdout);
    return 0;
}

/* Reads until the deadline (or, with want_type, a text message of that type). 1 when the
 * connection ended, 0 when the deadline passed, 2 when the wanted message came. */
static int read_until(int fd, double deadline, const char *want_type, tally *t, int verbose) {
    char pat[128];
    if (want_type) snprintf(pat, sizeof pat, "\"type\":\"%s\"", want_type);
    for (;;) {
        int op;
        unsigned char *p;
        size_t n;
        int rc = read_message(fd, deadline, &op, &p, &n);
        if (rc == -2) return 0;
        if (rc == 0) {
            puts("EOF");
            return 1;
        }
        int over = handle(op, p, n, t, verbose);
        int found = want_type && op == 1 && strstr((char *)p, pat);
        free(p);
        if (over) return 1;
        if (found) return 2;
    }
}

static void summary(const tally *t) {
    double span = t->t_last - t->t_first;
    printf("SUMMARY frames=%d first=%u last=%u gaps=%d disorder=%d rate=%.2f maxgap_ms=%.0f "
           "bytes=%zu texts=%d wall=%.3f sim_first=%.3f sim_last=%.3f\n",
           t->frames, t->first, t->last, t->gaps, t->disorder,
           t->frames > 1 ? (t->frames - 1) / span : 0, t->max_gap * 1000, t->bytes, t->texts, span,
           t->sim_first, t->sim_last);
    fflush(stdout);
}

static int run_script(int fd) {
    char line[1 << 16];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        char *arg = strchr(line, ' ');
        if (arg) *arg++ = '\0';
        tally t = {0};
        if (!strcmp(line, "send") && arg) {
            send_frame(fd, 1, (const unsigned char *)arg, strlen(arg));
        } else if (!strcmp(line, "wait") && arg) {
            char type[64];
            double secs = 5;
            if (sscanf(arg, "%63s %lf", type, &secs) < 1) return 2;
            int rc = read_until(fd, now_s() + secs, type, &t, 1);
            if (rc != 2) {
                printf("NOTFOUND %s\n", type);
                return 3;
            }
        } else if ((!strcmp(line, "frames") || !strcmp(line, "quiet")) && arg) {
            int rc = read_until(fd, now_s() + atof(arg), NULL, &t, line[0] == 'f');
            summary(&t);
            if (rc == 1) return 0;
        } else if (!strcmp(line, "sleep") && arg) {
            double until = now_s() + atof(arg);
            while (now_s() < until)
                usleep(10000);
        } else if (!strcmp(line, "close")) {
            send_frame(fd, 8, (const unsigned char *)"\x03\xe8", 2);
            read_until(fd, now_s() + 5, NULL, &t, 1);
            return 0;
        } else if (line[0] && line[0] != '#') {
            fprintf(stderr, "ws_client: bad script line: %s\n", line);
            return 2;
        }
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr,
                "usage: ws_client PORT PATH text JSON|big N|binary|badutf8|hold S|script\n");
        return 2;
    }
    int port = atoi(argv[1]);
    const char *path = argv[2], *action = argv[3], *arg = argc > 4 ? argv[4] : "";
    double timeout = !strcmp(action, "hold") ? atof(arg) : !strcmp(action, "script") ? 30 : 5;
    int fd = connect_to(port, timeout);
    if (handshake(fd, port, path) != 0) return 1;
    if (!strcmp(action, "text")) {
        send_frame(fd, 1, (const unsigned char *)arg, strlen(arg));
        read_frames(fd, 1);
    } else if (!strcmp(action, "big")) {
        size_t n = (size_t)atol(arg);
        unsigned char *b = malloc(n);
        memset(b, 'a', n);
        send_frame(fd, 1, b, n);
        free(b);
        read_frames(fd, 0);
    } else if (!strcmp(action, "binary")) {
        send_frame(fd, 2, (const unsigned char *)"\x01\x02\x03", 3);
        read_frames(fd, 0);
    } else if (!strcmp(action, "badutf8")) {
        const char *bad = "{\"type\":\"\xff\xfe\"}";
        send_frame(fd, 1, (const unsigned char *)bad, strlen(bad));
        read_frames(fd, 0);
    } else if (!strcmp(action, "hold")) {
        read_frames(fd, 0);
    } else if (!strcmp(action, "script")) {
        int rc = run_script(fd);
        close(fd);
        return rc;
    } else {
        fprintf(stderr, "ws_client: unknown action %s\n", action);
        return 2;
    }
    close(fd);
    return 0;
}
