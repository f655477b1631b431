// Shared by tests/wasm_node.rs and tests/wasm_browser.rs (included, not a test crate of its own):
// the same decisions, byte for byte, as natively (tests/golden), and structured errors.
use kizuna::wasm::{evaluate, Engine};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const CONFIG: &str = include_str!("../../examples/skincare/config.json");
const CONTEXTS: &str = include_str!("../../examples/skincare/contexts.ndjson");
const GOLDEN: &str = include_str!("../golden/skincare.decisions.ndjson");

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
    let v = evaluate(rule, data, Some("2026-11-27T10:00:00+09:00".into())).unwrap();
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
