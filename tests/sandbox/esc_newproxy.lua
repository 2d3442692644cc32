-- expect: error
-- message: newproxy is not available in the sandbox
-- line: 4
local p = newproxy(true)
return p
