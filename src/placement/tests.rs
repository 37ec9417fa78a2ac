//! The indexed decision against the scanning one it replaced: over random clusters and
//! histories, the spread index and the indexed failure reason must choose the same host (or name
//! the same reason) and draw the same random numbers, decision by decision. Together with the
//! oracle tests against `Placer::explain` (tests/placement_rules.rs) this is what keeps outputs
//! byte-identical.

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use rand_chacha::ChaCha8Rng;

use super::query::Expression;
use super::{
    AZ_ATTRIBUTE, ClusterView, Constraint, GroupCounts, PlacementFailure, PlacementRequest, PlacementSpec, Placer, Resource, SpreadField,
    StrategySpec,
};
use crate::engine::RngStreams;
use crate::model::cluster::HostGroup;
use crate::model::taskdef::Protocol;
use crate::model::{AzId, Cluster, Host, HostId, HostPorts, Resources, instance_types};

const TYPES: [&str; 3] = ["m5.large", "m5.xlarge", "c5.large"];
const NEEDS: [(u32, u32); 5] = [(256, 512), (512, 1024), (1024, 2048), (2048, 3072), (128, 6144)];
const TCP_8080: [(Protocol, u16); 1] = [(Protocol::Tcp, 8080)];

/// Hosts as (AZ, instance type, host group); host group 1 carries `pool = batch`.
fn cluster(azs: usize, hosts: &[(u32, usize, u32)]) -> Cluster {
    let types = instance_types::built_in();
    let hosts = hosts
        .iter()
        .enumerate()
        .map(|(i, &(az, t, group))| {
            let t = types.iter().position(|it| it.name == TYPES[t]).expect("built-in instance type");
            Host {
                id: HostId(i as u32),
                az: AzId(az % azs as u32),
                instance_type: t as u32,
                group,
                registered: Resources { cpu_units: types[t].cpu_units(), memory_mib: types[t].memory_mib },
                reserved: Resources::default(),
                ports: HostPorts::with_agent_defaults(),
                task_count: 0,
                instance_id: format!("i-{i:08}"),
                subnet: None,
                eni_task_limit: types[t].max_enis - 1,
                eni_tasks: 0,
                active: true,
            }
        })
        .collect();
    Cluster {
        azs: ["us-east-1a", "us-east-1b", "us-east-1c"][..azs].iter().map(|s| s.to_string()).collect(),
        instance_types: types,
        host_groups: vec![
            HostGroup { name: "main".into(), attributes: Vec::new() },
            HostGroup { name: "batch".into(), attributes: vec![("pool".into(), "batch".into())] },
        ],
        hosts,
    }
}

fn az_spread() -> StrategySpec {
    StrategySpec::Spread(SpreadField::Attribute(AZ_ATTRIBUTE.into()))
}

/// Chains that start (after AZ spreads) with spread(instanceId), and a few that do not.
fn chain(code: u8) -> Vec<StrategySpec> {
    match code % 6 {
        0 => vec![az_spread(), StrategySpec::Spread(SpreadField::InstanceId)],
        1 => vec![StrategySpec::Spread(SpreadField::InstanceId)],
        2 => vec![az_spread(), StrategySpec::Spread(SpreadField::InstanceId), StrategySpec::Binpack(Resource::Memory)],
        3 => vec![StrategySpec::Spread(SpreadField::InstanceId), StrategySpec::Random],
        4 => vec![StrategySpec::Binpack(Resource::Memory)],
        _ => vec![az_spread(), StrategySpec::Binpack(Resource::Cpu)],
    }
}

fn constraints(code: u8) -> Vec<Constraint> {
    let member_of = |text: &str| Constraint::MemberOf(Expression::parse(text).expect("valid expression"));
    match code % 6 {
        0 | 1 => Vec::new(),
        2 => vec![Constraint::DistinctInstance],
        3 => vec![member_of("attribute:ecs.instance-type =~ m5.*")],
        // Matches no host unless the cluster has a host of group 1.
        4 => vec![member_of("attribute:pool == batch")],
        _ => vec![member_of("attribute:ecs.instance-type == t9.huge"), Constraint::DistinctInstance],
    }
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Place {
        need: usize,
        group: usize,
        port: bool,
        eni: bool,
        az_mask: u32,
    },
    Release {
        pick: usize,
    },
    /// The host's instance fails: it leaves placement, then its tasks are released.
    Fail {
        pick: usize,
    },
    /// A failed host's replacement joins.
    Join {
        pick: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let az_mask = prop_oneof![3 => Just(u32::MAX), 1 => 1..8u32];
    prop_oneof![
        4 => (0..NEEDS.len(), 0..2usize, proptest::bool::weighted(0.15), proptest::bool::weighted(0.3), az_mask)
            .prop_map(|(need, group, port, eni, az_mask)| Op::Place { need, group, port, eni, az_mask }),
        1 => any::<usize>().prop_map(|pick| Op::Release { pick }),
        1 => any::<usize>().prop_map(|pick| Op::Fail { pick }),
        1 => any::<usize>().prop_map(|pick| Op::Join { pick }),
    ]
}

struct Placed {
    host: HostId,
    need: Resources,
    port: bool,
    eni: bool,
    group: usize,
}

fn ports(port: bool) -> &'static [(Protocol, u16)] {
    if port { &TCP_8080 } else { &[] }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn indexed_decisions_choose_the_same_host_and_draw_the_same_numbers_as_the_scan(
        azs in 1..=3usize,
        hosts in proptest::collection::vec((0..3u32, 0..3usize, prop_oneof![4 => Just(0u32), 1 => Just(1u32)]), 1..=40),
        chain_code in any::<u8>(),
        constraint_code in any::<u8>(),
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 80),
    ) {
        let mut cluster = cluster(azs, &hosts);
        let mut indexed = Placer::new(&cluster);
        let mut scanning = Placer::scanning(&cluster);
        let mut counts = GroupCounts::new(azs);
        let groups = [counts.intern("service:a"), counts.intern("family:b")];
        let spec = PlacementSpec { strategies: chain(chain_code), constraints: constraints(constraint_code) };
        let mut rng_indexed: ChaCha8Rng = RngStreams::new(seed).stream("placement", 0);
        let mut rng_scanning = rng_indexed.clone();
        let mut placed: Vec<Placed> = Vec::new();
        for op in ops {
            match op {
                Op::Place { need, group, port, eni, az_mask } => {
                    let (cpu_units, memory_mib) = NEEDS[need];
                    let req = PlacementRequest {
                        need: Resources { cpu_units, memory_mib },
                        ports: ports(port),
                        eni,
                        az_mask,
                        host_groups: u64::MAX,
                        group: groups[group],
                        spec: &spec,
                    };
                    let view = ClusterView { cluster: &cluster, groups: &counts };
                    let got = indexed.decide(&req, &view, &mut rng_indexed);
                    let want = scanning.decide(&req, &view, &mut rng_scanning);
                    prop_assert_eq!(got, want, "{:?} {:?}", spec.strategies, spec.constraints);
                    prop_assert_eq!(rng_indexed.get_word_pos(), rng_scanning.get_word_pos(), "random draws differ");
                    prop_assert_eq!(indexed.verify_spread(&view), Ok(()));
                    let (_, best) = indexed.explain(&req, &view);
                    if let Ok(h) = got {
                        prop_assert!(cluster.host(h).active, "chose failed host {}", h.0);
                        prop_assert!(best.contains(&h), "host {} is not among the full scan's best", h.0);
                    } else {
                        prop_assert!(best.is_empty(), "no host chosen while the full scan finds {:?}", best);
                    }
                    if let Ok(h) = got {
                        cluster.reserve(h, req.need, req.ports, eni);
                        indexed.host_changed(&cluster, h);
                        scanning.host_changed(&cluster, h);
                        counts.add(req.group, h, cluster.host(h).az);
                        placed.push(Placed { host: h, need: req.need, port, eni, group });
                    }
                }
                Op::Release { pick } => {
                    if placed.is_empty() {
                        continue;
                    }
                    let p = placed.swap_remove(pick % placed.len());
                    cluster.release(p.host, p.need, ports(p.port), p.eni);
                    indexed.host_changed(&cluster, p.host);
                    scanning.host_changed(&cluster, p.host);
                    counts.remove(groups[p.group], p.host, cluster.host(p.host).az);
                }
                Op::Fail { pick } => {
                    let up: Vec<HostId> = cluster.hosts.iter().filter(|h| h.active).map(|h| h.id).collect();
                    if up.is_empty() {
                        continue;
                    }
                    let h = up[pick % up.len()];
                    cluster.deactivate(h);
                    indexed.host_left(&cluster, h);
                    scanning.host_left(&cluster, h);
                    for p in placed.iter().filter(|p| p.host == h) {
                        cluster.release(h, p.need, ports(p.port), p.eni);
                        indexed.host_changed(&cluster, h);
                        scanning.host_changed(&cluster, h);
                        counts.remove(groups[p.group], h, cluster.host(h).az);
                    }
                    placed.retain(|p| p.host != h);
                }
                Op::Join { pick } => {
                    let down: Vec<HostId> = cluster.hosts.iter().filter(|h| !h.active).map(|h| h.id).collect();
                    if down.is_empty() {
                        continue;
                    }
                    let h = down[pick % down.len()];
                    cluster.activate(h);
                    indexed.host_joined(&cluster, h);
                    scanning.host_joined(&cluster, h);
                }
            }
            prop_assert_eq!(indexed.verify(&cluster), Ok(()));
        }
    }
}

/// Two AZs of three m5.xlarge hosts; a `memberOf` naming an attribute no host has.
#[test]
fn member_of_matching_no_host_fails_with_member_of_when_hosts_have_room() {
    let mut cluster = cluster(2, &[(0, 1, 0), (1, 1, 0), (0, 1, 0), (1, 1, 0), (0, 1, 0), (1, 1, 0)]);
    let mut counts = GroupCounts::new(2);
    let group = counts.intern("family:jobs");
    let spec = PlacementSpec {
        strategies: vec![StrategySpec::Binpack(Resource::Memory)],
        constraints: vec![Constraint::MemberOf(Expression::parse("attribute:pool == batch").expect("valid"))],
    };
    let req = PlacementRequest {
        need: Resources { cpu_units: 512, memory_mib: 1024 },
        ports: &[],
        eni: false,
        az_mask: u32::MAX,
        host_groups: u64::MAX,
        group,
        spec: &spec,
    };
    // Two hosts left without memory for the task: 4 hosts fail memberOf, 2 memory.
    for h in [HostId(0), HostId(1)] {
        let free = cluster.host(h).free();
        cluster.reserve(h, Resources { cpu_units: 0, memory_mib: free.memory_mib - 512 }, &[], false);
    }
    let mut placer = Placer::new(&cluster);
    let view = ClusterView { cluster: &cluster, groups: &counts };
    let mut rng: ChaCha8Rng = RngStreams::new(1).stream("placement", 0);
    assert_eq!(placer.decide(&req, &view, &mut rng), Err(PlacementFailure::MemberOf));
    assert_eq!(placer.failure_reason_by_scan(&req, &view), PlacementFailure::MemberOf);
}

/// Five hosts: two short of CPU (one of them also short of memory), three short of memory only.
/// The host short of both counts once, under CPU, so memory is the reason (3 against 2).
#[test]
fn failure_reason_counts_a_host_short_of_both_under_cpu_only() {
    let mut cluster = cluster(1, &[(0, 1, 0); 5]);
    let mut counts = GroupCounts::new(1);
    let spec = PlacementSpec::run_task_default();
    let need = Resources { cpu_units: 1024, memory_mib: 4096 };
    let take = |cluster: &mut Cluster, h: u32, cpu_left: u32, mem_left: u32| {
        let free = cluster.host(HostId(h)).free();
        cluster.reserve(HostId(h), Resources { cpu_units: free.cpu_units - cpu_left, memory_mib: free.memory_mib - mem_left }, &[], false);
    };
    take(&mut cluster, 0, 512, 1024); // CPU (and memory)
    take(&mut cluster, 1, 512, 8192); // CPU
    take(&mut cluster, 2, 4096, 1024); // memory
    take(&mut cluster, 3, 4096, 2048); // memory
    take(&mut cluster, 4, 4096, 4095); // memory
    let group = counts.intern("family:x");
    let req = PlacementRequest { need, ports: &[], eni: false, az_mask: u32::MAX, host_groups: u64::MAX, group, spec: &spec };
    let mut placer = Placer::new(&cluster);
    let view = ClusterView { cluster: &cluster, groups: &counts };
    let mut rng: ChaCha8Rng = RngStreams::new(1).stream("placement", 0);
    assert_eq!(placer.decide(&req, &view, &mut rng), Err(PlacementFailure::ResourceMemory));
    assert_eq!(placer.failure_reason_by_scan(&req, &view), PlacementFailure::ResourceMemory);
}
