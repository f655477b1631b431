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
    /// The account's time zone for weekdays, times of day and bare dates (`YYYY-MM-DD`): a UTC
    /// offset such as `+09:00`, or one of the fixed-offset zones `Asia/Tokyo`, `Asia/Seoul`,
    /// `Asia/Taipei`, `Asia/Bangkok`, `Asia/Jakarta`, `UTC`. Default `+09:00`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Segments, evaluated for every decision. Order matters only for the order of
    /// `segments` in a decision and for ties of `priority` inside a group.
    #[serde(default)]
    pub segments: Vec<Segment>,
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
fn rule_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": ["object", "array", "string", "number", "boolean", "null"]
    })
}

/// Time zones kizuna knows by name. All are fixed offsets (none of these observes DST).
const NAMED_ZONES: &[(&str, i32)] = &[
    ("UTC", 0),
    ("Etc/UTC", 0),
    ("Asia/Tokyo", 9 * 3600),
    ("Asia/Seoul", 9 * 3600),
    ("Asia/Taipei", 8 * 3600),
    ("Asia/Shanghai", 8 * 3600),
    ("Asia/Hong_Kong", 8 * 3600),
    ("Asia/Bangkok", 7 * 3600),
    ("Asia/Jakarta", 7 * 3600),
];

/// The default time zone of a config: Japan.
pub fn default_tz() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).unwrap_or(chrono::Utc.fix())
}

/// Parses `+09:00`, `-05:30`, `Z` or a name from [`NAMED_ZONES`].
pub fn parse_tz(s: &str) -> Option<FixedOffset> {
    if let Some((_, secs)) = NAMED_ZONES.iter().find(|(n, _)| *n == s) {
        return FixedOffset::east_opt(*secs);
    }
    if s == "Z" {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, s.get(1..)?),
        b'-' => (-1, s.get(1..)?),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

fn valid_id(id: &str) -> bool {
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
                    format!("this engine reads config version 1, found {v}"),
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
                    format!("unknown time zone \"{tz}\"; write a UTC offset such as \"+09:00\" or a name such as \"Asia/Tokyo\""),
                );
            }
        }
        let segments = o.opt_array("segments", p, Segment::read);
        o.finish(p);
        let mut seen: Vec<&str> = Vec::new();
        for (i, s) in segments.iter().enumerate() {
            if seen.contains(&s.id.as_str()) {
                p.push(Code::DuplicateId, &join("/segments", i) , format!("segment id \"{}\" is used twice", s.id));
            }
            seen.push(&s.id);
        }
        Some(Config { version, time_zone, segments })
    }

    /// The config's time zone (validated by [`Config::read`]).
    pub fn tz(&self) -> FixedOffset {
        self.time_zone.as_deref().and_then(parse_tz).unwrap_or_else(default_tz)
    }
}

impl Segment {
    fn read(v: &Value, path: &str, p: &mut Problems) -> Option<Segment> {
        let mut o = ObjectReader::new(v, path, "a segment", p)?;
        let id = o.req_str("id", p);
        if let Some(id) = &id {
            if !valid_id(id) {
                p.push(
                    Code::InvalidValue,
                    &o.field_path("id"),
                    format!("segment id \"{id}\" must be 1–64 characters of letters, digits, '_', '-' or '.'"),
                );
            }
        }
        let description = o.opt_str("description", p);
        let when = o.req("when", p).cloned();
        let group = o.opt_str("group", p);
        let priority = o.opt_i64("priority", p);
        o.finish(p);
        Some(Segment { id: id?, description, when: when?, group, priority })
    }
}

/// Parses config text into JSON, mapping a syntax error to a located problem.
pub fn parse_json(text: &str) -> Result<Value, crate::Error> {
    serde_json::from_str(text).map_err(|e| {
        let mut err = crate::Error::new(Code::InvalidJson, "", format!("the config is not valid JSON: {e}"));
        err.line = u32::try_from(e.line()).ok();
        err.column = u32::try_from(e.column()).ok();
        err
    })
}
