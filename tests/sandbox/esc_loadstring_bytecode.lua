-- expect: error
-- message: bytecode is not allowed in the sandbox
-- line: 5
local f, err = loadstring("\27LuaQ")
assert(f, err)
