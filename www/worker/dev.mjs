// Local tooling for the worker (Node): bundle it with esbuild the way wrangler does, and run the
// bundle in Cloudflare's real runtime (the npm package `workerd`, offline, 127.0.0.1) with a
// generated capnp config: Durable Objects in memory, vars/secrets as text bindings, outbound
// fetches allowed to loopback (the mocks). Used by the tests, `make demo` and the load bench.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, copyFileSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../..");
export const WORKERD_BIN = join(root, "pkg/node_modules/.bin/workerd");
const require = createRequire(join(here, "package.json"));

/**
 * Bundle `entry` (default src/index.js) into `outdir`/worker.js plus kizuna_bg.wasm.
 * `.wasm` imports stay module imports (Workers compile Wasm only from modules), as wrangler's
 * CompiledWasm rule does; `cloudflare:*` and `node:*` are runtime modules.
 */
export async function buildWorker({ entry = join(here, "src/index.js"), outdir = mkdtempSync(join(tmpdir(), "kizuna-worker-")), minify = false, config } = {}) {
  const esbuild = await import(require.resolve("esbuild"));
  mkdirSync(outdir, { recursive: true });
  const wasmFiles = new Map();
  await esbuild.build({
    entryPoints: [entry],
    outfile: join(outdir, "worker.js"),
    bundle: true,
    format: "esm",
    platform: "browser", // as wrangler: the "browser" package fields, no Node built-ins
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["cloudflare:*", "node:*"],
    minify,
    logLevel: "warning",
    plugins: [{
      name: "wasm-module",
      setup(b) {
        b.onResolve({ filter: /\.wasm$/ }, (args) => {
          const abs = args.path.startsWith("kizuna/") ? join(root, "pkg/dist", args.path.slice(7)) : join(args.resolveDir, args.path);
          const name = abs.split("/").pop();
          wasmFiles.set(name, abs);
          return { path: `./${name}`, external: true };
        });
      },
    }, {
      // `kizuna` is this repository's pkg/ (the npm package as built by `make pkg`), resolved
      // with its `workerd` export condition; a deployment installs it from npm instead.
      name: "kizuna-pkg",
      setup(b) {
        const files = { kizuna: "workerd.js", "kizuna/sync": "sync.js", "kizuna/line": "line.js", "kizuna/kizuna_bg.wasm": "dist/kizuna_bg.wasm" };
        b.onResolve({ filter: /^kizuna(\/.*)?$/ }, (args) => (files[args.path] ? { path: join(root, "pkg", files[args.path]) } : undefined));
      },
    }, {
      // `config`: bundle another kizuna config JSON instead of the one src/config.js imports.
      name: "kizuna-config",
      setup(b) {
        if (config) b.onResolve({ filter: /\.json$/ }, (args) => (args.importer.endsWith("/src/config.js") ? { path: config } : undefined));
      },
    }],
  });
  for (const [name, abs] of wasmFiles) copyFileSync(abs, join(outdir, name));
  return { dir: outdir, wasm: [...wasmFiles.keys()] };
}

export const freePort = () =>
  new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

/**
 * Run a bundle from buildWorker in workerd. `env`: bindings given as text (vars and secrets
 * alike, as wrangler does locally). `storage`: a directory for the Durable Objects' storage
 * (SQLite-backed, as deployed; kept across restarts), else in memory. Resolves once the socket
 * answers. `restart({ bundle })` kills workerd (SIGKILL: a crash, an eviction or a deploy) and
 * starts it again on the same port and storage, with the same or another bundle; `log()`
 * keeps everything written since the first start.
 * @returns {Promise<{url: string, port: number, pid: number, child: import("node:child_process").ChildProcess, log: () => string,
 *   restart: (options?: { bundle?: object }) => Promise<void>, close: () => Promise<void>}>}
 */
export async function startWorkerd({ bundle, env = {}, port = 0, compatibilityDate = "2026-05-01", quiet = true, storage }) {
  port ||= await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = "";
  const keep = (d) => {
    log += d;
    if (log.length > 1_000_000) log = log.slice(-500_000);
    if (!quiet) process.stderr.write(d);
  };
  if (storage) mkdirSync(storage, { recursive: true });

  const launch = async (b) => {
    const modules = [`(name = "worker.js", esModule = embed "worker.js")`, ...b.wasm.map((w) => `(name = ${JSON.stringify(w)}, wasm = embed ${JSON.stringify(w)})`)];
    const bindings = [
      ...Object.entries(env).map(([k, v]) => `(name = ${JSON.stringify(k)}, text = ${JSON.stringify(String(v))})`),
      `(name = "USERS", durableObjectNamespace = "KizunaUser")`,
    ];
    const services = [
      `(name = "main", worker = .w)`,
      `(name = "net", network = (allow = ["public", "private", "local"], tlsOptions = (trustBrowserCas = true)))`,
      ...(storage ? [`(name = "disk", disk = (path = ${JSON.stringify(storage)}, writable = true))`] : []),
    ];
    writeFileSync(join(b.dir, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [${services.join(", ")}],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const w :Workerd.Worker = (
  modules = [${modules.join(", ")}],
  bindings = [${bindings.join(", ")}],
  durableObjectNamespaces = [(className = "KizunaUser", uniqueKey = "kizuna-users"${storage ? ", enableSql = true" : ""})],
  durableObjectStorage = ${storage ? `(localDisk = "disk")` : "(inMemory = void)"},
  globalOutbound = "net",
  compatibilityDate = "${compatibilityDate}",
  compatibilityFlags = ["nodejs_compat"], # as in wrangler.toml
);
`);
    const child = spawn(WORKERD_BIN, ["serve", join(b.dir, "config.capnp"), "--experimental"], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}):\n${log}`);
      try {
        await (await fetch(url)).arrayBuffer();
        break;
      } catch {
        if (i > 150) {
          child.kill();
          throw new Error(`workerd did not start:\n${log}`);
        }
        await new Promise((r) => setTimeout(r, i < 20 ? 25 : 100));
      }
    }
    return { child, exited };
  };

  let current = await launch(bundle);
  const stop = async (signal) => {
    if (current.child.exitCode === null && current.child.signalCode === null) {
      current.child.kill(signal);
      await current.exited;
    }
  };
  return {
    url,
    port,
    get pid() {
      return current.child.pid;
    },
    get child() {
      return current.child;
    },
    log: () => log,
    async restart({ bundle: next = bundle } = {}) {
      await stop("SIGKILL");
      current = await launch(next);
    },
    close: () => stop("SIGTERM"),
  };
}

/** Remove a bundle directory made by buildWorker. */
export function removeBundle(bundle) {
  rmSync(bundle.dir, { recursive: true, force: true });
}
