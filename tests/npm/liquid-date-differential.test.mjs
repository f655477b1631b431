// Differential test of kizuna's `date` (Ruby's Time#strftime, src/template/date.rs) against
// liquidjs's, directive by directive. From a fixed seed it draws instants from 1970 to 2100
// (leap days, year and ISO-week boundaries in +09:00 and in UTC, milliseconds, any offset),
// written as RFC 3339 text, epoch seconds (number or digits), bare dates, "now" and "today",
// and formats of one to four directives with Ruby's flags (`-` `_` `0` `^` `#`), widths and
// the E/O modifiers; renders `{{ t | date: f }}` in both engines at +09:00 (the config zone),
// and `{{ t | time_zone: z | date: f }}` against liquidjs's `{{ t | date: f, z }}`, and
// compares the bytes.
//
// The formats stay off what the two engines do differently on purpose; each of those is
// asserted once on both engines in the second test, with Ruby 3.1's answer where kizuna
// follows it (kizuna's `date` is Shopify's, which calls Ruby's Time#strftime).
//
//   LIQUID_DATE_CASES=50000 LIQUID_DATE_SEED=7 node --test tests/npm/liquid-date-differential.test.mjs
//   LIQUID_DATE_SHOW=1 … prints every mismatch instead of 5.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { mulberry32 } from "../../benches/users.mjs";
import { kizunaAt, liquidjsAt } from "./liquid-engines.mjs";

const require = createRequire(new URL("../../benches/package.json", import.meta.url));
const { Liquid } = require("liquidjs");

const CASES = Number(process.env.LIQUID_DATE_CASES ?? 6000);
const SEED = Number(process.env.LIQUID_DATE_SEED ?? 20261127);
const NOW = "2026-11-27T10:30:00.250+09:00";

// As in liquid-differential.test.mjs: +09:00 (and Date.now pinned for "now"/"today": liquidjsAt).
const ljs = new Liquid({ timezoneOffset: -540, strictFilters: true });

const liquidjs = liquidjsAt(ljs, NOW);
const kizuna = kizunaAt(NOW);

// ---- directives -----------------------------------------------------------------------------
// Of the date: right for a bare date too (midnight in +09:00 in kizuna, in UTC in liquidjs:
// the same day here, documented).
const DAY = ["Y", "C", "y", "m", "d", "e", "j", "u", "w", "U", "W", "a", "A", "b", "B", "h", "EY", "EC", "Ey", "Od", "Oe", "Om", "Ou", "Ow", "OU", "OW", "Oy"];
// Of the time of day, the offset and the instant.
const TIME = ["H", "k", "I", "l", "M", "S", "L", "N", "s", "p", "P", "z", ":z", "OH", "Ok", "OI", "Ol", "OM", "OS"];
// Without a value: no widths (Ruby and kizuna pad them with spaces, liquidjs with zeros).
const PLAIN = ["%", "n", "t"];
// Flags and widths everywhere but: `%L` (a width is its number of digits in Ruby, a padding of
// the milliseconds in liquidjs: `%6L` 123000 / 000123), `%h` with a width (liquidjs pads it with
// zeros, being left out of its padSpaceChars), `%z` (Ruby puts the zeros of `%10z` after the
// sign and `%_z` is ` +900`; liquidjs pads before the sign).
const FLAGS = ["", "", "", "-", "_", "0", "^", "#", "-^", "_#", "0^", "^#"];

function directive(rnd, conv) {
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  if (PLAIN.includes(conv) || conv.endsWith("z") || conv === "L") return `%${conv}`;
  const width = rnd() < 0.3 && conv !== "h" ? String(1 + Math.floor(rnd() * 12)) : "";
  return `%${pick(FLAGS)}${width}${conv}`;
}

function format(rnd, dayOnly) {
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  let f = rnd() < 0.2 ? pick(["", "[", "日付: "]) : "";
  for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) {
    const conv = rnd() < 0.08 ? pick(PLAIN) : dayOnly || rnd() < 0.5 ? pick(DAY) : pick(TIME);
    f += directive(rnd, conv) + pick(["", " ", "/", "-", ":", "年", "（", "）"]);
  }
  return f;
}

// ---- instants -------------------------------------------------------------------------------
const OFFSETS = ["Z", "+09:00", "+00:00", "-05:00", "+05:30", "-03:30", "+14:00", "-12:00", "+08:45"];
const END_MS = Date.UTC(2100, 11, 31, 23, 59, 59);
const pad = (n, w = 2) => String(n).padStart(w, "0");

/** RFC 3339 text of `ms` written in `off`, with the milliseconds when there are any. */
function rfc3339(ms, off) {
  const mins = off === "Z" ? 0 : (off[0] === "-" ? -1 : 1) * (Number(off.slice(1, 3)) * 60 + Number(off.slice(4, 6)));
  const d = new Date(ms + mins * 60000);
  const frac = d.getUTCMilliseconds() ? `.${pad(d.getUTCMilliseconds(), 3)}` : "";
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac}${off}`;
}

function instant(rnd) {
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  const r = rnd();
  if (r < 0.45) return Math.floor(rnd() * END_MS);
  // Near midnight of 31 Dec / 1 Jan (in +09:00 or in UTC), 28 Dec to 4 Jan (ISO weeks), 29 Feb.
  const y = int(1970, 2099);
  const base = r < 0.7 ? Date.UTC(y, 11, 31, pick([14, 15, 23, 0]), pick([59, 0])) : r < 0.85 ? Date.UTC(y, 11, int(28, 31)) + int(0, 7) * 864e5 : Date.UTC(pick([1972, 2000, 2024, 2028, 2096]), 1, 28, 15) + int(-1, 2) * 864e5;
  return Math.max(0, Math.min(END_MS, base + int(-2, 2) * 1000 + (rnd() < 0.3 ? int(0, 999) : 0)));
}

/** A value for `date` and whether it is a bare date (only date directives apply). */
function value(rnd) {
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const ms = instant(rnd);
  const r = rnd();
  if (r < 0.6) return [rfc3339(ms, pick(OFFSETS)), false];
  if (r < 0.72) return [Math.floor(ms / 1000), false]; // epoch seconds
  if (r < 0.8) return [String(Math.floor(ms / 1000)), false]; // epoch seconds as digits
  if (r < 0.88) return [pick(["now", "today"]), false];
  return [rfc3339(ms, "Z").slice(0, 10), true];
}

// time_zone's zones and liquidjs's (minutes west, as getTimezoneOffset, or a zone name).
const ZONES = [["+09:00", -540], ["+05:30", -330], ["-05:00", 300], ["+14:00", -840], ["-03:30", 210], ["+00:00", 0], ["UTC", "UTC"], ["Asia/Tokyo", "Asia/Tokyo"], ["Asia/Kolkata", "Asia/Kolkata"], ["Asia/Bangkok", "Asia/Bangkok"]];

export function genCases(count, seed) {
  const rnd = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const [t, bare] = value(rnd);
    const f = format(rnd, bare);
    // A bare date through time_zone is not compared: kizuna's midnight in +09:00 and liquidjs's
    // midnight in UTC fall on different days in most zones.
    if (bare || rnd() < 0.6) return { kizuna: "{{ t | date: f }}", liquidjs: "{{ t | date: f }}", data: { t, f } };
    const [z, lz] = ZONES[Math.floor(rnd() * ZONES.length)];
    return { kizuna: "{{ t | time_zone: z | date: f }}", liquidjs: "{{ t | date: f, lz }}", data: { t, f, z, lz } };
  });
}

test(`liquid date differential: ${CASES} seeded strftime formats and instants (seed ${SEED}) render byte-identical in kizuna and liquidjs`, () => {
  const mismatches = [];
  const seen = new Set();
  for (const [i, c] of genCases(CASES, SEED).entries()) {
    const k = kizuna(c.kizuna, c.data);
    const l = liquidjs(c.liquidjs, c.data);
    for (const m of c.data.f.match(/%[-_0^#]*\d*[EO:]*./g)) seen.add(m.replace(/[-_0^#\d]/g, ""));
    if (k.out === undefined || k.out !== l.out) mismatches.push({ case: i, template: c.kizuna, data: c.data, kizuna: k.out ?? k.err, liquidjs: l.out ?? l.err });
  }
  const show = process.env.LIQUID_DATE_SHOW ? mismatches : mismatches.slice(0, 5);
  for (const m of show) console.log(JSON.stringify(m));
  // Every directive drawn at least once, so none drops out of the comparison unnoticed.
  const all = [...DAY, ...TIME, ...PLAIN].map((c) => `%${c}`);
  if (CASES >= 2000) assert.deepEqual(all.filter((d) => !seen.has(d)), [], "directives never drawn");
  assert.equal(mismatches.length, 0, `${mismatches.length} of ${CASES} formats differ (first: case ${mismatches[0]?.case})`);
});

// Where the engines differ on purpose (README "Liquid"): [format, kizuna, liquidjs], for
// 2026-03-04T17:06:07.123+09:00 (a Wednesday). kizuna's text is Ruby 3.1's Time#strftime of the
// same instant unless the comment says otherwise.
const DEVIATIONS = [
  ["%c", "Wed Mar  4 17:06:07 2026", "3/4/2026, 5:06:07 PM"], // liquidjs: toLocaleString()
  ["%x|%X", "03/04/26|17:06:07", "3/4/2026|5:06:07 PM"],
  ["%D|%F|%T|%R|%r|%v", "03/04/26|2026-03-04|17:06:07|17:06|05:06:07 PM| 4-MAR-2026", "%D|%F|%T|%R|%r|%v"], // not in liquidjs
  ["%V|%G|%g", "10|2026|26", "%V|%G|%g"], // ISO 8601 week and its year: not in liquidjs
  ["[%Z]", "[]", "[+0900]"], // a fixed offset has no zone name in Ruby
  ["%::z|%:::z", "+09:00:00|+09", "+09:00|+09:00"],
  ["%6L|%1L", "123000|1", "000123|123"], // Ruby: the width is the number of digits
  ["%10z", "+000000900", "00000+0900"], // liquidjs pads before the sign
  ["%5h|%_5h", "  Mar|  Mar", "00Mar|  Mar"], // liquidjs pads %h (not %b) with zeros
  ["%q", "%q", "th"], // liquidjs's own ordinal suffix; not Ruby's
  ["%Ez|%Oa|%Ed", "%Ez|%Oa|%Ed", "+0900|Wed|04"], // Ruby's E and O apply to some conversions only
  ["%:y|%::d", "%:y|%::d", "26|04"], // colons belong to %z
  ["%#c", "Wed Mar  4 17:06:07 2026", "3/4/2026, 5:06:07 pm"],
  // Not deviations: pinned since kizuna changed to them (Ruby's Time has no %+).
  ["%+|%Ey|%OH|%-Ey", "%+|26|17|26", "%+|26|17|26"],
  ["%5%|%3n", "    %|  \n", "0000%|00\n"], // liquidjs pads these with zeros
];

test("liquid date differential: the documented strftime deviations hold on both engines", () => {
  const data = { t: "2026-03-04T17:06:07.123+09:00" };
  for (const [f, kz, lj] of DEVIATIONS) {
    assert.equal(kizuna("{{ t | date: f }}", { ...data, f }).out, kz, `${f} in kizuna`);
    assert.equal(liquidjs("{{ t | date: f }}", { ...data, f }).out, lj, `${f} in liquidjs`);
  }
  // Below the millisecond: Ruby keeps the digits, a JavaScript Date cannot.
  const micro = { t: "2026-03-04T17:06:07.123456+09:00", f: "%N|%6N" };
  assert.equal(kizuna("{{ t | date: f }}", micro).out, "123456000|123456");
  assert.equal(liquidjs("{{ t | date: f }}", micro).out, "123000000|123000");
});
