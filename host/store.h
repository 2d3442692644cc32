/* The store: users, refresh tokens, projects, templates, simulation sessions, limits, audit log.
 *
 * Every call is asynchronous and returns at once; the answer arrives in a callback on the loop
 * thread (never inside the call itself). The server runs on one libuv loop and must never
 * block, so the backends do their I/O elsewhere:
 * - SQLite (default, a file `sdsim.db` in the data directory): one dedicated thread owns the
 *   connection (WAL mode, the only writer) and runs the operations in order.
 * - PostgreSQL (`postgres://…`): a small pool of non-blocking libpq connections driven by
 *   uv_poll on the loop thread, one query at a time per connection, reconnecting on failure.
 *
 * One migration history serves both (host/store_migrations.c); the same contract tests run
 * against both (tests/store/test_store_contract.c). Every query is parameterised.
 *
 * Replies: one callback type for everything. The rows in a reply (and every string in them)
 * belong to the store and are valid only during the callback: copy what you keep.
 * Argument strings are copied by the call: the caller may free them as soon as it returns.
 * Times are milliseconds since the Unix epoch, taken from the store's clock. */
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct uv_loop_s uv_loop_t;
typedef struct sdsim_store sdsim_store;

typedef enum sdsim_store_status {
    SDSIM_STORE_OK = 0,
    SDSIM_STORE_NOT_FOUND,   /* no such row, or one the caller may not see (not told apart) */
    SDSIM_STORE_CONFLICT,    /* project update: the expected version is stale (reply.value =
                                the current version); nothing was written */
    SDSIM_STORE_EXISTS,      /* a unique value is taken (e.g. the email) */
    SDSIM_STORE_FORBIDDEN,   /* the caller may read the row but not change it */
    SDSIM_STORE_INVALID,     /* a bad argument: malformed id, invalid JSON or UTF-8, too long */
    SDSIM_STORE_REUSED,      /* refresh rotate: the token was already used or revoked; its
                                whole family is now revoked */
    SDSIM_STORE_EXPIRED,     /* refresh rotate: the token is past its expiry */
    SDSIM_STORE_UNAVAILABLE, /* the database cannot be reached, or the store is closing */
    SDSIM_STORE_INTERNAL,    /* anything else the database said (reply.error has it) */
} sdsim_store_status;

const char *sdsim_store_status_name(int status);

/* ---- rows ------------------------------------------------------------------------------ */
/* Text fields are NULL when the column is NULL; times are 0 when NULL. */

typedef struct sdsim_user {
    const char *id, *email, *password_hash, *first_name, *last_name;
    const char *role;              /* "user" | "premium" | "admin" */
    const char *subscription_tier; /* "free" | "pro" | "enterprise" */
    int64_t created_at, updated_at, last_login;
    int is_active;
} sdsim_user;

typedef struct sdsim_refresh {
    const char *token_hash, *user_id, *family_id, *replaced_by;
    int64_t created_at, expires_at, used_at, revoked_at;
} sdsim_refresh;

typedef struct sdsim_project {
    const char *id, *user_id, *name, *description;
    const char *design_data; /* JSON text; NULL in list replies (lists stay light). PostgreSQL
                                returns JSONB's normal form (key order and spacing may differ
                                from what was stored); SQLite returns the text as stored */
    const char *template_id, *forked_from;
    int is_public;
    int64_t version; /* 1 on create, +1 on every successful update */
    int64_t created_at, updated_at, last_accessed;
} sdsim_project;

typedef struct sdsim_template {
    const char *id, *slug, *name, *description, *category;
    const char *design_data; /* NULL in list replies */
    const char *created_by;
    int is_official;
    int64_t usage_count, created_at;
} sdsim_template;

typedef struct sdsim_sim_session {
    const char *id, *user_id, *project_id, *status; /* active|paused|stopped|finished|failed */
    const char *simulation_config, *resource_usage, *report; /* JSON text or NULL */
    int64_t started_at, ended_at;
} sdsim_sim_session;

/* A user's effective limits: their user_limits row where set, their tier's defaults (table
 * plan_limits) otherwise; with what they use now. */
typedef struct sdsim_limits {
    const char *user_id, *tier;
    int64_t max_projects, max_concurrent_simulations, max_simulation_duration_s,
        max_components_per_project;
    int64_t projects_used, simulations_active;
} sdsim_limits;

typedef struct sdsim_audit {
    int64_t id;
    const char *user_id, *action, *target, *detail /* JSON */, *ip;
    int64_t created_at;
} sdsim_audit;

typedef struct sdsim_plugin {
    const char *id, *owner_id, *name;
    const char *source; /* NULL in list replies */
    int is_public;
    int64_t version; /* 1 on create, +1 on every put */
    int64_t created_at, updated_at;
} sdsim_plugin;

typedef struct sdsim_store_reply {
    int status;        /* sdsim_store_status */
    const char *error; /* a message when status != OK, else NULL */
    int n;             /* number of rows in the one array below that the call fills */
    int64_t total;     /* list calls: rows matching without paging */
    int64_t value;     /* counters (usage_count), migrate (schema version), CONFLICT (the
                          current version), deletes and revokes (rows affected) */
    const sdsim_user *users;
    const sdsim_refresh *refresh;
    const sdsim_project *projects;
    const sdsim_template *templates;
    const sdsim_sim_session *sessions;
    const sdsim_limits *limits;
    const sdsim_audit *audit;
    const sdsim_plugin *plugins;
} sdsim_store_reply;

typedef void (*sdsim_store_cb)(void *ud, const sdsim_store_reply *reply);

/* ---- lifetime ---------------------------------------------------------------------------- */

typedef struct sdsim_store_config {
    const char *data_dir;     /* SQLite: the database is DATA_DIR/sdsim.db (created) */
    const char *database_url; /* NULL or "" or "sqlite": SQLite in data_dir; "sqlite:PATH":
                                 that file; "postgres://…" or "postgresql://…": PostgreSQL */
    int pool_size;            /* PostgreSQL connections (default 4) */
} sdsim_store_config;

/* Opens the store (SQLite: the file and its thread; PostgreSQL: starts connecting). Returns
 * NULL and a message in err on a bad configuration. Call sdsim_store_migrate before use. */
sdsim_store *sdsim_store_open(uv_loop_t *loop, const sdsim_store_config *cfg, char *err,
                              size_t errlen);
/* Stops accepting calls, lets the ones in flight finish (their callbacks run), releases
 * everything, then calls closed(ud) on the loop thread. */
void sdsim_store_close(sdsim_store *s, void (*closed)(void *ud), void *ud);
const char *sdsim_store_backend(const sdsim_store *s); /* "sqlite" | "postgres" */
/* The clock used for every time the store writes (default: the system clock). For tests. */
void sdsim_store_set_clock(sdsim_store *s, int64_t (*now_ms)(void *ud), void *ud);
int64_t sdsim_store_now(const sdsim_store *s);

/* Applies the migrations not yet recorded in schema_migrations, each in its own
 * transaction. reply.value = the schema version after, reply.n = migrations applied. */
void sdsim_store_migrate(sdsim_store *s, sdsim_store_cb cb, void *ud);
int sdsim_store_schema_version(void); /* the newest version this binary knows */

/* ---- users (reply.users) ----------------------------------------------------------------- */
/* Emails are stored lower-cased (ASCII) and compared that way. role NULL = "user",
 * tier NULL = "free". EXISTS when the email is taken. */
void sdsim_store_user_create(sdsim_store *s, const char *email, const char *password_hash,
                             const char *first_name, const char *last_name, const char *role,
                             const char *tier, sdsim_store_cb cb, void *ud);
void sdsim_store_user_by_email(sdsim_store *s, const char *email, sdsim_store_cb cb, void *ud);
void sdsim_store_user_by_id(sdsim_store *s, const char *id, sdsim_store_cb cb, void *ud);
/* NULL leaves a field as it is. */
void sdsim_store_user_update_profile(sdsim_store *s, const char *id, const char *first_name,
                                     const char *last_name, const char *email, sdsim_store_cb cb,
                                     void *ud);
/* NULL leaves a field as it is. */
void sdsim_store_user_set_role(sdsim_store *s, const char *id, const char *role, const char *tier,
                               sdsim_store_cb cb, void *ud);
void sdsim_store_user_set_password(sdsim_store *s, const char *id, const char *password_hash,
                                   sdsim_store_cb cb, void *ud);
void sdsim_store_user_set_active(sdsim_store *s, const char *id, int active, sdsim_store_cb cb,
                                 void *ud);
void sdsim_store_user_touch_login(sdsim_store *s, const char *id, sdsim_store_cb cb, void *ud);

/* Every account, newest first, for admins (password hashes included: do not send them on). */
void sdsim_store_user_list(sdsim_store *s, int limit, int offset, sdsim_store_cb cb, void *ud);

/* ---- refresh tokens (reply.refresh) ------------------------------------------------------ */
/* token_hash: the 64 hex digits of SHA-256 of the token (host/auth_tokens.h); the token
 * itself is never stored. family_id NULL starts a new family (a login). */
void sdsim_store_refresh_insert(sdsim_store *s, const char *token_hash, const char *user_id,
                                const char *family_id, int64_t expires_at, sdsim_store_cb cb,
                                void *ud);
void sdsim_store_refresh_find(sdsim_store *s, const char *token_hash, sdsim_store_cb cb, void *ud);
/* Atomically marks old_hash used and inserts new_hash in the same family; the reply is the
 * new token's row. A token used or revoked before: REUSED, and the whole family is revoked
 * (a stolen token was replayed). Past expiry: EXPIRED. Unknown: NOT_FOUND. */
void sdsim_store_refresh_rotate(sdsim_store *s, const char *old_hash, const char *new_hash,
                                int64_t new_expires_at, sdsim_store_cb cb, void *ud);
/* Log out (one family) or everywhere (every family of a user). reply.value = rows revoked. */
void sdsim_store_refresh_revoke_family(sdsim_store *s, const char *family_id, sdsim_store_cb cb,
                                       void *ud);
void sdsim_store_refresh_revoke_user(sdsim_store *s, const char *user_id, sdsim_store_cb cb,
                                     void *ud);

/* ---- projects (reply.projects) ----------------------------------------------------------- */
/* Private on create. design_json must be valid JSON (INVALID otherwise). */
void sdsim_store_project_create(sdsim_store *s, const char *owner_id, const char *name,
                                const char *description, const char *design_json,
                                const char *template_id, sdsim_store_cb cb, void *ud);
/* The owner's projects, newest update first, without design_data; reply.total counts all. */
void sdsim_store_project_list(sdsim_store *s, const char *owner_id, int limit, int offset,
                              sdsim_store_cb cb, void *ud);
/* Every public project, newest update first, without design_data. */
void sdsim_store_project_list_public(sdsim_store *s, int limit, int offset, sdsim_store_cb cb,
                                     void *ud);
/* NOT_FOUND unless viewer_id owns it or it is public (viewer_id may be NULL: anonymous). */
void sdsim_store_project_get(sdsim_store *s, const char *id, const char *viewer_id,
                             sdsim_store_cb cb, void *ud);
/* Writes only if the stored version is expected_version, then bumps it: a stale save is
 * refused with CONFLICT (reply.value = current version), never lost. NULL fields stay.
 * Not the owner: FORBIDDEN if it is public, NOT_FOUND otherwise. */
void sdsim_store_project_update(sdsim_store *s, const char *id, const char *owner_id,
                                int64_t expected_version, const char *name, const char *description,
                                const char *design_json, sdsim_store_cb cb, void *ud);
/* reply.value = 1 when deleted. Not the owner: as for update. */
void sdsim_store_project_delete(sdsim_store *s, const char *id, const char *owner_id,
                                sdsim_store_cb cb, void *ud);
/* A private copy owned by new_owner_id of a project they can read (forked_from set). name
 * NULL keeps the original's name. */
void sdsim_store_project_fork(sdsim_store *s, const char *id, const char *new_owner_id,
                              const char *name, sdsim_store_cb cb, void *ud);
/* Shares (public = 1) or unshares. Does not change the version. */
void sdsim_store_project_set_public(sdsim_store *s, const char *id, const char *owner_id,
                                    int is_public, sdsim_store_cb cb, void *ud);

/* ---- templates (reply.templates) --------------------------------------------------------- */
/* Official first, then by usage, then name; without design_data. category NULL = all; query
 * NULL = all, else a case-insensitive substring of the name or description (% and _ in it
 * are literal). */
void sdsim_store_template_list(sdsim_store *s, const char *category, const char *query, int limit,
                               int offset, sdsim_store_cb cb, void *ud);
void sdsim_store_template_get(sdsim_store *s, const char *id, sdsim_store_cb cb, void *ud);
/* usage_count + 1; reply.value = the new count. */
void sdsim_store_template_use(sdsim_store *s, const char *id, sdsim_store_cb cb, void *ud);
/* Inserts, or updates the template with the same slug (how the templates/ directory is loaded). */
void sdsim_store_template_put(sdsim_store *s, const char *slug, const char *name,
                              const char *description, const char *category,
                              const char *design_json, const char *created_by, int is_official,
                              sdsim_store_cb cb, void *ud);

/* ---- simulation sessions (reply.sessions) ------------------------------------------------ */
void sdsim_store_session_create(sdsim_store *s, const char *user_id, const char *project_id,
                                const char *config_json, sdsim_store_cb cb, void *ud);
/* status NULL keeps it; JSON NULL keeps it; a status of stopped, finished or failed sets
 * ended_at. */
void sdsim_store_session_update(sdsim_store *s, const char *id, const char *status,
                                const char *resource_usage_json, const char *report_json,
                                sdsim_store_cb cb, void *ud);
void sdsim_store_session_get(sdsim_store *s, const char *id, sdsim_store_cb cb, void *ud);
/* A user's sessions, newest first; active_only: those active or paused. */
void sdsim_store_session_list(sdsim_store *s, const char *user_id, int active_only, int limit,
                              int offset, sdsim_store_cb cb, void *ud);

/* ---- limits (reply.limits) --------------------------------------------------------------- */
void sdsim_store_limits_get(sdsim_store *s, const char *user_id, sdsim_store_cb cb, void *ud);
/* A per-user override (an admin's grant); a negative value clears it to the tier default. */
void sdsim_store_limits_set(sdsim_store *s, const char *user_id, int64_t max_projects,
                            int64_t max_concurrent_simulations, int64_t max_duration_s,
                            int64_t max_components, sdsim_store_cb cb, void *ud);

/* ---- audit log (reply.audit) ------------------------------------------------------------- */
/* user_id, target, detail_json, ip may be NULL. */
void sdsim_store_audit_append(sdsim_store *s, const char *user_id, const char *action,
                              const char *target, const char *detail_json, const char *ip,
                              sdsim_store_cb cb, void *ud);
/* Newest first; user_id NULL = everyone; before_id 0 = from the newest (else id < before_id,
 * for paging). */
void sdsim_store_audit_list(sdsim_store *s, const char *user_id, int64_t before_id, int limit,
                            sdsim_store_cb cb, void *ud);

/* ---- plugins (reply.plugins) ------------------------------------------------------------ */
/* Creates the owner's plugin of that name, or replaces its source (version + 1). Private on
 * create. */
void sdsim_store_plugin_put(sdsim_store *s, const char *owner_id, const char *name,
                            const char *source, sdsim_store_cb cb, void *ud);
/* NOT_FOUND unless viewer_id owns it or it is public. */
void sdsim_store_plugin_get(sdsim_store *s, const char *id, const char *viewer_id,
                            sdsim_store_cb cb, void *ud);
/* The owner's plugins by name, without source; reply.total counts all. */
void sdsim_store_plugin_list(sdsim_store *s, const char *owner_id, int limit, int offset,
                             sdsim_store_cb cb, void *ud);
/* Not the owner: FORBIDDEN if it is public, NOT_FOUND otherwise. reply.value = 1 deleted. */
void sdsim_store_plugin_delete(sdsim_store *s, const char *id, const char *owner_id,
                               sdsim_store_cb cb, void *ud);
void sdsim_store_plugin_set_public(sdsim_store *s, const char *id, const char *owner_id,
                                   int is_public, sdsim_store_cb cb, void *ud);

/* ---- helpers ------------------------------------------------------------------------------ */
/* A random (v4) UUID in lower-case text; 0, or -1 if the random source failed. */
int sdsim_uuid_v4(char out[37]);
int sdsim_uuid_valid(const char *s);
