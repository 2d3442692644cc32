/* The WebSocket endpoint /ws (a skeleton: protobuf frames and auth come later). Text messages
 * are JSON, answered by the Lua dispatcher (scripts/api/init.lua: ws_message), e.g.
 * {"type":"ping"} -> {"type":"pong"}. A message over the size limit closes the connection
 * with 1009, text that is not UTF-8 or not JSON with 1007, a binary message with 1003. */
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "api.h"
#include "log.h"
#include "server_defs.h"

#define MAX_QUEUED 64

struct sdsim_ws_conn {
    sdsim_server *srv;
    struct lws *wsi;
    char *msg; /* the message being assembled from its fragments */
    size_t len, cap;
    int binary;
    char *out[MAX_QUEUED]; /* replies waiting for a writable callback */
    size_t out_len[MAX_QUEUED];
    int nout;
    int close_code;
    char close_reason[120];
    sdsim_ws_conn *next, *prev;
};

static sdsim_server *server_of(struct lws *wsi) {
    return lws_context_user(lws_get_context(wsi));
}

/* Offset of the first byte that is not well-formed UTF-8, or -1. */
static long utf8_error(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], min;
        size_t len;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0)
            len = 2, min = 0x80, c &= 0x1F;
        else if ((c & 0xF0) == 0xE0)
            len = 3, min = 0x800, c &= 0x0F;
        else if ((c & 0xF8) == 0xF0)
            len = 4, min = 0x10000, c &= 0x07;
        else
            return (long)i;
        if (i + len > n) return (long)i;
        for (size_t j = 1; j < len; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return (long)i;
            c = (c << 6) | (s[i + j] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return (long)i;
        i += len;
    }
    return -1;
}

static void close_with(sdsim_ws_conn *c, int code, const char *reason) {
    if (c->close_code) return;
    c->close_code = code;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
    lws_callback_on_writable(c->wsi);
}

static void queue_reply(sdsim_ws_conn *c, char *text, size_t len) {
    if (c->nout == MAX_QUEUED) { /* a client that never reads: drop it */
        free(text);
        close_with(c, 1008, "too many replies waiting: read them");
        return;
    }
    c->out[c->nout] = text;
    c->out_len[c->nout++] = len;
    lws_callback_on_writable(c->wsi);
}

static void on_message(sdsim_ws_conn *c) {
    c->srv->metrics.ws_messages_in++;
    if (c->binary) {
        close_with(c, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "binary messages are not supported");
        return;
    }
    if (utf8_error((const unsigned char *)c->msg, c->len) >= 0) {
        close_with(c, LWS_CLOSE_STATUS_INVALID_PAYLOAD, "text is not valid UTF-8");
        return;
    }
    char *reply;
    size_t n;
    char reason[120];
    int code = sdsim_api_ws_message(c->srv->api, c->msg ? c->msg : "", c->len, &reply, &n, reason,
                                    sizeof reason);
    if (code)
        close_with(c, code, reason);
    else if (reply)
        queue_reply(c, reply, n);
}

/* Sends the close frame with the code and reason set by close_with (lws sends it when the
 * callback that set the reason returns nonzero). */
static int close_now(sdsim_ws_conn *c, struct lws *wsi) {
    lws_close_reason(wsi, (enum lws_close_status)c->close_code, (unsigned char *)c->close_reason,
                     strlen(c->close_reason));
    return -1;
}

static int on_receive(sdsim_ws_conn *c, struct lws *wsi, const void *in, size_t len) {
    if (c->close_code) return close_now(c, wsi);
    if (lws_is_first_fragment(wsi)) {
        c->len = 0;
        c->binary = lws_frame_is_binary(wsi);
    }
    if (c->len + len > c->srv->opts.max_ws_message) {
        c->srv->metrics.ws_closed_bad++;
        close_with(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
        return close_now(c, wsi);
    }
    if (c->len + len + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 1024;
        while (cap < c->len + len + 1)
            cap *= 2;
        char *nm = realloc(c->msg, cap);
        if (!nm) return -1;
        c->msg = nm;
        c->cap = cap;
    }
    memcpy(c->msg + c->len, in, len);
    c->len += len;
    c->msg[c->len] = '\0';
    if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) on_message(c);
    return c->close_code ? close_now(c, wsi) : 0;
}

static int on_writable(sdsim_ws_conn *c, struct lws *wsi) {
    if (c->close_code) { /* the close frame by hand: returning -1 here sends none in lws 4.1 */
        unsigned char buf[LWS_PRE + 2 + sizeof c->close_reason];
        size_t n = strlen(c->close_reason);
        buf[LWS_PRE] = (unsigned char)(c->close_code >> 8);
        buf[LWS_PRE + 1] = (unsigned char)c->close_code;
        memcpy(buf + LWS_PRE + 2, c->close_reason, n);
        lws_write(wsi, buf + LWS_PRE, n + 2, (enum lws_write_protocol)4 /* close */);
        return -1;
    }
    if (!c->nout) return 0;
    size_t n = c->out_len[0];
    unsigned char *buf = malloc(LWS_PRE + n);
    if (!buf) return -1;
    memcpy(buf + LWS_PRE, c->out[0], n);
    int wrote = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
    free(buf);
    free(c->out[0]);
    memmove(c->out, c->out + 1, (size_t)(c->nout - 1) * sizeof c->out[0]);
    memmove(c->out_len, c->out_len + 1, (size_t)(c->nout - 1) * sizeof c->out_len[0]);
    c->nout--;
    if (wrote < (int)n) return -1;
    c->srv->metrics.ws_messages_out++;
    if (c->nout) lws_callback_on_writable(wsi);
    return 0;
}

static sdsim_ws_conn *conn_new(sdsim_server *srv, struct lws *wsi) {
    sdsim_ws_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->srv = srv;
    c->wsi = wsi;
    c->next = srv->ws_conns;
    if (srv->ws_conns) srv->ws_conns->prev = c;
    srv->ws_conns = c;
    srv->ws_count++;
    return c;
}

static void conn_free(sdsim_ws_conn *c) {
    sdsim_server *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->ws_conns = c->next;
    if (c->next) c->next->prev = c->prev;
    srv->ws_count--;
    for (int i = 0; i < c->nout; i++)
        free(c->out[i]);
    free(c->msg);
    free(c);
}

/* Only /ws upgrades, and none once the server is shutting down. */
static int accept_upgrade(struct lws *wsi) {
    char uri[64];
    if (server_of(wsi)->draining) return 1;
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0) return 1;
    return strcmp(uri, "/ws") != 0;
}

int sdsim_ws_callback(struct lws *wsi, int reason, void *user, void *in, size_t len) {
    sdsim_session *s = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return accept_upgrade(wsi);
    case LWS_CALLBACK_ESTABLISHED:
        s->ws = conn_new(server_of(wsi), wsi);
        return s->ws ? 0 : -1;
    case LWS_CALLBACK_RECEIVE:
        return s->ws ? on_receive(s->ws, wsi, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return s->ws ? on_writable(s->ws, wsi) : -1;
    case LWS_CALLBACK_CLOSED:
        if (s && s->ws) conn_free(s->ws);
        if (s) s->ws = NULL;
        return 0;
    default:
        return 0;
    }
}

void sdsim_ws_close_all(sdsim_server *srv) {
    for (sdsim_ws_conn *c = srv->ws_conns; c; c = c->next)
        close_with(c, LWS_CLOSE_STATUS_GOINGAWAY, "the server is shutting down");
}
