-- expect: error
-- message: string.dump is not available in the sandbox
-- line: 4
local code = string.dump(function() return 1 end)
return code
