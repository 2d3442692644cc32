-- globals are refused: use local
helper = 1
return { version = 1 }
