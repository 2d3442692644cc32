-- Sweep the API tier of the e-commerce template from 2 to 10 replicas at 5,000 requests per
-- second and print p99 and monthly cost per step.
--   sdsim script scripts/examples/sweep_replicas.lua
local d = sim.template("ecommerce")
sim.set(d, "rps", 5000) -- every workload source scaled so that the total is 5,000 rps

-- What the analytic pass expects at the template's 6 replicas, before any simulation.
local a = sim.analyze(d)
print(string.format("analytic: api utilization %.2f at %d rps; the first to saturate is %s "
    .. "at %.0f rps", a.components.api.utilization, a.offered_rps, a.bottleneck,
    a.saturation_rps))

-- One 20-second run per value (each on a copy: d itself keeps 6 replicas).
local rows = sim.sweep(d, "api.replicas", { 2, 3, 4, 6, 8, 10 }, { duration = 20 })

-- The smallest tier that meets the template's SLO.
for _, row in ipairs(rows) do
    if sim.meets(row.report, d.slo) then
        print(string.format("smallest API tier meeting p99 <= %g ms: %d replicas, $%.0f/month",
            d.slo.p99_ms, row.value, row.report.cost_month))
        break
    end
end
