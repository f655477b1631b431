//! Unit tests of the marketing operators, compile-time validation, explain and projection.
//! (JsonLogic semantics are covered by the conformance suites in tests/.)

use super::*;
use crate::value::{parse, parse_projected};
use crate::Code;
use serde_json::json;

fn opts() -> Options {
    Options::new(Options::default().tz, vec!["vip".into(), "repeat".into()])
}

const NOW: &str = "2026-11-27T20:00:00+09:00"; // a Friday

fn env() -> Env<'static> {
    Env::new(DateTime::parse_from_rfc3339(NOW).unwrap())
}

fn eval_with(rule: serde_json::Value, data: &str, env: &Env) -> serde_json::Value {
    let r = compile(&rule, &opts(), "").unwrap_or_else(|e| panic!("{rule}: {e:?}"));
    let data = parse(data).unwrap();
    let out = r.apply(&data, env).unwrap_or_else(|e| panic!("{rule}: {e:?}"));
    out.to_serde()
}

fn eval(rule: serde_json::Value, data: &str) -> serde_json::Value {
    eval_with(rule, data, &env())
}

fn errors(rule: serde_json::Value) -> Vec<Error> {
    compile(&rule, &opts(), "/segments/3/when").err().unwrap_or_default()
}

#[test]
fn time_operators() {
    let user = r#"{"user":{"attributes":{"last":"2026-11-17T20:00:00+09:00","birthday":"1990-11-03","bad":"2026-13-01"}},"event":{"ts":"2026-11-30T08:15:00Z"}}"#;
    assert_eq!(eval(json!({"now": []}), "{}"), json!(NOW));
    assert_eq!(eval(json!({"ago": "P1M"}), "{}"), json!("2026-10-27T20:00:00+09:00"));
    assert_eq!(eval(json!({"from_now": "PT4H30M"}), "{}"), json!("2026-11-28T00:30:00+09:00"));
    assert_eq!(eval(json!({"days_since": [{"var": "user.attributes.last"}]}), user), json!(10));
    assert_eq!(eval(json!({"hours_since": {"var": "user.attributes.last"}}), user), json!(240));
    assert_eq!(eval(json!({"days_since": "2026-11-28T08:00:00+09:00"}), "{}"), json!(-0.5));
    assert_eq!(eval(json!({"days_since": [{"var": "user.attributes.missing"}]}), user), json!(null));
    // Dates apart in the config's zone (+09:00), whatever the hours: 11-27 20:00 is one date
    // after 11-26 23:59 JST, and 11-26 15:30 UTC is 11-27 00:30 JST, the same date.
    assert_eq!(eval(json!({"calendar_days_since": "2026-11-26T23:59:00+09:00"}), "{}"), json!(1));
    assert_eq!(eval(json!({"days_since": "2026-11-26T23:59:00+09:00"}), "{}"), json!(0.8340277777777778));
    assert_eq!(eval(json!({"calendar_days_since": "2026-11-26T15:30:00Z"}), "{}"), json!(0));
    assert_eq!(eval(json!({"calendar_days_since": [{"var": "user.attributes.last"}]}), user), json!(10));
    assert_eq!(eval(json!({"calendar_days_since": "2026-12-01"}), "{}"), json!(-4));
    assert_eq!(eval(json!({"<": [{"calendar_days_since": [{"var": "user.attributes.missing"}]}, 3]}), user), json!(false));
    assert_eq!(eval(json!({"after": [{"var": "user.attributes.last"}, {"ago": "P30D"}]}), user), json!(true));
    assert_eq!(eval(json!({"before": [{"var": "user.attributes.last"}, "2026-11-17"]}), user), json!(false));
    assert_eq!(eval(json!({"before": [{"var": "nope"}, "2026-11-17"]}), user), json!(null));
    assert_eq!(eval(json!({"time_between": [{"now": []}, "2026-11-27", "2026-11-27T23:59:59+09:00"]}), "{}"), json!(true));
    assert_eq!(eval(json!({"weekday": []}), "{}"), json!(5));
    assert_eq!(eval(json!({"weekday": [{"var": "event.ts"}]}), user), json!(1));
    assert_eq!(eval(json!({"time_of_day": [{"var": "event.ts"}]}), user), json!("17:15"));
    assert_eq!(eval(json!({"<=": ["09:00", {"time_of_day": []}, "18:00"]}), "{}"), json!(false));
    assert_eq!(eval(json!({"==": [{"month": [{"var": "user.attributes.birthday"}]}, {"month": []}]}), user), json!(true));
    assert_eq!(eval(json!({"day_of_month": []}), "{}"), json!(27));
    assert_eq!(eval(json!({"duration": "P30D"}), "{}"), json!(2_592_000));
    assert_eq!(eval(json!({"duration": "PT1.5S"}), "{}"), json!(1.5));

    // The time zone of the environment decides calendar fields and bare dates.
    let utc = Env { tz: FixedOffset::east_opt(0).unwrap(), ..env() };
    assert_eq!(eval_with(json!({"now": []}), "{}", &utc), json!("2026-11-27T11:00:00+00:00"));
    assert_eq!(eval_with(json!({"time_of_day": []}), "{}", &utc), json!("11:00"));

    // A bad timestamp in the data fails with the rule's path.
    let r = compile(&json!({"and": [true, {"days_since": [{"var": "user.attributes.bad"}]}]}), &opts(), "/segments/0/when").unwrap();
    let e = r.matches(&parse(user).unwrap(), &env()).unwrap_err();
    assert_eq!(e.code, Code::InvalidTimestamp);
    assert_eq!(e.path, "/segments/0/when/and/1");
    assert!(e.message.contains("2026-13-01"), "{}", e.message);
}

#[test]
fn tags_segments_and_strings() {
    let user = r#"{"user":{"tags":["vip","line_friend"],"attributes":{"email":"a@example.com"}}}"#;
    assert_eq!(eval(json!({"has_tag": "vip"}), user), json!(true));
    assert_eq!(eval(json!({"has_tag": ["repeat"]}), user), json!(false));
    assert_eq!(eval(json!({"has_any_tag": ["repeat", "line_friend"]}), user), json!(true));
    assert_eq!(eval(json!({"has_all_tags": ["vip", "repeat"]}), user), json!(false));
    assert_eq!(eval(json!({"has_tag": "vip"}), "{}"), json!(false));
    assert_eq!(eval(json!({"ends_with": [{"var": "user.attributes.email"}, "@example.com"]}), user), json!(true));
    assert_eq!(eval(json!({"starts_with": [{"var": "user.attributes.nope"}, ""]}), user), json!(false));

    let r = compile(&json!({"or": [{"in_segment": "repeat"}, {"in_segment": "vip"}, {"in_segment": "repeat"}]}), &opts(), "").unwrap();
    assert_eq!(r.segment_refs(), &[0, 1]);
    let data = parse("{}").unwrap();
    let segments = [Some(false), Some(true)];
    assert!(r.matches(&data, &Env { segments: &segments, ..env() }).unwrap());
    assert!(!r.matches(&data, &Env { segments: &[Some(false)], ..env() }).unwrap());
}

#[test]
fn fractional_takes_keys_from_env_first() {
    // flagd's own case: headerColor + foo@foo.com, 50/50 blue/green → green.
    let rule = json!({"fractional": [["blue", 50], ["green", 50]]});
    let data = r#"{"targetingKey":"foo@foo.com","$flagd":{"flagKey":"headerColor"}}"#;
    assert_eq!(eval(rule.clone(), data), json!("green"));
    let keyed = Env { flag_key: Some("headerColor"), targeting_key: Some("foo@foo.com"), ..env() };
    assert_eq!(eval_with(rule.clone(), r#"{"targetingKey":"someone-else"}"#, &keyed), json!("green"));
    assert_eq!(eval(rule, "{}"), json!(null));
}

#[test]
fn compile_reports_every_problem_with_its_path() {
    let e = errors(json!({"and": [
        {"equals": [{"var": "user.plan"}, "gold"]},
        {"in_segment": "repaet"},
        {"ago": "P30X"},
        {"before": [{"var": "user.x"}, "2026-02-30"]},
        {"==": [1]},
        {"has_any_tag": []},
        {"has_all_tags": ""},
        {"a": 1, "b": 2},
        {"duration": "P1M"}
    ]}));
    let got: Vec<(Code, &str)> = e.iter().map(|e| (e.code, e.path.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (Code::UnknownOperator, "/segments/3/when/and/0"),
            (Code::UnknownSegment, "/segments/3/when/and/1/in_segment"),
            (Code::InvalidDuration, "/segments/3/when/and/2/ago"),
            (Code::InvalidTimestamp, "/segments/3/when/and/3/before/1"),
            (Code::WrongArity, "/segments/3/when/and/4"),
            (Code::InvalidArgument, "/segments/3/when/and/5/has_any_tag"),
            // the one-tag shorthand, empty: refused as {"has_tag": ""} and [""] are (it found
            // no user but one with an empty tag; tests/npm/operators-differential.test.mjs)
            (Code::InvalidArgument, "/segments/3/when/and/6/has_all_tags"),
            (Code::InvalidArgument, "/segments/3/when/and/7"),
            (Code::InvalidDuration, "/segments/3/when/and/8/duration"),
        ]
    );
    let messages: Vec<&str> = e.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages.first().copied(), Some(r#"unknown operator "equals"; did you mean "=="?"#));
    assert!(messages.get(1).is_some_and(|m| m.contains(r#"did you mean "repeat"?"#)), "{messages:?}");
    // Operators marketers reach for that JsonLogic spells otherwise: what to write, not a near name.
    for (op, says) in [
        ("any", r#"did you mean "some"?"#),
        ("every", r#"did you mean "all"?"#),
        ("count", r#"to count a list's items, write {"reduce": [{"var": "user.purchases"}, {"+": [{"var": "accumulator"}, 1]}, 0]}"#),
        ("length", "to count a list's items"),
        ("sum", r#"{"var": "current.amount"}]}, 0]}; "+" adds its own arguments"#),
        ("between", r#""<" and "<=" take three arguments"#),
    ] {
        let e = errors(json!({op: [{"var": "user.purchases"}, 1]}));
        assert!(e.first().is_some_and(|e| e.code == Code::UnknownOperator && e.message.contains(says)), "{op}: {e:?}");
    }

    let mut deep = json!(true);
    for _ in 0..100 {
        deep = json!({"!": [deep]});
    }
    let e = errors(deep);
    assert_eq!(e.len(), 1);
    assert_eq!(e.first().map(|e| e.code), Some(Code::LimitExceeded));
}

#[test]
fn explain_names_the_deciding_conditions() {
    let rule = json!({"and": [
        {"has_tag": "vip"},
        {"or": [{">": [{"var": "user.attributes.points"}, 1000]}, {"==": [{"var": "user.attributes.plan"}, "gold"]}]},
        {"<": [{"days_since": [{"var": "user.attributes.last"}]}, 30]}
    ]});
    let r = compile(&rule, &opts(), "/segments/0/when").unwrap();
    let data = parse(r#"{"user":{"tags":["vip"],"attributes":{"points":10,"plan":"gold","last":"2026-10-28T20:00:00+09:00"}}}"#).unwrap();
    let (result, steps) = r.explain(&data, &env());
    assert_eq!(result, Ok(false));
    assert_eq!(r.matches(&data, &env()), Ok(false));
    let got: Vec<(&str, &str)> = steps.iter().map(|s| (s.path.as_str(), s.op.as_str())).collect();
    assert_eq!(got, vec![("/segments/0/when/and/2", "<")]);
    assert_eq!(steps.first().map(|s| s.args.clone()), Some(vec![json!(30), json!(30)]));

    let data = parse(r#"{"user":{"tags":["vip"],"attributes":{"points":10,"plan":"gold","last":"2026-11-01"}}}"#).unwrap();
    let (result, steps) = r.explain(&data, &env());
    assert_eq!(result, Ok(true));
    let got: Vec<(&str, &str)> = steps.iter().map(|s| (s.path.as_str(), s.op.as_str())).collect();
    assert_eq!(got, vec![("/segments/0/when/and/0", "has_tag"), ("/segments/0/when/and/1/or/1", "=="), ("/segments/0/when/and/2", "<")]);
}

#[test]
fn projection_lists_the_paths_a_rule_reads() {
    let rule = json!({"and": [
        {"==": [{"var": "user.attributes.plan"}, "gold"]},
        {"some": [{"var": "user.purchases"}, {">": [{"var": "amount"}, 100]}]},
        {"has_tag": "vip"},
        {"!": {"missing": ["user.displayName"]}}
    ]});
    let r = compile(&rule, &opts(), "").unwrap();
    let mut p = crate::value::Projection::none();
    r.projection(&mut p);
    let text = r#"{"user":{"attributes":{"plan":"gold","other":1},"purchases":[{"amount":500,"sku":"x"}],"tags":["vip"],"displayName":"A","big":[1,2,3]},"event":{"x":1}}"#;
    let data = parse_projected(text, &p).unwrap();
    assert_eq!(
        data.to_json(),
        r#"{"user":{"attributes":{"plan":"gold"},"purchases":[{"amount":500,"sku":"x"}],"tags":["vip"],"displayName":"A"}}"#
    );
    assert!(r.matches(&data, &env()).unwrap());

    let dynamic = compile(&json!({"var": {"cat": ["user.", "x"]}}), &opts(), "").unwrap();
    let mut p = crate::value::Projection::none();
    dynamic.projection(&mut p);
    assert!(p.is_all());
}

#[test]
fn errors_carry_the_failing_sub_rule() {
    let r = compile(&json!({"or": [false, {"/": [1, {"var": "n"}]}]}), &opts(), "/x").unwrap();
    let e = r.matches(&parse(r#"{"n":0}"#).unwrap(), &env()).unwrap_err();
    assert_eq!((e.code, e.path.as_str()), (Code::EvaluationFailed, "/x/or/1"));
    assert!(e.message.contains("by zero"), "{}", e.message);
}

#[test]
fn loose_comparisons_do_not_fail_on_missing_values() {
    let data = "{}";
    assert_eq!(eval(json!({"==": [{"var": "user.plan"}, "gold"]}), data), json!(false));
    assert_eq!(eval(json!({"<": [{"var": "user.points"}, 100]}), data), json!(true));
    assert_eq!(eval(json!({"in": ["vip", {"var": "user.tags"}]}), data), json!(false));
}

/// The deepest rule `compile` accepts evaluates within a 1 MiB stack (Wasm's default), even in
/// a debug build, through every recursive path (operators, iterators, explain).
#[test]
fn deepest_rule_fits_a_small_stack() {
    let mut rule = json!({"!=": [{"var": "x"}, 2]});
    for i in 0.. {
        let wrapped = match i % 6 {
            0 => json!({"and": [true, rule]}),
            1 => json!({"if": [rule, true, false]}),
            2 => json!({"!": {"!": rule}}),
            3 => json!({"some": [[1], rule]}),
            4 => json!({"or": [false, rule]}),
            _ => json!({"try": [{"throw": "e"}, rule]}),
        };
        if compile(&wrapped, &opts(), "").is_err() {
            break;
        }
        rule = wrapped;
    }
    let r = compile(&rule, &opts(), "").unwrap_or_else(|e| panic!("{e:?}"));
    let ok = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let data = parse(r#"{"x":1}"#).unwrap();
            let env = env();
            let matched = r.matches(&data, &env).unwrap();
            let applied = truthy(&r.apply(&data, &env).unwrap());
            let (explained, _) = r.explain(&data, &env);
            (matched, applied, explained.unwrap())
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(ok, (true, true, true));
}

#[test]
fn explain_if_keeps_the_condition_taken_and_the_branch() {
    let rule = json!({"if": [{"has_tag": "a"}, {"==": [1, 1]}, {"has_tag": "vip"}, {">": [{"var": "user.n"}, 1]}, false]});
    let r = compile(&rule, &opts(), "").unwrap();
    let data = parse(r#"{"user":{"tags":["vip"],"n":5}}"#).unwrap();
    let (result, steps) = r.explain(&data, &env());
    assert_eq!(result, Ok(true));
    let got: Vec<(&str, &str)> = steps.iter().map(|s| (s.path.as_str(), s.op.as_str())).collect();
    assert_eq!(got, vec![("/if/2", "has_tag"), ("/if/3", ">")]);
    assert_eq!(steps.get(1).map(|s| (s.args.clone(), s.result.clone())), Some((vec![json!(5), json!(1)], json!(true))));
}

#[test]
fn rules_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone + std::fmt::Debug>() {}
    assert_send_sync::<Rule>();
    assert_send_sync::<EvalError>();
}

#[test]
fn lists_filtered_in_place_behave_like_filter() {
    let data = r#"{"p":[{"a":1,"c":"x"},{"a":5,"c":"y"},{"a":7,"c":"x"}],"n":5}"#;
    let x = json!({"==": [{"var": "c"}, "x"]});
    // reduce / some / map over a filter (references to the kept items) and over filters of
    // filters and of computed lists (moved items) give what the filter's own value gives.
    let sum = |list| json!({"reduce": [list, {"+": [{"var": "accumulator"}, {"var": "current.a"}]}, 0]});
    assert_eq!(eval(sum(json!({"filter": [{"var": "p"}, x.clone()]})), data), json!(8));
    assert_eq!(eval(sum(json!({"filter": [{"filter": [{"var": "p"}, x.clone()]}, {">": [{"var": "a"}, 2]}]})), data), json!(7));
    let computed = json!({"map": [{"var": "p"}, {"var": ""}]});
    assert_eq!(eval(sum(json!({"filter": [computed.clone(), x.clone()]})), data), json!(8));
    assert_eq!(eval(json!({"filter": [{"filter": [computed, x.clone()]}, {">": [{"var": "a"}, 2]}]}), data), json!([{"a": 7, "c": "x"}]));
    assert_eq!(eval(json!({"reduce": [{"filter": [{"var": "p"}, x.clone()]}, {"var": "current"}]}), data), json!({"a": 7, "c": "x"}));
    assert_eq!(eval(json!({"map": [{"filter": [{"var": "p"}, x.clone()]}, {"var": "a"}]}), data), json!([1, 7]));
    assert_eq!(eval(json!({"all": [{"filter": [{"var": "p"}, x.clone()]}, {"==": [{"var": "c"}, "x"]}]}), data), json!(true));
    assert_eq!(eval(json!({"some": [{"filter": [{"var": "missing"}, x.clone()]}, true]}), data), json!(false));
    // The filter's own error, at the filter.
    let r = compile(&json!({"some": [{"filter": [{"var": "n"}, x]}, true]}), &opts(), "/r").unwrap();
    let e = r.matches(&parse(data).unwrap(), &env()).unwrap_err();
    assert_eq!(e.path, "/r/some/0");
    assert!(e.message.contains("\"filter\" needs an array"), "{}", e.message);
}

#[test]
fn shared_results_are_computed_once_per_memo_and_only_when_pure() {
    let count = json!({"reduce": [{"var": "user.purchases"}, {"+": [{"var": "accumulator"}, 1]}, 0]});
    let mut rules = [
        compile(&json!({">=": [count.clone(), 2]}), &opts(), "").unwrap(),
        compile(&json!({"==": [count.clone(), 3]}), &opts(), "").unwrap(),
        compile(&json!({"some": [{"var": "user.purchases"}, {"in_segment": "vip"}]}), &opts(), "").unwrap(),
        compile(&json!({"some": [{"var": "user.purchases"}, {"in_segment": "vip"}]}), &opts(), "").unwrap(),
        // Inside an iterator body `var` reads an item: never shared with the root-level one.
        compile(&json!({"some": [{"var": "x"}, {"==": [count, 0]}]}), &opts(), "").unwrap(),
    ];
    assert_eq!(share_results(rules.iter_mut()), 1);
    let data = parse(r#"{"user":{"purchases":[1,2,3]},"x":[{"user":{"purchases":[]}}]}"#).unwrap();
    for (vip, want) in [(Some(false), [true, true, false, false, true]), (Some(true), [true, true, true, true, true])] {
        let segments = [vip];
        let env = Env { segments: &segments, ..env() };
        let memo = Memo::new(1);
        let got: Vec<bool> = rules.iter().map(|r| r.matches_with(&data, &env, &memo).unwrap()).collect();
        assert_eq!(got, want);
        let plain: Vec<bool> = rules.iter().map(|r| r.matches(&data, &env).unwrap()).collect();
        assert_eq!(plain, want);
    }
}

#[test]
fn a_thrown_object_is_described_with_sorted_keys() {
    // The same message whether the context was text (document order) or a serde_json tree
    // (sorted maps): the robustness suite found the two decisions differing.
    let r = compile(&json!({"throw": {"var": "x"}}), &opts(), "").unwrap();
    let data = parse(r#"{"x":{"type":5,"b":[1,{"d":1,"c":2}],"a":"s"}}"#).unwrap();
    let e = r.apply(&data, &env()).unwrap_err();
    assert!(e.message().ends_with(r#"the rule threw {"a":"s","b":[1,{"c":2,"d":1}],"type":5}"#), "{}", e.message());
}

#[test]
fn now_outside_four_digit_years_in_the_config_zone_is_an_error() {
    let r = compile(&json!({"now": []}), &opts(), "").unwrap();
    let data = parse("{}").unwrap();
    let mut late = Env::new(DateTime::parse_from_rfc3339("9999-12-31T23:00:00-05:00").unwrap());
    late.tz = FixedOffset::east_opt(9 * 3600).unwrap();
    let e = r.apply(&data, &late).unwrap_err();
    assert_eq!(e.code(), Code::InvalidTimestamp, "{}", e.message());
    let mut fine = Env::new(DateTime::parse_from_rfc3339("9999-12-31T14:00:00Z").unwrap());
    fine.tz = late.tz;
    assert_eq!(r.apply(&data, &fine).unwrap().to_serde(), json!("9999-12-31T23:00:00+09:00"));
    // Compared with rather than printed, `now` is refused alike.
    let cmp = compile(&json!({"before": ["2026-11-27T00:00:00Z", {"now": []}]}), &opts(), "").unwrap();
    assert_eq!(cmp.apply(&data, &late).unwrap_err().code(), Code::InvalidTimestamp);
    assert_eq!(cmp.apply(&data, &fine).unwrap().to_serde(), json!(true));
}

#[test]
fn a_missing_timestamp_never_orders_as_zero() {
    let none = r#"{"user":{}}"#;
    let some = r#"{"user":{"followedAt":"2026-11-25T20:00:00+09:00","birthday":"1990-11-03"}}"#;
    let recent = json!({"<": [{"days_since": [{"var": "user.followedAt"}]}, 7]});
    assert_eq!(eval(recent.clone(), none), json!(false));
    assert_eq!(eval(recent, some), json!(true));
    assert_eq!(eval(json!({">=": [7, {"hours_since": [{"var": "user.followedAt"}]}]}), none), json!(false));
    assert_eq!(eval(json!({"<=": [1, {"month": [{"var": "user.birthday"}]}, 12]}), none), json!(false));
    assert_eq!(eval(json!({"<=": [1, {"month": [{"var": "user.birthday"}]}, 12]}), some), json!(true));
    // Through arithmetic too: "within a week of the follow, counting the follow day".
    let shifted = json!({"<": [{"+": [{"days_since": [{"var": "user.followedAt"}]}, 1]}, 7]});
    assert_eq!(eval(shifted.clone(), none), json!(false));
    assert_eq!(eval(shifted, some), json!(true));
    let nested = json!({">": [14, {"*": [2, {"-": [{"days_since": [{"var": "user.followedAt"}]}, 1]}]}]});
    assert_eq!(eval(nested.clone(), none), json!(false));
    assert_eq!(eval(nested, some), json!(true));
    // The single-operand form, JsonLogic's numeric cast, too.
    let cast = json!({"<": [{"+": {"days_since": [{"var": "user.followedAt"}]}}, 7]});
    assert_eq!(eval(cast.clone(), none), json!(false));
    assert_eq!(eval(cast, some), json!(true));
    assert_eq!(eval(json!({">": [{"-": {"days_since": [{"var": "user.followedAt"}]}}, -7]}), none), json!(false));
    // Arithmetic alone keeps JsonLogic's answer (null is 0); so does equality.
    assert_eq!(eval(json!({"+": [{"days_since": [{"var": "user.followedAt"}]}, 1]}), none), json!(1));
    assert_eq!(eval(json!({"==": [{"+": [{"days_since": [{"var": "user.followedAt"}]}, 1]}, 1]}), none), json!(true));
    // Plain JsonLogic keeps its rule: null orders as 0.
    assert_eq!(eval(json!({"<": [{"var": "user.followedAt"}, 7]}), none), json!(true));
    assert_eq!(eval(json!({"<": [{"+": [{"var": "user.followedAt"}, 1]}, 7]}), none), json!(true));
}

#[test]
fn line_webhook_timestamps_in_epoch_milliseconds_are_instants() {
    // 1764241200000 ms = 2025-11-27T11:00:00Z = 20:00 at +09:00, a Thursday.
    let event = r#"{"event":{"timestamp":1764241200000}}"#;
    assert_eq!(eval(json!({"weekday": [{"var": "event.timestamp"}]}), event), json!(4));
    assert_eq!(eval(json!({"time_of_day": [{"var": "event.timestamp"}]}), event), json!("20:00"));
    assert_eq!(eval(json!({"days_since": [{"var": "event.timestamp"}]}), event), json!(365));
    assert_eq!(eval(json!({"before": [1764241200000_i64, "2025-11-27T20:00:01+09:00"]}), "{}"), json!(true));
    // Not a whole number of milliseconds, or outside the four-digit years: refused.
    let r = compile(&json!({"weekday": [{"var": "t"}]}), &opts(), "").unwrap();
    for bad in [r#"{"t":1.5}"#, r#"{"t":1e300}"#] {
        assert_eq!(r.apply(&parse(bad).unwrap(), &env()).unwrap_err().code(), Code::InvalidTimestamp, "{bad}");
    }
    assert_eq!(errors(json!({"weekday": [true]}))[0].code, Code::InvalidTimestamp);
}

#[test]
fn a_duration_compared_with_days_since_is_refused_at_its_pointer() {
    for op in ["days_since", "hours_since", "calendar_days_since"] {
        let e = errors(json!({"<": [{op: [{"var": "t"}]}, "P7D"]}));
        assert_eq!((e[0].code, e[0].path.as_str()), (Code::InvalidArgument, "/segments/3/when/</1"), "{op}");
        assert!(e[0].message.contains("compare with the number (7 for \"P7D\")"), "{}", e[0].message);
    }
    // A number, or a numeric string JsonLogic compares as a number, stays fine.
    assert!(errors(json!({"<": [{"days_since": [{"var": "t"}]}, "7"]})).is_empty());
}

#[test]
fn epoch_seconds_are_refused_with_the_fix_rather_than_read_as_1970() {
    // A backend's Unix time (seconds) read as milliseconds is January 1970: every user would be
    // 20,000 days dormant. From 10^8 to 10^11 (after 1973 as seconds) it is refused.
    let r = compile(&json!({">": [{"days_since": [{"var": "t"}]}, 90]}), &opts(), "").unwrap();
    for secs in ["1764207000", "100000000", "99999999999"] {
        let e = r.apply(&parse(&format!(r#"{{"t":{secs}}}"#)).unwrap(), &env()).unwrap_err();
        assert_eq!(e.code(), Code::InvalidTimestamp, "{secs}");
        assert!(e.message().contains("looks like epoch seconds") && e.message().contains("multiply it by 1000"), "{}", e.message());
    }
    // Milliseconds on either side still read as instants: 1970-01-02 and 1973-03-03.
    assert_eq!(eval(json!({"weekday": [{"var": "t"}]}), r#"{"t":99999999}"#), json!(5));
    assert_eq!(eval(json!({"weekday": [{"var": "t"}]}), r#"{"t":100000000000}"#), json!(6));
    // A literal is refused when the config compiles, at its pointer.
    let e = errors(json!({"before": [{"var": "t"}, 1764207000]}));
    assert_eq!((e[0].code, e[0].path.as_str()), (Code::InvalidTimestamp, "/segments/3/when/before/1"));
    assert!(e[0].message.starts_with("1764207000 looks like epoch seconds"), "{}", e[0].message);
}

// Found by tests/npm/time-differential.test.mjs: a literal `{}` where a timestamp goes was let
// through to fail at every evaluation, while `[]`, `true` and `"garbage"` are refused when the
// config compiles ("Literal timestamps and durations are checked at compile time").
#[test]
fn an_empty_object_literal_is_refused_as_a_timestamp_at_compile_time() {
    for rule in [json!({"days_since": [{}]}), json!({"after": [{"var": "t"}, {}]}), json!({"time_between": [{"var": "t"}, {}, "2026-12-01"]})] {
        let e = errors(rule.clone());
        assert_eq!(e.len(), 1, "{rule}: {e:?}");
        assert_eq!(e[0].code, Code::InvalidTimestamp, "{rule}");
        assert!(e[0].message.contains("got object"), "{}", e[0].message);
    }
    // A literal null is a missing timestamp, as a missing field is.
    assert_eq!(eval(json!({"days_since": [null]}), "{}"), json!(null));
}

// Found by tests/npm/time-differential.test.mjs: days and hours were (seconds + nanoseconds /
// 10^9) / unit, two roundings and a cancellation: a nanosecond before now was 1.0000000827 ns,
// and fractional results missed the nearest double by an ulp or two. Now one division of the
// exact nanoseconds (exact in a double up to 104 days, and for whole seconds up to 146 years).
#[test]
fn days_and_hours_since_are_the_nearest_double_to_the_exact_quotient() {
    let since = |op: &str, t: &str| eval(json!({op: [t]}), "{}").as_f64().unwrap();
    assert_eq!(since("hours_since", "2026-11-27T19:59:59.999999999+09:00"), 1.0 / 3_600e9);
    assert_eq!(since("days_since", "2026-11-27T19:59:59.999999999+09:00"), 1.0 / 86_400e9);
    // 2079-10-28T15:21:57+09:00 is 491,795,887 ms before 2079-11-03T04:28:32.887+05:30:
    // 5.692082025462963 days, correctly rounded; the two-step sum gave …29625.
    let env = Env::new(DateTime::parse_from_rfc3339("2079-11-03T04:28:32.887+05:30").unwrap());
    assert_eq!(eval_with(json!({"days_since": ["2079-10-28T15:21:57+09:00"]}), "{}", &env), json!(491_795_887.0 / 86_400_000.0));
    assert_eq!(491_795_887.0 / 86_400_000.0, 5.692082025462963);
    // Whole days stay whole, a century back.
    assert_eq!(since("days_since", "1926-11-27T20:00:00+09:00"), 36_525.0);
    assert_eq!(since("hours_since", "2026-11-28T20:00:00+09:00"), -24.0);
}

#[test]
fn one_malformed_item_does_not_decide_a_quantifier_whatever_the_order() {
    let rule = json!({"some": [{"var": "p"}, {"after": [{"var": "at"}, "2026-01-01"]}]});
    for data in [r#"{"p":[{"at":"2026-01-20"},{"at":"garbage"}]}"#, r#"{"p":[{"at":"garbage"},{"at":"2026-01-20"}]}"#] {
        assert_eq!(eval(rule.clone(), data), json!(true), "{data}");
    }
    // When no item decides, the bad one is the error; `throw` is never skipped.
    let r = compile(&rule, &opts(), "").unwrap();
    let e = r.apply(&parse(r#"{"p":[{"at":"2025-01-20"},{"at":"garbage"}]}"#).unwrap(), &env()).unwrap_err();
    assert_eq!(e.code(), Code::InvalidTimestamp);
    let all = json!({"all": [{"var": "p"}, {"after": [{"var": "at"}, "2026-01-01"]}]});
    assert_eq!(eval(all, r#"{"p":[{"at":"garbage"},{"at":"2025-01-20"}]}"#), json!(false));
    let thrown = compile(&json!({"some": [[1, 2], {"throw": "stop"}]}), &opts(), "").unwrap();
    assert!(thrown.apply(&parse("{}").unwrap(), &env()).is_err());
}

#[test]
fn a_time_of_day_bound_must_be_two_digit_hours_and_minutes() {
    let e = errors(json!({"<=": ["9:00", {"time_of_day": []}, "18:00"]}));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].code, Code::InvalidArgument);
    assert!(e[0].message.contains("\"09:00\""), "{}", e[0].message);
    assert!(errors(json!({"<=": ["09:00", {"time_of_day": []}, "18:00"]})).is_empty());
    // Hours 00–23 and minutes 00–59; "24:00" closes the day.
    for bad in ["99:99", "24:01", "12:60", "1a:00", "12:3"] {
        assert_eq!(errors(json!({"<": [{"time_of_day": []}, bad]})).len(), 1, "{bad}");
    }
    assert!(errors(json!({"<": ["22:00", {"time_of_day": []}, "24:00"]})).is_empty());
    assert!(errors(json!({">=": [{"time_of_day": []}, "23:59"]})).is_empty());
}

// Found by tests/npm/jsonlogic-differential.test.mjs: json-logic-js's substr counts UTF-16
// units and truncates a negative length after subtracting it.
#[test]
fn substr_counts_utf16_units_and_converts_like_javascript() {
    // node -e 'console.log("😀abc".substr(2), "é😀x".substr(1, 2), "ab😀".substr(-2))'
    assert_eq!(eval(json!({"substr": ["😀abc", 2]}), "null"), json!("abc"));
    assert_eq!(eval(json!({"substr": ["é😀x", 1, 2]}), "null"), json!("😀"));
    assert_eq!(eval(json!({"substr": ["ab😀", -2]}), "null"), json!("😀"));
    assert_eq!(eval(json!({"substr": ["😀x", 0, -1]}), "null"), json!("😀"));
    // A pair cut in half: JavaScript keeps the lone surrogate, which UTF-8 writes as U+FFFD.
    assert_eq!(eval(json!({"substr": ["é😀x", 2]}), "null"), json!("\u{FFFD}x"));
    assert_eq!(eval(json!({"substr": ["😀", 0, 1]}), "null"), json!("\u{FFFD}"));
    assert_eq!(eval(json!({"substr": ["😀", 1, 0]}), "null"), json!(""));
    assert_eq!(eval(json!({"substr": ["é😀x", -2, "😀"]}), "null"), json!(""));
    // Arrays and objects are NaN, as in arithmetic, which counts as 0 (JavaScript would read
    // [2] as 2: kizuna's choice, README "Operators").
    assert_eq!(eval(json!({"substr": ["abcdef", {"var": "a"}]}), r#"{"a":[2]}"#), json!("abcdef"));
    assert_eq!(eval(json!({"substr": ["abcdef", 1, {"var": "a"}]}), r#"{"a":[2]}"#), json!(""));
    assert_eq!(eval(json!({"substr": ["abcdef", {"var": "o"}]}), r#"{"o":{"a":1}}"#), json!("abcdef"));
    // "-4503599627370497".substr(0, 17 + -2.5): 14 units, not 15.
    assert_eq!(eval(json!({"substr": ["-4503599627370497", 0, -2.5]}), "null"), json!("-4503599627370"));
    assert_eq!(eval(json!({"substr": ["jsonlogic", -5, -2]}), "null"), json!("log"));
    assert_eq!(eval(json!({"substr": ["jsonlogic", 1, -5]}), "null"), json!("son"));
    assert_eq!(eval(json!({"substr": ["abc", 5, -1]}), "null"), json!(""));
    assert_eq!(eval(json!({"substr": ["abc", 1, 1e300]}), "null"), json!("bc"));
}
