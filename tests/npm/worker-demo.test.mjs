// Smoke test of the worker part of `make demo` (www/demo.mjs): it starts, prints a command that
// sends a signed follow webhook, the command works end to end, and DEMO_EXIT_AFTER stops it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = fileURLToPath(new URL("../../", import.meta.url));

test("make demo's servers: the printed command sends a signed follow that is answered and synced", async () => {
  const demo = spawn(process.execPath, ["www/demo.mjs"], { cwd: root, env: { ...process.env, DEMO_EXIT_AFTER: "20" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  demo.stdout.on("data", (d) => (out += d));
  demo.stderr.on("data", (d) => (out += d));
  const exited = new Promise((resolve) => demo.once("exit", resolve));
  const until = async (what, re, ms = 15_000) => {
    const end = Date.now() + ms;
    for (;;) {
      const m = re.exec(out);
      if (m) return m;
      if (Date.now() > end || demo.exitCode !== null) throw new Error(`no ${what} in the demo's output:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    const [line, env, userId] = await until("follow command", /^ {2}(WEBHOOK_URL=\S+ )?node www\/worker\/send-webhook\.mjs follow (U[0-9a-f]{32})$/m);
    assert.ok(line);
    const { stdout } = await promisify(execFile)(process.execPath, ["www/worker/send-webhook.mjs", "follow", userId], {
      cwd: root,
      env: { ...process.env, ...(env ? { WEBHOOK_URL: env.trim().slice("WEBHOOK_URL=".length) } : {}) },
    });
    assert.match(stdout, /HTTP 200/);
    await until("the reply", /LINE API {2}POST \/v2\/bot\/message\/reply {2}«.+様/);
    await until("the synced decision", new RegExp(`backend {3}decision [0-9a-f]{32} for ${userId}: .*menu link welcome`));
  } finally {
    demo.kill("SIGINT");
  }
  assert.equal(await exited, 0);
});
