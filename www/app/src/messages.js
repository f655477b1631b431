// Renders rendered LINE message objects (text, image, flex) as plain HTML for the result page.
// Only http(s) URLs become links or images; everything else is text.
import { h } from "./dom.js";

const safeUrl = (u) => (typeof u === "string" && /^https?:\/\//i.test(u) ? u : null);

function flex(node) {
  if (!node || typeof node !== "object") return null;
  switch (node.type) {
    case "carousel":
      return h("div.flex-carousel", null, (node.contents || []).map(flex));
    case "bubble":
      return h("div.flex-box", null, ["header", "hero", "body", "footer"].map((k) => flex(node[k])));
    case "box":
      return h(`div.flex-box.${node.layout || "vertical"}`, null, (node.contents || []).map(flex));
    case "text": {
      const text = node.text ?? (node.contents || []).map((s) => s.text || "").join("");
      return h(`p.flex-text${node.weight === "bold" ? ".bold" : ""}${node.size ? "." + node.size : ""}`, null, text);
    }
    case "image": {
      const src = safeUrl(node.url);
      return src ? h("img.flex-img", { src, alt: node.altText || "", loading: "lazy" }) : null;
    }
    case "button": {
      const a = node.action || {};
      const href = a.type === "uri" ? safeUrl(a.uri) : null;
      return href ? h("a.button.primary", { href, target: "_blank", rel: "noopener" }, a.label || href) : null;
    }
    default:
      return null;
  }
}

/** One LINE message object as an element (null for kinds without a visual form here). */
export function renderMessage(m) {
  switch (m?.type) {
    case "text":
      return h("p.msg-text", null, m.text);
    case "image": {
      const src = safeUrl(m.previewImageUrl || m.originalContentUrl);
      return src ? h("img.flex-img", { src, alt: "", loading: "lazy" }) : null;
    }
    case "flex":
      return flex(m.contents) || h("p.msg-text", null, m.altText);
    default:
      return m?.altText ? h("p.msg-text", null, m.altText) : null;
  }
}
