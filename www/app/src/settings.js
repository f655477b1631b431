// Run-time settings of the quiz app. Precedence: query parameter > <meta name="kizuna-…">
// (injected by serve.mjs) > build-time env (VITE_…) > default.
//
//   ?backend=URL   backend base URL; decisions are POSTed to {backend}/decisions
//   ?liffId=ID     LIFF app id
//   ?mock=1|0      force @line/liff-mock on (1) or off (0); default: on outside the LINE app
//                  or when no LIFF id is configured; `client`: the mock as if inside LINE
const query = new URLSearchParams(location.search);

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
