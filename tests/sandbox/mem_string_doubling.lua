-- expect: killed_memory
-- message: memory limit of
local s = "x"
while true do s = s .. s end
