//! `#[wasm_bindgen]` bindings only: conversions at the boundary, no logic.
//!
//! Hot paths take and return JSON strings (one copy each way, no per-field crossing); the
//! object-in/object-out calls are conveniences. Every failure is thrown as a JavaScript
//! `Error` named `KizunaError` carrying `code`, `path` and `errors` (all problems).

use crate::engine::{self, DecideOptions};
use crate::error::{Code, Error};
use crate::quiz::{QuizAnswer, QuizState};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
import type { Code, Config, Context, Decision, QuizState, QuizQuestion, QuizOutcome } from "./contract.js";
export type { Code, Config, Context, Decision, QuizState, QuizQuestion, QuizOutcome };
// The parts, so a consumer need not spell NonNullable<Config["segments"]>[number].
export type {
  Segment, Content, Variant, Experiment, Quiz, RichMenus, Menu, MenuRule, User, Purchase, UserEvent,
  RichMenuChoice, RichMenuLink, RichMenuUnlink, RichMenuNone, MenuReason, ContentChoice, SegmentExplain,
  ContentExplain, VariantExplain, ExperimentExplain, Step, QuizCompletion, QuizAnswer, QuizChoice,
  QuizOutcomeResult, QuizContent,
  LineMessage, LineObject, LineTextMessage, LineTextMessageV2, LineStickerMessage, LineImageMessage, LineVideoMessage,
  LineAudioMessage, LineLocationMessage, LineCouponMessage, LineImagemapMessage, LineImagemapArea, LineImagemapAction,
  LineTemplateMessage, LineTemplate, LineAction, LineFlexMessage, LineFlexBubble, LineFlexCarousel,
} from "./contract.js";

/** One Messaging API call of a rich-menu batch (at most 500 userIds). */
export interface BulkRequest {
  method: "POST";
  path: "/v2/bot/richmenu/bulk/link" | "/v2/bot/richmenu/bulk/unlink";
  body: { richMenuId?: string; userIds: string[] };
}

/** One problem: a stable code, a message for people, and a JSON pointer. */
export interface Problem {
  /** Stable: codes are added, never renamed. */
  code: Code;
  message: string;
  /** JSON pointer (RFC 6901) of the offending place; "" is the whole document. */
  path: string;
  line?: number;
  column?: number;
}

/**
 * What every kizuna call throws: an Error with the first problem's code and path, and all
 * problems. It is a plain `Error` named "KizunaError": test it with `err instanceof KizunaError`
 * (the value exported beside this type) or `err.name === "KizunaError"`.
 */
export interface KizunaError extends Error {
  name: "KizunaError";
  code: Code;
  path: string;
  errors: Problem[];
}

/** A line of `decideMany`'s output, parsed: a decision, or why the input line got none. */
export type DecideManyLine = Decision | DecideManyError;
/** A context `decideMany` could not decide: the problem, the input's line (1-based), and the
 * context's `user.userId` when it could be read. */
export interface DecideManyError {
  error: Problem;
  line: number;
  userId?: string;
}
"#;

/// Builds the thrown `KizunaError` from one or more problems.
fn js_error(errors: &[Error]) -> JsValue {
    let first = errors.first().cloned().unwrap_or_else(|| Error::new(Code::InvalidValue, "", "unknown error"));
    let message = match errors.len() {
        0 | 1 => first.to_string(),
        n => format!("{first} (and {} more)", n - 1),
    };
    let err = js_sys::Error::new(&message);
    err.set_name("KizunaError");
    let obj: &JsValue = err.as_ref();
    // One JSON.parse of the list: smaller than serde-wasm-bindgen's generic serializer.
    let mut text = String::new();
    crate::error::write_errors_json(errors, &mut text);
    let list = js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL);
    let _ = js_sys::Reflect::set(obj, &"code".into(), &first.code.as_str().into());
    let _ = js_sys::Reflect::set(obj, &"path".into(), &first.path.as_str().into());
    let _ = js_sys::Reflect::set(obj, &"errors".into(), &list);
    err.into()
}

/// JSON text of a value that is either a string (taken as JSON text) or a plain object.
fn json_text(v: &JsValue, what: &str) -> Result<String, JsValue> {
    if let Some(s) = v.as_string() {
        return Ok(s);
    }
    js_sys::JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| js_error(&[Error::new(Code::InvalidJson, "", format!("the {what} cannot be turned into JSON"))]))
}

/// The given moment, or the host clock read once (playground calls only; decisions never read it).
fn now_or_clock(now: Option<String>) -> String {
    now.unwrap_or_else(|| js_sys::Date::new_0().to_iso_string().as_string().unwrap_or_default())
}

/// JSON text → JavaScript value. One `JSON.parse` beats building the object field by field
/// across the boundary several times over for a decision.
fn parse_js(text: &str) -> Result<JsValue, JsValue> {
    js_sys::JSON::parse(text).map_err(|_| js_error(&[Error::new(Code::InvalidJson, "", "internal: output is not JSON")]))
}

/// A quiz state given as an object or JSON text, read with the crate's own parser once its
/// length has passed the engine's bound.
fn state_from_js(engine: &engine::Engine, v: &JsValue) -> Result<QuizState, JsValue> {
    let js = if v.is_string() { Some(v.clone()) } else { js_sys::JSON::stringify(v).ok().map(JsValue::from) };
    let Some(js) = js.filter(JsValue::is_string) else {
        return Err(js_error(&[Error::new(Code::InvalidJson, "", "the quiz state cannot be turned into JSON")]));
    };
    // Measured before the text is copied into Wasm memory (which never shrinks): a string's
    // length in UTF-16 units is at most its length in UTF-8 bytes.
    let units = js.unchecked_ref::<js_sys::JsString>().length();
    engine.check_quiz_state_len(usize::try_from(units).unwrap_or(usize::MAX)).map_err(|e| js_error(&[e]))?;
    engine.read_quiz_state(&js.as_string().unwrap_or_default()).map_err(|e| js_error(&[e]))
}

/// An answer: a string (choice id or text) or an array of choice ids.
fn answer_from_js(v: &JsValue, question_id: &str) -> Result<QuizAnswer, JsValue> {
    if let Some(s) = v.as_string() {
        return Ok(QuizAnswer::One(s));
    }
    let ids = js_sys::Array::is_array(v).then(|| js_sys::Array::from(v).iter().map(|x| x.as_string()).collect::<Option<Vec<_>>>()).flatten();
    ids.map(QuizAnswer::Many).ok_or_else(|| {
        let path = crate::contract::read::join("/answers", question_id);
        js_error(&[Error::new(Code::InvalidAnswer, path, "an answer is a string (a choice id or text) or an array of choice ids")])
    })
}

/// A compiled config.
#[wasm_bindgen]
pub struct Engine {
    inner: engine::Engine,
}

/// `kizuna check`'s warnings, in a build with the `lint` feature only (the playground's; the npm
/// package's Wasm has none).
#[cfg(lint)]
#[wasm_bindgen]
impl Engine {
    /// What `kizuna check` warns about (`unknown_context_field`, `unreachable`), each
    /// `{code, message, path, line?, column?}`, ordered by path.
    pub fn warnings(&self) -> JsValue {
        let mut text = String::new();
        crate::error::write_errors_json(&self.inner.warnings(), &mut text);
        js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL)
    }
}

#[wasm_bindgen]
impl Engine {
    /// Compiles a config (JSON text or object). Throws a KizunaError listing every problem.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "Config | string")] config: JsValue) -> Result<Engine, JsValue> {
        let text = json_text(&config, "config")?;
        engine::Engine::compile(&text).map(|inner| Engine { inner }).map_err(|e| js_error(&e))
    }

    /// Decides for a context given as JSON text; returns the decision as JSON text (fast path).
    #[wasm_bindgen(js_name = decideJson)]
    pub fn decide_json(&self, context: &str, explain: Option<bool>) -> Result<String, JsValue> {
        let opts = DecideOptions { explain: explain.unwrap_or(false) };
        let _arena = arena();
        self.inner.decide_to_string(context, opts).map_err(|e| js_error(&[e]))
    }

    /// `decideJson` for the Node entry: the decision kept for [`out_ptr`] (see [`keep_out`]).
    #[wasm_bindgen(js_name = __decideJsonOut, skip_typescript)]
    pub fn decide_json_out(&self, context: &str, explain: Option<bool>) -> Result<i32, JsValue> {
        let opts = DecideOptions { explain: explain.unwrap_or(false) };
        keep_out(|out| self.inner.decide_into(context, opts, out))
    }

    /// Decides for a context object (or JSON text); returns a Decision object.
    #[wasm_bindgen(unchecked_return_type = "Decision")]
    pub fn decide(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Context | string")] context: JsValue,
        explain: Option<bool>,
    ) -> Result<JsValue, JsValue> {
        let text = json_text(&context, "context")?;
        parse_js(&self.decide_json(&text, explain)?)
    }

    /// Decides for many contexts in one call: NDJSON in (one context per line), NDJSON out, one
    /// line per non-blank input line, in order: a decision, or `{"error": {code, message, path},
    /// "line": n, "userId"?}` with the input's line number (1-based) and the context's
    /// `user.userId` when it can be read. Blank lines are skipped. Each line parses to a
    /// `DecideManyLine`.
    #[wasm_bindgen(js_name = decideMany)]
    pub fn decide_many(&self, ndjson: &str) -> String {
        engine::decide_ndjson(&self.inner, ndjson, DecideOptions::default())
    }

    /// Decides and renders the content `contentId` for a context (JSON text), whatever its
    /// event — e.g. for a push campaign. Returns the decision as JSON text.
    #[wasm_bindgen(js_name = renderJson)]
    pub fn render_json(&self, #[wasm_bindgen(js_name = contentId)] content_id: &str, context: &str) -> Result<String, JsValue> {
        let _arena = arena();
        self.inner.render_to_string(content_id, context, DecideOptions::default()).map_err(|e| js_error(&[e]))
    }

    /// `renderJson` for the Node entry, as [`Engine::decide_json_out`].
    #[wasm_bindgen(js_name = __renderJsonOut, skip_typescript)]
    pub fn render_json_out(&self, content_id: &str, context: &str) -> Result<i32, JsValue> {
        keep_out(|out| self.inner.render_into(content_id, context, DecideOptions::default(), out))
    }

    /// Like `renderJson`, for a context object (or JSON text); returns a Decision object.
    #[wasm_bindgen(unchecked_return_type = "Decision")]
    pub fn render(
        &self,
        #[wasm_bindgen(js_name = contentId)] content_id: &str,
        #[wasm_bindgen(unchecked_param_type = "Context | string")] context: JsValue,
    ) -> Result<JsValue, JsValue> {
        let text = json_text(&context, "context")?;
        parse_js(&self.render_json(content_id, &text)?)
    }

    /// A new state for quiz `quizId`, at its first question. Keep it (e.g. in localStorage)
    /// and pass it to the other quiz calls.
    #[wasm_bindgen(js_name = quizStart, unchecked_return_type = "QuizState")]
    pub fn quiz_start(&self, #[wasm_bindgen(js_name = quizId)] quiz_id: &str) -> Result<JsValue, JsValue> {
        parse_js(&self.inner.quiz_start(quiz_id).map_err(|e| js_error(&[e]))?.to_json())
    }

    /// Answers a question (the current one, or one already answered); returns the new state.
    /// The same answer again returns an equal state.
    #[wasm_bindgen(js_name = quizAnswer, unchecked_return_type = "QuizState")]
    pub fn quiz_answer(
        &self,
        #[wasm_bindgen(unchecked_param_type = "QuizState | string")] state: JsValue,
        #[wasm_bindgen(js_name = questionId)] question_id: &str,
        #[wasm_bindgen(unchecked_param_type = "string | string[]")] answer: JsValue,
    ) -> Result<JsValue, JsValue> {
        let state = state_from_js(&self.inner, &state)?;
        let answer = answer_from_js(&answer, question_id)?;
        parse_js(&self.inner.quiz_answer(&state, question_id, answer).map_err(|e| js_error(&[e]))?.to_json())
    }

    /// The question to show, or `null` when the quiz is done.
    #[wasm_bindgen(js_name = quizQuestion, unchecked_return_type = "QuizQuestion | null")]
    pub fn quiz_question(&self, #[wasm_bindgen(unchecked_param_type = "QuizState | string")] state: JsValue) -> Result<JsValue, JsValue> {
        match self.inner.quiz_question(&state_from_js(&self.inner, &state)?).map_err(|e| js_error(&[e]))? {
            Some(q) => parse_js(&q.to_json()),
            None => Ok(JsValue::NULL),
        }
    }

    /// The outcome of a finished quiz for the user in `context`: the result rendered, the
    /// updated context and the decision for it.
    #[wasm_bindgen(js_name = quizResult, unchecked_return_type = "QuizOutcome")]
    pub fn quiz_result(
        &self,
        #[wasm_bindgen(unchecked_param_type = "QuizState | string")] state: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Context | string")] context: JsValue,
    ) -> Result<JsValue, JsValue> {
        let state = state_from_js(&self.inner, &state)?;
        let context = json_text(&context, "context")?;
        parse_js(&self.inner.quiz_result(&state, &context).map_err(|e| js_error(&[e]))?.to_json())
    }

    /// Hash of the canonical config; every decision carries it.
    #[wasm_bindgen(getter, js_name = configHash)]
    pub fn config_hash(&self) -> String {
        self.inner.config_hash().to_string()
    }
}

/// Groups the rich-menu actions of many decisions (an array of Decision objects, or NDJSON /
/// JSON text) into LINE's bulk link / unlink requests of at most 500 users:
/// `[{method: "POST", path: "/v2/bot/richmenu/bulk/link", body: {richMenuId, userIds}}, …]`.
#[wasm_bindgen(js_name = bulkRequests, unchecked_return_type = "BulkRequest[]")]
pub fn bulk_requests(#[wasm_bindgen(unchecked_param_type = "Decision[] | string")] decisions: JsValue) -> Result<JsValue, JsValue> {
    let text = json_text(&decisions, "decisions")?;
    parse_js(&engine::bulk_requests_json(&text).map_err(|e| js_error(&[e]))?)
}

/// Evaluates a bare JsonLogic rule (with kizuna's operators) against data, for playgrounds.
/// The rule and the data are each a value or JSON text: a string is read as JSON, so a bare
/// string datum is passed as `JSON.stringify("abc")`. `now` (RFC 3339) is the moment time
/// operators see; default: the host clock, read once. Times are in `+09:00`.
#[wasm_bindgen(unchecked_return_type = "unknown")]
pub fn evaluate(
    #[wasm_bindgen(unchecked_param_type = "unknown")] rule: JsValue,
    data: Option<JsValue>,
    now: Option<String>,
) -> Result<JsValue, JsValue> {
    let rule = json_text(&rule, "rule")?;
    let data = match data {
        Some(data) => json_text(&data, "data")?,
        None => "null".to_string(),
    };
    let out = engine::evaluate(&rule, &data, &now_or_clock(now)).map_err(|e| js_error(&e))?;
    parse_js(&out)
}

/// Renders an ad-hoc Liquid template against data (an object or JSON text), for playgrounds.
/// `now` (RFC 3339) is what `"now"` means in the template; default: the host clock, read once.
/// Dates print in `+09:00` (a config's `timeZone` applies to an Engine's contents).
#[wasm_bindgen(js_name = renderTemplate)]
pub fn render_template(
    template: &str,
    data: Option<JsValue>,
    now: Option<String>,
) -> Result<String, JsValue> {
    let data = match data {
        Some(data) => json_text(&data, "data")?,
        None => "{}".to_string(),
    };
    engine::render_template(template, &data, &now_or_clock(now)).map_err(|e| js_error(&e))
}

/// The arena's live blocks and top, for the wasm tests (see `src/arena.rs`).
#[cfg(all(feature = "arena", feature = "wasm-tests", not(target_feature = "atomics")))]
#[doc(hidden)]
pub fn arena_stats() -> (usize, usize) {
    crate::arena::stats()
}

/// One decision's allocation scope: its short-lived blocks come from the arena (`src/arena.rs`)
/// when the package is built with it.
fn arena() -> impl Sized {
    #[cfg(all(feature = "arena", not(target_feature = "atomics")))]
    return crate::arena::scope();
    #[cfg(not(all(feature = "arena", not(target_feature = "atomics"))))]
    ()
}

thread_local! {
    /// The last `__*Out` result, for the Node entry to copy out with `Buffer`: an ASCII one as
    /// is (`latin1Slice`), any other as UTF-16 (`ucs2Slice`, one copy, where decoding UTF-8 with
    /// Japanese messages costs ~4 µs per KB). Both buffers are reused from call to call.
    static OUT: std::cell::RefCell<(String, Vec<u16>)> = const { std::cell::RefCell::new((String::new(), Vec::new())) };
}

/// The most bytes the kept result buffers hold from one `__*Out` call to the next: a decision
/// with messages is a few KB, with the explain trace tens of KB.
const OUT_KEPT: usize = 256 * 1024;

/// Runs `write` into the kept result buffer for [`out_ptr`]: returns the result's length in
/// bytes, negated, when it is ASCII, else its length in UTF-16 code units.
fn keep_out(write: impl FnOnce(&mut String) -> Result<(), Error>) -> Result<i32, JsValue> {
    OUT.with(|out| {
        // Cannot fail: `OUT` is borrowed only here and in `out_ptr`, and `write` (engine code)
        // never calls back into either.
        let Ok(mut out) = out.try_borrow_mut() else { return Ok(0) };
        let (text, units) = &mut *out;
        // Buffers a large result grew past the bound (a decision with the explain trace of a
        // large context) go back to the allocator at the next call, for other calls to reuse,
        // instead of holding their size from then on (Wasm memory never shrinks, so what the
        // buffers hold is lost to everything else).
        if text.capacity() > OUT_KEPT {
            *text = String::new();
        }
        if units.capacity() > OUT_KEPT / 2 {
            *units = Vec::new();
        }
        text.clear();
        // The kept buffer is the system allocator's (a block of the arena kept across calls
        // would keep the arena from being reused).
        text.reserve(4096);
        {
            let _arena = arena();
            write(text).map_err(|e| js_error(&[e]))?;
        }
        // Lengths saturate: a decision is bounded by LINE's message limits, far below 2^31.
        Ok(if text.is_ascii() {
            -i32::try_from(text.len()).unwrap_or(i32::MAX)
        } else {
            i32::try_from(utf16_into(text, units)).unwrap_or(i32::MAX)
        })
    })
}

/// Writes `s` as UTF-16 code units into `out` and returns how many. `out` only grows (it never
/// needs more units than `s` has bytes); the Node entry reads just the units written, so what
/// lies beyond them is never cleared. ASCII runs, most of a decision, go eight bytes at a time,
/// other characters are decoded in place: pushing each unit (`extend(encode_utf16())`) was a
/// tenth of `renderJson`.
fn utf16_into(s: &str, out: &mut Vec<u16>) -> usize {
    if out.len() < s.len() {
        out.resize(s.len(), 0);
    }
    let bytes = s.as_bytes();
    let out = out.as_mut_slice();
    let (mut i, mut n) = (0, 0);
    // Slice patterns read a character's bytes with one length check (valid UTF-8 has them).
    while let Some(rest) = bytes.get(i..) {
        let (unit, width) = match *rest {
            [b, ..] if b < 0x80 => {
                if let (Some(src), Some(dst)) = (rest.get(..8), out.get_mut(n..n + 8)) {
                    if u64::from_le_bytes(src.try_into().unwrap_or([0x80; 8])) & 0x8080_8080_8080_8080 == 0 {
                        for (d, b) in dst.iter_mut().zip(src) {
                            *d = u16::from(*b);
                        }
                        i += 8;
                        n += 8;
                        continue;
                    }
                }
                (u32::from(b), 1)
            }
            [b0 @ 0xE0..=0xEF, b1, b2, ..] => ((u32::from(b0 & 0x0F) << 12) | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F), 3),
            [b0 @ 0xC0..=0xDF, b1, ..] => ((u32::from(b0 & 0x1F) << 6) | u32::from(b1 & 0x3F), 2),
            [b0, b1, b2, b3, ..] => {
                // Outside the BMP: a surrogate pair. The casts keep the 16 bits a unit has.
                let c = (u32::from(b0 & 0x07) << 18) | (u32::from(b1 & 0x3F) << 12) | (u32::from(b2 & 0x3F) << 6) | u32::from(b3 & 0x3F);
                if let Some(d) = out.get_mut(n) {
                    *d = (0xD7C0 + (c >> 10)) as u16;
                }
                n += 1;
                (0xDC00 | (c & 0x3FF), 4)
            }
            // The end, or (never, in valid UTF-8) a truncated character.
            _ => break,
        };
        if let Some(d) = out.get_mut(n) {
            *d = unit as u16;
        }
        i += width;
        n += 1;
    }
    n
}

/// Where the last `__*Out` result is in Wasm memory (`ascii`: the bytes, else the units).
#[wasm_bindgen(js_name = __outPtr, skip_typescript)]
pub fn out_ptr(ascii: bool) -> usize {
    OUT.with(|out| out.try_borrow().map_or(0, |out| if ascii { out.0.as_ptr() as usize } else { out.1.as_ptr() as usize }))
}
