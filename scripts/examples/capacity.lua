-- The highest load the e-commerce template carries within its SLO (p99 <= 250 ms, errors <=
-- 0.1 %): the analytic saturation point brackets it, short simulation runs bisect it.
--   sdsim script scripts/examples/capacity.lua
local d = sim.template("ecommerce")
local c = sim.capacity(d, d.slo, { duration = 20, max_runs = 8 })
print(string.format("the template's %d rps can grow %.0f%% to %.0f rps (analytic "
    .. "saturation: %.0f rps)", sim.get(d, "rps"), (c.load - 1) * 100, c.rps,
    c.saturation_rps or 0))

-- The same question with one more API replica.
sim.set(d, "api.replicas", 7)
local c7 = sim.capacity(d, d.slo, { duration = 20, max_runs = 8, quiet = true })
print(string.format("with 7 API replicas: %.0f rps (%d runs)", c7.rps, c7.runs_made))
