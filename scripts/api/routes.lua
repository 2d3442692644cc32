-- The API's routes: "METHOD /path" (":name" segments become req.params.name) -> the function
-- of a module in this directory. docs/http-api.md describes each.
local routes = {
    ["POST /api/validate"] = "design.validate",
    ["POST /api/analyze"] = "design.analyze",
    ["POST /api/run"] = "design.run",
    ["GET /api/components"] = "components.list",
}

-- Handlers only the tests need (sdsim serve --test-routes).
if host.config.test_routes then
    routes["GET /api/debug/sleep"] = "debug.sleep"
    routes["GET /api/debug/error"] = "debug.error"
    routes["GET /api/debug/echo/:name"] = "debug.echo"
    routes["POST /api/debug/echo/:name"] = "debug.echo"
end

return routes
