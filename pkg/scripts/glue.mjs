// Patches wasm-bindgen's JS glue (make pkg). Fails loudly if a generated piece is not there, so
// a wasm-bindgen upgrade cannot silently drop a patch.
//
// 1. Strings of more than 64 UTF-16 units go into Wasm memory with one encode over a
//    worst-case buffer, then one shrinking `realloc`, instead of the generated charCodeAt loop
//    over the ASCII prefix. Contexts are ~800 bytes: decideJson over the bench users is 3–5%
//    faster (A/B in one Node process). Past 64 Ki units (a large context, a decideMany batch)
//    they take the generated path without realloc, one TextEncoder.encode and one copy, which
//    needs exactly their size in Wasm memory: the worst-case buffer made a 50 MB batch take
//    150 MB (a Worker has 128 MB) for a moment, and so for good, as Wasm memory never shrinks.
// 2. Strings cross through `textCodec`, which an entry may set to faster codecs for its
//    runtime: `initSync({ module, textCodec })` (node.js does). Its members, or null for the
//    generated TextEncoder/TextDecoder code:
//      decode(memory: Uint8Array, ptr, len) -> string, over valid UTF-8 (a Rust string);
//      encodeInto(string, memory: Uint8Array, ptr, capacity) -> bytes written (it fits).
// 3. A string parameter given anything else (an object to decideJson, a number as a template)
//    throws a KizunaError like the engine's own before Wasm sees it. The generated code reads
//    `arg.length` of whatever it gets and hands malloc undefined: a trap inside the allocator.
//    (A call with two strings whose second is refused frees the first: the generated code
//    does, and tests/npm/memory.test.mjs keeps such calls flat.)
// 4. An Engine used after `free()` (or after its `using` block) throws a KizunaError that
//    says so, not wasm-bindgen's "null pointer passed to rust" (which only a freed object's
//    method raises, and Engine is the one class); a second `free()` does nothing
//    (a `using` block whose engine was freed by hand ends without throwing).
// 5. `KizunaError`, for `err instanceof KizunaError`. The engine throws plain `Error`s named
//    "KizunaError" (made in Rust, which cannot subclass a JS class without more glue), so the
//    export is no constructor but an object whose `Symbol.hasInstance` tells them apart.
import { readFileSync, writeFileSync } from "node:fs";

const file = process.argv[2];
let text = readFileSync(file, "utf8");
// Patched already (the prelude written below comes first): a second run would add it twice.
if (text.startsWith("let textCodec = ")) {
  console.log(`glue.mjs: ${file} is patched already`);
  process.exit(0);
}

function patch(before, after) {
  if (text.split(before).length !== 2) {
    console.error(`glue.mjs: ${JSON.stringify(before.split("\n")[0])} not found once in ${file}; wasm-bindgen's output changed`);
    process.exit(1);
  }
  text = text.replace(before, after);
}

patch("function passStringToWasm0(arg, malloc, realloc) {\n", `function passStringToWasm0(arg, malloc, realloc) {
    if (typeof arg !== "string") {
        if (!(arg instanceof String)) throw notText(arg);
        arg = String(arg);
    }
    if (arg.length > 65536) realloc = undefined;
    if (realloc !== undefined && arg.length > 64) {
        const cap = arg.length * 3;
        const ptr = malloc(cap, 1) >>> 0;
        WASM_VECTOR_LEN = textCodec.encodeInto !== null
            ? textCodec.encodeInto(arg, getUint8ArrayMemory0(), ptr, cap)
            : cachedTextEncoder.encodeInto(arg, getUint8ArrayMemory0().subarray(ptr, ptr + cap)).written;
        return realloc(ptr, cap, WASM_VECTOR_LEN, 1) >>> 0;
    }
`);
patch(`    ptr = ptr >>> 0;
    return decodeText(getUint8ArrayMemory0().subarray(ptr, ptr + len));`, `    ptr = ptr >>> 0;
    if (textCodec.decode !== null) return textCodec.decode(getUint8ArrayMemory0(), ptr, len);
    return decodeText(getUint8ArrayMemory0().subarray(ptr, ptr + len));`);
patch(`    if (module !== undefined) {
        if (Object.getPrototypeOf(module) === Object.prototype) {
            ({module} = module)`, `    if (module !== undefined) {
        if (Object.getPrototypeOf(module) === Object.prototype) {
            if (module.textCodec !== undefined) textCodec = module.textCodec;
            ({module} = module)`);
patch(`    free() {
        const ptr = this.__destroy_into_raw();`, `    free() {
        if (!this.__wbg_ptr) return;
        const ptr = this.__destroy_into_raw();`);
patch(`            throw new Error(getStringFromWasm0(arg0, arg1));`, `            const message = getStringFromWasm0(arg0, arg1);
            if (message === "null pointer passed to rust") throw freed();
            throw new Error(message);`);
// A KizunaError of the whole input (path ""), as the engine writes one, for the glue's own checks.
const INPUT_ERROR = `function inputError(message) {
    const problem = { code: "invalid_value", path: "", message };
    const err = new Error(\`[\${problem.code}]: \${problem.message}\`);
    err.name = "KizunaError";
    return Object.assign(err, { code: problem.code, path: problem.path, errors: [problem] });
}`;
const FREED = `function freed() {
    return inputError("this Engine was freed (free(), or the end of its using block): make a new Engine");
}`;
const NOT_TEXT = `function notText(arg) {
    const kind = arg === null || arg === undefined ? String(arg) : Array.isArray(arg) ? "an array" : \`a\${typeof arg === "object" ? "n" : ""} \${typeof arg}\`;
    const hint = Array.isArray(arg) ? ' (if these are contexts, decideMany() takes many as NDJSON: their JSON texts joined with "\\\\n")'
        : typeof arg === "object" && arg !== null ? " (for a context object, call decide() or render() instead of decideJson() or renderJson())" : "";
    return inputError(\`expected a string, got \${kind}: JSON text, ids and templates are strings\${hint}\`);
}`;
const KIZUNA_ERROR = `export const KizunaError = Object.freeze({
    [Symbol.hasInstance]: (value) => value instanceof Error && value.name === "KizunaError" && typeof value.code === "string",
});`;
writeFileSync(file, `let textCodec = { decode: null, encodeInto: null };
${INPUT_ERROR}
${NOT_TEXT}
${FREED}
${text}
${KIZUNA_ERROR}
`);
