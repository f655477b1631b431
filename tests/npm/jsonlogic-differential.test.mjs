// Differential fuzz test of kizuna's JsonLogic against json-logic-js, the reference
// implementation of the classic dialect (benches/node_modules/json-logic-js).
//
// From a fixed seed it generates random rules over the classic operators, with literals of
// every JSON type (-0, 2^53, floats, numeric and non-numeric strings, astral characters, nested
// arrays, {}) and random data, and compares kizuna's `evaluate` with an oracle: json-logic-js
// itself, with the operators where the JSON Logic organisation's suites (the dialect kizuna
// follows, ../shared/conformance/README.md) or kizuna's documented choices (README, Conditions)
// say something else replaced by that definition. `ORG_DELTAS` is the whole list, each entry
// naming its suite file or README choice; everything else is json-logic-js's own code. Each
// delta must be needed (json-logic-js differs in some rule that uses it), and nothing else may
// differ.
//
// Results compare as JSON: kizuna's output is JSON text, where -0 is 0, no NaN or Infinity can
// appear (the oracle's are the org dialect's NaN error) and a lone surrogate is U+FFFD. Errors
// compare as errors (kizuna's evaluation_failed, the oracle's thrown {type}). Rules kizuna
// refuses at compile time (wrong arity, a literal an operator cannot use: README) are counted
// and must stay a small share. Integers past 2^53 are not generated: kizuna reads them exactly,
// JavaScript rounds them (README; pinned in the last test).
//
// LOGIC_FUZZ_CASES (default 5000) and LOGIC_FUZZ_SEED (default 20261129) change the run; a
// failure prints the case number, rule and data, so it can be replayed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { evaluate } from "../../pkg/node.js";
import { mulberry32 } from "../../benches/users.mjs";

const require = createRequire(new URL("../../benches/package.json", import.meta.url));
const reference = require("json-logic-js");

const CASES = Number(process.env.LOGIC_FUZZ_CASES ?? 5000);
const SEED = Number(process.env.LOGIC_FUZZ_SEED ?? 20261129);
const NOW = "2026-11-27T10:00:00+09:00";

// ---- seeded generator (mulberry32 from benches/users.mjs) -----------------------------------

// A number written exactly as given in the JSON text (-0, integers past 2^53).
class Raw {
  constructor(text) {
    this.text = text;
  }
}
const toText = (v) => {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return `[${v.map(toText).join(",")}]`;
  if (v !== null && typeof v === "object") return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${toText(x)}`).join(",")}}`;
  if (Object.is(v, -0)) return "-0";
  return JSON.stringify(v);
};

const SCALARS = [
  null, true, false, 0, new Raw("-0"), 1, -1, 2, 3, 7, 10, 0.5, -2.5, 0.1, 1e21, 1.5e-7, 255,
  new Raw("9007199254740992"), new Raw("-4503599627370497"), new Raw("1e3"), new Raw("2.50"), 1e300, 5e-324,
  "1", "1e3", " 2 ", "", "abc", "0", "-0", "0x10", "Infinity", "a", "b", "ab", "a.b", "true", "null",
  "é😀x", "😀", "Ａ", "3", "10", "2024-01-01", " ", "1,2",
];
const KEYS = ["a", "b", "c", "n", "s", "arr", "obj", "obj.x", "obj.y.z", "arr.0", "arr.1", "arr.5", "nested.0.1", "missing", "a.b", "", "0", "1", "x.y"];

function generator(rand) {
  const int = (n) => Math.floor(rand() * n);
  const pick = (xs) => xs[int(xs.length)];
  const chance = (p) => rand() < p;

  const scalar = () => pick(SCALARS);
  function literal(depth) {
    const r = rand();
    if (depth > 0 && r < 0.12) return Array.from({ length: int(4) }, () => (chance(0.2) ? literal(depth - 1) : scalar()));
    if (r < 0.14) return {};
    return scalar();
  }
  // A data value: JSON of every type, objects included (rules cannot hold object literals).
  function datum(depth) {
    const r = rand();
    if (depth > 0 && r < 0.15) return Array.from({ length: int(4) }, () => datum(depth - 1));
    if (depth > 0 && r < 0.25) {
      const o = {};
      for (let i = int(3); i > 0; i--) o[pick(["x", "y", "z", "a", "0"])] = datum(depth - 1);
      return o;
    }
    return scalar();
  }
  function data() {
    if (chance(0.08)) return datum(2);
    const d = {};
    for (const k of ["a", "b", "c", "n", "s"]) if (chance(0.75)) d[k] = datum(1);
    if (chance(0.8)) d.arr = Array.from({ length: int(5) }, () => (chance(0.7) ? scalar() : datum(1)));
    if (chance(0.6)) d.obj = { x: datum(1), y: chance(0.5) ? { z: datum(1) } : datum(1) };
    if (chance(0.4)) d.nested = [[scalar(), scalar()], [scalar()]];
    if (chance(0.2)) d["x.y"] = scalar();
    return d;
  }

  const varRule = (item) => {
    const key = item ? pick(["", "", "x", "y", "0", "x.y", "a"]) : pick(KEYS);
    const path = chance(0.1) ? pick([0, 1, new Raw("2")]) : key;
    if (chance(0.25)) return { var: [path, literal(1)] };
    if (chance(0.3)) return { var: [path] };
    return { var: path };
  };
  const reduceVar = () => ({ var: pick(["current", "accumulator", "current.x", "accumulator.0"]) });

  // An expression; `ctx` says what `var` may read: "top", "item" (iterator body), "reduce".
  function expr(depth, ctx = "top") {
    if (depth <= 0 || chance(0.22)) {
      if (chance(0.45)) return ctx === "reduce" ? reduceVar() : varRule(ctx === "item");
      return literal(1);
    }
    const d = depth - 1;
    const e = () => expr(d, ctx);
    const args = (lo, hi) => Array.from({ length: lo + int(hi - lo + 1) }, e);
    const list = () => (chance(0.6) ? { var: pick(["arr", "nested", "nested.0", "obj", "s", "missing", "n"]) } : chance(0.7) ? literal(2) : e());
    switch (int(24)) {
      case 0: return { if: args(0, 5) };
      case 1: return { "?:": args(3, 3) };
      case 2: return { [pick(["==", "!=", "===", "!=="])]: args(2, 2) };
      case 3: return { [pick(["==", "!=", "===", "!=="])]: [literal(1), chance(0.5) ? literal(1) : e()] };
      case 4: return { [pick(["<", "<=", ">", ">="])]: args(2, 2) };
      case 5: return { [pick(["<", "<="])]: args(3, 3) };
      case 6: return { [pick(["!", "!!"])]: chance(0.5) ? [e()] : e() };
      case 7: return { [pick(["and", "or"])]: args(1, 4) };
      case 8: return { [pick(["+", "*"])]: args(1, 4) };
      case 9: return { [pick(["-", "/"])]: args(1, 2) };
      case 10: return { "%": args(2, 2) };
      case 11: return { [pick(["max", "min"])]: args(1, 4) };
      case 12: return { cat: chance(0.8) ? args(0, 4) : e() };
      case 13: return { substr: [e(), ...Array.from({ length: 1 + int(2) }, () => (chance(0.6) ? pick([0, 1, 2, -1, -2, -5, 10, new Raw("-0"), "1", null, 0.5]) : e()))] };
      case 14: return { in: [e(), chance(0.5) ? e() : literal(2)] };
      case 15: return { merge: args(0, 3) };
      // A computed key list (json-logic-js reads an array or object *key* as a rule: not generated).
      case 16: return { missing: chance(0.7) ? Array.from({ length: int(4) }, () => pick(KEYS)) : { [pick(["merge", "if"])]: chance(0.5) ? [pick(KEYS), [pick(KEYS)]] : [e(), [pick(KEYS)], [pick(KEYS), pick(KEYS)]] } };
      case 17: return { missing_some: [pick([0, 1, 2, 3]), Array.from({ length: int(4) }, () => pick(KEYS))] };
      case 18: return { map: [list(), expr(d, "item")] };
      case 19: return { filter: [list(), expr(d, "item")] };
      case 20: return { [pick(["all", "some", "none"])]: [list(), expr(d, "item")] };
      case 21: return { reduce: [list(), expr(d, "reduce"), ...(chance(0.8) ? [e()] : [])] };
      case 22: return { [pick(["+", "-", "*", "/", "!", "!!"])]: literal(1) };
      default: return ctx === "reduce" ? reduceVar() : varRule(ctx === "item");
    }
  }
  return { rule: () => expr(1 + int(4)), data };
}

// ---- the oracle: json-logic-js, with the org dialect's deltas -------------------------------
// A second copy of json-logic-js whose `apply` is wrapped: json-logic-js recurses through
// `jsonLogic.apply`, so every nested rule comes back through the wrapper, and an operator listed
// in ORG_DELTAS runs the org dialect's definition instead of json-logic-js's. Everything not
// listed (var, missing, missing_some, if, !, !!, cat, substr, in, merge, ===, !==) is
// json-logic-js's own code.
function freshJsonLogic() {
  const path = require.resolve("json-logic-js");
  delete require.cache[path];
  const copy = require(path);
  delete require.cache[path];
  return copy;
}
const org = freshJsonLogic();
const jsApply = org.apply;

class OrgError {
  constructor(type) {
    this.type = type;
  }
}
const NAN = () => new OrgError("NaN");
const INVALID = () => new OrgError("Invalid Arguments");
const isComposite = (v) => v !== null && typeof v === "object";

// The org dialect's number coercion (arithmetic/plus.json: "" and null are 0, true is 1, "1e2"
// is 100; "Hey", [1], {} are the NaN error). json-logic-js's `+` and `*` use parseFloat
// ("" and null are NaN, "1abc" is 1, [1] is 1).
function orgNumber(v) {
  if (isComposite(v)) throw NAN();
  const n = Number(v);
  if (Number.isNaN(n)) throw NAN();
  return n;
}
const finite = (n) => {
  if (!Number.isFinite(n)) throw NAN(); // JSON has no NaN or Infinity: the suites' NaN error
  return n;
};

// The operands of an arithmetic (or cat) rule: the list, or — chained.json "Max/Cat with
// Logic Chaining", arithmetic/*.extra.json `{"+": {"preserve": [7, 8]}}` — the items of the
// array that a single non-list operand evaluates to. json-logic-js takes that array as one
// operand.
function operands(values, raw, data) {
  if (!Array.isArray(raw)) {
    const v = org.apply(raw, data);
    return Array.isArray(v) ? v : [v];
  }
  return values.map((x) => org.apply(x, data));
}

// Loose equality of two scalars (comparison/softEquals.json): JavaScript's `==`, except that
// null counts as 0 against numbers and booleans (`{"==": [null, 0]}` is true).
function orgLooseEq(a, b) {
  if (typeof a === "string" && typeof b === "string") return a === b;
  if (a === null && b === null) return true;
  if ((a === null && typeof b === "string") || (b === null && typeof a === "string")) return false;
  return Number(a) === Number(b);
}
// comparison/*.json: an array or object, or a number against a string that is not one, is the
// NaN error (`{"<": [1, "A"]}`, `{"==": [[1], 5]}`); json-logic-js answers false.
function checkComparable(a, b) {
  if (isComposite(a) || isComposite(b)) throw NAN();
  const bad = (n, s) => typeof n === "number" && typeof s === "string" && Number.isNaN(Number(s));
  if (bad(a, b) || bad(b, a)) throw NAN();
}
const COMPARE = {
  "==": orgLooseEq,
  "!=": (a, b) => !orgLooseEq(a, b),
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
};

// Equality of two JSON values: numbers by value (-0 is 0), arrays item by item, objects member
// by member whatever their order.
function sameJson(a, b) {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isComposite(a) && isComposite(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
  }
  return a === b;
}

const toArray = (v, op) => {
  if (Array.isArray(v)) return v;
  throw INVALID(op);
};

// Each delta: the operators it replaces, the suite file(s) that define it, and the definition.
// `values` are the operator's raw (unevaluated) arguments as a list, `raw` as written.
const ORG_DELTAS = {
  chainedCat: {
    ops: ["cat"],
    suites: "chained.json (\"Cat with Logic Chaining\": {\"cat\": {\"merge\": ...}} joins the array's items; json-logic-js writes String(array), with commas)",
    apply(op, values, raw, data) {
      return operands(values, raw, data).map((v) => (v === null ? "" : String(v))).join("");
    },
  },
  arithmetic: {
    ops: ["+", "-", "*", "/", "%", "max", "min"],
    suites: "arithmetic/{plus,minus,multiply,divide,modulo}.json (+ .extra.json), chained.json, compatible.json (max/min)",
    apply(op, values, raw, data) {
      const xs = operands(values, raw, data).map(orgNumber);
      switch (op) {
        case "+": return finite(xs.reduce((a, b) => a + b, 0));
        case "*": return finite(xs.reduce((a, b) => a * b, 1));
        case "-": {
          if (xs.length === 0) throw INVALID();
          return finite(xs.length === 1 ? -xs[0] : xs.reduce((a, b) => a - b));
        }
        case "/": {
          if (xs.length === 0) throw INVALID();
          const all = xs.length === 1 ? [1, xs[0]] : xs;
          return finite(all.reduce((a, b) => {
            if (b === 0) throw NAN(); // divide.json: {"/": [1, 0]} is the NaN error
            return a / b;
          }));
        }
        case "%": {
          if (xs.length < 2) throw INVALID(); // modulo.json: {"%": [1]}
          return finite(xs.reduce((a, b) => {
            if (b === 0) throw NAN();
            return a % b;
          }));
        }
        default: {
          if (xs.length === 0) throw INVALID();
          return finite(op === "max" ? Math.max(...xs) : Math.min(...xs));
        }
      }
    },
  },
  comparison: {
    ops: ["==", "!=", "<", "<=", ">", ">="],
    suites: "comparison/{softEquals,softNotEquals,lessThan,lessThanEquals,greaterThan,greaterThanEquals}.json",
    // Chained and lazy ({"<": [3, 2, {"throw": "Not Lazy"}]} is false); json-logic-js reads
    // two operands (three for < and <=) and evaluates them all.
    apply(op, values, raw, data) {
      let prev = org.apply(values[0], data);
      for (const next of values.slice(1)) {
        const cur = org.apply(next, data);
        checkComparable(prev, cur);
        if (!COMPARE[op](prev, cur)) return false;
        prev = cur;
      }
      return true;
    },
  },
  strict: {
    ops: ["===", "!=="],
    suites: "comparison/strictEquals.json, strictNotEquals.json ({\"===\": [3, 3, 3]} chains); arrays and objects: see sameJson",
    apply(op, values, raw, data) {
      let prev = org.apply(values[0], data);
      for (const next of values.slice(1)) {
        const cur = org.apply(next, data);
        if (sameJson(prev, cur) !== (op === "===")) return false;
        prev = cur;
      }
      return true;
    },
  },
  // Not in the suites (none compares arrays or objects strictly, none looks an array up in an
  // array): JavaScript compares them by identity, which JSON cannot express (json-logic-js:
  // {"===": [{"var": "a"}, {"var": "a"}]} holds where {"===": [{"var": "a"}, {"var": "b"}]}
  // with equal arrays does not). kizuna compares them as JSON values (README, Conditions).
  inArray: {
    ops: ["in"],
    suites: "string/in.json for strings; arrays and objects as JSON values (README); \"\" is in \"\" (json-logic-js: false, its `!b` guard; no suite case)",
    apply(op, values, raw, data) {
      const [needle, hay] = values.slice(0, 2).map((x) => org.apply(x, data));
      if (Array.isArray(hay)) return hay.some((item) => sameJson(item, needle));
      if (typeof hay === "string") return hay.includes(String(needle));
      return false;
    },
  },
  // json-logic-js's negative length is `temp.length + end`: with a string or array ("-1",
  // [-1]) that concatenates text ("5-1", NaN, so ""). kizuna subtracts the number. No suite case.
  // An array or object as start or length is NaN, as in arithmetic, so 0 (JavaScript reads
  // [2] as 2). No suite case.
  substrTextLength: {
    ops: ["substr"],
    suites: "string/substr.json (numbers); a negative length given as text, an array or object as start or length: kizuna's choice",
    apply(op, values, raw, data) {
      const notNumber = (x) => (x !== null && typeof x === "object" ? 0 : x);
      const [source, start, end] = values.map((x, i) => (i === 0 ? org.apply(x, data) : notNumber(org.apply(x, data))));
      const text = String(source);
      // json-logic-js's own code, with Number(end) where it would concatenate.
      const length = end !== undefined && typeof end !== "number" && Number(end) < 0 ? Number(end) : end;
      if (length < 0) {
        const temp = text.substr(start);
        return temp.substr(0, temp.length + length);
      }
      return text.substr(start, length);
    },
  },
  // A path step reads an object's member or an array's item (canonical index) only; JavaScript
  // reads into strings too ({"var": "0"} of "abc" is "a", {"var": "s.length"} is 3, as in
  // json-logic-engine). No suite case reads into a string. kizuna: missing (README).
  varPath: {
    ops: ["var"],
    suites: "compatible.json, var.extra.json (objects and arrays); into a string: none — kizuna's choice (README)",
    apply(op, values, raw, data) {
      const path = org.apply(values[0], data);
      const notFound = values.length > 1 ? org.apply(values[1], data) : null;
      if (path === undefined || path === "" || path === null) return data;
      let here = data;
      for (const key of String(path).split(".")) {
        if (Array.isArray(here) && /^(0|[1-9][0-9]*)$/.test(key) && Number(key) < here.length) here = here[Number(key)];
        else if (isComposite(here) && !Array.isArray(here) && Object.hasOwn(here, key)) here = here[key];
        else return notFound;
      }
      return here;
    },
  },
  emptyAndOr: {
    ops: ["and", "or"],
    suites: "control/and.json, control/or.json ({\"and\": []} and {\"or\": []} are false; json-logic-js: undefined)",
    apply(op, values, raw, data) {
      if (values.length === 0) return false;
      return jsApply.call(org, { [op]: raw }, data);
    },
  },
  quantifiers: {
    ops: ["all", "some", "none"],
    suites: "array/{all,some,none}.json (a missing array is Invalid Arguments; json-logic-js: false/true)",
    apply(op, values, raw, data) {
      const items = toArray(org.apply(values[0], data), op);
      // README: inside some/all/none an item whose test fails (NaN, Invalid Arguments) does not
      // decide; another item can; only if none does is it the error (kizuna's documented choice).
      let hit = false;
      let undecided = null;
      for (const item of items) {
        let t;
        try {
          t = org.truthy(org.apply(values[1], item));
        } catch (e) {
          if (!(e instanceof OrgError) || !["NaN", "Invalid Arguments"].includes(e.type)) throw e;
          undecided ??= e;
          continue;
        }
        if (t === (op !== "all")) {
          hit = true;
          break;
        }
      }
      if (!hit && undecided) throw undecided;
      return op === "all" ? items.length > 0 && !hit : op === "some" ? hit : !hit;
    },
  },
  iterators: {
    ops: ["map", "filter"],
    suites: "array/map.json, array/filter.json (a missing array is []; kizuna refuses any other non-array, README)",
    apply(op, values, raw, data) {
      const list = org.apply(values[0], data);
      if (list === null) return [];
      toArray(list, op);
      return op === "map" ? list.map((item) => org.apply(values[1], item)) : list.filter((item) => org.truthy(org.apply(values[1], item)));
    },
  },
  reduce: {
    ops: ["reduce"],
    suites: "array/reduce.json, compatible.json (without an initial value, the first item, as json-logic-engine and Array.prototype.reduce; json-logic-js starts from null)",
    apply(op, values, raw, data) {
      const list = org.apply(values[0], data);
      const hasInit = values.length > 2;
      const init = hasInit ? org.apply(values[2], data) : null;
      if (list === null) return init;
      toArray(list, op);
      const step = (accumulator, current) => org.apply(values[1], { current, accumulator });
      return hasInit ? list.reduce(step, init) : list.length === 0 ? null : list.reduce(step);
    },
  },
};

const DELTA_OF = new Map();
for (const [name, d] of Object.entries(ORG_DELTAS)) for (const op of d.ops) DELTA_OF.set(op, name);

org.apply = function (logic, data) {
  if (org.is_logic(logic)) {
    const op = org.get_operator(logic);
    const name = DELTA_OF.get(op);
    if (name) {
      const raw = logic[op];
      return ORG_DELTAS[name].apply(op, Array.isArray(raw) ? raw : [raw], raw, data);
    }
  }
  return jsApply.call(org, logic, data);
};

// ---- running both ----------------------------------------------------------------------------
function runKizuna(ruleText, dataText) {
  try {
    return { value: evaluate(ruleText, dataText, NOW) };
  } catch (e) {
    return { error: e.code ?? String(e), message: e.message };
  }
}

function runJs(logic, ruleText, dataText) {
  try {
    return { value: logic.apply(JSON.parse(ruleText), JSON.parse(dataText)) };
  } catch (e) {
    return { error: e instanceof OrgError ? e.type : `js: ${e?.message ?? e}` };
  }
}

// A result's JSON form (NaN, Infinity and undefined kept visible: none may reach a comparison
// unnoticed). -0 prints as 0, as it does in kizuna's JSON output and in JSON.stringify.
function canon(v) {
  if (v === undefined) return "undefined";
  if (typeof v === "number") return Number.isFinite(v) ? JSON.stringify(v) : String(v);
  if (Array.isArray(v)) return `[${v.map(canon).join(",")}]`;
  if (v !== null && typeof v === "object") return `{${Object.keys(v).map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(",")}}`;
  return JSON.stringify(v);
}

// JSON cannot hold a lone surrogate as UTF-8: kizuna writes U+FFFD where JavaScript keeps half a
// pair ({"substr": ["😀", 1]}), as TextEncoder does.
const wellFormed = (v) => (typeof v === "string" ? v.toWellFormed() : Array.isArray(v) ? v.map(wellFormed) : v);
const outcome = (r) => (r.error !== undefined ? "error" : canon(wellFormed(r.value)));

// Compile-time refusals kizuna documents (README, Conditions): wrong arity, a literal that an
// operator can never use (a string to `map`), unknown operators.
const COMPILE_REFUSALS = new Set(["wrong_arity", "invalid_argument", "unknown_operator"]);

test(`kizuna agrees with json-logic-js (+ the org dialect's deltas) on ${CASES} random rules (seed ${SEED})`, () => {
  const gen = generator(mulberry32(SEED));
  const n = { agree: 0, compileRefusals: 0, referenceCrashes: 0, jsDiffers: 0 };
  const deltaUse = Object.fromEntries(Object.keys(ORG_DELTAS).map((k) => [k, 0]));
  const failures = [];
  for (let i = 0; i < CASES; i++) {
    const ruleText = toText(gen.rule());
    const dataText = toText(gen.data());
    const k = runKizuna(ruleText, dataText);
    if (k.error !== undefined && k.error !== "evaluation_failed") {
      if (!COMPILE_REFUSALS.has(k.error)) failures.push(`#${i} kizuna refused with ${k.error}: ${k.message}\n  rule ${ruleText}`);
      n.compileRefusals++;
      continue;
    }
    const o = runJs(org, ruleText, dataText);
    if (o.error?.startsWith("js: ")) {
      n.referenceCrashes++; // json-logic-js itself throws a TypeError: it has no answer to compare
      continue;
    }
    const j = runJs(reference, ruleText, dataText);
    if (outcome(j) !== outcome(o)) {
      n.jsDiffers++;
      for (const [name, d] of Object.entries(ORG_DELTAS)) if (d.ops.some((op) => ruleText.includes(`"${op}":`))) deltaUse[name]++;
    }
    if (outcome(k) === outcome(o)) {
      n.agree++;
      continue;
    }
    failures.push(`#${i} rule ${ruleText}\n  data ${dataText}\n  kizuna ${outcome(k)}${k.message ? ` (${k.message})` : ""}\n  oracle ${outcome(o)}${o.error ? ` (${o.error})` : ""}, json-logic-js ${outcome(j)}`);
  }
  const checked = CASES - n.compileRefusals - n.referenceCrashes;
  console.log(`seed ${SEED}: ${CASES} rules, ${n.agree}/${checked} agree (json-logic-js itself differs on ${n.jsDiffers}, explained by the deltas), ${n.compileRefusals} refused at compile time, ${n.referenceCrashes} where json-logic-js throws`);
  console.log(`rules that use each delta where json-logic-js differs: ${JSON.stringify(deltaUse)}`);
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} disagreements (LOGIC_FUZZ_SEED=${SEED} LOGIC_FUZZ_CASES=${CASES} replays them)`);
  // The generator must keep reaching evaluation: refusals and crashes stay a small share.
  assert.ok(n.compileRefusals < CASES * 0.2, `${n.compileRefusals} compile-time refusals`);
  assert.ok(n.referenceCrashes < CASES * 0.02, `${n.referenceCrashes} json-logic-js crashes`);
  // Every delta is needed: json-logic-js differs somewhere each one applies.
  if (CASES >= 5000) for (const [name, count] of Object.entries(deltaUse)) assert.ok(count > 0, `delta ${name} never exercised`);
});

// kizuna's own choices where the suites say nothing (README, Conditions: "Where the suites say
// nothing…"), pinned with json-logic-js's answer beside them so a change on either side shows.
test("kizuna's documented choices where json-logic-js answers by a JavaScript accident", () => {
  const cases = [
    // [rule (JSON text), data (JSON text), kizuna, json-logic-js]
    ['{"===": [{"var": "a"}, {"var": "b"}]}', '{"a": [1], "b": [1]}', true, false],
    ['{"in": [[1], [[1], 2]]}', "null", true, false],
    ['{"in": ["", ""]}', "null", true, false],
    ['{"var": "name.0"}', '{"name": "abc"}', null, "a"],
    ['{"var": "name.length"}', '{"name": "abc"}', null, 3],
    ['{"reduce": [[5, 2], {"var": "accumulator"}]}', "null", 5, null],
    ['{"map": ["abc", {"var": ""}]}', "null", "invalid_argument", []],
    ['{"map": [{"var": "n"}, {"var": ""}]}', '{"n": 5}', "evaluation_failed", []],
    ['{"substr": ["abcde", 0, "-1"]}', "null", "abcd", ""],
    ['{"substr": ["abcdef", 1, {"var": "a"}]}', '{"a": [2]}', "", "bc"],
    ['{"cat": [9007199254740993]}', "null", "9007199254740993", "9007199254740992"],
    ['{"==": [9007199254740993, 9007199254740992]}', "null", false, true],
  ];
  for (const [rule, data, kizuna, js] of cases) {
    const k = runKizuna(rule, data);
    assert.deepEqual(k.error ?? k.value, kizuna, `kizuna: ${rule} with ${data}`);
    assert.deepEqual(reference.apply(JSON.parse(rule), JSON.parse(data)), js, `json-logic-js: ${rule} with ${data}`);
  }
});
