// The Messaging API calls the worker makes, through @line/bot-sdk's MessagingApiClient (v9+
// uses the global fetch, so it runs in workerd; it imports node:buffer/node:stream, hence the
// nodejs_compat flag). What the SDK does not do is added here: retries of 429/5xx/network
// errors with backoff that honours Retry-After, a deterministic X-Line-Retry-Key per decision,
// reply → push fallback when a reply token is no longer valid.
import { messagingApi, HTTPFetchError } from "@line/bot-sdk";

/** @typedef {import("@line/bot-sdk").messagingApi.Message} Message */

export class LineApi {
  /**
   * @param {{ channelAccessToken: string, baseURL?: string, maxAttempts?: number, baseDelayMs?: number,
   *           maxDelayMs?: number, sleep?: (ms: number) => Promise<void> }} options
   */
  constructor({ channelAccessToken, baseURL, maxAttempts = 5, baseDelayMs = 200, maxDelayMs = 10_000, sleep }) {
    this.client = new messagingApi.MessagingApiClient({ channelAccessToken, baseURL: baseURL || undefined });
    this.maxAttempts = maxAttempts;
    this.baseDelayMs = baseDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.sleep = sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Runs `call`, retrying 429, 5xx and network errors; other errors are thrown at once. */
  async retrying(what, call) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        const status = e instanceof HTTPFetchError ? e.status : undefined;
        const retryable = status === undefined ? e instanceof TypeError : status === 429 || status >= 500;
        if (!retryable || attempt >= this.maxAttempts) throw e;
        const retryAfter = status === undefined ? undefined : parseRetryAfter(e.headers?.get?.("retry-after"));
        const delay = retryAfter ?? Math.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
        console.warn(`LINE ${what}: ${status ?? "network error"}, retry ${attempt + 1}/${this.maxAttempts} in ${Math.round(delay)} ms`);
        await this.sleep(Math.min(delay, this.maxDelayMs));
      }
    }
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
   * Reply while the token is valid, else push with X-Line-Retry-Key = `retryKey`.
   * Resolves "reply" or "push".
   */
  async send(userId, messages, { replyToken, retryKey }) {
    if (replyToken) {
      try {
        await this.retrying("reply", () => this.client.replyMessage({ replyToken, messages }));
        return "reply";
      } catch (e) {
        // "Invalid reply token": expired or already used (e.g. a retry after a crash) → push.
        if (!(e instanceof HTTPFetchError && e.status === 400 && /reply token/i.test(e.body ?? ""))) throw e;
      }
    }
    await this.retrying("push", async () => {
      try {
        return await this.client.pushMessage({ to: userId, messages }, retryKey);
      } catch (e) {
        // 409: LINE already accepted a request with this retry key (an earlier attempt whose
        // answer was lost): the push happened, exactly once.
        if (e instanceof HTTPFetchError && e.status === 409) return {};
        throw e;
      }
    });
    return "push";
  }
}

/** Retry-After in ms (delay-seconds or an HTTP-date), or undefined. */
export function parseRetryAfter(value) {
  if (value == null || value === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

/**
 * A UUID derived from a decisionId (32 hex digits from kizuna): the same decision always pushes
 * with the same X-Line-Retry-Key, so a retried push (after a timeout or a crash) is sent once.
 * The version/variant nibbles are set (v4 layout) so strict UUID validators accept it.
 */
export function retryKeyFor(decisionId) {
  let hex = String(decisionId).toLowerCase().replace(/[^0-9a-f]/g, "");
  if (hex.length < 32) hex = (hex + "0".repeat(32)).slice(0, 32);
  hex = hex.slice(0, 32);
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
