-- expect: killed_cpu
-- message: CPU limit of
local spin = coroutine.wrap(function()
  local x = 0
  while true do x = x + 1 end
end)
pcall(spin)
