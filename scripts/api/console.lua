-- The Lua console over /ws (docs/http-api.md): {"type":"console","code":"..."} runs the code
-- in the user's own sandbox (host.console_run: as `sdsim script --sandbox`, with `sim` and the
-- templates; globals persist between lines until a run is cut off) and answers
-- {"type":"console_result","output":"printed text","error":null|"console:LINE: message"}.
-- As in a REPL, a line that is an expression ("1 + 1", "sim.analyze(d).offered_rps") shows
-- its value: it is tried as "return <line>" first (compiled here only, never run here).
local api = api
local json = api.json
local M = {}

local CODE_MAX = 64 * 1024

-- An expression list is returned through a function's arguments (so that no call in it is
-- a tail call, and errors keep the console's line); anything else runs as it is.
local function as_chunk(code)
    local c = "return (function(...) return ... end)(" .. code .. "\n)"
    if loadstring(c, "=console") then return c end
    return code
end

function M.run(conn, msg)
    local code = msg.code
    if type(code) ~= "string" then
        return { type = "error", error = "console: code must be a string", id = msg.id,
                 ["for"] = "console" }
    end
    if #code > CODE_MAX then
        return { type = "console_result", id = msg.id, output = "",
                 error = ("console: at most %d bytes of code at once"):format(CODE_MAX) }
    end
    local r, why = host.console_run(conn.user.sub, as_chunk(code))
    if not r then
        return { type = "console_result", id = msg.id, output = "", error = "console: " .. why }
    end
    local output = r.output or ""
    if r.values and r.values ~= "" then output = output .. r.values .. "\n" end
    return { type = "console_result", id = msg.id, output = output,
             error = r.error or json.null, status = r.status, cpuMs = r.cpu_ms,
             truncated = r.truncated or nil }
end

return M
