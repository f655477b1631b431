// make demo: decide the example skincare contexts with the npm package (pkg/) and print the
// decisions as a table.
import { readFileSync } from "node:fs";
import { Engine } from "../pkg/node.js";
import { pushRequest } from "../pkg/line.js";

const here = (p) => new URL(p, import.meta.url);
const config = readFileSync(here("./skincare/config.json"), "utf8");
const contexts = readFileSync(here("./skincare/contexts.ndjson"), "utf8").trim().split("\n");

const engine = new Engine(config);
const decisions = engine.decideMany(contexts.join("\n")).trim().split("\n").map((l) => JSON.parse(l));

// East Asian wide characters take two columns in a terminal.
const width = (s) => [...s].reduce((n, c) => n + (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(c) ? 2 : 1), 0);
const pad = (s, n) => s + " ".repeat(Math.max(0, n - width(s)));

// The welcome content as each user would get it on following the account.
const welcomes = contexts.map((c) => engine.render("welcome", c));
const firstLine = (w) => {
  const m = w.messages?.[0];
  const text = m?.type === "flex" ? `[flex] ${m.altText}` : m?.text ?? "-";
  return text.split("\n")[0].slice(0, 28);
};

const rows = decisions.map((d, i) => {
  const user = JSON.parse(contexts[i]).user;
  const grouped = new Set(Object.values(d.groups ?? {}));
  const w = welcomes[i].content;
  return [
    user.displayName,
    d.groups?.lifecycle ?? "-",
    (d.groups?.skin_type ?? "-").replace("skin_", ""),
    d.segments.filter((s) => !grouped.has(s)).join(", ") || "-",
    d.richMenu ? `${d.richMenu.action} ${d.richMenu.menu ?? ""}`.trim() : "-",
    w ? `${w.variant}${w.experiment ? " (A/B)" : ""}` : "-",
    firstLine(welcomes[i]),
  ];
});
const head = ["user", "lifecycle", "skin", "other segments", "rich menu", "welcome variant", "first line of the welcome message"];
const widths = head.map((h, c) => Math.max(width(h), ...rows.map((r) => width(r[c]))));
const line = (r) => r.map((x, c) => pad(x, widths[c])).join("  ");
console.log(`kizuna demo — ${contexts.length} LINE friends of a skincare brand, now = ${JSON.parse(contexts[0]).now}`);
console.log(`config hash ${engine.configHash}\n`);
console.log(line(head));
console.log(widths.map((w) => "─".repeat(w)).join("  "));
for (const r of rows) console.log(line(r));
// A push campaign: a flex carousel with one bubble per product the backend recommends
// (a "$for" over user.attributes.recommended); users without recommendations get a text.
const pushes = contexts.map((c) => engine.render("recommendations", c));
console.log(`\nPush campaign "recommendations" (one carousel bubble per product in user.attributes.recommended):`);
pushes.forEach((p, i) => {
  const bubbles = p.messages?.[0]?.contents?.contents;
  if (p.content?.variant === "carousel" && bubbles) {
    const names = bubbles.map((b) => b.body.contents.map((t) => t.text).join(" "));
    console.log(`  ${pad(rows[i][0], 12)} ${bubbles.length} bubble(s): ${names.join(" / ")}`);
  }
});
console.log(`  ${pushes.filter((p) => p.content?.variant === "bestsellers").length} other users get the bestseller text`);
// What the backend sends (kizuna/line's pushRequest): each variant pushes under its own LINE
// aggregation unit, so LINE's statistics give opens and taps per variant.
const sends = pushes.map(pushRequest).filter(Boolean);
const byUnit = new Map();
for (const r of sends) {
  const unit = r.body.customAggregationUnits?.[0] ?? "(none)";
  byUnit.set(unit, (byUnit.get(unit) ?? 0) + 1);
}
const units = [...byUnit].map(([u, n]) => `${u} × ${n}`);
console.log(`  ${sends.length} push requests, by aggregation unit: ${units.join(", ")}; first retry key ${sends[0]?.headers["X-Line-Retry-Key"]}`);

console.log(`\nThe decision for ${rows[0][0]}'s follow event, in full (ready for the reply API):`);
console.log(JSON.stringify(decisions[0], null, 2));

// The skin-type quiz, answered along the sensitive path (q1 "sting" branches to q2), for the
// first user: the outcome moves her into a skin-type segment and its rich menu.
const path = JSON.parse(readFileSync(here("./skincare/quiz-paths.json"), "utf8")).find((p) => p.result === "sensitive");
let state = engine.quizStart("skin_type");
for (const [question, answer] of path.answers) state = engine.quizAnswer(state, question, answer);
const outcome = engine.quizResult(state, contexts[0]);
const rm = outcome.decision.richMenu;
console.log(`\nThe skin-type quiz for ${rows[0][0]} (answers ${path.answers.map(([q, a]) => `${q}=${[].concat(a).join("+") || "-"}`).join(" ")}):`);
console.log(`  result ${outcome.result.id} 「${outcome.result.title}」, scores ${JSON.stringify(outcome.scores)}`);
console.log(`  ${outcome.result.description.split("\n")[0]}`);
console.log(`  recommended: ${outcome.result.contents.map((c) => c.id).join(", ")}; tags added: ${outcome.tags.join(", ")}`);
console.log(`  decision ${outcome.decision.decisionId}: segments ${outcome.decision.segments.join(", ")}; rich menu ${rm.action} ${rm.menu}`);
console.log("\nTry the CLI too: target/release/kizuna decide --config examples/skincare/config.json examples/skincare/contexts.ndjson");
