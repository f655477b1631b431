// Node entry: read the .wasm next to the module and instantiate it synchronously, so the
// package is ready as soon as it is imported.
import { readFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import { initSync, Engine, __outPtr } from "./dist/kizuna.js";

// Node's Buffer codecs beat TextEncoder/TextDecoder on the strings a decision moves: utf8Write
// over encodeInto, and for all-ASCII text (decisions are mostly ids), found a word at a time,
// latin1Slice is a plain copy at about half TextDecoder's cost (5–8% per decideJson).
//
// Views of Wasm memory, made again when it grows: that detaches the old buffer, and views of it
// then have length 0.
let buf = null, words = null;
const stale = () => buf === null || buf.byteLength === 0;
function views(buffer) {
  buf = Buffer.from(buffer);
  words = new Uint32Array(buffer);
}
const textCodec = {
  encodeInto(s, memory, ptr, cap) {
    if (stale()) views(memory.buffer);
    return buf.utf8Write(s, ptr, cap);
  },
  decode(memory, ptr, len) {
    if (stale()) views(memory.buffer);
    const end = ptr + len;
    let i = ptr;
    while (i < end && (i & 3) !== 0 && memory[i] < 0x80) i++;
    if ((i & 3) === 0) {
      let w = i >>> 2;
      const last = end >>> 2;
      while (w < last && (words[w] & 0x80808080) === 0) w++;
      i = w << 2;
    }
    while (i < end && memory[i] < 0x80) i++;
    return i === end ? buf.latin1Slice(ptr, end) : buf.utf8Slice(ptr, end);
  },
};

const { memory } = initSync({ module: readFileSync(new URL("./dist/kizuna_bg.wasm", import.meta.url)), textCodec });

// The JSON-text fast paths leave their result in Wasm memory for Buffer to read: ASCII with
// latin1Slice, anything else as UTF-16 with ucs2Slice (one copy, where decoding UTF-8 with
// Japanese messages costs ~4 µs per KB). A negative length means ASCII bytes.
function out(n) {
  const ptr = __outPtr(n < 0);
  if (stale()) views(memory.buffer);
  return n < 0 ? buf.latin1Slice(ptr, ptr - n) : buf.ucs2Slice(ptr, ptr + 2 * n);
}
Engine.prototype.decideJson = function decideJson(context, explain) {
  return out(this.__decideJsonOut(context, explain));
};
Engine.prototype.renderJson = function renderJson(contentId, context) {
  return out(this.__renderJsonOut(contentId, context));
};

// The object calls through the text fast paths: V8's JSON.stringify and JSON.parse around
// decideJson / renderJson beat the generic path through wasm-bindgen (5% per decide in a
// paired A/B). Anything else (not an object) takes the generic path, which gives the package's
// structured error; so does an object JSON.stringify throws on (a cycle, a BigInt, a throwing
// toJSON), as a BigInt: the generic path would stringify it again, running its toJSON twice.
const decideValue = Engine.prototype.decide;
const renderValue = Engine.prototype.render;
const jsonOf = (v) => {
  if (typeof v !== "object" || v === null) return undefined;
  try {
    return JSON.stringify(v);
  } catch {
    return 0n;
  }
};
Engine.prototype.decide = function decide(context, explain) {
  const text = jsonOf(context);
  return typeof text !== "string" ? decideValue.call(this, text ?? context, explain) : JSON.parse(this.decideJson(text, explain));
};
Engine.prototype.render = function render(contentId, context) {
  const text = jsonOf(context);
  return typeof text !== "string" ? renderValue.call(this, contentId, text ?? context) : JSON.parse(this.renderJson(contentId, text));
};

// The public API only: each entry instantiates the Wasm itself, so wasm-bindgen's init
// functions and the internal `__outPtr` stay private (tests/npm/consumer.test.mjs checks the list).
export { Engine, KizunaError, bulkRequests, evaluate, renderTemplate } from "./dist/kizuna.js";
