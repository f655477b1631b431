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
use crate::line_shape::{is_template, url_problem, url_rule, Url};

/// At most this many messages per reply or push call.
const MAX_MESSAGES: usize = 5;
/// "30 KB" per bubble and "50 KB" per carousel in LINE's reference; read as decimal kilobytes,
/// the conservative side, so a message kizuna accepts is never refused by LINE.
const MAX_BUBBLE_BYTES: usize = 30_000;
const MAX_CAROUSEL_BYTES: usize = 50_000;

/// A piece of a message's JSON text: a literal run (keys, punctuation, values without a
/// template) or a template, whose output is escaped into place.
#[derive(Debug, Clone)]
enum Piece {
    Raw(String),
    Hole(Box<Hole>),
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

/// One message, compiled to its JSON text with holes where templates go (no intermediate
/// `serde_json::Value`, no walk of the object per render). Templates only ever produce strings,
/// so the JSON structure (and every count LINE limits: messages, bubbles, quick replies) is
/// fixed at compile time; what rendering can change is string lengths, checked as they are
/// written, and bubble sizes.
#[derive(Debug, Clone)]
struct Message {
    pieces: Vec<Piece>,
    /// JSON pointer of the message in the config, for errors.
    path: String,
    /// A flex message with templates inside: its bubble sizes are measured after rendering.
    flex_templated: bool,
    /// A template decides a `type` or an enumerated value: the shape is checked after rendering.
    shape_templated: bool,
}

impl Message {
    /// Writes the message, checking limited strings as they are rendered. A template that fails
    /// adds its error to `errors` and the others still render, so every problem of a content
    /// is reported at once. Error paths are built only when there is an error.
    fn write(&self, doc: &Value<'_>, opts: &RenderOptions<'_>, out: &mut String, scratch: &mut String, errors: &mut Vec<Error>) {
        for piece in &self.pieces {
            match piece {
                Piece::Raw(json) => out.push_str(json),
                Piece::Hole(h) => {
                    scratch.clear();
                    let problem = match h.template.render_into(doc, opts, scratch) {
                        Ok(()) => match h.limited.and_then(|limit| length_problem(limit, scratch, true)) {
                            Some(p) => Some(Error::new(Code::LimitExceeded, h.path.as_str(), p)),
                            None => h.url.and_then(|url| url_problem(url, scratch, true)).map(|p| Error::new(Code::InvalidValue, h.path.as_str(), p)),
                        },
                        Err(mut e) => {
                            e.path.clone_from(&h.path);
                            Some(e)
                        }
                    };
                    errors.extend(problem);
                    crate::value::write_json_string(scratch, out);
                }
            }
        }
    }

    fn projection(&self, p: &mut Projection) {
        for piece in &self.pieces {
            if let Piece::Hole(h) = piece {
                h.template.projection(p);
            }
        }
    }
}

#[derive(Debug, Clone)]
struct CompiledVariant {
    id: String,
    when: Option<Rule>,
    weight: Option<u32>,
    messages: Vec<Message>,
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
                                let pieces = compile_message(m, &path, c, &v.id, &limits, p);
                                let templated = has_template(m);
                                if !templated {
                                    if let Err(e) = check_sizes(&crate::value::Value::from_serde(m), &path, &c.id, &v.id) {
                                        p.0.push(e);
                                    }
                                }
                                let flex_templated = templated && m.get("type").and_then(Json::as_str) == Some("flex");
                                let shape_templated = crate::line_shape::templated_shape(m);
                                Message { pieces, path, flex_templated, shape_templated }
                            })
                            .collect();
                        CompiledVariant { id: v.id.clone(), when: rule(&v.when, join(&vpath, "when"), p), weight: v.weight, messages }
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
    #[cfg(not(target_arch = "wasm32"))]
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
                let why = if by.weight.is_some() { "the experiment before it always assigns a variant (its \"when\" is true or absent)".to_string() } else { format!("variant \"{}\" before it always applies (it has no condition)", by.id) };
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

    /// Every rule (experiments' and variants' `when`) and every template with its JSON pointer
    /// (for `Engine::warnings`).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn rules_and_templates(&self) -> (Vec<&Rule>, Vec<(&str, &Template)>) {
        let mut rules = Vec::new();
        let mut templates = Vec::new();
        for c in &self.items {
            if let Some((_, Some(r))) = &c.experiment {
                rules.push(r);
            }
            for v in &c.variants {
                rules.extend(v.when.as_ref());
                for piece in v.messages.iter().flat_map(|m| &m.pieces) {
                    if let Piece::Hole(h) = piece {
                        templates.push((h.path.as_str(), &h.template));
                    }
                }
            }
        }
        (rules, templates)
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
        let choice = ContentChoice { id: c.id.clone(), variant: variant.id.clone(), experiment: experiment.map(str::to_string) };
        let opts = RenderOptions { now: env.now, tz: env.tz, locale: self.locale, limits: &self.limits };
        let mut json = String::with_capacity(256 * variant.messages.len());
        let mut ends = Vec::with_capacity(variant.messages.len());
        let mut scratch = String::new();
        let failed = errors.len();
        for m in &variant.messages {
            let start = json.len();
            let before = errors.len();
            m.write(doc, &opts, &mut json, &mut scratch, errors);
            for e in errors.iter_mut().skip(before) {
                e.message = format!("content \"{}\", variant \"{}\": {}", c.id, variant.id, e.message);
            }
            if (m.flex_templated || m.shape_templated) && errors.len() == before {
                // Read the rendered message back, once: a bubble's size is known only once
                // written, and a template that wrote a type or enumerated value is checked as
                // LINE would (a 400 for the whole reply), at its place in the config (the
                // rendered message has the config's structure). The crate's parser, then serde's
                // value: serde_json's own parser is not in the Wasm.
                let who = format!("content \"{}\", variant \"{}\"", c.id, variant.id);
                match crate::value::parse(json.get(start..).unwrap_or("")) {
                    Ok(rendered) => {
                        if m.flex_templated {
                            errors.extend(check_sizes(&rendered, &m.path, &c.id, &variant.id).err());
                        }
                        if m.shape_templated && errors.len() == before {
                            crate::line_shape::check_message(&rendered.to_serde(), &m.path, &mut |code, at, problem| {
                                errors.push(Error::new(code, at, format!("{who}: after rendering, {problem}")));
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

fn compile_message(m: &Json, path: &str, c: &Content, variant: &str, limits: &Limits, p: &mut Problems) -> Vec<Piece> {
    let who = format!("content \"{}\", variant \"{variant}\"", c.id);
    // Types, required and known keys, enumerated values, colours, aspect ratios, URLs and
    // array lengths of every object inside.
    crate::line_shape::check_message(m, path, &mut |code, at, problem| p.push(code, at, format!("{who}: {problem}")));
    let mut b = Pieces { limits, who: &who, pieces: Vec::new(), raw: String::new() };
    match m {
        Json::Object(fields) => b.object(fields, path, Role::message(m), p),
        other => b.value(other, path, Role::Other, "", p),
    }
    if !b.raw.is_empty() {
        b.pieces.push(Piece::Raw(b.raw));
    }
    // A textV2 text: what its templates output is data, never a placeholder.
    if m.get("type").and_then(Json::as_str) == Some("textV2") {
        let text = join(path, "text");
        for piece in &mut b.pieces {
            if let Piece::Hole(h) = piece {
                if h.path == text {
                    h.template.escape_braces();
                }
            }
        }
    }
    b.pieces
}

/// Builds a message's pieces: literal JSON collects in `raw` until a template needs a hole.
struct Pieces<'l> {
    limits: &'l Limits,
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
                    if !self.raw.is_empty() {
                        self.pieces.push(Piece::Raw(std::mem::take(&mut self.raw)));
                    }
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
                for (i, x) in items.iter().enumerate() {
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
        for (i, (k, x)) in fields.iter().enumerate() {
            if i > 0 {
                self.raw.push(',');
            }
            crate::value::write_json_string(k, &mut self.raw);
            self.raw.push(':');
            self.value(x, &join(path, k), role, k, p);
        }
        self.raw.push('}');
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
