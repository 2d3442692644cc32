-- expect: error
-- message: setfenv is not available in the sandbox
-- line: 4
setfenv(1, {})
