/* Hot reload (reload.h, docs/hot-reload.md): watching, debouncing, validating in a fresh Lua
 * state on the thread pool, and swapping reference-counted versions as a transaction. */
#include "reload.h"

/* Messages are cut to their buffers on purpose (paths are at most 4 KB, messages 2 KB). */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <errno.h>
#include <dirent.h>
#include <lauxlib.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "design_load.h"
#include "lua_state.h"
#include "model.h"

#define MAX_SOURCE ((size_t)16 << 20)  /* the loaders' MAX_DESIGN_BYTES */
#define VALIDATE_MEM ((size_t)1 << 30) /* the loaders' whole validation state */
#define TYPE_BUDGET 10000000L          /* design.lua D.load_types: per type file */
#define TYPE_MEMORY ((size_t)64 << 20)
#define SCENARIO_BUDGET 5000000L           /* scenario.lua S.list_text: S.BUDGET / 10 */
#define SCENARIO_MEMORY ((size_t)64 << 20) /* S.MEMORY */
#define MAX_DIRS 32
#define MAX_RETRIES 3 /* validations cut off by a deadline, tried again */

typedef struct version_rc {
    sdsim_reload_version pub; /* first: the public pointer is this struct's */
    int refs;                 /* atomic */
} version_rc;

typedef struct entry entry;
typedef struct watch_dir {
    uv_fs_event_t ev;
    sdsim_reload *r;
    sdsim_reload_kind kind;
    int plugin;
    char path[4096];
} watch_dir;

struct entry {
    sdsim_reload *r;
    entry *next;
    sdsim_reload_kind kind;
    int plugin;
    char name[128];
    char path[4096];
    version_rc *cur;   /* guarded by r->mu for readers on other threads */
    char *last_error;  /* guarded by r->mu */
    char bad_hash[65]; /* the last rejected content: not validated again */
    uv_timer_t timer;  /* the debounce */
    uint64_t t_first;  /* when the first event of the pending change arrived (uv_hrtime) */
    int busy, dirty;   /* a validation is in flight; another change came meanwhile */
    int retries;       /* validations cut off by a deadline, tried again (a loaded machine) */
    int retry_pending; /* one of those is scheduled */
    entry *start_next; /* the start's queue (async_start), one validation at a time */
    int force;         /* validate even an unchanged text (the types it uses changed) */
};

typedef struct job {
    uv_work_t req;
    entry *e;
    struct job *next_job, *prev_job; /* in flight, for cancelling at stop */
    int from_start;                  /* a validation of the start's queue */
    char *text;
    size_t len;
    char hash[65];
    char *json;     /* out: a type's declaration */
    char err[2048]; /* out: empty when valid */
} job;

struct sdsim_reload {
    uv_loop_t *loop;
    pthread_mutex_t mu;
    entry *entries;
    watch_dir dirs[MAX_DIRS];
    int ndirs;
    unsigned debounce_ms;
    sdsim_reload_cb cb;
    void *ud;
    int open_handles, jobs, stopping;
    char *plugin_dirs; /* ':'-separated, for sdsim_reload_type_sources */
    job *in_flight;    /* queued on the thread pool or running */
    /* async_start: templates and scenarios validated one after the other (one core), so that
     * the start does not take the machine from the requests the server already answers */
    entry *start_head, *start_tail;
    int start_queued, retrying;
    int scanning;   /* the start's own scan: its types need no revalidation of templates */
    int revalidate; /* opts.revalidate_templates */
};

const char *sdsim_reload_kind_name(sdsim_reload_kind kind) {
    return kind == SDSIM_RELOAD_TYPE       ? "component type"
           : kind == SDSIM_RELOAD_TEMPLATE ? "template"
           : kind == SDSIM_RELOAD_SCENARIO ? "scenario"
                                           : "handler";
}

/* ------------------------------------------------------------------------------------- */
/* Versions */

static void sha256_hex(const char *text, size_t len, char out[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(text, len, md, &n, EVP_sha256(), NULL)) n = 0;
    for (unsigned i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[2 * (n < 32 ? n : 32)] = '\0';
}

static version_rc *version_new(entry *e, job *j, unsigned number) {
    version_rc *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->refs = 1; /* the registry's */
    v->pub.kind = e->kind;
    v->pub.plugin = e->plugin;
    v->pub.name = strdup(e->name);
    v->pub.path = strdup(e->path);
    memcpy(v->pub.hash, j->hash, sizeof v->pub.hash);
    v->pub.version = number;
    v->pub.source = j->text;
    v->pub.source_len = j->len;
    v->pub.decl_json = j->json;
    j->text = j->json = NULL; /* moved */
    return v;
}

static void version_free(version_rc *v) {
    free((char *)v->pub.name);
    free((char *)v->pub.path);
    free((char *)v->pub.source);
    free((char *)v->pub.decl_json);
    free(v);
}

void sdsim_reload_release(const sdsim_reload_version *pub) {
    if (!pub) return;
    version_rc *v = (version_rc *)pub;
    if (__atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) == 0) version_free(v);
}

/* ------------------------------------------------------------------------------------- */
/* Validation (thread pool): fresh states, the loaders' environments and budgets */

/* Keeps the first line of a Lua message and makes sure it starts with the file. */
static void tidy_error(char *err, size_t cap, const char *path) {
    char *nl = strchr(err, '\n');
    if (nl) *nl = '\0';
    if (strstr(err, path) != err) {
        char tmp[2048];
        snprintf(tmp, sizeof tmp, "%s", err);
        snprintf(err, cap, "%s: %s", path, tmp);
    }
}

/* Trusted helpers run around the type file: the loaders' sandbox extras (design.lua's
 * sandbox_extras), and the check, with the declaration written as JSON and, for a
 * check_type reason, the line of the field it names (check_type itself gives no line). */
static const char TYPE_HELPERS[] =
    "local function copy(v)\n"
    "  if type(v) ~= 'table' then return v end\n"
    "  local t = {}; for k, x in pairs(v) do t[k] = copy(x) end; return t\n"
    "end\n"
    "local function plain(v, depth)\n"
    "  if type(v) == 'function' then return '<function>' end\n"
    "  if type(v) ~= 'table' or depth > 20 then return v end\n"
    "  local t = {}; for k, x in pairs(v) do t[k] = plain(x, depth + 1) end; return t\n"
    "end\n"
    "local function line_of(text, reason)\n"
    "  local field = reason:match('^([%w_%.]+)')\n"
    "  local seg = field and field:match('([%w_]+)$')\n"
    "  if not seg then return nil end\n"
    "  local n = 0\n"
    "  for line in (text .. '\\n'):gmatch('([^\\n]*)\\n') do\n"
    "    n = n + 1\n"
    "    if line:find('%f[%w_]' .. seg .. '%s*=') then return n end\n"
    "  end\n"
    "end\n"
    "local extras = function(D, env)\n"
    "  rawset(env, 'std', { param = D.std_param, params = copy(D.STD_PARAMS) })\n"
    "end\n"
    "local check = function(D, t, stem, path, text)\n"
    "  local ok, reason = D.check_type(t, stem)\n"
    "  if not ok then\n"
    "    local line = line_of(text, reason)\n"
    "    return nil, line and (path .. ':' .. line .. ': ' .. reason) or (path .. ': ' .. reason)\n"
    "  end\n"
    "  local cjson = require('cjson').new()\n"
    "  cjson.encode_sparse_array(true)\n"
    "  local eok, json = pcall(cjson.encode, plain(ok, 0))\n"
    "  return eok and json or '{}'\n"
    "end\n"
    "return extras, check\n";

typedef struct type_ctx {
    job *j;
    const char *stem;
} type_ctx;

/* Compiles text as a sandboxed chunk named "@path"; never bytecode. */
static int load_sandboxed(lua_State *L, job *j, int env) {
    if (j->len > 0 && j->text[0] == '\033') {
        snprintf(j->err, sizeof j->err, "%s: binary chunks are refused", j->e->path);
        return -1;
    }
    char chunk[4200];
    snprintf(chunk, sizeof chunk, "@%s", j->e->path);
    if (luaL_loadbuffer(L, j->text, j->len, chunk) != 0) {
        snprintf(j->err, sizeof j->err, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    lua_pushvalue(L, env);
    lua_setfenv(L, -2);
    return 0;
}

/* Runs the function on top under budget with at most `more` bytes more memory. */
static int run_capped(lua_State *L, long budget, size_t more, job *j) {
    size_t outer = sdsim_lua_mem_limit(L), want = sdsim_lua_mem_used(L) + more;
    sdsim_lua_set_mem_limit(L, outer && outer < want ? outer : want);
    int rc = sdsim_lua_pcall(L, 0, 1, budget, j->err, sizeof j->err);
    sdsim_lua_set_mem_limit(L, outer);
    if (rc != 0) {
        lua_gc(L, LUA_GCCOLLECT, 0);
        tidy_error(j->err, sizeof j->err, j->e->path);
    }
    return rc;
}

static int type_protected(lua_State *L) {
    type_ctx *c = lua_touserdata(L, 1);
    job *j = c->j;
    char why[1024];
    if (sdsim_design_sdk_push(L, why, sizeof why) != 0)
        return luaL_error(L, "%s", why); /* D at 2 */
    if (luaL_loadbuffer(L, TYPE_HELPERS, sizeof TYPE_HELPERS - 1, "=reload") != 0)
        return lua_error(L);
    lua_call(L, 0, 2);             /* extras at 3, check at 4 */
    sdsim_lua_push_sandbox_env(L); /* env at 5 */
    lua_pushvalue(L, 3);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 5);
    lua_call(L, 2, 0);
    if (load_sandboxed(L, j, 5) != 0 || run_capped(L, TYPE_BUDGET, TYPE_MEMORY, j) != 0)
        return 0; /* the type at 6 */
    lua_pushvalue(L, 4);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 6);
    lua_pushstring(L, c->stem);
    lua_pushstring(L, j->e->path);
    lua_pushlstring(L, j->text, j->len);
    /* check_type reads the returned table, whose metatable is the file's: same budget. */
    if (sdsim_lua_pcall(L, 5, 2, TYPE_BUDGET, j->err, sizeof j->err) != 0) {
        tidy_error(j->err, sizeof j->err, j->e->path);
        return 0;
    }
    if (lua_isnil(L, -2))
        snprintf(j->err, sizeof j->err, "%s", lua_tostring(L, -1));
    else
        j->json = strdup(lua_tostring(L, -2));
    return 0;
}

/* Shared by types and scenarios: a fresh interpreter-only state (the budget always fires). */
static void run_fresh(job *j, lua_CFunction fn, void *ctx) {
    sdsim_lua_opts opts = {.mem_limit = VALIDATE_MEM, .jit = 0};
    lua_State *L = sdsim_lua_new(&opts);
    if (!L) {
        snprintf(j->err, sizeof j->err, "%s: out of memory creating a Lua state", j->e->path);
        return;
    }
    int rc = lua_cpcall(L, fn, ctx);
    if (rc != 0 && !j->err[0]) {
        snprintf(j->err, sizeof j->err, "%s: %s", j->e->path,
                 lua_tostring(L, -1) ? lua_tostring(L, -1) : "validation failed");
        tidy_error(j->err, sizeof j->err, j->e->path);
    }
    sdsim_lua_close(L);
}

static void validate_type(job *j) {
    type_ctx c = {.j = j, .stem = j->e->name};
    run_fresh(j, type_protected, &c);
}

/* What scenario.lua's load_spec checks of the returned table (not its build function, which
 * needs a design to run against). */
static int scenario_protected(lua_State *L) {
    job *j = lua_touserdata(L, 1);
    sdsim_lua_push_sandbox_env(L); /* env at 2 */
    if (load_sandboxed(L, j, 2) != 0 || run_capped(L, SCENARIO_BUDGET, SCENARIO_MEMORY, j) != 0)
        return 0;
    const char *p = j->e->path;
    if (!lua_istable(L, -1)) {
        snprintf(j->err, sizeof j->err,
                 "%s: a scenario file returns a table {name=, "
                 "description=, params=, build=function(design, s, params) ... end}, got %s",
                 p, luaL_typename(L, -1));
        return 0;
    }
    static const struct {
        const char *k;
        int t;
        const char *why;
    } fields[] = {
        {"build", LUA_TFUNCTION, "the returned table needs build = function(design, s, params)"},
        {"name", LUA_TSTRING, "name must be a string"},
        {"description", LUA_TSTRING, "description must be a string"},
        {"params", LUA_TTABLE, "params must be a table"},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        lua_getfield(L, -1, fields[i].k);
        int t = lua_type(L, -1), required = i == 0;
        lua_pop(L, 1);
        if (t != fields[i].t && (required || t != LUA_TNIL)) {
            snprintf(j->err, sizeof j->err, "%s: %s", p, fields[i].why);
            return 0;
        }
    }
    return 0;
}

static void validate_scenario(job *j) {
    run_fresh(j, scenario_protected, j);
}

/* Replaces every `from` in s with `to`, into out. */
static void replace_all(const char *s, const char *from, const char *to, char *out, size_t cap) {
    size_t used = 0, fl = strlen(from);
    while (*s && used + 1 < cap) {
        if (fl && strncmp(s, from, fl) == 0) {
            used += (size_t)snprintf(out + used, cap - used, "%s", to);
            s += fl;
        } else {
            out[used++] = *s++;
        }
        if (used >= cap) used = cap - 1;
    }
    out[used] = '\0';
}

/* A template is the whole design load (sdsim_load_design_file: forked child, 50 M
 * instructions, 256 MB, 20 s, then validation against the types) of the exact text read,
 * from a private copy; messages name the real file. */
static void validate_template(job *j) {
    char dir[] = "/tmp/sdsim-reload-XXXXXX", path[4096];
    if (!mkdtemp(dir)) {
        snprintf(j->err, sizeof j->err, "%s: cannot make a temporary copy: %s", j->e->path,
                 strerror(errno));
        return;
    }
    snprintf(path, sizeof path, "%s/%s.lua", dir, j->e->name);
    FILE *f = fopen(path, "wb");
    int wrote = f && fwrite(j->text, 1, j->len, f) == j->len;
    if (f) wrote = (fclose(f) == 0) && wrote;
    sdsim_problems problems = {0};
    /* Against the registry's good types, not the files on disk (a broken type file must not
     * break its templates). */
    sdsim_lua_sources *set = sdsim_reload_type_sources(j->e->r);
    sdsim_lua_sources *old = set ? sdsim_lua_sources_use(set) : NULL;
    sim_design *d = wrote ? sdsim_load_template_doc(path, &j->json, &problems) : NULL;
    if (set) {
        sdsim_lua_sources_use(old);
        sdsim_lua_sources_unref(set);
    }
    if (!wrote) {
        snprintf(j->err, sizeof j->err, "%s: cannot write a temporary copy", j->e->path);
    } else if (!d) {
        char msg[1600], fixed[2048];
        snprintf(msg, sizeof msg, "%s: %s", problems.n ? problems.items[0].path : "$",
                 problems.n ? problems.items[0].reason : "the design could not be loaded");
        replace_all(msg, path, j->e->path, fixed, sizeof fixed);
        if (strstr(fixed, j->e->path))
            snprintf(j->err, sizeof j->err, "%s", fixed);
        else
            snprintf(j->err, sizeof j->err, "%s: %s", j->e->path, fixed);
        if (problems.n > 1) {
            size_t n = strlen(j->err);
            snprintf(j->err + n, sizeof j->err - n, " (and %d more)", problems.n - 1);
        }
    }
    if (d) sim_design_free(d);
    sdsim_problems_free(&problems);
    unlink(path);
    rmdir(dir);
}

/* A handler module: compiled (never run) in a fresh state. The server runs the chunk in its
 * own state and swaps the module only if that works too. */
static int handler_protected(lua_State *L) {
    job *j = lua_touserdata(L, 1);
    lua_newtable(L); /* any env: the chunk is not run */
    load_sandboxed(L, j, 2);
    return 0;
}

static void validate_handler(job *j) {
    run_fresh(j, handler_protected, j);
}

static void job_work(uv_work_t *req) {
    job *j = req->data;
    switch (j->e->kind) {
    case SDSIM_RELOAD_HANDLER:
        validate_handler(j);
        break;
    case SDSIM_RELOAD_TYPE:
        validate_type(j);
        break;
    case SDSIM_RELOAD_TEMPLATE:
        validate_template(j);
        break;
    case SDSIM_RELOAD_SCENARIO:
        validate_scenario(j);
        break;
    }
}

/* ------------------------------------------------------------------------------------- */
/* Swapping (loop thread) */

static double ms_since(uint64_t t0) {
    return t0 ? (double)(uv_hrtime() - t0) / 1e6 : 0;
}

static void notify(entry *e, sdsim_reload_status st, const char *error) {
    if (!e->r->cb) return;
    sdsim_reload_event ev = {.status = st,
                             .kind = e->kind,
                             .name = e->name,
                             .path = e->path,
                             .version = e->cur ? e->cur->pub.version : 0,
                             .error = error,
                             .ms = ms_since(e->t_first)};
    e->r->cb(&ev, e->r->ud);
}

static entry *find_builtin_type(sdsim_reload *r, const char *name) {
    for (entry *e = r->entries; e; e = e->next)
        if (e->kind == SDSIM_RELOAD_TYPE && !e->plugin && e->cur && !strcmp(e->name, name))
            return e;
    return NULL;
}

static void on_debounce(uv_timer_t *t);
static void revalidate_templates(sdsim_reload *r, const char *type);

/* Takes the job's outcome: swap on success, keep the old version and the error otherwise. */
static void settle(entry *e, job *j) {
    sdsim_reload *r = e->r;
    entry *clash = e->plugin && !j->err[0] ? find_builtin_type(r, e->name) : NULL;
    if (clash)
        snprintf(j->err, sizeof j->err,
                 "%s: a type named '%s' exists already (%s); a plugin "
                 "cannot replace it",
                 e->path, e->name, clash->path);
    if (j->err[0]) {
        char *copy = strdup(j->err);
        pthread_mutex_lock(&r->mu);
        free(e->last_error);
        e->last_error = copy;
        pthread_mutex_unlock(&r->mu);
        /* A deadline (a template's 20 s) says more about the machine's load than about the
         * file: the same text is tried again, a few times, a second later. */
        if (strstr(j->err, "took longer than") && e->retries < MAX_RETRIES) {
            e->retries++;
            e->dirty = 0;
            if (!e->retry_pending) r->retrying++;
            e->retry_pending = 1;
            uv_timer_start(&e->timer, on_debounce, 1000, 0);
        } else {
            memcpy(e->bad_hash, j->hash, sizeof e->bad_hash);
        }
        notify(e, SDSIM_RELOAD_REJECTED, j->err);
        return;
    }
    e->retries = 0;
    version_rc *v = version_new(e, j, e->cur ? e->cur->pub.version + 1 : 1);
    if (!v) return;
    pthread_mutex_lock(&r->mu);
    version_rc *old = e->cur;
    e->cur = v;
    free(e->last_error);
    e->last_error = NULL;
    pthread_mutex_unlock(&r->mu);
    e->bad_hash[0] = '\0';
    sdsim_reload_release(old ? &old->pub : NULL);
    notify(e, SDSIM_RELOAD_SWAPPED, NULL);
    if (e->kind == SDSIM_RELOAD_TYPE) revalidate_templates(r, e->name);
}

static void job_free(job *j) {
    free(j->text);
    free(j->json);
    free(j);
}

static void maybe_free(sdsim_reload *r);

static void start_next(sdsim_reload *r);

static void job_unlink(sdsim_reload *r, job *j) {
    if (j->prev_job)
        j->prev_job->next_job = j->next_job;
    else if (r->in_flight == j)
        r->in_flight = j->next_job;
    if (j->next_job) j->next_job->prev_job = j->prev_job;
    j->next_job = j->prev_job = NULL;
}

static void job_done(uv_work_t *req, int status) {
    job *j = req->data;
    entry *e = j->e;
    sdsim_reload *r = e->r;
    job_unlink(r, j);
    e->busy = 0;
    r->jobs--;
    if (!r->stopping) {
        if (status == 0) settle(e, j);
        e->t_first = 0;
        if (e->dirty) { /* changed while we validated: look again now */
            e->dirty = 0;
            e->t_first = uv_hrtime();
            uv_timer_start(&e->timer, on_debounce, 0, 0);
        }
        if (j->from_start) start_next(r);
    }
    job_free(j);
    maybe_free(r);
}

/* Reads the whole file; NULL with errno set (ENOENT: deleted). */
static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap && cap < MAX_SOURCE + 1) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
            cap *= 2;
        } else if (n == cap) {
            break;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    if (n > MAX_SOURCE) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void remove_entry_version(entry *e) {
    sdsim_reload *r = e->r;
    pthread_mutex_lock(&r->mu);
    version_rc *old = e->cur;
    e->cur = NULL;
    free(e->last_error);
    e->last_error = NULL;
    pthread_mutex_unlock(&r->mu);
    e->bad_hash[0] = '\0';
    if (old) {
        sdsim_reload_release(&old->pub);
        notify(e, SDSIM_RELOAD_REMOVED, NULL);
        if (e->kind == SDSIM_RELOAD_TYPE) revalidate_templates(r, e->name);
    }
}

/* The same text as the current good version: no new version; a stale error is cleared. */
static void unchanged(entry *e) {
    pthread_mutex_lock(&e->r->mu);
    char *had = e->last_error;
    e->last_error = NULL;
    pthread_mutex_unlock(&e->r->mu);
    e->bad_hash[0] = '\0';
    if (had) notify(e, SDSIM_RELOAD_RESTORED, NULL);
    free(had);
}

/* Reads the file and, when its content is new, queues its validation (sync: runs it now).
 * 1 when a validation was queued. */
static int examine_job(entry *e, int sync, int from_start) {
    size_t len = 0;
    char *text = read_all(e->path, &len);
    if (!text) {
        if (errno == ENOENT) remove_entry_version(e);
        e->t_first = 0;
        return 0;
    }
    job *j = calloc(1, sizeof *j);
    if (!j) {
        free(text);
        return 0;
    }
    j->e = e;
    j->text = text;
    j->len = len;
    sha256_hex(text, len, j->hash);
    int force = e->force;
    e->force = 0;
    if (!force &&
        ((e->cur && !strcmp(e->cur->pub.hash, j->hash)) || !strcmp(e->bad_hash, j->hash))) {
        if (e->cur && !strcmp(e->cur->pub.hash, j->hash)) unchanged(e);
        e->t_first = 0;
        job_free(j);
        return 0;
    }
    sdsim_reload *r = e->r;
    j->req.data = j;
    j->from_start = from_start;
    e->busy = 1;
    r->jobs++;
    j->next_job = r->in_flight;
    if (r->in_flight) r->in_flight->prev_job = j;
    r->in_flight = j;
    if (sync) {
        job_work(&j->req);
        job_done(&j->req, 0);
    } else if (uv_queue_work(r->loop, &j->req, job_work, job_done) != 0) {
        job_unlink(r, j);
        e->busy = 0;
        r->jobs--;
        job_free(j);
        return 0;
    }
    return 1;
}

static void examine(entry *e, int sync) {
    examine_job(e, sync, 0);
}

/* Appends e to the queue of validations done one at a time (unless it is there already). */
static void enqueue(sdsim_reload *r, entry *e) {
    if (e->start_next || r->start_tail == e) return;
    if (r->start_tail)
        r->start_tail->start_next = e;
    else
        r->start_head = e;
    r->start_tail = e;
    r->start_queued++;
}

/* A type changed: the templates that use it (their document names it) and those without a
 * good version are validated again (one at a time), their text unchanged. One that now passes
 * gets a new version; one that no longer passes keeps its last good version, with the error
 * recorded. */
static void revalidate_templates(sdsim_reload *r, const char *type) {
    if (r->stopping || r->scanning || !r->revalidate) return;
    char needle[200];
    snprintf(needle, sizeof needle, "\"type\":\"%s\"", type);
    int idle = r->start_head == NULL;
    for (entry *t = r->entries; t; t = t->next) {
        if (t->kind != SDSIM_RELOAD_TEMPLATE) continue;
        const char *doc = t->cur ? t->cur->pub.decl_json : NULL;
        if (t->cur && !(doc && strstr(doc, needle))) continue;
        t->force = 1;
        enqueue(r, t);
    }
    if (idle) start_next(r);
}

/* Queues the next file of the start's queue (until one is really queued). */
static void start_next(sdsim_reload *r) {
    while (r->start_head && !r->stopping) {
        entry *e = r->start_head;
        r->start_head = e->start_next;
        if (!r->start_head) r->start_tail = NULL;
        e->start_next = NULL;
        r->start_queued--;
        if (e->busy) continue; /* an edit got there first */
        if (examine_job(e, 0, 1)) return;
    }
}

static void on_debounce(uv_timer_t *t) {
    entry *e = t->data;
    if (e->retry_pending) {
        e->retry_pending = 0;
        e->r->retrying--;
    }
    if (e->busy) {
        e->dirty = 1;
        return;
    }
    examine(e, 0);
}

/* ------------------------------------------------------------------------------------- */
/* Entries and watching */

static entry *entry_find(sdsim_reload *r, const char *path) {
    for (entry *e = r->entries; e; e = e->next)
        if (!strcmp(e->path, path)) return e;
    return NULL;
}

static entry *entry_add(sdsim_reload *r, const watch_dir *w, const char *file) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", w->path, file);
    entry *e = entry_find(r, path);
    if (e) return e;
    if (!(e = calloc(1, sizeof *e))) return NULL;
    e->r = r;
    e->kind = w->kind;
    e->plugin = w->plugin;
    snprintf(e->path, sizeof e->path, "%s", path);
    snprintf(e->name, sizeof e->name, "%.*s", (int)(strlen(file) - 4), file);
    uv_timer_init(r->loop, &e->timer);
    e->timer.data = e;
    r->open_handles++;
    pthread_mutex_lock(&r->mu); /* lookups walk the list from other threads */
    e->next = r->entries;
    r->entries = e;
    pthread_mutex_unlock(&r->mu);
    return e;
}

static int is_lua_name(const char *f) {
    size_t n = f ? strlen(f) : 0;
    return n > 4 && f[0] != '.' && !strcmp(f + n - 4, ".lua") && !strchr(f, '/');
}

static void on_fs_event(uv_fs_event_t *h, const char *file, int events, int status) {
    watch_dir *w = h->data;
    sdsim_reload *r = w->r;
    if (status < 0 || r->stopping || !is_lua_name(file)) return;
    entry *e = entry_add(r, w, file);
    if (!e) return;
    if (!e->t_first) e->t_first = uv_hrtime();
    /* Editors write in several steps (truncate, write, rename): wait for quiet. */
    uv_timer_start(&e->timer, on_debounce, r->debounce_ms, 0);
}

/* sync: validated now; else queued on the thread pool (in parallel). */
static void scan_dir(sdsim_reload *r, watch_dir *w, int sync) {
    DIR *d = opendir(w->path);
    if (!d) return;
    struct dirent *ent;
    while ((ent = readdir(d)))
        if (is_lua_name(ent->d_name)) {
            entry *e = entry_add(r, w, ent->d_name);
            if (!e) continue;
            if (sync)
                examine(e, 1);
            else
                enqueue(r, e);
        }
    closedir(d);
}

static int add_dir(sdsim_reload *r, const char *path, sdsim_reload_kind kind, int plugin, char *err,
                   size_t errlen) {
    if (r->ndirs == MAX_DIRS) {
        snprintf(err, errlen, "too many watched directories (%d at most)", MAX_DIRS);
        return -1;
    }
    watch_dir *w = &r->dirs[r->ndirs];
    w->r = r;
    w->kind = kind;
    w->plugin = plugin;
    snprintf(w->path, sizeof w->path, "%s", path);
    uv_fs_event_init(r->loop, &w->ev);
    w->ev.data = w;
    r->ndirs++;
    r->open_handles++;
    int rc = uv_fs_event_start(&w->ev, on_fs_event, path, 0);
    if (rc != 0) {
        snprintf(err, errlen, "cannot watch %s: %s", path, uv_strerror(rc));
        return -1;
    }
    return 0;
}

static void registry_free(sdsim_reload *r) {
    for (entry *e = r->entries, *next; e; e = next) {
        next = e->next;
        sdsim_reload_release(e->cur ? &e->cur->pub : NULL);
        free(e->last_error);
        free(e);
    }
    pthread_mutex_destroy(&r->mu);
    free(r->plugin_dirs);
    free(r);
}

static void maybe_free(sdsim_reload *r) {
    if (r->stopping && r->open_handles == 0 && r->jobs == 0) registry_free(r);
}

/* Close callbacks find the registry in the handle's data (set just before uv_close). */
static void close_cb(uv_handle_t *h) {
    sdsim_reload *r = h->data;
    r->open_handles--;
    maybe_free(r);
}

static void close_handle(sdsim_reload *r, uv_handle_t *h) {
    h->data = r;
    uv_close(h, close_cb);
}

sdsim_reload *sdsim_reload_start(uv_loop_t *loop, const sdsim_reload_opts *opts, char *err,
                                 size_t errlen) {
    sdsim_reload *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->loop = loop;
    pthread_mutex_init(&r->mu, NULL);
    r->debounce_ms = opts->debounce_ms ? opts->debounce_ms : 40;
    r->cb = opts->cb;
    r->ud = opts->ud;
    const char *root = opts->root ? opts->root : sdsim_root();
    static const struct {
        const char *sub;
        sdsim_reload_kind kind;
    } std_dirs[] = {
        {"components", SDSIM_RELOAD_TYPE},
        {"templates", SDSIM_RELOAD_TEMPLATE},
        {"scripts/scenarios", SDSIM_RELOAD_SCENARIO},
    };
    char path[4096];
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        snprintf(path, sizeof path, "%s/%s", root, std_dirs[i].sub);
        rc = add_dir(r, path, std_dirs[i].kind, 0, err, errlen);
    }
    if (opts->handlers && rc == 0) {
        snprintf(path, sizeof path, "%s/scripts/api", root);
        rc = add_dir(r, path, SDSIM_RELOAD_HANDLER, 0, err, errlen);
    }
    for (int i = 0; i < opts->nplugin_dirs && rc == 0; i++) {
        rc = add_dir(r, opts->plugin_dirs[i], SDSIM_RELOAD_TYPE, 1, err, errlen);
        size_t old = r->plugin_dirs ? strlen(r->plugin_dirs) : 0;
        char *p = realloc(r->plugin_dirs, old + strlen(opts->plugin_dirs[i]) + 2);
        if (p) {
            snprintf(p + old, strlen(opts->plugin_dirs[i]) + 2, "%s%s", old ? ":" : "",
                     opts->plugin_dirs[i]);
            r->plugin_dirs = p;
        }
    }
    if (rc != 0) {
        sdsim_reload_stop(r);
        return NULL;
    }
    /* Built-in types first, so that a plugin reusing a name is refused; plugin types before
     * templates, which are validated against them. */
    r->revalidate = opts->revalidate_templates;
    r->scanning = 1;
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < r->ndirs; i++) {
            watch_dir *w = &r->dirs[i];
            int p = w->kind == SDSIM_RELOAD_TYPE ? w->plugin : 2;
            int sync = !opts->async_start || w->kind == SDSIM_RELOAD_TYPE ||
                       w->kind == SDSIM_RELOAD_HANDLER;
            if (p == pass) scan_dir(r, w, sync);
        }
    r->scanning = 0;
    start_next(r);
    return r;
}

void sdsim_reload_stop(sdsim_reload *r) {
    if (!r || r->stopping) return;
    r->stopping = 1;
    /* Validations still queued are dropped (uv_cancel fails for running ones, which end). */
    for (job *j = r->in_flight; j; j = j->next_job)
        uv_cancel((uv_req_t *)&j->req);
    for (int i = 0; i < r->ndirs; i++)
        close_handle(r, (uv_handle_t *)&r->dirs[i].ev);
    for (entry *e = r->entries; e; e = e->next)
        close_handle(r, (uv_handle_t *)&e->timer);
    maybe_free(r);
}

/* ------------------------------------------------------------------------------------- */
/* Lookups (any thread) */

static entry *entry_by_name(sdsim_reload *r, sdsim_reload_kind kind, const char *name) {
    entry *found = NULL;
    for (entry *e = r->entries; e; e = e->next)
        if (e->kind == kind && !strcmp(e->name, name) && (e->cur || e->last_error) &&
            (!found || (found->plugin && !e->plugin)))
            found = e;
    return found;
}

const sdsim_reload_version *sdsim_reload_get(sdsim_reload *r, sdsim_reload_kind kind,
                                             const char *name) {
    pthread_mutex_lock(&r->mu);
    entry *e = entry_by_name(r, kind, name);
    version_rc *v = e ? e->cur : NULL;
    if (v) __atomic_add_fetch(&v->refs, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_unlock(&r->mu);
    return v ? &v->pub : NULL;
}

int sdsim_reload_last_error(sdsim_reload *r, sdsim_reload_kind kind, const char *name, char *out,
                            size_t cap) {
    pthread_mutex_lock(&r->mu);
    entry *e = entry_by_name(r, kind, name);
    int rc = e && e->last_error ? 0 : -1;
    if (rc == 0) snprintf(out, cap, "%s", e->last_error);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int sdsim_reload_busy(sdsim_reload *r) {
    return r->jobs + r->start_queued + r->retrying;
}

struct sdsim_lua_sources *sdsim_reload_type_sources(sdsim_reload *r) {
    sdsim_lua_sources *set = sdsim_lua_sources_new();
    if (!set) return NULL;
    int failed = r->plugin_dirs && sdsim_lua_sources_add_plugin_dir(set, r->plugin_dirs);
    pthread_mutex_lock(&r->mu);
    for (entry *e = r->entries; e && !failed; e = e->next)
        if (e->kind == SDSIM_RELOAD_TYPE && e->cur)
            failed = sdsim_lua_sources_add(set, e->cur->pub.path, e->cur->pub.source,
                                           e->cur->pub.source_len) != 0;
    pthread_mutex_unlock(&r->mu);
    if (failed) {
        sdsim_lua_sources_unref(set);
        return NULL;
    }
    return set;
}

void sdsim_reload_each(sdsim_reload *r, sdsim_reload_kind kind, sdsim_reload_each_fn fn, void *ud) {
    pthread_mutex_lock(&r->mu);
    for (entry *e = r->entries; e; e = e->next)
        if (e->kind == kind && (e->cur || e->last_error))
            fn(e->cur ? &e->cur->pub : NULL, e->last_error, e->name, ud);
    pthread_mutex_unlock(&r->mu);
}
