//! Bare event-loop throughput: the "hold" model (N pending events; pop the earliest, schedule a
//! successor an exponential time later), through `EventQueue` (radix heap) and, as the
//! reference, `std::collections::BinaryHeap` on the identical event sequence. Figures are
//! recorded in results/bench/README.md.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

use clustersim::engine::{EventQueue, RngStreams, SimTime};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand_distr::{Distribution, Exp};

const OPS: u64 = 1_000_000;

/// Exponential increments with mean 1 s, precomputed so the RNG does not dominate.
fn increments() -> Vec<u64> {
    let mut rng = RngStreams::new(1).stream("bench", 0);
    let exp = Exp::<f64>::new(1.0).expect("rate > 0");
    (0..4096).map(|_| (exp.sample(&mut rng) * 1e6) as u64 + 1).collect()
}

fn filled_event_queue(pending: usize, inc: &[u64]) -> EventQueue<u32> {
    let mut q: EventQueue<u32> = EventQueue::new();
    for i in 0..pending {
        q.schedule(SimTime(inc[i % inc.len()] * (1 + i as u64 % 7)), i as u32);
    }
    q
}

fn hold_event_queue(mut q: EventQueue<u32>, inc: &[u64]) -> u64 {
    let mut checksum = 0u64;
    for k in 0..OPS {
        let (t, e) = q.pop().expect("pending");
        checksum = checksum.wrapping_add(t.0 ^ u64::from(e));
        q.schedule(SimTime(t.0 + inc[(k as usize) & 4095]), e);
    }
    checksum
}

type Heap = BinaryHeap<Reverse<(u64, u64, u32)>>;

fn filled_binary_heap(pending: usize, inc: &[u64]) -> (Heap, u64) {
    let mut q = BinaryHeap::with_capacity(pending + 1);
    for i in 0..pending {
        q.push(Reverse((inc[i % inc.len()] * (1 + i as u64 % 7), i as u64, i as u32)));
    }
    (q, pending as u64)
}

fn hold_binary_heap((mut q, mut seq): (Heap, u64), inc: &[u64]) -> u64 {
    let mut checksum = 0u64;
    for k in 0..OPS {
        let Reverse((t, _, e)) = q.pop().expect("pending");
        checksum = checksum.wrapping_add(t ^ u64::from(e));
        q.push(Reverse((t + inc[(k as usize) & 4095], seq, e)));
        seq += 1;
    }
    checksum
}

fn bench(c: &mut Criterion) {
    let inc = increments();
    // Both queues pop the same sequence (same order rule): check before timing.
    assert_eq!(hold_event_queue(filled_event_queue(1000, &inc), &inc), hold_binary_heap(filled_binary_heap(1000, &inc), &inc));
    let mut group = c.benchmark_group("event_loop_hold");
    group.throughput(Throughput::Elements(OPS));
    group.sample_size(20);
    for pending in [1_000usize, 100_000, 1_000_000] {
        // Only the hold loop is timed; filling the queue is setup.
        group.bench_with_input(BenchmarkId::new("radix_event_queue", pending), &pending, |b, &n| {
            b.iter_batched(|| filled_event_queue(n, &inc), |q| black_box(hold_event_queue(q, &inc)), BatchSize::LargeInput)
        });
        group.bench_with_input(BenchmarkId::new("std_binary_heap", pending), &pending, |b, &n| {
            b.iter_batched(|| filled_binary_heap(n, &inc), |q| black_box(hold_binary_heap(q, &inc)), BatchSize::LargeInput)
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
