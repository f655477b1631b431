//! Contents: variants chosen per user (conditions, then an A/B split), rendered into LINE
//! message objects that respect the Messaging API's limits.

use crate::contract::config::{Config, Content};
use crate::contract::read::{join, Problems};
use crate::contract::{ContentChoice, ContentExplain, ExperimentExplain, VariantExplain, VariantWeight};
use crate::error::{Code, Error};
use crate::logic::{self, Env, Rule};
use crate::template::{Limits, Locale, RenderOptions, Template};
use crate::value::{Projection, Value};
use serde_json::Value as Json;
use crate::line::{length_problem, Limit, Role};
use crate::line_shape::{element, is_template, parse_loop, url_problem, url_rule, written_at, Element, Loop, Url};

/// A message's JSON is never written past this. LINE's largest fits: an imagemap of 50
/// actions with 400-character texts, every character escaped (`\uXXXX`), is about 160 KB.
const MAX_WRITTEN: usize = 256_000;
/// At most this many messages per reply or push call.
const MAX_MESSAGES: usize = 5;
/// "30 KB" per bubble and "50 KB" per carousel in LINE's reference; read as decimal kilobytes,
/// the conservative side, so a message kizuna accepts is never refused by LINE.
const MAX_BUBBLE_BYTES: usize = 30_000;
const MAX_CAROUSEL_BYTES: usize = 50_000;

/// A piece of a message's JSON text: a literal run (keys, punctuation, values without a
/// template), a template, whose output is escaped into place, or a `$for`/`$if` element.
#[derive(Debug, Clone)]
enum Piece {
    Raw(String),
    Hole(Box<Hole>),
    /// Before an element (or member) of a list (or object) where some are written only for some
    /// data: a comma, unless it is the first written.
    Comma,
    Dynamic(Box<Dynamic>),
}

#[derive(Debug, Clone)]
struct Hole {
    template: Template,
    /// JSON pointer of the template string in the config, for errors.
    path: String,
    /// LINE's limit on the string this is, if it has one.
    limited: Option<Limit>,
    /// What LINE takes there if the string is a URL.
    url: Option<Url>,
}

/// A `$for` element, written once per item of a list of the data, or an `$if` element (or
/// member), written when its condition holds (see [`crate::line_shape::Element`]).
#[derive(Debug, Clone)]
struct Dynamic {
    kind: Kind,
    /// The element as written each time, its comma first.
    body: Vec<Piece>,
    /// JSON pointer of the element in the config, for errors.
    path: String,
}

#[derive(Debug, Clone)]
enum Kind {
    For(Loop),
    If(Rule),
}

/// One message, compiled to its JSON text with holes where templates go (no intermediate
/// `serde_json::Value`, no walk of the object per render). Templates only ever produce strings;
/// only `$for` and `$if` elements change the JSON structure, so without them every count LINE
/// limits (messages, bubbles, quick replies) is fixed at compile time. What rendering can change
/// is string lengths, checked as they are written, and bubble sizes.
#[derive(Debug, Clone)]
struct Message {
    pieces: Vec<Piece>,
    /// JSON pointer of the message in the config, for errors.
    path: String,
    /// A flex message with templates inside: its bubble sizes are measured after rendering.
    flex_templated: bool,
    /// A template decides a `type` or an enumerated value, or a `$for`/`$if` the structure:
    /// the shape is checked after rendering.
    shape_templated: bool,
    /// The message as the config writes it, when it has `$for`/`$if` elements: to point
    /// errors found in the rendered message at their place in the config.
    dynamic: Option<Box<Json>>,
}

/// What a message's pieces are written with: the data, the conditions' environment, the
/// template options, and where errors go.
struct Writer<'w> {
    env: &'w Env<'w>,
    opts: &'w RenderOptions<'w>,
    scratch: String,
    errors: &'w mut Vec<Error>,
    /// Where the message starts in the output, and whether it outgrew [`MAX_WRITTEN`] (then
    /// nothing more is written: it is lost anyway).
    start: usize,
    over: bool,
}

impl Writer<'_> {
    /// Writes `pieces`, checking limited strings as they are rendered. A template that fails
    /// adds its error and the others still render, so every problem of a content is reported
    /// at once. Error paths are built only when there is an error.
    fn write(&mut self, pieces: &[Piece], doc: &Value<'_>, out: &mut String) {
        for piece in pieces {
            if self.over {
                return;
            }
            match piece {
                Piece::Raw(json) => out.push_str(json),
                Piece::Hole(h) => {
                    self.scratch.clear();
                    let problem = match h.template.render_into(doc, self.opts, &mut self.scratch) {
                        Ok(()) => match h.limited.and_then(|limit| length_problem(limit, &self.scratch, true)) {
                            Some(p) => Some(Error::new(Code::LimitExceeded, h.path.as_str(), p)),
                            None => h.url.and_then(|url| url_problem(url, &self.scratch, true)).map(|p| Error::new(Code::InvalidValue, h.path.as_str(), p)),
                        },
                        Err(mut e) => {
                            e.path.clone_from(&h.path);
                            Some(e)
                        }
                    };
                    if let Some(e) = problem {
                        self.report(e);
                    }
                    crate::value::write_json_string(&self.scratch, out);
                }
                Piece::Comma => {
                    if !matches!(out.as_bytes().last(), Some(b'[' | b'{')) {
                        out.push(',');
                    }
                }
                Piece::Dynamic(d) => self.dynamic(d, doc, out),
            }
        }
    }

    /// Adds `e` once, not once per item of a loop around its template or condition.
    #[inline(never)]
    fn report(&mut self, e: Error) {
        if !self.errors.iter().any(|x| x.path == e.path && x.message == e.message) {
            self.errors.push(e);
        }
    }

    #[inline(never)]
    fn dynamic(&mut self, d: &Dynamic, doc: &Value<'_>, out: &mut String) {
        let lp = match &d.kind {
            Kind::If(rule) => {
                match rule.matches(doc, self.env) {
                    Ok(true) => self.write(&d.body, doc, out),
                    Ok(false) => {}
                    Err(e) => self.report(e),
                }
                return;
            }
            Kind::For(lp) => lp,
        };
        let items = match doc.lookup(lp.list.iter().map(String::as_str)) {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(items)) => items.as_slice(),
            Some(other) => {
                let list = lp.list.join(".");
                self.errors.push(Error::new(Code::TemplateRender, join(&d.path, "$for"), format!("\"$for\" walks a list, and {list} is not one for this user (found JSON {})", other.kind())));
                return;
            }
        };
        let from = lp.offset.min(items.len());
        let to = lp.limit.map_or(items.len(), |n| from.saturating_add(n).min(items.len()));
        let items = items.get(from..to).unwrap_or(&[]);
        // The item and `forloop` join the data, after its fields, so they win a lookup.
        let mut data = match doc {
            Value::Object(members) => members.clone(),
            _ => Vec::new(),
        };
        data.push((lp.name.clone().into(), Value::Null));
        data.push(("forloop".into(), Value::Null));
        let mut data = Value::Object(data);
        let length = items.len();
        let order: Box<dyn Iterator<Item = &Value<'_>>> = if lp.reversed { Box::new(items.iter().rev()) } else { Box::new(items.iter()) };
        for (i, item) in order.enumerate() {
            // Data-driven, a message can grow without bound (loops in loops over long lists):
            // stop once it is past anything LINE takes.
            if out.len().saturating_sub(self.start) > MAX_WRITTEN {
                self.over = true;
                let list = lp.list.join(".");
                self.errors.push(Error::new(
                    Code::LimitExceeded,
                    join(&d.path, "$for"),
                    format!("writing the items of {list} took the message past {} KB of JSON, more than LINE takes for any message; give the \"$for\" a smaller limit", MAX_WRITTEN / 1000),
                ));
                return;
            }
            if let Value::Object(members) = &mut data {
                if let [.., (_, slot), (_, forloop)] = members.as_mut_slice() {
                    *slot = item.clone();
                    *forloop = forloop_of(i, length);
                }
            }
            self.write(&d.body, &data, out);
        }
    }
}

/// Liquid's `forloop` for item `i` of `length`.
fn forloop_of(i: usize, length: usize) -> Value<'static> {
    let int = |n: usize| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
    let rest = length.saturating_sub(i);
    Value::Object(vec![
        ("index".into(), int(i.saturating_add(1))),
        ("index0".into(), int(i)),
        ("rindex".into(), int(rest)),
        ("rindex0".into(), int(rest.saturating_sub(1))),
        ("first".into(), Value::Bool(i == 0)),
        ("last".into(), Value::Bool(rest == 1)),
        ("length".into(), int(length)),
    ])
}

impl Message {
    fn projection(&self, p: &mut Projection) {
        pieces_projection(&self.pieces, p);
    }
}

/// The data paths `pieces` read.
fn pieces_projection(pieces: &[Piece], p: &mut Projection) {
    for piece in pieces {
        match piece {
            Piece::Hole(h) => h.template.projection(p),
            Piece::Dynamic(d) => {
                match &d.kind {
                    Kind::For(lp) => p.add(lp.list.iter().map(String::as_str)),
                    Kind::If(rule) => rule.projection(p),
                }
                pieces_projection(&d.body, p);
            }
            Piece::Raw(_) | Piece::Comma => {}
        }
    }
}

#[derive(Debug, Clone)]
struct CompiledVariant {
    id: String,
    when: Option<Rule>,
    weight: Option<u32>,
    messages: Vec<Message>,
    unit: Option<String>,
}

#[derive(Debug, Clone)]
struct CompiledContent {
    id: String,
    on: Vec<String>,
    experiment: Option<(String, Option<Rule>)>,
    variants: Vec<CompiledVariant>,
    /// Whether a template reads `segments` (only then are they added to the data).
    reads_segments: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Contents {
    items: Vec<CompiledContent>,
    limits: Limits,
    locale: Locale,
}

/// What [`Contents::reads`] finds.
#[cfg(lint)]
#[derive(Default)]
pub struct Reads<'c> {
    pub rules: Vec<(&'c Rule, Vec<&'c Loop>)>,
    pub templates: Vec<(&'c str, &'c Template, Vec<&'c Loop>)>,
    pub lists: Vec<(String, &'c Loop, Vec<&'c Loop>)>,
}

/// A rendered content.
pub struct Rendered {
    pub choice: ContentChoice,
    /// The messages' JSON texts, one after the other in one buffer (one allocation per
    /// render, not one per message); `ends` marks where each ends.
    json: String,
    ends: Vec<usize>,
}

impl Rendered {
    /// Each message as JSON text.
    pub fn messages(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, &z)| self.json.get(a..z).unwrap_or(""))
    }

    /// The bytes of all messages together.
    pub fn len(&self) -> usize {
        self.json.len()
    }
}

impl Contents {
    #[inline(never)] // see Engine::from_json
    pub fn compile(config: &Config, opts: &logic::Options, p: &mut Problems) -> Contents {
        let limits = Limits::default();
        let rule = |v: &Option<Json>, path: String, p: &mut Problems| -> Option<Rule> {
            let v = v.as_ref()?;
            logic::compile(v, opts, &path).map_err(|e| p.0.extend(e)).ok()
        };
        let items = config
            .contents
            .iter()
            .enumerate()
            .map(|(ci, c)| {
                let cpath = join("/contents", ci);
                let experiment = c.experiment.as_ref().map(|e| (e.id.clone(), rule(&e.when, join(&join(&cpath, "experiment"), "when"), p)));
                let variants: Vec<CompiledVariant> = c
                    .variants
                    .iter()
                    .enumerate()
                    .map(|(vi, v)| {
                        let vpath = join(&join(&cpath, "variants"), vi);
                        let mpath = join(&vpath, "messages");
                        if v.messages.len() > MAX_MESSAGES {
                            p.push(Code::LimitExceeded, &mpath, format!("content \"{}\", variant \"{}\": LINE sends at most {MAX_MESSAGES} messages per reply or push, found {}", c.id, v.id, v.messages.len()));
                        }
                        let messages = v
                            .messages
                            .iter()
                            .enumerate()
                            .map(|(mi, m)| {
                                let path = join(&mpath, mi);
                                let pieces = compile_message(m, &path, c, &v.id, &limits, opts, p);
                                let dynamic = pieces.iter().any(|p| matches!(p, Piece::Dynamic(_)));
                                let templated = dynamic || has_template(m);
                                if !templated {
                                    if let Err(e) = check_sizes(&crate::value::Value::from_serde(m), &path, &c.id, &v.id) {
                                        p.0.push(e);
                                    }
                                }
                                let flex_templated = templated && m.get("type").and_then(Json::as_str) == Some("flex");
                                let shape_templated = dynamic || crate::line_shape::templated_shape(m);
                                Message { pieces, path, flex_templated, shape_templated, dynamic: dynamic.then(|| Box::new(m.clone())) }
                            })
                            .collect();
                        CompiledVariant { id: v.id.clone(), when: rule(&v.when, join(&vpath, "when"), p), weight: v.weight, messages, unit: v.aggregation_unit.clone() }
                    })
                    .collect();
                let mut reads = Projection::none();
                variants.iter().flat_map(|v| &v.messages).for_each(|m| m.projection(&mut reads));
                let mut with_segments = reads.clone();
                with_segments.add([super::CONTENT_EXTRA.0]);
                CompiledContent { id: c.id.clone(), on: c.on.clone(), experiment, variants, reads_segments: with_segments == reads }
            })
            .collect();
        Contents { items, limits, locale: config.locale() }
    }

    pub fn projection(&self, p: &mut Projection) {
        for c in &self.items {
            if let Some((_, Some(r))) = &c.experiment {
                r.projection(p);
            }
            for v in &c.variants {
                if let Some(r) = &v.when {
                    r.projection(p);
                }
                for m in &v.messages {
                    m.projection(p);
                }
            }
        }
    }

    /// What is never used because something before it always applies, as (JSON pointer,
    /// message): a variant after one without a condition (the experiment's variants count
    /// where the first of them stands), and an event type in a content's `on` after a content
    /// for that type that always answers (for `Engine::warnings`).
    #[cfg(lint)]
    pub fn unreachable(&self) -> Vec<(String, String)> {
        let always = |w: &Option<Rule>| w.as_ref().is_none_or(Rule::always_true);
        let mut out = Vec::new();
        // Whether each content always answers: a variant of it always applies.
        let mut answers = Vec::with_capacity(self.items.len());
        for (i, c) in self.items.iter().enumerate() {
            let first_weighted = c.variants.iter().position(|v| v.weight.is_some());
            let split_always = c.experiment.as_ref().is_some_and(|(_, w)| always(w)) && c.variants.iter().any(|v| v.weight.is_some_and(|w| w > 0));
            let catch_all = c.variants.iter().enumerate().find(|&(j, v)| match v.weight {
                None => always(&v.when),
                Some(_) => split_always && first_weighted == Some(j),
            });
            answers.push(catch_all.is_some());
            if let Some((k, by)) = catch_all {
                let why = if by.weight.is_some() { "the experiment before it always assigns a variant (its \"when\" is true or absent)".to_string() } else { format!("variant \"{}\" before it always applies ({})", by.id, if by.when.is_some() { "its condition is always true" } else { "it has no condition" }) };
                for (j, v) in c.variants.iter().enumerate().skip(k + 1) {
                    // Weighted variants are reached where the first of them stands.
                    if v.weight.is_some() && first_weighted.is_some_and(|f| f <= k) {
                        continue;
                    }
                    out.push((format!("/contents/{i}/variants/{j}"), format!("this variant is never used: {why}")));
                }
            }
        }
        for (i, c) in self.items.iter().enumerate() {
            for (n, t) in c.on.iter().enumerate() {
                let before = self.items.iter().zip(&answers).take(i).find(|(b, always)| **always && b.on.contains(t));
                if let Some((b, _)) = before {
                    out.push((
                        format!("/contents/{i}/on/{n}"),
                        format!("content \"{}\" never answers \"{t}\" events: content \"{}\" before it always does (a variant without a condition); it can still be rendered by id", c.id, b.id),
                    ));
                }
            }
        }
        out
    }

    /// What the contents read, for `Engine::warnings`: every rule (experiments', variants' and
    /// `$if`s' `when`), every template with its JSON pointer, and every `$for` list with the
    /// pointer of its `$for`; each with the `$for` loops around it, outermost first.
    #[cfg(lint)]
    pub fn reads(&self) -> Reads<'_> {
        fn walk<'c>(pieces: &'c [Piece], loops: &[&'c Loop], r: &mut Reads<'c>) {
            for piece in pieces {
                match piece {
                    Piece::Hole(h) => r.templates.push((h.path.as_str(), &h.template, loops.to_vec())),
                    Piece::Dynamic(d) => match &d.kind {
                        Kind::If(rule) => {
                            r.rules.push((rule, loops.to_vec()));
                            walk(&d.body, loops, r);
                        }
                        Kind::For(lp) => {
                            r.lists.push((join(&d.path, "$for"), lp, loops.to_vec()));
                            let inner: Vec<&Loop> = loops.iter().copied().chain([lp]).collect();
                            walk(&d.body, &inner, r);
                        }
                    },
                    Piece::Raw(_) | Piece::Comma => {}
                }
            }
        }
        let mut r = Reads::default();
        for c in &self.items {
            if let Some((_, Some(rule))) = &c.experiment {
                r.rules.push((rule, Vec::new()));
            }
            for v in &c.variants {
                r.rules.extend(v.when.as_ref().map(|rule| (rule, Vec::new())));
                for m in &v.messages {
                    walk(&m.pieces, &[], &mut r);
                }
            }
        }
        r
    }

    pub fn ids(&self) -> Vec<&str> {
        self.items.iter().map(|c| c.id.as_str()).collect()
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.items.iter().position(|c| c.id == id)
    }

    /// The contents that answer events of this type, in config order: the first with a
    /// variant that applies renders (keyword replies, then a catch-all).
    pub fn for_event<'a>(&'a self, event_type: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.items.iter().enumerate().filter(move |(_, c)| c.on.iter().any(|t| t == event_type)).map(|(i, _)| i)
    }

    /// Whether content `index`'s templates read `segments` (the caller then adds them).
    pub fn reads_segments(&self, index: usize) -> bool {
        self.items.get(index).is_some_and(|c| c.reads_segments)
    }

    /// Picks the variant of content `index` for this user and renders its messages against
    /// `doc` (the context, plus `segments` when [`Contents::reads_segments`]). `None` when no
    /// variant applies, or when a condition fails to evaluate (its error joins `errors`). A
    /// render that fails keeps the choice (the decision still says which variant, and which
    /// experiment, the user got) with no messages, its errors in `errors`: nothing is sent.
    #[inline(never)] // only engines with contents compile it (see Engine::from_json)
    pub fn render(&self, index: usize, doc: &Value<'_>, env: &Env<'_>, user_id: &str, errors: &mut Vec<Error>) -> Option<Rendered> {
        let c = self.items.get(index)?;
        let (variant, experiment) = choose(c, index, doc, env, user_id, None).map_err(|e| errors.push(e)).ok()??;
        let choice = ContentChoice { id: c.id.clone(), variant: variant.id.clone(), experiment: experiment.map(str::to_string), aggregation_unit: variant.unit.clone() };
        let opts = RenderOptions { now: env.now, tz: env.tz, locale: self.locale, limits: &self.limits };
        let mut json = String::with_capacity(256 * variant.messages.len());
        let mut ends = Vec::with_capacity(variant.messages.len());
        let mut scratch = String::new();
        let failed = errors.len();
        for m in &variant.messages {
            let start = json.len();
            let before = errors.len();
            let mut w = Writer { env, opts: &opts, scratch: std::mem::take(&mut scratch), errors: &mut *errors, start, over: false };
            w.write(&m.pieces, doc, &mut json);
            scratch = w.scratch;
            if m.dynamic.is_some() {
                drop_empty_quick_reply(&mut json, start);
            }
            for e in errors.iter_mut().skip(before) {
                e.message = format!("content \"{}\", variant \"{}\": {}", c.id, variant.id, e.message);
            }
            if (m.flex_templated || m.shape_templated) && errors.len() == before {
                // Read the rendered message back, once: a bubble's size is known only once
                // written, and a template that wrote a type or enumerated value is checked as
                // LINE would (a 400 for the whole reply), at its place in the config (the
                // rendered message has the config's structure, but for what `$for` and `$if`
                // elements wrote: see `in_config`). The crate's parser, then serde's value:
                // serde_json's own parser is not in the Wasm.
                let who = format!("content \"{}\", variant \"{}\"", c.id, variant.id);
                let place = |at: &str| match &m.dynamic {
                    Some(config) => in_config(config, &m.path, at),
                    None => (at.to_string(), String::new()),
                };
                match crate::value::parse(json.get(start..).unwrap_or("")) {
                    Ok(rendered) => {
                        if m.flex_templated {
                            errors.extend(check_sizes(&rendered, &m.path, &c.id, &variant.id).err().map(|mut e| {
                                let (at, note) = place(&e.path);
                                e.path = at;
                                e.message.push_str(&note);
                                e
                            }));
                        }
                        if m.shape_templated && errors.len() == before {
                            crate::line_shape::check_message(&rendered.to_serde(), &m.path, true, &mut |code, at, problem| {
                                let (at, note) = place(at);
                                errors.push(Error::new(code, at, format!("{who}: after rendering, {problem}{note}")));
                            });
                        }
                    }
                    Err(e) => errors.push(Error::new(Code::TemplateRender, m.path.as_str(), format!("{who}: rendered message is not JSON: {e}"))),
                }
            }
            ends.push(json.len());
        }
        if errors.len() > failed {
            return Some(Rendered { choice, json: String::new(), ends: Vec::new() });
        }
        Some(Rendered { choice, json, ends })
    }
}

impl Contents {
    /// Why content `index` gets the variant [`Contents::render`] renders (the same data): its
    /// tries, each condition explained. A condition that fails to evaluate ends the tries
    /// (render reports its error).
    #[inline(never)]
    pub fn explain(&self, index: usize, doc: &Value<'_>, env: &Env<'_>, user_id: &str) -> Option<ContentExplain> {
        let c = self.items.get(index)?;
        let mut tried = Vec::new();
        let variant = choose(c, index, doc, env, user_id, Some(&mut tried)).ok().flatten().map(|(v, _)| v.id.clone());
        Some(ContentExplain { content: c.id.clone(), variant, tried })
    }
}

/// The first variant that applies, and the experiment if the user was assigned in one. With
/// `trace`, each try is recorded (conditions explained: the same outcomes, plus their steps).
/// One copy for both callers (no inlined duplicate in the Wasm).
#[inline(never)]
fn choose<'c>(
    c: &'c CompiledContent,
    index: usize,
    doc: &Value<'_>,
    env: &Env<'_>,
    user_id: &str,
    mut trace: Option<&mut Vec<VariantExplain>>,
) -> Result<Option<(&'c CompiledVariant, Option<&'c str>)>, Error> {
    let mut split_done = false;
    for (i, v) in c.variants.iter().enumerate() {
        if v.weight.is_some() {
            if split_done {
                continue;
            }
            split_done = true;
            let Some((exp_id, exp_when)) = &c.experiment else { continue };
            let weighted: Vec<(&CompiledVariant, u32)> = c.variants.iter().filter_map(|v| Some((v, v.weight?))).collect();
            let taking_part = holds(exp_when.as_ref(), None, doc, env, trace.as_deref_mut(), &|| join(&join("/contents", index), "experiment"));
            let chosen = match taking_part {
                Ok(true) => fractional(exp_id, user_id, &weighted),
                _ => None,
            };
            if let Some(t) = trace.as_deref_mut().and_then(|t| t.last_mut()) {
                let key = [exp_id.as_str(), user_id].concat();
                let weights = weighted.iter().map(|(v, w)| VariantWeight { variant: v.id.clone(), weight: *w }).collect();
                t.variant = chosen.map(|(v, _)| v.id.clone());
                t.experiment = Some(ExperimentExplain { id: exp_id.clone(), key, weights, bucket: chosen.map(|(_, b)| b) });
            }
            taking_part?;
            if let Some((chosen, _)) = chosen {
                return Ok(Some((chosen, Some(exp_id))));
            }
            continue;
        }
        let path = || join(&join(&join("/contents", index), "variants"), i);
        if holds(v.when.as_ref(), Some(&v.id), doc, env, trace.as_deref_mut(), &path)? {
            return Ok(Some((v, None)));
        }
    }
    Ok(None)
}

/// Whether a condition holds (none: it does). With `trace`, it is explained and a try (of
/// `variant`, at `path`) is recorded, also when it fails to evaluate.
fn holds(when: Option<&Rule>, variant: Option<&str>, doc: &Value<'_>, env: &Env<'_>, trace: Option<&mut Vec<VariantExplain>>, path: &dyn Fn() -> String) -> Result<bool, Error> {
    let Some(trace) = trace else { return when.map_or(Ok(true), |r| r.matches(doc, env)) };
    let (result, steps) = match when {
        Some(r) => r.explain(doc, env),
        None => (Ok(true), Vec::new()),
    };
    let steps = steps.into_iter().map(super::segments::step).collect();
    trace.push(VariantExplain { variant: variant.map(str::to_string), path: path(), condition: result.as_ref().is_ok_and(|h| *h), experiment: None, steps });
    result
}

/// OpenFeature flagd's `fractional` bucketing: murmur3 (x86, 32-bit, seed 0) of experiment id +
/// user id, scaled to the total weight; the first variant whose cumulative weight exceeds the
/// bucket wins. A backend can reproduce it with any flagd implementation. Returns the variant
/// and the bucket.
fn fractional<'v>(experiment: &str, user_id: &str, weighted: &[(&'v CompiledVariant, u32)]) -> Option<(&'v CompiledVariant, u64)> {
    let total: u64 = weighted.iter().map(|(_, w)| u64::from(*w)).sum();
    let mut key = String::with_capacity(experiment.len() + user_id.len());
    key.push_str(experiment);
    key.push_str(user_id);
    // In u128, as flagd's `fractional` does: weights of several variants can total over 2^32.
    let bucket = (u128::from(logic::murmur3_32(key.as_bytes(), 0)) * u128::from(total)) >> 32;
    let mut cumulative = 0u128;
    for (v, w) in weighted {
        cumulative += u128::from(*w);
        if cumulative > bucket {
            // Below `total`, a u64.
            return Some((v, u64::try_from(bucket).unwrap_or(u64::MAX)));
        }
    }
    None
}

fn compile_message(m: &Json, path: &str, c: &Content, variant: &str, limits: &Limits, rules: &logic::Options, p: &mut Problems) -> Vec<Piece> {
    let who = format!("content \"{}\", variant \"{variant}\"", c.id);
    if let Some(word) = element(m).map(|e| if matches!(e, Ok(Element::For { .. })) { "$for" } else { "$if" }) {
        p.push(Code::InvalidValue, path, format!("{who}: a \"{word}\" element goes inside a message, in its lists and members; a variant's messages are fixed (choose between variants with \"when\")"));
        return Vec::new();
    }
    // Types, required and known keys, enumerated values, colours, aspect ratios, URLs and
    // array lengths of every object inside.
    crate::line_shape::check_message(m, path, false, &mut |code, at, problem| p.push(code, at, format!("{who}: {problem}")));
    let mut b = Pieces { limits, rules, who: &who, pieces: Vec::new(), raw: String::new() };
    match m {
        Json::Object(fields) => b.object(fields, path, Role::message(m), p),
        other => b.value(other, path, Role::Other, "", p),
    }
    b.flush();
    // A textV2 text: what its templates output is data, never a placeholder (also a text
    // written by an `$if`).
    if m.get("type").and_then(Json::as_str) == Some("textV2") {
        fn escape(pieces: &mut [Piece], text: &str) {
            for piece in pieces {
                match piece {
                    Piece::Hole(h) if h.path == text || h.path.strip_prefix(text).is_some_and(|rest| rest.starts_with("/$then")) => h.template.escape_braces(),
                    Piece::Dynamic(d) => escape(&mut d.body, text),
                    _ => {}
                }
            }
        }
        escape(&mut b.pieces, &join(path, "text"));
    }
    b.pieces
}

/// Builds a message's pieces: literal JSON collects in `raw` until a template needs a hole.
struct Pieces<'l> {
    limits: &'l Limits,
    /// For `$if` conditions.
    rules: &'l logic::Options,
    /// "content …, variant …", for errors.
    who: &'l str,
    pieces: Vec<Piece>,
    raw: String,
}

impl Pieces<'_> {
    /// Appends `v` (at `path`), found under `key` of an object of role `parent` (an array's
    /// items take the array's key). A string LINE limits there is checked now when literal, at
    /// render time when a template.
    fn value(&mut self, v: &Json, path: &str, parent: Role, key: &str, p: &mut Problems) {
        let limited = parent.limit(key);
        match v {
            Json::String(s) if is_template(s) => match Template::parse(s, self.limits) {
                Ok(template) => {
                    // Its fixed text alone over the limit: every render would fail.
                    let fixed = limited.map(|_| template.fixed_text()).filter(|t| !t.is_empty());
                    if let Some(problem) = limited.zip(fixed).and_then(|(limit, t)| length_problem(limit, &t, false)) {
                        p.push(Code::LimitExceeded, path, format!("{}: the template's fixed text alone, before any variable is filled in, is too long: {problem}", self.who));
                    }
                    self.flush();
                    self.pieces.push(Piece::Hole(Box::new(Hole { template, path: path.to_string(), limited, url: url_rule(key) })));
                }
                Err(mut e) => {
                    e.path = path.to_string();
                    p.0.push(e);
                    self.raw.push_str("null");
                }
            },
            Json::String(s) => {
                if let Some(problem) = limited.and_then(|limit| length_problem(limit, s, false)) {
                    p.push(Code::LimitExceeded, path, format!("{}: {problem}", self.who));
                }
                crate::value::write_json_string(s, &mut self.raw);
            }
            // Walked whole, templates or not: literal strings are checked on the way.
            Json::Array(items) => {
                self.raw.push('[');
                let dynamic = items.iter().any(|x| element(x).is_some());
                for (i, x) in items.iter().enumerate() {
                    if dynamic {
                        self.element(x, &join(path, i), |b, x, at, p| b.value(x, at, parent, key, p), p);
                        continue;
                    }
                    if i > 0 {
                        self.raw.push(',');
                    }
                    self.value(x, &join(path, i), parent, key, p);
                }
                self.raw.push(']');
            }
            Json::Object(fields) => self.object(fields, path, parent.child(key, v), p),
            other => crate::value::write_serde(other, &mut self.raw),
        }
    }

    fn object(&mut self, fields: &serde_json::Map<String, Json>, path: &str, role: Role, p: &mut Problems) {
        self.raw.push('{');
        let dynamic = fields.values().any(|x| element(x).is_some());
        for (i, (k, x)) in fields.iter().enumerate() {
            let at = join(path, k);
            let member = |b: &mut Self, x: &Json, at: &str, p: &mut Problems| {
                crate::value::write_json_string(k, &mut b.raw);
                b.raw.push(':');
                b.value(x, at, role, k, p);
            };
            if dynamic {
                if writes_many(x) {
                    p.push(Code::InvalidValue, &at, format!("{}: a \"$for\" writes elements of a list, so it goes inside a list (\"{k}\": [{{\"$for\": …}}])", self.who));
                    continue;
                }
                self.element(x, &at, member, p);
                continue;
            }
            if i > 0 {
                self.raw.push(',');
            }
            member(self, x, &at, p);
        }
        self.raw.push('}');
    }

    /// Appends an element of a list, or a member of an object, where some are `$for` or `$if`
    /// elements: its comma is written at render time. `write` appends the element (the member)
    /// for a value.
    fn element(&mut self, x: &Json, path: &str, write: impl Fn(&mut Self, &Json, &str, &mut Problems) + Copy, p: &mut Problems) {
        let e = match element(x) {
            None => {
                self.flush();
                self.pieces.push(Piece::Comma);
                return write(self, x, path, p);
            }
            Some(Err(problem)) => return p.push(Code::InvalidValue, path, format!("{}: {problem}", self.who)),
            Some(Ok(e)) => e,
        };
        let kind = match &e {
            Element::For { header, .. } => match parse_loop(header) {
                Ok(lp) => Kind::For(lp),
                Err(problem) => return p.push(Code::InvalidValue, &join(path, "$for"), format!("{}: {problem}", self.who)),
            },
            Element::If { rule, .. } => match logic::compile(rule, self.rules, &join(path, "$if")) {
                Ok(rule) => Kind::If(rule),
                Err(errors) => return p.0.extend(errors),
            },
        };
        let mut body = Pieces { limits: self.limits, rules: self.rules, who: self.who, pieces: Vec::new(), raw: String::new() };
        body.element(e.inner(), &join(path, e.key()), write, p);
        body.flush();
        self.flush();
        self.pieces.push(Piece::Dynamic(Box::new(Dynamic { kind, body: body.pieces, path: path.to_string() })));
    }

    fn flush(&mut self) {
        if !self.raw.is_empty() {
            self.pieces.push(Piece::Raw(std::mem::take(&mut self.raw)));
        }
    }
}

/// The config's pointer for the place `at` (under the message's `path`) of a rendered message
/// whose config (`message`) has `$for`/`$if` elements, and a note on where in what they wrote
/// (`""` when the pointer is exact). An `$if` member is its `$then`; item k of a list whose
/// only element is a `$for` is that `$for`'s `$each`. Where the rendered index says nothing of
/// the config's (a list with other elements besides), the pointer stops at the list.
fn in_config(message: &Json, path: &str, at: &str) -> (String, String) {
    let Some(rest) = at.strip_prefix(path) else { return (at.to_string(), String::new()) };
    let tokens: Vec<String> = rest.split('/').skip(1).map(|t| t.replace("~1", "/").replace("~0", "~")).collect();
    let mut node = message;
    let mut out = path.to_string();
    let mut note = String::new();
    for (i, t) in tokens.iter().enumerate() {
        let next = match node {
            Json::Object(o) => o.get(t).map(|next| (join(&out, t), next)),
            Json::Array(items) => match (items.as_slice(), t.parse::<usize>()) {
                (all, Ok(k)) if !all.iter().any(|x| element(x).is_some()) => all.get(k).map(|next| (join(&out, t), next)),
                ([only @ Json::Object(o)], Ok(k)) if o.contains_key("$for") => {
                    note = format!(" (element {} of the list as rendered, written by its \"$for\")", k.saturating_add(1));
                    Some((join(&out, 0), only))
                }
                _ => {
                    let rendered: Vec<&str> = tokens.iter().skip(i).map(String::as_str).collect();
                    return (out, format!(" (at /{} of the list as rendered, where \"$for\" and \"$if\" elements wrote theirs)", rendered.join("/")));
                }
            },
            _ => None,
        };
        // Into what an `$if` member, or the `$for`, writes.
        let Some((mut at, next)) = next else { return (out, note) };
        let Some(next) = written_at(next, &mut at, true) else { return (out, note) };
        out = at;
        node = next;
    }
    (out, note)
}

/// Whether `x` is a `$for` element (or an `$if` of one): its place is a list.
fn writes_many(x: &Json) -> bool {
    match element(x) {
        Some(Ok(Element::For { .. })) => true,
        Some(Ok(Element::If { then, .. })) => writes_many(then),
        _ => false,
    }
}

fn has_template(v: &Json) -> bool {
    match v {
        Json::String(s) => is_template(s),
        Json::Array(items) => items.iter().any(has_template),
        Json::Object(m) => m.values().any(has_template),
        _ => false,
    }
}

/// Leaves out the quick reply of the message written from `start` when its `$for` and `$if`
/// items all came out empty: a message without one is what such a user should get, where
/// LINE's reference names no minimum for `items` and gives an empty one no meaning. (Written
/// compactly by the writer; inside a string the quotes would be escaped.)
fn drop_empty_quick_reply(json: &mut String, start: usize) {
    const EMPTY: &str = r#""quickReply":{"items":[]}"#;
    let Some(at) = json.get(start..).and_then(|m| m.find(EMPTY)).map(|i| start + i) else { return };
    let end = at + EMPTY.len();
    // With the comma before it, or (first member) the one after it.
    let range = match (json.get(..at).is_some_and(|s| s.ends_with(',')), json.get(end..).is_some_and(|s| s.starts_with(','))) {
        (true, _) => at - 1..end,
        (false, true) => at..end + 1,
        (false, false) => at..end,
    };
    json.replace_range(range, "");
}

/// LINE's limits on bubble sizes, which depend on what the strings say. (String lengths are
/// checked as strings are compiled or rendered; counts of messages, bubbles and quick replies
/// are fixed by the JSON structure, which templates cannot change: [`compile_message`] checks
/// them.) Going over is an error, never a cut message.
fn check_sizes(m: &Value<'_>, path: &str, content: &str, variant: &str) -> Result<(), Error> {
    let at = |fields: &[&str]| fields.iter().fold(path.to_string(), |p, f| join(&p, f));
    let over = |field: String, what: String| {
        Err(Error::new(Code::LimitExceeded, field, format!("content \"{content}\", variant \"{variant}\": {what}")))
    };
    if m.get("type").and_then(Value::as_str) == Some("flex") {
        if let Some(contents) = m.get("contents") {
            let size = |v: &Value<'_>| v.to_json().len();
            match contents.get("type").and_then(Value::as_str) {
                Some("carousel") => {
                    let bubbles = contents.get("contents").and_then(Value::as_array).unwrap_or(&[]);
                    for (i, b) in bubbles.iter().enumerate() {
                        if size(b) > MAX_BUBBLE_BYTES {
                            return over(at(&["contents", "contents", &i.to_string()]), format!("bubble {i} is {} bytes of JSON; LINE allows {MAX_BUBBLE_BYTES}", size(b)));
                        }
                    }
                    if size(contents) > MAX_CAROUSEL_BYTES {
                        return over(at(&["contents"]), format!("the carousel is {} bytes of JSON; LINE allows {MAX_CAROUSEL_BYTES}", size(contents)));
                    }
                }
                _ => {
                    if size(contents) > MAX_BUBBLE_BYTES {
                        return over(at(&["contents"]), format!("the bubble is {} bytes of JSON; LINE allows {MAX_BUBBLE_BYTES}", size(contents)));
                    }
                }
            }
        }
    }
    Ok(())
}
