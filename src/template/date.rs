//! Dates for the `date` and `time_zone` filters: reading timestamps the way Ruby Liquid's
//! `Utils.to_date` does (`"now"`, `"today"`, Unix seconds, free-form date text), Ruby's
//! `strftime` directives and flags, and fixed-offset time zones.
//!
//! Every time is shown in the render's time zone (`RenderOptions::tz`, the account's zone) unless
//! `time_zone` moved it to another; text without an offset is read as local time in that zone.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike};
use super::case;
use crate::tz::parse_offset;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const DAYS_JA: [&str; 7] = ["日", "月", "火", "水", "木", "金", "土"];

/// The language of the names `%a %A %b %h %B` write: a config's `locale`. Japanese writes what
/// liquidjs writes with `locale: "ja-JP"` (`土`, `土曜日`, `11月`), so that `%m月%d日(%a)` gives
/// `11月28日(土)`; every other directive is the same in both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// English names, as Shopify's Liquid: `Sat`, `Saturday`, `Nov`, `November`.
    #[default]
    En,
    /// Japanese names, as liquidjs with `locale: "ja-JP"`: `土`, `土曜日`, `11月`.
    Ja,
}

/// Unix seconds shown in `tz`.
pub(crate) fn from_timestamp(secs: i64, tz: FixedOffset) -> Option<DateTime<FixedOffset>> {
    DateTime::from_timestamp(secs, 0).map(|t| t.with_timezone(&tz))
}

/// Reads free-form date text (Ruby's `Time.parse` for the common shapes): ISO 8601 / RFC 3339,
/// `2016/03/14 10:00`, `March 14, 2016`, `14 Mar 2016 10:00:00 +0900`, `Mon, 14 Mar 2016`,
/// `2016年3月14日 10時30分`. Text without a zone is local time in `tz`; the result is in `tz`.
pub(crate) fn parse_time(s: &str, tz: FixedOffset, now: DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if t.eq_ignore_ascii_case("now") || t.eq_ignore_ascii_case("today") {
        return Some(now.with_timezone(&tz));
    }
    if let Some(dt) = parse_iso(t, tz) {
        return Some(dt);
    }
    if let Some(dt) = crate::logic::time::rfc3339(t) {
        return Some(dt.with_timezone(&tz));
    }
    let mut p = Fields::default();
    if !scan(t, &mut p) {
        return None;
    }
    let today = now.with_timezone(&tz).date_naive();
    let (year, month, day) = match (p.year, p.month, p.day) {
        (Some(y), Some(m), Some(d)) => (y, m, d),
        (None, Some(m), Some(d)) => (today.year(), m, d),
        (Some(y), Some(m), None) => (y, m, 1),
        (None, None, None) if p.hour.is_some() => (today.year(), today.month(), today.day()),
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let mut hour = p.hour.unwrap_or(0);
    if let Some(pm) = p.pm {
        if hour > 12 {
            return None;
        }
        hour = match (pm, hour) {
            (false, 12) => 0,
            (true, 12) => 12,
            (true, h) => h + 12,
            (false, h) => h,
        };
    }
    let time = NaiveTime::from_hms_nano_opt(hour, p.minute.unwrap_or(0), p.second.unwrap_or(0), p.nanos)?;
    let naive = NaiveDateTime::new(date, time);
    let zone = p.zone.unwrap_or(tz);
    let dt = zone.from_local_datetime(&naive).single()?;
    Some(dt.with_timezone(&tz))
}

/// The common ISO 8601 shapes without allocating: `2024-05-01`, `2024-05-01T10:00[:00[.123]]`
/// with `Z`, `±09:00`, `±0900` or no zone (local to `tz`).
fn parse_iso(t: &str, tz: FixedOffset) -> Option<DateTime<FixedOffset>> {
    let b = t.as_bytes();
    let d = |i: usize| -> Option<u32> {
        let c = *b.get(i)?;
        c.is_ascii_digit().then(|| u32::from(c - b'0'))
    };
    let two = |i: usize| -> Option<u32> { Some(d(i)? * 10 + d(i + 1)?) };
    if b.len() < 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let year = i32::try_from(d(0)? * 1000 + d(1)? * 100 + d(2)? * 10 + d(3)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, two(5)?, two(8)?)?;
    let mut i = 10;
    let (mut h, mut m, mut sec, mut nanos) = (0, 0, 0, 0);
    if b.len() > 10 {
        if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
            return None;
        }
        h = two(11)?;
        if b.get(13) != Some(&b':') {
            return None;
        }
        m = two(14)?;
        i = 16;
        if b.get(16) == Some(&b':') {
            sec = two(17)?;
            i = 19;
            if b.get(19) == Some(&b'.') {
                i = 20;
                let mut scale = 100_000_000;
                while let Some(v) = d(i) {
                    nanos += v * scale;
                    scale /= 10;
                    i += 1;
                }
                if i == 20 {
                    return None;
                }
            }
        }
    }
    let zone = match b.get(i) {
        None => tz,
        Some(b'Z' | b'z') if i + 1 == b.len() => FixedOffset::east_opt(0)?,
        Some(b'+' | b'-') => parse_offset(t.get(i..)?)?,
        _ => return None,
    };
    let naive = NaiveDateTime::new(date, NaiveTime::from_hms_nano_opt(h, m, sec, nanos)?);
    // What `zone.from_local_datetime(&naive).single()?.with_timezone(&tz)` computes for a fixed
    // offset, without the LocalResult and the second conversion.
    naive.checked_sub_offset(zone).map(|utc| DateTime::from_naive_utc_and_offset(utc, tz))
}

#[derive(Default)]
struct Fields {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    hour: Option<u32>,
    minute: Option<u32>,
    second: Option<u32>,
    nanos: u32,
    pm: Option<bool>,
    zone: Option<FixedOffset>,
}

fn month_of(word: &str) -> Option<u32> {
    if word.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.len() >= word.len() && m.get(..word.len()).is_some_and(|p| p.eq_ignore_ascii_case(word)))
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn is_weekday(word: &str) -> bool {
    word.len() >= 3
        && DAYS
            .iter()
            .any(|d| d.len() >= word.len() && d.get(..word.len()).is_some_and(|p| p.eq_ignore_ascii_case(word)))
}

/// All-digit text as a number (None when empty, not digits, or too large). One non-generic
/// reader for every field: `str::parse` per integer type is a parser instance each.
fn num(s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    Some(v)
}

/// `num` for fields that must fit a `u32` (hours, minutes, days).
fn num_u32(s: &str) -> Option<u32> {
    num(s).and_then(|v| u32::try_from(v).ok())
}

/// Splits the text into words and numbers and assigns them to fields. False when something is
/// left that is not a date.
fn scan(text: &str, p: &mut Fields) -> bool {
    // Japanese date/time units become the separators of the Western forms.
    let normalized: String = text
        .chars()
        .map(|c| match c {
            '年' | '月' | '/' => '-',
            '時' | '分' => ':',
            '日' | '秒' | ',' | '(' | ')' | '（' | '）' | '　' => ' ',
            c => c,
        })
        .collect();
    let words: Vec<&str> = normalized.split_whitespace().collect();
    scan_words(&words, p)
}

fn scan_words(words: &[&str], p: &mut Fields) -> bool {
    let mut bare_numbers: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words.get(i).copied().unwrap_or("");
        i += 1;
        let wl = w.trim_end_matches('.');
        // ISO-ish date, possibly with a time glued by 'T'.
        if let Some((date, time)) = split_date_time(w) {
            if !set_dashed_date(date, p) {
                return false;
            }
            if let Some(time) = time {
                if !set_time(time, p) {
                    return false;
                }
            }
            continue;
        }
        if w.contains(':') && w.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
            if !set_time(w, p) {
                return false;
            }
            continue;
        }
        if let Some(m) = month_of(wl) {
            if p.month.is_some() {
                return false;
            }
            p.month = Some(m);
            continue;
        }
        if is_weekday(wl) {
            continue;
        }
        match wl.to_ascii_lowercase().as_str() {
            "am" | "a.m" => {
                p.pm = Some(false);
                continue;
            }
            "pm" | "p.m" => {
                p.pm = Some(true);
                continue;
            }
            "at" | "of" | "the" => continue,
            _ => {}
        }
        if let Some(z) = zone_word(w) {
            p.zone = Some(z);
            continue;
        }
        let lw = w.to_ascii_lowercase();
        if let Some(stripped) = lw.strip_suffix("am").or_else(|| lw.strip_suffix("pm")) {
            if let Some(h) = num_u32(stripped) {
                p.hour = Some(h);
                p.pm = Some(lw.ends_with("pm"));
                continue;
            }
        }
        let digits = lw.trim_end_matches(['s', 't', 'n', 'd', 'r', 'h']);
        if num_u32(digits).is_some() && digits.len() <= 2 && digits.len() < lw.len() {
            // 1st, 2nd, 14th
            bare_numbers.push(w.get(..digits.len()).unwrap_or(""));
            continue;
        }
        if num(w).is_some() {
            bare_numbers.push(w);
            continue;
        }
        return false;
    }
    for n in bare_numbers {
        let v = match num(n) {
            Some(v) => v,
            None => return false,
        };
        if n.len() >= 3 {
            if p.year.is_some() {
                return false;
            }
            p.year = i32::try_from(v).ok();
        } else if p.day.is_none() && p.month.is_some() && (1..=31).contains(&v) {
            p.day = u32::try_from(v).ok();
        } else if p.year.is_none() && p.month.is_some() && p.day.is_some() {
            p.year = i32::try_from(v).ok().map(|y| if y < 69 { 2000 + y } else { 1900 + y });
        } else {
            return false;
        }
    }
    p.year.is_some() || p.month.is_some() || p.hour.is_some()
}

/// `2016-03-14`, `2016-3-14T10:00:00Z`, `14-03-2016`.
fn split_date_time(w: &str) -> Option<(&str, Option<&str>)> {
    let first = w.bytes().next()?;
    let date_part = w.split(['T', 't']).next()?;
    if !first.is_ascii_digit() || !date_part.contains('-') || date_part.contains(':') {
        return None;
    }
    match w.find(['T', 't']) {
        Some(i) => Some((w.get(..i)?, Some(w.get(i + 1..)?))),
        None => {
            // A trailing zone like "2016-03-14-05:00" is not supported; plain dates only.
            Some((w, None))
        }
    }
}

fn set_dashed_date(d: &str, p: &mut Fields) -> bool {
    // Up to three numbers and their lengths (more parts match no shape below).
    let (mut nums, mut lens, mut n) = ([0i64; 3], [0usize; 3], 0);
    for part in d.split('-').filter(|s| !s.is_empty()) {
        let (Some(v), Some(slot), Some(len)) = (num(part), nums.get_mut(n), lens.get_mut(n)) else {
            return false;
        };
        *slot = v;
        *len = part.len();
        n += 1;
    }
    match (nums.get(..n).unwrap_or(&[]), lens.get(..n).unwrap_or(&[])) {
        ([y, m, d], [ly, _, _]) if *ly >= 4 => {
            p.year = i32::try_from(*y).ok();
            p.month = u32::try_from(*m).ok();
            p.day = u32::try_from(*d).ok();
        }
        ([d, m, y], [_, _, ly]) if *ly >= 4 => {
            p.year = i32::try_from(*y).ok();
            p.month = u32::try_from(*m).ok();
            p.day = u32::try_from(*d).ok();
        }
        ([y, m], [ly, _]) if *ly >= 4 => {
            p.year = i32::try_from(*y).ok();
            p.month = u32::try_from(*m).ok();
        }
        ([m, d], [1..=2, 1..=2]) => {
            p.month = u32::try_from(*m).ok();
            p.day = u32::try_from(*d).ok();
        }
        _ => return false,
    }
    p.year.is_some() || p.month.is_some()
}

/// `10:00`, `10:00:00`, `10:00:00.123`, with an optional glued zone (`Z`, `+09:00`).
fn set_time(t: &str, p: &mut Fields) -> bool {
    let (clock, zone) = match t.find(['Z', 'z', '+', '-']) {
        Some(i) => (t.get(..i).unwrap_or(""), t.get(i..)),
        None => (t, None),
    };
    if let Some(z) = zone {
        match zone_word(z) {
            Some(off) => p.zone = Some(off),
            None => return false,
        }
    }
    let clock = clock.strip_suffix(':').map_or(clock, |c| if c.contains(':') { c } else { clock });
    let (hms, frac) = match clock.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (clock, None),
    };
    let mut it = hms.split(':');
    let h = it.next().and_then(num_u32);
    let m = match it.next() {
        Some("") => Some(0),
        other => other.and_then(num_u32),
    };
    let s = it.next().map(num_u32);
    if it.next().is_some() || h.is_none() || m.is_none() || matches!(s, Some(None)) {
        return false;
    }
    p.hour = h;
    p.minute = m;
    p.second = s.flatten();
    if let Some(f) = frac {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        // The first nine digits, zeros after the last.
        let mut nanos = 0;
        for i in 0..9 {
            nanos = nanos * 10 + f.as_bytes().get(i).map_or(0, |&b| u32::from(b - b'0'));
        }
        p.nanos = nanos;
    }
    true
}

fn zone_word(w: &str) -> Option<FixedOffset> {
    let l = w.to_ascii_lowercase();
    match l.as_str() {
        "z" | "utc" | "gmt" | "ut" => FixedOffset::east_opt(0),
        "jst" => FixedOffset::east_opt(9 * 3600),
        "kst" => FixedOffset::east_opt(9 * 3600),
        _ if l.starts_with('+') || l.starts_with('-') => parse_offset(&l),
        _ => None,
    }
}

/// Ruby's `Time#strftime` (directives, the `-_0^#` flags, widths, `%:z`), with names in `locale`.
pub(crate) fn strftime(t: &DateTime<FixedOffset>, fmt: &str, locale: Locale, out: &mut String) {
    // The local fields once per call: every `DateTime` accessor adds the offset again.
    let tm = Tm::of(t);
    let b = fmt.as_bytes();
    // `lit` starts the literal text not yet written; it is copied a run at a time.
    let (mut lit, mut i) = (0, 0);
    while let Some(&c) = b.get(i) {
        if c != b'%' {
            i += 1;
            continue;
        }
        out.push_str(fmt.get(lit..i).unwrap_or(""));
        let start = i;
        i += 1;
        let mut flags = Flags::default();
        let mut width: Option<usize> = None;
        let mut colons = 0;
        let mut conv = None;
        while let Some(&f) = b.get(i) {
            match f {
                b'-' => flags.no_pad = true,
                b'_' => flags.space = true,
                b'0' if width.is_none() => flags.zero = true,
                b'^' => flags.upper = true,
                b'#' => flags.swap = true,
                b':' => colons += 1,
                // Ruby's locale modifiers: `%Ey` is `%y`, `%Od` is `%d`; before other conversions
                // they are not a directive (`%Ez` stays as written).
                b'E' if b.get(i + 1).is_some_and(|n| b"cCxXyY".contains(n)) => {}
                b'O' if b.get(i + 1).is_some_and(|n| b"deHkIlmMSuUVwWy".contains(n)) => {}
                b'0'..=b'9' => {
                    let d = usize::from(f - b'0');
                    width = Some(width.unwrap_or(0).saturating_mul(10).saturating_add(d).min(1024));
                }
                _ => {
                    // The conversion may be any character (then not a directive): step over all of it.
                    let ch = fmt.get(i..).and_then(|r| r.chars().next()).unwrap_or('\0');
                    conv = Some(ch);
                    i += ch.len_utf8();
                    break;
                }
            }
            i += 1;
        }
        lit = i;
        match conv {
            // Colons are for `%z` only (`%:y` stays as written, as in Ruby).
            Some(conv) if (colons == 0 || conv == 'z') && directive(t, &tm, conv, &flags, width, colons, locale, out) => {}
            _ => out.push_str(fmt.get(start..i).unwrap_or("")),
        }
    }
    out.push_str(fmt.get(lit..).unwrap_or(""));
}

/// The local date and time fields of a `DateTime`.
struct Tm {
    year: i32,
    month: u32,
    day: u32,
    ordinal: u32,
    /// Days from Sunday.
    wday: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanosecond: u32,
}

impl Tm {
    fn of(t: &DateTime<FixedOffset>) -> Tm {
        match t.naive_utc().checked_add_offset(*t.offset()) {
            Some(local) => Tm::fields(&local),
            // Past NaiveDateTime's range: the accessors, which allow for that.
            None => Tm::fields(t),
        }
    }

    fn fields(d: &(impl Datelike + Timelike)) -> Tm {
        Tm {
            year: d.year(),
            month: d.month(),
            day: d.day(),
            ordinal: d.ordinal(),
            wday: d.weekday().num_days_from_sunday(),
            hour: d.hour(),
            minute: d.minute(),
            second: d.second(),
            nanosecond: d.nanosecond(),
        }
    }
}

#[derive(Default)]
struct Flags {
    no_pad: bool,
    space: bool,
    zero: bool,
    upper: bool,
    swap: bool,
}

fn pad_num(v: i64, default_width: usize, default_char: char, f: &Flags, width: Option<usize>, out: &mut String) {
    // The common case (`%m`, `%d`, `%H`…): zero padding to the directive's own width.
    if let (Ok(u), None, '0', false, false, false) = (u64::try_from(v), width, default_char, f.no_pad, f.space, f.zero) {
        super::number::write_zero_padded(u, default_width, out);
        return;
    }
    let (buf, start) = super::number::digits_u64(v.unsigned_abs());
    let digits = buf.get(start..).unwrap_or(b"0");
    let w = width.unwrap_or(default_width);
    let neg = v < 0;
    let len = digits.len() + usize::from(neg);
    let fill = if f.no_pad {
        None
    } else if f.space {
        Some(' ')
    } else if f.zero {
        Some('0')
    } else {
        Some(default_char)
    };
    match fill {
        Some('0') => {
            if neg {
                out.push('-');
            }
            for _ in len..w {
                out.push('0');
            }
        }
        Some(c) => {
            for _ in len..w {
                out.push(c);
            }
            if neg {
                out.push('-');
            }
        }
        None => {
            if neg {
                out.push('-');
            }
        }
    }
    for &d in digits {
        out.push(super::number::digit_char(d));
    }
}

fn pad_text(s: &str, f: &Flags, width: Option<usize>, swap_lower: bool, out: &mut String) {
    let text = if f.upper {
        case::to_upper(s)
    } else if f.swap {
        if swap_lower {
            case::to_lower(s)
        } else {
            case::to_upper(s)
        }
    } else {
        s.to_string()
    };
    if let Some(w) = width {
        if !f.no_pad {
            let fill = if f.zero { '0' } else { ' ' };
            for _ in text.chars().count()..w {
                out.push(fill);
            }
        }
    }
    out.push_str(&text);
}

#[allow(clippy::too_many_arguments)]
fn directive(
    t: &DateTime<FixedOffset>,
    tm: &Tm,
    c: char,
    f: &Flags,
    width: Option<usize>,
    colons: usize,
    locale: Locale,
    out: &mut String,
) -> bool {
    let wday = tm.wday as usize;
    let hour12 = match tm.hour % 12 {
        0 => 12,
        h => h,
    };
    let month_name = || MONTHS.get(tm.month.wrapping_sub(1) as usize).copied().unwrap_or("");
    let day_name = || DAYS.get(wday).copied().unwrap_or("");
    if locale == Locale::Ja && matches!(c, 'a' | 'A' | 'b' | 'h' | 'B') {
        let mut name = String::with_capacity(12);
        if matches!(c, 'a' | 'A') {
            name.push_str(DAYS_JA.get(wday).copied().unwrap_or(""));
            if c == 'A' {
                name.push_str("曜日");
            }
        } else {
            super::number::write_zero_padded(u64::from(tm.month), 1, &mut name);
            name.push('月');
        }
        pad_text(&name, f, width, false, out);
        return true;
    }
    match c {
        'Y' => pad_num(i64::from(tm.year), if tm.year < 0 { 5 } else { 4 }, '0', f, width, out),
        'C' => pad_num(i64::from(tm.year.div_euclid(100)), 2, '0', f, width, out),
        'y' => pad_num(i64::from(tm.year.rem_euclid(100)), 2, '0', f, width, out),
        'm' => pad_num(i64::from(tm.month), 2, '0', f, width, out),
        'd' => pad_num(i64::from(tm.day), 2, '0', f, width, out),
        'e' => pad_num(i64::from(tm.day), 2, ' ', f, width, out),
        'j' => pad_num(i64::from(tm.ordinal), 3, '0', f, width, out),
        'H' => pad_num(i64::from(tm.hour), 2, '0', f, width, out),
        'k' => pad_num(i64::from(tm.hour), 2, ' ', f, width, out),
        'I' => pad_num(i64::from(hour12), 2, '0', f, width, out),
        'l' => pad_num(i64::from(hour12), 2, ' ', f, width, out),
        'M' => pad_num(i64::from(tm.minute), 2, '0', f, width, out),
        'S' => pad_num(i64::from(tm.second), 2, '0', f, width, out),
        'L' | 'N' => {
            let digits = width.unwrap_or(if c == 'L' { 3 } else { 9 });
            let nanos = tm.nanosecond % 1_000_000_000;
            // The first `digits` digits of the nine, zeros past the ninth.
            let mut unit = 100_000_000;
            for _ in 0..digits {
                out.push(nanos.checked_div(unit).map_or('0', |q| char::from(b'0' + (q % 10) as u8)));
                unit /= 10;
            }
        }
        's' => pad_num(t.timestamp(), 1, '0', f, width, out),
        'u' => pad_num(i64::from((tm.wday + 6) % 7 + 1), 1, '0', f, width, out),
        'w' => pad_num(wday as i64, 1, '0', f, width, out),
        'U' => {
            let yday = i64::from(tm.ordinal.wrapping_sub(1));
            pad_num((yday + 7 - wday as i64) / 7, 2, '0', f, width, out);
        }
        'W' => {
            let yday = i64::from(tm.ordinal.wrapping_sub(1));
            let mon_based = (wday as i64 + 6) % 7;
            pad_num((yday + 7 - mon_based) / 7, 2, '0', f, width, out);
        }
        'V' => pad_num(i64::from(t.iso_week().week()), 2, '0', f, width, out),
        'G' => pad_num(i64::from(t.iso_week().year()), 4, '0', f, width, out),
        'g' => pad_num(i64::from(t.iso_week().year().rem_euclid(100)), 2, '0', f, width, out),
        'a' => pad_text(day_name().get(..3).unwrap_or(""), f, width, false, out),
        'A' => pad_text(day_name(), f, width, false, out),
        'b' | 'h' => pad_text(month_name().get(..3).unwrap_or(""), f, width, false, out),
        'B' => pad_text(month_name(), f, width, false, out),
        'p' => pad_text(if tm.hour < 12 { "AM" } else { "PM" }, f, width, true, out),
        'P' => pad_text(if tm.hour < 12 { "am" } else { "pm" }, f, width, false, out),
        // A fixed offset has no zone name in Ruby: nothing, not even padding.
        'Z' if t.offset().local_minus_utc() != 0 => {}
        'Z' => pad_text("UTC", f, width, true, out),
        'z' => {
            let secs = t.offset().local_minus_utc();
            let sign = if secs < 0 { '-' } else { '+' };
            let a = secs.unsigned_abs();
            let (h, m, s) = (a / 3600, (a % 3600) / 60, a % 60);
            let mut body = String::with_capacity(8);
            // `%::z` writes seconds; `%:::z` only the parts that are not zero (`+09`, `+05:30`).
            let parts = match colons {
                0 | 1 => 2,
                2 => 3,
                3 => 1 + usize::from(m + s > 0) + usize::from(s > 0),
                _ => return false,
            };
            for (i, v) in [h, m, s].into_iter().enumerate().take(parts) {
                if i > 0 && colons > 0 {
                    body.push(':');
                }
                super::number::write_zero_padded(u64::from(v), 2, &mut body);
            }
            let len = body.len() + 1;
            if let Some(w) = width {
                if !f.no_pad && !f.space {
                    out.push(sign);
                    for _ in len..w {
                        out.push('0');
                    }
                    out.push_str(&body);
                    return true;
                }
            }
            out.push(sign);
            out.push_str(&body);
        }
        'c' => compose(t, "%a %b %e %H:%M:%S %Y", f, width, out),
        'x' | 'D' => compose(t, "%m/%d/%y", f, width, out),
        'X' | 'T' => compose(t, "%H:%M:%S", f, width, out),
        'F' => compose(t, "%Y-%m-%d", f, width, out),
        'R' => compose(t, "%H:%M", f, width, out),
        'r' => compose(t, "%I:%M:%S %p", f, width, out),
        'v' => compose(t, "%e-%^b-%4Y", f, width, out),
        // Padded as text, as Ruby does (`%5%` is `    %`).
        'n' => pad_text("\n", f, width, false, out),
        't' => pad_text("\t", f, width, false, out),
        '%' => pad_text("%", f, width, false, out),
        _ => return false,
    }
    true
}

fn compose(t: &DateTime<FixedOffset>, fmt: &str, f: &Flags, width: Option<usize>, out: &mut String) {
    let mut s = String::new();
    strftime(t, fmt, Locale::En, &mut s);
    // `^` upcases the whole; `#` changes nothing (Ruby: `%#c` is `Wed Mar  4 …`).
    let f = Flags { swap: false, ..*f };
    pad_text(&s, &f, width, false, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> FixedOffset {
        FixedOffset::east_opt(0).unwrap()
    }

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2024-05-01T12:34:56+09:00").unwrap()
    }

    fn fmt(s: &str, f: &str) -> String {
        let t = parse_time(s, utc(), now()).unwrap_or_else(|| panic!("{s}"));
        let mut out = String::new();
        strftime(&t, f, Locale::En, &mut out);
        out
    }

    #[test]
    fn parses_common_shapes() {
        assert_eq!(fmt("March 14, 2016", "%Y-%m-%d %H:%M"), "2016-03-14 00:00");
        assert_eq!(fmt("14 Mar 2016 10:30", "%F %R"), "2016-03-14 10:30");
        assert_eq!(fmt("Mon, 14 Mar 2016 10:30:00 +0900", "%F %T"), "2016-03-14 01:30:00");
        assert_eq!(fmt("2016-03-14", "%F"), "2016-03-14");
        assert_eq!(fmt("2016/3/4 9:05", "%F %T"), "2016-03-04 09:05:00");
        assert_eq!(fmt("2016-03-14T10:00:00Z", "%F %T"), "2016-03-14 10:00:00");
        assert_eq!(fmt("2016-03-14 10:00:00 +09:00", "%F %T"), "2016-03-14 01:00:00");
        assert_eq!(fmt("2016年3月14日", "%F"), "2016-03-14");
        assert_eq!(fmt("2016年3月14日 10時30分", "%F %R"), "2016-03-14 10:30");
        assert_eq!(fmt("March 14", "%F"), "2024-03-14");
        assert_eq!(fmt("10:00 PM March 14, 2016", "%F %T"), "2016-03-14 22:00:00");
        assert!(parse_time("-1152098955", utc(), now()).is_none());
        assert!(parse_time("hello world", utc(), now()).is_none());
        assert!(parse_time("2016-13-45", utc(), now()).is_none());
        // Through the word scanner (not the ISO fast path): fractions, day-first and short dates.
        assert_eq!(fmt("2016/3/4 9:05:07.25", "%T.%N"), "09:05:07.250000000");
        assert_eq!(fmt("2016/3/4 9:05:07.1234567891", "%N"), "123456789");
        assert_eq!(fmt("14-03-2016", "%F"), "2016-03-14");
        assert_eq!(fmt("March 3rd 2016 10:00:00.5", "%F %T.%L"), "2016-03-03 10:00:00.500");
        assert_eq!(fmt("3-14 10am", "%F %R"), "2024-03-14 10:00");
        assert!(parse_time("2016-03-14-05", utc(), now()).is_none());
        assert!(parse_time("2016/3/4 99999999999:00", utc(), now()).is_none());
    }

    #[test]
    fn strftime_directives_and_flags() {
        let t = DateTime::parse_from_rfc3339("2016-03-04T05:06:07.123456789+09:00").unwrap();
        let f = |p: &str| {
            let mut s = String::new();
            strftime(&t, p, Locale::En, &mut s);
            s
        };
        assert_eq!(f("%Y/%m/%d %H:%M:%S"), "2016/03/04 05:06:07");
        assert_eq!(f("%-m/%-d %e %k %l %I %p %P"), "3/4  4  5  5 05 AM am");
        assert_eq!(f("%a %A %b %B %^a %^B"), "Fri Friday Mar March FRI MARCH");
        assert_eq!(f("%j %U %W %u %w %y %C"), "064 09 09 5 5 16 20");
        assert_eq!(f("%z %:z %::z %L %N %3N"), "+0900 +09:00 +09:00:00 123 123456789 123");
        assert_eq!(f("%s"), "1457035567");
        assert_eq!(f("%%%b %d, %y %Q"), "%Mar 04, 16 %Q");
        assert_eq!(
            f("%c | %x | %X | %D | %F | %T | %R | %r"),
            "Fri Mar  4 05:06:07 2016 | 03/04/16 | 05:06:07 | 03/04/16 | 2016-03-04 | 05:06:07 | 05:06 | 05:06:07 AM"
        );
        assert_eq!(f("%10A|%-10A|%_5m|%05e"), "    Friday|Friday|    3|00004");
    }
}
