//! Diagnostic quizzes: questions (single choice, multiple choice, free text), branching,
//! scores by dimension, and results chosen by score or by rules.
//!
//! - [`config`]: the `quizzes` of a config, read with every problem at once.
//! - [`compile`]: checks (unknown questions, loops, unreachable questions, unknown results,
//!   contents, dimensions, rich menus) and the state machine.
//! - [`state`]: the JSON the calls take and return (`QuizState`, `QuizQuestion`, `QuizOutcome`).
//!
//! The calls themselves are `Engine::quiz_start`, `quiz_answer`, `quiz_question`,
//! `quiz_result` and `read_quiz_state` (in `engine/quiz.rs`), so the outcome's contents and decision come from the same
//! engine as every other decision.
//!
//! Branching: a `single` choice's `next` wins over its question's `next`; the default is the
//! next question in config order; `"$end"` finishes. A `multiple`, `text` or skipped question
//! always follows its question's `next`.

pub mod compile;
pub mod config;
pub mod state;

pub use compile::Quizzes;
pub use config::{Choice, Question, QuestionKind, Quiz, QuizResult, Select, SelectBy, SelectRule, END};
pub use state::{QuizAnswer, QuizChoice, QuizContent, QuizOutcome, QuizOutcomeResult, QuizQuestion, QuizState};

use crate::contract::QuizCompletion;
use serde_json::{Map, Value};

/// A score as JSON: whole numbers as integers (`3`, not `3.0`), so every runtime writes the same.
pub fn score_json(s: f64) -> Value {
    if s.fract() == 0.0 && s.abs() < 1e15 {
        Value::from(s as i64)
    } else {
        serde_json::Number::from_f64(s).map_or(Value::Null, Value::Number)
    }
}

/// The answers of a state by question id, as JSON (filled by `insert`: a `collect` into the
/// map would instantiate std's sort once more).
pub fn answers_json(state: &QuizState) -> Map<String, Value> {
    let mut answers = Map::new();
    for (k, v) in &state.answers {
        put(&mut answers, k.clone(), v.to_json());
    }
    answers
}

/// Applies a finished quiz to a context object (already checked to have a `user` object), as
/// `QuizCompletion` says a backend does: `user.quizAnswers.<quiz>` = the answers plus
/// `"result"`, the `remove_tags` taken out and the tags added (no duplicates), the attributes
/// merged; and `event` = a `quiz` event unless the context has one.
pub fn apply(context: &mut Value, c: &QuizCompletion) {
    let QuizCompletion { id, result, answers, tags, remove_tags, attributes } = c;
    let Value::Object(ctx) = context else { return };
    if ctx.get("event").is_none_or(Value::is_null) {
        // Built by `insert`, not `json!` (which goes through `serde_json::to_value`).
        let mut event = Map::new();
        put_str(&mut event, "type", Value::from("quiz"));
        put_str(&mut event, "quizId", Value::String(id.clone()));
        put_str(&mut event, "resultId", Value::String(result.clone()));
        put_str(ctx, "event", Value::Object(event));
    }
    let Some(Value::Object(user)) = ctx.get_mut("user") else { return };
    let mut answers = answers.clone();
    put_str(&mut answers, "result", Value::String(result.clone()));
    if let Some(Value::Object(q)) = member(user, "quizAnswers", Value::Object(Map::new())) {
        put(q, id.clone(), Value::Object(answers));
    }
    if let Some(Value::Array(have)) = member(user, "tags", Value::Array(Vec::new())) {
        have.retain(|h| !h.as_str().is_some_and(|h| remove_tags.iter().any(|t| t == h)));
        for t in tags {
            if !have.iter().any(|h| h.as_str() == Some(t)) {
                have.push(Value::String(t.clone()));
            }
        }
    }
    if let Some(Value::Object(have)) = member(user, "attributes", Value::Object(Map::new())) {
        have.extend(attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

/// `map[key] = value`: serde_json's insert (and the drop of the value it replaces) compiled
/// once here instead of inlined at each of the quiz outcome's call sites.
#[inline(never)]
pub(crate) fn put(map: &mut Map<String, Value>, key: String, value: Value) {
    map.insert(key, value);
}

/// [`put`] with a borrowed key.
#[inline(never)]
pub(crate) fn put_str(map: &mut Map<String, Value>, key: &str, value: Value) {
    put(map, key.to_string(), value);
}

/// The member `key`, set to `empty` when missing or null (the context's documented defaults).
/// `get`/`insert` rather than the entry API: one more BTreeMap instance less in the Wasm binary.
fn member<'m>(object: &'m mut Map<String, Value>, key: &str, empty: Value) -> Option<&'m mut Value> {
    if object.get(key).is_none_or(Value::is_null) {
        put_str(object, key, empty);
    }
    object.get_mut(key)
}
