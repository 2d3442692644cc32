-- recursion through string.gsub overflows the C stack and crashes the VM itself
local function f(s) return (s:gsub(".", f)) end
return f("aaaa")
