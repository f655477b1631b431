// Storage adapters for the sync client's outbox. Every adapter implements the same small async
// interface, with JSON-serializable values and string keys:
//
//   get(key) -> value | undefined      put(key, value)      delete(key)
//   list(prefix, {limit}?) -> keys[] (sorted; the keys that start with prefix, across all pages;
//                             with `limit`, only the first `limit` of them)
//
// `limit` lets a flush read the oldest part of a long outbox without listing all of it (Workers
// KV counts every call against a per-invocation limit). A store that ignores it still works:
// the client cuts the list itself.
//
// A store that several instances in one browser share (tabs of one origin) names a Web Lock in
// `lockName`; the client holds it while it flushes, so two tabs do not send the same decisions.
//
// A store whose calls count against a limit per invocation (Workers KV) names the most calls a
// flush may make in `maxFlushOps`; a flush stops sending before it would go past them and
// leaves the rest to the next (pending > 0).
//
// The client keeps its keys prefixed (`kizuna:queue:…`, `kizuna:dead:<decisionId>` …), so a
// store can share a namespace with other data.

// The `limit` of list(prefix, {limit}): undefined for "all", else a non-negative integer.
// A stored value as the client reads it back: `undefined` when missing, else the parsed JSON, or
// the text itself when it does not parse (a truncated write). A string is never an outbox record,
// so the client moves it aside (`kizuna:held:`) and reports it, where a throwing get would make
// every flush read it again and keep `pending` above 0 for ever.
function parseStored(text) {
  if (text === null || text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function limitOf(options) {
  const limit = options?.limit;
  if (limit === undefined || limit === Infinity) return undefined;
  if (!Number.isInteger(limit) || limit < 0) throw new TypeError(`list: limit must be a non-negative integer, got ${limit}`);
  return limit;
}

// The first `limit` keys of an unsorted key list, in order.
function firstKeys(keys, options) {
  const limit = limitOf(options);
  keys.sort();
  return limit === undefined ? keys : keys.slice(0, limit);
}

/** In-memory store: for tests, and for short-lived processes that accept losing the outbox. */
export class MemoryStore {
  #map = new Map();

  async get(key) {
    const text = this.#map.get(key);
    // Stored as JSON text so callers never alias (or mutate) what is stored, like a real store.
    return text === undefined ? undefined : JSON.parse(text);
  }

  async put(key, value) {
    this.#map.set(key, JSON.stringify(value));
  }

  async delete(key) {
    this.#map.delete(key);
  }

  async list(prefix = "", options) {
    return firstKeys([...this.#map.keys()].filter((k) => k.startsWith(prefix)), options);
  }
}

// A name for this page (JavaScript realm), made when first needed: the lock of a store on
// sessionStorage, which is the tab's own.
let pageId;

/**
 * Web Storage (`localStorage`, or any object with getItem/setItem/removeItem/key/length).
 * Synchronous underneath, survives reloads; about 5 MB per origin in browsers, and setItem
 * throws QuotaExceededError when full (enqueue() then rejects, so the caller knows).
 */
export class LocalStorageStore {
  #storage;
  #prefix;

  constructor(storage = globalThis.localStorage, prefix = "") {
    for (const m of ["getItem", "setItem", "removeItem", "key"]) {
      if (!storage || typeof storage[m] !== "function") {
        throw new TypeError("LocalStorageStore: a Web Storage object (localStorage) is required");
      }
    }
    if (typeof prefix !== "string") throw new TypeError("LocalStorageStore: prefix must be a string");
    this.#storage = storage;
    this.#prefix = prefix;
    // Every tab of the origin sees the same localStorage: they flush one at a time. A tab's
    // sessionStorage is its own: a lock shared with other tabs would only make a flush of it
    // wait for theirs (or, asked for if available, come back later).
    let session = false;
    try {
      session = storage === globalThis.sessionStorage;
    } catch {
      // sessionStorage refused here (an opaque origin): not this storage then
    }
    if (session) pageId ??= globalThis.crypto?.randomUUID?.() ?? Math.random().toString(36).slice(2);
    this.lockName = session ? `kizuna-sync:sessionStorage:${pageId}:${prefix}` : `kizuna-sync:${prefix}`;
  }

  async get(key) {
    return parseStored(this.#storage.getItem(this.#prefix + key));
  }

  async put(key, value) {
    this.#storage.setItem(this.#prefix + key, JSON.stringify(value));
  }

  async delete(key) {
    this.#storage.removeItem(this.#prefix + key);
  }

  async list(prefix = "", options) {
    const full = this.#prefix + prefix;
    const keys = [];
    // Collect first: the key order of Web Storage changes when items are removed. (Web Storage
    // has no ordered listing: all keys are scanned, but that costs no I/O.)
    for (let i = 0; i < this.#storage.length; i++) {
      const k = this.#storage.key(i);
      if (k !== null && k.startsWith(full)) keys.push(k.slice(this.#prefix.length));
    }
    return firstKeys(keys, options);
  }
}

/**
 * IndexedDB (browsers, LIFF apps): larger quota than localStorage and off the main thread.
 * One database with one object store of out-of-line string keys. Writes use "strict"
 * durability where supported, so a decision is on disk before enqueue() resolves.
 */
export class IndexedDbStore {
  #dbName;
  #storeName;
  #factory;
  #db; // Promise<IDBDatabase> | undefined

  constructor(dbName = "kizuna", { storeName = "kv", indexedDB = globalThis.indexedDB } = {}) {
    if (typeof dbName !== "string" || dbName === "") throw new TypeError("IndexedDbStore: dbName must be a non-empty string");
    if (!indexedDB || typeof indexedDB.open !== "function") throw new TypeError("IndexedDbStore: IndexedDB is not available here");
    this.#dbName = dbName;
    this.#storeName = storeName;
    this.#factory = indexedDB;
    // Every tab of the origin opens the same database: they flush one at a time.
    this.lockName = `kizuna-sync:indexeddb:${dbName}/${storeName}`;
  }

  #open() {
    // Opened lazily and once; a failed open is forgotten so the next call tries again.
    this.#db ??= new Promise((resolve, reject) => {
      const req = this.#factory.open(this.#dbName, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(this.#storeName);
      req.onsuccess = () => {
        const db = req.result;
        // Another tab upgrading the database: step aside instead of blocking it.
        db.onversionchange = () => { db.close(); this.#db = undefined; };
        resolve(db);
      };
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error(`IndexedDbStore: opening "${this.#dbName}" is blocked by another tab`));
    }).catch((e) => { this.#db = undefined; throw e; });
    return this.#db;
  }

  async #run(mode, fn) {
    const db = await this.#open();
    return new Promise((resolve, reject) => {
      const tx = mode === "readwrite"
        ? db.transaction(this.#storeName, mode, { durability: "strict" })
        : db.transaction(this.#storeName, mode);
      const req = fn(tx.objectStore(this.#storeName));
      // Resolve on commit, not on request success: only then is the write durable.
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? req.error);
      tx.onabort = () => reject(tx.error ?? new Error("IndexedDbStore: transaction aborted"));
    });
  }

  async get(key) {
    return this.#run("readonly", (s) => s.get(key));
  }

  async put(key, value) {
    await this.#run("readwrite", (s) => s.put(value, key));
  }

  async delete(key) {
    await this.#run("readwrite", (s) => s.delete(key));
  }

  async list(prefix = "", options) {
    const limit = limitOf(options);
    if (limit === 0) return []; // getAllKeys takes a count of 0 as "no limit"
    const IDBKeyRange = globalThis.IDBKeyRange;
    const range = prefix === "" || !IDBKeyRange ? undefined : IDBKeyRange.bound(prefix, prefix + "\uffff");
    if (range === undefined && prefix !== "") {
      // No key range here: filter everything (the count cannot be given to getAllKeys).
      return firstKeys((await this.#run("readonly", (s) => s.getAllKeys())).filter((k) => typeof k === "string" && k.startsWith(prefix)), options);
    }
    // Keys come in key order (strings by code unit, as JavaScript sorts them).
    const keys = await this.#run("readonly", (s) => s.getAllKeys(range, limit));
    return keys.filter((k) => typeof k === "string" && k.startsWith(prefix));
  }
}

/**
 * Cloudflare Workers KV namespace binding (`env.MY_KV`). KV is eventually consistent (a write
 * can take up to 60 s to show in list() elsewhere) and allows about one write per second per
 * key, so a decision may occasionally be sent twice; backends de-duplicate by decisionId.
 * Each decision costs about nine KV operations (enqueue: 3 reads + 2 writes, the record and its
 * decisionId index; delivery: 2 reads + 2 deletes; a dead letter or a failed attempt costs more),
 * counted against a Worker's per-invocation limit (1,000). A flush makes at most `maxFlushOps`
 * (900) of them, whatever the outcome and however long the outbox is: it stops sending before
 * it would go past them, and the next flush goes on. The remaining 100 are for the
 * invocation's own calls (enqueues): lower it if the Worker makes more. The 900 are per call of
 * the client (a flush, a requeue or delete of dead letters), not per invocation: an invocation
 * that makes two such calls must give each its share (maxFlushOps) or it can pass 1,000.
 * Prefer DurableObjectStore when a strongly consistent outbox is needed.
 */
export class KvStore {
  #ns;

  constructor(namespace) {
    for (const m of ["get", "put", "delete", "list"]) {
      if (!namespace || typeof namespace[m] !== "function") {
        throw new TypeError("KvStore: a Workers KV namespace binding is required");
      }
    }
    this.#ns = namespace;
    this.maxFlushOps = 900;
  }

  async get(key) {
    return parseStored(await this.#ns.get(key, { type: "text" }));
  }

  async put(key, value) {
    await this.#ns.put(key, JSON.stringify(value));
  }

  async delete(key) {
    await this.#ns.delete(key);
  }

  async list(prefix = "", options) {
    const limit = limitOf(options);
    const keys = [];
    let cursor;
    // list() returns at most 1000 keys per call, in lexicographic order; follow the cursor until
    // list_complete or `limit` keys.
    for (;;) {
      const want = limit === undefined ? undefined : Math.min(1000, limit - keys.length);
      if (want === 0) break;
      const page = await this.#ns.list({ prefix, ...(want === undefined ? {} : { limit: want }), ...(cursor === undefined ? {} : { cursor }) });
      for (const k of page.keys) keys.push(k.name);
      if (page.list_complete || !page.cursor) break;
      cursor = page.cursor;
    }
    return firstKeys(keys, options);
  }
}

/**
 * A Durable Object's transactional storage (`state.storage`; passing `state` works too).
 * Strongly consistent and ordered: the best home for an outbox on Workers.
 */
export class DurableObjectStore {
  #storage;

  constructor(storage) {
    if (storage && typeof storage.list !== "function" && storage.storage) storage = storage.storage;
    for (const m of ["get", "put", "delete", "list"]) {
      if (!storage || typeof storage[m] !== "function") {
        throw new TypeError("DurableObjectStore: a Durable Object storage (state.storage) is required");
      }
    }
    this.#storage = storage;
  }

  async get(key) {
    return this.#storage.get(key);
  }

  async put(key, value) {
    await this.#storage.put(key, value);
  }

  async delete(key) {
    await this.#storage.delete(key);
  }

  async list(prefix = "", options) {
    const most = limitOf(options) ?? Infinity;
    const keys = [];
    let startAfter;
    // Paged, because list() returns values too and an unbounded Map could be large.
    while (keys.length < most) {
      const limit = Math.min(1000, most - keys.length);
      const opts = startAfter === undefined ? { prefix, limit } : { prefix, limit, startAfter };
      const page = await this.#storage.list(opts);
      for (const k of page.keys()) keys.push(k);
      if (page.size < limit) break;
      startAfter = keys[keys.length - 1];
    }
    return keys;
  }
}
