-- expect: killed_cpu
-- message: CPU limit of
-- line: 5 6
local x = 0
repeat
  x = x + 1
until false
