// Serves the built app (www/dist/app, from `make app`) on 127.0.0.1.
//
//   import { startApp } from "./www/app/serve.mjs";
//   const app = await startApp({ port: 0, backendUrl: "http://127.0.0.1:8788" });
//   app.url, app.quizUrl, app.playgroundUrl; await app.close();
//
// Static files with the right MIME types (application/wasm for the .wasm, so browsers compile
// it while it downloads), gzip when the client accepts it (compressed once, kept in memory),
// `Cache-Control: immutable` for the hashed files under assets/ and `no-cache` for the HTML.
// With `backendUrl` (and `liffId`, `mock`) the HTML pages get <meta name="kizuna-…"> tags that
// the app reads (query parameters are ignored by a production build).
//
// CLI: node www/app/serve.mjs [--port 5173] [--backend URL] [--liff-id ID] [--mock 1|0|auto]
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
export const DIST = resolve(here, "../dist/app");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};
const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".json", ".wasm", ".svg", ".txt"]);

const escapeAttr = (s) => String(s).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

export async function startApp({ port = 0, host = "127.0.0.1", backendUrl, liffId, mock, root = DIST } = {}) {
  try {
    await stat(join(root, "index.html"));
  } catch {
    throw new Error(`startApp: ${root}/index.html is missing; build the app first (make app)`);
  }
  const metas = [
    backendUrl && `<meta name="kizuna-backend" content="${escapeAttr(backendUrl)}">`,
    liffId && `<meta name="kizuna-liff-id" content="${escapeAttr(liffId)}">`,
    mock !== undefined && `<meta name="kizuna-liff-mock" content="${escapeAttr(mock)}">`,
  ].filter(Boolean).join("");
  const cache = new Map(); // path -> {body, gz, type}

  async function load(path) {
    let entry = cache.get(path);
    if (entry) return entry;
    let body = await readFile(path);
    const ext = extname(path);
    if (ext === ".html" && metas) body = Buffer.from(body.toString("utf8").replace("<head>", `<head>${metas}`));
    entry = { body, type: TYPES[ext] || "application/octet-stream", gz: COMPRESSIBLE.has(ext) ? gzipSync(body, { level: 9 }) : null };
    cache.set(path, entry);
    return entry;
  }

  const server = createServer(async (req, res) => {
    try {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      let pathname = decodeURIComponent(new URL(req.url, "http://x").pathname);
      if (pathname.endsWith("/")) pathname += "index.html";
      const file = normalize(join(root, pathname));
      if (file !== root && !file.startsWith(root + sep)) {
        res.writeHead(403).end();
        return;
      }
      let entry;
      try {
        entry = await load(file);
      } catch {
        res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found");
        return;
      }
      const gzip = entry.gz && /\bgzip\b/.test(req.headers["accept-encoding"] || "");
      const body = gzip ? entry.gz : entry.body;
      const headers = {
        "content-type": entry.type,
        "content-length": body.length,
        "cache-control": pathname.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
        vary: "accept-encoding",
        "x-content-type-options": "nosniff",
      };
      if (gzip) headers["content-encoding"] = "gzip";
      res.writeHead(200, headers);
      res.end(req.method === "HEAD" ? undefined : body);
    } catch (e) {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(e));
    }
  });

  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, ok);
  });
  const url = `http://${host}:${server.address().port}`;
  return {
    url,
    quizUrl: `${url}/`,
    playgroundUrl: `${url}/playground.html`,
    server,
    close: () => new Promise((ok) => {
      server.closeAllConnections?.();
      server.close(() => ok());
    }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const app = await startApp({ port: Number(opt("--port") ?? 5173), backendUrl: opt("--backend"), liffId: opt("--liff-id"), mock: opt("--mock") });
  console.log(`quiz:       ${app.quizUrl}\nplayground: ${app.playgroundUrl}`);
}
