-- expect: killed_cpu killed_memory
-- message: limit of
local mt = {}
mt.__tostring = function() return tostring(setmetatable({}, mt)) end
return tostring(setmetatable({}, mt))
