// The worker's Messaging API client (www/worker/src/line.js) in Node against the mock LINE API:
// what a retry key's lifetime means for a push whose outcome is unknown.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { startLineApi } from "../../www/mock/line-api.mjs";
import { LineApi } from "../../www/worker/src/line.js";

test("a push whose outcome stays unknown is retried under its key for 23 h, then counted as delivered, not pushed again", async () => {
  const line = await startLineApi({ token: "t" });
  try {
    const api = new LineApi({ channelAccessToken: "t", baseURL: line.url, maxAttempts: 2, baseDelayMs: 0, sleep: async () => {} });
    const user = `U${"a".repeat(32)}`;
    const messages = [{ type: "text", text: "こんにちは" }];
    const retryKey = randomUUID();
    const pushes = () => line.calls.filter((c) => c.path === "/v2/bot/message/push").length;
    // LINE carries the push out but the answers are lost (5xx): the outcome is unknown.
    line.processThen({ path: "/v2/bot/message/push", count: 2, then: 500 });
    let at;
    await assert.rejects(api.send(user, messages, { retryKey, onPushUncertain: (t) => (at = t) }));
    assert.ok(at > 0, "the first unknown outcome is reported with its time");
    const tried = pushes();
    // Within the key's lifetime: retried under the same key (LINE answers 409: sent once).
    assert.equal(await api.send(user, messages, { retryKey, pushUncertainAt: at }), "push");
    assert.equal(pushes(), tried + 1);
    // Past it (less a margin): LINE would send again; not pushed, counted as delivered.
    const later = () => at + 23.5 * 3600e3;
    assert.equal(await api.send(user, messages, { retryKey, pushUncertainAt: at, now: later }), "push (unconfirmed)");
    assert.equal(pushes(), tried + 1, "no push call");
    // A push whose earlier attempts were refused outright (no unknown outcome) is still pushed.
    assert.equal(await api.send(user, messages, { retryKey: randomUUID(), now: later }), "push");
  } finally {
    await line.close();
  }
});

test("beforeRequest runs before each attempt: when it throws, no request is made and the call ends with its error, not retried", async () => {
  const line = await startLineApi({ token: "t" });
  try {
    let allowed = 0;
    const spent = new Error("no requests left");
    const api = new LineApi({
      channelAccessToken: "t", baseURL: line.url, maxAttempts: 5, baseDelayMs: 0, sleep: async () => {},
      beforeRequest: () => {
        if (allowed-- <= 0) throw spent;
      },
    });
    const user = `U${"b".repeat(32)}`;
    line.failNext(500, 100); // every attempt would be retried
    allowed = 2;
    const failed = [];
    await assert.rejects(api.retrying("link rich menu", () => api.client.linkRichMenuIdToUser(user, "richmenu-x"), (e) => failed.push(e)), (e) => e === spent);
    assert.equal(line.calls.length, 2, "two requests, then none");
    assert.equal(failed.length, 2, "only the requests made count as failed attempts");
    // A reply stopped this way after an attempt with an unknown outcome (a 5xx) says so.
    allowed = 1;
    const e = await api.send(user, [{ type: "text", text: "こんにちは" }], { replyToken: "r".repeat(32), retryKey: "00000000-0000-4000-8000-000000000000" }).catch((x) => x);
    assert.equal(e, spent);
    assert.equal(e.replyUncertain, true);
    assert.equal(line.calls.length, 3);
  } finally {
    await line.close();
  }
});

test("lineUnavailable marks what LINE could not take (5xx, 429, a dropped connection, a timeout), not an exception of the call's own", async () => {
  const line = await startLineApi({ token: "t" });
  try {
    const api = new LineApi({ channelAccessToken: "t", baseURL: line.url, maxAttempts: 2, baseDelayMs: 0, timeoutMs: 200, sleep: async () => {} });
    const user = `U${"c".repeat(32)}`;
    const menu = `richmenu-${"d".repeat(32)}`;
    const link = () => api.linkRichMenu(user, menu).then(() => "linked", (e) => e);
    line.failNext(503, 2);
    assert.equal((await link()).lineUnavailable, true, "5xx");
    line.processThen({ count: 2, then: "drop" });
    const dropped = await link();
    assert.equal(dropped.message, "fetch failed");
    assert.equal(dropped.lineUnavailable, true, "a dropped connection");
    line.processThen({ count: 2, then: "hang" });
    const hung = await link();
    assert.equal(hung.name, "LineTimeoutError");
    assert.equal(hung.lineUnavailable, true, "a timeout");
    // A bug (or a body that cannot be serialized) is retried like a network error, but it is
    // not an outage: the worker must not hold the user's events for an hour on it.
    let calls = 0;
    const bug = await api.retrying("link rich menu", async () => {
      calls++;
      return undefined.richMenuId;
    }).catch((e) => e);
    assert.equal(bug.name, "TypeError");
    assert.equal(calls, 2);
    assert.equal(bug.lineUnavailable, undefined);
    assert.equal(await link(), "linked");
  } finally {
    await line.close();
  }
});

// A batch job end to end: the example's users decided in one call, their rich-menu actions
// grouped into LINE's bulk requests, sent to the mock LINE API, which then shows each user the
// menu their decision chose.
test("bulkRequests from decideMany are accepted by the Messaging API and leave each user on their decided menu", async () => {
  const { Engine, bulkRequests } = await import("../../pkg/node.js");
  const { readFileSync } = await import("node:fs");
  const read = (p) => readFileSync(new URL(`../../examples/skincare/${p}`, import.meta.url), "utf8");
  const engine = new Engine(read("config.json"));
  const decisions = engine.decideMany(read("contexts.ndjson"));
  const line = await startLineApi({ token: "t" });
  try {
    // Users that had a per-user menu before the batch (from their contexts).
    for (const ctx of read("contexts.ndjson").split("\n").filter(Boolean).map((l) => JSON.parse(l))) {
      if (ctx.user.richMenuId) line.userMenus.set(ctx.user.userId, ctx.user.richMenuId);
    }
    const requests = bulkRequests(decisions);
    assert.ok(requests.some((r) => r.path.endsWith("/link")), "the example links menus");
    for (const r of requests) {
      const res = await fetch(line.url + r.path, { method: r.method, headers: { authorization: "Bearer t", "content-type": "application/json" }, body: JSON.stringify(r.body) });
      assert.equal(res.status, 202, `${r.path}: ${await res.text()}`);
    }
    for (const d of decisions.split("\n").filter(Boolean).map((l) => JSON.parse(l))) {
      const choice = d.richMenu;
      const want = choice.action === "link" ? choice.richMenuId : choice.action === "unlink" ? undefined : line.userMenus.get(d.userId);
      assert.equal(line.userMenus.get(d.userId), want, `${d.userId}: ${choice.action}`);
      if (choice.action === "none" && choice.richMenuId) assert.ok(line.userMenus.get(d.userId), `${d.userId} keeps a menu`);
    }
    // LINE checks a request body whole: one id that is no user id fails the request.
    const res = await fetch(line.url + "/v2/bot/richmenu/bulk/unlink", { method: "POST", headers: { authorization: "Bearer t", "content-type": "application/json" }, body: JSON.stringify({ userIds: [`U${"a".repeat(32)}`, "bob"] }) });
    assert.equal(res.status, 400);
    assert.equal(line.userMenus.has(`U${"a".repeat(32)}`), false);
  } finally {
    await line.close();
  }
});

test("a push campaign's decisions carry their variant's aggregation unit, which the Messaging API takes as customAggregationUnits", async () => {
  const { Engine } = await import("../../pkg/node.js");
  const { readFileSync } = await import("node:fs");
  const read = (p) => readFileSync(new URL(`../../examples/skincare/${p}`, import.meta.url), "utf8");
  const engine = new Engine(read("config.json"));
  const line = await startLineApi({ token: "t" });
  const push = (body) => fetch(`${line.url}/v2/bot/message/push`, { method: "POST", headers: { authorization: "Bearer t", "content-type": "application/json" }, body: JSON.stringify(body) });
  try {
    const units = new Set();
    for (const ctx of read("contexts.ndjson").split("\n").filter(Boolean).map((l) => JSON.parse(l))) {
      const d = engine.render("recommendations", ctx);
      if (!d.messages) continue;
      // What a backend sends for each user of the campaign.
      const res = await push({ to: d.userId, messages: d.messages, customAggregationUnits: [d.content.aggregationUnit] });
      assert.equal(res.status, 200, await res.text());
      units.add(d.content.aggregationUnit);
    }
    assert.deepEqual([...units].sort(), ["reco_bestsellers", "reco_carousel"], "one unit per variant, so LINE's statistics compare them");
    // LINE's rule, which the engine checks at compile time: one unit, 1–30 of A–Z a–z 0–9 _.
    const messages = [{ type: "text", text: "x" }];
    assert.equal((await push({ to: `U${"a".repeat(32)}`, messages, customAggregationUnits: ["spring-sale"] })).status, 400);
    assert.equal((await push({ to: `U${"a".repeat(32)}`, messages, customAggregationUnits: ["a", "b"] })).status, 400);
    assert.throws(() => new Engine({ version: 1, contents: [{ id: "c", variants: [{ id: "v", aggregationUnit: "spring-sale", messages }] }] }), (e) => e.errors.length === 1 && e.errors[0].code === "invalid_value" && e.errors[0].path === "/contents/0/variants/0/aggregationUnit");
  } finally {
    await line.close();
  }
});

test("kizuna/line's pushRequest turns each decision of a push campaign into a push LINE accepts once, with the retry key and the arm's unit", async () => {
  const { Engine } = await import("../../pkg/node.js");
  const { pushRequest, retryKeyFor } = await import("../../pkg/line.js");
  const { readFileSync } = await import("node:fs");
  const read = (p) => readFileSync(new URL(`../../examples/skincare/${p}`, import.meta.url), "utf8");
  const engine = new Engine(read("config.json"));
  const line = await startLineApi({ token: "t" });
  const send = (r) => fetch(line.url + r.path, { method: r.method, headers: { authorization: "Bearer t", "content-type": "application/json", ...r.headers }, body: JSON.stringify(r.body) });
  try {
    const contexts = read("contexts.ndjson").split("\n").filter(Boolean);
    let sent = 0;
    for (const ctx of contexts) {
      const d = engine.render("birthday", ctx);
      const r = pushRequest(d);
      if (!d.messages) {
        assert.equal(r, null, "nothing to send");
        continue;
      }
      assert.deepEqual(pushRequest(JSON.stringify(d)), r, "a decision's JSON text gives the same request");
      assert.equal(r.headers["X-Line-Retry-Key"], retryKeyFor(d.decisionId));
      assert.match(r.headers["X-Line-Retry-Key"], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.deepEqual(r.body, { to: d.userId, messages: d.messages, customAggregationUnits: [d.content.aggregationUnit] });
      assert.equal((await send(r)).status, 200);
      assert.equal((await send(r)).status, 409, "a retry under the same key is not sent twice");
      sent++;
    }
    assert.equal(sent, contexts.length, "every example user gets the birthday push");
    // The key is the decisionId's hex digits in UUID v4 layout.
    assert.equal(retryKeyFor("0123456789abcdef0123456789abcdef"), "01234567-89ab-4def-8123-456789abcdef");
    // No unit on a variant without one; nothing for a decision without messages.
    const plain = pushRequest({ userId: `U${"a".repeat(32)}`, decisionId: "f".repeat(32), content: { id: "c", variant: "v" }, messages: [{ type: "text", text: "x" }] });
    assert.equal("customAggregationUnits" in plain.body, false);
    assert.equal(pushRequest({ userId: "U1", decisionId: "0".repeat(32), errors: [{ code: "limit_exceeded", message: "…", path: "" }] }), null);
    assert.throws(() => pushRequest(42), TypeError);
  } finally {
    await line.close();
  }
});
