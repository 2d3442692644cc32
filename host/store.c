/* The store's front: argument checks, the operations as step machines, and turning result rows
 * into typed replies. The backends (store_sqlite.c, store_pg.c) only run statements. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <uv.h>
#include <openssl/rand.h>
#include "store_internal.h"

/* Immediate replies (argument errors, a closing store) still arrive from the loop, never
 * inside the call: they wait here for the front's async handle. */
typedef struct store_front {
    uv_async_t async;
    store_op *head, *tail;
} store_front;

static store_front *front_of(sdsim_store *s);

const char *sdsim_store_status_name(int status) {
    static const char *const names[] = {"ok",          "not_found", "conflict", "exists",
                                        "forbidden",   "invalid",   "reused",   "expired",
                                        "unavailable", "internal"};
    if (status < 0 || status > SDSIM_STORE_INTERNAL) return "unknown";
    return names[status];
}

/* ---- small helpers ---------------------------------------------------------------------- */

static int64_t system_now_ms(void *ud) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int sdsim_uuid_v4(char out[37]) {
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = 0;
    return 0;
}

/* Canonical lower-case text form only: both backends then compare ids the same way. */
int sdsim_uuid_valid(const char *s) {
    if (!s || strlen(s) != 36) return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return 0;
        } else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

static int hex64_valid(const char *s) {
    if (!s || strlen(s) != 64) return 0;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

/* PostgreSQL refuses invalid UTF-8 and SQLite would keep it: check here so both agree. */
static int utf8_valid(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p >> 5) == 6 ? 1 : (*p >> 4) == 14 ? 2 : (*p >> 3) == 30 ? 3 : -1;
        if (n < 0) return 0;
        if (n == 1 && *p < 0xc2) return 0; /* overlong */
        uint32_t cp = n == 0 ? *p : n == 1 ? (*p & 0x1f) : n == 2 ? (*p & 0x0f) : (*p & 0x07);
        p++;
        for (int i = 0; i < n; i++, p++) {
            if ((*p & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (*p & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
        if (cp >= 0xd800 && cp <= 0xdfff) return 0;
    }
    return 1;
}

static int64_t cell_int(const char *c) {
    return c ? strtoll(c, NULL, 10) : 0;
}
static int cell_bool(const char *c) {
    return c && (c[0] == 't' || c[0] == '1');
}

/* ---- ops ---------------------------------------------------------------------------------- */

static store_op *op_new(sdsim_store *s, store_kind kind, sdsim_store_cb cb, void *ud) {
    store_op *op = calloc(1, sizeof *op);
    if (!op) abort(); /* out of memory is not a state the server can answer from */
    op->store = s;
    op->kind = kind;
    op->cb = cb;
    op->ud = ud;
    op->now = s->clock(s->clock_ud);
    return op;
}

/* Keeps a copy of str for the op's life; NULL stays NULL. */
static const char *op_keep(store_op *op, const char *str) {
    if (!str) return NULL;
    if (op->nstrs == SDSIM_STORE_MAX_STRS) abort(); /* a bug in an op, not an input */
    char *c = strdup(str);
    if (!c) abort();
    op->strs[op->nstrs++] = c;
    return c;
}

static void op_text(store_op *op, int i, const char *str) {
    op->params[i].kind = str ? P_TEXT : P_NULL;
    op->params[i].text = str;
}

static void op_int(store_op *op, int i, int64_t v) {
    op->params[i].kind = P_INT;
    op->params[i].i = v;
    snprintf(op->params[i].buf, sizeof op->params[i].buf, "%lld", (long long)v);
    op->params[i].text = op->params[i].buf;
}

static void op_query(store_op *op, const char *sql, int nparams) {
    op->sql = sql;
    op->script = false;
    op->nparams = nparams;
}

static void op_set_error(store_op *op, int status, const char *msg) {
    op->status = status;
    snprintf(op->error, sizeof op->error, "%s", msg);
}

static void front_push(sdsim_store *s, store_op *op) {
    store_front *f = front_of(s);
    op->next = NULL;
    if (f->tail)
        f->tail->next = op;
    else
        f->head = op;
    f->tail = op;
    uv_async_send(&f->async);
}

/* Answers without touching the database (the answer still comes from the loop). */
static void op_reject(store_op *op, int status, const char *msg) {
    op_set_error(op, status, msg);
    op->store->inflight++;
    front_push(op->store, op);
}

static void op_submit(store_op *op, store_step_result (*step)(store_op *)) {
    sdsim_store *s = op->store;
    if (s->closing) {
        op_reject(op, SDSIM_STORE_UNAVAILABLE, "the store is closing");
        return;
    }
    op->step = step;
    s->inflight++;
    s->be->submit(s, op);
}

/* Checks a text argument: UTF-8 and at most max bytes (0: no limit). */
static int arg_ok(store_op *op, const char *what, const char *v, size_t max) {
    if (!v) return 1;
    char msg[96];
    if (!utf8_valid(v)) {
        snprintf(msg, sizeof msg, "%s is not valid UTF-8", what);
        op_reject(op, SDSIM_STORE_INVALID, msg);
        return 0;
    }
    if (max && strlen(v) > max) {
        snprintf(msg, sizeof msg, "%s is longer than %zu bytes", what, max);
        op_reject(op, SDSIM_STORE_INVALID, msg);
        return 0;
    }
    return 1;
}

static int id_ok(store_op *op, const char *id) {
    if (sdsim_uuid_valid(id)) return 1;
    op_reject(op, SDSIM_STORE_NOT_FOUND, "no such id");
    return 0;
}

static const char *new_id(store_op *op, int slot) {
    if (sdsim_uuid_v4(op->scratch[slot]) != 0) abort();
    return op->scratch[slot];
}

static int clamp(int v, int lo, int hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---- steps -------------------------------------------------------------------------------- */

/* One statement; its rows are the answer. */
static store_step_result step_rows(store_op *op) {
    return STEP_DONE;
}

/* One statement that must find a row. */
static store_step_result step_one(store_op *op) {
    if (op->rows.nrows == 0) op_set_error(op, SDSIM_STORE_NOT_FOUND, "not found");
    return STEP_DONE;
}

/* One statement whose row count is the answer (revokes, deletes). */
static store_step_result step_count(store_op *op) {
    op->value = op->rows.nrows;
    return STEP_DONE;
}

/* ---- decoding ----------------------------------------------------------------------------- */

#define C(r, i) (rows->cells[(size_t)(r) * (size_t)rows->ncols + (i)])

static void *decode(store_op *op, sdsim_store_reply *rep) {
    const store_rows *rows = &op->rows;
    int n = rows->nrows;
    if (n == 0 || op->kind == K_NONE) return NULL;
    rep->n = n;
    switch (op->kind) {
    case K_USER: {
        sdsim_user *u = calloc((size_t)n, sizeof *u);
        for (int r = 0; r < n; r++)
            u[r] = (sdsim_user){C(r, 0),
                                C(r, 1),
                                C(r, 2),
                                C(r, 3),
                                C(r, 4),
                                C(r, 5),
                                C(r, 6),
                                cell_int(C(r, 7)),
                                cell_int(C(r, 8)),
                                cell_int(C(r, 9)),
                                cell_bool(C(r, 10))};
        rep->users = u;
        return u;
    }
    case K_REFRESH: {
        sdsim_refresh *t = calloc((size_t)n, sizeof *t);
        for (int r = 0; r < n; r++)
            t[r] = (sdsim_refresh){C(r, 0),           C(r, 1),           C(r, 2),
                                   C(r, 3),           cell_int(C(r, 4)), cell_int(C(r, 5)),
                                   cell_int(C(r, 6)), cell_int(C(r, 7))};
        rep->refresh = t;
        return t;
    }
    case K_PROJECT: {
        sdsim_project *p = calloc((size_t)n, sizeof *p);
        for (int r = 0; r < n; r++)
            p[r] = (sdsim_project){C(r, 0),
                                   C(r, 1),
                                   C(r, 2),
                                   C(r, 3),
                                   C(r, 4),
                                   C(r, 5),
                                   C(r, 6),
                                   cell_bool(C(r, 7)),
                                   cell_int(C(r, 8)),
                                   cell_int(C(r, 9)),
                                   cell_int(C(r, 10)),
                                   cell_int(C(r, 11))};
        if (rows->ncols > 12) rep->total = cell_int(C(0, 12));
        rep->projects = p;
        return p;
    }
    case K_TEMPLATE: {
        sdsim_template *t = calloc((size_t)n, sizeof *t);
        for (int r = 0; r < n; r++)
            t[r] =
                (sdsim_template){C(r, 0),           C(r, 1),          C(r, 2), C(r, 3),
                                 C(r, 4),           C(r, 5),          C(r, 6), cell_bool(C(r, 7)),
                                 cell_int(C(r, 8)), cell_int(C(r, 9))};
        if (rows->ncols > 10) rep->total = cell_int(C(0, 10));
        rep->templates = t;
        return t;
    }
    case K_SESSION: {
        sdsim_sim_session *t = calloc((size_t)n, sizeof *t);
        for (int r = 0; r < n; r++)
            t[r] =
                (sdsim_sim_session){C(r, 0), C(r, 1), C(r, 2),           C(r, 3),          C(r, 4),
                                    C(r, 5), C(r, 6), cell_int(C(r, 7)), cell_int(C(r, 8))};
        rep->sessions = t;
        return t;
    }
    case K_LIMITS: {
        sdsim_limits *t = calloc((size_t)n, sizeof *t);
        for (int r = 0; r < n; r++)
            t[r] = (sdsim_limits){C(r, 0),           C(r, 1),           cell_int(C(r, 2)),
                                  cell_int(C(r, 3)), cell_int(C(r, 4)), cell_int(C(r, 5)),
                                  cell_int(C(r, 6)), cell_int(C(r, 7))};
        rep->limits = t;
        return t;
    }
    case K_AUDIT: {
        sdsim_audit *t = calloc((size_t)n, sizeof *t);
        for (int r = 0; r < n; r++)
            t[r] = (sdsim_audit){cell_int(C(r, 0)), C(r, 1), C(r, 2),          C(r, 3),
                                 C(r, 4),           C(r, 5), cell_int(C(r, 6))};
        rep->audit = t;
        return t;
    }
    case K_PLUGIN: {
        sdsim_plugin *t = calloc((size_t)n, sizeof *t);
        for (int r = 0; r < n; r++)
            t[r] = (sdsim_plugin){
                C(r, 0),           C(r, 1),           C(r, 2),          C(r, 3), cell_bool(C(r, 4)),
                cell_int(C(r, 5)), cell_int(C(r, 6)), cell_int(C(r, 7))};
        if (rows->ncols > 8) rep->total = cell_int(C(0, 8));
        rep->plugins = t;
        return t;
    }
    case K_NONE:
        break;
    }
    return NULL;
}

void store__rows_free(store_rows *rows) {
    size_t cells = (size_t)rows->nrows * (size_t)rows->ncols;
    for (size_t i = 0; i < cells; i++)
        free(rows->cells[i]);
    free(rows->cells);
    memset(rows, 0, sizeof *rows);
}

void store__db_error(store_op *op, int status, const char *msg) {
    op->db_status = status;
    snprintf(op->db_error, sizeof op->db_error, "%s", msg ? msg : "database error");
}

store_step_result store__advance(store_op *op) {
    if (op->db_status != SDSIM_STORE_OK && !op->handles_errors) {
        op_set_error(op, op->db_status, op->db_error);
        return STEP_DONE;
    }
    store_step_result r = op->step(op);
    if (r == STEP_QUERY) {
        store__rows_free(&op->rows);
        op->db_status = SDSIM_STORE_OK;
        op->db_error[0] = 0;
    }
    return r;
}

static void op_free(store_op *op) {
    store__rows_free(&op->rows);
    for (int i = 0; i < op->nstrs; i++)
        free(op->strs[i]);
    free(op);
}

void store__finish(store_op *op) {
    sdsim_store *s = op->store;
    sdsim_store_reply rep = {.status = op->status};
    void *arr = NULL;
    if (op->status == SDSIM_STORE_OK) {
        arr = decode(op, &rep);
        if (op->kind == K_NONE) rep.n = op->has_n ? op->reply_n : op->rows.nrows;
        if (op->has_total) rep.total = op->total;
    } else {
        rep.error = op->error[0] ? op->error : sdsim_store_status_name(op->status);
    }
    rep.value = op->value;
    if (op->cb) op->cb(op->ud, &rep);
    free(arr);
    op_free(op);
    s->inflight--;
    if (s->closing && s->inflight == 0) s->be->close(s);
}

/* ---- lifetime ----------------------------------------------------------------------------- */

static void front_drain(uv_async_t *a) {
    store_front *f = a->data;
    store_op *op = f->head;
    f->head = f->tail = NULL;
    while (op) {
        store_op *next = op->next;
        store__finish(op);
        op = next;
    }
}

static store_front *front_of(sdsim_store *s) {
    return (store_front *)((char *)s + sizeof(sdsim_store));
}

static void front_closed(uv_handle_t *h) {
    sdsim_store *s = (sdsim_store *)((char *)h - sizeof(sdsim_store));
    void (*cb)(void *) = s->closed_cb;
    void *ud = s->closed_ud;
    free(s);
    if (cb) cb(ud);
}

sdsim_store *sdsim_store_open(uv_loop_t *loop, const sdsim_store_config *cfg, char *err,
                              size_t errlen) {
    sdsim_store *s = calloc(1, sizeof *s + sizeof(store_front));
    if (!s) return NULL;
    s->loop = loop;
    s->clock = system_now_ms;
    store_front *f = front_of(s);
    uv_async_init(loop, &f->async, front_drain);
    f->async.data = f;
    const char *url = cfg->database_url;
    int rc;
    if (url && (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13))) {
        rc = store__pg_open(s, url, cfg->pool_size > 0 ? cfg->pool_size : 4, err, errlen);
    } else if (!url || !*url || !strcmp(url, "sqlite") || !strncmp(url, "sqlite:", 7)) {
        char path[4096];
        if (url && !strncmp(url, "sqlite:", 7) && url[7]) {
            snprintf(path, sizeof path, "%s", url + 7);
        } else {
            snprintf(path, sizeof path, "%s/sdsim.db", cfg->data_dir ? cfg->data_dir : ".");
        }
        rc = store__sqlite_open(s, path, err, errlen);
    } else {
        snprintf(err, errlen, "unknown database URL (want postgres://… or sqlite:PATH)");
        rc = -1;
    }
    if (rc != 0) {
        /* The async handle must be closed before the memory goes: free in its close callback. */
        uv_close((uv_handle_t *)&f->async, front_closed);
        return NULL;
    }
    return s;
}

void store__closed(sdsim_store *s) {
    uv_close((uv_handle_t *)&front_of(s)->async, front_closed);
}

void sdsim_store_close(sdsim_store *s, void (*closed)(void *ud), void *ud) {
    if (s->closing) return;
    s->closing = true;
    s->closed_cb = closed;
    s->closed_ud = ud;
    if (s->inflight == 0) s->be->close(s);
}

const char *sdsim_store_backend(const sdsim_store *s) {
    return s->be->name;
}

void sdsim_store_set_clock(sdsim_store *s, int64_t (*now_ms)(void *ud), void *ud) {
    s->clock = now_ms ? now_ms : system_now_ms;
    s->clock_ud = ud;
}

int64_t sdsim_store_now(const sdsim_store *s) {
    return s->clock(s->clock_ud);
}

/* ---- migrations --------------------------------------------------------------------------- */

char *store__expand_sql(const char *sql, bool pg) {
    size_t cap = strlen(sql) * 2 + 256, len = 0;
    char *out = malloc(cap);
    for (const char *p = sql; *p;) {
        char piece[160];
        const char *rep = NULL;
        if (*p == '{') {
            const char *end = strchr(p, '}');
            char name[64];
            size_t n = end ? (size_t)(end - p - 1) : 0;
            if (end && n < sizeof name) {
                memcpy(name, p + 1, n);
                name[n] = 0;
                if (!strcmp(name, "UUID"))
                    rep = pg ? "UUID" : "TEXT";
                else if (!strcmp(name, "BOOL"))
                    rep = pg ? "BOOLEAN" : "INTEGER";
                else if (!strcmp(name, "SERIAL"))
                    rep = pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
                else if (!strncmp(name, "JSON:", 5)) {
                    if (pg)
                        rep = "JSONB";
                    else {
                        snprintf(piece, sizeof piece, "TEXT CHECK (%s IS NULL OR json_valid(%s))",
                                 name + 5, name + 5);
                        rep = piece;
                    }
                }
                if (rep) p = end + 1;
            }
        }
        if (!rep) {
            piece[0] = *p++;
            piece[1] = 0;
            rep = piece;
        }
        size_t rl = strlen(rep);
        if (len + rl + 1 > cap) {
            cap = (len + rl + 1) * 2;
            out = realloc(out, cap);
        }
        memcpy(out + len, rep, rl);
        len += rl;
    }
    out[len] = 0;
    return out;
}

int sdsim_store_schema_version(void) {
    return store__migrations[store__nmigrations - 1].version;
}

#define MIGRATIONS_TABLE                                                                           \
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"                   \
    " name VARCHAR(100) NOT NULL, applied_at BIGINT NOT NULL)"
/* PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against itself (two hosts creating it at
 * once: a duplicate key in pg_type): take the migration lock first. SQLite runs it inside
 * BEGIN IMMEDIATE, which already excludes other writers. */
static const char SQL_MIGRATIONS_TABLE[] = MIGRATIONS_TABLE;
static const char SQL_MIGRATIONS_TABLE_PG[] =
    "SELECT pg_advisory_xact_lock(7263746); " MIGRATIONS_TABLE;
static const char SQL_SCHEMA_VERSION[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";

/* The script of one migration: its DDL and its schema_migrations row, run as one transaction
 * (SQLite: the backend wraps it; PostgreSQL: a multi-statement query is one transaction). In
 * PostgreSQL an advisory lock makes hosts that migrate at the same time take turns. */
static char *migration_script(const store_migration *m, bool pg, int64_t now) {
    char *body = store__expand_sql(m->sql, pg);
    size_t n = strlen(body) + 256;
    char *script = malloc(n);
    snprintf(script, n,
             "%s%s\nINSERT INTO schema_migrations (version, name, applied_at) "
             "VALUES (%d, '%s', %lld);",
             pg ? "SELECT pg_advisory_xact_lock(7263746);\n" : "", body, m->version, m->name,
             (long long)now);
    free(body);
    return script;
}

/* num[0]: the schema version; num[1]: migrations applied; num[2]: the one being applied;
 * num[3]: the one that failed once (0: none). */
static store_step_result step_migrate(store_op *op) {
    if (op->db_status != SDSIM_STORE_OK) {
        if (op->stage != 2 || op->num[3]) {
            op_set_error(op, op->db_status, op->db_error);
            return STEP_DONE;
        }
        /* Another host may have applied it meanwhile: read the version again, and fail only
         * if this migration is still missing. */
        snprintf(op->error, sizeof op->error, "migration %d: %.200s", (int)op->num[2],
                 op->db_error);
        op->num[3] = op->num[2];
    } else if (op->stage == 2) {
        op->num[1]++;
        op->num[3] = 0;
    } else if (op->stage == 1) {
        op->num[0] = op->rows.nrows ? cell_int(op->rows.cells[0]) : 0;
    }
    if (op->stage != 1 || op->db_status != SDSIM_STORE_OK) {
        op->stage = 1;
        op_query(op, SQL_SCHEMA_VERSION, 0);
        return STEP_QUERY;
    }
    op->value = op->num[0];
    op->reply_n = (int)op->num[1];
    op->has_n = true;
    for (int i = 0; i < store__nmigrations; i++) {
        const store_migration *m = &store__migrations[i];
        if (m->version <= op->num[0]) continue;
        if (m->version == op->num[3]) {
            op->status = SDSIM_STORE_INTERNAL; /* op->error says which and why */
            return STEP_DONE;
        }
        bool pg = !strcmp(op->store->be->name, "postgres");
        if (op->nstrs == SDSIM_STORE_MAX_STRS) abort();
        char *script = migration_script(m, pg, op->now);
        op->strs[op->nstrs++] = script;
        op->num[2] = m->version;
        op->stage = 2;
        op->sql = script;
        op->script = true;
        op->nparams = 0;
        return STEP_QUERY;
    }
    return STEP_DONE;
}

void sdsim_store_migrate(sdsim_store *s, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_NONE, cb, ud);
    op->handles_errors = true;
    op->sql = strcmp(s->be->name, "postgres") ? SQL_MIGRATIONS_TABLE : SQL_MIGRATIONS_TABLE_PG;
    op->script = true;
    op_submit(op, step_migrate);
}

/* ---- users -------------------------------------------------------------------------------- */

#define USER_COLS                                                                                  \
    "id, email, password_hash, first_name, last_name, role, subscription_tier, created_at, "       \
    "updated_at, last_login, is_active"

static const char *lower_email(store_op *op, const char *email) {
    const char *c = op_keep(op, email);
    for (char *p = (char *)c; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return c;
}

void sdsim_store_user_create(sdsim_store *s, const char *email, const char *password_hash,
                             const char *first_name, const char *last_name, const char *role,
                             const char *tier, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_USER, cb, ud);
    if (!email || !*email || !password_hash || !*password_hash) {
        op_reject(op, SDSIM_STORE_INVALID, "email and password hash are required");
        return;
    }
    if (!arg_ok(op, "email", email, 255) || !arg_ok(op, "password hash", password_hash, 255) ||
        !arg_ok(op, "first name", first_name, 100) || !arg_ok(op, "last name", last_name, 100) ||
        !arg_ok(op, "role", role, 20) || !arg_ok(op, "tier", tier, 20))
        return;
    op_text(op, 0, new_id(op, 0));
    op_text(op, 1, lower_email(op, email));
    op_text(op, 2, op_keep(op, password_hash));
    op_text(op, 3, op_keep(op, first_name));
    op_text(op, 4, op_keep(op, last_name));
    op_text(op, 5, op_keep(op, role ? role : "user"));
    op_text(op, 6, op_keep(op, tier ? tier : "free"));
    op_int(op, 7, op->now);
    op_query(op,
             "INSERT INTO users (id, email, password_hash, first_name, last_name, role,"
             " subscription_tier, created_at, updated_at, is_active)"
             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, TRUE) RETURNING " USER_COLS,
             8);
    op_submit(op, step_one);
}

void sdsim_store_user_by_email(sdsim_store *s, const char *email, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_USER, cb, ud);
    if (!email) {
        op_reject(op, SDSIM_STORE_NOT_FOUND, "no such user");
        return;
    }
    if (!arg_ok(op, "email", email, 255)) return;
    op_text(op, 0, lower_email(op, email));
    op_query(op, "SELECT " USER_COLS " FROM users WHERE email = $1", 1);
    op_submit(op, step_one);
}

void sdsim_store_user_by_id(sdsim_store *s, const char *id, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_USER, cb, ud);
    if (!id_ok(op, id)) return;
    op_text(op, 0, op_keep(op, id));
    op_query(op, "SELECT " USER_COLS " FROM users WHERE id = $1", 1);
    op_submit(op, step_one);
}

void sdsim_store_user_update_profile(sdsim_store *s, const char *id, const char *first_name,
                                     const char *last_name, const char *email, sdsim_store_cb cb,
                                     void *ud) {
    store_op *op = op_new(s, K_USER, cb, ud);
    if (!id_ok(op, id) || !arg_ok(op, "first name", first_name, 100) ||
        !arg_ok(op, "last name", last_name, 100) || !arg_ok(op, "email", email, 255))
        return;
    if (email && !*email) {
        op_reject(op, SDSIM_STORE_INVALID, "the email cannot be empty");
        return;
    }
    op_text(op, 0, op_keep(op, id));
    op_text(op, 1, op_keep(op, first_name));
    op_text(op, 2, op_keep(op, last_name));
    op_text(op, 3, lower_email(op, email));
    op_int(op, 4, op->now);
    op_query(op,
             "UPDATE users SET first_name = COALESCE(CAST($2 AS TEXT), first_name),"
             " last_name = COALESCE(CAST($3 AS TEXT), last_name),"
             " email = COALESCE(CAST($4 AS TEXT), email), updated_at = $5"
             " WHERE id = $1 RETURNING " USER_COLS,
             5);
    op_submit(op, step_one);
}

void sdsim_store_user_set_role(sdsim_store *s, const char *id, const char *role, const char *tier,
                               sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_USER, cb, ud);
    if (!id_ok(op, id) || !arg_ok(op, "role", role, 20) || !arg_ok(op, "tier", tier, 20)) return;
    op_text(op, 0, op_keep(op, id));
    op_text(op, 1, op_keep(op, role));
    op_text(op, 2, op_keep(op, tier));
    op_int(op, 3, op->now);
    op_query(op,
             "UPDATE users SET role = COALESCE(CAST($2 AS TEXT), role),"
             " subscription_tier = COALESCE(CAST($3 AS TEXT), subscription_tier),"
             " updated_at = $4 WHERE id = $1 RETURNING " USER_COLS,
             4);
    op_submit(op, step_one);
}

void sdsim_store_user_set_password(sdsim_store *s, const char *id, const char *password_hash,
                                   sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_USER, cb, ud);
    if (!id_ok(op, id) || !arg_ok(op, "password hash", password_hash, 255)) return;
    if (!password_hash || !*password_hash) {
        op_reject(op, SDSIM_STORE_INVALID, "the password hash is required");
        return;
    }
    op_text(op, 0, op_keep(op, id));
    op_text(op, 1, op_keep(op, password_hash));
    op_int(op, 2, op->now);
    op_query(op,
             "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1"
             " RETURNING " USER_COLS,
             3);
    op_submit(op, step_one);
}

void sdsim_store_user_set_active(sdsim_store *s, const char *id, int active, sdsim_store_cb cb,
                                 void *ud) {
    store_op *op = op_new(s, K_USER, cb, ud);
    if (!id_ok(op, id)) return;
    op_text(op, 0, op_keep(op, id));
    op_int(op, 1, active ? 1 : 0);
    op_int(op, 2, op->now);
    op_query(op,
             "UPDATE users SET is_active = $2, updated_at = $3 WHERE id = $1 RETURNING " USER_COLS,
             3);
    op_submit(op, step_one);
}

void sdsim_store_user_touch_login(sdsim_store *s, const char *id, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_USER, cb, ud);
    if (!id_ok(op, id)) return;
    op_text(op, 0, op_keep(op, id));
    op_int(op, 1, op->now);
    op_query(op, "UPDATE users SET last_login = $2 WHERE id = $1 RETURNING " USER_COLS, 2);
    op_submit(op, step_one);
}

/* ---- refresh tokens ----------------------------------------------------------------------- */

#define REFRESH_COLS                                                                               \
    "token_hash, user_id, family_id, replaced_by, created_at, expires_at, used_at, revoked_at"

static int hash_ok(store_op *op, const char *h) {
    if (hex64_valid(h)) return 1;
    op_reject(op, SDSIM_STORE_INVALID, "a token hash is 64 lower-case hex digits");
    return 0;
}

void sdsim_store_refresh_insert(sdsim_store *s, const char *token_hash, const char *user_id,
                                const char *family_id, int64_t expires_at, sdsim_store_cb cb,
                                void *ud) {
    store_op *op = op_new(s, K_REFRESH, cb, ud);
    if (!hash_ok(op, token_hash) || !id_ok(op, user_id)) return;
    if (family_id && !sdsim_uuid_valid(family_id)) {
        op_reject(op, SDSIM_STORE_INVALID, "bad family id");
        return;
    }
    op_text(op, 0, op_keep(op, token_hash));
    op_text(op, 1, op_keep(op, user_id));
    op_text(op, 2, family_id ? op_keep(op, family_id) : new_id(op, 0));
    op_int(op, 3, op->now);
    op_int(op, 4, expires_at);
    op_query(op,
             "INSERT INTO refresh_tokens (token_hash, user_id, family_id, created_at, expires_at)"
             " VALUES ($1, $2, $3, $4, $5) RETURNING " REFRESH_COLS,
             5);
    op_submit(op, step_one);
}

void sdsim_store_refresh_find(sdsim_store *s, const char *token_hash, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_REFRESH, cb, ud);
    if (!hash_ok(op, token_hash)) return;
    op_text(op, 0, op_keep(op, token_hash));
    op_query(op, "SELECT " REFRESH_COLS " FROM refresh_tokens WHERE token_hash = $1", 1);
    op_submit(op, step_one);
}

/* arg[0] old hash, arg[1] new hash; num[0] new expiry.
 * stage 0: mark the old token used, only if it is live (one statement: a compare-and-set, so
 *          two concurrent rotations of one token cannot both win);
 * stage 1: insert the new token in the same family -> the answer;
 * stage 2: the old token was not live: find out why;
 * stage 3: it had been used or revoked: revoke its family -> REUSED. */
static store_step_result step_rotate(store_op *op) {
    store_rows *r = &op->rows;
    switch (op->stage) {
    case 0:
        if (r->nrows == 1) {
            op->stage = 1;
            op_text(op, 0, op->arg[1]);
            op_text(op, 1, op_keep(op, r->cells[0]));
            op_text(op, 2, op_keep(op, r->cells[1]));
            op_int(op, 3, op->now);
            op_int(op, 4, op->num[0]);
            op_query(op,
                     "INSERT INTO refresh_tokens (token_hash, user_id, family_id, created_at,"
                     " expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING " REFRESH_COLS,
                     5);
            return STEP_QUERY;
        }
        op->stage = 2;
        op_text(op, 0, op->arg[0]);
        op_query(op,
                 "SELECT family_id, used_at, revoked_at, expires_at FROM refresh_tokens"
                 " WHERE token_hash = $1",
                 1);
        return STEP_QUERY;
    case 2:
        if (r->nrows == 0) {
            op_set_error(op, SDSIM_STORE_NOT_FOUND, "unknown refresh token");
            return STEP_DONE;
        }
        if (r->cells[1] || r->cells[2]) {
            op->stage = 3;
            op_text(op, 0, op_keep(op, r->cells[0]));
            op_int(op, 1, op->now);
            op_query(op,
                     "UPDATE refresh_tokens SET revoked_at = $2"
                     " WHERE family_id = $1 AND revoked_at IS NULL",
                     2);
            return STEP_QUERY;
        }
        op_set_error(op, SDSIM_STORE_EXPIRED, "the refresh token has expired");
        return STEP_DONE;
    case 3:
        op_set_error(op, SDSIM_STORE_REUSED,
                     "the refresh token was used before: its family is revoked");
        return STEP_DONE;
    default:
        return STEP_DONE;
    }
}

void sdsim_store_refresh_rotate(sdsim_store *s, const char *old_hash, const char *new_hash,
                                int64_t new_expires_at, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_REFRESH, cb, ud);
    if (!hash_ok(op, old_hash) || !hash_ok(op, new_hash)) return;
    op->arg[0] = op_keep(op, old_hash);
    op->arg[1] = op_keep(op, new_hash);
    op->num[0] = new_expires_at;
    op_text(op, 0, op->arg[0]);
    op_int(op, 1, op->now);
    op_text(op, 2, op->arg[1]);
    op_query(op,
             "UPDATE refresh_tokens SET used_at = $2, replaced_by = $3"
             " WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL"
             " AND expires_at > $2 RETURNING user_id, family_id",
             3);
    op_submit(op, step_rotate);
}

void sdsim_store_refresh_revoke_family(sdsim_store *s, const char *family_id, sdsim_store_cb cb,
                                       void *ud) {
    store_op *op = op_new(s, K_NONE, cb, ud);
    if (!id_ok(op, family_id)) return;
    op_text(op, 0, op_keep(op, family_id));
    op_int(op, 1, op->now);
    op_query(op,
             "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1"
             " AND revoked_at IS NULL RETURNING token_hash",
             2);
    op_submit(op, step_count);
}

void sdsim_store_refresh_revoke_user(sdsim_store *s, const char *user_id, sdsim_store_cb cb,
                                     void *ud) {
    store_op *op = op_new(s, K_NONE, cb, ud);
    if (!id_ok(op, user_id)) return;
    op_text(op, 0, op_keep(op, user_id));
    op_int(op, 1, op->now);
    op_query(op,
             "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1"
             " AND revoked_at IS NULL RETURNING token_hash",
             2);
    op_submit(op, step_count);
}

/* ---- projects ----------------------------------------------------------------------------- */

#define PROJECT_COLS_NO_DESIGN(design)                                                             \
    "id, user_id, name, description, " design ", template_id, forked_from, is_public, version, "   \
    "created_at, updated_at, last_accessed"
#define PROJECT_COLS PROJECT_COLS_NO_DESIGN("design_data")
#define PROJECT_LIST_COLS PROJECT_COLS_NO_DESIGN("NULL") ", count(*) OVER ()"

static int design_ok(store_op *op, const char *json, int required) {
    if (!json && required) {
        op_reject(op, SDSIM_STORE_INVALID, "design_data is required");
        return 0;
    }
    return arg_ok(op, "design_data", json, 16u << 20);
}

void sdsim_store_project_create(sdsim_store *s, const char *owner_id, const char *name,
                                const char *description, const char *design_json,
                                const char *template_id, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_PROJECT, cb, ud);
    if (!sdsim_uuid_valid(owner_id)) {
        op_reject(op, SDSIM_STORE_INVALID, "bad owner id");
        return;
    }
    if (!name || !*name) {
        op_reject(op, SDSIM_STORE_INVALID, "a project needs a name");
        return;
    }
    if (!arg_ok(op, "name", name, 255) || !arg_ok(op, "description", description, 65536) ||
        !design_ok(op, design_json, 1))
        return;
    if (template_id && !sdsim_uuid_valid(template_id)) {
        op_reject(op, SDSIM_STORE_INVALID, "bad template id");
        return;
    }
    op_text(op, 0, new_id(op, 0));
    op_text(op, 1, op_keep(op, owner_id));
    op_text(op, 2, op_keep(op, name));
    op_text(op, 3, op_keep(op, description));
    op_text(op, 4, op_keep(op, design_json));
    op_text(op, 5, op_keep(op, template_id));
    op_int(op, 6, op->now);
    op_int(op, 7, 0);
    op_query(op,
             "INSERT INTO projects (id, user_id, name, description, design_data, template_id,"
             " is_public, version, created_at, updated_at, last_accessed)"
             " VALUES ($1, $2, $3, $4, $5, $6, $8, 1, $7, $7, $7) RETURNING " PROJECT_COLS,
             8);
    op_submit(op, step_one);
}

/* A page past the end has no rows to carry count(*) OVER (): count separately then. */
static store_step_result step_list(store_op *op) {
    if (op->stage == 0 && op->rows.nrows == 0 && op->num[0] > 0) {
        op->stage = 1;
        op_query(op, op->arg[0], op->num[1]);
        return STEP_QUERY;
    }
    if (op->stage == 1) {
        op->total = op->rows.nrows ? cell_int(op->rows.cells[0]) : 0;
        op->has_total = true;
        store__rows_free(&op->rows);
    } else {
        op->has_total = op->rows.nrows == 0;
        op->total = 0;
    }
    return STEP_DONE;
}

static void list_paging(store_op *op, int first, int limit, int offset) {
    op_int(op, first, clamp(limit, 1, 100));
    op_int(op, first + 1, offset < 0 ? 0 : offset);
    op->num[0] = offset < 0 ? 0 : offset;
}

void sdsim_store_project_list(sdsim_store *s, const char *owner_id, int limit, int offset,
                              sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_PROJECT, cb, ud);
    if (!sdsim_uuid_valid(owner_id)) {
        op_reject(op, SDSIM_STORE_INVALID, "bad owner id");
        return;
    }
    op_text(op, 0, op_keep(op, owner_id));
    list_paging(op, 1, limit, offset);
    op->arg[0] = "SELECT count(*) FROM projects WHERE user_id = $1";
    op->num[1] = 1;
    op_query(op,
             "SELECT " PROJECT_LIST_COLS " FROM projects WHERE user_id = $1"
             " ORDER BY updated_at DESC, id LIMIT $2 OFFSET $3",
             3);
    op_submit(op, step_list);
}

void sdsim_store_project_list_public(sdsim_store *s, int limit, int offset, sdsim_store_cb cb,
                                     void *ud) {
    store_op *op = op_new(s, K_PROJECT, cb, ud);
    list_paging(op, 0, limit, offset);
    op->arg[0] = "SELECT count(*) FROM projects WHERE is_public";
    op->num[1] = 0;
    op_query(op,
             "SELECT " PROJECT_LIST_COLS " FROM projects WHERE is_public"
             " ORDER BY updated_at DESC, id LIMIT $1 OFFSET $2",
             2);
    op_submit(op, step_list);
}

void sdsim_store_project_get(sdsim_store *s, const char *id, const char *viewer_id,
                             sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_PROJECT, cb, ud);
    if (!id_ok(op, id)) return;
    op_text(op, 0, op_keep(op, id));
    op_text(op, 1, sdsim_uuid_valid(viewer_id) ? op_keep(op, viewer_id) : NULL);
    op_query(op,
             "SELECT " PROJECT_COLS " FROM projects WHERE id = $1"
             " AND (user_id = $2 OR is_public)",
             2);
    op_submit(op, step_one);
}

/* After a write that matched no row (arg[0] = id, arg[1] = owner): look at the row to say
 * why. arg[3]: the SQL reading (owner, is_public, version) of the row; projects' if NULL. */
static store_step_result explain_miss(store_op *op) {
    if (op->stage == 0) {
        if (op->rows.nrows > 0) {
            if (op->kind == K_NONE) op->value = op->rows.nrows;
            return STEP_DONE;
        }
        op->stage = 1;
        op_text(op, 0, op->arg[0]);
        op_query(op,
                 op->arg[3] ? op->arg[3]
                            : "SELECT user_id, is_public, version FROM projects WHERE id = $1",
                 1);
        return STEP_QUERY;
    }
    store_rows *r = &op->rows;
    if (r->nrows == 0) {
        op_set_error(op, SDSIM_STORE_NOT_FOUND, "not found");
    } else if (!strcmp(r->cells[0], op->arg[1])) {
        op->value = cell_int(r->cells[2]);
        op_set_error(op, SDSIM_STORE_CONFLICT, "it changed since it was loaded (stale version)");
    } else if (cell_bool(r->cells[1])) {
        op_set_error(op, SDSIM_STORE_FORBIDDEN, "only the owner may change it");
    } else {
        op_set_error(op, SDSIM_STORE_NOT_FOUND, "not found");
    }
    store__rows_free(r);
    return STEP_DONE;
}

static int owner_args(store_op *op, const char *id, const char *owner_id) {
    if (!id_ok(op, id)) return 0;
    if (!sdsim_uuid_valid(owner_id)) {
        op_reject(op, SDSIM_STORE_NOT_FOUND, "no such project");
        return 0;
    }
    op->arg[0] = op_keep(op, id);
    op->arg[1] = op_keep(op, owner_id);
    op_text(op, 0, op->arg[0]);
    op_text(op, 1, op->arg[1]);
    return 1;
}

void sdsim_store_project_update(sdsim_store *s, const char *id, const char *owner_id,
                                int64_t expected_version, const char *name, const char *description,
                                const char *design_json, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_PROJECT, cb, ud);
    if (name && !*name) {
        op_reject(op, SDSIM_STORE_INVALID, "a project needs a name");
        return;
    }
    if (!arg_ok(op, "name", name, 255) || !arg_ok(op, "description", description, 65536) ||
        !design_ok(op, design_json, 0) || !owner_args(op, id, owner_id))
        return;
    op_int(op, 2, expected_version);
    op_text(op, 3, op_keep(op, name));
    op_text(op, 4, op_keep(op, description));
    op_text(op, 5, op_keep(op, design_json));
    op_int(op, 6, op->now);
    op_query(op,
             "UPDATE projects SET name = COALESCE(CAST($4 AS TEXT), name),"
             " description = COALESCE(CAST($5 AS TEXT), description),"
             " design_data = COALESCE($6, design_data),"
             " version = version + 1, updated_at = $7"
             " WHERE id = $1 AND user_id = $2 AND version = $3 RETURNING " PROJECT_COLS,
             7);
    op_submit(op, explain_miss);
}

void sdsim_store_project_delete(sdsim_store *s, const char *id, const char *owner_id,
                                sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_NONE, cb, ud);
    if (!owner_args(op, id, owner_id)) return;
    op_query(op, "DELETE FROM projects WHERE id = $1 AND user_id = $2 RETURNING id", 2);
    op_submit(op, explain_miss);
}

void sdsim_store_project_set_public(sdsim_store *s, const char *id, const char *owner_id,
                                    int is_public, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_PROJECT, cb, ud);
    if (!owner_args(op, id, owner_id)) return;
    op_int(op, 2, is_public ? 1 : 0);
    op_int(op, 3, op->now);
    op_query(op,
             "UPDATE projects SET is_public = $3, updated_at = $4"
             " WHERE id = $1 AND user_id = $2 RETURNING " PROJECT_COLS,
             4);
    op_submit(op, explain_miss);
}

/* stage 0 read the source (with the access check); stage 1 inserted the copy. The copy goes
 * through the host rather than INSERT … SELECT, which would need dialect-specific casts. */
static store_step_result step_fork(store_op *op) {
    if (op->stage == 1) return STEP_DONE;
    store_rows *r = &op->rows;
    if (r->nrows == 0) {
        op_set_error(op, SDSIM_STORE_NOT_FOUND, "no such project");
        return STEP_DONE;
    }
    op->stage = 1;
    op_text(op, 0, new_id(op, 0));
    op_text(op, 1, op->arg[1]);
    op_text(op, 2, op->arg[2] ? op->arg[2] : op_keep(op, r->cells[0]));
    op_text(op, 3, op_keep(op, r->cells[1]));
    op_text(op, 4, op_keep(op, r->cells[2]));
    op_text(op, 5, op_keep(op, r->cells[3]));
    op_text(op, 6, op->arg[0]);
    op_int(op, 7, op->now);
    op_int(op, 8, 0);
    op_query(op,
             "INSERT INTO projects (id, user_id, name, description, design_data, template_id,"
             " forked_from, is_public, version, created_at, updated_at, last_accessed)"
             " VALUES ($1, $2, $3, $4, $5, $6, $7, $9, 1, $8, $8, $8) RETURNING " PROJECT_COLS,
             9);
    return STEP_QUERY;
}

void sdsim_store_project_fork(sdsim_store *s, const char *id, const char *new_owner_id,
                              const char *name, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_PROJECT, cb, ud);
    if (name && !*name) {
        op_reject(op, SDSIM_STORE_INVALID, "a project needs a name");
        return;
    }
    if (!arg_ok(op, "name", name, 255) || !owner_args(op, id, new_owner_id)) return;
    op->arg[2] = op_keep(op, name);
    op_query(op,
             "SELECT name, description, design_data, template_id FROM projects"
             " WHERE id = $1 AND (user_id = $2 OR is_public)",
             2);
    op_submit(op, step_fork);
}

/* ---- templates ---------------------------------------------------------------------------- */

#define TEMPLATE_COLS_D(design)                                                                    \
    "id, slug, name, description, category, " design ", created_by, is_official, usage_count, "    \
    "created_at"
#define TEMPLATE_COLS TEMPLATE_COLS_D("design_data")

/* A LIKE pattern matching q as a literal substring, lower-cased (ASCII). */
static const char *like_pattern(store_op *op, const char *q) {
    size_t n = strlen(q);
    char *p = malloc(2 * n + 3), *o = p;
    *o++ = '%';
    for (const char *c = q; *c; c++) {
        if (*c == '%' || *c == '_' || *c == '\\') *o++ = '\\';
        *o++ = (char)tolower((unsigned char)*c);
    }
    *o++ = '%';
    *o = 0;
    const char *kept = op_keep(op, p);
    free(p);
    return kept;
}

void sdsim_store_template_list(sdsim_store *s, const char *category, const char *query, int limit,
                               int offset, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_TEMPLATE, cb, ud);
    if (!arg_ok(op, "category", category, 100) || !arg_ok(op, "query", query, 200)) return;
    op_text(op, 0, op_keep(op, category));
    op_text(op, 1, query && *query ? like_pattern(op, query) : NULL);
    list_paging(op, 2, limit, offset);
#define TEMPLATE_FILTER                                                                            \
    " FROM templates WHERE (CAST($1 AS TEXT) IS NULL OR category = CAST($1 AS TEXT))"              \
    " AND (CAST($2 AS TEXT) IS NULL OR lower(name) LIKE CAST($2 AS TEXT) ESCAPE '\\'"              \
    " OR lower(COALESCE(description, '')) LIKE CAST($2 AS TEXT) ESCAPE '\\')"
    op->arg[0] = "SELECT count(*)" TEMPLATE_FILTER;
    op->num[1] = 2;
    op_query(
        op,
        "SELECT " TEMPLATE_COLS_D(
            "NULL") ", count(*) OVER ()" TEMPLATE_FILTER
                    " ORDER BY is_official DESC, usage_count DESC, name, id LIMIT $3 OFFSET $4",
        4);
    op_submit(op, step_list);
}

void sdsim_store_template_get(sdsim_store *s, const char *id, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_TEMPLATE, cb, ud);
    if (!id_ok(op, id)) return;
    op_text(op, 0, op_keep(op, id));
    op_query(op, "SELECT " TEMPLATE_COLS " FROM templates WHERE id = $1", 1);
    op_submit(op, step_one);
}

static store_step_result step_counter(store_op *op) {
    if (op->rows.nrows == 0)
        op_set_error(op, SDSIM_STORE_NOT_FOUND, "not found");
    else
        op->value = cell_int(op->rows.cells[0]);
    return STEP_DONE;
}

void sdsim_store_template_use(sdsim_store *s, const char *id, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_NONE, cb, ud);
    if (!id_ok(op, id)) return;
    op_text(op, 0, op_keep(op, id));
    op_query(op,
             "UPDATE templates SET usage_count = usage_count + 1 WHERE id = $1"
             " RETURNING usage_count",
             1);
    op_submit(op, step_counter);
}

void sdsim_store_template_put(sdsim_store *s, const char *slug, const char *name,
                              const char *description, const char *category,
                              const char *design_json, const char *created_by, int is_official,
                              sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_TEMPLATE, cb, ud);
    if (!name || !*name) {
        op_reject(op, SDSIM_STORE_INVALID, "a template needs a name");
        return;
    }
    if (!arg_ok(op, "slug", slug, 100) || !arg_ok(op, "name", name, 255) ||
        !arg_ok(op, "description", description, 65536) || !arg_ok(op, "category", category, 100) ||
        !design_ok(op, design_json, 1))
        return;
    if (created_by && !sdsim_uuid_valid(created_by)) {
        op_reject(op, SDSIM_STORE_INVALID, "bad creator id");
        return;
    }
    op_text(op, 0, new_id(op, 0));
    op_text(op, 1, op_keep(op, slug));
    op_text(op, 2, op_keep(op, name));
    op_text(op, 3, op_keep(op, description));
    op_text(op, 4, op_keep(op, category));
    op_text(op, 5, op_keep(op, design_json));
    op_text(op, 6, op_keep(op, created_by));
    op_int(op, 7, is_official ? 1 : 0);
    op_int(op, 8, op->now);
    op_query(op,
             "INSERT INTO templates (id, slug, name, description, category, design_data,"
             " created_by, is_official, usage_count, created_at)"
             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9) ON CONFLICT (slug) DO UPDATE SET"
             " name = excluded.name, description = excluded.description,"
             " category = excluded.category, design_data = excluded.design_data,"
             " is_official = excluded.is_official RETURNING " TEMPLATE_COLS,
             9);
    op_submit(op, step_one);
}

/* ---- simulation sessions ------------------------------------------------------------------ */

#define SESSION_COLS                                                                               \
    "id, user_id, project_id, status, simulation_config, resource_usage, report, started_at, "     \
    "ended_at"

void sdsim_store_session_create(sdsim_store *s, const char *user_id, const char *project_id,
                                const char *config_json, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_SESSION, cb, ud);
    if (!sdsim_uuid_valid(user_id) || (project_id && !sdsim_uuid_valid(project_id))) {
        op_reject(op, SDSIM_STORE_INVALID, "bad user or project id");
        return;
    }
    if (!arg_ok(op, "config", config_json, 16u << 20)) return;
    op_text(op, 0, new_id(op, 0));
    op_text(op, 1, op_keep(op, user_id));
    op_text(op, 2, op_keep(op, project_id));
    op_text(op, 3, op_keep(op, config_json));
    op_int(op, 4, op->now);
    op_query(op,
             "INSERT INTO simulation_sessions (id, user_id, project_id, status,"
             " simulation_config, started_at) VALUES ($1, $2, $3, 'active', $4, $5)"
             " RETURNING " SESSION_COLS,
             5);
    op_submit(op, step_one);
}

void sdsim_store_session_update(sdsim_store *s, const char *id, const char *status,
                                const char *resource_usage_json, const char *report_json,
                                sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_SESSION, cb, ud);
    if (!id_ok(op, id) || !arg_ok(op, "status", status, 20) ||
        !arg_ok(op, "resource usage", resource_usage_json, 1u << 20) ||
        !arg_ok(op, "report", report_json, 16u << 20))
        return;
    op_text(op, 0, op_keep(op, id));
    op_text(op, 1, op_keep(op, status));
    op_text(op, 2, op_keep(op, resource_usage_json));
    op_text(op, 3, op_keep(op, report_json));
    op_int(op, 4, op->now);
    op_query(op,
             "UPDATE simulation_sessions SET status = COALESCE(CAST($2 AS TEXT), status),"
             " resource_usage = COALESCE($3, resource_usage), report = COALESCE($4, report),"
             " ended_at = CASE WHEN CAST($2 AS TEXT) IN ('stopped', 'finished', 'failed')"
             " THEN COALESCE(ended_at, $5) ELSE ended_at END"
             " WHERE id = $1 RETURNING " SESSION_COLS,
             5);
    op_submit(op, step_one);
}

void sdsim_store_session_get(sdsim_store *s, const char *id, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_SESSION, cb, ud);
    if (!id_ok(op, id)) return;
    op_text(op, 0, op_keep(op, id));
    op_query(op, "SELECT " SESSION_COLS " FROM simulation_sessions WHERE id = $1", 1);
    op_submit(op, step_one);
}

/* ---- limits ------------------------------------------------------------------------------- */

void sdsim_store_limits_get(sdsim_store *s, const char *user_id, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_LIMITS, cb, ud);
    if (!id_ok(op, user_id)) return;
    op_text(op, 0, op_keep(op, user_id));
    op_query(op,
             "SELECT u.id, u.subscription_tier,"
             " COALESCE(l.max_projects, p.max_projects),"
             " COALESCE(l.max_concurrent_simulations, p.max_concurrent_simulations),"
             " COALESCE(l.max_simulation_duration, p.max_simulation_duration),"
             " COALESCE(l.max_components_per_project, p.max_components_per_project),"
             " (SELECT count(*) FROM projects WHERE user_id = u.id),"
             " (SELECT count(*) FROM simulation_sessions WHERE user_id = u.id"
             "  AND status IN ('active', 'paused'))"
             " FROM users u JOIN plan_limits p ON p.tier = u.subscription_tier"
             " LEFT JOIN user_limits l ON l.user_id = u.id WHERE u.id = $1",
             1);
    op_submit(op, step_one);
}

/* stage 0 wrote the override; stage 1 reads the effective limits back. */
static store_step_result step_limits_set(store_op *op) {
    if (op->stage == 1) {
        if (op->rows.nrows == 0) op_set_error(op, SDSIM_STORE_NOT_FOUND, "no such user");
        return STEP_DONE;
    }
    op->stage = 1;
    op_text(op, 0, op->arg[0]);
    op_query(op,
             "SELECT u.id, u.subscription_tier,"
             " COALESCE(l.max_projects, p.max_projects),"
             " COALESCE(l.max_concurrent_simulations, p.max_concurrent_simulations),"
             " COALESCE(l.max_simulation_duration, p.max_simulation_duration),"
             " COALESCE(l.max_components_per_project, p.max_components_per_project),"
             " (SELECT count(*) FROM projects WHERE user_id = u.id),"
             " (SELECT count(*) FROM simulation_sessions WHERE user_id = u.id"
             "  AND status IN ('active', 'paused'))"
             " FROM users u JOIN plan_limits p ON p.tier = u.subscription_tier"
             " LEFT JOIN user_limits l ON l.user_id = u.id WHERE u.id = $1",
             1);
    return STEP_QUERY;
}

static void limit_param(store_op *op, int i, int64_t v) {
    if (v < 0)
        op_text(op, i, NULL);
    else
        op_int(op, i, v);
}

void sdsim_store_limits_set(sdsim_store *s, const char *user_id, int64_t max_projects,
                            int64_t max_concurrent_simulations, int64_t max_duration_s,
                            int64_t max_components, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_LIMITS, cb, ud);
    if (!id_ok(op, user_id)) return;
    op->arg[0] = op_keep(op, user_id);
    op_text(op, 0, op->arg[0]);
    limit_param(op, 1, max_projects);
    limit_param(op, 2, max_concurrent_simulations);
    limit_param(op, 3, max_duration_s);
    limit_param(op, 4, max_components);
    op_int(op, 5, op->now);
    op_query(op,
             "INSERT INTO user_limits (user_id, max_projects, max_concurrent_simulations,"
             " max_simulation_duration, max_components_per_project, created_at, updated_at)"
             " VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (user_id) DO UPDATE SET"
             " max_projects = excluded.max_projects,"
             " max_concurrent_simulations = excluded.max_concurrent_simulations,"
             " max_simulation_duration = excluded.max_simulation_duration,"
             " max_components_per_project = excluded.max_components_per_project,"
             " updated_at = excluded.updated_at",
             6);
    op_submit(op, step_limits_set);
}

/* ---- audit log ---------------------------------------------------------------------------- */

#define AUDIT_COLS "id, user_id, action, target, detail, ip, created_at"

void sdsim_store_audit_append(sdsim_store *s, const char *user_id, const char *action,
                              const char *target, const char *detail_json, const char *ip,
                              sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_AUDIT, cb, ud);
    if (!action || !*action) {
        op_reject(op, SDSIM_STORE_INVALID, "an audit entry needs an action");
        return;
    }
    if (user_id && !sdsim_uuid_valid(user_id)) {
        op_reject(op, SDSIM_STORE_INVALID, "bad user id");
        return;
    }
    if (!arg_ok(op, "action", action, 64) || !arg_ok(op, "target", target, 255) ||
        !arg_ok(op, "detail", detail_json, 1u << 20) || !arg_ok(op, "ip", ip, 64))
        return;
    op_text(op, 0, op_keep(op, user_id));
    op_text(op, 1, op_keep(op, action));
    op_text(op, 2, op_keep(op, target));
    op_text(op, 3, op_keep(op, detail_json));
    op_text(op, 4, op_keep(op, ip));
    op_int(op, 5, op->now);
    op_query(op,
             "INSERT INTO audit_log (user_id, action, target, detail, ip, created_at)"
             " VALUES ($1, $2, $3, $4, $5, $6) RETURNING " AUDIT_COLS,
             6);
    op_submit(op, step_one);
}

void sdsim_store_audit_list(sdsim_store *s, const char *user_id, int64_t before_id, int limit,
                            sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_AUDIT, cb, ud);
    if (user_id && !sdsim_uuid_valid(user_id)) {
        op_reject(op, SDSIM_STORE_INVALID, "bad user id");
        return;
    }
    op_int(op, 0, before_id > 0 ? before_id : INT64_MAX);
    op_int(op, 1, clamp(limit, 1, 500));
    /* Two texts rather than "$3 IS NULL OR user_id = $3": PostgreSQL would need a cast to
     * UUID there, which SQLite does not have. */
    if (user_id) {
        op_text(op, 2, op_keep(op, user_id));
        op_query(op,
                 "SELECT " AUDIT_COLS " FROM audit_log WHERE id < $1 AND user_id = $3"
                 " ORDER BY id DESC LIMIT $2",
                 3);
    } else {
        op_query(op, "SELECT " AUDIT_COLS " FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2",
                 2);
    }
    op_submit(op, step_rows);
}

/* ---- more lists --------------------------------------------------------------------------- */

void sdsim_store_user_list(sdsim_store *s, int limit, int offset, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_USER, cb, ud);
    list_paging(op, 0, limit, offset);
    op_query(op, "SELECT " USER_COLS " FROM users ORDER BY created_at DESC, id LIMIT $1 OFFSET $2",
             2);
    op_submit(op, step_rows);
}

void sdsim_store_session_list(sdsim_store *s, const char *user_id, int active_only, int limit,
                              int offset, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_SESSION, cb, ud);
    if (!sdsim_uuid_valid(user_id)) {
        op_reject(op, SDSIM_STORE_INVALID, "bad user id");
        return;
    }
    op_text(op, 0, op_keep(op, user_id));
    list_paging(op, 1, limit, offset);
    op_int(op, 3, active_only ? 1 : 0);
    op_query(op,
             "SELECT " SESSION_COLS " FROM simulation_sessions WHERE user_id = $1"
             " AND ($4 = 0 OR status IN ('active', 'paused'))"
             " ORDER BY started_at DESC, id LIMIT $2 OFFSET $3",
             4);
    op_submit(op, step_rows);
}

/* ---- plugins ------------------------------------------------------------------------------ */

#define PLUGIN_COLS_S(source)                                                                      \
    "id, owner_id, name, " source ", is_public, version, created_at, updated_at"
#define PLUGIN_COLS PLUGIN_COLS_S("source")
static const char SQL_PLUGIN_OWNER[] =
    "SELECT owner_id, is_public, version FROM plugins WHERE id = $1";

void sdsim_store_plugin_put(sdsim_store *s, const char *owner_id, const char *name,
                            const char *source, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_PLUGIN, cb, ud);
    if (!sdsim_uuid_valid(owner_id)) {
        op_reject(op, SDSIM_STORE_INVALID, "bad owner id");
        return;
    }
    if (!name || !*name || !source) {
        op_reject(op, SDSIM_STORE_INVALID, "a plugin needs a name and a source");
        return;
    }
    if (!arg_ok(op, "name", name, 100) || !arg_ok(op, "source", source, 4u << 20)) return;
    op_text(op, 0, new_id(op, 0));
    op_text(op, 1, op_keep(op, owner_id));
    op_text(op, 2, op_keep(op, name));
    op_text(op, 3, op_keep(op, source));
    op_int(op, 4, op->now);
    op_int(op, 5, 0);
    op_query(op,
             "INSERT INTO plugins (id, owner_id, name, source, is_public, version, created_at,"
             " updated_at) VALUES ($1, $2, $3, $4, $6, 1, $5, $5)"
             " ON CONFLICT (owner_id, name) DO UPDATE SET source = excluded.source,"
             " version = plugins.version + 1, updated_at = excluded.updated_at"
             " RETURNING " PLUGIN_COLS,
             6);
    op_submit(op, step_one);
}

void sdsim_store_plugin_get(sdsim_store *s, const char *id, const char *viewer_id,
                            sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_PLUGIN, cb, ud);
    if (!id_ok(op, id)) return;
    op_text(op, 0, op_keep(op, id));
    op_text(op, 1, sdsim_uuid_valid(viewer_id) ? op_keep(op, viewer_id) : NULL);
    op_query(op,
             "SELECT " PLUGIN_COLS " FROM plugins WHERE id = $1 AND (owner_id = $2 OR is_public)",
             2);
    op_submit(op, step_one);
}

void sdsim_store_plugin_list(sdsim_store *s, const char *owner_id, int limit, int offset,
                             sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_PLUGIN, cb, ud);
    if (!sdsim_uuid_valid(owner_id)) {
        op_reject(op, SDSIM_STORE_INVALID, "bad owner id");
        return;
    }
    op_text(op, 0, op_keep(op, owner_id));
    list_paging(op, 1, limit, offset);
    op->arg[0] = "SELECT count(*) FROM plugins WHERE owner_id = $1";
    op->num[1] = 1;
    op_query(
        op,
        "SELECT " PLUGIN_COLS_S("NULL") ", count(*) OVER () FROM plugins"
                                        " WHERE owner_id = $1 ORDER BY name, id LIMIT $2 OFFSET $3",
        3);
    op_submit(op, step_list);
}

void sdsim_store_plugin_delete(sdsim_store *s, const char *id, const char *owner_id,
                               sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_NONE, cb, ud);
    if (!owner_args(op, id, owner_id)) return;
    op->arg[3] = SQL_PLUGIN_OWNER;
    op_query(op, "DELETE FROM plugins WHERE id = $1 AND owner_id = $2 RETURNING id", 2);
    op_submit(op, explain_miss);
}

void sdsim_store_plugin_set_public(sdsim_store *s, const char *id, const char *owner_id,
                                   int is_public, sdsim_store_cb cb, void *ud) {
    store_op *op = op_new(s, K_PLUGIN, cb, ud);
    if (!owner_args(op, id, owner_id)) return;
    op->arg[3] = SQL_PLUGIN_OWNER;
    op_int(op, 2, is_public ? 1 : 0);
    op_int(op, 3, op->now);
    op_query(op,
             "UPDATE plugins SET is_public = $3, updated_at = $4"
             " WHERE id = $1 AND owner_id = $2 RETURNING " PLUGIN_COLS,
             4);
    op_submit(op, explain_miss);
}
