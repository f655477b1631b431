//! Time zones: kizuna works in fixed UTC offsets (Japan and most LINE markets observe no
//! daylight saving time), named or written out. One table for the config and for templates.

use chrono::FixedOffset;

/// Time zones kizuna knows by name (the config's `timeZone`, Liquid's `time_zone`). Only zones without daylight saving time can be named
/// (an offset like `"-05:00"` serves the others).
const ZONES: &[(&str, i32)] = &[
    ("utc", 0),
    ("gmt", 0),
    ("z", 0),
    ("etc/utc", 0),
    ("etc/gmt", 0),
    ("asia/tokyo", 9 * 3600),
    ("japan", 9 * 3600),
    ("jst", 9 * 3600),
    ("asia/seoul", 9 * 3600),
    ("kst", 9 * 3600),
    ("asia/taipei", 8 * 3600),
    ("asia/shanghai", 8 * 3600),
    ("asia/hong_kong", 8 * 3600),
    ("asia/singapore", 8 * 3600),
    ("asia/manila", 8 * 3600),
    ("asia/kuala_lumpur", 8 * 3600),
    ("australia/perth", 8 * 3600),
    ("asia/bangkok", 7 * 3600),
    ("asia/jakarta", 7 * 3600),
    ("asia/ho_chi_minh", 7 * 3600),
    ("asia/saigon", 7 * 3600),
    ("asia/kolkata", 5 * 3600 + 1800),
    ("asia/calcutta", 5 * 3600 + 1800),
    ("asia/dubai", 4 * 3600),
];

/// What to write instead of a zone kizuna does not know, for every such error message.
pub const ZONE_HELP: &str = "use a UTC offset such as \"+09:00\" or a zone without daylight saving time such as \"Asia/Tokyo\" or \"UTC\"; \
     zones with daylight saving time (\"America/New_York\", \"Europe/Paris\") are not supported, their offset changes during the year";

/// A zone name (`"Asia/Tokyo"`, `"UTC"`) or offset (`"+09:00"`, `"+0900"`, `"-5"`, `"UTC+9"`).
pub fn parse_zone(name: &str) -> Option<FixedOffset> {
    let t = name.trim();
    let lower = t.to_ascii_lowercase();
    if let Some((_, secs)) = ZONES.iter().find(|(n, _)| *n == lower) {
        return FixedOffset::east_opt(*secs);
    }
    let off = lower.strip_prefix("utc").or_else(|| lower.strip_prefix("gmt")).unwrap_or(&lower);
    parse_offset(off)
}

/// `+09:00`, `+0900`, `+09`, `+9`, `-05:30`.
pub fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, s.get(1..)?),
        b'-' => (-1, s.get(1..)?),
        _ => return None,
    };
    let (h, m) = if let Some((h, m)) = rest.split_once(':') {
        (h, m)
    } else if rest.len() == 4 {
        (rest.get(..2)?, rest.get(2..)?)
    } else {
        (rest, "0")
    };
    if h.is_empty()
        || h.len() > 2
        || m.len() > 2
        || !h.bytes().all(|b| b.is_ascii_digit())
        || !m.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones() {
        assert_eq!(parse_zone("Asia/Tokyo").unwrap().local_minus_utc(), 9 * 3600);
        assert_eq!(parse_zone("+05:30").unwrap().local_minus_utc(), 5 * 3600 + 1800);
        assert_eq!(parse_zone("-0800").unwrap().local_minus_utc(), -8 * 3600);
        assert_eq!(parse_zone("UTC+9").unwrap().local_minus_utc(), 9 * 3600);
        assert!(parse_zone("America/New_York").is_none());
        assert!(parse_zone("Mars/Olympus").is_none());
    }
}
