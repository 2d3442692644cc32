/* The store contract: one suite, run against SQLite (a temp dir) and against a real PostgreSQL
 * (started by tests/services/postgres.sh; its URL in $SDSIM_SERVICES_DIR/pg.url). Every
 * contract call is exercised; each call's answer must come from the loop, never inside the
 * call. Latencies of a few calls are printed (they are measurements, not checks). */
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>
#include "store.h"
#include "test.h"

/* ---- a synchronous view of the async store ------------------------------------------------ */

typedef struct row {
    char *f[8];
    int64_t i[8];
} row;

typedef struct res {
    int done, status, n;
    int64_t total, value;
    char error[256];
    row rows[128];
} res;

static uv_loop_t *loop;
static sdsim_store *S;
static res R;
static int64_t clock_skew_ms; /* added to the real clock: expiry tests move time forward */

static char *dup_or_null(const char *s) {
    return s ? strdup(s) : NULL;
}

static void res_clear(res *r) {
    for (int i = 0; i < r->n && i < 128; i++)
        for (int j = 0; j < 8; j++)
            free(r->rows[i].f[j]);
    memset(r, 0, sizeof *r);
}

static void copy_row(row *o, const sdsim_store_reply *p, int k) {
#define F(j, v) o->f[j] = dup_or_null(v)
    if (p->users) {
        const sdsim_user *u = &p->users[k];
        F(0, u->id), F(1, u->email), F(2, u->password_hash), F(3, u->first_name);
        F(4, u->last_name), F(5, u->role), F(6, u->subscription_tier);
        o->i[0] = u->created_at, o->i[1] = u->updated_at, o->i[2] = u->last_login;
        o->i[3] = u->is_active;
    } else if (p->projects) {
        const sdsim_project *x = &p->projects[k];
        F(0, x->id), F(1, x->user_id), F(2, x->name), F(3, x->description);
        F(4, x->design_data), F(5, x->template_id), F(6, x->forked_from);
        o->i[0] = x->is_public, o->i[1] = x->version, o->i[2] = x->updated_at;
    } else if (p->templates) {
        const sdsim_template *x = &p->templates[k];
        F(0, x->id), F(1, x->slug), F(2, x->name), F(3, x->description), F(4, x->category);
        F(5, x->design_data), F(6, x->created_by);
        o->i[0] = x->is_official, o->i[1] = x->usage_count;
    } else if (p->refresh) {
        const sdsim_refresh *x = &p->refresh[k];
        F(0, x->token_hash), F(1, x->user_id), F(2, x->family_id), F(3, x->replaced_by);
        o->i[0] = x->created_at, o->i[1] = x->expires_at, o->i[2] = x->used_at;
        o->i[3] = x->revoked_at;
    } else if (p->sessions) {
        const sdsim_sim_session *x = &p->sessions[k];
        F(0, x->id), F(1, x->user_id), F(2, x->project_id), F(3, x->status);
        F(4, x->simulation_config), F(5, x->resource_usage), F(6, x->report);
        o->i[0] = x->started_at, o->i[1] = x->ended_at;
    } else if (p->limits) {
        const sdsim_limits *x = &p->limits[k];
        F(0, x->user_id), F(1, x->tier);
        o->i[0] = x->max_projects, o->i[1] = x->max_concurrent_simulations;
        o->i[2] = x->max_simulation_duration_s, o->i[3] = x->max_components_per_project;
        o->i[4] = x->projects_used, o->i[5] = x->simulations_active;
    } else if (p->plugins) {
        const sdsim_plugin *x = &p->plugins[k];
        F(0, x->id), F(1, x->owner_id), F(2, x->name), F(3, x->source);
        o->i[0] = x->is_public, o->i[1] = x->version;
    } else if (p->audit) {
        const sdsim_audit *x = &p->audit[k];
        F(0, x->user_id), F(1, x->action), F(2, x->target), F(3, x->detail), F(4, x->ip);
        o->i[0] = x->id, o->i[1] = x->created_at;
    }
#undef F
}

static void on_reply(void *ud, const sdsim_store_reply *p) {
    res *r = ud;
    r->done = 1;
    r->status = p->status;
    r->n = p->n;
    r->total = p->total;
    r->value = p->value;
    snprintf(r->error, sizeof r->error, "%s", p->error ? p->error : "");
    for (int k = 0; k < p->n && k < 128; k++)
        copy_row(&r->rows[k], p, k);
}

static void wait_for(res *r) {
    while (!r->done)
        uv_run(loop, UV_RUN_ONCE);
}

static int sync_violations;
/* Calls fn(S, args..., on_reply, &R) and waits. The reply must not come inside the call. */
#define CALL(fn, ...)                                                                              \
    do {                                                                                           \
        res_clear(&R);                                                                             \
        fn(S, __VA_ARGS__, on_reply, &R);                                                          \
        sync_violations += R.done;                                                                 \
        wait_for(&R);                                                                              \
    } while (0)
#define CALL0(fn)                                                                                  \
    do {                                                                                           \
        res_clear(&R);                                                                             \
        fn(S, on_reply, &R);                                                                       \
        sync_violations += R.done;                                                                 \
        wait_for(&R);                                                                              \
    } while (0)

#define STATUS(expected)                                                                           \
    do {                                                                                           \
        if (R.status != (expected))                                                                \
            fprintf(stderr, "  status %s (%s), expected %s\n", sdsim_store_status_name(R.status),  \
                    R.error, sdsim_store_status_name(expected));                                   \
        CHECK(R.status == (expected));                                                             \
    } while (0)

static int streq(const char *a, const char *b) {
    return a && b && !strcmp(a, b);
}

/* JSON compared without whitespace outside strings (PostgreSQL returns JSONB's normal form,
 * which adds spaces; the test documents use one key per object so order cannot differ). */
static void squeeze(const char *in, char *out, size_t cap) {
    int str = 0, esc = 0;
    size_t o = 0;
    for (; *in && o + 1 < cap; in++) {
        if (str) {
            if (esc)
                esc = 0;
            else if (*in == '\\')
                esc = 1;
            else if (*in == '"')
                str = 0;
        } else if (*in == '"') {
            str = 1;
        } else if (*in == ' ' || *in == '\n' || *in == '\t') {
            continue;
        }
        out[o++] = *in;
    }
    out[o] = 0;
}

static int json_eq(const char *a, const char *b) {
    if (!a || !b) return 0;
    char x[4096], y[4096];
    squeeze(a, x, sizeof x);
    squeeze(b, y, sizeof y);
    return !strcmp(x, y);
}

static char *new_user(const char *tag, char id[37]) {
    static int counter;
    static char email[128];
    snprintf(email, sizeof email, "%s-%d-%d@Example.COM", tag, (int)getpid(), ++counter);
    CALL(sdsim_store_user_create, email, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "Ada",
         "Lovelace", NULL, NULL);
    STATUS(SDSIM_STORE_OK);
    snprintf(id, 37, "%s", R.n ? R.rows[0].f[0] : "");
    return email;
}

static const char *DESIGN = "{\"version\": 1}";

static double now_s(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* ---- the suite ---------------------------------------------------------------------------- */

static void migrations(void) {
    CALL0(sdsim_store_migrate);
    STATUS(SDSIM_STORE_OK);
    CHECK(R.value == sdsim_store_schema_version());
    CALL0(sdsim_store_migrate); /* idempotent */
    STATUS(SDSIM_STORE_OK);
    CHECK(R.n == 0);
    CHECK(R.value == sdsim_store_schema_version());
}

static void users(void) {
    char id[37], email[128];
    snprintf(email, sizeof email, "%s", new_user("users", id));
    CHECK(sdsim_uuid_valid(id));
    CHECK(streq(R.rows[0].f[5], "user") && streq(R.rows[0].f[6], "free"));
    CHECK(R.rows[0].i[3] == 1);
    char lower[128];
    snprintf(lower, sizeof lower, "%s", email);
    for (char *p = lower; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    CHECK(streq(R.rows[0].f[1], lower));
    /* The same address in other case is taken. */
    CALL(sdsim_store_user_create, lower, "h", NULL, NULL, NULL, NULL);
    STATUS(SDSIM_STORE_EXISTS);
    CALL(sdsim_store_user_by_email, email);
    STATUS(SDSIM_STORE_OK);
    CHECK(R.n == 1 && streq(R.rows[0].f[0], id));
    CALL(sdsim_store_user_by_id, id);
    CHECK(R.n == 1 && streq(R.rows[0].f[3], "Ada"));
    CALL(sdsim_store_user_by_id, "not-a-uuid");
    STATUS(SDSIM_STORE_NOT_FOUND);
    CALL(sdsim_store_user_by_email, "nobody@example.com");
    STATUS(SDSIM_STORE_NOT_FOUND);
    CALL(sdsim_store_user_update_profile, id, "<b>Ada</b>'; --", NULL, NULL);
    STATUS(SDSIM_STORE_OK);
    CHECK(streq(R.rows[0].f[3], "<b>Ada</b>'; --") && streq(R.rows[0].f[4], "Lovelace"));
    CALL(sdsim_store_user_set_role, id, "premium", "pro");
    CHECK(streq(R.rows[0].f[5], "premium") && streq(R.rows[0].f[6], "pro"));
    CALL(sdsim_store_user_set_role, id, "root", NULL);
    STATUS(SDSIM_STORE_INVALID);
    CALL(sdsim_store_user_set_password, id, "$argon2id$new");
    CHECK(streq(R.rows[0].f[2], "$argon2id$new"));
    CALL(sdsim_store_user_set_active, id, 0);
    CHECK(R.n == 1 && R.rows[0].i[3] == 0);
    CALL(sdsim_store_user_touch_login, id);
    CHECK(R.n == 1 && R.rows[0].i[2] > 0);
    CALL(sdsim_store_user_update_profile, id, "\xff\xfe", NULL, NULL);
    STATUS(SDSIM_STORE_INVALID);
    char longname[300];
    memset(longname, 'x', 299);
    longname[299] = 0;
    CALL(sdsim_store_user_update_profile, id, longname, NULL, NULL);
    STATUS(SDSIM_STORE_INVALID);
    /* Another user's email is taken on update too. */
    char id2[37];
    new_user("users2", id2);
    CALL(sdsim_store_user_update_profile, id2, NULL, NULL, email);
    STATUS(SDSIM_STORE_EXISTS);
}

static void verbatim_text(void) {
    char id[37];
    new_user("verbatim", id);
    const char *name = "Robert'); DROP TABLE projects;-- <script>alert(\"x\")</script> %_\\ $1 ?1";
    const char *desc = "ünïcødé 😀 \"quoted\" 'single' `tick` \\x00 &amp; </textarea>";
    const char *design = "{\"name\": \"a'b\\\"c<d>\"}";
    CALL(sdsim_store_project_create, id, name, desc, design, NULL);
    STATUS(SDSIM_STORE_OK);
    CHECK(streq(R.rows[0].f[2], name) && streq(R.rows[0].f[3], desc));
    char pid[37];
    snprintf(pid, sizeof pid, "%s", R.rows[0].f[0]);
    CALL(sdsim_store_project_get, pid, id);
    CHECK(streq(R.rows[0].f[2], name) && streq(R.rows[0].f[3], desc));
    CHECK(json_eq(R.rows[0].f[4], design));
    CALL(sdsim_store_project_list, id, 10, 0);
    CHECK(R.n == 1 && streq(R.rows[0].f[2], name));
    CALL(sdsim_store_project_create, id, "bad json", NULL, "{not json", NULL);
    STATUS(SDSIM_STORE_INVALID);
    CALL(sdsim_store_project_create, id, "", NULL, DESIGN, NULL);
    STATUS(SDSIM_STORE_INVALID);
}

static void projects_versions(void) {
    char a[37];
    new_user("versions", a);
    CALL(sdsim_store_project_create, a, "p", "d", "{\"v\": 1}", NULL);
    STATUS(SDSIM_STORE_OK);
    char pid[37];
    snprintf(pid, sizeof pid, "%s", R.rows[0].f[0]);
    CHECK(R.rows[0].i[1] == 1 && R.rows[0].i[0] == 0); /* version 1, private */
    CALL(sdsim_store_project_update, pid, a, 1, "p2", NULL, "{\"v\": 2}");
    STATUS(SDSIM_STORE_OK);
    CHECK(R.rows[0].i[1] == 2 && streq(R.rows[0].f[2], "p2") && streq(R.rows[0].f[3], "d"));
    /* A second editor still holding version 1: refused, told the current version. */
    CALL(sdsim_store_project_update, pid, a, 1, NULL, NULL, "{\"v\": 99}");
    STATUS(SDSIM_STORE_CONFLICT);
    CHECK(R.value == 2);
    CALL(sdsim_store_project_get, pid, a);
    CHECK(json_eq(R.rows[0].f[4], "{\"v\": 2}") && R.rows[0].i[1] == 2); /* nothing lost */
    CALL(sdsim_store_project_update, pid, a, 2, NULL, NULL, "{bad");
    STATUS(SDSIM_STORE_INVALID);
    CALL(sdsim_store_project_update, pid, a, 2, NULL, NULL, NULL); /* touch: version bumps */
    CHECK(R.status == SDSIM_STORE_OK && R.rows[0].i[1] == 3);
    CALL(sdsim_store_project_update, "00000000-0000-4000-8000-000000000000", a, 1, "x", NULL, NULL);
    STATUS(SDSIM_STORE_NOT_FOUND);
    CALL(sdsim_store_project_delete, pid, a);
    STATUS(SDSIM_STORE_OK);
    CHECK(R.value == 1);
    CALL(sdsim_store_project_get, pid, a);
    STATUS(SDSIM_STORE_NOT_FOUND);
    CALL(sdsim_store_project_delete, pid, a);
    STATUS(SDSIM_STORE_NOT_FOUND);
}

static void projects_access(void) {
    char a[37], b[37];
    new_user("owner", a);
    new_user("other", b);
    CALL(sdsim_store_project_create, a, "secret", NULL, "{\"k\": \"v\"}", NULL);
    char pid[37];
    snprintf(pid, sizeof pid, "%s", R.rows[0].f[0]);
    CALL(sdsim_store_project_get, pid, b);
    STATUS(SDSIM_STORE_NOT_FOUND);
    CALL(sdsim_store_project_get, pid, NULL);
    STATUS(SDSIM_STORE_NOT_FOUND);
    CALL(sdsim_store_project_update, pid, b, 1, "mine", NULL, NULL);
    STATUS(SDSIM_STORE_NOT_FOUND);
    CALL(sdsim_store_project_set_public, pid, b, 1);
    STATUS(SDSIM_STORE_NOT_FOUND);
    CALL(sdsim_store_project_delete, pid, b);
    STATUS(SDSIM_STORE_NOT_FOUND);
    CALL(sdsim_store_project_fork, pid, b, NULL);
    STATUS(SDSIM_STORE_NOT_FOUND);
    /* Shared: readable by anyone, still changeable only by the owner. */
    CALL(sdsim_store_project_set_public, pid, a, 1);
    CHECK(R.status == SDSIM_STORE_OK && R.rows[0].i[0] == 1 && R.rows[0].i[1] == 1);
    CALL(sdsim_store_project_get, pid, b);
    STATUS(SDSIM_STORE_OK);
    CALL(sdsim_store_project_get, pid, NULL);
    STATUS(SDSIM_STORE_OK);
    CALL(sdsim_store_project_update, pid, b, 1, "mine", NULL, NULL);
    STATUS(SDSIM_STORE_FORBIDDEN);
    CALL(sdsim_store_project_delete, pid, b);
    STATUS(SDSIM_STORE_FORBIDDEN);
    CALL(sdsim_store_project_list_public, 100, 0);
    int seen = 0;
    for (int i = 0; i < R.n; i++)
        seen += streq(R.rows[i].f[0], pid);
    CHECK(seen == 1 && R.total >= 1);
    CALL(sdsim_store_project_fork, pid, b, "my copy");
    STATUS(SDSIM_STORE_OK);
    CHECK(streq(R.rows[0].f[1], b) && streq(R.rows[0].f[6], pid) &&
          streq(R.rows[0].f[2], "my copy"));
    CHECK(R.rows[0].i[0] == 0 && R.rows[0].i[1] == 1);
    CHECK(json_eq(R.rows[0].f[4], "{\"k\": \"v\"}"));
    char fork[37];
    snprintf(fork, sizeof fork, "%s", R.rows[0].f[0]);
    CALL(sdsim_store_project_get, fork, a); /* the fork is private to b */
    STATUS(SDSIM_STORE_NOT_FOUND);
    CALL(sdsim_store_project_fork, pid, a, NULL); /* owners can fork their own */
    CHECK(R.status == SDSIM_STORE_OK && streq(R.rows[0].f[2], "secret"));
    CALL(sdsim_store_project_set_public, pid, a, 0);
    CALL(sdsim_store_project_get, pid, b);
    STATUS(SDSIM_STORE_NOT_FOUND);
}

static void projects_paging(void) {
    char c[37];
    new_user("paging", c);
    for (int i = 0; i < 7; i++) {
        char name[32];
        snprintf(name, sizeof name, "p%d", i);
        CALL(sdsim_store_project_create, c, name, NULL, DESIGN, NULL);
    }
    char seen[7][37];
    int nseen = 0;
    int sizes[3];
    for (int page = 0; page < 3; page++) {
        CALL(sdsim_store_project_list, c, 3, page * 3);
        STATUS(SDSIM_STORE_OK);
        sizes[page] = R.n;
        CHECK(R.total == 7);
        for (int i = 0; i < R.n && nseen < 7; i++) {
            CHECK(R.rows[i].f[4] == NULL); /* lists leave design_data out */
            for (int j = 0; j < nseen; j++)
                CHECK(strcmp(seen[j], R.rows[i].f[0]) != 0);
            snprintf(seen[nseen++], 37, "%s", R.rows[i].f[0]);
        }
    }
    CHECK(sizes[0] == 3 && sizes[1] == 3 && sizes[2] == 1 && nseen == 7);
    CALL(sdsim_store_project_list, c, 3, 10);
    CHECK(R.status == SDSIM_STORE_OK && R.n == 0 && R.total == 7);
    CALL(sdsim_store_project_list, c, 0, -5); /* clamped to 1 row from the start */
    CHECK(R.n == 1 && R.total == 7);
}

static void templates(void) {
    char u[37];
    new_user("tmpl", u);
    char tag[32];
    snprintf(tag, sizeof tag, "t%d", (int)getpid());
    char slug[4][64];
    const char *names[4] = {"Web Shop", "Feed 100% fresh", "Video streaming", "Chat_app"};
    const char *cats[4] = {"e-commerce", "social", "streaming", "social"};
    for (int i = 0; i < 4; i++) {
        snprintf(slug[i], sizeof slug[i], "%s-%d", tag, i);
        char desc[96];
        snprintf(desc, sizeof desc, "%s template %s", tag, i == 2 ? "with a CDN" : "");
        CALL(sdsim_store_template_put, slug[i], names[i], desc, cats[i], DESIGN, i == 3 ? u : NULL,
             i != 3);
        STATUS(SDSIM_STORE_OK);
    }
    char shop[37];
    CALL(sdsim_store_template_list, NULL, "web SHOP", 50, 0);
    CHECK(R.n == 1 && streq(R.rows[0].f[2], "Web Shop") && R.total == 1);
    snprintf(shop, sizeof shop, "%s", R.n ? R.rows[0].f[0] : "");
    CALL(sdsim_store_template_list, NULL, "100%", 50, 0);
    CHECK(R.n == 1 && streq(R.rows[0].f[2], "Feed 100% fresh"));
    CALL(sdsim_store_template_list, NULL, "%", 50, 0); /* literal %, not a wildcard */
    CHECK(R.n == 1);
    CALL(sdsim_store_template_list, NULL, "t_app", 50, 0); /* literal _ */
    CHECK(R.n == 1 && streq(R.rows[0].f[2], "Chat_app"));
    CALL(sdsim_store_template_list, NULL, "cdn", 50, 0); /* the description counts */
    CHECK(R.n == 1 && streq(R.rows[0].f[2], "Video streaming"));
    CALL(sdsim_store_template_list, "social", tag, 50, 0);
    CHECK(R.n == 2 && R.total == 2);
    CALL(sdsim_store_template_list, "social", tag, 1, 1);
    CHECK(R.n == 1 && R.total == 2);
    CHECK(streq(R.rows[0].f[2], "Chat_app")); /* not official: after the official one */
    CALL(sdsim_store_template_list, NULL, "'; DROP TABLE templates; --", 50, 0);
    CHECK(R.status == SDSIM_STORE_OK && R.n == 0);
    CALL(sdsim_store_template_use, shop);
    CHECK(R.status == SDSIM_STORE_OK && R.value == 1);
    CALL(sdsim_store_template_use, shop);
    CHECK(R.value == 2);
    CALL(sdsim_store_template_get, shop);
    CHECK(R.n == 1 && R.rows[0].i[1] == 2 && json_eq(R.rows[0].f[5], DESIGN));
    CHECK(R.rows[0].i[0] == 1);
    CALL(sdsim_store_template_use, "00000000-0000-4000-8000-000000000000");
    STATUS(SDSIM_STORE_NOT_FOUND);
    /* Same slug: updated in place. */
    CALL(sdsim_store_template_put, slug[0], "Web Shop 2", tag, "e-commerce", "{\"v\": 2}", NULL, 1);
    CHECK(R.status == SDSIM_STORE_OK && streq(R.rows[0].f[0], shop));
    CALL(sdsim_store_template_list, "e-commerce", tag, 50, 0);
    CHECK(R.n == 1 && streq(R.rows[0].f[2], "Web Shop 2") && R.rows[0].f[5] == NULL);
}

static char *hash_of(int k) {
    static char h[8][65];
    static int slot;
    char *o = h[slot++ % 8];
    snprintf(o, 65, "%08x%056d", (unsigned)getpid(), k);
    return o;
}

static void refresh_tokens(void) {
    char u[37];
    new_user("refresh", u);
    int64_t now = sdsim_store_now(S), day = 86400000;
    static int base = 1000;
    base += 100;
    const char *h1 = hash_of(base + 1), *h2 = hash_of(base + 2), *h3 = hash_of(base + 3);
    CALL(sdsim_store_refresh_insert, h1, u, NULL, now + day);
    STATUS(SDSIM_STORE_OK);
    char fam[37];
    snprintf(fam, sizeof fam, "%s", R.rows[0].f[2]);
    CHECK(sdsim_uuid_valid(fam));
    CALL(sdsim_store_refresh_find, h1);
    CHECK(R.n == 1 && streq(R.rows[0].f[1], u) && R.rows[0].i[2] == 0);
    CALL(sdsim_store_refresh_rotate, h1, h2, now + day);
    STATUS(SDSIM_STORE_OK);
    CHECK(streq(R.rows[0].f[0], h2) && streq(R.rows[0].f[2], fam) && streq(R.rows[0].f[1], u));
    CALL(sdsim_store_refresh_find, h1);
    CHECK(R.rows[0].i[2] > 0 && streq(R.rows[0].f[3], h2)); /* used, points at its successor */
    /* The old one replayed: refused, and the live one dies with its family. */
    CALL(sdsim_store_refresh_rotate, h1, h3, now + day);
    STATUS(SDSIM_STORE_REUSED);
    CALL(sdsim_store_refresh_find, h2);
    CHECK(R.rows[0].i[3] > 0);
    CALL(sdsim_store_refresh_rotate, h2, h3, now + day);
    STATUS(SDSIM_STORE_REUSED);
    CALL(sdsim_store_refresh_rotate, hash_of(base + 50), h3, now + day);
    STATUS(SDSIM_STORE_NOT_FOUND);
    CALL(sdsim_store_refresh_rotate, "nothex", h3, now + day);
    STATUS(SDSIM_STORE_INVALID);
    /* Expiry, with the store's clock moved forward. */
    const char *h4 = hash_of(base + 4), *h5 = hash_of(base + 5);
    CALL(sdsim_store_refresh_insert, h4, u, NULL, now + 1000);
    clock_skew_ms = 2000;
    CALL(sdsim_store_refresh_rotate, h4, h5, now + day);
    STATUS(SDSIM_STORE_EXPIRED);
    clock_skew_ms = 0;
    /* Log out: one family; everywhere: all of a user's. */
    const char *h6 = hash_of(base + 6), *h7 = hash_of(base + 7);
    CALL(sdsim_store_refresh_insert, h6, u, NULL, now + day);
    char fam6[37];
    snprintf(fam6, sizeof fam6, "%s", R.rows[0].f[2]);
    CALL(sdsim_store_refresh_insert, h7, u, fam6, now + day);
    CHECK(streq(R.rows[0].f[2], fam6));
    CALL(sdsim_store_refresh_revoke_family, fam6);
    CHECK(R.status == SDSIM_STORE_OK && R.value == 2);
    CALL(sdsim_store_refresh_rotate, h7, h5, now + day);
    STATUS(SDSIM_STORE_REUSED);
    const char *h8 = hash_of(base + 8);
    CALL(sdsim_store_refresh_insert, h8, u, NULL, now + day);
    CALL(sdsim_store_refresh_revoke_user, u);
    CHECK(R.status == SDSIM_STORE_OK && R.value == 2); /* h4 (expired) and h8 were live */
    CALL(sdsim_store_refresh_insert, h8, u, NULL, now + day);
    STATUS(SDSIM_STORE_EXISTS);
}

/* Two rotations of one token in flight together: exactly one wins, the other sees reuse. */
static void refresh_race(void) {
    char u[37];
    new_user("race", u);
    int64_t day = 86400000, now = sdsim_store_now(S);
    static int base = 5000;
    base += 100;
    CALL(sdsim_store_refresh_insert, hash_of(base), u, NULL, now + day);
    res a = {0}, b = {0};
    sdsim_store_refresh_rotate(S, hash_of(base), hash_of(base + 1), now + day, on_reply, &a);
    sdsim_store_refresh_rotate(S, hash_of(base), hash_of(base + 2), now + day, on_reply, &b);
    wait_for(&a);
    wait_for(&b);
    int ok = (a.status == SDSIM_STORE_OK) + (b.status == SDSIM_STORE_OK);
    int reused = (a.status == SDSIM_STORE_REUSED) + (b.status == SDSIM_STORE_REUSED);
    CHECK(ok == 1 && reused == 1);
    res_clear(&a);
    res_clear(&b);
}

static void sessions(void) {
    char u[37];
    new_user("sessions", u);
    CALL(sdsim_store_project_create, u, "p", NULL, DESIGN, NULL);
    char pid[37];
    snprintf(pid, sizeof pid, "%s", R.rows[0].f[0]);
    CALL(sdsim_store_session_create, u, pid, "{\"speed\": 2}");
    STATUS(SDSIM_STORE_OK);
    char sid[37];
    snprintf(sid, sizeof sid, "%s", R.rows[0].f[0]);
    CHECK(streq(R.rows[0].f[3], "active") && R.rows[0].i[1] == 0);
    CALL(sdsim_store_session_update, sid, "paused", "{\"cpu\": 0.5}", NULL);
    CHECK(streq(R.rows[0].f[3], "paused") && json_eq(R.rows[0].f[5], "{\"cpu\": 0.5}"));
    CHECK(R.rows[0].i[1] == 0);
    CALL(sdsim_store_limits_get, u);
    CHECK(R.rows[0].i[5] == 1); /* paused still counts as running */
    CALL(sdsim_store_session_update, sid, "finished", NULL, "{\"p99_ms\": 12}");
    CHECK(streq(R.rows[0].f[3], "finished") && R.rows[0].i[1] > 0);
    CHECK(json_eq(R.rows[0].f[5], "{\"cpu\": 0.5}") && json_eq(R.rows[0].f[6], "{\"p99_ms\": 12}"));
    CALL(sdsim_store_session_get, sid);
    CHECK(R.n == 1 && json_eq(R.rows[0].f[4], "{\"speed\": 2}"));
    CALL(sdsim_store_session_create, u, NULL, NULL);
    CALL(sdsim_store_session_list, u, 0, 10, 0);
    CHECK(R.status == SDSIM_STORE_OK && R.n == 2);
    CALL(sdsim_store_session_list, u, 1, 10, 0);
    CHECK(R.n == 1 && streq(R.rows[0].f[3], "active"));
    CALL(sdsim_store_user_list, 3, 0);
    CHECK(R.status == SDSIM_STORE_OK && R.n == 3);
    CALL(sdsim_store_session_update, sid, "exploded", NULL, NULL);
    STATUS(SDSIM_STORE_INVALID);
    CALL(sdsim_store_session_update, sid, NULL, "{oops", NULL);
    STATUS(SDSIM_STORE_INVALID);
    CALL(sdsim_store_session_create, u, "00000000-0000-4000-8000-000000000000", NULL);
    STATUS(SDSIM_STORE_INVALID); /* no such project: a foreign key */
}

static void plugins(void) {
    char a[37], b[37];
    new_user("plugin", a);
    new_user("plugin2", b);
    CALL(sdsim_store_plugin_put, a, "token_bucket", "return {}");
    STATUS(SDSIM_STORE_OK);
    char pid[37];
    snprintf(pid, sizeof pid, "%s", R.rows[0].f[0]);
    CHECK(R.rows[0].i[0] == 0 && R.rows[0].i[1] == 1);
    CALL(sdsim_store_plugin_put, a, "token_bucket", "return { v = 2 } -- '); DROP TABLE x;");
    CHECK(streq(R.rows[0].f[0], pid) && R.rows[0].i[1] == 2);
    CALL(sdsim_store_plugin_put, b, "token_bucket", "x"); /* names are per owner */
    CHECK(R.status == SDSIM_STORE_OK && !streq(R.rows[0].f[0], pid));
    CALL(sdsim_store_plugin_get, pid, b);
    STATUS(SDSIM_STORE_NOT_FOUND);
    CALL(sdsim_store_plugin_set_public, pid, b, 1);
    STATUS(SDSIM_STORE_NOT_FOUND);
    CALL(sdsim_store_plugin_set_public, pid, a, 1);
    CHECK(R.status == SDSIM_STORE_OK && R.rows[0].i[0] == 1);
    CALL(sdsim_store_plugin_get, pid, b);
    CHECK(R.status == SDSIM_STORE_OK &&
          streq(R.rows[0].f[3], "return { v = 2 } -- '); DROP TABLE x;"));
    CALL(sdsim_store_plugin_delete, pid, b);
    STATUS(SDSIM_STORE_FORBIDDEN);
    CALL(sdsim_store_plugin_put, a, "aaa", "--");
    CALL(sdsim_store_plugin_list, a, 10, 0);
    CHECK(R.n == 2 && R.total == 2 && streq(R.rows[0].f[2], "aaa") && R.rows[0].f[3] == NULL);
    CALL(sdsim_store_plugin_delete, pid, a);
    CHECK(R.status == SDSIM_STORE_OK && R.value == 1);
    CALL(sdsim_store_plugin_get, pid, a);
    STATUS(SDSIM_STORE_NOT_FOUND);
    CALL(sdsim_store_plugin_put, a, "", "x");
    STATUS(SDSIM_STORE_INVALID);
}

static void limits(void) {
    char u[37];
    new_user("limits", u);
    CALL(sdsim_store_limits_get, u);
    STATUS(SDSIM_STORE_OK);
    CHECK(streq(R.rows[0].f[1], "free") && R.rows[0].i[0] == 5 && R.rows[0].i[1] == 1);
    CHECK(R.rows[0].i[2] == 3600 && R.rows[0].i[3] == 50 && R.rows[0].i[4] == 0);
    CALL(sdsim_store_project_create, u, "p", NULL, DESIGN, NULL);
    CALL(sdsim_store_limits_get, u);
    CHECK(R.rows[0].i[4] == 1 && R.rows[0].i[5] == 0);
    CALL(sdsim_store_limits_set, u, 7, -1, -1, 80);
    STATUS(SDSIM_STORE_OK);
    CHECK(R.rows[0].i[0] == 7 && R.rows[0].i[1] == 1 && R.rows[0].i[3] == 80);
    CALL(sdsim_store_limits_set, u, -1, -1, -1, -1);
    CHECK(R.rows[0].i[0] == 5 && R.rows[0].i[3] == 50);
    CALL(sdsim_store_user_set_role, u, NULL, "pro");
    CALL(sdsim_store_limits_get, u);
    CHECK(streq(R.rows[0].f[1], "pro") && R.rows[0].i[0] == 100);
    CALL(sdsim_store_limits_get, "00000000-0000-4000-8000-000000000000");
    STATUS(SDSIM_STORE_NOT_FOUND);
}

static void audit(void) {
    char u[37];
    new_user("audit", u);
    for (int i = 0; i < 5; i++) {
        char target[32];
        snprintf(target, sizeof target, "project:%d", i);
        CALL(sdsim_store_audit_append, u, "project.create", target, "{\"i\": 1}", "127.0.0.1");
        STATUS(SDSIM_STORE_OK);
    }
    CALL(sdsim_store_audit_append, NULL, "login.failed", "x@example.com", NULL, "10.0.0.1");
    STATUS(SDSIM_STORE_OK);
    CALL(sdsim_store_audit_list, u, 0, 3);
    CHECK(R.n == 3 && streq(R.rows[0].f[2], "project:4") && streq(R.rows[2].f[2], "project:2"));
    int64_t last = R.rows[2].i[0];
    CHECK(R.rows[0].i[0] > R.rows[1].i[0] && R.rows[1].i[0] > last);
    CALL(sdsim_store_audit_list, u, last, 10);
    CHECK(R.n == 2 && streq(R.rows[0].f[2], "project:1"));
    CALL(sdsim_store_audit_list, NULL, 0, 1);
    CHECK(R.n == 1 && streq(R.rows[0].f[1], "login.failed") && R.rows[0].f[0] == NULL);
    CALL(sdsim_store_audit_append, u, "", NULL, NULL, NULL);
    STATUS(SDSIM_STORE_INVALID);
}

/* Many calls in flight at once all come back, each with its own answer. */
static void concurrency(void) {
    char u[37];
    new_user("many", u);
    enum { N = 40 };
    static res rs[N];
    for (int i = 0; i < N; i++) {
        memset(&rs[i], 0, sizeof rs[i]);
        char name[32];
        snprintf(name, sizeof name, "c%02d", i);
        sdsim_store_project_create(S, u, name, NULL, DESIGN, NULL, on_reply, &rs[i]);
    }
    int ok = 0;
    for (int i = 0; i < N; i++) {
        wait_for(&rs[i]);
        char name[32];
        snprintf(name, sizeof name, "c%02d", i);
        ok += rs[i].status == SDSIM_STORE_OK && streq(rs[i].rows[0].f[2], name);
        res_clear(&rs[i]);
    }
    CHECK(ok == N);
    CALL(sdsim_store_project_list, u, 100, 0);
    CHECK(R.total == N);
}

static void no_sync_callbacks(void) {
    CHECK(sync_violations == 0);
}

/* Latency of a few calls, one at a time (printed, not checked). */
static void timings(void) {
    char u[37];
    new_user("timing", u);
    CALL(sdsim_store_project_create, u, "t", NULL, DESIGN, NULL);
    char pid[37];
    snprintf(pid, sizeof pid, "%s", R.rows[0].f[0]);
    int n = 200;
    double t0 = now_s();
    for (int i = 0; i < n; i++)
        CALL(sdsim_store_user_by_id, u);
    double t1 = now_s();
    for (int i = 0; i < n; i++)
        CALL(sdsim_store_project_update, pid, u, i + 1, NULL, NULL, DESIGN);
    double t2 = now_s();
    for (int i = 0; i < n; i++)
        CALL(sdsim_store_project_list, u, 20, 0);
    double t3 = now_s();
    CHECK(R.status == SDSIM_STORE_OK);
    printf("  timing %s: user_by_id %.0f us, project_update %.0f us, project_list %.0f us\n",
           sdsim_store_backend(S), (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6, (t3 - t2) / n * 1e6);
}

static const test_case suite[] = {
    TEST(migrations),      TEST(users),           TEST(verbatim_text), TEST(projects_versions),
    TEST(projects_access), TEST(projects_paging), TEST(templates),     TEST(refresh_tokens),
    TEST(refresh_race),    TEST(sessions),        TEST(limits),        TEST(audit),
    TEST(plugins),         TEST(concurrency),     TEST(timings),       TEST(no_sync_callbacks),
};

/* ---- PostgreSQL only: the pool survives killed connections -------------------------------- */

static char pg_admin_url[512];

static void quiet(void *arg, const char *message) {}

static void pg_exec(const char *url, const char *sql) {
    PGconn *c = PQconnectdb(url);
    PQsetNoticeProcessor(c, quiet, NULL);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fprintf(stderr, "  %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

static void on_timer(uv_timer_t *t) {
    *(int *)t->data = 1;
}
static void set_flag(void *p) {
    *(int *)p = 1;
}

static void run_for_ms(int ms) {
    uv_timer_t t;
    int fired = 0;
    uv_timer_init(loop, &t);
    t.data = &fired;
    uv_timer_start(&t, on_timer, (uint64_t)ms, 0);
    while (!fired)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void pg_reconnects(void) {
    char u[37];
    new_user("reconnect", u);
    pg_exec(pg_admin_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE datname = 'sdsim_contract' AND pid <> pg_backend_pid()");
    run_for_ms(400); /* the pool notices the closed sockets and reconnects */
    int ok = 0;
    for (int i = 0; i < 5; i++) {
        CALL(sdsim_store_user_by_id, u);
        ok += R.status == SDSIM_STORE_OK;
    }
    CHECK(ok == 5);
}

static void pg_unreachable(void) {
    /* A port nothing listens on: calls fail with UNAVAILABLE rather than hang. */
    sdsim_store_config cfg = {.database_url = "postgres://postgres@127.0.0.1:1/x", .pool_size = 1};
    char err[256];
    sdsim_store *bad = sdsim_store_open(loop, &cfg, err, sizeof err);
    CHECK(bad != NULL);
    if (!bad) return;
    res r = {0};
    sdsim_store_user_by_id(bad, "00000000-0000-4000-8000-000000000000", on_reply, &r);
    wait_for(&r);
    CHECK(r.status == SDSIM_STORE_UNAVAILABLE);
    int closed = 0;
    sdsim_store_close(bad, set_flag, &closed);
    while (!closed)
        uv_run(loop, UV_RUN_ONCE);
}

/* Two hosts migrating one empty database at once: both succeed, the schema is made once. */
static void pg_migrate_race(void) {
    pg_exec(pg_admin_url, "DROP DATABASE IF EXISTS sdsim_race WITH (FORCE)");
    pg_exec(pg_admin_url, "CREATE DATABASE sdsim_race");
    char url[600];
    char *slash = strrchr(pg_admin_url, '/');
    snprintf(url, sizeof url, "%.*s/sdsim_race", (int)(slash - pg_admin_url), pg_admin_url);
    sdsim_store_config cfg = {.database_url = url, .pool_size = 1};
    char err[256];
    sdsim_store *a = sdsim_store_open(loop, &cfg, err, sizeof err);
    sdsim_store *b = sdsim_store_open(loop, &cfg, err, sizeof err);
    CHECK(a && b);
    if (!a || !b) return;
    res ra = {0}, rb = {0};
    sdsim_store_migrate(a, on_reply, &ra);
    sdsim_store_migrate(b, on_reply, &rb);
    wait_for(&ra);
    wait_for(&rb);
    if (ra.status || rb.status) fprintf(stderr, "  %s / %s\n", ra.error, rb.error);
    CHECK(ra.status == SDSIM_STORE_OK && rb.status == SDSIM_STORE_OK);
    CHECK(ra.value == sdsim_store_schema_version() && rb.value == ra.value);
    CHECK(ra.n + rb.n == sdsim_store_schema_version()); /* each migration applied once */
    int closed = 0;
    sdsim_store_close(a, set_flag, &closed);
    while (!closed)
        uv_run(loop, UV_RUN_ONCE);
    closed = 0;
    sdsim_store_close(b, set_flag, &closed);
    while (!closed)
        uv_run(loop, UV_RUN_ONCE);
}

static const test_case pg_only[] = {TEST(pg_reconnects), TEST(pg_unreachable),
                                    TEST(pg_migrate_race)};

/* ---- main --------------------------------------------------------------------------------- */

static int64_t test_clock(void *ud) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000 + clock_skew_ms;
}

static int open_store(const char *label, const sdsim_store_config *cfg) {
    char err[256];
    S = sdsim_store_open(loop, cfg, err, sizeof err);
    if (!S) {
        printf("FAIL open %s: %s\n", label, err);
        return 0;
    }
    sdsim_store_set_clock(S, test_clock, NULL);
    return 1;
}

static void close_store(void) {
    int closed = 0;
    sdsim_store_close(S, set_flag, &closed);
    while (!closed)
        uv_run(loop, UV_RUN_ONCE);
    S = NULL;
}

/* The PostgreSQL URL from the fixture, with a fresh database for this run. */
static int pg_url(char *out, size_t cap) {
    const char *env = getenv("SDSIM_TEST_PG_URL");
    if (env && *env) {
        snprintf(pg_admin_url, sizeof pg_admin_url, "%s", env);
    } else {
        const char *dir = getenv("SDSIM_SERVICES_DIR");
        char path[1024];
        snprintf(path, sizeof path, "%s/pg.url", dir ? dir : ".");
        FILE *f = fopen(path, "r");
        if (!f || !fgets(pg_admin_url, sizeof pg_admin_url, f)) {
            printf("FAIL postgres: no URL in %s (tests/services/postgres.sh start DIR)\n", path);
            if (f) fclose(f);
            return 0;
        }
        fclose(f);
        pg_admin_url[strcspn(pg_admin_url, "\r\n")] = 0;
    }
    pg_exec(pg_admin_url, "DROP DATABASE IF EXISTS sdsim_contract WITH (FORCE)");
    pg_exec(pg_admin_url, "CREATE DATABASE sdsim_contract");
    char *slash = strrchr(pg_admin_url, '/');
    snprintf(out, cap, "%.*s/sdsim_contract", (int)(slash - pg_admin_url), pg_admin_url);
    return 1;
}

int main(void) {
    loop = uv_default_loop();
    int failed = 0;

    char dir[] = "/tmp/sdsim-store-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    sdsim_store_config sq = {.data_dir = dir};
    printf("== sqlite (%s)\n", dir);
    if (open_store("sqlite", &sq)) {
        failed |= test_main(suite, (int)(sizeof suite / sizeof suite[0]));
        close_store();
    } else {
        failed = 1;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);

    char url[600];
    if (pg_url(url, sizeof url)) {
        printf("== postgres (%s)\n", url);
        sdsim_store_config pg = {.database_url = url, .pool_size = 3};
        if (open_store("postgres", &pg)) {
            failed |= test_main(suite, (int)(sizeof suite / sizeof suite[0]));
            failed |= test_main(pg_only, (int)(sizeof pg_only / sizeof pg_only[0]));
            close_store();
        } else {
            failed = 1;
        }
    } else {
        failed = 1;
    }
    uv_run(loop, UV_RUN_NOWAIT);
    printf("%s\n", failed ? "store contract: FAILED" : "store contract: all passed");
    return failed;
}
