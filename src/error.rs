//! The one error type of kizuna: a stable code, a message a marketer can act on, and the JSON
//! pointer of the offending place (inside the config, the context or a rule).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Stable error codes. They are part of the contract: add, never rename. The codes of
/// `kizuna check`'s warnings (`unknown_context_field`, `unreachable`) are not listed: no decision, quiz
/// outcome or sync envelope carries one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Code {
    // -- documents (config / context JSON) --
    /// The text is not valid JSON.
    InvalidJson,
    /// A field the contract does not know (config only; contexts tolerate them).
    UnknownField,
    /// A required field is missing.
    MissingField,
    /// A field has the wrong JSON type or an invalid value.
    InvalidValue,
    /// The document's `version` is not one this engine reads.
    UnsupportedVersion,
    /// Two items share an id.
    DuplicateId,
    /// An object of the config has the same key twice (JSON keeps the last; the first would
    /// be silently ignored).
    DuplicateKey,
    // -- conditions (JsonLogic) --
    /// An operator name that is neither JsonLogic nor a kizuna operator.
    UnknownOperator,
    /// An operator got the wrong number of arguments.
    WrongArity,
    /// An operator argument is of a kind the operator cannot use.
    InvalidArgument,
    /// `in_segment` names a segment that does not exist.
    UnknownSegment,
    /// Segments refer to each other in a circle.
    SegmentCycle,
    /// A timestamp that is not RFC 3339 (or a `YYYY-MM-DD` date).
    InvalidTimestamp,
    /// A duration that is not ISO 8601 (`P30D`, `PT12H`, `P1Y2M`).
    InvalidDuration,
    /// Evaluating a rule failed (JsonLogic `throw`, or an error value reaching the top).
    EvaluationFailed,
    // -- templates (Liquid) --
    /// A template does not parse.
    TemplateSyntax,
    /// A template used a filter kizuna does not know.
    UnknownFilter,
    /// A template used a tag kizuna does not know (`{% endfi %}`).
    UnknownTag,
    /// Rendering a template failed.
    TemplateRender,
    /// A template went over a limit (output size, loop iterations, nesting depth), a rule over
    /// one (nesting depth, work per evaluation), a config over one of LINE's limits (1,000
    /// rich menus or aliases), or an input over a size kizuna reads (a quiz state longer than
    /// the config's quizzes allow, a CLI input line over 16 MiB).
    LimitExceeded,
    // -- rich menus --
    /// A menu rule, the default or a tab names a menu or alias that does not exist.
    UnknownMenu,
    // -- quizzes (config) --
    /// A `next` (or a call) names a question the quiz does not have.
    UnknownQuestion,
    /// No answer path from the first question reaches this question.
    UnreachableQuestion,
    /// The questions' `next` links form a loop.
    QuestionCycle,
    /// A quiz names a result it does not have.
    UnknownResult,
    /// A quiz result recommends a content that is not in `contents`.
    UnknownContent,
    /// A choice scores a dimension the quiz does not list.
    UnknownDimension,
    /// Selecting by score, a dimension has no result of the same id.
    DimensionWithoutResult,
    /// A `single` or `multiple` question has no choices.
    NoChoices,
    // -- quizzes (answering) --
    /// There is no quiz with this id.
    UnknownQuiz,
    /// The answered question is neither the current one nor one already answered.
    QuestionNotCurrent,
    /// An answer names a choice the question does not have.
    UnknownChoice,
    /// A required question got an empty answer.
    AnswerRequired,
    /// An answer of the wrong shape (a list for a single choice, text too long, …).
    InvalidAnswer,
    /// A saved quiz state no longer fits the quiz (the config changed): start again.
    StaleQuizState,
    /// A result was asked for before the quiz was finished.
    QuizNotFinished,
    // -- warnings (`kizuna check`; they never fail a compilation) --
    /// A rule or template reads a field kizuna's Context does not define (`user.tgas`), where
    /// the Context is not free-form (`user.attributes`, `quizAnswers` and the event are). Only
    /// ever a warning of `kizuna check`: never an error, never in a decision, an outcome or a
    /// sync envelope, so left out of the JSON Schemas (and the TypeScript types) of those.
    #[cfg_attr(not(target_arch = "wasm32"), schemars(skip))]
    UnknownContextField,
    /// A variant, rich-menu rule, default menu or content that is never used: something before
    /// it always applies (a variant without `when`, a rule whose `when` is `true`). A warning,
    /// like `unknown_context_field`.
    #[cfg_attr(not(target_arch = "wasm32"), schemars(skip))]
    Unreachable,
    /// An exclusive group with one segment: exclusive with nothing, most often a typo of
    /// another group's name (`lifecyle`), which leaves that segment out of its group. A
    /// warning, like `unknown_context_field`.
    #[cfg_attr(not(target_arch = "wasm32"), schemars(skip))]
    SingleMemberGroup,
    /// An arm of an experiment without an `aggregationUnit` while other arms have one: LINE
    /// counts no opens or taps of its pushes, so the test has nothing to compare the others
    /// with. A warning, like `unknown_context_field`; only in builds that check configs.
    #[cfg(lint)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(skip))]
    UnmeasuredArm,
    /// An arm's `aggregationUnit` also used in another content: LINE counts both in one unit.
    /// A warning, like `unmeasured_arm`.
    #[cfg(lint)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(skip))]
    SharedAggregationUnit,
    /// `<`, `==`, … with a timestamp on one side (`{"ago": "P30D"}`, `user.lastActiveAt`, a
    /// purchase's `at`): they compare text, not instants. A warning, like `unmeasured_arm`.
    #[cfg(lint)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(skip))]
    TimestampAsText,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        // Kept explicit (not via serde) so it costs nothing at run time; a test checks both agree.
        match self {
            Code::InvalidJson => "invalid_json",
            Code::UnknownField => "unknown_field",
            Code::MissingField => "missing_field",
            Code::InvalidValue => "invalid_value",
            Code::UnsupportedVersion => "unsupported_version",
            Code::DuplicateId => "duplicate_id",
            Code::DuplicateKey => "duplicate_key",
            Code::UnknownOperator => "unknown_operator",
            Code::WrongArity => "wrong_arity",
            Code::InvalidArgument => "invalid_argument",
            Code::UnknownSegment => "unknown_segment",
            Code::SegmentCycle => "segment_cycle",
            Code::InvalidTimestamp => "invalid_timestamp",
            Code::InvalidDuration => "invalid_duration",
            Code::EvaluationFailed => "evaluation_failed",
            Code::TemplateSyntax => "template_syntax",
            Code::UnknownFilter => "unknown_filter",
            Code::UnknownTag => "unknown_tag",
            Code::TemplateRender => "template_render",
            Code::LimitExceeded => "limit_exceeded",
            Code::UnknownMenu => "unknown_menu",
            Code::UnknownQuestion => "unknown_question",
            Code::UnreachableQuestion => "unreachable_question",
            Code::QuestionCycle => "question_cycle",
            Code::UnknownResult => "unknown_result",
            Code::UnknownContent => "unknown_content",
            Code::UnknownDimension => "unknown_dimension",
            Code::DimensionWithoutResult => "dimension_without_result",
            Code::NoChoices => "no_choices",
            Code::UnknownQuiz => "unknown_quiz",
            Code::QuestionNotCurrent => "question_not_current",
            Code::UnknownChoice => "unknown_choice",
            Code::AnswerRequired => "answer_required",
            Code::InvalidAnswer => "invalid_answer",
            Code::StaleQuizState => "stale_quiz_state",
            Code::QuizNotFinished => "quiz_not_finished",
            Code::UnknownContextField => "unknown_context_field",
            Code::Unreachable => "unreachable",
            Code::SingleMemberGroup => "single_member_group",
            #[cfg(lint)]
            Code::UnmeasuredArm => "unmeasured_arm",
            #[cfg(lint)]
            Code::SharedAggregationUnit => "shared_aggregation_unit",
            #[cfg(lint)]
            Code::TimestampAsText => "timestamp_as_text",
        }
    }
}

/// One problem, located by a JSON pointer (`/segments/3/when/and/1`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
pub struct Error {
    pub code: Code,
    pub message: String,
    /// JSON pointer (RFC 6901) of the offending place; `""` is the whole document.
    pub path: String,
    /// For templates: 1-based line and column inside the template text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub column: Option<u32>,
}

impl Error {
    pub fn new(code: Code, path: impl Into<String>, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), path: path.into(), line: None, column: None }
    }
}

impl Error {
    /// Writes the error as JSON, exactly as its `Serialize` derive would (field order `code`,
    /// `message`, `path`, then `line` and `column` when set), without serde's generic code in
    /// the Wasm binary.
    pub fn write_json(&self, out: &mut String) {
        use crate::value::write_json_string as s;
        out.push_str("{\"code\":");
        s(self.code.as_str(), out);
        out.push_str(",\"message\":");
        s(&self.message, out);
        out.push_str(",\"path\":");
        s(&self.path, out);
        for (key, n) in [(",\"line\":", self.line), (",\"column\":", self.column)] {
            if let Some(n) = n {
                out.push_str(key);
                out.push_str(&n.to_string());
            }
        }
        out.push('}');
    }
}

/// Writes errors as a JSON array (see [`Error::write_json`]).
pub fn write_errors_json(errors: &[Error], out: &mut String) {
    crate::value::write_array(errors, out, Error::write_json);
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The whole document (pointer "") has no path to show ("/" would be the member named "").
        if !self.path.is_empty() {
            write!(f, "{} ", self.path)?;
        }
        write!(f, "[{}]: {}", self.code.as_str(), self.message)?;
        // A JSON syntax error's message already says where in the document; a template's
        // position is inside the template text (the string at `path`), not the file.
        if let (Some(l), Some(c)) = (self.line, self.column) {
            if !self.message.contains(&format!("line {l}, column {c}")) {
                write!(f, " (line {l}, column {c} of the template)")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Escapes one reference token for a JSON pointer (RFC 6901: `~` → `~0`, `/` → `~1`).
pub fn pointer_token(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1").into()
    } else {
        token.into()
    }
}

/// The candidate closest to `word` by edit distance (case-insensitive), if it is close enough to
/// be a typo: the "did you mean" of every error message. Long words get no suggestion, so
/// untrusted input cannot make this quadratic.
pub fn suggest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    const LONGEST: usize = 64;
    let n = word.chars().count();
    if n > LONGEST {
        return None;
    }
    let lower = crate::template::case::to_lower(word);
    let limit = (n / 3).clamp(1, 2);
    candidates
        .into_iter()
        .filter(|c| c.chars().count() <= LONGEST)
        .map(|c| (edit_distance(&lower, &crate::template::case::to_lower(c)), c))
        .filter(|(d, c)| *d <= limit && *d < c.chars().count().max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// An id given by the caller, quoted for a message: the caller may pass on untrusted data (a
/// quiz state or answer posted by a LIFF app to a backend), so at most 60 characters, with
/// quotes, backslashes and control characters escaped: an error message a backend logs stays
/// one short line whatever the id holds (a line break would forge log lines).
pub(crate) fn quoted(id: &str) -> String {
    let mut out = String::with_capacity(id.len().min(64) + 2);
    out.push('"');
    for (i, c) in id.chars().enumerate() {
        if i == 60 {
            out.push('…');
            break;
        }
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// "; did you mean …" or "; known …: …" for an unknown id.
pub(crate) fn known_list(known: &[&str], word: &str) -> String {
    // Else the one id that has the word as a part of its own (`birthday` → `birthday_month`).
    let part = || {
        let has = |id: &&&str| !word.is_empty() && id.split(['_', '-']).any(|p| p == word);
        let mut hits = known.iter().filter(has);
        hits.next().filter(|_| hits.next().is_none()).copied()
    };
    match suggest(word, known.iter().copied()).or_else(part) {
        Some(s) => format!("; did you mean \"{s}\"?"),
        None if known.is_empty() => "; there are none".to_string(),
        // At most 20: a config can hold thousands of ids.
        None => {
            let more = if known.len() > 20 { ", …" } else { "" };
            format!("; known: {}{more}", known.iter().take(20).map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", "))
        }
    }
}

/// Edits from `a` to `b`, a swap of two neighbours counting as one (`fro` → `for`, `endfi` →
/// `endif`: the commonest typos), each other insertion, deletion or substitution as one.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let at = |row: &[usize], j: usize| row.get(j).copied().unwrap_or(usize::MAX);
    let (mut before, mut prev): (Vec<usize>, Vec<usize>) = (Vec::new(), (0..=b.len()).collect());
    for (i, ca) in a.iter().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let sub = at(&prev, j).saturating_add(usize::from(ca != cb));
            let del = at(&prev, j + 1).saturating_add(1);
            let ins = at(&cur, j).saturating_add(1);
            let mut d = sub.min(del).min(ins);
            let swapped = i > 0 && j > 0 && a.get(i - 1) == Some(cb) && b.get(j - 1) == Some(ca);
            if swapped && ca != cb {
                d = d.min(at(&before, j - 1).saturating_add(1));
            }
            cur.push(d);
        }
        before = std::mem::replace(&mut prev, cur);
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swap_of_neighbours_is_one_edit() {
        for (a, b, d) in [("fro", "for", 1), ("endfi", "endif", 1), ("abc", "abc", 0), ("", "ab", 2), ("ca", "abc", 3), ("kitten", "sitting", 3)] {
            assert_eq!(edit_distance(a, b), d, "{a} → {b}");
        }
        assert_eq!(suggest("endfi", ["endif", "endfor"]), Some("endif"));
        assert_eq!(suggest("fro", ["for", "if"]), Some("for"));
    }

    #[test]
    fn the_warning_code_is_written_as_serde_writes_it() {
        for code in [Code::UnknownContextField, Code::UnmeasuredArm, Code::SharedAggregationUnit, Code::TimestampAsText] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn write_json_is_what_serde_writes() {
        let mut with_pos = Error::new(Code::TemplateSyntax, "/a~1b/0", "bad \"x\"\n\u{1}");
        with_pos.line = Some(3);
        with_pos.column = Some(14);
        let mut only_line = Error::new(Code::InvalidJson, "", "é");
        only_line.line = Some(1);
        let errors = [with_pos, only_line, Error::new(Code::QuizNotFinished, "/done", "")];
        let mut ours = String::new();
        write_errors_json(&errors, &mut ours);
        assert_eq!(ours, serde_json::to_string(&errors).unwrap());
        let mut none = String::new();
        write_errors_json(&[], &mut none);
        assert_eq!(none, "[]");
    }
}
