//! # kubesim
//!
//! A deterministic, discrete-event simulator of a Kubernetes cluster for scheduling research.
//! It models nodes, pods and failures with seeded randomness, schedules pods with
//! kube-scheduler's own plugins and integer arithmetic, and writes metrics a researcher can
//! compare across policies and seeds.
//!
//! Same inputs, seed and build give byte-identical outputs.
//!
//! ```no_run
//! use kubesim::input::scenario;
//! use kubesim::run::{run, RunOptions};
//! let sc = scenario::load(std::path::Path::new("scenarios/quickstart.yaml"), &[]).unwrap();
//! let result = run(&sc, &RunOptions::default()).unwrap();
//! println!("{} pods scheduled", result.summary.counts.pods_scheduled);
//! ```
//!
//! To drive kubesim from Rust code (your own test suite, a sweep, a custom policy), start from
//! [`api`]: `use kubesim::prelude::*;` then [`ScenarioBuilder`] or [`Runner::load`], choose a
//! scheduler, profiles, user plugins ([`scheduler::registry::Registry`]) or a whole policy
//! ([`scheduler::policy::Policy`]), and [`Runner::run`].
//!
//! See `ARCHITECTURE.md` for the code map and the invariants.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admission;
pub mod api;
pub mod apiserver;
pub mod cli;
pub mod cluster;
pub mod compare;
pub mod controllers;
pub mod convergence;
pub mod engine;
pub mod explain;
pub mod input;
pub mod kubelet;
pub mod limits;
pub mod model;
pub mod replay;
pub mod report;
pub mod run;
pub mod scheduler;
pub mod services;
pub mod trace;
pub mod workflow;

pub use api::{Runner, ScenarioBuilder, prelude};
