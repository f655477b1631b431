// make bench: Liquid rendering through the kizuna package against liquidjs and handlebars
// (compiled), five marketing templates × 10,000 seeded users, in one Node process. kizuna's
// output must be byte-identical to liquidjs's for every user and template, or the bench fails.
import { Liquid } from "liquidjs";
import Handlebars from "handlebars";
import { Engine } from "../pkg/node.js";
import { measureAll } from "./measure.mjs";
import { generateUsers, NOW } from "./users.mjs";

const USERS = Number(process.env.BENCH_USERS ?? 10000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);

const ITEMS = [["薬用美白ローション", 3800], ["モイスチャーセラム", 6800], ["ナイトクリーム", 9800], ["クレンジングバーム", 2400], ["UVミルク SPF50", 3300], ["トライアルセット", 980]];
const users = generateUsers(USERS, 42).map((u, i) => {
  // Three recommended products per user, rotating through the catalogue.
  u.user.attributes.recommended = [0, 1, 2].map((k) => {
    const [name, price] = ITEMS[(i + k * 2) % ITEMS.length];
    return { name, price };
  });
  return u;
});
const texts = users.map((u) => JSON.stringify(u));

const liquid = {
  greeting: `{{ user.displayName | default: "お客様" }}様、こんにちは！いつもご利用ありがとうございます。`,
  offer: `{% if user.attributes.memberRank == "gold" %}{{ user.displayName }}様限定：全品20%OFF{% elsif user.attributes.memberRank == "silver" %}{{ user.displayName }}様：10%OFFクーポン{% else %}ご来店ありがとうございます：送料無料クーポン{% endif %}`,
  recommend: `{{ user.displayName }}様へのおすすめ\n{% for item in user.attributes.recommended %}{{ forloop.index }}. {{ item.name }} {{ item.price | yen }}\n{% endfor %}`,
  birthday: `{{ user.displayName }}様、お誕生日おめでとうございます！クーポンは{{ user.attributes.birthday | date: "%m月%d日" }}から30日間有効です。`,
  refill: `{% assign lotion = user.purchases | where: "category", "lotion" | last %}{% if lotion %}{{ user.displayName }}様、{{ lotion.at | date: "%Y年%m月%d日" }}にお買い上げの化粧水はそろそろなくなる頃です。詰め替え用（{{ lotion.amount | yen }}）はいかがですか？{% else %}{{ user.displayName }}様、化粧水のお試しセットはいかがですか？{% endif %}`,
};
const names = Object.keys(liquid);

// kizuna: the five templates are one content of five text messages, rendered per user.
const kizuna = new Engine({
  version: 1,
  timeZone: "+09:00",
  contents: [{ id: "bench", variants: [{ id: "all", messages: names.map((n) => ({ type: "text", text: liquid[n] })) }] }],
});

// liquidjs in the same zone (+09:00), with the same yen filter.
const yen = (v) => (v < 0 ? "-¥" : "¥") + Math.abs(Math.round(Number(v))).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
const ljs = new Liquid({ timezoneOffset: -540 });
ljs.registerFilter("yen", yen);
const ljsTemplates = names.map((n) => ljs.parse(liquid[n]));

// handlebars, compiled, with equivalent helpers (same output).
const hb = Handlebars.create();
hb.registerHelper("yen", yen);
hb.registerHelper("eq", (a, b) => a === b);
const pad = (n) => String(n).padStart(2, "0");
const local = (s) => new Date(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00+09:00` : s).getTime() + 9 * 3600e3;
hb.registerHelper("md", (s) => { const d = new Date(local(s)); return `${pad(d.getUTCMonth() + 1)}月${pad(d.getUTCDate())}日`; });
hb.registerHelper("ymd", (s) => { const d = new Date(local(s)); return `${d.getUTCFullYear()}年${pad(d.getUTCMonth() + 1)}月${pad(d.getUTCDate())}日`; });
hb.registerHelper("lastLotion", (ps) => { for (let i = ps.length - 1; i >= 0; i--) if (ps[i].category === "lotion") return ps[i]; return null; });
hb.registerHelper("inc", (i) => i + 1);
const handlebars = {
  greeting: `{{#if user.displayName}}{{user.displayName}}{{else}}お客様{{/if}}様、こんにちは！いつもご利用ありがとうございます。`,
  offer: `{{#if (eq user.attributes.memberRank "gold")}}{{user.displayName}}様限定：全品20%OFF{{else if (eq user.attributes.memberRank "silver")}}{{user.displayName}}様：10%OFFクーポン{{else}}ご来店ありがとうございます：送料無料クーポン{{/if}}`,
  recommend: `{{user.displayName}}様へのおすすめ\n{{#each user.attributes.recommended}}{{inc @index}}. {{name}} {{yen price}}\n{{/each}}`,
  birthday: `{{user.displayName}}様、お誕生日おめでとうございます！クーポンは{{md user.attributes.birthday}}から30日間有効です。`,
  refill: `{{#with (lastLotion user.purchases) as |lotion|}}{{../user.displayName}}様、{{ymd lotion.at}}にお買い上げの化粧水はそろそろなくなる頃です。詰め替え用（{{yen lotion.amount}}）はいかがですか？{{else}}{{user.displayName}}様、化粧水のお試しセットはいかがですか？{{/with}}`,
};
const hbTemplates = names.map((n) => hb.compile(handlebars[n], { noEscape: true }));

const render = {
  kizuna: (text) => JSON.parse(kizuna.renderJson("bench", text)).messages.map((m) => m.text),
  liquidjs: (obj) => ljsTemplates.map((t) => ljs.renderSync(t, obj)),
  handlebars: (obj) => hbTemplates.map((t) => t(obj)),
};

// Correctness: byte-identical to liquidjs (and handlebars, so all do the same work).
for (let i = 0; i < users.length; i++) {
  const want = render.liquidjs(users[i]);
  const got = render.kizuna(texts[i]);
  const hbs = render.handlebars(users[i]);
  for (let t = 0; t < names.length; t++) {
    if (got[t] !== want[t]) {
      console.error(`MISMATCH kizuna vs liquidjs, user ${i}, template ${names[t]}:\n  kizuna:   ${JSON.stringify(got[t])}\n  liquidjs: ${JSON.stringify(want[t])}`);
      process.exit(1);
    }
    if (hbs[t] !== want[t]) {
      console.error(`MISMATCH handlebars vs liquidjs, user ${i}, template ${names[t]}:\n  handlebars: ${JSON.stringify(hbs[t])}\n  liquidjs:   ${JSON.stringify(want[t])}`);
      process.exit(1);
    }
  }
}
console.log(`${names.length} templates × ${USERS} users: kizuna's output is byte-identical to liquidjs's (and handlebars's) for every user and template\n`);
// BENCH_CHECK_ONLY=1 (make test): the check above, no measuring.
if (process.env.BENCH_CHECK_ONLY === "1") process.exit(0);


// kizuna's call: the user's JSON text in, the decision JSON text (with the five messages) out.
const runs = {
  text: {
    kizuna: (t) => kizuna.renderJson("bench", t),
    liquidjs: (t) => render.liquidjs(JSON.parse(t)),
    handlebars: (t) => render.handlebars(JSON.parse(t)),
  },
  object: {
    kizuna: (o) => kizuna.render("bench", o).messages,
    liquidjs: render.liquidjs,
    handlebars: render.handlebars,
  },
};
const results = {};
for (const [scenario, set] of Object.entries(runs)) {
  const inputs = scenario === "text" ? texts : users;
  console.log(`scenario: ${scenario} (best of ${ROUNDS} interleaved rounds; renders/s = users/s × ${names.length})`);
  results[scenario] = measureAll(set, inputs, ROUNDS, names.length);
  for (const [name, rps] of Object.entries(results[scenario])) {
    console.log(`  ${name.padEnd(12)} ${Math.round(rps).toLocaleString("en-US").padStart(10)} renders/s`);
  }
  for (const peer of ["liquidjs", "handlebars"]) console.log(`  kizuna / ${peer.padEnd(10)} ${(results[scenario].kizuna / results[scenario][peer]).toFixed(2)}×`);
  console.log();
}
console.log(JSON.stringify({ bench: "templates", users: USERS, templates: names.length, now: NOW, results }));
