-- expect: killed_memory
-- message: memory limit of
-- cpu_ms: 5000
return #string.rep("x", 2 ^ 30)
