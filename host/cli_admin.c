/* `sdsim admin [--data-dir DIR] [--database URL] set-role EMAIL ROLE | list-users`: account
 * administration without the server, on the same store `sdsim serve` uses. It is how a fresh
 * install gets its first admin (the HTTP admin routes need one). The store is opened and
 * migrated as `sdsim migrate` does; SQLite in WAL mode lets this run beside a live server
 * (its busy timeout waits out the server's writes), and the server reads the role from the
 * database on each admin request, so no restart is needed. Role changes are written to the
 * audit log with no user id and `"actor": "cli"` in the detail. */
/* open_memstream: POSIX 2008 (the build defines _GNU_SOURCE) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "cli.h"
#include "json_writer.h"
#include "store.h"

#define USERS_PAGE 100 /* the store's largest page */

static void usage(FILE *out) {
    fputs("usage: sdsim admin [--data-dir DIR] [--database URL] COMMAND\n"
          "  set-role EMAIL user|premium|admin   give the account that role (audited, actor "
          "\"cli\")\n"
          "  list-users                          every account: id, email, role, tier, "
          "active, created\n"
          "  --data-dir DIR    SQLite: the database is DIR/sdsim.db (default ./data)\n"
          "  --database URL    postgres://user@host:port/db, or sqlite:PATH\n"
          "                    (default: $SDSIM_DATABASE_URL, else SQLite in the data dir)\n"
          "exit status: 0 done, 1 the store refused (unknown email, database error), 2 usage\n",
          out);
}

/* ---- waiting for one store call -------------------------------------------------------- */

/* What a command needs from a reply, copied in the callback (rows live only during it). */
typedef struct answer {
    int done, status;
    char error[256];
    int n;
    int64_t value;
    char id[37], email[256], role[21];
    int is_active;
} answer;

static void keep(char *dst, size_t len, const char *src) {
    snprintf(dst, len, "%s", src ? src : "");
}

static void on_reply(void *ud, const sdsim_store_reply *r) {
    answer *a = ud;
    a->done = 1;
    a->status = r->status;
    a->n = r->n;
    a->value = r->value;
    keep(a->error, sizeof a->error, r->error ? r->error : sdsim_store_status_name(r->status));
    if (r->users && r->n > 0) {
        keep(a->id, sizeof a->id, r->users[0].id);
        keep(a->email, sizeof a->email, r->users[0].email);
        keep(a->role, sizeof a->role, r->users[0].role);
        a->is_active = r->users[0].is_active;
    }
}

static void wait_answer(uv_loop_t *loop, answer *a) {
    while (!a->done)
        uv_run(loop, UV_RUN_ONCE);
}

/* ---- commands ----------------------------------------------------------------------------- */

static int role_valid(const char *role) {
    return !strcmp(role, "user") || !strcmp(role, "premium") || !strcmp(role, "admin");
}

/* {"actor":"cli","email":...,"from":...,"to":...} as a malloc'd string (NULL on failure). */
static char *role_detail(const char *email, const char *from, const char *to) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    sdsim_json j;
    sdsim_json_init(&j, f, 0);
    sdsim_json_object_begin(&j);
    sdsim_json_kv_string(&j, "actor", "cli");
    sdsim_json_kv_string(&j, "email", email);
    sdsim_json_kv_string(&j, "from", from);
    sdsim_json_kv_string(&j, "to", to);
    sdsim_json_object_end(&j);
    fclose(f);
    return buf;
}

static int set_role(uv_loop_t *loop, sdsim_store *s, const char *email, const char *role) {
    answer u = {0};
    sdsim_store_user_by_email(s, email, on_reply, &u);
    wait_answer(loop, &u);
    if (u.status == SDSIM_STORE_NOT_FOUND) {
        fprintf(stderr, "sdsim admin: no account with the email '%s' (register it first)\n", email);
        return SDSIM_EXIT_FAILED;
    }
    if (u.status != SDSIM_STORE_OK) {
        fprintf(stderr, "sdsim admin: cannot read the account: %s\n", u.error);
        return SDSIM_EXIT_FAILED;
    }
    const char *inactive = u.is_active ? "" : " (note: the account is deactivated)";
    if (!strcmp(u.role, role)) {
        printf("%s is already %s%s\n", u.email, role, inactive);
        return SDSIM_EXIT_OK;
    }
    answer w = {0};
    sdsim_store_user_set_role(s, u.id, role, NULL, on_reply, &w);
    wait_answer(loop, &w);
    if (w.status != SDSIM_STORE_OK) {
        fprintf(stderr, "sdsim admin: cannot change the role: %s\n", w.error);
        return SDSIM_EXIT_FAILED;
    }
    char *detail = role_detail(u.email, u.role, role);
    answer a = {0};
    sdsim_store_audit_append(s, NULL, "admin.set_role", u.id, detail, NULL, on_reply, &a);
    wait_answer(loop, &a);
    free(detail);
    printf("%s: %s -> %s%s\n", u.email, u.role, role, inactive);
    if (a.status != SDSIM_STORE_OK) {
        fprintf(stderr, "sdsim admin: the role changed but the audit log refused the entry: %s\n",
                a.error);
        return SDSIM_EXIT_FAILED;
    }
    return SDSIM_EXIT_OK;
}

static void format_time(int64_t ms, char *out, size_t len) {
    if (ms <= 0) {
        snprintf(out, len, "-");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

typedef struct page {
    int done, status, n;
    char error[256];
} page;

static void on_users(void *ud, const sdsim_store_reply *r) {
    page *p = ud;
    p->done = 1;
    p->status = r->status;
    p->n = r->n;
    keep(p->error, sizeof p->error, r->error ? r->error : sdsim_store_status_name(r->status));
    for (int i = 0; r->users && i < r->n; i++) {
        const sdsim_user *u = &r->users[i];
        char created[32], login[32];
        format_time(u->created_at, created, sizeof created);
        format_time(u->last_login, login, sizeof login);
        printf("%-36s  %-32s  %-7s  %-10s  %-6s  %-20s  %s\n", u->id, u->email, u->role,
               u->subscription_tier, u->is_active ? "yes" : "no", created, login);
    }
}

static int list_users(uv_loop_t *loop, sdsim_store *s) {
    printf("%-36s  %-32s  %-7s  %-10s  %-6s  %-20s  %s\n", "ID", "EMAIL", "ROLE", "TIER", "ACTIVE",
           "CREATED", "LAST LOGIN");
    for (int offset = 0;; offset += USERS_PAGE) {
        page p = {0};
        sdsim_store_user_list(s, USERS_PAGE, offset, on_users, &p);
        while (!p.done)
            uv_run(loop, UV_RUN_ONCE);
        if (p.status != SDSIM_STORE_OK) {
            fprintf(stderr, "sdsim admin: cannot list the accounts: %s\n", p.error);
            return SDSIM_EXIT_FAILED;
        }
        if (p.n < USERS_PAGE) return SDSIM_EXIT_OK;
    }
}

/* ---- the command ------------------------------------------------------------------------ */

typedef struct args {
    sdsim_store_config cfg;
    const char *pos[3]; /* the command and its arguments */
    int npos;
} args;

/* 0, 1 for --help, or -1 after printing the problem. */
static int parse(int argc, char **argv, args *a) {
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
        if (!strcmp(argv[i], "--data-dir") && i + 1 < argc) {
            a->cfg.data_dir = argv[++i];
        } else if (!strcmp(argv[i], "--database") && i + 1 < argc) {
            a->cfg.database_url = argv[++i];
        } else if (argv[i][0] == '-' || a->npos == 3) {
            fprintf(stderr, "sdsim admin: unexpected '%s'\n", argv[i]);
            return -1;
        } else {
            a->pos[a->npos++] = argv[i];
        }
    }
    if (a->npos == 0) {
        fprintf(stderr, "sdsim admin: which command? (set-role, list-users)\n");
        return -1;
    }
    const char *cmd = a->pos[0];
    if (!strcmp(cmd, "set-role")) {
        if (a->npos != 3) {
            fprintf(stderr, "sdsim admin: set-role needs EMAIL and ROLE\n");
            return -1;
        }
        if (!role_valid(a->pos[2])) {
            fprintf(stderr, "sdsim admin: unknown role '%s' (user, premium or admin)\n", a->pos[2]);
            return -1;
        }
        return 0;
    }
    if (!strcmp(cmd, "list-users")) {
        if (a->npos == 1) return 0;
        fprintf(stderr, "sdsim admin: list-users takes no argument\n");
        return -1;
    }
    fprintf(stderr, "sdsim admin: unknown command '%s' (set-role, list-users)\n", cmd);
    return -1;
}

static void on_closed(void *ud) {
    *(int *)ud = 1;
}

int sdsim_cli_admin(int argc, char **argv) {
    args a = {.cfg = {.data_dir = "./data",
                      .database_url = getenv("SDSIM_DATABASE_URL"),
                      .pool_size = 1}};
    int p = parse(argc, argv, &a);
    if (p != 0) {
        usage(p > 0 ? stdout : stderr);
        return p > 0 ? SDSIM_EXIT_OK : SDSIM_EXIT_USAGE;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    char err[256];
    sdsim_store *s = sdsim_store_open(&loop, &a.cfg, err, sizeof err);
    if (!s) {
        fprintf(stderr, "sdsim admin: %s\n", err);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        return SDSIM_EXIT_USAGE;
    }
    /* A fresh install has no schema yet: migrate as the server would at start. */
    answer m = {0};
    sdsim_store_migrate(s, on_reply, &m);
    wait_answer(&loop, &m);
    int rc;
    if (m.status != SDSIM_STORE_OK) {
        fprintf(stderr, "sdsim admin: the store's migrations failed: %s\n", m.error);
        rc = SDSIM_EXIT_FAILED;
    } else if (!strcmp(a.pos[0], "set-role")) {
        rc = set_role(&loop, s, a.pos[1], a.pos[2]);
    } else {
        rc = list_users(&loop, s);
    }
    int closed = 0;
    sdsim_store_close(s, on_closed, &closed);
    while (!closed)
        uv_run(&loop, UV_RUN_ONCE);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return rc;
}
