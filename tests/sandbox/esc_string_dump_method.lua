-- expect: error
-- message: attempt to call method 'dump'
-- line: 5
-- The strings' own __index table is the real string library: dump is gone from it too.
local code = ("x"):dump()
return code
