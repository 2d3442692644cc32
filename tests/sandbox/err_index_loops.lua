-- expect: error
-- message: (error object is a table value)
local obj = setmetatable({}, { __index = function() while true do end end,
                               __tostring = function(o) return o.text end })
error(obj)
