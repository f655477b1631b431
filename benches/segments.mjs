// make bench: kizuna (Wasm, Node) against json-logic-js and json-logic-engine on the same 24
// segment rules over the same 10,000 seeded users, in one process. Prints users/second and
// ratios, and fails loudly if any engine disagrees with kizuna on any user.
import { readFileSync } from "node:fs";
import jsonLogic from "json-logic-js";
import { LogicEngine } from "json-logic-engine";
import { Engine } from "../pkg/node.js";
import { measureAll } from "./measure.mjs";
import { generateUsers } from "./users.mjs";
import { operators } from "./peers.mjs";

const USERS = Number(process.env.BENCH_USERS ?? 10000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const config = JSON.parse(readFileSync(new URL("./segments.config.json", import.meta.url), "utf8"));
const segments = config.segments;
const users = generateUsers(USERS, 42);
const texts = users.map((u) => JSON.stringify(u));
console.log(`${segments.length} segment rules, ${USERS} users, mean context ${Math.round(texts.reduce((n, t) => n + t.length, 0) / USERS)} bytes`);

for (const [name, fn] of Object.entries(operators)) jsonLogic.add_operation(name, (...a) => fn(a));
const jle = new LogicEngine();
for (const [name, fn] of Object.entries(operators)) jle.addMethod(name, fn);
const compiled = segments.map((s) => jle.build(s.when));
const truthy = (v) => jsonLogic.truthy(v);

const kizuna = new Engine(config);

// Every engine maps a user to the ids of its matched segments.
const engines = {
  text: {
    kizuna: (t) => JSON.parse(kizuna.decideJson(t)).segments,
    "json-logic-js": (t) => { const d = JSON.parse(t); return segments.filter((s) => truthy(jsonLogic.apply(s.when, d))).map((s) => s.id); },
    "json-logic-engine (interpreted)": (t) => { const d = JSON.parse(t); return segments.filter((s) => truthy(jle.run(s.when, d))).map((s) => s.id); },
    "json-logic-engine (compiled)": (t) => { const d = JSON.parse(t); return segments.filter((_, i) => truthy(compiled[i](d))).map((s) => s.id); },
  },
  object: {
    kizuna: (o) => kizuna.decide(o).segments,
    "json-logic-js": (o) => segments.filter((s) => truthy(jsonLogic.apply(s.when, o))).map((s) => s.id),
    "json-logic-engine (interpreted)": (o) => segments.filter((s) => truthy(jle.run(s.when, o))).map((s) => s.id),
    "json-logic-engine (compiled)": (o) => segments.filter((_, i) => truthy(compiled[i](o))).map((s) => s.id),
  },
};

// Correctness first: all engines must agree on every user.
for (const [scenario, set] of Object.entries(engines)) {
  const inputs = scenario === "text" ? texts : users;
  const reference = inputs.map(set.kizuna);
  for (const [name, run] of Object.entries(set)) {
    inputs.forEach((input, i) => {
      const got = run(input).join(",");
      if (got !== reference[i].join(",")) {
        console.error(`MISMATCH (${scenario}) ${name} on user ${i}: ${got} vs kizuna ${reference[i].join(",")}`);
        process.exit(1);
      }
    });
  }
}
console.log("all engines agree on every user in both scenarios\n");
// BENCH_CHECK_ONLY=1 (make test): the check above, no measuring.
if (process.env.BENCH_CHECK_ONLY === "1") process.exit(0);

// kizuna's hot path in the text scenario returns the decision JSON text; the JS engines build
// arrays of ids. Neither side's output is consumed further, so measure the calls themselves.
const hot = {
  text: { ...engines.text, kizuna: (t) => kizuna.decideJson(t) },
  object: engines.object,
};


const results = {};
for (const [scenario, set] of Object.entries(hot)) {
  const inputs = scenario === "text" ? texts : users;
  console.log(`scenario: ${scenario} (best of ${ROUNDS} interleaved rounds)`);
  results[scenario] = measureAll(set, inputs, ROUNDS);
  for (const [name, ups] of Object.entries(results[scenario])) {
    console.log(`  ${name.padEnd(34)} ${Math.round(ups).toLocaleString("en-US").padStart(10)} users/s`);
  }
  const k = results[scenario].kizuna;
  for (const [name, ups] of Object.entries(results[scenario])) {
    if (name !== "kizuna") console.log(`  kizuna / ${name.padEnd(32)} ${(k / ups).toFixed(2)}×`);
  }
  console.log();
}
console.log(JSON.stringify({ bench: "segments", users: USERS, rules: segments.length, results }));
