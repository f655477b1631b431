// kizuna/line: Messaging API requests from decisions, in plain JavaScript (no Wasm), for a
// backend or batch that sends what kizuna decided. Rich-menu batches are `bulkRequests` in the
// main entry; this is the push side.

/**
 * The X-Line-Retry-Key of a decision's push: a UUID made from its decisionId (32 hex digits),
 * so the same decision always pushes under the same key and LINE sends it once however often
 * the push is retried within the key's 24 hours. The decisionId's hex digits in UUID layout,
 * with the version nibble set to 4 and the variant's top bits to 10, as strict UUID
 * validators (LINE's included) require.
 */
export function retryKeyFor(decisionId) {
  let hex = String(decisionId).toLowerCase().replace(/[^0-9a-f]/g, "");
  if (hex.length < 32) hex = (hex + "0".repeat(32)).slice(0, 32);
  hex = hex.slice(0, 32);
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The push of a decision's messages: `{method: "POST", path: "/v2/bot/message/push", headers:
 * {"X-Line-Retry-Key": …}, body: {to, messages, customAggregationUnits?}}`, the unit being the
 * variant's `content.aggregationUnit` (so LINE counts the push in the arm's statistics).
 * `null` when there is nothing to send: no messages (no variant applied, or the render failed
 * and the decision has `errors`). `decision` is a Decision or its JSON text.
 */
export function pushRequest(decision) {
  const d = typeof decision === "string" ? JSON.parse(decision) : decision;
  if (!d || typeof d !== "object") throw new TypeError("pushRequest takes a decision (an object or its JSON text)");
  if (!Array.isArray(d.messages) || d.messages.length === 0) return null;
  if (typeof d.userId !== "string" || typeof d.decisionId !== "string") throw new TypeError("pushRequest: a decision has a userId and a decisionId");
  const unit = d.content?.aggregationUnit;
  return {
    method: "POST",
    path: "/v2/bot/message/push",
    headers: { "X-Line-Retry-Key": retryKeyFor(d.decisionId) },
    body: { to: d.userId, messages: d.messages, ...(unit ? { customAggregationUnits: [unit] } : {}) },
  };
}
