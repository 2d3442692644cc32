-- expect: error
-- message: bytecode is not allowed in the sandbox
-- line: 10
-- LuaJIT skips a "#" first line (and a BOM) and then looks for bytecode: hide a header there.
local f1, e1 = load("#!/bin/sh\n\27LJ\2\0\9garbage")
local f2, e2 = load("\239\187\191\27LJ\2\0\9garbage")
local f3, e3 = load(coroutine.wrap(function() coroutine.yield("#!x\n") coroutine.yield("\27LJ") end))
assert(not f1 and not f2 and not f3, "a chunk with a bytecode header was loaded")
assert(e1 == e2 and e2 == e3, tostring(e1) .. " / " .. tostring(e2) .. " / " .. tostring(e3))
error(e1)
