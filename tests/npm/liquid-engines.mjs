// The two Liquid engines the differential tests compare (liquid-differential.test.mjs,
// liquid-date-differential.test.mjs), each giving `{ out }` or `{ err }` for a template and data
// rendered at a fixed `now`.
import { renderTemplate } from "../../pkg/node.js";

/** liquidjs's output, or its error's first line; `now`/`today` in `date` read Date.now(),
 * pinned to `now` while rendering. */
export function liquidjsAt(ljs, now) {
  const nowMs = Date.parse(now);
  return (template, data) => {
    const realNow = Date.now;
    Date.now = () => nowMs;
    try {
      return { out: ljs.parseAndRenderSync(template, data) };
    } catch (e) {
      return { err: String(e.message).split("\n")[0] };
    } finally {
      Date.now = realNow;
    }
  };
}

/** kizuna's output, or its error code and first line. */
export function kizunaAt(now) {
  return (template, data) => {
    try {
      return { out: renderTemplate(template, JSON.stringify(data), now) };
    } catch (e) {
      return { err: `${e.code}: ${String(e.message).split("\n")[0]}` };
    }
  };
}
