//! Label selectors and node selectors with Kubernetes v1.33 semantics.
//!
//! This module mirrors three upstream pieces exactly:
//!
//! * `k8s.io/apimachinery/pkg/labels` — [`LabelSelectorRequirement::matches`] is
//!   `labels.Requirement.Matches`, and the syntax checks (qualified-name keys,
//!   label values, value counts, integer `Gt`/`Lt` operands) are `labels.NewRequirement`.
//! * `metav1.LabelSelectorAsSelector` — [`LabelSelector::matches`] and
//!   [`selector_matches`]: a missing (`nil`) selector matches nothing, an empty one
//!   matches everything, `matchLabels` are ANDed with `matchExpressions`, and only
//!   `In`, `NotIn`, `Exists` and `DoesNotExist` are valid operators.
//! * `k8s.io/component-helpers/scheduling/corev1/nodeaffinity` — [`NodeSelector::matches`]
//!   (the lazy-error node selector the scheduler uses): terms are ORed, a term with
//!   neither expressions nor fields matches nothing, and a term that fails to parse
//!   does not match while the other terms are still evaluated.
//!
//! Matching never panics: an invalid selector simply does not match, exactly where
//! upstream would have returned a parse error instead of a selector. Use the
//! `validate` methods at load time to report such selectors to the user.
//!
//! Labels are a [`BTreeMap`] so that every iteration order is deterministic.

use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A set of labels (`metadata.labels`, `spec.nodeSelector`, ...), ordered by key.
pub type Labels = BTreeMap<String, String>;

/// The only field key that `matchFields` of a node selector term supports.
pub const NODE_NAME_FIELD: &str = "metadata.name";

/// `metav1.LabelSelector`: `matchLabels` ANDed with `matchExpressions`.
///
/// An empty selector (no labels, no expressions) matches every label set; see
/// [`selector_matches`] for the different meaning of a missing selector.
#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    /// Exact `key: value` pairs that must all be present.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: Labels,
    /// Requirements that must all hold.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One requirement: `metav1.LabelSelectorRequirement` or `v1.NodeSelectorRequirement`
/// (the two share their shape; only node selectors allow `Gt` and `Lt`).
#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelectorRequirement {
    /// The label key (or, in `matchFields`, the field key) the requirement applies to.
    pub key: String,
    /// How the key's value is compared with [`values`](Self::values).
    pub operator: SelectorOperator,
    /// The operand values; their required number depends on the operator.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// A selector operator, spelled as in Kubernetes manifests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Deserialize, Serialize)]
pub enum SelectorOperator {
    /// The key is present and its value is one of the values.
    #[default]
    In,
    /// The key is absent, or its value is none of the values.
    NotIn,
    /// The key is present (values must be empty).
    Exists,
    /// The key is absent (values must be empty).
    DoesNotExist,
    /// The key is present and its integer value is greater than the single value
    /// (node selectors only).
    Gt,
    /// The key is present and its integer value is less than the single value
    /// (node selectors only).
    Lt,
}

impl SelectorOperator {
    /// The operator as Kubernetes spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            SelectorOperator::In => "In",
            SelectorOperator::NotIn => "NotIn",
            SelectorOperator::Exists => "Exists",
            SelectorOperator::DoesNotExist => "DoesNotExist",
            SelectorOperator::Gt => "Gt",
            SelectorOperator::Lt => "Lt",
        }
    }
}

impl fmt::Display for SelectorOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `v1.NodeSelector` (required node affinity): the terms are ORed.
///
/// An empty term list matches no node.
#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSelector {
    /// The terms, of which at least one must match.
    pub node_selector_terms: Vec<NodeSelectorTerm>,
}

/// `v1.NodeSelectorTerm`: all expressions and all fields are ANDed.
///
/// A term with neither expressions nor fields matches no node.
#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSelectorTerm {
    /// Requirements on the node's labels (all six operators allowed).
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
    /// Requirements on the node's fields: only key `metadata.name` with `In` or
    /// `NotIn` and exactly one value.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub match_fields: Vec<LabelSelectorRequirement>,
}

/// Why a selector is invalid. Every message names the key and the operator.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// `In` or `NotIn` without values.
    #[error("key {key:?}: operator {operator} requires at least one value")]
    EmptyValues {
        /// The requirement's key.
        key: String,
        /// The requirement's operator.
        operator: SelectorOperator,
    },
    /// `Exists` or `DoesNotExist` with values.
    #[error("key {key:?}: operator {operator} must not have values (got {count})")]
    UnexpectedValues {
        /// The requirement's key.
        key: String,
        /// The requirement's operator.
        operator: SelectorOperator,
        /// How many values were given.
        count: usize,
    },
    /// `Gt`/`Lt` (or a `matchFields` requirement) without exactly one value.
    #[error("key {key:?}: operator {operator} requires exactly one value (got {count})")]
    NotSingleValue {
        /// The requirement's key.
        key: String,
        /// The requirement's operator.
        operator: SelectorOperator,
        /// How many values were given.
        count: usize,
    },
    /// A `Gt`/`Lt` operand that is not a base-10 `i64`.
    #[error("key {key:?}: operator {operator} requires an integer value, got {value:?}")]
    NonIntegerValue {
        /// The requirement's key.
        key: String,
        /// The requirement's operator.
        operator: SelectorOperator,
        /// The offending value.
        value: String,
    },
    /// `Gt`/`Lt` in a `metav1.LabelSelector`, which allows only `In`, `NotIn`,
    /// `Exists` and `DoesNotExist`.
    #[error(
        "key {key:?}: operator {operator} is not valid in a label selector \
         (only In, NotIn, Exists, DoesNotExist)"
    )]
    UnsupportedOperator {
        /// The requirement's key.
        key: String,
        /// The requirement's operator.
        operator: SelectorOperator,
    },
    /// A key that is not a Kubernetes qualified name (`[prefix/]name`).
    #[error("key {key:?} (operator {operator}): invalid label key: {reason}")]
    InvalidKey {
        /// The offending key.
        key: String,
        /// The operator (`Equals` for a `matchLabels` entry).
        operator: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A value that is not a valid label value.
    #[error("key {key:?} (operator {operator}): invalid label value {value:?}: {reason}")]
    InvalidValue {
        /// The requirement's key.
        key: String,
        /// The operator (`Equals` for a `matchLabels` entry).
        operator: &'static str,
        /// The offending value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `matchFields` key other than `metadata.name`.
    #[error(
        "matchFields key {key:?} (operator {operator}) is not supported: \
         the only supported field is \"metadata.name\""
    )]
    UnsupportedFieldKey {
        /// The offending key.
        key: String,
        /// The requirement's operator.
        operator: SelectorOperator,
    },
    /// A `matchFields` operator other than `In` or `NotIn`.
    #[error("matchFields key {key:?}: operator {operator} is not supported (only In, NotIn)")]
    UnsupportedFieldOperator {
        /// The requirement's key.
        key: String,
        /// The offending operator.
        operator: SelectorOperator,
    },
    /// A `matchFields` `metadata.name` value that is not a valid node name.
    #[error("matchFields key {key:?} (operator {operator}): invalid node name {value:?}: {reason}")]
    InvalidFieldValue {
        /// The requirement's key.
        key: String,
        /// The requirement's operator.
        operator: SelectorOperator,
        /// The offending value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A node selector with no terms (the API server requires at least one).
    #[error("node selector must have at least one nodeSelectorTerm")]
    NoTerms,
}

impl LabelSelector {
    /// Whether the selector has neither `matchLabels` nor `matchExpressions`
    /// (and so matches everything).
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Checks the selector as `metav1.LabelSelectorAsSelector` and the API server do:
    /// qualified-name keys, valid label values, only `In`/`NotIn`/`Exists`/
    /// `DoesNotExist`, and value counts that fit the operator.
    ///
    /// # Errors
    ///
    /// The first [`SelectorError`] found, in `matchLabels` then `matchExpressions` order.
    pub fn validate(&self) -> Result<(), SelectorError> {
        for (key, value) in &self.match_labels {
            check_key(key, "Equals")?;
            check_value(key, "Equals", value)?;
        }
        for req in &self.match_expressions {
            if matches!(req.operator, SelectorOperator::Gt | SelectorOperator::Lt) {
                return Err(SelectorError::UnsupportedOperator { key: req.key.clone(), operator: req.operator });
            }
            req.check()?;
        }
        Ok(())
    }

    /// Whether `labels` satisfy the selector (`LabelSelectorAsSelector(sel).Matches`).
    ///
    /// An empty selector matches everything. An invalid selector (see
    /// [`validate`](Self::validate)) matches nothing, since upstream cannot turn it
    /// into a selector at all.
    pub fn matches(&self, labels: &Labels) -> bool {
        if self.is_empty() {
            return true;
        }
        if self.validate().is_err() {
            return false;
        }
        self.match_labels.iter().all(|(k, v)| labels.get(k).is_some_and(|l| l == v))
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }
}

/// Matches an optional selector as `metav1.LabelSelectorAsSelector` does.
///
/// The distinction between a missing and an empty selector is deliberate upstream:
/// `None` (a `nil` selector, e.g. a PodDisruptionBudget or affinity term without
/// `selector`) matches **nothing**, because `LabelSelectorAsSelector(nil)` returns
/// `labels.Nothing()`; `Some(&LabelSelector::default())` (`selector: {}`) matches
/// **everything**, because it returns `labels.Everything()`.
pub fn selector_matches(sel: Option<&LabelSelector>, labels: &Labels) -> bool {
    sel.is_some_and(|s| s.matches(labels))
}

/// Whether every `key: value` of a pod's `spec.nodeSelector` is present with an equal
/// value in the node's labels. An empty map matches every node.
///
/// Like the scheduler (`labels.SelectorFromValidatedSet`), this does not re-validate
/// the map.
pub fn node_selector_map_matches(node_selector: &Labels, node_labels: &Labels) -> bool {
    node_selector.iter().all(|(k, v)| node_labels.get(k).is_some_and(|l| l == v))
}

impl LabelSelectorRequirement {
    /// Whether `labels` satisfy this single requirement, exactly as
    /// `labels.Requirement.Matches`; all six operators are supported.
    ///
    /// * `In`: the key is present and its value is one of `values`.
    /// * `NotIn`: the key is absent, or its value is none of `values`.
    /// * `Exists` / `DoesNotExist`: the key is present / absent.
    /// * `Gt` / `Lt`: the key is present, its value parses as an `i64`, there is exactly
    ///   one requirement value, it parses as an `i64`, and the label is strictly
    ///   greater / less. Any parse failure means no match.
    ///
    /// The requirement itself is not validated here (an `In` with no values simply
    /// matches nothing); the selector-level `matches` methods do that.
    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            SelectorOperator::In => value.is_some_and(|v| self.values.contains(v)),
            SelectorOperator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            SelectorOperator::Exists => value.is_some(),
            SelectorOperator::DoesNotExist => value.is_none(),
            SelectorOperator::Gt | SelectorOperator::Lt => {
                let Some(label) = value.and_then(|v| parse_int(v)) else {
                    return false;
                };
                let [operand] = self.values.as_slice() else {
                    return false;
                };
                let Some(operand) = parse_int(operand) else {
                    return false;
                };
                if self.operator == SelectorOperator::Gt { label > operand } else { label < operand }
            }
        }
    }

    /// `labels.NewRequirement`: key syntax, value count per operator, integer
    /// `Gt`/`Lt` operand, and value syntax. Allows all six operators.
    fn check(&self) -> Result<(), SelectorError> {
        let key = &self.key;
        let operator = self.operator;
        check_key(key, operator.as_str())?;
        match operator {
            SelectorOperator::In | SelectorOperator::NotIn => {
                if self.values.is_empty() {
                    return Err(SelectorError::EmptyValues { key: key.clone(), operator });
                }
            }
            SelectorOperator::Exists | SelectorOperator::DoesNotExist => {
                if !self.values.is_empty() {
                    return Err(SelectorError::UnexpectedValues {
                        key: key.clone(),
                        operator,
                        count: self.values.len(),
                    });
                }
            }
            SelectorOperator::Gt | SelectorOperator::Lt => {
                if self.values.len() != 1 {
                    return Err(SelectorError::NotSingleValue { key: key.clone(), operator, count: self.values.len() });
                }
                if let Some(bad) = self.values.iter().find(|v| parse_int(v).is_none()) {
                    return Err(SelectorError::NonIntegerValue { key: key.clone(), operator, value: bad.clone() });
                }
            }
        }
        for value in &self.values {
            check_value(key, operator.as_str(), value)?;
        }
        Ok(())
    }

    /// How the node-affinity matcher parses a `matchFields` requirement
    /// (`nodeSelectorRequirementsAsFieldSelector`): `In` or `NotIn`, one value.
    fn check_field_parse(&self) -> Result<(), SelectorError> {
        match self.operator {
            SelectorOperator::In | SelectorOperator::NotIn => {
                if self.values.len() == 1 {
                    Ok(())
                } else {
                    Err(SelectorError::NotSingleValue {
                        key: self.key.clone(),
                        operator: self.operator,
                        count: self.values.len(),
                    })
                }
            }
            _ => Err(SelectorError::UnsupportedFieldOperator { key: self.key.clone(), operator: self.operator }),
        }
    }

    /// API validation of a `matchFields` requirement
    /// (`ValidateNodeFieldSelectorRequirement`): the parse rules, key
    /// `metadata.name`, and node-name (DNS-1123 subdomain) values.
    fn check_field(&self) -> Result<(), SelectorError> {
        self.check_field_parse()?;
        if self.key != NODE_NAME_FIELD {
            return Err(SelectorError::UnsupportedFieldKey { key: self.key.clone(), operator: self.operator });
        }
        for value in &self.values {
            if let Some(reason) = dns1123_subdomain_error(value) {
                return Err(SelectorError::InvalidFieldValue {
                    key: self.key.clone(),
                    operator: self.operator,
                    value: value.clone(),
                    reason,
                });
            }
        }
        Ok(())
    }

    /// A `matchFields` requirement against the node's fields `{metadata.name: name}`.
    /// An unknown field reads as `""`, as `fields.Set.Get` does.
    fn field_matches(&self, node_name: &str) -> bool {
        let field = if self.key == NODE_NAME_FIELD { node_name } else { "" };
        match (self.operator, self.values.as_slice()) {
            (SelectorOperator::In, [v]) => field == v,
            (SelectorOperator::NotIn, [v]) => field != v,
            _ => false,
        }
    }
}

impl NodeSelector {
    /// Validates as the API server does (`ValidateNodeSelector`): at least one term,
    /// and every term valid (see [`NodeSelectorTerm::validate`]).
    ///
    /// # Errors
    ///
    /// [`SelectorError::NoTerms`], or the first error of the first invalid term.
    pub fn validate(&self) -> Result<(), SelectorError> {
        if self.node_selector_terms.is_empty() {
            return Err(SelectorError::NoTerms);
        }
        self.node_selector_terms.iter().try_for_each(NodeSelectorTerm::validate)
    }

    /// Whether a node with this name and these labels satisfies the selector
    /// (`nodeaffinity.LazyErrorNodeSelector.Match`): any term matches.
    ///
    /// An empty term list matches nothing; empty or invalid terms never match, but the
    /// remaining terms are still evaluated.
    pub fn matches(&self, node_name: &str, node_labels: &Labels) -> bool {
        self.node_selector_terms.iter().any(|t| t.matches(node_name, node_labels))
    }
}

impl NodeSelectorTerm {
    /// Whether the term has neither expressions nor fields (and so matches nothing).
    pub fn is_empty(&self) -> bool {
        self.match_expressions.is_empty() && self.match_fields.is_empty()
    }

    /// Validates as the API server does (`ValidateNodeSelectorTerm`), plus the integer
    /// check on `Gt`/`Lt` operands that the matcher applies. An empty term is valid
    /// (it just matches nothing).
    ///
    /// # Errors
    ///
    /// The first [`SelectorError`] found, in `matchExpressions` then `matchFields` order.
    pub fn validate(&self) -> Result<(), SelectorError> {
        for req in &self.match_expressions {
            req.check()?;
        }
        for req in &self.match_fields {
            req.check_field()?;
        }
        Ok(())
    }

    /// The parse check of the node-affinity matcher (`newNodeSelectorTerm`): the rules under
    /// which [`matches`](Self::matches) treats the term as unparseable. Laxer than
    /// [`validate`](Self::validate) (no `metadata.name` key or node-name value checks), as
    /// upstream's `nodeaffinity.NewNodeSelector` / `NewPreferredSchedulingTerms` are.
    ///
    /// # Errors
    ///
    /// The first [`SelectorError`] found, in `matchExpressions` then `matchFields` order.
    pub fn check_parse(&self) -> Result<(), SelectorError> {
        for req in &self.match_expressions {
            req.check()?;
        }
        for req in &self.match_fields {
            req.check_field_parse()?;
        }
        Ok(())
    }

    /// Whether a node with this name and these labels satisfies every expression and
    /// every field of the term (`nodeSelectorTerm.match`).
    ///
    /// * An empty term matches nothing.
    /// * A term that fails to parse (bad key or value syntax, wrong value count, a
    ///   non-integer `Gt`/`Lt` operand, a `matchFields` operator other than `In`/`NotIn`)
    ///   matches nothing.
    /// * `matchFields` is compared against `{metadata.name: node_name}`; any other
    ///   field key reads as `""` (upstream API validation rejects such keys; see
    ///   [`validate`](Self::validate)). As upstream, when `node_name` is empty the node
    ///   has no fields and `matchFields` is not evaluated.
    pub fn matches(&self, node_name: &str, node_labels: &Labels) -> bool {
        if self.is_empty() {
            return false;
        }
        let parses = self.match_expressions.iter().all(|r| r.check().is_ok())
            && self.match_fields.iter().all(|r| r.check_field_parse().is_ok());
        if !parses {
            return false;
        }
        if !self.match_expressions.iter().all(|r| r.matches(node_labels)) {
            return false;
        }
        node_name.is_empty() || self.match_fields.iter().all(|r| r.field_matches(node_name))
    }
}

/// `strconv.ParseInt(s, 10, 64)`: optional `+`/`-` sign and ASCII digits, in range.
fn parse_int(s: &str) -> Option<i64> {
    s.parse::<i64>().ok()
}

/// Deserializes JSON/YAML `null` as the type's default, as Go's decoder leaves a
/// `null` slice or map empty.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn check_key(key: &str, operator: &'static str) -> Result<(), SelectorError> {
    match qualified_name_error(key) {
        None => Ok(()),
        Some(reason) => Err(SelectorError::InvalidKey { key: key.to_owned(), operator, reason }),
    }
}

fn check_value(key: &str, operator: &'static str, value: &str) -> Result<(), SelectorError> {
    match label_value_error(value) {
        None => Ok(()),
        Some(reason) => {
            Err(SelectorError::InvalidValue { key: key.to_owned(), operator, value: value.to_owned(), reason })
        }
    }
}

/// Maximum length of a label value and of the name part of a qualified name.
const MAX_NAME_LEN: usize = 63;
/// Maximum length of a DNS-1123 subdomain.
const MAX_SUBDOMAIN_LEN: usize = 253;

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, the qualified-name / label-value shape.
fn is_qualified_shape(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// `validation.IsQualifiedName`: `[DNS-1123 subdomain "/"] name`, name at most 63
/// characters of the qualified shape.
fn qualified_name_error(key: &str) -> Option<String> {
    let parts: Vec<&str> = key.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                return Some("prefix part must be non-empty".to_owned());
            }
            if let Some(reason) = dns1123_subdomain_error(prefix) {
                return Some(format!("prefix part {reason}"));
            }
            *name
        }
        _ => {
            return Some(
                "a qualified name must consist of alphanumeric characters, '-', '_' or '.', \
                 and must start and end with an alphanumeric character, with an optional \
                 DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
                    .to_owned(),
            );
        }
    };
    if name.is_empty() {
        return Some("name part must be non-empty".to_owned());
    }
    if name.len() > MAX_NAME_LEN {
        return Some(format!("name part must be no more than {MAX_NAME_LEN} characters"));
    }
    if !is_qualified_shape(name) {
        return Some(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must \
             start and end with an alphanumeric character"
                .to_owned(),
        );
    }
    None
}

/// `validation.IsValidLabelValue`: empty, or at most 63 characters of the qualified
/// shape.
fn label_value_error(value: &str) -> Option<String> {
    if value.len() > MAX_NAME_LEN {
        return Some(format!("must be no more than {MAX_NAME_LEN} characters"));
    }
    if !value.is_empty() && !is_qualified_shape(value) {
        return Some(
            "a valid label must be an empty string or consist of alphanumeric characters, \
             '-', '_' or '.', and must start and end with an alphanumeric character"
                .to_owned(),
        );
    }
    None
}

/// `validation.IsDNS1123Subdomain`: at most 253 characters, dot-separated labels of
/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
fn dns1123_subdomain_error(value: &str) -> Option<String> {
    if value.len() > MAX_SUBDOMAIN_LEN {
        return Some(format!("must be no more than {MAX_SUBDOMAIN_LEN} characters"));
    }
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        match (b.first(), b.last()) {
            (Some(first), Some(last)) => {
                is_lower_alnum(*first) && is_lower_alnum(*last) && b.iter().all(|c| is_lower_alnum(*c) || *c == b'-')
            }
            _ => false,
        }
    };
    if value.split('.').all(label_ok) {
        None
    } else {
        Some(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric \
             characters, '-' or '.', and must start and end with an alphanumeric character"
                .to_owned(),
        )
    }
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn req(key: &str, operator: SelectorOperator, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.to_owned(),
            operator,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    fn exprs(reqs: Vec<LabelSelectorRequirement>) -> LabelSelector {
        LabelSelector { match_labels: Labels::new(), match_expressions: reqs }
    }

    fn term(expressions: Vec<LabelSelectorRequirement>, fields: Vec<LabelSelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm { match_expressions: expressions, match_fields: fields }
    }

    use SelectorOperator::{DoesNotExist, Exists, Gt, In, Lt, NotIn};

    #[test]
    fn requirements_match_as_labels_requirement_matches() {
        let l = labels(&[("zone", "a"), ("cpu", "8"), ("gen", "x7"), ("neg", "-3")]);
        let cases: Vec<(&str, LabelSelectorRequirement, bool)> = vec![
            ("In with the value present", req("zone", In, &["a", "b"]), true),
            ("In with another value", req("zone", In, &["b"]), false),
            ("In with the key absent", req("rack", In, &["a"]), false),
            ("In with no values", req("zone", In, &[]), false),
            ("NotIn with the key absent", req("rack", NotIn, &["a"]), true),
            ("NotIn with the value listed", req("zone", NotIn, &["a"]), false),
            ("NotIn with the value not listed", req("zone", NotIn, &["b"]), true),
            ("Exists with the key present", req("zone", Exists, &[]), true),
            ("Exists with the key absent", req("rack", Exists, &[]), false),
            ("DoesNotExist with the key absent", req("rack", DoesNotExist, &[]), true),
            ("DoesNotExist with the key present", req("zone", DoesNotExist, &[]), false),
            ("Gt with a smaller operand", req("cpu", Gt, &["4"]), true),
            ("Gt with an equal operand", req("cpu", Gt, &["8"]), false),
            ("Lt with a larger operand", req("cpu", Lt, &["16"]), true),
            ("Lt with an equal operand", req("cpu", Lt, &["8"]), false),
            ("Gt with a non-integer label", req("gen", Gt, &["1"]), false),
            ("Lt with a non-integer label", req("gen", Lt, &["100"]), false),
            ("Gt with the key absent", req("rack", Gt, &["1"]), false),
            ("Gt with a non-integer operand", req("cpu", Gt, &["four"]), false),
            ("Gt with two operands", req("cpu", Gt, &["1", "2"]), false),
            ("Gt with no operand", req("cpu", Gt, &[]), false),
            ("Lt with a negative label", req("neg", Lt, &["0"]), true),
            ("Gt with a signed operand", req("cpu", Gt, &["+7"]), true),
        ];
        for (name, r, want) in cases {
            assert_eq!(r.matches(&l), want, "{name}");
        }
    }

    #[test]
    fn an_empty_selector_matches_everything_and_a_missing_one_nothing() {
        let empty = LabelSelector::default();
        for l in [labels(&[]), labels(&[("app", "web")])] {
            assert!(empty.matches(&l));
            assert!(selector_matches(Some(&empty), &l));
            assert!(!selector_matches(None, &l));
        }
    }

    #[test]
    fn label_selectors_and_match_labels_with_expressions() {
        let l = labels(&[("app", "web"), ("tier", "front")]);
        let with_labels =
            |pairs: &[(&str, &str)], reqs| LabelSelector { match_labels: labels(pairs), match_expressions: reqs };
        let cases: Vec<(&str, LabelSelector, bool)> = vec![
            ("matchLabels all present", with_labels(&[("app", "web")], vec![]), true),
            ("matchLabels value differs", with_labels(&[("app", "db")], vec![]), false),
            ("matchLabels key absent", with_labels(&[("env", "prod")], vec![]), false),
            (
                "matchLabels and a satisfied expression",
                with_labels(&[("app", "web")], vec![req("tier", In, &["front"])]),
                true,
            ),
            (
                "matchLabels and a failed expression",
                with_labels(&[("app", "web")], vec![req("tier", NotIn, &["front"])]),
                false,
            ),
            ("expressions are ANDed", exprs(vec![req("app", Exists, &[]), req("env", DoesNotExist, &[])]), true),
            ("NotIn with an absent key", exprs(vec![req("env", NotIn, &["prod"])]), true),
            ("Gt is invalid in a label selector", exprs(vec![req("app", Gt, &["1"])]), false),
            ("In with no values is invalid", exprs(vec![req("app", In, &[])]), false),
            ("NotIn with no values is invalid, so matches nothing", exprs(vec![req("app", NotIn, &[])]), false),
            ("an invalid key matches nothing", exprs(vec![req("a b", Exists, &[])]), false),
            ("an invalid matchLabels value matches nothing", with_labels(&[("app", "web!")], vec![]), false),
        ];
        for (name, sel, want) in cases {
            assert_eq!(sel.matches(&l), want, "{name}");
            assert_eq!(selector_matches(Some(&sel), &l), want, "{name}");
        }
    }

    #[test]
    fn label_selector_validation_follows_the_api_rules() {
        let ok = |s: LabelSelector| s.validate().is_ok();
        assert!(ok(LabelSelector::default()));
        assert!(ok(exprs(vec![req("example.com/app", In, &["web", ""])])));
        assert!(ok(exprs(vec![req("app", Exists, &[])])));
        let cases: Vec<(&str, LabelSelectorRequirement, SelectorError)> = vec![
            ("In without values", req("app", In, &[]), SelectorError::EmptyValues { key: "app".into(), operator: In }),
            (
                "Exists with values",
                req("app", Exists, &["x"]),
                SelectorError::UnexpectedValues { key: "app".into(), operator: Exists, count: 1 },
            ),
            (
                "Gt in a label selector",
                req("cpu", Gt, &["1"]),
                SelectorError::UnsupportedOperator { key: "cpu".into(), operator: Gt },
            ),
        ];
        for (name, r, want) in cases {
            assert_eq!(exprs(vec![r]).validate(), Err(want), "{name}");
        }
        let bad_keys = ["", "-app", "app-", "a/b/c", "/app", "Example.com/app", "example.com/", "a b"];
        for key in bad_keys {
            assert!(
                matches!(exprs(vec![req(key, Exists, &[])]).validate(), Err(SelectorError::InvalidKey { .. })),
                "key {key:?}"
            );
        }
        let long = "a".repeat(64);
        for value in ["-x", "x-", "x y", long.as_str()] {
            assert!(
                matches!(exprs(vec![req("app", In, &[value])]).validate(), Err(SelectorError::InvalidValue { .. })),
                "value {value:?}"
            );
        }
    }

    #[test]
    fn error_messages_name_the_key_and_the_operator() {
        let err = exprs(vec![req("tier", NotIn, &[])]).validate().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("\"tier\"") && msg.contains("NotIn"), "{msg}");
        let err = term(vec![], vec![req("metadata.uid", In, &["x"])]).validate().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("metadata.uid") && msg.contains("In"), "{msg}");
    }

    #[test]
    fn node_selector_terms_are_ored_and_empty_terms_match_nothing() {
        let l = labels(&[("zone", "a"), ("cpu", "8"), ("gen", "x7")]);
        let ns = |terms: Vec<NodeSelectorTerm>| NodeSelector { node_selector_terms: terms };
        let cases: Vec<(&str, NodeSelector, bool)> = vec![
            ("no terms", ns(vec![]), false),
            ("a single empty term", ns(vec![term(vec![], vec![])]), false),
            (
                "an empty term next to a matching one",
                ns(vec![term(vec![], vec![]), term(vec![req("zone", In, &["a"])], vec![])]),
                true,
            ),
            (
                "the second term matches",
                ns(vec![term(vec![req("zone", In, &["b"])], vec![]), term(vec![req("cpu", Gt, &["4"])], vec![])]),
                true,
            ),
            (
                "expressions within a term are ANDed",
                ns(vec![term(vec![req("zone", In, &["a"]), req("cpu", Lt, &["4"])], vec![])]),
                false,
            ),
            ("Gt with a non-integer label", ns(vec![term(vec![req("gen", Gt, &["1"])], vec![])]), false),
            (
                "an unparsable term does not stop a later one",
                ns(vec![term(vec![req("zone", In, &[])], vec![]), term(vec![req("zone", Exists, &[])], vec![])]),
                true,
            ),
            (
                "Gt with a non-integer operand makes the term unparsable",
                ns(vec![term(vec![req("cpu", NotIn, &["1"]), req("cpu", Gt, &["x"])], vec![])]),
                false,
            ),
            ("NotIn with an absent key", ns(vec![term(vec![req("rack", NotIn, &["r1"])], vec![])]), true),
            (
                "matchFields metadata.name In the node",
                ns(vec![term(vec![], vec![req("metadata.name", In, &["node-1"])])]),
                true,
            ),
            (
                "matchFields metadata.name In another node",
                ns(vec![term(vec![], vec![req("metadata.name", In, &["node-2"])])]),
                false,
            ),
            (
                "matchFields metadata.name NotIn another node",
                ns(vec![term(vec![], vec![req("metadata.name", NotIn, &["node-2"])])]),
                true,
            ),
            (
                "matchFields ANDed with expressions",
                ns(vec![term(vec![req("zone", In, &["b"])], vec![req("metadata.name", In, &["node-1"])])]),
                false,
            ),
            (
                "matchFields In with two values does not parse",
                ns(vec![term(vec![], vec![req("metadata.name", In, &["node-1", "node-2"])])]),
                false,
            ),
            (
                "matchFields Exists does not parse",
                ns(vec![term(vec![], vec![req("metadata.name", Exists, &[])])]),
                false,
            ),
            (
                "matchFields on an unknown field reads an empty value",
                ns(vec![term(vec![], vec![req("metadata.uid", NotIn, &["x"])])]),
                true,
            ),
        ];
        for (name, sel, want) in cases {
            assert_eq!(sel.matches("node-1", &l), want, "{name}");
        }
    }

    #[test]
    fn match_fields_are_skipped_for_a_node_without_a_name() {
        let t = term(vec![], vec![req("metadata.name", In, &["node-1"])]);
        assert!(t.matches("", &labels(&[])));
        assert!(!t.matches("node-2", &labels(&[])));
        let bad = term(vec![], vec![req("metadata.name", Exists, &[])]);
        assert!(!bad.matches("", &labels(&[])));
    }

    #[test]
    fn node_selector_validation_follows_the_api_rules() {
        let ns = |terms: Vec<NodeSelectorTerm>| NodeSelector { node_selector_terms: terms };
        assert_eq!(ns(vec![]).validate(), Err(SelectorError::NoTerms));
        assert_eq!(ns(vec![term(vec![], vec![])]).validate(), Ok(()));
        assert_eq!(
            ns(vec![term(
                vec![req("cpu", Gt, &["4"]), req("zone", NotIn, &["a"])],
                vec![req("metadata.name", In, &["node-1"])],
            )])
            .validate(),
            Ok(())
        );
        let cases: Vec<(&str, NodeSelectorTerm, SelectorError)> = vec![
            (
                "Gt with two values",
                term(vec![req("cpu", Gt, &["1", "2"])], vec![]),
                SelectorError::NotSingleValue { key: "cpu".into(), operator: Gt, count: 2 },
            ),
            (
                "Lt with a non-integer value",
                term(vec![req("cpu", Lt, &["big"])], vec![]),
                SelectorError::NonIntegerValue { key: "cpu".into(), operator: Lt, value: "big".into() },
            ),
            (
                "DoesNotExist with values",
                term(vec![req("gpu", DoesNotExist, &["a", "b"])], vec![]),
                SelectorError::UnexpectedValues { key: "gpu".into(), operator: DoesNotExist, count: 2 },
            ),
            (
                "NotIn without values",
                term(vec![req("gpu", NotIn, &[])], vec![]),
                SelectorError::EmptyValues { key: "gpu".into(), operator: NotIn },
            ),
            (
                "an unsupported matchFields key",
                term(vec![], vec![req("metadata.namespace", In, &["x"])]),
                SelectorError::UnsupportedFieldKey { key: "metadata.namespace".into(), operator: In },
            ),
            (
                "an unsupported matchFields operator",
                term(vec![], vec![req("metadata.name", Exists, &[])]),
                SelectorError::UnsupportedFieldOperator { key: "metadata.name".into(), operator: Exists },
            ),
            (
                "matchFields with two values",
                term(vec![], vec![req("metadata.name", In, &["a", "b"])]),
                SelectorError::NotSingleValue { key: "metadata.name".into(), operator: In, count: 2 },
            ),
        ];
        for (name, t, want) in cases {
            assert_eq!(ns(vec![t]).validate(), Err(want), "{name}");
        }
        assert!(matches!(
            ns(vec![term(vec![], vec![req("metadata.name", In, &["Node_1"])])]).validate(),
            Err(SelectorError::InvalidFieldValue { .. })
        ));
    }

    #[test]
    fn a_pod_node_selector_map_needs_every_pair() {
        let node = labels(&[("zone", "a"), ("disk", "ssd")]);
        let cases: Vec<(&str, Labels, bool)> = vec![
            ("an empty map", labels(&[]), true),
            ("one equal pair", labels(&[("disk", "ssd")]), true),
            ("all pairs equal", labels(&[("disk", "ssd"), ("zone", "a")]), true),
            ("a different value", labels(&[("disk", "hdd")]), false),
            ("an absent key", labels(&[("gpu", "true")]), false),
            ("an empty value against an absent key", labels(&[("gpu", "")]), false),
        ];
        for (name, sel, want) in cases {
            assert_eq!(node_selector_map_matches(&sel, &node), want, "{name}");
        }
    }

    #[test]
    fn selectors_load_from_kubernetes_json() {
        let sel: LabelSelector = serde_json::from_str(
            r#"{"matchLabels":{"app":"web"},
                "matchExpressions":[{"key":"a","operator":"In","values":["x"]},
                                    {"key":"b","operator":"DoesNotExist"}]}"#,
        )
        .unwrap();
        assert_eq!(sel.match_labels, labels(&[("app", "web")]));
        assert_eq!(sel.match_expressions, vec![req("a", In, &["x"]), req("b", DoesNotExist, &[])]);
        assert!(sel.matches(&labels(&[("app", "web"), ("a", "x")])));

        let empty: LabelSelector = serde_json::from_str("{}").unwrap();
        assert!(empty.is_empty());
        let nulls: LabelSelector = serde_json::from_str(r#"{"matchLabels":null,"matchExpressions":null}"#).unwrap();
        assert!(nulls.is_empty());

        let ns: NodeSelector = serde_json::from_str(
            r#"{"nodeSelectorTerms":[
                 {"matchExpressions":[{"key":"cpu","operator":"Gt","values":["4"]},
                                      {"key":"zone","operator":"NotIn","values":["b"]}]},
                 {"matchFields":[{"key":"metadata.name","operator":"In","values":["n1"]}]}]}"#,
        )
        .unwrap();
        assert_eq!(ns.node_selector_terms.len(), 2);
        assert_eq!(ns.validate(), Ok(()));
        assert!(ns.matches("n1", &labels(&[])));
        assert!(ns.matches("n2", &labels(&[("cpu", "5")])));
        assert!(!ns.matches("n2", &labels(&[("cpu", "5"), ("zone", "b")])));

        for op in ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"] {
            let r: LabelSelectorRequirement =
                serde_json::from_str(&format!(r#"{{"key":"k","operator":"{op}"}}"#)).unwrap();
            assert_eq!(r.operator.as_str(), op);
            assert_eq!(r.operator.to_string(), op);
        }
    }

    #[test]
    fn unknown_fields_and_operators_are_rejected_when_loading() {
        let bad = [
            r#"{"matchLabel":{"app":"web"}}"#,
            r#"{"matchExpressions":[{"key":"a","operator":"in","values":["x"]}]}"#,
            r#"{"matchExpressions":[{"key":"a","operator":"Equals","values":["x"]}]}"#,
            r#"{"matchExpressions":[{"key":"a","operator":"In","value":["x"]}]}"#,
            r#"{"matchExpressions":[{"operator":"Exists"}]}"#,
        ];
        for json in bad {
            assert!(serde_json::from_str::<LabelSelector>(json).is_err(), "{json}");
        }
        assert!(serde_json::from_str::<NodeSelector>(r#"{"nodeSelectorTerms":[{"x":1}]}"#).is_err());
        assert!(serde_json::from_str::<NodeSelector>("{}").is_err());
    }

    #[test]
    fn selectors_serialize_like_kubernetes_and_round_trip() {
        let sel =
            LabelSelector { match_labels: labels(&[("app", "web")]), match_expressions: vec![req("b", Exists, &[])] };
        let json = serde_json::to_string(&sel).unwrap();
        assert_eq!(json, r#"{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"b","operator":"Exists"}]}"#);
        assert_eq!(serde_json::from_str::<LabelSelector>(&json).unwrap(), sel);
        assert_eq!(serde_json::to_string(&LabelSelector::default()).unwrap(), "{}");
        let ns = NodeSelector { node_selector_terms: vec![term(vec![], vec![req("metadata.name", In, &["n"])])] };
        let json = serde_json::to_string(&ns).unwrap();
        assert_eq!(
            json,
            r#"{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["n"]}]}]}"#
        );
        assert_eq!(serde_json::from_str::<NodeSelector>(&json).unwrap(), ns);
    }

    fn any_operator() -> impl Strategy<Value = SelectorOperator> {
        prop::sample::select(vec![In, NotIn, Exists, DoesNotExist, Gt, Lt])
    }

    fn any_requirement() -> impl Strategy<Value = LabelSelectorRequirement> {
        (
            prop_oneof![Just("metadata.name".to_owned()), "[a-c]{1,2}", ".{0,6}"],
            any_operator(),
            prop::collection::vec(prop_oneof!["[a-c0-9-]{0,3}", ".{0,4}"], 0..3),
        )
            .prop_map(|(key, operator, values)| LabelSelectorRequirement { key, operator, values })
    }

    fn any_labels() -> impl Strategy<Value = Labels> {
        prop::collection::btree_map(prop_oneof!["[a-c]{1,2}", ".{0,6}"], prop_oneof!["[a-c0-9-]{0,3}", ".{0,4}"], 0..5)
    }

    fn valid_key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-c]{1,2}",
            "[A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?",
            "[a-z0-9]{1,4}\\.[a-z]{2,3}/[A-Za-z0-9]{1,5}",
        ]
    }

    fn valid_value() -> impl Strategy<Value = String> {
        prop_oneof!["", "[a-c0-9]{1,2}", "[A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?"]
    }

    proptest! {
        #[test]
        fn matching_and_validation_never_panic(
            reqs in prop::collection::vec(any_requirement(), 0..4),
            fields in prop::collection::vec(any_requirement(), 0..3),
            match_labels in any_labels(),
            l in any_labels(),
            node_name in prop_oneof![Just(String::new()), "[a-z0-9.-]{1,6}", ".{0,6}"],
        ) {
            let sel = LabelSelector { match_labels, match_expressions: reqs.clone() };
            let _ = sel.matches(&l);
            let _ = sel.validate();
            let _ = selector_matches(Some(&sel), &l);
            for r in &reqs {
                let _ = r.matches(&l);
            }
            let ns = NodeSelector {
                node_selector_terms: vec![term(reqs, fields), NodeSelectorTerm::default()],
            };
            let _ = ns.matches(&node_name, &l);
            let _ = ns.validate();
            let _ = node_selector_map_matches(&sel.match_labels, &l);
        }

        #[test]
        fn in_with_one_value_equals_match_labels(
            key in valid_key(),
            value in valid_value(),
            mut l in prop::collection::btree_map(valid_key(), valid_value(), 0..5),
            put in prop_oneof![Just(None), Just(Some(true)), Just(Some(false))],
        ) {
            match put {
                Some(true) => { l.insert(key.clone(), value.clone()); }
                Some(false) => { l.insert(key.clone(), format!("{value}z")); }
                None => {}
            }
            let by_expr = exprs(vec![LabelSelectorRequirement {
                key: key.clone(),
                operator: In,
                values: vec![value.clone()],
            }]);
            let by_labels = LabelSelector {
                match_labels: Labels::from([(key.clone(), value.clone())]),
                match_expressions: vec![],
            };
            prop_assert!(by_expr.validate().is_ok());
            let want = l.get(&key) == Some(&value);
            prop_assert_eq!(by_expr.matches(&l), want);
            prop_assert_eq!(by_labels.matches(&l), want);
            prop_assert_eq!(node_selector_map_matches(&by_labels.match_labels, &l), want);
        }

        #[test]
        fn in_with_one_value_equals_match_labels_even_for_invalid_input(
            key in ".{0,6}",
            value in ".{0,4}",
            l in any_labels(),
        ) {
            let by_expr = exprs(vec![LabelSelectorRequirement {
                key: key.clone(),
                operator: In,
                values: vec![value.clone()],
            }]);
            let by_labels = LabelSelector {
                match_labels: Labels::from([(key, value)]),
                match_expressions: vec![],
            };
            prop_assert_eq!(by_expr.matches(&l), by_labels.matches(&l));
        }

        #[test]
        fn not_in_and_does_not_exist_complement_in_and_exists(
            key in valid_key(),
            values in prop::collection::vec(valid_value(), 1..3),
            l in prop::collection::btree_map(
                prop_oneof![valid_key(), Just("a".to_owned())],
                valid_value(),
                0..5,
            ),
        ) {
            let pos = req(&key, In, &values.iter().map(String::as_str).collect::<Vec<_>>());
            let neg = LabelSelectorRequirement { operator: NotIn, ..pos.clone() };
            prop_assert_eq!(pos.matches(&l), !neg.matches(&l));
            prop_assert_eq!(
                req(&key, Exists, &[]).matches(&l),
                !req(&key, DoesNotExist, &[]).matches(&l)
            );
        }

        #[test]
        fn gt_and_lt_compare_integers(a in any::<i64>(), b in any::<i64>()) {
            let l = Labels::from([("n".to_owned(), a.to_string())]);
            let operand = b.to_string();
            prop_assert_eq!(req("n", Gt, &[&operand]).matches(&l), a > b);
            prop_assert_eq!(req("n", Lt, &[&operand]).matches(&l), a < b);
        }
    }
}
