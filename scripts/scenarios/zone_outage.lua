-- A whole availability zone goes dark: every component whose zone matches crashes at once.
return {
    name = "zone_outage",
    title = "Zone outage",
    description = "Every component in one availability zone crashes for a while.",
    params = {
        zone = { type = "string", help = "the zone (default: the first zone in design order)" },
        at_s = { type = "number", min = 0,
                 help = "when it fails, s (default: a third of the run)" },
        for_s = { type = "number", min = 0,
                  help = "how long it stays down, s (default: a third of the run; 0 = for good)" },
    },
    build = function(design, s, p)
        local zone = p.zone
        if not zone then
            for _, c in ipairs(s.components()) do
                if c.zone then
                    zone = c.zone
                    s.note("picked zone " .. zone .. ": the zone of " .. c.id .. ", the first "
                           .. "component with one")
                    break
                end
            end
        end
        if not zone then
            error("design '" .. s.name .. "' puts no component in a zone (give components a "
                  .. "\"zone\" field)")
        end
        local members = {}
        for _, c in ipairs(s.components({ zone = zone })) do members[#members + 1] = c.id end
        local at, dur = s.window(p.at_s, p.for_s)
        s.at(at, s.zone_outage(zone, { for_s = dur }))
        if #members > 0 then s.note("zone " .. zone .. " holds " .. table.concat(members, ", ")) end
    end,
}
