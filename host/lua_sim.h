/* The Lua module `sim`: load a design document as a Lua table, edit it, simulate it, sweep a
 * parameter, find the highest load or the cheapest configuration that meets an SLO
 * (docs/scripting.md). The search logic is Lua (scripts/sdk/sim.lua under sdsim_root()); this
 * is the bridge to the loader, the engine and the analytic pass.
 *
 * It is trusted code's module: sim.load reads files named by the script. A sandbox that
 * offers it to untrusted code must decide which paths (if any) it may open. */
#pragma once
#include <lua.h>

/* Returns the module table (it also stores it in package.loaded.sim when `package` exists).
 * Raises when scripts/sdk/sim.lua cannot be loaded. */
int luaopen_sim(lua_State *L);

/* For hosts of trusted scripts (sdsim script, sdsim repl): registers luaopen_sim in
 * package.preload and opens it into the global `sim`. 0, or -1 with the reason printed on
 * stderr (the state stays usable, only without `sim`). */
int sdsim_lua_sim_install(lua_State *L);

/* For the sandbox's child process (sandbox.h, limits.sim_module), before its lock-down:
 * reads the SDK and the .lua files of components/ and templates/ under sdsim_root() into a source
 * set that this thread's loads use from then on, opens the module with a bridge that opens no files
 * (sim.load takes a template name or a design table) and sets env.sim (env: the sandbox environment
 * at that stack index), with sim.out = env.print. 0, or -1. */
int sdsim_lua_sim_sandbox_open(lua_State *L, int env);
