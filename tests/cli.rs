//! The native CLI, run as a user would.

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};

fn kizuna(args: &[&str], stdin: Option<&str>) -> Output {
    kizuna_bytes(args, stdin.unwrap_or("").as_bytes())
}

#[test]
fn check_prints_every_error_with_its_path_and_exits_1() {
    let out = kizuna(&["check", "examples/broken-config.json"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    for path in ["/segments/0/when/and/1", "/segments/1/descripton", "/segments/2", "/segments/3/when/after/1/ago", "/segments/4/when/in_segment"] {
        assert!(err.contains(path), "missing {path} in:\n{err}");
    }
    assert!(err.contains("5 problems"), "{err}");
    // Each with its place in the file, as editors link it.
    assert!(err.starts_with("examples/broken-config.json:4:71: /segments/0/when/and/1 [unknown_operator]"), "{err}");
    assert!(err.contains("examples/broken-config.json:8:51: /segments/4/when/in_segment [unknown_segment]"), "{err}");
}

/// `check --json`: one JSON object on stdout, for CI and editors; the same problems and exit codes.
#[test]
fn check_json_gives_the_problems_as_one_json_object() {
    let out = kizuna(&["check", "--json", "examples/broken-config.json"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    let paths: Vec<&str> = report["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["/segments/0/when/and/1", "/segments/1/descripton", "/segments/2", "/segments/3/when/after/1/ago", "/segments/4/when/in_segment"]);
    assert_eq!(report["errors"][0]["code"], "unknown_operator");
    assert_eq!(report["errors"][0]["at"], serde_json::json!({"line": 4, "column": 71}));

    let out = kizuna(&["check", "--json", "examples/skincare/config.json"], None);
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["ok"].as_bool(), report["segments"].as_u64(), report["configHash"].as_str().map(str::len)), (Some(true), Some(20), Some(32)));

    // A file that cannot be read: still one JSON object on stdout, exit 2.
    let out = kizuna(&["check", "--json", "examples/no-such-config.json"], None);
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["ok"].as_bool(), report["errors"][0]["code"].as_str()), (Some(false), Some("io")));
}

/// A config with typos in context paths, and paths that are fine: into free-form attributes,
/// and a field of each item of a `some`.
const TYPOS: &str = r#"{
  "version": 1,
  "segments": [
    {"id": "vip", "when": {"in": ["vip", {"var": "user.tgas"}]}},
    {"id": "tokyo", "when": {"==": [{"var": "user.attributes.prefecure"}, "東京都"]}},
    {"id": "big", "when": {"some": [{"var": "user.purchases"}, {">": [{"var": "amount"}, 10000]}]}}
  ],
  "contents": [
    {"id": "hello", "on": ["follow"], "variants": [{"id": "a", "messages": [
      {"type": "text", "text": "ようこそ\n{{ user.dispalyName | default: 'お客様' }}様"}]}]}
  ]
}
"#;

/// Warnings never fail `check`: printed on stderr as `file:line:column: warning: …` with the
/// pointer and the field meant, exit 0.
#[test]
fn check_warns_of_a_context_field_typo_and_still_exits_0() {
    let out = kizuna(&["check", "-"], Some(TYPOS));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "one warning per typo, none for attributes or the item's fields:\n{err}");
    assert_eq!(lines[0], "stdin:10:42: warning: /contents/0/variants/0/messages/0/text [unknown_context_field]: kizuna's Context has no field \"user.dispalyName\"; did you mean \"user.displayName\"? (line 2, column 4 of the template)");
    assert_eq!(lines[1], "stdin:4:42: warning: /segments/0/when/in/1 [unknown_context_field]: kizuna's Context has no field \"user.tgas\"; did you mean \"user.tags\"?");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("stdin: ok with 2 warnings (3 segments, 1 content, "), "{stdout}");

    // `--json`: the same in a `warnings` array, each shaped like an error.
    let out = kizuna(&["check", "--json", "-"], Some(TYPOS));
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report.get("errors"), None);
    let warnings = report["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 2);
    assert_eq!(
        warnings[1],
        serde_json::json!({
            "code": "unknown_context_field",
            "message": "kizuna's Context has no field \"user.tgas\"; did you mean \"user.tags\"?",
            "path": "/segments/0/when/in/1",
            "at": {"line": 4, "column": 42}
        })
    );
    assert_eq!((warnings[0]["line"].as_u64(), warnings[0]["column"].as_u64()), (Some(2), Some(4)));

    // A config without warnings says so with an empty list.
    let out = kizuna(&["check", "--json", "examples/skincare/config.json"], None);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["warnings"], serde_json::json!([]));

    // A config with errors has no `warnings` key: they are looked for only once it compiles,
    // and `[]` would say none were found.
    let broken = TYPOS.replacen("\"in\"", "\"inn\"", 1);
    let out = kizuna(&["check", "--json", "-"], Some(&broken));
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["ok"].as_bool(), report["errors"][0]["code"].as_str()), (Some(false), Some("unknown_operator")));
    assert_eq!(report.get("warnings"), None, "{report}");
}

/// A field the Context does not define and that is close to none still warns, saying where
/// custom fields go and that a backend sending it may ignore the warning.
#[test]
fn check_warns_of_a_field_the_context_does_not_define() {
    let config = r#"{"version": 1, "segments": [{"id": "gold", "when": {"==": [{"var": "user.rank"}, "gold"]}}]}"#;
    let out = kizuna(&["check", "-"], Some(config));
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err.trim_end(),
        "stdin:1:60: warning: /segments/0/when/==/0 [unknown_context_field]: kizuna's Context has no field \"user.rank\": it reads null unless your backend \
         sends one (if it does, ignore this warning); custom fields go in user.attributes: \"user.attributes.rank\""
    );
}

/// Paths read from each item of a list the Context defines (`user.purchases`), in a `some`
/// or a template's `for` loop, are checked against its items' fields; `reduce`'s `accumulator`
/// is anything, and the items of lists the Context does not define too.
#[test]
fn check_warns_of_an_item_field_typo_in_an_iterator_or_a_loop() {
    let config = r#"{
  "version": 1,
  "segments": [
    {"id": "lotion", "when": {"some": [{"var": "user.purchases"}, {"==": [{"var": "catgory"}, "lotion"]}]}},
    {"id": "spent", "when": {">=": [{"reduce": [{"var": "user.purchases"}, {"+": [{"var": "accumulator"}, {"var": "current.amount"}]}, 0]}, 10000]}},
    {"id": "orders", "when": {"some": [{"var": "user.attributes.orders"}, {"==": [{"var": "status"}, "shipped"]}]}}
  ],
  "contents": [
    {"id": "thanks", "on": ["follow"], "variants": [{"id": "a", "messages": [
      {"type": "text", "text": "ご購入履歴\n{% for p in user.purchases %}{{ p.sku }}: {{ p.amout }}円\n{% endfor %}"}]}]}
  ]
}
"#;
    let out = kizuna(&["check", "-"], Some(config));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            "stdin:10:85: warning: /contents/0/variants/0/messages/0/text [unknown_context_field]: \"p\" (an item of user.purchases) has no field \"amout\"; did you mean \"amount\"? (line 2, column 46 of the template)",
            "stdin:4:75: warning: /segments/0/when/some/1/==/0 [unknown_context_field]: an item of user.purchases has no field \"catgory\"; did you mean \"category\"?",
        ],
        "{err}"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("stdin: ok with 2 warnings (3 segments, 1 content, "), "{stdout}");
}

#[test]
fn check_accepts_the_example_config() {
    let out = kizuna(&["check", "examples/skincare/config.json"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8(out.stdout).unwrap().contains("ok (20 segments, 10 contents, 9 rich menus, 1 quiz, config hash "));
}

#[test]
fn decide_streams_ndjson_decisions() {
    let contexts = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/skincare/contexts.ndjson")).unwrap();
    let golden = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/skincare.decisions.ndjson")).unwrap();
    let from_file = kizuna(&["decide", "--config", "examples/skincare/config.json", "examples/skincare/contexts.ndjson"], None);
    assert!(from_file.status.success());
    assert_eq!(String::from_utf8(from_file.stdout).unwrap(), golden);
    let from_stdin = kizuna(&["decide", "--config", "examples/skincare/config.json", "-"], Some(&contexts));
    assert_eq!(String::from_utf8(from_stdin.stdout).unwrap(), golden);
    // Not a terminal: no progress bar on stderr.
    assert!(from_stdin.stderr.is_empty(), "{}", String::from_utf8_lossy(&from_stdin.stderr));
}

#[test]
fn decide_reports_bad_lines_and_keeps_going() {
    let input = "{\"now\": \"2026-11-27T10:30:00+09:00\", \"user\": {\"userId\": \"U1\"}}\nnot json\n";
    let out = kizuna(&["decide", "--config", "examples/skincare/config.json"], Some(input));
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["userId"], "U1");
    assert_eq!(lines[1]["error"]["code"], "invalid_json");
    assert_eq!(lines[1]["line"], 2);
}

#[test]
fn eval_prints_the_json_result() {
    let out = kizuna(&["eval", "-", "--now", "2026-11-27T10:30:00+09:00"], Some(r#"{"cat": ["kizuna ", {"+": [1, 2]}]}"#));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "\"kizuna 3\"");
    let dir = std::env::temp_dir().join(format!("kizuna-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rule.json"), r#"{"days_since": [{"var": "at"}]}"#).unwrap();
    let rule = dir.join("rule.json");
    let out = kizuna(&["eval", rule.to_str().unwrap(), "-", "--now", "2026-11-27T00:00:00Z"], Some(r#"{"at": "2026-11-17T00:00:00Z"}"#));
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "10");
    let bad = kizuna(&["eval", "-"], Some(r#"{"nope": []}"#));
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8(bad.stderr).unwrap().contains("unknown_operator"));
}

#[test]
fn render_prints_a_template_against_data() {
    let dir = std::env::temp_dir().join(format!("kizuna-cli-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let t = dir.join("greeting.liquid");
    std::fs::write(&t, "{{ user.displayName | default: \"お客様\" }}様、{{ total | yen }}のお買い上げ、ありがとうございます。{{ \"now\" | date: \"%Y年%-m月%-d日\" }}").unwrap();
    let out = kizuna(&["render", t.to_str().unwrap(), "-", "--now", "2026-11-27T10:30:00+09:00"], Some(r#"{"user": {"displayName": ""}, "total": 12800}"#));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "お客様様、¥12,800のお買い上げ、ありがとうございます。2026年11月27日");
    let bad = kizuna(&["render", "-"], Some("{{ x | nope }}"));
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8(bad.stderr).unwrap();
    assert!(err.contains("unknown_filter") && err.contains("line 1"), "{err}");
}

#[test]
fn eval_and_render_take_the_datas_now_and_a_template_reads_now_as_a_content_does() {
    // A context line taken from `decide`'s input: its `now`, not the clock, unless --now says.
    let context = r#"{"now": "2026-01-10T09:00:00+09:00", "user": {"purchases": [{"at": "2026-01-01T09:00:00+09:00"}]}}"#;
    let dir = std::env::temp_dir().join(format!("kizuna-cli-now-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rule = dir.join("rule.json");
    std::fs::write(&rule, r#"{"days_since": [{"var": "user.purchases.0.at"}]}"#).unwrap();
    let out = kizuna(&["eval", rule.to_str().unwrap(), "-"], Some(context));
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "9");
    let out = kizuna(&["eval", rule.to_str().unwrap(), "-", "--now", "2026-01-02T09:00:00+09:00"], Some(context));
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "1");
    let t = dir.join("t.liquid");
    std::fs::write(&t, "{{ now | date: '%-m/%-d' }} {{ 'now' | date: '%-m/%-d' }}").unwrap();
    let out = kizuna(&["render", t.to_str().unwrap(), "-", "--now", "2026-12-10T09:00:00+09:00"], Some("{}"));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "12/10 12/10");
    let out = kizuna(&["render", t.to_str().unwrap(), "-"], Some(context));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "1/10 1/10");
}

#[test]
fn decide_renders_one_content_for_a_segments_users_for_a_push_campaign() {
    let contexts = std::fs::read_to_string("examples/skincare/contexts.ndjson").unwrap();
    let out = kizuna(&["decide", "--config", "examples/skincare/config.json", "--content", "birthday", "--segment", "birthday_month", "-"], Some(&contexts));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let decisions: Vec<serde_json::Value> = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // Only the segment's users, each with the content rendered, whatever their event.
    assert!(!decisions.is_empty() && decisions.len() < contexts.lines().count());
    for d in &decisions {
        assert!(d["segments"].as_array().unwrap().iter().any(|s| s == "birthday_month"), "{d}");
        assert_eq!(d["content"]["id"], "birthday");
        assert!(d["messages"][0]["text"].as_str().unwrap().contains("誕生月"), "{d}");
    }
    let skipped = contexts.lines().count() - decisions.len();
    assert!(String::from_utf8(out.stderr).unwrap().contains(&format!("{skipped} of 20 contexts are not in segment \"birthday_month\"")));
    // Names that are not in the config: the command line is wrong (exit 2), with what is.
    for (flag, id) in [("--content", "birthdya"), ("--segment", "bday")] {
        let bad = kizuna(&["decide", "--config", "examples/skincare/config.json", flag, id, "-"], Some(&contexts));
        assert_eq!(bad.status.code(), Some(2));
        assert!(String::from_utf8(bad.stderr).unwrap().contains("\"birthday"), "{flag}");
    }
    // A word of an id is suggested as an edit away would be.
    let bad = kizuna(&["decide", "--config", "examples/skincare/config.json", "--segment", "birthday", "-"], Some(&contexts));
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8(bad.stderr).unwrap().contains("there is no segment \"birthday\" in the config; did you mean \"birthday_month\"?"));
}

#[test]
fn eval_and_render_with_a_config_see_its_time_zone_and_locale() {
    let dir = std::env::temp_dir().join(format!("kizuna-cli-zone-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.json");
    std::fs::write(&config, r#"{"version": 1, "timeZone": "+08:00", "locale": "ja", "segments": []}"#).unwrap();
    let config = config.to_str().unwrap();
    // 15:30 UTC on Sunday: Monday 00:30 in +09:00, still Sunday 23:30 in the config's +08:00.
    let now = "2026-11-29T15:30:00Z";
    let weekday = |extra: &[&str]| {
        let out = kizuna(&[&["eval", "-", "--now", now], extra].concat(), Some(r#"{"weekday": []}"#));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    assert_eq!(weekday(&[]), "1");
    assert_eq!(weekday(&["--config", config]), "7");
    let t = dir.join("t.liquid");
    std::fs::write(&t, "{{ now | date: '%-m/%-d(%a)' }}").unwrap();
    let out = kizuna(&["render", t.to_str().unwrap(), "--now", now, "--config", config], None);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "11/29(日)");
    // A config with problems: printed as check prints them, exit 1.
    let bad = kizuna(&["eval", "-", "--config", "examples/broken-config.json"], Some("true"));
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8(bad.stderr).unwrap().contains("[unknown_operator]"));
}

/// The CLI started in the repository with piped stdin, stdout and stderr.
fn spawn_kizuna(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_kizuna"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Raw bytes on stdin (also a context line that is not UTF-8).
fn kizuna_bytes(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = spawn_kizuna(args);
    // A command that fails on its arguments exits without reading stdin: writing may then
    // meet a closed pipe, which is not the test's failure (its exit code and stderr are).
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

#[test]
fn decide_takes_a_byte_order_mark_and_decides_past_a_line_that_is_not_utf8() {
    let contexts = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/skincare/contexts.ndjson")).unwrap();
    let mut input = "\u{feff}".as_bytes().to_vec();
    let mut lines = contexts.lines();
    input.extend_from_slice(lines.next().unwrap().as_bytes());
    input.extend_from_slice(b"\r\n{\"now\":\"2026-11-27T10:00:00+09:00\",\"user\":{\"userId\":\"U1\",\"displayName\":\"\xff\"}}\n");
    input.extend_from_slice(lines.next().unwrap().as_bytes());
    let out = kizuna_bytes(&["decide", "--config", "examples/skincare/config.json", "-"], &input);
    assert_eq!(out.status.code(), Some(1), "one context could not be decided");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let got: Vec<&str> = stdout.lines().map(|l| if l.starts_with("{\"error\"") { "error" } else { "decision" }).collect();
    assert_eq!(got, ["decision", "error", "decision"], "{stdout}");
    assert!(stdout.contains("\"message\":\"the context is not UTF-8 text (byte 0xff at column 73); save the file as UTF-8: kizuna does not read Shift_JIS or UTF-16\",\"path\":\"\",\"column\":73},\"line\":2}"), "{stdout}");
}

#[test]
fn decide_then_menus_skips_the_contexts_that_could_not_be_decided() {
    let contexts = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/skincare/contexts.ndjson")).unwrap();
    let decided = kizuna(&["decide", "--config", "examples/skincare/config.json", "-"], Some(&format!("{{\"now\": \"soon\"}}\n{contexts}")));
    let decisions = String::from_utf8(decided.stdout).unwrap();
    assert!(decisions.starts_with("{\"error\""), "{decisions}");
    let menus = kizuna(&["menus", "-"], Some(&decisions));
    assert!(menus.status.success(), "{}", String::from_utf8_lossy(&menus.stderr));
    assert!(String::from_utf8(menus.stdout).unwrap().contains("/v2/bot/richmenu/bulk/link"));
}

#[test]
fn a_full_disk_is_reported_and_a_closed_pipe_ends_quietly() {
    if std::path::Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_kizuna"))
            .args(["decide", "--config", "examples/skincare/config.json", "examples/skincare/contexts.ndjson"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write the output"));
    }
    // A reader that stops after one line (`| head -1`): no panic, no error.
    let contexts = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/skincare/contexts.ndjson")).unwrap();
    let mut child = spawn_kizuna(&["decide", "--config", "examples/skincare/config.json", "-"]);
    let mut stdin = child.stdin.take().unwrap();
    drop(child.stdout.take()); // the reader is gone before anything is written
    let writer = std::thread::spawn(move || {
        for _ in 0..500 {
            if stdin.write_all(contexts.as_bytes()).is_err() {
                break;
            }
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

/// The CLI's limit on one NDJSON line (without its line break): 16 MiB.
const MAX_LINE: usize = 16 << 20;

/// A context padded with spaces to exactly `len` bytes.
fn padded_context(user: &str, len: usize) -> Vec<u8> {
    let mut line = format!("{{\"now\": \"2026-11-27T10:30:00+09:00\", \"user\": {{\"userId\": \"{user}\"}}}}").into_bytes();
    line.resize(len, b' ');
    line
}

#[test]
fn decide_skips_a_line_over_16_mib_with_its_error_and_decides_the_next() {
    // (The exact boundary, CRLF and a long last line are tested on the reader in kizuna.rs, at
    // a small limit: deciding a 16 MiB context takes a second in a debug build.)
    let mut input = padded_context("U1", 80);
    input.push(b'\n');
    input.extend_from_slice(&padded_context("U2", MAX_LINE + 1));
    input.push(b'\n');
    input.extend_from_slice(&padded_context("U3", 80));
    let out = kizuna_bytes(&["decide", "--config", "examples/skincare/config.json", "-"], &input);
    assert_eq!(out.status.code(), Some(1), "a bad line fails the run as every bad line does");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 context(s) could not be decided"), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["userId"], "U1");
    assert_eq!(lines[1]["line"], 2);
    let e = &lines[1]["error"];
    assert_eq!((e["code"].as_str(), e["path"].as_str()), (Some("limit_exceeded"), Some("")), "{e}");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains(&format!("{} bytes", MAX_LINE + 1)) && message.contains("16 MiB") && message.contains("line break"), "{message}");
    assert_eq!(lines[2]["userId"], "U3", "the line after the long one is decided");
}

#[test]
fn menus_refuses_a_decision_line_over_16_mib_with_its_line() {
    let decided = kizuna(&["decide", "--config", "examples/skincare/config.json", "examples/skincare/contexts.ndjson"], None);
    let decisions = String::from_utf8(decided.stdout).unwrap();
    let mut input = decisions.lines().next().unwrap().as_bytes().to_vec();
    input.extend_from_slice(b"\n\n");
    input.resize(input.len() + MAX_LINE + 1, b' ');
    input.push(b'\n');
    input.extend_from_slice(decisions.as_bytes());
    let out = kizuna_bytes(&["menus", "-"], &input);
    assert_eq!(out.status.code(), Some(1), "a line that is not a decision fails the batch");
    assert!(out.stdout.is_empty(), "nothing is sent");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("line 3: /1 [limit_exceeded]: the line has 16777217 bytes"), "{err}");
}

#[test]
fn menus_tells_an_array_from_ndjson_past_leading_blank_lines_even_in_a_later_read() {
    let decided = kizuna(&["decide", "--config", "examples/skincare/config.json", "examples/skincare/contexts.ndjson"], None);
    let decisions = String::from_utf8(decided.stdout).unwrap();
    // One line, longer than an NDJSON line may be (padded inside the array).
    let array = format!("[{}{}]", " ".repeat(MAX_LINE), decisions.lines().collect::<Vec<_>>().join(","));
    // The blank line arrives alone (its own read of the pipe), then the array.
    let mut child = spawn_kizuna(&["menus", "-"]);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b" \n").unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    stdin.write_all(array.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), String::from_utf8(kizuna(&["menus", "-"], Some(&array)).stdout).unwrap());

    // NDJSON after blank lines: a line's number in a message counts the skipped lines.
    let mut input = b"\r\n\n".to_vec();
    input.resize(input.len() + MAX_LINE + 1, b'x');
    input.push(b'\n');
    let out = kizuna_bytes(&["menus", "-"], &input);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("line 3: /0 [limit_exceeded]"), "{err}");
}

/// A file under the system's temp dir, for inputs the repository has no example of.
fn temp_file(name: &str, bytes: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("kizuna-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

/// `check` whose readers are gone (`check … 2>&1 | head -1`): the exit code still says
/// whether the config has problems; no panic (exit 101).
#[test]
fn check_with_closed_pipes_keeps_its_exit_code() {
    for (args, want) in [(&["check", "examples/broken-config.json"][..], 1), (&["check", "--json", "examples/broken-config.json"][..], 1), (&["check", "examples/skincare/config.json"][..], 0)] {
        let mut child = spawn_kizuna(args);
        drop(child.stdout.take());
        drop(child.stderr.take());
        drop(child.stdin.take());
        assert_eq!(child.wait().unwrap().code(), Some(want), "{args:?}");
    }
}

#[test]
fn decide_refuses_a_config_and_contexts_both_from_stdin() {
    let config = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/skincare/config.json")).unwrap();
    for args in [&["decide", "--config", "-"][..], &["decide", "--config", "-", "-"][..]] {
        let mut child = spawn_kizuna(args);
        // It refuses before reading: the write may find the pipe closed.
        let _ = child.stdin.take().unwrap().write_all(config.as_bytes());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("only one input can be read from stdin"));
    }
}

/// A decision whose content failed to render (nothing is sent for it) is counted on stderr, apart
/// from other errors (its messages are there).
#[test]
fn decide_counts_the_decisions_that_carry_errors() {
    let config = temp_file("render-error.json", br#"{"version": 1, "contents": [{"id": "welcome", "on": ["follow"], "variants": [{"id": "a", "messages": [{"type": "text", "text": "{{ 10 | divided_by: user.attributes.n }}"}]}]}]}"#);
    let line = |n: u32| format!("{{\"now\": \"2026-11-27T10:30:00+09:00\", \"event\": {{\"type\": \"follow\"}}, \"user\": {{\"userId\": \"U{n}\", \"attributes\": {{\"n\": {n}}}}}}}\n");
    let out = kizuna(&["decide", "--config", &config, "-"], Some(&format!("{}{}{}", line(2), line(0), line(0))));
    assert_eq!(out.status.code(), Some(0), "every context was decided");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().filter(|l| l.contains("\"errors\":[")).count(), 2, "{stdout}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("2 decision(s) carry errors, the first for line 2 (see their \"errors\"; 2 of them chose a content that failed to render"), "{stderr}");
    // A segment that could not be judged is an error too, but its content was rendered and is sent
    // (review-salon22).
    let config = temp_file("segment-error.json", br#"{"version": 1, "segments": [{"id": "s", "when": {"days_since": [{"var": "user.attributes.d"}]}}], "contents": [{"id": "welcome", "on": ["follow"], "variants": [{"id": "a", "messages": [{"type": "text", "text": "hi"}]}]}]}"#);
    let out = kizuna(&["decide", "--config", &config, "-"], Some("{\"now\": \"2026-11-27T10:30:00+09:00\", \"event\": {\"type\": \"follow\"}, \"user\": {\"userId\": \"U1\", \"attributes\": {\"d\": \"bad\"}}}\n"));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("1 decision(s) carry errors, the first for line 1 (see their \"errors\")\n"), "{stderr}");
    assert!(String::from_utf8(out.stdout).unwrap().contains("\"messages\":["));
}

/// Pretty-printed JSON given as NDJSON: the errors end with how to convert it.
#[test]
fn decide_says_how_to_convert_pretty_printed_contexts() {
    let out = kizuna(&["decide", "--config", "examples/skincare/config.json", "-"], Some("{\n  \"now\": \"2026-11-27T10:30:00+09:00\",\n  \"user\": {\"userId\": \"U1\"}\n}\n"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("the first on line 1") && stderr.contains("jq -c ."), "{stderr}");
}

/// Files that are not UTF-8 (Shift_JIS from Excel, UTF-16 from Notepad) are a problem of the
/// input with its place and the fix, exit 1, not an I/O failure.
#[test]
fn a_config_that_is_not_utf8_is_a_problem_with_its_place() {
    let sjis = temp_file("sjis.json", b"{\"version\": 1,\n  \"segments\": [{\"id\": \"a\", \"description\": \"\x83\x65\x83\x58\x83\x67\"}]}");
    let out = kizuna(&["check", &sjis], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("[invalid_json]: the file is not UTF-8 text (byte 0x83 at line 2, column 44); save it as UTF-8"), "{stderr}");
    let utf16 = temp_file("utf16.json", b"\xff\xfe{\x00}\x00");
    let out = kizuna(&["check", "--json", &utf16], None);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["errors"][0]["code"].as_str(), report["errors"][0]["message"].as_str()), (Some("invalid_json"), Some("the file is UTF-16 text; save it as UTF-8")));
    // NDJSON for decide (line by line) and menus (whole) say the same (review-readme20).
    let utf16: Vec<u8> = "\u{feff}{\"now\":\"2026-11-27T10:00:00+09:00\",\"user\":{\"userId\":\"U1\"}}\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let out = kizuna(&["decide", "--config", "examples/skincare/config.json", &temp_file("u16.ndjson", &utf16)], None);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.lines().all(|l| l.contains("the line is UTF-16 text; save the file as UTF-8")), "{stdout}");
    let out = kizuna(&["menus", &temp_file("sjis.ndjson", b"{\"x\": \"\x83\x65\"}\n")], None);
    assert_eq!(out.status.code(), Some(1), "a problem of the input, not an I/O failure");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("[invalid_json]: the file is not UTF-8 text (byte 0x83 at line 1, column 8); save it as UTF-8"), "{stderr}");
}

/// `render` and `eval` name the input at fault, and a template's position is in the template.
#[test]
fn render_and_eval_name_the_input_at_fault() {
    let template = temp_file("t.liquid", b"{{ user.name }}\n{% if x %}a{% endfi %}");
    let out = kizuna(&["render", &template, "-"], Some("{\"user\": "));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("stdin: [invalid_json]: the data is not valid JSON"), "{stderr}");
    let out = kizuna(&["render", &template, "--now", "soon"], None);
    assert!(String::from_utf8(out.stderr).unwrap().starts_with("--now: [invalid_timestamp]"));
    let out = kizuna(&["render", &template], None);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with(&format!("{template}: [unknown_tag]: unknown tag 'endfi' (did you mean 'endif'?) (line 2, column 12 of the template)")), "{stderr}");
    let rule = temp_file("rule.json", b"{\"var\": \"a\"}");
    let out = kizuna(&["eval", &rule, "-"], Some("{\"a\":"));
    assert!(String::from_utf8(out.stderr).unwrap().starts_with("stdin: [invalid_json]"));
}

/// An empty input decides nothing, exit 0, and says so (a wrong path, an empty export).
#[test]
fn decide_says_when_there_were_no_contexts() {
    let out = kizuna(&["decide", "--config", "examples/skincare/config.json", "-"], Some("\n\n"));
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "kizuna: no contexts in stdin\n");
}

/// A required field given as null is said to be null, not missing.
#[test]
fn a_null_required_field_is_called_null() {
    let config = temp_file("null-when.json", br#"{"version": 1, "segments": [{"id": "a", "when": null}]}"#);
    let out = kizuna(&["check", &config], None);
    assert!(String::from_utf8(out.stderr).unwrap().contains("/segments/0 [missing_field]: the required field \"when\" is null"));
}

/// A record that is not a decision stops `menus` with its line in the file, as a line over the
/// limit does (README: "stops with the line's number"), blank lines before it counted.
#[test]
fn menus_names_the_line_of_a_record_that_is_not_a_decision() {
    let good = r#"{"userId":"U1","decisionId":"a","richMenu":{"action":"none"}}"#;
    let input = format!("\n \r\n{good}\n\n{{\"userId\": oops}}\n{good}\n");
    let out = kizuna(&["menus", "-"], Some(&input));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing is sent");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("line 5: /1 [invalid_value]: record 2 is not a decision"), "{err}");
    let input = format!("{good}\n{}\n", r#"{"userId":"U2","decisionId":"b","richMenu":{"action":"link"}}"#);
    let err = String::from_utf8(kizuna(&["menus", "-"], Some(&input)).stderr).unwrap();
    assert!(err.contains("line 2: /1 [invalid_value]: record 2 is not a decision: a link needs \"richMenu.richMenuId\""), "{err}");
}

/// A data file saved with a byte-order mark (Notepad's "UTF-8 with BOM", Excel's "CSV UTF-8")
/// is read as `decide` reads a context with one: its `now` is the moment, and a template saved
/// so prints no mark.
#[test]
fn eval_and_render_read_files_with_a_byte_order_mark() {
    let data = temp_file("bom-data.json", "\u{feff}{\"now\": \"2026-01-10T09:00:00+09:00\", \"at\": \"2026-01-01T09:00:00+09:00\"}".as_bytes());
    let rule = temp_file("bom-rule.json", br#"{"days_since": [{"var": "at"}]}"#);
    let out = kizuna(&["eval", &rule, &data], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "9");
    let template = temp_file("bom.liquid", "\u{feff}{{ now | date: '%-m/%-d' }} {{ at | date: '%-m/%-d' }}".as_bytes());
    let out = kizuna(&["render", &template, &data], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "1/10 1/1");
}

/// `--segment` with `--explain`: a decision of the segment is written whatever its trace quotes
/// (a purchase with deeply nested custom data), not counted as outside the segment.
#[test]
fn decide_segment_with_explain_keeps_a_decision_whose_trace_nests_deep() {
    let deep = format!("{}{}", "[".repeat(124), "]".repeat(124));
    let context = format!("{{\"now\":\"2026-11-27T10:30:00+09:00\",\"user\":{{\"userId\":\"Udeep\",\"purchases\":[{{\"at\":\"2026-11-01T00:00:00+09:00\",\"amount\":100,\"x\":{deep}}}]}}}}\n");
    let all = kizuna(&["decide", "--explain", "--config", "examples/skincare/config.json", "-"], Some(&context));
    assert!(all.status.success(), "{}", String::from_utf8_lossy(&all.stderr));
    assert!(String::from_utf8_lossy(&all.stdout).contains("\"segments\":[\"first_time\""), "the user is in first_time");
    let out = kizuna(&["decide", "--explain", "--config", "examples/skincare/config.json", "--segment", "first_time", "-"], Some(&context));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, all.stdout, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `kizuna menus` writes LINE's requests as the library (and the npm package's `bulkRequests`)
/// gives them, each request's keys in their order.
#[test]
fn menus_writes_the_requests_as_the_library_gives_them() {
    let decided = kizuna(&["decide", "--config", "examples/skincare/config.json", "examples/skincare/contexts.ndjson"], None);
    let decisions = String::from_utf8(decided.stdout).unwrap();
    let json = kizuna::engine::bulk_requests_json(&decisions).unwrap();
    let requests: Vec<Box<serde_json::value::RawValue>> = serde_json::from_str(&json).unwrap();
    let want: String = requests.iter().map(|r| format!("{}\n", r.get())).collect();
    assert!(want.starts_with("{\"method\":\"POST\",\"path\":\"/v2/bot/richmenu/bulk/link\",\"body\":"), "{want}");
    let out = kizuna(&["menus", "-"], Some(&decisions));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
}

/// A directory given as the contexts: the message names it, as for the config.
#[test]
fn decide_names_a_directory_given_as_the_contexts() {
    let dir = std::env::temp_dir();
    let out = kizuna(&["decide", "--config", "examples/skincare/config.json", dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with(&format!("kizuna: cannot read {}", dir.display())), "{stderr}");
}

/// Every argument says what it takes in `--help`, `menus`' input too.
#[test]
fn menus_help_says_what_its_input_is() {
    let out = kizuna(&["menus", "--help"], None);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let line = help.lines().find(|l| l.trim_start().starts_with("[DECISIONS]")).unwrap_or_default();
    assert!(line.contains("kizuna decide") && line.contains('-'), "{help}");
}

/// `kizuna pushes`: each decision with messages becomes the push request `pushRequest` of the npm
/// package's `kizuna/line` makes (the same retry key, body and unit); the rest is counted.
#[test]
fn pushes_turns_a_campaigns_decisions_into_the_push_requests_kizuna_line_makes() {
    let contexts = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/skincare/contexts.ndjson")).unwrap();
    let decided = kizuna(&["decide", "--config", "examples/skincare/config.json", "--content", "recommendations", "-"], Some(&format!("{{\"now\": \"soon\"}}\n{contexts}")));
    let decisions = String::from_utf8(decided.stdout).unwrap();
    // One decision without messages (nothing rendered), as a content whose variants all fail to apply leaves it.
    let silent = r#"{"version":1,"decisionId":"0123456789abcdef0123456789abcdef","userId":"U0123456789abcdef0123456789abcdef","segments":[]}"#;
    let input = format!("{decisions}\n{silent}\n");
    let out = kizuna(&["pushes", "-"], Some(&input));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("20 push request(s); skipped 1 decision(s) without messages and 1 error line(s) of contexts that were not decided"), "{stderr}");
    let requests: Vec<serde_json::Value> = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let decided: Vec<serde_json::Value> = decisions.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).filter(|d| d.get("decisionId").is_some()).collect();
    assert_eq!(requests.len(), decided.len());
    for (r, d) in requests.iter().zip(&decided) {
        assert_eq!(r["body"]["to"], d["userId"]);
        assert_eq!(r["body"]["messages"], d["messages"]);
        assert_eq!(r["body"]["customAggregationUnits"], serde_json::json!([d["content"]["aggregationUnit"]]));
    }
    // The same requests as kizuna/line's pushRequest, run by Node on the same lines.
    let script = format!(
        "import {{ pushRequest }} from {:?}; let t = ''; for await (const c of process.stdin) t += c; \
         for (const l of t.split('\\n').filter(Boolean)) {{ const d = JSON.parse(l); if (d.decisionId) {{ const r = pushRequest(d); if (r) console.log(JSON.stringify(r)); }} }}",
        concat!(env!("CARGO_MANIFEST_DIR"), "/pkg/line.js")
    );
    let mut node = Command::new("node").args(["--input-type=module", "-e", &script]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("node");
    node.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let js: Vec<serde_json::Value> = String::from_utf8(node.wait_with_output().unwrap().stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(js, requests, "kizuna pushes and kizuna/line's pushRequest disagree");
}

#[test]
fn pushes_stops_at_a_line_that_is_no_decision_after_the_requests_before_it() {
    let ok = r#"{"decisionId":"0123456789abcdef0123456789abcdef","userId":"U0123456789abcdef0123456789abcdef","messages":[{"type":"text","text":"a"}]}"#;
    let out = kizuna(&["pushes", "-"], Some(&format!("{ok}\n\n{{\"userId\": \"U1\"}}\n{ok}\n")));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1, "the request before the bad line");
    assert!(String::from_utf8(out.stderr).unwrap().contains("line 3: not a decision (no \"decisionId\")"));
    let key = r#"{"method":"POST","path":"/v2/bot/message/push","headers":{"X-Line-Retry-Key":"01234567-89ab-4def-8123-456789abcdef"},"body":{"to":"U0123456789abcdef0123456789abcdef","messages":[{"type":"text","text":"a"}]}}"#;
    assert_eq!(String::from_utf8(kizuna(&["pushes", "-"], Some(ok)).stdout).unwrap().trim_end(), key);
    let out = kizuna(&["pushes", "-"], Some(&ok.replace("0123456789abcdef0123456789abcdef\",\"userId", "d-1\",\"userId")));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("is not the 32 hex digits kizuna writes"));
    let out = kizuna(&["pushes", "-"], Some("[1, 2]\n"));
    assert_eq!(out.status.code(), Some(1));
}
