//! The compiled form of a rule: a tree of [`Node`]s with pre-split data paths, pre-built literal
//! values and pre-parsed timestamps and durations. Built by `compile.rs`, read by `eval.rs`.

use super::time::{IsoDuration, Stamp};
use crate::value::{Projection, Value};

#[derive(Clone, Debug)]
pub(crate) struct Node {
    /// Index into the rule's table of JSON pointers (for errors and explain steps).
    pub id: u32,
    pub op: Op,
}

/// One key of a data path; `index` is the key read as an array index when it is one.
#[derive(Clone, Debug)]
pub(crate) struct Key {
    pub name: Box<str>,
    pub index: Option<usize>,
}

impl Key {
    pub fn new(name: &str) -> Key {
        Key { name: name.into(), index: array_index(name) }
    }
}

/// `"3"` → 3; like JavaScript, `"03"` or `"+3"` are not indexes.
pub(crate) fn array_index(name: &str) -> Option<usize> {
    if name.is_empty() || (name.len() > 1 && name.starts_with('0')) || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

/// A data path known at compile time, or an expression that yields one.
#[derive(Clone, Debug)]
pub(crate) enum PathSpec {
    /// Keys from the scope's data (empty = the data itself). `climb` is `val`'s `[[n], ...]`
    /// scope climbing (0 = the current scope).
    Static { climb: usize, keys: Box<[Key]> },
    Dynamic(Box<Node>),
}

/// Arguments of the variadic operators: a literal array of expressions, or one expression
/// whose value (spread when it is an array) supplies them: `{"+": {"var": "prices"}}`.
#[derive(Clone, Debug)]
pub(crate) enum Args {
    List(Vec<Node>),
    Spread(Box<Node>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    StrictEq,
    StrictNe,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Max,
    Min,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Iter {
    Map,
    Filter,
    All,
    Some,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Calendar {
    Weekday,
    TimeOfDay,
    Month,
    DayOfMonth,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tags {
    One,
    Any,
    All,
}

/// A timestamp operand: the compiled expression (kept for explain) plus a shortcut when the
/// instant needs no string round trip.
#[derive(Clone, Debug)]
pub(crate) struct TimeArg {
    pub node: Node,
    pub fast: TimeFast,
}

#[derive(Clone, Debug)]
pub(crate) enum TimeFast {
    /// A literal timestamp, parsed at compile time.
    Stamp(Stamp),
    /// `{"now": []}`.
    Now,
    /// `{"ago": d}` (sign -1) or `{"from_now": d}` (sign 1).
    Shift(i64, IsoDuration),
    /// Anything else: evaluate `node` and parse the string.
    Eval,
}

#[derive(Clone, Debug)]
pub(crate) enum Op {
    /// A constant (also `preserve`, and arrays without operations in them).
    Lit(Value<'static>),
    /// An array literal with operations inside: each item is evaluated.
    Array(Vec<Node>),
    Var { path: PathSpec, default: Option<Box<Node>> },
    Val(PathSpec),
    Exists(PathSpec),
    Missing(Args),
    MissingSome(Box<Node>, Box<Node>),
    If(Vec<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Truthy(Box<Node>),
    Coalesce(Vec<Node>),
    Try(Vec<Node>),
    Throw(Box<Node>),
    Compare(Cmp, Vec<Node>),
    Arith(Arith, Args),
    Iter(Iter, Box<Node>, Box<Node>),
    Reduce(Box<Node>, Box<Node>, Option<Box<Node>>),
    Merge(Args),
    Cat(Args),
    In(Box<Node>, Box<Node>),
    Substr(Vec<Node>),
    StartsWith(Box<Node>, Box<Node>),
    EndsWith(Box<Node>, Box<Node>),
    // -- time --
    Now,
    /// `ago` (-1) / `from_now` (1).
    Shift(i64, IsoDuration),
    /// `days_since` (86,400 × 10^9) / `hours_since` (3,600 × 10^9): nanoseconds per unit.
    Since(f64, Box<TimeArg>),
    /// `calendar_days_since`: how many dates apart in the config's zone (whole days).
    CalendarDays(Box<TimeArg>),
    /// `before` (true) / `after` (false).
    Before(bool, Box<TimeArg>, Box<TimeArg>),
    TimeBetween(Box<[TimeArg; 3]>),
    Calendar(Calendar, Option<Box<TimeArg>>),
    /// `duration`: its length in seconds.
    Duration(f64),
    // -- marketing --
    Tags(Tags, Box<[Box<str>]>),
    InSegment(usize, Box<str>),
    Fractional(Vec<Node>),
    SemVer(Vec<Node>),
}

impl Node {
    /// The operator name as written in the rule (for explain steps).
    pub fn name(&self) -> &'static str {
        match &self.op {
            Op::Lit(_) => "literal",
            Op::Array(_) => "array",
            Op::Var { .. } => "var",
            Op::Val(_) => "val",
            Op::Exists(_) => "exists",
            Op::Missing(_) => "missing",
            Op::MissingSome(..) => "missing_some",
            Op::If(_) => "if",
            Op::And(_) => "and",
            Op::Or(_) => "or",
            Op::Not(_) => "!",
            Op::Truthy(_) => "!!",
            Op::Coalesce(_) => "??",
            Op::Try(_) => "try",
            Op::Throw(_) => "throw",
            Op::Compare(c, _) => match c {
                Cmp::Eq => "==",
                Cmp::Ne => "!=",
                Cmp::StrictEq => "===",
                Cmp::StrictNe => "!==",
                Cmp::Lt => "<",
                Cmp::Le => "<=",
                Cmp::Gt => ">",
                Cmp::Ge => ">=",
            },
            Op::Arith(a, _) => match a {
                Arith::Add => "+",
                Arith::Sub => "-",
                Arith::Mul => "*",
                Arith::Div => "/",
                Arith::Mod => "%",
                Arith::Max => "max",
                Arith::Min => "min",
            },
            Op::Iter(i, ..) => match i {
                Iter::Map => "map",
                Iter::Filter => "filter",
                Iter::All => "all",
                Iter::Some => "some",
                Iter::None => "none",
            },
            Op::Reduce(..) => "reduce",
            Op::Merge(_) => "merge",
            Op::Cat(_) => "cat",
            Op::In(..) => "in",
            Op::Substr(_) => "substr",
            Op::StartsWith(..) => "starts_with",
            Op::EndsWith(..) => "ends_with",
            Op::Now => "now",
            Op::Shift(s, _) => {
                if *s < 0 {
                    "ago"
                } else {
                    "from_now"
                }
            }
            Op::Since(unit, _) => {
                if *unit == 3_600e9 {
                    "hours_since"
                } else {
                    "days_since"
                }
            }
            Op::CalendarDays(_) => "calendar_days_since",
            Op::Before(b, ..) => {
                if *b {
                    "before"
                } else {
                    "after"
                }
            }
            Op::TimeBetween(_) => "time_between",
            Op::Calendar(c, _) => match c {
                Calendar::Weekday => "weekday",
                Calendar::TimeOfDay => "time_of_day",
                Calendar::Month => "month",
                Calendar::DayOfMonth => "day_of_month",
            },
            Op::Duration(_) => "duration",
            Op::Tags(t, _) => match t {
                Tags::One => "has_tag",
                Tags::Any => "has_any_tag",
                Tags::All => "has_all_tags",
            },
            Op::InSegment(..) => "in_segment",
            Op::Fractional(_) => "fractional",
            Op::SemVer(_) => "sem_ver",
        }
    }

    /// The sub-expressions evaluated in this node's own scope, in argument order (iterator
    /// bodies and `try` fallbacks run in other scopes and are left out).
    pub fn operands(&self) -> Vec<&Node> {
        fn args(a: &Args) -> Vec<&Node> {
            match a {
                Args::List(v) => v.iter().collect(),
                Args::Spread(n) => vec![n],
            }
        }
        fn path(p: &PathSpec) -> Vec<&Node> {
            match p {
                PathSpec::Dynamic(n) => vec![n],
                PathSpec::Static { .. } => Vec::new(),
            }
        }
        match &self.op {
            Op::Lit(_) | Op::Now | Op::Shift(..) | Op::Duration(_) | Op::Tags(..) | Op::InSegment(..) => Vec::new(),
            Op::Array(v) | Op::If(v) | Op::And(v) | Op::Or(v) | Op::Coalesce(v) | Op::Compare(_, v) | Op::Substr(v) | Op::Fractional(v) | Op::SemVer(v) => {
                v.iter().collect()
            }
            Op::Try(v) => v.first().into_iter().collect(),
            Op::Var { path: p, default } => {
                let mut out = path(p);
                out.extend(default.as_deref());
                out
            }
            Op::Val(p) | Op::Exists(p) => path(p),
            Op::Missing(a) | Op::Merge(a) | Op::Cat(a) | Op::Arith(_, a) => args(a),
            Op::MissingSome(a, b) | Op::In(a, b) | Op::StartsWith(a, b) | Op::EndsWith(a, b) => vec![a, b],
            Op::Not(n) | Op::Truthy(n) | Op::Throw(n) | Op::Iter(_, n, _) => vec![n],
            Op::Reduce(a, _, init) => {
                let mut out = vec![&**a];
                out.extend(init.as_deref());
                out
            }
            Op::Since(_, t) | Op::CalendarDays(t) => vec![&t.node],
            Op::Before(_, a, b) => vec![&a.node, &b.node],
            Op::TimeBetween(t) => t.iter().map(|a| &a.node).collect(),
            Op::Calendar(_, t) => t.iter().map(|a| &a.node).collect(),
        }
    }

    /// Adds the data paths this node may read. `nested` is true inside an iterator body or a
    /// `try` fallback, where `var` paths are relative to an item, not to the document.
    pub fn project(&self, p: &mut Projection, nested: bool) {
        let add_keys = |p: &mut Projection, climb: usize, keys: &[Key]| {
            if climb > 0 {
                p.add(std::iter::empty()); // reaches into outer scopes: keep everything
            } else if !nested {
                p.add(keys.iter().map(|k| &*k.name));
            }
        };
        match &self.op {
            Op::Var { path: PathSpec::Static { climb, keys }, default } => {
                add_keys(p, *climb, keys);
                if let Some(d) = default {
                    d.project(p, nested);
                }
            }
            Op::Val(PathSpec::Static { climb, keys }) | Op::Exists(PathSpec::Static { climb, keys }) => add_keys(p, *climb, keys),
            Op::Var { path: PathSpec::Dynamic(_), .. } | Op::Val(PathSpec::Dynamic(_)) | Op::Exists(PathSpec::Dynamic(_)) => {
                p.add(std::iter::empty());
            }
            Op::Missing(Args::List(keys)) if keys.iter().all(|k| matches!(k.op, Op::Lit(_))) => {
                for k in keys {
                    if let Op::Lit(v) = &k.op {
                        project_literal_keys(p, v, nested);
                    }
                }
            }
            Op::MissingSome(need, keys) if matches!(keys.op, Op::Lit(_)) => {
                need.project(p, nested);
                if let Op::Lit(v) = &keys.op {
                    project_literal_keys(p, v, nested);
                }
            }
            Op::Missing(_) | Op::MissingSome(..) => p.add(std::iter::empty()),
            Op::Iter(_, list, body) | Op::Reduce(list, body, None) => {
                list.project(p, nested);
                body.project(p, true);
            }
            Op::Reduce(list, body, Some(init)) => {
                list.project(p, nested);
                init.project(p, nested);
                body.project(p, true);
            }
            Op::Try(args) => {
                if let Some(first) = args.first() {
                    first.project(p, nested);
                }
                for fallback in args.iter().skip(1) {
                    fallback.project(p, true);
                }
            }
            Op::Tags(..) => p.add(["user", "tags"]),
            Op::Fractional(args) => {
                p.add(["targetingKey"]);
                p.add(["$flagd", "flagKey"]);
                for a in args {
                    a.project(p, nested);
                }
            }
            _ => {
                for child in self.operands() {
                    child.project(p, nested);
                }
            }
        }
    }

    /// Adds this node and the nodes evaluated in its scope (the rule's root scope, when called
    /// on the root): not iterator bodies or `try` fallbacks.
    pub fn root_scope_nodes<'n>(&'n self, out: &mut Vec<&'n Node>) {
        out.push(self);
        for child in self.operands() {
            child.root_scope_nodes(out);
        }
    }

    /// Every node evaluated below this one, in any scope: the [`Node::operands`], and an
    /// iterator's or `reduce`'s body (run per item) and `try`'s fallbacks (run on an error).
    pub fn children(&self) -> Vec<&Node> {
        match &self.op {
            Op::Iter(_, list, body) => vec![list, body],
            Op::Reduce(list, body, init) => {
                let mut out = vec![&**list, &**body];
                out.extend(init.as_deref());
                out
            }
            Op::Try(args) => args.iter().collect(),
            _ => self.operands(),
        }
    }

    /// Whether the value depends on nothing but the data and `now`: no `in_segment` (other
    /// segments' results) and no `fractional` (the flag key) anywhere below.
    pub fn data_only(&self) -> bool {
        match &self.op {
            Op::InSegment(..) | Op::Fractional(_) => false,
            _ => self.children().into_iter().all(Node::data_only),
        }
    }

    /// Adds the segments named by `in_segment` anywhere below.
    pub fn segment_refs(&self, out: &mut Vec<usize>) {
        match &self.op {
            Op::InSegment(i, _) => out.push(*i),
            _ => self.children().into_iter().for_each(|c| c.segment_refs(out)),
        }
    }
}

/// `missing` keys are dotted `var` paths.
fn project_literal_keys(p: &mut Projection, v: &Value, nested: bool) {
    if nested {
        return;
    }
    match v {
        Value::Array(items) => items.iter().for_each(|i| project_literal_keys(p, i, nested)),
        Value::String(s) if s.is_empty() => p.add(std::iter::empty()),
        Value::String(s) => p.add(s.split('.')),
        Value::Int(i) => p.add([i.to_string().as_str()]),
        _ => {}
    }
}
