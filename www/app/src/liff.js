// LIFF through the pluggable SDK: the core plus only the modules this app calls. Without a LIFF
// id (or with the mock setting 1) @line/liff-mock stands in, loaded on demand so that users of
// the real app never download it.
import liff from "@line/liff/core";
import IsInClient from "@line/liff/is-in-client";
import IsLoggedIn from "@line/liff/is-logged-in";
import Login from "@line/liff/login";
import Logout from "@line/liff/logout";
import GetIDToken from "@line/liff/get-id-token";
import GetDecodedIDToken from "@line/liff/get-decoded-id-token";
import SendMessages from "@line/liff/send-messages";
import GetContext from "@line/liff/get-context";
import { settings } from "./settings.js";

liff.use(new IsInClient()); // first: LiffMockPlugin reads liff.isInClient() when installed
liff.use(new IsLoggedIn());
liff.use(new Login());
liff.use(new Logout());
liff.use(new GetIDToken());
liff.use(new GetDecodedIDToken());
liff.use(new SendMessages());
liff.use(new GetContext());

/**
 * Whether the mock stands in: the `mock` setting 1|0 (settings.js), else only without a LIFF id
 * (a demo or a test). With a LIFF id the real SDK runs, also in an external browser (LINE Login):
 * the mock's unsigned token must never reach a production backend.
 * `client` is the mock pretending to run inside LINE, opened in a one-to-one chat (to try
 * 結果をトークに送る); `client-denied` the same with the `chat_message.write` permission refused
 * (sendMessages fails); `client-nochat` inside LINE but not from a chat (a QR code, the home
 * tab, a link from another app: context type `none`).
 */
const CLIENT_MOCKS = { client: "utou", "client-denied": "utou", "client-nochat": "none" };
export function useMock() {
  if (["1", "true"].includes(settings.mock) || Object.hasOwn(CLIENT_MOCKS, settings.mock)) return true;
  if (settings.mock === "0" || settings.mock === "false") return false;
  return !settings.liffId;
}

/** A stable fake user for mock mode (one per browser profile). */
function mockUser() {
  const key = "kizuna-quiz:mock-user";
  let id;
  try {
    id = localStorage.getItem(key);
  } catch {
    // storage blocked: a new user per visit
  }
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    id = "U" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    try {
      localStorage.setItem(key, id);
    } catch {
      // storage blocked or full: this visit only
    }
  }
  return id;
}

function base64url(text) {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A token this close to its `exp` is treated as expired (clock skew, transit). */
export const TOKEN_MARGIN_MS = 60_000;

/** Whether the ID token has expired, or expires within TOKEN_MARGIN_MS (by its `exp` claim). */
export function idTokenExpiring(liff) {
  const exp = liff.getDecodedIDToken()?.exp;
  return typeof exp === "number" && exp * 1000 - TOKEN_MARGIN_MS <= Date.now();
}

// LINE Login's parameters in the URL it sends the user back to. The SDK removes only the
// credentials; the rest would stay in the address bar, and a second login would append them again.
const LOGIN_PARAMS = ["code", "state", "liffClientId", "liffRedirectUri", "error", "error_description", "liffOAuth2Error"];

/** Removes LINE Login's parameters from the address bar (history.state kept), once liff.init has read them. */
function cleanUrl() {
  const url = new URL(location.href);
  if (!LOGIN_PARAMS.some((p) => url.searchParams.has(p))) return;
  for (const p of LOGIN_PARAMS) url.searchParams.delete(p);
  try {
    history.replaceState(history.state, "", url);
  } catch {
    // history unavailable (a sandboxed frame): the parameters stay
  }
}

/**
 * A LIFF URL may carry a path after the LIFF id (https://liff.line.me/{liffId}/campaign/summer/
 * ?quiz=…). LINE opens the endpoint with it in `liff.state`, and liff.init then reloads the page
 * at {endpoint}/campaign/summer/. There the build's relative asset URLs (./assets/…, Vite base
 * "./", so that the app works under any directory) point into /campaign/summer/assets/, which a
 * host without those files answers with 404 or, with an SPA fallback, index.html: the app never
 * loads. The app has no routes, so the path is dropped from liff.state before liff.init reads
 * it; its query (?quiz=, utm_*) and hash are kept.
 */
function dropStatePath() {
  const url = new URL(location.href);
  const state = url.searchParams.get("liff.state");
  if (!state) return;
  let kept;
  try {
    const target = new URL(state.replace(/^\/?/, "/"), location.origin); // as the SDK reads it
    kept = target.search + target.hash;
  } catch {
    return; // not a path: left to the SDK
  }
  if (kept === state) return;
  if (kept) url.searchParams.set("liff.state", kept);
  else url.searchParams.delete("liff.state"); // a path alone: nothing to restore
  try {
    history.replaceState(history.state, "", url);
  } catch {
    // history unavailable: the SDK goes to the path
  }
}

const RELOGIN_KEY = "kizuna-quiz:relogin"; // sessionStorage: when this tab last started one
const RELOGIN_PAUSE_MS = 5 * 60_000;

/**
 * Outside LINE, a new ID token takes a new LINE Login: the SDK keeps the token in localStorage
 * and never refreshes it (liff.init logs out only once the access token, valid for weeks, has
 * expired), so neither a reload nor reopening the page replaces it. Logs out and redirects to
 * LINE Login, back to this page (the quiz and the outbox are in localStorage and survive).
 * Returns false, doing nothing, when this tab started one less than 5 minutes ago: its token came
 * back missing (the openid scope off) or already expired (the device's clock is wrong), and
 * another round trip would only loop.
 */
export function relogin(liff) {
  try {
    const last = Number(sessionStorage.getItem(RELOGIN_KEY));
    if (last && Math.abs(Date.now() - last) < RELOGIN_PAUSE_MS) return false;
    sessionStorage.setItem(RELOGIN_KEY, String(Date.now()));
  } catch {
    return false; // no way to tell a loop
  }
  liff.logout();
  liff.login({ redirectUri: location.href });
  return true;
}

const never = () => new Promise(() => {}); // the page is redirecting

// liff.sendMessages posts into the chat the LIFF app was opened from: it works only when the
// context is a one-to-one chat, a group or a multi-person chat. Opened from a QR code, the home
// tab or a link from another app the context is `none`, outside LINE `external`, in OpenChat
// `square_chat` (not supported by LIFF). (liff.isApiAvailable cannot tell: it throws for
// "sendMessages".)
const CHAT_CONTEXTS = ["utou", "group", "room"];

/**
 * Initialises LIFF (real or mock). Resolves `{ liff, mock, inClient, canSend }` (`canSend`:
 * liff.sendMessages can work here); the user is logged in afterwards (a real LIFF login outside
 * LINE redirects and never resolves; so does a new login replacing an expired or missing ID
 * token there).
 */
export async function initLiff() {
  const mock = useMock();
  if (mock) {
    const { LiffMockPlugin } = await import("./liff-mock.js");
    liff.use(new LiffMockPlugin());
    await liff.init({ liffId: settings.liffId || "0000000000-mockmock", mock: true });
    const sub = mockUser();
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: "https://access.line.me", sub, aud: "0000000000", exp: now + 3600, iat: now, name: "テスト ユーザー", amr: ["linesso"] };
    // An unsigned JWT with the claims a backend reads: mock backends can decode it; a real
    // backend verifying with LINE rejects it, as it should.
    const token = `${base64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${base64url(JSON.stringify(claims))}.`;
    const inClient = Object.hasOwn(CLIENT_MOCKS, settings.mock);
    const context = { type: CLIENT_MOCKS[settings.mock] ?? "external", liffId: settings.liffId || "0000000000-mockmock", viewType: "full", endpointUrl: location.origin + location.pathname };
    // Logged in from the start; a login (relogin()) is the round trip to LINE Login and back,
    // which here is a reload: the next visit's token is a fresh one.
    liff.$mock.set((p) => ({ ...p, getIDToken: token, getDecodedIDToken: claims, isInClient: inClient, isLoggedIn: true, getContext: context }));
    liff.login(); // the mock's own, once: its sendMessages refuses to work without it
    liff.login = ({ redirectUri } = {}) => location.assign(redirectUri ?? location.href);
    // what the app sends to the chat, for tests (window.kizunaMockSent: one array per call)
    const send = liff.sendMessages;
    liff.sendMessages = (messages) => ((window.kizunaMockSent ??= []).push(messages), send(messages));
    if (settings.mock === "client-denied") {
      liff.sendMessages = async () => {
        throw Object.assign(new Error("chat_message.write の権限がありません"), { code: "403" });
      };
    }
  } else {
    dropStatePath();
    try {
      await liff.init({ liffId: settings.liffId });
    } finally {
      cleanUrl(); // also after a failed or declined login: a reload must not throw its error again
    }
    if (!liff.isLoggedIn()) {
      liff.login({ redirectUri: location.href });
      return never();
    }
    // an expired ID token kept from an earlier visit (or none while logged in): a new login now,
    // before the user answers anything
    if (!liff.isInClient() && (!liff.getIDToken() || idTokenExpiring(liff)) && relogin(liff)) return never();
  }
  const inClient = liff.isInClient();
  return { liff, mock, inClient, canSend: inClient && CHAT_CONTEXTS.includes(liff.getContext()?.type) };
}
