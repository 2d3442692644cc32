/* host.console_run(user_id, code): a user's Lua console (scripts/api/console.lua, the /ws
 * "console" message). Each user has a sandbox of their own (host/sandbox.h, as `sdsim script
 * --sandbox`: allow-listed globals, CPU and memory limits, seccomp, and the `sim` module with
 * templates only); its globals persist from one line to the next until a run is killed. The
 * sandbox process is exec'd afresh (exec_path), not a plain fork of this threaded server.
 *
 * A run blocks in sdsim_sandbox_run_string, so it happens on the thread pool: at most one run
 * per user at a time (a second one is refused as busy), each bounded by the sandbox's wall
 * clock limit. At most MAX_CONSOLES sandboxes live at once; the least recently used idle one
 * is stopped to make room. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "api.h"
#include "sandbox.h"

#define MAX_CONSOLES 16
#define CONSOLE_CPU_MS 3000
#define CONSOLE_MEMORY ((size_t)64 << 20)
#define CONSOLE_OUTPUT ((size_t)64 << 10)

typedef struct console {
    char user[64];
    sdsim_sandbox *sb; /* NULL until the first run starts it */
    int busy;          /* a run is on the thread pool */
    double last_used;
} console;

static console consoles[MAX_CONSOLES];
static int stopping;

typedef struct run_job {
    uv_work_t work;
    sdsim_api_call *call;
    sdsim_server *srv;
    console *c;
    char *code;
    size_t len;
    sdsim_sandbox_result res;
    int have_res;
    char err[1100];
} run_job;

/* The user's console, or a free (or the least recently used idle) slot for them. */
static console *console_for(const char *user) {
    console *free_slot = NULL, *lru = NULL;
    for (int i = 0; i < MAX_CONSOLES; i++) {
        console *c = &consoles[i];
        if (c->user[0] && !strcmp(c->user, user)) return c;
        if (!c->user[0] && !free_slot) free_slot = c;
        if (c->user[0] && !c->busy && (!lru || c->last_used < lru->last_used)) lru = c;
    }
    console *c = free_slot ? free_slot : lru;
    if (!c) return NULL;
    if (c->sb) sdsim_sandbox_stop(c->sb);
    memset(c, 0, sizeof *c);
    snprintf(c->user, sizeof c->user, "%s", user);
    return c;
}

static void run_work(uv_work_t *w) {
    run_job *j = w->data;
    if (!j->c->sb) {
        sdsim_sandbox_limits lim;
        sdsim_sandbox_limits_default(&lim);
        lim.cpu_ms = CONSOLE_CPU_MS;
        lim.memory_bytes = CONSOLE_MEMORY;
        lim.output_bytes = CONSOLE_OUTPUT;
        lim.exec_path = "/proc/self/exe";
        lim.sim_module = 1;
        j->c->sb = sdsim_sandbox_start(&lim, j->err, sizeof j->err);
        if (!j->c->sb) return;
    }
    if (sdsim_sandbox_run_string(j->c->sb, "console", j->code, j->len, &j->res) == 0)
        j->have_res = 1;
    else
        snprintf(j->err, sizeof j->err, "%s", j->res.message);
}

static const char *status_name(sdsim_sandbox_status st) {
    switch (st) {
    case SDSIM_SANDBOX_OK:
        return "ok";
    case SDSIM_SANDBOX_ERROR:
        return "error";
    case SDSIM_SANDBOX_KILLED_CPU:
        return "killed_cpu";
    case SDSIM_SANDBOX_KILLED_MEMORY:
        return "killed_memory";
    case SDSIM_SANDBOX_CRASHED:
        return "crashed";
    }
    return "error";
}

/* {status, output, values, error ("console:LINE: message" or nil), cpu_ms} */
static void push_result(lua_State *L, run_job *j) {
    lua_createtable(L, 0, 5);
    if (!j->have_res) {
        lua_pushstring(L, "error");
        lua_setfield(L, -2, "status");
        lua_pushfstring(L, "the console could not run: %s", j->err[0] ? j->err : "unknown");
        lua_setfield(L, -2, "error");
        return;
    }
    sdsim_sandbox_result *r = &j->res;
    lua_pushstring(L, status_name(r->status));
    lua_setfield(L, -2, "status");
    lua_pushlstring(L, r->output ? r->output : "", r->output ? r->output_len : 0);
    lua_setfield(L, -2, "output");
    lua_pushstring(L, r->values);
    lua_setfield(L, -2, "values");
    lua_pushboolean(L, r->output_truncated);
    lua_setfield(L, -2, "truncated");
    lua_pushnumber(L, r->cpu_ms);
    lua_setfield(L, -2, "cpu_ms");
    if (r->status != SDSIM_SANDBOX_OK) {
        char line[1400];
        sdsim_sandbox_result_line(r, line, sizeof line);
        lua_pushstring(L, line);
        lua_setfield(L, -2, "error");
    }
}

static void run_done(uv_work_t *w, int status) {
    run_job *j = w->data;
    j->srv->jobs_running--;
    j->c->busy = 0;
    j->c->last_used = sdsim_server_now();
    if (status != 0) snprintf(j->err, sizeof j->err, "cancelled");
    if (!stopping) {
        push_result(sdsim_api_call_thread(j->call), j);
        sdsim_api_call_resume(j->call, 1);
    } else if (j->c->sb) {
        sdsim_sandbox_stop(j->c->sb);
        j->c->sb = NULL;
    }
    if (j->have_res) sdsim_sandbox_result_free(&j->res);
    free(j->code);
    free(j);
}

/* host.console_run(user_id, code) -> {status, output, values, error, cpu_ms} | nil, "busy" */
static int host_console_run(lua_State *L) {
    const char *user = luaL_checkstring(L, 1);
    size_t len = 0;
    const char *code = luaL_checklstring(L, 2, &len);
    sdsim_api_call *call = sdsim_api_call_check(L, "host.console_run");
    if (stopping) return luaL_error(L, "the server is shutting down");
    console *c = console_for(user);
    if (!c || c->busy) {
        lua_pushnil(L);
        lua_pushstring(L, c ? "busy: the previous line is still running"
                            : "busy: every console is running; try again shortly");
        return 2;
    }
    run_job *j = calloc(1, sizeof *j);
    if (!j || !(j->code = malloc(len + 1))) {
        free(j);
        return luaL_error(L, "out of memory");
    }
    memcpy(j->code, code, len + 1);
    j->len = len;
    j->c = c;
    j->call = call;
    j->srv = sdsim_api_server(sdsim_api_of(L));
    j->work.data = j;
    if (uv_queue_work(&j->srv->loop, &j->work, run_work, run_done) != 0) {
        free(j->code);
        free(j);
        return luaL_error(L, "host.console_run: cannot queue the work");
    }
    c->busy = 1;
    j->srv->jobs_running++;
    sdsim_api_call_wait(call);
    return lua_yield(L, 0);
}

void sdsim_api_console_register(lua_State *L) {
    lua_pushcfunction(L, host_console_run);
    lua_setfield(L, -2, "console_run");
}

void sdsim_api_console_stop_all(void) {
    stopping = 1;
    for (int i = 0; i < MAX_CONSOLES; i++)
        if (consoles[i].sb && !consoles[i].busy) {
            sdsim_sandbox_stop(consoles[i].sb);
            consoles[i].sb = NULL;
        }
}
