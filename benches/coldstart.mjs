// Cold start: in a fresh Node process, import the package, compile the 24-segment config and
// decide once. Median of 15 processes; also prints the package's transfer size.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// Fixtures are prepared before the clock starts; timed: import (read + compile + instantiate
// the .wasm), compiling the config, the first decision.
const child = `
const { readFileSync } = await import("node:fs");
const config = readFileSync(${JSON.stringify(fileURLToPath(new URL("./segments.config.json", import.meta.url)))}, "utf8");
const { generateUsers } = await import(${JSON.stringify(new URL("./users.mjs", import.meta.url).href)});
const user = JSON.stringify(generateUsers(1, 7)[0]);
const t0 = performance.now();
const { Engine } = await import(${JSON.stringify(new URL("../pkg/node.js", import.meta.url).href)});
const t1 = performance.now();
const engine = new Engine(config);
const d = JSON.parse(engine.decideJson(user));
const t2 = performance.now();
if (!d.decisionId) process.exit(1);
console.log(JSON.stringify({ total: t2 - t0, import: t1 - t0 }));
`;
const runs = [];
const imports = [];
for (let i = 0; i < 15; i++) {
  const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", child], { encoding: "utf8" }));
  runs.push(out.total);
  imports.push(out.import);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`cold start (import + compile 24 segments + first decision, fresh node process): median ${median(runs).toFixed(1)} ms (of which import ${median(imports).toFixed(1)} ms), min ${Math.min(...runs).toFixed(1)} ms, max ${Math.max(...runs).toFixed(1)} ms over ${runs.length} processes`);
console.log(JSON.stringify({ bench: "coldstart", medianMs: median(runs), importMs: median(imports) }));
