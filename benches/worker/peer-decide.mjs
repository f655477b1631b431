// The same decision as kizuna's, built the way a JavaScript team would without kizuna:
// json-logic-js for the segment and menu rules (with kizuna's marketing operators added as
// custom operations, as benches/peers.mjs does for the segment bench, here reading `now` from
// the context), exclusive groups by priority, the content variant and A/B split, liquidjs for
// the Liquid templates in the LINE messages, and the rich-menu choice. Used by the load bench's
// peer worker (benches/worker/peer-worker.js) and checked against kizuna before the run.
import jsonLogic from "json-logic-js";
import { Liquid } from "liquidjs";

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export class PeerDecider {
  constructor(config) {
    this.config = config;
    this.tzMs = 9 * 3600e3; // the skincare config's Asia/Tokyo
    this.liquid = new Liquid({ timezoneOffset: -540, cache: true });
    this.liquid.registerFilter("yen", (v) => (v < 0 ? "-¥" : "¥") + Math.abs(Math.round(Number(v))).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ","));
    this.templates = new Map();
    this.segments = config.segments;
    this.byId = new Map(this.segments.map((s) => [s.id, s]));
    this.groups = new Map();
    for (const s of this.segments) {
      if (!s.group) continue;
      if (!this.groups.has(s.group)) this.groups.set(s.group, []);
      this.groups.get(s.group).push(s);
    }
    for (const members of this.groups.values()) members.sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
    const menus = config.richMenus?.menus ?? [];
    this.menus = new Map(menus.map((m) => [m.id, m]));
    this.menuOfRichMenuId = new Map();
    this.aliasTarget = new Map();
    for (const m of menus) {
      this.menuOfRichMenuId.set(m.richMenuId, m.id);
      for (const [alias, rid] of Object.entries(m.aliases ?? {})) {
        this.aliasTarget.set(alias, rid);
        this.menuOfRichMenuId.set(rid, m.id);
      }
    }
    this.state = undefined; // the decision in progress (json-logic-js operations are global)
    this.#operators();
  }

  #toMs(ts) {
    if (typeof ts === "number") return ts;
    if (typeof ts !== "string") return NaN;
    return DATE_ONLY.test(ts) ? Date.parse(`${ts}T00:00:00+09:00`) : Date.parse(ts);
  }

  #durationMs(d) {
    const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(d);
    if (!m) throw new Error(`bad duration ${d}`);
    const [, y, mo, w, day, h, mi, s] = m.map((x) => Number(x ?? 0));
    const nowMs = this.state.nowMs;
    const back = new Date(nowMs + this.tzMs);
    back.setUTCFullYear(back.getUTCFullYear() - y, back.getUTCMonth() - mo);
    return nowMs + this.tzMs - back.getTime() + (((w * 7 + day) * 24 + h) * 60 + mi) * 60e3 + s * 1e3;
  }

  #operators() {
    const self = this;
    const local = (ms) => new Date(ms + self.tzMs);
    jsonLogic.add_operation("days_since", (ts) => (ts == null ? null : (self.state.nowMs - self.#toMs(ts)) / 864e5));
    // Whole dates apart in the account's zone (local midnight to local midnight).
    const day = (ms) => Math.floor((ms + self.tzMs) / 864e5);
    jsonLogic.add_operation("calendar_days_since", (ts) => (ts == null ? null : day(self.state.nowMs) - day(self.#toMs(ts))));
    jsonLogic.add_operation("ago", (d) => self.state.nowMs - self.#durationMs(d));
    jsonLogic.add_operation("after", (x, y) => x != null && y != null && self.#toMs(x) > self.#toMs(y));
    jsonLogic.add_operation("before", (x, y) => x != null && y != null && self.#toMs(x) < self.#toMs(y));
    jsonLogic.add_operation("month", (...a) => (a.length === 0 ? local(self.state.nowMs).getUTCMonth() + 1 : a[0] == null ? null : local(self.#toMs(a[0])).getUTCMonth() + 1));
    jsonLogic.add_operation("weekday", () => local(self.state.nowMs).getUTCDay() || 7);
    jsonLogic.add_operation("time_of_day", () => local(self.state.nowMs).toISOString().slice(11, 16));
    jsonLogic.add_operation("has_tag", (t) => (self.state.user.tags ?? []).includes(t));
    jsonLogic.add_operation("has_any_tag", (...ts) => ts.flat().some((t) => (self.state.user.tags ?? []).includes(t)));
    jsonLogic.add_operation("in_segment", (id) => self.#inSegment(id));
    jsonLogic.add_operation("fractional", (...buckets) => fractional(`${self.state.segmentId}${self.state.user.userId}`, buckets));
  }

  #holds(rule, segmentId) {
    const saved = this.state.segmentId;
    this.state.segmentId = segmentId;
    try {
      return jsonLogic.truthy(jsonLogic.apply(rule, this.state.data));
    } catch {
      return false;
    } finally {
      this.state.segmentId = saved;
    }
  }

  #inSegment(id) {
    const memo = this.state.memo;
    if (memo.has(id)) return memo.get(id);
    const s = this.byId.get(id);
    let v = false;
    if (s?.group) v = this.#groupWinner(s.group) === id;
    else if (s) v = this.#holds(s.when, id);
    memo.set(id, v);
    return v;
  }

  #groupWinner(group) {
    const winners = this.state.winners;
    if (winners.has(group)) return winners.get(group);
    let win = null;
    for (const s of this.groups.get(group)) {
      if (this.#holds(s.when, s.id)) {
        win = s.id;
        break;
      }
    }
    winners.set(group, win);
    return win;
  }

  #render(value, scope) {
    if (typeof value === "string") {
      if (!value.includes("{")) return value;
      let t = this.templates.get(value);
      if (!t) this.templates.set(value, (t = this.liquid.parse(value)));
      return this.liquid.renderSync(t, scope);
    }
    if (Array.isArray(value)) return value.map((v) => this.#render(v, scope));
    if (value && typeof value === "object") {
      const out = {};
      for (const k of Object.keys(value)) out[k] = this.#render(value[k], scope);
      return out;
    }
    return value;
  }

  /** Context JSON text in, Decision JSON text out (the shape of kizuna's, fewer details). */
  decideJson(text) {
    const ctx = JSON.parse(text);
    const user = ctx.user ?? {};
    user.tags ??= [];
    user.purchases ??= [];
    user.events ??= [];
    user.attributes ??= {};
    user.quizAnswers ??= {};
    const nowMs = Date.parse(ctx.now);
    this.state = { nowMs, user, data: { user, event: ctx.event, now: ctx.now }, memo: new Map(), winners: new Map(), segmentId: "" };
    const segments = this.segments.filter((s) => this.#inSegment(s.id)).map((s) => s.id);
    const groups = {};
    for (const g of this.groups.keys()) if (this.#groupWinner(g)) groups[g] = this.#groupWinner(g);

    const decision = { version: 1, decisionId: "", configHash: "peer", userId: user.userId, now: ctx.now, segments, groups };
    const type = ctx.event?.type;
    const content = type && (this.config.contents ?? []).find((c) => (c.on ?? []).includes(type));
    if (content) {
      const exp = content.experiment;
      const inExp = exp ? this.#holds(exp.when, "") : false;
      let chosen;
      const variants = content.variants;
      for (let i = 0; i < variants.length && !chosen; i++) {
        const v = variants[i];
        if (v.weight !== undefined) {
          if (!inExp) continue;
          const weighted = variants.filter((x) => x.weight !== undefined);
          const id = fractional(`${exp.id}${user.userId}`, weighted.map((x) => [x.id, x.weight]));
          chosen = weighted.find((x) => x.id === id);
        } else if (v.when === undefined || this.#holds(v.when, "")) {
          chosen = v;
        }
      }
      if (chosen) {
        decision.content = { id: content.id, variant: chosen.id, ...(chosen.weight !== undefined ? { experiment: exp.id } : {}), ...(chosen.aggregationUnit ? { aggregationUnit: chosen.aggregationUnit } : {}) };
        decision.messages = this.#render(chosen.messages, { user, now: ctx.now, event: ctx.event, segments });
      }
    }
    if (this.config.richMenus) decision.richMenu = this.#menu(ctx, segments);
    decision.decisionId = hashHex(`${user.userId}|${ctx.now}|${ctx.event?.webhookEventId ?? ""}|${JSON.stringify(decision)}`);
    return JSON.stringify(decision);
  }

  #menu(ctx, segments) {
    const rm = this.config.richMenus;
    let menu;
    let reason = {};
    for (const [i, r] of (rm.rules ?? []).entries()) {
      if (r.segment ? segments.includes(r.segment) : this.#holds(r.when, "")) {
        menu = r.menu;
        reason = r.segment ? { rule: i, segment: r.segment } : { rule: i };
        break;
      }
    }
    if (!menu && rm.default) {
      menu = rm.default;
      reason = { default: true };
    }
    const alias = ctx.event?.type === "postback" ? ctx.event.postback?.params?.newRichMenuAliasId : undefined;
    const current = (alias && this.aliasTarget.get(alias)) ?? ctx.user?.richMenuId;
    const out = {};
    if (!menu) {
      out.action = current ? "unlink" : "none";
    } else {
      const target = this.menus.get(menu);
      out.menu = menu;
      out.richMenuId = target.richMenuId;
      out.action = current && this.menuOfRichMenuId.get(current) === menu ? "none" : "link";
    }
    if (current) out.current = current;
    out.reason = reason;
    return out;
  }
}

// OpenFeature flagd's fractional: murmur3 (32-bit, seed 0) of the key; bucket =
// (hash × total weight) >> 32; the first variant whose cumulative weight exceeds it.
function fractional(key, buckets) {
  const total = buckets.reduce((n, [, w]) => n + Math.max(0, Math.trunc(w ?? 1)), 0);
  const bucket = Math.floor((murmur3(key) * total) / 4294967296);
  let end = 0;
  for (const [name, w] of buckets) {
    end += Math.max(0, Math.trunc(w ?? 1));
    if (bucket < end) return name;
  }
  return null;
}

function murmur3(key) {
  const bytes = new TextEncoder().encode(key);
  let h = 0;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const n = bytes.length & ~3;
  for (let i = 0; i < n; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  switch (bytes.length & 3) {
    case 3: k ^= bytes[n + 2] << 16; // falls through
    case 2: k ^= bytes[n + 1] << 8; // falls through
    case 1:
      k ^= bytes[n];
      k = Math.imul(k, c1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, c2);
      h ^= k;
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

// A deterministic 32-hex-digit id (four murmur3 lanes): enough for the bench's retry keys.
function hashHex(s) {
  return [0, 1, 2, 3].map((i) => murmur3(`${i}:${s}`).toString(16).padStart(8, "0")).join("");
}
