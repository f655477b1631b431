//! The quiz calls of the engine: the state machine lives in `crate::quiz`; here the outcome is
//! assembled from the engine's own parts (contents rendered and the decision made by the same
//! path as `Engine::render` and `Engine::decide`), so a quiz result is rendered and decided like
//! everything else.

use super::{DecideOptions, Engine, Part};
use crate::contract::{context, QuizCompletion};
use crate::error::{Code, Error};
use crate::logic::Env;
use crate::quiz::{self, QuizAnswer, QuizChoice, QuizContent, QuizOutcome, QuizOutcomeResult, QuizQuestion, QuizState};
use crate::template::RenderOptions;
use crate::value::Value;
use serde_json::{Map, Value as Json};

/// The data a quiz result rule reads: these fields, no others, built in `quiz_outcome`
/// (`kizuna check` checks the rules against them).
pub(crate) const RULE_DATA: [(&str, Part); 4] = [("answers", Part::Answers), ("scores", Part::Scores), ("user", Part::Context), ("now", Part::Now)];
// What `quiz_outcome` puts in each field, in this order.
const _: () = assert!(matches!(RULE_DATA, [(_, Part::Answers), (_, Part::Scores), (_, Part::Context), (_, Part::Now)]));

/// What a result description sees beside the context (its `user` updated by the quiz).
pub(crate) const DESCRIPTION_EXTRA: (&str, Part) = ("scores", Part::Scores);

impl Engine {
    /// A new state for quiz `quiz_id`, at its first question.
    pub fn quiz_start(&self, quiz_id: &str) -> Result<QuizState, Error> {
        Ok(self.quizzes.get(quiz_id, "")?.start())
    }

    /// Reads a quiz state from JSON text (as an app keeps it or a backend is posted it). Text
    /// longer than any state of this config's quizzes can be is refused unread
    /// (`limit_exceeded`), so an oversized post costs nothing: read untrusted states with this
    /// rather than with serde. Text that is not a state is `invalid_value`.
    pub fn read_quiz_state(&self, text: &str) -> Result<QuizState, Error> {
        self.quizzes.check_state_len(text.len())?;
        QuizState::read(text).map_err(|(at, e)| Error::new(Code::InvalidValue, at, format!("not a quiz state (start the quiz again): {e}")))
    }

    /// The length check of [`Engine::read_quiz_state`] alone, for text measured before it is
    /// copied (a JavaScript string: its length in UTF-16 units is at most its UTF-8 length).
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn check_quiz_state_len(&self, len: usize) -> Result<(), Error> {
        self.quizzes.check_state_len(len)
    }

    /// Answers a question: the current one, or one already answered. A changed answer keeps the
    /// later answers as far as its branch runs through answered questions; from the first
    /// question of the branch without an answer on, the later answers are dropped and asked
    /// again (a state holds only the answers of its path). The same answer again gives an equal
    /// state. Errors point into the state: `/answers/<question id>`.
    pub fn quiz_answer(&self, state: &QuizState, question_id: &str, answer: impl Into<QuizAnswer>) -> Result<QuizState, Error> {
        let q = self.quizzes.get(&state.quiz, "/quiz")?;
        q.replay(state)?;
        q.answer(state, question_id, &answer.into())
    }

    /// The question to show next, or `None` when the quiz is done.
    pub fn quiz_question(&self, state: &QuizState) -> Result<Option<QuizQuestion>, Error> {
        let q = self.quizzes.get(&state.quiz, "/quiz")?;
        q.replay(state)?;
        let Some((j, number, total)) = q.progress(state) else { return Ok(None) };
        Ok(q.question(j).map(|question| QuizQuestion {
            id: question.id.clone(),
            kind: question.kind,
            text: question.text.clone(),
            optional: question.optional,
            choices: question.choices.iter().map(|c| QuizChoice { id: c.id.clone(), label: c.label.clone() }).collect(),
            number,
            total,
        }))
    }

    /// The outcome of a finished quiz for the user in `context_json` (a context, JSON text):
    /// the selected result with its description and recommended contents rendered, the scores,
    /// the tags and attributes it sets, the updated context and the decision for it.
    pub fn quiz_result(&self, state: &QuizState, context_json: &str) -> Result<QuizOutcome, Error> {
        let q = self.quizzes.get(&state.quiz, "/quiz")?;
        q.replay(state)?;
        if !state.done {
            let at = state.current.as_deref().unwrap_or("");
            return Err(Error::new(Code::QuizNotFinished, "/done", format!("quiz \"{}\" is not finished: question \"{at}\" comes next", state.quiz)));
        }
        let mut ctx: Json = crate::contract::config::parse_json(context_json, "the context")?;
        let (now, now_text, user_id) = {
            let doc = Value::from_serde(&ctx);
            let c = context::check(&doc, self.lists)?;
            (c.now, c.now_text.to_string(), c.user_id.to_string())
        };
        let (raw_scores, mut tags, mut attributes) = q.tally(state);
        // Maps filled by `insert`: collecting into a BTreeMap sorts first, and each such
        // collect instantiates std's stable sort again (~5 KiB of Wasm apiece).
        let mut scores = Map::new();
        for (d, s) in q.quiz.dimensions.iter().zip(&raw_scores) {
            quiz::put(&mut scores, d.clone(), quiz::score_json(*s));
        }
        let answers = quiz::answers_json(state);
        // Built by `insert`, not `json!`: the macro goes through `serde_json::to_value`, a whole
        // serializer instance in the Wasm binary. Field by field, in the order of `RULE_DATA`
        // (a loop over it costs Wasm bytes): a field added there fails to compile here.
        let [(answers_at, _), (scores_at, _), (user_at, _), (now_at, _)] = RULE_DATA;
        let mut data = Map::new();
        quiz::put_str(&mut data, answers_at, Json::Object(answers.clone()));
        quiz::put_str(&mut data, scores_at, Json::Object(scores.clone()));
        quiz::put_str(&mut data, user_at, ctx.get(user_at).cloned().unwrap_or(Json::Null));
        quiz::put_str(&mut data, now_at, Json::String(now_text));
        let data = Json::Object(data);
        let env = Env { now, tz: self.tz, segments: &[], flag_key: None, targeting_key: Some(&user_id) };
        let r = q.select(&raw_scores, &Value::from_serde(&data), &env)?;
        let result = q.quiz.results.get(r).ok_or_else(|| Error::new(Code::UnknownResult, "", "internal: selected result out of range"))?;
        for t in &result.tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        attributes.extend(result.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut remove_tags: Vec<String> = Vec::new();
        for t in q.tags() {
            if !tags.contains(t) && !remove_tags.contains(t) {
                remove_tags.push(t.clone());
            }
        }
        // What the user keeps of this take: applied to the context here, stored by a backend
        // from the decision.
        let completion = QuizCompletion { id: state.quiz.clone(), result: result.id.clone(), answers, tags, remove_tags, attributes };
        quiz::apply(&mut ctx, &completion);
        let mut errors = Vec::new();
        let description = {
            let mut data = ctx.clone();
            if let Json::Object(m) = &mut data {
                quiz::put_str(m, DESCRIPTION_EXTRA.0, Json::Object(scores.clone()));
            }
            let opts = RenderOptions { now, tz: self.tz, locale: self.config.locale(), limits: self.quizzes.limits() };
            q.describe(r, &Value::from_serde(&data), &opts).unwrap_or_else(|e| {
                errors.push(e);
                None
            })
        };
        // The updated context, built once for the contents and the decision (as `render` and
        // `decide` would read its text).
        let mut doc = Value::from_serde(&ctx);
        let mut contents = Vec::with_capacity(result.contents.len());
        for id in &result.contents {
            let d = self.decide_doc(&mut doc, DecideOptions::default(), Some(self.content_index(id)?))?.to_decision();
            // A content that fails to render is left out (nothing half-rendered is shown), and
            // says why in the outcome's errors.
            let failed: Vec<&Error> = d.errors.iter().filter(|e| e.path.starts_with("/contents/")).collect();
            if !failed.is_empty() {
                errors.extend(failed.into_iter().cloned());
                continue;
            }
            if let Some(c) = d.content {
                contents.push(QuizContent { id: c.id, variant: c.variant, experiment: c.experiment, messages: d.messages });
            }
        }
        let mut decision = self.decide_doc(&mut doc, DecideOptions::default(), None)?.to_decision();
        let (tags, attributes) = (completion.tags.clone(), completion.attributes.clone());
        // The id covers the completion too: two takes at the same `now` with the same result
        // but other answers are two decisions to a backend that keeps them by id.
        let mut key = std::mem::take(&mut decision.decision_id);
        key.push('\u{1f}');
        completion.write_json(&mut key);
        decision.decision_id = crate::hash::hex128(key.as_bytes());
        decision.quiz = Some(completion);
        Ok(QuizOutcome {
            quiz: state.quiz.clone(),
            result: QuizOutcomeResult { id: result.id.clone(), title: result.title.clone(), description, contents, rich_menu: result.rich_menu.clone() },
            scores,
            tags,
            attributes,
            context: ctx,
            decision,
            errors,
        })
    }
}
