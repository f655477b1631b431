// Shared set-up of the browser tests: Debian's chromium through playwright-core (never a
// downloaded browser), the built app (www/dist/app via www/app/serve.mjs), the mock backend
// (www/mock/backend.mjs) and answer paths derived from the example config with the real engine.
import { existsSync, readFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const ARTIFACTS = resolve(ROOT, "test-artifacts");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const VIEWPORT = { width: 375, height: 667 };
export const CONFIG_PATH = resolve(process.env.KIZUNA_CONFIG || resolve(ROOT, "examples/skincare/config.json"));
export const QUIZ_ID = "skin_type";

const { chromium } = await import(resolve(ROOT, "www/app/node_modules/playwright-core/index.mjs"));
export { chromium };

export function launch() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: make deps-browser installs Debian's chromium`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}

export function artifact(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return resolve(ARTIFACTS, name);
}

/** A new page at 375×667 that fails the test on uncaught page errors. */
export async function newPage(browser, errors) {
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, locale: "ja-JP" });
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(e));
  return { context, page };
}

/** Another page (a second tab) in the same context: same origin, same localStorage. */
export async function newTab(context, errors) {
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(e));
  return page;
}

// ---- the engine in Node, through the app's own adapter ----------------------------------------
const quizApi = await import(resolve(ROOT, "www/app/src/kizuna-quiz.js"));
export { quizApi };

export function loadEngine() {
  return quizApi.createEngine(readFileSync(CONFIG_PATH, "utf8"));
}

function net(choice, target) {
  const s = choice.scores || {};
  const others = Object.entries(s).filter(([k]) => k !== target).map(([, v]) => v);
  return (s[target] || 0) - (others.length ? Math.max(...others) : 0);
}

function walk(engine, pick) {
  let state = quizApi.start(engine, QUIZ_ID);
  const path = [];
  for (let i = 0; i < 100; i++) {
    const q = quizApi.question(engine, state);
    if (!q) break;
    const a = pick(q);
    path.push({ id: q.id, kind: q.kind, answer: a });
    state = quizApi.answer(engine, state, q.id, a);
  }
  const ctx = { version: 1, now: "2026-11-27T10:30:00+09:00", user: { userId: "Upathfinder" } };
  return { path, result: quizApi.result(engine, state, ctx).result.id };
}

/**
 * For every result of the quiz, an answer path that leads to it: greedily the choice that adds
 * most to that result's dimension (read from the config), checked with the engine; a seeded
 * random search where greedy does not reach it.
 */
export function derivePaths() {
  const { engine, config } = loadEngine();
  const quiz = (config.quizzes || []).find((q) => q.id === QUIZ_ID);
  if (!quiz) throw new Error(`${CONFIG_PATH} has no quiz "${QUIZ_ID}"`);
  const defs = new Map(quiz.questions.map((q) => [q.id, q]));
  const paths = new Map();
  for (const target of quiz.results.map((r) => r.id)) {
    const greedy = walk(engine, (q) => {
      const def = defs.get(q.id);
      if (q.kind === "text") return q.optional ? "" : "特になし";
      const ranked = [...def.choices].sort((a, b) => net(b, target) - net(a, target));
      if (q.kind === "multiple") {
        const good = ranked.filter((c) => net(c, target) > 0).map((c) => c.id);
        return good.length || q.optional ? good : [ranked[0].id];
      }
      return ranked[0].id;
    });
    if (greedy.result === target) paths.set(target, greedy.path);
  }
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 20000 && paths.size < quiz.results.length; i++) {
    const r = walk(engine, (q) => {
      if (q.kind === "text") return q.optional ? "" : "特になし";
      const c = q.choices[Math.floor(rnd() * q.choices.length)].id;
      return q.kind === "multiple" ? (q.optional && rnd() < 0.3 ? [] : [c]) : c;
    });
    if (!paths.has(r.result)) paths.set(r.result, r.path);
  }
  engine.free();
  return { quiz, paths };
}

/** Answers one question in the page, checking it is the expected one. */
export async function answerQuestion(page, step) {
  const heading = page.locator("form h2");
  await heading.waitFor();
  const id = await heading.getAttribute("id");
  if (id !== `q-${step.id}`) throw new Error(`expected question ${step.id}, the page shows ${id}`);
  if (step.kind === "text") {
    await page.locator("textarea[name=answer]").fill(step.answer);
  } else {
    for (const v of [step.answer].flat()) await page.locator(`input[name=answer][value="${v}"]`).check();
  }
  await page.locator("form button[type=submit]").click();
  await page.waitForFunction((prev) => document.querySelector("form h2")?.id !== prev, id);
}

/** Answers every question of `path` and waits for the result; returns the decisionId it shows. */
export async function completeQuiz(page, path) {
  for (const step of path) await answerQuestion(page, step);
  const section = page.locator("section[data-result]");
  await section.waitFor();
  return section.getAttribute("data-decision-id");
}

/**
 * Answers whichever question of `path` the page shows and submits it, in one task of the page
 * (another tab's update cannot come between reading the question and answering it). Returns
 * the question's id, or null when the page shows no question of the path.
 */
export function answerShown(page, path) {
  return page.evaluate((steps) => {
    const step = steps.find((s) => document.querySelector("form h2")?.id === `q-${s.id}`);
    if (!step) return null;
    if (step.kind === "text") document.querySelector("textarea[name=answer]").value = step.answer;
    for (const v of step.kind === "text" ? [] : [step.answer].flat()) document.querySelector(`input[name=answer][value="${v}"]`).checked = true;
    document.querySelector("form").requestSubmit();
    return step.id;
  }, path);
}

/** Polls `fn` until it returns a truthy value (or throws after `ms`). */
export async function until(fn, ms = 15000, what = "condition") {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- LINE's servers for the real LIFF SDK ------------------------------------------------------
export const FAKE_LIFF_ID = "1234567890-AbcdEfgh";
const FAKE_CHANNEL = FAKE_LIFF_ID.split("-")[0];
export const FAKE_SUB = "U0123456789abcdef0123456789abcdef";

/**
 * Answers every request to LINE (liff.line.me, api.line.me, access.line.me, *.line-scdn.net) on
 * `context` with Playwright routes, so the real @line/liff SDK runs its external-browser path:
 * the LIFF context (type `contextType`, the app at `endpoint`), LINE Login's authorize redirect
 * back to the app, the code exchange, and ID tokens signed ES256 with a key of the test's (the
 * SDK verifies them against /oauth2/v2.1/certs). After the reviewer's scripts (review-liff15). `login(n)` decides the n-th login (from 0): `{deny: true}` sends
 * the user back with access_denied (as when consent is refused); `{expIn}` the ID token's
 * lifetime in s (default 3600); `{idToken: false}` no ID token (the openid scope off).
 * `now()` is the browser's clock in ms (for a test that shifts it): `exp` and `iat` are on it.
 * Returns {logins: the redirect_uri of every authorize request, tokens: every ID token issued}.
 */
export async function fakeLine(context, { endpoint, login = () => ({}), now = Date.now, contextType = "external", name = "山田 花子", sub = FAKE_SUB }) {
  const { generateKeyPairSync, sign } = await import("node:crypto");
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "ES256", use: "sig" };
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const line = { logins: [], tokens: [] };
  let current = {}; // the answer of the login in progress
  const idToken = (expIn) => {
    const t = Math.floor(now() / 1000);
    const head = b64({ typ: "JWT", alg: "ES256", kid: "k1" });
    const body = b64({ iss: "https://access.line.me", sub, aud: FAKE_CHANNEL, exp: t + expIn, iat: t, amr: ["linesso"], name });
    return `${head}.${body}.${sign("sha256", Buffer.from(`${head}.${body}`), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
  };
  const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "*", "access-control-allow-methods": "GET,POST,OPTIONS", "content-type": "application/json" };
  const json = (route, body) => route.fulfill({ headers: cors, body: JSON.stringify(body) });
  await context.route(/^https:\/\/[a-z0-9.-]*line(-scdn)?\.(me|net)\//, async (route) => {
    const r = route.request();
    const u = new URL(r.url());
    if (r.method() === "OPTIONS") return route.fulfill({ status: 204, headers: cors });
    if (u.pathname.endsWith("/contextToken")) {
      const liffContext = { type: contextType, liffId: FAKE_LIFF_ID, endpointUrl: endpoint, viewType: "full", scope: ["openid", "profile", "chat_message.write"], availability: {}, permanentLinkPattern: "concat" };
      return json(route, { contextToken: `x.${b64(liffContext)}.y` });
    }
    if (u.pathname === "/liff/v1/authorize") {
      const redirect = u.searchParams.get("redirect_uri");
      current = login(line.logins.length) || {};
      line.logins.push(redirect);
      const to = new URL(redirect); // the parameters go in its query, before any #fragment
      const add = current.deny
        ? { error: "access_denied", error_description: "The user has not granted consent", liffOAuth2Error: "true" }
        : { code: `C0DE${line.logins.length}`, liffClientId: FAKE_CHANNEL, liffRedirectUri: redirect };
      for (const [k, v] of Object.entries({ ...add, state: u.searchParams.get("state") })) to.searchParams.append(k, v);
      return route.fulfill({ status: 302, headers: { location: to.href } });
    }
    if (u.pathname === "/oauth2/v2.1/token") {
      const id = current.idToken === false ? undefined : idToken(current.expIn ?? 3600);
      if (id) line.tokens.push(id);
      return json(route, { access_token: `AT-${line.logins.length}`, id_token: id, expires_in: 2592000, token_type: "Bearer", scope: "openid profile chat_message.write" });
    }
    if (u.pathname === "/oauth2/v2.1/certs") return json(route, { keys: [jwk] });
    if (u.pathname === "/oauth2/v2.1/verify") return json(route, { scope: "openid profile chat_message.write", client_id: FAKE_CHANNEL, expires_in: 2500000 });
    return json(route, {});
  });
  return line;
}
