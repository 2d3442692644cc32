/* Lua component behaviours (docs/plugin-api.md): the script host that runs the
 * SIM_BEHAVIOR_SCRIPT components of a design (engine/sim_script.h), and the isolation of runs
 * that use untrusted plugin types.
 *
 * A design loaded by design_load.c carries, for each script component, a JSON text with the
 * type file, the component's params and whether the type is a plugin. Attaching creates one
 * LuaJIT state (JIT on) holding the type files (each in the sandbox environment) and
 * scripts/sdk/behavior.lua, and installs it as the design's script host: every run of the
 * design then drives the behaviours through pooled coroutines. One run at a time per design. */
#pragma once
#include <stddef.h>
#include "model.h"

typedef struct sdsim_behavior_host sdsim_behavior_host;

typedef struct sdsim_behavior_opts {
    size_t mem_limit; /* bytes the Lua state may hold (0: 1 GB) */
} sdsim_behavior_opts;

/* 1 when some component of d has a script behaviour; sdsim_design_has_plugins: when one of
 * them comes from a plugin directory (untrusted). */
int sdsim_design_has_scripts(const sim_design *d);
int sdsim_design_has_plugins(const sim_design *d);

/* Loads the behaviours of d's script components and attaches the host to d (opts may be
 * NULL). NULL with a one-line message ("file:line: reason") in err. */
sdsim_behavior_host *sdsim_behavior_attach(sim_design *d, const sdsim_behavior_opts *opts,
                                           char *err, size_t errlen);
/* Detaches the host from d (if attached to it) and frees it. */
void sdsim_behavior_detach(sim_design *d, sdsim_behavior_host *h);

/* Limits for a run with plugins, which runs in a forked child process. */
typedef struct sdsim_isolation {
    double cpu_s;     /* CPU seconds (default 60) */
    double wall_s;    /* wall-clock seconds (default 10 x cpu_s + 10) */
    size_t memory_mb; /* the Lua heap cap and, with the engine's memory, the address-space
                         limit's basis (default 1024) */
} sdsim_isolation;

/* Runs body(d, ud) with d's behaviours attached, and returns what body returns (an exit
 * code). Without script components body runs as it is; with trusted ones only, in this
 * process; with plugins, in a forked child under the limits (lim may be NULL): a crash, an
 * endless loop or a memory bomb then costs only the child, and this returns 2 after
 * printing one line to stderr that names the plugin file (and line, when Lua knows it).
 * A failure to attach prints its line too and returns 2. A plain fork: for the CLI (one
 * thread); the threaded server's runs with plugins exec a fresh child instead (api_jobs.h). */
int sdsim_behavior_run(sim_design *d, const sdsim_isolation *lim,
                       int (*body)(sim_design *d, void *ud), void *ud);
