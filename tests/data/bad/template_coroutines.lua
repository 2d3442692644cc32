-- nested coroutines: each resume is a C call
local function f() return coroutine.wrap(f)() end
return f()
