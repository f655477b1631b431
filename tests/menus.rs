//! Rich menus: config checks with their paths, link / unlink / none against the user's
//! current menu (tabs and richmenuswitch taps included), and bulk batching for LINE.

use kizuna::contract::{MenuAction, RichMenuChoice};
use kizuna::engine::{bulk_requests, bulk_requests_json};
use kizuna::{Code, DecideOptions, Decision, Engine};
use serde_json::{json, Value};

const NOW: &str = "2026-11-27T10:30:00+09:00";

fn rid(n: u32) -> String {
    format!("richmenu-{n:032x}")
}

fn config(rich_menus: Value) -> Value {
    json!({
        "version": 1,
        "segments": [
            {"id": "vip", "when": {"has_tag": "vip"}},
            {"id": "buyer", "when": {"var": "user.purchases.0"}}
        ],
        "richMenus": rich_menus
    })
}

fn menus() -> Value {
    json!({
        "menus": [
            {"id": "vip", "richMenuId": rid(1), "aliases": {"vip-home": rid(1), "vip-perks": rid(2)},
             "definition": {"size": {"width": 2500, "height": 1686}, "selected": false, "name": "vip", "chatBarText": "VIP",
                "areas": [
                    {"bounds": {"x": 0, "y": 0, "width": 1250, "height": 200}, "action": {"type": "richmenuswitch", "richMenuAliasId": "vip-home", "data": "home"}},
                    {"bounds": {"x": 1250, "y": 0, "width": 1250, "height": 200}, "action": {"type": "richmenuswitch", "richMenuAliasId": "vip-perks", "data": "perks"}}
                ]}},
            {"id": "buyer", "richMenuId": rid(3)},
            {"id": "night", "richMenuId": rid(4)},
            {"id": "guest", "richMenuId": rid(5)}
        ],
        "rules": [
            {"segment": "vip", "menu": "vip"},
            {"when": {">=": [{"time_of_day": []}, "22:00"]}, "menu": "night"},
            {"segment": "buyer", "menu": "buyer"}
        ],
        "default": "guest"
    })
}

fn engine(rich_menus: Value) -> Engine {
    Engine::compile(&config(rich_menus).to_string()).unwrap()
}

fn errors(rich_menus: Value) -> Vec<(Code, String)> {
    Engine::compile(&config(rich_menus).to_string()).unwrap_err().into_iter().map(|e| (e.code, e.path)).collect()
}

/// `errs` are exactly the `expect`ed (code, path) pairs, in any order.
fn assert_exactly(errs: &[(Code, String)], expect: &[(Code, &str)]) {
    for &(code, path) in expect {
        assert!(errs.contains(&(code, path.to_string())), "missing {code:?} at {path}; got {errs:#?}");
    }
    assert_eq!(errs.len(), expect.len(), "{errs:#?}");
}

fn choice(e: &Engine, user: Value, event: Option<Value>, now: &str) -> RichMenuChoice {
    let mut ctx = json!({"now": now, "user": user});
    if let Some(ev) = event {
        ctx["event"] = ev;
    }
    let d = e.decide(&ctx.to_string(), DecideOptions::default()).unwrap();
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    d.rich_menu.expect("the config has rich menus")
}

#[test]
fn first_matching_rule_links_its_menu_with_the_reason() {
    let e = engine(menus());
    let c = choice(&e, json!({"userId": "U1", "tags": ["vip"]}), None, NOW);
    assert_eq!(c.action, MenuAction::Link);
    assert_eq!(c.menu.as_deref(), Some("vip"));
    assert_eq!(c.rich_menu_id, Some(rid(1)));
    assert_eq!(c.reason.rule, Some(0));
    assert_eq!(c.reason.segment.as_deref(), Some("vip"));
    // A condition rule: no segment in the reason.
    let c = choice(&e, json!({"userId": "U1"}), None, "2026-11-27T23:00:00+09:00");
    assert_eq!((c.menu.as_deref(), c.reason.rule, c.reason.segment), (Some("night"), Some(1), None));
    // Nothing matches: the default.
    let c = choice(&e, json!({"userId": "U1"}), None, NOW);
    assert_eq!((c.action, c.menu.as_deref(), c.reason.default), (MenuAction::Link, Some("guest"), true));
}

#[test]
fn unchanged_menu_or_one_of_its_tabs_means_no_call() {
    let e = engine(menus());
    let buyer = json!({"userId": "U1", "purchases": [{"sku": "A", "amount": 1, "at": "2026-11-01T00:00:00Z"}], "richMenuId": rid(3)});
    let c = choice(&e, buyer, None, NOW);
    assert_eq!(c.action, MenuAction::None);
    assert_eq!(c.current, Some(rid(3)));
    // On the VIP menu's second tab: still the VIP menu.
    let c = choice(&e, json!({"userId": "U1", "tags": ["vip"], "richMenuId": rid(2)}), None, NOW);
    assert_eq!(c.action, MenuAction::None);
    // A different menu: link.
    let c = choice(&e, json!({"userId": "U1", "tags": ["vip"], "richMenuId": rid(3)}), None, NOW);
    assert_eq!((c.action, c.current), (MenuAction::Link, Some(rid(3))));
}

#[test]
fn a_richmenuswitch_tap_is_the_current_menu() {
    let e = engine(menus());
    let tap = |alias: &str| {
        json!({"type": "postback", "timestamp": 1, "source": {"type": "user", "userId": "U1"}, "webhookEventId": "01X",
               "postback": {"data": "perks", "params": {"newRichMenuAliasId": alias, "status": "SUCCESS"}}})
    };
    // The stored state still says tab 1; LINE already switched to the perks tab.
    let c = choice(&e, json!({"userId": "U1", "tags": ["vip"], "richMenuId": rid(1)}), Some(tap("vip-perks")), NOW);
    assert_eq!((c.action, c.current), (MenuAction::None, Some(rid(2))));
    // A non-VIP tapping an old VIP tab is moved back to their menu.
    let c = choice(&e, json!({"userId": "U1", "richMenuId": rid(5)}), Some(tap("vip-perks")), NOW);
    assert_eq!((c.action, c.menu.as_deref(), c.current), (MenuAction::Link, Some("guest"), Some(rid(2))));
    // An alias kizuna does not manage: the user is on a menu of someone else's; link again.
    let c = choice(&e, json!({"userId": "U1", "richMenuId": rid(5)}), Some(tap("gone")), NOW);
    assert_eq!((c.action, c.current), (MenuAction::Link, None));
    // A switch LINE reports as failed changed nothing: the stored menu stands.
    let mut failed = tap("vip-perks");
    failed["postback"]["params"]["status"] = json!("RICHMENU_NOTFOUND");
    let c = choice(&e, json!({"userId": "U1", "richMenuId": rid(5)}), Some(failed), NOW);
    assert_eq!((c.action, c.current), (MenuAction::None, Some(rid(5))));
}

#[test]
fn no_rule_and_no_default_unlinks_a_linked_menu() {
    let mut m = menus();
    m.as_object_mut().unwrap().remove("default");
    let e = engine(m);
    let c = choice(&e, json!({"userId": "U1", "richMenuId": rid(3)}), None, NOW);
    assert_eq!((c.action, c.menu, c.rich_menu_id), (MenuAction::Unlink, None, None));
    assert_eq!(c.reason, Default::default());
    let c = choice(&e, json!({"userId": "U1"}), None, NOW);
    assert_eq!(c.action, MenuAction::None);
    // A tab tap LINE carried out to an alias the config does not know: the user now has a
    // per-user menu kizuna does not manage (its id is not in the event), and no menu applies.
    let tap = json!({"type": "postback", "timestamp": 1, "source": {"type": "user", "userId": "U1"}, "webhookEventId": "01X",
                     "postback": {"data": "x", "params": {"newRichMenuAliasId": "campaign", "status": "SUCCESS"}}});
    let c = choice(&e, json!({"userId": "U1"}), Some(tap.clone()), NOW);
    assert_eq!((c.action, c.current), (MenuAction::Unlink, None));
    let c = choice(&e, json!({"userId": "U1", "richMenuId": rid(3)}), Some(tap), NOW);
    assert_eq!((c.action, c.current), (MenuAction::Unlink, None));
}

#[test]
fn no_rich_menus_no_field() {
    let e = Engine::compile(r#"{"version": 1, "segments": []}"#).unwrap();
    let d = e.decide(&json!({"now": NOW, "user": {"userId": "U1"}}).to_string(), DecideOptions::default()).unwrap();
    assert!(d.rich_menu.is_none());
    let text = e.decide_to_string(&json!({"now": NOW, "user": {"userId": "U1"}}).to_string(), DecideOptions::default()).unwrap();
    assert!(!text.contains("richMenu"));
}

#[test]
fn the_menu_changes_the_decision_id() {
    let e = engine(menus());
    let id = |menu: String| {
        let ctx = json!({"now": NOW, "user": {"userId": "U1", "richMenuId": menu}});
        e.decide(&ctx.to_string(), DecideOptions::default()).unwrap().decision_id
    };
    assert_ne!(id(rid(5)), id(rid(3)), "link vs none must not share an id");
}

#[test]
fn written_json_equals_serde() {
    let e = engine(menus());
    for user in [json!({"userId": "U1", "tags": ["vip"], "richMenuId": rid(2)}), json!({"userId": "U2"})] {
        let ctx = json!({"now": NOW, "user": user}).to_string();
        let fast = e.decide_to_string(&ctx, DecideOptions::default()).unwrap();
        let slow = serde_json::to_string(&e.decide(&ctx, DecideOptions::default()).unwrap()).unwrap();
        assert_eq!(fast, slow);
        let back: Decision = serde_json::from_str(&fast).unwrap();
        assert!(back.rich_menu.is_some());
    }
}

#[test]
fn config_problems_have_codes_and_paths() {
    let mut m = menus();
    m["rules"][0]["menu"] = json!("vipp");
    m["rules"][2]["segment"] = json!("buyers");
    m["default"] = json!("nobody");
    // LINE's ids are lowercase hex.
    m["menus"][1]["richMenuId"] = json!(rid(0xabc).replace("abc", "ABC"));
    m["menus"][2]["aliases"] = json!({"Night Tab": rid(4), "night": "nope"});
    m["menus"][3]["richMenuId"] = json!(rid(4));
    m["menus"][0]["definition"]["areas"][1]["action"]["richMenuAliasId"] = json!("night");
    m["menus"][0]["definition"]["chatBarText"] = json!("VIP会員さま専用メニューはこちら");
    m["menus"][0]["definition"]["areas"][0]["action"]["label"] = json!("a".repeat(21));
    m["rules"].as_array_mut().unwrap().push(json!({"menu": "guest"}));
    m["menus"].as_array_mut().unwrap().push(json!({"id": "vip", "richMenuId": rid(9), "colour": "red"}));
    let errs = errors(m);
    let expect = [
        (Code::UnknownMenu, "/richMenus/menus/0/definition/areas/1/action/richMenuAliasId"),
        (Code::LimitExceeded, "/richMenus/menus/0/definition/chatBarText"),
        (Code::LimitExceeded, "/richMenus/menus/0/definition/areas/0/action/label"),
        (Code::InvalidValue, "/richMenus/menus/1/richMenuId"),
        (Code::InvalidValue, "/richMenus/menus/2/aliases/Night Tab"),
        (Code::InvalidValue, "/richMenus/menus/2/aliases/night"),
        (Code::DuplicateId, "/richMenus/menus/3/richMenuId"),
        (Code::DuplicateId, "/richMenus/menus/4"),
        (Code::UnknownField, "/richMenus/menus/4/colour"),
        (Code::UnknownMenu, "/richMenus/rules/0/menu"),
        (Code::UnknownSegment, "/richMenus/rules/2/segment"),
        (Code::InvalidValue, "/richMenus/rules/3"),
        (Code::UnknownMenu, "/richMenus/default"),
    ];
    assert_exactly(&errs, &expect);
    // A typo in the `menus` key: that key's errors, not one more per rule and default.
    let mut m = menus();
    let list = m.as_object_mut().unwrap().remove("menus").unwrap();
    m["menu"] = list;
    assert_eq!(errors(m), [(Code::MissingField, "/richMenus".to_string()), (Code::UnknownField, "/richMenus/menu".to_string())]);
    // A segment id that is no string is that one error, not also "neither segment nor when".
    let mut m = menus();
    m["rules"][0]["segment"] = json!(0);
    assert_eq!(errors(m), [(Code::InvalidValue, "/richMenus/rules/0/segment".to_string())]);
    // The messages point the marketer at the fix.
    let all = Engine::compile(&config(json!({"menus": [{"id": "a", "richMenuId": rid(1)}], "rules": [{"segment": "vipp", "menu": "a"}]})).to_string()).unwrap_err();
    assert!(all[0].message.contains("did you mean \"vip\""), "{}", all[0].message);
}

/// Each tab is a LINE rich menu of its own. With `aliasDefinitions`, every tab's areas are
/// checked as the menu's `definition` is, so a tap from the second tab cannot leave the tabs.
#[test]
fn tab_definitions_are_checked_like_the_menu_definition() {
    let vip = menus()["menus"][0]["definition"].clone();
    let mut perks = vip.clone();
    perks["name"] = json!("vip perks");
    let mut m = menus();
    m["menus"][0]["aliasDefinitions"] = json!({"vip-perks": perks.clone(), "vip-home": vip.clone()});
    let e = engine(m.clone());
    assert_eq!(e.config().rich_menus.as_ref().unwrap().menus[0].alias_definitions.len(), 2);
    // The second tab switches into the buyer menu's tab.
    m["menus"][3]["aliases"] = json!({"guest-home": rid(5)});
    m["menus"][0]["aliasDefinitions"]["vip-perks"]["areas"][0]["action"]["richMenuAliasId"] = json!("guest-home");
    // An alias the menu does not have, and a tab LINE would refuse.
    m["menus"][0]["aliasDefinitions"]["vip-gone"] = vip.clone();
    m["menus"][0]["aliasDefinitions"]["vip-home"]["size"] = json!({"width": 100, "height": 100});
    let errs = errors(m);
    let expect = [
        (Code::UnknownMenu, "/richMenus/menus/0/aliasDefinitions/vip-gone"),
        (Code::InvalidValue, "/richMenus/menus/0/aliasDefinitions/vip-home/size"),
        (Code::UnknownMenu, "/richMenus/menus/0/aliasDefinitions/vip-perks/areas/0/action/richMenuAliasId"),
    ];
    assert_exactly(&errs, &expect);
    let mut m = menus();
    m["menus"][0]["aliasDefinitions"] = json!(["not", "an object"]);
    assert_eq!(errors(m), [(Code::InvalidValue, "/richMenus/menus/0/aliasDefinitions".to_string())]);
}

/// A rich menu area's action is held to LINE's action objects, as a message's is: its type
/// (rich menus take `richmenuswitch`, not quick-reply-only camera actions), required and known
/// keys, and a link's scheme.
#[test]
fn rich_menu_actions_are_checked_like_message_actions() {
    let area = |action: Value| json!({"bounds": {"x": 0, "y": 0, "width": 2500, "height": 843}, "action": action});
    let with = |actions: Vec<Value>| {
        let mut m = menus();
        m["menus"][1]["definition"] = json!({"size": {"width": 2500, "height": 843}, "selected": false, "name": "buyer", "chatBarText": "Menu",
            "areas": actions.into_iter().map(area).collect::<Vec<_>>()});
        m
    };
    engine(with(vec![
        json!({"type": "postback", "label": "Buy", "data": "buy", "displayText": "Buy", "inputOption": "openKeyboard"}),
        json!({"type": "datetimepicker", "label": "Date", "data": "d", "mode": "date"}),
        json!({"type": "uri", "label": "Shop", "uri": "https://example.com", "altUri": {"desktop": "https://example.com/pc"}}),
        json!({"type": "clipboard", "label": "Copy", "clipboardText": "CODE"}),
        json!({"type": "message", "text": "hi"}),
    ]));
    let at = |i: usize, tail: &str| format!("/richMenus/menus/1/definition/areas/{i}/action{tail}");
    let errs = errors(with(vec![
        json!({"type": "mesage", "label": "a", "text": "b"}),
        json!({"type": "camera", "label": "c"}),
        json!({"type": "postback", "label": "p"}),
        json!({"type": "uri", "label": "u", "uri": "javascript:alert(1)"}),
        json!({"type": "message", "label": "m", "txt": "x"}),
    ]));
    assert_eq!(errs, [
        (Code::InvalidValue, at(0, "/type")),
        (Code::InvalidValue, at(1, "/type")),
        (Code::MissingField, at(2, "")),
        (Code::InvalidValue, at(3, "/uri")),
        (Code::MissingField, at(4, "")),
        (Code::UnknownField, at(4, "/txt")),
    ]);
}

/// An area's bounds are whole pixels (x and y from 0, width and height from 1: LINE's OpenAPI
/// description) and stay inside the menu's size (kizuna's rule: LINE documents none, and a tap
/// area past the image is never what was meant), in `definition` and `aliasDefinitions`. The
/// size itself is whole pixels too.
#[test]
fn area_bounds_stay_inside_the_menu() {
    let with = |area: usize, bounds: Value| {
        let mut m = menus();
        m["menus"][0]["definition"]["areas"][area]["bounds"] = bounds;
        errors(m)
    };
    let at = |i: usize, key: &str| vec![(Code::InvalidValue, format!("/richMenus/menus/0/definition/areas/{i}/bounds/{key}"))];
    // Past the right edge of the 2500 × 1686 menu, and past its bottom.
    assert_eq!(with(1, json!({"x": 1250, "y": 0, "width": 1300, "height": 200})), at(1, "width"));
    assert_eq!(with(0, json!({"x": 0, "y": 1000, "width": 1250, "height": 700})), at(0, "height"));
    // Starting past the edge names the position.
    assert_eq!(with(1, json!({"x": 2500, "y": 0, "width": 100, "height": 200})), at(1, "x"));
    // Negative, zero and fractional pixels (LINE's minimums; only that error for the area).
    assert_eq!(with(0, json!({"x": -10, "y": 0, "width": 1250, "height": 200})), at(0, "x"));
    assert_eq!(with(1, json!({"x": 1250, "y": 0, "width": 0, "height": 200})), at(1, "width"));
    assert_eq!(with(1, json!({"x": 1250, "y": 0, "width": 1250, "height": 0.5})), at(1, "height"));
    // The message names the area and the menu's size, and says what fits.
    let mut m = menus();
    m["menus"][0]["definition"]["areas"][1]["bounds"] = json!({"x": 1250, "y": 0, "width": 1300, "height": 200});
    let all = Engine::compile(&config(m).to_string()).unwrap_err();
    assert_eq!(
        all[0].message,
        "area 1 does not fit the 2500 × 1686 menu: \"x\" must be a whole number from 0 and \"width\" one from 1, with x + width at most 2500"
    );
    // Exactly at the right and bottom edges is accepted.
    let mut m = menus();
    m["menus"][0]["definition"]["areas"][1]["bounds"] = json!({"x": 1250, "y": 200, "width": 1250, "height": 1486});
    engine(m);
    // A tab's definition is held to its own size.
    let mut m = menus();
    let mut tab = m["menus"][0]["definition"].clone();
    tab["size"] = json!({"width": 2500, "height": 843});
    tab["areas"][0]["bounds"] = json!({"x": 0, "y": 0, "width": 1250, "height": 1686});
    m["menus"][0]["aliasDefinitions"] = json!({"vip-perks": tab});
    assert_eq!(errors(m), [(Code::InvalidValue, "/richMenus/menus/0/aliasDefinitions/vip-perks/areas/0/bounds/height".to_string())]);
    // A menu whose size is wrong reports its size, not every area besides.
    let mut m = menus();
    m["menus"][0]["definition"]["size"] = json!({"width": 1000, "height": 1000});
    assert_eq!(errors(m), [(Code::InvalidValue, "/richMenus/menus/0/definition/size".to_string())]);
    // So does a size of fractional pixels (LINE's `RichMenuSize` is integers).
    let mut m = menus();
    m["menus"][0]["definition"]["size"] = json!({"width": 2500, "height": 843.5});
    assert_eq!(errors(m), [(Code::InvalidValue, "/richMenus/menus/0/definition/size".to_string())]);
}

/// A rich menu's `selected` is true or false (LINE's OpenAPI, `RichMenuRequest.selected`:
/// boolean), in `definition` and `aliasDefinitions`.
#[test]
fn selected_is_true_or_false() {
    for bad in [json!("yes"), json!("true"), json!(1)] {
        let mut m = menus();
        m["menus"][0]["definition"]["selected"] = bad.clone();
        let mut tab = m["menus"][0]["definition"].clone();
        tab["selected"] = bad.clone();
        m["menus"][0]["aliasDefinitions"] = json!({"vip-perks": tab});
        let errs = Engine::compile(&config(m).to_string()).unwrap_err();
        let got: Vec<(Code, &str)> = errs.iter().map(|e| (e.code, e.path.as_str())).collect();
        assert_eq!(got, [(Code::InvalidValue, "/richMenus/menus/0/aliasDefinitions/vip-perks/selected"), (Code::InvalidValue, "/richMenus/menus/0/definition/selected")], "{bad}");
        assert!(errs[0].message.starts_with("\"selected\" of a rich menu must be true or false, found "), "{}", errs[0].message);
    }
    for ok in [json!(true), json!(false), Value::Null] {
        let mut m = menus();
        m["menus"][0]["definition"]["selected"] = ok;
        engine(m);
    }
}

#[test]
fn line_limits_are_config_errors() {
    let many: Vec<Value> = (0..1001).map(|i| json!({"id": format!("m{i}"), "richMenuId": rid(i)})).collect();
    assert_eq!(errors(json!({"menus": many})), [(Code::LimitExceeded, "/richMenus/menus".to_string())]);
    let aliases: serde_json::Map<String, Value> = (0..1001).map(|i| (format!("a{i}"), json!(rid(1)))).collect();
    assert_eq!(errors(json!({"menus": [{"id": "m", "richMenuId": rid(1), "aliases": aliases}]})), [(Code::LimitExceeded, "/richMenus/menus".to_string())]);
    // Exactly at the limit is fine; so is a 32-character alias.
    let ok: Vec<Value> = (0..1000).map(|i| json!({"id": format!("m{i}"), "richMenuId": rid(i)})).collect();
    engine(json!({"menus": ok}));
    engine(json!({"menus": [{"id": "m", "richMenuId": rid(1), "aliases": {"a".repeat(32): rid(1)}}]}));
    assert_eq!(
        errors(json!({"menus": [{"id": "m", "richMenuId": rid(1), "aliases": {"a".repeat(33): rid(1)}}]})),
        [(Code::InvalidValue, format!("/richMenus/menus/0/aliases/{}", "a".repeat(33)))]
    );
}

fn decision(user: &str, action: MenuAction, menu: Option<u32>) -> Decision {
    serde_json::from_value(json!({
        "version": 1, "decisionId": format!("d-{user}"), "configHash": "h", "userId": user, "now": NOW, "segments": [],
        "richMenu": {"action": action, "richMenuId": menu.map(rid), "reason": {}}
    }))
    .unwrap()
}

/// A LINE user id: `U` and 32 lowercase hex digits.
fn uid(n: u32) -> String {
    format!("U{n:032x}")
}

#[test]
fn bulk_requests_group_by_menu_in_chunks_of_500() {
    let mut ds: Vec<Decision> = (0..1201).map(|i| decision(&uid(i), MenuAction::Link, Some(1 + i % 2))).collect();
    ds.push(decision(&uid(9001), MenuAction::Unlink, None));
    ds.push(decision(&uid(9002), MenuAction::None, Some(1)));
    // Decided twice: the last decision counts.
    ds.push(decision(&uid(4), MenuAction::Link, Some(2)));
    ds.push(decision(&uid(1), MenuAction::None, Some(2)));
    let reqs = bulk_requests(&ds).unwrap();
    let shape: Vec<(&str, Option<String>, usize)> = reqs.iter().map(|r| (r.path, r.body.rich_menu_id.clone(), r.body.user_ids.len())).collect();
    assert_eq!(
        shape,
        [
            ("/v2/bot/richmenu/bulk/link", Some(rid(1)), 500),
            ("/v2/bot/richmenu/bulk/link", Some(rid(1)), 100),
            ("/v2/bot/richmenu/bulk/link", Some(rid(2)), 500),
            ("/v2/bot/richmenu/bulk/link", Some(rid(2)), 100),
            ("/v2/bot/richmenu/bulk/unlink", None, 1),
        ]
    );
    assert!(reqs[2].body.user_ids.contains(&uid(4)), "user 4 moved to menu 2");
    assert!(!reqs[0].body.user_ids.contains(&uid(4)));
    assert!(!reqs.iter().any(|r| r.body.user_ids.contains(&uid(1))), "user 1's last decision is none");
    assert!(!reqs.iter().any(|r| r.body.user_ids.contains(&uid(9002))));
    let text = bulk_requests_json(&ds.iter().map(|d| serde_json::to_string(d).unwrap()).collect::<Vec<_>>().join("\n")).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), serde_json::to_value(&reqs).unwrap());
    // The same, one record at a time (as `kizuna menus` streams NDJSON).
    let mut batch = kizuna::engine::BulkBatch::default();
    for (n, d) in ds.iter().enumerate() {
        batch.add_json(&serde_json::to_string(d).unwrap(), Some(n as u32 + 1)).unwrap();
    }
    assert_eq!(batch.requests(), reqs);
    let err = bulk_requests_json("{\"version\": 1}\n").unwrap_err();
    assert_eq!((err.code, err.path.as_str(), err.line), (Code::InvalidValue, "/0", Some(1)));
    // Blank lines count for the line number, not for the record index.
    let good = serde_json::to_string(&ds[0]).unwrap();
    let err = bulk_requests_json(&format!("{good}\n\n{{\"userId\": \"U9\"}}\n")).unwrap_err();
    assert_eq!((err.path.as_str(), err.line), ("/1", Some(3)));
    assert!(err.message.contains("record 2"), "{}", err.message);
}

/// LINE checks a request body whole, so a malformed id risks a bulk request of 500 users; kizuna
/// refuses the batch first, at the record. A "none" sends nothing, so any id is fine there.
#[test]
fn bulk_requests_refuse_ids_that_are_not_line_user_ids() {
    for bad in ["U1", "bob smith", "", &uid(0xabc).to_uppercase(), &format!("{} ", uid(7)), "@line_id"] {
        for action in [MenuAction::Link, MenuAction::Unlink] {
            let ds = [decision(&uid(1), MenuAction::Link, Some(1)), decision(bad, action, Some(2))];
            let err = bulk_requests(&ds).unwrap_err();
            assert_eq!((err.code, err.path.as_str()), (Code::InvalidValue, "/1/userId"), "{bad:?}");
            assert!(err.message.contains("record 2") && err.message.contains("not a LINE user id"), "{}", err.message);
            let ndjson = ds.iter().map(|d| serde_json::to_string(d).unwrap()).collect::<Vec<_>>().join("\n");
            let err = bulk_requests_json(&ndjson).unwrap_err();
            assert_eq!((err.path.as_str(), err.line), ("/1/userId", Some(2)), "{bad:?}");
        }
    }
    let ds = [decision("U1", MenuAction::None, Some(2)), decision(&uid(1), MenuAction::Link, Some(1))];
    assert_eq!(bulk_requests(&ds).unwrap().len(), 1);
}

#[test]
fn the_example_config_links_by_lifecycle_and_skin_type() {
    let e = Engine::compile(include_str!("../examples/skincare/config.json")).unwrap();
    let lines: Vec<&str> = include_str!("../examples/skincare/contexts.ndjson").lines().collect();
    let menu = |i: usize| e.decide(lines[i], DecideOptions::default()).unwrap().rich_menu.unwrap();
    assert_eq!(menu(0).menu.as_deref(), Some("welcome"));
    assert_eq!(menu(1).menu.as_deref(), Some("skin_dry"));
    assert_eq!(menu(4).menu.as_deref(), Some("winback"));
    let tab = menu(7);
    assert_eq!((tab.action, tab.menu.as_deref()), (MenuAction::None, Some("loyal")), "a loyal user tapping the rewards tab stays");
}

#[test]
fn shared_rich_menus_and_aliases_name_both_owners() {
    let e = Engine::compile(
        &config(json!({
            "menus": [
                {"id": "a", "richMenuId": rid(1), "aliases": {"x": rid(1), "y": rid(2)}},
                {"id": "b", "richMenuId": rid(2), "aliases": {"x": rid(3)}},
                {"id": "c", "richMenuId": rid(1), "aliases": {"x": rid(4)}}
            ],
            "default": "a"
        }))
        .to_string(),
    )
    .unwrap_err();
    let got: Vec<(String, String)> = e.into_iter().filter(|e| e.code == Code::DuplicateId).map(|e| (e.path, e.message)).collect();
    let r = |n| rid(n);
    assert_eq!(
        got,
        [
            ("/richMenus/menus/1/aliases/x".to_string(), "alias \"x\" is used by menus \"a\" and \"b\"".to_string()),
            ("/richMenus/menus/1/richMenuId".to_string(), format!("rich menu \"{}\" belongs to menus \"a\" and \"b\"; give each menu rich menus (and tabs) of its own", r(2))),
            ("/richMenus/menus/2/aliases/x".to_string(), "alias \"x\" is used by menus \"b\" and \"c\"".to_string()),
            ("/richMenus/menus/2/richMenuId".to_string(), format!("rich menu \"{}\" belongs to menus \"a\" and \"c\"; give each menu rich menus (and tabs) of its own", r(1))),
        ]
    );
}

#[test]
fn a_rule_that_cannot_be_judged_leaves_the_menu_alone() {
    // "active" fails on a malformed lastActiveAt: counted as not matched, the user would go to
    // the default, off the menu they may belong on.
    let e = Engine::compile(
        &json!({"version": 1, "segments": [
            {"id": "active", "when": {"<": [{"days_since": [{"var": "user.lastActiveAt"}]}, 30]}},
            {"id": "loyal", "group": "stage", "when": {"<": [{"days_since": [{"var": "user.lastActiveAt"}]}, 90]}},
            {"id": "repeat", "group": "stage", "when": {"var": "user.purchases.0"}}
        ], "richMenus": {"menus": [{"id": "active", "richMenuId": rid(1)}, {"id": "repeat", "richMenuId": rid(2)}, {"id": "guest", "richMenuId": rid(3)}],
            "rules": [{"segment": "active", "menu": "active"}, {"segment": "repeat", "menu": "repeat"}], "default": "guest"}})
        .to_string(),
    )
    .unwrap();
    let user = |last: &str| json!({"userId": "U1", "richMenuId": rid(1), "lastActiveAt": last, "purchases": [{"at": "2026-11-01T10:00:00+09:00"}]});
    let d = e.decide(&json!({"now": NOW, "user": user("2026/11/20")}).to_string(), DecideOptions::default()).unwrap();
    assert_eq!(d.errors.iter().map(|e| e.code).collect::<Vec<_>>(), [Code::InvalidTimestamp, Code::InvalidTimestamp], "{:?}", d.errors);
    let c = d.rich_menu.unwrap();
    assert_eq!(c.action, MenuAction::None);
    assert_eq!((c.menu, c.reason.rule, c.reason.segment.as_deref(), c.reason.undetermined), (None, Some(0), Some("active"), true));
    assert_eq!(c.current.as_deref(), Some(rid(1).as_str()));
    // A group member after one that failed is not sure either: the failed one might have won.
    let only_repeat = Engine::compile(
        &json!({"version": 1, "segments": [
            {"id": "loyal", "group": "stage", "when": {"<": [{"days_since": [{"var": "user.lastActiveAt"}]}, 90]}},
            {"id": "repeat", "group": "stage", "when": {"var": "user.purchases.0"}}
        ], "richMenus": {"menus": [{"id": "repeat", "richMenuId": rid(2)}, {"id": "guest", "richMenuId": rid(3)}],
            "rules": [{"segment": "repeat", "menu": "repeat"}], "default": "guest"}})
        .to_string(),
    )
    .unwrap();
    let d = only_repeat.decide(&json!({"now": NOW, "user": user("2026/11/20")}).to_string(), DecideOptions::default()).unwrap();
    assert_eq!(d.segments, ["repeat"], "the segments are decided as before");
    let c = d.rich_menu.unwrap();
    assert_eq!((c.action, c.reason.undetermined), (MenuAction::None, true));
    // Judged: as before.
    let c = choice(&e, user("2026-11-20T10:00:00+09:00"), None, NOW);
    assert_eq!((c.action, c.menu.as_deref(), c.reason.undetermined), (MenuAction::None, Some("active"), false));
    let c = choice(&e, user("2026-01-20T10:00:00+09:00"), None, NOW);
    assert_eq!((c.action, c.menu.as_deref()), (MenuAction::Link, Some("repeat")));
}

#[test]
fn a_segment_reading_one_that_cannot_be_judged_cannot_be_judged_either() {
    // "dormant" fails on a malformed lastActiveAt. "vip_active" reads it through `in_segment`:
    // it holds only because "dormant" counted as not matched, so it is no ground for a link.
    let config = |rules: serde_json::Value| {
        Engine::compile(
            &json!({"version": 1, "segments": [
                {"id": "dormant", "when": {">": [{"days_since": [{"var": "user.lastActiveAt"}]}, 90]}},
                {"id": "vip", "when": {">=": [{"var": "user.yearlySpend"}, 50000]}},
                {"id": "vip_active", "when": {"and": [{"in_segment": "vip"}, {"!": {"in_segment": "dormant"}}]}},
                {"id": "winback", "group": "stage", "when": {"in_segment": "dormant"}},
                {"id": "loyal", "group": "stage", "when": {"!": {"in_segment": "dormant"}}},
                {"id": "repeat", "group": "stage", "when": {"var": "user.purchases.0"}}
            ], "richMenus": {"menus": [{"id": "vip", "richMenuId": rid(1)}, {"id": "repeat", "richMenuId": rid(2)}, {"id": "guest", "richMenuId": rid(3)}],
                "rules": rules, "default": "guest"}})
            .to_string(),
        )
        .unwrap()
    };
    let user = |last: &str| json!({"userId": "U1", "richMenuId": rid(3), "lastActiveAt": last, "yearlySpend": 80000, "purchases": [{"at": "2026-11-01T10:00:00+09:00"}]});
    let cases = [
        json!([{"segment": "vip_active", "menu": "vip"}]),
        json!([{"when": {"and": [{"in_segment": "vip"}, {"!": {"in_segment": "dormant"}}]}, "menu": "vip"}]),
        // "loyal" wins its group only if "dormant" does not hold: "repeat" after it might have won.
        json!([{"segment": "repeat", "menu": "repeat"}]),
    ];
    for rules in cases {
        let e = config(rules.clone());
        let d = e.decide(&json!({"now": NOW, "user": user("2026/11/20")}).to_string(), DecideOptions::default()).unwrap();
        assert_eq!(d.segments, ["vip", "vip_active", "loyal"], "the segments are decided as before ({rules})");
        let c = d.rich_menu.unwrap();
        assert_eq!((c.action, c.menu, c.reason.undetermined), (MenuAction::None, None, true), "{rules}");
        // Judged: a menu is chosen ("loyal" wins the group, so "repeat" goes to the default).
        let c = choice(&e, user("2026-11-20T10:00:00+09:00"), None, NOW);
        let want = if rules[0]["segment"] == "repeat" { "guest" } else { "vip" };
        assert_eq!((c.menu.as_deref(), c.reason.undetermined), (Some(want), false), "{rules}");
    }
    // A rule on a segment that reads only segments judged is judged.
    let e = config(json!([{"segment": "vip", "menu": "vip"}]));
    let d = e.decide(&json!({"now": NOW, "user": user("2026/11/20")}).to_string(), DecideOptions::default()).unwrap();
    let c = d.rich_menu.unwrap();
    assert_eq!((c.action, c.menu.as_deref(), c.reason.undetermined), (MenuAction::Link, Some("vip"), false));
}
