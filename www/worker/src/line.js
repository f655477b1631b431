// The Messaging API calls the worker makes, through @line/bot-sdk's MessagingApiClient (v9+
// uses the global fetch, so it runs in workerd; it imports node:buffer/node:stream, hence the
// nodejs_compat flag). What the SDK does not do is added here: a timeout per call, retries of
// 429/5xx/network errors/timeouts with backoff that honours Retry-After, a deterministic
// X-Line-Retry-Key per decision, reply → push fallback when a reply token is not valid — without
// sending a message twice when a reply's outcome is unknown.
import { messagingApi, HTTPFetchError } from "@line/bot-sdk";

/** @typedef {import("@line/bot-sdk").messagingApi.Message} Message */

/** A Messaging API call that got no answer within the timeout (LINE may have carried it out). */
export class LineTimeoutError extends Error {
  constructor(what, ms) {
    super(`LINE ${what}: no answer within ${ms} ms`);
    this.name = "LineTimeoutError";
  }
}

/**
 * Whether `e` is the request failing on the way: our timeout, workerd's fetch ("Network
 * connection lost.", marked `retryable`) or Node's (undici's `TypeError: fetch failed` with the
 * socket error as its cause).
 */
function isTransportError(e) {
  return e instanceof LineTimeoutError || e?.retryable === true || (e?.name === "TypeError" && e.message === "fetch failed" && e.cause !== undefined);
}

export class LineApi {
  /**
   * @param {{ channelAccessToken: string, baseURL?: string, maxAttempts?: number, baseDelayMs?: number,
   *           maxDelayMs?: number, timeoutMs?: number, sleep?: (ms: number) => Promise<void>,
   *           beforeRequest?: (what: string) => void }} options
   *   `beforeRequest` runs before every request (each attempt is one request); if it throws,
   *   the request is not made and the error is thrown out of the call as it is (not retried,
   *   not seen by `onAttemptFailed`): the worker counts its outgoing requests with it.
   */
  constructor({ channelAccessToken, baseURL, maxAttempts = 5, baseDelayMs = 200, maxDelayMs = 10_000, timeoutMs = 10_000, sleep, beforeRequest }) {
    this.client = new messagingApi.MessagingApiClient({ channelAccessToken, baseURL: baseURL || undefined });
    this.maxAttempts = maxAttempts;
    this.baseDelayMs = baseDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.timeoutMs = timeoutMs;
    this.sleep = sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.beforeRequest = beforeRequest;
  }

  /**
   * Runs `call` with a timeout, retrying 429, 5xx, network errors and timeouts; other errors
   * (and LINE's monthly message limit) are thrown at once. `onAttemptFailed(e)` sees every
   * failed attempt. At most `maxAttempts` requests (`call` makes one request per attempt). A
   * 429, 5xx, network error or timeout thrown after retries (or with a Retry-After too long to
   * wait for) has `lineUnavailable: true`; another exception without a status is retried too
   * (it may be a network error of a kind not recognised) but not marked.
   */
  async retrying(what, call, onAttemptFailed) {
    for (let attempt = 1; ; attempt++) {
      this.beforeRequest?.(what); // may throw: no request, no retry
      try {
        return await this.#timed(what, call);
      } catch (e) {
        onAttemptFailed?.(e);
        const status = e instanceof HTTPFetchError ? e.status : undefined;
        // No HTTP status: the request failed on the way (network, a dropped connection, the
        // timeout), or the call threw before it — retried, as a 5xx is.
        const retryable = status === undefined || (status === 429 && !isMonthlyLimit(e)) || status >= 500;
        // `lineUnavailable`: LINE could not take the call now (the caller may wait and try again).
        // Not for an exception that is neither an answer nor a failed connection (a bug, a body
        // that cannot be serialized): holding the user's events for an outage would not help it.
        if (retryable && (status !== undefined || isTransportError(e))) e.lineUnavailable = true;
        if (!retryable || attempt >= this.maxAttempts) throw e;
        const retryAfter = status === undefined ? undefined : parseRetryAfter(e.headers?.get?.("retry-after"));
        if (retryAfter > this.maxDelayMs) {
          // Longer than a call should hold the user's events up: given back to the caller,
          // which retries later (`retryAfterMs`: not sooner than LINE asked).
          console.warn(`LINE ${what}: ${status}, Retry-After ${Math.round(retryAfter)} ms is longer than ${this.maxDelayMs} ms: left to a later pass`);
          e.retryAfterMs = retryAfter;
          throw e;
        }
        const delay = retryAfter ?? Math.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
        console.warn(`LINE ${what}: ${status ?? (e instanceof LineTimeoutError ? "timeout" : `network error (${e?.message ?? e})`)}, retry ${attempt + 1}/${this.maxAttempts} in ${Math.round(delay)} ms`);
        await this.sleep(delay);
      }
    }
  }

  // The SDK's fetch takes no signal: the call is raced against a timer. A request still open
  // when the timer fires is abandoned (its late answer ignored) and counts as an unknown outcome.
  #timed(what, call) {
    let timer;
    const expired = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new LineTimeoutError(what, this.timeoutMs)), this.timeoutMs);
    });
    const running = call();
    running.catch(() => {}); // its late failure, once abandoned, is nobody's business
    return Promise.race([running, expired]).finally(() => clearTimeout(timer));
  }

  linkRichMenu(userId, richMenuId) {
    return this.retrying("link rich menu", () => this.client.linkRichMenuIdToUser(userId, richMenuId));
  }

  unlinkRichMenu(userId) {
    return this.retrying("unlink rich menu", async () => {
      try {
        return await this.client.unlinkRichMenuIdFromUser(userId);
      } catch (e) {
        // Nothing linked (or the user is gone): the goal state holds already.
        if (e instanceof HTTPFetchError && e.status === 404) return {};
        throw e;
      }
    });
  }

  /** The LINE profile, or undefined when LINE has none (user blocked the account, not a friend). */
  async profile(userId) {
    try {
      return await this.retrying("profile", () => this.client.getProfile(userId));
    } catch (e) {
      if (e instanceof HTTPFetchError && (e.status === 404 || e.status === 400)) return undefined;
      throw e;
    }
  }

  /**
   * Reply while the token is valid, else push with X-Line-Retry-Key = `retryKey`. Resolves
   * "reply", "push", "reply (unconfirmed)" or "push (unconfirmed)". A push carries
   * `aggregationUnit` (the decision's `content.aggregationUnit`) as LINE's
   * `customAggregationUnits`, so LINE counts its opens and taps per unit; a reply cannot.
   *
   * A reply has no retry key: a reply LINE carried out but whose answer was lost (5xx, network
   * error, timeout, a crash) looks like a failure, and its retry is refused with "Invalid reply
   * token" — the message was delivered once already. So the push fallback is taken only when
   * LINE refused the token on the very first attempt ever made with it. `replyAttempted`: an
   * earlier pass already tried this token (its outcome is unknown); `beforeReply()` runs (and
   * is awaited) before the first reply call, to record that. `onReplyRefused()` runs (and is
   * awaited) once LINE refused the token for sure, before the push: a push that then fails is
   * retried by a later pass as a push (same retry key), not as a reply. A rejection carries
   * `replyUncertain`: whether any reply attempt so far may have been delivered.
   *
   * A push's retry key holds for 24 hours after its first attempt: past that, LINE would carry
   * out a retry as a new push. `pushUncertainAt`: when a push attempt (this pass's or an earlier
   * one's) first had an unknown outcome; `onPushUncertain(at)` (not awaited) records it. A push whose outcome
   * has been unknown since longer than the key lives is not retried: "push (unconfirmed)",
   * counted as delivered, as a reply in the same case.
   */
  async send(userId, messages, { replyToken, retryKey, aggregationUnit, replyAttempted = false, beforeReply, onReplyRefused, pushUncertainAt, onPushUncertain, now = Date.now }) {
    if (replyToken) {
      let uncertain = replyAttempted;
      if (!replyAttempted) await beforeReply?.();
      try {
        await this.retrying("reply", () => this.client.replyMessage({ replyToken, messages }), (e) => {
          if (isUncertain(e)) uncertain = true;
        });
        return "reply";
      } catch (e) {
        if (!isInvalidReplyToken(e)) {
          e.replyUncertain = uncertain;
          throw e;
        }
        if (uncertain) {
          // Used already: by the attempt whose answer was lost. (Or expired meanwhile: then the
          // message is lost, which is the better failure than sending it twice.)
          console.warn("LINE reply: an earlier attempt's outcome was unknown and LINE now says the reply token is used: counted as delivered, not pushed");
          return "reply (unconfirmed)";
        }
        // Refused on the first attempt (expired, or used by someone else): nothing was sent.
        await onReplyRefused?.();
      }
    }
    // Kept a margin short of the key's 24 hours: the retry must reach LINE while it holds.
    if (pushUncertainAt !== undefined && now() - pushUncertainAt > RETRY_KEY_TTL_MS - 3600e3) {
      console.warn("LINE push: an earlier attempt's outcome is unknown and its X-Line-Retry-Key has (nearly) expired: counted as delivered, not pushed again");
      return "push (unconfirmed)";
    }
    let firstUncertain = pushUncertainAt;
    await this.retrying("push", async () => {
      try {
        const units = aggregationUnit ? { customAggregationUnits: [aggregationUnit] } : {};
        return await this.client.pushMessage({ to: userId, messages, ...units }, retryKey);
      } catch (e) {
        // 409: LINE already accepted a request with this retry key (an earlier attempt whose
        // answer was lost): the push happened, exactly once.
        if (e instanceof HTTPFetchError && e.status === 409) return {};
        throw e;
      }
    }, (e) => {
      // Also a timeout, which `retrying` raises while the call itself is still under way.
      if (isUncertain(e) && firstUncertain === undefined) {
        firstUncertain = now();
        onPushUncertain?.(firstUncertain);
      }
    });
    return "push";
  }
}

/** How long LINE honours an X-Line-Retry-Key after the first request with it (retrying-api-request). */
const RETRY_KEY_TTL_MS = 24 * 3600e3;

/** LINE's 429 for a channel out of its monthly message quota: retrying does not help this month. */
export function isMonthlyLimit(e) {
  return e instanceof HTTPFetchError && e.status === 429 && /monthly limit/i.test(errorMessage(e.body));
}

/** A failed attempt that LINE may nevertheless have carried out: a 5xx, or no HTTP answer at all. */
function isUncertain(e) {
  return e instanceof HTTPFetchError ? e.status >= 500 : true;
}

function isInvalidReplyToken(e) {
  return e instanceof HTTPFetchError && e.status === 400 && /reply token/i.test(errorMessage(e.body));
}

function errorMessage(body) {
  try {
    return String(JSON.parse(body ?? "").message ?? "");
  } catch {
    return String(body ?? "");
  }
}

/** Retry-After in ms (delay-seconds or an HTTP-date), or undefined. */
export function parseRetryAfter(value) {
  if (value == null || value === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

