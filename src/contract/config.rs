//! Config: compiled once into an `Engine`. Unknown fields are errors (a typo in a rule must never
//! be silently ignored), and every problem is reported with its JSON pointer.

use super::read::{join, ObjectReader, Problems};
use crate::error::Code;
use chrono::{FixedOffset, Offset};
use serde::Serialize;
use serde_json::Value;

/// A kizuna config, version 1.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), schemars(deny_unknown_fields))]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// Contract version; must be `1`.
    #[cfg_attr(not(target_arch = "wasm32"), schemars(range(min = 1, max = 1)))]
    pub version: u32,
    /// The account's time zone for weekdays, times of day, bare dates (`YYYY-MM-DD`) and dates
    /// in templates: a UTC offset such as `+09:00`, or a zone without daylight saving time
    /// (`Asia/Tokyo`, `Asia/Seoul`, `Asia/Taipei`, `Asia/Bangkok`, `Asia/Jakarta`, `UTC`, …).
    /// Default `+09:00`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The language of weekday and month names in templates' `date` filter: `ja` writes
    /// `%a` `土`, `%A` `土曜日`, `%b`/`%B` `11月` (as liquidjs with `locale: "ja-JP"`), so
    /// `{{ d | date: "%-m月%-d日(%a)" }}` gives `11月28日(土)`. Default `en` (`Sat`, `Saturday`,
    /// `Nov`, `November`, as Shopify's Liquid). Other directives are the same in both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<crate::template::Locale>,
    /// Segments, evaluated for every decision. Order matters only for the order of
    /// `segments` in a decision and for ties of `priority` inside a group.
    #[serde(default)]
    pub segments: Vec<Segment>,
    /// Personalized message contents: LINE message objects whose strings are Liquid templates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<Content>,
    /// Rich menus and the rules that pick one per user; decisions then say whether to link,
    /// unlink or leave the user's menu.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rich_menus: Option<super::menus::RichMenus>,
    /// Diagnostic quizzes (skin type, product finder, …): questions with branching, results
    /// chosen by score or rules, each result recommending contents and a rich menu.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quizzes: Vec<crate::quiz::Quiz>,
}

/// A message content: ordered variants, each a list of LINE message templates.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), schemars(deny_unknown_fields))]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// Unique id (same rules as segment ids).
    pub id: String,
    /// What the content is for, for people reading the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// LINE webhook event types that make a decision reply with this content (`follow`,
    /// `message`, `postback`, …). The contents whose `on` lists the context's event type are
    /// tried in config order, and the first with a variant that applies is rendered into the
    /// decision (keyword replies, then a catch-all). Any content can also be rendered on
    /// request (`Engine::render`), e.g. for a push campaign.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on: Vec<String>,
    /// An A/B test among the variants that have a `weight`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub experiment: Option<Experiment>,
    /// Tried in order: the first variant whose `when` holds (no `when`: always) is chosen. At
    /// the first weighted variant, the user is assigned to one of the weighted variants (if
    /// the experiment's `when` holds, else they are all skipped).
    pub variants: Vec<Variant>,
}

/// An A/B test: users are split between a content's weighted variants with OpenFeature flagd's
/// `fractional` algorithm (murmur3 of experiment id + userId), so any runtime or backend can
/// reproduce the assignment.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), schemars(deny_unknown_fields))]
#[serde(rename_all = "camelCase")]
pub struct Experiment {
    /// Experiment id, recorded in decisions (and part of the bucketing key).
    pub id: String,
    /// Who takes part (a condition); default: everyone who reaches the weighted variants.
    // `default`: optional in the schema too (`schema_with` hides the `Option` from schemars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(schema_with = "rule_schema"))]
    pub when: Option<Value>,
}

/// One variant of a content.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), schemars(deny_unknown_fields))]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    /// Variant id, unique within the content.
    pub id: String,
    /// Condition for this variant (JsonLogic); none: always eligible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(schema_with = "rule_schema"))]
    pub when: Option<Value>,
    /// Share of the experiment (needs the content's `experiment`); 0 pauses the arm: nobody is
    /// assigned to it, and it stays in the config and in explanations. All 0: nobody takes
    /// part, the next variants are tried. Any change of the weights, 0 included, buckets users
    /// anew over the total: some users of the arms still running move between them, so start
    /// a new experiment id rather than pause an arm of a running test whose data you compare.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    /// 1–5 LINE message objects (`text`, `flex`, `image`, `sticker`, …) as the Messaging API
    /// takes them; every string inside is a Liquid template rendered against the context
    /// (`user`, `now`, `event`) plus `segments` (the matched segment ids). In a list inside a
    /// message, `{"$for": "item in user.attributes.recommended limit: 10", "$each": {…}}`
    /// writes `$each` once per item of that list (with `item` and `forloop` in its templates);
    /// an element or member `{"$if": <JsonLogic>, "$then": …}` is written when the condition
    /// holds.
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Vec<serde_json::Map<String, Value>>"))]
    pub messages: Vec<Value>,
    /// LINE's aggregation unit for this variant's messages when they are pushed (1–30 of
    /// `A–Z a–z 0–9 _`): the decision's `content.aggregationUnit`, to send as the push's
    /// `customAggregationUnits`. LINE then counts opens and URL taps per unit (Get statistics
    /// of sent messages), so an experiment's arms, each with its own unit, can be compared.
    /// LINE counts pushes and multicasts only, not replies, and at most 1,000 unit names a month.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregation_unit: Option<String>,
}

/// A segment: users for whom `when` holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), schemars(deny_unknown_fields))]
#[serde(rename_all = "camelCase")]
pub struct Segment {
    /// Unique id: 1–64 characters of `A-Z a-z 0-9 _ - .`.
    pub id: String,
    /// What the segment means, for people reading the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The condition: JsonLogic plus kizuna's marketing operators (see README), evaluated
    /// against the context document (`now`, `user`, `event`).
    #[cfg_attr(not(target_arch = "wasm32"), schemars(schema_with = "rule_schema"))]
    pub when: Value,
    /// An exclusive group (e.g. `lifecycle`): a user is in at most one segment of a group,
    /// the first whose condition holds, by descending `priority`, then config order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Order inside the group: higher is tried first. Default 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
}

/// A rule is any JSON value (`true` is a rule); said explicitly so generated types say so.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn rule_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": ["object", "array", "string", "number", "boolean", "null"]
    })
}

/// The default time zone of a config: Japan.
pub fn default_tz() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).unwrap_or(chrono::Utc.fix())
}

/// Parses a config's `timeZone`: an offset (`+09:00`) or a fixed-offset zone name.
pub fn parse_tz(s: &str) -> Option<FixedOffset> {
    crate::tz::parse_zone(s)
}

pub(crate) fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

impl Config {
    /// Reads a config from parsed JSON, collecting every problem (rules are not compiled here).
    pub fn read(doc: &Value, p: &mut Problems) -> Option<Config> {
        let mut o = ObjectReader::new(doc, "", "the config", p)?;
        let version = match o.req("version", p) {
            Some(Value::Number(n)) if n.as_u64() == Some(u64::from(super::VERSION)) => super::VERSION,
            Some(v) => {
                p.push(
                    Code::UnsupportedVersion,
                    "/version",
                    format!("this engine reads config version 1, found {}", crate::value::serde_text(v)),
                );
                super::VERSION
            }
            None => super::VERSION,
        };
        let time_zone = o.opt_str("timeZone", p);
        if let Some(tz) = &time_zone {
            if parse_tz(tz).is_none() {
                p.push(
                    Code::InvalidValue,
                    "/timeZone",
                    format!("unknown time zone \"{tz}\": {}", crate::tz::ZONE_HELP),
                );
            }
        }
        let locale = o.opt_str("locale", p).and_then(|l| match l.as_str() {
            "en" => Some(crate::template::Locale::En),
            "ja" => Some(crate::template::Locale::Ja),
            _ => {
                let hint = match l.get(..2) {
                    Some(lang @ ("en" | "ja")) => format!("write \"{lang}\""),
                    _ => "write \"ja\" (Japanese weekday and month names) or \"en\"".to_string(),
                };
                p.push(Code::InvalidValue, "/locale", format!("unknown locale \"{l}\": {hint}"));
                None
            }
        });
        let segments = o.opt_array("segments", p, Segment::read);
        let contents = o.opt_array("contents", p, Content::read);
        // A segment that could not be read has its own errors: a menu rule naming it is not
        // told "no segment" as well.
        let mut segment_ids: Vec<&str> = segments.iter().map(|s| s.id.as_str()).collect();
        segment_ids.extend(unread_segment_ids(doc, &segment_ids));
        let rich_menus = o.opt("richMenus").and_then(|v| super::menus::RichMenus::read(v, &segment_ids, p));
        let quizzes = o.opt_array("quizzes", p, crate::quiz::Quiz::read);
        o.finish(p);
        unique_ids(segments.iter().map(|s| s.id.as_str()), "/segments", "segment", p);
        unique_ids(contents.iter().map(|c| c.id.as_str()), "/contents", "content", p);
        unique_ids(quizzes.iter().map(|q| q.id.as_str()), "/quizzes", "quiz", p);
        Some(Config { version, time_zone, locale, segments, contents, rich_menus, quizzes })
    }

    /// The language of names in templates' dates (validated by [`Config::read`]).
    pub fn locale(&self) -> crate::template::Locale {
        self.locale.unwrap_or_default()
    }

    /// The config's time zone (validated by [`Config::read`]).
    pub fn tz(&self) -> FixedOffset {
        self.time_zone.as_deref().and_then(parse_tz).unwrap_or_else(default_tz)
    }
}

/// Reports every id that repeats an earlier one (sorted, so thousands of ids take O(n log n)).
pub(crate) fn unique_ids<'i>(ids: impl Iterator<Item = &'i str>, path: &str, what: &str, p: &mut Problems) {
    let ids: Vec<&str> = ids.collect();
    for i in crate::sort::repeats(ids.len(), &|i| ids.get(i).copied()) {
        let at = join(path, p.original_index(path, i));
        let id = ids.get(i).copied().unwrap_or_default();
        p.push(Code::DuplicateId, &at, format!("{what} id \"{id}\" is used twice"));
    }
}

/// The `type`s of LINE's webhook events (Messaging API reference, @line/bot-sdk 11), and
/// kizuna's own `quiz` (a finished quiz, see `quizResult`), last.
const EVENT_TYPES: &[&str] = &[
    "message", "follow", "unfollow", "postback", "join", "leave", "memberJoined", "memberLeft", "unsend", "videoPlayComplete", "beacon",
    "accountLink", "membership", "things", "module", "activated", "deactivated", "botSuspended", "botResumed", "delivery", "quiz",
];

/// A typo in `on` would compile and then never answer: refused, with the type meant.
#[cold]
fn unknown_event_type(s: &str, path: &str) -> crate::Error {
    let hint = crate::error::suggest(s, EVENT_TYPES.iter().copied()).map_or(String::new(), |t| format!("; did you mean \"{t}\"?"));
    let line_types = EVENT_TYPES.get(..EVENT_TYPES.len() - 1).unwrap_or_default().join(", ");
    crate::Error::new(Code::InvalidValue, path, format!("\"{s}\" is not a LINE webhook event type{hint} (one of {line_types}, or \"quiz\" for a quiz result)"))
}

pub(crate) fn read_id(o: &mut ObjectReader<'_>, what: &str, p: &mut Problems) -> Option<String> {
    let id = o.req_str("id", p)?;
    if !valid_id(&id) {
        p.push(
            Code::InvalidValue,
            &o.field_path("id"),
            format!("{what} id \"{id}\" must be 1–64 characters of letters, digits, '_', '-' or '.'"),
        );
    }
    Some(id)
}

impl Content {
    fn read(v: &Value, path: &str, p: &mut Problems) -> Option<Content> {
        let mut o = ObjectReader::new(v, path, "a content", p)?;
        let id = read_id(&mut o, "content", p);
        let description = o.opt_str("description", p);
        let on = o.opt_array("on", p, |v, path, p| match v.as_str() {
            Some(s) if EVENT_TYPES.contains(&s) => Some(s.to_string()),
            Some(s) => {
                p.0.push(unknown_event_type(s, path));
                None
            }
            None => {
                p.push(Code::InvalidValue, path, "an event type must be a string such as \"follow\" or \"message\"");
                None
            }
        });
        let written = o.opt("experiment");
        let experiment = written.and_then(|v| {
            let path = join(path, "experiment");
            let mut e = ObjectReader::new(v, &path, "an experiment", p)?;
            let id = read_id(&mut e, "experiment", p);
            let when = e.opt("when").cloned();
            e.finish(p);
            Some(Experiment { id: id?, when })
        });
        let variants = o.opt_array("variants", p, Variant::read);
        let variants_path = o.field_path("variants");
        if variants.is_empty() {
            p.push(Code::MissingField, o.path(), "a content needs at least one variant in \"variants\"");
        }
        o.finish(p);
        unique_ids(variants.iter().map(|v| v.id.as_str()), &variants_path, "variant", p);
        let weighted = variants.iter().filter(|v| v.weight.is_some()).count();
        let total: u64 = variants.iter().filter_map(|v| v.weight).map(u64::from).sum();
        if total > FLAGD_MAX_WEIGHT {
            // flagd's `fractional` refuses such a split (no variant): a backend could not reproduce it.
            p.push(Code::InvalidValue, &variants_path, format!("the variants' weights total {total}; flagd allows at most {FLAGD_MAX_WEIGHT} (weights are proportions: 50 and 50 split as 1 and 1 do)"));
        }
        // An arm's unit shared with another arm, or with a variant outside the test (users who
        // were not assigned): LINE would count them together, and the arm's figures would no
        // longer be the test's.
        for (i, v) in variants.iter().enumerate() {
            let Some(unit) = &v.aggregation_unit else { continue };
            let arm = |w: &Variant| w.weight.is_some();
            // An earlier arm under this unit first (two arms say so), else, for an arm, any
            // earlier variant.
            let earlier = || variants.iter().take(i).filter(|w| w.aggregation_unit.as_ref() == Some(unit));
            let Some(first) = earlier().find(|w| arm(w)).or_else(|| earlier().find(|_| arm(v))) else { continue };
            let at = join(&join(&variants_path, p.original_index(&variants_path, i)), "aggregationUnit");
            let message = if arm(first) && arm(v) {
                format!("variants \"{}\" and \"{}\" are arms of one experiment and both use aggregation unit \"{unit}\": LINE would count them together; give each arm its own unit", first.id, v.id)
            } else {
                let (arm, other) = if arm(v) { (v, first) } else { (first, v) };
                format!("variant \"{}\" is not an arm of the experiment but uses aggregation unit \"{unit}\" of arm \"{}\": LINE would count its pushes in the arm's figures; give \"{}\" a unit of its own, or none", other.id, arm.id, other.id)
            };
            p.push(Code::InvalidValue, &at, message);
        }
        match (&experiment, weighted) {
            (Some(_), 0) => p.push(Code::InvalidValue, &join(path, "experiment"), "an experiment needs variants with a \"weight\""),
            // An experiment written but refused has its own error: not "no experiment" too.
            (None, n) if n > 0 && written.is_none() => p.push(Code::MissingField, path, "variants have a \"weight\" but the content has no \"experiment\""),
            _ => {}
        }
        Some(Content { id: id?, description, on, experiment, variants })
    }
}

/// The largest total of an experiment's weights flagd's `fractional` accepts (`math.MaxInt32`).
const FLAGD_MAX_WEIGHT: u64 = 2_147_483_647;

impl Variant {
    fn read(v: &Value, path: &str, p: &mut Problems) -> Option<Variant> {
        let mut o = ObjectReader::new(v, path, "a variant", p)?;
        let id = read_id(&mut o, "variant", p);
        let when = o.opt("when").cloned();
        let weight = o.opt_i64("weight", p).and_then(|w| match u32::try_from(w) {
            Ok(w) => Some(w),
            _ => {
                p.push(Code::InvalidValue, &o.field_path("weight"), format!("\"weight\" must be an integer from 0 (a paused arm), found {w}"));
                None
            }
        });
        if when.is_some() && weight.is_some() {
            // The experiment's split is flagd's: a condition per arm would not be reproducible.
            p.push(
                Code::InvalidValue,
                &o.field_path("when"),
                "a variant with a \"weight\" is one arm of the experiment and has no \"when\" of its own: put the condition in the experiment's \"when\" (who takes part), or in a variant without a weight placed before the weighted ones",
            );
        }
        let messages = o.opt_array("messages", p, |v, _, _| Some(v.clone()));
        if messages.is_empty() {
            p.push(Code::MissingField, path, "a variant needs 1 to 5 LINE message objects in \"messages\"");
        }
        let aggregation_unit = o.opt_str("aggregationUnit", p).filter(|u| {
            let ok = (1..=30).contains(&u.len()) && u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ok {
                let found = crate::error::quoted(u);
                // Too long is not visible at a glance: say by how much.
                let n = u.chars().count();
                let long = if n > 30 { format!(" ({n} characters)") } else { String::new() };
                p.push(Code::InvalidValue, &o.field_path("aggregationUnit"), format!("LINE takes an aggregation unit name of 1 to 30 letters A–Z or a–z, digits and underscores, found {found}{long}"));
            }
            ok
        });
        o.finish(p);
        Some(Variant { id: id?, when, weight, messages, aggregation_unit })
    }
}

impl Segment {
    fn read(v: &Value, path: &str, p: &mut Problems) -> Option<Segment> {
        let mut o = ObjectReader::new(v, path, "a segment", p)?;
        let id = read_id(&mut o, "segment", p);
        let description = o.opt_str("description", p);
        let when = o.req("when", p).cloned();
        let group = o.opt_str("group", p);
        let priority = o.opt_i64("priority", p);
        o.finish(p);
        Some(Segment { id: id?, description, when: when?, group, priority })
    }
}

/// Parses `what` (e.g. "the config") from JSON text, mapping a syntax error to a located problem.
pub fn parse_json(text: &str, what: &str) -> Result<Value, crate::Error> {
    // The crate's own parser (also the context's): serde_json's deserializer stays out of the
    // Wasm binary. Duplicate keys: the last wins, as with serde_json.
    parse_text(text, what).map(|v| v.to_serde())
}

/// [`parse_json`] before the conversion: the crate's own value, which still shows a key written
/// twice. A leading byte-order mark (some Windows editors write one) is skipped.
pub(crate) fn parse_text<'t>(text: &'t str, what: &str) -> Result<crate::value::Value<'t>, crate::Error> {
    crate::value::parse(crate::value::without_bom(text)).map_err(|e| json_error(what, &e))
}

/// A syntax error in `what` (e.g. "the context"), located by line and column.
pub(crate) fn json_error(what: &str, e: &crate::value::ParseError) -> crate::Error {
    let mut err = if e.message == crate::value::TOO_DEEP {
        let max = crate::value::MAX_DEPTH;
        let at = format!("line {}, column {}", e.line, e.column);
        crate::Error::new(Code::LimitExceeded, "", format!("{what} nests objects and arrays more than {max} deep (at {at}){}", if what == "the config" || what == "the rule" { "; no rule needs that many levels: write long chains of and/or as one list" } else { "" }))
    } else {
        crate::Error::new(Code::InvalidJson, "", format!("{what} is not valid JSON: {e}"))
    };
    err.line = Some(e.line);
    err.column = Some(e.column);
    err
}

/// The ids of the config's segments that could not be read (`read`: the ids of those that
/// were), e.g. one whose `when` is misspelt: their errors are reported at the segment, so a
/// rule that names one is not also an `unknown_segment`.
pub(crate) fn unread_segment_ids<'d>(doc: &'d Value, read: &[&str]) -> Vec<&'d str> {
    let items = doc.get("segments").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    items.iter().filter_map(|s| s.get("id").and_then(Value::as_str)).filter(|id| !read.contains(id)).collect()
}
