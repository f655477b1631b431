// The load bench's peer: the same worker (www/worker/src/worker.js: signature check, Durable
// Object per user, LINE calls, sync) deciding with json-logic-js + liquidjs instead of kizuna.
import { createWorker } from "../../www/worker/src/worker.js";
import config from "../../www/worker/src/config.js";
import { PeerDecider } from "./peer-decide.mjs";

const { handler, KizunaUser } = createWorker(() => {
  const peer = new PeerDecider(config);
  return (contextJson) => peer.decideJson(contextJson);
});

export default handler;
export { KizunaUser };
