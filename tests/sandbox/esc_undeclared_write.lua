-- expect: error
-- message: assignment to undeclared global 'counter'
-- line: 4
counter = 1
