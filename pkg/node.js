// Node entry: read the .wasm next to the module and instantiate it synchronously, so the
// package is ready as soon as it is imported.
import { readFileSync } from "node:fs";
import { initSync } from "./dist/kizuna.js";

initSync({ module: readFileSync(new URL("./dist/kizuna_bg.wasm", import.meta.url)) });

export * from "./dist/kizuna.js";
