//! Inputs: the scenario file, Kubernetes manifests, YAML loading with positions and budgets, Go
//! durations, and the error type that names file, line, column and field.

pub mod autoscaler;
pub mod error;
pub mod faults;
pub mod go_duration;
pub mod hpa;
pub mod load;
pub mod loaders;
pub mod manifest;
pub mod scenario;
pub mod services;
pub mod swarm_service;
pub mod volumes;
pub mod workloads;
pub mod yaml;
