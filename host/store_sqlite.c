/* The SQLite backend: one dedicated thread owns the connection and runs the operations one
 * after the other (WAL mode; this thread is the only writer, so an operation's statements
 * never interleave with another's). Finished operations go back to the loop through a
 * uv_async handle. The loop thread never touches the connection after opening it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <uv.h>
#include "store_internal.h"

#define STMT_CACHE 64

typedef struct sq_stmt {
    const char *sql; /* the op's SQL pointer: statements are string constants */
    sqlite3_stmt *stmt;
} sq_stmt;

typedef struct sq_backend {
    sdsim_store *store;
    sqlite3 *db;
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cv;
    store_op *todo_head, *todo_tail;
    store_op *done_head, *done_tail;
    bool stop;
    uv_async_t done_async;
    sq_stmt cache[STMT_CACHE];
    int ncache;
} sq_backend;

static void push(store_op **head, store_op **tail, store_op *op) {
    op->next = NULL;
    if (*tail)
        (*tail)->next = op;
    else
        *head = op;
    *tail = op;
}

static int map_error(sqlite3 *db) {
    int ext = sqlite3_extended_errcode(db);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        return SDSIM_STORE_EXISTS;
    if ((ext & 0xff) == SQLITE_CONSTRAINT || (ext & 0xff) == SQLITE_MISMATCH ||
        (ext & 0xff) == SQLITE_TOOBIG)
        return SDSIM_STORE_INVALID;
    if ((ext & 0xff) == SQLITE_BUSY || (ext & 0xff) == SQLITE_LOCKED)
        return SDSIM_STORE_UNAVAILABLE;
    return SDSIM_STORE_INTERNAL;
}

/* PostgreSQL's $1 placeholders become SQLite's ?1 (same numbers), outside quoted text. */
static char *rewrite_placeholders(const char *sql) {
    char *out = strdup(sql);
    bool quoted = false;
    for (char *p = out; *p; p++) {
        if (*p == '\'')
            quoted = !quoted;
        else if (!quoted && *p == '$' && p[1] >= '1' && p[1] <= '9')
            *p = '?';
    }
    return out;
}

static sqlite3_stmt *prepare(sq_backend *b, const char *sql, bool *cached) {
    for (int i = 0; i < b->ncache; i++)
        if (b->cache[i].sql == sql) {
            *cached = true;
            return b->cache[i].stmt;
        }
    char *text = rewrite_placeholders(sql);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(b->db, text, -1, &st, NULL);
    free(text);
    if (rc != SQLITE_OK) return NULL;
    *cached = b->ncache < STMT_CACHE;
    if (*cached) b->cache[b->ncache++] = (sq_stmt){sql, st};
    return st;
}

static void add_row(store_rows *rows, sqlite3_stmt *st, int *cap) {
    if (rows->nrows == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        rows->cells = realloc(rows->cells, (size_t)*cap * (size_t)rows->ncols * sizeof(char *));
    }
    char **row = rows->cells + (size_t)rows->nrows * (size_t)rows->ncols;
    for (int c = 0; c < rows->ncols; c++) {
        const unsigned char *t = sqlite3_column_text(st, c);
        row[c] = t ? strdup((const char *)t) : NULL;
    }
    rows->nrows++;
}

static void run_query(sq_backend *b, store_op *op) {
    bool cached = false;
    sqlite3_stmt *st = prepare(b, op->sql, &cached);
    if (!st) {
        store__db_error(op, SDSIM_STORE_INTERNAL, sqlite3_errmsg(b->db));
        return;
    }
    for (int i = 0; i < op->nparams; i++) {
        const store_param *p = &op->params[i];
        if (p->kind == P_NULL)
            sqlite3_bind_null(st, i + 1);
        else if (p->kind == P_INT)
            sqlite3_bind_int64(st, i + 1, p->i);
        else
            sqlite3_bind_text(st, i + 1, p->text, -1, SQLITE_STATIC);
    }
    op->rows.ncols = sqlite3_column_count(st);
    int cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        add_row(&op->rows, st, &cap);
    if (rc != SQLITE_DONE)
        store__db_error(op, map_error(b->db), sqlite3_errmsg(b->db));
    else
        op->rows.affected = sqlite3_changes(b->db);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (!cached) sqlite3_finalize(st);
}

/* A script runs in one transaction: all of it or nothing. */
static void run_script(sq_backend *b, store_op *op) {
    char *msg = NULL;
    if (sqlite3_exec(b->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) == SQLITE_OK &&
        sqlite3_exec(b->db, op->sql, NULL, NULL, &msg) == SQLITE_OK &&
        sqlite3_exec(b->db, "COMMIT", NULL, NULL, &msg) == SQLITE_OK)
        return;
    store__db_error(op, map_error(b->db), msg ? msg : sqlite3_errmsg(b->db));
    sqlite3_free(msg);
    if (!sqlite3_get_autocommit(b->db)) sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
}

static void worker(void *arg) {
    sq_backend *b = arg;
    for (;;) {
        uv_mutex_lock(&b->mu);
        while (!b->todo_head && !b->stop)
            uv_cond_wait(&b->cv, &b->mu);
        store_op *op = b->todo_head;
        if (op) {
            b->todo_head = op->next;
            if (!b->todo_head) b->todo_tail = NULL;
        }
        uv_mutex_unlock(&b->mu);
        if (!op) return; /* stopping and nothing left */
        do {
            if (op->script)
                run_script(b, op);
            else
                run_query(b, op);
        } while (store__advance(op) == STEP_QUERY);
        uv_mutex_lock(&b->mu);
        push(&b->done_head, &b->done_tail, op);
        uv_mutex_unlock(&b->mu);
        uv_async_send(&b->done_async);
    }
}

static void on_done(uv_async_t *a) {
    sq_backend *b = a->data;
    uv_mutex_lock(&b->mu);
    store_op *op = b->done_head;
    b->done_head = b->done_tail = NULL;
    uv_mutex_unlock(&b->mu);
    while (op) {
        store_op *next = op->next;
        store__finish(op);
        op = next;
    }
}

static void sq_submit(sdsim_store *s, store_op *op) {
    sq_backend *b = s->impl;
    uv_mutex_lock(&b->mu);
    push(&b->todo_head, &b->todo_tail, op);
    uv_cond_signal(&b->cv);
    uv_mutex_unlock(&b->mu);
}

static void sq_closed(uv_handle_t *h) {
    sq_backend *b = h->data;
    sdsim_store *s = b->store;
    uv_mutex_destroy(&b->mu);
    uv_cond_destroy(&b->cv);
    free(b);
    store__closed(s);
}

/* Nothing is in flight when this runs, so the join returns at once. */
static void sq_close(sdsim_store *s) {
    sq_backend *b = s->impl;
    uv_mutex_lock(&b->mu);
    b->stop = true;
    uv_cond_signal(&b->cv);
    uv_mutex_unlock(&b->mu);
    uv_thread_join(&b->thread);
    for (int i = 0; i < b->ncache; i++)
        sqlite3_finalize(b->cache[i].stmt);
    sqlite3_close(b->db);
    uv_close((uv_handle_t *)&b->done_async, sq_closed);
}

static const store_backend sqlite_backend = {"sqlite", sq_submit, sq_close};

/* Creates the database's directory (one level, 0700) if it is missing. */
static int ensure_dir(const char *path, char *err, size_t errlen) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return 0;
    *slash = 0;
    if (mkdir(dir, 0700) == 0 || errno == EEXIST) return 0;
    snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    return -1;
}

int store__sqlite_open(sdsim_store *s, const char *path, char *err, size_t errlen) {
    if (ensure_dir(path, err, errlen) != 0) return -1;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    char *msg = NULL;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000); /* another process (sdsim migrate) may hold a lock */
        rc = sqlite3_exec(db,
                          "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                          " PRAGMA foreign_keys = ON;",
                          NULL, NULL, &msg);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "sqlite %s: %s", path, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sqlite3_close(db);
        return -1;
    }
    chmod(path, 0600); /* password hashes and tokens live here */
    sq_backend *b = calloc(1, sizeof *b);
    b->store = s;
    b->db = db;
    uv_mutex_init(&b->mu);
    uv_cond_init(&b->cv);
    uv_async_init(s->loop, &b->done_async, on_done);
    b->done_async.data = b;
    s->impl = b;
    s->be = &sqlite_backend;
    if (uv_thread_create(&b->thread, worker, b) != 0) abort();
    return 0;
}
