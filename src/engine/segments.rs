//! Segments: compiled conditions, exclusive groups, and the order that lets `in_segment` read
//! segments already decided.

use crate::contract::config::Config;
use crate::contract::context::Checked;
use crate::contract::read::{join, Problems};
use crate::contract::{SegmentExplain, Step};
use crate::error::{Code, Error};
use crate::logic::{self, Env, Rule};
use crate::value::{Projection, Value};
use chrono::FixedOffset;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

#[derive(Debug, Clone)]
struct Seg {
    id: String,
    group: Option<usize>,
    /// `None` only while compiling a config that has errors (it is then never decided).
    rule: Option<Rule>,
}

/// What is decided as one step: a lone segment, or a whole exclusive group (first match wins,
/// so its members cannot be decided one by one).
#[derive(Debug, Clone)]
enum Unit {
    One(usize),
    /// Group index and its members in trial order (priority descending, then config order).
    Group(usize, Vec<usize>),
}

#[derive(Debug, Clone)]
pub struct Segments {
    segs: Vec<Seg>,
    groups: Vec<String>,
    /// Units in dependency order.
    order: Vec<Unit>,
    /// Sub-rules several segments share (see `logic::share_results`).
    memo_slots: usize,
}

/// What the segments decided, by index (names are looked up only when written out).
pub struct Outcome {
    /// Matched segments, in config order.
    pub matched: Vec<usize>,
    /// (group name, winning segment), sorted by group name.
    pub groups: Vec<(usize, usize)>,
    /// Every segment's result by index, for rules evaluated later (content variants).
    pub results: Vec<Option<bool>>,
    /// The segments whose result is not known for sure: their condition failed to evaluate
    /// (counted as not matched), it reads (`in_segment`) a segment not known for sure, or a
    /// group member before them is not known for sure (it might have won, or not). Rich menus
    /// leave a user's menu alone rather than act on them.
    pub unsure: Vec<usize>,
    pub errors: Vec<Error>,
    pub explain: Option<Vec<SegmentExplain>>,
}

impl Segments {
    pub fn compile(config: &Config, opts: &logic::Options, p: &mut Problems) -> Segments {
        let mut groups: Vec<String> = Vec::new();
        // Group name → index, so thousands of groups stay O(n log n).
        let mut group_index: BTreeMap<&str, usize> = BTreeMap::new();
        let mut segs = Vec::new();
        let mut refs: Vec<Vec<usize>> = Vec::new();
        for (i, s) in config.segments.iter().enumerate() {
            let group = s.group.as_deref().map(|g| match group_index.get(g) {
                Some(&gi) => gi,
                None => {
                    group_index.insert(g, groups.len());
                    groups.push(g.to_string());
                    groups.len() - 1
                }
            });
            match logic::compile(&s.when, opts, &join(&join("/segments", i), "when")) {
                Ok(rule) => {
                    refs.push(rule.segment_refs().to_vec());
                    segs.push(Seg { id: s.id.clone(), group, rule: Some(rule) });
                }
                Err(errors) => {
                    p.0.extend(errors);
                    refs.push(Vec::new());
                    segs.push(Seg { id: s.id.clone(), group, rule: None });
                }
            }
        }
        // Units: one per ungrouped segment, one per group (at its first member's place).
        let mut units: Vec<Unit> = Vec::new();
        let mut unit_of = Vec::with_capacity(segs.len());
        let mut unit_of_group: Vec<Option<usize>> = vec![None; groups.len()];
        for (i, s) in segs.iter().enumerate() {
            match s.group {
                None => {
                    unit_of.push(units.len());
                    units.push(Unit::One(i));
                }
                Some(g) => match unit_of_group.get(g).copied().flatten() {
                    Some(u) => {
                        unit_of.push(u);
                        if let Some(Unit::Group(_, members)) = units.get_mut(u) {
                            members.push(i);
                        }
                    }
                    None => {
                        if let Some(slot) = unit_of_group.get_mut(g) {
                            *slot = Some(units.len());
                        }
                        unit_of.push(units.len());
                        units.push(Unit::Group(g, vec![i]));
                    }
                },
            }
        }
        for u in &mut units {
            if let Unit::Group(_, members) = u {
                let prio = |i: &usize| config.segments.get(*i).and_then(|s| s.priority).unwrap_or(0);
                // Stable: ties keep config order.
                crate::sort::sort_stable_by(members, &mut |a, b| prio(a) > prio(b));
            }
        }
        let order = order_units(&units, &unit_of, &refs, config, p);
        let memo_slots = logic::share_results(segs.iter_mut().filter_map(|s| s.rule.as_mut()));
        Segments { segs, groups, order, memo_slots }
    }

    pub fn projection(&self, p: &mut Projection) {
        for rule in self.segs.iter().filter_map(|s| s.rule.as_ref()) {
            rule.projection(p);
        }
    }

    /// Every segment's rule (for `Engine::warnings`).
    #[cfg(lint)]
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.segs.iter().filter_map(|s| s.rule.as_ref())
    }

    pub fn decide(&self, doc: &Value<'_>, c: &Checked<'_>, tz: FixedOffset, explain: bool) -> Outcome {
        let mut results: Vec<Option<bool>> = vec![None; self.segs.len()];
        // Conditions, steps and `taken_by` are read only by `explain`: empty otherwise (`set`
        // ignores indexes out of range), two allocations fewer per decision.
        let traced = if explain { self.segs.len() } else { 0 };
        let mut conditions: Vec<bool> = vec![false; traced];
        let mut steps: Vec<Vec<Step>> = vec![Vec::new(); traced];
        let mut taken_by: Vec<Option<usize>> = vec![None; traced];
        let mut errors = Vec::new();
        let mut unsure = Vec::new();
        let mut won: Vec<(usize, usize)> = Vec::new();
        let memo = logic::Memo::new(self.memo_slots);
        for unit in &self.order {
            let members: &[usize] = match unit {
                Unit::One(i) => std::slice::from_ref(i),
                Unit::Group(_, m) => m,
            };
            let mut winner: Option<usize> = None;
            let mut failed = false;
            // The winner is not known for sure: the members after it might have won instead.
            let mut doubtful = false;
            for &i in members {
                let Some((seg, rule)) = self.segs.get(i).and_then(|s| Some((s, s.rule.as_ref()?))) else { continue };
                if winner.is_some() && doubtful {
                    unsure.push(i);
                }
                if winner.is_some() && !explain {
                    set(&mut results, i, Some(false));
                    set(&mut taken_by, i, winner);
                    continue;
                }
                let env = Env { now: c.now, tz, segments: &results, flag_key: Some(&seg.id), targeting_key: Some(c.user_id) };
                let outcome = if explain {
                    let (r, s) = rule.explain(doc, &env);
                    if let Some(slot) = steps.get_mut(i) {
                        *slot = s.into_iter().map(step).collect();
                    }
                    r
                } else {
                    rule.matches_with(doc, &env, &memo)
                };
                let holds = outcome.unwrap_or_else(|e| {
                    // A group member after the winner is evaluated only for the explain trace
                    // (its steps show the failure): explaining must not change the decision.
                    if winner.is_none() {
                        errors.push(e);
                        failed = true;
                        unsure.push(i);
                    }
                    false
                });
                // Only once something failed (`failed` implies it): the usual decision skips it.
                if winner.is_none() && !unsure.is_empty() {
                    let reads_unsure = rule.reads_any(&unsure);
                    if !unsure.contains(&i) && ((holds && failed) || reads_unsure) {
                        unsure.push(i);
                        // Reading an unsure segment, this member might hold when it does not
                        // (later members may hold after it) or not hold when it does (they may win).
                        failed |= !holds;
                        doubtful = holds && reads_unsure;
                    }
                }
                set(&mut conditions, i, holds);
                let member = holds && winner.is_none();
                if member && seg.group.is_some() {
                    winner = Some(i);
                } else if holds {
                    set(&mut taken_by, i, winner);
                }
                set(&mut results, i, Some(member));
            }
            if let (Unit::Group(g, _), Some(w)) = (unit, winner) {
                won.push((*g, w));
            }
        }
        crate::sort::sort_stable_by(&mut won, &mut |a, b| self.group_name(a.0) < self.group_name(b.0));
        let matched = results.iter().enumerate().filter(|(_, r)| **r == Some(true)).map(|(i, _)| i).collect();
        let explain = explain.then(|| {
            self.segs
                .iter()
                .enumerate()
                .map(|(i, s)| SegmentExplain {
                    segment: s.id.clone(),
                    matched: results.get(i).copied().flatten().unwrap_or(false),
                    condition: conditions.get(i).copied().unwrap_or(false),
                    taken_by: taken_by.get(i).copied().flatten().and_then(|w| self.segs.get(w)).map(|w| w.id.clone()),
                    steps: steps.get_mut(i).map(std::mem::take).unwrap_or_default(),
                })
                .collect()
        });
        Outcome { matched, groups: won, results, unsure, errors, explain }
    }

    pub fn id(&self, seg: usize) -> &str {
        self.segs.get(seg).map_or("", |s| s.id.as_str())
    }

    pub fn group_name(&self, group: usize) -> &str {
        self.groups.get(group).map_or("", String::as_str)
    }
}

fn set<T>(v: &mut [T], i: usize, x: T) {
    if let Some(slot) = v.get_mut(i) {
        *slot = x;
    }
}

/// Reports the circles among the units Kahn's order could not place, one problem per circle (or
/// knot of circles) at its first segment, naming the segments in it — not those that merely read
/// one.
#[cold]
#[inline(never)]
fn report_cycles(done: &[bool], deps: &[Vec<usize>], readers: &[Vec<usize>], unit_of: &[usize], config: &Config, p: &mut Problems) {
    let n = deps.len();
    let at = |v: &[bool], u: usize| v.get(u) == Some(&true);
    // Peel off, from the reading end, units no other left-over unit reads: what stays is on a
    // circle (or between two).
    let mut knot: Vec<bool> = (0..n).map(|u| !at(done, u)).collect();
    let mut read_by: Vec<usize> = (0..n).map(|u| row(readers, u).iter().filter(|&&r| at(&knot, r)).count()).collect();
    let mut free: Vec<usize> = (0..n).filter(|&u| at(&knot, u) && read_by.get(u) == Some(&0)).collect();
    while let Some(u) = free.pop() {
        set(&mut knot, u, false);
        for &x in row(deps, u) {
            if let (true, Some(count)) = (at(&knot, x), read_by.get_mut(x)) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    free.push(x);
                }
            }
        }
    }
    // Knots connected by references are one report: number them, then bucket the segments.
    let mut knot_of: Vec<Option<usize>> = vec![None; n];
    let mut knots = 0;
    for start in 0..n {
        if !at(&knot, start) || knot_of.get(start).copied().flatten().is_some() {
            continue;
        }
        set(&mut knot_of, start, Some(knots));
        let mut todo = vec![start];
        while let Some(u) = todo.pop() {
            for &x in row(deps, u).iter().chain(row(readers, u)) {
                if at(&knot, x) && knot_of.get(x).copied().flatten().is_none() {
                    set(&mut knot_of, x, Some(knots));
                    todo.push(x);
                }
            }
        }
        knots += 1;
    }
    let mut segs: Vec<Vec<usize>> = vec![Vec::new(); knots];
    for (s, &u) in unit_of.iter().enumerate() {
        if let Some(list) = knot_of.get(u).copied().flatten().and_then(|k| segs.get_mut(k)) {
            list.push(s);
        }
    }
    for segs in segs {
        let first = segs.first().copied().unwrap_or(0);
        // Ten names are enough to find the circle; thousands would bury it.
        let mut names: Vec<String> = segs.iter().take(10).filter_map(|&s| config.segments.get(s)).map(|s| format!("\"{}\"", s.id)).collect();
        if segs.len() > names.len() {
            names.push(format!("and {} more", segs.len() - names.len()));
        }
        // Through a group, the circle may close at another member of it than the one read.
        let grouped = segs.iter().any(|&s| config.segments.get(s).is_some_and(|s| s.group.is_some()));
        let hint = if grouped { " (an exclusive group is decided as a whole: reading one of its members waits for all of them)" } else { "" };
        p.push(
            Code::SegmentCycle,
            &join(&join("/segments", first), "when"),
            format!("segments refer to each other in a circle through in_segment: {}{hint}", names.join(", ")),
        );
    }
}

#[cold]
#[inline(never)]
fn report_self_reference(seg: usize, target: usize, config: &Config, p: &mut Problems) {
    let id = |i: usize| config.segments.get(i).map_or("", |s| s.id.as_str());
    let message = match config.segments.get(seg).and_then(|s| s.group.as_deref()) {
        Some(group) if seg != target => format!(
            "segment \"{}\" reads \"{}\" through in_segment, but both are in the exclusive group \"{group}\", which is decided as a whole: a member cannot read another; repeat that segment's condition here instead (a higher priority already puts a member before it)",
            id(seg),
            id(target)
        ),
        _ => format!("segment \"{}\" reads itself through in_segment", id(seg)),
    };
    p.push(Code::SegmentCycle, &join(&join("/segments", seg), "when"), message);
}

/// Row `u` of an adjacency list (empty past its end).
fn row(rows: &[Vec<usize>], u: usize) -> &[usize] {
    rows.get(u).map_or(&[], Vec::as_slice)
}

pub(super) fn step(s: logic::Step) -> Step {
    Step { path: s.path, op: s.op, args: s.args, result: s.result }
}

/// Orders units so that every unit comes after the units it reads (Kahn's algorithm, keeping
/// config order among ready units); reports each cycle once with the segments in it.
fn order_units(units: &[Unit], unit_of: &[usize], refs: &[Vec<usize>], config: &Config, p: &mut Problems) -> Vec<Unit> {
    let n = units.len();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (seg, targets) in refs.iter().enumerate() {
        let Some(&from) = unit_of.get(seg) else { continue };
        for &t in targets {
            if unit_of.get(t) == Some(&from) {
                // A segment reading itself, or a member of its own group: said at the reader, with
                // the segment it reads (a circle of one unit would name the whole group at its first
                // member, which may read nothing at all).
                report_self_reference(seg, t, config, p);
                continue;
            }
            if let (Some(&to), Some(d)) = (unit_of.get(t), deps.get_mut(from)) {
                if !d.contains(&to) {
                    d.push(to);
                }
            }
        }
    }
    // Each unit waits for its dependencies; the ready one first in config order goes next.
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (u, d) in deps.iter().enumerate() {
        for &x in d {
            if let Some(r) = readers.get_mut(x) {
                r.push(u);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..n).filter(|&u| waiting.get(u) == Some(&0)).map(Reverse).collect();
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(u)) = ready.pop() {
        set(&mut done, u, true);
        if let Some(unit) = units.get(u) {
            order.push(unit.clone());
        }
        for &r in row(&readers, u) {
            if let Some(w) = waiting.get_mut(r) {
                *w = w.saturating_sub(1);
                if *w == 0 {
                    ready.push(Reverse(r));
                }
            }
        }
    }
    if order.len() < n {
        report_cycles(&done, &deps, &readers, unit_of, config, p);
    }
    order
}
