-- a template with a mistake on line 4
local design = { version = 1 }
local n = nil
return n.components
