-- Writes the JSON Schema of the design document to stdout:
--   luajit scripts/sdk/gen_schema.lua [ROOT] > docs/design.schema.json
-- It runs the project's own component files (trusted here) with the same `std` helper the
-- host's sandbox gives them.
local root = arg[1] or "."
local host = {}

function host.list_lua(dir)
    local p = assert(io.popen('ls "' .. dir .. '"'))
    local files = {}
    for f in p:lines() do if f:match("%.lua$") then files[#files + 1] = f end end
    p:close()
    table.sort(files)
    return files
end

function host.run_file(path, extras)
    local env = setmetatable({}, { __index = _G })
    for k, v in pairs(extras) do env[k] = v end
    local f, err = loadfile(path)
    if not f then return false, err end
    setfenv(f, env)
    return pcall(f)
end

local D = assert(loadfile(root .. "/scripts/sdk/design.lua"))(host)
local types, broken, names = D.load_types(root)
for name, why in pairs(broken) do error("component type " .. name .. ": " .. why) end
io.write(D.encode_pretty(D.json_schema(types, names)), "\n")
