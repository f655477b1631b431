//! Liquid templates for LINE messages: the dialect Shopify/liquid defines (checked against the
//! jg-rp golden-liquid suite), plus marketing filters (`yen`, `number_with_delimiter`,
//! `time_zone`, `json`).
//!
//! ```text
//! source ──lexer──▶ tokens ──parser──▶ Program (compact tree) ──render──▶ String
//! ```
//!
//! A template is parsed once ([`Template::parse`]): variable paths are split, literal arguments
//! parsed and filters resolved to an enum, so an unknown filter, a wrong argument count or a
//! syntax error is reported with its line and column before anything renders. Rendering
//! borrows the globals (no copy of the data), writes into one `String`, and runs under
//! [`Limits`] so an untrusted template fails fast with [`LimitExceeded`] instead of hanging or
//! exhausting memory.
//!
//! [`LimitExceeded`]: crate::Code::LimitExceeded
//!
//! Liquid truthiness ([`truthy`]: only `nil` and `false` are falsy) is not JsonLogic's; the two
//! value semantics stay apart.
//!
//! Dialect notes (where liquidjs, the JS reference, differs, kizuna follows Shopify):
//! - numbers are Ruby's: `10 | divided_by: 3` is `3`, floats print as `1.0`, float arithmetic
//!   is decimal (`0.1 | plus: 0.2` is `0.3`);
//! - a block whose body is only whitespace and silent tags (`assign`, `capture`, comments)
//!   drops that whitespace (`{% unless forloop.last %}\n{% endunless %}` outputs nothing);
//! - parsing is strict: `{% when 'a' and 'b' %}` is an error (Shopify's `strict2`), and so are
//!   filter argument counts Shopify would only reject while rendering;
//! - dates are shown in the render's zone ([`RenderOptions::tz`], `+09:00` by default): text
//!   without an offset is local time there, times with an offset are converted, and
//!   `time_zone: "UTC"` moves a time to another zone for `date`;
//! - identifiers may use non-ASCII letters (`{{ user.名前 }}`).

mod ast;
pub(crate) mod case;
mod date;
mod filters;
mod lexer;
mod number;
mod parser;
#[cfg(lint)]
mod reads;
mod render;
mod val;

use crate::error::Error;
use crate::value::{Projection, Value};
use chrono::{DateTime, FixedOffset};
pub use date::Locale;

/// Bounds for untrusted templates. Each one fails with [`LimitExceeded`](crate::Code::LimitExceeded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Depth of nested blocks (and of brackets inside an expression), checked at parse time.
    /// Rendering allows three times this for partials including partials.
    pub max_nesting: usize,
    /// Size of the rendered output in bytes (also bounds every string a filter makes).
    pub max_output_bytes: usize,
    /// Loop iterations per render, all loops together (`for`, `tablerow`, `include … for`).
    pub max_iterations: u64,
    /// Size of the template source (and of each partial) in bytes.
    pub max_source_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_nesting: 32, max_output_bytes: 64 * 1024, max_iterations: 10_000, max_source_bytes: 64 * 1024 }
    }
}

/// What a render needs besides the data.
#[derive(Clone, Debug)]
pub struct RenderOptions<'a> {
    /// The time `"now"` and `"today"` mean (taken once per decision, never from the clock).
    pub now: DateTime<FixedOffset>,
    /// The zone dates are shown in (the account's; `date` and `time_zone` use it).
    pub tz: FixedOffset,
    /// The language of weekday and month names in `date` (the config's `locale`).
    pub locale: Locale,
    pub limits: &'a Limits,
}

impl<'a> RenderOptions<'a> {
    /// Options in Japan Standard Time (`+09:00`), the default zone of a LINE account.
    pub fn new(now: DateTime<FixedOffset>, limits: &'a Limits) -> Self {
        RenderOptions { now, tz: crate::contract::config::default_tz(), locale: Locale::En, limits }
    }
}

/// A compiled template. Parse once, render many times; `Send + Sync`, cheap to share.
#[derive(Clone, Debug)]
pub struct Template {
    program: ast::Program,
}

impl Template {
    /// Compiles `source`. Errors ([`TemplateSyntax`](crate::Code::TemplateSyntax),
    /// [`UnknownFilter`](crate::Code::UnknownFilter) for unknown filters and tags,
    /// [`LimitExceeded`](crate::Code::LimitExceeded)) carry the line and column and an empty
    /// `path` (the caller prefixes the template's JSON pointer).
    pub fn parse(source: &str, limits: &Limits) -> Result<Template, Error> {
        Ok(Template { program: parser::compile(source, limits, None)? })
    }

    /// Like [`Template::parse`], with partial templates (`name`, `source`) that `include` and
    /// `render` may use. Partials are compiled into the template (each once, on first use).
    pub fn parse_with_partials(source: &str, limits: &Limits, partials: &[(&str, &str)]) -> Result<Template, Error> {
        Ok(Template { program: parser::compile(source, limits, Some(partials))? })
    }

    /// Renders with `globals` (a JSON object; anything else is treated as no globals).
    /// Undefined variables render as nothing. Errors are
    /// [`TemplateRender`](crate::Code::TemplateRender) (a filter or comparison Liquid rejects) and
    /// [`LimitExceeded`](crate::Code::LimitExceeded), with line and column.
    pub fn render(&self, globals: &Value<'_>, opts: &RenderOptions<'_>) -> Result<String, Error> {
        let mut out = String::new();
        self.render_into(globals, opts, &mut out)?;
        Ok(out)
    }

    /// Renders, appending to `out` (whose existing content does not count against the limit).
    pub fn render_into(&self, globals: &Value<'_>, opts: &RenderOptions<'_>, out: &mut String) -> Result<(), Error> {
        if out.is_empty() {
            return render::render(&self.program, globals, opts, out);
        }
        let mut buf = String::new();
        render::render(&self.program, globals, opts, &mut buf)?;
        out.push_str(&buf);
        Ok(())
    }

    /// Doubles the braces its outputs write (`{` → `{{`): for a LINE textV2 text, where
    /// `{key}` is a placeholder and `{{` a brace, so a display name holding a brace neither
    /// breaks the message nor opens a placeholder (a mention). Literal text is kept as written.
    pub(crate) fn escape_braces(&mut self) {
        self.program.escape_braces = true;
    }

    /// The text every render writes whatever the data: the literal text at the template's
    /// top level, up to the first place the render may stop (a `break` or `continue` outside
    /// a loop, also inside an `if`; an `include`, which may hold one). A lower bound of the
    /// output, so a string limit it already exceeds is an error at compile time.
    pub fn fixed_text(&self) -> String {
        use ast::Node;
        /// Whether running `block` may stop the render: a `break` or `continue` outside a loop.
        fn may_stop(block: &[Node]) -> bool {
            block.iter().any(|n| match n {
                Node::Break | Node::Continue | Node::Include(_) => true,
                Node::If(i) => i.branches.iter().any(|(_, b)| may_stop(b)),
                Node::Case(c) => c.bodies.iter().any(|b| may_stop(b)),
                Node::Capture(_, b) | Node::IfChanged(b) => may_stop(b),
                // A loop's `else` runs outside it.
                Node::For(f) => may_stop(&f.else_body),
                _ => false,
            })
        }
        let mut out = String::new();
        for node in self.program.body.iter() {
            if let Node::Text(a, z) = node {
                out.push_str(self.program.text.get(*a as usize..*z as usize).unwrap_or(""));
            } else if may_stop(std::slice::from_ref(node)) {
                break;
            }
        }
        out
    }

    /// Adds the root data paths the template reads to `p` (`[]`, everything, when a path is
    /// computed at render time), so the caller can build only those parts of the data.
    pub fn projection(&self, p: &mut Projection) {
        if self.program.reads_all {
            p.add(std::iter::empty());
            return;
        }
        for path in &self.program.reads {
            p.add(path.iter().map(|s| &**s));
        }
    }

    /// The variable paths the template reads, each as written up to its first part computed
    /// at render time (`user.attributes[key]` → `user.attributes`), with the line and column
    /// of its output or tag when known, and where it starts: what `kizuna check` compares with
    /// the Context. A path from the globals starts at the data; one from a name the template
    /// binds to a path of the globals at that path: a `for` (or `tablerow`) variable in its
    /// loop's body, when the collection is one (`for p in user.purchases`: an item of it), and
    /// a name bound once, by an `assign` at the top level, from there on (`assign p =
    /// user.purchases | where: … | first`). Other names the template binds are left out
    /// wherever they are read, and so is what partials read.
    #[cfg(lint)]
    pub fn data_paths(&self) -> Vec<DataPath<'_>> {
        reads::data_paths(&self.program).into_iter().map(|(steps, pos, base)| (steps, pos.map(|p| (p.line, p.col)), base)).collect()
    }
}

/// A path a template reads, the line and column of its output or tag when known, and where it
/// starts (see [`Template::data_paths`]).
#[cfg(lint)]
pub type DataPath<'t> = (Vec<crate::contract::fields::Step<'t>>, Option<(u32, u32)>, crate::contract::fields::Base<'t>);

/// Liquid truthiness: only `null` (nil) and `false` are falsy; `0`, `""` and `[]` are truthy.
pub fn truthy(v: &Value<'_>) -> bool {
    !matches!(v, Value::Null | Value::Bool(false))
}

#[cfg(test)]
mod tests;
