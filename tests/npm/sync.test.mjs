// The sync client (pkg/sync.js) against a real HTTP backend on 127.0.0.1: delivery, retries
// with backoff, dead letters, timeouts, batching, idempotency, and the storage adapters.
// Backoff waits go through an injected `sleep` that advances an injected clock: no real
// waiting and no timed assertions (only the timeout tests wait, for a 100 ms request timeout).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { readFileSync, existsSync, mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from "node:fs";
import { execFileSync, spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  SyncClient, SyncError, MemoryStore, LocalStorageStore, KvStore, DurableObjectStore, IndexedDbStore,
  batchIdFor, parseRetryAfter, OUTBOX_PREFIX, QUEUE_PREFIX, DEAD_PREFIX,
} from "../../pkg/sync.js";
import * as syncModule from "../../pkg/sync.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkgDir = join(root, "pkg");
const syncSchema = JSON.parse(readFileSync(join(root, "schema/sync.schema.json"), "utf8"));

// ---- fixtures -----------------------------------------------------------------------------

/** A decision shaped like schema/decision.schema.json. */
function decision(n, extra = {}) {
  return {
    version: 1,
    decisionId: createHash("sha256").update(`decision-${n}`).digest("hex").slice(0, 32),
    configHash: "c0ffee".padEnd(32, "0"),
    userId: `U${String(n).padStart(32, "0")}`,
    now: "2025-04-01T09:00:00+09:00",
    segments: ["first_time", "lotion_refill_due"],
    ...extra,
  };
}
const decisions = (from, to) => Array.from({ length: to - from }, (_, i) => decision(from + i));

/** The store key of a decision's outbox record (`kizuna:queue:<stamp>:<decisionId>`), if any. */
async function outboxKey(store, decisionId) {
  return (await store.list(QUEUE_PREFIX)).find((k) => k.endsWith(`:${decisionId}`));
}
const outboxRecord = async (store, decisionId) => store.get(await outboxKey(store, decisionId));

/**
 * A mock backend that stores decisions by decisionId and counts receipts. `script` holds the
 * answers to the next requests in order ({status, headers, body} or "hang"); after that: 200.
 * `judge(body)`, when set, answers first (a step, or undefined to fall through to the script).
 * Accepted (2xx) batches are stored; others only logged.
 */
async function startBackend({ port = 0 } = {}) {
  const backend = {
    requests: [], // {headers, raw, body, status}
    received: new Map(), // decisionId -> count of 2xx receipts
    script: [],
    hung: [],
    port: 0,
    url: "",
    count(id) { return this.received.get(id) ?? 0; },
    accepted() { return this.requests.filter((r) => r.status >= 200 && r.status < 300); },
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const body = JSON.parse(raw.toString("utf8"));
      const step = backend.judge?.(body) ?? backend.script.shift() ?? { status: 200 };
      const entry = { method: req.method, headers: req.headers, raw, body, status: step === "hang" ? null : step.status };
      backend.requests.push(entry);
      if (step === "hang") { backend.hung.push(res); return; } // never answers
      if (step.status >= 200 && step.status < 300) {
        for (const d of entry.body.decisions) backend.received.set(d.decisionId, backend.count(d.decisionId) + 1);
      }
      res.writeHead(step.status, { "content-type": "text/plain", ...step.headers });
      res.end(step.body ?? (step.status < 300 ? "" : `error ${step.status}`));
    });
  });
  await new Promise((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
  backend.port = server.address().port;
  backend.url = `http://127.0.0.1:${backend.port}/decisions`;
  backend.close = () => new Promise((resolve) => {
    for (const res of backend.hung) res.destroy();
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
  return backend;
}

/** Runs `fn(backend)` with a fresh mock backend, closed afterwards. */
async function withBackend(fn) {
  const backend = await startBackend();
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

/** An injected clock and sleep: sleeping advances the clock, and every wait is recorded. */
const T0 = Date.UTC(2025, 3, 1, 0, 0, 0);
function fakeTime(start = T0) {
  const time = {
    t: start,
    sleeps: [],
    now: () => time.t,
    sleep: async (ms) => { time.sleeps.push(ms); time.t += ms; },
  };
  return time;
}

/** A client with deterministic time and randomness; `errors` collects onError reports. */
function makeClient(backend, store, options = {}) {
  const time = options.time ?? fakeTime();
  const errors = [];
  const client = new SyncClient({
    endpoint: backend.url,
    store,
    source: { runtime: "node", app: "sync-test" },
    random: () => 0.5,
    now: time.now,
    sleep: time.sleep,
    onError: (e) => { errors.push(e); },
    ...options.client,
  });
  return { client, time, errors };
}

// A small JSON Schema checker for the subset the contract's schemas use: type, required,
// properties, additionalProperties, items, $ref into $defs, oneOf/const, minimum.
function validate(schema, value, root = schema, path = "") {
  if (schema === true) return [];
  if (schema.$ref) return validate(root.$defs[schema.$ref.replace("#/$defs/", "")], value, root, path);
  if (schema.oneOf) {
    const ok = schema.oneOf.filter((s) => validate(s, value, root, path).length === 0).length === 1;
    return ok ? [] : [`${path}: matches not exactly one of oneOf`];
  }
  const errors = [];
  if ("const" in schema && value !== schema.const) errors.push(`${path}: not ${JSON.stringify(schema.const)}`);
  if (schema.type) {
    const types = [].concat(schema.type);
    const actual = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
    const ok = types.some((t) => t === actual || (t === "integer" && Number.isInteger(value)) || (t === "number" && actual === "number"));
    if (!ok) return [`${path}: expected ${types.join("|")}, got ${actual}`];
  }
  if (typeof value === "number" && schema.minimum !== undefined && value < schema.minimum) errors.push(`${path}: below minimum`);
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const k of schema.required ?? []) if (!(k in value)) errors.push(`${path}/${k}: required`);
    for (const [k, v] of Object.entries(value)) {
      const sub = schema.properties?.[k] ?? schema.additionalProperties;
      if (sub !== undefined && sub !== false) errors.push(...validate(sub, v, root, `${path}/${k}`));
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => errors.push(...validate(schema.items, v, root, `${path}/${i}`)));
  return errors;
}

const sha256 = (s) => createHash("sha256").update(s, "utf8").digest("hex");

// ---- delivery ----------------------------------------------------------------------------

describe("delivery", () => {
  test("delivers a batch whose body validates against the sync envelope schema", () => withBackend(async (backend) => {
    const store = new MemoryStore();
    const { client, errors } = makeClient(backend, store);
    const ds = decisions(0, 3);
    assert.deepEqual(await client.enqueue(ds), { enqueued: 3, duplicates: 0 });
    assert.equal(await client.pending(), 3);

    const result = await client.flush();
    assert.deepEqual(result, { sent: 3, retried: 0, deadLettered: 0, pending: 0 });
    assert.equal(await client.pending(), 0);
    assert.deepEqual(errors, []);

    assert.equal(backend.requests.length, 1);
    const req = backend.requests[0];
    assert.equal(req.method, "POST");
    assert.match(req.headers["content-type"], /^application\/json/);
    const body = req.body;
    // The schema's required fields and types, then the values the contract fixes.
    assert.deepEqual(syncSchema.required, ["version", "type", "batchId", "sentAt", "source", "decisions"]);
    assert.deepEqual(validate(syncSchema, body), []);
    assert.equal(body.version, 1);
    assert.equal(body.type, "kizuna.decisions");
    assert.deepEqual(body.source, { runtime: "node", app: "sync-test" });
    assert.equal(body.sentAt, new Date(Date.UTC(2025, 3, 1)).toISOString());
    assert.deepEqual(body.decisions, ds, "all decisions, oldest first, unchanged");
    // Idempotency-Key = batchId = SHA-256 of the sorted decisionIds joined by "\n", then sentAt.
    const ids = ds.map((d) => d.decisionId);
    assert.equal(req.headers["idempotency-key"], body.batchId);
    assert.equal(body.batchId, sha256([...ids].sort().join("\n") + "\n" + body.sentAt));
    assert.equal(body.batchId, batchIdFor([...ids].reverse(), body.sentAt), "independent of order");
    for (const id of ids) assert.equal(backend.count(id), 1);

    // Nothing left: a second flush sends nothing.
    assert.deepEqual(await client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: 0 });
    assert.equal(backend.requests.length, 1);
  }));

  test("the source defaults to the detected runtime; headers and getHeaders are sent", () => withBackend(async (backend) => {
    let n = 0;
    const client = new SyncClient({
      endpoint: new URL(backend.url),
      store: new MemoryStore(),
      headers: { authorization: "Bearer static", "x-static": "1" },
      getHeaders: async () => ({ authorization: `Bearer fresh-${++n}` }),
      random: () => 0,
    });
    await client.enqueue(decision(1));
    await client.flush();
    const req = backend.requests[0];
    assert.deepEqual(req.body.source, { runtime: "node" });
    assert.equal(req.headers.authorization, "Bearer fresh-1");
    assert.equal(req.headers["x-static"], "1");
    assert.deepEqual(validate(syncSchema, req.body), []);
  }));

  test("enqueue keeps a copy: later changes to the caller's object are not sent", () => withBackend(async (backend) => {
    const { client } = makeClient(backend, new MemoryStore());
    const d = decision(1);
    await client.enqueue(d);
    d.segments.push("mutated");
    await client.flush();
    assert.deepEqual(backend.requests[0].body.decisions[0].segments, ["first_time", "lotion_refill_due"]);
  }));

  test("the same decisionId enqueued twice (or repeated in one call) is sent once", () => withBackend(async (backend) => {
    const { client } = makeClient(backend, new MemoryStore());
    const d = decision(7);
    assert.deepEqual(await client.enqueue(d), { enqueued: 1, duplicates: 0 });
    assert.deepEqual(await client.enqueue(d), { enqueued: 0, duplicates: 1 });
    assert.deepEqual(await client.enqueue([d, decision(8), decision(8)]), { enqueued: 1, duplicates: 2 });
    assert.equal(await client.pending(), 2);
    assert.deepEqual(await client.flush(), { sent: 2, retried: 0, deadLettered: 0, pending: 0 });
    assert.equal(backend.requests.length, 1);
    assert.deepEqual(backend.requests[0].body.decisions.map((x) => x.decisionId), [d.decisionId, decision(8).decisionId]);
    assert.equal(backend.count(d.decisionId), 1);
  }));

  for (const outcome of ["delivered", "retried, then delivered", "dead-lettered"]) {
    test(`one decisionId enqueued by two tabs at once (two records): ${outcome} once, and every record of it settled with it; pending is not 0 while one is left`, () => withBackend(async (backend) => {
      const store = new MemoryStore();
      const time = fakeTime();
      // Two clients (tabs) enqueue the same decision at the same time, a millisecond apart:
      // both find no index entry, each writes its record.
      const tab = (at) => makeClient(backend, store, { time: { ...fakeTime(at), sleep: time.sleep }, client: { maxFlushMs: 0 } }).client;
      const d = decision(42);
      await Promise.all([tab(T0).enqueue([decision(41), d]), tab(T0 + 1).enqueue([d, decision(43)])]);
      assert.equal((await store.list(QUEUE_PREFIX)).filter((k) => k.endsWith(d.decisionId)).length, 2);
      const { client } = makeClient(backend, store, { time, client: { maxFlushMs: 0 } });
      if (outcome === "retried, then delivered") {
        backend.script.push({ status: 503 });
        assert.deepEqual(await client.flush(), { sent: 0, retried: 3, deadLettered: 0, pending: 4, nextAttemptAt: T0 + 250 });
        time.t += 250;
      }
      if (outcome === "dead-lettered") backend.script.push({ status: 403 });
      const r = await client.flush();
      assert.deepEqual(r, outcome === "dead-lettered"
        ? { sent: 0, retried: 0, deadLettered: 3, pending: 0 }
        : { sent: 3, retried: 0, deadLettered: 0, pending: 0 });
      assert.deepEqual(await store.list(QUEUE_PREFIX), [], "no record of the decision left");
      assert.deepEqual(await store.list("kizuna:queued:"), []);
      assert.equal(await client.pending(), 0);
      assert.deepEqual(await client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: 0 });
      const sent = backend.requests.flatMap((q) => q.body.decisions.map((x) => x.decisionId));
      assert.equal(sent.filter((id) => id === d.decisionId).length, outcome === "retried, then delivered" ? 2 : 1, "one record per request");
      assert.equal(backend.requests.length, outcome === "retried, then delivered" ? 2 : 1);
    }));
  }

  test("concurrent flush() calls share one flush: no double send", () => withBackend(async (backend) => {
    const { client } = makeClient(backend, new MemoryStore());
    await client.enqueue(decisions(0, 5));
    const [a, b] = await Promise.all([client.flush(), client.flush()]);
    assert.deepEqual(a, { sent: 5, retried: 0, deadLettered: 0, pending: 0 });
    assert.deepEqual(b, a);
    assert.equal(backend.requests.length, 1);
    for (const d of decisions(0, 5)) assert.equal(backend.count(d.decisionId), 1);
  }));

  test("decisions enqueued while a flush runs go out in the same flush", () => withBackend(async (backend) => {
    const { client } = makeClient(backend, new MemoryStore(), { client: { batchSize: 2 } });
    await client.enqueue(decisions(0, 2));
    const flushing = client.flush();
    await client.enqueue(decision(2));
    const result = await flushing;
    assert.equal(result.sent, 3);
    assert.equal(result.pending, 0);
  }));

  test("flushInBackground hands the flush to ctx.waitUntil", () => withBackend(async (backend) => {
    const { client } = makeClient(backend, new MemoryStore());
    await client.enqueue(decision(1));
    const waited = [];
    const p = client.flushInBackground({ waitUntil: (promise) => waited.push(promise) });
    assert.equal(waited.length, 1);
    assert.equal(waited[0], p);
    assert.equal((await p).sent, 1);
    assert.throws(() => client.flushInBackground({}), TypeError);
  }));
});

// ---- batching ----------------------------------------------------------------------------

describe("batching", () => {
  test("splits by batchSize, oldest first", () => withBackend(async (backend) => {
    const { client } = makeClient(backend, new MemoryStore(), { client: { batchSize: 3 } });
    const ds = decisions(0, 7);
    for (const d of ds) await client.enqueue(d); // separate calls: order by enqueue time
    assert.deepEqual(await client.flush(), { sent: 7, retried: 0, deadLettered: 0, pending: 0 });
    assert.deepEqual(backend.requests.map((r) => r.body.decisions.length), [3, 3, 1]);
    assert.deepEqual(backend.requests.flatMap((r) => r.body.decisions.map((d) => d.decisionId)), ds.map((d) => d.decisionId));
    assert.equal(new Set(backend.requests.map((r) => r.body.batchId)).size, 3);
    for (const r of backend.requests) assert.equal(r.headers["idempotency-key"], batchIdFor(r.body.decisions.map((d) => d.decisionId), r.body.sentAt));
  }));

  test("splits by maxBatchBytes, counting UTF-8 bytes of the whole body", () => withBackend(async (backend) => {
    // Multi-byte text (Japanese, an emoji) so characters and bytes differ.
    const ds = Array.from({ length: 5 }, (_, i) => decision(i, { userId: `ユーザー${i}🎌`.repeat(40) }));
    // Measure a one-decision body, then allow exactly two decisions per body.
    const probe = await startBackend();
    const { client: p } = makeClient(probe, new MemoryStore());
    await p.enqueue(ds[0]);
    await p.flush();
    const one = probe.requests[0].raw.length;
    await probe.close();
    const perDecision = Buffer.byteLength(JSON.stringify(ds[0]));
    const limit = one + 1 + perDecision; // envelope + d + "," + d

    const { client } = makeClient(backend, new MemoryStore(), { client: { maxBatchBytes: limit } });
    await client.enqueue(ds);
    assert.deepEqual(await client.flush(), { sent: 5, retried: 0, deadLettered: 0, pending: 0 });
    assert.deepEqual(backend.requests.map((r) => r.body.decisions.length), [2, 2, 1]);
    assert.equal(backend.requests[0].raw.length, limit, "a body may be exactly maxBatchBytes");
    for (const r of backend.requests) assert.ok(r.raw.length <= limit);

    // One byte less and only one decision fits per body.
    const backend2 = await startBackend();
    try {
      const { client: c2 } = makeClient(backend2, new MemoryStore(), { client: { maxBatchBytes: limit - 1 } });
      await c2.enqueue(ds);
      await c2.flush();
      assert.deepEqual(backend2.requests.map((r) => r.body.decisions.length), [1, 1, 1, 1, 1]);
    } finally {
      await backend2.close();
    }
  }));

  test("a decision larger than maxBatchBytes on its own is dead-lettered, not sent", () => withBackend(async (backend) => {
    const { client, errors } = makeClient(backend, new MemoryStore(), { client: { maxBatchBytes: 2000 } });
    const big = decision(1, { userId: "x".repeat(5000) });
    await client.enqueue([big, decision(2)]);
    assert.deepEqual(await client.flush(), { sent: 1, retried: 0, deadLettered: 1, pending: 0 });
    assert.equal(backend.requests.length, 1);
    assert.equal(backend.count(big.decisionId), 0);
    const dead = await client.deadLetters();
    assert.equal(dead.length, 1);
    assert.equal(dead[0].kind, "too_large");
    assert.deepEqual(dead[0].decision, big);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].kind, "too_large");
    assert.equal(errors[0].outcome, "dead");
  }));
});

// ---- retries -----------------------------------------------------------------------------

describe("retries", () => {
  test("500, 500, 200: delivered once; backoff follows random() * min(maxDelay, base * 2^n); same Idempotency-Key and body", () => withBackend(async (backend) => {
    backend.script.push({ status: 500 }, { status: 500 });
    const randoms = [0.25, 0.75];
    const { client, time, errors } = makeClient(backend, new MemoryStore(), {
      client: { random: () => randoms.shift(), baseDelayMs: 400, maxDelayMs: 60_000 },
    });
    await client.enqueue(decisions(0, 2));
    assert.deepEqual(await client.flush(), { sent: 2, retried: 4, deadLettered: 0, pending: 0 });
    assert.deepEqual(time.sleeps, [0.25 * 400, 0.75 * 800]);
    assert.equal(backend.requests.length, 3);
    const keys = backend.requests.map((r) => r.headers["idempotency-key"]);
    assert.equal(new Set(keys).size, 1, "same Idempotency-Key on every retry");
    assert.equal(new Set(backend.requests.map((r) => r.raw.toString())).size, 1, "byte-identical bodies (sentAt kept)");
    for (const d of decisions(0, 2)) assert.equal(backend.count(d.decisionId), 1);
    assert.deepEqual(errors.map((e) => [e.kind, e.status, e.outcome, e.attempt]), [["http", 500, "retry", 1], ["http", 500, "retry", 2]]);
    assert.ok(errors.every((e) => e instanceof SyncError && e.batchId === keys[0] && e.body === "error 500"));
  }));

  test("a 2xx that is a web page (a BACKEND_URL that is a site, a proxy's login page) is not delivery: kept, retried like a 5xx, reported with status and content type but never the body", () => withBackend(async (backend) => {
    const page = "<!doctype html><title>Sign in</title><p>鈴木 一郎様</p>";
    backend.script.push(
      { status: 200, body: page, headers: { "content-type": "text/html; charset=utf-8" } },
      { status: 201, body: `\n  <html lang="ja">${page}</html>`, headers: { "content-type": "text/plain" } }, // a page under another type
    );
    const { client, time, errors } = makeClient(backend, new MemoryStore(), { client: { baseDelayMs: 400 } });
    await client.enqueue(decision(1));
    assert.deepEqual(await client.flush(), { sent: 1, retried: 2, deadLettered: 0, pending: 0 });
    assert.deepEqual(time.sleeps, [0.5 * 400, 0.5 * 800], "the backoff of a 5xx");
    assert.equal(backend.requests.length, 3);
    assert.equal(new Set(backend.requests.map((r) => r.headers["idempotency-key"])).size, 1, "the same batch each time");
    assert.deepEqual(errors.map((e) => [e.kind, e.status, e.outcome, e.attempt, e.body]), [["http", 200, "retry", 1, undefined], ["http", 201, "retry", 2, undefined]]);
    assert.match(errors[0].message, /^kizuna sync: HTTP 200 with content-type text\/html and a web page for a body: not taken as delivered \(is the endpoint the backend's URL\?/);
    assert.match(errors[1].message, /HTTP 201 with content-type text\/plain and a web page for a body: .*; retry 3 in 400 ms$/);
    for (const e of errors) assert.ok(!e.message.includes("鈴木") && !e.message.includes("Sign in"), e.message);

    // With maxAttempts, it ends as a dead letter whose error is the message, not the page.
    backend.script.push({ status: 200, body: page, headers: { "content-type": "text/html" } });
    const once = makeClient(backend, new MemoryStore(), { client: { maxAttempts: 1 } });
    await once.client.enqueue(decision(2));
    assert.deepEqual(await once.client.flush(), { sent: 0, retried: 0, deadLettered: 1, pending: 0 });
    const [dead] = await once.client.deadLetters();
    assert.equal(dead.status, 200);
    assert.match(dead.error, /^HTTP 200 with content-type text\/html and a web page for a body: .*gave up after 1 attempts$/);
  }));

  // A backend that stored the batch and says so in any words has delivered it: re-posting it
  // (maxAttempts is unbounded by default) would never end. Express's res.sendStatus(200) answers
  // "OK" in text/plain, a Worker's new Response("ok") too.
  test("a 2xx is delivery whatever its body but a web page: empty (204), whitespace, JSON under any type, plain text, XML", () => withBackend(async (backend) => {
    const answers = [
      { status: 204 },
      { status: 200 },
      { status: 200, body: " \r\n" },
      { status: 202, body: '{"stored": 1, "duplicates": 0}', headers: { "content-type": "text/plain;charset=UTF-8" } }, // new Response(JSON.stringify(x))
      { status: 200, body: "null", headers: { "content-type": "text/html" } },
      { status: 200, body: '"ok"' },
      { status: 200, body: "OK", headers: { "content-type": "text/plain; charset=utf-8" } }, // Express sendStatus(200)
      { status: 200, body: "ok" },
      { status: 201, body: '{"stored": 1', headers: { "content-type": "application/json" } }, // not JSON, but the backend's answer
      { status: 200, body: "<ok/>", headers: { "content-type": "application/xml" } },
    ];
    for (const [i, answer] of answers.entries()) {
      backend.script.push(answer);
      const { client, errors } = makeClient(backend, new MemoryStore());
      await client.enqueue(decision(i));
      assert.deepEqual(await client.flush(), { sent: 1, retried: 0, deadLettered: 0, pending: 0 }, JSON.stringify(answer));
      assert.deepEqual(errors, []);
    }
    assert.equal(backend.requests.length, answers.length);
  }));

  test("a 2xx whose body cannot be read (the connection drops, the body does not arrive in timeoutMs) is kept and retried, not taken as delivered", async () => {
    let sends = 0;
    const answers = [
      () => ({ status: 200, headers: new Headers(), text: async () => { throw new TypeError("terminated"); } }),
      () => ({ status: 200, headers: new Headers(), text: () => new Promise(() => {}) }),
      () => new Response(null, { status: 204 }),
    ];
    const { client, errors } = makeClient(nowhere, new MemoryStore(), { client: { timeoutMs: 50, fetch: async () => answers[sends++]() } });
    await client.enqueue(decision(1));
    assert.deepEqual(await client.flush(), { sent: 1, retried: 2, deadLettered: 0, pending: 0 });
    assert.deepEqual(errors.map((e) => [e.kind, e.outcome]), [["network", "retry"], ["timeout", "retry"]]);
    assert.match(errors[0].message, /HTTP 200 but its body could not be read \(terminated\): not taken as delivered/);
    assert.match(errors[1].message, /HTTP 200 but its body did not arrive within 50 ms: not taken as delivered/);
  });

  test("backoff is capped by maxDelayMs", () => withBackend(async (backend) => {
    for (let i = 0; i < 6; i++) backend.script.push({ status: 503 });
    const { client, time } = makeClient(backend, new MemoryStore(), {
      client: { random: () => 0.5, baseDelayMs: 100, maxDelayMs: 1000, maxFlushMs: 60_000 },
    });
    await client.enqueue(decision(1));
    const result = await client.flush();
    assert.equal(result.sent, 1);
    assert.equal(result.retried, 6);
    assert.deepEqual(time.sleeps, [50, 100, 200, 400, 500, 500]);
  }));

  test("429 honours Retry-After in seconds and as an HTTP-date; 408 is retried", () => withBackend(async (backend) => {
    const time = fakeTime(Date.UTC(2025, 3, 1, 0, 0, 0));
    backend.script.push(
      { status: 429, headers: { "retry-after": "7" } },
      { status: 429, headers: { "retry-after": new Date(time.t + 7000 + 5000).toUTCString() } },
      { status: 408 },
    );
    const { client, errors } = makeClient(backend, new MemoryStore(), { time, client: { random: () => 0.5 } });
    await client.enqueue(decision(1));
    assert.deepEqual(await client.flush(), { sent: 1, retried: 3, deadLettered: 0, pending: 0 });
    // Retry-After exactly (no jitter), then the backoff formula for the 408 (third attempt: 0.5 * 500 * 2^2).
    assert.deepEqual(time.sleeps, [7000, 5000, 1000]);
    assert.deepEqual(errors.map((e) => e.status), [429, 429, 408]);
    assert.equal(backend.count(decision(1).decisionId), 1);
  }));

  test("Retry-After 0, a past date or an unreadable value never waits less than the backoff (no request flood)", async () => {
    const past = new Date(T0 - 60_000).toUTCString();
    for (const retryAfter of [undefined, "0", past, "-5", "5, 10", "abc 1", "1.5", "Sun, 31 Feb 2025 00:00:00 GMT"]) {
      const backend = await startBackend();
      try {
        backend.judge = () => ({ status: 503, headers: retryAfter === undefined ? {} : { "retry-after": retryAfter } });
        const { client, time } = makeClient(backend, new MemoryStore(), { client: { maxFlushMs: 2000 } });
        await client.enqueue(decision(1));
        const result = await client.flush();
        // 0.5 * 500 * 2^n: waits 250, 500, 1000; the next (2000) falls outside maxFlushMs.
        assert.deepEqual(time.sleeps, [250, 500, 1000], `Retry-After: ${retryAfter}`);
        assert.equal(backend.requests.length, 4, `Retry-After: ${retryAfter}`);
        assert.deepEqual(result, { sent: 0, retried: 4, deadLettered: 0, pending: 1, nextAttemptAt: T0 + 1750 + 2000 });
      } finally {
        await backend.close();
      }
    }
  });

  test("a Retry-After shorter than the backoff waits for the backoff", () => withBackend(async (backend) => {
    backend.script.push({ status: 503 }, { status: 503 }, { status: 429, headers: { "retry-after": "1" } });
    const { client, time } = makeClient(backend, new MemoryStore(), { client: { random: () => 1, baseDelayMs: 1000 } });
    await client.enqueue(decision(1));
    assert.equal((await client.flush()).sent, 1);
    assert.deepEqual(time.sleeps, [1000, 2000, 4000], "the third wait is the backoff (4 s), not Retry-After (1 s)");
  }));

  test("Retry-After is capped by maxRetryAfterMs (default 1 hour)", () => withBackend(async (backend) => {
    backend.script.push({ status: 429, headers: { "retry-after": "99999999" } }, { status: 503, headers: { "retry-after": "99999999" } });
    const { client, time } = makeClient(backend, new MemoryStore(), { client: { maxFlushMs: 0 } });
    await client.enqueue(decision(1));
    assert.deepEqual(await client.flush(), { sent: 0, retried: 1, deadLettered: 0, pending: 1, nextAttemptAt: T0 + 3_600_000 });
    time.t = T0 + 3_600_000;
    const capped = makeClient(backend, new MemoryStore(), { time, client: { maxRetryAfterMs: 10_000, maxFlushMs: 60_000 } });
    await capped.client.enqueue(decision(2));
    assert.equal((await capped.client.flush()).sent, 1);
    assert.deepEqual(capped.time.sleeps, [10_000]);
    assert.equal(backend.requests.length, 3);
  }));

  test("a stored retry time beyond maxRetryAfterMs (an older version, a larger cap) is cut to it by a new instance", () => withBackend(async (backend) => {
    const store = new MemoryStore();
    const time = fakeTime();
    const old = decision(1);
    await store.put(OUTBOX_PREFIX + old.decisionId, {
      v: 1, decision: old, enqueuedAt: T0 - 1000, seq: 0, attempts: 1,
      lastAttemptAt: T0, nextAttemptAt: T0 + 99_999_999_000, lastError: { kind: "http", status: 503 },
    });
    const { client } = makeClient(backend, store, { time, client: { maxFlushMs: 0 } });
    await client.enqueue(decision(2));
    assert.deepEqual(await client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: 2, nextAttemptAt: T0 + 3_600_000 });
    assert.equal((await store.get(OUTBOX_PREFIX + old.decisionId)).nextAttemptAt, T0 + 3_600_000, "the correction is stored");
    const small = makeClient(backend, store, { time, client: { maxFlushMs: 0, maxRetryAfterMs: 5000, maxDelayMs: 1000 } });
    assert.deepEqual(await small.client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: 2, nextAttemptAt: T0 + 5000 });
    time.t = T0 + 5000;
    assert.deepEqual(await small.client.flush(), { sent: 2, retried: 0, deadLettered: 0, pending: 0 });
    assert.equal(backend.requests.length, 1);
  }));

  test("the backoff stays a number after very many attempts, also with baseDelayMs 0", async () => {
    for (const baseDelayMs of [0, 500]) {
      const backend = await startBackend();
      try {
        backend.script.push({ status: 503 });
        const store = new MemoryStore();
        const d = decision(1);
        await store.put(OUTBOX_PREFIX + d.decisionId, { v: 1, decision: d, enqueuedAt: T0 - 1, seq: 0, attempts: 5000, nextAttemptAt: 0 });
        const { client, errors } = makeClient(backend, store, { client: { baseDelayMs, maxDelayMs: 1000, maxFlushMs: 0 } });
        const result = await client.flush();
        assert.deepEqual(result, { sent: 0, retried: 1, deadLettered: 0, pending: 1, nextAttemptAt: T0 + (baseDelayMs ? 500 : 0) });
        assert.equal(errors[0].retryAt, result.nextAttemptAt);
        const later = makeClient(backend, store, { time: { now: () => T0 + 500, sleep: async () => {} }, client: { baseDelayMs, maxFlushMs: 0 } });
        assert.equal((await later.client.flush()).sent, 1);
      } finally {
        await backend.close();
      }
    }
  });

  test("a retry later than maxFlushMs is left for a later flush, and the next flush waits for it", () => withBackend(async (backend) => {
    backend.script.push({ status: 429, headers: { "retry-after": "120" } });
    const { client, time } = makeClient(backend, new MemoryStore(), { client: { maxFlushMs: 20_000 } });
    await client.enqueue(decision(1));
    assert.deepEqual(await client.flush(), { sent: 0, retried: 1, deadLettered: 0, pending: 1, nextAttemptAt: T0 + 120_000 });
    assert.deepEqual(time.sleeps, []);
    time.t += 60_000;
    assert.deepEqual(await client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: 1, nextAttemptAt: T0 + 120_000 }, "not due yet");
    assert.equal(backend.requests.length, 1);
    time.t += 60_000;
    assert.deepEqual(await client.flush(), { sent: 1, retried: 0, deadLettered: 0, pending: 0 });
  }));

  test("maxAttempts moves a batch that keeps failing to the dead letters", () => withBackend(async (backend) => {
    for (let i = 0; i < 5; i++) backend.script.push({ status: 500 });
    const { client, errors } = makeClient(backend, new MemoryStore(), { client: { maxAttempts: 3 } });
    await client.enqueue(decision(1));
    assert.deepEqual(await client.flush(), { sent: 0, retried: 2, deadLettered: 1, pending: 0 });
    assert.equal(backend.requests.length, 3);
    assert.equal(errors.at(-1).outcome, "dead");
    assert.equal((await client.deadLetters())[0].status, 500);
  }));

  test("attempts are counted per decision: a fresh decision batched with an old failing one is not dead-lettered with it", () => withBackend(async (backend) => {
    backend.script.push({ status: 503 });
    const store = new MemoryStore();
    const old = decision(1);
    // Failed twice before, in a batch that no longer exists (stale batchId).
    await store.put(OUTBOX_PREFIX + old.decisionId, {
      v: 1, decision: old, enqueuedAt: T0 - 1000, seq: 0, attempts: 2, nextAttemptAt: 0, lastAttemptAt: T0 - 1000, batchId: "0".repeat(64),
    });
    const { client, errors } = makeClient(backend, store, { client: { maxAttempts: 3, maxFlushMs: 0 } });
    await client.enqueue(decision(2));
    const result = await client.flush();
    assert.deepEqual(backend.requests.map((r) => r.body.decisions.length), [2], "sent together");
    assert.deepEqual(result, { sent: 0, retried: 1, deadLettered: 1, pending: 1, nextAttemptAt: T0 + 1000 }); // backoff of attempt 3: 0.5 * 500 * 4
    assert.deepEqual((await client.deadLetters()).map((d) => [d.decisionId, d.attempts]), [[old.decisionId, 3]]);
    assert.equal((await outboxRecord(store, decision(2).decisionId)).attempts, 1, "the fresh decision used one attempt");
    assert.deepEqual(errors.map((e) => [e.outcome, e.decisionIds]), [["dead", [old.decisionId]], ["retry", [decision(2).decisionId]]]);
    assert.match(errors[0].message, /gave up after 3 attempts/);
  }));

  test("a failed partial batch is retried as the same batch, ahead of decisions enqueued later", () => withBackend(async (backend) => {
    backend.script.push({ status: 502 });
    const { client } = makeClient(backend, new MemoryStore(), { client: { maxFlushMs: 0 } });
    await client.enqueue(decision(1));
    await client.flush();
    const firstKey = backend.requests[0].headers["idempotency-key"];
    await client.enqueue([decision(2), decision(3)]);
    const result = await client.flush({ maxFlushMs: 60_000 });
    assert.equal(result.sent, 3);
    assert.deepEqual(backend.requests.map((r) => r.body.decisions.length), [1, 1, 2]);
    assert.equal(backend.requests[1].headers["idempotency-key"], firstKey);
    assert.equal(backend.requests[1].raw.toString(), backend.requests[0].raw.toString());
  }));

  test("after a retryable failure the next batch waits for the backoff too", () => withBackend(async (backend) => {
    backend.script.push({ status: 503 });
    const { client, time } = makeClient(backend, new MemoryStore(), { client: { batchSize: 1, maxFlushMs: 0 } });
    await client.enqueue(decisions(0, 3));
    assert.deepEqual(await client.flush(), { sent: 0, retried: 1, deadLettered: 0, pending: 3, nextAttemptAt: T0 + 250 });
    assert.equal(backend.requests.length, 1, "no request to a backend that just failed");
    time.t += 250; // 0.5 * 500
    assert.deepEqual(await client.flush(), { sent: 3, retried: 0, deadLettered: 0, pending: 0 });
    assert.deepEqual(backend.requests.slice(1).map((r) => r.body.decisions[0].decisionId), decisions(0, 3).map((d) => d.decisionId));
  }));

  test("flush() tells when the outbox may be sent next (nextAttemptAt: backoff or Retry-After), and only while something is pending", () => withBackend(async (backend) => {
    backend.script.push({ status: 503 }, { status: 429, headers: { "retry-after": "7" } });
    const { client, time } = makeClient(backend, new MemoryStore(), { client: { maxFlushMs: 0 } });
    assert.deepEqual(await client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: 0 });
    await client.enqueue(decision(1));
    assert.deepEqual(await client.flush(), { sent: 0, retried: 1, deadLettered: 0, pending: 1, nextAttemptAt: T0 + 250 }); // 0.5 * 500
    time.t += 100;
    await client.enqueue(decision(2)); // due at once, but the backend is backing off: it waits too
    assert.deepEqual(await client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: 2, nextAttemptAt: T0 + 250 });
    assert.equal(backend.requests.length, 1);
    time.t = T0 + 250;
    assert.deepEqual(await client.flush(), { sent: 0, retried: 1, deadLettered: 0, pending: 2, nextAttemptAt: T0 + 7250 }); // Retry-After: 7
    time.t = T0 + 7249;
    assert.deepEqual(await client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: 2, nextAttemptAt: T0 + 7250 });
    assert.equal(backend.requests.length, 2, "nothing is sent before nextAttemptAt");
    time.t = T0 + 7250;
    assert.deepEqual(await client.flush(), { sent: 2, retried: 0, deadLettered: 0, pending: 0 });
  }));
});

// ---- dead letters ------------------------------------------------------------------------

describe("dead letters", () => {
  for (const status of [400, 401, 422]) {
    // 400 and 422 refuse content: the batch is split until each refused decision is alone.
    // 401 concerns the credentials: the whole batch is dead-lettered at once.
    const splits = status !== 401;
    test(`${status} is dead-lettered, not retried${splits ? " (split to single decisions)" : " (whole batch)"}; onError gets status and body; requeue works`, () => withBackend(async (backend) => {
      for (let i = 0; i < (splits ? 3 : 1); i++) backend.script.push({ status, body: `{"error":"rejected with ${status}"}` });
      const store = new MemoryStore();
      const { client, errors, time } = makeClient(backend, store);
      const ds = decisions(0, 2);
      await client.enqueue(ds);
      assert.deepEqual(await client.flush(), { sent: 0, retried: 0, deadLettered: 2, pending: 0 });
      assert.equal(backend.requests.length, splits ? 3 : 1, "not retried");
      if (splits) assert.deepEqual(backend.requests.slice(1).map((r) => r.body.decisions), [[ds[0]], [ds[1]]]);
      assert.deepEqual(time.sleeps, []);
      assert.equal(errors.length, splits ? 2 : 1);
      const e = errors[0];
      assert.ok(e instanceof SyncError);
      assert.equal(e.kind, "http");
      assert.equal(e.outcome, "dead");
      assert.equal(e.status, status);
      assert.equal(e.body, `{"error":"rejected with ${status}"}`);
      assert.deepEqual(errors.map((x) => x.decisionIds), splits ? [[ds[0].decisionId], [ds[1].decisionId]] : [ds.map((d) => d.decisionId)]);

      // Not lost: listed, kept out of the outbox, and not re-enqueued as a second copy.
      const dead = await client.deadLetters();
      assert.deepEqual(dead.map((d) => d.decision), ds);
      assert.ok(dead.every((d) => d.status === status && d.error.includes(String(status)) && d.attempts === 1));
      assert.deepEqual((await store.list(DEAD_PREFIX)).length, 2);
      assert.equal(await client.pending(), 0);
      assert.deepEqual(await client.enqueue(ds[0]), { enqueued: 0, duplicates: 1 });
      assert.deepEqual(await client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: 0 });
      assert.equal(backend.requests.length, splits ? 3 : 1);

      // Requeue (after the backend is fixed): delivered once, dead letters empty.
      assert.deepEqual(await client.requeueDeadLetters(), { requeued: 2, pending: 0 });
      assert.equal(await client.pending(), 2);
      assert.deepEqual(await client.deadLetters(), []);
      assert.deepEqual(await client.flush(), { sent: 2, retried: 0, deadLettered: 0, pending: 0 });
      assert.deepEqual(backend.requests.at(-1).body.decisions, ds, "original order kept");
      for (const d of ds) assert.equal(backend.count(d.decisionId), 1);
    }));
  }

  test("one refused decision in a batch: only it is dead-lettered, the others are delivered once", () => withBackend(async (backend) => {
    const ds = decisions(0, 7);
    const bad = ds[4].decisionId;
    backend.judge = (body) => (body.decisions.some((d) => d.decisionId === bad) ? { status: 422, body: `{"error":"bad ${bad}"}` } : undefined);
    const { client, errors } = makeClient(backend, new MemoryStore());
    await client.enqueue(ds);
    assert.deepEqual(await client.flush(), { sent: 6, retried: 0, deadLettered: 1, pending: 0 });
    // 7 → 4 + 3 → (4 → 2 + 2 → 1 + 1): a handful of requests, not one per decision.
    assert.equal(backend.requests.length, 7);
    for (const d of ds) assert.equal(backend.count(d.decisionId), d.decisionId === bad ? 0 : 1);
    assert.deepEqual((await client.deadLetters()).map((d) => d.decisionId), [bad]);
    assert.deepEqual(errors.map((e) => [e.outcome, e.status, e.decisionIds]), [["dead", 422, [bad]]]);
    // Every request is a well-formed batch whose batchId matches its decisions.
    for (const r of backend.requests) assert.equal(r.body.batchId, batchIdFor(r.body.decisions.map((d) => d.decisionId), r.body.sentAt));
  }));

  test("a 413 splits an oversized batch; a half that then fails with 5xx is retried as its own batch", () => withBackend(async (backend) => {
    backend.script.push({ status: 413 }, { status: 200 }, { status: 503 });
    const { client } = makeClient(backend, new MemoryStore());
    const ds = decisions(0, 4);
    await client.enqueue(ds);
    const r = await client.flush();
    assert.equal(r.deadLettered, 0);
    assert.equal(r.pending, 0);
    assert.deepEqual(backend.requests.slice(1, 3).map((q) => q.body.decisions), [ds.slice(0, 2), ds.slice(2)]);
    // The retry of the second half is the same batch: same batchId as its failed attempt.
    assert.equal(backend.requests[3].body.batchId, backend.requests[2].body.batchId);
    for (const d of ds) assert.equal(backend.count(d.decisionId), 1);
  }));

  test("a 409 (key in progress) is retried as the same batch; a requeued dead letter goes out under a new key", () => withBackend(async (backend) => {
    backend.script.push({ status: 409 }, { status: 200 });
    const { client, time } = makeClient(backend, new MemoryStore());
    const ds = decisions(0, 2);
    await client.enqueue(ds);
    assert.deepEqual(await client.flush(), { sent: 2, retried: 2, deadLettered: 0, pending: 0 });
    const [refused, retried] = backend.requests;
    assert.equal(refused.status, 409);
    assert.equal(retried.headers["idempotency-key"], refused.headers["idempotency-key"]);
    assert.equal(retried.raw.toString(), refused.raw.toString(), "one key, one body");

    // Dead-lettered (401), then requeued later: the same decision in a new request, new key.
    backend.script.push({ status: 401 });
    const x = decision(9);
    await client.enqueue(x);
    assert.equal((await client.flush()).deadLettered, 1);
    const dead = backend.requests.at(-1);
    time.t += 60_000;
    await client.requeueDeadLetters();
    assert.equal((await client.flush()).sent, 1);
    const again = backend.requests.at(-1);
    assert.deepEqual(again.body.decisions, [x]);
    assert.notEqual(again.body.sentAt, dead.body.sentAt);
    assert.notEqual(again.headers["idempotency-key"], dead.headers["idempotency-key"]);
    assert.equal(again.body.batchId, batchIdFor([x.decisionId], again.body.sentAt));
  }));

  test("two requeues of one dead letter at once leave one record of it", () => withBackend(async (backend) => {
    const store = new MemoryStore();
    const { client } = makeClient(backend, store, { client: { maxFlushMs: 0 } });
    const x = decision(0);
    await client.enqueue(x);
    backend.script.push({ status: 401 });
    assert.equal((await client.flush()).deadLettered, 1);
    assert.deepEqual(await Promise.all([client.requeueDeadLetters(), client.requeueDeadLetters([x.decisionId])]),
      [{ requeued: 1, pending: 0 }, { requeued: 0, pending: 0 }]);
    assert.equal((await recordsOf(store, x.decisionId)).length, 1, "one record");
    assert.deepEqual(await client.deadLetters(), []);
    assert.deepEqual(await client.flush(), { sent: 1, retried: 0, deadLettered: 0, pending: 0 });
    assert.deepEqual(await store.list("kizuna:"), []);
  }));

  test("a requeue while this instance's flush dead-letters the decision (its dead letter written, its record not yet removed) does not lose it", () => withBackend(async (backend) => {
    const inner = new MemoryStore();
    const held = heldDeadLetter(inner);
    const { client } = makeClient(backend, held.store, { client: { maxFlushMs: 0 } });
    const x = decision(0);
    await client.enqueue(x);
    backend.script.push({ status: 401 });
    const flushing = client.flush();
    await held.written;
    const requeued = client.requeueDeadLetters();
    await ticks();
    held.release();
    assert.equal((await flushing).deadLettered, 1);
    await requeued;
    assert.equal((await recordsOf(inner, x.decisionId)).length, 1, "in the outbox, once");
    assert.deepEqual(await client.deadLetters(), []);
    assert.deepEqual(await client.flush(), { sent: 1, retried: 0, deadLettered: 0, pending: 0 });
    assert.deepEqual(await inner.list("kizuna:"), []);
  }));

  test("requeue and delete can pick decisionIds", () => withBackend(async (backend) => {
    backend.script.push({ status: 401 });
    const { client } = makeClient(backend, new MemoryStore());
    const ds = decisions(0, 3);
    await client.enqueue(ds);
    await client.flush();
    assert.deepEqual(await client.requeueDeadLetters([ds[1].decisionId, "unknown"]), { requeued: 1, pending: 0 });
    assert.deepEqual(await client.deleteDeadLetters([ds[0].decisionId]), { deleted: 1, pending: 0 });
    assert.deepEqual((await client.deadLetters()).map((d) => d.decisionId), [ds[2].decisionId]);
    assert.equal(await client.pending(), 1);
  }));

  test("retryStatuses: a listed 4xx (401/403/404 while a token or route is fixed) is retried with backoff, not dead-lettered", () => withBackend(async (backend) => {
    backend.script.push({ status: 401 }, { status: 403, headers: { "retry-after": "7" } }, { status: 404 }, { status: 410 });
    const { client, errors, time } = makeClient(backend, new MemoryStore(), { client: { retryStatuses: [401, 403, 404], maxFlushMs: 0 } });
    await client.enqueue(decision(1));
    await client.enqueue(decision(2));
    assert.deepEqual(await client.flush(), { sent: 0, retried: 2, deadLettered: 0, pending: 2, nextAttemptAt: T0 + 500 * 0.5 });
    assert.equal(errors.at(-1).outcome, "retry");
    assert.equal(errors.at(-1).status, 401);
    time.t += 60_000;
    assert.equal((await client.flush()).nextAttemptAt, time.t + 7_000, "Retry-After honoured");
    time.t += 60_000;
    assert.equal((await client.flush()).retried, 2);
    assert.deepEqual(await client.deadLetters(), []);
    time.t += 60_000;
    // A 4xx not listed is still dead-lettered.
    assert.deepEqual(await client.flush(), { sent: 0, retried: 0, deadLettered: 2, pending: 0 });
    assert.equal((await client.deadLetters())[0].status, 410);
    assert.equal(backend.requests.length, 4);
    assert.ok(backend.requests.every((r) => r.body.batchId === backend.requests[0].body.batchId), "one batch, retried as is");
  }));

  test("a throwing onError does not stop delivery", () => withBackend(async (backend) => {
    backend.script.push({ status: 500 }, { status: 400 });
    const { client } = makeClient(backend, new MemoryStore(), {
      client: { batchSize: 1, onError: () => { throw new Error("handler bug"); } },
    });
    await client.enqueue(decisions(0, 3));
    assert.deepEqual(await client.flush(), { sent: 2, retried: 1, deadLettered: 1, pending: 0 });
  }));
});

// ---- network failures --------------------------------------------------------------------

describe("network failures", () => {
  test("backend down: decisions stay in the outbox; once it is back each is delivered exactly once, also by a new instance", async () => {
    // Find a free port, then close the server so connections are refused.
    const probe = await startBackend();
    const port = probe.port;
    await probe.close();

    const store = new MemoryStore();
    const time = fakeTime();
    const endpoint = `http://127.0.0.1:${port}/decisions`;
    const down = { url: endpoint };
    const first = makeClient(down, store, { time, client: { maxFlushMs: 0, batchSize: 2 } });
    const ds = decisions(0, 3);
    await first.client.enqueue(ds);
    const r1 = await first.client.flush();
    assert.deepEqual(r1, { sent: 0, retried: 2, deadLettered: 0, pending: 3, nextAttemptAt: T0 + 250 });
    assert.equal(first.errors.length, 1);
    assert.equal(first.errors[0].kind, "network");
    assert.equal(first.errors[0].outcome, "retry");
    const failedKey = first.errors[0].batchId;
    assert.equal(await first.client.pending(), 3);
    const stored = await outboxRecord(store, ds[0].decisionId);
    assert.equal(stored.attempts, 1, "attempts persist in the store");
    assert.equal(stored.nextAttemptAt, first.errors[0].retryAt);

    // A second try while still down, by the same instance after the backoff.
    time.t += 60_000;
    const r2 = await first.client.flush();
    assert.equal(r2.sent, 0);
    assert.equal(r2.pending, 3);
    assert.equal((await outboxRecord(store, ds[0].decisionId)).attempts, 2);

    // Back up on the same port; a NEW instance (new worker invocation) on the same store.
    const backend = await startBackend({ port });
    try {
      time.t += 120_000;
      const second = makeClient(backend, store, { time, client: { batchSize: 2 } });
      assert.deepEqual(await second.client.flush(), { sent: 3, retried: 0, deadLettered: 0, pending: 0 });
      assert.equal(backend.requests[0].headers["idempotency-key"], failedKey, "the failed batch keeps its key across instances");
      for (const d of ds) assert.equal(backend.count(d.decisionId), 1);
      // And the old instance has nothing left to send.
      assert.deepEqual(await first.client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: 0 });
      assert.equal(backend.requests.length, 2);
      for (const d of ds) assert.equal(backend.count(d.decisionId), 1);
    } finally {
      await backend.close();
    }
  });

  test("a new instance honours the stored retry time instead of sending at once", () => withBackend(async (backend) => {
    backend.script.push({ status: 503, headers: { "retry-after": "30" } });
    const store = new MemoryStore();
    const time = fakeTime();
    const a = makeClient(backend, store, { time, client: { maxFlushMs: 0 } });
    await a.client.enqueue(decision(1));
    await a.client.flush();
    const b = makeClient(backend, store, { time, client: { maxFlushMs: 0 } });
    await b.client.enqueue(decision(2)); // due now, but the backend asked for 30 s
    assert.deepEqual(await b.client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: 2, nextAttemptAt: T0 + 30_000 });
    assert.equal(backend.requests.length, 1);
    time.t += 30_000;
    assert.deepEqual(await b.client.flush(), { sent: 2, retried: 0, deadLettered: 0, pending: 0 });
  }));

  test("a stored retry time from a clock that was ahead is counted from now", () => withBackend(async (backend) => {
    backend.script.push({ status: 500 });
    const store = new MemoryStore();
    const ahead = fakeTime(Date.UTC(2025, 3, 2)); // a device clock one day ahead
    const a = makeClient(backend, store, { time: ahead, client: { maxFlushMs: 0 } });
    await a.client.enqueue(decision(1));
    await a.client.flush();
    const right = fakeTime(Date.UTC(2025, 3, 1)); // after the clock was corrected (page reload)
    const b = makeClient(backend, store, { time: right, client: { maxFlushMs: 0 } });
    assert.equal((await b.client.flush()).sent, 0, "still backing off");
    right.t += 250; // the intended delay: 0.5 * 500
    assert.equal((await b.client.flush()).sent, 1);
  }));

  test("maxFlushMs 0 never waits, even for a zero-length backoff", () => withBackend(async (backend) => {
    backend.script.push({ status: 500 });
    const { client, time } = makeClient(backend, new MemoryStore(), { client: { random: () => 0, maxFlushMs: 0 } });
    await client.enqueue(decision(1));
    assert.deepEqual(await client.flush(), { sent: 0, retried: 1, deadLettered: 0, pending: 1, nextAttemptAt: T0 });
    assert.deepEqual(time.sleeps, []);
    assert.equal(backend.requests.length, 1);
    assert.deepEqual(await client.flush(), { sent: 1, retried: 0, deadLettered: 0, pending: 0 });
  }));

  test("timeout (a server that never answers): aborted, retried, not lost", () => withBackend(async (backend) => {
    backend.script.push("hang");
    // The retry is answered here, in the task that sends it: the short timeout the hung request
    // needs cannot also cut short a retry that a busy machine slows past it.
    const retried = [];
    let sends = 0;
    const fetch = (url, init) => (sends++ === 0 ? globalThis.fetch(url, init) : (retried.push(JSON.parse(init.body)), Promise.resolve(new Response(null, { status: 204 }))));
    const { client, errors, time } = makeClient(backend, new MemoryStore(), { client: { timeoutMs: 100, fetch } });
    await client.enqueue(decision(1));
    assert.deepEqual(await client.flush(), { sent: 1, retried: 1, deadLettered: 0, pending: 0 });
    assert.equal(errors.length, 1);
    assert.equal(errors[0].kind, "timeout");
    assert.equal(errors[0].outcome, "retry");
    assert.deepEqual(time.sleeps, [250]);
    assert.deepEqual(retried.map((b) => [b.batchId, b.decisions.map((d) => d.decisionId)]), [[errors[0].batchId, [decision(1).decisionId]]], "sent again once, as the same batch");
  }));

  test("timeout while the server keeps hanging: the decision stays in the outbox", () => withBackend(async (backend) => {
    backend.script.push("hang");
    const store = new MemoryStore();
    const { client } = makeClient(backend, store, { client: { timeoutMs: 100, maxFlushMs: 0 } });
    await client.enqueue(decision(1));
    assert.deepEqual(await client.flush(), { sent: 0, retried: 1, deadLettered: 0, pending: 1, nextAttemptAt: T0 + 250 });
    assert.equal((await outboxRecord(store, decision(1).decisionId)).lastError.kind, "timeout");
  }));

  test("timeout also applies to a fetch that ignores the abort signal", async () => {
    const { client, errors } = makeClient({ url: "http://127.0.0.1:9/never" }, new MemoryStore(), {
      client: { timeoutMs: 50, maxFlushMs: 0, fetch: () => new Promise(() => {}) },
    });
    await client.enqueue(decision(1));
    assert.deepEqual(await client.flush(), { sent: 0, retried: 1, deadLettered: 0, pending: 1, nextAttemptAt: T0 + 250 });
    assert.equal(errors[0].kind, "timeout");
  });

  test("a redirect is not followed (it would turn the POST into a GET) and is retried", () => withBackend(async (backend) => {
    backend.script.push({ status: 301, headers: { location: "/elsewhere" } });
    const { client, errors } = makeClient(backend, new MemoryStore());
    await client.enqueue(decision(1));
    assert.deepEqual(await client.flush(), { sent: 1, retried: 1, deadLettered: 0, pending: 0 });
    assert.equal(errors[0].status, 301);
    assert.ok(backend.requests.every((r) => r.method === "POST"));
  }));

  test("getHeaders failing counts as a retryable failure", () => withBackend(async (backend) => {
    let calls = 0;
    const { client, errors } = makeClient(backend, new MemoryStore(), {
      client: { getHeaders: () => { if (++calls === 1) throw new Error("token refresh failed"); return { authorization: "Bearer t" }; } },
    });
    await client.enqueue(decision(1));
    assert.deepEqual(await client.flush(), { sent: 1, retried: 1, deadLettered: 0, pending: 0 });
    assert.equal(errors[0].kind, "headers");
    assert.equal(backend.requests.length, 1);
    assert.equal(backend.requests[0].headers.authorization, "Bearer t");
  }));

  test("timeoutMs covers a getHeaders that never settles: the flush ends, retries, and later flushes are not stuck", async () => {
    let calls = 0;
    // Answered in the task that sends it: the 50 ms timeout covers the request too, and a real
    // one can take longer on a busy machine.
    const sent = [];
    const fetch = async (url, init) => (sent.push(init.headers.get("authorization")), new Response(null, { status: 204 }));
    const { client, errors } = makeClient(nowhere, new MemoryStore(), {
      client: { timeoutMs: 50, maxFlushMs: 0, fetch, getHeaders: () => (++calls <= 2 ? new Promise(() => {}) : { authorization: "Bearer t" }) },
    });
    await client.enqueue(decision(1));
    assert.deepEqual(await client.flush(), { sent: 0, retried: 1, deadLettered: 0, pending: 1, nextAttemptAt: T0 + 250 });
    assert.equal(errors[0].kind, "headers");
    assert.match(errors[0].message, /getHeaders did not settle within 50 ms/);
    assert.equal(sent.length, 0);
    assert.equal((await client.flush({ maxFlushMs: 60_000 })).sent, 1, "a later flush is not stuck behind the first");
    assert.equal(calls, 3);
    assert.deepEqual(sent, ["Bearer t"]);
  });

  test("a failing store is reported, never thrown out of flush(); pending is unknown, not 0, and nextAttemptAt backs off", async () => {
    const store = new MemoryStore();
    let down = true;
    const broken = { get: (k) => store.get(k), put: (k, v) => store.put(k, v), delete: (k) => store.delete(k), list: async (p) => { if (down) throw new Error("store down"); return store.list(p); } };
    const backend = await startBackend();
    try {
      const { client, errors, time } = makeClient(backend, broken);
      await client.enqueue(decision(1));
      // A caller that schedules from nextAttemptAt keeps going: 0.5 * 500, then 0.5 * 1000.
      assert.deepEqual(await client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: undefined, nextAttemptAt: T0 + 250 });
      assert.deepEqual(await client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: undefined, nextAttemptAt: T0 + 500 });
      assert.deepEqual(errors.map((e) => [e.kind, e.outcome]), [["store", "kept"], ["store", "kept"]]);
      assert.equal(backend.requests.length, 0);
      down = false;
      time.t += 500;
      assert.deepEqual(await client.flush(), { sent: 1, retried: 0, deadLettered: 0, pending: 0 });
    } finally {
      await backend.close();
    }
  });

  test("outbox values this version cannot send (truncated JSON in localStorage, a newer record version) are moved aside as they are, reported once, and do not stop the others", () => withBackend(async (backend) => {
    const storage = new StorageShim();
    const store = new LocalStorageStore(storage, "p:");
    const { client, errors } = makeClient(backend, store);
    await client.enqueue(decisions(0, 2));
    storage.setItem("p:" + OUTBOX_PREFIX + "zz", "{truncated");
    const newer = { v: 2, decision: { decisionId: "zy" }, enqueuedAt: 0, seq: 0, attempts: 0, nextAttemptAt: 0 };
    await store.put(OUTBOX_PREFIX + "zy", newer);
    assert.deepEqual(await client.flush(), { sent: 2, retried: 0, deadLettered: 0, pending: 0 });
    assert.deepEqual(backend.requests.map((r) => r.body.decisions.length), [2]);
    assert.deepEqual(errors.map((e) => [e.kind, e.outcome, e.decisionIds]), [["store", "kept", ["zy"]], ["store", "kept", ["zz"]]]);
    assert.match(errors[0].message, /^kizuna sync: outbox record kizuna:outbox:zy moved to kizuna:held:: written by a newer version of kizuna\/sync \(record version 2\)$/);
    assert.match(errors[1].message, /^kizuna sync: outbox record kizuna:outbox:zz moved to kizuna:held:: /);
    assert.deepEqual(await store.get("kizuna:held:outbox:zy"), newer);
    assert.equal(await store.get("kizuna:held:outbox:zz"), "{truncated", "the text is kept as it was");
    assert.equal(await store.get(OUTBOX_PREFIX + "zy"), undefined);
    assert.equal(storage.getItem("p:" + OUTBOX_PREFIX + "zz"), null);
    assert.equal(await client.pending(), 0);
    await client.enqueue(decision(3));
    assert.deepEqual(await client.flush(), { sent: 1, retried: 0, deadLettered: 0, pending: 0 });
    assert.equal(errors.length, 2);
  }));

  test("unreadable records filling a flush's window at the head of the outbox do not hide the ones behind: never pending 0 while records are left, and a fresh instance gets through in a bounded number of flushes", () => withBackend(async (backend) => {
    const store = new MemoryStore();
    const time = fakeTime();
    // batchSize 1: a window of 4 records, 8 reads. 20 records a newer version wrote, and 4
    // keys whose reads fail, are older than this client's 2.
    for (let i = 0; i < 20; i++) {
      await store.put(`${QUEUE_PREFIX}${String(T0 - 1000 + i).padStart(15, "0")}.000000:newer-${i}`, { v: 2, decision: { decisionId: `newer-${i}` }, fields: [i] });
    }
    const failing = new Set();
    for (let i = 0; i < 4; i++) {
      const key = `${QUEUE_PREFIX}${String(T0 - 500 + i).padStart(15, "0")}.000000:failing-${i}`;
      await store.put(key, { v: 1, decision: { decisionId: `failing-${i}` }, attempts: 0, nextAttemptAt: 0 });
      failing.add(key);
    }
    const flaky = { get: (k) => (failing.has(k) ? Promise.reject(new Error("read failed")) : store.get(k)), put: (k, v) => store.put(k, v), delete: (k) => store.delete(k), list: (p, o) => store.list(p, o) };
    const fresh = () => makeClient(backend, flaky, { time, client: { batchSize: 1, maxFlushMs: 0 } });
    await fresh().client.enqueue(decisions(0, 2));

    const results = [];
    for (let i = 0; i < 10 && backend.accepted().length < 2; i++) {
      const r = await fresh().client.flush(); // a new instance every time (a Worker's request)
      results.push(r);
      assert.ok(r.pending > 0 && typeof r.nextAttemptAt === "number", `flush ${i + 1}: ${JSON.stringify(r)}`);
      time.t = Math.max(time.t, r.nextAttemptAt);
    }
    // 8 reads a flush: 8 moved aside, 8 more, then the last 4 and the 4 failing ones (read again
    // by each new instance), then the failing ones and both records.
    assert.deepEqual(results.map((r) => [r.sent, r.pending]), [[0, 1], [0, 1], [0, 5], [2, 4]]);
    assert.equal(results[3].nextAttemptAt, results[2].nextAttemptAt + 250, "the failing reads: come back after a backoff");
    for (const d of decisions(0, 2)) assert.equal(backend.count(d.decisionId), 1);
    // Nothing lost: the newer records moved aside as they were, the failing ones left in place.
    const held = await store.list("kizuna:held:");
    assert.equal(held.length, 20);
    assert.deepEqual(await store.get(held[7]), { v: 2, decision: { decisionId: "newer-7" }, fields: [7] });
    assert.deepEqual(await store.list(QUEUE_PREFIX), [...failing]);
    assert.deepEqual(await store.list("kizuna:queued:"), []);
    // Once they read again they are sent.
    failing.clear();
    assert.deepEqual(await fresh().client.flush(), { sent: 4, retried: 0, deadLettered: 0, pending: 0 });
  }));

  test("keys a list still shows after they were deleted (Workers KV's list lags up to a minute; another instance) do not use the window: the records behind them are sent, and pending is never 0 while some are left", () => withBackend(async (backend) => {
    const time = fakeTime();
    // A store whose list() shows deleted keys for 60 s more, as Workers KV may.
    const inner = new MemoryStore();
    const deletedAt = new Map();
    const lagging = {
      get: (k) => inner.get(k),
      put: (k, v) => inner.put(k, v),
      delete: (k) => { deletedAt.set(k, time.t); return inner.delete(k); },
      async list(prefix, options) {
        const ghosts = [...deletedAt].filter(([k, at]) => k.startsWith(prefix) && time.t - at < 60_000).map(([k]) => k);
        const keys = [...new Set([...await inner.list(prefix), ...ghosts])].sort();
        return options?.limit === undefined ? keys : keys.slice(0, options.limit);
      },
    };
    const { client } = makeClient(backend, lagging, { time, client: { maxFlushMs: 0 } });
    await client.enqueue(decisions(0, 250));
    time.t += 1000;
    assert.deepEqual(await client.flush(), { sent: 200, retried: 0, deadLettered: 0, pending: 50, nextAttemptAt: T0 + 1000 });
    time.t += 1000;
    // 200 listed keys are gone: read as nothing, they leave the window to the 50 behind them.
    assert.deepEqual(await client.flush(), { sent: 50, retried: 0, deadLettered: 0, pending: 0 });
    for (const d of decisions(0, 250)) assert.equal(backend.count(d.decisionId), 1);
    // A fresh instance within the minute, on an outbox of 300 more behind 250 such keys.
    const other = makeClient(backend, lagging, { time, client: { maxFlushMs: 0 } }).client;
    await other.enqueue(decisions(250, 550));
    time.t += 1000;
    const first = await other.flush();
    // 400 reads: 250 of them gone, 150 records sent; more is listed (pending is a lower bound).
    assert.deepEqual(first, { sent: 150, retried: 0, deadLettered: 0, pending: 1, nextAttemptAt: time.t });
    // Its next flush passes over the keys it deleted itself without reading them.
    time.t += 1000;
    assert.deepEqual(await other.flush(), { sent: 150, retried: 0, deadLettered: 0, pending: 0 });
    for (const d of decisions(250, 550)) assert.equal(backend.count(d.decisionId), 1);
  }));

  test("a get() that fails for one key does not stop the others; the key is sent once it reads again", () => withBackend(async (backend) => {
    const store = new MemoryStore();
    let bad;
    let failing = false;
    const flaky = { get: (k) => (failing && k === bad ? Promise.reject(new Error("read failed")) : store.get(k)), put: (k, v) => store.put(k, v), delete: (k) => store.delete(k), list: (p) => store.list(p) };
    const { client, errors } = makeClient(backend, flaky);
    await client.enqueue(decisions(0, 3));
    bad = await outboxKey(store, decision(1).decisionId);
    failing = true;
    assert.equal((await client.flush()).sent, 2);
    assert.equal(errors.length, 1);
    failing = false;
    assert.equal((await client.flush()).sent, 1);
    for (const d of decisions(0, 3)) assert.equal(backend.count(d.decisionId), 1);
  }));

  test("a 2xx whose outbox delete fails is not sent again by the same flush", () => withBackend(async (backend) => {
    const store = new MemoryStore();
    const flaky = { get: (k) => store.get(k), put: (k, v) => store.put(k, v), delete: async () => { throw new Error("delete failed"); }, list: (p) => store.list(p) };
    const { client, errors } = makeClient(backend, flaky);
    await client.enqueue(decision(1));
    const result = await client.flush();
    assert.equal(result.sent, 1);
    assert.equal(backend.requests.length, 1);
    assert.equal(errors[0].kind, "store");
  }));
});

// ---- construction and helpers ------------------------------------------------------------

describe("construction", () => {
  test("programming errors throw at construction", () => {
    const store = new MemoryStore();
    assert.throws(() => new SyncClient(), TypeError);
    assert.throws(() => new SyncClient({ store }), /endpoint is required/);
    assert.throws(() => new SyncClient({ endpoint: "not a url", store }), /valid URL/);
    assert.throws(() => new SyncClient({ endpoint: "ftp://x/", store }), /http/);
    assert.throws(() => new SyncClient({ endpoint: "https://x/" }), /store/);
    assert.throws(() => new SyncClient({ endpoint: "https://x/", store: { get() {}, put() {} } }), /store/);
    assert.throws(() => new SyncClient({ endpoint: "https://x/", store, batchSize: 0 }), /batchSize/);
    assert.throws(() => new SyncClient({ endpoint: "https://x/", store, maxBatchBytes: 1.5 }), /maxBatchBytes/);
    assert.throws(() => new SyncClient({ endpoint: "https://x/", store, fetch: "nope" }), /fetch/);
    assert.throws(() => new SyncClient({ endpoint: "https://x/", store, source: { app: "x" } }), /runtime/);
    assert.throws(() => new SyncClient({ endpoint: "https://x/", store, onError: 1 }), /onError/);
    assert.throws(() => new SyncClient({ endpoint: "https://x/", store, maxRetryAfterMs: -1 }), /maxRetryAfterMs/);
    assert.throws(() => new SyncClient({ endpoint: "https://x/", store, locks: {} }), /locks/);
    for (const maxFlushOps of [15, 100.5, "900", NaN]) {
      assert.throws(() => new SyncClient({ endpoint: "https://x/", store, maxFlushOps }), /maxFlushOps/);
    }
    assert.throws(() => new SyncClient({ endpoint: "https://x/", store: Object.assign(new MemoryStore(), { maxFlushOps: 0 }) }), /maxFlushOps/);
    for (const retryStatuses of [401, [500], [401.5], ["401"]]) {
      assert.throws(() => new SyncClient({ endpoint: "https://x/", store, retryStatuses }), /retryStatuses/);
    }
    assert.throws(() => new LocalStorageStore({}), TypeError);
    assert.throws(() => new KvStore({}), TypeError);
    assert.throws(() => new DurableObjectStore(undefined), TypeError);
    assert.throws(() => new IndexedDbStore("kizuna", { indexedDB: undefined }), TypeError);
  });

  test("flush() rejects (does not throw) on an invalid maxFlushMs; SyncError can be built with a message only", async () => {
    const client = new SyncClient({ endpoint: "https://example.invalid/", store: new MemoryStore() });
    let p;
    assert.doesNotThrow(() => { p = client.flush({ maxFlushMs: -1 }); });
    await assert.rejects(p, /maxFlushMs/);
    const e = new SyncError("x");
    assert.equal(e.message, "x");
    assert.deepEqual(e.decisionIds, []);
    assert.equal(e.kind, undefined);
    assert.equal(new SyncError("y", { kind: "store", cause: 1 }).cause, 1);
  });

  test("enqueue rejects malformed decisions before writing anything", async () => {
    const store = new MemoryStore();
    const client = new SyncClient({ endpoint: "https://example.invalid/", store });
    await assert.rejects(client.enqueue([decision(1), { userId: "x" }]), TypeError);
    await assert.rejects(client.enqueue(null), TypeError);
    assert.equal(await client.pending(), 0);
  });

  test("parseRetryAfter reads seconds and HTTP-dates", () => {
    const now = Date.UTC(2025, 0, 1);
    assert.equal(parseRetryAfter("120", now), 120_000);
    assert.equal(parseRetryAfter("Wed, 01 Jan 2025 00:00:30 GMT", now), 30_000);
    assert.equal(parseRetryAfter("Tue, 31 Dec 2024 00:00:00 GMT", now), 0);
    assert.equal(parseRetryAfter("soon", now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
    // Strict: anything but delay-seconds or an IMF-fixdate is ignored (Date.parse accepts these).
    for (const v of ["-5", "5, 10", "abc 1", "1.5", "", " ", "1e3", "Wed, 01 Jan 2025 00:00:30 UTC",
      "Wednesday, 01-Jan-25 00:00:30 GMT", "Wed Jan  1 00:00:30 2025", "2025-01-01T00:00:30Z",
      "Fri, 31 Feb 2025 00:00:00 GMT", "Wed, 01 Jan 2025 24:00:00 GMT"]) {
      assert.equal(parseRetryAfter(v, now), undefined, v);
    }
    assert.equal(parseRetryAfter(" 7 ", now), 7000);
  });

  test("batchIdFor matches SHA-256 of sorted ids and sentAt (also for non-ASCII and long input)", () => {
    const ids = ["b", "a", "日本", "x".repeat(300)];
    const sentAt = "2025-04-01T00:00:00.000Z";
    assert.equal(batchIdFor(ids, sentAt), sha256([...ids].sort().join("\n") + "\n" + sentAt));
    assert.equal(batchIdFor(ids), sha256([...ids].sort().join("\n")));
    assert.equal(batchIdFor([]), sha256(""));
  });
});

// ---- storage adapters --------------------------------------------------------------------

/** Web Storage shim (the part of the Storage interface LocalStorageStore uses). */
class StorageShim {
  #m = new Map();
  get length() { return this.#m.size; }
  key(i) { return [...this.#m.keys()][i] ?? null; }
  getItem(k) { return this.#m.has(k) ? this.#m.get(k) : null; }
  setItem(k, v) { this.#m.set(String(k), String(v)); }
  removeItem(k) { this.#m.delete(k); }
  clear() { this.#m.clear(); }
}

/**
 * Workers KV namespace fake, after Cloudflare's documented signatures: get(key, type | {type})
 * resolves null when missing; put(key, string); delete(key); list({prefix, limit = 1000,
 * cursor}) -> {keys: [{name}], list_complete, cursor} in lexicographic order. `calls` counts
 * every call, as KV counts operations against a Worker's per-invocation limit.
 */
class FakeKvNamespace {
  #m = new Map();
  calls = { get: 0, put: 0, delete: 0, list: 0 };
  get operations() { return this.calls.get + this.calls.put + this.calls.delete + this.calls.list; }
  async get(key, options) {
    this.calls.get++;
    const type = typeof options === "string" ? options : options?.type ?? "text";
    if (!this.#m.has(key)) return null;
    const text = this.#m.get(key);
    if (type === "json") return JSON.parse(text);
    if (type === "text") return text;
    throw new TypeError(`fake KV: unsupported type ${type}`);
  }
  async put(key, value) {
    this.calls.put++;
    if (typeof value !== "string") throw new TypeError("fake KV: this fake stores strings only");
    this.#m.set(key, value);
  }
  async delete(key) { this.calls.delete++; this.#m.delete(key); }
  async list({ prefix = "", limit = 1000, cursor } = {}) {
    this.calls.list++;
    const all = [...this.#m.keys()].filter((k) => k.startsWith(prefix)).sort();
    const start = cursor ? Number(cursor) : 0;
    const keys = all.slice(start, start + Math.min(limit, 1000)).map((name) => ({ name }));
    const end = start + keys.length;
    return end < all.length ? { keys, list_complete: false, cursor: String(end) } : { keys, list_complete: true };
  }
}

/**
 * Durable Object storage fake (the async KV API): get(key) -> value | undefined; put(key,
 * value) stores a structured clone; delete(key) -> boolean; list({prefix, start, startAfter,
 * end, limit, reverse}) -> Map in key order.
 */
class FakeDurableObjectStorage {
  #m = new Map();
  calls = { list: 0 };
  async get(key) {
    if (Array.isArray(key)) return new Map(key.filter((k) => this.#m.has(k)).map((k) => [k, structuredClone(this.#m.get(k))]));
    return this.#m.has(key) ? structuredClone(this.#m.get(key)) : undefined;
  }
  async put(key, value) {
    if (typeof key !== "string") throw new TypeError("fake DO: key must be a string");
    this.#m.set(key, structuredClone(value));
  }
  async delete(key) { return this.#m.delete(key); }
  async list({ prefix = "", start, startAfter, end, limit = Infinity, reverse = false } = {}) {
    this.calls.list++;
    if (start !== undefined && startAfter !== undefined) throw new TypeError("fake DO: start and startAfter are exclusive");
    let keys = [...this.#m.keys()].filter((k) => k.startsWith(prefix)).sort();
    if (start !== undefined) keys = keys.filter((k) => k >= start);
    if (startAfter !== undefined) keys = keys.filter((k) => k > startAfter);
    if (end !== undefined) keys = keys.filter((k) => k < end);
    if (reverse) keys.reverse();
    return new Map(keys.slice(0, limit).map((k) => [k, structuredClone(this.#m.get(k))]));
  }
}

const adapters = {
  MemoryStore: () => new MemoryStore(),
  LocalStorageStore: () => new LocalStorageStore(new StorageShim(), "app1:"),
  KvStore: () => new KvStore(new FakeKvNamespace()),
  DurableObjectStore: () => new DurableObjectStore(new FakeDurableObjectStorage()),
};

for (const [name, make] of Object.entries(adapters)) {
  describe(`${name} adapter`, () => {
    test("get/put/delete/list", async () => {
      const s = make();
      assert.equal(await s.get("kizuna:outbox:a") ?? undefined, undefined);
      await s.put("kizuna:outbox:b", { n: 1, nested: { x: [1, "y"] } });
      await s.put("kizuna:outbox:a", { n: 2 });
      await s.put("kizuna:dead:a", { n: 3 });
      await s.put("other", "value");
      assert.deepEqual(await s.get("kizuna:outbox:b"), { n: 1, nested: { x: [1, "y"] } });
      assert.deepEqual(await s.list("kizuna:outbox:"), ["kizuna:outbox:a", "kizuna:outbox:b"]);
      assert.deepEqual(await s.list("kizuna:dead:"), ["kizuna:dead:a"]);
      await s.put("kizuna:outbox:a", { n: 4 });
      assert.deepEqual(await s.get("kizuna:outbox:a"), { n: 4 });
      await s.delete("kizuna:outbox:a");
      await s.delete("kizuna:outbox:missing");
      assert.deepEqual(await s.list("kizuna:outbox:"), ["kizuna:outbox:b"]);
      assert.equal(await s.get("kizuna:outbox:a") ?? undefined, undefined);
    });

    test("list returns every key across pages", async () => {
      const s = make();
      const n = 2500;
      await Promise.all(Array.from({ length: n }, (_, i) => s.put(`kizuna:outbox:${String(i).padStart(5, "0")}`, i)));
      await s.put("kizuna:dead:x", 0);
      const keys = await s.list("kizuna:outbox:");
      assert.equal(keys.length, n);
      assert.equal(new Set(keys).size, n);
    });

    test("list with a limit gives the first keys in order, across pages", async () => {
      const s = make();
      const keys = Array.from({ length: 2500 }, (_, i) => `kizuna:queue:${String(2500 - i).padStart(5, "0")}`);
      for (const k of keys) await s.put(k, 0);
      await s.put("kizuna:queued:x", 0);
      const sorted = [...keys].sort();
      assert.deepEqual(await s.list("kizuna:queue:", { limit: 1500 }), sorted.slice(0, 1500));
      assert.deepEqual(await s.list("kizuna:queue:", { limit: 3 }), sorted.slice(0, 3));
      assert.deepEqual(await s.list("kizuna:queue:", { limit: 0 }), []);
      assert.equal((await s.list("kizuna:queue:", { limit: 9999 })).length, 2500);
      assert.equal((await s.list("kizuna:queue:")).length, 2500);
    });

    test("outbox behaviour: idempotent enqueue, survives a failed flush, delivered once by a new instance, dead letters, requeue", () => withBackend(async (backend) => {
      const store = make();
      const time = fakeTime();
      backend.script.push({ status: 500 });
      const a = makeClient(backend, store, { time, client: { maxFlushMs: 0, batchSize: 3 } });
      const ds = decisions(0, 5);
      assert.deepEqual(await a.client.enqueue([...ds, ds[0]]), { enqueued: 5, duplicates: 1 });
      assert.deepEqual(await a.client.enqueue(ds[1]), { enqueued: 0, duplicates: 1 });
      assert.deepEqual(await a.client.flush(), { sent: 0, retried: 3, deadLettered: 0, pending: 5, nextAttemptAt: T0 + 250 });

      // A new instance continues where the last stopped: waits for the stored retry time…
      const b = makeClient(backend, store, { time, client: { maxFlushMs: 0, batchSize: 3 } });
      assert.equal(await b.client.pending(), 5);
      assert.deepEqual(await b.client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: 5, nextAttemptAt: T0 + 250 });
      // …then sends the failed batch again (same key) and the rest.
      time.t += 10_000;
      // 422 refuses content: the batch of two is split, and each is refused on its own.
      const refuse = { status: 422, body: "bad decision" };
      backend.script.push({ status: 200 }, refuse, refuse, refuse);
      assert.deepEqual(await b.client.flush(), { sent: 3, retried: 0, deadLettered: 2, pending: 0 });
      assert.equal(backend.requests[1].headers["idempotency-key"], backend.requests[0].headers["idempotency-key"]);
      assert.deepEqual((await b.client.deadLetters()).map((d) => [d.decisionId, d.status, d.error]),
        ds.slice(3).map((d) => [d.decisionId, 422, "bad decision"]));

      assert.deepEqual(await b.client.requeueDeadLetters(), { requeued: 2, pending: 0 });
      assert.deepEqual(await b.client.flush(), { sent: 2, retried: 0, deadLettered: 0, pending: 0 });
      for (const d of ds) assert.equal(backend.count(d.decisionId), 1);
      assert.deepEqual(await store.list("kizuna:"), []);
    }));
  });
}

test("pending({limit}) counts at most `limit` outbox keys with one bounded list per key format; pending() counts them all", () => withBackend(async (backend) => {
  const kv = new FakeKvNamespace();
  const { client } = makeClient(backend, new KvStore(kv));
  await client.enqueue(decisions(0, 2500));
  let before = kv.calls.list;
  assert.equal(await client.pending(), 2500);
  assert.equal(kv.calls.list - before, 4, "three pages of the queue, one of the old format");
  before = kv.calls.list;
  assert.equal(await client.pending({ limit: 1 }), 1);
  assert.equal(kv.calls.list - before, 2);
  assert.equal(await client.pending({ limit: 0 }), 0);
  const plain = new MemoryStore(); // a store that ignores limit
  const other = makeClient(backend, { get: (k) => plain.get(k), put: (k, v) => plain.put(k, v), delete: (k) => plain.delete(k), list: (p) => plain.list(p) }).client;
  await other.enqueue(decisions(0, 3));
  assert.equal(await other.pending({ limit: 2 }), 2);
  await assert.rejects(client.pending({ limit: -1 }), TypeError);
  await assert.rejects(client.pending({ limit: 1.5 }), TypeError);
}));

test("deadLetters({limit}) reads at most `limit` dead letters from one bounded list; deadLetters() reads them all", () => withBackend(async (backend) => {
  backend.judge = () => ({ status: 422, body: "{}" });
  const kv = new FakeKvNamespace();
  const { client } = makeClient(backend, new KvStore(kv));
  const ds = decisions(0, 5);
  await client.enqueue(ds);
  await client.flush();
  assert.equal((await client.deadLetters()).length, 5);
  let [lists, gets] = [kv.calls.list, kv.calls.get];
  const some = await client.deadLetters({ limit: 2 });
  assert.equal(kv.calls.list - lists, 1);
  assert.equal(kv.calls.get - gets, 2, "one read per dead letter returned");
  const firstKeys = ds.map((d) => d.decisionId).sort().slice(0, 2);
  assert.deepEqual(some.map((d) => d.decisionId).sort(), firstKeys);
  assert.deepEqual(await client.deadLetters({ limit: 0 }), []);
  await assert.rejects(client.deadLetters({ limit: -1 }), TypeError);
  await assert.rejects(client.deadLetters({ limit: "2" }), TypeError);
}));

test("the index of the outbox by decisionId is internal: not exported", () => {
  assert.ok(!("QUEUED_PREFIX" in syncModule));
  assert.deepEqual([syncModule.QUEUE_PREFIX, syncModule.OUTBOX_PREFIX, syncModule.DEAD_PREFIX], ["kizuna:queue:", "kizuna:outbox:", "kizuna:dead:"]);
});

test("LocalStorageStore's lock is the origin's for localStorage (shared by its tabs), and this page's own for sessionStorage (one per tab)", () => {
  const saved = Object.getOwnPropertyDescriptors(globalThis);
  const local = new StorageShim();
  const session = new StorageShim();
  Object.defineProperty(globalThis, "localStorage", { value: local, configurable: true });
  Object.defineProperty(globalThis, "sessionStorage", { value: session, configurable: true });
  try {
    assert.equal(new LocalStorageStore().lockName, "kizuna-sync:");
    assert.equal(new LocalStorageStore(local, "quiz:").lockName, "kizuna-sync:quiz:");
    const tab = new LocalStorageStore(session, "quiz:").lockName;
    assert.match(tab, /^kizuna-sync:sessionStorage:[\w-]+:quiz:$/);
    assert.equal(new LocalStorageStore(session, "quiz:").lockName, tab, "the same for every store of this page");
    assert.equal(new LocalStorageStore(new StorageShim(), "quiz:").lockName, "kizuna-sync:quiz:", "another Web Storage object: as localStorage");
  } finally {
    for (const name of ["localStorage", "sessionStorage"]) {
      if (saved[name]) Object.defineProperty(globalThis, name, saved[name]);
      else delete globalThis[name];
    }
  }
});

test("LocalStorageStore prefixes keys and leaves other keys alone", async () => {
  const storage = new StorageShim();
  storage.setItem("unrelated", "1");
  const s = new LocalStorageStore(storage, "app1:");
  await s.put("kizuna:outbox:a", { a: 1 });
  assert.equal(storage.getItem("app1:kizuna:outbox:a"), '{"a":1}');
  assert.deepEqual(await s.list(""), ["kizuna:outbox:a"]);
  await s.delete("kizuna:outbox:a");
  assert.equal(storage.length, 1);
});

test("DurableObjectStore accepts the state object too", async () => {
  const storage = new FakeDurableObjectStorage();
  const s = new DurableObjectStore({ storage, id: {} });
  await s.put("k", 1);
  assert.equal(await storage.get("k"), 1);
});

// ---- a long outbox: bounded store operations per flush (Workers KV) -------------------------

describe("a long outbox", () => {
  // A flush reads at most min(4 × batchSize, 200) records: with the default batchSize (50), 200.
  // Its KV operations: the reads, three per delivered decision (the index entry's read and
  // delete, the record's delete), a read and a write per retried one, and two list calls per
  // pass (the previous format's keys, then the queue). Workers KV allows about 1,000 per
  // invocation. Of the window KvStore's 900 send three batches of 50: a fourth must leave room
  // to dead-letter it (5 × 50) and does not.
  const WINDOW = 200;
  const BOUND = 4 * WINDOW + 8;
  const SENT_PER_FLUSH = 150;

  /** Flush (as a Worker's alarm does) until nothing is pending (or `done`); each flush's KV operations. */
  async function drain(client, kv, time, done = (r) => r.pending === 0) {
    const perFlush = [];
    for (let i = 0; i < 100; i++) {
      const before = kv.operations;
      const r = await client.flush();
      perFlush.push(kv.operations - before);
      if (done(r)) return perFlush;
      assert.equal(typeof r.nextAttemptAt, "number", "told when to come back");
      time.t = Math.max(time.t, r.nextAttemptAt);
    }
    assert.fail("the outbox did not drain in 100 flushes");
  }

  test("2,000 decisions queued in an outage: each flush stays within KV's operation limit, and repeated flushes deliver all, oldest first, each once", () => withBackend(async (backend) => {
    const kv = new FakeKvNamespace();
    const store = new KvStore(kv);
    const time = fakeTime();
    const { client } = makeClient(backend, store, { time, client: { maxFlushMs: 0 } });
    const ds = decisions(0, 2000);
    for (let i = 0; i < ds.length; i += 100) {
      await client.enqueue(ds.slice(i, i + 100));
      time.t += 1; // enqueued over time: the order to keep
    }

    // The backend is down: one flush, one failed batch.
    backend.script.push({ status: 503 });
    const before = kv.operations;
    const down = await client.flush();
    const failedFlush = kv.operations - before;
    assert.deepEqual({ ...down, nextAttemptAt: undefined }, { sent: 0, retried: 50, deadLettered: 0, pending: 401, nextAttemptAt: undefined });
    assert.ok(failedFlush <= BOUND, `the failed flush used ${failedFlush} KV operations`);
    assert.ok(kv.calls.get <= WINDOW + 50 + 3 * 2000, "reads: the window and one per retried decision (besides enqueue's)");

    const perFlush = await drain(client, kv, time);
    assert.ok(perFlush.every((n) => n <= BOUND), `KV operations per flush: ${perFlush.join(", ")}`);
    assert.ok(perFlush.length >= 2000 / WINDOW && perFlush.length <= 2000 / SENT_PER_FLUSH + 2, `${perFlush.length} flushes`);
    for (const d of ds) assert.equal(backend.count(d.decisionId), 1, d.decisionId);
    const order = backend.accepted().flatMap((r) => r.body.decisions.map((d) => d.decisionId));
    assert.deepEqual(order, ds.map((d) => d.decisionId), "oldest first");
    assert.deepEqual(await store.list("kizuna:"), [], "no record or index entry left");
    assert.equal(await client.pending(), 0);
  }));

  // KvStore gives a flush 900 of the 1,000 operations KV allows an invocation, whatever becomes
  // of the decisions: a dead letter costs five (a re-read, its put, the index entry's read and
  // delete, the record's delete), a failed attempt two (a re-read, a put) per retry within
  // maxFlushMs, a value moved aside four.
  const KV_FLUSH_OPS = 900;
  const refuse = (status) => () => ({ status });
  const kvCases = [
    ["403: every decision dead-lettered", { judge: refuse(403) }],
    ["422: batches split down to single decisions, each refused", { judge: refuse(422) }],
    ["403 with batchSize 200 (a batch is the whole window)", { judge: refuse(403), client: { batchSize: 200 } }],
    ["503 to 60 requests, retried within maxFlushMs 20 s with little jitter", { down: 60, client: { random: () => 0.05, maxFlushMs: 20_000 } }],
    ["503 to 60 requests, retried at once (baseDelayMs 0)", { down: 60, client: { baseDelayMs: 0, maxFlushMs: 20_000 } }],
    ["503 with maxAttempts 2: dead-lettered after two tries", { judge: refuse(503), client: { maxAttempts: 2, maxFlushMs: 20_000 } }],
    ["300 values of a newer version and 100 that do not parse at the head (all moved aside)", { head: true }],
  ];
  for (const [name, { judge, down, client: options, head }] of kvCases) {
    test(`Workers KV, ${name}: no flush makes more than ${KV_FLUSH_OPS} KV operations, and repeated flushes settle every decision once`, () => withBackend(async (backend) => {
      const kv = new FakeKvNamespace();
      const store = new KvStore(kv);
      assert.equal(store.maxFlushOps, KV_FLUSH_OPS);
      const time = fakeTime();
      if (head) {
        for (let i = 0; i < 300; i++) await store.put(`${QUEUE_PREFIX}${String(T0 - 9000 + i).padStart(15, "0")}.000000:newer-${i}`, { v: 2, decision: { decisionId: `newer-${i}` } });
        for (let i = 0; i < 100; i++) await kv.put(`${QUEUE_PREFIX}${String(T0 - 5000 + i).padStart(15, "0")}.000000:broken-${i}`, "{broken");
      }
      backend.judge = judge ?? (down ? () => (backend.requests.length < down ? { status: 503 } : undefined) : undefined);
      const { client } = makeClient(backend, store, { time, client: { maxFlushMs: 0, ...options } });
      const ds = decisions(0, 300);
      await client.enqueue(ds);
      const perFlush = await drain(client, kv, time, head ? () => ds.every((d) => backend.count(d.decisionId) === 1) : undefined);
      assert.ok(Math.max(...perFlush) <= KV_FLUSH_OPS, `KV operations per flush: ${perFlush.join(", ")}`);
      if (judge) {
        assert.deepEqual((await client.deadLetters()).map((d) => d.decisionId).sort(), ds.map((d) => d.decisionId).sort());
        assert.equal(backend.accepted().length, 0);
      } else {
        for (const d of ds) assert.equal(backend.count(d.decisionId), 1, d.decisionId);
      }
      if (head) {
        assert.equal((await store.list("kizuna:held:")).length, 400);
        assert.equal(await kv.get("kizuna:held:queue:" + String(T0 - 5000).padStart(15, "0") + ".000000:broken-0", "text"), JSON.stringify("{broken"), "kept as it was, as text");
        assert.equal(await client.pending(), 0, "nothing sendable is left");
      } else {
        assert.deepEqual(await store.list(QUEUE_PREFIX), []);
      }
    }));
  }

  test("a small maxFlushOps (the client's option wins over the store's) still delivers: every flush within it, each decision once", () => withBackend(async (backend) => {
    const inner = new MemoryStore();
    let ops = 0;
    const counted = { maxFlushOps: 900 };
    for (const m of ["get", "put", "delete", "list"]) counted[m] = (...args) => { ops++; return inner[m](...args); };
    const time = fakeTime();
    backend.script.push({ status: 503 }, { status: 503 });
    const { client } = makeClient(backend, counted, { time, client: { maxFlushOps: 16, maxFlushMs: 20_000 } });
    const ds = decisions(0, 20);
    await client.enqueue(ds);
    const perFlush = [];
    for (let i = 0; i < 40; i++) {
      ops = 0;
      const r = await client.flush();
      perFlush.push(ops);
      if (r.pending === 0) break;
      time.t = Math.max(time.t, r.nextAttemptAt);
    }
    assert.ok(Math.max(...perFlush) <= 16, `operations per flush: ${perFlush.join(", ")}`);
    for (const d of ds) assert.equal(backend.count(d.decisionId), 1, d.decisionId);
    assert.deepEqual(await inner.list("kizuna:"), []);
  }));

  test("requeueDeadLetters and deleteDeadLetters make at most maxFlushOps store operations a call, say what they left (pending), and go on where they stopped", () => withBackend(async (backend) => {
    const inner = new MemoryStore();
    let ops = 0;
    const counted = {};
    for (const m of ["get", "put", "delete", "list"]) counted[m] = (...args) => { ops++; return inner[m](...args); };
    const time = fakeTime();
    const ds = decisions(0, 30);
    const unbounded = makeClient(backend, inner, { time, client: { maxFlushMs: 0 } }).client;
    await unbounded.enqueue(ds);
    backend.script.push({ status: 401 });
    assert.equal((await unbounded.flush()).deadLettered, 30);
    const { client } = makeClient(backend, counted, { time, client: { maxFlushOps: 16, maxFlushMs: 0 } });
    const perCall = [];
    const repeat = async (call, field) => {
      let done = 0;
      for (let i = 0; i < 100; i++) {
        ops = 0;
        const r = await call();
        perCall.push(ops);
        // Cut short by the budget: come back at once (nextAttemptAt now), as a flush says.
        assert.deepEqual(r, { [field]: r[field], pending: r.pending, ...(r.pending > 0 ? { nextAttemptAt: time.t } : {}) });
        done += r[field];
        if (r.pending === 0) return done;
        assert.ok(r[field] > 0, "each call gets on");
      }
      assert.fail("never done");
    };
    const some = ds.slice(0, 12).map((d) => d.decisionId);
    let ids = [...some, some[0], "unknown", some[11]];
    const requeueSome = async () => {
      const r = await client.requeueDeadLetters(ids);
      ids = ids.slice(ids.length - r.pending); // the ones it did not get to
      return r;
    };
    assert.equal(await repeat(requeueSome, "requeued"), 12);
    assert.equal(await repeat(() => client.deleteDeadLetters(), "deleted"), 18);
    assert.ok(Math.max(...perCall) <= 16, `operations per call: ${perCall.join(", ")}`);
    assert.ok(perCall.length > 2, "the budget cut the calls short");
    assert.deepEqual(await inner.list(DEAD_PREFIX), []);
    assert.deepEqual((await inner.list(QUEUE_PREFIX)).map((k) => k.slice(k.lastIndexOf(":") + 1)).sort(), [...some].sort());
    while ((await client.flush()).pending !== 0);
    for (const d of ds) assert.equal(backend.count(d.decisionId), some.includes(d.decisionId) ? 1 : 0);
  }));

  test("without maxFlushOps, requeueDeadLetters() and deleteDeadLetters() of all take every dead letter in one call, more than one list's 1,000 too", () => withBackend(async (backend) => {
    const store = new MemoryStore();
    const ds = decisions(0, 1005);
    // Dead letters as a flush writes them, oldest first by deadAt.
    for (const [i, d] of ds.entries()) {
      await store.put(DEAD_PREFIX + d.decisionId, { v: 1, decision: d, enqueuedAt: T0 + i, seq: 0, attempts: 1, kind: "http", status: 401, error: "no", deadAt: T0 + i });
    }
    const { client } = makeClient(backend, store, { client: { maxFlushMs: 0 } });
    assert.deepEqual(await client.requeueDeadLetters(ds.slice(0, 5).map((d) => d.decisionId)), { requeued: 5, pending: 0 });
    assert.deepEqual(await client.requeueDeadLetters(), { requeued: 1000, pending: 0 });
    assert.deepEqual(await store.list(DEAD_PREFIX), []);
    assert.equal(await client.pending(), 1005);
    for (const [i, d] of ds.entries()) {
      await store.put(DEAD_PREFIX + d.decisionId, { v: 1, decision: d, enqueuedAt: T0 + i, seq: 0, attempts: 1, kind: "http", status: 401, error: "no", deadAt: T0 + i });
    }
    assert.deepEqual(await client.deleteDeadLetters(), { deleted: 1005, pending: 0 });
    assert.deepEqual(await store.list(DEAD_PREFIX), []);
  }));

  test(`Workers KV: requeueDeadLetters() of 300 dead letters makes at most ${900} KV operations a call, and repeated calls requeue each once`, () => withBackend(async (backend) => {
    const kv = new FakeKvNamespace();
    const store = new KvStore(kv);
    const time = fakeTime();
    backend.judge = () => ({ status: 403 });
    const { client } = makeClient(backend, store, { time, client: { maxFlushMs: 0 } });
    const ds = decisions(0, 300);
    await client.enqueue(ds);
    await drain(client, kv, time);
    assert.equal((await store.list(DEAD_PREFIX)).length, 300);
    backend.judge = undefined;
    const perCall = [];
    let requeued = 0;
    for (let i = 0; i < 20; i++) {
      const before = kv.operations;
      const r = await client.requeueDeadLetters();
      perCall.push(kv.operations - before);
      requeued += r.requeued;
      if (r.pending === 0) break;
    }
    assert.ok(Math.max(...perCall) <= 900, `KV operations per call: ${perCall.join(", ")}`);
    assert.equal(requeued, 300);
    assert.deepEqual(await store.list(DEAD_PREFIX), []);
    await drain(client, kv, time);
    for (const d of ds) assert.equal(backend.count(d.decisionId), 1, d.decisionId);
  }));

  test("an index entry left without its record (another instance settled it between enqueue's two writes) does not make requeueDeadLetters drop the decision", () => withBackend(async (backend) => {
    const store = new MemoryStore();
    let release;
    const gate = new Promise((resolve) => { release = resolve; });
    // Client A's index write waits until client B has flushed (and dead-lettered) the record.
    const slowIndex = { get: (k) => store.get(k), delete: (k) => store.delete(k), list: (p, o) => store.list(p, o), put: async (k, v) => { if (k.startsWith("kizuna:queued:")) await gate; return store.put(k, v); } };
    const a = makeClient(backend, slowIndex).client;
    const b = makeClient(backend, store, { client: { maxFlushMs: 0 } }).client;
    const d = decision(1);
    backend.script.push({ status: 403 });
    const enqueued = a.enqueue(d);
    while ((await store.list(QUEUE_PREFIX)).length === 0) await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await b.flush()).deadLettered, 1);
    release();
    await enqueued;
    assert.deepEqual(await b.requeueDeadLetters([d.decisionId]), { requeued: 1, pending: 0 });
    assert.ok(await outboxKey(store, d.decisionId), "the decision is back in the outbox");
    assert.equal((await b.flush()).sent, 1);
    assert.equal(backend.count(d.decisionId), 1);
  }));

  test("requeueDeadLetters writes a new outbox key (enqueued now; decisionId and index kept), so an instance that removed the old key in the last minute sends it at once instead of passing over it with pending 0; requeued decisions keep their order, behind those enqueued meanwhile", () => withBackend(async (backend) => {
    const store = new MemoryStore();
    const time = fakeTime();
    const a = makeClient(backend, store, { time, client: { maxFlushMs: 0 } }).client; // tab A
    const ds = decisions(0, 3);
    await a.enqueue(ds);
    const oldKeys = await store.list(QUEUE_PREFIX);
    backend.script.push({ status: 403 });
    assert.equal((await a.flush()).deadLettered, 3);
    time.t += 5_000;
    const later = decision(3);
    await a.enqueue(later);
    time.t += 1;
    const b = makeClient(backend, store, { time }).client; // tab B loads the page: requeues the 403s
    assert.deepEqual(await b.requeueDeadLetters(), { requeued: 3, pending: 0 });
    const keys = await store.list(QUEUE_PREFIX);
    assert.deepEqual(keys.map((k) => k.slice(k.lastIndexOf(":") + 1)), [later, ...ds].map((d) => d.decisionId), "behind the later one, in their own order");
    assert.ok(keys.every((k) => !oldKeys.includes(k)), "no old key reused");
    for (const k of keys) assert.equal(await store.get(`kizuna:queued:${k.slice(k.lastIndexOf(":") + 1)}`), k, "the index names the new key");
    assert.deepEqual(await store.list(DEAD_PREFIX), []);
    time.t += 5_000; // within a minute of A's removals
    assert.deepEqual(await a.flush(), { sent: 4, retried: 0, deadLettered: 0, pending: 0 });
    assert.deepEqual(backend.requests.at(-1).body.decisions.map((d) => d.decisionId), [later, ...ds].map((d) => d.decisionId));
    for (const d of [...ds, later]) assert.equal(backend.count(d.decisionId), 1);
    assert.deepEqual(await store.list("kizuna:"), []);
  }));

  test("a small maxFlushOps with a decision recorded twice still sends: the other record does not count against the first batch", () => withBackend(async (backend) => {
    const store = new MemoryStore();
    const time = fakeTime();
    const a = makeClient(backend, store, { time }).client;
    const b = makeClient(backend, store, { time: { ...fakeTime(T0 + 80) } }).client;
    const ds = decisions(0, 121);
    await Promise.all([a.enqueue(ds[0]), b.enqueue(ds[0])]); // two tabs at once: two records
    for (const d of ds.slice(1)) { time.t++; await a.enqueue(d); }
    const { client } = makeClient(backend, store, { time, client: { maxFlushOps: 300, maxFlushMs: 0 } });
    const r = await client.flush();
    assert.ok(r.sent > 0, JSON.stringify(r));
  }));

  test("a store that ignores list's limit still gets bounded reads", () => withBackend(async (backend) => {
    const inner = new MemoryStore();
    let gets = 0; // of records (a delivered one's index entry is read too)
    const plain = { get: (k) => { if (k.startsWith(QUEUE_PREFIX)) gets++; return inner.get(k); }, put: (k, v) => inner.put(k, v), delete: (k) => inner.delete(k), list: (p) => inner.list(p) };
    const time = fakeTime();
    const { client } = makeClient(backend, plain, { time, client: { maxFlushMs: 0, batchSize: 10 } });
    await client.enqueue(decisions(0, 100));
    gets = 0;
    assert.deepEqual(await client.flush(), { sent: 40, retried: 0, deadLettered: 0, pending: 60, nextAttemptAt: T0 });
    assert.equal(gets, 40, "4 × batchSize records read");
    assert.equal(backend.requests.length, 4);
    while ((await client.flush()).pending !== 0);
    for (const d of decisions(0, 100)) assert.equal(backend.count(d.decisionId), 1);
  }));

  test("an outbox written by the previous version (kizuna:outbox:<decisionId>) is sent after the upgrade, each decision once, before newer ones", () => withBackend(async (backend) => {
    const kv = new FakeKvNamespace();
    const store = new KvStore(kv);
    const time = fakeTime();
    // 300 records as the previous version stored them (more than one flush reads). Their keys
    // hold no time, so flushes take them in key order (decisionId), each flush's share oldest
    // first. Three of the first a flush reads are a batch that failed twice and waits to be
    // retried as the same batch.
    const old = decisions(0, 300);
    const failed = [...old].sort((a, b) => (a.decisionId < b.decisionId ? -1 : 1)).slice(0, 3);
    const failedSentAt = new Date(T0 - 5000).toISOString();
    const failedBatch = batchIdFor(failed.map((d) => d.decisionId), failedSentAt);
    for (const [i, d] of old.entries()) {
      const retry = failed.includes(d)
        ? { attempts: 2, nextAttemptAt: T0 - 500, lastAttemptAt: T0 - 1000, batchId: failedBatch, sentAt: failedSentAt, lastError: { kind: "http", status: 503, message: "HTTP 503" } }
        : {};
      await store.put(OUTBOX_PREFIX + d.decisionId, { v: 1, decision: d, enqueuedAt: T0 - 10_000 + i, seq: i, attempts: 0, nextAttemptAt: 0, ...retry });
    }
    const { client, errors } = makeClient(backend, store, { time, client: { maxFlushMs: 0 } });
    assert.equal(await client.pending(), 300);
    const fresh = decisions(300, 400);
    assert.deepEqual(await client.enqueue([...fresh, old[7]]), { enqueued: 100, duplicates: 1 }, "a decisionId in the old outbox is not queued again");

    const perFlush = await drain(client, kv, time);
    assert.ok(perFlush.every((n) => n <= BOUND), `KV operations per flush: ${perFlush.join(", ")}`);
    for (const d of [...old, ...fresh]) assert.equal(backend.count(d.decisionId), 1, d.decisionId);
    const again = backend.accepted().filter((r) => r.headers["idempotency-key"] === failedBatch);
    assert.equal(again.length, 1, "the failed batch is sent again as the same batch");
    assert.equal(again[0].body.sentAt, new Date(T0 - 5000).toISOString());
    const order = backend.accepted().flatMap((r) => r.body.decisions.map((d) => d.decisionId));
    const freshIds = new Set(fresh.map((d) => d.decisionId));
    assert.ok(order.slice(0, 300).every((id) => !freshIds.has(id)), "the older outbox goes first");
    assert.deepEqual(order.slice(300), fresh.map((d) => d.decisionId));
    assert.deepEqual(await store.list("kizuna:"), []);
    assert.equal(errors.length, 0);
  }));
});

// ---- two instances on one store: tabs, isolates ------------------------------------------

/** An array whose `reach(n)` resolves (to its n-th item) once it holds n items; add with `add`. */
function watchedList() {
  const items = [];
  const waiters = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (items.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(items[w.n - 1]);
      }
    }
  };
  items.reach = (n) => new Promise((resolve) => { waiters.push({ n, resolve }); check(); });
  items.add = (x) => { items.push(x); check(); };
  return items;
}

/**
 * Web Locks (`navigator.locks`, exclusive mode): callbacks for one name run one at a time, in
 * request order. `ifAvailable`: the callback gets null at once while the lock is held or asked
 * for. `steal`: the holder's request rejects with an AbortError (its callback runs on) and the
 * stealer gets the lock at once. `requested` lists the names asked for.
 */
function fakeLocks() {
  const names = new Map();
  const requested = watchedList();
  const grant = (s) => {
    if (s.holder || s.queue.length === 0) return;
    const next = s.queue.shift();
    s.holder = next;
    Promise.resolve().then(() => next.callback({ name: next.name, mode: "exclusive" })).then(next.resolve, next.reject).finally(() => {
      if (s.holder !== next) return; // stolen
      s.holder = undefined;
      grant(s);
    });
  };
  return {
    requested,
    request(name, options, callback) {
      if (typeof options === "function") [options, callback] = [{}, options];
      requested.add(name);
      if (!names.has(name)) names.set(name, { holder: undefined, queue: [] });
      const s = names.get(name);
      if (options.ifAvailable && (s.holder || s.queue.length > 0)) return Promise.resolve().then(() => callback(null));
      return new Promise((resolve, reject) => {
        const entry = { name, callback, resolve, reject };
        if (options.steal && s.holder) {
          s.holder.reject(new DOMException("the lock was stolen", "AbortError"));
          s.holder = undefined;
          s.queue.unshift(entry);
        } else {
          s.queue.push(entry);
        }
        grant(s);
      });
    },
  };
}

/** Runs `fn(locks)` with `globalThis.navigator.locks` set to a fakeLocks(). */
async function withLocks(fn) {
  const locks = fakeLocks();
  const saved = Object.getOwnPropertyDescriptor(globalThis, "navigator");
  Object.defineProperty(globalThis, "navigator", { value: { locks }, configurable: true, writable: true });
  try {
    return await fn(locks);
  } finally {
    if (saved) Object.defineProperty(globalThis, "navigator", saved);
    else delete globalThis.navigator;
  }
}

/** A fetch that answers when the test says: `calls.reach(n)` gives the n-th call, `call.answer(status)` answers it. */
function heldFetch() {
  const calls = watchedList();
  const fetch = (url, init) => new Promise((resolve) => {
    calls.add({ decisionIds: JSON.parse(init.body).decisions.map((d) => d.decisionId), answer: (status) => resolve(new Response(status < 300 ? null : "later", { status })) });
  });
  return { fetch, calls };
}

const nowhere = { url: "https://backend.example/decisions" }; // for clients whose fetch is held

/**
 * A store over `inner` whose first dead-letter put, once written, does not return until
 * `release()`: a flush held between the dead letter's put and the removal of its record.
 * `written` resolves when it is written.
 */
function heldDeadLetter(inner) {
  let reached;
  let release;
  const written = new Promise((resolve) => { reached = resolve; });
  const gate = new Promise((resolve) => { release = resolve; });
  let held = false;
  const store = {
    get: (k) => inner.get(k),
    delete: (k) => inner.delete(k),
    list: (p, o) => inner.list(p, o),
    put: async (k, v) => {
      await inner.put(k, v);
      if (k.startsWith(DEAD_PREFIX) && !held) {
        held = true;
        reached();
        await gate;
      }
    },
  };
  return { store, written, release };
}

/** The outbox keys of one decision. */
async function recordsOf(store, decisionId) {
  return (await store.list(QUEUE_PREFIX)).filter((k) => k.endsWith(`:${decisionId}`));
}

const ticks = async (n = 20) => { for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve)); };

describe("two instances on one store", () => {
  test("two tabs on one localStorage flush under navigator.locks: while one sends, the other sends nothing and comes back (pending > 0, nextAttemptAt); each decision goes once", () => withLocks(async (locks) => {
    const storage = new StorageShim();
    const a = heldFetch();
    const b = heldFetch();
    const tabA = makeClient(nowhere, new LocalStorageStore(storage, "quiz:"), { client: { fetch: a.fetch, maxFlushMs: 0 } });
    const tabB = makeClient(nowhere, new LocalStorageStore(storage, "quiz:"), { client: { fetch: b.fetch, maxFlushMs: 0 } });
    await tabA.client.enqueue(decisions(0, 3));
    const flushA = tabA.client.flush();
    const sending = await a.calls.reach(1);
    // Tab B does not wait for the lock (nor, without one, send the same decisions).
    const busy = await Promise.race([tabB.client.flush(), b.calls.reach(1).then(() => "sent")]);
    assert.deepEqual(busy, { sent: 0, retried: 0, deadLettered: 0, pending: 3, nextAttemptAt: T0 + 1000 });
    sending.answer(200);
    assert.deepEqual(await flushA, { sent: 3, retried: 0, deadLettered: 0, pending: 0 });
    assert.deepEqual(await tabB.client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: 0 }, "back later: nothing left");
    assert.equal(b.calls.length, 0, "tab B sent nothing");
    assert.deepEqual([...locks.requested], ["kizuna-sync:quiz:", "kizuna-sync:quiz:", "kizuna-sync:quiz:"]);
  }));

  test("a tab holding the lock for long (a stuck or throttled background tab): flush() does not wait for it, whatever maxFlushMs; later calls are not stuck either, and once it is free the flush sends", () => withLocks(async (locks) => withBackend(async (backend) => {
    const store = new LocalStorageStore(new StorageShim(), "app:");
    let release;
    locks.request(store.lockName, () => new Promise((resolve) => { release = resolve; })); // the other tab
    const { client, time } = makeClient(backend, store, { client: { maxFlushMs: 20_000 } });
    await client.enqueue(decision(1));
    const come = { sent: 0, retried: 0, deadLettered: 0, pending: 1, nextAttemptAt: T0 + 1000 };
    assert.deepEqual(await client.flush({ maxFlushMs: 0 }), come);
    assert.deepEqual(await client.flush(), come, "not a promise stuck on the other tab");
    assert.equal(backend.requests.length, 0);
    release();
    await new Promise((resolve) => setImmediate(resolve)); // the other tab lets go
    time.t += 1000;
    assert.deepEqual(await client.flush(), { sent: 1, retried: 0, deadLettered: 0, pending: 0 });
    // An empty outbox while another tab holds the lock: nothing is left to come back for.
    locks.request(store.lockName, () => new Promise((resolve) => { release = resolve; }));
    assert.deepEqual(await client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: 0 });
    release();
  })));

  test("while another tab holds the store's lock, requeueDeadLetters and deleteDeadLetters move nothing and say when to come back (nextAttemptAt a second later), as a flush does: a loop on pending does not spin", () => withLocks(async (locks) => withBackend(async (backend) => {
    const store = new LocalStorageStore(new StorageShim(), "app:");
    const { client, time } = makeClient(backend, store, { client: { maxFlushMs: 0 } });
    const ds = decisions(0, 3);
    await client.enqueue(ds);
    backend.script.push({ status: 401 });
    assert.equal((await client.flush()).deadLettered, 3);
    let release;
    locks.request(store.lockName, () => new Promise((resolve) => { release = resolve; })); // the other tab
    time.t += 5;
    assert.deepEqual(await client.requeueDeadLetters(), { requeued: 0, pending: 3, nextAttemptAt: T0 + 1005 });
    assert.deepEqual(await client.requeueDeadLetters([ds[0].decisionId]), { requeued: 0, pending: 1, nextAttemptAt: T0 + 1005 });
    assert.deepEqual(await client.deleteDeadLetters(), { deleted: 0, pending: 3, nextAttemptAt: T0 + 1005 });
    assert.equal((await client.deadLetters()).length, 3, "nothing moved");
    release();
    await new Promise((resolve) => setImmediate(resolve)); // the other tab lets go
    assert.deepEqual(await client.requeueDeadLetters([ds[0].decisionId]), { requeued: 1, pending: 0 }, "done: no nextAttemptAt");
    assert.deepEqual(await client.deleteDeadLetters(), { deleted: 2, pending: 0 });
    // Nothing asked for while the lock is held elsewhere: nothing to come back for.
    locks.request(store.lockName, () => new Promise((resolve) => { release = resolve; }));
    assert.deepEqual(await client.deleteDeadLetters(), { deleted: 0, pending: 0 });
    assert.deepEqual(await client.requeueDeadLetters([]), { requeued: 0, pending: 0 });
    release();
  })));

  test("a lock stolen during a flush (steal: true in another tab): flush() still resolves with what it did, it never rejects", () => withLocks(async (locks) => {
    const store = new LocalStorageStore(new StorageShim(), "app:");
    const a = heldFetch();
    const { client } = makeClient(nowhere, store, { client: { fetch: a.fetch, maxFlushMs: 0 } });
    await client.enqueue(decision(1));
    const flushing = client.flush();
    const sending = await a.calls.reach(1);
    const stolen = locks.request(store.lockName, { steal: true }, async () => "stolen");
    assert.equal(await stolen, "stolen");
    sending.answer(200);
    assert.deepEqual(await flushing, { sent: 1, retried: 0, deadLettered: 0, pending: 0 });
  }));

  test("a lock that cannot be taken does not stop a flush, and says so once; stores without a lock name (memory, KV, Durable Object) take none", () => withBackend(async (backend) => {
    let asked = 0;
    const refused = { request: async () => { asked++; throw new DOMException("no locks here", "SecurityError"); } };
    const tab = makeClient(backend, new LocalStorageStore(new StorageShim(), "q:"), { client: { locks: refused } });
    await tab.client.enqueue(decision(1));
    assert.deepEqual(await tab.client.flush(), { sent: 1, retried: 0, deadLettered: 0, pending: 0 });
    await tab.client.enqueue(decision(3));
    assert.deepEqual(await tab.client.flush(), { sent: 1, retried: 0, deadLettered: 0, pending: 0 });
    assert.equal(asked, 2, "asked again: a SecurityError is not about the locks object");
    assert.deepEqual(tab.errors.map((e) => [e.kind, e.outcome]), [["store", "kept"]], "reported once");
    assert.match(tab.errors[0].message, /^kizuna sync: flushing without the store's lock "kizuna-sync:q:": locks\.request\(name, \{ifAvailable: true\}, callback\) failed \(SecurityError: no locks here\); another tab can send the same decisions \(delivery stays at least once\)$/);
    const locks = fakeLocks();
    const kv = makeClient(backend, new KvStore(new FakeKvNamespace()), { client: { locks } });
    await kv.client.enqueue(decision(2));
    assert.deepEqual(await kv.client.flush(), { sent: 1, retried: 0, deadLettered: 0, pending: 0 });
    assert.equal(locks.requested.length, 0);
    assert.equal(new IndexedDbStore("db", { indexedDB: { open() {} } }).lockName, "kizuna-sync:indexeddb:db/kv");
  }));

  test("a custom locks object with the older request(name, callback) (it takes the options for its callback and throws): flushes still send, unlocked, reported once with what to change, and it is not asked again", () => withBackend(async (backend) => {
    let held = 0;
    let asked = 0;
    const oldLocks = { request: async (name, callback) => { asked++; held++; try { return await callback({ name }); } finally { held--; } } };
    const store = new LocalStorageStore(new StorageShim(), "q:");
    let heldDuringSend;
    const fetch = (url, init) => { heldDuringSend = held; return globalThis.fetch(url, init); };
    const tab = makeClient(backend, store, { client: { locks: oldLocks, fetch } });
    await tab.client.enqueue(decision(1));
    assert.deepEqual(await tab.client.flush(), { sent: 1, retried: 0, deadLettered: 0, pending: 0 });
    assert.equal(heldDuringSend, 0, "sent without the lock");
    await tab.client.enqueue(decision(2));
    assert.deepEqual(await tab.client.flush(), { sent: 1, retried: 0, deadLettered: 0, pending: 0 });
    assert.equal(asked, 1, "not asked again: an old request() waits for the lock before it fails");
    assert.deepEqual(tab.errors.map((e) => [e.kind, e.outcome]), [["store", "kept"]], "reported once");
    assert.match(tab.errors[0].message, /^kizuna sync: flushing without the store's lock "kizuna-sync:q:": locks\.request\(name, \{ifAvailable: true\}, callback\) failed \(TypeError: .*\); another tab can send the same decisions \(delivery stays at least once\); a custom locks object must take request\(name, options, callback\) like navigator\.locks$/);
    assert.ok(tab.errors[0].cause instanceof TypeError);

    // One that resolves without ever calling back (not the Web Locks API) is not taken for a
    // lock held elsewhere, which would make every flush send nothing.
    const silent = makeClient(backend, new LocalStorageStore(new StorageShim(), "s:"), { client: { locks: { request: async () => undefined } } });
    await silent.client.enqueue(decision(3));
    assert.deepEqual(await silent.client.flush(), { sent: 1, retried: 0, deadLettered: 0, pending: 0 });
    assert.match(silent.errors[0].message, /locks\.request\(name, \{ifAvailable: true\}, callback\) resolved without calling its callback; .* like navigator\.locks$/);
  }));

  test("a decision recorded twice (two tabs enqueuing at once): removing the record the index does not name keeps the index, so the other record still makes an enqueue of it a duplicate", () => withBackend(async (backend) => {
    const store = new MemoryStore();
    const time = fakeTime();
    const a = makeClient(backend, store, { time }).client;
    const b = makeClient(backend, store, { time: fakeTime(T0 + 80) }).client;
    const x = decision(0);
    await Promise.all([a.enqueue(x), b.enqueue(x)]);
    const [first, second] = (await store.list(QUEUE_PREFIX)).filter((k) => k.endsWith(`:${x.decisionId}`));
    assert.equal(await store.get(`kizuna:queued:${x.decisionId}`), second, "the index names tab B's record");
    for (const d of decisions(1, 6)) { time.t++; await a.enqueue(d); } // between the two records
    // A window of 4 records (batchSize 1) holds the first record of x, not the second.
    const { client } = makeClient(backend, store, { time, client: { batchSize: 1, maxFlushMs: 0 } });
    assert.equal((await client.flush()).sent, 4);
    assert.equal(await store.get(first), undefined, "the record sent is removed");
    assert.equal(await store.get(`kizuna:queued:${x.decisionId}`), second, "the index still names the record left");
    assert.deepEqual(await client.enqueue(x), { enqueued: 0, duplicates: 1 }, "not a third record");
    while ((await client.flush()).pending !== 0);
    assert.deepEqual(await store.list("kizuna:"), [], "no record or index entry left");
  }));

  test("two tabs requeueing one dead letter at once (both at start-up) leave one record of it: the store's lock lets one requeue at a time", () => withLocks(async () => withBackend(async (backend) => {
    const storage = new StorageShim();
    const tabA = makeClient(backend, new LocalStorageStore(storage, "quiz:"), { client: { maxFlushMs: 0 } });
    const tabB = makeClient(backend, new LocalStorageStore(storage, "quiz:"), { client: { maxFlushMs: 0 } });
    const x = decision(0);
    await tabA.client.enqueue(x);
    backend.script.push({ status: 401 });
    assert.equal((await tabA.client.flush()).deadLettered, 1);
    const results = await Promise.all([tabA.client.requeueDeadLetters(), tabB.client.requeueDeadLetters([x.decisionId])]);
    assert.deepEqual(results, [{ requeued: 1, pending: 0 }, { requeued: 0, pending: 1, nextAttemptAt: T0 + 1000 }], "tab B moved nothing while tab A held the lock, and says so");
    assert.equal((await recordsOf(new LocalStorageStore(storage, "quiz:"), x.decisionId)).length, 1, "one record");
    assert.deepEqual(await tabB.client.requeueDeadLetters([x.decisionId]), { requeued: 0, pending: 0 }, "once free: nothing left to requeue");
    assert.deepEqual(await tabA.client.deadLetters(), []);
    while ((await tabB.client.flush()).pending !== 0);
    assert.equal(backend.count(x.decisionId), 1);
  })));

  test("without a lock (two isolates on one store), a requeue while another instance dead-letters the decision (its dead letter written, its record not yet removed) does not lose it: one record of it is left", () => withBackend(async (backend) => {
    const inner = new MemoryStore();
    const held = heldDeadLetter(inner);
    const a = makeClient(backend, held.store, { client: { maxFlushMs: 0 } }).client;
    const b = makeClient(backend, inner, { time: fakeTime(T0 + 5) }).client;
    const x = decision(0);
    await a.enqueue(x);
    backend.script.push({ status: 401 });
    const flushing = a.flush();
    await held.written;
    assert.deepEqual(await b.requeueDeadLetters(), { requeued: 1, pending: 0 });
    held.release();
    assert.equal((await flushing).deadLettered, 1);
    assert.equal((await recordsOf(inner, x.decisionId)).length, 1, "in the outbox, once");
    assert.deepEqual(await b.deadLetters(), []);
    assert.equal(await inner.get(`kizuna:queued:${x.decisionId}`), (await recordsOf(inner, x.decisionId))[0], "indexed");
    while ((await b.flush()).pending !== 0);
    assert.equal(backend.count(x.decisionId), 1);
    assert.deepEqual(await inner.list("kizuna:"), []);
  }));

  test("without a lock (two isolates on one store), a decision requeued while the flush that dead-lettered it goes on is not taken for another copy of it: kept, counted, sent by the next flush", () => withBackend(async (backend) => {
    const store = new MemoryStore();
    const a = heldFetch();
    const first = makeClient(nowhere, store, { client: { fetch: a.fetch, batchSize: 1, maxFlushMs: 0 } });
    const second = makeClient(backend, store, { time: fakeTime(T0 + 5) }).client;
    const [x, y] = decisions(0, 2);
    await first.client.enqueue([x, y]);
    const flushing = first.client.flush();
    (await a.calls.reach(1)).answer(401); // x: dead-lettered
    const sendingY = await a.calls.reach(2);
    assert.deepEqual(await second.requeueDeadLetters(), { requeued: 1, pending: 0 });
    sendingY.answer(200);
    assert.deepEqual(await flushing, { sent: 1, retried: 0, deadLettered: 1, pending: 1, nextAttemptAt: T0 });
    assert.equal((await recordsOf(store, x.decisionId)).length, 1, "x is in the outbox");
    assert.deepEqual(await second.flush(), { sent: 1, retried: 0, deadLettered: 0, pending: 0 });
    assert.equal(backend.count(x.decisionId), 1);
    assert.deepEqual(await store.list("kizuna:"), []);
  }));

  for (const status of [503, 401]) {
    test(`without a lock (one KV namespace, two isolates), a late ${status} in one instance does not bring back or dead-letter what the other delivered meanwhile`, () => withBackend(async (backend) => {
      const store = new KvStore(new FakeKvNamespace());
      const a = heldFetch();
      const first = makeClient(nowhere, store, { client: { fetch: a.fetch, maxFlushMs: 0 } });
      const second = makeClient(backend, store, { client: { maxFlushMs: 0 } });
      await first.client.enqueue(decisions(0, 3));
      const late = first.client.flush();
      const sending = await a.calls.reach(1);
      assert.deepEqual(await second.client.flush(), { sent: 3, retried: 0, deadLettered: 0, pending: 0 });
      sending.answer(status);
      assert.deepEqual(await late, { sent: 0, retried: 0, deadLettered: 0, pending: 0 });
      assert.deepEqual(await store.list("kizuna:"), [], "nothing written back, no dead letter");
      assert.deepEqual(first.errors, []);
      assert.deepEqual(await first.client.flush(), { sent: 0, retried: 0, deadLettered: 0, pending: 0 });
      for (const d of decisions(0, 3)) assert.equal(backend.count(d.decisionId), 1);
    }));
  }
});

// ---- the package: exports, files, types, a real browser ---------------------------------

describe("package", () => {
  test("kizuna/sync is exported and shipped", () => {
    const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
    assert.deepEqual(pkg.exports["./sync"], { types: "./sync.d.ts", default: "./sync.js" });
    const out = execFileSync("npm", ["pack", "--dry-run", "--json"], { cwd: pkgDir, encoding: "utf8" });
    const paths = JSON.parse(out)[0].files.map((f) => f.path);
    for (const p of ["sync.js", "sync.d.ts", "sync/sha256.js", "sync/stores.js"]) assert.ok(paths.includes(p), p);
  });

  test("sync.js imports nothing from Node", () => {
    for (const f of ["sync.js", "sync/sha256.js", "sync/stores.js"]) {
      const src = readFileSync(join(pkgDir, f), "utf8");
      const imports = [...src.matchAll(/^\s*(?:import|export)[^;]*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]);
      assert.ok(imports.every((i) => i.startsWith("./")), `${f}: ${imports}`);
      assert.doesNotMatch(src, /\bnode:|\brequire\(|\bBuffer\b|\bprocess\.env/);
    }
  });

  const tsc = join(pkgDir, "node_modules/typescript/bin/tsc");
  const haveTypes = existsSync(tsc) && existsSync(join(pkgDir, "dist/contract.d.ts"));
  test("sync.d.ts type-checks for a consumer of kizuna/sync", { skip: !haveTypes && "typescript or dist/contract.d.ts missing" }, () => {
    const project = mkdtempSync(join(tmpdir(), "kizuna-sync-types-"));
    try {
      mkdirSync(join(project, "node_modules"));
      symlinkSync(pkgDir, join(project, "node_modules/kizuna"), "dir");
      writeFileSync(join(project, "package.json"), JSON.stringify({ name: "c", private: true, type: "module" }));
      writeFileSync(join(project, "consumer.ts"), `
        import { SyncClient, MemoryStore, KvStore, DurableObjectStore, LocalStorageStore, IndexedDbStore, batchIdFor,
          type Decision, type FlushResult, type SyncError, type SyncStore, type DeadLetter, type RequeueResult, type DeleteResult, SyncError as SyncErrorClass } from "kizuna/sync";
        declare const kv: { get(k: string, o: { type: "text" }): Promise<string | null>; put(k: string, v: string): Promise<void>;
          delete(k: string): Promise<void>; list(o: { prefix?: string; cursor?: string }): Promise<{ keys: { name: string }[]; list_complete: boolean; cursor?: string }> };
        declare const ctx: { waitUntil(p: Promise<unknown>): void };
        const store: SyncStore = new KvStore(kv);
        const client = new SyncClient({
          endpoint: "https://example.com/kizuna", store, source: { runtime: "workerd", app: "line-webhook" },
          getHeaders: async () => ({ authorization: "Bearer x" }), onError: (e: SyncError) => { const s: number | undefined = e.status; void s; },
        });
        const d: Decision = { version: 1, decisionId: "0".repeat(32), configHash: "1".repeat(32), userId: "U1", now: "2025-01-01T00:00:00Z", segments: [] };
        async function main(): Promise<void> {
          await client.enqueue(d); await client.enqueue([d]);
          const r: FlushResult = await client.flush(); const n: number = r.sent + r.retried + r.deadLettered + (r.pending ?? 0); const next: number | undefined = r.nextAttemptAt; void next;
          const dead: DeadLetter[] = await client.deadLetters(); const moved: RequeueResult = await client.requeueDeadLetters(dead.map((x) => x.decisionId));
          const left: number = moved.requeued + moved.pending; const gone: DeleteResult = await client.deleteDeadLetters(); void left; void (gone.deleted + gone.pending);
          const again: number | undefined = moved.nextAttemptAt ?? gone.nextAttemptAt; void again;
          void client.flushInBackground(ctx); void n; void moved; void (await client.pending());
          void new MemoryStore(); void new LocalStorageStore(); void new DurableObjectStore({ storage: {} as any }); void new IndexedDbStore("db");
          const id: string = batchIdFor(["a"]); void id; void new SyncErrorClass("x"); void new SyncErrorClass("y", { kind: "store" });
          const first: string[] = await store.list("kizuna:queue:", { limit: 10 }); void first;
          const tabs = new LocalStorageStore(); const lock: string | undefined = tabs.lockName; void lock;
          void new SyncClient({ endpoint: "/decisions", store: tabs, locks: navigator.locks });
        }
        void main;
        // @ts-expect-error endpoint is required
        new SyncClient({ store });
      `);
      writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", skipLibCheck: false }, files: ["consumer.ts"] }));
      execFileSync(process.execPath, [tsc, "-p", project], { cwd: project, encoding: "utf8" });
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
  test("in Chromium: IndexedDbStore passes the store tests and a client delivers through it", { skip: !chromium && "no Debian chromium", timeout: 60_000 }, async () => {
    // Serve the page, pkg/sync*.js and the mock backend from one origin (no CORS in the way).
    let report;
    const gotReport = new Promise((resolve) => { report = resolve; });
    const received = new Map();
    const keys = [];
    let failFirst = true;
    const page = `<!doctype html><script type="module">
      import { SyncClient, IndexedDbStore, batchIdFor } from "/pkg/sync.js";
      const out = { steps: [] };
      try {
        const s = new IndexedDbStore("kizuna-test");
        await s.put("kizuna:outbox:b", { n: 1 }); await s.put("kizuna:outbox:a", { n: 2 }); await s.put("kizuna:dead:a", { n: 3 });
        out.list = await s.list("kizuna:outbox:");
        out.limited = await s.list("kizuna:outbox:", { limit: 1 });
        out.get = await s.get("kizuna:outbox:b");
        out.missing = await s.get("nope");
        await s.delete("kizuna:outbox:a"); await s.delete("kizuna:outbox:b"); await s.delete("kizuna:dead:a");
        out.afterDelete = await s.list("");
        const ds = [1, 2, 3].map((n) => ({ version: 1, decisionId: String(n).repeat(32), configHash: "c".repeat(32), userId: "U" + n, now: "2025-04-01T09:00:00+09:00", segments: [] }));
        const a = new SyncClient({ endpoint: "/decisions", store: new IndexedDbStore("kizuna-test"), source: { runtime: "browser", app: "liff-test" }, maxFlushMs: 0 });
        out.enqueue = await a.enqueue(ds);
        out.first = await a.flush();            // the backend answers 503 once
        // A "page reload": a new client on the same database.
        const b = new SyncClient({ endpoint: "/decisions", store: new IndexedDbStore("kizuna-test"), source: { runtime: "browser", app: "liff-test" }, now: () => Date.now() + 120000 });
        out.pendingAfterReload = await b.pending();
        out.second = await b.flush();
        // Two tabs' clients on one database flushing at once: the Web Lock lets one send.
        const more = [4, 5, 6].map((n) => ({ ...ds[0], decisionId: String(n).repeat(32) }));
        const tab = () => new SyncClient({ endpoint: "/decisions", store: new IndexedDbStore("kizuna-test-2"), source: { runtime: "browser", app: "liff-test" }, maxFlushMs: 0 });
        const [c, d] = [tab(), tab()];
        await c.enqueue(more);
        out.together = await Promise.all([c.flush(), d.flush()]);
      } catch (e) { out.error = String(e && e.stack || e); }
      await fetch("/report", { method: "POST", body: JSON.stringify(out) });
    </script>`;
    const server = createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const url = new URL(req.url, "http://x");
        if (url.pathname === "/") { res.writeHead(200, { "content-type": "text/html" }); res.end(page); return; }
        if (url.pathname.startsWith("/pkg/") && /^[\w/.]+\.js$/.test(url.pathname) && !url.pathname.includes("..")) {
          res.writeHead(200, { "content-type": "text/javascript" });
          res.end(readFileSync(join(pkgDir, url.pathname.slice(5))));
          return;
        }
        if (url.pathname === "/decisions") {
          keys.push(req.headers["idempotency-key"]);
          if (failFirst) { failFirst = false; res.writeHead(503); res.end("later"); return; }
          for (const d of JSON.parse(Buffer.concat(chunks)).decisions) received.set(d.decisionId, (received.get(d.decisionId) ?? 0) + 1);
          res.writeHead(204); res.end(); return;
        }
        if (url.pathname === "/report") { report(JSON.parse(Buffer.concat(chunks))); res.writeHead(204); res.end(); return; }
        res.writeHead(404); res.end();
      });
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    const profile = mkdtempSync(join(tmpdir(), "kizuna-chromium-"));
    const browser = spawn(chromium, [
      "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
      `--user-data-dir=${profile}`, `http://127.0.0.1:${server.address().port}/`,
    ], { stdio: "ignore", detached: true }); // own process group: its helpers end with it
    const exited = new Promise((resolve) => browser.once("exit", resolve));
    try {
      const out = await Promise.race([gotReport, exited.then((code) => { throw new Error(`chromium exited (${code}) before reporting`); })]);
      assert.equal(out.error, undefined, out.error);
      assert.deepEqual(out.list, ["kizuna:outbox:a", "kizuna:outbox:b"]);
      assert.deepEqual(out.limited, ["kizuna:outbox:a"]);
      assert.deepEqual(out.get, { n: 1 });
      assert.equal(out.missing, undefined);
      assert.deepEqual(out.afterDelete, []);
      assert.deepEqual(out.enqueue, { enqueued: 3, duplicates: 0 });
      const { nextAttemptAt, ...first } = out.first;
      assert.deepEqual(first, { sent: 0, retried: 3, deadLettered: 0, pending: 3 });
      assert.equal(typeof nextAttemptAt, "number");
      assert.equal(out.pendingAfterReload, 3);
      assert.deepEqual(out.second, { sent: 3, retried: 0, deadLettered: 0, pending: 0 });
      assert.equal(keys[1], keys[0], "the retry after the reload keeps the batch's key");
      assert.match(keys[0], /^[0-9a-f]{64}$/);
      // The second tab does not wait for the lock: it sends nothing, and says to come back
      // while the first still had the decisions (pending > 0 then comes with nextAttemptAt).
      const [firstTab, second] = out.together;
      assert.deepEqual(firstTab, { sent: 3, retried: 0, deadLettered: 0, pending: 0 });
      assert.deepEqual({ ...second, pending: undefined, nextAttemptAt: undefined }, { sent: 0, retried: 0, deadLettered: 0, pending: undefined, nextAttemptAt: undefined });
      assert.ok(second.pending === 0 || (second.pending > 0 && typeof second.nextAttemptAt === "number"), JSON.stringify(second));
      assert.equal(keys.length, 3, "one request for the two tabs");
      assert.deepEqual([...received.values()], [1, 1, 1, 1, 1, 1]);
    } finally {
      if (browser.exitCode === null && browser.signalCode === null) process.kill(-browser.pid, "SIGTERM");
      await exited;
      try { process.kill(-browser.pid, "SIGKILL"); } catch { /* group already gone */ }
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  });
});

// workerd (Cloudflare's runtime) when its npm package is installed somewhere in the repository
// (or WORKERD names the binary): real Durable Object storage, the default global fetch,
// ctx.waitUntil, and runtime detection.
const workerd = [process.env.WORKERD, join(root, "www/node_modules/.bin/workerd"), join(root, "node_modules/.bin/workerd"), join(pkgDir, "node_modules/.bin/workerd")]
  .find((p) => p && existsSync(p));
test("in workerd: DurableObjectStore outbox, default fetch, flushInBackground", { skip: !workerd && "workerd not installed", timeout: 60_000 }, async () => {
  const backend = await startBackend();
  backend.script.push({ status: 503 });
  const free = await startBackend();
  const port = free.port;
  await free.close();
  const dir = mkdtempSync(join(tmpdir(), "kizuna-workerd-"));
  mkdirSync(join(dir, "sync"));
  for (const f of ["sync.js", "sync/sha256.js", "sync/stores.js"]) writeFileSync(join(dir, f), readFileSync(join(pkgDir, f)));
  writeFileSync(join(dir, "worker.js"), `
    import { SyncClient, DurableObjectStore, MemoryStore } from "./sync.js";
    const ds = [1, 2, 3].map((n) => ({ version: 1, decisionId: String(n).repeat(32), configHash: "c".repeat(32), userId: "U" + n, now: "2025-04-01T09:00:00+09:00", segments: [] }));
    export class Outbox {
      constructor(state, env) { this.state = state; this.env = env; }
      async fetch(req) {
        const url = new URL(req.url);
        const offset = Number(url.searchParams.get("offset") ?? 0);
        const errors = [];
        // A new client per request, as a Worker should: the store carries the state.
        // A fixed 30 s backoff: full jitter could make it a few ms, already past when the next
        // request comes (a flaky "sent: 3" on a busy machine).
        const client = new SyncClient({ endpoint: this.env.BACKEND, store: new DurableObjectStore(this.state), maxFlushMs: 0,
          baseDelayMs: 30_000, random: () => 1,
          now: () => Date.now() + offset, onError: (e) => { errors.push([e.kind, e.status, e.outcome]); } });
        const out = {};
        if (url.pathname === "/enqueue") out.enqueue = await client.enqueue(ds);
        out.flush = await client.flush();
        out.errors = errors;
        return Response.json(out);
      }
    }
    export default {
      async fetch(req, env, ctx) {
        if (new URL(req.url).pathname === "/background") {
          const client = new SyncClient({ endpoint: env.BACKEND, store: new MemoryStore() });
          await client.enqueue({ ...ds[0], decisionId: "f".repeat(32) });
          client.flushInBackground(ctx);
          return new Response("queued");
        }
        return env.OUTBOX.get(env.OUTBOX.idFromName("one")).fetch(req);
      },
    };
  `);
  writeFileSync(join(dir, "config.capnp"), `
    using Workerd = import "/workerd/workerd.capnp";
    const config :Workerd.Config = (
      services = [ (name = "main", worker = .w), (name = "net", network = (allow = ["public", "private", "local"])) ],
      sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
    );
    const w :Workerd.Worker = (
      modules = [
        (name = "worker.js", esModule = embed "worker.js"),
        (name = "sync.js", esModule = embed "sync.js"),
        (name = "sync/sha256.js", esModule = embed "sync/sha256.js"),
        (name = "sync/stores.js", esModule = embed "sync/stores.js"),
      ],
      compatibilityDate = "2025-01-01",
      globalOutbound = "net",
      durableObjectNamespaces = [ (className = "Outbox", uniqueKey = "kizuna-sync-test") ],
      durableObjectStorage = (inMemory = void),
      bindings = [ (name = "OUTBOX", durableObjectNamespace = "Outbox"), (name = "BACKEND", text = "${backend.url}") ],
    );
  `);
  const child = spawn(workerd, ["serve", join(dir, "config.capnp")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c) => { stderr += c; });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const base = `http://127.0.0.1:${port}`;
  const get = async (path) => (await fetch(base + path)).json();
  try {
    for (let i = 0; ; i++) { // wait until workerd listens
      try { await fetch(base + "/ping"); break; } catch (e) {
        if (i > 100 || child.exitCode !== null) throw new Error(`workerd did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    backend.requests.length = 0;
    backend.received.clear();
    backend.script.splice(0, Infinity, { status: 503 });
    const before = Date.now();
    const a = await get("/enqueue");
    const retryAt = a.flush.nextAttemptAt;
    assert.ok(retryAt >= before + 30_000 && retryAt <= Date.now() + 30_000, `nextAttemptAt ${retryAt - before} ms after the request`);
    assert.deepEqual(a, { enqueue: { enqueued: 3, duplicates: 0 }, flush: { sent: 0, retried: 3, deadLettered: 0, pending: 3, nextAttemptAt: retryAt }, errors: [["http", 503, "retry"]] });
    assert.deepEqual((await get("/flush")).flush, { sent: 0, retried: 0, deadLettered: 0, pending: 3, nextAttemptAt: retryAt }, "backing off (stored in the Durable Object)");
    assert.deepEqual((await get("/flush?offset=120000")).flush, { sent: 3, retried: 0, deadLettered: 0, pending: 0 });
    assert.equal((await fetch(base + "/background")).status, 200);
    for (let i = 0; backend.requests.length < 3 && i < 100; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(backend.requests.length, 3);
    assert.equal(backend.requests[0].headers["idempotency-key"], backend.requests[1].headers["idempotency-key"]);
    assert.deepEqual(backend.requests[2].body.source, { runtime: "workerd" });
    assert.deepEqual([...backend.received.values()], [1, 1, 1, 1]);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill();
    await exited;
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
