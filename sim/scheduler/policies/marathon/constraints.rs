//! Marathon's constraint operators, as `mesosphere.mesos.Constraints` (`ConstraintsChecker`)
//! evaluates them against an offer, and as Marathon's app validation accepts them.
//!
//! A constraint is `[field, OPERATOR]` or `[field, OPERATOR, value]`. The field `hostname` (or
//! `@hostname`) is the node's hostname (label `kubernetes.io/hostname`, else its name); `@zone` and
//! `@region` are the `topology.kubernetes.io/zone` / `region` labels; any other field is a Mesos
//! text attribute, here the node label of that name. "Placed" tasks are the app's tasks already
//! on a node.

use crate::model::node::{LABEL_REGION, LABEL_ZONE, Node};
use crate::scheduler::policies::swarm::constraints::hostname;
use std::collections::BTreeMap;

/// A constraint operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// The field's value is unique among the app's tasks.
    Unique,
    /// Every task on the same value (the given one, or the first task's).
    Cluster,
    /// Tasks spread evenly over the field's values (optionally: at least this many values).
    GroupBy,
    /// The field's value fully matches a regular expression.
    Like,
    /// The field's value does not fully match a regular expression (a missing field matches).
    Unlike,
    /// At most N tasks per value.
    MaxPer,
    /// The field's value equals the value.
    Is,
}

impl Operator {
    fn parse(s: &str) -> Option<Operator> {
        Some(match s {
            "UNIQUE" => Operator::Unique,
            "CLUSTER" => Operator::Cluster,
            "GROUP_BY" => Operator::GroupBy,
            "LIKE" => Operator::Like,
            "UNLIKE" => Operator::Unlike,
            "MAX_PER" => Operator::MaxPer,
            "IS" => Operator::Is,
            _ => return None,
        })
    }
}

/// One constraint, validated.
#[derive(Clone, Debug)]
pub struct Constraint {
    /// The field.
    pub field: String,
    /// The operator.
    pub operator: Operator,
    /// The value (empty when not given).
    pub value: String,
    /// LIKE / UNLIKE: the value compiled as a full-match regular expression.
    regex: Option<regex::Regex>,
    /// GROUP_BY: the minimum number of groups (0 when not given); MAX_PER: the maximum.
    number: i64,
}

/// Parses and validates a constraint list in Marathon's app JSON form
/// (`[["hostname","UNIQUE"],["zone","GROUP_BY","3"]]`).
pub fn parse(json: &str) -> Result<Vec<Constraint>, String> {
    let raw: Vec<Vec<String>> = serde_json::from_str(json)
        .map_err(|e| format!("expected a JSON list of [field, operator, value?] string lists: {e}"))?;
    raw.iter().enumerate().map(|(i, c)| one(c).map_err(|e| format!("constraint {i} {c:?}: {e}"))).collect()
}

fn one(c: &[String]) -> Result<Constraint, String> {
    let (field, op, value) = match c {
        [f, o] => (f, o, None),
        [f, o, v] => (f, o, Some(v.as_str())),
        _ => return Err("a constraint is [field, operator] or [field, operator, value]".into()),
    };
    if field.is_empty() {
        return Err("missing field".into());
    }
    let operator = Operator::parse(op)
        .ok_or_else(|| "operator must be one of UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER or IS".to_string())?;
    let value = value.unwrap_or("").to_string();
    let mut regex = None;
    let mut number = 0;
    match operator {
        Operator::Unique if !value.is_empty() => return Err("value specified but not used".into()),
        Operator::Unique | Operator::Cluster => {}
        Operator::GroupBy if value.is_empty() => {}
        Operator::GroupBy | Operator::MaxPer => {
            number = value.parse::<i32>().map_err(|_| format!("value {value:?} is not a number"))? as i64;
        }
        Operator::Like | Operator::Unlike => {
            if value.is_empty() {
                return Err("a regular expression value must be provided".into());
            }
            regex = Some(
                regex::Regex::new(&format!("^(?:{value})$"))
                    .map_err(|e| format!("'{value}' is not a valid regular expression: {e}"))?,
            );
        }
        Operator::Is if value.is_empty() => return Err("missing value".into()),
        Operator::Is => {}
    }
    Ok(Constraint { field: field.clone(), operator, value, regex, number })
}

/// The field's value on a node (`None`: the attribute is missing).
pub fn field_value<'a>(field: &str, node: &'a Node) -> Option<&'a str> {
    match field {
        "hostname" | "@hostname" => Some(hostname(node)),
        "@zone" => node.labels.get(LABEL_ZONE).map(String::as_str),
        "@region" => node.labels.get(LABEL_REGION).map(String::as_str),
        other => node.labels.get(other).map(String::as_str),
    }
}

impl Constraint {
    /// `ConstraintsChecker.isMatch`: may a task of the app go to `offer`, given the nodes of the
    /// app's placed tasks (one entry per task)?
    pub fn matches<'a>(&self, offer: &Node, placed: &[&'a Node]) -> bool {
        let Some(v) = field_value(&self.field, offer) else {
            // checkMissingAttribute (hostname is never missing).
            return self.operator == Operator::Unlike;
        };
        let group = |n: &&'a Node| field_value(&self.field, n);
        match self.operator {
            Operator::Unique => placed.iter().all(|p| group(p) != Some(v)),
            Operator::Cluster => {
                (self.value.is_empty() || self.value == v) && placed.iter().all(|p| group(p) == Some(v))
            }
            Operator::GroupBy => {
                let groups = groups(placed, &self.field);
                let min_count = groups.values().copied().min().unwrap_or(0);
                match groups.get(&Some(v)) {
                    None => true,
                    Some(c) => groups.len() as i64 >= self.number.max(0) && *c == min_count,
                }
            }
            Operator::MaxPer => groups(placed, &self.field).get(&Some(v)).is_none_or(|c| (*c as i64) < self.number),
            Operator::Like => self.regex.as_ref().is_some_and(|r| r.is_match(v)),
            Operator::Unlike => !self.regex.as_ref().is_some_and(|r| r.is_match(v)),
            Operator::Is => self.value == v,
        }
    }
}

/// The placed tasks' count per field value (`None`: nodes without the attribute).
fn groups<'a>(placed: &[&'a Node], field: &str) -> BTreeMap<Option<&'a str>, u64> {
    let mut g = BTreeMap::new();
    for p in placed {
        *g.entry(field_value(field, p)).or_insert(0) += 1;
    }
    g
}

/// True when every constraint accepts the offer.
pub fn all_match(constraints: &[Constraint], offer: &Node, placed: &[&Node]) -> bool {
    constraints.iter().all(|c| c.matches(offer, placed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::node::LABEL_HOSTNAME;

    fn node(name: &str, labels: &[(&str, &str)]) -> Node {
        let mut l: crate::model::selector::Labels =
            labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        l.insert(LABEL_HOSTNAME.into(), name.into());
        Node {
            name: name.into(),
            labels: l,
            taints: vec![],
            allocatable: Default::default(),
            images: vec![],
            unschedulable: false,
        }
    }

    fn check(json: &str, offer: &Node, placed: &[&Node]) -> bool {
        all_match(&parse(json).unwrap(), offer, placed)
    }

    #[test]
    fn each_operator_accepts_or_rejects_as_marathon_does() {
        let a1 = node("a1", &[("zone", "a"), ("rack", "r1"), (LABEL_ZONE, "za")]);
        let a2 = node("a2", &[("zone", "a"), ("rack", "r2")]);
        let b1 = node("b1", &[("zone", "b"), ("rack", "r1")]);
        let c1 = node("c1", &[("zone", "c")]);
        type Case<'a> = (&'static str, &'static str, &'a Node, Vec<&'a Node>, bool);
        let cases: Vec<Case> = vec![
            ("UNIQUE hostname accepts the first task", r#"[["hostname","UNIQUE"]]"#, &a1, vec![], true),
            (
                "UNIQUE hostname rejects a second task on the same host",
                r#"[["hostname","UNIQUE"]]"#,
                &a1,
                vec![&a1],
                false,
            ),
            ("UNIQUE hostname accepts another host", r#"[["hostname","UNIQUE"]]"#, &a2, vec![&a1], true),
            ("UNIQUE attribute rejects a taken value", r#"[["zone","UNIQUE"]]"#, &a2, vec![&a1], false),
            ("UNIQUE attribute accepts a new value", r#"[["zone","UNIQUE"]]"#, &b1, vec![&a1], true),
            ("CLUSTER with a value accepts that value", r#"[["zone","CLUSTER","a"]]"#, &a2, vec![&a1], true),
            ("CLUSTER with a value rejects another value", r#"[["zone","CLUSTER","a"]]"#, &b1, vec![], false),
            ("CLUSTER without a value accepts the first task anywhere", r#"[["zone","CLUSTER"]]"#, &b1, vec![], true),
            ("CLUSTER without a value follows the first task", r#"[["zone","CLUSTER"]]"#, &a2, vec![&a1], true),
            ("CLUSTER without a value rejects a different value", r#"[["zone","CLUSTER"]]"#, &b1, vec![&a1], false),
            ("CLUSTER hostname keeps every task on one host", r#"[["hostname","CLUSTER","a1"]]"#, &a2, vec![], false),
            ("GROUP_BY accepts a value not yet used", r#"[["zone","GROUP_BY"]]"#, &b1, vec![&a1, &a2], true),
            ("GROUP_BY rejects the larger group", r#"[["zone","GROUP_BY"]]"#, &a1, vec![&a1, &b1, &a2], false),
            ("GROUP_BY accepts the smallest group", r#"[["zone","GROUP_BY"]]"#, &b1, vec![&a1, &b1, &a2], true),
            (
                "GROUP_BY 3 rejects a used value while fewer groups exist",
                r#"[["zone","GROUP_BY","3"]]"#,
                &b1,
                vec![&a1, &b1],
                false,
            ),
            ("GROUP_BY 3 accepts a third value", r#"[["zone","GROUP_BY","3"]]"#, &c1, vec![&a1, &b1], true),
            ("LIKE fully matches the regex", r#"[["rack","LIKE","r[12]"]]"#, &a2, vec![], true),
            ("LIKE does not match a prefix", r#"[["rack","LIKE","r"]]"#, &a2, vec![], false),
            ("LIKE rejects a node without the attribute", r#"[["rack","LIKE",".*"]]"#, &c1, vec![], false),
            ("UNLIKE rejects a full match", r#"[["rack","UNLIKE","r1"]]"#, &a1, vec![], false),
            ("UNLIKE accepts another value", r#"[["rack","UNLIKE","r1"]]"#, &a2, vec![], true),
            ("UNLIKE accepts a node without the attribute", r#"[["rack","UNLIKE","r1"]]"#, &c1, vec![], true),
            ("LIKE on hostname", r#"[["hostname","LIKE","a.*"]]"#, &b1, vec![], false),
            ("MAX_PER accepts below the limit", r#"[["zone","MAX_PER","2"]]"#, &a2, vec![&a1], true),
            ("MAX_PER rejects at the limit", r#"[["zone","MAX_PER","2"]]"#, &a2, vec![&a1, &a2], false),
            ("MAX_PER hostname counts per host", r#"[["hostname","MAX_PER","1"]]"#, &a2, vec![&a1], true),
            ("IS accepts an equal value", r#"[["zone","IS","b"]]"#, &b1, vec![], true),
            ("IS rejects another value", r#"[["zone","IS","b"]]"#, &a1, vec![], false),
            ("IS hostname", r#"[["hostname","IS","c1"]]"#, &c1, vec![], true),
            ("@zone reads the topology label", r#"[["@zone","IS","za"]]"#, &a1, vec![], true),
            ("all constraints must hold", r#"[["zone","IS","a"],["hostname","UNIQUE"]]"#, &a1, vec![&a1], false),
        ];
        for (name, json, offer, placed, want) in cases {
            assert_eq!(check(json, offer, &placed), want, "{name}");
        }
    }

    #[test]
    fn invalid_constraints_are_rejected_with_marathons_reasons() {
        let cases: &[(&str, &str)] = &[
            (r#"[["hostname","UNIQUE","x"]]"#, "value specified but not used"),
            (r#"[["hostname","SOMETIMES"]]"#, "operator must be one of"),
            (r#"[["zone","GROUP_BY","many"]]"#, "is not a number"),
            (r#"[["zone","MAX_PER"]]"#, "is not a number"),
            (r#"[["zone","LIKE"]]"#, "a regular expression value must be provided"),
            (r#"[["zone","UNLIKE","("]]"#, "is not a valid regular expression"),
            (r#"[["zone","IS"]]"#, "missing value"),
            (r#"[["zone"]]"#, "[field, operator]"),
            (r#"[["","UNIQUE"]]"#, "missing field"),
            (r#"{"zone":"UNIQUE"}"#, "expected a JSON list"),
        ];
        for (json, want) in cases {
            let e = parse(json).unwrap_err();
            assert!(e.contains(want), "{json}: {e}");
        }
    }
}
