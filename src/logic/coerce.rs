//! JsonLogic value semantics: truthiness, number and string coercion (JavaScript's rules, which
//! the conformance suites encode), and the loose / strict comparisons.

use crate::value::{same_str, Value};
use std::cmp::Ordering;
use std::fmt::Write as _;

/// JsonLogic truthiness: `false`, `null`, `0`, `""` and `[]` are falsy; everything else,
/// including `{}` and `"0"`, is truthy.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0 && !f.is_nan(),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(_) => true,
    }
}

/// JavaScript `Number(v)`, except that arrays and objects are never numbers (NaN).
pub(crate) fn to_number(v: &Value) -> f64 {
    match v {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::String(s) => str_to_number(s),
        Value::Array(_) | Value::Object(_) => f64::NAN,
    }
}

/// JavaScript's string-to-number conversion: surrounding whitespace ignored, `""` is 0,
/// decimal/exponent literals, `Infinity`, `0x`/`0o`/`0b` integers; anything else is NaN.
pub(crate) fn str_to_number(s: &str) -> f64 {
    let t = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if t.is_empty() {
        return 0.0;
    }
    let radix = |p: &str, r: u32| t.get(2..).filter(|_| t.starts_with(p)).map(|d| (d, r));
    if let Some((digits, r)) = radix("0x", 16).or_else(|| radix("0X", 16)).or_else(|| radix("0o", 8)).or_else(|| radix("0O", 8)).or_else(|| radix("0b", 2)).or_else(|| radix("0B", 2)) {
        return u64::from_str_radix(digits, r).map_or(f64::NAN, |n| n as f64);
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    // Rust's float parser accepts the JavaScript decimal grammar once words like "inf"/"nan"
    // are excluded, which the character check does.
    if t.bytes().all(|b| matches!(b, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')) {
        t.parse::<f64>().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

/// A computed number as a value: integral results stay integers so they print as `3`, not `3.0`.
pub(crate) fn num_value<'a>(f: f64) -> Value<'a> {
    const SAFE: f64 = 9_007_199_254_740_992.0; // 2^53
    if f.fract() == 0.0 && f.abs() < SAFE {
        Value::Int(f as i64)
    } else {
        Value::Float(f)
    }
}

/// Appends JavaScript's `Number.prototype.toString()` of `f`.
pub(crate) fn write_js_number(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if f == 0.0 {
        out.push('0');
        return;
    }
    // Shortest round-trip digits and the decimal exponent, laid out as ECMAScript specifies
    // (integers too: 2^60 prints as 1152921504606847000, as in JavaScript).
    let (_, digits, n) = crate::value::shortest_digits(f);
    if f < 0.0 {
        out.push('-');
    }
    if -6 < n && n <= 21 {
        crate::value::write_plain(&digits, n, out);
    } else {
        let (first, rest) = digits.split_at_checked(1).unwrap_or((&digits, ""));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let _ = write!(out, "e{}{}", if n > 0 { "+" } else { "-" }, (n - 1).abs());
    }
}

/// Appends JavaScript's `String(v)` as `Array.prototype.join` applies it: `null` is empty,
/// arrays join their items with `,`, objects are `[object Object]`.
pub(crate) fn write_js_string(v: &Value, out: &mut String) {
    write_js_string_depth(v, out, 0);
}

fn write_js_string_depth(v: &Value, out: &mut String, depth: usize) {
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => write_js_number(*f, out),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            // Data depth is bounded by the parser; the guard keeps this total anyway.
            if depth > 128 {
                return;
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_js_string_depth(item, out, depth + 1);
            }
        }
        Value::Object(_) => out.push_str("[object Object]"),
    }
}

/// `String(v)` for a single operand (`null` → `"null"`), borrowing when `v` is a string.
pub(crate) fn js_string<'v>(v: &'v Value) -> std::borrow::Cow<'v, str> {
    match v {
        Value::String(s) => std::borrow::Cow::Borrowed(s),
        Value::Null => std::borrow::Cow::Borrowed("null"),
        other => {
            let mut s = String::new();
            write_js_string(other, &mut s);
            std::borrow::Cow::Owned(s)
        }
    }
}

/// Why two values cannot be compared (reported as a JsonLogic `NaN` error).
pub(crate) struct Incomparable(pub String);

fn incomparable(a: &Value, b: &Value) -> Incomparable {
    Incomparable(format!("cannot compare {} with {}", describe(a), describe(b)))
}

/// A short description of a value for messages: its kind and, for scalars, the value.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Array(_) | Value::Object(_) => format!("an {}", v.kind()),
        Value::Null => "null".to_string(),
        other => {
            let mut json = other.to_json();
            if json.len() > 60 {
                let cut = (0..=57).rev().find(|i| json.is_char_boundary(*i)).unwrap_or(0);
                json.truncate(cut);
                json.push_str("...");
            }
            format!("{} {}", other.kind(), json)
        }
    }
}

fn is_number(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_))
}

/// A number compared with a string that is not a number is an error (the suites' `NaN`), as
/// is any array or object: `==` and `<` do not compare those.
fn check_comparable(a: &Value, b: &Value) -> Result<(), Incomparable> {
    let composite = |v: &Value| matches!(v, Value::Array(_) | Value::Object(_));
    if composite(a) || composite(b) {
        return Err(incomparable(a, b));
    }
    let non_numeric = |n: &Value, s: &Value| is_number(n) && matches!(s, Value::String(t) if str_to_number(t).is_nan());
    if non_numeric(a, b) || non_numeric(b, a) {
        return Err(incomparable(a, b));
    }
    Ok(())
}

/// Loose equality `==`: JavaScript's, except that `null` counts as `0` against numbers and
/// booleans, and the errors of [`check_comparable`].
pub(crate) fn loose_eq(a: &Value, b: &Value) -> Result<bool, Incomparable> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => return Ok(x == y),
        (Value::String(x), Value::String(y)) => return Ok(same_str(x, y)),
        (Value::Null, Value::Null) => return Ok(true),
        (Value::Bool(x), Value::Bool(y)) => return Ok(x == y),
        // A missing value is never equal to a string (JavaScript: null == "" is false).
        (Value::Null, Value::String(_)) | (Value::String(_), Value::Null) => return Ok(false),
        _ => {}
    }
    check_comparable(a, b)?;
    Ok(to_number(a) == to_number(b))
}

/// Strict equality `===`: same JSON type and equal value (numbers by value, arrays and
/// objects structurally).
pub(crate) fn strict_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Null, Value::Null)
        | (Value::Array(_), Value::Array(_))
        | (Value::Object(_), Value::Object(_)) => a == b,
        _ => false,
    }
}

/// Ordering for `<`, `<=`, `>`, `>=`: two strings compare as text, everything else as numbers
/// (`null` → 0, booleans → 0/1). `None` when a side is NaN (every comparison is then false).
pub(crate) fn loose_cmp(a: &Value, b: &Value) -> Result<Option<Ordering>, Incomparable> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => return Ok(Some(x.cmp(y))),
        (Value::String(x), Value::String(y)) => return Ok(Some(js_string_cmp(x, y))),
        _ => {}
    }
    check_comparable(a, b)?;
    Ok(to_number(a).partial_cmp(&to_number(b)))
}

/// JavaScript's string order (UTF-16 code units), as json-logic-js compares. Rust's (UTF-8
/// bytes) is code point order, which differs only where the first differing characters are one
/// above U+FFFF (a surrogate pair, from U+D800) and one from U+E000 (full-width forms, …):
/// `"😀" < "Ａ"` in JavaScript. So bytes first, then those two characters as UTF-16.
fn js_string_cmp(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let Some(i) = x.iter().zip(y).position(|(p, q)| p != q) else { return x.len().cmp(&y.len()) };
    // The bytes before `i` are equal, so the character holding byte `i` starts at the same
    // place in both.
    let start = (0..=i).rev().find(|&k| a.is_char_boundary(k)).unwrap_or(0);
    let first = |s: &str| s.get(start..).and_then(|s| s.chars().next());
    let unit = |c: char| match u32::from(c) {
        u if u > 0xFFFF => 0xD800 + ((u - 0x10000) >> 10), // its high surrogate
        u => u,
    };
    match (first(a), first(b)) {
        (Some(p), Some(q)) => unit(p).cmp(&unit(q)).then(p.cmp(&q)),
        _ => x.cmp(y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_order_as_in_javascript() {
        // node -e 'console.log("😀" < "Ａ", "😀" < "\uE000", "ab" < "a")': true true false
        for (a, b, o) in [
            ("😀", "Ａ", Ordering::Less),
            ("x😀", "xＡ", Ordering::Less),
            ("😀", "\u{E000}", Ordering::Less),
            ("\u{D7FF}", "😀", Ordering::Less),
            ("\u{10000}", "\u{10001}", Ordering::Less),
            ("ab", "a", Ordering::Greater),
            ("あ", "い", Ordering::Less),
            ("same", "same", Ordering::Equal),
        ] {
            assert_eq!(js_string_cmp(a, b), o, "{a:?} {b:?}");
            assert_eq!(js_string_cmp(b, a), o.reverse(), "{b:?} {a:?}");
        }
    }

    fn js(f: f64) -> String {
        let mut s = String::new();
        write_js_number(f, &mut s);
        s
    }

    #[test]
    fn numbers_print_like_javascript() {
        assert_eq!(js(1.0), "1");
        assert_eq!(js(-0.5), "-0.5");
        assert_eq!(js(1e21), "1e+21");
        assert_eq!(js(1.5e-7), "1.5e-7");
        assert_eq!(js(0.000001), "0.000001");
        assert_eq!(js(123456.789), "123456.789");
        assert_eq!(js(1e20), "100000000000000000000");
        assert_eq!(js(1152921504606846976.0), "1152921504606847000");
        assert_eq!(js(-1.5e300), "-1.5e+300");
        assert_eq!(js(5e-324), "5e-324");
        assert_eq!(js(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(js(1e-7), "1e-7");
        assert_eq!(js(123e-20), "1.23e-18");
    }

    #[test]
    fn strings_convert_like_javascript() {
        assert_eq!(str_to_number(" 12 "), 12.0);
        assert_eq!(str_to_number(""), 0.0);
        assert_eq!(str_to_number("1e2"), 100.0);
        assert_eq!(str_to_number("0x10"), 16.0);
        assert!(str_to_number("inf").is_nan());
        assert!(str_to_number("1a").is_nan());
        assert!(str_to_number("2024-01-01").is_nan());
    }
}
