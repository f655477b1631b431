//! Context: one user at one moment, plus the LINE webhook event that triggered the decision.
//!
//! The structs below describe the document (and generate its JSON Schema); the engine reads
//! contexts through [`crate::value`] instead, building only what its rules use, and checks the
//! fields it relies on with [`check`]. Unknown fields are tolerated.

use crate::error::{Code, Error};
use crate::value::Value as V;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Input of one decision.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Context {
    /// Contract version; `1` when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The moment of the decision, RFC 3339 (`2026-11-27T10:00:00+09:00`). The engine never
    /// reads a clock: the host passes `now`, so a decision can be replayed.
    pub now: String,
    /// The LINE friend the decision is about.
    pub user: User,
    /// The triggering LINE webhook event, as LINE sends it (`follow`, `message`, `postback` …):
    /// an object (or null: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Option<serde_json::Map<String, Value>>"))]
    pub event: Option<Value>,
}

/// What the business knows about one LINE friend.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// LINE user id (`U` followed by 32 lowercase hex digits, a webhook's `source.userId`).
    /// Any non-empty string is decided for; rich-menu bulk requests refuse other shapes.
    pub user_id: String,
    /// LINE display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Language of the LINE app (`ja`, `en`, `th` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Tags (Lステップ-style labels): `has_tag` and friends read these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Free-form attributes: prefecture, birthday (`YYYY-MM-DD`), member rank, skin type …
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub attributes: Map<String, Value>,
    /// When the user added the account as a friend, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followed_at: Option<String>,
    /// Last interaction with the account, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active_at: Option<String>,
    /// Purchases, any order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purchases: Vec<Purchase>,
    /// Other tracked events (page views, coupon use, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<UserEvent>,
    /// Quiz answers by quiz id, then question id.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub quiz_answers: Map<String, Value>,
    /// The rich menu currently linked to the user (`richmenu-…`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rich_menu_id: Option<String>,
}

/// One purchase.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Purchase {
    /// Order id in the business's shop system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// Product SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Product category (`lotion`, `serum`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Amount paid, in yen (tax included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// Units bought.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// Time of purchase: RFC 3339 text, or a number of epoch milliseconds (as LINE writes a
    /// webhook's `timestamp`, e.g. `1764207000000`; a number from 10^8 to 10^11, epoch
    /// seconds by mistake, is refused by the time operators with `invalid_timestamp`). The
    /// one field a purchase needs: the time operators read it (`days_since`, `after`, …); the
    /// others are there for the rules that read them.
    #[cfg_attr(not(target_arch = "wasm32"), schemars(schema_with = "time_schema"))]
    pub at: Timestamp,
}

/// One tracked event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserEvent {
    /// Event name (`page_view`, `coupon_used`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened: RFC 3339 text, or a number of epoch milliseconds (as for a
    /// purchase's `at`).
    #[cfg_attr(not(target_arch = "wasm32"), schemars(schema_with = "time_schema"))]
    pub at: Timestamp,
    /// Event details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// An item's `at` as a context may give it: RFC 3339 text, or whole epoch milliseconds. Both
/// are written back as they came, so a context read into [`Context`] and written again decides
/// the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Timestamp {
    /// RFC 3339 text (`2026-11-20T10:00:00+09:00`) or a date (`2026-11-20`).
    Text(String),
    /// Milliseconds since 1970-01-01T00:00:00Z.
    Millis(i64),
}

impl Default for Timestamp {
    fn default() -> Self {
        Timestamp::Text(String::new())
    }
}

impl From<&str> for Timestamp {
    fn from(s: &str) -> Self {
        Timestamp::Text(s.to_string())
    }
}

impl From<String> for Timestamp {
    fn from(s: String) -> Self {
        Timestamp::Text(s)
    }
}

impl From<i64> for Timestamp {
    fn from(ms: i64) -> Self {
        Timestamp::Millis(ms)
    }
}

/// The schema of an item's `at`: what [`check`] takes for it ([`Ty::Time`]) and the time
/// operators read, RFC 3339 text or whole epoch milliseconds.
#[cfg(not(target_arch = "wasm32"))]
fn time_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": ["string", "integer"] })
}

/// Gives absent collections of the user their documented defaults (`tags`, `purchases`,
/// `events`: `[]`; `attributes`, `quizAnswers`: `{}`), so a rule like
/// `{"some": [{"var": "user.events"}, …]}` sees an empty list for a user without events instead
/// of failing (JsonLogic's `some`/`all`/`none` refuse a missing array).
pub fn fill_defaults(doc: &mut V<'_>) {
    let Some(V::Object(members)) = doc_user_mut(doc) else { return };
    for (key, empty) in [("tags", true), ("purchases", true), ("events", true), ("attributes", false), ("quizAnswers", false)] {
        match members.iter_mut().rev().find(|(k, _)| k == key) {
            Some((_, v)) if !v.is_null() => {}
            Some((_, v)) => *v = if empty { V::Array(Vec::new()) } else { V::Object(Vec::new()) },
            None => members.push((key.into(), if empty { V::Array(Vec::new()) } else { V::Object(Vec::new()) })),
        }
    }
}

fn doc_user_mut<'d, 'a>(doc: &'d mut V<'a>) -> Option<&'d mut V<'a>> {
    match doc {
        V::Object(members) => members.iter_mut().rev().find(|(k, _)| k == "user").map(|(_, v)| v),
        _ => None,
    }
}

/// The fields of a context every decision relies on, checked.
#[derive(Debug)]
pub struct Checked<'d> {
    pub now: DateTime<FixedOffset>,
    pub now_text: &'d str,
    pub user_id: &'d str,
    /// `event.webhookEventId` when present: part of the decision id.
    pub event_id: Option<&'d str>,
}

fn invalid(path: &str, message: String) -> Error {
    Error::new(Code::InvalidValue, path, message)
}

/// The JSON type of a Context field that rules read with a meaning of its own: an item's time
/// and type (a missing `at` would read as "not recent") and the current menu. Other fields are
/// coerced as JsonLogic and Liquid do (an `amount` of `"3800"` adds up).
#[derive(Clone, Copy)]
pub(crate) enum Ty {
    /// A string or null.
    Text,
    /// A string that must be there (an event's `type`).
    Required,
    /// A time that must be there: RFC 3339 text, or epoch milliseconds as the time operators
    /// take them (a purchase's or an event's `at`).
    Time,
}

/// The user's lists whose items have required fields: checked when the config reads them.
pub(crate) const LISTS: [(&str, &[(&str, Ty)]); 2] = [("purchases", &[("at", Ty::Time)]), ("events", &[("type", Ty::Required), ("at", Ty::Time)])];

/// Checks the fields of `object` (at pointer `at`) against the Context's types.
/// (`at` is made only for an error: this runs for every item of every decision.)
fn fields(object: &V<'_>, at: &dyn Fn() -> String, spec: &[(&str, Ty)]) -> Result<(), Error> {
    for &(key, ty) in spec {
        let v = object.get(key);
        let ok = match (ty, v) {
            (Ty::Required | Ty::Time, Some(V::String(_))) | (Ty::Time, Some(V::Int(_) | V::Float(_))) => true,
            (Ty::Required | Ty::Time, None) => return Err(Error::new(Code::MissingField, at(), format!("the required field \"{key}\" is missing"))),
            (Ty::Required | Ty::Time, Some(_)) => false,
            (Ty::Text, None | Some(V::Null | V::String(_))) => true,
            (Ty::Text, Some(_)) => false,
        };
        if !ok {
            let want = match ty {
                Ty::Text => "a string or null",
                Ty::Time => "an RFC 3339 timestamp (or epoch milliseconds)",
                Ty::Required => "a string",
            };
            let found = v.map_or("nothing", V::kind);
            return Err(invalid(&format!("{}/{key}", at()), format!("\"{key}\" must be {want}, found {found}")));
        }
    }
    Ok(())
}

/// Checks the parts of a (possibly partially built) context that are present. `None` fields
/// that are optional are fine; wrong types are errors with the field's pointer.
pub fn check<'d>(doc: &'d V<'_>, lists: [bool; 2]) -> Result<Checked<'d>, Error> {
    if !matches!(doc, V::Object(_)) {
        return Err(invalid("", format!("a context must be a JSON object, found {}", doc.kind())));
    }
    if let Some(v) = doc.get("version") {
        if *v != V::Int(i64::from(super::VERSION)) {
            return Err(Error::new(Code::UnsupportedVersion, "/version", "this engine reads context version 1"));
        }
    }
    let now_text = match doc.get("now") {
        Some(V::String(s)) => s.as_ref(),
        Some(other) => return Err(invalid("/now", format!("\"now\" must be an RFC 3339 timestamp string, found {}", other.kind()))),
        None => return Err(Error::new(Code::MissingField, "", "the required field \"now\" is missing (the moment of the decision, RFC 3339)")),
    };
    let now = crate::logic::time::rfc3339(now_text).ok_or_else(|| {
        Error::new(Code::InvalidTimestamp, "/now", format!("\"now\" is not an RFC 3339 timestamp: \"{now_text}\" (write e.g. \"2026-11-27T10:00:00+09:00\")"))
    })?;
    let user = match doc.get("user") {
        Some(u @ V::Object(_)) => u,
        Some(other) => return Err(invalid("/user", format!("\"user\" must be an object, found {}", other.kind()))),
        None => return Err(Error::new(Code::MissingField, "", "the required field \"user\" is missing")),
    };
    let user_id = match user.get("userId") {
        Some(V::String(s)) if !s.is_empty() => s.as_ref(),
        Some(V::String(_)) => return Err(invalid("/user/userId", "\"userId\" must be a non-empty string (LINE's user ID, \"U\" and 32 hex digits), found an empty string".to_string())),
        Some(other) => return Err(invalid("/user/userId", format!("\"userId\" must be a non-empty string, found {}", other.kind()))),
        None => return Err(Error::new(Code::MissingField, "/user", "the required field \"userId\" is missing")),
    };
    if let Some(tags) = user.get("tags") {
        let ok = tags.as_array().is_some_and(|t| t.iter().all(|t| matches!(t, V::String(_))));
        if !ok {
            return Err(invalid("/user/tags", "\"tags\" must be an array of strings".to_string()));
        }
    }
    for key in ["attributes", "quizAnswers"] {
        if let Some(v) = user.get(key).filter(|v| !matches!(v, V::Object(_))) {
            return Err(invalid(&format!("/user/{key}"), format!("\"{key}\" must be an object, found {}", v.kind())));
        }
    }
    for key in ["purchases", "events"] {
        if let Some(v) = user.get(key).filter(|v| !matches!(v, V::Array(_))) {
            return Err(invalid(&format!("/user/{key}"), format!("\"{key}\" must be an array, found {}", v.kind())));
        }
    }
    fields(user, &|| "/user".to_string(), &[("richMenuId", Ty::Text)])?;
    // Items of the lists the config reads: a purchase without its `at` would read as "not
    // recent" in every rule. (Lists it does not read are not built, so not checked.)
    for ((key, spec), _) in LISTS.iter().zip(lists).filter(|(_, read)| *read) {
        for (i, item) in user.get(key).and_then(V::as_array).unwrap_or_default().iter().enumerate() {
            let at = || format!("/user/{key}/{i}");
            if !matches!(item, V::Object(_)) {
                return Err(invalid(&at(), format!("an item of \"{key}\" must be an object, found {}", item.kind())));
            }
            fields(item, &at, spec)?;
        }
    }
    let event_id = match doc.get("event") {
        None | Some(V::Null) => None,
        Some(e @ V::Object(_)) => match e.get("webhookEventId") {
            None => None,
            Some(V::String(s)) => Some(s.as_ref()),
            Some(other) => return Err(invalid("/event/webhookEventId", format!("\"webhookEventId\" must be a string, found {}", other.kind()))),
        },
        Some(other) => return Err(invalid("/event", format!("\"event\" must be a LINE webhook event object, found {}", other.kind()))),
    };
    Ok(Checked { now, now_text, user_id, event_id })
}
