// The package's `workerd` entry in Cloudflare's real runtime (the npm package `workerd`,
// offline on 127.0.0.1): the .wasm is imported as a module and instantiated with initSync,
// as wrangler bundles it; the decision must be byte-identical to the native one.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkg = join(root, "pkg");
const workerdBin = join(pkg, "node_modules/.bin/workerd");
let child;
let port;

const freePort = () =>
  new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

before(async () => {
  port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "kizuna-workerd-"));
  const config = readFileSync(join(root, "examples/skincare/config.json"), "utf8");
  writeFileSync(
    join(dir, "worker.js"),
    `import { Engine, KizunaError } from "kizuna/workerd.js";
     const engine = new Engine(${JSON.stringify(config)});
     export default {
       async fetch(request) {
         try {
           return new Response(engine.decideJson(await request.text()), { headers: { "content-type": "application/json" } });
         } catch (e) {
           return Response.json({ name: e.name, isKizuna: e instanceof KizunaError, code: e.code, path: e.path }, { status: 400 });
         }
       },
     };`,
  );
  // Module names mirror the package layout, so the entry's relative imports resolve as in a
  // bundle; capnp embeds files relative to the config, so the package files are copied there.
  mkdirSync(join(dir, "kizuna/dist"), { recursive: true });
  for (const f of ["workerd.js", "dist/kizuna.js", "dist/kizuna_bg.wasm"]) copyFileSync(join(pkg, f), join(dir, "kizuna", f));
  const embed = (p) => JSON.stringify(`kizuna/${p}`);
  writeFileSync(
    join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .w)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const w :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "kizuna/workerd.js", esModule = embed ${embed("workerd.js")}),
    (name = "kizuna/dist/kizuna.js", esModule = embed ${embed("dist/kizuna.js")}),
    (name = "kizuna/dist/kizuna_bg.wasm", wasm = embed ${embed("dist/kizuna_bg.wasm")}),
  ],
  compatibilityDate = "2026-05-01",
);
`,
  );
  child = spawn(workerdBin, ["serve", join(dir, "config.capnp"), "--experimental"], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "{}" });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`workerd did not start:\n${log}`);
});

after(() => child?.kill());

test("a worker decides with the workerd entry, byte-identical to native", async () => {
  const contexts = readFileSync(join(root, "examples/skincare/contexts.ndjson"), "utf8").trim().split("\n");
  const golden = readFileSync(join(root, "tests/golden/skincare.decisions.ndjson"), "utf8").trim().split("\n");
  for (const i of [0, 3, 4]) {
    const res = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: contexts[i] });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), golden[i]);
  }
});

test("errors reach worker code as KizunaError values", async () => {
  const res = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: '{"now": "tomorrow", "user": {"userId": "U1"}}' });
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { name: "KizunaError", isKizuna: true, code: "invalid_timestamp", path: "/now" });
});
