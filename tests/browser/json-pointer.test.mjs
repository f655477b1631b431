// Unit tests of the playground's JSON pointer → text range locator (Node only, no browser).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { locate, parsePointer, offsetOf, lineOf, columnOf, templateRange } from "../../www/app/src/json-pointer.js";

const slice = (text, p) => {
  const r = locate(text, p);
  return { text: text.slice(r.start, r.end), found: r.found, pointer: r.pointer };
};

test("parsePointer unescapes ~1 and ~0 and accepts the URI fragment form", () => {
  assert.deepEqual(parsePointer(""), []);
  assert.deepEqual(parsePointer("/a~1b/m~0n/0"), ["a/b", "m~n", "0"]);
  assert.deepEqual(parsePointer("#/a%20b"), ["a b"]);
  assert.deepEqual(parsePointer("/"), [""]);
  assert.throws(() => parsePointer("a"));
});

test("members are selected key to value, elements and the root as values", () => {
  const t = '  {"a": {"b": [10, {"c": "x\\"y"}, [1,2]]}, "e/f": true, "": 0}  ';
  assert.deepEqual(slice(t, ""), { text: t.trim(), found: true, pointer: "" });
  assert.equal(slice(t, "/a").text, '"a": {"b": [10, {"c": "x\\"y"}, [1,2]]}');
  assert.equal(slice(t, "/a/b/0").text, "10");
  assert.equal(slice(t, "/a/b/1/c").text, '"c": "x\\"y"');
  assert.equal(slice(t, "/a/b/2/1").text, "2");
  assert.equal(slice(t, "/e~1f").text, '"e/f": true');
  assert.equal(slice(t, "/").text, '"": 0');
});

test("a missing place gives its deepest existing ancestor, not found", () => {
  const t = '{"segments": [{"id": "a"}]}';
  assert.deepEqual(slice(t, "/segments/3"), { text: '"segments": [{"id": "a"}]', found: false, pointer: "/segments" });
  assert.deepEqual(slice(t, "/segments/0/when"), { text: '{"id": "a"}', found: false, pointer: "/segments/0" });
  assert.deepEqual(slice(t, "/segments/x"), { text: '"segments": [{"id": "a"}]', found: false, pointer: "/segments" });
  assert.equal(slice(t, "/segments/0/id/deeper").pointer, "/segments/0/id");
});

test("keys with escapes, unicode and duplicates (the last wins, as in JSON.parse)", () => {
  const t = '{"\\u0061": 1, "説明": "乾燥肌", "k": 1, "k": 2}';
  assert.equal(slice(t, "/a").text, '"\\u0061": 1');
  assert.equal(slice(t, "/説明").text, '"説明": "乾燥肌"');
  assert.equal(slice(t, "/k").text, '"k": 2');
});

test("invalid JSON is followed as far as it parses", () => {
  const t = '{"a": {"b": 1,, "c": 2}}';
  const r = locate(t, "/a/c");
  assert.equal(r.found, false);
  assert.equal(r.pointer, "/a");
});

test("the errors of examples/broken-config.json", () => {
  const t = readFileSync(new URL("../../examples/broken-config.json", import.meta.url), "utf8");
  assert.equal(slice(t, "/segments/0/when/and/1").text, '{ "greater_than": [{ "var": "user.attributes.spend" }, 10000] }');
  assert.equal(slice(t, "/segments/1/descripton").text, '"descripton": "added us this week"');
  assert.equal(slice(t, "/segments/3/when/after/1/ago").text, '"ago": "90 days"');
  assert.equal(slice(t, "/segments/4/when/in_segment").text, '"in_segment": "repeater"');
  assert.ok(slice(t, "/segments/2").text.startsWith('{ "id": "new_friend"'));
});

test("offsetOf and lineOf", () => {
  const t = "ab\ncd\n\nef";
  assert.equal(offsetOf(t, 1, 1), 0);
  assert.equal(offsetOf(t, 2, 2), 4);
  assert.equal(offsetOf(t, 4, 1), 7);
  assert.equal(offsetOf(t, 9, 1), t.length);
  assert.equal(lineOf(t, 0), 1);
  assert.equal(lineOf(t, 4), 2);
  assert.equal(lineOf(t, 8), 4);
});

test("offsetOf counts columns in code points, as the engine's JSON errors do; columnOf inverts it", () => {
  const t = '{\n  "a": "😀😀 x" "b"\n}';
  const at = t.indexOf('"b"');
  // the engine's column of "b": 14 code points before it on its line (the emoji count 1 each)
  assert.equal(offsetOf(t, 2, 15), at);
  assert.equal(columnOf(t, at), 15);
  assert.equal(offsetOf(t, 2, 99), t.indexOf("\n", at), "a column past the line's end stays on the line");
  assert.equal(columnOf(t, 0), 1);
});

test("locate gives the start of the value of a member", () => {
  const t = '{"a": {"b": "xy"}, "c": [1, "z"]}';
  assert.equal(locate(t, "/a/b").valueStart, t.indexOf('"xy"'));
  assert.equal(locate(t, "/c/1").valueStart, t.indexOf('"z"'));
  assert.equal(locate(t, "").valueStart, 0);
});

test("templateRange: a line and column of the template → its character in the JSON string literal", () => {
  const at = (raw, line, column) => {
    const text = `{"text": ${raw}}`;
    const r = templateRange(text, text.indexOf('"', 8), line, column);
    return r && text.slice(r.start, r.end);
  };
  const tpl = '"こんにちは\\n{{ user.displayName }}様\\n{% if x %}未完"';
  assert.equal(at(tpl, 1, 1), "こ");
  assert.equal(at(tpl, 2, 1), "{", "\\n in the literal starts a template line");
  assert.equal(at(tpl, 2, 23), "様");
  assert.equal(at(tpl, 3, 1), "{");
  assert.equal(at(tpl, 3, 11), "未");
  assert.equal(at(tpl, 3, 13), '"', "the end of the template: the closing quote");
  assert.equal(at(tpl, 1, 40), "\\n", "past the line's end: the line break");
  assert.equal(at(tpl, 4, 1), null, "no such line");
  // \uXXXX is one character, an escaped surrogate pair and a raw emoji are one code point each
  assert.equal(at('"\\u00e9\\ud83d\\ude00😀 {{ x | nofilter }}"', 1, 1), "\\u00e9");
  assert.equal(at('"\\u00e9\\ud83d\\ude00😀 {{ x | nofilter }}"', 1, 2), "\\ud83d\\ude00");
  assert.equal(at('"\\u00e9\\ud83d\\ude00😀 {{ x | nofilter }}"', 1, 3), "😀");
  assert.equal(at('"\\u00e9\\ud83d\\ude00😀 {{ x | nofilter }}"', 1, 12), "n");
  // other escapes are one character; \r is not a line break for the engine; \u000a is
  assert.equal(at('"a\\"b\\\\c\\td"', 1, 7), "d");
  assert.equal(at('"a\\r\\nb"', 2, 1), "b");
  assert.equal(at('"a\\u000ab"', 2, 1), "b");
  // not a string literal
  assert.equal(templateRange('{"text": 12}', 9, 1, 1), null);
});
