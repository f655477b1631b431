//! Rich menus: the menu rules compiled once, the per-user choice (link / unlink / none), and
//! the bulk requests a batch job sends to LINE.

use crate::contract::config::Config;
use crate::contract::read::{join, Problems};
use crate::contract::{Decision, MenuAction, MenuReason, RichMenuChoice};
use crate::error::Error;
use crate::logic::{self, Env, Rule};
use crate::value::{Projection, Value};
use serde::Serialize;

#[derive(Debug, Clone)]
enum Test {
    Segment(usize),
    When(Rule),
}

#[derive(Debug, Clone)]
struct MenuRule {
    test: Test,
    menu: usize,
}

#[derive(Debug, Clone)]
pub struct Menus {
    rules: Vec<MenuRule>,
    default: Option<usize>,
}

impl Menus {
    /// `None` when the config has no `richMenus`. Menu and segment names were checked when the
    /// config was read; rules whose names did not resolve are dropped (the config has errors).
    #[inline(never)] // see Engine::from_json
    pub fn compile(config: &Config, opts: &logic::Options, p: &mut Problems) -> Option<Menus> {
        let rm = config.rich_menus.as_ref()?;
        let menu_index = |id: &str| rm.menus.iter().position(|m| m.id == id);
        let mut rules = Vec::new();
        for (i, r) in rm.rules.iter().enumerate() {
            let test = match (&r.segment, &r.when) {
                (Some(s), _) => config.segments.iter().position(|x| &x.id == s).map(Test::Segment),
                (None, Some(when)) => match logic::compile(when, opts, &join(&join("/richMenus/rules", i), "when")) {
                    Ok(rule) => Some(Test::When(rule)),
                    Err(errors) => {
                        p.0.extend(errors);
                        None
                    }
                },
                (None, None) => None,
            };
            if let (Some(test), Some(menu)) = (test, menu_index(&r.menu)) {
                rules.push(MenuRule { test, menu });
            }
        }
        Some(Menus { rules, default: rm.default.as_deref().and_then(menu_index) })
    }

    pub fn projection(&self, p: &mut Projection) {
        p.add(["user", "richMenuId"]);
        p.add(["event", "postback", "params", "newRichMenuAliasId"]);
        p.add(["event", "postback", "params", "status"]);
        for r in &self.rules {
            if let Test::When(rule) = &r.test {
                rule.projection(p);
            }
        }
    }

    /// The first rule that holds for every user (a `when` of `true`), the number of rules and
    /// whether there is a default: what comes after it is never used (for `Engine::warnings`).
    #[cfg(lint)]
    pub fn catch_all(&self) -> (Option<usize>, usize, bool) {
        let first = self.rules.iter().position(|r| matches!(&r.test, Test::When(rule) if rule.always_true()));
        (first, self.rules.len(), self.default.is_some())
    }

    /// Rules naming a segment an earlier rule names already, each with that earlier rule: they
    /// never hold first (for `Engine::warnings`).
    #[cfg(lint)]
    pub fn repeated_segments(&self) -> Vec<(usize, usize)> {
        let segment = |r: &MenuRule| match r.test {
            Test::Segment(s) => Some(s),
            Test::When(_) => None,
        };
        let mut out = Vec::new();
        for (i, r) in self.rules.iter().enumerate() {
            if let Some(first) = segment(r).and_then(|s| self.rules.iter().take(i).position(|e| segment(e) == Some(s))) {
                out.push((i, first));
            }
        }
        out
    }

    /// The rules written as `when` (for `Engine::warnings`).
    #[cfg(lint)]
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter_map(|r| match &r.test {
            Test::When(rule) => Some(rule),
            Test::Segment(_) => None,
        })
    }

    /// Picks the user's menu and compares it with the current one. A rule that cannot be judged
    /// (its condition fails to evaluate: the error joins the decision's errors; or it reads a
    /// segment in `unsure`) before any rule holds leaves the menu as it is (`undetermined`).
    #[inline(never)] // only engines with menus compile it (see Engine::from_json)
    pub fn decide(&self, config: &Config, doc: &Value<'_>, env: &Env<'_>, unsure: &[usize], errors: &mut Vec<Error>) -> RichMenuChoice {
        let menus = config.rich_menus.as_ref().map(|rm| rm.menus.as_slice()).unwrap_or_default();
        let mut picked = None;
        let (current, per_user) = current_menu(menus, doc);
        for (i, r) in self.rules.iter().enumerate() {
            let holds = match &r.test {
                Test::Segment(s) if unsure.contains(s) => None,
                Test::Segment(s) => env.segments.get(*s).copied().flatten(),
                // A rule reading a segment not known for sure is not known for sure either.
                Test::When(rule) if rule.reads_any(unsure) => None,
                Test::When(rule) => rule.matches(doc, env).map_err(|e| errors.push(e)).ok(),
            };
            let segment = || match r.test {
                Test::Segment(s) => config.segments.get(s).map(|s| s.id.clone()),
                Test::When(_) => None,
            };
            match holds {
                Some(false) => {}
                Some(true) => {
                    picked = Some((r.menu, MenuReason { rule: Some(i), segment: segment(), ..MenuReason::default() }));
                    break;
                }
                // Not known whether this rule holds, so neither is which menu fits: a rule or
                // the default further down would be a guess, and relinking on it would move a
                // user off the menu they may belong on. Left as it is.
                None => {
                    return RichMenuChoice {
                        action: MenuAction::None,
                        menu: None,
                        rich_menu_id: None,
                        current: current.map(str::to_string),
                        reason: MenuReason { rule: Some(i), segment: segment(), undetermined: true, ..MenuReason::default() },
                    }
                }
            }
        }
        let picked = picked.or_else(|| Some((self.default?, MenuReason { default: true, ..MenuReason::default() })));
        match picked.and_then(|(m, reason)| Some((menus.get(m)?, reason))) {
            Some((menu, reason)) => {
                let on_it = current.is_some_and(|c| c == menu.rich_menu_id || menu.aliases.values().any(|a| a == c));
                RichMenuChoice {
                    action: if on_it { MenuAction::None } else { MenuAction::Link },
                    menu: Some(menu.id.clone()),
                    rich_menu_id: Some(menu.rich_menu_id.clone()),
                    current: current.map(str::to_string),
                    reason,
                }
            }
            None => RichMenuChoice {
                action: if per_user { MenuAction::Unlink } else { MenuAction::None },
                menu: None,
                rich_menu_id: None,
                current: current.map(str::to_string),
                reason: MenuReason::default(),
            },
        }
    }
}

/// The user's per-user menu: a successful `richmenuswitch` tap has just linked its alias's
/// menu (LINE did it before the webhook), else the context's `user.richMenuId`. A switch to an
/// alias the config does not know leaves the user on a menu kizuna does not manage, whose id
/// the event does not give: `(None, true)`, so the chosen menu is linked again, or, when no
/// menu applies, the per-user menu is unlinked. The flag: the user has a per-user menu.
fn current_menu<'d>(menus: &'d [crate::contract::Menu], doc: &'d Value<'_>) -> (Option<&'d str>, bool) {
    let params = doc.get("event").and_then(|e| e.get("postback")).and_then(|p| p.get("params"));
    let alias = params.and_then(|p| p.get("newRichMenuAliasId")).and_then(Value::as_str);
    // LINE reports a failed switch (`RICHMENU_ALIAS_ID_NOTFOUND`, `RICHMENU_NOTFOUND`, `FAILED`).
    let switched = alias.filter(|_| params.and_then(|p| p.get("status")).and_then(Value::as_str).is_none_or(|s| s == "SUCCESS"));
    let current = match switched {
        Some(a) => menus.iter().find_map(|m| m.aliases.get(a)).map(String::as_str),
        None => doc.get("user").and_then(|u| u.get("richMenuId")).and_then(Value::as_str).filter(|s| !s.is_empty()),
    };
    (current, current.is_some() || switched.is_some())
}

/// LINE's most user ids per bulk link or unlink request.
pub const BULK_LIMIT: usize = 500;

/// One Messaging API call of a batch: `POST /v2/bot/richmenu/bulk/link` with
/// `{richMenuId, userIds}` or `POST /v2/bot/richmenu/bulk/unlink` with `{userIds}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BulkRequest {
    pub method: &'static str,
    pub path: &'static str,
    pub body: BulkBody,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rich_menu_id: Option<String>,
    pub user_ids: Vec<String>,
}

/// Groups the link and unlink actions of many decisions into bulk requests of at most 500
/// users each (see [`BulkBatch`]).
pub fn bulk_requests<'d>(decisions: impl IntoIterator<Item = &'d Decision>) -> Result<Vec<BulkRequest>, Error> {
    let mut batch = BulkBatch::default();
    for d in decisions {
        batch.add(d)?;
    }
    Ok(batch.requests())
}

/// [`bulk_requests`] for decisions as JSON text (see [`BulkBatch::from_json`]); the requests
/// as a JSON array.
pub fn bulk_requests_json(text: &str) -> Result<String, Error> {
    Ok(requests_json(&BulkBatch::from_json(text)?.requests()))
}

/// A batch's rich-menu actions, added one decision at a time; it keeps only each user's last
/// target, so a batch of any size streams through it (`kizuna menus` reads NDJSON line by
/// line). The requests: one series per target menu (in order of first appearance), then
/// unlinks, at most 500 users each; a user decided twice counts once, with their last decision.
///
/// Refused, with the record's index (`/3`) and nothing sent: a record that is not a decision,
/// and a link or unlink for a user id that is not LINE's (`U` and 32 lowercase hex digits) —
/// such an id is no LINE user, and LINE checks a request's body whole (a 400 names the bad
/// property), so it risks the request for all its users. The error records `kizuna decide`
/// and `decideMany` write for contexts they could not decide (`{"error": …}`) are skipped:
/// nothing was decided for them.
#[derive(Debug, Default)]
pub struct BulkBatch {
    /// What [`BulkBatch::add_json`] reads of a record, made on its first call.
    read: Option<Projection>,
    /// Per user, the index of their slot in `targets` (in order of first appearance).
    users: std::collections::BTreeMap<String, usize>,
    /// Per user: `Some(Some(m))` link `menus[m]`, `Some(None)` unlink, `None` after a "none".
    targets: Vec<Option<Option<usize>>>,
    /// The rich menu ids linked, each once.
    menus: Vec<String>,
    records: usize,
}

impl BulkBatch {
    /// The decisions of JSON text: an array, or NDJSON as `kizuna decide` writes it (where an
    /// error also names its `line`); each record read as [`BulkBatch::add_json`] reads one.
    pub fn from_json(text: &str) -> Result<BulkBatch, Error> {
        let text = crate::value::without_bom(text);
        let mut batch = BulkBatch::default();
        if text.trim_start().starts_with('[') {
            let docs = match crate::value::parse(text) {
                Ok(Value::Array(items)) => items,
                Ok(_) => Vec::new(),
                Err(e) => return Err(Error::new(crate::error::Code::InvalidJson, "", format!("the decisions are not valid JSON: {e}"))),
            };
            for d in &docs {
                batch.add_doc(d, None)?;
            }
        } else {
            for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                batch.add_json(line, Some(u32::try_from(n + 1).unwrap_or(u32::MAX)))?;
            }
        }
        Ok(batch)
    }

    /// One decision.
    pub fn add(&mut self, d: &Decision) -> Result<(), Error> {
        let i = self.next_record();
        match d.rich_menu.as_ref() {
            Some(m) => self.record(i, None, &d.user_id, m.action, m.rich_menu_id.as_deref()),
            None => Ok(()),
        }
    }

    /// One decision as JSON text (a line of `kizuna decide`'s output); `line` names it in errors.
    /// Only `userId`, `richMenu`, `error` and `decisionId` are read (with the crate's own
    /// parser: no typed deserializer in the Wasm binary); an explained decision's trace, which
    /// quotes the context, is skipped unbuilt.
    pub fn add_json(&mut self, record: &str, line: Option<u32>) -> Result<(), Error> {
        let read = self.read.get_or_insert_with(|| {
            let mut read = Projection::none();
            read.add(["userId"]);
            read.add(["richMenu"]);
            read.add_shape(&["error"]);
            read.add_shape(&["decisionId"]);
            read
        });
        match crate::value::parse_projected(record, read) {
            Ok(d) => self.add_doc(&d, line),
            Err(e) => Err(not_a_decision(self.next_record(), line, &e.to_string())),
        }
    }

    fn add_doc(&mut self, d: &Value<'_>, line: Option<u32>) -> Result<(), Error> {
        let i = self.next_record();
        let bad = |why: &str| not_a_decision(i, line, why);
        if d.get("error").is_some() && d.get("decisionId").is_none() {
            return Ok(());
        }
        let user = d.get("userId").and_then(Value::as_str).ok_or_else(|| bad("no \"userId\""))?;
        let Some(m) = d.get("richMenu") else {
            return if d.get("decisionId").is_none() { Err(bad("no \"decisionId\"")) } else { Ok(()) };
        };
        let action = match m.get("action").and_then(Value::as_str) {
            Some("link") => MenuAction::Link,
            Some("unlink") => MenuAction::Unlink,
            Some("none") => MenuAction::None,
            _ => return Err(bad("\"richMenu.action\" must be link, unlink or none")),
        };
        self.record(i, line, user, action, m.get("richMenuId").and_then(Value::as_str))
    }

    fn next_record(&mut self) -> usize {
        self.records += 1;
        self.records - 1
    }

    fn record(&mut self, i: usize, line: Option<u32>, user: &str, action: MenuAction, menu: Option<&str>) -> Result<(), Error> {
        if action == MenuAction::Link && menu.is_none() {
            return Err(not_a_decision(i, line, "a link needs \"richMenu.richMenuId\""));
        }
        if action != MenuAction::None && !crate::line::is_user_id(user) {
            let mut e = Error::new(
                crate::error::Code::InvalidValue,
                format!("/{i}/userId"),
                format!(
                    "record {}: \"{user}\" is not a LINE user id (\"U\" and 32 lowercase hex digits, a webhook's source.userId); LINE checks a request's body whole, so it risks the bulk request it is in for all its users",
                    i + 1
                ),
            );
            e.line = line;
            return Err(e);
        }
        let target = match (action, menu) {
            (MenuAction::Link, Some(m)) => Some(Some(match self.menus.iter().position(|x| x == m) {
                Some(k) => k,
                None => {
                    self.menus.push(m.to_string());
                    self.menus.len() - 1
                }
            })),
            (MenuAction::Unlink, _) => Some(None),
            _ => None,
        };
        match self.users.get(user).and_then(|&k| self.targets.get_mut(k)) {
            Some(slot) => *slot = target,
            None => {
                self.users.insert(user.to_string(), self.targets.len());
                self.targets.push(target);
            }
        }
        Ok(())
    }

    /// The requests of the batch so far.
    pub fn requests(self) -> Vec<BulkRequest> {
        let mut order: Vec<Option<String>> = vec![None; self.targets.len()];
        for (user, k) in self.users {
            if let Some(slot) = order.get_mut(k) {
                *slot = Some(user);
            }
        }
        // Series by target in order of first appearance: links first, unlinks last.
        let mut series: Vec<(Option<usize>, Vec<String>)> = Vec::new();
        for (user, target) in order.into_iter().zip(self.targets) {
            let (Some(user), Some(target)) = (user, target) else { continue };
            match series.iter_mut().find(|(t, _)| *t == target) {
                Some((_, users)) => users.push(user),
                None => series.push((target, vec![user])),
            }
        }
        crate::sort::sort_stable_by(&mut series, &mut |a, b| a.0.is_some() && b.0.is_none());
        let mut out = Vec::new();
        for (target, users) in series {
            let menu = target.and_then(|k| self.menus.get(k)).cloned();
            for chunk in users.chunks(BULK_LIMIT) {
                out.push(BulkRequest {
                    method: "POST",
                    path: if target.is_some() { "/v2/bot/richmenu/bulk/link" } else { "/v2/bot/richmenu/bulk/unlink" },
                    body: BulkBody { rich_menu_id: menu.clone(), user_ids: chunk.to_vec() },
                });
            }
        }
        out
    }
}

/// Record `i` (0-based) is not a decision kizuna can batch.
fn not_a_decision(i: usize, line: Option<u32>, why: &str) -> Error {
    let mut e = Error::new(crate::error::Code::InvalidValue, format!("/{i}"), format!("record {} is not a decision: {why}", i + 1));
    e.line = line;
    e
}

/// The requests as a JSON array (see [`BulkRequest::write_json`]).
fn requests_json(requests: &[BulkRequest]) -> String {
    let mut o = String::from("[");
    for (i, r) in requests.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        r.write_json(&mut o);
    }
    o.push(']');
    o
}

impl BulkRequest {
    /// Appends the request as JSON, as its `Serialize` derive writes it (a test holds both
    /// equal), without serde's generic code in the Wasm binary.
    pub fn write_json(&self, o: &mut String) {
        use crate::value::write_json_string as s;
        o.push_str("{\"method\":");
        s(self.method, o);
        o.push_str(",\"path\":");
        s(self.path, o);
        o.push_str(",\"body\":{");
        if let Some(m) = &self.body.rich_menu_id {
            o.push_str("\"richMenuId\":");
            s(m, o);
            o.push(',');
        }
        o.push_str("\"userIds\":[");
        for (j, u) in self.body.user_ids.iter().enumerate() {
            if j > 0 {
                o.push(',');
            }
            s(u, o);
        }
        o.push_str("]}}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_json_is_what_serde_writes() {
        let mut batch = BulkBatch::default();
        let user = |n: u32| format!("U{n:032x}");
        for (i, (n, action, menu)) in [(1, MenuAction::Link, Some("richmenu-a\"b")), (2, MenuAction::Unlink, None), (3, MenuAction::Link, Some("richmenu-a\"b"))].into_iter().enumerate() {
            batch.record(i, None, &user(n), action, menu).unwrap();
        }
        let requests = batch.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests_json(&requests), serde_json::to_string(&requests).unwrap());
        assert_eq!(requests_json(&[]), "[]");
    }
}
