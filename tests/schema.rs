//! The JSON Schemas in schema/ are generated from the contract types; this test fails when the
//! checked-in files are stale. `make schema` (KIZUNA_WRITE_SCHEMA=1) rewrites them.

use kizuna::contract::SyncEnvelope;
use kizuna::quiz::{QuizOutcome, QuizQuestion, QuizState};
use kizuna::{Config, Context, Decision};
use std::path::Path;

fn check<T: schemars::JsonSchema>(name: &str, id: &str) {
    let mut schema = schemars::schema_for!(T);
    schema.insert("$id".into(), format!("urn:kizuna:schema:{id}").into());
    let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema").join(format!("{name}.schema.json"));
    if std::env::var_os("KIZUNA_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(on_disk == text, "{} is stale: run `make schema` and commit the result", path.display());
}

#[test]
fn config_schema_is_current() {
    check::<Config>("config", "config:1");
}

#[test]
fn context_schema_is_current() {
    check::<Context>("context", "context:1");
}

#[test]
fn decision_schema_is_current() {
    check::<Decision>("decision", "decision:1");
}

#[test]
fn sync_envelope_schema_is_current() {
    check::<SyncEnvelope>("sync", "sync:1");
}

#[test]
fn quiz_schemas_are_current() {
    check::<QuizState>("quiz-state", "quiz-state:1");
    check::<QuizQuestion>("quiz-question", "quiz-question:1");
    check::<QuizOutcome>("quiz-outcome", "quiz-outcome:1");
}
