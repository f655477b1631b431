//! The fields kizuna's Context defines, read from its JSON Schema (the one `schema/` holds), so
//! that `kizuna check` can tell a path that reads a field the Context does not have
//! (`user.tgas`, `user.dispalyName`) from a path into free-form data (`user.attributes.*`,
//! `user.quizAnswers.*`, the LINE event). A context tolerates unknown fields, so such a path
//! is valid and reads null: a warning, never an error.
//!
//! Native only: the npm package leaves warnings out for size (see `Engine::warnings`).

use crate::error::suggest;
use serde_json::Value as Json;
use std::borrow::Cow;

/// What the data holds at some place.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// Anything: free-form objects (`user.attributes`, `user.quizAnswers`, the event) and
    /// values. Any key may be there.
    Free,
    /// A string, number or boolean: no fields.
    Scalar,
    /// A list of items of one shape.
    List(Box<Shape>),
    /// An object with the fields the Context defines, in schema order. Others are tolerated in
    /// a context, but kizuna neither defines nor documents them.
    Object(Vec<(String, Shape)>),
}

/// One step of a data path, as written in a rule or template.
#[derive(Clone, Debug, PartialEq)]
pub struct Step<'a> {
    pub name: Cow<'a, str>,
    /// On a list, the step takes an item (an index, or Liquid's `first`/`last`).
    pub item: bool,
    /// The name means something of its own where the object has no such field (Liquid's
    /// `size`, `first`, `last`, an index): never a misspelt field.
    pub builtin: bool,
}

impl<'a> Step<'a> {
    /// A key of a JsonLogic path (`"user.purchases.0.sku"` split at its dots): an item on a
    /// list when it is an array index.
    pub fn key(name: &'a str, index: bool) -> Step<'a> {
        Step { name: Cow::Borrowed(name), item: index, builtin: false }
    }
}

impl Step<'static> {
    /// An item of a list that the rule or template iterates (`some`, `reduce`, a `for` loop,
    /// Liquid's `first` filter): any one of them. Named `*` in messages.
    pub fn any_item() -> Step<'static> {
        Step { name: Cow::Borrowed("*"), item: true, builtin: true }
    }
}

/// Where a path that a rule or template reads starts.
#[derive(Clone, Debug, PartialEq)]
pub enum Base<'a> {
    /// The data the rule or template is given.
    Data,
    /// Each item of the list at this path of the data, in a `some`, `all`, `none`, `filter` or
    /// `map` body (through the items of outer iterators: [`Step::any_item`] each).
    Item(Vec<Step<'a>>),
    /// `reduce`'s `{accumulator, current}`, `current` an item of the list at this path when
    /// kizuna can tell which.
    Reduce(Option<Vec<Step<'a>>>),
    /// A name a template binds to this path of the data (a `for` variable, an `assign`): the
    /// path read starts with the name.
    Name(Vec<Step<'a>>),
}

/// The language a path is written in: a rule's JsonLogic or a template's Liquid. Some messages
/// suggest what to write instead, which differs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Syntax {
    JsonLogic,
    Liquid,
}

/// How messages name the data of decisions.
pub const CONTEXT: &str = "kizuna's Context";

/// Schemas nested deeper than this are read as free-form (the Context is 3 levels deep).
const MAX_DEPTH: usize = 16;

impl Shape {
    /// The Context, from its JSON Schema.
    pub fn context() -> Shape {
        #[cfg(not(target_arch = "wasm32"))]
        let doc = schemars::schema_for!(crate::Context).to_value();
        // The Wasm has no schemars: the checked-in schema, which a test keeps equal to it.
        #[cfg(target_arch = "wasm32")]
        let doc = crate::value::parse(include_str!("../../schema/context.schema.json")).map(|v| v.to_serde()).unwrap_or_default();
        Shape::from_schema(&doc, &doc, 0)
    }

    fn from_schema(s: &Json, doc: &Json, depth: usize) -> Shape {
        if depth > MAX_DEPTH {
            return Shape::Free;
        }
        if let Some(r) = s.get("$ref").and_then(Json::as_str) {
            return match r.strip_prefix('#').and_then(|p| doc.pointer(p)) {
                Some(def) => Shape::from_schema(def, doc, depth + 1),
                None => Shape::Free,
            };
        }
        // `Option<T>` of a struct: its one branch that is not null.
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = s.get(key).and_then(Json::as_array) {
                let mut shapes = branches.iter().filter(|b| b.get("type").and_then(Json::as_str) != Some("null")).map(|b| Shape::from_schema(b, doc, depth + 1));
                return match (shapes.next(), shapes.next()) {
                    (Some(one), None) => one,
                    _ => Shape::Free,
                };
            }
        }
        if let Some(Json::Object(props)) = s.get("properties") {
            return Shape::Object(props.iter().map(|(k, v)| (k.clone(), Shape::from_schema(v, doc, depth + 1))).collect());
        }
        let types: Vec<&str> = match s.get("type") {
            Some(Json::String(t)) => vec![t.as_str()],
            Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).filter(|t| *t != "null").collect(),
            _ => Vec::new(),
        };
        if types.contains(&"array") {
            Shape::List(Box::new(s.get("items").map_or(Shape::Free, |i| Shape::from_schema(i, doc, depth + 1))))
        } else if types.is_empty() || types.len() > 1 || types.contains(&"object") {
            // `{}` (any value), an object without listed fields (a map), or a mix of types.
            Shape::Free
        } else {
            Shape::Scalar
        }
    }

    /// The shape of field `name` of an object.
    pub fn field(&self, name: &str) -> Option<&Shape> {
        match self {
            Shape::Object(fields) => fields.iter().find(|(k, _)| k == name).map(|(_, s)| s),
            _ => None,
        }
    }

    /// This object with field `name` added (or replaced): the data beside the context that
    /// some rules and templates see (`segments`, a quiz's `scores`).
    pub fn with(mut self, name: &str, shape: Shape) -> Shape {
        if let Shape::Object(fields) = &mut self {
            match fields.iter_mut().find(|(k, _)| k == name) {
                Some((_, s)) => *s = shape,
                None => fields.push((name.to_string(), shape)),
            }
        }
        self
    }

    /// The shape at `path`, when the data of this shape defines each step (a free-form object
    /// or a field it does not define: `None`).
    pub fn at(&self, path: &[Step<'_>]) -> Option<&Shape> {
        let mut cur = self;
        for step in path {
            cur = match cur {
                Shape::List(item) if step.item => item,
                Shape::Object(_) => cur.field(&step.name)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// The items of the list at `path`, when it is a list the data defines.
    fn items(&self, path: &[Step<'_>]) -> Option<&Shape> {
        match self.at(path) {
            Some(Shape::List(item)) => Some(item),
            _ => None,
        }
    }

    /// [`Shape::unknown_field`] for `path` read from `base` in data of this shape. An item of a
    /// list the data defines is checked against its fields (`amount`, `at`, … of
    /// `user.purchases`): like the data's own objects, it comes from the backend. `reduce`'s
    /// `accumulator` is anything, and so is every item of a list the data does not define.
    pub fn unknown_field_from(&self, base: &Base<'_>, path: &[Step<'_>], data: &str, sent: bool, syntax: Syntax) -> Option<String> {
        match base {
            Base::Data => self.unknown_field(path, data, sent, syntax),
            Base::Item(list) => {
                let item = self.items(list)?;
                let name = format!("an item of {}", dotted(list));
                let message = item.unknown_field(path, &name, true, syntax)?;
                Some(self.outside(item, path, list, &name, "each item", data).unwrap_or(message))
            }
            Base::Reduce(list) => {
                let current = list.as_deref().and_then(|l| self.items(l)).cloned().unwrap_or(Shape::Free);
                let scope = Shape::Object(vec![("accumulator".into(), Shape::Free), ("current".into(), current)]);
                let name = match list {
                    Some(l) => format!("the data of a reduce over {}", dotted(l)),
                    None => "the data of a reduce".to_string(),
                };
                // Built by kizuna: no other field at its top.
                let message = scope.unknown_field(path, &name, false, syntax)?;
                let outside = list.as_deref().and_then(|l| self.outside(&scope, path, l, &name, "its accumulator and current item", data));
                Some(outside.unwrap_or(message))
            }
            Base::Name(to) => {
                let (name, rest) = path.split_first()?;
                let what = match to.split_last() {
                    Some((last, list)) if last.item => format!("an item of {}", dotted(list)),
                    _ => dotted(to),
                };
                self.at(to)?.unknown_field(rest, &format!("\"{}\" ({what})", name.name), true, syntax)
            }
        }
    }

    /// The message for `path`, read in an iterator's body (its data `scope`, named `name`, which
    /// reads `what`) over the items of `list`, when its first field is not the scope's but the
    /// whole path is one of this data (`user.tags` inside a `some` over `user.purchases`): the
    /// `val` that reads it from there.
    fn outside(&self, scope: &Shape, path: &[Step<'_>], list: &[Step<'_>], name: &str, what: &str, data: &str) -> Option<String> {
        let first = path.first()?;
        if !matches!(scope, Shape::Object(_)) || scope.field(&first.name).is_some() || self.at(path).is_none() {
            return None;
        }
        // `val` climbs two levels (the item, the iteration) per iterator.
        let levels = 2 * (1 + list.iter().filter(|s| **s == Step::any_item()).count());
        let keys: Vec<String> = path.iter().map(|s| Json::from(&*s.name).to_string()).collect();
        Some(format!(
            "{name} has no field \"{}\": here \"var\" reads {what}, not {data}; to read its \"{}\", write {{\"val\": [[{levels}], {}]}}",
            first.name,
            dotted(path),
            keys.join(", ")
        ))
    }

    /// The warning for `path` read from data of this shape, if a step names a field the data
    /// does not define where it is not free-form: the message says what was written, and
    /// suggests the field meant when one is close (`user.tgas` → `user.tags`; `displayName` at
    /// the top → `user.displayName`). `data` names the data in messages ("kizuna's Context");
    /// `sent` says whether its top level comes from the backend (which may add fields) rather
    /// than from kizuna. Below the top, the data is always the context's. A key on a list the
    /// data defines that is not an index (`user.tags.length`, `user.purchases.amount`) reads
    /// null too, and warns, except Liquid's own `size`, `first` and `last`; so does a key on a
    /// single value (`user.displayName.length`). The message says what to write in `syntax`.
    pub fn unknown_field(&self, path: &[Step<'_>], data: &str, sent: bool, syntax: Syntax) -> Option<String> {
        let mut cur = self;
        for (i, step) in path.iter().enumerate() {
            cur = match cur {
                Shape::Free => return None,
                Shape::Scalar if step.builtin => return None,
                Shape::Scalar => return Some(scalar_key(path.get(..i).unwrap_or_default(), &step.name, data, syntax)),
                Shape::List(item) if step.item => item,
                Shape::List(_) if step.builtin => return None,
                Shape::List(item) => return Some(list_key(item, path.get(..i).unwrap_or_default(), &step.name, data, syntax)),
                Shape::Object(fields) => match fields.iter().find(|(k, _)| *k == step.name) {
                    Some((_, s)) => s,
                    None if step.builtin => return None,
                    None => return Some(message(fields, path.get(..i).unwrap_or_default(), &step.name, data, sent || i > 0)),
                },
            };
        }
        None
    }
}

/// The dotted text of a path.
pub fn dotted(path: &[Step<'_>]) -> String {
    path.iter().map(|s| &*s.name).collect::<Vec<_>>().join(".")
}

/// The message for key `name`, not an index, on the list (of `item`s) reached by `before` in
/// `data`: what to write instead in `syntax`.
fn list_key(item: &Shape, before: &[Step<'_>], name: &str, data: &str, syntax: Syntax) -> String {
    let list = dotted(before);
    let of_item = item.field(name).is_some();
    // Not an index, though it looks like one: JsonLogic's `-1`, `03`; Liquid's quoted `['0']`,
    // `['size']` (keys; Liquid's own are `[0]` and `.size`).
    let number = name.parse::<i64>().is_ok();
    let hint = match (syntax, of_item) {
        (Syntax::JsonLogic, _) if number => format!("indexes count from 0 (\"{list}.0\" is the first item), never from the end, and have no sign or leading zero"),
        (Syntax::Liquid, _) if number => format!("a quoted number is a key, not an index: write {list}[{name}]"),
        (Syntax::Liquid, _) if matches!(name, "size" | "first" | "last") => format!("['{name}'] is a key, not Liquid's own {name}: write {list}.{name}"),
        (Syntax::JsonLogic, true) => format!(
            "for the first item's, write \"{list}.0.{name}\"; for their total, {{\"reduce\": [{{\"var\": \"{list}\"}}, {{\"+\": [{{\"var\": \"accumulator\"}}, {{\"var\": \"current.{name}\"}}]}}, 0]}}"
        ),
        (Syntax::JsonLogic, false) => format!("to count its items, write {{\"reduce\": [{{\"var\": \"{list}\"}}, {{\"+\": [{{\"var\": \"accumulator\"}}, 1]}}, 0]}}"),
        (Syntax::Liquid, true) => format!("for the first item's, write \"{list}.first.{name}\", or go through them with a for loop"),
        (Syntax::Liquid, false) => format!("for the number of its items, write \"{list}.size\""),
    };
    let keys = match syntax {
        Syntax::JsonLogic => "indexes (\"0\", \"1\", …)",
        Syntax::Liquid => "indexes, size, first and last",
    };
    format!("{data} has no field \"{list}.{name}\": {list} is a list, whose keys are {keys}, so it reads null; {hint}")
}

/// The message for key `name` on the single value (text, a number, true or false) reached by
/// `before` in `data`: it has no keys in kizuna, where JavaScript reads `.length` and `.0` of
/// text.
fn scalar_key(before: &[Step<'_>], name: &str, data: &str, syntax: Syntax) -> String {
    let value = dotted(before);
    let (written, what) = if value.is_empty() { (name.to_string(), "it") } else { (format!("{value}.{name}"), value.as_str()) };
    let hint = match (syntax, value.is_empty()) {
        (Syntax::JsonLogic, false) => format!("; to test that it is not empty, write {{\"!!\": {{\"var\": \"{value}\"}}}}"),
        (Syntax::JsonLogic, true) => "; for the value itself, write {\"var\": \"\"}".to_string(),
        (Syntax::Liquid, false) => format!("; for the number of its characters, write \"{value}.size\""),
        (Syntax::Liquid, true) => String::new(),
    };
    format!("{data} has no field \"{written}\": {what} is a single value (text, a number, true or false), which has no keys, so it reads null{hint}")
}

/// The message for `name`, unknown in an object with `fields`, reached by `before` in `data`;
/// `sent`: the object comes from the backend.
fn message(fields: &[(String, Shape)], before: &[Step<'_>], name: &str, data: &str, sent: bool) -> String {
    let top = before.is_empty();
    let prefix = if before.is_empty() { String::new() } else { format!("{}.", dotted(before)) };
    let written = format!("{prefix}{name}");
    let close = suggest(name, fields.iter().map(|(k, _)| k.as_str())).map(|f| format!("{prefix}{f}"));
    // At the top, a field of one of the objects there, its object forgotten (`tags` for
    // `user.tags`).
    let nested = || {
        fields.iter().find_map(|(k, s)| match s {
            Shape::Object(inner) => suggest(name, inner.iter().map(|(f, _)| f.as_str())).map(|f| format!("{k}.{f}")),
            _ => None,
        })
    };
    if let Some(meant) = close.or_else(|| if top { nested() } else { None }) {
        return format!("{data} has no field \"{written}\"; did you mean \"{meant}\"?");
    }
    // Custom data has its place: a field the user object does not define most likely belongs
    // there.
    let hint = if matches!(fields.iter().find(|(k, _)| k == "attributes"), Some((_, Shape::Free))) {
        format!("custom fields go in {prefix}attributes: \"{prefix}attributes.{name}\"")
    } else {
        let known: Vec<String> = fields.iter().map(|(k, _)| format!("\"{prefix}{k}\"")).collect();
        format!("the fields there are {}", known.join(", "))
    };
    let unless = if sent { " unless your backend sends one (if it does, ignore this warning)" } else { "" };
    format!("{data} has no field \"{written}\": it reads null{unless}; {hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> Vec<Step<'_>> {
        let keys = if text.is_empty() { Vec::new() } else { text.split('.').collect() };
        keys.into_iter().map(|k| Step::key(k, k.bytes().all(|b| b.is_ascii_digit()))).collect()
    }

    /// The Wasm (the playground's) reads the checked-in schema, having no schemars: it must
    /// give the shape schemars gives natively.
    #[test]
    fn the_checked_in_context_schema_gives_the_same_shape() {
        let doc = crate::value::parse(include_str!("../../schema/context.schema.json")).map(|v| v.to_serde()).unwrap();
        assert_eq!(Shape::from_schema(&doc, &doc, 0), Shape::context());
    }

    #[test]
    fn the_context_shape_is_read_from_its_schema() {
        let c = Shape::context();
        let user = c.field("user").unwrap();
        for f in ["userId", "displayName", "language", "tags", "followedAt", "lastActiveAt", "richMenuId"] {
            assert!(user.field(f).is_some(), "{f}");
        }
        assert_eq!(user.field("attributes"), Some(&Shape::Free));
        assert_eq!(user.field("quizAnswers"), Some(&Shape::Free));
        assert_eq!(user.field("tags"), Some(&Shape::List(Box::new(Shape::Scalar))));
        assert_eq!(c.field("event"), Some(&Shape::Free));
        assert_eq!(c.field("now"), Some(&Shape::Scalar));
        let Some(Shape::List(purchase)) = user.field("purchases") else { panic!("purchases") };
        assert!(purchase.field("amount").is_some() && purchase.field("at").is_some());
        let Some(Shape::List(event)) = user.field("events") else { panic!("events") };
        assert_eq!(event.field("data"), Some(&Shape::Free));
    }

    #[test]
    fn misspelt_fields_are_found_with_the_field_meant() {
        let c = Shape::context();
        let warn = |p: &str| c.unknown_field(&path(p), CONTEXT, true, Syntax::JsonLogic);
        assert_eq!(warn("user.tgas").unwrap(), "kizuna's Context has no field \"user.tgas\"; did you mean \"user.tags\"?");
        assert!(warn("user.dispalyName").unwrap().ends_with("did you mean \"user.displayName\"?"));
        assert!(warn("user.display_name").unwrap().ends_with("did you mean \"user.displayName\"?"));
        assert!(warn("usr.tags").unwrap().ends_with("did you mean \"user\"?"));
        assert!(warn("displayName").unwrap().ends_with("did you mean \"user.displayName\"?"), "the user forgotten");
        assert!(warn("user.purchases.0.amout").unwrap().ends_with("did you mean \"user.purchases.0.amount\"?"));
        assert!(warn("user.events.3.tpye").unwrap().ends_with("did you mean \"user.events.3.type\"?"));
        let far = warn("user.prefecture").unwrap();
        assert!(far.contains("no field \"user.prefecture\"") && far.ends_with("custom fields go in user.attributes: \"user.attributes.prefecture\""), "{far}");
        let top = warn("plan").unwrap();
        assert!(top.ends_with("the fields there are \"event\", \"now\", \"user\", \"version\""), "{top}");
    }

    #[test]
    fn free_form_data_and_known_fields_never_warn() {
        let c = Shape::context();
        for p in ["user", "user.tags", "user.tags.0", "user.attributes.prefecture", "user.attributes.a.b.c", "user.quizAnswers.skin.q1", "event.postback.data", "event.anything", "user.events.0.data.x", "now", "", "user.purchases.0.sku", "user.purchases.0.at.x"] {
            assert_eq!(c.unknown_field(&path(p), CONTEXT, true, Syntax::JsonLogic), None, "{p}");
        }
        // Liquid's `size` on an object is its number of fields.
        let size = [Step::key("user", false), Step { name: "size".into(), item: false, builtin: true }];
        assert_eq!(c.unknown_field(&size, CONTEXT, true, Syntax::JsonLogic), None);
        let first = [Step::key("user", false), Step::key("purchases", false), Step { name: "first".into(), item: true, builtin: true }, Step::key("skuu", false)];
        assert!(c.unknown_field(&first, CONTEXT, true, Syntax::JsonLogic).unwrap().contains("did you mean \"user.purchases.first.sku\"?"));
    }

    #[test]
    fn keys_on_a_list_warn_but_indexes_and_liquids_own_never_do() {
        let c = Shape::context();
        let rule = |p: &str| c.unknown_field(&path(p), CONTEXT, true, Syntax::JsonLogic);
        assert_eq!(
            rule("user.tags.length").unwrap(),
            "kizuna's Context has no field \"user.tags.length\": user.tags is a list, whose keys are indexes (\"0\", \"1\", …), so it reads null; to count its items, write {\"reduce\": [{\"var\": \"user.tags\"}, {\"+\": [{\"var\": \"accumulator\"}, 1]}, 0]}"
        );
        assert_eq!(
            rule("user.purchases.amount").unwrap(),
            "kizuna's Context has no field \"user.purchases.amount\": user.purchases is a list, whose keys are indexes (\"0\", \"1\", …), so it reads null; for the first item's, write \"user.purchases.0.amount\"; for their total, {\"reduce\": [{\"var\": \"user.purchases\"}, {\"+\": [{\"var\": \"accumulator\"}, {\"var\": \"current.amount\"}]}, 0]}"
        );
        assert!(rule("user.purchases.first.sku").unwrap().contains("no field \"user.purchases.first\": user.purchases is a list"), "JsonLogic has no first");
        assert!(rule("user.purchases.-1.at").unwrap().ends_with("so it reads null; indexes count from 0 (\"user.purchases.0\" is the first item), never from the end, and have no sign or leading zero"));
        for p in ["user.tags.0", "user.purchases.1.amount", "user.events.0.data.x"] {
            assert_eq!(rule(p), None, "{p}");
        }
        // Liquid: `size`, `first`, `last` and indexes are its own; any other key warns.
        let liquid = |steps: &[Step<'_>]| c.unknown_field(steps, CONTEXT, true, Syntax::Liquid);
        let cmd = |name: &'static str, item: bool| Step { name: name.into(), item, builtin: true };
        let tags = [Step::key("user", false), Step::key("tags", false)];
        for last in [cmd("size", false), cmd("first", true), cmd("last", true), cmd("0", true)] {
            let p: Vec<Step<'_>> = tags.iter().cloned().chain([last]).collect();
            assert_eq!(liquid(&p), None, "{}", dotted(&p));
        }
        let length: Vec<Step<'_>> = tags.iter().cloned().chain([Step::key("length", false)]).collect();
        assert!(liquid(&length).unwrap().ends_with("whose keys are indexes, size, first and last, so it reads null; for the number of its items, write \"user.tags.size\""));
        // Quoted, a number or Liquid's own name is a key.
        for (key, hint) in [("0", "a quoted number is a key, not an index: write user.tags[0]"), ("size", "['size'] is a key, not Liquid's own size: write user.tags.size")] {
            let p: Vec<Step<'_>> = tags.iter().cloned().chain([Step::key(key, false)]).collect();
            assert!(liquid(&p).unwrap().ends_with(hint), "{key}");
        }
        let amount = [Step::key("user", false), Step::key("purchases", false), Step::key("amount", false)];
        assert!(liquid(&amount).unwrap().ends_with("for the first item's, write \"user.purchases.first.amount\", or go through them with a for loop"));
        // From an item, a name, or a reduce's current: the same.
        let item = Base::Item(path("user.events"));
        assert_eq!(c.unknown_field_from(&item, &path("data.x"), CONTEXT, true, Syntax::JsonLogic), None);
        let u = Base::Name(path("user"));
        assert!(c.unknown_field_from(&u, &path("u.tags.length"), CONTEXT, true, Syntax::Liquid).unwrap().starts_with("\"u\" (user) has no field \"tags.length\": tags is a list"));
    }

    /// A key on text, a number or a boolean reads null (kizuna's paths read members and items
    /// only), where JavaScript reads `.length` and `.0` of text: a habit that warns.
    #[test]
    fn keys_on_a_single_value_warn_but_liquids_own_never_do() {
        let c = Shape::context();
        assert_eq!(
            c.unknown_field(&path("user.displayName.length"), CONTEXT, true, Syntax::JsonLogic).unwrap(),
            "kizuna's Context has no field \"user.displayName.length\": user.displayName is a single value (text, a number, true or false), which has no keys, so it reads null; to test that it is not empty, write {\"!!\": {\"var\": \"user.displayName\"}}"
        );
        assert!(c.unknown_field(&path("user.purchases.0.amount.0"), CONTEXT, true, Syntax::JsonLogic).unwrap().contains("user.purchases.0.amount is a single value"));
        assert!(c.unknown_field(&path("user.displayName.length"), CONTEXT, true, Syntax::Liquid).unwrap().ends_with("for the number of its characters, write \"user.displayName.size\""));
        let size = [Step::key("user", false), Step::key("displayName", false), Step { name: "size".into(), item: false, builtin: true }];
        assert_eq!(c.unknown_field(&size, CONTEXT, true, Syntax::Liquid), None);
        // An item that is a single value (a tag): the message says how to read the item itself.
        let tag = c.unknown_field_from(&Base::Item(path("user.tags")), &path("name"), CONTEXT, true, Syntax::JsonLogic).unwrap();
        assert_eq!(tag, "an item of user.tags has no field \"name\": it is a single value (text, a number, true or false), which has no keys, so it reads null; for the value itself, write {\"var\": \"\"}");
        let t = Base::Name(vec![Step::key("user", false), Step::key("tags", false), Step::any_item()]);
        assert!(c.unknown_field_from(&t, &path("t.name"), CONTEXT, true, Syntax::Liquid).unwrap().starts_with("\"t\" (an item of user.tags) has no field \"name\": it is a single value"));
    }

    #[test]
    fn other_data_roots_are_built_from_the_context() {
        let c = Shape::context();
        let quiz = Shape::Object(vec![("answers".into(), Shape::Free), ("user".into(), c.field("user").unwrap().clone())]);
        assert!(quiz.unknown_field(&path("answer.q1"), "the quiz's data", false, Syntax::JsonLogic).unwrap().ends_with("did you mean \"answers\"?"));
        assert_eq!(quiz.unknown_field(&path("answers.q1"), "the quiz's data", false, Syntax::JsonLogic), None);
        let built = quiz.unknown_field(&path("plan"), "the quiz's data", false, Syntax::JsonLogic).unwrap();
        assert_eq!(built, "the quiz's data has no field \"plan\": it reads null; the fields there are \"answers\", \"user\"");
        let sent = quiz.unknown_field(&path("user.plan"), "the quiz's data", false, Syntax::JsonLogic).unwrap();
        assert!(sent.contains("reads null unless your backend sends one"), "{sent}");
        let with = c.with("segments", Shape::List(Box::new(Shape::Scalar)));
        assert_eq!(with.unknown_field(&path("segments.0"), CONTEXT, true, Syntax::JsonLogic), None);
        assert!(with.unknown_field(&path("segmnets"), CONTEXT, true, Syntax::JsonLogic).unwrap().ends_with("did you mean \"segments\"?"));
    }

    #[test]
    fn paths_from_an_item_are_checked_against_the_items_of_a_list_the_context_defines() {
        let c = Shape::context();
        let item = |list: &'static str| Base::Item(path(list));
        let warn = |base: &Base<'_>, p: &str| c.unknown_field_from(base, &path(p), CONTEXT, true, Syntax::JsonLogic);
        assert_eq!(warn(&item("user.purchases"), "catgory").unwrap(), "an item of user.purchases has no field \"catgory\"; did you mean \"category\"?");
        assert_eq!(warn(&item("user.events"), "tpye").unwrap(), "an item of user.events has no field \"tpye\"; did you mean \"type\"?");
        let far = warn(&item("user.purchases"), "color").unwrap();
        assert!(far.contains("it reads null unless your backend sends one") && far.ends_with("the fields there are \"amount\", \"at\", \"category\", \"orderId\", \"quantity\", \"sku\""), "{far}");
        for (list, p) in [("user.purchases", "sku"), ("user.purchases", ""), ("user.events", "data.x.y"), ("user.tags", ""), ("user.attributes.orders", "amout"), ("user.purchse", "amout"), ("user", "x"), ("user.displayName", "x")] {
            assert_eq!(warn(&item(list), p), None, "{list}: {p}");
        }
        // Nested: an item's list, when the Context defines one there (it defines none).
        let nested = Base::Item(vec![Step::key("user", false), Step::key("purchases", false), Step::any_item(), Step::key("items", false)]);
        assert_eq!(warn(&nested, "x"), None);

        // `reduce`: `accumulator` is anything, `current` an item when the list is known.
        let over = |list: Option<&'static str>| Base::Reduce(list.map(path));
        assert_eq!(warn(&over(Some("user.purchases")), "current.amout").unwrap(), "the data of a reduce over user.purchases has no field \"current.amout\"; did you mean \"current.amount\"?");
        assert_eq!(warn(&over(None), "curent.amount").unwrap(), "the data of a reduce has no field \"curent\"; did you mean \"current\"?");
        let top = warn(&over(None), "total").unwrap();
        assert_eq!(top, "the data of a reduce has no field \"total\": it reads null; the fields there are \"accumulator\", \"current\"");
        for p in ["accumulator.x", "current", "current.amount", "", "accumulator"] {
            assert_eq!(warn(&over(Some("user.purchases")), p), None, "{p}");
        }
        assert_eq!(warn(&over(None), "current.amout"), None);

        // A path of the Context, read from an item: how to read it there.
        let outer = warn(&item("user.purchases"), "user.tags").unwrap();
        assert!(outer.ends_with("here \"var\" reads each item, not kizuna's Context; to read its \"user.tags\", write {\"val\": [[2], \"user\", \"tags\"]}"), "{outer}");
        assert!(warn(&nested, "now").is_none(), "an item of a list the Context does not define");

        // A template's name bound to a path of the data.
        let name = |to: Vec<Step<'static>>| Base::Name(to);
        let p_item = name(vec![Step::key("user", false), Step::key("purchases", false), Step::any_item()]);
        assert_eq!(warn(&p_item, "p.amout").unwrap(), "\"p\" (an item of user.purchases) has no field \"amout\"; did you mean \"amount\"?");
        assert_eq!(warn(&p_item, "p"), None);
        assert_eq!(warn(&name(path("user")), "u.tgas").unwrap(), "\"u\" (user) has no field \"tgas\"; did you mean \"tags\"?");
        assert_eq!(warn(&name(path("user.attributes")), "a.anything"), None);
        assert_eq!(warn(&name(path("usr")), "u.x"), None, "a path the Context does not define");
    }

    #[test]
    fn shapes_are_found_at_paths_the_context_defines() {
        let c = Shape::context();
        assert_eq!(c.at(&path("user.tags")), Some(&Shape::List(Box::new(Shape::Scalar))));
        assert_eq!(c.at(&path("user.tags.0")), Some(&Shape::Scalar));
        assert!(matches!(c.at(&[Step::key("user", false), Step::key("purchases", false), Step::any_item()]), Some(Shape::Object(_))));
        assert_eq!(c.at(&path("user.attributes")), Some(&Shape::Free));
        for p in ["user.attributes.x", "user.tgas", "user.tags.x", "now.x", "user.purchases.first"] {
            assert_eq!(c.at(&path(p)), None, "{p}");
        }
    }
}
