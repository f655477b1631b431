//! Run-time values of the renderer. Data from the globals is borrowed (`Str`, `Array`, `Object`
//! point into the caller's `Value`), literals borrow from the compiled template, and only values
//! made while rendering (filter results, captures, hash pairs) own their memory, behind an `Rc` so
//! that reading a variable twice never copies it.

use super::number::{self, Num};
use crate::value::Value;
use chrono::{DateTime, FixedOffset};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::rc::Rc;

pub(crate) type Members<'r> = [(Cow<'r, str>, Value<'r>)];

#[derive(Clone, Debug)]
pub(crate) enum Val<'r> {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string borrowed from the data or the template.
    Str(&'r str),
    /// A string made while rendering.
    Owned(Rc<str>),
    /// An array of the data.
    Array(&'r [Value<'r>]),
    /// An object of the data (document order; the last duplicate key wins).
    Object(&'r Members<'r>),
    /// An array made while rendering.
    List(Rc<Vec<Val<'r>>>),
    /// An integer range `(a..b)`, both ends included; never materialized unless a filter needs it.
    Range(i64, i64),
    Time(DateTime<FixedOffset>),
    /// The `empty` literal.
    Empty,
    /// The `blank` literal.
    Blank,
    /// A `forloop` / `tablerowloop` object: index into the scope's loop stack.
    Loop(u32),
}

/// A read-only view of something array-like.
#[derive(Clone, Copy)]
pub(crate) enum Seq<'a, 'r> {
    Data(&'r [Value<'r>]),
    List(&'a [Val<'r>]),
    Range(i64, i64),
}

impl<'a, 'r> Seq<'a, 'r> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Seq::Data(d) => d.len(),
            Seq::List(l) => l.len(),
            Seq::Range(a, b) => range_len(*a, *b),
        }
    }

    pub(crate) fn get(&self, i: usize) -> Option<Val<'r>> {
        match self {
            Seq::Data(d) => d.get(i).map(Val::from_data),
            Seq::List(l) => l.get(i).cloned(),
            Seq::Range(a, _) => {
                if i < self.len() {
                    a.checked_add(i64::try_from(i).ok()?).map(Val::Int)
                } else {
                    None
                }
            }
        }
    }

    pub(crate) fn iter(self) -> impl Iterator<Item = Val<'r>> + 'a
    where
        'r: 'a,
    {
        (0..self.len()).filter_map(move |i| self.get(i))
    }
}

pub(crate) fn range_len(a: i64, b: i64) -> usize {
    if b < a {
        0
    } else {
        usize::try_from(i128::from(b) - i128::from(a) + 1).unwrap_or(usize::MAX)
    }
}

impl<'r> Val<'r> {
    #[inline]
    pub(crate) fn from_data(v: &'r Value<'r>) -> Val<'r> {
        match v {
            Value::Null => Val::Nil,
            Value::Bool(b) => Val::Bool(*b),
            Value::Int(i) => Val::Int(*i),
            Value::Float(f) => Val::Float(*f),
            Value::String(s) => Val::Str(s),
            Value::Array(items) => Val::Array(items),
            Value::Object(members) => Val::Object(members),
        }
    }

    pub(crate) fn owned(s: String) -> Val<'r> {
        Val::Owned(Rc::from(s))
    }

    pub(crate) fn list(items: Vec<Val<'r>>) -> Val<'r> {
        Val::List(Rc::new(items))
    }

    #[inline]
    pub(crate) fn truthy(&self) -> bool {
        !matches!(self, Val::Nil | Val::Bool(false))
    }

    #[inline]
    pub(crate) fn is_nil(&self) -> bool {
        matches!(self, Val::Nil)
    }

    #[inline]
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            Val::Owned(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn is_string(&self) -> bool {
        matches!(self, Val::Str(_) | Val::Owned(_))
    }

    pub(crate) fn seq(&self) -> Option<Seq<'_, 'r>> {
        match self {
            Val::Array(a) => Some(Seq::Data(a)),
            Val::List(l) => Some(Seq::List(l)),
            Val::Range(a, b) => Some(Seq::Range(*a, *b)),
            _ => None,
        }
    }

    /// An array proper (what Ruby calls `Array`; ranges are not).
    pub(crate) fn is_array(&self) -> bool {
        matches!(self, Val::Array(_) | Val::List(_))
    }

    /// Ruby's `empty?` (strings, arrays, hashes).
    pub(crate) fn is_empty_value(&self) -> bool {
        match self {
            Val::Str(s) => s.is_empty(),
            Val::Owned(s) => s.is_empty(),
            Val::Array(a) => a.is_empty(),
            Val::List(l) => l.is_empty(),
            Val::Object(o) => o.is_empty(),
            _ => false,
        }
    }

    /// `blank?`: nil, false, whitespace-only strings, empty collections.
    pub(crate) fn is_blank_value(&self) -> bool {
        match self {
            Val::Nil | Val::Bool(false) => true,
            Val::Str(_) | Val::Owned(_) => self.as_str().is_some_and(|s| s.chars().all(char::is_whitespace)),
            other => other.is_empty_value(),
        }
    }

    /// Ruby's `obj.size` where the object has one (strings count characters).
    pub(crate) fn size(&self) -> Option<usize> {
        match self {
            Val::Str(_) | Val::Owned(_) => self.as_str().map(|s| s.chars().count()),
            Val::Array(a) => Some(a.len()),
            Val::List(l) => Some(l.len()),
            Val::Object(o) => Some(distinct_len(o)),
            Val::Range(a, b) => Some(range_len(*a, *b)),
            _ => None,
        }
    }

    /// Liquid's `Utils.to_number`.
    pub(crate) fn to_num(&self) -> Num {
        match self {
            Val::Int(i) => Num::Int(*i),
            Val::Float(f) => Num::from_f64(*f),
            Val::Str(_) | Val::Owned(_) => number::str_to_number(self.as_str().unwrap_or("")),
            _ => Num::Int(0),
        }
    }

    /// Liquid's `Utils.to_integer` (Ruby `Integer(x.to_s)`); None when not an integer.
    pub(crate) fn to_integer(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            Val::Str(_) | Val::Owned(_) => number::parse_ruby_integer(self.as_str().unwrap_or("")),
            _ => {
                let mut s = String::new();
                self.write_to_s(&mut s);
                number::parse_ruby_integer(&s)
            }
        }
    }

    /// Ruby's `to_i` as `tablerow` and ranges use it: floats truncate, strings parse leniently.
    pub(crate) fn to_i_lenient(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            Val::Float(f) if f.is_finite() => Some(*f as i64),
            Val::Nil => Some(0),
            Val::Str(_) | Val::Owned(_) => match number::str_to_i(self.as_str().unwrap_or("")) {
                Num::Int(i) => Some(i),
                _ => None,
            },
            _ => None,
        }
    }

    pub(crate) fn from_num(n: Num) -> Val<'r> {
        match n {
            Num::Int(i) => Val::Int(i),
            other => Val::Float(other.to_f64()),
        }
    }

    /// The member `key` of an object (last duplicate wins). `same_str`, not `==`: in Wasm `==`
    /// calls a byte-loop `memcmp`, and this is the renderer's commonest comparison.
    pub(crate) fn get_key(members: &'r Members<'r>, key: &str) -> Option<Val<'r>> {
        members.iter().rev().find(|(k, _)| crate::value::same_str(k, key)).map(|(_, v)| Val::from_data(v))
    }

    /// Writes the value as `{{ }}` shows it: arrays concatenated, nil as nothing.
    pub(crate) fn write_output(&self, out: &mut String) {
        match self {
            Val::Nil | Val::Empty | Val::Blank | Val::Loop(_) => {}
            Val::Str(s) => out.push_str(s),
            Val::Owned(s) => out.push_str(s),
            Val::Array(items) => {
                for item in items.iter() {
                    Val::from_data(item).write_output(out);
                }
            }
            Val::List(items) => {
                for item in items.iter() {
                    item.write_output(out);
                }
            }
            other => other.write_to_s(out),
        }
    }

    /// Liquid's `Utils.to_s`: arrays and hashes as Ruby's `inspect` shows them.
    pub(crate) fn write_to_s(&self, out: &mut String) {
        match self {
            Val::Nil | Val::Empty | Val::Blank | Val::Loop(_) => {}
            Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Val::Int(i) => number::write_int(*i, out),
            Val::Float(f) => number::write_float(*f, out),
            Val::Str(s) => out.push_str(s),
            Val::Owned(s) => out.push_str(s),
            Val::Range(a, b) => {
                number::write_int(*a, out);
                out.push_str("..");
                number::write_int(*b, out);
            }
            Val::Time(t) => write_time(t, out),
            Val::Array(_) | Val::List(_) | Val::Object(_) => self.write_inspect(out),
        }
    }

    pub(crate) fn to_s(&self) -> Cow<'_, str> {
        match self {
            Val::Str(s) => Cow::Borrowed(s),
            Val::Owned(s) => Cow::Borrowed(s),
            other => {
                let mut s = String::new();
                other.write_to_s(&mut s);
                Cow::Owned(s)
            }
        }
    }

    /// Ruby's `inspect` (as Liquid's `Utils.inspect` writes it).
    pub(crate) fn write_inspect(&self, out: &mut String) {
        match self {
            Val::Nil => out.push_str("nil"),
            Val::Str(_) | Val::Owned(_) => inspect_str(self.as_str().unwrap_or(""), out),
            Val::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    Val::from_data(item).write_inspect(out);
                }
                out.push(']');
            }
            Val::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_inspect(out);
                }
                out.push(']');
            }
            Val::Object(members) => {
                out.push('{');
                let mut first = true;
                for (i, (k, v)) in members.iter().enumerate() {
                    // Ruby hashes keep one entry per key (the last value, at the first position).
                    if members.iter().take(i).any(|(k2, _)| k2 == k) {
                        continue;
                    }
                    if !first {
                        out.push_str(", ");
                    }
                    first = false;
                    inspect_str(k, out);
                    out.push_str("=>");
                    let v = members.iter().rev().find(|(k2, _)| k2 == k).map_or(v, |(_, v)| v);
                    Val::from_data(v).write_inspect(out);
                }
                out.push('}');
            }
            Val::Empty | Val::Blank => out.push_str("\"\""),
            other => other.write_to_s(out),
        }
    }

    /// Writes the value as JSON (the `json` filter).
    pub(crate) fn write_json(&self, out: &mut String) {
        match self {
            Val::Nil | Val::Loop(_) => out.push_str("null"),
            Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Val::Int(i) => number::write_int(*i, out),
            Val::Float(f) => Value::Float(*f).write_json(out),
            Val::Str(s) => crate::value::write_json_string(s, out),
            Val::Owned(s) => crate::value::write_json_string(s, out),
            Val::Empty | Val::Blank => out.push_str("\"\""),
            Val::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Val::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Val::Object(_) => self.write_object_json(out),
            Val::Range(a, b) => {
                out.push('[');
                let n = range_len(*a, *b);
                for i in 0..n.min(1_000_000) {
                    if i > 0 {
                        out.push(',');
                    }
                    number::write_int(a.saturating_add(i as i64), out);
                }
                out.push(']');
            }
            Val::Time(t) => {
                // RFC 3339 text needs no escaping.
                out.push('"');
                write_rfc3339(t, out);
                out.push('"');
            }
        }
    }

    fn write_object_json(&self, out: &mut String) {
        if let Val::Object(members) = self {
            out.push('{');
            let mut first = true;
            for (i, (k, v)) in members.iter().enumerate() {
                if members.iter().skip(i + 1).any(|(k2, _)| k2 == k) {
                    continue; // the last duplicate wins
                }
                if !first {
                    out.push(',');
                }
                first = false;
                crate::value::write_json_string(k, out);
                out.push(':');
                v.write_json(out);
            }
            out.push('}');
        }
    }
}

fn distinct_len(members: &Members<'_>) -> usize {
    members.iter().enumerate().filter(|(i, (k, _))| !members.iter().take(*i).any(|(k2, _)| k2 == k)).count()
}

/// Ruby's `String#inspect`.
pub(crate) fn inspect_str(s: &str, out: &mut String) {
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            '\x08' => out.push_str("\\b"),
            '\x07' => out.push_str("\\a"),
            '\x1b' => out.push_str("\\e"),
            '#' if matches!(chars.peek(), Some('{' | '$' | '@')) => out.push_str("\\#"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str("\\x");
                number::write_hex_byte(c as u8, out);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Liquid's `==` (Ruby `==` plus the `empty` / `blank` literals).
pub(crate) fn liquid_eq(a: &Val<'_>, b: &Val<'_>) -> bool {
    match (a, b) {
        (Val::Empty, Val::Empty) | (Val::Blank, Val::Blank) | (Val::Empty, Val::Blank) | (Val::Blank, Val::Empty) => {
            false
        }
        (Val::Empty, other) | (other, Val::Empty) => other.is_empty_value(),
        (Val::Blank, other) | (other, Val::Blank) => other.is_blank_value(),
        _ => ruby_eq(a, b),
    }
}

/// Ruby's `==` between two values.
pub(crate) fn ruby_eq(a: &Val<'_>, b: &Val<'_>) -> bool {
    match (a, b) {
        (Val::Nil, Val::Nil) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Int(x), Val::Int(y)) => x == y,
        (Val::Int(_) | Val::Float(_), Val::Int(_) | Val::Float(_)) => a.to_num().cmp(b.to_num()) == Ordering::Equal,
        (Val::Str(_) | Val::Owned(_), Val::Str(_) | Val::Owned(_)) => a.as_str() == b.as_str(),
        (Val::Range(a1, b1), Val::Range(a2, b2)) => a1 == a2 && b1 == b2,
        (Val::Time(x), Val::Time(y)) => x == y,
        (Val::Loop(x), Val::Loop(y)) => x == y,
        (Val::Object(x), Val::Object(y)) => {
            distinct_len(x) == distinct_len(y)
                && x.iter().all(|(k, _)| match (Val::get_key(x, k), Val::get_key(y, k)) {
                    (Some(v1), Some(v2)) => ruby_eq(&v1, &v2),
                    _ => false,
                })
        }
        _ => match (a.seq(), b.seq()) {
            (Some(x), Some(y)) if a.is_array() && b.is_array() => {
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| ruby_eq(&p, &q))
            }
            _ => false,
        },
    }
}

/// Ruby's `eql?`-like identity for `uniq` (1 and 1.0 differ).
pub(crate) fn strict_eq(a: &Val<'_>, b: &Val<'_>) -> bool {
    match (a, b) {
        (Val::Int(_), Val::Float(_)) | (Val::Float(_), Val::Int(_)) => false,
        (Val::Float(x), Val::Float(y)) => x == y,
        _ => match (a.seq(), b.seq()) {
            (Some(x), Some(y)) if a.is_array() && b.is_array() => {
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| strict_eq(&p, &q))
            }
            _ => ruby_eq(a, b),
        },
    }
}

/// The outcome of a Liquid relational comparison.
pub(crate) enum Rel {
    /// The comparison holds or not.
    Ord(Ordering),
    /// The operands do not compare (the condition is false).
    None,
    /// Ruby raises (`comparison of Integer with String failed`).
    Error,
}

/// `<`, `>`, `<=`, `>=` as Liquid evaluates them.
pub(crate) fn compare(a: &Val<'_>, b: &Val<'_>) -> Rel {
    match (a, b) {
        (Val::Int(_) | Val::Float(_), Val::Int(_) | Val::Float(_)) => {
            if let (Val::Float(x), _) | (_, Val::Float(x)) = (a, b) {
                if x.is_nan() {
                    return Rel::None;
                }
            }
            Rel::Ord(a.to_num().cmp(b.to_num()))
        }
        (Val::Str(_) | Val::Owned(_), Val::Str(_) | Val::Owned(_)) => {
            Rel::Ord(a.as_str().unwrap_or("").as_bytes().cmp(b.as_str().unwrap_or("").as_bytes()))
        }
        (Val::Time(x), Val::Time(y)) => Rel::Ord(x.cmp(y)),
        (
            Val::Int(_) | Val::Float(_) | Val::Str(_) | Val::Owned(_),
            Val::Int(_) | Val::Float(_) | Val::Str(_) | Val::Owned(_),
        ) => Rel::Error,
        (Val::Time(_), Val::Int(_) | Val::Float(_) | Val::Str(_) | Val::Owned(_))
        | (Val::Int(_) | Val::Float(_) | Val::Str(_) | Val::Owned(_), Val::Time(_)) => Rel::Error,
        _ => Rel::None,
    }
}

/// Ruby's `<=>` as the `sort` filter uses it; None when the values do not compare.
pub(crate) fn spaceship(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Int(_) | Val::Float(_), Val::Int(_) | Val::Float(_)) => match compare(a, b) {
            Rel::Ord(o) => Some(o),
            _ => None,
        },
        (Val::Str(_) | Val::Owned(_), Val::Str(_) | Val::Owned(_)) | (Val::Time(_), Val::Time(_)) => {
            match compare(a, b) {
                Rel::Ord(o) => Some(o),
                _ => None,
            }
        }
        _ if a.is_array() && b.is_array() => {
            let (x, y) = (a.seq()?, b.seq()?);
            for (p, q) in x.iter().zip(y.iter()) {
                match spaceship(&p, &q)? {
                    Ordering::Equal => {}
                    o => return Some(o),
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        _ => {
            if ruby_eq(a, b) {
                Some(Ordering::Equal)
            } else {
                None
            }
        }
    }
}

/// `contains`: substring of a string, member of an array, key of a hash.
pub(crate) fn contains(left: &Val<'_>, right: &Val<'_>) -> bool {
    if !left.truthy() || !right.truthy() {
        return false;
    }
    match left {
        Val::Str(_) | Val::Owned(_) => {
            let needle = right.to_s();
            left.as_str().is_some_and(|s| s.contains(needle.as_ref()))
        }
        Val::Object(members) => match right.as_str() {
            Some(k) => members.iter().any(|(key, _)| key == k),
            None => false,
        },
        Val::Range(a, b) => match right {
            Val::Int(i) => a <= i && i <= b,
            Val::Float(f) => (*a as f64) <= *f && *f <= (*b as f64),
            _ => false,
        },
        _ => match left.seq() {
            Some(items) => items.iter().any(|item| ruby_eq(&item, right)),
            None => false,
        },
    }
}

/// Writes `t` as chrono's `t.format("%Y-%m-%d %H:%M:%S %z")` would (Ruby's `Time#to_s`), by
/// hand: chrono's strftime interpreter costs about 12 KiB of Wasm for this one fixed format.
fn write_time(t: &DateTime<FixedOffset>, out: &mut String) {
    write_time_as(t, false, out);
}

/// Writes `t` as chrono's `to_rfc3339` does (`2024-05-01T12:34:56.5+09:00`, what `json` shows),
/// again without chrono's formatting code.
fn write_rfc3339(t: &DateTime<FixedOffset>, out: &mut String) {
    write_time_as(t, true, out);
}

/// The two shapes above. Same rules as chrono: years outside 0..=9999 get a sign, a leap
/// second prints as `60`, the offset is rounded to the nearest minute; RFC 3339 adds the
/// fraction in milli-, micro- or nanoseconds (the shortest that is exact). The fields come from
/// `DateTime`'s own accessors: `naive_local()` panics when the local time passes
/// `NaiveDateTime::MAX` (a timestamp near chrono's limit shown east of UTC).
fn write_time_as(t: &DateTime<FixedOffset>, rfc3339: bool, out: &mut String) {
    use chrono::{Datelike as _, Timelike as _};
    let year = t.year();
    if !(0..10_000).contains(&year) {
        out.push(if year < 0 { '-' } else { '+' });
    }
    number::write_zero_padded(u64::from(year.unsigned_abs()), 4, out);
    let (second, nano) = match t.nanosecond() {
        n if n >= 1_000_000_000 => (t.second() + 1, n - 1_000_000_000),
        n => (t.second(), n),
    };
    let date_time = if rfc3339 { 'T' } else { ' ' };
    for (sep, v) in [('-', t.month()), ('-', t.day()), (date_time, t.hour()), (':', t.minute()), (':', second)] {
        out.push(sep);
        number::write_zero_padded(u64::from(v), 2, out);
    }
    if rfc3339 && nano != 0 {
        let (v, width) = if nano % 1_000_000 == 0 {
            (nano / 1_000_000, 3)
        } else if nano % 1_000 == 0 {
            (nano / 1_000, 6)
        } else {
            (nano, 9)
        };
        out.push('.');
        number::write_zero_padded(u64::from(v), width, out);
    }
    let off = t.offset().local_minus_utc();
    let minutes = (off.unsigned_abs() + 30) / 60;
    if !rfc3339 {
        out.push(' ');
    }
    out.push(if off < 0 { '-' } else { '+' });
    number::write_zero_padded(u64::from(minutes / 60), 2, out);
    if rfc3339 {
        out.push(':');
    }
    number::write_zero_padded(u64::from(minutes % 60), 2, out);
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, NaiveDate, TimeZone as _};

    #[test]
    fn write_time_matches_chrono_format() {
        let cases = [(2024, 5, 1, 12, 34, 56, 0, 9 * 3600), (5, 1, 2, 3, 4, 5, 0, 0), (-5, 12, 31, 23, 59, 59, 1_500_000_000, -3600)];
        for (y, mo, d, h, mi, s, ns, off) in cases {
            for off in [off, off + 29, off + 30, -off - 30, 86_399, -86_399] {
                for y in [y, 12_345, -12_345, 999, 10_000] {
                    let Some(date) = NaiveDate::from_ymd_opt(y, mo, d) else { continue };
                    let naive = date.and_hms_nano_opt(h, mi, s, ns).unwrap();
                    let t = FixedOffset::east_opt(off).unwrap().from_local_datetime(&naive).unwrap();
                    let mut out = String::new();
                    super::write_time(&t, &mut out);
                    assert_eq!(out, t.format("%Y-%m-%d %H:%M:%S %z").to_string());
                    for ns in [ns, 1_000_000, 120_000, 123_456_789, 1_999_000_000, 1_000_000_001] {
                        let Some(naive) = date.and_hms_nano_opt(h, mi, s, ns) else { continue };
                        let t = FixedOffset::east_opt(off).unwrap().from_local_datetime(&naive).unwrap();
                        let mut out = String::new();
                        super::write_rfc3339(&t, &mut out);
                        assert_eq!(out, t.to_rfc3339());
                    }
                }
            }
        }
    }
}
