//! JSON rule → compiled [`Node`] tree, with every problem reported at once (each with the JSON
//! pointer of the offending place and a message that says what is expected).

use super::coerce::write_js_number;
use super::node::{Arith, Args, Calendar, Cmp, Iter, Key, Node, Op, PathSpec, Tags, TimeArg, TimeFast};
use super::time::{parse_duration, parse_stamp};
use super::Options;
use crate::error::pointer_token;
use crate::value::Value;
use crate::{Code, Error};
use serde_json::Value as Json;

/// Rules nested deeper than this are refused (evaluation recurses once per level).
pub(crate) const MAX_NESTING: usize = 64;

/// Every operator name `compile` accepts.
pub(crate) const OPERATORS: &[&str] = &[
    "var", "val", "exists", "missing", "missing_some", "if", "?:", "and", "or", "!", "!!", "??", "try", "throw", "==", "!=", "===", "!==", "<",
    "<=", ">", ">=", "+", "-", "*", "/", "%", "max", "min", "map", "filter", "reduce", "all", "some", "none", "merge", "cat", "in", "substr",
    "preserve", "starts_with", "ends_with", "now", "ago", "from_now", "days_since", "hours_since", "calendar_days_since", "before", "after", "time_between", "weekday",
    "time_of_day", "month", "day_of_month", "duration", "has_tag", "has_any_tag", "has_all_tags", "in_segment", "fractional", "sem_ver",
];

pub(crate) struct Compiler<'o> {
    opts: &'o Options,
    pub errors: Vec<Error>,
    /// JSON pointer of each node, indexed by `Node::id`.
    pub paths: Vec<Box<str>>,
    /// The source text of each `reduce`/`all`/`some`/`none` node, by id: candidates for sharing
    /// results between rules (see `memo.rs`).
    pub texts: Vec<(u32, String)>,
    ptr: String,
}

/// What a fixed-arity operator accepts.
struct Arity {
    min: usize,
    max: usize,
    /// `{"op": x}` may stand for `{"op": [x]}`.
    shorthand: bool,
}

const fn arity(min: usize, max: usize, shorthand: bool) -> Arity {
    Arity { min, max, shorthand }
}

const MANY: usize = usize::MAX;

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// A number as JavaScript prints it (`1`, not `1.0`), for number path keys.
fn number_key(n: &serde_json::Number) -> String {
    let mut s = String::new();
    match n.as_i64() {
        Some(i) => s.push_str(&i.to_string()),
        None => write_js_number(n.as_f64().unwrap_or(f64::NAN), &mut s),
    }
    s
}

/// A usage example for messages.
fn example(name: &str) -> String {
    let e = match name {
        "if" | "?:" => r#"{"if": [{"has_tag": "vip"}, "gold", "standard"]}"#,
        "and" | "or" => r#"{"and": [{"has_tag": "vip"}, {">": [{"var": "user.attributes.points"}, 100]}]}"#,
        "==" | "!=" | "===" | "!==" => return format!(r#"{{"{name}": [{{"var": "user.attributes.plan"}}, "gold"]}}"#),
        "<" | "<=" | ">" | ">=" => return format!(r#"{{"{name}": [{{"var": "user.attributes.points"}}, 100]}}"#),
        "map" | "filter" | "all" | "some" | "none" => {
            return format!(r#"{{"{name}": [{{"var": "user.purchases"}}, {{">": [{{"var": "amount"}}, 1000]}}]}}"#)
        }
        "reduce" => r#"{"reduce": [{"var": "user.purchases"}, {"+": [{"var": "accumulator"}, {"var": "current.amount"}]}, 0]}"#,
        "in" => r#"{"in": [{"var": "user.attributes.plan"}, ["gold", "platinum"]]}"#,
        "substr" => r#"{"substr": [{"var": "user.displayName"}, 0, 1]}"#,
        "starts_with" | "ends_with" => return format!(r#"{{"{name}": [{{"var": "user.attributes.email"}}, "@example.com"]}}"#),
        "missing_some" => r#"{"missing_some": [1, ["user.attributes.email", "user.attributes.phone"]]}"#,
        "ago" | "from_now" => return format!(r#"{{"{name}": "P30D"}}"#),
        "duration" => r#"{"duration": "PT12H"}"#,
        "days_since" | "hours_since" | "calendar_days_since" => return format!(r#"{{"{name}": [{{"var": "user.attributes.lastPurchaseAt"}}]}}"#),
        "before" | "after" => return format!(r#"{{"{name}": [{{"var": "user.attributes.lastPurchaseAt"}}, {{"ago": "P30D"}}]}}"#),
        "time_between" => r#"{"time_between": [{"now": []}, "2026-12-01", "2026-12-26"]}"#,
        "weekday" | "time_of_day" | "month" | "day_of_month" => return format!(r#"{{"{name}": []}} (now) or {{"{name}": [{{"var": "user.attributes.birthday"}}]}}"#),
        "has_tag" => r#"{"has_tag": "vip"}"#,
        "has_any_tag" | "has_all_tags" => return format!(r#"{{"{name}": ["vip", "repeat"]}}"#),
        "in_segment" => r#"{"in_segment": "repeat-buyers"}"#,
        "sem_ver" => r#"{"sem_ver": [{"var": "event.appVersion"}, ">=", "14.2.0"]}"#,
        "throw" => r#"{"throw": "not eligible"}"#,
        "var" => r#"{"var": "user.attributes.plan"}"#,
        _ => return format!(r#"{{"{name}": [...]}}"#),
    };
    e.to_string()
}

/// Common misspellings and names from other rule languages.
fn alias(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_lowercase().as_str() {
        "equals" | "equal" | "eq" | "=" | "is" => "==",
        "not_equals" | "notequals" | "ne" | "neq" | "<>" => "!=",
        "gt" | "greater" | "greater_than" => ">",
        "gte" | "ge" | "greater_or_equal" | "=>" => ">=",
        "lt" | "less" | "less_than" => "<",
        "lte" | "le" | "less_or_equal" | "=<" => "<=",
        "not" => "!",
        "&&" | "all_of" => "and",
        "||" | "any_of" => "or",
        "contains" | "includes" | "one_of" => "in",
        "concat" | "join" => "cat",
        "add" | "plus" => "+",
        "any" | "some_of" => "some",
        "every" | "each" => "all",
        "tag" | "hastag" | "tagged" => "has_tag",
        "segment" | "insegment" => "in_segment",
        "startswith" => "starts_with",
        "endswith" => "ends_with",
        "semver" => "sem_ver",
        "dayssince" => "days_since",
        "hourssince" => "hours_since",
        "fromnow" => "from_now",
        _ => return None,
    })
}

/// What to write for an operator marketers reach for that JsonLogic spells as an idiom.
fn idiom(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_lowercase().as_str() {
        "count" | "length" | "len" | "size" => {
            "to count a list's items, write {\"reduce\": [{\"var\": \"user.purchases\"}, {\"+\": [{\"var\": \"accumulator\"}, 1]}, 0]} (only some of them: a \"filter\" as its list)"
        }
        "sum" | "total" => {
            "to add up a field of a list's items, write {\"reduce\": [{\"var\": \"user.purchases\"}, {\"+\": [{\"var\": \"accumulator\"}, {\"var\": \"current.amount\"}]}, 0]}; \"+\" adds its own arguments"
        }
        "between" | "range" => "for a range, \"<\" and \"<=\" take three arguments: {\"<=\": [25, {\"days_since\": [{\"var\": \"at\"}]}, 35]}",
        _ => return None,
    })
}

pub(crate) use crate::error::suggest;

impl<'o> Compiler<'o> {
    pub fn new(opts: &'o Options, prefix: &str) -> Self {
        Compiler { opts, errors: Vec::new(), paths: Vec::new(), texts: Vec::new(), ptr: prefix.to_string() }
    }

    fn err(&mut self, code: Code, message: impl Into<String>) {
        self.errors.push(Error::new(code, self.ptr.clone(), message));
    }

    /// `fractional` in a config: a literal bucket that flagd cannot weigh (`["holdout", "10"]`,
    /// a weight written as text) makes the whole split null, a segment that never matches.
    /// flagd's null stays for bare rules (its suite holds them to it).
    fn check_fractional_buckets(&mut self, nodes: &[Node]) {
        for (i, n) in nodes.iter().enumerate() {
            let Op::Lit(v) = &n.op else { continue };
            // The first argument may be the bucketing key (a string) instead of a bucket.
            if i == 0 && !matches!(v, Value::Array(_)) {
                continue;
            }
            if super::flagd::weight(v).is_none() {
                let shown = v.to_json();
                let index = i.to_string();
                self.at("fractional", |c| {
                    c.at(&index, |c| {
                        c.err(
                            Code::InvalidArgument,
                            format!("\"fractional\" takes buckets of a variant name and a number, e.g. [\"holdout\", 10]; {shown} is not one, so the split would always be null"),
                        )
                    })
                });
            }
        }
    }

    /// A literal compared for equality with `weekday`, `month` or `day_of_month` (or listed for
    /// `in`) that none of their values can equal is a typo that would never match: `0` for
    /// Sunday, `"Sat"`, `13`. `path` is asked for only then.
    fn check_calendar_literal(&mut self, (lo, hi, what): CalendarRange, v: &Value, loose: bool, path: impl FnOnce(&Self) -> String) {
        if !matches!(v, Value::Null) && !calendar_value_fits(v, lo, hi, loose) {
            let path = path(self);
            // `"6"`: the number as text, compared strictly; the fix is the number, not the range.
            let text = match v {
                Value::String(s) => s.trim().parse::<i64>().ok().filter(|n| (lo..=hi).contains(n)),
                _ => None,
            };
            let message = match text {
                Some(n) => format!("{} is text and never equals {}, a number: write {n} (without quotes)", v.to_json(), what.split(',').next().unwrap_or(what)),
                None => format!("{} never equals {what}", v.to_json()),
            };
            self.errors.push(Error::new(Code::InvalidArgument, path, message));
        }
    }

    /// The literals compared with a calendar or time operator, checked out of line: the
    /// operator compiler recurses once per nesting level, and its frame is what a deep rule
    /// multiplies (a debug build on Wasm's 1 MiB stack, tests/robustness.rs).
    #[cold]
    #[inline(never)]
    fn check_compared(&mut self, c: Cmp, nodes: &[Node]) {
        // `time_of_day` is "HH:MM", compared as text: "9:00" would sort after "18:00".
        if nodes.iter().any(|n| matches!(n.op, Op::Calendar(Calendar::TimeOfDay, _))) {
            for n in nodes {
                if let Op::Lit(Value::String(t)) = &n.op {
                    if !is_hhmm(t) {
                        self.err(Code::InvalidArgument, format!("\"{t}\" is compared with time_of_day, which is \"HH:MM\" from \"00:00\" to \"24:00\" (two digits each, e.g. \"09:00\")"));
                    }
                }
            }
        }
        // `days_since` and its kin give a number: an ISO duration beside it fails every
        // decision ("cannot compare number … with string").
        if nodes.iter().any(|n| matches!(n.op, Op::Since(..) | Op::CalendarDays(_))) {
            for n in nodes {
                if let Op::Lit(Value::String(t)) = &n.op {
                    if super::time::parse_duration(t).is_some() {
                        let path = self.path_of(n);
                        self.errors.push(Error::new(Code::InvalidArgument, path, format!("\"{t}\" is a duration, and days_since, hours_since and calendar_days_since give a number (of days or hours): compare with the number (7 for \"P7D\"), or write {{\"after\": [time, {{\"ago\": \"{t}\"}}]}}")));
                    }
                }
            }
        }
        let range = nodes.iter().find_map(|n| calendar_range(&n.op));
        if let Some(range) = range.filter(|_| matches!(c, Cmp::Eq | Cmp::Ne | Cmp::StrictEq | Cmp::StrictNe)) {
            for n in nodes {
                if let Op::Lit(v) = &n.op {
                    self.check_calendar_literal(range, v, matches!(c, Cmp::Eq | Cmp::Ne), |c| c.path_of(n));
                }
            }
        }
    }

    /// `in` compares a list's items strictly: `"6"` never equals weekday 6 (out of line, as
    /// [`Compiler::check_compared`]).
    #[cold]
    #[inline(never)]
    fn check_listed(&mut self, a: &Node, b: &Node) {
        if let (Some(range), Op::Lit(Value::Array(items))) = (calendar_range(&a.op), &b.op) {
            for (i, v) in items.iter().enumerate() {
                self.check_calendar_literal(range, v, false, |c| format!("{}/{i}", c.path_of(b)));
            }
        }
    }

    /// The JSON pointer of a compiled node.
    fn path_of(&self, n: &Node) -> String {
        self.paths.get(n.id as usize).map_or_else(|| self.ptr.clone(), |p| p.to_string())
    }

    /// Runs `f` with the pointer extended by `token`.
    fn at<R>(&mut self, token: &str, f: impl FnOnce(&mut Self) -> R) -> R {
        let len = self.enter(token);
        let r = f(self);
        self.ptr.truncate(len);
        r
    }

    fn at_index<R>(&mut self, i: usize, f: impl FnOnce(&mut Self) -> R) -> R {
        self.at(&i.to_string(), f)
    }

    /// Extends the pointer by `token`, returning its old length: out of line, so that the
    /// many instances of `at` (one per result and closure type) share it.
    #[inline(never)]
    fn enter(&mut self, token: &str) -> usize {
        let len = self.ptr.len();
        self.ptr.push('/');
        self.ptr.push_str(&pointer_token(token));
        len
    }

    /// A node for `op` at the current pointer.
    fn make(&mut self, op: Op) -> Node {
        let id = u32::try_from(self.paths.len()).unwrap_or(u32::MAX);
        self.paths.push(self.ptr.as_str().into());
        Node { id, op }
    }

    /// Compiles any JSON rule (operation, array or literal).
    pub fn node(&mut self, v: &Json, depth: usize) -> Node {
        if depth > MAX_NESTING {
            self.err(Code::LimitExceeded, format!("the rule is nested more than {MAX_NESTING} levels deep; split it into segments and combine them with in_segment"));
            return self.make(Op::Lit(Value::Null));
        }
        let op = match v {
            Json::Array(items) => {
                let nodes = self.items(items, depth + 1);
                if nodes.iter().all(|n| matches!(n.op, Op::Lit(_))) {
                    Op::Lit(Value::Array(nodes.into_iter().map(|n| if let Op::Lit(v) = n.op { v } else { Value::Null }).collect()))
                } else {
                    Op::Array(nodes)
                }
            }
            Json::Object(members) => match members.iter().next() {
                None => Op::Lit(Value::Object(Vec::new())),
                Some((name, args)) if members.len() == 1 => self.operator(name, args, depth + 1).unwrap_or(Op::Lit(Value::Null)),
                Some(_) => {
                    let keys: Vec<String> = members.keys().map(|k| format!("\"{k}\"")).collect();
                    self.err(
                        Code::InvalidArgument,
                        format!("an operation is an object with exactly one key, the operator; this one has {}: {}", keys.len(), keys.join(", ")),
                    );
                    Op::Lit(Value::Null)
                }
            },
            scalar => Op::Lit(Value::from_serde(scalar).into_owned()),
        };
        let costly = matches!(op, Op::Reduce(..) | Op::Iter(Iter::All | Iter::Some | Iter::None, ..));
        let node = self.make(op);
        if costly {
            self.texts.push((node.id, crate::value::serde_text(v)));
        }
        node
    }

    /// Compiles array items, each at its index.
    fn items(&mut self, items: &[Json], depth: usize) -> Vec<Node> {
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            out.push(self.at_index(i, |c| c.node(item, depth)));
        }
        out
    }

    fn arity_error(&mut self, name: &str, got: usize, a: &Arity) {
        let need = match (a.min, a.max) {
            (min, max) if min == max => format!("exactly {min} argument{}", if min == 1 { "" } else { "s" }),
            (min, MANY) => format!("at least {min} argument{}", if min == 1 { "" } else { "s" }),
            (0, max) => format!("at most {max} argument{}", if max == 1 { "" } else { "s" }),
            (min, max) => format!("{min} to {max} arguments"),
        };
        self.err(Code::WrongArity, format!("\"{name}\" needs {need}, got {got}; e.g. {}", example(name)));
    }

    /// Compiles the arguments of an operator with `f`, each at its pointer, and checks their
    /// number. `None` after reporting a problem.
    fn fixed<T>(&mut self, name: &str, args: &Json, a: Arity, mut f: impl FnMut(&mut Self, &Json) -> T) -> Option<Vec<T>> {
        let Json::Array(items) = args else {
            if a.shorthand && a.min <= 1 && a.max >= 1 {
                return Some(vec![self.at(name, |c| f(c, args))]);
            }
            self.err(Code::InvalidArgument, format!("\"{name}\" needs its arguments in an array, got {}; e.g. {}", json_kind(args), example(name)));
            return None;
        };
        let out: Vec<T> = self.at(name, |c| items.iter().enumerate().map(|(i, item)| c.at_index(i, |c| f(c, item))).collect());
        if items.len() < a.min || items.len() > a.max {
            self.arity_error(name, items.len(), &a);
            return None;
        }
        Some(out)
    }

    fn nodes(&mut self, name: &str, args: &Json, a: Arity, depth: usize) -> Option<Vec<Node>> {
        self.fixed(name, args, a, |c, j| c.node(j, depth))
    }

    /// Arguments of a variadic operator: a literal array, a literal operand, or an operation
    /// whose value supplies them.
    fn spread(&mut self, name: &str, args: &Json, min: usize, depth: usize) -> Option<Args> {
        match args {
            Json::Object(m) if m.len() == 1 => Some(Args::Spread(Box::new(self.at(name, |c| c.node(args, depth))))),
            _ => {
                let nodes = self.nodes(name, args, arity(min, MANY, true), depth)?;
                Some(Args::List(nodes))
            }
        }
    }

    /// `sem_ver` in a config: exactly `[version, operator, version]`, and a literal operator
    /// one that flagd knows (a typo such as `"=>"` or `">=14.2.0"` as one argument would
    /// otherwise never match, silently).
    fn sem_ver(&mut self, name: &str, args: &Json, d: usize) -> Option<Vec<Node>> {
        use super::flagd::SEM_VER_OPS as OPS;
        let nodes = self.nodes(name, args, arity(3, 3, false), d)?;
        let op = if let Json::Array(items) = args { items.get(1) } else { None };
        let known = match op {
            Some(Json::String(op)) => OPS.contains(&op.as_str()),
            Some(Json::Object(_)) | None => true,
            Some(_) => false,
        };
        if !known {
            let got = op.map(crate::value::serde_text).unwrap_or_default();
            let hint = match op.and_then(Json::as_str).and_then(alias).filter(|h| OPS.contains(h)) {
                Some(h) => format!("did you mean \"{h}\"? "),
                None => String::new(),
            };
            self.at(name, |c| {
                c.at_index(1, |c| c.err(Code::InvalidArgument, format!("\"sem_ver\" has no operator {got}; {hint}it takes one of {}", OPS.map(|o| format!("\"{o}\"")).join(", "))))
            });
            return None;
        }
        Some(nodes)
    }

    /// A literal string argument (`{"op": "x"}` or `{"op": ["x"]}`) and its pointer.
    fn literal_str<'j>(&mut self, name: &str, args: &'j Json, what: &str) -> Option<(&'j str, String)> {
        let (value, token) = match args {
            Json::Array(items) => match items.as_slice() {
                [one] => (one, "/0"),
                _ => {
                    self.arity_error(name, items.len(), &arity(1, 1, true));
                    return None;
                }
            },
            other => (other, ""),
        };
        let path = format!("{}/{}{token}", self.ptr, pointer_token(name));
        match value {
            Json::String(s) => Some((s, path)),
            other => {
                self.errors.push(Error::new(
                    Code::InvalidArgument,
                    path,
                    format!("\"{name}\" needs {what} written as a literal string, got {}; e.g. {}", json_kind(other), example(name)),
                ));
                None
            }
        }
    }

    /// A timestamp operand: literal timestamps are parsed (and checked) now.
    fn time_arg(&mut self, j: &Json, depth: usize) -> TimeArg {
        let node = self.node(j, depth);
        let fast = match &node.op {
            Op::Lit(Value::String(s)) => match parse_stamp(s) {
                Some(stamp) => TimeFast::Stamp(stamp),
                None => {
                    self.err(
                        Code::InvalidTimestamp,
                        format!("\"{s}\" is not a timestamp; write RFC 3339 like \"2026-11-27T20:00:00+09:00\" or a date like \"2026-11-27\" (midnight in the account's time zone)"),
                    );
                    TimeFast::Eval
                }
            },
            // `null` is a missing timestamp (the operator yields null); `{}`, like `[]` or `true`,
            // can never be one and is refused below.
            Op::Lit(Value::Null) => TimeFast::Eval,
            Op::Lit(n @ (Value::Int(_) | Value::Float(_))) if n.as_f64().is_some_and(super::time::Instant::looks_like_seconds) => {
                self.err(Code::InvalidTimestamp, super::time::seconds_hint(&n.to_json()));
                TimeFast::Eval
            }
            Op::Lit(n @ (Value::Int(_) | Value::Float(_))) if n.as_f64().and_then(super::time::Instant::from_millis).is_some() => TimeFast::Eval,
            Op::Lit(other) => {
                self.err(Code::InvalidTimestamp, format!("a timestamp must be a string like \"2026-11-27T20:00:00+09:00\" or epoch milliseconds, got {}", other.kind()));
                TimeFast::Eval
            }
            Op::Now => TimeFast::Now,
            Op::Shift(sign, d) => TimeFast::Shift(*sign, *d),
            _ => TimeFast::Eval,
        };
        TimeArg { node, fast }
    }

    fn var_path(&mut self, p: Option<&Json>, depth: usize) -> Option<PathSpec> {
        let keys = |s: &str| -> Box<[Key]> {
            if s.is_empty() {
                Box::new([])
            } else {
                s.split('.').map(Key::new).collect()
            }
        };
        match p {
            None | Some(Json::Null) => Some(PathSpec::Static { climb: 0, keys: Box::new([]) }),
            Some(Json::String(s)) => Some(PathSpec::Static { climb: 0, keys: keys(s) }),
            Some(Json::Number(n)) => Some(PathSpec::Static { climb: 0, keys: keys(&number_key(n)) }),
            Some(j @ Json::Object(_)) => Some(PathSpec::Dynamic(Box::new(self.node(j, depth)))),
            Some(other) => {
                self.err(Code::InvalidArgument, format!("\"var\" needs a path such as \"user.attributes.plan\" (dots separate keys), got {}", json_kind(other)));
                None
            }
        }
    }

    fn var(&mut self, args: &Json, depth: usize) -> Option<Op> {
        let (path, default) = match args {
            Json::Array(items) => match items.as_slice() {
                [] => (Some(PathSpec::Static { climb: 0, keys: Box::new([]) }), None),
                [p] => (self.at("var", |c| c.at_index(0, |c| c.var_path(Some(p), depth))), None),
                [p, d] => (
                    self.at("var", |c| c.at_index(0, |c| c.var_path(Some(p), depth))),
                    Some(Box::new(self.at("var", |c| c.at_index(1, |c| c.node(d, depth))))),
                ),
                _ => {
                    self.arity_error("var", items.len(), &arity(0, 2, true));
                    return None;
                }
            },
            other => (self.at("var", |c| c.var_path(Some(other), depth)), None),
        };
        Some(Op::Var { path: path?, default })
    }

    /// `val`/`exists` paths: a key, or `[[climb]?, key, …]` with keys taken verbatim.
    fn val_path(&mut self, name: &str, args: &Json, depth: usize) -> Option<PathSpec> {
        let key = |j: &Json| -> Option<Option<Key>> {
            match j {
                Json::String(s) => Some(Some(Key::new(s))),
                Json::Number(n) => Some(Some(Key::new(&number_key(n)))),
                Json::Null => Some(None),
                _ => None,
            }
        };
        let static_path = match args {
            Json::Null => Some((0, Vec::new())),
            Json::String(_) | Json::Number(_) => key(args).map(|k| (0, k.into_iter().collect())),
            Json::Array(items) => {
                let (climb, rest) = match items.split_first() {
                    Some((Json::Array(c), rest)) => match c.as_slice() {
                        [Json::Number(n)] => (Some(n.as_f64().unwrap_or(0.0).abs().min(1e6) as usize), rest),
                        _ => (None, rest),
                    },
                    _ => (Some(0), items.as_slice()),
                };
                let keys: Option<Vec<Option<Key>>> = rest.iter().map(key).collect();
                climb.zip(keys).map(|(climb, keys)| (climb, keys.into_iter().flatten().collect()))
            }
            Json::Bool(_) => {
                self.err(Code::InvalidArgument, format!("\"{name}\" needs a key or an array of keys, got a boolean"));
                return None;
            }
            Json::Object(_) => None,
        };
        Some(match static_path {
            Some((climb, keys)) => PathSpec::Static { climb, keys: keys.into_boxed_slice() },
            None => PathSpec::Dynamic(Box::new(self.at(name, |c| c.node(args, depth)))),
        })
    }

    fn tag_list(&mut self, name: &str, args: &Json) -> Option<Box<[Box<str>]>> {
        let path = format!("{}/{}", self.ptr, pointer_token(name));
        let tags: Option<Vec<Box<str>>> = match args {
            // An empty name is refused in either form, as by `has_tag`.
            Json::String(s) if !s.is_empty() => Some(vec![s.as_str().into()]),
            Json::Array(items) if !items.is_empty() => items.iter().map(|t| t.as_str().filter(|s| !s.is_empty()).map(Into::into)).collect(),
            _ => None,
        };
        if tags.is_none() {
            self.errors.push(Error::new(Code::InvalidArgument, path, format!("\"{name}\" needs a non-empty array of tag names, e.g. {}", example(name))));
        }
        tags.map(Vec::into_boxed_slice)
    }

    fn iterator(&mut self, name: &str, kind: Option<Iter>, args: &Json, depth: usize) -> Option<Op> {
        let a = if kind.is_some() { arity(2, 2, false) } else { arity(2, 3, false) };
        let nodes = self.nodes(name, args, a, depth)?;
        if let Json::Array(items) = args {
            if let Some(list @ (Json::Null | Json::Bool(_) | Json::Number(_) | Json::String(_))) = items.first() {
                let msg = format!("\"{name}\" needs an array to go through, got {}; e.g. {}", json_kind(list), example(name));
                self.at(name, |c| c.at_index(0, |c| c.err(Code::InvalidArgument, msg)));
                return None;
            }
            // json-logic-engine rejects a null body for map/filter/reduce (all/some/none accept it).
            if matches!(kind, Some(Iter::Map | Iter::Filter) | None) && matches!(items.get(1), Some(Json::Null)) {
                let msg = format!("\"{name}\" needs an expression to apply to each item, got null; e.g. {}", example(name));
                self.at(name, |c| c.at_index(1, |c| c.err(Code::InvalidArgument, msg)));
                return None;
            }
        }
        let mut it = nodes.into_iter().map(Box::new);
        let (list, body) = (it.next()?, it.next()?);
        Some(match kind {
            Some(k) => Op::Iter(k, list, body),
            None => Op::Reduce(list, body, it.next()),
        })
    }

    fn operator(&mut self, name: &str, args: &Json, depth: usize) -> Option<Op> {
        let d = depth;
        let one = |nodes: Vec<Node>| nodes.into_iter().next().map(Box::new);
        let two = |nodes: Vec<Node>| {
            let mut it = nodes.into_iter().map(Box::new);
            Some((it.next()?, it.next()?))
        };
        Some(match name {
            "var" => return self.var(args, d),
            "val" => Op::Val(self.val_path(name, args, d)?),
            "exists" => Op::Exists(self.val_path(name, args, d)?),
            "missing" => Op::Missing(self.spread(name, args, 0, d)?),
            "missing_some" => {
                let (need, keys) = two(self.nodes(name, args, arity(2, 2, false), d)?)?;
                Op::MissingSome(need, keys)
            }
            "preserve" => Op::Lit(Value::from_serde(args).into_owned()),
            "if" | "?:" => Op::If(self.nodes(name, args, arity(0, MANY, false), d)?),
            "and" => Op::And(self.nodes(name, args, arity(0, MANY, false), d)?),
            "or" => Op::Or(self.nodes(name, args, arity(0, MANY, false), d)?),
            "!" | "!!" => {
                let nodes = self.nodes(name, args, arity(0, 1, true), d)?;
                let operand = match one(nodes) {
                    Some(n) => n,
                    None => Box::new(self.at(name, |c| c.make(Op::Lit(Value::Null)))),
                };
                if name == "!" {
                    Op::Not(operand)
                } else {
                    Op::Truthy(operand)
                }
            }
            "??" => Op::Coalesce(self.nodes(name, args, arity(0, MANY, true), d)?),
            "try" => Op::Try(self.nodes(name, args, arity(0, MANY, true), d)?),
            "throw" => Op::Throw(one(self.nodes(name, args, arity(1, 1, true), d)?)?),
            "==" | "!=" | "===" | "!==" | "<" | "<=" | ">" | ">=" => {
                let c = match name {
                    "==" => Cmp::Eq,
                    "!=" => Cmp::Ne,
                    "===" => Cmp::StrictEq,
                    "!==" => Cmp::StrictNe,
                    "<" => Cmp::Lt,
                    "<=" => Cmp::Le,
                    ">" => Cmp::Gt,
                    _ => Cmp::Ge,
                };
                let nodes = self.nodes(name, args, arity(2, MANY, false), d)?;
                self.check_compared(c, &nodes);
                Op::Compare(c, nodes)
            }
            "+" | "-" | "*" | "/" | "%" | "max" | "min" => {
                let (a, min) = match name {
                    "+" => (Arith::Add, 0),
                    "*" => (Arith::Mul, 0),
                    "-" => (Arith::Sub, 1),
                    "/" => (Arith::Div, 1),
                    "%" => (Arith::Mod, 2),
                    "max" => (Arith::Max, 1),
                    _ => (Arith::Min, 1),
                };
                Op::Arith(a, self.spread(name, args, min, d)?)
            }
            "map" => return self.iterator(name, Some(Iter::Map), args, d),
            "filter" => return self.iterator(name, Some(Iter::Filter), args, d),
            "all" => return self.iterator(name, Some(Iter::All), args, d),
            "some" => return self.iterator(name, Some(Iter::Some), args, d),
            "none" => return self.iterator(name, Some(Iter::None), args, d),
            "reduce" => return self.iterator(name, None, args, d),
            "merge" => Op::Merge(self.spread(name, args, 0, d)?),
            "cat" => Op::Cat(self.spread(name, args, 0, d)?),
            "in" => {
                let (a, b) = two(self.nodes(name, args, arity(2, 2, false), d)?)?;
                self.check_listed(&a, &b);
                Op::In(a, b)
            }
            "substr" => Op::Substr(self.nodes(name, args, arity(2, 3, false), d)?),
            "starts_with" | "ends_with" => {
                let (a, b) = two(self.nodes(name, args, arity(2, 2, false), d)?)?;
                if name == "starts_with" {
                    Op::StartsWith(a, b)
                } else {
                    Op::EndsWith(a, b)
                }
            }
            // -- time --
            "now" => match args {
                Json::Null => Op::Now,
                Json::Array(items) if items.is_empty() => Op::Now,
                _ => {
                    self.err(Code::WrongArity, r#""now" takes no arguments: {"now": []}"#);
                    return None;
                }
            },
            "ago" | "from_now" | "duration" => {
                let (text, path) = self.literal_str(name, args, "an ISO 8601 duration")?;
                let Some(dur) = parse_duration(text) else {
                    let message = if super::time::duration_out_of_range(text) {
                        format!("\"{text}\" is longer than a duration kizuna takes (at most 10,000 years)")
                    } else {
                        format!("\"{text}\" is not an ISO 8601 duration; write e.g. \"P30D\" (30 days), \"PT12H\" (12 hours), \"P2W\" (2 weeks) or \"P1Y2M10DT2H30M\"")
                    };
                    self.errors.push(Error::new(Code::InvalidDuration, path, message));
                    return None;
                };
                match name {
                    "ago" => Op::Shift(-1, dur),
                    "from_now" => Op::Shift(1, dur),
                    _ if dur.months != 0 => {
                        self.errors.push(Error::new(
                            Code::InvalidDuration,
                            path,
                            format!("\"{text}\" has years or months, which have no fixed length in seconds; use days or weeks, e.g. \"P365D\""),
                        ));
                        return None;
                    }
                    _ => Op::Duration(dur.nanos as f64 / 1e9),
                }
            }
            "days_since" | "hours_since" => {
                let t = self.fixed(name, args, arity(1, 1, true), |c, j| c.time_arg(j, d))?.into_iter().next()?;
                Op::Since(if name == "days_since" { 86_400e9 } else { 3_600e9 }, Box::new(t))
            }
            "calendar_days_since" => {
                let t = self.fixed(name, args, arity(1, 1, true), |c, j| c.time_arg(j, d))?.into_iter().next()?;
                Op::CalendarDays(Box::new(t))
            }
            "before" | "after" => {
                let mut it = self.fixed(name, args, arity(2, 2, false), |c, j| c.time_arg(j, d))?.into_iter().map(Box::new);
                Op::Before(name == "before", it.next()?, it.next()?)
            }
            "time_between" => {
                let v = self.fixed(name, args, arity(3, 3, false), |c, j| c.time_arg(j, d))?;
                Op::TimeBetween(Box::new(<[TimeArg; 3]>::try_from(v).ok()?))
            }
            "weekday" | "time_of_day" | "month" | "day_of_month" => {
                let field = match name {
                    "weekday" => Calendar::Weekday,
                    "time_of_day" => Calendar::TimeOfDay,
                    "month" => Calendar::Month,
                    _ => Calendar::DayOfMonth,
                };
                let t = self.fixed(name, args, arity(0, 1, true), |c, j| c.time_arg(j, d))?.into_iter().next();
                Op::Calendar(field, t.map(Box::new))
            }
            // -- marketing --
            "has_tag" => {
                let (tag, path) = self.literal_str(name, args, "a tag name")?;
                if tag.is_empty() {
                    self.errors.push(Error::new(Code::InvalidArgument, path, r#""has_tag" needs a non-empty tag name, e.g. {"has_tag": "vip"}"#));
                    return None;
                }
                Op::Tags(Tags::One, Box::new([tag.into()]))
            }
            "has_any_tag" => Op::Tags(Tags::Any, self.tag_list(name, args)?),
            "has_all_tags" => Op::Tags(Tags::All, self.tag_list(name, args)?),
            "in_segment" => {
                let (id, path) = self.literal_str(name, args, "a segment id")?;
                match self.opts.segment_index(id) {
                    Some(i) => Op::InSegment(i, id.into()),
                    // Its own errors say what is wrong with it.
                    None if self.opts.is_unread(id) => return None,
                    None => {
                        let hint = match suggest(id, self.opts.segments.iter().map(String::as_str)) {
                            Some(s) => format!("; did you mean \"{s}\"?"),
                            None if self.opts.segments.is_empty() => "; no segments are defined".to_string(),
                            None => {
                                let mut known: Vec<String> = Vec::new();
                                for s in self.opts.segments.iter().map(|s| format!("\"{s}\"")) {
                                    if !known.contains(&s) {
                                        known.push(s);
                                    }
                                }
                                known.truncate(10);
                                format!("; known segments: {}{}", known.join(", "), if self.opts.segments.len() > 10 { ", ..." } else { "" })
                            }
                        };
                        // A segment whose own id is refused is likely the one meant: say so, as
                        // this error may be listed before that one (errors go by path).
                        let invalid = self.opts.segments.iter().find(|s| !crate::contract::config::valid_id(s));
                        let root = invalid.map_or(String::new(), |s| format!(" (the id \"{s}\" is not valid: see its own error)"));
                        self.errors.push(Error::new(Code::UnknownSegment, path, format!("unknown segment \"{id}\"{hint}{root}")));
                        return None;
                    }
                }
            }
            // flagd's operators validate nothing up front: malformed input yields null, as in flagd.
            "fractional" => {
                let nodes = self.nodes(name, args, arity(0, MANY, true), d)?;
                if self.opts.config {
                    self.check_fractional_buckets(&nodes);
                }
                Op::Fractional(nodes)
            }
            "sem_ver" if self.opts.config => Op::SemVer(self.sem_ver(name, args, d)?),
            "sem_ver" => Op::SemVer(self.nodes(name, args, arity(0, MANY, true), d)?),
            _ => {
                let hint = alias(name).or_else(|| suggest(name, OPERATORS.iter().copied()));
                self.err(
                    Code::UnknownOperator,
                    match (idiom(name), hint) {
                        (Some(write), _) => format!("unknown operator \"{name}\"; {write}"),
                        (None, Some(h)) => format!("unknown operator \"{name}\"; did you mean \"{h}\"?"),
                        (None, None) => format!("unknown operator \"{name}\"; see the list of operators in the README (e.g. \"==\", \"and\", \"in\", \"has_tag\", \"days_since\")"),
                    },
                );
                // Still look inside, so that every problem is reported at once.
                if let Json::Array(items) = args {
                    self.at(name, |c| c.items(items, d));
                } else if args.is_object() {
                    self.at(name, |c| c.node(args, d));
                }
                return None;
            }
        })
    }
}

/// The least and greatest value of a calendar operator, and how to name them in a message.
type CalendarRange = (i64, i64, &'static str);

/// The values `weekday`, `month` and `day_of_month` give, and how to name one in a message.
fn calendar_range(op: &Op) -> Option<CalendarRange> {
    let Op::Calendar(field, _) = op else { return None };
    match field {
        Calendar::Weekday => Some((1, 7, "weekday, which is 1 (Monday) to 7 (Sunday) as in ISO 8601 (Sunday is 7, not 0 as in JavaScript's getDay); e.g. {\"in\": [{\"weekday\": []}, [6, 7]]} for weekends")),
        Calendar::Month => Some((1, 12, "month, which is 1 (January) to 12 (December), not from 0 as in JavaScript's getMonth")),
        Calendar::DayOfMonth => Some((1, 31, "day_of_month, which is 1 to 31")),
        Calendar::TimeOfDay => None,
    }
}

/// A literal that `weekday`, `month` or `day_of_month` can equal: an integer in `lo..=hi`, or
/// (`loose`, JsonLogic's `==`) a string of one.
fn calendar_value_fits(v: &Value<'_>, lo: i64, hi: i64, loose: bool) -> bool {
    let n = match v {
        Value::Int(i) => Some(*i),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e9 => Some(*f as i64),
        Value::String(s) if loose => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    n.is_some_and(|n| (lo..=hi).contains(&n))
}

/// A time of day as `time_of_day` writes it, "00:00" to "23:59", or "24:00" as an upper bound.
fn is_hhmm(t: &str) -> bool {
    let b = t.as_bytes();
    let two = |i: usize| Some(u32::from(b.get(i)?.checked_sub(b'0').filter(|d| *d <= 9)?) * 10 + u32::from(b.get(i + 1)?.checked_sub(b'0').filter(|d| *d <= 9)?));
    match (b.len(), b.get(2), two(0), two(3)) {
        (5, Some(b':'), Some(h), Some(m)) => (h < 24 && m < 60) || (h == 24 && m == 0),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("has_tags", OPERATORS.iter().copied()), Some("has_tag"));
        assert_eq!(suggest("in_segmnet", OPERATORS.iter().copied()), Some("in_segment"));
        assert_eq!(suggest("xyzzy", OPERATORS.iter().copied()), None);
        assert_eq!(alias("equals"), Some("=="));
    }
}

