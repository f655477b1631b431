// The playground in Debian's chromium: a decision with its explain traces and rich-menu preview;
// config errors listed with their JSON pointer, selecting that place in the editor.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startApp } from "../../www/app/serve.mjs";
import { launch, newPage, artifact, CONFIG_PATH } from "./helpers.mjs";
import { locate } from "../../www/app/src/json-pointer.js";

let browser, app;
const errors = [];
before(async () => {
  [browser, app] = await Promise.all([launch(), startApp({ port: 0 })]);
});
after(async () => {
  await Promise.all([browser?.close(), app?.close()]);
});

const selection = (page, id) =>
  page.evaluate((id) => {
    const t = document.getElementById(id);
    return { active: document.activeElement?.id, text: t.value.slice(t.selectionStart, t.selectionEnd), start: t.selectionStart, end: t.selectionEnd };
  }, id);

/** A new page at 375×667 (or `viewport`) with the playground loaded and its example decided. */
async function openPlayground(viewport) {
  const { context, page } = await newPage(browser, errors);
  if (viewport) await page.setViewportSize(viewport);
  await page.goto(app.playgroundUrl);
  await page.waitForSelector("body[data-ready]");
  return { context, page };
}

/** Sets an editor's text through the DOM (Playwright's fill() types ~50 KB slowly). */
const setEditor = (page, id, value) =>
  page.locator(`#${id}`).evaluate((t, v) => {
    t.value = v;
    t.dispatchEvent(new Event("input", { bubbles: true }));
  }, value);

/** Presses 実行 and waits until the run is over. */
async function run(page) {
  await page.getByRole("button", { name: /実行/ }).click();
  await page.waitForFunction(() => document.getElementById("pg-status").textContent !== "実行中…");
}

const statusText = (page) => page.locator("#pg-status").textContent();

test("the example decides: decision, explain trace, rich-menu preview", async () => {
  const { context, page } = await newPage(browser, errors);
  await page.goto(app.playgroundUrl);
  await page.waitForSelector("body[data-ready]");
  assert.equal(await page.locator("#ok-box").isVisible(), true);
  const decision = JSON.parse(await page.locator("#decision").textContent());
  assert.match(decision.decisionId, /^[0-9a-f]{32}$/);
  assert.ok(decision.segments.includes("skin_dry"));
  const explain = JSON.parse(await page.locator("#explain").textContent());
  assert.ok(explain && typeof explain === "object", "explain trace shown");
  const config = JSON.parse(readFileSync(CONFIG_PATH, "utf8"));
  if (config.richMenus) {
    const areas = await page.locator("#richmenu .rm-area").count();
    assert.ok(areas > 0, "the chosen rich menu's areas are drawn");
  }
  await page.screenshot({ path: artifact("playground-decision.png"), fullPage: true });
  await context.close();
  assert.deepEqual(errors, []);
});

test("a config error shows its path and selects that place in the editor", async () => {
  const { context, page } = await newPage(browser, errors);
  await page.goto(app.playgroundUrl);
  await page.waitForSelector("body[data-ready]");
  // a typo in a field name of the third segment
  const text = await page.locator("#config").inputValue();
  const cfg = JSON.parse(text);
  const seg = cfg.segments[2];
  const typo = JSON.stringify({ ...Object.fromEntries(Object.entries(seg).map(([k, v]) => [k === "priority" ? "priorty" : k, v])) }, null, 2);
  cfg.segments[2] = "__SEG__";
  // (set through the DOM: Playwright's fill() types ~50 KB slowly)
  await page.locator("#config").evaluate((t, v) => {
    t.value = v;
    t.dispatchEvent(new Event("input", { bubbles: true }));
  }, JSON.stringify(cfg, null, 2).replace('"__SEG__"', typo));
  await page.getByRole("button", { name: /実行/ }).click();
  const first = page.locator("#errors button").first();
  await first.waitFor();
  assert.equal(await first.getAttribute("data-path"), "/segments/2/priorty");
  assert.match(await first.textContent(), /\/segments\/2\/priorty/);
  assert.match(await first.textContent(), /unknown_field/);
  const sel = await selection(page, "config");
  assert.equal(sel.active, "config", "the editor has the focus");
  assert.match(sel.text, /^"priorty": \d+$/, "the first error is selected automatically");
  await page.screenshot({ path: artifact("playground-error.png") });

  // the broken example (replacing the edited config, once confirmed): five errors; clicking one
  // selects its place
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "エラーの例" }).click();
  await page.locator("#errors button").nth(4).waitFor();
  assert.equal(await page.locator("#errors button").count(), 5);
  assert.match((await selection(page, "config")).text, /^\{ "greater_than"/);
  await page.locator('#errors button[data-path="/segments/1/descripton"]').click();
  assert.equal((await selection(page, "config")).text, '"descripton": "added us this week"');
  await page.locator('#errors button[data-path="/segments/3/when/after/1/ago"]').focus();
  await page.keyboard.press("Enter"); // keyboard works too
  assert.equal((await selection(page, "config")).text, '"ago": "90 days"');
  await context.close();
  assert.deepEqual(errors, []);
});

test("a context error points into the context editor", async () => {
  const { context, page } = await newPage(browser, errors);
  await page.goto(app.playgroundUrl);
  await page.waitForSelector("body[data-ready]");
  await page.locator("#context").fill('{"version": 1, "now": "yesterday", "user": {"userId": "U1"}}');
  await page.locator("#context").press("Control+Enter");
  const first = page.locator("#errors button").first();
  await first.waitFor();
  assert.match(await first.textContent(), /コンテキスト/);
  const sel = await selection(page, "context");
  assert.equal(sel.active, "context");
  assert.ok(sel.text.length > 0, "something selected in the context editor");
  await context.close();
  assert.deepEqual(errors, []);
});

test("JSON errors count columns in code points: emoji before the error do not shift the selection", async () => {
  const { context, page } = await openPlayground();
  // the engine's column (context editor)
  const ctx = (await page.locator("#context").inputValue()).replace('"displayName": "佐藤 美咲",', '"displayName": "😀😀😀😀 美咲" "x": 1,');
  assert.ok(ctx.includes('"x": 1'));
  await setEditor(page, "context", ctx);
  await run(page);
  assert.match(await page.locator("#errors button").first().textContent(), /invalid_json/);
  assert.equal((await selection(page, "context")).start, ctx.indexOf('"x"'));
  // V8's position (config editor, parsed before the engine sees it)
  const cfg = '{\n  "version": 1, "a": "😀😀" "b": 1\n}';
  await setEditor(page, "config", cfg);
  await run(page);
  assert.equal((await selection(page, "config")).start, cfg.indexOf('"b"'));
  await context.close();
  assert.deepEqual(errors, []);
});

test("a template error selects its character inside the template's string, not a place in the config", async () => {
  const { context, page } = await openPlayground();
  const cfg = JSON.parse(await page.locator("#config").inputValue());
  const message = cfg.contents[0].variants[0].messages[0];
  assert.equal(message.type, "text");
  message.text = "こんにちは\n{{ user.displayName }}様\n{% if x %}未完";
  const text = JSON.stringify(cfg, null, 2);
  await setEditor(page, "config", text);
  await run(page);
  const first = page.locator("#errors button").first();
  let sel = await selection(page, "config");
  assert.equal(sel.start, text.indexOf("{% if x %}"), "template line 3, column 1: after the second \\n of the string");
  assert.equal(sel.text, "{");
  assert.equal(sel.active, "config");
  // the list says whose line and column they are
  assert.match(await first.textContent(), /\[template_syntax\].*テンプレートの 3行 1列/);

  // an unknown tag, after \u00e9, an escaped surrogate pair and a raw emoji (one column each)
  const raw = text.replace(JSON.stringify(message.text), '"\\u00e9\\ud83d\\ude00😀 {% if a %}x{% endfi %}"');
  await setEditor(page, "config", raw);
  await run(page);
  assert.match(await first.textContent(), /unknown tag 'endfi'/);
  sel = await selection(page, "config");
  assert.equal(sel.start, raw.indexOf("{% endfi"));

  // line/column of the whole document (path ""), as the nesting limit gives them, stay places in
  // the editor's text
  await setEditor(page, "config", JSON.stringify(JSON.parse(readFileSync(CONFIG_PATH, "utf8")), null, 2));
  const deep = `{"version": 1, "now": "2026-11-27T10:00:00+09:00", "user": {"userId": "U1", "attributes": {"x": ${"[".repeat(200)}${"]".repeat(200)}}}}`;
  await setEditor(page, "context", deep);
  await run(page);
  assert.match(await first.textContent(), /limit_exceeded/);
  const column = Number(/(\d+)列/.exec(await first.textContent())[1]);
  assert.equal((await selection(page, "context")).start, column - 1);
  await context.close();
  assert.deepEqual(errors, []);
});

/**
 * Where the selection's highlight (playground.css: ::selection #ffd54f) is drawn in a screenshot
 * of the editor: the pixel columns it spans and the editor's width (n = 0: not in view).
 */
async function highlight(page, id) {
  const png = await page.locator(`#${id}`).screenshot();
  return page.evaluate(async (b64) => {
    const bmp = await createImageBitmap(await (await fetch(`data:image/png;base64,${b64}`)).blob());
    const c = new OffscreenCanvas(bmp.width, bmp.height).getContext("2d");
    c.drawImage(bmp, 0, 0);
    const d = c.getImageData(0, 0, bmp.width, bmp.height).data;
    let n = 0, minX = Infinity, maxX = -1;
    for (let i = 0; i < d.length; i += 4) {
      if (Math.abs(d[i] - 0xff) < 10 && Math.abs(d[i + 1] - 0xd5) < 14 && Math.abs(d[i + 2] - 0x4f) < 20) {
        const x = (i / 4) % bmp.width;
        n++;
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
      }
    }
    return { n, minX, maxX, width: bmp.width };
  }, png.toString("base64"));
}

test("a selected error far right on its line is scrolled into view sideways (1280 px and 375×667)", async () => {
  for (const viewport of [{ width: 1280, height: 800 }, { width: 375, height: 667 }]) {
    const { context, page } = await openPlayground(viewport);
    await page.getByRole("button", { name: "エラーの例" }).click();
    await page.locator("#errors button").nth(4).waitFor();
    for (const path of ["/segments/3/when/after/1/ago", "/segments/4/when/in_segment"]) {
      await page.locator(`#errors button[data-path="${path}"]`).click();
      const sel = await selection(page, "config");
      assert.match(sel.text, /^"(ago|in_segment)"/);
      const hl = await highlight(page, "config");
      await page.screenshot({ path: artifact(`playground-scroll-${viewport.width}.png`) });
      assert.ok(hl.n > 100, `${viewport.width}px ${path}: the highlight is in view (${JSON.stringify(hl)})`);
      // the whole selection is seen: it touches neither edge (border 2 px + padding 8 px)
      assert.ok(hl.minX > 10 && hl.maxX < hl.width - 10, `${viewport.width}px ${path}: not cut at an edge (${JSON.stringify(hl)})`);
    }
    await context.close();
  }
  assert.deepEqual(errors, []);
});

test("the live status says how many errors and the first one's message, not only its place", async () => {
  const { context, page } = await openPlayground();
  page.on("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "エラーの例" }).click();
  await page.locator("#errors button").nth(4).waitFor();
  const first = await page.locator("#errors button").first().textContent();
  const message = first.slice(first.indexOf("] ") + 2);
  const status = await statusText(page);
  assert.match(status, /^5 件のエラー。/);
  assert.ok(status.includes("/segments/0/when/and/1"), status);
  assert.match(message, /^不明な演算子: /, "the code's Japanese title before the engine's message");
  assert.ok(status.includes(message), `the status says the message: ${status}`);
  // clicking another error says its message too
  await page.locator('#errors button[data-path="/segments/1/descripton"]').click();
  assert.match(await statusText(page), /\/segments\/1\/descripton.*descripton/);
  await context.close();
  assert.deepEqual(errors, []);
});

/** The value at a JSON pointer (plain keys and indexes: enough for the engine's paths here). */
const at = (doc, pointer) => pointer.split("/").slice(1).map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~")).reduce((v, k) => v[k], doc);

test("errors inside a decision are listed as warnings next to the decision, and select their place", async () => {
  const { context, page } = await openPlayground();
  // a malformed timestamp in the context: the rule that reads it fails, the rest is decided
  const ctx = (await page.locator("#context").inputValue()).replace(/"followedAt": "[^"]*"/, '"followedAt": "昨日"');
  await setEditor(page, "context", ctx);
  await run(page);
  const decision = JSON.parse(await page.locator("#decision").textContent());
  assert.ok(decision.errors?.length >= 1, "the engine reports the bad timestamp in the decision");
  assert.equal(await page.locator("#ok-box").isVisible(), true, "the decision is shown");
  assert.equal(await page.locator("#errors-box").isVisible(), true, "and its errors");
  assert.match(await statusText(page), new RegExp(`^判定しました（警告 ${decision.errors.length} 件）`));
  const buttons = page.locator("#errors button");
  assert.equal(await buttons.count(), decision.errors.length);
  const w = decision.errors.find((e) => e.code === "invalid_timestamp");
  assert.ok(w.path.startsWith("/segments/"), "a config path: the operation that read the value");
  await page.locator(`#errors button[data-path="${w.path}"]`).click();
  const sel = await selection(page, "config");
  assert.equal(sel.active, "config");
  const config = JSON.parse(await page.locator("#config").inputValue());
  assert.deepEqual(JSON.parse(sel.text), at(config, w.path));

  // a template that fails to render: a warning at the template's character
  for (const v of config.contents[0].variants) if (v.messages[0].type === "text") v.messages[0].text = "a\n😀{{ user.attributes.price | divided_by: 0 }}";
  const text = JSON.stringify(config, null, 2);
  const withPrice = JSON.parse(ctx);
  withPrice.user.followedAt = "2026-11-25T10:30:00+09:00";
  withPrice.user.attributes = { ...withPrice.user.attributes, price: 5 };
  await setEditor(page, "config", text);
  await setEditor(page, "context", JSON.stringify(withPrice, null, 2));
  await run(page);
  assert.match(await statusText(page), /^判定しました（警告 1 件）/);
  const render = JSON.parse(await page.locator("#decision").textContent()).errors[0];
  assert.equal(render.code, "template_render");
  await page.locator("#errors button").first().click();
  const s2 = await selection(page, "config");
  assert.equal(s2.start, text.indexOf("divided_by", locate(text, render.path).valueStart), "the filter, inside the string at the warning's path");
  await context.close();
  assert.deepEqual(errors, []);
});

test("kizuna check's warnings of the config are listed with the decision's, and select their place in the template", async () => {
  const { context, page } = await openPlayground();
  assert.equal(await page.locator("#errors-box").isVisible(), false, "the example has nothing to warn about");
  const config = JSON.parse(await page.locator("#config").inputValue());
  const v = config.contents[0].variants.findIndex((x) => x.messages[0].type === "text");
  config.contents[0].variants[v].messages[0].text = "こんにちは {{ user.displayNmae }} 様";
  const text = JSON.stringify(config, null, 2);
  await setEditor(page, "config", text);
  await run(page);
  assert.equal(await page.locator("#ok-box").isVisible(), true, "a warning does not stop the decision");
  assert.match(await statusText(page), /^判定しました（警告 1 件）/);
  const path = `/contents/0/variants/${v}/messages/0/text`;
  const button = page.locator(`#errors button[data-path="${path}"]`);
  const said = await button.textContent();
  assert.match(said, /\[unknown_context_field\].*"user\.displayNmae".*did you mean "user\.displayName"/, said);
  await button.click();
  const sel = await selection(page, "config");
  assert.equal(sel.active, "config");
  const string = locate(text, path);
  assert.ok(sel.start > string.valueStart && sel.end <= string.end, "inside the template's string");
  assert.equal(sel.start, text.indexOf("user.displayNmae", string.valueStart), "at the path the output reads");

  // A context the engine refuses: its error first, the config's warning still listed after it.
  const ctx = JSON.parse(await page.locator("#context").inputValue());
  delete ctx.user.userId;
  await setEditor(page, "context", JSON.stringify(ctx, null, 2));
  await run(page);
  assert.equal(await page.locator("#ok-box").isVisible(), false, "no decision");
  const listed = page.locator("#errors button");
  assert.equal(await listed.count(), 2);
  assert.equal(await listed.nth(0).getAttribute("data-editor"), "context");
  assert.match(await listed.nth(0).textContent(), /\[missing_field\]/);
  assert.equal(await listed.nth(1).getAttribute("data-path"), path);
  assert.equal(await listed.nth(1).getAttribute("data-editor"), "config");
  assert.match(await listed.nth(1).textContent(), / 警告 \[unknown_context_field\]/);
  assert.match(await statusText(page), /^1 件のエラー。/, "the count is the context's errors");
  await context.close();
  assert.deepEqual(errors, []);
});

test("edits are kept across a reload, and the example buttons ask before replacing them", async () => {
  const { context, page } = await openPlayground();
  const dialogs = [];
  let answer = false;
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    return answer ? d.accept() : d.dismiss();
  });
  // unedited: the example buttons replace without asking
  await page.getByRole("button", { name: "エラーの例" }).click();
  await page.locator("#errors button").nth(4).waitFor();
  await page.getByRole("button", { name: "例に戻す" }).click();
  await page.locator("#ok-box").waitFor();
  assert.deepEqual(dialogs, []);
  const example = await page.locator("#config").inputValue();

  // typed text survives a reload (saved on input, restored on load)
  await page.locator("#config").focus();
  await page.keyboard.press("Control+End");
  await page.keyboard.type("\n");
  await page.locator("#context").focus();
  await page.keyboard.press("Control+End");
  await page.keyboard.type(" ");
  await page.reload();
  await page.waitForSelector("body[data-ready]");
  assert.equal(await page.locator("#config").inputValue(), `${example}\n`);
  assert.match(await page.locator("#context").inputValue(), / $/);

  // エラーの例 asks; cancelled, nothing changes
  await page.getByRole("button", { name: "エラーの例" }).click();
  assert.equal(dialogs.length, 1);
  assert.equal(await page.locator("#config").inputValue(), `${example}\n`);
  // accepted, the config is replaced (the context is left as it is)
  answer = true;
  await page.getByRole("button", { name: "エラーの例" }).click();
  await page.locator("#errors button").nth(4).waitFor();
  assert.equal(dialogs.length, 2);
  assert.match(await page.locator("#context").inputValue(), / $/);
  // 例に戻す asks because of the context's edit; accepted, both are the example again
  await page.getByRole("button", { name: "例に戻す" }).click();
  await page.locator("#ok-box").waitFor();
  assert.equal(dialogs.length, 3);
  assert.equal(await page.locator("#config").inputValue(), example);
  await page.reload();
  await page.waitForSelector("body[data-ready]");
  assert.equal(await page.locator("#config").inputValue(), example);
  assert.doesNotMatch(await page.locator("#context").inputValue(), / $/);
  await context.close();
  assert.deepEqual(errors, []);
});

test("a run says 実行中… and lets the page paint first; a huge explain is cut, with a button to show all", async () => {
  const { context, page } = await openPlayground();
  // the status is set, and the work not done yet, when the click returns
  const during = await page.evaluate(() => {
    document.getElementById("run").click();
    return { status: document.getElementById("pg-status").textContent, busy: document.querySelector(".pg-output").getAttribute("aria-busy") };
  });
  assert.deepEqual(during, { status: "実行中…", busy: "true" });
  await page.waitForFunction(() => document.getElementById("pg-status").textContent.startsWith("判定しました"));

  // ~2,000 more segments: an explain trace of several hundred KB
  const cfg = JSON.parse(await page.locator("#config").inputValue());
  for (let i = 0; i < 2000; i++) cfg.segments.push({ id: `extra_${i}`, when: { and: [{ has_tag: `tag_${i}` }, { ">": [{ var: "user.attributes.spend" }, i] }] } });
  await setEditor(page, "config", JSON.stringify(cfg, null, 2));
  await run(page);
  const shown = await page.locator("#explain").textContent();
  assert.ok(shown.length <= 200_010, `cut to ~200 KB (${shown.length})`);
  assert.ok(shown.endsWith("…"));
  const more = page.getByRole("button", { name: /全部表示/ });
  assert.equal(await more.isVisible(), true);
  await more.click();
  const full = JSON.parse(await page.locator("#explain").textContent());
  assert.ok(full.length >= 2000, "all of it once asked for");
  assert.equal(await more.isVisible(), false);
  await context.close();
  assert.deepEqual(errors, []);
});

test("the run button's label has a space before (Ctrl+Enter); Ctrl+Enter during IME composition does not run", async () => {
  const { context, page } = await openPlayground();
  const gap = await page.locator("#run").evaluate((b) => {
    const r = document.createRange();
    r.selectNodeContents(b.firstChild); // the text 実行
    return b.querySelector("span").getBoundingClientRect().left - r.getBoundingClientRect().right;
  });
  assert.ok(gap >= 3, `a visible space (${gap} px)`);

  await setEditor(page, "context", "{");
  const before = await statusText(page);
  await page.locator("#context").evaluate((t) => {
    t.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", ctrlKey: true, isComposing: true, bubbles: true, cancelable: true }));
  });
  await page.waitForTimeout(300);
  assert.equal(await page.locator("#errors-box").isVisible(), false, "not run while composing");
  assert.equal(await statusText(page), before);
  await page.locator("#context").press("Control+Enter");
  await page.locator("#errors button").first().waitFor();
  await context.close();
  assert.deepEqual(errors, []);
});

/** The value in a selection: an array element's text, or an object member's ("key": value). */
const selectedValue = (text) => {
  const member = /^"(?:[^"\\]|\\.)*":/.test(text) ? JSON.parse(`{${text}}`) : null;
  return member ? Object.values(member)[0] : JSON.parse(text);
};

test("the explain trace's paths are buttons that select that place in the config", async () => {
  const { context, page } = await openPlayground();
  const explain = JSON.parse(await page.locator("#explain").textContent()); // still the JSON text
  const path = explain[1].steps[0].path;
  assert.match(path, /^\/segments\/1\//);
  const button = page.locator(`#explain button[data-path="${path}"]`);
  assert.equal(await button.count(), 1, "the step's path is a button");
  await button.click();
  const sel = await selection(page, "config");
  assert.equal(sel.active, "config");
  const config = JSON.parse(await page.locator("#config").inputValue());
  assert.deepEqual(selectedValue(sel.text), at(config, path));
  assert.ok((await statusText(page)).includes(path), "the status says what was selected");
  // the keyboard works too
  const other = explain[3].steps[0].path;
  await page.locator(`#explain button[data-path="${other}"]`).focus();
  await page.keyboard.press("Enter");
  assert.deepEqual(selectedValue((await selection(page, "config")).text), at(config, other));
  await context.close();
  assert.deepEqual(errors, []);
});

test("the content's explanation lists each variant tried and the experiment's bucket; its paths select the config", async () => {
  const { context, page } = await openPlayground();
  const decision = JSON.parse(await page.locator("#decision").textContent());
  assert.equal(decision.explainContent, undefined, "shown apart, not in the decision JSON");
  const xs = JSON.parse(await page.locator("#explain-content").textContent()); // the JSON text
  assert.equal(xs.length, 1, "the welcome content answers the follow");
  const [x] = xs;
  assert.equal(x.variant, decision.content.variant);
  const tries = page.locator("#explain-content-tries > li");
  assert.equal(await tries.count(), x.tried.length);
  assert.equal(await tries.last().getAttribute("data-chosen"), "true");
  const last = x.tried.at(-1);
  if (last.experiment) assert.ok((await tries.last().textContent()).includes(`バケット ${last.experiment.bucket}`));
  // a step's path is a button that selects that condition in the config
  const path = x.tried[0].steps[0].path;
  assert.match(path, /^\/contents\/\d+\/variants\/0\/when/);
  await page.locator(`#explain-content-tries button[data-path="${path}"]`).click();
  const sel = await selection(page, "config");
  assert.equal(sel.active, "config");
  const config = JSON.parse(await page.locator("#config").inputValue());
  assert.deepEqual(selectedValue(sel.text), at(config, path));
  await context.close();
  assert.deepEqual(errors, []);
});

test("the rich-menu note is Japanese: action, reason, the user's current menu; the preview says which menu it draws", async () => {
  const { context, page } = await openPlayground();
  const note = () => page.locator("#richmenu .rm-note").textContent();
  const decided = async () => JSON.parse(await page.locator("#decision").textContent()).richMenu;
  // the example: linked by a segment rule, no current menu
  let choice = await decided();
  assert.equal(choice.action, "link");
  let text = await note();
  assert.match(text, /操作: リンク(?!解除)/);
  assert.ok(text.includes(`ルール ${choice.reason.rule}（セグメント ${choice.reason.segment}）`), text);
  assert.doesNotMatch(text, /\b(none|link|rule|segment)\b/, "no English words of the engine");
  assert.match(await page.locator("#richmenu .rm-preview-of").textContent(), new RegExp(`メニュー ${choice.menu}.*${choice.richMenuId}`));

  // a loyal customer on the loyal-rewards tab (contexts.ndjson line 4): nothing to change
  const line4 = readFileSync(new URL("../../examples/skincare/contexts.ndjson", import.meta.url), "utf8").split("\n")[3];
  await setEditor(page, "context", line4);
  await run(page);
  choice = await decided();
  assert.equal(choice.action, "none");
  text = await note();
  assert.match(text, /操作: 変更なし（すでにこのメニューかそのタブ）/);
  assert.match(text, /ルール 1（セグメント loyal）/);
  assert.ok(text.includes(choice.current), `the current menu: ${text}`);
  assert.match(text, /loyal のタブ loyal-rewards/);
  // the example gives the rewards tab's own rich menu object: that tab is drawn
  let previewOf = await page.locator("#richmenu .rm-preview-of").textContent();
  assert.match(previewOf, /メニュー loyal のタブ loyal-rewards/);
  assert.match(await page.locator("#richmenu .rm").getAttribute("aria-label"), /今月の会員特典/);
  // without it, the menu's definition is drawn, and the note says the user is on another tab
  const withTab = JSON.parse(await page.locator("#config").inputValue());
  delete withTab.richMenus.menus.find((m) => m.id === "loyal").aliasDefinitions;
  await setEditor(page, "config", JSON.stringify(withTab, null, 2));
  await run(page);
  previewOf = await page.locator("#richmenu .rm-preview-of").textContent();
  assert.match(previewOf, /メニュー loyal の definition/);
  assert.match(previewOf, /loyal-rewards/, "says that the user is on another tab than the one drawn");
  assert.doesNotMatch(await page.locator("#richmenu .rm").getAttribute("aria-label"), /今月の会員特典/);

  // no rule (without the loyal one) and no default menu, the user has a menu: unlink
  const cfg = JSON.parse(await page.locator("#config").inputValue());
  delete cfg.richMenus.default;
  cfg.richMenus.rules = cfg.richMenus.rules.filter((r) => r.segment !== "loyal");
  await setEditor(page, "config", JSON.stringify(cfg, null, 2));
  await run(page);
  assert.equal(await page.locator("#errors-box").isVisible(), false);
  assert.equal((await decided()).action, "unlink");
  text = await note();
  assert.match(text, /操作: リンク解除/);
  assert.match(text, /既定のメニューもありません/);

  // the same without a per-user menu: nothing to do, but not "already on this menu"
  const user = JSON.parse(line4);
  delete user.user.richMenuId;
  await setEditor(page, "context", JSON.stringify(user));
  await run(page);
  assert.deepEqual([(await decided()).action, (await decided()).menu], ["none", undefined]);
  text = await note();
  assert.doesNotMatch(text, /すでにこのメニュー/, text);

  // a rule that cannot be judged (its condition fails on the user's data): left alone, and said so
  cfg.richMenus.rules.unshift({ when: { "<": [{ days_since: { var: "user.attributes.since" } }, 7] }, menu: "standard" });
  await setEditor(page, "config", JSON.stringify(cfg, null, 2));
  const broken = JSON.parse(line4);
  broken.user.attributes = { ...broken.user.attributes, since: "yesterday" };
  await setEditor(page, "context", JSON.stringify(broken));
  await run(page);
  choice = await decided();
  assert.deepEqual([choice.action, choice.reason.undetermined], ["none", true]);
  text = await note();
  assert.doesNotMatch(text, /すでにこのメニュー/, text);
  assert.match(text, /ルール 0（条件 when）を判定できません/, text);
  await context.close();
  assert.deepEqual(errors, []);
});

test("the decision's messages are drawn as chat bubbles (text and Flex), the raw JSON kept", async () => {
  const { context, page } = await openPlayground();
  const heading = page.getByRole("heading", { name: /メッセージ/ });
  assert.equal(await heading.isVisible(), true);
  let decision = JSON.parse(await page.locator("#decision").textContent());
  assert.ok(decision.messages.length >= 2);
  const bubbles = page.locator("#messages .pg-bubble");
  assert.equal(await bubbles.count(), decision.messages.length);
  assert.equal(await bubbles.first().locator(".msg-text").textContent(), decision.messages[0].text);
  // a quick reply's buttons are shown under its message
  const quick = decision.messages.find((m) => m.quickReply);
  if (quick) assert.ok((await page.locator("#messages").textContent()).includes(quick.quickReply.items[0].action.label));

  // a Flex bubble: a loyal customer's follow (contexts.ndjson line 4 with line 1's event)
  const lines = readFileSync(new URL("../../examples/skincare/contexts.ndjson", import.meta.url), "utf8").split("\n");
  const ctx = { ...JSON.parse(lines[3]), event: JSON.parse(lines[0]).event };
  await setEditor(page, "context", JSON.stringify(ctx, null, 2));
  await run(page);
  decision = JSON.parse(await page.locator("#decision").textContent());
  assert.equal(decision.messages[0].type, "flex");
  assert.equal(await bubbles.count(), 1);
  assert.ok(await bubbles.first().locator(".flex-box").count() > 0, "drawn by messages.js as a Flex box");
  assert.match(await bubbles.first().textContent(), /ロイヤル会員特典/);
  await page.locator("#messages").screenshot({ path: artifact("playground-messages.png") });

  // no content for this event: said so
  delete ctx.event;
  await setEditor(page, "context", JSON.stringify(ctx, null, 2));
  await run(page);
  assert.equal(await bubbles.count(), 0);
  assert.match(await page.locator("#messages").textContent(), /メッセージはありません/);
  await context.close();
  assert.deepEqual(errors, []);
});
