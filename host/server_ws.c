/* The WebSocket endpoint /ws. Text messages are JSON, handled by the Lua dispatcher
 * (scripts/api/init.lua: ws_message) in a coroutine per message: auth, subscribe, control,
 * console, ping. Binary messages go the other way only: protobuf Frames of the simulations a
 * connection subscribed to (docs/http-api.md). A message over the size limit closes the
 * connection with 1009, text that is not UTF-8 with 1007 (not JSON: the dispatcher's 1007), a
 * binary message with 1003.
 *
 * Memory per connection is bounded whatever the client does: at most MAX_QUEUED replies wait
 * (beyond, 1008), and per subscription one frame (the newest) plus the "ended" flag. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libwebsockets.h>

#include "api.h"
#include "live_cluster.h"
#include "log.h"
#include "server_defs.h"

#define MAX_QUEUED 64              /* text messages waiting per connection */
#define MAX_QUEUED_BYTES (4 << 20) /* and their bytes */
#define MAX_SUBS 8                 /* simulations one connection may follow at once */
#define TOKEN_MAX 2048
/* The kernel's send buffer of a WebSocket: frames are small and few (~20 a second per
 * simulation), so a bounded buffer costs nothing to a reader that keeps up, and caps what a
 * reader that does not keep up holds in the kernel (autotuning would let it grow to MBs);
 * past it, frames are replaced rather than queued. */
#define WS_SNDBUF (64 * 1024)

/* A simulation a connection follows: its newest frame not yet sent (one at most: a newer one
 * replaces it), and whether the run has ended (the "ended" message follows the last frame). */
typedef struct ws_sub {
    char sim[40];
    unsigned char *frame; /* LWS_PRE bytes of headroom, then the frame */
    size_t len, cap;
    int has_frame;
    int ended;
    char end_state[16];
} ws_sub;

struct sdsim_ws_conn {
    sdsim_server *srv;
    struct lws *wsi;
    uint64_t id;
    char *msg; /* the message being assembled from its fragments */
    size_t len, cap;
    int binary;
    char *out[MAX_QUEUED]; /* replies waiting for a writable callback */
    size_t out_len[MAX_QUEUED];
    int nout;
    size_t out_bytes;
    ws_sub subs[MAX_SUBS];
    int nsubs, next_sub; /* next_sub: where the round robin over subs resumes */
    int close_code;
    int close_now; /* close at once (a protocol error), not after the queued replies */
    char close_reason[120];
    sdsim_ws_conn *next, *prev;
};

static uint64_t next_conn_id = 1;

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

/* Closes after the replies already queued (an error message then its close code). */
static void close_with(sdsim_ws_conn *c, int code, const char *reason) {
    if (c->close_code) return;
    c->close_code = code;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
    lws_callback_on_writable(c->wsi);
}

/* A protocol error in what the client sent: close at once. */
static void close_bad(sdsim_ws_conn *c, int code, const char *reason) {
    close_with(c, code, reason);
    c->close_now = 1;
}

static void drop_replies(sdsim_ws_conn *c) {
    for (int i = 0; i < c->nout; i++)
        free(c->out[i]);
    c->nout = 0;
    c->out_bytes = 0;
}

static int queue_reply(sdsim_ws_conn *c, const char *text, size_t len) {
    if (c->close_code) return -1;
    if (c->nout == MAX_QUEUED || c->out_bytes + len > MAX_QUEUED_BYTES) {
        /* a client that never reads: drop it */
        drop_replies(c);
        close_with(c, 1008, "too many replies waiting: read them");
        return -1;
    }
    char *copy = malloc(len ? len : 1);
    if (!copy) return -1;
    memcpy(copy, text, len);
    c->out[c->nout] = copy;
    c->out_len[c->nout++] = len;
    c->out_bytes += len;
    lws_callback_on_writable(c->wsi);
    return 0;
}

static void on_message(sdsim_ws_conn *c) {
    c->srv->metrics.ws_messages_in++;
    if (c->binary) {
        close_bad(c, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "binary messages are not supported");
        return;
    }
    if (utf8_error((const unsigned char *)c->msg, c->len) >= 0) {
        close_bad(c, LWS_CLOSE_STATUS_INVALID_PAYLOAD, "text is not valid UTF-8");
        return;
    }
    /* The handler may answer (or close) before this returns, or later. */
    sdsim_api_ws_handle(c->srv->api, c->id, c->msg ? c->msg : "", c->len);
}

/* Sends the close frame with the code and reason set by close_with (lws sends it when the
 * callback that set the reason returns nonzero). */
static int close_now(sdsim_ws_conn *c, struct lws *wsi) {
    lws_close_reason(wsi, (enum lws_close_status)c->close_code, (unsigned char *)c->close_reason,
                     strlen(c->close_reason));
    return -1;
}

static int on_receive(sdsim_ws_conn *c, struct lws *wsi, const void *in, size_t len) {
    if (c->close_code && c->close_now) return close_now(c, wsi);
    if (c->close_code) return 0; /* closing after its replies: what comes now is ignored */
    if (lws_is_first_fragment(wsi)) {
        c->len = 0;
        c->binary = lws_frame_is_binary(wsi);
    }
    if (c->len + len > c->srv->opts.max_ws_message) {
        c->srv->metrics.ws_closed_bad++;
        close_bad(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
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
    return c->close_code && c->close_now ? close_now(c, wsi) : 0;
}

/* Writes one message; 0, or -1 when the connection broke. */
static int write_msg(sdsim_ws_conn *c, struct lws *wsi, unsigned char *payload, size_t n,
                     enum lws_write_protocol kind) {
    if (lws_write(wsi, payload, n, kind) < (int)n) return -1;
    c->srv->metrics.ws_messages_out++;
    return 0;
}

static int write_text(sdsim_ws_conn *c, struct lws *wsi, const char *text, size_t n) {
    unsigned char *buf = malloc(LWS_PRE + n);
    if (!buf) return -1;
    memcpy(buf + LWS_PRE, text, n);
    int rc = write_msg(c, wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
    free(buf);
    return rc;
}

static void sub_remove(sdsim_ws_conn *c, int i) {
    char sim[40];
    memcpy(sim, c->subs[i].sim, sizeof sim);
    free(c->subs[i].frame);
    c->subs[i] = c->subs[--c->nsubs];
    memset(&c->subs[c->nsubs], 0, sizeof c->subs[0]);
    if (c->next_sub >= c->nsubs) c->next_sub = 0;
    sdsim_cluster_ws_dropped(sim); /* a relayed run's last local subscriber releases it */
}

/* The next subscription with something to send (round robin, so that one busy simulation
 * does not starve the others): its frame, else its "ended" message. 1 when something was
 * written, 0 when nothing waits, -1 on error. */
static int write_sub(sdsim_ws_conn *c, struct lws *wsi) {
    for (int k = 0; k < c->nsubs; k++) {
        int i = (c->next_sub + k) % c->nsubs;
        ws_sub *s = &c->subs[i];
        if (s->has_frame) {
            s->has_frame = 0;
            c->next_sub = (i + 1) % c->nsubs;
            c->srv->metrics.ws_frames_sent++;
            return write_msg(c, wsi, s->frame + LWS_PRE, s->len, LWS_WRITE_BINARY) ? -1 : 1;
        }
        if (s->ended) {
            char msg[160];
            int n = snprintf(msg, sizeof msg,
                             "{\"type\":\"ended\",\"simulation\":\"%s\",\"state\":\"%s\"}", s->sim,
                             s->end_state);
            sub_remove(c, i);
            return write_text(c, wsi, msg, (size_t)n) ? -1 : 1;
        }
    }
    return 0;
}

static int pending_subs(const sdsim_ws_conn *c) {
    for (int i = 0; i < c->nsubs; i++)
        if (c->subs[i].has_frame || c->subs[i].ended) return 1;
    return 0;
}

/* One message per writable callback: replies first, then frames; the close frame once the
 * replies before it are out. */
static int on_writable(sdsim_ws_conn *c, struct lws *wsi) {
    if (c->close_code && (c->close_now || !c->nout)) {
        /* the close frame by hand: returning -1 here sends none in lws 4.1 */
        unsigned char buf[LWS_PRE + 2 + sizeof c->close_reason];
        size_t n = strlen(c->close_reason);
        buf[LWS_PRE] = (unsigned char)(c->close_code >> 8);
        buf[LWS_PRE + 1] = (unsigned char)c->close_code;
        memcpy(buf + LWS_PRE + 2, c->close_reason, n);
        lws_write(wsi, buf + LWS_PRE, n + 2, (enum lws_write_protocol)4 /* close */);
        return -1;
    }
    if (c->nout) {
        int rc = write_text(c, wsi, c->out[0], c->out_len[0]);
        c->out_bytes -= c->out_len[0];
        free(c->out[0]);
        memmove(c->out, c->out + 1, (size_t)(c->nout - 1) * sizeof c->out[0]);
        memmove(c->out_len, c->out_len + 1, (size_t)(c->nout - 1) * sizeof c->out_len[0]);
        c->nout--;
        if (rc) return -1;
    } else if (write_sub(c, wsi) < 0) {
        return -1;
    }
    if (c->nout || c->close_code || pending_subs(c)) lws_callback_on_writable(wsi);
    return 0;
}

static sdsim_ws_conn *conn_new(sdsim_server *srv, struct lws *wsi) {
    sdsim_ws_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->srv = srv;
    c->wsi = wsi;
    c->id = next_conn_id++;
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
    drop_replies(c);
    for (int i = 0; i < c->nsubs; i++) {
        free(c->subs[i].frame);
        sdsim_cluster_ws_dropped(c->subs[i].sim); /* counted without this connection */
    }
    if (srv->api) sdsim_api_ws_closed(srv->api, c->id);
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

/* /ws?token=...: the same as a first message {"type":"auth","token":"..."}. A token with
 * characters no JWT has is passed as one that fails. */
static void auth_from_query(sdsim_ws_conn *c, struct lws *wsi) {
    char buf[TOKEN_MAX + 8], msg[TOKEN_MAX + 64];
    const char *tok = lws_get_urlarg_by_name(wsi, "token=", buf, sizeof buf);
    if (!tok) return;
    size_t n = strlen(tok);
    if (strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=") != n)
        tok = "malformed";
    int len = snprintf(msg, sizeof msg, "{\"type\":\"auth\",\"token\":\"%s\"}", tok);
    sdsim_api_ws_handle(c->srv->api, c->id, msg, (size_t)len);
}

int sdsim_ws_callback(struct lws *wsi, int reason, void *user, void *in, size_t len) {
    sdsim_session *s = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return accept_upgrade(wsi);
    case LWS_CALLBACK_ESTABLISHED: {
        int sndbuf = WS_SNDBUF;
        setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        s->ws = conn_new(server_of(wsi), wsi);
        if (s->ws) auth_from_query(s->ws, wsi);
        return s->ws ? 0 : -1;
    }
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

/* ------------------------------------------------------------------------------------- */
/* For the API */

static sdsim_ws_conn *conn_by_id(sdsim_server *srv, uint64_t id) {
    for (sdsim_ws_conn *c = srv->ws_conns; c; c = c->next)
        if (c->id == id) return c;
    return NULL;
}

static int sub_find(const sdsim_ws_conn *c, const char *sim) {
    for (int i = 0; i < c->nsubs; i++)
        if (!strcmp(c->subs[i].sim, sim)) return i;
    return -1;
}

int sdsim_ws_send_text(sdsim_server *srv, uint64_t conn_id, const char *text, size_t len) {
    if (conn_id >= SDSIM_CLUSTER_CONN_BASE) { /* a request another host forwarded */
        sdsim_cluster_reply(conn_id, text, len);
        return 0;
    }
    sdsim_ws_conn *c = conn_by_id(srv, conn_id);
    return c ? queue_reply(c, text, len) : -1;
}

void sdsim_ws_close_conn(sdsim_server *srv, uint64_t conn_id, int code, const char *reason) {
    sdsim_ws_conn *c = conn_by_id(srv, conn_id);
    if (c) close_with(c, code, reason);
}

/* Keeps a copy of the frame as the subscription's pending one (replacing any older one). */
static void sub_set_frame(sdsim_ws_conn *c, ws_sub *s, const uint8_t *frame, size_t len) {
    if (LWS_PRE + len > s->cap) {
        unsigned char *nb = realloc(s->frame, LWS_PRE + len);
        if (!nb) return;
        s->frame = nb;
        s->cap = LWS_PRE + len;
    }
    memcpy(s->frame + LWS_PRE, frame, len);
    s->len = len;
    if (s->has_frame) c->srv->metrics.ws_frames_replaced++;
    s->has_frame = 1;
    lws_callback_on_writable(c->wsi);
}

int sdsim_ws_subscribe(sdsim_server *srv, uint64_t conn_id, const char *sim_id,
                       const uint8_t *latest, size_t len) {
    sdsim_ws_conn *c = conn_by_id(srv, conn_id);
    if (!c || c->close_code) return -1;
    int i = sub_find(c, sim_id);
    if (i < 0) {
        if (c->nsubs == MAX_SUBS) return -2;
        i = c->nsubs++;
        memset(&c->subs[i], 0, sizeof c->subs[i]);
        snprintf(c->subs[i].sim, sizeof c->subs[i].sim, "%s", sim_id);
    }
    if (latest && len) sub_set_frame(c, &c->subs[i], latest, len);
    return 0;
}

int sdsim_ws_unsubscribe(sdsim_server *srv, uint64_t conn_id, const char *sim_id) {
    sdsim_ws_conn *c = conn_by_id(srv, conn_id);
    int i = c ? sub_find(c, sim_id) : -1;
    if (i < 0) return -1;
    sub_remove(c, i);
    return 0;
}

void sdsim_ws_frame(sdsim_server *srv, const char *sim_id, const uint8_t *frame, size_t len) {
    for (sdsim_ws_conn *c = srv->ws_conns; c; c = c->next) {
        int i = c->close_code ? -1 : sub_find(c, sim_id);
        if (i >= 0 && !c->subs[i].ended) sub_set_frame(c, &c->subs[i], frame, len);
    }
}

void sdsim_ws_ended(sdsim_server *srv, const char *sim_id, const char *state) {
    for (sdsim_ws_conn *c = srv->ws_conns; c; c = c->next) {
        int i = c->close_code ? -1 : sub_find(c, sim_id);
        if (i < 0) continue;
        c->subs[i].ended = 1;
        snprintf(c->subs[i].end_state, sizeof c->subs[i].end_state, "%s", state);
        lws_callback_on_writable(c->wsi);
    }
}

int sdsim_ws_subscribers(sdsim_server *srv, const char *sim_id) {
    int n = 0;
    for (sdsim_ws_conn *c = srv->ws_conns; c; c = c->next)
        n += sub_find(c, sim_id) >= 0;
    return n;
}
