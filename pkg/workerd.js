// Cloudflare Workers (workerd) entry: Workers refuse to compile Wasm from bytes at run time,
// so the .wasm is imported as a module (bundled by wrangler) and instantiated synchronously.
import wasmModule from "./dist/kizuna_bg.wasm";
import { initSync } from "./dist/kizuna.js";

initSync({ module: wasmModule });

// The public API only: each entry instantiates the Wasm itself, so wasm-bindgen's init
// functions and the internal `__outPtr` stay private (tests/npm/consumer.test.mjs checks the list).
export { Engine, KizunaError, bulkRequests, evaluate, renderTemplate } from "./dist/kizuna.js";
