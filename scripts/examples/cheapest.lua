-- The cheapest replica counts for the e-commerce template that still meet its SLO at its
-- 10,000 rps: start from the analytic minimums (utilization under 0.85), then simulation
-- runs add and remove replicas, most expensive first.
--   sdsim script scripts/examples/cheapest.lua
local d = sim.template("ecommerce")
local ranges = { ["api.replicas"] = { 1, 16 }, ["cache.replicas"] = { 1, 6 },
                 ["db.replicas"] = { 1, 8 } }
local best = sim.cheapest(d, d.slo, ranges, { duration = 20, max_runs = 12 })
if best.config then
    local before = sim.run(d, { duration = 20 }).cost_month
    print(string.format("saves $%.0f/month of $%.0f", before - best.cost_month, before))
    sim.print(best.report)
end
