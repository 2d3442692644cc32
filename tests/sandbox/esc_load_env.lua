-- expect: error
-- message: io is not available in the sandbox
-- line: 6
-- A chunk made with load gets the sandbox's globals, not the real ones.
local stub = assert(load("return io"))()
stub.open("/etc/passwd")
