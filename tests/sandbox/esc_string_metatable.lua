-- expect: error
-- message: attempt to index a boolean value
-- line: 5
-- getmetatable("") is hidden (false): the shared string metatable cannot be written.
getmetatable("").__index = { upper = function() return "pwned" end }
