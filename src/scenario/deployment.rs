//! Reading a service's rolling-update settings (`minimum_healthy_percent`, `maximum_percent`,
//! `deployment_circuit_breaker`, `[[workload.<name>.deployments]]`) and the scheduler-wide
//! lifecycle switches of `[service_scheduler]` (docs/model.md#rolling-deployments).

use toml::Value;

use super::ScenarioError;
use super::load_balancer::{HealthFailures, LbType, TargetGroupSpec};
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
    /// A blue/green, linear or canary deployment (ECS-native or through CodeDeploy); `None`:
    /// a rolling update.
    pub blue_green: Option<BlueGreenSpec>,
}

/// Who drives a service's deployments (`deploymentController.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    /// `ECS`: rolling updates, or ECS-native blue/green, linear and canary deployments.
    Ecs,
    /// `CODE_DEPLOY`: a replacement task set, traffic shifted by a CodeDeploy configuration.
    CodeDeploy,
}

/// How production traffic moves from the old revision to the new one. Percentages are in
/// tenths of a percent (ECS takes multiples of 0.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrafficShift {
    AllAtOnce,
    /// `step` of the traffic every `wait`, until all of it has moved.
    Linear {
        step: u16,
        wait: SimTime,
    },
    /// `first` of the traffic, then the rest `wait` later.
    Canary {
        first: u16,
        wait: SimTime,
    },
}

/// Tenths of a percent: all the traffic.
pub const ALL_TRAFFIC: u16 = 1000;

impl TrafficShift {
    /// The shift's steps: when each happens after the shift begins, and the share of production
    /// traffic on the new revision from then on (tenths of a percent, the last one 1000). No
    /// wait follows the last step.
    pub fn steps(self) -> impl Iterator<Item = (SimTime, u16)> {
        let (count, wait) = match self {
            TrafficShift::AllAtOnce => (1, SimTime::ZERO),
            TrafficShift::Linear { step, wait } => (u32::from(ALL_TRAFFIC).div_ceil(u32::from(step)), wait),
            TrafficShift::Canary { first, wait } => (if first < ALL_TRAFFIC { 2 } else { 1 }, wait),
        };
        (0..count).map(move |k| (SimTime(wait.0 * u64::from(k)), self.share_after(k, count)))
    }

    /// The new revision's share after step `k` of `count`.
    fn share_after(self, k: u32, count: u32) -> u16 {
        match self {
            _ if k + 1 == count => ALL_TRAFFIC,
            TrafficShift::Linear { step, .. } => (u32::from(step) * (k + 1)) as u16,
            TrafficShift::Canary { first, .. } => first,
            TrafficShift::AllAtOnce => ALL_TRAFFIC,
        }
    }

    /// The wait between step `step` and the next; `None` after the last.
    pub fn wait_after(self, step: u16) -> Option<SimTime> {
        let mut steps = self.steps().skip(step as usize);
        let (at, _) = steps.next()?;
        steps.next().map(|(next, _)| next.saturating_sub(at))
    }
}

/// A deployment that starts the new revision at full size beside the old one, shifts traffic,
/// waits, and then stops the old revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlueGreenSpec {
    pub controller: Controller,
    pub shift: TrafficShift,
    /// After all traffic has moved, how long both revisions still run: ECS's `bakeTimeInMinutes`,
    /// CodeDeploy's `terminationWaitTimeInMinutes`.
    pub bake: SimTime,
    /// What the lifecycle hooks of each stage do (ECS-native only).
    pub hooks: [StageHooks; STAGES],
}

/// The deployment lifecycle stages a hook can run at, in the order a deployment passes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Before the new revision starts.
    PreScaleUp = 0,
    /// The new revision is up (every task healthy); the old one still takes all traffic.
    PostScaleUp = 1,
    TestTrafficShift = 2,
    PostTestTrafficShift = 3,
    /// At each step of the production traffic shift.
    ProductionTrafficShift = 4,
    /// All production traffic has moved; before the bake time.
    PostProductionTrafficShift = 5,
}

pub const STAGES: usize = 6;

impl Stage {
    pub const ALL: [Stage; STAGES] = [
        Stage::PreScaleUp,
        Stage::PostScaleUp,
        Stage::TestTrafficShift,
        Stage::PostTestTrafficShift,
        Stage::ProductionTrafficShift,
        Stage::PostProductionTrafficShift,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::PreScaleUp => "PRE_SCALE_UP",
            Stage::PostScaleUp => "POST_SCALE_UP",
            Stage::TestTrafficShift => "TEST_TRAFFIC_SHIFT",
            Stage::PostTestTrafficShift => "POST_TEST_TRAFFIC_SHIFT",
            Stage::ProductionTrafficShift => "PRODUCTION_TRAFFIC_SHIFT",
            Stage::PostProductionTrafficShift => "POST_PRODUCTION_TRAFFIC_SHIFT",
        }
    }
}

/// The hooks of one stage, summed up: the deployment waits `done_after` (the last hook's
/// SUCCEEDED), unless one reports FAILED first, `failed_after` the stage began.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageHooks {
    pub any: bool,
    pub done_after: SimTime,
    pub failed_after: Option<SimTime>,
}

/// When a hook that needs `duration` reports its result: it is invoked at once and again every
/// `callback_delay` while it answers IN_PROGRESS.
pub fn hook_reports_after(duration: SimTime, callback_delay: SimTime) -> SimTime {
    SimTime(duration.0.div_ceil(callback_delay.0) * callback_delay.0)
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
    let example = "{ at = \"1h\", task_definition = \"web-v2\" }";
    for (at, mut d) in w.timed_tables("deployments", example, horizon, "the deployment would never start")? {
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
    let mut blue_green = read_blue_green(w, target_group.as_ref(), circuit_breaker.is_some())?;
    let hooks = read_hooks(w)?;
    if hooks.iter().any(|h| h.any) {
        match blue_green.as_mut() {
            Some(b) if b.controller == Controller::Ecs => b.hooks = hooks,
            _ => {
                return Err(w.error(
                    "lifecycle_hooks",
                    "lifecycle hooks run in ECS-native blue_green, linear and canary deployments: set `strategy`",
                ));
            }
        }
    }
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
        blue_green,
    })
}

/// Minutes from 0 to `max`, as ECS and CodeDeploy take them.
fn whole_minutes(t: &mut Table<'_>, key: &str, max_minutes: u64, what: &str) -> Result<Option<SimTime>, ScenarioError> {
    match t.opt_duration(key)? {
        Some(d) if d > SimTime::from_secs(max_minutes * 60) || d.0 % SimTime::from_secs(60).0 != 0 => {
            Err(t.error(key, format!("{what}: whole minutes from 0 to {max_minutes}")))
        }
        other => Ok(other),
    }
}

/// A percentage in tenths, a multiple of 0.1 in `[min, 100]`.
fn tenths(t: &mut Table<'_>, key: &str, min: f64, default: u16) -> Result<u16, ScenarioError> {
    match t.opt_f64(key)? {
        None => Ok(default),
        Some(v) => {
            let tenths = (v * 10.0).round();
            if !(min..=100.0).contains(&v) || (v * 10.0 - tenths).abs() > 1e-6 {
                return Err(t.error(key, format!("{v} is not allowed: a multiple of 0.1 from {min} to 100")));
            }
            Ok(tenths as u16)
        }
    }
}

/// `strategy`, `bake_time`, `linear`, `canary`, `deployment_controller` and `code_deploy`.
fn read_blue_green(
    w: &mut Table<'_>,
    target_group: Option<&TargetGroupSpec>,
    breaker: bool,
) -> Result<Option<BlueGreenSpec>, ScenarioError> {
    let controller = match w.opt_str("deployment_controller")? {
        None | Some("ecs") | Some("ECS") => Controller::Ecs,
        Some("code_deploy") | Some("CODE_DEPLOY") => Controller::CodeDeploy,
        Some(other) => return Err(w.error("deployment_controller", format!("unknown `{other}`; allowed: ecs, code_deploy"))),
    };
    let needs_lb = |w: &Table<'_>, key: &str, what: &str| -> Result<(), ScenarioError> {
        if target_group.is_none() {
            return Err(w.error(key, format!("{what} shifts traffic: the service needs a `load_balancer`")));
        }
        Ok(())
    };
    if controller == Controller::CodeDeploy {
        for key in ["strategy", "bake_time", "linear", "canary"] {
            if w.has(key) {
                return Err(w.error(
                    key,
                    "belongs to the ECS deployment controller; with code_deploy, set `code_deploy = { config, termination_wait }`",
                ));
            }
        }
        if w.has("maximum_percent") {
            return Err(w.error("maximum_percent", "a CODE_DEPLOY service cannot set a custom maximumPercent"));
        }
        if breaker {
            return Err(w.error("deployment_circuit_breaker", "only the rolling update (ECS) deployment type has a circuit breaker"));
        }
        needs_lb(w, "deployment_controller", "a CodeDeploy deployment")?;
        let mut c = w.opt_table("code_deploy")?.ok_or_else(|| {
            w.error(
                "code_deploy",
                "missing; e.g. `code_deploy = { config = \"CodeDeployDefault.ECSAllAtOnce\", termination_wait = \"5m\" }`",
            )
        })?;
        let shift = match c.opt_value("config") {
            None => TrafficShift::AllAtOnce,
            Some(Value::String(name)) => code_deploy_config(name).ok_or_else(|| {
                c.error(
                    "config",
                    format!(
                        "unknown `{name}`; allowed: {}, or a table {{ type = \"linear\" | \"canary\", percent, interval }}",
                        CODE_DEPLOY_CONFIGS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?,
            Some(Value::Table(t)) => {
                let mut t = Table::nested(c.file(), c.key("config"), t);
                let kind = t.str("type")?;
                let percent = tenths(&mut t, "percent", 1.0, 0)?;
                if percent == 0 || percent % 10 != 0 {
                    return Err(t.error("percent", "required: a whole percentage from 1 to 100"));
                }
                let wait = whole_minutes(&mut t, "interval", 2880, "the interval")?
                    .ok_or_else(|| t.error("interval", "missing; whole minutes, e.g. \"3m\""))?;
                let shift = match kind {
                    "linear" | "TimeBasedLinear" => TrafficShift::Linear { step: percent, wait },
                    "canary" | "TimeBasedCanary" => TrafficShift::Canary { first: percent, wait },
                    other => return Err(t.error("type", format!("unknown `{other}`; allowed: linear, canary"))),
                };
                t.finish()?;
                shift
            }
            Some(_) => return Err(c.error("config", "a predefined configuration's name, or a table { type, percent, interval }")),
        };
        if target_group.is_some_and(|tg| tg.kind == LbType::Network) && shift != TrafficShift::AllAtOnce {
            return Err(c.error(
                "config",
                "with a Network Load Balancer CodeDeploy shifts traffic only all at once (CodeDeployDefault.ECSAllAtOnce)",
            ));
        }
        let bake = whole_minutes(&mut c, "termination_wait", 2880, "terminationWaitTimeInMinutes")?.ok_or_else(|| {
            c.error(
                "termination_wait",
                "missing; terminationWaitTimeInMinutes, how long the original task set runs after the shift (0 to 2880 minutes)",
            )
        })?;
        c.finish()?;
        return Ok(Some(BlueGreenSpec { controller, shift, bake, hooks: Default::default() }));
    }
    if w.has("code_deploy") {
        return Err(w.error("code_deploy", "needs `deployment_controller = \"code_deploy\"`"));
    }
    let strategy = w.opt_str("strategy")?.unwrap_or("rolling");
    let shift = match strategy {
        "rolling" | "ROLLING" => {
            for key in ["bake_time", "linear", "canary"] {
                if w.has(key) {
                    return Err(w.error(key, "only a blue_green, linear or canary strategy has it"));
                }
            }
            return Ok(None);
        }
        "blue_green" | "BLUE_GREEN" => TrafficShift::AllAtOnce,
        "linear" | "LINEAR" => {
            let (step, wait) = read_steps(w, "linear", ("step_percent", 3.0, 100), ("step_bake_time", "stepBakeTimeInMinutes", 6))?;
            TrafficShift::Linear { step, wait }
        }
        "canary" | "CANARY" => {
            let (first, wait) = read_steps(w, "canary", ("canary_percent", 0.1, 50), ("canary_bake_time", "canaryBakeTimeInMinutes", 10))?;
            TrafficShift::Canary { first, wait }
        }
        other => return Err(w.error("strategy", format!("unknown `{other}`; allowed: rolling, blue_green, linear, canary"))),
    };
    for (key, owner) in [("linear", "linear"), ("canary", "canary")] {
        if w.has(key) && strategy.to_ascii_lowercase() != owner {
            return Err(w.error(key, format!("only a {owner} strategy has it")));
        }
    }
    needs_lb(w, "strategy", &format!("a {} deployment", strategy.to_ascii_lowercase()))?;
    let bake = whole_minutes(w, "bake_time", 1440, "bakeTimeInMinutes")?.ok_or_else(|| {
        w.error("bake_time", "missing; bakeTimeInMinutes, how long both revisions run after the traffic shift (0 to 1440 minutes)")
    })?;
    Ok(Some(BlueGreenSpec { controller, shift, bake, hooks: Default::default() }))
}

/// `lifecycle_hooks = [{ stages = [...], duration = "2m", callback_delay = "30s", result = "succeeded" }]`.
fn read_hooks(w: &mut Table<'_>) -> Result<[StageHooks; STAGES], ScenarioError> {
    let mut by_stage = [StageHooks::default(); STAGES];
    for (i, v) in w.opt_array("lifecycle_hooks")?.unwrap_or(&[]).iter().enumerate() {
        let key = format!("lifecycle_hooks[{i}]");
        let Value::Table(t) = v else {
            return Err(w.error(&key, "expected a table such as { stages = [\"POST_SCALE_UP\"], duration = \"2m\" }"));
        };
        let mut h = Table::nested(w.file(), w.key(&key), t);
        let allowed = || Stage::ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ");
        let names = h.opt_strings("stages")?.ok_or_else(|| h.error("stages", format!("missing; one or more of {}", allowed())))?;
        if names.is_empty() {
            return Err(h.error("stages", format!("empty; one or more of {}", allowed())));
        }
        let duration = h.opt_duration("duration")?.unwrap_or(SimTime::ZERO);
        let callback = h.opt_duration("callback_delay")?.unwrap_or(SimTime::from_secs(30));
        if callback == SimTime::ZERO || callback > SimTime::from_secs(900) {
            return Err(h.error("callback_delay", "more than 0 and at most 15 minutes"));
        }
        let fails = match h.opt_str("result")?.unwrap_or("succeeded") {
            "succeeded" | "SUCCEEDED" => false,
            "failed" | "FAILED" => true,
            other => return Err(h.error("result", format!("unknown `{other}`; allowed: succeeded, failed"))),
        };
        let after = hook_reports_after(duration, callback);
        for name in names {
            let stage = match Stage::ALL.iter().find(|s| s.name() == name) {
                Some(&s) => s,
                None if name == "RECONCILE_SERVICE" => {
                    return Err(h.error("stages", "RECONCILE_SERVICE is not modelled (it needs several active revisions at the start)"));
                }
                None => return Err(h.error("stages", format!("unknown `{name}`; allowed: {}", allowed()))),
            };
            let s = &mut by_stage[stage as usize];
            s.any = true;
            if fails {
                s.failed_after = Some(s.failed_after.map_or(after, |f| f.min(after)));
            } else {
                s.done_after = s.done_after.max(after);
            }
        }
        h.finish()?;
    }
    Ok(by_stage)
}

/// A `linear` or `canary` table: its share (key, lowest, default in tenths) and its wait (key,
/// ECS's name for it, default in minutes).
fn read_steps(
    w: &mut Table<'_>,
    table: &str,
    (share_key, lowest, default_share): (&str, f64, u16),
    (wait_key, wait_name, default_minutes): (&str, &str, u64),
) -> Result<(u16, SimTime), ScenarioError> {
    let default_wait = SimTime::from_secs(default_minutes * 60);
    let Some(mut t) = w.opt_table(table)? else { return Ok((default_share, default_wait)) };
    let share = tenths(&mut t, share_key, lowest, default_share)?;
    let wait = whole_minutes(&mut t, wait_key, 1440, wait_name)?.unwrap_or(default_wait);
    t.finish()?;
    Ok((share, wait))
}

/// CodeDeploy's predefined deployment configurations for ECS.
const CODE_DEPLOY_CONFIGS: [(&str, TrafficShift); 5] = [
    ("CodeDeployDefault.ECSAllAtOnce", TrafficShift::AllAtOnce),
    ("CodeDeployDefault.ECSLinear10PercentEvery1Minutes", TrafficShift::Linear { step: 100, wait: SimTime::from_secs(60) }),
    ("CodeDeployDefault.ECSLinear10PercentEvery3Minutes", TrafficShift::Linear { step: 100, wait: SimTime::from_secs(180) }),
    ("CodeDeployDefault.ECSCanary10Percent5Minutes", TrafficShift::Canary { first: 100, wait: SimTime::from_secs(300) }),
    ("CodeDeployDefault.ECSCanary10Percent15Minutes", TrafficShift::Canary { first: 100, wait: SimTime::from_secs(900) }),
];

fn code_deploy_config(name: &str) -> Option<TrafficShift> {
    CODE_DEPLOY_CONFIGS.iter().find(|(n, _)| *n == name).map(|&(_, s)| s)
}

/// The scheduler-wide lifecycle settings of `[service_scheduler]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifecycleSpec {
    pub release_resources_at: ReleaseAt,
    pub maximum_counts: MaximumCounts,
    /// A task with no health checks counts as healthy this long after RUNNING (40 s).
    pub healthy_after_running: SimTime,
    /// ACTIVATING: from RUNNING until the load balancer starts checking the new target (0: at
    /// once; AWS publishes no figure).
    pub target_registration_time: SimTime,
    /// The circuit breaker's lower clamp: 3 (current), or 10 (2022–2023).
    pub circuit_breaker_minimum: u32,
    /// The agent's `ECS_CONTAINER_STOP_TIMEOUT`, for containers without `stopTimeout` (30 s).
    pub container_stop_timeout: SimTime,
    /// When a newly registered target turns healthy.
    pub new_target_health: NewTargetHealth,
    /// What the scheduler does with a task that failed its health checks.
    pub unhealthy_tasks: UnhealthyTasks,
}

/// How the service scheduler replaces a task that failed its health checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnhealthyTasks {
    /// Start a replacement first (within `maximumPercent`), stop the unhealthy task once a
    /// replacement is healthy; when the maximum leaves no room, stop unhealthy tasks one at a
    /// time (ECS's current documentation; the default).
    ReplaceFirst,
    /// Stop it at once and start a replacement afterwards (the earlier behaviour).
    StopFirst,
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
            target_registration_time: SimTime::ZERO,
            circuit_breaker_minimum: 3,
            container_stop_timeout: SimTime::from_secs(30),
            new_target_health: NewTargetHealth::Threshold,
            unhealthy_tasks: UnhealthyTasks::ReplaceFirst,
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
    let unhealthy_tasks = match s.opt_str("unhealthy_tasks")? {
        None => d.unhealthy_tasks,
        Some("replace_first") => UnhealthyTasks::ReplaceFirst,
        Some("stop_first") => UnhealthyTasks::StopFirst,
        Some(other) => return Err(s.error("unhealthy_tasks", format!("unknown `{other}`; allowed: replace_first, stop_first"))),
    };
    Ok(LifecycleSpec {
        new_target_health,
        unhealthy_tasks,
        release_resources_at,
        maximum_counts,
        healthy_after_running: s.opt_duration("healthy_after_running")?.unwrap_or(d.healthy_after_running),
        target_registration_time: s.opt_duration("target_registration_time")?.unwrap_or(d.target_registration_time),
        circuit_breaker_minimum,
        container_stop_timeout: s.opt_duration("container_stop_timeout")?.unwrap_or(d.container_stop_timeout),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shares(shift: TrafficShift) -> Vec<(u64, u16)> {
        shift.steps().map(|(at, share)| (at.0 / SimTime::from_secs(60).0, share)).collect()
    }

    #[test]
    fn linear_steps_are_equal_and_the_last_one_takes_the_rest() {
        let minute = SimTime::from_secs(60);
        // 10 %: ten steps and nine waits (100 / 10 - 1, as CloudFormation counts them).
        let ten = shares(TrafficShift::Linear { step: 100, wait: minute });
        assert_eq!(ten.len(), 10);
        assert_eq!(ten[0], (0, 100));
        assert_eq!(ten[9], (9, 1000));
        // 11 %: nine steps of 11 and a last one to 100: nine waits (the floor of 100 / 11).
        let eleven = shares(TrafficShift::Linear { step: 110, wait: minute });
        assert_eq!(eleven.len(), 10);
        assert_eq!(eleven[8], (8, 990));
        assert_eq!(eleven[9], (9, 1000));
        assert_eq!(TrafficShift::Linear { step: 110, wait: minute }.steps().last().unwrap().0, SimTime::from_secs(540));
    }

    #[test]
    fn a_hook_reports_at_the_first_invocation_after_its_work_is_done() {
        let (s, cb) = (SimTime::from_secs, SimTime::from_secs(30));
        assert_eq!(hook_reports_after(s(0), cb), s(0));
        assert_eq!(hook_reports_after(s(60), cb), s(60));
        assert_eq!(hook_reports_after(s(70), cb), s(90));
        assert_eq!(hook_reports_after(s(70), s(100)), s(100));
    }

    #[test]
    fn canary_is_two_steps_and_all_at_once_is_one() {
        let wait = SimTime::from_secs(600);
        assert_eq!(shares(TrafficShift::Canary { first: 50, wait }), vec![(0, 50), (10, 1000)]);
        assert_eq!(shares(TrafficShift::Canary { first: 1000, wait }), vec![(0, 1000)]);
        assert_eq!(shares(TrafficShift::AllAtOnce), vec![(0, 1000)]);
        assert_eq!(TrafficShift::AllAtOnce.steps().last().unwrap().0, SimTime::ZERO);
    }
}
