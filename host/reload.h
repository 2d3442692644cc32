/* Hot reload of the project's Lua files (docs/hot-reload.md).
 *
 * A registry of the component types (components/ and plugin directories), templates
 * (templates/) and scenarios (scripts/scenarios/) under a root, kept current by libuv file
 * watching. A change is debounced, re-read, skipped when its content hash is unchanged, then
 * validated on the libuv thread pool in a FRESH Lua state under the loaders' own budgets; only
 * a version that validates is swapped in (a transaction: a broken version never replaces a
 * working one, and its "file:line: message" is kept and reported through the callback).
 *
 * Versions are reference-counted snapshots: a run takes one with sdsim_reload_get and keeps
 * it, unchanged, while newer versions are swapped in; it releases it when done. Lookups may
 * come from any thread; start, stop and the callback belong to the loop's thread. */
#pragma once
#include <stddef.h>
#include <uv.h>

typedef enum sdsim_reload_kind {
    SDSIM_RELOAD_TYPE,     /* components/NAME.lua or a plugin directory's NAME.lua */
    SDSIM_RELOAD_TEMPLATE, /* templates/NAME.lua */
    SDSIM_RELOAD_SCENARIO, /* scripts/scenarios/NAME.lua */
    SDSIM_RELOAD_HANDLER,  /* scripts/api/NAME.lua: an API handler module (only compiled
                              here; the server runs it in its own state before swapping) */
} sdsim_reload_kind;

/* One validated version of one file. Read-only; valid until sdsim_reload_release. */
typedef struct sdsim_reload_version {
    sdsim_reload_kind kind;
    const char *name;   /* the file's stem: "cache" */
    const char *path;   /* where it was read */
    char hash[65];      /* SHA-256 of the source, hex: the key for compiled chunks */
    unsigned version;   /* 1 for the first good version of this path, +1 per swap */
    int plugin;         /* a type from a plugin directory (its runs are isolated) */
    const char *source; /* the exact text that was validated (NUL-terminated) */
    size_t source_len;
    const char *decl_json; /* types: the checked declaration as JSON (Lua functions appear as
                              "<function>"); templates: the document the template returned,
                              as JSON; NULL for scenarios and handlers */
} sdsim_reload_version;

typedef enum sdsim_reload_status {
    SDSIM_RELOAD_SWAPPED,  /* a new version is available */
    SDSIM_RELOAD_REJECTED, /* the change failed validation: the old version stays */
    SDSIM_RELOAD_REMOVED,  /* the file is gone: so is the entry (held snapshots stay valid) */
    SDSIM_RELOAD_RESTORED, /* a broken file was put back as the current good text */
} sdsim_reload_status;

typedef struct sdsim_reload_event {
    sdsim_reload_status status;
    sdsim_reload_kind kind;
    const char *name, *path;
    unsigned version;  /* the version available after the event (0: none) */
    const char *error; /* REJECTED: "file:line: message" (or "file: message") */
    double ms;         /* from the first file event of this change to the swap/rejection */
} sdsim_reload_event;

typedef void (*sdsim_reload_cb)(const sdsim_reload_event *ev, void *ud);

typedef struct sdsim_reload sdsim_reload;

typedef struct sdsim_reload_opts {
    const char *root;               /* NULL: sdsim_root() */
    const char *const *plugin_dirs; /* extra component type directories */
    int nplugin_dirs;
    int handlers;             /* 1: also watch scripts/api/ (SDSIM_RELOAD_HANDLER) */
    int async_start;          /* 1: templates and scenarios are first validated on the thread
                                 pool (start returns at once; sdsim_reload_busy says when done) */
    int revalidate_templates; /* 1: a type's swap or removal validates again (one at a time)
                                 the templates that use it and those with no good version */
    unsigned debounce_ms;     /* 0: 40 */
    sdsim_reload_cb cb;       /* may be NULL */
    void *ud;
} sdsim_reload_opts;

/* Loads every file once (synchronously, unless async_start: a broken file is reported
 * through cb and has no version) and starts watching the directories on loop. NULL with a
 * message in err. */
sdsim_reload *sdsim_reload_start(uv_loop_t *loop, const sdsim_reload_opts *opts, char *err,
                                 size_t errlen);
/* Stops watching; the registry is freed once its handles are closed and no validation is in
 * flight (keep running the loop). Snapshots still held stay valid until released. */
void sdsim_reload_stop(sdsim_reload *r);

/* The current good version of kind/name, with a reference taken (NULL: none). Built-in types
 * win over a plugin of the same name (which is rejected anyway). */
const sdsim_reload_version *sdsim_reload_get(sdsim_reload *r, sdsim_reload_kind kind,
                                             const char *name);
void sdsim_reload_release(const sdsim_reload_version *v);

/* The last rejected change of kind/name ("file:line: message"), copied into out; 0 if there
 * is one, -1 if the file's current text is good (or unknown). */
int sdsim_reload_last_error(sdsim_reload *r, sdsim_reload_kind kind, const char *name, char *out,
                            size_t cap);

/* Validations queued or running, the start's queue and scheduled retries included (for tests,
 * the template gallery's first answer and graceful shutdown). */
int sdsim_reload_busy(sdsim_reload *r);

const char *sdsim_reload_kind_name(sdsim_reload_kind kind);

/* A new source set (lua_state.h) holding the current good version of every component type,
 * plugin directories included (as plugin_dirs): what a design load reads instead of the
 * disk. One reference for the caller; NULL when out of memory. Any thread. */
struct sdsim_lua_sources;
struct sdsim_lua_sources *sdsim_reload_type_sources(sdsim_reload *r);

/* Calls fn for every entry of kind that has a good version or an error (loop thread or any:
 * under the registry's lock, so fn must not call back into the registry). */
typedef void (*sdsim_reload_each_fn)(const sdsim_reload_version *v, const char *error,
                                     const char *name, void *ud);
void sdsim_reload_each(sdsim_reload *r, sdsim_reload_kind kind, sdsim_reload_each_fn fn, void *ud);
