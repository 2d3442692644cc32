-- expect: killed_memory
-- message: memory limit of
local all = {}
while true do all[#all + 1] = coroutine.create(function() end) end
