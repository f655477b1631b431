// Differential test of kizuna's time operators against an independent oracle written from the
// README ("Conditions: JsonLogic plus marketing operators": timestamps, "The fine print", the
// operator table and the choices below it), not from src/logic/.
//
// From a fixed seed it draws instants across 1970–2100 (month ends, Feb 29, year boundaries,
// fractional seconds), writes them in every form the README accepts or should refuse (RFC 3339
// with `Z`/`+hh:mm`/`-hh:mm`, lower-case `t`/`z`, a space for `T`, leap second `:60`, epoch
// milliseconds, bare dates, and invalid stamps: Feb 30, hour 24, month 13, a number in the
// refused 10^8–10^11 band…), draws a `now`, a config time zone (fixed offsets from -12:00 to
// +14:00 and the README's named zones) and ISO 8601 durations, and evaluates every time operator
// in each of its documented forms (`{"op": x}` and `{"op": [x]}`, weekday & co. with and without
// an argument, a time operand that is itself `now`/`ago`/`from_now`), as a literal (checked at
// compile time) or read from the data (checked at run time); and `<`, `<=`, `==`… against
// `before`/`after` on one instant written at two offsets. Zone-dependent rules run through `new Engine({timeZone}).decide(context)` (a segment
// `{"===": [rule, expected]}`, with the expected value in the data so no literal check applies;
// `{"throw": rule}` reads kizuna's own value when they differ); the others also through
// `evaluate` (whose zone is the default +09:00).
//
// The oracle computes instants exactly (BigInt picoseconds), days and hours as the README's
// division (checked, where the difference fits a double, against the nearest double to the exact
// quotient), and wall-clock fields with the zone's one offset (README: a named zone
// has no daylight saving time, so one offset; Intl gives it). Results compare exactly: numbers,
// strings, booleans, null, and errors as errors (compile-time refusal vs. evaluation error).
//
// TIME_FUZZ_CASES (default 3000, about a second) and TIME_FUZZ_SEED (default 20261129) change the
// run; a failure prints the case number, rule, data, now and zone, so it can be replayed
// (TIME_FUZZ_DUMP=file writes them all). Three more tests pin the README's choices one by one, the
// named zones against Intl's offsets, and the spellings of the context's `now`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { Engine, evaluate } from "../../pkg/node.js";
import { mulberry32 } from "../../benches/users.mjs";

const CASES = Number(process.env.TIME_FUZZ_CASES ?? 3000);
const SEED = Number(process.env.TIME_FUZZ_SEED ?? 20261129);

// ---- the oracle: calendar arithmetic ----------------------------------------------------------
const PS = 1_000_000_000_000n; // picoseconds per second
const DAY_PS = 86_400n * PS;
const isLeap = (y) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const monthDays = (y, m) => [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
function daysFromCivil(y, m, d) {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
function civilFromDays(z) {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return { y: era * 400 + yoe + (m <= 2 ? 1 : 0), m, d };
}
const floorDiv = (a, b) => (a >= 0n ? a / b : -((-a + b - 1n) / b));

// The wall clock of an instant (ps since the epoch) at a UTC offset in minutes.
function wall(ps, offMin) {
  const local = ps + BigInt(offMin) * 60n * PS;
  const day = floorDiv(local, DAY_PS);
  const rest = local - day * DAY_PS;
  const secs = Number(rest / PS);
  const { y, m, d } = civilFromDays(Number(day));
  return { y, m, d, day: Number(day), hh: Math.floor(secs / 3600), mi: Math.floor(secs / 60) % 60, ss: secs % 60, frac: rest % PS };
}
const pad = (n, w = 2) => String(n).padStart(w, "0");
const offsetText = (offMin) => `${offMin < 0 ? "-" : "+"}${pad(Math.floor(Math.abs(offMin) / 60))}:${pad(Math.abs(offMin) % 60)}`;
// An instant as RFC 3339 in a zone; the fraction with as many digits as it needs (README: "now in
// the config's time zone: "2026-11-27T20:00:00+09:00"").
function rfc3339(ps, offMin) {
  const w = wall(ps, offMin);
  let frac = "";
  // README: the fraction of a second only when there is one, in groups of 3 digits
  if (w.frac !== 0n) {
    const digits = String(w.frac).padStart(12, "0").replace(/0+$/, "");
    frac = "." + digits.padEnd(Math.ceil(digits.length / 3) * 3, "0");
  }
  return `${pad(w.y, 4)}-${pad(w.m)}-${pad(w.d)}T${pad(w.hh)}:${pad(w.mi)}:${pad(w.ss)}${frac}${offsetText(offMin)}`;
}

// The double nearest to n / d (BigInts, d > 0), ties to even: what "days (hours) from the
// timestamp to now, fractional" is when computed exactly.
function quotient(n, d) {
  if (n === 0n) return 0;
  const neg = n < 0n;
  if (neg) n = -n;
  const bits = (x) => x.toString(2).length;
  const shift = 66 - (bits(n) - bits(d)); // a quotient of ~66 bits, then a sticky bit
  const num = shift >= 0 ? n << BigInt(shift) : n;
  const den = shift >= 0 ? d : d << BigInt(-shift);
  const q = ((num / den) << 1n) | (num % den === 0n ? 0n : 1n);
  const v = Number(q) / 2 ** (shift + 1);
  return neg ? -v : v;
}

// ---- the oracle: reading timestamps and durations (README, Conditions) -------------------------
class Refused extends Error {} // an input the README says is refused: invalid_timestamp / invalid_duration

// A timestamp value → ps since the epoch; null for null (a missing timestamp). `offMin`: the
// config's zone, for bare dates and date-times without an offset. README: RFC 3339 (`T` and `Z`
// may be lower case, a space may replace `T`, as RFC 3339 section 5.6 allows), also without
// seconds or without an offset (the wall clock in the config's zone, as a bare date); a fraction
// of a second counts to the nanosecond (further digits are ignored); a leap second `:60` is the
// start of the next second; a bare date; or whole epoch milliseconds in the years 0000–9999.
const MS_MIN = -62_167_046_400_000; // 0000-01-02T00:00:00Z: in the year 0000 at every offset
const MS_MAX = 253_402_041_600_000; // 9999-12-30T00:00:00Z
function instant(v, offMin) {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") {
    // README: a number from 10^8 to 10^11 is refused (seconds written for milliseconds).
    if (v >= 1e8 && v < 1e11) throw new Refused("seconds for milliseconds");
    if (!Number.isInteger(v) || v < MS_MIN || v > MS_MAX) throw new Refused("not whole epoch milliseconds in 0000–9999");
    return BigInt(v) * 1_000_000_000n;
  }
  if (typeof v !== "string") throw new Refused("not a timestamp");
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (m) {
    const [y, mo, d] = [+m[1], +m[2], +m[3]];
    if (mo < 1 || mo > 12 || d < 1 || d > monthDays(y, mo)) throw new Refused("no such date");
    return BigInt(daysFromCivil(y, mo, d)) * DAY_PS - BigInt(offMin) * 60n * PS;
  }
  m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})?$/.exec(v);
  if (!m) throw new Refused("not RFC 3339");
  const [y, mo, d, hh, mi] = m.slice(1, 6).map(Number);
  const ss = m[6] === undefined ? 0 : +m[6];
  if (mo < 1 || mo > 12 || d < 1 || d > monthDays(y, mo) || hh > 23 || mi > 59 || ss > 60) throw new Refused("out of range");
  let off = offMin;
  if (m[8] !== undefined) {
    off = 0;
    if (!/^[Zz]$/.test(m[8])) {
      const oh = +m[8].slice(1, 3);
      const om = +m[8].slice(4, 6);
      if (oh > 23 || om > 59) throw new Refused("offset out of range");
      off = (m[8][0] === "-" ? -1 : 1) * (oh * 60 + om);
    }
  }
  const frac = m[7] ? BigInt((m[7].slice(0, 9) + "000000000000").slice(0, 12)) : 0n;
  const local = BigInt(daysFromCivil(y, mo, d)) * DAY_PS + BigInt(hh * 3600 + mi * 60 + ss) * PS + frac;
  return local - BigInt(off) * 60n * PS;
}

// ISO 8601 duration (README: P30D, PT12H, P2W, P1Y2M10DT2H30M; years and months are calendar
// months; a decimal fraction, `.` or `,`, of up to 9 digits on the last component when it is
// weeks or smaller; at most 10,000 years). → {months, ps}.
function duration(v) {
  if (typeof v !== "string") throw new Refused("not a duration");
  const num = "(\\d{1,12})";
  const last = "(\\d{1,12}(?:[.,]\\d{1,9})?)";
  const m = new RegExp(`^P(?:${num}Y)?(?:${num}M)?(?:${last}W)?(?:${last}D)?(?:T(?:${last}H)?(?:${last}M)?(?:${last}S)?)?$`).exec(v);
  if (!m || v === "P" || v.endsWith("T")) throw new Refused("not ISO 8601");
  // a fraction only on the last component written
  const written = m.slice(1).map((x, i) => [x, i]).filter(([x]) => x !== undefined);
  if (written.slice(0, -1).some(([x]) => /[.,]/.test(x))) throw new Refused("fraction not last");
  const NS = [0n, 0n, 7n * 86_400n, 86_400n, 3_600n, 60n, 1n].map((s) => s * 1_000_000_000n);
  let months = 0n, ns = 0n;
  for (const [x, i] of written) {
    if (i < 2) months += BigInt(x) * (i === 0 ? 12n : 1n);
    else {
      const [int, frac = ""] = x.split(/[.,]/);
      ns += BigInt(int) * NS[i] + (frac ? (BigInt(frac) * NS[i]) / 10n ** BigInt(frac.length) : 0n);
    }
  }
  if (months > 120_000n || ns > 10_000n * 366n * 86_400n * 1_000_000_000n) throw new Refused("over 10,000 years");
  return { months: Number(months), ps: ns * 1000n };
}

// Calendar months added to an instant's wall clock in the zone, the day kept or moved back to the
// month's last (2026-01-31 + P1M = 2026-02-28).
function addMonths(ps, offMin, months) {
  if (months === 0) return ps;
  const w = wall(ps, offMin);
  const total = w.y * 12 + (w.m - 1) + months;
  const y = Math.floor(total / 12);
  const mo = (((total % 12) + 12) % 12) + 1;
  const d = Math.min(w.d, monthDays(y, mo));
  const local = BigInt(daysFromCivil(y, mo, d)) * DAY_PS + BigInt(w.hh * 3600 + w.mi * 60 + w.ss) * PS + w.frac;
  return local - BigInt(offMin) * 60n * PS;
}

// README: days (hours) since are the difference in nanoseconds (fractions of a second past the
// ninth digit ignored) as a double, divided by the nanoseconds of a day (hour): the nearest
// double to the exact quotient whenever that difference is exact in a double (under 104 days,
// or whole seconds up to 146 years), else within an ulp of it.
function since(from, to, unit) {
  const ns = (ps) => floorDiv(ps, 1000n);
  const diff = ns(to) - ns(from);
  const v = Number(diff) / (unit * 1e9);
  if (diff <= 2n ** 53n && diff >= -(2n ** 53n)) assert.equal(v, quotient(diff, BigInt(unit) * 1_000_000_000n), "the oracle's own nearest double");
  return v;
}
// ago / from_now: an instant written outside the years 0000–9999 (at the zone) is an evaluation
// error (RFC 3339 has four-digit years).
function inYears(ps, off) {
  const y = wall(ps, off).y;
  if (y < 0 || y > 9999) throw new Refused("outside 0000–9999");
  return ps;
}

// ---- the oracle: the operators -----------------------------------------------------------------
// Each: (args evaluated, env) → value, or throws Refused (an evaluation error). `env`: {now (ps),
// nowText, off (minutes)}.
const isoWeekday = (day) => ((((day + 3) % 7) + 7) % 7) + 1; // 1970-01-01 was a Thursday
// A field of the wall clock of now or of the argument (null for a missing one: not documented).
function ofWall(args, e, field) {
  const i = args.length ? instant(args[0], e.off) : e.now;
  return i === null ? null : field(wall(i, e.off));
}
// Comparing instants: null when one is missing (not documented).
const anyNull = (xs) => xs.some((x) => x === null);
const OPS = {
  days_since: ([t], e) => (instant(t, e.off) === null ? null : since(instant(t, e.off), e.now, 86_400)),
  hours_since: ([t], e) => (instant(t, e.off) === null ? null : since(instant(t, e.off), e.now, 3_600)),
  calendar_days_since: ([t], e) => {
    const i = instant(t, e.off);
    return i === null ? null : wall(e.now, e.off).day - wall(i, e.off).day;
  },
  before: (xs, e) => ((xs = xs.map((x) => instant(x, e.off))), anyNull(xs) ? null : xs[0] < xs[1]),
  after: (xs, e) => ((xs = xs.map((x) => instant(x, e.off))), anyNull(xs) ? null : xs[0] > xs[1]),
  time_between: (xs, e) => ((xs = xs.map((x) => instant(x, e.off))), anyNull(xs) ? null : xs[1] <= xs[0] && xs[0] <= xs[2]),
  weekday: (args, e) => ofWall(args, e, (w) => isoWeekday(w.day)),
  time_of_day: (args, e) => ofWall(args, e, (w) => `${pad(w.hh)}:${pad(w.mi)}`),
  month: (args, e) => ofWall(args, e, (w) => w.m),
  day_of_month: (args, e) => ofWall(args, e, (w) => w.d),
  now: (_, e) => rfc3339(e.now, e.off),
  ago: ([d], e) => {
    const { months, ps } = duration(d);
    return rfc3339(inYears(addMonths(e.now, e.off, -months) - ps, e.off), e.off);
  },
  from_now: ([d], e) => {
    const { months, ps } = duration(d);
    return rfc3339(inYears(addMonths(e.now, e.off, months) + ps, e.off), e.off);
  },
  duration: ([d]) => {
    const { months, ps } = duration(d);
    if (months !== 0) throw new Refused("years and months are not a fixed length");
    return Number(ps / 1000n) / 1e9; // nanoseconds, in a double, / 10^9
  },
};
// Which arguments are timestamps (checked at compile time when literal) and which durations.
const ARG_KIND = {
  days_since: "t", hours_since: "t", calendar_days_since: "t", before: "tt", after: "tt",
  time_between: "ttt", weekday: "t", time_of_day: "t", month: "t", day_of_month: "t",
  now: "", ago: "d", from_now: "d", duration: "d",
};

// JsonLogic comparisons of two strings: JavaScript's order (README: "Two strings compare in
// JavaScript's order"), `==` as equality of the texts.
const CMP = {
  "<": (a, b) => a < b, "<=": (a, b) => a <= b, ">": (a, b) => a > b, ">=": (a, b) => a >= b,
  "==": (a, b) => a === b, "!=": (a, b) => a !== b,
};

// ---- zones ----------------------------------------------------------------------------------
// A named zone's one offset (README: zones without daylight saving time), from Intl today.
function namedOffset(name) {
  const at = (ms) => {
    const part = new Intl.DateTimeFormat("en", { timeZone: name, timeZoneName: "longOffset" })
      .formatToParts(ms).find((p) => p.type === "timeZoneName").value; // "GMT+05:45", "GMT"
    const m = /GMT([+-])(\d\d):(\d\d)/.exec(part);
    return m ? (m[1] === "-" ? -1 : 1) * (+m[2] * 60 + +m[3]) : 0;
  };
  const jan = at(Date.UTC(2026, 0, 15));
  return jan === at(Date.UTC(2026, 6, 15)) ? jan : undefined; // undefined: has DST, refused
}
const FIXED = ["+09:00", "+00:00", "-05:00", "+05:45", "+14:00", "-12:00", "+05:30", "-09:30", "+12:45", "-03:00"];
// README (Conditions): the zones kizuna knows by name.
const README_ZONES = [
  "UTC", "GMT", "Etc/UTC", "Etc/GMT", "Asia/Tokyo", "Japan", "Asia/Seoul", "Asia/Taipei", "Asia/Shanghai",
  "Asia/Hong_Kong", "Asia/Singapore", "Asia/Manila", "Asia/Kuala_Lumpur", "Australia/Perth", "Asia/Bangkok",
  "Asia/Jakarta", "Asia/Ho_Chi_Minh", "Asia/Saigon", "Asia/Kolkata", "Asia/Calcutta", "Asia/Dubai",
];
const NAMED = README_ZONES;
const zoneOffset = (z) => (/^[+-]\d\d:\d\d$/.test(z) ? (z[0] === "-" ? -1 : 1) * (+z.slice(1, 3) * 60 + +z.slice(4)) : namedOffset(z));

// ---- generating cases -------------------------------------------------------------------------
const Y1970 = daysFromCivil(1970, 1, 1);
const Y2100 = daysFromCivil(2100, 12, 31);
function generator(rand) {
  const int = (n) => Math.floor(rand() * n);
  const pick = (xs) => xs[int(xs.length)];
  const chance = (p) => rand() < p;

  // A wall-clock day: uniform 1970–2100, or a notable one.
  function day() {
    if (chance(0.5)) return Y1970 + int(Y2100 - Y1970);
    const y = 1970 + int(131);
    const special = pick([[2, 28], [2, 29], [3, 1], [12, 31], [1, 1], [1, 31], [4, 30], [6, 30], [2, 1]]);
    const y2 = special[1] === 29 ? y - (y % 4) : y; // a leap year (2100 is not: Feb 29 refused there)
    if (special[1] === 29 && !isLeap(y2)) return daysFromCivil(y2, 2, 28);
    return daysFromCivil(y2, special[0], special[1]);
  }
  const secondOfDay = () => (chance(0.2) ? pick([0, 1, 59, 86399, 86340, 43200, 32400, 54000]) : int(86400));
  const offMin = () => (chance(0.6) ? zoneOffset(pick(FIXED)) : pick([-720, -60, 0, 60, 330, 345, 840, -570, 525]));
  function fraction() {
    const r = rand();
    if (r < 0.55) return "";
    const digits = r < 0.95 ? 1 + int(9) : 10 + int(3);
    let s = "";
    for (let i = 0; i < digits; i++) s += int(10);
    return "." + s;
  }
  // A timestamp as the data or a rule may hold it: [value, note].
  function stamp(nowPs, zoneOff) {
    const r = rand();
    // near now, so days_since is small and calendar days straddle midnight
    const near = chance(0.4);
    const localDay = near ? wall(nowPs, zoneOff).day - int(40) + 5 : day();
    const sod = secondOfDay();
    if (r < 0.1) {
      // epoch milliseconds (LINE's event.timestamp)
      const ms = (localDay * 86400 + sod) * 1000 + int(1000);
      return chance(0.15) ? pick([1e8, 1e11 - 1, 1e11, 99_999_999, 1_700_000_000, -86_400_000, 0, ms + 0.5]) : ms;
    }
    if (r < 0.2) {
      const { y, m, d } = civilFromDays(localDay);
      return `${pad(y, 4)}-${pad(m)}-${pad(d)}`; // bare date
    }
    if (r < 0.27) return invalidStamp();
    const off = offMin();
    // the wall clock at `off` of the chosen day and second
    const { y, m, d } = civilFromDays(localDay);
    const hh = Math.floor(sod / 3600), mi = Math.floor(sod / 60) % 60;
    let ss = sod % 60;
    if (chance(0.03)) ss = 60; // leap second
    const sep = chance(0.85) ? "T" : pick(["t", " "]);
    const z = off === 0 && chance(0.5) ? pick(["Z", "z"]) : chance(0.02) ? "-00:00" : offsetText(off);
    return `${pad(y, 4)}-${pad(m)}-${pad(d)}${sep}${pad(hh)}:${pad(mi)}:${pad(ss)}${fraction()}${z}`;
  }
  const invalidStamp = () => pick([
    "2026-02-30T10:00:00+09:00", "2025-02-29T00:00:00Z", "2026-11-27T24:00:00+09:00", "2026-13-01T00:00:00Z",
    "2026-11-27T10:60:00Z", "2026-11-27T10:00:61Z", "2026-11-27T10:00:00", "2026-11-27T10:00:00+24:00",
    "2026-11-27T10:00:00+09:60", "2026-11-27T10:00Z", "2026-1-5", "2026-11-31", "2100-02-29", "27/11/2026",
    "2026-11-27T10:00:00+0900", "2026-11-27T10:00:00.Z", "2026-11-27T10:00:00,5Z", "", "now", true, [], {},
    "2026-11-27T10:00:00+09:00 ", " 2026-11-27", "2026-11-27T10:00:00 +09:00", "+2026-11-27T10:00:00Z",
  ]);
  // `now`: a valid RFC 3339 instant 1970–2100, in any offset.
  function now() {
    const ps = (BigInt(day()) * 86400n + BigInt(secondOfDay())) * PS + (chance(0.3) ? BigInt(int(1000)) * 1_000_000_000n : 0n);
    const off = offMin();
    let text = rfc3339(ps, off);
    // RFC 3339's other spellings: lower-case t/z, a space, a leap second
    if (chance(0.05)) text = text.replace("T", pick(["t", " "]));
    if (chance(0.05) && off === 0) text = text.replace("+00:00", pick(["Z", "z"]));
    if (chance(0.03)) text = text.replace(/:(\d\d)(?=[.+-])/, ":60");
    return { ps: instant(text, 0), text };
  }
  function durationText() {
    if (chance(0.1)) return pick(["P", "PT", "P1DT", "30D", "P-1D", "P1.5D", "PT1.5H", "p1d", "P1D2H", "P1H", "PT1D", "P1W2D", "P1M1Y", "", "-P1D", "P0D", "PT0S", "P1Y", "P1M", "P13M", 30]);
    const parts = [];
    const n = () => (chance(0.2) ? int(1000) : int(40));
    if (chance(0.15)) return `P${n()}W`;
    let s = "P";
    if (chance(0.15)) s += `${int(3)}Y`;
    if (chance(0.2)) s += `${int(14)}M`;
    if (chance(0.6)) s += `${n()}D`;
    let t = "";
    if (chance(0.4)) t += `${n()}H`;
    if (chance(0.25)) t += `${n()}M`;
    if (chance(0.2)) t += `${n()}S`;
    if (t) s += "T" + t;
    if (s === "P") s += `${n()}D`;
    parts.push(s);
    return s;
  }
  return { int, pick, chance, stamp, now, durationText, offMin };
}

// ---- running kizuna ---------------------------------------------------------------------------
// A rule's outcome: {value} | {error: "compile" | "eval", code, message}.
function viaEvaluate(rule, data, nowText) {
  try {
    return { value: evaluate(JSON.stringify(rule), JSON.stringify(data), nowText) };
  } catch (e) {
    // compile-time and evaluation errors both throw here (a timestamp's is invalid_timestamp
    // either way): the Engine tells them apart
    return { error: "any", code: e.code, message: e.message };
  }
}
// Through an Engine in `zone`: the data under user.attributes (the rule reads it there).
function viaEngine(rule, data, nowText, zone, expected) {
  const context = { version: 1, now: nowText, user: { userId: "U1", attributes: { ...data, expected } } };
  let engine;
  try {
    engine = new Engine({ version: 1, timeZone: zone, segments: [{ id: "eq", when: { "===": [rule, { var: "user.attributes.expected" }] } }] });
  } catch (e) {
    return { error: "compile", code: e.code, message: e.message };
  }
  const d = engine.decide(context);
  engine.free();
  if (d.errors?.length) return { error: "eval", code: d.errors[0].code, message: d.errors[0].message };
  return { matches: d.segments.includes("eq") };
}
// kizuna's own value in a zone, for the report: a segment that throws it.
function engineValue(rule, data, nowText, zone) {
  const context = { version: 1, now: nowText, user: { userId: "U1", attributes: data } };
  try {
    const engine = new Engine({ version: 1, timeZone: zone, segments: [{ id: "v", when: { throw: [rule] } }] });
    const d = engine.decide(context);
    return d.errors?.[0]?.message ?? JSON.stringify(d);
  } catch (e) {
    return `${e.code}: ${e.message}`;
  }
}

// Rewrites `{"var": "x"}` to `{"var": "user.attributes.x"}` for the Engine.
const inContext = (rule) =>
  Array.isArray(rule) ? rule.map(inContext)
  : rule !== null && typeof rule === "object"
    ? Object.fromEntries(Object.entries(rule).map(([k, v]) => [k, k === "var" ? `user.attributes.${v}` : inContext(v)]))
    : rule;

// A rule's outcome: {value} | {error: "compile" | "eval"}. Arguments are literals, `{"var": k}`
// (read from `data`) or time operators (`{"ago": "P3D"}`, `{"now": []}`).
function oracle(rule, data, env) {
  const compileErrors = [];
  // README: "Literal timestamps and durations are checked at compile time"; a duration must be a
  // literal (the operator table writes them so; kizuna refuses a computed one).
  const list = (x) => (Array.isArray(x) ? x : [x]); // `{"ago": "P30D"}` is `{"ago": ["P30D"]}`
  const check = (op, args) => {
    args = list(args);
    ARG_KIND[op].split("").forEach((kind, i) => {
      const a = args[i];
      if (i >= args.length) return;
      if (a !== null && typeof a === "object" && !Array.isArray(a) && Object.keys(a).length === 1) {
        const [k] = Object.keys(a);
        if (kind === "d") compileErrors.push("computed duration");
        else if (k !== "var") check(k, a[k]);
        return;
      }
      try {
        if (kind === "t") instant(a, env.off);
        else if (duration(a).months !== 0 && op === "duration") throw new Refused("months");
      } catch (e) {
        if (!(e instanceof Refused)) throw e;
        compileErrors.push(e.message);
      }
    });
  };
  const [op] = Object.keys(rule);
  check(op, rule[op]);
  if (compileErrors.length) return { error: "compile" };
  const run = (r) => {
    const [o] = Object.keys(r);
    if (o === "var") return data[r.var] ?? null;
    return OPS[o](list(r[o]).map((a) => (a !== null && typeof a === "object" && !Array.isArray(a) && Object.keys(a).length === 1 ? run(a) : a)), env);
  };
  try {
    return { value: run(rule) };
  } catch (e) {
    if (e instanceof Refused) return { error: "eval" };
    throw e;
  }
}

const show = (r) => (r.error ? `error (${r.error}${r.code ? ` ${r.code}: ${r.message}` : ""})` : JSON.stringify(r.value));

test(`kizuna's time operators agree with the README's oracle on ${CASES} random cases (seed ${SEED})`, () => {
  const g = generator(mulberry32(SEED));
  const failures = [];
  const n = { cases: 0, values: 0, compile: 0, eval: 0, engine: 0 };
  const ops = Object.keys(OPS);
  for (let i = 0; i < CASES; i++) {
    const zone = g.chance(0.7) ? g.pick(FIXED) : g.pick(NAMED);
    const off = zoneOffset(zone);
    const now = g.now();
    const env = { now: now.ps, off };
    const op = ops[i % (ops.length + 1)] ?? "compare";
    if (op === "compare") {
      // two timestamps of the same instant (or a second or a millisecond apart) at different
      // offsets: `<`, `<=`, `==`… compare their texts (README: strings compare in JavaScript's
      // order), `before` and `after` their instants
      const t = now.ps - BigInt(g.int(86400 * 400)) * PS + BigInt(g.int(2)) * 1_000_000_000n;
      const a0 = rfc3339(t, g.offMin());
      const a1 = rfc3339(t + g.pick([0n, 0n, PS, -PS, 1_000_000_000n]), g.offMin());
      const data = { a0, a1 };
      const cmp = g.pick([...Object.keys(CMP), "before", "after"]);
      const rule = { [cmp]: [{ var: "a0" }, { var: "a1" }] };
      const expected = CMP[cmp] ? { value: CMP[cmp](a0, a1) } : oracle(rule, data, env);
      const k = viaEngine(inContext(rule), data, now.text, zone, expected.value);
      if (k.error || !k.matches) failures.push(`#${i} zone ${zone} now ${now.text}\n  rule ${JSON.stringify(rule)}\n  data ${JSON.stringify(data)}\n  kizuna ${k.error ? show(k) : "differs"}\n  oracle ${show(expected)}`);
      n.cases++;
      n.values++;
      continue;
    }
    const kinds = ARG_KIND[op];
    const data = {};
    // weekday, time_of_day, month, day_of_month also take no argument (of now)
    const argc = ["weekday", "time_of_day", "month", "day_of_month"].includes(op) && g.chance(0.25) ? 0 : kinds.length;
    const args = [];
    for (let a = 0; a < argc; a++) {
      if (kinds[a] === "t" && g.chance(0.06)) {
        // another time operator's result: now, or now shifted by a duration
        args.push(g.chance(0.3) ? { now: [] } : { [g.pick(["ago", "from_now"])]: g.chance(0.5) ? g.durationText() : [g.durationText()] });
        continue;
      }
      const v = kinds[a] === "t" ? (g.chance(0.05) ? null : g.stamp(now.ps, off)) : g.durationText();
      if (g.chance(kinds[a] === "d" ? 0.05 : 0.5) || v === null) {
        data[`a${a}`] = v;
        args.push({ var: `a${a}` });
      } else args.push(v);
    }
    // README writes one-argument operators both ways: {"ago": "P90D"}, {"days_since": [t]}
    let rule = { [op]: args.length === 1 && !Array.isArray(args[0]) && g.chance(0.3) ? args[0] : args };
    let expected = oracle(rule, data, env);
    // sometimes compare two timestamps as strings (README: strings compare in JavaScript's order)
    if (g.chance(0.04) && expected.value !== undefined && typeof expected.value === "string" && op !== "time_of_day") {
      const other = rfc3339(now.ps + BigInt(g.int(3) - 1) * PS, g.offMin());
      const cmp = g.pick(Object.keys(CMP));
      rule = { [cmp]: [rule, other] };
      expected = { value: CMP[cmp](expected.value, other) };
    }
    n.cases++;
    const fail = (k) => failures.push(
      `#${i} zone ${zone} now ${now.text}\n  rule ${JSON.stringify(rule)}\n  data ${JSON.stringify(data)}\n  kizuna ${k}\n  oracle ${show(expected)}`);
    // The default zone's rules also through `evaluate`.
    if (off === 540) {
      const k = viaEvaluate(rule, data, now.text);
      const same = expected.error ? k.error !== undefined : k.error === undefined && Object.is(k.value, expected.value);
      if (!same) fail(`${show(k)} (evaluate)`);
    }
    n.engine++;
    const k = viaEngine(inContext(rule), data, now.text, zone, expected.value ?? null);
    const same = expected.error ? k.error === expected.error : k.error === undefined && k.matches;
    if (!same) fail(k.error ? show(k) : `${engineValue(inContext(rule), data, now.text, zone)} (Engine)`);
    if (expected.error) n[expected.error]++;
    else n.values++;
  }
  console.log(`seed ${SEED}: ${n.cases} cases (${n.values} values, ${n.compile} compile-time refusals, ${n.eval} evaluation errors expected), ${failures.length} disagreements`);
  if (process.env.TIME_FUZZ_DUMP) writeFileSync(process.env.TIME_FUZZ_DUMP, failures.join("\n"));
  assert.deepEqual(failures.slice(0, 15), [], `${failures.length} disagreements (TIME_FUZZ_SEED=${SEED} TIME_FUZZ_CASES=${CASES} replays them)`);
});

// The README's choices, pinned one by one (each also what the oracle says, where it can say it).
test("the README's time choices, pinned", () => {
  const NOW = "2026-11-27T10:00:00+09:00"; // a Friday
  const cases = [
    // [rule, data, now, zone, expected value or "compile" / "eval"]
    // days and hours: fractional, negative for the future, null when missing; bare dates are
    // midnight in the config's zone; calendar days count dates (README's 11/20 → 12/10 example)
    [{ days_since: [{ var: "t" }] }, { t: "2026-11-20" }, "2026-11-27T00:00:00+09:00", "+09:00", 7],
    [{ days_since: [{ var: "t" }] }, { t: "2026-11-20" }, "2026-11-27T00:00:00+09:00", "-05:00", 6.416666666666667],
    [{ hours_since: [{ var: "t" }] }, { t: "2026-11-27T16:00:00+09:00" }, NOW, "+09:00", -6],
    [{ hours_since: [{ var: "t" }] }, {}, NOW, "+09:00", null],
    [{ calendar_days_since: [{ var: "t" }] }, { t: "2026-11-20T10:00:00+09:00" }, "2026-12-10T09:00:00+09:00", "Asia/Tokyo", 20],
    [{ days_since: [{ var: "t" }] }, { t: "2026-11-20T10:00:00+09:00" }, "2026-12-10T09:00:00+09:00", "Asia/Tokyo", 19.958333333333332],
    [{ calendar_days_since: [{ var: "t" }] }, { t: "2026-11-26T23:59:59+09:00" }, "2026-11-27T00:00:00+09:00", "+09:00", 1],
    [{ calendar_days_since: [{ var: "t" }] }, { t: "2026-11-26T23:59:59+09:00" }, "2026-11-27T00:00:00+09:00", "UTC", 0],
    // a duration literal compared with days_since is refused; so is a computed duration
    [{ "<": [{ days_since: [{ var: "t" }] }, "P7D"] }, {}, NOW, "+09:00", "compile"],
    [{ ago: { var: "d" } }, { d: "P1D" }, NOW, "+09:00", "compile"],
    // weekday, month, day_of_month: literals they can never equal are refused
    [{ "==": [{ weekday: [] }, 0] }, {}, NOW, "+09:00", "compile"],
    [{ "==": [{ weekday: [] }, "Sat"] }, {}, NOW, "+09:00", "compile"],
    [{ in: [{ weekday: [] }, ["6", 7]] }, {}, NOW, "+09:00", "compile"],
    [{ in: [{ weekday: [] }, [5, 6]] }, {}, NOW, "+09:00", true],
    [{ "==": [{ month: [] }, 13] }, {}, NOW, "+09:00", "compile"],
    [{ "==": [{ day_of_month: [] }, 0] }, {}, NOW, "+09:00", "compile"],
    [{ weekday: [] }, {}, "2026-11-27T00:30:00+09:00", "-05:00", 4],
    [{ weekday: [{ var: "t" }] }, {}, NOW, "+09:00", null],
    [{ month: [{ var: "t" }] }, {}, NOW, "+09:00", null],
    [{ before: [{ var: "t" }, "2026-01-01"] }, {}, NOW, "+09:00", null],
    [{ time_between: [{ var: "t" }, "2026-01-01", "2026-12-31"] }, {}, NOW, "+09:00", null],
    // time_of_day bounds must be "HH:MM"
    [{ "<=": ["9:00", { time_of_day: [] }, "18:00"] }, {}, NOW, "+09:00", "compile"],
    [{ "<=": ["09:00", { time_of_day: [] }, "18:00"] }, {}, NOW, "+09:00", true],
    [{ "<": ["22:00", { time_of_day: [] }, "24:00"] }, {}, NOW, "+09:00", false],
    // durations: ISO 8601, fixed lengths in seconds, calendar months refused by `duration`
    [{ duration: "P2W" }, {}, NOW, "+09:00", 1209600],
    [{ duration: "PT36H" }, {}, NOW, "+09:00", 129600],
    [{ duration: "P1DT0.5S" }, {}, NOW, "+09:00", 86400.5],
    [{ duration: "PT1,5H" }, {}, NOW, "+09:00", 5400],
    [{ duration: "P1.5D" }, {}, NOW, "+09:00", 129600],
    [{ duration: "P1M" }, {}, NOW, "+09:00", "compile"],
    [{ duration: "P1Y" }, {}, NOW, "+09:00", "compile"],
    [{ duration: "P1.5M" }, {}, NOW, "+09:00", "compile"],
    [{ duration: "PT1.5H30M" }, {}, NOW, "+09:00", "compile"],
    [{ duration: "p1d" }, {}, NOW, "+09:00", "compile"],
    [{ duration: "P10001Y" }, {}, NOW, "+09:00", "compile"],
    [{ duration: "PT1000000000000S" }, {}, NOW, "+09:00", "compile"],
    [{ duration: "PT315000000000S" }, {}, NOW, "+09:00", 315000000000],
    [{ duration: "P1W2D" }, {}, NOW, "+09:00", 777600],
    [{ duration: "PT0.000000001S" }, {}, NOW, "+09:00", 1e-9],
    [{ duration: "PT0.0000000001S" }, {}, NOW, "+09:00", "compile"],
    // calendar months on the config zone's wall clock, the day clamped to the month's end
    [{ ago: "P1M" }, {}, "2026-03-31T10:00:00+09:00", "+09:00", "2026-02-28T10:00:00+09:00"],
    [{ ago: "P1M" }, {}, "2026-03-01T00:30:00+09:00", "+09:00", "2026-02-01T00:30:00+09:00"],
    [{ from_now: "P1Y" }, {}, "2028-02-29T12:00:00Z", "UTC", "2029-02-28T12:00:00+00:00"],
    [{ ago: "P2026Y" }, {}, NOW, "+09:00", "2026-11-27T10:00:00+09:00".replace("2026", "0000")],
    [{ ago: "P2027Y" }, {}, NOW, "+09:00", "eval"],
    // now: in the config's zone, a fraction in groups of 3 digits
    [{ now: [] }, {}, "2026-11-27T01:00:00.5Z", "+09:00", "2026-11-27T10:00:00.500+09:00"],
    [{ now: [] }, {}, "2026-11-27T01:00:00.1234z", "UTC", "2026-11-27T01:00:00.123400+00:00"],
    [{ now: [] }, {}, "2026-11-27 01:00:00Z", "-05:00", "2026-11-26T20:00:00-05:00"],
    // timestamps: RFC 3339 and its lenient forms; leap second = the next second's start
    [{ time_of_day: ["2016-12-31T23:59:60Z"] }, {}, NOW, "UTC", "00:00"],
    [{ before: ["2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z"] }, {}, NOW, "UTC", false],
    [{ time_of_day: [{ var: "t" }] }, { t: "2026-11-27T10:00" }, NOW, "-05:00", "10:00"],
    [{ time_of_day: [{ var: "t" }] }, { t: "2026-11-27t10:00z" }, NOW, "+09:00", "19:00"],
    [{ hours_since: [{ var: "t" }] }, { t: "2026-11-27T09:59:59.999999999999+09:00" }, NOW, "+09:00", 1 / 3_600e9],
    [{ days_since: ["2026-11-27T24:00:00Z"] }, {}, NOW, "+09:00", "compile"],
    [{ days_since: ["2100-02-29"] }, {}, NOW, "+09:00", "compile"],
    [{ days_since: [{ var: "t" }] }, { t: "2026-02-30T00:00:00Z" }, NOW, "+09:00", "eval"],
    [{ days_since: [{}] }, {}, NOW, "+09:00", "compile"],
    // epoch milliseconds; 10^8 up to 10^11 refused as seconds
    [{ weekday: [{ var: "t" }] }, { t: 99999999 }, NOW, "UTC", 5],
    [{ weekday: [{ var: "t" }] }, { t: 1e8 }, NOW, "UTC", "eval"],
    [{ weekday: [{ var: "t" }] }, { t: 99999999999 }, NOW, "UTC", "eval"],
    [{ weekday: [{ var: "t" }] }, { t: 1e11 }, NOW, "UTC", 6],
    [{ weekday: [{ var: "t" }] }, { t: 1764205200000.5 }, NOW, "UTC", "eval"],
    [{ weekday: [{ var: "t" }] }, { t: -86400000 }, NOW, "UTC", 3],
    // strings compare as strings: the same instant at two offsets is neither < nor ==
    [{ "<": [{ var: "a" }, { var: "b" }] }, { a: "2026-11-27T10:00:00+09:00", b: "2026-11-27T01:00:00Z" }, NOW, "+09:00", false],
    [{ "==": [{ var: "a" }, { var: "b" }] }, { a: "2026-11-27T10:00:00+09:00", b: "2026-11-27T01:00:00Z" }, NOW, "+09:00", false],
    [{ time_between: [{ var: "a" }, { var: "b" }, { var: "b" }] }, { a: "2026-11-27T10:00:00+09:00", b: "2026-11-27T01:00:00Z" }, NOW, "+09:00", true],
  ];
  for (const [rule, data, now, zone, want] of cases) {
    const env = { now: instant(now, 0), off: zoneOffset(zone) };
    const o = ["<", "==", "in", "<="].includes(Object.keys(rule)[0]) ? null : oracle(rule, data, env);
    if (o) assert.deepEqual(o.error ?? o.value, want, `oracle: ${JSON.stringify(rule)} with ${JSON.stringify(data)} at ${now} in ${zone}`);
    const k = viaEngine(inContext(rule), data, now, zone, typeof want === "string" && ["compile", "eval"].includes(want) ? null : want);
    const got = k.error ?? (k.matches ? want : `not ${JSON.stringify(want)}: ${engineValue(inContext(rule), data, now, zone)}`);
    assert.deepEqual(got, want, `kizuna: ${JSON.stringify(rule)} with ${JSON.stringify(data)} at ${now} in ${zone}`);
  }
});

// README: the zones kizuna knows by name, each with the one offset Intl gives it today (and no
// daylight saving time this year); others, and zones with DST, are refused.
test("named time zones are the README's, at their offsets", () => {
  const now = "2026-11-27T00:00:00Z";
  for (const name of README_ZONES) {
    const off = namedOffset(name);
    assert.notEqual(off, undefined, `${name} has daylight saving time`);
    const k = viaEngine({ now: [] }, {}, now, name, rfc3339(instant(now, 0), off));
    assert.ok(k.matches, `${name}: ${k.error ? show(k) : engineValue({ now: [] }, {}, now, name)}`);
  }
  // abbreviations and offsets written other ways (east is +, as in RFC 3339)
  for (const [name, off] of [["JST", 540], ["kst", 540], ["z", 0], ["asia/tokyo", 540], ["+0900", 540], ["+9", 540], ["UTC+9", 540], ["GMT-5", -300], ["-00:00", 0], ["+14:59", 899], ["-14:00", -840]]) {
    const k = viaEngine({ now: [] }, {}, now, name, rfc3339(instant(now, 0), off));
    assert.ok(k.matches, `${name}: ${k.error ? show(k) : engineValue({ now: [] }, {}, now, name)}`);
  }
  for (const name of ["America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kathmandu", "Mars/Olympus", "+15:00", "+09:60", "UTC+", "+24:00"]) {
    const k = viaEngine({ now: [] }, {}, now, name, null);
    assert.equal(k.error, "compile", name);
  }
});

// README: the context's `now` is RFC 3339 proper (its lower-case, space and leap-second spellings
// included); the lenient forms a user's data may use are refused there.
test("the context's now", () => {
  const decideNow = (now) => {
    const engine = new Engine({ version: 1, segments: [{ id: "v", when: { throw: [{ now: [] }] } }] });
    try {
      return JSON.parse(/the rule threw (.*)/.exec(engine.decide({ version: 1, now, user: { userId: "U1" } }).errors[0].message)[1]);
    } catch (e) {
      return e.code;
    }
  };
  for (const [now, want] of [
    ["2026-11-27t01:00:00z", "2026-11-27T10:00:00+09:00"],
    ["2026-11-27 01:00:00-00:00", "2026-11-27T10:00:00+09:00"],
    ["2016-12-31T23:59:60Z", "2017-01-01T09:00:00+09:00"],
    ["2026-11-27T10:00:00.123456789123+09:00", "2026-11-27T10:00:00.123456789+09:00"],
    ["2026-11-27T10:00+09:00", "invalid_timestamp"],
    ["2026-11-27T10:00:00", "invalid_timestamp"],
    ["2026-11-27", "invalid_timestamp"],
    ["2026-02-30T10:00:00+09:00", "invalid_timestamp"],
    [1764205200000, "invalid_value"],
  ]) {
    assert.equal(decideNow(now), want, JSON.stringify(now));
    if (typeof want === "string" && want.startsWith("20")) assert.equal(rfc3339(instant(now, 0), 540), want, `oracle: ${now}`);
  }
});
