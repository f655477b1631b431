// Strings cross the Wasm boundary through Node's Buffer codecs in the Node entry (see
// pkg/node.js): every length, alignment and script must come back exactly as it went in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, renderTemplate } from "../../pkg/node.js";

const pieces = ["a", "U1", "é", "日本語", "渡辺 恵", "😀", "\u{10FFFF}", "\u0000", "\"\\", "¥3,800", "x".repeat(7)];

// Deterministic strings of 0–300 code points, mixing ASCII runs with 2-, 3- and 4-byte UTF-8.
function strings() {
  const out = [];
  let seed = 7;
  for (let n = 0; n < 400; n++) {
    let s = "";
    const len = n % 300;
    while ([...s].length < len) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      s += pieces[seed % pieces.length];
    }
    out.push(s);
  }
  return out;
}

test("strings of every length, alignment and script cross into Wasm and back unchanged", () => {
  const engine = new Engine({
    version: 1,
    contents: [{ id: "echo", variants: [{ id: "v", messages: [{ type: "text", text: "{{ user.displayName }}|{{ user.attributes.note }}" }] }] }],
  });
  for (const s of strings()) {
    const context = JSON.stringify({ now: "2026-11-27T10:00:00+09:00", user: { userId: `U${s}`, displayName: s || "-", attributes: { note: s } } });
    const d = JSON.parse(engine.renderJson("echo", context));
    assert.equal(d.userId, `U${s}`);
    assert.equal(d.messages[0].text, `${s || "-"}|${s}`);
    assert.equal(renderTemplate("{{ s }}", { s }), s);
  }
});

test("results read right after the Wasm memory grows", () => {
  const engine = new Engine({
    version: 1,
    contents: [{ id: "echo", variants: [{ id: "v", messages: [{ type: "text", text: "{{ user.displayName | size }}" }] }] }],
  });
  const context = (name) => JSON.stringify({ now: "2026-11-27T10:00:00+09:00", user: { userId: "U渡辺", displayName: name } });
  const before = engine.renderJson("echo", context("恵"));
  // 24 MB of context text: more than the memory holds so far, so it grows (and detaches the
  // buffer the previous results were read from).
  const big = JSON.parse(engine.renderJson("echo", context("日本".repeat(4_000_000))));
  assert.equal(big.messages[0].text, "8000000");
  assert.equal(engine.renderJson("echo", context("恵")), before);
  assert.equal(JSON.parse(engine.decideJson(context("a"))).userId, "U渡辺");
});
