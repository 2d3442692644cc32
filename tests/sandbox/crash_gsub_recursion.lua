-- expect: crashed
-- message: the Lua VM crashed (SIGSEGV); nothing else was affected
-- LuaJIT 2.1 overflows the C stack here (string.gsub calling back into Lua, recursively)
-- and dies by SIGSEGV: only this sandbox's process goes.
local function f(s) return (s:gsub(".", f)) end
f("x")
