//! Quizzes compiled once: `next` links resolved to indexes, the question graph checked (unknown
//! targets, loops, unreachable questions), references checked (dimensions, results, contents,
//! rich menus), selection rules and description templates compiled.

use super::config::{Question, QuestionKind, Quiz, SelectBy, END};
use super::state::{QuizAnswer, QuizState};
use crate::contract::config::Config;
use crate::contract::read::{join, Problems};
use crate::error::{known_list, quoted, suggest, Code, Error};
use crate::logic::{self, Env, Rule};
use crate::template::{Limits, RenderOptions, Template};
use crate::value::Value;
use serde_json::{Map, Value as Json};

/// Longest free-text answer, in characters: answers come from users, so they are bounded.
const MAX_TEXT_ANSWER_CHARS: usize = 2_000;

/// Quiz state text up to this many bytes is always read; longer text only when a quiz of the
/// config can have a state that long (see `state_bytes`). The floor leaves room for members
/// an app adds and for pretty-printing; above it, a posted state of a million answers is
/// refused before it is parsed.
pub const MAX_STATE_BYTES: usize = 64 * 1024;

/// Where a question leads: another question (by index) or the end.
type Target = Option<usize>;

#[derive(Debug, Clone, Default)]
pub struct Quizzes {
    items: Vec<CompiledQuiz>,
    limits: Limits,
    /// The longest state text any of the quizzes can have (`state_bytes`).
    state_bytes: usize,
}

#[derive(Debug, Clone)]
pub struct CompiledQuiz {
    pub quiz: Quiz,
    /// JSON pointer of the quiz in the config.
    path: String,
    /// Per question: where it leads when no choice says otherwise.
    next: Vec<Target>,
    /// Per question, per choice: the choice's own `next`, if it has one.
    choice_next: Vec<Vec<Option<Target>>>,
    /// Per question: the most questions from it (included) to the end.
    longest: Vec<u32>,
    /// Selecting by rules: each rule and the index of its result.
    rules: Vec<(Rule, usize)>,
    fallback: Option<usize>,
    /// Per result: its description template.
    descriptions: Vec<Option<Template>>,
}

/// The rich-menu ids the config defines, for checking results' `richMenu`.
fn known_menus(config: &Config) -> Vec<&str> {
    config.rich_menus.iter().flat_map(|r| &r.menus).map(|m| m.id.as_str()).collect()
}

/// The menus rules or the default can pick: a result's menu reaches users only through them.
fn picked_menus(config: &Config) -> Vec<&str> {
    let rm = config.rich_menus.iter();
    rm.clone().flat_map(|r| &r.rules).map(|r| r.menu.as_str()).chain(rm.filter_map(|r| r.default.as_deref())).collect()
}

/// Reports a result's `richMenu` that is not one of the config's menus (`known`), or that no
/// menu rule picks (`picked`): the decision, not the result, links menus, so such a menu would
/// be announced to the user and never linked.
pub fn check_rich_menu(menu: &str, known: &[&str], picked: &[&str], path: &str, p: &mut Problems) {
    if !known.contains(&menu) {
        p.push(Code::UnknownMenu, path, format!("there is no menu \"{menu}\" in /richMenus/menus{}", known_list(known, menu)));
    } else if !picked.contains(&menu) {
        p.push(
            Code::UnknownMenu,
            path,
            format!("no rule in /richMenus/rules picks menu \"{menu}\", so it would never be linked; add e.g. {{\"segment\": \"<the result's segment>\", \"menu\": \"{menu}\"}}"),
        );
    }
}

impl Quizzes {
    pub fn compile(config: &Config, opts: &logic::Options, p: &mut Problems) -> Quizzes {
        let limits = Limits::default();
        let (known, picked) = (known_menus(config), picked_menus(config));
        let menus = (known.as_slice(), picked.as_slice());
        let contents: Vec<&str> = config.contents.iter().map(|c| c.id.as_str()).collect();
        let items = config
            .quizzes
            .iter()
            .enumerate()
            .map(|(i, q)| CompiledQuiz::compile(q, &join("/quizzes", i), &contents, menus, opts, &limits, p))
            .collect::<Vec<_>>();
        let state_bytes = items.iter().map(|q| state_bytes(&q.quiz)).max().unwrap_or(0);
        Quizzes { items, limits, state_bytes }
    }

    /// Every result rule, and every result description with its JSON pointer and its quiz's
    /// id (for `Engine::warnings`).
    #[cfg(lint)]
    pub fn rules_and_descriptions(&self) -> (Vec<&Rule>, Vec<(String, &str, &Template)>) {
        let mut rules = Vec::new();
        let mut descriptions = Vec::new();
        for q in &self.items {
            rules.extend(q.rules.iter().map(|(r, _)| r));
            for (r, d) in q.descriptions.iter().enumerate() {
                if let Some(t) = d {
                    descriptions.push((join(&join(&join(&q.path, "results"), r), "description"), q.quiz.id.as_str(), t));
                }
            }
        }
        (rules, descriptions)
    }

    /// What a quiz's config sets that can never take effect (`kizuna check`'s `unreachable`):
    /// a result nothing selects, the own `next` of a required single-choice question whose
    /// every choice says where it leads, and a tag two quizzes can set (a take of one takes off
    /// the tags it can set and did not, so it would take the other's off).
    #[cfg(lint)]
    pub fn unused(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (k, q) in self.items.iter().enumerate() {
            let earlier = self.items.iter().take(k);
            let mut shared: Vec<(&String, &str)> = Vec::new();
            for t in q.tags() {
                if let Some(other) = earlier.clone().find(|o| o.tags().any(|u| u == t)) {
                    if !shared.iter().any(|(s, _)| *s == t) {
                        shared.push((t, other.quiz.id.as_str()));
                    }
                }
            }
            for (t, other) in shared {
                out.push((q.path.clone(), format!("tag \"{t}\" can also be set by quiz \"{other}\": a quiz owns the tags it can set, and a take of one takes off those it did not set, the other quiz's included; give each quiz tags of its own")));
            }
            let by_rules = q.quiz.select_by() == SelectBy::Rules;
            let selects = |r: usize| {
                q.fallback == Some(r) || if by_rules { q.rules.iter().any(|(_, x)| *x == r) } else { q.quiz.dimensions.iter().any(|d| q.result_index(d) == Some(r)) }
            };
            for (r, result) in q.quiz.results.iter().enumerate().filter(|&(r, _)| !selects(r)) {
                let how = if by_rules {
                    "no rule of \"select\" names it and it is not the fallback"
                } else {
                    "selecting by score picks the result named like the highest-scoring dimension, or the fallback; no dimension is named so"
                };
                out.push((join(&join(&q.path, "results"), r), format!("result \"{}\" is never selected: {how}", result.id)));
            }
            for (j, question) in q.quiz.questions.iter().enumerate() {
                let all_lead = !question.choices.is_empty() && question.choices.iter().all(|c| c.next.is_some());
                if question.next.is_some() && question.kind == QuestionKind::Single && !question.optional && all_lead {
                    let at = join(&join(&join(&q.path, "questions"), j), "next");
                    out.push((at, "this \"next\" is never used: the question must be answered, and every choice says where it leads".to_string()));
                }
            }
        }
        out
    }

    /// Refuses quiz state text of `len` bytes, unread, when no state of these quizzes is that
    /// long (`limit_exceeded`). `len` may be a lower bound (a JavaScript string's length).
    pub fn check_state_len(&self, len: usize) -> Result<(), Error> {
        let max = self.state_bytes.max(MAX_STATE_BYTES);
        if len <= max {
            return Ok(());
        }
        Err(Error::new(
            Code::LimitExceeded,
            "",
            format!("the quiz state has at least {len} bytes, more than the {max} a state of this config's quizzes can have, so it was not read; kizuna never writes such a state: start the quiz again"),
        ))
    }

    /// The quiz `id`, or `unknown_quiz` at `path`.
    pub fn get(&self, id: &str, path: &str) -> Result<&CompiledQuiz, Error> {
        self.items.iter().find(|q| q.quiz.id == id).ok_or_else(|| {
            let ids: Vec<&str> = self.items.iter().map(|q| q.quiz.id.as_str()).collect();
            Error::new(Code::UnknownQuiz, path, format!("there is no quiz {} in the config{}", quoted(id), known_list(&ids, id)))
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

impl CompiledQuiz {
    /// `menus`: the config's menu ids, and those a menu rule or the default picks.
    fn compile(quiz: &Quiz, path: &str, contents: &[&str], menus: (&[&str], &[&str]), opts: &logic::Options, limits: &Limits, p: &mut Problems) -> CompiledQuiz {
        let qpath = |j: usize| join(&join(path, "questions"), j);
        let ids: Vec<&str> = quiz.questions.iter().map(|q| q.id.as_str()).collect();
        // `None` when the target is unknown (reported).
        let resolve = |next: &str, at: &str, p: &mut Problems| -> Option<Target> {
            if next == END {
                return Some(None);
            }
            match ids.iter().position(|id| *id == next) {
                Some(k) => Some(Some(k)),
                None => {
                    let hint = match suggest(next, ids.iter().copied().chain([END])) {
                        Some(s) => format!("did you mean \"{s}\"?"),
                        None => format!("write a question id of this quiz or \"{END}\" to finish"),
                    };
                    p.push(Code::UnknownQuestion, at, format!("quiz \"{}\": unknown question \"{next}\" in \"next\"; {hint}", quiz.id));
                    None
                }
            }
        };
        let n = quiz.questions.len();
        let mut next = Vec::with_capacity(n);
        let mut choice_next = Vec::with_capacity(n);
        // Per question: every way out, with the pointer to blame for a loop through it.
        let mut edges: Vec<Vec<(Target, String)>> = Vec::with_capacity(n);
        for (j, q) in quiz.questions.iter().enumerate() {
            let at = qpath(j);
            let default = if j + 1 < n { Some(j + 1) } else { None };
            let (own, own_path) = match &q.next {
                Some(s) => (resolve(s, &join(&at, "next"), p), join(&at, "next")),
                None => (Some(default), at.clone()),
            };
            let own = own.unwrap_or(default);
            let mut out = Vec::new();
            let mut cn = Vec::with_capacity(q.choices.len());
            let mut falls_through = q.kind != QuestionKind::Single || q.optional || q.choices.is_empty();
            for (k, c) in q.choices.iter().enumerate() {
                let cp = join(&join(&join(&at, "choices"), k), "next");
                let t = c.next.as_ref().and_then(|s| resolve(s, &cp, p));
                match t {
                    Some(t) => out.push((t, cp)),
                    None => falls_through = true,
                }
                for dim in c.scores.keys() {
                    if !quiz.dimensions.contains(dim) {
                        let dims: Vec<&str> = quiz.dimensions.iter().map(String::as_str).collect();
                        let sp = join(&join(&join(&join(&at, "choices"), k), "scores"), dim);
                        p.push(Code::UnknownDimension, &sp, format!("quiz \"{}\": unknown dimension \"{dim}\"{}", quiz.id, known_list(&dims, dim)));
                    }
                }
                cn.push(t);
            }
            if falls_through {
                out.push((own, own_path));
            }
            if q.kind != QuestionKind::Text && q.choices.is_empty() {
                p.push(Code::NoChoices, &at, format!("quiz \"{}\": the {} question \"{}\" needs at least one choice in \"choices\"", quiz.id, q.kind.as_str(), q.id));
            }
            next.push(own);
            choice_next.push(cn);
            edges.push(out);
        }
        let longest = check_graph(quiz, &edges, &qpath, p);
        let (rules, fallback) = compile_select(quiz, path, opts, p);
        let descriptions = quiz
            .results
            .iter()
            .enumerate()
            .map(|(r, res)| {
                let rp = join(&join(path, "results"), r);
                for (c, id) in res.contents.iter().enumerate() {
                    if !contents.contains(&id.as_str()) {
                        p.push(Code::UnknownContent, &join(&join(&rp, "contents"), c), format!("quiz \"{}\", result \"{}\": unknown content \"{id}\"{}", quiz.id, res.id, known_list(contents, id)));
                    }
                }
                if let Some(menu) = &res.rich_menu {
                    check_rich_menu(menu, menus.0, menus.1, &join(&rp, "richMenu"), p);
                }
                let d = res.description.as_ref()?;
                Template::parse(d, limits)
                    .map_err(|mut e| {
                        e.path = join(&rp, "description");
                        p.0.push(e);
                    })
                    .ok()
            })
            .collect();
        CompiledQuiz { quiz: quiz.clone(), path: path.to_string(), next, choice_next, longest, rules, fallback, descriptions }
    }

    fn index(&self, question: &str) -> Option<usize> {
        self.quiz.questions.iter().position(|q| q.id == question)
    }

    fn result_index(&self, id: &str) -> Option<usize> {
        self.quiz.results.iter().position(|r| r.id == id)
    }

    pub fn question(&self, j: usize) -> Option<&Question> {
        self.quiz.questions.get(j)
    }

    /// The question after question `j` answered with `answer` (already checked).
    fn after(&self, j: usize, answer: &QuizAnswer) -> Target {
        let own = self.next.get(j).copied().flatten();
        match (self.question(j), answer) {
            (Some(q), QuizAnswer::One(choice)) if q.kind == QuestionKind::Single => q
                .choices
                .iter()
                .position(|c| c.id == *choice)
                .and_then(|k| self.choice_next.get(j)?.get(k).copied().flatten())
                .unwrap_or(own),
            _ => own,
        }
    }

    /// Checks an answer to question `j`, returning it normalized (a skip as `""`/`[]`, the
    /// choices of a multiple answer deduplicated in config order) so that equal answers compare
    /// equal. Errors point at `/answers/<question id>` of the state.
    fn check_answer(&self, j: usize, answer: &QuizAnswer) -> Result<QuizAnswer, Error> {
        let Some(q) = self.question(j) else { return Err(Error::new(Code::UnknownQuestion, "", "no such question")) };
        let path = join("/answers", &q.id);
        let who = format!("question \"{}\" of quiz \"{}\"", q.id, self.quiz.id);
        let skip = match answer {
            QuizAnswer::One(s) => s.trim().is_empty(),
            QuizAnswer::Many(v) => v.is_empty(),
        };
        if skip {
            if !q.optional {
                return Err(Error::new(Code::AnswerRequired, path, format!("{who} needs an answer (it is not optional)")));
            }
            return Ok(match q.kind {
                QuestionKind::Multiple => QuizAnswer::Many(Vec::new()),
                _ => QuizAnswer::One(String::new()),
            });
        }
        let unknown_choice = |id: &str, path: String| {
            let ids: Vec<&str> = q.choices.iter().map(|c| c.id.as_str()).collect();
            Error::new(Code::UnknownChoice, path, format!("{who} has no choice {}{}", quoted(id), known_list(&ids, id)))
        };
        match (q.kind, answer) {
            (QuestionKind::Single, QuizAnswer::One(id)) => match q.choices.iter().any(|c| c.id == *id) {
                true => Ok(answer.clone()),
                false => Err(unknown_choice(id, path)),
            },
            (QuestionKind::Multiple, QuizAnswer::Many(ids)) => {
                if let Some((i, id)) = ids.iter().enumerate().find(|(_, id)| !q.choices.iter().any(|c| c.id == **id)) {
                    return Err(unknown_choice(id, join(&path, i)));
                }
                Ok(QuizAnswer::Many(q.choices.iter().filter(|c| ids.contains(&c.id)).map(|c| c.id.clone()).collect()))
            }
            (QuestionKind::Text, QuizAnswer::One(text)) => match text.chars().count() {
                n if n > MAX_TEXT_ANSWER_CHARS => Err(Error::new(Code::InvalidAnswer, path, format!("{who}: the answer has {n} characters; at most {MAX_TEXT_ANSWER_CHARS} are kept"))),
                _ => Ok(answer.clone()),
            },
            (QuestionKind::Single, QuizAnswer::Many(_)) => Err(Error::new(Code::InvalidAnswer, path, format!("{who} takes one choice id (a string), not a list"))),
            (QuestionKind::Multiple, QuizAnswer::One(_)) => Err(Error::new(Code::InvalidAnswer, path, format!("{who} takes a list of choice ids"))),
            (QuestionKind::Text, QuizAnswer::Many(_)) => Err(Error::new(Code::InvalidAnswer, path, format!("{who} takes text, not a list"))),
        }
    }

    /// A fresh state at the first question.
    pub fn start(&self) -> QuizState {
        QuizState {
            version: crate::contract::VERSION,
            quiz: self.quiz.id.clone(),
            answers: Default::default(),
            path: Vec::new(),
            current: self.quiz.questions.first().map(|q| q.id.clone()),
            done: false,
        }
    }

    /// Checks that `state` is one this quiz can produce: walking from the first question with
    /// its answers must give exactly its path, `current` and `done`. A state saved before the
    /// config changed fails here with `stale_quiz_state` instead of misbehaving later.
    pub fn replay(&self, state: &QuizState) -> Result<(), Error> {
        if state.version != crate::contract::VERSION {
            return Err(Error::new(Code::UnsupportedVersion, "/version", format!("this engine reads quiz state version 1, found {}", state.version)));
        }
        let stale = |path: String, why: String| {
            Error::new(Code::StaleQuizState, path, format!("the saved state no longer fits quiz \"{}\" ({why}); the quiz changed: start it again", self.quiz.id))
        };
        // No walk answers more questions than the quiz has: refused before any entry is read.
        let n = self.quiz.questions.len();
        for (field, k, what) in [("/answers", state.answers.len(), "answers"), ("/path", state.path.len(), "steps")] {
            if k > n {
                return Err(stale(field.to_string(), format!("it has {k} {what}, and the quiz has {n} questions")));
            }
        }
        let mut cur = if self.quiz.questions.is_empty() { None } else { Some(0) };
        for (i, id) in state.path.iter().enumerate() {
            let j = self.index(id).ok_or_else(|| stale(join("/path", i), format!("it has no question {}", quoted(id))))?;
            if cur != Some(j) {
                return Err(stale(join("/path", i), format!("question \"{id}\" does not follow here")));
            }
            let answer = state.answers.get(id).ok_or_else(|| stale(join("/answers", id), format!("question \"{id}\" has no answer")))?;
            match self.check_answer(j, answer) {
                Ok(a) if a == *answer => {}
                Ok(_) => return Err(stale(join("/answers", id), format!("the answer to \"{id}\" is not in its normal form"))),
                Err(e) => return Err(stale(e.path, e.message)),
            }
            cur = self.after(j, answer);
        }
        if state.answers.len() != state.path.len() {
            return Err(stale("/answers".to_string(), "it has answers to questions not on its path".to_string()));
        }
        let id = |t: Target| t.and_then(|j| self.question(j)).map(|q| q.id.as_str());
        if state.current.as_deref() != id(cur) {
            return Err(stale("/current".to_string(), format!("the current question should be {}", id(cur).map_or("none (the end)".to_string(), |s| format!("\"{s}\"")))));
        }
        if state.done != cur.is_none() {
            return Err(stale("/done".to_string(), "\"done\" does not match \"current\"".to_string()));
        }
        Ok(())
    }

    /// Answers `question` (the current one, or one on the path: then the later answers are kept
    /// as far as the new branch runs through answered questions, and dropped from its first
    /// unanswered question on). `state` must have passed [`CompiledQuiz::replay`].
    pub fn answer(&self, state: &QuizState, question: &str, answer: &QuizAnswer) -> Result<QuizState, Error> {
        let path = join("/answers", question);
        let Some(j) = self.index(question) else {
            let ids: Vec<&str> = self.quiz.questions.iter().map(|q| q.id.as_str()).collect();
            return Err(Error::new(Code::UnknownQuestion, path, format!("quiz \"{}\" has no question {}{}", self.quiz.id, quoted(question), known_list(&ids, question))));
        };
        // Whether the question can be answered now comes first: an answer to a question the
        // user has not reached is refused as such, whatever the answer.
        let on_path = state.path.iter().position(|id| id == question);
        if on_path.is_none() && state.current.as_deref() != Some(question) {
            let now = state.current.as_deref().map_or("the quiz is finished".to_string(), |c| format!("the current question is \"{c}\""));
            return Err(Error::new(Code::QuestionNotCurrent, path, format!("question \"{question}\" is not on the way the user took ({now})")));
        }
        let answer = self.check_answer(j, answer)?;
        let Some(at) = on_path else {
            let mut next = state.clone();
            next.path.push(question.to_string());
            next.answers.insert(question.to_string(), answer.clone());
            next.current = self.after(j, &answer).and_then(|k| self.question(k)).map(|q| q.id.clone());
            next.done = next.current.is_none();
            return Ok(next);
        };
        if state.answers.get(question) == Some(&answer) {
            return Ok(state.clone());
        }
        // A changed answer: keep the path up to it, then follow the new branch through the
        // questions already answered; the first unanswered one is the new current question.
        let mut next = QuizState { path: state.path.iter().take(at + 1).cloned().collect(), answers: Default::default(), current: None, done: false, ..state.clone() };
        for id in &next.path {
            if let Some(a) = state.answers.get(id) {
                next.answers.insert(id.clone(), a.clone());
            }
        }
        next.answers.insert(question.to_string(), answer.clone());
        let mut cur = self.after(j, &answer);
        while let Some(k) = cur {
            let Some(q) = self.question(k) else { break };
            let later = state.path.iter().skip(at + 1).any(|id| *id == q.id);
            match state.answers.get(&q.id).filter(|_| later) {
                Some(a) => {
                    next.path.push(q.id.clone());
                    next.answers.insert(q.id.clone(), a.clone());
                    cur = self.after(k, a);
                }
                None => break,
            }
        }
        next.current = cur.and_then(|k| self.question(k)).map(|q| q.id.clone());
        next.done = next.current.is_none();
        Ok(next)
    }

    /// 1-based position of the current question and the longest total (see `QuizQuestion`).
    pub fn progress(&self, state: &QuizState) -> Option<(usize, u32, u32)> {
        let j = self.index(state.current.as_deref()?)?;
        let answered = u32::try_from(state.path.len()).unwrap_or(u32::MAX);
        Some((j, answered.saturating_add(1), answered.saturating_add(self.longest.get(j).copied().unwrap_or(1))))
    }

    /// Every tag the quiz can set, its choices' then its results' (repeats included).
    pub fn tags(&self) -> impl Iterator<Item = &String> {
        let choices = self.quiz.questions.iter().flat_map(|q| &q.choices).flat_map(|c| &c.tags);
        choices.chain(self.quiz.results.iter().flat_map(|r| &r.tags))
    }

    /// The chosen choices of a finished state, in path order.
    fn chosen<'q>(&'q self, state: &'q QuizState) -> impl Iterator<Item = &'q super::config::Choice> {
        state.path.iter().filter_map(move |id| {
            let q = self.question(self.index(id)?)?;
            let ids: Vec<&str> = match state.answers.get(id)? {
                QuizAnswer::One(c) if q.kind == QuestionKind::Single => vec![c.as_str()],
                QuizAnswer::Many(cs) => cs.iter().map(String::as_str).collect(),
                QuizAnswer::One(_) => Vec::new(),
            };
            Some(q.choices.iter().filter(move |c| ids.contains(&c.id.as_str())))
        })
        .flatten()
    }

    /// Scores by dimension (in `dimensions` order), tags and attributes of the chosen choices.
    pub fn tally(&self, state: &QuizState) -> (Vec<f64>, Vec<String>, Map<String, Json>) {
        let mut scores = vec![0.0; self.quiz.dimensions.len()];
        let mut tags: Vec<String> = Vec::new();
        let mut attributes = Map::new();
        for c in self.chosen(state) {
            for (dim, n) in &c.scores {
                if let Some(s) = self.quiz.dimensions.iter().position(|d| d == dim).and_then(|i| scores.get_mut(i)) {
                    *s += n;
                }
            }
            for t in &c.tags {
                if !tags.contains(t) {
                    tags.push(t.clone());
                }
            }
            attributes.extend(c.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        (scores, tags, attributes)
    }

    /// The index of the selected result. Selecting by score: the highest score, ties to the
    /// dimension listed first, `fallback` when none is above 0. By rules: the first rule that
    /// holds on `doc` (`answers`, `scores`, `user`, `now`), else `fallback`. A rule that fails
    /// to evaluate is an error with its path.
    pub fn select(&self, scores: &[f64], doc: &Value<'_>, env: &Env<'_>) -> Result<usize, Error> {
        let missing = || Error::new(Code::UnknownResult, "", format!("quiz \"{}\": no result could be selected", self.quiz.id));
        if self.quiz.select_by() == SelectBy::Rules {
            for (rule, result) in &self.rules {
                if rule.matches(doc, env)? {
                    return Ok(*result);
                }
            }
            return self.fallback.ok_or_else(missing);
        }
        let mut best: Option<(usize, f64)> = None;
        for (i, s) in scores.iter().enumerate() {
            if best.is_none_or(|(_, b)| *s > b) {
                best = Some((i, *s));
            }
        }
        match best {
            Some((_, s)) if s <= 0.0 && self.fallback.is_some() => self.fallback.ok_or_else(missing),
            Some((i, _)) => self.quiz.dimensions.get(i).and_then(|d| self.result_index(d)).ok_or_else(missing),
            None => self.fallback.ok_or_else(missing),
        }
    }

    /// Renders result `r`'s description against `doc`.
    pub fn describe(&self, r: usize, doc: &Value<'_>, opts: &RenderOptions<'_>) -> Result<Option<String>, Error> {
        let Some(Some(t)) = self.descriptions.get(r) else { return Ok(None) };
        t.render(doc, opts).map(Some).map_err(|mut e| {
            e.path = join(&join(&join(&self.path, "results"), r), "description");
            e.message = format!("quiz \"{}\", result description: {}", self.quiz.id, e.message);
            e
        })
    }
}

/// The longest JSON text a state of `quiz` can have: every id and answer at its longest, every
/// character escaped (`\u00XX` is 6 bytes for one byte, a surrogate pair 12 for one
/// character) and room for whitespace around every item.
fn state_bytes(quiz: &Quiz) -> usize {
    /// Quotes, a separator, and a pretty-printer's line break and indent.
    const ROOM: usize = 64;
    let string = |bytes: usize| bytes.saturating_mul(6).saturating_add(ROOM);
    let answer = |q: &Question| match q.kind {
        QuestionKind::Text => MAX_TEXT_ANSWER_CHARS.saturating_mul(12).saturating_add(ROOM),
        QuestionKind::Single => q.choices.iter().map(|c| string(c.id.len())).max().unwrap_or(ROOM),
        QuestionKind::Multiple => q.choices.iter().fold(ROOM, |n, c| n.saturating_add(string(c.id.len()))),
    };
    let current = quiz.questions.iter().map(|q| string(q.id.len())).max().unwrap_or(ROOM);
    // `version`, `done` and the member names.
    let fixed = string(quiz.id.len()).saturating_add(current).saturating_add(16 * ROOM);
    // A question's id in `path` and as a key of `answers`, and its answer.
    quiz.questions.iter().fold(fixed, |n, q| n.saturating_add(string(q.id.len()).saturating_mul(2)).saturating_add(answer(q)))
}

/// Walks the question graph from the first question: reports loops (at the `next` that closes
/// them) and unreachable questions, and returns each question's longest way to the end.
fn check_graph(quiz: &Quiz, edges: &[Vec<(Target, String)>], qpath: &dyn Fn(usize) -> String, p: &mut Problems) -> Vec<u32> {
    let n = edges.len();
    const WHITE: u8 = 0;
    const GREY: u8 = 1;
    let mut color = vec![WHITE; n];
    let mut post = Vec::with_capacity(n);
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut cyclic = false;
    if n > 0 {
        stack.push((0, 0));
        if let Some(c) = color.get_mut(0) {
            *c = GREY;
        }
    }
    while let Some((node, edge)) = stack.last().copied() {
        match edges.get(node).and_then(|e| e.get(edge)) {
            Some((target, at)) => {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                let Some(t) = *target else { continue };
                match color.get(t).copied() {
                    Some(WHITE) => {
                        if let Some(c) = color.get_mut(t) {
                            *c = GREY;
                        }
                        stack.push((t, 0));
                    }
                    Some(GREY) => {
                        cyclic = true;
                        let to = quiz.questions.get(t).map_or("", |q| q.id.as_str());
                        let from = quiz.questions.get(node).map_or("", |q| q.id.as_str());
                        p.push(Code::QuestionCycle, at, format!("quiz \"{}\": going from \"{from}\" to \"{to}\" makes a loop; a quiz must always move towards its end", quiz.id));
                    }
                    _ => {}
                }
            }
            None => {
                if let Some(c) = color.get_mut(node) {
                    *c = 2;
                }
                post.push(node);
                stack.pop();
            }
        }
    }
    for (j, c) in color.iter().enumerate() {
        if *c == WHITE {
            let id = quiz.questions.get(j).map_or("", |q| q.id.as_str());
            p.push(Code::UnreachableQuestion, &qpath(j), format!("quiz \"{}\": no answer leads to question \"{id}\"; link it with a \"next\" or remove it", quiz.id));
        }
    }
    let mut longest = vec![1u32; n];
    if !cyclic {
        // Post-order: every question comes after the questions it leads to.
        for &j in &post {
            let most = edges.get(j).into_iter().flatten().filter_map(|(t, _)| longest.get((*t)?).copied()).max().unwrap_or(0);
            if let Some(l) = longest.get_mut(j) {
                *l = most.saturating_add(1);
            }
        }
    }
    longest
}

/// Result selection: checks result ids (and, selecting by score, one result per dimension) and
/// compiles the rules.
fn compile_select(quiz: &Quiz, path: &str, opts: &logic::Options, p: &mut Problems) -> (Vec<(Rule, usize)>, Option<usize>) {
    let spath = join(path, "select");
    let results: Vec<&str> = quiz.results.iter().map(|r| r.id.as_str()).collect();
    let result = |id: &str, at: &str, p: &mut Problems| -> Option<usize> {
        let r = results.iter().position(|r| *r == id);
        if r.is_none() {
            p.push(Code::UnknownResult, at, format!("quiz \"{}\": unknown result \"{id}\"{}", quiz.id, known_list(&results, id)));
        }
        r
    };
    let select = quiz.select.as_ref();
    let fallback = select.and_then(|s| s.fallback.as_deref()).and_then(|f| result(f, &join(&spath, "fallback"), p));
    let mut rules = Vec::new();
    match quiz.select_by() {
        SelectBy::Score => {
            if quiz.dimensions.is_empty() {
                p.push(Code::MissingField, path, format!("quiz \"{}\" selects its result by score but lists no \"dimensions\"", quiz.id));
            }
            for (d, dim) in quiz.dimensions.iter().enumerate() {
                if !results.contains(&dim.as_str()) {
                    p.push(Code::DimensionWithoutResult, &join(&join(path, "dimensions"), d), format!("quiz \"{}\" selects by score, but dimension \"{dim}\" has no result with id \"{dim}\"", quiz.id));
                }
            }
        }
        SelectBy::Rules => {
            let rpath = join(&spath, "rules");
            for (i, r) in select.iter().flat_map(|s| &s.rules).enumerate() {
                let at = join(&rpath, i);
                let target = result(&r.result, &join(&at, "result"), p);
                match logic::compile(&r.when, opts, &join(&at, "when")) {
                    // Results are chosen before the decision's segments exist.
                    Ok(rule) if !rule.segment_refs().is_empty() => p.push(
                        Code::InvalidArgument,
                        &join(&at, "when"),
                        format!("quiz \"{}\": in_segment is not available in result rules (they are decided before segments); test answers, scores or user fields instead", quiz.id),
                    ),
                    Ok(rule) => rules.extend(target.map(|t| (rule, t))),
                    Err(e) => p.0.extend(e),
                }
            }
        }
    }
    (rules, fallback)
}
