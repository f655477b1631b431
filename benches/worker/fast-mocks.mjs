// The load bench's LINE API and backend, in their own process (so their CPU is neither the
// worker's nor the load generator's) and as cheap as a server can be: canned answers, users
// served from pre-serialized JSON, no recording except counters. www/mock/ checks request
// shapes for the tests; here only throughput matters. Prints {lineUrl, backendUrl} as JSON.
//
//   GET  /users/:id        → the seeded user (benches/users.mjs) or 404
//   POST /decisions        → counts decisions (parses the envelope), 200
//   GET  /stats            → {decisions, requests}
//   POST /v2/bot/message/reply|push, /v2/bot/user/:id/richmenu/:rid → LINE's answers
//   GET  /v2/bot/profile/:id → a profile
import { createServer } from "node:http";
import { generateUsers } from "../users.mjs";

const COUNT = Number(process.argv[2] ?? 2000);
const users = new Map(generateUsers(COUNT, 42).map((c) => [c.user.userId, JSON.stringify(c.user)]));
let decisions = 0;
let requests = 0;
const SENT = '{"sentMessages":[{"id":"461230966842064897","quoteToken":"IStG5h1Tz7b"}]}';

const server = createServer((req, res) => {
  requests++;
  const url = req.url;
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const json = (status, text) => {
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    };
    if (url.startsWith("/users/")) {
      const u = users.get(decodeURIComponent(url.slice(7)));
      return u ? json(200, u) : json(404, '{"error":"no such user"}');
    }
    if (url === "/decisions") {
      decisions += JSON.parse(Buffer.concat(chunks).toString()).decisions.length;
      return json(200, '{"ok":true}');
    }
    if (url === "/stats") return json(200, JSON.stringify({ decisions, requests }));
    if (url === "/v2/bot/message/reply" || url === "/v2/bot/message/push") return json(200, SENT);
    if (url.startsWith("/v2/bot/user/")) return json(200, "{}");
    if (url.startsWith("/v2/bot/profile/")) return json(200, `{"displayName":"LINE ユーザー","userId":"${url.slice(16)}","language":"ja"}`);
    return json(404, '{"message":"Not found"}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const url = `http://127.0.0.1:${server.address().port}`;
  process.stdout.write(`${JSON.stringify({ lineUrl: url, backendUrl: url })}\n`);
});
