//! "Why did this rule match?": re-evaluates a rule and records the sub-conditions that decided
//! the result, with the values they saw.

use super::coerce::truthy;
use super::eval::{Cx, EvalError, Scope};
use super::node::{Node, Op};
use super::Step;
use crate::value::Value;
use std::borrow::Cow;

/// At most this many steps are recorded; the result is still computed in full.
pub(crate) const MAX_STEPS: usize = 32;

pub(crate) struct Explainer<'r> {
    pub paths: &'r [Box<str>],
    pub steps: Vec<Step>,
}

impl Explainer<'_> {
    fn push(&mut self, step: Step) {
        if self.steps.len() < MAX_STEPS {
            self.steps.push(step);
        }
    }

    /// Puts back the steps recorded before a composite node, followed by the ones it keeps.
    fn restore(&mut self, outer: Vec<Step>, kept: impl IntoIterator<Item = Step>) {
        self.steps = outer;
        self.steps.extend(kept);
        self.steps.truncate(MAX_STEPS);
    }

    /// Evaluates `node` like [`Node::eval`], recording steps: the deciding children of
    /// `and`/`or`, the operand of `!`/`!!`, the taken branch of `if`, else one step.
    pub fn node<'x, 'a>(&mut self, node: &'x Node, sc: &Scope<'_, 'x, 'a>, cx: &Cx) -> Result<Cow<'x, Value<'a>>, EvalError> {
        match &node.op {
            Op::And(args) | Op::Or(args) if !args.is_empty() => {
                let is_and = matches!(node.op, Op::And(_));
                let outer = std::mem::take(&mut self.steps);
                let mut all = Vec::new();
                let mut last = None;
                for child in args {
                    let v = self.node(child, sc, cx);
                    let child_steps = std::mem::take(&mut self.steps);
                    let v = match v {
                        Ok(v) => v,
                        Err(e) => {
                            self.restore(outer, all.into_iter().chain(child_steps));
                            return Err(e);
                        }
                    };
                    // The first falsy child decides an `and`, the first truthy one an `or`.
                    if truthy(&v) != is_and {
                        self.restore(outer, child_steps);
                        return Ok(v);
                    }
                    all.extend(child_steps);
                    last = Some(v);
                }
                self.restore(outer, all);
                Ok(last.unwrap_or(Cow::Owned(Value::Bool(false))))
            }
            Op::Not(child) | Op::Truthy(child) => {
                let v = self.node(child, sc, cx)?;
                let t = truthy(&v);
                Ok(Cow::Owned(Value::Bool(if matches!(node.op, Op::Not(_)) { !t } else { t })))
            }
            Op::If(args) => {
                // Keep the condition taken (or, when the else branch runs, the conditions that
                // all failed), then the chosen branch.
                let outer = std::mem::take(&mut self.steps);
                let mut kept = Vec::new();
                let mut i = 0;
                let chosen = loop {
                    let (Some(cond), Some(then)) = (args.get(i), args.get(i + 1)) else { break args.get(i) };
                    let v = self.node(cond, sc, cx);
                    let cond_steps = std::mem::take(&mut self.steps);
                    match v {
                        Ok(v) if truthy(&v) => {
                            kept = cond_steps;
                            break Some(then);
                        }
                        Ok(_) => kept.extend(cond_steps),
                        Err(e) => {
                            self.restore(outer, kept.into_iter().chain(cond_steps));
                            return Err(e);
                        }
                    }
                    i += 2;
                };
                self.restore(outer, kept);
                match chosen {
                    Some(branch) => self.node(branch, sc, cx),
                    None => Ok(Cow::Owned(Value::Null)),
                }
            }
            _ => {
                let result = node.eval(sc, cx);
                if let Ok(v) = &result {
                    self.leaf(node, v, sc, cx);
                }
                result
            }
        }
    }

    /// One step for a leaf operation: its operands' values (until one fails) and its result.
    fn leaf<'x, 'a>(&mut self, node: &'x Node, result: &Value, sc: &Scope<'_, 'x, 'a>, cx: &Cx) {
        if self.steps.len() >= MAX_STEPS {
            return;
        }
        let mut args: Vec<serde_json::Value> = Vec::new();
        match &node.op {
            Op::Lit(_) => {}
            Op::Var { path: super::node::PathSpec::Static { keys, .. }, .. } | Op::Val(super::node::PathSpec::Static { keys, .. }) => {
                let dotted: Vec<&str> = keys.iter().map(|k| &*k.name).collect();
                args.push(serde_json::Value::String(dotted.join(".")));
            }
            Op::Tags(_, tags) => {
                args.extend(tags.iter().map(|t| serde_json::Value::String(t.to_string())));
                if let Some(user_tags) = sc.root.get("user").and_then(|u| u.get("tags")) {
                    args.push(user_tags.to_serde());
                }
            }
            Op::InSegment(_, name) => args.push(serde_json::Value::String(name.to_string())),
            _ => {
                for operand in node.operands() {
                    match operand.eval(sc, cx) {
                        Ok(v) => args.push(v.to_serde()),
                        Err(_) => break,
                    }
                }
            }
        }
        let path = self.paths.get(node.id as usize).map_or_else(String::new, |p| p.to_string());
        self.push(Step { path, op: node.name().to_string(), args, result: result.to_serde() });
    }
}
