// kizuna's marketing operators for the JavaScript peers, written as a careful JS developer
// would, so the peers evaluate exactly the same rules as kizuna in the bench.
import { NOW } from "./users.mjs";

const NOW_MS = Date.parse(NOW);
const TZ_MS = 9 * 3600e3; // the bench config's time zone, +09:00
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

const toMs = (ts) => (typeof ts === "number" ? ts : DATE_ONLY.test(ts) ? Date.parse(`${ts}T00:00:00+09:00`) : Date.parse(ts));

function durationMs(d) {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(d);
  if (!m) throw new Error(`bad duration ${d}`);
  const [, y, mo, w, day, h, mi, s] = m.map((x) => Number(x ?? 0));
  // Calendar years/months back from NOW, like kizuna.
  const back = new Date(NOW_MS + TZ_MS);
  back.setUTCFullYear(back.getUTCFullYear() - y, back.getUTCMonth() - mo);
  return NOW_MS + TZ_MS - back.getTime() + (((w * 7 + day) * 24 + h) * 60 + mi) * 60e3 + s * 1e3;
}

const args = (a) => (Array.isArray(a) ? a : [a]);

export const operators = {
  days_since: (a) => {
    const [ts] = args(a);
    return ts == null ? null : (NOW_MS - toMs(ts)) / 864e5;
  },
  ago: (a) => NOW_MS - durationMs(args(a)[0]),
  after: (a) => {
    const [x, y] = args(a);
    return x != null && y != null && toMs(x) > toMs(y);
  },
  month: (a) => {
    const [ts] = args(a);
    if (ts === undefined) return new Date(NOW_MS + TZ_MS).getUTCMonth() + 1;
    return ts == null ? null : new Date(toMs(ts) + TZ_MS).getUTCMonth() + 1;
  },
};
