//! `[capacity_providers.<name>]` (Auto Scaling group capacity providers with managed scaling),
//! the cluster's default capacity provider strategy, a workload's `capacity_provider_strategy`
//! and how long tasks may wait in PROVISIONING for capacity
//! (docs/model.md#capacity-providers-and-cluster-auto-scaling).

use toml::Value;

use super::reader::Table;
use super::{HostGroupSpec, ScenarioError};
use crate::engine::SimTime;

/// Limits ECS puts on a strategy and on managed scaling.
pub const MAX_STRATEGY_ITEMS: usize = 20;
pub const MAX_BASE: u32 = 100_000;
pub const MAX_WEIGHT: u32 = 1000;
pub const MAX_SCALING_STEP: u32 = 10_000;
pub const MAX_WARMUP_S: u64 = 10_000;
/// Host groups a capacity provider can name: the first 63 (placement keeps them in a 64-bit
/// mask whose last bit stands for every later group).
pub const MAX_PROVIDER_HOST_GROUPS: usize = 63;

/// One Auto Scaling group capacity provider: its group of instances and how ECS scales it.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityProviderSpec {
    pub name: String,
    /// Index into `Scenario::host_groups`: the instances the ASG launches. Its `count_per_az` is
    /// the group's size per AZ at the start.
    pub host_group: u32,
    /// Every host group of the ASG, one per instance type, in launch priority (the first is
    /// `host_group`): a mixed-instances group with the `prioritized` allocation strategy.
    pub host_groups: Vec<u32>,
    pub min_size: u32,
    pub max_size: u32,
    /// Managed scaling: ECS's CapacityProviderReservation target tracking. Off: the ASG keeps its
    /// initial size and tasks that fit nowhere fail at once.
    pub managed_scaling: bool,
    /// Percent, 1 to 100.
    pub target_capacity: u32,
    pub minimum_scaling_step_size: u32,
    pub maximum_scaling_step_size: u32,
    pub instance_warmup_period: SimTime,
    /// A scale-out's size when tasks wait: what they need (`true`), or always the minimum step.
    pub bin_pack_estimate: bool,
    /// Only instances without tasks are terminated at scale-in; without it the ASG terminates
    /// instances by its own policy.
    pub managed_termination_protection: bool,
    /// Managed instance draining: an instance chosen for termination drains first (its service
    /// tasks are replaced elsewhere, the others run to their end) and terminates once empty.
    /// Off: it terminates at once, tasks and all.
    pub managed_draining: bool,
    /// EC2 launch to ECS registration, drawn uniformly in [min, max].
    pub instance_launch_time: (SimTime, SimTime),
    /// The group runs EC2 Spot instances.
    pub spot: Option<Ec2SpotSpec>,
    /// The Auto Scaling group's AZ distribution: "balanced only" keeps launching in the AZ it
    /// balances towards even while launches there fail; off ("balanced best effort", AWS's
    /// default), it launches in another AZ instead.
    pub az_balanced_only: bool,
}

/// EC2 Spot instances in an Auto Scaling group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ec2SpotSpec {
    /// Interruptions per instance-hour: each instance in service gets its two-minute notice after
    /// an exponential time of this rate.
    pub interruptions_per_instance_hour: f64,
    /// The Spot price as a fraction of the On-Demand price (Spot prices move; AWS publishes no
    /// fixed discount).
    pub price_fraction: f64,
    /// `ECS_ENABLE_SPOT_INSTANCE_DRAINING`: the agent sets the instance DRAINING at the notice, so
    /// service tasks are replaced at once (default false: they die with the instance).
    pub instance_draining: bool,
}

/// Most instance types (host groups) in one Auto Scaling group's mixed-instances policy.
pub const MAX_INSTANCE_TYPES: usize = 40;

/// The reserved Fargate capacity providers, as `StrategyItem::provider` values.
pub const FARGATE: u32 = u32::MAX;
pub const FARGATE_SPOT: u32 = u32::MAX - 1;

/// The Fargate provider a task ran on.
pub fn fargate_provider(spot: bool) -> u32 {
    if spot { FARGATE_SPOT } else { FARGATE }
}

/// One item of a capacity provider strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrategyItem {
    /// Index into `CapacitySpec::providers`, or [`FARGATE`] / [`FARGATE_SPOT`].
    pub provider: u32,
    pub base: u32,
    pub weight: u32,
}

/// Everything about capacity providers in a scenario.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CapacitySpec {
    /// In name order.
    pub providers: Vec<CapacityProviderSpec>,
    /// Per workload: the strategy its tasks use (its own, or the cluster's default when it sets
    /// no launch type); empty = launch type, no capacity provider.
    pub workload_strategies: Vec<Vec<StrategyItem>>,
    /// How long a task waits in PROVISIONING for capacity before ECS stops it, uniform in
    /// [min, max].
    pub provisioning_timeout: (SimTime, SimTime),
    /// Tasks that may wait in PROVISIONING in the cluster at once; more fail at once.
    pub max_provisioning_tasks: u32,
    /// `[fargate_spot]`: interruptions and capacity shortages of FARGATE_SPOT.
    pub fargate_spot: FargateSpotSpec,
}

/// How Fargate Spot takes capacity back.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FargateSpotSpec {
    /// Each running Spot task is interrupted at this rate (per task-hour; exponential times).
    pub interruptions_per_task_hour: f64,
    /// Windows (AZ, start, end) in which Fargate Spot has no capacity in an AZ.
    pub shortages: Vec<(crate::model::AzId, SimTime, SimTime)>,
}

impl CapacitySpec {
    /// No Auto Scaling group provider and no workload with a strategy: nothing to simulate.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty() && self.workload_strategies.iter().all(Vec::is_empty)
    }

    /// Whether any workload uses FARGATE_SPOT.
    pub fn uses_spot(&self) -> bool {
        self.workload_strategies.iter().flatten().any(|s| s.provider == FARGATE_SPOT)
    }

    /// The provider whose ASG owns host group `group`, if any.
    pub fn provider_of_group(&self, group: u32) -> Option<u32> {
        self.providers.iter().position(|p| p.host_groups.contains(&group)).map(|i| i as u32)
    }
}

/// The cluster-level keys, read before the providers exist: kept raw and resolved later.
pub(super) struct ClusterCapacityKeys<'a> {
    default_strategy: Option<&'a [Value]>,
    provisioning_timeout: Option<(SimTime, SimTime)>,
    max_provisioning_tasks: Option<u32>,
}

/// Reads `default_capacity_provider_strategy`, `provisioning_timeout` and
/// `max_provisioning_tasks` from `[cluster]`.
pub(super) fn read_cluster_keys<'a>(cluster: &mut Table<'a>) -> Result<ClusterCapacityKeys<'a>, ScenarioError> {
    let default_strategy = cluster.opt_array("default_capacity_provider_strategy")?;
    let provisioning_timeout = read_range(cluster, "provisioning_timeout")?;
    let max_provisioning_tasks = cluster.opt_u32_range("max_provisioning_tasks", 1, 100_000)?;
    Ok(ClusterCapacityKeys { default_strategy, provisioning_timeout, max_provisioning_tasks })
}

/// `{ min = "10m", max = "30m" }`: a uniform range of durations.
fn read_range(t: &mut Table<'_>, key: &str) -> Result<Option<(SimTime, SimTime)>, ScenarioError> {
    let Some(mut r) = t.opt_table(key)? else { return Ok(None) };
    let min = r.duration("min")?;
    let max = r.duration("max")?;
    r.finish()?;
    if max < min {
        return Err(t.error(key, "max must not be below min"));
    }
    Ok(Some((min, max)))
}

/// A provider's name, its host groups' names and its table.
pub(super) type ProviderTable<'a> = (&'a str, Vec<&'a str>, Table<'a>);

/// The provider tables, read before the host groups so that a provider's group may start empty.
/// Returns each table with the host group it names.
pub(super) fn provider_tables<'a>(root: &mut Table<'a>) -> Result<Vec<ProviderTable<'a>>, ScenarioError> {
    let mut out = Vec::new();
    for (name, mut t) in root.named_tables("capacity_providers")? {
        if name.starts_with("FARGATE") {
            return Err(t.error(
                "host_group",
                "FARGATE and FARGATE_SPOT are reserved provider names; Fargate workloads use launch_type = \"FARGATE\" in this version",
            ));
        }
        let groups = match (t.opt_str("host_group")?, t.opt_strings("host_groups")?) {
            (Some(g), None) => vec![g],
            (None, Some(gs)) if !gs.is_empty() && gs.len() <= MAX_INSTANCE_TYPES => gs,
            (None, Some(_)) => {
                return Err(t.error("host_groups", format!("1 to {MAX_INSTANCE_TYPES} host groups, one per instance type")));
            }
            (Some(_), Some(_)) => return Err(t.error("host_groups", "give host_group or host_groups, not both")),
            (None, None) => return Err(t.error("host_group", "missing (required): the host group whose instances the ASG launches")),
        };
        out.push((name, groups, t));
    }
    Ok(out)
}

/// Resolves the providers against the host groups and reads their scaling settings. Returns the
/// spec (workload strategies still to fill in) and the cluster's default strategy.
pub(super) fn read_providers(
    tables: Vec<ProviderTable<'_>>,
    groups: &[HostGroupSpec],
    cluster: ClusterCapacityKeys<'_>,
    file: &str,
) -> Result<(CapacitySpec, Vec<StrategyItem>), ScenarioError> {
    let mut providers = Vec::new();
    for (name, group_names, mut t) in tables {
        let key = if t.has("host_groups") { "host_groups" } else { "host_group" };
        let mut host_groups: Vec<u32> = Vec::new();
        for &group_name in &group_names {
            let host_group = groups.iter().position(|g| g.name == group_name).ok_or_else(|| {
                let known: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
                t.error(key, format!("unknown host group `{group_name}`; declared: {}", known.join(", ")))
            })?;
            if host_group >= MAX_PROVIDER_HOST_GROUPS {
                return Err(t.error(
                    key,
                    format!("a capacity provider's host group must be among the first {MAX_PROVIDER_HOST_GROUPS} (in name order)"),
                ));
            }
            let taken = providers.iter().find(|p: &&CapacityProviderSpec| p.host_groups.contains(&(host_group as u32)));
            if let Some(other) = taken {
                return Err(
                    t.error(key, format!("host group `{group_name}` is already the Auto Scaling group of provider `{}`", other.name))
                );
            }
            if host_groups.contains(&(host_group as u32)) {
                return Err(t.error(key, format!("host group `{group_name}` is listed twice")));
            }
            host_groups.push(host_group as u32);
        }
        let host_group = host_groups[0] as usize;
        let group_name = group_names.join(", ");
        let initial: u32 = host_groups.iter().map(|&i| groups[i as usize].count_per_az * groups[i as usize].azs.len() as u32).sum();
        let max_size = t.opt_u32_range("max_size", 1, super::MAX_HOSTS_PER_AZ)?.ok_or_else(|| {
            t.error("max_size", format!("missing (required): the Auto Scaling group's maximum size, 1 to {}", super::MAX_HOSTS_PER_AZ))
        })?;
        let min_size = t.opt_u32_range("min_size", 0, max_size)?.unwrap_or(0);
        if initial < min_size || initial > max_size {
            return Err(t.error(
                "max_size",
                format!(
                    "host group `{group_name}` starts with {initial} instances (count_per_az × AZs), outside min_size {min_size} to max_size {max_size}"
                ),
            ));
        }
        let managed_scaling = t.opt_bool("managed_scaling")?.unwrap_or(true);
        let target_capacity = t.opt_u32_range("target_capacity", 1, 100)?.unwrap_or(100);
        let minimum_scaling_step_size = t.opt_u32_range("minimum_scaling_step_size", 1, MAX_SCALING_STEP)?.unwrap_or(1);
        let maximum_scaling_step_size = t.opt_u32_range("maximum_scaling_step_size", 1, MAX_SCALING_STEP)?.unwrap_or(MAX_SCALING_STEP);
        if maximum_scaling_step_size < minimum_scaling_step_size {
            return Err(t.error("maximum_scaling_step_size", "must not be below minimum_scaling_step_size"));
        }
        let instance_warmup_period = t.opt_duration("instance_warmup_period")?.unwrap_or(SimTime::from_secs(300));
        if instance_warmup_period > SimTime::from_secs(MAX_WARMUP_S) {
            return Err(t.error("instance_warmup_period", format!("at most {MAX_WARMUP_S} s (ECS limit)")));
        }
        let bin_pack_estimate = match t.opt_str("scale_out_estimate")? {
            None | Some("bin_pack") => true,
            Some("minimum_step") => false,
            Some(other) => return Err(t.error("scale_out_estimate", format!("unknown value `{other}`; allowed: bin_pack, minimum_step"))),
        };
        let managed_termination_protection = t.opt_bool("managed_termination_protection")?.unwrap_or(false);
        let managed_draining = t.opt_bool("managed_draining")?.unwrap_or(true);
        if managed_termination_protection && !managed_scaling {
            return Err(t.error("managed_termination_protection", "needs managed_scaling = true (ECS refuses it otherwise)"));
        }
        // [observed] EC2 launch, boot and agent registration take about a minute to a minute and a half.
        let instance_launch_time = read_range(&mut t, "instance_launch_time")?.unwrap_or((SimTime::from_secs(60), SimTime::from_secs(90)));
        let spot = match t.opt_table("spot")? {
            None => None,
            Some(mut sp) => {
                let rate = sp.opt_f64_in("interruptions_per_instance_hour", 0.0, 1000.0)?.ok_or_else(|| {
                    sp.error("interruptions_per_instance_hour", "missing (required): interruption notices per instance-hour, e.g. 0.01")
                })?;
                let price_fraction = sp.opt_f64_in("price_fraction", 0.0, 1.0)?.ok_or_else(|| {
                    sp.error(
                        "price_fraction",
                        "missing (required): the Spot price over the On-Demand price, e.g. 0.35 (Spot prices vary by type, AZ and time)",
                    )
                })?;
                let instance_draining = sp.opt_bool("instance_draining")?.unwrap_or(false);
                sp.finish()?;
                Some(Ec2SpotSpec { interruptions_per_instance_hour: rate, price_fraction, instance_draining })
            }
        };
        let az_balanced_only = match t.opt_str("az_distribution")? {
            None | Some("balanced-best-effort") => false,
            Some("balanced-only") => true,
            Some(other) => {
                return Err(t.error("az_distribution", format!("unknown value `{other}`; allowed: balanced-best-effort, balanced-only")));
            }
        };
        t.finish()?;
        providers.push(CapacityProviderSpec {
            name: name.to_string(),
            host_group: host_group as u32,
            host_groups,
            min_size,
            max_size,
            managed_scaling,
            target_capacity,
            minimum_scaling_step_size,
            maximum_scaling_step_size,
            instance_warmup_period,
            bin_pack_estimate,
            managed_termination_protection,
            managed_draining,
            instance_launch_time,
            spot,
            az_balanced_only,
        });
    }
    let default_strategy = match cluster.default_strategy {
        None => Vec::new(),
        Some(items) => read_strategy(items, &providers, file, "cluster.default_capacity_provider_strategy")?,
    };
    let spec = CapacitySpec {
        providers,
        workload_strategies: Vec::new(),
        provisioning_timeout: cluster.provisioning_timeout.unwrap_or((SimTime::from_secs(600), SimTime::from_secs(1800))),
        max_provisioning_tasks: cluster.max_provisioning_tasks.unwrap_or(300),
        fargate_spot: FargateSpotSpec::default(),
    };
    Ok((spec, default_strategy))
}

/// Reads a strategy array with ECS's rules: 1 to 20 items, known providers each once, at most
/// one with a base, weights 0 to 1000 and not all 0.
pub(super) fn read_strategy(
    items: &[Value],
    providers: &[CapacityProviderSpec],
    file: &str,
    key: &str,
) -> Result<Vec<StrategyItem>, ScenarioError> {
    let err = |k: String, m: String| ScenarioError::new(file, k, m);
    if items.is_empty() || items.len() > MAX_STRATEGY_ITEMS {
        return Err(err(
            key.to_string(),
            format!("give 1 to {MAX_STRATEGY_ITEMS} items, e.g. [{{ capacity_provider = \"asg\", weight = 1 }}]"),
        ));
    }
    let mut out: Vec<StrategyItem> = Vec::new();
    for (i, v) in items.iter().enumerate() {
        let path = format!("{key}[{i}]");
        let Value::Table(map) = v else {
            return Err(err(path, format!("expected a table {{ capacity_provider, base, weight }}, found {}", v.type_str())));
        };
        let mut t = Table::nested(file, path.clone(), map);
        let name = t.str("capacity_provider")?;
        let provider = match name {
            "FARGATE" => FARGATE,
            "FARGATE_SPOT" => FARGATE_SPOT,
            _ => providers.iter().position(|p| p.name == name).ok_or_else(|| {
                let known: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
                t.error(
                    "capacity_provider",
                    format!(
                        "unknown capacity provider `{name}`; declared under [capacity_providers]: {}, or FARGATE, FARGATE_SPOT",
                        if known.is_empty() { "none".to_string() } else { known.join(", ") }
                    ),
                )
            })? as u32,
        };
        let base = t.opt_u32_range("base", 0, MAX_BASE)?.unwrap_or(0);
        // The API's default weight is 0 (the console's is 1).
        let weight = t.opt_u32_range("weight", 0, MAX_WEIGHT)?.unwrap_or(0);
        t.finish()?;
        if out.iter().any(|o| o.provider == provider) {
            return Err(err(path, format!("capacity provider `{name}` is listed twice")));
        }
        if base > 0 && out.iter().any(|o| o.base > 0) {
            return Err(err(format!("{path}.base"), "only one item of a strategy may have a base (ECS)".to_string()));
        }
        out.push(StrategyItem { provider, base, weight });
    }
    let fargate = |o: &StrategyItem| o.provider == FARGATE || o.provider == FARGATE_SPOT;
    if out.iter().any(fargate) && !out.iter().all(fargate) {
        return Err(err(key.to_string(), "a strategy holds Auto Scaling group providers or Fargate providers, not both (ECS)".to_string()));
    }
    if out.iter().all(|o| o.weight == 0) {
        return Err(err(
            key.to_string(),
            "every weight is 0: ECS refuses the strategy (RunTask and CreateService fail); give one item weight ≥ 1".to_string(),
        ));
    }
    Ok(out)
}

/// A workload's strategy: its own `capacity_provider_strategy`, else the cluster's default when
/// it sets no launch type (an explicit launch type bypasses capacity providers, as in ECS).
pub(super) fn read_workload_strategy(
    w: &mut Table<'_>,
    capacity: &CapacitySpec,
    default_strategy: &[StrategyItem],
    explicit_launch_type: bool,
    launch_type: crate::workload::LaunchType,
) -> Result<Vec<StrategyItem>, ScenarioError> {
    let fargate = launch_type == crate::workload::LaunchType::Fargate;
    let is_fargate_item = |s: &StrategyItem| s.provider == FARGATE || s.provider == FARGATE_SPOT;
    let Some(items) = w.opt_array("capacity_provider_strategy")? else {
        if explicit_launch_type || default_strategy.is_empty() {
            return Ok(Vec::new());
        }
        if default_strategy.iter().all(is_fargate_item) != fargate {
            return Err(ScenarioError::new(
                w.file(),
                w.key("launch_type"),
                format!(
                    "the cluster's default_capacity_provider_strategy names {} providers, but this workload runs on {}; \
                     set its launch_type or its own capacity_provider_strategy",
                    if fargate { "Auto Scaling group" } else { "Fargate" },
                    if fargate { "Fargate" } else { "EC2" }
                ),
            ));
        }
        return Ok(default_strategy.to_vec());
    };
    if explicit_launch_type {
        return Err(w.error(
            "capacity_provider_strategy",
            "a workload sets launch_type or capacity_provider_strategy, not both (ECS refuses both)",
        ));
    }
    let strategy = read_strategy(items, &capacity.providers, w.file(), &w.key("capacity_provider_strategy"))?;
    let fargate_items = strategy.iter().all(is_fargate_item);
    if fargate_items != fargate {
        return Err(w.error(
            "capacity_provider_strategy",
            if fargate {
                "the task definition runs only on Fargate: its strategy names FARGATE and FARGATE_SPOT"
            } else {
                "FARGATE and FARGATE_SPOT need a task definition that runs only on Fargate (requiresCompatibilities [\"FARGATE\"])"
            },
        ));
    }
    Ok(strategy)
}

/// Reads `[fargate_spot]`.
pub(super) fn read_fargate_spot(root: &mut Table<'_>, azs: &[String], horizon: SimTime) -> Result<FargateSpotSpec, ScenarioError> {
    let Some(mut t) = root.opt_table("fargate_spot")? else { return Ok(FargateSpotSpec::default()) };
    let interruptions_per_task_hour = t.opt_f64_in("interruptions_per_task_hour", 0.0, 3600.0)?.unwrap_or(0.0);
    let mut shortages = Vec::new();
    if let Some(items) = t.opt_array("capacity_shortages")? {
        for (i, v) in items.iter().enumerate() {
            let key = t.key(&format!("capacity_shortages[{i}]"));
            let map = v.as_table().ok_or_else(|| ScenarioError::new(t.file(), &key, "expected a table { az, start, end }"))?;
            let mut s = Table::nested(t.file(), key, map);
            let az = s.str("az")?;
            let az = azs
                .iter()
                .position(|a| a == az)
                .ok_or_else(|| s.error("az", format!("`{az}` is not one of cluster.azs ({})", azs.join(", "))))?;
            let start = s.duration("start")?;
            let end = s.duration("end")?;
            if end <= start || start > horizon {
                return Err(s.error("end", "must be after start, with start within the horizon"));
            }
            s.finish()?;
            shortages.push((crate::model::AzId(az as u32), start, end));
        }
    }
    t.finish()?;
    Ok(FargateSpotSpec { interruptions_per_task_hour, shortages })
}

/// The item of `strategy` the next task goes to, given how many of the workload's tasks each
/// item holds now: the base first, then the item with the lowest count / weight (ties to the
/// first listed). Items of weight 0 take only their base.
pub fn next_item(strategy: &[StrategyItem], counts: &[u32]) -> usize {
    debug_assert_eq!(strategy.len(), counts.len());
    if let Some(i) = strategy.iter().position(|s| s.base > 0)
        && counts[i] < strategy[i].base
    {
        return i;
    }
    let mut best: Option<usize> = None;
    for (i, s) in strategy.iter().enumerate().filter(|(_, s)| s.weight > 0) {
        // Tasks beyond the base are shared by weight.
        let share = |j: usize| u64::from(counts[j].saturating_sub(strategy[j].base));
        best = match best {
            // share_i / w_i < share_b / w_b, compared without division.
            Some(b) if share(i) * u64::from(strategy[b].weight) >= share(b) * u64::from(s.weight) => Some(b),
            _ => Some(i),
        };
    }
    best.expect("validation keeps one weight above 0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(provider: u32, base: u32, weight: u32) -> StrategyItem {
        StrategyItem { provider, base, weight }
    }

    /// Places `n` tasks one after another and returns how many each item got, in order.
    fn split(strategy: &[StrategyItem], n: usize) -> (Vec<u32>, Vec<usize>) {
        let mut counts = vec![0; strategy.len()];
        let mut order = Vec::new();
        for _ in 0..n {
            let i = next_item(strategy, &counts);
            counts[i] += 1;
            order.push(i);
        }
        (counts, order)
    }

    #[test]
    fn base_2_on_a_then_weights_1_to_4() {
        let s = [item(0, 2, 1), item(1, 0, 4)];
        let (counts, order) = split(&s, 12);
        assert_eq!(&order[..2], &[0, 0], "the base is filled first");
        // After the base: 10 tasks at 1 : 4 → 2 on A, 8 on B.
        assert_eq!(counts, vec![4, 8]);
        let (counts, _) = split(&s, 2 + 50);
        assert_eq!(counts, vec![2 + 10, 40]);
    }

    #[test]
    fn weight_zero_takes_only_its_base_and_ties_go_to_the_first_item() {
        let s = [item(0, 3, 0), item(1, 0, 1)];
        assert_eq!(split(&s, 10).0, vec![3, 7]);
        let s = [item(0, 0, 1), item(1, 0, 1)];
        assert_eq!(split(&s, 3).1, vec![0, 1, 0]);
    }
}
