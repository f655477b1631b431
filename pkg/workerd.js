// Cloudflare Workers (workerd) entry: Workers refuse to compile Wasm from bytes at run time,
// so the .wasm is imported as a module (bundled by wrangler) and instantiated synchronously.
import wasmModule from "./dist/kizuna_bg.wasm";
import { initSync } from "./dist/kizuna.js";

initSync({ module: wasmModule });

export * from "./dist/kizuna.js";
