-- expect: killed_cpu
-- message: CPU limit of
-- line: 6
-- A pcall must not swallow the CPU cut-off.
for _ = 1, 10 do
  pcall(function() while true do end end)
end
print("survived the cut-off")
