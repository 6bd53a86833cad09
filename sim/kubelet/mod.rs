//! The kubelet model: a bound pod starts after its start-up latency, runs for its run duration,
//! and succeeds; pods without a run duration run until deleted or killed. A container run may
//! crash (per-pod failure probability); the pod's `restartPolicy` then decides: `Never` fails the
//! pod, `Always` / `OnFailure` restart the container after the CrashLoopBackOff delay (10 s,
//! doubling per consecutive crash, capped at 5 min, reset once the container ran 10 min without
//! crashing). The draws come from the `kubelet` RNG stream, in event order (a pod that cannot
//! fail draws nothing extra, so runs without failures are unchanged).
//!
//! **Simplifications (documented):** one crash model per pod (not per container); a crashing run
//! crashes at a uniformly drawn point of its run duration (services: of the first 10 minutes); a
//! container restarted after a crash starts at once after its back-off (the image is present);
//! a run that completes ends the pod whatever its `restartPolicy` (as for batch pods); no
//! readiness probes.
//!
//! A running pod becomes Ready after its readiness delay (pod annotation
//! `kubesim.io/readiness-delay`, else `kubelet.readinessDelay`, else at once); it is available to
//! its controller once Ready for the workload's `minReadySeconds`.

use crate::cluster::PodId;
use crate::engine::rng::SimRng;
use crate::engine::time::{SimDuration, SimTime};
use crate::model::dist::{DurationDist, below, unit_f64};
use crate::model::pod::Pod;
use std::collections::BTreeMap;

/// First CrashLoopBackOff delay (kubelet `initialBackOff`).
pub const CRASH_BACKOFF_INITIAL: SimDuration = SimDuration::from_secs(10);
/// CrashLoopBackOff cap (kubelet `MaxContainerBackOff`).
pub const CRASH_BACKOFF_MAX: SimDuration = SimDuration::from_secs(300);
/// A container that ran this long without crashing has its back-off reset.
pub const CRASH_BACKOFF_RESET: SimDuration = SimDuration::from_secs(600);
/// Window in which a crashing service crashes (uniformly), when it has no run duration.
pub const SERVICE_CRASH_WINDOW: SimDuration = SimDuration::from_secs(600);

/// The CrashLoopBackOff delay before the restart that follows the `consecutive`-th crash in a row
/// (1 → 10 s, 2 → 20 s, ... capped at 300 s).
pub fn crash_backoff(consecutive: u32) -> SimDuration {
    let n = consecutive.max(1) - 1;
    if n >= 5 {
        return CRASH_BACKOFF_MAX;
    }
    SimDuration(CRASH_BACKOFF_INITIAL.0 << n).min(CRASH_BACKOFF_MAX)
}

/// What the kubelet will do with a container run it has just started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// Runs until stopped.
    Forever,
    /// Completes successfully after this long.
    Completes(SimDuration),
    /// Crashes after this long.
    Crashes(SimDuration),
}

/// Per-pod restart bookkeeping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CrashState {
    /// Crashes since the back-off was last reset.
    pub consecutive: u32,
    /// When the current container run started.
    pub last_start: SimTime,
}

/// The kubelet model of a run (one for all nodes).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Kubelet {
    rng: SimRng,
    default_startup_latency: DurationDist,
    default_failure_probability: f64,
    crash: BTreeMap<PodId, CrashState>,
    default_readiness_delay: Option<DurationDist>,
}

impl Kubelet {
    /// A kubelet drawing from `rng`, with the scenario's default start-up latency.
    pub fn new(rng: SimRng, default_startup_latency: DurationDist) -> Self {
        Kubelet {
            rng,
            default_startup_latency,
            default_failure_probability: 0.0,
            crash: BTreeMap::new(),
            default_readiness_delay: None,
        }
    }

    /// Sets the failure probability of pods that set none (scenario `kubelet.failureProbability`).
    pub fn with_failure_probability(mut self, p: f64) -> Self {
        self.default_failure_probability = p;
        self
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

    /// Starts a container run of pod `id` at `now`: draws its run duration and whether it crashes.
    pub fn start_run(&mut self, id: PodId, pod: &Pod, now: SimTime) -> RunOutcome {
        self.crash.entry(id).or_default().last_start = now;
        let run = self.run_duration(pod);
        let p = pod.run.failure_probability.unwrap_or(self.default_failure_probability);
        if p > 0.0 && unit_f64(&mut self.rng) < p {
            let window = run.unwrap_or(SERVICE_CRASH_WINDOW).0.max(1);
            return RunOutcome::Crashes(SimDuration(below(&mut self.rng, window)));
        }
        match run {
            Some(d) => RunOutcome::Completes(d),
            None => RunOutcome::Forever,
        }
    }

    /// Records a crash of pod `id` at `now` and returns the CrashLoopBackOff delay before the
    /// restart (the back-off is reset first if the container had run 10 minutes).
    pub fn on_crash(&mut self, id: PodId, now: SimTime) -> SimDuration {
        let st = self.crash.entry(id).or_default();
        if now.saturating_since(st.last_start) >= CRASH_BACKOFF_RESET {
            st.consecutive = 0;
        }
        st.consecutive += 1;
        crash_backoff(st.consecutive)
    }

    /// Forgets a pod that is gone.
    pub fn forget(&mut self, id: PodId) {
        self.crash.remove(&id);
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
        assert_eq!(k.start_run(PodId(0), &pod, SimTime::ZERO), RunOutcome::Completes(SimDuration::from_secs(5)));
    }

    #[test]
    fn crash_loop_backoff_doubles_from_10s_and_caps_at_5_minutes() {
        let got: Vec<u64> = (1..=7).map(|n| crash_backoff(n).as_micros() / 1_000_000).collect();
        assert_eq!(got, vec![10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(crash_backoff(40), CRASH_BACKOFF_MAX);
    }

    #[test]
    fn consecutive_crashes_back_off_and_ten_minutes_of_running_resets_the_backoff() {
        let mut k = Kubelet::new(stream(1, "kubelet"), DurationDist::Constant(GoDuration(0)));
        let pod = make_pod("p", &[]);
        let id = PodId(3);
        let mut t = SimTime::ZERO;
        let mut seen = vec![];
        for _ in 0..7 {
            k.start_run(id, &pod, t);
            t += SimDuration::from_secs(1);
            let d = k.on_crash(id, t);
            seen.push(d.as_micros() / 1_000_000);
            t += d;
        }
        assert_eq!(seen, vec![10, 20, 40, 80, 160, 300, 300]);
        k.start_run(id, &pod, t);
        let later = t + CRASH_BACKOFF_RESET;
        assert_eq!(k.on_crash(id, later), CRASH_BACKOFF_INITIAL, "ten minutes of running resets the back-off");
    }

    #[test]
    fn a_pod_that_always_fails_crashes_within_its_run_duration() {
        let mut k = Kubelet::new(stream(1, "kubelet"), DurationDist::Constant(GoDuration(0)));
        let mut pod = make_pod("p", &[]);
        pod.run.run_duration = Some(DurationDist::Constant(GoDuration(5_000_000)));
        pod.run.failure_probability = Some(1.0);
        for i in 0..20 {
            match k.start_run(PodId(i), &pod, SimTime::ZERO) {
                RunOutcome::Crashes(d) => assert!(d < SimDuration::from_secs(5)),
                other => panic!("expected a crash, got {other:?}"),
            }
        }
    }
}
