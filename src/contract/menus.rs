//! Rich menus in the config: LINE rich menus by id, their tab aliases, and the ordered rules
//! that pick one per user. Checked when read, so a deployed config never links a menu that
//! does not exist or lets a tab tap jump into another segment's menu.

use super::read::{join, kind, ObjectReader, Problems};
use crate::error::Code;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// LINE's limits per channel: rich menus and rich-menu aliases.
pub const MAX_MENUS: usize = 1000;
pub const MAX_ALIASES: usize = 1000;

/// Which rich menu each user should see.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), schemars(deny_unknown_fields))]
#[serde(rename_all = "camelCase")]
pub struct RichMenus {
    /// The rich menus (at most 1,000, LINE's limit per channel).
    pub menus: Vec<Menu>,
    /// Tried in order; the first rule that holds picks the menu.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<MenuRule>,
    /// The menu of users no rule picks. Without it such users get no per-user menu (a linked
    /// one is unlinked, so the account's default rich menu shows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// One rich menu, possibly a set of tabs.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), schemars(deny_unknown_fields))]
#[serde(rename_all = "camelCase")]
pub struct Menu {
    /// Id used by rules and decisions (same rules as segment ids).
    pub id: String,
    /// What the menu is for, for people reading the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The LINE rich menu linked to the user (`richmenu-` and 32 lowercase hex digits, as the Messaging
    /// API's create call returns it).
    pub rich_menu_id: String,
    /// Tabs: rich-menu alias id (`^[a-z0-9_-]{1,32}$`) → the LINE rich menu it shows. A
    /// `richmenuswitch` tap links the alias's menu to the user, so every menu needs aliases of
    /// its own (a tab shared by two segments would move users between them). A user on any of
    /// these menus counts as being on this menu.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aliases: BTreeMap<String, String>,
    /// Image of the menu, for previews (the playground).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// The LINE rich menu object (`size`, `selected`, `name`, `chatBarText`, `areas`) as the
    /// Messaging API's create call takes it, for previews and provisioning. Its
    /// `richmenuswitch` actions must name this menu's own aliases.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Option<serde_json::Map<String, Value>>"))]
    pub definition: Option<Value>,
    /// Alias → the LINE rich menu object of the menu that alias shows, checked as `definition`
    /// is: each tab's `richmenuswitch` actions must name this menu's own aliases too.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "BTreeMap<String, serde_json::Map<String, Value>>"))]
    pub alias_definitions: BTreeMap<String, Value>,
}

/// One rule: users in `segment`, or for whom `when` holds, get `menu`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), schemars(deny_unknown_fields))]
#[serde(rename_all = "camelCase")]
pub struct MenuRule {
    /// A segment id (give `segment` or `when`, not both).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// A condition (JsonLogic plus kizuna's operators, `in_segment` included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(schema_with = "crate::contract::config::rule_schema"))]
    pub when: Option<Value>,
    /// The menu id.
    pub menu: String,
}

/// `; did you mean "x"?` when an id is close to a known one.
fn did_you_mean(word: &str, known: &[&str]) -> String {
    crate::error::suggest(word, known.iter().copied()).map(|s| format!("; did you mean \"{s}\"?")).unwrap_or_default()
}

fn valid_alias(a: &str) -> bool {
    (1..=32).contains(&a.len()) && a.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
}

impl RichMenus {
    /// Reads `/richMenus`; `segments` are the config's segment ids (for rules naming one).
    pub fn read(v: &Value, segments: &[&str], p: &mut Problems) -> Option<RichMenus> {
        let path = "/richMenus";
        let mut o = ObjectReader::new(v, path, "\"richMenus\"", p)?;
        let menus = o.opt_array("menus", p, Menu::read);
        let has_menus = o.opt("menus").is_some();
        if !has_menus {
            p.push(Code::MissingField, path, "\"richMenus\" needs \"menus\": the rich menus rules can pick");
        }
        let rules = o.opt_array("rules", p, MenuRule::read);
        let default = o.opt_str("default", p);
        o.finish(p);
        if menus.len() > MAX_MENUS {
            p.push(Code::LimitExceeded, "/richMenus/menus", format!("{} rich menus; LINE allows at most {MAX_MENUS} per channel", menus.len()));
        }
        let aliases: usize = menus.iter().map(|m| m.aliases.len()).sum();
        if aliases > MAX_ALIASES {
            p.push(Code::LimitExceeded, "/richMenus/menus", format!("{aliases} rich-menu aliases; LINE allows at most {MAX_ALIASES} per channel"));
        }
        let ids: Vec<&str> = menus.iter().map(|m| m.id.as_str()).collect();
        super::config::unique_ids(ids.iter().copied(), "/richMenus/menus", "menu", p);
        check_ownership(&menus, p);
        // Without `menus` (a typo in the key: its own error says so), no menu is known and
        // every rule would name an unknown one.
        let known = |id: &str, at: &str, p: &mut Problems| {
            if has_menus && !ids.contains(&id) {
                p.push(Code::UnknownMenu, at, format!("there is no menu \"{id}\" in /richMenus/menus{}", did_you_mean(id, &ids)));
            }
        };
        for (i, r) in rules.iter().enumerate() {
            // The config's index: an unreadable rule before this one was left out.
            let at = join("/richMenus/rules", p.original_index("/richMenus/rules", i));
            known(&r.menu, &join(&at, "menu"), p);
            if let Some(s) = &r.segment {
                if !segments.contains(&s.as_str()) {
                    p.push(
                        Code::UnknownSegment,
                        &join(&at, "segment"),
                        format!("there is no segment \"{s}\"{}", did_you_mean(s, segments)),
                    );
                }
            }
        }
        if let Some(d) = &default {
            known(d, "/richMenus/default", p);
        }
        Some(RichMenus { menus, rules, default })
    }
}

/// Every LINE rich menu and alias belongs to one menu: otherwise the menu a user is on is
/// ambiguous, and a tab tap could carry a user into another segment's menu.
fn check_ownership(menus: &[Menu], p: &mut Problems) {
    // (id, owning menu) pairs searched linearly: LINE caps a channel at 1,000 rich menus and
    // aliases, and a `BTreeMap<&str, &str>` (insert, get, drop) cost ~2 KB in the Wasm binary.
    let mut owner: Vec<(&str, &str)> = Vec::new();
    let mut alias_owner: Vec<(&str, &str)> = Vec::new();
    for (i, m) in menus.iter().enumerate() {
        let at = join("/richMenus/menus", p.original_index("/richMenus/menus", i));
        for (rid, field) in std::iter::once((&m.rich_menu_id, join(&at, "richMenuId")))
            .chain(m.aliases.iter().map(|(a, rid)| (rid, join(&join(&at, "aliases"), a))))
        {
            match owner.iter().find(|(r, _)| r == rid) {
                Some(&(_, other)) if other != m.id => p.push(
                    Code::DuplicateId,
                    &field,
                    format!("rich menu \"{rid}\" belongs to menus \"{other}\" and \"{}\"; give each menu rich menus (and tabs) of its own", m.id),
                ),
                Some(_) => {}
                None => owner.push((rid, &m.id)),
            }
        }
        for a in m.aliases.keys() {
            let previous = match alias_owner.iter_mut().find(|(k, _)| k == a) {
                Some(slot) => Some(std::mem::replace(&mut slot.1, &m.id)),
                None => {
                    alias_owner.push((a, &m.id));
                    None
                }
            };
            if let Some(other) = previous {
                p.push(Code::DuplicateId, &join(&join(&at, "aliases"), a), format!("alias \"{a}\" is used by menus \"{other}\" and \"{}\"", m.id));
            }
        }
        // A tab tap must stay inside the menu's own tabs, from the menu and from each tab.
        let definitions = std::iter::once((m.definition.as_ref(), join(&at, "definition")))
            .chain(m.alias_definitions.iter().map(|(a, d)| (Some(d), join(&join(&at, "aliasDefinitions"), a))));
        for (d, dpath) in definitions {
            let areas = d.and_then(|d| d.get("areas")).and_then(Value::as_array);
            for (j, area) in areas.into_iter().flatten().enumerate() {
                let action = area.get("action");
                if action.and_then(|a| a.get("type")).and_then(Value::as_str) != Some("richmenuswitch") {
                    continue;
                }
                let target = action.and_then(|a| a.get("richMenuAliasId")).and_then(Value::as_str).unwrap_or("");
                if !m.aliases.contains_key(target) {
                    let path = join(&join(&join(&dpath, "areas"), j), "action");
                    p.push(
                        Code::UnknownMenu,
                        &join(&path, "richMenuAliasId"),
                        format!("this tab switches to alias \"{target}\", which is not one of menu \"{}\"'s aliases; a tap would leave the menu's tabs", m.id),
                    );
                }
            }
        }
    }
}

impl Menu {
    fn read(v: &Value, path: &str, p: &mut Problems) -> Option<Menu> {
        let mut o = ObjectReader::new(v, path, "a menu", p)?;
        let id = super::config::read_id(&mut o, "menu", p);
        let description = o.opt_str("description", p);
        let rich_menu_id = o.req_str("richMenuId", p);
        if let Some(r) = &rich_menu_id {
            if !crate::line::is_rich_menu_id(r) {
                p.push(
                    Code::InvalidValue,
                    &o.field_path("richMenuId"),
                    format!("\"{r}\" is not a LINE rich menu id; they look like \"richmenu-\" and 32 lowercase hex digits, as the create call returns them"),
                );
            }
        }
        let mut aliases = BTreeMap::new();
        let given_aliases = o.opt("aliases");
        if let Some(a) = given_aliases {
            let apath = o.field_path("aliases");
            match a.as_object() {
                Some(map) => {
                    for (alias, target) in map {
                        let at = join(&apath, alias);
                        if !valid_alias(alias) {
                            p.push(
                                Code::InvalidValue,
                                &at,
                                format!("alias \"{alias}\" must be 1–32 characters of lowercase letters, digits, '_' or '-'"),
                            );
                        }
                        match target.as_str() {
                            Some(t) if crate::line::is_rich_menu_id(t) => {
                                aliases.insert(alias.clone(), t.to_string());
                            }
                            _ => p.push(Code::InvalidValue, &at, format!("alias \"{alias}\" must name a LINE rich menu id (\"richmenu-\" and 32 lowercase hex digits)")),
                        }
                    }
                }
                None => p.push(Code::InvalidValue, &apath, format!("\"aliases\" must be an object of alias id → rich menu id, found {}", kind(a))),
            }
        }
        let image_url = o.opt_str("imageUrl", p);
        let definition = o.opt("definition").cloned();
        if let Some(d) = &definition {
            check_definition(d, &o.field_path("definition"), p);
        }
        let mut alias_definitions = BTreeMap::new();
        if let Some(a) = o.opt("aliasDefinitions") {
            let dpath = o.field_path("aliasDefinitions");
            match a.as_object() {
                Some(map) => {
                    for (alias, d) in map {
                        let at = join(&dpath, alias);
                        // The config's aliases, not the ones read: a bad target is reported there.
                        if !given_aliases.and_then(Value::as_object).is_some_and(|m| m.contains_key(alias)) {
                            p.push(Code::UnknownMenu, &at, format!("\"{alias}\" is not one of this menu's aliases; \"aliasDefinitions\" describes the rich menus its aliases show"));
                        }
                        check_definition(d, &at, p);
                        alias_definitions.insert(alias.clone(), d.clone());
                    }
                }
                None => p.push(Code::InvalidValue, &dpath, format!("\"aliasDefinitions\" must be an object of alias id → LINE rich menu object, found {}", kind(a))),
            }
        }
        o.finish(p);
        Some(Menu { id: id?, description, rich_menu_id: rich_menu_id?, aliases, image_url, definition, alias_definitions })
    }
}

/// The parts of a LINE rich menu object that previews and provisioning rely on.
fn check_definition(d: &Value, path: &str, p: &mut Problems) {
    let Some(obj) = d.as_object() else {
        p.push(Code::InvalidValue, path, format!("\"definition\" must be a LINE rich menu object, found {}", kind(d)));
        return;
    };
    let size = obj.get("size");
    let dim = |k: &str| size.and_then(|s| s.get(k)).and_then(Value::as_f64);
    // The size areas must fit in; none when it is wrong (that error comes first). Whole pixels,
    // as LINE's OpenAPI description types `RichMenuSize` (integers).
    let size = match (dim("width"), dim("height")) {
        (Some(w), Some(h)) if w.fract() == 0.0 && h.fract() == 0.0 && (800.0..=2500.0).contains(&w) && h >= 250.0 && w / h >= 1.45 => Some((w, h)),
        _ => {
            p.push(
                Code::InvalidValue,
                &join(path, "size"),
                "a rich menu's size must be whole pixels {\"width\": 800–2500, \"height\": ≥ 250} with width/height ≥ 1.45 (e.g. 2500 × 1686 or 2500 × 843)",
            );
            None
        }
    };
    match obj.get("areas").map(|a| a.as_array()) {
        Some(Some(areas)) if areas.len() <= 20 => {
            for (i, a) in areas.iter().enumerate() {
                let b = a.get("bounds");
                let n = |k: &str| b.and_then(|b| b.get(k)).and_then(Value::as_f64);
                let bounds = match (n("x"), n("y"), n("width"), n("height")) {
                    (Some(x), Some(y), Some(w), Some(h)) => Some([x, y, w, h]),
                    _ => None,
                };
                let at = join(&join(path, "areas"), i);
                match (a.get("action").filter(|a| a.is_object()), bounds) {
                    (Some(action), Some([x, y, w, h])) => {
                        // Whole pixels, x and y from 0 and width and height from 1 (LINE's OpenAPI
                        // description, `RichMenuBounds`: integers with those minimums), and inside
                        // the size: LINE documents no rule for an area past the image's edge, so
                        // that one is kizuna's (a tap area that leaves the image is never what was
                        // meant). Against a valid size only: a wrong one is the error to fix first.
                        // The path names what to change: the position when the area starts
                        // outside, else the extent. Integers only in the message (saturating):
                        // formatting a float would bring float printing into the Wasm.
                        if let Some((sw, sh)) = size {
                            for (pos, len, start, extent, full) in [("x", "width", x, w, sw), ("y", "height", y, h, sh)] {
                                let bad_start = start.fract() != 0.0 || start < 0.0 || start >= full;
                                if bad_start || extent.fract() != 0.0 || extent < 1.0 || start + extent > full {
                                    p.push(
                                        Code::InvalidValue,
                                        &join(&join(&at, "bounds"), if bad_start { pos } else { len }),
                                        format!("area {i} does not fit the {} × {} menu: \"{pos}\" must be a whole number from 0 and \"{len}\" one from 1, with {pos} + {len} at most {}", sw as i64, sh as i64, full as i64),
                                    );
                                }
                            }
                        }
                        crate::line_shape::check_rich_menu_action(action, &join(&at, "action"), &mut |code, at, problem| p.push(code, at, format!("rich menu: {problem}")));
                    }
                    _ => p.push(Code::InvalidValue, &at, "an area needs \"bounds\" {x, y, width, height} and an \"action\" object"),
                }
            }
        }
        _ => p.push(Code::InvalidValue, &join(path, "areas"), "\"areas\" must be an array of at most 20 areas"),
    }
    // Whether the menu opens expanded: true or false (LINE's OpenAPI, `RichMenuRequest.selected`).
    if let Some(s) = obj.get("selected").filter(|s| !s.is_boolean() && !s.is_null()) {
        p.push(Code::InvalidValue, &join(path, "selected"), format!("\"selected\" of a rich menu must be true or false, found {}", kind(s)));
    }
    crate::line::check_object(obj, path, crate::line::Role::RichMenu, &mut |at, problem| p.push(Code::LimitExceeded, at, format!("rich menu: {problem}")));
}

impl MenuRule {
    fn read(v: &Value, path: &str, p: &mut Problems) -> Option<MenuRule> {
        let mut o = ObjectReader::new(v, path, "a menu rule", p)?;
        // Given at all: a segment id that is no string has its own error, not this one too.
        let segment_given = o.opt("segment").is_some();
        let segment = o.opt_str("segment", p);
        let when = o.opt("when").cloned();
        let menu = o.req_str("menu", p);
        if segment_given == when.is_some() {
            p.push(Code::InvalidValue, path, "a menu rule needs either \"segment\" or \"when\" (not both)");
        }
        o.finish(p);
        Some(MenuRule { segment, when, menu: menu? })
    }
}
