/* A raw WebSocket client for tests/cli/server.sh: it does the handshake by hand so that it can
 * also send what a well-behaved library never would (oversized, binary, invalid UTF-8 frames).
 *
 *   ws_client PORT PATH ACTION [ARG]
 *     text JSON       send one text message, print what comes back
 *     big N           send a text message of N bytes
 *     binary          send a binary message
 *     badutf8         send a text message that is not UTF-8
 *     hold SECONDS    send nothing, print what comes back until the server closes
 *
 * Prints one line per event: "HANDSHAKE <status>", "TEXT <payload>", "CLOSE <code> <reason>",
 * "EOF" (the connection ended without a close frame), "TIMEOUT". Loopback only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int connect_to(int port, double timeout) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {(time_t)timeout, (suseconds_t)((timeout - (int)timeout) * 1e6)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
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

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: ws_client PORT PATH text JSON|big N|binary|badutf8|hold S\n");
        return 2;
    }
    int port = atoi(argv[1]);
    const char *path = argv[2], *action = argv[3], *arg = argc > 4 ? argv[4] : "";
    double timeout = !strcmp(action, "hold") ? atof(arg) : 5;
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
    } else {
        fprintf(stderr, "ws_client: unknown action %s\n", action);
        return 2;
    }
    close(fd);
    return 0;
}
