//! The quiz part of a config (`quizzes`), read by hand like the rest of the config: every
//! problem at once, each with its JSON pointer. Graph and reference checks come later, in
//! [`super::compile`], once the whole config (contents, menus) is known.

use crate::contract::config::{read_id, unique_ids};
use crate::contract::read::{join, kind, ObjectReader, Problems};
use crate::error::Code;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The `next` that ends a quiz.
pub const END: &str = "$end";

/// A diagnostic quiz (e.g. a skin-type check): questions, branching, and results chosen by
/// score or by rules.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), schemars(deny_unknown_fields))]
#[serde(rename_all = "camelCase")]
pub struct Quiz {
    /// Unique id (same rules as segment ids). The result lands in the context at
    /// `user.quizAnswers.<id>.result`.
    pub id: String,
    /// Shown to the user at the start.
    pub title: String,
    /// Shown to the user at the start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Score dimensions (e.g. `dry`, `oily`). Choices add to them; selecting by score picks the
    /// result whose id is the highest-scoring dimension. Ties go to the dimension listed first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<String>,
    /// The questions. The quiz starts at the first; every question must be reachable from it
    /// and the questions must not form a loop.
    pub questions: Vec<Question>,
    /// How the result is chosen; default `{"by": "score"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub select: Option<Select>,
    /// The possible results.
    pub results: Vec<QuizResult>,
}

/// One question.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), schemars(deny_unknown_fields))]
#[serde(rename_all = "camelCase")]
pub struct Question {
    /// Unique within the quiz (same rules as segment ids; `result` is reserved, because the
    /// answers and the result share `user.quizAnswers.<quiz>`).
    pub id: String,
    /// `single` (one choice id), `multiple` (a list of choice ids; their scores, tags and
    /// attributes all add up) or `text` (free text, no choices).
    pub kind: QuestionKind,
    /// The question shown to the user.
    pub text: String,
    /// Whether the user may skip it (answer `""` or `[]`). Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// The choices of a `single` or `multiple` question (at least one); none for `text`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    /// The question that follows (a question id, or `"$end"` to finish the quiz). Default: the
    /// next question in config order (the end after the last). A `single` choice's own `next`
    /// wins over this one; `multiple`, `text` and skipped questions always follow this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The kind of a question.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    /// Exactly one choice.
    Single,
    /// Any number of choices (at least one unless the question is optional).
    Multiple,
    /// Free text.
    Text,
}

impl QuestionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionKind::Single => "single",
            QuestionKind::Multiple => "multiple",
            QuestionKind::Text => "text",
        }
    }
}

/// One choice of a question.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), schemars(deny_unknown_fields))]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    /// Unique within the question (same rules as segment ids); what an answer names.
    pub id: String,
    /// Shown to the user.
    pub label: String,
    /// Points added to dimensions when chosen (`{"dry": 2, "sensitive": 1}`); may be negative.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scores: BTreeMap<String, f64>,
    /// Tags added to the user when the quiz completes with this choice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Attributes set on the user when the quiz completes with this choice (later answers and
    /// then the result's attributes win over earlier ones).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub attributes: Map<String, Value>,
    /// `single` questions only: the question after this choice (or `"$end"`), instead of the
    /// question's `next`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// How the result is chosen.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), schemars(deny_unknown_fields))]
#[serde(rename_all = "camelCase")]
pub struct Select {
    /// `score`: the result whose id is the highest-scoring dimension (ties: the dimension
    /// listed first in `dimensions`; when no dimension scored above 0, `fallback` if given).
    /// `rules`: the first rule whose `when` holds, else `fallback`. Default: `rules` when
    /// `rules` are given, else `score`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<SelectBy>,
    /// Tried in order (selecting by `rules`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<SelectRule>,
    /// The result when no rule holds (required with `rules`), or when no score is above 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

/// The way a result is selected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum SelectBy {
    /// Highest score.
    Score,
    /// First rule that holds.
    Rules,
}

/// A result-selection rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), schemars(deny_unknown_fields))]
#[serde(rename_all = "camelCase")]
pub struct SelectRule {
    /// A condition (JsonLogic plus kizuna's operators) over `answers` (by question id: a
    /// choice id, a list of choice ids or text; skipped questions `""`/`[]`), `scores` (by
    /// dimension), `user` and `now`.
    #[cfg_attr(not(target_arch = "wasm32"), schemars(schema_with = "crate::contract::config::rule_schema"))]
    pub when: Value,
    /// The result id chosen when `when` holds.
    pub result: String,
}

/// One result of a quiz.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), schemars(deny_unknown_fields))]
#[serde(rename_all = "camelCase")]
pub struct QuizResult {
    /// Unique within the quiz; selecting by score, one result per dimension, with the
    /// dimension's name as id.
    pub id: String,
    /// Shown to the user (e.g. `乾燥肌`).
    pub title: String,
    /// A Liquid template rendered against the updated context (`user`, `now`, `event`) plus
    /// `scores`: `{{ user.displayName | default: "お客様" }}さんは…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Recommended contents (ids in `contents`), rendered for the user like `Engine::render`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<String>,
    /// Tags added to the user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Attributes set on the user (win over the choices' attributes).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub attributes: Map<String, Value>,
    /// This result's rich menu: a menu id in `richMenus.menus` that a menu rule picks (e.g.
    /// `{"segment": "skin_dry", "menu": "skin_dry"}`). The outcome's decision links menus
    /// through the rules, so a user an earlier rule matches (a loyal customer) keeps theirs;
    /// follow `decision.richMenu`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rich_menu: Option<String>,
}

fn strings(o: &mut ObjectReader<'_>, key: &'static str, what: &str, p: &mut Problems) -> Vec<String> {
    o.opt_array(key, p, |v, path, p| match v.as_str() {
        Some(s) => Some(s.to_string()),
        None => {
            p.push(Code::InvalidValue, path, format!("{what} must be a string, found {}", kind(v)));
            None
        }
    })
}

/// Quiz, question and dimension names are parts of the paths rules read (`answers.q1`,
/// `scores.dry`, `user.quizAnswers.skin_type.result`), where `.` separates parts: a name with
/// one could never be reached.
fn path_part(name: Option<&str>, at: &str, what: &str, read_as: &str, p: &mut Problems) {
    if name.is_some_and(|n| n.contains('.')) {
        p.push(Code::InvalidValue, at, format!("a {what} may not contain '.': rules read it as {read_as}, where '.' separates the parts; use '_' or '-'"));
    }
}

fn object(o: &mut ObjectReader<'_>, key: &'static str, p: &mut Problems) -> Map<String, Value> {
    match o.opt(key) {
        Some(Value::Object(m)) => m.clone(),
        Some(v) => {
            p.push(Code::InvalidValue, &o.field_path(key), format!("\"{key}\" must be an object, found {}", kind(v)));
            Map::new()
        }
        None => Map::new(),
    }
}

impl Quiz {
    pub fn read(v: &Value, path: &str, p: &mut Problems) -> Option<Quiz> {
        let mut o = ObjectReader::new(v, path, "a quiz", p)?;
        let id = read_id(&mut o, "quiz", p);
        path_part(id.as_deref(), &o.field_path("id"), "quiz id", "user.quizAnswers.<quiz>", p);
        let title = o.req_str("title", p);
        let description = o.opt_str("description", p);
        let dimensions = strings(&mut o, "dimensions", "a dimension", p);
        for (k, d) in dimensions.iter().enumerate() {
            let at = join(&o.field_path("dimensions"), k);
            if d.is_empty() {
                p.push(Code::InvalidValue, &at, "a dimension needs a name (rules read it as scores.<name>)");
            }
            path_part(Some(d), &at, "dimension", "scores.<dimension>", p);
        }
        let questions = o.opt_array("questions", p, Question::read);
        if questions.is_empty() {
            p.push(Code::MissingField, path, "a quiz needs at least one question in \"questions\"");
        }
        let select = o.opt("select").and_then(|v| Select::read(v, &join(path, "select"), p));
        let results = o.opt_array("results", p, QuizResult::read);
        if results.is_empty() {
            p.push(Code::MissingField, path, "a quiz needs at least one result in \"results\"");
        }
        let (dpath, qpath, rpath) = (o.field_path("dimensions"), o.field_path("questions"), o.field_path("results"));
        o.finish(p);
        unique_ids(dimensions.iter().map(String::as_str), &dpath, "dimension", p);
        unique_ids(questions.iter().map(|q| q.id.as_str()), &qpath, "question", p);
        unique_ids(results.iter().map(|r| r.id.as_str()), &rpath, "result", p);
        Some(Quiz { id: id?, title: title?, description, dimensions, questions, select, results })
    }

    /// How results are selected, defaults applied.
    pub fn select_by(&self) -> SelectBy {
        self.select.as_ref().map_or(SelectBy::Score, Select::method)
    }
}

impl Question {
    fn read(v: &Value, path: &str, p: &mut Problems) -> Option<Question> {
        let mut o = ObjectReader::new(v, path, "a question", p)?;
        let id = read_id(&mut o, "question", p);
        path_part(id.as_deref(), &o.field_path("id"), "question id", "answers.<question>", p);
        if id.as_deref() == Some("result") {
            p.push(Code::InvalidValue, &o.field_path("id"), "the question id \"result\" is reserved (the quiz's result is stored under it); choose another id");
        }
        let kind = o.req("kind", p).and_then(|v| match v.as_str() {
            Some("single") => Some(QuestionKind::Single),
            Some("multiple") => Some(QuestionKind::Multiple),
            Some("text") => Some(QuestionKind::Text),
            _ => {
                p.push(Code::InvalidValue, &join(path, "kind"), format!("\"kind\" must be \"single\", \"multiple\" or \"text\", found {}", crate::value::serde_text(v)));
                None
            }
        });
        let text = o.req_str("text", p);
        let optional = o.opt_bool("optional", p).unwrap_or(false);
        let choices = o.opt_array("choices", p, Choice::read);
        let next = o.opt_str("next", p);
        let cpath = o.field_path("choices");
        o.finish(p);
        unique_ids(choices.iter().map(|c| c.id.as_str()), &cpath, "choice", p);
        match kind {
            Some(QuestionKind::Text) if !choices.is_empty() => {
                p.push(Code::InvalidValue, &cpath, "a \"text\" question takes free text and has no \"choices\"; use \"single\" or \"multiple\" for choices");
            }
            Some(QuestionKind::Multiple) => {
                for (i, c) in choices.iter().enumerate() {
                    if c.next.is_some() {
                        let at = join(&join(&cpath, p.original_index(&cpath, i)), "next");
                        p.push(Code::InvalidValue, &at, "a choice of a \"multiple\" question cannot branch (several choices may be picked); put \"next\" on the question");
                    }
                }
            }
            _ => {}
        }
        Some(Question { id: id?, kind: kind?, text: text?, optional, choices, next })
    }
}

impl Choice {
    fn read(v: &Value, path: &str, p: &mut Problems) -> Option<Choice> {
        let mut o = ObjectReader::new(v, path, "a choice", p)?;
        let id = read_id(&mut o, "choice", p);
        let label = o.req_str("label", p);
        let mut scores = BTreeMap::new();
        for (k, v) in object(&mut o, "scores", p) {
            match v.as_f64() {
                Some(n) => {
                    scores.insert(k, n);
                }
                None => p.push(Code::InvalidValue, &join(&o.field_path("scores"), &k), format!("a score must be a number, found {}", kind(&v))),
            }
        }
        let tags = strings(&mut o, "tags", "a tag", p);
        let attributes = object(&mut o, "attributes", p);
        let next = o.opt_str("next", p);
        o.finish(p);
        Some(Choice { id: id?, label: label?, scores, tags, attributes, next })
    }
}

impl Select {
    fn read(v: &Value, path: &str, p: &mut Problems) -> Option<Select> {
        let mut o = ObjectReader::new(v, path, "\"select\"", p)?;
        let by = o.opt("by").and_then(|v| match v.as_str() {
            Some("score") => Some(SelectBy::Score),
            Some("rules") => Some(SelectBy::Rules),
            _ => {
                p.push(Code::InvalidValue, &join(path, "by"), format!("\"by\" must be \"score\" or \"rules\", found {}", crate::value::serde_text(v)));
                None
            }
        });
        let rules = o.opt_array("rules", p, |v, path, p| {
            let mut r = ObjectReader::new(v, path, "a rule", p)?;
            let when = r.req("when", p).cloned();
            let result = r.req_str("result", p);
            r.finish(p);
            Some(SelectRule { when: when?, result: result? })
        });
        let fallback = o.opt_str("fallback", p);
        o.finish(p);
        let s = Select { by, rules, fallback };
        match s.method() {
            SelectBy::Rules if s.rules.is_empty() => p.push(Code::MissingField, path, "selecting by \"rules\" needs at least one rule in \"rules\""),
            SelectBy::Rules if s.fallback.is_none() => p.push(Code::MissingField, path, "selecting by \"rules\" needs a \"fallback\" result for when no rule holds"),
            SelectBy::Score if !s.rules.is_empty() => p.push(Code::InvalidValue, &join(path, "rules"), "\"rules\" are only used with \"by\": \"rules\""),
            _ => {}
        }
        Some(s)
    }

    /// `by`, defaulted: `rules` when rules are given, else `score`.
    pub fn method(&self) -> SelectBy {
        match self.by {
            Some(by) => by,
            None if !self.rules.is_empty() => SelectBy::Rules,
            None => SelectBy::Score,
        }
    }
}

impl QuizResult {
    fn read(v: &Value, path: &str, p: &mut Problems) -> Option<QuizResult> {
        let mut o = ObjectReader::new(v, path, "a quiz result", p)?;
        let id = read_id(&mut o, "result", p);
        let title = o.req_str("title", p);
        let description = o.opt_str("description", p);
        let contents = strings(&mut o, "contents", "a content id", p);
        let tags = strings(&mut o, "tags", "a tag", p);
        let attributes = object(&mut o, "attributes", p);
        let rich_menu = o.opt_str("richMenu", p);
        o.finish(p);
        Some(QuizResult { id: id?, title: title?, description, contents, tags, attributes, rich_menu })
    }
}
