// The LINE webhook worker (www/worker) in Cloudflare's real runtime (the npm package `workerd`,
// offline on 127.0.0.1), bundled as wrangler would, with the mock Messaging API and the mock
// backend (www/mock/) on loopback. Webhook bodies are LINE's webhook event objects, signed
// with the channel secret.
//
// WORKER_TEST_ENTRY=benches/worker/peer-worker.js runs the same tests against the load
// bench's json-logic-js + liquidjs variant (it decides the same for these users).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { buildWorker, startWorkerd, removeBundle } from "../../www/worker/dev.mjs";
import { startBackend } from "../../www/mock/backend.mjs";
import { startLineApi } from "../../www/mock/line-api.mjs";
import {
  sendWebhook, signature, webhookBody, followEvent, unfollowEvent, messageEvent, postbackEvent,
  richMenuSwitchEvent, userId as newUserId,
} from "../../www/worker/send-webhook.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const config = JSON.parse(readFileSync(join(root, "examples/skincare/config.json"), "utf8"));
const menuId = (id) => config.richMenus.menus.find((m) => m.id === id).richMenuId;
const SECRET = "test-channel-secret-0123456789abcdef";
const TOKEN = "test-channel-access-token";
const BACKEND_TOKEN = "test-backend-token";

const ENTRY = process.env.WORKER_TEST_ENTRY ? join(root, process.env.WORKER_TEST_ENTRY) : join(root, "www/worker/src/index.js");
let bundle;
let worker;
let line;
let backend;
let scratch; // Durable Object storage (on disk, SQLite-backed as deployed: kept across restarts) and other files
let probe; // the instrumented worker (see probeWorker), started by the tests that need it

const env = () => ({
  LINE_CHANNEL_SECRET: SECRET,
  LINE_CHANNEL_ACCESS_TOKEN: TOKEN,
  BACKEND_TOKEN,
  LINE_API_URL: line.url,
  BACKEND_URL: backend.url,
  // Short waits so the fault tests finish quickly.
  LINE_RETRY_BASE_MS: "20",
  SYNC_BASE_DELAY_MS: "50",
  SYNC_MAX_DELAY_MS: "200",
  SYNC_ALARM_MS: "150",
  INBOX_RETRY_MS: "1000",
});

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), "kizuna-worker-test-"));
  [line, backend] = await Promise.all([startLineApi({ token: TOKEN }), startBackend({ token: BACKEND_TOKEN })]);
  bundle = await buildWorker({ entry: ENTRY });
  worker = await startWorkerd({ bundle, env: env(), storage: join(scratch, "do") });
});

after(async () => {
  await Promise.all([worker?.close(), probe?.worker.close()]);
  await Promise.all([line?.close(), backend?.close()]);
  if (bundle) removeBundle(bundle);
  if (probe) removeBundle(probe.bundle);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

// ---- helpers -------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, predicate, timeoutMs = 8000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = predicate();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n--- workerd log ---\n${worker.log().slice(-3000)}`);
    await sleep(20);
  }
}

const callsFor = (user, filter = () => true) =>
  line.calls.filter((c) => (c.path.includes(user) || c.body?.to === user || c.body?.userIds?.includes(user)) && filter(c));
const replies = () => line.calls.filter((c) => c.path === "/v2/bot/message/reply");
const replyFor = (event) => replies().filter((c) => c.body?.replyToken === event.replyToken);
const isLink = (user) => (c) => c.method === "POST" && c.path.startsWith(`/v2/bot/user/${user}/richmenu/`);
const links = (user) => callsFor(user, isLink(user));
const pushes = (user) => callsFor(user, (c) => c.path === "/v2/bot/message/push");
// The worker's GET /users/{user} requests to the backend.
const loadsOf = (user) => backend.requests.filter((r) => r.method === "GET" && r.path === `/users/${user}`);
const decisionsFor = (user) => [...backend.decisions.values()].filter((d) => d.userId === user);

/** A user's given-up events stay given up: a while later still `loads` backend loads, and no
 *  LINE call and no decision synced for the user. */
async function assertStaysGivenUp(user, loads) {
  await sleep(300);
  assert.equal(loadsOf(user).length, loads, "not tried again once given up");
  assert.equal(callsFor(user).length, 0, "no LINE call");
  assert.equal(decisionsFor(user).length, 0, "nothing synced");
}

async function post(events, options) {
  const res = await sendWebhook(worker.url, SECRET, events, options);
  const text = await res.text();
  return { status: res.status, text };
}

/** A user the backend knows: no purchases yet, quiz not taken. */
function newFriend(extra = {}) {
  const id = newUserId();
  backend.users.set(id, { userId: id, displayName: "佐藤 美咲", language: "ja", tags: [], purchases: [], ...extra });
  return id;
}

/** A LINE user id ending in `suffix` (hex). */
const userIdEndingIn = (suffix) => `U${randomBytes(16).toString("hex").slice(0, 32 - suffix.length)}${suffix}`;

function purchase(daysAgo, amount = 3800) {
  const at = new Date(Date.now() - daysAgo * 864e5).toISOString();
  return { orderId: `O-${Math.random().toString(36).slice(2, 8)}`, sku: "LT-120", category: "lotion", amount, quantity: 1, at };
}

// ---- the HTTP contract -----------------------------------------------------------------------

test("LINE's verify request (no events) is answered 200 and does nothing", async () => {
  const before = line.calls.length + backend.requests.length;
  const res = await post([]);
  assert.equal(res.status, 200);
  await sleep(200);
  assert.equal(line.calls.length + backend.requests.length, before);
});

test("a missing or wrong signature is refused with 401 before any work", async () => {
  const user = newFriend();
  const body = webhookBody([followEvent(user)]);
  const before = line.calls.length + backend.requests.length;
  const unsigned = await fetch(worker.url, { method: "POST", headers: { "content-type": "application/json" }, body });
  assert.equal(unsigned.status, 401);
  const wrongSecret = await sendWebhook(worker.url, "not-the-secret", [], { body });
  assert.equal(wrongSecret.status, 401);
  // A valid signature of another body (a replayed header).
  const replayed = await fetch(worker.url, { method: "POST", headers: { "x-line-signature": signature(SECRET, webhookBody([])) }, body });
  assert.equal(replayed.status, 401);
  const garbage = await fetch(worker.url, { method: "POST", headers: { "x-line-signature": "%%%not base64%%%" }, body });
  assert.equal(garbage.status, 401);
  await sleep(300);
  assert.equal(line.calls.length + backend.requests.length, before, "no LINE or backend call for refused requests");
  assert.equal(decisionsFor(user).length, 0);
});

test("a signed webhook whose events are older than their ids are remembered (a replayed body) does nothing", async () => {
  // The signature covers the body only, with no time in it: a signed body captured once (a proxy's
  // log, a debugging endpoint) verifies forever. webhookEventIds are remembered for 7 days, so
  // events past that window would be taken as new: a follow's welcome pushed again, an unfollow
  // synced to the backend as if the user had blocked the account, a coupon postback decided again.
  const user = newFriend();
  const old = Date.now() - 8 * 864e5;
  const before = line.calls.length + backend.requests.length;
  const res = await post([followEvent(user, { timestamp: old }), postbackEvent(user, "action=coupon", { timestamp: old + 1000 }), unfollowEvent(user, { timestamp: old + 2000 })]);
  assert.equal(res.status, 200, "answered, so that LINE does not redeliver");
  await sleep(500);
  assert.equal(line.calls.length + backend.requests.length, before, "no LINE or backend call");
  assert.equal(decisionsFor(user).length, 0, "nothing synced");
  assert.match(worker.log(), /3 event\(s\) older than 6 days ignored/);
  // A recent event of the same user still goes through.
  await post([followEvent(user)]);
  await waitFor("the recent follow synced", () => decisionsFor(user).length === 1);
});

test("the signature header name is case-insensitive", async () => {
  const body = webhookBody([]);
  const status = await new Promise((resolve, reject) => {
    const req = request(worker.url, { method: "POST", headers: { "X-LINE-SIGNATURE": signature(SECRET, body), "Content-Type": "application/json" } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("error", reject);
    req.end(body);
  });
  assert.equal(status, 200);
});

test("a signed but malformed body is answered 400", async () => {
  const before = line.calls.length + backend.requests.length;
  for (const body of ['{"destination": "U0", "events": [', "not json", '{"destination": "U0"}', "[]"]) {
    const res = await sendWebhook(worker.url, SECRET, null, { body });
    assert.equal(res.status, 400, body);
  }
  await sleep(200);
  assert.equal(line.calls.length + backend.requests.length, before);
});

test("a body over 1 MiB is refused with 413, also when it comes chunked (no content-length)", async () => {
  const big = webhookBody([{ type: "message", padding: "x".repeat(1 << 20) }]);
  const withLength = await sendWebhook(worker.url, SECRET, null, { body: big });
  assert.equal(withLength.status, 413);
  const bytes = new TextEncoder().encode(big);
  const chunked = await fetch(worker.url, {
    method: "POST",
    headers: { "x-line-signature": signature(SECRET, big), "content-type": "application/json" },
    body: new ReadableStream({
      start(c) {
        for (let i = 0; i < bytes.length; i += 65536) c.enqueue(bytes.subarray(i, i + 65536));
        c.close();
      },
    }),
    duplex: "half",
  });
  assert.equal(chunked.status, 413);
});

// ---- decisions, menus and replies ----------------------------------------------------------

test("follow ⇒ the segment's rich menu is linked and the personalized greeting replied", async () => {
  const user = newFriend();
  const event = followEvent(user);
  const res = await post([event]);
  assert.equal(res.status, 200);
  const [reply] = await waitFor("the reply", () => replyFor(event).length && replyFor(event));
  assert.match(reply.body.messages[0].text, /^佐藤 美咲様、友だち追加ありがとうございます！/);
  assert.ok(reply.body.messages.length >= 1 && reply.body.messages.length <= 5);
  const linked = await waitFor("the link, after the reply", () => links(user).length && links(user));
  assert.equal(linked.length, 1);
  assert.equal(linked[0].path, `/v2/bot/user/${user}/richmenu/${menuId("welcome")}`);
  assert.equal(linked[0].headers.authorization, `Bearer ${TOKEN}`);
  // Synced once, with the menu change, and applied by the backend.
  const [decision] = await waitFor("the decision at the backend", () => decisionsFor(user).length && decisionsFor(user));
  assert.equal(decision.richMenu.action, "link");
  assert.equal(decision.richMenu.menu, "welcome");
  assert.deepEqual(decision.messages, reply.body.messages);
  assert.equal(backend.users.get(user).richMenuId, menuId("welcome"));
  const envelope = backend.envelopes.find((e) => e.body.decisions.some((d) => d.userId === user));
  assert.equal(envelope.headers.authorization, `Bearer ${BACKEND_TOKEN}`);
  assert.equal(envelope.headers["idempotency-key"], envelope.body.batchId);
  assert.deepEqual(envelope.body.source, { runtime: "workerd", app: "line-webhook" });
});

test("a purchase moves the user to another menu; an unchanged segment makes no link call", async () => {
  const user = newFriend();
  await post([followEvent(user)]);
  await waitFor("the first decision", () => backend.users.get(user).richMenuId === menuId("welcome"));

  // The backend records a purchase; the user's next message is decided on the new state.
  backend.users.get(user).purchases.push(purchase(1));
  const hello = messageEvent(user, "こんにちは");
  await post([hello]);
  await waitFor("the second decision", () => decisionsFor(user).length === 2);
  assert.deepEqual(links(user).map((c) => c.path.split("/").pop()), [menuId("welcome"), menuId("standard")]);
  const second = decisionsFor(user)[1];
  assert.equal(second.richMenu.action, "link");
  assert.equal(second.richMenu.menu, "standard");
  assert.equal(second.richMenu.current, menuId("welcome"));
  assert.ok(second.segments.includes("first_time"));
  assert.equal(replyFor(hello).length, 0, "no content answers a plain message in this config");

  // Same segment again: decided and synced, no Messaging API call.
  const callsBefore = callsFor(user).length;
  await post([messageEvent(user, "ありがとう")]);
  await waitFor("the third decision", () => decisionsFor(user).length === 3);
  assert.equal(decisionsFor(user)[2].richMenu.action, "none");
  assert.equal(callsFor(user).length, callsBefore, "no LINE call when nothing changes");
  assert.equal(backend.users.get(user).richMenuId, menuId("standard"));
});

test("an event older than one already decided (a webhook LINE redelivers late) does not undo the newer event's menu: synced as not applied", async () => {
  const user = newFriend();
  await post([followEvent(user)]);
  await waitFor("the welcome menu", () => backend.users.get(user).richMenuId === menuId("welcome"));
  backend.users.get(user).purchases.push(purchase(1));
  const newer = messageEvent(user, "こんにちは");
  await post([newer]);
  await waitFor("the standard menu", () => backend.users.get(user).richMenuId === menuId("standard"));
  // The older event arrives last and is decided on a state that says welcome again.
  backend.users.get(user).purchases.length = 0;
  const older = messageEvent(user, "はじめまして", { timestamp: newer.timestamp - 60e3 });
  await post([older]);
  await waitFor("the older event's decision", () => decisionsFor(user).length === 3);
  const d = decisionsFor(user)[2];
  assert.equal(d.richMenu.action, "none", "synced as not applied");
  assert.equal(d.richMenu.current, menuId("standard"));
  assert.deepEqual(links(user).map((c) => c.path.split("/").pop()), [menuId("welcome"), menuId("standard")], "no link back to welcome");
  assert.equal(line.userMenus.get(user), menuId("standard"));
  assert.match(worker.log(), new RegExp(`event ${older.webhookEventId}: message from 60 s before an event already decided: its menu link is not made`));
  assert.match(worker.log(), new RegExp(`event ${older.webhookEventId}: message → decision [0-9a-f]+, menu link \\(superseded by a newer event, synced as none\\)`));
});

test("backend failing after the object linked a menu: the next event is decided against that menu, not the copy's older one", async () => {
  const user = newFriend();
  // Two events in one pass: the second loads the user while the first's decision (the link)
  // is not synced yet, and keeps that copy.
  await post([followEvent(user), messageEvent(user, "はじめまして")]);
  // Synced: the outbox is empty, so only the copy of the user says what LINE shows.
  await waitFor("both decisions at the backend", () => decisionsFor(user).length === 2 && backend.users.get(user).richMenuId === menuId("welcome"));
  backend.answerNext({ path: `/users/${user}`, status: 503, body: "down" });
  await post([messageEvent(user, "こんにちは")]);
  await waitFor("the third decision", () => decisionsFor(user).length === 3);
  assert.ok(worker.log().includes("using the last known copy"), "decided from the copy");
  const third = decisionsFor(user)[2];
  assert.equal(third.richMenu.current, menuId("welcome"));
  assert.equal(third.richMenu.action, "none");
  assert.deepEqual(links(user).map((c) => c.path.split("/").pop()), [menuId("welcome")], "no second link of the menu LINE shows");
});

test("a richmenuswitch tab tap within the user's own menu is left alone", async () => {
  const user = newFriend({ purchases: [1, 2, 3, 4, 5].map((d) => purchase(d * 10, 9800)), richMenuId: menuId("loyal") });
  const alias = Object.keys(config.richMenus.menus.find((m) => m.id === "loyal").aliases).find((a) => a !== "loyal-home");
  await post([richMenuSwitchEvent(user, alias)]);
  const [decision] = await waitFor("the decision", () => decisionsFor(user).length && decisionsFor(user));
  assert.equal(decision.richMenu.action, "none");
  assert.equal(decision.richMenu.menu, "loyal");
  assert.equal(links(user).length, 0);
});

test("unfollow and standby: decided and synced, no call; the menu change they could not make is synced as not applied", async () => {
  // A buyer still on the welcome menu: the decision says "link the standard menu".
  const user = newFriend({ richMenuId: menuId("welcome"), purchases: [purchase(1)] });
  line.userMenus.set(user, menuId("welcome"));
  await post([messageEvent(user, "こんにちは", { mode: "standby" })]); // another channel answers
  await waitFor("the standby decision", () => decisionsFor(user).length === 1);
  await post([unfollowEvent(user)]);
  await waitFor("the unfollow decision", () => decisionsFor(user).length === 2);
  await sleep(100);
  assert.equal(callsFor(user).length, 0);
  for (const d of decisionsFor(user)) {
    assert.equal(d.richMenu.action, "none");
    assert.equal(d.richMenu.menu, "standard");
    assert.equal(d.richMenu.current, menuId("welcome"), "current: the menu the user still has");
  }
  assert.equal(backend.users.get(user).richMenuId, menuId("welcome"), "the backend knows the menu LINE shows");
  // Unblocked: now the link is made.
  await post([followEvent(user, { unblocked: true })]);
  await waitFor("the unblock decision", () => decisionsFor(user).length === 3);
  assert.equal(decisionsFor(user)[2].richMenu.action, "link");
  assert.equal(line.userMenus.get(user), menuId("standard"));
  assert.equal(backend.users.get(user).richMenuId, menuId("standard"));
});

test("unfollow forgets the object's copy of the user", async () => {
  const user = newFriend({ displayName: "高橋 さくら" });
  await post([followEvent(user)]);
  await waitFor("the follow decision", () => decisionsFor(user).length === 1);
  await post([unfollowEvent(user)]);
  await waitFor("the unfollow decision", () => decisionsFor(user).length === 2);
  backend.setDown(true); // the object would fall back to its copy of the user, if it kept one
  const again = followEvent(user, { unblocked: true });
  try {
    await post([again]);
    await waitFor("the event waiting for the backend", () =>
      worker.log().includes(`event ${again.webhookEventId}: backend: user not loaded (backend answered 503) and no copy kept`));
    assert.equal(replyFor(again).length, 0, "not answered from a kept copy");
  } finally {
    backend.setDown(false);
  }
  const [reply] = await waitFor("the reply once the backend is back", () => replyFor(again).length && replyFor(again));
  assert.match(reply.body.messages[0].text, /^高橋 さくら様/);
  await waitFor("the unblock decision", () => decisionsFor(user).length === 3);
});

test("a 404 from the backend that is not JSON (a wrong BACKEND_URL path) is a failure, not a new user: no welcome for a known customer", async () => {
  const loyal = [1, 2, 3, 4, 5, 6].map((d) => purchase(d * 15, 9800));
  const user = newFriend({ purchases: loyal, richMenuId: menuId("loyal") });
  line.userMenus.set(user, menuId("loyal"));
  backend.answerNext({ path: `/users/${user}`, status: 404, body: "<html><body>Not Found</body></html>", headers: { "content-type": "text/html" } });
  const event = followEvent(user);
  await post([event]);
  const [decision] = await waitFor("the decision", () => decisionsFor(user).length && decisionsFor(user));
  assert.match(worker.log(), new RegExp(`event ${event.webhookEventId}: backend: user not loaded \\(backend answered 404 with content-type text/html and a body that is not JSON \\(is BACKEND_URL right\\?\\)\\) and no copy kept: the event waits for the backend`));
  assert.ok(decision.segments.includes("loyal") && !decision.segments.includes("non_purchaser"), decision.segments.join());
  assert.equal(decision.richMenu.action, "none", "the loyal menu stays");
  assert.equal(links(user).length, 0, "the loyal menu is not replaced by the welcome menu");
  assert.equal(backend.users.get(user).richMenuId, menuId("loyal"));
});

test("a redirect from the backend's user lookup is not followed (it would carry the token elsewhere): the event waits, and the log says to set BACKEND_URL", async () => {
  const user = newFriend({ purchases: [purchase(15, 9800)] });
  backend.answerNext({ path: `/users/${user}`, status: 301, headers: { location: "http://127.0.0.1:9/users/elsewhere" } });
  const event = followEvent(user);
  await post([event]);
  await waitFor("the decision", () => decisionsFor(user).length);
  assert.match(worker.log(), new RegExp(`event ${event.webhookEventId}: backend: user not loaded \\(backend answered 301, a redirect: set BACKEND_URL to the final URL \\(redirects are not followed\\)\\)`));
});

test("the user as JSON under another Content-Type (a Cloudflare Worker's new Response(JSON.stringify(user)) is text/plain, Express's res.send text/html, or none) is the user: decided from it at once; a 404 whose body is JSON so is a new user", async () => {
  const loyal = [1, 2, 3, 4, 5, 6].map((d) => purchase(d * 15, 9800));
  const types = [{ "content-type": "text/plain;charset=UTF-8" }, { "content-type": "text/html; charset=utf-8" }, {}];
  const users = types.map((headers) => {
    const user = newFriend({ purchases: loyal, richMenuId: menuId("loyal") });
    line.userMenus.set(user, menuId("loyal"));
    backend.answerNext({ path: `/users/${user}`, status: 200, body: JSON.stringify(backend.users.get(user)), headers });
    return user;
  });
  const stranger = newUserId(); // not known to the backend
  backend.answerNext({ path: `/users/${stranger}`, status: 404, body: '{"error": "no such user"}', headers: { "content-type": "text/plain;charset=UTF-8" } });
  const events = [...users, stranger].map((user) => followEvent(user));
  assert.equal((await post(events)).status, 200);
  await waitFor("every decision", () => [...users, stranger].every((user) => decisionsFor(user).length === 1));
  for (const user of users) {
    const [decision] = decisionsFor(user);
    assert.ok(decision.segments.includes("loyal"), `decided from the backend's user: ${decision.segments.join()}`);
    assert.equal(decision.richMenu.action, "none", "the loyal menu stays");
  }
  assert.equal(decisionsFor(stranger)[0].richMenu.menu, "welcome", "a new friend");
  for (const user of [...users, stranger]) assert.equal(loadsOf(user).length, 1, "loaded once: no wait");
  for (const event of events) assert.ok(!worker.log().includes(`event ${event.webhookEventId}: backend: user not loaded`));
});

test("backend failing and no copy of the user: the event waits for the backend, a known customer is not taken for a new friend", async () => {
  const loyal = [1, 2, 3, 4, 5, 6].map((d) => purchase(d * 15, 9800));
  const user = newFriend({ purchases: loyal, richMenuId: menuId("loyal") }); // no event yet: no copy in its object
  line.userMenus.set(user, menuId("loyal"));
  backend.answerNext({ path: `/users/${user}`, status: 503, body: "down" });
  const event = messageEvent(user, "こんにちは");
  await post([event]);
  const [decision] = await waitFor("the decision", () => decisionsFor(user).length && decisionsFor(user));
  assert.match(worker.log(), new RegExp(`event ${event.webhookEventId}: backend: user not loaded \\(backend answered 503\\) and no copy kept: the event waits for the backend \\(try 1, .*\\), will retry in `));
  assert.ok(decision.segments.includes("loyal") && !decision.segments.includes("non_purchaser"), decision.segments.join());
  assert.equal(decision.richMenu.action, "none");
  assert.equal(links(user).length, 0, "the loyal menu is not replaced by the welcome menu");
  assert.equal(backend.users.get(user).richMenuId, menuId("loyal"));
});

test("a slow menu link does not spend the reply token: the answer goes first, as a reply, and the link is retried after it", async () => {
  // Each link attempt hangs past LINE_TIMEOUT_MS; its three attempts outlast the reply token.
  const w = await startWith({ LINE_TIMEOUT_MS: "300", LINE_MAX_ATTEMPTS: "3", LINE_RETRY_BASE_MS: "0", REPLY_TOKEN_TTL_MS: "800", INBOX_RETRY_MS: "50" });
  try {
    const user = newFriend();
    line.processThen({ path: `/v2/bot/user/${user}/richmenu/${menuId("welcome")}`, count: 3, then: "hang" });
    const event = followEvent(user);
    assert.equal((await sendWebhook(w.url, SECRET, [event])).status, 200);
    const [decision] = await waitFor("the decision at the backend", () => decisionsFor(user).length && decisionsFor(user), 10_000);
    assert.equal(replyFor(event).length, 1, "replied with the fresh token");
    assert.equal(pushes(user).length, 0, "not pushed");
    assert.equal(decision.delivery, "reply");
    assert.equal(links(user).length, 4, "three attempts timed out, then a later pass linked");
    assert.equal(decision.richMenu.action, "link");
    assert.equal(backend.users.get(user).richMenuId, menuId("welcome"));
    const replied = line.calls.indexOf(replyFor(event)[0]);
    assert.ok(replied < line.calls.indexOf(links(user)[0]), "the reply before the first link attempt");
  } finally {
    await w.close();
  }
});

test("a decision the backend refuses for its content is dead-lettered, named in the log with its user, listed and requeued through the admin route", async () => {
  const ADMIN = "admin-token-for-tests";
  const w = await startWith({ ADMIN_TOKEN: ADMIN });
  try {
    const user = newFriend();
    backend.answerNext({ method: "POST", path: "/decisions", status: 422, body: "schema mismatch", match: (body) => body.includes(user) });
    const event = followEvent(user);
    await sendWebhook(w.url, SECRET, [event]);
    await waitFor("the dead letter's error line", () => w.log().includes(`moved to dead letters (user ${user}, decisions `));
    assert.equal(decisionsFor(user).length, 0);
    const admin = (path, init = {}) => fetch(`${w.url}/admin/users/${user}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN}`, ...init.headers } });
    // Refused without the token, or with another one.
    assert.equal((await fetch(`${w.url}/admin/users/${user}/dead-letters`)).status, 401);
    assert.equal((await admin("/dead-letters", { headers: { authorization: `Bearer ${ADMIN}x` } })).status, 401);
    assert.equal((await fetch(`${w.url}/admin/users/nobody/dead-letters`, { headers: { authorization: `Bearer ${ADMIN}` } })).status, 400);
    assert.equal((await admin("/dead-letters", { method: "POST" })).status, 405);
    const listed = await (await admin("/dead-letters")).json();
    assert.equal(listed.deadLetters.length, 1);
    const [letter] = listed.deadLetters;
    assert.equal(letter.status, 422);
    assert.equal(letter.userId, user);
    assert.equal(letter.decision, undefined, "the list leaves the messages out");
    // Once the backend takes it: back to the outbox, and delivered once.
    const requeued = await (await admin("/dead-letters/requeue", { method: "POST" })).json();
    assert.equal(requeued.requeued, 1);
    const [decision] = await waitFor("the requeued decision at the backend", () => decisionsFor(user).length && decisionsFor(user));
    assert.equal(decision.decisionId, letter.decisionId);
    assert.deepEqual((await (await admin("/dead-letters")).json()).deadLetters, []);
  } finally {
    await w.close();
  }
});

test("the admin route is off without ADMIN_TOKEN", async () => {
  const res = await fetch(`${worker.url}/admin/users/U${"0".repeat(32)}/dead-letters`, { headers: { authorization: "Bearer " } });
  assert.equal(res.status, 404);
});

test("backend failing for longer than MAX_EVENT_ATTEMPTS tries and no copy: the event is kept, then decided once when the backend answers (menu linked, greeting pushed, synced once), and the user's later event after it", async () => {
  // Every try fails until the 6th (more than MAX_EVENT_ATTEMPTS); the waits between them add up
  // to more than REPLY_TOKEN_TTL_MS, so the greeting can only go out by push.
  const w = await startWith({ MAX_EVENT_ATTEMPTS: "2", INBOX_RETRY_MS: "20", REPLY_TOKEN_TTL_MS: "300" });
  try {
    const user = newFriend(); // known to the backend, no menu yet: the welcome menu and greeting
    backend.answerNext({ path: `/users/${user}`, status: 503, body: "down", count: 5 });
    const follow = followEvent(user);
    const later = messageEvent(user, "こんにちは");
    assert.equal((await sendWebhook(w.url, SECRET, [follow])).status, 200);
    await waitFor("the first try", () => w.log().includes(`event ${follow.webhookEventId}: backend: user not loaded (backend answered 503) and no copy kept: the event waits for the backend (try 1,`));
    assert.equal((await sendWebhook(w.url, SECRET, [later])).status, 200); // waits behind the follow
    await waitFor("both decisions", () => decisionsFor(user).length === 2, 15_000);
    await sleep(300);

    const [first, second] = decisionsFor(user); // in the order the backend received them
    assert.equal(first.now, new Date(follow.timestamp).toISOString(), "decided as of the event's time");
    assert.equal(second.now, new Date(later.timestamp).toISOString(), "the later event synced after the follow");
    const decided = (e) => w.log().indexOf(`event ${e.webhookEventId}: ${e.type} → decision`);
    assert.ok(decided(follow) >= 0 && decided(later) > decided(follow), "the later event decided after the follow");
    assert.equal(decisionsFor(user).length, 2);
    assert.equal(backend.deliveries.get(first.decisionId), 1, "the follow's decision synced exactly once");
    assert.equal(loadsOf(user).length, 7, "five failed tries of the follow, its sixth, then the later event's one");
    for (let i = 1; i <= 5; i++) {
      assert.ok(w.log().includes(`event ${follow.webhookEventId}: backend: user not loaded (backend answered 503) and no copy kept: the event waits for the backend (try ${i},`), `try ${i}`);
    }
    assert.doesNotMatch(w.log(), /gave up|attempt \d+ of 2/);

    assert.equal(first.richMenu.action, "link");
    assert.equal(first.richMenu.menu, "welcome");
    assert.equal(links(user).length, 1, "the menu linked once");
    assert.equal(line.userMenus.get(user), menuId("welcome"));
    assert.equal(backend.users.get(user).richMenuId, menuId("welcome"));
    assert.equal(replyFor(follow).length, 0, "the reply token is stale by then");
    const greetings = pushes(user).filter((c) => /^佐藤 美咲様、友だち追加ありがとうございます！/.test(c.body.messages[0].text));
    assert.equal(greetings.length, 1, "the greeting pushed once");
    assert.deepEqual(greetings[0].body.messages, first.messages);
    assert.equal(first.delivery, "push");
    const key = greetings[0].headers["x-line-retry-key"].replace(/-/g, "");
    assert.equal(key.slice(0, 12) + key.slice(13, 16) + key.slice(17), first.decisionId.slice(0, 12) + first.decisionId.slice(13, 16) + first.decisionId.slice(17));
  } finally {
    await w.close();
  }
});

test("backend failing and no copy until BACKEND_WAIT_MS has passed: the event is given up then, not after MAX_EVENT_ATTEMPTS; no menu change, nothing sent or synced", async () => {
  const w = await startWith({ MAX_EVENT_ATTEMPTS: "2", INBOX_RETRY_MS: "20", BACKEND_WAIT_MS: "400" });
  try {
    const user = newFriend({ displayName: "山本 由美", purchases: [purchase(3)], richMenuId: menuId("standard") });
    backend.answerNext({ path: `/users/${user}`, status: 500, count: 1_000_000 }); // never comes back for this user
    const event = followEvent(user, { unblocked: true });
    assert.equal((await sendWebhook(w.url, SECRET, [event])).status, 200);
    const prefix = `event ${event.webhookEventId}: backend: user not loaded (backend answered 500) and no copy kept: `;
    const line_ = await waitFor("the event given up", () => w.log().split("\n").find((l) => l.startsWith(`${prefix}gave up`)));
    const [, waited, unit, tries] = /^gave up after waiting (\d+) (ms|s) for the backend \(BACKEND_WAIT_MS 400 ms, (\d+) tries\); not decided: no menu change, nothing sent or synced$/
      .exec(line_.slice(prefix.length)) ?? assert.fail(line_);
    assert.ok((unit === "s" ? waited * 1000 : Number(waited)) >= 400, `given up only past the horizon: ${line_}`);
    assert.ok(Number(tries) > 2, "not given up after MAX_EVENT_ATTEMPTS");
    assert.equal(loadsOf(user).length, Number(tries));
    for (let i = 1; i < Number(tries); i++) assert.ok(w.log().includes(`${prefix}the event waits for the backend (try ${i},`), `try ${i}`);
    await assertStaysGivenUp(user, Number(tries));
    assert.ok(!w.log().includes("山本 由美"), "no profile data in the logs");
  } finally {
    await w.close();
  }
});

test("backend failing for one user with no copy: events behind a waiting one (more than a pass reads at a time) are given up by their own receipt + BACKEND_WAIT_MS, in order, the ones past it without another backend call", async () => {
  const W = 400;
  const w = await startWith({ MAX_EVENT_ATTEMPTS: "2", INBOX_RETRY_MS: "20", BACKEND_WAIT_MS: String(W) });
  try {
    const user = newFriend({ displayName: "山本 由美", purchases: [purchase(3)], richMenuId: menuId("standard") });
    backend.answerNext({ path: `/users/${user}`, status: 500, count: 1_000_000 }); // never comes back for this user
    // More than a pass reads of the inbox at a time (16).
    const events = [followEvent(user, { unblocked: true }), postbackEvent(user, "action=quiz"), ...Array.from({ length: 18 }, (_, i) => messageEvent(user, `${i}`))];
    const sentAt = Date.now();
    assert.equal((await sendWebhook(w.url, SECRET, events)).status, 200); // one webhook: one receipt time
    const prefix = (e) => `event ${e.webhookEventId}: backend: user not loaded (backend answered 500) and no copy kept: gave up after waiting `;
    const gaveUp = (e) => w.log().split("\n").findIndex((l) => l.startsWith(prefix(e)));
    await waitFor("the events given up", () => events.every((e) => gaveUp(e) >= 0), 4 * W + 8000);
    const elapsed = Date.now() - sentAt;
    for (let i = 1; i < events.length; i++) assert.ok(gaveUp(events[i - 1]) < gaveUp(events[i]), `given up in the user's order (${i})`);
    const lines = w.log().split("\n");
    const [, tries] = /, (\d+) tries\); not decided/.exec(lines[gaveUp(events[0])]) ?? assert.fail(lines[gaveUp(events[0])]);
    assert.ok(Number(tries) > 2, "the first not given up after MAX_EVENT_ATTEMPTS");
    for (const e of events.slice(1)) {
      assert.match(lines[gaveUp(e)], new RegExp(`\\(BACKEND_WAIT_MS ${W} ms, 0 tries; not loaded again after event ${events[0].webhookEventId}\\); not decided: no menu change, nothing sent or synced$`));
      assert.ok(!w.log().includes(`event ${e.webhookEventId}: backend: user not loaded (backend answered 500) and no copy kept: the event waits`), "never loaded on its own");
    }
    assert.equal(loadsOf(user).length, Number(tries), "only the first event's loads: the others, past their horizon too, are given up without one");
    assert.ok(elapsed < 2 * W + 1500, `all given up by about receipt + BACKEND_WAIT_MS (${elapsed} ms), not one BACKEND_WAIT_MS after another`);
    await assertStaysGivenUp(user, Number(tries));
    assert.ok(!w.log().includes("山本 由美"), "no profile data in the logs");
  } finally {
    await w.close();
  }
});

test("backend failing for one user with no copy, events in separate webhooks: each is given up by its own receipt + BACKEND_WAIT_MS, in order", async () => {
  const W = 800;
  const w = await startWith({ MAX_EVENT_ATTEMPTS: "2", INBOX_RETRY_MS: "20", BACKEND_WAIT_MS: String(W) });
  try {
    const user = newFriend();
    backend.answerNext({ path: `/users/${user}`, status: 503, count: 1_000_000 });
    const events = [messageEvent(user, "1"), messageEvent(user, "2"), messageEvent(user, "3")];
    let lastSentAt;
    for (const e of events) {
      lastSentAt = Date.now();
      assert.equal((await sendWebhook(w.url, SECRET, [e])).status, 200);
      await sleep(60);
    }
    const gaveUp = (e) => w.log().split("\n").findIndex((l) =>
      l.startsWith(`event ${e.webhookEventId}: backend: user not loaded (backend answered 503) and no copy kept: gave up after waiting `));
    await waitFor("the three events given up", () => events.every((e) => gaveUp(e) >= 0), 4 * W + 8000);
    const elapsed = Date.now() - lastSentAt;
    assert.ok(gaveUp(events[0]) < gaveUp(events[1]) && gaveUp(events[1]) < gaveUp(events[2]), "given up in the user's order");
    assert.ok(elapsed < 2 * W, `the last given up by about its receipt + BACKEND_WAIT_MS (${elapsed} ms after it was sent), not one BACKEND_WAIT_MS after another`);
    await assertStaysGivenUp(user, loadsOf(user).length);
  } finally {
    await w.close();
  }
});

test("a backend answer about one user that waiting will not change (2xx JSON that is not a user object, 4xx other than 401/403/404/408/429) and no copy: the event spends MAX_EVENT_ATTEMPTS and is given up, it does not wait BACKEND_WAIT_MS", async () => {
  const w = await startWith({ MAX_EVENT_ATTEMPTS: "2", INBOX_RETRY_MS: "20" }); // BACKEND_WAIT_MS: the default 24 h
  try {
    const json = { "content-type": "application/json" };
    const answers = [
      [200, "null", json, "backend answered 200 with JSON that is not a user object"],
      [200, "[]", json, "backend answered 200 with JSON that is not a user object"],
      [400, '{"error": "bad user id 山本 由美"}', json, "backend answered 400"],
      [410, "", {}, "backend answered 410"],
      [422, "", {}, "backend answered 422"],
    ];
    for (const [status, body, headers, why] of answers) {
      const user = newFriend({ displayName: "山本 由美" });
      backend.answerNext({ path: `/users/${user}`, status, body, headers, count: 1_000_000 });
      const event = followEvent(user);
      assert.equal((await sendWebhook(w.url, SECRET, [event])).status, 200);
      const prefix = `event ${event.webhookEventId}: backend: user not loaded (${why}) and no copy kept`;
      await waitFor(`${status} ${body}: the event given up`, () => w.log().includes(`${prefix}; gave up after 2 attempts (not decided: no menu change, nothing sent or synced)`));
      assert.ok(w.log().includes(`${prefix}; attempt 1 of 2, will retry in `), `${status} ${body}: attempt 1`);
      assert.ok(!w.log().includes(`event ${event.webhookEventId}: backend: user not loaded (${why}) and no copy kept: the event waits`), `${status} ${body}: not kept for BACKEND_WAIT_MS`);
      await sleep(100);
      assert.equal(loadsOf(user).length, 2, `${status} ${body}: one load per attempt`);
      assert.equal(callsFor(user).length, 0, "no LINE call");
      assert.equal(decisionsFor(user).length, 0, "nothing synced");
    }
    assert.ok(!w.log().includes("山本 由美"), "no profile data (or response body) in the logs");
  } finally {
    await w.close();
  }
});

test("backend 401, 403, 408, 429, 5xx on GET /users and no copy (a token being rotated, a rate limit, an outage): the event waits past MAX_EVENT_ATTEMPTS, then is decided once", async () => {
  const w = await startWith({ MAX_EVENT_ATTEMPTS: "2", INBOX_RETRY_MS: "20" });
  try {
    const statuses = [401, 403, 408, 429, 502];
    const users = statuses.map((status) => {
      const user = newFriend();
      backend.answerNext({ path: `/users/${user}`, status, body: "", count: 3 });
      return user;
    });
    const events = users.map((user) => messageEvent(user));
    assert.equal((await sendWebhook(w.url, SECRET, events)).status, 200);
    await waitFor("every decision", () => users.every((user) => decisionsFor(user).length === 1), 15_000);
    statuses.forEach((status, i) => {
      for (let t = 1; t <= 3; t++) {
        assert.ok(w.log().includes(`event ${events[i].webhookEventId}: backend: user not loaded (backend answered ${status}) and no copy kept: the event waits for the backend (try ${t},`), `${status}: try ${t}`);
      }
      assert.equal(backend.requests.filter((r) => r.method === "GET" && r.path === `/users/${users[i]}`).length, 4, `${status}: three failed loads, then one`);
    });
    assert.doesNotMatch(w.log(), /gave up|attempt \d+ of 2/);
  } finally {
    await w.close();
  }
});

test("unblock (follow with isUnblocked) greets again; a stale reply token falls back to push with a retry key", async () => {
  const user = newFriend();
  const event = followEvent(user, { unblocked: true, timestamp: Date.now() - 5 * 60e3 });
  await post([event]);
  const [push] = await waitFor("the push", () => callsFor(user, (c) => c.path === "/v2/bot/message/push").length && callsFor(user, (c) => c.path === "/v2/bot/message/push"));
  assert.equal(replyFor(event).length, 0, "a 5-minute-old reply token is not used");
  assert.equal(push.body.to, user);
  assert.match(push.body.messages[0].text, /佐藤 美咲様/);
  const key = push.headers["x-line-retry-key"];
  assert.match(key, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const [decision] = await waitFor("the decision", () => decisionsFor(user).length && decisionsFor(user));
  // Derived from the decisionId: a retried push of this decision carries the same key.
  const hex = key.replace(/-/g, "");
  assert.equal(hex.slice(0, 12) + hex.slice(13, 16) + hex.slice(17), decision.decisionId.slice(0, 12) + decision.decisionId.slice(13, 16) + decision.decisionId.slice(17));
});

test("a new friend's welcome pushed (stale reply token) carries the A/B arm's aggregation unit; a reply carries none", async () => {
  const pushed = newFriend();
  await post([followEvent(pushed, { timestamp: Date.now() - 5 * 60e3 })]);
  const [push] = await waitFor("the push", () => pushes(pushed).length && pushes(pushed));
  const [decision] = await waitFor("the decision", () => decisionsFor(pushed).length && decisionsFor(pushed));
  assert.equal(decision.content.experiment, "welcome_offer_2026_11");
  const arm = config.contents.find((c) => c.id === "welcome").variants.find((v) => v.id === decision.content.variant);
  assert.equal(decision.content.aggregationUnit, arm.aggregationUnit);
  assert.deepEqual(push.body.customAggregationUnits, [arm.aggregationUnit], "LINE counts the push's opens and taps under the arm's unit");
  // A fresh token: replied, and a reply has no aggregation unit in LINE's API.
  const replied = newFriend();
  const event = followEvent(replied);
  await post([event]);
  const [reply] = await waitFor("the reply", () => replyFor(event).length && replyFor(event));
  assert.ok((await waitFor("the decision", () => decisionsFor(replied)[0])).content.aggregationUnit);
  assert.equal(reply.body.customAggregationUnits, undefined);
});

test("a push that fails with 5xx is retried with the same X-Line-Retry-Key", async () => {
  const user = newFriend({ richMenuId: menuId("welcome") }); // menu unchanged: the push is the first LINE call
  line.failNext(500, 1);
  await post([followEvent(user, { timestamp: Date.now() - 10 * 60e3 })]);
  const pushes = await waitFor("two push attempts", () => {
    const p = callsFor(user, (c) => c.path === "/v2/bot/message/push");
    return p.length === 2 && p;
  });
  assert.equal(pushes[0].headers["x-line-retry-key"], pushes[1].headers["x-line-retry-key"]);
  assert.equal(links(user).length, 0);
  await waitFor("the decision", () => decisionsFor(user).length === 1);
});

test("LINE unavailable (5xx) through more passes than MAX_EVENT_ATTEMPTS: the event is kept, retried less and less often, then pushed once with one retry key", async () => {
  const w = await startWith({ MAX_EVENT_ATTEMPTS: "2", INBOX_RETRY_MS: "20", LINE_MAX_ATTEMPTS: "1" });
  try {
    const user = newFriend({ richMenuId: menuId("welcome") }); // menu unchanged: the push is the only call
    line.failNext({ status: 503, count: 6, match: (c) => c.body?.to === user });
    const event = followEvent(user, { timestamp: Date.now() - 10 * 60e3 }); // a stale token: pushed
    await sendWebhook(w.url, SECRET, [event]);
    const [decision] = await waitFor("the decision", () => decisionsFor(user).length && decisionsFor(user), 10_000);
    const sent = pushes(user);
    assert.equal(sent.length, 7, "six refused, then pushed");
    assert.equal(new Set(sent.map((c) => c.headers["x-line-retry-key"])).size, 1, "one retry key");
    assert.equal(decision.delivery, "push");
    const waits = w.log().split("\n").filter((l) => l.startsWith(`event ${event.webhookEventId}: LINE API 503: LINE unavailable, the event is kept (try `))
      .map((l) => Number(/will retry in (\d+) ms$/.exec(l)?.[1]));
    assert.deepEqual(waits, [20, 40, 80, 160, 320, 640], "doubling from INBOX_RETRY_MS");
    assert.doesNotMatch(w.log(), /gave up|attempt \d+ of 2/, "no attempt spent");
  } finally {
    await w.close();
  }
});

test("LINE unavailable past MAX_PUSH_DELAY_MS after the event: the event then spends MAX_EVENT_ATTEMPTS and is given up, its menu change synced as not applied", async () => {
  const w = await startWith({ MAX_EVENT_ATTEMPTS: "2", INBOX_RETRY_MS: "20", LINE_MAX_ATTEMPTS: "1", MAX_PUSH_DELAY_MS: "400" });
  try {
    const user = newFriend(); // no menu yet: a link to make
    line.failNext({ status: 503, count: 1000, match: (c) => c.path.includes(user) });
    const event = followEvent(user);
    await sendWebhook(w.url, SECRET, [event]);
    const [decision] = await waitFor("the decision", () => decisionsFor(user).length && decisionsFor(user), 10_000);
    const lines = w.log().split("\n").filter((l) => l.startsWith(`event ${event.webhookEventId}: `));
    const kept = lines.filter((l) => l.includes(": LINE API 503: LINE unavailable, the event is kept (try "));
    assert.ok(kept.length >= 3, `kept while younger than MAX_PUSH_DELAY_MS (${kept.length} tries)`);
    assert.ok(lines.some((l) => l.endsWith(": LINE API 503; attempt 1 of 2, will retry in 0 s")));
    assert.ok(lines.some((l) => l.endsWith(": LINE API 503; gave up after 2 attempts")));
    assert.ok(links(user).at(-1).at - event.timestamp >= 400, "the last try after MAX_PUSH_DELAY_MS");
    assert.equal(decision.richMenu.action, "none");
    // The greeting went first, while LINE took it (only the link calls fail here).
    assert.equal(decision.delivery, "reply");
    assert.equal(replyFor(event).length, 1);
    assert.equal(pushes(user).length, 0);
  } finally {
    await w.close();
  }
});

test("a push answered 5xx (maybe delivered) is not dropped as late at MAX_PUSH_DELAY_MS: it goes on with its retry key, then is synced unknown", async () => {
  const withAnswers = structuredClone(config);
  withAnswers.contents.push({ id: "auto_answer", on: ["message"], variants: [{ id: "all", messages: [{ type: "text", text: "ありがとうございます。" }] }] });
  const file = join(scratch, "late-push-config.json");
  writeFileSync(file, JSON.stringify(withAnswers));
  const b = await buildWorker({ entry: ENTRY, config: file });
  const w = await startWorkerd({ bundle: b, env: { ...env(), MAX_PUSH_DELAY_MS: "500", REPLY_TOKEN_TTL_MS: "0", INBOX_RETRY_MS: "20", LINE_MAX_ATTEMPTS: "1", MAX_EVENT_ATTEMPTS: "2" } });
  try {
    const user = newFriend();
    line.failNext({ status: 503, count: 1000, match: (c) => c.body?.to === user });
    const message = messageEvent(user, "こんにちは");
    await sendWebhook(w.url, SECRET, [message]);
    const [d] = await waitFor("the decision", () => decisionsFor(user).length === 1 && decisionsFor(user), 15_000);
    assert.equal(d.delivery, "unknown", "a push answered 503 may have been delivered");
    const sent = pushes(user);
    assert.ok(sent.at(-1).at - message.timestamp >= 500, "pushed again past MAX_PUSH_DELAY_MS");
    assert.equal(new Set(sent.map((c) => c.headers["x-line-retry-key"])).size, 1, "one retry key");
    assert.doesNotMatch(w.log(), /its messages are not pushed/);
  } finally {
    await w.close();
    removeBundle(b);
  }
});

test("the synced decision says what became of its messages: delivery reply, push, failed or not_sent", async () => {
  const replied = newFriend();
  const pushed = newFriend({ richMenuId: menuId("welcome") });
  const refused = newFriend({ richMenuId: menuId("welcome") });
  const standby = newFriend();
  const quiet = newFriend();
  await post([followEvent(replied)]);
  await post([followEvent(pushed, { timestamp: Date.now() - 10 * 60e3 })]); // a stale token
  await waitFor("the first two decisions", () => decisionsFor(replied).length + decisionsFor(pushed).length === 2);
  line.failNext(400, 1, undefined, "The request body has 1 error(s)"); // the push: refused
  await post([followEvent(refused, { timestamp: Date.now() - 10 * 60e3 })]);
  await post([followEvent(standby, { mode: "standby" })]);
  await post([messageEvent(quiet, "こんにちは")]); // no content for a plain message in this config
  const all = [replied, pushed, refused, standby, quiet];
  await waitFor("all decisions", () => all.every((u) => decisionsFor(u).length === 1));
  assert.deepEqual(all.map((u) => decisionsFor(u)[0].delivery), ["reply", "push", "failed", "not_sent", "not_sent"]);
  assert.ok(decisionsFor(standby)[0].messages.length > 0, "standby: decided with content, not sent");
});

// ---- exactly once ---------------------------------------------------------------------------

test("an event given up after a push whose outcome is unknown (5xx) is synced with delivery unknown; after pushes refused with 429, failed", async () => {
  const w = await startWith({ MAX_EVENT_ATTEMPTS: "2", INBOX_RETRY_MS: "20", LINE_MAX_ATTEMPTS: "1", MAX_PUSH_DELAY_MS: "0" });
  try {
    const maybe = newFriend({ richMenuId: menuId("welcome") }); // menu unchanged: the push is the only call
    const refused = newFriend({ richMenuId: menuId("welcome") });
    line.failNext({ status: 503, count: 2, match: (c) => c.body?.to === maybe });
    line.failNext({ status: 429, count: 2, match: (c) => c.body?.to === refused });
    const stale = { timestamp: Date.now() - 10 * 60e3 }; // pushed (a follow's welcome goes out past MAX_PUSH_DELAY_MS)
    await sendWebhook(w.url, SECRET, [followEvent(maybe, stale), followEvent(refused, stale)]);
    await waitFor("both decisions", () => decisionsFor(maybe).length + decisionsFor(refused).length === 2, 10_000);
    assert.equal(pushes(maybe).length, 2);
    assert.equal(pushes(refused).length, 2);
    assert.equal(decisionsFor(maybe)[0].delivery, "unknown", "LINE may have carried out a push answered 503");
    assert.equal(decisionsFor(refused)[0].delivery, "failed", "a 429 is LINE not taking the push");
  } finally {
    await w.close();
  }
});

test("a redelivered event (same webhookEventId) is processed once", async () => {
  const user = newFriend();
  const event = followEvent(user);
  assert.equal((await post([event])).status, 200);
  const again = { ...event, deliveryContext: { isRedelivery: true } };
  // Once after the first is done, and twice concurrently.
  await waitFor("the first decision", () => decisionsFor(user).length === 1);
  const results = await Promise.all([post([again]), post([again]), post([event])]);
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200]);
  await sleep(500);
  assert.equal(replyFor(event).length, 1);
  assert.equal(links(user).length, 1);
  assert.equal(decisionsFor(user).length, 1);
  assert.equal(backend.deliveries.get(decisionsFor(user)[0].decisionId), 1);
});

test("backend down ⇒ the decision waits in the outbox and arrives exactly once when it is back", async () => {
  const user = newUserId(); // unknown to the backend: the greeting uses the LINE profile
  await post([followEvent(user)]);
  await waitFor("the first decision", () => decisionsFor(user).length === 1); // the object keeps a copy
  backend.setDown(true);
  try {
    const event = followEvent(user, { unblocked: true });
    assert.equal((await post([event])).status, 200);
    // LINE is still answered while the backend is down, from the object's copy of the user.
    const [reply] = await waitFor("the reply", () => replyFor(event).length && replyFor(event));
    assert.match(reply.body.messages[0].text, /^LINE ユーザー/);
    const failedPosts = () => backend.requests.filter((r) => r.method === "POST" && r.path === "/decisions" && r.status === 503).length;
    const before = failedPosts();
    await waitFor("retries against the down backend", () => failedPosts() >= before + 2);
    assert.equal(decisionsFor(user).length, 1);
  } finally {
    backend.setDown(false);
  }
  const [, decision] = await waitFor("the decision once the backend is back", () => decisionsFor(user).length === 2 && decisionsFor(user));
  await sleep(600); // further alarms must not send it again
  assert.equal(backend.deliveries.get(decision.decisionId), 1);
  assert.equal(backend.users.get(user).richMenuId, menuId("welcome"));
});

test("backend 401, 403, 404 on POST /decisions (a token being rotated, a wrong route) ⇒ retried, the decision arrives exactly once", async () => {
  const user = newFriend();
  for (const status of [401, 403, 404]) backend.answerNext({ method: "POST", path: "/decisions", status, body: '{"error":"not now"}' });
  await post([followEvent(user)]);
  const [decision] = await waitFor("the decision", () => decisionsFor(user).length && decisionsFor(user));
  await sleep(300);
  assert.equal(backend.deliveries.get(decision.decisionId), 1);
  assert.equal(backend.users.get(user).richMenuId, menuId("welcome"));
  assert.ok(!worker.log().includes("moved to dead letters"));
});

test("backend 200 with an HTML page on POST /decisions (a BACKEND_URL that points at a web page) ⇒ not taken as delivered: retried, logged without the page, then arrives exactly once", async () => {
  const user = newFriend();
  const page = "<!doctype html><html><body>Welcome to our shop — please sign in</body></html>";
  backend.answerNext({ method: "POST", path: "/decisions", status: 200, body: page, headers: { "content-type": "text/html; charset=utf-8" }, count: 2 });
  await post([followEvent(user)]);
  const [decision] = await waitFor("the decision", () => decisionsFor(user).length && decisionsFor(user));
  await sleep(300);
  assert.equal(backend.deliveries.get(decision.decisionId), 1);
  const posts = backend.requests.filter((r) => r.method === "POST" && r.path === "/decisions" && r.status === 200);
  assert.ok(posts.length >= 3, `two HTML answers, then the backend: ${posts.length}`);
  assert.match(worker.log(), /sync: kizuna sync: HTTP 200 with content-type text\/html and a web page for a body: not taken as delivered/);
  assert.ok(!worker.log().includes("Welcome") && !worker.log().includes("sign in"), "the page is not in the log");
});

test("LINE API 429 ⇒ retried, honouring Retry-After", async () => {
  const user = newFriend();
  line.failNext({ status: 429, count: 2, retryAfter: 1, match: isLink(user) }); // the link: 429, Retry-After: 1 s, twice
  const event = followEvent(user);
  await post([event]);
  await waitFor("the reply", () => replyFor(event).length === 1, 10_000);
  await waitFor("the decision", () => decisionsFor(user).length === 1, 10_000);
  const linkCalls = links(user);
  assert.equal(linkCalls.length, 3, "two 429s, then the link");
  assert.ok(linkCalls[2].at - linkCalls[1].at >= 900, `waited ${linkCalls[2].at - linkCalls[1].at} ms, Retry-After asked for 1000`);
  assert.equal(line.userMenus.get(user), menuId("welcome"));
  await waitFor("the decision", () => decisionsFor(user).length === 1);
});

test("LINE 429 with a Retry-After longer than a call waits (10 s): the event is retried by a later pass, not sooner", async () => {
  const w = await startWith({});
  try {
    const user = newFriend();
    line.failNext({ status: 429, retryAfter: 60, match: isLink(user) }); // the link: Retry-After 60 s
    const event = followEvent(user);
    await sendWebhook(w.url, SECRET, [event]);
    await waitFor("the event put off", () => w.log().includes(`event ${event.webhookEventId}: LINE API 429: LINE unavailable, the event is kept (try 1, `) &&
      w.log().includes(", MAX_PUSH_DELAY_MS 60 min), will retry in 60 s"));
    assert.match(w.log(), /LINE link rich menu: 429, Retry-After 60000 ms is longer than 10000 ms: left to a later pass/);
    await sleep(200);
    assert.equal(links(user).length, 1, "not retried within the pass");
    assert.equal(replyFor(event).length, 1, "the answer went before the link");
  } finally {
    await w.close();
  }
});

test("a LINE refusal (4xx) is not retried, blocks neither the reply nor the sync, and the menu it refused is synced as not applied", async () => {
  const user = newFriend();
  line.failNext({ status: 400, match: isLink(user) }); // e.g. a rich menu deleted in the LINE console
  const event = followEvent(user);
  await post([event]);
  await waitFor("the reply", () => replyFor(event).length === 1);
  const [decision] = await waitFor("the decision", () => decisionsFor(user).length && decisionsFor(user));
  assert.equal(links(user).length, 1, "a 400 is not retried");
  assert.equal(line.userMenus.get(user), undefined);
  // The backend is told what LINE shows: no menu change (the refused link is in the log only).
  assert.equal(decision.richMenu.action, "none");
  assert.equal(decision.richMenu.menu, "welcome");
  assert.equal(decision.richMenu.current ?? null, null);
  assert.equal(backend.users.get(user).richMenuId, undefined);
  assert.match(worker.log(), new RegExp(`event ${event.webhookEventId}: follow → decision \\w+, menu link \\(failed, synced as none\\)`));
  // The refusal names the menu and the LINE rich menu it tried, for a look in the LINE console.
  assert.match(worker.log(), new RegExp(`event ${event.webhookEventId}: LINE refused the rich menu call \\(link of menu "welcome" \\(richmenu-[0-9a-f]{32}\\)\\): 400`));
  // So the user's next event links it again.
  await post([messageEvent(user)]);
  await waitFor("the second decision", () => decisionsFor(user).length === 2);
  assert.equal(decisionsFor(user)[1].richMenu.action, "link");
  assert.equal(line.userMenus.get(user), menuId("welcome"));
  assert.equal(backend.users.get(user).richMenuId, menuId("welcome"));
});

test("one body with 100 events from different users: all processed, each once", async () => {
  const users = Array.from({ length: 100 }, () => newFriend());
  const events = users.map((u) => followEvent(u));
  const res = await post(events);
  assert.equal(res.status, 200);
  await waitFor("100 decisions", () => users.every((u) => decisionsFor(u).length === 1), 20_000);
  await sleep(300);
  for (const [i, u] of users.entries()) {
    assert.equal(replyFor(events[i]).length, 1, `one reply for ${u}`);
    assert.equal(links(u).length, 1, `one link for ${u}`);
    assert.equal(backend.deliveries.get(decisionsFor(u)[0].decisionId), 1);
  }
});

test("one user's 40 events in one body: each processed once, in order (more than a pass reads of the inbox at a time)", async () => {
  const user = newFriend();
  const events = Array.from({ length: 40 }, (_, i) => messageEvent(user, `${i}`));
  assert.equal((await post(events)).status, 200);
  await waitFor("40 decisions", () => decisionsFor(user).length === 40, 20_000);
  const lines = worker.log().split("\n");
  const decided = events.map((e) => lines.findIndex((l) => l.startsWith(`event ${e.webhookEventId}: message → decision`)));
  for (let i = 0; i < events.length; i++) {
    assert.ok(decided[i] >= 0 && (i === 0 || decided[i] > decided[i - 1]), `event ${i} decided after event ${i - 1}`);
  }
  assert.deepEqual(decisionsFor(user).map((d) => d.now), events.map((e) => new Date(e.timestamp).toISOString()), "synced in order");
  assert.equal(backend.requests.filter((r) => r.method === "GET" && r.path === `/users/${user}`).length, 40, "the user loaded once per event");
});

test("unknown event types are ignored without failing the others", async () => {
  const user = newFriend();
  const stranger = newUserId();
  const event = followEvent(user);
  const unknown = [
    { type: "beacon", mode: "active", timestamp: Date.now(), source: { type: "user", userId: stranger }, webhookEventId: "01JUNKNOWNBEACON0000000000", deliveryContext: { isRedelivery: false }, replyToken: "0f3779fba3b349968c5d07db31eab56f", beacon: { hwid: "d41d8cd98f", type: "enter" } },
    { type: "somethingNew", mode: "active", timestamp: Date.now(), source: { type: "user", userId: stranger }, webhookEventId: "01JUNKNOWNTYPE000000000000", deliveryContext: { isRedelivery: false } },
    { type: "message", mode: "active", timestamp: Date.now(), source: { type: "group", groupId: "Ca56f94637c0000000000000000000000" }, webhookEventId: "01JGROUPNOUSER000000000000", deliveryContext: { isRedelivery: false }, message: { type: "text", id: "1", text: "hi" } },
  ];
  const res = await post([unknown[0], event, unknown[1], unknown[2]]);
  assert.equal(res.status, 200);
  await waitFor("the follow's reply", () => replyFor(event).length === 1);
  await sleep(200);
  assert.equal(callsFor(stranger).length, 0);
  assert.equal(decisionsFor(stranger).length, 0);
});

test("group and room events are ignored, also with the member's userId: no reply into the group, no menu", async () => {
  const user = newFriend({ purchases: [purchase(3)] }); // would get the standard menu linked
  const inGroup = { ...messageEvent(user, "ポイントは？"), source: { type: "group", groupId: `C${"1".repeat(32)}`, userId: user } };
  const inRoom = { ...postbackEvent(user, "action=points"), source: { type: "room", roomId: `R${"2".repeat(32)}`, userId: user } };
  const direct = messageEvent(user, "こんにちは");
  assert.equal((await post([inGroup, inRoom, direct])).status, 200);
  await waitFor("the 1:1 message's decision", () => decisionsFor(user).length === 1);
  await sleep(200);
  assert.equal(decisionsFor(user).length, 1, "only the 1:1 event is decided");
  assert.equal(replyFor(inGroup).length + replyFor(inRoom).length, 0);
  assert.equal(links(user).length, 1, "the 1:1 event's link only");
});

test("a postback is decided and synced; logs carry no profile data", async () => {
  const user = newFriend({ displayName: "山田 花子さん固有名" });
  await post([postbackEvent(user, "action=coupon&secret-text=ひみつの言葉"), messageEvent(user, "私の電話番号は090-0000-0000")]);
  await waitFor("two decisions", () => decisionsFor(user).length === 2);
  const log = worker.log();
  for (const leak of ["山田 花子さん固有名", "佐藤 美咲", "LINE ユーザー", "ひみつの言葉", "090-0000-0000"]) {
    assert.ok(!log.includes(leak), `the log contains ${leak}`);
  }
});

// ---- faults: lost answers, timeouts, crashes, deploys -------------------------------------

test("a reply LINE carried out but whose answer was lost (5xx, dropped connection) is not sent again by push", async () => {
  for (const then of [502, "drop"]) {
    const user = newFriend({ richMenuId: menuId("welcome") }); // menu unchanged: the reply is the only call
    const event = followEvent(user);
    line.processThen({ match: (c) => c.body?.replyToken === event.replyToken, then });
    await post([event]);
    await waitFor(`the decision (${then})`, () => decisionsFor(user).length === 1);
    assert.equal(replyFor(event).length, 2, `${then}: the reply, and its retry refused as "Invalid reply token"`);
    assert.equal(pushes(user).length, 0, `${then}: no push: the user has the message once`);
  }
  assert.match(worker.log(), /reply token is used: counted as delivered, not pushed/);
});

test("a reply token LINE refuses on the first attempt (nothing sent) ⇒ the message is pushed", async () => {
  const user = newFriend({ richMenuId: menuId("welcome") });
  const event = followEvent(user);
  // The token is used up before the worker gets to it.
  const used = await fetch(`${line.url}/v2/bot/message/reply`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ replyToken: event.replyToken, messages: [{ type: "text", text: "先に使われた" }] }),
  });
  assert.equal(used.status, 200);
  await post([event]);
  const [push] = await waitFor("the push", () => pushes(user).length && pushes(user));
  assert.match(push.body.messages[0].text, /佐藤 美咲様/);
  assert.equal(replyFor(event).length, 2);
});

test("a reply token refused, then the push failing retryably: a later pass pushes again with the same retry key", async () => {
  const user = newFriend({ richMenuId: menuId("welcome") }); // menu unchanged: the reply is the first call
  const event = followEvent(user);
  await fetch(`${line.url}/v2/bot/message/reply`, { // the token is used up before the worker gets to it
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ replyToken: event.replyToken, messages: [{ type: "text", text: "先に使われた" }] }),
  });
  // LINE's "Invalid reply token" comes late, so that the push's failures can be set up meanwhile.
  line.processThen({ match: (c) => c.body?.replyToken === event.replyToken, delayMs: 300 });
  await post([event]);
  await waitFor("the worker's reply", () => replyFor(event).length === 2);
  line.failNext(500, 5); // every push attempt of this pass (LINE_MAX_ATTEMPTS 5)
  await waitFor("the decision", () => decisionsFor(user).length === 1, 10_000);
  const sent = pushes(user);
  assert.equal(sent.length, 6, "five failed push attempts, then the next pass's push");
  assert.equal(new Set(sent.map((c) => c.headers["x-line-retry-key"])).size, 1, "one retry key");
  assert.match(sent[5].body.messages[0].text, /佐藤 美咲様/);
  assert.equal(replyFor(event).length, 2, "the refused token is not tried again");
});

test("LINE 401 (an expired or reissued channel access token): the event is kept and retried less and less often, then done", async () => {
  const user = newFriend();
  const message = "Authentication failed. Confirm that the access token in the authorization header is valid.";
  line.failNext({ status: 401, count: 2, message, match: isLink(user) }); // a token reissued while the reply went out
  const event = followEvent(user);
  await post([event]);
  const [decision] = await waitFor("the decision", () => decisionsFor(user).length && decisionsFor(user), 10_000);
  assert.equal(links(user).length, 3, "two refused, then made");
  assert.equal(decision.richMenu.action, "link");
  assert.equal(line.userMenus.get(user), menuId("welcome"));
  assert.equal(replyFor(event).length, 1);
  const loud = worker.log().split("\n").filter((l) => l.startsWith(`event ${event.webhookEventId}: not done: LINE refused the rich menu call with 401`));
  assert.deepEqual(loud.map((l) => /will retry in (\d+) s/.exec(l)?.[1]), ["1", "2"], "once per pass, growing");
});

test("LINE 401 on the profile lookup: the event is kept, then decided with the user's name", async () => {
  const user = newFriend({ displayName: undefined });
  line.failNext(401, 1, undefined, "Authentication failed. Confirm that the access token in the authorization header is valid.");
  const event = followEvent(user);
  await post([event]);
  await waitFor("the decision", () => decisionsFor(user).length === 1, 10_000);
  const profileCalls = callsFor(user, (c) => c.path === `/v2/bot/profile/${user}`);
  assert.equal(profileCalls.length, 2, "refused, then made on the next pass");
  assert.ok(worker.log().includes(`event ${event.webhookEventId}: not done: LINE refused the get profile call with 401`));
  assert.doesNotMatch(replyFor(event)[0].body.messages[0].text, /お客様/, "greeted by name, not as お客様");
});

test("a failing event is not re-run by each new webhook before its retry time (INBOX_RETRY_MS)", async () => {
  const w = await startWith({ INBOX_RETRY_MS: "60000", LINE_MAX_ATTEMPTS: "1" });
  try {
    const user = newFriend(); // no menu yet: each event links the welcome menu
    line.failNext(503, 1);
    const first = messageEvent(user, "m0");
    await sendWebhook(w.url, SECRET, [first]);
    await waitFor("the first failure", () => w.log().includes(`event ${first.webhookEventId}: LINE API 503: LINE unavailable, the event is kept (try 1, `));
    for (let i = 1; i <= 5; i++) assert.equal((await sendWebhook(w.url, SECRET, [messageEvent(user, `m${i}`)])).status, 200);
    await sleep(300);
    assert.equal(links(user).length, 1, "the head event waits for its retry time; later events wait behind it");
    assert.ok(!w.log().includes("(try 2, "));
    assert.equal(decisionsFor(user).length, 0);
  } finally {
    await w.close();
  }
});

test("LINE's 429 \"monthly limit\" is not retried: the push is marked failed and the decision synced", async () => {
  const user = newFriend({ richMenuId: menuId("welcome") });
  line.failNext(429, 1, undefined, "You have reached your monthly limit.");
  await post([followEvent(user, { timestamp: Date.now() - 10 * 60e3 })]); // a stale token: pushed
  await waitFor("the decision", () => decisionsFor(user).length === 1);
  await sleep(100);
  assert.equal(pushes(user).length, 1);
  assert.match(worker.log(), /LINE refused the message call: 429 You have reached your monthly limit/);
});

test("a backend answer that is not JSON is not quoted in the logs: the event waits for the backend, then is decided (also with a JSON Content-Type: a backend fault a fix cures)", async () => {
  const user = newFriend();
  backend.answerNext({ path: `/users/${user}`, body: "鈴木 一郎 (090-1234-5678)", headers: { "content-type": "application/json" } });
  await post([followEvent(user)]);
  await waitFor("the decision", () => decisionsFor(user).length === 1, 15_000);
  assert.match(worker.log(), /backend: user not loaded \(backend answered 200 with content-type application\/json and a body that is not JSON\) and no copy kept: the event waits for the backend \(try 1,/);
  assert.ok(!worker.log().includes("鈴木"), "the body is in the log");
});

test("a backend answering 200 with HTML (a BACKEND_URL that points at a web page) and no copy: the event waits past MAX_EVENT_ATTEMPTS, named in the log, then is decided once when the backend answers", async () => {
  const w = await startWith({ MAX_EVENT_ATTEMPTS: "2", INBOX_RETRY_MS: "20" });
  try {
    const user = newFriend({ displayName: "松本 理恵" }); // known to the backend, no menu yet
    const page = "<!doctype html><html><body>松本 理恵 — Welcome to our shop</body></html>";
    backend.answerNext({ path: `/users/${user}`, status: 200, body: page, headers: { "content-type": "text/html; charset=utf-8" }, count: 3 });
    const follow = followEvent(user);
    assert.equal((await sendWebhook(w.url, SECRET, [follow])).status, 200);
    await waitFor("the decision", () => decisionsFor(user).length === 1, 15_000);
    await sleep(300);

    const prefix = `event ${follow.webhookEventId}: backend: user not loaded (backend answered 200 with content-type text/html and a body that is not JSON (is BACKEND_URL right?)) and no copy kept: `;
    for (let t = 1; t <= 3; t++) assert.ok(w.log().includes(`${prefix}the event waits for the backend (try ${t},`), `try ${t}: ${w.log().slice(-2000)}`);
    assert.doesNotMatch(w.log(), /gave up|attempt \d+ of 2/, "not given up after MAX_EVENT_ATTEMPTS");
    assert.equal(loadsOf(user).length, 4, "three HTML answers, then the user");
    const [decision] = decisionsFor(user);
    assert.equal(backend.deliveries.get(decision.decisionId), 1, "synced exactly once");
    assert.equal(decision.richMenu.menu, "welcome");
    assert.equal(links(user).length, 1, "the menu linked once");
    const greetings = [...replyFor(follow), ...pushes(user)];
    assert.equal(greetings.length, 1, "the greeting sent once");
    assert.match(greetings[0].body.messages[0].text, /^松本 理恵様/, "decided from the backend's user");
    assert.ok(!w.log().includes("松本") && !w.log().includes("Welcome"), "no profile data or response body in the logs");
  } finally {
    await w.close();
  }
});

test("crash: an event accepted during a pass keeps its alarm, and a reply cut off by the crash is not pushed again", async () => {
  const user = newFriend();
  // The first event's link is slow; the second event arrives meanwhile.
  line.processThen({ path: `/v2/bot/user/${user}/richmenu/${menuId("welcome")}`, delayMs: 400 });
  const first = followEvent(user);
  await post([first]);
  await waitFor("the first event's link call", () => links(user).length === 1);
  const second = followEvent(user, { unblocked: true });
  line.processThen({ match: (c) => c.body?.replyToken === second.replyToken, then: "hang" });
  await post([second]);
  // The first pass is over; the second event's reply reached LINE, and the object dies before
  // it hears back (a deploy, an eviction, a crash).
  await waitFor("the second event's reply", () => replyFor(second).length === 1);
  assert.equal(decisionsFor(user).length, 1);
  await worker.restart();
  await waitFor("the second decision, after the restart", () => decisionsFor(user).length === 2, 8000);
  assert.equal(replyFor(first).length, 1);
  assert.equal(replyFor(second).length, 2, "retried after the restart and refused: the token was used");
  assert.equal(pushes(user).length, 0, "not pushed: the cut-off reply was delivered");
});

test("an answer decided more than MAX_PUSH_DELAY_MS after its event (held while the backend was down) is not pushed: synced with delivery late; a follow's welcome still goes out", async () => {
  // A config that also answers messages (the example answers follows only).
  const withAnswers = structuredClone(config);
  withAnswers.contents.push({ id: "auto_answer", on: ["message"], variants: [{ id: "all", messages: [{ type: "text", text: "{{ user.displayName | default: 'お客様' }}様、お問い合わせありがとうございます。" }] }] });
  const file = join(scratch, "answers-config.json");
  writeFileSync(file, JSON.stringify(withAnswers));
  const b = await buildWorker({ entry: ENTRY, config: file });
  const w = await startWorkerd({ bundle: b, env: { ...env(), MAX_PUSH_DELAY_MS: "300", REPLY_TOKEN_TTL_MS: "100", INBOX_RETRY_MS: "100" } });
  try {
    const user = newFriend();
    backend.answerNext({ path: `/users/${user}`, status: 503, body: "down", count: 4 });
    const follow = followEvent(user);
    const message = messageEvent(user, "こんにちは");
    assert.equal((await sendWebhook(w.url, SECRET, [follow, message])).status, 200);
    const [first, second] = await waitFor("both decisions", () => decisionsFor(user).length === 2 && decisionsFor(user), 15_000);
    assert.equal(first.delivery, "push", "the welcome, late, still goes out");
    assert.equal(second.messages.length, 1, "the answer was decided");
    assert.equal(second.delivery, "late");
    assert.equal(pushes(user).length, 1, "only the welcome is pushed");
    assert.equal(replyFor(message).length, 0);
    assert.match(w.log(), new RegExp(`event ${message.webhookEventId}: message decided \\d+ (ms|s) after it happened \\(MAX_PUSH_DELAY_MS 300 ms\\): its messages are not pushed`));
  } finally {
    await w.close();
    removeBundle(b);
  }
});

// The same worker deciding with kizuna, built from createWorker with a loadDecide that logs where
// it runs: inside the fetch handler (an AsyncLocalStorage context set around it, which does not
// reach the Durable Object's calls) or not.
async function compileProbe() {
  const entry = join(scratch, "compile-probe-entry.js");
  writeFileSync(entry, `
    import { AsyncLocalStorage } from "node:async_hooks";
    import { Engine } from "kizuna";
    import config from ${JSON.stringify(join(root, "www/worker/src/config.js"))};
    import { createWorker } from ${JSON.stringify(join(root, "www/worker/src/worker.js"))};
    const inHandler = new AsyncLocalStorage();
    const { handler, KizunaUser } = createWorker(() => {
      console.log("probe: config compiled " + (inHandler.getStore() ? "in the fetch handler" : "outside the fetch handler"));
      const engine = new Engine(config);
      return (text) => engine.decideJson(text);
    });
    export default { fetch: (request, env, ctx) => inHandler.run(true, () => handler.fetch(request, env, ctx)) };
    export { KizunaUser };
  `);
  return buildWorker({ entry });
}

test("the fetch handler answers a webhook without compiling the config: the user's object compiles it, once per isolate", {
  skip: process.env.WORKER_TEST_ENTRY !== undefined && "about kizuna's entry (src/index.js)",
}, async () => {
  const b = await compileProbe();
  const w = await startWorkerd({ bundle: b, env: env() });
  try {
    const compiles = () => w.log().split("\n").filter((l) => l.includes("probe: config compiled"));
    const first = newFriend();
    assert.equal((await sendWebhook(w.url, SECRET, [followEvent(first)])).status, 200);
    await waitFor("the first decision", () => decisionsFor(first).length === 1);
    const second = newFriend();
    assert.equal((await sendWebhook(w.url, SECRET, [followEvent(second)])).status, 200);
    await waitFor("the second decision", () => decisionsFor(second).length === 1);
    assert.deepEqual(compiles().map((l) => l.replace(/^.*probe: /, "")), ["config compiled outside the fetch handler"], "compiled once, by an object");
  } finally {
    await w.close();
    removeBundle(b);
  }
});

test("a deploy whose config does not compile: webhooks still answered 200, the objects keep the events and log why, and process them once a config that compiles is out", {
  skip: process.env.WORKER_TEST_ENTRY !== undefined && "the entry's decider does not check its config up front (json-logic-js compiles nothing)",
}, async () => {
  const brokenConfig = join(scratch, "broken-config.json");
  writeFileSync(brokenConfig, JSON.stringify({ version: 1, segments: [{ id: "x", when: { nope: [] } }] }));
  const broken = await buildWorker({ entry: ENTRY, config: brokenConfig });
  const notDecided = (e) => new RegExp(`event ${e.webhookEventId}: not decided: the config does not compile: unknown_operator at /segments/0/when: .*; kept, will retry in \\d+ s \\(deploy a config that compiles\\)`);
  try {
    const user = newFriend();
    const event = followEvent(user);
    backend.answerNext({ path: `/users/${user}`, hang: true }); // still loading the user when the deploy happens
    await post([event]);
    await waitFor("the user request", () => backend.requests.some((r) => r.path === `/users/${user}`));
    await worker.restart({ bundle: broken });
    await waitFor("the stored event tried with the broken config", () => notDecided(event).test(worker.log()));
    // Accepted and kept, for the user waiting already and for a user seen first now.
    const message = messageEvent(user, "もしもし");
    assert.equal((await post([message])).status, 200, "accepted: the user's object keeps it");
    const other = newFriend();
    const otherFollow = followEvent(other);
    assert.equal((await post([otherFollow])).status, 200, "accepted: the new user's object keeps it");
    await waitFor("the new user's event tried with the broken config", () => notDecided(otherFollow).test(worker.log()));
    assert.doesNotMatch(worker.log(), /webhook: .*answering 500/);
    assert.equal(decisionsFor(user).length + decisionsFor(other).length, 0);
    assert.equal(callsFor(user).length + callsFor(other).length, 0);

    await worker.restart({ bundle }); // the fixed config; no redelivery: the objects still hold the events
    await waitFor("the three decisions", () => decisionsFor(user).length === 2 && decisionsFor(other).length === 1, 10000);
    await sleep(300);
    assert.equal(decisionsFor(user).length, 2, "each once");
    assert.equal(replyFor(event).length, 1);
    assert.equal(links(user).length, 1);
    assert.equal(replyFor(otherFollow).length + pushes(other).length, 1, "the new user greeted once");
    const lines = worker.log().split("\n");
    assert.ok(lines.findIndex((l) => l.includes(`event ${event.webhookEventId}: follow → decision`)) <
      lines.findIndex((l) => l.includes(`event ${message.webhookEventId}: message → decision`)), "in the user's order");
  } finally {
    removeBundle(broken);
  }
});

// The same worker, counting its outgoing requests the way the runtime attributes them: global
// fetch (the backend, kizuna/sync and @line/bot-sdk all call it) logs each request, and the user
// object logs the start of each incoming request (accept() or alarm()), the newest of which the
// runtime charges for every subrequest the object makes. Per invocation: the requests logged
// between one start and the next. Its own workerd (in-memory storage), one user at a time.
async function countingWorker(overrides) {
  const entry = join(scratch, "counting-entry.js");
  writeFileSync(entry, `
    import handler, { KizunaUser as Base } from ${JSON.stringify(ENTRY)};
    const realFetch = globalThis.fetch;
    globalThis.fetch = (input, init) => {
      console.log("probe: request " + new URL(input.url ?? input).pathname);
      return realFetch(input, init);
    };
    export default handler;
    export class KizunaUser extends Base {
      async accept(events) {
        console.log("probe: invocation accept");
        return super.accept(events);
      }
      async alarm(info) {
        console.log("probe: invocation alarm");
        try {
          return await super.alarm(info);
        } finally {
          console.log("probe: alarm end");
        }
      }
    }
  `);
  const b = await buildWorker({ entry });
  const w = await startWorkerd({ bundle: b, env: { ...env(), ...overrides } });
  const invocations = () => {
    const counts = [];
    for (const l of w.log().split("\n")) {
      if (l.includes("probe: invocation ")) counts.push(0);
      else if (l.includes("probe: request ")) counts[counts.length - 1]++;
    }
    return counts;
  };
  return { w, invocations, close: async () => { await w.close(); removeBundle(b); } };
}

test("outgoing requests are counted per invocation, LINE retries included: an event starts only if what is left covers its worst case, the rest go on in the alarm, each event handled once", async () => {
  // LINE_MAX_ATTEMPTS 3: a follow may make 1 + 4 × 3 = 13 requests, a sync flush 4: 17 is the
  // least MAX_SUBREQUESTS this allows. (Counting events, a pass took all four: 20 requests.)
  const c = await countingWorker({ LINE_MAX_ATTEMPTS: "3", MAX_SUBREQUESTS: "17" });
  try {
    const user = newFriend(); // with a displayName: no profile call
    const events = Array.from({ length: 4 }, () => followEvent(user));
    const tokens = new Set(events.map((e) => e.replyToken));
    // Every Messaging API call for this user (one menu link, four replies) fails twice with a
    // 5xx before LINE does anything, then goes through: each costs its three attempts.
    const tried = new Map(); // call (path and reply token) → attempts so far
    line.failNext({
      status: 500,
      count: 2 * (1 + events.length),
      match: (call) => {
        if (!call.path.includes(user) && !tokens.has(call.body?.replyToken)) return false;
        const key = `${call.path} ${call.body?.replyToken ?? ""}`;
        tried.set(key, (tried.get(key) ?? 0) + 1);
        return tried.get(key) <= 2;
      },
    });
    assert.equal((await sendWebhook(c.w.url, SECRET, events)).status, 200);
    await waitFor("every decision synced", () => decisionsFor(user).length === events.length, 10000);
    await sleep(300);

    // Each event handled once, in order: one reply each (two 5xx, then the reply), no push.
    const decided = (e) => `event ${e.webhookEventId}: follow → decision`;
    const lines = c.w.log().split("\n");
    for (const e of events) {
      assert.equal(lines.filter((l) => l.includes(decided(e))).length, 1, "decided once");
      assert.equal(replyFor(e).length, 3, "two 5xx, then the reply");
    }
    const decidedAt = events.map((e) => lines.findIndex((l) => l.includes(decided(e))));
    for (let i = 1; i < events.length; i++) assert.ok(decidedAt[i - 1] < decidedAt[i], "in the user's order");
    assert.equal(links(user).length, 3, "the welcome menu linked once (two 5xx, then the link)");
    assert.equal(pushes(user).length, 0);
    assert.deepEqual(decisionsFor(user).map((d) => d.delivery), events.map(() => "reply"));
    assert.equal(decisionsFor(user).filter((d) => d.richMenu.action === "link").length, 1);

    // No invocation over the allowance; the pass stopped before it and went on in alarms.
    const counts = c.invocations().filter((n) => n > 0);
    assert.ok(Math.max(...counts) <= 17, `requests per invocation: ${counts.join(", ")}`);
    assert.ok(counts.length >= events.length, `one event per invocation here: ${counts.join(", ")}`);
    assert.match(c.w.log(), /user object: \d+ of MAX_SUBREQUESTS 17 requests made in this invocation; event \S+ may make 13 and the sync 4: it goes on in a new invocation/);
    assert.doesNotMatch(c.w.log(), /not sent: this invocation has made its MAX_SUBREQUESTS/, "no request refused: the admission kept within the allowance");
  } finally {
    await c.close();
  }
});

test("a webhook that arrives while an alarm's pass runs gives that pass no new allowance: the requests since the alarm began are still counted", async () => {
  // The runtime charges the newest request that has not completed. accept() returns before the
  // pass it starts ends, so it can complete while an older alarm() is still running, and the
  // charging falls back to the alarm, which had spent requests before the webhook came. So the
  // webhook must not reset the count while a pass is in flight.
  // LINE_MAX_ATTEMPTS 1: a follow may make 1 + 4 = 5 requests, a flush 4: with
  // MAX_SUBREQUESTS 9 an invocation starts one follow only, unless nothing was spent before it.
  const c = await countingWorker({ LINE_MAX_ATTEMPTS: "1", MAX_SUBREQUESTS: "9" });
  try {
    const user = newFriend(); // with a displayName: no profile call
    const [e1, e2, e3] = Array.from({ length: 3 }, () => followEvent(user));
    // The accept's pass does e1 and leaves e2 and e3 to the alarm; the alarm's pass does e2,
    // whose reply answers late: the second webhook comes meanwhile.
    line.processThen({ match: (call) => call.body?.replyToken === e2.replyToken, delayMs: 1500 });
    assert.equal((await sendWebhook(c.w.url, SECRET, [e1, e2, e3])).status, 200);
    await waitFor("e2's reply sent", () => replyFor(e2).length === 1, 10000);
    const e4 = followEvent(user);
    assert.equal((await sendWebhook(c.w.url, SECRET, [e4])).status, 200);
    await waitFor("every decision synced", () => decisionsFor(user).length === 4, 15000);
    await sleep(300);

    const lines = c.w.log().split("\n");
    const decided = (e) => lines.findIndex((l) => l.includes(`event ${e.webhookEventId}: follow → decision`));
    for (const e of [e1, e2, e3, e4]) {
      assert.equal(lines.filter((l) => l.includes(`event ${e.webhookEventId}: follow → decision`)).length, 1, "decided once");
    }
    // The first alarm (the accept's pass stopped after e1): it did e2, and the second webhook's
    // accept() came while it ran (so did the alarm that accept set: workerd runs an alarm while
    // an older one's pass still runs, and it must not reset the count either).
    const start = lines.findIndex((l) => l.includes("probe: invocation alarm"));
    const end = lines.findIndex((l, i) => i > start && l.includes("probe: alarm end"));
    assert.ok(start >= 0 && end > start && decided(e2) > start && decided(e2) < end, "e2 was done in the first alarm");
    assert.ok(lines.slice(start, end).some((l) => l.includes("probe: invocation accept")), "the second webhook came during that alarm");
    assert.ok(!(decided(e3) > start && decided(e3) < end), "e3 not started by that alarm's pass: its requests so far and e3's worst case exceed the allowance");
    const requests = lines.slice(start, end).filter((l) => l.includes("probe: request ")).length;
    assert.ok(requests <= 9, `requests while the alarm ran: ${requests}`);
    assert.match(lines.slice(start, end).join("\n"), new RegExp(`user object: [1-9]\\d* of MAX_SUBREQUESTS 9 requests made in this invocation; event ${e3.webhookEventId} may make 5`));
  } finally {
    await c.close();
  }
});

// ---- settings ----------------------------------------------------------------------------

/** The same bundle in another workerd with other settings (in-memory storage); close it after. */
const startWith = (overrides) => startWorkerd({ bundle, env: { ...env(), ...overrides } });

test("a numeric setting that is not a valid number: webhooks answered 500 naming it, nothing done", async () => {
  for (const [name, value] of [["LINE_MAX_ATTEMPTS", "five"], ["LINE_TIMEOUT_MS", "NaN"], ["MAX_EVENT_ATTEMPTS", "0"], ["INBOX_RETRY_MS", "-1"], ["INBOX_RETRY_MS", "0"], ["LINE_MAX_ATTEMPTS", "2.5"], ["BACKEND_WAIT_MS", "0"], ["BACKEND_WAIT_MS", "1.5"], ["MAX_SUBREQUESTS", "0"],
    // Less than one event's worst case (1 + 4 × LINE_MAX_ATTEMPTS 5) and a sync flush (4).
    ["MAX_SUBREQUESTS", "24"],
    // Not a number, but checked with them: without a scheme every pass failed after its events.
    ["BACKEND_URL", "backend.example.jp/kizuna"], ["BACKEND_URL", "ftp://backend.example.jp"], ["BACKEND_URL", "https://backend.example.jp/kizuna "]]) {
    const w = await startWith({ [name]: value });
    try {
      const user = newFriend();
      const res = await sendWebhook(w.url, SECRET, [followEvent(user)]);
      assert.equal(res.status, 500, `${name}=${value}`);
      const named = new RegExp(`webhook: invalid setting: ${name} must be .* got "${value}"; answering 500`);
      await waitFor(`the error naming ${name}`, () => named.test(w.log()));
      assert.equal(callsFor(user).length + backend.requests.filter((r) => r.path.includes(user)).length, 0);
    } finally {
      await w.close();
    }
  }
});

// An instrumented build of the same worker: logs each alarm of a user's object and the limit of
// each list of its outbox (kizuna/sync's keys), and can make one alarm's pass fail (a storage
// error reading the inbox; not the one-key look at the end of a pass) for users whose id ends
// in "0bad".
async function probeWorker() {
  if (probe) return probe;
  const entry = join(scratch, "probe-entry.js");
  writeFileSync(entry, `
    import handler, { KizunaUser as Base } from ${JSON.stringify(ENTRY)};
    export default handler;
    export class KizunaUser extends Base {
      constructor(ctx, env) {
        super(ctx, env);
        const real = this.storage;
        this.storage = new Proxy(real, {
          get: (target, name) => {
            if (name === "list") {
              return (options) => {
                if (/^kizuna:(queue|outbox):$/.test(options?.prefix ?? "")) console.log("probe: outbox list " + this.user + " limit " + options.limit);
                if (this.failAlarm && this.inAlarm && options?.prefix === "inbox:" && options.limit !== 1) {
                  this.failAlarm = false;
                  console.log("probe: alarm failure injected for " + this.user);
                  return Promise.reject(new Error("injected storage failure"));
                }
                return target.list(options);
              };
            }
            const value = Reflect.get(target, name);
            return typeof value === "function" ? value.bind(target) : value;
          },
        });
      }
      async accept(events) {
        this.user = events[0].source.userId;
        if (this.user.endsWith("0bad")) this.failAlarm = true;
        return super.accept(events);
      }
      async alarm(info) {
        console.log("probe: alarm " + this.user);
        this.inAlarm = true;
        try {
          return await super.alarm(info);
        } finally {
          this.inAlarm = false;
        }
      }
    }
  `);
  const b = await buildWorker({ entry });
  // Short timeouts here only: the main worker keeps the defaults, so a loaded machine does not
  // make its calls time out.
  probe = { bundle: b, worker: await startWorkerd({ bundle: b, env: { ...env(), SYNC_ALARM_MS: "100", LINE_TIMEOUT_MS: "600", BACKEND_TIMEOUT_MS: "400" } }) };
  return probe;
}
const alarmsOf = (user) => probe.worker.log().split("\n").filter((l) => l.includes(`probe: alarm ${user}`)).length;

test("a hung backend request or Messaging API call times out: the event goes on, and a hung reply is not pushed", async () => {
  const { worker: w } = await probeWorker(); // LINE_TIMEOUT_MS 600, BACKEND_TIMEOUT_MS 400
  const user = newFriend({ richMenuId: menuId("welcome") });
  const event = followEvent(user);
  backend.answerNext({ path: `/users/${user}`, hang: true });
  line.processThen({ match: (c) => c.body?.replyToken === event.replyToken, then: "hang" });
  assert.equal((await sendWebhook(w.url, SECRET, [event])).status, 200);
  await waitFor("the decision", () => decisionsFor(user).length === 1, 6000);
  assert.equal(replyFor(event).length, 2, "the hung reply, and its retry refused as used");
  assert.equal(pushes(user).length, 0);
  assert.match(w.log(), /backend: user not loaded \(no answer within 400 ms\)/);
  assert.match(w.log(), /LINE reply: timeout, retry 2/);
});

test("backend down: the object sleeps until the sync client's next attempt (Retry-After), not every SYNC_ALARM_MS", async () => {
  const { worker: w } = await probeWorker();
  const user = newFriend();
  await sendWebhook(w.url, SECRET, [followEvent(user)]);
  await waitFor("the first decision", () => decisionsFor(user).length === 1); // the object keeps a copy
  backend.setDown(true, { retryAfter: 1 });
  try {
    assert.equal((await sendWebhook(w.url, SECRET, [messageEvent(user)])).status, 200);
    await sleep(1700);
  } finally {
    backend.setDown(false);
  }
  await waitFor("the decision once the backend is back", () => decisionsFor(user).length === 2, 5000);
  const wakes = alarmsOf(user);
  assert.ok(wakes >= 1 && wakes <= 3, `${wakes} alarms while the backend asked for 1 s between attempts (SYNC_ALARM_MS is 100)`);
});

test("with decisions waiting in the outbox, each event's user load asks only whether any waits (lists of one key), not for the whole outbox", async () => {
  const { worker: w } = await probeWorker();
  const user = newFriend();
  await sendWebhook(w.url, SECRET, [followEvent(user)]);
  await waitFor("the first decision", () => decisionsFor(user).length === 1); // the object keeps a copy
  backend.setDown(true);
  const events = [messageEvent(user), messageEvent(user), messageEvent(user)];
  try {
    for (const event of events) {
      assert.equal((await sendWebhook(w.url, SECRET, [event])).status, 200);
      await waitFor("the event decided", () => w.log().includes(`event ${event.webhookEventId}: message → decision`));
    }
  } finally {
    backend.setDown(false);
  }
  await waitFor("the decisions once the backend is back", () => decisionsFor(user).length === 4, 8000);
  const limits = w.log().split("\n").filter((l) => l.includes(`probe: outbox list ${user} limit `)).map((l) => Number(l.split(" limit ")[1]));
  assert.ok(limits.filter((n) => n === 1).length >= 2 * events.length, `one-key lists: ${limits.join(", ")}`);
  assert.ok(limits.every((n) => n < 1000), `no list of the whole outbox: ${limits.join(", ")}`);
});

test("a failing alarm fails: the runtime retries it, and the outbox is delivered", async () => {
  const { worker: w } = await probeWorker();
  const user = userIdEndingIn("0bad");
  backend.users.set(user, { userId: user, displayName: "佐藤 美咲", tags: [], purchases: [] });
  await sendWebhook(w.url, SECRET, [followEvent(user)]);
  await waitFor("the first decision", () => decisionsFor(user).length === 1); // the object keeps a copy
  backend.setDown(true);
  try {
    assert.equal((await sendWebhook(w.url, SECRET, [messageEvent(user)])).status, 200);
    // The pass leaves the decision in the outbox; the alarm that comes back for it fails.
    await waitFor("the failing alarm", () => w.log().includes(`probe: alarm failure injected for ${user}`));
  } finally {
    backend.setDown(false);
  }
  await waitFor("the decision, sent by the retried alarm", () => decisionsFor(user).length === 2, 6000);
  assert.ok(alarmsOf(user) >= 2);
});
