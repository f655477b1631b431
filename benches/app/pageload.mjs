// Page-load benchmark of the LIFF quiz (make bench-app; the app must be built: make app).
//
// Serves www/dist/app with www/app/serve.mjs (gzip), loads the quiz page in Debian's chromium
// (headless, 375×667) and reports:
//   - transferred bytes of JS + Wasm on a cold load, gzipped as served (Resource Timing
//     encodedBodySize), split into what a user inside LINE downloads and the @line/liff-mock
//     chunk that only loads outside LINE;
//   - time from navigation start to the first question on screen (the app's
//     performance.mark("kizuna:first-question"), set right after the first question is in the
//     DOM and focused), warm cache, median / p90 / min / max of N loads (default 30; BENCH_N).
// Targets (issue #5): ≤ 200 KB gzipped JS + Wasm including the LIFF SDK; ≤ 300 ms warm.
import { startApp } from "../../www/app/serve.mjs";
import { launch } from "../../tests/browser/helpers.mjs";
import { readdirSync } from "node:fs";
import { DIST } from "../../www/app/serve.mjs";

const N = Number(process.env.BENCH_N || 30);
const app = await startApp({ port: 0 });
// fill the server's gzip cache first, so the cold load times the browser, not the compression
for (const f of ["index.html", ...readdirSync(`${DIST}/assets`).map((f) => `assets/${f}`)]) {
  await (await fetch(`${app.url}/${f}`, { headers: { "accept-encoding": "gzip" } })).arrayBuffer();
}
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 375, height: 667 } });
const page = await context.newPage();

async function load() {
  await page.goto(app.quizUrl);
  await page.waitForFunction(() => performance.getEntriesByName("kizuna:first-question").length > 0, null, { timeout: 30000 });
  return page.evaluate(() => ({
    firstQuestion: performance.getEntriesByName("kizuna:first-question")[0].startTime,
    modules: performance.getEntriesByName("kizuna:modules")[0]?.startTime,
    engine: performance.getEntriesByName("kizuna:engine")[0]?.startTime,
    html: performance.getEntriesByType("navigation")[0].responseEnd,
    resources: performance.getEntriesByType("resource").map((r) => ({ name: r.name, transfer: r.transferSize, encoded: r.encodedBodySize, decoded: r.decodedBodySize })),
  }));
}

// cold: empty cache
const cold = await load();
const kb = (n) => (n / 1024).toFixed(1);
const files = cold.resources.filter((r) => /\.(m?js|wasm)(\?|$)/.test(r.name));
const isMock = (r) => /\/liff-mock-[\w-]+\.js$/.test(r.name);
const sum = (rs, k) => rs.reduce((a, r) => a + r[k], 0);
const wasm = files.filter((r) => r.name.endsWith(".wasm"));
const js = files.filter((r) => !r.name.endsWith(".wasm"));
const inLine = files.filter((r) => !isMock(r));

// warm: N more loads with the cache filled (a fresh quiz each time: no saved state)
const times = [];
const phases = { html: [], modules: [], engine: [] };
for (let i = 0; i < N; i++) {
  await page.evaluate(() => localStorage.clear());
  const r = await load();
  times.push(r.firstQuestion);
  for (const k of Object.keys(phases)) phases[k].push(r[k]);
}
const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
times.sort((a, b) => a - b);
const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
const median = times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;

console.log("quiz page, cold load (gzip as served by www/app/serve.mjs):");
for (const r of files) console.log(`  ${new URL(r.name).pathname.padEnd(44)} ${kb(r.encoded).padStart(7)} KiB gz  (${kb(r.decoded)} KiB)`);
console.log(`  JS ${kb(sum(js, "encoded"))} KiB + Wasm ${kb(sum(wasm, "encoded"))} KiB = ${kb(sum(files, "encoded"))} KiB gzipped (target ≤ 200 KB incl. LIFF SDK)`);
console.log(`  inside LINE (without the @line/liff-mock chunk): ${kb(sum(inLine, "encoded"))} KiB gzipped`);
console.log(`first question visible, cold cache (one load, localhost): ${cold.firstQuestion.toFixed(1)} ms`);
console.log(`first question visible, warm cache, ${N} loads: median ${median.toFixed(1)} ms, p90 ${q(0.9).toFixed(1)} ms, min ${times[0].toFixed(1)} ms, max ${times.at(-1).toFixed(1)} ms (target ≤ 300 ms)`);
console.log(`  phases (median ms from navigation start): HTML received ${med(phases.html).toFixed(1)}, modules evaluated (Wasm instantiated) ${med(phases.modules).toFixed(1)}, config compiled ${med(phases.engine).toFixed(1)}, first question ${median.toFixed(1)}`);
console.log(JSON.stringify({ bench: "app-pageload", n: N, coldMs: +cold.firstQuestion.toFixed(1), medianMs: +median.toFixed(1), p90Ms: +q(0.9).toFixed(1), gzBytes: sum(files, "encoded"), gzBytesInLine: sum(inLine, "encoded"), jsGzBytes: sum(js, "encoded"), wasmGzBytes: sum(wasm, "encoded") }));

await browser.close();
await app.close();
