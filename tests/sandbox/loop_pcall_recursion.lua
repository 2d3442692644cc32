-- expect: killed_cpu
-- message: CPU limit of
-- Each level catches the stack overflow of the next: 2^depth calls, for ever in practice.
local function f() pcall(f) pcall(f) end
f()
