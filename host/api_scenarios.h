/* Failure scenarios (docs/scenarios.md) for the API's live simulations: host.scenarios.* for
 * the Lua handlers (scripts/api/scenarios.lua, scripts/api/simulations.lua).
 *
 *   host.scenarios.list() -> JSON text {"scenarios": [...]} | nil, message
 *       the shipped scenarios with their descriptions and parameters, evaluated in a forked
 *       child on a worker thread (and cached until a file of scripts/scenarios/ changes).
 *   host.scenarios.prepare(design_text, name, duration, params) -> design, shape, summary
 *       | nil, message, code ("unknown", "scenario" or "invalid"), problems
 *       like host.live.prepare, with the scenario applied to the document first.
 *   host.scenarios.attach(sim_id, design_text [, summary]) -> true | nil
 *       keeps the design's text with the run (for scenarios applied later) and announces the
 *       scenario it started with in the next frame.
 *   host.scenarios.apply(sim_id, name, params) -> {summary, from, faults} | nil, message,
 *       code ("unknown", "scenario", "invalid", "unsupported", "ended")
 *       runs the scenario against the run's design (its default times scale with the time
 *       left) and schedules its faults from the current simulated time.
 *   host.scenarios.applied(sim_id) -> {summary...} | nil (not running)
 *       the scenarios applied to a run still in memory, in order.
 * params: a table {key = value} (numbers, strings, booleans, arrays of strings), or nil;
 * plugins (prepare's and apply's last argument, optional): the user's own component types,
 * as host.live.prepare takes them. */
#pragma once
#include "live_sim.h"
#include "model.h"

struct lua_State;
void sdsim_api_scenarios_register(struct lua_State *L);

/* Defined in api_live.c. */
void sdsim_api_live_push_prepared(struct lua_State *co, sim_design *d);
sdsim_live *sdsim_api_live_get(const char *id); /* in memory, ended or not */
