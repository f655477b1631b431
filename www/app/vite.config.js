// Vite build of the LIFF quiz (index.html) and the playground (playground.html).
//
// Build-time settings (all optional; see README):
//   VITE_KIZUNA_BACKEND  backend base URL; decisions go to POST {backend}/decisions
//   VITE_LIFF_ID         the LIFF app id from the LINE Developers console
//   VITE_LIFF_MOCK       "auto" (default: @line/liff-mock outside the LINE app), "1" or "0"
//   KIZUNA_CONFIG        the config the app compiles (default examples/skincare/config.json)
//   VITE_KIZUNA_QUERY_SETTINGS  "1": ?backend= ?liffId= ?mock= override the settings at run
//                        time (dev and test builds only; off by default, and never in production)
import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { readFileSync } from "node:fs";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = resolve(here, "../..");
const config = resolve(process.env.KIZUNA_CONFIG || resolve(repo, "examples/skincare/config.json"));

// `import configText from "virtual:kizuna-config"`: the config as compact JSON text (the engine
// compiles text; whitespace would only cost bytes).
function kizunaConfig() {
  const id = "\0virtual:kizuna-config";
  return {
    name: "kizuna-config",
    resolveId: (source) => (source === "virtual:kizuna-config" ? id : null),
    load(source) {
      if (source !== id) return null;
      this.addWatchFile(config);
      return `export default ${JSON.stringify(JSON.stringify(JSON.parse(readFileSync(config, "utf8"))))};`;
    },
  };
}

// <link rel="preload"> of the page's .wasm: the download starts with the HTML instead of after
// the JS modules (the browser entry fetches it when it is evaluated). Each page preloads the
// .wasm its own chunks import (the quiz the package's, the playground kizuna-check's).
function preloadWasm() {
  return {
    name: "kizuna-preload-wasm",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      handler(html, ctx) {
        const seen = new Set();
        const assets = new Set();
        const walk = (name) => {
          const chunk = ctx.bundle?.[name];
          if (!chunk || seen.has(name) || chunk.type !== "chunk") return;
          seen.add(name);
          for (const a of chunk.viteMetadata?.importedAssets ?? []) assets.add(a);
          chunk.imports.forEach(walk);
        };
        if (ctx.chunk) walk(ctx.chunk.fileName);
        const wasm = [...assets].filter((f) => f.endsWith(".wasm"));
        return wasm.map((f) => ({ tag: "link", attrs: { rel: "preload", href: `./${f}`, as: "fetch", type: "application/wasm", crossorigin: "anonymous" }, injectTo: "head-prepend" }));
      },
    },
  };
}

export default defineConfig({
  plugins: [kizunaConfig(), preloadWasm()],
  // The playground's engine: the package's with `kizuna check`'s warnings (make app builds it).
  resolve: { alias: { "kizuna-check": resolve(repo, "target/check-pkg/browser.js") } },
  root: here,
  base: "./", // relative URLs: the build can be deployed under any path (LIFF endpoint URL)
  build: {
    outDir: resolve(repo, "www/dist/app"),
    emptyOutDir: true,
    target: "es2022", // the kizuna browser entry uses top-level await
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0, // never inline the .wasm as base64
    reportCompressedSize: false,
    rollupOptions: {
      input: { index: resolve(here, "index.html"), playground: resolve(here, "playground.html") },
      // readable chunk names: the kizuna glue (+ the .wasm next to it), the LIFF SDK, shared code
      output: {
        manualChunks(id) {
          if (/[\\/]pkg[\\/](browser\.js|dist[\\/])/.test(id)) return "kizuna";
          if (/[\\/]target[\\/]check-pkg[\\/]/.test(id)) return "kizuna-check";
          if (/@line[\\/]liff[\\/]|@liff[\\/]/.test(id)) return "liff";
          if (id.includes("virtual:kizuna-config") || /www[\\/]app[\\/]src[\\/]dom\.js$/.test(id)) return "shared";
          return undefined;
        },
      },
    },
  },
  server: { fs: { allow: [repo] } },
});
