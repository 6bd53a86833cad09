//! Event-queue throughput under the classic "hold" model.
//!
//! The queue is prefilled with `N` pending events at times drawn from a seeded
//! [`ChaCha8Rng`]; each iteration then pops the earliest event and schedules one new event at
//! `popped_time + delay`, with `delay` uniform in `[1, 2N]` µs (pre-generated, so RNG cost is
//! outside the measurement). The number of pending events therefore stays at `N`. One element of
//! throughput is one pop + push, so criterion reports events per second.
//!
//! Two implementations are compared for each `N` in {1k, 10k, 100k, 1M}:
//! `kubesim_queue` ([`EventQueue`], a radix heap) and `binary_heap_baseline`
//! (`std::collections::BinaryHeap<Reverse<(u64 time, u64 seq, u32 payload)>>`).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kubesim::engine::queue::EventQueue;
use kubesim::engine::time::{SimDuration, SimTime};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::Duration;

/// Pending-event counts to measure.
const SIZES: [u64; 4] = [1_000, 10_000, 100_000, 1_000_000];

/// Number of pre-generated delays (a power of two, cycled through by the hold loop).
const DELAYS: usize = 1 << 16;

/// Seed shared by every benchmark so both implementations see the same workload.
const SEED: u64 = 0x6b75_6265_7369_6d00;

/// Initial event times for `n` pending events and the cyclic delay table, both uniform in
/// `[1, 2n]` µs.
fn workload(n: u64) -> (Vec<u64>, Vec<u64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ n);
    let initial = (0..n).map(|_| rng.random_range(1..=2 * n)).collect();
    let delays = (0..DELAYS).map(|_| rng.random_range(1..=2 * n)).collect();
    (initial, delays)
}

/// The hold model for `N` pending events, once per implementation.
fn hold(c: &mut Criterion) {
    let mut group = c.benchmark_group("hold");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));

    for n in SIZES {
        let (initial, delays) = workload(n);

        group.bench_function(BenchmarkId::new("kubesim_queue", n), |b| {
            let mut queue: EventQueue<u32> = EventQueue::with_capacity(64);
            for (i, &t) in initial.iter().enumerate() {
                // Times are >= 1 and the queue is at zero, so this never fails.
                let _ = queue.push(SimTime(t), i as u32);
            }
            let mut i = 0usize;
            b.iter(|| {
                if let Some(ev) = queue.pop() {
                    let delay = delays[i & (DELAYS - 1)];
                    i = i.wrapping_add(1);
                    // `now()` is the popped time, so this is `ev.time + delay`.
                    queue.push_after(SimDuration(delay), black_box(ev.event));
                }
            });
            black_box(queue.len());
        });

        group.bench_function(BenchmarkId::new("binary_heap_baseline", n), |b| {
            let mut heap: BinaryHeap<Reverse<(u64, u64, u32)>> = BinaryHeap::with_capacity(initial.len() + 1);
            let mut seq = 0u64;
            for (i, &t) in initial.iter().enumerate() {
                heap.push(Reverse((t, seq, i as u32)));
                seq += 1;
            }
            let mut i = 0usize;
            b.iter(|| {
                if let Some(Reverse((time, _, payload))) = heap.pop() {
                    let delay = delays[i & (DELAYS - 1)];
                    i = i.wrapping_add(1);
                    heap.push(Reverse((time + delay, seq, black_box(payload))));
                    seq += 1;
                }
            });
            black_box(heap.len());
        });
    }
    group.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);
