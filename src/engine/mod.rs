//! The engine: a config compiled once, deciding for one context at a time.

mod segments;

use crate::contract::config::{parse_json, Config};
use crate::contract::context::{self, Checked};
use crate::contract::read::Problems;
use crate::contract::{Decision, VERSION};
use crate::error::{Code, Error};
use crate::value::{self, Projection, Value};
use segments::Segments;

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
    segments: Segments,
    /// The parts of a context any rule reads; everything else is only syntax-checked.
    projection: Projection,
}

impl Engine {
    /// Compiles config JSON text, returning every problem at once.
    pub fn compile(text: &str) -> Result<Engine, Vec<Error>> {
        let doc = parse_json(text).map_err(|e| vec![e])?;
        Engine::from_json(&doc)
    }

    /// Compiles an already parsed config.
    pub fn from_json(doc: &serde_json::Value) -> Result<Engine, Vec<Error>> {
        let mut p = Problems::default();
        let config = Config::read(doc, &mut p);
        let segments = config.as_ref().map(|c| Segments::compile(c, &mut p));
        match (config, segments) {
            (Some(config), Some(segments)) if p.0.is_empty() => {
                let mut projection = Projection::none();
                for path in [&["now"][..], &["version"], &["user", "userId"], &["event", "webhookEventId"]] {
                    projection.add(path.iter().copied());
                }
                segments.projection(&mut projection);
                // serde_json's map is sorted, so this text is canonical: key order and
                // whitespace of the source do not change the hash.
                let canonical = doc.to_string();
                Ok(Engine { config, config_hash: crate::hash::hex128(canonical.as_bytes()), segments, projection })
            }
            _ => {
                let mut errors = p.0;
                errors.sort_by(|a, b| pointer_order(&a.path).cmp(&pointer_order(&b.path)));
                Err(errors)
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
        let doc = value::parse_projected(context, &self.projection).map_err(|e| {
            let mut err = Error::new(Code::InvalidJson, "", format!("the context is not valid JSON: {e}"));
            err.line = Some(e.line);
            err.column = Some(e.column);
            err
        })?;
        self.decide_doc(doc, opts)
    }

    /// Decides for an already parsed context.
    pub fn decide_json(&self, context: &serde_json::Value, opts: DecideOptions) -> Result<Decision, Error> {
        self.decide_doc(Value::from_serde(context), opts)
    }

    /// Decides and returns the decision as JSON text.
    pub fn decide_to_string(&self, context: &str, opts: DecideOptions) -> Result<String, Error> {
        let d = self.decide(context, opts)?;
        serde_json::to_string(&d).map_err(|e| Error::new(Code::InvalidValue, "", format!("cannot write the decision: {e}")))
    }

    fn decide_doc(&self, mut doc: Value<'_>, opts: DecideOptions) -> Result<Decision, Error> {
        context::fill_defaults(&mut doc);
        let checked = context::check(&doc)?;
        let outcome = self.segments.decide(&doc, &checked, self.config.tz(), opts.explain);
        let mut decision = Decision {
            version: VERSION,
            decision_id: String::new(),
            config_hash: self.config_hash.clone(),
            user_id: checked.user_id.to_string(),
            now: checked.now_text.to_string(),
            segments: outcome.matched,
            groups: outcome.groups,
            errors: outcome.errors,
            explain: outcome.explain,
        };
        decision.decision_id = decision_id(&decision, &checked);
        Ok(decision)
    }
}

/// Sort key that puts problems in document order (`/segments/2` before `/segments/10`).
fn pointer_order(path: &str) -> Vec<(u64, &str)> {
    path.split('/').map(|t| (t.parse::<u64>().unwrap_or(u64::MAX), t)).collect()
}

/// The decision id: a hash over the inputs that identify the decision and its content.
fn decision_id(d: &Decision, c: &Checked<'_>) -> String {
    let mut key = String::with_capacity(128);
    for part in [d.config_hash.as_str(), c.user_id, c.now_text, c.event_id.unwrap_or("")] {
        key.push_str(part);
        key.push('\u{1f}');
    }
    for s in &d.segments {
        key.push_str(s);
        key.push('\u{1e}');
    }
    for e in &d.errors {
        key.push_str(e.code.as_str());
        key.push_str(&e.path);
        key.push('\u{1e}');
    }
    crate::hash::hex128(key.as_bytes())
}

impl Engine {
    /// One NDJSON output line for one context line: the decision, or
    /// `{"error":{code,message,path},"line":n}` so a batch never stops at a bad record.
    pub fn decide_line(&self, context: &str, line_no: usize, opts: DecideOptions) -> String {
        match self.decide_to_string(context, opts) {
            Ok(s) => s,
            Err(e) => serde_json::json!({ "error": e, "line": line_no }).to_string(),
        }
    }
}

/// Decides every non-blank line of an NDJSON text; one output line per input line.
pub fn decide_ndjson(engine: &Engine, ndjson: &str, opts: DecideOptions) -> String {
    let mut out = String::with_capacity(ndjson.len() / 2);
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
    let rule: serde_json::Value = serde_json::from_str(rule)
        .map_err(|e| vec![Error::new(Code::InvalidJson, "", format!("the rule is not valid JSON: {e}"))])?;
    let data = value::parse(data)
        .map_err(|e| vec![Error::new(Code::InvalidJson, "", format!("the data is not valid JSON: {e}"))])?;
    let now = chrono::DateTime::parse_from_rfc3339(now).map_err(|_| {
        vec![Error::new(Code::InvalidTimestamp, "", format!("now is not an RFC 3339 timestamp: \"{now}\""))]
    })?;
    let tz = crate::contract::config::default_tz();
    let compiled = crate::logic::compile(&rule, &crate::logic::Options { tz, segments: Vec::new() }, "")?;
    let env = crate::logic::Env { now, tz, segments: &[], flag_key: None, targeting_key: None };
    match compiled.apply(&data, &env) {
        Ok(v) => Ok(v.to_json()),
        Err(e) => Err(vec![compiled.error(&e)]),
    }
}
