//! Unicode case mapping, exactly as `str::to_lowercase` / `str::to_uppercase` and
//! `char::to_uppercase` do it, from compact tables.
//!
//! Why not std's: its tables list every mapped character one by one (24 KB of Wasm data that
//! gzip barely shrinks); most mappings are runs with one offset (`A`–`Z` → +32) or alternating
//! pairs (`Ā ā Ă ă …`), stored here as one row per run (`case_table.rs`, about 3 KB).
//!
//! `case_table.rs` is generated from std by the test `tables_match_std`
//! (`KIZUNA_WRITE_CASE_TABLES=1 cargo test --lib case`), which also checks every character
//! against std, so a toolchain with newer Unicode data fails that test until it is regenerated.

#[rustfmt::skip]
mod case_table;

use case_table::{CASED, IGNORABLE, LOWER, LOWER_MULTI, UPPER, UPPER_MULTI};

/// Runs of characters mapped by one offset, sorted: `(first << 11 | (stride - 1) << 10 |
/// (count - 1), delta)` covers `first + k * stride` for `k < count`, each mapped to itself +
/// `delta`.
type Runs = [(u32, i32)];

fn run_map(c: char, runs: &Runs) -> Option<char> {
    let cp = u32::from(c);
    let i = runs.partition_point(|r| r.0 >> 11 <= cp).checked_sub(1)?;
    let &(key, delta) = runs.get(i)?;
    let k = cp - (key >> 11);
    let (stride, count) = (((key >> 10) & 1) + 1, (key & 0x3FF) + 1);
    if k % stride != 0 || k / stride >= count {
        return None;
    }
    char::from_u32(cp.wrapping_add_signed(delta))
}

fn multi(c: char, table: &[(u32, &'static str)]) -> Option<&'static str> {
    let cp = u32::from(c);
    let i = table.binary_search_by_key(&cp, |e| e.0).ok()?;
    table.get(i).map(|e| e.1)
}

/// Whether `c` lies in one of the sorted ranges `first << 11 | (len - 1)`.
fn in_ranges(c: char, ranges: &[u32]) -> bool {
    let cp = u32::from(c);
    match ranges.partition_point(|&r| r >> 11 <= cp).checked_sub(1) {
        Some(i) => ranges.get(i).is_some_and(|&r| cp - (r >> 11) <= r & 0x7FF),
        None => false,
    }
}

/// Appends `c.to_lowercase()`.
pub(crate) fn push_lower(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
    } else if let Some(m) = run_map(c, &LOWER) {
        out.push(m);
    } else if let Some(s) = multi(c, &LOWER_MULTI) {
        out.push_str(s);
    } else {
        out.push(c);
    }
}

/// Appends `c.to_uppercase()`.
pub(crate) fn push_upper(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_uppercase());
    } else if let Some(m) = run_map(c, &UPPER) {
        out.push(m);
    } else if let Some(s) = multi(c, &UPPER_MULTI) {
        out.push_str(s);
    } else {
        out.push(c);
    }
}

/// `s.to_uppercase()`.
pub(crate) fn to_upper(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_upper(c, &mut out);
    }
    out
}

/// `s.to_lowercase()`, final sigma included (`Σ` → `ς` at the end of a word).
pub(crate) fn to_lower(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        if c == 'Σ' {
            let before = s.get(..i).unwrap_or("");
            let after = s.get(i + 'Σ'.len_utf8()..).unwrap_or("");
            let word_final = ignorable_then_cased(before.chars().rev()) && !ignorable_then_cased(after.chars());
            out.push(if word_final { 'ς' } else { 'σ' });
        } else {
            push_lower(c, &mut out);
        }
    }
    out
}

/// Unicode's Final_Sigma context: skipping case-ignorable characters, is the next one cased?
fn ignorable_then_cased(mut chars: impl Iterator<Item = char>) -> bool {
    match chars.find(|&c| !in_ranges(c, &IGNORABLE)) {
        Some(c) => in_ranges(c, &CASED),
        None => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    fn all_chars() -> impl Iterator<Item = char> {
        (0..=0x10FFFFu32).filter_map(char::from_u32)
    }

    /// One char's single-char mapping by std, if it maps to one other char.
    fn single(m: &str, c: char) -> Option<char> {
        let mut it = m.chars();
        match (it.next(), it.next()) {
            (Some(x), None) if x != c => Some(x),
            _ => None,
        }
    }

    fn runs(map: impl Fn(char) -> Option<char>) -> Vec<(u32, u32, u32, i32)> {
        let pairs: Vec<(u32, i64)> = all_chars()
            .filter_map(|c| map(c).map(|m| (u32::from(c), i64::from(u32::from(m)) - i64::from(u32::from(c)))))
            .collect();
        let mut out: Vec<(u32, u32, u32, i32)> = Vec::new();
        let mut i = 0;
        while i < pairs.len() {
            let (first, delta) = pairs[i];
            // Greedy: the longer of a stride-1 and a stride-2 run from here.
            let mut best = (1usize, 1u32);
            for stride in [1u32, 2] {
                let mut n = 1;
                while let Some(&(cp, d)) = pairs.get(i + n) {
                    if cp != first + stride * n as u32 || d != delta || n >= 1024 {
                        break;
                    }
                    n += 1;
                }
                if n > best.0 {
                    best = (n, stride);
                }
            }
            out.push((first, best.0 as u32, best.1, delta as i32));
            i += best.0;
        }
        out
    }

    fn ranges(pred: impl Fn(char) -> bool) -> Vec<(u32, u32)> {
        let mut out: Vec<(u32, u32)> = Vec::new();
        for c in all_chars().filter(|&c| pred(c)) {
            let cp = u32::from(c);
            match out.last_mut() {
                Some(r) if (r.1 + 1 == cp || (r.1 + 1 == 0xD800 && cp == 0xE000)) && cp - r.0 < 2048 => r.1 = cp,
                _ => out.push((cp, cp)),
            }
        }
        out
    }

    /// Std's verdict on `Σ` after "A" and before `b`: final (`ς`) or not.
    fn sigma_final(b: &str) -> bool {
        format!("AΣ{b}").to_lowercase().chars().nth(1) == Some('ς')
    }

    fn generate() -> String {
        let lower_single = |c: char| single(&c.to_lowercase().collect::<String>(), c);
        let upper_single = |c: char| single(&c.to_uppercase().collect::<String>(), c);
        let multi = |f: &dyn Fn(char) -> String| -> Vec<(u32, String)> {
            all_chars().map(|c| (u32::from(c), f(c))).filter(|(_, m)| m.chars().count() > 1).collect()
        };
        // Probing std's Final_Sigma: after "AΣ", a case-ignorable c is skipped (so "AΣcB" is not
        // final but "AΣc" is), a cased c makes it not final, any other c makes it final.
        let ignorable = |c: char| !sigma_final(&format!("{c}B")) && sigma_final(&c.to_string());
        let cased = |c: char| !sigma_final(&c.to_string());
        let mut t = String::from("// Generated by `KIZUNA_WRITE_CASE_TABLES=1 cargo test --lib case` from std's case mapping.\n");
        let _ = writeln!(t, "// Unicode {:?} (std).\n", char::UNICODE_VERSION);
        for (name, r) in [("LOWER", runs(lower_single)), ("UPPER", runs(upper_single))] {
            let _ = writeln!(t, "pub(super) static {name}: [(u32, i32); {}] = [", r.len());
            for (a, n, s, d) in r {
                let _ = writeln!(t, "    (0x{:X}, {d}),", a << 11 | (s - 1) << 10 | (n - 1));
            }
            t.push_str("];\n");
        }
        let lm = multi(&|c| c.to_lowercase().collect());
        let um = multi(&|c| c.to_uppercase().collect());
        for (name, m) in [("LOWER_MULTI", lm), ("UPPER_MULTI", um)] {
            let _ = writeln!(t, "pub(super) static {name}: [(u32, &str); {}] = [", m.len());
            for (a, s) in m {
                let _ = writeln!(t, "    (0x{a:X}, {s:?}),");
            }
            t.push_str("];\n");
        }
        for (name, r) in [("IGNORABLE", ranges(ignorable)), ("CASED", ranges(|c| !ignorable(c) && cased(c)))] {
            let _ = writeln!(t, "pub(super) static {name}: [u32; {}] = [", r.len());
            for (a, b) in r {
                let _ = writeln!(t, "    0x{:X},", a << 11 | (b - a));
            }
            t.push_str("];\n");
        }
        t
    }

    #[test]
    fn tables_match_std() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/template/case/case_table.rs");
        let want = generate();
        if std::env::var_os("KIZUNA_WRITE_CASE_TABLES").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap();
        assert!(have == want, "{path} is stale: run KIZUNA_WRITE_CASE_TABLES=1 cargo test --lib case");
    }

    #[test]
    fn every_char_maps_as_in_std() {
        let mut out = String::new();
        for c in all_chars() {
            out.clear();
            push_lower(c, &mut out);
            assert_eq!(out, c.to_lowercase().collect::<String>(), "lower {c:?}");
            out.clear();
            push_upper(c, &mut out);
            assert_eq!(out, c.to_uppercase().collect::<String>(), "upper {c:?}");
        }
    }

    #[test]
    fn final_sigma_as_in_std() {
        // Every character right after and right before the sigma, with and without a cased
        // letter beyond it.
        for c in all_chars() {
            for s in [format!("AΣ{c}"), format!("AΣ{c}B"), format!("{c}Σ"), format!("A{c}Σ"), format!("{c}Σ b")] {
                assert_eq!(to_lower(&s), s.to_lowercase(), "{s:?}");
            }
        }
        for s in ["Σ", "ΣΣ", "ΑΣ", "ΑΣ.", "ΑΣ'Σ", "ὈΔΥΣΣΕΎΣ", "Σa", "aΣ a", "a\u{301}Σ", "aΣ\u{301}", "İSTANBUL", "ǅ", "ﬃ straße"] {
            assert_eq!(to_lower(s), s.to_lowercase(), "{s:?}");
            assert_eq!(to_upper(s), s.to_uppercase(), "{s:?}");
        }
    }
}
