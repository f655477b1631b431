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
    /// question id plus `"result"`, the tags added, the attributes merged, and (unless the
    /// context had one) `event` = `{"type": "quiz", "quizId", "resultId"}`. Store it as the
    /// user's new profile.
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "crate::contract::Context"))]
    pub context: Value,
    /// `Engine::decide` on the updated context (deterministic id: the same completion at the
    /// same `now` gives the same `decisionId`).
    pub decision: Decision,
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
    pub experiment: Option<String>,
    /// LINE message objects, ready for the Messaging API.
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Vec<Map<String, Value>>"))]
    pub messages: Vec<Box<serde_json::value::RawValue>>,
}

impl PartialEq for QuizContent {
    fn eq(&self, other: &Self) -> bool {
        (&self.id, &self.variant, &self.experiment) == (&other.id, &other.variant, &other.experiment)
            && self.messages.iter().map(|m| m.get()).eq(other.messages.iter().map(|m| m.get()))
    }
}
