//! flagd conformance: OpenFeature flagd's `fractional` and `sem_ver`, read at test time from
//! `../shared/conformance/flagd-extensions/`. The implicit bucketing key comes from the data's
//! `$flagd.flagKey` and `targetingKey` (the `Env` keys are left unset).

use kizuna::logic::{compile, murmur3_32, Env, Options};
use kizuna::value::Value;
use serde_json::Value as Json;
use std::io::Write as _;
use std::path::Path;

fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[test]
fn flagd_conformance() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/flagd-extensions");
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T20:00:00+09:00").expect("valid now");
    let env = Env::new(now);
    let (mut passed, mut total) = (0, 0);
    let mut failures = Vec::new();
    for file in ["fractional.json", "sem_ver.json"] {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let suite: Json = serde_json::from_str(&text).expect("suite is JSON");
        let cases: Vec<&Json> = suite.as_array().expect("suite is an array").iter().filter(|c| !c.is_string()).collect();
        let mut ok = 0;
        for case in &cases {
            let description = case.get("description").and_then(Json::as_str).unwrap_or_default();
            let rule = case.get("rule").expect("rule");
            let data = case.get("data").cloned().unwrap_or(Json::Null);
            let outcome = match compile(rule, &Options::default(), "") {
                Err(errors) => Err(format!("compile error {:?}", errors.iter().map(ToString::to_string).collect::<Vec<_>>())),
                Ok(r) => {
                    let data = Value::from_serde(&data);
                    match (r.apply(&data, &env), case.get("result"), case.get("error")) {
                        (Ok(got), Some(want), _) if *got == Value::from_serde(want) => Ok(()),
                        (Ok(got), want, _) => Err(format!("got {}, want {want:?}", got.to_json())),
                        (Err(e), _, Some(err)) if err.get("type").and_then(Json::as_str) == Some(e.error_type().as_str()) => Ok(()),
                        (Err(e), _, _) => Err(format!("error {:?}: {}", e.error_type(), e.message())),
                    }
                }
            };
            match outcome {
                Ok(()) => ok += 1,
                Err(why) => failures.push(format!("{file}: {description} — rule {rule} — {why}")),
            }
        }
        report(&format!("flagd-extensions/{file}: {ok}/{}", cases.len()));
        passed += ok;
        total += cases.len();
    }
    report(&format!("flagd total: {passed}/{total} passed"));
    assert!(failures.is_empty(), "{} failing case(s):\n{}", failures.len(), failures.join("\n"));
}

/// The hash flagd buckets with, against MurmurHash3 x86_32 reference values.
#[test]
fn murmur3_matches_reference() {
    assert_eq!(murmur3_32(b"", 0), 0);
    assert_eq!(murmur3_32(b"hello", 0), 0x248b_fa47);
    assert_eq!(murmur3_32(b"The quick brown fox jumps over the lazy dog", 0), 0x2e4f_f723);
}
