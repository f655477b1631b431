//! Template tokens → compiled [`Program`]. Strict parsing (Shopify's `strict` mode): anything
//! that is not valid Liquid is an error with its line and column, an unknown filter or tag is
//! reported as such, and filter argument counts are checked here rather than at render time.

use super::ast::*;
use super::filters::{Filter, FILTER_NAMES};
use super::lexer::{self, lex_expr, LineIndex, Tok, TokKind, T};
use super::Limits;
use crate::error::{Code, Error};

/// Errors inside the parser are boxed: every `Result` the recursive descent passes around is
/// then a pointer wide on the error side, instead of carrying (and copying at every `?` and
/// return) the whole `Error`. Unboxed once, in [`compile`].
type PErr = Box<Error>;

/// Partial templates for `include` / `render`, by name.
pub(crate) type Partials<'a> = &'a [(&'a str, &'a str)];

struct Builder<'a> {
    prog: Program,
    /// Symbol ids sorted by name (binary search): a template has tens of names, and this
    /// avoids a HashMap instance (~1.6 K of Wasm) used by nothing else.
    syms: Vec<Sym>,
    limits: &'a Limits,
    partial_srcs: Option<Partials<'a>>,
    /// Partials being compiled inside one another (a chain of includes).
    partial_depth: usize,
    reads: Vec<Vec<Box<str>>>,
}

impl Builder<'_> {
    fn sym(&mut self, name: &str) -> Sym {
        let symbols = &self.prog.symbols;
        let at = match self.syms.binary_search_by(|&s| symbols.get(s as usize).map_or("", |n| &**n).cmp(name)) {
            Ok(i) => return self.syms.get(i).copied().unwrap_or(0),
            Err(i) => i,
        };
        let s = u32::try_from(self.prog.symbols.len()).unwrap_or(u32::MAX);
        self.prog.symbols.push(name.into());
        self.syms.insert(at, s);
        s
    }
}

pub(crate) fn compile(source: &str, limits: &Limits, partials: Option<Partials<'_>>) -> Result<Program, Error> {
    compile_boxed(source, limits, partials).map_err(|e| *e)
}

fn compile_boxed(source: &str, limits: &Limits, partials: Option<Partials<'_>>) -> Result<Program, PErr> {
    let mut b = Builder {
        prog: Program::default(),
        syms: Vec::new(),
        limits,
        partial_srcs: partials,
        partial_depth: 0,
        reads: Vec::new(),
    };
    b.prog.forloop = b.sym("forloop");
    b.prog.tablerowloop = b.sym("tablerowloop");
    let body = P::new(&mut b, source, None)?.document()?;
    b.prog.body = body;
    // Dynamic include names may reach any partial: compile them all.
    if needs_all_partials(&b.prog) {
        if let Some(list) = b.partial_srcs {
            for (name, _) in list {
                if let Err(msg) = partial_index(&mut b, name)? {
                    return Err(Box::new(Error::new(Code::TemplateSyntax, "", msg)));
                }
            }
        }
    }
    let mut reads = std::mem::take(&mut b.reads);
    crate::sort::sort_stable_by(&mut reads, &mut |a, b| a < b);
    reads.dedup();
    b.prog.reads = reads;
    Ok(b.prog)
}

fn needs_all_partials(prog: &Program) -> bool {
    fn walk(block: &[Node]) -> bool {
        block.iter().any(|n| match n {
            Node::Include(inc) => matches!(inc.partial, PartialRef::Dynamic(_)),
            Node::If(i) => i.branches.iter().any(|(_, b)| walk(b)),
            Node::Case(c) => c.bodies.iter().any(|b| walk(b)),
            Node::For(f) => walk(&f.body) || walk(&f.else_body),
            Node::TableRow(t) => walk(&t.body),
            Node::Capture(_, b) | Node::IfChanged(b) => walk(b),
            _ => false,
        })
    }
    walk(&prog.body) || prog.partials.iter().any(|p| walk(&p.body))
}

/// The index of partial `name`, compiling it on first use; `Ok(Err(message))` when there is no
/// such partial.
fn partial_index(b: &mut Builder<'_>, name: &str) -> Result<Result<u32, String>, PErr> {
    // Compiled (or being compiled) already: found by name among a handful.
    if let Some(i) = b.prog.partials.iter().position(|p| &*p.name == name) {
        return Ok(Ok(u32::try_from(i).unwrap_or(u32::MAX)));
    }
    let found = b.partial_srcs.and_then(|list| list.iter().find(|(n, _)| *n == name).map(|(_, s)| *s));
    let Some(src) = found else {
        return Ok(Err(match b.partial_srcs {
            None => format!("include and render of '{name}' are not available here: message templates have no partial templates (write the text in place)"),
            Some(list) => {
                let names: Vec<&str> = list.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown partial template '{name}' (known: {})",
                    if names.is_empty() { "none".into() } else { names.join(", ") }
                )
            }
        }));
    };
    if b.partial_depth >= b.limits.max_nesting {
        return Err(Box::new(Error::new(
            Code::LimitExceeded,
            "",
            format!("partial templates include one another more than {} deep (at '{name}')", b.limits.max_nesting),
        )));
    }
    let idx = u32::try_from(b.prog.partials.len()).unwrap_or(u32::MAX);
    let sym = Some(b.sym(name));
    b.prog.partials.push(Partial { name: name.into(), sym, body: Vec::new() });
    b.partial_depth += 1;
    let body = P::new(b, src, Some(name)).and_then(|p| p.document());
    b.partial_depth -= 1;
    let body = body?;
    if let Some(p) = b.prog.partials.get_mut(idx as usize) {
        p.body = body;
    }
    Ok(Ok(idx))
}

/// A cursor over the tokens of one markup.
struct Cur<'s> {
    toks: Vec<(T<'s>, usize)>,
    i: usize,
}

impl<'s> Cur<'s> {
    fn peek(&self) -> T<'s> {
        self.toks.get(self.i).map_or(T::End, |t| t.0)
    }

    fn peek_at(&self, k: usize) -> T<'s> {
        self.toks.get(self.i + k).map_or(T::End, |t| t.0)
    }

    fn off(&self) -> usize {
        self.toks.get(self.i).or_else(|| self.toks.last()).map_or(0, |t| t.1)
    }

    fn bump(&mut self) -> T<'s> {
        let t = self.peek();
        if self.i < self.toks.len() {
            self.i += 1;
        }
        t
    }

    fn eat(&mut self, t: T<'_>) -> bool {
        if self.peek() == t {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn eat_ident(&mut self, word: &str) -> bool {
        if self.peek() == T::Ident(word) {
            self.i += 1;
            true
        } else {
            false
        }
    }
}

/// The end tag that stopped a body: its name and markup span.
struct EndTag<'s> {
    name: &'s str,
    markup: (usize, usize),
    start: usize,
}

struct P<'s, 'b, 'a> {
    b: &'b mut Builder<'a>,
    src: &'s str,
    toks: Vec<Tok>,
    i: usize,
    lines: LineIndex<'s>,
    depth: usize,
    origin: Option<&'s str>,
    loop_vars: Vec<Sym>,
}

/// Tags that close or continue a block: never a tag of their own, and did-you-mean candidates
/// (`endfi` → `endif`).
const END_TAGS: &[&str] = &[
    "else", "elsif", "when", "endif", "endunless", "endcase", "endfor", "endtablerow", "endcapture", "endcomment", "endraw", "enddoc", "endifchanged",
];

const BLOCK_TAGS: &[&str] = &[
    "if",
    "unless",
    "case",
    "for",
    "tablerow",
    "capture",
    "comment",
    "raw",
    "doc",
    "ifchanged",
    "assign",
    "increment",
    "decrement",
    "cycle",
    "echo",
    "break",
    "continue",
    "liquid",
    "include",
    "render",
    "#",
];

impl<'s, 'b, 'a> P<'s, 'b, 'a> {
    fn new(b: &'b mut Builder<'a>, src: &'s str, origin: Option<&'s str>) -> Result<Self, PErr> {
        let max = b.limits.max_source_bytes;
        let p =
            P { b, src, toks: Vec::new(), i: 0, lines: LineIndex::new(src), depth: 0, origin, loop_vars: Vec::new() };
        if src.len() > max {
            return Err(p.error(
                Code::LimitExceeded,
                0,
                format!("the template is {} bytes long, more than the limit of {max} bytes", src.len()),
            ));
        }
        Ok(P { toks: lexer::tokenize(src), ..p })
    }

    fn error(&self, code: Code, offset: usize, msg: impl Into<String>) -> PErr {
        let pos = self.lines.pos(offset);
        let msg = msg.into();
        let message = match self.origin {
            Some(name) => format!("in partial '{name}' (line {}, column {}): {msg}", pos.line, pos.col),
            None => msg,
        };
        let mut e = Error::new(code, "", message);
        if self.origin.is_none() {
            e.line = Some(pos.line);
            e.column = Some(pos.col);
        }
        Box::new(e)
    }

    fn syntax(&self, offset: usize, msg: impl Into<String>) -> PErr {
        self.error(Code::TemplateSyntax, offset, msg)
    }

    fn pos(&self, offset: usize) -> Pos {
        self.lines.pos(offset)
    }

    /// Where the expression in `start..end` begins: past the spaces before it (an output's or
    /// `echo`'s position, what an error or a warning selects).
    fn expr_pos(&self, start: usize, end: usize) -> Pos {
        let skip = self.src.get(start..end).map_or(0, |m| m.len() - m.trim_start_matches(|c: char| c.is_ascii() && lexer::is_ruby_space(c as u8)).len());
        self.pos(start + skip)
    }

    /// [`Parser::pos`] where only `kizuna check` reads it (see [`CheckPos`]).
    #[cfg(lint)]
    fn check_pos(&self, offset: usize) -> CheckPos {
        self.pos(offset)
    }

    #[cfg(not(lint))]
    fn check_pos(&self, _offset: usize) -> CheckPos {
        NoPos
    }

    fn document(mut self) -> Result<Block, PErr> {
        let (body, _, end) = self.body(&[])?;
        if let Some(end) = end {
            return Err(self.syntax(end.start, format!("unexpected '{}' (no open block to close)", end.name)));
        }
        Ok(body)
    }

    fn enter(&mut self, offset: usize) -> Result<(), PErr> {
        self.depth += 1;
        if self.depth > self.b.limits.max_nesting {
            return Err(self.error(
                Code::LimitExceeded,
                offset,
                format!("blocks are nested more than {} deep", self.b.limits.max_nesting),
            ));
        }
        Ok(())
    }

    fn text_node(&mut self, start: usize, end: usize) -> Result<Option<Node>, PErr> {
        if start >= end {
            return Ok(None);
        }
        let text = self.src.get(start..end).unwrap_or("");
        let a = self.b.prog.text.len();
        self.b.prog.text.push_str(text);
        let z = self.b.prog.text.len();
        match (u32::try_from(a), u32::try_from(z)) {
            (Ok(a), Ok(z)) => Ok(Some(Node::Text(a, z))),
            _ => Err(self.error(Code::LimitExceeded, start, "the template is too large")),
        }
    }

    /// Parses nodes until one of `ends` (or the end of the tokens). Returns the nodes, whether
    /// they are blank (only whitespace and tags that output nothing), and the end tag met.
    fn body(&mut self, ends: &[&str]) -> Result<(Block, bool, Option<EndTag<'s>>), PErr> {
        let mut nodes = Vec::new();
        let mut blank = true;
        while let Some(tok) = self.toks.get(self.i).copied() {
            self.i += 1;
            match tok.kind {
                TokKind::Text => {
                    let text = self.src.get(tok.start..tok.end).unwrap_or("");
                    blank &= text.bytes().all(lexer::is_ruby_space);
                    if let Some(n) = self.text_node(tok.start, tok.end)? {
                        nodes.push(n);
                    }
                }
                TokKind::Output => {
                    let pipeline = self.pipeline_markup(tok.inner_start, tok.inner_end)?;
                    nodes.push(Node::Output(Box::new(pipeline), self.expr_pos(tok.inner_start, tok.inner_end)));
                    blank = false;
                }
                TokKind::Bad => {
                    let what = self.src.get(tok.start..tok.end).unwrap_or("");
                    let shown = if what.len() <= 2 { self.src.get(tok.start..).unwrap_or("") } else { what };
                    let line = shown.split('\n').next().unwrap_or("");
                    let msg = if what.starts_with("{{") && !what.contains("{%") {
                        format!("'{{{{' is not closed with '}}}}' (found {})", snippet(line))
                    } else if what.starts_with("{{") {
                        format!("'{{{{' is not closed with '}}}}' before the next '{{%' (found {})", snippet(line))
                    } else {
                        format!("'{{%' is not closed with '%}}' (found {})", snippet(line))
                    };
                    return Err(self.syntax(tok.start, msg));
                }
                TokKind::RawBody => return Err(self.syntax(tok.start, "unexpected raw text")),
                TokKind::Tag => {
                    let Some((ns, ne)) = lexer::tag_name_span(self.src, tok.inner_start, tok.inner_end) else {
                        let inner = self.src.get(tok.inner_start..tok.inner_end).unwrap_or("").trim();
                        return Err(self.syntax(
                            tok.start,
                            if inner.is_empty() {
                                "a tag has no name (found '{% %}')".to_string()
                            } else {
                                format!("expected a tag name after '{{%', found {}", snippet(inner))
                            },
                        ));
                    };
                    let name = self.src.get(ns..ne).unwrap_or("");
                    let markup = (ne, tok.inner_end);
                    if ends.contains(&name) {
                        return Ok((nodes, blank, Some(EndTag { name, markup, start: tok.start })));
                    }
                    // Inside a block, another block's end names the one expected (`endfor` in an `if`).
                    if let Some(expected) = ends.last().filter(|_| END_TAGS.contains(&name)) {
                        return Err(self.syntax(tok.start, format!("unexpected '{name}': the open block here is closed with '{{% {expected} %}}' first")));
                    }
                    let (node, node_blank) = self.tag(name, markup, tok)?;
                    blank &= node_blank;
                    nodes.extend(node);
                }
            }
        }
        Ok((nodes, blank, None))
    }

    fn markup(&self, m: (usize, usize)) -> &'s str {
        self.src.get(m.0..m.1).unwrap_or("")
    }

    fn cur(&self, m: (usize, usize)) -> Result<Cur<'s>, PErr> {
        match lex_expr(self.src, m.0, m.1) {
            Ok(toks) => Ok(Cur { toks, i: 0 }),
            Err(e) => Err(self.syntax(e.offset, e.message)),
        }
    }

    fn expect_end(&self, c: &Cur<'s>, what: &str) -> Result<(), PErr> {
        match c.peek() {
            T::End => Ok(()),
            t => Err(self.syntax(c.off(), format!("unexpected {} {what}", t.describe()))),
        }
    }

    /// A syntax error at `offset` saying what token `t` is between `before` and `after`: the one
    /// place that formats a token into a message.
    #[inline(never)]
    fn found(&self, offset: usize, before: &str, t: T<'_>, after: &str) -> PErr {
        let mut msg = String::from(before);
        msg.push_str(&t.describe());
        msg.push_str(after);
        self.syntax(offset, msg)
    }

    fn never_closed(&self, tag: &str, tok: Tok) -> PErr {
        self.syntax(tok.start, format!("'{tag}' tag was never closed (expected '{{% end{tag} %}}')"))
    }

    /// One tag. Returns the nodes it compiles to (none for comments) and whether it is blank.
    fn tag(&mut self, name: &'s str, m: (usize, usize), tok: Tok) -> Result<(Vec<Node>, bool), PErr> {
        let at = tok.start;
        match name {
            "if" | "unless" => {
                self.enter(at)?;
                let end_name = if name == "if" { "endif" } else { "endunless" };
                let mut branches = Vec::new();
                let mut cond = Some(self.cond_markup(m)?);
                let mut all_blank = true;
                loop {
                    let (body, blank, end) = self.body(&["elsif", "else", end_name])?;
                    all_blank &= blank;
                    branches.push((cond.take(), body));
                    match end {
                        Some(e) if e.name == "elsif" => cond = Some(self.cond_markup(e.markup)?),
                        Some(e) if e.name == "else" => cond = None,
                        Some(_) => break,
                        None => return Err(self.never_closed(name, tok)),
                    }
                }
                self.depth -= 1;
                if all_blank {
                    for (_, b) in &mut branches {
                        self.strip_blank(b);
                    }
                }
                let node = Node::If(Box::new(IfNode { branches, unless: name == "unless", pos: self.pos(at) }));
                Ok((vec![node], all_blank))
            }
            "case" => {
                self.enter(at)?;
                let mut c = self.cur(m)?;
                if c.peek() == T::End {
                    return Err(self.syntax(m.0, "'case' needs a value to compare (found nothing)"));
                }
                let subject = self.expr(&mut c, 0)?.0;
                self.expect_end(&c, "after the 'case' value")?;
                let (_, mut all_blank, mut end) = self.body(&["when", "else", "endcase"])?;
                let mut arms = Vec::new();
                let mut bodies = Vec::new();
                loop {
                    let Some(e) = end else { return Err(self.never_closed("case", tok)) };
                    if e.name == "endcase" {
                        break;
                    }
                    let idx = u32::try_from(bodies.len()).unwrap_or(u32::MAX);
                    if e.name == "when" {
                        let mut c = self.cur(e.markup)?;
                        if c.peek() == T::End {
                            return Err(self.syntax(e.start, "'when' needs at least one value (found nothing)"));
                        }
                        loop {
                            let (v, _) = self.expr(&mut c, 0)?;
                            arms.push((Some(v), idx));
                            if c.eat(T::Comma) || c.eat_ident("or") {
                                continue;
                            }
                            self.expect_end(&c, "in 'when' (values are separated by ',' or 'or')")?;
                            break;
                        }
                    } else {
                        arms.push((None, idx));
                    }
                    let (body, blank, next) = self.body(&["when", "else", "endcase"])?;
                    all_blank &= blank;
                    bodies.push(body);
                    end = next;
                }
                self.depth -= 1;
                if all_blank {
                    for b in &mut bodies {
                        self.strip_blank(b);
                    }
                }
                Ok((vec![Node::Case(Box::new(CaseNode { subject, arms, bodies, pos: self.pos(at) }))], all_blank))
            }
            "for" => {
                self.enter(at)?;
                let mut c = self.cur(m)?;
                let (var, coll, coll_text) = self.loop_head(&mut c, "for")?;
                let mut limit = None;
                let mut offset = Offset::None;
                let mut reversed = false;
                loop {
                    match c.peek() {
                        T::End => break,
                        T::Comma => {
                            c.bump();
                        }
                        T::Ident("reversed") => {
                            c.bump();
                            reversed = true;
                        }
                        T::Ident(attr @ ("limit" | "offset")) => {
                            c.bump();
                            if !c.eat(T::Colon) {
                                return Err(self.syntax(
                                    c.off(),
                                    format!("expected ':' after '{attr}', found {}", c.peek().describe()),
                                ));
                            }
                            if attr == "offset" && c.peek() == T::Ident("continue") {
                                c.bump();
                                offset = Offset::Continue;
                                self.b.prog.uses_continue = true;
                            } else {
                                let e = self.expr(&mut c, 0)?.0;
                                if attr == "limit" {
                                    limit = Some(e);
                                } else {
                                    offset = Offset::Expr(e);
                                }
                            }
                        }
                        t => {
                            return Err(self.found(
                                c.off(),
                                "unexpected ",
                                t,
                                " in 'for' (expected 'limit:', 'offset:' or 'reversed')",
                            ))
                        }
                    }
                }
                let var_name = self.b.prog.symbols.get(var as usize).map(|s| s.to_string()).unwrap_or_default();
                self.loop_vars.push(var);
                let (mut body, blank1, end) = self.body(&["else", "endfor"])?;
                let (mut else_body, blank2) = match end {
                    Some(e) if e.name == "else" => {
                        let (b, blank, end2) = self.body(&["endfor"])?;
                        if end2.is_none() {
                            return Err(self.never_closed("for", tok));
                        }
                        (b, blank)
                    }
                    Some(_) => (Vec::new(), true),
                    None => return Err(self.never_closed("for", tok)),
                };
                self.loop_vars.pop();
                self.depth -= 1;
                let blank = blank1 && blank2;
                if blank {
                    self.strip_blank(&mut body);
                    self.strip_blank(&mut else_body);
                }
                let node = ForNode {
                    var,
                    collection: coll,
                    name: format!("{var_name}-{coll_text}").into(),
                    limit,
                    offset,
                    reversed,
                    body,
                    else_body,
                    pos: self.pos(at),
                };
                Ok((vec![Node::For(Box::new(node))], blank))
            }
            "tablerow" => {
                self.enter(at)?;
                let mut c = self.cur(m)?;
                let (var, coll, _) = self.loop_head(&mut c, "tablerow")?;
                let (mut cols, mut limit, mut offset) = (None, None, None);
                loop {
                    match c.peek() {
                        T::End => break,
                        T::Comma => {
                            c.bump();
                        }
                        T::Ident(attr @ ("cols" | "limit" | "offset")) => {
                            c.bump();
                            if !c.eat(T::Colon) {
                                return Err(self.syntax(
                                    c.off(),
                                    format!("expected ':' after '{attr}', found {}", c.peek().describe()),
                                ));
                            }
                            let e = Some(self.expr(&mut c, 0)?.0);
                            match attr {
                                "cols" => cols = e,
                                "limit" => limit = e,
                                _ => offset = e,
                            }
                        }
                        t => {
                            return Err(self.found(
                                c.off(),
                                "unexpected ",
                                t,
                                " in 'tablerow' (expected 'cols:', 'limit:' or 'offset:')",
                            ))
                        }
                    }
                }
                self.loop_vars.push(var);
                let (body, blank, end) = self.body(&["endtablerow"])?;
                self.loop_vars.pop();
                if end.is_none() {
                    return Err(self.never_closed("tablerow", tok));
                }
                self.depth -= 1;
                let node = TableRowNode { var, collection: coll, cols, limit, offset, body, pos: self.pos(at) };
                Ok((vec![Node::TableRow(Box::new(node))], blank))
            }
            "capture" => {
                self.enter(at)?;
                let target = self.target(m, "capture", true)?;
                let (body, _, end) = self.body(&["endcapture"])?;
                if end.is_none() {
                    return Err(self.never_closed("capture", tok));
                }
                self.depth -= 1;
                Ok((vec![Node::Capture(target, body)], true))
            }
            "ifchanged" => {
                self.enter(at)?;
                let (body, blank, end) = self.body(&["endifchanged"])?;
                if end.is_none() {
                    return Err(self.never_closed("ifchanged", tok));
                }
                self.depth -= 1;
                Ok((vec![Node::IfChanged(body)], blank))
            }
            "comment" => {
                self.skip_comment(tok)?;
                Ok((Vec::new(), true))
            }
            "raw" | "doc" => {
                if name == "doc" && !self.markup(m).trim().is_empty() {
                    return Err(self
                        .syntax(m.0, format!("'doc' takes no arguments (found {})", snippet(self.markup(m).trim()))));
                }
                let body = match self.toks.get(self.i).copied() {
                    Some(t) if t.kind == TokKind::RawBody => t,
                    _ => return Err(self.syntax(at, format!("'{name}' is not supported here"))),
                };
                self.i += 1;
                let closed = self.toks.get(self.i).is_some_and(|t| t.kind == TokKind::Tag);
                if !closed {
                    return Err(self.never_closed(name, tok));
                }
                self.i += 1;
                if name == "doc" {
                    let text = self.src.get(body.start..body.end).unwrap_or("");
                    if text.contains("{% doc") || text.contains("{%- doc") {
                        return Err(self.syntax(body.start, "'doc' blocks cannot be nested"));
                    }
                    return Ok((Vec::new(), true));
                }
                let node = self.text_node(body.start, body.end)?;
                let blank = node.is_none();
                Ok((node.into_iter().collect(), blank))
            }
            "#" => {
                let text = self.src.get(m.0..m.1).unwrap_or("");
                for line in text.split('\n').skip(1) {
                    let l = line.trim_matches(|c: char| c.is_ascii_whitespace());
                    if !l.is_empty() && !l.starts_with('#') {
                        return Err(self.syntax(
                            m.0,
                            format!("every line of an inline comment must start with '#' (found {})", snippet(l)),
                        ));
                    }
                }
                Ok((Vec::new(), true))
            }
            "assign" => {
                let markup = self.markup(m);
                let Some(eq) = markup.find('=') else {
                    return Err(
                        self.syntax(m.0, format!("expected 'assign name = value', found {}", snippet(markup.trim())))
                    );
                };
                let target = self.target((m.0, m.0 + eq), "assign", false)?;
                let value = self.pipeline_markup(m.0 + eq + 1, m.1)?;
                Ok((vec![Node::Assign(target, Box::new(value), self.check_pos(at))], true))
            }
            "increment" | "decrement" => {
                let target = self.target(m, name, false)?;
                // The counter starts from the data's value of its name: read it.
                let counter = self.markup(m).trim_matches(|c: char| c.is_ascii_whitespace()).into();
                self.record(Some(vec![counter]), false);
                Ok((vec![if name == "increment" { Node::Increment(target) } else { Node::Decrement(target) }], false))
            }
            "cycle" => {
                let mut c = self.cur(m)?;
                if c.peek() == T::End {
                    return Err(self.syntax(m.0, "'cycle' needs values (found nothing)"));
                }
                let named = c.peek_at(1) == T::Colon;
                let key = if named {
                    let (e, _) = self.expr(&mut c, 0)?;
                    c.bump();
                    Some(e)
                } else {
                    None
                };
                let mut values = Vec::new();
                let mut texts = Vec::new();
                loop {
                    let (v, t) = self.expr(&mut c, 0)?;
                    values.push(v);
                    texts.push(t);
                    if c.eat(T::Comma) {
                        continue;
                    }
                    self.expect_end(&c, "in 'cycle' (values are separated by ',')")?;
                    break;
                }
                let key = match key {
                    Some(k) => CycleKey::Named(k),
                    None => CycleKey::Anon(texts.join(", ").into()),
                };
                Ok((vec![Node::Cycle(Box::new(CycleNode { key, values, pos: self.pos(at) }))], false))
            }
            "echo" => {
                let pipeline = if self.markup(m).trim().is_empty() {
                    Pipeline { expr: Expr::Lit(Lit::Nil), filters: Box::new([]) }
                } else {
                    self.pipeline_markup(m.0, m.1)?
                };
                Ok((vec![Node::Output(Box::new(pipeline), self.expr_pos(m.0, m.1))], false))
            }
            "break" | "continue" => {
                let node = if name == "break" { Node::Break } else { Node::Continue };
                Ok((vec![node], false))
            }
            "liquid" => self.liquid(m),
            "include" | "render" => Ok((vec![self.include(name, m, at)?], false)),
            _ if END_TAGS.contains(&name) => {
                Err(self.syntax(at, format!("unexpected '{name}' (it does not close or continue any open block here)")))
            }
            _ => {
                let hint = crate::error::suggest(name, BLOCK_TAGS.iter().chain(END_TAGS).copied()).map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default();
                Err(self.error(Code::UnknownTag, at, format!("unknown tag '{name}'{hint}")))
            }
        }
    }

    /// `var in collection`: the loop variable, the collection and the collection's text.
    fn loop_head(&mut self, c: &mut Cur<'s>, tag: &str) -> Result<(Sym, Expr, String), PErr> {
        let var = match c.bump() {
            T::Ident(v) => self.b.sym(v),
            t => {
                return Err(
                    self.syntax(c.off(), format!("expected a variable name after '{tag}', found {}", t.describe()))
                )
            }
        };
        if !c.eat_ident("in") {
            return Err(self.syntax(c.off(), format!("expected 'in' in '{tag}', found {}", c.peek().describe())));
        }
        if c.peek() == T::End {
            return Err(self.found(c.off(), "expected a collection after 'in', found ", c.peek(), ""));
        }
        let (coll, text) = self.expr(c, 0)?;
        Ok((var, coll, text))
    }

    /// The variable name of `assign`, `capture`, `increment`, `decrement`.
    fn target(&mut self, m: (usize, usize), tag: &str, allow_quoted: bool) -> Result<Sym, PErr> {
        let raw = self.markup(m).trim_matches(|c: char| c.is_ascii_whitespace());
        let name = if allow_quoted
            && raw.len() >= 2
            && (raw.starts_with('\'') && raw.ends_with('\'') || raw.starts_with('"') && raw.ends_with('"'))
        {
            raw.get(1..raw.len() - 1).unwrap_or("")
        } else {
            raw
        };
        let valid = !name.is_empty()
            && !name.starts_with('-')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || (!c.is_ascii() && c.is_alphanumeric()));
        if !valid {
            return Err(self.syntax(
                m.0,
                format!(
                    "'{tag}' needs a variable name (letters, digits, '_' and '-'), found {}",
                    if raw.is_empty() { "nothing".to_string() } else { snippet(raw) }
                ),
            ));
        }
        Ok(self.b.sym(name))
    }

    fn strip_blank(&self, block: &mut Block) {
        let text = &self.b.prog.text;
        block.retain(|n| match n {
            Node::Text(a, z) => !text.get(*a as usize..*z as usize).unwrap_or("").bytes().all(lexer::is_ruby_space),
            _ => true,
        });
    }

    /// Skips a comment body (tokens are not parsed, nested comments are counted).
    fn skip_comment(&mut self, open: Tok) -> Result<(), PErr> {
        let mut depth = 1;
        while let Some(tok) = self.toks.get(self.i).copied() {
            self.i += 1;
            if tok.kind != TokKind::Tag {
                continue;
            }
            let name =
                lexer::tag_name_span(self.src, tok.inner_start, tok.inner_end).and_then(|(a, b)| self.src.get(a..b));
            match name {
                Some("comment") => depth += 1,
                Some("endcomment") => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        Err(self.never_closed("comment", open))
    }

    /// `{% liquid %}`: one tag per line. Returns the nodes and whether they are blank.
    fn liquid(&mut self, m: (usize, usize)) -> Result<(Vec<Node>, bool), PErr> {
        self.enter(m.0)?;
        let mut line_toks = Vec::new();
        let mut start = m.0;
        let text = self.markup(m);
        for line in text.split('\n') {
            let end = start + line.len();
            let content = line.trim_matches(|c: char| c.is_ascii_whitespace());
            if !content.is_empty() {
                line_toks.push(Tok {
                    kind: TokKind::Tag,
                    start,
                    end,
                    inner_start: start,
                    inner_end: end,
                    trim_left: false,
                    trim_right: false,
                });
            }
            start = end + 1;
        }
        let saved_toks = std::mem::replace(&mut self.toks, line_toks);
        let saved_i = std::mem::replace(&mut self.i, 0);
        let result = self.body(&[]);
        self.toks = saved_toks;
        self.i = saved_i;
        let (nodes, blank, end) = result?;
        if let Some(e) = end {
            return Err(self.syntax(e.start, format!("unexpected '{}' in 'liquid'", e.name)));
        }
        self.depth -= 1;
        Ok((nodes, blank))
    }

    fn include(&mut self, tag: &str, m: (usize, usize), at: usize) -> Result<Node, PErr> {
        let mut c = self.cur(m)?;
        let (partial, default_name) = match c.peek() {
            T::Str(name) => {
                c.bump();
                let idx = match partial_index(self.b, name)? {
                    Ok(i) => i,
                    Err(msg) => return Err(self.syntax(m.0, msg)),
                };
                (PartialRef::Static(idx), Some(name))
            }
            T::End => {
                return Err(self.syntax(m.0, format!("'{tag}' needs the name of a partial template (found nothing)")))
            }
            _ if tag == "include" => {
                self.b.prog.reads_all = true;
                (PartialRef::Dynamic(self.expr(&mut c, 0)?.0), None)
            }
            t => {
                return Err(self.found(c.off(), "'render' needs a quoted partial name, found ", t, ""));
            }
        };
        let mut bind = None;
        if matches!(c.peek(), T::Ident("with" | "for")) {
            let is_for = c.bump() == T::Ident("for");
            bind = Some((self.expr(&mut c, 0)?.0, is_for));
        }
        let mut alias = None;
        if c.eat_ident("as") {
            match c.bump() {
                T::Ident(a) => alias = Some(self.b.sym(a)),
                t => return Err(self.found(c.off(), "expected a name after 'as', found ", t, "")),
            }
        }
        let mut args = Vec::new();
        loop {
            match (c.peek(), c.peek_at(1)) {
                (T::End, _) => break,
                (T::Comma, _) => {
                    c.bump();
                }
                (T::Ident(k), T::Colon) => {
                    c.bump();
                    c.bump();
                    let key = self.b.sym(k);
                    args.push((key, self.expr(&mut c, 0)?.0));
                }
                (t, _) => {
                    return Err(self.syntax(
                        c.off(),
                        format!("unexpected {} in '{tag}' (expected 'name: value' arguments)", t.describe()),
                    ));
                }
            }
        }
        if alias.is_none() {
            if let Some(n) = default_name {
                alias = Some(self.b.sym(n));
            }
        }
        Ok(Node::Include(Box::new(IncludeNode {
            partial,
            bind,
            alias,
            args,
            isolated: tag == "render",
            pos: self.pos(at),
        })))
    }

    // ---- expressions ----------------------------------------------------------------------

    fn pipeline_markup(&mut self, start: usize, end: usize) -> Result<Pipeline, PErr> {
        let mut c = self.cur((start, end))?;
        if c.peek() == T::End {
            return Ok(Pipeline { expr: Expr::Lit(Lit::Nil), filters: Box::new([]) });
        }
        let expr = self.expr(&mut c, 0)?.0;
        let mut filters: Vec<FilterCall> = Vec::new();
        loop {
            match c.peek() {
                T::End => break,
                T::Pipe => {
                    c.bump();
                    filters.push(self.filter(&mut c)?);
                }
                t => {
                    let msg = match filters.last() {
                        Some(f) if f.args.is_empty() && f.allow_false.is_none() => format!(
                            "unexpected {} after filter '{}' (arguments follow a ':', as in '{}: …'; or expected '|' or the end)",
                            t.describe(),
                            f.filter.name(),
                            f.filter.name()
                        ),
                        Some(f) => format!("unexpected {} after filter '{}' (expected ',' between arguments, '|' or the end)", t.describe(), f.filter.name()),
                        None => format!("unexpected {} after a value (expected '|' and a filter, or the end)", t.describe()),
                    };
                    return Err(self.syntax(c.off(), msg));
                }
            }
        }
        Ok(Pipeline { expr, filters: filters.into_boxed_slice() })
    }

    fn filter(&mut self, c: &mut Cur<'s>) -> Result<FilterCall, PErr> {
        let at = c.off();
        let name = match c.bump() {
            T::Ident(n) => n,
            t => return Err(self.found(at, "expected a filter name after '|', found ", t, "")),
        };
        let Some(filter) = Filter::from_name(name) else {
            let hint = suggest(name, FILTER_NAMES).map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default();
            return Err(self.error(Code::UnknownFilter, at, format!("unknown filter '{name}'{hint}")));
        };
        let mut args = Vec::new();
        let mut allow_false = None;
        if c.eat(T::Colon) {
            loop {
                if let (T::Ident(k), T::Colon) = (c.peek(), c.peek_at(1)) {
                    let kat = c.off();
                    c.bump();
                    c.bump();
                    let v = self.expr(c, 0)?.0;
                    if filter == Filter::Default && k == "allow_false" {
                        allow_false = Some(v);
                    } else {
                        return Err(
                            self.syntax(kat, format!("filter '{}' has no keyword argument '{k}'", filter.name()))
                        );
                    }
                } else {
                    if c.peek() == T::End || c.peek() == T::Pipe {
                        return Err(self.syntax(
                            c.off(),
                            format!("expected an argument for '{}', found {}", filter.name(), c.peek().describe()),
                        ));
                    }
                    args.push(self.expr(c, 0)?.0);
                }
                if !c.eat(T::Comma) {
                    break;
                }
            }
        }
        let (min, max) = filter.arity();
        if args.len() < min || args.len() > max {
            let expected = if min == max {
                format!("{min} argument{}", if min == 1 { "" } else { "s" })
            } else {
                format!("{min} to {max} arguments")
            };
            return Err(self.syntax(at, format!("filter '{}' takes {expected}, got {}", filter.name(), args.len())));
        }
        // `truncate: 'ten'` fails every render ("invalid integer"): a literal text that is no
        // integer is refused here, where `kizuna check` sees it, instead of for every user.
        let counts = match filter {
            Filter::Truncate | Filter::Truncatewords => 1,
            Filter::Slice => 2,
            _ => 0,
        };
        for arg in args.iter().take(counts) {
            if let Expr::Lit(Lit::Str(s)) = arg {
                if super::number::parse_ruby_integer(s).is_none() {
                    return Err(self.syntax(
                        at,
                        format!("filter '{}' takes a whole number, got the text '{s}' (write e.g. {}: 20)", filter.name(), filter.name()),
                    ));
                }
            }
        }
        if filter == Filter::TimeZone {
            if let Some(Expr::Lit(Lit::Str(z))) = args.first() {
                if crate::tz::parse_zone(z).is_none() {
                    return Err(self.syntax(
                        at,
                        format!("time_zone: unknown time zone '{z}': {}", crate::tz::ZONE_HELP),
                    ));
                }
            }
        }
        Ok(FilterCall { filter, args: args.into_boxed_slice(), allow_false, pos: self.pos(at) })
    }

    fn cond_markup(&mut self, m: (usize, usize)) -> Result<Cond, PErr> {
        let mut c = self.cur(m)?;
        if c.peek() == T::End {
            return Err(self.syntax(m.0, "expected a condition, found nothing"));
        }
        let cond = self.cond(&mut c, 0)?;
        match c.peek() {
            T::End => Ok(cond),
            T::Assign => Err(self.syntax(c.off(), "'=' assigns; to compare use '==' (found '=' in a condition)")),
            t => Err(self.found(
                c.off(),
                "unexpected ",
                t,
                " in a condition (expected 'and', 'or', a comparison or the end)",
            )),
        }
    }

    /// `cmp (and|or cond)?`, right-associative as Liquid evaluates it.
    fn cond(&mut self, c: &mut Cur<'s>, depth: usize) -> Result<Cond, PErr> {
        if depth > self.b.limits.max_nesting.max(8) * 4 {
            return Err(self.error(Code::LimitExceeded, c.off(), "the condition has too many 'and'/'or' parts"));
        }
        let left = self.comparison(c)?;
        if c.eat_ident("and") {
            let right = self.cond(c, depth + 1)?;
            return Ok(Cond::And(Box::new((left, right))));
        }
        if c.eat_ident("or") {
            let right = self.cond(c, depth + 1)?;
            return Ok(Cond::Or(Box::new((left, right))));
        }
        Ok(left)
    }

    fn comparison(&mut self, c: &mut Cur<'s>) -> Result<Cond, PErr> {
        let a = self.expr(c, 0)?.0;
        let op = match c.peek() {
            T::Cmp(op) => match op {
                "==" => CmpOp::Eq,
                "!=" | "<>" => CmpOp::Ne,
                "<" => CmpOp::Lt,
                "<=" => CmpOp::Le,
                ">" => CmpOp::Gt,
                _ => CmpOp::Ge,
            },
            T::Ident("contains") => CmpOp::Contains,
            _ => return Ok(Cond::Test(a)),
        };
        c.bump();
        if matches!(c.peek(), T::End) {
            return Err(self.syntax(c.off(), "expected a value after the comparison, found the end of the tag"));
        }
        let b = self.expr(c, 0)?.0;
        Ok(Cond::Cmp(Box::new((a, op, b))))
    }

    /// One expression and its normalized text.
    fn expr(&mut self, c: &mut Cur<'s>, depth: usize) -> Result<(Expr, String), PErr> {
        if depth >= self.b.limits.max_nesting {
            return Err(self.error(
                Code::LimitExceeded,
                c.off(),
                format!("an expression is nested more than {} deep", self.b.limits.max_nesting),
            ));
        }
        let at = c.off();
        match c.peek() {
            T::Str(s) => {
                c.bump();
                Ok((Expr::Lit(Lit::Str(s.into())), format!("'{s}'")))
            }
            T::Int(i) => {
                c.bump();
                Ok((Expr::Lit(Lit::Int(i)), i.to_string()))
            }
            T::Float(f) => {
                c.bump();
                let mut t = String::new();
                super::number::write_float(f, &mut t);
                Ok((Expr::Lit(Lit::Float(f)), t))
            }
            T::LParen => {
                c.bump();
                let (a, ta) = self.expr(c, depth + 1)?;
                if !c.eat(T::DotDot) {
                    return Err(self.found(c.off(), "expected '..' in a range, found ", c.peek(), ""));
                }
                let (b, tb) = self.expr(c, depth + 1)?;
                if !c.eat(T::RParen) {
                    return Err(self.found(c.off(), "expected ')' to close the range, found ", c.peek(), ""));
                }
                let text = format!("({ta}..{tb})");
                let lit_int = |e: &Expr| match e {
                    Expr::Lit(Lit::Int(i)) => Some(*i),
                    Expr::Lit(Lit::Float(f)) if f.is_finite() => Some(f.trunc() as i64),
                    _ => None,
                };
                match (lit_int(&a), lit_int(&b)) {
                    (Some(x), Some(y)) => Ok((Expr::Lit(Lit::Range(x, y)), text)),
                    _ => Ok((Expr::Range(Box::new((a, b))), text)),
                }
            }
            T::Ident(name) if !matches!(c.peek_at(1), T::Dot | T::LBrack) => {
                let lit = match name {
                    "nil" | "null" => Some(Lit::Nil),
                    "true" => Some(Lit::Bool(true)),
                    "false" => Some(Lit::Bool(false)),
                    "empty" => Some(Lit::Empty),
                    "blank" => Some(Lit::Blank),
                    _ => None,
                };
                match lit {
                    Some(l) => {
                        c.bump();
                        Ok((Expr::Lit(l), name.to_string()))
                    }
                    None => self.path(c, depth),
                }
            }
            T::Ident(_) | T::LBrack => self.path(c, depth),
            t => Err(self.found(at, "expected a value (a variable, string, number or range), found ", t, "")),
        }
    }

    fn path(&mut self, c: &mut Cur<'s>, depth: usize) -> Result<(Expr, String), PErr> {
        let mut text = String::new();
        let mut static_path: Option<Vec<Box<str>>> = Some(Vec::new());
        let mut local = false;
        let root = match c.bump() {
            T::Ident(name) => {
                text.push_str(name);
                let sym = self.b.sym(name);
                local = self.loop_vars.contains(&sym) || sym == self.b.prog.forloop || sym == self.b.prog.tablerowloop;
                if let Some(p) = static_path.as_mut() {
                    p.push(name.into());
                }
                Root::Sym(sym)
            }
            T::LBrack => match self.bracket(c, depth, &mut text)? {
                Expr::Lit(Lit::Str(s)) => {
                    let sym = self.b.sym(&s);
                    if let Some(p) = static_path.as_mut() {
                        p.push(s);
                    }
                    Root::Sym(sym)
                }
                other => {
                    static_path = None;
                    self.b.prog.reads_all = true;
                    Root::Dyn(other)
                }
            },
            t => return Err(self.found(c.off(), "expected a variable, found ", t, "")),
        };
        let mut segs = Vec::new();
        loop {
            match c.peek() {
                T::Dot => {
                    c.bump();
                    match c.bump() {
                        T::Ident(key) => {
                            let cmd = match key {
                                "size" => Some(Cmd::Size),
                                "first" => Some(Cmd::First),
                                "last" => Some(Cmd::Last),
                                _ => None,
                            };
                            text.push('.');
                            text.push_str(key);
                            if cmd.is_some() {
                                self.record(static_path.take(), local);
                            } else if let Some(p) = static_path.as_mut() {
                                p.push(key.into());
                            }
                            segs.push(Seg::Key(key.into(), cmd));
                        }
                        t => return Err(self.found(c.off(), "expected a property name after '.', found ", t, "")),
                    }
                }
                T::LBrack => {
                    c.bump();
                    match self.bracket(c, depth, &mut text)? {
                        Expr::Lit(Lit::Str(s)) => {
                            if let Some(p) = static_path.as_mut() {
                                p.push(s.clone());
                            }
                            segs.push(Seg::Key(s, None));
                        }
                        Expr::Lit(Lit::Int(i)) => {
                            self.record(static_path.take(), local);
                            segs.push(Seg::Index(i));
                        }
                        other => {
                            self.record(static_path.take(), local);
                            segs.push(Seg::Dyn(other));
                        }
                    }
                }
                _ => break,
            }
        }
        self.record(static_path, local);
        let path = Path { root, segs: segs.into_boxed_slice() };
        Ok((Expr::Var(Box::new(path)), text))
    }

    /// The rest of a `[expr]` lookup after its `[`: the expression, with `[text]` added to `text`.
    fn bracket(&mut self, c: &mut Cur<'s>, depth: usize, text: &mut String) -> Result<Expr, PErr> {
        let (e, t) = self.expr(c, depth + 1)?;
        if !c.eat(T::RBrack) {
            return Err(self.found(c.off(), "expected ']', found ", c.peek(), ""));
        }
        text.push('[');
        text.push_str(&t);
        text.push(']');
        Ok(e)
    }

    /// Notes a data path the template reads (for [`super::Template::projection`]).
    fn record(&mut self, path: Option<Vec<Box<str>>>, local: bool) {
        if let Some(p) = path {
            if !local && !p.is_empty() {
                self.b.reads.push(p);
            }
        }
    }
}

fn snippet(s: &str) -> String {
    let short: String = s.chars().take(30).collect();
    if short.len() < s.len() {
        format!("'{short}…'")
    } else {
        format!("'{short}'")
    }
}

/// The closest known name, if it is close enough to be a typo.
fn suggest<'n>(name: &str, known: &[&'n str]) -> Option<&'n str> {
    crate::error::suggest(name, known.iter().copied())
}
