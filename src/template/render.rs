//! Renders a compiled [`Program`] into one output `String`.
//!
//! Variables live in three layers looked up in order: the scope stack (loop variables,
//! `forloop`, `include` arguments), the template's own variables (`assign`, `capture`, indexed
//! by symbol so a lookup is one array access), and the globals (borrowed, never copied).
//! Limits are checked as the render goes: output size after each write, loop iterations before
//! each iteration (all loops together), nesting of includes, and the work filters do.

use super::ast::*;
use super::filters::{self, Args, Env, FErr};
use super::val::{compare, contains, liquid_eq, Members, Rel, Seq, Val};
use super::{Limits, RenderOptions};
use crate::error::{Code, Error};

/// Errors inside the renderer are boxed (as in the parser): the `Result`s passed up through
/// every node and expression stay small on the error side. Unboxed once, in [`render`].
type RErr = Box<Error>;
use crate::value::Value;
use std::cmp::Ordering;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

struct LoopState<'r> {
    name: &'r str,
    index0: usize,
    length: usize,
    /// The enclosing `for` loop (for `forloop.parentloop`).
    parent: Option<u32>,
    /// `tablerow`: columns, current column and row.
    table: Option<(usize, usize, usize)>,
}

enum CycleKeyVal<'r> {
    Named(Val<'r>),
    Anon(&'r str),
}

struct Scope<'r> {
    /// Indexed by symbol; allocated on the first assignment (most templates assign nothing).
    vars: Vec<Option<Val<'r>>>,
    symbols: usize,
    stack: Vec<(Sym, Val<'r>)>,
    loops: Vec<LoopState<'r>>,
    /// Index (in `loops`) of the innermost `for` loop.
    current_for: Option<u32>,
    /// State of the rarer tags, allocated by the first of them: a scope is made and dropped
    /// per render, and four empty collections fewer to drop is measurable on short templates.
    rare: Option<Box<Rare<'r>>>,
    /// `render` partials see only their arguments, not the globals.
    globals: bool,
}

/// `increment`/`decrement` counters, `cycle` positions, `offset: continue` positions and the
/// last `ifchanged` output.
#[derive(Default)]
struct Rare<'r> {
    counters: Vec<(Sym, i64)>,
    cycles: Vec<(CycleKeyVal<'r>, usize)>,
    offsets: Vec<(&'r str, usize)>,
    ifchanged: Option<String>,
}

impl<'r> Scope<'r> {
    fn rare(&mut self) -> &mut Rare<'r> {
        self.rare.get_or_insert_with(Box::default)
    }

    fn set_var(&mut self, sym: Sym, v: Val<'r>) {
        if self.vars.is_empty() {
            self.vars.resize(self.symbols, None);
        }
        if let Some(slot) = self.vars.get_mut(sym as usize) {
            *slot = Some(v);
        }
    }

    fn new(symbols: usize, globals: bool) -> Self {
        Scope {
            vars: Vec::new(),
            symbols,
            stack: Vec::new(),
            loops: Vec::new(),
            current_for: None,
            rare: None,
            globals,
        }
    }
}

pub(crate) struct Renderer<'r> {
    prog: &'r Program,
    globals: &'r Members<'r>,
    env: Env,
    limits: &'r Limits,
    iterations: u64,
    depth: usize,
    /// Outputs double their braces (see [`Program::escape_braces`]); off inside `capture`, whose
    /// text is escaped when it is output.
    escape_braces: bool,
}

/// One item sequence a loop walks.
enum LoopSeq<'a, 'r> {
    Seq(Seq<'a, 'r>, usize, usize),
    Pairs(&'r Members<'r>, usize, usize),
    One(Val<'r>),
    Empty,
}

impl<'r> LoopSeq<'_, 'r> {
    fn len(&self) -> usize {
        match self {
            LoopSeq::Seq(_, a, b) | LoopSeq::Pairs(_, a, b) => b.saturating_sub(*a),
            LoopSeq::One(_) => 1,
            LoopSeq::Empty => 0,
        }
    }

    fn get(&self, i: usize) -> Val<'r> {
        match self {
            LoopSeq::Seq(s, a, _) => s.get(a.saturating_add(i)).unwrap_or(Val::Nil),
            LoopSeq::Pairs(m, a, _) => match m.get(a.saturating_add(i)) {
                Some((k, v)) => Val::list(vec![Val::Str(k), Val::from_data(v)]),
                None => Val::Nil,
            },
            LoopSeq::One(v) => v.clone(),
            LoopSeq::Empty => Val::Nil,
        }
    }
}

fn slice_range(len: usize, from: usize, to: Option<usize>) -> (usize, usize) {
    let a = from.min(len);
    let b = to.map_or(len, |t| t.min(len)).max(a);
    (a, b)
}

/// Liquid's `slice_collection` for `for` and `tablerow`.
fn loop_seq<'a, 'r>(coll: &'a Val<'r>, from: usize, to: Option<usize>) -> LoopSeq<'a, 'r> {
    match coll {
        Val::Array(_) | Val::List(_) | Val::Range(..) => match coll.seq() {
            Some(seq) => {
                let (a, b) = slice_range(seq.len(), from, to);
                LoopSeq::Seq(seq, a, b)
            }
            None => LoopSeq::Empty,
        },
        Val::Object(m) => {
            let (a, b) = slice_range(m.len(), from, to);
            LoopSeq::Pairs(m, a, b)
        }
        Val::Str(_) | Val::Owned(_) if !coll.is_empty_value() => LoopSeq::One(coll.clone()),
        _ => LoopSeq::Empty,
    }
}

static EMPTY_MEMBERS: [(std::borrow::Cow<'static, str>, Value<'static>); 0] = [];

pub(crate) fn render<'r>(
    prog: &'r Program,
    globals: &'r Value<'r>,
    opts: &RenderOptions<'r>,
    out: &mut String,
) -> Result<(), Error> {
    let limits = opts.limits;
    let members: &'r Members<'r> = match globals {
        Value::Object(m) => m,
        _ => &EMPTY_MEMBERS,
    };
    let max_work =
        (limits.max_output_bytes as u64).saturating_mul(64).saturating_add(limits.max_iterations.saturating_mul(100));
    let mut r = Renderer {
        prog,
        globals: members,
        env: Env { now: opts.now, tz: opts.tz, locale: opts.locale, max_string: limits.max_output_bytes, work: 0, max_work },
        limits,
        iterations: 0,
        depth: 0,
        escape_braces: prog.escape_braces,
    };
    let mut scope = Scope::new(prog.symbols.len(), true);
    // At least 1 KiB: a caller rendering several short templates into one reused buffer (a
    // content's messages) then allocates it once instead of growing it template by template.
    out.reserve((prog.text.len() + prog.text.len() / 2 + 128).max(1024));
    match r.block(&mut scope, &prog.body, out) {
        Ok(_) => Ok(()),
        Err(e) => Err(*e),
    }
}

impl<'r> Renderer<'r> {
    fn error(&self, code: Code, pos: Pos, msg: impl Into<String>) -> RErr {
        let mut e = Error::new(code, "", msg);
        if pos.line > 0 {
            e.line = Some(pos.line);
            e.column = Some(pos.col);
        }
        Box::new(e)
    }

    fn filter_error(&self, e: FErr, call: &FilterCall) -> RErr {
        match e {
            FErr::Render(m) => {
                self.error(Code::TemplateRender, call.pos, format!("filter '{}': {m}", call.filter.name()))
            }
            FErr::Limit(m) => self.error(Code::LimitExceeded, call.pos, m),
        }
    }

    #[inline]
    fn check_out(&self, out: &str, pos: Pos) -> Result<(), RErr> {
        if out.len() > self.limits.max_output_bytes {
            return Err(self.error(
                Code::LimitExceeded,
                pos,
                format!("the output is longer than the limit of {} bytes", self.limits.max_output_bytes),
            ));
        }
        Ok(())
    }

    fn tick(&mut self, pos: Pos) -> Result<(), RErr> {
        self.iterations += 1;
        if self.iterations > self.limits.max_iterations {
            return Err(self.error(
                Code::LimitExceeded,
                pos,
                format!("more than {} loop iterations in one render (all loops together)", self.limits.max_iterations),
            ));
        }
        Ok(())
    }

    fn nested(&mut self, sc: &mut Scope<'r>, body: &'r [Node], out: &mut String, pos: Pos) -> Result<Flow, RErr> {
        self.depth += 1;
        if self.depth > self.limits.max_nesting.saturating_mul(3) {
            return Err(self.error(
                Code::LimitExceeded,
                pos,
                format!(
                    "blocks and partials are nested more than {} deep while rendering",
                    self.limits.max_nesting.saturating_mul(3)
                ),
            ));
        }
        let r = self.block(sc, body, out);
        self.depth -= 1;
        r
    }

    fn block(&mut self, sc: &mut Scope<'r>, nodes: &'r [Node], out: &mut String) -> Result<Flow, RErr> {
        for node in nodes {
            let flow = self.node(sc, node, out)?;
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn node(&mut self, sc: &mut Scope<'r>, node: &'r Node, out: &mut String) -> Result<Flow, RErr> {
        match node {
            Node::Text(a, z) => {
                out.push_str(self.prog.text.get(*a as usize..*z as usize).unwrap_or(""));
                self.check_out(out, Pos::default())?;
            }
            Node::Output(p, pos) => {
                self.output(sc, p, out)?;
                self.check_out(out, *pos)?;
            }
            Node::If(n) => {
                for (i, (cond, body)) in n.branches.iter().enumerate() {
                    let hit = match cond {
                        None => true,
                        Some(c) => {
                            let r = self.cond(sc, c, n.pos)?;
                            if i == 0 && n.unless {
                                !r
                            } else {
                                r
                            }
                        }
                    };
                    if hit {
                        return self.nested(sc, body, out, n.pos);
                    }
                }
            }
            Node::Case(n) => {
                let subject = self.eval(sc, &n.subject)?;
                let mut run_else = true;
                for (value, idx) in &n.arms {
                    let run = match value {
                        Some(e) => {
                            let v = self.eval(sc, e)?;
                            let hit = liquid_eq(&subject, &v);
                            run_else &= !hit;
                            hit
                        }
                        None => run_else,
                    };
                    if run {
                        if let Some(body) = n.bodies.get(*idx as usize) {
                            let flow = self.nested(sc, body, out, n.pos)?;
                            if flow != Flow::Normal {
                                return Ok(flow);
                            }
                        }
                    }
                }
            }
            Node::For(n) => return self.for_loop(sc, n, out),
            Node::TableRow(n) => return self.tablerow(sc, n, out),
            Node::Assign(sym, p, _) => {
                let v = self.pipeline(sc, p)?;
                sc.set_var(*sym, v);
            }
            Node::Capture(sym, body) => {
                let mut buf = String::new();
                let escape = std::mem::replace(&mut self.escape_braces, false);
                let flow = self.nested(sc, body, &mut buf, Pos::default());
                self.escape_braces = escape;
                sc.set_var(*sym, Val::owned(buf));
                return flow;
            }
            Node::Increment(sym) | Node::Decrement(sym) => {
                let inc = matches!(node, Node::Increment(_));
                let idx = match sc.rare().counters.iter().position(|(s, _)| s == sym) {
                    Some(i) => i,
                    None => {
                        // As Shopify: a counter starts from the data's value of that name.
                        let start = match self.global(sc, *sym) {
                            Val::Nil => 0,
                            Val::Int(i) => i,
                            other => {
                                let name = self.prog.symbols.get(*sym as usize).map_or("", |n| &**n);
                                let held = match other {
                                    Val::Array(_) | Val::List(_) | Val::Range(..) => "a list",
                                    Val::Object(_) => "an object",
                                    Val::Str(_) | Val::Owned(_) => "text",
                                    _ => "a value",
                                };
                                let msg = format!("'{}' counts from the data's \"{name}\", which holds {held}, not a whole number: give the counter another name", if inc { "increment" } else { "decrement" });
                                return Err(self.error(Code::TemplateRender, Pos::default(), &msg));
                            }
                        };
                        let counters = &mut sc.rare().counters;
                        counters.push((*sym, start));
                        counters.len() - 1
                    }
                };
                let counters = &mut sc.rare().counters;
                if let Some((_, c)) = counters.get_mut(idx) {
                    let shown = if inc {
                        let v = *c;
                        *c = c.saturating_add(1);
                        v
                    } else {
                        *c = c.saturating_sub(1);
                        *c
                    };
                    Val::Int(shown).write_output(out);
                }
                self.check_out(out, Pos::default())?;
            }
            Node::Cycle(n) => {
                let key = match &n.key {
                    CycleKey::Named(e) => CycleKeyVal::Named(self.eval(sc, e)?),
                    CycleKey::Anon(s) => CycleKeyVal::Anon(s),
                };
                let slot = sc.rare().cycles.iter().position(|(k, _)| match (k, &key) {
                    (CycleKeyVal::Named(a), CycleKeyVal::Named(b)) => super::val::ruby_eq(a, b),
                    (CycleKeyVal::Anon(a), CycleKeyVal::Anon(b)) => a == b,
                    _ => false,
                });
                let iteration = slot.and_then(|i| sc.rare().cycles.get(i)).map_or(0, |(_, n)| *n);
                if let Some(e) = n.values.get(iteration) {
                    let v = self.eval(sc, e)?;
                    v.write_output(out);
                    self.check_out(out, n.pos)?;
                }
                let next = if iteration + 1 >= n.values.len() { 0 } else { iteration + 1 };
                let cycles = &mut sc.rare().cycles;
                match slot.and_then(|i| cycles.get_mut(i)) {
                    Some(entry) => entry.1 = next,
                    None => cycles.push((key, next)),
                }
            }
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
            Node::IfChanged(body) => {
                let mut buf = String::new();
                let flow = self.nested(sc, body, &mut buf, Pos::default())?;
                let rare = sc.rare();
                if rare.ifchanged.as_deref() != Some(buf.as_str()) {
                    out.push_str(&buf);
                    self.check_out(out, Pos::default())?;
                    rare.ifchanged = Some(buf);
                }
                return Ok(flow);
            }
            Node::Include(n) => return self.include(sc, n, out),
        }
        Ok(Flow::Normal)
    }

    fn offset_value(&mut self, sc: &mut Scope<'r>, e: &'r Expr, what: &str, pos: Pos) -> Result<Option<i64>, RErr> {
        let v = self.eval(sc, e)?;
        if v.is_nil() {
            return Ok(None);
        }
        match v.to_integer() {
            Some(i) => Ok(Some(i)),
            None => {
                let mut s = String::new();
                v.write_inspect(&mut s);
                Err(self.error(Code::TemplateRender, pos, format!("'{what}' must be an integer, got {s}")))
            }
        }
    }

    fn for_loop(&mut self, sc: &mut Scope<'r>, n: &'r ForNode, out: &mut String) -> Result<Flow, RErr> {
        let from = match &n.offset {
            Offset::None => 0,
            Offset::Continue => {
                let offsets = sc.rare.as_ref().map_or(&[][..], |r| &r.offsets);
                offsets
                    .iter()
                    .rev()
                    .find(|(k, _)| *k == &*n.name)
                    .map_or(0, |(_, v)| *v)
            }
            Offset::Expr(e) => {
                usize::try_from(self.offset_value(sc, e, "offset", n.pos)?.unwrap_or(0).max(0)).unwrap_or(0)
            }
        };
        let coll = self.eval(sc, &n.collection)?;
        let to = match &n.limit {
            None => None,
            Some(e) => self.offset_value(sc, e, "limit", n.pos)?.map(|l| {
                let l = usize::try_from(l.max(0)).unwrap_or(0);
                from.saturating_add(l)
            }),
        };
        let seq = loop_seq(&coll, from, to);
        let len = seq.len();
        let name: &'r str = &n.name;
        if self.prog.uses_continue {
            let offsets = &mut sc.rare().offsets;
            match offsets.iter_mut().find(|(k, _)| *k == name) {
                Some(entry) => entry.1 = from.saturating_add(len),
                None => offsets.push((name, from.saturating_add(len))),
            }
        }
        if len == 0 {
            return self.nested(sc, &n.else_body, out, n.pos);
        }
        let loop_idx = u32::try_from(sc.loops.len()).unwrap_or(u32::MAX);
        sc.loops.push(LoopState { name, index0: 0, length: len, parent: sc.current_for, table: None });
        let saved_for = sc.current_for.replace(loop_idx);
        let base = sc.stack.len();
        sc.stack.push((n.var, Val::Nil));
        sc.stack.push((self.prog.forloop, Val::Loop(loop_idx)));
        let mut result = Ok(Flow::Normal);
        for k in 0..len {
            if let Err(e) = self.tick(n.pos) {
                result = Err(e);
                break;
            }
            let item = seq.get(if n.reversed { len - 1 - k } else { k });
            if let Some(slot) = sc.stack.get_mut(base) {
                slot.1 = item;
            }
            if let Some(l) = sc.loops.get_mut(loop_idx as usize) {
                l.index0 = k;
            }
            match self.nested(sc, &n.body, out, n.pos) {
                Ok(Flow::Break) => break,
                Ok(_) => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        sc.stack.truncate(base);
        sc.loops.truncate(loop_idx as usize);
        sc.current_for = saved_for;
        result.map(|_| Flow::Normal)
    }

    fn tablerow(&mut self, sc: &mut Scope<'r>, n: &'r TableRowNode, out: &mut String) -> Result<Flow, RErr> {
        let coll = self.eval(sc, &n.collection)?;
        if coll.is_nil() {
            return Ok(Flow::Normal);
        }
        let lenient =
            |r: &mut Self, sc: &mut Scope<'r>, e: &'r Option<Expr>, what: &str| -> Result<Option<i64>, RErr> {
                match e {
                    None => Ok(None),
                    Some(e) => {
                        let v = r.eval(sc, e)?;
                        match v.to_i_lenient() {
                            Some(i) => Ok(Some(i)),
                            None => Err(r.error(Code::TemplateRender, n.pos, format!("'{what}' must be an integer"))),
                        }
                    }
                }
            };
        let from = usize::try_from(lenient(self, sc, &n.offset, "offset")?.unwrap_or(0).max(0)).unwrap_or(0);
        let to =
            lenient(self, sc, &n.limit, "limit")?.map(|l| from.saturating_add(usize::try_from(l.max(0)).unwrap_or(0)));
        let seq = loop_seq(&coll, from, to);
        let len = seq.len();
        let cols = match lenient(self, sc, &n.cols, "cols")? {
            Some(c) => usize::try_from(c.max(0)).unwrap_or(0),
            None => len,
        };
        out.push_str("<tr class=\"row1\">\n");
        let loop_idx = u32::try_from(sc.loops.len()).unwrap_or(u32::MAX);
        sc.loops.push(LoopState { name: "", index0: 0, length: len, parent: None, table: Some((cols, 1, 1)) });
        let base = sc.stack.len();
        sc.stack.push((n.var, Val::Nil));
        sc.stack.push((self.prog.tablerowloop, Val::Loop(loop_idx)));
        let mut result = Ok(());
        for k in 0..len {
            if let Err(e) = self.tick(n.pos) {
                result = Err(e);
                break;
            }
            if let Some(slot) = sc.stack.get_mut(base) {
                slot.1 = seq.get(k);
            }
            let (col, row) = match sc.loops.get_mut(loop_idx as usize) {
                Some(l) => {
                    l.index0 = k;
                    l.table.map_or((1, 1), |(_, c, r)| (c, r))
                }
                None => (1, 1),
            };
            out.push_str("<td class=\"col");
            push_usize(out, col);
            out.push_str("\">");
            let flow = match self.nested(sc, &n.body, out, n.pos) {
                Ok(f) => f,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            out.push_str("</td>");
            if flow == Flow::Break {
                break;
            }
            if col == cols && k + 1 != len {
                out.push_str("</tr>\n<tr class=\"row");
                push_usize(out, row + 1);
                out.push_str("\">");
            }
            if let Some(l) = sc.loops.get_mut(loop_idx as usize) {
                if let Some((c, col, row)) = l.table.as_mut() {
                    if *col == *c {
                        *col = 1;
                        *row += 1;
                    } else {
                        *col += 1;
                    }
                }
            }
            if let Err(e) = self.check_out(out, n.pos) {
                result = Err(e);
                break;
            }
        }
        sc.stack.truncate(base);
        sc.loops.truncate(loop_idx as usize);
        result?;
        out.push_str("</tr>\n");
        self.check_out(out, n.pos)?;
        Ok(Flow::Normal)
    }

    fn include(&mut self, sc: &mut Scope<'r>, n: &'r IncludeNode, out: &mut String) -> Result<Flow, RErr> {
        let idx = match &n.partial {
            PartialRef::Static(i) => *i as usize,
            PartialRef::Dynamic(e) => {
                let v = self.eval(sc, e)?;
                let name = v.to_s();
                match self.prog.partials.iter().position(|p| *p.name == *name) {
                    Some(i) => i,
                    None => {
                        return Err(self.error(
                            Code::TemplateRender,
                            n.pos,
                            format!("unknown partial template '{name}'"),
                        ))
                    }
                }
            }
        };
        let Some(partial) = self.prog.partials.get(idx) else {
            return Err(self.error(Code::TemplateRender, n.pos, "unknown partial template"));
        };
        let var = n.alias.or(partial.sym);
        let bind = match &n.bind {
            Some((e, is_for)) => Some((self.eval(sc, e)?, *is_for)),
            None => None,
        };
        let mut args = Vec::with_capacity(n.args.len());
        for (k, e) in &n.args {
            args.push((*k, self.eval(sc, e)?));
        }
        if n.isolated {
            // `render`: a new scope holding only the arguments (assignments inside may replace them).
            let mut sub = Scope::new(self.prog.symbols.len(), false);
            let set = |sub: &mut Scope<'r>, sym: Sym, v: Val<'r>| sub.set_var(sym, v);
            for (k, v) in args {
                set(&mut sub, k, v);
            }
            match bind {
                Some((v, true)) if matches!(v, Val::Array(_) | Val::List(_) | Val::Range(..) | Val::Object(_)) => {
                    let seq = loop_seq(&v, 0, None);
                    let len = seq.len();
                    sub.loops.push(LoopState {
                        name: &partial.name,
                        index0: 0,
                        length: len,
                        parent: None,
                        table: None,
                    });
                    for k in 0..len {
                        self.tick(n.pos)?;
                        if let Some(var) = var {
                            set(&mut sub, var, seq.get(k));
                        }
                        set(&mut sub, self.prog.forloop, Val::Loop(0));
                        if let Some(l) = sub.loops.get_mut(0) {
                            l.index0 = k;
                        }
                        self.nested(&mut sub, &partial.body, out, n.pos)?;
                    }
                }
                Some((v, _)) => {
                    if let Some(var) = var {
                        set(&mut sub, var, v);
                    }
                    self.nested(&mut sub, &partial.body, out, n.pos)?;
                }
                None => {
                    self.nested(&mut sub, &partial.body, out, n.pos)?;
                }
            }
            return Ok(Flow::Normal);
        }
        let base = sc.stack.len();
        sc.stack.extend(args);
        let inner = sc.stack.len();
        let mut result = Ok(Flow::Normal);
        match bind {
            Some((v, _)) if v.is_array() => {
                let items: Vec<Val<'r>> = v.seq().map(|s| s.iter().collect()).unwrap_or_default();
                for item in items {
                    if let Err(e) = self.tick(n.pos) {
                        result = Err(e);
                        break;
                    }
                    sc.stack.truncate(inner);
                    if let Some(var) = var {
                        sc.stack.push((var, item));
                    }
                    match self.nested(sc, &partial.body, out, n.pos) {
                        Ok(Flow::Normal) => {}
                        other => {
                            result = other;
                            break;
                        }
                    }
                }
            }
            Some((v, _)) => {
                if let Some(var) = var {
                    sc.stack.push((var, v));
                }
                result = self.nested(sc, &partial.body, out, n.pos);
            }
            None => result = self.nested(sc, &partial.body, out, n.pos),
        }
        sc.stack.truncate(base);
        result
    }

    // ---- expressions ----------------------------------------------------------------------

    fn pipeline(&mut self, sc: &mut Scope<'r>, p: &'r Pipeline) -> Result<Val<'r>, RErr> {
        let mut v = self.eval(sc, &p.expr)?;
        for call in p.filters.iter() {
            let args = self.args(sc, call)?;
            v = match filters::apply(call.filter, v, &args, &mut self.env) {
                Ok(v) => v,
                Err(e) => return Err(self.filter_error(e, call)),
            };
        }
        Ok(v)
    }

    /// Evaluates an output's pipeline and writes it; the last filter writes straight into `out`.
    fn output(&mut self, sc: &mut Scope<'r>, p: &'r Pipeline, out: &mut String) -> Result<(), RErr> {
        if self.escape_braces {
            let start = out.len();
            self.output_raw(sc, p, out)?;
            double_braces(out, start);
            return Ok(());
        }
        self.output_raw(sc, p, out)
    }

    fn output_raw(&mut self, sc: &mut Scope<'r>, p: &'r Pipeline, out: &mut String) -> Result<(), RErr> {
        let mut v = self.eval(sc, &p.expr)?;
        let Some((last, init)) = p.filters.split_last() else {
            v.write_output(out);
            return Ok(());
        };
        for call in init {
            let args = self.args(sc, call)?;
            v = match filters::apply(call.filter, v, &args, &mut self.env) {
                Ok(v) => v,
                Err(e) => return Err(self.filter_error(e, call)),
            };
        }
        let args = self.args(sc, last)?;
        match filters::apply_into(last.filter, v, &args, &mut self.env, out) {
            Ok(Some(v)) => v.write_output(out),
            Ok(None) => {}
            Err(e) => return Err(self.filter_error(e, last)),
        }
        Ok(())
    }

    #[inline]
    fn args(&mut self, sc: &mut Scope<'r>, call: &'r FilterCall) -> Result<Args<'r>, RErr> {
        let mut args = Args { vals: [Val::Nil, Val::Nil], count: call.args.len(), allow_false: false };
        for (slot, e) in args.vals.iter_mut().zip(call.args.iter()) {
            *slot = self.eval(sc, e)?;
        }
        if let Some(af) = &call.allow_false {
            args.allow_false = self.eval(sc, af)?.truthy();
        }
        Ok(args)
    }

    fn cond(&mut self, sc: &mut Scope<'r>, c: &'r Cond, pos: Pos) -> Result<bool, RErr> {
        match c {
            Cond::Test(e) => Ok(self.eval(sc, e)?.truthy()),
            Cond::And(ab) => Ok(self.cond(sc, &ab.0, pos)? && self.cond(sc, &ab.1, pos)?),
            Cond::Or(ab) => Ok(self.cond(sc, &ab.0, pos)? || self.cond(sc, &ab.1, pos)?),
            Cond::Cmp(cmp) => {
                let (a, op, b) = &**cmp;
                let x = self.eval(sc, a)?;
                let y = self.eval(sc, b)?;
                Ok(match op {
                    CmpOp::Eq => liquid_eq(&x, &y),
                    CmpOp::Ne => !liquid_eq(&x, &y),
                    CmpOp::Contains => contains(&x, &y),
                    CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => match compare(&x, &y) {
                        Rel::Ord(o) => match op {
                            CmpOp::Lt => o == Ordering::Less,
                            CmpOp::Le => o != Ordering::Greater,
                            CmpOp::Gt => o == Ordering::Greater,
                            _ => o != Ordering::Less,
                        },
                        Rel::None => false,
                        Rel::Error => {
                            let (mut l, mut r) = (String::new(), String::new());
                            x.write_inspect(&mut l);
                            y.write_inspect(&mut r);
                            return Err(self.error(
                                Code::TemplateRender,
                                pos,
                                format!("cannot compare {l} with {r} (a number and a string do not compare)"),
                            ));
                        }
                    },
                })
            }
        }
    }

    #[inline]
    fn eval(&mut self, sc: &mut Scope<'r>, e: &'r Expr) -> Result<Val<'r>, RErr> {
        match e {
            Expr::Lit(l) => Ok(match l {
                Lit::Nil => Val::Nil,
                Lit::Bool(b) => Val::Bool(*b),
                Lit::Int(i) => Val::Int(*i),
                Lit::Float(f) => Val::Float(*f),
                Lit::Str(s) => Val::Str(s),
                Lit::Empty => Val::Empty,
                Lit::Blank => Val::Blank,
                Lit::Range(a, b) => Val::Range(*a, *b),
            }),
            Expr::Var(p) => self.path(sc, p),
            Expr::Range(ab) => {
                let a = self.eval(sc, &ab.0)?;
                let b = self.eval(sc, &ab.1)?;
                match (a.to_i_lenient(), b.to_i_lenient()) {
                    (Some(x), Some(y)) => Ok(Val::Range(x, y)),
                    _ => Err(self.error(Code::TemplateRender, Pos::default(), "a range needs integer ends")),
                }
            }
        }
    }

    fn root(&self, sc: &Scope<'r>, sym: Sym) -> Val<'r> {
        if let Some((_, v)) = sc.stack.iter().rev().find(|(s, _)| *s == sym) {
            return v.clone();
        }
        if let Some(Some(v)) = sc.vars.get(sym as usize) {
            return v.clone();
        }
        if let Some((_, c)) = sc.rare.as_ref().and_then(|r| r.counters.iter().find(|(s, _)| *s == sym)) {
            return Val::Int(*c);
        }
        self.global(sc, sym)
    }

    /// The data's field named `sym`, where the scope sees the data.
    fn global(&self, sc: &Scope<'r>, sym: Sym) -> Val<'r> {
        match self.prog.symbols.get(sym as usize) {
            Some(name) if sc.globals => Val::get_key(self.globals, name).unwrap_or(Val::Nil),
            _ => Val::Nil,
        }
    }

    fn root_by_name(&self, sc: &Scope<'r>, name: &str) -> Val<'r> {
        match self.prog.symbols.iter().position(|s| &**s == name) {
            Some(i) => self.root(sc, u32::try_from(i).unwrap_or(u32::MAX)),
            None if sc.globals => Val::get_key(self.globals, name).unwrap_or(Val::Nil),
            None => Val::Nil,
        }
    }

    fn path(&mut self, sc: &mut Scope<'r>, p: &'r Path) -> Result<Val<'r>, RErr> {
        let mut cur = match &p.root {
            Root::Sym(s) => self.root(sc, *s),
            Root::Dyn(e) => {
                let k = self.eval(sc, e)?;
                match k.as_str() {
                    Some(name) => self.root_by_name(sc, name),
                    None => Val::Nil,
                }
            }
        };
        for seg in p.segs.iter() {
            if cur.is_nil() {
                return Ok(Val::Nil);
            }
            cur = match seg {
                Seg::Key(k, cmd) => self.key(sc, &cur, k, *cmd),
                Seg::Index(i) => index(&cur, *i),
                Seg::Dyn(e) => {
                    let k = self.eval(sc, e)?;
                    match &k {
                        Val::Int(i) => index(&cur, *i),
                        Val::Str(_) | Val::Owned(_) => self.key(sc, &cur, k.as_str().unwrap_or(""), None),
                        _ => Val::Nil,
                    }
                }
            };
        }
        Ok(cur)
    }

    fn key(&self, sc: &Scope<'r>, cur: &Val<'r>, key: &str, cmd: Option<Cmd>) -> Val<'r> {
        match cur {
            Val::Object(m) => match Val::get_key(m, key) {
                Some(v) => v,
                None => match cmd {
                    Some(Cmd::Size) => Val::Int(cur.size().map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX))),
                    Some(Cmd::First) => match m.first() {
                        Some((k, v)) => Val::list(vec![Val::Str(k), Val::from_data(v)]),
                        None => Val::Nil,
                    },
                    _ => Val::Nil,
                },
            },
            Val::Array(_) | Val::List(_) | Val::Range(..) => match (cmd, cur.seq()) {
                (Some(Cmd::Size), Some(s)) => Val::Int(i64::try_from(s.len()).unwrap_or(i64::MAX)),
                (Some(Cmd::First), _) if matches!(cur, Val::Range(..)) => match cur {
                    Val::Range(a, _) => Val::Int(*a),
                    _ => Val::Nil,
                },
                (Some(Cmd::Last), _) if matches!(cur, Val::Range(..)) => match cur {
                    Val::Range(_, b) => Val::Int(*b),
                    _ => Val::Nil,
                },
                (Some(Cmd::First), Some(s)) => s.get(0).unwrap_or(Val::Nil),
                (Some(Cmd::Last), Some(s)) => s.len().checked_sub(1).and_then(|i| s.get(i)).unwrap_or(Val::Nil),
                _ => Val::Nil,
            },
            Val::Str(_) | Val::Owned(_) => match cmd {
                Some(Cmd::Size) => Val::Int(cur.size().map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX))),
                _ => Val::Nil,
            },
            Val::Loop(i) => self.loop_attr(sc, *i, key),
            _ => Val::Nil,
        }
    }

    fn loop_attr(&self, sc: &Scope<'r>, idx: u32, key: &str) -> Val<'r> {
        let Some(l) = sc.loops.get(idx as usize) else { return Val::Nil };
        let n = |v: usize| Val::Int(i64::try_from(v).unwrap_or(i64::MAX));
        let (i, len) = (l.index0, l.length);
        match (key, l.table) {
            ("index", _) => n(i + 1),
            ("index0", _) => n(i),
            ("rindex", _) => n(len.saturating_sub(i)),
            ("rindex0", _) => n(len.saturating_sub(i + 1)),
            ("first", _) => Val::Bool(i == 0),
            ("last", _) => Val::Bool(i + 1 == len),
            ("length", _) => n(len),
            ("name", None) => Val::Str(l.name),
            ("parentloop", None) => l.parent.map_or(Val::Nil, Val::Loop),
            ("col", Some((_, c, _))) => n(c),
            ("col0", Some((_, c, _))) => n(c.saturating_sub(1)),
            ("col_first", Some((_, c, _))) => Val::Bool(c == 1),
            ("col_last", Some((cols, c, _))) => Val::Bool(c == cols),
            ("row", Some((_, _, r))) => n(r),
            _ => Val::Nil,
        }
    }
}

fn index<'r>(cur: &Val<'r>, i: i64) -> Val<'r> {
    if !cur.is_array() {
        return Val::Nil;
    }
    let Some(seq) = cur.seq() else { return Val::Nil };
    let n = i64::try_from(seq.len()).unwrap_or(i64::MAX);
    let idx = if i < 0 { i + n } else { i };
    usize::try_from(idx).ok().and_then(|k| seq.get(k)).unwrap_or(Val::Nil)
}

/// Doubles each brace `out` has from byte `start` on.
fn double_braces(out: &mut String, start: usize) {
    let Some(tail) = out.get(start..).filter(|t| t.contains(['{', '}'])).map(str::to_owned) else { return };
    out.truncate(start);
    for c in tail.chars() {
        if c == '{' || c == '}' {
            out.push(c);
        }
        out.push(c);
    }
}

fn push_usize(out: &mut String, v: usize) {
    super::number::write_int(i64::try_from(v).unwrap_or(i64::MAX), out);
}
