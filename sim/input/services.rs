//! `Service` (v1) manifests and the scenario's `services` section (the endpoint propagation
//! delay and per-Service request loads), compiled into a [`ServiceSet`].
//!
//! Only `metadata.name` / `namespace`, `spec.selector` and `spec.ports` are read; every other
//! field (`type`, `clusterIP`, `sessionAffinity`, `externalTrafficPolicy`, `status`, ...) is
//! accepted and listed once as not modelled, as for the other kinds.

use crate::engine::time::SimDuration;
use crate::input::error::InputError;
use crate::input::go_duration::GoDuration;
use crate::input::manifest::{ManifestSet, ObjectMeta};
use crate::input::yaml::{Document, parse_document};
use crate::limits;
use crate::model::selector::Labels;
use crate::services::{LoadPolicy, Service, ServiceLoad, ServicePort, ServiceSet};
use serde::Deserialize;
use serde_saphyr::Spanned;

/// A Service manifest as written.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceManifest {
    /// `apiVersion` (`v1`).
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
    pub spec: ServiceSpecManifest,
}

/// `spec` of a Service.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpecManifest {
    /// `selector` (equality only; absent: no managed endpoints).
    #[serde(default)]
    pub selector: Option<Labels>,
    /// `ports`.
    #[serde(default)]
    pub ports: Vec<ServicePortManifest>,
}

/// A port number or a named container port (`targetPort`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    /// A number.
    Int(i64),
    /// A name.
    Str(String),
}

/// One entry of `spec.ports`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServicePortManifest {
    /// `name`.
    #[serde(default)]
    pub name: Option<String>,
    /// `protocol` (default TCP).
    #[serde(default)]
    pub protocol: Option<String>,
    /// `port` (required, 1..65535).
    #[serde(default)]
    pub port: Option<i64>,
    /// `targetPort` (default: `port`).
    #[serde(default)]
    pub target_port: Option<IntOrString>,
}

/// Parses one `kind: Service` document into `set`.
pub fn add_document(set: &mut ManifestSet, doc: &Document<'_>, file: &str) -> Result<(), InputError> {
    let mut p = parse_document::<ServiceManifest>(doc, file)?;
    for f in &p.ignored {
        set.ignored.insert(format!("Service: {f}"));
    }
    set.generate_name(&mut p.value.metadata);
    let svc = convert(&p.value).map_err(|(field, msg)| {
        InputError::at(file, doc.line_offset + 1, 1, field, format!("Service {:?}: {msg}", p.value.metadata.name))
    })?;
    if set.services.iter().any(|s| s.namespace == svc.namespace && s.name == svc.name) {
        return Err(InputError::at(
            file,
            doc.line_offset + 1,
            1,
            "metadata.name",
            format!("Service {} is defined twice", svc.key()),
        ));
    }
    limits::SERVICES
        .check(set.services.len() as u64 + 1)
        .map_err(|m| InputError::at(file, doc.line_offset + 1, 1, "", m))?;
    set.services.push(svc);
    Ok(())
}

/// Converts a parsed manifest with the API server's defaults and validation; `Err((field, message))`.
pub fn convert(m: &ServiceManifest) -> Result<Service, (String, String)> {
    let fe = |f: &str, msg: String| (f.to_string(), msg);
    if m.api_version != "v1" {
        return Err(fe("apiVersion", format!("expected v1, got {:?}", m.api_version)));
    }
    if m.metadata.name.is_empty() {
        return Err(fe("metadata.name", "a Service needs a name".into()));
    }
    let mut ports = Vec::new();
    for (i, p) in m.spec.ports.iter().enumerate() {
        let field = format!("spec.ports[{i}]");
        let port = match p.port {
            Some(v) if (1..=65535).contains(&v) => v as i32,
            Some(v) => return Err(fe(&format!("{field}.port"), format!("must be within 1..65535, got {v}"))),
            None => return Err(fe(&format!("{field}.port"), "required".into())),
        };
        let protocol = p.protocol.clone().unwrap_or_else(|| "TCP".into());
        if !["TCP", "UDP", "SCTP"].contains(&protocol.as_str()) {
            return Err(fe(&format!("{field}.protocol"), format!("expected TCP, UDP or SCTP, got {protocol:?}")));
        }
        let target_port = match &p.target_port {
            None => port.to_string(),
            Some(IntOrString::Int(v)) if (1..=65535).contains(v) => v.to_string(),
            Some(IntOrString::Int(v)) => {
                return Err(fe(&format!("{field}.targetPort"), format!("must be within 1..65535, got {v}")));
            }
            Some(IntOrString::Str(s)) if !s.is_empty() => s.clone(),
            Some(IntOrString::Str(_)) => return Err(fe(&format!("{field}.targetPort"), "empty port name".into())),
        };
        let name = p.name.clone().unwrap_or_default();
        if m.spec.ports.len() > 1 && name.is_empty() {
            return Err(fe(&format!("{field}.name"), "required when a Service has several ports".into()));
        }
        ports.push(ServicePort { name, protocol, port, target_port });
    }
    Ok(Service {
        namespace: m.metadata.namespace.clone().unwrap_or_else(|| "default".into()),
        name: m.metadata.name.clone(),
        selector: m.spec.selector.clone(),
        ports,
        load: None,
    })
}

/// The scenario's `services` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServicesSpec {
    /// Delay between a pod's readiness change and the data plane seeing it (default 0s).
    #[serde(default)]
    pub endpoint_delay: Option<Spanned<GoDuration>>,
    /// Request loads, one per Service.
    #[serde(default)]
    pub load: Vec<ServiceLoadSpec>,
}

/// One entry of `services.load`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceLoadSpec {
    /// The Service: `name` (namespace `default`) or `namespace/name`.
    pub service: Spanned<String>,
    /// Requests per second.
    pub rps: Spanned<u64>,
    /// `round-robin` (default) or `least-requests`.
    #[serde(default)]
    pub policy: Option<Spanned<String>>,
    /// Requests per second one endpoint serves (absent: unlimited).
    #[serde(default)]
    pub capacity_per_endpoint_rps: Option<Spanned<u64>>,
}

fn err_at<T>(file: &str, s: &Spanned<T>, field: &str, msg: impl Into<String>) -> InputError {
    InputError::at(file, s.referenced.line(), s.referenced.column(), field, msg)
}

/// Compiles the section against the Services the manifests declared (`shown`: the scenario file).
pub fn compile(spec: &ServicesSpec, mut services: Vec<Service>, shown: &str) -> Result<ServiceSet, InputError> {
    services.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let endpoint_delay = SimDuration(spec.endpoint_delay.as_ref().map_or(0, |d| d.value.0));
    for (i, l) in spec.load.iter().enumerate() {
        let field = format!("services.load[{i}]");
        let (ns, name) = match l.service.value.split_once('/') {
            Some((ns, name)) => (ns.to_string(), name.to_string()),
            None => ("default".to_string(), l.service.value.clone()),
        };
        let Some(svc) = services.iter_mut().find(|s| s.namespace == ns && s.name == name) else {
            return Err(err_at(
                shown,
                &l.service,
                &format!("{field}.service"),
                format!("no Service {ns}/{name} in the manifests"),
            ));
        };
        if svc.load.is_some() {
            return Err(err_at(shown, &l.service, &format!("{field}.service"), "this Service already has a load"));
        }
        let check = |v: &Spanned<u64>, what: &str| {
            if v.value > limits::MAX_SERVICE_RPS {
                Err(err_at(
                    shown,
                    v,
                    &format!("{field}.{what}"),
                    format!(
                        "{} exceeds the largest rate, {} (kubesim::limits::MAX_SERVICE_RPS)",
                        v.value,
                        limits::MAX_SERVICE_RPS
                    ),
                ))
            } else {
                Ok(v.value)
            }
        };
        let rps = check(&l.rps, "rps")?;
        let capacity_per_endpoint_rps = match &l.capacity_per_endpoint_rps {
            Some(c) => check(c, "capacityPerEndpointRps")?,
            None => limits::MAX_SERVICE_RPS,
        };
        let policy = match &l.policy {
            None => LoadPolicy::RoundRobin,
            Some(p) => LoadPolicy::parse(&p.value).ok_or_else(|| {
                err_at(
                    shown,
                    p,
                    &format!("{field}.policy"),
                    format!("unknown policy {:?} (expected round-robin or least-requests)", p.value),
                )
            })?,
        };
        svc.load = Some(ServiceLoad { rps, policy, capacity_per_endpoint_rps });
    }
    Ok(ServiceSet { services, endpoint_delay })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<ManifestSet, InputError> {
        let mut set = ManifestSet::default();
        set.add_text(text, "svc.yaml")?;
        Ok(set)
    }

    const WEB: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  type: ClusterIP\n  selector: {app: web}\n  ports:\n  - {name: http, port: 80, targetPort: http}\n  - {name: admin, port: 81, targetPort: 9090, protocol: UDP}\n";

    #[test]
    fn a_real_service_loads_with_its_ports_and_ignored_fields_listed() {
        let set = load(WEB).unwrap();
        let s = &set.services[0];
        assert_eq!(s.key(), "shop/web");
        assert_eq!(s.selector.as_ref().map(|m| m.len()), Some(1));
        assert_eq!(
            s.ports,
            vec![
                ServicePort { name: "http".into(), protocol: "TCP".into(), port: 80, target_port: "http".into() },
                ServicePort { name: "admin".into(), protocol: "UDP".into(), port: 81, target_port: "9090".into() },
            ]
        );
        assert!(set.ignored.contains("Service: spec.type"), "{:?}", set.ignored);
    }

    #[test]
    fn a_service_without_selector_loads_and_selects_nothing() {
        let set = load("apiVersion: v1\nkind: Service\nmetadata: {name: ext}\nspec: {ports: [{port: 443}]}\n").unwrap();
        assert_eq!(set.services[0].selector, None);
        assert_eq!(set.services[0].ports[0].target_port, "443");
    }

    #[test]
    fn invalid_services_are_errors_naming_the_field() {
        let cases = [
            ("apiVersion: v2\nkind: Service\nmetadata: {name: a}\n", "apiVersion", "expected v1"),
            ("apiVersion: v1\nkind: Service\nmetadata: {}\n", "metadata.name", "needs a name"),
            (
                "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 0}]}\n",
                "spec.ports[0].port",
                "1..65535",
            ),
            (
                "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{}]}\n",
                "spec.ports[0].port",
                "required",
            ),
            (
                "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 1, protocol: ICMP}]}\n",
                "spec.ports[0].protocol",
                "TCP, UDP or SCTP",
            ),
            (
                "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 1}, {port: 2}]}\n",
                "spec.ports[0].name",
                "several ports",
            ),
            (
                "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: a}\n",
                "metadata.name",
                "defined twice",
            ),
        ];
        for (text, field, msg) in cases {
            let e = load(text).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{e}");
            assert!(e.message.contains(msg), "{e}");
        }
    }

    fn spec(yaml: &str) -> ServicesSpec {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn loads_attach_to_their_service_with_defaults() {
        let set = load(WEB).unwrap();
        let s = compile(&spec("endpointDelay: 2s\nload:\n- {service: shop/web, rps: 100}\n"), set.services, "sc.yaml")
            .unwrap();
        assert_eq!(s.endpoint_delay, SimDuration::from_secs(2));
        let l = s.services[0].load.as_ref().unwrap();
        assert_eq!(
            (l.rps, l.policy, l.capacity_per_endpoint_rps),
            (100, LoadPolicy::RoundRobin, limits::MAX_SERVICE_RPS)
        );
    }

    #[test]
    fn a_load_naming_an_unknown_service_or_policy_is_an_error_at_its_line() {
        let set = load(WEB).unwrap();
        let e = compile(&spec("load:\n- {service: web, rps: 1}\n"), set.services.clone(), "sc.yaml").unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(2), Some("services.load[0].service")), "{e}");
        assert!(e.message.contains("no Service default/web"), "{e}");
        let e = compile(&spec("load:\n- service: shop/web\n  rps: 1\n  policy: random\n"), set.services.clone(), "s")
            .unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(4), Some("services.load[0].policy")), "{e}");
        let e = compile(&spec("load:\n- {service: shop/web, rps: 99999999999}\n"), set.services, "s").unwrap_err();
        assert!(e.message.contains("MAX_SERVICE_RPS"), "{e}");
    }
}
