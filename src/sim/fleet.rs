//! The fleet: container-instance hosts, what is reserved on them (CPU, memory, static ports, ENI
//! slots), the placement index that follows them, and the per-group task counts that spread and
//! `distinctInstance` read.
//!
//! Owns: [`Cluster`], [`Placer`], [`GroupCounts`], what each task definition reserves
//! ([`TaskNeeds`]) and each workload's placement group and AZ mask.
//! Is told: reserve or release a task on a host (by the lifecycle's coordinator), a Fargate
//! task started or stopped in an AZ (group counts only).
//!
//! Architecture invariant: only this file changes a host's reservations or the placement index,
//! and always both together (`reserve`/`release` call `Placer::host_changed`). It knows nothing
//! of addresses, services or metrics.

use rand_chacha::ChaCha8Rng;

use crate::model::cluster::HostGroup;
use crate::model::taskdef::{NetworkMode, Protocol};
use crate::model::{AzId, Cluster, Host, HostId, HostPorts, Resources};
use crate::placement::{
    ClusterView, Constraint, Explanation, GroupCounts, GroupId, PlacementFailure, PlacementRequest, Placer, StrategySpec,
};
use crate::scenario::Scenario;

/// Resources and static ports one task of a task definition reserves.
pub(super) struct TaskNeeds {
    pub need: Resources,
    pub ports: Vec<(Protocol, u16)>,
    /// awsvpc: the task gets its own ENI (an address, and on EC2 an ENI slot).
    pub eni: bool,
}

/// A placement decision and, with `explain`, the full scan's account of it and whether the
/// indexed choice was among the scan's best hosts.
pub(super) struct Decision {
    pub outcome: Result<HostId, PlacementFailure>,
    pub explained: Option<(Explanation, bool)>,
}

pub(super) struct Fleet {
    cluster: Cluster,
    placer: Placer,
    groups: GroupCounts,
    needs: Vec<TaskNeeds>,
    workload_group: Vec<GroupId>,
    /// Per workload: AZs of its subnets as a bit mask (`u32::MAX` when it names none).
    workload_az_mask: Vec<u32>,
}

impl Fleet {
    pub fn new(scenario: &Scenario) -> Fleet {
        let cluster = build_cluster(scenario);
        let placer = Placer::new(&cluster);
        let mut groups = GroupCounts::new(cluster.azs.len());
        let workload_group: Vec<GroupId> = scenario.workloads.iter().map(|w| groups.intern(&w.group)).collect();
        // A `task:group` expression or a user strategy may read any group's per-host counts.
        let any_reads_all = scenario.workloads.iter().any(|w| {
            w.placement.strategies.iter().any(|s| matches!(s, StrategySpec::Custom(_)))
                || w.placement.constraints.iter().any(|c| matches!(c, Constraint::MemberOf(e) if e.depends_on_tasks()))
        });
        if !any_reads_all {
            for &g in &workload_group {
                let read = scenario.workloads.iter().zip(&workload_group).any(|(o, &og)| og == g && o.placement.reads_host_group_counts());
                if !read {
                    groups.untrack_hosts(g);
                }
            }
        }
        let needs = scenario
            .task_definitions
            .iter()
            .map(|td| TaskNeeds {
                need: Resources { cpu_units: td.reserved_cpu_units(), memory_mib: td.reserved_memory_mib() },
                ports: td.static_host_ports(),
                eni: td.network_mode == NetworkMode::Awsvpc,
            })
            .collect();
        let network = scenario.network.as_ref();
        let workload_az_mask = scenario
            .workloads
            .iter()
            .map(|w| match network {
                Some(n) if !w.subnets.is_empty() => w.subnets.iter().fold(0u32, |m, s| m | az_bit(n.subnets[s.0 as usize].az)),
                _ => u32::MAX,
            })
            .collect();
        Fleet { cluster, placer, groups, needs, workload_group, workload_az_mask }
    }

    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    pub fn placer(&self) -> &Placer {
        &self.placer
    }

    pub fn needs(&self, task_definition: u32) -> &TaskNeeds {
        &self.needs[task_definition as usize]
    }

    /// Tasks of `workload`'s placement group in `az` (EC2 and Fargate).
    pub fn group_tasks_in_az(&self, workload: u32, az: AzId) -> u32 {
        self.groups.in_az(self.workload_group[workload as usize], az)
    }

    /// A placement decision for one task of `workload` with `task_definition`; with `explain`,
    /// also the full scan of the same rule.
    /// `host_groups`: the groups of the task's capacity provider (`u64::MAX`: any host).
    #[inline]
    pub fn decide(
        &mut self,
        scenario: &Scenario,
        workload: u32,
        task_definition: u32,
        host_groups: u64,
        explain: bool,
        rng: &mut ChaCha8Rng,
    ) -> Decision {
        let needs = &self.needs[task_definition as usize];
        let req = PlacementRequest {
            need: needs.need,
            ports: &needs.ports,
            eni: needs.eni,
            az_mask: self.workload_az_mask[workload as usize],
            host_groups,
            group: self.workload_group[workload as usize],
            spec: &scenario.workloads[workload as usize].placement,
        };
        let view = ClusterView { cluster: &self.cluster, groups: &self.groups };
        let outcome = self.placer.decide(&req, &view, rng);
        let explained = explain.then(|| {
            let (explanation, best) = self.placer.explain(&req, &view);
            let agrees = outcome.is_err() || outcome.is_ok_and(|h| best.contains(&h));
            (explanation, agrees)
        });
        Decision { outcome, explained }
    }

    /// Reserves a task's resources, ports and ENI slot on `host`. Returns the host's AZ and
    /// whether the host was empty before.
    #[inline]
    pub fn reserve(&mut self, host: HostId, task_definition: u32, workload: u32) -> (AzId, bool) {
        let needs = &self.needs[task_definition as usize];
        let h = self.cluster.host(host);
        let (az, was_idle) = (h.az, h.task_count == 0);
        self.cluster.reserve(host, needs.need, &needs.ports, needs.eni);
        self.placer.host_changed(&self.cluster, host);
        self.groups.add(self.workload_group[workload as usize], host, az);
        (az, was_idle)
    }

    /// Starts loading the host's record into the cache (no host: nothing).
    #[inline]
    pub fn prefetch(&self, host: HostId) {
        if let Some(h) = self.cluster.hosts.get(host.index()) {
            crate::engine::prefetch(h);
        }
    }

    /// Gives back what `reserve` took. Returns the host's AZ and whether it is now empty.
    #[inline]
    pub fn release(&mut self, host: HostId, task_definition: u32, workload: u32) -> (AzId, bool) {
        let needs = &self.needs[task_definition as usize];
        let az = self.cluster.host(host).az;
        self.cluster.release(host, needs.need, &needs.ports, needs.eni);
        self.placer.host_changed(&self.cluster, host);
        self.groups.remove(self.workload_group[workload as usize], host, az);
        (az, self.cluster.host(host).task_count == 0)
    }

    /// The host's instance failed: placement stops seeing it at once, before its tasks stop (their
    /// services' replacements must go elsewhere).
    pub fn host_leaves(&mut self, host: HostId) {
        self.cluster.deactivate(host);
        self.placer.host_left(&self.cluster, host);
    }

    /// A replacement instance registered in `host`'s place.
    pub fn host_joins(&mut self, host: HostId) {
        self.cluster.activate(host);
        self.placer.host_joined(&self.cluster, host);
    }

    /// A Fargate task of `workload` got its ENI in `az`: spread and AZ balance count it.
    pub fn hostless_task_started(&mut self, workload: u32, az: AzId) {
        self.groups.add_hostless(self.workload_group[workload as usize], az);
    }

    pub fn hostless_task_stopped(&mut self, workload: u32, az: AzId) {
        self.groups.remove_hostless(self.workload_group[workload as usize], az);
    }
}

/// Builds the fleet a scenario describes: host groups in name order, then AZs, then index.
pub fn build_cluster(scenario: &Scenario) -> Cluster {
    let mut hosts = Vec::with_capacity(scenario.host_count() as usize);
    for (g, spec) in scenario.host_groups.iter().enumerate() {
        let itype = &scenario.instance_types[spec.instance_type as usize];
        let registered = scenario.registered(itype);
        let trunking = scenario.network.as_ref().is_some_and(|n| n.trunking) && itype.trunk_task_limit.is_some();
        // The primary ENI takes one slot; with trunking, the trunk table applies
        // (docs/model.md#awsvpc-task-enis-eni-slots-and-trunking).
        let eni_task_limit = if trunking { itype.trunk_task_limit.unwrap_or(0) } else { itype.max_enis.saturating_sub(1) };
        // An Auto Scaling group's group has a slot for each instance it may run in an AZ; the
        // slots beyond its initial size start out of the cluster.
        let slots_per_az =
            scenario.capacity.provider_of_group(g as u32).map_or(spec.count_per_az, |p| scenario.capacity.providers[p as usize].max_size);
        for (a, &az) in spec.azs.iter().enumerate() {
            let subnet = spec.subnets.get(a).copied();
            for slot in 0..slots_per_az {
                let id = HostId(hosts.len() as u32);
                hosts.push(Host {
                    id,
                    az,
                    instance_type: spec.instance_type,
                    group: g as u32,
                    registered,
                    reserved: Resources::default(),
                    ports: HostPorts::with_agent_defaults(),
                    task_count: 0,
                    instance_id: crate::model::cluster::instance_name(id),
                    subnet,
                    eni_task_limit,
                    eni_tasks: 0,
                    active: slot < spec.count_per_az,
                });
            }
        }
    }
    Cluster {
        azs: scenario.azs.clone(),
        instance_types: scenario.instance_types.clone(),
        host_groups: scenario.host_groups.iter().map(|g| HostGroup { name: g.name.clone(), attributes: g.attributes.clone() }).collect(),
        hosts,
    }
}

fn az_bit(az: AzId) -> u32 {
    if az.0 < 32 { 1 << az.0 } else { u32::MAX }
}
