-- expect: killed_cpu
-- message: CPU limit of
local keep = {}
for i = 1, 1e5 do keep[i] = { i } end
while true do collectgarbage("collect") end
