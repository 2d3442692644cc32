-- expect: error
-- message: jit is not available in the sandbox
-- line: 4
jit.off()
