//! The discrete-event engine: integer time, the `(time, seq)`-ordered event queue and the named
//! random streams. **Architecture invariant:** the engine knows nothing of Kubernetes.

pub mod queue;
pub mod rng;
pub mod time;
