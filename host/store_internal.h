/* Shared between the store's front (host/store.c: operations as small step machines) and its
 * backends (host/store_sqlite.c, host/store_pg.c), which run the steps' queries.
 *
 * An operation is a sequence of parameterised statements. Its step function looks at the
 * previous statement's rows and either sets the next statement or finishes. The SQLite
 * backend runs the steps one after the other on its thread; the PostgreSQL backend runs them
 * on one pooled connection, each statement sent when the previous one has answered. Steps
 * touch nothing but their own op, so they are safe on either thread. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "store.h"

#define SDSIM_STORE_MAX_PARAMS 12
#define SDSIM_STORE_MAX_STRS 12

typedef enum { P_NULL, P_TEXT, P_INT } store_param_kind;

typedef struct store_param {
    store_param_kind kind;
    const char *text; /* points into the op's own copies */
    int64_t i;
    char buf[24]; /* the decimal text of i, for PostgreSQL */
} store_param;

/* What a statement returned: every cell as text (NULL for SQL NULL), row-major. */
typedef struct store_rows {
    int nrows, ncols;
    char **cells;
    int64_t affected;
} store_rows;

typedef enum {
    K_NONE,
    K_USER,
    K_REFRESH,
    K_PROJECT,
    K_TEMPLATE,
    K_SESSION,
    K_LIMITS,
    K_AUDIT,
    K_PLUGIN,
} store_kind;

typedef struct store_op store_op;
typedef enum { STEP_QUERY, STEP_DONE } store_step_result;

struct store_op {
    sdsim_store *store;
    store_op *next; /* queue link */
    store_step_result (*step)(store_op *op);
    int stage;

    /* The statement to run next: SQL with $1..$n placeholders (or a script: several
     * statements, no parameters, run in one transaction). */
    const char *sql;
    bool script;
    int nparams;
    store_param params[SDSIM_STORE_MAX_PARAMS];

    /* What the last statement returned; on a database error db_status != OK and the op
     * finishes with it without calling step again. */
    store_rows rows;
    int db_status;
    char db_error[256];
    bool handles_errors; /* the step is called after a database error too */

    /* The answer. */
    int status;
    char error[256];
    store_kind kind;
    int64_t total, value;
    bool has_total;
    int reply_n; /* reply.n for K_NONE ops when has_n */
    bool has_n;

    /* Arguments copied from the caller, and scratch for the steps. */
    char *strs[SDSIM_STORE_MAX_STRS];
    int nstrs;
    const char *arg[SDSIM_STORE_MAX_STRS];
    int64_t num[6];
    char scratch[2][40];
    int64_t now;

    sdsim_store_cb cb;
    void *ud;
};

typedef struct store_backend {
    const char *name;
    /* Queues op; the backend runs its steps and calls store__finish(op) on the loop thread. */
    void (*submit)(sdsim_store *s, store_op *op);
    /* Releases everything once no op is in flight, then calls store__closed(s). */
    void (*close)(sdsim_store *s);
} store_backend;

struct sdsim_store {
    uv_loop_t *loop;
    const store_backend *be;
    void *impl;
    int64_t (*clock)(void *ud);
    void *clock_ud;
    int inflight;
    bool closing;
    void (*closed_cb)(void *ud);
    void *closed_ud;
};

/* Called by backends. */
void store__finish(store_op *op);   /* loop thread: decode, call back, free */
void store__closed(sdsim_store *s); /* loop thread: the backend has let go */
void store__rows_free(store_rows *rows);
/* Runs a step after a statement answered: returns STEP_DONE when the op is over. */
store_step_result store__advance(store_op *op);
/* Fills op->db_status/db_error. */
void store__db_error(store_op *op, int status, const char *msg);
/* Expands a migration's {UUID}, {JSON:col}, {BOOL}, {SERIAL} for a dialect; malloc'd. */
char *store__expand_sql(const char *sql, bool postgres);

/* Backends. */
int store__sqlite_open(sdsim_store *s, const char *path, char *err, size_t errlen);
int store__pg_open(sdsim_store *s, const char *url, int pool_size, char *err, size_t errlen);

/* Migrations (host/store_migrations.c). */
typedef struct store_migration {
    int version;
    const char *name;
    const char *sql;
} store_migration;
extern const store_migration store__migrations[];
extern const int store__nmigrations;
