//! Timestamps and durations for the time operators, parsed without allocation.
//!
//! Instants are seconds + nanoseconds since the Unix epoch. Calendar math (weekday, month,
//! adding months) is done on the wall clock of a fixed UTC offset, where every day is 86,400 s.

use chrono::{DateTime, FixedOffset};
use std::fmt::Write as _;

/// A point in time: seconds since 1970-01-01T00:00:00Z and the sub-second nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Instant {
    pub secs: i64,
    pub nanos: u32,
}

/// An RFC 3339 timestamp, a second written `:60` (a leap second, or a typo) read as the next
/// second's start: chrono keeps it as second 59 with more than a billion nanoseconds, which
/// prints as `:59.1000` and sorts before the instant it is.
pub(crate) fn rfc3339(s: &str) -> Option<DateTime<FixedOffset>> {
    let dt = DateTime::parse_from_rfc3339(s).ok()?;
    if dt.timestamp_subsec_nanos() < 1_000_000_000 {
        return Some(dt);
    }
    let t = Instant::of(&dt);
    DateTime::from_timestamp(t.secs, t.nanos).map(|utc| utc.with_timezone(dt.offset()))
}

impl Instant {
    pub fn of(dt: &DateTime<FixedOffset>) -> Instant {
        // chrono keeps a leap second (`:60`) as second 59 with a billion nanoseconds or more.
        let nanos = dt.timestamp_subsec_nanos();
        let leap = u32::from(nanos >= 1_000_000_000);
        Instant { secs: dt.timestamp() + i64::from(leap), nanos: nanos - leap * 1_000_000_000 }
    }

    /// An epoch time in milliseconds, as LINE writes webhook `timestamp`s; `None` outside the
    /// years 0000–9999 (at any offset) or when not a whole number.
    pub fn from_millis(ms: f64) -> Option<Instant> {
        // 0000-01-02 to 9999-12-30 UTC: inside the four-digit years at every offset.
        const MIN: f64 = -62_167_046_400_000.0;
        const MAX: f64 = 253_402_041_600_000.0;
        if !(MIN..=MAX).contains(&ms) || ms.fract() != 0.0 {
            return None;
        }
        let ms = ms as i64;
        Some(Instant { secs: ms.div_euclid(1000), nanos: (ms.rem_euclid(1000) * 1_000_000) as u32 })
    }

    /// Whether epoch milliseconds `ms` are more likely epoch seconds: from 10^8 to 10^11, a
    /// date after 1973-03-03 as seconds but only 1970-01-02 to 1973-03-03 as milliseconds (the
    /// mirror of Liquid's `date`, which reads seconds and refuses 10^11 on). Read as
    /// milliseconds, a backend's Unix time would make every user 20,000 days dormant.
    pub fn looks_like_seconds(ms: f64) -> bool {
        (1e8..1e11).contains(&ms)
    }

    /// Nanoseconds from `self` to `later` (negative when `later` is earlier), exact up to 2^53
    /// (104 days, and any whole number of seconds up to 146 years), so that one division gives
    /// the nearest double to days or hours. Seconds + nanoseconds / 10^9 lost digits to
    /// cancellation: 0.999999999 s before now was 1.0000000827 ns.
    pub fn nanos_until(self, later: Instant) -> f64 {
        let secs = later.secs - self.secs;
        let nanos = i64::from(later.nanos) - i64::from(self.nanos);
        // In i64 (292 years either way): Wasm converts it to a double in one instruction, an
        // i128 through a library routine. Past that, the difference is far from exact anyway.
        match secs.checked_mul(1_000_000_000).and_then(|n| n.checked_add(nanos)) {
            Some(n) => n as f64,
            None => secs as f64 * 1e9 + nanos as f64,
        }
    }

    fn add_nanos(self, delta: i128) -> Option<Instant> {
        let total = i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos) + delta;
        let secs = i64::try_from(total.div_euclid(1_000_000_000)).ok()?;
        Some(Instant { secs, nanos: total.rem_euclid(1_000_000_000) as u32 })
    }

    /// The wall-clock reading at offset `tz`.
    pub fn local(self, tz: FixedOffset) -> Local {
        let local = self.secs + i64::from(tz.local_minus_utc());
        let days = local.div_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Local { days, year, month, day, secs_of_day: local.rem_euclid(86_400) as u32, nanos: self.nanos }
    }
}

/// A wall-clock reading: the civil date, the time of day and the epoch day it falls on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Local {
    pub days: i64,
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub secs_of_day: u32,
    pub nanos: u32,
}

impl Local {
    /// ISO weekday, 1 = Monday … 7 = Sunday (1970-01-01 was a Thursday).
    pub fn weekday(&self) -> i64 {
        (self.days + 3).rem_euclid(7) + 1
    }

    /// `HH:MM`, zero-padded, so that string comparisons order times of day. Five bytes built
    /// on the spot (a 7 KB table of every minute of the day cost more Wasm than it saved).
    pub fn time_of_day(&self) -> String {
        let minutes = self.secs_of_day / 60;
        let (h, m) = ((minutes / 60) % 24, minutes % 60);
        let digit = |d: u32| char::from(b'0' + (d % 10) as u8);
        [digit(h / 10), digit(h), ':', digit(m / 10), digit(m)].into_iter().collect()
    }
}

/// Formats `t` as RFC 3339 at offset `tz` (`2026-11-27T20:00:00+09:00`; fractional seconds only
/// when present, in groups of 3 digits).
pub(crate) fn format_rfc3339(t: Instant, tz: FixedOffset) -> String {
    let l = t.local(tz);
    let mut out = String::with_capacity(25);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        l.year,
        l.month,
        l.day,
        l.secs_of_day / 3600,
        l.secs_of_day / 60 % 60,
        l.secs_of_day % 60
    );
    if l.nanos != 0 {
        let (value, width) = if l.nanos % 1_000_000 == 0 {
            (l.nanos / 1_000_000, 3)
        } else if l.nanos % 1_000 == 0 {
            (l.nanos / 1_000, 6)
        } else {
            (l.nanos, 9)
        };
        let _ = write!(out, ".{value:0width$}");
    }
    let off = tz.local_minus_utc();
    let sign = if off < 0 { '-' } else { '+' };
    let off = off.unsigned_abs();
    let _ = write!(out, "{sign}{:02}:{:02}", off / 3600, off / 60 % 60);
    out
}

/// A parsed timestamp whose offset may still be open: a bare date `YYYY-MM-DD` (and a date-time
/// without an offset) means the wall clock of the account's time zone, known only at run time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Stamp {
    /// Seconds since the epoch of the wall-clock reading, taken as if it were UTC.
    wall: i64,
    nanos: u32,
    /// Seconds east of UTC, when the text has an offset.
    offset: Option<i32>,
}

impl Stamp {
    pub fn instant(&self, tz: FixedOffset) -> Instant {
        let offset = self.offset.unwrap_or_else(|| tz.local_minus_utc());
        Instant { secs: self.wall - i64::from(offset), nanos: self.nanos }
    }
}

/// Parses RFC 3339 (`2026-11-27T20:00:00+09:00`, `…Z`, fractional seconds, `t`/space as the
/// separator), leniently also without seconds or without an offset, and a bare `YYYY-MM-DD`.
pub(crate) fn parse_stamp(text: &str) -> Option<Stamp> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0u32, |acc, &d| d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0')))
    };
    let year = num(0, 4)?;
    let month = num(5, 2)?;
    let day = num(8, 2)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&month) || day == 0 || day > days_in_month(i64::from(year), month) {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    if b.len() == 10 {
        return Some(Stamp { wall: days * 86_400, nanos: 0, offset: None });
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let hour = num(11, 2)?;
    let minute = num(14, 2)?;
    let mut pos = 16;
    let mut second = 0;
    if b.get(pos) == Some(&b':') {
        second = num(17, 2)?;
        pos = 19;
    }
    // 60 admits a leap second (it rolls into the next minute).
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut nanos = 0u32;
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while let Some(d) = b.get(pos).filter(|d| d.is_ascii_digit()) {
            if pos - start < 9 {
                nanos = nanos * 10 + u32::from(d - b'0');
            }
            pos += 1;
        }
        if pos == start {
            return None;
        }
        for _ in (pos - start)..9 {
            nanos *= 10;
        }
    }
    let offset = match b.get(pos) {
        None => None,
        Some(b'Z' | b'z') if pos + 1 == b.len() => Some(0),
        Some(&sign @ (b'+' | b'-')) if pos + 6 == b.len() && b.get(pos + 3) == Some(&b':') => {
            let (oh, om) = (num(pos + 1, 2)?, num(pos + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = (oh * 3600 + om * 60) as i32;
            Some(if sign == b'-' { -secs } else { secs })
        }
        _ => return None,
    };
    let wall = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(Stamp { wall, nanos, offset })
}

/// An ISO 8601 duration: calendar months (years × 12 + months) and a fixed part in nanoseconds
/// (weeks, days, hours, minutes, seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IsoDuration {
    pub months: i64,
    pub nanos: i128,
}

/// Durations beyond this are refused: they are typos, and they would leave the calendar.
const MAX_YEARS: i64 = 10_000;

/// Parses `P30D`, `PT12H`, `P1Y2M10DT2H30M`, `P2W`, `PT1.5S`. A decimal fraction is allowed on
/// the last component when it is weeks or smaller.
pub(crate) fn parse_duration(text: &str) -> Option<IsoDuration> {
    let rest = text.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => {
            if t.is_empty() {
                return None;
            }
            (d, Some(t))
        }
        None => (rest, None),
    };
    let mut months: i64 = 0;
    let mut nanos: i128 = 0;
    let mut any = false;
    let mut fraction_seen = false;
    // (designator, nanoseconds per unit or 0 for calendar months, months per unit)
    const DATE: [(u8, i128, i64); 4] = [(b'Y', 0, 12), (b'M', 0, 1), (b'W', 7 * 86_400 * 1_000_000_000, 0), (b'D', 86_400 * 1_000_000_000, 0)];
    const TIME: [(u8, i128, i64); 3] = [(b'H', 3_600 * 1_000_000_000, 0), (b'M', 60 * 1_000_000_000, 0), (b'S', 1_000_000_000, 0)];
    for (part, units) in [(Some(date), &DATE[..]), (time, &TIME[..])] {
        let Some(mut s) = part else { continue };
        let mut next_unit = 0;
        while !s.is_empty() {
            if fraction_seen {
                return None;
            }
            let len = s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',')).unwrap_or(s.len());
            let (number, tail) = s.split_at(len);
            let designator = *tail.as_bytes().first()?;
            let idx = units.iter().skip(next_unit).position(|u| u.0 == designator)? + next_unit;
            next_unit = idx + 1;
            let &(_, unit_nanos, unit_months) = units.get(idx)?;
            let (int, frac) = match number.split_once(['.', ',']) {
                Some((i, f)) => (i, Some(f)),
                None => (number, None),
            };
            if int.is_empty() || int.len() > 12 {
                return None;
            }
            let whole: i64 = int.parse().ok()?;
            if unit_months > 0 {
                if frac.is_some() {
                    return None;
                }
                months = months.checked_add(whole.checked_mul(unit_months)?)?;
            } else {
                nanos += i128::from(whole) * unit_nanos;
                if let Some(f) = frac {
                    if f.is_empty() || f.len() > 9 || !f.bytes().all(|d| d.is_ascii_digit()) {
                        return None;
                    }
                    let scale = 10i128.pow(f.len() as u32);
                    nanos += f.parse::<i128>().ok()? * unit_nanos / scale;
                    fraction_seen = true;
                }
            }
            any = true;
            s = tail.get(1..)?;
        }
    }
    let max_nanos = i128::from(MAX_YEARS) * 366 * 86_400 * 1_000_000_000;
    (any && months <= MAX_YEARS * 12 && nanos <= max_nanos).then_some(IsoDuration { months, nanos })
}

/// Whether `text` is an ISO 8601 duration that [`parse_duration`] refuses only for its size
/// (`P99999999Y`): it parses with each whole number written as 1 (fractions kept as written,
/// so a fraction kizuna does not take is not called a size).
pub(crate) fn duration_out_of_range(text: &str) -> bool {
    let mut small = String::with_capacity(text.len());
    let (mut digits, mut fraction) = (false, false);
    for c in text.chars() {
        if c.is_ascii_digit() && !fraction {
            if !digits {
                small.push('1');
            }
            digits = true;
        } else {
            fraction = c == '.' || c == ',' || (fraction && c.is_ascii_digit());
            small.push(c);
            digits = false;
        }
    }
    // Leading zeros are not a size: `P0000000000001D` is refused for its width alone.
    let leading_zeros = text.split(|c: char| !c.is_ascii_digit()).any(|run| run.len() > 1 && run.starts_with('0'));
    !leading_zeros && parse_duration(text).is_none() && parse_duration(&small).is_some()
}

/// `t` shifted by `sign` × `d`: calendar months first on the wall clock at `tz` (the day is
/// clamped to the month's end: Jan 31 + P1M = Feb 28/29), then the fixed part. `None` outside
/// the years 0000–9999 (at `tz`): RFC 3339 has four-digit years, so `ago`/`from_now` would
/// write a string (`"11026-11-27T…"`, `"-974-11-27T…"`) that no time operator reads back,
/// and a rule would hold or fail depending on whether the shift went through a string.
pub(crate) fn shift(t: Instant, d: IsoDuration, sign: i64, tz: FixedOffset) -> Option<Instant> {
    shift_unchecked(t, d, sign, tz).filter(|t| in_rfc3339_years(*t, tz))
}

/// Whether `t` falls in the years 0000–9999 at `tz`, the four-digit years RFC 3339 writes.
pub(crate) fn in_rfc3339_years(t: Instant, tz: FixedOffset) -> bool {
    (0..=9999).contains(&t.local(tz).year)
}

fn shift_unchecked(t: Instant, d: IsoDuration, sign: i64, tz: FixedOffset) -> Option<Instant> {
    let mut t = t;
    if d.months != 0 {
        let l = t.local(tz);
        let month_index = l.year.checked_mul(12)? + i64::from(l.month) - 1 + sign * d.months;
        let (year, month) = (month_index.div_euclid(12), (month_index.rem_euclid(12) + 1) as u32);
        let day = l.day.min(days_in_month(year, month));
        let new_days = days_from_civil(year, month, day);
        t = Instant { secs: t.secs + (new_days - l.days) * 86_400, nanos: t.nanos };
    }
    t.add_nanos(i128::from(sign) * d.nanos)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The error for a number [`Instant::looks_like_seconds`] refuses (`got`: it, described).
pub(crate) fn seconds_hint(got: &str) -> String {
    format!("{got} looks like epoch seconds: timestamps in rules are epoch milliseconds (as LINE's event.timestamp), so multiply it by 1000 (write a date of 1970–1973 as a string like \"1971-05-01\")")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz(h: i32) -> FixedOffset {
        FixedOffset::east_opt(h * 3600).unwrap()
    }

    #[test]
    fn parses_rfc3339_and_dates() {
        let t = parse_stamp("2026-11-27T20:00:00+09:00").unwrap().instant(tz(0));
        assert_eq!(format_rfc3339(t, tz(0)), "2026-11-27T11:00:00+00:00");
        let d = parse_stamp("2026-11-27").unwrap();
        assert_eq!(format_rfc3339(d.instant(tz(9)), tz(9)), "2026-11-27T00:00:00+09:00");
        let f = parse_stamp("2024-02-29T23:59:59.5Z").unwrap().instant(tz(0));
        assert_eq!(format_rfc3339(f, tz(0)), "2024-02-29T23:59:59.500+00:00");
        for bad in ["2023-02-29", "2024-13-01", "2024-01-01T24:00:00Z", "2024-01-01T10:00:00+0900", "20240101", "2024-01-01X", "2024-01-01T10:00:00.Z", "yesterday"] {
            assert!(parse_stamp(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn durations_and_calendar_shifts() {
        assert_eq!(parse_duration("P30D").unwrap().nanos, 30 * 86_400 * 1_000_000_000);
        assert_eq!(parse_duration("P1Y2M10DT2H30M").unwrap().months, 14);
        assert_eq!(parse_duration("P2W").unwrap().nanos, 14 * 86_400 * 1_000_000_000);
        assert_eq!(parse_duration("PT1.5S").unwrap().nanos, 1_500_000_000);
        for huge in ["P99999999999999999D", "P10001Y", "PT9999999999999H"] {
            assert!(duration_out_of_range(huge), "{huge}");
        }
        for other in ["PT1.1234567891S", "P00000000000000000000001D", "P1.5M"] {
            assert!(parse_duration(other).is_none() && !duration_out_of_range(other), "{other}: refused, but not for its size");
        }
        assert!(!duration_out_of_range("P30D"));
        for bad in ["P", "PT", "30D", "P1D2Y", "P1.5Y", "P1.5DT1H", "PT1H1H", "P-1D", "P99999999999999D"] {
            assert!(parse_duration(bad).is_none(), "{bad}");
            assert_eq!(duration_out_of_range(bad), bad == "P99999999999999D", "{bad}: only the last is too long rather than malformed");
        }
        let jan31 = parse_stamp("2024-01-31T10:00:00+09:00").unwrap().instant(tz(9));
        let feb = shift(jan31, parse_duration("P1M").unwrap(), 1, tz(9)).unwrap();
        assert_eq!(format_rfc3339(feb, tz(9)), "2024-02-29T10:00:00+09:00");
        let back = shift(jan31, parse_duration("P1Y1D").unwrap(), -1, tz(9)).unwrap();
        assert_eq!(format_rfc3339(back, tz(9)), "2023-01-30T10:00:00+09:00");
    }

    #[test]
    fn weekday_and_civil_roundtrip() {
        let t = parse_stamp("2026-11-29T23:30:00Z").unwrap().instant(tz(0));
        assert_eq!(t.local(tz(0)).weekday(), 7); // Sunday
        assert_eq!(t.local(tz(9)).weekday(), 1); // already Monday in Tokyo
        for days in [-800_000, -1, 0, 1, 59, 365 * 400, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
