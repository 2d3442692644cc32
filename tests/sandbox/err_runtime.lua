-- expect: error
-- message: attempt to call
-- line: 6
local plugin = {}
local function helper() return 1 end
local x = helper() + plugin.missing()
return x
