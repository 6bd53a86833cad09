//! TaintToleration: filters out nodes with a NoSchedule / NoExecute taint the pod does not
//! tolerate, and scores nodes by the number of PreferNoSchedule taints the pod does not
//! tolerate, normalised in reverse (upstream `tainttoleration`).

use crate::cluster::{ClusterState, NodeState};
use crate::model::pod::Pod;
use crate::model::taint::{TaintEffect, Toleration, count_intolerable_prefer_no_schedule, find_untolerated_taint};
use crate::scheduler::framework::{
    CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, ScorePlugin, Status, default_normalize_score,
};

/// The plugin name.
pub const NAME: &str = "TaintToleration";

/// The TaintToleration plugin.
#[derive(Clone, Debug, Default)]
pub struct TaintToleration;

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl FilterPlugin for TaintToleration {
    fn filter(&self, _: &CycleState, _: &ClusterState, pod: &Pod, node: &NodeState) -> Status {
        let hard =
            |t: &crate::model::taint::Taint| matches!(t.effect, TaintEffect::NoSchedule | TaintEffect::NoExecute);
        match find_untolerated_taint(&node.node.taints, &pod.tolerations, hard) {
            None => Status::success(),
            Some(t) => Status::unresolvable(format!("node(s) had untolerated taint {{{}: {}}}", t.key, t.value)),
        }
    }
}

impl ScorePlugin for TaintToleration {
    fn pre_score(&self, state: &mut CycleState, _: &ClusterState, pod: &Pod, _: &[crate::cluster::NodeId]) -> Status {
        let prefer: Vec<Toleration> = pod
            .tolerations
            .iter()
            .filter(|t| t.effect.is_none() || t.effect == Some(TaintEffect::PreferNoSchedule))
            .cloned()
            .collect();
        state.write(NAME, prefer);
        Status::success()
    }

    fn score(&self, state: &CycleState, _: &ClusterState, pod: &Pod, node: &NodeState) -> Result<i64, Status> {
        let tols = state.read::<Vec<Toleration>>(NAME).map(Vec::as_slice).unwrap_or(&pod.tolerations);
        Ok(count_intolerable_prefer_no_schedule(&node.node.taints, tols))
    }

    fn normalize_scores(&self, _: &CycleState, _: &Pod, scores: &mut [i64]) -> Status {
        default_normalize_score(MAX_NODE_SCORE, true, scores);
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::taint::Taint;
    use crate::scheduler::testing::{make_node, make_pod};

    fn taint(key: &str, effect: TaintEffect) -> Taint {
        Taint { key: key.into(), value: "v".into(), effect, time_added: None }
    }

    #[test]
    fn an_untolerated_no_schedule_taint_rejects_the_node_naming_the_taint() {
        let mut node = make_node("n", 1, 1, 1);
        node.node.taints.push(taint("dedicated", TaintEffect::NoSchedule));
        let st = TaintToleration.filter(&CycleState::new(), &ClusterState::new(), &make_pod("p", &[]), &node);
        assert_eq!(st.reasons, vec!["node(s) had untolerated taint {dedicated: v}".to_string()]);
    }

    #[test]
    fn a_prefer_no_schedule_taint_does_not_filter_but_lowers_the_score() {
        let mut tainted = make_node("a", 1, 1, 1);
        tainted.node.taints.push(taint("x", TaintEffect::PreferNoSchedule));
        tainted.node.taints.push(taint("y", TaintEffect::PreferNoSchedule));
        let clean = make_node("b", 1, 1, 1);
        let pod = make_pod("p", &[]);
        let cs = ClusterState::new();
        assert!(TaintToleration.filter(&CycleState::new(), &cs, &pod, &tainted).is_success());
        let mut state = CycleState::new();
        TaintToleration.pre_score(&mut state, &cs, &pod, &[]);
        let mut scores = vec![
            TaintToleration.score(&state, &cs, &pod, &tainted).unwrap(),
            TaintToleration.score(&state, &cs, &pod, &clean).unwrap(),
        ];
        assert_eq!(scores, vec![2, 0]);
        TaintToleration.normalize_scores(&state, &pod, &mut scores);
        assert_eq!(scores, vec![0, 100]);
    }
}
