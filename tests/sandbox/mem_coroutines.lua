-- expect: killed_memory
-- message: memory limit of
-- cpu_ms: 5000
local all = {}
while true do all[#all + 1] = coroutine.create(function() end) end
