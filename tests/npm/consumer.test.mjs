// The npm package as a consumer gets it: `npm pack`, install the tarball into a fresh project,
// import "kizuna" (the `node` export condition), decide, and type-check a TypeScript consumer.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkgDir = join(root, "pkg");
let project;

before(() => {
  project = mkdtempSync(join(tmpdir(), "kizuna-consumer-"));
  const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", project], { cwd: pkgDir, encoding: "utf8" }).trim().split("\n").pop();
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", join(project, tarball)], { cwd: project });
});

function run(script) {
  const file = join(project, `t${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script);
  return execFileSync(process.execPath, [file], { cwd: project, encoding: "utf8" });
}

test("the tarball ships one .wasm and the per-runtime entries", () => {
  const files = execFileSync("npm", ["pack", "--dry-run", "--json"], { cwd: pkgDir, encoding: "utf8" });
  const paths = JSON.parse(files)[0].files.map((f) => f.path).sort();
  assert.deepEqual(paths.filter((p) => p.endsWith(".wasm")), ["dist/kizuna_bg.wasm"]);
  for (const entry of ["node.js", "browser.js", "workerd.js", "dist/kizuna.d.ts", "dist/contract.d.ts", "README.md", "LICENSE-MIT", "LICENSE-APACHE"]) assert.ok(paths.includes(entry), entry);
});

// The package's README (its npm page) shows one example with its results in comments: it runs
// as written in a consumer project and gives those results.
test("the package README's example runs as written and gives the results it states", () => {
  const readme = readFileSync(join(pkgDir, "README.md"), "utf8");
  const example = readme.match(/```js\n([\s\S]*?)```/)[1];
  const stated = [...example.matchAll(/^(.*?); \/\/ (.+)$/gm)].map(([, expr, result]) => ({ expr, result }));
  assert.equal(stated.length, 2, "the example states two results");
  const out = run(`${example}\nconsole.log(JSON.stringify([${stated.map((s) => s.expr).join(", ")}]));`);
  assert.deepEqual(JSON.parse(out.trim().split("\n").pop()), stated.map((s) => JSON.parse(s.result)));
});

// The repository README's Quick start runs as written in a consumer project and prints what its
// `// →` comments say (a comment ending in "…" gives the line's start).
test("the README's Quick start runs as written and prints what it states", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const example = readme.split("## Quick start (npm)")[1].match(/```js\n([\s\S]*?)```/)[1];
  const stated = [...example.matchAll(/\/\/ → (.+)$/gm)].map(([, line]) => line);
  const printed = run(example).trim().split("\n");
  assert.equal(printed.length, stated.length, printed.join("\n"));
  stated.forEach((line, i) => {
    if (line.endsWith("…")) assert.ok(printed[i].startsWith(line.slice(0, -1)), `${printed[i]}\n  does not start with\n${line}`);
    else assert.equal(printed[i], line);
  });
});

// Every entry exports the same public API: the entries instantiate the Wasm themselves, so
// wasm-bindgen's init functions and internal helpers are not part of it.
test("each runtime entry exports the public API and nothing else", async () => {
  const exported = [];
  for (const entry of ["node.js", "browser.js", "workerd.js"]) {
    const text = readFileSync(join(pkgDir, entry), "utf8");
    exported.push([entry, [...text.matchAll(/^export \{([^}]*)\} from "\.\/dist\/kizuna\.js";$/gm)].flatMap((m) => m[1].split(",").map((s) => s.trim())).sort()]);
    assert.doesNotMatch(text, /^export \*/m, `${entry} re-exports everything`);
  }
  const api = ["Engine", "KizunaError", "bulkRequests", "evaluate", "renderTemplate"];
  assert.deepEqual(exported, exported.map(([entry]) => [entry, api]));
  const out = run(`import * as kizuna from "kizuna"; console.log(JSON.stringify([Object.keys(kizuna).sort(), typeof kizuna.Engine.prototype.warnings]));`);
  // `kizuna check`'s warnings are the playground's build only (+26 KB): never the package's.
  assert.deepEqual(JSON.parse(out), [api, "undefined"]);
  // The repository's own consumers (the worker, its bench, the app) import only that API: a
  // bundler refuses a name the entry does not export (the worker bench once imported initSync).
  for (const file of ["www/worker/src/index.js", "benches/worker/cpu-kizuna.js", "www/app/src/kizuna-quiz.js"]) {
    const text = readFileSync(join(root, file), "utf8");
    for (const [, names] of text.matchAll(/import \{([^}]*)\} from "kizuna";/g)) {
      for (const name of names.split(",").map((n) => n.trim().replace(/^type /, "")).filter(Boolean)) assert.ok(api.includes(name), `${file} imports ${name} from "kizuna"`);
    }
  }
});

test("a Node consumer decides for an example context", () => {
  const config = readFileSync(join(root, "examples/skincare/config.json"), "utf8");
  const context = readFileSync(join(root, "examples/skincare/contexts.ndjson"), "utf8").split("\n")[1];
  const golden = readFileSync(join(root, "tests/golden/skincare.decisions.ndjson"), "utf8").split("\n")[1];
  const out = run(`
    import { Engine } from "kizuna";
    const engine = new Engine(${JSON.stringify(config)});
    const text = engine.decideJson(${JSON.stringify(context)});
    const obj = engine.decide(JSON.parse(${JSON.stringify(context)}));
    console.log(JSON.stringify({ text, obj, hash: engine.configHash }));
  `);
  const { text, obj, hash } = JSON.parse(out);
  assert.equal(text, golden, "byte-identical to the native decision");
  assert.deepEqual(obj, JSON.parse(golden));
  assert.match(hash, /^[0-9a-f]{32}$/);
  assert.ok(obj.segments.includes("first_time") && obj.segments.includes("lotion_refill_due"));
});

test("decide and render take objects; an object JSON cannot hold is a structured error, a bad context too", () => {
  const config = readFileSync(join(root, "examples/skincare/config.json"), "utf8");
  const context = readFileSync(join(root, "examples/skincare/contexts.ndjson"), "utf8").split("\n")[0];
  const out = run(`
    import { Engine } from "kizuna";
    const engine = new Engine(${JSON.stringify(config)});
    const ctx = JSON.parse(${JSON.stringify(context)});
    const code = (f) => { try { f(); return "no error"; } catch (e) { return e.name + ":" + e.code; } };
    const cyclic = { ...ctx }; cyclic.self = cyclic;
    console.log(JSON.stringify({
      same: JSON.stringify(engine.decide(ctx)) === engine.decideJson(JSON.stringify(ctx)),
      rendered: engine.render("welcome", ctx).messages.length,
      cyclic: code(() => engine.decide(cyclic)),
      big: code(() => engine.render("welcome", { ...ctx, n: 1n })),
      bad: code(() => engine.decide({ now: "yesterday" })),
    }));
  `);
  assert.deepEqual(JSON.parse(out), { same: true, rendered: 2, cyclic: "KizunaError:invalid_json", big: "KizunaError:invalid_json", bad: "KizunaError:invalid_timestamp" });
});

test("errors are structured KizunaError values with codes and JSON pointer paths", () => {
  const out = run(`
    import { Engine, KizunaError } from "kizuna";
    const others = [new Error("x"), Object.assign(new Error("x"), { name: "KizunaError" }), { name: "KizunaError", code: "x" }, null, "KizunaError"];
    try {
      new Engine({ version: 1, segments: [{ id: "x", when: { "equals": [1, 1] } }, { id: "y", whn: true }] });
      console.log("no error");
    } catch (e) {
      console.log(JSON.stringify({ isError: e instanceof Error, isKizuna: e instanceof KizunaError, others: others.map((o) => o instanceof KizunaError), name: e.name, code: e.code, path: e.path, errors: e.errors }));
    }
  `);
  const e = JSON.parse(out);
  assert.equal(e.isError, true);
  assert.equal(e.isKizuna, true, "instanceof KizunaError");
  assert.deepEqual(e.others, [false, false, false, false, false], "only kizuna's errors are instanceof KizunaError");
  assert.equal(e.name, "KizunaError");
  assert.equal(e.code, "unknown_operator");
  assert.ok(e.path.startsWith("/segments/0/when"));
  assert.ok(e.errors.some((p) => p.path === "/segments/1/whn" && p.code === "unknown_field"));
  assert.ok(e.errors.some((p) => p.path === "/segments/1" && p.code === "missing_field"));
});

test("decideMany and evaluate work from JavaScript", () => {
  const out = run(`
    import { Engine, evaluate } from "kizuna";
    const engine = new Engine({ version: 1, segments: [{ id: "vip", when: { has_tag: "vip" } }] });
    const many = engine.decideMany([
      JSON.stringify({ now: "2026-11-27T10:00:00+09:00", user: { userId: "U1", tags: ["vip"] } }),
      "not json",
      JSON.stringify({ now: "2026-11-27T10:00:00+09:00", user: { userId: "U2" } }),
    ].join("\\n"));
    const r = evaluate({ days_since: [{ var: "at" }] }, { at: "2026-11-20T10:00:00+09:00" }, "2026-11-27T10:00:00+09:00");
    console.log(JSON.stringify({ many: many.trim().split("\\n").map((l) => JSON.parse(l)), r }));
  `);
  const { many, r } = JSON.parse(out);
  assert.deepEqual(many.map((d) => d.segments ?? d.error.code), [["vip"], "invalid_json", []]);
  assert.equal(many[1].line, 2);
  assert.equal(r, 7);
});

test("contents render to LINE messages; ad-hoc templates render for playgrounds", () => {
  const config = readFileSync(join(root, "examples/skincare/config.json"), "utf8");
  const context = readFileSync(join(root, "examples/skincare/contexts.ndjson"), "utf8").split("\n")[3];
  const out = run(`
    import { Engine, renderTemplate } from "kizuna";
    const engine = new Engine(${JSON.stringify(config)});
    const d = engine.render("welcome", ${JSON.stringify(context)});
    const text = engine.renderJson("welcome", ${JSON.stringify(context)});
    const t = renderTemplate("{{ name | default: 'お客様' }}様 {{ price | yen }}", { name: "", price: 12800 }, "2026-11-27T10:00:00+09:00");
    let err;
    try { renderTemplate("{{ x | nope }}", {}); } catch (e) { err = { code: e.code, line: e.errors[0].line }; }
    console.log(JSON.stringify({ d, same: JSON.stringify(d) === text, t, err }));
  `);
  const { d, same, t, err } = JSON.parse(out);
  assert.equal(d.content.variant, "loyal");
  assert.equal(d.messages[0].type, "flex");
  assert.equal(same, true);
  assert.equal(t, "お客様様 ¥12,800");
  assert.deepEqual(err, { code: "unknown_filter", line: 1 });
});

test("a quiz runs from JavaScript: plain objects in and out, the same outcome as natively", () => {
  const config = readFileSync(join(root, "examples/skincare/config.json"), "utf8");
  const paths = readFileSync(join(root, "examples/skincare/quiz-paths.json"), "utf8");
  const golden = readFileSync(join(root, "tests/golden/skincare.quiz.ndjson"), "utf8").split("\n")[3];
  const out = run(`
    import { Engine } from "kizuna";
    const engine = new Engine(${JSON.stringify(config)});
    const path = JSON.parse(${JSON.stringify(paths)})[3];
    let state = engine.quizStart("skin_type");
    const first = engine.quizQuestion(state);
    for (const [q, a] of path.answers) state = JSON.parse(JSON.stringify(engine.quizAnswer(state, q, a)));
    const user = { now: "2026-11-27T10:30:00+09:00", user: { userId: "U0123456789abcdef0123456789abcdef", displayName: "佐藤 美咲", tags: ["newsletter"], attributes: { prefecture: "東京都" } } };
    const outcome = engine.quizResult(state, user);
    let err;
    try { engine.quizAnswer(engine.quizStart("skin_type"), "q1", "nope"); } catch (e) { err = { name: e.name, code: e.code, path: e.path }; }
    console.log(JSON.stringify({ first, state, outcome: JSON.stringify(outcome), err }));
  `);
  const { first, state, outcome, err } = JSON.parse(out);
  assert.deepEqual({ id: first.id, number: first.number, total: first.total }, { id: "q1", number: 1, total: 7 });
  assert.equal(state.done, true);
  assert.equal(state.current, null);
  assert.equal(outcome, golden, "byte-identical to the native outcome");
  assert.deepEqual(err, { name: "KizunaError", code: "unknown_choice", path: "/answers/q1" });
});

test("TypeScript consumers get the real contract types", () => {
  // The example config type-checks as a Config literal (review-npm20: optional conditions were
  // declared required).
  const example = readFileSync(join(root, "examples/skincare/config.json"), "utf8");
  writeFileSync(join(project, "consumer.ts"), `
    import { Engine, KizunaError, evaluate, renderTemplate, type Config, type Decision, type Context, type QuizState, type QuizQuestion, type QuizOutcome } from "kizuna";
    const config: Config = { version: 1, segments: [{ id: "vip", when: { has_tag: "vip" } }] };
    const skincare: Config = ${example};
    const always: Config = { version: 1, richMenus: { menus: [{ id: "m", richMenuId: "richmenu-0123456789abcdef0123456789abcdef" }], rules: [{ when: true, menu: "m" }] } };
    const ctx: Context = { now: "2026-11-27T10:00:00+09:00", user: { userId: "U1", tags: ["vip"] } };
    const d: Decision = new Engine(config).decide(ctx);
    const ids: string[] = d.segments;
    const id: string = d.decisionId;
    function report(e: KizunaError): string { return e.code + e.path + e.errors.length; }
    function caught(e: unknown): string { return e instanceof KizunaError ? report(e) : "other"; }
    // @ts-expect-error: KizunaError tests errors, it makes none
    new KizunaError();
    // @ts-expect-error: a config must carry its version
    const bad: Config = { segments: [] };
    const engine = new Engine(config);
    const state: QuizState = engine.quizAnswer(engine.quizStart("q"), "q1", ["a", "b"]);
    const question: QuizQuestion | null = engine.quizQuestion(state);
    const total: number | undefined = question?.total;
    const outcome: QuizOutcome = engine.quizResult(state, ctx);
    const menu: string | undefined = outcome.result.richMenu;
    const next: Decision = outcome.decision;
    const removed: string[] | undefined = next.quiz?.removeTags;
    const choice: import("kizuna").RichMenuChoice | null | undefined = next.richMenu;
    const segment: import("kizuna").Segment = { id: "vip", when: true };
    // @ts-expect-error: an answer is a string or a list of strings
    engine.quizAnswer(state, "q1", 3);
    // The data of the playground calls is optional, as at run time.
    const bare: unknown = evaluate({ "==": [1, 1] });
    const text: string = renderTemplate("こんにちは");
    export { bare, text, ids, id, report, caught, bad, total, menu, next, skincare, always, removed, choice, segment };
  `);
  const tsc = join(pkgDir, "node_modules/typescript/bin/tsc");
  // With the DOM's types (TypeScript's default lib) and without them, as a Node project
  // compiling for ES2022 has it: the declarations name no browser type.
  for (const lib of [undefined, ["es2022"]]) {
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib, types: [], skipLibCheck: false }, files: ["consumer.ts"] }));
    execFileSync(process.execPath, [tsc, "-p", project], { cwd: project, encoding: "utf8" });
  }
});
