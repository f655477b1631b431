//! Two lexers: the template lexer splits the source into text, `{{ output }}` and `{% tag %}`
//! tokens (handling `raw`/`doc` bodies and `-` whitespace control), and the expression lexer
//! splits the markup inside a token into identifiers, literals and punctuation.
//!
//! Token boundaries follow Ruby Liquid's tokenizer: a tag ends at the first `%}`, an output at
//! the first `}` (or `}}`), so templates that Shopify rejects are rejected here too.

use super::ast::Pos;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokKind {
    Text,
    Output,
    Tag,
    /// The verbatim body of `raw` or `doc`.
    RawBody,
    /// `{{` or `{%` that is never closed.
    Bad,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Tok {
    pub kind: TokKind,
    /// The whole token (for text: the text after whitespace control).
    pub start: usize,
    pub end: usize,
    /// The markup between the delimiters and the `-` markers.
    pub inner_start: usize,
    pub inner_end: usize,
    /// `{%-` / `{{-`
    pub trim_left: bool,
    /// `-%}` / `-}}`
    pub trim_right: bool,
}

/// Maps byte offsets to 1-based line and column (columns count characters).
pub(crate) struct LineIndex<'s> {
    src: &'s str,
    starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    pub(crate) fn new(src: &'s str) -> Self {
        let mut starts = vec![0];
        starts.extend(src.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        LineIndex { src, starts }
    }

    pub(crate) fn pos(&self, offset: usize) -> Pos {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let col = self.src.get(start..offset.min(self.src.len())).map_or(1, |s| s.chars().count() + 1);
        Pos { line: u32::try_from(line).unwrap_or(u32::MAX), col: u32::try_from(col).unwrap_or(u32::MAX) }
    }
}

pub(crate) fn is_ruby_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The tag name of a tag token's markup: `(name_start, name_end)` (`#` for inline comments);
/// None when the markup does not start with a word.
pub(crate) fn tag_name_span(src: &str, inner_start: usize, inner_end: usize) -> Option<(usize, usize)> {
    let bytes = src.as_bytes();
    let mut i = inner_start;
    while i < inner_end && bytes.get(i).copied().is_some_and(is_ruby_space) {
        i += 1;
    }
    if bytes.get(i) == Some(&b'#') && i < inner_end {
        return Some((i, i + 1));
    }
    let start = i;
    while i < inner_end && bytes.get(i).copied().is_some_and(is_word_byte) {
        i += 1;
    }
    if i == start {
        None
    } else {
        Some((start, i))
    }
}

fn find(bytes: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(pat.len()).position(|w| w == pat).map(|p| p + from)
}

/// Finds the tag that closes a `raw`/`doc` body: `{%` [-] ws `end_name` ... `%}`.
/// Returns (tag start, tag end, trim_left, trim_right, inner_start, inner_end).
fn find_end_tag(src: &str, from: usize, end_name: &str) -> Option<Tok> {
    let bytes = src.as_bytes();
    let mut at = from;
    while let Some(open) = find(bytes, at, b"{%") {
        let close = find(bytes, open + 2, b"%}")?;
        let mut i = open + 2;
        let trim_left = bytes.get(i) == Some(&b'-');
        if trim_left {
            i += 1;
        }
        while i < close && bytes.get(i).copied().is_some_and(is_ruby_space) {
            i += 1;
        }
        let word_end = (i..close).find(|&j| !bytes.get(j).copied().is_some_and(is_word_byte)).unwrap_or(close);
        if src.get(i..word_end) == Some(end_name) {
            let trim_right = close > open + 2 && bytes.get(close - 1) == Some(&b'-') && close > i;
            return Some(Tok {
                kind: TokKind::Tag,
                start: open,
                end: close + 2,
                inner_start: open + 2 + usize::from(trim_left),
                inner_end: if trim_right { close - 1 } else { close },
                trim_left,
                trim_right,
            });
        }
        at = open + 2;
    }
    None
}

/// Splits a template into tokens. `raw` and `doc` bodies become one `RawBody` token each (their
/// end tags follow as ordinary tag tokens); an unclosed `raw`/`doc` leaves no end tag, which the
/// parser reports.
pub(crate) fn tokenize(src: &str) -> Vec<Tok> {
    let bytes = src.as_bytes();
    let mut toks: Vec<Tok> = Vec::new();
    let mut i = 0;
    let n = bytes.len();
    while i < n {
        // Next markup start.
        let next = {
            let mut j = i;
            loop {
                match find(bytes, j, b"{") {
                    Some(k) if matches!(bytes.get(k + 1), Some(b'{' | b'%')) => break Some(k),
                    Some(k) => j = k + 1,
                    None => break None,
                }
            }
        };
        let Some(j) = next else {
            toks.push(text_tok(i, n));
            break;
        };
        if j > i {
            toks.push(text_tok(i, j));
        }
        if bytes.get(j + 1) == Some(&b'%') {
            match find(bytes, j + 2, b"%}") {
                Some(close) => {
                    let tok = markup_tok(TokKind::Tag, bytes, j, close, close + 2);
                    toks.push(tok);
                    i = close + 2;
                    // raw / doc bodies are not tokenized.
                    let name = tag_name_span(src, tok.inner_start, tok.inner_end).and_then(|(a, b)| src.get(a..b));
                    if let Some(end_name) = match name {
                        Some("raw") => Some("endraw"),
                        Some("doc") => Some("enddoc"),
                        _ => None,
                    } {
                        match find_end_tag(src, i, end_name) {
                            Some(end) => {
                                toks.push(Tok {
                                    kind: TokKind::RawBody,
                                    start: i,
                                    end: end.start,
                                    inner_start: i,
                                    inner_end: end.start,
                                    trim_left: false,
                                    trim_right: false,
                                });
                                toks.push(end);
                                i = end.end;
                            }
                            None => {
                                toks.push(Tok {
                                    kind: TokKind::RawBody,
                                    start: i,
                                    end: n,
                                    inner_start: i,
                                    inner_end: n,
                                    trim_left: false,
                                    trim_right: false,
                                });
                                i = n;
                            }
                        }
                    }
                }
                None => {
                    toks.push(bad_tok(j, j + 2));
                    i = j + 2;
                }
            }
        } else {
            // `{{ ... }` or `{{ ... }}`; a `{%` first turns it into a (broken) tag token.
            let mut k = j + 2;
            let mut done = false;
            while k < n {
                match bytes.get(k) {
                    // One `}` ends the token as in Shopify's tokenizer, which then refuses
                    // it as not closed: `{{ x } b` is an error, not an output.
                    Some(b'}') => {
                        let closed = bytes.get(k + 1) == Some(&b'}');
                        let end = if closed { k + 2 } else { k + 1 };
                        toks.push(if closed { markup_tok(TokKind::Output, bytes, j, k, end) } else { bad_tok(j, end) });
                        i = end;
                        done = true;
                        break;
                    }
                    Some(b'{') if bytes.get(k + 1) == Some(&b'%') => {
                        let end = find(bytes, k + 2, b"%}").map_or(n, |c| c + 2);
                        toks.push(bad_tok(j, end));
                        i = end;
                        done = true;
                        break;
                    }
                    _ => k += 1,
                }
            }
            if !done {
                toks.push(bad_tok(j, j + 2));
                i = j + 2;
            }
        }
    }
    apply_whitespace_control(src, &mut toks);
    toks
}

fn text_tok(start: usize, end: usize) -> Tok {
    Tok { kind: TokKind::Text, start, end, inner_start: start, inner_end: end, trim_left: false, trim_right: false }
}

fn bad_tok(start: usize, end: usize) -> Tok {
    Tok { kind: TokKind::Bad, start, end, inner_start: start, inner_end: end, trim_left: false, trim_right: false }
}

/// `open` is the `{`, `close` the position of the closing delimiter, `end` after it.
fn markup_tok(kind: TokKind, bytes: &[u8], open: usize, close: usize, end: usize) -> Tok {
    let trim_left = bytes.get(open + 2) == Some(&b'-') && open + 2 < close;
    let inner_start = open + 2 + usize::from(trim_left);
    let trim_right = close > inner_start && bytes.get(close - 1) == Some(&b'-');
    let trim_right = trim_right || (trim_left && close == open + 3);
    let inner_end = if trim_right && close > inner_start { close - 1 } else { close.max(inner_start) };
    Tok { kind, start: open, end, inner_start, inner_end, trim_left, trim_right }
}

fn apply_whitespace_control(src: &str, toks: &mut [Tok]) {
    let bytes = src.as_bytes();
    for idx in 0..toks.len() {
        let Some(tok) = toks.get(idx).copied() else { continue };
        if tok.kind != TokKind::Text {
            continue;
        }
        let strip_start = idx > 0
            && toks.get(idx - 1).is_some_and(|t| t.trim_right && matches!(t.kind, TokKind::Tag | TokKind::Output));
        let strip_end =
            toks.get(idx + 1).is_some_and(|t| t.trim_left && matches!(t.kind, TokKind::Tag | TokKind::Output));
        let (mut s, mut e) = (tok.start, tok.end);
        if strip_start {
            while s < e && bytes.get(s).copied().is_some_and(|b| is_ruby_space(b) || b == 0) {
                s += 1;
            }
        }
        if strip_end {
            while e > s && bytes.get(e - 1).copied().is_some_and(|b| is_ruby_space(b) || b == 0) {
                e -= 1;
            }
        }
        if let Some(t) = toks.get_mut(idx) {
            t.start = s;
            t.end = e;
            t.inner_start = s;
            t.inner_end = e;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Expression lexer

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum T<'s> {
    Ident(&'s str),
    /// A quoted string without its quotes (Liquid strings have no escapes).
    Str(&'s str),
    Int(i64),
    Float(f64),
    Dot,
    DotDot,
    LBrack,
    RBrack,
    LParen,
    RParen,
    Pipe,
    Colon,
    Comma,
    /// `==`, `!=`, `<>`, `<`, `<=`, `>`, `>=`
    Cmp(&'static str),
    /// A single `=` (only `assign` uses it).
    Assign,
    End,
}

impl T<'_> {
    pub(crate) fn describe(&self) -> String {
        match self {
            T::Ident(s) => format!("'{s}'"),
            T::Str(s) => format!("string '{s}'"),
            T::Int(i) => format!("number {i}"),
            T::Float(f) => {
                let mut s = "number ".to_string();
                super::number::write_float(*f, &mut s);
                s
            }
            T::Dot => "'.'".into(),
            T::DotDot => "'..'".into(),
            T::LBrack => "'['".into(),
            T::RBrack => "']'".into(),
            T::LParen => "'('".into(),
            T::RParen => "')'".into(),
            T::Pipe => "'|'".into(),
            T::Colon => "':'".into(),
            T::Comma => "','".into(),
            T::Cmp(op) => format!("'{op}'"),
            T::Assign => "'='".into(),
            T::End => "the end of the tag".into(),
        }
    }
}

/// A lexing error at a byte offset of the markup's source.
pub(crate) struct LexError {
    pub offset: usize,
    pub message: String,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (!c.is_ascii() && c.is_alphanumeric())
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || (!c.is_ascii() && c.is_alphanumeric())
}

/// Lexes `src[start..end]` into tokens with their byte offsets (in `src`).
pub(crate) fn lex_expr(src: &str, start: usize, end: usize) -> Result<Vec<(T<'_>, usize)>, LexError> {
    let mut out = Vec::new();
    let text = src.get(start..end).unwrap_or("");
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let Some(&b) = bytes.get(i) else { break };
        let at = start + i;
        if is_ruby_space(b) {
            i += 1;
            continue;
        }
        let tok = match b {
            b'\'' | b'"' => {
                let close = bytes.get(i + 1..).and_then(|r| r.iter().position(|&c| c == b)).map(|p| p + i + 1);
                let Some(close) = close else {
                    return Err(LexError { offset: at, message: "a string is not closed (missing quote)".into() });
                };
                let s = text.get(i + 1..close).unwrap_or("");
                i = close + 1;
                T::Str(s)
            }
            b'0'..=b'9' | b'-' if b != b'-' || bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let s = i;
                i += 1;
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                let mut float = false;
                if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    float = true;
                    i += 1;
                    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                        i += 1;
                    }
                }
                let lit = text.get(s..i).unwrap_or("0");
                if float {
                    T::Float(lit.parse().unwrap_or(0.0))
                } else {
                    match lit.parse::<i64>() {
                        Ok(v) => T::Int(v),
                        Err(_) => T::Float(lit.parse().unwrap_or(0.0)),
                    }
                }
            }
            b'.' => {
                if bytes.get(i + 1) == Some(&b'.') {
                    i += 2;
                    T::DotDot
                } else {
                    i += 1;
                    T::Dot
                }
            }
            b'[' => {
                i += 1;
                T::LBrack
            }
            b']' => {
                i += 1;
                T::RBrack
            }
            b'(' => {
                i += 1;
                T::LParen
            }
            b')' => {
                i += 1;
                T::RParen
            }
            b'|' => {
                i += 1;
                T::Pipe
            }
            b':' => {
                i += 1;
                T::Colon
            }
            b',' => {
                i += 1;
                T::Comma
            }
            b'=' | b'!' | b'<' | b'>' => {
                let two = bytes.get(i + 1).copied();
                let (op, len) = match (b, two) {
                    (b'=', Some(b'=')) => ("==", 2),
                    (b'!', Some(b'=')) => ("!=", 2),
                    (b'<', Some(b'>')) => ("<>", 2),
                    (b'<', Some(b'=')) => ("<=", 2),
                    (b'>', Some(b'=')) => (">=", 2),
                    (b'<', _) => ("<", 1),
                    (b'>', _) => (">", 1),
                    (b'=', _) => ("=", 1),
                    _ => return Err(LexError { offset: at, message: "unexpected character '!'".into() }),
                };
                i += len;
                if op == "=" {
                    T::Assign
                } else {
                    T::Cmp(op)
                }
            }
            _ => {
                let c = text.get(i..).and_then(|r| r.chars().next()).unwrap_or('?');
                if !is_ident_start(c) {
                    return Err(LexError { offset: at, message: format!("unexpected character '{c}'") });
                }
                let s = i;
                i += c.len_utf8();
                while let Some(c) = text.get(i..).and_then(|r| r.chars().next()) {
                    if is_ident_char(c) {
                        i += c.len_utf8();
                    } else {
                        break;
                    }
                }
                if bytes.get(i) == Some(&b'?') {
                    i += 1;
                }
                T::Ident(text.get(s..i).unwrap_or(""))
            }
        };
        out.push((tok, at));
    }
    out.push((T::End, end));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(TokKind, String)> {
        tokenize(src).iter().map(|t| (t.kind, src.get(t.inner_start..t.inner_end).unwrap_or("").to_string())).collect()
    }

    #[test]
    fn splits_text_output_and_tags() {
        let k = kinds("a {{ x }} b {%- if y -%}  c  {% endif %}");
        assert_eq!(
            k,
            vec![
                (TokKind::Text, "a ".into()),
                (TokKind::Output, " x ".into()),
                (TokKind::Text, " b".into()),
                (TokKind::Tag, " if y ".into()),
                (TokKind::Text, "c  ".into()),
                (TokKind::Tag, " endif ".into()),
            ]
        );
    }

    #[test]
    fn raw_bodies_are_verbatim() {
        let k = kinds("{% raw %} %} {% }} {{ {% endraw %}x");
        assert_eq!(k.get(1), Some(&(TokKind::RawBody, " %} {% }} {{ ".to_string())));
        assert_eq!(k.get(3), Some(&(TokKind::Text, "x".to_string())));
    }

    #[test]
    fn unclosed_markup_is_bad() {
        assert_eq!(kinds("{{ x").first().map(|t| t.0), Some(TokKind::Bad));
        assert_eq!(kinds("a {% x").get(1).map(|t| t.0), Some(TokKind::Bad));
    }

    #[test]
    fn expression_tokens() {
        let src = "a.b[0] | f: 'x', k: -1.5, (1..n) <= contains";
        let toks: Vec<T<'_>> = lex_expr(src, 0, src.len()).ok().unwrap().into_iter().map(|t| t.0).collect();
        assert_eq!(
            toks,
            vec![
                T::Ident("a"),
                T::Dot,
                T::Ident("b"),
                T::LBrack,
                T::Int(0),
                T::RBrack,
                T::Pipe,
                T::Ident("f"),
                T::Colon,
                T::Str("x"),
                T::Comma,
                T::Ident("k"),
                T::Colon,
                T::Float(-1.5),
                T::Comma,
                T::LParen,
                T::Int(1),
                T::DotDot,
                T::Ident("n"),
                T::RParen,
                T::Cmp("<="),
                T::Ident("contains"),
                T::End
            ]
        );
    }

    #[test]
    fn line_and_column() {
        let idx = LineIndex::new("ab\nこんにちは{{ x");
        assert_eq!(idx.pos(0), Pos { line: 1, col: 1 });
        assert_eq!(idx.pos(3), Pos { line: 2, col: 1 });
        assert_eq!(idx.pos(3 + 15), Pos { line: 2, col: 6 });
    }
}
