//! OpenFeature flagd's JsonLogic extensions, as flagd defines them: `fractional` (murmur3
//! bucketing for percentage splits) and `sem_ver` (semantic version comparison).

use crate::value::Value;
use std::cmp::Ordering;

/// MurmurHash3 x86 32-bit of `bytes` (the hash flagd buckets with, seed 0).
pub fn murmur3_32(bytes: &[u8], seed: u32) -> u32 {
    let mut h = Murmur3::new(seed);
    h.write(bytes);
    h.finish()
}

/// Streaming MurmurHash3 x86_32, so that `flagKey + targetingKey` hashes without a buffer.
pub(crate) struct Murmur3 {
    h: u32,
    len: u32,
    tail: u32,
    tail_len: u32,
}

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

impl Murmur3 {
    pub fn new(seed: u32) -> Self {
        Murmur3 { h: seed, len: 0, tail: 0, tail_len: 0 }
    }

    fn mix(k: u32) -> u32 {
        k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
    }

    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            // Little-endian 4-byte blocks.
            self.tail |= u32::from(b) << (8 * self.tail_len);
            self.tail_len += 1;
            if self.tail_len == 4 {
                self.h ^= Self::mix(self.tail);
                self.h = self.h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
                self.tail = 0;
                self.tail_len = 0;
            }
        }
        self.len = self.len.wrapping_add(bytes.len() as u32);
    }

    pub fn finish(&self) -> u32 {
        let mut h = self.h;
        if self.tail_len > 0 {
            h ^= Self::mix(self.tail);
        }
        h ^= self.len;
        h ^= h >> 16;
        h = h.wrapping_mul(0x85eb_ca6b);
        h ^= h >> 13;
        h = h.wrapping_mul(0xc2b2_ae35);
        h ^ (h >> 16)
    }
}

/// flagd's bucket for a hash: `(hash × total) >> 32`, in `0..total`. The variant is the first
/// whose cumulative weight exceeds it.
pub(crate) fn bucket(hash: u32, total: u128) -> u128 {
    (u128::from(hash) * total) >> 32
}

/// The weight of one `[variant, weight?]` entry: 1 when omitted, negative clamped to 0,
/// fractions truncated. `None` when the entry is not an array starting with a string.
pub(crate) fn weight(entry: &Value) -> Option<u64> {
    let items = entry.as_array()?;
    items.first()?.as_str()?;
    match items.get(1) {
        None => Some(1),
        Some(Value::Int(i)) => Some((*i).max(0) as u64),
        Some(Value::Float(f)) if f.is_finite() => Some(f.max(0.0) as u64),
        Some(_) => None,
    }
}

/// A parsed semantic version (build metadata dropped). Numbers are kept as their digit strings
/// so that arbitrarily large components compare correctly.
struct Version<'s> {
    core: [&'s str; 3],
    pre: Option<&'s str>,
}

/// flagd's normalization: leading `v`/`V` stripped, build metadata ignored, `1` / `1.2` padded
/// to `1.0.0` / `1.2.0`; then SemVer 2.0 syntax.
fn parse_version(s: &str) -> Option<Version<'_>> {
    let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
    let s = match s.split_once('+') {
        Some((v, build)) => {
            if !idents_ok(build, false) {
                return None;
            }
            v
        }
        None => s,
    };
    let (core, pre) = match s.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (s, None),
    };
    let mut parts = ["0", "0", "0"];
    for (n, part) in core.split('.').enumerate() {
        let slot = parts.get_mut(n)?;
        if !numeric_ok(part) {
            return None;
        }
        *slot = part;
    }
    if let Some(p) = pre {
        if !idents_ok(p, true) {
            return None;
        }
    }
    Some(Version { core: parts, pre })
}

fn numeric_ok(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

fn idents_ok(s: &str, pre: bool) -> bool {
    s.split('.').all(|id| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !(pre && id.bytes().all(|b| b.is_ascii_digit()) && id.len() > 1 && id.starts_with('0'))
    })
}

/// Digit strings without leading zeros order by length, then lexically.
fn cmp_numeric(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn cmp_versions(a: &Version, b: &Version) -> Ordering {
    for (x, y) in a.core.iter().zip(b.core.iter()) {
        let o = cmp_numeric(x, y);
        if o != Ordering::Equal {
            return o;
        }
    }
    match (a.pre, b.pre) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let mut xs = x.split('.');
            let mut ys = y.split('.');
            loop {
                match (xs.next(), ys.next()) {
                    (None, None) => return Ordering::Equal,
                    (None, Some(_)) => return Ordering::Less,
                    (Some(_), None) => return Ordering::Greater,
                    (Some(p), Some(q)) => {
                        let pn = p.bytes().all(|c| c.is_ascii_digit());
                        let qn = q.bytes().all(|c| c.is_ascii_digit());
                        let o = match (pn, qn) {
                            (true, true) => cmp_numeric(p, q),
                            (true, false) => Ordering::Less,
                            (false, true) => Ordering::Greater,
                            (false, false) => p.cmp(q),
                        };
                        if o != Ordering::Equal {
                            return o;
                        }
                    }
                }
            }
        }
    }
}

/// A version operand: a string, or a number (`1.2` → "1.2").
fn version_text<'v>(v: &'v Value) -> Option<std::borrow::Cow<'v, str>> {
    match v {
        Value::String(_) | Value::Int(_) | Value::Float(_) => Some(super::coerce::js_string(v)),
        _ => None,
    }
}

/// The operators `sem_ver` takes, as [`sem_ver`] matches them (a config's literal operator is
/// checked against this list when it compiles).
pub(crate) const SEM_VER_OPS: [&str; 8] = ["=", "!=", "<", "<=", ">", ">=", "^", "~"];

/// `sem_ver(a, op, b)`: `None` (→ null) when a version does not parse or `op` is unknown.
pub(crate) fn sem_ver(a: &Value, op: &Value, b: &Value) -> Option<bool> {
    let (ta, tb) = (version_text(a)?, version_text(b)?);
    let (va, vb) = (parse_version(&ta)?, parse_version(&tb)?);
    let ord = cmp_versions(&va, &vb);
    let [amaj, amin, _] = va.core;
    let [bmaj, bmin, _] = vb.core;
    Some(match op.as_str()? {
        "=" => ord == Ordering::Equal,
        "!=" => ord != Ordering::Equal,
        "<" => ord == Ordering::Less,
        "<=" => ord != Ordering::Greater,
        ">" => ord == Ordering::Greater,
        ">=" => ord != Ordering::Less,
        "^" => amaj == bmaj,
        "~" => amaj == bmaj && amin == bmin,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list a config's operator is checked against is the one `sem_ver` evaluates.
    #[test]
    fn every_listed_sem_ver_operator_is_evaluated() {
        let v = Value::str("1.2.3");
        for op in SEM_VER_OPS {
            assert!(sem_ver(&v, &Value::str(op), &v).is_some(), "{op}");
        }
        assert_eq!(sem_ver(&v, &Value::str("=>"), &v), None);
    }

    #[test]
    fn murmur3_reference_vectors() {
        assert_eq!(murmur3_32(b"", 0), 0);
        assert_eq!(murmur3_32(b"", 1), 0x514e_28b7);
        assert_eq!(murmur3_32(b"hello", 0), 0x248b_fa47);
        assert_eq!(murmur3_32(b"The quick brown fox jumps over the lazy dog", 0), 0x2e4f_f723);
        let mut h = Murmur3::new(0);
        h.write(b"The quick brown ");
        h.write(b"fox jumps over the lazy dog");
        assert_eq!(h.finish(), 0x2e4f_f723);
    }

    #[test]
    fn semver_precedence() {
        let v = |s| parse_version(s).unwrap();
        assert_eq!(cmp_versions(&v("1.0.0-alpha"), &v("1.0.0-alpha.1")), Ordering::Less);
        assert_eq!(cmp_versions(&v("1.0.0-alpha.beta"), &v("1.0.0-beta")), Ordering::Less);
        assert_eq!(cmp_versions(&v("1.0.0-rc.1"), &v("1.0.0")), Ordering::Less);
        assert_eq!(cmp_versions(&v("v10.0"), &v("9.99.99")), Ordering::Greater);
        assert_eq!(cmp_versions(&v("1.2.3+build.5"), &v("1.2.3")), Ordering::Equal);
        assert!(parse_version("1.2.3.4").is_none());
        assert!(parse_version("01.2.3").is_none());
    }
}
