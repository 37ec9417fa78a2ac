//! Proves that `Placer::decide` follows ECS's placement rules for the EC2 launch type, one test per
//! rule, by driving the library directly (cluster model + placer + group counts, no event loop):
//! binpack on memory and on CPU, spread by AZ and by instance (strategies are best-effort),
//! the service default, `distinctInstance`, `memberOf` (regex and custom attributes), static host
//! ports including the agent's reserved ones, ECS's failure reasons, uniform `random`, seeded
//! tie-breaks and user strategies registered by name. A property test holds the indexed
//! decision to the full-scan oracle (`Placer::explain`) over random clusters and histories.

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use rand_chacha::ChaCha8Rng;

use clustersim::engine::RngStreams;
use clustersim::model::cluster::HostGroup;
use clustersim::model::instance_types;
use clustersim::model::taskdef::Protocol;
use clustersim::model::{AzId, Cluster, Host, HostId, HostPorts, Resources};
use clustersim::placement::{
    AZ_ATTRIBUTE, ClusterView, Constraint, GroupCounts, GroupId, PlacementFailure, PlacementRequest, PlacementSpec, PlacementStrategy,
    Placer, Resource, SpreadField, StrategyRegistry, StrategySpec,
};

const GIB: u32 = 1024;
const AZS: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

// ---------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------

/// One host to build: AZ index, instance type, host group index.
#[derive(Debug, Clone, Copy)]
struct HostSpec {
    az: u32,
    instance_type: &'static str,
    group: u32,
}

fn host(az: u32, instance_type: &'static str) -> HostSpec {
    HostSpec { az, instance_type, group: 0 }
}

/// A cluster whose hosts register their instance type's full CPU and memory.
fn build_cluster(azs: usize, host_groups: Vec<HostGroup>, hosts: &[HostSpec]) -> Cluster {
    let types = instance_types::built_in();
    let hosts = hosts
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let t = types.iter().position(|t| t.name == s.instance_type).expect("built-in instance type");
            Host {
                id: HostId(i as u32),
                az: AzId(s.az),
                instance_type: t as u32,
                group: s.group,
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
    Cluster { azs: AZS[..azs].iter().map(|s| s.to_string()).collect(), instance_types: types, host_groups, hosts }
}

fn plain_groups() -> Vec<HostGroup> {
    vec![HostGroup { name: "main".into(), attributes: Vec::new() }]
}

struct Fixture {
    cluster: Cluster,
    placer: Placer,
    groups: GroupCounts,
}

impl Fixture {
    fn new(cluster: Cluster) -> Fixture {
        let placer = Placer::new(&cluster);
        let groups = GroupCounts::new(cluster.azs.len());
        Fixture { cluster, placer, groups }
    }

    fn with_hosts(azs: usize, hosts: &[HostSpec]) -> Fixture {
        Fixture::new(build_cluster(azs, plain_groups(), hosts))
    }

    fn group(&mut self, name: &str) -> GroupId {
        self.groups.intern(name)
    }

    /// Reserves `need` and `ports` on `host` as a running task of `group` would, and tells the
    /// placer's index (what `sim` does after a placement).
    fn occupy(&mut self, host: u32, need: Resources, ports: &[(Protocol, u16)], group: GroupId) {
        let h = HostId(host);
        self.cluster.reserve(h, need, ports, false);
        self.placer.host_changed(&self.cluster, h);
        let az = self.cluster.host(h).az;
        self.groups.add(group, h, az);
    }

    /// Takes memory (no CPU) on `host` so that `free_mib` remains, as a task of another group.
    fn leave_free_memory(&mut self, host: u32, free_mib: u32) {
        let filler = self.group("filler");
        let free = self.cluster.host(HostId(host)).free().memory_mib;
        self.occupy(host, Resources { cpu_units: 0, memory_mib: free - free_mib }, &[], filler);
    }

    /// Takes CPU (no memory) on `host` so that `free_units` remain, as a task of another group.
    fn leave_free_cpu(&mut self, host: u32, free_units: u32) {
        let filler = self.group("filler");
        let free = self.cluster.host(HostId(host)).free().cpu_units;
        self.occupy(host, Resources { cpu_units: free - free_units, memory_mib: 0 }, &[], filler);
    }

    /// One decision; a success must also be among the full-scan oracle's best hosts.
    fn decide(&mut self, req: &PlacementRequest<'_>, rng: &mut ChaCha8Rng) -> Result<u32, PlacementFailure> {
        let view = ClusterView { cluster: &self.cluster, groups: &self.groups };
        let outcome = self.placer.decide(req, &view, rng);
        let (explanation, best) = self.placer.explain(req, &view);
        match outcome {
            Ok(h) => assert!(best.contains(&h), "decide chose host {} but the full scan's best are {best:?}", h.0),
            Err(reason) => assert_eq!(explanation.after_constraints, 0, "decide failed ({reason:?}) although hosts were feasible"),
        }
        outcome.map(|h| h.0)
    }

    /// Decides with each of `seeds` placement streams and returns the distinct hosts chosen.
    fn choices(&mut self, req: &PlacementRequest<'_>, seeds: std::ops::Range<u64>) -> BTreeSet<u32> {
        seeds.map(|s| self.decide(req, &mut placement_rng(s)).expect("a host fits")).collect()
    }

    /// Places one task: decide, then apply the decision as `sim` does.
    fn place(&mut self, req: &PlacementRequest<'_>, rng: &mut ChaCha8Rng) -> Result<u32, PlacementFailure> {
        let h = self.decide(req, rng)?;
        self.occupy(h, req.need, req.ports, req.group);
        Ok(h)
    }
}

fn placement_rng(seed: u64) -> ChaCha8Rng {
    RngStreams::new(seed).stream("placement", 0)
}

fn res(cpu_units: u32, memory_mib: u32) -> Resources {
    Resources { cpu_units, memory_mib }
}

fn spec(strategies: &[&str], constraints: &[&str]) -> PlacementSpec {
    let registry = StrategyRegistry::new();
    PlacementSpec {
        strategies: strategies.iter().map(|s| StrategySpec::parse(s, &registry).expect("valid strategy")).collect(),
        constraints: constraints.iter().map(|c| Constraint::parse(c).expect("valid constraint")).collect(),
    }
}

fn request<'a>(need: Resources, ports: &'a [(Protocol, u16)], group: GroupId, spec: &'a PlacementSpec) -> PlacementRequest<'a> {
    PlacementRequest { need, ports, eni: false, az_mask: u32::MAX, host_groups: u64::MAX, group, spec }
}

/// Pearson's chi-square statistic of `counts` against a uniform expectation.
fn chi_square_uniform(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    let expected = total as f64 / counts.len() as f64;
    counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum()
}

// ---------------------------------------------------------------------------------------------
// binpack
// ---------------------------------------------------------------------------------------------

#[test]
fn binpack_memory_chooses_the_host_with_least_remaining_memory_that_fits() {
    // ECS's example: 2 GiB, 4 GiB and 8 GiB free and a 3 GiB task → the 4 GiB host. A host with
    // 1 MiB less than the task needs is tighter still but must not be chosen.
    let mut f = Fixture::with_hosts(1, &[host(0, "m5.large"); 5]);
    f.leave_free_memory(0, 8 * GIB);
    f.leave_free_memory(1, 2 * GIB);
    f.leave_free_memory(2, 3 * GIB - 1);
    f.leave_free_memory(3, 4 * GIB);
    f.leave_free_memory(4, 8 * GIB);
    let g = f.group("family:job");
    let s = spec(&["binpack(memory)"], &[]);
    let req = request(res(256, 3 * GIB), &[], g, &s);
    assert_eq!(f.choices(&req, 0..32), BTreeSet::from([3]));
}

#[test]
fn binpack_memory_uses_an_exact_fit_and_then_the_next_tightest_host() {
    let mut f = Fixture::with_hosts(2, &[host(0, "m5.large"), host(1, "m5.large"), host(1, "m5.large")]);
    f.leave_free_memory(0, 6 * GIB);
    f.leave_free_memory(1, 3 * GIB);
    f.leave_free_memory(2, 5 * GIB);
    let g = f.group("family:job");
    let s = spec(&["binpack(memory)"], &[]);
    let req = request(res(0, 3 * GIB), &[], g, &s);
    let mut rng = placement_rng(1);
    assert_eq!(f.place(&req, &mut rng), Ok(1), "exact fit first");
    assert_eq!(f.place(&req, &mut rng), Ok(2), "then 5 GiB free (another AZ) before 6 GiB");
    assert_eq!(f.place(&req, &mut rng), Ok(0));
    assert_eq!(f.place(&req, &mut rng), Ok(0), "6 − 3 = 3 GiB left on host 0");
    assert_eq!(f.place(&req, &mut rng), Err(PlacementFailure::ResourceMemory));
}

#[test]
fn binpack_cpu_chooses_the_host_with_least_remaining_cpu_that_fits() {
    let mut f = Fixture::with_hosts(1, &[host(0, "m5.xlarge"); 5]);
    f.leave_free_cpu(0, 4096);
    f.leave_free_cpu(1, 512);
    f.leave_free_cpu(2, 767);
    f.leave_free_cpu(3, 1024);
    f.leave_free_cpu(4, 2048);
    let g = f.group("family:job");
    let s = spec(&["binpack(cpu)"], &[]);
    let req = request(res(768, 256), &[], g, &s);
    assert_eq!(f.choices(&req, 0..32), BTreeSet::from([3]));
}

#[test]
fn binpack_cpu_ignores_free_memory_and_binpack_memory_ignores_free_cpu() {
    // Host 0: little CPU left, lots of memory; host 1: lots of CPU, little memory.
    let mut f = Fixture::with_hosts(1, &[host(0, "m5.xlarge"), host(0, "m5.xlarge")]);
    f.leave_free_cpu(0, 1024);
    f.leave_free_memory(1, 2 * GIB);
    let g = f.group("family:job");
    let by_cpu = spec(&["binpack(cpu)"], &[]);
    let by_mem = spec(&["binpack(memory)"], &[]);
    assert_eq!(f.choices(&request(res(512, GIB), &[], g, &by_cpu), 0..16), BTreeSet::from([0]));
    assert_eq!(f.choices(&request(res(512, GIB), &[], g, &by_mem), 0..16), BTreeSet::from([1]));
}

// ---------------------------------------------------------------------------------------------
// spread
// ---------------------------------------------------------------------------------------------

/// 3 AZs × 2 m5.large hosts: hosts 0,1 in AZ a; 2,3 in AZ b; 4,5 in AZ c.
fn three_az_fixture() -> Fixture {
    Fixture::with_hosts(
        3,
        &[host(0, "m5.large"), host(0, "m5.large"), host(1, "m5.large"), host(1, "m5.large"), host(2, "m5.large"), host(2, "m5.large")],
    )
}

#[test]
fn spread_by_az_then_binpack_places_in_the_az_with_fewest_tasks_of_the_group_on_its_tightest_host() {
    let mut f = three_az_fixture();
    let web = f.group("service:web");
    let other = f.group("service:other");
    let small = res(256, 512);
    // AZ a holds 2 tasks of the group, AZ b holds 1, AZ c none (but many tasks of another group,
    // which spread must not count).
    f.occupy(0, small, &[], web);
    f.occupy(1, small, &[], web);
    f.occupy(2, small, &[], web);
    for _ in 0..3 {
        f.occupy(4, small, &[], other);
    }
    f.leave_free_memory(5, 5 * GIB);
    // AZ c: host 4 has 8 GiB − 1.5 GiB free, host 5 has 5 GiB free → host 5 is the tightest.
    // Hosts 0–3 are tighter than both, but in AZs that already hold tasks of the group.
    f.leave_free_memory(3, 4 * GIB);
    let s = spec(&["spread(attribute:ecs.availability-zone)", "binpack(memory)"], &[]);
    let req = request(res(256, GIB), &[], web, &s);
    assert_eq!(f.choices(&req, 0..32), BTreeSet::from([5]));
}

#[test]
fn spread_by_az_falls_back_to_the_next_az_when_the_emptiest_az_has_no_host_that_fits() {
    let mut f = three_az_fixture();
    let web = f.group("service:web");
    let small = res(256, 512);
    f.occupy(0, small, &[], web);
    f.occupy(1, small, &[], web);
    f.occupy(2, small, &[], web);
    // AZ c (no task of the group) is full for a 2 GiB task; AZ b (one task) is next: its tighter
    // host is 3; AZ a (two tasks) must not be used although host 0 is tighter than any other.
    f.leave_free_memory(4, GIB);
    f.leave_free_memory(5, 2 * GIB - 1);
    f.leave_free_memory(3, 3 * GIB);
    f.leave_free_memory(0, 2 * GIB);
    let s = spec(&["spread(attribute:ecs.availability-zone)", "binpack(memory)"], &[]);
    let req = request(res(256, 2 * GIB), &[], web, &s);
    assert_eq!(f.choices(&req, 0..32), BTreeSet::from([3]));
    // Once AZ b cannot take it either, AZ a (the most tasks of the group) is used: strategies
    // never block a placement that some host can take.
    f.leave_free_memory(2, GIB);
    f.leave_free_memory(3, GIB);
    assert_eq!(f.choices(&req, 0..32), BTreeSet::from([0]));
}

#[test]
fn spread_instance_id_chooses_a_host_with_the_fewest_tasks_of_the_group() {
    let mut f =
        Fixture::with_hosts(2, &[host(0, "m5.large"), host(0, "m5.large"), host(1, "m5.large"), host(1, "m5.large"), host(1, "m5.large")]);
    let api = f.group("service:api");
    let other = f.group("service:other");
    let small = res(128, 256);
    for (h, n) in [(0, 2), (1, 1), (2, 3), (3, 1), (4, 0)] {
        for _ in 0..n {
            f.occupy(h, small, &[], api);
        }
    }
    // Tasks of another group do not count.
    for _ in 0..4 {
        f.occupy(4, small, &[], other);
    }
    let s = spec(&["spread(instanceId)"], &[]);
    let req = request(small, &[], api, &s);
    assert_eq!(f.choices(&req, 0..32), BTreeSet::from([4]));
    f.occupy(4, small, &[], api);
    // Now hosts 1, 3 and 4 each hold one: ties go to the placement RNG, among those only.
    assert_eq!(f.choices(&req, 0..64), BTreeSet::from([1, 3, 4]));
}

#[test]
fn service_default_spreads_six_tasks_one_per_host_over_three_azs_of_two_hosts() {
    let s = PlacementSpec::service_default();
    assert_eq!(s.strategy_label(), "spread(attribute:ecs.availability-zone),spread(instanceId)");
    for seed in 0..8 {
        let mut f = three_az_fixture();
        let svc = f.group("service:web");
        let req = request(res(256, 512), &[], svc, &s);
        let mut rng = placement_rng(seed);
        let mut hosts = Vec::new();
        for i in 0..6 {
            hosts.push(f.place(&req, &mut rng).expect("fits"));
            if i % 3 == 2 {
                let per_az: Vec<u32> = (0..3).map(|az| f.groups.in_az(svc, AzId(az))).collect();
                assert!(per_az.iter().all(|&n| n == per_az[0]), "seed {seed}: after {} tasks AZs hold {per_az:?}", i + 1);
            }
        }
        hosts.sort_unstable();
        assert_eq!(hosts, vec![0, 1, 2, 3, 4, 5], "seed {seed}: one task per host");
    }
}

// ---------------------------------------------------------------------------------------------
// constraints
// ---------------------------------------------------------------------------------------------

#[test]
fn distinct_instance_never_puts_two_tasks_of_the_group_on_one_host_and_fails_once_every_host_has_one() {
    for strategy in ["binpack(memory)", "random", "spread(attribute:ecs.availability-zone)"] {
        let mut f = three_az_fixture();
        let g = f.group("family:singleton");
        let s = spec(&[strategy], &["distinctInstance"]);
        let req = request(res(256, 512), &[], g, &s);
        let mut rng = placement_rng(5);
        let mut used = BTreeSet::new();
        for i in 0..6 {
            let h = f.place(&req, &mut rng).unwrap_or_else(|e| panic!("{strategy}: task {i} failed with {e:?}"));
            assert!(used.insert(h), "{strategy}: second task of the group on host {h}");
        }
        assert_eq!(f.place(&req, &mut rng), Err(PlacementFailure::DistinctInstance), "{strategy}");
        // Another group is not constrained by this group's tasks.
        let other = f.group("family:other");
        assert!(f.place(&PlacementRequest { group: other, ..req }, &mut rng).is_ok());
    }
}

#[test]
fn member_of_instance_type_regex_only_picks_matching_hosts_even_when_another_fits_better() {
    // Host 0: c5.large with exactly the task's memory free (the binpack favourite); hosts 1, 2: m5.
    let mut f = Fixture::with_hosts(1, &[host(0, "c5.large"), host(0, "m5.large"), host(0, "m5.xlarge")]);
    f.leave_free_memory(0, 2 * GIB);
    let g = f.group("family:job");
    let s = spec(&["binpack(memory)"], &["memberOf(attribute:ecs.instance-type =~ m5.*)"]);
    let req = request(res(512, 2 * GIB), &[], g, &s);
    assert_eq!(f.choices(&req, 0..32), BTreeSet::from([1]), "tightest m5 host");
    // Without the constraint the c5 host wins.
    let free = spec(&["binpack(memory)"], &[]);
    assert_eq!(f.choices(&request(res(512, 2 * GIB), &[], g, &free), 0..32), BTreeSet::from([0]));
    // When no m5 host fits, the task fails rather than use the c5 host; the reason is the check
    // that rejected the most hosts (memory on both m5 hosts).
    f.leave_free_memory(1, GIB);
    f.leave_free_memory(2, GIB);
    assert_eq!(f.decide(&req, &mut placement_rng(1)), Err(PlacementFailure::ResourceMemory));
}

#[test]
fn member_of_custom_host_group_attribute_restricts_placement_to_that_pool() {
    let groups = vec![
        HostGroup { name: "compute".into(), attributes: vec![("pool".into(), "compute".into())] },
        HostGroup { name: "general".into(), attributes: vec![("pool".into(), "general".into())] },
        HostGroup { name: "plain".into(), attributes: Vec::new() },
    ];
    let hosts = [
        HostSpec { az: 0, instance_type: "m5.xlarge", group: 1 },
        HostSpec { az: 0, instance_type: "c5.large", group: 0 },
        HostSpec { az: 1, instance_type: "m5.large", group: 2 },
        HostSpec { az: 1, instance_type: "c5.large", group: 0 },
        HostSpec { az: 1, instance_type: "m5.large", group: 1 },
    ];
    let mut f = Fixture::new(build_cluster(2, groups, &hosts));
    let g = f.group("family:crunch");
    let s = spec(&["random"], &["memberOf(attribute:pool == compute)"]);
    let req = request(res(512, GIB), &[], g, &s);
    assert_eq!(f.choices(&req, 0..64), BTreeSet::from([1, 3]));
    let not_compute = spec(&["random"], &["memberOf(attribute:pool != compute)"]);
    assert_eq!(
        f.choices(&request(res(512, GIB), &[], g, &not_compute), 0..64),
        BTreeSet::from([0, 2, 4]),
        "a missing attribute is != compute"
    );
    // No host in the pool ⇒ MemberOf.
    let none = spec(&["random"], &["memberOf(attribute:pool == gpu)"]);
    assert_eq!(f.decide(&request(res(512, GIB), &[], g, &none), &mut placement_rng(1)), Err(PlacementFailure::MemberOf));
    // An expression over the built-in AZ attribute and the custom one together.
    let both = spec(&["random"], &["memberOf(attribute:pool == compute and attribute:ecs.availability-zone == us-east-1b)"]);
    assert_eq!(f.choices(&request(res(512, GIB), &[], g, &both), 0..16), BTreeSet::from([3]));
}

// ---------------------------------------------------------------------------------------------
// ports
// ---------------------------------------------------------------------------------------------

const TCP_8080: [(Protocol, u16); 1] = [(Protocol::Tcp, 8080)];

#[test]
fn static_host_port_is_never_placed_on_a_host_already_holding_it() {
    let mut f = Fixture::with_hosts(2, &[host(0, "m5.large"), host(0, "m5.large"), host(1, "m5.large"), host(1, "m5.large")]);
    let web = f.group("service:web");
    let other = f.group("service:other");
    // Hosts 0 and 2 hold TCP 8080 (host 0 through another group: ports are per host, not per
    // group); host 3 holds UDP 8080, which does not conflict with TCP.
    f.occupy(0, res(256, 512), &TCP_8080, other);
    f.occupy(2, res(256, 512), &TCP_8080, web);
    f.occupy(3, res(256, 512), &[(Protocol::Udp, 8080)], other);
    // binpack would prefer host 0 or 2 (tighter): the port rules them out.
    let s = spec(&["binpack(memory)"], &[]);
    let req = request(res(256, 512), &TCP_8080, web, &s);
    let picks = f.choices(&req, 0..64);
    assert!(picks.iter().all(|h| [1, 3].contains(h)), "chose a host holding TCP 8080: {picks:?}");
    // Placing on the free hosts works until every host holds the port.
    let mut rng = placement_rng(9);
    let a = f.place(&req, &mut rng).unwrap();
    let b = f.place(&req, &mut rng).unwrap();
    assert_eq!(BTreeSet::from([a, b]), BTreeSet::from([1, 3]));
}

#[test]
fn static_host_port_taken_on_every_host_fails_with_resource_ports() {
    let mut f = three_az_fixture();
    let g = f.group("service:web");
    let s = spec(&["spread(attribute:ecs.availability-zone)", "spread(instanceId)"], &[]);
    let req = request(res(256, 512), &TCP_8080, g, &s);
    let mut rng = placement_rng(2);
    for _ in 0..6 {
        f.place(&req, &mut rng).expect("a host without 8080 remains");
    }
    assert_eq!(f.decide(&req, &mut rng), Err(PlacementFailure::ResourcePorts));
    // A task with a different port, or UDP 8080, still fits.
    assert!(f.decide(&request(res(256, 512), &[(Protocol::Tcp, 8081)], g, &s), &mut rng).is_ok());
    assert!(f.decide(&request(res(256, 512), &[(Protocol::Udp, 8080)], g, &s), &mut rng).is_ok());
}

#[test]
fn agent_reserved_port_22_is_never_available() {
    let mut f = three_az_fixture();
    let g = f.group("family:ssh");
    for strategy in ["random", "binpack(memory)", "spread(instanceId)"] {
        let s = spec(&[strategy], &[]);
        for port in HostPorts::AGENT_RESERVED_TCP {
            let ports = [(Protocol::Tcp, port)];
            assert_eq!(
                f.decide(&request(res(0, 0), &ports, g, &s), &mut placement_rng(u64::from(port))),
                Err(PlacementFailure::ResourcePorts),
                "{strategy}: TCP {port} is reserved by the agent"
            );
        }
    }
    // UDP 22 is not reserved.
    let s = spec(&["random"], &[]);
    assert!(f.decide(&request(res(0, 0), &[(Protocol::Udp, 22)], g, &s), &mut placement_rng(1)).is_ok());
}

// ---------------------------------------------------------------------------------------------
// failure reasons
// ---------------------------------------------------------------------------------------------

#[test]
fn memory_short_on_every_host_fails_with_resource_memory() {
    let mut f = three_az_fixture();
    for h in 0..6 {
        f.leave_free_memory(h, GIB);
    }
    let g = f.group("family:job");
    for strategy in ["binpack(memory)", "binpack(cpu)", "random", "spread(attribute:ecs.availability-zone)"] {
        let s = spec(&[strategy], &[]);
        let req = request(res(256, GIB + 1), &[], g, &s);
        assert_eq!(f.decide(&req, &mut placement_rng(1)), Err(PlacementFailure::ResourceMemory), "{strategy}");
        assert_eq!(PlacementFailure::ResourceMemory.ecs_reason(), "RESOURCE:MEMORY");
    }
}

#[test]
fn cpu_short_on_every_host_fails_with_resource_cpu() {
    let mut f = three_az_fixture();
    for h in 0..6 {
        f.leave_free_cpu(h, 512);
    }
    let g = f.group("family:job");
    for strategy in ["binpack(memory)", "binpack(cpu)", "random", "spread(instanceId)"] {
        let s = spec(&[strategy], &[]);
        let req = request(res(513, 256), &[], g, &s);
        assert_eq!(f.decide(&req, &mut placement_rng(1)), Err(PlacementFailure::ResourceCpu), "{strategy}");
    }
    assert_eq!(PlacementFailure::ResourceCpu.ecs_reason(), "RESOURCE:CPU");
}

#[test]
fn failure_reason_is_the_check_that_rejected_the_most_hosts() {
    // 2 hosts short of CPU, 3 short of memory (with CPU to spare), 1 holding the port.
    let mut f = three_az_fixture();
    let g = f.group("family:job");
    f.leave_free_cpu(0, 100);
    f.leave_free_cpu(1, 100);
    for h in 2..5 {
        f.leave_free_memory(h, 100);
    }
    f.occupy(5, res(0, 0), &TCP_8080, g);
    let s = spec(&["binpack(memory)"], &[]);
    assert_eq!(f.decide(&request(res(256, 256), &TCP_8080, g, &s), &mut placement_rng(1)), Err(PlacementFailure::ResourceMemory));
}

#[test]
fn empty_cluster_fails_with_no_container_instances() {
    let mut f = Fixture::with_hosts(3, &[]);
    let g = f.group("family:job");
    for strategy in ["binpack(memory)", "random", "spread(attribute:ecs.availability-zone)", "spread(instanceId)"] {
        let s = spec(&[strategy], &[]);
        assert_eq!(
            f.decide(&request(res(1, 1), &[], g, &s), &mut placement_rng(1)),
            Err(PlacementFailure::NoContainerInstances),
            "{strategy}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// random and tie-breaks
// ---------------------------------------------------------------------------------------------

/// χ² critical values at p = 0.001.
const CHI2_P001_DF2: f64 = 13.816;
const CHI2_P001_DF9: f64 = 27.877;

#[test]
fn random_chooses_each_of_n_identical_hosts_uniformly() {
    // 10 identical hosts over 2 AZs; nothing is ever reserved, so every decision sees the same
    // empty cluster.
    let hosts: Vec<HostSpec> = (0..10).map(|i| host(i % 2, "m5.large")).collect();
    let mut f = Fixture::with_hosts(2, &hosts);
    let g = f.group("family:job");
    let s = spec(&["random"], &[]);
    let req = request(res(256, 512), &[], g, &s);
    let mut rng = placement_rng(2024);
    let mut counts = vec![0u64; 10];
    for _ in 0..20_000 {
        counts[f.decide(&req, &mut rng).unwrap() as usize] += 1;
    }
    let chi2 = chi_square_uniform(&counts);
    assert!(chi2 < CHI2_P001_DF9, "χ² = {chi2:.2} ≥ {CHI2_P001_DF9} (df 9, p = 0.001): counts {counts:?}");
}

#[test]
fn random_is_uniform_over_the_feasible_hosts_when_most_hosts_are_full() {
    // 12 hosts, 9 of them without room: random picks that land on a full host are retried or
    // fall back to a scan; the choice must stay uniform over the 3 feasible hosts.
    let hosts: Vec<HostSpec> = (0..12).map(|i| host(i % 3, "m5.large")).collect();
    let mut f = Fixture::with_hosts(3, &hosts);
    let feasible = [1u32, 6, 11];
    for h in 0..12 {
        if !feasible.contains(&h) {
            f.leave_free_memory(h, 256);
        }
    }
    let g = f.group("family:job");
    let s = spec(&["random"], &[]);
    let req = request(res(256, 512), &[], g, &s);
    let mut rng = placement_rng(77);
    let mut counts = [0u64; 3];
    for _ in 0..15_000 {
        let h = f.decide(&req, &mut rng).unwrap();
        counts[feasible.iter().position(|&x| x == h).unwrap_or_else(|| panic!("chose full host {h}"))] += 1;
    }
    let chi2 = chi_square_uniform(&counts);
    assert!(chi2 < CHI2_P001_DF2, "χ² = {chi2:.2} ≥ {CHI2_P001_DF2} (df 2, p = 0.001): counts {counts:?}");
}

#[test]
fn ties_are_broken_by_the_placement_rng_same_seed_same_host_different_seeds_spread() {
    // Four identical empty hosts tie under binpack(memory).
    let hosts: Vec<HostSpec> = (0..4).map(|i| host(i % 2, "m5.large")).collect();
    let s = spec(&["binpack(memory)"], &[]);
    let choose = |seed: u64| {
        let mut f = Fixture::with_hosts(2, &hosts);
        let g = f.group("family:job");
        f.decide(&request(res(256, 512), &[], g, &s), &mut placement_rng(seed)).unwrap()
    };
    let first: Vec<u32> = (0..64).map(choose).collect();
    let again: Vec<u32> = (0..64).map(choose).collect();
    assert_eq!(first, again, "the same seed must give the same choice");
    let distinct: BTreeSet<u32> = first.iter().copied().collect();
    assert_eq!(distinct, BTreeSet::from([0, 1, 2, 3]), "64 seeds should reach every tied host");
    // A whole sequence of tied decisions is reproducible too.
    let sequence = |seed: u64| {
        let mut f = Fixture::with_hosts(2, &hosts);
        let g = f.group("family:job");
        let mut rng = placement_rng(seed);
        (0..12).map(|_| f.place(&request(res(256, 512), &[], g, &s), &mut rng).unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(sequence(11), sequence(11));
    let sequences: BTreeSet<Vec<u32>> = (0..8).map(sequence).collect();
    assert!(sequences.len() > 1, "eight seeds gave the same sequence of tie-breaks");
}

// ---------------------------------------------------------------------------------------------
// user strategies
// ---------------------------------------------------------------------------------------------

/// Worst fit: the host with the MOST free memory first (the opposite of binpack).
struct WorstFit;

impl PlacementStrategy for WorstFit {
    fn name(&self) -> &str {
        "worst-fit"
    }
    fn rank(&self, _req: &PlacementRequest<'_>, view: &ClusterView<'_>, host: HostId) -> i64 {
        -i64::from(view.cluster.host(host).free().memory_mib)
    }
}

#[test]
fn custom_strategy_registered_by_name_is_honoured() {
    let mut registry = StrategyRegistry::new();
    registry.register(Arc::new(WorstFit)).unwrap();
    assert!(registry.register(Arc::new(NamedBinpack)).is_err(), "built-in names cannot be taken");
    let worst = StrategySpec::parse("worst-fit", &registry).unwrap();
    assert!(StrategySpec::parse("worst-fit", &StrategyRegistry::new()).is_err(), "unregistered name");
    let mut f = Fixture::with_hosts(2, &[host(0, "m5.xlarge"), host(0, "m5.xlarge"), host(1, "m5.xlarge"), host(1, "m5.xlarge")]);
    f.leave_free_memory(0, 4 * GIB);
    f.leave_free_memory(1, 12 * GIB);
    f.leave_free_memory(3, 12 * GIB);
    f.leave_free_cpu(3, 1024);
    let g = f.group("family:job");
    // Worst fit alone: the empty host 2 (16 GiB free).
    let alone = PlacementSpec { strategies: vec![worst.clone()], constraints: Vec::new() };
    let req = request(res(512, GIB), &[], g, &alone);
    assert_eq!(f.choices(&req, 0..32), BTreeSet::from([2]));
    // Once host 2 is down to 12 GiB, hosts 1, 2 and 3 tie; binpack(cpu) after it picks host 3.
    f.leave_free_memory(2, 12 * GIB);
    let chained = PlacementSpec { strategies: vec![worst, StrategySpec::Binpack(Resource::Cpu)], constraints: Vec::new() };
    assert_eq!(f.choices(&request(res(512, GIB), &[], g, &chained), 0..32), BTreeSet::from([3]));
    // It sees resources after the filter: a host without room is never ranked in.
    let huge = request(res(512, 13 * GIB), &[], g, &alone);
    assert_eq!(f.decide(&huge, &mut placement_rng(1)), Err(PlacementFailure::ResourceMemory));
}

struct NamedBinpack;

impl PlacementStrategy for NamedBinpack {
    fn name(&self) -> &str {
        "binpack"
    }
    fn rank(&self, _req: &PlacementRequest<'_>, _view: &ClusterView<'_>, _host: HostId) -> i64 {
        0
    }
}

// ---------------------------------------------------------------------------------------------
// indexed decision vs full scan
// ---------------------------------------------------------------------------------------------

const TYPES: [&str; 3] = ["m5.large", "m5.xlarge", "c5.large"];
const NEEDS: [(u32, u32); 5] = [(256, 512), (512, 1024), (1024, 2048), (2048, 3072), (128, 6144)];

/// The brief's strategies (spread by AZ twice as likely: it has the most special-cased index
/// path), plus spread over another attribute.
fn strategy_from(code: u8) -> StrategySpec {
    match code % 7 {
        0 => StrategySpec::Binpack(Resource::Cpu),
        1 => StrategySpec::Binpack(Resource::Memory),
        2 | 3 => StrategySpec::Spread(SpreadField::Attribute(AZ_ATTRIBUTE.into())),
        4 => StrategySpec::Spread(SpreadField::InstanceId),
        5 => StrategySpec::Random,
        _ => StrategySpec::Spread(SpreadField::Attribute("ecs.instance-type".into())),
    }
}

/// One step of a random history: place a task, or release a placed task.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// `need` indexes `NEEDS`; `port`: static TCP 8080; `eni`: an `awsvpc` task (one ENI slot);
    /// `az_mask`: the AZs it may go to.
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
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    let az_mask = prop_oneof![3 => Just(u32::MAX), 1 => 1..8u32];
    prop_oneof![
        3 => (0..NEEDS.len(), 0..2usize, proptest::bool::weighted(0.2), proptest::bool::weighted(0.3), az_mask)
            .prop_map(|(need, group, port, eni, az_mask)| Op::Place { need, group, port, eni, az_mask }),
        1 => any::<usize>().prop_map(|pick| Op::Release { pick }),
    ]
}

/// A placed task of the property test: what to give back when it stops.
struct Placed {
    host: HostId,
    need: Resources,
    port: bool,
    eni: bool,
    group: GroupId,
}

fn ports_of(port: bool) -> &'static [(Protocol, u16)] {
    if port { &TCP_8080 } else { &[] }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn indexed_decision_is_always_among_the_full_scan_best(
        azs in 1..=3usize,
        hosts in proptest::collection::vec((0..3u32, 0..3usize), 1..=40),
        chain in proptest::collection::vec(0..7u8, 1..=3),
        distinct in any::<bool>(),
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 50),
    ) {
        let specs: Vec<HostSpec> = hosts.iter().map(|&(az, t)| host(az % azs as u32, TYPES[t])).collect();
        let mut f = Fixture::with_hosts(azs, &specs);
        let spec = PlacementSpec {
            strategies: chain.iter().map(|&c| strategy_from(c)).collect(),
            constraints: if distinct { vec![Constraint::DistinctInstance] } else { Vec::new() },
        };
        let groups = [f.group("service:a"), f.group("family:b")];
        let mut rng = placement_rng(seed);
        let mut placed: Vec<Placed> = Vec::new();
        for op in ops {
            match op {
                Op::Place { need, group, port, eni, az_mask } => {
                    let (cpu, mem) = NEEDS[need];
                    let req = PlacementRequest { eni, az_mask, host_groups: u64::MAX, ..request(res(cpu, mem), ports_of(port), groups[group], &spec) };
                    let view = ClusterView { cluster: &f.cluster, groups: &f.groups };
                    let outcome = f.placer.decide(&req, &view, &mut rng);
                    let (explanation, best) = f.placer.explain(&req, &view);
                    match outcome {
                        Ok(h) => {
                            prop_assert!(best.contains(&h), "chose host {} not among the full scan's best {:?} ({:?})", h.0, best, spec.strategies);
                            f.cluster.reserve(h, req.need, req.ports, eni);
                            f.placer.host_changed(&f.cluster, h);
                            let az = f.cluster.host(h).az;
                            f.groups.add(req.group, h, az);
                            placed.push(Placed { host: h, need: req.need, port, eni, group: req.group });
                        }
                        Err(reason) => {
                            prop_assert_eq!(explanation.after_constraints, 0, "failed with {:?} while {} hosts were feasible", reason, explanation.after_constraints);
                            prop_assert_ne!(reason, PlacementFailure::NoContainerInstances);
                        }
                    }
                }
                Op::Release { pick } => {
                    if placed.is_empty() {
                        continue;
                    }
                    let p = placed.swap_remove(pick % placed.len());
                    f.cluster.release(p.host, p.need, ports_of(p.port), p.eni);
                    f.placer.host_changed(&f.cluster, p.host);
                    let az = f.cluster.host(p.host).az;
                    f.groups.remove(p.group, p.host, az);
                }
            }
            prop_assert_eq!(f.placer.verify(&f.cluster), Ok(()));
        }
    }
}
