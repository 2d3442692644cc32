/* The PostgreSQL backend: a small pool of non-blocking libpq connections on the loop thread.
 *
 * Each connection runs one operation at a time: PQconnectStart/PQconnectPoll driven by uv_poll
 * to connect, then PQsendQueryParams, PQflush until it returns 0 (waiting for writable), and
 * PQconsumeInput/PQgetResult on readable. An operation keeps its connection for all of its
 * statements. A connection that breaks fails the operation it was running (it may or may not
 * have been applied, so it is not replayed), then reconnects after a growing delay (0.1 s to
 * 5 s). Operations wait in a queue while connections are (re)connecting; if a connection
 * attempt fails while none is up, the waiting operations fail with UNAVAILABLE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include <uv.h>
#include "store_internal.h"

typedef enum { C_DOWN, C_CONNECTING, C_IDLE, C_BUSY, C_CLOSED } conn_state;

struct pg_backend;

typedef struct pg_conn {
    struct pg_backend *b;
    PGconn *conn;
    uv_poll_t *poll; /* its own allocation: it may be replaced while the old one closes */
    int fd;
    conn_state state;
    store_op *op;
    uv_timer_t retry;
    int backoff_ms;
} pg_conn;

typedef struct pg_backend {
    sdsim_store *store;
    char *url;
    int n;
    pg_conn *conns;
    store_op *head, *tail;
    int open_handles; /* retry timers and polls not yet closed */
    bool closing;
} pg_backend;

static void on_poll(uv_poll_t *p, int status, int events);
static void dispatch(pg_backend *b);
static void conn_start(pg_conn *c);

/* ---- handles ------------------------------------------------------------------------------ */

static void backend_release(pg_backend *b) {
    sdsim_store *s = b->store;
    free(b->conns);
    free(b->url);
    free(b);
    store__closed(s);
}

static void handle_closed(uv_handle_t *h) {
    pg_backend *b = h->data;
    if (h->type == UV_POLL) free(h);
    if (--b->open_handles == 0 && b->closing) backend_release(b);
}

static void poll_close(pg_conn *c) {
    if (!c->poll) return;
    c->poll->data = c->b;
    uv_close((uv_handle_t *)c->poll, handle_closed);
    c->poll = NULL;
    c->fd = -1;
}

/* Watches the connection's socket for events; a new handle when the socket may have changed
 * (libpq can close and reopen it while connecting, and a reused descriptor number would
 * leave libuv watching a socket the kernel has forgotten). */
static void poll_watch(pg_conn *c, int events, bool fresh) {
    int fd = PQsocket(c->conn);
    if (c->poll && (fresh || fd != c->fd)) poll_close(c);
    if (!c->poll) {
        c->poll = malloc(sizeof *c->poll);
        if (uv_poll_init_socket(c->b->store->loop, c->poll, fd) != 0) abort();
        c->b->open_handles++;
        c->poll->data = c;
        c->fd = fd;
    }
    uv_poll_start(c->poll, events, on_poll);
}

/* ---- results ------------------------------------------------------------------------------ */

static int map_sqlstate(const char *state) {
    if (!state) return SDSIM_STORE_UNAVAILABLE;
    if (!strcmp(state, "23505")) return SDSIM_STORE_EXISTS;
    if (!strncmp(state, "23", 2) || !strncmp(state, "22", 2)) return SDSIM_STORE_INVALID;
    if (!strncmp(state, "08", 2) || !strncmp(state, "57P", 3)) return SDSIM_STORE_UNAVAILABLE;
    return SDSIM_STORE_INTERNAL;
}

static void take_rows(store_op *op, PGresult *res) {
    store__rows_free(&op->rows);
    store_rows *r = &op->rows;
    r->nrows = PQntuples(res);
    r->ncols = PQnfields(res);
    r->cells = calloc((size_t)r->nrows * (size_t)r->ncols + 1, sizeof(char *));
    for (int i = 0; i < r->nrows; i++)
        for (int j = 0; j < r->ncols; j++)
            if (!PQgetisnull(res, i, j))
                r->cells[(size_t)i * (size_t)r->ncols + j] = strdup(PQgetvalue(res, i, j));
    r->affected = r->nrows;
}

/* One of possibly several results of a statement (a script gives one per statement). */
static void take_result(store_op *op, PGresult *res) {
    switch (PQresultStatus(res)) {
    case PGRES_TUPLES_OK:
        take_rows(op, res);
        break;
    case PGRES_COMMAND_OK:
        op->rows.affected = strtoll(PQcmdTuples(res), NULL, 10);
        break;
    default:
        if (op->db_status == SDSIM_STORE_OK) {
            const char *msg = PQresultErrorMessage(res);
            char clean[256];
            snprintf(clean, sizeof clean, "%s", msg);
            clean[strcspn(clean, "\n")] = 0;
            store__db_error(op, map_sqlstate(PQresultErrorField(res, PG_DIAG_SQLSTATE)), clean);
        }
    }
    PQclear(res);
}

/* ---- connections -------------------------------------------------------------------------- */

static bool any_up(pg_backend *b) {
    for (int i = 0; i < b->n; i++)
        if (b->conns[i].state == C_IDLE || b->conns[i].state == C_BUSY) return true;
    return false;
}

static void fail_queue(pg_backend *b, const char *why) {
    while (b->head) {
        store_op *op = b->head;
        b->head = op->next;
        if (!b->head) b->tail = NULL;
        op->status = SDSIM_STORE_UNAVAILABLE;
        snprintf(op->error, sizeof op->error, "database unavailable: %s", why);
        store__finish(op);
    }
}

static void on_retry(uv_timer_t *t) {
    conn_start(t->data);
}

/* The connection is gone (or never came): fail what it ran, and try again later. */
static void conn_broken(pg_conn *c, const char *why) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s", why && *why ? why : "connection lost");
    msg[strcspn(msg, "\n")] = 0;
    poll_close(c);
    if (c->conn) PQfinish(c->conn);
    c->conn = NULL;
    c->state = C_DOWN;
    store_op *op = c->op;
    c->op = NULL;
    c->backoff_ms = c->backoff_ms ? (c->backoff_ms * 2 > 5000 ? 5000 : c->backoff_ms * 2) : 100;
    uv_timer_start(&c->retry, on_retry, (uint64_t)c->backoff_ms, 0);
    if (op) {
        op->status = SDSIM_STORE_UNAVAILABLE;
        snprintf(op->error, sizeof op->error, "database connection lost: %s", msg);
        store__finish(op);
    }
    if (!any_up(c->b)) fail_queue(c->b, msg);
}

/* Notices ("already exists, skipping") are not errors; libpq would print them to stderr. */
static void ignore_notice(void *arg, const char *message) {}

static void conn_start(pg_conn *c) {
    if (c->b->closing) return;
    c->conn = PQconnectStart(c->b->url);
    if (!c->conn || PQstatus(c->conn) == CONNECTION_BAD) {
        conn_broken(c, c->conn ? PQerrorMessage(c->conn) : "out of memory");
        return;
    }
    PQsetNoticeProcessor(c->conn, ignore_notice, NULL);
    c->state = C_CONNECTING;
    poll_watch(c, UV_WRITABLE, true);
}

static void send_op(pg_conn *c) {
    store_op *op = c->op;
    const char *values[SDSIM_STORE_MAX_PARAMS];
    for (int i = 0; i < op->nparams; i++)
        values[i] = op->params[i].kind == P_NULL ? NULL : op->params[i].text;
    int ok = op->script
                 ? PQsendQuery(c->conn, op->sql)
                 : PQsendQueryParams(c->conn, op->sql, op->nparams, NULL, values, NULL, NULL, 0);
    if (!ok) {
        conn_broken(c, PQerrorMessage(c->conn));
        return;
    }
    int f = PQflush(c->conn);
    if (f < 0)
        conn_broken(c, PQerrorMessage(c->conn));
    else
        poll_watch(c, f ? UV_READABLE | UV_WRITABLE : UV_READABLE, false);
}

/* A statement has answered: the next one of the op, or the op is done. */
static void statement_done(pg_conn *c) {
    store_op *op = c->op;
    if (store__advance(op) == STEP_QUERY) {
        send_op(c);
        return;
    }
    c->op = NULL;
    c->state = C_IDLE;
    store__finish(op);
    if (c->state == C_IDLE && !c->b->closing) dispatch(c->b);
}

static void on_connecting(pg_conn *c) {
    switch (PQconnectPoll(c->conn)) {
    case PGRES_POLLING_OK:
        PQsetnonblocking(c->conn, 1);
        c->state = C_IDLE;
        c->backoff_ms = 0;
        poll_watch(c, UV_READABLE, true);
        dispatch(c->b);
        break;
    case PGRES_POLLING_READING:
        poll_watch(c, UV_READABLE, true);
        break;
    case PGRES_POLLING_WRITING:
        poll_watch(c, UV_WRITABLE, true);
        break;
    default:
        conn_broken(c, PQerrorMessage(c->conn));
    }
}

static void on_busy(pg_conn *c, int events) {
    if (events & UV_WRITABLE) {
        int f = PQflush(c->conn);
        if (f < 0) {
            conn_broken(c, PQerrorMessage(c->conn));
            return;
        }
        if (f == 0) poll_watch(c, UV_READABLE, false);
    }
    if (!(events & UV_READABLE)) return;
    if (!PQconsumeInput(c->conn)) {
        conn_broken(c, PQerrorMessage(c->conn));
        return;
    }
    while (!PQisBusy(c->conn)) {
        PGresult *res = PQgetResult(c->conn);
        if (!res) {
            statement_done(c);
            return;
        }
        take_result(c->op, res);
    }
}

static void on_poll(uv_poll_t *p, int status, int events) {
    pg_conn *c = p->data;
    if (status < 0) {
        /* libuv reports a socket error (POLLERR) as a failed poll: let libpq read the error
         * so the message says what happened ("connection refused"), then give up on it. */
        PGconn *conn = c->conn;
        int fd = c->fd;
        if (c->state == C_CONNECTING)
            on_connecting(c);
        else if (c->state == C_BUSY)
            on_busy(c, UV_READABLE);
        if (c->conn && c->conn == conn && PQsocket(c->conn) == fd && c->state != C_IDLE)
            conn_broken(c, uv_strerror(status));
        return;
    }
    switch (c->state) {
    case C_CONNECTING:
        on_connecting(c);
        break;
    case C_BUSY:
        on_busy(c, events);
        break;
    case C_IDLE:
        /* Readable while idle: a notice, or the server closing on us (shutdown, a killed
         * backend): find out now rather than on the next query. */
        if (!PQconsumeInput(c->conn) || PQstatus(c->conn) == CONNECTION_BAD)
            conn_broken(c, PQerrorMessage(c->conn));
        break;
    default:
        break;
    }
}

static void dispatch(pg_backend *b) {
    for (int i = 0; i < b->n && b->head; i++) {
        pg_conn *c = &b->conns[i];
        if (c->state != C_IDLE) continue;
        store_op *op = b->head;
        b->head = op->next;
        if (!b->head) b->tail = NULL;
        c->op = op;
        c->state = C_BUSY;
        send_op(c);
    }
}

/* ---- backend ------------------------------------------------------------------------------ */

static void pg_submit(sdsim_store *s, store_op *op) {
    pg_backend *b = s->impl;
    op->next = NULL;
    if (b->tail)
        b->tail->next = op;
    else
        b->head = op;
    b->tail = op;
    dispatch(b);
}

static void pg_close(sdsim_store *s) {
    pg_backend *b = s->impl;
    b->closing = true;
    for (int i = 0; i < b->n; i++) {
        pg_conn *c = &b->conns[i];
        poll_close(c);
        if (c->conn) PQfinish(c->conn);
        c->conn = NULL;
        c->state = C_CLOSED;
        uv_timer_stop(&c->retry);
        c->retry.data = b;
        uv_close((uv_handle_t *)&c->retry, handle_closed);
    }
}

static const store_backend pg_backend_ops = {"postgres", pg_submit, pg_close};

int store__pg_open(sdsim_store *s, const char *url, int pool_size, char *err, size_t errlen) {
    /* Check the URL's syntax now, so a typo is a clear error at start-up. */
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    if (!opts) {
        snprintf(err, errlen, "bad database URL: %s", perr ? perr : "cannot parse");
        PQfreemem(perr);
        return -1;
    }
    PQconninfoFree(opts);
    pg_backend *b = calloc(1, sizeof *b);
    b->store = s;
    b->url = strdup(url);
    b->n = pool_size;
    b->conns = calloc((size_t)pool_size, sizeof *b->conns);
    s->impl = b;
    s->be = &pg_backend_ops;
    for (int i = 0; i < b->n; i++) {
        pg_conn *c = &b->conns[i];
        c->b = b;
        c->fd = -1;
        uv_timer_init(s->loop, &c->retry);
        c->retry.data = c;
        b->open_handles++;
        conn_start(c);
    }
    return 0;
}
