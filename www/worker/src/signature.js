// x-line-signature: base64(HMAC-SHA256(channel secret, raw request body)).
//
// Written by hand rather than with @line/bot-sdk's validateSignature: the SDK's version uses
// node:crypto's synchronous createHmac, while WebCrypto is the Workers-native API (no
// nodejs_compat shim on the hot path) and its `verify` compares in constant time
// (BoringSSL's CRYPTO_memcmp), so no home-made comparison is needed.

const keys = new Map(); // channel secret → Promise<CryptoKey>, imported once per isolate

function hmacKey(secret) {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify", "sign"]);
    keys.set(secret, key);
  }
  return key;
}

function decodeBase64(text) {
  try {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/**
 * True when `signature` (the x-line-signature header value) is the HMAC-SHA256 of `body` (the
 * raw bytes, before any parsing) under `secret`. Missing secret, header or malformed base64
 * ⇒ false.
 */
export async function verifySignature(secret, body, signature) {
  if (typeof secret !== "string" || secret === "" || typeof signature !== "string") return false;
  const mac = decodeBase64(signature.trim());
  if (!mac || mac.length !== 32) return false;
  return crypto.subtle.verify("HMAC", await hmacKey(secret), mac, body);
}

/** base64 HMAC-SHA256 of `body` (string or bytes): what LINE puts in x-line-signature. */
export async function sign(secret, body) {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), bytes));
  let bin = "";
  for (const b of mac) bin += String.fromCharCode(b);
  return btoa(bin);
}
