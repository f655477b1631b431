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
    use clap::{Parser, Subcommand};
    use indicatif::{ProgressBar, ProgressStyle};
    use kizuna::engine::{DecideOptions, Engine};
    use kizuna::Error;
    use std::io::{BufRead, BufWriter, IsTerminal, Read, Write};
    use std::process::ExitCode;

    #[derive(Parser)]
    #[command(name = "kizuna", version, about = "Rule engine for LINE Official Account marketing")]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
        /// Check a config; print every problem with its JSON pointer; exit 1 if there are any.
        Check { config: String },
        /// Decide for NDJSON contexts (a file, or - for stdin); NDJSON decisions to stdout.
        Decide {
            #[arg(long)]
            config: String,
            /// Contexts, one JSON object per line ("-" or nothing: stdin).
            contexts: Option<String>,
            /// Add the explain trace to each decision.
            #[arg(long)]
            explain: bool,
        },
        /// Group the rich-menu actions of NDJSON decisions (a file, or -) into LINE's bulk
        /// link / unlink requests of at most 500 users, one JSON request per line.
        Menus { decisions: Option<String> },
        /// Render a Liquid template (file or -) against data (JSON file or -; default {}).
        Render {
            template: String,
            data: Option<String>,
            /// What "now" means in the template (RFC 3339); default: now.
            #[arg(long)]
            now: Option<String>,
        },
        /// Evaluate one JsonLogic rule (file or -) against data (file or -; default null).
        Eval {
            rule: String,
            data: Option<String>,
            /// The moment time operators see (RFC 3339); default: now.
            #[arg(long)]
            now: Option<String>,
        },
    }

    fn read_input(name: &str) -> Result<String, String> {
        let mut s = String::new();
        if name == "-" {
            std::io::stdin().read_to_string(&mut s).map_err(|e| format!("cannot read stdin: {e}"))?;
            Ok(s)
        } else {
            std::fs::read_to_string(name).map_err(|e| format!("cannot read {name}: {e}"))
        }
    }

    /// Reads a main input and optional data (each a file or -), the data defaulting to `empty`.
    fn read_pair(main: &str, data: Option<&str>, empty: &str) -> Result<(String, String), ExitCode> {
        if main == "-" && data == Some("-") {
            eprintln!("kizuna: only one input can be read from stdin");
            return Err(ExitCode::from(2));
        }
        let fail = |e: String| {
            eprintln!("kizuna: {e}");
            ExitCode::from(2)
        };
        let main = read_input(main).map_err(fail)?;
        let data = data.map(read_input).transpose().map_err(fail)?.unwrap_or_else(|| empty.to_string());
        Ok((main, data))
    }

    /// `kizuna render` and `kizuna eval`: read the input and its data, run `f` at `now`
    /// (default: the clock), print the result or the problems.
    fn playground(
        input: &str,
        data: Option<&str>,
        empty: &str,
        now: Option<String>,
        f: fn(&str, &str, &str) -> Result<String, Vec<Error>>,
        newline: bool,
    ) -> ExitCode {
        let (input_text, data_text) = match read_pair(input, data, empty) {
            Ok(p) => p,
            Err(code) => return code,
        };
        let now = now.unwrap_or_else(|| chrono::Local::now().fixed_offset().to_rfc3339());
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
                print_problems(input, &errors);
                ExitCode::from(1)
            }
        }
    }

    /// A failed write to stdout: a reader that stopped reading (`| head`) ends the command
    /// quietly and successfully; anything else (a full disk) is reported.
    fn write_failed(e: &std::io::Error) -> ExitCode {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return ExitCode::SUCCESS;
        }
        eprintln!("kizuna: cannot write the output: {e}");
        ExitCode::from(2)
    }

    fn print_problems(file: &str, errors: &[Error]) {
        for e in errors {
            eprintln!("{file}: {e}");
        }
    }

    fn compile(path: &str) -> Result<Engine, ExitCode> {
        let text = read_input(path).map_err(|e| {
            eprintln!("kizuna: {e}");
            ExitCode::from(2)
        })?;
        Engine::compile(&text).map_err(|errors| {
            print_problems(path, &errors);
            eprintln!("{} problem{} in {path}", errors.len(), if errors.len() == 1 { "" } else { "s" });
            ExitCode::from(1)
        })
    }

    pub fn main() -> ExitCode {
        let cli = Cli::parse();
        match cli.command {
            Command::Check { config } => match compile(&config) {
                Ok(engine) => {
                    let c = engine.config();
                    let count = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
                    let menus = c.rich_menus.as_ref().map_or(0, |m| m.menus.len());
                    println!(
                        "{config}: ok ({}, {}, {}, {}, config hash {})",
                        count(c.segments.len(), "segment", "segments"),
                        count(c.contents.len(), "content", "contents"),
                        count(menus, "rich menu", "rich menus"),
                        count(c.quizzes.len(), "quiz", "quizzes"),
                        engine.config_hash()
                    );
                    ExitCode::SUCCESS
                }
                Err(code) => code,
            },
            Command::Decide { config, contexts, explain } => {
                let engine = match compile(&config) {
                    Ok(e) => e,
                    Err(code) => return code,
                };
                let opts = DecideOptions { explain };
                let input: Box<dyn BufRead> = match contexts.as_deref() {
                    None | Some("-") => Box::new(std::io::stdin().lock()),
                    Some(path) => match std::fs::File::open(path) {
                        Ok(f) => Box::new(std::io::BufReader::new(f)),
                        Err(e) => {
                            eprintln!("kizuna: cannot read {path}: {e}");
                            return ExitCode::from(2);
                        }
                    },
                };
                // indicatif draws nothing when stderr is not a terminal; say so explicitly anyway.
                let bar = if std::io::stderr().is_terminal() { ProgressBar::new_spinner() } else { ProgressBar::hidden() };
                bar.set_style(ProgressStyle::with_template("{spinner} {pos} decisions ({per_sec}) {elapsed}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
                let mut out = BufWriter::new(std::io::stdout().lock());
                let mut failed = 0usize;
                for (i, line) in input.split(b'\n').enumerate() {
                    let mut line = match line {
                        Ok(l) => l,
                        Err(e) => {
                            eprintln!("kizuna: read error at line {}: {e}", i + 1);
                            return ExitCode::from(2);
                        }
                    };
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    // A byte-order mark some editors write at the start of a file.
                    let bytes = if i == 0 { line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&line) } else { &line[..] };
                    let result = match std::str::from_utf8(bytes) {
                        Ok(text) if text.trim().is_empty() => continue,
                        Ok(text) => engine.decide_line(text, i + 1, opts),
                        // One line that is not UTF-8 is that line's error; the others are decided.
                        Err(_) => kizuna::engine::error_line(&Error::new(kizuna::Code::InvalidJson, "", "the context is not UTF-8 text"), i + 1),
                    };
                    if result.starts_with("{\"error\"") {
                        failed += 1;
                    }
                    if let Err(e) = writeln!(out, "{result}") {
                        return write_failed(&e);
                    }
                    bar.inc(1);
                }
                bar.finish_and_clear();
                if let Err(e) = out.flush() {
                    return write_failed(&e);
                }
                if failed > 0 {
                    eprintln!("kizuna: {failed} context(s) could not be decided (see the \"error\" lines)");
                    return ExitCode::from(1);
                }
                ExitCode::SUCCESS
            }
            Command::Menus { decisions } => {
                let text = match read_input(decisions.as_deref().unwrap_or("-")) {
                    Ok(t) => t,
                    Err(e) => {
                        eprintln!("kizuna: {e}");
                        return ExitCode::from(2);
                    }
                };
                match kizuna::engine::bulk_requests_json(&text).and_then(|json| {
                    serde_json::from_str::<Vec<serde_json::Value>>(&json).map_err(|e| Error::new(kizuna::Code::InvalidJson, "", e.to_string()))
                }) {
                    Ok(requests) => {
                        let mut out = BufWriter::new(std::io::stdout().lock());
                        for r in requests {
                            if let Err(e) = writeln!(out, "{r}") {
                                return write_failed(&e);
                            }
                        }
                        match out.flush() {
                            Ok(()) => ExitCode::SUCCESS,
                            Err(e) => write_failed(&e),
                        }
                    }
                    Err(e) => {
                        eprintln!("kizuna: {e}");
                        ExitCode::from(1)
                    }
                }
            }
            Command::Render { template, data, now } => {
                playground(&template, data.as_deref(), "{}", now, kizuna::engine::render_template, false)
            }
            Command::Eval { rule, data, now } => {
                playground(&rule, data.as_deref(), "null", now, kizuna::engine::evaluate, true)
            }
        }
    }
}
