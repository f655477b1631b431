//! The JSON contract: Config (what a marketer writes), Context (one user, one moment) and
//! Decision (what kizuna concluded). Each carries `"version": 1`; the JSON Schemas in
//! `schema/` are generated from these types (`make schema`), and a test fails when they drift.

pub mod config;
pub mod context;
pub mod decision;
/// The fields the Context defines, for `kizuna check`'s warnings (native only).
#[cfg(lint)]
pub mod fields;
pub mod menus;
pub mod read;
pub mod sync;

pub use config::{Config, Content, Experiment, Segment, Variant};
pub use context::{Context, Purchase, Timestamp, User, UserEvent};
pub use decision::{ContentChoice, ContentExplain, Decision, ExperimentExplain, MenuAction, MessageJson, MenuReason, QuizCompletion, RichMenuChoice, SegmentExplain, Step, VariantExplain, VariantWeight};
pub use menus::{Menu, MenuRule, RichMenus};
pub use sync::{SyncEnvelope, SyncSource};

/// The contract version this engine reads and writes.
pub const VERSION: u32 = 1;

/// The schema of an optional member kizuna writes and leaves out when absent, never as `null`
/// (`skip_serializing_if = "Option::is_none"`, and the same in the hand-written JSON writers):
/// its `Option`'s schema without the `null`, so a validator refuses a `null` there and the npm
/// package's types say `field?: T`, not `field?: T | null` (which would have consumers test for
/// a `null` that never comes). For output members only: the Rust types still read `null`, and
/// the input documents (Config, Context) keep the `null`s they accept.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn absent_not_null(schema: &mut schemars::Schema) {
    let not_null = |s: &serde_json::Value| s.get("type").and_then(serde_json::Value::as_str) != Some("null");
    let Some(o) = schema.as_object_mut() else { return };
    // `Option<String>`: {"type": ["string", "null"]} → {"type": "string"}.
    if let Some(serde_json::Value::Array(types)) = o.get_mut("type") {
        types.retain(|t| t.as_str() != Some("null"));
        if let [only] = types.as_slice() {
            let only = only.clone();
            o.insert("type".into(), only);
        }
    }
    // `Option<Struct>`: {"anyOf": [{"$ref": …}, {"type": "null"}]} → {"anyOf": [{"$ref": …}]},
    // which keeps the member's description on the member (beside a bare `$ref`, the generator
    // of the npm package's types would move it onto the referenced type).
    if let Some(serde_json::Value::Array(any)) = o.get_mut("anyOf") {
        any.retain(not_null);
    }
}
