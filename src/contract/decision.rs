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
    /// event's `webhookEventId`, the decision's content and a quiz's completion. Same inputs ⇒
    /// same id, so a backend can de-duplicate. Not a cryptographic digest.
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
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub rich_menu: Option<RichMenuChoice>,
    /// The content rendered for this decision (chosen by the event type, or asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub content: Option<ContentChoice>,
    /// The rendered LINE message objects, ready for the Messaging API's reply or push call
    /// (kept as JSON text, so every runtime writes the same bytes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Vec<serde_json::Map<String, Value>>"))]
    pub messages: Vec<MessageJson>,
    /// Rules that could not be evaluated for this context (the segment counts as not matched),
    /// e.g. a purchase with a malformed timestamp.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Error>,
    /// Why each segment matched or not; present when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub explain: Option<Vec<SegmentExplain>>,
    /// Why the decision got its content and variant: each content tried, in order, with its
    /// variants' tries (present when asked for with `explain` and the decision tried a
    /// content, also when no variant applies). An event's contents are tried in config order
    /// until one has a variant that applies; a content asked for by id is the only one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub explain_content: Option<Vec<ContentExplain>>,
    /// What a finished quiz sets on the user (the decision of a quiz outcome only): a backend
    /// stores it, or the user's next decision no longer knows the result (and, say, moves the
    /// user off the result's rich menu).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub quiz: Option<QuizCompletion>,
}

/// A finished quiz, as the user's profile keeps it. Applied to the user, in this order:
/// `user.quizAnswers.<id>` = `answers` plus `"result"`; the `removeTags` taken out of
/// `user.tags`, then the `tags` added; the `attributes` merged into `user.attributes`. The
/// outcome's `context` is the context given with this applied (and a `quiz` event when it
/// had none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct QuizCompletion {
    /// The quiz id.
    pub id: String,
    /// The selected result's id.
    pub result: String,
    /// The answers by question id (a string, or a list of choice ids).
    pub answers: serde_json::Map<String, Value>,
    /// Tags the quiz adds (the chosen choices' tags, then the result's; no duplicates).
    pub tags: Vec<String>,
    /// Tags this quiz can set that this completion does not: a retake takes the earlier
    /// result's off (a quiz owns the tags its choices and results set).
    pub remove_tags: Vec<String>,
    /// Attributes the quiz sets (merged over the user's; later wins).
    pub attributes: serde_json::Map<String, Value>,
}

impl QuizCompletion {
    pub(crate) fn write_json(&self, o: &mut String) {
        o.push_str("{\"id\":");
        s(&self.id, o);
        o.push_str(",\"result\":");
        s(&self.result, o);
        o.push_str(",\"answers\":");
        crate::value::write_serde_map(&self.answers, o);
        o.push_str(",\"tags\":");
        write_array(&self.tags, o, |t, o| s(t, o));
        o.push_str(",\"removeTags\":");
        write_array(&self.remove_tags, o, |t, o| s(t, o));
        o.push_str(",\"attributes\":");
        crate::value::write_serde_map(&self.attributes, o);
        o.push('}');
    }
}

impl PartialEq for Decision {
    /// Field by field; messages compare by their JSON text.
    fn eq(&self, other: &Self) -> bool {
        self.to_json() == other.to_json()
    }
}

/// One rendered LINE message object, kept as the JSON text the engine wrote, so every runtime
/// sends the same bytes. Serializes as that JSON (not as a string).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageJson(Box<str>);

impl MessageJson {
    /// Only the engine makes these, from JSON its own writer produced.
    pub(crate) fn new(json: String) -> Self {
        MessageJson(json.into_boxed_str())
    }

    /// The JSON text of the message object.
    pub fn get(&self) -> &str {
        &self.0
    }
}

// Through serde_json's RawValue, so the JSON is embedded as is. Only serde users (native, tests)
// reach these; the Wasm paths write decisions with the crate's own writers, which keeps
// serde_json's deserializer out of the binary.
impl Serialize for MessageJson {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.0.to_string()).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for MessageJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
        Ok(MessageJson(raw.get().into()))
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
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub experiment: Option<String>,
    /// The variant's LINE aggregation unit: send it as `customAggregationUnits: [unit]` with
    /// a push or multicast of these messages (a reply takes none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub aggregation_unit: Option<String>,
}

/// The rich menu a user should see, compared with the one they have.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), schemars(transform = rich_menu_choice_variants))]
#[serde(rename_all = "camelCase")]
pub struct RichMenuChoice {
    /// `link`: link `richMenuId` to the user; `unlink`: remove the per-user menu (no menu
    /// applies, so the account's default shows); `none`: the user already has the right menu,
    /// call nothing.
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "String"))] // one `const` per variant: see rich_menu_choice_variants
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

/// The schema of a [`RichMenuChoice`] as the engine makes them (`engine::menus`): one per
/// `action`, so a schema validator and a TypeScript consumer (the npm package's types are
/// generated from it) know that a `link` has `menu` and `richMenuId`, an `unlink` has neither,
/// and a `none` has both (the user is on the chosen menu) or neither (no menu applies, or
/// `reason.undetermined`). The optional members are left out when absent, never `null`.
#[cfg(not(target_arch = "wasm32"))]
fn rich_menu_choice_variants(schema: &mut schemars::Schema) {
    use serde_json::json;
    let Some(derived) = schema.as_object_mut() else { return };
    let props = derived.remove("properties").and_then(|p| match p {
        Value::Object(p) => Some(p),
        _ => None,
    });
    let Some(props) = props else { return };
    derived.remove("type");
    derived.remove("required");
    // The member's schema as derived (its description), as a string that is always there.
    let text = |key: &str| {
        let mut p = props.get(key).cloned().unwrap_or_else(|| json!({}));
        if let Some(p) = p.as_object_mut() {
            p.insert("type".into(), json!("string"));
        }
        p
    };
    // The reference alone: with a description beside it, each variant would get a copy of the type.
    let reason = json!({ "$ref": "#/$defs/MenuReason" });
    let variant = |title: &str, action: &str, description: &str, menu: bool, required: &[&str]| {
        let mut p = serde_json::Map::new();
        p.insert("action".into(), json!({ "const": action }));
        if menu {
            p.insert("menu".into(), text("menu"));
            p.insert("richMenuId".into(), text("richMenuId"));
        }
        p.insert("current".into(), text("current"));
        p.insert("reason".into(), reason.clone());
        json!({ "title": title, "description": description, "type": "object", "properties": p, "required": required })
    };
    derived.insert(
        "oneOf".into(),
        json!([
            variant("RichMenuLink", "link", "`link`: link `richMenuId` to the user (LINE's link call).", true, &["action", "menu", "richMenuId", "reason"]),
            variant(
                "RichMenuUnlink",
                "unlink",
                "`unlink`: remove the user's per-user menu (no menu applies, so the account's default shows). No `menu` nor `richMenuId`.",
                false,
                &["action", "reason"],
            ),
            variant(
                "RichMenuNone",
                "none",
                "`none`: call nothing. The user is on the chosen menu (`menu` and `richMenuId` say which), or no menu applies and the user has no per-user one, or which menu fits is not known (`reason.undetermined`; neither member then).",
                true,
                &["action", "reason"],
            ),
        ]),
    );
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
/// condition), `{"default": true}`, `{}` when no rule matched and there is no default, or
/// `{"rule": 1, "undetermined": true}` when a rule could not be judged.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
pub struct MenuReason {
    /// Index of the rule in `/richMenus/rules`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub rule: Option<usize>,
    /// The rule's segment, for a segment rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub segment: Option<String>,
    /// The config's default menu applied.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
    /// Rule `rule` could not be judged (its segment's or its own condition failed to evaluate:
    /// see the decision's `errors`) and no rule before it held, so which menu fits is not
    /// known: the user's menu is left as it is (`action` "none", no `menu`), not changed on a
    /// guess.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub undetermined: bool,
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
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub taken_by: Option<String>,
    /// The sub-conditions that decided, with the values they saw.
    pub steps: Vec<Step>,
}

/// The explanation of a content's variant choice: the variants tried in order, each with its
/// condition's outcome, until one applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContentExplain {
    /// Content id.
    pub content: String,
    /// The variant chosen (the decision's `content.variant`); absent when no variant applies,
    /// or when a condition could not be evaluated (the decision's `errors` say why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub variant: Option<String>,
    /// The tries, in config order, up to the chosen variant (the last try then). The weighted
    /// variants are one try, at the first of them: the experiment's.
    pub tried: Vec<VariantExplain>,
}

/// One try of a content's variant choice: a variant's condition, or the experiment's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VariantExplain {
    /// The variant tried; for the experiment's try, the variant the user was assigned (absent
    /// when the experiment's condition does not hold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub variant: Option<String>,
    /// JSON pointer of what was tried: the variant (`/contents/0/variants/1`), or the
    /// experiment (`/contents/0/experiment`).
    pub path: String,
    /// Whether its condition (`when`) held; `true` when it has none. For the experiment, its
    /// own `when` (who takes part).
    pub condition: bool,
    /// The experiment's assignment: present on the experiment's try.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub experiment: Option<ExperimentExplain>,
    /// The sub-conditions of `when` that decided, with the values they saw (as in a segment's
    /// explanation); empty without `when`.
    pub steps: Vec<Step>,
}

/// How an experiment assigned the user: flagd's `fractional` over the weighted variants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExperimentExplain {
    /// Experiment id.
    pub id: String,
    /// The bucketing key: the experiment id followed by the user id, hashed with murmur3
    /// (x86, 32-bit, seed 0).
    pub key: String,
    /// The weighted variants in config order, each with its weight: each takes the next
    /// `weight` buckets.
    pub weights: Vec<VariantWeight>,
    /// The user's bucket, from 0 to the total weight (excluded): `murmur3(key) × total >> 32`.
    /// The first variant whose cumulative weight exceeds it is assigned. Absent when the
    /// experiment's condition does not hold (the user takes no part).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(transform = crate::contract::absent_not_null))]
    pub bucket: Option<u64>,
}

/// A weighted variant of an experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
pub struct VariantWeight {
    /// Variant id.
    pub variant: String,
    /// Its weight (`/contents/…/variants/…/weight`).
    pub weight: u32,
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

// ---- JSON by hand -------------------------------------------------------------------------
// Decisions are written with the crate's own writer, byte-identical to serde's (tests hold
// them equal): serde's derives for these structs cost several KiB of generic code each in the
// Wasm binary. `Engine::decide_to_string` writes the head of a decision from borrowed parts
// and shares [`write_tail`] with [`Decision::write_json`].

use crate::value::write_json_string as s;
use crate::value::{write_array, Items};

impl RichMenuChoice {
    pub fn write_json(&self, o: &mut String) {
        o.push_str("{\"action\":");
        s(self.action.as_str(), o);
        for (k, v) in [(",\"menu\":", &self.menu), (",\"richMenuId\":", &self.rich_menu_id), (",\"current\":", &self.current)] {
            if let Some(v) = v {
                o.push_str(k);
                s(v, o);
            }
        }
        o.push_str(",\"reason\":{");
        let r = &self.reason;
        let mut first = true;
        if let Some(rule) = r.rule {
            o.push_str("\"rule\":");
            o.push_str(&rule.to_string());
            first = false;
        }
        if let Some(seg) = &r.segment {
            o.push_str(if first { "\"segment\":" } else { ",\"segment\":" });
            s(seg, o);
            first = false;
        }
        if r.default {
            o.push_str(if first { "\"default\":true" } else { ",\"default\":true" });
            first = false;
        }
        if r.undetermined {
            o.push_str(if first { "\"undetermined\":true" } else { ",\"undetermined\":true" });
        }
        o.push_str("}}");
    }
}

impl ContentChoice {
    pub fn write_json(&self, o: &mut String) {
        o.push_str("{\"id\":");
        s(&self.id, o);
        o.push_str(",\"variant\":");
        s(&self.variant, o);
        if let Some(x) = &self.experiment {
            o.push_str(",\"experiment\":");
            s(x, o);
        }
        if let Some(x) = &self.aggregation_unit {
            o.push_str(",\"aggregationUnit\":");
            s(x, o);
        }
        o.push('}');
    }
}

fn write_step(step: &Step, o: &mut String) {
    o.push_str("{\"path\":");
    s(&step.path, o);
    o.push_str(",\"op\":");
    s(&step.op, o);
    o.push_str(",\"args\":");
    write_array(&step.args, o, crate::value::write_serde);
    o.push_str(",\"result\":");
    crate::value::write_serde(&step.result, o);
    o.push('}');
}

fn write_segment_explain(e: &SegmentExplain, o: &mut String) {
    o.push_str("{\"segment\":");
    s(&e.segment, o);
    o.push_str(if e.matched { ",\"matched\":true" } else { ",\"matched\":false" });
    o.push_str(if e.condition { ",\"condition\":true" } else { ",\"condition\":false" });
    if let Some(t) = &e.taken_by {
        o.push_str(",\"takenBy\":");
        s(t, o);
    }
    o.push_str(",\"steps\":");
    write_array(&e.steps, o, write_step);
    o.push('}');
}

impl ContentExplain {
    pub fn write_json(&self, o: &mut String) {
        o.push_str("{\"content\":");
        s(&self.content, o);
        if let Some(v) = &self.variant {
            o.push_str(",\"variant\":");
            s(v, o);
        }
        o.push_str(",\"tried\":");
        write_array(&self.tried, o, VariantExplain::write_json);
        o.push('}');
    }
}

impl VariantExplain {
    fn write_json(&self, o: &mut String) {
        o.push('{');
        if let Some(v) = &self.variant {
            o.push_str("\"variant\":");
            s(v, o);
            o.push(',');
        }
        o.push_str("\"path\":");
        s(&self.path, o);
        o.push_str(if self.condition { ",\"condition\":true" } else { ",\"condition\":false" });
        if let Some(x) = &self.experiment {
            o.push_str(",\"experiment\":{\"id\":");
            s(&x.id, o);
            o.push_str(",\"key\":");
            s(&x.key, o);
            o.push_str(",\"weights\":");
            write_array(&x.weights, o, |w, o| {
                o.push_str("{\"variant\":");
                s(&w.variant, o);
                o.push_str(",\"weight\":");
                o.push_str(&w.weight.to_string());
                o.push('}');
            });
            if let Some(b) = x.bucket {
                o.push_str(",\"bucket\":");
                o.push_str(&b.to_string());
            }
            o.push('}');
        }
        o.push_str(",\"steps\":");
        write_array(&self.steps, o, write_step);
        o.push('}');
    }
}

/// Writes the members after `groups`: `richMenu`, `content`, `messages`, `errors`, `explain`,
/// `explainContent` (each only when present), then closes the object.
pub(crate) fn write_tail(
    o: &mut String,
    rich_menu: Option<&RichMenuChoice>,
    content: Option<&ContentChoice>,
    messages: &mut dyn Items<&'_ str>,
    errors: &[Error],
    explain: Option<&[SegmentExplain]>,
    explain_content: Option<&[ContentExplain]>,
) {
    if let Some(m) = rich_menu {
        o.push_str(",\"richMenu\":");
        m.write_json(o);
    }
    if let Some(c) = content {
        o.push_str(",\"content\":");
        c.write_json(o);
    }
    let mut any = false;
    while let Some(m) = messages.next_item() {
        o.push_str(if any { "," } else { ",\"messages\":[" });
        o.push_str(m);
        any = true;
    }
    if any {
        o.push(']');
    }
    if !errors.is_empty() {
        o.push_str(",\"errors\":");
        crate::error::write_errors_json(errors, o);
    }
    if let Some(x) = explain {
        o.push_str(",\"explain\":");
        write_array(x, o, write_segment_explain);
    }
    if let Some(xs) = explain_content {
        o.push_str(",\"explainContent\":");
        write_array(xs, o, ContentExplain::write_json);
    }
    o.push('}');
}

/// Opens a decision and writes its members up to `groups` (written only when there are any);
/// [`write_tail`] writes the rest. One writer for [`Decision`] and the engine's hot path.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_head<'a>(
    o: &mut String,
    version: &str,
    decision_id: &str,
    config_hash: &str,
    user_id: &str,
    now: &str,
    segments: &mut dyn Items<&'a str>,
    groups: &mut dyn Items<(&'a str, &'a str)>,
) {
    o.push_str("{\"version\":");
    o.push_str(version);
    o.push_str(",\"decisionId\":");
    s(decision_id, o);
    o.push_str(",\"configHash\":");
    s(config_hash, o);
    o.push_str(",\"userId\":");
    s(user_id, o);
    o.push_str(",\"now\":");
    s(now, o);
    o.push_str(",\"segments\":[");
    let mut first = true;
    while let Some(id) = segments.next_item() {
        if !first {
            o.push(',');
        }
        s(id, o);
        first = false;
    }
    o.push(']');
    let mut any = false;
    while let Some((g, id)) = groups.next_item() {
        o.push_str(if any { "," } else { ",\"groups\":{" });
        s(g, o);
        o.push(':');
        s(id, o);
        any = true;
    }
    if any {
        o.push('}');
    }
}

impl Decision {
    /// The decision as JSON, the same bytes as `serde_json::to_string`.
    pub fn write_json(&self, o: &mut String) {
        write_head(
            o,
            &self.version.to_string(),
            &self.decision_id,
            &self.config_hash,
            &self.user_id,
            &self.now,
            &mut self.segments.iter().map(String::as_str),
            &mut self.groups.iter().map(|(g, id)| (g.as_str(), id.as_str())),
        );
        write_tail(o, self.rich_menu.as_ref(), self.content.as_ref(), &mut self.messages.iter().map(|m| m.get()), &self.errors, self.explain.as_deref(), self.explain_content.as_deref());
        if let Some(q) = &self.quiz {
            // Last, as serde writes it: after the tail's members, inside its closing brace.
            o.pop();
            o.push_str(",\"quiz\":");
            q.write_json(o);
            o.push('}');
        }
    }

    pub fn to_json(&self) -> String {
        let mut o = String::with_capacity(512);
        self.write_json(&mut o);
        o
    }
}
