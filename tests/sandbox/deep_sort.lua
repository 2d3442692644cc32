-- expect: error
-- message: stack overflow
-- Recursion through a C function: table.sort calls the comparator, which sorts again.
local function cmp(a, b) table.sort({ 3, 2, 1 }, cmp) return a < b end
table.sort({ 3, 2, 1 }, cmp)
