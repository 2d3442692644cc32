-- expect: error
-- message: module 'ffi' is not available in the sandbox
-- line: 4
local ffi = require("ffi")
ffi.cdef("int system(const char *);")
