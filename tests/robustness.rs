//! Robustness: seeded random inputs through the public API. Nothing may panic (in Wasm a panic
//! kills the instance for every later request), every error must be structured (code, message,
//! JSON pointer), and the API's alternative paths must agree with each other.
//!
//! Deterministic: every case derives from a fixed seed. `KIZUNA_FUZZ_SEED=n` starts elsewhere
//! and `KIZUNA_FUZZ_SCALE=k` runs k times as many cases, for a longer hunt by hand.
//! Debug builds (`make test` runs `cargo test` without `--release`) run a quarter of the cases.

use kizuna::quiz::{QuizAnswer, QuizState};
use kizuna::{DecideOptions, Engine, Error};
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

const CONFIG: &str = include_str!("../examples/skincare/config.json");
const CONTEXTS: &str = include_str!("../examples/skincare/contexts.ndjson");
const BROKEN: &str = include_str!("../examples/broken-config.json");
const QUIZ_GOLDEN: &str = include_str!("golden/skincare.quiz.ndjson");
const NOW: &str = "2026-11-27T10:30:00+09:00";

// ---- harness -----------------------------------------------------------------------------

/// SplitMix64: tiny, fast, and good enough to drive mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// True with probability `pct` percent.
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn base_seed() -> u64 {
    std::env::var("KIZUNA_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x6b69_7a75_6e61)
}

/// Number of cases for a suite: `release` in release builds, a quarter in debug builds.
fn cases(release: usize) -> usize {
    let scale: usize = std::env::var("KIZUNA_FUZZ_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let n = if cfg!(debug_assertions) { release / 4 } else { release };
    n.max(1) * scale
}

thread_local! {
    /// Where the last panic on this thread happened (the payload alone has no location).
    static PANIC_AT: RefCell<String> = const { RefCell::new(String::new()) };
}

fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| l.to_string()).unwrap_or_default();
            PANIC_AT.with(|p| *p.borrow_mut() = at);
            default(info);
        }));
    });
}

/// Failures of one suite, reported together so that one run shows every distinct problem.
struct Report {
    suite: &'static str,
    failures: Vec<String>,
    cases: usize,
}

impl Report {
    fn new(suite: &'static str) -> Report {
        install_hook();
        Report { suite, failures: Vec::new(), cases: 0 }
    }

    /// Runs one case; a panic or an `Err` (a broken invariant) is recorded with the seed, the
    /// case number and the input.
    fn case(&mut self, seed: u64, case: usize, input: &str, f: impl FnOnce() -> Result<(), String>) {
        self.cases += 1;
        let outcome = panic::catch_unwind(AssertUnwindSafe(f));
        let problem = match outcome {
            Ok(Ok(())) => return,
            Ok(Err(msg)) => format!("invariant broken: {msg}"),
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(non-string payload)".to_string());
                let at = PANIC_AT.with(|p| p.borrow().clone());
                format!("PANIC at {at}: {msg}")
            }
        };
        if self.failures.len() < 20 {
            self.failures.push(format!("[{} seed={seed:#x} case={case}] {problem}\n  input ({} bytes): {}", self.suite, input.len(), clip(input, 3000)));
        }
    }

    fn finish(self) {
        eprintln!("{}: {} cases", self.suite, self.cases);
        assert!(self.failures.is_empty(), "{} failure(s):\n{}", self.failures.len(), self.failures.join("\n\n"));
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} more bytes]", &s[..end], s.len() - end)
}

/// A JSON pointer: empty, or `/`-separated tokens whose `~` escapes are `~0` or `~1`.
fn check_pointer(path: &str) -> Result<(), String> {
    if !(path.is_empty() || path.starts_with('/')) {
        return Err(format!("path {path:?} is not a JSON pointer"));
    }
    let b = path.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'~' && !matches!(b.get(i + 1), Some(b'0' | b'1')) {
            return Err(format!("path {path:?} has a bad ~ escape"));
        }
    }
    Ok(())
}

/// Code, message and pointer present, and the hand-written JSON is serde's.
fn check_error(e: &Error) -> Result<(), String> {
    if e.code.as_str().is_empty() {
        return Err(format!("error without code: {e:?}"));
    }
    if e.message.trim().is_empty() {
        return Err(format!("error without message: {e:?}"));
    }
    check_pointer(&e.path).map_err(|m| format!("{m}: {e:?}"))?;
    let mut ours = String::new();
    e.write_json(&mut ours);
    let serde = serde_json::to_string(e).map_err(|x| x.to_string())?;
    if ours != serde {
        return Err(format!("write_json {ours} != serde {serde}"));
    }
    Ok(())
}

fn check_errors(errors: &[Error]) -> Result<(), String> {
    if errors.is_empty() {
        return Err("an Err with no errors in it".to_string());
    }
    errors.iter().try_for_each(check_error)
}

fn example_engine() -> Engine {
    Engine::compile(CONFIG).unwrap_or_else(|e| panic!("example config should compile: {e:?}"))
}

fn example_contexts() -> Vec<Value> {
    CONTEXTS.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn content_ids(config: &Value) -> Vec<String> {
    config["contents"].as_array().map(|a| a.iter().filter_map(|c| c["id"].as_str().map(str::to_string)).collect()).unwrap_or_default()
}

// ---- values --------------------------------------------------------------------------------

const ODD_STAMPS: &[&str] = &[
    "2026-02-30T25:61:00Z",
    "+275760-09-13T00:00:00Z",
    "-271821-04-20T00:00:00Z",
    "9999-12-31T23:59:59-23:59",
    "0000-01-01T00:00:00+23:59",
    "2024-02-29T23:59:60+09:00",
    "2026-11-27T10:30:00.123456789123Z",
    "2026-11-27T10:30:00+24:00",
    "2026-11-27T10:30",
    "2026-11-27",
    "2026-13-01",
    "2026-11-27T10:30:00+0900",
    "1970-01-01T00:00:00Z",
    "2026-11-27 10:30:00z",
    "２０２６-11-27",
    "",
    "T",
    "2026-11-27T",
    "2026-11-27T10:30:00.Z",
];

const ODD_DURATIONS: &[&str] = &[
    "P", "PT", "P99999999999Y", "P10000Y", "P9999Y12M", "P1Y", "P1M", "PT1.5S", "P0D", "P1.5W", "PT0.000000001S", "P1,5D", "P-1D",
    "PT1H1H", "P1W1D", "P999999999999W", "PT999999999999H", "PT99999999999.999999999S", "P30D", "PT12H", "P1Y2M10DT2H30M", "P1DT",
    "P.5D", "PT1.S", "p30d", "P３D",
];

const ODD_VERSIONS: &[&str] = &[
    "1.2.3", "v1.2.3", "1.2", "1", "", "1.2.3-alpha.01", "1.2.3-rc.1+build.5", "99999999999999999999999.0.0", "1..2", "1.2.3.4", "-1.0.0",
    "1.2.3-", "1.2.3+", "V2", "01.2.3", "x.y.z", "1.2.3-α", "14.2.0",
];

const ODD_STRINGS: &[&str] = &["", " ", "\u{0}", "\u{feff}", "é", "🎉👨‍👩‍👧", "a.b", ".", "..", "~0~1/", "<script>", "{{ user.displayName }}", "{% if %}", "null", "1e3", "-0", "true"];

fn long_string(rng: &mut Rng) -> String {
    let unit = *rng.pick(&["a", "é", "🎉", "\\", "\"", "\n", "{{"]);
    unit.repeat(1 + rng.below(20_000))
}

/// A value of any JSON type, biased towards edge cases.
fn odd_value(rng: &mut Rng) -> Value {
    match rng.below(22) {
        0 => Value::Null,
        1 => json!(rng.chance(50)),
        2 => json!(0),
        3 => json!(-0.0),
        4 => json!(1e308),
        5 => json!(-1e308),
        6 => json!(i64::MAX),
        7 => json!(i64::MIN),
        8 => json!(u64::MAX),
        9 => json!(f64::MIN_POSITIVE),
        10 => json!((rng.next() as i64) >> rng.below(64)),
        11 => json!(rng.next() as f64 / 1e9 - 9e9),
        12 => json!(*rng.pick(ODD_STAMPS)),
        13 => json!(*rng.pick(ODD_DURATIONS)),
        14 => json!(*rng.pick(ODD_VERSIONS)),
        15 => json!(*rng.pick(ODD_STRINGS)),
        16 => json!(long_string(rng)),
        17 => json!([]),
        18 => json!({}),
        19 => json!([odd_scalar(rng), odd_scalar(rng)]),
        20 => json!({"a": odd_scalar(rng), "": odd_scalar(rng)}),
        _ => {
            let mut v = odd_scalar(rng);
            for _ in 0..rng.below(100) {
                v = if rng.chance(50) { json!([v]) } else { json!({"k": v}) };
            }
            v
        }
    }
}

fn odd_scalar(rng: &mut Rng) -> Value {
    match rng.below(6) {
        0 => Value::Null,
        1 => json!(rng.below(1000) as i64 - 500),
        2 => json!(*rng.pick(ODD_STAMPS)),
        3 => json!(*rng.pick(ODD_STRINGS)),
        4 => json!(rng.chance(50)),
        _ => json!(rng.next() as f64 / 7.0),
    }
}

/// Raw JSON text serde_json cannot produce: lone surrogates, out-of-range numbers, deep
/// nesting, duplicate keys.
fn raw_value(rng: &mut Rng) -> String {
    match rng.below(16) {
        0 => r#""\ud800""#.to_string(),
        1 => r#""\udc00\ud800x""#.to_string(),
        2 => r#""\ud800\u0041""#.to_string(),
        3 => r#""\uDBFF\uDFFF""#.to_string(),
        4 => "1e400".to_string(),
        5 => "-1e400".to_string(),
        6 => "123456789012345678901234567890".to_string(),
        7 => "-0".to_string(),
        8 => "1E-400".to_string(),
        9 => r#""\u0000""#.to_string(),
        10 => format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)),
        11 => {
            // Just under and just over the parsers' nesting limit.
            let n = 120 + rng.below(16);
            format!("{}null{}", "[".repeat(n), "]".repeat(n))
        }
        12 => r#"{"a":1,"a":"2","a":null}"#.to_string(),
        13 => "0.000000000000000000000000000000000000000000001e-300".to_string(),
        14 => r#""\/\b\f\n\r\t\"\\""#.to_string(),
        _ => format!("{}{{}}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)),
    }
}

/// Every path (as keys/indexes) of a JSON document, the root included.
fn all_paths(v: &Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(at.clone());
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                at.push(Step::Index(i));
                all_paths(item, at, out);
                at.pop();
            }
        }
        Value::Object(m) => {
            for (k, item) in m {
                at.push(Step::Key(k.clone()));
                all_paths(item, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn get_mut<'v>(v: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    let mut cur = v;
    for s in path {
        cur = match (s, cur) {
            (Step::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Step::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Marker strings replaced by [`raw_value`] text after serializing.
const RAW: &str = "\u{1}RAW\u{1}";

/// One structural mutation at a random place of `doc`: replace, delete, insert, wrap,
/// duplicate, or mark for raw text.
fn mutate_tree(rng: &mut Rng, doc: &mut Value) {
    let mut paths = Vec::new();
    all_paths(doc, &mut Vec::new(), &mut paths);
    let path = rng.pick(&paths).clone();
    let (parent_path, last) = match path.split_last() {
        Some((last, parent)) => (parent.to_vec(), Some(last.clone())),
        None => (Vec::new(), None),
    };
    let op = rng.below(8);
    match (op, last) {
        (0, Some(last)) => {
            // Delete.
            match (get_mut(doc, &parent_path), last) {
                (Some(Value::Object(m)), Step::Key(k)) => {
                    m.remove(&k);
                }
                (Some(Value::Array(a)), Step::Index(i)) => {
                    a.remove(i);
                }
                _ => {}
            }
        }
        (1, _) => {
            // Insert a member or an element next to the chosen node.
            let extra = odd_value(rng);
            match get_mut(doc, &path) {
                Some(Value::Object(m)) => {
                    let key = rng.pick(&["tags", "now", "userId", "type", "x", "", "at", "amount", "__proto__", "version"]).to_string();
                    m.insert(key, extra);
                }
                Some(Value::Array(a)) => {
                    let at = rng.below(a.len() + 1);
                    a.insert(at, extra);
                }
                Some(other) => *other = extra,
                None => {}
            }
        }
        (2, _) => {
            if let Some(node) = get_mut(doc, &path) {
                let inner = node.take();
                *node = if rng.chance(50) { json!([inner]) } else { json!({"value": inner}) };
            }
        }
        (3, Some(Step::Index(i))) => {
            if let Some(Value::Array(a)) = get_mut(doc, &parent_path) {
                if let Some(x) = a.get(i).cloned() {
                    for _ in 0..1 + rng.below(3) {
                        a.insert(i, x.clone());
                    }
                }
            }
        }
        (4, _) => {
            if let Some(node) = get_mut(doc, &path) {
                *node = Value::String(RAW.to_string());
            }
        }
        (5, _) => {
            // Swap the type, keeping something of the value.
            if let Some(node) = get_mut(doc, &path) {
                *node = match node.take() {
                    Value::Number(n) => json!(n.to_string()),
                    Value::String(s) => s.parse::<f64>().ok().map_or_else(|| json!([s]), |f| json!(f)),
                    Value::Array(a) => a.into_iter().next().unwrap_or(Value::Null),
                    Value::Object(m) => Value::Array(m.into_iter().map(|(_, v)| v).collect()),
                    Value::Bool(b) => json!(i64::from(b)),
                    Value::Null => json!("null"),
                };
            }
        }
        _ => {
            if let Some(node) = get_mut(doc, &path) {
                *node = odd_value(rng);
            }
        }
    }
}

fn serialize(rng: &mut Rng, doc: &Value) -> String {
    let text = doc.to_string();
    let marker = serde_json::to_string(RAW).unwrap();
    if !text.contains(&marker) {
        return text;
    }
    let mut out = String::new();
    let mut parts = text.split(&marker).peekable();
    while let Some(part) = parts.next() {
        out.push_str(part);
        if parts.peek().is_some() {
            out.push_str(&raw_value(rng));
        }
    }
    out
}

/// Byte-level damage: flips, inserts, deletes, truncation (then made UTF-8 again, since every
/// API takes `&str`).
fn mutate_bytes(rng: &mut Rng, text: &str) -> String {
    let mut b = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        if b.is_empty() {
            break;
        }
        let at = rng.below(b.len());
        match rng.below(5) {
            0 => b[at] ^= 1 << rng.below(8),
            1 => {
                let byte = *rng.pick(b"{}[]\",:\\-+.0123456789eEtfnu \x00\xe3\x80");
                b.insert(at, byte);
            }
            2 => {
                let end = (at + 1 + rng.below(16)).min(b.len());
                b.drain(at..end);
            }
            3 => b.truncate(at),
            _ => {
                let end = (at + 1 + rng.below(32)).min(b.len());
                let span = b[at..end].to_vec();
                let to = rng.below(b.len());
                b.splice(to..to, span);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn has_non_finite(v: &kizuna::value::Value) -> bool {
    use kizuna::value::Value as V;
    match v {
        V::Float(f) => !f.is_finite(),
        V::Array(items) => items.iter().any(has_non_finite),
        V::Object(members) => members.iter().any(|(_, v)| has_non_finite(v)),
        _ => false,
    }
}

// ---- 1. contexts ---------------------------------------------------------------------------

/// Decides one context every way the API offers and checks that the ways agree.
fn decide_every_way(engine: &Engine, ctx: &str, content: Option<&str>) -> Result<(), String> {
    let plain = engine.decide(ctx, DecideOptions::default());
    let text = engine.decide_to_string(ctx, DecideOptions::default());
    let explained = engine.decide(ctx, DecideOptions { explain: true });
    match (&plain, &text, &explained) {
        (Ok(d), Ok(t), Ok(x)) => {
            d.errors.iter().try_for_each(check_error)?;
            let serde = serde_json::to_string(d).map_err(|e| e.to_string())?;
            if serde != *t {
                return Err(format!("decide_to_string differs from decide:\n  {t}\n  {serde}"));
            }
            // Errors (and so the id) may differ: explain also evaluates the losers of exclusive
            // groups, see `explain_does_not_change_errors_or_the_decision_id`.
            if x.segments != d.segments || x.groups != d.groups || (x.errors == d.errors && x.decision_id != d.decision_id) {
                let mut x = x.clone();
                x.explain = None;
                return Err(format!("explain changed the decision:\n  {}\n  {serde}", serde_json::to_string(&x).unwrap_or_default()));
            }
            if let Some(explain) = &x.explain {
                let in_trace: Vec<&str> = explain.iter().filter(|s| s.matched).map(|s| s.segment.as_str()).collect();
                if in_trace != d.segments {
                    return Err(format!("explain trace matches {in_trace:?}, decision {:?}", d.segments));
                }
            }
            // The last content explained names the variant chosen (rendered, or failed to).
            if let (Some(c), Some(xc)) = (&x.content, x.explain_content.as_ref().and_then(|xs| xs.last())) {
                if (xc.content.as_str(), xc.variant.as_deref()) != (c.id.as_str(), Some(c.variant.as_str())) {
                    return Err(format!("content explanation says {:?}/{:?}, decision {c:?}", xc.content, xc.variant));
                }
            }
            if x.content != d.content || (x.content.is_some() && x.explain_content.is_none()) {
                return Err(format!("explain changed the content: {:?} vs {:?}", x.content, d.content));
            }
            // The same context parsed whole (not projected) and decided from the tree. The
            // crate's parser, not serde_json's: without `float_roundtrip` serde_json may round
            // the last digit of a float differently.
            let parsed = kizuna::value::parse(ctx).ok();
            if parsed.as_ref().is_some_and(has_non_finite) {
                return Err("the parser built a non-finite number".into());
            }
            if let Some(tree) = parsed.map(|v| v.to_serde()) {
                match engine.decide_json(&tree, DecideOptions::default()) {
                    Ok(from_tree) => {
                        let a = serde_json::to_string(&from_tree).map_err(|e| e.to_string())?;
                        if a != serde {
                            return Err(format!("decide_json differs from decide:\n  {a}\n  {serde}"));
                        }
                    }
                    Err(e) => return Err(format!("decide_json failed where decide succeeded: {e}")),
                }
            }
        }
        (Err(a), Err(b), Err(c)) => {
            check_error(a)?;
            if a != b || a != c {
                return Err(format!("the calls fail differently: {a:?} / {b:?} / {c:?}"));
            }
        }
        _ => return Err(format!("the calls disagree: decide {:?}, decide_to_string {:?}", plain.as_ref().map(|_| ()), text.as_ref().map(|_| ()))),
    }
    let line = engine.decide_line(ctx, 7, DecideOptions::default());
    serde_json::from_str::<Value>(&line).map_err(|e| format!("decide_line wrote invalid JSON ({e}): {line}"))?;
    if let Some(id) = content {
        let r = engine.render(id, ctx, DecideOptions::default());
        let t = engine.render_to_string(id, ctx, DecideOptions::default());
        match (&r, &t) {
            (Ok(d), Ok(t)) => {
                d.errors.iter().try_for_each(check_error)?;
                let serde = serde_json::to_string(d).map_err(|e| e.to_string())?;
                if serde != *t {
                    return Err(format!("render_to_string differs from render:\n  {t}\n  {serde}"));
                }
            }
            (Err(a), Err(b)) if a == b => check_error(a)?,
            _ => return Err(format!("render and render_to_string disagree: {r:?} / {t:?}")),
        }
    }
    Ok(())
}

#[test]
fn mutated_contexts_never_panic_and_fail_with_structured_errors() {
    let engine = example_engine();
    let config: Value = serde_json::from_str(CONFIG).unwrap();
    let ids = content_ids(&config);
    let mut seeds: Vec<Value> = example_contexts();
    // The golden quiz outcomes carry contexts after a quiz (quizAnswers, a quiz event).
    seeds.extend(QUIZ_GOLDEN.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter_map(|o| o.get("context").cloned()));
    let mut report = Report::new("contexts");
    let seed = base_seed();
    let mut rng = Rng::new(seed);
    for case in 0..cases(1500) {
        let mut doc = rng.pick(&seeds).clone();
        for _ in 0..1 + rng.below(3) {
            mutate_tree(&mut rng, &mut doc);
        }
        let mut text = serialize(&mut rng, &doc);
        if rng.chance(25) {
            text = mutate_bytes(&mut rng, &text);
        }
        let content = rng.chance(30).then(|| rng.pick(&ids).clone());
        report.case(seed, case, &text, || decide_every_way(&engine, &text, content.as_deref()));
    }
    report.finish();
}

/// `now` and the time fields rules read, set to timestamps at and beyond the edges.
#[test]
fn odd_timestamps_in_contexts() {
    let engine = example_engine();
    let mut report = Report::new("timestamps");
    let seed = base_seed() ^ 1;
    let mut rng = Rng::new(seed);
    let edge_nows = ["9999-12-31T23:59:59-23:59", "0000-01-01T00:00:00+23:59", "1970-01-01T00:00:00Z", "2026-11-27T10:30:00.999999999+09:00", "2024-02-29T23:59:60Z"];
    let contexts = example_contexts();
    for case in 0..cases(300) {
        let mut doc = rng.pick(&contexts).clone();
        let stamps: Vec<&str> = ODD_STAMPS.iter().chain(edge_nows.iter()).copied().collect();
        doc["now"] = json!(if rng.chance(70) { *rng.pick(&edge_nows) } else { *rng.pick(&stamps) });
        let user = &mut doc["user"];
        user["followedAt"] = json!(*rng.pick(&stamps));
        user["attributes"]["birthday"] = json!(*rng.pick(&stamps));
        user["purchases"] = json!([{"sku": "LT-120", "category": "lotion", "amount": 3800, "at": *rng.pick(&stamps)}]);
        if let Some(e) = doc.get_mut("event").and_then(Value::as_object_mut) {
            e.insert("timestamp".into(), odd_value(&mut rng));
        }
        let text = doc.to_string();
        report.case(seed, case, &text, || decide_every_way(&engine, &text, Some("birthday")));
    }
    report.finish();
}

// ---- 2. rules ------------------------------------------------------------------------------

/// Operator names `src/logic/compile.rs` accepts, plus near misses.
const OPERATORS: &[&str] = &[
    "var", "val", "exists", "missing", "missing_some", "if", "?:", "and", "or", "!", "!!", "??", "try", "throw", "==", "!=", "===", "!==", "<",
    "<=", ">", ">=", "+", "-", "*", "/", "%", "max", "min", "map", "filter", "reduce", "all", "some", "none", "merge", "cat", "in", "substr",
    "preserve", "starts_with", "ends_with", "now", "ago", "from_now", "days_since", "hours_since", "calendar_days_since", "before", "after", "time_between", "weekday",
    "time_of_day", "month", "day_of_month", "duration", "has_tag", "has_any_tag", "has_all_tags", "in_segment", "fractional", "sem_ver",
];
const NEAR_MISSES: &[&str] = &["equals", "has_tags", "", "VAR", "in_segmnet", "$ref", "🎉", "a/b~c"];

const PATHS: &[&str] = &[
    "user.attributes.points", "user.attributes.plan", "user.attributes.birthday", "user.tags", "user.tags.0", "user.purchases",
    "user.purchases.0.amount", "user.purchases.99.at", "user.displayName", "user.followedAt", "now", "event.type", "event.timestamp",
    "event.appVersion", "event.message.text", "", ".", "a..b", "user..attributes", "0", "-1", "99999999999999999999", "accumulator",
    "current", "current.amount", "amount", "at", "__proto__", "user.attributes.x.y.z", "targetingKey", "$flagd.flagKey",
];

fn rule_literal(rng: &mut Rng) -> Value {
    match rng.below(10) {
        0 => json!(*rng.pick(ODD_STAMPS)),
        1 => json!(*rng.pick(ODD_DURATIONS)),
        2 => json!(*rng.pick(ODD_VERSIONS)),
        3 => json!(*rng.pick(&["vip", "gold", "lotion", "a", "", "=", ">=", "^", "~", "!=", "<"])),
        4 => json!(rng.below(200) as i64 - 100),
        5 => json!(*rng.pick(&[0.5, -0.0, 1e308, -1e308, 1e-308, 4294967296.0, 9007199254740993.0, 2.5])),
        6 => json!(*rng.pick(&[i64::MAX, i64::MIN, u32::MAX as i64, -1])),
        7 => odd_value(rng),
        8 => json!([rng.below(3), "x", null]),
        _ => json!(rng.chance(50)),
    }
}

fn var_arg(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(8) {
        0 => json!([*rng.pick(PATHS), rule(rng, depth + 1)]),
        1 => json!([]),
        2 => json!(rng.below(5)),
        3 => json!([[rng.below(4)], *rng.pick(PATHS)]),
        4 => json!([*rng.pick(PATHS), *rng.pick(PATHS), null]),
        5 => json!({"cat": ["user.", *rng.pick(PATHS)]}),
        _ => json!(*rng.pick(PATHS)),
    }
}

/// Arguments for `op`: usually well-formed, often not.
fn rule_args(rng: &mut Rng, op: &str, depth: usize) -> Value {
    let list = |rng: &mut Rng, n: usize| Value::Array((0..n).map(|_| rule(rng, depth + 1)).collect());
    if rng.chance(15) {
        // Anything at all: wrong arity, wrong shape.
        return match rng.below(4) {
            0 => {
                let n = rng.below(6);
                list(rng, n)
            }
            1 => rule(rng, depth + 1),
            2 => rule_literal(rng),
            _ => json!({}),
        };
    }
    match op {
        "var" | "val" | "exists" => var_arg(rng, depth),
        "missing" => json!([*rng.pick(PATHS), *rng.pick(PATHS)]),
        "missing_some" => json!([rng.below(3), [*rng.pick(PATHS), *rng.pick(PATHS)]]),
        "map" | "filter" | "all" | "some" | "none" | "reduce" => {
            let over = if rng.chance(60) { json!({"var": *rng.pick(&["user.purchases", "user.tags", "user.events", "user.attributes"])}) } else { rule(rng, depth + 1) };
            let body = rule(rng, depth + 1);
            if op == "reduce" {
                json!([over, body, rule_literal(rng)])
            } else {
                json!([over, body])
            }
        }
        "ago" | "from_now" | "duration" => {
            if rng.chance(80) {
                json!(*rng.pick(ODD_DURATIONS))
            } else {
                json!([*rng.pick(ODD_DURATIONS)])
            }
        }
        "days_since" | "hours_since" | "calendar_days_since" | "weekday" | "time_of_day" | "month" | "day_of_month" => match rng.below(4) {
            0 => json!([]),
            1 => json!([*rng.pick(ODD_STAMPS)]),
            2 => json!([{"var": *rng.pick(&["user.followedAt", "user.attributes.birthday", "event.timestamp", "now", "user.purchases.0.at"])}]),
            _ => json!([rule(rng, depth + 1)]),
        },
        "before" | "after" => json!([time_operand(rng, depth), time_operand(rng, depth)]),
        "time_between" => json!([time_operand(rng, depth), time_operand(rng, depth), time_operand(rng, depth)]),
        "now" => json!([]),
        "has_tag" => json!(*rng.pick(&["vip", "", "repeat", "🎉"])),
        "has_any_tag" | "has_all_tags" => json!([*rng.pick(&["vip", "new"]), *rng.pick(&["repeat", "", "x"])]),
        "in_segment" => json!(*rng.pick(&["s0", "s1", "s2", "nope", ""])),
        "sem_ver" => {
            let a = if rng.chance(50) { json!({"var": "event.appVersion"}) } else { json!(*rng.pick(ODD_VERSIONS)) };
            json!([a, *rng.pick(&["=", "!=", "<", "<=", ">", ">=", "^", "~", "==", "", "≥"]), *rng.pick(ODD_VERSIONS)])
        }
        "fractional" => {
            let mut items = Vec::new();
            if rng.chance(40) {
                items.push(if rng.chance(50) { json!({"var": "user.userId"}) } else { json!(*rng.pick(&["", "key", "U1"])) });
            }
            for _ in 0..rng.below(5) {
                let name = *rng.pick(&["a", "b", "", "c"]);
                items.push(match rng.below(6) {
                    0 => json!([name]),
                    1 => json!([name, *rng.pick(&[0.0, -3.0, 1e308, 4294967296.0, 0.5, 1e19])]),
                    2 => json!([1, 2]),
                    3 => json!(name),
                    _ => json!([name, rng.below(100)]),
                });
            }
            Value::Array(items)
        }
        "preserve" => odd_value(rng),
        "substr" => json!([rule(rng, depth + 1), *rng.pick(&[0, -1, 3, i64::MAX, i64::MIN]), *rng.pick(&[1, -1, 0, i64::MAX, i64::MIN])]),
        "if" | "?:" | "and" | "or" | "??" | "try" | "cat" | "merge" | "+" | "*" | "max" | "min" => {
            let n = rng.below(5);
            list(rng, n)
        }
        "!" | "!!" | "throw" => list(rng, 1),
        "-" | "/" => {
            let n = 1 + rng.below(2);
            list(rng, n)
        }
        _ => list(rng, 2),
    }
}

fn time_operand(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(5) {
        0 => json!(*rng.pick(ODD_STAMPS)),
        1 => json!({"now": []}),
        2 => json!({*rng.pick(&["ago", "from_now"]): *rng.pick(ODD_DURATIONS)}),
        3 => json!({"var": *rng.pick(&["user.followedAt", "user.attributes.birthday", "event.timestamp", "now", "at"])}),
        _ => rule(rng, depth + 1),
    }
}

/// A random rule, at most about six levels deep (the compiler's own limit is 64).
fn rule(rng: &mut Rng, depth: usize) -> Value {
    if depth > 5 || rng.chance(25) {
        return if rng.chance(50) { rule_literal(rng) } else { json!({"var": *rng.pick(PATHS)}) };
    }
    if rng.chance(5) {
        return json!([rule(rng, depth + 1), rule(rng, depth + 1)]);
    }
    let op = if rng.chance(3) { *rng.pick(NEAR_MISSES) } else { *rng.pick(OPERATORS) };
    let args = rule_args(rng, op, depth);
    let mut m = Map::new();
    m.insert(op.to_string(), args);
    if rng.chance(2) {
        m.insert("extra".to_string(), json!(1));
    }
    Value::Object(m)
}

/// A context with every default present (so `fill_defaults` changes nothing and a bare
/// evaluation sees the same document as a decision).
fn rule_context(rng: &mut Rng) -> Value {
    let mut purchases = Vec::new();
    for _ in 0..rng.below(4) {
        purchases.push(json!({
            "sku": *rng.pick(&["LT-120", "CR-40", ""]),
            "category": if rng.chance(80) { json!(*rng.pick(&["lotion", "serum"])) } else { odd_scalar(rng) },
            "amount": if rng.chance(70) { json!(rng.below(20_000)) } else { odd_scalar(rng) },
            "at": if rng.chance(60) { json!(*rng.pick(&["2026-10-28T10:30:00+09:00", "2025-01-01", "2026-11-27T01:00:00Z"])) } else { odd_scalar(rng) },
        }));
    }
    let mut ctx = json!({
        "version": 1,
        "now": *rng.pick(&[NOW, "2026-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2024-02-29T23:59:60+09:00"]),
        "user": {
            "userId": *rng.pick(&["U1", "U24037bfbe05b22696ff9eb4d58d1f0eb", "é"]),
            "displayName": odd_scalar(rng),
            "followedAt": if rng.chance(60) { json!("2026-11-20T10:00:00+09:00") } else { odd_scalar(rng) },
            "tags": (0..rng.below(3)).map(|_| *rng.pick(&["vip", "new", "repeat", ""])).collect::<Vec<_>>(),
            "attributes": {"points": odd_scalar(rng), "plan": *rng.pick(&["gold", ""]), "birthday": *rng.pick(ODD_STAMPS)},
            "purchases": purchases,
            "events": [],
            "quizAnswers": {},
        },
    });
    if rng.chance(60) {
        ctx["event"] = json!({
            "type": *rng.pick(&["message", "follow", "postback"]),
            "timestamp": if rng.chance(50) { json!(1_795_743_000_000i64) } else { odd_scalar(rng) },
            "appVersion": *rng.pick(ODD_VERSIONS),
            "message": {"type": "text", "text": odd_scalar(rng)},
        });
    }
    if rng.chance(30) {
        ctx["targetingKey"] = json!(*rng.pick(&["", "k"]));
    }
    ctx
}

/// Whether the rule uses something a bare evaluation cannot reproduce (segments, the
/// decision's targeting key).
fn decision_only(rule: &Value) -> bool {
    let text = rule.to_string();
    text.contains("\"in_segment\"") || text.contains("\"fractional\"")
}

/// How far random rules get: compiled, then evaluated to a value or to an error (printed, to
/// see that the generator still reaches evaluation).
static COMPILED: AtomicUsize = AtomicUsize::new(0);
static EVALUATED: AtomicUsize = AtomicUsize::new(0);
static FAILED: AtomicUsize = AtomicUsize::new(0);

/// A random rule compiled in a config and decided against random contexts; compared with the
/// bare evaluation (`kizuna::engine::evaluate`, the Wasm `evaluate`).
fn rule_case(rng: &mut Rng) -> Result<(), String> {
    let r = rule(rng, 0);
    // Mostly rules that compile next to the random one, so that it is decided often.
    let r2 = match rng.below(3) {
        0 => r.clone(),
        1 => rule(rng, 0),
        _ => json!({"has_tag": "vip"}),
    };
    let when_v = if rng.chance(50) { rule(rng, 0) } else { json!({"in_segment": "s1"}) };
    let config = json!({"version": 1, "segments": [
        {"id": "s0", "when": r},
        // The same rule twice shares sub-results between segments (the memo).
        {"id": "s1", "when": r2},
        {"id": "s2", "group": "g", "priority": 2, "when": {"in_segment": "s0"}},
    ], "contents": [{"id": "c", "on": ["message"], "variants": [
        {"id": "v", "when": when_v, "messages": [{"type": "text", "text": "{{ user.displayName }}"}]},
        {"id": "w", "messages": [{"type": "text", "text": "x"}]},
    ]}]});
    let engine = match Engine::from_json(&config) {
        Ok(e) => {
            COMPILED.fetch_add(1, Ordering::Relaxed);
            e
        }
        Err(errors) => {
            check_errors(&errors)?;
            for e in &errors {
                if !(e.path.starts_with("/segments/") || e.path.starts_with("/contents/0/variants/0/when")) {
                    return Err(format!("a rule error outside the rules: {e:?}"));
                }
            }
            // Compiling the text gives the same errors as compiling the tree.
            let again = Engine::compile(&config.to_string()).err().unwrap_or_default();
            if again != errors {
                return Err(format!("compile(text) and from_json(tree) disagree: {again:?} vs {errors:?}"));
            }
            return Ok(());
        }
    };
    for _ in 0..3 {
        let ctx = rule_context(rng).to_string();
        decide_every_way(&engine, &ctx, Some("c"))?;
        let Ok(d) = engine.decide(&ctx, DecideOptions::default()) else { continue };
        let s0 = d.segments.iter().any(|s| s == "s0");
        // (`fractional` buckets by segment id, so it may split the two.)
        if r == r2 && !r.to_string().contains("\"fractional\"") && s0 != d.segments.iter().any(|s| s == "s1") {
            return Err(format!("the same rule decided two ways: {:?}", d.segments));
        }
        if decision_only(&r) {
            continue;
        }
        let now = serde_json::from_str::<Value>(&ctx).map_err(|e| e.to_string())?["now"].as_str().unwrap_or_default().to_string();
        let bare = kizuna::engine::evaluate(&r.to_string(), &ctx, &now);
        let error_of_s0: Vec<&Error> = d.errors.iter().filter(|e| e.path.starts_with("/segments/0/")).collect();
        match bare {
            Ok(v) => {
                EVALUATED.fetch_add(1, Ordering::Relaxed);
                let value = kizuna::value::parse(&v).map_err(|e| format!("evaluate wrote invalid JSON {v}: {e}"))?;
                if kizuna::logic::truthy(&value) != s0 || !error_of_s0.is_empty() {
                    return Err(format!("evaluate gives {v}, the decision's s0 matched={s0} errors={error_of_s0:?}"));
                }
            }
            Err(errors) => {
                FAILED.fetch_add(1, Ordering::Relaxed);
                check_errors(&errors)?;
                let [e] = errors.as_slice() else { return Err(format!("evaluate failed with several errors: {errors:?}")) };
                let want = format!("/segments/0/when{}", e.path);
                match error_of_s0.as_slice() {
                    [d] if d.code == e.code && d.path == want => {}
                    _ => return Err(format!("evaluate fails with {e:?}, the decision has s0 matched={s0} errors={error_of_s0:?}")),
                }
            }
        }
    }
    Ok(())
}

#[test]
fn random_rules_never_panic_and_agree_with_bare_evaluation() {
    let mut report = Report::new("rules");
    let seed = base_seed() ^ 2;
    let mut rng = Rng::new(seed);
    for case in 0..cases(1500) {
        // Each case draws from its own stream, so the input can be printed before running it.
        let case_seed = rng.next();
        let mut peek = Rng::new(case_seed);
        let shown = rule(&mut peek, 0).to_string();
        report.case(case_seed, case, &shown, || rule_case(&mut Rng::new(case_seed)));
    }
    eprintln!("rules: {} configs compiled; bare evaluations: {} values, {} errors", COMPILED.load(Ordering::Relaxed), EVALUATED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed));
    report.finish();
}

/// The bare evaluation API with random rule text (byte-damaged too), data and `now`.
#[test]
fn bare_evaluation_of_random_rule_text() {
    let mut report = Report::new("evaluate");
    let seed = base_seed() ^ 3;
    let mut rng = Rng::new(seed);
    for case in 0..cases(3000) {
        let mut text = rule(&mut rng, 0).to_string();
        if rng.chance(20) {
            text = mutate_bytes(&mut rng, &text);
        }
        let data = if rng.chance(80) {
            rule_context(&mut rng).to_string()
        } else {
            let v = odd_value(&mut rng);
            serialize(&mut rng, &v)
        };
        let now = if rng.chance(90) { NOW.to_string() } else { rng.pick(ODD_STAMPS).to_string() };
        let input = format!("rule={text} data={data} now={now}");
        report.case(seed, case, &input, || match kizuna::engine::evaluate(&text, &data, &now) {
            Ok(v) => kizuna::value::parse(&v).map(|_| ()).map_err(|e| format!("evaluate wrote invalid JSON {v}: {e}")),
            Err(errors) => check_errors(&errors),
        });
    }
    report.finish();
}

// ---- 3. configs ----------------------------------------------------------------------------

/// Compiles a config; a compiled engine must then decide, render and start quizzes without
/// panicking.
fn compile_case(text: &str, contexts: &[String]) -> Result<(), String> {
    match Engine::compile(text) {
        Err(errors) => check_errors(&errors),
        Ok(engine) => {
            let doc: Value = kizuna::value::parse(text).map_err(|e| e.to_string())?.to_serde();
            for ctx in contexts {
                decide_every_way(&engine, ctx, None)?;
            }
            for id in content_ids(&doc) {
                if let Some(ctx) = contexts.first() {
                    decide_every_way(&engine, ctx, Some(&id))?;
                }
            }
            // Each quiz walked to its end (the first choice, every choice of a multiple-choice
            // question, text for the others), then its outcome.
            for info in quiz_infos(&doc) {
                let mut state = match engine.quiz_start(&info.id) {
                    Ok(s) => s,
                    Err(e) => {
                        check_error(&e)?;
                        continue;
                    }
                };
                for _ in 0..64 {
                    let Some(q) = state.current.clone() else { break };
                    let answer = match info.questions.iter().find(|(id, ..)| *id == q) {
                        Some((_, choices, kind)) if kind == "multiple" => QuizAnswer::Many(choices.clone()),
                        Some((_, choices, _)) if !choices.is_empty() => QuizAnswer::One(choices[0].clone()),
                        _ => QuizAnswer::One("text".to_string()),
                    };
                    match engine.quiz_answer(&state, &q, answer) {
                        Ok(next) => state = next,
                        Err(e) => {
                            check_error(&e)?;
                            break;
                        }
                    }
                }
                if let Some(ctx) = contexts.first() {
                    if let Err(e) = engine.quiz_result(&state, ctx) {
                        check_error(&e)?;
                    }
                }
            }
            Ok(())
        }
    }
}

/// A config mutation aimed at what configs get wrong: ids, weights, variants, rules.
fn mutate_config(rng: &mut Rng, doc: &mut Value) {
    // One object of the array `section`, when there is one.
    fn item<'d>(rng: &mut Rng, doc: &'d mut Value, section: &str) -> Option<&'d mut Map<String, Value>> {
        let items = doc.get_mut(section)?.as_array_mut()?;
        let n = items.len();
        items.get_mut(rng.below(n))?.as_object_mut()
    }
    match rng.below(7) {
        6 => {
            let zone = *rng.pick(&["+24:00", "-23:59", "+14:00", "UTC+99", "-5", "+0900", "+09:00:00", "Asia/Unknown", "", "Z", "UTC-0", "+9999999999"]);
            if let Some(m) = doc.as_object_mut() {
                m.insert("timeZone".into(), json!(zone));
            }
        }
        0 => {
            // A content's variants: empty, zero or huge weights.
            let Some(c) = item(rng, doc, "contents") else { return };
            if rng.chance(25) {
                c.insert("variants".into(), json!([]));
                return;
            }
            for v in c.get_mut("variants").and_then(Value::as_array_mut).into_iter().flatten().filter_map(Value::as_object_mut) {
                if rng.chance(60) {
                    // Large weights, also totalling over 2^32 (see
                    // `huge_experiment_weights_bucket_like_flagd`).
                    let big = i64::from(u32::MAX / 2);
                    v.insert("weight".into(), json!(*rng.pick(&[0, 1, big, u32::MAX as i64 + 1, -1, i64::MAX])));
                }
            }
            if rng.chance(70) {
                c.insert("experiment".into(), json!({"id": "exp"}));
            }
        }
        1 => {
            // An extremely long id somewhere.
            let long = "x".repeat(1 + rng.below(100_000));
            let section = *rng.pick(&["segments", "contents", "quizzes"]);
            if let Some(x) = item(rng, doc, section) {
                x.insert("id".into(), json!(long));
            }
        }
        2 => {
            // A random rule in place of a segment's condition.
            let r = rule(rng, 0);
            if let Some(x) = item(rng, doc, "segments") {
                x.insert("when".into(), r);
            }
        }
        _ => mutate_tree(rng, doc),
    }
}

#[test]
fn mutated_configs_compile_or_fail_with_structured_errors() {
    let config: Value = serde_json::from_str(CONFIG).unwrap();
    let broken: Value = serde_json::from_str(BROKEN).unwrap();
    let contexts: Vec<String> = CONTEXTS.lines().take(3).map(str::to_string).collect();
    let mut report = Report::new("configs");
    let seed = base_seed() ^ 4;
    let mut rng = Rng::new(seed);
    for case in 0..cases(400) {
        let mut doc = if rng.chance(90) { config.clone() } else { broken.clone() };
        for _ in 0..1 + rng.below(3) {
            mutate_config(&mut rng, &mut doc);
        }
        let mut text = serialize(&mut rng, &doc);
        if rng.chance(10) {
            text = mutate_bytes(&mut rng, &text);
        }
        report.case(seed, case, &text, || compile_case(&text, &contexts));
    }
    report.finish();
}

/// Many segments: chains of `in_segment` 10,000 long (ordered without recursion) and a cycle
/// through all of them.
#[test]
fn ten_thousand_segments_in_an_in_segment_chain() {
    let mut report = Report::new("chains");
    let n = if cfg!(debug_assertions) { 2_000 } else { 10_000 };
    let ctx = json!({"now": NOW, "user": {"userId": "U1", "tags": ["vip"]}}).to_string();
    for (case, cyclic) in [false, true].into_iter().enumerate() {
        let segments: Vec<Value> = (0..n)
            .map(|i| {
                let when = if i + 1 < n { json!({"in_segment": format!("s{}", i + 1)}) } else if cyclic { json!({"in_segment": "s0"}) } else { json!({"has_tag": "vip"}) };
                json!({"id": format!("s{i}"), "when": when})
            })
            .collect();
        let text = json!({"version": 1, "segments": segments}).to_string();
        report.case(0, case, &text, || match (Engine::compile(&text), cyclic) {
            (Ok(engine), false) => {
                let d = engine.decide(&ctx, DecideOptions::default()).map_err(|e| e.to_string())?;
                (d.segments.len() == n).then_some(()).ok_or_else(|| format!("{} of {n} segments matched", d.segments.len()))
            }
            (Err(errors), true) => {
                check_errors(&errors)?;
                errors.iter().any(|e| e.code == kizuna::Code::SegmentCycle).then_some(()).ok_or_else(|| format!("no segment_cycle in {:?}", &errors[..1]))
            }
            (Ok(_), true) => Err("a cycle compiled".to_string()),
            (Err(e), false) => Err(format!("a chain failed to compile: {:?}", &e[..1])),
        });
    }
    report.finish();
}

/// LINE's bulk rich-menu requests from decisions (JSON array or NDJSON), damaged.
#[test]
fn bulk_requests_from_damaged_decisions() {
    let engine = example_engine();
    let decisions: Vec<Value> = example_contexts()
        .iter()
        .filter_map(|c| engine.decide_to_string(&c.to_string(), DecideOptions::default()).ok())
        .map(|t| serde_json::from_str(&t).unwrap())
        .collect();
    let mut report = Report::new("bulk");
    let seed = base_seed() ^ 6;
    let mut rng = Rng::new(seed);
    for case in 0..cases(600) {
        let mut batch: Vec<Value> = (0..rng.below(40)).map(|_| rng.pick(&decisions).clone()).collect();
        let mut doc = Value::Array(std::mem::take(&mut batch));
        for _ in 0..rng.below(4) {
            mutate_tree(&mut rng, &mut doc);
        }
        let mut text = serialize(&mut rng, &doc);
        if rng.chance(40) {
            // NDJSON, one decision a line.
            if let Value::Array(items) = &doc {
                text = items.iter().map(Value::to_string).collect::<Vec<_>>().join("\n");
            }
        }
        if rng.chance(15) {
            text = mutate_bytes(&mut rng, &text);
        }
        report.case(seed, case, &text, || match kizuna::engine::bulk_requests_json(&text) {
            Ok(out) => serde_json::from_str::<Value>(&out).map(|_| ()).map_err(|e| format!("invalid JSON out ({e}): {out}")),
            Err(e) => check_error(&e),
        });
    }
    report.finish();
}

// ---- 4. quizzes ----------------------------------------------------------------------------

struct QuizInfo {
    id: String,
    /// (question id, choice ids, kind)
    questions: Vec<(String, Vec<String>, String)>,
}

fn quiz_infos(config: &Value) -> Vec<QuizInfo> {
    let mut out = Vec::new();
    for q in config["quizzes"].as_array().into_iter().flatten() {
        let questions = q["questions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| {
                let choices = x["choices"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_str().map(str::to_string)).collect();
                (x["id"].as_str().unwrap_or_default().to_string(), choices, x["kind"].as_str().unwrap_or_default().to_string())
            })
            .collect();
        out.push(QuizInfo { id: q["id"].as_str().unwrap_or_default().to_string(), questions });
    }
    out
}

fn random_answer(rng: &mut Rng, info: &QuizInfo, question: &str) -> QuizAnswer {
    let own: Vec<String> = info.questions.iter().find(|(q, ..)| q == question).map(|(_, c, _)| c.clone()).unwrap_or_default();
    let any: Vec<String> = info.questions.iter().flat_map(|(_, c, _)| c.clone()).collect();
    let choice = |rng: &mut Rng| -> String {
        match rng.below(6) {
            0 if !any.is_empty() => rng.pick(&any).clone(),
            1 => rng.pick(ODD_STRINGS).to_string(),
            2 => long_string(rng),
            _ if !own.is_empty() => rng.pick(&own).clone(),
            _ => "x".to_string(),
        }
    };
    if rng.chance(60) {
        QuizAnswer::One(choice(rng))
    } else {
        QuizAnswer::Many((0..rng.below(5)).map(|_| choice(rng)).collect())
    }
}

/// A state the engine produced must be one the engine accepts, and survive its JSON.
fn check_state(engine: &Engine, s: &QuizState) -> Result<(), String> {
    let text = s.to_json();
    if serde_json::to_string(s).map_err(|e| e.to_string())? != text {
        return Err(format!("QuizState::to_json differs from serde: {text}"));
    }
    let back = QuizState::from_json(&text)?;
    if back != *s {
        return Err(format!("state JSON does not round-trip: {text}"));
    }
    // The bound on posted states never refuses a state the engine wrote, pretty-printed too.
    let pretty = serde_json::to_string_pretty(s).map_err(|e| e.to_string())?;
    if engine.read_quiz_state(&pretty).map_err(|e| format!("read_quiz_state refuses the engine's own state {text}: {e}"))? != *s {
        return Err(format!("read_quiz_state reads the state differently: {text}"));
    }
    engine.quiz_question(s).map_err(|e| format!("the engine refuses its own state {text}: {e}"))?;
    Ok(())
}

/// How far random quiz runs get (printed, to see that they still reach results).
static QUIZ_DONE: AtomicUsize = AtomicUsize::new(0);
static QUIZ_OUTCOMES: AtomicUsize = AtomicUsize::new(0);

#[test]
fn random_quiz_answers_never_panic() {
    let engine = example_engine();
    let config: Value = serde_json::from_str(CONFIG).unwrap();
    let infos = quiz_infos(&config);
    let contexts = example_contexts();
    let mut report = Report::new("quiz");
    let seed = base_seed() ^ 5;
    let mut rng = Rng::new(seed);
    for case in 0..cases(1000) {
        let case_seed = rng.next();
        let mut r = Rng::new(case_seed);
        let mut log = String::new();
        let info = r.pick(&infos);
        let mut c = r.pick(&contexts).clone();
        let good_context = !r.chance(30);
        if !good_context {
            mutate_tree(&mut r, &mut c);
        }
        let ctx = serialize(&mut r, &c);
        let quiz_id = if r.chance(95) { info.id.clone() } else { r.pick(ODD_STRINGS).to_string() };
        let steps: Vec<(u8, String, QuizAnswer)> = (0..r.below(20))
            .map(|_| {
                let q = match r.below(10) {
                    0 => r.pick(ODD_STRINGS).to_string(),
                    1 | 2 => r.pick(&info.questions).0.clone(),
                    _ => String::new(), // the current question
                };
                let a = random_answer(&mut r, info, &q);
                (r.below(10) as u8, q, a)
            })
            .collect();
        log.push_str(&format!("quiz={quiz_id} ctx={} steps={steps:?}", clip(&ctx, 300)));
        report.case(case_seed, case, &log, || {
            let mut state = match engine.quiz_start(&quiz_id) {
                Ok(s) => s,
                Err(e) => return check_error(&e),
            };
            check_state(&engine, &state)?;
            let mut r = Rng::new(case_seed ^ 0xa5a5);
            for (kind, q, a) in &steps {
                let q = if q.is_empty() { state.current.clone().unwrap_or_default() } else { q.clone() };
                // A valid answer most of the time, so that quizzes get finished.
                let a = match (kind, info.questions.iter().find(|(id, ..)| *id == q)) {
                    (0..=6, Some((_, choices, k))) if k == "multiple" => {
                        QuizAnswer::Many(choices.iter().filter(|_| r.chance(40)).cloned().collect())
                    }
                    (0..=6, Some((_, choices, _))) if !choices.is_empty() => QuizAnswer::One(r.pick(choices).clone()),
                    (0..=6, Some(_)) => QuizAnswer::One(if r.chance(80) { "free text".to_string() } else { long_string(&mut r) }),
                    _ => a.clone(),
                };
                match engine.quiz_answer(&state, &q, a.clone()) {
                    Ok(next) => {
                        check_state(&engine, &next)?;
                        // The same answer again changes nothing.
                        let again = engine.quiz_answer(&next, &q, a).map_err(|e| format!("answering again failed: {e}"))?;
                        if again != next {
                            return Err(format!("answering {q} again changed the state: {} -> {}", next.to_json(), again.to_json()));
                        }
                        state = next;
                    }
                    Err(e) => check_error(&e)?,
                }
                if *kind == 9 {
                    // A state edited by hand (or saved before the config changed).
                    let mut tree: Value = serde_json::from_str(&state.to_json()).map_err(|e| e.to_string())?;
                    mutate_tree(&mut r, &mut tree);
                    let text = serialize(&mut r, &tree);
                    match engine.read_quiz_state(&text) {
                        Ok(edited) => match engine.quiz_question(&edited) {
                            Ok(_) => state = edited,
                            Err(e) => check_error(&e)?,
                        },
                        Err(e) => check_error(&e)?,
                    }
                }
            }
            if state.done {
                QUIZ_DONE.fetch_add(1, Ordering::Relaxed);
            }
            match engine.quiz_result(&state, &ctx) {
                Ok(outcome) => {
                    QUIZ_OUTCOMES.fetch_add(1, Ordering::Relaxed);
                    outcome.decision.errors.iter().try_for_each(check_error)?;
                    serde_json::to_string(&outcome).map_err(|e| e.to_string())?;
                }
                Err(e) => {
                    check_error(&e)?;
                    // A finished quiz and a good context must give a result.
                    if state.done && good_context {
                        return Err(format!("quiz_result failed for a finished quiz and an example context: {e}"));
                    }
                }
            }
            Ok(())
        });
    }
    eprintln!("quiz: {} runs finished the quiz, {} outcomes", QUIZ_DONE.load(Ordering::Relaxed), QUIZ_OUTCOMES.load(Ordering::Relaxed));
    report.finish();
}

// ---- 5. templates (Liquid) ----------------------------------------------------------------

/// Filters of `src/template/filters.rs` (with their argument counts), plus unknown ones.
const FILTERS: &[(&str, usize)] = &[
    ("abs", 0), ("append", 1), ("at_least", 1), ("at_most", 1), ("base64_decode", 0), ("base64_encode", 0), ("base64_url_safe_decode", 0),
    ("capitalize", 0), ("ceil", 0), ("compact", 1), ("concat", 1), ("date", 1), ("default", 1), ("divided_by", 1), ("downcase", 0), ("escape", 0),
    ("escape_once", 0), ("find", 2), ("find_index", 2), ("first", 0), ("floor", 0), ("has", 2), ("join", 1), ("json", 0), ("last", 0), ("lstrip", 0),
    ("map", 1), ("minus", 1), ("modulo", 1), ("newline_to_br", 0), ("number_with_delimiter", 1), ("plus", 1), ("prepend", 1), ("reject", 2),
    ("remove", 1), ("remove_first", 1), ("remove_last", 1), ("replace", 2), ("replace_first", 2), ("replace_last", 2), ("reverse", 0), ("round", 1),
    ("rstrip", 0), ("size", 0), ("slice", 2), ("sort", 1), ("sort_natural", 1), ("split", 1), ("strip", 0), ("strip_html", 0), ("strip_newlines", 0),
    ("sum", 1), ("times", 1), ("time_zone", 1), ("truncate", 2), ("truncatewords", 2), ("uniq", 1), ("upcase", 0), ("url_decode", 0), ("url_encode", 0),
    ("where", 2), ("yen", 0), ("no_such_filter", 1),
];

fn liquid_value(rng: &mut Rng) -> String {
    match rng.below(9) {
        0 => rng.pick(&["user.displayName", "user.purchases", "user.attributes.points", "user.tags", "now", "segments", "user.purchases[0].amount", "user.purchases.first.at", "event.timestamp", "x", "user[\"attributes\"]", "forloop.index"]).to_string(),
        1 => rng.pick(&["0", "-1", "1.5", "-0", "1e308", "9223372036854775807", "-9223372036854775808", "99999999999999999999", "0.0000001", "nil", "true", "empty", "blank"]).to_string(),
        2 => format!("'{}'", rng.pick(ODD_STRINGS).replace('\'', "")),
        3 => format!("'{}'", rng.pick(ODD_STAMPS)),
        4 => format!("({}..{})", rng.pick(&["1", "-5", "0", "9223372036854775807", "x"]), rng.pick(&["3", "-9223372036854775808", "100000", "1.5"])),
        5 => rng.pick(&["'%Y-%m-%d %H:%M:%S %z'", "'%-m月%-d日'", "'%s'", "'%'", "'%E'", "'%-'", "'%10000Y'", "'%j %U %a %b %c'", "'%N %L %3N'"]).to_string(),
        6 => rng.pick(&["'+09:00'", "'Asia/Tokyo'", "'+99:99'", "''", "'UTC-12'"]).to_string(),
        7 => rng.pick(&["','", "' '", "''", "'amount'", "'at'"]).to_string(),
        _ => (rng.below(2000) as i64 - 1000).to_string(),
    }
}

fn liquid_output(rng: &mut Rng) -> String {
    let mut s = format!("{{{{ {}", liquid_value(rng));
    for _ in 0..rng.below(4) {
        let (name, n) = *rng.pick(FILTERS);
        let args: Vec<String> = (0..if rng.chance(85) { n } else { rng.below(4) }).map(|_| liquid_value(rng)).collect();
        s.push_str(" | ");
        s.push_str(name);
        if !args.is_empty() {
            s.push_str(": ");
            s.push_str(&args.join(", "));
        }
    }
    s.push_str(" }}");
    s
}

fn liquid(rng: &mut Rng, depth: usize) -> String {
    let mut s = String::new();
    for _ in 0..1 + rng.below(4) {
        let inner = |rng: &mut Rng| if depth < 3 { liquid(rng, depth + 1) } else { "x".to_string() };
        let piece = match rng.below(12) {
            0 => format!("{{% if {} {} {} %}}{}{{% else %}}{}{{% endif %}}", liquid_value(rng), rng.pick(&["==", "!=", "<", ">=", "contains", "and", "or"]), liquid_value(rng), inner(rng), inner(rng)),
            1 => format!("{{% for i in {} {} %}}{}{{{{ forloop.index }}}}{{% endfor %}}", liquid_value(rng), rng.pick(&["", "limit: 2", "offset: -1", "limit: 9223372036854775807", "reversed", "offset: continue", "limit: -3"]), inner(rng)),
            2 => format!("{{% assign y = {} %}}{{{{ y }}}}", liquid_value(rng)),
            3 => format!("{{% capture c %}}{}{{% endcapture %}}{{{{ c | size }}}}", inner(rng)),
            4 => format!("{{% case {} %}}{{% when 1, 'a' %}}{}{{% else %}}z{{% endcase %}}", liquid_value(rng), inner(rng)),
            5 => format!("{{% tablerow t in {} cols: {} %}}{{{{ t }}}}{{% endtablerow %}}", liquid_value(rng), rng.pick(&["2", "0", "-1", "9223372036854775807", "x"])),
            6 => format!("{{% cycle 'a', {}, 'c' %}}{{% increment n %}}{{% decrement n %}}", liquid_value(rng)),
            7 => format!("{{% unless {} %}}{}{{% endunless %}}{{% raw %}}{{{{ x }}{{% endraw %}}", liquid_value(rng), inner(rng)),
            8 => format!("{{%- comment -%}}{}{{%- endcomment -%}}{{%- echo {} -%}}", inner(rng), liquid_value(rng)),
            9 => format!("{{% liquid\nassign z = {}\necho z\n %}}", liquid_value(rng)),
            _ => liquid_output(rng),
        };
        s.push_str(&piece);
    }
    s
}

/// Every string of the example config that is a template.
fn example_templates(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.contains("{{") || s.contains("{%") => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| example_templates(i, out)),
        Value::Object(m) => m.values().for_each(|i| example_templates(i, out)),
        _ => {}
    }
}

/// Random and damaged Liquid through `render_template` (the playground's call), and as a
/// content's message in a config.
#[test]
fn random_templates_never_panic() {
    let config: Value = serde_json::from_str(CONFIG).unwrap();
    let mut templates = Vec::new();
    example_templates(&config, &mut templates);
    let contexts = example_contexts();
    let mut report = Report::new("templates");
    let seed = base_seed() ^ 7;
    let mut rng = Rng::new(seed);
    for case in 0..cases(2500) {
        let mut t = if rng.chance(60) { liquid(&mut rng, 0) } else { rng.pick(&templates).clone() };
        if rng.chance(30) {
            t = mutate_bytes(&mut rng, &t);
        }
        let mut ctx = rng.pick(&contexts).clone();
        if rng.chance(30) {
            mutate_tree(&mut rng, &mut ctx);
        }
        let data = serialize(&mut rng, &ctx);
        let input = format!("template={t} data={}", clip(&data, 400));
        report.case(seed, case, &input, || {
            match kizuna::engine::render_template(&t, &data, NOW) {
                Ok(_) => {}
                Err(errors) => check_errors(&errors)?,
            }
            // In a config: compiled (or refused) with a pointer, rendered by `render`.
            let config = json!({"version": 1, "contents": [{"id": "t", "variants": [{"id": "v", "messages": [{"type": "text", "text": t}]}]}]});
            match Engine::from_json(&config) {
                Ok(engine) => decide_every_way(&engine, &data, Some("t")),
                Err(errors) => check_errors(&errors),
            }
        });
    }
    report.finish();
}

// ---- deep nesting --------------------------------------------------------------------------

/// Wasm's stack (1 MiB). A stack overflow aborts the whole test binary (`catch_unwind` cannot
/// catch it), so these cases run in a thread of that size, named after the case: the abort
/// message names the culprit.
const WASM_STACK: usize = 1 << 20;

/// One case of the deep tests, run on its own thread.
type DeepCase = Box<dyn FnOnce() -> Result<(), String> + Send>;

fn on_wasm_stack(name: &str, f: impl FnOnce() -> Result<(), String> + Send + 'static) -> Result<(), String> {
    let handle = std::thread::Builder::new().name(format!("deep: {name}")).stack_size(WASM_STACK).spawn(f).map_err(|e| e.to_string())?;
    handle.join().unwrap_or_else(|_| Err(format!("{name}: panicked")))
}

/// `open` × n, then `middle`, then `close` × n.
fn nest(open: &str, middle: &str, close: &str, n: usize) -> String {
    let mut s = String::with_capacity((open.len() + close.len()) * n + middle.len());
    for _ in 0..n {
        s.push_str(open);
    }
    s.push_str(middle);
    for _ in 0..n {
        s.push_str(close);
    }
    s
}

/// Must fail with a structured error (deep input is refused, not recursed into).
fn refused<T>(what: &str, r: Result<T, Vec<Error>>) -> Result<(), String> {
    match r {
        Ok(_) => Err(format!("{what}: accepted")),
        Err(errors) => check_errors(&errors),
    }
}

/// Structured errors if it fails; success is fine too.
fn no_crash<T>(r: Result<T, Vec<Error>>) -> Result<(), String> {
    r.map(|_| ()).or_else(|errors| check_errors(&errors))
}

#[test]
fn inputs_nested_100k_deep_are_refused_without_overflowing_the_stack() {
    const N: usize = 100_000;
    let ctx_head = format!(r#"{{"now": "{NOW}", "user": {{"userId": "U1", "attributes": {{"x": "#);
    let mut cases: Vec<(&str, DeepCase)> = Vec::new();
    let engine = std::sync::Arc::new(example_engine());
    for (name, text) in [
        ("context of arrays", nest("[", "1", "]", N)),
        ("context of objects", nest(r#"{"a":"#, "1", "}", N)),
        ("context, deep attribute", format!("{ctx_head}{}}}}}}}", nest("[", "", "]", N))),
        ("context, unclosed", "[".repeat(N)),
    ] {
        let e = engine.clone();
        cases.push((name, Box::new(move || {
            refused("decide", e.decide(&text, DecideOptions::default()).map_err(|e| vec![e]))?;
            refused("render", e.render("welcome", &text, DecideOptions::default()).map_err(|e| vec![e]))?;
            let s = e.quiz_start("skin_type").map_err(|e| e.to_string())?;
            refused("quiz_result", e.quiz_result(&s, &text).map_err(|e| vec![e]))
        })));
    }
    let deep_rule = nest(r#"{"!":"#, "true", "}", N);
    cases.push(("config with a deep rule", Box::new(move || {
        refused("compile", Engine::compile(&format!(r#"{{"version": 1, "segments": [{{"id": "s", "when": {deep_rule}}}]}}"#)))
    })));
    cases.push(("bare rule", Box::new(|| refused("evaluate", kizuna::engine::evaluate(&nest("[", "", "]", N), "{}", NOW)))));
    cases.push(("bare data", Box::new(|| refused("evaluate", kizuna::engine::evaluate(r#"{"var": ""}"#, &nest(r#"{"a":"#, "1", "}", N), NOW)))));
    cases.push(("quiz state", Box::new(|| {
        QuizState::from_json(&format!(r#"{{"version": 1, "quiz": "skin_type", "answers": {}, "done": false}}"#, nest("[", "", "]", N))).err().map(|_| ()).ok_or_else(|| "accepted".to_string())
    })));
    cases.push(("template, nested blocks", Box::new(|| {
        refused("render_template", kizuna::engine::render_template(&nest("{% if true %}", "x", "{% endif %}", N / 10), "{}", NOW))
    })));
    cases.push(("template, nested brackets", Box::new(|| refused("render_template", kizuna::engine::render_template(&format!("{{{{ {} }}}}", nest("(", "1", ")", N)), "{}", NOW)))));
    cases.push(("template, nested ranges", Box::new(|| refused("render_template", kizuna::engine::render_template(&format!("{{{{ {} }}}}", nest("(1..", "2", ")", N)), "{}", NOW)))));
    let mut failures = Vec::new();
    for (name, f) in cases {
        if let Err(e) = on_wasm_stack(name, f) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Inputs just inside the nesting limits (rules 64 levels, JSON 128, templates 32) are
/// evaluated, explained and rendered within Wasm's stack.
#[test]
fn inputs_at_the_nesting_limits_fit_in_the_wasm_stack() {
    let mut cases: Vec<(String, DeepCase)> = Vec::new();
    // The deepest rule the compiler takes, for operators that recurse differently.
    let wrappers: &[(&str, &str, &str)] = &[
        (r#"{"!":"#, "true", "}"),
        (r#"{"and":[true,"#, "true", "]}"),
        (r#"{"or":[false,"#, "true", "]}"),
        (r#"{"if":[true,"#, "true", ",false]}"),
        (r#"{"+":[1,"#, "1", "]}"),
        (r#"{"cat":["a","#, "\"b\"", "]}"),
        (r#"{"max":["#, "1", "]}"),
        (r#"{"try":["#, r#"{"throw":"x"}"#, ",1]}"),
        (r#"{"??":[null,"#, "1", "]}"),
        (r#"{"var":[{"cat":["user.",{"var":["x","#, r#""userId""#, "]}]},0]}"),
        // One item each: with two, 64 levels are 2^64 steps (see `nested_iterators_are_bounded`).
        (r#"{"map":[[1],"#, r#"{"var":""}"#, "]}"),
        (r#"{"reduce":[[1],"#, r#"{"var":"current"}"#, ",0]}"),
        (r#"{"some":[[1],"#, "true", "]}"),
        (r#"{"filter":[{"var":"user.tags"},"#, "true", "]}"),
        (r#"{"merge":["#, "[1]", "]}"),
        (r#"{"==":[1,"#, "1", "]}"),
        (r#"{"in":["a",["#, "\"a\"", "]]}"),
        ("[", "1", "]"),
    ];
    for (open, middle, close) in wrappers {
        for levels in [20usize, 31, 32, 33, 62, 63, 64, 65] {
            let rule = nest(open, middle, close, levels);
            let name = format!("{levels} × {open}");
            cases.push((name, Box::new(move || {
                no_crash(kizuna::engine::evaluate(&rule, r#"{"user": {"userId": "U1", "tags": ["a"]}, "x": null}"#, NOW))?;
                let config = format!(r#"{{"version": 1, "segments": [{{"id": "s", "when": {rule}}}, {{"id": "t", "when": {rule}}}]}}"#);
                if let Ok(engine) = Engine::compile(&config) {
                    let ctx = json!({"now": NOW, "user": {"userId": "U1", "tags": ["a"]}}).to_string();
                    for explain in [false, true] {
                        let d = engine.decide(&ctx, DecideOptions { explain }).map_err(|e| e.to_string())?;
                        d.errors.iter().try_for_each(check_error)?;
                    }
                }
                Ok(())
            })));
        }
    }
    // Data at the JSON limit, read whole by rules that walk it.
    for rule in [r#"{"===":[{"var":"a"},{"var":"a"}]}"#, r#"{"cat":[{"var":"a"}]}"#, r#"{"merge":[{"var":"a"},{"var":"a"}]}"#, r#"{"in":[{"var":"a"},[{"var":"a"}]]}"#, r#"{"var":""}"#] {
        for depth in [125usize, 126, 127, 128, 129] {
            let data = format!(r#"{{"a":{}}}"#, nest("[", "1", "]", depth));
            cases.push((format!("data {depth} deep, {rule}"), Box::new(move || no_crash(kizuna::engine::evaluate(rule, &data, NOW)))));
        }
    }
    for levels in [31usize, 32, 33] {
        cases.push((format!("template {levels} blocks"), Box::new(move || {
            no_crash(kizuna::engine::render_template(&nest("{% if true %}{% for i in (1..2) %}", "{{ i | plus: 1 }}", "{% endfor %}{% endif %}", levels / 2), "{}", NOW))?;
            no_crash(kizuna::engine::render_template(&format!("{{{{ {} }}}}", nest("(", "1", ")", levels)), "{}", NOW))
        })));
    }
    let mut failures = Vec::new();
    for (name, f) in cases {
        if let Err(e) = on_wasm_stack(&name, f) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- reproducers ---------------------------------------------------------------------------

/// Found by `mutated_configs_compile_or_fail_with_structured_errors`: with `explain`, the
/// losers of an exclusive group are evaluated too (for the trace), and their evaluation errors
/// land in `errors`, which changes `decisionId`: the same config and context give two ids.
#[test]
fn explain_does_not_change_errors_or_the_decision_id() {
    let engine = Engine::compile(
        r#"{"version": 1, "segments": [
            {"id": "winner", "group": "g", "priority": 2, "when": true},
            {"id": "loser", "group": "g", "priority": 1, "when": {"throw": "boom"}}]}"#,
    )
    .unwrap();
    let ctx = json!({"now": NOW, "user": {"userId": "U1"}}).to_string();
    let plain = engine.decide(&ctx, DecideOptions::default()).unwrap();
    let explained = engine.decide(&ctx, DecideOptions { explain: true }).unwrap();
    assert_eq!(plain.segments, ["winner"]);
    assert_eq!(explained.errors, plain.errors);
    assert_eq!(explained.decision_id, plain.decision_id);
}

/// Found by `inputs_at_the_nesting_limits_fit_in_the_wasm_stack`: a rule's text is linear, but
/// iterators multiply and `reduce` feeds its result back. Nested `map`s over two items took
/// 2^depth steps (the test never finished and ran out of memory); a `reduce` that doubles its
/// accumulator grew it to 2^items bytes; one that wraps it in an array built a value 10,000
/// levels deep, whose copy and drop overflowed Wasm's stack (an abort, not an error).
#[test]
fn runaway_rules_stop_at_a_limit() {
    let items = (0..10_000).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let rules = [
        ("nested maps", nest(r#"{"map":[[1,2],"#, "1", "]}", 60)),
        ("nested some", nest(r#"{"some":[[1,2],"#, "false", "]}", 60)),
        ("nested filters", nest(r#"{"filter":[[1,2],"#, "true", "]}", 60)),
        ("doubling cat", format!(r#"{{"reduce":[[{items}],{{"cat":[{{"var":"accumulator"}},{{"var":"accumulator"}}]}},"x"]}}"#)),
        ("doubling merge", format!(r#"{{"reduce":[[{items}],{{"merge":[{{"var":"accumulator"}},{{"var":"accumulator"}}]}},[1]]}}"#)),
        ("doubling array", format!(r#"{{"reduce":[[{items}],[{{"var":"accumulator"}},{{"var":"accumulator"}}],0]}}"#)),
        ("deepening array", format!(r#"{{"reduce":[[{items}],[{{"var":"accumulator"}}],0]}}"#)),
        ("deepening, negated", format!(r#"{{"!":{{"reduce":[[{items}],[{{"var":"accumulator"}}],0]}}}}"#)),
    ];
    let mut failures = Vec::new();
    for (name, rule) in rules {
        let r = on_wasm_stack(name, move || match kizuna::engine::evaluate(&rule, "{}", NOW) {
            Err(errors) if errors.iter().any(|e| e.code == kizuna::Code::LimitExceeded) => check_errors(&errors),
            other => Err(format!("{:?}", other.map(|s| clip(&s, 100)))),
        });
        if let Err(e) = r {
            failures.push(format!("{name}: {e}"));
        }
    }
    // In a decision: the segment fails with the pointer of the runaway node; others go on.
    let engine = Engine::compile(&format!(
        r#"{{"version": 1, "segments": [{{"id": "runaway", "when": {}}}, {{"id": "fine", "when": true}}]}}"#,
        nest(r#"{"map":[[1,2],"#, "1", "]}", 60)
    ))
    .unwrap();
    let d = engine.decide(&json!({"now": NOW, "user": {"userId": "U1"}}).to_string(), DecideOptions::default()).unwrap();
    assert_eq!(d.segments, ["fine"]);
    assert!(matches!(d.errors.as_slice(), [e] if e.code == kizuna::Code::LimitExceeded && e.path.starts_with("/segments/0/when/map/1")), "{:?}", d.errors);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Found while fuzzing weights (then read in `src/engine/contents.rs`, `fractional`): an
/// experiment's bucket is `(hash × total) >> 32` in `u64`, where the weights of several
/// variants (each up to `u32::MAX`) can total more than 2^32, so the product overflows: in
/// debug builds a panic ("attempt to multiply with overflow", src/engine/contents.rs:282), in
/// release a wrapped, wrong bucket. flagd's `fractional` in src/logic/flagd.rs (`bucket`)
/// computes the same in `u128`.
#[test]
fn huge_experiment_weights_bucket_like_flagd() {
    let config = |w: u32| {
        Engine::from_json(&json!({"version": 1, "contents": [{"id": "c", "on": ["message"], "experiment": {"id": "e"}, "variants": [
            {"id": "a", "weight": w, "messages": [{"type": "text", "text": "a"}]},
            {"id": "b", "weight": w, "messages": [{"type": "text", "text": "b"}]},
            {"id": "c", "weight": w, "messages": [{"type": "text", "text": "c"}]},
        ]}]}))
    };
    // Over flagd's limit (a total above i32::MAX: flagd-core assigns no variant): refused.
    let errors = config(u32::MAX).unwrap_err();
    assert_eq!(errors.iter().map(|e| (e.code, e.path.as_str())).collect::<Vec<_>>(), [(kizuna::Code::InvalidValue, "/contents/0/variants")]);
    // Up to it, as flagd buckets.
    let w = 715_827_882; // × 3 = 2,147,483,646
    let engine = config(w).unwrap();
    for n in 0..64 {
        let user = format!("U{n}");
        let ctx = json!({"now": NOW, "user": {"userId": user}, "event": {"type": "message"}}).to_string();
        let d = engine.decide(&ctx, DecideOptions::default()).unwrap();
        let hash = kizuna::logic::murmur3_32(format!("e{user}").as_bytes(), 0);
        let bucket = (u128::from(hash) * 3 * u128::from(w)) >> 32;
        let want = ["a", "b", "c"][(bucket / u128::from(w)) as usize];
        assert_eq!(d.content.map(|c| c.variant), Some(want.to_string()), "user {user}");
    }
}

/// Found by `mutated_contexts_never_panic_and_fail_with_structured_errors`: the context parser
/// read a number beyond `f64` (`1e400`) as infinity, which no JSON tree can hold, so the same
/// context decided differently as text and as a tree. Now it is refused as serde_json refuses
/// it, whether a rule reads it or not.
#[test]
fn out_of_range_numbers_are_refused_like_serde_json() {
    let engine = Engine::compile(r#"{"version": 1, "segments": [{"id": "big", "when": {">": [{"var": "user.attributes.n"}, 1]}}]}"#).unwrap();
    for (field, number) in [("n", "1e400"), ("n", "-1e400"), ("unread", "1e400")] {
        let ctx = json!({"now": NOW, "user": {"userId": "U1", "attributes": {field: "PLACEHOLDER"}}}).to_string().replace("\"PLACEHOLDER\"", number);
        assert!(serde_json::from_str::<Value>(&ctx).is_err());
        let e = engine.decide_to_string(&ctx, DecideOptions::default()).unwrap_err();
        assert_eq!(e.code, kizuna::Code::InvalidJson, "{ctx}");
        assert!(e.message.contains("number out of range"), "{}", e.message);
    }
}

/// Found by probing what `random_rules_never_panic_and_agree_with_bare_evaluation` generates:
/// `from_now`/`ago` past the year 9999 (or before 0000) wrote `"11026-11-27T…"` or
/// `"-974-11-27T…"`, which no time operator reads back, so `before` held when the shift was
/// its direct operand and failed when it went through another operator. Now both fail alike.
#[test]
fn shifts_beyond_four_digit_years_fail_the_same_way_everywhere() {
    for shift in [r#"{"from_now": "P9000Y"}"#, r#"{"ago": "P3000Y"}"#, r#"{"from_now": "PT300000000000S"}"#] {
        let direct = format!(r#"{{"before": ["2026-01-01", {shift}]}}"#);
        let through_if = format!(r#"{{"before": ["2026-01-01", {{"if": [true, {shift}, null]}}]}}"#);
        for rule in [shift.to_string(), direct, through_if] {
            let errors = kizuna::engine::evaluate(&rule, "{}", NOW).expect_err(&rule);
            assert!(matches!(errors.as_slice(), [e] if e.code == kizuna::Code::InvalidTimestamp), "{rule}: {errors:?}");
        }
    }
    // Inside the range nothing changes.
    assert_eq!(kizuna::engine::evaluate(r#"{"from_now": "P7973Y"}"#, "{}", NOW).unwrap(), r#""9999-11-27T10:30:00+09:00""#);
    assert_eq!(kizuna::engine::evaluate(r#"{"ago": "P2026Y"}"#, "{}", NOW).unwrap(), r#""0000-11-27T10:30:00+09:00""#);
}

/// Found by `random_templates_never_panic`: a context is checked only where the config's rules
/// and templates read it (the projection), so with a config that never reads `user.tags`,
/// `"tags": 5` decides fine from text, while the same context as a tree (`decide_json`) is
/// refused with `invalid_value` at `/user/tags`.
#[test]
fn unread_context_fields_are_checked_alike() {
    let engine = Engine::compile(r#"{"version": 1, "segments": [{"id": "named", "when": {"!!": {"var": "user.displayName"}}}]}"#).unwrap();
    let ctx = json!({"now": NOW, "user": {"userId": "U1", "displayName": "A", "tags": 5}});
    let from_text = engine.decide(&ctx.to_string(), DecideOptions::default()).map(|d| d.segments);
    let from_tree = engine.decide_json(&ctx, DecideOptions::default()).map(|d| d.segments);
    assert_eq!(from_text, from_tree);
}
