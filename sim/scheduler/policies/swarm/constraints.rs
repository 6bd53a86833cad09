//! SwarmKit's placement constraints (`manager/constraint/constraint.go`), platform filter
//! (`manager/scheduler/filter.go` `PlatformFilter`) and placement preferences, read from pod
//! annotations and evaluated against simulator nodes.
//!
//! A constraint is `key==value` or `key!=value`. Keys match case-insensitively; values compare
//! case-insensitively (`strings.EqualFold`), as upstream. Node fields map onto the Kubernetes node
//! as follows:
//!
//! | SwarmKit key | simulator node |
//! | --- | --- |
//! | `node.id` | the node name |
//! | `node.hostname` | label `kubernetes.io/hostname` (the node name when unset) |
//! | `node.role` | label `swarm.kubesim.io/role` if set, else `manager` when the node has a `node-role.kubernetes.io/control-plane` or `.../master` label, else `worker` |
//! | `node.platform.os` / `node.platform.arch` | labels `kubernetes.io/os` / `kubernetes.io/arch` |
//! | `node.labels.X` / `engine.labels.X` | node label `X` (Kubernetes has one label set) |
//!
//! A key that is none of these parses but matches no node (upstream's `default: return false`).

use crate::model::node::{LABEL_HOSTNAME, Node};
use std::sync::LazyLock;

/// Node label overriding a node's Swarm role (`manager` or `worker`).
pub const LABEL_ROLE: &str = "swarm.kubesim.io/role";
/// Node label for `node.platform.os`.
pub const LABEL_OS: &str = "kubernetes.io/os";
/// Node label for `node.platform.arch`.
pub const LABEL_ARCH: &str = "kubernetes.io/arch";
/// Upstream `NodeLabelPrefix`.
pub const NODE_LABEL_PREFIX: &str = "node.labels.";
/// Upstream `EngineLabelPrefix`.
pub const ENGINE_LABEL_PREFIX: &str = "engine.labels.";

static KEY_PATTERN: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^(?i)[a-z_][a-z0-9\-_.]+$").expect("valid key pattern"));
static VALUE_PATTERN: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^(?i)[a-z0-9:\-_\s\.\*\(\)\?\+\[\]\\\^\$\|/]+$").expect("valid value pattern")
});

/// `==` or `!=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// `==`.
    Eq,
    /// `!=`.
    NotEq,
}

/// One placement constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    /// The key as written (`node.labels.zone`).
    pub key: String,
    /// The operator.
    pub operator: Operator,
    /// The value as written.
    pub value: String,
}

impl Constraint {
    /// Upstream `Constraint.Match`: case-insensitive equality, negated for `!=`.
    pub fn matches_value(&self, what: &str) -> bool {
        let m = self.value.to_lowercase() == what.to_lowercase();
        match self.operator {
            Operator::Eq => m,
            Operator::NotEq => !m,
        }
    }

    /// Upstream `NodeMatches` for this one constraint.
    pub fn matches_node(&self, node: &Node) -> bool {
        let key = self.key.to_ascii_lowercase();
        match key.as_str() {
            "node.id" => self.matches_value(&node.name),
            "node.hostname" => self.matches_value(hostname(node)),
            "node.role" => self.matches_value(role(node)),
            "node.platform.os" => self.matches_value(label(node, LABEL_OS)),
            "node.platform.arch" => self.matches_value(label(node, LABEL_ARCH)),
            _ => match label_key(&self.key) {
                Some(l) => self.matches_value(label(node, l)),
                None => false,
            },
        }
    }
}

/// The label named by a `node.labels.X` / `engine.labels.X` key or descriptor (prefix matched
/// case-insensitively, the label itself case-sensitive), if it is one.
pub fn label_key(key: &str) -> Option<&str> {
    for prefix in [NODE_LABEL_PREFIX, ENGINE_LABEL_PREFIX] {
        if key.len() > prefix.len()
            && key.is_char_boundary(prefix.len())
            && key[..prefix.len()].eq_ignore_ascii_case(prefix)
        {
            return Some(&key[prefix.len()..]);
        }
    }
    None
}

fn label<'a>(node: &'a Node, key: &str) -> &'a str {
    node.labels.get(key).map(String::as_str).unwrap_or("")
}

/// The node's hostname (label `kubernetes.io/hostname`, else its name).
pub fn hostname(node: &Node) -> &str {
    node.labels.get(LABEL_HOSTNAME).map(String::as_str).unwrap_or(&node.name)
}

/// The node's Swarm role (`manager` or `worker`).
pub fn role(node: &Node) -> &str {
    if let Some(r) = node.labels.get(LABEL_ROLE) {
        return r;
    }
    let manager = node.labels.contains_key("node-role.kubernetes.io/control-plane")
        || node.labels.contains_key("node-role.kubernetes.io/master");
    if manager { "manager" } else { "worker" }
}

/// Upstream `constraint.Parse` over a comma-separated list (`node.labels.zone==a,node.role!=manager`).
/// Empty items are skipped.
pub fn parse_constraints(s: &str) -> Result<Vec<Constraint>, String> {
    let mut out = Vec::new();
    for e in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let mut found = None;
        for (op, sym) in [(Operator::Eq, "=="), (Operator::NotEq, "!=")] {
            if let Some((k, v)) = e.split_once(sym) {
                found = Some((op, k.trim(), v.trim()));
                break;
            }
        }
        let Some((operator, key, value)) = found else {
            return Err(format!("constraint {e:?} expected one operator from ==, !="));
        };
        if !KEY_PATTERN.is_match(key) {
            return Err(format!("constraint {e:?}: key '{key}' is invalid"));
        }
        if !VALUE_PATTERN.is_match(value) {
            return Err(format!("constraint {e:?}: value '{value}' is invalid"));
        }
        out.push(Constraint { key: key.into(), operator, value: value.into() });
    }
    Ok(out)
}

/// True when the node satisfies every constraint (upstream `NodeMatches`).
pub fn node_matches(constraints: &[Constraint], node: &Node) -> bool {
    constraints.iter().all(|c| c.matches_node(node))
}

/// A placement preference: spread over the values of a node label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preference {
    /// The descriptor as written (`node.labels.zone`).
    pub descriptor: String,
}

impl Preference {
    /// The node's value at this level of the decision tree (`""` when the node lacks the label
    /// or the descriptor is not a label descriptor, as upstream `nodeSet.tree`).
    pub fn value<'a>(&self, node: &'a Node) -> &'a str {
        match label_key(&self.descriptor) {
            Some(l) => label(node, l),
            None => "",
        }
    }
}

/// Parses `spread=node.labels.zone,spread=node.labels.rack` (the docker CLI's `--placement-pref`
/// syntax; only `spread` exists).
pub fn parse_preferences(s: &str) -> Result<Vec<Preference>, String> {
    let mut out = Vec::new();
    for e in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((strategy, descriptor)) = e.split_once('=') else {
            return Err(format!("placement preference {e:?} must be of the form strategy=value"));
        };
        if !strategy.trim().eq_ignore_ascii_case("spread") {
            return Err(format!("unsupported placement preference {:?} (only spread is supported)", strategy.trim()));
        }
        let descriptor = descriptor.trim();
        if descriptor.is_empty() {
            return Err(format!("placement preference {e:?} has an empty spread descriptor"));
        }
        out.push(Preference { descriptor: descriptor.into() });
    }
    Ok(out)
}

/// A platform `os/arch` (either may be empty: any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    /// Operating system (`linux`).
    pub os: String,
    /// Architecture (`amd64`), normalised.
    pub arch: String,
}

fn normalize_arch(a: &str) -> String {
    match a {
        "x86_64" => "amd64".into(),
        "aarch64" => "arm64".into(),
        other => other.to_string(),
    }
}

/// Parses `linux/amd64,linux/arm64`.
pub fn parse_platforms(s: &str) -> Result<Vec<Platform>, String> {
    let mut out = Vec::new();
    for e in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (os, arch) = e.split_once('/').unwrap_or((e, ""));
        if os.contains('/') || arch.contains('/') {
            return Err(format!("platform {e:?} must be os or os/arch"));
        }
        out.push(Platform { os: os.trim().into(), arch: normalize_arch(arch.trim()) });
    }
    Ok(out)
}

/// Upstream `PlatformFilter`: a node passes when the service names no platform, or one of them
/// equals the node's (`kubernetes.io/os`, `kubernetes.io/arch`; an empty field matches anything,
/// `x86_64` ≡ `amd64`, `aarch64` ≡ `arm64`). A node without the labels has an empty platform,
/// which only a platform with empty fields matches.
pub fn platform_matches(platforms: &[Platform], node: &Node) -> bool {
    if platforms.is_empty() {
        return true;
    }
    let os = label(node, LABEL_OS);
    let arch = normalize_arch(label(node, LABEL_ARCH));
    platforms.iter().any(|p| (p.arch.is_empty() || p.arch == arch) && (p.os.is_empty() || p.os == os))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn node(name: &str, labels: &[(&str, &str)]) -> Node {
        Node {
            name: name.into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
            taints: vec![],
            allocatable: Default::default(),
            images: vec![],
            unschedulable: false,
        }
    }

    #[test]
    fn constraints_match_nodes_as_swarmkit_node_matches_does() {
        let n = node(
            "n1",
            &[
                ("zone", "a"),
                (LABEL_HOSTNAME, "host-1"),
                ("node-role.kubernetes.io/control-plane", ""),
                (LABEL_OS, "linux"),
                (LABEL_ARCH, "arm64"),
            ],
        );
        let cases: &[(&str, bool)] = &[
            ("node.labels.zone==a", true),
            ("node.labels.zone==A", true),
            ("NODE.LABELS.zone==a", true),
            ("node.labels.ZONE==a", false),
            ("node.labels.zone!=a", false),
            ("node.labels.missing!=x", true),
            ("node.labels.missing==x", false),
            ("engine.labels.zone==a", true),
            ("node.hostname==host-1", true),
            ("node.id==n1", true),
            ("node.id==host-1", false),
            ("node.role==manager", true),
            ("node.role!=manager", false),
            ("node.platform.os==linux", true),
            ("node.platform.arch==amd64", false),
            ("node.unknown==x", false),
            ("node.unknown!=x", false),
        ];
        for (text, want) in cases {
            let c = parse_constraints(text).unwrap();
            assert_eq!(node_matches(&c, &n), *want, "{text}");
        }
    }

    #[test]
    fn a_node_without_a_role_label_is_a_worker_unless_labelled() {
        assert_eq!(role(&node("w", &[])), "worker");
        assert_eq!(role(&node("m", &[(LABEL_ROLE, "manager")])), "manager");
    }

    #[test]
    fn malformed_constraints_are_rejected_with_upstream_messages() {
        let cases: &[(&str, &str)] = &[
            ("node.labels.zone=a", "expected one operator"),
            ("node.labels.zone>a", "expected one operator"),
            ("==a", "key '' is invalid"),
            ("1node==a", "key '1node' is invalid"),
            ("node.labels.zone==", "value '' is invalid"),
            ("node.labels.zone==a<b", "value 'a<b' is invalid"),
            ("node.labels.topology.kubernetes.io/zone==a", "key 'node.labels.topology.kubernetes.io/zone' is invalid"),
        ];
        for (text, want) in cases {
            let e = parse_constraints(text).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn several_constraints_split_on_commas_and_all_must_hold() {
        let c = parse_constraints(" node.labels.zone==a , node.role!=manager ").unwrap();
        assert_eq!(c.len(), 2);
        assert!(node_matches(&c, &node("x", &[("zone", "a")])));
        assert!(!node_matches(&c, &node("x", &[("zone", "a"), (LABEL_ROLE, "manager")])));
    }

    #[test]
    fn preferences_accept_only_spread() {
        let p = parse_preferences("spread=node.labels.zone, spread=node.labels.rack").unwrap();
        assert_eq!(p[1].descriptor, "node.labels.rack");
        assert_eq!(p[0].value(&node("x", &[("zone", "b")])), "b");
        assert_eq!(p[0].value(&node("x", &[])), "");
        assert!(parse_preferences("binpack=node.labels.zone").unwrap_err().contains("only spread"));
        assert!(parse_preferences("spread").unwrap_err().contains("strategy=value"));
        assert!(parse_preferences("spread=").unwrap_err().contains("empty"));
    }

    #[test]
    fn platforms_match_with_architecture_aliases() {
        let amd = node("x", &[(LABEL_OS, "linux"), (LABEL_ARCH, "amd64")]);
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("linux/x86_64", true),
            ("linux/arm64", false),
            ("linux", true),
            ("windows/amd64", false),
            ("windows/amd64,linux/amd64", true),
        ];
        for (text, want) in cases {
            assert_eq!(platform_matches(&parse_platforms(text).unwrap(), &amd), *want, "{text}");
        }
        assert!(!platform_matches(&parse_platforms("windows").unwrap(), &node("unknown", &[])));
        assert!(platform_matches(&parse_platforms("").unwrap(), &node("unknown", &[])));
        assert!(parse_platforms("a/b/c").is_err());
    }
}
