import config from "../../www/worker/src/config.js";
import { PeerDecider } from "./peer-decide.mjs";
import { cpuHandler } from "./cpu-handler.js";

export default cpuHandler(() => {
  const peer = new PeerDecider(config);
  return (text) => peer.decideJson(text);
});
export { KizunaUser } from "./peer-worker.js";
