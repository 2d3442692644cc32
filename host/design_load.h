/* From a design document to the engine's sim_design.
 *
 * A design file is either JSON (a design document, docs/design-format.md) or a template:
 * a .lua file returning a Lua table of the same shape. The document is decoded, checked
 * against the component types declared in components/NAME.lua (every problem collected with
 * its JSON path), its defaults filled in, and only then converted for the engine. */
#pragma once
#include "model.h"

typedef struct sdsim_problem {
    char path[256];   /* JSONPath of the offending value, e.g. $.components[2].replicas */
    char reason[512]; /* one sentence a person can act on */
} sdsim_problem;

typedef struct sdsim_problems {
    sdsim_problem *items;
    int n, cap;
} sdsim_problems;

void sdsim_problems_add(sdsim_problems *p, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sdsim_problems_free(sdsim_problems *p);

/* Where the project's Lua lives (components/, templates/, scripts/): the SDSIM_ROOT
 * environment variable, else the source tree the binary was built from. */
const char *sdsim_root(void);

/* Loads, validates and converts a design file. Returns the design (free it with
 * sim_design_free), or NULL with at least one entry in problems. A path ending in .lua is a
 * template: it runs sandboxed in a forked child process (50 M instructions, 256 MB, 20 s),
 * so not even a crash of the Lua VM takes the caller down. Anything else is read as JSON
 * (at most 16 MB, UTF-8). Validation itself runs in a fresh Lua state per call
 * (scripts/sdk/design.lua and the component types in components/ under sdsim_root()). */
sim_design *sdsim_load_design_file(const char *path, sdsim_problems *problems);

/* The same from a JSON text already in memory (the server's request bodies). */
sim_design *sdsim_load_design_json(const char *json, size_t len, sdsim_problems *problems);

/* ------------------------------------------------------------------------------------- */
/* Scenarios (docs/scenarios.md): a Lua file under scripts/scenarios/ (or anywhere) whose
 * build function adds faults and extra workload sources to a design document, and may change
 * the resilience fields of call edges, before the document is validated. It runs like a
 * template: in a forked child, in the sandbox, under 50 M instructions, 256 MB and 20 s. */

typedef struct sdsim_scenario {
    const char *file;          /* the scenario's .lua file (sdsim_scenario_resolve) */
    const char *const *params; /* "key=value" texts (--scenario-param), nparams of them */
    int nparams;
    double duration;    /* the run's simulated seconds: default times scale with it */
    char summary[1024]; /* out: "db_failover — crash db replica 0 at 20 s for 20 s" */
    char error[1024];   /* out: why the scenario itself failed ("file:line: message") */
} sdsim_scenario;

/* Like sdsim_load_design_file, with the scenario applied to the document first (sc may be
 * NULL). On failure either sc->error is set (the scenario failed: nothing in problems) or
 * problems lists what is wrong with the design, the scenario's additions included (their
 * reasons then start with the scenario's file:line that added them). */
sim_design *sdsim_load_design_file_scenario(const char *path, sdsim_scenario *sc,
                                            sdsim_problems *problems);

/* The same from a design document's JSON text in memory (the server's live simulations). */
sim_design *sdsim_load_design_json_scenario(const char *json, size_t len, sdsim_scenario *sc,
                                            sdsim_problems *problems);

/* The shipped scenarios as JSON, malloc'd: {"scenarios": [{"name", "title", "description",
 * "about" (the file's leading comment), "params": {KEY: {type, default, min, max, help}}}
 * ...]} (a file that fails to load: {"name", "error"}); NULL with a message in err. Runs
 * the files in a forked child like sdsim_scenario_catalog. */
char *sdsim_scenario_catalog_json(char *err, size_t errlen);

/* NAME (a file scripts/scenarios/NAME.lua under sdsim_root()) or a path to a .lua file ->
 * the file's path in out. -1 with a message naming the shipped scenarios in err. */
int sdsim_scenario_resolve(const char *name, char *out, size_t cap, char *err, size_t errlen);

/* The shipped scenarios with their descriptions and parameters, as text for people
 * (malloc'd), or NULL with a message in err. */
char *sdsim_scenario_catalog(char *err, size_t errlen);

/* ------------------------------------------------------------------------------------- */
/* Pushes the module table of scripts/sdk/design.lua onto L, with the host functions it needs
 * (component files run sandboxed, as for validation), for code that lists the component types
 * (the server's GET /api/components: D.load_types, D.json_schema). 0, or -1 with a message in
 * err and nothing pushed. */
struct lua_State;
int sdsim_design_sdk_push(struct lua_State *L, char *err, size_t errlen);

/* ------------------------------------------------------------------------------------- */
/* Sources in memory (lua_state.h) for the server's loads: a load on a thread with no active
 * source set asks the provider (the hot-reload registry's current snapshot) for one, and
 * reads the component types from it. NULL fn: none. */
struct sdsim_lua_sources;
void sdsim_design_set_source_provider(struct sdsim_lua_sources *(*fn)(void *ud), void *ud);

/* A template loaded like sdsim_load_design_file, also giving the document the template
 * returned as JSON (malloc'd) in *doc_json, for the template gallery. */
sim_design *sdsim_load_template_doc(const char *path, char **doc_json, sdsim_problems *problems);

/* Checks one component type given as text (a user's plugin), as the loaders check a type
 * file, in a forked child under the loaders' budgets. 0 with the JSON text
 * {"ok":true,"decl":{...}} or {"error":"path:line: reason"} in *decl_json (malloc'd); -1
 * when the check itself could not run (err says why). */
int sdsim_check_type_source(const char *path, const char *text, size_t len, char **decl_json,
                            char *err, size_t errlen);

/* Ends (SIGKILL) every template, scenario or plugin check running in a child process now: a
 * server shutting down does not wait for them. Any thread. */
void sdsim_design_kill_children(void);

/* From now on, the checks above run in a child that execs `PATH __design-child` (an sdsim
 * binary; the server gives /proc/self/exe) instead of a plain fork: safe in a threaded
 * process. NULL or "": plain fork (the default; the CLI). Call before starting threads. */
void sdsim_design_set_exec(const char *path);
/* sdsim's hidden subcommand `__design-child` (argv after it): the exec'd child's side. */
int sdsim_design_child_main(int argc, char **argv);

/* ---- the exec'd children's plumbing (shared with api_jobs.c's runs with plugins) ----
 * A child for isolated work is either a plain fork running a function (the CLI), or, once
 * sdsim_design_set_exec has named an sdsim binary, a fork that at once execs `PATH
 * SUBCOMMAND` (fork-safe in a threaded process: only async-signal-safe calls before execv;
 * signal mask reset, PDEATHSIG, every descriptor but 1 and 2 closed). The exec'd child reads
 * its request (sandbox_proto frames) on stdin until EOF and writes its answer on descriptor 3. */
#include <sys/types.h>
struct sdsim_proto_buf;
struct sdsim_proto_cursor;
struct sdsim_lua_sources;

/* The frame types of the thread's source set in a request (others are the caller's). */
enum { SDSIM_CHILD_SOURCE = 2, SDSIM_CHILD_PLUGIN_DIRS = 3 };

/* The binary sdsim_design_set_exec named, or NULL (plain fork). */
const char *sdsim_child_exec_path(void);
/* Forks a child. req non-NULL: it execs `<exec path> subcommand` and gets req on its stdin
 * (sent before this returns, up to deadline_ms on CLOCK_MONOTONIC); req NULL: it calls
 * body(ud, out) in the fork (body must _exit). *out_fd: the read end of the child's output
 * (its descriptor 3 when exec'd, out otherwise), or -1 when the deadline passed while sending
 * (the child was killed). The child is tracked until sdsim_child_reap: sdsim_design_kill_children
 * ends it. The pid, or -1 with a message in err. */
pid_t sdsim_child_spawn(const char *subcommand, const struct sdsim_proto_buf *req,
                        void (*body)(void *ud, int out), void *ud, long long deadline_ms,
                        int *out_fd, char *err, size_t errlen);
/* Waits for a child of sdsim_child_spawn and forgets it; its wait status. */
int sdsim_child_reap(pid_t pid);
/* Appends the calling thread's active source set (sdsim_lua_sources_use) to a request as
 * frames. 0, or -1 (out of memory, or the request grew past 256 MB). */
int sdsim_child_put_sources(struct sdsim_proto_buf *b);

/* The exec'd child's side. Reads the whole request from stdin (checks that descriptor 3 is
 * open, else prints that the command is internal): 0 with a malloc'd *buf, or an exit code. */
int sdsim_child_read_request(const char *subcommand, char **buf, size_t *len);
/* The next frame of the request: 1 with its type and payload, 0 at the end, -1 malformed. */
int sdsim_child_next_frame(struct sdsim_proto_cursor *all, int *type,
                           struct sdsim_proto_cursor *payload);
/* A source-set frame into *set (created on first use): 0, 1 when type is not one (the
 * caller's), else an exit code (3 memory, 4 malformed). */
int sdsim_child_take_source(int type, struct sdsim_proto_cursor *c, struct sdsim_lua_sources **set);
