-- expect: error
-- message: bytecode is not allowed in the sandbox
-- line: 6
-- A LuaJIT bytecode header ("\27LJ"), then garbage: malformed bytecode can corrupt the VM.
local f, err = load("\27LJ\2\0\9garbage")
assert(f, err)
