// LIFF through the pluggable SDK: the core plus only the modules this app calls. Without a LIFF
// id (or with the mock setting 1) @line/liff-mock stands in, loaded on demand so that users of
// the real app never download it.
import liff from "@line/liff/core";
import IsInClient from "@line/liff/is-in-client";
import IsLoggedIn from "@line/liff/is-logged-in";
import Login from "@line/liff/login";
import GetIDToken from "@line/liff/get-id-token";
import GetDecodedIDToken from "@line/liff/get-decoded-id-token";
import SendMessages from "@line/liff/send-messages";
import { settings } from "./settings.js";

liff.use(new IsInClient()); // first: LiffMockPlugin reads liff.isInClient() when installed
liff.use(new IsLoggedIn());
liff.use(new Login());
liff.use(new GetIDToken());
liff.use(new GetDecodedIDToken());
liff.use(new SendMessages());

/**
 * Whether the mock stands in: the `mock` setting 1|0 (settings.js), else only without a LIFF id
 * (a demo or a test). With a LIFF id the real SDK runs, also in an external browser (LINE Login):
 * the mock's unsigned token must never reach a production backend.
 * `client` is the mock pretending to run inside LINE (to try 結果をトークに送る);
 * `client-denied` the same with the `chat_message.write` permission refused (sendMessages fails).
 */
export function useMock() {
  if (["1", "true", "client", "client-denied"].includes(settings.mock)) return true;
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

/**
 * Initialises LIFF (real or mock). Resolves `{ liff, mock, inClient }`; the user is logged in
 * afterwards (a real LIFF login outside LINE redirects and never resolves).
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
    const inClient = settings.mock === "client" || settings.mock === "client-denied";
    liff.$mock.set((p) => ({ ...p, getIDToken: token, getDecodedIDToken: claims, isInClient: inClient }));
    if (settings.mock === "client-denied") {
      liff.sendMessages = async () => {
        throw Object.assign(new Error("chat_message.write の権限がありません"), { code: "403" });
      };
    }
    if (!liff.isLoggedIn()) liff.login();
  } else {
    await liff.init({ liffId: settings.liffId });
    if (!liff.isLoggedIn()) {
      liff.login({ redirectUri: location.href });
      return new Promise(() => {}); // redirecting
    }
  }
  return { liff, mock, inClient: liff.isInClient() };
}
