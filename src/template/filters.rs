//! The standard Liquid filters (as Shopify/liquid defines them, including its quirks where the
//! golden suite checks them) and kizuna's marketing filters: `yen`, `number_with_delimiter`,
//! `time_zone`, `json`.
//!
//! Filters are resolved to [`Filter`] at parse time and their argument counts checked there, so
//! an unknown filter or a wrong number of arguments is a template error, never a silent blank.

use super::case;
use super::date;
use super::number::{self, Num};
use super::val::{ruby_eq, spaceship, strict_eq, Seq, Val};
use chrono::{DateTime, FixedOffset};
use std::cmp::Ordering;

macro_rules! filters {
    ($( $variant:ident = $name:literal ($min:literal, $max:literal) ),* $(,)?) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Filter { $( $variant ),* }

        impl Filter {
            pub(crate) fn from_name(name: &str) -> Option<Filter> {
                match name {
                    $( $name => Some(Filter::$variant), )*
                    "h" => Some(Filter::Escape),
                    _ => None,
                }
            }

            pub(crate) fn name(self) -> &'static str {
                match self { $( Filter::$variant => $name ),* }
            }

            /// Minimum and maximum number of positional arguments.
            pub(crate) fn arity(self) -> (usize, usize) {
                match self { $( Filter::$variant => ($min, $max) ),* }
            }
        }

        /// Every filter name kizuna knows (for error messages).
        pub(crate) const FILTER_NAMES: &[&str] = &[$( $name ),*];
    };
}

filters! {
    Abs = "abs" (0, 0),
    Append = "append" (1, 1),
    AtLeast = "at_least" (1, 1),
    AtMost = "at_most" (1, 1),
    Base64Decode = "base64_decode" (0, 0),
    Base64Encode = "base64_encode" (0, 0),
    Base64UrlSafeDecode = "base64_url_safe_decode" (0, 0),
    Base64UrlSafeEncode = "base64_url_safe_encode" (0, 0),
    Capitalize = "capitalize" (0, 0),
    Ceil = "ceil" (0, 0),
    Compact = "compact" (0, 1),
    Concat = "concat" (1, 1),
    Date = "date" (1, 1),
    Default = "default" (0, 1),
    DividedBy = "divided_by" (1, 1),
    Downcase = "downcase" (0, 0),
    Escape = "escape" (0, 0),
    EscapeOnce = "escape_once" (0, 0),
    Find = "find" (1, 2),
    FindIndex = "find_index" (1, 2),
    First = "first" (0, 0),
    Floor = "floor" (0, 0),
    Has = "has" (1, 2),
    Join = "join" (0, 1),
    Json = "json" (0, 0),
    Last = "last" (0, 0),
    Lstrip = "lstrip" (0, 0),
    Map = "map" (1, 1),
    Minus = "minus" (1, 1),
    Modulo = "modulo" (1, 1),
    NewlineToBr = "newline_to_br" (0, 0),
    NumberWithDelimiter = "number_with_delimiter" (0, 1),
    Plus = "plus" (1, 1),
    Prepend = "prepend" (1, 1),
    Reject = "reject" (1, 2),
    Remove = "remove" (1, 1),
    RemoveFirst = "remove_first" (1, 1),
    RemoveLast = "remove_last" (1, 1),
    Replace = "replace" (1, 2),
    ReplaceFirst = "replace_first" (1, 2),
    ReplaceLast = "replace_last" (2, 2),
    Reverse = "reverse" (0, 0),
    Round = "round" (0, 1),
    Rstrip = "rstrip" (0, 0),
    Size = "size" (0, 0),
    Slice = "slice" (1, 2),
    Sort = "sort" (0, 1),
    SortNatural = "sort_natural" (0, 1),
    Split = "split" (1, 1),
    Strip = "strip" (0, 0),
    StripHtml = "strip_html" (0, 0),
    StripNewlines = "strip_newlines" (0, 0),
    Sum = "sum" (0, 1),
    Times = "times" (1, 1),
    TimeZone = "time_zone" (1, 1),
    Truncate = "truncate" (0, 2),
    Truncatewords = "truncatewords" (0, 2),
    Uniq = "uniq" (0, 1),
    Upcase = "upcase" (0, 0),
    UrlDecode = "url_decode" (0, 0),
    UrlEncode = "url_encode" (0, 0),
    Where = "where" (1, 2),
    Yen = "yen" (0, 0),
}

/// Why a filter failed.
pub(crate) enum FErr {
    /// A render error (Ruby raises): bad argument, division by zero, …
    Render(String),
    /// A limit was hit.
    Limit(String),
}

type R<'r> = Result<Val<'r>, FErr>;

#[inline(never)]
fn fail<T>(msg: impl Into<String>) -> Result<T, FErr> {
    Err(FErr::Render(msg.into()))
}

/// `date` reads a number as epoch seconds (Shopify, liquidjs), but LINE's `event.timestamp`
/// is in milliseconds: printed as seconds it is a date some 50,000 years ahead, in a message to
/// a customer. Numbers from 10^11 on (the year 5138 in seconds, 1973 in milliseconds) are
/// refused with the fix instead.
fn not_millis(v: &Val<'_>) -> Result<(), FErr> {
    let n = match v {
        Val::Int(i) => i.unsigned_abs(),
        // Saturating: a float ≥ 2^64 is over the line too.
        Val::Float(f) => f.abs() as u64,
        Val::Str(_) | Val::Owned(_) => match v.as_str() {
            Some(s) if s.len() >= 12 && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().unwrap_or(u64::MAX),
            _ => return Ok(()),
        },
        _ => return Ok(()),
    };
    if n >= 100_000_000_000 {
        return fail("this number looks like epoch milliseconds (LINE's event.timestamp is one), and date and time_zone read seconds: write {{ event.timestamp | divided_by: 1000 | date: \"%H:%M\" }}");
    }
    Ok(())
}

/// What filters may use of the render: the clock, the zone and the work budget.
pub(crate) struct Env {
    pub now: DateTime<FixedOffset>,
    pub tz: FixedOffset,
    pub locale: date::Locale,
    /// The longest string a filter may make (the output limit).
    pub max_string: usize,
    /// Elements and bytes made by filters so far, and the budget for them.
    pub work: u64,
    pub max_work: u64,
}

impl Env {
    pub(crate) fn charge(&mut self, n: usize) -> Result<(), FErr> {
        self.work = self.work.saturating_add(n as u64);
        if self.work > self.max_work {
            return Err(FErr::Limit(format!(
                "filters made more than {} elements and bytes in one render (a template that multiplies data in a loop?)",
                self.max_work
            )));
        }
        Ok(())
    }

    #[inline(never)]
    fn string<'r>(&mut self, s: String) -> R<'r> {
        if s.len() > self.max_string {
            return Err(FErr::Limit(format!(
                "a filter made a string of {} bytes, more than the output limit of {} bytes",
                s.len(),
                self.max_string
            )));
        }
        self.charge(s.len())?;
        Ok(Val::owned(s))
    }

    #[inline(never)]
    fn list<'r>(&mut self, items: Vec<Val<'r>>) -> R<'r> {
        self.charge(items.len())?;
        Ok(Val::list(items))
    }

    /// Ruby Liquid's `Utils.to_date`, showing the time in the render's zone.
    pub(crate) fn to_date(&self, v: &Val<'_>) -> Option<DateTime<FixedOffset>> {
        match v {
            Val::Time(t) => Some(*t),
            Val::Int(i) => date::from_timestamp(*i, self.tz),
            Val::Str(_) | Val::Owned(_) => {
                let s = v.as_str().unwrap_or("");
                if s.is_empty() {
                    return None;
                }
                if s.bytes().all(|b| b.is_ascii_digit()) {
                    return date::from_timestamp(s.parse().ok()?, self.tz);
                }
                date::parse_time(s, self.tz, self.now)
            }
            _ => None,
        }
    }
}

/// Arguments as evaluated: positional values (unset ones are `Nil`) and how many were given.
pub(crate) struct Args<'r> {
    pub vals: [Val<'r>; 2],
    pub count: usize,
    pub allow_false: bool,
}

impl<'r> Args<'r> {
    fn get(&self, i: usize) -> Option<&Val<'r>> {
        if i < self.count {
            self.vals.get(i)
        } else {
            None
        }
    }

    #[inline(never)]
    fn arg(&self, i: usize) -> Val<'r> {
        self.get(i).cloned().unwrap_or(Val::Nil)
    }

    /// Positional argument `i` (0 or 1) by reference; `Nil` when not given.
    fn r(&self, i: usize) -> &Val<'r> {
        let [a, b] = &self.vals;
        if i == 0 {
            a
        } else {
            b
        }
    }
}

#[inline(never)]
fn s_of<'a>(v: &'a Val<'_>) -> std::borrow::Cow<'a, str> {
    v.to_s()
}

/// Applies `f`.
pub(crate) fn apply<'r>(f: Filter, input: Val<'r>, args: &Args<'r>, env: &mut Env) -> R<'r> {
    use Filter as F;
    match f {
        F::Abs
        | F::Plus
        | F::Minus
        | F::Times
        | F::DividedBy
        | F::Modulo
        | F::AtLeast
        | F::AtMost
        | F::Ceil
        | F::Floor
        | F::Round => math(f, &input, args),
        F::Append => {
            let mut s = s_of(&input).into_owned();
            s.push_str(&s_of(args.r(0)));
            env.string(s)
        }
        F::Prepend => {
            let mut s = s_of(args.r(0)).into_owned();
            s.push_str(&s_of(&input));
            env.string(s)
        }
        F::Capitalize => {
            let s = s_of(&input);
            let mut chars = s.chars();
            let mut out = String::with_capacity(s.len());
            if let Some(c) = chars.next() {
                case::push_upper(c, &mut out);
                out.push_str(&case::to_lower(chars.as_str()));
            }
            env.string(out)
        }
        F::Downcase => keep_or(input, env, case::to_lower),
        F::Upcase => keep_or(input, env, case::to_upper),
        F::Escape => {
            if input.is_nil() {
                return Ok(Val::Nil);
            }
            keep_or(input, env, escape)
        }
        F::EscapeOnce => keep_or(input, env, escape_once),
        F::UrlEncode => {
            if input.is_nil() {
                return Ok(Val::Nil);
            }
            keep_or(input, env, url_encode)
        }
        F::UrlDecode => {
            if input.is_nil() {
                return Ok(Val::Nil);
            }
            match url_decode(&s_of(&input)) {
                Some(s) => env.string(s),
                None => fail("url_decode: invalid byte sequence in UTF-8"),
            }
        }
        F::Base64Encode => env.string(base64_encode(s_of(&input).as_bytes(), false)),
        F::Base64UrlSafeEncode => env.string(base64_encode(s_of(&input).as_bytes(), true)),
        F::Base64Decode | F::Base64UrlSafeDecode => match base64_decode(&s_of(&input), f == F::Base64UrlSafeDecode) {
            Some(bytes) => env.string(String::from_utf8_lossy(&bytes).into_owned()),
            None => fail(format!("invalid base64 provided to {}", f.name())),
        },
        F::Strip => keep_or(input, env, |s| s.trim_matches(is_strip_char).to_string()),
        F::Lstrip => keep_or(input, env, |s| s.trim_start_matches(is_strip_char).to_string()),
        F::Rstrip => keep_or(input, env, |s| s.trim_end_matches(is_strip_char).to_string()),
        F::StripNewlines => keep_or(input, env, |s| s.replace("\r\n", "").replace('\n', "")),
        F::NewlineToBr => keep_or(input, env, |s| s.replace("\r\n", "\n").replace('\n', "<br />\n")),
        F::StripHtml => keep_or(input, env, strip_html),
        F::Replace => {
            let (pat, rep) = (s_of(args.r(0)).into_owned(), s_of(args.r(1)).into_owned());
            env.string(gsub(&s_of(&input), &pat, &rep))
        }
        F::Remove => {
            let pat = s_of(args.r(0)).into_owned();
            env.string(gsub(&s_of(&input), &pat, ""))
        }
        F::ReplaceFirst | F::RemoveFirst | F::ReplaceLast | F::RemoveLast => {
            let pat = s_of(args.r(0)).into_owned();
            let rep = if matches!(f, F::ReplaceFirst | F::ReplaceLast) { s_of(args.r(1)).into_owned() } else { String::new() };
            let s = s_of(&input);
            let at = if matches!(f, F::ReplaceFirst | F::RemoveFirst) { s.find(pat.as_str()) } else { rfind(&s, &pat) };
            let out = match at {
                Some(i) => {
                    let mut o = String::with_capacity(s.len() + rep.len());
                    o.push_str(s.get(..i).unwrap_or(""));
                    o.push_str(&rep);
                    o.push_str(s.get(i + pat.len()..).unwrap_or(""));
                    o
                }
                None => s.into_owned(),
            };
            env.string(out)
        }
        F::Truncate => {
            if input.is_nil() {
                return Ok(Val::Nil);
            }
            let length = match args.get(0) {
                None => 50,
                Some(v) => int_arg(v, "truncate")?,
            };
            let ellipsis = match args.get(1) {
                None => "...".into(),
                Some(v) => s_of(v).into_owned(),
            };
            let s = s_of(&input);
            let n = s.chars().count();
            if i64::try_from(n).unwrap_or(i64::MAX) <= length {
                return Ok(if input.is_string() { input.clone() } else { env.string(s.into_owned())? });
            }
            let keep = length.saturating_sub(i64::try_from(ellipsis.chars().count()).unwrap_or(0)).max(0);
            let mut out = String::with_capacity(s.len());
            out.push_str(char_slice(&s, 0, usize::try_from(keep).unwrap_or(0)));
            out.push_str(&ellipsis);
            env.string(out)
        }
        F::Truncatewords => {
            if input.is_nil() {
                return Ok(Val::Nil);
            }
            let words = match args.get(0) {
                None => 15,
                Some(v) => int_arg(v, "truncatewords")?,
            };
            let words = usize::try_from(words.max(1)).unwrap_or(usize::MAX);
            let s = s_of(&input);
            let list: Vec<&str> = s.split(|c: char| c.is_ascii() && is_ruby_space_char(c)).filter(|w| !w.is_empty()).take(words).collect();
            // Shopify's `split(" ", words + 1)` has a field past the last word kept whenever
            // anything follows it, trailing space too: `"a b " | truncatewords: 2` is `a b...`.
            let end = list.last().map_or(0, |w| (w.as_ptr() as usize).saturating_sub(s.as_ptr() as usize).saturating_add(w.len()));
            if list.len() < words || end >= s.len() {
                return Ok(if input.is_string() { input.clone() } else { env.string(s.into_owned())? });
            }
            let mut out = String::with_capacity(s.len());
            for (i, w) in list.iter().take(words).enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(w);
            }
            match args.get(1) {
                None => out.push_str("..."),
                Some(v) => out.push_str(&s_of(v)),
            }
            env.string(out)
        }
        F::Split => {
            let s = s_of(&input);
            let pat = s_of(args.r(0));
            let parts = ruby_split(&s, &pat);
            env.charge(parts.len())?;
            let items: Vec<Val<'r>> = parts.into_iter().map(|p| Val::owned(p.to_string())).collect();
            env.list(items)
        }
        F::Slice => {
            let offset = int_arg(&args.arg(0), "slice")?;
            let length = match args.get(1) {
                Some(v) if v.truthy() => int_arg(v, "slice")?,
                _ => 1,
            };
            if let (true, Some(seq)) = (input.is_array(), input.seq()) {
                let Some((a, b)) = slice_bounds(seq.len(), offset, length) else {
                    return env.list(Vec::new());
                };
                let items: Vec<Val<'r>> = (a..b).filter_map(|i| seq.get(i)).collect();
                return env.list(items);
            }
            let s = s_of(&input);
            let n = s.chars().count();
            match slice_bounds(n, offset, length) {
                Some((a, b)) => env.string(char_slice(&s, a, b).to_string()),
                None => Ok(Val::Str("")),
            }
        }
        F::Size => Ok(Val::Int(match &input {
            Val::Int(_) => 8,
            other => other.size().map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX)),
        })),
        F::First | F::Last => Ok(match &input {
            Val::Range(a, b) => Val::Int(if f == F::First { *a } else { *b }),
            Val::Object(members) if f == F::First => match members.first() {
                Some((k, v)) => env.list(vec![Val::Str(k), Val::from_data(v)])?,
                None => Val::Nil,
            },
            other if other.is_array() => match other.seq() {
                Some(seq) if seq.len() > 0 => {
                    seq.get(if f == F::First { 0 } else { seq.len() - 1 }).unwrap_or(Val::Nil)
                }
                _ => Val::Nil,
            },
            _ => Val::Nil,
        }),
        F::Join => {
            let glue = match args.get(0) {
                None => std::borrow::Cow::Borrowed(" "),
                Some(v) => s_of(v),
            };
            let items = input_items(&input, env)?;
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(&glue);
                }
                item.write_to_s(&mut out);
                if out.len() > env.max_string {
                    return env.string(out);
                }
            }
            env.string(out)
        }
        F::Reverse => {
            let mut items = input_items(&input, env)?;
            items.reverse();
            env.list(items)
        }
        F::Concat => {
            if !args.arg(0).is_array() {
                return fail("concat filter requires an array argument");
            }
            let mut items = input_items(&input, env)?;
            if let Some(seq) = args.vals.first().and_then(|v| v.seq()) {
                env.charge(seq.len())?;
                items.extend(seq.iter());
            }
            env.list(items)
        }
        F::Compact => {
            let items = input_items(&input, env)?;
            match args.get(0) {
                None => env.list(items.into_iter().filter(|v| !v.is_nil()).collect()),
                Some(prop) => {
                    let mut out = Vec::new();
                    for item in items {
                        match ruby_index(&item, prop) {
                            Prop::Val(v) if v.is_nil() => {}
                            Prop::Val(_) => out.push(item),
                            Prop::TypeError => return property_error(prop),
                            Prop::NoMethod => return Ok(Val::Nil),
                        }
                    }
                    env.list(out)
                }
            }
        }
        F::Uniq => {
            let items = input_items(&input, env)?;
            env.charge(items.len().saturating_mul(items.len()) / 8)?;
            let mut out: Vec<Val<'r>> = Vec::new();
            let mut keys: Vec<Val<'r>> = Vec::new();
            for item in items {
                let key = match args.get(0) {
                    None => item.clone(),
                    Some(prop) => match ruby_index(&item, prop) {
                        Prop::Val(v) => v,
                        Prop::TypeError => return property_error(prop),
                        Prop::NoMethod => return Ok(Val::Nil),
                    },
                };
                if !keys.iter().any(|k| strict_eq(k, &key)) {
                    keys.push(key);
                    out.push(item);
                }
            }
            env.list(out)
        }
        F::Map => {
            let items = input_items(&input, env)?;
            let prop = args.arg(0);
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if prop.as_str() == Some("to_liquid") {
                    out.push(item);
                    continue;
                }
                match ruby_index(&item, &prop) {
                    Prop::Val(v) => out.push(v),
                    Prop::NoMethod => out.push(Val::Nil),
                    Prop::TypeError => return property_error(&prop),
                }
            }
            env.list(out)
        }
        F::Sum => {
            let items = input_items(&input, env)?;
            let mut total = Num::Int(0);
            for item in items {
                let v = match args.get(0) {
                    None => item,
                    Some(prop) => match ruby_index(&item, prop) {
                        Prop::Val(v) => v,
                        Prop::NoMethod => Val::Int(0),
                        Prop::TypeError => return property_error(prop),
                    },
                };
                total = total.add(v.to_num());
            }
            Ok(Val::from_num(total))
        }
        F::Sort | F::SortNatural => {
            let items = input_items(&input, env)?;
            if items.is_empty() {
                return env.list(items);
            }
            env.charge(items.len().saturating_mul(items.len().max(2).ilog2() as usize))?;
            let natural = f == F::SortNatural;
            let prop = args.get(0).filter(|p| !p.is_nil());
            if prop.is_some() && !items.iter().all(responds_to_index) {
                return Ok(Val::Nil);
            }
            // Always (key, item) pairs, the key being the item itself without a property: one
            // instance of the merge sort instead of two.
            let mut keyed = Vec::with_capacity(items.len());
            for item in items {
                let key = match prop {
                    None => item.clone(),
                    Some(p) => match ruby_index(&item, p) {
                        Prop::Val(k) => k,
                        _ => return property_error(p),
                    },
                };
                keyed.push((key, item));
            }
            let sorted = merge_sort(keyed, &mut |a, b| {
                if natural {
                    Ok(casecmp(&a.0, &b.0))
                } else {
                    nil_safe_compare(&a.0, &b.0)
                }
            })?;
            env.list(sorted.into_iter().map(|(_, v)| v).collect())
        }
        F::Where | F::Reject | F::Has | F::Find | F::FindIndex => filter_array(f, &input, args, env),
        F::Default => {
            if default_applies(&input, args) {
                Ok(match args.get(0) {
                    Some(v) => v.clone(),
                    None => Val::Str(""),
                })
            } else {
                Ok(input)
            }
        }
        F::Date => {
            let fmt = s_of(args.r(0));
            if fmt.is_empty() {
                return Ok(input);
            }
            not_millis(&input)?;
            match env.to_date(&input) {
                Some(t) => {
                    let mut out = String::new();
                    date::strftime(&t, &fmt, env.locale, &mut out);
                    env.string(out)
                }
                None => Ok(input),
            }
        }
        F::TimeZone => {
            let name = s_of(args.r(0));
            let Some(zone) = crate::tz::parse_zone(&name) else {
                return fail(format!("unknown time zone '{name}': {}", crate::tz::ZONE_HELP));
            };
            not_millis(&input)?;
            match env.to_date(&input) {
                Some(t) => Ok(Val::Time(t.with_timezone(&zone))),
                None => Ok(input),
            }
        }
        F::Yen => {
            let Some((neg, int, frac)) = number_parts(&input) else {
                return Ok(input);
            };
            // Yen has no minor unit: round half away from zero.
            let (neg, int) = if frac.as_bytes().first().is_some_and(|d| *d >= b'5') {
                (neg, increment_digits(&int))
            } else {
                (neg, int)
            };
            let mut out = String::with_capacity(int.len() + 8);
            if neg && int.bytes().any(|b| b != b'0') {
                out.push('-');
            }
            out.push('¥');
            number::group_digits(&int, ",", &mut out);
            env.string(out)
        }
        F::NumberWithDelimiter => {
            let Some((neg, int, frac)) = number_parts(&input) else {
                return Ok(input);
            };
            let delim = match args.get(0) {
                None => std::borrow::Cow::Borrowed(","),
                Some(v) => s_of(v),
            };
            let mut out = String::with_capacity(int.len() + 8);
            if neg {
                out.push('-');
            }
            number::group_digits(&int, &delim, &mut out);
            if !frac.is_empty() {
                out.push('.');
                out.push_str(&frac);
            }
            env.string(out)
        }
        F::Json => {
            if let Val::Range(a, b) = input {
                env.charge(super::val::range_len(a, b).saturating_mul(4))?;
            }
            let mut out = String::new();
            input.write_json(&mut out);
            env.string(out)
        }
    }
}

/// The numeric filters, out of line: one conversion of the operands and one exit (a number,
/// or the message of the error Ruby raises) instead of a copy of both in every arm.
#[inline(never)]
fn math<'r>(f: Filter, input: &Val<'r>, args: &Args<'r>) -> R<'r> {
    use Filter as F;
    let n = input.to_num();
    let arg = || args.r(0).to_num();
    let (result, err) = match f {
        F::Abs => (Some(n.abs()), ""),
        F::Plus => (Some(n.add(arg())), ""),
        F::Minus => (Some(n.sub(arg())), ""),
        F::Times => (Some(n.mul(arg())), ""),
        F::DividedBy => (n.div(arg()).ok(), "divided by 0"),
        F::Modulo => (n.rem(arg()).ok(), "divided by 0 (modulo)"),
        F::AtLeast | F::AtMost => {
            let limit = arg();
            let pick = match (f, limit.cmp(n)) {
                (F::AtLeast, Ordering::Greater) | (F::AtMost, Ordering::Less) => limit,
                _ => n,
            };
            (Some(pick), "")
        }
        F::Ceil => (n.ceil(), "cannot take the ceiling of NaN or Infinity"),
        F::Floor => (n.floor(), "cannot take the floor of NaN or Infinity"),
        _ => {
            let digits = match args.get(0) {
                None => 0,
                Some(d) => match d.to_num() {
                    Num::Int(i) => i,
                    other => {
                        let f = other.to_f64();
                        if f.is_finite() {
                            f.trunc() as i64
                        } else {
                            0
                        }
                    }
                },
            };
            (n.round(digits.clamp(-400, 400)), "cannot round NaN or Infinity")
        }
    };
    match result {
        Some(n) => Ok(Val::from_num(n)),
        None => fail(err),
    }
}

/// Applies `f` as the last filter of an output, writing straight into `out` when the result is
/// text (no intermediate string). Returns the value to write when it is not.
pub(crate) fn apply_into<'r>(
    f: Filter,
    input: Val<'r>,
    args: &Args<'r>,
    env: &mut Env,
    out: &mut String,
) -> Result<Option<Val<'r>>, FErr> {
    use Filter as F;
    let start = out.len();
    match f {
        F::Yen => match &input {
            Val::Int(i) => {
                if *i < 0 {
                    out.push('-');
                }
                out.push('¥');
                number::write_grouped(i.unsigned_abs(), out);
            }
            _ => return apply(f, input, args, env).map(Some),
        },
        F::NumberWithDelimiter if args.count == 0 => match &input {
            Val::Int(i) => {
                if *i < 0 {
                    out.push('-');
                }
                number::write_grouped(i.unsigned_abs(), out);
            }
            _ => return apply(f, input, args, env).map(Some),
        },
        F::Date => {
            let fmt = s_of(args.r(0));
            if fmt.is_empty() {
                return Ok(Some(input));
            }
            not_millis(&input)?;
            match env.to_date(&input) {
                Some(t) => date::strftime(&t, &fmt, env.locale, out),
                None => return Ok(Some(input)),
            }
        }
        F::Upcase | F::Downcase => {
            let s = s_of(&input);
            if s.is_ascii() {
                out.reserve(s.len());
                for b in s.bytes() {
                    out.push(if f == F::Upcase { b.to_ascii_uppercase() } else { b.to_ascii_lowercase() } as char);
                }
            } else if f == F::Upcase {
                out.push_str(&case::to_upper(&s));
            } else {
                out.push_str(&case::to_lower(&s));
            }
        }
        F::Append => {
            input.write_to_s(out);
            args.r(0).write_to_s(out);
        }
        F::Prepend => {
            args.r(0).write_to_s(out);
            input.write_to_s(out);
        }
        F::Default => {
            // As `apply` decides, written here: no trip through `apply` and no clone of the
            // fallback. Nothing is charged (`apply`'s result is not either).
            if default_applies(&input, args) {
                if let Some(v) = args.get(0) {
                    v.write_output(out);
                }
            } else {
                input.write_output(out);
            }
            return Ok(None);
        }
        F::Escape if !input.is_nil() => {
            for c in s_of(&input).chars() {
                push_escaped(c, out);
            }
        }
        _ => return apply(f, input, args, env).map(Some),
    }
    let made = out.len() - start;
    env.charge(made)?;
    Ok(None)
}

/// Whether `default` replaces `input` (nil, false unless `allow_false`, empty or blank).
fn default_applies(input: &Val<'_>, args: &Args<'_>) -> bool {
    let missing = if args.allow_false { input.is_nil() } else { !input.truthy() };
    missing || input.is_empty_value() || matches!(input, Val::Empty | Val::Blank)
}

/// Applies a string function to the text of a value. A plain `fn` pointer, not a generic
/// closure: one copy of this (and of the drop of `input`) serves every string filter.
#[inline(never)]
fn keep_or<'r>(input: Val<'r>, env: &mut Env, f: fn(&str) -> String) -> R<'r> {
    let s = s_of(&input);
    let out = f(&s);
    env.string(out)
}

fn int_arg(v: &Val<'_>, filter: &str) -> Result<i64, FErr> {
    match v.to_integer() {
        Some(i) => Ok(i),
        None => fail(format!("{filter}: invalid integer {}", describe(v))),
    }
}

fn describe(v: &Val<'_>) -> String {
    let mut s = String::new();
    v.write_inspect(&mut s);
    if s.chars().count() > 40 {
        s = s.chars().take(40).collect::<String>() + "…";
    }
    s
}

fn property_error<'r>(prop: &Val<'_>) -> R<'r> {
    fail(format!("cannot select the property '{}'", s_of(prop)))
}

fn is_ruby_space_char(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

fn is_strip_char(c: char) -> bool {
    is_ruby_space_char(c) || c == '\0'
}

fn push_escaped(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c => out.push(c),
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(c, &mut out);
    }
    out
}

/// `["><']|&(?!([a-zA-Z]+|(#\d+));)` → entity.
fn escape_once(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in s.char_indices() {
        if c == '&' {
            let rest = s.get(i + 1..).unwrap_or("");
            let entity_len = if let Some(num) = rest.strip_prefix('#') {
                let d = num.bytes().take_while(u8::is_ascii_digit).count();
                (d > 0 && num.as_bytes().get(d) == Some(&b';')).then_some(d)
            } else {
                let a = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
                (a > 0 && rest.as_bytes().get(a) == Some(&b';')).then_some(a)
            };
            if entity_len.is_some() {
                out.push('&');
                continue;
            }
        }
        push_escaped(c, &mut out);
    }
    out
}

fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                number::write_hex_byte(b, &mut out);
            }
        }
    }
    out
}

fn url_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8], url_safe: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    let sym = |i: u32| -> char {
        let c = B64.get((i & 63) as usize).copied().unwrap_or(b'A');
        match (url_safe, c) {
            (true, b'+') => '-',
            (true, b'/') => '_',
            (_, c) => c as char,
        }
    };
    for chunk in bytes.chunks(3) {
        let b0 = u32::from(chunk.first().copied().unwrap_or(0));
        let b1 = u32::from(chunk.get(1).copied().unwrap_or(0));
        let b2 = u32::from(chunk.get(2).copied().unwrap_or(0));
        let n = (b0 << 16) | (b1 << 8) | b2;
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

/// Strict decoding (Ruby's `strict_decode64` / `urlsafe_decode64`, which accepts missing padding).
fn base64_decode(s: &str, url_safe: bool) -> Option<Vec<u8>> {
    let mut text = s.to_string();
    if url_safe {
        if s.contains(['+', '/']) {
            return None;
        }
        text = text.replace('-', "+").replace('_', "/");
        if text.len() % 4 != 0 && !text.contains('=') {
            let pad = 4 - text.len() % 4;
            text.push_str(&"=".repeat(pad));
        }
    }
    let bytes = text.as_bytes();
    if bytes.len() % 4 != 0 {
        return None;
    }
    let val = |c: u8| -> Option<u32> { B64.iter().position(|&x| x == c).and_then(|p| u32::try_from(p).ok()) };
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let chunks = bytes.len() / 4;
    for (ci, chunk) in bytes.chunks(4).enumerate() {
        let last = ci + 1 == chunks;
        let pads = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pads > 2 || (pads > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for (k, &c) in chunk.iter().enumerate() {
            let v = if k >= 4 - pads { 0 } else { val(c)? };
            n = (n << 6) | v;
        }
        out.push((n >> 16) as u8);
        if pads < 2 {
            out.push((n >> 8) as u8);
        }
        if pads < 1 {
            out.push(n as u8);
        }
        // Strict: the unused bits must be zero.
        if (pads == 1 && n & 0xff != 0) || (pads == 2 && n & 0xffff != 0) {
            return None;
        }
    }
    Some(out)
}

/// Removes `<script…</script>`, `<!--…-->`, `<style…</style>`, then any `<…>`.
/// Linear: once a closer is not found to the end, no later opener of its kind can be closed.
fn strip_html(s: &str) -> String {
    const BLOCKS: [(&str, &str); 3] = [("<script", "</script>"), ("<!--", "-->"), ("<style", "</style>")];
    let mut closed = [true; 3];
    let mut first = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let rest = s.get(i..).unwrap_or("");
        let Some(lt) = rest.find('<') else {
            first.push_str(rest);
            break;
        };
        first.push_str(rest.get(..lt).unwrap_or(""));
        let at = rest.get(lt..).unwrap_or("");
        let block_end = BLOCKS.iter().zip(&mut closed).find_map(|((open, close), can)| {
            if *can && at.starts_with(open) {
                let end = at.get(open.len()..)?.find(close).map(|p| open.len() + p + close.len());
                *can = end.is_some();
                end
            } else {
                None
            }
        });
        match block_end {
            Some(len) => i += lt + len,
            None => {
                first.push('<');
                i += lt + 1;
            }
        }
    }
    let mut out = String::with_capacity(first.len());
    let mut rest = first.as_str();
    while let Some(lt) = rest.find('<') {
        out.push_str(rest.get(..lt).unwrap_or(""));
        let after = rest.get(lt + 1..).unwrap_or("");
        match after.find('>') {
            Some(gt) => rest = after.get(gt + 1..).unwrap_or(""),
            None => {
                // No `>` to the end: every `<` left stays.
                out.push('<');
                out.push_str(after);
                return out;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The characters `a..b` of `s` (clamped to its length), as a slice of it.
fn char_slice(s: &str, a: usize, b: usize) -> &str {
    let mut start = s.len();
    let mut end = s.len();
    for (k, (i, _)) in s.char_indices().enumerate() {
        if k == a {
            start = i;
        }
        if k == b {
            end = i;
            break;
        }
    }
    s.get(start..end.max(start)).unwrap_or("")
}

/// `s.rfind(pat)` by hand: std's reverse two-way searcher is a kilobyte of Wasm for the one
/// rarely used `replace_last` / `remove_last`.
fn rfind(s: &str, pat: &str) -> Option<usize> {
    let last = s.len().checked_sub(pat.len())?;
    (0..=last)
        .rev()
        .find(|&i| s.is_char_boundary(i) && s.as_bytes().get(i..).is_some_and(|b| b.starts_with(pat.as_bytes())))
}

/// Ruby's `gsub` with a literal pattern (an empty pattern matches between all characters).
fn gsub(s: &str, pat: &str, rep: &str) -> String {
    if pat.is_empty() {
        let mut out = String::with_capacity(s.len() * (rep.len() + 1) + rep.len());
        out.push_str(rep);
        for c in s.chars() {
            out.push(c);
            out.push_str(rep);
        }
        return out;
    }
    s.replace(pat, rep)
}

/// Ruby's `String#split(pattern)`: `" "` splits on whitespace runs, `""` into characters, and
/// trailing empty fields are dropped.
fn ruby_split<'a>(s: &'a str, pat: &str) -> Vec<&'a str> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut parts: Vec<&str> = if pat == " " {
        s.split(is_ruby_space_char).filter(|p| !p.is_empty()).collect()
    } else if pat.is_empty() {
        s.char_indices().map(|(i, c)| s.get(i..i + c.len_utf8()).unwrap_or("")).collect()
    } else {
        s.split(pat).collect()
    };
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// Ruby's `slice(offset, length)` bounds on a sequence of `n`; None for nil.
fn slice_bounds(n: usize, offset: i64, length: i64) -> Option<(usize, usize)> {
    let n_i = i64::try_from(n).ok()?;
    let start = if offset < 0 { offset.checked_add(n_i)? } else { offset };
    if start < 0 || start > n_i || length < 0 {
        return None;
    }
    let end = start.saturating_add(length).min(n_i);
    Some((usize::try_from(start).ok()?, usize::try_from(end).ok()?))
}

/// Liquid's `InputIterator`: arrays flattened, a hash or scalar as a one-element array, nil as
/// nothing, ranges materialized (counted against the work budget).
pub(crate) fn input_items<'r>(v: &Val<'r>, env: &mut Env) -> Result<Vec<Val<'r>>, FErr> {
    let mut out = Vec::new();
    match v {
        Val::Nil => {}
        Val::Array(_) | Val::List(_) => flatten_into(v, &mut out, env, 0)?,
        Val::Range(a, b) => {
            let seq = Seq::Range(*a, *b);
            env.charge(seq.len())?;
            out.extend(seq.iter());
        }
        other => out.push(other.clone()),
    }
    Ok(out)
}

fn flatten_into<'r>(v: &Val<'r>, out: &mut Vec<Val<'r>>, env: &mut Env, depth: usize) -> Result<(), FErr> {
    let Some(seq) = v.seq() else {
        out.push(v.clone());
        return Ok(());
    };
    env.charge(seq.len())?;
    out.reserve(seq.len());
    for item in seq.iter() {
        if item.is_array() && depth < 256 {
            flatten_into(&item, out, env, depth + 1)?;
        } else {
            out.push(item);
        }
    }
    Ok(())
}

/// The result of Ruby's `item[property]`.
enum Prop<'r> {
    Val(Val<'r>),
    /// `item` has no `[]` (nil, floats, booleans…).
    NoMethod,
    /// `[]` exists but not for this kind of key (Ruby raises TypeError).
    TypeError,
}

fn responds_to_index(v: &Val<'_>) -> bool {
    matches!(v, Val::Object(_) | Val::Array(_) | Val::List(_) | Val::Str(_) | Val::Owned(_) | Val::Int(_))
}

fn index_arg(prop: &Val<'_>) -> Option<i64> {
    match prop {
        Val::Int(i) => Some(*i),
        Val::Float(f) if f.is_finite() => Some(f.trunc() as i64),
        _ => None,
    }
}

fn ruby_index<'r>(item: &Val<'r>, prop: &Val<'r>) -> Prop<'r> {
    match item {
        Val::Object(members) => Prop::Val(match prop.as_str() {
            Some(k) => Val::get_key(members, k).unwrap_or(Val::Nil),
            None => Val::Nil,
        }),
        Val::Array(_) | Val::List(_) => match (index_arg(prop), item.seq()) {
            (Some(i), Some(seq)) => {
                let n = i64::try_from(seq.len()).unwrap_or(i64::MAX);
                let idx = if i < 0 { i + n } else { i };
                Prop::Val(usize::try_from(idx).ok().and_then(|k| seq.get(k)).unwrap_or(Val::Nil))
            }
            _ => Prop::TypeError,
        },
        Val::Str(_) | Val::Owned(_) => {
            let s = item.as_str().unwrap_or("");
            if let Some(p) = prop.as_str() {
                return Prop::Val(if s.contains(p) { prop.clone() } else { Val::Nil });
            }
            match index_arg(prop) {
                Some(i) => {
                    let n = i64::try_from(s.chars().count()).unwrap_or(i64::MAX);
                    let idx = if i < 0 { i + n } else { i };
                    Prop::Val(match usize::try_from(idx).ok().and_then(|k| s.chars().nth(k)) {
                        Some(c) => Val::owned(c.to_string()),
                        None => Val::Nil,
                    })
                }
                None => Prop::TypeError,
            }
        }
        Val::Int(v) => match index_arg(prop) {
            Some(bit) if bit < 0 => Prop::Val(Val::Int(0)),
            Some(bit) if bit >= 63 => Prop::Val(Val::Int(i64::from(*v < 0))),
            Some(bit) => Prop::Val(Val::Int((v >> bit) & 1)),
            None => Prop::TypeError,
        },
        _ => Prop::NoMethod,
    }
}

/// `where`, `reject`, `has`, `find`, `find_index`.
fn filter_array<'r>(f: Filter, input: &Val<'r>, args: &Args<'r>, env: &mut Env) -> R<'r> {
    // A flat array is read in place (charged as `input_items` would charge it): no copy of the
    // items into a Vec first.
    let flat;
    let items = match input {
        Val::Array(d) if !d.iter().any(|v| matches!(v, crate::value::Value::Array(_))) => {
            env.charge(d.len())?;
            Seq::Data(d)
        }
        Val::List(l) if !l.iter().any(Val::is_array) => {
            env.charge(l.len())?;
            Seq::List(l)
        }
        _ => {
            flat = input_items(input, env)?;
            Seq::List(&flat)
        }
    };
    let default = || match f {
        Filter::Where | Filter::Reject => Val::list(Vec::new()),
        Filter::Has => Val::Bool(false),
        _ => Val::Nil,
    };
    let prop = args.arg(0);
    if items.len() == 0 || prop.is_nil() {
        return Ok(default());
    }
    let target = args.arg(1);
    let mut kept = Vec::new();
    for (idx, item) in items.iter().enumerate() {
        let v = match ruby_index(&item, &prop) {
            Prop::Val(v) => v,
            Prop::TypeError => return property_error(&prop),
            Prop::NoMethod => return Ok(Val::Nil),
        };
        let hit = if target.is_nil() { v.truthy() } else { ruby_eq(&v, &target) };
        match f {
            Filter::Has if hit => return Ok(Val::Bool(true)),
            Filter::Find if hit => return Ok(item),
            Filter::FindIndex if hit => return Ok(Val::Int(i64::try_from(idx).unwrap_or(i64::MAX))),
            Filter::Where if hit => kept.push(item),
            Filter::Reject if !hit => kept.push(item),
            _ => {}
        }
    }
    match f {
        Filter::Where | Filter::Reject => env.list(kept),
        Filter::Has => Ok(Val::Bool(false)),
        _ => Ok(Val::Nil),
    }
}

fn nil_safe_compare(a: &Val<'_>, b: &Val<'_>) -> Result<Ordering, FErr> {
    match spaceship(a, b) {
        Some(o) => Ok(o),
        None if a.is_nil() => Ok(Ordering::Greater),
        None if b.is_nil() => Ok(Ordering::Less),
        None => fail("cannot sort values of incompatible types"),
    }
}

fn casecmp(a: &Val<'_>, b: &Val<'_>) -> Ordering {
    match (a.is_nil(), b.is_nil()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => {
            let (x, y) = (a.to_s(), b.to_s());
            x.bytes().map(|c| c.to_ascii_lowercase()).cmp(y.bytes().map(|c| c.to_ascii_lowercase()))
        }
    }
}

/// A stable sort with a fallible comparison (std's sort may panic on an inconsistent one): the
/// crate's one shared merge sort; the first error stops the comparisons and is returned.
type Keyed<'r> = (Val<'r>, Val<'r>);

fn merge_sort<'r>(
    mut items: Vec<Keyed<'r>>,
    cmp: &mut dyn FnMut(&Keyed<'r>, &Keyed<'r>) -> Result<Ordering, FErr>,
) -> Result<Vec<Keyed<'r>>, FErr> {
    let mut failed = None;
    crate::sort::sort_stable_by(&mut items, &mut |a, b| {
        if failed.is_some() {
            return false;
        }
        match cmp(a, b) {
            Ok(o) => o == Ordering::Less,
            Err(e) => {
                failed = Some(e);
                false
            }
        }
    });
    match failed {
        Some(e) => Err(e),
        None => Ok(items),
    }
}

/// Sign, integer digits and fraction digits of a number-like value; None when not a number.
fn number_parts(v: &Val<'_>) -> Option<(bool, String, String)> {
    match v {
        Val::Int(i) => Some((*i < 0, i.unsigned_abs().to_string(), String::new())),
        Val::Float(f) if f.is_finite() => {
            let mut s = String::new();
            number::write_float(*f, &mut s);
            if s.contains('e') {
                s = crate::value::plain_decimal(*f);
            }
            split_number_text(&s)
        }
        Val::Str(_) | Val::Owned(_) => split_number_text(v.as_str()?.trim()),
        _ => None,
    }
}

fn split_number_text(s: &str) -> Option<(bool, String, String)> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let frac = if frac.bytes().all(|b| b == b'0') && !frac.is_empty() { "0" } else { frac };
    Some((neg, int.to_string(), frac.to_string()))
}

/// Adds one to a decimal digit string.
fn increment_digits(d: &str) -> String {
    let mut digits: Vec<u8> = d.bytes().collect();
    let mut i = digits.len();
    loop {
        if i == 0 {
            digits.insert(0, b'1');
            break;
        }
        i -= 1;
        match digits.get_mut(i) {
            Some(b) if *b == b'9' => *b = b'0',
            Some(b) => {
                *b += 1;
                break;
            }
            None => break,
        }
    }
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(escape_once("&lt;p&gt;&amp; & <b>"), "&lt;p&gt;&amp; &amp; &lt;b&gt;");
        assert_eq!(url_encode("email address is bob@example.com!"), "email+address+is+bob%40example.com%21");
        assert_eq!(url_decode("a+b%40c%21").as_deref(), Some("a b@c!"));
        assert_eq!(base64_encode(b"_#/.", false), "XyMvLg==");
        assert_eq!(base64_decode("XyMvLg==", false).unwrap(), b"_#/.");
        assert!(base64_decode("5", false).is_none());
        assert_eq!(strip_html("<!-- x -->a<b>c</b><script>x</script>d"), "acd");
        assert_eq!(gsub("ab", "", "#"), "#a#b#");
        assert_eq!(ruby_split(" a  b\nc ", " "), vec!["a", "b", "c"]);
        assert_eq!(ruby_split("a,b,,", ","), vec!["a", "b"]);
        assert_eq!(ruby_split(",", ","), Vec::<&str>::new());
        assert_eq!(increment_digits("999"), "1000");
        for (s, p) in [("aaa", "aa"), ("abcabc", "bc"), ("日本日本", "日"), ("x", ""), ("", ""), ("ab", "abc")] {
            assert_eq!(rfind(s, p), s.rfind(p), "{s} {p}");
        }
        assert_eq!(char_slice("日本語テキスト", 1, 3), "本語");
        assert_eq!(char_slice("abc", 2, 9), "c");
        assert_eq!(char_slice("abc", 0, 0), "");
        assert_eq!(char_slice("abc", 3, 9), "");
        assert_eq!(slice_bounds(6, -2, 99), Some((4, 6)));
        assert_eq!(slice_bounds(5, 99, 1), None);
    }
}
