// Locates a JSON pointer (RFC 6901) in JSON *text*, so an editor can select the exact place an
// error names. No dependencies and no DOM: unit-tested in Node (tests/browser/json-pointer.test.mjs).
//
// locate(text, pointer) -> { start, end, found, pointer }
//   start/end  UTF-16 offsets into `text` (for textarea.setSelectionRange)
//   found      true when every token of the pointer exists in the text; false when the deepest
//              existing ancestor is returned instead (e.g. a missing field: its parent object)
//   pointer    the pointer of the place returned
//   valueStart offset of the returned place's value (after the key of a member)
// An object member is selected from its key to the end of its value (`"descripton": "…"`), an
// array element or the root as its value. Text that is not valid JSON is followed as far as it
// parses. `offsetOf(text, line, column)` turns a 1-based line/column into an offset, and
// `templateRange(text, valueStart, line, column)` a line/column inside a template (a JSON string
// value) into the range of that character in the text.

export function parsePointer(pointer) {
  if (pointer === "" || pointer === undefined || pointer === null) return [];
  let p = String(pointer);
  if (p.startsWith("#")) p = decodeURIComponent(p.slice(1)); // URI fragment form
  if (p === "") return [];
  if (!p.startsWith("/")) throw new SyntaxError(`a JSON pointer starts with "/": ${pointer}`);
  return p.slice(1).split("/").map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

const escapeToken = (t) => String(t).replace(/~/g, "~0").replace(/\//g, "~1");

class Scanner {
  constructor(text) {
    this.s = text;
    this.i = 0;
  }
  ws() {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xfeff) this.i++;
      else break;
    }
  }
  peek() {
    return this.s[this.i];
  }
  /** Reads a string token at i (which is at `"`); returns its decoded value. */
  string() {
    const s = this.s;
    let out = "";
    this.i++; // opening quote
    while (this.i < s.length) {
      const c = s[this.i++];
      if (c === '"') return out;
      if (c === "\\") {
        const e = s[this.i++];
        if (e === "u") {
          out += String.fromCharCode(parseInt(s.slice(this.i, this.i + 4), 16));
          this.i += 4;
        } else out += { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" }[e] ?? e;
      } else out += c;
    }
    throw new SyntaxError("unterminated string");
  }
  /** Skips one value starting at i; returns its end offset. */
  skip() {
    const s = this.s;
    this.ws();
    const c = s[this.i];
    if (c === '"') {
      this.string();
      return this.i;
    }
    if (c === "{" || c === "[") {
      let depth = 0;
      while (this.i < s.length) {
        const d = s[this.i];
        if (d === '"') {
          this.string();
          continue;
        }
        this.i++;
        if (d === "{" || d === "[") depth++;
        else if (d === "}" || d === "]") {
          depth--;
          if (depth === 0) return this.i;
        }
      }
      throw new SyntaxError("unterminated container");
    }
    const m = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(s.slice(this.i, this.i + 400));
    if (!m) throw new SyntaxError(`unexpected ${c === undefined ? "end" : JSON.stringify(c)} at ${this.i}`);
    this.i += m[0].length;
    return this.i;
  }
}

export function locate(text, pointer) {
  const tokens = parsePointer(pointer);
  const sc = new Scanner(String(text));
  sc.ws();
  const rootStart = sc.i;
  // the root value's range (to the end of the text when it does not parse)
  let best = { start: rootStart, end: text.length, found: tokens.length === 0, pointer: "", valueStart: rootStart };
  try {
    best.end = sc.skip();
  } catch {
    // keep the end of the text
  }
  sc.i = rootStart;
  try {
    let valueStart = sc.i;
    let at = "";
    for (let depth = 0; depth < tokens.length; depth++) {
      const token = tokens[depth];
      sc.i = valueStart;
      const open = sc.peek();
      if (open === "{") {
        sc.i++;
        let hit = null;
        for (;;) {
          sc.ws();
          if (sc.peek() === "}") break;
          if (sc.peek() !== '"') throw new SyntaxError("expected a key");
          const keyStart = sc.i;
          const key = sc.string();
          sc.ws();
          if (sc.peek() !== ":") throw new SyntaxError("expected ':'");
          sc.i++;
          sc.ws();
          const vStart = sc.i;
          const vEnd = sc.skip();
          if (key === token) hit = { keyStart, vStart, vEnd }; // the last duplicate wins, as in JSON.parse
          sc.ws();
          if (sc.peek() === ",") sc.i++;
          else break;
        }
        if (!hit) return best;
        at += "/" + escapeToken(token);
        best = { start: hit.keyStart, end: hit.vEnd, found: depth === tokens.length - 1, pointer: at, valueStart: hit.vStart };
        valueStart = hit.vStart;
      } else if (open === "[") {
        if (!/^(0|[1-9]\d*)$/.test(token)) return best;
        const want = Number(token);
        sc.i++;
        let n = 0;
        let hit = null;
        for (;;) {
          sc.ws();
          if (sc.peek() === "]") break;
          const vStart = sc.i;
          const vEnd = sc.skip();
          if (n === want) {
            hit = { vStart, vEnd };
            break;
          }
          n++;
          sc.ws();
          if (sc.peek() === ",") sc.i++;
          else break;
        }
        if (!hit) return best;
        at += "/" + token;
        best = { start: hit.vStart, end: hit.vEnd, found: depth === tokens.length - 1, pointer: at, valueStart: hit.vStart };
        valueStart = hit.vStart;
      } else {
        return best; // a scalar has no children
      }
    }
  } catch {
    // invalid JSON: keep the deepest place reached
  }
  return best;
}

/**
 * 1-based line and column → offset (UTF-16, for setSelectionRange); clamped to the line and the
 * text. The column counts code points, as kizuna's engine does in its JSON errors: an emoji
 * before the error is one column there but two UTF-16 units here.
 */
export function offsetOf(text, line, column) {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", offset);
    if (nl < 0) return text.length;
    offset = nl + 1;
  }
  for (let c = 1; c < (column || 1) && offset < text.length && text[offset] !== "\n"; c++) {
    offset += isPair(text, offset) ? 2 : 1;
  }
  return offset;
}

/** 1-based column, in code points, of an offset (the inverse of offsetOf on its line). */
export function columnOf(text, offset) {
  let column = 1;
  for (let i = text.lastIndexOf("\n", offset - 1) + 1; i < offset; i += isPair(text, i) ? 2 : 1) column++;
  return column;
}

const isHigh = (c) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c) => c >= 0xdc00 && c <= 0xdfff;
const isPair = (s, i) => isHigh(s.charCodeAt(i)) && isLow(s.charCodeAt(i + 1));

/**
 * The range in `text` of the character at 1-based `line`/`column` of the template held by the
 * JSON string literal that starts at `valueStart` (its opening quote); null when there is no
 * string literal there or the template has no such line.
 *
 * The engine counts in the template's decoded text: lines end at "\n" (so the two characters
 * `\n` of the literal start a new line), and columns count code points (`\u00e9` is one, an
 * emoji written raw or as a `\ud83d\ude00` pair is one). The range covers the character's raw
 * spelling (2 to 12 UTF-16 units). A column past the end of its line gives the line's end (the
 * `\n` escape or the closing quote).
 */
export function templateRange(text, valueStart, line, column) {
  if (text[valueStart] !== '"') return null;
  const want = { line: line || 1, column: column || 1 };
  let l = 1;
  let c = 1;
  let i = valueStart + 1;
  while (i < text.length) {
    const start = i;
    let ch; // the decoded character (one code point; for escapes only "\n" matters)
    const raw = text[i];
    if (raw === '"') {
      return l === want.line ? { start, end: start + 1 } : null; // the end of the template
    }
    if (raw === "\\") {
      const e = text[i + 1];
      if (e === "u") {
        const unit = parseInt(text.slice(i + 2, i + 6), 16);
        i += 6;
        // an escaped surrogate pair is one code point
        if (isHigh(unit) && text[i] === "\\" && text[i + 1] === "u" && isLow(parseInt(text.slice(i + 2, i + 6), 16))) i += 6;
        ch = String.fromCharCode(unit);
      } else {
        ch = e === "n" ? "\n" : e;
        i += 2;
      }
    } else {
      ch = raw;
      i += isPair(text, i) ? 2 : 1;
    }
    if (l === want.line && (c === want.column || ch === "\n")) return { start, end: i };
    if (ch === "\n") {
      l++;
      c = 1;
    } else c++;
  }
  return null; // unterminated literal
}

/** 1-based line number of an offset. */
export function lineOf(text, offset) {
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}
