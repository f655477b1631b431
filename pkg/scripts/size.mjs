// Prints the package's transfer size: gzipped .wasm + JS glue (the 150 KB budget).
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url);
const files = ["kizuna_bg.wasm", "kizuna.js", "../browser.js"];
let raw = 0, gz = 0;
for (const f of files) {
  const bytes = readFileSync(new URL(f, dist));
  raw += bytes.length;
  gz += gzipSync(bytes, { level: 9 }).length;
}
const kb = (n) => (n / 1024).toFixed(1) + " KiB";
console.log(`package transfer size: ${kb(gz)} gzipped (${kb(raw)} raw) — .wasm + JS glue + browser entry`);
// A measurement, not a gate: the figure goes into the README either way.
console.log(gz > 150 * 1024 ? "over the 150 KiB target" : "within the 150 KiB target");
