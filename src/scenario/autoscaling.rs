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

/// A service's scalable target and its policies.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceAutoScaling {
    pub min_capacity: u32,
    pub max_capacity: u32,
    pub policies: Vec<TargetTracking>,
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
    let items = t.opt_array("policies")?.ok_or_else(|| {
        t.error(
            "policies",
            "missing (required): e.g. [{ metric = \"cpu\", target = 60 }] or [{ metric = \"requests_per_target\", target = 1000 }]",
        )
    })?;
    if items.is_empty() || items.len() > MAX_POLICIES {
        return Err(t.error("policies", format!("give 1 to {MAX_POLICIES} policies")));
    }
    let mut policies = Vec::new();
    for (i, v) in items.iter().enumerate() {
        let key = t.key(&format!("policies[{i}]"));
        let map = v.as_table().ok_or_else(|| ScenarioError::new(t.file(), &key, "expected a table { metric, target }"))?;
        let mut p = Table::nested(t.file(), key, map);
        let metric = match p.str("metric")? {
            "cpu" => ScalingMetric::Cpu,
            "requests_per_target" => ScalingMetric::RequestsPerTarget,
            "memory" => ScalingMetric::Memory,
            other => return Err(p.error("metric", format!("unknown metric `{other}`; allowed: cpu, memory, requests_per_target"))),
        };
        let target = p.opt_f64("target")?.ok_or_else(|| p.error("target", "missing (required): the target value"))?;
        let ok = match metric {
            ScalingMetric::Cpu | ScalingMetric::Memory => target > 0.0 && target <= 100.0,
            ScalingMetric::RequestsPerTarget => target > 0.0 && target.is_finite(),
        };
        if !ok {
            return Err(p.error("target", "must be above 0 (CPU and memory: at most 100 %)"));
        }
        if metric == ScalingMetric::Cpu && cpu_seconds_per_request == 0.0 {
            return Err(p.error("metric", "CPU tracking needs auto_scaling.cpu_seconds_per_request > 0 (the CPU each request costs)"));
        }
        if metric != ScalingMetric::Memory && load.is_none() {
            return Err(t.error("load", "missing (required for CPU and request tracking): the requests per second the service receives"));
        }
        let disable_scale_in = p.opt_bool("disable_scale_in")?.unwrap_or(false);
        p.finish()?;
        policies.push(TargetTracking { metric, target, disable_scale_in });
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
        scale_out_cooldown,
        scale_in_cooldown,
        load: load.unwrap_or_else(|| RateSchedule::constant(0.0)),
        cpu_seconds_per_request,
        high_resolution,
        scheduled,
    }))
}
