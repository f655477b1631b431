// kizuna/sync — deliver Decision documents to a backend, durably and at least once.
//
// Plain ES module with no dependencies and no Node-only imports: the same file runs in
// Cloudflare workerd, browsers (LIFF) and Node >= 18. Flow:
//
//   enqueue(decision) -> store "kizuna:queue:<enqueuedAt>.<seq>:<decisionId>" (durable first)
//                        and the index "kizuna:queued:<decisionId>" (an enqueue of the same
//                        decisionId is skipped)
//   flush()           -> read the oldest min(4 × batchSize, 200) records (keys sort by enqueue
//                        time), POST {version, type, batchId, sentAt, source, decisions} per batch
//                        2xx        -> delete from the outbox
//                        408/429/5xx, network error, timeout, a 2xx that is a web page (HTML)
//                                   -> keep, back off, retry
//                        400/413/422 -> split the batch in halves and send each, so
//                                      only the refused decisions are dead-lettered
//                        other 4xx  -> move to "kizuna:dead:<decisionId>"
//                                      (unless listed in options.retryStatuses: then retried)
//
// Delivery is at least once; backends make it exactly once by storing decisions by decisionId.
import { sha256Hex } from "./sync/sha256.js";

export { MemoryStore, LocalStorageStore, IndexedDbStore, KvStore, DurableObjectStore } from "./sync/stores.js";

// Outbox records: the key sorts by enqueue time, so a flush lists just the oldest few (a store
// like Workers KV allows about 1,000 operations per invocation: reading a whole outbox of
// thousands of decisions on every flush would never drain it).
export const QUEUE_PREFIX = "kizuna:queue:";
// decisionId → its record's key: lets enqueue skip a decision already queued (internal).
const QUEUED_PREFIX = "kizuna:queued:";
// Records of the previous format ("kizuna:outbox:<decisionId>", no enqueue time in the key,
// kizuna/sync before the queue keys): still read and sent first, so an outbox written by an
// older version is delivered after an upgrade. Nothing writes new ones.
export const OUTBOX_PREFIX = "kizuna:outbox:";
export const DEAD_PREFIX = "kizuna:dead:";
// Outbox records this version cannot send (a newer record version, a value that is not a
// record), moved out of the queue so they do not hold it up: "kizuna:held:" + the key after
// "kizuna:" (e.g. kizuna:held:queue:<stamp>:<decisionId>). Nothing here reads them back.
const HELD_PREFIX = "kizuna:held:";
const KEY_ROOT = "kizuna:";

// A client that writes a newer version must also read back the records an older client moved
// to `kizuna:held:` (they are its own records, which the older one could not send).
const RECORD_VERSION = 1;
const MAX_ERROR_BODY = 2048; // characters of a failed response kept for onError / dead letters
const READ_CONCURRENCY = 32; // parallel store reads when loading the outbox
// A flush reads at most min(4 × batchSize, 200) outbox records: a few requests' worth. (Its
// store operations are bounded by maxFlushOps, see SETTLE_OPS.)
const WINDOW_BATCHES = 4;
const WINDOW_MAX = 200;
// Reads per flush, in records of its window: keys that turn out deleted, unreadable or moved
// aside use reads but not the window, so up to this many times the window of them at the head
// of the outbox still lets a flush through to the records behind.
const READS_PER_WINDOW = 2;
// How long a list may still show a deleted key (Workers KV: up to 60 s): an instance passes
// over the keys it removed itself for this long without reading them again.
const LIST_LAG_MS = 60_000;
// The most keys a flush lists at once: one call of Workers KV's list.
const MAX_LIST = 1000;
// Store operations of #remove: the index entry's read and delete, the record's delete.
const REMOVE_OPS = 3;
// With a budget of store operations per flush (maxFlushOps), the most one decision can cost
// once read: a dead letter (the re-read, the dead letter's put, #remove). A flush starts a
// batch only when what is left covers this for each of its decisions, and the next listing
// (two list calls).
const SETTLE_OPS = 2 + REMOVE_OPS;
const LIST_OPS = 2;
const MIN_FLUSH_OPS = 16;
// requeueDeadLetters and deleteDeadLetters are bounded by maxFlushOps too. Their operations per
// dead letter once read, its delete included: a requeue's outbox check (the index entry, the
// previous format's key, the record the entry names), #write's two puts and the removal of
// the record it was made from, if still there; a delete's delete.
const REQUEUE_OPS = 6 + REMOVE_OPS;
const DELETE_OPS = 1;
// How soon to come back when another instance (tab) holds the store's lock: it is flushing.
const LOCK_BUSY_MS = 1000;
// Statuses that refuse the request's content (malformed, too large, unprocessable): a batch
// is split to find the decisions refused. Other 4xx (401, 403, 404, ...) concern the
// endpoint or credentials, so the whole batch is dead-lettered as it is.
const REJECTS_CONTENT = new Set([400, 413, 422]);

/** How many attempts a batch answered 409 gets before its decisions are dead letters. */
const CONFLICT_ATTEMPTS = 5;

/**
 * The batch id (and Idempotency-Key) of a batch: SHA-256, as 64 lowercase hex digits, of the
 * UTF-8 text of the batch's decisionIds sorted by code unit and joined with "\n", then "\n"
 * and the batch's `sentAt`. A retry of the batch keeps its `sentAt`, so it carries the same key
 * and a byte-identical body; the same decisions sent again as a new request (requeued from the
 * dead letters, enqueued again) get a new `sentAt` and so a new key, as the Idempotency-Key
 * draft asks (one key, one body). A backend can recompute it from the envelope.
 */
export function batchIdFor(decisionIds, sentAt) {
  const ids = [...decisionIds].sort().join("\n");
  return sha256Hex(sentAt === undefined ? ids : `${ids}\n${sentAt}`);
}

/** A delivery or storage problem, passed to `onError`. Never thrown out of flush(). */
export class SyncError extends Error {
  constructor(message, fields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = "SyncError";
    this.kind = fields.kind;
    this.outcome = fields.outcome;
    this.status = fields.status;
    this.body = fields.body;
    this.batchId = fields.batchId;
    this.decisionIds = fields.decisionIds ?? [];
    this.attempt = fields.attempt;
    this.retryAt = fields.retryAt;
  }
}

export class SyncClient {
  #endpoint;
  #store;
  #io; // the store, counting operations (#ops)
  #maxOps; // store operations one flush may make
  #ops = 0; // store operations since the current flush began
  #fetch;
  #headers;
  #getHeaders;
  #source;
  #batchSize;
  #maxBatchBytes;
  #baseDelayMs;
  #maxDelayMs;
  #maxRetryAfterMs;
  #timeoutMs;
  #maxFlushMs;
  #maxAttempts;
  #retryStatuses;
  #random;
  #now;
  #sleep;
  #onError;
  #locks;
  #window;

  #running; // the flush in progress, shared by concurrent callers
  // The last flush or dead-letter move (requeue, delete) of this instance: they run one at a
  // time, so one never acts on records another is moving (see #exclusive).
  #tail = Promise.resolve();
  #gate = 0; // no request before this time (ms): set by the last retryable failure
  #floor = 0; // the clock never goes below this (monotonic; a sleep of n ms means n ms passed)
  #seq = 0; // order of enqueues within one millisecond (#seqAt)
  #seqAt;
  #unreadable = new Set(); // outbox keys already reported as unreadable (reported once)
  #removed = new Map(); // outbox key → when this instance removed it (for LIST_LAG_MS)
  #unlockedReported = false; // a flush ran without the store's lock: reported once
  #locksUnusable = false; // options.locks does not take request(name, options, callback)
  #storeFailures = 0; // flushes in a row that failed on the store: their backoff

  constructor(options) {
    if (!options || typeof options !== "object") throw new TypeError("SyncClient: an options object is required");
    const o = options;

    if (o.endpoint === undefined || o.endpoint === null || o.endpoint === "") throw new TypeError("SyncClient: endpoint is required");
    let url;
    try {
      // Relative endpoints ("/api/decisions") resolve against the page in browsers.
      url = new URL(String(o.endpoint), globalThis.location?.href);
    } catch {
      throw new TypeError(`SyncClient: endpoint is not a valid URL: ${o.endpoint}`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new TypeError("SyncClient: endpoint must be http(s)");
    this.#endpoint = url.href;

    for (const m of ["get", "put", "delete", "list"]) {
      if (!o.store || typeof o.store[m] !== "function") {
        throw new TypeError(`SyncClient: store must implement get, put, delete and list (missing ${m})`);
      }
    }
    this.#store = o.store;
    const store = o.store;
    this.#io = {
      get: (k) => { this.#ops++; return store.get(k); },
      put: (k, v) => { this.#ops++; return store.put(k, v); },
      delete: (k) => { this.#ops++; return store.delete(k); },
      list: (p, options) => { this.#ops++; return store.list(p, options); },
    };
    // A store with a per-invocation operation limit (Workers KV) names a budget for a flush.
    const maxOps = o.maxFlushOps ?? store.maxFlushOps ?? Infinity;
    if (maxOps !== Infinity && (!Number.isInteger(maxOps) || maxOps < MIN_FLUSH_OPS)) {
      throw new TypeError(`SyncClient: maxFlushOps must be an integer of at least ${MIN_FLUSH_OPS}`);
    }
    this.#maxOps = maxOps;

    if (o.fetch !== undefined) {
      if (typeof o.fetch !== "function") throw new TypeError("SyncClient: fetch must be a function");
      const f = o.fetch;
      this.#fetch = (url, init) => f(url, init); // called without a receiver, like a plain function
    } else {
      if (typeof globalThis.fetch !== "function") throw new TypeError("SyncClient: no global fetch; pass options.fetch");
      // Looked up per call and called on globalThis: workerd and browsers throw "Illegal
      // invocation" when fetch is called with another `this`.
      this.#fetch = (url, init) => globalThis.fetch(url, init);
    }

    if (o.headers !== undefined) {
      try {
        this.#headers = [...new Headers(o.headers)];
      } catch (e) {
        throw new TypeError(`SyncClient: invalid headers: ${e.message}`);
      }
    } else {
      this.#headers = [];
    }
    if (o.getHeaders !== undefined && typeof o.getHeaders !== "function") throw new TypeError("SyncClient: getHeaders must be a function");
    this.#getHeaders = o.getHeaders;

    const source = o.source ?? { runtime: detectRuntime() };
    if (typeof source !== "object" || typeof source.runtime !== "string" || source.runtime === "") {
      throw new TypeError("SyncClient: source.runtime must be a non-empty string");
    }
    if (source.app !== undefined && source.app !== null && typeof source.app !== "string") {
      throw new TypeError("SyncClient: source.app must be a string");
    }
    this.#source = source.app == null ? { runtime: source.runtime } : { runtime: source.runtime, app: source.app };

    this.#batchSize = positive("batchSize", o.batchSize ?? 50, true);
    this.#window = Math.min(this.#batchSize * WINDOW_BATCHES, WINDOW_MAX);
    this.#maxBatchBytes = positive("maxBatchBytes", o.maxBatchBytes ?? 256 * 1024, true);
    this.#baseDelayMs = nonNegative("baseDelayMs", o.baseDelayMs ?? 500);
    this.#maxDelayMs = nonNegative("maxDelayMs", o.maxDelayMs ?? 60_000);
    // A Retry-After longer than this (a proxy bug, a misconfigured endpoint) is cut to it.
    this.#maxRetryAfterMs = nonNegative("maxRetryAfterMs", o.maxRetryAfterMs ?? 3_600_000);
    this.#timeoutMs = positive("timeoutMs", o.timeoutMs ?? 10_000, false);
    this.#maxFlushMs = nonNegative("maxFlushMs", o.maxFlushMs ?? 20_000);
    const maxAttempts = o.maxAttempts ?? Infinity;
    if (maxAttempts !== Infinity) positive("maxAttempts", maxAttempts, true);
    this.#maxAttempts = maxAttempts;
    // 4xx statuses that mean "not now" for this backend (e.g. 401/403 while a token is rotated,
    // 404 while a route is deployed): retried with backoff instead of dead-lettered.
    const retryStatuses = o.retryStatuses ?? [];
    if (!Array.isArray(retryStatuses) || retryStatuses.some((s) => !Number.isInteger(s) || s < 400 || s > 499)) {
      throw new TypeError("SyncClient: retryStatuses must be an array of HTTP 4xx status codes");
    }
    this.#retryStatuses = new Set(retryStatuses);

    for (const name of ["random", "now", "sleep", "onError"]) {
      if (o[name] !== undefined && typeof o[name] !== "function") throw new TypeError(`SyncClient: ${name} must be a function`);
    }
    this.#random = o.random ?? Math.random;
    this.#now = o.now ?? Date.now;
    this.#sleep = o.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#onError = o.onError;
    // Web Locks (browsers): held during a flush when the store names a lock (store.lockName).
    const locks = o.locks === undefined ? globalThis.navigator?.locks : o.locks;
    if (locks != null && typeof locks.request !== "function") throw new TypeError("SyncClient: locks must have request() (the Web Locks API)");
    this.#locks = locks ?? undefined;
  }

  /**
   * Write decisions to the outbox. Resolves once they are stored; rejects (with nothing
   * half-validated written) on malformed input, and with the store's error when it fails.
   * A decisionId already in the outbox or the dead letters is skipped (idempotent).
   */
  async enqueue(decisions) {
    const list = Array.isArray(decisions) ? decisions : [decisions];
    // Validate everything before writing anything.
    const fresh = new Map();
    for (const d of list) {
      if (!d || typeof d !== "object" || Array.isArray(d)) throw new TypeError("SyncClient.enqueue: a decision must be an object");
      if (typeof d.decisionId !== "string" || d.decisionId === "") {
        throw new TypeError("SyncClient.enqueue: decision.decisionId must be a non-empty string");
      }
      // A JSON copy: later changes to the caller's object must not change what is sent.
      if (!fresh.has(d.decisionId)) fresh.set(d.decisionId, JSON.parse(JSON.stringify(d)));
    }
    const records = [...fresh.values()].map((decision) => ({
      v: RECORD_VERSION,
      decision,
      ...this.#stamp(),
      attempts: 0,
      nextAttemptAt: 0,
    }));
    const added = await Promise.all(records.map(async (r) => {
      const id = r.decision.decisionId;
      const [queued, dead] = await Promise.all([this.#queued(id), this.#io.get(DEAD_PREFIX + id)]);
      if (queued || dead != null) return false;
      await this.#write(r);
      return true;
    }));
    const enqueued = added.filter(Boolean).length;
    return { enqueued, duplicates: list.length - enqueued };
  }

  /**
   * Send what is due, oldest first, and retry failures with backoff while the next retry falls
   * within maxFlushMs of the start. Never rejects for delivery or storage problems: they go
   * to onError. A call while another flush runs returns that flush's promise.
   */
  flush(options) {
    if (this.#running) return this.#running;
    let budget;
    try {
      budget = options?.maxFlushMs === undefined ? this.#maxFlushMs : nonNegative("maxFlushMs", options.maxFlushMs);
    } catch (e) {
      return Promise.reject(e); // a programming error: rejects (TypeError), never throws
    }
    this.#running = this.#exclusive(() => this.#locked(() => this.#flush(budget), () => this.#busy())).finally(() => { this.#running = undefined; });
    return this.#running;
  }

  /** For Workers: `ctx.waitUntil(client.flush())`. Returns the flush promise. */
  flushInBackground(ctx) {
    if (ctx !== undefined && (ctx === null || typeof ctx.waitUntil !== "function")) {
      throw new TypeError("SyncClient.flushInBackground: ctx must have waitUntil()");
    }
    const p = this.flush();
    ctx?.waitUntil(p);
    return p;
  }

  /**
   * Number of decisions in the outbox (due or waiting for a retry; dead letters excluded). With
   * `limit`, at most that many, from lists of at most that many keys: `pending({limit: 1}) > 0`
   * tells whether anything waits without listing a long outbox.
   */
  async pending(options) {
    const limit = options?.limit;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw new TypeError("SyncClient.pending: limit must be a non-negative integer");
    const list = (prefix) => (limit === undefined ? this.#io.list(prefix) : this.#listFirst(prefix, limit));
    const [queued, old] = await Promise.all([list(QUEUE_PREFIX), list(OUTBOX_PREFIX)]);
    return Math.min(queued.length + old.length, limit ?? Infinity);
  }

  /**
   * The dead letters, oldest first: decisions a backend rejected with a non-retryable status.
   * With `limit`, at most that many, read from one bounded list (the first keys, by
   * decisionId), so a page of a Worker or an admin screen never reads a long dead-letter list
   * whole (Workers KV: one operation per read).
   */
  async deadLetters(options) {
    const limit = options?.limit;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw new TypeError("SyncClient.deadLetters: limit must be a non-negative integer");
    if (limit === 0) return [];
    const keys = limit === undefined ? await this.#io.list(DEAD_PREFIX) : await this.#listFirst(DEAD_PREFIX, limit);
    const records = await this.#readAll(keys);
    return records
      .map((x) => x.value)
      .filter(isRecord)
      .sort((a, b) => a.deadAt - b.deadAt || order(a, b))
      .map((r) => ({
        decisionId: r.decision.decisionId,
        decision: r.decision,
        kind: r.kind,
        status: r.status,
        error: r.error,
        attempts: r.attempts,
        batchId: r.batchId,
        deadAt: r.deadAt,
        enqueuedAt: r.enqueuedAt,
      }));
  }

  /**
   * Move dead letters (all, or those with the given decisionIds) back into the outbox with
   * fresh attempt counts: at its end, like decisions enqueued now, those of one call in their
   * original order among themselves. Resolves to how many moved and how many it left (see
   * #takeDead).
   */
  async requeueDeadLetters(decisionIds) {
    const { moved, ...left } = await this.#takeDead(decisionIds, REQUEUE_OPS, async (r) => {
      const queued = await this.#queued(r.decision.decisionId);
      // The record this dead letter was made from (its key; or the previous format's, which
      // nothing writes any more) is not the decision back in the outbox: the removal that
      // follows the dead letter's put did not happen (a crash) or is under way in an instance
      // sharing no lock. Taken for one, the dead letter would be deleted here and the record
      // there: the decision gone. It is replaced by the new record instead.
      const source = queued !== undefined && (queued === queueKey(r) || queued.startsWith(OUTBOX_PREFIX));
      if (queued !== undefined && !source) return; // already back in the outbox
      // Under a new key (enqueued now), never the one it left the outbox from: an instance
      // that removed that key passes over it for LIST_LAG_MS (#removed), and would not send it
      // nor count it meanwhile. #write points the index at the new key. Outbox first, then
      // delete: a crash in between leaves a copy in both, never in neither.
      await this.#write({
        v: RECORD_VERSION,
        decision: r.decision,
        ...this.#stamp(),
        attempts: 0,
        nextAttemptAt: 0,
      });
      if (source) await this.#remove(queued); // the index now names the new record: it stays
    });
    return { requeued: moved, ...left };
  }

  /** Delete dead letters for good (all, or those with the given decisionIds). */
  async deleteDeadLetters(decisionIds) {
    const { moved, ...left } = await this.#takeDead(decisionIds, DELETE_OPS, async () => {});
    return { deleted: moved, ...left };
  }

  // ---- internals ---------------------------------------------------------------------------

  // The key of a decisionId's outbox record, in either key format, if it has one. An index
  // entry counts only while the record it names exists: another instance can settle a record
  // between #write's two puts and leave the entry behind (overwritten by the next #write of
  // the id).
  async #queued(id) {
    const [indexed, old] = await Promise.all([this.#io.get(QUEUED_PREFIX + id), this.#io.get(OUTBOX_PREFIX + id)]);
    if (old != null) return OUTBOX_PREFIX + id;
    return typeof indexed === "string" && indexed.startsWith(QUEUE_PREFIX) && (await this.#io.get(indexed)) != null ? indexed : undefined;
  }

  // A new outbox record: the record, then its index entry. A crash in between leaves a record
  // without an index entry, which is still sent (an enqueue of it again is not skipped then:
  // at least once); never an index entry that would make an enqueue skip an unsent decision.
  async #write(r) {
    const key = queueKey(r);
    this.#removed.delete(key); // a new key is never one removed lately; should it be, it is to be read
    await this.#io.put(key, r);
    await this.#io.put(QUEUED_PREFIX + r.decision.decisionId, key);
  }

  // A record leaves the outbox: the index entry first, then the record (a crash in between
  // leaves a record that is sent again, not an index entry without a record). The entry goes
  // only if it names this record: when a decision has two (two tabs enqueued or requeued it at
  // once), the index names the later one, which must keep making enqueue skip the decision.
  async #remove(key) {
    if (key.startsWith(QUEUE_PREFIX)) {
      const index = QUEUED_PREFIX + decisionIdOfKey(key);
      if ((await this.#io.get(index)) === key) await this.#io.delete(index);
    }
    await this.#io.delete(key);
    this.#removed.set(key, this.#clock());
  }

  // Another instance on the same store (a second tab without Web Locks, another isolate on one
  // KV namespace) may have sent or dead-lettered the record since this flush read it: writing it
  // back after a late failure here would send it again (or dead-letter a delivered decision).
  async #stillQueued(r) {
    return (await this.#io.get(r.key)) != null;
  }

  // Run a flush, or a dead-letter move, under the store's Web Lock (browsers: tabs sharing
  // localStorage or IndexedDB), so one tab's flush never sends what another is sending, and a
  // requeue never meets another tab's requeue or flush of the same decision (see #exclusive).
  // Without Web Locks (Node, workerd, older browsers) or a lock name, it runs as is: delivery
  // is still at least once. The lock is asked for only if available: a tab that holds it is
  // flushing this store, maybe for long (a background tab's timers are throttled, a frozen
  // page, a store call that never settles), and a flush must not wait for it beyond
  // maxFlushMs, nor leave later calls waiting on it. `busy` says what is waiting instead, so
  // the caller comes back.
  //
  // A lock that cannot be asked for (a SecurityError in an opaque origin; a custom `locks` with
  // the older two-argument request(name, callback), which takes the options for its callback
  // and throws) leaves the flush unlocked: flushing without it is what a browser without Web
  // Locks does, and waiting for a lock without `ifAvailable` could hold the flush for good. It
  // is reported once per instance, so the unlocked flushes are not silent. A locks object that
  // does not take the options is not asked again by this instance: an old request(name, cb)
  // waits for the lock before it fails, and later flushes must not wait on it.
  #locked(work, busy) {
    const name = this.#store.lockName;
    if (typeof name !== "string" || !this.#locks || this.#locksUnusable) return work();
    let run;
    let answered = false; // the callback was called (with a lock, or null: held elsewhere)
    const unlocked = async (cause) => {
      await this.#reportUnlocked(name, cause);
      return work();
    };
    return Promise.resolve()
      .then(() => this.#locks.request(name, { ifAvailable: true }, (lock) => {
        answered = true;
        if (lock === null) return undefined;
        run = work();
        return run; // the lock is held until the work ends
      }))
      // The work's own result also when its lock was stolen (request() then rejects while the
      // work runs on). A request() that resolved without calling back (not the Web Locks API)
      // tells nothing about the lock: unlocked too.
      .then(() => run ?? (answered ? busy() : unlocked(undefined)), (cause) => run ?? unlocked(cause));
  }

  async #reportUnlocked(name, cause) {
    // A TypeError (or no callback) is what a locks object without the options argument gives.
    const signature = cause === undefined || cause instanceof TypeError;
    if (signature) this.#locksUnusable = true;
    if (this.#unlockedReported) return;
    this.#unlockedReported = true;
    const why = cause === undefined ? "resolved without calling its callback" : `failed (${cause?.name ?? "error"}: ${cause?.message ?? cause})`;
    const hint = signature ? "; a custom locks object must take request(name, options, callback) like navigator.locks" : "";
    await this.#report(new SyncError(
      `kizuna sync: flushing without the store's lock ${JSON.stringify(name)}: locks.request(name, {ifAvailable: true}, callback) ${why};`
        + ` another tab can send the same decisions (delivery stays at least once)${hint}`,
      { kind: "store", outcome: "kept", cause },
    ));
  }

  // Another instance holds the store's lock: nothing is sent. What is waiting is counted (a
  // lower bound, like a flush's), so that a caller comes back rather than stops.
  async #busy() {
    const at = Math.max(this.#gate, this.#clock() + LOCK_BUSY_MS);
    try {
      const pending = (await this.#listOutbox(this.#window)).length;
      return { sent: 0, retried: 0, deadLettered: 0, pending, ...(pending > 0 ? { nextAttemptAt: at } : {}) };
    } catch (cause) {
      await this.#report(new SyncError(`kizuna sync: store failed: ${cause?.message ?? cause}`, { kind: "store", outcome: "kept", cause }));
      return { sent: 0, retried: 0, deadLettered: 0, pending: undefined, nextAttemptAt: at };
    }
  }

  // Runs `run` once this instance's flush or dead-letter move in progress has ended. Without it
  // a requeue could find a decision's dead letter and its record both there while a flush moves
  // one to the other (the dead letter is written before the record is removed), take the
  // decision for already back in the outbox and delete the dead letter: the decision gone.
  // Two requeues of one dead letter would each write a record.
  #exclusive(run) {
    const done = this.#tail.then(run);
    this.#tail = done.catch(() => {});
    return done;
  }

  // Dead letters (all, or those of the given decisionIds) in their original outbox order; for
  // each, `action` then the dead letter's delete: `cost` store operations at most. Within
  // maxFlushOps, like a flush (the same counter): it reads only the dead letters it can then
  // move, and says how many it left (`pending`): of the given decisionIds, how many at their
  // end it did not look at (so decisionIds.slice(-pending) goes on: passing them all again
  // would spend the budget on reading the ones done); of all, the listed keys it did not read
  // (a lower bound, above 0 while any are left). While something is left, `nextAttemptAt`
  // says when to call again, as a flush's does: now when the budget ran out, a second later
  // (LOCK_BUSY_MS) when another tab held the store's lock — a caller looping while
  // `pending > 0` would otherwise spin on a tab that holds it for long.
  async #takeDead(decisionIds, cost, action) {
    let busy = false;
    const { moved, pending } = await this.#exclusive(() => this.#locked(() => this.#moveDead(decisionIds, cost, action), async () => {
      // Another tab holds the store's lock: nothing moved, all left (of all, a lower bound).
      busy = true;
      return {
        moved: 0,
        pending: decisionIds !== undefined ? Array.from(decisionIds).length : (await this.#listDead()).length,
      };
    }));
    if (pending === 0) return { moved, pending };
    return { moved, pending, nextAttemptAt: this.#clock() + (busy ? LOCK_BUSY_MS : 0) };
  }

  // The dead letters' keys, in key (decisionId) order: all of them without a budget; with one
  // (maxFlushOps), the first of them, as many as one list call of Workers KV gives (MAX_LIST)
  // and the budget could read.
  #listDead() {
    return this.#maxOps === Infinity ? this.#io.list(DEAD_PREFIX) : this.#listFirst(DEAD_PREFIX, Math.min(MAX_LIST, this.#maxOps));
  }

  async #moveDead(decisionIds, cost, action) {
    this.#ops = 0;
    const keys = decisionIds !== undefined ? Array.from(decisionIds, (id) => DEAD_PREFIX + id) : await this.#listDead();
    const seen = new Set(); // a decisionId given twice is read once
    const found = [];
    let next = 0;
    for (;;) {
      // The next reads, while what is left covers acting on every dead letter read.
      let n = Math.min(READ_CONCURRENCY, keys.length - next);
      while (n > 0 && !this.#affords(n + cost * (found.length + n))) n--;
      if (n === 0) break;
      const chunk = keys.slice(next, next += n).filter((k) => !seen.has(k) && seen.add(k));
      for (const [i, { value, error }] of (await this.#readAll(chunk)).entries()) {
        if (error !== undefined) throw error;
        if (isRecord(value)) found.push({ key: chunk[i], r: value });
      }
    }
    found.sort((a, b) => order(a.r, b.r));
    for (const { key, r } of found) {
      await action(r);
      await this.#io.delete(key);
    }
    // A listing cut at its limit may go on.
    const more = decisionIds === undefined && this.#maxOps !== Infinity && keys.length >= Math.min(MAX_LIST, this.#maxOps) ? 1 : 0;
    return { moved: found.length, pending: Math.max(keys.length - next, more) };
  }

  // When a record enters the outbox (its key's stamp): now, and its order within this
  // millisecond.
  #stamp() {
    const t = this.#clock();
    if (t !== this.#seqAt) {
      this.#seqAt = t;
      this.#seq = 0;
    }
    return { enqueuedAt: t, seq: this.#seq++ };
  }

  // Full jitter: random() * min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)). The exponent
  // is capped so that a huge attempt count cannot make it 0 * Infinity = NaN (baseDelayMs 0).
  #backoff(attempt) {
    const delay = this.#random() * Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
    return delay > 0 ? delay : 0; // also 0 for a NaN from a custom random()
  }

  #clock() {
    this.#floor = Math.max(this.#floor, this.#now());
    return this.#floor;
  }

  async #report(error) {
    if (!this.#onError) return;
    try {
      await this.#onError(error);
    } catch {
      // A failing error handler must not stop delivery.
    }
  }

  // One {value} or {error} per key: a record that cannot be read (the store threw) must not hide
  // the others.
  async #readAll(keys) {
    const out = [];
    const read = (k) => Promise.resolve().then(() => this.#io.get(k)).then((value) => ({ value }), (error) => ({ error }));
    for (let i = 0; i < keys.length; i += READ_CONCURRENCY) {
      out.push(...await Promise.all(keys.slice(i, i + READ_CONCURRENCY).map(read)));
    }
    return out;
  }

  // Reported once per instance: an outbox key that cannot be read (left in place, tried again by
  // later flushes), or one moved aside.
  async #reportUnreadable(key, message, cause) {
    if (this.#unreadable.has(key)) return;
    this.#unreadable.add(key);
    await this.#report(new SyncError(`kizuna sync: outbox record ${key} ${message}`, {
      kind: "store",
      outcome: "kept",
      decisionIds: [decisionIdOfKey(key)],
      cause,
    }));
  }

  // An outbox value this version cannot send (a newer record version, a value that is not a
  // record) is moved to "kizuna:held:<the key after kizuna:>": left in the queue, every flush
  // of every new instance would read it again, and enough of them would hide the records
  // behind them. Kept there as it was, for the version that wrote it (or an operator); its
  // index entry goes, so enqueuing that decision again is not skipped. If the move fails the
  // value stays where it is (f.failing: tried again later).
  async #holdAside(f, key, value, reason) {
    try {
      await this.#io.put(HELD_PREFIX + key.slice(KEY_ROOT.length), value);
      await this.#remove(key);
    } catch (cause) {
      f.failing.add(key);
      await this.#reportUnreadable(key, `skipped: ${reason}; could not be moved aside: ${cause?.message ?? cause}`, cause);
      return;
    }
    this.#unreadable.delete(key);
    await this.#report(new SyncError(`kizuna sync: outbox record ${key} moved to ${HELD_PREFIX}: ${reason}`, {
      kind: "store",
      outcome: "kept",
      decisionIds: [decisionIdOfKey(key)],
    }));
  }

  // The oldest outbox keys: the previous format's first (written before the upgrade), then the
  // queue. `limit` bounds both lists, so a flush's store operations do not grow with the outbox.
  async #listOutbox(limit) {
    const old = await this.#listFirst(OUTBOX_PREFIX, limit);
    return old.length < limit ? [...old, ...await this.#listFirst(QUEUE_PREFIX, limit - old.length)] : old;
  }

  async #listFirst(prefix, limit) {
    // A store that ignores `limit` lists everything: cut it here.
    return (await this.#io.list(prefix, { limit })).sort().slice(0, limit);
  }

  // Read the oldest outbox keys this flush has not seen into f.cache, oldest first, while its
  // window (f.records: records) and its reads (f.reads: gets) last. A key that reads as no
  // record does not use the window: deleted since the list (a list that lags behind deletes,
  // as Workers KV's does for up to a minute; another instance), moved aside (#holdAside) or a
  // failing read (f.failing: left in place) — so such keys cannot hide what is behind them. The
  // list asks for one key more than this flush may read: when some are left unlisted or
  // unread, f.unread is above 0, and the flush never says the outbox is empty.
  async #load(f) {
    // Keys this instance removed lately that a lagging list may still show: passed, unread.
    const now = this.#clock();
    for (const [k, at] of this.#removed) {
      if (now - at < LIST_LAG_MS) f.passed.add(k);
      else this.#removed.delete(k);
    }
    const limit = Math.min(MAX_LIST, f.cache.size + f.passed.size + this.#readCap(f) + 1);
    const keys = await this.#listOutbox(limit);
    const present = new Set(keys);
    for (const k of f.cache.keys()) if (!present.has(k)) f.cache.delete(k);
    const fresh = keys.filter((k) => !f.cache.has(k) && !f.passed.has(k));
    const t = now;
    const corrected = [];
    let next = 0;
    for (;;) {
      const n = Math.min(READ_CONCURRENCY, f.records, this.#readCap(f), fresh.length - next);
      if (n <= 0) break;
      const chunk = fresh.slice(next, next + n);
      next += chunk.length;
      f.reads -= chunk.length;
      const values = await this.#readAll(chunk);
      for (const [i, k] of chunk.entries()) {
        const { value, error } = values[i];
        if (error !== undefined || !isRecord(value)) f.passed.add(k); // not read again by this flush
        if (error !== undefined) {
          f.failing.add(k);
          await this.#reportUnreadable(k, `skipped: unreadable (${error?.message ?? error}); left in the outbox`, error);
          continue;
        }
        if (value == null) continue; // deleted since the list
        if (!isRecord(value)) {
          if (!this.#affordsWithBatch(f, 1 + REMOVE_OPS)) {
            f.later.add(k); // no budget left to move it: the next flush does
            continue;
          }
          await this.#holdAside(f, k, value, value?.v > RECORD_VERSION
            ? `written by a newer version of kizuna/sync (record version ${value.v})`
            : "not an outbox record");
          continue;
        }
        f.records--;
        this.#unreadable.delete(k);
        // Records from an older writer may lack the counters: default them. `key` is where it
        // is stored (kept in memory only).
        const r = { ...value, attempts: value.attempts ?? 0, nextAttemptAt: value.nextAttemptAt ?? 0, key: k };
        if (typeof r.nextAttemptAt !== "number" || Number.isNaN(r.nextAttemptAt)) r.nextAttemptAt = 0;
        // The failure lies in the future: the wall clock was set back since (a corrected device
        // clock). Count the intended delay from now instead of waiting for a far-off time, and
        // store that, so the next load does not push it again.
        if (typeof r.lastAttemptAt === "number" && r.lastAttemptAt > t) {
          r.nextAttemptAt = t + Math.max(0, r.nextAttemptAt - r.lastAttemptAt);
          r.lastAttemptAt = t;
          corrected.push(r);
        }
        // No stored retry time lies further ahead than this client would ever wait (the longest
        // backoff or Retry-After): a huge Retry-After stored by an older version, or under a
        // larger maxRetryAfterMs, must not hold the outbox (and its persisted gate) for years.
        const latest = (typeof r.lastAttemptAt === "number" ? r.lastAttemptAt : t) + Math.max(this.#maxDelayMs, this.#maxRetryAfterMs);
        if (!(r.nextAttemptAt <= latest)) {
          r.nextAttemptAt = latest;
          if (!corrected.includes(r)) corrected.push(r);
        }
        f.cache.set(k, r);
      }
    }
    // A full listing may go on beyond what it shows (MAX_LIST): never taken for the end.
    f.unread = Math.max(fresh.length - next, keys.length >= limit ? 1 : 0);
    // Best effort: if a write fails (or the budget is spent), the correction is made next time.
    const affordable = corrected.filter((_, i) => this.#affordsWithBatch(f, i + 1));
    await Promise.all(affordable.map((r) => Promise.resolve().then(() => this.#io.put(r.key, stored(r))).catch(() => {})));
  }

  // What this flush leaves in the outbox: the records it read and did not settle, oldest first.
  #open(f) {
    return [...f.cache.values()].filter((r) => !f.settled.has(r.decision.decisionId)).sort(order);
  }

  // The other records of decisions this flush settled: enqueue is not under a lock, so two tabs
  // enqueuing one decision at the same time each write a record. They are removed with it (a
  // dead letter holds the decision, a delivered one is not sent again); one there is no budget
  // left to remove is left counted (f.later). Tried once per flush. A record of a dead-lettered
  // decision first read after its dead letter was written may be that dead letter requeued by
  // an instance sharing no lock (under a new key): it holds the decision now, so it is left
  // counted too, for the next flush to send.
  async #dropSettled(f) {
    const drop = [];
    for (const r of f.cache.values()) {
      if (!f.settled.has(r.decision.decisionId) || f.passed.has(r.key)) continue;
      f.passed.add(r.key);
      if (f.dead.get(r.decision.decisionId)?.has(r.key) === false) f.later.add(r.key);
      else if (this.#affords(REMOVE_OPS * (drop.length + 1))) drop.push(r);
      else f.later.add(r.key);
    }
    await this.#settle(drop, f, (r) => this.#remove(r.key), true);
  }

  // Whether `n` more store operations leave room for the next listing (maxFlushOps).
  #affords(n) {
    return this.#ops + n + LIST_OPS <= this.#maxOps;
  }

  // Whether the records read so far (f.cache), or the first batch of them, can still be
  // settled after `n` more operations: what a flush keeps in hand before reads and moves.
  #affordsWithBatch(f, n) {
    return this.#affords(n + SETTLE_OPS * Math.min(this.#batchSize, f.cache.size));
  }

  // How many more keys this flush may read now: within its reads (f.reads) and, with a
  // budget, leaving room for a first batch of what it then holds, that is the largest k with
  // k + SETTLE_OPS × min(batchSize, cached + k) ≤ what is left (the first term for k within a
  // batch, the second beyond it).
  #readCap(f) {
    const left = this.#maxOps - this.#ops - LIST_OPS;
    const c = f.cache.size;
    const b = this.#batchSize;
    const k = Math.max(Math.min(Math.floor((left - SETTLE_OPS * c) / (SETTLE_OPS + 1)), b - c), left - SETTLE_OPS * b);
    return Math.max(0, Math.min(f.reads, k));
  }

  async #flush(budget) {
    const totals = { sent: 0, retried: 0, deadLettered: 0, pending: 0 };
    const f = {
      cache: new Map(), // key → record, read by this flush and still in the outbox
      passed: new Set(), // keys not to read (again): read as no record, or removed lately
      failing: new Set(), // keys whose read failed: left in the outbox, tried by the next flush
      // Sent or dead-lettered during this flush: never sent twice by one flush, even when the
      // store failed to delete them.
      settled: new Set(),
      records: this.#window, // outbox records this flush may still read, over all its passes
      reads: READS_PER_WINDOW * this.#window, // reads it may still make (records or not)
      unread: 0, // keys of the last listing left unread (or unlisted: the outbox goes on)
      later: new Set(), // keys left counted for the next flush (no budget to move aside or remove; a requeue)
      dead: new Map(), // decisionId dead-lettered → the keys of its records read before (#dropSettled)
    };
    this.#ops = 0;
    let loaded = false; // the outbox was listed and read at least once by this flush
    const start = this.#clock();
    let waited = 0; // sum of waits, at least 1 ms each: bounds the loop even if the clock stands still
    let mustWait = false;
    // The earliest time anything left may be sent: the records' backoff and the gate.
    const nextOf = (records) => Math.max(this.#gate, records.reduce((m, r) => Math.min(m, r.nextAttemptAt ?? 0), Infinity));
    try {
      for (;;) {
        await this.#load(f);
        loaded = true;
        await this.#dropSettled(f); // records of a decision settled earlier in this flush
        // One record per decisionId (two can meet after an upgrade race or a crash between
        // writes): a batch never carries a decision twice.
        const ids = new Set();
        const records = this.#open(f).filter((r) => !ids.has(r.decision.decisionId) && ids.add(r.decision.decisionId));
        const t = this.#clock();
        if (records.length === 0) break;
        this.#gate = Math.max(this.#gate, persistedGate(records));
        const due = t >= this.#gate ? records.filter((r) => r.nextAttemptAt <= t) : [];
        if (due.length > 0 && !mustWait) {
          const outcome = await this.#pass(due, f, totals);
          await this.#dropSettled(f);
          if (outcome === "spent") break; // maxFlushOps: the next flush goes on
          mustWait = outcome === "retry";
          continue;
        }
        mustWait = false;
        // Nothing may be sent now: wait for the next due time if it is within the budget (of
        // time, and of store operations for a batch then).
        const wait = Math.max(0, nextOf(records) - t);
        // A wait counts as at least 1 ms, so maxFlushMs = 0 never waits.
        if (Math.max(t - start, waited) + Math.max(wait, 1) > budget) break;
        if (!this.#affords(LIST_OPS + SETTLE_OPS * Math.min(this.#batchSize, records.length))) break;
        await this.#sleep(wait);
        waited += Math.max(wait, 1);
        this.#floor = Math.max(this.#floor, t + wait);
      }
      // What is left, and when to come back: the records' retry time (not before now: a
      // flush that spent its operations leaves due records); now for what this flush did not
      // read (the next flush reads it); after a backoff that grows with each such flush for
      // records whose read failed. Never 0 while something is left.
      const open = this.#open(f);
      const t = this.#clock();
      totals.pending = open.length + f.unread + f.later.size + f.failing.size;
      const next = [];
      if (open.length > 0) next.push(Math.max(nextOf(open), t));
      if (f.unread + f.later.size > 0) next.push(Math.max(this.#gate, t));
      if (f.failing.size > 0) next.push(Math.max(this.#gate, t + this.#backoff(++this.#storeFailures)));
      else this.#storeFailures = 0;
      if (next.length > 0) totals.nextAttemptAt = Math.min(...next);
    } catch (cause) {
      // The store failed (list). Keep what is stored; report; try again after a backoff. The
      // count is what this flush last read, or unknown (undefined) if it read nothing: never a
      // made-up 0 that would tell a caller to stop.
      await this.#report(new SyncError(`kizuna sync: store failed: ${cause?.message ?? cause}`, { kind: "store", outcome: "kept", cause }));
      const left = this.#open(f);
      totals.pending = loaded ? left.length + f.unread + f.later.size + f.failing.size : undefined;
      totals.nextAttemptAt = Math.max(left.length > 0 ? nextOf(left) : 0, this.#clock() + this.#backoff(++this.#storeFailures));
    }
    return totals;
  }

  // Send the due records in batches. Returns "retry" after a retryable failure (the rest wait
  // for the gate: a backend that just failed is not sent the next batch right away), "spent"
  // when the store operations left (maxFlushOps) do not cover the next batch's worst case.
  async #pass(due, f, totals) {
    const { batches, tooLarge } = this.#pack(due);
    for (const r of tooLarge) {
      if (!this.#affords(SETTLE_OPS)) return "spent";
      f.settled.add(r.decision.decisionId);
      totals.deadLettered += await this.#deadLetter([r], f, {
        kind: "too_large",
        message: `decision ${r.decision.decisionId} alone exceeds maxBatchBytes (${this.#maxBatchBytes})`,
      });
    }
    const queue = [...batches];
    while (queue.length > 0) {
      await this.#dropSettled(f);
      const batch = queue.shift();
      const ids = batch.records.map((r) => r.decision.decisionId);
      // The batch's worst case. Other records of its decisions are removed by #dropSettled
      // under its own budget check (what it cannot afford waits for a later flush): counting
      // them here could leave a flush unable ever to send its first batch.
      if (!this.#affords(SETTLE_OPS * batch.records.length)) return "spent";
      const result = await this.#send(batch);
      if (result.ok) {
        for (const id of ids) f.settled.add(id);
        await this.#settle(batch.records, f, (r) => this.#remove(r.key), true);
        totals.sent += ids.length;
        continue;
      }
      const { attempt } = batch;
      if (!result.retryable && REJECTS_CONTENT.has(result.status) && batch.records.length > 1) {
        // The backend refused what was sent, maybe because of one decision: send each half
        // on its own (new batches), so only the decisions it refuses end up as dead letters.
        const half = Math.ceil(batch.records.length / 2);
        queue.unshift(this.#batch(batch.records.slice(0, half)), this.#batch(batch.records.slice(half)));
        continue;
      }
      if (!result.retryable) {
        for (const id of ids) f.settled.add(id);
        totals.deadLettered += await this.#deadLetter(batch.records, f, { ...result, batchId: batch.batchId, attempt });
        continue;
      }
      // Attempts are counted per decision: in a batch that mixes an old failing decision with
      // a fresh one, only the decisions that used up maxAttempts are given up on.
      const exhausted = batch.records.filter((r) => r.attempts + 1 >= this.#maxAttempts);
      if (exhausted.length > 0) {
        for (const r of exhausted) f.settled.add(r.decision.decisionId);
        const most = exhausted.reduce((m, r) => Math.max(m, r.attempts + 1), 0);
        const message = `${result.message}; gave up after ${most} attempts`;
        totals.deadLettered += await this.#deadLetter(exhausted, f, { ...result, message, batchId: batch.batchId, attempt });
      }
      const rest = batch.records.filter((r) => r.attempts + 1 < this.#maxAttempts);
      if (rest.length === 0) continue;
      // Retry later: the jittered backoff, or Retry-After when that asks for longer. Never
      // less than the backoff: a "Retry-After: 0" (or a date in the past, e.g. a server clock
      // behind the device's) would otherwise make one flush resend as fast as it can.
      const t = this.#clock();
      const delay = Math.max(Math.min(result.retryAfterMs ?? 0, this.#maxRetryAfterMs), this.#backoff(attempt));
      const retryAt = t + delay;
      this.#gate = Math.max(this.#gate, retryAt);
      const lastError = { kind: result.kind, status: result.status, message: result.message };
      const gone = new Set();
      await this.#settle(rest, f, async (r) => {
        if (!(await this.#stillQueued(r))) {
          gone.add(r);
          f.cache.delete(r.key);
          return;
        }
        const next = { ...r, attempts: r.attempts + 1, nextAttemptAt: retryAt, lastAttemptAt: t, batchId: batch.batchId, sentAt: batch.sentAt, lastError };
        f.cache.set(r.key, next); // this flush knows the new state even if the write fails
        await this.#io.put(r.key, stored(next));
      }, false);
      const restIds = rest.filter((r) => !gone.has(r)).map((r) => r.decision.decisionId);
      for (const r of gone) f.settled.add(r.decision.decisionId);
      totals.retried += restIds.length;
      if (restIds.length > 0) await this.#report(new SyncError(`kizuna sync: ${result.message}; retry ${attempt + 1} in ${Math.round(delay)} ms`, {
        kind: result.kind,
        outcome: "retry",
        status: result.status,
        body: result.body,
        batchId: batch.batchId,
        decisionIds: restIds,
        attempt,
        retryAt,
        cause: result.cause,
      }));
      return "retry";
    }
    return undefined;
  }

  // Apply a store operation to each record; a failing write is reported, not thrown, so one
  // bad key does not stop the batch (the record then simply stays as it was).
  async #settle(records, f, op, remove) {
    await Promise.all(records.map(async (r) => {
      try {
        await op(r);
        if (remove) f.cache.delete(r.key);
      } catch (cause) {
        f.passed.add(r.key); // not tried again by this flush
        await this.#report(new SyncError(`kizuna sync: store failed for ${r.key}: ${cause?.message ?? cause}`, {
          kind: "store",
          outcome: "kept",
          decisionIds: [r.decision.decisionId],
          cause,
        }));
      }
    }));
  }

  // Move records to the dead letters; resolves how many moved.
  async #deadLetter(records, f, info) {
    const t = this.#clock();
    // The records of these decisions read so far were written before their dead letters: none
    // is one of them requeued (#dropSettled).
    for (const r of records) f.dead.set(r.decision.decisionId, new Set());
    for (const r of f.cache.values()) f.dead.get(r.decision.decisionId)?.add(r.key);
    const moved = [];
    await this.#settle(records, f, async (r) => {
      const id = r.decision.decisionId;
      if (!(await this.#stillQueued(r))) return;
      // Dead letter first, then delete: a crash in between leaves a copy in both places.
      await this.#io.put(DEAD_PREFIX + id, {
        v: RECORD_VERSION,
        decision: r.decision,
        enqueuedAt: r.enqueuedAt,
        seq: r.seq,
        attempts: info.attempt === undefined ? r.attempts : r.attempts + 1, // per decision
        batchId: info.batchId,
        kind: info.kind,
        status: info.status,
        error: info.body || info.message,
        deadAt: t,
      });
      moved.push(id);
      await this.#remove(r.key);
    }, true);
    if (moved.length === 0) return 0;
    await this.#report(new SyncError(`kizuna sync: ${info.message}; moved to dead letters`, {
      kind: info.kind,
      outcome: "dead",
      status: info.status,
      body: info.body,
      batchId: info.batchId,
      decisionIds: moved,
      attempt: info.attempt,
      cause: info.cause,
    }));
    return moved.length;
  }

  // Group due records into batches, oldest first. A batch that failed before is sent again as
  // the same batch (same decisions, same batchId and sentAt, so a byte-identical body); the
  // rest are packed greedily up to batchSize decisions and maxBatchBytes of body.
  #pack(due) {
    const overhead = this.#envelopeBytes();
    const size = new Map(due.map((r) => [r, utf8Length(JSON.stringify(r.decision))]));
    const bytesOf = (rs) => overhead + rs.reduce((n, r) => n + size.get(r), 0) + Math.max(0, rs.length - 1);

    const groups = new Map();
    for (const r of due) {
      if (typeof r.batchId !== "string") continue;
      if (!groups.has(r.batchId)) groups.set(r.batchId, []);
      groups.get(r.batchId).push(r);
    }
    const kept = new Set();
    for (const [batchId, rs] of groups) {
      const ids = rs.map((r) => r.decision.decisionId);
      const sentAt = rs[0].sentAt;
      if (typeof sentAt === "string" && batchIdFor(ids, sentAt) === batchId && rs.length <= this.#batchSize && bytesOf(rs) <= this.#maxBatchBytes) kept.add(batchId);
    }

    const batches = [];
    const tooLarge = [];
    let current = [];
    let currentBytes = overhead;
    const close = () => {
      if (current.length > 0) batches.push(this.#batch(current));
      current = [];
      currentBytes = overhead;
    };
    const emitted = new Set();
    for (const r of due) {
      if (kept.has(r.batchId)) {
        if (emitted.has(r.batchId)) continue;
        emitted.add(r.batchId);
        close();
        batches.push(this.#batch(groups.get(r.batchId)));
        continue;
      }
      if (overhead + size.get(r) > this.#maxBatchBytes) {
        tooLarge.push(r);
        continue;
      }
      const added = () => (current.length > 0 ? 1 : 0) + size.get(r); // "," + the decision
      if (current.length >= this.#batchSize || currentBytes + added() > this.#maxBatchBytes) close();
      currentBytes += added();
      current.push(r);
    }
    close();
    return { batches, tooLarge };
  }

  #batch(records) {
    const ids = records.map((r) => r.decision.decisionId);
    const first = records[0];
    // sentAt is when the batch was first sent: kept for retries of the same batch (and with it
    // the key), new for a new batch.
    const again = typeof first.sentAt === "string" && first.batchId === batchIdFor(ids, first.sentAt);
    const sentAt = again ? first.sentAt : new Date(this.#clock()).toISOString();
    const batchId = again ? first.batchId : batchIdFor(ids, sentAt);
    // Attempts belong to the decisions (each record counts its own); the batch's backoff uses
    // the highest, so a failed batch split differently still backs off.
    const attempt = records.reduce((m, r) => Math.max(m, r.attempts), 0) + 1;
    return { records, batchId, sentAt, attempt };
  }

  #envelope(batchId, sentAt, decisionsJson) {
    return `{"version":1,"type":"kizuna.decisions","batchId":${JSON.stringify(batchId)},"sentAt":${JSON.stringify(sentAt)},`
      + `"source":${JSON.stringify(this.#source)},"decisions":[${decisionsJson}]}`;
  }

  #envelopeBytes() {
    // batchId is always 64 hex digits and toISOString() 24 characters.
    return utf8Length(this.#envelope("0".repeat(64), "2000-01-01T00:00:00.000Z", ""));
  }

  // One POST. Resolves to {ok: true} or a failure description; never rejects.
  async #send(batch) {
    const decisionIds = batch.records.map((r) => r.decision.decisionId);
    const body = this.#envelope(batch.batchId, batch.sentAt, batch.records.map((r) => JSON.stringify(r.decision)).join(","));

    const controller = new AbortController();
    let timedOut = false;
    let onTimeout;
    // Rejects on timeout even if a fetch implementation ignores the abort signal, or a
    // getHeaders never settles (e.g. a LIFF login that never completes).
    const expired = new Promise((_, reject) => { onTimeout = reject; });
    expired.catch(() => {});
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
      onTimeout(new Error("timeout"));
    }, this.#timeoutMs);

    const headers = new Headers(this.#headers);
    if (this.#getHeaders) {
      try {
        // e.g. a fresh LIFF access token per request; timeoutMs covers it and the request.
        const extra = await Promise.race([expired, Promise.resolve().then(() => this.#getHeaders())]);
        for (const [k, v] of new Headers(extra)) headers.set(k, v);
      } catch (cause) {
        clearTimeout(timer);
        const message = timedOut ? `getHeaders did not settle within ${this.#timeoutMs} ms` : `getHeaders failed: ${cause?.message ?? cause}`;
        return { ok: false, retryable: true, kind: "headers", message, cause };
      }
    }
    headers.set("content-type", "application/json");
    headers.set("idempotency-key", batch.batchId);

    try {
      let res;
      try {
        res = await Promise.race([expired, this.#fetch(this.#endpoint, {
          method: "POST",
          headers,
          body,
          signal: controller.signal,
          // A followed 301/302/303 turns the POST into a GET whose 200 would delete unsent
          // decisions; a redirect is reported (and retried) instead.
          redirect: "manual",
        })]);
      } catch (cause) {
        return timedOut
          ? { ok: false, retryable: true, kind: "timeout", message: `no response within ${this.#timeoutMs} ms (${decisionIds.length} decisions)`, cause }
          : { ok: false, retryable: true, kind: "network", message: `network error: ${cause?.message ?? cause}`, cause };
      }
      // Read the body (frees the connection; kept for the error report; for a 2xx it decides
      // whether the batch was delivered).
      let text = "";
      let unread;
      try {
        text = await Promise.race([expired, res.text()]);
      } catch (cause) {
        unread = { cause };
      }
      const status = res.status;
      if (status >= 200 && status < 300) {
        // A 2xx is delivery, unless it is a web page: an HTML page or a proxy's login page
        // answering 200 for a BACKEND_URL that is not the backend stored nothing, so it is kept,
        // retried like a 5xx and reported, the body never quoted (it can be anything). Any other
        // body is the backend's answer, JSON or not (Express's sendStatus(200) says "OK" in
        // text/plain). A body cut short is retried too (the backend de-duplicates).
        if (unread !== undefined) {
          return timedOut
            ? { ok: false, retryable: true, kind: "timeout", message: `HTTP ${status} but its body did not arrive within ${this.#timeoutMs} ms: not taken as delivered`, cause: unread.cause }
            : { ok: false, retryable: true, kind: "network", message: `HTTP ${status} but its body could not be read (${unread.cause?.message ?? unread.cause}): not taken as delivered`, cause: unread.cause };
        }
        if (!isWebPage(res, text)) return { ok: true };
        return {
          ok: false,
          retryable: true,
          kind: "http",
          status,
          message: `HTTP ${status} with ${contentTypeOf(res)} and a web page for a body: not taken as delivered`
            + " (is the endpoint the backend's URL? a web page or a proxy's login page answers 200 with HTML;"
            + " a backend answers 2xx with an empty, JSON or plain-text body)",
        };
      }
      const bodyText = text.length > MAX_ERROR_BODY ? `${text.slice(0, MAX_ERROR_BODY)}…` : text;
      // 409: under the Idempotency-Key draft (and most idempotency middleware), the first
      // request with this key is still being processed; asked again, a few times (a backend
      // that answers 409 for good would otherwise hold the queue).
      const inProgress = status === 409 && batch.attempt < CONFLICT_ATTEMPTS;
      const retryable = status === 408 || inProgress || status === 429 || status >= 500 || status < 400 || this.#retryStatuses.has(status);
      return {
        ok: false,
        retryable,
        kind: "http",
        status,
        body: bodyText,
        message: status === 0 || (status >= 300 && status < 400)
          ? `endpoint answered with a redirect (HTTP ${status}); configure the final URL`
          : `HTTP ${status}${res.statusText ? ` ${res.statusText}` : ""}`,
        retryAfterMs: retryable ? parseRetryAfter(res.headers.get("retry-after"), this.#clock()) : undefined,
      };
    } finally {
      clearTimeout(timer);
    }
  }
}

// ---- helpers -----------------------------------------------------------------------------

function positive(name, value, integer) {
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new TypeError(`SyncClient: ${name} must be a positive ${integer ? "integer" : "number"}`);
  }
  return value;
}

function nonNegative(name, value) {
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
    throw new TypeError(`SyncClient: ${name} must be a non-negative number`);
  }
  return value;
}

// The key of an outbox record: its enqueue time (ms, 15 digits) and order within that
// millisecond (6 digits) first, so the store's key order is the outbox's order.
function queueKey(r) {
  const at = String(Math.max(0, Math.floor(Number(r.enqueuedAt) || 0))).padStart(15, "0");
  const seq = String(Math.min(999_999, Math.max(0, Math.floor(Number(r.seq) || 0)))).padStart(6, "0");
  return `${QUEUE_PREFIX}${at}.${seq}:${r.decision.decisionId}`;
}

// Whether a 2xx answer is a web page rather than the backend's: served as HTML, or an HTML
// document under another type (or none). JSON is never one, whatever its type.
function isWebPage(res, text) {
  const type = mediaType(res).toLowerCase();
  if (type === "text/html" || type === "application/xhtml+xml") return !parsesAsJson(text);
  return /^\s*<(!doctype\s+html|html[\s>])/i.test(text);
}

// A response's Content-Type without its parameters ("" when there is none).
function mediaType(res) {
  return (res.headers?.get?.("content-type") ?? "").split(";")[0].trim();
}

// Whether a response body is JSON text (JSON.parse's message is not kept: it quotes the body).
function parsesAsJson(text) {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

// The media type of a response, for a message: without parameters, only token characters (a
// header cannot write into a log line), at most 100 of them.
function contentTypeOf(res) {
  const type = mediaType(res).slice(0, 100).replace(/[^\w.+\/-]/g, "?");
  return type ? `content-type ${type}` : "no content-type";
}

function decisionIdOfKey(key) {
  if (key.startsWith(OUTBOX_PREFIX)) return key.slice(OUTBOX_PREFIX.length);
  return key.slice(key.indexOf(":", QUEUE_PREFIX.length) + 1); // the stamp has no ":"
}

// A record as stored: without the in-memory `key`.
function stored(r) {
  const { key, ...rest } = r;
  return rest;
}

function isRecord(r) {
  return r != null && typeof r === "object" && r.decision != null && typeof r.decision.decisionId === "string"
    && (r.v === undefined || r.v <= RECORD_VERSION);
}

// Oldest first; the decisionId breaks ties so the order is the same for every instance.
function order(a, b) {
  return (a.enqueuedAt ?? 0) - (b.enqueuedAt ?? 0) || (a.seq ?? 0) - (b.seq ?? 0)
    || (a.decision.decisionId < b.decision.decisionId ? -1 : a.decision.decisionId > b.decision.decisionId ? 1 : 0);
}

// The latest failure recorded in the store says when the backend may be tried again; a new
// client instance (next worker invocation, page reload) honours it instead of hammering.
function persistedGate(records) {
  let latest;
  for (const r of records) {
    if (r.attempts > 0 && typeof r.lastAttemptAt === "number" && (!latest || r.lastAttemptAt > latest.lastAttemptAt)) latest = r;
  }
  return latest ? latest.nextAttemptAt : 0;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;

/**
 * Retry-After (RFC 9110 §10.2.3) in milliseconds from `nowMs` (0 for a date in the past), or
 * undefined. Strict: only delay-seconds (`^\d+$`) or an IMF-fixdate
 * ("Sun, 06 Nov 1994 08:49:37 GMT") with a real calendar date and time; anything else
 * ("-5", "1.5", "soon", the obsolete date formats) is ignored, so the caller's backoff applies.
 */
export function parseRetryAfter(value, nowMs) {
  if (typeof value !== "string") return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000; // very long values are capped by the caller
  const m = IMF_FIXDATE.exec(v);
  if (!m) return undefined;
  const [day, month, year, hour, minute, second] = [Number(m[1]), MONTHS.indexOf(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  if (hour > 23 || minute > 59 || second > 60) return undefined; // 60: a leap second
  const date = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  if (new Date(date).getUTCDate() !== day) return undefined; // "31 Feb", "00 Jan"
  return Math.max(0, date - nowMs);
}

function utf8Length(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++; }
    else n += 3; // BMP character, or a lone surrogate (encoded as U+FFFD, 3 bytes)
  }
  return n;
}

function detectRuntime() {
  if (globalThis.navigator?.userAgent === "Cloudflare-Workers") return "workerd";
  if (typeof globalThis.Deno !== "undefined") return "deno";
  if (typeof globalThis.Bun !== "undefined") return "bun";
  if (typeof globalThis.EdgeRuntime === "string") return "edge-light";
  if (globalThis.process?.versions?.node) return "node";
  if (typeof globalThis.document !== "undefined" || typeof globalThis.WorkerGlobalScope !== "undefined") return "browser";
  return "unknown";
}
