//! Engine behaviour: example decisions (golden, shared with the Wasm tests), exclusive groups,
//! in_segment ordering and cycles, deterministic ids, explain traces, errors with paths.

use kizuna::{Code, DecideOptions, Engine};
use serde_json::json;
use std::path::Path;

const CONFIG: &str = include_str!("../examples/skincare/config.json");
const CONTEXTS: &str = include_str!("../examples/skincare/contexts.ndjson");
const NOW: &str = "2026-11-27T10:30:00+09:00";

fn engine(config: serde_json::Value) -> Engine {
    Engine::from_json(&config).unwrap_or_else(|e| panic!("config should compile: {e:#?}"))
}

fn ctx(user: serde_json::Value) -> String {
    json!({"now": NOW, "user": user}).to_string()
}

/// The decisions for the example contexts are checked in (tests/golden) and compared here and,
/// byte for byte, in Node and Chromium by the wasm tests. KIZUNA_WRITE_GOLDEN=1 rewrites them.
#[test]
fn example_decisions_match_golden_file() {
    let engine = Engine::compile(CONFIG).unwrap();
    let out = kizuna::engine::decide_ndjson(&engine, CONTEXTS, DecideOptions::default());
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/skincare.decisions.ndjson");
    if std::env::var_os("KIZUNA_WRITE_GOLDEN").is_some() {
        std::fs::write(&path, &out).unwrap();
    }
    let golden = std::fs::read_to_string(&path).unwrap();
    assert_eq!(out, golden, "decisions changed; if intended, rerun with KIZUNA_WRITE_GOLDEN=1 and review the diff");
}

/// The push campaign of the example (content `recommendations`: a flex carousel with a bubble
/// per recommended product, `$for`) for every example context, checked in like the decisions
/// and compared byte for byte by the wasm tests.
#[test]
fn example_push_campaign_matches_golden_file() {
    let engine = Engine::compile(CONFIG).unwrap();
    let out: String = CONTEXTS.lines().enumerate().map(|(i, c)| engine.render_line("recommendations", c, i + 1, DecideOptions::default()) + "\n").collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/skincare.push.ndjson");
    if std::env::var_os("KIZUNA_WRITE_GOLDEN").is_some() {
        std::fs::write(&path, &out).unwrap();
    }
    let golden = std::fs::read_to_string(&path).unwrap();
    assert_eq!(out, golden, "push decisions changed; if intended, rerun with KIZUNA_WRITE_GOLDEN=1 and review the diff");
    let carousels: Vec<usize> = golden.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).filter(|d| d["content"]["variant"] == "carousel").map(|d| d["messages"][0]["contents"]["contents"].as_array().unwrap().len()).collect();
    assert_eq!(carousels, [3, 1, 2], "one bubble per recommended product");
}

/// Text from Excel or Windows tools starts with a byte-order mark; it is not content, for one
/// context as for NDJSON. Blank lines are skipped; an error line carries its input line number.
#[test]
fn a_byte_order_mark_and_blank_lines_do_not_change_decisions() {
    let engine = Engine::compile(CONFIG).unwrap();
    let first = CONTEXTS.lines().next().unwrap();
    let plain = engine.decide_to_string(first, DecideOptions::default()).unwrap();
    assert_eq!(engine.decide_to_string(&format!("\u{feff}{first}"), DecideOptions::default()).unwrap(), plain);
    // The playground calls read their data alike (a rule's text already was).
    let now = "2026-11-27T10:30:00+09:00";
    assert_eq!(kizuna::engine::evaluate("{\"var\": \"a\"}", "\u{feff}{\"a\": 1}", now).unwrap(), "1");
    assert_eq!(kizuna::engine::render_template("{{ a }}", "\u{feff}{\"a\": 1}", now).unwrap(), "1");
    let out = kizuna::engine::decide_ndjson(&engine, &format!("\u{feff}{first}\n\nnot json\n{first}\n"), DecideOptions::default());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!((lines[0], lines[2]), (plain.as_str(), plain.as_str()));
    let error: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!((error["error"]["code"].as_str(), error["line"].as_u64()), (Some("invalid_json"), Some(3)));
    assert!(error.get("userId").is_none(), "no user id in text that is not JSON");
    // A context that parses but cannot be decided: its line names the user.
    let bad = r#"{"now": "2026-11-27T10:30:00+09:00", "user": {"userId": "U9", "purchases": {}}}"#;
    let error: serde_json::Value = serde_json::from_str(&engine.decide_line(bad, 7, DecideOptions::default())).unwrap();
    assert_eq!((error["error"]["path"].as_str(), error["line"].as_u64(), error["userId"].as_str()), (Some("/user/purchases"), Some(7), Some("U9")));
}

#[test]
fn example_contexts_land_in_the_expected_segments() {
    let engine = Engine::compile(CONFIG).unwrap();
    let expect: &[(usize, &[&str], &[&str])] = &[
        // (line, must contain, must not contain)
        (0, &["non_purchaser", "new_friend", "tokyo_area", "birthday_month"], &["first_time"]),
        (1, &["first_time", "skin_dry", "lotion_refill_due"], &["repeat"]),
        (3, &["loyal", "vip"], &["dormant"]),
        (4, &["dormant"], &["repeat"]),
        (5, &["no_marketing"], &[]),
        (6, &["repeat", "upgrade_candidate"], &[]),
        (11, &["first_time"], &["lotion_refill_due"]),
        (12, &["dormant"], &["loyal"]),
        (16, &["repeat", "vip", "upgrade_candidate"], &[]),
    ];
    let lines: Vec<&str> = CONTEXTS.lines().collect();
    for (line, yes, no) in expect {
        let d = engine.decide(lines[*line], DecideOptions::default()).unwrap();
        for s in *yes {
            assert!(d.segments.iter().any(|x| x == s), "context {line}: expected {s} in {:?}", d.segments);
        }
        for s in *no {
            assert!(!d.segments.iter().any(|x| x == s), "context {line}: {s} unexpected in {:?}", d.segments);
        }
        assert!(d.errors.is_empty(), "{:?}", d.errors);
    }
}

#[test]
fn a_lotion_bought_again_since_ends_the_refill_reminder() {
    let engine = Engine::compile(CONFIG).unwrap();
    let user = |purchases: serde_json::Value| json!({"version": 1, "now": "2026-12-10T09:00:00+09:00", "user": {"userId": "U1", "purchases": purchases}}).to_string();
    let due = |context: String| engine.decide(&context, DecideOptions::default()).unwrap().segments.iter().any(|s| s == "lotion_refill_due");
    let lotion = |at: &str| json!({"orderId": at, "sku": "LT-120", "category": "lotion", "amount": 3800, "quantity": 1, "at": at});
    assert!(due(user(json!([lotion("2026-11-07T10:00:00+09:00")]))), "33 days ago: due");
    assert!(!due(user(json!([lotion("2026-11-07T10:00:00+09:00"), lotion("2026-12-08T10:00:00+09:00")]))), "bought again 2 days ago: not due");
}

#[test]
fn exclusive_group_first_match_by_priority_wins() {
    let e = engine(json!({"version": 1, "segments": [
        {"id": "low", "group": "g", "priority": 1, "when": true},
        {"id": "high", "group": "g", "priority": 9, "when": true},
        {"id": "tie_later", "group": "g", "priority": 9, "when": true},
        {"id": "free", "when": true}
    ]}));
    let d = e.decide(&ctx(json!({"userId": "U1"})), DecideOptions { explain: true }).unwrap();
    assert_eq!(d.segments, ["high", "free"]);
    assert_eq!(d.groups.get("g").map(String::as_str), Some("high"));
    let explain = d.explain.unwrap();
    let low = explain.iter().find(|x| x.segment == "low").unwrap();
    assert!(low.condition && !low.matched);
    assert_eq!(low.taken_by.as_deref(), Some("high"));
}

#[test]
fn in_segment_sees_the_final_group_result() {
    let e = engine(json!({"version": 1, "segments": [
        {"id": "uses_b", "when": {"in_segment": "b"}},
        {"id": "a", "group": "g", "priority": 2, "when": true},
        {"id": "b", "group": "g", "priority": 1, "when": true},
        {"id": "uses_a", "when": {"in_segment": "a"}}
    ]}));
    let d = e.decide(&ctx(json!({"userId": "U1"})), DecideOptions::default()).unwrap();
    assert_eq!(d.segments, ["a", "uses_a"]);
}

#[test]
fn cycles_and_unknown_segments_are_compile_errors() {
    let errors = Engine::from_json(&json!({"version": 1, "segments": [
        {"id": "a", "when": {"in_segment": "b"}},
        {"id": "b", "when": {"and": [true, {"in_segment": "a"}]}},
        {"id": "c", "when": {"in_segment": "nope"}}
    ]}))
    .unwrap_err();
    assert!(errors.iter().any(|e| e.code == Code::SegmentCycle && e.message.contains("\"a\"") && e.message.contains("\"b\"")), "{errors:#?}");
    assert!(errors.iter().any(|e| e.code == Code::UnknownSegment && e.path.starts_with("/segments/2/when")), "{errors:#?}");
    // A reference to a segment renamed to an id that is refused points at that id's error.
    let renamed = Engine::from_json(&json!({"version": 1, "segments": [
        {"id": "uses", "when": {"in_segment": "no_marketing"}},
        {"id": "配信停止", "when": true}
    ]}))
    .unwrap_err();
    let got: Vec<(Code, &str)> = renamed.iter().map(|e| (e.code, e.path.as_str())).collect();
    assert_eq!(got, [(Code::UnknownSegment, "/segments/0/when/in_segment"), (Code::InvalidValue, "/segments/1/id")]);
    assert!(renamed[0].message.ends_with("(the id \"配信停止\" is not valid: see its own error)"), "{}", renamed[0].message);
    let own_group = Engine::from_json(&json!({"version": 1, "segments": [
        {"id": "a", "group": "g", "when": {"in_segment": "b"}},
        {"id": "b", "group": "g", "when": true}
    ]}))
    .unwrap_err();
    assert!(own_group.iter().any(|e| e.code == Code::SegmentCycle), "{own_group:#?}");
    // One problem per circle, naming only the segments on it (not those reading one).
    let two = Engine::from_json(&json!({"version": 1, "segments": [
        {"id": "x", "when": {"in_segment": "y"}},
        {"id": "y", "when": {"in_segment": "x"}},
        {"id": "z", "when": {"in_segment": "x"}},
        {"id": "w", "when": {"in_segment": "w"}}
    ]}))
    .unwrap_err();
    let cycles: Vec<(&str, &str)> = two.iter().filter(|e| e.code == Code::SegmentCycle).map(|e| (e.path.as_str(), e.message.as_str())).collect();
    assert_eq!(cycles.len(), 2, "{cycles:#?}");
    assert_eq!(cycles[0].0, "/segments/0/when");
    assert!(cycles[0].1.ends_with("\"x\", \"y\"") && !cycles[0].1.contains("\"z\""), "{}", cycles[0].1);
    assert_eq!(cycles[1].0, "/segments/3/when");
}

/// Thousands of segments, each reading the next through in_segment and listed before it: the
/// order still puts every segment after the one it reads, duplicates are each reported, and a
/// circle through all of them names ten and counts the rest.
#[test]
fn thousands_of_segments_that_read_each_other() {
    let n = 5000;
    let chain = |last: serde_json::Value| -> Vec<serde_json::Value> {
        (0..n).map(|i| if i + 1 < n { json!({"id": format!("s{i}"), "when": {"in_segment": format!("s{}", i + 1)}}) } else { json!({"id": format!("s{i}"), "when": last.clone()}) }).collect()
    };
    let e = engine(json!({"version": 1, "segments": chain(json!({"has_tag": "vip"}))}));
    let d = e.decide(&ctx(json!({"userId": "U1", "tags": ["vip"]})), DecideOptions::default()).unwrap();
    assert_eq!(d.segments.len(), n);
    assert!(e.decide(&ctx(json!({"userId": "U1"})), DecideOptions::default()).unwrap().segments.is_empty());

    // Thousands of exclusive groups: the first member of each holds.
    let grouped: Vec<serde_json::Value> = (0..n).map(|i| json!({"id": format!("g{i}"), "group": format!("group{}", i / 2), "when": true})).collect();
    let e = engine(json!({"version": 1, "segments": grouped}));
    let d = e.decide(&ctx(json!({"userId": "U1"})), DecideOptions::default()).unwrap();
    assert_eq!(d.segments.len(), n / 2);
    assert_eq!(d.segments[1], "g2");

    let mut segs = chain(json!({"in_segment": "s0"}));
    segs.push(json!({"id": "s7", "when": true}));
    segs.push(json!({"id": "s7", "when": true}));
    let errors = Engine::from_json(&json!({"version": 1, "segments": segs})).unwrap_err();
    let cycle = errors.iter().find(|e| e.code == Code::SegmentCycle).expect("a cycle error");
    assert!(cycle.message.contains("\"s9\", and 4990 more"), "{}", cycle.message);
    let dups: Vec<&str> = errors.iter().filter(|e| e.code == Code::DuplicateId).map(|e| e.path.as_str()).collect();
    assert_eq!(dups, [format!("/segments/{n}"), format!("/segments/{}", n + 1)]);
}

/// flagd evaluates a malformed `sem_ver` to null (its suite holds bare rules to that); in a
/// config that is a segment that never matches, so the typos are compile errors there.
#[test]
fn sem_ver_typos_in_a_config_are_errors_not_segments_that_never_match() {
    let v = |op: serde_json::Value| json!({"sem_ver": [{"var": "event.appVersion"}, op, "14.2.0"]});
    let config = json!({"version": 1, "segments": [
        {"id": "two", "when": {"sem_ver": [{"var": "event.appVersion"}, ">=14.2.0"]}},
        {"id": "typo", "when": v(json!("=>"))},
        {"id": "number", "when": v(json!(1))},
        {"id": "ok", "when": v(json!("^"))},
        {"id": "computed", "when": v(json!({"var": "event.op"}))},
    ]});
    let errors = Engine::from_json(&config).unwrap_err();
    let got: Vec<(Code, &str)> = errors.iter().map(|e| (e.code, e.path.as_str())).collect();
    assert_eq!(got, [(Code::WrongArity, "/segments/0/when"), (Code::InvalidArgument, "/segments/1/when/sem_ver/1"), (Code::InvalidArgument, "/segments/2/when/sem_ver/1")]);
    assert!(errors[1].message.contains("did you mean \">=\"?"), "{}", errors[1].message);
    // A bare rule keeps flagd's null (the playground, the conformance suite).
    assert_eq!(kizuna::engine::evaluate(r#"{"sem_ver": ["1.0.0", "=>", "1.0.0"]}"#, "{}", NOW).unwrap(), "null");
}

/// The issue's acceptance check: five different mistakes, five errors with their paths.
#[test]
fn five_mistakes_give_five_errors_with_paths() {
    let text = include_str!("../examples/broken-config.json");
    let errors = Engine::compile(text).unwrap_err();
    let got: Vec<(Code, &str)> = errors.iter().map(|e| (e.code, e.path.as_str())).collect();
    assert_eq!(errors.len(), 5, "{errors:#?}");
    for (code, path) in [
        (Code::UnknownOperator, "/segments/0/when/and/1"),
        (Code::UnknownField, "/segments/1/descripton"),
        (Code::DuplicateId, "/segments/2"),
        (Code::InvalidDuration, "/segments/3/when/after/1/ago"),
        (Code::UnknownSegment, "/segments/4/when/in_segment"),
    ] {
        assert!(got.iter().any(|(c, p)| *c == code && p.starts_with(path)), "missing {code:?} at {path}: {got:?}");
    }
    assert!(errors.iter().all(|e| !e.message.is_empty()));
}

#[test]
fn decision_id_is_deterministic_and_sensitive_to_inputs() {
    let e = Engine::compile(CONFIG).unwrap();
    let first = CONTEXTS.lines().next().unwrap();
    let a = e.decide(first, DecideOptions::default()).unwrap();
    // Same content, different formatting and key order ⇒ same id.
    let reformatted = serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(first).unwrap()).unwrap();
    let b = e.decide(&reformatted, DecideOptions::default()).unwrap();
    assert_eq!(a.decision_id, b.decision_id);
    assert_eq!(a, b);
    // A different event (webhookEventId) ⇒ a different id.
    let other = first.replace("01JDKZQ8Y3R6S9V2W5X8Z0B3C6", "01JDKZQ8Y3R6S9V2W5X8Z0XXXX");
    assert_ne!(e.decide(&other, DecideOptions::default()).unwrap().decision_id, a.decision_id);
    // The config hash ignores formatting.
    let pretty = serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(CONFIG).unwrap()).unwrap();
    assert_eq!(Engine::compile(&pretty).unwrap().config_hash(), e.config_hash());
    assert_eq!(a.decision_id.len(), 32);
}

#[test]
fn explain_names_the_deciding_sub_condition_and_its_values() {
    let e = engine(json!({"version": 1, "segments": [
        {"id": "big_spender", "when": {"and": [{"has_tag": "member"}, {">=": [{"var": "user.attributes.spend"}, 10000]}]}}
    ]}));
    let d = e.decide(&ctx(json!({"userId": "U1", "tags": ["member"], "attributes": {"spend": 4200}})), DecideOptions { explain: true }).unwrap();
    let x = &d.explain.unwrap()[0];
    assert!(!x.matched);
    let step = x.steps.iter().find(|s| s.op == ">=").unwrap_or_else(|| panic!("{:#?}", x.steps));
    assert_eq!(step.path, "/segments/0/when/and/1");
    assert_eq!(step.args, vec![json!(4200), json!(10000)]);
    assert_eq!(step.result, json!(false));
}

#[test]
fn malformed_contexts_get_structured_errors() {
    let e = Engine::compile(CONFIG).unwrap();
    let cases = [
        ("{", Code::InvalidJson, ""),
        ("[]", Code::InvalidValue, ""),
        (r#"{"user": {"userId": "U1"}}"#, Code::MissingField, ""),
        (r#"{"now": "tomorrow", "user": {"userId": "U1"}}"#, Code::InvalidTimestamp, "/now"),
        (r#"{"now": "2026-11-27T10:30:00+09:00", "user": {}}"#, Code::MissingField, "/user"),
        (r#"{"now": "2026-11-27T10:30:00+09:00", "user": {"userId": "U1", "tags": "vip"}}"#, Code::InvalidValue, "/user/tags"),
        (r#"{"version": 2, "now": "2026-11-27T10:30:00+09:00", "user": {"userId": "U1"}}"#, Code::UnsupportedVersion, "/version"),
    ];
    for (text, code, path) in cases {
        let err = e.decide(text, DecideOptions::default()).unwrap_err();
        assert_eq!((err.code, err.path.as_str()), (code, path), "{text}: {err}");
    }
    // Unknown fields in a context are tolerated.
    let ok = ctx(json!({"userId": "U1", "favouriteColour": "blue"})).replace("\"now\"", "\"extra\": [1, {\"x\": null}], \"now\"");
    assert!(e.decide(&ok, DecideOptions::default()).is_ok());
}

#[test]
fn purchases_and_events_the_config_reads_need_their_at_and_type() {
    // The README's refill rule: a purchase without `at` must not read as "not recent".
    let refill = engine(json!({"version": 1, "segments": [{"id": "lotion_refill_due", "when": {"some": [{"var": "user.purchases"}, {"and": [
        {"==": [{"var": "category"}, "lotion"]}, {">=": [{"days_since": [{"var": "at"}]}, 25]}]}]}},
        {"id": "coupon", "when": {"some": [{"var": "user.events"}, {"==": [{"var": "type"}, "coupon_used"]}]}}]}));
    let cases = [
        (json!({"purchases": [{"category": "lotion", "at": "2026-10-27"}, {"category": "lotion", "purchasedAt": "2026-11-26"}]}), Code::MissingField, "/user/purchases/1"),
        (json!({"purchases": [{"category": "lotion", "at": null}]}), Code::InvalidValue, "/user/purchases/0/at"),
        (json!({"purchases": ["2026-11-20"]}), Code::InvalidValue, "/user/purchases/0"),
        (json!({"events": [{"at": "2026-11-20T10:00:00+09:00"}]}), Code::MissingField, "/user/events/0"),
        (json!({"events": [{"type": 3, "at": "2026-11-20T10:00:00+09:00"}]}), Code::InvalidValue, "/user/events/0/type"),
        (json!({"richMenuId": false}), Code::InvalidValue, "/user/richMenuId"),
    ];
    for (user, code, path) in cases {
        let mut u = user.clone();
        u["userId"] = json!("U1");
        let err = refill.decide(&ctx(u), DecideOptions::default()).unwrap_err();
        assert_eq!((err.code, err.path.as_str()), (code, path), "{user}: {err}");
    }
    let err = refill.decide(&ctx(json!({"userId": "U1", "purchases": [{"at": null}]})), DecideOptions::default()).unwrap_err();
    assert!(err.message.contains("\"at\" must be an RFC 3339 timestamp (or epoch milliseconds), found null"), "{}", err.message);
    // Epoch milliseconds are a time, as the time operators take them.
    assert!(refill.decide(&ctx(json!({"userId": "U1", "purchases": [{"category": "lotion", "at": 1764207000000_i64}]})), DecideOptions::default()).is_ok());
    // A config that reads neither list leaves their items unread and unchecked.
    let other = engine(json!({"version": 1, "segments": [{"id": "vip", "when": {"has_tag": "vip"}}]}));
    assert!(other.decide(&ctx(json!({"userId": "U1", "purchases": [{"sku": "x"}], "events": [1]})), DecideOptions::default()).is_ok());
}

#[test]
fn a_bad_timestamp_in_user_data_is_reported_not_fatal() {
    let e = engine(json!({"version": 1, "segments": [
        {"id": "recent", "when": {"<": [{"days_since": [{"var": "user.lastActiveAt"}]}, 7]}},
        {"id": "all", "when": true}
    ]}));
    let d = e.decide(&ctx(json!({"userId": "U1", "lastActiveAt": "last tuesday"})), DecideOptions::default()).unwrap();
    assert_eq!(d.segments, ["all"]);
    assert_eq!(d.errors.len(), 1);
    assert!(d.errors[0].path.starts_with("/segments/0/when"), "{:?}", d.errors);
}

#[test]
fn config_problems_are_reported_together() {
    let errors = Engine::from_json(&json!({"version": 2, "timeZone": "Mars/Olympus", "segmnts": [], "segments": [{"id": "bad id!", "when": true}, {"when": true}, 3]})).unwrap_err();
    let codes: Vec<Code> = errors.iter().map(|e| e.code).collect();
    for c in [Code::UnsupportedVersion, Code::InvalidValue, Code::UnknownField, Code::MissingField] {
        assert!(codes.contains(&c), "{errors:#?}");
    }
    let typo = errors.iter().find(|e| e.path == "/segmnts").unwrap();
    assert!(typo.message.contains("did you mean \"segments\""), "{}", typo.message);
}

/// An item that cannot be read (no id) is left out; problems in the items after it still point
/// at those items, not at the one before.
#[test]
fn problems_after_an_unreadable_item_point_at_their_own_item() {
    let errors = Engine::from_json(&json!({"version": 1,
        "segments": [
            {"id": "a", "when": true},
            {"when": true},
            {"id": "c", "when": {"Var": "x"}},
            {"id": "c", "when": true}
        ],
        "contents": [
            {"variants": [{"id": "v", "messages": [{"type": "text", "text": "hi"}]}]},
            {"id": "k", "variants": [
                {"messages": [{"type": "text", "text": "hi"}]},
                {"id": "w", "messages": [{"type": "text", "text": "{{ x"}]}
            ]}
        ]
    }))
    .unwrap_err();
    let paths: Vec<(&str, Code)> = errors.iter().map(|e| (e.path.as_str(), e.code)).collect();
    for want in [
        ("/segments/1", Code::MissingField),
        ("/segments/2/when", Code::UnknownOperator),
        ("/segments/3", Code::DuplicateId),
        ("/contents/0", Code::MissingField),
        ("/contents/1/variants/0", Code::MissingField),
        ("/contents/1/variants/1/messages/0/text", Code::TemplateSyntax),
    ] {
        assert!(paths.contains(&want), "{want:?} not in {paths:#?}");
    }
    assert_eq!(paths.len(), 6, "{paths:#?}");

    // Checks made while reading (rich menus, quiz choices) also name the config's items.
    let (r1, r2) = (format!("richmenu-{}", "a".repeat(32)), format!("richmenu-{}", "b".repeat(32)));
    let menus = Engine::from_json(&json!({"version": 1, "segments": [{"id": "s", "when": true}],
        "richMenus": {"menus": [{"richMenuId": r1}, {"id": "a", "richMenuId": r2}, {"id": "b", "richMenuId": r2}],
                      "rules": [{"segment": "s"}, {"segment": "s", "menu": "zzz"}]}}))
    .unwrap_err();
    let paths: Vec<&str> = menus.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"/richMenus/menus/2/richMenuId") && paths.contains(&"/richMenus/rules/1/menu"), "{paths:#?}");
    let quiz = Engine::from_json(&json!({"version": 1, "quizzes": [{"id": "q", "title": "Q", "results": [{"id": "r", "title": "R"}],
        "select": {"by": "rules", "rules": [], "fallback": "r"},
        "questions": [{"id": "q1", "kind": "multiple", "text": "?", "choices": [{"label": "no id"}, {"id": "c1", "label": "C", "next": "q1"}]}]}]}))
    .unwrap_err();
    assert!(quiz.iter().any(|e| e.path == "/quizzes/0/questions/0/choices/1/next"), "{quiz:#?}");
}

/// A key written twice would silently lose its first value: an error at the later one.
#[test]
fn a_key_written_twice_in_the_config_is_an_error() {
    let errors = Engine::compile(r#"{"version": 1, "segments": [{"id": "a", "when": true, "when": false}, {"id": "b", "when": {"has_tag": "x"}}]}"#).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!((errors[0].code, errors[0].path.as_str()), (Code::DuplicateKey, "/segments/0/when"));
    // Alongside other problems, in pointer order.
    let both = Engine::compile(r#"{"version": 1, "segments": [{"id": "a", "when": {"nope": 1}}, {"id": "b", "id": "c", "when": true}]}"#).unwrap_err();
    let codes: Vec<(Code, &str)> = both.iter().map(|e| (e.code, e.path.as_str())).collect();
    assert_eq!(codes, [(Code::UnknownOperator, "/segments/0/when"), (Code::DuplicateKey, "/segments/1/id")]);
}

/// A condition written as text is JsonLogic's constant: always true (or, empty, never). In a
/// config it is a mistake, refused with the rule it meant when it reads as one (review-salon22).
#[test]
fn a_condition_written_as_text_is_refused() {
    let config = serde_json::json!({
        "version": 1,
        "segments": [{"id": "regular", "when": {"has_tag": "r"}}, {"id": "x", "when": "in_segment:regular"}, {"id": "y", "when": ""}],
        "richMenus": {"menus": [{"id": "m", "richMenuId": format!("richmenu-{:032x}", 1)}], "rules": [{"when": "vip", "menu": "m"}]}
    });
    let errors = Engine::compile(&config.to_string()).unwrap_err();
    let got: Vec<(&str, &str)> = errors.iter().map(|e| (e.path.as_str(), e.message.as_str())).collect();
    assert_eq!(
        got,
        [
            ("/richMenus/rules/0/when", "a condition is JsonLogic, not text: \"vip\" would always hold"),
            ("/segments/1/when", "a condition is JsonLogic, not text: \"in_segment:regular\" would always hold; write {\"in_segment\": \"regular\"}"),
            ("/segments/2/when", "a condition is JsonLogic, not text: \"\" would never hold"),
        ]
    );
    assert!(errors.iter().all(|e| e.code == Code::InvalidArgument));
    // A bare rule (the playground's evaluate) is JsonLogic's: a text is its value.
    assert_eq!(kizuna::engine::evaluate("\"vip\"", "{}", "2026-11-27T10:30:00+09:00").unwrap(), "\"vip\"");
}

/// A byte-order mark (some editors write one) is not a syntax error; a syntax error says where
/// it is once.
#[test]
fn config_text_with_a_bom_compiles_and_syntax_errors_say_where_once() {
    assert!(Engine::compile("\u{feff}{\"version\": 1}").is_ok());
    let e = &Engine::compile("{\"version\": 1,").unwrap_err()[0];
    assert_eq!((e.code, e.line, e.column), (Code::InvalidJson, Some(1), Some(15)));
    assert_eq!(e.to_string().matches("column 15").count(), 1, "{e}");
}

/// The hot path writes decisions by hand; it must give serde's bytes exactly.
#[test]
fn direct_decision_writer_matches_serde() {
    let e = Engine::compile(CONFIG).unwrap();
    let mut contexts: Vec<String> = CONTEXTS.lines().map(str::to_string).collect();
    contexts.push(ctx(json!({"userId": "U\"quoted\"\\\n\u{1}日本", "lastActiveAt": "bad", "followedAt": "not a date"})));
    for c in &contexts {
        let fast = e.decide_to_string(c, DecideOptions::default()).unwrap();
        let slow = serde_json::to_string(&e.decide(c, DecideOptions::default()).unwrap()).unwrap();
        assert_eq!(fast, slow);
    }
    for c in &contexts {
        let fast = e.render_to_string("welcome", c, DecideOptions::default()).unwrap();
        let slow = serde_json::to_string(&e.render("welcome", c, DecideOptions::default()).unwrap()).unwrap();
        assert_eq!(fast, slow);
        assert!(fast.contains("\"messages\":[{"), "{fast}");
    }
    let with_errors = e.decide(contexts.last().unwrap(), DecideOptions::default()).unwrap();
    assert!(!with_errors.errors.is_empty());
    // The explain trace is written by hand too, and so is an owned Decision.
    for c in &contexts {
        let opts = DecideOptions { explain: true };
        let fast = e.decide_to_string(c, opts).unwrap();
        let d = e.decide(c, opts).unwrap();
        assert!(d.explain.is_some());
        assert_eq!(fast, serde_json::to_string(&d).unwrap());
        assert_eq!(d.to_json(), fast);
        let r = e.render("welcome", c, opts).unwrap();
        assert_eq!(r.to_json(), serde_json::to_string(&r).unwrap());
        assert_eq!(e.render_to_string("welcome", c, opts).unwrap(), r.to_json());
    }
}

/// JSON deeper than the parser's limit is a limit, not a syntax error, in a config and in a
/// context alike.
#[test]
fn nesting_past_the_depth_limit_is_limit_exceeded() {
    let deep = |n: usize| format!("{}true{}", "{\"!\": [".repeat(n), "]}".repeat(n));
    let config = format!(r#"{{"version": 1, "segments": [{{"id": "deep", "when": {}}}]}}"#, deep(200));
    let e = Engine::compile(&config).unwrap_err();
    assert_eq!((e.len(), e[0].code), (1, Code::LimitExceeded), "{e:?}");
    assert!(e[0].message.contains("128") && e[0].line == Some(1), "{}", e[0].message);
    assert!(Engine::compile(&format!(r#"{{"version": 1, "segments": [{{"id": "ok", "when": {}}}]}}"#, deep(40))).is_ok());
    let e = Engine::compile(CONFIG).unwrap();
    let context = format!(r#"{{"now": "{NOW}", "user": {{"userId": "U1", "attributes": {{"a": {}1{}}}}}}}"#, "[".repeat(200), "]".repeat(200));
    let err = e.decide(&context, DecideOptions::default()).unwrap_err();
    assert_eq!(err.code, Code::LimitExceeded, "{err:?}");
}

/// Only fixed offsets exist here; a zone with daylight saving time is refused with the reason,
/// not as if it were a typo.
#[test]
fn a_zone_with_daylight_saving_time_is_refused_with_the_reason() {
    let errors = Engine::from_json(&json!({"version": 1, "timeZone": "America/New_York"})).unwrap_err();
    assert_eq!((errors[0].code, errors[0].path.as_str()), (Code::InvalidValue, "/timeZone"));
    assert!(errors[0].message.contains("daylight saving time"), "{}", errors[0].message);
    assert!(Engine::from_json(&json!({"version": 1, "timeZone": "Asia/Seoul"})).is_ok());
}

#[test]
fn a_now_written_with_second_60_is_the_next_second() {
    // chrono reads `:60` (a leap second, or a typo) as second 59 and a billion nanoseconds.
    let eval = |rule: &str, now: &str| kizuna::engine::evaluate(rule, "{}", now).unwrap();
    assert_eq!(eval(r#"{"now": []}"#, "2026-11-27T10:30:60+09:00"), r#""2026-11-27T10:31:00+09:00""#);
    assert_eq!(eval(r#"{"now": []}"#, "2016-12-31T23:59:60Z"), r#""2017-01-01T09:00:00+09:00""#);
    assert_eq!(eval(r#"{"==": [{"now": []}, {"ago": "PT0S"}]}"#, "2026-11-27T10:30:60+09:00"), "true");
    assert_eq!(eval(r#"{"before": [{"now": []}, "2026-11-27T10:31:00+09:00"]}"#, "2026-11-27T10:30:60+09:00"), "false");
    // A context's `now` alike: the decision says the instant it decided at.
    let e = Engine::from_json(&json!({"version": 1, "segments": [{"id": "at_1031", "when": {"!": {"before": [{"now": []}, "2026-11-27T10:31:00+09:00"]}}}]})).unwrap();
    let d = e.decide(r#"{"now": "2026-11-27T10:30:60+09:00", "user": {"userId": "U1"}}"#, DecideOptions::default()).unwrap();
    assert_eq!(d.segments, ["at_1031"]);
}

/// A member reading a member of its own exclusive group is reported at the reader, naming what
/// it reads, not as a circle of the whole group at its first member (which reads nothing).
#[test]
fn a_member_reading_its_own_group_is_reported_where_it_reads() {
    let errors = Engine::from_json(&json!({"version": 1, "segments": [
        {"id": "vip", "group": "life", "priority": 9, "when": {"has_tag": "vip"}},
        {"id": "repeat", "group": "life", "priority": 5, "when": {"var": "user.purchases.1"}},
        {"id": "first", "group": "life", "priority": 3, "when": {"and": [{"var": "user.purchases.0"}, {"!": {"in_segment": "repeat"}}]}},
        {"id": "a", "when": {"in_segment": "b"}},
        {"id": "b", "when": {"in_segment": "a"}},
        {"id": "me", "when": {"in_segment": "me"}}
    ]}))
    .unwrap_err();
    let got: Vec<(Code, &str)> = errors.iter().map(|e| (e.code, e.path.as_str())).collect();
    assert_eq!(got, [(Code::SegmentCycle, "/segments/2/when"), (Code::SegmentCycle, "/segments/3/when"), (Code::SegmentCycle, "/segments/5/when")], "{errors:#?}");
    assert!(errors[0].message.contains(r#"segment "first" reads "repeat""#) && errors[0].message.contains(r#"group "life""#), "{}", errors[0].message);
    assert!(!errors[0].message.contains("\"vip\""), "{}", errors[0].message);
    // A circle of ungrouped segments says nothing of groups.
    assert!(!errors[1].message.contains("group"), "{}", errors[1].message);
    assert_eq!(errors[2].message, r#"segment "me" reads itself through in_segment"#);
}

/// `weekday`, `month` and `day_of_month` compared for equality (or listed for `in`) with a value
/// they never take — Sunday as JavaScript's 0, a name, a month 13, a string in `in`'s strict
/// list — are compile errors: the segment would silently never match.
#[test]
fn calendar_values_a_rule_can_never_equal_are_compile_errors() {
    let seg = |when: serde_json::Value| json!({"version": 1, "segments": [{"id": "s", "when": when}]});
    let bad = [
        json!({"==": [{"weekday": []}, 0]}),
        json!({"in": [{"weekday": []}, ["Sat", "Sun"]]}),
        json!({"in": [{"weekday": []}, ["6", "7"]]}),
        json!({"===": [{"weekday": []}, "6"]}),
        json!({"==": [{"month": [{"var": "user.attributes.birthday"}]}, 13]}),
        json!({"!=": [{"day_of_month": []}, 32]}),
    ];
    for when in bad {
        let errors = Engine::from_json(&seg(when.clone())).unwrap_err();
        assert!(!errors.is_empty() && errors.iter().all(|e| e.code == Code::InvalidArgument && e.message.contains(" never equals ")), "{when}: {errors:#?}");
    }
    let sunday = Engine::from_json(&seg(json!({"==": [{"weekday": []}, 0]}))).unwrap_err();
    assert_eq!(sunday[0].path, "/segments/0/when/==/1");
    assert!(sunday[0].message.starts_with("0 never equals weekday") && sunday[0].message.contains("Sunday is 7, not 0"), "{}", sunday[0].message);
    let names = Engine::from_json(&seg(json!({"in": [{"weekday": []}, [6, "Sun"]]}))).unwrap_err();
    assert_eq!(names.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), ["/segments/0/when/in/1/1"]);
    for when in [
        json!({"in": [{"weekday": []}, [6, 7]]}),
        json!({"==": [{"weekday": []}, "6"]}),
        json!({"==": [{"month": [{"var": "user.attributes.birthday"}]}, {"month": []}]}),
        json!({"==": [{"day_of_month": []}, 31]}),
        json!({"<": [{"weekday": []}, 8]}),
    ] {
        assert!(Engine::from_json(&seg(when.clone())).is_ok(), "{when}");
    }
    let e = engine(seg(json!({"==": [{"weekday": []}, 7]})));
    let d = e.decide(&json!({"now": "2026-11-29T10:00:00+09:00", "user": {"userId": "U1"}}).to_string(), DecideOptions::default()).unwrap();
    assert_eq!(d.segments, ["s"]);
}

/// flagd weighs a bucket written as `["holdout", "10"]` as nothing and the split as null; in a
/// config that is a segment that never matches, so it is a compile error there (a bare rule
/// keeps flagd's null).
#[test]
fn a_fractional_weight_written_as_text_is_a_compile_error_in_a_config() {
    let seg = |when: serde_json::Value| json!({"version": 1, "segments": [{"id": "holdout", "when": when}]});
    let errors = Engine::from_json(&seg(json!({"==": [{"fractional": [["holdout", "10"], ["campaign", 90]]}, "holdout"]}))).unwrap_err();
    let got: Vec<(Code, &str)> = errors.iter().map(|e| (e.code, e.path.as_str())).collect();
    assert_eq!(got, [(Code::InvalidArgument, "/segments/0/when/==/0/fractional/0")]);
    assert!(errors[0].message.contains(r#"["holdout","10"]"#), "{}", errors[0].message);
    let keyed = Engine::from_json(&seg(json!({"fractional": [{"var": "user.userId"}, ["a", 50], ["b"], "c"]}))).unwrap_err();
    assert_eq!(keyed.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), ["/segments/0/when/fractional/3"]);
    for ok in [
        json!({"==": [{"fractional": [["holdout", 10], ["campaign", 90]]}, "holdout"]}),
        json!({"==": [{"fractional": ["key", ["a", 50], ["b"]]}, "a"]}),
        json!({"==": [{"fractional": [{"cat": ["x", {"var": "user.userId"}]}, ["a", 1.5], ["b", 0]]}, "a"]}),
    ] {
        assert!(Engine::from_json(&seg(ok.clone())).is_ok(), "{ok}");
    }
    assert_eq!(kizuna::engine::evaluate(r#"{"fractional": ["k", ["a", "10"], ["b", 90]]}"#, "{}", NOW).unwrap(), "null");
}

/// A segment whose object cannot be read (`"wen"` for `"when"`) is reported where it is; the
/// rules that read it are not also told "unknown segment" with a list of ids that leaves it
/// out, which sent a marketer looking for a typo in the right id.
#[test]
fn a_segment_that_cannot_be_read_is_not_also_unknown_where_it_is_used() {
    let config = json!({"version": 1,
        "segments": [{"id": "no_marketing", "wen": {"has_tag": "opt_out"}}, {"id": "vip", "when": {"has_tag": "vip"}}],
        "contents": [{"id": "c", "variants": [{"id": "v", "when": {"!": {"in_segment": "no_marketing"}}, "messages": [{"type": "text", "text": "hi"}]}]}],
        "richMenus": {"menus": [{"id": "m", "richMenuId": "richmenu-00000000000000000000000000000001"}], "rules": [{"segment": "no_marketing", "menu": "m"}]}});
    let errors = Engine::from_json(&config).unwrap_err();
    let found: Vec<(&str, Code)> = errors.iter().map(|e| (e.path.as_str(), e.code)).collect();
    assert_eq!(found, [("/segments/0", Code::MissingField), ("/segments/0/wen", Code::UnknownField)], "{errors:#?}");
    // An id that no segment has is still unknown.
    let mut typo = config.clone();
    typo["segments"][0]["when"] = json!({"has_tag": "opt_out"});
    typo["contents"][0]["variants"][0]["when"] = json!({"in_segment": "no_marketin"});
    let errors = Engine::from_json(&typo).unwrap_err();
    assert!(errors.iter().any(|e| e.code == Code::UnknownSegment && e.path == "/contents/0/variants/0/when/in_segment"), "{errors:#?}");
}

/// `"6"` (text) listed for `in` with `weekday`, or `"06"` compared strictly with `month`, never
/// matches because it is text, not because of where the count starts: the message says to
/// write the number, not about JavaScript's getDay / getMonth.
#[test]
fn a_calendar_number_written_as_text_is_told_to_be_written_as_a_number() {
    for (rule, fix) in [(json!({"in": [{"weekday": []}, ["6", 7]]}), "write 6"), (json!({"===": [{"month": []}, "06"]}), "write 6")] {
        let config = json!({"version": 1, "segments": [{"id": "s", "when": rule}]});
        let errors = Engine::from_json(&config).unwrap_err();
        assert_eq!(errors[0].code, Code::InvalidArgument);
        assert!(errors[0].message.contains(fix) && !errors[0].message.contains("JavaScript"), "{}", errors[0].message);
    }
}

#[test]
fn a_context_read_into_the_rust_types_and_written_again_decides_the_same() {
    // An item's `at` in epoch milliseconds (as the engine takes it) survives `kizuna::Context`.
    let e = Engine::compile(CONFIG).unwrap();
    let text = json!({"version": 1, "now": NOW, "user": {"userId": "U1", "purchases": [
        {"sku": "LT-120", "category": "lotion", "amount": 3800, "at": 1_762_000_000_000_i64},
        {"sku": "SR-30", "category": "serum", "amount": 6800, "at": "2026-11-20T10:00:00+09:00"}
    ], "events": [{"type": "page_view", "at": 1_764_000_000_000_i64}]}})
    .to_string();
    let typed: kizuna::Context = serde_json::from_str(&text).unwrap();
    assert_eq!(typed.user.purchases[0].at, kizuna::contract::Timestamp::Millis(1_762_000_000_000));
    assert_eq!(typed.user.purchases[1].at, "2026-11-20T10:00:00+09:00".into());
    let again = serde_json::to_string(&typed).unwrap();
    let (a, b) = (e.decide(&text, DecideOptions::default()).unwrap(), e.decide(&again, DecideOptions::default()).unwrap());
    assert_eq!(a.segments, b.segments);
    assert!(a.segments.iter().any(|s| s == "repeat"), "{:?}", a.segments);
}
