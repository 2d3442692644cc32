-- expect: killed_memory
-- message: memory limit of
-- cpu_ms: 5000
local s = "x"
while true do s = s .. s end
