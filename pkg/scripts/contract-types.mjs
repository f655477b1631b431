// Generates dist/contract.d.ts (Config, Context, Decision, QuizState, QuizQuestion, QuizOutcome) from the checked-in JSON Schemas,
// so the TypeScript types can never disagree with the Rust contract; touches up kizuna.d.ts.
import { compile } from "json-schema-to-typescript";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

// Keywords that say what a schema admits; a schema with none of them (only a description) takes
// any JSON value.
const SHAPED = ["type", "$ref", "anyOf", "oneOf", "allOf", "not", "const", "enum", "properties", "items", "additionalProperties", "tsType"];

/**
 * Touches up a schema for json-schema-to-typescript, in place, without changing what it admits:
 * - A schema of any value (`{"description": …}`, e.g. an explain step's `result`, a JSON value)
 *   is `unknown`: the generator would make it an object (`{[k: string]: unknown}`), and a
 *   consumer's `step.result === true` would not compile.
 * - The object variants of a `oneOf` each list the members of the others as optional `never`
 *   (a `RichMenuChoice` with `action: "unlink"` has no `menu`), so that `choice.menu` reads as
 *   `string | undefined` before narrowing on the discriminant, and is `string` after it where a
 *   variant requires it.
 */
function touchUp(schema, output) {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return;
  // The rendered messages of an output document are LINE message objects (line-message.d.ts).
  if (output && schema.properties?.messages?.items?.type === "object") schema.properties.messages.items.tsType = "LineMessage";
  if (!SHAPED.some((k) => k in schema)) schema.tsType = "unknown";
  for (const key of ["properties", "$defs", "definitions"]) for (const sub of Object.values(schema[key] ?? {})) touchUp(sub, output);
  for (const key of ["items", "additionalProperties", "not"]) touchUp(schema[key], output);
  for (const key of ["anyOf", "oneOf", "allOf", "prefixItems"]) for (const sub of schema[key] ?? []) touchUp(sub, output);
  const variants = (schema.oneOf ?? []).filter((v) => v && typeof v === "object" && v.properties);
  const names = new Set(variants.flatMap((v) => Object.keys(v.properties)));
  for (const v of variants) for (const name of names) v.properties[name] ??= { tsType: "never" };
}

const [schemaDir, out] = process.argv.slice(2);
let text = "// Generated from schema/*.json by pkg/scripts/contract-types.mjs. Do not edit.\n";
text += readFileSync(new URL("./line-message.d.ts", import.meta.url), "utf8");
for (const name of ["config", "context", "decision", "quiz-state", "quiz-question", "quiz-outcome"]) {
  const schema = JSON.parse(readFileSync(join(schemaDir, `${name}.schema.json`), "utf8"));
  // A config's messages are templates (and `$for` / `$if` elements): objects of any shape.
  touchUp(schema, name === "decision" || name === "quiz-outcome");
  text += await compile(schema, schema.title, { bannerComment: "", additionalProperties: false, declareExternallyReferenced: true });
}
// Several schemas define the same helper types (Error, Code …): keep the first of each.
const seen = new Set();
// A type alias is one line plus its `| …` lines; matched apart from interfaces, or a duplicate
// alias would swallow the interface after it up to that interface's closing brace. A duplicate's
// doc comment goes with it (left behind, it documented nothing).
const doc = String.raw`(?:^\/\*\*(?:(?!\*\/)[\s\S])*\*\/\n)?`;
const decls = new RegExp(String.raw`${doc}^export interface (\w+)[\s\S]*?^}\n|${doc}^export type (\w+) =[^\n]*\n(?:^ +\|[^\n]*\n)*`, "gm");
text = text.replace(decls, (decl, a, b) => {
  const name = a ?? b;
  if (seen.has(name)) return "";
  seen.add(name);
  return decl;
});
writeFileSync(out, text);

// wasm-bindgen's declarations use Symbol.dispose; name the lib so consumers compiling for
// ES2022 (and without skipLibCheck) type-check too.
//
// The entries instantiate the Wasm themselves and do not export wasm-bindgen's init functions:
// their declarations go, and with them the DOM types (RequestInfo, BufferSource) that a Node
// project compiling with `lib: ["es2022"]` does not have.
//
// Idempotent: `make pkg` runs this on wasm-bindgen's fresh output, but run again by hand (after
// editing a schema) it finds its own output, whose InitInput is gone. A file this script wrote
// ends with KIZUNA_ERROR: it is left as it is.
//
// The glue's `KizunaError` (glue.mjs, 4): the interface above names the thrown errors' type,
// this value lets `err instanceof KizunaError` test for one and narrow to it. The abstract
// construct signature (never callable: `new KizunaError()` is a type error) is what TypeScript
// before 5.3 needs on the right of `instanceof`; 5.3 and later read Symbol.hasInstance too.
const KIZUNA_ERROR = `
/** \`err instanceof KizunaError\` is true for what kizuna throws (and narrows \`err\`). Not a constructor. */
export declare const KizunaError: (abstract new (never: never) => KizunaError) & { readonly [Symbol.hasInstance]: (value: unknown) => value is KizunaError };
`;
const dts = join(out, "..", "kizuna.d.ts");
let decl = readFileSync(dts, "utf8");
if (!decl.endsWith(KIZUNA_ERROR)) {
  const init = decl.indexOf("export type InitInput = ");
  if (init < 0) {
    console.error("contract-types.mjs: no InitInput in kizuna.d.ts; wasm-bindgen's output changed");
    process.exit(1);
  }
  decl = decl.slice(0, init).trimEnd() + "\n" + KIZUNA_ERROR;
}
if (!decl.startsWith("/// <reference lib")) decl = `/// <reference lib="esnext.disposable" />\n${decl}`;
writeFileSync(dts, decl);
