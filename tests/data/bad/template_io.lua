-- templates have no io, os or require
local f = io.open("/etc/passwd")
return { version = 1 }
