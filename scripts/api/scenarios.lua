-- The failure scenarios of scripts/scenarios/ (docs/scenarios.md), for the browser's "break
-- it" menu: GET /api/scenarios lists them with their descriptions and parameters. The files
-- are evaluated in a forked sandboxed child on a worker thread (host.scenarios.list, cached
-- until a file changes), never on the loop. Applying one is a simulation's business
-- (simulations.lua: config.scenario at the start, POST /api/simulations/:id/scenario later).
local api = api
local M = {}

-- GET /api/scenarios -> {"scenarios": [{name, title, description, about, params}...]}
function M.list(req, res)
    local text, why = host.scenarios.list()
    if not text then api.fail(503, "the scenarios could not be listed: " .. tostring(why)) end
    res:header("cache-control", "no-cache")
    res:raw_json(text .. "\n")
end

return M
