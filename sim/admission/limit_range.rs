//! `LimitRange` (core/v1) and the LimitRanger admission plugin
//! (`plugin/pkg/admission/limitranger`): per-container defaults (`default`, `defaultRequest`)
//! applied to containers that leave a resource unset, then `min`, `max` and
//! `maxLimitRequestRatio` checked per Container and per Pod, with upstream's messages
//! (`minimum cpu usage per Container is 100m, but request is 50m`).
//!
//! Item defaults follow `SetDefaults_LimitRangeItem`: for a Container item, `default` defaults to
//! `max`, and `defaultRequest` to `default`, then to `min`. Pod-level sums are the sum of the
//! containers with each init container taken as a maximum (the plugin's `podRequests`, without
//! overhead). Only `Container` and `Pod` items are enforced; `PersistentVolumeClaim` items load
//! and are ignored.

use crate::input::error::InputError;
use crate::input::manifest::{ManifestSet, ObjectMeta};
use crate::input::yaml::{Document, parse_document};
use crate::model::pod::{Container, Pod};
use crate::model::quantity::Quantity;
use serde::Deserialize;
use std::collections::BTreeMap;

use super::format_amount;

/// Canonical amounts by resource name.
pub type Amounts = BTreeMap<String, i64>;

/// The `type` of a limit item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LimitType {
    /// Per container (and init container).
    Container,
    /// Per pod (sum of containers).
    Pod,
    /// Per PersistentVolumeClaim (loaded, not enforced: no claims are simulated).
    PersistentVolumeClaim,
}

impl LimitType {
    fn as_str(self) -> &'static str {
        match self {
            LimitType::Container => "Container",
            LimitType::Pod => "Pod",
            LimitType::PersistentVolumeClaim => "PersistentVolumeClaim",
        }
    }
}

/// One item of `spec.limits`, defaults applied.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LimitRangeItem {
    /// `type`.
    pub kind: LimitType,
    /// `max`.
    pub max: Amounts,
    /// `min`.
    pub min: Amounts,
    /// `default` (default limits).
    pub default: Amounts,
    /// `defaultRequest`.
    pub default_request: Amounts,
    /// `maxLimitRequestRatio`, in thousandths (`2` → 2000).
    pub max_limit_request_ratio_milli: Amounts,
}

/// A LimitRange.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LimitRange {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace` (`default` when unset).
    pub namespace: String,
    /// `spec.limits`.
    pub items: Vec<LimitRangeItem>,
}

/// A LimitRange manifest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitRangeManifest {
    /// `apiVersion`.
    #[serde(default)]
    pub api_version: String,
    /// `kind`.
    #[serde(default)]
    pub kind: String,
    /// `metadata`.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `spec`.
    #[serde(default)]
    pub spec: LimitRangeSpecManifest,
}

/// `spec` of a LimitRange manifest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitRangeSpecManifest {
    /// `limits`.
    #[serde(default)]
    pub limits: Vec<LimitRangeItemManifest>,
}

/// One `spec.limits` item as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitRangeItemManifest {
    /// `type`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// `max`.
    #[serde(default)]
    pub max: BTreeMap<String, Quantity>,
    /// `min`.
    #[serde(default)]
    pub min: BTreeMap<String, Quantity>,
    /// `default`.
    #[serde(default)]
    pub default: BTreeMap<String, Quantity>,
    /// `defaultRequest`.
    #[serde(default)]
    pub default_request: BTreeMap<String, Quantity>,
    /// `maxLimitRequestRatio`.
    #[serde(default)]
    pub max_limit_request_ratio: BTreeMap<String, Quantity>,
}

/// Parses a LimitRange document.
pub fn parse(set: &mut ManifestSet, doc: &Document<'_>, file: &str) -> Result<LimitRange, InputError> {
    let mut p = parse_document::<LimitRangeManifest>(doc, file)?;
    for f in &p.ignored {
        set.ignored.insert(format!("LimitRange: {f}"));
    }
    set.generate_name(&mut p.value.metadata);
    convert(&p.value).map_err(|(field, msg)| {
        InputError::at(file, doc.line_offset + 1, 1, field, format!("LimitRange {:?}: {msg}", p.value.metadata.name))
    })
}

fn amounts(m: &BTreeMap<String, Quantity>, field: &str) -> Result<Amounts, (String, String)> {
    m.iter()
        .map(|(k, q)| super::canonical(k, q).map(|v| (k.clone(), v)).map_err(|e| (format!("{field}[{k}]"), e)))
        .collect()
}

/// Converts a manifest: defaults (`SetDefaults_LimitRangeItem`) and validation
/// (`ValidateLimitRange`); `Err((field, message))`.
pub fn convert(m: &LimitRangeManifest) -> Result<LimitRange, (String, String)> {
    if m.metadata.name.is_empty() {
        return Err(("metadata.name".into(), "a LimitRange needs a name".into()));
    }
    let mut items = Vec::new();
    for (i, it) in m.spec.limits.iter().enumerate() {
        let f = format!("spec.limits[{i}]");
        let kind = match it.kind.as_str() {
            "Container" => LimitType::Container,
            "Pod" => LimitType::Pod,
            "PersistentVolumeClaim" => LimitType::PersistentVolumeClaim,
            other => {
                return Err((
                    format!("{f}.type"),
                    format!(
                        "unsupported value {other:?}: supported values: \"Container\", \"Pod\", \"PersistentVolumeClaim\""
                    ),
                ));
            }
        };
        let max = amounts(&it.max, &format!("{f}.max"))?;
        let min = amounts(&it.min, &format!("{f}.min"))?;
        let mut default = amounts(&it.default, &format!("{f}.default"))?;
        let mut default_request = amounts(&it.default_request, &format!("{f}.defaultRequest"))?;
        let mut ratio = Amounts::new();
        for (k, q) in &it.max_limit_request_ratio {
            let v = q.milli_value().map_err(|e| (format!("{f}.maxLimitRequestRatio[{k}]"), e.to_string()))?;
            if v < 1000 {
                return Err((format!("{f}.maxLimitRequestRatio[{k}]"), format!("ratio {q} is less than 1")));
            }
            ratio.insert(k.clone(), v);
        }
        if kind == LimitType::Pod && (!default.is_empty() || !default_request.is_empty()) {
            return Err((f.clone(), "default and defaultRequest may not be specified when `type` is 'Pod'".into()));
        }
        if kind == LimitType::Container {
            for (k, v) in &max {
                default.entry(k.clone()).or_insert(*v);
            }
            for (k, v) in &default {
                default_request.entry(k.clone()).or_insert(*v);
            }
            for (k, v) in &min {
                default_request.entry(k.clone()).or_insert(*v);
            }
        }
        for (k, mn) in &min {
            if let Some(mx) = max.get(k)
                && mn > mx
            {
                return Err((
                    format!("{f}.min[{k}]"),
                    format!("min value {} is greater than max value {}", format_amount(k, *mn), format_amount(k, *mx)),
                ));
            }
        }
        let bounds = [(&default, "default"), (&default_request, "defaultRequest")];
        for (values, name) in bounds {
            for (k, v) in values {
                if let Some(mn) = min.get(k)
                    && v < mn
                {
                    return Err((
                        format!("{f}.{name}[{k}]"),
                        format!(
                            "min value {} is greater than {name} value {}",
                            format_amount(k, *mn),
                            format_amount(k, *v)
                        ),
                    ));
                }
                if let Some(mx) = max.get(k)
                    && v > mx
                {
                    return Err((
                        format!("{f}.{name}[{k}]"),
                        format!(
                            "{name} value {} is greater than max value {}",
                            format_amount(k, *v),
                            format_amount(k, *mx)
                        ),
                    ));
                }
            }
        }
        for (k, r) in &default_request {
            if let Some(d) = default.get(k)
                && r > d
            {
                return Err((
                    format!("{f}.defaultRequest[{k}]"),
                    format!(
                        "default request value {} is greater than default limit value {}",
                        format_amount(k, *r),
                        format_amount(k, *d)
                    ),
                ));
            }
        }
        items.push(LimitRangeItem { kind, max, min, default, default_request, max_limit_request_ratio_milli: ratio });
    }
    Ok(LimitRange { name: m.metadata.name.clone(), namespace: super::namespace_of(&m.metadata), items })
}

impl LimitRange {
    /// The mutating half: container defaults (later Container items override earlier ones), set
    /// on every container and init container that leaves the resource unset. The caller
    /// re-derives the pod's requests afterwards.
    pub fn apply_defaults(&self, pod: &mut Pod) {
        let mut limits = Amounts::new();
        let mut requests = Amounts::new();
        for it in self.items.iter().filter(|i| i.kind == LimitType::Container) {
            limits.extend(it.default.iter().map(|(k, v)| (k.clone(), *v)));
            requests.extend(it.default_request.iter().map(|(k, v)| (k.clone(), *v)));
        }
        for c in pod.containers.iter_mut().chain(pod.init_containers.iter_mut()) {
            for (k, v) in &limits {
                c.limits.0.entry(k.clone()).or_insert(*v);
            }
            for (k, v) in &requests {
                c.requests.0.entry(k.clone()).or_insert(*v);
            }
        }
    }

    /// The validating half (`PodValidateLimitFunc`): every violation, aggregated as upstream
    /// (`[a, b]` when more than one).
    pub fn validate(&self, pod: &Pod) -> Result<(), String> {
        let mut errs: Vec<String> = Vec::new();
        for it in &self.items {
            match it.kind {
                LimitType::Container => {
                    for c in pod.containers.iter().chain(&pod.init_containers) {
                        it.check("Container", &c.requests.0, &c.limits.0, &mut errs);
                    }
                }
                LimitType::Pod => {
                    let (req, lim) = pod_totals(pod);
                    it.check("Pod", &req, &lim, &mut errs);
                }
                LimitType::PersistentVolumeClaim => {}
            }
        }
        let mut seen: Vec<String> = Vec::new();
        for e in errs {
            if !seen.contains(&e) {
                seen.push(e);
            }
        }
        match seen.len() {
            0 => Ok(()),
            1 => Err(seen.remove(0)),
            _ => Err(format!("[{}]", seen.join(", "))),
        }
    }
}

impl LimitRangeItem {
    fn check(&self, ty: &str, req: &Amounts, lim: &Amounts, errs: &mut Vec<String>) {
        debug_assert_eq!(ty, self.kind.as_str());
        for (k, enforced) in &self.min {
            let e = format_amount(k, *enforced);
            match (req.get(k), lim.get(k)) {
                (None, _) => errs.push(format!("minimum {k} usage per {ty} is {e}.  No request is specified")),
                (Some(r), _) if r < enforced => {
                    errs.push(format!("minimum {k} usage per {ty} is {e}, but request is {}", format_amount(k, *r)))
                }
                (_, Some(l)) if l < enforced => {
                    errs.push(format!("minimum {k} usage per {ty} is {e}, but limit is {}", format_amount(k, *l)))
                }
                _ => {}
            }
        }
        for (k, enforced) in &self.max {
            let e = format_amount(k, *enforced);
            match (req.get(k), lim.get(k)) {
                (_, None) => errs.push(format!("maximum {k} usage per {ty} is {e}.  No limit is specified")),
                (_, Some(l)) if l > enforced => {
                    errs.push(format!("maximum {k} usage per {ty} is {e}, but limit is {}", format_amount(k, *l)))
                }
                (Some(r), _) if r > enforced => {
                    errs.push(format!("maximum {k} usage per {ty} is {e}, but request is {}", format_amount(k, *r)))
                }
                _ => {}
            }
        }
        for (k, ratio_milli) in &self.max_limit_request_ratio_milli {
            let shown = crate::model::quantity::parse_quantity(&format!("{ratio_milli}m"))
                .map(|q| q.to_string())
                .unwrap_or_default();
            let (r, l) = (req.get(k).copied().unwrap_or(0), lim.get(k).copied().unwrap_or(0));
            if r == 0 {
                errs.push(format!(
                    "{k} max limit to request ratio per {ty} is {shown}, but no request is specified or request is 0"
                ));
            } else if l == 0 {
                errs.push(format!(
                    "{k} max limit to request ratio per {ty} is {shown}, but no limit is specified or limit is 0"
                ));
            } else if (l as i128) * 1000 > (*ratio_milli as i128) * (r as i128) {
                errs.push(format!(
                    "{k} max limit to request ratio per {ty} is {shown}, but provided ratio is {:.6}",
                    l as f64 / r as f64
                ));
            }
        }
    }
}

fn sum_max(containers: &[Container], inits: &[Container], pick: fn(&Container) -> &Amounts) -> Amounts {
    let mut out = Amounts::new();
    for c in containers {
        for (k, v) in pick(c) {
            *out.entry(k.clone()).or_insert(0) += v;
        }
    }
    for c in inits {
        for (k, v) in pick(c) {
            let e = out.entry(k.clone()).or_insert(0);
            *e = (*e).max(*v);
        }
    }
    out
}

/// A pod's requests and limits as the plugin sums them: the containers added, each init
/// container taken as a maximum; a resource is present when any container names it.
pub fn pod_totals(pod: &Pod) -> (Amounts, Amounts) {
    (
        sum_max(&pod.containers, &pod.init_containers, |c| &c.requests.0),
        sum_max(&pod.containers, &pod.init_containers, |c| &c.limits.0),
    )
}

/// API validation after the defaults: a request above its limit makes the pod invalid.
pub fn request_above_limit(pod: &Pod) -> Option<String> {
    let all = pod
        .containers
        .iter()
        .map(|c| ("containers", c))
        .chain(pod.init_containers.iter().map(|c| ("initContainers", c)));
    let mut idx: BTreeMap<&str, usize> = BTreeMap::new();
    for (list, c) in all {
        let i = idx.entry(list).or_insert(0);
        for (k, l) in &c.limits.0 {
            if let Some(r) = c.requests.get(k)
                && r > *l
            {
                return Some(format!(
                    "spec.{list}[{i}].resources.requests[{k}]: Invalid value: {:?}: must be less than or equal to {k} limit of {}",
                    format_amount(k, r),
                    format_amount(k, *l)
                ));
            }
        }
        *i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::yaml::split_documents;
    use crate::model::resources::ResourceList;

    fn range(yaml: &str) -> Result<LimitRange, String> {
        let mut set = ManifestSet::default();
        let doc = split_documents(yaml).into_iter().next().expect("a document");
        parse(&mut set, &doc, "lr.yaml").map_err(|e| e.to_string())
    }

    fn container(name: &str, req: &[(&str, i64)], lim: &[(&str, i64)]) -> Container {
        let m = |v: &[(&str, i64)]| ResourceList(v.iter().map(|(k, x)| (k.to_string(), *x)).collect());
        Container {
            name: name.into(),
            image: "img".into(),
            requests: m(req),
            limits: m(lim),
            host_ports: vec![],
            sidecar: false,
        }
    }

    fn pod(containers: Vec<Container>) -> Pod {
        let mut p = crate::scheduler::testing::make_pod("p", &[]);
        p.containers = containers;
        p.finalize();
        p
    }

    const LR: &str = "apiVersion: v1\nkind: LimitRange\nmetadata: {name: lr, namespace: team}\nspec:\n  limits:\n  - type: Container\n    default: {cpu: 500m, memory: 256Mi}\n    defaultRequest: {cpu: 200m}\n    min: {cpu: 100m}\n    max: {cpu: '2', memory: 1Gi}\n  - type: Pod\n    max: {cpu: '3'}\n";

    #[test]
    fn item_defaults_fill_default_request_from_default_then_min() {
        let lr = range(
            "kind: LimitRange\nmetadata: {name: a}\nspec:\n  limits:\n  - type: Container\n    max: {cpu: '1'}\n    min: {memory: 1Mi}\n",
        )
        .expect("valid");
        let it = &lr.items[0];
        assert_eq!(lr.namespace, "default");
        assert_eq!(it.default.get("cpu"), Some(&1000), "default limit comes from max");
        assert_eq!(it.default_request.get("cpu"), Some(&1000), "default request comes from the default limit");
        assert_eq!(it.default_request.get("memory"), Some(&(1 << 20)), "then from min");
    }

    #[test]
    fn containers_without_resources_get_the_defaults_and_explicit_values_stay() {
        let lr = range(LR).expect("valid");
        let mut p = pod(vec![container("a", &[], &[]), container("b", &[("cpu", 300)], &[("cpu", 400)])]);
        lr.apply_defaults(&mut p);
        p.finalize();
        assert_eq!(p.containers[0].requests.get("cpu"), Some(200));
        assert_eq!(p.containers[0].limits.get("cpu"), Some(500));
        assert_eq!(p.containers[0].limits.get("memory"), Some(256 << 20));
        assert_eq!(p.containers[0].requests.get("memory"), Some(256 << 20), "defaultRequest defaults to default");
        assert_eq!(p.containers[1].requests.get("cpu"), Some(300));
        assert_eq!(p.containers[1].limits.get("cpu"), Some(400));
        assert_eq!(p.requests.cpu_millis, 500, "the derived request is recomputed");
        assert_eq!(lr.validate(&p), Ok(()));
    }

    #[test]
    fn bounds_are_checked_with_upstream_messages() {
        let lr = range(LR).expect("valid");
        let cases: &[(&str, Vec<Container>, &str)] = &[
            (
                "request below min",
                vec![container("a", &[("cpu", 50), ("memory", 1 << 20)], &[("cpu", 500), ("memory", 1 << 20)])],
                "minimum cpu usage per Container is 100m, but request is 50m",
            ),
            (
                "limit above max",
                vec![container("a", &[("cpu", 500), ("memory", 1 << 20)], &[("cpu", 2500), ("memory", 1 << 20)])],
                "maximum cpu usage per Container is 2, but limit is 2500m",
            ),
            (
                "no limit under a max",
                vec![container("a", &[("cpu", 500), ("memory", 1 << 20)], &[("memory", 1 << 20)])],
                "[maximum cpu usage per Container is 2.  No limit is specified, maximum cpu usage per Pod is 3.  No limit is specified]",
            ),
            (
                "pod sum above the pod max",
                vec![
                    container("a", &[("cpu", 1500), ("memory", 1 << 20)], &[("cpu", 2000), ("memory", 1 << 20)]),
                    container("b", &[("cpu", 1500), ("memory", 1 << 20)], &[("cpu", 2000), ("memory", 1 << 20)]),
                ],
                "maximum cpu usage per Pod is 3, but limit is 4",
            ),
            (
                "two violations aggregate",
                vec![container("a", &[("cpu", 50), ("memory", 1 << 20)], &[("cpu", 2500), ("memory", 2 << 30)])],
                "[minimum cpu usage per Container is 100m, but request is 50m, maximum cpu usage per Container is 2, but limit is 2500m, maximum memory usage per Container is 1Gi, but limit is 2Gi]",
            ),
        ];
        for (name, cs, want) in cases {
            let p = pod(cs.clone());
            assert_eq!(lr.validate(&p), Err(want.to_string()), "{name}");
        }
    }

    #[test]
    fn the_limit_to_request_ratio_is_bounded() {
        let lr = range(
            "kind: LimitRange\nmetadata: {name: r}\nspec:\n  limits:\n  - type: Container\n    maxLimitRequestRatio: {memory: '2'}\n",
        )
        .expect("valid");
        let ok = pod(vec![container("a", &[("memory", 100)], &[("memory", 200)])]);
        assert_eq!(lr.validate(&ok), Ok(()));
        let bad = pod(vec![container("a", &[("memory", 100)], &[("memory", 300)])]);
        assert_eq!(
            lr.validate(&bad),
            Err("memory max limit to request ratio per Container is 2, but provided ratio is 3.000000".into())
        );
        let none = pod(vec![container("a", &[], &[])]);
        assert_eq!(
            lr.validate(&none),
            Err("memory max limit to request ratio per Container is 2, but no request is specified or request is 0"
                .into())
        );
    }

    #[test]
    fn inconsistent_items_are_input_errors() {
        let cases: &[(&str, &str)] = &[
            ("    min: {cpu: '2'}\n    max: {cpu: '1'}\n", "min value 2 is greater than max value 1"),
            ("    default: {cpu: '3'}\n    max: {cpu: '1'}\n", "default value 3 is greater than max value 1"),
            ("    maxLimitRequestRatio: {cpu: 500m}\n", "ratio 500m is less than 1"),
            (
                "    default: {cpu: 100m}\n    defaultRequest: {cpu: 200m}\n",
                "default request value 200m is greater than default limit value 100m",
            ),
        ];
        for (body, want) in cases {
            let text =
                format!("kind: LimitRange\nmetadata: {{name: x}}\nspec:\n  limits:\n  - type: Container\n{body}");
            let err = range(&text).expect_err(body);
            assert!(err.contains(want), "{err} should contain {want}");
        }
        let err =
            range("kind: LimitRange\nmetadata: {name: x}\nspec:\n  limits:\n  - type: Pod\n    default: {cpu: 1}\n")
                .expect_err("pod defaults");
        assert!(err.contains("may not be specified when `type` is 'Pod'"), "{err}");
        let err = range("kind: LimitRange\nmetadata: {name: x}\nspec:\n  limits:\n  - type: Node\n").expect_err("type");
        assert!(err.contains("unsupported value \"Node\""), "{err}");
    }

    #[test]
    fn a_default_limit_below_an_explicit_request_makes_the_pod_invalid() {
        let lr = range(LR).expect("valid");
        let mut p = pod(vec![container("a", &[("cpu", 1000)], &[])]);
        lr.apply_defaults(&mut p);
        assert_eq!(
            request_above_limit(&p).as_deref(),
            Some(
                "spec.containers[0].resources.requests[cpu]: Invalid value: \"1\": must be less than or equal to cpu limit of 500m"
            )
        );
    }
}
