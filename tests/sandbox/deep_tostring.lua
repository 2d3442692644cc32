-- expect: error
-- message: stack overflow
-- cpu_ms: 5000
-- Nested __tostring: tostring calls the metamethod, which calls tostring on the child.
local mt = {}
mt.__tostring = function(o) return "<" .. tostring(o.child) .. ">" end
local o = setmetatable({}, mt)
for _ = 1, 1e5 do o = setmetatable({ child = o }, mt) end
return tostring(o)
