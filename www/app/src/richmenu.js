// Preview of a rich menu: the LINE rich-menu object's areas drawn to scale (percentages of
// `size`), over `imageUrl` when the config gives one, with the chat bar text below.
import { h } from "./dom.js";

const safeImage = (u) => (typeof u === "string" && /^(https?:|data:image\/)/i.test(u) ? u : null);

function describe(action = {}) {
  return action.label || action.text || action.data || action.uri || action.richMenuAliasId || action.type || "";
}

function reasonText(r) {
  if (typeof r !== "object" || r === null) return String(r);
  return Object.entries(r).map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ");
}

/** `choice` is decision.richMenu ({action, menu, richMenuId, current, reason}); `config` the parsed config. */
export function renderRichMenu(choice, config) {
  if (!choice) return h("p.rm-note.muted", null, "この設定にはリッチメニューがありません（richMenus なし）。");
  const note = h("p.rm-note", null,
    `操作: ${choice.action}`,
    choice.menu ? ` / メニュー: ${choice.menu}` : "",
    choice.richMenuId ? ` (${choice.richMenuId})` : "",
    choice.reason ? ` — 理由: ${reasonText(choice.reason)}` : "");
  const menu = choice.menu ? (config?.richMenus?.menus || []).find((m) => m.id === choice.menu) : null;
  const def = menu?.definition;
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
  return h("figure", { style: "margin:0" }, note, board, h("figcaption.rm-bar", null, `${def.chatBarText || "メニュー"} ▾`));
}
