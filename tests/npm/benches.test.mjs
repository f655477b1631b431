// The benches' correctness checks, without their measuring (BENCH_CHECK_ONLY=1): every peer
// engine agrees with kizuna on every bench user, kizuna's rendered text is byte-identical to
// liquidjs's, and the edge worker's json-logic-js + liquidjs peer decides as kizuna does. Run
// in `make test` so a change to the contract that a peer does not follow fails here, not at
// the next `make bench`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const check = (bench) => execFileSync(process.execPath, [bench], { cwd: root, encoding: "utf8", env: { ...process.env, BENCH_CHECK_ONLY: "1" } });

test("segments bench: json-logic-js and json-logic-engine agree with kizuna on every user", () => {
  assert.match(check("benches/segments.mjs"), /all engines agree on every user in both scenarios/);
});

test("templates bench: kizuna's output is byte-identical to liquidjs's for every user and template", () => {
  assert.match(check("benches/templates.mjs"), /5 templates × 10000 users: kizuna's output is byte-identical to liquidjs's/);
});

test("worker bench: the json-logic-js + liquidjs worker decides like kizuna for every bench user", () => {
  assert.match(check("benches/worker/bench.mjs"), /correctness: the json-logic-js \+ liquidjs worker decides like kizuna for all 2000 bench users/);
});
