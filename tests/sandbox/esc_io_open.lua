-- expect: error
-- message: io is not available in the sandbox
-- line: 4
local f = io.open("/etc/passwd")
return f
