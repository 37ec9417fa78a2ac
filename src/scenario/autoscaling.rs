//! `[workload.<name>.auto_scaling]`: service auto scaling (Application Auto Scaling target
//! tracking on the service's desired count) and the request load it tracks
//! (docs/model.md#service-auto-scaling).

use super::ScenarioError;
use super::reader::Table;
use crate::engine::SimTime;
use crate::workload::RateSchedule;

/// Most target-tracking policies on one scalable target (Application Auto Scaling quota).
pub const MAX_POLICIES: usize = 50;

/// What a target-tracking policy follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalingMetric {
    /// `ECSServiceAverageCPUUtilization`: CPU used by the service's tasks / their CPU units, %.
    Cpu,
    /// `ALBRequestCountPerTarget`: requests per running task per minute.
    RequestsPerTarget,
    /// `ECSServiceAverageMemoryUtilization`: memory the service's tasks use (the memory model)
    /// / the memory their task definitions reserve, %.
    Memory,
}

impl ScalingMetric {
    pub fn as_str(self) -> &'static str {
        match self {
            ScalingMetric::Cpu => "cpu",
            ScalingMetric::RequestsPerTarget => "requests_per_target",
            ScalingMetric::Memory => "memory",
        }
    }
}

/// One target-tracking policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetTracking {
    pub metric: ScalingMetric,
    pub target: f64,
    /// `DisableScaleIn`: this policy never scales in (another may).
    pub disable_scale_in: bool,
}

/// How a step policy's adjustment is read (`AdjustmentType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adjustment {
    ChangeInCapacity,
    PercentChangeInCapacity,
    ExactCapacity,
}

/// How the step policy's alarm compares the metric with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    GreaterOrEqual,
    Greater,
    Less,
    LessOrEqual,
}

impl Comparison {
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterOrEqual => value >= threshold,
            Comparison::Greater => value > threshold,
            Comparison::Less => value < threshold,
            Comparison::LessOrEqual => value <= threshold,
        }
    }
}

/// One step adjustment: bounds on (metric − threshold), `None` for ±infinity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub adjustment: i32,
}

/// Most step adjustments in one step policy.
pub const MAX_STEPS: usize = 20;

/// A step scaling policy with its CloudWatch alarm.
#[derive(Debug, Clone, PartialEq)]
pub struct StepPolicy {
    pub metric: ScalingMetric,
    pub threshold: f64,
    pub comparison: Comparison,
    /// The alarm fires when `datapoints_to_alarm` of the last `evaluation_periods` breach.
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    pub adjustment: Adjustment,
    /// Sorted by bound, gap-free.
    pub steps: Vec<Step>,
    pub cooldown: SimTime,
    /// `MinAdjustmentMagnitude`, for percentage adjustments.
    pub min_adjustment_magnitude: u32,
}

/// A service's scalable target and its policies.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceAutoScaling {
    pub min_capacity: u32,
    pub max_capacity: u32,
    pub policies: Vec<TargetTracking>,
    pub step_policies: Vec<StepPolicy>,
    pub scale_out_cooldown: SimTime,
    pub scale_in_cooldown: SimTime,
    /// Requests per second the service receives, shared evenly by its running tasks (none: 0,
    /// for memory tracking alone).
    pub load: RateSchedule,
    /// CPU-seconds one request costs (what turns the load into CPU utilisation).
    pub cpu_seconds_per_request: f64,
    /// The 20-second metrics (the `…HighResolution` predefined types) instead of 1-minute ones.
    pub high_resolution: bool,
    /// Scheduled actions, in time order: at each, new bounds (either may be left as it is).
    pub scheduled: Vec<ScheduledAction>,
}

/// A scheduled action: from `at`, the scalable target's bounds change.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScheduledAction {
    pub at: SimTime,
    pub min_capacity: Option<u32>,
    pub max_capacity: Option<u32>,
}

/// Most scheduled actions per scalable target (Application Auto Scaling quota).
pub const MAX_SCHEDULED_ACTIONS: usize = 200;

impl ServiceAutoScaling {
    /// Every metric its policies read, target tracking first.
    pub fn metrics(&self) -> impl Iterator<Item = ScalingMetric> + '_ {
        self.policies.iter().map(|p| p.metric).chain(self.step_policies.iter().map(|p| p.metric))
    }

    /// The metrics' period: 60 s, or 20 s with high resolution.
    pub fn period(&self) -> SimTime {
        SimTime::from_secs(if self.high_resolution { 20 } else { 60 })
    }
}

/// Reads `auto_scaling` of a service whose desired count is `desired`.
pub(super) fn read_auto_scaling(w: &mut Table<'_>, desired: Option<u32>) -> Result<Option<ServiceAutoScaling>, ScenarioError> {
    let Some(mut t) = w.opt_table("auto_scaling")? else { return Ok(None) };
    let Some(desired) = desired else {
        return Err(w.error("auto_scaling", "service auto scaling scales a service's desired count; this workload is not a service"));
    };
    let max_capacity = t
        .opt_u32_range("max_capacity", 1, 5000)?
        .ok_or_else(|| t.error("max_capacity", "missing (required): the scalable target's MaxCapacity, 1 to 5,000"))?;
    let min_capacity = t
        .opt_u32_range("min_capacity", 0, max_capacity)?
        .ok_or_else(|| t.error("min_capacity", format!("missing (required): the scalable target's MinCapacity, 0 to {max_capacity}")))?;
    if desired < min_capacity || desired > max_capacity {
        return Err(w.error(
            "desired_count",
            format!("{desired} is outside auto_scaling's min_capacity {min_capacity} to max_capacity {max_capacity}"),
        ));
    }
    let load = match t.opt_table("load")? {
        Some(mut l) => {
            let s = super::workload::read_rate_schedule(&mut l)?;
            l.finish()?;
            Some(s)
        }
        None => None,
    };
    let cpu_seconds_per_request = t.opt_f64_in("cpu_seconds_per_request", 0.0, 3600.0)?.unwrap_or(0.0);
    let step_items = t.opt_array("step_policies")?.unwrap_or(&[]);
    let items = match t.opt_array("policies")? {
        Some(items) => items,
        None if !step_items.is_empty() => &[],
        None => {
            return Err(t.error(
                "policies",
                "missing (required): e.g. [{ metric = \"cpu\", target = 60 }] or [{ metric = \"requests_per_target\", target = 1000 }] \
                 (or step_policies)",
            ));
        }
    };
    if items.len() + step_items.len() == 0 || items.len() + step_items.len() > MAX_POLICIES {
        return Err(t.error("policies", format!("give 1 to {MAX_POLICIES} policies (target tracking and step scaling together)")));
    }
    let mut policies = Vec::new();
    for (i, v) in items.iter().enumerate() {
        let mut p = t.array_item("policies", i, v, "{ metric, target }")?;
        let metric = read_metric(&mut p, load.is_some(), cpu_seconds_per_request)?;
        let target = p.opt_f64("target")?.ok_or_else(|| p.error("target", "missing (required): the target value"))?;
        let ok = match metric {
            ScalingMetric::Cpu | ScalingMetric::Memory => target > 0.0 && target <= 100.0,
            ScalingMetric::RequestsPerTarget => target > 0.0 && target.is_finite(),
        };
        if !ok {
            return Err(p.error("target", "must be above 0 (CPU and memory: at most 100 %)"));
        }
        let disable_scale_in = p.opt_bool("disable_scale_in")?.unwrap_or(false);
        p.finish()?;
        policies.push(TargetTracking { metric, target, disable_scale_in });
    }
    let mut step_policies = Vec::new();
    for (i, v) in step_items.iter().enumerate() {
        let mut p = t.array_item("step_policies", i, v, "{ metric, alarm, steps, … }")?;
        let metric = read_metric(&mut p, load.is_some(), cpu_seconds_per_request)?;
        step_policies.push(read_step_policy(&mut p, metric)?);
        p.finish()?;
    }
    let scale_out_cooldown = t.opt_duration("scale_out_cooldown")?.unwrap_or(SimTime::from_secs(300));
    let scale_in_cooldown = t.opt_duration("scale_in_cooldown")?.unwrap_or(SimTime::from_secs(300));
    let high_resolution = t.opt_bool("high_resolution")?.unwrap_or(false);
    let mut scheduled = Vec::new();
    if let Some(items) = t.opt_array("scheduled_actions")? {
        if items.len() > MAX_SCHEDULED_ACTIONS {
            return Err(t.error("scheduled_actions", format!("at most {MAX_SCHEDULED_ACTIONS} scheduled actions per service")));
        }
        for (i, v) in items.iter().enumerate() {
            let key = t.key(&format!("scheduled_actions[{i}]"));
            let map =
                v.as_table().ok_or_else(|| ScenarioError::new(t.file(), &key, "expected a table { at, min_capacity, max_capacity }"))?;
            let mut a = Table::nested(t.file(), key, map);
            let at = a.duration("at")?;
            let min = a.opt_u32_range("min_capacity", 0, 5000)?;
            let max = a.opt_u32_range("max_capacity", 1, 5000)?;
            if min.is_none() && max.is_none() {
                return Err(a.error("min_capacity", "give min_capacity, max_capacity or both"));
            }
            if let (Some(lo), Some(hi)) = (min, max)
                && lo > hi
            {
                return Err(a.error("min_capacity", "must not be above max_capacity"));
            }
            if scheduled.last().is_some_and(|p: &ScheduledAction| p.at >= at) {
                return Err(a.error("at", "scheduled actions must be in increasing time order"));
            }
            a.finish()?;
            scheduled.push(ScheduledAction { at, min_capacity: min, max_capacity: max });
        }
    }
    t.finish()?;
    Ok(Some(ServiceAutoScaling {
        min_capacity,
        max_capacity,
        policies,
        step_policies,
        scale_out_cooldown,
        scale_in_cooldown,
        load: load.unwrap_or_else(|| RateSchedule::constant(0.0)),
        cpu_seconds_per_request,
        high_resolution,
        scheduled,
    }))
}

/// A policy's `metric`, and what it needs.
fn read_metric(p: &mut Table<'_>, has_load: bool, cpu_seconds_per_request: f64) -> Result<ScalingMetric, ScenarioError> {
    let metric = match p.str("metric")? {
        "cpu" => ScalingMetric::Cpu,
        "requests_per_target" => ScalingMetric::RequestsPerTarget,
        "memory" => ScalingMetric::Memory,
        other => return Err(p.error("metric", format!("unknown metric `{other}`; allowed: cpu, memory, requests_per_target"))),
    };
    if metric == ScalingMetric::Cpu && cpu_seconds_per_request == 0.0 {
        return Err(p.error("metric", "CPU tracking needs auto_scaling.cpu_seconds_per_request > 0 (the CPU each request costs)"));
    }
    if metric != ScalingMetric::Memory && !has_load {
        return Err(p.error("metric", "CPU and request metrics need auto_scaling.load: the requests per second the service receives"));
    }
    Ok(metric)
}

/// A step policy's `alarm`, `adjustment_type`, `steps`, `cooldown`, `min_adjustment_magnitude`.
fn read_step_policy(p: &mut Table<'_>, metric: ScalingMetric) -> Result<StepPolicy, ScenarioError> {
    let mut a = p.opt_table("alarm")?.ok_or_else(|| {
        p.error("alarm", "missing (required): e.g. { threshold = 70, comparison = \"greater_or_equal\", evaluation_periods = 3 }")
    })?;
    let threshold = a.opt_f64("threshold")?.ok_or_else(|| a.error("threshold", "missing (required): the alarm's threshold"))?;
    let comparison = match a.opt_str("comparison")?.unwrap_or("greater_or_equal") {
        "greater_or_equal" | "GreaterThanOrEqualToThreshold" => Comparison::GreaterOrEqual,
        "greater" | "GreaterThanThreshold" => Comparison::Greater,
        "less" | "LessThanThreshold" => Comparison::Less,
        "less_or_equal" | "LessThanOrEqualToThreshold" => Comparison::LessOrEqual,
        other => return Err(a.error("comparison", format!("unknown `{other}`; allowed: greater_or_equal, greater, less, less_or_equal"))),
    };
    let evaluation_periods = a.opt_u32_range("evaluation_periods", 1, 1440)?.unwrap_or(1);
    let datapoints_to_alarm = a.opt_u32_range("datapoints_to_alarm", 1, evaluation_periods)?.unwrap_or(evaluation_periods);
    a.finish()?;
    let adjustment = match p.opt_str("adjustment_type")?.unwrap_or("change_in_capacity") {
        "change_in_capacity" | "ChangeInCapacity" => Adjustment::ChangeInCapacity,
        "percent_change_in_capacity" | "PercentChangeInCapacity" => Adjustment::PercentChangeInCapacity,
        "exact_capacity" | "ExactCapacity" => Adjustment::ExactCapacity,
        other => {
            return Err(p.error(
                "adjustment_type",
                format!("unknown `{other}`; allowed: change_in_capacity, percent_change_in_capacity, exact_capacity"),
            ));
        }
    };
    let items = p.opt_array("steps")?.ok_or_else(|| p.error("steps", "missing (required): e.g. [{ lower = 0, adjustment = 2 }]"))?;
    if items.is_empty() || items.len() > MAX_STEPS {
        return Err(p.error("steps", format!("give 1 to {MAX_STEPS} step adjustments")));
    }
    let mut steps = Vec::new();
    for (i, v) in items.iter().enumerate() {
        let mut st = p.array_item("steps", i, v, "{ lower, upper, adjustment }")?;
        let lower = st.opt_f64("lower")?;
        let upper = st.opt_f64("upper")?;
        let adjustment = match st.opt_value("adjustment") {
            Some(toml::Value::Integer(n)) if i32::try_from(*n).is_ok() => *n as i32,
            Some(_) => return Err(st.error("adjustment", "a whole number of tasks (or percent): positive scales out, negative in")),
            None => return Err(st.error("adjustment", "missing (required): the ScalingAdjustment")),
        };
        if lower.is_none() && upper.is_none() {
            return Err(st.error("lower", "a step needs a lower or an upper bound (both absent is not allowed)"));
        }
        if let (Some(l), Some(u)) = (lower, upper)
            && u <= l
        {
            return Err(st.error("upper", "must be above lower"));
        }
        st.finish()?;
        steps.push(Step { lower, upper, adjustment });
    }
    if adjustment == Adjustment::ExactCapacity && steps.iter().any(|s| s.adjustment < 0) {
        return Err(p.error("steps", "an exact_capacity adjustment is a capacity: 0 or more"));
    }
    // Sorted by bound, they must cover one range without overlap or gap, open at most once at
    // either end.
    steps.sort_by(|a, b| a.lower.unwrap_or(f64::NEG_INFINITY).total_cmp(&b.lower.unwrap_or(f64::NEG_INFINITY)));
    for pair in steps.windows(2) {
        if pair[0].upper != pair[1].lower || pair[0].upper.is_none() {
            return Err(p.error("steps", "the steps' ranges must not overlap or leave a gap (each step's upper is the next one's lower)"));
        }
    }
    let (first, last) = (steps[0], steps[steps.len() - 1]);
    if first.lower.is_some_and(|l| l < 0.0) {
        return Err(p.error("steps", "a negative lower bound needs a step with no lower bound below it"));
    }
    if last.upper.is_some_and(|u| u > 0.0) {
        return Err(p.error("steps", "a positive upper bound needs a step with no upper bound above it"));
    }
    let cooldown = p.opt_duration("cooldown")?.unwrap_or(SimTime::from_secs(300));
    let min_adjustment_magnitude = p.opt_u32_min("min_adjustment_magnitude", 1)?.unwrap_or(0);
    if min_adjustment_magnitude > 0 && adjustment != Adjustment::PercentChangeInCapacity {
        return Err(p.error("min_adjustment_magnitude", "only with adjustment_type = \"percent_change_in_capacity\""));
    }
    Ok(StepPolicy {
        metric,
        threshold,
        comparison,
        evaluation_periods,
        datapoints_to_alarm,
        adjustment,
        steps,
        cooldown,
        min_adjustment_magnitude,
    })
}
