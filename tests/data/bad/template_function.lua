return { version = 1, name = "f", components = { { id = "a", type = "service", params = { workers = function() return 2 end } } } }
