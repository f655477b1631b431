//! Reading a config document by hand instead of with `#[derive(Deserialize)]`: serde stops at
//! the first problem and knows no JSON pointer, while a marketer fixing a config wants every
//! problem at once, each with its path and, for a typo, the field that was meant.

use crate::error::{pointer_token, suggest, Code, Error};
use serde_json::{Map, Value};

/// Collects problems while a document is read.
#[derive(Default, Debug)]
pub struct Problems(pub Vec<Error>, Gaps);

/// Lists that lost unreadable items (a segment without an id, say): each list's pointer and the
/// config's index of every item kept. Compiling numbers the kept items 0, 1, …; without this a
/// problem after the gap would point at the item before it.
#[derive(Default, Debug)]
struct Gaps(Vec<(String, Vec<usize>)>);

impl Problems {
    pub fn push(&mut self, code: Code, path: &str, message: impl Into<String>) {
        self.0.push(Error::new(code, path, message));
    }

    /// The config's index of item `i` of the list at `list` as read (`i` itself without gaps).
    pub fn original_index(&self, list: &str, i: usize) -> usize {
        self.1 .0.iter().find(|(l, _)| l == list).and_then(|(_, kept)| kept.get(i).copied()).unwrap_or(i)
    }

    /// Puts the paths of the problems from `from` on (those found by compiling what was read)
    /// back on the config's own indexes.
    #[inline(never)]
    pub fn renumber_from(&mut self, from: usize) {
        // Outer lists first: an inner list's pointer is in the config's indexes.
        let mut lists: Vec<&(String, Vec<usize>)> = self.1 .0.iter().collect();
        crate::sort::sort_stable_by(&mut lists, &mut |a, b| a.0.len() < b.0.len());
        for e in self.0.iter_mut().skip(from) {
            for (list, kept) in &lists {
                let Some(rest) = e.path.strip_prefix(list.as_str()).and_then(|r| r.strip_prefix('/')) else { continue };
                let (index, tail) = rest.split_once('/').map_or((rest, ""), |(i, t)| (i, t));
                if let Some(original) = index.parse::<usize>().ok().and_then(|i| kept.get(i)) {
                    let sep = if tail.is_empty() { "" } else { "/" };
                    e.path = format!("{list}/{original}{sep}{tail}");
                }
            }
        }
    }
}

/// Appends one reference token to a JSON pointer.
pub fn join(path: &str, token: impl std::fmt::Display) -> String {
    format!("{path}/{}", pointer_token(&token.to_string()))
}

/// Reads the members of one JSON object, remembering which were taken so that
/// [`ObjectReader::finish`] can report the rest as unknown fields.
pub struct ObjectReader<'v> {
    map: &'v Map<String, Value>,
    path: String,
    taken: Vec<&'static str>,
}

impl<'v> ObjectReader<'v> {
    /// `None` (with a problem recorded) when `value` is not an object.
    pub fn new(value: &'v Value, path: &str, what: &str, p: &mut Problems) -> Option<Self> {
        match value {
            Value::Object(map) => Some(ObjectReader { map, path: path.to_string(), taken: Vec::new() }),
            other => {
                p.push(Code::InvalidValue, path, format!("{what} must be a JSON object, found {}", kind(other)));
                None
            }
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn field_path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The raw member, if present (and not null).
    pub fn opt(&mut self, key: &'static str) -> Option<&'v Value> {
        self.taken.push(key);
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn req(&mut self, key: &'static str, p: &mut Problems) -> Option<&'v Value> {
        let v = self.opt(key);
        if v.is_none() {
            self.missing(key, p);
        }
        v
    }

    /// A required field absent, or present as `null` (said so: the field is there).
    fn missing(&self, key: &str, p: &mut Problems) {
        let message = if self.map.contains_key(key) {
            format!("the required field \"{key}\" is null; it needs a value")
        } else {
            format!("the required field \"{key}\" is missing")
        };
        p.push(Code::MissingField, &self.path, message);
    }

    pub fn opt_str(&mut self, key: &'static str, p: &mut Problems) -> Option<String> {
        let v = self.opt(key)?;
        match v.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                p.push(Code::InvalidValue, &self.field_path(key), format!("\"{key}\" must be a string, found {}", kind(v)));
                None
            }
        }
    }

    pub fn req_str(&mut self, key: &'static str, p: &mut Problems) -> Option<String> {
        if self.map.get(key).is_none_or(Value::is_null) {
            self.taken.push(key);
            self.missing(key, p);
            return None;
        }
        self.opt_str(key, p)
    }

    pub fn opt_i64(&mut self, key: &'static str, p: &mut Problems) -> Option<i64> {
        let v = self.opt(key)?;
        match v.as_i64() {
            Some(i) => Some(i),
            None => {
                // A number that is no integer is shown: "found a number" reads as nonsense for 33.5.
                let found = if let Value::Number(n) = v { n.to_string() } else { kind(v).to_string() };
                p.push(Code::InvalidValue, &self.field_path(key), format!("\"{key}\" must be an integer, found {found}"));
                None
            }
        }
    }

    pub fn opt_bool(&mut self, key: &'static str, p: &mut Problems) -> Option<bool> {
        let v = self.opt(key)?;
        match v.as_bool() {
            Some(b) => Some(b),
            None => {
                p.push(Code::InvalidValue, &self.field_path(key), format!("\"{key}\" must be true or false, found {}", kind(v)));
                None
            }
        }
    }

    /// Reads an optional array member, giving each element and its path to `item`.
    pub fn opt_array<T>(
        &mut self,
        key: &'static str,
        p: &mut Problems,
        mut item: impl FnMut(&'v Value, &str, &mut Problems) -> Option<T>,
    ) -> Vec<T> {
        let (mut out, mut kept) = (Vec::new(), Vec::new());
        let mut gap = false;
        self.each(key, p, &mut |v, i, path: &str, p: &mut Problems| match item(v, path, p) {
            Some(x) => {
                out.push(x);
                kept.push(i);
            }
            None => gap = true,
        });
        if gap {
            p.1 .0.push((self.field_path(key), kept));
        }
        out
    }

    /// The loop of [`ObjectReader::opt_array`], compiled once behind a `dyn` callback: as a
    /// generic iterator chain it was instantiated per element type (13 copies in the Wasm).
    /// `dyn Each`, not `dyn FnMut`: the vtable of an `FnMut` also holds an unused `call_once`
    /// shim per closure.
    fn each(&mut self, key: &'static str, p: &mut Problems, item: &mut dyn Each<'v>) {
        let Some(v) = self.opt(key) else { return };
        let path = self.field_path(key);
        match v.as_array() {
            Some(items) => {
                for (i, v) in items.iter().enumerate() {
                    item.each(v, i, &join(&path, i), p);
                }
            }
            None => p.push(Code::InvalidValue, &path, format!("\"{key}\" must be an array, found {}", kind(v))),
        }
    }

    /// Reports every member that was not read, suggesting the closest known name.
    pub fn finish(self, p: &mut Problems) {
        for key in self.map.keys() {
            if self.taken.iter().any(|t| t == key) {
                continue;
            }
            let mut message = format!("unknown field \"{key}\"");
            match suggest(key, self.taken.iter().copied()) {
                Some(s) => message.push_str(&format!("; did you mean \"{s}\"?")),
                None => {
                    let mut known = self.taken.clone();
                    crate::sort::sort_stable_by(&mut known, &mut |a, b| a < b);
                    known.dedup();
                    message.push_str(&format!("; known fields: {}", known.join(", ")));
                }
            }
            p.push(Code::UnknownField, &join(&self.path, key), message);
        }
    }
}

/// The per-element callback of [`ObjectReader::each`].
trait Each<'v> {
    fn each(&mut self, v: &'v Value, index: usize, path: &str, p: &mut Problems);
}

impl<'v, F: FnMut(&'v Value, usize, &str, &mut Problems)> Each<'v> for F {
    fn each(&mut self, v: &'v Value, index: usize, path: &str, p: &mut Problems) {
        self(v, index, path, p);
    }
}

/// The JSON type name of a value, for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_unknown_fields_with_suggestions_and_paths() {
        let v: Value = serde_json::json!({"id": "a", "whn": {}, "zzz": 1});
        let mut p = Problems::default();
        let mut o = ObjectReader::new(&v, "/segments/0", "a segment", &mut p).unwrap();
        assert_eq!(o.req_str("id", &mut p).as_deref(), Some("a"));
        o.opt("when");
        o.finish(&mut p);
        let paths: Vec<_> = p.0.iter().map(|e| (e.path.as_str(), e.message.as_str())).collect();
        assert_eq!(paths[0], ("/segments/0/whn", "unknown field \"whn\"; did you mean \"when\"?"));
        assert_eq!(paths[1].0, "/segments/0/zzz");
    }
}
