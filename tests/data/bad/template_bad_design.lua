return { version = 1, components = { { id = "a", type = "service", replicas = -1 } } }
