-- expect: killed_cpu
-- message: CPU limit of
-- Catastrophic backtracking: seconds inside one C function, where no hook ever runs.
return string.find(string.rep("a", 400), ".-.-.-.-b")
