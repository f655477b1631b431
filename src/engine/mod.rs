//! The engine: a config compiled once, deciding for one context at a time.

mod contents;
#[cfg(lint)]
mod lint;
mod menus;
mod quiz;
mod segments;

pub use menus::{bulk_requests, bulk_requests_json, BulkBatch, BulkBody, BulkRequest, BULK_LIMIT};

use crate::contract::config::{json_error, parse_json, parse_text, Config};
use crate::contract::context::{self, Checked};
use crate::contract::read::Problems;
use crate::contract::{Decision, VERSION};
use crate::error::{Code, Error};
use crate::logic::{self, Env};
use chrono::{DateTime, FixedOffset};
use crate::value::{self, Projection, Value};
use contents::{Contents, Rendered};
use segments::Segments;

/// [`VERSION`] as text, written into every decision without a formatting call (checked by a
/// test).
const VERSION_TEXT: &str = "1";

/// Options of one decision.
#[derive(Clone, Copy, Debug, Default)]
pub struct DecideOptions {
    /// Add the explain trace (slower; for playgrounds and debugging).
    pub explain: bool,
}

/// A compiled config. Cheap to share; deciding borrows it immutably.
#[derive(Debug, Clone)]
pub struct Engine {
    config: Config,
    config_hash: String,
    /// The config's time zone, resolved once.
    tz: FixedOffset,
    segments: Segments,
    contents: Contents,
    menus: Option<menus::Menus>,
    quizzes: crate::quiz::Quizzes,
    /// The parts of a context any rule reads; everything else is only syntax-checked.
    projection: Projection,
    /// Whether the items of each of [`context::LISTS`] are read, and so checked.
    lists: [bool; 2],
}

impl Engine {
    /// Compiles config JSON text, returning every problem at once.
    pub fn compile(text: &str) -> Result<Engine, Vec<Error>> {
        let v = parse_text(text, "the config").map_err(|e| vec![e])?;
        // Only the text shows a key written twice: a serde_json document keeps the last one.
        let mut twice = Vec::new();
        duplicate_keys(&v, "", &mut twice);
        let doc = v.to_serde();
        match Engine::from_json(&doc) {
            Ok(engine) if twice.is_empty() => Ok(engine),
            Ok(_) => Err(sorted_by_pointer(twice)),
            Err(mut errors) => {
                errors.extend(twice);
                Err(sorted_by_pointer(errors))
            }
        }
    }

    /// Compiles an already parsed config.
    pub fn from_json(doc: &serde_json::Value) -> Result<Engine, Vec<Error>> {
        let mut p = Problems::default();
        let config = Config::read(doc, &mut p);
        let read_problems = p.0.len();
        // Rules of segments and contents compile against the same options.
        let opts = config.as_ref().map(|c| {
            let ids: Vec<&str> = c.segments.iter().map(|s| s.id.as_str()).collect();
            // Without read problems every segment was read: the common case skips the scan.
            let unread = if read_problems == 0 { Vec::new() } else { crate::contract::config::unread_segment_ids(doc, &ids).into_iter().map(str::to_string).collect() };
            logic::Options::for_config(c.tz(), c.segments.iter().map(|s| s.id.clone()).collect()).with_unread(unread)
        });
        let segments = config.as_ref().zip(opts.as_ref()).map(|(c, o)| Segments::compile(c, o, &mut p));
        // A section the config does not have is not compiled at all: in Wasm, V8 compiles a
        // function on its first call, so a segments-only engine starts without compiling the
        // content, menu and quiz compilers (LLVM keeps them out of line: `#[inline(never)]`).
        let contents = config.as_ref().zip(opts.as_ref()).map(|(c, o)| if c.contents.is_empty() { Contents::default() } else { Contents::compile(c, o, &mut p) });
        let menus = config.as_ref().zip(opts.as_ref()).and_then(|(c, o)| c.rich_menus.as_ref().and_then(|_| menus::Menus::compile(c, o, &mut p)));
        // Quiz rules read `answers`, `scores`, `user` and `now`; the quiz compiler refuses
        // in_segment with a message of its own.
        let quizzes = config.as_ref().zip(opts.as_ref()).map(|(c, o)| if c.quizzes.is_empty() { crate::quiz::Quizzes::default() } else { crate::quiz::Quizzes::compile(c, o, &mut p) });
        match (config, segments, contents, quizzes) {
            (Some(config), Some(segments), Some(contents), Some(quizzes)) if p.0.is_empty() => {
                let mut projection = Projection::none();
                // What `context::check` reads, so a context is refused alike whatever the
                // config reads: the fields, `tags` whole (an array of strings), the others'
                // types.
                for path in [&["now"][..], &["version"], &["user", "userId"], &["user", "tags"], &["user", "richMenuId"], &["event", "webhookEventId"], &["event", "type"]] {
                    projection.add(path.iter().copied());
                }
                for key in ["attributes", "quizAnswers", "purchases", "events"] {
                    projection.add_shape(&["user", key]);
                }
                segments.projection(&mut projection);
                contents.projection(&mut projection);
                if let Some(m) = &menus {
                    m.projection(&mut projection);
                }
                // The items of a list that something reads (then built whole) are checked; a
                // list nothing reads is skipped unbuilt, and need not be (see `context::check`).
                let lists = context::LISTS.map(|(key, _)| projection.reads_items(&["user", key]));
                // serde_json's map is sorted, so this text is canonical: key order and
                // whitespace of the source do not change the hash.
                let canonical = value::serde_text(doc);
                let tz = config.tz();
                Ok(Engine { config, config_hash: crate::hash::hex128(canonical.as_bytes()), tz, segments, contents, menus, quizzes, projection, lists })
            }
            _ => {
                p.renumber_from(read_problems);
                Err(sorted_by_pointer(p.0))
            }
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Hash of the canonical config JSON; every decision carries it.
    pub fn config_hash(&self) -> &str {
        &self.config_hash
    }

    /// Decides for a context given as JSON text: the fast path (only what rules read is built).
    pub fn decide(&self, context: &str, opts: DecideOptions) -> Result<Decision, Error> {
        let mut doc = self.parse_context(context)?;
        Ok(self.decide_doc(&mut doc, opts, None)?.to_decision())
    }

    /// Decides and renders content `content_id` (whatever the event), e.g. for a push
    /// campaign: the decision's `content` and `messages` are that content's.
    pub fn render(&self, content_id: &str, context: &str, opts: DecideOptions) -> Result<Decision, Error> {
        let index = self.content_index(content_id)?;
        let mut doc = self.parse_context(context)?;
        Ok(self.decide_doc(&mut doc, opts, Some(index))?.to_decision())
    }

    /// [`Engine::render`] returning JSON text: the fast path of [`Engine::decide_to_string`].
    pub fn render_to_string(&self, content_id: &str, context: &str, opts: DecideOptions) -> Result<String, Error> {
        let mut out = String::new();
        self.render_into(content_id, context, opts, &mut out)?;
        Ok(out)
    }

    /// [`Engine::render_to_string`] appending to `out` (a buffer reused across calls).
    pub(crate) fn render_into(&self, content_id: &str, context: &str, opts: DecideOptions, out: &mut String) -> Result<(), Error> {
        let index = self.content_index(content_id)?;
        let mut doc = self.parse_context(context)?;
        self.decide_doc(&mut doc, opts, Some(index))?.write_json(out);
        Ok(())
    }

    /// Whether the config has this content: an `unknown_content` error (with the ids it has)
    /// otherwise. For a batch job that renders one content for every context.
    pub fn check_content(&self, content_id: &str) -> Result<(), Error> {
        self.content_index(content_id).map(|_| ())
    }

    /// Whether the config has this segment: an `unknown_segment` error (with the ids it has)
    /// otherwise. For a batch job that picks one segment's audience.
    pub fn check_segment(&self, segment_id: &str) -> Result<(), Error> {
        if self.config.segments.iter().any(|s| s.id == segment_id) {
            return Ok(());
        }
        let ids: Vec<&str> = self.config.segments.iter().map(|s| s.id.as_str()).collect();
        Err(Error::new(Code::UnknownSegment, "", format!("there is no segment \"{segment_id}\" in the config{}", crate::error::known_list(&ids, segment_id))))
    }

    fn content_index(&self, content_id: &str) -> Result<usize, Error> {
        self.contents
            .index_of(content_id)
            .ok_or_else(|| {
                let ids = self.contents.ids();
                Error::new(Code::UnknownContent, "", format!("there is no content \"{content_id}\" in the config{}", crate::error::known_list(&ids, content_id)))
            })
    }

    /// Decides for an already parsed context. serde_json's maps sort their keys, so a template
    /// that prints a whole object (`{{ user.attributes | json }}`) lists its keys sorted here,
    /// in document order from text; everything else is the same decision.
    pub fn decide_json(&self, context: &serde_json::Value, opts: DecideOptions) -> Result<Decision, Error> {
        let mut doc = Value::from_serde(context);
        Ok(self.decide_doc(&mut doc, opts, None)?.to_decision())
    }

    /// Decides and returns the decision as JSON text: the same bytes as serializing
    /// [`Engine::decide`]'s result, written directly (no intermediate strings) on the hot path.
    pub fn decide_to_string(&self, context: &str, opts: DecideOptions) -> Result<String, Error> {
        let mut out = String::new();
        self.decide_into(context, opts, &mut out)?;
        Ok(out)
    }

    /// [`Engine::decide_to_string`] appending to `out` (a buffer reused across calls).
    pub(crate) fn decide_into(&self, context: &str, opts: DecideOptions, out: &mut String) -> Result<(), Error> {
        let mut doc = self.parse_context(context)?;
        self.decide_doc(&mut doc, opts, None)?.write_json(out);
        Ok(())
    }

    fn parse_context<'t>(&self, context: &'t str) -> Result<Value<'t>, Error> {
        value::parse_projected(value::without_bom(context), &self.projection).map_err(|e| json_error("the context", &e))
    }

    /// One decision, before it is written out (as JSON text or as a [`Decision`]): it borrows
    /// the context, so the caller keeps the parsed document.
    fn decide_doc<'d>(&'d self, doc: &'d mut Value<'_>, opts: DecideOptions, content: Option<usize>) -> Result<Draft<'d>, Error> {
        context::fill_defaults(doc);
        let doc: &'d Value<'_> = doc;
        let checked = context::check(doc, self.lists)?;
        let tz = self.tz;
        let mut outcome = self.segments.decide(doc, &checked, tz, opts.explain);
        // Menu rules and content variants read the segments just decided.
        let env = Env { now: checked.now, tz, segments: &outcome.results, flag_key: None, targeting_key: Some(checked.user_id) };
        let rich_menu = self.menus.as_ref().map(|m| m.decide(&self.config, doc, &env, &outcome.unsure, &mut outcome.errors));
        // The content asked for, else the event's: each content that answers its type in turn,
        // until one has a variant that applies.
        let event_type = if content.is_none() { doc.get("event").and_then(|e| e.get("type")).and_then(Value::as_str) } else { None };
        let candidates = content.into_iter().chain(event_type.into_iter().flat_map(|t| self.contents.for_event(t)));
        let mut explain_content = Vec::new();
        let mut rendered = None;
        // Templates that read `segments` see the matched ids; only they pay for a copy, made
        // once for all the contents tried.
        let mut with_segments = None;
        for index in candidates {
            let data = if self.contents.reads_segments(index) {
                &*with_segments.get_or_insert_with(|| {
                    let mut doc = doc.clone();
                    if let Value::Object(members) = &mut doc {
                        let ids = outcome.matched.iter().map(|&i| Value::String(self.segments.id(i).to_string().into())).collect();
                        members.push((CONTENT_EXTRA.0.into(), Value::Array(ids)));
                    }
                    doc
                })
            } else {
                doc
            };
            if opts.explain {
                explain_content.extend(self.contents.explain(index, data, &env, checked.user_id));
            }
            let before = outcome.errors.len();
            rendered = self.contents.render(index, data, &env, checked.user_id, &mut outcome.errors);
            // No variant applies: the next content (a condition that failed to evaluate stops).
            if rendered.is_some() || outcome.errors.len() > before {
                break;
            }
        }
        let explain_content = opts.explain.then_some(explain_content).filter(|x| !x.is_empty());
        let mut draft = Draft { engine: self, checked, explain: None, explain_content, decision_id: String::new(), outcome, rich_menu, rendered };
        draft.explain = draft.outcome.explain.take();
        draft.decision_id = draft.id();
        Ok(draft)
    }
}

/// A part of the data that a rule or template is given, beside the context's fields or
/// instead of them. Where that data is built, a list of `(name, Part)` says what it holds
/// ([`CONTENT_EXTRA`], [`quiz::RULE_DATA`], [`quiz::DESCRIPTION_EXTRA`]), and `kizuna check`
/// reads the same lists to check rules and templates against it (see `Engine::warnings`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Part {
    /// The context's field of that name (`user`).
    Context,
    /// The moment of the decision, as RFC 3339 text (the context's `now`).
    Now,
    /// The ids of the segments matched (strings).
    Segments,
    /// A quiz's answers, by question id.
    Answers,
    /// A quiz's scores, by dimension.
    Scores,
}

/// What a content's templates see beside the context (only templates that read it pay for it).
pub(crate) const CONTENT_EXTRA: (&str, Part) = ("segments", Part::Segments);

/// A decision before it is written out: names are borrowed from the engine and the context.
struct Draft<'d> {
    engine: &'d Engine,
    checked: Checked<'d>,
    outcome: segments::Outcome,
    rich_menu: Option<crate::contract::RichMenuChoice>,
    rendered: Option<Rendered>,
    explain: Option<Vec<crate::contract::SegmentExplain>>,
    explain_content: Option<Vec<crate::contract::ContentExplain>>,
    decision_id: String,
}

impl Draft<'_> {
    fn segment_ids(&self) -> impl Iterator<Item = &str> {
        self.outcome.matched.iter().map(|&i| self.engine.segments.id(i))
    }

    fn group_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.outcome.groups.iter().map(|&(g, s)| (self.engine.segments.group_name(g), self.engine.segments.id(s)))
    }

    /// The decision id: a hash over the inputs that identify the decision and its content.
    fn id(&self) -> String {
        let c = &self.checked;
        let mut key = String::with_capacity(160);
        for part in [self.engine.config_hash.as_str(), c.user_id, c.now_text, c.event_id.unwrap_or("")] {
            key.push_str(part);
            key.push('\u{1f}');
        }
        for s in self.segment_ids() {
            key.push_str(s);
            key.push('\u{1e}');
        }
        if let Some(m) = &self.rich_menu {
            for part in [m.action.as_str(), m.rich_menu_id.as_deref().unwrap_or("")] {
                key.push_str(part);
                key.push('\u{1e}');
            }
        }
        if let Some(r) = &self.rendered {
            for part in [r.choice.id.as_str(), r.choice.variant.as_str()] {
                key.push_str(part);
                key.push('\u{1e}');
            }
        }
        for e in &self.outcome.errors {
            key.push_str(e.code.as_str());
            key.push_str(&e.path);
            key.push('\u{1e}');
        }
        crate::hash::hex128(key.as_bytes())
    }

    fn to_decision(&self) -> Decision {
        // Filled by `insert`: collecting into a BTreeMap would instantiate std's sort once more.
        let mut groups = std::collections::BTreeMap::new();
        for (g, s) in self.group_pairs() {
            groups.insert(g.to_string(), s.to_string());
        }
        Decision {
            version: VERSION,
            decision_id: self.decision_id.clone(),
            config_hash: self.engine.config_hash.clone(),
            user_id: self.checked.user_id.to_string(),
            now: self.checked.now_text.to_string(),
            segments: self.segment_ids().map(str::to_string).collect(),
            groups,
            rich_menu: self.rich_menu.clone(),
            content: self.rendered.as_ref().map(|r| r.choice.clone()),
            messages: self.rendered.iter().flat_map(Rendered::messages).map(|m| crate::contract::MessageJson::new(m.to_string())).collect(),
            errors: self.outcome.errors.clone(),
            explain: self.explain.clone(),
            explain_content: self.explain_content.clone(),
            quiz: None,
        }
    }

    /// Writes the decision as serde would write [`Draft::to_decision`] (a test holds them equal).
    fn write_json(&self, o: &mut String) {
        // Room for a typical decision (~300 bytes with a handful of segments, plus the
        // messages): no regrowth.
        o.reserve(512 + self.rendered.as_ref().map_or(0, Rendered::len));
        crate::contract::decision::write_head(
            o,
            VERSION_TEXT,
            &self.decision_id,
            &self.engine.config_hash,
            self.checked.user_id,
            self.checked.now_text,
            &mut self.segment_ids(),
            &mut self.group_pairs(),
        );
        let rendered = self.rendered.as_ref();
        crate::contract::decision::write_tail(
            o,
            self.rich_menu.as_ref(),
            rendered.map(|r| &r.choice),
            &mut rendered.into_iter().flat_map(Rendered::messages),
            &self.outcome.errors,
            self.explain.as_deref(),
            self.explain_content.as_deref(),
        );
    }
}

/// The data and the moment of a playground call ([`evaluate`], [`render_template`]).
fn playground_inputs<'d>(data: &'d str, now: &str) -> Result<(Value<'d>, DateTime<FixedOffset>), Vec<Error>> {
    let data = value::parse(value::without_bom(data)).map_err(|e| vec![json_error("the data", &e)])?;
    let now = crate::logic::time::rfc3339(now)
        .ok_or_else(|| vec![Error::new(Code::InvalidTimestamp, "", format!("now is not an RFC 3339 timestamp: \"{now}\""))])?;
    Ok((data, now))
}

/// Problems ordered by JSON pointer (its numbers as numbers), not by where they are in the text.
#[inline(never)]
fn sorted_by_pointer(mut errors: Vec<Error>) -> Vec<Error> {
    // Keys computed once, then the crate's shared sort (see `sort::stable_order`).
    let keys: Vec<_> = errors.iter().map(|e| pointer_order(&e.path)).collect();
    let order = crate::sort::stable_order(keys.len(), &mut |i, j| keys.get(i) < keys.get(j));
    crate::sort::permute(&mut errors, order);
    errors
}

/// Every key an object of `v` (at pointer `at`) has more than once, at its later places.
#[inline(never)]
fn duplicate_keys(v: &Value<'_>, at: &str, out: &mut Vec<Error>) {
    match v {
        Value::Object(members) => {
            for i in crate::sort::repeats(members.len(), &|i| members.get(i).map(|(k, _)| k.as_ref())) {
                if let Some((k, _)) = members.get(i) {
                    let path = crate::contract::read::join(at, k);
                    out.push(Error::new(Code::DuplicateKey, path.as_str(), format!("\"{k}\" is written twice in this object; only the last would count, so remove one")));
                }
            }
            for (k, child) in members {
                duplicate_keys(child, &crate::contract::read::join(at, k), out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                duplicate_keys(item, &crate::contract::read::join(at, i), out);
            }
        }
        _ => {}
    }
}

/// Sort key that puts problems in document order (`/segments/2` before `/segments/10`).
fn pointer_order(path: &str) -> Vec<(u64, &str)> {
    path.split('/').map(|t| (t.parse::<u64>().unwrap_or(u64::MAX), t)).collect()
}

impl Engine {
    /// One NDJSON output line for one context line: the decision, or
    /// `{"error":{code,message,path},"line":n,"userId"}` so a batch never stops at a bad
    /// record (`userId` when the context has a readable one).
    pub fn decide_line(&self, context: &str, line_no: usize, opts: DecideOptions) -> String {
        self.decide_to_string(context, opts).unwrap_or_else(|e| error_line_of(&e, line_no, context))
    }

    /// [`Engine::decide_line`] rendering content `content_id` (see [`Engine::render`]).
    pub fn render_line(&self, content_id: &str, context: &str, line_no: usize, opts: DecideOptions) -> String {
        self.render_to_string(content_id, context, opts).unwrap_or_else(|e| error_line_of(&e, line_no, context))
    }
}

/// The NDJSON record of a context that could not be decided, as
/// `serde_json::json!({"error": e, "line": line_no})` writes it (keys sorted).
pub fn error_line(e: &Error, line_no: usize) -> String {
    error_line_with(e, line_no, None)
}

/// [`error_line`] with the context's `user.userId` when it can be read (a record of a 100,000
/// line export is found by user, not only by line).
fn error_line_of(e: &Error, line_no: usize, context: &str) -> String {
    let doc = value::parse(value::without_bom(context)).ok();
    let user_id = doc.as_ref().and_then(|d| d.get("user")?.get("userId")?.as_str());
    error_line_with(e, line_no, user_id)
}

fn error_line_with(e: &Error, line_no: usize, user_id: Option<&str>) -> String {
    let mut o = String::from("{\"error\":");
    e.write_json(&mut o);
    o.push_str(",\"line\":");
    o.push_str(&line_no.to_string());
    if let Some(id) = user_id {
        o.push_str(",\"userId\":");
        value::write_json_string(id, &mut o);
    }
    o.push('}');
    o
}

/// Decides every non-blank line of an NDJSON text; one output line per input line.
pub fn decide_ndjson(engine: &Engine, ndjson: &str, opts: DecideOptions) -> String {
    let mut out = String::with_capacity(ndjson.len() / 2);
    let ndjson = value::without_bom(ndjson);
    for (i, line) in ndjson.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push_str(&engine.decide_line(line, i + 1, opts));
        out.push('\n');
    }
    out
}

/// Evaluates one bare rule (JSON text) against data (JSON text) at `now` (RFC 3339), with the
/// default time zone; the result as JSON text. For playgrounds and `kizuna eval`.
pub fn evaluate(rule: &str, data: &str, now: &str) -> Result<String, Vec<Error>> {
    evaluate_in(rule, data, now, crate::contract::config::default_tz())
}

/// Renders one ad-hoc Liquid template against data (JSON text) at `now` (RFC 3339), in the
/// default time zone and limits. For playgrounds and `kizuna render`.
pub fn render_template(template: &str, data: &str, now: &str) -> Result<String, Vec<Error>> {
    render_in(template, data, now, crate::contract::config::default_tz(), crate::template::Locale::default())
}

#[cfg(not(target_arch = "wasm32"))]
impl Engine {
    /// [`evaluate`] in this config's time zone (`kizuna eval --config`): weekdays, times of
    /// day and calendar days as `decide` sees them.
    pub fn evaluate(&self, rule: &str, data: &str, now: &str) -> Result<String, Vec<Error>> {
        evaluate_in(rule, data, now, self.tz)
    }

    /// [`render_template`] in this config's time zone and locale (`kizuna render --config`):
    /// dates as its contents print them.
    pub fn render_template(&self, template: &str, data: &str, now: &str) -> Result<String, Vec<Error>> {
        render_in(template, data, now, self.tz, self.config.locale())
    }
}

fn evaluate_in(rule: &str, data: &str, now: &str, tz: FixedOffset) -> Result<String, Vec<Error>> {
    let rule = parse_json(rule, "the rule").map_err(|e| vec![e])?;
    let (data, now) = playground_inputs(data, now)?;
    let compiled = logic::compile(&rule, &logic::Options::new(tz, Vec::new()), "")?;
    let env = Env { now, tz, segments: &[], flag_key: None, targeting_key: None };
    match compiled.apply(&data, &env) {
        Ok(v) => Ok(v.to_json()),
        Err(e) => Err(vec![compiled.error(&e)]),
    }
}

fn render_in(template: &str, data: &str, now: &str, tz: FixedOffset, locale: crate::template::Locale) -> Result<String, Vec<Error>> {
    use crate::template::{Limits, RenderOptions, Template};
    let (data, now) = playground_inputs(data, now)?;
    let limits = Limits::default();
    let t = Template::parse(template, &limits).map_err(|e| vec![e])?;
    t.render(&data, &RenderOptions { tz, locale, ..RenderOptions::new(now, &limits) }).map_err(|e| vec![e])
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_text_is_the_version() {
        assert_eq!(super::VERSION_TEXT, super::VERSION.to_string());
    }
}
