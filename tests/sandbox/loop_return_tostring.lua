-- expect: killed_cpu
-- message: CPU limit of
-- The host turns returned values into text with tostring: that runs user code too.
return setmetatable({}, { __tostring = function() while true do end end })
