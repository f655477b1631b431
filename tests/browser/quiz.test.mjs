// The LIFF quiz in Debian's chromium at 375×667, against the built app, the real kizuna
// package and the mock backend. `make test-app` (builds the app first).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { startApp } from "../../www/app/serve.mjs";
import { startBackend } from "../../www/mock/backend.mjs";
import { ROOT, launch, newPage, newTab, artifact, derivePaths, answerQuestion, answerShown, completeQuiz, until, loadEngine, quizApi, fakeLine, FAKE_LIFF_ID, FAKE_SUB } from "./helpers.mjs";

const decisionSchema = JSON.parse(readFileSync(resolve(ROOT, "schema/decision.schema.json"), "utf8"));
let browser, app, backend;
const errors = [];

before(async () => {
  [browser, backend] = await Promise.all([launch(), startBackend({ port: 0 })]);
  // the backend as a production page gets it: in the HTML (a <meta> serve.mjs injects), never
  // from the query string (a production build ignores ?backend=, ?liffId= and ?mock=)
  app = await startApp({ port: 0, backendUrl: backend.url });
});
after(async () => {
  await Promise.all([browser?.close(), app?.close(), backend?.close()]);
});

// decisions waiting in the app's outbox (kizuna/sync LocalStorageStore, prefix "kizuna-quiz:")
// Outbox records (kizuna/sync's queue keys; kizuna:outbox: is the format before them).
const outboxSize = () => Object.keys(localStorage).filter((k) => /^kizuna-quiz:kizuna:(queue|outbox):/.test(k)).length;

const quizUrl = () => app.quizUrl;

test("five answer paths (derived from the example config) give the five skin types", async () => {
  const { quiz, paths } = derivePaths();
  assert.equal(quiz.results.length, 5, "the skin-type quiz has five results");
  assert.deepEqual([...paths.keys()].sort(), quiz.results.map((r) => r.id).sort(), "every result is reachable");
  const { context, page } = await newPage(browser, errors);
  for (const r of quiz.results) {
    await page.evaluate(() => localStorage.clear()).catch(() => {});
    await page.goto(quizUrl());
    for (const step of paths.get(r.id)) await answerQuestion(page, step);
    const section = page.locator("section[data-result]");
    await section.waitFor();
    assert.equal(await section.getAttribute("data-result"), r.id);
    assert.match(await page.locator("#result-title").textContent(), new RegExp(r.title));
    assert.equal(await page.evaluate(() => document.activeElement?.id), "result-title", "focus moves to the result heading");
    await page.screenshot({ path: artifact(`quiz-result-${r.id}.png`), fullPage: true });
    // The backend keeps the result from the decision's `quiz` (the mock applies it as the
    // README says): the user's next webhook is decided with it. Each retake replaces the last.
    const id = await section.getAttribute("data-decision-id");
    const user = () => backend.users.get(backend.decisions.get(id)?.userId);
    const stored = await until(() => user()?.quizAnswers?.skin_type?.result === r.id && user(), 15000, `result ${r.id} stored`);
    const others = quiz.results.filter((x) => x.id !== r.id).flatMap((x) => x.tags ?? []);
    for (const t of r.tags ?? []) assert.ok(stored.tags.includes(t), `${r.id}: tag ${t}`);
    for (const t of others) assert.ok(!stored.tags.includes(t), `${r.id}: an earlier result's tag ${t} taken off`);
    assert.equal(stored.attributes.skinType, r.attributes?.skinType ?? stored.attributes.skinType);
  }
  await context.close();
  copyFileSync(artifact(`quiz-result-${quiz.results[0].id}.png`), resolve(ROOT, "www/app/screenshot-result.png"));
  assert.deepEqual(errors, []);
});

test("an empty answer is refused with a message read with the choices (aria-invalid, aria-describedby); a multiple choice's hint is read too", async () => {
  const { context, page } = await newPage(browser, errors);
  await page.goto(quizUrl());
  const fieldset = page.locator("form fieldset");
  await fieldset.waitFor();
  await page.locator("form button[type=submit]").click();
  const error = page.locator("form p.error");
  assert.equal(await error.textContent(), "回答を選んでください。");
  assert.equal(await fieldset.getAttribute("aria-invalid"), "true");
  const described = (await fieldset.getAttribute("aria-describedby")).split(" ");
  assert.ok(described.includes(await error.getAttribute("id")), "the message is the fieldset's description");
  await page.locator("form input[name=answer]").first().check();
  assert.equal(await fieldset.getAttribute("aria-invalid"), null, "cleared once answered");
  assert.equal(await error.textContent(), "");
  // the multiple-choice question: its hint describes the fieldset
  const path = [...derivePaths().paths.values()].find((p) => p.some((step) => step.id === "q4"));
  assert.ok(path, "a path through the multiple-choice question q4");
  await page.evaluate(() => localStorage.clear());
  await page.goto(quizUrl());
  for (const step of path.slice(0, path.findIndex((step) => step.id === "q4"))) await answerQuestion(page, step);
  await until(async () => (await page.locator("form h2").getAttribute("id")) === "q-q4", 5000, "the multiple-choice question");
  const hint = page.locator("form p.hint");
  assert.ok((await page.locator("form fieldset").getAttribute("aria-describedby")).split(" ").includes(await hint.getAttribute("id")));
  await context.close();
  assert.deepEqual(errors, []);
});

test("an optional question says （任意） once, also when its text already says it", async (t) => {
  const { quiz, paths } = derivePaths();
  const path = [...paths.values()].find((p) => p.some((step) => quiz.questions.find((q) => q.id === step.id)?.optional));
  if (!path) return t.skip("the example has no optional question");
  const { context, page } = await newPage(browser, errors);
  await page.goto(quizUrl());
  for (const step of path) {
    const heading = page.locator("form h2");
    await heading.waitFor();
    if (quiz.questions.find((q) => q.id === step.id).optional) assert.equal((await heading.textContent()).split("任意").length - 1, 1, `${step.id}: ${await heading.textContent()}`);
    await answerQuestion(page, step);
  }
  await context.close();
  assert.deepEqual(errors, []);
});

test("a reload mid-quiz resumes at the same question; back shows the previous answer", async () => {
  const { paths } = derivePaths();
  const path = [...paths.values()][0];
  const { context, page } = await newPage(browser, errors);
  await page.goto(quizUrl());
  await page.screenshot({ path: artifact("quiz-question-1.png") });
  for (const step of path.slice(0, 3)) await answerQuestion(page, step);
  const before = await page.locator("form h2").getAttribute("id");
  const progress = await page.locator(".progress span").textContent();
  assert.equal(before, `q-${path[3].id}`);
  await page.reload();
  await page.locator("form h2").waitFor();
  assert.equal(await page.locator("form h2").getAttribute("id"), before, "same question after the reload");
  assert.equal(await page.locator(".progress span").textContent(), progress);
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), "H2", "focus on the question heading");
  assert.match(await page.locator("#live").textContent(), /質問 4 \//, "progress announced in the aria-live region");
  await page.screenshot({ path: artifact("quiz-question-4-after-reload.png") });
  // back: the third question again, its answer still selected
  await page.getByRole("button", { name: "戻る" }).click();
  await until(async () => (await page.locator("form h2").getAttribute("id")) === `q-${path[2].id}`, 5000, "the previous question");
  const prev = path[2];
  if (prev.kind !== "text") {
    for (const v of [prev.answer].flat()) assert.ok(await page.locator(`input[value="${v}"]`).isChecked(), "previous answer pre-selected");
  }
  // a reload while looking back stays there too
  await page.reload();
  await page.locator("form h2").waitFor();
  assert.equal(await page.locator("form h2").getAttribute("id"), `q-${prev.id}`, "the earlier question after a reload");
  // the same answer again is idempotent: on to the question that followed, state unchanged
  const stateBefore = await page.evaluate(() => JSON.parse(localStorage.getItem("kizuna-quiz:state:skin_type")).state);
  await page.locator("form button[type=submit]").click();
  await until(async () => (await page.locator("form h2").getAttribute("id")) === before, 5000, "the question after it");
  const stateAfter = await page.evaluate(() => JSON.parse(localStorage.getItem("kizuna-quiz:state:skin_type")).state);
  assert.deepEqual(stateAfter, stateBefore, "answering the same again leaves the state unchanged");
  await context.close();
  assert.deepEqual(errors, []);
});

test("a different answer to an earlier question re-branches", async (t) => {
  const { quiz } = derivePaths();
  const first = quiz.questions[0];
  const branching = first.kind === "single" && first.choices.find((c) => c.next && c.next !== "$end");
  const plain = branching && first.choices.find((c) => !c.next);
  if (!branching || !plain) return t.skip("the first question of the example does not branch");
  const after = first.next ?? quiz.questions[1].id;
  assert.notEqual(after, branching.next);
  const { context, page } = await newPage(browser, errors);
  await page.goto(quizUrl());
  await answerQuestion(page, { id: first.id, kind: "single", answer: plain.id });
  assert.equal(await page.locator("form h2").getAttribute("id"), `q-${after}`);
  await page.getByRole("button", { name: "戻る" }).click();
  await until(async () => (await page.locator("form h2").getAttribute("id")) === `q-${first.id}`, 5000, "the first question");
  assert.ok(await page.locator(`input[value="${plain.id}"]`).isChecked());
  await answerQuestion(page, { id: first.id, kind: "single", answer: branching.id });
  assert.equal(await page.locator("form h2").getAttribute("id"), `q-${branching.next}`, "the new branch");
  const saved = await page.evaluate(() => JSON.parse(localStorage.getItem("kizuna-quiz:state:skin_type")).state);
  assert.deepEqual(saved.path, [first.id]);
  assert.equal(saved.current, branching.next);
  await context.close();
  assert.deepEqual(errors, []);
});

// The app served with the LIFF mock `mock` (as if inside LINE), the quiz answered to a result,
// 結果をトークに送る clicked; `check(page, send)` then looks at what happened.
async function sendFromLine(mock, check) {
  const { paths } = derivePaths();
  const [, path] = [...paths.entries()][2];
  const served = await startApp({ port: 0, backendUrl: backend.url, mock });
  try {
    const { context, page } = await newPage(browser, errors);
    await page.goto(served.quizUrl);
    for (const step of path) await answerQuestion(page, step);
    const send = page.getByRole("button", { name: "結果をトークに送る" });
    await send.waitFor();
    await send.click();
    await check(page, send);
    await context.close();
  } finally {
    await served.close();
  }
  assert.deepEqual(errors, []);
}

test("inside LINE (mocked): the result offers liff.sendMessages with a summary", () =>
  sendFromLine("client", async (page, send) => {
    await until(async () => (await page.locator("#live").textContent()) === "トークに結果を送りました", 5000, "the send confirmation");
    // the focus stays on the button, now 送信しました (aria-disabled: a disabled button drops it to <body>)
    assert.deepEqual(await page.evaluate(() => [document.activeElement?.textContent, document.activeElement?.getAttribute("aria-disabled")]), ["送信しました", "true"]);
    await page.keyboard.press("Enter"); // inert
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await page.evaluate(() => window.kizunaMockSent)).length, 1, "sent once");
    await page.reload(); // not offered again after a reload
    const done = page.getByRole("button", { name: "送信しました" });
    await done.waitFor();
    assert.ok(await done.isDisabled());
    assert.equal(await send.count(), 0);
  }));

test("inside LINE (mocked): a failed liff.sendMessages is shown next to the button", () =>
  sendFromLine("client-denied", async (page, send) => {
    const alert = page.locator("section[data-result] .send-error[role=alert]");
    await until(async () => /送信できませんでした/.test(await alert.textContent()), 5000, "the visible error");
    assert.ok(await alert.isVisible(), "the error is visible, not only in the hidden live region");
    assert.doesNotMatch(await alert.textContent(), /[A-Za-z]/, "in Japanese (the SDK's message goes to the console)");
    assert.ok(await send.isEnabled(), "the button can be tried again");
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.send), "", "the focus is still on it");
    await page.screenshot({ path: artifact("quiz-send-failed.png"), fullPage: true });
  }));

test("inside LINE but not opened from a chat (mocked: a QR code, the home tab): 結果をトークに送る is not offered", async () => {
  const { paths } = derivePaths();
  const [, path] = [...paths.entries()][2];
  const served = await startApp({ port: 0, backendUrl: backend.url, mock: "client-nochat" });
  try {
    const { context, page } = await newPage(browser, errors);
    await page.goto(served.quizUrl);
    const id = await completeQuiz(page, path);
    await until(() => backend.decisions.has(id), 15000, "the decision"); // the rest works as in a chat
    assert.equal(await page.locator("button[data-send]").count(), 0, "no send button: liff.sendMessages can only fail there");
    assert.equal(await page.locator(".send-error").count(), 0);
    await context.close();
  } finally {
    await served.close();
  }
  assert.deepEqual(errors, []);
});

// A mock backend of the test's own (its counts start at zero; `options` as startBackend's) and
// the app served against it (the backend in the <meta> serve.mjs injects; `appOptions` as
// startApp's); both closed after `run`.
async function withOwnBackend(options, run, appOptions = {}) {
  const b = await startBackend({ port: 0, ...options });
  const served = await startApp({ port: 0, backendUrl: b.url, ...appOptions });
  try {
    await run(b, served);
  } finally {
    await Promise.all([served.close(), b.close()]);
  }
  assert.deepEqual(errors, []);
}

// localStorage full (setItem of the app's keys throws QuotaExceededError) or blocked (the getter throws)
const FULL = () => {
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (k, v) {
    if (String(k).startsWith("kizuna-quiz:state") || String(k).startsWith("kizuna-quiz:kizuna:")) throw new DOMException("full", "QuotaExceededError");
    return setItem.call(this, k, v);
  };
};
const BLOCKED = () => {
  Object.defineProperty(window, "localStorage", { configurable: true, get() { throw new DOMException("blocked", "SecurityError"); } });
};
for (const [name, script] of [["full", FULL], ["blocked", BLOCKED]]) {
  test(`localStorage ${name}: the quiz goes on in memory, says so, and the decision is still sent`, async () => {
    const { paths } = derivePaths();
    const [, path] = [...paths.entries()][4];
    const { context, page } = await newPage(browser, errors);
    await context.addInitScript(script);
    await page.goto(quizUrl());
    for (const step of path) await answerQuestion(page, step); // "次へ" works on every question
    const notice = page.locator("#storage-notice");
    assert.ok(await notice.isVisible(), "a visible notice");
    assert.match(await notice.textContent(), name === "full" ? /いっぱい/ : /無効/);
    const section = page.locator("section[data-result]");
    await section.waitFor();
    const id = await section.getAttribute("data-decision-id");
    await until(() => backend.decisions.has(id), 15000, "the decision, sent from memory");
    await until(async () => (await page.locator("#sync-status").textContent()) === "診断結果を送信しました。", 5000, "the sent status");
    await page.screenshot({ path: artifact(`quiz-storage-${name}.png`), fullPage: true });
    await context.close();
    assert.deepEqual(errors, []);
  });
}

test("ID token inside LINE (mocked): an expired one is not sent (reopen, then sent); a 403 dead letter is sent again on the next visit", () =>
  withOwnBackend({}, async (b, served) => {
    const { paths } = derivePaths();
    const [, path] = [...paths.entries()][0];
    const { context, page } = await newPage(browser, errors);
    // Date.now() shifted by window.__skew (ms): a way to let an hour pass
    await context.addInitScript(() => {
      const now = Date.now;
      Date.now = () => now() + (window.__skew || 0);
    });
    const posts = () => b.requests.filter((r) => r.method === "POST" && r.path === "/decisions");
    const section = page.locator("section[data-result]");
    const status = page.locator("#sync-status");

    // a 403 dead-letters the decision; the next visit requeues it and it is sent
    b.answerNext({ method: "POST", path: "/decisions", status: 403, body: "{}", headers: { "access-control-allow-origin": "*" } });
    await page.goto(served.quizUrl);
    const first = await completeQuiz(page, path);
    await until(async () => (await status.textContent()) === "診断結果を送信できませんでした。", 10000, "the dead letter");
    assert.equal(posts().length, 1);
    await page.reload();
    await until(() => b.decisions.has(first), 15000, "the requeued decision");

    // the token expires while the backend is down: nothing is sent with it, the user is told to
    // reopen the page (inside LINE that gives a fresh token), and the reopened page sends it.
    // The clock moves while the backend is still down: a try under way at that moment has its
    // header already, and must meet a 503, not a backend that is back.
    b.setDown(true);
    await page.getByRole("button", { name: "もう一度診断する" }).click();
    const second = await completeQuiz(page, path);
    await until(() => posts().some((r) => r.status === 503), 10000, "a failed post");
    await page.evaluate(() => { window.__skew = 2 * 3600 * 1000; });
    // A try under way when the clock moves (its 503 not yet read) ends the outbox's flush, whose
    // 20 s budget counts from before the jump: the next try, which says it, is the app's 15 s retry.
    await until(async () => /開き直してください/.test(await status.textContent()), 30000, "the reopen notice");
    assert.ok(await status.isVisible());
    // each try with the expired token writes the notice again: count the tries from here
    await page.evaluate(() => {
      window.__tries = 0;
      new MutationObserver(() => window.__tries++).observe(document.querySelector("#sync-status"), { childList: true });
    });
    const before = posts().length;
    b.setDown(false);
    await page.evaluate(() => dispatchEvent(new Event("online")));
    await until(() => page.evaluate(() => window.__tries > 0), 30000, "a try once the backend is back");
    assert.match(await status.textContent(), /開き直してください/);
    assert.equal(posts().length, before, "no post with the expired token");
    assert.ok(!b.decisions.has(second));
    await page.reload(); // reopened: a fresh token
    // each try with the expired token counted as an attempt: the outbox's backoff (full jitter,
    // up to 30 s) may put the next try some seconds out
    await until(() => b.decisions.has(second), 45000, "the decision after reopening");
    assert.equal(b.decisions.size, 2);
    await context.close();
  }, { mock: "client" }));

// The real LIFF SDK (a LIFF id configured) in an external browser, LINE's servers faked
// (helpers.mjs fakeLine). Date.now() is shifted by sessionStorage "test-skew" (ms), which
// survives the LINE Login round trips of the tab.
async function realSdkPage(served, lineOptions = {}) {
  const { context, page } = await newPage(browser, errors);
  let skew = 0;
  await context.addInitScript(() => {
    const now = Date.now;
    Date.now = () => now() + Number(sessionStorage.getItem("test-skew") || 0);
  });
  const line = await fakeLine(context, { endpoint: served.quizUrl, now: () => Date.now() + skew, ...lineOptions });
  const setSkew = async (ms) => {
    skew = ms;
    await page.evaluate((s) => sessionStorage.setItem("test-skew", String(s)), ms);
  };
  return { context, page, line, setSkew };
}

test("outside LINE (real SDK): an expired ID token is replaced by a new LINE Login, and the result is sent after the round trip", () =>
  withOwnBackend({}, async (b, served) => {
    const { paths } = derivePaths();
    const [, path] = [...paths.entries()][0];
    const { context, page, line, setSkew } = await realSdkPage(served);
    const posts = () => b.requests.filter((r) => r.method === "POST" && r.path === "/decisions");
    b.setDown(true);
    await page.goto(served.quizUrl); // not logged in: LINE Login, back with a code
    await until(() => line.tokens.length === 1, 10000, "the first login");
    const id = await completeQuiz(page, path);
    await until(() => posts().some((r) => r.status === 503), 10000, "a failed post");
    // two hours later: the ID token (1 h) has expired, and the SDK keeps it; the next try logs in
    // again. The backend comes back only after that: a try under way when the clock moved has
    // the old token in its header, and must meet a 503.
    await setSkew(2 * 3600 * 1000);
    // (a try under way when the clock moves ends the flush: the next is the app's 15 s retry)
    await until(() => line.tokens.length === 2, 30000, "a new LINE Login (its token taken by the page back from it)");
    b.setDown(false);
    await page.evaluate(() => dispatchEvent(new Event("online")));
    await until(() => b.decisions.has(id), 20000, "the decision, after a new LINE Login");
    assert.equal(line.logins.length, 2, "one more LINE Login");
    assert.equal(b.decisions.size, 1);
    assert.ok(b.envelopes.every((e) => e.headers.authorization === `Bearer ${line.tokens[1]}`), "sent with the new token only");
    assert.equal(b.decisions.get(id).userId, FAKE_SUB);
    // the round trip came back to the result (the completed quiz is in localStorage)
    const section = page.locator("section[data-result]");
    await section.waitFor();
    assert.equal(await section.getAttribute("data-decision-id"), id);
    await until(async () => (await page.locator("#sync-status").textContent()) === "診断結果を送信しました。", 10000, "the sent status");
    assert.doesNotMatch(page.url(), /[?&](code|state|liffClientId)=/, "LINE Login's parameters are gone from the address bar");
    // a new visit hours later, with the token kept from before: a new login at once, at start-up
    await setSkew(5 * 3600 * 1000);
    await page.reload();
    await until(() => line.logins.length === 3, 10000, "a login at start-up");
    await section.waitFor();
    assert.equal(b.decisions.size, 1, "nothing more sent");
    await context.close();
  }, { liffId: FAKE_LIFF_ID }));

test("outside LINE (real SDK): a declined LINE Login is said at start with a button that logs in; the error leaves the URL; the quiz goes on, its result is sent once logged in", () =>
  withOwnBackend({}, async (b, served) => {
    const { paths } = derivePaths();
    const [, path] = [...paths.entries()][1];
    const { context, page, line } = await realSdkPage(served, { login: (n) => (n === 0 ? { deny: true } : {}) });
    await page.goto(served.quizUrl); // LINE Login, consent refused: back with error=access_denied
    await until(() => line.logins.length === 1, 10000, "the first login");
    const notice = page.locator("#liff-notice");
    await until(async () => /キャンセル/.test(await notice.textContent()), 10000, "the notice, at start");
    assert.ok(await notice.isVisible());
    assert.match(await notice.textContent(), /保存されません/, "the user knows before the end");
    assert.doesNotMatch(page.url(), /[?&](error|error_description|liffOAuth2Error|state)=/, "the error is gone from the URL");
    // the quiz can be answered; the result is shown, not sent
    await completeQuiz(page, path);
    const section = page.locator("section[data-result]");
    assert.match(await page.locator("#result-title").textContent(), /タイプです/);
    assert.ok(await notice.isVisible(), "still said on the result");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(b.requests.filter((r) => r.method === "POST").length, 0, "nothing sent");
    // 「LINE でログイン」: logged in this time, back on the result, which is sent
    await page.getByRole("button", { name: "LINE でログイン" }).click();
    await until(() => b.decisions.size === 1, 20000, "the decision, once logged in");
    assert.equal(line.logins.length, 2);
    await section.waitFor();
    assert.equal(await section.getAttribute("data-decision-id"), [...b.decisions.keys()][0]);
    assert.ok(await notice.isHidden(), "no notice once logged in");
    // a later visit whose liff.init fails (here: an OAuth error of another kind in the URL):
    // said so, and the result it shows is still the one saved and sent, not "not saved"
    await page.goto(`${served.quizUrl}?error=server_error&error_description=x&liffOAuth2Error=true`);
    await until(async () => /接続に失敗/.test(await notice.textContent()), 10000, "the notice");
    await section.waitFor();
    assert.equal(await section.getAttribute("data-decision-id"), [...b.decisions.keys()][0]);
    assert.doesNotMatch(await page.locator("#sync-status").textContent(), /保存されていません/);
    await context.close();
  }, { liffId: FAKE_LIFF_ID }));

test("real SDK, no ID token (the openid scope off): one more login at most, then said at start; the result is shown, not sent", () =>
  withOwnBackend({}, async (b, served) => {
    const { paths } = derivePaths();
    const [type, path] = [...paths.entries()][3];
    const { context, page, line } = await realSdkPage(served, { login: () => ({ idToken: false }) });
    await page.goto(served.quizUrl);
    const notice = page.locator("#liff-notice");
    await until(async () => /保存されません/.test(await notice.textContent()), 15000, "the notice, at start");
    assert.equal(line.logins.length, 2, "a missing token is tried once more, then not again (no loop)");
    assert.ok(await notice.isVisible());
    await completeQuiz(page, path);
    assert.equal(await page.locator("section[data-result]").getAttribute("data-result"), type, "the result is shown");
    assert.doesNotMatch(await page.locator("#app").textContent(), /[a-z]{4,}/, "no English engine error");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(b.requests.filter((r) => r.method === "POST").length, 0, "nothing sent");
    assert.equal(line.logins.length, 2);
    await context.close();
  }, { liffId: FAKE_LIFF_ID }));

test("real SDK, a LIFF URL with nested path segments (…/{liffId}/campaign/summer/?quiz=…): the app loads, at the endpoint, with the query", () =>
  withOwnBackend({}, async (b, served) => {
    const { context, page, line } = await realSdkPage(served);
    // a host with an SPA fallback (Cloudflare Pages without a 404.html, Firebase rewrites): every
    // unknown path gets index.html, so a relative ./assets/… under /campaign/summer/ is HTML too
    const html = await (await fetch(served.quizUrl)).text();
    await context.route((url) => url.pathname.startsWith("/campaign/"), (route) => route.fulfill({ status: 200, contentType: "text/html", body: html }));
    // https://liff.line.me/{liffId}/campaign/summer/?quiz=skin_type reaches the endpoint as
    await page.goto(`${served.quizUrl}?liff.state=${encodeURIComponent("/campaign/summer/?quiz=skin_type&utm_source=qr#top")}`);
    await until(() => line.tokens.length === 1, 10000, "the login");
    await page.locator("form h2").waitFor({ timeout: 10000 });
    const url = new URL(page.url());
    assert.equal(url.pathname, "/", "at the endpoint, not under the LIFF URL's path");
    assert.equal(url.searchParams.get("quiz"), "skin_type");
    assert.equal(url.searchParams.get("utm_source"), "qr", "the query kept");
    await context.close();
  }, { liffId: FAKE_LIFF_ID }));

test("a production build ignores ?backend=, ?mock= and ?liffId=: the ID token never goes to a host from the URL", async () => {
  const evil = await startBackend({ port: 0 });
  try {
    const { paths } = derivePaths();
    const [, path] = [...paths.entries()][0];
    const { context, page } = await newPage(browser, errors);
    const other = []; // every request the page makes to the other origin
    page.on("request", (r) => { if (r.url().startsWith(evil.url)) other.push(r.url()); });
    await page.goto(`${app.quizUrl}?backend=${encodeURIComponent(evil.url)}&mock=client&liffId=1234567890-Evil`);
    const id = await completeQuiz(page, path);
    await until(() => backend.decisions.has(id), 15000, "the decision at the built-in backend");
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(other, [], "no request to the origin named in ?backend=");
    assert.deepEqual(evil.requests, [], "the other backend got nothing");
    assert.equal(await page.getByRole("button", { name: "結果をトークに送る" }).count(), 0, "?mock=client ignored");
    await context.close();
  } finally {
    await evil.close();
  }
  assert.deepEqual(errors, []);
});

test("with a LIFF id configured the real LIFF SDK runs, also outside LINE: the mock (and its unsigned token) never does", async () => {
  const served = await startApp({ port: 0, backendUrl: backend.url, liffId: "1234567890-AbcdEfgh" });
  const mine = []; // the real SDK cannot reach LINE here: its failures are expected
  try {
    const { context, page } = await newPage(browser, mine);
    const requests = [];
    page.on("request", (r) => requests.push(r.url()));
    const posts = () => backend.requests.filter((r) => r.method === "POST" && r.path === "/decisions").length;
    const before = posts();
    await page.goto(served.quizUrl).catch(() => {}); // LINE Login's redirect may fail offline
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(requests.filter((u) => /liff-mock/.test(u)).length, 0, "the mock chunk is never loaded");
    assert.equal(posts(), before, "nothing is posted with a mock token");
    await context.close();
  } finally {
    await served.close();
  }
});

test("a completed quiz is sent once even when its decisionId would change on a reload (config redeploy)", async () => {
  const { paths } = derivePaths();
  const [, path] = [...paths.entries()][3];
  const { context, page } = await newPage(browser, errors);
  await page.goto(quizUrl());
  const id = await completeQuiz(page, path);
  const section = page.locator("section[data-result]");
  await until(() => backend.decisions.has(id), 15000, "the decision");
  await until(() => page.evaluate(outboxSize).then((n) => n === 0), 10000, "the outbox to empty");
  const posts = () => backend.requests.filter((r) => r.method === "POST" && r.path === "/decisions").length;
  const before = posts();
  // another input to the decisionId hash (a redeployed config changes configHash; here the
  // mock user's id, which is as good): a recomputation gives a new decisionId
  await page.evaluate(() => localStorage.setItem("kizuna-quiz:mock-user", "U" + "f".repeat(32)));
  await page.reload();
  await section.waitFor();
  assert.equal(await section.getAttribute("data-decision-id"), id, "the saved decision is shown, not a recomputed one");
  await new Promise((r) => setTimeout(r, 1500)); // room for a wrong second send
  assert.equal(posts(), before, "nothing more sent");
  assert.equal(await page.evaluate(outboxSize), 0, "nothing enqueued");
  const saved = await page.evaluate(() => JSON.parse(localStorage.getItem("kizuna-quiz:state:skin_type")));
  assert.equal(saved.decision.decisionId, id, "the enqueued decision is kept in the record");
  assert.equal(saved.enqueued, id);
  await context.close();
  assert.deepEqual(errors, []);
});

test("the browser's back button steps back a question (the answer kept), forward re-shows the next; back on the result shows the last question", async () => {
  const { paths } = derivePaths();
  const [expected, path] = [...paths.entries()][0];
  const { context, page } = await newPage(browser, errors);
  await page.goto(quizUrl());
  const entries = await page.evaluate(() => history.length); // the first question's entry is the last
  const shown = () => page.locator("form h2").getAttribute("id");
  const at = (step, what) => until(async () => (await shown()) === `q-${step.id}`, 5000, what);
  async function selected(step) {
    if (step.kind === "text") return assert.equal(await page.locator("textarea[name=answer]").inputValue(), step.answer);
    for (const v of [step.answer].flat()) assert.ok(await page.locator(`input[name=answer][value="${v}"]`).isChecked(), `${step.id}: ${v} still selected`);
  }
  for (const step of path.slice(0, 3)) await answerQuestion(page, step);
  await at(path[3], "the fourth question");
  // back twice: the second question, then the first, each with its saved answer
  await page.goBack();
  await at(path[2], "the third question");
  await page.goBack();
  await at(path[1], "the second question");
  await selected(path[1]);
  await page.goBack();
  await at(path[0], "the first question");
  await selected(path[0]);
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), "H2", "focus on the question heading");
  assert.match(await page.locator("#live").textContent(), /質問 1 \//, "announced in the aria-live region");
  assert.ok(page.url().startsWith(quizUrl()), "still in the app");
  // forward re-shows the next question with its answer; a reload there adds no entry
  await page.goForward();
  await at(path[1], "the second question again");
  await selected(path[1]);
  // 戻る is the same step: forward comes back to where it was
  await page.getByRole("button", { name: "戻る" }).click();
  await at(path[0], "the first question (戻る)");
  await page.goForward();
  await at(path[1], "the second question (forward after 戻る)");
  await page.reload();
  await at(path[1], "the second question after a reload");
  assert.equal(await page.evaluate(() => history.length), entries + 3, "the reload added no entry");
  // answering onward reaches the path's result
  for (const step of path.slice(1)) await answerQuestion(page, step);
  const section = page.locator("section[data-result]");
  await section.waitFor();
  assert.equal(await section.getAttribute("data-result"), expected);
  const decisionId = await section.getAttribute("data-decision-id");
  assert.equal(await page.evaluate(() => history.length), entries + path.length, "one entry a question answered, none twice");
  // back on the result: the last question, its answer selected; forward: the same result again
  await page.goBack();
  const last = path[path.length - 1];
  await at(last, "the last question");
  await selected(last);
  await page.goForward();
  await section.waitFor();
  assert.equal(await section.getAttribute("data-decision-id"), decisionId, "the same completion");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "result-title");
  // もう一度診断する starts again at the first entry: back from its first question leaves the app
  await page.getByRole("button", { name: "もう一度診断する" }).click();
  await at(path[0], "the first question of a new run");
  await until(async () => (await page.evaluate(() => history.state?.depth)) === 0, 5000, "the first entry");
  await page.goBack();
  await until(async () => !page.url().startsWith(quizUrl()), 5000, "leaving the app");
  await context.close();
  assert.deepEqual(errors, []);
});

// Answers `step` exactly (other choices unchecked: a kept answer of another branch is pre-selected)
// and submits it, in one task of the page.
function answerExactly(page, step) {
  return page.evaluate((step) => {
    if (document.querySelector("form h2")?.id !== `q-${step.id}`) throw new Error(`not at ${step.id}: ${document.querySelector("h2")?.id}`);
    if (step.kind === "text") document.querySelector("textarea[name=answer]").value = step.answer;
    else for (const i of document.querySelectorAll("input[name=answer]")) i.checked = [step.answer].flat().includes(i.value);
    document.querySelector("form").requestSubmit();
  }, step);
}
const savedRecord = (page) => page.evaluate(() => JSON.parse(localStorage.getItem("kizuna-quiz:state:skin_type")));
// Keeps the app's IndexedDB store busy (a readwrite transaction of the page's own) until 50 ms
// after the next popstate: a result computed meanwhile waits for it to be frozen, so the
// browser's back surely lands before the result could be drawn (otherwise a slow popstate
// lets it be shown for a moment, which counts as shown).
const holdCompletions = (page) => page.evaluate(() => new Promise((held, fail) => {
  const open = indexedDB.open("kizuna-quiz", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("completions");
  open.onerror = () => fail(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const store = db.transaction("completions", "readwrite").objectStore("completions");
    let release = false;
    addEventListener("popstate", () => setTimeout(() => (release = true), 50), { once: true });
    const spin = () => { if (!release) store.get("held").onsuccess = spin; };
    spin();
    db.close(); // once the transaction is done
    held();
  };
}));
const atQuestion = (page, step, what) => until(async () => (await page.locator("form h2").getAttribute("id").catch(() => null)) === `q-${step.id}`, 5000, what);

test("back from the result, a changed answer is a new completion: the screen agrees with the decision sent, and each decision is sent once", () =>
  withOwnBackend({}, async (b, served) => {
    const { paths } = derivePaths();
    const [first, second] = [paths.get("dry"), paths.get("oily")];
    assert.ok(first && second, "paths to dry and oily");
    const { context, page } = await newPage(browser, errors);
    const section = page.locator("section[data-result]");
    await page.goto(served.quizUrl);
    for (const step of first) await answerQuestion(page, step);
    await section.waitFor();
    const oldId = await section.getAttribute("data-decision-id");
    assert.equal(await section.getAttribute("data-result"), "dry");
    await until(() => b.decisions.has(oldId), 15000, "the first decision");
    const oldRun = (await savedRecord(page)).run;
    // back to the last question and the same answer again: the same completion, nothing new
    await page.goBack();
    await atQuestion(page, first.at(-1), "the last question");
    await answerExactly(page, first.at(-1));
    await until(async () => (await section.getAttribute("data-decision-id").catch(() => null)) === oldId, 5000, "the same result again");
    assert.equal((await savedRecord(page)).run, oldRun, "the same answer does not start a new run");
    // back to the first question and the other path: a new run, a new decision
    for (let i = first.length - 1; i >= 0; i--) {
      await page.goBack();
      await atQuestion(page, first[i], `question ${first[i].id}`);
    }
    for (const step of second) {
      await atQuestion(page, step, `question ${step.id} of the new answers`);
      await answerExactly(page, step);
    }
    await until(async () => (await section.count()) > 0 && (await section.getAttribute("data-result")) === "oily", 5000, "the new result");
    const result = await section.getAttribute("data-result");
    const newId = await section.getAttribute("data-decision-id");
    assert.notEqual(newId, oldId, "a new decision for the new answers");
    const saved = await savedRecord(page);
    assert.notEqual(saved.run, oldRun, "a changed answer after completion starts a new run");
    assert.equal(saved.decision.decisionId, newId);
    assert.equal(saved.decision.groups.skin_type, `skin_${result}`, "the saved decision is the result on screen");
    await until(() => b.decisions.has(newId), 15000, "the new decision at the backend");
    await until(() => page.evaluate(outboxSize).then((n) => n === 0), 10000, "the outbox to empty");
    await new Promise((r) => setTimeout(r, 1000)); // room for a wrong extra send
    assert.equal(b.decisions.get(newId).groups.skin_type, `skin_${result}`, "the backend segments the user as the screen says");
    assert.equal(b.decisions.get(oldId).groups.skin_type, "skin_dry", "the first completion stays sent");
    assert.deepEqual([...b.deliveries.entries()].sort(), [[newId, 1], [oldId, 1]].sort(), "each decision arrived once");
    await context.close();
  }));

test("back from the result, then a reload: the outbox is flushed at start-up and the decision arrives", () =>
  withOwnBackend({}, async (b, served) => {
    const { paths } = derivePaths();
    const [, path] = [...paths.entries()][0];
    const { context, page } = await newPage(browser, errors);
    // posts of the first page load get no answer (a dead network: the flush waits on them)
    const held = [];
    let blocked = true;
    await context.route(`${b.url}/**`, (r) => (blocked ? held.push(r) : r.continue()));
    await page.goto(served.quizUrl);
    const id = await completeQuiz(page, path);
    await until(() => held.length > 0, 10000, "a post on its way");
    assert.equal(await page.evaluate(outboxSize), 1);
    await page.goBack();
    await atQuestion(page, path.at(-1), "the last question");
    blocked = false;
    await page.reload(); // the held post dies with the page
    await atQuestion(page, path.at(-1), "the last question after the reload");
    await until(() => b.decisions.has(id), 10000, "the decision after the reload");
    await until(() => page.evaluate(outboxSize).then((n) => n === 0), 10000, "the outbox to empty");
    await context.close();
  }));

test("back while the result is being computed: the completion is frozen but not sent until its result is shown; the question stays on screen and in the record", () =>
  withOwnBackend({}, async (b, served) => {
    const { paths } = derivePaths();
    const [, path] = [...paths.entries()][0];
    const { context, page } = await newPage(browser, errors);
    await page.goto(served.quizUrl);
    for (const step of path.slice(0, -1)) await answerQuestion(page, step);
    const last = path.at(-1);
    await atQuestion(page, last, "the last question");
    if (last.kind === "text") await page.locator("textarea[name=answer]").fill(last.answer);
    else for (const v of [last.answer].flat()) await page.locator(`input[name=answer][value="${v}"]`).check();
    // 結果を見る and back in one task: back lands while the result is still computing
    await holdCompletions(page);
    await page.evaluate(() => { document.querySelector("form").requestSubmit(); history.back(); });
    await until(async () => (await savedRecord(page)).decision, 10000, "the completion frozen");
    await new Promise((r) => setTimeout(r, 1000)); // room for a wrong send
    const saved = await savedRecord(page);
    assert.equal(saved.enqueued, undefined, "not enqueued: its result was never shown");
    assert.equal(b.deliveries.size, 0, "nothing sent");
    assert.equal(await page.locator("form h2").getAttribute("id"), `q-${last.id}`, "the last question is on screen");
    assert.equal(saved.view, path.length - 1, "the record names the question on screen, not the result");
    await page.reload();
    await atQuestion(page, last, "the last question after a reload");
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(b.deliveries.size, 0, "nor at start-up");
    // forward: the result, the same completion, sent now, once
    await page.goForward();
    await page.locator("section[data-result]").waitFor();
    assert.equal(await page.locator("section[data-result]").getAttribute("data-decision-id"), saved.decision.decisionId);
    await until(() => b.decisions.has(saved.decision.decisionId), 10000, "the decision at the backend");
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual([...b.deliveries.entries()], [[saved.decision.decisionId, 1]]);
    await context.close();
  }));

test("back while the result is being computed, then the last answer changed: the completion never shown is never sent, whatever the timing", () =>
  withOwnBackend({}, async (b, served) => {
    const path = derivePaths().paths.get("dry");
    const last = path.at(-1);
    assert.equal(last.kind, "text", "the dry path ends with the free-text question");
    for (const delay of [0, 20, 300]) {
      const earlier = new Set(b.deliveries.keys());
      const { context, page } = await newPage(browser, errors);
      await page.goto(served.quizUrl);
      for (const step of path.slice(0, -1)) await answerQuestion(page, step);
      await atQuestion(page, last, "the last question");
      // 結果を見る and back in one task; `delay` ms after the back lands, another answer
      await holdCompletions(page);
      await page.evaluate((delay) => new Promise((done) => {
        addEventListener("popstate", () => setTimeout(() => {
          document.querySelector("textarea").value = "かゆい";
          document.querySelector("form").requestSubmit();
          done();
        }, delay), { once: true });
        document.querySelector("form").requestSubmit();
        history.back();
      }), delay);
      const section = page.locator("section[data-result]");
      await section.waitFor();
      const id = await section.getAttribute("data-decision-id");
      await until(() => b.decisions.has(id), 10000, "the shown completion at the backend");
      await new Promise((r) => setTimeout(r, 1000)); // room for a wrong send
      assert.deepEqual([...b.deliveries].filter(([k]) => !earlier.has(k)), [[id, 1]], `only the completion shown is sent, once (delay ${delay} ms)`);
      assert.equal((await savedRecord(page)).state.answers[last.id], "かゆい");
      await context.close();
    }
  }));

test("もう一度診断する answered at once: the new run still starts at the app's first entry, so back reaches its first question", async () => {
  const { paths } = derivePaths();
  const [, path] = [...paths.entries()][0];
  const { context, page } = await newPage(browser, errors);
  await page.goto(quizUrl());
  await completeQuiz(page, path);
  // the restart and an answer in one task, before the browser has gone back to the first entry
  await page.evaluate((step) => {
    [...document.querySelectorAll("button")].find((b) => b.textContent === "もう一度診断する").click();
    const input = document.querySelector(`input[name=answer][value="${step.answer}"]`);
    if (input) {
      input.checked = true;
      document.querySelector("form").requestSubmit();
    }
  }, path[0]);
  await atQuestion(page, path[0], "the first question of the new run");
  await until(async () => (await page.evaluate(() => history.state?.depth)) === 0, 5000, "on the first entry");
  await answerQuestion(page, path[0]);
  await page.goBack();
  await atQuestion(page, path[0], "back to the first question");
  assert.equal(await page.evaluate(() => history.state?.depth), 0);
  await context.close();
  assert.deepEqual(errors, []);
});

test("two tabs on the result: the browser's back in one leaves the other on the result", async () => {
  const { paths } = derivePaths();
  const [, path] = [...paths.entries()][0];
  const { context, page: one } = await newPage(browser, errors);
  await one.goto(quizUrl());
  for (const step of path) await answerQuestion(one, step);
  const id = await one.locator("section[data-result]").getAttribute("data-decision-id");
  const two = await newTab(context, errors);
  await two.goto(quizUrl());
  await two.locator("section[data-result]").waitFor();
  await one.goBack();
  await atQuestion(one, path.at(-1), "the last question in the tab that went back");
  await new Promise((r) => setTimeout(r, 500)); // room for a wrong move of the other tab
  assert.equal(await shownId(two), id, "the other tab still shows the result");
  await one.goForward();
  await one.locator("section[data-result]").waitFor();
  assert.equal(await shownId(one), id);
  await context.close();
  assert.deepEqual(errors, []);
});

test("a double click on 次へ answers one question, it does not skip the next", async () => {
  const { paths } = derivePaths();
  const path = [...paths.values()][0];
  const { context, page } = await newPage(browser, errors);
  await page.goto(quizUrl());
  for (const step of path.slice(0, 3)) await answerQuestion(page, step);
  // back to the second question: the third keeps its answer, so a stray submit would skip it
  for (const q of [path[2], path[1]]) {
    await page.getByRole("button", { name: "戻る" }).click();
    await until(async () => (await page.locator("form h2").getAttribute("id")) === `q-${q.id}`, 5000, "the previous question");
  }
  // the first click answers; the second click of the double click (detail 2) lands on the next
  // screen's button (where it sits at the same place)
  await page.locator("form button[type=submit]").click();
  await until(async () => (await page.locator("form h2").getAttribute("id")) === `q-${path[2].id}`, 5000, "the third question");
  await page.evaluate(() => document.querySelector("form button[type=submit]").dispatchEvent(new MouseEvent("click", { detail: 2, bubbles: true, cancelable: true })));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await page.locator("form h2").getAttribute("id"), `q-${path[2].id}`, "on the third question, not past it");
  await context.close();
  assert.deepEqual(errors, []);
});

test("keyboard only: Tab to the choices, arrows to pick, Enter to go on; focus follows", async () => {
  const { context, page } = await newPage(browser, errors);
  await page.goto(quizUrl());
  const h2 = page.locator("form h2");
  await h2.waitFor();
  const first = await h2.getAttribute("id");
  assert.equal(await page.evaluate(() => document.activeElement?.id), first, "the question heading has the focus");
  const kind = await page.locator("input[name=answer]").first().getAttribute("type");
  assert.equal(kind, "radio", "the first question of the example is single choice");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.name), "answer");
  await page.keyboard.press("ArrowDown");
  const picked = await page.evaluate(() => document.activeElement.value);
  await page.keyboard.press("Enter");
  await page.waitForFunction((prev) => document.querySelector("form h2")?.id !== prev, first);
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), "H2", "focus moved to the new question");
  const saved = await page.evaluate(() => JSON.parse(localStorage.getItem("kizuna-quiz:state:skin_type")));
  assert.equal(saved.state.answers[first.slice(2)], picked, "the answer picked with the keyboard was recorded");
  await context.close();
  assert.deepEqual(errors, []);
});

test("the backend gets exactly one decision per completed quiz, despite two failed posts and reloads", () =>
  withOwnBackend({ failFirst: 2 }, async (flaky, served) => {
    const { paths } = derivePaths();
    const [type, path] = [...paths.entries()][1];
    const { context, page } = await newPage(browser, errors);
    await page.goto(served.quizUrl);
    const shownId = await completeQuiz(page, path);
    // reload while the first posts fail: the outbox (localStorage) survives, the same completion
    // gives the same decisionId, and it is not enqueued twice
    await page.reload();
    await page.locator("section[data-result]").waitFor();
    assert.equal(await page.locator("section[data-result]").getAttribute("data-decision-id"), shownId, "same decisionId after a reload");
    await until(() => flaky.decisions.size >= 1, 30000, "the decision to arrive");
    await until(() => page.evaluate(outboxSize).then((n) => n === 0), 10000, "the outbox to empty");
    // sent and out of the outbox: a reload sends nothing more
    const postCount = () => flaky.requests.filter((r) => r.method === "POST" && r.path === "/decisions").length;
    const before = postCount();
    await page.reload();
    await page.locator("section[data-result]").waitFor();
    await new Promise((r) => setTimeout(r, 1500)); // room for a wrong second send
    assert.equal(postCount(), before, "no post after the decision was delivered");
    const posts = flaky.requests.filter((r) => r.method === "POST" && r.path === "/decisions");
    assert.equal(posts.filter((r) => r.status === 503).length, 2, "the first two posts failed");
    assert.equal(flaky.decisions.size, 1, "exactly one decision stored for the completed quiz");
    // At least once on the wire: a post in flight when the page reloads can reach the backend
    // with its answer lost, and is sent again; then it is the same batch (same Idempotency-Key),
    // which the backend acknowledges without storing twice.
    const keys = new Set(flaky.envelopes.filter((e) => e.body.decisions.some((d) => d.decisionId === shownId)).map((e) => e.headers["idempotency-key"]));
    assert.equal(keys.size, 1, "every delivery of it is a retry of the same batch");
    const decision = flaky.decisions.get(shownId);
    assert.ok(decision, "stored under the decisionId the page shows");
    // the decision's shape (schema/decision.schema.json)
    for (const k of decisionSchema.required) assert.ok(k in decision, `decision has ${k}`);
    assert.match(decision.decisionId, /^[0-9a-f]{32}$/);
    assert.ok(decision.segments.includes(`skin_${type}`), `segments include skin_${type}`);
    // the ID token, never the profile
    const accepted = flaky.envelopes[0];
    assert.match(accepted.headers.authorization, /^Bearer [\w-]+\.[\w-]+\.[\w-]*$/);
    const claims = JSON.parse(Buffer.from(accepted.headers.authorization.split(".")[1], "base64url"));
    assert.equal(claims.sub, decision.userId);
    assert.ok(!/statusMessage|pictureUrl/.test(JSON.stringify(accepted.body)), "no raw profile in the envelope");
    assert.equal(accepted.headers["idempotency-key"], accepted.body.batchId);
    // deterministic: the same completion in Node gives the same decisionId
    const saved = await page.evaluate(() => JSON.parse(localStorage.getItem("kizuna-quiz:state:skin_type")));
    const { engine } = loadEngine();
    // (from the user id alone, as the app computes what it sends; the display name is no input
    // of the decisionId, so the screen's context, with the name, gives the same one)
    const again = quizApi.result(engine, saved.state, { version: 1, now: saved.completedAt, user: { userId: claims.sub } });
    assert.equal(again.decision.decisionId, shownId, "Node computes the same decisionId");
    const named = quizApi.result(engine, saved.state, { version: 1, now: saved.completedAt, user: { userId: claims.sub, displayName: claims.name } });
    assert.equal(named.decision.decisionId, shownId, "the display name does not change it");
    engine.free();
    await page.screenshot({ path: artifact("quiz-result-sent.png"), fullPage: true });

    // a second completion while the backend is down, with a reload in between: sent once it is back
    flaky.setDown(true);
    await page.getByRole("button", { name: "もう一度診断する" }).click();
    const secondId = await completeQuiz(page, path);
    assert.notEqual(secondId, shownId, "a new completion is a new decision");
    // in the outbox before the reload: the result is drawn before it is enqueued, so a reload
    // at once could leave it to the next page, whose result shows before its own enqueue
    await until(() => page.evaluate(outboxSize).then((n) => n === 1), 5000, "the second decision in the outbox");
    await page.reload();
    await page.locator("section[data-result]").waitFor();
    assert.equal(await page.evaluate(outboxSize), 1, "waiting in the outbox across the reload");
    flaky.setDown(false);
    // (the outbox's backoff with full jitter may have scheduled the next try some seconds out)
    await until(() => flaky.decisions.has(secondId), 45000, "the second decision after the backend came back");
    await until(() => page.evaluate(outboxSize).then((n) => n === 0), 10000, "the outbox to empty");
    assert.equal(flaky.decisions.size, 2, "one stored decision per completed quiz");
    await context.close();
  }));

test("the backend never receives the display name decoded in the browser; the screen greets by it, and the chat summary does not name the user", async () => {
  const { paths } = derivePaths();
  const [, path] = [...paths.entries()][0];
  const b = await startBackend({ port: 0 });
  const served = await startApp({ port: 0, backendUrl: b.url, mock: "client" });
  try {
    const { context, page } = await newPage(browser, errors);
    await page.goto(served.quizUrl);
    const id = await completeQuiz(page, path);
    const name = "テスト ユーザー"; // the mock ID token's name claim
    assert.match(await page.locator("section[data-result]").textContent(), new RegExp(name), "the result on screen greets by name");
    await until(() => b.decisions.has(id), 15000, "the decision");
    const posted = JSON.stringify(b.envelopes.map((e) => e.body));
    assert.ok(!posted.includes(name) && !posted.includes("テスト"), "no display name in what the backend gets");
    assert.equal(b.decisions.get(id).userId, JSON.parse(Buffer.from(b.envelopes[0].headers.authorization.split(".")[1], "base64url")).sub);
    await page.getByRole("button", { name: "結果をトークに送る" }).click();
    await until(async () => (await page.locator("#live").textContent()) === "トークに結果を送りました", 5000, "the send");
    const sent = await page.evaluate(() => window.kizunaMockSent);
    assert.equal(sent.length, 1);
    assert.ok(!JSON.stringify(sent).includes("テスト"), "the chat summary does not name the user in the third person");
    assert.match(sent[0][0].text, /タイプ/);
    // a reload shows the same decision, still without the name
    await page.reload();
    await page.locator("section[data-result]").waitFor();
    assert.equal(await page.locator("section[data-result]").getAttribute("data-decision-id"), id);
    assert.ok(!(await page.evaluate(() => localStorage.getItem("kizuna-quiz:state:skin_type"))).includes("テスト"), "nor in the saved record");
    await context.close();
  } finally {
    await Promise.all([served.close(), b.close()]);
  }
  assert.deepEqual(errors, []);
});

test("?quiz= carried in liff.state (a LIFF URL's query, before the SDK restores it) is the quiz asked, not the default", async () => {
  const { context, page } = await newPage(browser, errors);
  const record = () => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("kizuna-quiz:state:")));
  // https://liff.line.me/{liffId}?quiz=nope opens the endpoint as ?liff.state=%3Fquiz%3Dnope
  await page.goto(`${quizUrl()}?liff.state=${encodeURIComponent("?quiz=nope")}`);
  await until(async () => /診断を開始できませんでした/.test(await page.locator("#app").textContent()), 5000, "the unknown quiz refused");
  assert.deepEqual(await record(), [], "no record of the default quiz touched");
  // a path in liff.state too, and the quiz the config has
  await page.goto(`${quizUrl()}?liff.state=${encodeURIComponent("/campaign?quiz=skin_type&utm_source=qr")}`);
  await page.locator("form h2").waitFor();
  assert.deepEqual(await record(), ["kizuna-quiz:state:skin_type"]);
  await context.close();
  assert.deepEqual(errors, []);
});

// WCAG contrast of each visible element matching `selector` (text colour against the first
// opaque background behind it): [{text, ratio}].
const contrasts = (page, selector) => page.evaluate((sel) => {
  const rgb = (c) => c.match(/[\d.]+/g).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] === 1) return c;
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(sel)].filter((el) => el.offsetParent && el.textContent.trim()).map((el) => {
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))].sort((x, y) => y - x);
    return { text: `${sel}: ${el.textContent.trim().slice(0, 20)}`, ratio: Math.round(((a + 0.05) / (b + 0.05)) * 100) / 100 };
  });
}, selector);

test("text meets WCAG AA contrast (4.5:1): the header, the buttons, the result's label, the notes", async () => {
  const { paths } = derivePaths();
  const [, path] = [...paths.entries()][0];
  const served = await startApp({ port: 0, backendUrl: backend.url, mock: "client" });
  try {
    const { context, page } = await newPage(browser, errors);
    await page.goto(served.quizUrl);
    await answerQuestion(page, path[0]);
    const found = [];
    for (const sel of [".bar h1", "form button.primary", "form button.secondary", ".progress span", ".lead"]) found.push(...(await contrasts(page, sel)));
    await completeQuiz(page, path.slice(1));
    for (const sel of [".result-type", "section button.primary", "section button.secondary", "section a.button", "#sync-status"]) found.push(...(await contrasts(page, sel)));
    for (const sel of ["form button.primary", "form button.secondary", ".result-type", "section button.primary"]) {
      assert.ok(found.some((f) => f.text.startsWith(sel)), `${sel} was checked`);
    }
    const low = found.filter((f) => f.ratio < 4.5);
    assert.deepEqual(low, [], "every pair at 4.5:1 or more");
    await context.close();
  } finally {
    await served.close();
  }
  assert.deepEqual(errors, []);
});

// ---- two tabs of the app in one browser: one localStorage, one record --------------------------
const shownId = (page) => page.evaluate(() => document.querySelector("section[data-result]")?.dataset.decisionId ?? document.querySelector("form h2")?.id ?? null);

// Two tabs of the app at `url` in one browser, as one (mock) user, each at its first question.
async function twoTabs(url) {
  const { context, page: one } = await newPage(browser, errors);
  await one.goto(url);
  await one.locator("form h2").waitFor();
  await until(() => one.evaluate(() => localStorage.getItem("kizuna-quiz:mock-user")), 5000, "the mock user"); // the same user in both tabs
  const two = await newTab(context, errors);
  await two.goto(url);
  await two.locator("form h2").waitFor();
  return { context, one, two };
}

test("two tabs that both answer to the end give one completion: the backend gets one decision and both tabs show it", () =>
  withOwnBackend({}, async (b, served) => {
    const { paths } = derivePaths();
    const [, path] = [...paths.entries()][2];
    const { context, one, two } = await twoTabs(served.quizUrl);
    // both answer what they show, in turns, up to the last question
    const last = `q-${path.at(-1).id}`;
    await until(async () => {
      for (const page of [one, two]) if ((await shownId(page)) !== last) await answerShown(page, path);
      return (await shownId(one)) === last && (await shownId(two)) === last;
    }, 15000, "both tabs at the last question");
    // and both send the last answer at the same moment
    await Promise.all([one, two].map((page) => answerShown(page, path)));
    const sections = [one, two].map((page) => page.locator("section[data-result]"));
    await Promise.all(sections.map((s) => s.waitFor()));
    const ids = await Promise.all(sections.map((s) => s.getAttribute("data-decision-id")));
    await until(() => ids.every((id) => b.decisions.has(id)), 15000, "the shown decisions at the backend");
    await until(() => one.evaluate(outboxSize).then((n) => n === 0), 10000, "the outbox to empty");
    assert.equal(ids[1], ids[0], "both tabs show the same decision");
    assert.equal(b.decisions.size, 1, "one decision for one completion");
    const sent = new Set(b.envelopes.flatMap((e) => e.body.decisions.map((d) => d.decisionId)));
    assert.deepEqual([...sent], [ids[0]], "no other decision was posted");
    const keys = new Set(b.envelopes.map((e) => e.headers["idempotency-key"]));
    assert.equal(keys.size, 1, "every delivery of it is a retry of the same batch");
    // the record says so, for the next visit (a tab's write may arrive after the other's note)
    const saved = () => one.evaluate(() => JSON.parse(localStorage.getItem("kizuna-quiz:state:skin_type")));
    await until(async () => (await saved()).enqueued === ids[0], 5000, "the record to note the enqueued decision");
    assert.equal((await saved()).decision.decisionId, ids[0]);
    assert.equal(await two.evaluate(() => document.activeElement?.id), "result-title", "focus on the result heading");
    // starting over in one tab starts over in the other
    await one.getByRole("button", { name: "もう一度診断する" }).click();
    await until(async () => (await shownId(two)) === `q-${path[0].id}`, 5000, "the other tab at the first question");
    await context.close();
  }));

test("two tabs: a result completed while the other tab holds the send lock is sent soon after it lets go (a second, not the old 15 s)", () =>
  withOwnBackend({}, async (b, served) => {
    const { paths } = derivePaths();
    const [, path] = [...paths.entries()][1];
    const { context, one, two } = await twoTabs(served.quizUrl);
    // tab one is sending (it holds the app's lock) while tab two completes the quiz
    await one.evaluate(() => new Promise((held) => navigator.locks.request("kizuna-quiz:flush", () => {
      held();
      return new Promise((release) => { window.__release = release; });
    })));
    const id = await completeQuiz(two, path);
    await until(() => two.evaluate(outboxSize).then((n) => n === 1), 5000, "the decision in the outbox");
    assert.ok(!b.decisions.has(id), "not sent while the other tab holds the lock");
    await one.evaluate(() => window.__release());
    await until(() => b.decisions.has(id), 8000, "the decision, once the lock is free");
    await until(async () => (await two.locator("#sync-status").textContent()) === "診断結果を送信しました。", 5000, "the sent status in the tab that completed it (sent by either tab)");
    await context.close();
  }));

test("two tabs: progress made in one is shown in the other, and a tab that missed it does not save over it", async () => {
  const { quiz, paths } = derivePaths();
  const path = [...paths.values()][0];
  const { context, page: one } = await newPage(browser, errors);
  await one.goto(quizUrl());
  await one.locator("form h2").waitFor();
  const two = await newTab(context, errors);
  await two.goto(quizUrl());
  // a tab that gets no storage events: as one frozen in the background, or restored from the
  // back-forward cache, still showing what it showed before
  const stale = await newTab(context, errors);
  await stale.addInitScript(() => addEventListener("storage", (e) => e.stopImmediatePropagation(), true));
  await stale.goto(quizUrl());
  await Promise.all([two, stale].map((page) => page.locator("form h2").waitFor()));
  for (const step of path.slice(0, 3)) await answerQuestion(one, step);
  await until(async () => (await shownId(two)) === `q-${path[3].id}`, 5000, "the second tab at the first tab's question");
  assert.equal(await two.evaluate(() => document.activeElement?.tagName), "H2", "focus on its question heading");
  assert.match(await two.locator("#live").textContent(), /別のタブ.*質問 4 \//, "the change announced");
  // the stale tab still shows the first question; its answer (another choice) is not saved
  // over three answers: it shows the first tab's progress instead, and says why
  assert.equal(await shownId(stale), `q-${path[0].id}`);
  const other = quiz.questions[0].choices.find((c) => c.id !== path[0].answer);
  await answerQuestion(stale, { ...path[0], answer: other.id });
  assert.equal(await shownId(stale), `q-${path[3].id}`, "the stale tab shows the progress made in the other tab");
  assert.match(await stale.locator("form").textContent(), /別のタブでの回答に合わせて表示を更新しました/);
  const saved = await one.evaluate(() => JSON.parse(localStorage.getItem("kizuna-quiz:state:skin_type")).state);
  assert.deepEqual(saved.path, path.slice(0, 3).map((s) => s.id), "the three answers are kept");
  assert.equal(saved.answers[path[0].id], path[0].answer, "the first answer is the first tab's");
  // the second tab goes on; the first follows; a reload resumes there
  await answerQuestion(two, path[3]);
  await until(async () => (await shownId(one)) === `q-${path[4].id}`, 5000, "the first tab at the next question");
  await one.reload();
  await one.locator("form h2").waitFor();
  assert.equal(await shownId(one), `q-${path[4].id}`);
  await context.close();
  assert.deepEqual(errors, []);
});

test("two tabs: 結果をトークに送る in one leaves another tab on the question it went back to (its entry too), and only turns the send button of a tab on the result", async () => {
  const { paths } = derivePaths();
  const path = paths.get("dry");
  const served = await startApp({ port: 0, backendUrl: backend.url, mock: "client" });
  try {
    const { context, page: one } = await newPage(browser, errors);
    await one.goto(served.quizUrl);
    for (const step of path) await answerQuestion(one, step);
    await one.locator("section[data-result]").waitFor();
    const [two, three] = [await newTab(context, errors), await newTab(context, errors)];
    for (const page of [two, three]) {
      await page.goto(served.quizUrl);
      await page.locator("section[data-result]").waitFor();
    }
    await one.goBack();
    await atQuestion(one, path.at(-1), "the last question in the tab that went back");
    const entry = await one.evaluate(() => history.state);
    const live = await one.locator("#live").textContent();
    await two.getByRole("button", { name: "結果をトークに送る" }).click();
    await until(async () => (await savedRecord(two)).sent === true, 5000, "the send in the record");
    // the third tab (on the result) shows it as sent, in place: no note, the focus where it was
    const done = three.getByRole("button", { name: "送信しました" });
    await done.waitFor({ timeout: 5000 });
    assert.ok(await done.isDisabled());
    assert.equal(await three.evaluate(() => document.activeElement?.id), "result-title", "the focus stays");
    assert.doesNotMatch(await three.locator("#app").textContent(), /別のタブ/);
    await new Promise((r) => setTimeout(r, 500)); // room for a wrong move of the first tab
    assert.equal(await shownId(one), `q-${path.at(-1).id}`, "the first tab stays on its question");
    assert.deepEqual(await one.evaluate(() => history.state), entry, "its history entry is not rewritten");
    assert.equal(await one.locator("#live").textContent(), live, "nothing announced there");
    assert.doesNotMatch(await one.locator("#app").textContent(), /別のタブ/);
    // its back goes on to the question before, its forward to the result, shown as sent
    await one.goBack();
    await atQuestion(one, path.at(-2), "the question before");
    await one.goForward();
    await one.goForward();
    await one.getByRole("button", { name: "送信しました" }).waitFor({ timeout: 5000 });
    await context.close();
  } finally {
    await served.close();
  }
  assert.deepEqual(errors, []);
});

test("a new document on one of the app's entries (back from another page, a reload) shows that entry's screen, and keeps the entry's label", async () => {
  const { paths } = derivePaths();
  const path = paths.get("dry");
  const { context, page } = await newPage(browser, errors);
  await page.goto(quizUrl());
  for (const step of path.slice(0, 3)) await answerQuestion(page, step);
  await atQuestion(page, path[3], "the fourth question");
  // another page in the tab, then two entries back: the app's entry of the third question
  await page.goto(`${backend.url}/`);
  await page.evaluate(() => history.go(-2)).catch(() => {});
  await atQuestion(page, path[2], "the third question (the entry's, not the saved screen)");
  assert.deepEqual(await page.evaluate(() => [history.state.index, history.state.depth]), [2, 2], "the entry keeps its screen");
  await page.goBack();
  await atQuestion(page, path[1], "the second question, none skipped");
  // two tabs on the result; one goes back to the last question (the saved screen), the other
  // reloads: it opens on its own entry, the result, which stays a result entry
  for (const step of path.slice(1)) await answerQuestion(page, step);
  await page.locator("section[data-result]").waitFor();
  const two = await newTab(context, errors);
  await two.goto(quizUrl());
  await two.locator("section[data-result]").waitFor();
  const entry = await two.evaluate(() => history.state);
  await page.goBack();
  await atQuestion(page, path.at(-1), "the last question in the tab that went back");
  await until(async () => (await savedRecord(page)).view === path.length - 1, 5000, "the saved screen");
  await two.reload();
  await two.locator("section[data-result]").waitFor();
  assert.deepEqual(await two.evaluate(() => history.state), entry, "the reloaded tab's entry still names the result");
  await context.close();
  assert.deepEqual(errors, []);
});

test("back from the result, an answer changed and then changed back: the same completion again (same run and decision), nothing sent twice", () =>
  withOwnBackend({}, async (b, served) => {
    const { paths } = derivePaths();
    const path = paths.get("dry");
    const at = path.length - 2; // the question before the last: another choice there, then the original
    const { context, page } = await newPage(browser, errors);
    const section = page.locator("section[data-result]");
    await page.goto(served.quizUrl);
    const id = await completeQuiz(page, path);
    await until(() => b.decisions.has(id), 15000, "the decision at the backend");
    const { run, completedAt } = await savedRecord(page);
    await page.goBack();
    await page.goBack();
    await atQuestion(page, path[at], "the question before the last");
    const other = derivePaths().quiz.questions.find((q) => q.id === path[at].id).choices.find((c) => c.id !== path[at].answer);
    await answerExactly(page, { ...path[at], answer: other.id });
    await atQuestion(page, path.at(-1), "the last question, in a new run");
    assert.notEqual((await savedRecord(page)).run, run, "a changed answer leaves the completed run");
    await page.goBack();
    await atQuestion(page, path[at], "the question before the last again");
    await answerExactly(page, path[at]);
    await answerExactly(page, path.at(-1));
    await section.waitFor();
    assert.equal(await section.getAttribute("data-decision-id"), id, "the same decision on screen");
    const saved = await savedRecord(page);
    assert.deepEqual([saved.run, saved.completedAt, saved.decision.decisionId, saved.enqueued], [run, completedAt, id, id], "the first completion restored");
    await new Promise((r) => setTimeout(r, 1500)); // room for a wrong second send
    assert.deepEqual([...b.deliveries.entries()], [[id, 1]], "one decision, delivered once");
    // other answers to the end: a new completion, sent once
    await page.goBack();
    await page.goBack();
    await atQuestion(page, path[at], "the question before the last, once more");
    await answerExactly(page, { ...path[at], answer: other.id });
    await answerExactly(page, path.at(-1));
    await until(async () => (await section.count()) > 0 && (await section.getAttribute("data-decision-id")) !== id, 5000, "a new result");
    const newId = await section.getAttribute("data-decision-id");
    await until(() => b.decisions.has(newId), 15000, "the new decision at the backend");
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual([...b.deliveries.entries()].sort(), [[id, 1], [newId, 1]].sort(), "each decision delivered once");
    await context.close();
  }));

test("もう一度診断する: 読み込んでいます… is announced and focused; when the browser is slow to go back, the new run starts on the current entry and back still reaches its first question", async () => {
  const { paths } = derivePaths();
  const [dry, oily] = [paths.get("dry"), paths.get("oily")];
  const { context, page } = await newPage(browser, errors);
  await page.goto(quizUrl());
  for (const step of dry) await answerQuestion(page, step);
  await page.locator("section[data-result]").waitFor();
  // the traversal of もう一度診断する lands 2.5 s late (a slow in-app browser), after the 2 s fallback
  await page.evaluate(() => {
    const go = history.go.bind(history);
    history.go = (n) => { history.go = go; setTimeout(() => go(n), 2500); };
  });
  await page.getByRole("button", { name: "もう一度診断する" }).click();
  assert.equal(await page.locator("#live").textContent(), "読み込んでいます…", "announced");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "読み込んでいます…", "the busy message has the focus");
  await atQuestion(page, oily[0], "the first question after the fallback");
  const record = await savedRecord(page);
  assert.deepEqual(await page.evaluate(() => [history.state.line, history.state.index, history.state.depth]), [record.line, 0, dry.length], "the current entry is the new run's, with its real depth");
  await answerQuestion(page, oily[0]);
  await new Promise((r) => setTimeout(r, 1500)); // the late traversal lands (and is undone)
  await atQuestion(page, oily[1], "the second question of the new run");
  assert.equal(await page.evaluate(() => history.state.line), record.line);
  await page.goBack();
  await atQuestion(page, oily[0], "back: the first question of the new run");
  assert.equal(await page.evaluate(() => history.state.line), record.line);
  // further back leaves the app (the old run's entries are neutralised on the way)
  await until(async () => {
    if (!page.url().startsWith(quizUrl())) return true;
    await page.goBack();
    return false;
  }, 10000, "leaving the app");
  await context.close();
  assert.deepEqual(errors, []);
});

test("an answer changed after the result, that run's result left while computing, then the answer changed back: the shown completion again, nothing else sent", () =>
  withOwnBackend({}, async (b, served) => {
    const path = derivePaths().paths.get("dry");
    const at = path.length - 2;
    const { context, page } = await newPage(browser, errors);
    const section = page.locator("section[data-result]");
    await page.goto(served.quizUrl);
    const id = await completeQuiz(page, path);
    await until(() => b.decisions.has(id), 15000, "the decision at the backend");
    const { run } = await savedRecord(page);
    await page.goBack();
    await page.goBack();
    await atQuestion(page, path[at], "the question before the last");
    const other = derivePaths().quiz.questions.find((q) => q.id === path[at].id).choices.find((c) => c.id !== path[at].answer);
    await answerExactly(page, { ...path[at], answer: other.id });
    await atQuestion(page, path.at(-1), "the last question, in a new run");
    // 結果を見る and back in one task: the new run's completion is frozen, never shown
    await holdCompletions(page);
    await page.evaluate(() => { document.querySelector("form").requestSubmit(); history.back(); });
    await until(async () => { const r = await savedRecord(page); return r.run !== run && r.decision; }, 10000, "the new run's completion frozen");
    await atQuestion(page, path.at(-1), "the last question again");
    await page.goBack();
    await atQuestion(page, path[at], "the question before the last again");
    await answerExactly(page, path[at]);
    await answerExactly(page, path.at(-1));
    await section.waitFor();
    assert.equal(await section.getAttribute("data-decision-id"), id, "the first completion on screen");
    assert.equal((await savedRecord(page)).run, run);
    await new Promise((r) => setTimeout(r, 1500)); // room for a wrong send
    assert.deepEqual([...b.deliveries.entries()], [[id, 1]], "one decision, delivered once");
    await context.close();
  }));
