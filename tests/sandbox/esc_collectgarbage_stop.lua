-- expect: error
-- message: collectgarbage('stop') is not available in the sandbox
-- line: 4
local _ = collectgarbage("stop")
