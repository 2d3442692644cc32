// Running, watching and breaking a design in the browser (issue #5): a project from a
// template, a live run whose throughput figure moves, a crash from the canvas's context menu
// that shows up as errors, the report after Stop, export of the design as JSON and its
// re-import, the Lua console and a plugin with an error shown at its line.
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test, check, launch, registerUser, signIn, api, shot, waitFor } from "./lib.mjs";

const VIEW = { width: 1440, height: 900 };

/**
 * A signed-in page on the editor of a new project made from `template`: through the template
 * gallery (viaUi), or through POST /api/templates/:id/projects and the project's address.
 */
async function openFromTemplate(template = "ecommerce", { viaUi = false } = {}) {
  const { page } = await launch({ viewport: VIEW });
  const user = await registerUser();
  if (viaUi) {
    await signIn(page, user, "/");
    await page.getByTestId("nav-templates").click();
    await page.getByTestId("template-search").fill(template);
    const card = page.getByTestId("template-card").filter({ hasText: /commerce/i }).first();
    await card.getByTestId("template-use").click();
  } else {
    const p = await api("POST", `/api/templates/${template}/projects`, {}, user.token);
    if (p.status !== 201) throw new Error(`template ${template}: ${p.status} ${JSON.stringify(p.body)}`);
    await signIn(page, user, `/#/p/${p.body.id}`);
  }
  await page.getByTestId("run-start").waitFor();
  await waitFor(() => page.evaluate(() => window.__sdsim?.design?.getState().doc.components.length > 0),
    { what: "the design to load" });
  return { page, user };
}

const text = (page, id) => page.getByTestId(id).textContent();
// Refused requests the tests cause on purpose (a broken import, a broken plugin) are logged
// by the browser as failed resources: not errors of the app.
const appErrors = (page) => page.consoleErrors.filter((e) => !/status of 422/.test(e));
const simState = (page) => page.evaluate(() => window.__sdsim.sim.getState().state);

test("run a template, see it live, crash a component, stop and read the report", async () => {
  const { page } = await openFromTemplate("ecommerce", { viaUi: true });
  await page.waitForTimeout(300);
  await shot(page, "run-editor-idle");
  check((await text(page, "metric-throughput")).trim() === "–", "no throughput before a run");

  // 10x, 300 simulated seconds: 30 s of wall time at most (Stop comes well before).
  await page.getByTestId("run-speed-10x").click();
  await page.getByTestId("run-settings").click();
  await page.getByTestId("run-duration").fill("300");
  await page.getByTestId("run-settings").click();
  await page.getByTestId("run-start").click();
  await page.getByTestId("run-pause").waitFor();
  check((await simState(page)) === "running", "the simulation runs");

  const first = await waitFor(async () => {
    const t = (await text(page, "metric-throughput")).trim();
    return t !== "–" && t !== "0/s" ? t : null;
  }, { timeout: 10000, what: "a throughput figure" });
  check(/\/s$/.test(first), `throughput shows a rate (${first})`);
  const frames1 = await page.evaluate(() => window.__sdsim.sim.getState().framesSeen);
  const t1 = await page.evaluate(() => window.__sdsim.sim.getState().simTime);
  await page.waitForTimeout(1200);
  const frames2 = await page.evaluate(() => window.__sdsim.sim.getState().framesSeen);
  const t2 = await page.evaluate(() => window.__sdsim.sim.getState().simTime);
  check(frames2 > frames1 + 5, `frames keep arriving over the WebSocket (${frames1} -> ${frames2})`);
  check(t2 > t1, `the simulated clock moves (${t1.toFixed(1)} -> ${t2.toFixed(1)} s)`);
  const thr = await page.evaluate(() => window.__sdsim.sim.getState().frame?.totals?.throughput);
  // ecommerce sends 10,000 rps into the clients; the design is stable (api at 74%).
  check(thr > 8000 && thr < 12000, `throughput near the offered 10k/s (${Math.round(thr)})`);
  const ov = await page.evaluate(() => {
    const o = window.__sdsim.sim.getState();
    return { bottleneck: o.frame?.totals?.bottleneck, comps: o.components.map((c) => c.id) };
  });
  check(ov.comps[ov.bottleneck] === "api", `the live bottleneck is api (${ov.comps[ov.bottleneck]})`);
  await shot(page, "run-running");

  // Pause and resume.
  await page.getByTestId("run-pause").click();
  await page.getByTestId("run-resume").waitFor();
  check((await simState(page)) === "paused", "paused");
  const before = await page.evaluate(() => window.__sdsim.sim.getState().simTime);
  await page.getByTestId("run-step").click();
  const after = await waitFor(async () => {
    const t = await page.evaluate(() => window.__sdsim.sim.getState().simTime);
    return t >= before + 0.5 ? t : null;
  }, { timeout: 5000, what: "the step" }).catch(() => before);
  // Step asks for one simulated second; the engine stops at the next metrics window.
  check(after - before >= 0.5 && after - before <= 2.5,
    `Step advances about one simulated second (${before.toFixed(2)} -> ${after.toFixed(2)})`);
  check((await simState(page)) === "paused", "still paused after a step");
  await page.getByTestId("run-resume").click();
  await page.getByTestId("run-pause").waitFor();

  // Scale the queue from its context menu: the frames report one more replica.
  const ordersAt = await page.evaluate(() => window.__sdsim.canvas.screenPos("orders"));
  await page.mouse.click(ordersAt.x, ordersAt.y, { button: "right" });
  await page.getByTestId("ctx-scale-up").click();
  const replicas = await waitFor(() => page.evaluate(() => {
    const s = window.__sdsim.sim.getState();
    const i = s.components.findIndex((c) => c.id === "orders");
    const n = s.frame?.components.find((x) => x.index === i)?.replicas ?? 0;
    return n >= 2 ? n : null;
  }), { timeout: 8000, what: "orders at 2 replicas" }).catch(() => 0);
  check(replicas === 2, `orders scaled live from 1 to 2 replicas (${replicas})`);

  // Break it: right-click the api node, crash every replica.
  const pos = await page.evaluate(() => window.__sdsim.canvas.screenPos("api"));
  check(pos !== null, "the canvas knows where api is");
  await page.mouse.click(pos.x, pos.y, { button: "right" });
  await page.getByTestId("context-menu").waitFor();
  await shot(page, "run-context-menu");
  await page.getByTestId("ctx-crash").click();
  check(await page.getByTestId("context-menu").count() === 0, "the menu closes after a choice");
  await waitFor(async () => {
    const f = await page.evaluate(() => {
      const s = window.__sdsim.sim.getState();
      const i = s.components.findIndex((c) => c.id === "api");
      const c = s.frame?.components.find((x) => x.index === i);
      return { down: c?.down, errorRate: s.frame?.totals?.errorRate ?? 0 };
    });
    return f.down && f.errorRate > 0.5;
  }, { timeout: 8000, what: "api down and most requests failing" });
  // The run bar redraws its figures about 4 times a second.
  const errs = await waitFor(async () => {
    const t = (await text(page, "metric-errors")).trim();
    return t !== "0.0%" && t !== "–" ? t : null;
  }, { timeout: 3000, what: "the errors figure" }).catch(() => "0.0%");
  check(errs !== "0.0%", `the errors figure shows the crash (${errs})`);
  await page.waitForTimeout(400);
  await shot(page, "run-crashed");

  // Stop: the report comes up.
  await page.getByTestId("run-stop").click();
  await page.getByTestId("report").waitFor({ timeout: 10000 });
  check((await simState(page)) === "stopped", "stopped");
  const rows = await page.locator("[data-testid^=report-row-]").count();
  check(rows === 6, `one report row per component (${rows})`);
  const apiErrors = await page.getByTestId("report-row-api").textContent();
  check(/\d/.test(apiErrors), "the api row has figures");
  const slo = (await text(page, "report-slo")).trim();
  check(slo.includes("FAIL"), `the SLO fails after the crash (${slo})`);
  await shot(page, "run-report");

  // PNG of the canvas (live layer included) and a PDF with the report.
  const shots = process.env.SDSIM_E2E_SHOTS ||
    path.join(path.dirname(new URL(import.meta.url).pathname), "../../build/e2e-screenshots");
  for (const [id, magic, file] of [["export-png", "\x89PNG", "run-export.png"],
                                   ["export-pdf", "%PDF-", "run-export.pdf"]]) {
    await page.getByTestId("export-menu").click();
    const [dl] = await Promise.all([page.waitForEvent("download"), page.getByTestId(id).click()]);
    const out = path.join(shots, file);
    await dl.saveAs(out);
    const bytes = readFileSync(out);
    check(bytes.subarray(0, magic.length).toString("latin1") === magic,
      `${id} writes a ${magic.replace(/\W/g, "")} file of ${bytes.length} bytes`);
    check(bytes.length > 10000, `${id} is not empty (${bytes.length} bytes)`);
  }

  // Charts of one component: select it on the canvas.
  await page.getByTestId("tab-charts").click();
  await page.evaluate(() => window.__sdsim.design.getState().select({ components: ["db"] }));
  await page.getByTestId("chart-latency").waitFor();
  check((await text(page, "charts-scope")).includes("db"), "charts follow the selected component");
  await page.waitForTimeout(500);
  await shot(page, "run-charts-component");
  check(appErrors(page).length === 0, "no console errors: " + appErrors(page).join("; "));
}, { timeout: 90000 });

test("export the design as JSON and import it back", async () => {
  const { page } = await openFromTemplate("url_shortener");
  const dir = mkdtempSync(path.join(tmpdir(), "sdsim-run-e2e-"));
  await page.getByTestId("export-menu").click();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("export-json").click(),
  ]);
  const file = path.join(dir, download.suggestedFilename());
  await download.saveAs(file);
  const exported = JSON.parse(readFileSync(file, "utf8"));
  const inStore = await page.evaluate(() => window.__sdsim.design.getState().toJSON());
  check(JSON.stringify(exported) === JSON.stringify(inStore), "the file is the design in the store");
  check(download.suggestedFilename().endsWith(".json"), `a .json file (${download.suggestedFilename()})`);

  // A changed copy comes back in.
  exported.name = "reimported";
  exported.components = exported.components.filter((c) => c.id !== "analytics");
  exported.edges = exported.edges.filter((e) => e.to !== "analytics" && e.from !== "analytics");
  const changed = path.join(dir, "changed.json");
  writeFileSync(changed, JSON.stringify(exported));
  await page.getByTestId("export-menu").click();
  const [chooser] = await Promise.all([
    page.waitForEvent("filechooser"),
    page.getByTestId("import-json").click(),
  ]);
  await chooser.setFiles(changed);
  await waitFor(() => page.evaluate(() => window.__sdsim.design.getState().doc.name === "reimported"),
    { what: "the imported design" });
  const ids = await page.evaluate(() => window.__sdsim.design.getState().doc.components.map((c) => c.id));
  check(!ids.includes("analytics") && ids.length === exported.components.length,
    `the imported components (${ids.join(", ")})`);
  await page.keyboard.press("Escape");

  // A broken file is refused with the server's problems; the design stays.
  const broken = path.join(dir, "broken.json");
  writeFileSync(broken, JSON.stringify({ ...exported, edges: [{ from: "api", to: "nowhere" }] }));
  await page.getByTestId("export-menu").click();
  const [chooser2] = await Promise.all([
    page.waitForEvent("filechooser"),
    page.getByTestId("import-json").click(),
  ]);
  await chooser2.setFiles(broken);
  await page.getByTestId("import-errors").waitFor();
  const problems = await text(page, "import-errors");
  check(problems.includes("nowhere"), `the problem names the missing component (${problems.slice(0, 120)})`);
  await shot(page, "run-import-errors");
  const still = await page.evaluate(() => window.__sdsim.design.getState().doc.edges.length);
  check(still === exported.edges.length, "the design is unchanged after a refused import");

  // The imported design runs.
  await page.getByTestId("run-speed-max").click();
  await page.getByTestId("run-settings").click();
  await page.getByTestId("run-duration").fill("10");
  await page.getByTestId("run-settings").click();
  await page.getByTestId("run-start").click();
  await page.getByTestId("report").waitFor({ timeout: 20000 });
  const n = await page.locator("[data-testid^=report-row-]").count();
  check(n === exported.components.length, `the report covers the imported design (${n} rows)`);
  check(appErrors(page).length === 0, "no console errors: " + appErrors(page).join("; "));
});

test("a scenario from the Break menu, the console and plugins", async () => {
  const { page } = await openFromTemplate("ecommerce");

  // Database failover, applied live: the run's events list the fault on db.
  await page.getByTestId("run-speed-10x").click();
  await page.getByTestId("run-settings").click();
  await page.getByTestId("run-duration").fill("300");
  await page.getByTestId("run-settings").click();
  await page.getByTestId("run-start").click();
  await page.getByTestId("run-pause").waitFor();
  await page.getByTestId("scenario-menu").click();
  await page.getByTestId("scenario-db_failover").click();
  const notice = await waitFor(() => page.evaluate(() =>
    window.__sdsim.sim.getState().notices.find((n) => n.kind === "fault")?.text),
  { timeout: 8000, what: "a fault notice" }).catch(() => "");
  check(/db/.test(notice), `the failover shows up as an event (${notice})`);
  await page.getByTestId("tab-events").click();
  check((await text(page, "events")).includes("fault"), "the Events tab lists it");
  await shot(page, "run-events");
  await page.getByTestId("run-stop").click();
  await page.getByTestId("report").waitFor({ timeout: 10000 });
  await page.getByTestId("tab-console").click();
  await page.getByTestId("console-input").fill("print(6 * 7)");
  await page.getByTestId("console-input").press("Enter");
  await waitFor(async () => (await text(page, "console-log")).includes("42") ||
    (await page.locator(".console-err").count()) > 0, { what: "a console answer" });
  const log = await text(page, "console-log");
  check(log.includes("42"), `the REPL prints 42 (${log.slice(-80)})`);
  await shot(page, "run-console");

  await page.getByTestId("tab-plugins").click();
  await page.getByTestId("plugin-editor").waitFor();
  await page.getByTestId("plugin-name").fill("broken_comp");
  await page.evaluate(() => {
    const v = window.__sdsimPluginView;
    const src = 'return {\n    name = "broken_comp",\n    behavior = function(req, ctx)\n        ctx:work(\n    end,\n}\n';
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: src } });
  });
  await page.getByTestId("plugin-save").click();
  await page.getByTestId("plugin-problems").waitFor();
  const probs = await text(page, "plugin-problems");
  check(/line 5/.test(probs), `the error is shown at its line (${probs})`);
  check(await page.locator(".cm-error-line").count() === 1, "one line is marked in the editor");
  await shot(page, "run-plugin-error");

  // Fixed, it saves and the palette is told to reload.
  await page.evaluate(() => {
    const v = window.__sdsimPluginView;
    const src = 'return {\n    name = "broken_comp",\n    label = "Fixed",\n    category = "compute",\n' +
      '    params = { workers = std.param("workers", { default = 2 }) },\n' +
      '    behavior = function(req, ctx)\n        ctx:work()\n        return ctx:answer()\n    end,\n}\n';
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: src } });
  });
  await page.getByTestId("plugin-save").click();
  await waitFor(async () => (await text(page, "plugin-problems")).includes("Saved"), { what: "the save" });
  await page.getByTestId("plugin-broken_comp").waitFor();
  const inPalette = await waitFor(
    () => page.evaluate(() => !!document.querySelector("[data-testid=palette-item-broken_comp]")),
    { timeout: 5000, what: "the new type in the palette" }).catch(() => false);
  check(inPalette, "the palette lists the saved plugin type");
  check(appErrors(page).length === 0, "no console errors: " + appErrors(page).join("; "));
});
