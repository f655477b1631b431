//! Quizzes: the example skin-type quiz end to end, every compile check with its path,
//! branching, idempotent answers, out-of-order and unknown answers, result selection (score
//! tie-break, rules), the outcome's context and decision, and the state's JSON.

use kizuna::quiz::{QuizAnswer, QuizState};
use kizuna::{Code, DecideOptions, Engine};
use serde_json::{json, Value};

const CONFIG: &str = include_str!("../examples/skincare/config.json");
const NOW: &str = "2026-11-27T10:30:00+09:00";

/// The five answer paths of the example quiz, one per skin type, shared with the Wasm and
/// browser tests: `[{"result", "scores" (for people), "answers": [[questionId, answer], …]}]`.
const PATHS: &str = include_str!("../examples/skincare/quiz-paths.json");

struct Path {
    result: String,
    scores: String,
    steps: Vec<(String, QuizAnswer)>,
}

fn paths() -> Vec<Path> {
    let all: Vec<Value> = serde_json::from_str(PATHS).unwrap();
    all.iter()
        .map(|p| Path {
            result: p["result"].as_str().unwrap().to_string(),
            scores: p["scores"].as_str().unwrap().to_string(),
            steps: p["answers"].as_array().unwrap().iter().map(|qa| (qa[0].as_str().unwrap().to_string(), serde_json::from_value(qa[1].clone()).unwrap())).collect(),
        })
        .collect()
}

fn example() -> Engine {
    Engine::compile(CONFIG).unwrap()
}

/// Answers `steps` in order from the start.
fn walk(engine: &Engine, steps: &[(String, QuizAnswer)]) -> QuizState {
    let mut s = engine.quiz_start("skin_type").unwrap();
    for (q, a) in steps {
        assert_eq!(s.current.as_deref(), Some(q.as_str()), "path {steps:?}");
        s = engine.quiz_answer(&s, q, a.clone()).unwrap_or_else(|e| panic!("{q}: {e}"));
    }
    s
}

/// [`walk`] to the end.
fn run(engine: &Engine, steps: &[(String, QuizAnswer)]) -> QuizState {
    let s = walk(engine, steps);
    assert!(s.done, "{s:?}");
    s
}

fn user_ctx() -> String {
    json!({"now": NOW, "user": {"userId": "U0123456789abcdef0123456789abcdef", "displayName": "佐藤 美咲", "tags": ["newsletter"], "attributes": {"prefecture": "東京都"}}}).to_string()
}

#[test]
fn the_five_example_paths_yield_the_five_skin_types() {
    let engine = example();
    let mut golden = String::new();
    for path in paths() {
        let want = path.result.as_str();
        let s = run(&engine, &path.steps);
        let out = engine.quiz_result(&s, &user_ctx()).unwrap();
        assert_eq!(out.result.id, want);
        for part in path.scores.split(" (").next().unwrap().split(", ") {
            let (dim, n) = part.split_once(' ').unwrap();
            assert_eq!(out.scores[dim], n.parse::<i64>().unwrap(), "{want}: {dim}");
        }
        assert_eq!(out.result.rich_menu.as_deref(), Some(format!("skin_{want}").as_str()));
        assert!(out.result.description.as_deref().unwrap().starts_with("佐藤 美咲様は"), "{:?}", out.result.description);
        assert!(!out.result.contents.is_empty() && out.result.contents.iter().all(|c| !c.messages.is_empty()));
        assert!(out.tags.contains(&format!("skin_{want}")));
        assert_eq!(out.attributes["skinType"], want);
        assert_eq!(out.context["user"]["quizAnswers"]["skin_type"]["result"], want);
        // The example's segments read the result: the decision puts the user in skin_<type>.
        assert!(out.decision.segments.contains(&format!("skin_{want}")), "{:?}", out.decision.segments);
        // … and its rich-menu rules link the result's menu.
        assert_eq!(serde_json::to_value(&out.decision).unwrap()["richMenu"]["menu"], format!("skin_{want}"));
        // The Wasm calls write outcomes (and states, questions) by hand: serde's bytes exactly.
        assert_eq!(out.to_json(), serde_json::to_string(&out).unwrap());
        assert_eq!(s.to_json(), serde_json::to_string(&s).unwrap());
        assert_eq!(QuizState::from_json(&s.to_json()).unwrap(), s);
        golden.push_str(&serde_json::to_string(&out).unwrap());
        golden.push('\n');
    }
    // The outcomes are checked in, and compared byte for byte by the Wasm tests (Node, Chromium).
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/skincare.quiz.ndjson");
    if std::env::var_os("KIZUNA_WRITE_GOLDEN").is_some() {
        std::fs::write(&file, &golden).unwrap();
    }
    assert_eq!(golden, std::fs::read_to_string(&file).unwrap_or_default(), "outcomes changed; if intended, rerun with KIZUNA_WRITE_GOLDEN=1");
}

#[test]
fn outcome_of_the_dry_path_in_full() {
    let engine = example();
    let steps = &paths()[0].steps;
    let out = engine.quiz_result(&run(&engine, steps), &user_ctx()).unwrap();
    assert_eq!(serde_json::to_value(&out.scores).unwrap(), json!({"dry": 6, "oily": 0, "combination": 0, "sensitive": 0, "normal": 1}));
    assert_eq!(out.tags, ["concern_dryness", "skin_dry"]);
    assert_eq!(serde_json::to_value(&out.attributes).unwrap(), json!({"skincarePreference": "moist", "skinType": "dry"}));
    let ids: Vec<_> = out.result.contents.iter().map(|c| (c.id.as_str(), c.variant.as_str())).collect();
    assert_eq!(ids, [("lotion_moist", "default"), ("cream_barrier", "default")]);
    let flex: Value = serde_json::from_str(out.result.contents[0].messages[0].get()).unwrap();
    assert_eq!(flex["altText"], "佐藤 美咲様へのおすすめ: モイストローション 150mL");
    assert_eq!(flex["contents"]["body"]["contents"][3]["text"], "¥3,800（税込）");
    let user = &out.context["user"];
    assert_eq!(user["tags"], json!(["newsletter", "concern_dryness", "skin_dry"]));
    assert_eq!(user["attributes"], json!({"prefecture": "東京都", "skincarePreference": "moist", "skinType": "dry"}));
    assert_eq!(
        user["quizAnswers"]["skin_type"],
        json!({"q1": "tight", "q3": "flaky", "q4": ["dryness"], "q5": "no", "q6": "want_moist", "q7": "", "result": "dry"})
    );
    assert_eq!(out.context["event"], json!({"type": "quiz", "quizId": "skin_type", "resultId": "dry"}));
    // The decision is Engine::decide on the updated context (the `quiz` event renders
    // quiz_done), plus the completion a backend stores.
    let mut again = engine.decide(&out.context.to_string(), DecideOptions::default()).unwrap();
    again.quiz = out.decision.quiz.clone();
    assert_ne!(again.decision_id, out.decision.decision_id, "the id covers the completion too");
    again.decision_id = out.decision.decision_id.clone();
    assert_eq!(out.decision, again);
    let q = out.decision.quiz.as_ref().unwrap();
    assert_eq!((q.id.as_str(), q.result.as_str(), &q.tags), ("skin_type", "dry", &out.tags));
    assert_eq!(serde_json::to_value(&q.answers).unwrap(), json!({"q1": "tight", "q3": "flaky", "q4": ["dryness"], "q5": "no", "q6": "want_moist", "q7": ""}));
    assert_eq!(q.attributes, out.attributes);
    assert!(q.remove_tags.contains(&"skin_oily".to_string()) && !q.remove_tags.contains(&"skin_dry".to_string()), "{:?}", q.remove_tags);
    assert_eq!(out.decision.content.as_ref().unwrap().id, "quiz_done");
    // Same completion, same moment: same decision id (exactly-once delivery relies on it).
    let twice = engine.quiz_result(&run(&engine, steps), &user_ctx()).unwrap();
    assert_eq!(twice.decision.decision_id, out.decision.decision_id);
    assert_eq!(twice, out);
    // Another take at the same moment with the same result, segments, menu and content but
    // another free-text answer is another decision (a backend keeps decisions by id).
    let other: Vec<_> = steps.iter().map(|(q, a)| (q.clone(), if q == "q7" { QuizAnswer::from("乾燥が気になる") } else { a.clone() })).collect();
    let other = engine.quiz_result(&run(&engine, &other), &user_ctx()).unwrap();
    assert_eq!((other.result.id.as_str(), &other.decision.segments), ("dry", &out.decision.segments));
    assert_ne!(other.decision.decision_id, out.decision.decision_id);
}

#[test]
fn a_context_event_is_kept_and_tags_are_not_duplicated() {
    let engine = example();
    let steps = &paths()[0].steps;
    let s = run(&engine, steps);
    let ctx = json!({"now": NOW, "user": {"userId": "U1", "tags": ["skin_dry"]}, "event": {"type": "postback", "webhookEventId": "01J"}});
    let out = engine.quiz_result(&s, &ctx.to_string()).unwrap();
    assert_eq!(out.context["event"]["type"], "postback");
    assert_eq!(out.context["user"]["tags"], json!(["skin_dry", "concern_dryness"]));
    assert_eq!(out.decision.content, None);
    let e = engine.quiz_result(&s, r#"{"now": "yesterday", "user": {"userId": "U1"}}"#).unwrap_err();
    assert_eq!((e.code, e.path.as_str()), (Code::InvalidTimestamp, "/now"));
    assert_eq!(engine.quiz_result(&s, "{").unwrap_err().code, Code::InvalidJson);
}

#[test]
fn questions_carry_number_and_total_for_a_progress_bar() {
    let engine = example();
    let s = engine.quiz_start("skin_type").unwrap();
    let q = engine.quiz_question(&s).unwrap().unwrap();
    assert_eq!((q.id.as_str(), q.number, q.total), ("q1", 1, 7));
    assert_eq!(q.choices[3].id, "sting");
    assert_eq!(q.choices[3].label, "ヒリヒリしたり赤くなったりする");
    // Not sensitive: q2 is skipped, so the longest remaining way is shorter.
    let s1 = engine.quiz_answer(&s, "q1", "fine").unwrap();
    let q = engine.quiz_question(&s1).unwrap().unwrap();
    assert_eq!((q.id.as_str(), q.number, q.total), ("q3", 2, 6));
    let s2 = engine.quiz_answer(&s, "q1", "sting").unwrap();
    let q = engine.quiz_question(&s2).unwrap().unwrap();
    assert_eq!((q.id.as_str(), q.number, q.total), ("q2", 2, 7));
    let done = run(&engine, &paths()[0].steps);
    assert_eq!(engine.quiz_question(&done).unwrap(), None);
    let q7 = serde_json::to_value(engine.quiz_question(&QuizState { current: Some("q7".into()), done: false, ..done.clone() }).err().unwrap()).unwrap();
    assert_eq!(q7["code"], "stale_quiz_state");
}

#[test]
fn the_state_is_plain_json_and_survives_a_reload() {
    let engine = example();
    let s = engine.quiz_start("skin_type").unwrap();
    let s = engine.quiz_answer(&s, "q1", "sting").unwrap();
    let s = engine.quiz_answer(&s, "q2", "often").unwrap();
    let s = engine.quiz_answer(&s, "q3", "same").unwrap();
    let s = engine.quiz_answer(&s, "q4", ["redness", "pores"]).unwrap();
    let text = serde_json::to_string(&s).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"version": 1, "quiz": "skin_type", "answers": {"q1": "sting", "q2": "often", "q3": "same", "q4": ["pores", "redness"]},
               "path": ["q1", "q2", "q3", "q4"], "current": "q5", "done": false})
    );
    let back: QuizState = serde_json::from_str(&text).unwrap();
    assert_eq!(back, s);
    assert_eq!(s.to_json(), text);
    assert_eq!(QuizState::from_json(&text).unwrap(), s);
    let question = engine.quiz_question(&back).unwrap().unwrap();
    assert_eq!(question.to_json(), serde_json::to_string(&question).unwrap());
    // The hand-written reader takes what the derive takes, and refuses what it refuses.
    for ok in [r#"{"version": 1, "quiz": "q", "current": null, "done": true, "extra": 1}"#, r#"{"done": false, "quiz": "q", "version": 1, "answers": {"a": ["x"], "b": "y"}, "path": ["b"]}"#] {
        assert_eq!(QuizState::from_json(ok).unwrap(), serde_json::from_str::<QuizState>(ok).unwrap(), "{ok}");
    }
    for bad in ["[]", "{", r#"{"quiz": "q", "done": true}"#, r#"{"version": 1, "quiz": "q"}"#, r#"{"version": -1, "quiz": "q", "done": true}"#, r#"{"version": 1, "quiz": 3, "done": true}"#, r#"{"version": 1, "quiz": "q", "done": true, "answers": {"a": 3}}"#, r#"{"version": 1, "quiz": "q", "done": true, "path": [1]}"#, r#"{"version": 1, "quiz": "q", "done": "yes"}"#] {
        assert!(QuizState::from_json(bad).is_err() && serde_json::from_str::<QuizState>(bad).is_err(), "{bad}");
    }
    assert_eq!(engine.quiz_question(&back).unwrap().unwrap().id, "q5");
    let fresh: QuizState = serde_json::from_str(&serde_json::to_string(&engine.quiz_start("skin_type").unwrap()).unwrap()).unwrap();
    assert_eq!(serde_json::to_value(&fresh).unwrap()["current"], "q1");
}

#[test]
fn answering_the_same_question_again_is_idempotent() {
    let engine = example();
    let s = engine.quiz_start("skin_type").unwrap();
    let a = engine.quiz_answer(&s, "q1", "fine").unwrap();
    assert_eq!(engine.quiz_answer(&a, "q1", "fine").unwrap(), a);
    let b = engine.quiz_answer(&a, "q3", "same").unwrap();
    let c = engine.quiz_answer(&b, "q4", ["pores", "acne", "pores"]).unwrap();
    assert_eq!(c.answers["q4"], QuizAnswer::Many(vec!["pores".into(), "acne".into()]), "config order, no duplicates");
    assert_eq!(engine.quiz_answer(&c, "q4", ["acne", "pores"]).unwrap(), c);
    assert_eq!(engine.quiz_answer(&c, "q1", "fine").unwrap(), c);
    let done = run(&engine, &paths()[4].steps);
    assert_eq!(engine.quiz_answer(&done, "q7", "").unwrap(), done);
}

#[test]
fn changing_an_earlier_answer_drops_what_the_new_branch_no_longer_reaches() {
    let engine = example();
    let sensitive = run(&engine, &paths()[3].steps);
    assert_eq!(sensitive.path, ["q1", "q2", "q3", "q4", "q5", "q6", "q7"]);
    // Leaving the branch: q2 goes, the answers after it stay (q3 … q7 are still on the way).
    let s = engine.quiz_answer(&sensitive, "q1", "fine").unwrap();
    assert_eq!(s.path, ["q1", "q3", "q4", "q5", "q6", "q7"]);
    assert!(!s.answers.contains_key("q2"));
    assert!(s.done && s.current.is_none());
    // Entering the branch: q2 is new, so it becomes current; the later answers are dropped
    // (a state holds only its path's answers) and asked again.
    let back = engine.quiz_answer(&s, "q1", "sting").unwrap();
    assert_eq!(back.path, ["q1"]);
    assert_eq!(back.current.as_deref(), Some("q2"));
    assert!(!back.done);
    let back = engine.quiz_answer(&back, "q2", "never").unwrap();
    assert_eq!(back.current.as_deref(), Some("q3"));
    // A changed middle answer keeps the rest of the path.
    let mid = engine.quiz_answer(&sensitive, "q5", "no").unwrap();
    assert_eq!(mid.path, sensitive.path);
    assert_eq!(mid.answers["q5"], QuizAnswer::One("no".into()));
    assert!(mid.done);
}

fn err_of(r: Result<QuizState, kizuna::Error>) -> (Code, String) {
    let e = r.unwrap_err();
    assert!(!e.message.is_empty());
    (e.code, e.path)
}

#[test]
fn wrong_answers_are_structured_errors() {
    let engine = example();
    let s = engine.quiz_start("skin_type").unwrap();
    assert_eq!(err_of(engine.quiz_answer(&s, "q5", "yes")), (Code::QuestionNotCurrent, "/answers/q5".into()));
    // Not reached yet is the problem, whatever the answer (not that "x" is no choice of q3).
    assert_eq!(err_of(engine.quiz_answer(&s, "q3", "x")), (Code::QuestionNotCurrent, "/answers/q3".into()));
    assert_eq!(err_of(engine.quiz_answer(&s, "q1", "tite")), (Code::UnknownChoice, "/answers/q1".into()));
    assert!(engine.quiz_answer(&s, "q1", "tigt").unwrap_err().message.contains("did you mean \"tight\""));
    assert_eq!(err_of(engine.quiz_answer(&s, "q1", "")), (Code::AnswerRequired, "/answers/q1".into()));
    assert_eq!(err_of(engine.quiz_answer(&s, "q1", ["tight"])), (Code::InvalidAnswer, "/answers/q1".into()));
    assert_eq!(err_of(engine.quiz_answer(&s, "q99", "x")), (Code::UnknownQuestion, "/answers/q99".into()));
    let s = walk(&engine, &paths()[4].steps[..2]);
    assert_eq!(err_of(engine.quiz_answer(&s, "q4", ["none", "nope"])), (Code::UnknownChoice, "/answers/q4/1".into()));
    assert_eq!(err_of(engine.quiz_answer(&s, "q4", "none")), (Code::InvalidAnswer, "/answers/q4".into()));
    assert_eq!(err_of(engine.quiz_answer(&s, "q4", Vec::new())), (Code::AnswerRequired, "/answers/q4".into()));
    let long = "あ".repeat(2_001);
    let s = walk(&engine, &paths()[4].steps[..5]);
    assert_eq!(err_of(engine.quiz_answer(&s, "q7", long.as_str())), (Code::InvalidAnswer, "/answers/q7".into()));
    assert_eq!(engine.quiz_result(&s, &user_ctx()).unwrap_err().code, Code::QuizNotFinished);
    assert_eq!(err_of(engine.quiz_start("skin")), (Code::UnknownQuiz, "".into()));
}

#[test]
fn states_that_do_not_fit_the_config_are_errors_that_say_so() {
    let engine = example();
    let done = run(&engine, &paths()[0].steps);
    // Another quiz's state (or a quiz that was removed).
    let other = QuizState { quiz: "hair_type".into(), ..done.clone() };
    assert_eq!(err_of(engine.quiz_answer(&other, "q1", "tight")), (Code::UnknownQuiz, "/quiz".into()));
    // Edited or from an older config: answers that no longer fit, a broken path.
    let mut bad = done.clone();
    bad.answers.insert("q3".into(), QuizAnswer::One("gone".into()));
    let e = engine.quiz_answer(&bad, "q1", "tight").unwrap_err();
    assert_eq!((e.code, e.path.as_str()), (Code::StaleQuizState, "/answers/q3"));
    assert!(e.message.contains("start it again"), "{}", e.message);
    let mut bad = done.clone();
    bad.path.remove(1);
    assert_eq!(err_of(engine.quiz_answer(&bad, "q1", "tight")), (Code::StaleQuizState, "/path/1".into()));
    let bad = QuizState { done: false, ..done.clone() };
    assert_eq!(err_of(engine.quiz_answer(&bad, "q1", "tight")), (Code::StaleQuizState, "/done".into()));
    let bad = QuizState { version: 2, ..done.clone() };
    assert_eq!(err_of(engine.quiz_answer(&bad, "q1", "tight")), (Code::UnsupportedVersion, "/version".into()));
    // The config changed under a saved state: q3 lost its "flaky" choice.
    let mut config: Value = serde_json::from_str(CONFIG).unwrap();
    config["quizzes"][0]["questions"][2]["choices"].as_array_mut().unwrap().remove(0);
    let changed = Engine::from_json(&config).unwrap();
    let e = changed.quiz_result(&done, &user_ctx()).unwrap_err();
    assert_eq!((e.code, e.path.as_str()), (Code::StaleQuizState, "/answers/q3"));
}

/// The JSON text of a state of quiz `quiz` with `n` answers (to questions no quiz has).
fn state_with_answers(quiz: &str, n: usize) -> String {
    let mut text = format!(r#"{{"version":1,"quiz":"{quiz}","answers":{{"#);
    for i in 0..n {
        text.push_str(if i == 0 { "\"a" } else { ",\"a" });
        text.push_str(&i.to_string());
        text.push_str("\":\"x\"");
    }
    text + r#"},"path":[],"current":"q1","done":false}"#
}

#[test]
fn oversized_states_are_refused_before_they_are_read() {
    let engine = example();
    // Posted text: a million answers are refused unread.
    let text = state_with_answers("skin_type", 1_000_000);
    let e = engine.read_quiz_state(&text).unwrap_err();
    assert_eq!((e.code, e.path.as_str()), (Code::LimitExceeded, ""));
    assert!(e.message.contains(&format!("{} bytes, more than the 65536", text.len())) && e.message.contains("start the quiz again"), "{}", e.message);
    // A state built in memory: more answers, or steps, than the quiz has questions is stale
    // before any of them is looked at.
    let big = QuizState { answers: (0..1_000_000).map(|i| (format!("{i:07}"), QuizAnswer::Many(Vec::new()))).collect(), ..engine.quiz_start("skin_type").unwrap() };
    let calls = [engine.quiz_question(&big).err(), engine.quiz_answer(&big, "q1", "tight").err(), engine.quiz_result(&big, &user_ctx()).err()];
    for e in calls.map(Option::unwrap) {
        assert_eq!((e.code, e.path.as_str()), (Code::StaleQuizState, "/answers"), "{e}");
        assert!(e.message.contains("it has 1000000 answers, and the quiz has 7 questions"), "{}", e.message);
    }
    let done = run(&engine, &paths()[0].steps);
    let long = QuizState { path: [done.path.clone(), vec!["q1".to_string(); 8]].concat(), ..done.clone() };
    assert_eq!(err_of(engine.quiz_answer(&long, "q1", "tight")), (Code::StaleQuizState, "/path".into()));
    // Normal states are read as written, pretty-printed, and padded up to the 64 KiB floor.
    assert_eq!(engine.read_quiz_state(&done.to_json()).unwrap(), done);
    assert_eq!(engine.read_quiz_state(&serde_json::to_string_pretty(&done).unwrap()).unwrap(), done);
    let mut padded = done.to_json();
    padded.push_str(&" ".repeat(64 * 1024 - padded.len()));
    assert_eq!(engine.read_quiz_state(&padded).unwrap(), done);
    padded.push(' ');
    assert_eq!(err_of(engine.read_quiz_state(&padded)), (Code::LimitExceeded, "".into()));
    assert_eq!(err_of(engine.read_quiz_state(r#"{"version": 1}"#)), (Code::InvalidValue, "".into()));
    // A field of the wrong kind: its pointer.
    let wrong = |s: &str| err_of(engine.read_quiz_state(s));
    assert_eq!(wrong(r#"{"version": 1, "quiz": "t", "done": "no"}"#), (Code::InvalidValue, "/done".into()));
    assert_eq!(wrong(r#"{"version": 1, "quiz": "t", "answers": {"q1": 5}, "done": false}"#), (Code::InvalidValue, "/answers/q1".into()));
    assert_eq!(wrong(r#"{"version": 1, "quiz": "t", "answers": {"q/1": ["x", 2]}, "done": false}"#), (Code::InvalidValue, "/answers/q~11/1".into()));
    assert_eq!(wrong(r#"{"version": 1, "quiz": "t", "path": "q1", "done": false}"#), (Code::InvalidValue, "/path".into()));
}

#[test]
fn the_state_bound_grows_with_the_quiz_so_that_long_answers_still_fit() {
    let questions: Vec<Value> = (0..10).map(|i| json!({"id": format!("q{i}"), "kind": "text", "text": "?"})).collect();
    let engine = engine_for(json!({"id": "t", "title": "T", "dimensions": ["a"], "questions": questions, "results": [{"id": "a", "title": "A"}]}));
    let mut s = engine.quiz_start("t").unwrap();
    for i in 0..10 {
        s = engine.quiz_answer(&s, &format!("q{i}"), "😀".repeat(2_000)).unwrap();
    }
    assert!(s.done);
    // Ten answers at their longest, every character escaped as a surrogate pair (as an
    // ASCII-only JSON writer does): far over the 64 KiB floor, and still read.
    let escaped = s.to_json().replace('😀', "\\ud83d\\ude00");
    assert!(escaped.len() > 240_000, "{}", escaped.len());
    assert_eq!(engine.read_quiz_state(&escaped).unwrap(), s);
    assert_eq!(engine.quiz_result(&s, &user_ctx()).unwrap().result.id, "a");
    // … while a million answers stay refused unread.
    assert_eq!(engine.read_quiz_state(&state_with_answers("t", 1_000_000)).unwrap_err().code, Code::LimitExceeded);
}

/// A minimal config around one quiz.
fn quiz_config(quiz: Value) -> Value {
    json!({"version": 1, "contents": [{"id": "c1", "variants": [{"id": "v", "messages": [{"type": "text", "text": "hi"}]}]}], "quizzes": [quiz]})
}

fn problems(quiz: Value) -> Vec<(String, String)> {
    match Engine::from_json(&quiz_config(quiz)) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.into_iter().map(|e| (e.code.as_str().to_string(), e.path)).collect(),
    }
}

fn has(problems: &[(String, String)], code: &str, path: &str) {
    assert!(problems.iter().any(|(c, p)| c == code && p == path), "expected {code} at {path} in {problems:#?}");
}

fn base() -> Value {
    json!({"id": "t", "title": "T", "dimensions": ["a", "b"],
        "questions": [
            {"id": "q1", "kind": "single", "text": "1", "choices": [{"id": "x", "label": "X", "scores": {"a": 1}}, {"id": "y", "label": "Y", "scores": {"b": 1}}]},
            {"id": "q2", "kind": "single", "text": "2", "choices": [{"id": "x", "label": "X", "scores": {"a": 1}}, {"id": "y", "label": "Y", "scores": {"b": 1}}]}
        ],
        "results": [{"id": "a", "title": "A", "contents": ["c1"]}, {"id": "b", "title": "B"}]})
}

#[test]
fn the_base_quiz_compiles() {
    assert_eq!(problems(base()), Vec::<(String, String)>::new());
}

#[test]
fn compile_checks_report_every_problem_with_its_path() {
    let mut q = base();
    q["questions"][0]["choices"][1]["next"] = json!("q9");
    q["questions"][0]["choices"][0]["scores"] = json!({"aa": 1});
    q["questions"][1]["choices"] = json!([]);
    q["questions"][1]["nxt"] = json!("q1");
    q["results"][0]["contents"] = json!(["c1", "c2"]);
    q["dimensions"] = json!(["a", "b", "c"]);
    q["questions"].as_array_mut().unwrap().push(json!({"id": "q1", "kind": "text", "text": "dup"}));
    let p = problems(q);
    has(&p, "unknown_question", "/quizzes/0/questions/0/choices/1/next");
    has(&p, "unknown_dimension", "/quizzes/0/questions/0/choices/0/scores/aa");
    has(&p, "no_choices", "/quizzes/0/questions/1");
    has(&p, "unknown_field", "/quizzes/0/questions/1/nxt");
    has(&p, "unknown_content", "/quizzes/0/results/0/contents/1");
    has(&p, "dimension_without_result", "/quizzes/0/dimensions/2");
    has(&p, "duplicate_id", "/quizzes/0/questions/2");
    let unknown = Engine::from_json(&quiz_config({
        let mut q = base();
        q["questions"][0]["choices"][1]["next"] = json!("q3");
        q
    }))
    .unwrap_err();
    assert!(unknown[0].message.contains("did you mean \"q1\"") || unknown[0].message.contains("did you mean \"q2\""), "{}", unknown[0].message);
}

#[test]
fn loops_and_unreachable_questions_are_found() {
    let mut q = base();
    q["questions"][1]["next"] = json!("q1");
    has(&problems(q), "question_cycle", "/quizzes/0/questions/1/next");
    let mut q = base();
    q["questions"][0]["choices"][0]["next"] = json!("q1");
    has(&problems(q), "question_cycle", "/quizzes/0/questions/0/choices/0/next");
    let mut q = base();
    q["questions"][0]["next"] = json!("$end");
    let p = problems(q);
    has(&p, "unreachable_question", "/quizzes/0/questions/1");
    assert_eq!(p.len(), 1, "{p:?}");
}

#[test]
fn selection_and_result_references_are_checked() {
    let mut q = base();
    q["select"] = json!({"rules": [{"when": {"==": [{"var": "answers.q1"}, "x"]}, "result": "c"}, {"when": {"equals": [1, 1]}, "result": "a"}], "fallback": "z"});
    let p = problems(q);
    has(&p, "unknown_result", "/quizzes/0/select/rules/0/result");
    has(&p, "unknown_result", "/quizzes/0/select/fallback");
    has(&p, "unknown_operator", "/quizzes/0/select/rules/1/when");
    let mut q = base();
    q["select"] = json!({"by": "rules", "rules": [{"when": true, "result": "a"}]});
    has(&problems(q), "missing_field", "/quizzes/0/select");
    let mut q = base();
    q["results"][1]["description"] = json!("{% if %}");
    has(&problems(q), "template_syntax", "/quizzes/0/results/1/description");
    let mut q = base();
    q["questions"][0]["id"] = json!("result");
    has(&problems(q), "invalid_value", "/quizzes/0/questions/0/id");
    let mut q = base();
    q["questions"][1]["kind"] = json!("multiple");
    q["questions"][1]["choices"][0]["next"] = json!("$end");
    has(&problems(q), "invalid_value", "/quizzes/0/questions/1/choices/0/next");
    let mut q = base();
    q["questions"][1] = json!({"id": "q2", "kind": "text", "text": "t", "choices": [{"id": "x", "label": "X"}]});
    has(&problems(q), "invalid_value", "/quizzes/0/questions/1/choices");
}

#[test]
fn rich_menu_references_are_checked_against_the_known_menus() {
    let mut q = base();
    q["results"][1]["richMenu"] = json!("skin_dry");
    has(&problems(q), "unknown_menu", "/quizzes/0/results/1/richMenu");
    let mut config: Value = serde_json::from_str(CONFIG).unwrap();
    config["quizzes"][0]["results"][0]["richMenu"] = json!("skin_dri");
    let e = Engine::from_json(&config).unwrap_err();
    assert_eq!((e[0].code, e[0].path.as_str()), (Code::UnknownMenu, "/quizzes/0/results/0/richMenu"));
    assert!(e[0].message.contains("did you mean \"skin_dry\""), "{}", e[0].message);
    let mut p = kizuna::contract::read::Problems::default();
    let known = ["skin_dry", "skin_oily"];
    kizuna::quiz::compile::check_rich_menu("skin_dry", &known, &known, "/quizzes/0/results/0/richMenu", &mut p);
    assert!(p.0.is_empty());
    kizuna::quiz::compile::check_rich_menu("skin_dri", &known, &known, "/quizzes/0/results/0/richMenu", &mut p);
    assert_eq!((p.0[0].code, p.0[0].path.as_str()), (Code::UnknownMenu, "/quizzes/0/results/0/richMenu"));
    assert!(p.0[0].message.contains("did you mean \"skin_dry\""));
}

#[test]
fn a_result_menu_no_rule_picks_is_an_error() {
    // The decision links menus through the rules; a result's menu nobody picks would be shown
    // as the result's menu and never linked.
    let mut config: Value = serde_json::from_str(CONFIG).unwrap();
    let rules = config["richMenus"]["rules"].as_array_mut().unwrap();
    rules.retain(|r| r["menu"] != "skin_oily");
    let e = Engine::from_json(&config).unwrap_err();
    let oily = config["quizzes"][0]["results"].as_array().unwrap().iter().position(|r| r["id"] == "oily").unwrap();
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!((e[0].code, e[0].path.clone()), (Code::UnknownMenu, format!("/quizzes/0/results/{oily}/richMenu")));
    assert!(e[0].message.contains("no rule in /richMenus/rules picks menu \"skin_oily\""), "{}", e[0].message);
}

#[test]
fn in_segment_is_refused_in_result_rules_with_its_reason() {
    let mut q = base();
    q["select"] = json!({"rules": [{"when": {"in_segment": "vip"}, "result": "a"}], "fallback": "b"});
    let mut config = quiz_config(q);
    config["segments"] = json!([{"id": "vip", "when": {"has_tag": "vip"}}]);
    let e = Engine::from_json(&config).unwrap_err();
    assert_eq!((e[0].code, e[0].path.as_str()), (Code::InvalidArgument, "/quizzes/0/select/rules/0/when"));
    assert!(e[0].message.contains("decided before segments"), "{}", e[0].message);
}

fn engine_for(quiz: Value) -> Engine {
    Engine::from_json(&quiz_config(quiz)).unwrap_or_else(|e| panic!("{e:#?}"))
}

fn result_of(engine: &Engine, steps: &[(&str, QuizAnswer)]) -> String {
    let mut s = engine.quiz_start("t").unwrap();
    for (q, a) in steps {
        s = engine.quiz_answer(&s, q, a.clone()).unwrap();
    }
    engine.quiz_result(&s, &json!({"now": NOW, "user": {"userId": "U1", "attributes": {"age": 34}}}).to_string()).unwrap().result.id
}

#[test]
fn branching_choice_next_wins_then_question_next_then_config_order() {
    let engine = engine_for(json!({"id": "t", "title": "T", "dimensions": ["a"],
        "questions": [
            {"id": "q1", "kind": "single", "text": "1", "next": "q3", "choices": [{"id": "x", "label": "X", "next": "q2"}, {"id": "y", "label": "Y"}, {"id": "z", "label": "Z", "next": "$end"}]},
            {"id": "q2", "kind": "single", "text": "2", "choices": [{"id": "x", "label": "X"}]},
            {"id": "q3", "kind": "multiple", "text": "3", "optional": true, "choices": [{"id": "x", "label": "X"}]},
            {"id": "q4", "kind": "text", "text": "4"}
        ],
        "results": [{"id": "a", "title": "A"}]}));
    let s0 = engine.quiz_start("t").unwrap();
    let via = |a: &str| engine.quiz_answer(&s0, "q1", a).unwrap();
    assert_eq!(via("x").current.as_deref(), Some("q2"));
    assert_eq!(via("y").current.as_deref(), Some("q3"));
    let end = via("z");
    assert!(end.done && end.current.is_none());
    let s = engine.quiz_answer(&via("x"), "q2", "x").unwrap();
    assert_eq!(s.current.as_deref(), Some("q3"), "config order");
    let s = engine.quiz_answer(&s, "q3", Vec::new()).unwrap();
    assert_eq!(s.answers["q3"], QuizAnswer::Many(vec![]), "an optional question skipped");
    assert_eq!(s.current.as_deref(), Some("q4"));
    let s = engine.quiz_answer(&s, "q4", "自由記述").unwrap();
    assert!(s.done);
}

#[test]
fn score_ties_go_to_the_dimension_listed_first() {
    let mut q = base();
    q["dimensions"] = json!(["b", "a"]);
    let engine = engine_for(q);
    let one = |s: &str| QuizAnswer::One(s.into());
    assert_eq!(result_of(&engine, &[("q1", one("x")), ("q2", one("y"))]), "b", "1:1, b is listed first");
    assert_eq!(result_of(&engine, &[("q1", one("x")), ("q2", one("x"))]), "a");
    let mut q = base();
    q["questions"][0]["choices"][0]["scores"] = json!({});
    q["questions"][1]["choices"][0]["scores"] = json!({});
    q["select"] = json!({"fallback": "b"});
    let engine = engine_for(q);
    assert_eq!(result_of(&engine, &[("q1", one("x")), ("q2", one("x"))]), "b", "nothing scored: the fallback");
}

#[test]
fn rules_select_on_answers_scores_and_the_user() {
    let mut q = base();
    q["select"] = json!({"rules": [
        {"when": {"and": [{"==": [{"var": "answers.q1"}, "y"]}, {">=": [{"var": "user.attributes.age"}, 30]}]}, "result": "b"},
        {"when": {">=": [{"var": "scores.a"}, 2]}, "result": "a"}
    ], "fallback": "b"});
    let engine = engine_for(q);
    let one = |s: &str| QuizAnswer::One(s.into());
    assert_eq!(result_of(&engine, &[("q1", one("y")), ("q2", one("x"))]), "b");
    assert_eq!(result_of(&engine, &[("q1", one("x")), ("q2", one("x"))]), "a");
    assert_eq!(result_of(&engine, &[("q1", one("x")), ("q2", one("y"))]), "b", "fallback");
}

/// What a backend does with a quiz decision (review-quiz20 BUG 1): the LIFF app sends only the
/// decision, computed from the user id alone. Its `quiz` member, applied to the stored user as
/// documented, keeps the result: the user's next message decides them still as dry skin, on
/// the result's menu. Without it the first message moved them back to the welcome menu.
#[test]
fn a_backend_keeps_the_result_from_the_decision_alone() {
    let engine = example();
    let state = run(&engine, &paths()[0].steps);
    let app = json!({"now": NOW, "user": {"userId": "U0123456789abcdef0123456789abcdef"}}).to_string();
    let decision = engine.quiz_result(&state, &app).unwrap().decision;
    let menu = decision.rich_menu.as_ref().and_then(|m| m.rich_menu_id.clone()).unwrap();
    // The backend's user: what it knew (a tag of its own), then the decision applied.
    let mut user = json!({"userId": "U0123456789abcdef0123456789abcdef", "tags": ["newsletter", "skin_oily"], "richMenuId": menu});
    let q = decision.quiz.as_ref().unwrap();
    let mut answers = q.answers.clone();
    answers.insert("result".into(), json!(q.result));
    user["quizAnswers"] = json!({ q.id.clone(): answers });
    let tags: Vec<Value> = user["tags"].as_array().unwrap().iter().filter(|t| !q.remove_tags.iter().any(|r| Some(r.as_str()) == t.as_str())).cloned()
        .chain(q.tags.iter().map(|t| json!(t))).collect();
    user["tags"] = json!(tags);
    user["attributes"] = json!(q.attributes);
    assert_eq!(user["tags"], json!(["newsletter", "concern_dryness", "skin_dry"]), "an earlier result's tag is taken off");
    let next = json!({"now": "2026-11-27T11:00:00+09:00", "user": user, "event": {"type": "message", "message": {"type": "text", "text": "こんにちは"}}});
    let d = engine.decide(&next.to_string(), DecideOptions::default()).unwrap();
    assert!(d.segments.contains(&"skin_dry".to_string()), "{:?}", d.segments);
    let rm = d.rich_menu.unwrap();
    assert_eq!((rm.action, rm.menu.as_deref()), (kizuna::contract::MenuAction::None, Some("skin_dry")));
    assert!(d.quiz.is_none(), "only a quiz outcome's decision carries a completion");
}

/// A retake replaces the earlier result's tags (review-quiz20 RISK 1): the outcome's context,
/// stored as the profile, no longer says dry after an oily result.
#[test]
fn a_retake_takes_the_earlier_results_tags_off() {
    let engine = example();
    let dry = engine.quiz_result(&run(&engine, &paths()[0].steps), &user_ctx()).unwrap();
    let ctx = json!({"now": NOW, "user": dry.context["user"]}).to_string();
    let oily = engine.quiz_result(&run(&engine, &paths()[1].steps), &ctx).unwrap();
    assert_eq!(oily.context["user"]["tags"], json!(["newsletter", "concern_pores", "concern_acne", "skin_oily"]));
    assert_eq!(oily.context["user"]["attributes"]["skinType"], "oily");
    assert!(!oily.decision.segments.contains(&"skin_dry".to_string()));
}

/// Quiz, question and dimension names are parts of the paths rules read (review-quiz20 BUG 2).
#[test]
fn names_rules_read_as_path_parts_have_no_dot() {
    let config = json!({"version": 1, "quizzes": [{"id": "skin.type", "title": "t", "dimensions": ["a.b", ""],
        "questions": [{"id": "q.1", "kind": "single", "text": "?", "choices": [{"id": "y", "label": "y"}]}],
        "results": [{"id": "r", "title": "r"}]}]});
    let errors = Engine::from_json(&config).unwrap_err();
    let got: Vec<(kizuna::Code, &str)> = errors.iter().map(|e| (e.code, e.path.as_str())).collect();
    for want in ["/quizzes/0/id", "/quizzes/0/dimensions/0", "/quizzes/0/dimensions/1", "/quizzes/0/questions/0/id"] {
        assert!(got.contains(&(kizuna::Code::InvalidValue, want)), "{want} in {got:?}");
    }
    assert!(errors.iter().any(|e| e.message.contains("rules read it as answers.<question>, where '.' separates the parts")), "{errors:?}");
}

/// A recommended content or the description that fails to render for a user is left out and
/// said in the outcome's errors: the diagnosis stands (review-quiz20 RISK 2; before, the whole
/// result failed, and the LIFF page showed 「結果を計算できませんでした」 on every reload).
#[test]
fn a_part_that_fails_to_render_is_left_out_not_the_result() {
    let mut q = base();
    q["results"][0]["contents"] = json!(["c1", "c2"]);
    q["results"][0]["description"] = json!("{{ user.attributes.n | divided_by: 0 }}");
    let mut config = quiz_config(q);
    config["contents"] = json!([
        {"id": "c1", "variants": [{"id": "v", "messages": [{"type": "text", "text": "{{ user.attributes.missing }}"}]}]},
        {"id": "c2", "variants": [{"id": "v", "messages": [{"type": "text", "text": "おすすめ"}]}]}
    ]);
    let engine = Engine::from_json(&config).unwrap_or_else(|e| panic!("{e:#?}"));
    let mut s = engine.quiz_start("t").unwrap();
    for q in ["q1", "q2"] {
        s = engine.quiz_answer(&s, q, QuizAnswer::One("x".into())).unwrap();
    }
    let out = engine.quiz_result(&s, &json!({"now": NOW, "user": {"userId": "U1", "attributes": {"n": 3}}}).to_string()).unwrap();
    assert_eq!(out.result.id, "a");
    assert_eq!(out.result.contents.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["c2"]);
    assert_eq!(out.result.description, None);
    let paths: Vec<&str> = out.errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["/quizzes/0/results/0/description", "/contents/0/variants/0/messages/0/text"]);
    assert_eq!(out.to_json(), serde_json::to_string(&out).unwrap());
}

/// Settings that can never take effect are `kizuna check` warnings (review-quiz20 NIT 3).
#[test]
fn settings_that_never_take_effect_are_warned_about() {
    let mut q = base();
    q["questions"][0]["next"] = json!("$end");
    q["questions"][0]["choices"][0]["next"] = json!("q2");
    q["questions"][0]["choices"][1]["next"] = json!("q2");
    q["results"].as_array_mut().unwrap().push(json!({"id": "never", "title": "N"}));
    let e = engine_for(q);
    let w: Vec<(String, String)> = e.warnings().into_iter().map(|w| (w.path, w.message)).collect();
    assert_eq!(
        w,
        [
            ("/quizzes/0/questions/0/next".to_string(), "this \"next\" is never used: the question must be answered, and every choice says where it leads".to_string()),
            ("/quizzes/0/results/2".to_string(), "result \"never\" is never selected: selecting by score picks the result named like the highest-scoring dimension, or the fallback; no dimension is named so".to_string()),
        ]
    );
    // The example's quiz sets nothing idle.
    assert_eq!(example().warnings(), []);
}

/// review-diff20: a take removes the tags its quiz can set and did not set, so a tag two
/// quizzes share would be taken off by the other: a warning names it.
#[test]
fn a_tag_two_quizzes_can_set_is_warned_about() {
    let (mut skin, mut hair) = (base(), base());
    hair["id"] = json!("hair");
    skin_tags(&mut skin, "concern_dry");
    skin_tags(&mut hair, "concern_dry");
    let mut config = quiz_config(skin);
    config["quizzes"].as_array_mut().unwrap().push(hair);
    let e = Engine::from_json(&config).unwrap_or_else(|e| panic!("{e:#?}"));
    let w: Vec<(String, String)> = e.warnings().into_iter().map(|w| (w.path, w.message)).collect();
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].0, "/quizzes/1");
    assert!(w[0].1.starts_with("tag \"concern_dry\" can also be set by quiz \"t\""), "{}", w[0].1);
}

fn skin_tags(quiz: &mut Value, tag: &str) {
    quiz["questions"][0]["choices"][0]["tags"] = json!([tag]);
}

/// An id the caller passes on from a client (a quiz answer or state posted by a LIFF app to a
/// backend) is quoted short and escaped: a backend logging the error gets one short line, not
/// the client's megabyte nor the fake log lines its line breaks would make.
#[test]
fn an_unknown_id_from_a_client_is_quoted_short_and_escaped_in_the_error() {
    let engine = example();
    let s = engine.quiz_start("skin_type").unwrap();
    let forged = format!("a\"\nERROR forged log line{}", "x".repeat(100_000));
    let checks = [
        engine.quiz_answer(&s, "q1", forged.as_str()).unwrap_err(),
        engine.quiz_answer(&s, &forged, "fine").unwrap_err(),
        engine.quiz_start(&forged).unwrap_err(),
    ];
    let mut state = s.clone();
    state.path = vec![forged.clone()];
    let replayed = engine.quiz_question(&state).unwrap_err();
    for e in checks.iter().chain([&replayed]) {
        assert!(e.message.len() < 400, "{} bytes: {}", e.message.len(), e.message.get(..300).unwrap_or(""));
        assert!(!e.message.contains('\n'), "{}", e.message);
        assert!(e.message.contains(r#""a\"\u{a}ERROR forged log linexxx"#), "{}", e.message);
    }
    // An ordinary id reads as before.
    let e = engine.quiz_answer(&s, "q1", "tight!").unwrap_err();
    assert!(e.message.contains(r#"has no choice "tight!"; did you mean "tight"?"#), "{}", e.message);
}
