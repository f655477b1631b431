// Browser entry (LIFF apps, bundlers): fetch the .wasm next to this module, streaming-compiled.
import init from "./dist/kizuna.js";

await init({ module_or_path: new URL("./dist/kizuna_bg.wasm", import.meta.url) });

// The public API only: each entry instantiates the Wasm itself, so wasm-bindgen's init
// functions and the internal `__outPtr` stay private (tests/npm/consumer.test.mjs checks the list).
export { Engine, KizunaError, bulkRequests, evaluate, renderTemplate } from "./dist/kizuna.js";
