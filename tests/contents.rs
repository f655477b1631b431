//! Contents: variants per lifecycle stage, the A/B split (flagd fractional), LINE limits,
//! template errors with their place, and the two truthiness rules.

use kizuna::{Code, DecideOptions, Engine};
use serde_json::{json, Value};

const CONFIG: &str = include_str!("../examples/skincare/config.json");
const CONTEXTS: &str = include_str!("../examples/skincare/contexts.ndjson");
const NOW: &str = "2026-11-27T10:30:00+09:00";

fn welcome(engine: &Engine, context: &str) -> (String, Vec<Value>) {
    let d = engine.render("welcome", context, DecideOptions::default()).unwrap();
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    let c = d.content.expect("a variant applies");
    (c.variant, d.messages.into_iter().map(|m| serde_json::to_value(m).unwrap()).collect())
}

#[test]
fn each_lifecycle_stage_gets_its_personalized_message() {
    let e = Engine::compile(CONFIG).unwrap();
    let lines: Vec<&str> = CONTEXTS.lines().collect();
    let (v, m) = welcome(&e, lines[4]);
    assert_eq!(v, "dormant");
    assert_eq!(m[0]["text"], "伊藤 さくら様、お久しぶりです！前回のご購入（6月30日）からしばらく経ちましたね。\n今だけ使える再開クーポン ¥1,000 OFF をお送りします。");
    let (v, m) = welcome(&e, lines[3]);
    assert_eq!(v, "loyal");
    assert_eq!(m[0]["type"], "flex");
    assert_eq!(m[0]["altText"], "田中 恵様へ ロイヤル会員特典のご案内");
    assert_eq!(m[0]["contents"]["body"]["contents"][2]["text"], "これまでのご購入: 6回 / 累計¥40,800");
    assert_eq!(m[0]["contents"]["footer"]["contents"][0]["action"]["uri"], format!("https://shop.example.jp/loyal?uid={}", lines[3].split("\"userId\": \"").nth(1).unwrap().split('"').next().unwrap()));
    let (v, m) = welcome(&e, lines[2]);
    assert_eq!(v, "repeat");
    assert!(m[0]["text"].as_str().unwrap().contains("3回目のご購入"));
    assert!(m[0]["text"].as_str().unwrap().contains("詰め替え用は送料無料"), "refill due ⇒ refill line");
    assert_eq!(m[0]["quickReply"]["items"].as_array().unwrap().len(), 2);
    let (v, m) = welcome(&e, lines[1]);
    assert_eq!(v, "first_time");
    assert_eq!(m[0]["text"], "鈴木 花子様、初めてのご購入ありがとうございます！LT-120の使い方ガイドをお届けします。\n乾燥肌の方は朝晩2回のご使用がおすすめです。");
    let (v, _) = welcome(&e, lines[5]);
    assert_eq!(v, "opted_out");
    // A follow event picks the content by itself.
    let d = e.decide(lines[0], DecideOptions::default()).unwrap();
    assert_eq!(d.content.unwrap().id, "welcome");
    assert!(!d.messages.is_empty());
}

#[test]
fn missing_display_name_falls_back_to_okyakusama() {
    let e = Engine::compile(CONFIG).unwrap();
    for name in [json!(null), json!("")] {
        let ctx = json!({"now": NOW, "user": {"userId": "Uabc", "displayName": name, "purchases": [{"sku": "TR-01", "amount": 980, "at": "2026-11-20T10:00:00+09:00"}]}});
        let (_, m) = welcome(&e, &ctx.to_string());
        assert!(m[0]["text"].as_str().unwrap().starts_with("お客様、"), "{m:?}");
    }
}

#[test]
fn experiment_assignment_is_flagd_fractional_and_roughly_even() {
    let e = Engine::compile(CONFIG).unwrap();
    let mut counts = [0usize; 2];
    for i in 0..2000 {
        let user_id = format!("U{i:032x}");
        let ctx = json!({"now": NOW, "user": {"userId": user_id}}).to_string();
        let d = e.render("welcome", &ctx, DecideOptions::default()).unwrap();
        let c = d.content.unwrap();
        assert_eq!(c.experiment.as_deref(), Some("welcome_offer_2026_11"));
        // Any flagd implementation reproduces the assignment from experiment id + userId.
        let rule = json!({"fractional": [{"cat": ["welcome_offer_2026_11", {"var": "user.userId"}]}, ["coupon_10", 50], ["free_sample", 50]]});
        let flagd = kizuna::engine::evaluate(&rule.to_string(), &ctx, NOW).unwrap();
        assert_eq!(flagd, format!("\"{}\"", c.variant));
        counts[usize::from(c.variant == "free_sample")] += 1;
        // Deterministic.
        assert_eq!(e.render("welcome", &ctx, DecideOptions::default()).unwrap().content.unwrap().variant, c.variant);
    }
    assert!(counts.iter().all(|&n| (900..=1100).contains(&n)), "{counts:?}");
    // Users outside the experiment's audience are not assigned.
    let buyer = json!({"now": NOW, "user": {"userId": "U1", "purchases": [{"sku": "X", "amount": 1, "at": "2026-11-01"}]}});
    let c = e.render("welcome", &buyer.to_string(), DecideOptions::default()).unwrap().content.unwrap();
    assert_eq!((c.variant.as_str(), c.experiment), ("first_time", None));
}

#[test]
fn each_arm_carries_its_line_aggregation_unit_for_the_push() {
    let e = Engine::compile(CONFIG).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..40 {
        let ctx = json!({"now": NOW, "user": {"userId": format!("U{i:032x}")}}).to_string();
        let c = e.render("welcome", &ctx, DecideOptions::default()).unwrap().content.unwrap();
        let unit = c.aggregation_unit.expect("each arm of the welcome test has a unit");
        assert_eq!(unit, if c.variant == "coupon_10" { "welcome_2611_coupon10" } else { "welcome_2611_sample" });
        seen.insert(unit);
    }
    assert_eq!(seen.len(), 2, "both arms assigned among 40 users");
    // In the decision's JSON, as `content.aggregationUnit`; a variant without one has none.
    let ctx = json!({"now": NOW, "user": {"userId": "U1", "purchases": [{"sku": "X", "amount": 1, "at": "2026-11-01"}]}}).to_string();
    let json: Value = serde_json::from_str(&e.render_to_string("welcome", &ctx, DecideOptions::default()).unwrap()).unwrap();
    assert_eq!(json["content"], json!({"id": "welcome", "variant": "first_time"}));
    let json: Value = serde_json::from_str(&e.render_to_string("recommendations", &ctx, DecideOptions::default()).unwrap()).unwrap();
    assert_eq!(json["content"], json!({"id": "recommendations", "variant": "bestsellers", "aggregationUnit": "reco_bestsellers"}));
}

#[test]
fn aggregation_units_line_would_refuse_or_that_mix_arms_are_errors() {
    let text = json!([{"type": "text", "text": "a"}]);
    let errors = Engine::from_json(&json!({"version": 1, "contents": [
        {"id": "a", "variants": [
            {"id": "long", "aggregationUnit": "a_unit_name_of_thirty_one_chars", "messages": text},
            {"id": "dash", "aggregationUnit": "spring-sale", "messages": text},
            {"id": "empty", "aggregationUnit": "", "messages": text},
            {"id": "kana", "aggregationUnit": "春セール", "messages": text},
            {"id": "number", "aggregationUnit": 7, "messages": text}
        ]},
        {"id": "b", "experiment": {"id": "e"}, "variants": [
            {"id": "intro", "aggregationUnit": "spring", "messages": text},
            {"id": "x", "weight": 1, "aggregationUnit": "spring", "messages": text},
            {"id": "y", "weight": 1, "aggregationUnit": "spring", "messages": text},
            {"id": "z", "weight": 1, "aggregationUnit": "spring_z", "messages": text}
        ]}
    ]}))
    .unwrap_err();
    let got: Vec<(Code, &str)> = errors.iter().map(|e| (e.code, e.path.as_str())).collect();
    assert_eq!(got, [
        (Code::InvalidValue, "/contents/0/variants/0/aggregationUnit"),
        (Code::InvalidValue, "/contents/0/variants/1/aggregationUnit"),
        (Code::InvalidValue, "/contents/0/variants/2/aggregationUnit"),
        (Code::InvalidValue, "/contents/0/variants/3/aggregationUnit"),
        (Code::InvalidValue, "/contents/0/variants/4/aggregationUnit"),
        // "intro" is no arm: its users would be counted as arm "x"'s.
        (Code::InvalidValue, "/contents/1/variants/1/aggregationUnit"),
        (Code::InvalidValue, "/contents/1/variants/2/aggregationUnit"),
    ]);
    assert!(errors[1].message.contains("1 to 30 letters") && errors[1].message.contains("\"spring-sale\""), "{}", errors[1].message);
    // One character too many is hard to see: the message counts them.
    assert!(errors[0].message.ends_with("found \"a_unit_name_of_thirty_one_chars\" (31 characters)"), "{}", errors[0].message);
    assert!(errors[1].message.ends_with("found \"spring-sale\""), "{}", errors[1].message);
    assert!(errors[5].message.contains("variant \"intro\" is not an arm of the experiment but uses aggregation unit \"spring\" of arm \"x\""), "{}", errors[5].message);
    assert!(errors[6].message.contains("\"x\" and \"y\""), "{}", errors[6].message);
    // Exactly 30 characters is LINE's longest name.
    let ok = json!({"version": 1, "contents": [{"id": "a", "variants": [{"id": "v", "aggregationUnit": "A_unit_name_of_30_characters_x", "messages": text}]}]});
    assert!(Engine::from_json(&ok).is_ok());
}

#[test]
fn a_variant_outside_the_experiment_may_not_share_an_arms_unit() {
    // FitLine's re-activation push: VIP members get their own message before the test, and
    // members outside the test ("when") a default after it. Either under an arm's unit would
    // put users who were never assigned into that arm's opens and taps.
    let text = json!([{"type": "text", "text": "a"}]);
    let config = |vip: &str, default: &str| json!({"version": 1, "contents": [{"id": "reactivation",
        "experiment": {"id": "fit_react_2612", "when": {"has_tag": "dormant"}},
        "variants": [
            {"id": "vip", "when": {"has_tag": "vip"}, "aggregationUnit": vip, "messages": text},
            {"id": "free_week", "weight": 45, "aggregationUnit": "fit_re_week", "messages": text},
            {"id": "pt_free", "weight": 45, "aggregationUnit": "fit_re_pt", "messages": text},
            {"id": "control", "weight": 10, "aggregationUnit": "fit_re_ctrl", "messages": text},
            {"id": "default", "aggregationUnit": default, "messages": text}
        ]}]});
    let errors = Engine::from_json(&config("fit_re_week", "fit_re_ctrl")).unwrap_err();
    let got: Vec<(Code, &str, &str)> = errors.iter().map(|e| (e.code, e.path.as_str(), e.message.as_str())).collect();
    assert_eq!(got, [
        (Code::InvalidValue, "/contents/0/variants/1/aggregationUnit", "variant \"vip\" is not an arm of the experiment but uses aggregation unit \"fit_re_week\" of arm \"free_week\": LINE would count its pushes in the arm's figures; give \"vip\" a unit of its own, or none"),
        (Code::InvalidValue, "/contents/0/variants/4/aggregationUnit", "variant \"default\" is not an arm of the experiment but uses aggregation unit \"fit_re_ctrl\" of arm \"control\": LINE would count its pushes in the arm's figures; give \"default\" a unit of its own, or none"),
    ]);
    // Variants outside the test may share a unit among themselves (one figure for both), and
    // a unit differing only in case is another unit (LINE's names are case-sensitive).
    assert!(Engine::from_json(&config("fit_re_other", "fit_re_other")).is_ok());
    assert!(Engine::from_json(&config("FIT_RE_WEEK", "fit_re_other")).is_ok());
}

#[test]
fn kizuna_check_warns_of_arms_line_cannot_compare() {
    let text = json!([{"type": "text", "text": "a"}]);
    let arm = |id: &str, weight: u32, unit: Option<&str>| {
        let mut v = json!({"id": id, "weight": weight, "messages": text});
        if let Some(u) = unit {
            v["aggregationUnit"] = json!(u);
        }
        v
    };
    let warnings = |contents: Value| -> Vec<(String, String, String)> {
        let e = Engine::from_json(&json!({"version": 1, "contents": contents})).unwrap();
        e.warnings().into_iter().map(|w| (w.code.as_str().to_string(), w.path, w.message)).collect()
    };
    // FitLine's re-activation test: a plain-message control arm left without a unit gets no
    // opens or taps from LINE, so the two offers have no baseline. A paused arm (weight 0)
    // sends nothing and needs none.
    let got = warnings(json!([{"id": "reactivation", "experiment": {"id": "fit_react_2612"}, "variants": [
        arm("free_week", 45, Some("fit_re_week")), arm("pt_free", 45, Some("fit_re_pt")), arm("control", 10, None), arm("paused", 0, None)
    ]}]));
    assert_eq!(got, [(
        "unmeasured_arm".to_string(),
        "/contents/0/variants/2".to_string(),
        "arm \"control\" of experiment \"fit_react_2612\" has no \"aggregationUnit\", but arms \"free_week\", \"pt_free\" do: LINE counts no opens or URL taps of its pushes, so theirs have nothing to be compared with; give it a unit of its own".to_string(),
    )]);
    // No arm with a unit (the test is measured by conversions alone), or all with one: nothing.
    assert_eq!(warnings(json!([{"id": "c", "experiment": {"id": "e"}, "variants": [arm("a", 1, None), arm("b", 1, None)]}])), []);
    assert_eq!(warnings(json!([{"id": "c", "experiment": {"id": "e"}, "variants": [arm("a", 1, Some("e_a")), arm("b", 1, Some("e_b"))]}])), []);

    // An arm's unit used by another content: LINE counts both together.
    let got = warnings(json!([
        {"id": "welcome", "experiment": {"id": "fit_wel_2612"}, "variants": [arm("a", 1, Some("fit_2612_a")), arm("b", 1, Some("fit_2612_b"))]},
        {"id": "reactivation", "experiment": {"id": "fit_react_2612"}, "variants": [arm("a", 1, Some("fit_2612_a")), arm("b", 1, Some("fit_react_b"))]},
        {"id": "birthday", "variants": [{"id": "v", "aggregationUnit": "fit_2612_b", "messages": text}]},
        // The same arm of the same experiment in a follow-up content is meant to add up.
        {"id": "welcome_day3", "experiment": {"id": "fit_wel_2612"}, "variants": [arm("a", 1, Some("fit_2612_a")), arm("b", 1, Some("fit_2612_b"))]},
        // Variants outside any test may share a unit across contents.
        {"id": "news_1", "variants": [{"id": "v", "aggregationUnit": "fit_news", "messages": text}]},
        {"id": "news_2", "variants": [{"id": "v", "aggregationUnit": "fit_news", "messages": text}]}
    ]));
    assert_eq!(got[0].2, "aggregation unit \"fit_2612_a\" is also used by content \"welcome\" (arm \"a\" of experiment \"fit_wel_2612\"): LINE counts the pushes of both in one unit, so an arm's figures would take in users outside its test; give each its own unit");
    assert!(got[1].2.starts_with("aggregation unit \"fit_2612_b\" is also used by content \"welcome\" (arm \"b\" of"), "{}", got[1].2);
    assert!(got[3].2.starts_with("aggregation unit \"fit_2612_b\" is also used by content \"birthday\" (variant \"v\")"), "{}", got[3].2);
    let got: Vec<(&str, &str)> = got.iter().map(|(c, p, _)| (c.as_str(), p.as_str())).collect();
    assert_eq!(got, [
        ("shared_aggregation_unit", "/contents/1/variants/0/aggregationUnit"),
        ("shared_aggregation_unit", "/contents/2/variants/0/aggregationUnit"),
        // Arms "a" and "b" of welcome_day3 add up with welcome's, but reactivation's arm "a"
        // and the birthday message use their units too.
        ("shared_aggregation_unit", "/contents/3/variants/0/aggregationUnit"),
        ("shared_aggregation_unit", "/contents/3/variants/1/aggregationUnit"),
    ]);
}

#[test]
fn an_experiment_written_wrong_is_one_error_not_also_a_missing_experiment() {
    let text = json!([{"type": "text", "text": "a"}]);
    let content = |experiment: Value| {
        let mut c = json!({"id": "reactivation", "variants": [
            {"id": "free_week", "weight": 50, "messages": text}, {"id": "pt_free", "weight": 50, "messages": text}]});
        if !experiment.is_null() {
            c["experiment"] = experiment;
        }
        json!({"version": 1, "contents": [c]})
    };
    let problems = |config: Value| -> Vec<(Code, String, String)> {
        Engine::from_json(&config).unwrap_err().into_iter().map(|e| (e.code, e.path, e.message)).collect()
    };
    // Written as a string, or without its id: that is the one problem, at the experiment.
    assert_eq!(problems(content(json!("fit_react_2612"))), [(Code::InvalidValue, "/contents/0/experiment".to_string(), "an experiment must be a JSON object, found a string".to_string())]);
    let got = problems(content(json!({"when": true})));
    assert_eq!(got.iter().map(|(c, p, _)| (*c, p.as_str())).collect::<Vec<_>>(), [(Code::MissingField, "/contents/0/experiment")]);
    // Weights with no experiment at all still say so.
    let got = problems(content(Value::Null));
    assert_eq!(got, [(Code::MissingField, "/contents/0".to_string(), "variants have a \"weight\" but the content has no \"experiment\"".to_string())]);
}

#[test]
fn a_weight_that_is_no_whole_number_is_shown_in_its_error() {
    // 100 / 3 typed as 33.3: flagd takes whole-number weights (proportions: 1, 1, 1 split in thirds).
    let text = json!([{"type": "text", "text": "a"}]);
    let config = |w: Value| json!({"version": 1, "contents": [{"id": "c", "experiment": {"id": "e"}, "variants": [
        {"id": "a", "weight": w, "messages": text}, {"id": "b", "weight": 1, "messages": text}]}]});
    let message = |w: Value| Engine::from_json(&config(w)).unwrap_err().into_iter().map(|e| (e.path, e.message)).collect::<Vec<_>>();
    assert_eq!(message(json!(33.3)), [("/contents/0/variants/0/weight".to_string(), "\"weight\" must be an integer, found 33.3".to_string())]);
    assert_eq!(message(json!("50")), [("/contents/0/variants/0/weight".to_string(), "\"weight\" must be an integer, found a string".to_string())]);
}

fn first_text(d: &kizuna::Decision) -> String {
    let m: Value = serde_json::from_str(d.messages[0].get()).unwrap();
    m["text"].as_str().unwrap().to_string()
}

fn content_config(messages: Value) -> Value {
    json!({"version": 1, "segments": [], "contents": [{"id": "c", "variants": [{"id": "v", "messages": messages}]}]})
}

fn render_err(config: Value, user: Value) -> kizuna::Error {
    let e = Engine::from_json(&config).unwrap();
    let d = e.render("c", &json!({"now": NOW, "user": user}).to_string(), DecideOptions::default()).unwrap();
    assert!(d.messages.is_empty(), "nothing is sent when a limit is hit");
    // The decision still says which variant the user got (an A/B arm stays measurable).
    assert_eq!(d.content.as_ref().map(|c| (c.id.as_str(), c.variant.as_str())), Some(("c", "v")));
    d.errors.into_iter().next().expect("an error")
}

#[test]
fn line_limits_are_errors_that_name_content_variant_and_path() {
    let long = render_err(content_config(json!([{"type": "text", "text": "{{ user.attributes.bio }}"}])), json!({"userId": "U1", "attributes": {"bio": "あ".repeat(5001)}}));
    assert_eq!((long.code, long.path.as_str()), (Code::LimitExceeded, "/contents/0/variants/0/messages/0/text"));
    assert!(long.message.contains("content \"c\", variant \"v\"") && long.message.contains("5001"), "{}", long.message);
    let exactly = Engine::from_json(&content_config(json!([{"type": "text", "text": "{{ user.attributes.bio }}"}]))).unwrap();
    let ok = exactly.render("c", &json!({"now": NOW, "user": {"userId": "U1", "attributes": {"bio": "あ".repeat(5000)}}}).to_string(), DecideOptions::default()).unwrap();
    assert_eq!(ok.messages.len(), 1, "5,000 characters is allowed");

    let alt = render_err(
        content_config(json!([{"type": "flex", "altText": "{{ user.attributes.bio }}", "contents": {"type": "bubble"}}])),
        json!({"userId": "U1", "attributes": {"bio": "x".repeat(1501)}}),
    );
    assert_eq!(alt.path, "/contents/0/variants/0/messages/0/altText");

    let big_bubble = render_err(
        content_config(json!([{"type": "flex", "altText": "a", "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "{{ user.attributes.bio }}"}]}}}])),
        json!({"userId": "U1", "attributes": {"bio": "x".repeat(31_000)}}),
    );
    assert_eq!((big_bubble.code, big_bubble.path.as_str()), (Code::LimitExceeded, "/contents/0/variants/0/messages/0/contents"));

    // Static limits are compile errors.
    let six = Engine::from_json(&content_config(json!(vec![json!({"type": "text", "text": "hi"}); 6]))).unwrap_err();
    assert!(six.iter().any(|e| e.code == Code::LimitExceeded && e.path == "/contents/0/variants/0/messages"), "{six:?}");
    let items: Vec<Value> = (0..14).map(|i| json!({"type": "action", "action": {"type": "message", "label": i.to_string(), "text": "x"}})).collect();
    let qr = Engine::from_json(&content_config(json!([{"type": "text", "text": "hi", "quickReply": {"items": items}}]))).unwrap_err();
    assert!(qr.iter().any(|e| e.path == "/contents/0/variants/0/messages/0/quickReply/items"), "{qr:?}");
    assert_eq!(qr.len(), 1, "one problem, reported once: {qr:?}");
    let bubbles: Vec<Value> = (0..13).map(|_| json!({"type": "bubble"})).collect();
    let carousel = Engine::from_json(&content_config(json!([{"type": "flex", "altText": "a", "contents": {"type": "carousel", "contents": bubbles}}]))).unwrap_err();
    assert!(carousel.iter().any(|e| e.path == "/contents/0/variants/0/messages/0/contents/contents"), "{carousel:?}");
    assert_eq!(carousel.len(), 1, "one problem, reported once: {carousel:?}");
    let bad_type = Engine::from_json(&content_config(json!([{"type": "txt", "text": "hi"}]))).unwrap_err();
    assert_eq!(bad_type[0].path, "/contents/0/variants/0/messages/0/type");
}

/// What LINE refuses at send time (after a reply token is spent) is an error here: an empty
/// text or altText, a text that is not a string, flex contents that are neither a bubble nor a
/// carousel, a template message's altText over 400 characters.
#[test]
fn messages_line_would_refuse_are_errors() {
    let empty = render_err(content_config(json!([{"type": "text", "text": "{{ user.attributes.nickname }}"}])), json!({"userId": "U1"}));
    assert_eq!((empty.code, empty.path.as_str()), (Code::LimitExceeded, "/contents/0/variants/0/messages/0/text"));
    assert!(empty.message.contains("empty"), "{}", empty.message);
    let alt = render_err(content_config(json!([{"type": "flex", "altText": "{{ user.attributes.nickname }}", "contents": {"type": "bubble"}}])), json!({"userId": "U1"}));
    assert_eq!(alt.path, "/contents/0/variants/0/messages/0/altText");

    let static_empty = Engine::from_json(&content_config(json!([{"type": "text", "text": ""}]))).unwrap_err();
    assert_eq!((static_empty[0].code, static_empty[0].path.as_str()), (Code::LimitExceeded, "/contents/0/variants/0/messages/0/text"));
    let number = Engine::from_json(&content_config(json!([{"type": "text", "text": 123}]))).unwrap_err();
    assert_eq!((number[0].code, number[0].path.as_str()), (Code::InvalidValue, "/contents/0/variants/0/messages/0/text"));
    let typo = Engine::from_json(&content_config(json!([{"type": "flex", "altText": "a", "contents": {"type": "bubbel"}}]))).unwrap_err();
    assert_eq!((typo[0].code, typo[0].path.as_str()), (Code::InvalidValue, "/contents/0/variants/0/messages/0/contents/type"));
    let template = |alt: String| json!([{"type": "template", "altText": alt, "template": {"type": "confirm", "text": "ok?", "actions": [
        {"type": "message", "label": "yes", "text": "yes"}, {"type": "message", "label": "no", "text": "no"}]}}]);
    let long = Engine::from_json(&content_config(template("x".repeat(401)))).unwrap_err();
    assert_eq!((long[0].code, long[0].path.as_str()), (Code::LimitExceeded, "/contents/0/variants/0/messages/0/altText"));
    assert!(Engine::from_json(&content_config(template("x".repeat(400)))).is_ok());

    // A quick-reply button's label: 1–20 characters, written or rendered.
    let button = |label: &str| json!([{"type": "text", "text": "どれにしますか？", "quickReply": {"items": [
        {"type": "action", "action": {"type": "message", "label": "はい", "text": "はい"}},
        {"type": "action", "action": {"type": "message", "label": label, "text": "商品"}}]}}]);
    let label = "/contents/0/variants/0/messages/0/quickReply/items/1/action/label";
    let long = Engine::from_json(&content_config(button("薬用美白ローション詰め替え用お徳用サイズ3本"))).unwrap_err();
    assert_eq!((long[0].code, long[0].path.as_str()), (Code::LimitExceeded, label));
    let rendered = render_err(content_config(button("{{ user.attributes.item }}")), json!({"userId": "U1", "attributes": {"item": "あ".repeat(21)}}));
    assert_eq!((rendered.code, rendered.path.as_str()), (Code::LimitExceeded, label));
    // A literal altText in a message with templates elsewhere is checked too.
    let flex = json!([{"type": "flex", "altText": "", "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "{{ user.displayName }}"}]}}}]);
    let empty_alt = Engine::from_json(&content_config(flex)).unwrap_err();
    assert_eq!(empty_alt[0].path, "/contents/0/variants/0/messages/0/altText");
}

/// Action labels, postback data, URIs and template texts: the limits LINE puts on each place,
/// counted the way LINE counts them (labels and template texts in grapheme clusters).
#[test]
fn action_and_template_strings_are_held_to_lines_limits() {
    let m = "/contents/0/variants/0/messages/0";
    let errs = |messages: Value| Engine::from_json(&content_config(messages)).err().unwrap_or_default();
    let paths = |messages: Value| errs(messages).iter().map(|e| (e.code, e.path.clone())).collect::<Vec<_>>();
    let buttons = |title: Option<&str>, text: &str, action: Value| {
        let mut t = json!({"type": "buttons", "text": text, "actions": [action]});
        if let Some(title) = title {
            t["title"] = json!(title);
        }
        json!([{"type": "template", "altText": "お知らせ", "template": t}])
    };
    let message = |label: &str| json!({"type": "message", "label": label, "text": "はい"});
    // Buttons text: 160 characters, 60 with a title or an image.
    assert!(errs(buttons(None, &"あ".repeat(160), message("はい"))).is_empty());
    assert_eq!(paths(buttons(Some("春の新作"), &"あ".repeat(61), message("はい"))), [(Code::LimitExceeded, format!("{m}/template/text"))]);
    assert_eq!(paths(buttons(Some(&"春".repeat(41)), "x", message("はい"))), [(Code::LimitExceeded, format!("{m}/template/title"))]);
    // A template button's label: 20; its postback data: 300; a URI: 10,000 (1,000 until LINE's
    // news of 2026-10-27).
    assert_eq!(paths(buttons(None, "x", message(&"a".repeat(21)))), [(Code::LimitExceeded, format!("{m}/template/actions/0/label"))]);
    let postback = json!({"type": "postback", "label": "購入", "data": "x".repeat(301), "displayText": "購入します"});
    assert_eq!(paths(buttons(None, "x", postback)), [(Code::LimitExceeded, format!("{m}/template/actions/0/data"))]);
    let uri = |n: usize| json!({"type": "uri", "label": "見る", "uri": format!("https://example.com/{}", "a".repeat(n))});
    assert!(errs(buttons(None, "x", uri(9_980))).is_empty());
    assert_eq!(paths(buttons(None, "x", uri(9_990))), [(Code::LimitExceeded, format!("{m}/template/actions/0/uri"))]);
    // Labels count grapheme clusters: 20 waving hands with a skin tone are 20, not 80.
    assert!(errs(buttons(None, "x", message(&"👋🏻".repeat(20)))).is_empty());
    assert_eq!(paths(buttons(None, "x", message(&"👋🏻".repeat(21)))).len(), 1);
    // An image carousel's label: 12; a flex button's: 40.
    let carousel = |label: &str| json!([{"type": "template", "altText": "a", "template": {"type": "image_carousel", "columns": [
        {"imageUrl": "https://example.com/a.jpg", "action": {"type": "uri", "label": label, "uri": "https://example.com"}}]}}]);
    assert!(errs(carousel(&"あ".repeat(12))).is_empty());
    assert_eq!(paths(carousel(&"あ".repeat(13))), [(Code::LimitExceeded, format!("{m}/template/columns/0/action/label"))]);
    let flex = |label: &str| json!([{"type": "flex", "altText": "a", "contents": {"type": "bubble", "footer": {"type": "box", "layout": "vertical", "contents": [
        {"type": "button", "action": {"type": "uri", "label": label, "uri": "https://example.com"}}]}}}]);
    assert!(errs(flex(&"あ".repeat(40))).is_empty());
    assert_eq!(paths(flex(&"あ".repeat(41))), [(Code::LimitExceeded, format!("{m}/contents/footer/contents/0/action/label"))]);
    // Rendered: a label from a template is checked after rendering.
    let rendered = render_err(content_config(buttons(None, "x", message("{{ user.attributes.item }}を買う"))), json!({"userId": "U1", "attributes": {"item": "薬用美白ローション詰め替え用お徳用サイズ"}}));
    assert_eq!((rendered.code, rendered.path.as_str()), (Code::LimitExceeded, format!("{m}/template/actions/0/label").as_str()));
    assert!(rendered.message.contains("after rendering"), "{}", rendered.message);
}

/// Every problem of a content at once, not the first one only.
#[test]
fn every_render_problem_of_a_content_is_reported() {
    let config = content_config(json!([
        {"type": "text", "text": "{{ user.attributes.bio }}"},
        {"type": "flex", "altText": "{{ user.attributes.bio | slice: 0, 1501 }}", "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [
            {"type": "text", "text": "{{ 1 | divided_by: 0 }}"}]}}}
    ]));
    let e = Engine::from_json(&config).unwrap();
    let ctx = json!({"now": NOW, "user": {"userId": "U1", "attributes": {"bio": "あ".repeat(6000)}}}).to_string();
    let d = e.render("c", &ctx, DecideOptions::default()).unwrap();
    let paths: Vec<&str> = d.errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, [
        "/contents/0/variants/0/messages/0/text",
        "/contents/0/variants/0/messages/1/altText",
        "/contents/0/variants/0/messages/1/contents/body/contents/0/text",
    ]);
    assert!(d.messages.is_empty() && d.content.is_some(), "nothing half-rendered is sent; the variant chosen is kept");
}

/// A typo in `on` would compile and then never answer.
#[test]
fn on_lists_line_webhook_event_types() {
    let mut config = content_config(json!([{"type": "text", "text": "hi"}]));
    config["contents"][0]["on"] = json!(["follow", "folow", "quiz"]);
    let errors = Engine::from_json(&config).unwrap_err();
    assert_eq!((errors[0].code, errors[0].path.as_str()), (Code::InvalidValue, "/contents/0/on/1"));
    assert!(errors[0].message.contains("did you mean \"follow\""), "{}", errors[0].message);
    assert_eq!(errors.len(), 1, "{errors:?}");
}

#[test]
fn template_errors_carry_line_column_and_the_pointer_of_the_template() {
    let errors = Engine::from_json(&content_config(json!([{"type": "text", "text": "こんにちは\n{{ user.displayName | upcase | nope }}"}]))).unwrap_err();
    let e = &errors[0];
    assert_eq!(e.path, "/contents/0/variants/0/messages/0/text");
    assert_eq!((e.code, e.line), (Code::UnknownFilter, Some(2)));
    assert!(e.column.is_some());
    let flex = Engine::from_json(&content_config(json!([{"type": "flex", "altText": "ok", "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "{% if %}"}]}}}]))).unwrap_err();
    assert_eq!(flex[0].path, "/contents/0/variants/0/messages/0/contents/body/contents/0/text");
    assert_eq!(flex[0].code, Code::TemplateSyntax);
}

#[test]
fn a_runaway_template_fails_fast_instead_of_hanging() {
    let e = render_err(content_config(json!([{"type": "text", "text": "{% for i in (1..100000000) %}{% for j in (1..100000000) %}x{% endfor %}{% endfor %}"}])), json!({"userId": "U1"}));
    assert_eq!(e.code, Code::LimitExceeded);
    assert_eq!(e.path, "/contents/0/variants/0/messages/0/text");
    // Inside a flex bubble, the error points at the failing string.
    let loop_text = "{% for i in (1..100000000) %}x{% endfor %}";
    let nested = render_err(
        content_config(json!([{"type": "flex", "altText": "a", "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "ok"}, {"type": "text", "text": loop_text}]}}}])),
        json!({"userId": "U1"}),
    );
    assert_eq!((nested.code, nested.path.as_str()), (Code::LimitExceeded, "/contents/0/variants/0/messages/0/contents/body/contents/1/text"));
    assert!(nested.message.starts_with("content \"c\", variant \"v\": "), "{}", nested.message);
}

#[test]
fn liquid_and_jsonlogic_judge_the_same_values_differently() {
    // 0, "" and [] are falsy in JsonLogic but truthy in Liquid (only nil and false are falsy).
    let config = json!({"version": 1, "segments": [{"id": "has_points", "when": {"var": "user.attributes.points"}}],
        "contents": [{"id": "c", "variants": [{"id": "v", "messages": [{"type": "text", "text": "{% if user.attributes.points %}liquid: truthy{% else %}liquid: falsy{% endif %}"}]}]}]});
    let e = Engine::from_json(&config).unwrap();
    for (points, logic_truthy) in [(json!(0), false), (json!(""), false), (json!([]), false), (json!(5), true)] {
        let d = e.render("c", &json!({"now": NOW, "user": {"userId": "U1", "attributes": {"points": points}}}).to_string(), DecideOptions::default()).unwrap();
        assert_eq!(d.segments.contains(&"has_points".to_string()), logic_truthy, "JsonLogic on {points}");
        assert_eq!(first_text(&d), "liquid: truthy", "Liquid on {points}");
    }
    let d = e.render("c", &json!({"now": NOW, "user": {"userId": "U1", "attributes": {"points": null}}}).to_string(), DecideOptions::default()).unwrap();
    assert_eq!(first_text(&d), "liquid: falsy");
    for v in [json!(0), json!(""), json!([])] {
        let v = kizuna::value::Value::from_serde(&v);
        assert!(!kizuna::logic::truthy(&v) && kizuna::template::truthy(&v));
    }
}

#[test]
fn content_config_mistakes_are_reported_with_paths() {
    let errors = Engine::from_json(&json!({"version": 1, "contents": [
        {"id": "a", "variants": [{"id": "x", "weight": 50, "messages": [{"type": "text", "text": "a"}]}]},
        {"id": "b", "experiment": {"id": "e"}, "variants": [{"id": "y", "messages": [{"type": "text", "text": "b"}]}]},
        {"id": "c", "variants": [{"id": "z", "when": {"in_segment": "nope"}, "messages": []}]},
        {"id": "c", "variants": []},
        // An arm's own condition would not be flagd's split; nor would weights over its limit.
        {"id": "d", "experiment": {"id": "e2"}, "variants": [
            {"id": "vip", "weight": 50, "when": {"in": ["vip", {"var": "user.tags"}]}, "messages": [{"type": "text", "text": "VIP"}]},
            {"id": "b", "weight": 2_147_483_600_u32, "messages": [{"type": "text", "text": "b"}]}
        ]}
    ]}))
    .unwrap_err();
    let got: Vec<(Code, &str)> = errors.iter().map(|e| (e.code, e.path.as_str())).collect();
    for want in [
        (Code::InvalidValue, "/contents/4/variants/0/when"),
        (Code::InvalidValue, "/contents/4/variants"),
        (Code::MissingField, "/contents/0"),
        (Code::InvalidValue, "/contents/1/experiment"),
        (Code::UnknownSegment, "/contents/2/variants/0/when/in_segment"),
        (Code::MissingField, "/contents/2/variants/0"),
        (Code::DuplicateId, "/contents/3"),
    ] {
        assert!(got.contains(&want), "missing {want:?} in {got:?}");
    }
}

#[test]
fn an_unblocked_non_purchaser_is_welcomed_back_without_the_coupon() {
    let e = Engine::compile(CONFIG).unwrap();
    let first = CONTEXTS.lines().next().unwrap();
    let mut ctx: Value = serde_json::from_str(first).unwrap();
    assert_eq!(ctx["event"]["type"], "follow");
    ctx["event"]["follow"] = json!({"isUnblocked": true});
    let d = e.decide(&ctx.to_string(), DecideOptions::default()).unwrap();
    let c = d.content.expect("the welcome content");
    assert_eq!((c.id.as_str(), c.variant.as_str(), c.experiment), ("welcome", "welcome_back", None), "no A/B coupon on an unblock");
    let m: Value = serde_json::to_value(&d.messages[0]).unwrap();
    assert!(m["text"].as_str().unwrap().starts_with("佐藤 美咲様、おかえりなさい！"), "{m}");
    // A first follow still takes part in the experiment.
    ctx["event"]["follow"] = json!({"isUnblocked": false});
    let d = e.decide(&ctx.to_string(), DecideOptions::default()).unwrap();
    assert!(d.content.unwrap().experiment.is_some());
}

#[test]
fn rendering_an_unknown_content_names_it_and_suggests_the_nearest_id() {
    let e = Engine::compile(CONFIG).unwrap();
    let context = CONTEXTS.lines().next().unwrap();
    let err = e.render("welcom", context, DecideOptions::default()).unwrap_err();
    assert_eq!((err.code, err.path.as_str()), (Code::UnknownContent, ""));
    assert!(err.message.contains("did you mean \"welcome\"?"), "{}", err.message);
    let err = e.render("zzz", context, DecideOptions::default()).unwrap_err();
    assert!(err.message.contains("known: \"welcome\""), "{}", err.message);
}

/// LINE's `event.timestamp` is epoch milliseconds; `date` reads seconds (Shopify). Printed as
/// seconds it is a date ~50,000 years ahead in a customer's message: refused with the fix.
#[test]
fn a_millisecond_timestamp_given_to_date_is_an_error_with_the_fix() {
    let config = content_config(json!([{"type": "text", "text": "{{ user.attributes.at | date: \"%H:%M\" }}"}]));
    let err = render_err(config, json!({"userId": "U1", "attributes": {"at": 1_764_208_200_000_i64}}));
    assert_eq!(err.code, Code::TemplateRender);
    assert!(err.message.contains("divided_by: 1000"), "{}", err.message);
    let seconds = kizuna::engine::render_template("{{ t | divided_by: 1000 | date: \"%H:%M\" }}", r#"{"t": 1764208200000}"#, NOW).unwrap();
    assert_eq!(seconds, "10:50");
    assert!(kizuna::engine::render_template("{{ t | time_zone: \"UTC\" }}", r#"{"t": "1764208200000"}"#, NOW).is_err());
    let float = kizuna::engine::render_template("{{ t | date: \"%Y\" }}", r#"{"t": 1764208200000.5}"#, NOW).unwrap_err();
    assert!(float[0].message.starts_with("filter 'date': this number looks like epoch milliseconds"), "{}", float[0].message);
}

#[test]
fn locale_ja_writes_japanese_weekday_and_month_names() {
    let template = "{{ d | date: \"%-m月%-d日(%a) %A %b %B %h %^a\" }}|{{ d | date: \"%Y-%m-%d %H:%M %p\" }}";
    let config = |locale: Value| {
        let mut c = json!({"version": 1, "contents": [{"id": "c", "variants": [{"id": "v", "messages": [{"type": "text", "text": template}]}]}]});
        if !locale.is_null() {
            c["locale"] = locale;
        }
        c.to_string()
    };
    let ctx = json!({"now": NOW, "user": {"userId": "U1"}, "d": "2026-11-28T01:00:00Z"}).to_string();
    let text = |cfg: &str| {
        let d = Engine::compile(cfg).unwrap().render("c", &ctx, DecideOptions::default()).unwrap();
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        serde_json::to_value(&d.messages[0]).unwrap()["text"].as_str().unwrap().to_string()
    };
    // liquidjs 10 with `locale: "ja-JP"` writes the same (2026-11-28 is a Saturday, 10:00 in +09:00).
    assert_eq!(text(&config(json!("ja"))), "11月28日(土) 土曜日 11月 11月 11月 土|2026-11-28 10:00 AM");
    // The default and "en" are Shopify's English names; the rest of the format is the same.
    for locale in [Value::Null, json!("en")] {
        assert_eq!(text(&config(locale)), "11月28日(Sat) Saturday Nov November Nov SAT|2026-11-28 10:00 AM");
    }
    // A single-digit month, and widths pad the Japanese names like any other.
    let d = Engine::compile(&config(json!("ja")).replace("%-m月%-d日(%a) %A %b %B %h %^a", "%b %5a|%-5B|"))
        .unwrap()
        .render("c", &json!({"now": NOW, "user": {"userId": "U1"}, "d": "2026-03-01T12:00:00+09:00"}).to_string(), DecideOptions::default())
        .unwrap();
    assert_eq!(serde_json::to_value(&d.messages[0]).unwrap()["text"], "3月     日|3月||2026-03-01 12:00 PM");
    // A locale kizuna does not know is refused with a hint; a region tag names its language.
    for (locale, hint) in [("ja-JP", "write \"ja\""), ("fr", "write \"ja\" (Japanese weekday and month names) or \"en\"")] {
        let errors = Engine::compile(&config(json!(locale))).unwrap_err();
        assert_eq!((errors[0].code, errors[0].path.as_str()), (Code::InvalidValue, "/locale"), "{errors:?}");
        assert!(errors[0].message.ends_with(hint), "{}", errors[0].message);
    }
}

/// `explain` says why a content got its variant: each variant tried, its condition's steps (at
/// their place in the config), and the experiment's bucketing key, weights and bucket.
#[test]
fn explain_names_each_variant_tried_and_the_experiment_assignment() {
    let msg = |t: &str| json!([{"type": "text", "text": t}]);
    let e = Engine::from_json(&json!({"version": 1,
        "segments": [{"id": "member", "when": {"has_tag": "member"}}],
        "contents": [{"id": "welcome", "on": ["follow"], "experiment": {"id": "wx", "when": {"in_segment": "member"}}, "variants": [
            {"id": "big", "when": {">=": [{"var": "user.attributes.spend"}, 10000]}, "messages": msg("big")},
            {"id": "a", "weight": 30, "messages": msg("a")},
            {"id": "b", "weight": 70, "messages": msg("b")},
            {"id": "default", "messages": msg("default")}
        ]}]}))
    .unwrap();
    let ctx = |tags: Value| json!({"now": NOW, "user": {"userId": "U7", "tags": tags, "attributes": {"spend": 4200}}, "event": {"type": "follow"}}).to_string();
    let opts = DecideOptions { explain: true };

    // A member: the condition fails with the value it saw, then the experiment assigns.
    let member = ctx(json!(["member"]));
    let d = e.decide(&member, opts).unwrap();
    let xs = d.explain_content.clone().expect("explainContent with explain on");
    assert_eq!(xs.len(), 1, "one content tried");
    let x = &xs[0];
    let c = d.content.clone().unwrap();
    assert_eq!((x.content.as_str(), x.variant.as_deref()), ("welcome", Some(c.variant.as_str())));
    assert_eq!(x.tried.len(), 2, "{x:#?}");
    let big = &x.tried[0];
    assert_eq!((big.variant.as_deref(), big.path.as_str(), big.condition), (Some("big"), "/contents/0/variants/0", false));
    let step = big.steps.iter().find(|s| s.op == ">=").unwrap_or_else(|| panic!("{:#?}", big.steps));
    assert_eq!((step.path.as_str(), &step.args, &step.result), ("/contents/0/variants/0/when", &vec![json!(4200), json!(10000)], &json!(false)));
    let split = &x.tried[1];
    assert_eq!((split.path.as_str(), split.condition, split.variant.as_deref()), ("/contents/0/experiment", true, Some(c.variant.as_str())));
    assert_eq!(split.steps[0].path, "/contents/0/experiment/when");
    assert_eq!((split.steps[0].op.as_str(), &split.steps[0].result), ("in_segment", &json!(true)));
    let exp = split.experiment.as_ref().unwrap();
    assert_eq!((exp.id.as_str(), exp.key.as_str()), ("wx", "wxU7"));
    assert_eq!(exp.weights.iter().map(|w| (w.variant.as_str(), w.weight)).collect::<Vec<_>>(), [("a", 30), ("b", 70)]);
    // The bucket is flagd's: murmur3(key) × total >> 32, and picks the variant by weight.
    let bucket = (u64::from(kizuna::logic::murmur3_32(b"wxU7", 0)) * 100) >> 32;
    assert_eq!(exp.bucket, Some(bucket));
    assert_eq!(c.variant, if bucket < 30 { "a" } else { "b" });
    assert_eq!(c.experiment.as_deref(), Some("wx"));
    // Written by hand like the rest of the decision, byte for byte as serde writes it.
    let text = e.decide_to_string(&member, opts).unwrap();
    assert_eq!(text, serde_json::to_string(&d).unwrap());
    assert!(text.contains(",\"explainContent\":[{\"content\":\"welcome\",\"variant\":"), "{text}");

    // Not a member: the experiment's condition fails (no assignment), the next variant applies.
    let d = e.decide(&ctx(json!([])), opts).unwrap();
    let x = d.explain_content.unwrap().remove(0);
    assert_eq!(x.variant.as_deref(), Some("default"));
    let split = &x.tried[1];
    assert_eq!((split.condition, split.variant.as_deref()), (false, None));
    let exp = split.experiment.as_ref().unwrap();
    assert_eq!((exp.key.as_str(), exp.bucket), ("wxU7", None));
    let last = &x.tried[2];
    assert_eq!((last.variant.as_deref(), last.path.as_str(), last.condition, last.steps.len()), (Some("default"), "/contents/0/variants/3", true, 0));

    // Explain off: no trace, and the rest of the decision is the same.
    let plain = e.decide(&member, DecideOptions::default()).unwrap();
    assert!(plain.explain_content.is_none() && plain.explain.is_none());
    let mut explained = e.decide(&member, opts).unwrap();
    (explained.explain, explained.explain_content) = (None, None);
    assert_eq!(explained, plain);
    // No content for the event: no content explanation either.
    let message = member.replace("\"follow\"", "\"message\"");
    assert!(e.decide(&message, opts).unwrap().explain_content.is_none());
}

/// Keyword replies: an event's contents are tried in config order until one has a variant
/// that applies, so a catch-all after them answers whatever no keyword matched.
#[test]
fn an_events_contents_fall_through_to_the_next_until_a_variant_applies() {
    let text = |t: &str| json!([{"type": "text", "text": t}]);
    let e = Engine::from_json(&json!({"version": 1, "segments": [], "contents": [
        {"id": "kw_order", "on": ["message"], "variants": [{"id": "order", "when": {"==": [{"var": "event.message.text"}, "豆を注文"]}, "messages": text("ご注文はこちら")}]},
        {"id": "kw_sub", "on": ["message"], "variants": [{"id": "sub", "when": {"starts_with": [{"var": "event.message.text"}, "定期"]}, "messages": text("定期便のご案内")}]},
        {"id": "fallback", "on": ["message"], "variants": [{"id": "thanks", "messages": text("メッセージありがとうございます")}]}
    ]}))
    .unwrap();
    let said = |t: &str| json!({"now": NOW, "user": {"userId": "U1"}, "event": {"type": "message", "message": {"type": "text", "text": t}}}).to_string();
    let got = |t: &str| {
        let d = e.decide(&said(t), DecideOptions { explain: true }).unwrap();
        let tried: Vec<String> = d.explain_content.unwrap_or_default().iter().map(|x| format!("{}:{}", x.content, x.variant.as_deref().unwrap_or("-"))).collect();
        (d.content.map(|c| c.id), tried)
    };
    assert_eq!(got("豆を注文"), (Some("kw_order".into()), vec!["kw_order:order".to_string()]));
    assert_eq!(got("定期便を確認"), (Some("kw_sub".into()), vec!["kw_order:-".to_string(), "kw_sub:sub".into()]));
    assert_eq!(got("こんにちは"), (Some("fallback".into()), vec!["kw_order:-".to_string(), "kw_sub:-".into(), "fallback:thanks".into()]));
    // A content asked for by id is the only one tried.
    let d = e.render("kw_order", &said("こんにちは"), DecideOptions::default()).unwrap();
    assert!(d.content.is_none() && d.messages.is_empty());
}

/// Weight 0 pauses an arm: nobody is assigned to it; all 0, the next variant answers.
#[test]
fn a_weight_of_zero_pauses_an_arm() {
    let text = |t: &str| json!([{"type": "text", "text": t}]);
    let config = |a: u32, b: u32| json!({"version": 1, "segments": [], "contents": [{"id": "c", "on": ["follow"], "experiment": {"id": "x"}, "variants": [
        {"id": "a", "weight": a, "messages": text("a")},
        {"id": "b", "weight": b, "messages": text("b")},
        {"id": "default", "messages": text("d")}
    ]}]});
    let variants = |a: u32, b: u32| {
        let e = Engine::from_json(&config(a, b)).unwrap();
        let mut seen: Vec<String> = (0..200)
            .map(|i| e.decide(&json!({"now": NOW, "user": {"userId": format!("U{i}")}, "event": {"type": "follow"}}).to_string(), DecideOptions::default()).unwrap().content.unwrap().variant)
            .collect();
        seen.sort();
        seen.dedup();
        seen
    };
    assert_eq!(variants(50, 50), ["a", "b"]);
    assert_eq!(variants(0, 50), ["b"]);
    assert_eq!(variants(0, 0), ["default"]);
}

/// A template whose fixed text is already over LINE's limit fails for every user: a compile
/// error, not a render error for each.
#[test]
fn a_templates_fixed_text_over_a_limit_is_a_compile_error() {
    let long = "あ".repeat(5001);
    let errors = Engine::from_json(&content_config(json!([{"type": "text", "text": format!("{{{{ user.displayName }}}}様 {long}")}]))).unwrap_err();
    assert_eq!((errors[0].code, errors[0].path.as_str()), (kizuna::Code::LimitExceeded, "/contents/0/variants/0/messages/0/text"));
    assert!(errors[0].message.contains("fixed text alone") && errors[0].message.contains("text has 5003 characters"), "{}", errors[0].message);
    // Text inside a tag may not be written (an if, a loop's body): only the top level counts.
    let inside = format!("{{% if user.displayName %}}{long}{{% endif %}}");
    assert!(Engine::from_json(&content_config(json!([{"type": "text", "text": inside}]))).is_ok());
    // A `break` outside a loop ends the render, also inside an `if`: the text after it may not be written.
    let stops = format!("{{% if user.vip %}}{{% break %}}{{% endif %}}{long}");
    assert!(Engine::from_json(&content_config(json!([{"type": "text", "text": stops}]))).is_ok());
    let alt = format!("{{{{ user.displayName }}}}{}", "x".repeat(1501));
    let flex = json!([{"type": "flex", "altText": alt, "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "hi"}]}}}]);
    assert_eq!(Engine::from_json(&content_config(flex)).unwrap_err()[0].path, "/contents/0/variants/0/messages/0/altText");
}

/// In a textV2 text `{key}` is a placeholder and `{{` a brace: what a template outputs there is
/// data, so its braces are doubled. A display name holding a brace neither breaks the message
/// nor opens a placeholder (a mention of everyone); the literal placeholders stay.
#[test]
fn braces_a_template_writes_in_a_textv2_text_are_data() {
    let text = "{% capture hi %}こんにちは{% endcapture %}{{ hi }}、{{ user.displayName }}さん {everyone}";
    let config = content_config(json!([{"type": "textV2", "text": text, "substitution": {"everyone": {"type": "mention", "mentionee": {"type": "all"}}}}]));
    let e = Engine::from_json(&config).unwrap();
    let text_for = |name: &str| {
        let d = e.render("c", &json!({"now": NOW, "user": {"userId": "U1", "displayName": name}}).to_string(), DecideOptions::default()).unwrap();
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        d.messages[0].get().to_string()
    };
    assert!(text_for("{everyone}").contains(r#""text":"こんにちは、{{everyone}}さん {everyone}""#), "{}", text_for("{everyone}"));
    assert!(text_for("a{b").contains(r#""text":"こんにちは、a{{bさん {everyone}""#));
    // Other messages' text is written as rendered.
    let plain = Engine::from_json(&content_config(json!([{"type": "text", "text": "{{ user.displayName }}"}]))).unwrap();
    let d = plain.render("c", &json!({"now": NOW, "user": {"userId": "U1", "displayName": "a{b}"}}).to_string(), DecideOptions::default()).unwrap();
    assert!(d.messages[0].get().contains(r#""text":"a{b}""#));
}

/// `truncate: 'ten'` cannot render for anyone (Liquid raises "invalid integer"): `kizuna check`
/// refuses it, instead of every push of the campaign failing at render time. A number written
/// as text (`'12'`) is an integer to Liquid and stays valid, as does a variable.
#[test]
fn a_literal_text_that_is_no_integer_for_truncate_or_slice_is_a_compile_error() {
    for t in ["{{ user.displayName | truncate: 'ten' }}", "{{ user.displayName | truncatewords: 'two' }}", "{{ user.displayName | slice: 0, 'five' }}"] {
        let errors = Engine::from_json(&content_config(json!([{"type": "text", "text": t}]))).expect_err(t);
        assert_eq!((errors[0].code, errors[0].path.as_str()), (Code::TemplateSyntax, "/contents/0/variants/0/messages/0/text"), "{t}");
        assert!(errors[0].message.contains("whole number"), "{}", errors[0].message);
    }
    for t in ["{{ user.displayName | truncate: '12' }}", "{{ user.displayName | truncate: n }}", "{{ user.displayName | truncate: 12, '…' }}"] {
        assert!(Engine::from_json(&content_config(json!([{"type": "text", "text": t}]))).is_ok(), "{t}");
    }
}
