-- expect: killed_cpu
-- message: CPU limit of
xpcall(function() error("first") end, function() while true do end end)
