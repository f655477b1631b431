// Differential test of kizuna's marketing operators other than time — `has_tag`, `has_any_tag`,
// `has_all_tags`, `in_segment`, `starts_with`, `ends_with`, `fractional`, `sem_ver` — against an
// oracle written from the README ("Segments", "Conditions: JsonLogic plus marketing operators":
// the operator table and the choices below it) and from flagd's own definitions (flagd.dev's
// custom operations, the suites in ../shared/conformance/flagd-extensions/ and flagd's
// core/pkg/evaluator), not from src/logic/.
//
// From a fixed seed, each case draws a user (tags, some of them non-ASCII or differing only in
// Unicode normalization; attributes of every JSON type: strings with kana, emoji and combining
// marks, numbers, booleans, null, arrays, objects; versions valid and invalid) and a config:
// 2–7 segments whose `when` are random rules of these operators nested in `and`/`or`/`!`/`!!`/`if`,
// with `in_segment` references forming a random graph (mostly acyclic; now and then a reference
// back, or to a member of the segment's own exclusive group), some segments in exclusive groups
// with priorities, in a shuffled config order. The oracle predicts whether the config compiles
// (README: unknown segments, cycles — a member reading its own group included — a `sem_ver` with
// other than 3 arguments or an unknown literal operator, a literal `fractional` bucket that flagd
// cannot weigh, `starts_with`/`ends_with` without exactly 2 arguments, tag names that are not
// literal non-empty strings) and otherwise the decision's `segments` and `groups` (groups decided
// by descending priority, ties in config order; `in_segment` reads the final result). "Probe"
// segments hold each a single operator's exact value (`{"===": [op, expected]}`, the expected
// value in the data), and the same operators also go through `evaluate` as bare rules (where
// flagd's `null` stays for a malformed `sem_ver` or `fractional`).
//
// OPS_FUZZ_CASES (default 3000, about 4 seconds) and OPS_FUZZ_SEED (default 20261201) change the
// run; a failure prints the case number, config and context, so it can be replayed
// (OPS_FUZZ_DUMP=file writes every disagreement; OPS_FUZZ_STATS=1 counts the probes' values). A second test pins the choices one by one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { Engine, evaluate } from "../../pkg/node.js";
import { mulberry32 } from "../../benches/users.mjs";
import { murmur3 } from "./murmur3.mjs";

const CASES = Number(process.env.OPS_FUZZ_CASES ?? 3000);
const SEED = Number(process.env.OPS_FUZZ_SEED ?? 20261201);
const NOW = "2026-12-01T09:00:00+09:00";

// ---- the oracle ---------------------------------------------------------------------------------
const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
// An operator call: an object with one key that is not data.
const opOf = (r) => (isObj(r) && Object.keys(r).length === 1 ? Object.keys(r)[0] : null);
// JsonLogic truthiness (README: the JSON Logic organisation's dialect: `{}` is truthy).
const truthy = (v) => !(v === false || v === null || v === undefined || v === 0 || v === "" || (Array.isArray(v) && v.length === 0));

// flagd `sem_ver` (flagd.dev "Semantic Version Operation": a `v` or `V` prefix is stripped,
// partial versions `1` / `1.2` are padded with `.0`, numbers are read as their text, build
// metadata is ignored; then SemVer 2.0.0's grammar and precedence). null when unparsable.
const NUM = /^(0|[1-9][0-9]*)$/;
const IDENT = /^[0-9A-Za-z-]+$/;
function parseVersion(v) {
  if (typeof v === "number") v = String(v);
  if (typeof v !== "string") return null;
  if (v[0] === "v" || v[0] === "V") v = v.slice(1);
  const plus = v.indexOf("+");
  if (plus >= 0) {
    const build = v.slice(plus + 1).split(".");
    if (!build.every((id) => IDENT.test(id))) return null;
    v = v.slice(0, plus);
  }
  const dash = v.indexOf("-");
  const core = (dash >= 0 ? v.slice(0, dash) : v).split(".");
  const pre = dash >= 0 ? v.slice(dash + 1).split(".") : null;
  if (core.length > 3 || !core.every((p) => NUM.test(p))) return null;
  while (core.length < 3) core.push("0");
  if (pre && !pre.every((id) => IDENT.test(id) && (!/^[0-9]+$/.test(id) || NUM.test(id)))) return null;
  return { core: core.map(BigInt), pre };
}
const sign = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
function compareVersions(a, b) {
  for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return sign(a.core[i], b.core[i]);
  if (!a.pre || !b.pre) return a.pre ? -1 : b.pre ? 1 : 0; // a pre-release is lower
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const [x, y] = [a.pre[i], b.pre[i]];
    if (x === undefined) return -1; // fewer identifiers: lower
    if (y === undefined) return 1;
    const [xn, yn] = [/^[0-9]+$/.test(x), /^[0-9]+$/.test(y)];
    const c = xn && yn ? sign(BigInt(x), BigInt(y)) : xn ? -1 : yn ? 1 : sign(x, y); // ASCII order
    if (c) return c;
  }
  return 0;
}
const SEM_VER_OPS = ["=", "!=", "<", "<=", ">", ">=", "^", "~"];
function semVer(args) {
  if (!Array.isArray(args) || args.length !== 3) return null;
  const [a, op, b] = [parseVersion(args[0]), args[1], parseVersion(args[2])];
  if (!a || !b || !SEM_VER_OPS.includes(op)) return null;
  const c = compareVersions(a, b);
  return { "=": c === 0, "!=": c !== 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0, "^": a.core[0] === b.core[0], "~": a.core[0] === b.core[0] && a.core[1] === b.core[1] }[op];
}

// flagd `fractional` (flagd.dev "Fractional Operation" and the conformance suite): a first
// argument that is a string is the bucketing key; otherwise the key is flagKey + targetingKey (in
// a segment: the segment id + userId, README), null when there is no targeting key, and a first
// argument that is not null is already a bucket. Buckets are [variant, weight?]: a string variant,
// weight 1 when left out, a negative weight counts 0; anything else makes the split null, and so
// does a total of 0. bucket = murmur3(key) × total >> 32; the first bucket whose running total
// passes it wins.
function fractional(args, flagKey, targetingKey) {
  if (args.length === 0) return null;
  let [first, ...buckets] = args;
  let key;
  if (typeof first === "string") key = first;
  else {
    if (typeof targetingKey !== "string" || targetingKey === "") return null;
    key = `${flagKey ?? ""}${targetingKey}`;
    if (first !== null) buckets = args;
  }
  if (buckets.length === 0) return null;
  const weights = [];
  for (const b of buckets) {
    if (!Array.isArray(b) || typeof b[0] !== "string") return null;
    if (b.length > 1 && typeof b[1] !== "number") return null;
    weights.push(b.length > 1 ? BigInt(Math.max(0, Math.trunc(b[1]))) : 1n);
  }
  const total = weights.reduce((s, w) => s + w, 0n);
  if (total === 0n) return null;
  const bucket = (BigInt(murmur3(key)) * total) >> 32n;
  let end = 0n;
  for (let i = 0; i < buckets.length; i++) if (bucket < (end += weights[i])) return buckets[i][0];
  return null;
}

// `starts_with` / `ends_with`: text prefix / suffix, `null` → false (README). A number or a
// boolean is read as its text, as JsonLogic's `cat` writes it (README, next to the operator); an
// array or an object is not text: false.
const asText = (v) => (typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : null);

// Static checks the README promises for a rule in a config (`config`) or a bare rule. Returns the
// error codes expected; `refs` collects the `in_segment` ids read.
function staticErrors(rule, config, ids, refs, errors = []) {
  const op = opOf(rule);
  if (Array.isArray(rule)) rule.forEach((r) => staticErrors(r, config, ids, refs, errors));
  if (!op) return errors;
  const args = rule[op];
  const list = Array.isArray(args) ? args : [args];
  const literalTags = (one) => {
    // README: a tag name is a literal, non-empty string: `{"has_tag": "vip"}`, or one in an
    // array; `has_any_tag`/`has_all_tags` take one or a non-empty array of them.
    const names = typeof args === "string" ? [args] : Array.isArray(args) ? args : null;
    return names !== null && names.length > 0 && (!one || names.length === 1) && names.every((t) => typeof t === "string" && t !== "");
  };
  switch (op) {
    case "has_tag":
      if (Array.isArray(args) && args.length !== 1) errors.push("wrong_arity"); // one tag name
      else if (!literalTags(true)) errors.push("invalid_argument");
      return errors;
    case "has_any_tag":
    case "has_all_tags":
      if (!literalTags(false)) errors.push("invalid_argument");
      return errors;
    case "in_segment": {
      const id = Array.isArray(args) && args.length === 1 ? args[0] : args;
      if (typeof id !== "string") errors.push("invalid_argument");
      else if (!ids.includes(id)) errors.push("unknown_segment");
      else refs.push(id);
      return errors;
    }
    case "starts_with":
    case "ends_with":
      if (!Array.isArray(args)) errors.push("invalid_argument");
      else if (args.length !== 2) errors.push("wrong_arity");
      break;
    case "sem_ver":
      if (!config) break;
      if (!Array.isArray(args) || args.length !== 3) errors.push("wrong_arity");
      else if (!(SEM_VER_OPS.includes(args[1]) || opOf(args[1]))) errors.push("invalid_argument");
      break;
    case "fractional":
      if (!config) break;
      // README: "a literal bucket flagd cannot weigh … is a compile error"
      list.forEach((b, i) => {
        if (opOf(b) || (i === 0 && !Array.isArray(b))) return;
        if (!Array.isArray(b) || typeof b[0] !== "string" || (b.length > 1 && typeof b[1] !== "number")) errors.push("invalid_argument");
      });
      break;
  }
  list.forEach((a) => staticErrors(a, config, ids, refs, errors));
  return errors;
}

// A rule's value. `env`: { user, seg: final results of the segments read, flagKey, targetingKey }.
function run(rule, env) {
  if (Array.isArray(rule)) return rule.map((r) => run(r, env));
  const op = opOf(rule);
  if (!op) return rule;
  const args = rule[op];
  const list = Array.isArray(args) ? args : [args];
  const tags = env.user.tags ?? []; // README: a user's missing tags are []
  switch (op) {
    case "var": {
      let v = env.data;
      for (const k of String(args).split(".")) v = isObj(v) || Array.isArray(v) ? v[k] : undefined;
      return v ?? null;
    }
    case "and": {
      let v;
      for (const a of list) if (!truthy((v = run(a, env)))) return v;
      return v;
    }
    case "or": {
      let v;
      for (const a of list) if (truthy((v = run(a, env)))) return v;
      return v;
    }
    case "!":
      return !truthy(run(list[0], env));
    case "!!":
      return truthy(run(list[0], env));
    case "if":
      return truthy(run(list[0], env)) ? run(list[1], env) : run(list[2], env);
    case "===":
      return JSON.stringify(run(list[0], env)) === JSON.stringify(run(list[1], env));
    case "has_tag":
    case "has_any_tag":
      return list.some((t) => tags.includes(t));
    case "has_all_tags":
      return list.every((t) => tags.includes(t));
    case "in_segment":
      return env.seg[list[0]];
    case "starts_with":
    case "ends_with": {
      const [s, affix] = list.map((a) => asText(run(a, env)));
      if (s === null || affix === null) return false;
      return op === "starts_with" ? s.startsWith(affix) : s.endsWith(affix);
    }
    case "sem_ver":
      return semVer(list.map((a) => run(a, env)));
    case "fractional":
      return fractional(list.map((a) => run(a, env)), env.flagKey, env.targetingKey);
  }
  throw new Error(`oracle: no operator ${op}`);
}

// A config's decision: { compile: [codes] } or { segments: [ids, sorted], groups }.
function decideOracle(config, context) {
  const segs = config.segments;
  const ids = segs.map((s) => s.id);
  const errors = [];
  const reads = new Map();
  for (const s of segs) {
    const refs = [];
    errors.push(...staticErrors(s.when, true, ids, refs));
    reads.set(s.id, refs);
  }
  // README: a group is decided as a whole before anything that reads one of its members, so
  // reading a member is reading every member; a cycle is a compile error (segment_cycle).
  const groupOf = new Map(segs.map((s) => [s.id, s.group]));
  const deps = (id) => reads.get(id).flatMap((t) => (groupOf.get(t) === undefined ? [t] : segs.filter((s) => s.group === groupOf.get(t)).map((s) => s.id)));
  const state = new Map();
  const cyclic = (id) => {
    if (state.get(id) === 1) return true;
    if (state.get(id) === 2) return false;
    state.set(id, 1);
    const c = deps(id).some(cyclic);
    state.set(id, 2);
    return c;
  };
  if (ids.some(cyclic)) errors.push("segment_cycle");
  if (errors.length) return { compile: [...new Set(errors)].sort() };
  const final = {};
  const raw = (s) => truthy(run(s.when, { user: context.user, data: context, seg: final, flagKey: s.id, targetingKey: context.user.userId }));
  const resolve = (id) => {
    if (id in final) return;
    const s = segs.find((x) => x.id === id);
    for (const d of deps(id)) resolve(d);
    if (s.group === undefined) {
      final[id] = raw(s);
      return;
    }
    // README: members by descending priority (ties: config order); the first that holds wins
    const members = segs.map((m, i) => [m, i]).filter(([m]) => m.group === s.group);
    for (const [m] of members) for (const d of deps(m.id)) resolve(d);
    members.sort(([a, i], [b, j]) => (b.priority ?? 0) - (a.priority ?? 0) || i - j);
    let won = false;
    for (const [m] of members) {
      const holds = !won && raw(m);
      final[m.id] = holds;
      won ||= holds;
    }
  };
  ids.forEach(resolve);
  const groups = {};
  for (const s of segs) if (s.group !== undefined && final[s.id]) groups[s.group] = s.id;
  return { segments: ids.filter((id) => final[id]).sort(), groups };
}

// ---- kizuna, through the package ------------------------------------------------------------------
function viaEngine(config, context) {
  let engine;
  try {
    engine = new Engine(config);
  } catch (e) {
    return { compile: [...new Set((e.errors ?? [e]).map((x) => x.code))].sort(), message: e.message };
  }
  try {
    const d = engine.decide(context);
    if (d.errors?.length) return { eval: d.errors.map((x) => `${x.code} ${x.path}: ${x.message}`) };
    return { segments: [...d.segments].sort(), groups: d.groups ?? {} };
  } finally {
    engine.free();
  }
}
function viaEvaluate(rule, data) {
  try {
    return { value: evaluate(JSON.stringify(rule), JSON.stringify(data), NOW) };
  } catch (e) {
    return { error: e.code, message: e.message };
  }
}

// ---- the generator --------------------------------------------------------------------------------
const TAGS = ["vip", "VIP", "repeat", "opt_out", "会員", "ゴールド", "é", "e\u0301", "tag-1", "😀", " vip", "ß"];
const WORDS = ["", "a", "ab", "abc", "ABC", "user@example.com", "@example.com", "example.com", "こんにちは", "こん", "にちは", "😀", "😀x", "x😀", "é", "e\u0301", "ß", "SS", "İstanbul", "東京都渋谷区", "東京都", "渋谷区", "\u0000", "a\nb", "150-0001", "1500001", "true", "1.5", "null"];
const NUMBERS = [0, 1, -1, 1.5, -0.25, 150, 1500001, 1e21, 1e-7, 123.456, 2 ** 53 - 1, 0.1];
const VERSION_PARTS = ["0", "1", "2", "9", "10", "14", "99", "1234", "99999999999999999999"];
const PRE_IDS = ["alpha", "beta", "rc", "0", "1", "2", "9", "10", "11", "100", "x-y", "-", "1a", "01a", "Beta", "preview"];
const BAD_VERSIONS = ["", "v", "latest", "01.2.3", "1.02.3", "1.2.3.4", "1.2.3-", "1.2.3-01", "1.2.3-a..b", "1..2", "vv1.2.3", " 1.2.3", "1.2.3 ", "1.2.3+", "1.2.3+a..b", "1.2.x", "１.２.３", "1.2.3-ä", "-1.2.3", "1.2.3_4", "v.1.2", "1.2.3+build+x"];

function generator(rnd) {
  const int = (n) => Math.floor(rnd() * n);
  const pick = (a) => a[int(a.length)];
  const chance = (p) => rnd() < p;
  const some = (a, lo, hi) => Array.from({ length: lo + int(hi - lo + 1) }, () => pick(a));
  const g = { int, pick, chance, some };
  g.version = () => {
    if (chance(0.12)) return pick(BAD_VERSIONS);
    if (chance(0.08)) return pick([1, 2, 1.2, 10.5, 14, -1, 1e21, 0]);
    let v = some(VERSION_PARTS.slice(0, chance(0.1) ? 9 : 8), chance(0.8) ? 3 : 1, 3).join(".");
    if (chance(0.5)) v += "-" + some(PRE_IDS, 1, 3).join(".");
    if (chance(0.15)) v += "+" + some(["build", "001", "sha", "5114f85", "x-1"], 1, 2).join(".");
    return (chance(0.3) ? pick(["v", "V"]) : "") + v;
  };
  // a second version near the first: equal, one part bumped, a pre-release added or dropped…
  g.nearVersion = (v) => {
    if (typeof v !== "string" || !chance(0.75)) return g.version();
    const m = /^([vV]?)(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[^+]*)?(\+.*)?$/.exec(v);
    if (!m) return v;
    const parts = [m[2], m[3] ?? "0", m[4] ?? "0"];
    const i = int(3);
    if (chance(0.3)) parts[i] = String(Math.max(0, Number(parts[i]) + pick([-1, 1])));
    let pre;
    if (m[5] && chance(0.6)) {
      // the same pre-release but one identifier changed, added or dropped (precedence decided there)
      const ids = m[5].slice(1).split(".");
      const c = int(3);
      const j = int(ids.length);
      // a number moved (9 → 10: more digits), or another identifier
      if (c === 0) ids[j] = /^[0-9]+$/.test(ids[j]) && chance(0.7) ? String(Math.max(0, Number(ids[j]) + pick([1, -1, 9, 91]))) : pick(PRE_IDS);
      else if (c === 1) ids.push(pick(PRE_IDS));
      else if (ids.length > 1) ids.pop();
      pre = "-" + ids.join(".");
    } else pre = chance(0.3) ? "-" + some(PRE_IDS, 1, 2).join(".") : chance(0.5) ? m[5] ?? "" : "";
    return pick(["", "v"]) + parts.slice(0, chance(0.2) ? 2 : 3).join(".") + pre + (chance(0.2) ? "+b" : "");
  };
  g.text = () => pick(WORDS) + (chance(0.3) ? pick(WORDS) : "");
  // a value of any JSON type; in a rule (`literal`) no object, which would be an operator
  g.scalar = (literal = false) => {
    const r = rnd();
    return r < 0.55 ? g.text() : r < 0.75 ? pick(NUMBERS) : r < 0.85 ? pick([true, false]) : r < 0.9 ? null : r < 0.95 || literal ? [g.text()] : { a: g.text() };
  };
  // an affix for a subject: a prefix or suffix of its text (by code points), or another word
  g.affix = (subject) => {
    const t = asText(subject);
    if (t !== null && chance(0.6)) {
      const cps = [...t];
      const n = int(cps.length + 1);
      return chance(0.5) ? cps.slice(0, n).join("") : cps.slice(cps.length - n).join("");
    }
    return chance(0.9) ? g.text() : g.scalar(true);
  };
  return g;
}

const ATTRS = ["s0", "s1", "s2", "n0", "v0", "v1", "k0", "b0"];
function drawUser(g, i) {
  const user = { userId: g.pick([`U${(i * 2654435761 >>> 0).toString(16).padStart(32, "0")}`, "U1", "ユーザー", "😀"]) };
  if (g.chance(0.85)) user.tags = [...new Set(g.some(TAGS, 0, 5))];
  const attributes = { s0: g.text(), s1: g.scalar(), s2: g.scalar(), n0: g.pick(NUMBERS), v0: g.version(), k0: g.pick(["campaign", "", "user-1", "キー"]) };
  attributes.v1 = g.nearVersion(attributes.v0);
  if (g.chance(0.3)) attributes.b0 = g.chance(0.7) ? [g.pick(["a", "b"]), g.int(4) - 1] : g.pick(["a", ["a"], [], [1, 2]]);
  for (const k of ATTRS) if (g.chance(0.08)) delete attributes[k]; // missing: null
  user.attributes = attributes;
  return user;
}
const attr = (k) => ({ var: `user.attributes.${k}` });

// One operator (a leaf). `target`: a segment id in_segment may read (null: none). `bad` allows a
// statically invalid form now and then.
function leaf(g, ctx, target) {
  const bad = g.chance(0.012);
  const kind = g.pick(target !== null ? ["tag", "tag", "str", "str", "sem", "frac", "seg", "seg", "seg"] : ["tag", "tag", "str", "str", "sem", "frac"]);
  switch (kind) {
    case "tag": {
      const op = g.pick(["has_tag", "has_any_tag", "has_all_tags"]);
      if (bad) return { [op]: g.pick(["", [], [""], 5, { var: "user.tags.0" }, ["vip", ""], ["vip", 1]]) };
      const names = g.some(TAGS.concat(["nope"]), 1, op === "has_tag" ? 1 : 3);
      // README writes {"has_tag": "vip"} and {"has_any_tag": ["opt_out", "complaint"]}
      return { [op]: names.length === 1 && g.chance(0.5) ? names[0] : names };
    }
    case "str": {
      const op = g.pick(["starts_with", "ends_with"]);
      const key = g.pick(["s0", "s1", "s2", "n0", "k0", "missing"]);
      const subject = ctx.user.attributes[key];
      const args = [g.chance(0.85) ? attr(key) : g.scalar(true), g.affix(subject)];
      if (g.chance(0.1)) args.reverse();
      if (g.chance(0.1)) args[1] = attr(g.pick(["s0", "s1", "missing"]));
      if (bad) return { [op]: g.pick([[args[0]], [...args, "x"], "abc"]) };
      return { [op]: args };
    }
    case "sem": {
      const a = g.chance(0.8) ? attr(g.pick(["v0", "v0", "v0", "v1", "v1", "s0", "missing"])) : g.version();
      const b = g.chance(0.85) ? g.nearVersion(ctx.user.attributes.v0) : attr("v1");
      let op = g.pick(SEM_VER_OPS);
      if (g.chance(0.04)) op = attr("s0"); // an operator read from the data: null unless known
      const args = g.chance(0.5) ? [a, op, b] : [b, op, a];
      if (bad) return { sem_ver: g.pick([[a, b], [a, op, b, op], [a, g.pick(["=>", "==", "", ">=1.0.0", 1, null]), b]]) };
      return { sem_ver: args };
    }
    case "frac": {
      const variants = ["holdout", "campaign", "a", "b", "c", "キャンペーン"];
      const n = 1 + g.int(4);
      const buckets = Array.from({ length: n }, (_, i) => {
        const w = g.chance(0.1) ? [] : [g.chance(0.08) ? -g.int(30) : g.chance(0.05) ? 0 : g.pick([1, 5, 10, 25, 50, 90, 100, 2 ** 31 - 1, 1e6])];
        return [variants[i % variants.length], ...w];
      });
      if (bad) buckets[g.int(n)] = g.pick([["x", "10"], [], "x"]);
      const key = g.int(6);
      let args;
      if (key === 0) args = [attr("k0"), ...buckets]; // a key read from the data ("" is a key too)
      else if (key === 1) args = [g.pick(["campaign-2612", "", "キー"]), ...buckets];
      else if (key === 2) args = [attr("missing"), ...buckets]; // null: the implicit key
      else if (key === 3) args = [attr("b0"), ...buckets]; // a bucket read from the data
      else args = buckets;
      const rule = { fractional: args };
      return g.chance(0.5) ? rule : { "===": [rule, g.pick(variants.slice(0, 3))] };
    }
    case "seg":
      return { in_segment: g.chance(0.8) ? target : [target] };
  }
}
function rule(g, ctx, targets, depth) {
  const target = () => (targets.length ? g.pick(targets) : null);
  if (depth <= 0 || g.chance(0.35)) return leaf(g, ctx, target());
  const k = g.pick(["and", "or", "!", "!!", "if", "and", "or"]);
  const sub = () => rule(g, ctx, targets, depth - 1);
  if (k === "!" || k === "!!") return { [k]: g.chance(0.5) ? [sub()] : sub() };
  if (k === "if") return { if: [sub(), sub(), sub()] };
  return { [k]: Array.from({ length: 1 + g.int(3) }, sub) };
}

function drawCase(g, i) {
  const user = drawUser(g, i);
  const ctx = { version: 1, now: NOW, user };
  const n = 2 + g.int(6);
  const ids = Array.from({ length: n }, (_, k) => g.pick([`seg${k}`, `s-${k}`, `s.${k}`, `Seg_${k}`]));
  const segs = ids.map((id) => ({ id }));
  // exclusive groups over some segments
  if (g.chance(0.45)) {
    for (const s of segs) if (g.chance(0.5)) s.group = g.pick(["lifecycle", "tier"]);
    for (const s of segs) if (s.group !== undefined) s.priority = g.int(4) * 10;
  }
  segs.forEach((s, k) => {
    // references to earlier segments (acyclic), avoiding the segment's own group; now and then
    // any segment (a cycle, or a member of its own group)
    let targets = ids.slice(0, k).filter((_, j) => s.group === undefined || segs[j].group !== s.group || g.chance(0.05));
    if (g.chance(0.03)) targets = [g.pick(ids)];
    if (g.chance(0.01)) targets = ["unknown-segment"];
    s.when = rule(g, ctx, targets, 3);
  });
  // probes: one operator's exact value
  const probes = [];
  for (let p = g.int(3); p > 0; p--) {
    const r = leaf(g, ctx, null);
    const id = `probe${p}`;
    probes.push({ id, rule: r });
  }
  // shuffled config order
  for (let k = segs.length - 1; k > 0; k--) {
    const j = g.int(k + 1);
    [segs[k], segs[j]] = [segs[j], segs[k]];
  }
  return { ctx, segs, probes };
}

const show = (x) => JSON.stringify(x);
const sorted = (o) => Object.entries(o ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));

test(`kizuna's tag, segment, text and flagd operators agree with the oracle on ${CASES} random cases (seed ${SEED})`, () => {
  const g = generator(mulberry32(SEED));
  const failures = [];
  const n = { cases: 0, compiled: 0, refused: 0, probes: 0, bare: 0, matched: 0 };
  const values = {}; // the probes' expected values, by operator
  for (let i = 0; i < CASES; i++) {
    const { ctx, segs, probes } = drawCase(g, i);
    // probe values: the oracle's, put in the data for `===`
    const attributes = { ...ctx.user.attributes };
    const probeSegs = probes.map(({ id, rule: r }) => {
      const v = run(r, { user: ctx.user, data: ctx, seg: {}, flagKey: id, targetingKey: ctx.user.userId });
      attributes[`expect_${id}`] = v;
      return { id, when: { "===": [r, attr(`expect_${id}`)] } };
    });
    const context = { ...ctx, user: { ...ctx.user, attributes } };
    const config = { version: 1, segments: [...segs, ...probeSegs] };
    const expected = decideOracle(config, context);
    const got = viaEngine(config, context);
    n.cases++;
    if (expected.compile) n.refused++;
    else {
      n.compiled++;
      n.matched += expected.segments.length;
    }
    // A refused config: kizuna's error codes are among the oracle's (it looks for cycles only once
    // every rule compiles, so a config with a typo and a cycle reports the typo).
    const same = expected.compile
      ? got.compile?.length > 0 && got.compile.every((c) => expected.compile.includes(c))
      : show(got.segments) === show(expected.segments) && show(sorted(got.groups)) === show(sorted(expected.groups));
    if (!same) failures.push(`#${i}\n  config ${show(config)}\n  context ${show(context)}\n  kizuna ${show(got)}\n  oracle ${show(expected)}`);
    n.probes += probes.length;
    // the probes as bare rules (README: a bare rule keeps flagd's null where a config refuses)
    for (const { id, rule: r } of probes) {
      const data = { ...context, targetingKey: ctx.user.userId, $flagd: { flagKey: id } };
      const errs = staticErrors(r, false, [], []);
      const want = errs.length ? { error: errs[0] } : { value: run(r, { user: ctx.user, data, seg: {}, flagKey: id, targetingKey: ctx.user.userId }) };
      const k = viaEvaluate(r, data);
      n.bare++;
      const op = opOf(r) === "===" ? "fractional ===" : opOf(r);
      const key = `${op}: ${want.error ? "refused" : want.value === null ? "null" : typeof want.value === "string" ? "variant" : want.value}`;
      values[key] = (values[key] ?? 0) + 1;
      const ok = want.error ? k.error === want.error : !k.error && show(k.value) === show(want.value);
      if (!ok) failures.push(`#${i} evaluate\n  rule ${show(r)}\n  data ${show(data)}\n  kizuna ${show(k)}\n  oracle ${show(want)}`);
    }
  }
  console.log(`seed ${SEED}: ${n.cases} configs (${n.compiled} compiled, ${n.refused} refused as expected or not), ${n.matched} segment matches, ${n.probes} probes also run bare; ${failures.length} disagreements`);
  if (process.env.OPS_FUZZ_STATS) console.log(Object.entries(values).sort().map(([k, v]) => `  ${k}: ${v}`).join("\n"));
  if (process.env.OPS_FUZZ_DUMP) writeFileSync(process.env.OPS_FUZZ_DUMP, failures.join("\n"));
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} disagreements (OPS_FUZZ_SEED=${SEED} OPS_FUZZ_CASES=${CASES} replays them)`);
});

// The choices, pinned one by one: each is what the oracle says and what kizuna does, through
// `evaluate` (a bare rule) and in a segment (`{"===": [rule, expected]}`).
test("the operators' choices, pinned", () => {
  const user = { userId: "U1", tags: ["vip", "e\u0301"], attributes: { zip: 1500001 } };
  const cases = [
    // [rule, expected value, or "compile" (in a config; a bare rule keeps flagd's null)]
    // sem_ver: flagd's normalization (v/V prefix, partial versions padded, numbers as text, build
    // metadata ignored), SemVer 2.0.0 precedence, ^ same major, ~ same major and minor
    [{ sem_ver: ["V1.0.0", "=", "1.0.0"] }, true],
    [{ sem_ver: ["v1.2", "=", "1.2.0+build.7"] }, true],
    [{ sem_ver: [1.2, "=", "1.2.0"] }, true],
    [{ sem_ver: ["1.2-beta", "<", "1.2.0"] }, true],
    [{ sem_ver: ["1.0.0-alpha", "<", "1.0.0-alpha.1"] }, true],
    [{ sem_ver: ["1.0.0-alpha.beta", "<", "1.0.0-beta"] }, true],
    [{ sem_ver: ["1.0.0-2", "<", "1.0.0-10"] }, true],
    [{ sem_ver: ["1.0.0-10", "<", "1.0.0-a"] }, true],
    [{ sem_ver: ["1.0.0-Z", "<", "1.0.0-a"] }, true],
    [{ sem_ver: ["99999999999999999999.0.0", ">", "9999999999999999999.0.0"] }, true],
    [{ sem_ver: ["1.2.3", "^", "1.9.9-rc.1"] }, true],
    [{ sem_ver: ["1.2.3", "~", "1.2.9"] }, true],
    [{ sem_ver: ["1.2.3", "~", "1.3.0"] }, false],
    [{ sem_ver: ["01.2.3", "=", "1.2.3"] }, null],
    [{ sem_ver: ["1.2.3.4", ">", "1.2.3"] }, null],
    [{ sem_ver: ["vv1.2.3", "=", "1.2.3"] }, null],
    [{ sem_ver: ["1.2.3-01", "=", "1.2.3-01"] }, null],
    [{ sem_ver: [{ var: "user.attributes.missing" }, ">=", "1.0.0"] }, null],
    [{ sem_ver: ["1.2.3", "=>", "1.2.3"] }, "compile"],
    [{ sem_ver: ["1.2.3", ">="] }, "compile"],
    // starts_with / ends_with: text; a number or a boolean as its text; arrays, objects, null: false
    [{ starts_with: [{ var: "user.attributes.zip" }, "150"] }, true],
    [{ ends_with: [1.5, ".5"] }, true],
    [{ starts_with: [1e21, "1e+21"] }, true],
    [{ starts_with: [true, "tr"] }, true],
    [{ starts_with: [["abc"], "a"] }, false],
    [{ starts_with: [{ var: "user.attributes.missing" }, ""] }, false],
    [{ starts_with: ["", ""] }, true],
    [{ starts_with: ["é", "e"] }, false],
    [{ starts_with: ["e\u0301", "e"] }, true],
    [{ ends_with: ["東京都渋谷区", "渋谷区"] }, true],
    [{ starts_with: ["a"] }, "compile"],
    // tags: exact names (no Unicode normalization), literal and non-empty
    [{ has_tag: "é" }, false],
    [{ has_tag: "e\u0301" }, true],
    [{ has_any_tag: "vip" }, true],
    [{ has_all_tags: ["vip", "VIP"] }, false],
    [{ has_tag: "" }, "compile"],
    [{ has_any_tag: "" }, "compile"],
    [{ has_all_tags: [] }, "compile"],
    [{ has_tag: { var: "user.attributes.tag" } }, "compile"],
    // fractional: a negative weight counts 0, a total of 0 is null, "" is a key
    [{ fractional: [["a", -5], ["b", 5]] }, "b"],
    [{ fractional: [["a", 0]] }, null],
    [{ fractional: ["", ["a"], ["b", 0]] }, "a"],
    [{ fractional: [["holdout", "10"], ["campaign", 90]] }, "compile"],
  ];
  for (const [rule, want] of cases) {
    const data = { user, targetingKey: user.userId, $flagd: { flagKey: "p" } };
    const refused = staticErrors(rule, true, [], []).length > 0;
    const bare = staticErrors(rule, false, [], []).length > 0;
    if (want === "compile") assert.ok(refused, `oracle refuses ${show(rule)}`);
    else assert.deepEqual(run(rule, { user, data, seg: {}, flagKey: "p", targetingKey: user.userId }), want, `oracle: ${show(rule)}`);
    const config = { version: 1, segments: [{ id: "p", when: { "===": [rule, { var: "user.attributes.want" }] } }] };
    const got = viaEngine(config, { version: 1, now: NOW, user: { ...user, attributes: { ...user.attributes, want: want === "compile" ? null : want } } });
    assert.deepEqual(want === "compile" ? got.compile?.length > 0 : got.segments, want === "compile" ? true : ["p"], `kizuna (config): ${show(rule)} → ${show(got)}`);
    const k = viaEvaluate(rule, data);
    if (bare) assert.ok(k.error, `kizuna (bare) refuses ${show(rule)}`);
    else if (want !== "compile") assert.deepEqual(k.value, want, `kizuna (bare): ${show(rule)}`);
    else assert.equal(k.value, null, `kizuna (bare) keeps flagd's null: ${show(rule)}`);
  }
  // in_segment: a cycle, and a member reading another member of its own group, are refused
  const refused = (segments) => viaEngine({ version: 1, segments }, { version: 1, now: NOW, user }).compile;
  assert.deepEqual(refused([{ id: "a", when: { in_segment: "b" } }, { id: "b", when: { "!": { in_segment: "a" } } }]), ["segment_cycle"]);
  assert.deepEqual(refused([{ id: "a", group: "g", priority: 1, when: true }, { id: "b", group: "g", priority: 2, when: { in_segment: "a" } }]), ["segment_cycle"]);
  assert.deepEqual(refused([{ id: "a", when: { in_segment: "nope" } }]), ["unknown_segment"]);
  // a group decided as a whole: c reads b, which lost to a (higher priority)
  const d = viaEngine({ version: 1, segments: [{ id: "c", when: { "!": { in_segment: "b" } } }, { id: "b", group: "g", priority: 1, when: true }, { id: "a", group: "g", priority: 2, when: { has_tag: "vip" } }] }, { version: 1, now: NOW, user });
  assert.deepEqual(d, { segments: ["a", "c"], groups: { g: "a" } });
});
