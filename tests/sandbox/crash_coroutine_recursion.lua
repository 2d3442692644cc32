-- expect: crashed error killed_cpu killed_memory
-- message: 
-- Each level resumes a new coroutine from C: depending on memory and timing this ends in a
-- SIGSEGV, a stack overflow, or a limit. Whichever it is, only this sandbox pays.
local function f() return coroutine.wrap(f)() end
f()
