// The LINE webhook worker, independent of the decision engine: `createWorker(loadDecide)` gives
// the module's default export (the fetch handler) and the Durable Object class. src/index.js
// plugs in kizuna; the load benchmark plugs in json-logic-js + liquidjs the same way.
//
// Flow of one webhook:
//   admin    /admin/users/{userId}/dead-letters[/requeue] with Bearer ADMIN_TOKEN (see admin())
//   fetch    verify x-line-signature on the raw bytes (401, no work; 413 over 1 MiB) → parse
//            (400) → group the 1:1 events by userId (group and room events are ignored) → the
//            settings must be valid (else 500: LINE redelivers) → hand each user's events to
//            that user's Durable Object, which de-duplicates them on webhookEventId and stores
//            them durably → 200. The config is not compiled here (see createWorker).
//   object   one per userId, so one user's events run one at a time, in order: load the user
//            (backend, else the last copy, else wait for the backend, up to BACKEND_WAIT_MS
//            after the event was received, if waiting may help; a new user starts from the LINE
//            profile) → context → decide → reply (push with X-Line-Retry-Key once the token
//            is stale, never after a reply whose outcome is unknown) → link / unlink the rich
//            menu → enqueue the decision in the sync outbox (in the object's storage; its
//            richMenu says what LINE carried out) → flush; an alarm retries what is left
//            (events, outbox) until it is done. An event is started only if the outgoing
//            requests its invocation has left cover the most it can make (MAX_SUBREQUESTS);
//            the rest go on at once in a new invocation (an alarm).
//
// Why the 200 waits for the hand-off and not for the work: work scheduled with ctx.waitUntil in
// the stateless worker is lost if the isolate is evicted or crashes before it ends, and LINE
// does not redeliver a webhook it got a 200 for. Handing the events to the Durable Object
// first (one RPC per user, in parallel; the object only writes them to its storage and answers)
// makes every event durable before LINE is told "received", keeps the answer fast (no LINE or
// backend call before it), and lets a failed hand-off answer 500 so LINE redelivers.
import { DurableObject } from "cloudflare:workers";
import { SyncClient, DurableObjectStore } from "kizuna/sync";
import { retryKeyFor } from "kizuna/line";
import { verifySignature } from "./signature.js";
import { HTTPFetchError } from "@line/bot-sdk";
import { LineApi, isMonthlyLimit } from "./line.js";

const HANDLED = new Set(["follow", "unfollow", "message", "postback"]);
const MAX_BODY = 1 << 20; // LINE webhook bodies are far smaller; refuse anything larger
const SEEN_TTL_MS = 7 * 24 * 3600e3; // webhookEventIds remembered for redeliveries
// Events older than this are ignored. The signature covers the body alone, with no time in it, so
// a signed body captured once (a proxy's log, a debugging endpoint) verifies forever; its events
// are de-duplicated only while their ids are remembered (SEEN_TTL_MS after they were received),
// and past that they would be taken as new: a follow's welcome pushed again, an unfollow synced
// as if the user had blocked the account, a coupon postback decided again. A day short of
// SEEN_TTL_MS (clock skew between LINE and the worker, the time an event took to arrive): any
// event younger than this is still remembered if it came before. LINE redelivers far sooner.
const MAX_EVENT_AGE_MS = SEEN_TTL_MS - 24 * 3600e3;
const INBOX = "inbox:";
const SEEN = "seen:";
const INBOX_BATCH = 16; // inbox records a pass reads at a time
const CONFIG_RETRY_MAX_MS = 10 * 60e3; // longest wait between retries of an event kept for a deploy or the backend
const BACKEND_RETRY_STATUSES = [401, 403, 404]; // POST /decisions answers retried, not dead-lettered
const SETTINGS_RETRY_MS = 60e3; // how soon a pass looks again while the numeric settings are invalid

// Outgoing requests ("subrequests") per invocation. Workers Free allows 50 per request, Workers
// Paid 10,000 (https://developers.cloudflare.com/workers/platform/limits/#subrequests: "Subrequests
// | 50/request | 10,000/request"; earlier versions of the page said 1,000 for Paid), and Durable
// Objects "are a special kind of Worker, so Workers limits also apply"
// (https://developers.cloudflare.com/durable-objects/platform/limits/). A subrequest is "any
// request that a Worker makes to either Internet resources using the Fetch API or requests to
// other Cloudflare services"; "each subrequest in a redirect chain counts". Here: every attempt
// of a Messaging API call (a call retried 5 times is 5), GET {BACKEND_URL}/users/… and each
// POST {BACKEND_URL}/decisions. KV (the optional PROFILES cache, ≤ 2 operations per event) and
// Durable Object calls count against another limit, "1,000 per request, regardless of the
// usage model" (same page), far from reach here; Durable Object storage is no subrequest. A
// request past the limit throws, and the worker would take it for a failed call whose outcome
// is unknown (a reply then not sent, never pushed).
//
// Whose allowance: a Durable Object handles all its requests (accept() calls, alarms) in one
// I/O context, and workerd attributes each subrequest "to the 'current' incoming request, which
// is defined as the newest request that hasn't already completed" (src/workerd/io/io-context.h).
// The newest is not always the one charged: accept() returns before the pass it starts ends,
// and its request can complete while that pass still runs (in actors, IncomingRequest::drain()
// ends once the waitUntil tasks are done, and a pass sleeping in a retry backoff need not be
// one); the charging then falls back to an older request still running — an alarm() whose pass
// is in flight, which spent requests before the webhook came. (workerd also starts an alarm
// while an older alarm's pass still runs.) So the object counts from the start of a request
// that finds nothing in flight — no pass queued or running, no accept() under way — and a
// request that starts while something is keeps counting from there (#subrequests, see
// #newRequest): the count is then at least what any request still running has been charged,
// whichever it is. That can under-use an allowance (a webhook during a pass gets none of its
// own), never over-use one. The object starts an event only if what is left covers the most that
// event can make (eventWorstCase) plus a sync flush (SYNC_FLUSH_REQUESTS), and refuses any
// request past MAX_SUBREQUESTS without making it (BudgetSpent): the event keeps its progress and
// goes on in a new invocation.
//
// The requests kept for a flush of kizuna/sync: an allowance, not a bound. A flush reads at
// most min(4 × batchSize, 200) outbox records and sends a POST per batch of up to 50 decisions:
// usually one (a pass syncs the few events it decided), four for a backlog of small decisions.
// It can send more: a batch also closes at maxBatchBytes (256 KiB) and a decision carries its
// messages, so large ones make more, smaller batches (up to one per decision read); a batch
// whose content the backend refuses (400/413/422) is split in halves and each half sent; with
// SYNC_MAX_FLUSH_MS > 0 a flush retries within itself. A POST past
// MAX_SUBREQUESTS is refused by #spend, not sent: the sync client takes it for a network error
// (a "retry" warning in the log, one attempt counted on those decisions — the worker sets no
// maxAttempts, so none is dead-lettered for it — and its backoff), and a later invocation sends
// it. Nothing is lost; the allowance is never passed.
const SYNC_FLUSH_REQUESTS = 4;

/**
 * The most outgoing requests one inbox record can still make with `lineAttempts` attempts per
 * Messaging API call: not decided yet — the backend's GET /users (1) and the LINE profile
 * (`lineAttempts`; not for an unfollow); then, for an event that is answered (not unfollow or
 * standby), the rich menu call unless done (an undecided event may need one) and the message
 * unless done — a reply and, if LINE refuses its token on the first attempt, a push: twice
 * `lineAttempts` while a reply token may still be tried. A new follow: 1 + 4 × lineAttempts.
 */
export function eventWorstCase(record, lineAttempts) {
  const { event, decision } = record;
  const done = record.done ?? {};
  let worst = decision ? 0 : 1 + (event.type === "unfollow" ? 0 : lineAttempts);
  if (event.type === "unfollow" || event.mode === "standby") return worst;
  const rm = decision?.richMenu;
  if (!done.menu && (!decision || rm?.action === "link" || rm?.action === "unlink")) worst += lineAttempts;
  if (!done.message && (!decision || decision.messages?.length > 0)) worst += (event.replyToken && !done.replyRefused ? 2 : 1) * lineAttempts;
  return worst;
}

// The numeric settings (wrangler [vars] and secrets are text): name → [default, minimum,
// integer]. Parsed once per env; a typo must not become NaN (e.g. LINE_MAX_ATTEMPTS=NaN
// retried a 5xx forever, LINE_TIMEOUT_MS=NaN timed every call out at once).
const SETTINGS = {
  LINE_MAX_ATTEMPTS: [5, 1, true],
  LINE_RETRY_BASE_MS: [200, 0],
  LINE_TIMEOUT_MS: [10_000, 1],
  REPLY_TOKEN_TTL_MS: [50_000, 0],
  MAX_PUSH_DELAY_MS: [3_600_000, 0],
  BACKEND_TIMEOUT_MS: [5_000, 1],
  SYNC_BASE_DELAY_MS: [500, 0],
  SYNC_MAX_DELAY_MS: [60_000, 0],
  SYNC_MAX_FLUSH_MS: [0, 0],
  SYNC_TIMEOUT_MS: [5_000, 1],
  SYNC_ALARM_MS: [2_000, 0],
  INBOX_RETRY_MS: [10_000, 1], // 0 would retry a waiting event in a tight loop
  MAX_EVENT_ATTEMPTS: [5, 1, true],
  BACKEND_WAIT_MS: [24 * 3600e3, 1, true],
  // Outgoing requests one invocation of a user's object may make: Workers Free's 50 (see
  // SYNC_FLUSH_REQUESTS above); on Workers Paid up to its limit (10,000, or `limits.subrequests`).
  // At least one event's worst case and a flush (checked below).
  MAX_SUBREQUESTS: [50, 1, true],
};
const parsedSettings = new WeakMap();

/** The numeric settings of `env`, defaults filled in; throws a SettingsError naming a bad one. */
export function settingsOf(env) {
  let out = parsedSettings.get(env);
  if (out) return out;
  out = {};
  for (const [name, [dflt, min, integer]] of Object.entries(SETTINGS)) {
    const raw = env[name];
    if (raw === undefined || raw === null || String(raw).trim() === "") {
      out[name] = dflt;
      continue;
    }
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
      throw new SettingsError(`${name} must be ${integer ? "an integer" : "a number"} ≥ ${min}, got ${JSON.stringify(String(raw))}`);
    }
    out[name] = v;
  }
  // Every event must fit in one invocation, or the first one that could not would wait forever.
  const need = eventWorstCase({ event: { type: "follow", replyToken: "-" } }, out.LINE_MAX_ATTEMPTS) + SYNC_FLUSH_REQUESTS;
  if (out.MAX_SUBREQUESTS < need) {
    throw new SettingsError(`MAX_SUBREQUESTS must be an integer ≥ ${need} with LINE_MAX_ATTEMPTS ${out.LINE_MAX_ATTEMPTS} (an event may make ` +
      `1 + 4 × ${out.LINE_MAX_ATTEMPTS} requests, a sync flush ${SYNC_FLUSH_REQUESTS}; lower LINE_MAX_ATTEMPTS or, on Workers Paid, raise ` +
      `MAX_SUBREQUESTS), got ${JSON.stringify(String(env.MAX_SUBREQUESTS ?? ""))}${env.MAX_SUBREQUESTS == null ? ` (the default, ${out.MAX_SUBREQUESTS})` : ""}`);
  }
  if (env.MAX_EVENTS_PER_PASS != null) console.warn("settings: MAX_EVENTS_PER_PASS is no longer read: a pass is bounded by its outgoing requests (MAX_SUBREQUESTS)");
  // Checked with the numbers: a URL without a scheme would fail every pass after its events,
  // before it sets its next alarm, while webhooks are still answered 200.
  // (URL() trims spaces the requests would keep: " https://…" or "…/kizuna " is refused too.)
  const raw = String(env.BACKEND_URL ?? "");
  let url;
  try {
    url = new URL(raw);
  } catch {}
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || raw !== raw.trim()) {
    throw new SettingsError(`BACKEND_URL must be an absolute http(s) URL such as "https://backend.example.jp/kizuna", got ${JSON.stringify(String(env.BACKEND_URL ?? ""))}`);
  }
  parsedSettings.set(env, out);
  return out;
}

settingsOf.safe = (env) => {
  try {
    return settingsOf(env);
  } catch {
    return undefined;
  }
};

/** A setting (env var) is not valid: nothing runs until it is fixed. */
class SettingsError extends Error {
  constructor(message) {
    super(`invalid setting: ${message}`);
    this.name = "SettingsError";
  }
}

/**
 * A problem of the deployment, not of the event (no event can be done until a fixed deploy):
 * events are kept, never given up, and retried less and less often. `fix` says what to do.
 */
class DeployError extends Error {}

/** The engine could not be made (the config does not compile): no event can be decided. */
class ConfigError extends DeployError {
  constructor(cause) {
    super(`the config does not compile: ${problem(cause)}`, { cause });
    this.outcome = "not decided";
    this.name = "ConfigError";
    this.fix = "deploy a config that compiles";
  }
}

/**
 * LINE answered 401/403: the channel access token expired (v2.1 and stateless tokens do), was
 * reissued, or lacks a permission. Every call fails alike; dropping the events would lose every
 * message and menu change of the misconfiguration window.
 */
class LineAuthError extends DeployError {
  constructor(what, cause) {
    super(`LINE refused the ${what} call with ${cause.status}: the channel access token is expired, reissued or not allowed this call`, { cause });
    this.name = "LineAuthError";
    this.outcome = "not done";
    this.fix = "put a valid LINE_CHANNEL_ACCESS_TOKEN";
  }
}

/**
 * A request the invocation has no allowance left for (MAX_SUBREQUESTS): not made. The event
 * keeps its progress and goes on in a new invocation; it is no attempt, nothing was sent.
 */
class BudgetSpent extends Error {
  constructor(what, max) {
    super(`${what} not sent: this invocation has made its MAX_SUBREQUESTS (${max}) outgoing requests`);
    this.name = "BudgetSpent";
  }
}

/**
 * The backend did not say who the user is, and the object has no copy: the event cannot be
 * decided without taking a known customer for a new friend. `waits`: the reason passes or a
 * deploy fixes it (unreachable, no answer within BACKEND_TIMEOUT_MS, a 5xx, 408, 429, a 401/403
 * while BACKEND_TOKEN is rotated, a 404 that is not JSON or a 2xx whose body does not parse —
 * a wrong BACKEND_URL's page, or with a JSON content-type a backend fault). Not the event's
 * fault then: it is kept and retried with backoff until BACKEND_WAIT_MS after it was received,
 * without spending MAX_EVENT_ATTEMPTS. Otherwise the backend answered about this user with
 * something waiting is not known to change (a 2xx JSON that is not a user object, e.g.
 * `200 null` for an unknown user; a 4xx other than 401, 403, 404, 408 and 429, e.g. 400, 410,
 * 422; any other status fetch returns): an ordinary failure of the event, which spends
 * MAX_EVENT_ATTEMPTS (every INBOX_RETRY_MS) and is then given up undecided.
 */
class UserNotLoaded extends Error {
  constructor(why, waits) {
    super(`backend: user not loaded (${why}) and no copy kept`);
    this.name = "UserNotLoaded";
    this.waits = waits;
  }
}

// GET /users answers that pass or that a deploy fixes: worth waiting for (UserNotLoaded).
const backendWaitsFor = (status) => status >= 500 || status === 401 || status === 403 || status === 408 || status === 429;

// A failed GET /users: `waits` says whether waiting may help (see UserNotLoaded).
function loadFailure(message, waits) {
  return Object.assign(new Error(message), { waits });
}

// A JSON media type (application/json, application/problem+json, …): a hint for log lines, and
// a 404 with one is the backend's even with an empty body.
const isJson = (res) => /\bjson\b/i.test(res.headers.get("content-type") ?? "");

// The media type of an answer, for a log line (no parameters; only token characters, so a
// header cannot write into the log).
function contentTypeOf(res) {
  const type = (res.headers.get("content-type") ?? "").split(";")[0].trim().slice(0, 100).replace(/[^\w.+\/-]/g, "?");
  return type ? `content-type ${type}` : "no content-type";
}

/**
 * @param {(env: object) => ((contextJson: string) => string)} loadDecide  given the env, returns
 *   a function from Context JSON text to Decision JSON text (compiled once per isolate).
 */
/** `user` (changed in place) on the per-user menu `richMenuId`, or on none (`null`). */
function onMenu(user, richMenuId) {
  if (richMenuId) user.richMenuId = richMenuId;
  else delete user.richMenuId;
  return user;
}

export function createWorker(loadDecide) {
  let decideFn;
  // Compiled once per isolate, lazily, by the first user object that decides an event — never
  // by the fetch handler: kizuna's `new Engine(config)` takes 3–17 ms of CPU on a cold isolate,
  // Workers Free allows 10 ms of CPU per request ("CPU time", 10 ms on Workers Free:
  // https://developers.cloudflare.com/workers/platform/limits/), and the hand-off does not need
  // a decision. A failure is thrown (as ConfigError: the object keeps the event and logs why,
  // see #work) and tried again next time.
  const decider = (env) => {
    try {
      return (decideFn ??= loadDecide(env));
    } catch (e) {
      throw new ConfigError(e);
    }
  };

  // The operator's door to a user's dead letters (decisions the backend refused for their
  // content, 400/413/422): list them, and requeue them once the backend takes them. Off unless
  // the ADMIN_TOKEN secret is set; Bearer ADMIN_TOKEN. The user is named in the error line that
  // dead-lettered the decisions.
  async function admin(request, env, pathname) {
    if (!env.ADMIN_TOKEN) return new Response("not found\n", { status: 404 });
    if (!sameText(request.headers.get("authorization") ?? "", `Bearer ${env.ADMIN_TOKEN}`)) {
      return new Response("unauthorized\n", { status: 401, headers: { "www-authenticate": "Bearer" } });
    }
    const m = /^\/admin\/users\/([^/]+)\/dead-letters(\/requeue)?$/.exec(pathname);
    if (!m) return new Response("not found: GET /admin/users/{userId}/dead-letters, POST …/dead-letters/requeue\n", { status: 404 });
    const [, userId, requeue] = m;
    if (!/^U[0-9a-f]{32}$/.test(userId)) return new Response("not a LINE user id (U and 32 hex digits)\n", { status: 400 });
    const method = requeue ? "POST" : "GET";
    if (request.method !== method) return new Response(`${method} only\n`, { status: 405, headers: { allow: method } });
    const user = env.USERS.get(env.USERS.idFromName(userId));
    const body = requeue ? await user.requeueDeadLetters() : { deadLetters: await user.deadLetters() };
    return Response.json(body);
  }

  const handler = {
    /** @param {Request} request */
    async fetch(request, env) {
      const { pathname } = new URL(request.url);
      if (pathname.startsWith("/admin/")) return admin(request, env, pathname);
      if (request.method !== "POST") {
        return new Response("kizuna LINE webhook endpoint: LINE sends POST requests here.\n", { status: 405, headers: { allow: "POST" } });
      }
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > MAX_BODY) return new Response("payload too large\n", { status: 413 });
      const body = await readCapped(request, MAX_BODY); // also caps a chunked body
      if (body === undefined) return new Response("payload too large\n", { status: 413 });
      // Before anything else: an unsigned request does no work at all.
      if (!(await verifySignature(env.LINE_CHANNEL_SECRET, body, request.headers.get("x-line-signature")))) {
        return new Response("invalid signature\n", { status: 401 });
      }
      let payload;
      try {
        payload = JSON.parse(new TextDecoder().decode(body));
      } catch {
        return new Response("malformed JSON\n", { status: 400 });
      }
      if (!payload || typeof payload !== "object" || !Array.isArray(payload.events)) {
        return new Response("expected {destination, events: [...]}\n", { status: 400 });
      }

      // Group per user, keeping LINE's order; skip what the worker does not handle. Only 1:1
      // chats: in a group or room, the reply token answers the whole group (a member's
      // personalized message would be shown to everyone) and no menu should follow a group chat.
      const perUser = new Map();
      let ignored = 0;
      let stale = 0;
      const now = Date.now();
      for (const event of payload.events) {
        const userId = event?.source?.userId;
        if (!event || !HANDLED.has(event.type) || event.source?.type !== "user" || typeof userId !== "string") {
          ignored++;
          continue;
        }
        if (now - event.timestamp > MAX_EVENT_AGE_MS) {
          stale++; // a replayed body (see MAX_EVENT_AGE_MS)
          continue;
        }
        if (!perUser.has(userId)) perUser.set(userId, []);
        perUser.get(userId).push(event);
      }
      if (ignored > 0) console.log(`webhook: ${ignored} event(s) of unhandled types, from groups or rooms, or without a user ignored`);
      if (stale > 0) {
        console.warn(`webhook: ${stale} event(s) older than ${MAX_EVENT_AGE_MS / 864e5} days ignored: their ids may be forgotten ` +
          `(remembered ${SEEN_TTL_MS / 864e5} days), so they could be a replayed body`);
      }
      if (perUser.size === 0) return new Response(null, { status: 200 }); // LINE's "Verify" sends no events

      // A setting that is not a number (or a BACKEND_URL that is not a URL) makes every pass
      // fail: refuse before accepting, so LINE keeps the events and redelivers them (with
      // "Webhook redelivery" on) once the setting is fixed. Parsing them is cheap. The config is
      // not compiled here: the objects compile it, and while it does not compile they keep the
      // events (durably, unlike LINE's redelivery, which gives up) and log why at error level
      // (`event …: not decided: the config does not compile: <code> at <pointer>: …`) until a
      // config that compiles is deployed.
      try {
        settingsOf(env);
      } catch (e) {
        console.error(`webhook: ${e.message}; answering 500 (LINE redelivers)`);
        return new Response("try again\n", { status: 500 });
      }

      const results = await Promise.allSettled(
        [...perUser].map(([userId, events]) => env.USERS.get(env.USERS.idFromName(userId)).accept(events)),
      );
      const failed = results.filter((r) => r.status === "rejected");
      if (failed.length > 0) {
        console.error(`webhook: ${failed.length} of ${results.length} hand-offs failed: ${failed[0].reason?.message ?? failed[0].reason}`);
        // LINE redelivers (when redelivery is on); events already accepted are de-duplicated.
        return new Response("try again\n", { status: 500 });
      }
      return new Response(null, { status: 200 });
    },
  };

  class KizunaUser extends DurableObject {
    #chain = Promise.resolve();
    #sincePrune = 63; // prune on the first quiet moment of a fresh instance, then every 64
    #line;
    #sync;
    #cfg;
    #redriven = false;
    #userId; // whose object this is, once a pass has read an event
    #startedAt = Date.now(); // this instance's start: a deploy starts new instances
    // Outgoing requests since the last incoming request (accept() or alarm()) that began with
    // nothing in flight: at least what the runtime has charged any request still running (see
    // SYNC_FLUSH_REQUESTS and #newRequest).
    #subrequests = 0;
    // accept() calls under way and passes queued or running (#kick).
    #inFlight = 0;

    constructor(ctx, env) {
      super(ctx, env);
      this.storage = ctx.storage;
    }

    /** The wait before try `tries` + 1 of an event kept for a deploy or the backend: from
     * INBOX_RETRY_MS, doubling, at most CONFIG_RETRY_MAX_MS. */
    #keptBackoff(tries) {
      return Math.min(this.cfg.INBOX_RETRY_MS * 2 ** Math.min(tries - 1, 20), CONFIG_RETRY_MAX_MS);
    }

    /** The numeric settings (throws a SettingsError while one is invalid). */
    get cfg() {
      return (this.#cfg ??= settingsOf(this.env));
    }

    get line() {
      return (this.#line ??= new LineApi({
        channelAccessToken: this.env.LINE_CHANNEL_ACCESS_TOKEN,
        baseURL: this.env.LINE_API_URL,
        maxAttempts: this.cfg.LINE_MAX_ATTEMPTS,
        baseDelayMs: this.cfg.LINE_RETRY_BASE_MS,
        timeoutMs: this.cfg.LINE_TIMEOUT_MS,
        beforeRequest: (what) => this.#spend(`LINE ${what}`),
      }));
    }

    /** Count one outgoing request, or throw BudgetSpent (the request is not to be made). */
    #spend(what) {
      const max = this.cfg.MAX_SUBREQUESTS;
      if (this.#subrequests >= max) throw new BudgetSpent(what, max);
      this.#subrequests++;
    }

    get sync() {
      return (this.#sync ??= new SyncClient({
        endpoint: `${trimSlash(this.env.BACKEND_URL)}/decisions`,
        store: new DurableObjectStore(this.storage),
        // Counted; past MAX_SUBREQUESTS not sent: a network error to the client, which keeps
        // the batch and retries it after its backoff. (It sends with redirect: "manual".)
        fetch: (url, init) => {
          this.#spend("POST /decisions");
          return fetch(url, init);
        },
        headers: this.env.BACKEND_TOKEN ? { authorization: `Bearer ${this.env.BACKEND_TOKEN}` } : {},
        source: { runtime: "workerd", app: "line-webhook" },
        baseDelayMs: this.cfg.SYNC_BASE_DELAY_MS,
        maxDelayMs: this.cfg.SYNC_MAX_DELAY_MS,
        // One attempt per pass: a down backend must not hold up the next event's reply; the
        // alarm comes back for what is left (the client keeps each decision's backoff).
        maxFlushMs: this.cfg.SYNC_MAX_FLUSH_MS,
        timeoutMs: this.cfg.SYNC_TIMEOUT_MS,
        // The backend is this deployment's own: a 401/403 (BACKEND_TOKEN being rotated, an auth
        // proxy misconfigured) or a 404 (a wrong BACKEND_URL path) is fixed by a deploy, and
        // dead letters would wait for an operator (the admin route): retried with backoff,
        // like a 5xx.
        retryStatuses: BACKEND_RETRY_STATUSES,
        onError: (e) => e.outcome === "dead"
          ? console.error(`sync: ${e.message} (user ${this.#userId ?? "unknown"}, decisions ${e.decisionIds.join(", ")}; requeue: POST /admin/users/{userId}/dead-letters/requeue)`)
          : console.warn(`sync: ${e.message}`),
      }));
    }

    /**
     * RPC from the fetch handler: store new events (de-duplicated on webhookEventId) and start
     * processing them; resolves as soon as they are durable.
     */
    async accept(events) {
      this.#newRequest();
      this.#inFlight++;
      try {
        return await this.#accept(events);
      } finally {
        this.#inFlight--;
      }
    }

    /** RPC from the admin route: this user's dead letters (at most 100, oldest first), without
     * the decisions' messages. */
    async deadLetters() {
      this.#newRequest();
      const letters = await this.#serially(() => this.sync.deadLetters({ limit: 100 }));
      return letters.map(({ decision, ...letter }) => ({ ...letter, userId: decision.userId, now: decision.now }));
    }

    /** RPC from the admin route: this user's dead letters back into the outbox (at most what
     * one call may move; `pending`: call again), sent by a pass at once. */
    async requeueDeadLetters() {
      this.#newRequest();
      const result = await this.#serially(() => this.sync.requeueDeadLetters());
      if (result.requeued > 0) {
        console.warn(`sync: ${result.requeued} dead letter(s) requeued by the admin route`);
        this.#kick().catch((e) => console.error(`user object: ${e?.stack ?? e}`));
      }
      return result;
    }

    // A new incoming request (accept() or alarm()). The count starts again only when nothing is
    // in flight. Otherwise an older request may still be charged for what comes next — an
    // alarm() whose pass runs, once the newer request has completed — and it has spent requests
    // already: the count goes on (under-use, never over-use; see SYNC_FLUSH_REQUESTS). With
    // nothing in flight every older handler has returned (alarm() awaits its pass) and no pass
    // of theirs is left, and workerd completes a superseded request once its handler has
    // returned (drain() leaves waiting for background work to the newest): none is charged again.
    #newRequest() {
      if (this.#inFlight === 0) this.#subrequests = 0;
    }

    async #accept(events) {
      // No interleaving between the reads and writes below: a Durable Object's input gate holds
      // other calls while a storage operation is pending, and only storage is awaited here.
      const now = Date.now();
      let seq = (await this.storage.get("seq")) ?? 0;
      let fresh = 0;
      try {
        for (const event of events) {
          const id = eventId(event);
          if ((await this.storage.get(SEEN + id)) !== undefined) {
            console.log(`event ${id}: already received${event.deliveryContext?.isRedelivery ? " (redelivery)" : ""}, skipped`);
            continue;
          }
          seq++;
          // One atomic write: the event is in the inbox exactly when its id is marked seen.
          await this.storage.put({ [SEEN + id]: now, [INBOX + String(seq).padStart(12, "0")]: { id, event, receivedAt: now }, seq });
          fresh++;
        }
      } finally {
        // Also when a write failed part-way (the webhook gets a 500): the events stored before
        // it are processed, not left until the user's next webhook.
        if (fresh > 0) {
          // Safety net: if this object dies mid-way, the alarm picks the inbox up again. (The
          // fetch handler refuses webhooks while a setting is invalid; a fallback all the same.)
          await this.#alarmAt(now + (settingsOf.safe(this.env)?.INBOX_RETRY_MS ?? SETTINGS_RETRY_MS));
          this.#kick().catch((e) => console.error(`user object: ${e?.stack ?? e}`));
        }
      }
      return { accepted: fresh, duplicates: events.length - fresh };
    }

    // A failing pass fails the alarm, so the runtime retries it (with backoff): the alarm may
    // be the only thing that brings this object back.
    async alarm() {
      this.#newRequest(); // a new allowance, unless a pass is in flight (see #newRequest)
      try {
        await this.#kick();
      } catch (e) {
        console.error(`user object (alarm; the runtime retries it): ${e?.stack ?? e}`);
        throw e;
      }
    }

    // All work goes through one chain: one user's events never run concurrently. Returns this
    // pass (it rejects if the pass fails; the chain goes on regardless).
    #kick() {
      return this.#serially(() => this.#work());
    }

    // `fn` after what the chain holds, before what comes next (the sync client's store is not
    // for two callers at once).
    #serially(fn) {
      this.#inFlight++;
      const run = this.#chain.then(fn).finally(() => { this.#inFlight--; });
      this.#chain = run.catch(() => {});
      return run;
    }

    async #work() {
      try {
        this.cfg;
      } catch (e) {
        // Nothing runs with a setting that is not a number; the events stay in the inbox.
        console.error(`user object: ${e.message}; nothing processed, will look again in ${SETTINGS_RETRY_MS / 1000} s (fix the setting)`);
        await this.storage.setAlarm(Date.now() + SETTINGS_RETRY_MS);
        return;
      }
      let retryInboxAt; // set when an event failed and waits for a retry
      // The backend failure that just gave an event up in this pass (the user not loaded, no
      // copy): the user's next events already past their own horizon are given up with it,
      // without loading the user again.
      let backendGaveUp;
      let capped = false; // stopped for the invocation's outgoing requests: goes on at once, in a new one
      for await (const [key, record] of this.#inbox()) {
        if (backendGaveUp && !record.decision && Date.now() - (record.receivedAt ?? Infinity) >= this.cfg.BACKEND_WAIT_MS) {
          const { error, id } = backendGaveUp;
          console.error(`event ${record.id}: ${error.message}: gave up after waiting ${duration(Date.now() - record.receivedAt)} for the backend ` +
            `(BACKEND_WAIT_MS ${duration(this.cfg.BACKEND_WAIT_MS)}, ${record.backendTries ?? 0} tries; not loaded again after event ${id}); ` +
            "not decided: no menu change, nothing sent or synced");
          await this.storage.delete(key);
          continue;
        }
        backendGaveUp = undefined;
        // Not before its retry time, whatever woke this pass: a webhook per message would
        // otherwise re-run a failing event at once and spend its attempts in seconds. An event
        // waiting for a deploy is tried once by a new instance (the deploy may be the fix).
        if (record.retryAt > Date.now() && !(record.waitsForDeploy && record.failedAt < this.#startedAt)) {
          retryInboxAt = record.retryAt;
          break; // keep the user's order: later events wait for this one
        }
        // Started only if what the invocation has left covers the most this event can make
        // (every LINE call retried to the end) and the flush after it. The first event of an
        // invocation always fits (settingsOf); the rest go on in a new invocation, at once.
        const need = eventWorstCase(record, this.cfg.LINE_MAX_ATTEMPTS);
        if (this.#subrequests + need + SYNC_FLUSH_REQUESTS > this.cfg.MAX_SUBREQUESTS) {
          console.log(`user object: ${this.#subrequests} of MAX_SUBREQUESTS ${this.cfg.MAX_SUBREQUESTS} requests made in this invocation; ` +
            `event ${record.id} may make ${need} and the sync ${SYNC_FLUSH_REQUESTS}: it goes on in a new invocation`);
          capped = true;
          break;
        }
        try {
          await this.#process(key, record);
          await this.storage.delete(key);
        } catch (e) {
          if (e instanceof BudgetSpent) {
            // A request refused before it was made (eventWorstCase fell short: should not
            // happen): not the event's fault and nothing sent for it. Kept with its progress,
            // no attempt spent; it goes on in a new invocation.
            console.warn(`event ${record.id}: ${e.message}; goes on in a new invocation`);
            await this.storage.put(key, record);
            capped = true;
            break;
          }
          const now = Date.now();
          record.failedAt = now;
          if (e instanceof DeployError) {
            // Nothing can be done until a fixed deploy: keep the event (it is not its fault)
            // and look again, less and less often. Logged once per pass: the pass stops here.
            record.configAttempts = (record.configAttempts ?? 0) + 1;
            const wait = this.#keptBackoff(record.configAttempts);
            console.error(`event ${record.id}: ${e.outcome}: ${e.message}; kept, will retry in ${Math.round(wait / 1000)} s (${e.fix})`);
            record.retryAt = now + wait;
            record.waitsForDeploy = true;
            await this.storage.put(key, record);
            retryInboxAt = record.retryAt;
            break;
          }
          record.waitsForDeploy = false;
          if (e instanceof UserNotLoaded && e.waits) {
            // The user could not be loaded and there is no copy: kept and retried less and less
            // often (as for a deploy, up to 10 minutes apart) until BACKEND_WAIT_MS has passed
            // since the event was received (also the time it spent behind the user's earlier
            // events: a horizon per event, not per wait, so events queued behind a waiting one
            // do not each wait BACKEND_WAIT_MS more); MAX_EVENT_ATTEMPTS is not spent. The last
            // try falls on the horizon; only a failure there gives the event up. Later events
            // of this user wait behind it (the pass stops here).
            record.receivedAt ??= now; // records have it since the first version; never wait forever
            record.backendTries = (record.backendTries ?? 0) + 1;
            const waited = now - record.receivedAt;
            const horizon = this.cfg.BACKEND_WAIT_MS;
            if (waited < horizon) {
              const backoff = this.#keptBackoff(record.backendTries);
              const wait = Math.min(backoff, horizon - waited);
              console.warn(`event ${record.id}: ${e.message}: the event waits for the backend (try ${record.backendTries}, ` +
                `received ${duration(waited)} ago, BACKEND_WAIT_MS ${duration(horizon)}), will retry in ${duration(wait)}`);
              record.retryAt = now + wait;
              await this.storage.put(key, record);
              retryInboxAt = record.retryAt;
              break;
            }
            console.error(`event ${record.id}: ${e.message}: gave up after waiting ${duration(waited)} for the backend ` +
              `(BACKEND_WAIT_MS ${duration(horizon)}, ${record.backendTries} tries); not decided: no menu change, nothing sent or synced`);
            await this.storage.delete(key);
            backendGaveUp = { error: e, id: record.id };
            continue;
          }
          const age = now - record.event.timestamp;
          const horizon = this.cfg.MAX_PUSH_DELAY_MS;
          if (e?.lineUnavailable && age < horizon) {
            // LINE unavailable (5xx, 429, timeouts, network) after LineApi's own retries: an
            // outage, not the event's fault. Until MAX_PUSH_DELAY_MS after the event (past it,
            // its answer would not be pushed anyway) it is kept and retried less and less often,
            // MAX_EVENT_ATTEMPTS not spent: a push's retry key makes a retry safe for 23 h, a
            // menu link is idempotent. Later events of this user wait behind it.
            record.lineTries = (record.lineTries ?? 0) + 1;
            const wait = Math.max(Math.min(this.#keptBackoff(record.lineTries), horizon - age), e.retryAfterMs ?? 0);
            console.error(`event ${record.id}: ${describe(e)}: LINE unavailable, the event is kept (try ${record.lineTries}, ` +
              `${duration(age)} after the event, MAX_PUSH_DELAY_MS ${duration(horizon)}), will retry in ${duration(wait)}`);
            record.retryAt = now + wait;
            await this.storage.put(key, record);
            retryInboxAt = record.retryAt;
            break;
          }
          record.attempts = (record.attempts ?? 0) + 1;
          const max = this.cfg.MAX_EVENT_ATTEMPTS;
          if (record.attempts < max) {
            // Not sooner than a Retry-After LINE asked for that was too long to wait for in the call.
            const wait = Math.max(this.cfg.INBOX_RETRY_MS, e?.retryAfterMs ?? 0);
            console.error(`event ${record.id}: ${describe(e)}; attempt ${record.attempts} of ${max}, will retry in ${Math.round(wait / 1000)} s`);
            record.retryAt = now + wait;
            await this.storage.put(key, record);
            retryInboxAt = record.retryAt;
            break; // keep the user's order: later events wait for this one
          }
          // Give up on what is left of this event's LINE calls, keep its decision (saying
          // which menu change was not made). Not decided (e.g. an engine failure before the
          // decision): nothing is done nor synced — no menu change, no message.
          console.error(`event ${record.id}: ${describe(e)}; gave up after ${record.attempts} attempts` +
            `${record.decision ? "" : " (not decided: no menu change, nothing sent or synced)"}`);
          if (record.decision) await this.sync.enqueue(syncedDecision(record.decision, record.done, { gaveUp: true }));
          await this.storage.delete(key);
        }
      }
      if (!this.#redriven) {
        // Dead letters that older versions made of these answers: back to the outbox, once per
        // instance (one list; none are made any more).
        this.#redriven = true;
        const ids = (await this.sync.deadLetters()).filter((d) => BACKEND_RETRY_STATUSES.includes(d.status)).map((d) => d.decisionId);
        if (ids.length > 0) console.warn(`sync: ${(await this.sync.requeueDeadLetters(ids)).requeued} dead letter(s) of a backend ${BACKEND_RETRY_STATUSES.join("/")} requeued`);
      }
      // Not without the requests kept for a flush (a pass that began with the invocation's
      // allowance mostly spent by the pass before it): then it goes on at once, in a new one.
      const flushable = this.cfg.MAX_SUBREQUESTS - this.#subrequests >= SYNC_FLUSH_REQUESTS;
      const flushed = flushable ? await this.sync.flush() : { pending: undefined };
      if (!flushable) capped = true;
      const now = Date.now();
      // When to come back: the earliest of what is left. Checked after the flush, with no
      // await but storage in between (the input gate holds accept() off meanwhile): an event
      // accepted during this pass keeps a safety net even though a queued pass will take it.
      const at = [];
      if (capped) at.push(now); // a new invocation, with a new allowance
      if (retryInboxAt !== undefined) at.push(retryInboxAt);
      else if (!capped && (await this.storage.list({ prefix: INBOX, limit: 1 })).size > 0) at.push(now + this.cfg.INBOX_RETRY_MS);
      // `pending` is undefined when the store failed before the outbox could be counted:
      // something may be left, so come back then too.
      if (flushed.pending !== 0) {
        // The backend is down: come back when the sync client will send again (its backoff,
        // or the backend's Retry-After), not sooner than SYNC_ALARM_MS.
        at.push(Math.max(now + this.cfg.SYNC_ALARM_MS, flushed.nextAttemptAt ?? 0));
      }
      if (at.length > 0) {
        await this.storage.setAlarm(Math.min(...at));
      } else {
        await this.storage.deleteAlarm();
        // Forget old webhookEventIds now and then (a list of up to 1,000 keys).
        if (++this.#sincePrune >= 64) {
          this.#sincePrune = 0;
          await this.#pruneSeen(now);
        }
      }
    }

    // The inbox in order, as it was when the pass started (events accepted meanwhile are left to
    // the pass accept() queues), read INBOX_BATCH records at a time: a pass stops at the first
    // event that must wait, so a long inbox (a user's events behind a waiting one) is not read
    // whole on every pass.
    async *#inbox() {
      const last = INBOX + String((await this.storage.get("seq")) ?? 0).padStart(12, "0");
      let startAfter;
      for (;;) {
        const batch = await this.storage.list({ prefix: INBOX, limit: INBOX_BATCH, ...(startAfter === undefined ? {} : { startAfter }) });
        for (const [key, record] of batch) {
          if (key > last) return;
          startAfter = key;
          yield [key, record];
        }
        if (batch.size < INBOX_BATCH) return;
      }
    }

    async #alarmAt(at) {
      const current = await this.storage.getAlarm();
      if (current == null || current > at) await this.storage.setAlarm(at);
    }

    async #pruneSeen(now) {
      const seen = await this.storage.list({ prefix: SEEN, limit: 1000 });
      const old = [...seen].filter(([, t]) => now - t > SEEN_TTL_MS).map(([k]) => k);
      if (old.length > 0) await this.storage.delete(old);
    }

    // One event. Progress is stored in the inbox record, so a retry after a crash neither
    // decides again (state may have changed) nor repeats a LINE call that succeeded.
    async #process(key, record) {
      const { event } = record;
      const userId = event.source.userId;
      this.#userId = userId;
      if (!record.decision) {
        const decide = decider(this.env); // ConfigError: the event is kept for a later deploy
        const user = await this.#loadUser(userId, event);
        let text;
        try {
          text = decide(JSON.stringify(contextFor(user, event)));
        } catch (e) {
          if (e?.name === "KizunaError") {
            // A problem of this context (e.g. a malformed user from the backend; code + JSON
            // pointer, no user data): deciding again will not help. The event is dropped, loudly.
            console.error(`event ${record.id}: no decision, event dropped: ${problem(e)}`);
            return;
          }
          // Anything else (a Wasm trap, an engine bug) is not this event's fault: a fresh
          // engine next time, and the event is retried like any failure.
          decideFn = undefined;
          throw e;
        }
        record.decision = JSON.parse(text);
        record.done = {};
        await this.storage.put(key, record);
      }
      const decision = record.decision;
      const rm = decision.richMenu;
      // unfollow: the user blocked the account, LINE refuses calls; standby: another channel
      // (module) is active and answers. Both are decided and synced only.
      const act = event.type !== "unfollow" && event.mode !== "standby";

      // The answer first, while its reply token is fresh (LINE: use it within a minute): a
      // menu link that is slow (timeouts and retries) would otherwise spend it, and the
      // answer would be pushed, against the monthly quota, or dropped as late.
      const newest = await this.storage.get("newestEventAt");
      const messages = decision.messages ?? [];
      if (act && messages.length > 0 && !record.done.message) {
        const ttl = this.cfg.REPLY_TOKEN_TTL_MS;
        const fresh = event.replyToken && Date.now() - event.timestamp < ttl;
        // A token tried before is tried again even if stale: a push could send the message twice.
        // One LINE refused for sure is not: the message is pushed (again, same retry key).
        const attempted = record.done.replyAttempted === true;
        const refused = record.done.replyRefused === true;
        // An answer pushed long after the event (one held while the backend was down) would
        // come out of the blue, and every push counts against the monthly message quota:
        // past MAX_PUSH_DELAY_MS only a follow's welcome still goes out.
        const age = Date.now() - event.timestamp;
        // A push tried before whose outcome is unknown goes on (same retry key): it may have
        // gone out already, and "late" would say it did not.
        const pushTried = record.done.pushUncertainAt !== undefined;
        if (!fresh && !attempted && !pushTried && event.type !== "follow" && age > this.cfg.MAX_PUSH_DELAY_MS) {
          record.done.message = "late";
          console.warn(`event ${record.id}: ${event.type} decided ${duration(age)} after it happened ` +
            `(MAX_PUSH_DELAY_MS ${duration(this.cfg.MAX_PUSH_DELAY_MS)}): its messages are not pushed`);
        } else record.done.message = await this.#step(record.id, "message", async () => {
          try {
            return await this.line.send(userId, messages, {
              replyToken: !refused && (fresh || attempted) ? event.replyToken : undefined,
              retryKey: retryKeyFor(decision.decisionId),
              aggregationUnit: decision.content?.aggregationUnit,
              replyAttempted: attempted,
              beforeReply: async () => {
                record.done.replyAttempted = true;
                await this.storage.put(key, record);
              },
              // Stored before the push: if the push fails, the next pass pushes, it does not
              // retry the refused token (whose refusal would then count as "delivered").
              onReplyRefused: async () => {
                record.done.replyRefused = true;
                record.done.replyAttempted = false;
                await this.storage.put(key, record);
              },
              // Kept with the record (stored when the pass fails or ends): a later pass must
              // know how old the retry key is.
              pushUncertainAt: record.done.pushUncertainAt,
              onPushUncertain: (at) => {
                record.done.pushUncertainAt = at;
              },
            });
          } catch (e) {
            if (e.replyUncertain === false && record.done.replyAttempted) {
              // Every attempt was refused before LINE did anything: not an unknown outcome.
              record.done.replyAttempted = false;
              await this.storage.put(key, record);
            }
            throw e;
          }
        });
        await this.storage.put(key, record);
      }

      // Events reach the object in arrival order: a webhook LINE redelivers comes after newer
      // events. The menu change of an event older than one already decided is out of date
      // (the newer one's stands); it is synced as not applied.
      if (act && rm && !record.done.menu && (rm.action === "link" || rm.action === "unlink") && newest > event.timestamp) {
        record.done.menu = "superseded";
        console.warn(`event ${record.id}: ${event.type} from ${duration(newest - event.timestamp)} before an event already decided: its menu ${rm.action} is not made`);
      }
      if (act && rm && !record.done.menu && (rm.action === "link" || rm.action === "unlink")) {
        // The refusal log names the menu: the operator's next look is the LINE console.
        const which = rm.action === "link" ? `link of menu "${rm.menu}" (${rm.richMenuId})` : "unlink";
        record.done.menu = await this.#step(record.id, "rich menu", () =>
          rm.action === "link" ? this.line.linkRichMenu(userId, rm.richMenuId) : this.line.unlinkRichMenu(userId), which);
        await this.storage.put(key, record);
      }
      if (record.done.menu === "done") {
        // What LINE shows this user now; used while the backend has not received the
        // decision yet (outbox not empty). Only a change LINE carried out is recorded. The
        // last known copy of the user follows it: a later event decided from the copy (the
        // backend unreachable, this decision long synced) must not compare against the menu
        // the user had before.
        const richMenuId = rm.action === "link" ? rm.richMenuId : null;
        const copy = await this.storage.get("user");
        await this.storage.put(copy ? { menu: { richMenuId }, user: onMenu(copy, richMenuId) } : { menu: { richMenuId } });
      }

      if (!(newest >= event.timestamp)) await this.storage.put("newestEventAt", event.timestamp);
      if (event.type === "unfollow") await this.storage.delete("user"); // no copy of a user who left
      await this.sync.enqueue(syncedDecision(decision, record.done));
      const menuNote = !rm || rm.action === "none" || record.done.menu === "done" ? ""
        : record.done.menu === "failed" ? " (failed, synced as none)"
        : record.done.menu === "superseded" ? " (superseded by a newer event, synced as none)" : " (not applied, synced as none)";
      console.log(`event ${record.id}: ${event.type} → decision ${decision.decisionId}` +
        `${rm ? `, menu ${rm.action}${menuNote}` : ""}${record.done.message ? `, ${record.done.message}` : ""}`);
    }

    // One Messaging API step. LINE's refusals (4xx other than 429: a deleted rich menu, an
    // invalid message; and the 429 of an exhausted monthly quota) will not change on retry:
    // logged and marked "failed". Anything else (429/5xx/network/timeout after LineApi's own
    // retries) is thrown, so the event is retried later.
    async #step(id, what, call, which = "") {
      try {
        const result = await call();
        return typeof result === "string" ? result : "done";
      } catch (e) {
        if (e instanceof HTTPFetchError && (e.status === 401 || e.status === 403)) throw new LineAuthError(what, e);
        if (e instanceof HTTPFetchError && ((e.status >= 400 && e.status < 500 && e.status !== 429) || isMonthlyLimit(e))) {
          console.error(`event ${id}: LINE refused the ${what} call${which ? ` (${which})` : ""}: ${e.status} ${lineMessage(e.body)}`);
          return "failed";
        }
        throw e;
      }
    }

    // The user as the backend knows it; when it is not loaded, the last copy this object saw
    // (else UserNotLoaded: the event waits, or fails); a user the
    // backend does not know yet starts from the LINE profile.
    async #loadUser(userId, event) {
      let user;
      let fromBackend = false;
      this.#spend("GET /users"); // outside the try: a request not made is no backend failure
      try {
        // A plain fetch: the backend is the business's own API, not LINE's. The timeout
        // covers the body too: a hung backend must not hold up the user's events.
        const res = await fetch(`${trimSlash(this.env.BACKEND_URL)}/users/${encodeURIComponent(userId)}`, {
          headers: this.env.BACKEND_TOKEN ? { authorization: `Bearer ${this.env.BACKEND_TOKEN}` } : {},
          signal: AbortSignal.timeout(this.cfg.BACKEND_TIMEOUT_MS),
          // As the sync client: a redirect would carry the token elsewhere, and each hop is a
          // subrequest the event's budget (MAX_SUBREQUESTS) did not count.
          redirect: "manual",
        });
        if (res.status >= 300 && res.status < 400) {
          throw loadFailure(`backend answered ${res.status}, a redirect: set BACKEND_URL to the final URL (redirects are not followed)`, true);
        }
        if (res.ok || res.status === 404) {
          // The body decides, not the Content-Type: JSON is often sent under another (a
          // Cloudflare Worker's new Response(JSON.stringify(x)) is text/plain, Express's
          // res.send(string) text/html, some send none).
          const body = parseJson(await res.text());
          // Not the parser's message: it quotes the body, which is profile data. The type is a
          // hint: a web page's is not JSON.
          const unparsed = `backend answered ${res.status} with ${contentTypeOf(res)} and a body that is not JSON${isJson(res) ? "" : " (is BACKEND_URL right?)"}`;
          if (res.status === 404) {
            // A 404 that is not the backend's JSON (a wrong BACKEND_URL path, a proxy's page):
            // taken as "no such user" it would make every customer a new friend (welcome menu
            // and message for all). It fails like a backend that is down.
            if (body === undefined && !isJson(res)) throw loadFailure(unparsed, true);
            // else a user the backend does not know: kept as such (an empty copy)
          } else {
            // A 2xx whose body does not parse is not an answer about this user: a BACKEND_URL
            // pointing at a web page or a proxy answers 200 with HTML for every path; under a
            // JSON type it is a backend fault (or a body cut short). A fix (or the next try)
            // cures either: it fails like a backend that is down — the event waits, it is not
            // given up after MAX_EVENT_ATTEMPTS, which would lose the events of every user it
            // hits until the fix.
            if (body === undefined) throw loadFailure(unparsed, true);
            if (!body || typeof body !== "object" || Array.isArray(body)) throw loadFailure(`backend answered ${res.status} with JSON that is not a user object`, false);
            user = body;
          }
          fromBackend = true;
        } else {
          await res.body?.cancel();
          throw loadFailure(`backend answered ${res.status}`, backendWaitsFor(res.status));
        }
      } catch (e) {
        const why = e?.name === "TimeoutError" ? `no answer within ${this.cfg.BACKEND_TIMEOUT_MS} ms` : e?.message;
        user = await this.storage.get("user");
        if (user === undefined) {
          // No copy (the first event since the deploy, or since an unfollow): the LINE profile
          // alone would make a known customer look like a new friend (welcome menu, new-friend
          // content, and that synced back). The event waits for the backend (BACKEND_WAIT_MS)
          // if that may help: a network error or timeout (no `waits`), or an answer that
          // passes; an answer about this user that will not change is an ordinary failure.
          throw new UserNotLoaded(why, e?.waits !== false);
        }
        console.warn(`backend: user not loaded (${why}); using the last known copy`);
      }
      user = { ...(user ?? {}), userId };
      // Decisions not yet at the backend may have changed the menu: trust this object then,
      // in the copy kept too (a later event may be decided from it once they are synced).
      // (Whether any waits: a list of one key, not the whole outbox a long outage leaves.)
      if ((await this.sync.pending({ limit: 1 })) > 0) {
        const menu = await this.storage.get("menu");
        if (menu) onMenu(user, menu.richMenuId);
      }
      if (fromBackend) await this.storage.put("user", user);

      if (user.displayName === undefined && event.type !== "unfollow") {
        const profile = await this.#profile(userId);
        if (profile) {
          user.displayName = profile.displayName;
          if (profile.language && user.language === undefined) user.language = profile.language;
        }
      }
      if (event.type === "follow" && user.followedAt === undefined && Number.isFinite(event.timestamp)) {
        user.followedAt = new Date(event.timestamp).toISOString();
      }
      return user;
    }

    // Profiles are cached in KV for a day when a PROFILES namespace is bound (getProfile is
    // rate limited); never logged.
    async #profile(userId) {
      const kv = this.env.PROFILES;
      if (kv) {
        const cached = await kv.get(userId, { type: "json" }).catch(() => null);
        if (cached) return cached;
      }
      let profile;
      try {
        profile = await this.line.profile(userId);
      } catch (e) {
        if (e instanceof BudgetSpent) throw e; // not made: the event must not be decided without it
        // An expired or reissued token: the event is kept, as for every other call (decided
        // now, it would be stored and later sent without the user's name).
        if (e instanceof HTTPFetchError && (e.status === 401 || e.status === 403)) throw new LineAuthError("get profile", e);
        console.warn(`LINE profile not loaded: ${e.status ?? e.message}`);
        return undefined;
      }
      if (profile && kv) {
        const slim = { displayName: profile.displayName, language: profile.language };
        await kv.put(userId, JSON.stringify(slim), { expirationTtl: 86_400 }).catch(() => {});
        return slim;
      }
      return profile;
    }
  }

  return { handler, KizunaUser };
}

/**
 * The kizuna Context for one event: `now` is the event's time (so a retry decides the same and
 * gets the same decisionId), `event` is LINE's webhook event object as received.
 */
export function contextFor(user, event) {
  return {
    version: 1,
    now: new Date(Number.isFinite(event.timestamp) ? event.timestamp : Date.now()).toISOString(),
    user,
    event,
  };
}

/**
 * The decision as synced to the backend: its `richMenu` says what was applied. A link or
 * unlink LINE did not carry out — refused ("failed"), given up, or not attempted (unfollow,
 * standby) — is sent as `action: "none"` (the rest unchanged, `current` the menu the user
 * still has), so the backend does not record a menu the user never got and the next decision
 * links it again. `delivery` says what became of its messages, so a backend counting
 * exposures or coupons sent counts only what the user got: "reply" (incl. a reply whose
 * token was then found used: counted as delivered), "push" (incl. one whose outcome stayed
 * unknown until its retry key expired: counted as delivered), "failed" (LINE refused it, or the
 * event gave up with nothing sent), "unknown" (the event gave up after a reply or push attempt
 * whose outcome is unknown: a 5xx, a timeout, a dropped connection), "late" (decided more than MAX_PUSH_DELAY_MS after the event, not a follow: not
 * pushed), "not_sent" (no messages, or not to be answered: unfollow, standby). The inbox
 * record keeps the original for the logs.
 */
export function syncedDecision(decision, done = {}, { gaveUp = false } = {}) {
  const rm = decision.richMenu;
  const applied = !rm || (rm.action !== "link" && rm.action !== "unlink") || done.menu === "done";
  const sent = done.message?.startsWith("push") ? "push" : done.message?.startsWith("reply") ? "reply" : done.message === "late" ? "late" : undefined;
  const maybeSent = gaveUp && (done.replyAttempted === true || done.pushUncertainAt !== undefined);
  const delivery = sent ?? (maybeSent ? "unknown"
    : done.message === "failed" || (gaveUp && decision.messages?.length > 0) ? "failed" : "not_sent");
  return { ...decision, ...(applied ? {} : { richMenu: { ...rm, action: "none" } }), delivery };
}

// Read a request body, at most `max` bytes (whatever content-length says, chunked or not);
// undefined when it is longer.
async function readCapped(request, max) {
  if (!request.body) return new ArrayBuffer(0);
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out.buffer;
}

// A KizunaError's code, pointer and message (about the config or the context's shape, never
// user data); anything else by name and message.
function problem(e) {
  return `${e?.code ?? e?.name ?? "error"} at ${e?.path ?? "?"}: ${e?.message ?? e}`;
}

// The value of a JSON text, or undefined when it does not parse.
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// LINE's error text ({"message": …}); details are left out, they can quote message content.
function lineMessage(body) {
  return String(parseJson(body)?.message ?? "").slice(0, 200);
}

// A wait for the logs: "350 ms", "40 s", "10 min", "24 h".
function duration(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120e3) return `${Math.round(ms / 1000)} s`;
  if (ms < 2 * 3600e3) return `${Math.round(ms / 60e3)} min`;
  return `${Math.round(ms / 3600e3)} h`;
}

function describe(e) {
  return e instanceof HTTPFetchError ? `LINE API ${e.status}` : (e?.message ?? String(e));
}

// Equal strings, in a time that does not depend on where they differ (the admin token).
function sameText(a, b) {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < y.length; i++) diff |= (x[i] ?? 0) ^ y[i];
  return diff === 0;
}

function trimSlash(url) {
  return String(url ?? "").replace(/\/+$/, "");
}

// LINE's webhookEventId; older payloads without one fall back to a stable key of the event.
function eventId(event) {
  if (typeof event.webhookEventId === "string" && event.webhookEventId !== "") return event.webhookEventId;
  return `${event.type}:${event.timestamp}:${event.replyToken ?? event.message?.id ?? ""}`;
}
