return { version = 1,, }
