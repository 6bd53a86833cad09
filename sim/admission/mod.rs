//! Admission control at pod creation, as the API server runs it (v1.33): the mutating and
//! validating **LimitRanger** plugin ([`limit_range`]) then the validating **ResourceQuota**
//! plugin ([`resource_quota`]). A rejected pod is never created.
//!
//! [`admit`] is pure: it reads the pod, the namespace's policy objects and the quota usage
//! ([`resource_quota::NamespaceUsage`], kept by the run loop), and either mutates the pod
//! (LimitRange defaults) or returns a [`Rejection`] with upstream's message
//! (`pods "web-" is forbidden: exceeded quota: q, requested: pods=1, used: pods=4, limited: pods=4`).
//! [`retry`] holds the controllers' work-queue rate limiters that pace their retries after a
//! rejected create.
//!
//! **Simplification (documented):** quota usage is always consistent (recomputed at each
//! admission from the live pods), where upstream's quota controller recalculates `status.used`
//! asynchronously (on pod deletion events and a 5-minute full resync); upstream admission itself
//! also charges usage at admission time, so the difference shows only in the few seconds
//! before a freed pod's usage is released.

pub mod limit_range;
pub mod resource_quota;
pub mod retry;

use crate::input::error::InputError;
use crate::input::manifest::ManifestSet;
use crate::input::yaml::Document;
use crate::model::pod::Pod;
use crate::model::quantity::parse_quantity;

/// The admission objects of a scenario (from its manifests), per namespace.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdmissionObjects {
    /// LimitRanges, in (namespace, name) order.
    pub limit_ranges: Vec<limit_range::LimitRange>,
    /// ResourceQuotas, in (namespace, name) order.
    pub quotas: Vec<resource_quota::ResourceQuota>,
}

impl AdmissionObjects {
    /// True when no object constrains admission (the run then skips admission entirely).
    pub fn is_empty(&self) -> bool {
        self.limit_ranges.is_empty() && self.quotas.is_empty()
    }

    /// True when `namespace` has at least one ResourceQuota.
    pub fn has_quota(&self, namespace: &str) -> bool {
        self.quotas.iter().any(|q| q.namespace == namespace)
    }

    fn sort(&mut self) {
        self.limit_ranges.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        self.quotas.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    }
}

/// Why a pod was refused.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rejection {
    /// The admission plugin: `LimitRanger` or `ResourceQuota` (or `Validation` for a pod that
    /// LimitRange defaults made invalid).
    pub plugin: &'static str,
    /// The quota that refused it (ResourceQuota only).
    pub quota: Option<String>,
    /// A short reason for counters: `exceeded quota`, `failed quota`, `limit range`,
    /// `invalid`.
    pub reason: &'static str,
    /// The full message, as the API server returns it.
    pub message: String,
}

/// Runs LimitRanger (mutating then validating) and ResourceQuota on a pod about to be created.
/// `shown_name` is the name the API server would print (the `generateName` prefix for a
/// controller's pod: admission runs before the name is generated). On success the pod carries
/// its LimitRange defaults (its derived requests recomputed).
pub fn admit(
    objects: &AdmissionObjects,
    pod: &mut Pod,
    shown_name: &str,
    usage: &resource_quota::NamespaceUsage,
) -> Result<(), Rejection> {
    let forbidden = |msg: String| format!("pods {shown_name:?} is forbidden: {msg}");
    let ranges: Vec<&limit_range::LimitRange> =
        objects.limit_ranges.iter().filter(|l| l.namespace == pod.namespace).collect();
    if !ranges.is_empty() {
        for l in &ranges {
            l.apply_defaults(pod);
        }
        pod.finalize();
        if let Some(m) = limit_range::request_above_limit(pod) {
            return Err(Rejection {
                plugin: "Validation",
                quota: None,
                reason: "invalid",
                message: format!("Pod {shown_name:?} is invalid: {m}"),
            });
        }
        for l in &ranges {
            if let Err(m) = l.validate(pod) {
                return Err(Rejection {
                    plugin: "LimitRanger",
                    quota: None,
                    reason: "limit range",
                    message: forbidden(m),
                });
            }
        }
    }
    for q in objects.quotas.iter().filter(|q| q.namespace == pod.namespace) {
        if let Err((reason, m)) = q.check(pod, usage) {
            return Err(Rejection {
                plugin: "ResourceQuota",
                quota: Some(q.name.clone()),
                reason,
                message: forbidden(m),
            });
        }
    }
    Ok(())
}

/// The base resource of a quota or limit key (`requests.cpu` → `cpu`, `limits.memory` →
/// `memory`, `count/pods` → `count/pods`).
pub fn base_resource(key: &str) -> &str {
    key.strip_prefix("requests.").or_else(|| key.strip_prefix("limits.")).unwrap_or(key)
}

/// Canonical units of a quantity for `key` (millicores for CPU keys, else whole units).
pub fn canonical(key: &str, q: &crate::model::quantity::Quantity) -> Result<i64, String> {
    crate::model::resources::ResourceList::canonical(base_resource(key), q)
}

/// A canonical amount of `key` written as apimachinery's `Quantity.String()` would print it:
/// CPU as `500m` / `2`, memory and storage with a binary suffix when a whole number of KiB
/// (`1Gi`), everything else in decimal (`1k` for 1000).
pub fn format_amount(key: &str, v: i64) -> String {
    let base = base_resource(key);
    let text = if base == crate::model::resources::CPU {
        format!("{v}m")
    } else if (base == crate::model::resources::MEMORY || base == crate::model::resources::EPHEMERAL_STORAGE)
        && v > 0
        && v % 1024 == 0
    {
        format!("{}Ki", v / 1024)
    } else {
        v.to_string()
    };
    parse_quantity(&text).map(|q| q.to_string()).unwrap_or(text)
}

/// Parses a `ResourceQuota` or `LimitRange` document into `set` (dispatched from
/// [`crate::input::manifest`]).
pub fn add_document(set: &mut ManifestSet, doc: &Document<'_>, file: &str, kind: &str) -> Result<(), InputError> {
    match kind {
        "ResourceQuota" => {
            let q = resource_quota::parse(set, doc, file)?;
            set.admission.quotas.push(q);
        }
        _ => {
            let l = limit_range::parse(set, doc, file)?;
            set.admission.limit_ranges.push(l);
        }
    }
    set.admission.sort();
    if set.admission.quotas.windows(2).any(|p| (&p[0].namespace, &p[0].name) == (&p[1].namespace, &p[1].name)) {
        return Err(InputError::at(file, doc.line_offset + 1, 1, "metadata.name", "two ResourceQuotas share a name"));
    }
    if set.admission.limit_ranges.windows(2).any(|p| (&p[0].namespace, &p[0].name) == (&p[1].namespace, &p[1].name)) {
        return Err(InputError::at(file, doc.line_offset + 1, 1, "metadata.name", "two LimitRanges share a name"));
    }
    Ok(())
}

/// The namespace of a manifest (`default` when unset).
pub(crate) fn namespace_of(meta: &crate::input::manifest::ObjectMeta) -> String {
    meta.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_print_as_kubernetes_quantities() {
        let cases: &[(&str, i64, &str)] = &[
            ("requests.cpu", 500, "500m"),
            ("cpu", 2000, "2"),
            ("limits.cpu", 1500, "1500m"),
            ("memory", 1 << 30, "1Gi"),
            ("requests.memory", 1536 * 1024 * 1024, "1536Mi"),
            ("memory", 1000, "1k"),
            ("pods", 4, "4"),
            ("count/pods", 0, "0"),
            ("requests.nvidia.com/gpu", 2, "2"),
        ];
        for (key, v, want) in cases {
            assert_eq!(format_amount(key, *v), *want, "{key}={v}");
        }
    }

    #[test]
    fn quota_keys_map_to_their_base_resource() {
        assert_eq!(base_resource("requests.cpu"), "cpu");
        assert_eq!(base_resource("limits.memory"), "memory");
        assert_eq!(base_resource("requests.nvidia.com/gpu"), "nvidia.com/gpu");
        assert_eq!(base_resource("count/pods"), "count/pods");
    }
}
