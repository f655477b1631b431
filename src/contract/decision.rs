//! Decision: what kizuna concluded for one context, ready to store, sync and replay.

use crate::error::Error;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Output of one decision. Byte-identical for the same config and context on every runtime.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// Contract version: `1`.
    pub version: u32,
    /// Deterministic id: a 128-bit hash (hex) of the config hash, the user id, `now`, the
    /// event's `webhookEventId` and the decision's content. Same inputs ⇒ same id, so a
    /// backend can de-duplicate. Not a cryptographic digest.
    pub decision_id: String,
    /// Hash (hex) of the canonical config JSON the engine was compiled from.
    pub config_hash: String,
    /// The user the decision is about.
    pub user_id: String,
    /// The context's `now`, as given.
    pub now: String,
    /// Ids of the segments the user is in, in config order.
    pub segments: Vec<String>,
    /// For each exclusive group, the segment the user is in (groups without a match are absent).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, String>,
    /// What to do with the user's rich menu (present when the config has `richMenus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rich_menu: Option<RichMenuChoice>,
    /// The content rendered for this decision (chosen by the event type, or asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ContentChoice>,
    /// The rendered LINE message objects, ready for the Messaging API's reply or push call
    /// (kept as JSON text, so every runtime writes the same bytes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Vec<serde_json::Map<String, Value>>"))]
    pub messages: Vec<Box<serde_json::value::RawValue>>,
    /// Rules that could not be evaluated for this context (the segment counts as not matched),
    /// e.g. a purchase with a malformed timestamp.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Error>,
    /// Why each segment matched or not; present when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<Vec<SegmentExplain>>,
}

impl PartialEq for Decision {
    /// Field by field; messages compare by their JSON text.
    fn eq(&self, other: &Self) -> bool {
        serde_json::to_string(self).ok() == serde_json::to_string(other).ok()
    }
}

/// Which content and variant a decision rendered, and the experiment assignment if any.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContentChoice {
    /// Content id.
    pub id: String,
    /// The chosen variant's id.
    pub variant: String,
    /// The experiment the user was assigned in (the variant is the assignment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<String>,
}

/// The rich menu a user should see, compared with the one they have.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RichMenuChoice {
    /// `link`: link `richMenuId` to the user; `unlink`: remove the per-user menu (no menu
    /// applies, so the account's default shows); `none`: the user already has the right menu,
    /// call nothing.
    pub action: MenuAction,
    /// The config's menu chosen (absent when no menu applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu: Option<String>,
    /// The menu's LINE rich menu id (absent when no menu applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rich_menu_id: Option<String>,
    /// The user's per-user menu as the engine saw it: the alias target of a `richmenuswitch`
    /// postback event, else the context's `user.richMenuId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// Why this menu.
    pub reason: MenuReason,
}

/// Link, unlink or nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum MenuAction {
    Link,
    Unlink,
    None,
}

impl MenuAction {
    pub fn as_str(self) -> &'static str {
        match self {
            MenuAction::Link => "link",
            MenuAction::Unlink => "unlink",
            MenuAction::None => "none",
        }
    }
}

/// Which rule picked the menu: `{"rule": 2, "segment": "dormant"}`, `{"rule": 3}` (a
/// condition), `{"default": true}`, or `{}` when no rule matched and there is no default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
pub struct MenuReason {
    /// Index of the rule in `/richMenus/rules`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<usize>,
    /// The rule's segment, for a segment rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// The config's default menu applied.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
}

/// The explanation of one segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SegmentExplain {
    /// Segment id.
    pub segment: String,
    /// Whether the user is in the segment.
    pub matched: bool,
    /// Whether the condition held (it can hold while `matched` is false when another segment
    /// of the same group won first).
    pub condition: bool,
    /// The segment of the same group that won instead, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_by: Option<String>,
    /// The sub-conditions that decided, with the values they saw.
    pub steps: Vec<Step>,
}

/// One deciding sub-condition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
pub struct Step {
    /// JSON pointer of the sub-condition inside the config (`/segments/3/when/and/1`).
    pub path: String,
    /// Its operator (`>=`, `has_tag`, `days_since` …).
    pub op: String,
    /// The evaluated values of its arguments.
    pub args: Vec<Value>,
    /// Its result.
    pub result: Value,
}
