// Playground: edit a config and a context, see the decision, its explain traces (segments, and
// the content's variant choice) and the chosen rich menu; every error lists its JSON pointer and
// selects that place in the editor.
import exampleConfigText from "virtual:kizuna-config";
import brokenConfig from "../../../examples/broken-config.json?raw";
import contexts from "../../../examples/skincare/contexts.ndjson?raw";
// The package's engine with `kizuna check`'s warnings (a build of its own: see app.mk).
import { Engine } from "kizuna-check";
import { locate, offsetOf, lineOf, columnOf, templateRange } from "./json-pointer.js";
import { renderRichMenu } from "./richmenu.js";
import { renderMessage } from "./messages.js";
import { h } from "./dom.js";
import { codeLabel, titled } from "./codes.js";

const $ = (id) => document.getElementById(id);
const editors = { config: $("config"), context: $("context") };
const status = $("pg-status");
const EDITOR_LABEL = { config: "設定", context: "コンテキスト" };

/** Explain output longer than this (UTF-16 units, ~200 KB) is cut until 全部表示 is pressed. */
const EXPLAIN_LIMIT = 200_000;

function exampleContext() {
  const ctx = JSON.parse(contexts.split("\n").find((l) => l.trim()));
  ctx.user.quizAnswers = { ...ctx.user.quizAnswers, skin_type: { result: "dry" } };
  return JSON.stringify(ctx, null, 2);
}

const EXAMPLE = { config: JSON.stringify(JSON.parse(exampleConfigText), null, 2), context: exampleContext() };

// ---- keeping the user's text ----------------------------------------------------------------
// Both editors are saved to localStorage as they are typed in and restored on load; an example
// button replaces edited text only after confirm(). `loaded` is what a button (or the page load)
// last put in each editor: text that differs from it has been edited by the user.
const STORE = { config: "kizuna-playground:config", context: "kizuna-playground:context" };
const loaded = { ...EXAMPLE };

function save(name) {
  const value = editors[name].value;
  try {
    // The example itself is not stored, so that a new version of the page brings its new example.
    if (value === EXAMPLE[name]) localStorage.removeItem(STORE[name]);
    else localStorage.setItem(STORE[name], value);
  } catch {
    // Over the quota (a config of several MB) or storage disabled: drop the older copy, which
    // would otherwise come back on reload as if it were the latest text.
    try {
      localStorage.removeItem(STORE[name]);
    } catch {
      // storage disabled
    }
  }
}

function restore() {
  for (const name of Object.keys(editors)) {
    let saved = null;
    try {
      saved = localStorage.getItem(STORE[name]);
    } catch {
      // storage disabled: start from the example
    }
    editors[name].value = saved ?? EXAMPLE[name];
  }
}

const edited = (name) => editors[name].value !== loaded[name];

/** Puts example texts in the editors, after asking when that would discard edits. */
function replace(texts, question) {
  if (Object.keys(texts).some(edited) && !confirm(question)) return false;
  for (const [name, value] of Object.entries(texts)) {
    editors[name].value = value;
    loaded[name] = value;
    save(name);
  }
  return true;
}

// Saving ~50 KB on every key press is cheap but not free for a config of several MB: save a
// moment after typing stops, and at once when the page goes away.
const pending = new Map();
for (const [name, ta] of Object.entries(editors)) {
  ta.addEventListener("input", () => {
    clearTimeout(pending.get(name));
    pending.set(name, setTimeout(() => {
      pending.delete(name);
      save(name);
    }, 300));
  });
}
addEventListener("pagehide", () => {
  for (const [name, timer] of pending) {
    clearTimeout(timer);
    save(name);
  }
  pending.clear();
});

// ---- selecting the place of a problem -------------------------------------------------------

/**
 * Where in the editor's text a problem is. `line`/`column` mean two things (see the schema):
 * for `invalid_json` (and the nesting limit, which names the whole document, path "") they are a
 * place in the JSON text, columns counted in code points; for any other error (template_syntax,
 * template_render, unknown_filter, unknown_tag …) they are a place inside the template text of
 * the string at `path`.
 */
function place(text, problem) {
  if (problem.line && (problem.code === "invalid_json" || !problem.path)) {
    const start = offsetOf(text, problem.line, problem.column);
    return { start, end: Math.min(text.length, start + (/[\ud800-\udbff]/.test(text[start]) ? 2 : 1)), found: true };
  }
  const at = locate(text, problem.path);
  if (problem.line && at.found) {
    const r = templateRange(text, at.valueStart, problem.line, problem.column);
    if (r) return { ...r, found: true };
    return { start: at.valueStart, end: at.end, found: true }; // the whole string
  }
  return at;
}

// A canvas measures the width of a line's start in the editor's font, for the horizontal scroll.
let measurer;
function textWidth(ta, s) {
  measurer ??= document.createElement("canvas").getContext("2d");
  const cs = getComputedStyle(ta);
  measurer.font = cs.font || `${cs.fontSize} ${cs.fontFamily}`;
  const tab = " ".repeat(parseInt(cs.tabSize, 10) || 8);
  return measurer.measureText(s.replace(/\t/g, tab)).width;
}

/**
 * Scrolls the editor so that the selection's first line is near the top and, as the editors do
 * not wrap lines, its start is in view horizontally (neither focus() nor setSelectionRange()
 * scroll a textarea sideways in Chrome when the selection is set from a script).
 */
function reveal(ta, start, end) {
  const text = ta.value;
  const cs = getComputedStyle(ta);
  const lh = parseFloat(cs.lineHeight) || 18;
  ta.scrollTop = Math.max(0, (lineOf(text, start) - 3) * lh);
  const lineStart = text.lastIndexOf("\n", start - 1) + 1;
  const lineEnd = text.indexOf("\n", start);
  const x = textWidth(ta, text.slice(lineStart, start));
  // the part of the selection to bring into view: to its line's end, at most 60% of the width
  const w = Math.min(textWidth(ta, text.slice(start, Math.min(end, lineEnd < 0 ? text.length : lineEnd))), ta.clientWidth * 0.6);
  const view = ta.clientWidth - (parseFloat(cs.paddingLeft) || 0) - (parseFloat(cs.paddingRight) || 0);
  const margin = 4 * textWidth(ta, "0"); // a few characters of context left of the selection
  if (x < ta.scrollLeft || x + w > ta.scrollLeft + view) ta.scrollLeft = Math.max(0, x - margin);
}

/**
 * Selects the place a problem names in its editor (and scrolls it into view); returns a short
 * description of what was selected, for the live status.
 */
export function select(editorName, problem) {
  const ta = editors[editorName];
  const { start, end, found } = place(ta.value, problem);
  ta.focus({ preventScroll: true });
  ta.setSelectionRange(start, end, "forward");
  ta.scrollIntoView({ block: "nearest" });
  reveal(ta, start, end);
  ta.dataset.selectedPath = problem.path ?? "";
  return `${EDITOR_LABEL[editorName]}の ${problem.path || "/"} を選択しました${found ? "" : "（その場所はないため、最も近い親を選択）"}`;
}

/** "(3行 1列)" after a problem; a template's line and column are said to be the template's. */
function position(p) {
  if (!p.line) return "";
  const inTemplate = p.code !== "invalid_json" && p.path;
  return ` (${inTemplate ? "テンプレートの " : ""}${p.line}行 ${p.column ?? 1}列)`;
}

const describe = (p, editorName) => `${EDITOR_LABEL[editorName]} ${p.path || "/"}: ${titled(p.code)}${p.message}${position(p)}`;

/**
 * Lists problems in the error box, each a button that selects its place. `warning`: problems of
 * a decision that was made (the decision is shown too). `editorOf(p)` names each one's editor.
 */
function showProblems(problems, editorOf, { warning = false } = {}) {
  const list = $("errors");
  const buttons = problems.map((p, i) => {
    const name = editorOf(p);
    const b = h("button", { type: "button", "data-path": p.path ?? "", "data-editor": name, onclick: () => {
      for (const x of list.querySelectorAll("button")) x.removeAttribute("aria-current");
      b.setAttribute("aria-current", "true");
      status.textContent = `${select(name, p)}: ${codeLabel(p.code)}${p.message}${position(p)}`;
    } },
      h("code", null, `${EDITOR_LABEL[name]} ${p.path || "/"}`),
      `${p.warning && !warning ? " 警告" : ""} ${codeLabel(p.code)}${p.message}`,
      position(p));
    if (i === 0 && !warning) b.setAttribute("aria-current", "true");
    return h("li", null, b);
  });
  list.replaceChildren(...buttons);
  list.classList.toggle("warn", warning);
  $("errors-box").classList.toggle("warn", warning);
  $("errors-title").textContent = warning ? "警告（判定は行われました）" : "エラー";
  $("errors-box").hidden = false;
}

function problemsOf(error) {
  return error?.errors?.length ? error.errors : [{ code: error?.code || "error", message: error?.message || String(error), path: error?.path ?? "" }];
}

/**
 * A compile or context error: listed, the first one selected (unless on page load). After a
 * context error, the config (which compiled) still has its `kizuna check` warnings listed.
 */
function fail(editorName, error, focusError, warnings = []) {
  const problems = problemsOf(error);
  const marked = warnings.map((w) => ({ ...w, warning: true }));
  showProblems([...problems, ...marked], (p) => (p.warning ? "config" : editorName));
  $("ok-box").hidden = true;
  // One announcement (a second one in the same task would replace it): the count, then the
  // first problem and that it was selected.
  const first = `1 件目: ${describe(problems[0], editorName)}`;
  const also = marked.length ? `設定の警告 ${marked.length} 件も一覧にあります。` : "";
  status.textContent = focusError
    ? `${problems.length} 件のエラー。${first}（${select(editorName, problems[0])}）。${also}`
    : `${problems.length} 件のエラー。${first}。${also}`;
}

// The explain text in full, when the <pre> shows only its start.
let fullExplain = "";

/** A button showing a JSON pointer into the config (as `label`) that selects that place. */
const pathButton = (path, label = JSON.stringify(path)) =>
  h("button.pg-path", { type: "button", "data-path": path, title: "設定のこの場所を選択", onclick: () => {
    status.textContent = select("config", { path });
  } }, label);

/**
 * Puts explain JSON text in a <pre> (the segments' trace by default), each `"path": "…"` value
 * (a JSON pointer into the config) a button that selects that place in the config editor. The
 * <pre>'s text stays the JSON text.
 */
function setExplainText(text, pre = $("explain")) {
  const parts = [];
  const re = /"path": ("(?:[^"\\]|\\.)*")/g;
  let last = 0;
  for (let m; (m = re.exec(text)); ) {
    const quoted = m[1];
    const start = m.index + m[0].length - quoted.length;
    parts.push(text.slice(last, start));
    parts.push(pathButton(JSON.parse(quoted), quoted));
    last = start + quoted.length;
  }
  parts.push(text.slice(last));
  pre.replaceChildren(...parts);
}

/** One sub-condition of a try: its path (a button), operator, arguments and result. */
const stepItem = (s) => h("li", null, pathButton(s.path), ` ${s.op} ${(s.args || []).map((a) => JSON.stringify(a)).join(", ")} → ${JSON.stringify(s.result)}`);

/** What a try of the content's variant choice found, in words. */
function tryText(t) {
  const x = t.experiment;
  if (!x) return `バリアント「${t.variant}」: ${t.steps.length ? (t.condition ? "条件が成立" : "条件が不成立") : "条件なし（常に対象）"}`;
  if (!t.condition) return `実験「${x.id}」: 参加条件が不成立のため割り当てなし`;
  if (x.bucket === undefined) return `実験「${x.id}」: 重みがすべて 0（停止中）のため割り当てなし`;
  let from = 0;
  const ranges = x.weights.map((w) => {
    const range = w.weight > 0 ? `${w.variant} ${from}–${from + w.weight - 1}` : `${w.variant} 停止中`;
    from += w.weight;
    return range;
  });
  return `実験「${x.id}」: キー「${x.key}」のバケット ${x.bucket}（${ranges.join("、")}）→ バリアント「${t.variant}」`;
}

/**
 * The content's explanation (`explainContent`): each content tried in order (an event's
 * contents fall through while none of a content's variants applies), which variant was chosen,
 * each try (the variant's or the experiment's condition, with its steps), and the JSON, every
 * path a button that selects that place in the config.
 */
function showContentExplain(xs) {
  $("explain-content-box").hidden = !xs?.length;
  if (!xs?.length) return;
  const chosen = xs.at(-1).variant ? xs.at(-1) : null;
  const skipped = xs.filter((x) => x !== chosen).map((x) => `「${x.content}」`);
  $("explain-content-summary").textContent = [
    skipped.length ? `コンテンツ${skipped.join("")}には当てはまるバリアントがありません。` : "",
    chosen ? `コンテンツ「${chosen.content}」はバリアント「${chosen.variant}」に決まりました（上から順に試した結果）。` : "",
  ].join("");
  const many = xs.length > 1;
  $("explain-content-tries").replaceChildren(...xs.flatMap((x) => x.tried.map((t, i) => {
    const won = x === chosen && i === x.tried.length - 1;
    return h("li", { "data-chosen": won ? "true" : null },
      `${won ? "✓" : "✗"} `, pathButton(t.path), ` ${many ? `「${x.content}」` : ""}${tryText(t)}`,
      t.steps.length ? h("ul", null, t.steps.map(stepItem)) : null);
  })));
  setExplainText(JSON.stringify(xs, null, 2), $("explain-content"));
}

function showExplain(text) {
  const more = $("explain-more");
  if (text.length > EXPLAIN_LIMIT) {
    // Cut at a line end: setting megabytes of text in the <pre> freezes the page for seconds.
    fullExplain = text;
    const cut = text.lastIndexOf("\n", EXPLAIN_LIMIT);
    setExplainText(`${text.slice(0, cut > 0 ? cut : EXPLAIN_LIMIT)}\n…`);
    more.textContent = `全部表示（${Math.round(text.length / 1024).toLocaleString("ja-JP")} KB）`;
    more.hidden = false;
  } else {
    fullExplain = "";
    setExplainText(text);
    more.hidden = true;
  }
}

$("explain-more").addEventListener("click", () => {
  setExplainText(fullExplain);
  fullExplain = "";
  $("explain-more").hidden = true;
  $("explain").focus();
});

/**
 * The decision's rendered messages as chat bubbles (drawn by messages.js, as the quiz does),
 * each with its quick-reply buttons under it.
 */
function showMessages(messages = []) {
  const bubbles = messages.map((m) => {
    const items = m?.quickReply?.items || [];
    return h("div.pg-message", { role: "listitem" },
      h("div.pg-bubble", null, renderMessage(m) ?? h("p.msg-text.muted", null, `（${m?.type ?? "?"}: プレビューなし）`)),
      items.length ? h("div.pg-quick", { "aria-label": "クイックリプライ" }, items.map((i) => h("span.pg-chip", null, i.action?.label ?? i.action?.type ?? ""))) : null);
  });
  $("messages").replaceChildren(...(bubbles.length ? bubbles : [h("p.muted", null, "送るメッセージはありません（このイベントに当てはまるコンテンツなし）。")]));
}

/**
 * The editor a decision's error points into. The engine names config places for all of them
 * (the operation that met a bad value, e.g. /segments/14/when/</0 for a context's malformed
 * followedAt; a template's string; a menu rule); a path under one of the context's own members
 * would be the context's.
 */
const editorOfDecisionError = (p) => (/^\/(user|event|now)(\/|$)/.test(p.path ?? "") ? "context" : "config");

function decide(focusError) {
  $("errors-box").hidden = true;
  let compiled;
  try {
    const text = editors.config.value;
    compiled = { config: JSON.parse(text), engine: new Engine(text) };
  } catch (e) {
    fail("config", e instanceof SyntaxError ? jsonSyntax(editors.config.value, e) : e, focusError);
    return;
  }
  const { engine, config } = compiled;
  try {
    const decision = engine.decide(editors.context.value, true);
    const { explain, explainContent, ...rest } = decision;
    $("decision").textContent = JSON.stringify(rest, null, 2);
    showContentExplain(explainContent);
    showExplain(JSON.stringify(explain ?? null, null, 2));
    $("richmenu").replaceChildren(renderRichMenu(decision.richMenu, config));
    showMessages(decision.messages);
    $("ok-box").hidden = false;
    const segments = `segments: ${(decision.segments || []).join(", ") || "なし"}`;
    // The decision's own errors (rules or messages it went without), then what `kizuna check`
    // says of the config (a field the context does not have, a variant never used).
    const warnings = [...(decision.errors || []), ...engine.warnings()];
    if (warnings.length) {
      // Errors inside a decision: the decision was made without those rules or messages.
      showProblems(warnings, editorOfDecisionError, { warning: true });
      status.textContent = `判定しました（警告 ${warnings.length} 件）。1 件目: ${describe(warnings[0], editorOfDecisionError(warnings[0]))}。${segments}`;
    } else {
      status.textContent = `判定しました（${segments}）`;
    }
  } catch (e) {
    let warnings = [];
    try {
      warnings = engine.warnings();
    } catch {
      // (the engine failed outright: its error says why)
    }
    fail("context", e, focusError, warnings);
  } finally {
    engine.free();
  }
}

const nextFrame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
// A run asked for while one waits for its frame is dropped: that run reads the editors only
// after the frame, so it already sees whatever changed meanwhile.
let running = false;

/**
 * Runs the config on the context. Says 実行中… and lets the page paint it before the work
 * (which blocks the page: seconds for a config of several MB).
 */
async function run({ focusError = true } = {}) {
  if (running) return;
  running = true;
  const output = document.querySelector(".pg-output");
  output.setAttribute("aria-busy", "true");
  status.textContent = "実行中…";
  try {
    // requestAnimationFrame runs before the paint; the timeout after it, once painted.
    await nextFrame();
    decide(focusError);
  } finally {
    output.setAttribute("aria-busy", "false");
    running = false;
  }
}

/** JSON.parse's SyntaxError (thrown before the engine sees the text) as a problem. */
function jsonSyntax(text, e) {
  const m = /position (\d+)/.exec(e.message);
  const pos = m ? Number(m[1]) : 0;
  // V8 counts UTF-16 units; the problem says code points, as the engine's JSON errors do.
  const line = lineOf(text, pos);
  const column = columnOf(text, pos);
  return { code: "invalid_json", message: e.message, path: "", errors: [{ code: "invalid_json", message: e.message, path: "", line, column }] };
}

$("run").addEventListener("click", () => run());
$("reset").addEventListener("click", () => {
  if (replace(EXAMPLE, "編集した内容を破棄して、例に戻しますか？")) run();
});
$("broken").addEventListener("click", () => {
  if (replace({ config: brokenConfig }, "編集した設定を破棄して、エラーの例に置き換えますか？")) run();
});
for (const ta of Object.values(editors)) {
  ta.addEventListener("keydown", (ev) => {
    // Enter that confirms a Japanese IME conversion is not a request to run.
    if (ev.isComposing || ev.keyCode === 229) return;
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      run();
    }
  });
}

restore();
await run({ focusError: false });
document.body.dataset.ready = "1";
