// Hand-written declarations of kizuna/line (pkg/line.js).
import type { Decision } from "./dist/contract.js";

/**
 * The X-Line-Retry-Key of a decision's push: a UUID made from its decisionId, so the same
 * decision always pushes under the same key and LINE sends it once.
 */
export function retryKeyFor(decisionId: string): string;

/** One push call of the Messaging API, ready for `fetch(apiBase + path, …)`. */
export interface PushRequest {
  method: "POST";
  path: "/v2/bot/message/push";
  headers: { "X-Line-Retry-Key": string };
  body: {
    to: string;
    messages: NonNullable<Decision["messages"]>;
    /** The variant's `content.aggregationUnit`: LINE counts the push's opens and taps in it. */
    customAggregationUnits?: [string];
  };
}

/**
 * The push of a decision's messages, or `null` when it has none to send (no variant applied,
 * or the render failed: see its `errors`). `decision` is a Decision or its JSON text.
 */
export function pushRequest(decision: Decision | string): PushRequest | null;
