-- expect: killed_cpu
-- message: CPU limit of
-- line: 5
local x = 0
for i = 1, math.huge do x = x + i end
