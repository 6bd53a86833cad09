//! Resource quantities in canonical integer units.
//!
//! CPU is in millicores, memory and ephemeral storage in bytes, `pods` a count, and every other
//! (extended) resource in its own integer units (`nvidia.com/gpu` devices, say). A
//! [`ResourceList`] is what a manifest writes (`requests: {cpu: 500m, memory: 1Gi}`), keeping
//! which keys were present; [`Resources`] is the dense form the scheduler adds and compares.

use crate::model::quantity::Quantity;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// The CPU resource name.
pub const CPU: &str = "cpu";
/// The memory resource name.
pub const MEMORY: &str = "memory";
/// The ephemeral storage resource name.
pub const EPHEMERAL_STORAGE: &str = "ephemeral-storage";
/// The pod-count resource name.
pub const PODS: &str = "pods";

/// The largest value any single resource quantity may take (2^62), so sums never overflow.
pub const MAX_RESOURCE_VALUE: i64 = 1 << 62;

/// A manifest's resource list, in canonical units, remembering which keys were written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceList(pub BTreeMap<String, i64>);

impl ResourceList {
    /// The canonical value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<i64> {
        self.0.get(name).copied()
    }

    /// Converts one quantity to canonical units for resource `name`.
    pub fn canonical(name: &str, q: &Quantity) -> Result<i64, String> {
        let v = if name == CPU { q.milli_value() } else { q.value() }.map_err(|e| e.to_string())?;
        if v < 0 {
            return Err(format!("resource `{name}` must not be negative (got {q})"));
        }
        if v > MAX_RESOURCE_VALUE {
            return Err(format!("resource `{name}` is too large (got {q}; the limit is 2^62 units)"));
        }
        Ok(v)
    }

    /// The dense form.
    pub fn to_resources(&self) -> Resources {
        let mut r = Resources::default();
        for (k, v) in &self.0 {
            r.set(k, *v);
        }
        r
    }
}

impl<'de> Deserialize<'de> for ResourceList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ResourceList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of resource names to quantities, e.g. {cpu: 500m, memory: 1Gi}")
            }
            fn visit_unit<E: de::Error>(self) -> Result<ResourceList, E> {
                Ok(ResourceList::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ResourceList, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let q: Quantity = map.next_value()?;
                    let v = ResourceList::canonical(&key, &q).map_err(de::Error::custom)?;
                    out.insert(key, v);
                }
                Ok(ResourceList(out))
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl Serialize for ResourceList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = BTreeMap::new();
        for (k, v) in &self.0 {
            let text = if k == CPU { format!("{v}m") } else { v.to_string() };
            out.insert(k.clone(), text);
        }
        out.serialize(s)
    }
}

/// Dense resource amounts, added and compared by the scheduler.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// CPU in millicores.
    pub cpu_millis: i64,
    /// Memory in bytes.
    pub memory_bytes: i64,
    /// Ephemeral storage in bytes.
    pub ephemeral_storage_bytes: i64,
    /// Number of pods.
    pub pods: i64,
    /// Extended and other resources, by name (ordered, so iteration is deterministic).
    pub scalar: BTreeMap<String, i64>,
}

impl Resources {
    /// The amount of `name`.
    pub fn get(&self, name: &str) -> i64 {
        match name {
            CPU => self.cpu_millis,
            MEMORY => self.memory_bytes,
            EPHEMERAL_STORAGE => self.ephemeral_storage_bytes,
            PODS => self.pods,
            other => self.scalar.get(other).copied().unwrap_or(0),
        }
    }

    /// Sets the amount of `name`.
    pub fn set(&mut self, name: &str, v: i64) {
        match name {
            CPU => self.cpu_millis = v,
            MEMORY => self.memory_bytes = v,
            EPHEMERAL_STORAGE => self.ephemeral_storage_bytes = v,
            PODS => self.pods = v,
            other => {
                if v == 0 {
                    self.scalar.remove(other);
                } else {
                    self.scalar.insert(other.to_string(), v);
                }
            }
        }
    }

    /// `self += other`, saturating.
    pub fn add(&mut self, other: &Resources) {
        self.cpu_millis = self.cpu_millis.saturating_add(other.cpu_millis);
        self.memory_bytes = self.memory_bytes.saturating_add(other.memory_bytes);
        self.ephemeral_storage_bytes = self.ephemeral_storage_bytes.saturating_add(other.ephemeral_storage_bytes);
        self.pods = self.pods.saturating_add(other.pods);
        for (k, v) in &other.scalar {
            let e = self.scalar.entry(k.clone()).or_insert(0);
            *e = e.saturating_add(*v);
        }
    }

    /// `self -= other`, saturating; scalar entries that reach zero are removed.
    pub fn sub(&mut self, other: &Resources) {
        self.cpu_millis = self.cpu_millis.saturating_sub(other.cpu_millis);
        self.memory_bytes = self.memory_bytes.saturating_sub(other.memory_bytes);
        self.ephemeral_storage_bytes = self.ephemeral_storage_bytes.saturating_sub(other.ephemeral_storage_bytes);
        self.pods = self.pods.saturating_sub(other.pods);
        for (k, v) in &other.scalar {
            if let Some(e) = self.scalar.get_mut(k) {
                *e = e.saturating_sub(*v);
                if *e == 0 {
                    self.scalar.remove(k);
                }
            }
        }
    }

    /// Element-wise maximum (`max(self, other)` per resource), as `maxResourceList` does.
    pub fn max_with(&mut self, other: &Resources) {
        self.cpu_millis = self.cpu_millis.max(other.cpu_millis);
        self.memory_bytes = self.memory_bytes.max(other.memory_bytes);
        self.ephemeral_storage_bytes = self.ephemeral_storage_bytes.max(other.ephemeral_storage_bytes);
        self.pods = self.pods.max(other.pods);
        for (k, v) in &other.scalar {
            let e = self.scalar.entry(k.clone()).or_insert(0);
            *e = (*e).max(*v);
        }
    }

    /// True when every amount is zero.
    pub fn is_zero(&self) -> bool {
        self.cpu_millis == 0
            && self.memory_bytes == 0
            && self.ephemeral_storage_bytes == 0
            && self.pods == 0
            && self.scalar.values().all(|v| *v == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_list_converts_cpu_to_millicores_and_the_rest_to_units() {
        let l: ResourceList = serde_saphyr::from_str("{cpu: 1.5, memory: 1Gi, nvidia.com/gpu: 2, pods: 110}").unwrap();
        let r = l.to_resources();
        assert_eq!(r.cpu_millis, 1500);
        assert_eq!(r.memory_bytes, 1 << 30);
        assert_eq!(r.pods, 110);
        assert_eq!(r.get("nvidia.com/gpu"), 2);
    }

    #[test]
    fn negative_and_malformed_quantities_are_rejected() {
        let e = serde_saphyr::from_str::<ResourceList>("{cpu: -1}").unwrap_err().to_string();
        assert!(e.contains("must not be negative"), "{e}");
        let e = serde_saphyr::from_str::<ResourceList>("{memory: 2gi}").unwrap_err().to_string();
        assert!(e.contains("2gi"), "{e}");
    }

    #[test]
    fn adding_then_subtracting_restores_the_original() {
        let mut a = Resources { cpu_millis: 5, memory_bytes: 7, ..Default::default() };
        a.scalar.insert("x".into(), 3);
        let b = a.clone();
        let mut c = Resources::default();
        c.add(&a);
        c.add(&b);
        c.sub(&b);
        assert_eq!(c, a);
        c.sub(&a);
        assert!(c.is_zero());
        assert!(c.scalar.is_empty());
    }
}
