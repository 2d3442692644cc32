-- an endless loop that even tries to swallow the error
while true do
    pcall(function() while true do end end)
end
