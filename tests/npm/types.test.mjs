// The package's TypeScript declarations as consumers compile them: strict, with
// exactOptionalPropertyTypes and noUncheckedIndexedAccess, under moduleResolution NodeNext and
// Bundler, in a project with no DOM and no @types/node, in a Worker with only
// @cloudflare/workers-types, and in a browser (DOM) project. And the types against what the
// package really returns.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkgDir = join(root, "pkg");
const tsc = join(pkgDir, "node_modules/typescript/bin/tsc");
let project;

before(() => {
  // The package as installed (a link to pkg/: its exports map and files as they are), with
  // the Workers types beside it for the Worker fixture.
  project = mkdtempSync(join(tmpdir(), "kizuna-types-"));
  mkdirSync(join(project, "node_modules/@cloudflare"), { recursive: true });
  symlinkSync(pkgDir, join(project, "node_modules/kizuna"), "dir");
  symlinkSync(join(pkgDir, "node_modules/@cloudflare/workers-types"), join(project, "node_modules/@cloudflare/workers-types"), "dir");
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
});

const STRICT = { strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, noEmit: true, target: "es2022", skipLibCheck: false };
const RESOLUTIONS = { nodenext: { module: "nodenext", moduleResolution: "nodenext" }, bundler: { module: "esnext", moduleResolution: "bundler" } };

/** Type-checks `source` (file `name`) with these compiler options; returns tsc's output, "" when clean. */
function typecheck(name, source, options) {
  writeFileSync(join(project, name), source);
  const config = join(project, `tsconfig.${name}.json`);
  writeFileSync(config, JSON.stringify({ compilerOptions: { ...STRICT, ...options }, files: [name] }));
  try {
    execFileSync(process.execPath, [tsc, "-p", config], { cwd: project, encoding: "utf8" });
    return "";
  } catch (e) {
    return `${e.stdout}${e.stderr}`;
  }
}

// review-ts22: sync.d.ts named the DOM's Headers, URL, RequestInit and Response, so a project
// without the DOM lib and without @types/node (a Node service with lib es2022, a Worker on
// workers-types' own globals only) could not import kizuna/sync.
const SYNC_PORTABLE = `
import { SyncClient, MemoryStore, batchIdFor, parseRetryAfter, type SyncClientOptions, type FlushResult } from "kizuna/sync";
import { Engine } from "kizuna";
const engine = new Engine({ version: 1 });
const options: SyncClientOptions = {
  endpoint: "https://backend.example.jp/kizuna",
  store: new MemoryStore(),
  headers: { authorization: "Bearer t" },
  getHeaders: async () => [["x-request-id", "1"]],
};
export async function send(): Promise<FlushResult> {
  const client = new SyncClient(options);
  await client.enqueue(engine.decide({ now: "2026-11-27T10:00:00+09:00", user: { userId: "U1" } }));
  return client.flush({ maxFlushMs: 0 });
}
export const key: string = batchIdFor(["a"], "2026-11-27T01:00:00.000Z");
export const wait: number | undefined = parseRetryAfter("5", 0);
`;

test("kizuna/sync type-checks without the DOM lib and without @types/node", () => {
  for (const [name, resolution] of Object.entries(RESOLUTIONS)) {
    assert.equal(typecheck(`sync-bare-${name}.ts`, SYNC_PORTABLE, { ...resolution, lib: ["es2022"], types: [] }), "", name);
  }
  // With no fetch types at all, a hand-written fetch is typed by what the client uses of it.
  const custom = `
    import { SyncClient, MemoryStore } from "kizuna/sync";
    export const client = new SyncClient({
      endpoint: "https://backend.example.jp/kizuna",
      store: new MemoryStore(),
      fetch: async (url, init) => ({ status: init.method === "POST" && url.length > 0 ? 204 : 500, statusText: "", headers: { get: () => null }, text: async () => "" }),
    });
  `;
  assert.equal(typecheck("sync-custom-fetch.ts", custom, { ...RESOLUTIONS.nodenext, lib: ["es2022"], types: [] }), "");
});

test("a Worker with only @cloudflare/workers-types type-checks against kizuna and kizuna/sync", () => {
  const worker = `
    import { Engine, KizunaError, type Decision } from "kizuna";
    import { SyncClient, KvStore, DurableObjectStore } from "kizuna/sync";
    interface Env { OUTBOX: KVNamespace }
    const engine = new Engine({ version: 1 });
    export class Outbox implements DurableObject {
      constructor(private state: DurableObjectState) {}
      async fetch(req: Request): Promise<Response> {
        const sync = new SyncClient({ endpoint: new URL("https://backend.example.jp/kizuna"), store: new DurableObjectStore(this.state.storage), fetch: (url, init) => fetch(url, init), headers: new Headers({ authorization: "Bearer t" }) });
        await sync.enqueue((await req.json()) as Decision);
        return Response.json(await sync.flush());
      }
    }
    export default {
      async fetch(req: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
        const sync = new SyncClient({ endpoint: "https://backend.example.jp/kizuna", store: new KvStore(env.OUTBOX) });
        try {
          await sync.enqueue(engine.decide({ now: new Date().toISOString(), user: { userId: "U1" }, event: (await req.json()) as Record<string, unknown> }));
        } catch (e) {
          if (e instanceof KizunaError) return new Response(e.code, { status: 400 });
        }
        sync.flushInBackground(ctx);
        return new Response(null, { status: 204 });
      },
    } satisfies ExportedHandler<Env>;
  `;
  const options = { ...RESOLUTIONS.bundler, lib: ["es2023"], types: ["@cloudflare/workers-types"], customConditions: ["workerd"] };
  assert.equal(typecheck("worker.ts", worker, options), "");
});

test("a LIFF (DOM) project type-checks against kizuna/sync's browser stores", () => {
  const liff = `
    import { SyncClient, LocalStorageStore, IndexedDbStore } from "kizuna/sync";
    export const a = new SyncClient({ endpoint: "/kizuna", store: new LocalStorageStore(localStorage), fetch: window.fetch.bind(window), headers: new Headers() });
    export const b = new SyncClient({ endpoint: new URL("/kizuna", location.href), store: new IndexedDbStore("kizuna", { indexedDB }), locks: navigator.locks });
  `;
  assert.equal(typecheck("liff.ts", liff, { ...RESOLUTIONS.bundler, lib: ["es2022", "dom", "dom.iterable"], types: [] }), "");
});

// review-ts22: RichMenuChoice was one interface with `action: "link" | "unlink" | "none"` and
// optional `menu`/`richMenuId`, so checking `action === "link"` did not make `richMenuId` a
// string.
const NARROWING = `
import type { RichMenuChoice, RichMenuLink, Decision } from "kizuna";
export function call(choice: RichMenuChoice): string {
  switch (choice.action) {
    case "link": {
      const id: string = choice.richMenuId;
      const menu: string = choice.menu;
      return \`/v2/bot/user/U1/richmenu/\${id}#\${menu}\`;
    }
    case "unlink":
      // @ts-expect-error: an unlink names no menu
      return choice.richMenuId.length ? "" : "/v2/bot/user/U1/richmenu";
    case "none":
      return choice.menu ?? (choice.reason.undetermined ? "undetermined" : "");
  }
}
export const before: string | undefined = ({} as RichMenuChoice).richMenuId;
export const link: RichMenuLink = { action: "link", menu: "m", richMenuId: "richmenu-0", reason: { rule: 0 } };
// @ts-expect-error: a link needs its richMenuId
export const broken: RichMenuChoice = { action: "link", menu: "m", reason: {} };
export const decided: RichMenuChoice | null | undefined = ({} as Decision).richMenu;
`;

test("rich-menu choices narrow on action", () => {
  for (const [name, resolution] of Object.entries(RESOLUTIONS)) {
    assert.equal(typecheck(`narrowing-${name}.ts`, NARROWING, { ...resolution, lib: ["es2022"], types: [] }), "", name);
  }
});

test("the rich-menu choices the engine makes have the shapes their types say", async () => {
  const { Engine } = await import(join(pkgDir, "node.js"));
  const on = "richmenu-0123456789abcdef0123456789abcdef";
  const other = "richmenu-fedcba9876543210fedcba9876543210";
  const engine = new Engine({
    version: 1,
    segments: [{ id: "vip", when: { has_tag: "vip" } }, { id: "broken", when: { days_since: [{ var: "user.attributes.since" }] } }],
    richMenus: { menus: [{ id: "vip", richMenuId: on }], rules: [{ segment: "broken", menu: "vip" }, { segment: "vip", menu: "vip" }] },
  });
  const choice = (user) => engine.decide({ now: "2026-11-27T10:00:00+09:00", user: { userId: "U1", ...user } }).richMenu;
  const seen = {
    link: choice({ tags: ["vip"] }),
    keep: choice({ tags: ["vip"], richMenuId: on }),
    unlink: choice({ richMenuId: other }),
    nothing: choice({}),
    undetermined: choice({ tags: ["vip"], attributes: { since: "not a date" }, richMenuId: other }),
  };
  assert.deepEqual(Object.fromEntries(Object.entries(seen).map(([k, c]) => [k, c.action])), { link: "link", keep: "none", unlink: "unlink", nothing: "none", undetermined: "none" });
  for (const [what, c] of Object.entries(seen)) {
    const keys = Object.keys(c).sort();
    assert.ok(keys.includes("reason"), what);
    // RichMenuLink: menu and richMenuId; RichMenuUnlink: neither; RichMenuNone: both or neither.
    const hasMenu = keys.includes("menu");
    assert.equal(keys.includes("richMenuId"), hasMenu, what);
    if (c.action === "link") assert.ok(hasMenu, what);
    if (c.action === "unlink") assert.ok(!hasMenu, what);
    // Optional members are left out, never null (the types say `string`, not `string | null`).
    for (const k of ["menu", "richMenuId", "current"]) if (k in c) assert.equal(typeof c[k], "string", `${what}.${k}`);
  }
  assert.equal(seen.undetermined.reason.undetermined, true);
});

// review-h1: the optional members of what the engine writes (a decision and a quiz outcome,
// and everything in them) were typed `T | null` (the Rust `Option`'s schema), though the engine
// leaves them out when absent and never writes `null`: consumers tested for a `null` that
// never comes, and `const c: ContentChoice | undefined = d.content` did not compile. The input
// documents (Config, Context) keep the `null`s the engine accepts; QuizState, which the engine
// writes and reads back, has `current: null` when the quiz is done.
const ABSENT_NOT_NULL = `
import type { Decision, ContentChoice, QuizCompletion, RichMenuChoice, SegmentExplain, ContentExplain, QuizOutcome } from "kizuna";
declare const d: Decision;
export const content: ContentChoice | undefined = d.content;
export const richMenu: RichMenuChoice | undefined = d.richMenu;
export const quiz: QuizCompletion | undefined = d.quiz;
export const explain: SegmentExplain[] | undefined = d.explain;
export const explainContent: ContentExplain[] | undefined = d.explainContent;
export const experiment: string | undefined = d.content?.experiment;
export const takenBy: string | undefined = d.explain?.[0]?.takenBy;
export const variant: string | undefined = d.explainContent?.[0]?.tried[0]?.variant;
export const bucket: number | undefined = d.explainContent?.[0]?.tried[0]?.experiment?.bucket;
export const rule: number | undefined = d.richMenu?.reason.rule;
export const line: number | undefined = d.errors?.[0]?.line;
export const quizExperiment: string | undefined = ({} as QuizOutcome).result.contents[0]?.experiment;
`;

test("the optional members the engine writes are absent, never null: typed field?: T", () => {
  for (const [name, resolution] of Object.entries(RESOLUTIONS)) {
    assert.equal(typecheck(`absent-not-null-${name}.ts`, ABSENT_NOT_NULL, { ...resolution, lib: ["es2022"], types: [] }), "", name);
  }
  // Every member of every type only the output schemas define (a new one included): the
  // schemas' definitions minus those of the input documents, which contract.d.ts shares.
  const schema = (n) => JSON.parse(readFileSync(join(root, "schema", `${n}.schema.json`), "utf8"));
  const names = (s) => [s.title, ...Object.keys(s.$defs ?? {})];
  const inputs = new Set([...names(schema("config")), ...names(schema("context"))]);
  const outputs = [...new Set([...names(schema("decision")), ...names(schema("quiz-outcome"))])].filter((n) => !inputs.has(n));
  const declared = readFileSync(join(pkgDir, "dist/contract.d.ts"), "utf8");
  const nullable = [];
  for (const n of outputs) {
    const body = declared.match(new RegExp(`^export interface ${n} \\{\\n([\\s\\S]*?)^\\}`, "m"))?.[1] ?? "";
    for (const m of body.matchAll(/^ {2}(\w+)\?: [^;]*\| null;/gm)) nullable.push(`${n}.${m[1]}`);
  }
  assert.ok(outputs.includes("Decision") && outputs.includes("QuizContent") && !outputs.includes("User"), outputs.join(" "));
  assert.deepEqual(nullable, [], "typed `| null`, but the engine leaves these out instead");
});

test("the engine leaves absent optional members out of what it writes, never null", async () => {
  const { Engine } = await import(join(pkgDir, "node.js"));
  const read = (p) => readFileSync(join(root, "examples/skincare", p), "utf8");
  const engine = new Engine(read("config.json"));
  // Every null in a document, but in the free JSON values (explain steps' args and results,
  // messages, answers and attributes).
  const nulls = (v, at, out) => {
    if (v === null) out.push(at);
    else if (typeof v === "object") for (const [k, x] of Object.entries(v)) if (!["steps", "messages", "answers", "attributes"].includes(k)) nulls(x, `${at}/${k}`, out);
    return out;
  };
  const found = [];
  for (const ctx of read("contexts.ndjson").split("\n").filter(Boolean)) nulls(engine.decide(ctx, true), "decision", found);
  const path = JSON.parse(read("quiz-paths.json"))[0];
  let state = engine.quizStart("skin_type");
  for (const [q, a] of path.answers) state = engine.quizAnswer(state, q, a);
  const outcome = engine.quizResult(state, { now: "2026-11-27T10:30:00+09:00", user: { userId: "U0123456789abcdef0123456789abcdef" } });
  nulls({ ...outcome, context: undefined }, "outcome", found);
  assert.deepEqual(found, []);
});

// review-h1: a purchase's and a tracked event's `at` were typed `string`, though the engine
// takes epoch milliseconds there too (as LINE writes a webhook's timestamp): `at: Date.now()`
// did not compile.
const TIME_AT = `
import type { Context, Purchase, UserEvent } from "kizuna";
export const purchase: Purchase = { at: Date.parse("2026-11-20T10:00:00+09:00"), category: "lotion" };
export const event: UserEvent = { type: "coupon_used", at: Date.now() };
export const text: Purchase = { at: "2026-11-20T10:00:00+09:00" };
export const ctx: Context = { now: "2026-11-27T10:00:00+09:00", user: { userId: "U1", purchases: [purchase, text], events: [event] } };
// @ts-expect-error: a time is RFC 3339 text or epoch milliseconds
export const bad: Purchase = { at: new Date() };
`;

test("a purchase's and an event's at take RFC 3339 text or epoch milliseconds, as the engine does", async () => {
  for (const [name, resolution] of Object.entries(RESOLUTIONS)) {
    assert.equal(typecheck(`time-at-${name}.ts`, TIME_AT, { ...resolution, lib: ["es2022"], types: [] }), "", name);
  }
  const declared = readFileSync(join(pkgDir, "dist/contract.d.ts"), "utf8");
  for (const type of ["Purchase", "UserEvent"]) {
    const body = declared.match(new RegExp(`^export interface ${type} \\{\\n([\\s\\S]*?)^\\}`, "m"))?.[1] ?? "";
    assert.match(body, /epoch milliseconds[\s\S]*\n {2}at: string \| number;/, `${type}.at is documented and typed string | number`);
  }
  // At run time: the same instant as text and as milliseconds decides alike.
  const { Engine } = await import(join(pkgDir, "node.js"));
  const engine = new Engine({ version: 1, segments: [
    { id: "recent", when: { some: [{ var: "user.purchases" }, { "<": [{ days_since: [{ var: "at" }] }, 30] }] } },
    { id: "seen", when: { some: [{ var: "user.events" }, { after: [{ var: "at" }, { ago: "P1D" }] }] } },
  ] });
  const decide = (at) => engine.decide({ now: "2026-11-27T10:00:00+09:00", user: { userId: "U1", purchases: [{ at }], events: [{ type: "page_view", at }] } });
  const text = decide("2026-11-26T12:00:00+09:00");
  const millis = decide(Date.parse("2026-11-26T12:00:00+09:00"));
  assert.deepEqual(text.segments, ["recent", "seen"]);
  assert.deepEqual(millis.segments, text.segments);
  assert.equal(millis.errors, undefined);
});

// review-ts22: a schema of any JSON value (only a description) came out of the generator as an
// object type: an explain step's `result` (true, false, a number …) was `{[k: string]: unknown}`,
// so `step.result === true` did not compile. And `event: null`, which the engine takes as "no
// event", was refused.
const ANY_VALUE = `
import type { Decision, Context, Step } from "kizuna";
export function held(d: Decision): string[] {
  return (d.explain ?? []).flatMap((s) => s.steps.filter((step: Step) => step.result === true || typeof step.result === "number").map((step) => step.path));
}
export const noEvent: Context = { now: "2026-11-27T10:00:00+09:00", user: { userId: "U1", events: [{ type: "page_view", at: "2026-11-27T09:00:00+09:00", data: "/shop" }] }, event: null };
// @ts-expect-error: an event is an object
export const badEvent: Context = { now: "2026-11-27T10:00:00+09:00", user: { userId: "U1" }, event: "follow" };
`;

test("explain steps' results and other free JSON values are unknown, not objects", async () => {
  for (const [name, resolution] of Object.entries(RESOLUTIONS)) {
    assert.equal(typecheck(`any-value-${name}.ts`, ANY_VALUE, { ...resolution, lib: ["es2022"], types: [] }), "", name);
  }
  // At run time: a step's result is what its operator gave (here booleans); a null event and
  // an event's non-object data are decided for.
  const { Engine } = await import(join(pkgDir, "node.js"));
  const engine = new Engine({ version: 1, segments: [{ id: "vip", when: { has_tag: "vip" } }, { id: "seen", when: { some: [{ var: "user.events" }, { "==": [{ var: "data" }, "/shop"] }] } }] });
  const d = engine.decide({ now: "2026-11-27T10:00:00+09:00", user: { userId: "U1", tags: ["vip"], events: [{ type: "page_view", at: "2026-11-27T09:00:00+09:00", data: "/shop" }] }, event: null }, true);
  assert.deepEqual(d.segments, ["vip", "seen"]);
  assert.ok(d.explain.flatMap((s) => s.steps).every((s) => typeof s.result === "boolean"));
});

test("the generated declarations carry no doc comment left from a removed duplicate", () => {
  const text = readFileSync(join(pkgDir, "dist/contract.d.ts"), "utf8");
  // A doc comment followed by another one (or by nothing) documents nothing.
  assert.doesNotMatch(text, /\*\/\n(?:\s*\n)*\/\*\*/);
  assert.doesNotMatch(text, /\*\/\s*$/);
});

// review-h1: run by hand a second time (after editing a schema), the script that writes the
// declarations failed ("no InitInput in kizuna.d.ts"): its first run had taken that out.
test("pkg/scripts/contract-types.mjs run again on its own output changes nothing", () => {
  const dir = mkdtempSync(join(tmpdir(), "kizuna-dts-"));
  writeFileSync(join(dir, "kizuna.d.ts"), readFileSync(join(pkgDir, "dist/kizuna.d.ts")));
  for (let run = 1; run <= 2; run++) {
    execFileSync(process.execPath, [join(pkgDir, "scripts/contract-types.mjs"), join(root, "schema"), join(dir, "contract.d.ts")], { encoding: "utf8" });
    for (const f of ["kizuna.d.ts", "contract.d.ts"]) assert.equal(readFileSync(join(dir, f), "utf8"), readFileSync(join(pkgDir, "dist", f), "utf8"), `${f} after run ${run}`);
  }
});

// review-ts22: parameters were declared with their Rust names (quizStart(quiz_id),
// quizAnswer(state, question_id, …), render(content_id, …)), which editors show in every hint.
test("the declared parameters have JavaScript names", () => {
  const code = readFileSync(join(pkgDir, "dist/kizuna.d.ts"), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  const params = [...code.matchAll(/\w+\(([^)]*)\)\s*:/g)].flatMap((m) => m[1].split(",").map((p) => p.trim().split(/\??:/)[0]).filter(Boolean));
  assert.ok(params.includes("questionId") && params.includes("contentId"), params.join(" "));
  assert.deepEqual(params.filter((p) => p.includes("_")), []);
});

// decideMany returns NDJSON; each parsed line is a DecideManyLine, told apart by "error".
const DECIDE_MANY = `
import { Engine, type DecideManyLine, type Decision } from "kizuna";
export function decided(engine: Engine, ndjson: string): { ok: Decision[]; failed: number[] } {
  const lines = engine.decideMany(ndjson).split("\\n").filter(Boolean).map((l) => JSON.parse(l) as DecideManyLine);
  const ok: Decision[] = [];
  const failed: number[] = [];
  for (const l of lines) {
    if ("error" in l) failed.push(l.line);
    else ok.push(l);
  }
  return { ok, failed };
}
`;

test("decideMany's lines are typed: a decision or an error line", async () => {
  for (const [name, resolution] of Object.entries(RESOLUTIONS)) {
    assert.equal(typecheck(`decide-many-${name}.ts`, DECIDE_MANY, { ...resolution, lib: ["es2022"], types: [] }), "", name);
  }
  const { Engine } = await import(join(pkgDir, "node.js"));
  const engine = new Engine({ version: 1 });
  const ok = JSON.stringify({ now: "2026-11-27T10:00:00+09:00", user: { userId: "U1" } });
  const refused = JSON.stringify({ now: "not a time", user: { userId: "U2" } });
  const lines = engine.decideMany(`${ok}\n${refused}\n`).split("\n").filter(Boolean).map((l) => JSON.parse(l));
  assert.equal(lines[0].decisionId.length > 0, true);
  // DecideManyError: exactly error (a Problem), line and userId.
  assert.deepEqual(Object.keys(lines[1]).sort(), ["error", "line", "userId"]);
  assert.deepEqual(Object.keys(lines[1].error).sort(), ["code", "message", "path"]);
  assert.equal(lines[1].line, 2);
});

// review-ts22 #6: decision.messages were `{[k: string]: unknown}[]`, so they could not go to
// @line/bot-sdk's reply call without a cast. They are LineMessage[] now: a union on `type` with
// the members LINE requires, assignable to the SDK's Message as it is.
const LINE_SDK = `
import type { messagingApi } from "@line/bot-sdk";
import type { Decision, LineMessage, QuizOutcome } from "kizuna";
export function reply(d: Decision): messagingApi.ReplyMessageRequest {
  return { replyToken: "t", messages: d.messages ?? [] };
}
export const fromQuiz = (o: QuizOutcome): messagingApi.Message[] => [...(o.decision.messages ?? []), ...o.result.contents.flatMap((c) => c.messages)];
export function text(m: LineMessage): string | undefined {
  return m.type === "text" ? m.text : m.type === "flex" ? m.altText : undefined;
}
// @ts-expect-error: a member is read after narrowing on type
export const unnarrowed: string = ({} as LineMessage).text;
`;

test("decision messages are LINE messages: they go to @line/bot-sdk's reply call without a cast", async () => {
  symlinkSync(join(pkgDir, "node_modules/@line"), join(project, "node_modules/@line"), "dir");
  for (const [name, resolution] of Object.entries(RESOLUTIONS)) {
    // skipLibCheck: the SDK's own declarations need @types/node, which is not what is tested.
    assert.equal(typecheck(`line-sdk-${name}.ts`, LINE_SDK, { ...resolution, lib: ["es2022"], types: [], skipLibCheck: true }), "", name);
  }
  // At run time: every message of the example's decisions is of a type the union has.
  // The message types LINE's Messaging API takes (src/line_shape.rs), each in the union.
  const types = ["text", "textV2", "sticker", "image", "video", "audio", "location", "imagemap", "template", "flex", "coupon"];
  const declared = readFileSync(join(pkgDir, "dist/contract.d.ts"), "utf8");
  for (const t of types) assert.match(declared, new RegExp(`export interface Line\\w+ extends LineObject \\{\\s+type: "${t}";`), t);
  const { Engine } = await import(join(pkgDir, "node.js"));
  const read = (p) => readFileSync(join(root, "examples/skincare", p), "utf8");
  const engine = new Engine(read("config.json"));
  const seen = new Set();
  const contexts = read("contexts.ndjson").split("\n").filter(Boolean);
  for (const { id } of JSON.parse(read("config.json")).contents) {
    for (const ctx of contexts) for (const m of engine.render(id, ctx).messages ?? []) seen.add(m.type);
  }
  assert.ok(seen.has("text") && seen.has("flex"), [...seen].join(" "));
  for (const t of seen) assert.ok(types.includes(t), `a ${t} message is no LineMessage`);
});

test("kizuna/line is exported and shipped, and its push request is @line/bot-sdk's PushMessageRequest without a cast", () => {
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  assert.deepEqual(pkg.exports["./line"], { types: "./line.d.ts", default: "./line.js" });
  const files = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json"], { cwd: pkgDir, encoding: "utf8" }))[0].files.map((f) => f.path);
  for (const f of ["line.js", "line.d.ts"]) assert.ok(files.includes(f), f);
  const sdk = join(project, "node_modules/@line");
  try {
    symlinkSync(join(pkgDir, "node_modules/@line"), sdk, "dir");
  } catch (e) {
    if (e.code !== "EEXIST") throw e;
  }
  const source = `
    import type { messagingApi } from "@line/bot-sdk";
    import type { Decision } from "kizuna";
    import { pushRequest, retryKeyFor, type PushRequest } from "kizuna/line";
    export function body(d: Decision | string): messagingApi.PushMessageRequest | null {
      const r: PushRequest | null = pushRequest(d);
      return r === null ? null : r.body;
    }
    export const key: string = retryKeyFor("0123456789abcdef0123456789abcdef");
    // @ts-expect-error: a decision is an object or its JSON text
    pushRequest(42);
  `;
  for (const [name, resolution] of Object.entries(RESOLUTIONS)) {
    assert.equal(typecheck(`kizuna-line-${name}.ts`, source, { ...resolution, lib: ["es2022"], types: [], skipLibCheck: true }), "", name);
  }
});
