-- expect: error
-- message: io is not available in the sandbox
-- line: 1
-- A chunk made with load gets the sandbox's globals, not the real ones.
local f = assert(load("return io.open('/etc/passwd')", "=inner"))
f()
