//! What the simulator derives from a validated scenario before any simulated time passes: the
//! resources each host type registers, how many tasks of each family fit on one host (and which
//! resource binds), the addresses each subnet leaves for tasks, and the size of each Fargate task.
//! `clustersim validate` prints it (and `--json` for scripts); it is a pure function of the
//! [`Scenario`], so tests check it against hand-computed values.
//!
//! The rules are ECS's, as the simulator applies them (see `docs/model.md`): registered memory is
//! physical × `registered_memory_fraction` − `reserved_memory`, registered CPU is 1,024 units per
//! vCPU; a task reserves its task-level size or the sum of its containers'; a static host port
//! allows one task per host and an agent-reserved port none; an `awsvpc` task takes one ENI slot.

use serde::Serialize;

use super::Scenario;
use crate::model::HostPorts;
use crate::model::taskdef::{NetworkMode, Protocol};
use crate::workload::{Arrivals, LaunchType};

/// Everything `validate` shows, in a fixed order (host types and subnets by name, families in
/// scenario order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Derived {
    pub host_types: Vec<HostTypeRow>,
    pub fits: Vec<FitRow>,
    pub subnets: Vec<SubnetRow>,
    pub fargate: Vec<FargateRow>,
    /// Auto Scaling group capacity providers, in name order.
    pub capacity_providers: Vec<ProviderRow>,
}

/// One Auto Scaling group capacity provider.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderRow {
    pub name: String,
    pub host_group: String,
    pub instance_type: String,
    /// Instances at the start (count_per_az × AZs).
    pub start_size: u32,
    pub min_size: u32,
    pub max_size: u32,
    pub managed_scaling: bool,
    pub target_capacity: u32,
    pub instance_warmup_s: f64,
    pub managed_termination_protection: bool,
    /// The group keeps launching into an AZ whose launches fail ("balanced only").
    pub az_balanced_only: bool,
    /// EC2 Spot: interruptions per instance-hour, the price fraction, instance draining.
    pub spot: Option<SpotRow>,
    /// Workloads whose strategy names it.
    pub workloads: Vec<String>,
}

/// A Spot group's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpotRow {
    pub interruptions_per_instance_hour: f64,
    pub price_fraction: f64,
    pub instance_draining: bool,
}

/// One instance type that a host group launches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostTypeRow {
    pub instance_type: String,
    /// Host groups of this type, in name order.
    pub host_groups: Vec<String>,
    pub hosts: u64,
    pub vcpu: u32,
    pub physical_memory_mib: u32,
    pub registered_cpu_units: u32,
    /// physical × `registered_memory_fraction`, rounded down, − `reserved_memory`.
    pub registered_memory_mib: u32,
    pub registered_memory_fraction: f64,
    pub reserved_memory_mib: u32,
    /// awsvpc tasks one host can hold (ENIs − 1, or the trunking limit).
    pub eni_task_limit: u32,
    pub trunking: bool,
}

/// The resource that limits how many tasks of a family fit on one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Binding {
    Cpu,
    Memory,
    Ports,
    EniSlots,
}

impl Binding {
    /// ECS's words, as in placement failures.
    pub fn as_str(self) -> &'static str {
        match self {
            Binding::Cpu => "cpu",
            Binding::Memory => "memory",
            Binding::Ports => "ports",
            Binding::EniSlots => "eni_slots",
        }
    }
}

/// How many tasks of one family fit on an empty host of one type, by each resource. `None`
/// means the resource sets no limit (cpu 0, no static host port, not `awsvpc`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitRow {
    pub instance_type: String,
    pub family: String,
    /// The EC2 workloads that run this family, in name order.
    pub workloads: Vec<String>,
    pub task_cpu_units: u32,
    pub task_memory_mib: u32,
    pub by_cpu: Option<u32>,
    pub by_memory: u32,
    pub by_ports: Option<u32>,
    pub by_eni_slots: Option<u32>,
    /// The smallest of the four: tasks per host.
    pub fit: u32,
    /// The first resource (in the order cpu, memory, ports, ENI slots) that gives `fit`.
    pub binding: Binding,
}

/// One subnet: its usable addresses and what the hosts and NAT gateway in it leave for tasks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubnetRow {
    pub subnet: String,
    pub az: String,
    pub cidr: String,
    /// Addresses in the CIDR minus the 5 AWS reserves.
    pub usable_ips: u32,
    /// Held from the start: host primary ENIs, trunk ENIs, the NAT gateway.
    pub held_by_hosts_and_nat: u64,
    /// Held from the start by load-balancer nodes.
    pub held_by_load_balancers: u64,
    pub free_for_tasks: u64,
}

/// The size each task of a Fargate workload gets (its task-level cpu and memory).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FargateRow {
    pub workload: String,
    pub family: String,
    pub cpu_units: u32,
    pub vcpu: f64,
    pub memory_mib: u32,
}

/// Derives the table for one (validated) scenario.
///
/// ```
/// # use clustersim::scenario::{derived, RawScenario, Scenario};
/// # use clustersim::placement::StrategyRegistry;
/// # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.toml");
/// # let scenario = Scenario::load(&dir, &StrategyRegistry::new()).unwrap();
/// let table = derived::derive(&scenario);
/// assert!(table.host_types.iter().all(|t| t.registered_memory_mib < t.physical_memory_mib));
/// ```
pub fn derive(scenario: &Scenario) -> Derived {
    let trunking_on = scenario.network.as_ref().is_some_and(|n| n.trunking);
    let mut type_indices: Vec<u32> = scenario.host_groups.iter().map(|g| g.instance_type).collect();
    type_indices.sort_unstable();
    type_indices.dedup();

    let host_types: Vec<HostTypeRow> = type_indices
        .iter()
        .map(|&i| {
            let t = &scenario.instance_types[i as usize];
            let groups: Vec<_> = scenario.host_groups.iter().filter(|g| g.instance_type == i).collect();
            let registered = scenario.registered(t);
            HostTypeRow {
                instance_type: t.name.clone(),
                host_groups: groups.iter().map(|g| g.name.clone()).collect(),
                hosts: groups.iter().map(|g| u64::from(g.count_per_az) * g.azs.len() as u64).sum(),
                vcpu: t.vcpu,
                physical_memory_mib: t.memory_mib,
                registered_cpu_units: registered.cpu_units,
                registered_memory_mib: registered.memory_mib,
                registered_memory_fraction: scenario.registered_memory_fraction,
                reserved_memory_mib: scenario.reserved_memory_mib,
                eni_task_limit: t.eni_task_limit(trunking_on),
                trunking: trunking_on && t.trunk_task_limit.is_some(),
            }
        })
        .collect();

    // Families run on EC2, in scenario order, with the workloads that run them.
    let mut ec2_families: Vec<(u32, Vec<String>)> = Vec::new();
    for w in scenario.workloads.iter().filter(|w| w.launch_type == LaunchType::Ec2) {
        let defs: Vec<u32> = match &w.arrivals {
            Arrivals::Trace(records) => records.iter().map(|r| r.task_definition).collect(),
            _ => vec![w.task_definition],
        };
        for d in defs {
            match ec2_families.iter_mut().find(|(f, _)| *f == d) {
                Some((_, names)) if !names.contains(&w.name) => names.push(w.name.clone()),
                Some(_) => {}
                None => ec2_families.push((d, vec![w.name.clone()])),
            }
        }
    }
    ec2_families.sort_by_key(|(d, _)| *d);

    let mut fits = Vec::new();
    for row in &host_types {
        for (d, workloads) in &ec2_families {
            let td = &scenario.task_definitions[*d as usize];
            let cpu = td.reserved_cpu_units();
            let memory = td.reserved_memory_mib();
            let by_cpu = (cpu > 0).then(|| row.registered_cpu_units / cpu);
            let by_memory = row.registered_memory_mib / memory.max(1);
            let ports = td.static_host_ports();
            let by_ports = (!ports.is_empty()).then(|| {
                let reserved = ports.iter().any(|&(p, n)| p == Protocol::Tcp && HostPorts::AGENT_RESERVED_TCP.contains(&n));
                u32::from(!reserved)
            });
            let by_eni_slots = (td.network_mode == NetworkMode::Awsvpc).then_some(row.eni_task_limit);
            let candidates =
                [(Binding::Cpu, by_cpu), (Binding::Memory, Some(by_memory)), (Binding::Ports, by_ports), (Binding::EniSlots, by_eni_slots)];
            let (binding, fit) = candidates
                .iter()
                .filter_map(|&(b, n)| n.map(|n| (b, n)))
                .fold((Binding::Memory, u32::MAX), |best, (b, n)| if n < best.1 { (b, n) } else { best });
            let mut workloads = workloads.clone();
            workloads.sort();
            fits.push(FitRow {
                instance_type: row.instance_type.clone(),
                family: td.family.clone(),
                workloads,
                task_cpu_units: cpu,
                task_memory_mib: memory,
                by_cpu,
                by_memory,
                by_ports,
                by_eni_slots,
                fit,
                binding,
            });
        }
    }

    let subnets = match &scenario.network {
        None => Vec::new(),
        Some(net) => net
            .subnets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut held = u64::from(s.nat_gateway);
                for g in &scenario.host_groups {
                    let t = &scenario.instance_types[g.instance_type as usize];
                    let per_host = 1 + u64::from(net.trunking && t.trunk_task_limit.is_some());
                    let hosts_here = g.subnets.iter().filter(|id| id.0 as usize == i).count() as u64 * u64::from(g.count_per_az);
                    held += hosts_here * per_host;
                }
                let usable = s.cidr.usable();
                let lbs = u64::from(scenario.load_balancer_addresses(crate::model::SubnetId(i as u32)));
                SubnetRow {
                    subnet: s.name.clone(),
                    az: scenario.azs[s.az.0 as usize].clone(),
                    cidr: s.cidr.to_string(),
                    usable_ips: usable,
                    held_by_hosts_and_nat: held,
                    held_by_load_balancers: lbs,
                    free_for_tasks: u64::from(usable).saturating_sub(held + lbs),
                }
            })
            .collect(),
    };

    let fargate = scenario
        .workloads
        .iter()
        .filter(|w| w.launch_type == LaunchType::Fargate)
        .map(|w| {
            let td = &scenario.task_definitions[w.task_definition as usize];
            let cpu_units = td.reserved_cpu_units();
            FargateRow {
                workload: w.name.clone(),
                family: td.family.clone(),
                cpu_units,
                vcpu: f64::from(cpu_units) / 1024.0,
                memory_mib: td.reserved_memory_mib(),
            }
        })
        .collect();

    let capacity_providers = scenario
        .capacity
        .providers
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let groups: Vec<&crate::scenario::HostGroupSpec> = p.host_groups.iter().map(|&g| &scenario.host_groups[g as usize]).collect();
            let names = |f: &dyn Fn(&crate::scenario::HostGroupSpec) -> String| groups.iter().map(|g| f(g)).collect::<Vec<_>>().join(", ");
            ProviderRow {
                name: p.name.clone(),
                host_group: names(&|g| g.name.clone()),
                instance_type: names(&|g| scenario.instance_types[g.instance_type as usize].name.clone()),
                start_size: groups.iter().map(|g| g.count_per_az * g.azs.len() as u32).sum(),
                min_size: p.min_size,
                max_size: p.max_size,
                managed_scaling: p.managed_scaling,
                target_capacity: p.target_capacity,
                instance_warmup_s: p.instance_warmup_period.as_secs_f64(),
                managed_termination_protection: p.managed_termination_protection,
                az_balanced_only: p.az_balanced_only,
                spot: p.spot.map(|sp| SpotRow {
                    interruptions_per_instance_hour: sp.interruptions_per_instance_hour,
                    price_fraction: sp.price_fraction,
                    instance_draining: sp.instance_draining,
                }),
                workloads: scenario
                    .workloads
                    .iter()
                    .zip(&scenario.capacity.workload_strategies)
                    .filter(|(_, st)| st.iter().any(|item| item.provider == i as u32))
                    .map(|(w, _)| w.name.clone())
                    .collect(),
            }
        })
        .collect();
    Derived { host_types, fits, subnets, fargate, capacity_providers }
}
