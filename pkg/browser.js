// Browser entry (LIFF apps, bundlers): fetch the .wasm next to this module, streaming-compiled.
import init from "./dist/kizuna.js";

await init({ module_or_path: new URL("./dist/kizuna_bg.wasm", import.meta.url) });

export * from "./dist/kizuna.js";
