//! The shape of LINE message objects in contents: valid messages of every type (the examples
//! of LINE's Messaging API reference) compile; each kind of mistake LINE would refuse with
//! HTTP 400 at send time is a compile error (or, for a template, a render error) with its code,
//! its JSON pointer and a message naming the fix.

#![recursion_limit = "512"]

use kizuna::{Code, DecideOptions, Engine};
use serde_json::{json, Value};

const M: &str = "/contents/0/variants/0/messages/0";

fn config(messages: Value) -> Value {
    json!({"version": 1, "contents": [{"id": "c", "variants": [{"id": "v", "messages": messages}]}]})
}

/// Content "c" rendered for a user with these attributes.
fn render_for(e: &Engine, attributes: Value) -> kizuna::Decision {
    let ctx = json!({"now": "2026-11-27T10:30:00+09:00", "user": {"userId": "U1", "attributes": attributes}});
    e.render("c", &ctx.to_string(), DecideOptions::default()).unwrap()
}

/// The problems of one message: (code, path, message).
fn problems(message: Value) -> Vec<(Code, String, String)> {
    match Engine::from_json(&config(json!([message]))) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.into_iter().map(|e| (e.code, e.path, e.message)).collect(),
    }
}

/// Exactly one problem, of this code at this path (relative to the message); its message.
fn one(message: Value, code: Code, path: &str) -> String {
    let p = problems(message);
    assert_eq!(p.iter().map(|(c, at, _)| (*c, at.as_str())).collect::<Vec<_>>(), [(code, format!("{M}{path}").as_str())], "{p:#?}");
    let text = p.into_iter().next().map(|(_, _, m)| m).unwrap_or_default();
    assert!(text.starts_with("content \"c\", variant \"v\": "), "{text}");
    text
}

fn flex(bubble: Value) -> Value {
    json!({"type": "flex", "altText": "alt", "contents": bubble})
}

fn body(contents: Value) -> Value {
    flex(json!({"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": contents}}))
}

/// The examples of LINE's reference, one per message type, action and flex element.
fn valid_messages() -> Vec<Value> {
    let area = |x: u32| json!({"x": x, "y": 586, "width": 520, "height": 454});
    vec![
        json!({"type": "text", "text": "$ LINE emoji $", "emojis": [
            {"index": 0, "productId": "5ac1bfd5040ab15980c9b435", "emojiId": "001"},
            {"index": 13, "productId": "5ac1bfd5040ab15980c9b435", "emojiId": "002"}]}),
        json!({"type": "text", "text": "Hello, I am Cony!!", "sender": {"name": "Cony", "iconUrl": "https://line.me/conyprof"}}),
        json!({"type": "textV2", "text": "Welcome, {user1}! {laugh}\n{everyone} There is a newcomer!", "substitution": {
            "user1": {"type": "mention", "mentionee": {"type": "user", "userId": "U49585cd0d5e5b4e9c3b8b8e0a5a5a5a5"}},
            "laugh": {"type": "emoji", "productId": "5a8555cfe6256cc92ea23c1a", "emojiId": "002"},
            "everyone": {"type": "mention", "mentionee": {"type": "all"}}}}),
        json!({"type": "sticker", "packageId": "446", "stickerId": "1988"}),
        json!({"type": "image", "originalContentUrl": "https://example.com/original.jpg", "previewImageUrl": "https://example.com/preview.jpg"}),
        json!({"type": "video", "originalContentUrl": "https://example.com/original.mp4", "previewImageUrl": "https://example.com/preview.jpg", "trackingId": "track-id"}),
        json!({"type": "audio", "originalContentUrl": "https://example.com/original.m4a", "duration": 60000}),
        json!({"type": "location", "title": "my location", "address": "1-3 Kioicho, Chiyoda-ku, Tokyo, 102-8282, Japan", "latitude": 35.67966, "longitude": 139.73669}),
        json!({"type": "imagemap", "baseUrl": "https://example.com/bot/images/rm001", "altText": "This is an imagemap", "baseSize": {"width": 1040, "height": 1040},
            "video": {"originalContentUrl": "https://example.com/video.mp4", "previewImageUrl": "https://example.com/video_preview.jpg",
                "area": {"x": 0, "y": 0, "width": 1040, "height": 585}, "externalLink": {"linkUri": "https://example.com/see_more.html", "label": "See More"}},
            "actions": [
                {"type": "uri", "linkUri": "https://example.com/", "area": area(0)},
                {"type": "message", "text": "Hello", "area": area(520)},
                {"type": "clipboard", "clipboardText": "3B48740B", "label": "Copy", "area": {"x": 0, "y": 0, "width": 1040, "height": 100}}]}),
        json!({"type": "template", "altText": "This is a buttons template", "template": {"type": "buttons",
            "thumbnailImageUrl": "https://example.com/bot/images/image.jpg", "imageAspectRatio": "rectangle", "imageSize": "cover",
            "imageBackgroundColor": "#FFFFFF", "title": "Menu", "text": "Please select",
            "defaultAction": {"type": "uri", "label": "View detail", "uri": "http://example.com/page/123"},
            "actions": [
                {"type": "postback", "label": "Buy", "data": "action=buy&itemid=123"},
                {"type": "postback", "label": "Add to cart", "data": "action=add&itemid=123"},
                {"type": "uri", "label": "View detail", "uri": "http://example.com/page/123"}]}}),
        json!({"type": "template", "altText": "this is a confirm template", "template": {"type": "confirm", "text": "Are you sure?", "actions": [
            {"type": "message", "label": "Yes", "text": "yes"}, {"type": "message", "label": "No", "text": "no"}]}}),
        json!({"type": "template", "altText": "this is a carousel template", "template": {"type": "carousel", "imageAspectRatio": "rectangle", "imageSize": "cover", "columns": [
            {"thumbnailImageUrl": "https://example.com/bot/images/item1.jpg", "imageBackgroundColor": "#FFFFFF", "title": "this is menu", "text": "description",
             "defaultAction": {"type": "uri", "label": "View detail", "uri": "http://example.com/page/123"},
             "actions": [{"type": "postback", "label": "Buy", "data": "action=buy&itemid=111"}, {"type": "message", "label": "Add to cart", "text": "add"},
                         {"type": "uri", "label": "View detail", "uri": "http://example.com/page/111"}]},
            {"thumbnailImageUrl": "https://example.com/bot/images/item2.jpg", "imageBackgroundColor": "#000000", "title": "this is menu", "text": "description",
             "actions": [{"type": "postback", "label": "Buy", "data": "action=buy&itemid=222"}, {"type": "clipboard", "label": "Copy", "clipboardText": "3B48740B"},
                         {"type": "uri", "label": "Call", "uri": "tel:09001234567"}]}]}}),
        json!({"type": "template", "altText": "this is an image carousel template", "template": {"type": "image_carousel", "columns": [
            {"imageUrl": "https://example.com/bot/images/item1.jpg", "action": {"type": "postback", "label": "Buy", "data": "action=buy&itemid=111"}},
            {"imageUrl": "https://example.com/bot/images/item2.jpg", "action": {"type": "message", "label": "Yes", "text": "yes"}},
            {"imageUrl": "https://example.com/bot/images/item3.jpg", "action": {"type": "uri", "label": "View detail", "uri": "line://nv/profile"}},
            {"imageUrl": "https://example.com/bot/images/item4.jpg", "action": {"type": "datetimepicker", "label": "Select date", "data": "storeId=12345",
                "mode": "datetime", "initial": "2017-12-25t00:00", "max": "2018-01-24t23:59", "min": "2017-12-25t00:00"}}]}}),
        json!({"type": "flex", "altText": "This is a Flex Message", "contents": {"type": "bubble", "body": {"type": "box", "layout": "horizontal", "contents": [
            {"type": "text", "text": "Hello,"}, {"type": "text", "text": "World!"}]}}}),
        // Every flex element and most of their properties (LINE's showcase bubbles).
        json!({"type": "flex", "altText": "Brown Cafe", "contents": {"type": "carousel", "contents": [
            {"type": "bubble", "size": "mega", "direction": "ltr",
             "hero": {"type": "image", "url": "https://example.com/01_1_cafe.png", "size": "full", "aspectRatio": "20:13", "aspectMode": "cover",
                      "action": {"type": "uri", "uri": "https://line.me/", "altUri": {"desktop": "https://line.me/desktop"}}, "animated": false},
             "header": {"type": "box", "layout": "vertical", "paddingAll": "12px", "backgroundColor": "#27ACB2",
                        "background": {"type": "linearGradient", "angle": "90deg", "startColor": "#FFFF00", "endColor": "#0080FF", "centerColor": "#00FF00", "centerPosition": "40%"},
                        "contents": [{"type": "text", "text": "Brown Cafe", "weight": "bold", "size": "xl", "color": "#ffffff", "align": "start", "gravity": "center", "adjustMode": "shrink-to-fit", "scaling": true}]},
             "body": {"type": "box", "layout": "vertical", "spacing": "sm", "paddingTop": "10%", "justifyContent": "space-between", "alignItems": "center", "cornerRadius": "md",
                      "borderWidth": "light", "borderColor": "#cccccc", "width": "100%", "maxWidth": "300px", "height": "200px", "maxHeight": "250px",
                      "contents": [
                {"type": "box", "layout": "baseline", "margin": "md", "contents": [
                    {"type": "icon", "size": "sm", "url": "https://example.com/review_gold_star_28.png"},
                    {"type": "icon", "size": "sm", "url": "https://example.com/review_gray_star_28.png", "aspectRatio": "1:1", "margin": "xs", "scaling": true},
                    {"type": "text", "text": "4.0", "size": "sm", "color": "#999999", "margin": "md", "flex": 0},
                    {"type": "filler"}]},
                {"type": "text", "wrap": true, "maxLines": 3, "lineSpacing": "4px", "contents": [
                    {"type": "span", "text": "hello, ", "size": "md"},
                    {"type": "span", "text": "world", "color": "#ff0000", "weight": "bold", "style": "italic", "decoration": "underline"}]},
                {"type": "separator", "margin": "xxl", "color": "#dddddd"},
                {"type": "text", "text": "Miraina Tower, 4-1-6 Shinjuku, Tokyo", "position": "absolute", "offsetTop": "4px", "offsetStart": "-2px", "offsetBottom": "none", "offsetEnd": "md",
                 "decoration": "line-through", "style": "normal", "action": {"type": "message", "label": "address", "text": "address"}},
                {"type": "image", "url": "https://example.com/map.png", "size": "40px", "align": "end", "margin": "sm", "backgroundColor": "#eeeeee",
                 "action": {"type": "postback", "label": "map", "data": "map", "displayText": "Map", "inputOption": "openKeyboard", "fillInText": "---\nName: "}}]},
             "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "flex": 0, "action": {"type": "uri", "label": "open", "uri": "https://example.com"}, "contents": [
                 {"type": "button", "style": "link", "height": "sm", "action": {"type": "uri", "label": "CALL", "uri": "tel:0312345678"}},
                 {"type": "button", "style": "primary", "color": "#905c44", "gravity": "bottom", "adjustMode": "shrink-to-fit",
                  "action": {"type": "datetimepicker", "label": "予約する", "data": "reserve", "mode": "date"}},
                 {"type": "button", "style": "secondary", "action": {"type": "clipboard", "label": "Copy", "clipboardText": "CAFE2026"}}]},
             "styles": {"header": {"backgroundColor": "#00ff00"}, "footer": {"separator": true, "separatorColor": "#000000"}},
             "action": {"type": "uri", "label": "cafe", "uri": "https://example.com/cafe"}}]}}),
        // A video hero: in a bubble of its own (never in a carousel), kilo or larger.
        json!({"type": "flex", "altText": "video", "contents": {"type": "bubble", "size": "kilo",
             "hero": {"type": "video", "url": "https://example.com/video.mp4", "previewUrl": "https://example.com/video_preview.jpg",
                      "altContent": {"type": "image", "size": "full", "aspectRatio": "20:13", "aspectMode": "cover", "url": "https://example.com/image.jpg"},
                      "aspectRatio": "20:13", "action": {"type": "uri", "label": "More", "uri": "https://example.com/more"}},
             "body": {"type": "box", "layout": "vertical", "contents": []}}}),
        json!({"type": "text", "text": "Select your favorite food category or send me your location!", "quickReply": {"items": [
            {"type": "action", "imageUrl": "https://example.com/sushi.png", "action": {"type": "message", "label": "Sushi", "text": "Sushi"}},
            {"type": "action", "imageUrl": "https://example.com/tempura.png", "action": {"type": "message", "label": "Tempura", "text": "Tempura"}},
            {"type": "action", "action": {"type": "location", "label": "Send location"}},
            {"type": "action", "action": {"type": "camera", "label": "Camera"}},
            {"type": "action", "action": {"type": "cameraRoll", "label": "Camera roll"}},
            {"type": "action", "action": {"type": "postback", "label": "Buy", "data": "action=buy&itemid=111", "text": "Buy"}},
            {"type": "action", "action": {"type": "datetimepicker", "label": "Time", "data": "t", "mode": "time", "initial": "10:00"}},
            {"type": "action", "action": {"type": "uri", "label": "Menu", "uri": "https://example.com/menu"}},
            {"type": "action", "action": {"type": "clipboard", "label": "Copy", "clipboardText": "3B48740B"}}]}}),
        json!({"type": "coupon", "couponId": "01JYNW8JMQVFBNPSQZ7Q5CRGSR"}),
    ]
}

#[test]
fn valid_messages_of_every_type_compile_and_render_unchanged() {
    for m in valid_messages() {
        assert_eq!(problems(m.clone()), [], "{m}");
        let e = Engine::from_json(&config(json!([m]))).unwrap();
        let d = e.render("c", r#"{"now": "2026-11-27T10:30:00+09:00", "user": {"userId": "U1"}}"#, DecideOptions::default()).unwrap();
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(serde_json::to_value(&d.messages[0]).unwrap(), m);
    }
    // The example config too.
    assert!(Engine::compile(include_str!("../examples/skincare/config.json")).is_ok());
}

#[test]
fn missing_required_fields() {
    let m = one(json!({"type": "sticker", "packageId": "446"}), Code::MissingField, "");
    assert!(m.contains("a sticker message needs \"stickerId\""), "{m}");
    let m = one(json!({"type": "image", "originalContentUrl": "https://example.com/a.png"}), Code::MissingField, "");
    assert!(m.contains("an image message needs \"previewImageUrl\""), "{m}");
    let m = one(json!({"type": "text", "text": "$hi", "emojis": [{"index": 0, "productId": "5ac1bfd5040ab15980c9b435"}]}), Code::MissingField, "/emojis/0");
    assert!(m.contains("\"emojiId\""), "{m}");
    assert_eq!(problems(json!({"type": "text", "text": "$hi", "emojis": [{"index": 0}]})).len(), 2, "productId and emojiId");
    one(json!({"type": "text", "text": "hi", "quickReply": {}}), Code::MissingField, "/quickReply");
    // A box without layout and contents: two problems, one per field.
    let p = problems(flex(json!({"type": "bubble", "body": {"type": "box"}})));
    let at = format!("{M}/contents/body");
    assert_eq!(p.iter().map(|(c, at, _)| (*c, at.as_str())).collect::<Vec<_>>(), [(Code::MissingField, at.as_str()); 2]);
    let m = one(body(json!([{"type": "button"}])), Code::MissingField, "/contents/body/contents/0");
    assert!(m.contains("a flex button needs \"action\""), "{m}");
    let m = one(body(json!([{"type": "text"}])), Code::MissingField, "/contents/body/contents/0");
    assert!(m.contains("\"text\" (or \"contents\""), "{m}");
    one(json!({"type": "flex", "contents": {"type": "bubble"}}), Code::MissingField, "");
    one(json!({"type": "location", "title": "t", "address": "a", "latitude": 35.6}), Code::MissingField, "");
    let uri = json!({"type": "template", "altText": "a", "template": {"type": "confirm", "text": "ok?", "actions": [
        {"type": "uri", "label": "yes"}, {"type": "message", "label": "no", "text": "no"}]}});
    one(uri, Code::MissingField, "/template/actions/0");
    one(json!({"type": "text", "text": "hi", "quickReply": {"items": [{"action": {"type": "camera", "label": "c"}}]}}), Code::MissingField, "/quickReply/items/0");
}

#[test]
fn unknown_keys_are_typos_with_a_suggestion() {
    let m = one(flex(json!({"type": "bubble", "bdy": {}})), Code::UnknownField, "/contents/bdy");
    assert!(m.contains("unknown field \"bdy\" in a flex bubble; did you mean \"body\"?"), "{m}");
    let m = one(json!({"type": "text", "text": "hi", "quickReplay": {"items": []}}), Code::UnknownField, "/quickReplay");
    assert!(m.contains("did you mean \"quickReply\"?"), "{m}");
    let m = one(body(json!([{"type": "text", "text": "a", "colour": "#ffffff"}])), Code::UnknownField, "/contents/body/contents/0/colour");
    assert!(m.contains("did you mean \"color\"?"), "{m}");
    // Far from every key: the known keys are listed.
    let m = one(json!({"type": "sticker", "packageId": "446", "stickerId": "1988", "zzz": 1}), Code::UnknownField, "/zzz");
    assert!(m.contains("known fields: packageId, stickerId, quoteToken, quickReply, sender, type"), "{m}");
    // A key that belongs to another message type.
    one(json!({"type": "text", "text": "hi", "altText": "x"}), Code::UnknownField, "/altText");
}

#[test]
fn wrong_type_values_with_a_suggestion() {
    let m = one(json!({"type": "txt", "text": "hi"}), Code::InvalidValue, "/type");
    assert!(m.contains("\"txt\" is not a LINE message type; did you mean \"text\"?"), "{m}");
    let m = one(body(json!([{"type": "txt", "text": "a"}])), Code::InvalidValue, "/contents/body/contents/0/type");
    assert!(m.contains("did you mean \"text\"?"), "{m}");
    let m = one(
        json!({"type": "text", "text": "hi", "quickReply": {"items": [{"type": "action", "action": {"type": "mesage", "label": "a", "text": "b"}}]}}),
        Code::InvalidValue,
        "/quickReply/items/0/action/type",
    );
    assert!(m.contains("did you mean \"message\"?"), "{m}");
    one(json!({"type": "text", "text": "hi", "quickReply": {"items": [{"type": "button", "action": {"type": "camera", "label": "c"}}]}}), Code::InvalidValue, "/quickReply/items/0/type");
    let m = one(flex(json!({"type": "bubble", "body": {"type": "box", "layout": "diagonal", "contents": []}})), Code::InvalidValue, "/contents/body/layout");
    assert!(m.contains("\"diagonal\" is not a value of \"layout\" (one of horizontal, vertical, baseline)"), "{m}");
    let m = one(body(json!([{"type": "text", "text": "a", "size": "huge"}])), Code::InvalidValue, "/contents/body/contents/0/size");
    assert!(m.contains("a length in pixels such as"), "{m}");
    // Percentages where LINE takes them (image sizes, offsets, paddings, box widths), not elsewhere.
    one(body(json!([{"type": "text", "text": "a", "size": "50%"}])), Code::InvalidValue, "/contents/body/contents/0/size");
    one(body(json!([{"type": "text", "text": "a", "margin": "10%"}])), Code::InvalidValue, "/contents/body/contents/0/margin");
    one(body(json!([{"type": "text", "text": "a", "size": "full"}])), Code::InvalidValue, "/contents/body/contents/0/size");
    assert_eq!(problems(body(json!([{"type": "image", "url": "https://example.com/a.png", "size": "50%", "offsetTop": "10%"},
        {"type": "box", "layout": "vertical", "contents": [], "width": "40%", "paddingAll": "5%", "margin": "4px"}]))), []);
    let m = one(body(json!([{"type": "text", "text": "a", "weight": "bld"}])), Code::InvalidValue, "/contents/body/contents/0/weight");
    assert!(m.contains("did you mean \"bold\"?"), "{m}");
    one(body(json!([{"type": "button", "style": "italic", "action": {"type": "message", "label": "a", "text": "a"}}])), Code::InvalidValue, "/contents/body/contents/0/style");
    one(flex(json!({"type": "bubble", "size": "huge"})), Code::InvalidValue, "/contents/size");
    one(flex(json!({"type": "bubbles"})), Code::InvalidValue, "/contents/type");
    // A component where LINE does not take it: icons only in baseline boxes, boxes only
    // in the bubble's blocks, a video only as the hero, spans only inside a text.
    let m = one(body(json!([{"type": "icon", "url": "https://example.com/i.png"}])), Code::InvalidValue, "/contents/body/contents/0/type");
    assert!(m.contains("a flex icon cannot go here"), "{m}");
    one(body(json!([{"type": "box", "layout": "baseline", "contents": [{"type": "button", "action": {"type": "message", "label": "a", "text": "a"}}]}])), Code::InvalidValue, "/contents/body/contents/0/contents/0/type");
    one(flex(json!({"type": "bubble", "body": {"type": "text", "text": "a"}})), Code::InvalidValue, "/contents/body/type");
    one(body(json!([{"type": "span", "text": "a"}])), Code::InvalidValue, "/contents/body/contents/0/type");
    one(flex(json!({"type": "carousel", "contents": [{"type": "box", "layout": "vertical", "contents": []}]})), Code::InvalidValue, "/contents/contents/0/type");
    // LINE's video rules: no video hero in a carousel, nor in a bubble below kilo.
    let video = json!({"type": "video", "url": "https://example.com/v.mp4", "previewUrl": "https://example.com/p.jpg",
                       "altContent": {"type": "image", "url": "https://example.com/a.jpg"}});
    one(flex(json!({"type": "carousel", "contents": [{"type": "bubble", "hero": video}]})), Code::InvalidValue, "/contents/contents/0/hero");
    one(flex(json!({"type": "bubble", "size": "micro", "hero": video})), Code::InvalidValue, "/contents/size");
    // The spacer was discontinued (LINE answers 400 "invalid property"): refused with what to use.
    let m = one(body(json!([{"type": "spacer", "size": "sm"}])), Code::InvalidValue, "/contents/body/contents/0/type");
    assert!(m.contains("filler"), "{m}");
    // What a template decides is known once rendered: a templated type or layout is not refused.
    assert_eq!(problems(flex(json!({"type": "bubble", "body": {"type": "box", "layout": "{{ l }}", "contents": [{"type": "icon", "url": "https://example.com/i.png"}]}}))), []);
    assert_eq!(problems(body(json!([{"type": "{{ t }}", "text": "a"}]))), []);
    // A postback's data may be empty.
    assert_eq!(problems(body(json!([{"type": "button", "action": {"type": "postback", "label": "a", "data": ""}}]))), []);
    // Camera, camera roll and location actions only in quick replies; rich menu switches never in messages.
    one(body(json!([{"type": "button", "action": {"type": "camera", "label": "c"}}])), Code::InvalidValue, "/contents/body/contents/0/action/type");
    one(body(json!([{"type": "button", "action": {"type": "richmenuswitch", "label": "c", "richMenuAliasId": "a", "data": "d"}}])), Code::InvalidValue, "/contents/body/contents/0/action/type");
    // The wrong JSON kind.
    one(json!({"type": "text", "text": "hi", "quickReply": {"items": {}}}), Code::InvalidValue, "/quickReply/items");
    one(json!({"type": "text", "text": "hi", "quickReply": []}), Code::InvalidValue, "/quickReply");
    one(json!({"type": "sticker", "packageId": {"id": 446}, "stickerId": "1988"}), Code::InvalidValue, "/packageId");
    one(json!("hello"), Code::InvalidValue, "");
}

#[test]
fn urls_must_be_https_media_and_absolute_links() {
    let m = one(json!({"type": "image", "originalContentUrl": "http://example.com/a.png", "previewImageUrl": "https://example.com/p.png"}), Code::InvalidValue, "/originalContentUrl");
    assert!(m.contains("https://"), "{m}");
    one(body(json!([{"type": "image", "url": "//example.com/a.png"}])), Code::InvalidValue, "/contents/body/contents/0/url");
    let uri = |uri: &str| body(json!([{"type": "button", "action": {"type": "uri", "label": "open", "uri": uri}}]));
    let m = one(uri("javascript:alert(1)"), Code::InvalidValue, "/contents/body/contents/0/action/uri");
    assert!(m.contains("http, https, line and tel"), "{m}");
    one(uri("/path"), Code::InvalidValue, "/contents/body/contents/0/action/uri");
    for ok in ["https://example.com", "http://example.com", "tel:0312345678", "line://ti/p/@linedevelopers", "https://example.com/?uid={{ user.userId }}"] {
        assert_eq!(problems(uri(ok)), [], "{ok}");
    }
    // A template whose literal start already holds the scheme is checked before rendering.
    one(uri("ftp://example.com/{{ user.userId }}"), Code::InvalidValue, "/contents/body/contents/0/action/uri");
    one(json!({"type": "text", "text": "hi", "sender": {"iconUrl": "http://example.com/{{ user.userId }}.png"}}), Code::InvalidValue, "/sender/iconUrl");
    // So is one whose literal start no scheme can follow: relative whatever renders.
    for relative in ["/items/{{ item.sku }}", "example.com/{{ item.sku }}", "?id={{ user.userId }}", "{% if x %}{% endif %}"] {
        let expect = if relative.starts_with("{%") { 0 } else { 1 };
        assert_eq!(problems(uri(relative)).len(), expect, "{relative}");
    }
    for later in ["{{ base }}/items", "https{{ s }}://example.com", "line{{ x }}"] {
        assert_eq!(problems(uri(later)), [], "{later}");
    }
    // A sender's icon URL: 2,000 characters (LINE's OpenAPI description).
    let icon = |n: usize| json!({"type": "text", "text": "hi", "sender": {"iconUrl": format!("https://example.com/{}", "a".repeat(n))}});
    assert_eq!(problems(icon(1_980)), []);
    one(icon(1_981), Code::LimitExceeded, "/sender/iconUrl");
}

#[test]
fn rendered_urls_are_checked_after_rendering() {
    let e = Engine::from_json(&config(json!([body(json!([
        {"type": "button", "action": {"type": "uri", "label": "open", "uri": "{{ user.attributes.url }}"}},
        {"type": "image", "url": "{{ user.attributes.img }}"}]))]))).unwrap();
    let render = |url: &str, img: &str| render_for(&e, json!({"url": url, "img": img}));
    let ok = render("https://example.com/a", "https://example.com/a.png");
    assert!(ok.errors.is_empty() && ok.messages.len() == 1, "{:?}", ok.errors);
    let bad = render("javascript:alert(1)", "http://example.com/a.png");
    assert!(bad.messages.is_empty(), "nothing is sent");
    let got: Vec<(Code, &str)> = bad.errors.iter().map(|e| (e.code, e.path.as_str())).collect();
    let button = format!("{M}/contents/body/contents/0/action/uri");
    let image = format!("{M}/contents/body/contents/1/url");
    assert_eq!(got, [(Code::InvalidValue, button.as_str()), (Code::InvalidValue, image.as_str())]);
    assert!(bad.errors[0].message.contains("after rendering") && bad.errors[0].message.starts_with("content \"c\", variant \"v\": "), "{}", bad.errors[0].message);
    let relative = render("/path", "https://example.com/a.png");
    assert_eq!(relative.errors.len(), 1);
    // An empty URL is one problem (empty), not two.
    let empty = render("", "https://example.com/a.png");
    assert_eq!(empty.errors.iter().map(|e| e.code).collect::<Vec<_>>(), [Code::InvalidValue]);
    assert!(empty.errors[0].message.ends_with("uri is empty after rendering; LINE needs an absolute http, https, line or tel URI (give the template a default)"), "{}", empty.errors[0].message);
}

/// A template that decides a type, a layout or an enumerated value is checked once rendered:
/// what LINE would refuse (HTTP 400, the whole reply lost) is a render error at its config path.
#[test]
fn rendered_types_and_enumerated_values_are_checked_after_rendering() {
    let e = Engine::from_json(&config(json!([flex(json!({"type": "bubble", "size": "{{ user.attributes.size }}", "body": {
        "type": "box", "layout": "{{ user.attributes.layout }}", "contents": [
            {"type": "{{ user.attributes.kind }}", "text": "こんにちは", "weight": "{% if user.tags contains 'vip' %}bold{% else %}regular{% endif %}"}]}}))]))).unwrap();
    let render = |attributes: Value| {
        let ctx = json!({"now": "2026-11-27T10:30:00+09:00", "user": {"userId": "U1", "tags": ["vip"], "attributes": attributes}});
        e.render("c", &ctx.to_string(), DecideOptions::default()).unwrap()
    };
    let ok = render(json!({"size": "kilo", "layout": "vertical", "kind": "text"}));
    assert!(ok.errors.is_empty() && ok.messages.len() == 1, "{:?}", ok.errors);
    let bad = render(json!({"size": "huge", "layout": "diagonal", "kind": "text"}));
    assert!(bad.messages.is_empty(), "nothing is sent");
    let got: Vec<(Code, &str)> = bad.errors.iter().map(|e| (e.code, e.path.as_str())).collect();
    let (size, layout) = (format!("{M}/contents/size"), format!("{M}/contents/body/layout"));
    assert_eq!(got, [(Code::InvalidValue, layout.as_str()), (Code::InvalidValue, size.as_str())]);
    assert!(bad.errors[1].message.starts_with("content \"c\", variant \"v\": after rendering, \"huge\" is not a value of \"size\""), "{}", bad.errors[1].message);
    // A templated type is checked with everything that depends on it.
    let button = render(json!({"size": "kilo", "layout": "vertical", "kind": "button"}));
    let got: Vec<(Code, String)> = button.errors.iter().map(|e| (e.code, e.path.clone())).collect();
    let at = format!("{M}/contents/body/contents/0");
    assert_eq!(got, [(Code::MissingField, at.clone()), (Code::UnknownField, format!("{at}/text")), (Code::UnknownField, format!("{at}/weight"))], "{:?}", button.errors);
}

/// The reviewer's configs: every planted mistake in a message is found, each once.
#[test]
fn every_mistake_of_a_content_is_reported_at_once() {
    let errors = Engine::from_json(&json!({"version": 1, "contents": [
        {"id": "a", "variants": [{"id": "v", "messages": [
            {"type": "sticker", "packageId": "446"},
            {"type": "flex", "altText": "x", "contents": {"type": "bubble", "bdy": {}, "body": {"type": "box", "layout": "diagonal", "contents": [
                {"type": "txt", "text": "a"}, {"type": "button"}]}}},
            {"type": "text", "text": "hi", "quickReplay": {}}]}]}]}))
    .unwrap_err();
    let got: Vec<(Code, &str)> = errors.iter().map(|e| (e.code, e.path.as_str())).collect();
    let m = "/contents/0/variants/0/messages";
    assert_eq!(got, [
        (Code::MissingField, format!("{m}/0").as_str()),
        (Code::UnknownField, format!("{m}/1/contents/bdy").as_str()),
        (Code::InvalidValue, format!("{m}/1/contents/body/contents/0/type").as_str()),
        (Code::MissingField, format!("{m}/1/contents/body/contents/1").as_str()),
        (Code::InvalidValue, format!("{m}/1/contents/body/layout").as_str()),
        (Code::UnknownField, format!("{m}/2/quickReplay").as_str()),
    ]);
}

/// A textV2 message's substitutions, as LINE's OpenAPI description has them: a mention of a user
/// (with a userId) or of all, or a LINE emoji (productId and emojiId).
#[test]
fn textv2_substitutions_are_mentions_or_emoji() {
    let v2 = |substitution: Value| json!({"type": "textV2", "text": "Hi {x}!", "substitution": substitution});
    let m = one(v2(json!({"x": {"type": "mention"}})), Code::MissingField, "/substitution/x");
    assert!(m.contains("a mention substitution needs \"mentionee\""), "{m}");
    let m = one(v2(json!({"x": {"type": "mention", "mentionee": {"type": "group"}}})), Code::InvalidValue, "/substitution/x/mentionee/type");
    assert!(m.contains("\"group\" is not a mentionee type (one of user, all)"), "{m}");
    one(v2(json!({"x": {"type": "mention", "mentionee": {"type": "user"}}})), Code::MissingField, "/substitution/x/mentionee");
    one(v2(json!({"x": {"type": "mention", "mentionee": {"type": "all", "userId": "U1"}}})), Code::UnknownField, "/substitution/x/mentionee/userId");
    let m = one(v2(json!({"x": {"type": "emoji", "productId": "5a8555cfe6256cc92ea23c1a"}})), Code::MissingField, "/substitution/x");
    assert!(m.contains("an emoji substitution needs \"emojiId\""), "{m}");
    let m = one(v2(json!({"x": {"type": "emoj", "productId": "p", "emojiId": "001"}})), Code::InvalidValue, "/substitution/x/type");
    assert!(m.contains("did you mean \"emoji\"?"), "{m}");
    one(v2(json!({"x": {"productId": "p", "emojiId": "001"}})), Code::MissingField, "/substitution/x");
    one(v2(json!({"x": "@everyone"})), Code::InvalidValue, "/substitution/x");
    one(v2(json!([{"type": "mention", "mentionee": {"type": "all"}}])), Code::InvalidValue, "/substitution");
    // The mentioned user is usually the one the message goes to.
    assert_eq!(problems(v2(json!({"x": {"type": "mention", "mentionee": {"type": "user", "userId": "{{ user.userId }}"}}}))), []);
    let p = problems(v2(json!({"x": {"type": "mention"}, "y": {"type": "emoji"}})));
    assert_eq!(p.len(), 3, "{p:#?}");
}

/// Colours are `#RRGGBB` or `#RRGGBBAA`, wherever flex and templates take one.
#[test]
fn colours_are_hex() {
    let m = one(body(json!([{"type": "text", "text": "a", "color": "red"}])), Code::InvalidValue, "/contents/body/contents/0/color");
    assert!(m.contains("color must be a hex colour like #1DB446 (or #1DB44680 with transparency), got \"red\""), "{m}");
    for bad in ["#FFF", "#GGGGGG", "1DB446", "#1DB4460", "#1DB446800", "", "rgb(0,0,0)"] {
        one(body(json!([{"type": "separator", "color": bad}])), Code::InvalidValue, "/contents/body/contents/0/color");
    }
    for ok in ["#1DB446", "#1db446", "#1DB44680", "#00000000"] {
        assert_eq!(problems(body(json!([{"type": "separator", "color": ok}]))), [], "{ok}");
    }
    let box_ = |k: &str| flex(json!({"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [], k: "white"}}));
    one(box_("backgroundColor"), Code::InvalidValue, "/contents/body/backgroundColor");
    one(box_("borderColor"), Code::InvalidValue, "/contents/body/borderColor");
    one(flex(json!({"type": "bubble", "styles": {"footer": {"separatorColor": "black"}}})), Code::InvalidValue, "/contents/styles/footer/separatorColor");
    let gradient = json!({"type": "linearGradient", "angle": "90deg", "startColor": "#FFFF00", "endColor": "blue"});
    one(flex(json!({"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [], "background": gradient}})), Code::InvalidValue, "/contents/body/background/endColor");
    let buttons = json!({"type": "template", "altText": "a", "template": {"type": "buttons", "text": "t", "imageBackgroundColor": "#FFFFF",
        "actions": [{"type": "message", "label": "a", "text": "a"}]}});
    one(buttons, Code::InvalidValue, "/template/imageBackgroundColor");
}

/// A flex image's, video's or icon's aspectRatio: width:height, each 1 to 100000, the height
/// at most three times the width.
#[test]
fn aspect_ratios_are_width_colon_height() {
    let image = |r: &str| body(json!([{"type": "image", "url": "https://example.com/a.png", "aspectRatio": r}]));
    for ok in ["20:13", "1:1", "1:3", "1.91:1", "100000:1", "100000:100000"] {
        assert_eq!(problems(image(ok)), [], "{ok}");
    }
    for bad in ["1:4", "1:3.01", "0:1", "100001:1", "16x9", "16/9", "a:b", "1:", ":1", "-1:1", "1:1:1", "1e3:1", ""] {
        let m = one(image(bad), Code::InvalidValue, "/contents/body/contents/0/aspectRatio");
        assert!(m.contains("aspectRatio must be width:height like \"20:13\""), "{bad}: {m}");
    }
    let icon = json!({"type": "box", "layout": "baseline", "contents": [{"type": "icon", "url": "https://example.com/i.png", "aspectRatio": "2:7"}]});
    one(body(json!([icon])), Code::InvalidValue, "/contents/body/contents/0/contents/0/aspectRatio");
    let video = json!({"type": "video", "url": "https://example.com/v.mp4", "previewUrl": "https://example.com/p.jpg", "aspectRatio": "9:28",
                       "altContent": {"type": "image", "url": "https://example.com/a.jpg"}});
    one(flex(json!({"type": "bubble", "hero": video})), Code::InvalidValue, "/contents/hero/aspectRatio");
}

/// A templated colour or aspect ratio is checked once rendered.
#[test]
fn rendered_colours_and_aspect_ratios_are_checked_after_rendering() {
    let e = Engine::from_json(&config(json!([body(json!([
        {"type": "text", "text": "a", "color": "{{ user.attributes.colour }}"},
        {"type": "image", "url": "https://example.com/a.png", "aspectRatio": "{{ user.attributes.ratio | default: '1:1' }}"}]))]))).unwrap();
    let render = |attributes: Value| render_for(&e, attributes);
    let ok = render(json!({"colour": "#06C755", "ratio": "3:1"}));
    assert!(ok.errors.is_empty() && ok.messages.len() == 1, "{:?}", ok.errors);
    let bad = render(json!({"colour": "green", "ratio": "1:5"}));
    assert!(bad.messages.is_empty(), "nothing is sent");
    let got: Vec<(Code, &str)> = bad.errors.iter().map(|e| (e.code, e.path.as_str())).collect();
    let (colour, ratio) = (format!("{M}/contents/body/contents/0/color"), format!("{M}/contents/body/contents/1/aspectRatio"));
    assert_eq!(got, [(Code::InvalidValue, colour.as_str()), (Code::InvalidValue, ratio.as_str())]);
    assert!(bad.errors[0].message.starts_with("content \"c\", variant \"v\": after rendering, color must be a hex colour"), "{}", bad.errors[0].message);
}

/// How many actions, columns, bubbles, quick reply buttons and LINE emoji LINE takes.
#[test]
fn arrays_hold_as_many_items_as_line_takes() {
    let action = |i: usize| json!({"type": "message", "label": format!("a{i}"), "text": "a"});
    let actions = |n: usize| (0..n).map(action).collect::<Vec<_>>();
    let buttons = |n: usize| json!({"type": "template", "altText": "a", "template": {"type": "buttons", "text": "t", "actions": actions(n)}});
    assert_eq!(problems(buttons(4)), []);
    let m = one(buttons(5), Code::LimitExceeded, "/template/actions");
    assert!(m.contains("a buttons template takes at most 4 actions, found 5"), "{m}");
    let confirm = |n: usize| json!({"type": "template", "altText": "a", "template": {"type": "confirm", "text": "t", "actions": actions(n)}});
    let m = one(confirm(1), Code::LimitExceeded, "/template/actions");
    assert!(m.contains("a confirm template takes exactly 2 actions, found 1"), "{m}");
    one(confirm(3), Code::LimitExceeded, "/template/actions");
    let column = |n: usize| json!({"text": "t", "actions": actions(n)});
    let carousel = |columns: Vec<Value>| json!({"type": "template", "altText": "a", "template": {"type": "carousel", "columns": columns}});
    assert_eq!(problems(carousel(vec![column(3); 10])), []);
    one(carousel(vec![column(1); 11]), Code::LimitExceeded, "/template/columns");
    let p = problems(carousel(vec![column(4), column(4)]));
    let at = |i: usize| format!("{M}/template/columns/{i}/actions");
    assert_eq!(p.iter().map(|(c, at, _)| (*c, at.clone())).collect::<Vec<_>>(), [(Code::LimitExceeded, at(0)), (Code::LimitExceeded, at(1))], "{p:#?}");
    assert!(p[0].2.contains("a carousel column takes at most 3 actions, found 4"), "{}", p[0].2);
    let image_column = json!({"imageUrl": "https://example.com/a.png", "action": action(0)});
    let image_carousel = |n: usize| json!({"type": "template", "altText": "a", "template": {"type": "image_carousel", "columns": vec![image_column.clone(); n]}});
    assert_eq!(problems(image_carousel(10)), []);
    one(image_carousel(11), Code::LimitExceeded, "/template/columns");
    let imagemap = |n: usize| json!({"type": "imagemap", "baseUrl": "https://example.com/rm", "altText": "a", "baseSize": {"width": 1040, "height": 1040},
        "actions": vec![json!({"type": "message", "text": "a", "area": {"x": 0, "y": 0, "width": 10, "height": 10}}); n]});
    assert_eq!(problems(imagemap(50)), []);
    one(imagemap(51), Code::LimitExceeded, "/actions");
    let emoji = json!({"index": 0, "productId": "5ac1bfd5040ab15980c9b435", "emojiId": "001"});
    assert_eq!(problems(json!({"type": "text", "text": "$", "emojis": vec![emoji.clone(); 20]})), []);
    let m = one(json!({"type": "text", "text": "$", "emojis": vec![emoji; 21]}), Code::LimitExceeded, "/emojis");
    assert!(m.contains("a text message takes at most 20 LINE emoji, found 21"), "{m}");
    // Flex carousels (12 bubbles) and quick replies (13 buttons) too.
    let m = one(flex(json!({"type": "carousel", "contents": vec![json!({"type": "bubble"}); 13]})), Code::LimitExceeded, "/contents/contents");
    assert!(m.contains("a flex carousel takes at most 12 bubbles, found 13"), "{m}");
    let item = json!({"type": "action", "action": {"type": "camera", "label": "c"}});
    let m = one(json!({"type": "text", "text": "hi", "quickReply": {"items": vec![item; 14]}}), Code::LimitExceeded, "/quickReply/items");
    assert!(m.contains("a quick reply takes at most 13 buttons, found 14"), "{m}");
    // At most 10 animated images in a message.
    let animated = |n: usize| body(json!(vec![json!({"type": "image", "url": "https://example.com/a.png", "animated": true}); n]));
    assert_eq!(problems(animated(10)), []);
    let m = one(animated(11), Code::LimitExceeded, "");
    assert!(m.contains("at most 10 animated images"), "{m}");
}

/// An imagemap's base image is 1040 pixels wide and a whole number of pixels high; its areas'
/// positions are whole numbers from 0 (the reference, #imagemap-message, #imagemap-area-object;
/// LINE's OpenAPI: integers). An area is not held inside the base image: LINE does not say so.
#[test]
fn imagemap_sizes_and_areas_are_whole_pixels() {
    let imagemap = |base: Value, area: Value, video: Value| {
        let mut m = json!({"type": "imagemap", "baseUrl": "https://example.com/rm", "altText": "a", "baseSize": base,
            "actions": [{"type": "message", "text": "a", "area": area}]});
        if !video.is_null() {
            m["video"] = json!({"originalContentUrl": "https://example.com/v.mp4", "previewImageUrl": "https://example.com/p.jpg", "area": video});
        }
        m
    };
    let base = json!({"width": 1040, "height": 700});
    let area = json!({"x": 0, "y": 0, "width": 520, "height": 700});
    assert_eq!(problems(imagemap(base.clone(), area.clone(), area.clone())), []);
    // LINE reads a number written as a string; an area past the base image is not refused.
    assert_eq!(problems(imagemap(json!({"width": "1040", "height": "700"}), json!({"x": 1000, "y": 650, "width": 520, "height": 100}), Value::Null)), []);
    let m = one(imagemap(json!({"width": 700, "height": 700}), area.clone(), Value::Null), Code::InvalidValue, "/baseSize/width");
    assert!(m.contains("\"width\" of an imagemap baseSize must be 1040, the width of LINE's imagemap base image, found 700"), "{m}");
    for bad in [json!(0), json!(-1), json!(700.5), json!("tall"), json!(true)] {
        one(imagemap(json!({"width": 1040, "height": bad}), area.clone(), Value::Null), Code::InvalidValue, "/baseSize/height");
    }
    let m = one(imagemap(base.clone(), json!({"x": -1, "y": 0, "width": 520, "height": 700}), Value::Null), Code::InvalidValue, "/actions/0/area/x");
    assert!(m.contains("\"x\" of an imagemap area must be a whole number of pixels from 0, found -1"), "{m}");
    one(imagemap(base.clone(), json!({"x": 0, "y": 0, "width": 10.5, "height": 700}), Value::Null), Code::InvalidValue, "/actions/0/area/width");
    one(imagemap(base.clone(), area.clone(), json!({"x": 0, "y": -5, "width": 1040, "height": 585})), Code::InvalidValue, "/video/area/y");
    // baseUrl: at most 2,000 characters.
    let mut long = imagemap(base.clone(), area.clone(), Value::Null);
    long["baseUrl"] = json!(format!("https://example.com/{}", "a".repeat(1_981)));
    one(long, Code::LimitExceeded, "/baseUrl");
    // A templated size is checked once rendered.
    let e = Engine::from_json(&config(json!([imagemap(json!({"width": 1040, "height": "{{ user.attributes.h }}"}), area, Value::Null)]))).unwrap();
    let render = |h: &str| render_for(&e, json!({"h": h}));
    let ok = render("700");
    assert!(ok.errors.is_empty() && ok.messages.len() == 1, "{:?}", ok.errors);
    let bad = render("0");
    assert!(bad.messages.is_empty(), "nothing is sent");
    assert_eq!(bad.errors.iter().map(|e| (e.code, e.path.clone())).collect::<Vec<_>>(), [(Code::InvalidValue, format!("{M}/baseSize/height"))]);
    assert!(bad.errors[0].message.contains("after rendering"), "{}", bad.errors[0].message);
}

/// A flex component's `flex`, a flex text's `maxLines` and an audio message's `duration` are
/// whole numbers from 0 (LINE's OpenAPI: `integer`; the documentation describes 0 and up only).
/// A number written as a string is read as LINE reads it; a templated one is checked once
/// rendered.
#[test]
fn flex_max_lines_and_duration_are_whole_numbers_from_0() {
    let audio = |d: Value| json!({"type": "audio", "originalContentUrl": "https://example.com/a.m4a", "duration": d});
    let text = |k: &str, v: Value| {
        let mut t = json!({"type": "text", "text": "a"});
        t[k] = v;
        body(json!([t]))
    };
    for ok in [json!(0), json!(3), json!("2"), json!(2.0)] {
        assert_eq!(problems(text("flex", ok.clone())), [], "{ok}");
        assert_eq!(problems(text("maxLines", ok.clone())), [], "{ok}");
        assert_eq!(problems(audio(ok.clone())), [], "{ok}");
    }
    let m = one(text("flex", json!(1.5)), Code::InvalidValue, "/contents/body/contents/0/flex");
    assert!(m.ends_with("\"flex\" of a flex text must be a whole number from 0 to 2147483647, found a fraction"), "{m}");
    let m = one(text("maxLines", json!(-1)), Code::InvalidValue, "/contents/body/contents/0/maxLines");
    assert!(m.ends_with("\"maxLines\" of a flex text must be a whole number from 0 to 2147483647, found -1"), "{m}");
    let m = one(audio(json!(60000.5)), Code::InvalidValue, "/duration");
    assert!(m.ends_with("\"duration\" of an audio message must be a whole number from 0 to 9223372036854775807, found a fraction"), "{m}");
    one(audio(json!("1.5")), Code::InvalidValue, "/duration");
    // A boolean is no number (LINE's OpenAPI: `integer`).
    let m = one(text("flex", json!(true)), Code::InvalidValue, "/contents/body/contents/0/flex");
    assert!(m.contains("\"flex\" of a flex text must be a whole number from 0 to 2147483647, found "), "{m}");
    one(audio(json!(false)), Code::InvalidValue, "/duration");
    // `flex` and `maxLines` are int32 (LINE's OpenAPI), `duration` int64.
    assert_eq!(problems(text("flex", json!(2_147_483_647))), []);
    assert_eq!(problems(audio(json!(3_000_000_000u64))), []);
    assert_eq!(problems(audio(json!(i64::MAX))), []);
    assert_eq!(problems(audio(json!("9223372036854775807"))), []);
    // One past int64's most, which is 2^63 as a double (i64::MAX's nearest): as a u64, as text,
    // and read from a config's text (where it is a double).
    one(audio(json!(9_223_372_036_854_775_808u64)), Code::InvalidValue, "/duration");
    one(audio(json!("9223372036854775808")), Code::InvalidValue, "/duration");
    let doc = config(json!([audio(json!(0))])).to_string().replace("\"duration\":0", "\"duration\":9223372036854775808");
    let errors = Engine::compile(&doc).err().unwrap_or_default();
    assert_eq!(errors.iter().map(|e| (e.code, e.path.as_str())).collect::<Vec<_>>(), [(Code::InvalidValue, format!("{M}/duration").as_str())]);
    assert!(Engine::compile(&doc.replace("9223372036854775808", "9223372036854775807")).is_ok());
    // Past int64, LINE cannot read it (1e20 ms, or a template rendering "1.0e+20").
    one(audio(json!(1e20)), Code::InvalidValue, "/duration");
    one(audio(json!("1e20")), Code::InvalidValue, "/duration");
    one(text("flex", json!(2_147_483_648u64)), Code::InvalidValue, "/contents/body/contents/0/flex");
    one(text("maxLines", json!("3000000000")), Code::InvalidValue, "/contents/body/contents/0/maxLines");
    let m = one(text("maxLines", json!(1e12)), Code::InvalidValue, "/contents/body/contents/0/maxLines");
    assert!(m.ends_with("\"maxLines\" of a flex text must be a whole number from 0 to 2147483647, found 1000000000000"), "{m}");
    // Past 10^18 too, the number, not "a fraction".
    let m = one(text("flex", json!(1e20)), Code::InvalidValue, "/contents/body/contents/0/flex");
    assert!(m.contains("\"flex\" of a flex text must be a whole number from 0 to 2147483647, found 1e") && !m.contains("fraction"), "{m}");
    let m = one(text("maxLines", json!(u64::MAX)), Code::InvalidValue, "/contents/body/contents/0/maxLines");
    assert!(m.ends_with(", found 18446744073709551615"), "{m}");
    // Every component with a flex: box, button, image, filler.
    let parts = json!([
        {"type": "box", "layout": "vertical", "flex": 0.5, "contents": []},
        {"type": "button", "flex": -2, "action": {"type": "message", "label": "a", "text": "a"}},
        {"type": "image", "url": "https://example.com/a.png", "flex": "1.5"},
        {"type": "filler", "flex": 2.25}]);
    let at: Vec<(Code, String)> = problems(body(parts)).into_iter().map(|(c, at, _)| (c, at)).collect();
    let want: Vec<(Code, String)> = (0..4).map(|i| (Code::InvalidValue, format!("{M}/contents/body/contents/{i}/flex"))).collect();
    assert_eq!(at, want);
    // Templated: checked once rendered.
    let e = Engine::from_json(&config(json!([text("maxLines", json!("{{ user.attributes.lines }}"))]))).unwrap();
    let ok = render_for(&e, json!({"lines": 2}));
    assert!(ok.errors.is_empty() && ok.messages.len() == 1, "{:?}", ok.errors);
    let bad = render_for(&e, json!({"lines": 2.5}));
    assert!(bad.messages.is_empty(), "nothing is sent");
    assert_eq!(bad.errors.iter().map(|e| (e.code, e.path.clone())).collect::<Vec<_>>(), [(Code::InvalidValue, format!("{M}/contents/body/contents/0/maxLines"))]);
    assert!(bad.errors[0].message.contains("after rendering, \"maxLines\" of a flex text must be a whole number from 0 to 2147483647, found \"2.5\""), "{}", bad.errors[0].message);
}

/// A flex text's `wrap` and `scaling`, a button's and an icon's `scaling`, an image's `animated`
/// and a block style's `separator` are true or false (LINE's OpenAPI: `type: boolean`): a
/// string is refused, `"true"` and a template alike (a template writes a string); an `$if`
/// member sets one from the data.
#[test]
fn booleans_are_true_or_false() {
    let action = json!({"type": "message", "label": "a", "text": "a"});
    let bubble = |v: Value| {
        flex(json!({"type": "bubble", "styles": {"footer": {"separator": v}}, "body": {"type": "box", "layout": "vertical", "contents": [
            {"type": "text", "text": "a", "wrap": v, "scaling": v},
            {"type": "button", "action": action, "scaling": v},
            {"type": "image", "url": "https://example.com/a.png", "animated": v},
            {"type": "box", "layout": "baseline", "contents": [{"type": "icon", "url": "https://example.com/a.png", "scaling": v}]}]}}))
    };
    for ok in [json!(true), json!(false), Value::Null] {
        assert_eq!(problems(bubble(ok.clone())), [], "{ok}");
    }
    let at = ["/contents/body/contents/0/scaling", "/contents/body/contents/0/wrap", "/contents/body/contents/1/scaling", "/contents/body/contents/2/animated", "/contents/body/contents/3/contents/0/scaling", "/contents/styles/footer/separator"];
    for bad in [json!("true"), json!("false"), json!("{{ user.attributes.wrap }}"), json!(1)] {
        let mut p = problems(bubble(bad.clone()));
        p.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(p.iter().map(|(c, at, _)| (*c, at.clone())).collect::<Vec<_>>(), at.map(|at| (Code::InvalidValue, format!("{M}{at}"))), "{bad}");
    }
    let m = one(body(json!([{"type": "text", "text": "a", "wrap": "true"}])), Code::InvalidValue, "/contents/body/contents/0/wrap");
    assert!(m.ends_with("\"wrap\" of a flex text must be true or false, without quotes (to set it from the data: {\"$if\": …, \"$then\": true}), found a string"), "{m}");
    // From the data: an `$if` member.
    let e = Engine::from_json(&config(json!([body(json!([{"type": "text", "text": "a", "wrap": {"$if": {"var": "user.attributes.long"}, "$then": true}}]))]))).unwrap();
    let text = |d: &kizuna::Decision| first(d)["contents"]["body"]["contents"][0].clone();
    assert_eq!(text(&render_for(&e, json!({"long": true}))), json!({"type": "text", "text": "a", "wrap": true}));
    assert_eq!(text(&render_for(&e, json!({}))), json!({"type": "text", "text": "a"}));
}

/// "Keep the number of actions consistent for all columns. If you use an image or title for a
/// column, make sure to do the same for all other columns." (the reference, carousel template)
#[test]
fn carousel_columns_are_alike() {
    let action = json!({"type": "message", "label": "a", "text": "a"});
    let column = |n: usize, extra: Value| {
        let mut c = json!({"text": "t", "actions": vec![action.clone(); n]});
        if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
            c.extend(extra.clone());
        }
        c
    };
    let carousel = |columns: Vec<Value>| json!({"type": "template", "altText": "a", "template": {"type": "carousel", "columns": columns}});
    let titled = json!({"title": "t", "thumbnailImageUrl": "https://example.com/a.jpg"});
    assert_eq!(problems(carousel(vec![column(2, titled.clone()), column(2, titled.clone())])), []);
    let m = one(carousel(vec![column(3, json!({})), column(3, json!({})), column(2, json!({}))]), Code::InvalidValue, "/template/columns/2/actions");
    assert!(m.contains("column 2 has 2 actions and column 0 has 3; LINE needs the same number of actions in every column"), "{m}");
    let m = one(carousel(vec![column(1, json!({"title": "t"})), column(1, json!({}))]), Code::InvalidValue, "/template/columns/1");
    assert!(m.contains("column 0 has a title and column 1 has none"), "{m}");
    let m = one(carousel(vec![column(1, json!({})), column(1, json!({"thumbnailImageUrl": "https://example.com/a.jpg"}))]), Code::InvalidValue, "/template/columns/1");
    assert!(m.contains("column 1 has a thumbnailImageUrl and column 0 has none"), "{m}");
}

/// A textV2 text's `{key}`s each need a substitution; braces come in pairs; keys are 0-9a-zA-Z
/// and _, at most 20 characters; at most 100 substitutions (the reference, #text-message-v2).
#[test]
fn textv2_placeholders_have_substitutions() {
    let mention = json!({"type": "mention", "mentionee": {"type": "all"}});
    let v2 = |text: &str, substitution: Value| {
        let mut m = json!({"type": "textV2", "text": text});
        if !substitution.is_null() {
            m["substitution"] = substitution;
        }
        m
    };
    assert_eq!(problems(v2("no placeholders", Value::Null)), []);
    assert_eq!(problems(v2("{a} and {a_2}", json!({"a": mention, "a_2": mention, "unused": mention}))), []);
    let m = one(v2("Hi {name}!", Value::Null), Code::MissingField, "");
    assert!(m.contains("text uses {name} but substitution has no \"name\"; LINE needs a mention or emoji for every {key}"), "{m}");
    // Each missing key once, at the substitution.
    one(v2("{a} {b} {b}", json!({"a": mention})), Code::MissingField, "/substitution");
    for lone in ["Hi {name", "Hi name}", "{a {b}", "}{"] {
        let m = one(v2(lone, json!({"b": mention, "name": mention})), Code::InvalidValue, "/text");
        assert!(m.contains("lone brace"), "{lone}: {m}");
    }
    let m = one(v2("{user-1}", json!({"user-1": mention})), Code::InvalidValue, "/substitution/user-1");
    assert!(m.contains("substitution key \"user-1\" must be at most 20 of a-z, A-Z, 0-9 and _"), "{m}");
    let long = "k".repeat(21);
    one(v2(&format!("{{{long}}}"), json!({long.clone(): mention})), Code::InvalidValue, &format!("/substitution/{long}"));
    assert_eq!(problems(v2(&format!("{{{}}}", &long[1..]), json!({&long[1..]: mention}))), []);
    let many: serde_json::Map<String, Value> = (0..101).map(|i| (format!("k{i}"), mention.clone())).collect();
    one(v2("hi", Value::Object(many)), Code::LimitExceeded, "/substitution");
    // A templated text is checked once rendered.
    let e = Engine::from_json(&config(json!([v2("{{ user.attributes.greeting }} {x}", json!({"x": mention}))]))).unwrap();
    let render = |greeting: &str| render_for(&e, json!({"greeting": greeting}));
    let ok = render("Hello");
    assert!(ok.errors.is_empty() && ok.messages.len() == 1, "{:?}", ok.errors);
    // What the template outputs is data: its braces are doubled, never a placeholder.
    let data = render("{oops}");
    assert!(data.errors.is_empty() && data.messages[0].get().contains(r#""text":"{{oops}} {x}""#), "{:?}", data.errors);
    // A placeholder written in a templated text without its substitution: found once rendered.
    let e = Engine::from_json(&config(json!([v2("{{ user.attributes.greeting }} {x} {y}", json!({"x": mention}))]))).unwrap();
    let bad = render_for(&e, json!({"greeting": "Hi"}));
    assert!(bad.messages.is_empty(), "nothing is sent");
    assert_eq!(bad.errors.iter().map(|e| (e.code, e.path.clone())).collect::<Vec<_>>(), [(Code::MissingField, format!("{M}/substitution"))]);
    assert!(bad.errors[0].message.contains("after rendering, text uses {y}"), "{}", bad.errors[0].message);
}

// ---- Data-driven lists: `$for` and `$if` elements ----------------------------------------

/// A product carousel: one bubble per recommended item, at most 10, with the item's fields,
/// `forloop` and the user's own data in each.
fn product_carousel() -> Value {
    json!({"type": "flex", "altText": "{{ user.displayName }}様へのおすすめ", "contents": {"type": "carousel", "contents": [
        {"$for": "item in user.attributes.recommended limit: 10", "$each": {"type": "bubble",
            "hero": {"$if": {"var": "item.image"}, "$then": {"type": "image", "url": "{{ item.image }}", "size": "full"}},
            "body": {"type": "box", "layout": "vertical", "contents": [
                {"type": "text", "text": "{{ forloop.index }}/{{ forloop.length }} {{ item.name }}", "weight": "bold"},
                {"type": "text", "text": "{{ item.price | yen }}"},
                {"$if": {">": [{"var": "item.discount"}, 0]}, "$then": {"type": "text", "text": "{{ item.discount }}%OFF", "color": "#ff0000"}}]},
            "footer": {"type": "box", "layout": "vertical", "contents": [
                {"type": "button", "action": {"type": "uri", "label": "見る", "uri": "https://example.com/p/{{ item.sku }}?u={{ user.userId }}"}}]}}},
        {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "もっと見る"}]}}]}})
}

/// The first rendered message, parsed (so its JSON is valid).
fn first(d: &kizuna::Decision) -> Value {
    serde_json::from_str(d.messages.first().unwrap_or_else(|| panic!("no message: {:?}", d.errors)).get()).unwrap()
}

fn item(i: usize) -> Value {
    let mut it = json!({"sku": format!("P{i}"), "name": format!("商品{i}"), "price": 1000 * (i + 1)});
    if i % 2 == 0 {
        it["discount"] = json!(10);
        it["image"] = json!(format!("https://example.com/p{i}.png"));
    }
    it
}

#[test]
fn a_for_writes_one_element_per_item_of_a_list() {
    let e = Engine::from_json(&config(json!([product_carousel()]))).unwrap();
    let d = render_for(&e, json!({"recommended": (0..3).map(item).collect::<Vec<_>>()}));
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    let m = first(&d);
    let bubbles = m["contents"]["contents"].as_array().unwrap();
    assert_eq!(bubbles.len(), 4, "three items and the fixed last bubble");
    let texts = |b: &Value| b["body"]["contents"].as_array().unwrap().iter().map(|t| t["text"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(texts(&bubbles[0]), ["1/3 商品0", "¥1,000", "10%OFF"]);
    assert_eq!(texts(&bubbles[1]), ["2/3 商品1", "¥2,000"], "no discount, no badge");
    assert_eq!(bubbles[0]["hero"]["url"], "https://example.com/p0.png");
    assert!(bubbles[1].get("hero").is_none(), "an $if member that fails leaves the member out");
    assert_eq!(bubbles[2]["footer"]["contents"][0]["action"]["uri"], "https://example.com/p/P2?u=U1");
    assert_eq!(texts(&bubbles[3]), ["もっと見る"]);
    // The limit cuts the list (LINE's 12 bubbles: 10 + the fixed one); offset and reversed.
    let d = render_for(&e, json!({"recommended": (0..15).map(item).collect::<Vec<_>>()}));
    assert_eq!(first(&d)["contents"]["contents"].as_array().unwrap().len(), 11, "{:?}", d.errors);
    let e2 = Engine::from_json(&config(json!([{"type": "text", "text": "x", "quickReply": {"items": [
        {"$for": "p in user.attributes.recommended offset: 1 limit: 2 reversed", "$each": {"type": "action", "action": {"type": "message", "label": "{{ p.name }}", "text": "{{ p.sku }}"}}}]}}]))).unwrap();
    let d = render_for(&e2, json!({"recommended": (0..5).map(item).collect::<Vec<_>>()}));
    let m = first(&d);
    let labels: Vec<&str> = m["quickReply"]["items"].as_array().unwrap().iter().map(|i| i["action"]["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["商品2", "商品1"]);
}

#[test]
fn a_carousel_left_empty_by_its_data_is_an_error_not_a_refused_message() {
    let e = Engine::from_json(&config(json!([{"type": "flex", "altText": "alt", "contents": {"type": "carousel", "contents": [
        {"$for": "item in user.attributes.recommended limit: 12", "$each": {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "{{ item.name }}"}]}}}]}}]))).unwrap();
    for attributes in [json!({}), json!({"recommended": []}), json!({"recommended": null})] {
        let d = render_for(&e, attributes);
        assert!(d.messages.is_empty(), "nothing is sent");
        let got: Vec<(Code, &str)> = d.errors.iter().map(|e| (e.code, e.path.as_str())).collect();
        let at = format!("{M}/contents/contents");
        assert_eq!(got, [(Code::LimitExceeded, at.as_str())]);
        assert!(d.errors[0].message.contains("after rendering, a flex carousel needs at least 1 bubble, found 0"), "{}", d.errors[0].message);
    }
    // Not a list: said, with the path.
    let d = render_for(&e, json!({"recommended": "lotion"}));
    assert_eq!(d.errors.iter().map(|e| (e.code, e.path.clone())).collect::<Vec<_>>(), [(Code::TemplateRender, format!("{M}/contents/contents/0/$for"))]);
    assert!(d.errors[0].message.contains("user.attributes.recommended is not one for this user (found JSON string)"), "{}", d.errors[0].message);
}

#[test]
fn a_quick_reply_left_empty_by_its_data_is_left_out() {
    let button = json!({"$for": "p in user.attributes.recommended limit: 12", "$each": {"type": "action", "action": {"type": "message", "label": "{{ p.name }}", "text": "{{ p.sku }}"}}});
    let optional = json!({"$if": {"var": "user.attributes.vip"}, "$then": {"type": "action", "action": {"type": "message", "label": "VIP", "text": "vip"}}});
    // The quick reply first, last and alone among the message's members.
    for message in [
        json!({"quickReply": {"items": [button, optional]}, "type": "text", "text": "x"}),
        json!({"type": "text", "text": "x", "quickReply": {"items": [button, optional]}}),
        json!({"type": "text", "quickReply": {"items": [button, optional]}, "text": "x"}),
    ] {
        let e = Engine::from_json(&config(json!([message]))).unwrap();
        for attributes in [json!({}), json!({"recommended": []}), json!({"vip": false})] {
            let d = render_for(&e, attributes);
            assert!(d.errors.is_empty(), "{:?}", d.errors);
            assert_eq!(first(&d), json!({"type": "text", "text": "x"}));
        }
        let d = render_for(&e, json!({"recommended": [item(1)], "vip": true}));
        let labels: Vec<String> = first(&d)["quickReply"]["items"].as_array().unwrap().iter().map(|i| i["action"]["label"].as_str().unwrap().to_string()).collect();
        assert_eq!(labels, ["商品1", "VIP"]);
    }
    // Written empty in the config, a quick reply is refused (leave it out instead).
    let m = one(json!({"type": "text", "text": "x", "quickReply": {"items": []}}), Code::LimitExceeded, "/quickReply/items");
    assert!(m.contains("needs at least 1 button, found 0"), "{m}");
    // Text that reads like an empty quick reply stays as written.
    let e = Engine::from_json(&config(json!([{"type": "text", "text": "\"quickReply\":{\"items\":[]}{{ user.attributes.x }}", "quickReply": {"items": [button]}}]))).unwrap();
    let d = render_for(&e, json!({"x": 1}));
    assert_eq!(first(&d), json!({"type": "text", "text": "\"quickReply\":{\"items\":[]}1"}));
}

#[test]
fn a_template_error_inside_a_for_is_reported_once() {
    let e = Engine::from_json(&config(json!([body(json!([
        {"$for": "p in user.attributes.recommended limit: 5", "$each": {"type": "text", "text": "{{ p.price | divided_by: 0 }}"}}]))]))).unwrap();
    let d = render_for(&e, json!({"recommended": (0..5).map(item).collect::<Vec<_>>()}));
    assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
    assert_eq!(d.errors[0].path, format!("{M}/contents/body/contents/0/$each/text"));
}

#[test]
fn if_elements_keep_the_json_valid_wherever_they_fall() {
    // First, middle and last elements and members optional: commas are written as needed.
    let e = Engine::from_json(&config(json!([body(json!([
        {"$if": {"var": "user.attributes.a"}, "$then": {"type": "text", "text": "a"}},
        {"type": "text", "text": "b"},
        {"$if": {"var": "user.attributes.c"}, "$then": {"type": "text", "text": "c"}},
        {"$if": {"var": "user.attributes.d"}, "$then": {"type": "text", "text": "d", "color": {"$if": {"var": "user.attributes.red"}, "$then": "#ff0000"}}}]))]))).unwrap();
    for (a, c, d, red) in [(false, false, false, false), (true, true, true, true), (true, false, true, false), (false, true, false, true)] {
        let out = render_for(&e, json!({"a": a, "c": c, "d": d, "red": red}));
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let m = first(&out);
        let contents = m["contents"]["body"]["contents"].as_array().unwrap();
        let want: Vec<&str> = [(a, "a"), (true, "b"), (c, "c"), (d, "d")].iter().filter(|(on, _)| *on).map(|(_, t)| *t).collect();
        assert_eq!(contents.iter().map(|t| t["text"].as_str().unwrap()).collect::<Vec<_>>(), want);
        if d {
            assert_eq!(contents.last().unwrap().get("color").is_some(), red);
        }
    }
}

#[test]
fn for_and_if_mistakes_are_compile_errors_at_their_paths() {
    let carousel = |elements: Value| json!({"type": "flex", "altText": "alt", "contents": {"type": "carousel", "contents": elements}});
    let bubble = json!({"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "{{ item.name }}"}]}});
    // LINE's count, with each $for counted at its limit.
    let m = one(carousel(json!([{"$for": "item in user.attributes.recommended", "$each": bubble}])), Code::LimitExceeded, "/contents/contents");
    assert!(m.contains("give each \"$for\" in this list a limit (\"… limit: 12\")"), "{m}");
    let m = one(carousel(json!([{"$for": "item in user.attributes.recommended limit: 10", "$each": bubble}, bubble, bubble, bubble])), Code::LimitExceeded, "/contents/contents");
    assert!(m.contains("takes at most 12 bubbles, and this list can write 13"), "{m}");
    // Animated images count at the most a $for writes too.
    let animated = json!({"type": "bubble", "hero": {"type": "image", "url": "https://example.com/a.png", "animated": true}});
    let m = one(carousel(json!([{"$for": "item in user.attributes.recommended limit: 11", "$each": animated}])), Code::LimitExceeded, "");
    assert!(m.contains("at most 10 animated images (\"animated\": true), found 11"), "{m}");
    // The header, the element's fields, its place.
    let m = one(carousel(json!([{"$for": "item of user.attributes.recommended limit: 3", "$each": bubble}])), Code::InvalidValue, "/contents/contents/0/$for");
    assert!(m.contains("is not a loop; write it as Liquid's for"), "{m}");
    let m = one(carousel(json!([{"$for": "item in user.attributes.recommended | sort limit: 3", "$each": bubble}])), Code::InvalidValue, "/contents/contents/0/$for");
    assert!(m.contains("limit: 3") || m.contains("not an option"), "{m}");
    let m = one(carousel(json!([{"$for": "item in user.attributes.recommended limit: 3", "$eachh": bubble}])), Code::InvalidValue, "/contents/contents/0");
    assert!(m.contains("unknown field \"$eachh\" in a \"$for\" element"), "{m}");
    let m = one(json!({"type": "text", "text": "x", "quickReply": {"$for": "i in user.tags limit: 3", "$each": {}}}), Code::InvalidValue, "/quickReply");
    assert!(m.contains("goes inside a list"), "{m}");
    // The element written is checked as LINE's object it is, at its path under the element.
    let p = problems(carousel(json!([{"$for": "item in user.attributes.recommended limit: 3", "$each": {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "txet": "{{ item.name }}"}]}}}])));
    let at = format!("{M}/contents/contents/0/$each/body/contents/0");
    assert_eq!(p.iter().map(|(c, at, _)| (*c, at.clone())).collect::<Vec<_>>(), [(Code::MissingField, at.clone()), (Code::UnknownField, format!("{at}/txet"))], "{p:#?}");
    assert!(p[1].2.contains("did you mean \"text\""), "{}", p[1].2);
    // An $if condition is JsonLogic, compiled with the config.
    let p = problems(body(json!([{"$if": {"frobnicate": [1]}, "$then": {"type": "text", "text": "a"}}])));
    assert_eq!(p.iter().map(|(c, at, _)| (*c, at.clone())).collect::<Vec<_>>(), [(Code::UnknownOperator, format!("{M}/contents/body/contents/0/$if"))], "{p:?}");
}

#[test]
fn check_reads_paths_inside_for_elements_from_the_list_items() {
    let e = Engine::from_json(&config(json!([body(json!([
        {"$for": "p in user.purchases limit: 5", "$each": {"type": "text", "text": "{{ forloop.index }}. {{ p.skuu }} {{ p.amount }} {{ user.displayName }}"}},
        {"$for": "x in user.purchase limit: 5", "$each": {"type": "text", "text": "{{ x.anything }}"}},
        {"$for": "p in user.purchases limit: 5", "$each": {"$if": {"==": [{"var": "p.categroy"}, "lotion"]}, "$then": {"type": "text", "text": "refill"}}},
        // A list in an outer loop's item: its path is checked through that item.
        {"$for": "p in user.purchases limit: 2", "$each": {"type": "box", "layout": "vertical", "contents": [
            {"$for": "line in p.lines limit: 2", "$each": {"type": "text", "text": "{{ line.name }} {{ p.sku }}"}}]}}]))]))).unwrap();
    let w: Vec<(String, String)> = e.warnings().into_iter().map(|w| (w.path, w.message)).collect();
    let at = |s: &str| format!("{M}/contents/body/contents/{s}");
    let paths: Vec<&str> = w.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, [at("0/$each/text"), at("1/$for"), at("2/$each/$if/==/0"), at("3/$each/contents/0/$for")], "{w:#?}");
    assert!(w[3].1.contains("an item of user.purchases has no field \"lines\""), "{}", w[3].1);
    assert!(w[0].1.contains("skuu") && w[0].1.contains("\"sku\""), "{}", w[0].1);
    assert!(w[1].1.contains("purchase"), "{}", w[1].1);
    assert!(w[2].1.contains("categroy"), "{}", w[2].1);
}

#[test]
fn errors_found_once_rendered_point_into_the_config_through_for_and_if() {
    let at = |d: &kizuna::Decision| d.errors.iter().map(|e| (e.path.clone(), e.message.clone())).collect::<Vec<_>>();
    // Item 3 of a list whose only element is a $for: its $each.
    let e = Engine::from_json(&config(json!([flex(json!({"type": "carousel", "contents": [
        {"$for": "item in user.attributes.recs limit: 5", "$each": {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [
            {"type": "text", "text": "x", "size": "{{ item.size }}"}]}}}]}))]))).unwrap();
    let got = at(&render_for(&e, json!({"recs": [{"size": "md"}, {"size": "md"}, {"size": "huge"}]})));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, format!("{M}/contents/contents/0/$each/body/contents/0/size"));
    assert!(got[0].1.contains("\"huge\"") && got[0].1.ends_with("(element 3 of the list as rendered, written by its \"$for\")"), "{}", got[0].1);
    // Beside other elements the rendered index says nothing of the config's: the list, and where.
    let e = Engine::from_json(&config(json!([body(json!([
        {"$if": {"var": "user.attributes.a"}, "$then": {"type": "text", "text": "a"}},
        {"type": "text", "text": "b", "size": "{{ user.attributes.s }}"}]))]))).unwrap();
    let got = at(&render_for(&e, json!({"a": false, "s": "huge"})));
    assert_eq!(got[0].0, format!("{M}/contents/body/contents"));
    assert!(got[0].1.contains("(at /0/size of the list as rendered"), "{}", got[0].1);
    // An $if member is its $then.
    let e = Engine::from_json(&config(json!([flex(json!({"type": "bubble",
        "hero": {"$if": true, "$then": {"type": "image", "url": "https://example.com/a.png", "size": "{{ user.attributes.s }}"}}}))]))).unwrap();
    let got = at(&render_for(&e, json!({"s": "huge"})));
    assert_eq!(got[0].0, format!("{M}/contents/hero/$then/size"), "{got:?}");
}

#[test]
fn if_members_nest_and_go_wherever_a_member_does() {
    // In a textV2 substitution (an optional mention), and an $if in an $if.
    let mention = json!({"type": "mention", "mentionee": {"type": "user", "userId": "U49585cd0d5e5b4e9c3b8b8e0a5a5a5a5"}});
    let e = Engine::from_json(&config(json!([{"type": "textV2", "text": "Hi {me}", "substitution": {"me": {"$if": {"var": "user.attributes.on"}, "$then": mention}}}]))).unwrap();
    assert_eq!(first(&render_for(&e, json!({"on": true})))["substitution"]["me"]["type"], "mention");
    let off = render_for(&e, json!({"on": false}));
    assert!(off.messages.is_empty() && off.errors[0].message.contains("after rendering"), "a placeholder without its substitution: {:?}", off.errors);
    let e = Engine::from_json(&config(json!([body(json!([{"type": "text", "text": "a",
        "color": {"$if": {"var": "user.attributes.a"}, "$then": {"$if": {"var": "user.attributes.b"}, "$then": "#ff0000"}}}]))]))).unwrap();
    for (a, b) in [(true, true), (true, false), (false, true)] {
        let m = first(&render_for(&e, json!({"a": a, "b": b})));
        assert_eq!(m["contents"]["body"]["contents"][0].get("color").is_some(), a && b);
    }
}

#[test]
fn a_textv2_text_written_by_an_if_keeps_user_data_out_of_its_placeholders() {
    let mention = json!({"type": "mention", "mentionee": {"type": "user", "userId": "U49585cd0d5e5b4e9c3b8b8e0a5a5a5a5"}});
    for text in [json!("Hi {{ user.attributes.name }} {me}"), json!({"$if": true, "$then": "Hi {{ user.attributes.name }} {me}"})] {
        let e = Engine::from_json(&config(json!([{"type": "textV2", "text": text, "substitution": {"me": mention}}]))).unwrap();
        assert_eq!(first(&render_for(&e, json!({"name": "{me}"})))["text"], "Hi {{me}} {me}", "a name holding braces is text, never a mention");
    }
}

#[test]
fn a_message_the_data_would_make_huge_stops_early_with_an_error() {
    // Loops in loops over a long list: no limit is needed in a box, but the message stops
    // growing past what LINE takes, fast.
    let e = Engine::from_json(&config(json!([body(json!([{"$for": "i in user.attributes.l", "$each": {"type": "box", "layout": "vertical", "contents": [
        {"$for": "j in user.attributes.l", "$each": {"type": "text", "text": "{{ i }}-{{ j }}"}}]}}]))]))).unwrap();
    let d = render_for(&e, json!({"l": (0..3000).collect::<Vec<_>>()}));
    assert!(d.messages.is_empty());
    assert_eq!(d.errors.iter().map(|e| (e.code, e.path.as_str())).collect::<Vec<_>>()[..1], [(Code::LimitExceeded, format!("{M}/contents/body/contents/0/$each/contents/0/$for").as_str())], "{:?}", d.errors);
    assert!(d.errors[0].message.contains("past 256 KB of JSON"), "{}", d.errors[0].message);
    // A long message LINE takes is written whole: an imagemap of 50 long texts from a $for.
    let e = Engine::from_json(&config(json!([{"type": "imagemap", "baseUrl": "https://example.com/im", "altText": "alt", "baseSize": {"width": 1040, "height": 1040}, "actions": [
        {"$for": "t in user.attributes.texts limit: 50", "$each": {"type": "message", "text": "{{ t }}", "area": {"x": 0, "y": 0, "width": 10, "height": 10}}}]}]))).unwrap();
    let d = render_for(&e, json!({"texts": vec!["あ\u{1}".repeat(199); 50]}));
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    assert!(d.messages[0].get().len() > 64_000, "{}", d.messages[0].get().len());
}

#[test]
fn loop_headers_say_what_is_wrong_with_the_word_at_fault() {
    let header = |h: &str| problems(body(json!([{"$for": h, "$each": {"type": "text", "text": "x"}}]))).into_iter().map(|(_, _, m)| m).collect::<Vec<_>>().join("\n");
    assert_eq!(header("i in user.tags limit:3 offset: 1, reversed"), "");
    assert_eq!(header("i in user.tags limit : 3"), "");
    assert!(header("i in user.tags limit: 3 limit: 4").contains("\"limit\" is given twice"));
    assert!(header("i in user.tags reversed: 1").contains("\"reversed\" takes no value"));
    assert!(header("i in user.tags reversedoffset: 1").contains("\"reversedoffset\" is not an option"), "{}", header("i in user.tags reversedoffset: 1"));
    assert!(header("i in user.tags limit: 1.5").contains("\"limit\" needs a whole number, found \"1.5\""));
    assert!(header("i in user.tags limit: 0").contains("\"limit: 0\" writes nothing"));
    assert!(header("user in user.tags").contains("\"user\" cannot name the item (it would hide the data's own \"user\""));
    // A message is not an element.
    let m = one(json!({"$for": "i in user.tags limit: 2", "$each": {"type": "text", "text": "x"}}), Code::InvalidValue, "");
    assert!(m.contains("goes inside a message"), "{m}");
}

/// Found by review (review-content20): what LINE refuses with 400 that the shapes let through.
#[test]
fn labels_where_line_shows_them() {
    let uri = json!({"type": "uri", "uri": "https://example.com"});
    let m = one(body(json!([{"type": "button", "action": uri}])), Code::MissingField, "/contents/body/contents/0/action");
    assert!(m.ends_with("a uri action here needs \"label\": LINE shows it on the button"), "{m}");
    one(json!({"type": "text", "text": "a", "quickReply": {"items": [{"type": "action", "action": {"type": "message", "text": "hi"}}]}}), Code::MissingField, "/quickReply/items/0/action");
    one(json!({"type": "template", "altText": "a", "template": {"type": "confirm", "text": "ok?", "actions": [
        {"type": "message", "text": "yes"}, {"type": "message", "label": "no", "text": "no"}]}}), Code::MissingField, "/template/actions/0");
    // Optional where nothing shows it: a tappable box, a default action, an image carousel column.
    assert_eq!(problems(body(json!([{"type": "box", "layout": "vertical", "action": uri, "contents": [{"type": "text", "text": "x"}]}]))), []);
    assert_eq!(problems(json!({"type": "template", "altText": "a", "template": {"type": "buttons", "text": "t", "defaultAction": uri,
        "actions": [{"type": "uri", "label": "open", "uri": "https://example.com"}]}})), []);
    assert_eq!(problems(json!({"type": "template", "altText": "a", "template": {"type": "image_carousel", "columns": [
        {"imageUrl": "https://example.com/a.png", "action": uri}]}})), []);
}

#[test]
fn each_line_emoji_stands_at_a_dollar_of_the_text() {
    let emoji = |index: u32| json!({"index": index, "productId": "5ac1bfd5040ab15980c9b435", "emojiId": "001"});
    // UTF-16 units: 😀 counts 2, so the last $ is at 10.
    assert_eq!(problems(json!({"type": "text", "text": "hello $ 😀$", "emojis": [emoji(6), emoji(10)]})), []);
    let m = one(json!({"type": "text", "text": "hello $ 😀$", "emojis": [emoji(6), emoji(9)]}), Code::InvalidValue, "/emojis/1/index");
    assert!(m.contains("index 9 is not a $ in the text"), "{m}");
    // A templated text: the $ moves with the name, checked once rendered.
    let e = Engine::from_json(&config(json!([{"type": "text", "text": "{{ user.attributes.name }}さん$", "emojis": [emoji(4)]}]))).unwrap();
    assert!(render_for(&e, json!({"name": "美咲"})).errors.is_empty());
    let d = render_for(&e, json!({"name": "お客様"}));
    assert_eq!(d.errors.iter().map(|e| (e.code, e.path.as_str())).collect::<Vec<_>>(), [(Code::InvalidValue, format!("{M}/emojis/0/index").as_str())]);
    assert!(d.messages.is_empty() && d.errors[0].message.contains("after rendering, index 4 is not a $") && d.errors[0].message.contains("textV2"), "{}", d.errors[0].message);
    // Found by review (review-diff20): a name that looks like a template is still checked.
    assert_eq!(render_for(&e, json!({"name": "{{x}}"})).errors.len(), 1);
    // An index as a string, negative or fractional.
    let with = |index: Value| json!({"type": "text", "text": "hello $ 😀$", "emojis": [{"index": index, "productId": "5ac1bfd5040ab15980c9b435", "emojiId": "001"}]});
    assert_eq!(problems(with(json!("6"))), []);
    one(with(json!("9")), Code::InvalidValue, "/emojis/0/index");
    for bad in [json!(-1), json!(1.5)] {
        let m = one(with(bad.clone()), Code::InvalidValue, "/emojis/0/index");
        assert!(m.contains("is not a position in the text: a whole number from 0"), "{bad}: {m}");
    }
    // A templated index: checked once rendered.
    let e = Engine::from_json(&config(json!([{"type": "text", "text": "$ hi", "emojis": [{"index": "{{ user.attributes.n }}", "productId": "5ac1bfd5040ab15980c9b435", "emojiId": "001"}]}]))).unwrap();
    assert!(render_for(&e, json!({"n": 0})).errors.is_empty());
    let d = render_for(&e, json!({"n": 3}));
    assert_eq!(d.errors.iter().map(|e| (e.code, e.path.as_str())).collect::<Vec<_>>(), [(Code::InvalidValue, format!("{M}/emojis/0/index").as_str())]);
}

#[test]
fn a_flex_text_is_never_empty() {
    let m = one(body(json!([{"type": "text", "text": ""}])), Code::LimitExceeded, "/contents/body/contents/0/text");
    assert!(m.ends_with("text is empty; LINE needs some text"), "{m}");
    one(body(json!([{"type": "text", "contents": [{"type": "span", "text": ""}]}])), Code::LimitExceeded, "/contents/body/contents/0/contents/0/text");
    let e = Engine::from_json(&config(json!([body(json!([{"type": "text", "text": "{{ user.attributes.coupon }}"}]))]))).unwrap();
    let d = render_for(&e, json!({}));
    assert!(d.messages.is_empty(), "nothing is sent");
    assert!(d.errors.iter().any(|e| e.message.ends_with("text is empty after rendering; LINE needs some text (give the template a default)")), "{:?}", d.errors);
    assert!(render_for(&e, json!({"coupon": "WELCOME10"})).errors.is_empty());
}

#[test]
fn location_texts_and_media_urls_have_lines_limits() {
    let m = one(json!({"type": "location", "title": "あ".repeat(101), "address": "x", "latitude": 35.6, "longitude": 139.7}), Code::LimitExceeded, "/title");
    assert!(m.contains("title has 101 characters") && m.ends_with("LINE allows 100"), "{m}");
    one(json!({"type": "location", "title": "t", "address": "あ".repeat(101), "latitude": 35.6, "longitude": 139.7}), Code::LimitExceeded, "/address");
    // A coupon's delivery tag: 30 characters (LINE's OpenAPI, `CouponMessage.deliveryTag`).
    let coupon = |tag: String| json!({"type": "coupon", "couponId": "01JYNW8JMQVFBNPSQZ7Q5CRGSR", "deliveryTag": tag});
    assert_eq!(problems(coupon("t".repeat(30))), []);
    let m = one(coupon("t".repeat(31)), Code::LimitExceeded, "/deliveryTag");
    assert!(m.contains("deliveryTag has 31 characters"), "{m}");
    let long = format!("https://example.com/a.png?u={}", "x".repeat(2000));
    one(json!({"type": "image", "originalContentUrl": long, "previewImageUrl": "https://example.com/p.png"}), Code::LimitExceeded, "/originalContentUrl");
    one(body(json!([{"type": "image", "url": long}])), Code::LimitExceeded, "/contents/body/contents/0/url");
    // A templated URL carrying tracking parameters: after rendering.
    let e = Engine::from_json(&config(json!([{"type": "image", "originalContentUrl": "https://example.com/a.png?u={{ user.attributes.t }}", "previewImageUrl": "https://example.com/p.png"}]))).unwrap();
    let d = render_for(&e, json!({"t": "x".repeat(2000)}));
    assert_eq!(d.errors.iter().map(|e| (e.code, e.path.as_str())).collect::<Vec<_>>(), [(Code::LimitExceeded, format!("{M}/originalContentUrl").as_str())]);
    // An empty URL is one problem, the URL's.
    let p = problems(json!({"type": "image", "originalContentUrl": "", "previewImageUrl": "https://example.com/p.png"}));
    assert_eq!(p.iter().map(|(c, at, _)| (*c, at.as_str())).collect::<Vec<_>>(), [(Code::InvalidValue, format!("{M}/originalContentUrl").as_str())]);
}

/// review-content20 R1: a display name written into a URL without `url_encode` puts a space in
/// it, which no URL holds (LINE answers "invalid uri"); said with the fix.
#[test]
fn a_url_holds_no_space() {
    let e = Engine::from_json(&config(json!([body(json!([
        {"type": "button", "action": {"type": "uri", "label": "open", "uri": "https://shop.example.jp/?n={{ user.attributes.name }}"}},
        {"type": "button", "action": {"type": "uri", "label": "ok", "uri": "https://shop.example.jp/?n={{ user.attributes.name | url_encode }}"}}]))]))).unwrap();
    let d = render_for(&e, json!({"name": "佐藤 美咲"}));
    assert_eq!(d.errors.iter().map(|e| (e.code, e.path.as_str())).collect::<Vec<_>>(), [(Code::InvalidValue, format!("{M}/contents/body/contents/0/action/uri").as_str())]);
    assert!(d.errors[0].message.ends_with("uri has a space at character 30 after rendering; a URL holds none: encode what a template writes into it with | url_encode"), "{}", d.errors[0].message);
    assert!(render_for(&e, json!({"name": "佐藤美咲"})).errors.is_empty(), "non-ASCII without a space is not refused here (no LINE reference says it is refused)");
    let m = one(json!({"type": "image", "originalContentUrl": "https://example.com/a b.png", "previewImageUrl": "https://example.com/p.png"}), Code::InvalidValue, "/originalContentUrl");
    assert!(m.contains("originalContentUrl has a space at character 22"), "{m}");
    assert_eq!(problems(json!({"type": "text", "text": "a", "quickReply": {"items": [{"type": "action", "action": {"type": "uri", "label": "call", "uri": "tel:03 1234 5678"}}]}})), [], "tel: is LINE's to read");
}
