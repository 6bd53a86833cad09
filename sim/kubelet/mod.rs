//! The kubelet model: a bound pod starts after its start-up latency, runs for its run duration,
//! and succeeds; pods without a run duration run until deleted or killed. The draws come from the
//! `kubelet` RNG stream, in event order.
//!
//! A running pod becomes Ready after its readiness delay (pod annotation
//! `kubesim.io/readiness-delay`, else `kubelet.readinessDelay`, else at once); it is available to
//! its controller once Ready for the workload's `minReadySeconds`.
//!
//! **Simplification (documented):** no container restarts or readiness probes yet; a failed node's pods are killed at once (the node lifecycle controller's
//! grace periods and taint-based eviction come with the controllers).

use crate::engine::rng::SimRng;
use crate::engine::time::SimDuration;
use crate::model::dist::DurationDist;
use crate::model::pod::Pod;

/// The kubelet model of a run (one for all nodes).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Kubelet {
    rng: SimRng,
    default_startup_latency: DurationDist,
    default_readiness_delay: Option<DurationDist>,
}

impl Kubelet {
    /// A kubelet drawing from `rng`, with the scenario's default start-up latency.
    pub fn new(rng: SimRng, default_startup_latency: DurationDist) -> Self {
        Kubelet { rng, default_startup_latency, default_readiness_delay: None }
    }

    /// Sets the default readiness delay (Running to Ready) for pods that set none.
    pub fn with_readiness_delay(mut self, delay: Option<DurationDist>) -> Self {
        self.default_readiness_delay = delay;
        self
    }

    /// Time from Running to Ready for `pod` (zero when neither the pod nor the scenario sets one;
    /// no random draw then, so scenarios without readiness delays keep their random streams).
    pub fn readiness_delay(&mut self, pod: &Pod) -> SimDuration {
        match pod.run.readiness_delay.as_ref().or(self.default_readiness_delay.as_ref()) {
            Some(d) => d.sample(&mut self.rng),
            None => SimDuration::ZERO,
        }
    }

    /// Time from binding to Running for `pod`.
    pub fn startup_latency(&mut self, pod: &Pod) -> SimDuration {
        match &pod.run.startup_latency {
            Some(d) => d.sample(&mut self.rng),
            None => self.default_startup_latency.sample(&mut self.rng),
        }
    }

    /// Time from Running to completion, or `None` for a pod that runs until stopped.
    pub fn run_duration(&mut self, pod: &Pod) -> Option<SimDuration> {
        pod.run.run_duration.as_ref().map(|d| d.sample(&mut self.rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;
    use crate::input::go_duration::GoDuration;
    use crate::scheduler::testing::make_pod;

    #[test]
    fn a_pod_without_its_own_latency_gets_the_default() {
        let mut k = Kubelet::new(stream(1, "kubelet"), DurationDist::Constant(GoDuration(2_000_000)));
        let pod = make_pod("p", &[]);
        assert_eq!(k.startup_latency(&pod), SimDuration::from_secs(2));
        assert_eq!(k.run_duration(&pod), None, "services run until stopped");
    }

    #[test]
    fn readiness_delay_comes_from_the_pod_then_the_default_then_zero() {
        let mut k = Kubelet::new(stream(1, "kubelet"), DurationDist::Constant(GoDuration(0)));
        let mut pod = make_pod("p", &[]);
        assert_eq!(k.readiness_delay(&pod), SimDuration::ZERO);
        let mut k = k.with_readiness_delay(Some(DurationDist::Constant(GoDuration(3_000_000))));
        assert_eq!(k.readiness_delay(&pod), SimDuration::from_secs(3));
        pod.run.readiness_delay = Some(DurationDist::Constant(GoDuration(7_000_000)));
        assert_eq!(k.readiness_delay(&pod), SimDuration::from_secs(7));
    }

    #[test]
    fn a_pod_with_a_run_duration_finishes() {
        let mut k = Kubelet::new(stream(1, "kubelet"), DurationDist::Constant(GoDuration(0)));
        let mut pod = make_pod("p", &[]);
        pod.run.run_duration = Some(DurationDist::Constant(GoDuration(5_000_000)));
        assert_eq!(k.run_duration(&pod), Some(SimDuration::from_secs(5)));
    }
}
