//! JsonLogic conformance: jsonlogic.com's classic `tests.json` and every suite of the JSON Logic
//! organisation's compat tables, read at test time from `../shared/conformance/`.
//!
//! An expected error (`{"error": {"type": …}}`) passes when compiling fails ("Invalid
//! Arguments": kizuna rejects bad literal arguments up front) or when evaluation fails with the
//! same error type. Cases marked `decimal` (arbitrary-precision mode) may be skipped.

use kizuna::logic::{compile, Env, Options, Rule};
use kizuna::value::Value;
use serde_json::Value as Json;
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance")
}

/// Printed straight to stderr so that the counts show even when the test passes.
fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn read(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

enum Expect {
    Result(Json),
    Error(String),
}

struct Case {
    description: String,
    rule: Json,
    data: Json,
    expect: Expect,
    decimal: bool,
}

enum Outcome {
    Pass,
    Fail(String),
}

fn env() -> Env<'static> {
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T20:00:00+09:00").expect("valid now");
    Env::new(now)
}

fn run(case: &Case) -> Outcome {
    let rule: Rule = match compile(&case.rule, &Options::default(), "") {
        Ok(r) => r,
        Err(errors) => {
            return match &case.expect {
                Expect::Error(t) if t == "Invalid Arguments" => Outcome::Pass,
                _ => Outcome::Fail(format!("compile error {:?}", errors.iter().map(ToString::to_string).collect::<Vec<_>>())),
            };
        }
    };
    let data = Value::from_serde(&case.data);
    match (rule.apply(&data, &env()), &case.expect) {
        (Ok(got), Expect::Result(want)) => {
            if *got == Value::from_serde(want) {
                Outcome::Pass
            } else {
                Outcome::Fail(format!("got {}, want {want}", got.to_json()))
            }
        }
        (Ok(got), Expect::Error(t)) => Outcome::Fail(format!("got {}, want error {t:?}", got.to_json())),
        (Err(e), Expect::Error(t)) if e.error_type() == *t => Outcome::Pass,
        (Err(e), _) => Outcome::Fail(format!("error {:?} ({})", e.error_type(), e.message())),
    }
}

/// Runs one suite file; returns its failures (already formatted).
fn run_suite(name: &str, cases: &[Case], totals: &mut (usize, usize, usize)) -> Vec<String> {
    let (mut passed, mut skipped) = (0, 0);
    let mut failures = Vec::new();
    for case in cases {
        match run(case) {
            Outcome::Pass => passed += 1,
            Outcome::Fail(why) if case.decimal => {
                skipped += 1;
                report(&format!("  skip {name}: {} (decimal mode: {why})", case.description));
            }
            Outcome::Fail(why) => failures.push(format!("{name}: {} — rule {} data {} — {why}", case.description, case.rule, case.data)),
        }
    }
    let skip = if skipped > 0 { format!(" ({skipped} decimal skipped)") } else { String::new() };
    report(&format!("{name}: {passed}/{}{skip}", cases.len()));
    totals.0 += passed;
    totals.1 += cases.len();
    totals.2 += skipped;
    failures
}

/// Suite items that are cases (strings are section comments).
fn case_items(suite: &Json) -> Vec<&Json> {
    suite.as_array().map(|items| items.iter().filter(|i| !i.is_string()).collect()).unwrap_or_default()
}

fn classic_cases(suite: &Json) -> Vec<Case> {
    case_items(suite)
        .into_iter()
        .map(|c| {
            let [rule, data, result] = c.as_array().and_then(|a| <[Json; 3]>::try_from(a.clone()).ok()).expect("[rule, data, expected]");
            Case { description: rule.to_string(), rule, data, expect: Expect::Result(result), decimal: false }
        })
        .collect()
}

/// `{description, rule, data?, result | error: {type}, decimal?}` cases (org and flagd format).
fn object_cases(suite: &Json) -> Vec<Case> {
    case_items(suite)
        .into_iter()
        .map(|c| {
            let field = |k: &str| c.get(k).cloned();
            let expect = match field("error") {
                Some(e) => Expect::Error(e.get("type").and_then(Json::as_str).unwrap_or_default().to_string()),
                None => Expect::Result(field("result").expect("result or error")),
            };
            Case {
                description: field("description").and_then(|d| d.as_str().map(String::from)).unwrap_or_default(),
                rule: field("rule").expect("rule"),
                data: field("data").unwrap_or(Json::Null),
                expect,
                decimal: c.get("decimal").and_then(Json::as_bool).unwrap_or(false),
            }
        })
        .collect()
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).expect("suite folder").map(|e| e.expect("dir entry").path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") && p.file_name().is_some_and(|n| n != "index.json") {
            out.push(p);
        }
    }
}

#[test]
fn jsonlogic_conformance() {
    let root = conformance_dir();
    let mut totals = (0, 0, 0);
    let mut failures = Vec::new();

    let classic = root.join("jsonlogic-classic");
    failures.extend(run_suite("jsonlogic-classic/tests.json", &classic_cases(&read(&classic.join("tests.json"))), &mut totals));
    let rule_like = case_items(&read(&classic.join("rule_like.json"))).len();
    report(&format!(
        "jsonlogic-classic/rule_like.json: skipped {rule_like} (json-logic-js's optional rule_like() pattern matcher over raw rule JSON, an editor helper; not evaluation semantics)"
    ));

    let org = root.join("jsonlogic-org-compat-tables");
    let mut files = Vec::new();
    json_files(&org, &mut files);
    assert!(files.len() >= 48, "expected the 48 org suites, found {}", files.len());
    for file in files {
        let name = file.strip_prefix(&root).unwrap_or(&file).display().to_string();
        failures.extend(run_suite(&name, &object_cases(&read(&file)), &mut totals));
    }

    report(&format!("jsonlogic total: {}/{} passed, {} decimal skipped", totals.0, totals.1, totals.2));
    assert!(failures.is_empty(), "{} failing case(s):\n{}", failures.len(), failures.join("\n"));
}
