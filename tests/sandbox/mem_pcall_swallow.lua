-- expect: killed_memory
-- message: memory limit of
-- cpu_ms: 5000
-- The script catches "not enough memory" and carries on: the run still counts as cut off.
local ok = pcall(function()
  local t = {}
  while true do t[#t + 1] = string.rep("y", 1e5) .. #t end
end)
print("caught it:", ok)
return "survived"
