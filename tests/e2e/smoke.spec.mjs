// The app loads from `sdsim serve`: a title, a rendered root, no console errors, and the
// SPA fallback answers a deep link with the app too.
import { test, check, launch, shot, api } from "./lib.mjs";

test("the app loads with a title and no console errors", async () => {
  const { page, baseURL } = await launch();
  const res = await page.goto(baseURL + "/");
  check(res && res.status() === 200, `GET / answers 200 (got ${res && res.status()})`);
  await page.waitForFunction(() => document.querySelector("#root")?.children.length > 0);
  const title = await page.title();
  check(/sdsim/i.test(title), `the title names sdsim ("${title}")`);
  const text = (await page.locator("#root").innerText()).trim();
  check(text.length > 0, `the app renders text (${JSON.stringify(text.slice(0, 60))})`);
  await page.waitForTimeout(500); // late errors (a failed fetch at start) show up here
  check(page.consoleErrors.length === 0,
        `no console errors${page.consoleErrors.length ? ": " + page.consoleErrors.join(" | ") : ""}`);
  await shot(page, "smoke-home");
});

test("a deep link is answered with the app (SPA fallback)", async () => {
  const { page, baseURL } = await launch();
  const res = await page.goto(baseURL + "/projects/does-not-exist");
  check(res && res.status() === 200, "GET /projects/does-not-exist answers 200");
  check(/sdsim/i.test(await page.title()), "with the app's page");
});

test("the API answers beside the app", async () => {
  const r = await api("GET", "/api/components");
  check(r.status === 200, `GET /api/components 200 (got ${r.status})`);
  const n = Array.isArray(r.body?.components) ? r.body.components.length : 0;
  check(n > 5, `the palette lists component types (${n})`);
});
