local f = io.open("/etc/passwd")
return { name = "escape_io", label = "Escape", category = "compute", icon = "server",
         description = "reads a file", params = {}, behavior = function(req, ctx) end }
