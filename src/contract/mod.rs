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
pub use context::{Context, Purchase, User, UserEvent};
pub use decision::{ContentChoice, ContentExplain, Decision, ExperimentExplain, MenuAction, MessageJson, MenuReason, QuizCompletion, RichMenuChoice, SegmentExplain, Step, VariantExplain, VariantWeight};
pub use menus::{Menu, MenuRule, RichMenus};
pub use sync::{SyncEnvelope, SyncSource};

/// The contract version this engine reads and writes.
pub const VERSION: u32 = 1;
