//! Node taints and pod tolerations with Kubernetes v1.33 semantics.
//!
//! [`Toleration::tolerates`] is `k8s.io/api/core/v1` `Toleration.ToleratesTaint`
//! literally, [`Toleration::validate`] is the toleration part of the API server's
//! `ValidateTolerations`, and the free functions are the helpers the scheduler's
//! TaintToleration plugin uses (`v1helper.TolerationsTolerateTaint`,
//! `v1helper.FindMatchingUntoleratedTaint`, `countIntolerableTaintsPreferNoSchedule`).
//!
//! The types load from real node and pod manifests (converted to JSON or YAML with
//! serde): unknown fields are errors, a taint's `timeAdded` is accepted and kept, and
//! a toleration's `operator: ""` / `effect: ""` mean `Equal` / all effects, as upstream.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// What a taint does to pods that do not tolerate it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
pub enum TaintEffect {
    /// New pods are not scheduled onto the node; running pods stay.
    NoSchedule,
    /// The scheduler tries to avoid the node (a scoring penalty only).
    PreferNoSchedule,
    /// New pods are not scheduled, and running pods are evicted.
    NoExecute,
}

impl TaintEffect {
    /// The effect as Kubernetes spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

impl fmt::Display for TaintEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A node taint (`v1.Taint`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Taint {
    /// The taint key.
    pub key: String,
    /// The taint value (may be empty).
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// The taint effect.
    pub effect: TaintEffect,
    /// When a `NoExecute` taint was added (RFC 3339), as in real node objects; kept
    /// verbatim and ignored by matching.
    #[serde(default, rename = "timeAdded", skip_serializing_if = "Option::is_none")]
    pub time_added: Option<String>,
}

impl fmt::Display for Taint {
    /// `key=value:Effect`, or `key:Effect` when the value is empty, as kubectl prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}:{}", self.key, self.effect)
        } else {
            write!(f, "{}={}:{}", self.key, self.value, self.effect)
        }
    }
}

/// How a toleration compares its value with a taint's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Deserialize, Serialize)]
pub enum TolerationOperator {
    /// The values must be equal (`operator: ""` also means this).
    #[default]
    #[serde(alias = "")]
    Equal,
    /// Any value matches; the toleration's value must be empty.
    Exists,
}

impl TolerationOperator {
    /// The operator as Kubernetes spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            TolerationOperator::Equal => "Equal",
            TolerationOperator::Exists => "Exists",
        }
    }
}

impl fmt::Display for TolerationOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A pod toleration (`v1.Toleration`).
#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Toleration {
    /// The taint key to tolerate; empty means every key.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// How the value is compared.
    #[serde(default)]
    pub operator: TolerationOperator,
    /// The value to match with [`TolerationOperator::Equal`].
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// The effect to tolerate; `None` (or `""` in a manifest) means every effect.
    #[serde(default, deserialize_with = "empty_effect_as_none", skip_serializing_if = "Option::is_none")]
    pub effect: Option<TaintEffect>,
    /// How long a `NoExecute` taint is tolerated before eviction; `None` is forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<i64>,
}

/// Why a toleration (or taint) is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TaintError {
    /// A key that is not a Kubernetes qualified name (`[prefix/]name`).
    #[error("key {key:?}: invalid key: {reason}")]
    InvalidKey {
        /// The offending key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A toleration with an empty key whose operator is not `Exists`.
    #[error(
        "toleration with an empty key has operator {operator}: operator must be Exists \
         when key is empty, which means \"match all values and all keys\""
    )]
    EmptyKeyRequiresExists {
        /// The offending operator.
        operator: TolerationOperator,
    },
    /// `tolerationSeconds` with an effect other than `NoExecute` (including none).
    #[error(
        "toleration key {key:?}: effect must be NoExecute when tolerationSeconds is set \
         (effect is {})",
        effect.map_or("empty", TaintEffect::as_str)
    )]
    TolerationSecondsRequireNoExecute {
        /// The toleration's key.
        key: String,
        /// The toleration's effect.
        effect: Option<TaintEffect>,
    },
    /// A toleration with operator `Exists` and a non-empty value.
    #[error("toleration key {key:?}: value {value:?} must be empty when operator is Exists")]
    ExistsWithValue {
        /// The toleration's key.
        key: String,
        /// The offending value.
        value: String,
    },
    /// A value that is not a valid label value.
    #[error("key {key:?}: invalid value {value:?}: {reason}")]
    InvalidValue {
        /// The key the value belongs to.
        key: String,
        /// The offending value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A taint with an empty key.
    #[error("taint key must be non-empty")]
    EmptyTaintKey,
}

impl Taint {
    /// Validates as the API server validates a node taint: a non-empty
    /// qualified-name key and a valid label value.
    ///
    /// # Errors
    ///
    /// [`TaintError::EmptyTaintKey`], [`TaintError::InvalidKey`] or
    /// [`TaintError::InvalidValue`].
    pub fn validate(&self) -> Result<(), TaintError> {
        if self.key.is_empty() {
            return Err(TaintError::EmptyTaintKey);
        }
        check_key(&self.key)?;
        check_value(&self.key, &self.value)
    }
}

impl Toleration {
    /// Whether this toleration tolerates `taint`, exactly as upstream
    /// `Toleration.ToleratesTaint`:
    ///
    /// 1. if the toleration has an effect, it must equal the taint's (`None` matches
    ///    every effect);
    /// 2. if the toleration's key is non-empty, it must equal the taint's; an empty key
    ///    skips this check **whatever the operator**;
    /// 3. `Exists` then tolerates (the value is ignored); `Equal` tolerates only if the
    ///    values are equal.
    ///
    /// So an empty key with `Exists` tolerates every taint (of the given effect), and —
    /// literally as upstream, though the API server rejects such a toleration — an
    /// empty key with `Equal` tolerates every taint whose value equals the
    /// toleration's, whatever its key.
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if self.effect.is_some_and(|e| e != taint.effect) {
            return false;
        }
        if !self.key.is_empty() && self.key != taint.key {
            return false;
        }
        match self.operator {
            TolerationOperator::Equal => self.value == taint.value,
            TolerationOperator::Exists => true,
        }
    }

    /// Validates as the API server's `ValidateTolerations` does, returning the first
    /// problem:
    ///
    /// * a non-empty key must be a qualified name;
    /// * an empty key requires operator `Exists`;
    /// * `tolerationSeconds` requires effect `NoExecute` (upstream rejects it with any
    ///   other effect, including an empty one);
    /// * `Exists` requires an empty value; `Equal` requires a valid label value.
    ///
    /// # Errors
    ///
    /// The first rule broken, in the order above, as a [`TaintError`].
    pub fn validate(&self) -> Result<(), TaintError> {
        if !self.key.is_empty() {
            check_key(&self.key)?;
        }
        if self.key.is_empty() && self.operator != TolerationOperator::Exists {
            return Err(TaintError::EmptyKeyRequiresExists { operator: self.operator });
        }
        if self.toleration_seconds.is_some() && self.effect != Some(TaintEffect::NoExecute) {
            return Err(TaintError::TolerationSecondsRequireNoExecute { key: self.key.clone(), effect: self.effect });
        }
        match self.operator {
            TolerationOperator::Equal => check_value(&self.key, &self.value),
            TolerationOperator::Exists if !self.value.is_empty() => {
                Err(TaintError::ExistsWithValue { key: self.key.clone(), value: self.value.clone() })
            }
            TolerationOperator::Exists => Ok(()),
        }
    }
}

/// Whether any of `tols` tolerates `taint` (`v1helper.TolerationsTolerateTaint`).
pub fn tolerations_tolerate_taint(tols: &[Toleration], taint: &Taint) -> bool {
    tols.iter().any(|t| t.tolerates(taint))
}

/// The filter the TaintToleration plugin's Filter uses: taints with effect
/// `NoSchedule` or `NoExecute`. Pass it to [`find_untolerated_taint`].
pub fn is_schedule_blocking(taint: &Taint) -> bool {
    matches!(taint.effect, TaintEffect::NoSchedule | TaintEffect::NoExecute)
}

/// The first taint, in order, that passes `filter` and that no toleration in `tols`
/// tolerates (`v1helper.FindMatchingUntoleratedTaint`); `None` if there is none.
pub fn find_untolerated_taint<'a>(
    taints: &'a [Taint],
    tols: &[Toleration],
    filter: impl Fn(&Taint) -> bool,
) -> Option<&'a Taint> {
    taints.iter().filter(|t| filter(t)).find(|t| !tolerations_tolerate_taint(tols, t))
}

/// The TaintToleration score's raw count: `PreferNoSchedule` taints that none of the
/// tolerations with an empty or `PreferNoSchedule` effect tolerates
/// (`countIntolerableTaintsPreferNoSchedule` over `getAllTolerationPreferNoSchedule`).
pub fn count_intolerable_prefer_no_schedule(taints: &[Taint], tols: &[Toleration]) -> i64 {
    let prefer: Vec<&Toleration> =
        tols.iter().filter(|t| t.effect.is_none_or(|e| e == TaintEffect::PreferNoSchedule)).collect();
    let count = taints
        .iter()
        .filter(|taint| taint.effect == TaintEffect::PreferNoSchedule)
        .filter(|taint| !prefer.iter().any(|t| t.tolerates(taint)))
        .count();
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// Deserializes JSON/YAML `null` as the type's default, as Go's decoder does.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A toleration's effect: absent, `null` or `""` mean every effect.
fn empty_effect_as_none<'de, D>(deserializer: D) -> Result<Option<TaintEffect>, D::Error>
where
    D: Deserializer<'de>,
{
    match Option::<String>::deserialize(deserializer)?.as_deref() {
        None | Some("") => Ok(None),
        Some("NoSchedule") => Ok(Some(TaintEffect::NoSchedule)),
        Some("PreferNoSchedule") => Ok(Some(TaintEffect::PreferNoSchedule)),
        Some("NoExecute") => Ok(Some(TaintEffect::NoExecute)),
        Some(other) => Err(D::Error::unknown_variant(other, &["NoSchedule", "PreferNoSchedule", "NoExecute", ""])),
    }
}

fn check_key(key: &str) -> Result<(), TaintError> {
    match qualified_name_error(key) {
        None => Ok(()),
        Some(reason) => Err(TaintError::InvalidKey { key: key.to_owned(), reason }),
    }
}

fn check_value(key: &str, value: &str) -> Result<(), TaintError> {
    match label_value_error(value) {
        None => Ok(()),
        Some(reason) => Err(TaintError::InvalidValue { key: key.to_owned(), value: value.to_owned(), reason }),
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

/// `validation.IsQualifiedName`: `[DNS-1123 subdomain "/"] name`.
fn qualified_name_error(key: &str) -> Option<String> {
    let parts: Vec<&str> = key.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                return Some("prefix part must be non-empty".to_owned());
            }
            if !is_dns1123_subdomain(prefix) {
                return Some(format!(
                    "prefix part must be a lowercase RFC 1123 subdomain of at most \
                     {MAX_SUBDOMAIN_LEN} characters"
                ));
            }
            *name
        }
        _ => return Some("a qualified name may contain at most one '/'".to_owned()),
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

/// `validation.IsDNS1123Subdomain`.
fn is_dns1123_subdomain(value: &str) -> bool {
    let lower_alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    value.len() <= MAX_SUBDOMAIN_LEN
        && value.split('.').all(|l| {
            let b = l.as_bytes();
            match (b.first(), b.last()) {
                (Some(first), Some(last)) => {
                    lower_alnum(*first) && lower_alnum(*last) && b.iter().all(|c| lower_alnum(*c) || *c == b'-')
                }
                _ => false,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use TaintEffect::{NoExecute, NoSchedule, PreferNoSchedule};
    use TolerationOperator::{Equal, Exists};
    use proptest::prelude::*;

    fn taint(key: &str, value: &str, effect: TaintEffect) -> Taint {
        Taint { key: key.to_owned(), value: value.to_owned(), effect, time_added: None }
    }

    fn tol(key: &str, operator: TolerationOperator, value: &str, effect: Option<TaintEffect>) -> Toleration {
        Toleration { key: key.to_owned(), operator, value: value.to_owned(), effect, toleration_seconds: None }
    }

    #[test]
    fn tolerations_tolerate_taints_as_upstream_tolerates_taint() {
        let gpu = taint("gpu", "true", NoSchedule);
        let bare = taint("gpu", "", NoExecute);
        let cases: Vec<(&str, Toleration, &Taint, bool)> = vec![
            ("Equal with the same key, value and effect", tol("gpu", Equal, "true", Some(NoSchedule)), &gpu, true),
            ("Equal with a different value", tol("gpu", Equal, "false", Some(NoSchedule)), &gpu, false),
            ("Equal with a different key", tol("cpu", Equal, "true", Some(NoSchedule)), &gpu, false),
            ("an empty effect matches every effect", tol("gpu", Equal, "true", None), &gpu, true),
            ("a different effect", tol("gpu", Equal, "true", Some(NoExecute)), &gpu, false),
            ("Exists ignores the value", tol("gpu", Exists, "", Some(NoSchedule)), &gpu, true),
            ("Exists with a stray value still ignores it", tol("gpu", Exists, "x", None), &gpu, true),
            ("Exists with a different key", tol("cpu", Exists, "", None), &gpu, false),
            ("Exists with an empty key matches every taint", tol("", Exists, "", None), &gpu, true),
            ("Exists with an empty key honours the effect", tol("", Exists, "", Some(PreferNoSchedule)), &gpu, false),
            ("Equal with an empty key skips the key check", tol("", Equal, "true", None), &gpu, true),
            ("Equal with an empty key still compares values", tol("", Equal, "", None), &gpu, false),
            ("Equal with empty values on both sides", tol("gpu", Equal, "", None), &bare, true),
        ];
        for (name, t, taint, want) in cases {
            assert_eq!(t.tolerates(taint), want, "{name}");
            assert_eq!(tolerations_tolerate_taint(std::slice::from_ref(&t), taint), want, "{name}");
        }
        assert!(!tolerations_tolerate_taint(&[], &gpu));
        assert!(tolerations_tolerate_taint(&[tol("cpu", Exists, "", None), tol("gpu", Exists, "", None)], &gpu));
    }

    #[test]
    fn the_filter_finds_the_first_untolerated_no_schedule_or_no_execute_taint() {
        let taints = vec![
            taint("soft", "", PreferNoSchedule),
            taint("dedicated", "ml", NoSchedule),
            taint("unreachable", "", NoExecute),
        ];
        let cases: Vec<(&str, Vec<Toleration>, Option<&str>)> = vec![
            ("no tolerations", vec![], Some("dedicated")),
            (
                "the NoSchedule taint tolerated",
                vec![tol("dedicated", Equal, "ml", Some(NoSchedule))],
                Some("unreachable"),
            ),
            (
                "a NoExecute toleration does not cover NoSchedule",
                vec![tol("dedicated", Exists, "", Some(NoExecute))],
                Some("dedicated"),
            ),
            (
                "both tolerated, PreferNoSchedule ignored",
                vec![tol("dedicated", Exists, "", None), tol("unreachable", Exists, "", Some(NoExecute))],
                None,
            ),
            ("tolerate everything", vec![tol("", Exists, "", None)], None),
        ];
        for (name, tols, want) in cases {
            let got = find_untolerated_taint(&taints, &tols, is_schedule_blocking);
            assert_eq!(got.map(|t| t.key.as_str()), want, "{name}");
        }
        let only_no_execute = |t: &Taint| t.effect == NoExecute;
        assert_eq!(find_untolerated_taint(&taints, &[], only_no_execute).map(|t| t.key.as_str()), Some("unreachable"));
        assert_eq!(find_untolerated_taint(&[], &[], |_| true), None);
    }

    #[test]
    fn prefer_no_schedule_taints_are_counted_when_untolerated() {
        let taints =
            vec![taint("a", "1", PreferNoSchedule), taint("b", "", PreferNoSchedule), taint("c", "", NoSchedule)];
        let cases: Vec<(&str, Vec<Toleration>, i64)> = vec![
            ("no tolerations", vec![], 2),
            ("an empty-effect toleration counts", vec![tol("a", Equal, "1", None)], 1),
            ("a PreferNoSchedule toleration counts", vec![tol("b", Exists, "", Some(PreferNoSchedule))], 1),
            ("a NoSchedule toleration does not", vec![tol("a", Exists, "", Some(NoSchedule))], 2),
            ("tolerate everything", vec![tol("", Exists, "", None)], 0),
            ("a wrong value", vec![tol("a", Equal, "2", None)], 2),
        ];
        for (name, tols, want) in cases {
            assert_eq!(count_intolerable_prefer_no_schedule(&taints, &tols), want, "{name}");
        }
    }

    #[test]
    fn toleration_validation_follows_the_api_rules() {
        let seconds = |mut t: Toleration, s: i64| {
            t.toleration_seconds = Some(s);
            t
        };
        let ok = [
            tol("", Exists, "", None),
            tol("gpu", Equal, "true", Some(NoSchedule)),
            tol("gpu", Equal, "", None),
            tol("example.com/gpu", Exists, "", Some(PreferNoSchedule)),
            seconds(tol("node.kubernetes.io/unreachable", Exists, "", Some(NoExecute)), 300),
        ];
        for t in ok {
            assert_eq!(t.validate(), Ok(()), "{t:?}");
        }
        let cases: Vec<(&str, Toleration, TaintError)> = vec![
            (
                "an empty key with Equal",
                tol("", Equal, "", None),
                TaintError::EmptyKeyRequiresExists { operator: Equal },
            ),
            (
                "Exists with a value",
                tol("gpu", Exists, "true", None),
                TaintError::ExistsWithValue { key: "gpu".into(), value: "true".into() },
            ),
            (
                "tolerationSeconds with NoSchedule",
                seconds(tol("gpu", Exists, "", Some(NoSchedule)), 10),
                TaintError::TolerationSecondsRequireNoExecute { key: "gpu".into(), effect: Some(NoSchedule) },
            ),
            (
                "tolerationSeconds with an empty effect",
                seconds(tol("gpu", Exists, "", None), 10),
                TaintError::TolerationSecondsRequireNoExecute { key: "gpu".into(), effect: None },
            ),
        ];
        for (name, t, want) in cases {
            assert_eq!(t.validate(), Err(want), "{name}");
        }
        assert!(matches!(tol("bad key", Exists, "", None).validate(), Err(TaintError::InvalidKey { .. })));
        assert!(matches!(tol("gpu", Equal, "not ok", None).validate(), Err(TaintError::InvalidValue { .. })));
        let msg = seconds(tol("gpu", Exists, "", None), 1).validate().unwrap_err().to_string();
        assert!(msg.contains("\"gpu\"") && msg.contains("NoExecute"), "{msg}");
    }

    #[test]
    fn taint_validation_needs_a_key_and_a_label_value() {
        assert_eq!(taint("gpu", "true", NoSchedule).validate(), Ok(()));
        assert_eq!(taint("", "", NoSchedule).validate(), Err(TaintError::EmptyTaintKey));
        assert!(taint("a/b/c", "", NoSchedule).validate().is_err());
        assert!(taint("gpu", "-x", NoSchedule).validate().is_err());
    }

    #[test]
    fn taints_display_as_kubectl_shows_them() {
        let cases = [
            (taint("dedicated", "ml", NoSchedule), "dedicated=ml:NoSchedule"),
            (taint("node.kubernetes.io/unreachable", "", NoExecute), "node.kubernetes.io/unreachable:NoExecute"),
            (taint("soft", "x", PreferNoSchedule), "soft=x:PreferNoSchedule"),
        ];
        for (t, want) in cases {
            assert_eq!(t.to_string(), want);
        }
    }

    #[test]
    fn taints_and_tolerations_load_from_kubernetes_json() {
        let taints: Vec<Taint> = serde_json::from_str(
            r#"[{"key":"node.kubernetes.io/unreachable","effect":"NoExecute",
                 "timeAdded":"2024-05-01T10:00:00Z"},
                {"key":"dedicated","value":"ml","effect":"NoSchedule"}]"#,
        )
        .unwrap();
        assert_eq!(taints[0].time_added.as_deref(), Some("2024-05-01T10:00:00Z"));
        assert_eq!(taints[0].value, "");
        assert_eq!(taints[1], taint("dedicated", "ml", NoSchedule));

        let tols: Vec<Toleration> = serde_json::from_str(
            r#"[{"key":"node.kubernetes.io/unreachable","operator":"Exists",
                 "effect":"NoExecute","tolerationSeconds":300},
                {"operator":"Exists"},
                {"key":"dedicated","value":"ml"},
                {"key":"dedicated","operator":"","value":"ml","effect":""}]"#,
        )
        .unwrap();
        assert_eq!(tols[0].toleration_seconds, Some(300));
        assert_eq!(tols[0].effect, Some(NoExecute));
        assert_eq!(tols[1], tol("", Exists, "", None));
        assert_eq!(tols[2], tol("dedicated", Equal, "ml", None));
        assert_eq!(tols[3], tols[2]);
        assert!(tols[0].tolerates(&taints[0]));
        assert!(tols[2].tolerates(&taints[1]));

        let bad = [
            (r#"{"key":"a","effect":"NoSchedule","extra":1}"#, true),
            (r#"{"key":"a","effect":"noschedule"}"#, true),
            (r#"{"key":"a"}"#, true),
            (r#"{"key":"a","operator":"Gt"}"#, false),
            (r#"{"key":"a","effect":"Never"}"#, false),
            (r#"{"key":"a","tolerationseconds":3}"#, false),
        ];
        for (json, is_taint) in bad {
            let failed = if is_taint {
                serde_json::from_str::<Taint>(json).is_err()
            } else {
                serde_json::from_str::<Toleration>(json).is_err()
            };
            assert!(failed, "{json}");
        }
    }

    #[test]
    fn taints_and_tolerations_serialize_like_kubernetes_and_round_trip() {
        let t = taint("gpu", "", NoSchedule);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"key":"gpu","effect":"NoSchedule"}"#);
        assert_eq!(serde_json::from_str::<Taint>(&json).unwrap(), t);

        let mut tl = tol("gpu", Exists, "", Some(NoExecute));
        tl.toleration_seconds = Some(60);
        let json = serde_json::to_string(&tl).unwrap();
        assert_eq!(json, r#"{"key":"gpu","operator":"Exists","effect":"NoExecute","tolerationSeconds":60}"#);
        assert_eq!(serde_json::from_str::<Toleration>(&json).unwrap(), tl);
        let all = Toleration::default();
        assert_eq!(serde_json::to_string(&all).unwrap(), r#"{"operator":"Equal"}"#);
    }

    fn any_effect() -> impl Strategy<Value = TaintEffect> {
        prop::sample::select(vec![NoSchedule, PreferNoSchedule, NoExecute])
    }

    fn any_taint() -> impl Strategy<Value = Taint> {
        ("[a-c]{0,1}", "[xy]{0,1}", any_effect()).prop_map(|(k, v, e)| taint(&k, &v, e))
    }

    fn any_toleration() -> impl Strategy<Value = Toleration> {
        (
            "[a-c]{0,1}",
            prop::sample::select(vec![Equal, Exists]),
            "[xy]{0,1}",
            prop::option::of(any_effect()),
            prop::option::of(any::<i64>()),
        )
            .prop_map(|(k, o, v, e, s)| Toleration { toleration_seconds: s, ..tol(&k, o, &v, e) })
    }

    proptest! {
        #[test]
        fn the_helpers_agree_with_tolerates(
            taints in prop::collection::vec(any_taint(), 0..6),
            tols in prop::collection::vec(any_toleration(), 0..4),
        ) {
            for t in &tols {
                let _ = t.validate();
            }
            for taint in &taints {
                let _ = taint.to_string();
                prop_assert_eq!(
                    tolerations_tolerate_taint(&tols, taint),
                    tols.iter().any(|t| t.tolerates(taint))
                );
                prop_assert!(tol("", Exists, "", None).tolerates(taint));
            }
            let found = find_untolerated_taint(&taints, &tols, is_schedule_blocking);
            let expected = taints
                .iter()
                .position(|t| is_schedule_blocking(t) && !tolerations_tolerate_taint(&tols, t));
            prop_assert_eq!(
                found.map(std::ptr::from_ref),
                expected.map(|i| std::ptr::from_ref(&taints[i]))
            );
            let count = count_intolerable_prefer_no_schedule(&taints, &tols);
            let expected = taints
                .iter()
                .filter(|t| t.effect == PreferNoSchedule && !tolerations_tolerate_taint(&tols, t))
                .count();
            prop_assert_eq!(count, i64::try_from(expected).unwrap());
        }
    }
}
