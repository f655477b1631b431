// Shared by tests/wasm_node.rs and tests/wasm_browser.rs (included, not a test crate of its own):
// the same decisions, byte for byte, as natively (tests/golden), and structured errors.
use kizuna::wasm::{evaluate, Engine};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const CONFIG: &str = include_str!("../../examples/skincare/config.json");
const CONTEXTS: &str = include_str!("../../examples/skincare/contexts.ndjson");
const GOLDEN: &str = include_str!("../golden/skincare.decisions.ndjson");
const PUSH_GOLDEN: &str = include_str!("../golden/skincare.push.ndjson");

fn get(v: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(v, &key.into()).unwrap()
}

#[wasm_bindgen_test]
fn decisions_are_byte_identical_to_native() {
    let engine = Engine::new(CONFIG.into()).unwrap();
    for (ctx, want) in CONTEXTS.lines().zip(GOLDEN.lines()) {
        assert_eq!(engine.decide_json(ctx, None).unwrap(), want);
    }
    assert_eq!(engine.decide_many(CONTEXTS), GOLDEN);
}

/// Renders with `$for` carousels (the example's push campaign) too.
#[wasm_bindgen_test]
fn push_renders_are_byte_identical_to_native() {
    let engine = Engine::new(CONFIG.into()).unwrap();
    for (ctx, want) in CONTEXTS.lines().zip(PUSH_GOLDEN.lines()) {
        assert_eq!(engine.render_json("recommendations", ctx).unwrap(), want);
    }
}

/// With the package's arena (`--features arena`): results kept alive while later decisions run,
/// and results freed at once, both stay byte-identical to native ones, and rendering with
/// errors in between changes nothing.
#[wasm_bindgen_test]
fn decisions_stay_identical_however_long_their_results_live() {
    let engine = Engine::new(CONFIG.into()).unwrap();
    let pairs: Vec<(&str, &str)> = CONTEXTS.lines().zip(GOLDEN.lines()).collect();
    let kept: Vec<String> = (0..2_000).map(|i| engine.decide_json(pairs[i % pairs.len()].0, None).unwrap()).collect();
    for (i, d) in kept.iter().enumerate() {
        assert_eq!(d, pairs[i % pairs.len()].1);
    }
    drop(kept);
    for round in 0..200 {
        let (ctx, want) = pairs[round % pairs.len()];
        assert_eq!(engine.decide_json(ctx, None).unwrap(), want);
        assert!(engine.decide_json("{", None).is_err());
        assert!(engine.render_json("welcome", ctx).unwrap().starts_with("{\"version\":1"));
        assert!(engine.decide_json_out(ctx, None).is_ok());
        assert!(engine.render_json_out("welcome", ctx).is_ok());
        // Nothing made inside a call outlives it: the arena is whole again for the next one.
        #[cfg(feature = "arena")]
        assert_eq!(kizuna::wasm::arena_stats(), (0, 0), "a block from the arena outlived its call");
    }
}

#[wasm_bindgen_test]
fn object_api_matches_text_api() {
    let engine = Engine::new(CONFIG.into()).unwrap();
    let first = CONTEXTS.lines().next().unwrap();
    let obj = js_sys::JSON::parse(first).unwrap();
    let d = engine.decide(obj, Some(false)).unwrap();
    let text = js_sys::JSON::stringify(&d).unwrap().as_string().unwrap();
    assert_eq!(text, GOLDEN.lines().next().unwrap());
}

#[wasm_bindgen_test]
fn config_errors_reach_javascript_as_structured_values() {
    let bad = r#"{"version": 1, "segments": [{"id": "a", "when": {"equals": [1, 1]}}, {"id": "a", "whn": true}]}"#;
    let err = Engine::new(bad.into()).err().unwrap();
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(get(&err, "name").as_string().unwrap(), "KizunaError");
    let errors = js_sys::Array::from(&get(&err, "errors"));
    assert!(errors.length() >= 3, "all problems at once");
    let paths: Vec<String> = errors.iter().map(|e| get(&e, "path").as_string().unwrap()).collect();
    assert!(paths.contains(&"/segments/0/when/equals".to_string()) || paths.contains(&"/segments/0/when".to_string()), "{paths:?}");
    assert!(paths.contains(&"/segments/1/whn".to_string()), "{paths:?}");
    assert!(get(&err, "code").as_string().is_some());
}

#[wasm_bindgen_test]
fn malformed_context_is_a_structured_error_not_a_trap() {
    let engine = Engine::new(CONFIG.into()).unwrap();
    for bad in ["", "{", "[]", r#"{"now": "yesterday", "user": {"userId": "U1"}}"#, r#"{"now": "2026-11-27T10:00:00+09:00"}"#] {
        let err = engine.decide_json(bad, None).err().unwrap();
        assert!(get(&err, "code").as_string().is_some(), "{bad}");
    }
    // The instance still works after errors.
    assert!(engine.decide_json(CONTEXTS.lines().next().unwrap(), None).is_ok());
}

#[wasm_bindgen_test]
fn evaluates_bare_rules_for_playgrounds() {
    let rule = js_sys::JSON::parse(r#"{"+": [1, {"var": "a"}]}"#).unwrap();
    let data = js_sys::JSON::parse(r#"{"a": 2}"#).unwrap();
    let v = evaluate(rule, Some(data), Some("2026-11-27T10:00:00+09:00".into())).unwrap();
    assert_eq!(v.as_f64(), Some(3.0));
}

#[wasm_bindgen_test]
fn bulk_requests_batch_rich_menu_links() {
    let requests = kizuna::wasm::bulk_requests(GOLDEN.into()).unwrap();
    let list: js_sys::Array = requests.clone().dyn_into().unwrap();
    assert!(list.length() > 0);
    let first = list.get(0);
    assert_eq!(get(&first, "path").as_string().unwrap(), "/v2/bot/richmenu/bulk/link");
    let users: js_sys::Array = get(&get(&first, "body"), "userIds").dyn_into().unwrap();
    assert!(users.length() >= 1);
    // Objects work too, and a record that is not a decision is a structured error.
    let objects = js_sys::JSON::parse(&format!("[{}]", GOLDEN.lines().collect::<Vec<_>>().join(","))).unwrap();
    assert_eq!(js_sys::JSON::stringify(&kizuna::wasm::bulk_requests(objects).unwrap()).unwrap(), js_sys::JSON::stringify(&requests).unwrap());
    let err = kizuna::wasm::bulk_requests("{\"nope\": 1}".into()).unwrap_err();
    assert_eq!(get(&err, "path").as_string().unwrap(), "/0");
}

const QUIZ_PATHS: &str = include_str!("../../examples/skincare/quiz-paths.json");
const QUIZ_GOLDEN: &str = include_str!("../golden/skincare.quiz.ndjson");
/// The user of tests/quiz.rs's golden outcomes.
const QUIZ_USER: &str = r#"{"now": "2026-11-27T10:30:00+09:00", "user": {"userId": "U0123456789abcdef0123456789abcdef", "displayName": "佐藤 美咲", "tags": ["newsletter"], "attributes": {"prefecture": "東京都"}}}"#;

#[wasm_bindgen_test]
fn quiz_outcomes_are_byte_identical_to_native() {
    let engine = Engine::new(CONFIG.into()).unwrap();
    let paths = js_sys::Array::from(&js_sys::JSON::parse(QUIZ_PATHS).unwrap());
    let user = js_sys::JSON::parse(QUIZ_USER).unwrap();
    assert_eq!(paths.length() as usize, QUIZ_GOLDEN.lines().count());
    for (path, want) in paths.iter().zip(QUIZ_GOLDEN.lines()) {
        let mut state = engine.quiz_start("skin_type").unwrap();
        for step in js_sys::Array::from(&get(&path, "answers")).iter() {
            let step = js_sys::Array::from(&step);
            let q = step.get(0).as_string().unwrap();
            let question = engine.quiz_question(state.clone()).unwrap();
            assert_eq!(get(&question, "id").as_string().unwrap(), q);
            // Plain objects in and out: string answers, and arrays for the multiple choice.
            state = engine.quiz_answer(state, &q, step.get(1)).unwrap();
        }
        assert!(engine.quiz_question(state.clone()).unwrap().is_null());
        assert_eq!(get(&state, "done").as_bool(), Some(true));
        // A reload: the state comes back as JSON text from localStorage.
        let saved = js_sys::JSON::stringify(&state).unwrap();
        let out = engine.quiz_result(saved.into(), user.clone()).unwrap();
        assert_eq!(js_sys::JSON::stringify(&out).unwrap().as_string().unwrap(), want);
    }
}

#[wasm_bindgen_test]
fn quiz_errors_are_structured_and_answers_idempotent() {
    let engine = Engine::new(CONFIG.into()).unwrap();
    let start = engine.quiz_start("skin_type").unwrap();
    let code_path = |err: JsValue| {
        assert_eq!(get(&err, "name").as_string().unwrap(), "KizunaError");
        (get(&err, "code").as_string().unwrap(), get(&err, "path").as_string().unwrap())
    };
    let err = engine.quiz_answer(start.clone(), "q1", "tigt".into()).err().unwrap();
    assert_eq!(code_path(err), ("unknown_choice".to_string(), "/answers/q1".to_string()));
    let err = engine.quiz_answer(start.clone(), "q1", JsValue::from(3)).err().unwrap();
    assert_eq!(code_path(err), ("invalid_answer".to_string(), "/answers/q1".to_string()));
    let err = engine.quiz_answer(start.clone(), "q5", "yes".into()).err().unwrap();
    assert_eq!(code_path(err).0, "question_not_current");
    assert_eq!(code_path(engine.quiz_start("nope").err().unwrap()).0, "unknown_quiz");
    assert_eq!(code_path(engine.quiz_question("{}".into()).err().unwrap()).0, "invalid_value");
    let err = engine.quiz_result(start.clone(), js_sys::JSON::parse(QUIZ_USER).unwrap()).err().unwrap();
    assert_eq!(code_path(err).0, "quiz_not_finished");
    let once = engine.quiz_answer(start, "q1", "fine".into()).unwrap();
    let twice = engine.quiz_answer(once.clone(), "q1", "fine".into()).unwrap();
    assert_eq!(js_sys::JSON::stringify(&once).unwrap(), js_sys::JSON::stringify(&twice).unwrap());
}
