-- design.lua outside the host, for tools and tests run with plain `luajit` on project files
-- (trusted: component files run with the ordinary globals plus `std`, no sandbox, no limits).
--   local D = dofile(root .. "/scripts/sdk/offline.lua")(root)
return function(root)
    local host = {}

    function host.list_lua(dir)
        local p = assert(io.popen('ls "' .. dir .. '"'))
        local files = {}
        for f in p:lines() do if f:match("%.lua$") then files[#files + 1] = f end end
        p:close()
        table.sort(files)
        return files
    end

    function host.run_file(path, extras)
        local env = setmetatable({}, { __index = _G })
        for k, v in pairs(extras) do env[k] = v end
        local f, err = loadfile(path)
        if not f then return false, err end
        setfenv(f, env)
        return pcall(f)
    end

    return assert(loadfile(root .. "/scripts/sdk/design.lua"))(host)
end
