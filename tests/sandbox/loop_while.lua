-- expect: killed_cpu
-- message: CPU limit of 300 ms exceeded
-- line: 5
local x = 0
while true do x = x + 1 end
