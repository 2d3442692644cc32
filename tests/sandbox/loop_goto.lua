-- expect: killed_cpu
-- message: CPU limit of
local x = 0
::again::
x = x + 1
goto again
