/* The ceiling of `make bench`'s HTTP figures on this machine: a bare libuv responder that
 * answers every request on a keep-alive connection with the bytes of sdsim's GET /healthz and
 * does nothing else (no parsing beyond finding the end of the headers, no routing, no log).
 * No server built on libuv can do less per request, so sdsim's and Node's figures read
 * against it say how much of the cost is the machine (system calls, loopback TCP) and how
 * much the server. Not a server: requests with bodies or split across reads are not handled.
 *   bench_bare_http PORT */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static const char ANSWER[] = "HTTP/1.1 200 OK\r\n"
                             "server: sdsim\r\n"
                             "content-type: text/plain; charset=utf-8\r\n"
                             "content-length: 3\r\n"
                             "cache-control: no-store\r\n"
                             "\r\n"
                             "ok\n";

typedef struct conn {
    uv_tcp_t tcp;
    char buf[4096];
} conn;

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *b) {
    (void)size;
    conn *c = (conn *)h;
    *b = uv_buf_init(c->buf, sizeof c->buf);
}

static void on_close(uv_handle_t *h) {
    free(h);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    if (n < 0) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    for (ssize_t i = 3; i < n; i++) { /* one answer per end of headers (pipelining too) */
        if (memcmp(b->base + i - 3, "\r\n\r\n", 4)) continue;
        uv_buf_t out = uv_buf_init((char *)ANSWER, sizeof ANSWER - 1);
        if (uv_try_write(s, &out, 1) != (int)out.len) { /* a bench client always reads */
            uv_close((uv_handle_t *)s, on_close);
            return;
        }
    }
}

static void on_connection(uv_stream_t *server, int status) {
    if (status < 0) return;
    conn *c = malloc(sizeof *c);
    if (!c) return;
    uv_tcp_init(server->loop, &c->tcp);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, on_close);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
    uv_tcp_init(loop, &server);
    if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) != 0 ||
        uv_listen((uv_stream_t *)&server, 511, on_connection) != 0)
        return 1;
    return uv_run(loop, UV_RUN_DEFAULT);
}
