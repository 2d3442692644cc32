-- Writes the JSON Schema of the design document to stdout:
--   luajit scripts/sdk/gen_schema.lua [ROOT] > docs/design.schema.json
local root = arg[1] or "."
local D = dofile(root .. "/scripts/sdk/offline.lua")(root)
local types, broken, names = D.load_types(root)
for name, why in pairs(broken) do
    -- broken["*plugins"] lists broken plugins (a table, empty without SDSIM_PLUGINS)
    if type(why) == "table" then why = why[1] end
    if why then error("component type " .. name .. ": " .. why) end
end
io.write(D.encode_pretty(D.json_schema(types, names)), "\n")
