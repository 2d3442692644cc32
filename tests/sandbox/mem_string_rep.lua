-- expect: killed_memory
-- message: memory limit of
return #string.rep("x", 2 ^ 30)
