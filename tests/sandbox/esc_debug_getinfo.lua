-- expect: error
-- message: debug is not available in the sandbox
-- line: 4
local info = debug.getinfo(1)
return info
