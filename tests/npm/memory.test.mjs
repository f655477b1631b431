// Memory over a long run (review-soak24). One Wasm instance serves a Worker isolate, a LIFF page
// or a batch job for good, and its linear memory never shrinks: anything a call leaves behind —
// a successful call or a failed one — adds up until an out-of-memory trap kills the instance
// for every later request. These tests pin that the memory stays flat across many calls of
// every kind, and that a large input once costs its high-water mark, not more on every call.
//
// Deterministic, not timing-based: the allocator answers the same calls the same way, so a
// round that frees all it takes leaves `memory.buffer.byteLength` exactly where it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Engine, renderTemplate, evaluate, bulkRequests } from "../../pkg/node.js";
import { initSync } from "../../pkg/dist/kizuna.js";

const wasmBytes = readFileSync(new URL("../../pkg/dist/kizuna_bg.wasm", import.meta.url));
// node.js has instantiated the module already: initSync hands back its exports (the memory).
const wasm = initSync({ module: wasmBytes });
const memory = () => wasm.memory.buffer.byteLength;
const externrefs = () => wasm.__wbindgen_externrefs.length;

const read = (p) => readFileSync(new URL(`../../examples/${p}`, import.meta.url), "utf8");
const configText = read("skincare/config.json");
const config = JSON.parse(configText);
const contexts = read("skincare/contexts.ndjson").split("\n").filter(Boolean);
const contextObjects = contexts.map((l) => JSON.parse(l));
const paths = JSON.parse(read("skincare/quiz-paths.json"));
const brokenConfig = read("broken-config.json");
const ndjson = contexts.join("\n");
const contentIds = config.contents.map((c) => c.id);

// Contents that fail once rendered (output and loop limits): a decision with `errors`.
const limitsConfig = structuredClone(config);
limitsConfig.contents.push(
  { id: "too_long", on: [], variants: [{ id: "v", messages: [{ type: "text", text: "{% for i in (1..9000) %}ああああああああ{% endfor %}" }] }] },
  { id: "loops", on: [], variants: [{ id: "v", messages: [{ type: "text", text: "{% for i in (1..200) %}{% for j in (1..200) %}{% endfor %}{% endfor %}x" }] }] },
);
// A context the checks refuse: a purchase without `at`.
const refused = structuredClone(contextObjects[0]);
refused.user.purchases = [{ category: "lotion" }];
const refusedText = JSON.stringify(refused);

const engine = new Engine(config);
const limits = new Engine(limitsConfig);

/** Runs `f` and expects a KizunaError. */
function fails(f) {
  try {
    f();
  } catch (e) {
    assert.equal(e.name, "KizunaError", e.stack);
    return;
  }
  assert.fail(`did not throw: ${f}`);
}

/** A quiz from start to result, along one example path. */
function quiz(path) {
  let state = engine.quizStart("skin_type");
  for (const [q, a] of path.answers) state = engine.quizAnswer(state, q, a);
  assert.equal(engine.quizQuestion(state), null);
  return engine.quizResult(state, contextObjects[0]);
}

// Each call kind, as a function of the iteration; the slow ones run every few iterations.
const calls = {
  decideJson: (i) => engine.decideJson(contexts[i % contexts.length]),
  decideJsonExplain: (i) => engine.decideJson(contexts[i % contexts.length], true),
  decide: (i) => engine.decide(contextObjects[i % contexts.length], i % 4 === 0),
  decideText: (i) => engine.decide(contexts[i % contexts.length]),
  decideMany: (i) => i % 20 === 0 && engine.decideMany(ndjson),
  renderJson: (i) => engine.renderJson(contentIds[i % contentIds.length], contexts[i % contexts.length]),
  render: (i) => engine.render(contentIds[i % contentIds.length], contextObjects[i % contexts.length]),
  renderLimits: (i) => i % 10 === 0 && limits.renderJson(i % 20 === 0 ? "too_long" : "loops", contexts[0]),
  quiz: (i) => i % 8 === 0 && quiz(paths[(i >> 3) % paths.length]),
  playground: () => [evaluate({ days_since: [{ var: "at" }] }, { at: "2026-11-20" }, "2026-11-27T00:00:00+09:00"), renderTemplate("{{ p | yen }}", { p: 1 }, "2026-11-27T00:00:00+09:00")],
  bulkRequests: (i) => i % 50 === 0 && bulkRequests(contexts.map((c) => engine.decideJson(c)).join("\n")),
  // Every error path: the KizunaError is built in Rust (message, code, path, errors).
  malformedContext: () => fails(() => engine.decideJson('{"version": 1, "now": ')),
  malformedContextObject: () => fails(() => engine.decide('{"version": 1, "now": ', true)),
  refusedContext: (i) => fails(() => engine.decideJson(refusedText, i % 2 === 0)),
  unknownContent: (i) => fails(() => engine.renderJson(`nope${i & 7}`, contexts[0])),
  unknownContentObject: () => fails(() => engine.render("nope", contextObjects[0])),
  templateErrors: (i) => i % 4 === 0 && fails(() => renderTemplate(i % 8 === 0 ? "{% for i in (1..20000) %}{% endfor %}" : "{{ x | nope }}", {})),
  quizWrongQuestion: () => fails(() => engine.quizAnswer(engine.quizStart("skin_type"), "q5", "no")),
  quizBadState: () => fails(() => engine.quizAnswer('{"quiz":"skin_type","v":9}', "q1", "tight")),
  quizBadStateObject: () => fails(() => engine.quizQuestion({ nope: 1 })),
  quizUnknown: () => fails(() => engine.quizStart("nope")),
  quizBadAnswer: () => fails(() => engine.quizAnswer(engine.quizStart("skin_type"), "q1", 5)),
  notText: () => fails(() => engine.renderJson("welcome", contextObjects[0])),
};

// A worker reloading its config: compile and free, compile failures, `using` blocks.
const cycles = {
  newAndFree: () => new Engine(configText).free(),
  newObjectAndFree: () => new Engine(config).free(),
  compileErrors: () => fails(() => new Engine(brokenConfig)),
  // What a `using` block compiles to (Node 20 has Symbol.dispose but not the syntax).
  using: () => {
    const e = new Engine(configText);
    try {
      e.decideJson(contexts[0]);
    } finally {
      e[Symbol.dispose]();
    }
  },
};

/** Memory and externref table after `rounds` of every call in `kinds`, warmed up first. */
function soak(kinds, rounds, warm) {
  const run = (n) => {
    for (let i = 0; i < n; i++) for (const f of Object.values(kinds)) f(i);
  };
  run(warm);
  const before = { memory: memory(), externrefs: externrefs() };
  run(rounds);
  return { before, after: { memory: memory(), externrefs: externrefs() } };
}

// First, while the instance's memory has little room to spare (the later tests leave it tens
// of MB of free space, which would hide a transient buffer).
test("a large string goes into Wasm memory in a buffer of its size, not three times it", async () => {
  // Half ASCII, then Japanese: 3 bytes a UTF-16 unit was the worst-case buffer.
  const text = `{"version": 1, "pad": "${"x".repeat(3e6)}", "note": "${"肌".repeat(1e6)}"`; // no closing brace
  const bytes = Buffer.byteLength(text);
  // Both instances: node.js's (its Buffer codec) and a second one of the glue without it, as
  // the browser and workerd entries load it.
  const generic = await import("../../pkg/dist/kizuna.js?generic");
  const genericWasm = generic.initSync({ module: wasmBytes });
  for (const [name, E, mem] of [["node", Engine, memory], ["generic", generic.Engine, () => genericWasm.memory.buffer.byteLength]]) {
    const e = new E(config);
    const start = mem();
    fails(() => e.decideJson(text));
    assert.ok(mem() - start < 1.25 * bytes, `${name}: grew ${mem() - start} for ${bytes} bytes`);
    // And the text arrives whole: a large context with non-ASCII after the padding.
    const id = `U${"x".repeat(70000)}渡辺🎉é`;
    const decision = JSON.parse(e.decideJson(JSON.stringify({ ...contextObjects[0], pad: "あ".repeat(50000), user: { ...contextObjects[0].user, userId: id } })));
    assert.equal(decision.userId, id, name);
    e.free();
  }
});

test("memory stays flat across thousands of decide, render, quiz and failing calls", () => {
  // 2,000 rounds of 23 call kinds. Checked able to fail: 16 bytes leaked per decision grew the
  // memory by 384 KiB; one JS string leaked per KizunaError grew the externref table.
  const { before, after } = soak(calls, 2000, 200);
  assert.deepEqual(after, before);
});

test("memory stays flat across engine cycles: new + free, compile errors, using blocks", () => {
  const { before, after } = soak(cycles, 60, 5);
  assert.deepEqual(after, before);
});

test("a large input costs its high-water mark once, not on every later call", () => {
  // An 8 MB batch, a 2 MB context and a decision with the explain trace of that context (a
  // kept result buffer): then normal calls, and the same again, need no more memory.
  const big = structuredClone(contextObjects[1]);
  big.user.purchases = Array.from({ length: 20000 }, (_, i) => ({ category: "lotion", sku: `S${i}`, price: 3200, at: "2026-10-20T12:00:00+09:00" }));
  const bigText = JSON.stringify(big);
  const batch = `${ndjson}\n`.repeat(Math.ceil(8e6 / ndjson.length));
  const once = () => {
    engine.decideMany(batch);
    engine.decideJson(bigText);
    engine.decideJson(bigText, true);
    for (let i = 0; i < 200; i++) engine.decideJson(contexts[i % contexts.length], true);
  };
  once();
  const high = memory();
  once();
  once();
  assert.equal(memory(), high);
});
