//! Liquid (Ruby) number semantics: integers stay integers, floats take part in arithmetic as
//! exact decimals of their shortest representation (Ruby Liquid converts them to `BigDecimal`),
//! and results with a fractional operand come back as floats printed the way Ruby prints them.
//!
//! `10.1 | minus: 2.2` is `7.9` (not `7.8999999999999995`), `10 | divided_by: 3` is `3`,
//! `10 | divided_by: 3.0` is `3.3333333333333335`, `-7 | modulo: 2` is `1` (floored).

use std::cmp::Ordering;

/// A decimal `m / 10^s`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Dec {
    m: i128,
    s: u32,
}

/// A number as Liquid's arithmetic sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Num {
    Int(i64),
    Dec(Dec),
    /// Non-finite or out of the decimal range: plain float arithmetic.
    Float(f64),
}

/// Division or modulo by zero.
#[derive(Debug)]
pub(crate) struct ZeroDivision;

const MAX_SCALE: u32 = 36;

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

impl Dec {
    pub(crate) fn from_int(i: i64) -> Dec {
        Dec { m: i128::from(i), s: 0 }
    }

    /// The exact decimal of the shortest representation of `f` (what Ruby's `Float#to_s` shows).
    pub(crate) fn from_f64(f: f64) -> Option<Dec> {
        if !f.is_finite() {
            return None;
        }
        if f == 0.0 {
            return Some(Dec { m: 0, s: 0 });
        }
        let (neg, digits, exp) = shortest_digits(f);
        // value = 0.d1d2...dn × 10^exp  ⇒  digits × 10^(exp - n)
        let n = digits.len() as i64;
        let mut m: i128 = 0;
        for d in digits.bytes() {
            m = m.checked_mul(10)?.checked_add(i128::from(d - b'0'))?;
        }
        let shift = exp - n;
        let dec = if shift >= 0 {
            let p = pow10(u32::try_from(shift).ok()?)?;
            Dec { m: m.checked_mul(p)?, s: 0 }
        } else {
            let s = u32::try_from(-shift).ok()?;
            if s > MAX_SCALE {
                return None;
            }
            Dec { m, s }
        };
        Some(if neg { Dec { m: -dec.m, s: dec.s } } else { dec })
    }

    /// Parses `-?\d+(\.\d+)?` (already validated by the caller or not: returns None when not).
    pub(crate) fn parse(s: &str) -> Option<Dec> {
        let (neg, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut m: i128 = 0;
        for d in int.bytes().chain(frac.bytes()) {
            m = m.checked_mul(10)?.checked_add(i128::from(d - b'0'))?;
        }
        let s = u32::try_from(frac.len()).ok()?;
        if s > MAX_SCALE {
            return None;
        }
        Some(Dec { m: if neg { -m } else { m }, s })
    }

    pub(crate) fn to_f64(self) -> f64 {
        if self.s == 0 {
            return self.m as f64;
        }
        // Correctly rounded through the decimal string.
        let mut buf = String::with_capacity(48);
        if self.m < 0 {
            buf.push('-');
        }
        write_u128(self.m.unsigned_abs(), &mut buf);
        buf.push_str("e-");
        write_zero_padded(u64::from(self.s), 1, &mut buf);
        buf.parse::<f64>().unwrap_or(self.m as f64 / 10f64.powi(self.s as i32))
    }

    fn rescale(self, s: u32) -> Option<Dec> {
        if s < self.s {
            return None;
        }
        Some(Dec { m: self.m.checked_mul(pow10(s - self.s)?)?, s })
    }

    fn align(a: Dec, b: Dec) -> Option<(i128, i128, u32)> {
        let s = a.s.max(b.s);
        Some((a.rescale(s)?.m, b.rescale(s)?.m, s))
    }

    fn cmp(a: Dec, b: Dec) -> Ordering {
        match Dec::align(a, b) {
            Some((x, y, _)) => x.cmp(&y),
            None => a.to_f64().partial_cmp(&b.to_f64()).unwrap_or(Ordering::Equal),
        }
    }

    fn trunc_int(self) -> Option<i128> {
        Some(self.m / pow10(self.s)?)
    }

    fn floor_int(self) -> Option<i128> {
        let p = pow10(self.s)?;
        let q = self.m / p;
        Some(if self.m % p != 0 && self.m < 0 { q - 1 } else { q })
    }

    fn ceil_int(self) -> Option<i128> {
        let p = pow10(self.s)?;
        let q = self.m / p;
        Some(if self.m % p != 0 && self.m > 0 { q + 1 } else { q })
    }

    /// Rounds half away from zero to `digits` decimal places (may be negative).
    fn round(self, digits: i64) -> Option<Dec> {
        if digits >= i64::from(self.s) {
            return Some(self);
        }
        let drop = u32::try_from(i64::from(self.s) - digits).ok()?;
        if drop > 38 {
            return Some(Dec { m: 0, s: 0 });
        }
        let p = pow10(drop)?;
        let q = self.m / p;
        let r = (self.m % p).abs();
        let q = if r.checked_mul(2)? >= p { q + self.m.signum() } else { q };
        if digits >= 0 {
            Some(Dec { m: q, s: u32::try_from(digits).ok()? })
        } else {
            Some(Dec { m: q.checked_mul(pow10(u32::try_from(-digits).ok()?)?)?, s: 0 })
        }
    }
}

pub(crate) use crate::value::shortest_digits;

/// Writes `f` the way Ruby's `Float#to_s` does: `1.0`, `0.1`, `1.0e+20`, `1.0e-05`.
pub(crate) fn write_float(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    let (neg, digits, decpt) = shortest_digits(f);
    if neg {
        out.push('-');
    }
    if decpt > -4 && decpt <= 16 {
        crate::value::write_plain(&digits, decpt, out);
        if decpt >= digits.len() as i64 {
            out.push_str(".0"); // an integral float keeps its point: `100.0`
        }
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        out.push('.');
        out.push_str(if rest.is_empty() { "0" } else { rest });
        let e = decpt - 1;
        out.push('e');
        out.push(if e < 0 { '-' } else { '+' });
        write_zero_padded(e.unsigned_abs(), 2, out);
    }
}

impl Num {
    pub(crate) fn from_f64(f: f64) -> Num {
        match Dec::from_f64(f) {
            Some(d) => Num::Dec(d),
            None => Num::Float(f),
        }
    }

    fn to_dec(self) -> Option<Dec> {
        match self {
            Num::Int(i) => Some(Dec::from_int(i)),
            Num::Dec(d) => Some(d),
            Num::Float(_) => None,
        }
    }

    pub(crate) fn to_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Dec(d) => d.to_f64(),
            Num::Float(f) => f,
        }
    }

    pub(crate) fn is_zero(self) -> bool {
        match self {
            Num::Int(i) => i == 0,
            Num::Dec(d) => d.m == 0,
            Num::Float(f) => f == 0.0,
        }
    }

    pub(crate) fn cmp(self, other: Num) -> Ordering {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => a.cmp(&b),
            (a, b) => match (a.to_dec(), b.to_dec()) {
                (Some(x), Some(y)) => Dec::cmp(x, y),
                _ => a.to_f64().partial_cmp(&b.to_f64()).unwrap_or(Ordering::Equal),
            },
        }
    }

    pub(crate) fn add(self, other: Num) -> Num {
        self.arith(other, i64::checked_add, |x, y| x.checked_add(y), |x, y| x + y)
    }

    pub(crate) fn sub(self, other: Num) -> Num {
        self.arith(other, i64::checked_sub, |x, y| x.checked_sub(y), |x, y| x - y)
    }

    fn arith(
        self,
        other: Num,
        int: fn(i64, i64) -> Option<i64>,
        dec: fn(i128, i128) -> Option<i128>,
        float: fn(f64, f64) -> f64,
    ) -> Num {
        if let (Num::Int(a), Num::Int(b)) = (self, other) {
            return match int(a, b) {
                Some(r) => Num::Int(r),
                None => Num::Float(float(a as f64, b as f64)),
            };
        }
        if let (Some(a), Some(b)) = (self.to_dec(), other.to_dec()) {
            if let Some((x, y, s)) = Dec::align(a, b) {
                if let Some(m) = dec(x, y) {
                    return Num::Dec(Dec { m, s });
                }
            }
        }
        Num::Float(float(self.to_f64(), other.to_f64()))
    }

    pub(crate) fn mul(self, other: Num) -> Num {
        if let (Num::Int(a), Num::Int(b)) = (self, other) {
            return match a.checked_mul(b) {
                Some(r) => Num::Int(r),
                None => Num::Float(a as f64 * b as f64),
            };
        }
        if let (Some(a), Some(b)) = (self.to_dec(), other.to_dec()) {
            if let Some(m) = a.m.checked_mul(b.m) {
                let s = a.s + b.s;
                if s <= MAX_SCALE * 2 {
                    let mut d = Dec { m, s };
                    // Keep the scale small (trailing zeros carry no information).
                    while d.s > 0 && d.m % 10 == 0 {
                        d = Dec { m: d.m / 10, s: d.s - 1 };
                    }
                    if d.s <= 38 {
                        return Num::Dec(d);
                    }
                }
            }
        }
        Num::Float(self.to_f64() * other.to_f64())
    }

    /// Ruby division: integers floor, anything else divides as decimals.
    pub(crate) fn div(self, other: Num) -> Result<Num, ZeroDivision> {
        if other.is_zero() {
            return Err(ZeroDivision);
        }
        if let (Num::Int(a), Num::Int(b)) = (self, other) {
            return Ok(match a.checked_div(b) {
                Some(q) => Num::Int(if a % b != 0 && ((a < 0) != (b < 0)) { q - 1 } else { q }),
                None => Num::Float(a as f64 / b as f64),
            });
        }
        if let (Some(a), Some(b)) = (self.to_dec(), other.to_dec()) {
            if let Some(f) = dec_div(a, b) {
                return Ok(Num::Float(f));
            }
        }
        Ok(Num::Float(self.to_f64() / other.to_f64()))
    }

    /// Ruby modulo: the sign follows the divisor.
    pub(crate) fn rem(self, other: Num) -> Result<Num, ZeroDivision> {
        if other.is_zero() {
            return Err(ZeroDivision);
        }
        if let (Num::Int(a), Num::Int(b)) = (self, other) {
            return Ok(match a.checked_rem(b) {
                Some(r) => Num::Int(if r != 0 && ((r < 0) != (b < 0)) { r + b } else { r }),
                None => Num::Int(0),
            });
        }
        if let (Some(a), Some(b)) = (self.to_dec(), other.to_dec()) {
            if let Some((x, y, s)) = Dec::align(a, b) {
                let r = x % y;
                let r = if r != 0 && ((r < 0) != (y < 0)) { r + y } else { r };
                return Ok(Num::Dec(Dec { m: r, s }));
            }
        }
        let (x, y) = (self.to_f64(), other.to_f64());
        let r = x % y;
        Ok(Num::Float(if r != 0.0 && ((r < 0.0) != (y < 0.0)) { r + y } else { r }))
    }

    pub(crate) fn abs(self) -> Num {
        match self {
            Num::Int(i) => match i.checked_abs() {
                Some(a) => Num::Int(a),
                None => Num::Float((i as f64).abs()),
            },
            Num::Dec(d) => Num::Dec(Dec { m: d.m.abs(), s: d.s }),
            Num::Float(f) => Num::Float(f.abs()),
        }
    }

    /// `None` for NaN and infinities (Ruby raises FloatDomainError).
    pub(crate) fn floor(self) -> Option<Num> {
        self.to_integer(Dec::floor_int, f64::floor)
    }

    pub(crate) fn ceil(self) -> Option<Num> {
        self.to_integer(Dec::ceil_int, f64::ceil)
    }

    fn to_integer(self, dec: fn(Dec) -> Option<i128>, float: fn(f64) -> f64) -> Option<Num> {
        match self {
            Num::Int(i) => Some(Num::Int(i)),
            Num::Dec(d) => match dec(d).and_then(|i| i64::try_from(i).ok()) {
                Some(i) => Some(Num::Int(i)),
                None => Some(Num::Float(float(d.to_f64()))),
            },
            Num::Float(f) if f.is_finite() => Some(int_or_float(float(f))),
            Num::Float(_) => None,
        }
    }

    /// Liquid's `round`: to `digits` places; the result is an integer when `digits <= 0`.
    pub(crate) fn round(self, digits: i64) -> Option<Num> {
        match self {
            Num::Int(i) => {
                if digits >= 0 {
                    return Some(Num::Int(i));
                }
                let d = Dec::from_int(i).round(digits)?;
                Some(match d.trunc_int().and_then(|v| i64::try_from(v).ok()) {
                    Some(v) => Num::Int(v),
                    None => Num::Float(d.to_f64()),
                })
            }
            Num::Dec(d) => {
                let r = match d.round(digits) {
                    Some(r) => r,
                    None => return Some(Num::Float(round_f64(d.to_f64(), digits))),
                };
                if digits <= 0 {
                    Some(match r.trunc_int().and_then(|v| i64::try_from(v).ok()) {
                        Some(v) => Num::Int(v),
                        None => Num::Float(r.to_f64()),
                    })
                } else {
                    Some(Num::Dec(r))
                }
            }
            Num::Float(f) if f.is_finite() => {
                let r = round_f64(f, digits);
                Some(if digits <= 0 { int_or_float(r) } else { Num::Float(r) })
            }
            Num::Float(_) => None,
        }
    }
}

fn int_or_float(f: f64) -> Num {
    if f.abs() < 9.0e18 {
        Num::Int(f as i64)
    } else {
        Num::Float(f)
    }
}

fn round_f64(f: f64, digits: i64) -> f64 {
    let p = 10f64.powi(digits.clamp(-300, 300) as i32);
    (f * p).round() / p
}

/// Decimal division, correctly rounded to the nearest double (BigDecimal#/ then #to_f).
fn dec_div(a: Dec, b: Dec) -> Option<f64> {
    if a.m == 0 {
        return Some(0.0);
    }
    let neg = (a.m < 0) != (b.m < 0);
    let (n, d) = (a.m.unsigned_abs(), b.m.unsigned_abs());
    // Scale the numerator up to ~37 digits so the quotient has ≥ 17 significant digits.
    let n_digits = n.checked_ilog10().unwrap_or(0) + 1;
    let k = 37u32.saturating_sub(n_digits);
    let n = n.checked_mul(10u128.checked_pow(k)?)?;
    let q = n / d;
    let r = n % d;
    // value = q × 10^(b.s - a.s - k); a non-zero remainder adds a sticky digit.
    let mut s = String::with_capacity(48);
    if neg {
        s.push('-');
    }
    let exp = i64::from(b.s) - i64::from(a.s) - i64::from(k);
    write_u128(q, &mut s);
    let exp = if r != 0 {
        s.push('1');
        exp - 1
    } else {
        exp
    };
    s.push('e');
    write_int(exp, &mut s);
    s.parse::<f64>().ok()
}

/// Ruby's `String#to_i`: leading whitespace, sign, digits (with `_` separators); 0 otherwise.
pub(crate) fn str_to_i(s: &str) -> Num {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..).unwrap_or("")),
        Some(b'+') => (false, t.get(1..).unwrap_or("")),
        _ => (false, t),
    };
    let mut v: i128 = 0;
    let mut overflow = false;
    let mut prev_digit = false;
    let mut digits = String::new();
    for b in body.bytes() {
        match b {
            b'0'..=b'9' => {
                digits.push(b as char);
                match v.checked_mul(10).and_then(|x| x.checked_add(i128::from(b - b'0'))) {
                    Some(n) => v = n,
                    None => overflow = true,
                }
                prev_digit = true;
            }
            b'_' if prev_digit => prev_digit = false,
            _ => break,
        }
    }
    let v = if neg { -v } else { v };
    if overflow || i64::try_from(v).is_err() {
        let f: f64 = digits.parse().unwrap_or(0.0);
        return Num::Float(if neg { -f } else { f });
    }
    Num::Int(i64::try_from(v).unwrap_or(0))
}

/// Liquid's `Utils.to_number` for strings: a decimal literal becomes a decimal, anything else
/// goes through `to_i`.
pub(crate) fn str_to_number(s: &str) -> Num {
    let t = s.trim_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r', '\0']);
    if is_decimal_literal(t) {
        if let Some(d) = Dec::parse(t) {
            return Num::Dec(d);
        }
        return Num::Float(t.parse().unwrap_or(0.0));
    }
    str_to_i(s)
}

/// `\A-?\d+\.\d+\z`
fn is_decimal_literal(t: &str) -> bool {
    let body = t.strip_prefix('-').unwrap_or(t);
    match body.split_once('.') {
        Some((i, f)) => {
            !i.is_empty()
                && !f.is_empty()
                && i.bytes().all(|b| b.is_ascii_digit())
                && f.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// Ruby's `Integer(str)` (decimal only, `_` separators, surrounding whitespace): None when the
/// text is not an integer.
pub(crate) fn parse_ruby_integer(s: &str) -> Option<i64> {
    let t = s.trim_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..)?),
        Some(b'+') => (false, t.get(1..)?),
        _ => (false, t),
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    let mut v: i64 = 0;
    for b in body.bytes() {
        match b {
            b'0'..=b'9' => v = v.checked_mul(10)?.checked_add(i64::from(b - b'0'))?,
            b'_' => {}
            _ => return None,
        }
    }
    Some(if neg { -v } else { v })
}

/// The decimal digits of `v` (no sign) in a stack buffer: `(buffer, start)`.
#[inline]
pub(crate) fn digits_u64(mut v: u64) -> ([u8; 20], usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    (buf, i)
}

/// A digit byte of [`digits_u64`] as a char. The mask (a no-op on `'0'..='9'`) lets the compiler
/// see the char is ASCII, so `String::push` takes its one-byte path instead of UTF-8 encoding.
#[inline]
pub(crate) fn digit_char(b: u8) -> char {
    char::from(b & 0x3F)
}

/// Writes an integer without going through `fmt`.
#[inline]
pub(crate) fn write_int(v: i64, out: &mut String) {
    // One digit (a `forloop.index`, a count) without the digit buffer.
    if let Ok(d @ 0..=9) = u8::try_from(v) {
        out.push(char::from(b'0' + d));
        return;
    }
    if v < 0 {
        out.push('-');
    }
    let (buf, start) = digits_u64(v.unsigned_abs());
    for &b in buf.get(start..).unwrap_or(b"0") {
        out.push(digit_char(b));
    }
}

/// Writes a `u128` in decimal (`u128`'s `Display` is its own kilobyte of Wasm).
fn write_u128(mut v: u128, out: &mut String) {
    // At most 39 digits: two 19-digit chunks below 10^19 and a leading rest.
    const CHUNK: u128 = 10_000_000_000_000_000_000;
    let mut parts = [0u64; 3];
    let mut n = 0;
    while let Some(slot) = parts.get_mut(n) {
        *slot = (v % CHUNK) as u64;
        v /= CHUNK;
        n += 1;
        if v == 0 {
            break;
        }
    }
    let mut first = true;
    for &p in parts.get(..n).unwrap_or(&[]).iter().rev() {
        write_zero_padded(p, if first { 1 } else { 19 }, out);
        first = false;
    }
}

/// Writes `v` zero-padded to at least `width` digits (`format!("{v:0width$}")` without `fmt`).
pub(crate) fn write_zero_padded(v: u64, width: usize, out: &mut String) {
    // Two digits (months, days, hours, minutes) without the digit buffer.
    if let (Ok(d @ 0..=99), 2) = (u8::try_from(v), width) {
        out.push(char::from(b'0' + d / 10));
        out.push(char::from(b'0' + d % 10));
        return;
    }
    let (buf, start) = digits_u64(v);
    let digits = buf.get(start..).unwrap_or(b"0");
    for _ in digits.len()..width {
        out.push('0');
    }
    for &b in digits {
        out.push(digit_char(b));
    }
}

/// Writes `b` as two upper-case hex digits.
pub(crate) fn write_hex_byte(b: u8, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for d in [b >> 4, b & 15] {
        out.push(char::from(HEX.get(usize::from(d)).copied().unwrap_or(b'0')));
    }
}

/// Writes `|v|` with commas between groups of three digits (`yen`, `number_with_delimiter`).
pub(crate) fn write_grouped(v: u64, out: &mut String) {
    // Straight from the digit bytes: no UTF-8 check of them, no slicing into groups.
    let (buf, start) = digits_u64(v);
    let digits = buf.get(start..).unwrap_or(b"0");
    let n = digits.len();
    out.reserve(n + n / 3);
    for (i, &d) in digits.iter().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit_char(d));
    }
}

/// Groups the digits of an integer text with `delim` every three digits.
pub(crate) fn group_digits(int_digits: &str, delim: &str, out: &mut String) {
    let n = int_digits.len();
    out.reserve(n + n / 3 * delim.len());
    let mut first = n % 3;
    if first == 0 {
        first = 3;
    }
    out.push_str(int_digits.get(..first.min(n)).unwrap_or(""));
    let mut i = first;
    while i < n {
        out.push_str(delim);
        out.push_str(int_digits.get(i..i + 3).unwrap_or(""));
        i += 3;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> String {
        let mut s = String::new();
        write_float(x, &mut s);
        s
    }

    #[test]
    fn ruby_float_format() {
        assert_eq!(f(1.0), "1.0");
        assert_eq!(f(1.23), "1.23");
        assert_eq!(f(-5.4), "-5.4");
        assert_eq!(f(0.0001), "0.0001");
        assert_eq!(f(0.00001), "1.0e-05");
        assert_eq!(f(1e16), "1.0e+16");
        assert_eq!(f(1e15), "1000000000000000.0");
        assert_eq!(f(123456.789), "123456.789");
        assert_eq!(f(2.857142857142857), "2.857142857142857");
        assert_eq!(f(1.5e300), "1.5e+300");
    }

    fn n(v: Num) -> String {
        match v {
            Num::Int(i) => i.to_string(),
            other => f(other.to_f64()),
        }
    }

    #[test]
    fn decimal_arithmetic() {
        let d = |s: &str| Num::Dec(Dec::parse(s).unwrap());
        assert_eq!(n(d("10.1").sub(d("2.2"))), "7.9");
        assert_eq!(n(d("10.1").add(d("2.2"))), "12.3");
        assert_eq!(n(d("5.0").mul(d("2.1"))), "10.5");
        assert_eq!(n(Num::Int(20).div(d("7.0")).unwrap()), "2.857142857142857");
        assert_eq!(n(Num::Int(10).div(Num::Int(3)).unwrap()), "3");
        assert_eq!(n(Num::Int(-7).div(Num::Int(2)).unwrap()), "-4");
        assert_eq!(n(Num::Int(-7).rem(Num::Int(2)).unwrap()), "1");
        assert_eq!(n(d("10.1").rem(d("7.0")).unwrap()), "3.1");
        assert_eq!(n(Num::Int(10).div(d("3.0")).unwrap()), "3.3333333333333335");
        assert!(Num::Int(1).div(Num::Int(0)).is_err());
        assert_eq!(n(d("5.666").round(1).unwrap()), "5.7");
        assert_eq!(n(d("2.675").round(2).unwrap()), "2.68");
        assert_eq!(n(d("5.666").round(-2).unwrap()), "0");
        assert_eq!(n(d("-5.5").round(0).unwrap()), "-6");
        assert_eq!(n(d("-5.4").floor().unwrap()), "-6");
        assert_eq!(n(d("-5.4").ceil().unwrap()), "-5");
        assert_eq!(n(Num::from_f64(0.1).add(Num::from_f64(0.2))), "0.3");
    }

    #[test]
    fn digit_writers() {
        let w = |v: u128| {
            let mut s = String::new();
            write_u128(v, &mut s);
            s
        };
        for v in [
            0,
            7,
            10_000_000_000_000_000_000,
            9_999_999_999_999_999_999,
            u128::MAX,
            123_456_789_012_345_678_901_234_567,
        ] {
            assert_eq!(w(v), v.to_string());
        }
        let mut s = String::new();
        write_zero_padded(42, 4, &mut s);
        write_hex_byte(0x1f, &mut s);
        assert_eq!(s, "00421F");
        assert_eq!(Dec::parse("-12.5").unwrap().to_f64(), -12.5);
        for v in [0, 7, 12, 123, 1_234, 12_345, 123_456, 1_234_567, u64::MAX] {
            let (mut a, mut b) = (String::new(), String::new());
            write_grouped(v, &mut a);
            group_digits(&v.to_string(), ",", &mut b);
            assert_eq!(a, b);
        }
    }

    #[test]
    fn string_conversions() {
        assert!(matches!(str_to_number(" 12abc"), Num::Int(12)));
        assert!(matches!(str_to_number("foo"), Num::Int(0)));
        assert!(matches!(str_to_number("1_000"), Num::Int(1000)));
        assert!(matches!(str_to_number("-2.5"), Num::Dec(_)));
        assert_eq!(parse_ruby_integer(" 42 "), Some(42));
        assert_eq!(parse_ruby_integer("4.2"), None);
        assert_eq!(parse_ruby_integer(""), None);
    }
}
