-- expect: error
-- message: undeclared global 'undefined_thing'
-- line: 4
local x = undefined_thing
return x
