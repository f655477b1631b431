//! What quiz calls take and return: the saved state, the question to show, the outcome. All
//! plain JSON (the LIFF app keeps the state in localStorage), with JSON Schemas in `schema/`.

use super::config::QuestionKind;
use crate::contract::Decision;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Where a user is in a quiz. Serializable, so a reload resumes where the user was; every call
/// checks it against the config first (a state the config no longer fits is `stale_quiz_state`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct QuizState {
    /// State version: `1`.
    #[cfg_attr(not(target_arch = "wasm32"), schemars(range(min = 1, max = 1)))]
    pub version: u32,
    /// The quiz id.
    pub quiz: String,
    /// The answers by question id: a choice id (`single`), a list of choice ids in config order
    /// (`multiple`) or text (`text`); a skipped optional question has `""` (`[]` if multiple).
    #[serde(default)]
    pub answers: BTreeMap<String, QuizAnswer>,
    /// The answered question ids, in the order the user went through them.
    #[serde(default)]
    pub path: Vec<String>,
    /// The question to answer next; `null` when the quiz is done.
    pub current: Option<String>,
    /// Whether every question on the user's path is answered (the result can be asked for).
    pub done: bool,
}

/// One answer: a choice id or text, or a list of choice ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum QuizAnswer {
    /// A choice id (`single`) or free text (`text`); `""` skips an optional question.
    One(String),
    /// Choice ids (`multiple`); `[]` skips an optional question.
    Many(Vec<String>),
}

impl From<&str> for QuizAnswer {
    fn from(s: &str) -> Self {
        QuizAnswer::One(s.to_string())
    }
}

impl From<String> for QuizAnswer {
    fn from(s: String) -> Self {
        QuizAnswer::One(s)
    }
}

impl From<Vec<String>> for QuizAnswer {
    fn from(v: Vec<String>) -> Self {
        QuizAnswer::Many(v)
    }
}

impl<const N: usize> From<[&str; N]> for QuizAnswer {
    fn from(v: [&str; N]) -> Self {
        QuizAnswer::Many(v.iter().map(|s| s.to_string()).collect())
    }
}

impl QuizAnswer {
    pub fn to_json(&self) -> Value {
        match self {
            QuizAnswer::One(s) => Value::String(s.clone()),
            QuizAnswer::Many(v) => Value::Array(v.iter().cloned().map(Value::String).collect()),
        }
    }
}

/// The question to show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct QuizQuestion {
    /// Question id (what `quizAnswer` takes).
    pub id: String,
    /// `single`, `multiple` or `text`.
    pub kind: QuestionKind,
    /// The question text.
    pub text: String,
    /// Whether it may be skipped (answer `""` or `[]`).
    pub optional: bool,
    /// The choices (none for `text`).
    pub choices: Vec<QuizChoice>,
    /// 1-based position of this question on the user's path.
    pub number: u32,
    /// Questions answered plus the questions on the longest way from here to the end: a
    /// progress bar shows `number / total` (total can shrink as branches are taken).
    pub total: u32,
}

/// A choice to show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
pub struct QuizChoice {
    /// Choice id (what an answer names).
    pub id: String,
    /// The label to show.
    pub label: String,
}

/// A finished quiz: the result, what it changes about the user, and the decision for the user
/// with those changes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct QuizOutcome {
    /// The quiz id.
    pub quiz: String,
    /// The selected result, rendered for the user.
    pub result: QuizOutcomeResult,
    /// The score of every dimension.
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "BTreeMap<String, f64>"))]
    pub scores: Map<String, Value>,
    /// Tags the quiz adds (the chosen choices' tags, then the result's; no duplicates).
    pub tags: Vec<String>,
    /// Attributes the quiz sets (the chosen choices' in path order, then the result's; later wins).
    pub attributes: Map<String, Value>,
    /// The given context with the quiz applied: `user.quizAnswers.<quiz>` = the answers by
    /// question id plus `"result"`, the quiz's other tags taken off and its tags added, the
    /// attributes merged, and (unless the context had one) `event` = `{"type": "quiz",
    /// "quizId", "resultId"}`. Store it as the user's new profile (or apply `decision.quiz`).
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "crate::contract::Context"))]
    pub context: Value,
    /// `Engine::decide` on the updated context (deterministic id: the same completion at the
    /// same `now` gives the same `decisionId`), with `quiz`: the completion to store.
    pub decision: Decision,
    /// What of the result could not be rendered for this user: a recommended content (left
    /// out of `result.contents`) or the description (left out). The result stands: one
    /// product's template does not take the diagnosis away.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<crate::error::Error>,
}

/// The selected result of a quiz.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct QuizOutcomeResult {
    /// Result id.
    pub id: String,
    /// Result title.
    pub title: String,
    /// The description template, rendered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "String"))]
    pub description: Option<String>,
    /// The recommended contents, rendered for the user (a content none of whose variants
    /// applies to the user is left out).
    pub contents: Vec<QuizContent>,
    /// The result's rich menu (what to link is `decision.richMenu`: rules come first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "String"))]
    pub rich_menu: Option<String>,
}

/// A recommended content, rendered.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct QuizContent {
    /// Content id.
    pub id: String,
    /// The variant chosen for the user.
    pub variant: String,
    /// The experiment the user was assigned in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub experiment: Option<String>,
    /// LINE message objects, ready for the Messaging API.
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Vec<Map<String, Value>>"))]
    pub messages: Vec<crate::contract::MessageJson>,
}

impl PartialEq for QuizContent {
    fn eq(&self, other: &Self) -> bool {
        (&self.id, &self.variant, &self.experiment) == (&other.id, &other.variant, &other.experiment)
            && self.messages == other.messages
    }
}

// ---- JSON by hand -------------------------------------------------------------------------
// The Wasm calls read and write these documents with the crate's own JSON parser and writer:
// serde's derives for them cost several KiB of generic code each in the Wasm binary. Tests
// hold the output byte-identical to serde's (`serde_json::to_string`) and the reader to the
// derive's on valid states.

use crate::value::{self, write_json_string};

fn write_strings(items: &[String], out: &mut String) {
    value::write_array(items, out, |s, out| write_json_string(s, out));
}

fn write_opt_string(s: Option<&str>, out: &mut String) {
    match s {
        Some(s) => write_json_string(s, out),
        None => out.push_str("null"),
    }
}

/// Writes a JSON object member `,"key":` (no comma before the first one).
fn key(k: &str, first: bool, out: &mut String) {
    if !first {
        out.push(',');
    }
    write_json_string(k, out);
    out.push(':');
}

impl QuizAnswer {
    fn write_json(&self, out: &mut String) {
        match self {
            QuizAnswer::One(s) => write_json_string(s, out),
            QuizAnswer::Many(v) => write_strings(v, out),
        }
    }
}

impl QuizState {
    /// The state as JSON text (the same bytes as `serde_json::to_string`).
    pub fn to_json(&self) -> String {
        let mut o = String::with_capacity(128);
        o.push_str("{\"version\":");
        o.push_str(&self.version.to_string());
        o.push_str(",\"quiz\":");
        write_json_string(&self.quiz, &mut o);
        o.push_str(",\"answers\":{");
        for (i, (k, a)) in self.answers.iter().enumerate() {
            key(k, i == 0, &mut o);
            a.write_json(&mut o);
        }
        o.push_str("},\"path\":");
        write_strings(&self.path, &mut o);
        o.push_str(",\"current\":");
        write_opt_string(self.current.as_deref(), &mut o);
        o.push_str(",\"done\":");
        o.push_str(if self.done { "true" } else { "false" });
        o.push('}');
        o
    }

    /// Reads a state from JSON text, as the `Deserialize` derive does for valid states
    /// (unknown members are ignored; `answers` and `path` default to empty, `current` to
    /// null). The error says what is wrong, for a message. Any length is parsed: read
    /// untrusted text with `Engine::read_quiz_state`, which refuses oversized text unread.
    pub fn from_json(text: &str) -> Result<QuizState, String> {
        Self::read(text).map_err(|(_, message)| message)
    }

    /// [`QuizState::from_json`], the error with the JSON pointer of what is wrong in the state.
    pub(crate) fn read(text: &str) -> Result<QuizState, (String, String)> {
        use value::Value as V;
        let doc = value::parse(text).map_err(|e| (String::new(), e.to_string()))?;
        if !matches!(doc, V::Object(_)) {
            return Err((String::new(), format!("expected an object, found {}", doc.kind())));
        }
        let field = |k: &str| doc.get(k);
        let missing = |k: &str| (String::new(), format!("missing field `{k}`"));
        let invalid = |at: &str, k: &str, want: &str| (at.to_string(), format!("invalid type for `{k}`: expected {want}"));
        let top = |k: &str| crate::contract::read::join("", k);
        let string = |v: &V<'_>, at: &str, k: &str| v.as_str().map(str::to_string).ok_or_else(|| invalid(at, k, "a string"));
        let strings = |v: &V<'_>, at: &str, k: &str| -> Result<Vec<String>, (String, String)> {
            let items = v.as_array().ok_or_else(|| invalid(at, k, "an array of strings"))?;
            items.iter().enumerate().map(|(i, s)| string(s, &crate::contract::read::join(at, i), k)).collect()
        };
        let version = match field("version") {
            Some(V::Int(n)) => u32::try_from(*n).map_err(|_| invalid(&top("version"), "version", "a u32"))?,
            Some(_) => return Err(invalid(&top("version"), "version", "a u32")),
            None => return Err(missing("version")),
        };
        let quiz = string(field("quiz").ok_or_else(|| missing("quiz"))?, &top("quiz"), "quiz")?;
        let mut answers = BTreeMap::new();
        match field("answers") {
            None => {}
            Some(V::Object(members)) => {
                for (k, v) in members {
                    let at = crate::contract::read::join(&top("answers"), k);
                    let a = match v {
                        V::String(s) => QuizAnswer::One(s.to_string()),
                        V::Array(_) => QuizAnswer::Many(strings(v, &at, "answers")?),
                        _ => return Err(invalid(&at, "answers", "a string or an array of strings per question")),
                    };
                    answers.insert(k.to_string(), a);
                }
            }
            Some(_) => return Err(invalid(&top("answers"), "answers", "an object")),
        }
        let path = match field("path") {
            None => Vec::new(),
            Some(v) => strings(v, &top("path"), "path")?,
        };
        let current = match field("current") {
            None | Some(V::Null) => None,
            Some(v) => Some(string(v, &top("current"), "current")?),
        };
        let done = match field("done") {
            Some(V::Bool(b)) => *b,
            Some(_) => return Err(invalid(&top("done"), "done", "a boolean")),
            None => return Err(missing("done")),
        };
        Ok(QuizState { version, quiz, answers, path, current, done })
    }
}

impl QuizQuestion {
    /// The question as JSON text (the same bytes as `serde_json::to_string`).
    pub fn to_json(&self) -> String {
        let mut o = String::with_capacity(256);
        o.push_str("{\"id\":");
        write_json_string(&self.id, &mut o);
        o.push_str(",\"kind\":");
        write_json_string(self.kind.as_str(), &mut o);
        o.push_str(",\"text\":");
        write_json_string(&self.text, &mut o);
        o.push_str(",\"optional\":");
        o.push_str(if self.optional { "true" } else { "false" });
        o.push_str(",\"choices\":[");
        for (i, c) in self.choices.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            o.push_str("{\"id\":");
            write_json_string(&c.id, &mut o);
            o.push_str(",\"label\":");
            write_json_string(&c.label, &mut o);
            o.push('}');
        }
        o.push_str("],\"number\":");
        o.push_str(&self.number.to_string());
        o.push_str(",\"total\":");
        o.push_str(&self.total.to_string());
        o.push('}');
        o
    }
}

impl QuizOutcome {
    /// The outcome as JSON text (the same bytes as `serde_json::to_string`).
    pub fn to_json(&self) -> String {
        let mut o = String::with_capacity(4096);
        o.push_str("{\"quiz\":");
        write_json_string(&self.quiz, &mut o);
        let r = &self.result;
        o.push_str(",\"result\":{\"id\":");
        write_json_string(&r.id, &mut o);
        o.push_str(",\"title\":");
        write_json_string(&r.title, &mut o);
        if let Some(d) = &r.description {
            o.push_str(",\"description\":");
            write_json_string(d, &mut o);
        }
        o.push_str(",\"contents\":[");
        for (i, c) in r.contents.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            o.push_str("{\"id\":");
            write_json_string(&c.id, &mut o);
            o.push_str(",\"variant\":");
            write_json_string(&c.variant, &mut o);
            if let Some(x) = &c.experiment {
                o.push_str(",\"experiment\":");
                write_json_string(x, &mut o);
            }
            o.push_str(",\"messages\":[");
            for (j, m) in c.messages.iter().enumerate() {
                if j > 0 {
                    o.push(',');
                }
                o.push_str(m.get());
            }
            o.push_str("]}");
        }
        o.push(']');
        if let Some(m) = &r.rich_menu {
            o.push_str(",\"richMenu\":");
            write_json_string(m, &mut o);
        }
        o.push_str("},\"scores\":");
        value::write_serde_map(&self.scores, &mut o);
        o.push_str(",\"tags\":");
        write_strings(&self.tags, &mut o);
        o.push_str(",\"attributes\":");
        value::write_serde_map(&self.attributes, &mut o);
        o.push_str(",\"context\":");
        crate::value::write_serde(&self.context, &mut o);
        o.push_str(",\"decision\":");
        self.decision.write_json(&mut o);
        if !self.errors.is_empty() {
            o.push_str(",\"errors\":");
            crate::error::write_errors_json(&self.errors, &mut o);
        }
        o.push('}');
        o
    }
}
