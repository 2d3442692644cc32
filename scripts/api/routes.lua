-- The API's routes: "METHOD /path" (":name" segments become req.params.name) -> the function
-- of a module in this directory. docs/http-api.md describes each.
local routes = {
    ["POST /api/validate"] = "design.validate",
    ["POST /api/analyze"] = "design.analyze",
    ["POST /api/run"] = "design.run",
    ["GET /api/components"] = "components.list",
    -- accounts (auth.lua) and projects (projects.lua): docs/http-api.md
    ["POST /api/auth/register"] = "auth.register",
    ["POST /api/auth/login"] = "auth.login",
    ["POST /api/auth/refresh"] = "auth.refresh",
    ["POST /api/auth/logout"] = "auth.logout",
    ["GET /api/me"] = "auth.me",
    ["PATCH /api/me"] = "auth.update_me",
    ["POST /api/projects"] = "projects.create",
    ["GET /api/projects"] = "projects.list",
    ["GET /api/projects/:id"] = "projects.get",
    ["PUT /api/projects/:id"] = "projects.update",
    ["DELETE /api/projects/:id"] = "projects.delete",
    ["POST /api/projects/:id/fork"] = "projects.fork",
    -- live simulations (simulations.lua)
    ["POST /api/simulations/start"] = "simulations.start",
    ["GET /api/simulations"] = "simulations.list",
    ["GET /api/simulations/:id"] = "simulations.status",
    ["GET /api/simulations/:id/report"] = "simulations.report",
    ["POST /api/simulations/:id/pause"] = "simulations.pause",
    ["POST /api/simulations/:id/resume"] = "simulations.resume",
    ["POST /api/simulations/:id/step"] = "simulations.step",
    ["POST /api/simulations/:id/stop"] = "simulations.stop",
    ["POST /api/simulations/:id/speed"] = "simulations.speed",
    ["POST /api/simulations/:id/inject"] = "simulations.inject",
    ["POST /api/simulations/:id/replicas"] = "simulations.replicas",
    ["POST /api/simulations/:id/workload"] = "simulations.workload",
    ["GET /api/cluster"] = "simulations.cluster", -- several hosts (docs/live.md)
    ["GET /api/sessions"] = "simulations.sessions", -- user:<id>:session (docs/storage.md)
    -- failure scenarios (scenarios.lua) and applying one to a running simulation
    ["GET /api/scenarios"] = "scenarios.list",
    ["POST /api/simulations/:id/scenario"] = "simulations.scenario",
    -- templates (templates.lua) and a user's own component plugins (plugins.lua)
    ["GET /api/templates"] = "templates.list",
    ["GET /api/templates/:id"] = "templates.get",
    ["POST /api/templates/:id/projects"] = "templates.create_project",
    ["GET /api/plugins"] = "plugins.list",
    ["PUT /api/plugins/:name"] = "plugins.save",
    ["DELETE /api/plugins/:name"] = "plugins.delete",
    -- administration (admin.lua): admins only, the role read from the database per request
    ["GET /api/admin/users"] = "admin.list_users",
    ["GET /api/admin/users/:id"] = "admin.get_user",
    ["PATCH /api/admin/users/:id"] = "admin.update_user",
    ["GET /api/admin/users/:id/limits"] = "admin.get_limits",
    ["PUT /api/admin/users/:id/limits"] = "admin.set_limits",
    ["GET /api/admin/audit"] = "admin.audit",
}

-- Handlers only the tests need (sdsim serve --test-routes).
if host.config.test_routes then
    routes["GET /api/debug/sleep"] = "debug.sleep"
    routes["GET /api/debug/error"] = "debug.error"
    routes["GET /api/debug/echo/:name"] = "debug.echo"
    routes["POST /api/debug/echo/:name"] = "debug.echo"
end

return routes
