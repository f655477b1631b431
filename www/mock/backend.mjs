// A mock of a business backend that kizuna syncs decisions to (plain Node http, 127.0.0.1).
// Shared by the edge worker's tests, its load benchmark, `make demo` and the LIFF app's tests.
//
//   GET  /users/:userId   -> the stored user (the Context `user` object) or 404
//   PUT  /users/:userId   -> store/replace a user (demo convenience; body = the user object)
//   POST /decisions       -> a sync envelope (schema/sync.schema.json); decisions are stored by
//                            decisionId, so a repeat is acknowledged but not stored twice; the
//                            answer is JSON ({stored, duplicates}); kizuna/sync takes any 2xx
//                            but an HTML page for delivery
//   GET  /decisions       -> every stored decision, as JSON array (debugging, demo)
//   OPTIONS *             -> CORS preflight (Content-Type, Idempotency-Key, Authorization)
//
// Interface (kept stable: other tests import it):
//   startBackend({ port = 0, failFirst = 0, users = {}, token }) → Promise<{
//     url,                 // "http://127.0.0.1:<port>" (no trailing slash)
//     envelopes: [],       // every envelope accepted (2xx), in order: {headers, body}
//     decisions: Map,      // decisionId → decision (first copy)
//     deliveries: Map,     // decisionId → how many times it arrived in an accepted envelope
//     users: Map,          // userId → user object (mutable by tests)
//     requests: [],        // every request: {method, path, headers, status}
//     setDown(bool, { retryAfter = 0 }?), // while down, every request but OPTIONS answers 503
//                          // with Retry-After: retryAfter (seconds)
//     answerNext({ method = "GET", path, count = 1, status = 200, body = "", hang = false, match }),
//                          // the next `count` requests matching method and path (exact string or
//                          // RegExp), and `match(requestBodyText)` when given, get this raw answer
//                          // instead (a body that is not JSON, an error), or no answer at all
//                          // (`hang`, until close())
//     close(),
//   }>
// `failFirst`: the first N POST /decisions answer 503 (with Retry-After: 0).
// `token`: when set, GET/PUT /users require `Authorization: Bearer <token>` (the worker's
// BACKEND_TOKEN); POST /decisions accepts any Authorization (the LIFF app sends an ID token).
//
// Applying a decision: a `richMenu` with action "link" sets the stored user's `richMenuId`,
// "unlink" removes it (a user not yet stored is created as {userId}); "none" changes nothing.
// (The edge worker syncs a link/unlink that LINE did not carry out as "none", so the stored
// richMenuId is what LINE shows.)
import { createServer } from "node:http";
import { listen } from "./listen.mjs";

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, PUT, OPTIONS",
  "access-control-allow-headers": "Content-Type, Idempotency-Key, Authorization",
  "access-control-max-age": "600",
};

export async function startBackend({ port = 0, failFirst = 0, users = {}, token } = {}) {
  const state = {
    envelopes: [],
    decisions: new Map(),
    deliveries: new Map(),
    users: new Map(Object.entries(users).map(([id, u]) => [id, structuredClone({ userId: id, ...u })])),
    requests: [],
    down: false,
    retryAfter: 0,
    posts: 0,
    scripted: [],
    hung: new Set(),
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    const path = url.pathname;
    const record = { method: req.method, path, headers: { ...req.headers }, status: 0 };
    state.requests.push(record);
    const send = (status, body, headers = {}) => {
      record.status = status;
      const text = body === undefined ? "" : JSON.stringify(body);
      res.writeHead(status, { ...CORS, ...(text ? { "content-type": "application/json" } : {}), ...headers });
      res.end(text);
    };
    let raw = "";
    try {
      for await (const chunk of req) raw += chunk;
    } catch {
      return;
    }
    if (req.method === "OPTIONS") return send(204);
    const script = state.scripted.find((s) => s.method === req.method && (typeof s.path === "string" ? s.path === path : s.path.test(path)) && (!s.match || s.match(raw)));
    if (script) {
      if (--script.count <= 0) state.scripted.splice(state.scripted.indexOf(script), 1);
      if (script.hang) return state.hung.add(res);
      record.status = script.status;
      res.writeHead(script.status, script.headers);
      return res.end(script.body);
    }
    if (state.down) return send(503, { error: "backend down" }, { "retry-after": String(state.retryAfter) });

    const userMatch = /^\/users\/([^/]+)$/.exec(path);
    if (userMatch) {
      if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) return send(401, { error: "unauthorized" });
      const id = decodeURIComponent(userMatch[1]);
      if (req.method === "GET") {
        const u = state.users.get(id);
        return u ? send(200, u) : send(404, { error: "no such user" });
      }
      if (req.method === "PUT") {
        let u;
        try {
          u = JSON.parse(raw);
        } catch {
          return send(400, { error: "invalid JSON" });
        }
        if (!u || typeof u !== "object" || Array.isArray(u)) return send(400, { error: "a user object is required" });
        state.users.set(id, { ...u, userId: id });
        return send(200, state.users.get(id));
      }
      return send(405, { error: "method not allowed" });
    }

    if (path === "/decisions" && req.method === "GET") return send(200, [...state.decisions.values()]);
    if (path === "/decisions" && req.method === "POST") {
      state.posts++;
      if (state.posts <= failFirst) return send(503, { error: "failing on purpose" }, { "retry-after": "0" });
      let env;
      try {
        env = JSON.parse(raw);
      } catch {
        return send(400, { error: "invalid JSON" });
      }
      const problem = checkEnvelope(env, req.headers["idempotency-key"]);
      if (problem) return send(400, { error: problem });
      state.envelopes.push({ headers: { ...req.headers }, body: env });
      let stored = 0;
      for (const d of env.decisions) {
        state.deliveries.set(d.decisionId, (state.deliveries.get(d.decisionId) ?? 0) + 1);
        if (state.decisions.has(d.decisionId)) continue; // a retry: acknowledged, not stored twice
        state.decisions.set(d.decisionId, d);
        stored++;
        apply(state.users, d);
      }
      return send(200, { stored, duplicates: env.decisions.length - stored });
    }
    return send(404, { error: "not found" });
  });

  const url = await listen(server, port);
  return {
    url,
    envelopes: state.envelopes,
    decisions: state.decisions,
    deliveries: state.deliveries,
    users: state.users,
    requests: state.requests,
    setDown(down, { retryAfter = 0 } = {}) {
      state.down = Boolean(down);
      state.retryAfter = retryAfter;
    },
    answerNext({ method = "GET", path, count = 1, status = 200, body = "", headers = {}, hang = false, match }) {
      state.scripted.push({ method, path, count, status, body, headers, hang, match });
    },
    close() {
      for (const res of state.hung) res.socket?.destroy();
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function checkEnvelope(env, idempotencyKey) {
  if (!env || typeof env !== "object") return "envelope must be an object";
  if (env.version !== 1) return "version must be 1";
  if (env.type !== "kizuna.decisions") return 'type must be "kizuna.decisions"';
  if (typeof env.batchId !== "string" || env.batchId === "") return "batchId is required";
  if (typeof env.sentAt !== "string") return "sentAt is required";
  if (!env.source || typeof env.source.runtime !== "string") return "source.runtime is required";
  if (!Array.isArray(env.decisions)) return "decisions must be an array";
  for (const d of env.decisions) {
    if (!d || typeof d.decisionId !== "string" || d.decisionId === "") return "every decision needs a decisionId";
  }
  if (idempotencyKey !== undefined && idempotencyKey !== env.batchId) return "Idempotency-Key must equal batchId";
  return undefined;
}

function apply(users, d) {
  if (typeof d.userId !== "string") return;
  const q = d.quiz;
  if (q && typeof q.id === "string") {
    // A finished quiz (README, "Quizzes"): what the user's next decisions read.
    const u = users.get(d.userId) ?? { userId: d.userId };
    u.quizAnswers = { ...u.quizAnswers, [q.id]: { ...q.answers, result: q.result } };
    const removed = new Set(q.removeTags ?? []);
    u.tags = [...new Set([...(u.tags ?? []).filter((t) => !removed.has(t)), ...(q.tags ?? [])])];
    u.attributes = { ...u.attributes, ...q.attributes };
    users.set(d.userId, u);
  }
  const rm = d.richMenu;
  if (!rm) return;
  if (rm.action !== "link" && rm.action !== "unlink") return;
  const u = users.get(d.userId) ?? { userId: d.userId };
  if (rm.action === "link" && typeof rm.richMenuId === "string") u.richMenuId = rm.richMenuId;
  if (rm.action === "unlink") delete u.richMenuId;
  users.set(d.userId, u);
}
