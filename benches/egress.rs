//! Cost of starting and ending one pull flow in `FlowNetwork`: it should grow with the flows
//! sharing links with it (the connected component it touches), not with all flows of the run.
//! `touched/K/others/M`: K flows through the same NAT gateway as the new flow, M flows through
//! other NAT gateways. Figures are recorded in docs/model.md#egress-image-pulls-logs-nat-and-cost.

use std::hint::black_box;

use clustersim::engine::SimTime;
use clustersim::model::egress::{BYTES_PER_GBIT, FlowNetwork, Path};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// `touched` flows on NAT 0 (one host link each), `others` flows spread over 99 other NATs.
fn network(touched: usize, others: usize) -> (FlowNetwork, Path) {
    let mut net = FlowNetwork::new();
    let nats: Vec<_> = (0..100).map(|_| net.add_link(5.0 * BYTES_PER_GBIT)).collect();
    let mut changed = Vec::new();
    for i in 0..touched + others {
        let host = net.add_link(0.75 * BYTES_PER_GBIT);
        let nat = if i < touched { nats[0] } else { nats[1 + i % 99] };
        net.start_flow(SimTime::ZERO, Path::new(&[host, nat]), 500_000_000 + i as u64, 0, &mut changed);
        changed.clear();
    }
    let host = net.add_link(0.75 * BYTES_PER_GBIT);
    (net, Path::new(&[host, nats[0]]))
}

fn start_and_end(c: &mut Criterion) {
    let mut group = c.benchmark_group("flow_start_end");
    group.sample_size(20).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    for (touched, others) in [(10, 0), (10, 100_000), (100, 0), (100, 100_000), (1000, 0), (1000, 100_000)] {
        let (mut net, path) = network(touched, others);
        let mut changed = Vec::with_capacity(touched + 1);
        let mut now = 1u64;
        group.bench_function(BenchmarkId::new(format!("touched/{touched}"), format!("others/{others}")), |b| {
            b.iter(|| {
                now += 1;
                let f = net.start_flow(SimTime(now), path, 1_000_000, 0, &mut changed);
                net.end_flow(SimTime(now), f, &mut changed);
                black_box(changed.len());
                changed.clear();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, start_and_end);
criterion_main!(benches);
