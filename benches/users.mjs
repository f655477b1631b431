// Seeded generator of realistic kizuna contexts (same seed ⇒ same users), shared by the benches.
export const NOW = "2026-11-27T10:30:00+09:00";
const NOW_MS = Date.parse(NOW);

/** The seeded random numbers in [0, 1) of the benches and of the differential tests. */
export function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PREFS = ["東京都", "神奈川県", "大阪府", "埼玉県", "千葉県", "愛知県", "福岡県", "北海道", "京都府", "兵庫県"];
const NAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"];
const GIVEN = ["美咲", "花子", "由美", "恵", "さくら", "直子", "愛", "彩", "優子", "舞"];
const PRODUCTS = [
  ["LT-120", "lotion", 3800], ["SR-30", "serum", 6800], ["CR-40", "cream", 9800],
  ["CL-50", "cleanser", 2400], ["SET-01", "set", 18000], ["TR-01", "trial", 980],
];
const SKIN = ["dry", "oily", "combination", "sensitive", "normal"];
const TAGS = ["vip", "ambassador", "newsletter", "opt_out", "instagram", "campaign_2026_spring", "store_visit"];

const iso = (ms) => new Date(ms).toISOString();
const hex = (rnd, n) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join("");

export function generateUsers(count, seed = 42) {
  const rnd = mulberry32(seed);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const users = [];
  for (let i = 0; i < count; i++) {
    const nPurchases = Math.floor(rnd() ** 2 * 9);
    const purchases = [];
    for (let p = 0; p < nPurchases; p++) {
      const [sku, category, amount] = pick(PRODUCTS);
      purchases.push({ orderId: `O${hex(rnd, 10)}`, sku, category, amount, quantity: 1 + Math.floor(rnd() * 2), at: iso(NOW_MS - rnd() * 400 * 864e5) });
    }
    const events = [];
    for (let e = Math.floor(rnd() * 4); e > 0; e--) {
      events.push({ type: pick(["page_view", "coupon_used", "message", "richmenu_tap"]), at: iso(NOW_MS - rnd() * 60 * 864e5) });
    }
    const tags = TAGS.filter(() => rnd() < 0.12);
    const month = 1 + Math.floor(rnd() * 12);
    users.push({
      version: 1,
      now: NOW,
      user: {
        userId: `U${hex(rnd, 32)}`,
        displayName: `${pick(NAMES)} ${pick(GIVEN)}`,
        language: rnd() < 0.95 ? "ja" : "en",
        tags,
        attributes: {
          prefecture: pick(PREFS),
          birthday: `${1970 + Math.floor(rnd() * 35)}-${String(month).padStart(2, "0")}-${String(1 + Math.floor(rnd() * 28)).padStart(2, "0")}`,
          memberRank: pick(["regular", "silver", "gold"]),
          points: Math.floor(rnd() * 5000),
        },
        followedAt: iso(NOW_MS - rnd() * 800 * 864e5),
        lastActiveAt: iso(NOW_MS - rnd() * 120 * 864e5),
        purchases,
        events,
        quizAnswers: rnd() < 0.4 ? { skin_type: { result: pick(SKIN), answeredAt: iso(NOW_MS - rnd() * 90 * 864e5) } } : {},
        richMenuId: rnd() < 0.5 ? `richmenu-${hex(rnd, 32)}` : null,
      },
    });
  }
  return users;
}
