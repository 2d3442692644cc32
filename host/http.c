/* HTTP requests on libwebsockets: reading them (headers, query, a capped body under a read
 * timeout), routing the built-in endpoints (/healthz, /readyz, /metrics), the API (api.c) and
 * the static files of the SPA, writing answers in chunks, and the access log. */
#include "http.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <libwebsockets.h>

#include "api.h"
#include "log.h"

#define MAX_QUERY_ARGS 64
#define WRITE_CHUNK 16384
#define WHOLE_MAX (4u << 20) /* answers up to this size go out with their headers at once */
#define HEADER_BUF 8192

static const char *const method_names[] = {"GET",    "POST",    "OPTIONS", "PUT",  "PATCH",
                                           "DELETE", "CONNECT", "HEAD",    ":path"};

/* ------------------------------------------------------------------------------------- */
/* Requests: creation, copying what lws parsed, freeing */

static void strv_push(char ***v, int *n, char *s) {
    char **nv = realloc(*v, (size_t)(*n + 1) * sizeof *nv);
    if (!nv) {
        free(s);
        return;
    }
    nv[(*n)++] = s;
    *v = nv;
}

static void strv_free(char **v, int n) {
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static char *copy_token(struct lws *wsi, enum lws_token_indexes tok) {
    int len = lws_hdr_total_length(wsi, tok);
    if (len <= 0) return NULL;
    char *s = malloc((size_t)len + 1);
    if (s && lws_hdr_copy(wsi, s, len + 1, tok) < 0) s[0] = '\0';
    return s;
}

/* The query's fragments ("a=1", "b=2"), decoded by lws. */
static void copy_query(sdsim_http_req *r) {
    for (int i = 0; i < MAX_QUERY_ARGS; i++) {
        int n = lws_hdr_fragment_length(r->wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n <= 0) break;
        char *s = malloc((size_t)n + 1);
        if (!s) break;
        if (lws_hdr_copy_fragment(r->wsi, s, n + 1, WSI_TOKEN_HTTP_URI_ARGS, i) < 0) s[0] = 0;
        strv_push(&r->query, &r->nquery, s);
    }
}

/* Every header lws knows by name ("content-type:" ...), as lower-case name / value pairs. */
static void copy_headers(sdsim_http_req *r) {
    for (int tok = 0; tok < WSI_TOKEN_COUNT; tok++) {
        const char *name = (const char *)lws_token_to_string((enum lws_token_indexes)tok);
        size_t nlen = name ? strlen(name) : 0;
        if (nlen < 2 || name[nlen - 1] != ':' || name[0] == ':') continue;
        char *value = copy_token(r->wsi, (enum lws_token_indexes)tok);
        if (!value) continue;
        char *key = strndup(name, nlen - 1);
        if (!key) {
            free(value);
            continue;
        }
        for (char *p = key; *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
        strv_push(&r->headers, &r->nheaders, key);
        strv_push(&r->headers, &r->nheaders, value);
        if (r->nheaders % 2) { /* the value did not fit: drop the lone name */
            free(r->headers[--r->nheaders]);
        }
    }
}

const char *sdsim_http_header(const sdsim_http_req *r, const char *name) {
    for (int i = 0; i + 1 < r->nheaders; i += 2)
        if (!strcmp(r->headers[i], name)) return r->headers[i + 1];
    return NULL;
}

static sdsim_http_req *req_new(sdsim_server *srv, struct lws *wsi, const char *path, size_t len) {
    sdsim_http_req *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->srv = srv;
    r->wsi = wsi;
    r->path = strndup(path, len);
    char *uri;
    int ulen;
    r->method_index = lws_http_get_uri_and_method(wsi, &uri, &ulen);
    snprintf(r->method, sizeof r->method, "%s",
             r->method_index >= 0 && r->method_index < 9 ? method_names[r->method_index] : "?");
    r->started = sdsim_server_now();
    copy_query(r);
    copy_headers(r);
    srv->in_flight++;
    return r;
}

/* Logs, counts and frees a request that is answered (or whose client has gone). */
static void req_finish(sdsim_http_req *r) {
    sdsim_server *srv = r->srv;
    int status = r->wsi || r->headers_sent ? r->status : 499; /* 499: the client went away */
    double secs = sdsim_server_now() - r->started;
    size_t bytes = r->served_file ? r->resp_len : r->resp_sent;
    sdsim_log_access(r->method, r->path ? r->path : "-", status, secs * 1e3, bytes,
                     r->route[0] ? r->route : NULL);
    sdsim_metrics_count(&srv->metrics, r->route[0] ? r->route : "other", status, secs);
    srv->in_flight--;
    free(r->path);
    strv_free(r->query, r->nquery);
    strv_free(r->headers, r->nheaders);
    free(r->body);
    free(r->content_type);
    free(r->extra_headers);
    free(r->resp);
    free(r);
}

void sdsim_http_release(sdsim_http_req *r) {
    r->api_pending = 0;
    if (!r->wsi) req_finish(r);
}

/* ------------------------------------------------------------------------------------- */
/* Answers */

void sdsim_http_respond(sdsim_http_req *r, int status, const char *content_type, const char *body,
                        size_t len, const char *extra_headers) {
    if (r->responded) return;
    r->responded = 1;
    r->status = status;
    r->content_type = strdup(content_type ? content_type : "text/plain; charset=utf-8");
    r->extra_headers = extra_headers ? strdup(extra_headers) : NULL;
    r->resp = malloc(len ? len : 1);
    if (r->resp && len) memcpy(r->resp, body, len);
    r->resp_len = r->resp ? len : 0;
    if (r->in_dispatch) return; /* dispatch_now writes it without a writable round trip */
    if (r->wsi)
        lws_callback_on_writable(r->wsi);
    else
        req_finish(r);
}

void sdsim_http_respond_error(sdsim_http_req *r, int status, const char *message,
                              const char *extra_headers) {
    char body[1024];
    size_t len = sdsim_log_escape(body, (size_t)snprintf(body, sizeof body, "{\"error\":"),
                                  sizeof body - 3, message);
    len += (size_t)snprintf(body + len, sizeof body - len, "}\n");
    sdsim_http_respond(r, status, "application/json", body, len, extra_headers);
}

/* Adds the "name: value\n" lines of r->extra_headers. */
static int add_extra_headers(struct lws *wsi, const char *lines, unsigned char **p,
                             unsigned char *end) {
    for (const char *s = lines; s && *s;) {
        const char *nl = strchr(s, '\n'), *colon = strchr(s, ':');
        size_t linelen = nl ? (size_t)(nl - s) : strlen(s);
        if (colon && (size_t)(colon - s) < linelen) {
            char name[64];
            size_t nlen = (size_t)(colon - s);
            if (nlen + 2 > sizeof name) return -1;
            memcpy(name, s, nlen);
            name[nlen] = ':';
            name[nlen + 1] = '\0';
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            int vlen = (int)(linelen - (size_t)(v - s));
            if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                            (const unsigned char *)v, vlen, p, end))
                return -1;
        }
        s += linelen + (nl ? 1 : 0);
    }
    return 0;
}

/* Writes the headers, and the whole body with them when it is at most WHOLE_MAX: one send per
 * answer (what the socket does not take at once, lws keeps and sends before the next writable
 * callback) instead of a writable round trip through the loop per chunk. Sets *all when the
 * body went too. */
static int write_headers(struct lws *wsi, sdsim_http_req *r, int *all) {
    *all = r->resp_len <= WHOLE_MAX && r->method_index != LWSHUMETH_HEAD;
    size_t body = *all ? r->resp_len : 0;
    unsigned char small[LWS_PRE + HEADER_BUF + WRITE_CHUNK];
    unsigned char *buf = small;
    if (body > WRITE_CHUNK && !(buf = malloc(LWS_PRE + HEADER_BUF + body))) return -1;
    unsigned char *start = buf + LWS_PRE, *p = start, *end = start + HEADER_BUF - 1;
    int rc = -1;
    if (lws_add_http_common_headers(wsi, (unsigned)r->status, r->content_type, r->resp_len, &p,
                                    end) ||
        add_extra_headers(wsi, r->extra_headers, &p, end) || lws_finalize_http_header(wsi, &p, end))
        goto out;
    if (body) {
        memcpy(p, r->resp, body);
        p += body;
        r->resp_sent = body;
    }
    size_t n = (size_t)(p - start);
    if (lws_write(wsi, start, n, *all ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP_HEADERS) < (int)n)
        goto out;
    r->headers_sent = 1;
    rc = 0;
out:
    if (buf != small) free(buf);
    return rc;
}

/* The request is answered: log it and make the connection ready for the next one. */
static int complete(sdsim_session *s, struct lws *wsi) {
    sdsim_http_req *r = s->req;
    int close = r->close_after;
    s->req = NULL;
    req_finish(r);
    if (close) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* One step of writing the answer: the headers, then one chunk of the body per callback. */
static int write_some(sdsim_session *s, struct lws *wsi) {
    sdsim_http_req *r = s->req;
    if (!r || !r->responded || r->api_pending || r->served_file) return 0;
    if (!r->headers_sent) {
        int all = 0;
        if (write_headers(wsi, r, &all)) return -1;
        if (all || r->resp_len == 0 || r->method_index == LWSHUMETH_HEAD) {
            if (r->method_index == LWSHUMETH_HEAD) r->close_after = 1; /* lws expects a body */
            return complete(s, wsi);
        }
        lws_callback_on_writable(wsi);
        return 0;
    }
    unsigned char buf[LWS_PRE + WRITE_CHUNK];
    size_t n = r->resp_len - r->resp_sent;
    int last = n <= WRITE_CHUNK;
    if (!last) n = WRITE_CHUNK;
    memcpy(buf + LWS_PRE, r->resp + r->resp_sent, n);
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
        return -1;
    r->resp_sent += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    return complete(s, wsi);
}

/* ------------------------------------------------------------------------------------- */
/* Static files of the single-page app */

static const char *mime_of(const char *path) {
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".wasm", "application/wasm"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcasecmp(dot, types[i][0])) return types[i][1];
    return "application/octet-stream";
}

/* The file under the static directory that `path` names, only if it really lies inside it
 * (no "..", no symbolic link out of it) and is a regular file. */
static int resolve_static(const sdsim_server *srv, const char *path, char *out, size_t cap) {
    char root[PATH_MAX], want[PATH_MAX + 2048];
    if (!srv->opts.static_dir || !realpath(srv->opts.static_dir, root)) return -1;
    if (path[0] != '/' || strstr(path, "/..") || strlen(path) > 1024) return -1;
    int n = snprintf(want, sizeof want, "%s%s%s", root, path,
                     path[strlen(path) - 1] == '/' ? "index.html" : "");
    if (n < 0 || (size_t)n >= sizeof want) return -1;
    if (!realpath(want, out)) return -1;
    size_t rl = strlen(root);
    struct stat st;
    if (strncmp(out, root, rl) || (out[rl] != '/' && out[rl]) || stat(out, &st) ||
        !S_ISREG(st.st_mode))
        return -1;
    (void)cap;
    return 0;
}

/* A path whose last segment has no dot is a route of the app (index.html answers it); one
 * with a dot is an asset, and a missing asset is a 404. */
static int is_app_route(const char *path) {
    const char *last = strrchr(path, '/');
    return !strchr(last ? last : path, '.');
}

static int serve_static(sdsim_session *s, struct lws *wsi, sdsim_http_req *r) {
    snprintf(r->route, sizeof r->route, "static");
    if (r->method_index != LWSHUMETH_GET && r->method_index != LWSHUMETH_HEAD) {
        sdsim_http_respond_error(r, 405, "static files answer GET and HEAD only",
                                 "allow: GET, HEAD");
        return 0;
    }
    char file[PATH_MAX];
    if (resolve_static(r->srv, r->path, file, sizeof file) != 0 &&
        (!is_app_route(r->path) || resolve_static(r->srv, "/index.html", file, sizeof file))) {
        sdsim_http_respond_error(r, 404, "no such file", NULL);
        return 0;
    }
    struct stat st;
    stat(file, &st);
    r->served_file = r->responded = 1;
    r->status = 200;
    r->resp_len = (size_t)st.st_size;
    int n = lws_serve_http_file(wsi, file, mime_of(file), NULL, 0);
    if (n < 0) return -1;
    if (n > 0) return complete(s, wsi);
    return 0;
}

/* ------------------------------------------------------------------------------------- */
/* Routing */

static int only_get(sdsim_http_req *r) {
    if (r->method_index == LWSHUMETH_GET || r->method_index == LWSHUMETH_HEAD) return 1;
    sdsim_http_respond_error(r, 405, "this endpoint answers GET and HEAD only", "allow: GET, HEAD");
    return 0;
}

static void text(sdsim_http_req *r, int status, const char *body) {
    sdsim_http_respond(r, status, "text/plain; charset=utf-8", body, strlen(body),
                       "cache-control: no-store");
}

static void metrics(sdsim_http_req *r) {
    size_t len = 0;
    char *body = sdsim_metrics_render(r->srv, &len);
    if (!body) {
        sdsim_http_respond_error(r, 500, "out of memory", NULL);
        return;
    }
    sdsim_http_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", body, len,
                       "cache-control: no-store");
    free(body);
}

static int dispatch(sdsim_session *s, struct lws *wsi, sdsim_http_req *r) {
    const char *p = r->path;
    if (!strcmp(p, "/healthz")) {
        snprintf(r->route, sizeof r->route, "/healthz");
        if (only_get(r)) text(r, 200, "ok\n");
    } else if (!strcmp(p, "/readyz")) {
        snprintf(r->route, sizeof r->route, "/readyz");
        if (only_get(r))
            text(r, r->srv->draining ? 503 : 200, r->srv->draining ? "shutting down\n" : "ready\n");
    } else if (!strcmp(p, "/metrics")) {
        snprintf(r->route, sizeof r->route, "/metrics");
        if (only_get(r)) metrics(r);
    } else if (!strcmp(p, "/ws")) {
        snprintf(r->route, sizeof r->route, "/ws");
        sdsim_http_respond_error(r, 426, "/ws is a WebSocket endpoint: send an upgrade request",
                                 "upgrade: websocket");
    } else if (!strcmp(p, "/api") || !strncmp(p, "/api/", 5)) {
        snprintf(r->route, sizeof r->route, "api");
        sdsim_api_handle(r->srv->api, r);
    } else {
        return serve_static(s, wsi, r);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------- */
/* The callback */

/* The Content-Length: -1 when absent, -2 when it is not a number. */
static long content_length(struct lws *wsi) {
    char buf[32];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) return -1;
    if (lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) return -2;
    char *end;
    errno = 0;
    long n = strtol(buf, &end, 10);
    if (end == buf || *end || n < 0) return -2;
    return errno ? LONG_MAX : n;
}

static int chunked_body(struct lws *wsi) {
    char buf[64];
    return lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0 &&
           strcasestr(buf, "chunked");
}

static void too_large(sdsim_http_req *r) {
    char msg[128];
    snprintf(msg, sizeof msg, "the request body is larger than %zu bytes", r->srv->opts.max_body);
    r->close_after = 1; /* the rest of the body is never read */
    snprintf(r->route, sizeof r->route, "too_large");
    sdsim_http_respond_error(r, 413, msg, "connection: close");
}

/* An oversized body is read and dropped before the 413, up to this many bytes: closing with
 * unread data makes the kernel reset the connection, and the client would never see the
 * answer. Beyond it, the answer goes out at once and the connection closes. */
static size_t discard_limit(const sdsim_server *srv) {
    return 4 * srv->opts.max_body;
}

/* Routes a complete request; an answer ready at once (the built-in endpoints, refusals) is
 * written now rather than after a round trip through the loop for a writable callback. */
static int dispatch_now(sdsim_session *s, struct lws *wsi, sdsim_http_req *r) {
    r->in_dispatch = 1;
    int rc = dispatch(s, wsi, r);
    if (s->req != r) return rc ? -1 : 0; /* answered and finished (a small static file) */
    r->in_dispatch = 0;
    if (rc) return -1;
    return r->responded ? write_some(s, wsi) : 0;
}

static int on_request(sdsim_session *s, struct lws *wsi, const char *path, size_t len) {
    sdsim_server *srv = lws_context_user(lws_get_context(wsi));
    if (s->req) return -1; /* lws started a new request before the last one was answered */
    sdsim_http_req *r = req_new(srv, wsi, path, len);
    if (!r || !r->path) return -1;
    s->req = r;
    long cl = content_length(wsi);
    int has_body = cl > 0 || chunked_body(wsi);
    r->body_declared = cl;
    if (cl == -2) {
        r->close_after = 1;
        snprintf(r->route, sizeof r->route, "bad_request");
        sdsim_http_respond_error(r, 400, "Content-Length is not a number", "connection: close");
        return 0;
    }
    if (cl > 0 && (size_t)cl > discard_limit(srv)) {
        too_large(r);
        return 0;
    }
    if (has_body) { /* the body follows: LWS_CALLBACK_HTTP_BODY, then _COMPLETION */
        lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, (int)srv->opts.read_timeout);
        return 0;
    }
    return dispatch_now(s, wsi, r);
}

static int on_body(sdsim_session *s, const void *in, size_t len) {
    sdsim_http_req *r = s->req;
    if (!r || r->responded) return 0; /* already refused: drop what still arrives */
    if (r->discarded || r->body_len + len > r->srv->opts.max_body) {
        /* A body of known length is drained first; a chunked one (no length, maybe no end)
         * is refused at once. */
        r->discarded += len;
        if (r->discarded > discard_limit(r->srv) || r->body_declared < 0) too_large(r);
        return 0;
    }
    if (r->body_len + len + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + len + 1)
            cap *= 2;
        char *nb = realloc(r->body, cap);
        if (!nb) return -1;
        r->body = nb;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, in, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return 0;
}

/* The connection is gone (or its transaction unbound): a handler still at work keeps the
 * request and answers into the void; otherwise it is finished now. */
static void on_closed(sdsim_session *s) {
    sdsim_http_req *r = s->req;
    if (!r) return;
    s->req = NULL;
    r->wsi = NULL;
    if (!r->api_pending) req_finish(r);
}

static int is_ws_reason(int reason) {
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        return 1;
    default:
        return 0;
    }
}

int sdsim_http_callback(struct lws *wsi, int reason, void *user, void *in, size_t len) {
    sdsim_session *s = user;
    if (is_ws_reason(reason)) return sdsim_ws_callback(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_request(s, wsi, in, len);
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(s, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        if (!s->req || s->req->responded) return 0;
        if (s->req->discarded) {
            too_large(s->req);
            return 0;
        }
        return dispatch_now(s, wsi, s->req);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return write_some(s, wsi);
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
        return s->req ? complete(s, wsi) : lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (s) on_closed(s);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, (enum lws_callback_reasons)reason, user, in, len);
    }
}
