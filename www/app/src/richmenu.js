// Preview of a rich menu: the LINE rich-menu object's areas drawn to scale (percentages of
// `size`), over `imageUrl` when the config gives one, with the chat bar text below.
import { h } from "./dom.js";

const safeImage = (u) => (typeof u === "string" && /^(https?:|data:image\/)/i.test(u) ? u : null);

function describe(action = {}) {
  return action.label || action.text || action.data || action.uri || action.richMenuAliasId || action.type || "";
}

const ACTION = {
  link: "リンク",
  unlink: "リンク解除",
  none: "変更なし（すでにこのメニューかそのタブ）",
};

/** What to do: a "none" is not always "already on it" (a rule that cannot be judged, or no menu at all). */
function actionText(choice) {
  if (choice.reason?.undetermined) return "変更なし（判定できないルールがあるため、今のメニューのまま）";
  if (choice.action === "none" && !choice.menu) return "変更なし（当てはまるメニューも、個別のメニューもなし）";
  return ACTION[choice.action] ?? choice.action;
}

/** Why this menu, from decision.richMenu.reason ({rule, segment} | {rule} | {default} | {} | {rule, undetermined}). */
function reasonText(r = {}) {
  const rule = r.rule !== undefined ? `ルール ${r.rule}（${r.segment !== undefined ? `セグメント ${r.segment}` : "条件 when"}）` : "";
  if (r.undetermined) return `${rule}を判定できません（エラーは errors に）。どのメニューが合うか分からないため、変更しません`;
  if (rule) return rule;
  if (r.default) return "どのルールにも当てはまらないため、既定のメニュー（default）";
  return "どのルールにも当てはまらず、既定のメニューもありません";
}

/** A rich menu id as the config knows it: {menu, tab} (tab: the alias naming it), or null. */
function findMenu(config, id) {
  for (const m of config?.richMenus?.menus || []) {
    const tab = Object.entries(m.aliases || {}).find(([, v]) => v === id)?.[0];
    if (tab !== undefined) return { menu: m, tab };
    if (m.richMenuId === id) return { menu: m, tab: null };
  }
  return null;
}

function currentText(config, id) {
  const known = findMenu(config, id);
  const where = !known ? "設定にないメニュー" : known.tab !== null ? `${known.menu.id} のタブ ${known.tab}` : `メニュー ${known.menu.id}`;
  return `${id}（${where}）`;
}

/** `choice` is decision.richMenu ({action, menu, richMenuId, current, reason}); `config` the parsed config. */
export function renderRichMenu(choice, config) {
  if (!choice) return h("p.rm-note.muted", null, "この設定にはリッチメニューがありません（richMenus なし）。");
  const note = h("ul.rm-note", null,
    h("li", null, `操作: ${actionText(choice)}`),
    choice.menu ? h("li", null, `メニュー: ${choice.menu}${choice.richMenuId ? `（${choice.richMenuId}）` : ""}`) : null,
    h("li", null, `理由: ${reasonText(choice.reason)}`),
    h("li", null, `現在のメニュー: ${choice.current ? currentText(config, choice.current) : "なし（コンテキストに user.richMenuId なし）"}`));
  const menu = choice.menu ? (config?.richMenus?.menus || []).find((m) => m.id === choice.menu) : null;
  // The user may be on another tab (alias) of the menu: drawn from its aliasDefinitions entry
  // when the config has one, else the menu's definition is drawn and the note says so.
  const tab = menu && choice.current && choice.current !== choice.richMenuId ? findMenu(config, choice.current) : null;
  const onTab = tab?.menu === menu && tab.tab !== null ? tab.tab : null;
  const tabDef = onTab !== null ? menu.aliasDefinitions?.[onTab] : undefined;
  const def = tabDef?.size ? tabDef : menu?.definition;
  if (!def?.size?.width || !def?.size?.height) {
    return h("div", null, note, menu ? h("p.muted", null, "definition がないためプレビューできません。") : null);
  }
  const { width, height } = def.size;
  const pct = (v, of) => `${((Number(v) || 0) / of) * 100}%`;
  const image = safeImage(menu.imageUrl);
  const board = h("div.rm", {
    role: "img",
    "aria-label": `リッチメニュー ${def.name || menu.id}: ${(def.areas || []).map((a) => describe(a.action)).join("、")}`,
    style: `aspect-ratio: ${width} / ${height};${image ? ` background-image: url("${image.replace(/"/g, "%22")}");` : ""}`,
  }, (def.areas || []).map((a) => {
    const b = a.bounds || {};
    const el = h("div.rm-area", { title: `${a.action?.type || ""}: ${describe(a.action)}` }, describe(a.action));
    el.style.left = pct(b.x, width);
    el.style.top = pct(b.y, height);
    el.style.width = pct(b.width, width);
    el.style.height = pct(b.height, height);
    return el;
  }));
  const previewOf = h("p.rm-preview-of.muted", null, def === tabDef
    ? `プレビュー: メニュー ${menu.id} のタブ ${onTab}（${choice.current}）、ユーザーが今いるタブ（aliasDefinitions）`
    : `プレビュー: メニュー ${menu.id} の definition（${choice.richMenuId || menu.richMenuId || ""}）`,
    def !== tabDef && onTab !== null ? `。ユーザーは今このメニューのタブ ${onTab}（${choice.current}）にいます` : "");
  return h("figure", { style: "margin:0" }, note, previewOf, board, h("figcaption.rm-bar", null, `${def.chatBarText || "メニュー"} ▾`));
}
