-- expect: error
-- message: getfenv is not available in the sandbox
-- line: 4
local g = getfenv(0)
return g.io
