// Hand-written declarations of kizuna/sync (pkg/sync.js).
import type { Decision } from "./dist/contract.js";

export type { Decision };

/**
 * The storage the outbox lives in: one small async interface, JSON-serializable values.
 * `get` resolves `undefined` (or `null`) for a missing key; `list` resolves the keys that start
 * with `prefix` (all pages), sorted; with `options.limit`, only the first `limit` of them. A
 * flush lists with a limit, so it reads the oldest part of a long outbox without listing all of
 * it; a store that ignores `limit` still works (the client cuts the list).
 *
 * Keys used: `kizuna:queue:<enqueuedAt, 15 digits>.<seq, 6 digits>:<decisionId>` (an outbox
 * record; the key sorts by enqueue time), `kizuna:queued:<decisionId>` (index: that record's
 * key), `kizuna:dead:<decisionId>`, `kizuna:outbox:<decisionId>` (outbox records written
 * before the queue keys: still read and sent, never written), and `kizuna:held:<the outbox
 * key after "kizuna:">` (an outbox value this version cannot send — a newer record version, a
 * value that is not a record — moved there as it was, so it does not hold up the outbox;
 * nothing reads it back: it is for the version that wrote it, or an operator).
 */
export interface SyncStore {
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  list(prefix: string, options?: { limit?: number }): Promise<string[]>;
  /**
   * For a store that several instances in one browser share (tabs of one origin): the Web Lock
   * a flush holds (`navigator.locks.request(lockName, …)`), so two tabs never send the same
   * decisions at once. Set by LocalStorageStore and IndexedDbStore.
   */
  readonly lockName?: string;
  /**
   * For a store whose calls count against a limit per invocation: the most calls (each get,
   * put, delete and list counts one) one flush may make; the client's `maxFlushOps` option wins
   * over it. KvStore: 900. Default: no limit.
   */
  readonly maxFlushOps?: number;
}

/** In-memory store (tests, short-lived processes: lost when the process ends). */
export class MemoryStore implements SyncStore {
  constructor();
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  list(prefix?: string, options?: { limit?: number }): Promise<string[]>;
}

/** The subset of Web Storage (`localStorage`) that LocalStorageStore uses. */
export interface WebStorageLike {
  readonly length: number;
  key(index: number): string | null;
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Web Storage (default `globalThis.localStorage`); every key is prefixed with `prefix`.
 * `put` rejects with QuotaExceededError when storage is full (so does `enqueue`).
 */
export class LocalStorageStore implements SyncStore {
  constructor(storage?: WebStorageLike, prefix?: string);
  /**
   * `"kizuna-sync:" + prefix`, shared by the origin's tabs like localStorage (and any other
   * Web Storage object given). For `sessionStorage`, which is the tab's own,
   * `"kizuna-sync:sessionStorage:<an id of this page>:" + prefix`: other tabs do not share it.
   */
  readonly lockName: string;
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  list(prefix?: string, options?: { limit?: number }): Promise<string[]>;
}

/** Browser IndexedDB: database `dbName` (default "kizuna"), object store `storeName` (default "kv"). */
export class IndexedDbStore implements SyncStore {
  constructor(dbName?: string, options?: { storeName?: string; indexedDB?: IDBFactoryLike });
  /** `"kizuna-sync:indexeddb:<dbName>/<storeName>"`. */
  readonly lockName: string;
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  list(prefix?: string, options?: { limit?: number }): Promise<string[]>;
}

/** `indexedDB` (typed loosely so the declarations do not need the DOM lib). */
export interface IDBFactoryLike {
  open(name: string, version?: number): unknown;
}

/** The subset of a Workers KV namespace binding that KvStore uses (Cloudflare's signatures). */
export interface KVNamespaceLike {
  get(key: string, options: { type: "text" }): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  list(options: { prefix?: string; cursor?: string; limit?: number }): Promise<{
    keys: { name: string }[];
    list_complete: boolean;
    cursor?: string;
  }>;
}

/**
 * Workers KV (`env.MY_KV`). Eventually consistent and about one write per second per key: a
 * decision can occasionally be sent twice (backends de-duplicate by decisionId). Each decision
 * costs about nine KV operations (enqueue 3 reads + 2 writes; delivery 2 reads + 2 deletes; a
 * dead letter 1 read + 1 write more, a failed attempt 1 read + 1 write). A flush makes at most
 * `maxFlushOps` (900) of them whatever becomes of the decisions and however long the outbox
 * is (about 650 when everything is delivered, 150 decisions), leaving 100 of the 1,000 a Worker
 * invocation may make for its own calls; so does each call of `requeueDeadLetters` and
 * `deleteDeadLetters`. That is per call: two of these calls in one invocation (a requeue then a
 * flush) can pass 1,000 (see {@link SyncClientOptions.maxFlushOps}). Prefer DurableObjectStore
 * for a strongly consistent outbox.
 */
export class KvStore implements SyncStore {
  constructor(namespace: KVNamespaceLike);
  /** 900: see {@link SyncStore.maxFlushOps}. Lower it (before making the client) if the Worker makes more KV calls of its own. */
  maxFlushOps: number;
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  list(prefix?: string, options?: { limit?: number }): Promise<string[]>;
}

/** The subset of `DurableObjectState.storage` that DurableObjectStore uses. */
export interface DurableObjectStorageLike {
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<boolean>;
  list(options: { prefix?: string; limit?: number; startAfter?: string }): Promise<Map<string, unknown>>;
}

/** A Durable Object's storage (`state.storage`, or `state` itself): strongly consistent. */
export class DurableObjectStore implements SyncStore {
  constructor(storage: DurableObjectStorageLike | { storage: DurableObjectStorageLike });
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  list(prefix?: string, options?: { limit?: number }): Promise<string[]>;
}

/** The `source` of every envelope. */
export interface SyncSource {
  /** `workerd`, `browser`, `node` … (detected when `source` is omitted). */
  runtime: string;
  /** Free-form application name (`liff-quiz`, `line-webhook` …). */
  app?: string | null;
}

/** One POST body (schema/sync.schema.json). */
export interface SyncEnvelope {
  version: 1;
  type: "kizuna.decisions";
  /** Same as the Idempotency-Key header; see {@link batchIdFor}. */
  batchId: string;
  /** When the batch was first sent (RFC 3339); unchanged on retries of the same batch. */
  sentAt: string;
  source: SyncSource;
  /** Oldest first. */
  decisions: Decision[];
}

/**
 * The fetch types are written out (only what the client uses of them), or taken from the
 * runtime's where it declares them as globals (TypeScript's DOM lib, `@types/node`,
 * `@cloudflare/workers-types`, Deno): these declarations need no lib or `types` of their own,
 * so a Worker compiled with only `@cloudflare/workers-types`, or a Node project with
 * `lib: ["es2022"]` and no `@types/node`, type-checks.
 */
type GlobalClass<K extends string, Fallback> = typeof globalThis extends { [P in K]: { prototype: infer T } } ? T : Fallback;
/** A `Headers` object, any runtime's (the client copies it with `new Headers(…)`). */
export interface HeadersObject {
  forEach(callbackfn: (value: string, key: string) => void): void;
}
/** `URL`, where the runtime declares it as a global value; else an object like it. */
export type FetchURL = GlobalClass<"URL", { readonly href: string; readonly origin: string; readonly pathname: string; readonly search: string }>;
/** What the client reads of a response: any runtime's `Response` is one. */
export interface FetchResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}
/** The second argument of the global `fetch`, where the runtime has one; else what the client passes. */
export type FetchInit = typeof globalThis extends { fetch: (input: never, init?: infer I) => unknown } ? NonNullable<I> : {
  method: "POST";
  headers: unknown;
  body: string;
  signal: unknown;
  redirect: "manual";
};

export type HeadersLike = Record<string, string> | [string, string][] | HeadersObject;

export interface SyncClientOptions {
  /**
   * The backend URL that receives `POST` envelopes and answers 2xx once it stored them (a 2xx
   * that is an HTML page is retried, see {@link SyncClient}). Redirects are not
   * followed: give the final URL.
   */
  endpoint: string | FetchURL;
  /** Where the outbox and the dead letters live. */
  store: SyncStore;
  /** Default: the global fetch. Called as a plain function (bind it if it needs `this`). */
  fetch?: (input: string, init: FetchInit) => Promise<FetchResponse>;
  /** Extra request headers (e.g. `authorization`). */
  headers?: HeadersLike;
  /** Extra headers computed per request (e.g. a fresh LIFF access token); wins over `headers`. A throw, or not settling within `timeoutMs`, counts as a retryable failure (kind "headers"). */
  getHeaders?: () => HeadersLike | Promise<HeadersLike>;
  /** Default: `{ runtime: <detected> }`. */
  source?: SyncSource;
  /** Most decisions per POST. Default 50. */
  batchSize?: number;
  /** Most bytes (UTF-8) of one POST body, envelope included. Default 262144 (256 KiB). A single decision larger than this is dead-lettered with kind "too_large". */
  maxBatchBytes?: number;
  /** Backoff: the n-th retry waits `random() * min(maxDelayMs, baseDelayMs * 2 ** (n - 1))` ms. Default 500. */
  baseDelayMs?: number;
  /** Default 60000. */
  maxDelayMs?: number;
  /**
   * The longest Retry-After honoured, in ms: a longer one (a proxy bug, a misconfigured
   * endpoint) waits this long instead. Stored retry times are cut to `lastAttemptAt +
   * max(maxDelayMs, maxRetryAfterMs)` when read, so a new instance on the same store is not
   * held longer either. 0 ignores Retry-After (backoff only). Default 3600000 (1 hour).
   */
  maxRetryAfterMs?: number;
  /**
   * Per request, via AbortController: `getHeaders` (a promise that never settles counts as a
   * retryable "headers" failure), the response headers and the body. Default 10000.
   */
  timeoutMs?: number;
  /** flush() waits for a retry only if it falls within this many ms of the flush's start; 0 = never wait. Default 20000 (fits `ctx.waitUntil`'s 30 s). */
  maxFlushMs?: number;
  /**
   * The most store operations (each get, put, delete and list call) one flush makes, an
   * integer of at least 16: it reads only what leaves room to settle a batch of it, sends a
   * batch (or waits for a retry) only when what is left covers the worst case — 5 per decision,
   * a dead letter — plus the next listing, and otherwise stops with `pending > 0` and
   * `nextAttemptAt` now, for the next flush to go on. Default `store.maxFlushOps` (KvStore:
   * 900), else no limit. (A store call that makes several calls underneath, like KV's list
   * following a cursor after a short page, counts one.) It bounds each call of
   * `requeueDeadLetters` and `deleteDeadLetters` too (see their `pending`). Every call has a
   * budget of its own, not the invocation: an invocation that requeues and then flushes (or
   * flushes twice, or calls again "while `pending > 0`") can make twice as many or more, and
   * with KvStore that passes Workers KV's 1,000 operations per invocation, which then throws.
   * With KvStore make one such call per invocation (what is pending goes on in the next), or
   * give each call its share (e.g. 450 for a requeue then a flush).
   */
  maxFlushOps?: number;
  /**
   * Failed attempts of a decision before it is dead-lettered, counted per decision (a fresh
   * decision sent in one batch with an old failing one keeps its own count). Default Infinity
   * (keep retrying).
   */
  maxAttempts?: number;
  /**
   * 4xx statuses retried with backoff (and Retry-After) like a 5xx instead of dead-lettered, for
   * a backend whose 401/403/404 mean "not now" (a token being rotated, a route being deployed),
   * e.g. `[401, 403, 404]`. 4xx only; 408 and 429 are always retried. Default `[]`.
   */
  retryStatuses?: number[];
  /** Default Math.random. */
  random?: () => number;
  /** Milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** Waits between retries inside flush(). Default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Every delivery or storage problem (retries included); awaited, and a throw is ignored. The
   * flush that reports waits for it: awaiting this client's `flush()`, `requeueDeadLetters()` or
   * `deleteDeadLetters()` in it would wait for ever (call them without awaiting).
   */
  onError?: (error: SyncError) => void | Promise<void>;
  /**
   * The Web Locks API a flush takes the store's lock (`store.lockName`) with, asked for with
   * `ifAvailable`: a flush never waits for it. While another instance (tab) holds it — that
   * tab is flushing this store — a flush sends nothing and resolves at once with the outbox
   * counted (`pending`, a lower bound) and, if that is above 0, `nextAttemptAt` a second later.
   * Default `navigator.locks` where it exists (browsers); without it, or for a store without a
   * lock name, flushes are not serialized across instances (delivery stays at least once). A
   * lock that cannot be asked for leaves the flush unlocked — `request()` rejects before calling
   * back (e.g. a SecurityError), or resolves without calling back — and is reported once per
   * client through `onError` (kind "store", outcome "kept"; the cause attached). A custom
   * object with the older two-argument `request(name, callback)` is such a case: it takes the
   * options for its callback and throws a TypeError; this client then stops asking it (it may
   * have waited for the lock before failing) and every flush runs unlocked. One stolen during a
   * flush (`steal: true` elsewhere) lets it finish unlocked. `requeueDeadLetters` and
   * `deleteDeadLetters` take the same lock the same way: while another tab holds it they move
   * nothing and resolve with everything asked for left (`pending`) and, if that is above 0,
   * `nextAttemptAt` a second later.
   */
  locks?: LockManagerLike;
}

/**
 * The part of the Web Locks API (`navigator.locks`) the client uses: the three-argument
 * `request(name, options, callback)`, which `navigator.locks` has. An object with only the
 * older `request(name, callback)` is not waited on: flushes run unlocked, reported once (see
 * {@link SyncClientOptions.locks}).
 */
export interface LockManagerLike {
  /** The callback gets `null` when `ifAvailable` is set and the lock is held or asked for. */
  request<T>(name: string, options: { ifAvailable?: boolean }, callback: (lock: unknown) => T | Promise<T>): Promise<T>;
}

export interface FlushResult {
  /** Decisions delivered (a 2xx that is not a web page) by this flush. */
  sent: number;
  /** Failed attempts that will be retried, counted per decision (a decision that failed twice counts 2). */
  retried: number;
  /** Decisions moved to the dead letters by this flush. */
  deadLettered: number;
  /**
   * Outbox records left (waiting for a retry, stored during the flush, beyond what this flush
   * read, or whose read failed: those stay in the outbox and are tried again). A flush reads at
   * most min(4 × batchSize, 200) records and twice as many keys, so with a longer outbox this is
   * a lower bound: anything above 0 means "flush again" (at `nextAttemptAt`); 0 means
   * the flush found nothing left to send. (A record whose dead-letter write or delete failed,
   * and a record another instance wrote back under a key this client deleted in the last
   * minute — a late retry write of an unlocked instance, or a requeue by a version before
   * `requeueDeadLetters` wrote new keys — can remain behind a 0: they are sent by a later
   * flush.) Keys that read as nothing (deleted
   * meanwhile, e.g. still shown by Workers KV's lagging list) and values moved aside
   * (`kizuna:held:`) are not records left. `undefined` when the store failed before this flush
   * could list the outbox (the count is unknown; `nextAttemptAt` is then set): test
   * `nextAttemptAt !== undefined` rather than `pending > 0` to decide whether to come back.
   */
  pending: number | undefined;
  /**
   * Present when `pending > 0`, and after a store failure (then now + a backoff that grows
   * with each failing flush, so a caller that schedules from it keeps trying; also when only
   * records whose read failed are left): the earliest time (epoch ms, on the client's `now`
   * clock) at which a pending decision may be sent — its backoff, or the backend's Retry-After,
   * whichever holds the outbox longer; now for records this flush did not read. A flush before then sends nothing: schedule the next one for it
   * (e.g. a Durable Object alarm), not sooner. Can be the flush's own end time (a zero
   * backoff), so bound the schedule below by a minimum interval of your own.
   */
  nextAttemptAt?: number;
}

export interface EnqueueResult {
  /** Decisions newly written to the outbox. */
  enqueued: number;
  /** Decisions skipped because their decisionId was already in the outbox or the dead letters (or repeated in the input). */
  duplicates: number;
}

export interface RequeueResult {
  /** Dead letters moved back to the outbox (or deleted, their decision being back there already). */
  requeued: number;
  /**
   * Dead letters asked for that this call did not get to (`maxFlushOps` ran out, see
   * {@link SyncClient.requeueDeadLetters}, or another tab held the store's lock, see
   * {@link SyncClientOptions.locks}): call again while above 0, at `nextAttemptAt`. With
   * decisionIds, how many of them, at the end of the list, it did not look at: pass
   * `decisionIds.slice(-pending)` next (the whole list again would spend the call reading the
   * ones done). Without, a lower bound of the dead letters left. 0: all done.
   */
  pending: number;
  /**
   * Present when `pending > 0`: when to call again (epoch ms, on the client's `now` clock), as
   * a flush's {@link FlushResult.nextAttemptAt}. Now when `maxFlushOps` ran out (with Workers
   * KV, that is the next invocation: see {@link SyncClientOptions.maxFlushOps}); a second
   * later when another tab held the store's lock, so that a loop on `pending` waits for it
   * instead of spinning.
   */
  nextAttemptAt?: number;
}

export interface DeleteResult {
  /** Dead letters deleted. */
  deleted: number;
  /** As {@link RequeueResult.pending}. */
  pending: number;
  /** As {@link RequeueResult.nextAttemptAt}. */
  nextAttemptAt?: number;
}

export interface DeadLetter {
  decisionId: string;
  decision: Decision;
  kind: SyncErrorKind;
  /** The HTTP status that rejected it (undefined for "too_large"). */
  status?: number;
  /** The response body (first 2048 characters) or a message. */
  error: string;
  attempts: number;
  batchId?: string;
  /** Epoch ms. */
  deadAt: number;
  /** Epoch ms it entered the outbox: its enqueue, or its last `requeueDeadLetters`. */
  enqueuedAt: number;
}

export type SyncErrorKind = "http" | "network" | "timeout" | "headers" | "too_large" | "store";

/**
 * Reported through `onError`; never thrown out of flush(). An outbox record that cannot be read
 * is reported as kind "store", outcome "kept", with its key's decisionId, and does not stop
 * the records behind it: a read that fails (the store threw) leaves it in place, counted in
 * `pending` and tried again by later flushes (reported once per client instance); a value this
 * version cannot send (a newer record version, not a record, or text that does not parse as
 * JSON, e.g. a truncated write: the built-in stores return it as a string) is moved as it is to
 * `kizuna:held:…` (see SyncStore), reported when moved.
 */
export class SyncError extends Error {
  constructor(message: string, fields?: {
    kind?: SyncErrorKind;
    outcome?: "retry" | "dead" | "kept";
    status?: number;
    body?: string;
    batchId?: string;
    decisionIds?: string[];
    attempt?: number;
    retryAt?: number;
    cause?: unknown;
  });
  readonly name: "SyncError";
  readonly kind: SyncErrorKind;
  /** "retry": scheduled again at `retryAt`; "dead": moved to the dead letters; "kept": kept in the store (store problems; an unreadable outbox record, left in place or moved to `kizuna:held:`; a store lock that could not be asked for, see `locks`). */
  readonly outcome: "retry" | "dead" | "kept";
  /** HTTP status, for kind "http". */
  readonly status?: number;
  /** Response text (first 2048 characters), for kind "http" with a non-2xx status (a 2xx that is a web page is not quoted). */
  readonly body?: string;
  readonly batchId?: string;
  readonly decisionIds: string[];
  /** 1-based number of the attempt that failed (for a batch, the highest of its decisions'). */
  readonly attempt?: number;
  /** Epoch ms of the next attempt, for outcome "retry". */
  readonly retryAt?: number;
}

/**
 * Sends Decision documents to a backend, durably and at least once.
 *
 * `enqueue()` writes to the store first; `flush()` POSTs JSON envelopes
 * `{version: 1, type: "kizuna.decisions", batchId, sentAt, source, decisions}` with headers
 * `Content-Type: application/json` and `Idempotency-Key: <batchId>`, oldest first, at most
 * `batchSize` decisions and `maxBatchBytes` bytes each. One flush reads at most
 * min(4 × batchSize, 200) outbox records, the oldest, and twice as many keys (keys found
 * deleted, unreadable or moved aside do not count as records), so its store operations are
 * bounded however long the outbox grows: at most 2 list calls per pass, 2 reads per record of
 * the window, 5 operations per decision settled (3 when delivered), 4 per value moved aside,
 * and 2 per failed decision per retry (retries within `maxFlushMs`); with `maxFlushOps`
 * (Workers KV: 900 of the 1,000 an invocation may make) never more than that. What is left
 * goes on the next flush (`pending > 0`). (Records written before the queue keys hold no time
 * in their key: they are sent first, in decisionId order from one flush to the next.) A decision
 * leaves the outbox only after a 2xx: empty (204), JSON, plain text ("OK"), anything but a web
 * page. A 2xx that is an HTML page (served as `text/html` or `application/xhtml+xml` and not
 * JSON, or a body that starts as an HTML document) — a proxy's login page, an endpoint that is
 * not the backend — is not delivery: it is retried like a 5xx and reported through `onError`
 * (kind "http", its status, the message naming the content type; the body is not quoted), as
 * is a 2xx whose body cannot be read (kind "network" or "timeout"). 408, 429, 5xx, network
 * errors and timeouts are retried with exponential backoff and full jitter, and so is 409 (the
 * Idempotency-Key draft's "a request with this key is still being processed") for a batch's
 * first 5 attempts, then its decisions are dead letters; a Retry-After (delay-seconds or an IMF-fixdate) longer than the backoff is
 * waited for instead (up to `maxRetryAfterMs`), a shorter one (0, a date in the past) or an
 * unreadable one is ignored. A batch
 * refused with 400, 413 or 422 is split in halves and sent again until the refused decisions
 * are alone; those move to the dead letters. Any other 4xx (401, 403, 404, ...) moves the
 * whole batch's decisions to the dead letters. Attempt counts and retry times are stored,
 * so a new instance on the same store continues where the last one stopped.
 *
 * **Backends must de-duplicate by `decisionId`.** Delivery is at least once: a response lost
 * after the backend stored a batch, a worker killed between the 2xx and the outbox delete,
 * two instances flushing one store without a lock, or the same decision enqueued again after
 * it was sent all resend decisions. In browsers, tabs sharing a LocalStorageStore or an
 * IndexedDbStore flush one at a time under a Web Lock. Elsewhere (Workers KV read by several
 * isolates, a browser without Web Locks) two instances can send the same decisions; a record
 * is re-read before a failure writes it back (or dead-letters it), so one that another
 * instance delivered meanwhile is not brought back, but the window between that read and the
 * write remains. Store each decision keyed by its `decisionId` (an upsert / INSERT … ON
 * CONFLICT DO NOTHING) and answer 2xx for a repeat; the Idempotency-Key (the same for every
 * retry of the same batch, new when the same decisions are sent again as a new request: requeued
 * from the dead letters or enqueued again) can short-cut whole repeated batches. Reply 2xx only once the batch
 * is stored, with an empty body (204) or a JSON one (e.g. `{"stored": 3}`). Browsers send a CORS preflight: allow `Content-Type` and `Idempotency-Key`.
 *
 * In Workers, create a client per request (or per Durable Object) and hand the flush to
 * `flushInBackground(ctx)`: all state lives in the store, and a promise of one request must
 * not be awaited by another.
 */
export class SyncClient {
  /** Throws TypeError on a missing or invalid endpoint, store or option. */
  constructor(options: SyncClientOptions);
  /**
   * Write decisions to the outbox (durable once this resolves). A decisionId already in the
   * outbox or in the dead letters is kept once. (Two enqueues of one decisionId at the same
   * time — two tabs — can each write a record: the flush that sends or dead-letters the
   * decision removes the other record when it has read it, and counts both in `pending` until
   * then; one beyond the flush's window is sent again by a later flush: at least once.) Rejects with TypeError on
   * a decision without a string `decisionId` (before writing anything) and with the store's
   * error if it fails.
   */
  enqueue(decisions: Decision | Decision[]): Promise<EnqueueResult>;
  /**
   * Send what is due and retry failures while the retry falls within `maxFlushMs` (the option
   * here overrides the client's for this call). Resolves with counts; delivery and storage
   * problems go to `onError`, never to the promise. Rejects (TypeError) only on an invalid
   * `maxFlushMs` here; it never throws synchronously. A call while a flush of this
   * instance runs returns that flush's promise (no double send); one while another instance
   * holds the store's Web Lock returns at once (see `locks`).
   */
  flush(options?: { maxFlushMs?: number }): Promise<FlushResult>;
  /** `ctx.waitUntil(client.flush())` for Workers; returns the flush promise. */
  flushInBackground(ctx?: { waitUntil(promise: Promise<unknown>): void }): Promise<FlushResult>;
  /**
   * Keys in the outbox (due or waiting; dead letters and `kizuna:held:` excluded), from a
   * `list` of every outbox key (both formats): exact however long the outbox is. With `limit`
   * (a non-negative integer; otherwise it rejects with TypeError), at most that many, from lists
   * of at most that many keys: `(await client.pending({ limit: 1 })) > 0` tells whether anything
   * waits without listing a long outbox.
   */
  pending(options?: { limit?: number }): Promise<number>;
  /**
   * The dead letters, oldest first. With `limit` (a non-negative integer; otherwise it rejects
   * with TypeError), at most that many, from one bounded list: the first by decisionId, then
   * oldest first among them. Without it, every dead letter is read (one store read each).
   */
  deadLetters(options?: { limit?: number }): Promise<DeadLetter[]>;
  /**
   * Move dead letters (all, or the given decisionIds) back to the outbox with fresh attempt
   * counts; resolves how many moved and how many it left. Without `maxFlushOps` (nor a store's),
   * one call takes every one asked for. With it, like a flush, a call makes at most
   * `maxFlushOps` store operations (up to 10 per dead letter: its read, the outbox check, two
   * puts, the removal of the record it was made from if that is still there, its delete): it
   * reads only the dead letters it can then move, and says what it did not get to (`pending`,
   * `nextAttemptAt`); of all, a call lists at most 1,000 and takes them in key order, that is
   * by decisionId, not the oldest first.
   * Each goes in as if enqueued now — at the end of the outbox, the ones one call requeues in
   * their original order among themselves — under a new key (the index
   * `kizuna:queued:<decisionId>` names it), never the key it left the outbox from: another
   * instance that removed that key lately (it passes over keys it removed for a minute, for
   * Workers KV's lagging list) sends and counts it at once. A dead letter whose decision is
   * already back in the outbox is deleted (and counted) without a second record; the record it
   * was made from, still there (a crash between the dead letter's write and the record's
   * removal, or another instance dead-lettering it right then), is not such a one: it is
   * replaced by the new record, so the decision is neither lost nor in twice. Runs after this
   * instance's flush, requeue or delete in progress, never alongside one (nor does a flush run
   * alongside it), and under the store's Web Lock like a flush (tabs: see `locks`), so two
   * requeues of a dead letter leave one record of it. (Instances that share no lock — isolates
   * on one KV namespace, a browser without Web Locks — can each write one, like two enqueues at
   * once: the flush that settles the decision removes the other record it reads. A record of a
   * decision a flush dead-lettered that it reads only afterwards — the decision requeued
   * meanwhile — is left to the next flush, counted in `pending`.)
   *
   * Changed: earlier builds resolved to a number (how many moved); this resolves to a
   * {@link RequeueResult} (its `requeued` is that number).
   */
  requeueDeadLetters(decisionIds?: string[]): Promise<RequeueResult>;
  /**
   * Delete dead letters for good (all, or the given decisionIds); resolves how many, and how
   * many it left within `maxFlushOps` (2 operations per dead letter), as `requeueDeadLetters`
   * does (without `maxFlushOps`, all in one call). One at a time with this instance's flushes
   * and under the store's lock, like it.
   *
   * Changed: earlier builds resolved to a number (how many were deleted); this resolves to a
   * {@link DeleteResult} (its `deleted` is that number).
   */
  deleteDeadLetters(decisionIds?: string[]): Promise<DeleteResult>;
}

/**
 * The batchId / Idempotency-Key of a batch: SHA-256 (64 lowercase hex digits) of the UTF-8 text
 * of its decisionIds sorted by UTF-16 code unit and joined with "\n", then "\n" and the batch's
 * `sentAt` (without `sentAt`: of the ids alone). One key is one body: retries of a batch keep its
 * `sentAt`; the same decisions sent again as a new request get a new one. For the hex decisionIds
 * the engine makes, in Python:
 * `hashlib.sha256(("\n".join(sorted(ids)) + "\n" + sent_at).encode()).hexdigest()`.
 */
export function batchIdFor(decisionIds: Iterable<string>, sentAt?: string): string;

/**
 * Retry-After in milliseconds from `nowMs` (0 for a date in the past); undefined if absent or
 * not strictly delay-seconds (`^\d+$`) or an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined;

/** Outbox records: `kizuna:queue:<enqueuedAt>.<seq>:<decisionId>`. */
export const QUEUE_PREFIX: "kizuna:queue:";
/** Outbox records of the previous format (`kizuna:outbox:<decisionId>`): read and sent, not written. */
export const OUTBOX_PREFIX: "kizuna:outbox:";
export const DEAD_PREFIX: "kizuna:dead:";
