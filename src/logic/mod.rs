//! Conditions: JsonLogic, compiled once, evaluated many times, plus marketing operators.
//!
//! The dialect is the JSON Logic organisation's (the suites in `shared/conformance/`): `{}` is
//! truthy, `{"and": []}` is false, `val`/`exists`/`??`/`try`/`throw`/`preserve` are supported,
//! and arithmetic or comparisons on things that are not numbers fail (their `NaN` error)
//! instead of producing garbage. On top come the operators below, and flagd's `fractional` and
//! `sem_ver`.
//!
//! [`compile`] validates a rule and reports every problem with its JSON pointer; a [`Rule`]
//! then evaluates against a [`Value`] document without touching `serde_json` and, for the
//! usual segment operators, without allocating.
//!
//! Where the suites leave a choice open, kizuna decides so that typos surface and missing data
//! does not break a segment:
//! - An object with more than one key is an error (json-logic-js would treat it as data).
//! - Operators with a fixed shape (`==`, `<`, `if`, `and`, `map`, …) need a literal array of
//!   arguments, and a wrong count is a compile error.
//! - `==` treats `null` as `0` against numbers and booleans (as the suites require) but never
//!   equals a string, so `{"==": [{"var": "user.plan"}, "gold"]}` is simply false for users
//!   without a plan. A number against a non-numeric string, or any array/object, is an error.
//! - `===` compares arrays and objects by content. `in` with a haystack that is neither a
//!   string nor an array is false. `missing` counts `null` and `""` as missing.
//!
//! # Marketing operators
//!
//! Timestamps are RFC 3339 strings (`"2026-11-27T20:00:00+09:00"`); a bare date
//! `"2026-11-27"` (or a date-time without offset) means that wall-clock time in the account's
//! time zone [`Env::tz`]. Durations are ISO 8601 (`"P30D"`, `"PT12H"`, `"P2W"`,
//! `"P1Y2M10DT2H30M"`); years and months are calendar months (Jan 31 + `P1M` = Feb 28/29).
//! Literal timestamps and durations are checked by [`compile`]; a timestamp in the data that
//! does not parse fails evaluation with [`crate::Code::InvalidTimestamp`]; `null`/missing timestamps
//! make a time operator return `null`.
//!
//! | operator | example | result |
//! |---|---|---|
//! | `now` | `{"now": []}` | now in the account's time zone: `"2026-11-27T20:00:00+09:00"` |
//! | `ago`, `from_now` | `{"ago": "P90D"}` | now − / + the duration, as an RFC 3339 string |
//! | `days_since`, `hours_since` | `{"days_since": [{"var": "user.attributes.lastPurchaseAt"}]}` | days (hours) from the timestamp to now, fractional, negative for the future |
//! | `calendar_days_since` | `{"calendar_days_since": [{"var": "at"}]}` | whole dates from the timestamp's to today's in the config's zone |
//! | `before`, `after` | `{"after": [{"var": "user.attributes.lastPurchaseAt"}, {"ago": "P30D"}]}` | compares instants (not strings) |
//! | `time_between` | `{"time_between": [{"now": []}, "2026-12-01", "2026-12-25T23:59:59+09:00"]}` | from ≤ t ≤ to |
//! | `weekday` | `{"in": [{"weekday": []}, [6, 7]]}` | ISO weekday of now (or of the argument): 1 = Monday … 7 = Sunday |
//! | `time_of_day` | `{"<=": ["09:00", {"time_of_day": []}, "18:00"]}` | `"HH:MM"`, so string comparisons work |
//! | `month`, `day_of_month` | `{"==": [{"month": [{"var": "user.attributes.birthday"}]}, {"month": []}]}` | 1–12, 1–31 |
//! | `duration` | `{"duration": "P30D"}` | the length in seconds (2592000); years/months are refused |
//! | `has_tag` | `{"has_tag": "vip"}` | `user.tags` contains the tag |
//! | `has_any_tag`, `has_all_tags` | `{"has_any_tag": ["vip", "repeat"]}` | `user.tags` contains one / all of them |
//! | `in_segment` | `{"in_segment": "repeat-buyers"}` | the user is in that (other) segment; unknown ids and cycles are compile errors |
//! | `starts_with`, `ends_with` | `{"ends_with": [{"var": "user.attributes.email"}, "@example.com"]}` | text prefix / suffix test (`null` → false) |
//! | `fractional` | `{"fractional": [["a", 50], ["b", 50]]}` | flagd's murmur3 split: a stable variant per user (key: flagKey + targetingKey, or the first argument when it is a string) |
//! | `sem_ver` | `{"sem_ver": [{"var": "event.appVersion"}, ">=", "14.2.0"]}` | flagd's version test: `=` `!=` `<` `<=` `>` `>=` `^` (same major) `~` (same minor); null when unparsable |

mod coerce;
mod compile;
mod eval;
mod explain;
mod flagd;
mod node;
pub(crate) mod time;

pub use coerce::truthy;
pub use eval::{EvalError, FailKind};
pub use flagd::murmur3_32;

#[cfg(lint)]
use crate::contract::fields::Base;
use crate::value::{Projection, Value};
use crate::Error;
use chrono::{DateTime, FixedOffset, Offset as _};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// What a rule is compiled against.
#[derive(Clone, Debug)]
pub struct Options {
    /// The account's time zone. Evaluation uses [`Env::tz`]; this one documents the intent and
    /// is kept for callers that compile and evaluate with the same settings.
    pub tz: FixedOffset,
    /// Segment ids, in the order of [`Env::segments`]: `in_segment` compiles to an index.
    segments: Vec<String>,
    /// Indexes into `segments`, sorted by id (the first of equal ids first): `in_segment` finds
    /// its segment in O(log n), so a config of thousands of segments compiles in O(n log n).
    by_id: Vec<usize>,
    /// Rules of a config: a `sem_ver` with other than 3 arguments or an unknown literal
    /// operator is a compile error. flagd (and a bare rule, as its suite requires) evaluates it
    /// to null, which in a config is a segment that silently never matches.
    config: bool,
    /// Ids of the config's segments that could not be read (their errors are reported where
    /// they are): `in_segment` naming one is left to those errors, not called unknown.
    unread: Vec<String>,
}

impl Options {
    /// Compiling against `segments` (ids in the order of [`Env::segments`]).
    pub fn new(tz: FixedOffset, segments: Vec<String>) -> Self {
        let by_id = crate::sort::stable_order(segments.len(), &mut |i, j| segments.get(i) < segments.get(j));
        Options { tz, segments, by_id, config: false, unread: Vec::new() }
    }

    /// The options for a config's rules: [`Options::new`], with the checks a config gets on
    /// top of flagd's semantics.
    pub fn for_config(tz: FixedOffset, segments: Vec<String>) -> Self {
        Options { config: true, ..Options::new(tz, segments) }
    }

    /// These options, knowing the ids of segments that could not be read.
    pub fn with_unread(self, unread: Vec<String>) -> Self {
        Options { unread, ..self }
    }

    /// Whether `id` is a segment of the config that could not be read.
    pub(crate) fn is_unread(&self, id: &str) -> bool {
        self.unread.iter().any(|s| s == id)
    }

    /// The index of the first segment named `id`.
    pub(crate) fn segment_index(&self, id: &str) -> Option<usize> {
        let name = |i: &usize| self.segments.get(*i).map_or("", String::as_str);
        let at = self.by_id.partition_point(|i| name(i) < id);
        self.by_id.get(at).copied().filter(|i| name(i) == id)
    }
}

impl Default for Options {
    /// `+09:00` (Japan) and no segments.
    fn default() -> Self {
        Options::new(FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| chrono::Utc.fix()), Vec::new())
    }
}

/// The run-time environment of one evaluation.
#[derive(Clone, Copy, Debug)]
pub struct Env<'e> {
    /// The decision's `now` (rules never read the clock).
    pub now: DateTime<FixedOffset>,
    /// The account's time zone, for bare dates, `now`, `weekday`, `time_of_day`, `month`, … .
    pub tz: FixedOffset,
    /// Results of the segments computed so far, by index (see [`Rule::segment_refs`]);
    /// `None` or out of range reads as false.
    pub segments: &'e [Option<bool>],
    /// `fractional`'s flag key; when `None`, the data's `$flagd.flagKey` (or "").
    pub flag_key: Option<&'e str>,
    /// `fractional`'s targeting key; when `None`, the data's `targetingKey`.
    pub targeting_key: Option<&'e str>,
}

impl Env<'_> {
    /// An environment at `now`, in `now`'s offset, with no segments and no flag keys.
    pub fn new(now: DateTime<FixedOffset>) -> Env<'static> {
        Env { now, tz: *now.offset(), segments: &[], flag_key: None, targeting_key: None }
    }
}

/// A compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    root: node::Node,
    /// JSON pointer (with the compile prefix) of every node, by node id.
    paths: Box<[Box<str>]>,
    segment_refs: Box<[usize]>,
    projection: Projection,
    /// Source text of the `reduce`/`all`/`some`/`none` nodes whose result depends on the data
    /// document alone (evaluated at its root, no `in_segment`/`fractional` inside), by node id:
    /// what [`share_results`] matches between rules.
    shareable: Vec<(u32, String)>,
    /// [`Memo`] slot of each node, by node id (`u32::MAX`: not shared). Empty until
    /// [`share_results`] finds something to share.
    slots: Box<[u32]>,
}

/// Results that several rules of one decision compute alike, kept for the rules after the first
/// (the bench config counts purchases with the same `reduce` in four segments). Only scalar
/// results are kept; errors never are (their paths name the rule).
#[derive(Debug, Default)]
pub struct Memo {
    values: std::cell::RefCell<Vec<Option<Value<'static>>>>,
}

impl Memo {
    /// An empty memo for `slots` shared results (see [`share_results`]).
    pub fn new(slots: usize) -> Memo {
        Memo { values: std::cell::RefCell::new(vec![None; slots]) }
    }

    pub(crate) fn get(&self, slot: u32) -> Option<Value<'static>> {
        self.values.try_borrow().ok()?.get(slot as usize).cloned().flatten()
    }

    pub(crate) fn put(&self, slot: u32, v: Value<'static>) {
        if let Ok(mut values) = self.values.try_borrow_mut() {
            if let Some(s) = values.get_mut(slot as usize) {
                *s = Some(v);
            }
        }
    }
}

/// Gives every sub-rule that occurs (as the same JSON) in more than one place of `rules`, and
/// whose result depends on the data alone, a [`Memo`] slot; returns the number of slots. Rules
/// evaluated with [`Rule::matches_with`] and one memo then compute such a result once.
pub fn share_results<'r>(rules: impl IntoIterator<Item = &'r mut Rule>) -> usize {
    let mut rules: Vec<&mut Rule> = rules.into_iter().collect();
    // Both maps are `BTreeMap<&str, usize>` used through `get`/`insert`, the instance the
    // rich-menu batching already has: no hash table (hashbrown, SipHash) in the Wasm binary.
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rules {
        for (_, text) in &r.shareable {
            let n = count.get(text.as_str()).copied().unwrap_or(0);
            count.insert(text.as_str(), n.saturating_add(1));
        }
    }
    let mut slot_of: BTreeMap<&str, usize> = BTreeMap::new();
    let mut assign: Vec<Vec<(u32, u32)>> = Vec::with_capacity(rules.len());
    for r in &rules {
        let mut mine = Vec::new();
        for (id, text) in &r.shareable {
            if count.get(text.as_str()).copied().unwrap_or(0) < 2 {
                continue;
            }
            let slot = match slot_of.get(text.as_str()) {
                Some(&slot) => slot,
                None => {
                    let next = slot_of.len();
                    slot_of.insert(text.as_str(), next);
                    next
                }
            };
            mine.push((*id, u32::try_from(slot).unwrap_or(u32::MAX)));
        }
        assign.push(mine);
    }
    let slots_used = slot_of.len();
    for (r, mine) in rules.iter_mut().zip(assign) {
        if mine.is_empty() {
            continue;
        }
        let mut slots = vec![u32::MAX; r.paths.len()];
        for (id, slot) in mine {
            if let Some(s) = slots.get_mut(id as usize) {
                *s = slot;
            }
        }
        r.slots = slots.into_boxed_slice();
    }
    slots_used
}

/// One sub-condition that decided an explained result, with the values it saw.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
pub struct Step {
    /// JSON pointer of the sub-condition (`/segments/3/when/and/1`).
    pub path: String,
    /// Its operator (`"=="`, `"has_tag"`, `"var"`, `"literal"` …).
    pub op: String,
    /// Its operands' values (for `var`, the path; for tag operators, the tags and `user.tags`).
    pub args: Vec<serde_json::Value>,
    pub result: serde_json::Value,
}

/// Compiles `rule`. `path` is the JSON pointer of the rule inside its document: every error's
/// path is that prefix plus the pointer inside the rule. All problems are reported at once.
pub fn compile(rule: &serde_json::Value, opts: &Options, path: &str) -> Result<Rule, Vec<Error>> {
    // A text as a whole condition is always true (`"when": "in_segment:regular"`): in a config,
    // a condition written as text, not an intended constant.
    if let (true, serde_json::Value::String(text)) = (opts.config, rule) {
        let quote = |s: &str| {
            let mut q = String::new();
            crate::value::write_json_string(s, &mut q);
            q
        };
        let holds = if text.is_empty() { "never" } else { "always" };
        let mut message = format!("a condition is JsonLogic, not text: {} would {holds} hold", quote(text));
        if let Some((op, arg)) = text.split_once(':').filter(|(op, _)| !op.is_empty() && !op.contains(' ')) {
            message.push_str(&format!("; write {{{}: {}}}", quote(op.trim()), quote(arg.trim())));
        }
        return Err(vec![Error::new(crate::error::Code::InvalidArgument, path, message)]);
    }
    let mut c = compile::Compiler::new(opts, path);
    let root = c.node(rule, 0);
    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    let mut segment_refs = Vec::new();
    root.segment_refs(&mut segment_refs);
    crate::sort::sort_stable_by(&mut segment_refs, &mut |a, b| a < b);
    segment_refs.dedup();
    let mut projection = Projection::none();
    root.project(&mut projection, false);
    let mut at_root = Vec::new();
    root.root_scope_nodes(&mut at_root);
    let shareable = c.texts.into_iter().filter(|(id, _)| at_root.iter().any(|n| n.id == *id && n.data_only())).collect();
    Ok(Rule {
        root,
        paths: c.paths.into_boxed_slice(),
        segment_refs: segment_refs.into_boxed_slice(),
        projection,
        shareable,
        slots: Box::new([]),
    })
}

impl Rule {
    /// Indexes (into [`Options::segments`]) of the segments this rule reads, sorted, unique.
    pub fn segment_refs(&self) -> &[usize] {
        &self.segment_refs
    }

    /// Whether the rule reads (`in_segment`) any of `segments` (indexes, as `segment_refs`).
    pub fn reads_any(&self, segments: &[usize]) -> bool {
        !segments.is_empty() && self.segment_refs.iter().any(|r| segments.contains(r))
    }

    /// Adds every data path the rule may read (everything, when a path is computed).
    pub fn projection(&self, p: &mut Projection) {
        p.merge(&self.projection);
    }

    /// Evaluates the rule and returns its value (borrowed from `data` or the rule when it can).
    pub fn apply<'s, 'a>(&'s self, data: &'s Value<'a>, env: &Env) -> Result<Cow<'s, Value<'a>>, EvalError> {
        self.root.eval(&eval::Scope::root(data), &eval::Cx::new(env))
    }

    /// Whether the rule's value is truthy: the segment test.
    pub fn matches(&self, data: &Value, env: &Env) -> Result<bool, Error> {
        self.root.truth(&eval::Scope::root(data), &eval::Cx::new(env)).map_err(|e| self.error(&e))
    }

    /// [`Rule::matches`], reusing (and filling) the results `memo` holds for sub-rules shared
    /// with other rules (see [`share_results`]). `memo` must belong to one data document.
    pub fn matches_with(&self, data: &Value, env: &Env, memo: &Memo) -> Result<bool, Error> {
        let cx = eval::Cx::with_memo(env, &self.slots, memo);
        self.root.truth(&eval::Scope::root(data), &cx).map_err(|e| self.error(&e))
    }

    /// Like [`Rule::matches`], plus the sub-conditions that decided it (at most 32 steps).
    pub fn explain(&self, data: &Value, env: &Env) -> (Result<bool, Error>, Vec<Step>) {
        let mut x = explain::Explainer { paths: &self.paths, steps: Vec::new() };
        let result = x.node(&self.root, &eval::Scope::root(data), &eval::Cx::new(env));
        (result.map(|v| truthy(&v)).map_err(|e| self.error(&e)), x.steps)
    }

    /// The error to report for an evaluation failure: its code, message and the JSON pointer of
    /// the sub-rule that failed.
    pub fn error(&self, e: &EvalError) -> Error {
        let path = self.paths.get(e.node() as usize).map_or("", |p| p);
        Error::new(e.code(), path, e.message())
    }

    /// Whether the rule is a truthy literal (`true`, `1`): it holds for every user.
    #[cfg(lint)]
    pub fn always_true(&self) -> bool {
        matches!(&self.root.op, node::Op::Lit(v) if coerce::truthy(v))
    }

    /// The data paths written in the rule, each with the JSON pointer of its `var`, `val` or
    /// `exists`, or of its key of `missing`/`missing_some`, and where it starts: what `kizuna
    /// check` compares with the Context. A path in a `some`, `all`, `none`, `filter` or `map`
    /// body reads an item of the list iterated, one in a `reduce` body its `{accumulator,
    /// current}`: when that list is a data path written in the rule (`{"var":
    /// "user.purchases"}`, a `filter` of one, or `current.x` in a `reduce` over one), the path
    /// comes with it; bodies over other lists are left out (but a `reduce`'s `accumulator` and
    /// `current` are always its fields). So are `try` fallbacks (they read an error), computed
    /// paths and `val`'s paths into outer scopes.
    #[cfg(lint)]
    pub fn data_paths(&self) -> Vec<DataPath<'_>> {
        let mut out = Vec::new();
        self.scope_paths(&self.root, &Base::Data, &mut out);
        out
    }

    /// [`Rule::data_paths`] of `node` and the nodes evaluated in its scope, which starts at
    /// `base`, and of the iterator bodies among them.
    #[cfg(lint)]
    fn scope_paths<'r>(&'r self, node: &'r node::Node, base: &Base<'r>, out: &mut Vec<DataPath<'r>>) {
        use crate::contract::fields::Step;
        use node::{Args, Op, PathSpec};
        let mut nodes = Vec::new();
        node.root_scope_nodes(&mut nodes);
        let pointer = |id: u32| self.paths.get(id as usize).map_or("", |p| p).to_string();
        for n in nodes {
            match &n.op {
                Op::Var { path: PathSpec::Static { climb: 0, keys }, .. } => {
                    out.push((pointer(n.id), keys.iter().map(|k| Step::key(&k.name, k.index.is_some())).collect(), base.clone(), None));
                }
                Op::Val(PathSpec::Static { climb: 0, keys }) | Op::Exists(PathSpec::Static { climb: 0, keys }) => {
                    let op = if matches!(n.op, Op::Val(_)) { "val" } else { "exists" };
                    out.push((pointer(n.id), keys.iter().map(|k| Step::key(&k.name, k.index.is_some())).collect(), base.clone(), Some(op)));
                }
                Op::Missing(Args::List(keys)) => {
                    for k in keys {
                        if let Op::Lit(v) = &k.op {
                            missing_keys(v, pointer(k.id), base, out);
                        }
                    }
                }
                Op::MissingSome(_, keys) => {
                    if let Op::Lit(v) = &keys.op {
                        missing_keys(v, pointer(keys.id), base, out);
                    }
                }
                Op::Iter(_, list, body) => {
                    if let Some(items) = items_of(list, base) {
                        self.scope_paths(body, &Base::Item(items), out);
                    }
                }
                Op::Reduce(list, body, _) => self.scope_paths(body, &Base::Reduce(items_of(list, base)), out),
                _ => {}
            }
        }
    }
}

#[cfg(lint)]
impl Rule {
    /// The comparisons (`<`, `==`, …, with the JSON pointer of each) that have a timestamp on
    /// one side and anything but `null` (a check for a missing one) on the other: they compare
    /// text, not instants. A timestamp is what kizuna knows to be one: `now`, `ago`,
    /// `from_now`, and the Context's timestamp fields, by their last key (so `at` inside a
    /// `some` over purchases counts too). Iterator bodies and `try` fallbacks included.
    pub fn text_compared_timestamps(&self) -> Vec<(String, &'static str)> {
        use node::{Op, PathSpec};
        fn stamp(n: &node::Node) -> bool {
            match &n.op {
                Op::Now | Op::Shift(..) => true,
                Op::Var { path: PathSpec::Static { keys, .. }, .. } => {
                    keys.last().is_some_and(|k| matches!(&*k.name, "at" | "followedAt" | "lastActiveAt")) || matches!(&keys[..], [k] if &*k.name == "now")
                }
                _ => false,
            }
        }
        fn walk<'n>(n: &'n node::Node, out: &mut Vec<&'n node::Node>) {
            out.push(n);
            for child in n.children() {
                walk(child, out);
            }
        }
        let mut nodes = Vec::new();
        walk(&self.root, &mut nodes);
        nodes
            .into_iter()
            .filter_map(|n| match &n.op {
                Op::Compare(_, args) if args.iter().any(stamp) && !args.iter().any(|a| matches!(a.op, Op::Lit(Value::Null))) => {
                    Some((self.paths.get(n.id as usize).map_or("", |p| p).to_string(), n.name()))
                }
                _ => None,
            })
            .collect()
    }
}

/// A data path a rule reads: the JSON pointer of where it is written, its steps, where it
/// starts (see [`Rule::data_paths`]) and, when it is written one key per step (a key may then
/// hold a dot: `{"val": "user.tags"}` reads one key, `user.tags`), the operator (`val`,
/// `exists`).
#[cfg(lint)]
pub type DataPath<'r> = (String, Vec<crate::contract::fields::Step<'r>>, Base<'r>, Option<&'static str>);

/// The path from the data of the list that `list`, evaluated in a scope starting at `base`,
/// iterates, when it is one: a static `var` or `val` path (`{"var": "user.purchases"}`, with
/// no default or an empty list), or a `filter` of one (the same items).
#[cfg(lint)]
fn items_of<'r>(list: &'r node::Node, base: &Base<'r>) -> Option<Vec<crate::contract::fields::Step<'r>>> {
    use crate::contract::fields::Step;
    use node::{Op, PathSpec};
    let keys = match &list.op {
        Op::Iter(node::Iter::Filter, source, _) => return items_of(source, base),
        Op::Var { path: PathSpec::Static { climb: 0, keys }, default: None } | Op::Val(PathSpec::Static { climb: 0, keys }) => keys,
        Op::Var { path: PathSpec::Static { climb: 0, keys }, default: Some(d) } if matches!(&d.op, Op::Lit(Value::Array(a)) if a.is_empty()) || matches!(&d.op, Op::Lit(Value::Null)) => keys,
        _ => return None,
    };
    let steps = keys.iter().map(|k| Step::key(&k.name, k.index.is_some()));
    match base {
        Base::Data => Some(steps.collect()),
        Base::Item(outer) => Some(outer.iter().cloned().chain([Step::any_item()]).chain(steps).collect()),
        // `current.x`: `x` of the item; `accumulator.x` is anything.
        Base::Reduce(Some(outer)) if keys.first().is_some_and(|k| &*k.name == "current") => {
            Some(outer.iter().cloned().chain([Step::any_item()]).chain(steps.skip(1)).collect())
        }
        Base::Reduce(_) | Base::Name(_) => None,
    }
}

/// The dotted paths a literal key of `missing` names (a string, or an array of them), each
/// with its pointer (`at`, then the index in an array).
#[cfg(lint)]
fn missing_keys<'r>(v: &'r Value<'static>, at: String, base: &Base<'r>, out: &mut Vec<DataPath<'r>>) {
    match v {
        Value::String(s) if !s.is_empty() => {
            out.push((at, s.split('.').map(|k| crate::contract::fields::Step::key(k, node::array_index(k).is_some())).collect(), base.clone(), None));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                missing_keys(item, format!("{at}/{i}"), base, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
