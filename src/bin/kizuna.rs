//! The native CLI: check a config, decide NDJSON contexts, batch rich-menu links, evaluate one
//! rule, render one template.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    /// A line on stderr. Unlike `eprintln!`, it does not panic when stderr is a closed pipe
    /// (`kizuna check … 2>&1 | head -1`): the message is lost, the exit code still says it.
    macro_rules! say {
        ($($arg:tt)*) => {{
            let _ = writeln!(std::io::stderr().lock(), $($arg)*);
        }};
    }

    use clap::{Parser, Subcommand};
    use indicatif::{ProgressBar, ProgressStyle};
    use kizuna::engine::{DecideOptions, Engine};
    use kizuna::Error;
    use std::io::{BufRead, BufWriter, IsTerminal, Read, Write};
    use std::process::ExitCode;

    #[derive(Parser)]
    #[command(
        name = "kizuna",
        version,
        about = "Rule engine for LINE Official Account marketing",
        after_help = "Exit codes: 0 done; 1 the input has problems (each printed with its JSON pointer); \
                      2 a file cannot be read or written, or the command line is wrong.\n\
                      Wherever a file is named, - reads stdin (one input per command)."
    )]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
        /// Check a config; print every problem with its JSON pointer (on stderr); exit 1 if there are any.
        /// A config that compiles may still get warnings (on stderr, "warning:"), which never fail the check:
        /// a rule or template reading a field kizuna's Context does not define (unknown_context_field),
        /// a variant, rich-menu rule, default menu or content never used (unreachable).
        Check {
            /// The config (JSON file, or - for stdin).
            config: String,
            /// One JSON object on stdout instead of text, for CI and editors:
            /// {"ok": true, "configHash", counts, "warnings": [...]} or {"ok": false, "errors": [{code, message, path, line?, column?, at?}]}
            /// (line/column: inside a template, or the JSON syntax error's; at: {line, column} in the file;
            /// warnings have the shape of errors, and are looked for only once the config compiles: no
            /// "warnings" key when ok is false).
            #[arg(long)]
            json: bool,
        },
        /// Decide for NDJSON contexts (a file, or - for stdin); NDJSON decisions to stdout.
        /// Decisions that carry errors (a template that failed: nothing to send) are counted on stderr.
        Decide {
            /// The config (JSON file, or - for stdin when the contexts come from a file).
            #[arg(long)]
            config: String,
            /// Contexts, one JSON object per line ("-" or nothing: stdin).
            contexts: Option<String>,
            /// Add the explain trace to each decision.
            #[arg(long)]
            explain: bool,
            /// Render this content for every context (a push campaign), whatever their event:
            /// its first variant that applies (none: no messages).
            #[arg(long, value_name = "ID")]
            content: Option<String>,
            /// Write only the decisions whose segments list this one (a campaign's audience; in an
            /// exclusive group, the users it won for); the others are counted on stderr.
            #[arg(long, value_name = "ID")]
            segment: Option<String>,
        },
        /// Group the rich-menu actions of NDJSON decisions (a file, or -) into LINE's bulk
        /// link / unlink requests of at most 500 users, one JSON request per line.
        Menus {
            /// Decisions as `kizuna decide` writes them, one per line, or a JSON array ("-" or nothing: stdin).
            decisions: Option<String>,
        },
        /// Turn NDJSON decisions (a file, or -) into LINE push requests, one JSON request per line:
        /// {"method", "path", "headers": {"X-Line-Retry-Key"}, "body": {"to", "messages", "customAggregationUnits"?}}.
        /// The retry key comes from the decisionId, so a run repeated after a failure makes the same
        /// keys and LINE sends each push once. Decisions without messages (and the error lines of
        /// `kizuna decide`) are skipped and counted on stderr.
        Pushes {
            /// Decisions as `kizuna decide` writes them, one per line ("-" or nothing: stdin).
            decisions: Option<String>,
        },
        /// Render a Liquid template (file or -) against data (JSON file or -; default {}).
        Render {
            /// The template (file, or -).
            template: String,
            /// The data the template reads (JSON file, or -).
            data: Option<String>,
            /// What "now" means in the template (RFC 3339): `'now' | date`, and the `now` variable
            /// when the data (an object) has none; default: the data's `now`, else the clock.
            #[arg(long)]
            now: Option<String>,
            /// Render in this config's time zone and locale, as its contents print dates
            /// (default: +09:00, English names).
            #[arg(long)]
            config: Option<String>,
        },
        /// Evaluate one JsonLogic rule (file or -) against data (file or -; default null).
        Eval {
            /// The rule (JSON file, or -).
            rule: String,
            /// The data the rule reads (JSON file, or -).
            data: Option<String>,
            /// The moment time operators see (RFC 3339); default: the data's `now` (a context's),
            /// else the clock.
            #[arg(long)]
            now: Option<String>,
            /// Evaluate in this config's time zone, as `decide` does (default: +09:00).
            #[arg(long)]
            config: Option<String>,
        },
    }

    /// Why an input was not taken.
    enum ReadError {
        /// The file (or stdin) could not be read: exit 2.
        Io(String),
        /// It was read but is not UTF-8 text: a problem of the input, exit 1.
        NotText(Error),
    }

    /// A whole input (a file, or - for stdin) as text, without the byte-order mark some editors
    /// write at its start (Notepad, Excel's "CSV UTF-8"): it is no part of a rule, data or
    /// template, as it is no part of a context line.
    fn read_input(name: &str) -> Result<String, ReadError> {
        let mut bytes = Vec::new();
        let read = if name == "-" { std::io::stdin().read_to_end(&mut bytes).map(|_| ()) } else { std::fs::File::open(name).and_then(|mut f| f.read_to_end(&mut bytes)).map(|_| ()) };
        read.map_err(|e| ReadError::Io(format!("cannot read {}: {e}", label(name))))?;
        let mut text = String::from_utf8(bytes).map_err(|e| ReadError::NotText(not_text(e.as_bytes(), e.utf8_error().valid_up_to(), 0)))?;
        if text.starts_with('\u{feff}') {
            text.drain(..'\u{feff}'.len_utf8());
        }
        Ok(text)
    }

    /// The problem of an input that is not UTF-8, where its first bad byte is. Japanese
    /// marketers meet it from Excel or Notepad (Shift_JIS, UTF-16), so the message names them.
    /// `lines_before`: lines of the input before `bytes` (0 for a whole file).
    fn not_text(bytes: &[u8], valid_up_to: usize, lines_before: usize) -> Error {
        if utf16(bytes) {
            Error::new(kizuna::Code::InvalidJson, "", "the file is UTF-16 text; save it as UTF-8")
        } else {
            let (byte, before) = bad_byte(bytes, valid_up_to);
            let (line, column) = locate::line_column(before);
            let line = line + lines_before;
            let mut e = Error::new(
                kizuna::Code::InvalidJson,
                "",
                format!("the file is not UTF-8 text (byte 0x{byte:02x} at line {line}, column {column}); save it as UTF-8: kizuna does not read Shift_JIS or UTF-16"),
            );
            (e.line, e.column) = (u32::try_from(line).ok(), u32::try_from(column).ok());
            e
        }
    }

    /// Text that starts with a UTF-16 byte-order mark.
    fn utf16(bytes: &[u8]) -> bool {
        bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF])
    }

    /// The first byte that is not UTF-8 (at `valid_up_to`), and the text before it.
    fn bad_byte(bytes: &[u8], valid_up_to: usize) -> (u8, &str) {
        // The text before the first bad byte is UTF-8 by definition.
        let before = std::str::from_utf8(bytes.get(..valid_up_to).unwrap_or_default()).unwrap_or_default();
        (bytes.get(valid_up_to).copied().unwrap_or(0), before)
    }

    /// [`not_text`] for one NDJSON line: the column of its first bad byte. A UTF-16 file read
    /// as lines starts with its byte-order mark, or has NUL bytes in every line.
    fn line_not_text(bytes: &[u8], valid_up_to: usize) -> Error {
        if utf16(bytes) || bytes.contains(&0) {
            return Error::new(kizuna::Code::InvalidJson, "", "the line is UTF-16 text; save the file as UTF-8");
        }
        let (byte, before) = bad_byte(bytes, valid_up_to);
        let column = before.chars().count() + 1;
        let message = format!("the context is not UTF-8 text (byte 0x{byte:02x} at column {column}); save the file as UTF-8: kizuna does not read Shift_JIS or UTF-16");
        let mut e = Error::new(kizuna::Code::InvalidJson, "", message);
        e.column = u32::try_from(column).ok();
        e
    }

    /// The longest NDJSON line (one context or decision, without its line break) the CLI
    /// reads. A context is a few KiB; the cap keeps a file without line breaks (a broken
    /// export, a binary file) from taking all memory: a longer line is read past in bounded
    /// memory, never kept, and becomes that line's `limit_exceeded` error.
    const MAX_LINE_BYTES: usize = 16 << 20;

    /// One line of NDJSON input.
    enum Line<'a> {
        /// Its bytes, without the line break (`\n` or `\r\n`) and, on line 1, a byte-order mark.
        Text(&'a [u8]),
        /// Longer than the limit: its `limit_exceeded` error.
        TooLong(Error),
    }

    /// NDJSON input read line by line, keeping at most `max` bytes of any line.
    struct Lines {
        input: Box<dyn BufRead>,
        buf: Vec<u8>,
        max: usize,
        /// What one line holds, for messages ("context").
        what: &'static str,
        /// 1-based number of the line last returned.
        number: usize,
    }

    impl Lines {
        /// The next line and its 1-based number; `None` at the end of the input.
        fn next(&mut self) -> std::io::Result<Option<(usize, Line<'_>)>> {
            self.buf.clear();
            let (mut len, mut last, mut any) = (0u64, None, false);
            // One byte of room past `max` for the `\r` of a CRLF line.
            let keep = u64::try_from(self.max).unwrap_or(u64::MAX).saturating_add(1);
            loop {
                let chunk = match self.input.fill_buf() {
                    Ok(c) => c,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                if chunk.is_empty() {
                    break;
                }
                any = true;
                let end = chunk.iter().position(|&b| b == b'\n');
                let part = chunk.get(..end.unwrap_or(chunk.len())).unwrap_or_default();
                len += part.len() as u64;
                last = part.last().copied().or(last);
                if len <= keep {
                    self.buf.extend_from_slice(part);
                } else {
                    self.buf.clear();
                }
                let used = part.len() + usize::from(end.is_some());
                self.input.consume(used);
                if end.is_some() {
                    break;
                }
            }
            if !any {
                return Ok(None);
            }
            self.number += 1;
            if last == Some(b'\r') {
                len -= 1;
                self.buf.pop();
            }
            if len > self.max as u64 {
                return Ok(Some((self.number, Line::TooLong(too_long(len, self.max, self.what)))));
            }
            // A byte-order mark some editors write at the start of a file.
            let bom = self.number == 1 && self.buf.starts_with("\u{feff}".as_bytes());
            Ok(Some((self.number, Line::Text(self.buf.get(if bom { 3 } else { 0 }..).unwrap_or_default()))))
        }
    }

    impl Lines {
        /// Runs `each` on every non-blank line (its 1-based number and text), for the commands
        /// that stop at the first line they cannot take (`menus`, `pushes`): a read failure is
        /// said on stderr (exit 2), as is a line over the limit, with its record's index as
        /// path, or one that is not UTF-8 (exit 1); `each` stops the run with its own code.
        fn for_each_record(&mut self, label: &str, mut each: impl FnMut(usize, &str) -> Result<(), ExitCode>) -> Result<(), ExitCode> {
            let mut records = 0usize;
            loop {
                let (n, line) = match self.next() {
                    Ok(Some(l)) => l,
                    Ok(None) => return Ok(()),
                    Err(e) => {
                        say!("kizuna: cannot read {label}: {e}");
                        return Err(ExitCode::from(2));
                    }
                };
                match line {
                    Line::Text(bytes) => {
                        let text = std::str::from_utf8(bytes).map_err(|e| {
                            // Said as for a whole file.
                            say!("kizuna: {label}: {}", not_text(bytes, e.valid_up_to(), n - 1));
                            ExitCode::from(1)
                        })?;
                        if !text.trim().is_empty() {
                            records += 1;
                            each(n, text)?;
                        }
                    }
                    Line::TooLong(mut e) => {
                        e.path = format!("/{records}");
                        say!("kizuna: line {n}: {e}");
                        return Err(ExitCode::from(1));
                    }
                }
            }
        }
    }

    /// NDJSON from a file, or stdin for `None` and `-`.
    fn open_lines(name: Option<&str>, what: &'static str) -> Result<Lines, ExitCode> {
        let input: Box<dyn BufRead> = match name {
            None | Some("-") => Box::new(std::io::stdin().lock()),
            Some(path) => match std::fs::File::open(path) {
                Ok(f) => Box::new(std::io::BufReader::new(f)),
                Err(e) => {
                    say!("kizuna: cannot read {path}: {e}");
                    return Err(ExitCode::from(2));
                }
            },
        };
        Ok(Lines { input, buf: Vec::new(), max: MAX_LINE_BYTES, what, number: 0 })
    }

    /// The error of a line over the limit; `what` is what a line holds ("context").
    fn too_long(len: u64, max: usize, what: &str) -> Error {
        let message = format!(
            "the line has {len} bytes, more than the {max} ({} MiB) kizuna reads as one {what}, so it was not read; \
             a {what} is normally a few KiB: check that every {what} ends with a line break",
            max >> 20
        );
        Error::new(kizuna::Code::LimitExceeded, "", message)
    }

    /// `kizuna menus`: the bulk requests of the decisions in `name`. NDJSON
    /// streams through a [`kizuna::engine::BulkBatch`] line by line (it keeps each user's last
    /// target, not the decisions: a batch of explained decisions quotes whole contexts); a line
    /// over the line limit fails the batch like any record that is not a decision. A JSON
    /// array is one document, read whole.
    fn batch_decisions(name: Option<&str>) -> Result<Vec<kizuna::engine::BulkRequest>, ExitCode> {
        let label = label(name.unwrap_or("-"));
        let fail = |e: std::io::Error| {
            say!("kizuna: cannot read {label}: {e}");
            ExitCode::from(2)
        };
        let refused = |e: Error| {
            match e.line {
                Some(n) => say!("kizuna: line {n}: {e}"),
                None => say!("kizuna: {e}"),
            }
            ExitCode::from(1)
        };
        let mut lines = open_lines(name, "decision")?;
        // Told apart as `bulk_requests_json` does, by the first byte that is not whitespace.
        // Leading whitespace means nothing in either format, and a pipe's first read may hold
        // nothing else (a line break): it is skipped, its line breaks counted for messages.
        let mut start = true;
        let first = loop {
            let head = lines.input.fill_buf().map_err(fail)?;
            if head.is_empty() {
                break None;
            }
            let bom = if start && head.starts_with("\u{feff}".as_bytes()) { 3 } else { 0 };
            start = false;
            let rest = head.get(bom..).unwrap_or_default();
            let ws = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
            let breaks = rest.iter().take(ws).filter(|&&b| b == b'\n').count();
            let first = rest.get(ws).copied();
            lines.input.consume(bom + ws);
            lines.number += breaks;
            if first.is_some() {
                break first;
            }
        };
        if first == Some(b'[') {
            let mut text = Vec::new();
            lines.input.read_to_end(&mut text).map_err(fail)?;
            let text = String::from_utf8(text).map_err(|e| {
                // Not UTF-8 is a problem of the input (exit 1), said as for a whole file.
                say!("kizuna: {label}: {}", not_text(e.as_bytes(), e.utf8_error().valid_up_to(), lines.number));
                ExitCode::from(1)
            })?;
            return kizuna::engine::BulkBatch::from_json(&text).map(kizuna::engine::BulkBatch::requests).map_err(refused);
        }
        let mut batch = kizuna::engine::BulkBatch::default();
        lines.for_each_record(label, |n, text| batch.add_json(text, u32::try_from(n).ok()).map_err(refused))?;
        Ok(batch.requests())
    }

    /// The X-Line-Retry-Key of a decision's push: its decisionId's 32 hex digits in UUID
    /// layout, with the version nibble 4 and the variant's top bits 10 (as `retryKeyFor` of the
    /// npm package's `kizuna/line` makes it; tests/cli.rs holds the two to the same keys).
    /// `None` for an id that is not 32 hex digits (kizuna writes no other).
    fn retry_key(decision_id: &str) -> Option<String> {
        let hex = decision_id.to_ascii_lowercase();
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let variant = u8::from_str_radix(hex.get(16..17)?, 16).ok()? & 0x3 | 0x8;
        Some(format!("{}-{}-4{}-{variant:x}{}-{}", hex.get(..8)?, hex.get(8..12)?, hex.get(13..16)?, hex.get(17..20)?, hex.get(20..)?))
    }

    /// What `kizuna pushes` reads of a decision (the rest is not parsed: messages stay as written).
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct PushRecord<'a> {
        user_id: Option<String>,
        decision_id: Option<String>,
        #[serde(borrow)]
        messages: Option<Vec<&'a serde_json::value::RawValue>>,
        content: Option<PushContent>,
        #[serde(borrow)]
        error: Option<&'a serde_json::value::RawValue>,
        #[serde(borrow)]
        errors: Option<&'a serde_json::value::RawValue>,
    }

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct PushContent {
        aggregation_unit: Option<String>,
    }

    /// `kizuna pushes`: one push request per decision with messages, streamed as read. A line that
    /// is not a decision stops the run (exit 1) after the requests before it, which stay valid:
    /// run it again once mended, and their retry keys keep LINE from sending them twice.
    fn pushes(name: Option<&str>) -> ExitCode {
        let label = label(name.unwrap_or("-"));
        let mut lines = match open_lines(name, "decision") {
            Ok(l) => l,
            Err(code) => return code,
        };
        let mut out = BufWriter::new(std::io::stdout().lock());
        let (mut written, mut silent, mut failed_renders, mut undecided) = (0usize, 0usize, 0usize, 0usize);
        let mut request = String::new();
        let run = lines.for_each_record(label, |n, text| {
            let refuse = |why: &str| {
                say!("kizuna: line {n}: not a decision ({why}); each line must be a decision as `kizuna decide` writes it");
                ExitCode::from(1)
            };
            let record: PushRecord = match serde_json::from_str(text) {
                Ok(r) => r,
                Err(e) => return Err(refuse(&format!("{e}"))),
            };
            let (user_id, decision_id) = match (record.user_id, record.decision_id) {
                (Some(u), Some(d)) => (u, d),
                // `kizuna decide`'s line for a context it could not decide.
                (_, None) if record.error.is_some() => {
                    undecided += 1;
                    return Ok(());
                }
                (None, _) => return Err(refuse("no \"userId\"")),
                (_, None) => return Err(refuse("no \"decisionId\"")),
            };
            let messages = record.messages.unwrap_or_default();
            if messages.is_empty() {
                silent += 1;
                failed_renders += usize::from(record.errors.is_some());
                return Ok(());
            }
            let Some(key) = retry_key(&decision_id) else {
                return Err(refuse("its \"decisionId\" is not the 32 hex digits kizuna writes"));
            };
            request.clear();
            request.push_str("{\"method\":\"POST\",\"path\":\"/v2/bot/message/push\",\"headers\":{\"X-Line-Retry-Key\":\"");
            request.push_str(&key);
            request.push_str("\"},\"body\":{\"to\":");
            request.push_str(&serde_json::Value::from(user_id).to_string());
            request.push_str(",\"messages\":[");
            for (i, m) in messages.iter().enumerate() {
                if i > 0 {
                    request.push(',');
                }
                request.push_str(m.get());
            }
            request.push(']');
            if let Some(unit) = record.content.and_then(|c| c.aggregation_unit) {
                request.push_str(",\"customAggregationUnits\":[");
                request.push_str(&serde_json::Value::from(unit).to_string());
                request.push(']');
            }
            request.push_str("}}");
            writeln!(out, "{request}").map_err(|e| write_failed(&e))?;
            written += 1;
            Ok(())
        });
        if let Err(code) = run {
            return code;
        }
        if let Err(e) = out.flush() {
            return write_failed(&e);
        }
        if silent + undecided > 0 {
            let mut skipped = Vec::new();
            if silent > 0 {
                let renders = if failed_renders > 0 { format!(" ({failed_renders} of them a content that failed to render: see their \"errors\")") } else { String::new() };
                skipped.push(format!("{silent} decision(s) without messages{renders}"));
            }
            if undecided > 0 {
                skipped.push(format!("{undecided} error line(s) of contexts that were not decided"));
            }
            say!("kizuna: {written} push request(s); skipped {}", skipped.join(" and "));
        } else if written == 0 {
            say!("kizuna: no decisions in {label}");
        }
        ExitCode::SUCCESS
    }

    /// Reads a main input and optional data (each a file or -), the data defaulting to `empty`.
    fn read_pair(main: &str, data: Option<&str>, empty: &str) -> Result<(String, String), ExitCode> {
        if main == "-" && data == Some("-") {
            say!("kizuna: only one input can be read from stdin");
            return Err(ExitCode::from(2));
        }
        let read = |name: &str| {
            read_input(name).map_err(|e| match e {
                ReadError::Io(e) => {
                    say!("kizuna: {e}");
                    ExitCode::from(2)
                }
                ReadError::NotText(e) => {
                    print_problems(label(name), &[e]);
                    ExitCode::from(1)
                }
            })
        };
        let main = read(main)?;
        let data = data.map(read).transpose()?.unwrap_or_else(|| empty.to_string());
        Ok((main, data))
    }

    /// How messages name an input: its path, or "stdin" for -.
    fn label(name: &str) -> &str {
        if name == "-" {
            "stdin"
        } else {
            name
        }
    }

    /// What `kizuna render` and `kizuna eval` run: (input, data, now) → output.
    type Playground<'a> = dyn Fn(&str, &str, &str) -> Result<String, Vec<Error>> + 'a;

    /// `kizuna render` and `kizuna eval`: read the input and its data, run `f` at `now`
    /// (default: the clock), print the result or the problems.
    fn playground(
        input: &str,
        data: Option<&str>,
        empty: &str,
        now: Option<String>,
        f: &Playground<'_>,
        newline: bool,
        add_now: bool,
    ) -> ExitCode {
        let (input_text, data_text) = match read_pair(input, data, empty) {
            Ok(p) => p,
            Err(code) => return code,
        };
        // Without --now, the data's own `now` (a context line taken from `decide`'s input gives
        // the answer `decide` gave), else the clock.
        let data_json = serde_json::from_str::<serde_json::Value>(&data_text).ok();
        let data_now = data_json
            .as_ref()
            .and_then(|d| d.get("now")?.as_str())
            .filter(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok())
            .map(str::to_string);
        let now = now.or(data_now).unwrap_or_else(|| chrono::Local::now().fixed_offset().to_rfc3339());
        // A template reads `now` as a content template does (a Context always has one): data
        // without it gets this moment, written into the text (a serde round trip would sort the
        // keys a `for` walks and round big numbers).
        let data_text = match data_json {
            Some(serde_json::Value::Object(m)) if add_now && !m.contains_key("now") => {
                let rest = data_text.trim_start().trim_start_matches('\u{feff}').trim_start().strip_prefix('{').unwrap_or("}");
                let sep = if m.is_empty() { "" } else { "," };
                format!("{{\"now\":{}{sep}{rest}", serde_json::Value::String(now.clone()))
            }
            _ => data_text,
        };
        // The problems name the input at fault: the data when it is not JSON, --now when it is
        // not a timestamp (the engine checks both first), else the template or rule.
        let at_fault = if kizuna::value::parse(&data_text).is_err() {
            label(data.unwrap_or("-"))
        } else if chrono::DateTime::parse_from_rfc3339(&now).is_err() {
            "--now"
        } else {
            label(input)
        };
        match f(&input_text, &data_text, &now) {
            Ok(out) => {
                let mut stdout = std::io::stdout().lock();
                let written = stdout.write_all(out.as_bytes()).and_then(|()| if newline { stdout.write_all(b"\n") } else { Ok(()) });
                match written.and_then(|()| stdout.flush()) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => write_failed(&e),
                }
            }
            Err(errors) => {
                print_problems(at_fault, &errors);
                ExitCode::from(1)
            }
        }
    }

    /// The engine of `--config`, if given, for `eval` and `render`: its problems are printed as
    /// `check` prints them (exit 1). Only one input may come from stdin.
    fn with_config(config: Option<&str>, inputs: &[Option<&str>]) -> Result<Option<Engine>, ExitCode> {
        let Some(config) = config else { return Ok(None) };
        if config == "-" && inputs.contains(&Some("-")) {
            say!("kizuna: only one input can be read from stdin: give the config as a file");
            return Err(ExitCode::from(2));
        }
        compile(config).map(Some)
    }

    /// A failed write to stdout: a reader that stopped reading (`| head`) ends the command
    /// quietly and successfully; anything else (a full disk) is reported.
    fn write_failed(e: &std::io::Error) -> ExitCode {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return ExitCode::SUCCESS;
        }
        say!("kizuna: cannot write the output: {e}");
        ExitCode::from(2)
    }

    fn print_problems(file: &str, errors: &[Error]) {
        for e in errors {
            say!("{file}: {e}");
        }
    }

    /// A config's problems as `file:line:column: …` (the form editors and terminals link), the
    /// place found from each problem's JSON pointer in the config's text.
    fn print_config_problems(file: &str, text: &str, errors: &[Error]) {
        print_located(file, text, errors, "");
    }

    /// [`print_config_problems`] for warnings: `file:line:column: warning: …`, as compilers
    /// write them (editors' problem matchers tell them from errors by the word).
    fn print_config_warnings(file: &str, text: &str, warnings: &[Error]) {
        print_located(file, text, warnings, "warning: ");
    }

    fn print_located(file: &str, text: &str, errors: &[Error], kind: &str) {
        for e in errors {
            match locate::position(text, e) {
                Some((line, column)) => say!("{file}:{line}:{column}: {kind}{e}"),
                None => say!("{file}: {kind}{e}"),
            }
        }
    }

    /// Where a problem is in the text of the document it was found in.
    mod locate {
        use kizuna::{Code, Error};

        /// 1-based line and column (in characters) of problem `e` in `text`: a JSON syntax
        /// error's own, else the start of the value at its pointer or, for a template's
        /// position, that character inside the template's string.
        pub fn position(text: &str, e: &Error) -> Option<(usize, usize)> {
            // Pointers are found past a byte-order mark (the engine skips it too).
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            if e.code == Code::InvalidJson {
                return Some((e.line? as usize, e.column? as usize));
            }
            if e.path.is_empty() {
                return None;
            }
            let (key, mut at) = value_at(text, &e.path)?;
            // A field that should not be there, or is there twice: its key, where the eye looks.
            if matches!(e.code, Code::UnknownField | Code::DuplicateKey) {
                at = key.unwrap_or(at);
            } else if let (Some(line), Some(column)) = (e.line, e.column) {
                at = in_string(text, at, line as usize, column as usize).unwrap_or(at);
            }
            Some(line_column(text.get(..at)?))
        }

        /// 1-based line and column (in characters) of the place right after `before`, a
        /// document's text up to it. A byte-order mark is not a column (editors do not show it).
        pub fn line_column(before: &str) -> (usize, usize) {
            let before = before.strip_prefix('\u{feff}').unwrap_or(before);
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            (before.matches('\n').count() + 1, before.get(line_start..).map_or(0, |l| l.chars().count()) + 1)
        }

        /// The byte offsets where the value at JSON pointer `path` starts and, when it is an
        /// object's member, where its key starts (for a repeated key, the last: the one JSON
        /// keeps).
        fn value_at(text: &str, path: &str) -> Option<(Option<usize>, usize)> {
            let b = text.as_bytes();
            let mut i = ws(b, 0);
            let mut key_at = None;
            for token in path.split('/').skip(1) {
                key_at = None;
                let token = token.replace("~1", "/").replace("~0", "~");
                match b.get(i)? {
                    b'{' => {
                        let mut found = None;
                        i = ws(b, i + 1);
                        while b.get(i) == Some(&b'"') {
                            let start = i;
                            let end = skip_string(b, i)?;
                            let key: String = serde_json::from_str(text.get(i..end)?).ok()?;
                            i = ws(b, end);
                            if b.get(i) != Some(&b':') {
                                return None;
                            }
                            i = ws(b, i + 1);
                            if key == token {
                                found = Some((start, i));
                            }
                            i = ws(b, skip_value(b, i)?);
                            if b.get(i) == Some(&b',') {
                                i = ws(b, i + 1);
                            }
                        }
                        let (key, value) = found?;
                        (key_at, i) = (Some(key), value);
                    }
                    b'[' => {
                        let index: usize = token.parse().ok()?;
                        i = ws(b, i + 1);
                        for _ in 0..index {
                            i = ws(b, skip_value(b, i)?);
                            if b.get(i) != Some(&b',') {
                                return None;
                            }
                            i = ws(b, i + 1);
                        }
                    }
                    _ => return None,
                }
            }
            Some((key_at, i))
        }

        fn ws(b: &[u8], mut i: usize) -> usize {
            while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
                i += 1;
            }
            i
        }

        /// Past the string literal starting at `i` (its opening quote).
        fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
            i += 1;
            loop {
                match b.get(i)? {
                    b'\\' => i += 2,
                    b'"' => return Some(i + 1),
                    _ => i += 1,
                }
            }
        }

        /// Past the value starting at `i`.
        fn skip_value(b: &[u8], mut i: usize) -> Option<usize> {
            let mut depth = 0usize;
            loop {
                match b.get(i) {
                    Some(b'"') => i = skip_string(b, i)?,
                    Some(b'{' | b'[') => {
                        depth += 1;
                        i += 1;
                    }
                    Some(b'}' | b']') if depth > 0 => {
                        depth -= 1;
                        i += 1;
                    }
                    Some(b',' | b'}' | b']') | None if depth == 0 => return Some(i),
                    Some(_) => i += 1,
                    None => return None,
                }
                if depth == 0 && b.get(i.wrapping_sub(1)).is_some_and(|c| matches!(c, b'"' | b'}' | b']')) {
                    return Some(i);
                }
            }
        }

        /// The byte offset in `text` of the template character at `line`:`column` (1-based, in
        /// characters; `\n` escapes end lines) of the string literal starting at `quote`.
        fn in_string(text: &str, quote: usize, line: usize, column: usize) -> Option<usize> {
            let raw = text.get(quote + 1..)?;
            let (mut l, mut c) = (1, 1);
            let mut chars = raw.char_indices();
            while let Some((at, ch)) = chars.next() {
                if (l, c) == (line, column) {
                    return Some(quote + 1 + at);
                }
                let decoded = match ch {
                    '"' => return None,
                    '\\' => match chars.next()?.1 {
                        'u' => {
                            let hex: String = (0..4).filter_map(|_| chars.next().map(|(_, h)| h)).collect();
                            let unit = u32::from_str_radix(&hex, 16).ok()?;
                            if (0xD800..0xDC00).contains(&unit) {
                                // A surrogate pair (`\ud83d\ude00`) is one character.
                                for _ in 0..6 {
                                    chars.next();
                                }
                            }
                            char::from_u32(unit).unwrap_or(' ')
                        }
                        'n' => '\n',
                        other => other,
                    },
                    other => other,
                };
                if decoded == '\n' {
                    (l, c) = (l + 1, 1);
                } else {
                    c += 1;
                }
            }
            None
        }

        #[cfg(test)]
        mod tests {
            use super::*;

            #[test]
            fn pointers_and_template_places_are_found_in_the_text() {
                let text = "{\n  \"a\": [1, {\"b~/c\": \"x\\n\\u00e9{{ y }\"}],\n  \"a\": [{\"k\": [true, \"v\"]}]\n}";
                let at = |path: &str| value_at(text, path).map(|(_, i)| &text[i..i + 3]);
                assert_eq!(at("/a/0/k/1"), Some("\"v\""), "the last of a repeated key");
                assert_eq!(at("/a/1"), None);
                assert_eq!(at(""), Some("{\n "));
                let mut e = Error::new(Code::TemplateSyntax, "/a/0/k/1", "x");
                assert_eq!(position(text, &e), Some((3, 22)));
                let two = "{\"t\": [0, {\"m\": \"ab\\n\\u00e9\\ud83d\\ude00{{ y }\"}]}";
                (e.path, e.line, e.column) = ("/t/1/m".into(), Some(2), Some(3));
                let i = in_string(two, value_at(two, "/t/1/m").unwrap().1, 2, 3).unwrap();
                assert!(two[i..].starts_with("{{ y"), "{}", &two[i..]);
                assert_eq!(position(two, &e).map(|(l, _)| l), Some(1));
                let bom = format!("\u{feff}{two}");
                assert_eq!(position(&bom, &e), position(two, &e), "a byte-order mark is not a column");
            }
        }
    }

    fn compile(path: &str) -> Result<Engine, ExitCode> {
        compile_as(path, false).map(|(engine, _)| engine)
    }

    /// Compiles the config at `path`, returning it with its text; its problems go to stderr as
    /// text, or to stdout as the JSON of `check --json`.
    fn compile_as(path: &str, json: bool) -> Result<(Engine, String), ExitCode> {
        let text = match read_input(path) {
            Ok(text) => text,
            Err(ReadError::Io(e)) => {
                say!("kizuna: {e}");
                if json {
                    // stdout holds the one JSON object whatever happened; the code "io" is the CLI's.
                    let message = serde_json::Value::String(e);
                    let _ = print_out(&format!("{{\"ok\":false,\"errors\":[{{\"code\":\"io\",\"message\":{message},\"path\":\"\"}}]}}\n"));
                }
                return Err(ExitCode::from(2));
            }
            Err(ReadError::NotText(e)) => return Err(report_problems(path, "", &[e], json)),
        };
        match Engine::compile(&text) {
            Ok(engine) => Ok((engine, text)),
            Err(errors) => Err(report_problems(path, &text, &errors, json)),
        }
    }

    /// Problems (or warnings) as `check --json` lists them: each as the engine gives it, plus
    /// `at`, its place in the file.
    fn json_problems(text: &str, errors: &[Error]) -> serde_json::Value {
        let list = errors
            .iter()
            .map(|e| {
                let mut v = serde_json::to_value(e).unwrap_or_default();
                if let (Some((line, column)), Some(o)) = (locate::position(text, e), v.as_object_mut()) {
                    o.insert("at".into(), serde_json::json!({ "line": line, "column": column }));
                }
                v
            })
            .collect();
        serde_json::Value::Array(list)
    }

    /// A config's problems: as text on stderr, or as `check --json`'s object on stdout; exit 1.
    fn report_problems(path: &str, text: &str, errors: &[Error], json: bool) -> ExitCode {
        if json {
            let list = json_problems(text, errors);
            // A reader gone (`| head -c1`) still leaves exit 1: the config has problems.
            match print_out(&format!("{{\"ok\":false,\"errors\":{list}}}\n")) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return write_failed(&e),
                _ => {}
            }
        } else {
            print_config_problems(label(path), text, errors);
            say!("{} problem{} in {}", errors.len(), if errors.len() == 1 { "" } else { "s" }, label(path));
        }
        ExitCode::from(1)
    }

    /// Writes `text` to stdout (a closed pipe is an error the caller gives to [`write_failed`]).
    fn print_out(text: &str) -> std::io::Result<()> {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush())
    }

    pub fn main() -> ExitCode {
        let cli = Cli::parse();
        match cli.command {
            Command::Check { config, json } => match compile_as(&config, json) {
                Ok((engine, text)) => {
                    let c = engine.config();
                    let count = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
                    let menus = c.rich_menus.as_ref().map_or(0, |m| m.menus.len());
                    let warnings = engine.warnings();
                    let report = if json {
                        // Written in order ("ok" first), as the help shows it.
                        format!(
                            "{{\"ok\":true,\"configHash\":\"{}\",\"segments\":{},\"contents\":{},\"richMenus\":{menus},\"quizzes\":{},\"warnings\":{}}}\n",
                            engine.config_hash(),
                            c.segments.len(),
                            c.contents.len(),
                            c.quizzes.len(),
                            json_problems(&text, &warnings)
                        )
                    } else {
                        print_config_warnings(label(&config), &text, &warnings);
                        let with = if warnings.is_empty() { String::new() } else { format!(" with {}", count(warnings.len(), "warning", "warnings")) };
                        format!(
                            "{}: ok{with} ({}, {}, {}, {}, config hash {})\n",
                            label(&config),
                            count(c.segments.len(), "segment", "segments"),
                            count(c.contents.len(), "content", "contents"),
                            count(menus, "rich menu", "rich menus"),
                            count(c.quizzes.len(), "quiz", "quizzes"),
                            engine.config_hash()
                        )
                    };
                    match print_out(&report) {
                        Ok(()) => ExitCode::SUCCESS,
                        Err(e) => write_failed(&e),
                    }
                }
                Err(code) => code,
            },
            Command::Decide { config, contexts, explain, content, segment } => {
                if config == "-" && contexts.as_deref().is_none_or(|c| c == "-") {
                    say!("kizuna: only one input can be read from stdin: give the contexts as a file, or the config");
                    return ExitCode::from(2);
                }
                let engine = match compile(&config) {
                    Ok(e) => e,
                    Err(code) => return code,
                };
                if let Some(Err(e)) = content.as_deref().map(|id| engine.check_content(id)) {
                    say!("kizuna: --content: {}", e.message);
                    return ExitCode::from(2);
                }
                if let Some(Err(e)) = segment.as_deref().map(|id| engine.check_segment(id)) {
                    say!("kizuna: --segment: {}", e.message);
                    return ExitCode::from(2);
                }
                // Whether a decision line is one of the audience's (an error line always is).
                // Only these two keys are read: the others (an explain trace quoting the
                // context's values) are skipped however deep they nest, where a whole
                // `serde_json::Value` stops at 128 levels and would drop the decision.
                #[derive(serde::Deserialize)]
                struct Audience {
                    error: Option<serde::de::IgnoredAny>,
                    #[serde(default)]
                    segments: Vec<String>,
                }
                let in_audience = |line: &str| {
                    segment.as_deref().is_none_or(|id| {
                        serde_json::from_str::<Audience>(line).is_ok_and(|d| d.error.is_some() || d.segments.iter().any(|s| s == id))
                    })
                };
                let mut outside = 0usize;
                let opts = DecideOptions { explain };
                let decide = |text: &str, n: usize| match content.as_deref() {
                    Some(id) => engine.render_line(id, text, n, opts),
                    None => engine.decide_line(text, n, opts),
                };
                let mut input = match open_lines(contexts.as_deref(), "context") {
                    Ok(r) => r,
                    Err(code) => return code,
                };
                // On stderr when that is a terminal, unless the decisions go to the same screen:
                // its redraws would break their lines there.
                let bar = if std::io::stderr().is_terminal() && !std::io::stdout().is_terminal() { ProgressBar::new_spinner() } else { ProgressBar::hidden() };
                bar.set_style(ProgressStyle::with_template("{spinner} {human_pos} contexts {elapsed}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
                let mut out = BufWriter::new(std::io::stdout().lock());
                // Lines that could not be decided, decisions that carry errors (a content whose
                // template failed sends nothing): counted, with the first line of each.
                let (mut failed, mut first_failed) = (0usize, 0usize);
                let (mut with_errors, mut first_with_errors, mut unsent) = (0usize, 0usize, 0usize);
                // The first line a lone `{` or `[`: pretty-printed JSON, not one context per line.
                let mut pretty = false;
                let mut read = 0usize; // contexts (non-blank lines) read
                loop {
                    let (n, line) = match input.next() {
                        Ok(Some(l)) => l,
                        Ok(None) => break,
                        Err(e) => {
                            // Named as an unreadable config is (a directory given for the file).
                            say!("kizuna: cannot read {}, line {}: {e}", label(contexts.as_deref().unwrap_or("-")), input.number + 1);
                            return ExitCode::from(2);
                        }
                    };
                    let result = match line {
                        Line::Text(bytes) => match std::str::from_utf8(bytes) {
                            Ok(text) if text.trim().is_empty() => continue,
                            Ok(text) if text.contains('\0') => kizuna::engine::error_line(&line_not_text(bytes, bytes.len()), n),
                            Ok(text) if read == 0 && matches!(text.trim(), "{" | "[") => {
                                pretty = true;
                                decide(text, n)
                            }
                            Ok(text) => decide(text, n),
                            // One line that is not UTF-8 is that line's error; the others are decided.
                            Err(e) => kizuna::engine::error_line(&line_not_text(bytes, e.valid_up_to()), n),
                        },
                        Line::TooLong(e) => kizuna::engine::error_line(&e, n),
                    };
                    if !in_audience(&result) {
                        outside += 1;
                        bar.inc(1);
                        read += 1;
                        continue;
                    }
                    if result.starts_with("{\"error\"") {
                        failed += 1;
                        first_failed = if first_failed == 0 { n } else { first_failed };
                    } else if let Some(head) = result.split(",\"explain\":").next().filter(|d| d.contains(",\"errors\":[")) {
                        // Only the decision's own keys (before its explain trace, which quotes
                        // context values): strings inside them are escaped (`\"`).
                        with_errors += 1;
                        first_with_errors = if first_with_errors == 0 { n } else { first_with_errors };
                        // A content chosen and no messages: its render failed, nothing to send.
                        unsent += usize::from(head.contains(",\"content\":{") && !head.contains(",\"messages\":["));
                    }
                    if let Err(e) = writeln!(out, "{result}") {
                        return write_failed(&e);
                    }
                    bar.inc(1);
                    read += 1;
                }
                bar.finish_and_clear();
                if let Err(e) = out.flush() {
                    return write_failed(&e);
                }
                if read == 0 {
                    // Most likely a wrong path or an empty export: say so rather than nothing.
                    say!("kizuna: no contexts in {}", label(contexts.as_deref().unwrap_or("-")));
                }
                if let (Some(id), true) = (segment.as_deref(), outside > 0) {
                    say!("kizuna: {outside} of {read} contexts are not in segment \"{id}\": no decision written for them");
                }
                if with_errors > 0 {
                    // Not every error stops a message: a segment that could not be judged is one.
                    let why = match unsent {
                        0 => String::new(),
                        n => format!("; {n} of them chose a content that failed to render: no \"messages\", nothing to send"),
                    };
                    say!("kizuna: {with_errors} decision(s) carry errors, the first for line {first_with_errors} (see their \"errors\"{why})");
                }
                if failed > 0 {
                    say!("kizuna: {failed} context(s) could not be decided, the first on line {first_failed} (see the \"error\" lines)");
                    if pretty {
                        say!("kizuna: each context must be one line of JSON (NDJSON); convert pretty-printed JSON with `jq -c .`, a JSON array with `jq -c '.[]'`");
                    }
                    return ExitCode::from(1);
                }
                ExitCode::SUCCESS
            }
            Command::Menus { decisions } => {
                let requests = match batch_decisions(decisions.as_deref()) {
                    Ok(r) => r,
                    Err(code) => return code,
                };
                // Each request written by the library's writer, as `bulkRequests` writes it in npm.
                let mut out = BufWriter::new(std::io::stdout().lock());
                let mut line = String::new();
                for r in requests {
                    line.clear();
                    r.write_json(&mut line);
                    if let Err(e) = writeln!(out, "{line}") {
                        return write_failed(&e);
                    }
                }
                match out.flush() {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => write_failed(&e),
                }
            }
            Command::Pushes { decisions } => pushes(decisions.as_deref()),
            Command::Render { template, data, now, config } => match with_config(config.as_deref(), &[Some(&template), data.as_deref()]) {
                Ok(Some(engine)) => playground(&template, data.as_deref(), "{}", now, &|t, d, n| engine.render_template(t, d, n), false, true),
                Ok(None) => playground(&template, data.as_deref(), "{}", now, &kizuna::engine::render_template, false, true),
                Err(code) => code,
            },
            Command::Eval { rule, data, now, config } => match with_config(config.as_deref(), &[Some(&rule), data.as_deref()]) {
                Ok(Some(engine)) => playground(&rule, data.as_deref(), "null", now, &|r, d, n| engine.evaluate(r, d, n), true, false),
                Ok(None) => playground(&rule, data.as_deref(), "null", now, &kizuna::engine::evaluate, true, false),
                Err(code) => code,
            },
        }
    }

    #[cfg(test)]
    mod tests {
        use super::{Line, Lines};

        /// Every line of `input` read with a limit of `max` bytes, the input coming in chunks of
        /// `chunk` bytes: its number and its text, or `Err(length)` for a line over the limit.
        fn read(input: &'static [u8], max: usize, chunk: usize) -> Vec<(usize, Result<String, u64>)> {
            let input = Box::new(std::io::BufReader::with_capacity(chunk, input));
            let mut lines = Lines { input, buf: Vec::new(), max, what: "context", number: 0 };
            let mut out = Vec::new();
            while let Some((n, line)) = lines.next().unwrap() {
                out.push((n, match line {
                    Line::Text(b) => Ok(String::from_utf8(b.to_vec()).unwrap()),
                    Line::TooLong(e) => {
                        assert_eq!((e.code, e.path.as_str()), (kizuna::Code::LimitExceeded, ""));
                        Err(e.message.strip_prefix("the line has ").unwrap().split(' ').next().unwrap().parse().unwrap())
                    }
                }));
            }
            out
        }

        #[test]
        fn a_line_over_the_limit_is_reported_with_its_length_and_the_next_line_is_read() {
            // 5 bytes fit, 6 do not; the CR of a CRLF is not part of the line; a byte-order
            // mark is dropped on line 1 only; the last line may lack its line break.
            let input = b"\xef\xbb\xbfab\r\nabcdef\n\nabcde\nabcdefghij\r\n12345\r\n\xef\xbb\xbfx\nlast-one-too-long";
            let want = [(1, Ok("ab")), (2, Err(6)), (3, Ok("")), (4, Ok("abcde")), (5, Err(10)), (6, Ok("12345")), (7, Ok("\u{feff}x")), (8, Err(17))];
            let want: Vec<_> = want.iter().map(|(n, l)| (*n, l.map(str::to_string))).collect();
            for chunk in [1, 3, 64] {
                assert_eq!(read(input, 5, chunk), want, "chunks of {chunk} bytes");
            }
            assert_eq!(read(b"", 5, 64), []);
            assert_eq!(read(b"abcdef", 5, 64), [(1, Err(6))], "a last line over the limit");
        }
    }
}
