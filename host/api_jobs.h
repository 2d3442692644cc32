/* api_jobs.c beyond the host.* functions (api.h): the server's runs of designs with plugin
 * types, which run in a child process exec'd as `sdsim __run-child` once
 * sdsim_design_set_exec has named sdsim's binary (docs/sandbox.md). */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* sdsim's hidden subcommand `__run-child` (argv after it): the exec'd child's side. */
int sdsim_api_run_child_main(int argc, char **argv);

typedef struct sdsim_api_run_opts {
    double duration, warmup, wall_limit; /* seconds */
    uint64_t seed;
    int max_components; /* 0: no limit */
} sdsim_api_run_opts;

/* host.run's work on the calling thread, with its active source set (sdsim_lua_sources_use),
 * as a worker thread does it: NULL with the report's JSON text in *text (malloc'd), or the
 * failure's code ("invalid", "timeout", "stopped", "failed" ...) with its message in msg. */
const char *sdsim_api_run_now(const char *json, size_t len, const sdsim_api_run_opts *opts,
                              char **text, size_t *text_len, char *msg, size_t msglen);
