#!/usr/bin/env node
// Build, sign and send LINE webhook bodies (the shapes LINE sends: webhook event objects of
// the Messaging API). Also a library for the tests and the load bench.
//
//   node www/worker/send-webhook.mjs follow|unfollow|message|postback|verify [userId] [text|data]
//     env: WEBHOOK_URL (default http://127.0.0.1:8787/), LINE_CHANNEL_SECRET (default the demo's)
import { createHmac, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

export const DEMO_SECRET = "kizuna-demo-channel-secret";
export const DEMO_USER = "U24037bfbe05b22696ff9eb4d58d1f0eb";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** A ULID-like webhookEventId (26 characters of Crockford base32, as LINE's). */
export function webhookEventId() {
  let id = "";
  let t = Date.now();
  for (let i = 0; i < 10; i++) {
    id = CROCKFORD[t % 32] + id;
    t = Math.floor(t / 32);
  }
  for (const b of randomBytes(16)) id += CROCKFORD[b % 32];
  return id;
}

const hex = (n) => randomBytes(n).toString("hex");
export const replyToken = () => hex(16);
/** A random LINE user id: "U" + 32 hex digits. */
export const userId = () => `U${hex(16)}`;

function base(type, user, { timestamp = Date.now(), redelivery = false, id = webhookEventId(), mode = "active", reply = true } = {}) {
  return {
    type,
    mode,
    timestamp,
    source: { type: "user", userId: user },
    webhookEventId: id,
    deliveryContext: { isRedelivery: redelivery },
    ...(reply ? { replyToken: replyToken() } : {}),
  };
}

export const followEvent = (user, { unblocked = false, ...o } = {}) => ({ ...base("follow", user, o), follow: { isUnblocked: unblocked } });
export const unfollowEvent = (user, o = {}) => base("unfollow", user, { ...o, reply: false });
export const messageEvent = (user, text = "こんにちは", o = {}) => ({
  ...base("message", user, o),
  message: { type: "text", id: String(BigInt(Date.now()) * 1000n + BigInt(randomBytes(2).readUInt16BE() % 1000)), quoteToken: hex(24), text },
});
export const postbackEvent = (user, data = "action=menu", { params, ...o } = {}) => ({
  ...base("postback", user, o),
  postback: params ? { data, params } : { data },
});
/** A tap on a rich menu's richmenuswitch action: LINE has already switched to the alias. */
export const richMenuSwitchEvent = (user, aliasId, data = `switch=${aliasId}`, o = {}) =>
  postbackEvent(user, data, { ...o, params: { newRichMenuAliasId: aliasId, status: "SUCCESS" } });

/** The webhook body LINE posts: `{destination, events}` (text, as signed). */
export const webhookBody = (events, destination = "U0000000000000000000000000000000f") => JSON.stringify({ destination, events });

/** x-line-signature for a body. */
export const signature = (secret, body) => createHmac("sha256", secret).update(body).digest("base64");

/** POST a signed webhook; resolves the Response. */
export function sendWebhook(url, secret, events, { body = webhookBody(events), headers = {} } = {}) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json; charset=utf-8", "x-line-signature": signature(secret, body), ...headers },
    body,
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [kind = "follow", user = DEMO_USER, arg] = process.argv.slice(2);
  const url = process.env.WEBHOOK_URL ?? "http://127.0.0.1:8787/";
  const secret = process.env.LINE_CHANNEL_SECRET ?? DEMO_SECRET;
  const make = {
    follow: () => [followEvent(user)],
    unblock: () => [followEvent(user, { unblocked: true })],
    unfollow: () => [unfollowEvent(user)],
    message: () => [messageEvent(user, arg ?? "こんにちは")],
    postback: () => [postbackEvent(user, arg ?? "action=menu")],
    switch: () => [richMenuSwitchEvent(user, arg ?? "loyal-rewards")], // a tab of the example's loyal menu
    verify: () => [],
  }[kind];
  if (!make) {
    console.error("usage: send-webhook.mjs follow|unblock|unfollow|message|postback|switch|verify [userId] [text|data|alias]");
    process.exit(2);
  }
  const events = make();
  const res = await sendWebhook(url, secret, events);
  console.log(`${kind} for ${user} → ${url}: HTTP ${res.status} ${await res.text()}`.trim());
  process.exit(res.ok ? 0 : 1);
}
