// MurmurHash3 x86 32-bit written here from Austin Appleby's reference (not from src/logic/), for
// the tests that recompute flagd's `fractional` buckets: experiment.test.mjs and
// operators-differential.test.mjs.

/** MurmurHash3 x86 32-bit of the UTF-8 bytes of `s`, seed 0, unsigned. */
export function murmur3(s) {
  const bytes = new TextEncoder().encode(s);
  let h = 0;
  const mix = (k) => Math.imul(((k = Math.imul(k, 0xcc9e2d51)) << 15) | (k >>> 17), 0x1b873593);
  let i = 0;
  for (; i + 4 <= bytes.length; i += 4) {
    h ^= mix(bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let j = bytes.length - 1; j >= i; j--) k = (k << 8) | bytes[j];
  if (bytes.length > i) h ^= mix(k);
  h ^= bytes.length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
