-- expect: killed_memory
-- message: memory limit of
-- cpu_ms: 5000
-- Every "a" becomes a 10 kB string: 10^4 * 10^4 bytes = 100 MB in one call.
local s = string.rep("a", 1e4)
return #s:gsub("a", string.rep("b", 1e4))
