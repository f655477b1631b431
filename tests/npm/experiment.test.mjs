// An A/B test measured with LINE's unit statistics, through the npm package as a backend runs
// it: a re-activation push for dormant members (two offers and a plain-message control), the
// arms recomputed here with flagd's formula from our own MurmurHash3 (murmur3.mjs), each push sent with its
// arm's unit through the worker's Messaging API client to the mock LINE API.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startLineApi } from "../../www/mock/line-api.mjs";
import { LineApi } from "../../www/worker/src/line.js";
import { retryKeyFor } from "../../pkg/line.js";
import { murmur3 } from "./murmur3.mjs";

const { Engine } = await import("../../pkg/node.js");

/** flagd's high-precision `fractional`: bucket = hash × total >> 32, first arm past it. */
function flagdArm(key, arms) {
  const total = arms.reduce((t, [, w]) => t + BigInt(w), 0n);
  const bucket = (BigInt(murmur3(key)) * total) >> 32n;
  let end = 0n;
  for (const [id, w] of arms) if (bucket < (end += BigInt(w))) return id;
  return undefined;
}

const text = (t) => [{ type: "text", text: t }];
const arms = [["free_week", 45, "fit_re2612_week"], ["pt_free", 45, "fit_re2612_pt"], ["control", 10, "fit_re2612_ctrl"]];
const config = {
  version: 1,
  segments: [{ id: "dormant", when: { "==": [{ var: "user.attributes.member" }, "dormant"] } }],
  contents: [{
    id: "reactivation",
    experiment: { id: "fit_react_2612", when: { in_segment: "dormant" } },
    variants: [
      { id: "vip", when: { has_tag: "vip" }, messages: text("VIP様へ") },
      ...arms.map(([id, weight, aggregationUnit]) => ({ id, weight, aggregationUnit, messages: text(`{{ user.displayName | default: '会員' }}様 ${id}`) })),
      { id: "default", messages: text("FitLineからのお知らせ") },
    ],
  }],
};
const hex = (i) => (BigInt(i) * 0x9e3779b97f4a7c15n).toString(16).padStart(32, "0").slice(-32);

test("each dormant member's arm is flagd's fractional of experiment id + userId, and its push carries the arm's unit, which LINE accepts", async () => {
  const engine = new Engine(config);
  const line = await startLineApi({ token: "t" });
  const api = new LineApi({ channelAccessToken: "t", baseURL: line.url, maxAttempts: 1, baseDelayMs: 0, sleep: async () => {} });
  const counts = {};
  try {
    for (let i = 0; i < 400; i++) {
      const userId = `U${hex(i + 1)}`;
      const d = engine.render("reactivation", { version: 1, now: "2026-12-01T09:00:00+09:00", user: { userId, attributes: { member: "dormant" } } });
      const arm = flagdArm(`fit_react_2612${userId}`, arms);
      assert.deepEqual(d.content, { id: "reactivation", variant: arm, experiment: "fit_react_2612", aggregationUnit: arms.find(([id]) => id === arm)[2] });
      // Deterministic: the same user again, and the JSON path, give the same arm.
      assert.equal(JSON.parse(engine.renderJson("reactivation", JSON.stringify({ version: 1, now: "2026-12-02T09:00:00+09:00", user: { userId, attributes: { member: "dormant" } } }))).content.variant, arm);
      assert.equal(await api.send(userId, d.messages, { retryKey: retryKeyFor(d.decisionId), aggregationUnit: d.content.aggregationUnit }), "push");
      counts[arm] = (counts[arm] ?? 0) + 1;
    }
    const pushed = line.calls.filter((c) => c.path === "/v2/bot/message/push");
    assert.equal(pushed.length, 400);
    for (const [id, , unit] of arms) {
      // What the backend divides LINE's opens by: the pushes it sent under each unit.
      assert.equal(pushed.filter((c) => c.body.customAggregationUnits?.[0] === unit).length, counts[id], unit);
    }
    // Roughly 45/45/10 of 400.
    assert.ok(counts.free_week > 150 && counts.pt_free > 150 && counts.control > 20 && counts.control < 65, JSON.stringify(counts));
    // Members outside the test get the default, with no unit and no experiment.
    const d = engine.render("reactivation", { version: 1, now: "2026-12-01T09:00:00+09:00", user: { userId: `U${hex(9999)}` } });
    assert.deepEqual(d.content, { id: "reactivation", variant: "default" });
  } finally {
    await line.close();
  }
});

test("a unit LINE would refuse, or an arm's unit on a variant outside the test, is refused when the config compiles", () => {
  const withUnits = (vip, control) => {
    const c = structuredClone(config);
    c.contents[0].variants[0].aggregationUnit = vip;
    c.contents[0].variants[3].aggregationUnit = control;
    return c;
  };
  const problems = (c) => {
    try {
      new Engine(c);
    } catch (e) {
      return e.errors.map((p) => [p.code, p.path, p.message]);
    }
    return [];
  };
  // VIP members (never assigned) under the first offer's unit would count as its opens.
  assert.deepEqual(problems(withUnits("fit_re2612_week", "fit_re2612_ctrl")), [[
    "invalid_value",
    "/contents/0/variants/1/aggregationUnit",
    'variant "vip" is not an arm of the experiment but uses aggregation unit "fit_re2612_week" of arm "free_week": LINE would count its pushes in the arm\'s figures; give "vip" a unit of its own, or none',
  ]]);
  assert.deepEqual(problems(withUnits("fit_re2612_vip", "fit-re2612-ctrl")).map(([code, path]) => [code, path]), [["invalid_value", "/contents/0/variants/3/aggregationUnit"]]);
  assert.deepEqual(problems(withUnits("fitline_reactivation_2612_vip_x", "fit_re2612_ctrl"))[0][2].endsWith("(31 characters)"), true);
  assert.deepEqual(problems(withUnits("fit_re2612_vip", "fit_re2612_ctrl")), []);
});
