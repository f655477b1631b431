// The package's workerd entry instantiates the .wasm module itself (as www/worker/src/index.js relies on).
import { Engine } from "kizuna";
import config from "../../www/worker/src/config.js";
import { cpuHandler } from "./cpu-handler.js";

export default cpuHandler(() => {
  const engine = new Engine(config);
  return (text) => engine.decideJson(text);
});
export { KizunaUser } from "../../www/worker/src/index.js";
