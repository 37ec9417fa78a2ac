//! Placement decision latency at 1,000 / 10,000 / 100,000 hosts for binpack(memory) and
//! spread(AZ)+binpack(memory), on a cluster about half full (hosts filled to random levels), so
//! that free-memory buckets are many and varied. The `awsvpc` case adds the ENI-slot filter
//! (trunking: 20 task ENIs per m5.xlarge). Figures are recorded in results/bench/README.md.
//!
//! `default_placement` is ECS's default for services (spread(AZ), then spread(instanceId)), and
//! `default_placement_distinct` the same under `distinctInstance`: both within 2× of binpack.
//! `failing_*` are decisions that cannot succeed (a task larger than any free memory; a
//! `memberOf` no host matches): each must cost within 10× of a successful binpack decision.

use std::hint::black_box;

use clustersim::engine::RngStreams;
use clustersim::model::cluster::HostGroup;
use clustersim::model::{AzId, Cluster, Host, HostId, HostPorts, Resources};
use clustersim::placement::query::Expression;
use clustersim::placement::{
    AZ_ATTRIBUTE, ClusterView, Constraint, GroupCounts, PlacementRequest, PlacementSpec, Placer, Resource, SpreadField, StrategySpec,
};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::RngExt;

/// `hosts` m5.xlarge hosts over 3 AZs, each holding 0–6 tasks of 512 CPU units / 2,048 MiB.
fn half_full_cluster(hosts: u32) -> (Cluster, Placer, GroupCounts) {
    let registered = Resources { cpu_units: 4096, memory_mib: 15_974 };
    let mut cluster = Cluster {
        azs: vec!["us-east-1a".into(), "us-east-1b".into(), "us-east-1c".into()],
        instance_types: clustersim::model::instance_types::built_in(),
        host_groups: vec![HostGroup { name: "main".into(), attributes: vec![] }],
        hosts: (0..hosts)
            .map(|i| Host {
                id: HostId(i),
                az: AzId(i % 3),
                instance_type: 0,
                group: 0,
                registered,
                reserved: Resources::default(),
                ports: HostPorts::with_agent_defaults(),
                task_count: 0,
                instance_id: format!("i-{i:08}"),
                subnet: None,
                eni_task_limit: 20, // m5.xlarge with awsvpcTrunking
                eni_tasks: 0,
                active: true,
            })
            .collect(),
    };
    let mut placer = Placer::new(&cluster);
    let mut groups = GroupCounts::new(3);
    let g = groups.intern("family:bench");
    let mut rng = RngStreams::new(9).stream("fill", 0);
    for i in 0..hosts {
        for _ in 0..rng.random_range(0..7u32) {
            // Filled with awsvpc tasks, so that the awsvpc case sees ENI slots in use.
            cluster.reserve(HostId(i), Resources { cpu_units: 512, memory_mib: 2048 }, &[], true);
            groups.add(g, HostId(i), AzId(i % 3));
        }
        placer.host_changed(&cluster, HostId(i));
    }
    (cluster, placer, groups)
}

fn bench(c: &mut Criterion) {
    let strategies = [
        ("binpack_memory", vec![StrategySpec::Binpack(Resource::Memory)]),
        (
            "spread_az_binpack_memory",
            vec![StrategySpec::Spread(SpreadField::Attribute(AZ_ATTRIBUTE.into())), StrategySpec::Binpack(Resource::Memory)],
        ),
    ];
    let mut group = c.benchmark_group("placement_decision");
    for hosts in [1_000u32, 10_000, 100_000] {
        let (cluster, mut placer, mut groups) = half_full_cluster(hosts);
        let g = groups.intern("family:bench");
        let cases =
            strategies.iter().map(|(n, c)| (*n, c, false)).chain(std::iter::once(("binpack_memory_awsvpc", &strategies[0].1, true)));
        for (name, chain, eni) in cases {
            let spec = PlacementSpec { strategies: chain.clone(), constraints: vec![] };
            let req = PlacementRequest {
                need: Resources { cpu_units: 512, memory_mib: 2048 },
                ports: &[],
                eni,
                az_mask: u32::MAX,
                host_groups: u64::MAX,
                group: g,
                spec: &spec,
            };
            let view = ClusterView { cluster: &cluster, groups: &groups };
            let mut rng = RngStreams::new(1).stream("placement", 0);
            group.bench_with_input(BenchmarkId::new(name, hosts), &hosts, |b, _| {
                b.iter(|| black_box(placer.decide(&req, &view, &mut rng).expect("a half-full cluster has room")))
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("placement_spread_and_failure");
    for hosts in [1_000u32, 10_000, 100_000] {
        let (cluster, mut placer, mut groups) = half_full_cluster(hosts);
        let g = groups.intern("family:bench");
        let member_of = Expression::parse("attribute:ecs.instance-type == t9.huge").expect("valid expression");
        let cases = [
            ("default_placement", PlacementSpec::service_default(), 2048, true),
            (
                "default_placement_distinct",
                PlacementSpec { constraints: vec![Constraint::DistinctInstance], ..PlacementSpec::service_default() },
                2048,
                true,
            ),
            (
                "failing_memory",
                PlacementSpec { strategies: vec![StrategySpec::Binpack(Resource::Memory)], constraints: vec![] },
                16_384,
                false,
            ),
            (
                "failing_member_of",
                PlacementSpec {
                    strategies: vec![StrategySpec::Binpack(Resource::Memory)],
                    constraints: vec![Constraint::MemberOf(member_of)],
                },
                2048,
                false,
            ),
        ];
        for (name, spec, memory_mib, succeeds) in &cases {
            let req = PlacementRequest {
                need: Resources { cpu_units: 512, memory_mib: *memory_mib },
                ports: &[],
                eni: false,
                az_mask: u32::MAX,
                host_groups: u64::MAX,
                group: g,
                spec,
            };
            let view = ClusterView { cluster: &cluster, groups: &groups };
            let mut rng = RngStreams::new(1).stream("placement", 0);
            assert_eq!(placer.decide(&req, &view, &mut rng).is_ok(), *succeeds, "{name}");
            group.bench_with_input(BenchmarkId::new(*name, hosts), &hosts, |b, _| {
                b.iter(|| black_box(placer.decide(&req, &view, &mut rng)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
