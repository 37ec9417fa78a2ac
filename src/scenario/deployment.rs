//! Reading a service's rolling-update settings (`minimum_healthy_percent`, `maximum_percent`,
//! `deployment_circuit_breaker`, `[[workload.<name>.deployments]]`) and the scheduler-wide
//! lifecycle switches of `[service_scheduler]` (docs/model.md#rolling-deployments).

use toml::Value;

use super::ScenarioError;
use super::load_balancer::{HealthFailures, TargetGroupSpec};
use super::reader::Table;
use crate::engine::SimTime;
use crate::model::taskdef::TaskDefinition;

/// When a stopping task's CPU, memory and ports become free for placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseAt {
    /// At the STOPPING transition (ECS since 2023; the default).
    Stopping,
    /// Only once the task is STOPPED (the behaviour before 2023).
    Stopped,
}

/// Which tasks count toward a deployment's `maximumPercent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaximumCounts {
    /// PENDING, RUNNING and stopping tasks (the 2023 developer guide; the default).
    RunningPendingStopping,
    /// PENDING and RUNNING tasks only (the API reference's wording).
    RunningPending,
}

/// How a rolling update of one service proceeds, and when it is updated.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutSpec {
    /// `deploymentConfiguration.minimumHealthyPercent` (default 100).
    pub minimum_healthy_percent: u32,
    /// `deploymentConfiguration.maximumPercent` (default 200).
    pub maximum_percent: u32,
    /// `deploymentConfiguration.deploymentCircuitBreaker`, when enabled.
    pub circuit_breaker: Option<CircuitBreakerSpec>,
    /// Updates of the service, in time order.
    pub deployments: Vec<DeploymentSpec>,
    /// How long the service's containers take to exit after SIGTERM; `None`: they ignore it and
    /// are killed after the stop timeout.
    pub exit_after_sigterm: Option<SimTime>,
    /// How long a stopped task stays DEACTIVATING: its target group's deregistration delay when
    /// the service sits behind a load balancer (default 300 s; 0 without one).
    pub deregistration_delay: SimTime,
    /// The service's target group, when it sits behind a load balancer.
    pub target_group: Option<TargetGroupSpec>,
    /// `healthCheckGracePeriodSeconds`: failing health checks are ignored this long after RUNNING.
    pub grace_period: SimTime,
    /// Which of its tasks fail their health checks, and from when.
    pub health_failures: Option<HealthFailures>,
    /// `strategy = "blue_green"`: ECS-native blue/green with this bake time; `None`: rolling.
    pub blue_green_bake: Option<SimTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitBreakerSpec {
    /// Roll back to the last completed revision when the breaker trips.
    pub rollback: bool,
}

/// One `UpdateService` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeploymentSpec {
    pub at: SimTime,
    /// The revision to deploy (the same task definition again: `forceNewDeployment`).
    pub task_definition: u32,
    /// A new desired count, if the update changes it.
    pub desired_count: Option<u32>,
}

impl RolloutSpec {
    pub fn has_deployments(&self) -> bool {
        !self.deployments.is_empty()
    }

    /// The service scheduler follows its tasks' health: it has deployments, a load balancer or
    /// tasks that fail health checks.
    pub fn is_managed(&self) -> bool {
        self.has_deployments() || self.target_group.is_some() || self.health_failures.is_some()
    }
}

/// Reads a service's rolling-update keys. `initial`: the service's own task definition; `family`
/// finds a task definition by family name (for the error it gives).
pub(super) fn read_rollout(
    w: &mut Table<'_>,
    horizon: SimTime,
    task_definitions: &[TaskDefinition],
    family: impl Fn(&Table<'_>, &str, &str) -> Result<u32, ScenarioError>,
    initial: u32,
    target_group: Option<TargetGroupSpec>,
) -> Result<RolloutSpec, ScenarioError> {
    let minimum_healthy_percent = w.opt_u32_range("minimum_healthy_percent", 0, 100)?.unwrap_or(100);
    let maximum_percent = w.opt_u32_range("maximum_percent", 100, 10_000)?.unwrap_or(200);
    let circuit_breaker = match w.opt_table("deployment_circuit_breaker")? {
        None => None,
        Some(mut c) => {
            let enable = c.opt_bool("enable")?.ok_or_else(|| c.error("enable", "missing; true or false"))?;
            let rollback = c.opt_bool("rollback")?.unwrap_or(false);
            c.finish()?;
            enable.then_some(CircuitBreakerSpec { rollback })
        }
    };
    let exit_after_sigterm = w.opt_duration("exit_after_sigterm")?;
    // A target group's deregistration_delay.timeout_seconds defaults to 300 s.
    let default_delay = if target_group.is_some() { SimTime::from_secs(300) } else { SimTime::ZERO };
    let deregistration_delay = w.opt_duration("deregistration_delay")?.unwrap_or(default_delay);
    if deregistration_delay > SimTime::from_secs(3600) {
        return Err(w.error("deregistration_delay", "a target group's deregistration delay is 0 to 3600 s"));
    }
    let mut deployments: Vec<DeploymentSpec> = Vec::new();
    for (i, v) in w.opt_array("deployments")?.unwrap_or(&[]).iter().enumerate() {
        let key = format!("deployments[{i}]");
        let Value::Table(t) = v else {
            return Err(w.error(&key, "expected a table such as { at = \"1h\", task_definition = \"web-v2\" }"));
        };
        let mut d = Table::nested(w.file(), w.key(&key), t);
        let at = d.duration("at")?;
        if at >= horizon {
            return Err(d.error("at", "is at or after the horizon; the deployment would never start"));
        }
        if deployments.last().is_some_and(|p| p.at >= at) {
            return Err(d.error("at", "deployments must be in increasing `at` order"));
        }
        let task_definition = match d.opt_str("task_definition")? {
            Some(f) => family(&d, "task_definition", f)?,
            None => deployments.last().map_or(initial, |p| p.task_definition),
        };
        let (old, new) = (&task_definitions[initial as usize], &task_definitions[task_definition as usize]);
        if old.network_mode != new.network_mode {
            return Err(d.error(
                "task_definition",
                format!(
                    "`{}` uses the {} network mode but the service's tasks use {}; a service keeps its network mode across deployments",
                    new.family, new.network_mode, old.network_mode
                ),
            ));
        }
        let desired_count = d.opt_u32_range("desired_count", 0, 5_000)?;
        d.finish()?;
        deployments.push(DeploymentSpec { at, task_definition, desired_count });
    }
    let blue_green_bake = match w.opt_str("strategy")? {
        None | Some("rolling") => {
            if w.has("bake_time") {
                return Err(w.error("bake_time", "only a blue_green strategy has a bake time"));
            }
            None
        }
        Some("blue_green") => {
            let bake = w
                .opt_duration("bake_time")?
                .ok_or_else(|| w.error("bake_time", "missing; a blue_green deployment needs bakeTimeInMinutes, 0 to 1440 minutes"))?;
            if bake > SimTime::from_secs(1440 * 60) {
                return Err(w.error("bake_time", "0 to 1440 minutes"));
            }
            if target_group.is_none() {
                return Err(w.error("strategy", "a blue_green deployment shifts traffic: the service needs a `load_balancer`"));
            }
            Some(bake)
        }
        Some(other) => return Err(w.error("strategy", format!("unknown `{other}`; allowed: rolling, blue_green"))),
    };
    let grace_period = w.opt_duration("health_check_grace_period")?.unwrap_or(SimTime::ZERO);
    if grace_period > SimTime::from_secs(2_147_483_647) {
        return Err(w.error("health_check_grace_period", "at most 2,147,483,647 s"));
    }
    let revisions: Vec<u32> = std::iter::once(initial).chain(deployments.iter().map(|d| d.task_definition)).collect();
    let container_check = revisions.iter().any(|&t| task_definitions[t as usize].essential_health_checks().next().is_some());
    let health_failures = super::load_balancer::read_health_failures(w, target_group.is_some(), container_check)?;
    Ok(RolloutSpec {
        minimum_healthy_percent,
        maximum_percent,
        circuit_breaker,
        deployments,
        exit_after_sigterm,
        deregistration_delay,
        target_group,
        grace_period,
        health_failures,
        blue_green_bake,
    })
}

/// The scheduler-wide lifecycle settings of `[service_scheduler]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifecycleSpec {
    pub release_resources_at: ReleaseAt,
    pub maximum_counts: MaximumCounts,
    /// A task with no health checks counts as healthy this long after RUNNING (40 s).
    pub healthy_after_running: SimTime,
    /// The circuit breaker's lower clamp: 3 (current), or 10 (2022–2023).
    pub circuit_breaker_minimum: u32,
    /// The agent's `ECS_CONTAINER_STOP_TIMEOUT`, for containers without `stopTimeout` (30 s).
    pub container_stop_timeout: SimTime,
    /// When a newly registered target turns healthy.
    pub new_target_health: NewTargetHealth,
}

/// When a new target passes its target group's health check: the two documented readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewTargetHealth {
    /// After `healthy_threshold` consecutive passing checks (what ECS's guides budget and users
    /// measure; the default).
    Threshold,
    /// After its first passing check (the ALB guide's wording for new targets).
    OneCheck,
}

impl Default for LifecycleSpec {
    fn default() -> Self {
        LifecycleSpec {
            release_resources_at: ReleaseAt::Stopping,
            maximum_counts: MaximumCounts::RunningPendingStopping,
            healthy_after_running: SimTime::from_secs(40),
            circuit_breaker_minimum: 3,
            container_stop_timeout: SimTime::from_secs(30),
            new_target_health: NewTargetHealth::Threshold,
        }
    }
}

pub(super) fn read_lifecycle(s: &mut Table<'_>) -> Result<LifecycleSpec, ScenarioError> {
    let d = LifecycleSpec::default();
    let release_resources_at = match s.opt_str("release_resources_at")? {
        None => d.release_resources_at,
        Some("stopping") => ReleaseAt::Stopping,
        Some("stopped") => ReleaseAt::Stopped,
        Some(other) => return Err(s.error("release_resources_at", format!("unknown `{other}`; allowed: stopping, stopped"))),
    };
    let maximum_counts = match s.opt_str("maximum_percent_counts")? {
        None => d.maximum_counts,
        Some("running_pending_stopping") => MaximumCounts::RunningPendingStopping,
        Some("running_pending") => MaximumCounts::RunningPending,
        Some(other) => {
            return Err(s.error("maximum_percent_counts", format!("unknown `{other}`; allowed: running_pending_stopping, running_pending")));
        }
    };
    let circuit_breaker_minimum = match s.opt_u32_min("circuit_breaker_minimum", 0)? {
        None => d.circuit_breaker_minimum,
        Some(m @ (3 | 10)) => m,
        Some(other) => {
            return Err(
                s.error("circuit_breaker_minimum", format!("{other} is not a documented value; allowed: 3 (current), 10 (2022–2023)"))
            );
        }
    };
    let new_target_health = match s.opt_str("new_target_health")? {
        None => d.new_target_health,
        Some("threshold") => NewTargetHealth::Threshold,
        Some("one_check") => NewTargetHealth::OneCheck,
        Some(other) => return Err(s.error("new_target_health", format!("unknown `{other}`; allowed: threshold, one_check"))),
    };
    Ok(LifecycleSpec {
        new_target_health,
        release_resources_at,
        maximum_counts,
        healthy_after_running: s.opt_duration("healthy_after_running")?.unwrap_or(d.healthy_after_running),
        circuit_breaker_minimum,
        container_stop_timeout: s.opt_duration("container_stop_timeout")?.unwrap_or(d.container_stop_timeout),
    })
}
