/* `sdsim migrate [--data-dir DIR] [--database URL]`: brings the database's schema up to date
 * (host/store_migrations.c) and says where it stands. The server migrates at start too; this
 * is for doing it ahead (deploys, several hosts on one PostgreSQL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include "cli.h"
#include "store.h"

typedef struct migrate_state {
    int done, status, applied;
    int64_t version;
    char error[256];
} migrate_state;

static void usage(FILE *out) {
    fputs("usage: sdsim migrate [--data-dir DIR] [--database URL]\n"
          "  --data-dir DIR    SQLite: the database is DIR/sdsim.db (default ./data)\n"
          "  --database URL    postgres://user@host:port/db, or sqlite:PATH\n"
          "                    (default: $SDSIM_DATABASE_URL, else SQLite in the data dir)\n",
          out);
}

static void on_migrated(void *ud, const sdsim_store_reply *r) {
    migrate_state *m = ud;
    m->done = 1;
    m->status = r->status;
    m->applied = r->n;
    m->version = r->value;
    snprintf(m->error, sizeof m->error, "%s", r->error ? r->error : "");
}

static void on_closed(void *ud) {
    *(int *)ud = 1;
}

int sdsim_cli_migrate(int argc, char **argv) {
    sdsim_store_config cfg = {
        .data_dir = "./data", .database_url = getenv("SDSIM_DATABASE_URL"), .pool_size = 1};
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return SDSIM_EXIT_OK;
        } else if (!strcmp(argv[i], "--data-dir") && i + 1 < argc) {
            cfg.data_dir = argv[++i];
        } else if (!strcmp(argv[i], "--database") && i + 1 < argc) {
            cfg.database_url = argv[++i];
        } else {
            fprintf(stderr, "sdsim migrate: unexpected '%s'\n", argv[i]);
            usage(stderr);
            return SDSIM_EXIT_USAGE;
        }
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    char err[256];
    sdsim_store *s = sdsim_store_open(&loop, &cfg, err, sizeof err);
    if (!s) {
        fprintf(stderr, "sdsim migrate: %s\n", err);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        return SDSIM_EXIT_USAGE;
    }
    migrate_state m = {0};
    sdsim_store_migrate(s, on_migrated, &m);
    while (!m.done)
        uv_run(&loop, UV_RUN_ONCE);
    const char *backend = sdsim_store_backend(s);
    int closed = 0;
    sdsim_store_close(s, on_closed, &closed);
    while (!closed)
        uv_run(&loop, UV_RUN_ONCE);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (m.status != SDSIM_STORE_OK) {
        fprintf(stderr, "sdsim migrate: %s\n", m.error);
        return SDSIM_EXIT_FAILED;
    }
    printf("%s: schema version %lld (%d migration%s applied)\n", backend, (long long)m.version,
           m.applied, m.applied == 1 ? "" : "s");
    return SDSIM_EXIT_OK;
}
