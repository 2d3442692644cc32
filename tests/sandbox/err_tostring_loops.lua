-- expect: error
-- message: (error object is a table value)
-- A looping __tostring on the error object must never run in the host's reporting.
error(setmetatable({}, { __tostring = function() while true do end end }))
