//! Scenario files: TOML (via serde's `toml::Value`) → a validated [`Scenario`] with every unit
//! resolved and every cross-reference checked.
//!
//! As in ripgrep's lowargs/hiargs split, nothing here runs a simulation: the raw file is parsed,
//! then [`Scenario::from_table`] resolves and validates it. Errors name the file, the full key
//! path and what is allowed ([`ScenarioError`]).
//!
//! Architecture invariant: `scenario` knows nothing of the event loop; it produces plain data.

pub mod autoscaling;
pub mod capacity;
pub mod deployment;
pub mod derived;
mod egress;
mod failures;
pub mod input;
pub mod load_balancer;
mod memory;
mod network;
pub mod plan;
mod reader;
pub mod sweep;
pub mod units;
mod workload;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::engine::{SimTime, stable_hash64};
use crate::metrics::Metric;
use crate::model::instance_types::{self, InstanceType};
use crate::model::taskdef::TaskDefinition;
use crate::model::{AzId, Resources};
use crate::placement::{BUILT_IN_ATTRIBUTES, StrategyRegistry};
use crate::workload::{Arrivals, LaunchType, WorkloadSpec};
use reader::Table;
use workload::{WorkloadContext, read_placement, read_workload};

pub use egress::{
    EgressNetwork, EgressSpec, HostBandwidth, ImagesSpec, LogsSpec, NatChoice, NatOutage, WorkloadEgress, parse_rate_bps, unrouted_warnings,
};
pub use failures::{AzOutage, FailureProcess, FailuresSpec, HostGroupFailures};
pub use memory::{CpuSpec, MemorySpec};
pub use network::{FargateSpec, NetworkSpec, SubnetSpec};
pub use sweep::{RunSpec, SweepAxis};

/// Most hosts per AZ in one host group, and in a scenario. ECS allows 5,000 container instances
/// per cluster (docs/model.md#quotas); studies of larger fleets are still useful, memory permitting.
pub const MAX_HOSTS_PER_AZ: u32 = 100_000;
pub const MAX_HOSTS: u64 = 1_000_000;
/// Longest simulated horizon.
pub const MAX_HORIZON_DAYS: u64 = 1000;
/// Most tasks a run may expect (task ids are 32-bit).
pub const MAX_EXPECTED_TASKS: f64 = 1e9;

/// A problem with the input, naming where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    pub key: String,
    pub message: String,
}

impl ScenarioError {
    pub fn new(file: impl Into<String>, key: impl Into<String>, message: impl Into<String>) -> ScenarioError {
        ScenarioError { file: file.into(), key: key.into(), message: message.into() }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.key, self.message)
        }
    }
}

impl std::error::Error for ScenarioError {}

/// Hosts of one instance type, `count_per_az` in each of `azs`.
#[derive(Debug, Clone)]
pub struct HostGroupSpec {
    pub name: String,
    /// Index into `Scenario::instance_types`.
    pub instance_type: u32,
    pub count_per_az: u32,
    pub azs: Vec<AzId>,
    /// Custom attributes, sorted by name.
    pub attributes: Vec<(String, String)>,
    /// The subnet of each AZ in `azs` (same order); empty when the scenario has no `[network]`.
    pub subnets: Vec<crate::model::SubnetId>,
}

/// The service scheduler's pacing (docs/model.md#runtask-and-the-service-scheduler).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceScheduler {
    /// Tasks a service may launch per minute: 250 on EC2.
    pub launch_rate_per_min: u32,
    /// First retry after a failed placement; doubles on each further failure.
    pub retry_initial: SimTime,
    /// Back-off cap: 15 minutes.
    pub retry_max: SimTime,
    /// The stopping sequence and the rolling-update switches.
    pub lifecycle: deployment::LifecycleSpec,
}

impl Default for ServiceScheduler {
    fn default() -> Self {
        ServiceScheduler {
            launch_rate_per_min: 250,
            // [unsourced] ECS does not publish its first retry delay; 10 s is one scheduler cycle
            // as observed in service events. Configurable.
            retry_initial: SimTime::from_secs(10),
            retry_max: SimTime::from_secs(15 * 60),
            lifecycle: deployment::LifecycleSpec::default(),
        }
    }
}

/// What the report layer draws and compares.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSpec {
    /// Metrics charted against the swept axis.
    pub metrics: Vec<Metric>,
    /// Relative tolerance per metric for `check` (fraction of the baseline mean).
    pub tolerances: Vec<(Metric, f64)>,
    /// Runs whose time series are charted (run ids); empty = replication 0 of each point.
    pub timeseries_runs: Vec<String>,
}

/// A fully resolved scenario: one run's worth of parameters (before a seed is chosen).
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub file: String,
    /// FNV-1a over the bytes of the scenario file and of every file it references (task
    /// definitions, traces), hex: equal hashes mean equal inputs.
    pub file_hash: String,
    pub seed: u64,
    pub horizon: SimTime,
    /// Metrics count only what happens after this time (steady state).
    pub warmup: SimTime,
    pub sample_interval: SimTime,
    pub azs: Vec<String>,
    pub instance_types: Vec<InstanceType>,
    pub host_groups: Vec<HostGroupSpec>,
    /// Registered memory = physical × this − `reserved_memory_mib`
    /// (docs/model.md#what-an-instance-registers-and-what-a-task-reserves).
    pub registered_memory_fraction: f64,
    pub reserved_memory_mib: u32,
    pub task_definitions: Vec<TaskDefinition>,
    pub workloads: Vec<WorkloadSpec>,
    pub service_scheduler: ServiceScheduler,
    pub network: Option<NetworkSpec>,
    pub fargate: FargateSpec,
    /// Image pulls, logs and prices (`[images]`, `[logs]`, `[prices]`, `awsvpc_configuration`).
    pub egress: EgressSpec,
    /// `[memory]`: usage processes and the OOM victim policy; `None` models no usage.
    pub memory: Option<MemorySpec>,
    /// `[cpu]`: CPU demand and CPU-second work; `None` models no CPU contention.
    pub cpu: Option<CpuSpec>,
    /// `[failures]`: host failure processes, AZ outages; `None` models no failures.
    pub failures: Option<FailuresSpec>,
    /// `[load_balancers.<name>]`, in name order.
    pub load_balancers: Vec<load_balancer::LoadBalancerSpec>,
    /// `[capacity_providers.<name>]` and the strategies workloads use them by.
    pub capacity: capacity::CapacitySpec,
    /// Per workload: its service auto scaling (`[workload.<name>.auto_scaling]`).
    pub auto_scaling: Vec<Option<autoscaling::ServiceAutoScaling>>,
    pub report: ReportSpec,
}

impl Scenario {
    /// Whether any service has `deployments`.
    pub fn has_deployments(&self) -> bool {
        self.workloads.iter().any(|w| w.rollout.as_ref().is_some_and(|r| r.has_deployments()))
    }

    /// With host failures, AZ outages or Fargate Spot interruptions and shortages: services'
    /// running counts are followed against their desired counts, and this is the share below
    /// which a service counts as degraded (`failures.degraded_below`, default 0.9).
    pub fn recovery_threshold(&self) -> Option<f64> {
        match &self.failures {
            Some(f) => Some(f.degraded_below),
            None => {
                let spot = &self.capacity.fargate_spot;
                (spot.interruptions_per_task_hour > 0.0 || !spot.shortages.is_empty()).then_some(0.9)
            }
        }
    }

    /// Addresses load-balancer nodes hold in `subnet` for the whole run.
    pub fn load_balancer_addresses(&self, subnet: crate::model::SubnetId) -> u32 {
        self.load_balancers.iter().filter(|l| l.subnets.contains(&subnet)).map(|l| l.addresses_per_az).sum()
    }

    /// Whether the service scheduler follows some service's task health (deployments, a load
    /// balancer, health failures): such runs write `deployments.csv` and the service events.
    pub fn has_managed_services(&self) -> bool {
        self.workloads.iter().any(|w| w.rollout.as_ref().is_some_and(|r| r.is_managed()))
    }

    /// Reads and validates a scenario file with no sweep applied.
    pub fn load(path: &Path, registry: &StrategyRegistry) -> Result<Scenario, ScenarioError> {
        let raw = RawScenario::read(path)?;
        Scenario::from_table(&raw, &raw.table, registry)
    }

    /// Registered resources of one host of type `t`.
    pub fn registered(&self, t: &InstanceType) -> Resources {
        registered(t, self.registered_memory_fraction, self.reserved_memory_mib)
    }

    /// Validates a (possibly sweep-modified) table of `raw`.
    pub fn from_table(raw: &RawScenario, table: &toml::Table, registry: &StrategyRegistry) -> Result<Scenario, ScenarioError> {
        let file = raw.display.as_str();
        let mut root = Table::root(file, table);
        let name = root.str("name")?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) || name.starts_with('.') {
            return Err(root.error(
                "name",
                format!("`{name}` is not a valid name; use letters, digits, '-', '_' and '.' (it names the results folder)"),
            ));
        }
        let seed = root.opt_u64("seed")?.unwrap_or(1);
        let horizon = root.duration("horizon")?;
        if horizon == SimTime::ZERO || horizon > SimTime::from_secs(MAX_HORIZON_DAYS * 86_400) {
            return Err(root.error("horizon", format!("must be greater than zero and at most {MAX_HORIZON_DAYS} days")));
        }
        let warmup = root.opt_duration("warmup")?.unwrap_or(SimTime::ZERO);
        if warmup >= horizon {
            return Err(root.error("warmup", "must be shorter than the horizon"));
        }
        let sample_interval = root.opt_duration("sample_interval")?.unwrap_or(SimTime::from_secs(60));
        if sample_interval == SimTime::ZERO || horizon.0 / sample_interval.0 > 1_000_000 {
            return Err(root.error("sample_interval", "must be > 0 and give at most 1,000,000 samples over the horizon"));
        }

        // Cluster.
        let mut cluster = root.table("cluster")?;
        let azs: Vec<String> = cluster
            .opt_strings("azs")?
            .ok_or_else(|| cluster.error("azs", "missing; e.g. azs = [\"us-east-1a\", \"us-east-1b\", \"us-east-1c\"]"))?
            .into_iter()
            .map(str::to_string)
            .collect();
        if azs.is_empty() || azs.len() > crate::placement::MAX_AZS {
            return Err(cluster.error("azs", format!("give 1 to {} Availability Zones", crate::placement::MAX_AZS)));
        }
        if let Some(dup) = first_duplicate(azs.iter().map(String::as_str)) {
            return Err(cluster.error("azs", format!("`{dup}` is listed twice")));
        }
        if azs.iter().any(|a| a.is_empty()) {
            return Err(cluster.error("azs", "an AZ name is empty"));
        }
        // m4.large registers 7,985 of 8,192 MiB (docs/model.md#what-an-instance-registers-and-what-a-task-reserves).
        let registered_memory_fraction = cluster.opt_f64_in("registered_memory_fraction", 0.5, 1.0)?.unwrap_or(0.975);
        let reserved_memory_mib = cluster.opt_mib("reserved_memory")?.unwrap_or(0);
        let cluster_capacity = capacity::read_cluster_keys(&mut cluster)?;
        cluster.finish()?;

        // Instance types: built-in, plus or overridden by the scenario.
        let mut instance_types = instance_types::built_in();
        for (type_name, mut t) in root.named_tables("instance_types")? {
            let existing = instance_types.iter().position(|x| x.name == type_name);
            let base = existing.map(|i| instance_types[i].clone());
            let vcpu = t
                .opt_u32_range("vcpu", 1, 1024)?
                .or(base.as_ref().map(|b| b.vcpu))
                .ok_or_else(|| t.error("vcpu", "missing (required for a new instance type)"))?;
            let memory_mib = t
                .opt_mib("memory")?
                .or(base.as_ref().map(|b| b.memory_mib))
                .ok_or_else(|| t.error("memory", "missing (required for a new instance type), e.g. \"16GiB\""))?;
            if memory_mib == 0 || memory_mib > 32 * 1024 * 1024 {
                return Err(t.error("memory", format!("must be greater than zero and at most 32 TiB; {}", units::SIZE_UNITS)));
            }
            let max_enis = t.opt_u32_min("max_enis", 1)?.or(base.as_ref().map(|b| b.max_enis)).unwrap_or(2);
            let trunk_task_limit = match t.opt_u64("trunk_task_limit")? {
                Some(0) => None,
                Some(n) => Some(n as u32),
                None => base.as_ref().and_then(|b| b.trunk_task_limit),
            };
            let baseline_gbps = t.opt_f64_in("baseline_gbps", 0.001, 1e4)?.or(base.as_ref().map(|b| b.baseline_gbps)).unwrap_or(1.0);
            let burst_gbps = t.opt_f64_in("burst_gbps", 0.001, 1e4)?.or(base.as_ref().map(|b| b.burst_gbps)).unwrap_or(baseline_gbps);
            let hourly_usd = t.opt_f64_in("hourly_usd", 0.0, 1e4)?.or(base.as_ref().map(|b| b.hourly_usd)).unwrap_or(0.0);
            t.finish()?;
            let it = InstanceType {
                name: type_name.to_string(),
                vcpu,
                memory_mib,
                max_enis,
                trunk_task_limit,
                baseline_gbps,
                burst_gbps,
                hourly_usd,
            };
            match existing {
                Some(i) => instance_types[i] = it,
                None => instance_types.push(it),
            }
        }
        instance_types.sort_by(|a, b| a.name.cmp(&b.name));
        let network = network::read_network(&mut root, &azs)?;
        let fargate = network::read_fargate(&mut root)?;

        // Host groups; a capacity provider's Auto Scaling group may start empty.
        let provider_tables = capacity::provider_tables(&mut root)?;
        let mut host_groups = Vec::new();
        for (group_name, mut g) in root.named_tables("host_groups")? {
            let type_name = g.str("instance_type")?;
            let instance_type = instance_types.iter().position(|t| t.name == type_name).ok_or_else(|| {
                g.error(
                    "instance_type",
                    format!(
                        "unknown instance type `{type_name}`; known: {} (add others under [instance_types.<name>])",
                        instance_types.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
            })? as u32;
            let least = if provider_tables.iter().any(|(_, groups, _)| groups.contains(&group_name)) { 0 } else { 1 };
            let count_per_az = g
                .opt_u32_range("count_per_az", least, MAX_HOSTS_PER_AZ)?
                .ok_or_else(|| g.error("count_per_az", format!("missing (required), a whole number from 1 to {MAX_HOSTS_PER_AZ}")))?;
            let group_azs = match g.opt_strings("azs")? {
                None => (0..azs.len() as u32).map(AzId).collect(),
                Some(list) => {
                    let mut ids = Vec::new();
                    for a in list {
                        let i = azs
                            .iter()
                            .position(|x| x == a)
                            .ok_or_else(|| g.error("azs", format!("`{a}` is not one of cluster.azs ({})", azs.join(", "))))?;
                        ids.push(AzId(i as u32));
                    }
                    ids.sort();
                    ids.dedup();
                    ids
                }
            };
            let mut attributes = Vec::new();
            if let Some(mut attrs) = g.opt_table("attributes")? {
                for (k, v) in attrs.entries() {
                    let v = v.as_str().ok_or_else(|| attrs.error(k, "attribute values are strings"))?;
                    if k.is_empty() || k.len() > 128 || v.is_empty() || v.len() > 128 {
                        return Err(attrs.error(k, "attribute names and values are 1 to 128 characters (ECS limit)"));
                    }
                    if BUILT_IN_ATTRIBUTES.contains(&k) {
                        return Err(attrs.error(k, "this is a built-in attribute; it cannot be set"));
                    }
                    attributes.push((k.to_string(), v.to_string()));
                }
            }
            // Attribute lookups binary-search by name: sort here rather than trust the TOML map's order.
            attributes.sort();
            let subnets = network::host_group_subnets(&mut g, network.as_ref(), &group_azs, &azs)?;
            g.finish()?;
            if registered(&instance_types[instance_type as usize], registered_memory_fraction, reserved_memory_mib).memory_mib == 0 {
                return Err(ScenarioError::new(file, "cluster.reserved_memory", format!("leaves no memory to register on {type_name}")));
            }
            host_groups.push(HostGroupSpec {
                name: group_name.to_string(),
                instance_type,
                count_per_az,
                azs: group_azs,
                attributes,
                subnets,
            });
        }
        let (mut capacity, default_strategy) = capacity::read_providers(provider_tables, &host_groups, cluster_capacity, file)?;
        let held = match &network {
            Some(net) => check_hosts_fit_subnets(file, net, &host_groups, &instance_types)?,
            None => Vec::new(),
        };
        let load_balancers = load_balancer::read_load_balancers(&mut root, network.as_ref(), &azs, &held, horizon)?;
        let mut host_azs: Vec<AzId> = host_groups.iter().flat_map(|g| g.azs.iter().copied()).collect();
        host_azs.sort();
        host_azs.dedup();
        // An Auto Scaling group's instances may all end up in one AZ: each AZ has room for its maximum.
        let total_hosts: u64 = host_groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let per_az = capacity.provider_of_group(i as u32).map_or(g.count_per_az, |p| capacity.providers[p as usize].max_size);
                u64::from(per_az) * g.azs.len() as u64
            })
            .sum();
        if total_hosts > MAX_HOSTS {
            return Err(root.error("host_groups", format!("{total_hosts} hosts; at most {MAX_HOSTS} in one scenario")));
        }
        let mut known_attributes: BTreeSet<&str> = BUILT_IN_ATTRIBUTES.into_iter().collect();
        for g in &host_groups {
            known_attributes.extend(g.attributes.iter().map(|(k, _)| k.as_str()));
        }

        // Task definitions.
        let mut task_definitions: Vec<TaskDefinition> = Vec::new();
        let paths = root
            .opt_strings("task_definitions")?
            .ok_or_else(|| root.error("task_definitions", "missing; list the task-definition JSON files, e.g. [\"taskdefs/web.json\"]"))?;
        let mut input_hash = raw.hash;
        for (i, rel) in paths.iter().enumerate() {
            let key = format!("task_definitions[{i}]");
            let path = raw.dir.join(rel);
            let text = input::read_text_file(&path).map_err(|e| ScenarioError::new(file, &key, e))?;
            input_hash = combine_hash(input_hash, &text);
            let td = TaskDefinition::from_json_str(&text, &path.display().to_string())
                .map_err(|e| ScenarioError::new(e.file.clone(), e.json_path.clone(), e.message.clone()))?;
            if task_definitions.iter().any(|t| t.family == td.family) {
                return Err(ScenarioError::new(file, key, format!("family `{}` is defined by two files", td.family)));
            }
            task_definitions.push(td);
        }

        let service_scheduler = match root.opt_table("service_scheduler")? {
            None => ServiceScheduler::default(),
            Some(mut s) => {
                let d = ServiceScheduler::default();
                let v = ServiceScheduler {
                    launch_rate_per_min: s.opt_u32_min("launch_rate_per_min", 1)?.unwrap_or(d.launch_rate_per_min),
                    retry_initial: s.opt_duration("retry_initial")?.unwrap_or(d.retry_initial),
                    retry_max: s.opt_duration("retry_max")?.unwrap_or(d.retry_max),
                    lifecycle: deployment::read_lifecycle(&mut s)?,
                };
                if v.retry_initial == SimTime::ZERO || v.retry_max < v.retry_initial {
                    return Err(s.error("retry_initial", "must be > 0 and not above retry_max"));
                }
                s.finish()?;
                v
            }
        };

        // Default placement for workloads that set none.
        let default_placement = match root.opt_table("placement")? {
            None => None,
            Some(mut p) => {
                let spec = read_placement(&mut p, registry, &known_attributes)?;
                p.finish()?;
                Some(spec)
            }
        };

        // Workloads.
        let mut workloads = Vec::new();
        let mut workload_egress = Vec::new();
        let mut auto_scaling = Vec::new();
        for (wname, mut w) in root.named_tables("workload")? {
            let ctx = WorkloadContext {
                raw,
                task_definitions: &task_definitions,
                default_placement: &default_placement,
                registry,
                known_attributes: &known_attributes,
                horizon,
                network: network.as_ref(),
                load_balancers: &load_balancers,
                host_azs: &host_azs,
                azs: &azs,
            };
            let explicit_launch_type = w.has("launch_type");
            let spec = read_workload(wname, &mut w, &ctx, &mut input_hash)?;
            let desired = match spec.arrivals {
                Arrivals::Service { desired_count } => Some(desired_count),
                _ => None,
            };
            let scaling = autoscaling::read_auto_scaling(&mut w, desired)?;
            auto_scaling.push(scaling);
            let strategy = capacity::read_workload_strategy(&mut w, &capacity, &default_strategy, explicit_launch_type, spec.launch_type)?;
            capacity.workload_strategies.push(strategy);
            workload_egress.push(egress::read_workload_egress(&mut w, spec.launch_type == LaunchType::Fargate, !spec.subnets.is_empty())?);
            workloads.push(spec);
            w.finish()?;
        }
        if workloads.len() > usize::from(u16::MAX) || task_definitions.len() > usize::from(u16::MAX) {
            return Err(root.error("workload", "at most 65,535 workloads and task definitions"));
        }
        if workloads.is_empty() {
            return Err(root.error("workload", "at least one workload is required, e.g. [workload.web] kind = \"service\""));
        }
        // A Fargate-only cluster needs no container instances.
        if host_groups.is_empty()
            && let Some(w) = workloads.iter().find(|w| w.launch_type == LaunchType::Ec2)
        {
            return Err(root.error(
                "host_groups",
                format!(
                    "workload `{}` runs on EC2, so at least one host group is required, e.g. [host_groups.main] \
                     instance_type = \"m5.xlarge\", count_per_az = 10 (a cluster of only Fargate workloads needs none)",
                    w.name
                ),
            ));
        }

        let expected_tasks: f64 = workloads
            .iter()
            .map(|w| match &w.arrivals {
                Arrivals::Poisson(r) => r.mean_rate() * horizon.as_secs_f64(),
                Arrivals::Batch { count, .. } => f64::from(*count),
                Arrivals::Trace(rows) => rows.iter().map(|r| f64::from(r.count)).sum(),
                Arrivals::Service { desired_count } => f64::from(*desired_count),
            })
            .sum();
        if expected_tasks > MAX_EXPECTED_TASKS {
            return Err(root.error(
                "horizon",
                format!("the workloads would launch about {expected_tasks:.3e} tasks; at most {MAX_EXPECTED_TASKS:e} per run"),
            ));
        }
        let mut egress = EgressSpec { workloads: workload_egress, ..egress::read_egress(&mut root)? };
        // `[failures]`: NAT gateway outages belong to egress, host failures and AZ outages to the
        // failures model; one table, read once.
        let mut failures = None;
        if let Some(mut f) = root.opt_table("failures")? {
            let subnets = network.as_ref().map_or(&[][..], |n| n.subnets.as_slice());
            egress.nat_outages = egress::read_nat_outages(&mut f, file, &azs, subnets, horizon, egress.enabled)?;
            let asg_slots: Vec<Option<u32>> = (0..host_groups.len() as u32)
                .map(|g| capacity.provider_of_group(g).map(|p| capacity.providers[p as usize].max_size))
                .collect();
            let spec = failures::read_failures(&mut f, &host_groups, &asg_slots, &azs, horizon)?;
            failures::check_outages_apart(&f, &spec, &egress.nat_outages, &azs)?;
            f.finish()?;
            failures = Some(spec);
        }
        capacity.fargate_spot = capacity::read_fargate_spot(&mut root, &azs, horizon)?;
        if capacity.fargate_spot != capacity::FargateSpotSpec::default() && !capacity.uses_spot() {
            return Err(root.error("fargate_spot", "no workload's capacity_provider_strategy names FARGATE_SPOT"));
        }
        if let Some(w) = workloads.iter().zip(&capacity.workload_strategies).find(|(w, s)| {
            s.iter().any(|i| i.provider == capacity::FARGATE_SPOT)
                && task_definitions[w.task_definition as usize].cpu_architecture == crate::model::taskdef::CpuArchitecture::Arm64
        }) {
            return Err(ScenarioError::new(
                file,
                format!("workload.{}.capacity_provider_strategy", w.0.name),
                "Fargate Spot runs only Linux x86_64 tasks; the task definition is ARM64",
            ));
        }
        let memory = memory::read_memory(&mut root, &task_definitions)?;
        for (w, scaling) in workloads.iter().zip(&auto_scaling) {
            let Some(scaling) = scaling else { continue };
            let td = w.task_definition as usize;
            let modelled = memory.as_ref().is_some_and(|m| m.process_of[td].iter().any(Option::is_some));
            if let Some(i) = scaling.policies.iter().position(|p| p.metric == autoscaling::ScalingMetric::Memory)
                && !modelled
            {
                return Err(ScenarioError::new(
                    file,
                    format!("workload.{}.auto_scaling.policies[{i}].metric", w.name),
                    format!(
                        "memory tracking needs the memory the tasks use: give `{}` a usage model in [memory.{}.<container>]",
                        task_definitions[td].family, task_definitions[td].family
                    ),
                ));
            }
        }
        let cpu = memory::read_cpu(&mut root, file, &task_definitions, &workloads)?;
        let report = read_report(&mut root)?;
        // The sweep is expanded before this function runs; its table is read by `sweep`.
        let _ = root.opt_value("sweep");
        // So is the `[plan]` table, by `plan`: a plan scenario also runs as written.
        let _ = root.opt_value("plan");
        root.finish()?;

        let scenario = Scenario {
            name: name.to_string(),
            file: file.to_string(),
            file_hash: format!("{input_hash:016x}"),
            seed,
            horizon,
            warmup,
            sample_interval,
            azs,
            instance_types,
            host_groups,
            registered_memory_fraction,
            reserved_memory_mib,
            task_definitions,
            workloads,
            service_scheduler,
            network,
            fargate,
            egress,
            memory,
            cpu,
            failures,
            load_balancers,
            capacity,
            auto_scaling,
            report,
        };
        scenario.check_every_task_fits_some_host()?;
        Ok(scenario)
    }

    /// A task that fits no host type at all would fail every placement: report it before any
    /// simulated time passes.
    fn check_every_task_fits_some_host(&self) -> Result<(), ScenarioError> {
        for w in self.workloads.iter().filter(|w| w.launch_type == LaunchType::Ec2) {
            let mut defs: Vec<u32> = vec![w.task_definition];
            if let Arrivals::Trace(records) = &w.arrivals {
                defs = records.iter().map(|r| r.task_definition).collect();
                defs.sort_unstable();
                defs.dedup();
            }
            for d in defs {
                let td = &self.task_definitions[d as usize];
                let need = Resources { cpu_units: td.reserved_cpu_units(), memory_mib: td.reserved_memory_mib() };
                let fits = self.host_groups.iter().any(|g| need.fits_in(self.registered(&self.instance_types[g.instance_type as usize])));
                if !fits {
                    let largest = self.host_groups.iter().map(|g| {
                        let t = &self.instance_types[g.instance_type as usize];
                        let r = self.registered(t);
                        format!("{} ({} CPU units, {} MiB)", t.name, r.cpu_units, r.memory_mib)
                    });
                    return Err(ScenarioError::new(
                        &self.file,
                        format!("workload.{}.task_definition", w.name),
                        format!(
                            "task definition `{}` needs {} CPU units and {} MiB, which no host type of the scenario can register: {}",
                            td.family,
                            need.cpu_units,
                            need.memory_mib,
                            largest.collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Number of hosts the scenario launches.
    pub fn host_count(&self) -> u64 {
        self.host_groups.iter().map(|g| u64::from(g.count_per_az) * g.azs.len() as u64).sum()
    }
}

/// Folds a referenced file's contents into the input hash.
pub(super) fn combine_hash(hash: u64, text: &str) -> u64 {
    let mut bytes = hash.to_le_bytes().to_vec();
    bytes.extend_from_slice(&stable_hash64(text.as_bytes()).to_le_bytes());
    stable_hash64(&bytes)
}

/// The hosts a group launches into a subnet must fit it, with their trunk ENIs and the NAT
/// gateway. Returns, per subnet, the addresses they hold.
fn check_hosts_fit_subnets(
    file: &str,
    net: &NetworkSpec,
    groups: &[HostGroupSpec],
    types: &[InstanceType],
) -> Result<Vec<u64>, ScenarioError> {
    let mut held = Vec::new();
    for (i, subnet) in net.subnets.iter().enumerate() {
        let mut needed = u64::from(subnet.nat_gateway);
        let mut first_group = None;
        for g in groups {
            let per_host = 1 + u64::from(net.trunking && types[g.instance_type as usize].trunk_task_limit.is_some());
            let hosts_here = g.subnets.iter().filter(|s| s.0 as usize == i).count() as u64 * u64::from(g.count_per_az);
            if hosts_here > 0 {
                first_group.get_or_insert(g.name.as_str());
            }
            needed += hosts_here * per_host;
        }
        if needed > u64::from(subnet.cidr.usable()) {
            return Err(ScenarioError::new(
                file,
                format!("host_groups.{}.subnets", first_group.unwrap_or("?")),
                format!(
                    "subnet `{}` ({}, {} usable addresses) cannot hold its hosts: they need {needed} (primary ENIs{}{})",
                    subnet.name,
                    subnet.cidr,
                    subnet.cidr.usable(),
                    if net.trunking { ", trunk ENIs" } else { "" },
                    if subnet.nat_gateway { ", the NAT gateway" } else { "" }
                ),
            ));
        }
        held.push(needed);
    }
    Ok(held)
}

fn registered(t: &InstanceType, fraction: f64, reserved_mib: u32) -> Resources {
    let mem = (f64::from(t.memory_mib) * fraction).floor() as u32;
    Resources { cpu_units: t.cpu_units(), memory_mib: mem.saturating_sub(reserved_mib) }
}

fn first_duplicate<'a>(items: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = BTreeSet::new();
    items.into_iter().find(|i| !seen.insert(*i))
}

/// The file as read, before validation; sweeps modify copies of `table`.
#[derive(Debug, Clone)]
pub struct RawScenario {
    pub path: PathBuf,
    /// The path as the user wrote it, for messages.
    pub display: String,
    pub dir: PathBuf,
    pub hash: u64,
    pub table: toml::Table,
}

impl RawScenario {
    pub fn read(path: &Path) -> Result<RawScenario, ScenarioError> {
        let display = path.display().to_string();
        let bytes = input::read_regular_file(path, input::MAX_INPUT_BYTES)
            .map_err(|e| ScenarioError::new(&display, "", format!("cannot read the scenario file: {e}")))?;
        let text = input::utf8_text(bytes.clone()).map_err(|e| ScenarioError::new(&display, "", e))?;
        Self::parse(&text, path, stable_hash64(&bytes))
    }

    pub fn parse(text: &str, path: &Path, hash: u64) -> Result<RawScenario, ScenarioError> {
        let display = path.display().to_string();
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map_or((0, 0), |s| line_col(text, s.start));
            ScenarioError::new(&display, format!("line {line}, column {col}"), format!("not valid TOML: {}", e.message()))
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(RawScenario { path: path.to_path_buf(), display, dir, hash, table })
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn read_report(root: &mut Table<'_>) -> Result<ReportSpec, ScenarioError> {
    let mut spec = ReportSpec {
        metrics: vec![Metric::PlacementFailureRate, Metric::HostsUsedMean],
        tolerances: Vec::new(),
        timeseries_runs: Vec::new(),
    };
    let Some(mut r) = root.opt_table("report")? else { return Ok(spec) };
    if let Some(ids) = r.opt_strings("timeseries_runs")? {
        // Checked against the plan's run ids once the sweep is expanded.
        spec.timeseries_runs = ids.into_iter().map(str::to_string).collect();
    }
    if let Some(names) = r.opt_strings("metrics")? {
        spec.metrics.clear();
        for n in names {
            spec.metrics.push(Metric::from_name(n).ok_or_else(|| {
                r.error(
                    "metrics",
                    format!("unknown metric `{n}`; allowed: {}", Metric::ALL.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")),
                )
            })?);
        }
    }
    if let Some(mut tol) = r.opt_table("tolerance")? {
        for (k, v) in tol.entries() {
            let m = Metric::from_name(k).ok_or_else(|| {
                tol.error(k, format!("unknown metric; allowed: {}", Metric::ALL.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")))
            })?;
            let f = v
                .as_float()
                .or(v.as_integer().map(|i| i as f64))
                .filter(|f| *f >= 0.0)
                .ok_or_else(|| tol.error(k, "expected a relative tolerance ≥ 0, e.g. 0.05 for 5 %"))?;
            spec.tolerances.push((m, f));
        }
    }
    r.finish()?;
    Ok(spec)
}
