/* `sdsim script [--sandbox] FILE.lua`: runs a Lua script, trusted in-process (full libraries,
 * JIT on) or untrusted in a sandbox process (host/sandbox.h) with CPU and memory limits.
 * Exit codes: 0 the script ran, 1 it failed or was cut off (one line on stderr naming file and
 * line), 2 a usage error. The command never dies by a signal itself. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua_sim.h"
#include "sandbox.h"

int sdsim_cli_script(int argc, char **argv);

extern int luaopen_cjson(lua_State *L);

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static void usage(FILE *out) {
    fputs(
        "usage: sdsim script [--sandbox [--cpu-ms N] [--wall-ms N] [--memory-mb N] [--no-jit]\n"
        "                    [--exec] [--no-sim]]"
        " FILE.lua\n"
        "  --sandbox      run FILE as untrusted code: allow-listed globals, its own process,\n"
        "                 CPU and memory limits (docs/sandbox.md)\n"
        "  --cpu-ms N     CPU time the script may use (default 1000)\n"
        "  --wall-ms N    wall-clock time it may take (default 5 x CPU + 1000)\n"
        "  --memory-mb N  Lua memory the script may hold (default 64)\n"
        "  --no-jit       interpreter only, stopped by a count hook (slower; for comparison)\n"
        "  --no-sim       without the sim module (it reads the SDK, types and templates at start)\n"
        "  --exec         the sandbox process execs sdsim afresh instead of being a plain fork\n",
        out);
}

static int parse_int(const char *name, const char *text, long min, long max, long *out) {
    char *end;
    long v = text ? strtol(text, &end, 10) : 0;
    if (!text || *end || end == text || v < min || v > max) {
        fprintf(stderr, "sdsim script: %s needs a whole number in [%ld, %ld]\n", name, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static void write_output(void *ud, const char *text, size_t len) {
    (void)ud;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
}

static int run_sandboxed(const char *path, const sdsim_sandbox_limits *lim) {
    char err[512];
    sdsim_sandbox *s = sdsim_sandbox_start(lim, err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s: %s\n", path, err);
        return EXIT_FAILED;
    }
    sdsim_sandbox_set_output(s, write_output, NULL);
    sdsim_sandbox_result r;
    sdsim_sandbox_run_file(s, path, &r);
    int rc = r.status == SDSIM_SANDBOX_OK ? EXIT_OK : EXIT_FAILED;
    if (rc != EXIT_OK) {
        char line[1400];
        sdsim_sandbox_result_line(&r, line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
    sdsim_sandbox_result_free(&r);
    sdsim_sandbox_stop(s);
    return rc;
}

/* Trusted: first line of the error message only (it carries file:line). */
static int run_trusted(const char *path) {
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "%s: out of memory\n", path);
        return EXIT_FAILED;
    }
    luaL_openlibs(L);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, luaopen_cjson);
    lua_setfield(L, -2, "cjson");
    lua_pop(L, 2);
    sdsim_lua_sim_install(L); /* the global `sim` (host/lua_sim.h); trusted scripts only */
    int rc = luaL_loadfile(L, path);
    if (rc == 0) rc = lua_pcall(L, 0, 0, 0);
    if (rc != 0) {
        const char *msg = lua_tostring(L, -1);
        if (!msg) msg = "(error object is not a string)";
        const char *nl = strchr(msg, '\n');
        fprintf(stderr, "%.*s\n", nl ? (int)(nl - msg) : (int)strlen(msg), msg);
    }
    fflush(stdout);
    lua_close(L);
    return rc ? EXIT_FAILED : EXIT_OK;
}

int sdsim_cli_script(int argc, char **argv) {
    sdsim_sandbox_limits lim;
    sdsim_sandbox_limits_default(&lim);
    int sandbox = 0, no_sim = 0;
    const char *path = NULL;
    /* The sandbox's own child process, exec'd by a host (sandbox.h, exec_path). */
    if (argc == 2 && !strcmp(argv[0], "--sandbox-child")) return sdsim_sandbox_child_entry(argv[1]);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        long v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return EXIT_OK;
        } else if (!strcmp(a, "--sandbox")) {
            sandbox = 1;
        } else if (!strcmp(a, "--no-sim")) {
            no_sim = 1;
        } else if (!strcmp(a, "--no-jit")) {
            lim.jit = 0;
        } else if (!strcmp(a, "--exec")) {
            lim.exec_path = "/proc/self/exe";
        } else if (!strcmp(a, "--cpu-ms")) {
            if (parse_int(a, i + 1 < argc ? argv[++i] : NULL, 1, 3600000, &v) != 0)
                return EXIT_USAGE;
            lim.cpu_ms = (int)v;
        } else if (!strcmp(a, "--wall-ms")) {
            if (parse_int(a, i + 1 < argc ? argv[++i] : NULL, 1, 3600000, &v) != 0)
                return EXIT_USAGE;
            lim.wall_ms = (int)v;
        } else if (!strcmp(a, "--memory-mb")) {
            if (parse_int(a, i + 1 < argc ? argv[++i] : NULL, 1, 1 << 20, &v) != 0)
                return EXIT_USAGE;
            lim.memory_bytes = (size_t)v << 20;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "sdsim script: unknown option '%s'\n", a);
            usage(stderr);
            return EXIT_USAGE;
        } else if (!path) {
            path = a;
        } else {
            fprintf(stderr, "sdsim script: one script at a time ('%s' is extra)\n", a);
            return EXIT_USAGE;
        }
    }
    if (!path) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (sandbox && !no_sim) lim.sim_module = 1; /* sim, templates only (docs/sandbox.md) */
    signal(SIGPIPE, SIG_IGN); /* a closed stdout must not kill us: writes just fail */
    return sandbox ? run_sandboxed(path, &lim) : run_trusted(path);
}
