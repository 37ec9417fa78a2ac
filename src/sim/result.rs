//! What one run hands to `report`: plain data, no behaviour.

use crate::engine::SimTime;
use crate::metrics::{MetricValues, TimeSeries};
use crate::model::{AzId, HostId, StopReason, SubnetId, TaskIp};
use crate::placement::{Explanation, PlacementFailure};

/// What a run records beyond its metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Keep one row per task (`tasks/<run>.csv`).
    pub record_tasks: bool,
    /// Keep one row per placement decision with the survivors of each stage (`decisions.csv`).
    pub explain: bool,
}

/// One task's history, for `tasks/<run>.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    pub task: u32,
    pub workload: u32,
    pub task_definition: u32,
    pub arrived_at: SimTime,
    pub placed_at: Option<SimTime>,
    pub running_at: Option<SimTime>,
    pub stopped_at: Option<SimTime>,
    pub host: Option<HostId>,
    pub az: Option<AzId>,
    pub subnet: Option<SubnetId>,
    /// Whether its ENI ever got an address, and where that address is now.
    pub ip: TaskIp,
    /// `None` while still waiting or running at the horizon.
    pub stop_reason: Option<StopReason>,
}

/// One placement decision, for `decisions.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRow {
    pub time: SimTime,
    pub task: u32,
    pub workload: u32,
    pub outcome: Result<HostId, PlacementFailure>,
    pub explanation: Explanation,
}

/// Everything one run produced. Plain data; `report` writes it.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub seed: u64,
    pub metrics: MetricValues,
    pub timeseries: TimeSeries,
    pub tasks: Vec<TaskRow>,
    pub decisions: Vec<DecisionRow>,
    /// One row per subnet (empty without a `[network]`).
    pub subnets: Vec<SubnetRow>,
    /// One row per deployment of a service with deployments (the creation included).
    pub deployments: Vec<DeploymentRow>,
    /// The service events of services with deployments, in time order.
    pub service_events: Vec<EventRow>,
    /// What each capacity provider cost (empty without capacity providers).
    pub providers: Vec<ProviderRow>,
    /// Task records the run held at its peak: about the most tasks in flight at once (a
    /// stopped task's record is reused), or every task when `record_tasks` keeps them all.
    pub task_records: usize,
}

/// How one subnet fared over a run, for `subnets.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubnetRow {
    pub subnet: SubnetId,
    pub usable: u32,
    /// Fewest free addresses after the warm-up.
    pub min_free: u32,
    pub free_at_end: u32,
}

/// What one capacity provider used and cost over a run, for `providers.csv`. The rows of a run
/// add up to its EC2 and Fargate cost lines.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderRow {
    /// The provider's name, `FARGATE`, `FARGATE_SPOT`, or [`ProviderRow::NO_PROVIDER`] for hosts
    /// of host groups outside every Auto Scaling group provider.
    pub name: String,
    /// `ec2` or `fargate`.
    pub kind: &'static str,
    /// `on_demand` or `spot`.
    pub pricing: &'static str,
    /// EC2: instance-hours (launch to termination, or the whole run for fixed hosts).
    pub instance_hours: Option<f64>,
    /// Fargate: vCPU-hours and memory GB-hours of its tasks.
    pub vcpu_hours: Option<f64>,
    pub memory_gb_hours: Option<f64>,
    pub cost_run_usd: f64,
    pub cost_month_usd: f64,
}

impl ProviderRow {
    pub const NO_PROVIDER: &'static str = "(no capacity provider)";
}

/// One deployment of one service, for `deployments.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentRow {
    pub workload: u32,
    /// `ecs-svc/<n>`.
    pub deployment: u16,
    /// created, update, or rollback of `ecs-svc/<n>`.
    pub cause: String,
    pub task_definition: u32,
    pub desired: u32,
    pub started_at: SimTime,
    /// When it completed, failed or was superseded; `None` if in progress at the horizon.
    pub ended_at: Option<SimTime>,
    pub outcome: &'static str,
    pub tasks_started: u32,
    pub tasks_stopped: u32,
    pub failed_tasks: u32,
    pub peak_tasks: u32,
    pub peak_addresses: u32,
}

/// One service event, in ECS's words, for `events/<run>.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub time: SimTime,
    pub workload: u32,
    /// `ecs-svc/<n>`: the deployment's index.
    pub deployment: u16,
    pub message: String,
}
