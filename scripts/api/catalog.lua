-- The component catalogue for GET /api/components, built on a worker thread in a fresh Lua
-- state (host/api_jobs.c) from the design SDK: the same loader validation uses, so the list
-- and the validator cannot disagree. Called as catalog(D, root); returns a JSON text:
--   {"components": [{"name", "label", "category", "icon", "description", "behavior",
--                    "defaults", "params", "schema"}], "broken": {name: reason}}
-- "user": true marks a signed-in user's own plugin type (plugins.lua).
-- params are the declared parameter specs (type, default, min, max, unit, help, values,
-- fields); schema is the JSON Schema of the params object (docs/design.schema.json's).
local D, root, broken_json = ...
local cjson = require("cjson")

-- Only JSON-able values: functions and other userdata in a spec are left out.
local function plain(v, depth)
    if depth > 16 then return nil end
    local t = type(v)
    if t == "table" then
        local out = {}
        for k, x in pairs(v) do
            if type(k) == "string" or type(k) == "number" then out[k] = plain(x, depth + 1) end
        end
        return out
    elseif t == "function" or t == "userdata" or t == "thread" then
        return nil
    end
    return v
end

local types, broken, names = D.load_types(root)
-- The hot-reload registry's rejected files (the loader only saw their good versions): a
-- broken edit shows here while the type keeps working with its last good version.
if broken_json then
    local ok, extra = pcall(cjson.decode, broken_json)
    if ok and type(extra) == "table" then
        for k, v in pairs(extra) do broken[k] = v end
    end
end
local schema = D.json_schema(types, names)
local list = {}
for _, name in ipairs(names) do
    local t = types[name]
    list[#list + 1] = {
        name = name,
        label = t.label or name,
        category = t.category or "other",
        icon = t.icon,
        description = t.description or "",
        behavior = t.behavior,
        defaults = plain(t.defaults or {}, 0),
        params = plain(t.params, 0),
        schema = schema["$defs"]["params_" .. name],
        user = t.plugin and (t.file or ""):find("^user%-plugins/") ~= nil or nil,
    }
end
local json = cjson.new()
json.encode_sparse_array(true)
return json.encode({ components = list, broken = broken })
