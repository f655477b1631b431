// The patched string glue (pkg/scripts/glue.mjs): contexts longer than 64 UTF-16 units go into
// Wasm memory through one encodeInto; the decision echoes the user id, so non-ASCII ids
// (BMP and astral) must come back exactly, whatever the length and whether the input spells
// them raw or as \u escapes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Engine } from "../../pkg/node.js";

const config = JSON.parse(readFileSync(new URL("../../benches/segments.config.json", import.meta.url), "utf8"));
const engine = new Engine(config);
const escaped = (s) => s.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

test("decideJson round-trips non-ASCII user ids at every length around the glue's threshold", () => {
  for (const id of ["U", "U渡辺", "U🎉é", "Uｱ🎉" + "渡".repeat(40)]) {
    for (let pad = 0; pad < 80; pad += 7) {
      const context = { version: 1, now: "2026-11-27T10:30:00+09:00", user: { userId: id + "x".repeat(pad) } };
      const text = JSON.stringify(context);
      const decision = JSON.parse(engine.decideJson(text));
      assert.equal(decision.userId, context.user.userId);
      assert.equal(engine.decideJson(escaped(text)), engine.decideJson(text));
    }
  }
});

// A JS caller (or TypeScript through `any`) can hand a string parameter anything. Before the
// guard an object reached malloc as `undefined` and trapped inside Wasm ("memory access out of
// bounds"); now every such call throws the package's structured error, and the engine is intact.
test("a non-string where text is expected throws a KizunaError, not a Wasm trap", async () => {
  const { renderTemplate } = await import("../../pkg/node.js");
  const context = { version: 1, now: "2026-11-27T10:30:00+09:00", user: { userId: "U1" } };
  const before = engine.decideJson(JSON.stringify(context));
  const calls = {
    "decideJson(object)": [() => engine.decideJson(context), "an object"],
    "decideJson(null)": [() => engine.decideJson(null), "null"],
    "decideMany(number)": [() => engine.decideMany(42), "a number"],
    "decideMany(array)": [() => engine.decideMany(["{}"]), "an array"],
    "renderJson(id, object)": [() => engine.renderJson("x", context), "an object"],
    "renderTemplate(number)": [() => renderTemplate(5, {}), "a number"],
    "quizStart(undefined)": [() => engine.quizStart(undefined), "undefined"],
  };
  for (const [name, [call, kind]] of Object.entries(calls)) {
    assert.throws(call, (err) => {
      assert.equal(err.name, "KizunaError", name);
      assert.equal(err.code, "invalid_value", name);
      assert.equal(err.path, "", name);
      assert.deepEqual(err.errors.map((e) => e.code), ["invalid_value"], name);
      assert.match(err.message, new RegExp(`got ${kind}:`), name);
      return true;
    });
  }
  // The hint says what to pass instead: NDJSON for an array (decideMany's likely mistake; the
  // glue cannot tell which call it is in, so the hint says when it applies).
  assert.throws(() => engine.decideMany(["{}"]), /if these are contexts, decideMany\(\) takes many as NDJSON: their JSON texts joined with "\\n"/);
  assert.throws(() => engine.decideJson(context), /call decide\(\) or render\(\) instead/);
  assert.equal(engine.decideJson(JSON.stringify(context)), before);
  // A String object is text, as it was before the guard.
  assert.equal(engine.decideJson(new String(JSON.stringify(context))), before);
});

// review-npm20 B2: wasm-bindgen's own error for a freed object is a plain Error("null pointer
// passed to rust"), and a second free() threw it too (so did a `using` block after free()).
test("an Engine used after free() throws a KizunaError saying so; free() twice is harmless", async () => {
  const { KizunaError } = await import("../../pkg/node.js");
  const context = JSON.stringify({ version: 1, now: "2026-11-27T10:30:00+09:00", user: { userId: "U1" } });
  const gone = new Engine(config);
  gone.free();
  gone.free();
  for (const call of [() => gone.decideJson(context), () => gone.decide(JSON.parse(context)), () => gone.configHash, () => gone.quizStart("q")]) {
    assert.throws(call, (err) => {
      assert.ok(err instanceof KizunaError);
      assert.equal(err.code, "invalid_value");
      assert.match(err.message, /this Engine was freed/);
      return true;
    });
  }
  assert.equal(JSON.parse(engine.decideJson(context)).userId, "U1", "other engines are untouched");
});

test("a context JSON.stringify throws on is a KizunaError, and its toJSON runs once", () => {
  let calls = 0;
  const context = { now: "2026-11-27T10:30:00+09:00", user: { userId: "U1", toJSON() { calls++; throw new Error("no"); } } };
  const cyclic = { now: "2026-11-27T10:30:00+09:00", user: { userId: "U1" } };
  cyclic.user.self = cyclic;
  const contents = new Engine({ version: 1, contents: [{ id: "c", variants: [{ id: "v", messages: [{ type: "text", text: "hi" }] }] }] });
  for (const [call, what] of [[() => engine.decide(context), "decide"], [() => contents.render("c", context), "render"], [() => engine.decide(cyclic), "decide a cycle"], [() => engine.decide({ version: 1n }), "decide a BigInt"]]) {
    calls = 0;
    assert.throws(call, (e) => e.name === "KizunaError" && e.code === "invalid_json" && e.path === "", what);
    if (!what.includes(" a ")) assert.equal(calls, 1, `${what}: toJSON ran ${calls} times`);
  }
});
