// The app shell through a real server: register, sign out, a wrong password, sign in, create a
// project, rename it, see it listed, open it, reload and still be signed in; a hostile project
// name stays text. (H4; the harness is tests/e2e/lib.mjs.)
import { test, check, launch, shot, api, waitFor } from "./lib.mjs";

const password = "e2e-password-1";
const email = `e2e-auth-${process.pid}-${Date.now()}@example.com`;

async function projectNames(page) {
  return page.getByTestId("project-name").allTextContents();
}

test("register, sign out, sign in, create, rename, open, reload", async () => {
  const { page, baseURL } = await launch({ viewport: { width: 1280, height: 720 } });
  let alerts = 0;
  page.on("dialog", async (d) => {
    alerts += 1;
    await d.dismiss();
  });

  // A visitor is sent to the sign-in screen.
  await page.goto(baseURL + "/");
  await page.getByTestId("login-email").waitFor();
  check(page.url().endsWith("#/login"), `signed out lands on #/login (${page.url()})`);

  // Register.
  await page.getByTestId("login-switch").click();
  await page.getByTestId("login-name").fill("Ada Lovelace");
  await page.getByTestId("login-email").fill(email);
  await page.getByTestId("login-password").fill("short");
  await page.getByTestId("login-submit").click();
  check(await page.getByText("Use at least 8 characters").isVisible(),
        "a short password is refused with a sentence");
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
  await page.getByTestId("projects-empty").waitFor();
  check(page.url().endsWith("#/projects"), "registration opens the projects screen");
  check((await page.getByTestId("user-name").textContent()) === "Ada Lovelace",
        "the top bar shows the user's name");
  await shot(page, "auth-projects-empty");

  // Sign out: back to the sign-in screen, the refresh token forgotten.
  await page.getByTestId("user-menu").click();
  await page.getByTestId("sign-out").click();
  await page.getByTestId("login-email").waitFor();
  const stored = await page.evaluate(() => localStorage.getItem("sdsim.refreshToken"));
  check(stored === null, "signing out forgets the refresh token");

  // A wrong password shows the server's sentence.
  await page.getByTestId("login-email").fill(email);
  await page.getByTestId("login-password").fill("not-the-password");
  await page.getByTestId("login-submit").click();
  const err = await page.getByTestId("login-error").textContent();
  check(/wrong email or password/i.test(err || ""), `wrong password: "${err}"`);
  await shot(page, "auth-wrong-password");

  // Sign in.
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
  await page.getByTestId("projects-empty").waitFor();
  check(true, "signed in again");

  // Create a project: it opens in the editor.
  await page.getByTestId("project-new").click();
  await page.getByTestId("prompt-input").fill("Checkout flow");
  await page.keyboard.press("Enter");
  await waitFor(() => /#\/p\/[^/]+$/.test(page.url()), { what: "the editor's route" });
  const projectId = decodeURIComponent(page.url().split("#/p/")[1]);
  check(projectId.length > 0, `creating opens the project (${projectId})`);

  // Back to the list: it is there; rename it through the dialog.
  await page.goto(baseURL + "/#/projects");
  await page.getByTestId("project-card").first().waitFor();
  check((await projectNames(page)).includes("Checkout flow"), "the new project is listed");
  await page.getByTestId("project-card").first().hover();
  await page.getByTestId("project-rename").first().click();
  await page.getByTestId("prompt-input").fill("Checkout v2");
  await page.keyboard.press("Enter");
  await waitFor(async () => (await projectNames(page)).includes("Checkout v2"),
                { what: "the renamed card" });
  check(true, "the renamed project is listed under its new name");
  const components = await page.getByTestId("project-components").first().textContent();
  check(/^\d+ components?$/.test(components || ""), `the card counts components ("${components}")`);

  // A hostile name is shown as text; no element is made of it, no script runs.
  const evil = "<img src=x onerror=alert(1)>";
  await page.getByTestId("project-new").click();
  await page.getByTestId("prompt-input").fill(evil);
  await page.keyboard.press("Enter");
  await waitFor(() => page.url().includes("#/p/"), { what: "the editor's route" });
  await page.goto(baseURL + "/#/projects");
  await waitFor(async () => (await projectNames(page)).includes(evil), { what: "the evil card" });
  check(await page.locator("#root img").count() === 0, "no <img> element from the name");
  await page.waitForTimeout(300);
  check(alerts === 0, "no alert ran");
  await shot(page, "auth-projects");

  // Open it from its card; reload keeps the place and the sign-in.
  const card = page.locator(`[data-testid="project-card"][data-project-id="${projectId}"]`);
  await card.getByTestId("project-open").click();
  await waitFor(() => page.url().endsWith(`#/p/${encodeURIComponent(projectId)}`),
                { what: "the project's route" });
  check(true, "the card opens the project");
  await page.waitForTimeout(500);
  await page.reload();
  await page.waitForTimeout(1500);
  check(page.url().endsWith(`#/p/${encodeURIComponent(projectId)}`),
        `after a reload the project is still open (${page.url()})`);
  check(await page.getByTestId("login-email").count() === 0, "and the user is still signed in");
  await shot(page, "auth-editor-after-reload");

  await page.goto(baseURL + "/#/projects");
  await page.reload();
  await page.getByTestId("project-card").first().waitFor();
  check((await page.getByTestId("user-name").textContent()) === "Ada Lovelace",
        "a reload of the projects screen keeps the sign-in");

  // The server agrees: two projects, one renamed.
  const login = await api("POST", "/api/auth/login", { email, password });
  const list = await api("GET", "/api/projects", undefined, login.body.token);
  const names = (list.body.projects || []).map((p) => p.name).sort();
  check(JSON.stringify(names) === JSON.stringify(["Checkout v2", evil].sort()),
        `the server lists both projects (${JSON.stringify(names)})`);
  // The browser logs the deliberate wrong password's 401; anything else is a fault.
  const errors = [...page.consoleErrors];
  const i = errors.findIndex((e) => /status of 401/.test(e));
  if (i >= 0) errors.splice(i, 1);
  check(errors.length === 0, `no other console errors${errors.length ? ": " + errors.join(" | ") : ""}`);
});

test("a signed-out deep link comes back after signing in", async () => {
  const { page, baseURL } = await launch({ viewport: { width: 1280, height: 720 } });
  await page.goto(baseURL + "/#/templates");
  await page.getByTestId("login-email").waitFor();
  await page.getByTestId("login-email").fill(email);
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
  await waitFor(() => page.url().endsWith("#/templates"), { what: "#/templates" });
  check(true, "signing in returns to #/templates");
  await page.waitForTimeout(800);
  await shot(page, "auth-templates");
});

test("the template gallery: filter, search, use a template", async () => {
  const { page, baseURL } = await launch({ viewport: { width: 1280, height: 720 } });
  await page.goto(baseURL + "/#/templates");
  await page.getByTestId("login-email").waitFor();
  await page.getByTestId("login-email").fill(email);
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
  await page.getByTestId("template-card").first().waitFor();
  const all = await page.getByTestId("template-card").count();
  check(all >= 5, `the gallery lists the templates (${all})`);
  const cats = await page.locator('[data-testid^="template-category-"]').count();
  check(cats >= 3, `with category tabs (${cats})`);
  // One category: fewer cards, each of it.
  await page.locator('[data-testid^="template-category-"]').nth(1).click();
  await waitFor(async () => (await page.getByTestId("template-card").count()) < all,
                { what: "a filtered gallery" });
  check(true, "a category tab filters the gallery");
  await page.getByTestId("template-category-all").click();
  // Search is sent to the server.
  await page.getByTestId("template-search").fill("zzzz-no-such-template");
  await page.getByTestId("templates-empty").waitFor();
  check(true, "a search without matches shows the empty state");
  await page.getByTestId("template-search").fill("");
  await page.getByTestId("template-card").first().waitFor();
  const id = await page.getByTestId("template-card").first().getAttribute("data-template-id");
  await page.getByTestId("template-use").first().click();
  await waitFor(() => page.url().includes("#/p/"), { what: "the new project's route" });
  check(true, `"Use template" opens the new project (${id})`);
  const login = await api("POST", "/api/auth/login", { email, password });
  const list = await api("GET", "/api/projects", undefined, login.body.token);
  const made = (list.body.projects || []).find((p) => p.templateId === id
                                                || page.url().endsWith(p.id));
  check(Boolean(made), `the server has the project made from ${id}`);
});

test("two tabs restoring at once do not revoke the sign-in; signing out in one signs out both",
     async () => {
  const { context, page, baseURL } = await launch({ viewport: { width: 1280, height: 720 } });
  const login = await api("POST", "/api/auth/login", { email, password });
  await page.goto(baseURL + "/healthz");
  await page.evaluate((rt) => localStorage.setItem("sdsim.refreshToken", rt), login.body.refreshToken);
  const second = await context.newPage();
  // Both tabs restore at once (a browser reopening them); the first refresh is held 700 ms
  // so the second tab starts while the first has not rotated the token yet. Without a lock
  // both would send the same token, and the server would revoke the sign-in.
  let held = 0;
  await context.route("**/api/auth/refresh", async (route) => {
    if (held++ === 0) await new Promise((r) => setTimeout(r, 700));
    await route.continue();
  });
  await Promise.all([page.goto(baseURL + "/#/projects"),
                     new Promise((r) => setTimeout(r, 200)).then(() =>
                       second.goto(baseURL + "/#/templates"))]);
  await Promise.all([page.getByTestId("user-name").waitFor(), second.getByTestId("user-name").waitFor()]);
  check(true, "both tabs are signed in");
  await page.reload();
  await page.getByTestId("user-name").waitFor();
  check(true, "and a reload after that is still signed in (no token spent twice)");
  await page.getByTestId("user-menu").click();
  await page.getByTestId("sign-out").click();
  await second.getByTestId("login-email").waitFor();
  check(true, "signing out in one tab signs out the other");
});
