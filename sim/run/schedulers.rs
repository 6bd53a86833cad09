//! The built-in schedulers a scenario (or `--set scheduler.name=...`) can choose by name.

use crate::scheduler::Profile;
use crate::scheduler::plugins::node_resources_fit::{self, FitArgs, NodeResourcesFit, ScoringStrategy};
use std::sync::Arc;

/// Every built-in scheduler name, with a one-line description.
pub const DESCRIPTIONS: &[(&str, &str)] = &[
    ("default", "kube-scheduler's default profile (LeastAllocated spreading)"),
    ("most-allocated", "the default profile with NodeResourcesFit scoring MostAllocated (bin packing)"),
    ("random", "FGD paper: a random feasible node, random GPU (default filters + OpenGpuShare)"),
    ("first-fit", "FGD paper style: the first feasible node in node order, best GPU"),
    ("best-fit", "FGD paper: least CPU and GPU left after placement, best GPU"),
    ("worst-fit", "FGD paper style: most CPU and GPU left after placement, worst GPU"),
    ("dot-product", "FGD paper: Tetris dot product of demand and free vectors, best GPU"),
    ("gpu-packing", "FGD paper: shared GPUs first, then partly used nodes, best GPU"),
    ("gpu-clustering", "FGD paper: nodes running pods of the same GPU shape, best GPU"),
    ("fgd", "FGD paper: fragmentation gradient descent, FGD's own GPU choice"),
    ("swarm-spread", "Docker SwarmKit: fewest tasks of the service, then fewest tasks; spread preferences"),
    ("swarm-binpack", "classic Docker Swarm binpack: the most used node by cpu + memory share"),
    ("swarm-random", "classic Docker Swarm random: a random node passing the Swarm filters"),
    ("marathon", "Mesos Marathon: the first node (offer) satisfying resources and Marathon constraints"),
];

/// The names alone.
pub const NAMES: &[&str] = &[
    "default",
    "most-allocated",
    "random",
    "first-fit",
    "best-fit",
    "worst-fit",
    "dot-product",
    "gpu-packing",
    "gpu-clustering",
    "fgd",
    "swarm-spread",
    "swarm-binpack",
    "swarm-random",
    "marathon",
];

/// True when `name` is a built-in scheduler.
pub fn is_known(name: &str) -> bool {
    NAMES.contains(&name)
}

/// Builds the profile called `name`.
pub fn profile(name: &str, percentage_of_nodes_to_score: Option<u32>) -> Option<Profile> {
    if let Some(policy) = crate::scheduler::policies::Policy::parse(name).filter(|_| NAMES.contains(&name)) {
        return research_profile(policy, percentage_of_nodes_to_score);
    }
    let mut p = Profile::default_profile();
    p.percentage_of_nodes_to_score = percentage_of_nodes_to_score.filter(|p| *p > 0);
    match name {
        "default" => {}
        _ if policy(name).is_some() => {}
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

/// The whole policy behind a built-in scheduler name (`swarm-*`, `marathon`); its profile is the
/// default one, whose filters give the policy its verdicts.
pub fn policy(name: &str) -> Option<Box<dyn crate::scheduler::policy::Policy>> {
    use crate::scheduler::policies::{marathon, swarm};
    if let Some(s) = swarm::Strategy::from_name(name) {
        return Some(Box::new(swarm::SwarmPolicy::new(s)));
    }
    (name == marathon::NAME).then(|| Box::new(marathon::MarathonPolicy) as Box<dyn crate::scheduler::policy::Policy>)
}

/// A research policy's profile, as the FGD simulator configures it: the default filters plus
/// `OpenGpuShare` and `MaxPerNode` (the DLRM per-node cap), no default score plugin, the policy's score plugin with weight 1000, and
/// `percentageOfNodesToScore` 100 unless given.
fn research_profile(policy: crate::scheduler::policies::Policy, pct: Option<u32>) -> Option<Profile> {
    use crate::scheduler::{policies::plugins::GPU_SHARE, registry};
    let mut names: Vec<&str> = registry::BUILT_IN.to_vec();
    names.push(GPU_SHARE);
    names.push(crate::scheduler::policies::max_per_node::NAME);
    names.push(policy.plugin_name());
    let mut p = Profile::with_plugins(crate::model::pod::DEFAULT_SCHEDULER_NAME, &names).ok()?;
    p.scores.retain(|(s, _)| s.name() == policy.plugin_name());
    for (_, w) in p.scores.iter_mut() {
        *w = 1000;
    }
    p.percentage_of_nodes_to_score = Some(pct.filter(|p| *p > 0).unwrap_or(100));
    Some(p)
}

#[cfg(test)]
mod research_tests {
    use super::*;

    #[test]
    fn swarm_and_marathon_names_are_policies_over_the_default_profile() {
        for name in ["swarm-spread", "swarm-binpack", "swarm-random", "marathon"] {
            assert!(is_known(name), "{name}");
            assert_eq!(policy(name).map(|p| p.name()).as_deref(), Some(name));
            assert_eq!(profile(name, None).map(|p| p.scores.len()), Some(Profile::default_profile().scores.len()));
        }
        assert!(policy("default").is_none());
    }

    #[test]
    fn every_research_scheduler_has_one_weighted_policy_score_and_the_gpu_filter() {
        for name in NAMES[2..].iter().filter(|n| policy(n).is_none()) {
            let p = profile(name, None).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(p.scores.len(), 1, "{name}");
            assert_eq!(p.scores[0].1, 1000);
            assert!(p.filters.iter().any(|f| f.name() == "OpenGpuShare"), "{name}");
            assert!(p.filters.iter().any(|f| f.name() == "MaxPerNode"), "{name}");
            assert_eq!(crate::scheduler::policies::plugins::profile_policy(&p).map(|x| x.name()), Some(*name));
        }
    }
}
