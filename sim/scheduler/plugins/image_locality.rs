//! ImageLocality: favours nodes that already hold the pod's container images, as kube-scheduler
//! v1.33's `pkg/scheduler/framework/plugins/imagelocality/image_locality.go` scores them.
//!
//! For each container and init container whose (normalised) image the node has, the image size
//! is scaled by the fraction of all nodes that have it (`int64(float64(size) * numNodes /
//! totalNodes)`, so a ubiquitous image does not pull every pod to one node), summed, clamped to
//! `[23 MiB, 1000 MiB * numContainers]` and mapped linearly onto `0..=100` with int64
//! arithmetic. There is no NormalizeScore.
//!
//! Two simulator details (upstream is silent or differs immaterially):
//! * The node's image names are normalised too (`:latest` appended when untagged), as
//!   [`ClusterState::nodes_with_image`] counts them; upstream keys node images by the name the
//!   kubelet reports (which is always tagged or digested in practice).
//! * The size is the one this node reports for the image; upstream's cache keeps the size
//!   from the first node that reported the name. They differ only if nodes disagree on the
//!   size of one image name.
//!
//! Upstream has no PreScore. Here PreScore normalises the pod's image names once per cycle, and
//! returns Skip when no node has any of them: every score would be 0, so the weighted totals
//! are the same either way.

use crate::cluster::state::normalized_image_name;
use crate::cluster::{ClusterState, NodeId, NodeState};
use crate::model::node::Node;
use crate::model::pod::Pod;
use crate::scheduler::framework::{CycleState, MAX_NODE_SCORE, Plugin, ScorePlugin, Status};

/// The plugin name.
pub const NAME: &str = "ImageLocality";

const MB: i64 = 1024 * 1024;
/// Upstream `minThreshold`: image sums at or below 23 MiB score 0.
pub const MIN_THRESHOLD: i64 = 23 * MB;
/// Upstream `maxContainerThreshold`: per container, sums at or above this score 100.
pub const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// The ImageLocality plugin (it has no args).
#[derive(Clone, Debug, Default)]
pub struct ImageLocality;

/// What PreScore computes once per cycle.
struct PreScoreState {
    /// For each init container then container with an image some node has: the normalised
    /// image name and the number of nodes that have it.
    images: Vec<(String, i64)>,
    /// All nodes in the snapshot.
    total_nodes: i64,
    /// `len(initContainers) + len(containers)`.
    num_containers: i64,
}

impl PreScoreState {
    fn new(cluster: &ClusterState, pod: &Pod) -> Self {
        let images = pod
            .init_containers
            .iter()
            .chain(&pod.containers)
            .filter_map(|c| {
                let name = normalized_image_name(&c.image);
                let n = i64::from(cluster.nodes_with_image(&name));
                (n > 0).then_some((name, n))
            })
            .collect();
        PreScoreState {
            images,
            total_nodes: cluster.nodes().len() as i64,
            num_containers: (pod.init_containers.len() + pod.containers.len()) as i64,
        }
    }
}

/// Whether `node_name`, normalised, equals `normalized` (no allocation).
fn same_image(node_name: &str, normalized: &str) -> bool {
    if node_name == normalized {
        return true;
    }
    normalized.len() == node_name.len() + ":latest".len()
        && normalized.starts_with(node_name)
        && normalized.ends_with(":latest")
        && normalized_image_name(node_name) == normalized
}

/// The size of the image `normalized` on `node`, if the node has it.
fn image_size(node: &Node, normalized: &str) -> Option<i64> {
    node.images.iter().find(|img| img.names.iter().any(|n| same_image(n, normalized))).map(|img| img.size_bytes)
}

/// `scaledImageScore`: the size scaled by the spread of the image over the cluster.
pub fn scaled_image_score(size: i64, num_nodes: i64, total_nodes: i64) -> i64 {
    let spread = num_nodes as f64 / total_nodes as f64;
    (size as f64 * spread) as i64
}

/// `calculatePriority`: clamps the sum to `[minThreshold, maxContainerThreshold *
/// numContainers]` and maps it onto `0..=100` (int64 truncation).
pub fn calculate_priority(sum_scores: i64, num_containers: i64) -> i64 {
    let max_threshold = MAX_CONTAINER_THRESHOLD * num_containers;
    let sum = if sum_scores < MIN_THRESHOLD {
        MIN_THRESHOLD
    } else if sum_scores > max_threshold {
        max_threshold
    } else {
        sum_scores
    };
    MAX_NODE_SCORE * (sum - MIN_THRESHOLD) / (max_threshold - MIN_THRESHOLD)
}

impl PreScoreState {
    fn score(&self, node: &Node) -> i64 {
        let sum: i64 = self
            .images
            .iter()
            .filter_map(|(name, n)| image_size(node, name).map(|size| scaled_image_score(size, *n, self.total_nodes)))
            .sum();
        calculate_priority(sum, self.num_containers)
    }
}

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl ScorePlugin for ImageLocality {
    fn pre_score(&self, state: &mut CycleState, cluster: &ClusterState, pod: &Pod, _: &[NodeId]) -> Status {
        // Upstream has no PreScore: every node is scored, 0 when it has none of the images, so
        // that `explain` shows the plugin's 0 as kube-scheduler would.
        state.write(NAME, PreScoreState::new(cluster, pod));
        Status::success()
    }

    fn score(&self, state: &CycleState, cluster: &ClusterState, pod: &Pod, node: &NodeState) -> Result<i64, Status> {
        Ok(match state.read::<PreScoreState>(NAME) {
            Some(s) => s.score(&node.node),
            None => PreScoreState::new(cluster, pod).score(&node.node),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::node::NodeImage;
    use crate::scheduler::framework::Code;
    use crate::scheduler::testing::{make_node, make_pod};

    fn image(names: &[&str], mb: i64) -> NodeImage {
        NodeImage { names: names.iter().map(|s| s.to_string()).collect(), size_bytes: mb * MB }
    }

    /// Upstream's `nodeWithImages` fixtures.
    fn node_40_300_2000() -> Vec<NodeImage> {
        vec![
            image(&["gcr.io/40:latest", "gcr.io/40:v1", "gcr.io/40:v1"], 40),
            image(&["gcr.io/300:latest", "gcr.io/300:v1"], 300),
            image(&["gcr.io/2000:latest"], 2000),
        ]
    }
    fn node_250_10() -> Vec<NodeImage> {
        vec![image(&["gcr.io/250:latest"], 250), image(&["gcr.io/10:latest", "gcr.io/10:v1"], 10)]
    }

    fn cluster(nodes: Vec<Vec<NodeImage>>) -> ClusterState {
        let mut cs = ClusterState::new();
        for (i, images) in nodes.into_iter().enumerate() {
            let mut n = make_node(&format!("node{}", i + 1), 1000, 1000, 10).node;
            n.images = images;
            cs.add_node(n).unwrap();
        }
        cs
    }

    fn pod(images: &[&str], init_images: &[&str]) -> Pod {
        let mut p = make_pod("p", &[]);
        let c = p.containers[0].clone();
        p.containers =
            images.iter().map(|i| crate::model::pod::Container { image: i.to_string(), ..c.clone() }).collect();
        p.init_containers =
            init_images.iter().map(|i| crate::model::pod::Container { image: i.to_string(), ..c.clone() }).collect();
        p.finalize();
        p
    }

    /// PreScore then Score on every node (no NormalizeScore); `None` when PreScore skipped.
    fn scores(cs: &ClusterState, p: &Pod) -> Option<Vec<i64>> {
        let mut state = CycleState::new();
        let st = ImageLocality.pre_score(&mut state, cs, p, &[]);
        if st.code == Code::Skip {
            return None;
        }
        assert!(st.is_success());
        Some(cs.nodes().iter().map(|n| ImageLocality.score(&state, cs, p, n).unwrap()).collect())
    }

    #[test]
    fn scores_follow_upstreams_table() {
        // Upstream TestImageLocalityPriority; each image is on 1 of the N nodes.
        struct Case {
            name: &'static str,
            images: &'static [&'static str],
            init: &'static [&'static str],
            nodes: fn() -> Vec<Vec<NodeImage>>,
            want: Vec<i64>,
        }
        let cases = vec![
            // node1: 40M/2 = 20M < 23M → 0; node2: 100*(250M/2 - 23M)/(2000M - 23M) = 5.
            Case {
                name: "two images spread on two nodes, prefer the larger image one",
                images: &["gcr.io/40", "gcr.io/250"],
                init: &[],
                nodes: || vec![node_40_300_2000(), node_250_10()],
                want: vec![0, 5],
            },
            // node1: 100*((40M + 300M)/2 - 23M)/(2000M - 23M) = 7.
            Case {
                name: "two images on one node, prefer this node",
                images: &["gcr.io/40", "gcr.io/300"],
                init: &[],
                nodes: || vec![node_40_300_2000(), node_250_10()],
                want: vec![7, 0],
            },
            // node1: 100*(2000M/2 - 23M)/(2000M - 23M) = 49; node2: 10M/2 < 23M → 0.
            Case {
                name: "if exceed limit, use limit",
                images: &["gcr.io/2000", "gcr.io/10"],
                init: &[],
                nodes: || vec![node_40_300_2000(), node_250_10()],
                want: vec![49, 0],
            },
            // node1: 100*(int64(2000M/3) - 23M)/(2000M - 23M) = 32.
            Case {
                name: "if exceed limit, use limit (with node which has no images present)",
                images: &["gcr.io/2000", "gcr.io/10"],
                init: &[],
                nodes: || vec![node_40_300_2000(), node_250_10(), vec![]],
                want: vec![32, 0, 0],
            },
            // Two containers (one init): the same 7 as "two images on one node".
            Case {
                name: "init containers count as containers and their images score",
                images: &["gcr.io/300"],
                init: &["gcr.io/40"],
                nodes: || vec![node_40_300_2000(), node_250_10()],
                want: vec![7, 0],
            },
            // One container: 100*(150M - 23M)/(1000M - 23M) = 12.
            Case {
                name: "a single container has a 1000 MiB ceiling",
                images: &["gcr.io/300"],
                init: &[],
                nodes: || vec![node_40_300_2000(), node_250_10()],
                want: vec![12, 0],
            },
            // Tagged names match as written; v1 is listed on node1 only.
            Case {
                name: "a tagged image matches the node's tagged name",
                images: &["gcr.io/300:v1"],
                init: &[],
                nodes: || vec![node_40_300_2000(), node_250_10()],
                want: vec![12, 0],
            },
            // 300M on all 3 nodes: spread 1 → 300M; 100*(300M-23M)/(1000M-23M) = 28 everywhere.
            Case {
                name: "an image on every node scores by its full size everywhere",
                images: &["gcr.io/300"],
                init: &[],
                nodes: || vec![node_40_300_2000(), node_40_300_2000(), node_40_300_2000()],
                want: vec![28, 28, 28],
            },
            // 40M on 1 of 2 nodes → 20M, below the 23M threshold.
            Case {
                name: "a sum below the threshold gives 0",
                images: &["gcr.io/40"],
                init: &[],
                nodes: || vec![node_40_300_2000(), node_250_10()],
                want: vec![0, 0],
            },
        ];
        for c in cases {
            let cs = cluster((c.nodes)());
            assert_eq!(scores(&cs, &pod(c.images, c.init)), Some(c.want), "{}", c.name);
        }
    }

    #[test]
    fn untagged_images_are_normalised_to_latest() {
        let cs = cluster(vec![node_40_300_2000(), node_250_10()]);
        assert_eq!(scores(&cs, &pod(&["gcr.io/300"], &[])), scores(&cs, &pod(&["gcr.io/300:latest"], &[])));
        // A node reporting an untagged name is matched as `:latest` too.
        let cs = cluster(vec![vec![image(&["gcr.io/300"], 300)], vec![]]);
        assert_eq!(scores(&cs, &pod(&["gcr.io/300:latest"], &[])), Some(vec![12, 0]));
    }

    #[test]
    fn nodes_without_any_of_the_images_score_zero() {
        let cs = cluster(vec![node_40_300_2000(), node_250_10()]);
        assert_eq!(scores(&cs, &pod(&["nginx:1.27"], &[])), Some(vec![0, 0]));
        assert_eq!(scores(&cs, &pod(&[""], &[])), Some(vec![0, 0]));
    }

    #[test]
    fn calculate_priority_clamps_and_truncates() {
        assert_eq!(calculate_priority(0, 1), 0);
        assert_eq!(calculate_priority(MIN_THRESHOLD, 1), 0);
        assert_eq!(calculate_priority(MAX_CONTAINER_THRESHOLD, 1), 100);
        assert_eq!(calculate_priority(5 * MAX_CONTAINER_THRESHOLD, 2), 100);
        // A pod without containers: max threshold 0, the sum is raised to 23 MiB → 0.
        assert_eq!(calculate_priority(0, 0), 0);
        assert_eq!(scaled_image_score(2000 * MB, 1, 3), 699_050_666);
    }
}
