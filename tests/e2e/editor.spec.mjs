// The design editor (src/editor, src/canvas): open a project, drop a component from the
// palette, connect two components from a port, edit a property, undo/redo, autosave, reload
// and find the design intact; a version conflict offers its three choices; a 1,000-component
// design pans and zooms (median frame time printed).
import { test, check, launch, signIn, registerUser, api, shot, waitFor } from "./lib.mjs";

const small = {
  version: 1,
  name: "shop",
  components: [
    { id: "clients", type: "client", x: 100, y: 200 },
    { id: "api", type: "service", x: 360, y: 200 },
  ],
  edges: [{ from: "clients", to: "api" }],
  workload: [{ to: "clients", rps: 50 }],
};

const doc = (page) => page.evaluate(() => window.__sdsim.design.getState().toJSON());
const comp = (d, id) => d.components.find((c) => c.id === id);

async function openProject(design = small) {
  const user = await registerUser();
  const p = await api("POST", "/api/projects", { name: "Editor e2e", design }, user.token);
  if (p.status !== 201) throw new Error(`create project: ${p.status} ${JSON.stringify(p.body)}`);
  const { page } = await launch({ viewport: { width: 1400, height: 900 } });
  await signIn(page, user, `/#/p/${p.body.id}`);
  await page.getByTestId("canvas").waitFor();
  await page.getByTestId("palette-item-database").waitFor();
  await waitFor(() => page.evaluate(() => window.__sdsim.design.getState().doc.components.length > 0),
    { what: "the design to load" });
  return { page, user, project: p.body };
}

const saved = (page) => page.locator('[data-testid="save-status"][data-state="saved"]').waitFor({ timeout: 15000 });

test("drop, connect, edit, undo/redo, autosave, reload", async () => {
  const { page, user, project } = await openProject();
  const box = await page.getByTestId("canvas").boundingBox();

  // 1. drag a database from the palette onto the canvas
  await page.dragAndDrop('[data-testid="palette-item-database"]', '[data-testid="canvas"]',
    { targetPosition: { x: Math.round(box.width * 0.6), y: Math.round(box.height * 0.75) } });
  let d = await doc(page);
  const db = comp(d, "database");
  check(!!db, "the dropped database is in the design");
  check(db && db.x % 20 === 0 && db.y % 20 === 0, `its position is on the 20 px grid (${db?.x}, ${db?.y})`);

  // 2. connect api -> database by dragging from api's output port
  const a = await page.evaluate(() => window.__sdsim.canvas.screenPos("api"));
  const b = await page.evaluate(() => window.__sdsim.canvas.screenPos("database"));
  await page.mouse.move(a.port.x, a.port.y);
  await page.mouse.down();
  await page.mouse.move((a.port.x + b.x) / 2, (a.port.y + b.y) / 2, { steps: 4 });
  await page.mouse.move(b.x, b.y, { steps: 4 });
  await page.mouse.up();
  d = await doc(page);
  check(d.edges.some((e) => e.from === "api" && e.to === "database"), "an edge api -> database was drawn");

  // the edge is selected: make it async in the property panel
  await page.getByTestId("property-mode").selectOption("async");
  d = await doc(page);
  check(d.edges.find((e) => e.to === "database")?.mode === "async", "the edge mode is async");

  // 3. select the database and edit a property
  await page.mouse.click(b.x, b.y);
  await page.getByTestId("property-workers").fill("24");
  d = await doc(page);
  check(comp(d, "database")?.params?.workers === 24, "workers = 24 in the design");

  // 4. undo / redo from the keyboard (focus on the canvas, not in the field)
  await page.mouse.click(box.x + 30, box.y + 30);
  await page.keyboard.press("Control+z");
  d = await doc(page);
  check(comp(d, "database")?.params?.workers === undefined, "undo removes the workers edit");
  await page.keyboard.press("Control+Shift+z");
  d = await doc(page);
  check(comp(d, "database")?.params?.workers === 24, "redo brings it back");

  // 5. autosave
  await saved(page);
  const g = await api("GET", `/api/projects/${project.id}`, undefined, user.token);
  check(comp(g.body.design, "database")?.params?.workers === 24, "the server has workers = 24");
  check(g.body.version > project.version, `the version went up (${project.version} -> ${g.body.version})`);
  await shot(page, "editor-edited");

  // 6. reload: the design is intact
  await page.reload();
  await page.getByTestId("canvas").waitFor();
  await waitFor(() => page.evaluate(() => window.__sdsim.design.getState().doc.components.length === 3),
    { what: "the reloaded design" });
  d = await doc(page);
  check(comp(d, "database")?.params?.workers === 24, "after reload: workers = 24");
  check(d.edges.some((e) => e.from === "api" && e.to === "database" && e.mode === "async"),
    "after reload: the async edge is there");
  // The run bar's WebSocket (another part of the app) is not this spec's business.
  const errors = page.consoleErrors.filter((e) => !/WebSocket/.test(e));
  check(errors.length === 0, "no console errors from the editor" + (errors.length ? ": " + errors.join(" | ") : ""));
});

test("select, copy/paste, delete with edges, help overlay", async () => {
  const { page } = await openProject();
  const api_ = await page.evaluate(() => window.__sdsim.canvas.screenPos("api"));
  await page.mouse.click(api_.x, api_.y);
  await page.keyboard.press("Control+c");
  await page.keyboard.press("Control+v");
  let d = await doc(page);
  check(!!comp(d, "api_2"), "paste adds api_2");
  check(JSON.stringify(await page.evaluate(() => window.__sdsim.design.getState().selection.components)) === '["api_2"]',
    "the pasted copy is selected");
  // box-select everything, then delete the original api: its edge goes with it
  await page.keyboard.press("Escape");
  await page.mouse.click(api_.x, api_.y);
  await page.keyboard.press("Delete");
  d = await doc(page);
  check(!comp(d, "api"), "api deleted");
  check(d.edges.length === 0, "its edge went with it");
  await page.keyboard.press("Control+z");
  d = await doc(page);
  check(!!comp(d, "api") && d.edges.length === 1, "undo restores api and its edge");
  await page.keyboard.press("?");
  await page.getByTestId("help-overlay").waitFor();
  check(true, "? opens the shortcut help");
  await shot(page, "editor-help");
  await page.keyboard.press("Escape");
});

test("a version conflict asks what to keep", async () => {
  const { page, user, project } = await openProject();
  // someone else saves first
  const other = { ...small, name: "theirs" };
  const put = await api("PUT", `/api/projects/${project.id}`, { version: project.version, design: other }, user.token);
  check(put.status === 200, `the other save went through (${put.status})`);
  // my edit now conflicts
  await page.evaluate(() => window.__sdsim.design.getState().update((d) => { d.name = "mine"; }));
  await page.getByTestId("conflict-dialog").waitFor({ timeout: 15000 });
  check(true, "the conflict dialog appears");
  check(await page.getByTestId("save-status").getAttribute("data-state") === "conflict", "the status says conflict");
  await shot(page, "editor-conflict");
  await page.getByTestId("conflict-overwrite").click();
  await saved(page);
  const g = await api("GET", `/api/projects/${project.id}`, undefined, user.token);
  check(g.body.design.name === "mine", `overwrite with mine saved my version (${g.body.design.name})`);
});

test("a version conflict: reload theirs, or copy mine to a new project", async () => {
  const { page, user, project } = await openProject();
  let put = await api("PUT", `/api/projects/${project.id}`, { version: project.version, design: { ...small, name: "theirs" } }, user.token);
  await page.evaluate(() => window.__sdsim.design.getState().update((d) => { d.name = "mine"; }));
  await page.getByTestId("conflict-dialog").waitFor({ timeout: 15000 });
  await page.getByTestId("conflict-reload").click();
  await waitFor(() => page.evaluate(() => window.__sdsim.design.getState().doc.name === "theirs"), { what: "their version" });
  check(true, "reload theirs shows their version");
  check(await page.getByTestId("save-status").getAttribute("data-state") === "saved", "and nothing is pending");
  // again, and keep mine as a copy
  put = await api("PUT", `/api/projects/${project.id}`, { version: put.body.version, design: { ...small, name: "theirs again" } }, user.token);
  await page.evaluate(() => window.__sdsim.design.getState().update((d) => { d.name = "mine again"; }));
  await page.getByTestId("conflict-dialog").waitFor({ timeout: 15000 });
  await page.getByTestId("conflict-copy").click();
  await waitFor(() => page.evaluate((id) => !location.hash.includes(id), project.id), { what: "the new project" });
  await waitFor(() => page.evaluate(() => window.__sdsim.design.getState().doc.name === "mine again"), { what: "my copy" });
  const list = await api("GET", "/api/projects", undefined, user.token);
  check(list.body.projects.length === 2, `two projects now (${list.body.projects.length})`);
  const orig = await api("GET", `/api/projects/${project.id}`, undefined, user.token);
  check(orig.body.design.name === "theirs again", "the original keeps their version");
});

test("1,000 components and 1,500 edges pan and zoom", async () => {
  const { page } = await openProject();
  await page.evaluate(() => window.__sdsim.loadLargeDesign(1000, 1500));
  await page.waitForTimeout(800);
  const box = await page.getByTestId("canvas").boundingBox();
  const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  await page.keyboard.press("0");
  await page.evaluate(() => window.__sdsim.frameTimes(true));
  await page.mouse.move(cx, cy);
  await page.mouse.down({ button: "middle" });
  for (let i = 0; i < 60; i++) await page.mouse.move(cx + 200 * Math.sin(i / 8), cy + 120 * Math.cos(i / 8));
  await page.mouse.up({ button: "middle" });
  for (let i = 0; i < 60; i++) await page.mouse.wheel(0, i % 30 < 15 ? -40 : 40);
  const f = await page.evaluate(() => window.__sdsim.frameTimes(true));
  const s = [...f].sort((x, y) => x - y);
  const median = s[Math.floor(s.length / 2)];
  console.log(`     frames ${f.length}, median ${median?.toFixed(1)} ms, p95 ${s[Math.floor(s.length * 0.95)]?.toFixed(1)} ms`);
  check(f.length > 30, `frames were measured (${f.length})`);
  // Generous bound: the machine running the tests is shared; the bench reports the figure.
  check(median < 100, `median frame time under 100 ms (${median?.toFixed(1)} ms)`);
  const v = await page.evaluate(() => window.__sdsim.view());
  check(v.scale !== 1 || v.x !== 0, "the view moved");
  await shot(page, "editor-large");
});
