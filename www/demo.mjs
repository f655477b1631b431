// The servers of `make demo`: the mock LINE Messaging API, the mock backend (seeded with the 20
// example users of examples/skincare/contexts.ndjson), kizuna's LINE webhook worker in
// Cloudflare's workerd and — with --app, once `make app` has built it — the LIFF quiz app and
// the playground, all on 127.0.0.1. Prints the URLs and a command that sends a signed follow
// webhook, then shows every Messaging API call and every synced decision as they happen.
// Stays up until Ctrl-C, or exits after DEMO_EXIT_AFTER seconds (smoke tests).
//
//   node www/demo.mjs [--app]
//   import { startWorkerStack } from "./www/demo.mjs"   // to combine with other servers
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, dirname } from "node:path";
import { startBackend } from "./mock/backend.mjs";
import { startLineApi } from "./mock/line-api.mjs";
import { buildWorker, startWorkerd, removeBundle, freePort } from "./worker/dev.mjs";
import { DEMO_SECRET } from "./worker/send-webhook.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const ACCESS_TOKEN = "test-channel-access-token";
const BACKEND_TOKEN = "demo-backend-token";

/** The example users (the Context `user` objects of examples/skincare/contexts.ndjson). */
export function exampleUsers() {
  return readFileSync(join(root, "examples/skincare/contexts.ndjson"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l).user);
}

/**
 * Start the mock LINE API, the mock backend and the worker in workerd.
 * @param {{ workerPort?: number, linePort?: number, backendPort?: number, users?: object[], quiet?: boolean }} options
 *   workerPort default 8787 (wrangler's), or any free port when that one is taken.
 * @returns {Promise<{ workerUrl: string, lineUrl: string, backendUrl: string, secret: string, line, backend, worker, close(): Promise<void> }>}
 */
export async function startWorkerStack({ workerPort = 8787, linePort = 0, backendPort = 0, users = exampleUsers(), quiet = true } = {}) {
  const line = await startLineApi({ port: linePort, token: ACCESS_TOKEN });
  const backend = await startBackend({ port: backendPort, users: Object.fromEntries(users.map((u) => [u.userId, u])) });
  const bundle = await buildWorker();
  const port = (await portFree(workerPort)) ? workerPort : await freePort();
  let worker;
  try {
    worker = await startWorkerd({
      bundle,
      port,
      quiet,
      env: {
        LINE_CHANNEL_SECRET: DEMO_SECRET,
        LINE_CHANNEL_ACCESS_TOKEN: ACCESS_TOKEN,
        BACKEND_TOKEN,
        LINE_API_URL: line.url,
        BACKEND_URL: backend.url,
        SYNC_MAX_DELAY_MS: "5000",
      },
    });
  } catch (e) {
    await Promise.all([line.close(), backend.close()]);
    removeBundle(bundle);
    throw e;
  }
  return {
    workerUrl: `${worker.url}/`,
    lineUrl: line.url,
    backendUrl: backend.url,
    secret: DEMO_SECRET,
    line,
    backend,
    worker,
    async close() {
      await worker.close();
      await Promise.all([line.close(), backend.close()]);
      removeBundle(bundle);
    },
  };
}

async function portFree(port) {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const stack = await startWorkerStack({ quiet: false });
  // The quiz app posts its decisions to the same mock backend (CORS allowed there).
  let app = null;
  if (process.argv.includes("--app")) {
    const { startApp } = await import("./app/serve.mjs");
    // Vite's usual port when it is free, else any.
    app = await startApp({ port: 5173, backendUrl: stack.backendUrl }).catch(() => startApp({ port: 0, backendUrl: stack.backendUrl }));
  }
  const users = exampleUsers();
  const env = stack.workerUrl === "http://127.0.0.1:8787/" ? "" : `WEBHOOK_URL=${stack.workerUrl} `;
  console.log(`
kizuna LINE webhook worker (workerd)  ${stack.workerUrl}
mock LINE Messaging API               ${stack.lineUrl}
mock backend                          ${stack.backendUrl}   (GET /users/:id, GET /decisions)
channel secret (demo)                 ${stack.secret}
${app ? `LIFF skin-type quiz (liff-mock)       ${app.quizUrl}
playground                            ${app.playgroundUrl}
` : ""}
Send a signed follow webhook (${users[0].displayName}, a new friend; any of the 20 example userIds works):
  ${env}node www/worker/send-webhook.mjs follow ${users[0].userId}
A message from a dormant customer (moves her to the win-back menu), and a loyal customer's
tab tap within her own menu (nothing to call):
  ${env}node www/worker/send-webhook.mjs message ${users[4].userId} こんにちは
  ${env}node www/worker/send-webhook.mjs switch ${users[7].userId} loyal-rewards
${process.env.DEMO_EXIT_AFTER ? `(exiting after ${process.env.DEMO_EXIT_AFTER} s)` : "Ctrl-C stops."}
`);
  // Show what the worker does, as the mocks see it.
  let calls = 0;
  let decisions = 0;
  const show = setInterval(() => {
    for (; calls < stack.line.calls.length; calls++) {
      const c = stack.line.calls[calls];
      const text = c.body?.messages?.map((m) => (m.type === "text" ? m.text : `[${m.type}] ${m.altText ?? ""}`)).join(" / ");
      console.log(`LINE API  ${c.method} ${c.path}${text ? `  «${text.replace(/\n/g, " ").slice(0, 120)}»` : ""}`);
    }
    const all = [...stack.backend.decisions.values()];
    for (; decisions < all.length; decisions++) {
      const d = all[decisions];
      console.log(`backend   decision ${d.decisionId} for ${d.userId}: segments ${d.segments.join(", ")}; menu ${d.richMenu?.action ?? "-"} ${d.richMenu?.menu ?? ""}`);
    }
  }, 100);
  const stop = async () => {
    clearInterval(show);
    await app?.close();
    await stack.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  if (process.env.DEMO_EXIT_AFTER) setTimeout(stop, Number(process.env.DEMO_EXIT_AFTER) * 1000);
}
