//! Warnings: what a config that compiles may still get wrong, for `kizuna check`. Native only:
//! the npm package is over its size budget and its users (LIFF apps, edge workers) never check
//! configs, so the pass stays out of the Wasm binary.
//!
//! `unknown_context_field`: a rule or template reads a field kizuna's Context does not define
//! (`{"var": "user.tgas"}`, `{{ user.dispalyName }}`, `{{ p.amout }}` in a loop over
//! `user.purchases`). A context tolerates unknown fields, so the path reads null and the
//! segment silently never matches.
//!
//! `unreachable`: a variant, rich-menu rule, default menu or content that is never used,
//! because something before it always applies.
//!
//! `unmeasured_arm`, `shared_aggregation_unit`: an experiment whose arms LINE's unit
//! statistics cannot compare (an arm without a unit beside arms with one; an arm's unit used
//! by another content too).
//!
//! `timestamp_as_text`: `<`, `==`, … with a timestamp on one side compare text (the org
//! dialect's strings), so the same instant at two offsets is neither equal nor in order, and
//! epoch milliseconds never compare with text.

use super::quiz::{DESCRIPTION_EXTRA, RULE_DATA};
use super::{Engine, Part, CONTENT_EXTRA};
use crate::contract::fields::{dotted, Base, Shape, Step, Syntax, CONTEXT};
use crate::error::{Code, Error};
use crate::logic::Rule;
use crate::template::Template;
use crate::line_shape::Loop;

impl Engine {
    /// Warnings about the config, ordered by JSON pointer as errors are (`/contents` before
    /// `/segments`, `/segments/2` before `/segments/10`; not by where they are in the file):
    /// each an [`Error`] (code, message, JSON pointer; a template's line and column) that never
    /// failed the compilation.
    ///
    /// `unknown_context_field`: a data path, read from the data a rule or template is given,
    /// names a field the Context does not define, inside an object that is not free-form
    /// (`user.attributes`, `user.quizAnswers`, a tracked event's `data` and the LINE event are
    /// free-form, and never warn). So does a path read from an item of a list the Context
    /// defines (`user.purchases`, `user.events`), where the rule or template says which list
    /// that is: in a `some`, `all`, `none`, `filter` or `map` body over a `var` path (or a
    /// `filter` of one), as `current.*` in a `reduce` over one, and from a template's `for`
    /// variable or a name it assigns once at its top level (see [`Rule::data_paths`],
    /// [`Template::data_paths`]); a `reduce`'s own fields (`accumulator`, `current`) are
    /// checked whatever it walks. Items of other lists are anything, and computed paths and
    /// the template's other names are not checked. The message suggests the field meant when
    /// one is close (`user.tgas` → `user.tags`).
    pub fn warnings(&self) -> Vec<Error> {
        let context = Shape::context();
        // Each data as it is built (see `Part`).
        let for_contents = with_part(context.clone(), CONTENT_EXTRA, &context);
        let for_quiz_rules = Shape::Object(RULE_DATA.iter().map(|&(name, part)| (name.to_string(), part_shape(name, part, &context))).collect());
        let for_descriptions = with_part(context.clone(), DESCRIPTION_EXTRA, &context);

        let data = Data { shape: &context, name: CONTEXT, sent: true, left_out: LeftOut::Nothing };
        let for_contents = Data { shape: &for_contents, ..data };
        // Built by kizuna: no other field at its top.
        let for_quiz_rules = Data { shape: &for_quiz_rules, name: "a quiz result rule's data", sent: false, left_out: LeftOut::QuizRule(&context) };

        let mut out = Vec::new();
        let reads = self.contents.reads();
        let menu_rules = self.menus.iter().flat_map(|m| m.rules());
        for rule in self.segments.rules().chain(menu_rules) {
            rule_warnings(rule, data, &[], &mut out);
        }
        for (rule, loops) in &reads.rules {
            rule_warnings(rule, data, loops, &mut out);
        }
        for (path, t, loops) in &reads.templates {
            template_warnings(t, path, for_contents, loops, &mut out);
        }
        for (pointer, lp, loops) in &reads.lists {
            let path = lp.list.iter().map(|k| Step::key(k, is_index(k))).collect();
            if let Some((base, path)) = in_loops(Base::Data, path, loops) {
                out.extend(for_contents.unknown_field(&base, &path, Syntax::JsonLogic).map(|m| Error::new(Code::UnknownContextField, pointer.as_str(), m)));
            }
        }
        let (quiz_rules, descriptions) = self.quizzes.rules_and_descriptions();
        for rule in quiz_rules {
            rule_warnings(rule, for_quiz_rules, &[], &mut out);
        }
        for (path, quiz, t) in &descriptions {
            let for_descriptions = Data { shape: &for_descriptions, left_out: LeftOut::Description(quiz), ..data };
            template_warnings(t, path, for_descriptions, &[], &mut out);
        }
        self.unreachable(&mut out);
        self.single_member_groups(&mut out);
        self.aggregation_units(&mut out);
        super::sorted_by_pointer(out)
    }

    /// `unmeasured_arm` and `shared_aggregation_unit`: what keeps LINE's unit statistics
    /// from comparing an experiment's arms. A running arm (weight above 0) without a unit
    /// while others have one gets no opens or taps counted; a unit of an arm that another
    /// content uses too counts that content's pushes in the arm's figures (the same arm of the
    /// same experiment in two contents, e.g. a reminder and its follow-up, is meant to).
    fn aggregation_units(&self, out: &mut Vec<Error>) {
        let contents = &self.config.contents;
        for (i, c) in contents.iter().enumerate() {
            let Some(experiment) = &c.experiment else { continue };
            let running = || c.variants.iter().enumerate().filter(|(_, v)| v.weight.is_some_and(|w| w > 0));
            let measured: Vec<String> = running().filter(|(_, v)| v.aggregation_unit.is_some()).map(|(_, v)| format!("\"{}\"", v.id)).collect();
            if measured.is_empty() {
                continue;
            }
            let (arms, have) = if measured.len() == 1 { ("arm", "does") } else { ("arms", "do") };
            for (j, v) in running().filter(|(_, v)| v.aggregation_unit.is_none()) {
                out.push(Error::new(
                    Code::UnmeasuredArm,
                    format!("/contents/{i}/variants/{j}"),
                    format!(
                        "arm \"{}\" of experiment \"{}\" has no \"aggregationUnit\", but {arms} {} {have}: LINE counts no opens or URL taps of its pushes, so theirs have nothing to be compared with; give it a unit of its own",
                        v.id,
                        experiment.id,
                        measured.join(", ")
                    ),
                ));
            }
        }
        // (content, variant, unit, the experiment when the variant is one of its arms).
        let uses: Vec<(usize, usize, &str, Option<&str>)> = contents
            .iter()
            .enumerate()
            .flat_map(|(i, c)| {
                let experiment = c.experiment.as_ref().map(|e| e.id.as_str());
                c.variants.iter().enumerate().filter_map(move |(j, v)| Some((i, j, v.aggregation_unit.as_deref()?, v.weight.and(experiment))))
            })
            .collect();
        let variant = |i: usize, j: usize| contents.get(i).and_then(|c| Some((c.id.as_str(), c.variants.get(j)?.id.as_str())));
        for (n, &(i, j, unit, arm)) in uses.iter().enumerate() {
            let same_arm = |k: usize, l: usize, other: Option<&str>| arm.is_some() && other == arm && variant(k, l).map(|v| v.1) == variant(i, j).map(|v| v.1);
            let first = uses.iter().take(n).find(|&&(k, l, u, other)| k != i && u == unit && (arm.is_some() || other.is_some()) && !same_arm(k, l, other));
            let Some(&(k, l, _, other)) = first else { continue };
            let Some((content, id)) = variant(k, l) else { continue };
            let what = match other {
                Some(e) => format!("arm \"{id}\" of experiment \"{e}\""),
                None => format!("variant \"{id}\""),
            };
            out.push(Error::new(
                Code::SharedAggregationUnit,
                format!("/contents/{i}/variants/{j}/aggregationUnit"),
                format!("aggregation unit \"{unit}\" is also used by content \"{content}\" ({what}): LINE counts the pushes of both in one unit, so an arm's figures would take in users outside its test; give each its own unit"),
            ));
        }
    }

    /// `single_member_group`: a group with one segment, named like another group or not.
    fn single_member_groups(&self, out: &mut Vec<Error>) {
        let groups: Vec<(usize, &str)> = self.config.segments.iter().enumerate().filter_map(|(i, s)| Some((i, s.group.as_deref()?))).collect();
        for &(i, g) in &groups {
            if groups.iter().filter(|(_, h)| *h == g).count() > 1 {
                continue;
            }
            let others = groups.iter().map(|&(_, h)| h).filter(|h| *h != g);
            let hint = match crate::error::suggest(g, others) {
                Some(close) => format!("; did you mean \"{close}\"?"),
                None => " (a group makes its members exclusive: the first that matches wins)".to_string(),
            };
            let id = self.config.segments.get(i).map_or("", |s| s.id.as_str());
            out.push(Error::new(Code::SingleMemberGroup, format!("/segments/{i}/group"), format!("group \"{g}\" has only segment \"{id}\", so it is exclusive with nothing{hint}")));
        }
    }

    /// `unreachable`: what comes after something that always applies.
    fn unreachable(&self, out: &mut Vec<Error>) {
        out.extend(self.contents.unreachable().into_iter().map(|(path, message)| Error::new(Code::Unreachable, path, message)));
        out.extend(self.quizzes.unused().into_iter().map(|(path, message)| Error::new(Code::Unreachable, path, message)));
        for (i, first) in self.menus.as_ref().map(|m| m.repeated_segments()).unwrap_or_default() {
            out.push(Error::new(Code::Unreachable, format!("/richMenus/rules/{i}"), format!("this rule is never used: rich-menu rule {first} before it names the same segment")));
        }
        if let Some((Some(first), rules, default)) = self.menus.as_ref().map(|m| m.catch_all()) {
            let why = format!("rich-menu rule {first} before it always matches (its \"when\" is true)");
            for i in first + 1..rules {
                out.push(Error::new(Code::Unreachable, format!("/richMenus/rules/{i}"), format!("this rule is never used: {why}")));
            }
            if default {
                out.push(Error::new(Code::Unreachable, "/richMenus/default", format!("the default menu is never used: {why}")));
            }
        }
    }
}

/// The shape of `part` of some data, named `name` there.
fn part_shape(name: &str, part: Part, context: &Shape) -> Shape {
    match part {
        Part::Context => context.field(name).cloned().unwrap_or(Shape::Free),
        Part::Now => context.field("now").cloned().unwrap_or(Shape::Scalar),
        Part::Segments => Shape::List(Box::new(Shape::Scalar)),
        Part::Answers | Part::Scores => Shape::Free,
    }
}

/// `data` with `(name, part)` added.
fn with_part(data: Shape, (name, part): (&str, Part), context: &Shape) -> Shape {
    data.with(name, part_shape(name, part, context))
}

/// `names` as text: `"a", "b" and "c"` without the quotes.
fn listed<'n>(names: impl IntoIterator<Item = &'n str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The data rules or templates read: its shape, its name in messages, whether its top level
/// comes from the backend (see [`Shape::unknown_field`]), and what it leaves out on purpose.
#[derive(Clone, Copy)]
struct Data<'s> {
    shape: &'s Shape,
    name: &'static str,
    sent: bool,
    left_out: LeftOut<'s>,
}

/// Roots that other data has and this one leaves out on purpose: a path from one of them gets
/// a message that says what this data has and where to read what was meant, rather than a
/// field of this data that looks like it.
#[derive(Clone, Copy)]
enum LeftOut<'s> {
    Nothing,
    /// A quiz result rule's data: the context's other fields (this `Shape`'s; `event`).
    QuizRule(&'s Shape),
    /// A result description of this quiz: the rules' `answers` (the context has them).
    Description(&'s str),
}

impl Data<'_> {
    fn unknown_field(&self, base: &Base<'_>, path: &[Step<'_>], syntax: Syntax) -> Option<String> {
        let message = self.shape.unknown_field_from(base, path, self.name, self.sent, syntax)?;
        Some(match (base, path.first()) {
            (Base::Data, Some(root)) if self.shape.field(&root.name).is_none() => self.left_out(&root.name, path).unwrap_or(message),
            _ => message,
        })
    }

    /// The message for `path`, from `root`, when this data leaves it out on purpose.
    fn left_out(&self, root: &str, path: &[Step<'_>]) -> Option<String> {
        match self.left_out {
            LeftOut::Nothing => None,
            LeftOut::QuizRule(context) => {
                context.field(root)?;
                let what = if root == "event" { "the LINE event".to_string() } else { format!("the context's \"{root}\"") };
                let sees = listed(RULE_DATA.iter().map(|(n, _)| *n));
                Some(format!("{} has no field \"{root}\": quiz result rules see {sees}, not {what}", self.name))
            }
            LeftOut::Description(quiz) => {
                RULE_DATA.iter().find(|(n, part)| *n == root && *part != Part::Context && *part != DESCRIPTION_EXTRA.1)?;
                let rest: Vec<&str> = path.iter().skip(1).map(|s| &*s.name).collect();
                let at = if rest.is_empty() { format!("user.quizAnswers.{quiz} (by question id)") } else { format!("user.quizAnswers.{quiz}.{}", rest.join(".")) };
                Some(format!(
                    "{} has no field \"{root}\": result descriptions see the context and {}, not the rules' {root}; this quiz's answers are in {at}",
                    self.name, DESCRIPTION_EXTRA.0
                ))
            }
        }
    }
}

/// A path read inside a message's `$for` elements (`loops`, outermost first): one from a
/// loop's item is read from an item of its list; `forloop` is the loop's own, never data.
/// `None`: not checked (`forloop`).
fn in_loops<'p>(base: Base<'p>, path: Vec<Step<'p>>, loops: &[&'p Loop]) -> Option<(Base<'p>, Vec<Step<'p>>)> {
    let (Base::Data, Some(root)) = (&base, path.first()) else { return Some((base, path)) };
    if loops.is_empty() {
        return Some((base, path));
    }
    if root.name == "forloop" {
        return None;
    }
    let Some(at) = loops.iter().rposition(|lp| lp.name == root.name) else { return Some((base, path)) };
    Some((Base::Item(list_path(loops, at)?), path.into_iter().skip(1).collect()))
}

/// The path from the data of loop `at`'s list, through the item of an outer loop it starts
/// from (`b in a.children`, `a` over `user.purchases`: `user.purchases.*.children`). `None`:
/// a list in `forloop`.
fn list_path<'p>(loops: &[&'p Loop], at: usize) -> Option<Vec<Step<'p>>> {
    let lp = loops.get(at)?;
    let first = lp.list.first()?;
    if first == "forloop" {
        return None;
    }
    let steps = lp.list.iter().map(|k| Step::key(k, is_index(k)));
    let outer = loops.get(..at).unwrap_or(&[]);
    Some(match outer.iter().rposition(|o| &o.name == first) {
        Some(o) => {
            let mut path = list_path(loops, o)?;
            path.push(Step::any_item());
            path.extend(steps.skip(1));
            path
        }
        None => steps.collect(),
    })
}

fn rule_warnings(rule: &Rule, data: Data<'_>, loops: &[&Loop], out: &mut Vec<Error>) {
    timestamp_warnings(rule, out);
    for (pointer, path, base, one_key_per_step) in rule.data_paths() {
        let Some((base, path)) = in_loops(base, path, loops) else { continue };
        if let Some(message) = data.unknown_field(&base, &path, Syntax::JsonLogic) {
            let message = one_key_per_step.and_then(|op| dotted_key(op, &path, &base, data)).unwrap_or(message);
            out.push(Error::new(Code::UnknownContextField, pointer, message));
        }
    }
}

/// Whether a rule's key is an array index (`"3"`; as in JavaScript, not `"03"` or `"+3"`).
fn is_index(key: &str) -> bool {
    matches!(key.as_bytes(), [b'0'] | [b'1'..=b'9', ..]) && key.bytes().all(|b| b.is_ascii_digit())
}

/// The message for `path`, read by `op` (`val`, `exists`: one key per step), when a key has a
/// dot in it (`{"val": "user.tags"}`): the whole key is one field, so the path most likely
/// meant its parts.
fn dotted_key(op: &str, path: &[Step<'_>], base: &Base<'_>, data: Data<'_>) -> Option<String> {
    let key = path.iter().find(|s| s.name.contains('.'))?;
    let split: Vec<Step<'_>> = path.iter().flat_map(|s| s.name.split('.')).map(|k| Step::key(k, is_index(k))).collect();
    let keys: Vec<String> = split.iter().map(|s| serde_json::Value::from(&*s.name).to_string()).collect();
    let written = format!("{{\"{op}\": [{}]}}", keys.join(", "));
    let start = format!("\"{op}\" takes one key per step: it reads \"{}\" as one key", key.name);
    Some(match data.unknown_field(base, &split, Syntax::JsonLogic) {
        Some(message) => format!("{start}; written {written}, {message}"),
        None => {
            let name = match base {
                Base::Data => data.name.to_string(),
                Base::Item(list) => format!("an item of {}", dotted(list)),
                Base::Reduce(Some(list)) => format!("the data of a reduce over {}", dotted(list)),
                Base::Reduce(None) => "the data of a reduce".to_string(),
                Base::Name(_) => "the data".to_string(),
            };
            let (reads, or) = match op {
                "val" => ("reads null", format!(" (or {{\"var\": \"{}\"}})", dotted(&split))),
                _ => ("is false", String::new()),
            };
            format!("{start}, which {name} does not have (so it {reads}); write {written}{or}")
        }
    })
}

fn template_warnings(t: &Template, pointer: &str, data: Data<'_>, loops: &[&Loop], out: &mut Vec<Error>) {
    for (path, pos, base) in t.data_paths() {
        let Some((base, path)) = in_loops(base, path, loops) else { continue };
        if let Some(message) = data.unknown_field(&base, &path, Syntax::Liquid) {
            let mut e = Error::new(Code::UnknownContextField, pointer, message);
            (e.line, e.column) = (pos.map(|p| p.0), pos.map(|p| p.1));
            out.push(e);
        }
    }
}

/// `timestamp_as_text` at each comparison in `rule` with a timestamp on one side (see
/// [`Rule::text_compared_timestamps`]), with the time operator to write instead.
fn timestamp_warnings(rule: &Rule, out: &mut Vec<Error>) {
    for (at, op) in rule.text_compared_timestamps() {
        let hint = match op {
            "<" | "<=" => "write {\"before\": [a, b]}",
            ">" | ">=" => "write {\"after\": [a, b]}",
            _ => "compare instants with \"before\" and \"after\"",
        };
        out.push(Error::new(
            Code::TimestampAsText,
            at.as_str(),
            format!("\"{op}\" compares timestamps as text, not as instants: \"2026-11-27T01:00:00Z\" and \"2026-11-27T10:00:00+09:00\", the same instant, are neither equal nor in order, and epoch milliseconds never compare with text; {hint} (or {{\"time_between\": [t, from, to]}}, or \"days_since\" with a number of days)"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A warning: its pointer, its line and column in a template, its message.
    type Warning<S> = (S, Option<(u32, u32)>, S);

    /// The warnings of a config.
    fn warnings(config: serde_json::Value) -> Vec<Warning<String>> {
        let engine = Engine::from_json(&config).unwrap_or_else(|e| panic!("{e:?}"));
        let w = engine.warnings();
        // Each kind of warning has its own words: "never used"/"never answers" are `unreachable`'s.
        let unreachable = |m: &str| m.contains("never used") || m.contains("never answers");
        let code = |m: &str| match m {
            _ if unreachable(m) => Code::Unreachable,
            _ if m.contains("exclusive with nothing") => Code::SingleMemberGroup,
            _ if m.contains("has no \"aggregationUnit\"") => Code::UnmeasuredArm,
            _ if m.contains("is also used by content") => Code::SharedAggregationUnit,
            _ if m.contains("compares timestamps as text") => Code::TimestampAsText,
            _ => Code::UnknownContextField,
        };
        assert!(w.iter().all(|e| e.code == code(&e.message)));
        w.into_iter().map(|e| (e.path, e.line.zip(e.column), e.message)).collect()
    }

    fn segments(rules: &[serde_json::Value]) -> serde_json::Value {
        let segs: Vec<_> = rules.iter().enumerate().map(|(i, r)| json!({"id": format!("s{i}"), "when": r})).collect();
        json!({"version": 1, "segments": segs})
    }

    #[test]
    fn rules_read_from_the_context_are_checked_where_they_are() {
        let w = warnings(segments(&[
            json!({"in": ["vip", {"var": "user.tgas"}]}),
            json!({"==": [{"var": ["user.dispalyName", "x"]}, "x"]}),
            json!({"exists": ["user", "lastActiveAtt"]}),
            json!({"val": ["user", "language"]}),
            json!({"missing_some": [1, ["user.attributes.email", "user.followAt"]]}),
            // The list a `some` goes through is read from the context; its body from each item.
            json!({"some": [{"var": "user.purchse"}, {">": [{"var": "amout"}, 1]}]}),
            json!({"if": [{"try": [{"var": "user.tags.0"}, {"var": "type"}]}, {"days_since": [{"var": "user.followedAt"}]}, false]}),
        ]));
        let got: Vec<(&str, &str)> = w.iter().map(|(p, _, m)| (p.as_str(), m.rsplit("did you mean ").next().unwrap_or(""))).collect();
        assert_eq!(
            got,
            [
                ("/segments/0/when/in/1", "\"user.tags\"?"),
                ("/segments/1/when/==/0", "\"user.displayName\"?"),
                ("/segments/2/when", "\"user.lastActiveAt\"?"),
                ("/segments/4/when/missing_some/1/1", "\"user.followedAt\"?"),
                ("/segments/5/when/some/0", "\"user.purchases\"?"),
            ]
        );
    }

    #[test]
    fn item_paths_are_checked_against_the_items_of_a_list_the_context_defines() {
        let w = warnings(segments(&[
            json!({"some": [{"var": "user.purchases"}, {"==": [{"var": "catgory"}, "lotion"]}]}),
            // Through `filter` (the same items), in its body too; `val`, `exists`, `missing`.
            json!({"all": [{"filter": [{"var": "user.events"}, {"==": [{"val": "tpye"}, "x"]}]}, {"exists": "att"}]}),
            json!({"none": [{"var": ["user.purchases", []]}, {"missing": ["amount", "skuu"]}]}),
            // `reduce`: its `current`, an item; `accumulator` is anything.
            json!({">": [{"reduce": [{"var": "user.purchases"}, {"+": [{"var": "accumulator.x.y"}, {"var": "current.amout"}]}, 0]}, 1]}),
            json!({"reduce": [{"var": "user.attributes.orders"}, {"+": [{"var": "accumulator"}, {"var": "curent.amount"}]}, 0]}),
            // Nested: a list read from an item is one of its fields.
            json!({"some": [{"var": "user.purchases"}, {"some": [{"var": "itemz"}, {"var": "x"}]}]}),
            // Far from any field: the fields there; one of the Context's: how to read it.
            json!({"some": [{"var": "user.purchases"}, {"==": [{"var": "color"}, "red"]}]}),
            json!({"some": [{"var": "user.purchases"}, {"in": ["vip", {"var": "user.tags"}]}]}),
            json!({"reduce": [{"var": "user.purchases"}, {"cat": [{"var": "accumulator"}, {"var": "now"}]}, ""]}),
        ]));
        let got: Vec<(&str, &str)> = w.iter().map(|(p, _, m)| (p.as_str(), m.as_str())).collect();
        assert_eq!(
            got,
            [
                ("/segments/0/when/some/1/==/0", "an item of user.purchases has no field \"catgory\"; did you mean \"category\"?"),
                ("/segments/1/when/all/0/filter/1/==/0", "an item of user.events has no field \"tpye\"; did you mean \"type\"?"),
                ("/segments/1/when/all/1", "an item of user.events has no field \"att\"; did you mean \"at\"?"),
                ("/segments/2/when/none/1/missing/1", "an item of user.purchases has no field \"skuu\"; did you mean \"sku\"?"),
                ("/segments/3/when/>/0/reduce/1/+/1", "the data of a reduce over user.purchases has no field \"current.amout\"; did you mean \"current.amount\"?"),
                ("/segments/4/when/reduce/1/+/1", "the data of a reduce over user.attributes.orders has no field \"curent\"; did you mean \"current\"?"),
                (
                    "/segments/5/when/some/1/some/0",
                    "an item of user.purchases has no field \"itemz\": it reads null unless your backend sends one (if it does, ignore this warning); the fields there are \"amount\", \"at\", \"category\", \"orderId\", \"quantity\", \"sku\""
                ),
                (
                    "/segments/6/when/some/1/==/0",
                    "an item of user.purchases has no field \"color\": it reads null unless your backend sends one (if it does, ignore this warning); the fields there are \"amount\", \"at\", \"category\", \"orderId\", \"quantity\", \"sku\""
                ),
                (
                    "/segments/7/when/some/1/in/1",
                    "an item of user.purchases has no field \"user\": here \"var\" reads each item, not kizuna's Context; to read its \"user.tags\", write {\"val\": [[2], \"user\", \"tags\"]}"
                ),
                (
                    "/segments/8/when/reduce/1/cat/1",
                    "the data of a reduce over user.purchases has no field \"now\": here \"var\" reads its accumulator and current item, not kizuna's Context; to read its \"now\", write {\"val\": [[2], \"now\"]}"
                ),
            ]
        );
    }

    #[test]
    fn computed_free_form_and_unknown_list_paths_never_warn() {
        let w = warnings(segments(&[
            json!({"some": [{"var": "user.purchases"}, {"==": [{"var": "category"}, "serum"]}]}),
            json!({"all": [{"var": "user.events"}, {"filter": [{"var": "data.items"}, {"var": "nme"}]}]}),
            json!({"reduce": [{"var": "user.purchases"}, {"+": [{"var": "accumulator.total"}, {"var": "current.amount"}]}, 0]}),
            json!({"reduce": [{"var": "user.attributes.orders"}, {"+": [{"var": "accumulator"}, {"var": "current.amout"}]}, 0]}),
            json!({"map": [{"var": "user.tags"}, {"cat": [{"var": ""}, "!"]}]}),
            // Lists the Context does not define, or that are computed: anything may be there.
            json!({"some": [{"var": "user.attributes.orders"}, {"var": "amout"}]}),
            json!({"some": [{"map": [{"var": "user.purchases"}, {"var": "sku"}]}, {"var": "x"}]}),
            json!({"some": [{"var": ["user.purchases", ["x"]]}, {"var": "x"}]}),
            json!({"some": [{"merge": [{"var": "user.purchases"}, {"var": "user.events"}]}, {"var": "x"}]}),
            json!({"some": [{"var": "user.purchases"}, {"==": [{"val": [[2], "user", "tags"]}, {"try": [{"throw": "x"}, {"var": "tpye"}]}]}]}),
            json!({"some": [{"var": "user.events"}, {"some": [{"var": "data.items"}, {"var": "anything"}]}]}),
            json!({"==": [{"var": "user.attributes.prefecure"}, "Tokyo"]}),
            json!({"==": [{"var": "user.quizAnswers.skin.q1"}, "a"]}),
            json!({"==": [{"var": "event.postback.dta"}, "a"]}),
            json!({"==": [{"var": {"cat": ["user.", {"var": "user.attributes.field"}]}}, "a"]}),
            json!({"==": [{"var": "user.events.0.data.anything"}, "a"]}),
            json!({"has_tag": "vip"}),
        ]));
        assert_eq!(w, []);
    }

    /// `<`, `==`, … with a timestamp on one side compare text; a check for a missing one
    /// (`== null`) and the time operators that compare instants never warn.
    #[test]
    fn timestamps_compared_as_text_warn_with_the_operator_to_use() {
        let w = warnings(segments(&[
            json!({"<": [{"var": "user.lastActiveAt"}, {"ago": "P30D"}]}),
            json!({"and": [{"has_tag": "vip"}, {"some": [{"var": "user.purchases"}, {">=": [{"var": "at"}, "2026-11-01"]}]}]}),
            json!({"==": [{"var": "now"}, "2026-12-24T00:00:00+09:00"]}),
            json!({"==": [{"var": "user.followedAt"}, null]}),
            json!({"after": [{"var": "user.lastActiveAt"}, {"ago": "P30D"}]}),
            json!({"<=": ["09:00", {"time_of_day": []}, "18:00"]}),
            json!({">": [{"days_since": [{"var": "user.lastActiveAt"}]}, 90]}),
        ]));
        let at: Vec<&str> = w.iter().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(at, ["/segments/0/when", "/segments/1/when/and/1/some/1", "/segments/2/when"]);
        assert!(w[0].2.starts_with("\"<\" compares timestamps as text, not as instants"), "{}", w[0].2);
        assert!(w[0].2.contains("write {\"before\": [a, b]}"));
        assert!(w[1].2.contains("write {\"after\": [a, b]}"));
        assert!(w[2].2.contains("compare instants with \"before\" and \"after\""));

        // Every rule a config writes: a quiz's result rules, a message's `$if`, a `try` fallback.
        let w = warnings(json!({
            "version": 1,
            "contents": [{"id": "c", "on": ["follow"], "variants": [{"id": "v", "messages": [{"type": "flex", "altText": "a", "contents": {
                "type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [
                    {"$if": {"<": [{"var": "user.followedAt"}, "2026-01-01"]}, "$then": {"type": "text", "text": "早期"}}]}}}]}]}],
            "quizzes": [{
                "id": "q", "title": "Q",
                "questions": [{"id": "q1", "kind": "single", "text": "?", "choices": [{"id": "a", "label": "A"}]}],
                "select": {"by": "rules", "rules": [{"when": {"try": [false, {">": [{"var": "now"}, "2026-12-01"]}]}, "result": "r"}], "fallback": "r"},
                "results": [{"id": "r", "title": "R"}]
            }]
        }));
        let at: Vec<&str> = w.iter().filter(|(_, _, m)| m.contains("compares timestamps as text")).map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(at, ["/contents/0/variants/0/messages/0/contents/body/contents/0/$if", "/quizzes/0/select/rules/0/when/try/1"]);
    }

    #[test]
    fn val_and_exists_with_a_dotted_key_say_they_take_one_key_per_step() {
        let w = warnings(segments(&[
            json!({"in": ["vip", {"val": "user.tags"}]}),
            json!({"val": ["user.tags"]}),
            json!({"exists": "user.tags"}),
            json!({"exists": ["user", "purchases.0.amount"]}),
            json!({"some": [{"var": "user.purchases"}, {"val": "user.tags"}]}),
            // Split, still no path of the Context (or read from the item): what is wrong with the parts.
            json!({"val": "user.tgas"}),
            json!({"reduce": [{"var": "user.purchases"}, {"+": [{"var": "accumulator"}, {"val": "current.amount"}]}, 0]}),
        ]));
        let got: Vec<(&str, &str)> = w.iter().map(|(p, _, m)| (p.as_str(), m.as_str())).collect();
        assert_eq!(
            got,
            [
                ("/segments/0/when/in/1", "\"val\" takes one key per step: it reads \"user.tags\" as one key, which kizuna's Context does not have (so it reads null); write {\"val\": [\"user\", \"tags\"]} (or {\"var\": \"user.tags\"})"),
                ("/segments/1/when", "\"val\" takes one key per step: it reads \"user.tags\" as one key, which kizuna's Context does not have (so it reads null); write {\"val\": [\"user\", \"tags\"]} (or {\"var\": \"user.tags\"})"),
                ("/segments/2/when", "\"exists\" takes one key per step: it reads \"user.tags\" as one key, which kizuna's Context does not have (so it is false); write {\"exists\": [\"user\", \"tags\"]}"),
                ("/segments/3/when", "\"exists\" takes one key per step: it reads \"purchases.0.amount\" as one key, which kizuna's Context does not have (so it is false); write {\"exists\": [\"user\", \"purchases\", \"0\", \"amount\"]}"),
                ("/segments/4/when/some/1", "\"val\" takes one key per step: it reads \"user.tags\" as one key; written {\"val\": [\"user\", \"tags\"]}, an item of user.purchases has no field \"user\": here \"var\" reads each item, not kizuna's Context; to read its \"user.tags\", write {\"val\": [[2], \"user\", \"tags\"]}"),
                ("/segments/5/when", "\"val\" takes one key per step: it reads \"user.tgas\" as one key; written {\"val\": [\"user\", \"tgas\"]}, kizuna's Context has no field \"user.tgas\"; did you mean \"user.tags\"?"),
                ("/segments/6/when/reduce/1/+/1", "\"val\" takes one key per step: it reads \"current.amount\" as one key, which the data of a reduce over user.purchases does not have (so it reads null); write {\"val\": [\"current\", \"amount\"]} (or {\"var\": \"current.amount\"})"),
            ]
        );
    }

    #[test]
    fn keys_on_a_list_warn_where_they_are_read_and_say_what_to_write() {
        let text = "{{ user.tags.length }}{{ user.tags.size }}{{ user.purchases.first.amount }}{{ user.purchases[0].sku }}{{ user.purchases.last.at }}\
                    {% for p in user.purchases %}{{ p.amount }}{% endfor %}{% assign u = user %}{{ u.purchases.amount }}\
                    {% assign ls = user.purchases | where: 'category', 'lotion' %}{{ ls.size }}{% for t in user.tags.all %}{{ t.x }}{% endfor %}{{ user.tags['size'] }}";
        let mut config = segments(&[
            json!({"==": [{"var": "user.tags.length"}, 0]}),
            json!({">": [{"var": "user.purchases.amount"}, 1000]}),
            // The list a `some` walks warns; its body, over nothing the Context defines, never.
            json!({"some": [{"var": "user.purchases.amount"}, {"var": "x"}]}),
            json!({"some": [{"var": "user.purchases"}, {">": [{"var": "amount"}, 1]}]}),
            json!({"reduce": [{"var": "user.purchases"}, {"+": [{"var": "accumulator"}, {"var": "current.amount"}]}, 0]}),
            json!({"in": ["vip", {"var": "user.tags"}]}),
            json!({"==": [{"var": "user.purchases.0.amount"}, 1]}),
        ]);
        config["contents"] = json!([{"id": "c", "on": ["follow"], "variants": [{"id": "v", "messages": [{"type": "text", "text": text}]}]}]);
        let w = warnings(config);
        let got: Vec<Warning<&str>> = w.iter().map(|(p, at, m)| (p.as_str(), *at, m.split(": ").nth(1).unwrap_or(""))).collect();
        let t = "/contents/0/variants/0/messages/0/text";
        assert_eq!(
            got,
            [
                (t, Some((1, 4)), "user.tags is a list, whose keys are indexes, size, first and last, so it reads null; for the number of its items, write \"user.tags.size\""),
                (t, Some((1, 210)), "purchases is a list, whose keys are indexes, size, first and last, so it reads null; for the first item's, write \"purchases.first.amount\", or go through them with a for loop"),
                (t, Some((1, 306)), "user.tags is a list, whose keys are indexes, size, first and last, so it reads null; for the number of its items, write \"user.tags.size\""),
                (t, Some((1, 358)), "user.tags is a list, whose keys are indexes, size, first and last, so it reads null; ['size'] is a key, not Liquid's own size"), // (: write user.tags.size)
                ("/segments/0/when/==/0", None, "user.tags is a list, whose keys are indexes (\"0\", \"1\", …), so it reads null; to count its items, write {\"reduce\""),
                ("/segments/1/when/>/0", None, "user.purchases is a list, whose keys are indexes (\"0\", \"1\", …), so it reads null; for the first item's, write \"user.purchases.0.amount\"; for their total, {\"reduce\""),
                ("/segments/2/when/some/0", None, "user.purchases is a list, whose keys are indexes (\"0\", \"1\", …), so it reads null; for the first item's, write \"user.purchases.0.amount\"; for their total, {\"reduce\""),
            ]
        );
    }

    #[test]
    fn templates_menus_and_quizzes_are_checked_against_the_data_they_see() {
        let text = "{{ user.dispalyName | default: 'お客様' }}様\n{% for p in user.purchases %}{{ p.amout }}{% endfor %}{% assign user2 = user %}{{ user2.tgas }}{{ segments | join: ',' }}{{ user.purchases.first.skuu }}{{ user.tags.size }}{{ user.attributes[user.attributes.key] }}";
        let config = json!({
            "version": 1,
            "segments": [{"id": "s", "when": true}],
            "contents": [{"id": "c", "on": ["follow"], "variants": [{"id": "v", "when": {"var": "user.richMenu"}, "messages": [{"type": "text", "text": text}]}]}],
            "richMenus": {
                "menus": [{"id": "m", "richMenuId": "richmenu-0123456789abcdef0123456789abcdef"}],
                "rules": [{"when": {"!": [{"var": "user.purchases.0.a"}]}, "menu": "m"}, {"segment": "s", "menu": "m"}]
            },
            "quizzes": [{
                "id": "q", "title": "Q",
                "questions": [{"id": "q1", "kind": "single", "text": "?", "choices": [{"id": "a", "label": "A"}]}],
                "select": {"by": "rules", "rules": [{"when": {"and": [{"==": [{"var": "answers.q1"}, "a"]}, {"var": "answer.q1"}, {"var": "user.tags"}, {"var": "event.type"}]}, "result": "r"}], "fallback": "r"},
                "results": [{"id": "r", "title": "R", "description": "{{ scores.r }} {{ user.displayName }} {{ scors.r }}{{ answers.q1 }}{{ user.quizAnswers.q.q1 }}"}]
            }]
        });
        let w = warnings(config);
        let got: Vec<Warning<&str>> = w.iter().map(|(p, at, m)| (p.as_str(), *at, m.rsplit("did you mean ").next().unwrap_or(""))).collect();
        assert_eq!(
            got,
            [
                // Line and column of the output's expression in the template.
                ("/contents/0/variants/0/messages/0/text", Some((1, 4)), "\"user.displayName\"?"),
                // A loop variable is an item; a name assigned once at the top, what it was.
                ("/contents/0/variants/0/messages/0/text", Some((2, 33)), "\"amount\"?"),
                ("/contents/0/variants/0/messages/0/text", Some((2, 83)), "\"tags\"?"),
                ("/contents/0/variants/0/messages/0/text", Some((2, 125)), "\"user.purchases.first.sku\"?"),
                ("/contents/0/variants/0/when", None, "\"user.richMenuId\"?"),
                ("/quizzes/0/results/0/description", Some((1, 42)), "\"scores\"?"),
                // The rules' answers, read in a description: where the answers are there.
                (
                    "/quizzes/0/results/0/description",
                    Some((1, 55)),
                    "kizuna's Context has no field \"answers\": result descriptions see the context and scores, not the rules' answers; this quiz's answers are in user.quizAnswers.q.q1"
                ),
                ("/quizzes/0/select/rules/0/when/and/1", None, "\"answers\"?"),
                // A quiz rule sees no LINE event: it says so (not "did you mean user.events").
                ("/quizzes/0/select/rules/0/when/and/3", None, "a quiz result rule's data has no field \"event\": quiz result rules see answers, scores, user and now, not the LINE event"),
                ("/richMenus/rules/0/when/!/0", None, "\"user.purchases.0.at\"?"),
            ]
        );
    }

    #[test]
    fn property_arguments_of_filters_are_checked_against_the_items() {
        // A misspelt property makes `where` find nothing: the refill reminder would never go out.
        // `map: 'to_liquid'` is Liquid's own: the items themselves, never a misspelt field.
        let text = "{% assign due = user.purchases | where: 'catgory', 'lotion' | sort: 'at' | last %}{{ due.sku }}{{ user.purchases | map: 'amount' | sum }}{{ user.purchases | map: 'to_liquid' | size }}";
        let mut config = segments(&[json!(true)]);
        config["contents"] = json!([{"id": "c", "on": ["follow"], "variants": [{"id": "v", "messages": [{"type": "text", "text": text}]}]}]);
        let w = warnings(config);
        let got: Vec<Warning<&str>> = w.iter().map(|(p, at, m)| (p.as_str(), *at, m.as_str())).collect();
        assert_eq!(
            got,
            [(
                "/contents/0/variants/0/messages/0/text",
                Some((1, 34)),
                "an item of user.purchases has no field \"catgory\"; did you mean \"category\"?"
            )]
        );
    }

    #[test]
    fn a_group_of_one_segment_is_named_with_the_group_it_may_mean() {
        let s = |id: &str, group: &str| json!({"id": id, "when": true, "group": group});
        let config = json!({"version": 1, "segments": [s("new", "lifecycle"), s("repeat", "lifecycle"), s("loyal", "lifecyle"), s("vip", "tier")]});
        let w = warnings(config);
        let got: Vec<(&str, &str)> = w.iter().map(|(p, _, m)| (p.as_str(), m.as_str())).collect();
        assert_eq!(
            got,
            [
                ("/segments/2/group", "group \"lifecyle\" has only segment \"loyal\", so it is exclusive with nothing; did you mean \"lifecycle\"?"),
                ("/segments/3/group", "group \"tier\" has only segment \"vip\", so it is exclusive with nothing (a group makes its members exclusive: the first that matches wins)"),
            ]
        );
    }

    #[test]
    fn what_comes_after_a_rule_that_always_matches_is_unreachable() {
        let id = |n: u32| format!("richmenu-{n:032x}");
        let mut config = segments(&[json!(true)]);
        config["richMenus"] = json!({
            "menus": [{"id": "a", "richMenuId": id(1)}, {"id": "b", "richMenuId": id(2)}],
            "rules": [{"segment": "s0", "menu": "a"}, {"when": true, "menu": "b"}, {"when": {"var": "user.tags"}, "menu": "a"}],
            "default": "a"
        });
        let w = warnings(config.clone());
        let got: Vec<Warning<&str>> = w.iter().map(|(p, at, m)| (p.as_str(), *at, m.as_str())).collect();
        let why = "rich-menu rule 1 before it always matches (its \"when\" is true)";
        assert_eq!(
            got,
            [
                ("/richMenus/default", None, format!("the default menu is never used: {why}").as_str()),
                ("/richMenus/rules/2", None, format!("this rule is never used: {why}").as_str()),
            ]
        );
        // A condition that may fail, last: nothing is unreachable.
        config["richMenus"]["rules"] = json!([{"when": {"var": "user.tags"}, "menu": "b"}]);
        assert_eq!(warnings(config.clone()), []);
        // A segment named twice: the second rule never holds first.
        config["richMenus"]["rules"] = json!([{"segment": "s0", "menu": "a"}, {"when": {"var": "user.tags"}, "menu": "b"}, {"segment": "s0", "menu": "b"}]);
        let w = warnings(config);
        let got: Vec<(&str, &str)> = w.iter().map(|(p, _, m)| (p.as_str(), m.as_str())).collect();
        assert_eq!(got, [("/richMenus/rules/2", "this rule is never used: rich-menu rule 0 before it names the same segment")]);
    }

    #[test]
    fn variants_and_event_types_after_a_catch_all_are_unreachable() {
        let m = json!([{"type": "text", "text": "hi"}]);
        let mut config = segments(&[json!(true)]);
        config["contents"] = json!([
            {"id": "a", "on": ["message", "follow"], "variants": [
                {"id": "vip", "when": {"in_segment": "s0"}, "messages": m},
                {"id": "default", "messages": m},
                {"id": "late", "when": {"in_segment": "s0"}, "messages": m}
            ]},
            {"id": "b", "on": ["postback", "message"], "experiment": {"id": "x"}, "variants": [
                {"id": "p", "weight": 1, "messages": m},
                {"id": "q", "weight": 1, "messages": m},
                {"id": "after", "messages": m}
            ]},
            // After a content whose experiment always assigns a variant to postbacks.
            {"id": "kw", "on": ["postback"], "variants": [{"id": "k", "when": {"in_segment": "s0"}, "messages": m}]}
        ]);
        let w = warnings(config);
        let got: Vec<(&str, &str)> = w.iter().map(|(p, _, m)| (p.as_str(), m.as_str())).collect();
        assert_eq!(
            got,
            [
                ("/contents/0/variants/2", "this variant is never used: variant \"default\" before it always applies (it has no condition)"),
                ("/contents/1/on/1", "content \"b\" never answers \"message\" events: content \"a\" before it always does (a variant without a condition); it can still be rendered by id"),
                ("/contents/1/variants/2", "this variant is never used: the experiment before it always assigns a variant (its \"when\" is true or absent)"),
                ("/contents/2/on/0", "content \"kw\" never answers \"postback\" events: content \"b\" before it always does (a variant without a condition); it can still be rendered by id"),
            ]
        );
    }
}
