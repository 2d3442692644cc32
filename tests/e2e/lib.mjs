// The harness every tests/e2e/*.spec.mjs imports (tests/e2e/README.md): headless Chromium
// through playwright-core, a fresh user through the API, screenshots, and a tiny reporter
// that prints "N passed, N failed" and exits non-zero on a failure.
// The server is started by tests/e2e/run.sh, which passes its address in SDSIM_E2E_URL.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
// playwright-core lives in the frontend's node_modules, not beside the specs.
const require = createRequire(path.join(root, "frontend", "package.json"));
const { chromium } = require("playwright-core");
export { chromium };

export const baseURL = (process.env.SDSIM_E2E_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
const shotsDir = process.env.SDSIM_E2E_SHOTS || path.join(root, "build", "e2e-screenshots");
const specName = path.basename(process.argv[1] || "spec", ".spec.mjs");
const chromiumPath = process.env.SDSIM_CHROMIUM || "/usr/bin/chromium";

// The flags the machine needs: no sandbox as root, and no background traffic to hosts the
// closed network refuses.
const chromiumArgs = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--no-first-run", "--disable-dev-shm-usage",
];

let openBrowsers = [];

/** Headless Chromium with one page; closed when the current test ends. */
export async function launch({ viewport = { width: 1280, height: 800 }, args = [] } = {}) {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [...chromiumArgs, ...args],
    headless: true,
  });
  openBrowsers.push(browser);
  const context = await browser.newContext({ viewport, baseURL });
  const page = await context.newPage();
  page.consoleErrors = [];
  page.on("console", (m) => {
    if (m.type() === "error") page.consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => page.consoleErrors.push(`uncaught: ${e.message}`));
  page.setDefaultTimeout(15000);
  return { browser, context, page, baseURL };
}

/** fetch against the server: {status, body, headers}; body parsed when it is JSON. */
export async function api(method, urlPath, body, token) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(baseURL + urlPath, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: the text as it is
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

let userSeq = 0;

/** A new account through POST /api/auth/register: the signed-in answer plus email, password. */
export async function registerUser({ email, password = "e2e-password-1", name = "E2E User" } = {}) {
  userSeq += 1;
  email ||= `e2e-${specName}-${process.pid}-${Date.now()}-${userSeq}@example.com`;
  const r = await api("POST", "/api/auth/register", { email, password, name });
  if (r.status !== 201) {
    throw new Error(`register ${email}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return { ...r.body, email, password };
}

/** Signs the page in as `user` (registerUser's answer) and opens `to`. Once per user. */
export async function signIn(page, user, to = "/") {
  // Before the app's first script, once per refresh token (a refresh token is single use:
  // a reload must not put the spent one back), where the app keeps it (src/api/client.ts).
  await page.context().addInitScript((rt) => {
    const done = `__e2e:${rt.slice(0, 16)}`;
    if (localStorage.getItem(done)) return;
    localStorage.setItem(done, "1");
    localStorage.setItem("sdsim.refreshToken", rt);
  }, user.refreshToken);
  await page.goto(baseURL + to);
}

/** Screenshot of the page to build/e2e-screenshots/<name>.png; returns the path. */
export async function shot(page, name, { fullPage = false } = {}) {
  mkdirSync(shotsDir, { recursive: true });
  const file = path.join(shotsDir, `${name.replace(/[^\w.-]+/g, "_")}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

/** Polls fn() until it returns something truthy (returned), or throws after timeout ms. */
export async function waitFor(fn, { timeout = 10000, interval = 100, what = "condition" } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

// --- reporter ---------------------------------------------------------------------------

let passed = 0;
let failed = 0;
let current = "";
let chain = Promise.resolve();
let pending = 0;

/** Records one check; a failed one does not stop the test. Returns cond. */
export function check(cond, msg) {
  if (cond) {
    passed += 1;
    console.log(`ok   ${current}: ${msg}`);
  } else {
    failed += 1;
    console.log(`FAIL ${current}: ${msg}`);
  }
  return Boolean(cond);
}

async function saveFailureShots(name) {
  let n = 0;
  for (const b of openBrowsers) {
    for (const ctx of b.contexts()) {
      for (const p of ctx.pages()) {
        n += 1;
        try {
          const f = await shot(p, `FAIL-${specName}-${name}-${n}`);
          console.log(`     screenshot: ${f}`);
        } catch {
          // the page may be gone
        }
      }
    }
  }
}

async function closeBrowsers() {
  const bs = openBrowsers;
  openBrowsers = [];
  await Promise.all(bs.map((b) => b.close().catch(() => {})));
}

async function runOne(name, fn, timeout) {
  current = name;
  console.log(`---- ${name}`);
  const before = failed;
  let timer;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeout} ms`)), timeout);
      }),
    ]);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  } finally {
    clearTimeout(timer);
  }
  if (failed > before) await saveFailureShots(name);
  await closeBrowsers();
}

function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
}

/** Queues a test; tests run one after another in the order they were registered. */
export function test(name, fn, { timeout = 60000 } = {}) {
  pending += 1;
  chain = chain.then(async () => {
    await runOne(name, fn, timeout);
    pending -= 1;
    // Everything registered at the top level is queued by now: the last test ends the spec.
    if (pending === 0) setImmediate(() => pending === 0 && finish());
  });
  return chain;
}
