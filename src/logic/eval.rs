//! Evaluation of compiled rules against a [`Value`] document.
//!
//! Results are `Cow`s: `var` and literals come back borrowed (no copy of the data), computed
//! values owned. [`Node::truth`] is the allocation-free path used by `Rule::matches`.

use super::coerce::{describe, js_string, loose_cmp, loose_eq, num_value, strict_eq, to_number, truthy, write_js_string};
use super::flagd;
use super::node::{array_index, Arith, Args, Calendar, Cmp, Iter, Key, Node, Op, PathSpec, Tags, TimeArg, TimeFast};
use super::time::{format_rfc3339, in_rfc3339_years, parse_stamp, shift, Instant};
use super::{Env, Memo};
use crate::value::{same_str, Value};
use crate::Code;
use std::borrow::Cow;
use std::cmp::Ordering;

/// What evaluating one node yields.
pub(crate) type Out<'x, 'a> = Result<Cow<'x, Value<'a>>, EvalError>;

/// Why an evaluation failed, in JsonLogic's terms.
#[derive(Clone, Debug, PartialEq)]
pub enum FailKind {
    /// Arithmetic or a comparison met something that is not a number (JsonLogic's `NaN` error):
    /// `{"+": ["Hey", 1]}`, division by zero, `{"<": [1, "A"]}`.
    NaN,
    /// An operator got arguments it cannot use at run time: `{"all": [{"var": "missing"}, …]}`.
    InvalidArguments,
    /// A timestamp in the data is not RFC 3339.
    InvalidTimestamp,
    /// `{"throw": …}`: the error object (`{"type": …}`) that `try` hands to its fallback.
    Thrown(Value<'static>),
    /// The evaluation went over [`MAX_WORK`] or built a value deeper than [`MAX_VALUE_DEPTH`].
    LimitExceeded,
}

/// An evaluation error: its kind, a message for people, and the sub-rule that raised it.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalError(Box<Failure>);

#[derive(Clone, Debug, PartialEq)]
struct Failure {
    kind: FailKind,
    message: String,
    node: u32,
}

impl EvalError {
    pub fn kind(&self) -> &FailKind {
        &self.0.kind
    }

    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Index of the failing node in the rule's pointer table.
    pub(crate) fn node(&self) -> u32 {
        self.0.node
    }

    /// The error object JsonLogic exposes (to `try` fallbacks): `{"type": "NaN"}`,
    /// `{"type": "Invalid Arguments"}`, or what `throw` threw.
    pub fn error_object(&self) -> Value<'static> {
        let ty = match &self.0.kind {
            FailKind::Thrown(v) => return v.clone(),
            FailKind::NaN => "NaN",
            FailKind::InvalidArguments => "Invalid Arguments",
            FailKind::InvalidTimestamp => "Invalid Timestamp",
            FailKind::LimitExceeded => "Limit Exceeded",
        };
        Value::Object(vec![(Cow::Borrowed("type"), Value::String(Cow::Borrowed(ty)))])
    }

    /// The error's `type` as text (`"NaN"`, `"Invalid Arguments"`, a thrown string).
    pub fn error_type(&self) -> String {
        match self.error_object().get("type") {
            Some(Value::String(s)) => s.to_string(),
            Some(other) => other.to_json(),
            None => String::new(),
        }
    }

    pub fn code(&self) -> Code {
        match self.0.kind {
            FailKind::InvalidTimestamp => Code::InvalidTimestamp,
            FailKind::LimitExceeded => Code::LimitExceeded,
            _ => Code::EvaluationFailed,
        }
    }
}

/// An error not yet tied to a node (helpers raise these; the operator's node adds itself).
pub(crate) struct Fault {
    kind: FailKind,
    message: String,
}

impl Fault {
    pub fn new(kind: FailKind, message: impl Into<String>) -> Fault {
        Fault { kind, message: message.into() }
    }

    pub fn at(self, node: &Node) -> EvalError {
        EvalError(Box::new(Failure { kind: self.kind, message: self.message, node: node.id }))
    }
}

/// One evaluation's context: the environment plus what is derived from it, once per call and
/// only when a rule needs it.
pub(crate) struct Cx<'e> {
    pub env: &'e Env<'e>,
    now: std::cell::Cell<Option<Instant>>,
    /// The last `ago`/`from_now` operand computed, by node id: inside an iterator body the same
    /// literal shift would otherwise redo its calendar math for every item.
    shifted: std::cell::Cell<Option<(u32, Instant)>>,
    /// The rule's memo slots by node id, and the decision's memo (see `share_results`).
    memo: Option<(&'e [u32], &'e Memo)>,
    /// Work done so far (see [`MAX_WORK`]).
    work: std::cell::Cell<u64>,
}

/// The work one evaluation may do: items visited by iterators and `reduce`, plus the size of
/// what `map` and `reduce` build. A rule's text is small, but iterators multiply (64 nested
/// `map`s over two items are 2^64 steps) and `reduce` feeds its result back (an accumulator
/// that doubles reaches 2^n bytes after n items): in Wasm either hangs or traps the instance.
/// Real segment rules stay far below (a `reduce` over a few hundred purchases).
pub(crate) const MAX_WORK: u64 = 1 << 20;

/// The deepest value `reduce` may build. Data and literals nest at most
/// [`crate::value::MAX_DEPTH`] levels; an accumulator wrapped in an array at every step would
/// otherwise nest as deep as the list is long, and copying or dropping it recurses once per
/// level (10,000 levels overflow Wasm's 1 MiB stack). Twice the parser's limit leaves room
/// for rules that wrap data.
pub(crate) const MAX_VALUE_DEPTH: usize = 2 * crate::value::MAX_DEPTH;

impl<'e> Cx<'e> {
    pub fn new(env: &'e Env<'e>) -> Self {
        Cx { env, now: std::cell::Cell::new(None), shifted: std::cell::Cell::new(None), memo: None, work: std::cell::Cell::new(0) }
    }

    pub fn with_memo(env: &'e Env<'e>, slots: &'e [u32], memo: &'e Memo) -> Self {
        Cx { memo: (!slots.is_empty()).then_some((slots, memo)), ..Cx::new(env) }
    }

    /// Counts `units` of work, failing once the evaluation has done more than [`MAX_WORK`]
    /// (and at every later step, so `try` cannot restart the count).
    fn spend(&self, units: u64) -> Result<(), Fault> {
        let work = self.work.get().saturating_add(units);
        self.work.set(work);
        if work > MAX_WORK {
            return Err(Fault::new(
                FailKind::LimitExceeded,
                format!("the rule does too much work (over {MAX_WORK} steps of map/filter/reduce/all/some/none, or as many bytes built); iterators nest or reduce grows its accumulator too much"),
            ));
        }
        Ok(())
    }

    /// [`Cx::spend`] for a value just built: its size, found without recursion; fails, too,
    /// when it nests deeper than [`MAX_VALUE_DEPTH`].
    fn spend_on(&self, v: &Value) -> Result<(), Fault> {
        let (size, depth) = match v {
            Value::String(s) => (s.len() as u64 + 1, 0),
            Value::Array(_) | Value::Object(_) => measure(v),
            _ => (1, 0),
        };
        if depth > MAX_VALUE_DEPTH {
            return Err(Fault::new(FailKind::LimitExceeded, format!("the rule built a value nested more than {MAX_VALUE_DEPTH} levels deep")));
        }
        self.spend(size)
    }

    /// `node`'s memo slot in this evaluation, if its result is shared.
    fn slot(&self, node: &Node) -> Option<(u32, &Memo)> {
        let (slots, memo) = self.memo?;
        let slot = *slots.get(node.id as usize)?;
        (slot != u32::MAX).then_some((slot, memo))
    }

    /// `env.now` as an [`Instant`] (chrono's conversion is not free, so it is cached).
    pub fn now(&self) -> Instant {
        match self.now.get() {
            Some(t) => t,
            None => {
                let t = Instant::of(&self.env.now);
                self.now.set(Some(t));
                t
            }
        }
    }
}

/// Size (values plus string bytes) and depth of a value, with an explicit stack: the value
/// may be deeper than the call stack allows. Stops counting past [`MAX_VALUE_DEPTH`] (the
/// caller refuses the value anyway).
fn measure(v: &Value) -> (u64, usize) {
    let mut size = 0u64;
    let mut deepest = 0;
    let mut stack = vec![(v, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        size = size.saturating_add(1);
        deepest = deepest.max(depth);
        if depth > MAX_VALUE_DEPTH {
            break;
        }
        match v {
            Value::String(s) => size = size.saturating_add(s.len() as u64),
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
            Value::Object(members) => {
                for (k, m) in members {
                    size = size.saturating_add(k.len() as u64);
                    stack.push((m, depth + 1));
                }
            }
            _ => {}
        }
    }
    (size, deepest)
}

/// The data a scope reads: a document or array item, or `reduce`'s `{accumulator, current}`
/// (kept apart so that no object is built per step).
#[derive(Clone, Copy)]
pub(crate) enum Here<'x, 'a> {
    Data(&'x Value<'a>),
    Reduce { acc: &'x Value<'a>, cur: &'x Value<'a> },
}

/// One level of the scope chain: the root document, an iterator item (with its index), or a
/// `try` fallback's error object. `val`'s `[[n], …]` climbs it.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'p, 'x, 'a> {
    pub here: Here<'x, 'a>,
    pub index: Option<usize>,
    pub root: &'x Value<'a>,
    pub parent: Option<&'p Scope<'p, 'x, 'a>>,
}

impl<'p, 'x, 'a> Scope<'p, 'x, 'a> {
    pub fn root(data: &'x Value<'a>) -> Self {
        Scope { here: Here::Data(data), index: None, root: data, parent: None }
    }
}

/// A path key borrowed from the compiled rule or from a computed string.
#[derive(Clone, Copy)]
pub(crate) struct KeyRef<'k> {
    name: &'k str,
    index: Option<usize>,
}

impl<'k> From<&'k Key> for KeyRef<'k> {
    fn from(k: &'k Key) -> Self {
        KeyRef { name: &k.name, index: k.index }
    }
}

impl<'k> KeyRef<'k> {
    fn parse(name: &'k str) -> Self {
        KeyRef { name, index: array_index(name) }
    }
}

#[inline]
fn step<'x, 'a>(v: &'x Value<'a>, k: KeyRef) -> Option<&'x Value<'a>> {
    match v {
        // Last duplicate wins, as in `JSON.parse`.
        Value::Object(members) => members.iter().rev().find(|(n, _)| same_str(n, k.name)).map(|(_, v)| v),
        Value::Array(items) => items.get(k.index?),
        _ => None,
    }
}

/// Follows compiled keys from a document value (the common case, kept tight).
#[inline]
fn walk<'x, 'a>(mut v: &'x Value<'a>, keys: &[Key]) -> Option<&'x Value<'a>> {
    for k in keys {
        v = step(v, KeyRef::from(k))?;
    }
    Some(v)
}

/// Follows `keys` from `here`; `None` when a key is absent (a present `null` is `Some`).
fn lookup<'x, 'a, 'k>(here: Here<'x, 'a>, keys: impl IntoIterator<Item = KeyRef<'k>>) -> Option<Cow<'x, Value<'a>>> {
    let mut keys = keys.into_iter();
    let mut cur: &'x Value<'a> = match here {
        Here::Data(v) => v,
        Here::Reduce { acc, cur } => match keys.next() {
            None => {
                return Some(Cow::Owned(Value::Object(vec![
                    (Cow::Borrowed("accumulator"), acc.clone()),
                    (Cow::Borrowed("current"), cur.clone()),
                ])))
            }
            Some(k) if same_str(k.name, "accumulator") => acc,
            Some(k) if same_str(k.name, "current") => cur,
            Some(_) => return None,
        },
    };
    for k in keys {
        cur = step(cur, k)?;
    }
    Some(Cow::Borrowed(cur))
}

/// `var` with a computed path: `null`/`""` is the whole scope, strings are dotted paths.
fn var_dynamic<'x, 'a>(here: Here<'x, 'a>, key: &Value) -> Option<Cow<'x, Value<'a>>> {
    match key {
        Value::Null => lookup(here, []),
        Value::String(s) if s.is_empty() => lookup(here, []),
        Value::String(s) => lookup(here, s.split('.').map(KeyRef::parse)),
        Value::Int(_) | Value::Float(_) => {
            let s = js_string(key);
            lookup(here, s.split('.').map(KeyRef::parse))
        }
        Value::Array(items) => items.first().and_then(|k| if matches!(k, Value::Array(_)) { None } else { var_dynamic(here, k) }),
        _ => None,
    }
}

/// `val` lookup: climb `climb` levels (odd levels are iteration frames, which hold `index`),
/// then follow `keys` without splitting them.
fn val_lookup<'x, 'a, 'k>(sc: &Scope<'_, 'x, 'a>, climb: usize, keys: impl IntoIterator<Item = KeyRef<'k>>) -> Option<Cow<'x, Value<'a>>> {
    let mut s = sc;
    for _ in 0..climb / 2 {
        s = s.parent?;
    }
    if climb % 2 == 1 {
        let i = s.index? as i64;
        let mut keys = keys.into_iter();
        return match (keys.next(), keys.next()) {
            (None, _) => Some(Cow::Owned(Value::Object(vec![(Cow::Borrowed("index"), Value::Int(i))]))),
            (Some(k), None) if k.name == "index" => Some(Cow::Owned(Value::Int(i))),
            _ => None,
        };
    }
    lookup(s.here, keys)
}

/// `val` with a computed argument: a key, or an array `[[climb]?, key…]` (`null` keys skipped).
fn val_dynamic<'x, 'a>(sc: &Scope<'_, 'x, 'a>, arg: &Value) -> Option<Cow<'x, Value<'a>>> {
    match arg {
        Value::Null => val_lookup(sc, 0, []),
        Value::String(s) => val_lookup(sc, 0, [KeyRef::parse(s)]),
        Value::Int(_) | Value::Float(_) => {
            let s = js_string(arg);
            val_lookup(sc, 0, [KeyRef::parse(&s)])
        }
        Value::Array(items) => {
            let (climb, rest) = match items.split_first() {
                Some((Value::Array(c), rest)) => match c.as_slice() {
                    [n] => (to_number(n).abs() as usize, rest),
                    _ => return None,
                },
                _ => (0, items.as_slice()),
            };
            let mut names = Vec::with_capacity(rest.len());
            for k in rest {
                match k {
                    Value::Null => {}
                    Value::String(_) | Value::Int(_) | Value::Float(_) => names.push(js_string(k)),
                    _ => return None,
                }
            }
            val_lookup(sc, climb, names.iter().map(|n| KeyRef::parse(n)))
        }
        _ => None,
    }
}

/// `missing`: a key is missing when absent, `null` or `""`.
fn is_missing(here: Here, key: &Value) -> bool {
    match var_dynamic(here, key) {
        None => true,
        Some(v) => matches!(&*v, Value::Null) || matches!(&*v, Value::String(s) if s.is_empty()),
    }
}

fn null<'x, 'a>() -> Cow<'x, Value<'a>> {
    Cow::Owned(Value::Null)
}

fn boolean<'x, 'a>(b: bool) -> Cow<'x, Value<'a>> {
    Cow::Owned(Value::Bool(b))
}

fn invalid(message: impl Into<String>) -> Fault {
    Fault::new(FailKind::InvalidArguments, message)
}

/// The list an iterator or `reduce` walks: the value of the list expression or, when that is a
/// `filter` over data, references to the items the filter keeps, so that they are not copied.
enum Items<'x, 'a> {
    Value(Cow<'x, Value<'a>>),
    Kept(Vec<&'x Value<'a>>),
}

fn list_items<'x, 'a>(list: &'x Node, sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Result<Items<'x, 'a>, EvalError> {
    let Op::Iter(Iter::Filter, source, body) = &list.op else { return Ok(Items::Value(list.operand(sc, cx)?)) };
    let scope = |i: usize, item| Scope { here: Here::Data(item), index: Some(i), root: sc.root, parent: Some(sc) };
    // The same steps and errors as `filter` itself (see `Node::iterate`).
    let not_array = |other: &Value| invalid(format!("\"{}\" needs an array, got {}", list.name(), describe(other))).at(list);
    let (values, kept): (&[Value<'a>], Vec<&'x Value<'a>>) = match list_items(source, sc, cx)? {
        Items::Value(Cow::Owned(v)) => {
            // A computed list: keep what the filter keeps by moving the items.
            let all = match v {
                Value::Array(items) => items,
                Value::Null => Vec::new(),
                other => return Err(not_array(&other)),
            };
            cx.spend(all.len() as u64).map_err(|f| f.at(list))?;
            let mut keep = Vec::with_capacity(all.len());
            for (i, item) in all.iter().enumerate() {
                let s = Scope { here: Here::Data(item), index: Some(i), root: sc.root, parent: Some(sc) };
                keep.push(body.truth(&s, cx)?);
            }
            let mut keep = keep.into_iter();
            let out = all.into_iter().filter(|_| keep.next().unwrap_or(false)).collect();
            return Ok(Items::Value(Cow::Owned(Value::Array(out))));
        }
        Items::Value(Cow::Borrowed(v)) => match v {
            Value::Array(items) => (items, Vec::new()),
            Value::Null => (&[], Vec::new()),
            other => return Err(not_array(other)),
        },
        Items::Kept(refs) => (&[], refs),
    };
    cx.spend((values.len() + kept.len()) as u64).map_err(|f| f.at(list))?;
    let mut out = Vec::with_capacity(values.len() + kept.len());
    for (i, item) in values.iter().chain(kept).enumerate() {
        if body.truth(&scope(i, item), cx)? {
            out.push(item);
        }
    }
    Ok(Items::Kept(out))
}

fn user_tags<'x, 'a>(root: &'x Value<'a>) -> &'x [Value<'a>] {
    root.get("user").and_then(|u| u.get("tags")).and_then(Value::as_array).unwrap_or(&[])
}

impl Node {
    /// [`Node::eval`] with the two commonest operands, literals and plain `var`s, handled
    /// before the full dispatch.
    #[inline(always)]
    fn operand<'x, 'a>(&'x self, sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Out<'x, 'a> {
        match &self.op {
            Op::Lit(v) => Ok(Cow::Borrowed(v)),
            Op::Var { path: PathSpec::Static { keys, .. }, default: None } => Ok(match sc.here {
                Here::Data(d) => walk(d, keys).map_or_else(null, Cow::Borrowed),
                here => lookup(here, keys.iter().map(KeyRef::from)).unwrap_or_else(null),
            }),
            _ => self.eval(sc, cx),
        }
    }

    /// Evaluates the node in scope `sc`.
    pub(crate) fn eval<'x, 'a>(&'x self, sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Out<'x, 'a> {
        match &self.op {
            Op::Lit(v) => Ok(Cow::Borrowed(v)),
            Op::Var { path, default } => {
                let found = match path {
                    PathSpec::Static { keys, .. } => lookup(sc.here, keys.iter().map(KeyRef::from)),
                    PathSpec::Dynamic(n) => {
                        let key = n.eval(sc, cx)?;
                        var_dynamic(sc.here, &key)
                    }
                };
                match (found, default) {
                    (Some(v), _) => Ok(v),
                    (None, Some(d)) => d.eval(sc, cx),
                    (None, None) => Ok(null()),
                }
            }
            Op::Val(path) => Ok(self.val(path, sc, cx)?.unwrap_or_else(null)),
            Op::Exists(path) => Ok(boolean(self.val(path, sc, cx)?.is_some())),
            Op::If(args) => {
                let mut i = 0;
                while let (Some(cond), Some(then)) = (args.get(i), args.get(i + 1)) {
                    if cond.truth(sc, cx)? {
                        return then.eval(sc, cx);
                    }
                    i += 2;
                }
                args.get(i).map_or(Ok(null()), |otherwise| otherwise.eval(sc, cx))
            }
            Op::And(args) => {
                let mut last = boolean(false);
                for n in args {
                    last = n.eval(sc, cx)?;
                    if !truthy(&last) {
                        break;
                    }
                }
                Ok(last)
            }
            Op::Or(args) => {
                let mut last = boolean(false);
                for n in args {
                    last = n.eval(sc, cx)?;
                    if truthy(&last) {
                        break;
                    }
                }
                Ok(last)
            }
            Op::Not(n) => Ok(boolean(!n.truth(sc, cx)?)),
            Op::Truthy(n) => Ok(boolean(n.truth(sc, cx)?)),
            Op::Try(args) => self.try_(args, sc, cx),
            Op::Compare(c, args) => Ok(boolean(self.compare(*c, args, sc, cx)?)),
            Op::Arith(a, args) => self.arith(*a, args, sc, cx).map(|f| Cow::Owned(num_value(f))),
            Op::Iter(kind, list, body) => self.shared(cx, |n| n.iterate(*kind, list, body, sc, cx)),
            Op::Reduce(list, body, init) => self.shared(cx, |n| n.reduce(list, body, init.as_deref(), sc, cx)),
            Op::In(needle, hay) => {
                let needle = needle.operand(sc, cx)?;
                let hay = hay.operand(sc, cx)?;
                Ok(boolean(match &*hay {
                    Value::String(s) => s.contains(js_string(&needle).as_ref()),
                    Value::Array(items) => items.iter().any(|i| strict_eq(i, &needle)),
                    _ => false,
                }))
            }
            Op::Substr(args) => self.substr(args, sc, cx),
            Op::Since(unit, t) => Ok(match self.instant(t, sc, cx)? {
                Some(t) => Cow::Owned(num_value(t.nanos_until(cx.now()) / unit)),
                None => null(),
            }),
            Op::CalendarDays(t) => Ok(match self.instant(t, sc, cx)? {
                Some(t) => Cow::Owned(Value::Int(cx.now().local(cx.env.tz).days - t.local(cx.env.tz).days)),
                None => null(),
            }),
            Op::Before(before, a, b) => Ok(match (self.instant(a, sc, cx)?, self.instant(b, sc, cx)?) {
                (Some(a), Some(b)) => boolean(if *before { a < b } else { a > b }),
                _ => null(),
            }),
            Op::Shift(sign, d) => {
                let t = shift(cx.now(), *d, *sign, cx.env.tz).ok_or_else(|| out_of_range().at(self))?;
                Ok(Cow::Owned(Value::String(Cow::Owned(format_rfc3339(t, cx.env.tz)))))
            }
            Op::Calendar(field, t) => {
                let t = match t {
                    None => cx.now(),
                    Some(t) => match self.instant(t, sc, cx)? {
                        Some(t) => t,
                        None => return Ok(null()),
                    },
                };
                let l = t.local(cx.env.tz);
                Ok(Cow::Owned(match field {
                    Calendar::Weekday => Value::Int(l.weekday()),
                    Calendar::TimeOfDay => Value::String(Cow::Owned(l.time_of_day())),
                    Calendar::Month => Value::Int(i64::from(l.month)),
                    Calendar::DayOfMonth => Value::Int(i64::from(l.day)),
                }))
            }
            Op::Duration(secs) => Ok(Cow::Owned(num_value(*secs))),
            Op::Tags(..) | Op::InSegment(..) => Ok(boolean(self.truth(sc, cx)?)),
            Op::Fractional(args) => self.fractional(args, sc, cx),
            Op::Array(_) | Op::Missing(_) | Op::MissingSome(..) | Op::Coalesce(_) | Op::Throw(_) | Op::Merge(_) | Op::Cat(_) => self.eval_rare(sc, cx),
            Op::StartsWith(..) | Op::EndsWith(..) | Op::Now | Op::TimeBetween(_) | Op::SemVer(_) => self.eval_rare(sc, cx),
        }
    }

    /// The operators rules use less often, out of line: V8 compiles a Wasm function on its
    /// first call, so an engine whose rules never use them starts without compiling them, and
    /// `eval` stays small for V8's optimizing tier.
    #[inline(never)]
    fn eval_rare<'x, 'a>(&'x self, sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Out<'x, 'a> {
        match &self.op {
            Op::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for n in items {
                    out.push(n.eval(sc, cx)?.into_owned());
                }
                Ok(Cow::Owned(Value::Array(out)))
            }
            Op::Missing(args) => {
                let mut keys = Vec::new();
                self.each_arg(args, sc, cx, |v| {
                    keys.push(v.clone());
                    Ok(())
                })?;
                // `{"missing": [["a", "b"]]}` and `{"missing": {"merge": …}}` pass one array.
                if let [Value::Array(inner)] = keys.as_mut_slice() {
                    keys = std::mem::take(inner);
                }
                keys.retain(|k| is_missing(sc.here, k));
                Ok(Cow::Owned(Value::Array(keys)))
            }
            Op::MissingSome(need, keys) => {
                let need = to_number(&*need.eval(sc, cx)?);
                let keys = keys.eval(sc, cx)?;
                let keys: &[Value] = match &*keys {
                    Value::Array(items) => items,
                    other => std::slice::from_ref(other),
                };
                let missing: Vec<Value> = keys.iter().filter(|k| is_missing(sc.here, k)).cloned().collect();
                let found = (keys.len() - missing.len()) as f64;
                Ok(Cow::Owned(Value::Array(if found >= need { Vec::new() } else { missing })))
            }
            Op::Coalesce(args) => {
                for n in args {
                    let v = n.eval(sc, cx)?;
                    if !v.is_null() {
                        return Ok(v);
                    }
                }
                Ok(null())
            }
            Op::Throw(n) => {
                let v = n.eval(sc, cx)?.into_owned().into_owned();
                let object = match v {
                    obj @ Value::Object(_) => obj,
                    other => Value::Object(vec![(Cow::Borrowed("type"), other)]),
                };
                let message = match object.get("type") {
                    Some(Value::String(s)) => format!("the rule threw \"{s}\""),
                    // Keys sorted, so a context given as text or as a serde_json tree (whose
                    // maps are sorted) gets the same message, and so the same decision.
                    _ => format!("the rule threw {}", crate::value::serde_text(&object.to_serde())),
                };
                Err(Fault::new(FailKind::Thrown(object), message).at(self))
            }
            Op::Merge(args) => {
                let mut out = Vec::new();
                self.each_arg(args, sc, cx, |v| {
                    match v {
                        Value::Array(items) => out.extend(items.iter().cloned()),
                        other => out.push(other.clone()),
                    }
                    Ok(())
                })?;
                Ok(Cow::Owned(Value::Array(out)))
            }
            Op::Cat(args) => {
                let mut out = String::new();
                self.each_arg(args, sc, cx, |v| {
                    write_js_string(v, &mut out);
                    Ok(())
                })?;
                Ok(Cow::Owned(Value::String(Cow::Owned(out))))
            }
            Op::StartsWith(a, b) | Op::EndsWith(a, b) => {
                let (a, b) = (a.operand(sc, cx)?, b.operand(sc, cx)?);
                let text = |v: &Value| !matches!(v, Value::Null | Value::Array(_) | Value::Object(_));
                if !text(&a) || !text(&b) {
                    return Ok(boolean(false));
                }
                let (s, affix) = (js_string(&a), js_string(&b));
                Ok(boolean(if matches!(self.op, Op::StartsWith(..)) { s.starts_with(affix.as_ref()) } else { s.ends_with(affix.as_ref()) }))
            }
            Op::Now => {
                let now = self.now_in_range(cx)?;
                Ok(Cow::Owned(Value::String(Cow::Owned(format_rfc3339(now, cx.env.tz)))))
            }
            Op::TimeBetween(args) => {
                let [t, from, to] = &**args;
                Ok(match (self.instant(t, sc, cx)?, self.instant(from, sc, cx)?, self.instant(to, sc, cx)?) {
                    (Some(t), Some(from), Some(to)) => boolean(from <= t && t <= to),
                    _ => null(),
                })
            }
            Op::SemVer(args) => {
                let [a, op, b] = args.as_slice() else { return Ok(null()) };
                let (a, op, b) = (a.eval(sc, cx)?, op.eval(sc, cx)?, b.eval(sc, cx)?);
                Ok(flagd::sem_ver(&a, &op, &b).map_or_else(null, boolean))
            }
            // `eval` evaluates the others itself and never sends them here. An error, not a
            // call back to `eval`: an operator forwarded by mistake fails its rule (and the
            // conformance suites) instead of recursing until the stack runs out.
            _ => Err(Fault::new(FailKind::InvalidArguments, "internal: an operator reached eval_rare that it does not evaluate").at(self)),
        }
    }

    /// JsonLogic truthiness of the node's value, computed without building values where the
    /// operator allows (the hot path of segment rules).
    pub(crate) fn truth<'x, 'a>(&'x self, sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Result<bool, EvalError> {
        match &self.op {
            Op::Lit(v) => Ok(truthy(v)),
            Op::Var { path: PathSpec::Static { keys, .. }, default: None } => Ok(match sc.here {
                Here::Data(d) => walk(d, keys).is_some_and(truthy),
                here => lookup(here, keys.iter().map(KeyRef::from)).is_some_and(|v| truthy(&v)),
            }),
            Op::And(args) => {
                for n in args {
                    if !n.truth(sc, cx)? {
                        return Ok(false);
                    }
                }
                Ok(!args.is_empty())
            }
            Op::Or(args) => {
                for n in args {
                    if n.truth(sc, cx)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Op::Not(n) => Ok(!n.truth(sc, cx)?),
            Op::Truthy(n) => n.truth(sc, cx),
            Op::If(args) => {
                let mut i = 0;
                while let (Some(cond), Some(then)) = (args.get(i), args.get(i + 1)) {
                    if cond.truth(sc, cx)? {
                        return then.truth(sc, cx);
                    }
                    i += 2;
                }
                args.get(i).map_or(Ok(false), |otherwise| otherwise.truth(sc, cx))
            }
            Op::Compare(c, args) => self.compare(*c, args, sc, cx),
            Op::Tags(kind, wanted) => {
                let tags = user_tags(sc.root);
                let has = |t: &str| tags.iter().any(|v| v.as_str() == Some(t));
                Ok(match kind {
                    Tags::One | Tags::Any => wanted.iter().any(|t| has(t)),
                    Tags::All => wanted.iter().all(|t| has(t)),
                })
            }
            Op::InSegment(i, _) => Ok(cx.env.segments.get(*i).copied().flatten().unwrap_or(false)),
            _ => Ok(truthy(&*self.eval(sc, cx)?)),
        }
    }

    /// Runs `compute` unless another rule of this decision already computed the same shared
    /// sub-rule (only scalar results are kept, so handing out a copy is cheap).
    #[inline]
    fn shared<'x, 'a>(&'x self, cx: &Cx, compute: impl FnOnce(&'x Node) -> Out<'x, 'a>) -> Out<'x, 'a> {
        let Some((slot, memo)) = cx.slot(self) else { return compute(self) };
        if let Some(v) = memo.get(slot) {
            return Ok(Cow::Owned(v));
        }
        let v = compute(self)?;
        if matches!(&*v, Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_)) {
            memo.put(slot, v.as_ref().clone().into_owned());
        }
        Ok(v)
    }

    fn val<'x, 'a>(&'x self, path: &'x PathSpec, sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Result<Option<Cow<'x, Value<'a>>>, EvalError> {
        Ok(match path {
            PathSpec::Static { climb, keys } => val_lookup(sc, *climb, keys.iter().map(KeyRef::from)),
            PathSpec::Dynamic(n) => {
                let arg = n.eval(sc, cx)?;
                val_dynamic(sc, &arg)
            }
        })
    }

    /// Calls `f` with each argument value: the items of `List`, or of the array a `Spread`
    /// expression yields (a non-array value is the one argument). Returns how many.
    fn each_arg<'x, 'a>(&'x self, args: &'x Args, sc: &Scope<'_, 'x, 'a>, cx: &Cx, mut f: impl FnMut(&Value<'a>) -> Result<(), Fault>) -> Result<usize, EvalError> {
        match args {
            Args::List(nodes) => {
                for n in nodes {
                    let v = n.operand(sc, cx)?;
                    f(&v).map_err(|e| e.at(self))?;
                }
                Ok(nodes.len())
            }
            Args::Spread(n) => {
                let v = n.operand(sc, cx)?;
                match &*v {
                    Value::Array(items) => {
                        for item in items {
                            f(item).map_err(|e| e.at(self))?;
                        }
                        Ok(items.len())
                    }
                    other => {
                        f(other).map_err(|e| e.at(self))?;
                        Ok(1)
                    }
                }
            }
        }
    }

    /// Chained comparison, evaluated lazily: `{"<": [a, b, c]}` is `a < b && b < c`.
    fn compare<'x, 'a>(&'x self, c: Cmp, args: &'x [Node], sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Result<bool, EvalError> {
        let Some((first, rest)) = args.split_first() else { return Ok(false) };
        // JsonLogic orders `null` as 0: "fewer than 7 days since a follow" would hold for a user
        // who never followed. A time operator's `null` (a missing timestamp) makes it false,
        // also through arithmetic (`{"+": [{"days_since": …}, 1]}`), where `null` counts as 0.
        let ordering = matches!(c, Cmp::Lt | Cmp::Le | Cmp::Gt | Cmp::Ge);
        let mut prev = first.operand(sc, cx)?;
        if ordering && first.missing_time(&prev, sc, cx)? {
            return Ok(false);
        }
        for n in rest {
            let cur = n.operand(sc, cx)?;
            if ordering && n.missing_time(&cur, sc, cx)? {
                return Ok(false);
            }
            let ok = match c {
                Cmp::StrictEq => strict_eq(&prev, &cur),
                Cmp::StrictNe => !strict_eq(&prev, &cur),
                Cmp::Eq => loose_eq(&prev, &cur).map_err(|e| Fault::new(FailKind::NaN, e.0).at(self))?,
                Cmp::Ne => !loose_eq(&prev, &cur).map_err(|e| Fault::new(FailKind::NaN, e.0).at(self))?,
                Cmp::Lt | Cmp::Le | Cmp::Gt | Cmp::Ge => {
                    let o = loose_cmp(&prev, &cur).map_err(|e| Fault::new(FailKind::NaN, e.0).at(self))?;
                    match (c, o) {
                        (_, None) => false,
                        (Cmp::Lt, Some(o)) => o == Ordering::Less,
                        (Cmp::Le, Some(o)) => o != Ordering::Greater,
                        (Cmp::Gt, Some(o)) => o == Ordering::Greater,
                        (_, Some(o)) => o != Ordering::Less,
                    }
                }
            };
            if !ok {
                return Ok(false);
            }
            prev = cur;
        }
        Ok(true)
    }

    /// Whether this operand of an ordering comparison, evaluated to `v`, stands for a missing
    /// timestamp: a time operator's `null`, or arithmetic over one (where `null` counts as 0).
    #[inline]
    fn missing_time<'x, 'a>(&'x self, v: &Value, sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Result<bool, EvalError> {
        match self.op {
            Op::Since(..) | Op::CalendarDays(_) | Op::Calendar(..) => Ok(matches!(v, Value::Null)),
            Op::Arith(..) => self.time_gap(sc, cx),
            _ => Ok(false),
        }
    }

    /// Whether this arithmetic reads a time operator that is `null`, directly or through nested
    /// arithmetic (the list form `{"+": [a, b]}` and the single operand `{"+": a}`). The time
    /// operators are evaluated again (they are pure: the values just used); only this rare
    /// shape of rule pays for it.
    #[cold]
    #[inline(never)]
    fn time_gap<'x, 'a>(&'x self, sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Result<bool, EvalError> {
        let args = match &self.op {
            Op::Arith(_, Args::List(args)) => args.as_slice(),
            Op::Arith(_, Args::Spread(arg)) => std::slice::from_ref(&**arg),
            _ => return Ok(false),
        };
        for n in args {
            let gap = match n.op {
                Op::Since(..) | Op::CalendarDays(_) | Op::Calendar(..) => matches!(*n.operand(sc, cx)?, Value::Null),
                Op::Arith(..) => n.time_gap(sc, cx)?,
                _ => false,
            };
            if gap {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn arith<'x, 'a>(&'x self, a: Arith, args: &'x Args, sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Result<f64, EvalError> {
        // The name is only needed for messages; `name()` is a match, cheap but not free.
        let name = || self.name();
        let mut acc: Option<f64> = None;
        let count = self.each_arg(args, sc, cx, |v| {
            let x = to_number(v);
            if x.is_nan() {
                return Err(Fault::new(FailKind::NaN, format!("\"{}\" needs numbers, got {}", name(), describe(v))));
            }
            acc = Some(match acc {
                None => x,
                Some(y) => match a {
                    Arith::Add => y + x,
                    Arith::Sub => y - x,
                    Arith::Mul => y * x,
                    Arith::Div | Arith::Mod if x == 0.0 => return Err(Fault::new(FailKind::NaN, format!("\"{}\" by zero", name()))),
                    Arith::Div => y / x,
                    Arith::Mod => y % x,
                    Arith::Max => y.max(x),
                    Arith::Min => y.min(x),
                },
            });
            Ok(())
        })?;
        let at_least = |n: usize| {
            if count < n {
                Err(invalid(format!("\"{}\" needs at least {n} argument{}, got {count}", name(), if n == 1 { "" } else { "s" })).at(self))
            } else {
                Ok(())
            }
        };
        let result = match a {
            Arith::Add => acc.unwrap_or(0.0),
            Arith::Mul => acc.unwrap_or(1.0),
            Arith::Sub => {
                at_least(1)?;
                let x = acc.unwrap_or(0.0);
                if count == 1 {
                    -x
                } else {
                    x
                }
            }
            Arith::Div => {
                at_least(1)?;
                let x = acc.unwrap_or(0.0);
                if count == 1 {
                    if x == 0.0 {
                        return Err(Fault::new(FailKind::NaN, format!("\"{}\" by zero", name())).at(self));
                    }
                    1.0 / x
                } else {
                    x
                }
            }
            Arith::Mod => {
                at_least(2)?;
                acc.unwrap_or(0.0)
            }
            Arith::Max | Arith::Min => {
                at_least(1)?;
                acc.unwrap_or(0.0)
            }
        };
        if result.is_finite() {
            Ok(result)
        } else {
            Err(Fault::new(FailKind::NaN, format!("\"{}\" result is not a finite number", name())).at(self))
        }
    }

    fn iterate<'x, 'a>(&'x self, kind: Iter, list: &'x Node, body: &'x Node, sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Out<'x, 'a> {
        let got = list_items(list, sc, cx)?;
        let (values, kept): (&[Value<'a>], &[&Value<'a>]) = match &got {
            Items::Value(v) => match (&**v, kind) {
                (Value::Array(items), _) => (items, &[]),
                (Value::Null, Iter::Map | Iter::Filter) => (&[], &[]),
                (other, _) => return Err(invalid(format!("\"{}\" needs an array, got {}", self.name(), describe(other))).at(self)),
            },
            Items::Kept(refs) => (&[], refs),
        };
        // One of the two is empty.
        let items = || values.iter().chain(kept.iter().copied());
        let len = values.len() + kept.len();
        cx.spend(len as u64).map_err(|f| f.at(self))?;
        let scope = |i: usize, item| Scope { here: Here::Data(item), index: Some(i), root: sc.root, parent: Some(sc) };
        Ok(match kind {
            Iter::Map => {
                let mut out = Vec::with_capacity(len);
                for (i, item) in items().enumerate() {
                    let v = body.eval(&scope(i, item), cx)?;
                    cx.spend_on(&v).map_err(|f| f.at(self))?;
                    out.push(v.into_owned());
                }
                Cow::Owned(Value::Array(out))
            }
            Iter::Filter => {
                let mut out = Vec::new();
                for (i, item) in items().enumerate() {
                    if body.truth(&scope(i, item), cx)? {
                        out.push(item.clone());
                    }
                }
                Cow::Owned(Value::Array(out))
            }
            Iter::All | Iter::Some | Iter::None => {
                // `all` of nothing is false in JsonLogic; `none` of nothing is true.
                let stop_on = !matches!(kind, Iter::All);
                let mut hit = false;
                // An item with bad data (a malformed timestamp in one purchase) does not decide:
                // another item may, whatever their order; only if none does is it the error.
                let mut undecided: Option<EvalError> = None;
                for (i, item) in items().enumerate() {
                    match body.truth(&scope(i, item), cx) {
                        Ok(t) if t == stop_on => {
                            hit = true;
                            break;
                        }
                        Ok(_) => {}
                        Err(e) if matches!(e.kind(), FailKind::InvalidTimestamp | FailKind::NaN | FailKind::InvalidArguments) => {
                            undecided.get_or_insert(e);
                        }
                        Err(e) => return Err(e),
                    }
                }
                if let (false, Some(e)) = (hit, undecided) {
                    return Err(e);
                }
                boolean(match kind {
                    Iter::All => len != 0 && !hit,
                    Iter::Some => hit,
                    _ => !hit,
                })
            }
        })
    }

    fn reduce<'x, 'a>(&'x self, list: &'x Node, body: &'x Node, init: Option<&'x Node>, sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Out<'x, 'a> {
        let got = list_items(list, sc, cx)?;
        let init = match init {
            Some(n) => Some(n.operand(sc, cx)?.into_owned()),
            None => None,
        };
        let (values, kept): (&[Value<'a>], &[&Value<'a>]) = match &got {
            Items::Value(v) => match &**v {
                Value::Array(items) => (items, &[]),
                Value::Null => (&[], &[]),
                other => return Err(invalid(format!("\"reduce\" needs an array, got {}", describe(other))).at(self)),
            },
            Items::Kept(refs) => (&[], refs),
        };
        let mut items = values.iter().chain(kept.iter().copied());
        let (mut acc, start) = match (init, items.next()) {
            (Some(v), _) => (v, 0),
            (None, Some(first)) => (first.clone(), 1),
            (None, None) => return Ok(null()),
        };
        for (i, item) in values.iter().chain(kept.iter().copied()).enumerate().skip(start) {
            let s = Scope { here: Here::Reduce { acc: &acc, cur: item }, index: Some(i), root: sc.root, parent: Some(sc) };
            let next = body.eval(&s, cx)?;
            // Checked before the copy: an accumulator too deep must not be copied (nor
            // dropped later) by recursion.
            cx.spend_on(&next).map_err(|f| f.at(self))?;
            acc = next.into_owned();
        }
        Ok(Cow::Owned(acc))
    }

    /// `try`: the first argument that does not fail; later ones see the error object as their
    /// data (`{"val": "type"}`).
    fn try_<'x, 'a>(&'x self, args: &'x [Node], sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Out<'x, 'a> {
        let mut failure: Option<EvalError> = None;
        for n in args {
            let result = match &failure {
                None => n.eval(sc, cx),
                Some(e) => {
                    let object = e.error_object();
                    let s = Scope { here: Here::Data(&object), index: None, root: sc.root, parent: Some(sc) };
                    n.eval(&s, cx).map(|v| Cow::Owned(v.into_owned()))
                }
            };
            match result {
                Ok(v) => return Ok(v),
                Err(e) => failure = Some(e),
            }
        }
        failure.map_or(Ok(null()), Err)
    }

    /// JavaScript's `substr(start, length)` as json-logic-js calls it: counted in UTF-16 units
    /// (as JavaScript and LINE count; a surrogate pair cut in half leaves U+FFFD, what the lone
    /// half becomes in UTF-8); `start` and `length` converted to numbers as elsewhere (an array
    /// or object is NaN, which counts as 0; fractions truncated); a negative length stops that
    /// many units before the end, truncated after subtracting (`-2.5` of 17 units leaves 14).
    fn substr<'x, 'a>(&'x self, args: &'x [Node], sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Out<'x, 'a> {
        let int = |f: f64| if f.is_nan() { 0.0 } else { f.trunc() };
        let mut values = Vec::with_capacity(3);
        for n in args {
            values.push(n.eval(sc, cx)?);
        }
        let units: Vec<u16> = values.first().map(|v| js_string(v).encode_utf16().collect()).unwrap_or_default();
        let size = units.len() as f64;
        let start = values.get(1).map_or(0.0, |v| int(to_number(v)));
        let start = if start < 0.0 { (size + start).max(0.0) } else { start.min(size) };
        let rest = size - start;
        let take = match values.get(2).map(|v| to_number(v)) {
            None => rest,
            Some(len) if len < 0.0 => int(rest + len),
            Some(len) => int(len),
        };
        // max/min, not clamp: clamp asserts its bounds and would pull float formatting into the Wasm.
        let (from, to) = (start as usize, (start + take.max(0.0).min(rest)) as usize);
        // Half a surrogate pair becomes U+FFFD.
        let text = String::from_utf16_lossy(units.get(from..to).unwrap_or_default());
        Ok(Cow::Owned(Value::String(Cow::Owned(text))))
    }

    /// `now`, refused where it leaves the four-digit years in the config's zone
    /// (9999-12-31T23:00:00-05:00 at +09:00), as a shift is: the same whether a rule prints it
    /// or compares with it.
    fn now_in_range(&self, cx: &Cx) -> Result<Instant, EvalError> {
        let now = cx.now();
        if in_rfc3339_years(now, cx.env.tz) {
            Ok(now)
        } else {
            Err(Fault::new(FailKind::InvalidTimestamp, "now is outside the supported calendar range in the config's time zone").at(self))
        }
    }

    /// The instant a time operand denotes; `None` for `null` (the operator then yields null).
    fn instant<'x, 'a>(&'x self, t: &'x TimeArg, sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Result<Option<Instant>, EvalError> {
        match &t.fast {
            TimeFast::Stamp(s) => Ok(Some(s.instant(cx.env.tz))),
            TimeFast::Now => self.now_in_range(cx).map(Some),
            TimeFast::Shift(sign, d) => {
                if let Some((_, at)) = cx.shifted.get().filter(|(id, _)| *id == t.node.id) {
                    return Ok(Some(at));
                }
                let shifted = shift(cx.now(), *d, *sign, cx.env.tz).ok_or_else(|| out_of_range().at(self))?;
                cx.shifted.set(Some((t.node.id, shifted)));
                Ok(Some(shifted))
            }
            TimeFast::Eval => {
                let v = t.node.eval(sc, cx)?;
                match &*v {
                    Value::Null => Ok(None),
                    Value::String(s) => match parse_stamp(s) {
                        Some(stamp) => Ok(Some(stamp.instant(cx.env.tz))),
                        None => Err(Fault::new(
                            FailKind::InvalidTimestamp,
                            format!("\"{}\" got {}, which is not a timestamp (expected RFC 3339 like \"2026-11-27T20:00:00+09:00\" or a date like \"2026-11-27\")", self.name(), describe(&v)),
                        )
                        .at(self)),
                    },
                    // LINE's webhook `timestamp` is epoch milliseconds.
                    Value::Int(_) | Value::Float(_) => match v.as_f64().and_then(Instant::from_millis) {
                        Some(_) if v.as_f64().is_some_and(Instant::looks_like_seconds) => Err(Fault::new(FailKind::InvalidTimestamp, format!("\"{}\": {}", self.name(), super::time::seconds_hint(&describe(&v)))).at(self)),
                        Some(t) => Ok(Some(t)),
                        None => Err(Fault::new(
                            FailKind::InvalidTimestamp,
                            format!("\"{}\" got {}, which is not epoch milliseconds in the years 0000–9999", self.name(), describe(&v)),
                        )
                        .at(self)),
                    },
                    other => Err(Fault::new(FailKind::InvalidTimestamp, format!("\"{}\" needs a timestamp (an RFC 3339 string or epoch milliseconds), got {}", self.name(), describe(other))).at(self)),
                }
            }
        }
    }

    /// flagd's `fractional`: `[key?, [variant, weight]…]`. Without a string key, the key is
    /// flagKey + targetingKey (from [`Env`], else from the data's `$flagd.flagKey` and
    /// `targetingKey`); a missing or empty targeting key yields null. Bucket arguments are
    /// evaluated twice (total weight, then the pick) instead of being collected: they are
    /// literals in practice, so this allocates nothing.
    fn fractional<'x, 'a>(&'x self, args: &'x [Node], sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Out<'x, 'a> {
        let Some((first, rest)) = args.split_first() else { return Ok(null()) };
        let first_value = first.eval(sc, cx)?;
        let mut hasher = flagd::Murmur3::new(0);
        let first_bucket = match &*first_value {
            Value::String(key) => {
                hasher.write(key.as_bytes());
                None
            }
            other => {
                let from_data = |path: &[&str]| sc.root.lookup(path.iter().copied()).and_then(Value::as_str);
                let targeting = cx.env.targeting_key.or_else(|| from_data(&["targetingKey"])).unwrap_or("");
                if targeting.is_empty() {
                    return Ok(null());
                }
                let flag = cx.env.flag_key.or_else(|| from_data(&["$flagd", "flagKey"])).unwrap_or("");
                hasher.write(flag.as_bytes());
                hasher.write(targeting.as_bytes());
                // No key given: a non-null first argument is already a bucket.
                (!other.is_null()).then_some(())
            }
        };
        let first_bucket = first_bucket.map(|()| first_value);
        let mut total: u128 = 0;
        for v in first_bucket.as_deref().into_iter() {
            let Some(w) = flagd::weight(v) else { return Ok(null()) };
            total += u128::from(w);
        }
        for n in rest {
            let Some(w) = flagd::weight(&*n.eval(sc, cx)?) else { return Ok(null()) };
            total += u128::from(w);
        }
        if total == 0 {
            return Ok(null());
        }
        let bucket = flagd::bucket(hasher.finish(), total);
        let variant = |b: Cow<'x, Value<'a>>| match b {
            Cow::Borrowed(v) => v.as_array().and_then(|a| a.first()).map_or_else(null, Cow::Borrowed),
            Cow::Owned(Value::Array(items)) => items.into_iter().next().map_or_else(null, Cow::Owned),
            Cow::Owned(_) => null(),
        };
        let mut end: u128 = 0;
        if let Some(b) = first_bucket {
            end += u128::from(flagd::weight(&b).unwrap_or(0));
            if bucket < end {
                return Ok(variant(b));
            }
        }
        for n in rest {
            let b = n.eval(sc, cx)?;
            end += u128::from(flagd::weight(&b).unwrap_or(0));
            if bucket < end {
                return Ok(variant(b));
            }
        }
        Ok(null())
    }
}

fn out_of_range() -> Fault {
    Fault::new(FailKind::InvalidTimestamp, "the shifted time is outside the supported calendar range")
}
