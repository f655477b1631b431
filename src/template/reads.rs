//! The variable paths a template reads from its globals, each with where it is: what
//! `kizuna check` compares with the Context (native only; see `Engine::warnings`).

use super::ast::*;
use crate::contract::fields::Step;
use std::borrow::Cow;

/// A path read from the globals, as written up to its first part computed at render time, and
/// the position of the tag or output (or filter) it is in, when known.
pub(crate) type Read<'p> = (Vec<Step<'p>>, Option<Pos>);

pub(crate) fn global_paths(prog: &Program) -> Vec<Read<'_>> {
    // A name the template binds anywhere (a loop variable, `assign`, `capture`, a counter, an
    // `include` argument) may not be the global of that name: those are left out, wherever
    // they are read, and so are `forloop` and `tablerowloop`.
    let mut bound = vec![prog.forloop, prog.tablerowloop];
    bindings(&prog.body, &mut bound);
    // Looked up once per path read: sorted, so a template of many names stays fast.
    bound.sort_unstable();
    bound.dedup();
    let mut w = Walker { prog, bound, out: Vec::new() };
    w.block(&prog.body);
    w.out
}

fn bindings(block: &[Node], out: &mut Vec<Sym>) {
    for node in block {
        match node {
            Node::Assign(s, _) | Node::Increment(s) | Node::Decrement(s) => out.push(*s),
            Node::Capture(s, body) => {
                out.push(*s);
                bindings(body, out);
            }
            Node::For(f) => {
                out.push(f.var);
                bindings(&f.body, out);
                bindings(&f.else_body, out);
            }
            Node::TableRow(t) => {
                out.push(t.var);
                bindings(&t.body, out);
            }
            Node::If(i) => i.branches.iter().for_each(|(_, b)| bindings(b, out)),
            Node::Case(c) => c.bodies.iter().for_each(|b| bindings(b, out)),
            Node::IfChanged(b) => bindings(b, out),
            Node::Include(inc) => {
                out.extend(inc.alias);
                out.extend(inc.args.iter().map(|(s, _)| *s));
            }
            Node::Text(..) | Node::Output(..) | Node::Cycle(_) | Node::Break | Node::Continue => {}
        }
    }
}

struct Walker<'p> {
    prog: &'p Program,
    bound: Vec<Sym>,
    out: Vec<Read<'p>>,
}

impl<'p> Walker<'p> {
    fn block(&mut self, block: &'p [Node]) {
        for node in block {
            self.node(node);
        }
    }

    fn node(&mut self, node: &'p Node) {
        match node {
            Node::Output(p, pos) => self.pipeline(p, Some(*pos)),
            Node::Assign(_, p) => self.pipeline(p, None),
            Node::If(i) => {
                for (cond, body) in &i.branches {
                    if let Some(c) = cond {
                        self.cond(c, i.pos);
                    }
                    self.block(body);
                }
            }
            Node::Case(c) => {
                self.expr(&c.subject, Some(c.pos));
                for (when, _) in &c.arms {
                    if let Some(e) = when {
                        self.expr(e, Some(c.pos));
                    }
                }
                c.bodies.iter().for_each(|b| self.block(b));
            }
            Node::For(f) => {
                let pos = Some(f.pos);
                self.expr(&f.collection, pos);
                if let Some(e) = &f.limit {
                    self.expr(e, pos);
                }
                if let Offset::Expr(e) = &f.offset {
                    self.expr(e, pos);
                }
                self.block(&f.body);
                self.block(&f.else_body);
            }
            Node::TableRow(t) => {
                let pos = Some(t.pos);
                self.expr(&t.collection, pos);
                for e in [&t.cols, &t.limit, &t.offset].into_iter().flatten() {
                    self.expr(e, pos);
                }
                self.block(&t.body);
            }
            Node::Capture(_, b) | Node::IfChanged(b) => self.block(b),
            Node::Cycle(c) => {
                if let CycleKey::Named(e) = &c.key {
                    self.expr(e, Some(c.pos));
                }
                c.values.iter().for_each(|e| self.expr(e, Some(c.pos)));
            }
            Node::Include(inc) => {
                let pos = Some(inc.pos);
                if let PartialRef::Dynamic(e) = &inc.partial {
                    self.expr(e, pos);
                }
                if let Some((e, _)) = &inc.bind {
                    self.expr(e, pos);
                }
                inc.args.iter().for_each(|(_, e)| self.expr(e, pos));
            }
            Node::Text(..) | Node::Increment(_) | Node::Decrement(_) | Node::Break | Node::Continue => {}
        }
    }

    fn pipeline(&mut self, p: &'p Pipeline, pos: Option<Pos>) {
        self.expr(&p.expr, pos);
        for f in p.filters.iter() {
            f.args.iter().chain(&f.allow_false).for_each(|e| self.expr(e, Some(f.pos)));
        }
    }

    fn cond(&mut self, c: &'p Cond, pos: Pos) {
        match c {
            Cond::Test(e) => self.expr(e, Some(pos)),
            Cond::Cmp(b) => {
                self.expr(&b.0, Some(pos));
                self.expr(&b.2, Some(pos));
            }
            Cond::And(b) | Cond::Or(b) => {
                self.cond(&b.0, pos);
                self.cond(&b.1, pos);
            }
        }
    }

    fn expr(&mut self, e: &'p Expr, pos: Option<Pos>) {
        match e {
            Expr::Lit(_) => {}
            Expr::Range(b) => {
                self.expr(&b.0, pos);
                self.expr(&b.1, pos);
            }
            Expr::Var(p) => self.path(p, pos),
        }
    }

    fn path(&mut self, p: &'p Path, pos: Option<Pos>) {
        let mut steps = match &p.root {
            Root::Sym(s) if self.bound.binary_search(s).is_err() => {
                self.prog.symbols.get(*s as usize).map(|name| vec![Step { name: Cow::Borrowed(&**name), item: false, builtin: false }])
            }
            Root::Sym(_) => None,
            Root::Dyn(e) => {
                self.expr(e, pos);
                None
            }
        };
        for seg in p.segs.iter() {
            let step = match seg {
                Seg::Key(name, cmd) => Some(Step { name: Cow::Borrowed(&**name), item: matches!(cmd, Some(Cmd::First | Cmd::Last)), builtin: cmd.is_some() }),
                Seg::Index(i) => Some(Step { name: Cow::Owned(i.to_string()), item: true, builtin: true }),
                Seg::Dyn(e) => {
                    self.expr(e, pos);
                    None
                }
            };
            match (step, steps.as_mut()) {
                (Some(step), Some(s)) => s.push(step),
                (None, Some(_)) => self.out.extend(steps.take().map(|s| (s, pos))),
                _ => {}
            }
        }
        self.out.extend(steps.map(|s| (s, pos)));
    }
}

#[cfg(test)]
mod tests {
    use crate::template::{Limits, Template};

    /// Each path read from the globals, dotted, with its line and column.
    fn reads(source: &str) -> Vec<(String, Option<(u32, u32)>)> {
        let t = Template::parse(source, &Limits::default()).unwrap();
        t.global_paths().into_iter().map(|(steps, at)| (steps.iter().map(|s| &*s.name).collect::<Vec<_>>().join("."), at)).collect()
    }

    #[test]
    fn paths_are_read_where_they_are_written_and_bound_names_are_left_out() {
        let got = reads(
            "{{ user.displayName | default: user.attributes.nick }}\n\
             {% if event.type == 'follow' %}{% for p in user.purchases limit: n %}{{ p.sku }}{{ forloop.index }}{% endfor %}{% endif %}\n\
             {% assign u = x %}{{ u.anything }}{% capture c %}{{ y[user.k].z }}{% endcapture %}{{ c.d }}{{ a.b[0].c }}",
        );
        let want = [
            ("user.displayName", Some((1, 3))),
            ("user.attributes.nick", Some((1, 23))), // its filter
            ("event.type", Some((2, 1))),
            ("user.purchases", Some((2, 32))),
            ("n", Some((2, 32))),
            ("x", None),
            ("user.k", Some((3, 52))),
            ("y", Some((3, 52))),
            ("a.b.0.c", Some((3, 94))),
        ];
        let want: Vec<_> = want.iter().map(|(p, at)| (p.to_string(), *at)).collect();
        assert_eq!(got, want);
        // A global the template assigns may be read before or after: never checked.
        assert_eq!(reads("{{ user.a }}{% assign user = x %}{{ user.b }}"), [("x".to_string(), None)]);
    }
}
