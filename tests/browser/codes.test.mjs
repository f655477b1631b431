// The playground's Japanese titles of the engine's error codes (Node only, no browser): one for
// every code the engine has (read from src/error.rs, where `Code::as_str` spells them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CODE_TITLE, codeLabel } from "../../www/app/src/codes.js";

test("every engine error code has a Japanese title in the playground, and no other", () => {
  const source = readFileSync(new URL("../../src/error.rs", import.meta.url), "utf8");
  const codes = [...source.matchAll(/Code::\w+ => "([a-z_]+)"/g)].map((m) => m[1]);
  assert.ok(codes.length >= 38, `codes read from src/error.rs: ${codes.length}`);
  assert.deepEqual(Object.keys(CODE_TITLE).sort(), [...new Set(codes)].sort());
  for (const [code, title] of Object.entries(CODE_TITLE)) assert.match(title, /[\u3040-\u30ff\u4e00-\u9fff]/, code);
  assert.equal(codeLabel("unknown_segment"), "[unknown_segment] 存在しないセグメント: ");
  assert.equal(codeLabel("from_a_newer_engine"), "[from_a_newer_engine] ");
  assert.equal(codeLabel("constructor"), "[constructor] ", "not an inherited name");
});
