// A mock of the LINE Messaging API endpoints the edge worker uses (plain Node http, 127.0.0.1).
// Request shapes are checked the way LINE checks them (bearer token, 1–5 messages, reply
// tokens usable once, UUID retry keys, 1–500 user ids per bulk call, the body checked whole) and answers carry LINE's
// response shapes (`sentMessages`, `{}`, error `{message, details}`, `x-line-request-id`).
//
//   POST   /v2/bot/message/reply                       {replyToken, messages}      → {sentMessages}
//   POST   /v2/bot/message/push   (X-Line-Retry-Key)   {to, messages, customAggregationUnits?} → {sentMessages}
//   POST   /v2/bot/user/:userId/richmenu/:richMenuId                               → {}
//   DELETE /v2/bot/user/:userId/richmenu                                           → {}
//   GET    /v2/bot/user/:userId/richmenu                                           → {richMenuId} | 404
//   GET    /v2/bot/profile/:userId                                                 → profile
//   POST   /v2/bot/richmenu/bulk/link                  {richMenuId, userIds}        → 202 {}
//   POST   /v2/bot/richmenu/bulk/unlink                {userIds}                    → 202 {}
//
// startLineApi({ port = 0, token = "test-channel-access-token", profiles = {} }) → Promise<{
//   url, calls: [{ method, path, headers, body, at }], userMenus: Map<userId, richMenuId>,
//   failNext(status, count = 1, retryAfter?, message?), processThen({...}), close() }>
// `calls` records every request (failed ones too); `failNext` makes the next `count` requests
// answer `status` (429 or 5xx…) without processing them, with an optional Retry-After (seconds)
// and error message (e.g. LINE's 429 "You have reached your monthly limit."). Unknown users get
// a generated profile (`profiles` overrides: userId → {displayName, …}). `failNext({ status,
// count, retryAfter, message, match })` does the same for the requests for which `match(call)`
// holds (a predicate on the recorded call), leaving the others alone.
//
// processThen({ path?, match?, count = 1, delayMs = 0, then = "answer" }): the next `count`
// requests to `path` (exact string or RegExp; any path when absent) for which `match(call)`
// holds (a predicate on the recorded call; optional) are processed as usual — the reply
// token is used, the menu linked, the retry key accepted — and then, after `delayMs`, `then`
// decides what the caller gets: "answer" (the real answer, late), a status code (a 5xx error:
// LINE did the work but the answer was lost on the way), "drop" (the connection is closed
// without an answer) or "hang" (no answer until close()).
import { createServer } from "node:http";
import { listen } from "./listen.mjs";
import { randomUUID } from "node:crypto";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const USER_ID = /^U[0-9a-f]{32}$/;
const MESSAGE_TYPES = new Set(["text", "sticker", "image", "video", "audio", "location", "imagemap", "template", "flex", "textV2"]);

export async function startLineApi({ port = 0, token = "test-channel-access-token", profiles = {} } = {}) {
  const calls = [];
  const userMenus = new Map();
  const usedReplyTokens = new Set();
  const acceptedRetryKeys = new Map(); // retry key → request id
  const failures = [];
  const tampers = [];
  const hung = new Set();
  let seq = 0;

  const server = createServer(async (req, res) => {
    let raw = "";
    try {
      for await (const chunk of req) raw += chunk;
    } catch {
      return;
    }
    const path = new URL(req.url, "http://x").pathname;
    let body;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    calls.push({ method: req.method, path, headers: { ...req.headers }, body, at: Date.now() });
    const requestId = randomUUID();
    const deliver = (status, obj, headers = {}) => {
      res.writeHead(status, { "content-type": "application/json", "x-line-request-id": requestId, ...headers });
      res.end(JSON.stringify(obj));
    };
    let send = deliver;
    const bad = (message, details) => send(400, details ? { message, details } : { message });

    const f = failures.find((x) => x.match === undefined || x.match(calls.at(-1)));
    if (f) {
      if (--f.count <= 0) failures.splice(failures.indexOf(f), 1);
      const message = f.message ?? (f.status === 429 ? "The API rate limit has been exceeded. Try again later." : "Internal server error");
      return send(f.status, { message }, f.retryAfter === undefined ? {} : { "retry-after": String(f.retryAfter) });
    }
    const tamper = tampers.find((t) => (t.path === undefined || (typeof t.path === "string" ? t.path === path : t.path.test(path)))
      && (t.match === undefined || t.match(calls.at(-1))));
    if (tamper) {
      if (--tamper.count <= 0) tampers.splice(tampers.indexOf(tamper), 1);
      // Processed below as usual; only what the caller gets changes.
      send = (status, obj, headers) => {
        const then = () => {
          if (tamper.then === "answer") return deliver(status, obj, headers);
          if (tamper.then === "drop") return res.socket?.destroy();
          if (tamper.then === "hang") return hung.add(res);
          return deliver(tamper.then, { message: "Internal server error" });
        };
        if (tamper.delayMs > 0) setTimeout(then, tamper.delayMs);
        else then();
      };
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      return send(401, { message: "Authentication failed. Confirm that the access token in the authorization header is valid." });
    }
    if (req.method === "POST" && !/^application\/json/.test(req.headers["content-type"] ?? "") && !path.startsWith("/v2/bot/user/")) {
      return send(415, { message: "Unsupported Media Type" });
    }

    let m;
    if (req.method === "POST" && path === "/v2/bot/message/reply") {
      if (typeof body?.replyToken !== "string" || body.replyToken === "") return bad("The request body has 1 error(s)", [{ message: "must be specified", property: "replyToken" }]);
      const problem = checkMessages(body.messages);
      if (problem) return bad("The request body has 1 error(s)", [problem]);
      if (usedReplyTokens.has(body.replyToken)) return bad("Invalid reply token");
      usedReplyTokens.add(body.replyToken);
      return send(200, { sentMessages: body.messages.map(sent) });
    }
    if (req.method === "POST" && path === "/v2/bot/message/push") {
      if (typeof body?.to !== "string" || body.to === "") return bad("The request body has 1 error(s)", [{ message: "must be specified", property: "to" }]);
      const problem = checkMessages(body.messages) ?? checkUnits(body.customAggregationUnits);
      if (problem) return bad("The request body has 1 error(s)", [problem]);
      const key = req.headers["x-line-retry-key"];
      if (key !== undefined) {
        if (!UUID.test(key)) return bad("The value for the 'X-Line-Retry-Key' header is invalid");
        if (acceptedRetryKeys.has(key)) {
          return send(409, { message: "The retry key is already accepted", sentMessages: [] }, { "x-line-accepted-request-id": acceptedRetryKeys.get(key) });
        }
        acceptedRetryKeys.set(key, requestId);
      }
      return send(200, { sentMessages: body.messages.map(sent) });
    }
    if (req.method === "POST" && (m = /^\/v2\/bot\/user\/([^/]+)\/richmenu\/([^/]+)$/.exec(path))) {
      if (!USER_ID.test(m[1])) return bad("The user ID is invalid");
      if (!m[2].startsWith("richmenu-")) return send(404, { message: "Not found" });
      userMenus.set(m[1], m[2]);
      return send(200, {});
    }
    if ((m = /^\/v2\/bot\/user\/([^/]+)\/richmenu$/.exec(path))) {
      if (!USER_ID.test(m[1])) return bad("The user ID is invalid");
      if (req.method === "DELETE") {
        userMenus.delete(m[1]);
        return send(200, {});
      }
      if (req.method === "GET") {
        return userMenus.has(m[1]) ? send(200, { richMenuId: userMenus.get(m[1]) }) : send(404, { message: "the user has no richmenu" });
      }
    }
    if (req.method === "GET" && (m = /^\/v2\/bot\/profile\/([^/]+)$/.exec(path))) {
      if (!USER_ID.test(m[1])) return send(404, { message: "Not found" });
      return send(200, {
        displayName: `LINE ユーザー ${m[1].slice(1, 5)}`,
        userId: m[1],
        pictureUrl: `https://profile.line-scdn.net/${m[1].slice(1, 9)}`,
        statusMessage: "",
        language: "ja",
        ...profiles[m[1]],
      });
    }
    if (req.method === "POST" && (path === "/v2/bot/richmenu/bulk/link" || path === "/v2/bot/richmenu/bulk/unlink")) {
      const link = path.endsWith("/link");
      if (link && typeof body?.richMenuId !== "string") return bad("The request body has 1 error(s)", [{ message: "must be specified", property: "richMenuId" }]);
      if (!Array.isArray(body?.userIds) || body.userIds.length < 1 || body.userIds.length > 500) {
        return bad("The request body has 1 error(s)", [{ message: "Size must be between 1 and 500", property: "userIds" }]);
      }
      // The body is checked whole: one malformed id and no user's menu changes.
      const wrong = body.userIds.findIndex((id) => typeof id !== "string" || !USER_ID.test(id));
      if (wrong >= 0) return bad("The request body has 1 error(s)", [{ message: "invalid user ID", property: `userIds[${wrong}]` }]);
      for (const id of body.userIds) (link ? userMenus.set(id, body.richMenuId) : userMenus.delete(id));
      return send(202, {});
    }
    return send(404, { message: "Not found" });

    function sent() {
      seq++;
      return { id: String(461230966842064897n + BigInt(seq)), quoteToken: `q${seq.toString(36).padStart(8, "0")}` };
    }
  });

  const url = await listen(server, port);
  return {
    url,
    calls,
    userMenus,
    failNext(status, count = 1, retryAfter, message) {
      failures.push(typeof status === "object" ? { count: 1, ...status } : { status, count, retryAfter, message });
    },
    processThen({ path, match, count = 1, delayMs = 0, then = "answer" } = {}) {
      if (!(then === "answer" || then === "drop" || then === "hang" || Number.isInteger(then))) throw new TypeError(`processThen: unknown then ${then}`);
      tampers.push({ path, match, count, delayMs, then });
    },
    close() {
      for (const res of hung) res.socket?.destroy();
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// Messaging API reference, push: at most one unit name, 1–30 of A–Z a–z 0–9 _.
function checkUnits(units) {
  if (units === undefined) return undefined;
  if (!Array.isArray(units) || units.length > 1) return { message: "Size must be between 0 and 1", property: "customAggregationUnits" };
  if (units.some((u) => typeof u !== "string" || !/^[A-Za-z0-9_]{1,30}$/.test(u))) {
    return { message: "must be 1 to 30 half-width alphanumeric characters or underscores", property: "customAggregationUnits[0]" };
  }
  return undefined;
}

function checkMessages(messages) {
  if (!Array.isArray(messages) || messages.length < 1 || messages.length > 5) {
    return { message: "Size must be between 1 and 5", property: "messages" };
  }
  for (const [i, msg] of messages.entries()) {
    if (!msg || !MESSAGE_TYPES.has(msg.type)) return { message: "must be one of the message types", property: `messages[${i}].type` };
    if (msg.type === "text" && (typeof msg.text !== "string" || msg.text === "" || msg.text.length > 5000)) {
      return { message: "Length must be between 1 and 5000", property: `messages[${i}].text` };
    }
    if (msg.type === "flex" && (typeof msg.altText !== "string" || msg.altText === "" || typeof msg.contents !== "object")) {
      return { message: "must be specified", property: `messages[${i}].altText` };
    }
  }
  return undefined;
}
