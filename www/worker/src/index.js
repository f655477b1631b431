// kizuna's LINE webhook worker for Cloudflare Workers (module syntax). See ../README.md.
import { Engine } from "kizuna";
import config from "./config.js";
import { createWorker } from "./worker.js";

const { handler, KizunaUser } = createWorker(() => {
  // Compiled once per isolate, by the first user object with an event to decide (never by the
  // fetch handler, see createWorker): the fast JSON-text path from then on.
  const engine = new Engine(config);
  return (contextJson) => engine.decideJson(contextJson);
});

export default handler;
export { KizunaUser };
