-- expect: error
-- message: near
-- line: 4
local x = = 1
