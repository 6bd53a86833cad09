//! The built-in schedulers a scenario (or `--set scheduler.name=...`) can choose by name.

use crate::scheduler::Profile;
use crate::scheduler::plugins::node_resources_fit::{self, FitArgs, NodeResourcesFit, ScoringStrategy};
use std::sync::Arc;

/// Every built-in scheduler name, with a one-line description.
pub const DESCRIPTIONS: &[(&str, &str)] = &[
    ("default", "kube-scheduler's default profile (LeastAllocated spreading)"),
    ("most-allocated", "the default profile with NodeResourcesFit scoring MostAllocated (bin packing)"),
];

/// The names alone.
pub const NAMES: &[&str] = &["default", "most-allocated"];

/// True when `name` is a built-in scheduler.
pub fn is_known(name: &str) -> bool {
    NAMES.contains(&name)
}

/// Builds the profile called `name`.
pub fn profile(name: &str, percentage_of_nodes_to_score: Option<u32>) -> Option<Profile> {
    let mut p = Profile::default_profile();
    p.percentage_of_nodes_to_score = percentage_of_nodes_to_score.filter(|p| *p > 0);
    match name {
        "default" => {}
        "most-allocated" => {
            let fit = Arc::new(NodeResourcesFit::new(FitArgs {
                strategy: ScoringStrategy::MostAllocated,
                ..FitArgs::default()
            }));
            for (s, _) in p.scores.iter_mut() {
                if s.name() == node_resources_fit::NAME {
                    *s = fit.clone();
                }
            }
        }
        _ => return None,
    }
    Some(p)
}
