/* The HTTP API's handlers: Lua files under scripts/api/ (routes.lua maps "METHOD /path" to
 * "module.function"), run in one trusted LuaJIT state of the server, each request in its own
 * coroutine (OpenResty style). A handler that waits (host.sleep, a simulation on a worker
 * thread, later database and Redis I/O) yields its coroutine and the loop serves others; the
 * operation resumes it when done. Handlers and routes are looked up per request from tables
 * that can be swapped (hot reload). */
#pragma once
#include <stddef.h>

#include "server_defs.h"

/* Loads scripts/api/init.lua (the dispatcher) and the routes. NULL with a message. */
sdsim_api *sdsim_api_new(sdsim_server *srv, char *err, size_t errlen);
void sdsim_api_free(sdsim_api *api);

/* Runs the handler of an /api request in a new coroutine; it answers through
 * sdsim_http_respond, now or after yielding. */
void sdsim_api_handle(sdsim_api *api, sdsim_http_req *r);

/* A WebSocket text message of connection conn_id: runs dispatcher.ws_message(conn_id, text)
 * in a coroutine of its own (it may wait on the host like an HTTP handler); its reply is sent
 * with sdsim_ws_send_text, or the connection closed with the code it returns. */
void sdsim_api_ws_handle(sdsim_api *api, uint64_t conn_id, const char *text, size_t len);
/* The connection is gone: dispatcher.ws_closed(conn_id) forgets it. */
void sdsim_api_ws_closed(sdsim_api *api, uint64_t conn_id);

/* Shutdown: asks every worker job to stop (running simulations check the flag) and drops
 * handlers still sleeping. */
void sdsim_api_cancel_all(sdsim_api *api);

/* ---- for the host.* functions of api_jobs.c ---- */
struct lua_State;
typedef struct sdsim_api_call sdsim_api_call;

/* The call whose coroutine is L; raises a Lua error when L is not a request's coroutine (a
 * handler's own coroutine cannot wait on the host). */
sdsim_api_call *sdsim_api_call_check(struct lua_State *L, const char *fname);
/* Marks the call as waiting: the C function then returns lua_yield(L, 0). */
void sdsim_api_call_wait(sdsim_api_call *c);
/* The call's coroutine, to push the operation's results on before resuming. */
struct lua_State *sdsim_api_call_thread(sdsim_api_call *c);
/* Resumes the coroutine with the nargs values pushed on it. */
void sdsim_api_call_resume(sdsim_api_call *c, int nargs);
sdsim_server *sdsim_api_server(sdsim_api *api);
sdsim_api *sdsim_api_of(struct lua_State *L);

/* api_jobs.c: host.validate, host.analyze, host.run, host.components into the table on top. */
void sdsim_api_jobs_register(struct lua_State *L);
/* Sets the cancel flag of every job still queued or running. */
void sdsim_api_jobs_cancel_all(void);

/* The request a call answers (NULL never while the call lives). */
sdsim_http_req *sdsim_api_call_req(sdsim_api_call *c);

/* api_store.c: the store (migrated), the JWT key and the bus, opened before the server
 * listens (database_url NULL: SQLite in the data directory) and closed on shutdown; the
 * host.store.*, host.auth.*, host.rate_hit and host.peer_ip functions into the table on top. */
int sdsim_api_store_open(sdsim_server *s, const char *database_url, char *err, size_t errlen);
void sdsim_api_store_close(void);
void sdsim_api_store_register(struct lua_State *L);

/* api_store.c, for other bindings over the same store (api_library.c). */
typedef struct sdsim_store sdsim_store;
sdsim_store *sdsim_api_store_handle(void); /* NULL: not open, or closing */
int sdsim_api_store_closing(void);
/* api_library.c: host.library.* (templates, plugins, design sources) into the table on top. */
void sdsim_api_library_register(struct lua_State *L);

/* api_live.c: live simulations (host/live_sim.h) for the API: a registry by id with the owner,
 * host.live.* into the table on top, their sessions persisted in the store. */
void sdsim_api_live_register(struct lua_State *L);
/* Shutdown, first step: stops every live simulation; their reports are then persisted
 * (srv->live_pending counts what is not yet written). */
void sdsim_api_live_stop_all(sdsim_server *srv);
/* Shutdown, last step: frees every live simulation, ended or not. */
void sdsim_api_live_free_all(void);

/* api_reload.c: hot reload of components, templates, scenarios and handler modules. */
typedef struct sdsim_reload sdsim_reload;
int sdsim_api_reload_start(sdsim_api *api, uv_loop_t *loop, char *err, size_t errlen);
void sdsim_api_reload_stop(void);
sdsim_reload *sdsim_api_reload(void); /* NULL when not started (or stopped) */
/* api.c: pushes the dispatcher table (init.lua's M) on the API state and returns the state. */
struct lua_State *sdsim_api_push_dispatcher(sdsim_api *api);

/* api_console.c: host.console_run (a user's Lua console in a sandbox of their own). */
void sdsim_api_console_register(struct lua_State *L);
void sdsim_api_console_stop_all(void);

/* api_jobs.c: the component types a job on a worker thread should read (loop thread): the
 * hot-reload registry's snapshot, plus the plugins in the table at stack index idx ({{name =,
 * source =}...}, a user's: plugins.lua's sources_of) when there is one. The worker makes it
 * active around its load (sdsim_lua_sources_use, lua_state.h) and unrefs it after. NULL: read
 * the disk. */
struct sdsim_lua_sources;
struct sdsim_lua_sources *sdsim_api_job_sources(struct lua_State *L, int idx);
