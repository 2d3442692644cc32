-- expect: error
-- message: package is not available in the sandbox
-- line: 4
local open = package.loadlib("libc.so.6", "system")
return open
