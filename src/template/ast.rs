//! The compiled form of a template: a tree of nodes whose expressions are already split into
//! variable paths, literals and filter calls resolved to an enum. Rendering never looks at the
//! source text again.

use super::filters::Filter;

/// A variable name, interned per template (index into [`Program::symbols`]).
pub(crate) type Sym = u32;

/// 1-based line and column of a construct, for run-time errors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: u32,
    pub col: u32,
}

#[derive(Clone, Debug)]
pub(crate) enum Lit {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<str>),
    Empty,
    Blank,
    Range(i64, i64),
}

#[derive(Clone, Debug)]
pub(crate) enum Expr {
    Lit(Lit),
    Var(Box<Path>),
    /// `(a..b)` with at least one non-literal end.
    Range(Box<(Expr, Expr)>),
}

#[derive(Clone, Debug)]
pub(crate) struct Path {
    pub root: Root,
    pub segs: Box<[Seg]>,
}

#[derive(Clone, Debug)]
pub(crate) enum Root {
    Sym(Sym),
    /// `[expr]` at the start: the variable named by the value.
    Dyn(Expr),
}

/// `size`, `first`, `last` through dot notation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmd {
    Size,
    First,
    Last,
}

#[derive(Clone, Debug)]
pub(crate) enum Seg {
    /// `.name` (with the command it may also be) or `['name']`.
    Key(Box<str>, Option<Cmd>),
    /// `[3]`, `[-1]`.
    Index(i64),
    /// `[expr]`.
    Dyn(Expr),
}

/// Where a tag is that only `kizuna check` needs to know (its warnings): a [`Pos`] natively,
/// nothing on the npm package's wasm32 (it has no warnings, and a position per tag costs bytes).
#[cfg(lint)]
pub(crate) type CheckPos = Pos;
#[cfg(not(lint))]
pub(crate) type CheckPos = NoPos;

/// [`CheckPos`] without `cfg(lint)`: no position.
#[cfg(not(lint))]
#[derive(Clone, Copy, Debug)]
pub(crate) struct NoPos;

#[derive(Clone, Debug)]
pub(crate) struct FilterCall {
    pub filter: Filter,
    pub args: Box<[Expr]>,
    /// `allow_false:` of `default`.
    pub allow_false: Option<Expr>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub(crate) struct Pipeline {
    pub expr: Expr,
    pub filters: Box<[FilterCall]>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
}

#[derive(Clone, Debug)]
pub(crate) enum Cond {
    Test(Expr),
    Cmp(Box<(Expr, CmpOp, Expr)>),
    And(Box<(Cond, Cond)>),
    Or(Box<(Cond, Cond)>),
}

pub(crate) type Block = Vec<Node>;

#[derive(Clone, Debug)]
pub(crate) enum Node {
    /// A span of [`Program::text`].
    Text(u32, u32),
    Output(Box<Pipeline>, Pos),
    If(Box<IfNode>),
    Case(Box<CaseNode>),
    For(Box<ForNode>),
    TableRow(Box<TableRowNode>),
    /// With the position of its tag (for `kizuna check`).
    Assign(Sym, Box<Pipeline>, CheckPos),
    Capture(Sym, Block),
    Increment(Sym),
    Decrement(Sym),
    Cycle(Box<CycleNode>),
    Break,
    Continue,
    IfChanged(Block),
    Include(Box<IncludeNode>),
}

#[derive(Clone, Debug)]
pub(crate) struct IfNode {
    /// Tried in order; `None` is an `else`. The first condition of `unless` is negated.
    pub branches: Vec<(Option<Cond>, Block)>,
    pub unless: bool,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub(crate) struct CaseNode {
    pub subject: Expr,
    /// One arm per `when` value (sharing the body) or `else` (`None`).
    pub arms: Vec<(Option<Expr>, u32)>,
    pub bodies: Vec<Block>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub(crate) enum Offset {
    None,
    Expr(Expr),
    Continue,
}

#[derive(Clone, Debug)]
pub(crate) struct ForNode {
    pub var: Sym,
    pub collection: Expr,
    /// `var-collection`, the key of `offset: continue` and `forloop.name`.
    pub name: Box<str>,
    pub limit: Option<Expr>,
    pub offset: Offset,
    pub reversed: bool,
    pub body: Block,
    pub else_body: Block,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub(crate) struct TableRowNode {
    pub var: Sym,
    pub collection: Expr,
    pub cols: Option<Expr>,
    pub limit: Option<Expr>,
    pub offset: Option<Expr>,
    pub body: Block,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub(crate) enum CycleKey {
    Named(Expr),
    /// Unnamed cycles are grouped by their values' text.
    Anon(Box<str>),
}

#[derive(Clone, Debug)]
pub(crate) struct CycleNode {
    pub key: CycleKey,
    pub values: Vec<Expr>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub(crate) enum PartialRef {
    /// Index into [`Program::partials`].
    Static(u32),
    /// A name computed at render time.
    Dynamic(Expr),
}

#[derive(Clone, Debug)]
pub(crate) struct IncludeNode {
    pub partial: PartialRef,
    /// `with expr` / `for expr`.
    pub bind: Option<(Expr, bool)>,
    /// `as name`; else the partial's name.
    pub alias: Option<Sym>,
    pub args: Vec<(Sym, Expr)>,
    /// `render` (isolated scope) rather than `include`.
    pub isolated: bool,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub(crate) struct Partial {
    pub name: Box<str>,
    pub sym: Option<Sym>,
    pub body: Block,
}

/// A compiled template.
#[derive(Clone, Debug, Default)]
pub(crate) struct Program {
    pub body: Block,
    /// All literal text of the template (and its partials), trimmed as whitespace control says.
    pub text: String,
    pub symbols: Vec<Box<str>>,
    pub partials: Vec<Partial>,
    /// Root data paths the template reads.
    pub reads: Vec<Vec<Box<str>>>,
    /// The template reads data it cannot name at parse time.
    pub reads_all: bool,
    /// Some `for` uses `offset: continue` (loops then remember where they stopped).
    pub uses_continue: bool,
    /// Output writes `{` and `}` doubled (`{{`, `}}`): a LINE textV2 text, whose single braces
    /// are placeholders that data must not open.
    pub escape_braces: bool,
    /// The symbols of `forloop` and `tablerowloop`.
    pub forloop: Sym,
    pub tablerowloop: Sym,
}
