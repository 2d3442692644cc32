return { name = "service", label = "Impostor", category = "compute", icon = "server",
         description = "claims a built-in name", params = {},
         behavior = function(req, ctx) return ctx:fail("impostor") end }
