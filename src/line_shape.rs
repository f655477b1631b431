//! The shape of LINE message objects: for each object, the `type`s it may have where it sits,
//! the keys it takes (and which are required), the values of keys LINE enumerates, and the
//! URLs LINE fetches or opens. LINE refuses a message that breaks any of these with HTTP 400
//! at send time, after the reply token is spent; kizuna refuses it when the config compiles.
//!
//! Followed: the Messaging API reference, https://developers.line.biz/en/reference/messaging-api/
//! (#message-objects, #quick-reply, #text-message, #sticker-message, #image-message,
//! #video-message, #audio-message, #location-message, #imagemap-message, #template-messages,
//! #flex-message, #action-objects), the Flex Message pages
//! https://developers.line.biz/en/docs/messaging-api/flex-message-elements/ and
//! https://developers.line.biz/en/docs/messaging-api/flex-message-layout/ (which components a
//! baseline box holds), and LINE's own OpenAPI description of the same objects
//! (https://github.com/line/line-openapi, `messaging-api.yml`, schemas `Message` to `AltUri`).
//! Where LINE's pages and its OpenAPI file disagree or are silent, the looser reading wins: a
//! valid message refused here would be worse than a typo let through.

use crate::contract::read::{join, kind};
use crate::error::{suggest, Code};
use serde_json::{Map, Value as Json};

/// A family of objects: where an object sits decides its family, and the family which `type`s
/// (if any) and keys it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum F {
    Message,
    QuickReply,
    QuickReplyItem,
    Sender,
    Emoji,
    Action,
    AltUri,
    ImagemapAction,
    Area,
    BaseSize,
    ImagemapVideo,
    ExternalLink,
    Template,
    Column,
    ImageColumn,
    Container,
    Styles,
    BlockStyle,
    Component,
    Background,
    Substitution,
    Mentionee,
}

/// Every object: its family, its `type` (`""`: the object has none), its name in messages and
/// its keys besides `type`. A key ending in `!` is required; `{` holds an object, `[` an array
/// of objects, `*` an object of objects (one per key), `#` a number, `?` true or false; any
/// other key a string.
const OBJECTS: &[(F, &str, &str, &str)] = &[
    (F::Message, "text", "text message", "text! emojis[ quoteToken"),
    (F::Message, "textV2", "textV2 message", "text! substitution* quoteToken"),
    (F::Message, "sticker", "sticker message", "packageId! stickerId! quoteToken"),
    (F::Message, "image", "image message", "originalContentUrl! previewImageUrl!"),
    (F::Message, "video", "video message", "originalContentUrl! previewImageUrl! trackingId"),
    (F::Message, "audio", "audio message", "originalContentUrl! duration!#"),
    (F::Message, "location", "location message", "title! address! latitude!# longitude!#"),
    (F::Message, "imagemap", "imagemap message", "baseUrl! altText! baseSize!{ actions![ video{"),
    (F::Message, "template", "template message", "altText! template!{"),
    (F::Message, "flex", "flex message", "altText! contents!{"),
    (F::Message, "coupon", "coupon message", "couponId! deliveryTag"),
    (F::QuickReply, "", "quick reply", "items!["),
    (F::QuickReplyItem, "action", "quick reply button", "action!{ imageUrl"),
    (F::Sender, "", "sender", "name iconUrl"),
    (F::Emoji, "", "LINE emoji", "index!# productId! emojiId!"),
    (F::Action, "postback", "postback action", "data! displayText text inputOption fillInText"),
    (F::Action, "message", "message action", "text!"),
    (F::Action, "uri", "uri action", "uri! altUri{"),
    (F::Action, "datetimepicker", "datetimepicker action", "data! mode! initial max min"),
    (F::Action, "camera", "camera action", ""),
    (F::Action, "cameraRoll", "cameraRoll action", ""),
    (F::Action, "location", "location action", ""),
    (F::Action, "richmenuswitch", "richmenuswitch action", "richMenuAliasId! data!"),
    (F::Action, "clipboard", "clipboard action", "clipboardText!"),
    (F::AltUri, "", "altUri", "desktop!"),
    (F::ImagemapAction, "uri", "imagemap uri action", "area!{ linkUri! label"),
    (F::ImagemapAction, "message", "imagemap message action", "area!{ text! label"),
    (F::ImagemapAction, "clipboard", "imagemap clipboard action", "area!{ clipboardText! label"),
    (F::Area, "", "imagemap area", "x!# y!# width!# height!#"),
    (F::BaseSize, "", "imagemap baseSize", "width!# height!#"),
    (F::ImagemapVideo, "", "imagemap video", "originalContentUrl! previewImageUrl! area!{ externalLink{"),
    (F::ExternalLink, "", "imagemap video externalLink", "linkUri! label!"),
    (F::Template, "buttons", "buttons template", "text! actions![ thumbnailImageUrl imageAspectRatio imageSize imageBackgroundColor title defaultAction{"),
    (F::Template, "confirm", "confirm template", "text! actions!["),
    (F::Template, "carousel", "carousel template", "columns![ imageAspectRatio imageSize"),
    (F::Template, "image_carousel", "image_carousel template", "columns!["),
    (F::Column, "", "carousel column", "text! actions![ thumbnailImageUrl imageBackgroundColor title defaultAction{"),
    (F::ImageColumn, "", "image carousel column", "imageUrl! action!{"),
    (F::Container, "bubble", "flex bubble", "size direction header{ hero{ body{ footer{ styles{ action{"),
    (F::Container, "carousel", "flex carousel", "contents!["),
    (F::Styles, "", "bubble styles", "header{ hero{ body{ footer{"),
    (F::BlockStyle, "", "block style", "backgroundColor separator? separatorColor"),
    (F::Component, "box", "flex box", "layout! contents![ flex# spacing margin position offsetTop offsetBottom offsetStart offsetEnd \
        backgroundColor borderColor borderWidth cornerRadius width maxWidth height maxHeight paddingAll paddingTop paddingBottom \
        paddingStart paddingEnd action{ justifyContent alignItems background{"),
    (F::Component, "button", "flex button", "action!{ flex# color style gravity margin position offsetTop offsetBottom offsetStart offsetEnd height adjustMode scaling?"),
    (F::Component, "image", "flex image", "url! flex# margin position offsetTop offsetBottom offsetStart offsetEnd align gravity size aspectRatio aspectMode backgroundColor action{ animated?"),
    (F::Component, "video", "flex video", "url! previewUrl! altContent!{ aspectRatio action{"),
    (F::Component, "icon", "flex icon", "url! size aspectRatio margin position offsetTop offsetBottom offsetStart offsetEnd scaling?"),
    (F::Component, "text", "flex text", "text contents[ flex# size align gravity color weight style decoration wrap? lineSpacing margin position \
        offsetTop offsetBottom offsetStart offsetEnd action{ maxLines# adjustMode scaling?"),
    (F::Component, "span", "flex span", "text! size color weight style decoration"),
    (F::Component, "separator", "flex separator", "margin color"),
    (F::Component, "filler", "flex filler", "flex#"),
    (F::Background, "linearGradient", "linearGradient background", "angle! startColor! endColor! centerColor centerPosition"),
    // textV2 substitutions (LINE's OpenAPI description, schemas `SubstitutionObject` to
    // `AllMentionTarget`). The text's `{key}` placeholders and the substitution's keys: see
    // [`text_v2`]. A key no placeholder uses is let through (the reference is silent on it).
    (F::Substitution, "mention", "mention substitution", "mentionee!{"),
    (F::Substitution, "emoji", "emoji substitution", "productId! emojiId!"),
    (F::Mentionee, "user", "user mentionee", "userId!"),
    (F::Mentionee, "all", "all mentionee", ""),
];

/// Keys every object of a family takes besides its own.
fn common(f: F) -> &'static str {
    match f {
        F::Message => "quickReply{ sender{",
        F::Action => "label",
        _ => "",
    }
}

/// What a family is called when its `type` is wrong.
fn family_name(f: F) -> &'static str {
    match f {
        F::Message => "LINE message",
        F::Action => "action",
        F::ImagemapAction => "imagemap action",
        F::Template => "template",
        F::Container => "flex container",
        F::Component => "flex component",
        F::Background => "background",
        F::Substitution => "substitution",
        F::Mentionee => "mentionee",
        F::QuickReplyItem => "quick reply button",
        _ => "object",
    }
}

/// "a" or "an" before a name.
fn a(name: &str) -> &'static str {
    if name.starts_with(['a', 'e', 'i', 'o']) {
        "an"
    } else {
        "a"
    }
}

/// Actions outside quick replies: camera, camera roll and location work only in quick reply
/// buttons, rich menu switches only in rich menus.
const IN_MESSAGES: &[&str] = &["postback", "message", "uri", "datetimepicker", "clipboard"];
const IN_RICH_MENU: &[&str] = &["postback", "message", "uri", "datetimepicker", "richmenuswitch", "clipboard"];
const IN_QUICK_REPLY: &[&str] = &["postback", "message", "uri", "datetimepicker", "camera", "cameraRoll", "location", "clipboard"];
/// What a horizontal or vertical box holds, and what a baseline box holds (flex-message-layout).
const IN_BOX: &[&str] = &["box", "button", "image", "text", "separator", "filler"];
const IN_BASELINE: &[&str] = &["icon", "text", "filler"];
/// A box whose `layout` is a template: either, known once rendered.
const IN_ANY_BOX: &[&str] = &["box", "button", "image", "text", "separator", "filler", "icon"];

/// The family (and the `type`s allowed, `[]`: any of the family) of the object(s) under `key`
/// of an object of family `f` and type `t`; `None`: not checked inside.
fn child(f: F, t: &str, key: &str, parent: &Map<String, Json>) -> Option<(F, &'static [&'static str])> {
    Some(match (f, key) {
        (F::Message, "quickReply") => (F::QuickReply, &[]),
        (F::Message, "sender") => (F::Sender, &[]),
        (F::Message, "emojis") => (F::Emoji, &[]),
        (F::Message, "baseSize") => (F::BaseSize, &[]),
        (F::Message, "actions") => (F::ImagemapAction, &[]),
        (F::Message, "video") => (F::ImagemapVideo, &[]),
        (F::Message, "template") => (F::Template, &[]),
        (F::Message, "contents") => (F::Container, &[]),
        (F::Message, "substitution") => (F::Substitution, &[]),
        (F::Substitution, _) => (F::Mentionee, &[]),
        (F::QuickReply, _) => (F::QuickReplyItem, &[]),
        (F::QuickReplyItem, _) => (F::Action, IN_QUICK_REPLY),
        (F::ImagemapAction | F::ImagemapVideo, "area") => (F::Area, &[]),
        (F::ImagemapVideo, _) => (F::ExternalLink, &[]),
        (F::Template, "columns") if t == "image_carousel" => (F::ImageColumn, &[]),
        (F::Template, "columns") => (F::Column, &[]),
        (F::Template | F::Column | F::ImageColumn | F::Container | F::Component, "action" | "actions" | "defaultAction") => (F::Action, IN_MESSAGES),
        (F::Container, "contents") => (F::Container, &["bubble"]),
        (F::Container, "hero") => (F::Component, &["box", "image", "video"]),
        (F::Container, "styles") => (F::Styles, &[]),
        (F::Container, _) => (F::Component, &["box"]),
        (F::Styles, _) => (F::BlockStyle, &[]),
        (F::Component, "contents") if t == "text" => (F::Component, &["span"]),
        (F::Component, "contents") => match parent.get("layout").and_then(Json::as_str) {
            Some("baseline") => (F::Component, IN_BASELINE),
            Some(l) if is_template(l) => (F::Component, IN_ANY_BOX),
            _ => (F::Component, IN_BOX),
        },
        (F::Component, "altContent") => (F::Component, &["box", "image"]),
        (F::Component, "background") => (F::Background, &[]),
        (F::Action, _) => (F::AltUri, &[]),
        _ => return None,
    })
}

/// Whether an action under `key` of an object of family `f` and type `t` needs a `label`: LINE
/// shows it on a button ("Required for templates other than image carousel", "for quick reply
/// buttons", "for the button of Flex Message": the reference, #action-objects). Elsewhere (a
/// default action, a tappable box or image, an image carousel column, a rich menu area) it
/// is optional.
fn needs_label(f: F, t: &str, key: &str) -> bool {
    matches!((f, key), (F::QuickReplyItem, "action") | (F::Template | F::Column, "actions")) || (f, t, key) == (F::Component, "button", "action")
}

/// How many items LINE takes in an array: family, `type` (`""`: the family has none), key, the
/// fewest and most, what the items are called. The Messaging API reference
/// (https://developers.line.biz/en/reference/messaging-api/), as LINE's own SDK mirrors it
/// (https://github.com/line/line-bot-sdk-nodejs, `lib/types.ts`): at most 20 LINE emoji in a
/// text, 50 imagemap actions, 13 quick reply buttons, 4 actions in a buttons template, "2
/// actions for the 2 buttons" of a confirm template, 10 columns in a carousel or image carousel
/// template, 3 actions in a carousel column, 12 bubbles in a flex carousel. A carousel with
/// nothing in it is refused too (the reference names no minimum; LINE's SDK builders require a
/// bubble, and an empty carousel is answered 400: github.com/openclaw/openclaw/issues/113365):
/// what a `$for` over an empty list leaves. A quick reply with no button means nothing (one
/// that `$for`/`$if` items leave empty is left out of the message, see `engine::contents`);
/// written empty in the config, it is refused.
const COUNTS: &[(F, &str, &str, usize, usize, &str)] = &[
    (F::Message, "text", "emojis", 0, 20, "LINE emoji"),
    (F::Message, "imagemap", "actions", 0, 50, "actions"),
    (F::QuickReply, "", "items", 1, 13, "buttons"),
    (F::Template, "buttons", "actions", 0, 4, "actions"),
    (F::Template, "confirm", "actions", 2, 2, "actions"),
    (F::Template, "carousel", "columns", 1, 10, "columns"),
    (F::Template, "image_carousel", "columns", 1, 10, "columns"),
    (F::Column, "", "actions", 0, 3, "actions"),
    (F::Container, "carousel", "contents", 1, 12, "bubbles"),
];

/// Keys whose values LINE enumerates: key, the object `type` it applies to (`""`: any), the
/// values. `px` last: also a length in pixels such as `12px` or `-4.5px`; `%` last: a length in
/// pixels or a percentage such as `50%` (flex-message-layout: margins, spacing, corner radii,
/// borders, line spacing and text sizes take pixels only).
const VALUES: &[(&str, &str, &str)] = &[
    ("layout", "", "horizontal vertical baseline"),
    ("position", "", "relative absolute"),
    ("justifyContent", "", "center flex-start flex-end space-between space-around space-evenly"),
    ("alignItems", "", "center flex-start flex-end"),
    ("align", "", "start end center"),
    ("gravity", "", "top bottom center"),
    ("weight", "", "regular bold"),
    ("style", "button", "primary secondary link"),
    ("style", "", "normal italic"),
    ("decoration", "", "none underline line-through"),
    ("adjustMode", "", "shrink-to-fit"),
    ("aspectMode", "", "fit cover"),
    ("direction", "", "ltr rtl"),
    ("size", "bubble", "nano micro deca hecto kilo mega giga"),
    ("size", "image", "xxs xs sm md lg xl xxl 3xl 4xl 5xl full %"),
    ("size", "", "xxs xs sm md lg xl xxl 3xl 4xl 5xl px"),
    ("height", "button", "sm md"),
    ("mode", "datetimepicker", "date time datetime"),
    ("inputOption", "", "closeRichMenu openRichMenu openKeyboard openVoice"),
    ("imageAspectRatio", "", "rectangle square"),
    ("imageSize", "", "cover contain"),
    ("margin", "", "none xs sm md lg xl xxl px"),
    ("spacing", "", "none xs sm md lg xl xxl px"),
    ("offsetTop", "", "none xs sm md lg xl xxl %"),
    ("offsetBottom", "", "none xs sm md lg xl xxl %"),
    ("offsetStart", "", "none xs sm md lg xl xxl %"),
    ("offsetEnd", "", "none xs sm md lg xl xxl %"),
    ("paddingAll", "", "none xs sm md lg xl xxl %"),
    ("paddingTop", "", "none xs sm md lg xl xxl %"),
    ("paddingBottom", "", "none xs sm md lg xl xxl %"),
    ("paddingStart", "", "none xs sm md lg xl xxl %"),
    ("paddingEnd", "", "none xs sm md lg xl xxl %"),
    ("cornerRadius", "", "none xs sm md lg xl xxl px"),
    ("borderWidth", "", "none light normal medium semi-bold bold px"),
    ("width", "box", "%"),
    ("maxWidth", "", "%"),
    ("height", "box", "%"),
    ("maxHeight", "", "%"),
    ("lineSpacing", "", "px"),
];

/// `12px`, `-4.5px`, `50%`.
fn is_length(s: &str, percent: bool) -> bool {
    let n = s.strip_suffix("px").or_else(|| s.strip_suffix('%').filter(|_| percent)).unwrap_or("");
    is_decimal(n.strip_prefix('-').unwrap_or(n))
}

/// `12`, `4.5`.
fn is_decimal(n: &str) -> bool {
    let (int, frac) = n.split_once('.').unwrap_or((n, "0"));
    !int.is_empty() && !frac.is_empty() && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
}

/// A colour: `#RRGGBB`, or `#RRGGBBAA` with transparency. The reference asks for "a hexadecimal
/// color code" in every colour of flex and templates, `#RRGGBBAA` spelled out for box
/// backgrounds and gradients (https://developers.line.biz/en/reference/messaging-api/#box,
/// #linear-gradient-bg; LINE's SDK, `lib/types.ts`); the looser reading: either, everywhere.
fn is_colour(s: &str) -> bool {
    let hex = s.strip_prefix('#').unwrap_or("");
    matches!(hex.len(), 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A flex image's, video's or icon's aspect ratio: `{width}:{height}`, each from 1 to 100000, the
/// height at most three times the width (https://developers.line.biz/en/reference/messaging-api/#f-image,
/// #f-video, #icon; LINE's OpenAPI, `FlexImage.aspectRatio`). Decimals such as `1.91:1` pass.
fn is_ratio(s: &str) -> bool {
    let term = |n: &str| Some(n).filter(|n| is_decimal(n)).and_then(|n| n.parse::<f64>().ok()).filter(|n| (1.0..=100_000.0).contains(n));
    match s.split_once(':').map(|(w, h)| (term(w), term(h))) {
        Some((Some(w), Some(h))) => h <= 3.0 * w,
        _ => false,
    }
}

/// Whether the string under `key` is checked beyond URLs: a `type`, an enumerated value, a
/// colour, an aspect ratio ([`check_string`]), an imagemap's pixels ([`imagemap`]: `x`, `y`,
/// and `width` and `height`, which boxes enumerate), a count ([`is_count`]).
fn checked(key: &str) -> bool {
    key == "type" || key == "x" || key == "y" || is_count(key) || is_colour_key(key) || key == "aspectRatio" || VALUES.iter().any(|e| e.0 == key)
}

/// Whether `key` holds a whole number from 0: a flex component's `flex`, a flex text's
/// `maxLines` (both `int32` in LINE's OpenAPI, so at most 2,147,483,647), an audio message's
/// `duration` (`int64`). LINE's documentation describes only 0 and up: flex-message-layout's
/// "1 or more" and 0, `maxLines` 0 for every line, `duration` in milliseconds. LINE's emoji
/// `index` and an imagemap's pixels have checks of their own.
fn is_count(key: &str) -> bool {
    matches!(key, "flex" | "maxLines" | "duration")
}

/// Whether `key` holds a colour: `color`, `backgroundColor`, `separatorColor`, ….
fn is_colour_key(key: &str) -> bool {
    key == "color" || key.ends_with("Color")
}

/// Whether a template in `m` decides something [`check_message`] checks beyond URLs: an object's
/// `type` (or a box's `layout`), an enumerated value, a colour, an aspect ratio, a pixel count
/// of an imagemap, a `flex`, `maxLines` or `duration`. Such a message
/// is checked again once rendered; the others never need it (templates write strings, so the
/// structure, and every array's length, is fixed).
/// A textV2 message's templated text too (its placeholders are known once rendered).
/// A text message's LINE emoji when its text or an emoji's index is a template (the `$` they
/// stand at may move).
pub(crate) fn templated_shape(m: &Json) -> bool {
    let text = || m.get("text").and_then(Json::as_str).is_some_and(is_template);
    let index = |e: &Json| e.get("index").and_then(Json::as_str).is_some_and(is_template);
    let moves = match m.get("type").and_then(Json::as_str) {
        Some("textV2") => text(),
        Some("text") => m.get("emojis").and_then(Json::as_array).is_some_and(|es| text() || es.iter().any(index)),
        _ => false,
    };
    moves || templated(m)
}

fn templated(m: &Json) -> bool {
    match m {
        Json::Object(o) => o.iter().any(|(k, v)| match v {
            Json::String(s) => is_template(s) && checked(k),
            other => templated(other),
        }),
        Json::Array(items) => items.iter().any(templated),
        _ => false,
    }
}

/// A string that is a Liquid template: its value is known only once rendered.
pub(crate) fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%")
}

/// What LINE takes in a URL field: media it fetches must be HTTPS; a link it opens an absolute
/// http, https, line or tel URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Url {
    key: &'static str,
    https: bool,
}

/// The rule on the URL under `key` of a message object, if it is one.
pub(crate) fn url_rule(key: &str) -> Option<Url> {
    const HTTPS: &[&str] = &["originalContentUrl", "previewImageUrl", "baseUrl", "thumbnailImageUrl", "imageUrl", "iconUrl", "url", "previewUrl"];
    const LINK: &[&str] = &["uri", "linkUri", "desktop"];
    let https = HTTPS.iter().find(|k| **k == key).map(|k| Url { key: k, https: true });
    https.or_else(|| LINK.iter().find(|k| **k == key).map(|k| Url { key: k, https: false }))
}

/// What is wrong with `s` as the URL `rule` describes, if anything. `rendered`: it came from a
/// template. A template's literal start is checked before rendering when it already holds the
/// scheme (`http://…{{ id }}`).
pub(crate) fn url_problem(rule: Url, s: &str, rendered: bool) -> Option<String> {
    let when = if rendered { " after rendering" } else { "" };
    if s.is_empty() {
        let fix = if rendered { " (give the template a default)" } else { "" };
        let what = if rule.https { "an https:// URL" } else { "an absolute http, https, line or tel URI" };
        return Some([rule.key, " is empty", when, "; LINE needs ", what, fix].concat());
    }
    let shown = s.char_indices().nth(60).map_or(s, |(i, _)| s.get(..i).unwrap_or(s));
    let scheme = s.split_once(':').map(|(scheme, _)| scheme.to_ascii_lowercase());
    let ok = if rule.https {
        scheme.as_deref() == Some("https") && s.get(6..8) == Some("//")
    } else {
        match scheme.as_deref() {
            Some("http" | "https") => s.split_once(':').is_some_and(|(_, rest)| rest.starts_with("//")),
            Some("line" | "tel") => true,
            _ => false,
        }
    };
    if !ok {
        let why = if rule.https { "; LINE fetches media only from https:// URLs" } else { "; LINE opens only absolute http, https, line and tel URIs" };
        return Some([rule.key, " is \"", shown, "\"", when, why].concat());
    }
    blank(rule, s, when)
}

/// A space or a control character in an http(s) URL, which no URL holds: the usual way is a
/// display name written into a query (「佐藤 美咲」) without `url_encode`.
fn blank(rule: Url, s: &str, when: &str) -> Option<String> {
    if !s.get(..4).is_some_and(|h| h.eq_ignore_ascii_case("http")) {
        return None;
    }
    let (n, c) = s.chars().enumerate().find(|(_, c)| c.is_whitespace() || c.is_control())?;
    let what = match c {
        ' ' | '\u{3000}' => "a space",
        '\n' | '\r' => "a line break",
        _ => "a control character",
    };
    Some(format!("{} has {what} at character {}{when}; a URL holds none: encode what a template writes into it with | url_encode", rule.key, n + 1))
}

/// kizuna's two elements for the lists (and `$if` for the members) of a message, replaced when
/// it renders: `{"$for": "item in user.attributes.recommended limit: 10", "$each": {…}}` writes
/// its element once per item of a list in the data, `{"$if": <JsonLogic>, "$then": {…}}` once
/// when the condition holds (a member: the member, else nothing).
pub(crate) enum Element<'j> {
    For { header: &'j str, each: &'j Json },
    If { rule: &'j Json, then: &'j Json },
}

impl<'j> Element<'j> {
    /// The object it writes.
    pub(crate) fn inner(&self) -> &'j Json {
        match self {
            Element::For { each, .. } => each,
            Element::If { then, .. } => then,
        }
    }

    /// Where that object is, under the element.
    pub(crate) fn key(&self) -> &'static str {
        match self {
            Element::For { .. } => "$each",
            Element::If { .. } => "$then",
        }
    }
}

/// `v` as a `$for` or `$if` element (`None`: an ordinary value); `Err`: what is wrong with it.
pub(crate) fn element(v: &Json) -> Option<Result<Element<'_>, String>> {
    let o = v.as_object()?;
    let (word, inner) = if o.contains_key("$for") { ("$for", "$each") } else if o.contains_key("$if") { ("$if", "$then") } else { return None };
    let example = if word == "$for" { "{\"$for\": \"item in user.attributes.recommended limit: 10\", \"$each\": {…}}" } else { "{\"$if\": {\"var\": \"user.attributes.coupon\"}, \"$then\": {…}}" };
    if let Some(k) = o.keys().find(|k| *k != word && *k != inner) {
        return Some(Err(["unknown field \"", k, "\" in a \"", word, "\" element, which takes only \"", word, "\" and \"", inner, "\": ", example].concat()));
    }
    let (Some(x), Some(then)) = (o.get(word), o.get(inner)) else {
        return Some(Err(["a \"", word, "\" element needs \"", inner, "\", the object it writes: ", example].concat()));
    };
    Some(match (word, x) {
        ("$for", Json::String(header)) => Ok(Element::For { header, each: then }),
        ("$for", other) => Err(["\"$for\" must be a string like \"item in user.attributes.recommended limit: 10\", found ", kind(other)].concat()),
        _ => Ok(Element::If { rule: x, then }),
    })
}

/// What a `$for` element writes: `name in list.path [limit: N] [offset: N] [reversed]`, Liquid's
/// `for` over a path of the data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Loop {
    pub name: String,
    /// The list's path, split at its dots (`user.attributes.recommended`).
    pub list: Vec<String>,
    pub limit: Option<usize>,
    pub offset: usize,
    pub reversed: bool,
}

/// Parses a `$for` header; `Err`: what is wrong, for a marketer.
pub(crate) fn parse_loop(header: &str) -> Result<Loop, String> {
    let usage = "; write it as Liquid's for: \"item in user.attributes.recommended limit: 10\" (also offset: N, reversed)";
    let ident = |w: &str| w.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_') && w.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    // Words, with `limit:3`, `limit: 3` and `limit : 3` alike: a colon is a word of its own;
    // commas separate options, as spaces do.
    let spaced = header.replace(':', " : ").replace(',', " ");
    let mut words = spaced.split_whitespace().peekable();
    let (Some(name), Some("in"), Some(list)) = (words.next(), words.next(), words.next()) else {
        return Err(["\"", header, "\" is not a loop", usage].concat());
    };
    // The item joins the data beside its roots: a root's name would hide it.
    if !ident(name) || matches!(name, "forloop" | "user" | "now" | "event" | "segments" | "version") {
        return Err(["\"", name, "\" cannot name the item (it would hide the data's own \"", name, "\"; call it item, p, product, …)", usage].concat());
    }
    let steps: Vec<String> = list.split('.').map(str::to_string).collect();
    if !steps.iter().all(|s| ident(s) || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))) {
        return Err(["\"", list, "\" is not a path of the data (dotted names such as user.attributes.recommended; filters belong in templates)"].concat());
    }
    let mut lp = Loop { name: name.to_string(), list: steps, limit: None, offset: 0, reversed: false };
    let mut seen: Vec<&str> = Vec::new();
    while let Some(word) = words.next() {
        let colon = words.peek() == Some(&":");
        if seen.contains(&word) {
            return Err(["\"", word, "\" is given twice", usage].concat());
        }
        match (word, colon) {
            ("reversed", false) => lp.reversed = true,
            ("reversed", true) => return Err(["\"reversed\" takes no value", usage].concat()),
            ("limit" | "offset", true) => {
                words.next();
                let value = words.next().unwrap_or("");
                let n = value.parse::<usize>().map_err(|_| ["\"", word, "\" needs a whole number, found \"", value, "\"", usage].concat())?;
                match word {
                    "limit" if n == 0 => return Err(format!("\"limit: 0\" writes nothing{usage}")),
                    "limit" => lp.limit = Some(n),
                    _ => lp.offset = n,
                }
            }
            ("limit" | "offset", false) => return Err(["\"", word, "\" needs a colon and a whole number (\"", word, ": 10\")", usage].concat()),
            _ => return Err(["\"", word, "\" is not an option of a loop", usage].concat()),
        }
        seen.push(word);
    }
    Ok(lp)
}

/// What `x` writes, `at` following it: through `$if` elements (`$then`) and, in a list, `$for`
/// elements (`$each`), to any depth. `None`: a `$for` outside a list, or a malformed element
/// (the contents compiler reports those).
pub(crate) fn written_at<'j>(mut x: &'j Json, at: &mut String, in_list: bool) -> Option<&'j Json> {
    while let Some(e) = element(x) {
        match e {
            Ok(e) if in_list || matches!(e, Element::If { .. }) => {
                *at = join(at, e.key());
                x = e.inner();
            }
            _ => return None,
        }
    }
    Some(x)
}

/// The object a list element writes (a `$for`'s or `$if`'s, else the element itself).
fn written(v: &Json) -> &Json {
    written_at(v, &mut String::new(), true).unwrap_or(v)
}

/// The most elements a list can write (`None`: a `$for` without a limit).
fn count(items: &[Json]) -> Option<usize> {
    items.iter().try_fold(0usize, |n, x| {
        let most = match element(x) {
            Some(Ok(Element::For { header, each })) => match parse_loop(header) {
                Ok(lp) => lp.limit?.saturating_mul(count(std::slice::from_ref(each))?),
                Err(_) => 0, // its own error
            },
            Some(Ok(Element::If { then, .. })) => count(std::slice::from_ref(then))?,
            _ => 1,
        };
        Some(n.saturating_add(most))
    })
}

/// Reports every problem of the message object `m` at `path`: a code, the pointer and what is
/// wrong (without the content and variant, which the caller prefixes).
/// `rendered`: `m` is a message as rendered for a user (its strings are no templates, even
/// where they hold `{{`).
pub(crate) fn check_message(m: &Json, path: &str, rendered: bool, report: &mut dyn FnMut(Code, &str, String)) {
    check(m, path, F::Message, &[], false, true, report);
    if let Json::Object(o) = m {
        if o.get("type").and_then(Json::as_str) == Some("text") {
            emojis(o, path, rendered, report);
        }
    }
    // "You can specify a value of true up to 10 images in a single message. You can't send
    // messages that exceed this limit." (LINE's OpenAPI, `FlexImage.animated`; older pages say 3.)
    let animated = animated(m);
    if animated > 10 {
        report(Code::LimitExceeded, path, format!("a message plays at most 10 animated images (\"animated\": true), found {animated}"));
    }
}

/// How many images in `v` are `"animated": true`, at most (a `$for`'s element times its limit;
/// without one, once: the rendered message is counted again).
fn animated(v: &Json) -> usize {
    if let Some(Ok(Element::For { header, each })) = element(v) {
        let times = parse_loop(header).ok().and_then(|lp| lp.limit).unwrap_or(1);
        return animated(each).saturating_mul(times);
    }
    match v {
        Json::Object(o) => o.iter().map(|(k, x)| usize::from(k == "animated" && *x == Json::Bool(true)) + animated(x)).sum(),
        Json::Array(items) => items.iter().map(animated).sum(),
        _ => 0,
    }
}

/// `; did you mean "x"?` for a word close to one of `known`, else ` (one of a, b, c{more})`
/// (`; known fields: a, b, c` when `more` is `None`).
fn hint(word: &str, known: &[&str], more: Option<&str>) -> String {
    match (suggest(word, known.iter().copied()), more) {
        (Some(s), _) => ["; did you mean \"", s, "\"?"].concat(),
        (None, Some(more)) => [" (one of ", &known.join(", "), more, ")"].concat(),
        (None, None) => ["; known fields: ", &known.join(", ")].concat(),
    }
}

/// Reports every problem of a rich menu area's action object at `path`.
pub(crate) fn check_rich_menu_action(action: &Json, path: &str, report: &mut dyn FnMut(Code, &str, String)) {
    check(action, path, F::Action, IN_RICH_MENU, false, false, report);
}

/// `labelled`: an action that needs a `label` here ([`needs_label`]). `dynamic`: `$for` and
/// `$if` elements may stand for objects (in a message, not a rich menu).
fn check(v: &Json, path: &str, f: F, only: &[&str], labelled: bool, dynamic: bool, report: &mut dyn FnMut(Code, &str, String)) {
    let family_name = family_name(f);
    let Json::Object(o) = v else {
        report(Code::InvalidValue, path, [a(family_name), " ", family_name, " must be a JSON object, found ", kind(v)].concat());
        return;
    };
    let family: Vec<&(F, &str, &str, &str)> = OBJECTS.iter().filter(|e| e.0 == f).collect();
    let typed = family.iter().any(|e| !e.1.is_empty());
    let allowed = |t: &str| only.is_empty() || only.contains(&t);
    let entry = if typed {
        let types: Vec<&str> = family.iter().map(|e| e.1).filter(|t| allowed(t)).collect();
        let Some(t) = o.get("type").filter(|t| !t.is_null()) else {
            report(Code::MissingField, path, [a(family_name), " ", family_name, " needs a \"type\" (one of ", &types.join(", "), ")"].concat());
            return;
        };
        let t = t.as_str().unwrap_or("");
        // A templated type is known only once rendered: nothing about the object can be said.
        if is_template(t) {
            return;
        }
        match family.iter().find(|e| e.1 == t) {
            Some(e) if allowed(t) => *e,
            Some(e) => {
                report(Code::InvalidValue, &join(path, "type"), [a(e.2), " ", e.2, " cannot go here; this place takes one of ", &types.join(", ")].concat());
                return;
            }
            None if (f, t) == (F::Component, "spacer") => {
                // Discontinued in Flex Message update 2 (2020); LINE answers 400 "invalid property".
                report(Code::InvalidValue, &join(path, "type"), "LINE discontinued the flex spacer (it refuses it with HTTP 400): use a filler, or a margin on the next component".to_string());
                return;
            }
            None => {
                report(Code::InvalidValue, &join(path, "type"), ["\"", t, "\" is not ", a(family_name), " ", family_name, " type", &hint(t, &types, Some(""))].concat());
                return;
            }
        }
    } else {
        match family.first() {
            Some(e) => *e,
            None => return,
        }
    };
    let &(_, t, name, keys) = entry;
    match (f, t) {
        (F::Container, _) => video_hero(o, t, path, report),
        (F::Message, "imagemap") => imagemap(o, path, report),
        (F::Message, "textV2") => text_v2(o, path, report),
        (F::Template, "carousel") => same_columns(o, path, report),
        _ => {}
    }
    let specs: Vec<&str> = keys.split_whitespace().chain(common(f).split_whitespace()).collect();
    let mut names: Vec<&str> = specs.iter().map(|s| s.trim_end_matches(['!', '{', '[', '*', '#', '?'])).collect();
    for (s, k) in specs.iter().zip(&names) {
        if s.contains('!') && o.get(*k).is_none_or(Json::is_null) {
            report(Code::MissingField, path, [a(name), " ", name, " needs \"", k, "\""].concat());
        }
    }
    if labelled && o.get("label").is_none_or(Json::is_null) {
        report(Code::MissingField, path, [a(name), " ", name, " here needs \"label\": LINE shows it on the button"].concat());
    }
    if (f, t) == (F::Component, "text") && o.get("text").is_none() && o.get("contents").is_none() {
        report(Code::MissingField, path, [a(name), " ", name, " needs \"text\" (or \"contents\", a list of spans)"].concat());
    }
    if typed {
        names.push("type");
    }
    for (k, x) in o {
        let mut at = join(path, k);
        // An optional member is checked as the object it writes (the `$if`'s own problems are
        // the contents compiler's to report).
        let Some(x) = (if dynamic { written_at(x, &mut at, false) } else { Some(x) }) else { continue };
        let Some(i) = names.iter().position(|n| n == k) else {
            report(Code::UnknownField, &at, ["unknown field \"", k, "\" in ", a(name), " ", name, &hint(k, &names, None)].concat());
            continue;
        };
        let Some(spec) = specs.get(i) else { continue }; // `type`
        if x.is_null() {
            continue;
        }
        if matches!(x, Json::Number(_) | Json::String(_) | Json::Bool(_)) && is_count(k) {
            // `flex` and `maxLines` are int32 in LINE's OpenAPI, `duration` int64 (its bound as
            // the nearest double, 2^63: a number in JSON is compared as a double).
            let (most, rule) = if k == "duration" { (i64::MAX as f64, "a whole number from 0 to 9223372036854775807") } else { (2_147_483_647.0, "a whole number from 0 to 2147483647") };
            whole(x, &at, k, &[a(name), " ", name].concat(), (0.0, most), rule, report);
        }
        let want = match spec.as_bytes().last() {
            Some(b'{' | b'*') => "an object",
            Some(b'[') => "an array",
            Some(b'#') => "a number",
            Some(b'?') => "true or false, without quotes (to set it from the data: {\"$if\": …, \"$then\": true})",
            _ => "a string",
        };
        let fits = match (spec.as_bytes().last(), x) {
            (Some(b'['), Json::Array(_)) | (Some(b'{' | b'*'), Json::Object(_)) => true,
            (Some(b'[' | b'{' | b'*'), _) => false,
            // A boolean (LINE's OpenAPI: `type: boolean`) is refused as a string, "true" or a
            // template alike: a template writes a string.
            (Some(b'?'), x) => x.is_boolean(),
            // LINE reads a number for a string and the reverse; objects and lists it refuses.
            // `text` and `altText` were always held to strings.
            (_, Json::Object(_) | Json::Array(_)) => false,
            (_, Json::String(s)) => {
                check_string(t, k, s, &at, report);
                continue;
            }
            _ => !(f == F::Message && (k == "text" || k == "altText")),
        };
        if !fits {
            report(Code::InvalidValue, &at, ["\"", k, "\" of ", a(name), " ", name, " must be ", want, ", found ", kind(x)].concat());
            continue;
        }
        if let (Json::Array(v), Some(&(.., min, max, noun))) = (x, COUNTS.iter().find(|c| (c.0, c.1, c.2) == (f, t, k.as_str()))) {
            let most = if min == max { "exactly" } else { "at most" };
            match (v.iter().any(|x| dynamic && element(x).is_some()), count(v)) {
                // Data-driven: the most it can write is checked now, the count once rendered.
                (true, Some(n)) if n > max => report(Code::LimitExceeded, &at, format!("{} {name} takes {most} {max} {noun}, and this list can write {n} (each \"$for\" counts its limit)", a(name))),
                (true, None) => report(Code::LimitExceeded, &at, format!("{} {name} takes {most} {max} {noun}: give each \"$for\" in this list a limit (\"… limit: {max}\")", a(name))),
                (true, _) => {}
                (false, _) if v.len() < min && min < max => report(Code::LimitExceeded, &at, format!("{} {name} needs at least {min} {}, found {}", a(name), if min == 1 { noun.trim_end_matches('s') } else { noun }, v.len())),
                (false, _) if v.len() < min || v.len() > max => report(Code::LimitExceeded, &at, format!("{} {name} takes {most} {max} {noun}, found {}", a(name), v.len())),
                (false, _) => {}
            }
        }
        let labelled = needs_label(f, t, k);
        match (child(f, t, k, o), x) {
            (Some((cf, only)), Json::Array(items)) => {
                // A `$for` or `$if` element is checked as the element it writes.
                for (i, x) in items.iter().enumerate() {
                    let mut at = join(&at, i);
                    if let Some(x) = if dynamic { written_at(x, &mut at, true) } else { Some(x) } {
                        check(x, &at, cf, only, labelled, dynamic, report);
                    }
                }
            }
            (Some((cf, only)), Json::Object(m)) if spec.ends_with('*') => {
                for (key, item) in m {
                    let mut at = join(&at, key);
                    if let Some(item) = if dynamic { written_at(item, &mut at, false) } else { Some(item) } {
                        check(item, &at, cf, only, labelled, dynamic, report);
                    }
                }
            }
            (Some((cf, only)), Json::Object(_)) => check(x, &at, cf, only, labelled, dynamic, report),
            _ => {}
        }
    }
}

/// A video hero needs a bubble of size kilo, mega (the default) or giga, and no carousel
/// (LINE's "Create a Flex Message including a video").
fn video_hero(o: &Map<String, Json>, t: &str, path: &str, report: &mut dyn FnMut(Code, &str, String)) {
    let video = |hero: Option<&Json>| hero.and_then(|h| h.get("type")).and_then(Json::as_str) == Some("video");
    match t {
        "bubble" if video(o.get("hero")) => {
            if let Some(size) = o.get("size").and_then(Json::as_str).filter(|s| matches!(*s, "nano" | "micro" | "deca" | "hecto")) {
                report(Code::InvalidValue, &join(path, "size"), ["a bubble with a video hero must be kilo, mega or giga, not \"", size, "\""].concat());
            }
        }
        "carousel" => {
            for (i, b) in o.get("contents").and_then(Json::as_array).into_iter().flatten().enumerate() {
                if video(written(b).get("hero")) {
                    report(Code::InvalidValue, &join(&join(&join(path, "contents"), i), "hero"), "a video hero cannot go in a carousel; send the bubble on its own".to_string());
                }
            }
        }
        _ => {}
    }
}

/// An imagemap's base image is 1040 pixels wide ("Width of base image in pixels. Set to 1040.")
/// and a whole number of pixels high; its areas', and its video area's, positions and sizes
/// are whole numbers, x and y "0 or higher" (the reference, #imagemap-message and
/// #imagemap-area-object; LINE's OpenAPI, `ImagemapBaseSize` and `ImagemapArea`: integers).
/// Neither says an area must lie within the base image, nor that its size be at least 1: not
/// checked. A template is checked once rendered ([`templated_shape`]).
fn imagemap(o: &Map<String, Json>, path: &str, report: &mut dyn FnMut(Code, &str, String)) {
    let at = join(path, "baseSize");
    let size = o.get("baseSize");
    pixels(size, &at, "width", "an imagemap baseSize", (1040.0, 1040.0), "1040, the width of LINE's imagemap base image", report);
    pixels(size, &at, "height", "an imagemap baseSize", (1.0, f64::MAX), "a whole number of pixels from 1", report);
    let mut areas = Vec::new();
    for (i, a) in o.get("actions").and_then(Json::as_array).map_or(&[][..], Vec::as_slice).iter().enumerate() {
        areas.push((join(&join(path, "actions"), i), a));
    }
    if let Some(v) = o.get("video") {
        areas.push((join(path, "video"), v));
    }
    for (at, holder) in &areas {
        let (area, at) = (holder.get("area"), join(at, "area"));
        for key in ["x", "y"] {
            pixels(area, &at, key, "an imagemap area", (0.0, f64::MAX), "a whole number of pixels from 0", report);
        }
        for key in ["width", "height"] {
            pixels(area, &at, key, "an imagemap area", (f64::MIN, f64::MAX), "a whole number of pixels", report);
        }
    }
}

/// Reports the number under `key` of `object` (at `at`) unless it is a whole number within
/// `range`. Absent, null and templated values are not checked here; a string holding a number
/// is read as that number, as LINE does.
#[allow(clippy::too_many_arguments)]
fn pixels(object: Option<&Json>, at: &str, key: &str, name: &str, range: (f64, f64), rule: &str, report: &mut dyn FnMut(Code, &str, String)) {
    if let Some(v) = object.and_then(|o| o.get(key)) {
        whole(v, &join(at, key), key, name, range, rule, report);
    }
}

/// Reports `v`, the value of `key` at `at`, unless it is a whole number within `range` (as
/// [`pixels`]).
#[allow(clippy::too_many_arguments)]
fn whole(v: &Json, at: &str, key: &str, name: &str, range: (f64, f64), rule: &str, report: &mut dyn FnMut(Code, &str, String)) {
    let n = match v {
        Json::Null => return,
        Json::Number(n) => n.as_f64(),
        Json::String(s) if is_template(s) => return,
        Json::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    // int64's most has no double: its nearest, 2^63, is one past it, and so is every number
    // that rounds to it (`9223372036854775808`, a u64, or a number the config's text read as a
    // double). Only an integer that fits i64 is that bound.
    let fits_i64 = || matches!(v, Json::Number(x) if x.is_i64()) || matches!(v, Json::String(s) if s.trim().parse::<i64>().is_ok());
    if n.is_some_and(|n| n.fract() == 0.0 && n >= range.0 && n <= range.1 && (n < 9_223_372_036_854_775_808.0 || fits_i64())) {
        return;
    }
    let found = match v {
        // Whole numbers only, as integers (`1e12` too): formatting a float would bring float
        // printing into the Wasm. Past 10^18 (`1e20`, a u64 over i64's range), serde_json's own
        // printing, which the Wasm has anyway.
        Json::Number(n) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 => "a fraction".to_string(),
            Some(f) if f.abs() < 1e18 => (f as i64).to_string(),
            _ => n.to_string(),
        },
        Json::String(s) => ["\"", s, "\""].concat(),
        other => kind(other).to_string(),
    };
    report(Code::InvalidValue, at, ["\"", key, "\" of ", name, " must be ", rule, ", found ", &found].concat());
}

/// A textV2 message's text and substitution (the reference, #text-message-v2): "`{` and `}`
/// must be used in pairs", `{{` and `}}` writing a brace; "The substitution content of the
/// string enclosed in `{` and `}` must be specified using the `substitution` property"; its
/// keys hold "half-width alphanumeric characters (`0-9a-zA-Z`) and underscore (`_`)", at most
/// 20 of them; at most 100 substitutions. A templated text is checked once rendered.
fn text_v2(o: &Map<String, Json>, path: &str, report: &mut dyn FnMut(Code, &str, String)) {
    let substitution = o.get("substitution").and_then(Json::as_object);
    let at = join(path, "substitution");
    if let Some(s) = substitution {
        if s.len() > 100 {
            report(Code::LimitExceeded, &at, format!("a textV2 message takes at most 100 substitutions, found {}", s.len()));
        }
        for key in s.keys() {
            if key.len() > 20 || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                report(Code::InvalidValue, &join(&at, key), ["substitution key \"", key, "\" must be at most 20 of a-z, A-Z, 0-9 and _ (LINE's rule)"].concat());
            }
        }
    }
    // A substitution that is not an object was reported as such.
    let wrong = o.get("substitution").is_some_and(|s| !s.is_null() && substitution.is_none());
    let Some(text) = o.get("text").and_then(Json::as_str).filter(|t| !wrong && !is_template(t)) else { return };
    let keys = match placeholders(text) {
        Ok(keys) => keys,
        Err(i) => {
            let c = text.get(..i).map_or(0, |s| s.chars().count()) + 1;
            report(Code::InvalidValue, &join(path, "text"), format!("text has a lone brace at character {c}; LINE takes {{ and }} only in pairs around a substitution key, like {{name}}"));
            return;
        }
    };
    let at = if substitution.is_some() { at } else { path.to_string() };
    for (i, k) in keys.iter().enumerate() {
        let again = keys.get(..i).is_some_and(|before| before.contains(k));
        if !again && !substitution.is_some_and(|s| s.contains_key(*k)) {
            report(Code::MissingField, &at, ["text uses {", k, "} but substitution has no \"", k, "\"; LINE needs a mention or emoji for every {key}"].concat());
        }
    }
}

/// A text message's LINE emoji each stand at a `$` of the text: `index` counts UTF-16 units
/// from 0 (the reference, #text-message; any other position is refused with HTTP 400). A
/// templated text or index is checked once rendered (`rendered`).
fn emojis(o: &Map<String, Json>, path: &str, rendered: bool, report: &mut dyn FnMut(Code, &str, String)) {
    let (Some(text), Some(Json::Array(emojis))) = (o.get("text").and_then(Json::as_str), o.get("emojis")) else { return };
    if !rendered && is_template(text) {
        return;
    }
    let units: Vec<u16> = text.encode_utf16().collect();
    for (i, e) in emojis.iter().enumerate() {
        let at = || join(&join(&join(path, "emojis"), i), "index");
        // LINE reads a number written as a string too (as the shapes allow everywhere).
        let index = match e.get("index") {
            Some(Json::Number(n)) => n.as_u64().ok_or_else(|| n.to_string()),
            Some(Json::String(s)) if !rendered && is_template(s) => continue,
            Some(Json::String(s)) => s.trim().parse::<u64>().map_err(|_| format!("\"{s}\"")),
            _ => continue, // missing or not a number: the shape's problem
        };
        match index {
            Err(shown) => report(Code::InvalidValue, &at(), format!("index {shown} is not a position in the text: a whole number from 0")),
            Ok(index) if usize::try_from(index).ok().and_then(|k| units.get(k)) != Some(&u16::from(b'$')) => report(
                Code::InvalidValue,
                &at(),
                format!("index {index} is not a $ in the text; LINE puts each emoji at a $ of the text, counting UTF-16 units from 0 (a templated text moves the $: a textV2 message with an emoji substitution keeps its place)"),
            ),
            Ok(_) => {}
        }
    }
}

/// The keys of a textV2 text's `{key}` placeholders, or the byte offset of a brace without its
/// pair (`{{` and `}}` are braces written as text).
fn placeholders(text: &str) -> Result<Vec<&str>, usize> {
    let b = text.as_bytes();
    let (mut keys, mut i) = (Vec::new(), 0);
    while let Some(&c) = b.get(i) {
        let next = b.get(i + 1).copied();
        match c {
            b'{' | b'}' if next == Some(c) => i += 2,
            b'}' => return Err(i),
            b'{' => {
                let rest = text.get(i + 1..).unwrap_or("");
                match rest.bytes().position(|b| b == b'{' || b == b'}').filter(|j| rest.as_bytes().get(*j) == Some(&b'}')) {
                    Some(j) => {
                        keys.push(rest.get(..j).unwrap_or(""));
                        i += j + 2;
                    }
                    None => return Err(i),
                }
            }
            _ => i += 1,
        }
    }
    Ok(keys)
}

/// "Keep the number of actions consistent for all columns. If you use an image or title for a
/// column, make sure to do the same for all other columns." (the reference, #column-object-for-carousel;
/// LINE answers 400 otherwise.) Each column is held to the first.
fn same_columns(o: &Map<String, Json>, path: &str, report: &mut dyn FnMut(Code, &str, String)) {
    let columns: Vec<&Json> = o.get("columns").and_then(Json::as_array).into_iter().flatten().map(written).collect();
    let Some((first, rest)) = columns.split_first() else { return };
    let actions = |c: &Json| c.get("actions").and_then(Json::as_array).map(Vec::len);
    let has = |c: &Json, k: &str| c.get(k).is_some_and(|v| !v.is_null());
    for (i, c) in rest.iter().enumerate() {
        let at = join(&join(path, "columns"), i + 1);
        if let (Some(a), Some(n)) = (actions(first), actions(c)) {
            if a != n {
                report(Code::InvalidValue, &join(&at, "actions"), format!("column {} has {n} actions and column 0 has {a}; LINE needs the same number of actions in every column", i + 1));
            }
        }
        for k in ["thumbnailImageUrl", "title"] {
            if has(first, k) != has(c, k) {
                let (yes, no) = if has(c, k) { (i + 1, 0) } else { (0, i + 1) };
                report(Code::InvalidValue, &at, format!("column {yes} has a {k} and column {no} has none; LINE needs it in every column or in none"));
            }
        }
    }
}

/// Checks a string written in the config: an enumerated value, a colour, an aspect ratio, a URL.
/// A template is checked once rendered (URLs as they are written, the others when the message
/// is checked again, see [`templated_shape`]), a URL before too when its literal start already
/// holds its scheme or can hold none.
fn check_string(t: &str, key: &str, s: &str, at: &str, report: &mut dyn FnMut(Code, &str, String)) {
    if let Some(rule) = url_rule(key) {
        let literal = s.find("{{").into_iter().chain(s.find("{%")).min().map_or(s, |i| s.get(..i).unwrap_or(""));
        // A start that no scheme can follow (`/items/{{ sku }}`) is relative whatever renders.
        let relative = (!literal.is_empty() && !literal.starts_with(|c: char| c.is_ascii_alphabetic()))
            || literal.find(['/', '?', '#']).is_some_and(|i| !literal.get(..i).is_some_and(|h| h.contains(':')));
        if literal.len() == s.len() || literal.contains(':') || relative {
            if let Some(problem) = url_problem(rule, literal, false) {
                report(Code::InvalidValue, at, problem);
            }
        }
        return;
    }
    if is_template(s) {
        return;
    }
    if key == "aspectRatio" {
        if !is_ratio(s) {
            report(Code::InvalidValue, at, ["aspectRatio must be width:height like \"20:13\", each from 1 to 100000 and the height at most 3 times the width (got \"", s, "\")"].concat());
        }
        return;
    }
    if is_colour_key(key) {
        if !is_colour(s) {
            report(Code::InvalidValue, at, [key, " must be a hex colour like #1DB446 (or #1DB44680 with transparency), got \"", s, "\""].concat());
        }
        return;
    }
    let Some(&(_, _, values)) = VALUES.iter().find(|v| v.0 == key && (v.1 == t || v.1.is_empty())) else { return };
    let percent = values.ends_with('%');
    let lengths = percent || values.ends_with("px");
    if values.split_whitespace().any(|v| v == s) || (lengths && is_length(s, percent)) {
        return;
    }
    let words: Vec<&str> = values.split_whitespace().filter(|v| *v != "px" && *v != "%").collect();
    let more = match (lengths, percent) {
        (true, true) => ", or a length such as \"10px\" or \"50%\"",
        (true, false) => ", or a length in pixels such as \"10px\"",
        _ => "",
    };
    report(Code::InvalidValue, at, ["\"", s, "\" is not a value of \"", key, "\"", &hint(s, &words, Some(more))].concat());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_urls() {
        for s in ["10px", "-4.5px", "50%", "0px"] {
            assert!(is_length(s, true), "{s}");
        }
        for s in ["px", "10", "1.px", "huge", "10 px", "%"] {
            assert!(!is_length(s, true), "{s}");
        }
        assert!(is_length("10px", false) && !is_length("50%", false));
        let https = url_rule("previewImageUrl").unwrap();
        assert!(url_problem(https, "https://example.com/a.png", false).is_none());
        assert!(url_problem(https, "HTTPS://example.com/a.png", false).is_none());
        assert!(url_problem(https, "http://example.com/a.png", false).is_some());
        assert!(url_problem(https, "https:/x", false).is_some());
        let link = url_rule("uri").unwrap();
        for ok in ["https://example.com", "http://example.com", "line://ti/p/@abc", "tel:0312345678", "LINE://nv/camera/"] {
            assert!(url_problem(link, ok, false).is_none(), "{ok}");
        }
        for bad in ["javascript:alert(1)", "/path", "example.com", "", "mailto:a@b.c", "http:/x"] {
            assert!(url_problem(link, bad, false).is_some(), "{bad}");
        }
        assert_eq!(url_rule("text"), None);
    }

    /// Every family's child slots name types that exist in the table.
    #[test]
    fn allowed_type_lists_name_real_types() {
        for list in [IN_MESSAGES, IN_QUICK_REPLY, IN_RICH_MENU, IN_BOX, IN_BASELINE] {
            for t in list {
                assert!(OBJECTS.iter().any(|e| e.1 == *t), "{t}");
            }
        }
    }

    /// Every counted array is an array of the object the table names.
    #[test]
    fn counted_arrays_exist() {
        for &(f, t, key, min, max, _) in COUNTS {
            let keys = OBJECTS.iter().find(|e| (e.0, e.1) == (f, t)).map(|e| e.3).unwrap_or("");
            assert!(keys.split_whitespace().any(|k| k.ends_with('[') && k.trim_end_matches(['!', '[']) == key), "{f:?} {t} {key}");
            assert!(min <= max && max > 0, "{key}");
        }
    }
}
