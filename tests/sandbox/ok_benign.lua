-- expect: ok
-- message: 
-- What plugins do: locals, tables, closures, string methods, cjson, declared globals.
local cjson = require("cjson")
declare("calls", 0)
local function bump() calls = calls + 1 return calls end
local words = {}
for w in ("a quick brown fox"):gmatch("%a+") do words[#words + 1] = w:upper() end
table.sort(words)
bump()
print(table.concat(words, ","), cjson.encode({ n = bump() }), math.floor(2.5))
return calls
