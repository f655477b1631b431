//! The variable paths a template reads, each with where it is and where it starts (its
//! globals, or what a name the template binds stands for): what `kizuna check` compares with
//! the Context (native only; see `Engine::warnings`).

use super::ast::*;
use super::filters::Filter;
use crate::contract::fields::{Base, Step};
use std::borrow::Cow;

/// A path read, as written up to its first part computed at render time, the position of the
/// tag or output (or filter) it is in, when known, and where it starts.
pub(crate) type Read<'p> = (Vec<Step<'p>>, Option<Pos>, Base<'p>);

/// What a name the template binds stands for: a path of the globals, and whether it is that
/// value itself (else a list of its items, `user.purchases | where: …`: only its items are
/// known).
type Binding<'p> = (Vec<Step<'p>>, bool);

pub(crate) fn data_paths(prog: &Program) -> Vec<Read<'_>> {
    // A name the template binds anywhere (a loop variable, `assign`, `capture`, a counter, an
    // `include` argument) may not be the global of that name: those are left out, wherever
    // they are read, and so are `forloop` and `tablerowloop`; but see `Walker::root`.
    let mut bound = vec![prog.forloop, prog.tablerowloop];
    let mut includes = false;
    bindings(&prog.body, &mut bound, &mut includes);
    // Looked up once per path read: sorted, so a template of many names stays fast.
    bound.sort_unstable();
    let mut once = Vec::with_capacity(bound.len());
    for (i, s) in bound.iter().enumerate() {
        if bound.get(i.wrapping_sub(1)) != Some(s) && bound.get(i + 1) != Some(s) {
            once.push(*s);
        }
    }
    // A partial included shares the template's names, and may assign them.
    if includes {
        once.clear();
    }
    bound.dedup();
    let mut w = Walker { prog, bound, once, loops: Vec::new(), assigned: Vec::new(), depth: 0, out: Vec::new() };
    w.block(&prog.body);
    w.out
}

fn bindings(block: &[Node], out: &mut Vec<Sym>, includes: &mut bool) {
    for node in block {
        match node {
            Node::Assign(s, ..) | Node::Increment(s) | Node::Decrement(s) => out.push(*s),
            Node::Capture(s, body) => {
                out.push(*s);
                bindings(body, out, includes);
            }
            Node::For(f) => {
                out.push(f.var);
                bindings(&f.body, out, includes);
                bindings(&f.else_body, out, includes);
            }
            Node::TableRow(t) => {
                out.push(t.var);
                bindings(&t.body, out, includes);
            }
            Node::If(i) => i.branches.iter().for_each(|(_, b)| bindings(b, out, includes)),
            Node::Case(c) => c.bodies.iter().for_each(|b| bindings(b, out, includes)),
            Node::IfChanged(b) => bindings(b, out, includes),
            Node::Include(inc) => {
                *includes = true;
                out.extend(inc.alias);
                out.extend(inc.args.iter().map(|(s, _)| *s));
            }
            Node::Text(..) | Node::Output(..) | Node::Cycle(_) | Node::Break | Node::Continue => {}
        }
    }
}

/// What the root name of a path is.
enum Meaning<'w, 'p> {
    /// The global of that name.
    Global,
    /// A name the template bound to a path of the globals.
    Bound(&'w Binding<'p>),
    /// A name the template bound to something else, or that may be either.
    Unknown,
}

struct Walker<'p> {
    prog: &'p Program,
    bound: Vec<Sym>,
    /// The names bound once only in the whole template (sorted).
    once: Vec<Sym>,
    /// The `for` and `tablerow` variables of the loops the walker is in, innermost last: the
    /// items of a list of the globals when it can tell (their collection is one, read
    /// statically), else `None`. In a loop's body its variable is the item, whatever else
    /// the template binds to that name.
    loops: Vec<(Sym, Option<Binding<'p>>)>,
    /// Names bound once, by an `assign` at the template's top level (so run before whatever
    /// comes after it), to a path of the globals: from there on, they stand for it.
    assigned: Vec<(Sym, Binding<'p>)>,
    /// How many blocks deep the walker is (0: the template's top level).
    depth: usize,
    out: Vec<Read<'p>>,
}

impl<'p> Walker<'p> {
    fn block(&mut self, block: &'p [Node]) {
        for node in block {
            self.node(node);
        }
    }

    /// A block inside a tag: `block` one level deeper.
    fn nested(&mut self, block: &'p [Node]) {
        self.depth += 1;
        self.block(block);
        self.depth -= 1;
    }

    /// A loop's body, `var` bound to the items of `collection` when the walker can tell which.
    fn loop_body(&mut self, var: Sym, collection: &'p Expr, body: &'p [Node]) {
        let items = self.binding(collection).map(|(mut path, _)| {
            path.push(Step::any_item());
            (path, true)
        });
        self.loops.push((var, items));
        self.nested(body);
        self.loops.pop();
    }

    fn node(&mut self, node: &'p Node) {
        match node {
            Node::Output(p, pos) => self.pipeline(p, Some(*pos)),
            Node::Assign(s, p, pos) => {
                self.pipeline(p, Some(*pos));
                if self.depth == 0 && self.once.binary_search(s).is_ok() {
                    if let Some(b) = self.assigned_value(p) {
                        self.assigned.push((*s, b));
                    }
                }
            }
            Node::If(i) => {
                for (cond, body) in &i.branches {
                    if let Some(c) = cond {
                        self.cond(c, i.pos);
                    }
                    self.nested(body);
                }
            }
            Node::Case(c) => {
                self.expr(&c.subject, Some(c.pos));
                for (when, _) in &c.arms {
                    if let Some(e) = when {
                        self.expr(e, Some(c.pos));
                    }
                }
                c.bodies.iter().for_each(|b| self.nested(b));
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
                self.loop_body(f.var, &f.collection, &f.body);
                self.nested(&f.else_body);
            }
            Node::TableRow(t) => {
                let pos = Some(t.pos);
                self.expr(&t.collection, pos);
                for e in [&t.cols, &t.limit, &t.offset].into_iter().flatten() {
                    self.expr(e, pos);
                }
                self.loop_body(t.var, &t.collection, &t.body);
            }
            Node::Capture(_, b) | Node::IfChanged(b) => self.nested(b),
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
        // The list whose items flow through the filters, while the walker can tell which:
        // a filter's property argument (`where: "category"`) is a field of those items.
        let mut items = self.binding(&p.expr).map(|(path, _)| path);
        for f in p.filters.iter() {
            f.args.iter().chain(&f.allow_false).for_each(|e| self.expr(e, Some(f.pos)));
            let Some(list) = items.take() else { continue };
            let property = matches!(
                f.filter,
                Filter::Where | Filter::Reject | Filter::Has | Filter::Find | Filter::FindIndex | Filter::Map | Filter::Sort | Filter::SortNatural | Filter::Sum | Filter::Uniq | Filter::Compact
            );
            if let (true, Some(Expr::Lit(Lit::Str(name)))) = (property, f.args.first()) {
                // `map: "to_liquid"` is the item itself (Shopify's drop protocol), not a field.
                let builtin = f.filter == Filter::Map && &**name == "to_liquid";
                let step = Step { name: Cow::Borrowed(&**name), item: false, builtin };
                self.out.push((vec![step], Some(f.pos), Base::Item(list.clone())));
            }
            // These keep the items (a subset, or in another order); any other makes something else.
            if matches!(f.filter, Filter::Where | Filter::Reject | Filter::Sort | Filter::SortNatural | Filter::Reverse | Filter::Uniq | Filter::Compact | Filter::Slice) {
                items = Some(list);
            }
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

    /// What the name `s` is, where the walker is.
    fn root(&self, s: Sym) -> Meaning<'_, 'p> {
        if let Some((_, items)) = self.loops.iter().rev().find(|(v, _)| *v == s) {
            return items.as_ref().map_or(Meaning::Unknown, Meaning::Bound);
        }
        if let Some((_, b)) = self.assigned.iter().find(|(v, _)| *v == s) {
            return Meaning::Bound(b);
        }
        if self.bound.binary_search(&s).is_ok() {
            Meaning::Unknown
        } else {
            Meaning::Global
        }
    }

    /// The path of the globals that `e` stands for, read statically (no part computed).
    fn binding(&self, e: &'p Expr) -> Option<Binding<'p>> {
        let Expr::Var(p) = e else { return None };
        let Root::Sym(s) = &p.root else { return None };
        let mut path = match self.root(*s) {
            Meaning::Global => vec![self.name_step(*s)?],
            Meaning::Bound((to, true)) => to.clone(),
            Meaning::Bound((to, false)) if p.segs.is_empty() => return Some((to.clone(), false)),
            Meaning::Bound(_) | Meaning::Unknown => return None,
        };
        for seg in p.segs.iter() {
            path.push(seg_step(seg)?);
        }
        Some((path, true))
    }

    /// What an `assign` binds its name to, when the walker can tell: a path of the globals,
    /// through the filters that keep a list's items (`where`, `sort`, `reverse`, …) and then
    /// one that takes one of them (`first`, `last`, `find`).
    fn assigned_value(&self, p: &'p Pipeline) -> Option<Binding<'p>> {
        let (mut path, mut itself) = self.binding(&p.expr)?;
        let mut item = false;
        for f in p.filters.iter() {
            match f.filter {
                _ if item => return None,
                Filter::Where | Filter::Reject | Filter::Sort | Filter::SortNatural | Filter::Reverse | Filter::Uniq | Filter::Compact | Filter::Slice => itself = false,
                Filter::First | Filter::Last | Filter::Find => {
                    path.push(Step::any_item());
                    (itself, item) = (true, true);
                }
                _ => return None,
            }
        }
        Some((path, itself))
    }

    fn name_step(&self, s: Sym) -> Option<Step<'p>> {
        self.prog.symbols.get(s as usize).map(|name| Step { name: Cow::Borrowed(&**name), item: false, builtin: false })
    }

    fn path(&mut self, p: &'p Path, pos: Option<Pos>) {
        let (mut steps, base) = match &p.root {
            Root::Sym(s) => match self.root(*s) {
                Meaning::Global => (self.name_step(*s).map(|n| vec![n]), Base::Data),
                Meaning::Bound((to, true)) => (self.name_step(*s).map(|n| vec![n]), Base::Name(to.clone())),
                Meaning::Bound(_) | Meaning::Unknown => (None, Base::Data),
            },
            Root::Dyn(e) => {
                self.expr(e, pos);
                (None, Base::Data)
            }
        };
        for seg in p.segs.iter() {
            if let Seg::Dyn(e) = seg {
                self.expr(e, pos);
            }
            match (seg_step(seg), steps.as_mut()) {
                (Some(step), Some(s)) => s.push(step),
                (None, Some(_)) => self.out.extend(steps.take().map(|s| (s, pos, base.clone()))),
                _ => {}
            }
        }
        self.out.extend(steps.map(|s| (s, pos, base)));
    }
}

/// The step a segment takes, when it is not computed.
fn seg_step(seg: &Seg) -> Option<Step<'_>> {
    match seg {
        Seg::Key(name, cmd) => Some(Step { name: Cow::Borrowed(&**name), item: matches!(cmd, Some(Cmd::First | Cmd::Last)), builtin: cmd.is_some() }),
        Seg::Index(i) => Some(Step { name: Cow::Owned(i.to_string()), item: true, builtin: true }),
        Seg::Dyn(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::contract::fields::{Base, Step};
    use crate::template::{Limits, Template};

    fn dotted(steps: &[Step<'_>]) -> String {
        steps.iter().map(|s| &*s.name).collect::<Vec<_>>().join(".")
    }

    /// Each path read, dotted, with its line and column; from a name the template binds, with
    /// what it stands for (`p.sku < user.purchases.*`).
    fn reads(source: &str) -> Vec<(String, Option<(u32, u32)>)> {
        let t = Template::parse(source, &Limits::default()).unwrap();
        let read = |steps: &[Step<'_>], base: &Base<'_>| match base {
            Base::Name(to) => format!("{} < {}", dotted(steps), dotted(to)),
            Base::Item(list) => format!("{} of {}.*", dotted(steps), dotted(list)),
            _ => dotted(steps),
        };
        t.data_paths().into_iter().map(|(steps, at, base)| (read(&steps, &base), at)).collect()
    }

    fn dotted_reads(source: &str) -> Vec<String> {
        reads(source).into_iter().map(|(p, _)| p).collect()
    }

    #[test]
    fn paths_are_read_where_they_are_written_and_bound_names_are_left_out() {
        let got = reads(
            "{{ user.displayName | default: user.attributes.nick }}\n\
             {% if event.type == 'follow' %}{% for p in user.purchases limit: n %}{{ p.sku }}{{ forloop.index }}{% endfor %}{% endif %}\n\
             {% assign u = x %}{{ u.anything }}{% capture c %}{{ y[user.k].z }}{% endcapture %}{{ c.d }}{{ a.b[0].c }}",
        );
        let want = [
            ("user.displayName", Some((1, 4))),
            ("user.attributes.nick", Some((1, 23))), // its filter
            ("event.type", Some((2, 1))),
            ("user.purchases", Some((2, 32))),
            ("n", Some((2, 32))),
            ("p.sku < user.purchases.*", Some((2, 73))),
            ("x", Some((3, 1))), // its `assign` tag
            ("u.anything < x", Some((3, 22))),
            ("user.k", Some((3, 53))),
            ("y", Some((3, 53))),
            ("a.b.0.c", Some((3, 95))),
        ];
        let want: Vec<_> = want.iter().map(|(p, at)| (p.to_string(), *at)).collect();
        assert_eq!(got, want);
        // A global the template assigns: before the assign, never checked; after it, read from
        // what it was assigned.
        assert_eq!(dotted_reads("{{ user.a }}{% assign user = x %}{{ user.b }}"), ["x", "user.b < x"]);
    }

    #[test]
    fn loop_variables_stand_for_an_item_of_their_collection_in_the_loop_body() {
        let got = dotted_reads(
            "{% for p in user.purchases reversed %}{{ p.sku }}{% for t in p.tags %}{{ t.x }}{{ p.at }}{% endfor %}\
             {% for p in (1..3) %}{{ p.a }}{% endfor %}{{ p.b }}{% else %}{{ p.c }}{% endfor %}\
             {% tablerow e in user.events cols: 2 %}{{ e.type }}{% endtablerow %}\
             {% for q in user[k] %}{{ q.a }}{% endfor %}{% for r in forloop %}{{ r.a }}{% endfor %}",
        );
        let want = [
            "user.purchases",
            "p.sku < user.purchases.*",
            // A list in an item: its items are known as far as the Context defines them.
            "p.tags < user.purchases.*",
            "t.x < user.purchases.*.tags.*",
            "p.at < user.purchases.*",
            // A loop over something else hides the outer `p` in its body, not after it.
            "p.b < user.purchases.*",
            // `else` runs when there are no items: the variable is not bound there.
            "user.events",
            "e.type < user.events.*",
            "k",
            "user",
        ];
        assert_eq!(got, want);
        // The variable is the item in the body whatever else binds the name.
        assert_eq!(dotted_reads("{% assign p = 1 %}{% for p in user.purchases %}{{ p.sku }}{% endfor %}{{ p.x }}"), ["user.purchases", "p.sku < user.purchases.*"]);
    }

    #[test]
    fn assigned_names_stand_for_what_they_were_assigned_when_it_is_clear() {
        let got = dotted_reads(
            "{{ l.a }}{% assign l = user.purchases | where: 'category', 'lotion' | sort: 'at' | last %}{{ l.sku }}\
             {% assign ls = user.purchases | where: 'category', 'lotion' %}{{ ls.first.sku }}{% for i in ls %}{{ i.at }}{% endfor %}\
             {% assign f = ls | first %}{{ f.amount }}{% assign u = user %}{{ u.tags }}\
             {% assign n = user.purchases | map: 'sku' | first %}{{ n.x }}{% assign s = user.purchases | first | default: 1 %}{{ s.x }}",
        );
        let want = [
            "user.purchases",
            "category of user.purchases.*",
            "at of user.purchases.*",
            "l.sku < user.purchases.*",
            "user.purchases",
            "category of user.purchases.*",
            "i.at < user.purchases.*",
            "f.amount < user.purchases.*",
            "user",
            "u.tags < user",
            "user.purchases",
            "sku of user.purchases.*",
            "user.purchases",
        ];
        // The filters' property arguments are fields of the items; `ls` read whole is a list of items,
        // not checked; `map` and filters after `first` make something else.
        assert_eq!(got, want);
        // Assigned twice, inside a tag, or with partials that may assign: never checked.
        for source in [
            "{% assign p = user.purchases | first %}{% assign p = user %}{{ p.x }}",
            "{% if a %}{% assign p = user.purchases | first %}{% endif %}{{ p.x }}",
            "{% assign p = user.purchases | first %}{% for p in (1..2) %}{% endfor %}{{ p.x }}",
        ] {
            assert!(!dotted_reads(source).iter().any(|r| r.starts_with("p.")), "{source}");
        }
    }

    #[test]
    fn property_arguments_of_filters_are_fields_of_the_items_they_select() {
        let got = dotted_reads(
            "{{ user.purchases | where: 'catgory', 'lotion' | sort_natural: 'sku' | map: 'amount' | sum: 'x' }}\
             {% assign ls = user.purchases | reject: 'at' %}{{ ls | find: 'sku', 'LT' }}{{ ls | first | map: 'y' }}\
             {% for p in user.purchases %}{{ p.items | uniq: 'name' }}{% endfor %}{{ user.tags | where: 'z' }}\
             {{ user.purchases | where: prop }}{{ user.purchases | join: 'sku' | map: 'w' }}",
        );
        let want = [
            "user.purchases",
            "catgory of user.purchases.*",
            "sku of user.purchases.*",
            // `map` makes a list of something else: `sum`'s argument is not checked.
            "amount of user.purchases.*",
            "user.purchases",
            "at of user.purchases.*",
            "sku of user.purchases.*",
            // `first` takes one item: its `map` is not checked.
            "user.purchases",
            "p.items < user.purchases.*",
            "name of user.purchases.*.items.*",
            // A list of strings has no fields: the shape says so, not the walker.
            "user.tags",
            "z of user.tags.*",
            // A property computed at render time is not checked.
            "user.purchases",
            "prop",
            "user.purchases",
        ];
        assert_eq!(got, want);
    }
}
