//! The data model rules and templates read: a JSON value that borrows its strings from the
//! input text, and a parser that materializes only the parts of a document a config reads.
//!
//! Why not `serde_json::Value`: on the hot path (one context per call, in Wasm) allocating a
//! `String` per key and value and a `BTreeMap` per object costs more than the rules themselves.
//! Here strings without escapes are slices of the input, objects are small vectors that keep the
//! document's key order, and subtrees no rule reads are validated but never built.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` without a leading byte-order mark (files from Excel and Windows tools, read as text):
/// it is not content, in a config, a context or NDJSON.
pub(crate) fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// A JSON value. Integers that fit `i64` stay integers (Liquid tells `1` from `1.0`); every
/// other number is a `Float`. JsonLogic treats both as numbers.
#[derive(Clone, Debug, Default)]
pub enum Value<'a> {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    /// Keys in document order. Lookups take the last duplicate, as `JSON.parse` does.
    Object(Vec<(Cow<'a, str>, Value<'a>)>),
}

/// `a == b` for the short strings of keys and codes, compared inline (eight bytes at a time):
/// `==` calls `memcmp`, which in WebAssembly is a byte loop behind a call, and key lookups are
/// the commonest comparison of a decision.
#[inline]
pub(crate) fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut a8 = a.chunks_exact(8);
    let mut b8 = b.chunks_exact(8);
    let word = |c: &[u8]| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
    (&mut a8).zip(&mut b8).all(|(x, y)| word(x) == word(y)) && a8.remainder().iter().zip(b8.remainder()).all(|(x, y)| x == y)
}

impl PartialEq for Value<'_> {
    /// Structural equality; `Int(1) == Float(1.0)`.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::String(a), Value::String(b)) => same_str(a, b),
            (Value::Array(a), Value::Array(b)) => a == b,
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| other.get(k) == Some(v))
            }
            (a, b) => match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        }
    }
}

impl<'a> Value<'a> {
    pub fn str(s: &'a str) -> Self {
        Value::String(Cow::Borrowed(s))
    }

    /// The member `key` of an object (last duplicate wins); `None` for anything else.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Object(members) => members.iter().rev().find(|(k, _)| same_str(k, key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows a dotted-path's components through objects and (by decimal index) arrays.
    pub fn lookup<'p>(&self, path: impl IntoIterator<Item = &'p str>) -> Option<&Value<'a>> {
        let mut cur = self;
        for key in path {
            cur = match cur {
                Value::Object(_) => cur.get(key)?,
                Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The JSON type name, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::Float(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// Detaches the value from the input text.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Int(i),
            Value::Float(f) => Value::Float(f),
            Value::String(s) => Value::String(Cow::Owned(s.into_owned())),
            Value::Array(items) => Value::Array(items.into_iter().map(Value::into_owned).collect()),
            Value::Object(members) => Value::Object(
                members.into_iter().map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned())).collect(),
            ),
        }
    }

    /// Borrows a `serde_json::Value` (used when a document arrives already parsed).
    pub fn from_serde(v: &'a serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::str(s),
            serde_json::Value::Array(items) => Value::Array(items.iter().map(Value::from_serde).collect()),
            serde_json::Value::Object(m) => {
                Value::Object(m.iter().map(|(k, v)| (Cow::Borrowed(k.as_str()), Value::from_serde(v))).collect())
            }
        }
    }

    pub fn to_serde(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Array(items) => serde_json::Value::Array(items.iter().map(Value::to_serde).collect()),
            Value::Object(members) => {
                let mut m = serde_json::Map::new();
                for (k, v) in members {
                    m.insert(k.to_string(), v.to_serde());
                }
                serde_json::Value::Object(m)
            }
        }
    }

    /// Compact JSON with serde_json's string escaping; keys keep their parsed order, integral
    /// floats print as integers (`1e3` → `1000`) and non-finite floats become `null`.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => write_float(*f, out),
            Value::String(s) => write_json_string(s, out),
            Value::Array(items) => write_array(items, out, Value::write_json),
            Value::Object(members) => write_object(members.iter().map(|(k, v)| (&**k, v)), out, Value::write_json),
        }
    }

    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }
}

/// An iterator behind `&mut dyn Items<T>`: the one method the crate's non-generic loops need.
/// A `dyn Iterator` vtable would also hold `size_hint`, `advance_by` and `nth` for each
/// iterator type passed in (the decision writers, [`Projection::add`]).
pub(crate) trait Items<T> {
    fn next_item(&mut self) -> Option<T>;
}

impl<T, I: Iterator<Item = T>> Items<T> for I {
    fn next_item(&mut self) -> Option<T> {
        self.next()
    }
}

/// Sign, shortest round-trip significant digits and decimal point position of a finite,
/// non-zero `f`: `f = ±0.d1d2…dn × 10^decpt`. One shortest-digits algorithm for the crate:
/// serde_json's float writer (already in the binary for JSON output), read back, instead of
/// core's `{:e}` (whose Grisu + Dragon code would be a second copy in the Wasm).
pub(crate) fn shortest_digits(f: f64) -> (bool, String, i64) {
    let text = serde_json::Number::from_f64(f.abs()).map_or_else(|| "0".to_string(), |n| n.to_string());
    let (mantissa, exp) = text.split_once(['e', 'E']).unwrap_or((text.as_str(), "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut decpt = int.len() as i64 + exp;
    let all = format!("{int}{frac}");
    let trimmed = all.trim_start_matches('0');
    decpt -= (all.len() - trimmed.len()) as i64;
    let digits = trimmed.trim_end_matches('0');
    if digits.is_empty() {
        return (f.is_sign_negative(), "0".to_string(), 1);
    }
    (f.is_sign_negative(), digits.to_string(), decpt)
}

/// `f` in plain decimal notation, as core's `{f}` writes it (`1e21` → `1000000000000000000000`,
/// `1.5e-7` → `0.00000015`), from [`shortest_digits`] instead of core's Grisu + Dragon code.
pub(crate) fn plain_decimal(f: f64) -> String {
    let (neg, digits, decpt) = shortest_digits(f);
    let mut out = String::from(if neg { "-" } else { "" });
    write_plain(&digits, decpt, &mut out);
    out
}

/// Lays out [`shortest_digits`] without an exponent: the point `decpt` places from the left of
/// `digits`, zeros filled in (`15`, 3 → `150`; `15`, 1 → `1.5`; `15`, -1 → `0.0015`). The plain
/// notations of JavaScript, Ruby and core's `{f}` all agree on this; they differ only in the
/// range where they switch to an exponent.
pub(crate) fn write_plain(digits: &str, decpt: i64, out: &mut String) {
    let n = digits.len() as i64;
    if decpt <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', decpt.unsigned_abs() as usize));
        out.push_str(digits);
    } else if decpt >= n {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', (decpt - n) as usize));
    } else {
        let (int, frac) = digits.split_at_checked(decpt as usize).unwrap_or((digits, ""));
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
}

/// Writes a `serde_json::Value` exactly as `serde_json::to_string` does (keys sorted, floats in
/// serde_json's shortest form, `1.0` stays `1.0`), without serde_json's serializer — which,
/// through `Display`, brings a compact and a pretty instance into the Wasm binary.
pub fn write_serde(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Null => out.push_str("null"),
        serde_json::Value::Bool(true) => out.push_str("true"),
        serde_json::Value::Bool(false) => out.push_str("false"),
        serde_json::Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        serde_json::Value::String(s) => write_json_string(s, out),
        serde_json::Value::Array(items) => write_array(items, out, write_serde),
        serde_json::Value::Object(members) => write_serde_map(members, out),
    }
}

/// [`write_serde`] of an object's members (serde_json's map keeps its keys sorted).
pub fn write_serde_map(members: &serde_json::Map<String, serde_json::Value>, out: &mut String) {
    write_object(members.iter().map(|(k, v)| (k.as_str(), v)), out, write_serde);
}

/// The JSON syntax of an array, shared by the writers of both value types: `write` writes an item.
pub(crate) fn write_array<V>(items: &[V], out: &mut String, write: fn(&V, &mut String)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write(item, out);
    }
    out.push(']');
}

/// The JSON syntax of an object, as [`write_array`]: `write` writes a member's value.
fn write_object<'v, V: 'v>(members: impl Iterator<Item = (&'v str, &'v V)>, out: &mut String, write: fn(&V, &mut String)) {
    out.push('{');
    for (i, (k, v)) in members.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(k, out);
        out.push(':');
        write(v, out);
    }
    out.push('}');
}

/// [`write_serde`] into a new string.
pub fn serde_text(v: &serde_json::Value) -> String {
    let mut out = String::new();
    write_serde(v, &mut out);
    out
}

/// Integral floats print as integers (`10`, as JavaScript does), others in serde_json's
/// shortest round-trip form; non-finite ones as `null`.
fn write_float(f: f64, out: &mut String) {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        let _ = write!(out, "{}", f as i64);
        return;
    }
    match serde_json::Number::from_f64(f) {
        Some(n) => {
            let _ = write!(out, "{n}");
        }
        None => out.push_str("null"),
    }
}

/// Bits set in the high bit of each byte of `w` that is `"`, `\\` or a control character.
/// Borrows can flag bytes above a real hit, never below one, so the lowest flag is exact.
#[inline]
fn special_bytes(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let quote = w ^ (ONES * u64::from(b'"'));
    let slash = w ^ (ONES * u64::from(b'\\'));
    // A zero byte in `quote`/`slash`, or a byte below 0x20 in `w`, sets its high bit.
    ((quote.wrapping_sub(ONES) & !quote) | (slash.wrapping_sub(ONES) & !slash) | (w.wrapping_sub(ONES * 0x20) & !w)) & HIGH
}

/// The first `"`, `\\` or control character in `bytes` at or after `from`, eight bytes at a
/// time (the JSON writer's escapes and the parser's string scan).
#[inline]
fn next_special(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let flags = special_bytes(u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])));
        if flags != 0 {
            return Some(i + (flags.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let tail = bytes.get(i..)?;
    tail.iter().position(|&b| b < 0x20 || b == b'"' || b == b'\\').map(|p| i + p)
}

/// Writes `s` as a JSON string literal with serde_json's escaping. Runs between escapes (most
/// strings are one run: ids, names, timestamps) are copied whole.
pub fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(i) = next_special(bytes, start) {
        out.push_str(s.get(start..i).unwrap_or(""));
        let b = bytes.get(i).copied().unwrap_or(0);
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            _ => "",
        };
        if esc.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or(""));
    out.push('"');
}

/// Which parts of a document to build. Everything outside it is checked for JSON syntax and
/// skipped without allocating.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Projection {
    all: bool,
    fields: Vec<(String, Projection)>,
}

impl Projection {
    /// Build the whole document.
    pub fn all() -> Self {
        Projection { all: true, fields: Vec::new() }
    }

    /// Build nothing yet; add paths with [`Projection::add`].
    pub fn none() -> Self {
        Projection::default()
    }

    pub fn is_all(&self) -> bool {
        self.all
    }

    /// Marks the whole subtree at `path` (object keys) as needed. An empty path means all.
    pub fn add<'p>(&mut self, path: impl IntoIterator<Item = &'p str>) {
        self.add_path(&mut path.into_iter());
    }

    /// Marks `path` as read for its type only: an object there is built without members, an
    /// array is checked and built empty, a scalar is built.
    pub fn add_shape(&mut self, path: &[&str]) {
        self.node_at(&mut path.iter().copied());
    }

    /// The body of [`Projection::add`], compiled once rather than per path type.
    fn add_path(&mut self, path: &mut dyn Items<&str>) {
        if let Some(node) = self.node_at(path) {
            node.all = true;
            node.fields.clear();
        }
    }

    /// The node at `path`, created as needed; `None` when a node on the way is already `all`.
    fn node_at(&mut self, path: &mut dyn Items<&str>) -> Option<&mut Projection> {
        let mut node = self;
        while let Some(key) = path.next_item() {
            if node.all {
                return None;
            }
            let idx = match node.fields.iter().position(|(k, _)| k == key) {
                Some(i) => i,
                None => {
                    node.fields.push((key.to_string(), Projection::none()));
                    node.fields.len() - 1
                }
            };
            node = &mut node.fields.get_mut(idx)?.1;
        }
        (!node.all).then_some(node)
    }

    /// Adds everything `other` needs.
    pub fn merge(&mut self, other: &Projection) {
        if other.all {
            self.add(std::iter::empty());
            return;
        }
        for (k, child) in &other.fields {
            if self.all {
                return;
            }
            match self.fields.iter_mut().find(|(key, _)| key == k) {
                Some((_, mine)) => mine.merge(child),
                None => self.fields.push((k.clone(), child.clone())),
            }
        }
    }

    /// Whether anything inside the value at `path` is built (for an array: its items).
    pub(crate) fn reads_items(&self, path: &[&str]) -> bool {
        let mut node = self;
        for key in path {
            if node.all {
                return true;
            }
            match node.child(key) {
                Some(child) => node = child,
                None => return false,
            }
        }
        node.all || !node.fields.is_empty()
    }

    fn child(&self, key: &str) -> Option<&Projection> {
        self.fields.iter().find(|(k, _)| same_str(k, key)).map(|(_, p)| p)
    }
}

/// A JSON syntax error at a byte offset, with 1-based line and column.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    pub message: String,
    pub offset: usize,
    pub line: u32,
    pub column: u32,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at line {}, column {}", self.message, self.line, self.column)
    }
}

/// Nesting deeper than this is refused instead of risking the (small) Wasm stack.
pub const MAX_DEPTH: usize = 128;
/// The message of a [`ParseError`] past [`MAX_DEPTH`] (a limit, not a syntax error).
pub(crate) const TOO_DEEP: &str = "JSON nested too deeply";

/// Parses a whole JSON document.
pub fn parse(text: &str) -> Result<Value<'_>, ParseError> {
    parse_projected(text, &Projection::all())
}

/// Parses a JSON document, building only what `projection` asks for; the rest is validated and
/// skipped, and appears as absent (objects) — arrays are built whole once any path enters them.
pub fn parse_projected<'a>(text: &'a str, projection: &Projection) -> Result<Value<'a>, ParseError> {
    // Room for a typical context's widest object and array, so the scratch stacks rarely grow.
    let mut p = Parser { text, bytes: text.as_bytes(), pos: 0, members: Vec::with_capacity(32), items: Vec::with_capacity(16) };
    p.document(projection).map_err(|f| f.into_error(text))
}

/// A syntax error on the hot path: two words instead of a [`ParseError`] (whose line and column
/// are worked out only when it is reported), so that results stay small.
struct Fail {
    message: &'static str,
    pos: usize,
}

impl Fail {
    #[cold]
    fn into_error(self, text: &str) -> ParseError {
        let bytes = text.as_bytes();
        let upto = bytes.get(..self.pos).unwrap_or(bytes);
        let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = upto.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = text.get(line_start..self.pos).map_or(1, |s| s.chars().count() + 1);
        ParseError { message: self.message.to_string(), offset: self.pos, line: line as u32, column: column as u32 }
    }
}

type Parsed<T> = Result<T, Fail>;

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Scratch stacks: members and items of the containers being built collect here and move
    /// into an exactly sized `Vec` when the container closes (one allocation per container
    /// instead of a growing one).
    members: Vec<(Cow<'a, str>, Value<'a>)>,
    items: Vec<Value<'a>>,
}

/// Bytes JSON allows between tokens.
#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

impl<'a> Parser<'a> {
    #[cold]
    fn fail(&self, message: &'static str) -> Fail {
        Fail { message, pos: self.pos }
    }

    fn document(&mut self, projection: &Projection) -> Parsed<Value<'a>> {
        self.ws();
        let v = self.value(projection, 0)?;
        self.ws();
        if self.pos < self.bytes.len() {
            return Err(self.fail("unexpected trailing characters"));
        }
        Ok(v)
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn ws(&mut self) {
        // Compact JSON has no whitespace: test the common case first.
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    /// Skips whitespace and returns the next byte (without consuming it).
    #[inline]
    fn next_token(&mut self) -> Option<u8> {
        self.ws();
        self.peek()
    }

    #[inline]
    fn expect(&mut self, b: u8, what: &'static str) -> Parsed<()> {
        if self.next_token() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.fail(what))
        }
    }

    fn literal(&mut self, word: &str) -> Parsed<()> {
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end) == Some(word.as_bytes()) {
            self.pos = end;
            Ok(())
        } else {
            Err(self.fail("expected a JSON value"))
        }
    }

    /// Parses one value and builds what `proj` asks for: everything when it is `all`, else the
    /// projected members of an object (scalars are always built). An array that no path enters
    /// is validated and built empty (its type is all that is read).
    fn value(&mut self, proj: &Projection, depth: usize) -> Parsed<Value<'a>> {
        if depth > MAX_DEPTH {
            return Err(self.fail(TOO_DEEP));
        }
        Ok(match self.peek() {
            Some(b'{') => self.object(proj, depth)?,
            Some(b'[') => {
                // An array is built whole once a path enters it (paths do not index arrays).
                if !proj.all && proj.fields.is_empty() {
                    self.skip(depth)?;
                    return Ok(Value::Array(Vec::new()));
                }
                self.array(depth)?
            }
            Some(b'"') => Value::String(self.string()?),
            Some(b't') => self.literal("true").map(|_| Value::Bool(true))?,
            Some(b'f') => self.literal("false").map(|_| Value::Bool(false))?,
            Some(b'n') => self.literal("null").map(|_| Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.fail("expected a JSON value")),
            None => return Err(self.fail("unexpected end of input")),
        })
    }

    fn object(&mut self, proj: &Projection, depth: usize) -> Parsed<Value<'a>> {
        self.pos += 1;
        let base = self.members.len();
        if self.next_token() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(Vec::new()));
        }
        loop {
            if self.next_token() != Some(b'"') {
                return Err(self.fail("expected a string key"));
            }
            let key = self.string()?;
            self.expect(b':', "expected ':' after an object key")?;
            self.ws();
            let child = if proj.all { Some(proj) } else { proj.child(&key) };
            match child {
                Some(child) => {
                    let v = self.value(child, depth + 1)?;
                    self.members.push((key, v));
                }
                None => self.skip(depth + 1)?,
            }
            match self.next_token() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    let members = self.members.drain(base..).collect();
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.fail("expected ',' or '}' in an object")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Parsed<Value<'a>> {
        self.pos += 1;
        let all = Projection::all();
        let base = self.items.len();
        if self.next_token() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(Vec::new()));
        }
        loop {
            self.ws();
            let v = self.value(&all, depth + 1)?;
            self.items.push(v);
            match self.next_token() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    let items = self.items.drain(base..).collect();
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.fail("expected ',' or ']' in an array")),
            }
        }
    }

    /// Validates one value without building anything (the same checks as [`Parser::value`]).
    fn skip(&mut self, depth: usize) -> Parsed<()> {
        if depth > MAX_DEPTH {
            return Err(self.fail(TOO_DEEP));
        }
        match self.peek() {
            Some(b'"') => self.skip_string(),
            Some(b'{') => {
                self.pos += 1;
                if self.next_token() == Some(b'}') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    if self.next_token() != Some(b'"') {
                        return Err(self.fail("expected a string key"));
                    }
                    self.skip_string()?;
                    self.expect(b':', "expected ':' after an object key")?;
                    self.ws();
                    self.skip(depth + 1)?;
                    match self.next_token() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(self.fail("expected ',' or '}' in an object")),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                if self.next_token() == Some(b']') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    self.skip(depth + 1)?;
                    match self.next_token() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(self.fail("expected ',' or ']' in an array")),
                    }
                }
            }
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                // Short integers are always in range; anything else is read as `number` reads
                // it, so a skipped `1e400` is refused as a built one is.
                if self.number_end()? && self.pos - start <= 18 {
                    return Ok(());
                }
                self.pos = start;
                self.number().map(|_| ())
            }
            Some(_) => Err(self.fail("expected a JSON value")),
            None => Err(self.fail("unexpected end of input")),
        }
    }

    /// Moves past a number's text, checking its grammar; returns whether it is an integer.
    fn number_end(&mut self) -> Parsed<bool> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.fail("invalid number")),
        }
        let mut int = true;
        if self.peek() == Some(b'.') {
            int = false;
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.fail("invalid number"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            int = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.fail("invalid number"));
            }
            self.digits();
        }
        Ok(int)
    }

    fn number(&mut self) -> Parsed<Value<'a>> {
        let start = self.pos;
        let int = self.number_end()?;
        let s = self.text.get(start..self.pos).unwrap_or("0");
        if int {
            // Up to 18 digits cannot overflow an i64: add them up directly; longer ones go
            // through `parse`, which also knows the exact limits.
            let (negative, digits) = match s.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, s),
            };
            if digits.len() <= 18 {
                let n = digits.bytes().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
                return Ok(Value::Int(if negative { -n } else { n }));
            }
            if let Ok(i) = s.parse::<i64>() {
                return Ok(Value::Int(i));
            }
        }
        match s.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            // `1e400`: no JSON tree holds infinity (serde_json refuses it too).
            Ok(_) => Err(Fail { message: "number out of range", pos: start }),
            Err(_) => Err(Fail { message: "invalid number", pos: self.pos }),
        }
    }

    #[inline]
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    /// Moves to the first byte at or after `pos` that is `"`, `\\` or a control character (or to
    /// the end of the input): most of a context's bytes are inside strings.
    #[inline]
    fn scan_plain(&mut self) {
        self.pos = next_special(self.bytes, self.pos).unwrap_or(self.bytes.len());
    }

    /// Moves past a string literal at `"`, with the same checks as [`Parser::string`].
    #[inline]
    fn skip_string(&mut self) -> Parsed<()> {
        let open = self.pos;
        self.pos += 1;
        self.scan_plain();
        match self.peek() {
            Some(b'"') => {
                self.pos += 1;
                Ok(())
            }
            Some(b'\\') => {
                // Escapes are rare: let the decoder validate them.
                self.pos = open;
                self.string().map(|_| ())
            }
            Some(_) => Err(self.fail("control character in a string")),
            None => Err(self.fail("unterminated string")),
        }
    }

    /// Parses a string literal at `"`. Without escapes the result borrows the input.
    #[inline]
    fn string(&mut self) -> Parsed<Cow<'a, str>> {
        self.pos += 1;
        let start = self.pos;
        self.scan_plain();
        if self.peek() == Some(b'"') {
            let s = self.text.get(start..self.pos).unwrap_or("");
            self.pos += 1;
            return Ok(Cow::Borrowed(s));
        }
        self.escaped(start)
    }

    /// The rest of [`Parser::string`] once it meets a byte other than the closing quote.
    #[inline(never)]
    fn escaped(&mut self, start: usize) -> Parsed<Cow<'a, str>> {
        match self.peek() {
            Some(b'\\') => {}
            Some(_) => return Err(self.fail("control character in a string")),
            None => return Err(self.fail("unterminated string")),
        }
        let mut owned = String::from(self.text.get(start..self.pos).unwrap_or(""));
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(owned));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let c = self.unicode_escape()?;
                            owned.push(c);
                            continue;
                        }
                        _ => return Err(self.fail("invalid escape in a string")),
                    };
                    self.pos += 1;
                    owned.push(c);
                }
                Some(0..=0x1f) => return Err(self.fail("control character in a string")),
                Some(_) => {
                    // Copy the run up to the next special byte (the input is valid UTF-8).
                    let run_start = self.pos;
                    self.scan_plain();
                    owned.push_str(self.text.get(run_start..self.pos).unwrap_or(""));
                }
                None => return Err(self.fail("unterminated string")),
            }
        }
    }

    fn hex4(&mut self) -> Parsed<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4).filter(|d| d.iter().all(u8::is_ascii_hexdigit));
        let v = digits.and_then(|d| std::str::from_utf8(d).ok()).and_then(|s| u32::from_str_radix(s, 16).ok());
        let v = v.ok_or_else(|| self.fail("invalid \\u escape"))?;
        self.pos += 4;
        Ok(v)
    }

    /// A `\u` escape, a surrogate pair included. A lone surrogate (a string JavaScript cut in
    /// the middle of an emoji, which `JSON.stringify` writes and `JSON.parse` reads back) becomes
    /// U+FFFD, as `TextEncoder` makes it: a display name should not fail a decision.
    fn unicode_escape(&mut self) -> Parsed<char> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) && self.bytes.get(self.pos..self.pos + 2) == Some(b"\\u") {
            let after_hi = self.pos;
            self.pos += 2;
            let lo = self.hex4()?;
            if (0xDC00..0xE000).contains(&lo) {
                return Ok(char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            // Not a low half: that escape stands on its own.
            self.pos = after_hi;
        }
        Ok(char::from_u32(hi).unwrap_or(char::REPLACEMENT_CHARACTER))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reserializes_like_serde_json() {
        let text = r#"{"a":[1,-2.5,1e300,true,null,"x\"y\u00e9\ud83d\ude00"],"b":{"c":"日本"},"n":-9007199254740993}"#;
        let v = parse(text).unwrap();
        let serde: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(v.to_json(), serde_json::to_string(&serde).unwrap());
        assert_eq!(v.to_serde(), serde);
        assert!(matches!(v.get("b").unwrap().get("c").unwrap(), Value::String(Cow::Borrowed(_))));
        assert_eq!(parse("[1e3,10.0,0.5]").unwrap().to_json(), "[1000,10,0.5]");
    }

    #[test]
    fn strings_with_specials_at_every_offset_parse_like_serde_json() {
        for len in 0..24 {
            for at in 0..=len {
                for special in ["\\\"", "\\n", "\\u00e9", "é", "日本", "\\\\"] {
                    let body: String = (0..len).map(|i| if i == at { special.to_string() } else { "a".to_string() }).collect();
                    let text = format!("[\"{body}\",\"{body}x\"]");
                    let want: serde_json::Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(parse(&text).unwrap().to_serde(), want, "{text}");
                }
                let raw_control = format!("\"{}\u{1}{}\"", "a".repeat(at), "b".repeat(len - at));
                assert!(parse(&raw_control).is_err(), "{raw_control:?}");
            }
        }
    }

    #[test]
    fn projection_builds_only_needed_members_but_validates_all() {
        let mut p = Projection::none();
        p.add(["user", "tags"]);
        let v = parse_projected(r#"{"user":{"tags":["a"],"big":{"x":[1,2]}},"other":1}"#, &p).unwrap();
        assert_eq!(v.to_json(), r#"{"user":{"tags":["a"]}}"#);
        assert!(parse_projected(r#"{"user":{"tags":[]},"other":[1,}"#, &p).is_err());
    }

    #[test]
    fn shapes_build_types_not_contents() {
        let mut p = Projection::none();
        for key in ["o", "a", "s", "deep"] {
            p.add_shape(&[key]);
        }
        p.add(["deep", "x"]);
        let v = parse_projected(r#"{"o":{"k":[1]},"a":[{"k":1}],"s":"x","deep":{"x":{"y":1},"z":2},"n":1}"#, &p).unwrap();
        assert_eq!(v.to_json(), r#"{"o":{},"a":[],"s":"x","deep":{"x":{"y":1}}}"#);
        // A shape under a path already built whole changes nothing.
        p.add_shape(&["deep", "x", "y"]);
        assert_eq!(parse_projected(r#"{"deep":{"x":{"y":[1]}}}"#, &p).unwrap().to_json(), r#"{"deep":{"x":{"y":[1]}}}"#);
    }

    #[test]
    fn rejects_bad_json_with_position() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"", "\"a\nb\"", "[1] x", "\"\\u+123\"", "\"\\ud8\""] {
            assert!(parse(bad).is_err(), "{bad:?} should fail");
        }
        let e = parse("{\n  \"a\": tru }").unwrap_err();
        assert_eq!((e.line, e.column), (2, 8));
        let deep = "[".repeat(MAX_DEPTH + 2);
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn lone_surrogates_become_the_replacement_character() {
        for (doc, want) in [
            (r#""\ud800""#, "\u{fffd}"),
            (r#""a\ud83d""#, "a\u{fffd}"),
            (r#""\ud800\u0041""#, "\u{fffd}A"),
            (r#""\udc00\ud800x""#, "\u{fffd}\u{fffd}x"),
            (r#""\ud83d\ude00""#, "😀"),
        ] {
            assert_eq!(parse(doc).unwrap().as_str(), Some(want), "{doc}");
            assert!(parse_projected(&format!("{{\"a\":{doc}}}"), &Projection::none()).is_ok(), "{doc}");
        }
    }

    #[test]
    fn strings_are_written_like_serde_json_with_specials_at_every_offset() {
        for len in 0..20 {
            for at in 0..=len {
                for special in ["\"", "\\", "\n", "\u{1}", "\u{1f}", "é", " "] {
                    let s: String = (0..len).map(|i| if i == at { special } else { "a" }).collect();
                    let mut out = String::new();
                    write_json_string(&s, &mut out);
                    assert_eq!(out, serde_json::to_string(&s).unwrap(), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn skipping_checks_what_building_checks() {
        let docs = [
            r#"{"a":"x\"y\u00e9\ud83d\ude00","b":[1,-2.5e3,{"c":null}],"d":"日本語テキスト、長めの文字列"}"#,
            r#"{"a":"\x"}"#,
            "{\"a\":\"tab\tinside\"}",
            r#"{"a":[1,2,}"#,
            r#"{"a":01}"#,
            r#"{"a":-}"#,
            r#"{"a":1.e5}"#,
            r#"{"a":"unterminated"#,
            r#"{"a":tru}"#,
            r#"{"a" 1}"#,
            r#"{"a":{"b":1,}}"#,
            r#"{"a":1e400}"#,
            r#"{"a":[-1e400]}"#,
            r#"{"a":1.5e308,"b":1e-400,"c":123456789012345678901234567890}"#,
        ];
        for doc in docs {
            let all = parse_projected(doc, &Projection::all());
            let none = parse_projected(doc, &Projection::none());
            assert_eq!(all.as_ref().err(), none.as_ref().err(), "{doc}");
            let serde: Result<serde_json::Value, _> = serde_json::from_str(doc);
            assert_eq!(all.is_ok(), serde.is_ok(), "{doc}");
        }
        let huge = format!("[1{}]", "0".repeat(400));
        assert_eq!(parse(&huge).err().map(|e| e.message), Some("number out of range".to_string()));
        assert_eq!(parse_projected(&huge, &Projection::none()).err(), parse(&huge).err());
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(parse_projected(&deep, &Projection::none()).err(), parse(&deep).err());
        assert!(parse(&deep).is_err());
        for (a, b) in [("", ""), ("a", "a"), ("userId", "userId"), ("purchases", "purchase"), ("accumulator", "accumulatoR"), ("日本", "日本")] {
            assert_eq!(same_str(a, b), a == b, "{a} {b}");
        }
        let v = parse("[123456789012345678,1234567890123456789,-9223372036854775808,-0,9223372036854775808]").unwrap();
        let want = [Value::Int(123456789012345678), Value::Int(1234567890123456789), Value::Int(i64::MIN), Value::Int(0)];
        assert!(v.as_array().unwrap().iter().zip(&want).all(|(a, b)| matches!((a, b), (Value::Int(x), Value::Int(y)) if x == y)));
        assert!(matches!(v.as_array().unwrap()[4], Value::Float(f) if f == 9223372036854775808.0));
    }

    #[test]
    fn shortest_digits_and_point() {
        for (f, want) in [
            (1.0, (false, "1", 1)),
            (-0.5, (true, "5", 0)),
            (1e21, (false, "1", 22)),
            (1.5e-7, (false, "15", -6)),
            (0.000123, (false, "123", -3)),
            (123456.789, (false, "123456789", 6)),
            (100.0, (false, "1", 3)),
            (1152921504606846976.0, (false, "1152921504606847", 19)),
            (0.30000000000000004, (false, "30000000000000004", 0)),
            (5e-324, (false, "5", -323)),
            (1.7976931348623157e308, (false, "17976931348623157", 309)),
        ] {
            let (neg, digits, decpt) = shortest_digits(f);
            assert_eq!((neg, digits.as_str(), decpt), want, "{f:e}");
        }
    }

    #[test]
    fn plain_decimal_matches_core_display_where_the_template_uses_it() {
        // number_parts uses it for floats Ruby would print with an exponent: |f| >= 1e16 or
        // < 1e-4. A deterministic sweep over that range, plus the edges.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut checked = 0;
        for i in 0..200_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = if i % 2 == 0 { f64::from_bits(x) } else { (x >> 11) as f64 * 10f64.powi((i % 60) as i32 - 30) };
            if !f.is_finite() || f == 0.0 || (f.abs() < 1e16 && f.abs() >= 1e-4) {
                continue;
            }
            checked += 1;
            assert_eq!(plain_decimal(f), format!("{f}"), "{f:e}");
        }
        assert!(checked > 50_000, "{checked}");
        for f in [1e21, 1e16, 1.5e-7, -2.5e-9, 5e-324, 1.7976931348623157e308, 123e20, -1e-7, 9.99e-5] {
            assert_eq!(plain_decimal(f), format!("{f}"));
        }
    }

    #[test]
    fn serde_values_are_written_like_serde_json() {
        for text in [
            r#"{"b":[1,1.0,-0.0,1e21,1.5e-7,12345678901234567890,-9223372036854775808],"a":{"z":null,"y":true,"x":"\u0001é\"\\"},"":[]}"#,
            r#"[0.1,100.0,3.0e10,"\ud83d\ude00",false,{}]"#,
        ] {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(serde_text(&v), serde_json::to_string(&v).unwrap(), "{text}");
        }
    }

    #[test]
    fn duplicate_keys_last_wins_and_numbers_compare_across_kinds() {
        let v = parse(r#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(v.get("a"), Some(&Value::Int(2)));
        assert_eq!(Value::Int(1), Value::Float(1.0));
        assert_eq!(v.lookup(["a"]), Some(&Value::Int(2)));
    }
}
