-- expect: killed_memory
-- message: memory limit of 32 MB exceeded
-- cpu_ms: 5000
local t = {}
for i = 1, 1e9 do t[i] = { i } end
