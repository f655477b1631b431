//! What LINE's Messaging API accepts in the strings of a message: which strings are limited,
//! to how many characters, and how LINE counts them. Going over is refused by LINE at send
//! time, after the reply token is spent; kizuna refuses it first, at compile time for literal
//! strings and at render time for templates. And the shape of LINE's ids, which LINE writes in
//! lowercase hex.

use serde_json::Value as Json;

/// `prefix` then 32 lowercase hex digits: a user id is `U…`, a rich menu id `richmenu-…`.
fn is_line_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|h| h.len() == 32 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// A user id as LINE's webhooks give it (`source.userId`).
pub(crate) fn is_user_id(id: &str) -> bool {
    is_line_id(id, "U")
}

/// A rich menu id as LINE's create call returns it.
pub(crate) fn is_rich_menu_id(id: &str) -> bool {
    is_line_id(id, "richmenu-")
}

/// How LINE counts a string's characters: in UTF-16 code units, except action labels and texts,
/// template titles and texts and rich menus' `chatBarText` and `name`, in grapheme clusters
/// (https://developers.line.biz/en/docs/messaging-api/text-character-count/).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Count {
    Utf16,
    Graphemes,
}

/// A limited string: its key (for messages), its most characters and how they are counted.
/// `empty_ok`: an empty one is not refused for its length (a postback's data may be empty; a URL
/// is refused by its own rule, which says why).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limit {
    pub key: &'static str,
    pub max: usize,
    pub count: Count,
    pub empty_ok: bool,
}

/// The `max` of a string LINE only needs not to be empty.
const NO_MOST: usize = usize::MAX;

const fn utf16(key: &'static str, max: usize) -> Option<Limit> {
    Some(Limit { key, max, count: Count::Utf16, empty_ok: false })
}

const fn graphemes(key: &'static str, max: usize) -> Option<Limit> {
    Some(Limit { key, max, count: Count::Graphemes, empty_ok: false })
}

/// A URL (UTF-16 units), or a postback's data: empty is not a length problem.
const fn may_be_empty(key: &'static str, max: usize) -> Option<Limit> {
    Some(Limit { key, max, count: Count::Utf16, empty_ok: true })
}

/// A template message's kind (`template.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Buttons,
    Confirm,
    Carousel,
    ImageCarousel,
    Unknown,
}

/// Where an object sits in a message, which decides what its strings are limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The message object, by its `type`.
    Message(Option<Type>),
    /// A template message's `template`; `pictured`: it has an image or a title (the text is
    /// then shorter).
    Template { kind: Kind, pictured: bool },
    /// A column of a carousel or image carousel template.
    Column { kind: Kind, pictured: bool },
    /// An action object, and the most characters of its label there.
    Action { label: usize },
    /// An action's `altUri`.
    AltUri,
    /// An imagemap message's action (its own object, not an action object).
    ImagemapAction,
    /// An imagemap message's `video`, and its `externalLink`.
    ImagemapVideo,
    ExternalLink,
    Sender,
    QuickReply,
    QuickReplyItem,
    /// Anything inside a flex message's `contents`.
    Flex,
    /// A rich menu object (a menu's `definition` in the config), and one of its areas.
    RichMenu,
    RichMenuArea,
    Other,
}

/// Message types whose strings have limits of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    Text,
    Template,
    Imagemap,
    Flex,
    Other,
}

impl Role {
    /// The role of a message object.
    pub fn message(m: &Json) -> Role {
        Role::Message(m.get("type").and_then(Json::as_str).map(|t| match t {
            "text" | "textV2" => Type::Text,
            "template" => Type::Template,
            "imagemap" => Type::Imagemap,
            "flex" => Type::Flex,
            _ => Type::Other,
        }))
    }

    /// The role of `child`, found under `key` of an object of this role (an array's items take
    /// the array's key).
    pub fn child(self, key: &str, child: &Json) -> Role {
        let pictured = || child.get("thumbnailImageUrl").is_some() || child.get("title").is_some();
        match (self, key) {
            (Role::Message(Some(Type::Template)), "template") => {
                let kind = match child.get("type").and_then(Json::as_str) {
                    Some("buttons") => Kind::Buttons,
                    Some("confirm") => Kind::Confirm,
                    Some("carousel") => Kind::Carousel,
                    Some("image_carousel") => Kind::ImageCarousel,
                    _ => Kind::Unknown,
                };
                Role::Template { kind, pictured: pictured() }
            }
            (Role::Message(Some(Type::Imagemap)), "actions") => Role::ImagemapAction,
            (Role::Message(Some(Type::Imagemap)), "video") => Role::ImagemapVideo,
            (Role::ImagemapVideo, "externalLink") => Role::ExternalLink,
            (Role::Message(Some(Type::Flex)), "contents") => Role::Flex,
            (Role::Message(_), "quickReply") => Role::QuickReply,
            (Role::Message(_), "sender") => Role::Sender,
            (Role::QuickReply, "items") => Role::QuickReplyItem,
            (Role::QuickReplyItem, "action") => Role::Action { label: 20 },
            (Role::Template { kind, .. }, "columns") => Role::Column { kind, pictured: pictured() },
            (Role::Template { .. } | Role::Column { kind: Kind::Carousel, .. }, "actions" | "defaultAction") => Role::Action { label: 20 },
            (Role::Column { kind: Kind::ImageCarousel, .. }, "action") => Role::Action { label: 12 },
            (Role::Flex, "action") => Role::Action { label: 40 },
            (Role::Flex, _) => Role::Flex,
            (Role::Action { .. }, "altUri") => Role::AltUri,
            (Role::RichMenu, "areas") => Role::RichMenuArea,
            (Role::RichMenuArea, "action") => Role::Action { label: 20 },
            _ => Role::Other,
        }
    }

    /// The limit on the string under `key` of an object of this role, if LINE has one.
    pub fn limit(self, key: &str) -> Option<Limit> {
        match (self, key) {
            (Role::Message(Some(Type::Text)), "text") => utf16("text", 5_000),
            // A template message's alternative text is shorter than a flex or imagemap one.
            (Role::Message(Some(Type::Template)), "altText") => utf16("altText", 400),
            (Role::Message(_), "altText") => utf16("altText", 1_500),
            // "Image base URL (Max character limit: 2000)" (the reference, #imagemap-message).
            (Role::Message(Some(Type::Imagemap)), "baseUrl") => may_be_empty("baseUrl", 2_000),
            (Role::Template { kind: Kind::Buttons, .. } | Role::Column { kind: Kind::Carousel, .. }, "title") => graphemes("title", 40),
            (Role::Template { kind: Kind::Buttons, pictured }, "text") => graphemes("text", if pictured { 60 } else { 160 }),
            (Role::Template { kind: Kind::Confirm, .. }, "text") => graphemes("text", 240),
            (Role::Column { kind: Kind::Carousel, pictured }, "text") => graphemes("text", if pictured { 60 } else { 120 }),
            (Role::Action { label }, "label") => graphemes("label", label),
            (Role::Action { .. }, "data") => may_be_empty("data", 300),
            (Role::Action { .. }, "displayText") => graphemes("displayText", 300),
            (Role::Action { .. }, "text") => graphemes("text", 300),
            (Role::Action { .. }, "fillInText") => graphemes("fillInText", 300),
            // 10,000 since LINE's news of 2026-10-27 (https://developers.line.biz/en/news/2026/10/27/uri-action/:
            // "URI action URLs up to 10,000 characters", `altUri.desktop` from 1,000 to 10,000;
            // line/line-openapi#133; LINE's SDK releases of that day, e.g. line-bot-sdk-python
            // v3.27.0: "Add maxLength: 10000 to URIAction.uri. Increase AltUri.desktop.maxLength
            // from 1,000 to 10,000."). The reference said 1,000 before; imagemap and external
            // links (`linkUri`) keep 1,000.
            (Role::Action { .. }, "uri") => may_be_empty("uri", 10_000),
            (Role::Action { .. } | Role::ImagemapAction, "clipboardText") => utf16("clipboardText", 1_000),
            (Role::AltUri, "desktop") => may_be_empty("desktop", 10_000),
            (Role::ImagemapAction, "linkUri") => may_be_empty("linkUri", 1_000),
            (Role::ImagemapAction, "text") => utf16("text", 400),
            (Role::ImagemapAction, "label") => utf16("label", 50),
            (Role::ExternalLink, "linkUri") => may_be_empty("linkUri", 1_000),
            (Role::ExternalLink, "label") => utf16("label", 30),
            (Role::Sender, "name") => utf16("name", 20),
            // 2,000 in LINE's OpenAPI description (`Sender.iconUrl`), 1,000 on older pages: the
            // looser reading.
            (Role::Sender, "iconUrl") => may_be_empty("iconUrl", 2_000),
            // No documented most, but LINE refuses an empty one ("must be non-empty text"): the
            // usual failure of `{{ item.name }}` in a `$for` carousel with an item without one.
            (Role::Flex, "text") => utf16("text", NO_MOST),
            // A location's.
            (Role::Message(Some(Type::Other)), "title") => utf16("title", 100),
            (Role::Message(Some(Type::Other)), "address") => utf16("address", 100),
            (Role::Message(Some(Type::Other)), "trackingId") => utf16("trackingId", 100),
            // A coupon's (LINE's OpenAPI description, `CouponMessage.deliveryTag`: maxLength 30).
            (Role::Message(Some(Type::Other)), "deliveryTag") => may_be_empty("deliveryTag", 30),
            // Media URLs: "Max character limit: 2000" (images, videos, audio, thumbnails, icons).
            (Role::Message(_), "originalContentUrl") => may_be_empty("originalContentUrl", 2_000),
            (Role::Message(_), "previewImageUrl") => may_be_empty("previewImageUrl", 2_000),
            (Role::Template { .. } | Role::Column { .. }, "thumbnailImageUrl") => may_be_empty("thumbnailImageUrl", 2_000),
            (Role::Column { kind: Kind::ImageCarousel, .. } | Role::QuickReplyItem, "imageUrl") => may_be_empty("imageUrl", 2_000),
            (Role::Flex, "url") => may_be_empty("url", 2_000),
            (Role::Flex, "previewUrl") => may_be_empty("previewUrl", 2_000),
            (Role::RichMenu, "chatBarText") => graphemes("chatBarText", 14),
            (Role::RichMenu, "name") => graphemes("name", 300),
            _ => None,
        }
    }
}

/// Checks every limited string of `fields`, an object of role `role` at `path`, written in the
/// config (no templates): `report` gets the path and the problem of each.
pub(crate) fn check_object(fields: &serde_json::Map<String, Json>, path: &str, role: Role, report: &mut dyn FnMut(&str, String)) {
    for (k, v) in fields {
        check_value(v, &crate::contract::read::join(path, k), role, k, report);
    }
}

fn check_value(v: &Json, path: &str, parent: Role, key: &str, report: &mut dyn FnMut(&str, String)) {
    match v {
        Json::String(s) => {
            if let Some(problem) = parent.limit(key).and_then(|limit| length_problem(limit, s, false)) {
                report(path, problem);
            }
        }
        Json::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                check_value(x, &crate::contract::read::join(path, i), parent, key, report);
            }
        }
        Json::Object(fields) => check_object(fields, path, parent.child(key, v), report),
        _ => {}
    }
}

/// What is wrong with a limited string, if anything: LINE refuses an empty one and one over
/// the limit. `rendered`: the string came from a template (else it is written in the config).
pub(crate) fn length_problem(limit: Limit, s: &str, rendered: bool) -> Option<String> {
    let Limit { key, max, count, empty_ok } = limit;
    let when = if rendered { " after rendering" } else { "" };
    // A postback's data may be empty (LINE's OpenAPI description: 0 to 300 characters).
    if s.is_empty() && !empty_ok {
        let fix = if rendered { " (give the template a default)" } else { "" };
        let needs = if max == NO_MOST { "some text".to_string() } else { format!("1 to {max} characters") };
        return Some(format!("{key} is empty{when}; LINE needs {needs}{fix}"));
    }
    // Neither count is ever more than the UTF-8 bytes: most strings need no count.
    if s.len() <= max {
        return None;
    }
    let n = match count {
        Count::Utf16 => utf16_len(s),
        Count::Graphemes => grapheme_len(s),
    };
    // Say how LINE counts, or 2,501 emoji "having 5,002 characters" reads as a miscount.
    let unit = match count {
        Count::Utf16 => "characters as LINE counts them (UTF-16 units: most emoji count 2)",
        Count::Graphemes => "characters (emoji and their modifiers count as one)",
    };
    (n > max).then(|| format!("{key} has {n} {unit}{when}; LINE allows {max}"))
}

/// LINE counts most strings in UTF-16 code units (an emoji outside the BMP counts as 2).
fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

/// Grapheme clusters, counted without Unicode's segmentation tables and never fewer than UAX #29
/// finds (in any Unicode version since 11), so a string accepted here is never refused for its
/// length by LINE. A character joins the cluster before it only when it always extends one:
/// an assigned combining mark of the scripts LINE's markets write (Latin, Japanese voiced-sound
/// marks, Thai, Lao, Devanagari), a variation selector, an emoji skin tone or tag, a zero-width
/// joiner, the emoji a joiner binds to an emoji before it (👨‍👩‍👧), the second letter of a
/// flag. Clusters the tables join otherwise (Hangul jamo, spacing marks, emoji outside the
/// ranges below) count as more.
pub(crate) fn grapheme_len(s: &str) -> usize {
    let mut n = 0;
    // The cluster so far: its last character other than an extender is an emoji (GB11's
    // `ExtPict Extend*`); it ends in a joiner right after such a run; it is one flag letter.
    let (mut emoji_run, mut after_joiner, mut open_flag) = (false, false, false);
    // The character before was a control (CR, LF, …), or CR.
    let (mut after_control, mut after_cr) = (false, false);
    for c in s.chars() {
        let u = u32::from(c);
        let control = is_control(u);
        let flag = (0x1F1E6..=0x1F1FF).contains(&u);
        let joins = if n == 0 {
            false // GB1
        } else if after_control {
            after_cr && u == 0x0A // GB3, GB4
        } else if control {
            false // GB5
        } else if is_extend(u) || u == 0x200D || (after_joiner && is_emoji(u)) || is_spacing_mark(u) {
            true // GB9, GB11, GB9a
        } else {
            flag && open_flag // GB12, GB13
        };
        if joins {
            if u == 0x200D {
                after_joiner = emoji_run;
                emoji_run = false;
            } else if is_extend(u) {
                after_joiner = false;
            } else if is_emoji(u) {
                emoji_run = true;
                after_joiner = false;
            } else {
                emoji_run = false; // a spacing mark ends GB11's `ExtPict Extend*`
                after_joiner = false;
            }
            open_flag = false;
        } else {
            n += 1;
            emoji_run = is_emoji(u);
            after_joiner = false;
            open_flag = flag;
        }
        after_control = control;
        after_cr = u == 0x0D;
    }
    n
}

/// Grapheme_Cluster_Break=Control, CR or LF (Unicode 17).
fn is_control(u: u32) -> bool {
    matches!(u,
        0x00..=0x1F | 0x7F..=0x9F | 0xAD | 0x061C | 0x180E | 0x200B | 0x200E..=0x200F | 0x2028..=0x202E
        | 0x2060..=0x206F | 0xFEFF | 0xFFF0..=0xFFFB | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0000..=0xE001F | 0xE0080..=0xE00FF | 0xE01F0..=0xE0FFF)
}

/// Grapheme_Cluster_Break=Extend in every Unicode version since 11, assigned code points only.
fn is_extend(u: u32) -> bool {
    matches!(u,
        0x0300..=0x036F            // combining diacritical marks
        | 0x0E31 | 0x0E34..=0x0E3A | 0x0E47..=0x0E4E   // Thai
        | 0x0EB1 | 0x0EB4..=0x0EB9 | 0x0EBB..=0x0EBC | 0x0EC8..=0x0ECD   // Lao
        | 0x0900..=0x0902 | 0x093A | 0x093C | 0x0941..=0x0948 | 0x094D | 0x0951..=0x0957 | 0x0962..=0x0963   // Devanagari
        | 0x1AB0..=0x1ABE | 0x1DC0..=0x1DF9 | 0x1DFB..=0x1DFF | 0x20D0..=0x20F0 | 0xFE20..=0xFE2F
        | 0x3099..=0x309A          // Japanese voiced-sound marks
        | 0xFE00..=0xFE0F | 0xE0100..=0xE01EF   // variation selectors
        | 0x1F3FB..=0x1F3FF        // emoji skin tones
        | 0xE0020..=0xE007F)       // tags (subdivision flags)
}

/// Grapheme_Cluster_Break=SpacingMark in every Unicode version since 11, of the scripts above:
/// Thai SARA AM and Lao AM (ทำ is one character to LINE). Vowels that are SpacingMark in one
/// version and not in another (Thai SARA AA) count as characters.
fn is_spacing_mark(u: u32) -> bool {
    matches!(u, 0x0E33 | 0x0EB3)
}

/// Emoji that are Extended_Pictographic in every Unicode version since 11 (the pictographs,
/// emoticons, transport and supplemental symbols that emoji sequences use; the other symbols
/// of those blocks left the property in Unicode 17): a joiner binds two of them.
fn is_emoji(u: u32) -> bool {
    matches!(u,
        0x1F300..=0x1F321 | 0x1F324..=0x1F393 | 0x1F3A0..=0x1F3F0 | 0x1F400..=0x1F4FD | 0x1F4FF..=0x1F53D
        | 0x1F550..=0x1F567 | 0x1F5FA..=0x1F64F | 0x1F680..=0x1F6C5 | 0x1F6CB..=0x1F6D2
        | 0x1F90C..=0x1F93A | 0x1F93C..=0x1F945 | 0x1F947..=0x1F9FF | 0x1FA70..=0x1FAFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphemes_count_like_line() {
        for (s, n) in [
            ("abc", 3),
            ("ありがとう", 5),
            ("が", 1),             // precomposed
            ("か\u{3099}", 1),      // か + combining voiced mark
            ("👋🏻", 1),            // skin tone
            ("👨\u{200D}👩\u{200D}👧", 1),
            ("👩🏽\u{200D}💻", 1),  // skin tone, then a joiner
            ("🇯🇵🇺🇸", 2),          // two flags
            ("🇯", 1),              // a lone flag letter
            ("❤\u{FE0F}", 1),
            ("a\u{200D}b", 2),      // a joiner between letters joins nothing
            ("e\u{301}", 1),
            ("สั่งซื้อที่นี่เลยครับ", 12), // Thai marks
            ("สำหรับคุณ", 6),      // SARA AM joins the consonant before it
            ("ทำ", 1),
            ("😀\u{0E33}\u{200D}😀", 2), // … and ends an emoji run
            // Found by review: never fewer than Unicode's count.
            ("\u{301}", 1),         // a leading mark still starts a cluster
            ("\u{200D}😀", 2),
            ("a\u{200D}😀", 2),     // a joiner binds an emoji only to an emoji
            ("😀\u{200D}🇯🇵", 2),
        ] {
            assert_eq!(grapheme_len(s), n, "{s:?}");
        }
    }

    /// Random strings of the characters that make clusters hard, against a UAX #29 segmenter:
    /// the count is never below Unicode's.
    #[test]
    fn graphemes_never_fewer_than_uax29() {
        use unicode_segmentation::UnicodeSegmentation;
        let alphabet: Vec<char> = "aあ가ก\u{1100}\u{1161}\u{11A8}\u{0E31}\u{0E33}\u{0EB3}\u{0E48}\u{0915}\u{094D}\u{093F}\u{301}\u{3099}\u{200D}\u{FE0F}\u{E0067}\u{E007F}\r\n🏻👋😀👩💻🔥❤★✓🇯🇵🔾🄰\u{1F1E6}"
            .chars()
            .collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 8) as usize + 1;
            let s: String = (0..len).map(|k| alphabet[((seed >> (8 + 6 * k)) % alphabet.len() as u64) as usize]).collect();
            assert!(grapheme_len(&s) >= s.graphemes(true).count(), "{s:?}: {} < {}", grapheme_len(&s), s.graphemes(true).count());
        }
    }

    #[test]
    fn limits_follow_the_place_of_a_string() {
        let buttons = serde_json::json!({"type": "buttons", "title": "t", "text": "x", "actions": []});
        let msg = serde_json::json!({"type": "template", "altText": "a", "template": buttons});
        let m = Role::message(&msg);
        let t = m.child("template", &buttons);
        assert_eq!(t.limit("text").map(|l| l.max), Some(60));
        assert_eq!(t.child("actions", &serde_json::json!({})).limit("label").map(|l| l.max), Some(20));
        assert_eq!(m.limit("altText").map(|l| l.max), Some(400));
        let flex = serde_json::json!({"type": "flex"});
        let f = Role::message(&flex).child("contents", &serde_json::json!({}));
        assert_eq!(f.child("body", &serde_json::json!({})).child("action", &serde_json::json!({})).limit("label").map(|l| l.max), Some(40));
        // A flex text has no documented most, but may not be empty.
        assert_eq!(f.limit("text").map(|l| (l.max, l.empty_ok)), Some((NO_MOST, false)));
        let imagemap = serde_json::json!({"type": "imagemap"});
        let link = Role::message(&imagemap).child("video", &serde_json::json!({})).child("externalLink", &serde_json::json!({}));
        assert_eq!(link.limit("label").map(|l| l.max), Some(30));
    }
}
