import { Engine, initSync } from "kizuna";
import wasmModule from "kizuna/kizuna_bg.wasm";
import config from "../../www/worker/src/config.js";
import { cpuHandler } from "./cpu-handler.js";

initSync({ module: wasmModule }); // see www/worker/src/index.js
export default cpuHandler(() => {
  const engine = new Engine(config);
  return (text) => engine.decideJson(text);
});
export { KizunaUser } from "../../www/worker/src/index.js";
