-- expect: error
-- message: rawset on the global table is not allowed
-- line: 4
rawset(_G, "sneaky", 1)
