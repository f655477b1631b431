//! MurmurHash3 x64 128-bit, for ids that every runtime must compute identically
//! (`configHash`, `decisionId`). Fast and stable, not cryptographic: these ids de-duplicate,
//! they do not authenticate.

/// MurmurHash3_x64_128 of `data` with `seed`, as (h1, h2).
pub fn murmur3_x64_128(data: &[u8], seed: u64) -> (u64, u64) {
    const C1: u64 = 0x87c3_7b91_1142_53d5;
    const C2: u64 = 0x4cf5_ad43_2745_937f;
    let (mut h1, mut h2) = (seed, seed);
    let mut blocks = data.chunks_exact(16);
    for block in &mut blocks {
        let (a, b) = block.split_at(8);
        let mut k1 = u64::from_le_bytes(a.try_into().unwrap_or([0; 8]));
        let mut k2 = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        k1 = k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
        h1 = h1.rotate_left(27).wrapping_add(h2).wrapping_mul(5).wrapping_add(0x52dc_e729);
        k2 = k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
        h2 = h2.rotate_left(31).wrapping_add(h1).wrapping_mul(5).wrapping_add(0x3849_5ab5);
    }
    let tail = blocks.remainder();
    let (mut k1, mut k2) = (0u64, 0u64);
    for (i, &b) in tail.iter().enumerate() {
        if i < 8 {
            k1 ^= u64::from(b) << (8 * i);
        } else {
            k2 ^= u64::from(b) << (8 * (i - 8));
        }
    }
    if tail.len() > 8 {
        h2 ^= k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
    }
    if !tail.is_empty() {
        h1 ^= k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
    }
    let len = data.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1, h2)
}

fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// 32 lowercase hex digits of the 128-bit hash.
pub fn hex128(data: &[u8]) -> String {
    let (h1, h2) = murmur3_x64_128(data, 0);
    // By hand: `format!` with padding goes through core::fmt, a measurable part of a decision
    // in Wasm (one id per decision).
    let mut out = String::with_capacity(32);
    for h in [h1, h2] {
        for shift in (0..16).rev() {
            let d = ((h >> (shift * 4)) & 0xf) as u8;
            out.push(char::from(if d < 10 { b'0' + d } else { b'a' + d - 10 }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_32_padded_lowercase_digits() {
        for data in [&b""[..], b"hello", b"The quick brown fox jumps over the lazy dog"] {
            let (h1, h2) = murmur3_x64_128(data, 0);
            assert_eq!(hex128(data), format!("{h1:016x}{h2:016x}"));
        }
        assert_eq!(hex128(b""), "0".repeat(32));
    }

    #[test]
    fn matches_reference_vectors() {
        // Reference values (h1, h2) as computed by the Python `mmh3` package's hash64.
        assert_eq!(murmur3_x64_128(b"", 0), (0, 0));
        assert_eq!(
            murmur3_x64_128(b"The quick brown fox jumps over the lazy dog", 0),
            (0xe34bbc7bbc071b6c, 0x7a433ca9c49a9347)
        );
        assert_eq!(murmur3_x64_128(b"hello", 0), (0xcbd8a7b341bd9b02, 0x5b1e906a48ae1d19));
        assert_eq!(murmur3_x64_128(b"0123456789abcdefX", 0), (0xcdebd2acb570d6f7, 0x8f72119782104b27));
        assert_eq!(murmur3_x64_128(b"0123456789abcdef0123456789", 0), (0x849a02423668b6cc, 0x6bd303df48d150af));
    }
}
