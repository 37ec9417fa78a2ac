//! Service auto scaling: each scaled service's target-tracking alarms (datapoints above and
//! below target per policy), its cooldowns, and the metrics it follows (requests per target and
//! CPU utilisation from the request load).
//!
//! Owns: [`Scaler`] per scaled service, RUNNING counts of those services, and the
//! [`AutoScalingEvent`]. Decides: the service's new desired count ([`decide`], a pure function
//! with closed-form tests); the coordinator (`service_scaling.rs`) changes the count
//! (docs/model.md#service-auto-scaling).

use crate::engine::SimTime;
use crate::scenario::autoscaling::{Adjustment, ScalingMetric, ServiceAutoScaling, StepPolicy, TargetTracking};

/// Datapoints above target before the scale-out alarm fires (3 of 3).
pub const HIGH_DATAPOINTS: u32 = 3;
/// Datapoints below the scale-in threshold before the scale-in alarm fires (15 of 15).
pub const LOW_DATAPOINTS: u32 = 15;
/// The scale-in alarm's threshold as a fraction of the target.
pub const LOW_FRACTION: f64 = 0.9;

#[derive(Debug, Clone, Copy)]
pub(super) enum AutoScalingEvent {
    /// The period's metrics and alarms of every scaled service.
    Tick,
    /// Scheduled action `action` of the `scaled`-th scaled service.
    Scheduled { scaled: u32, action: u32 },
}

/// The alarms and cooldowns of one service's scalable target.
#[derive(Debug, Clone, Default)]
pub struct Alarms {
    /// Per policy: consecutive datapoints above target, and below the scale-in threshold.
    pub high: Vec<u32>,
    pub low: Vec<u32>,
    /// The last scale-out: when, and the capacity it set.
    pub last_out: Option<(SimTime, u32)>,
    /// The last scale-in, while its cooldown may apply (a scale-out clears it).
    pub last_in: Option<SimTime>,
    /// The scalable target's bounds now (scheduled actions move them).
    pub min: u32,
    pub max: u32,
    /// Per step policy: its alarm's datapoints and its cooldown.
    pub steps: Vec<StepAlarm>,
}

/// A step policy's alarm (its last datapoints) and cooldown.
#[derive(Debug, Clone, Default)]
pub struct StepAlarm {
    /// Whether each of the last `evaluation_periods` datapoints breached, oldest first.
    pub window: std::collections::VecDeque<bool>,
    /// The scale-out that started the cooldown: when, and the capacity before it.
    pub last_out: Option<(SimTime, u32)>,
    pub last_in: Option<SimTime>,
}

impl Alarms {
    pub fn new(spec: &ServiceAutoScaling) -> Alarms {
        let policies = spec.policies.len();
        Alarms {
            high: vec![0; policies],
            low: vec![0; policies],
            last_out: None,
            last_in: None,
            min: spec.min_capacity,
            max: spec.max_capacity,
            steps: vec![StepAlarm::default(); spec.step_policies.len()],
        }
    }

    /// A scheduled action: new bounds, and the desired count they force (if it is outside
    /// them). Cooldowns do not apply.
    pub fn apply_scheduled(&mut self, min: Option<u32>, max: Option<u32>, current: u32) -> Option<u32> {
        if let Some(m) = min {
            self.min = m;
            self.max = self.max.max(m);
        }
        if let Some(m) = max {
            self.max = m;
            self.min = self.min.min(m);
        }
        let to = current.clamp(self.min, self.max);
        (to != current).then_some(to)
    }
}

/// The metric of one policy, given the load and the tasks running; `None` without data (no task
/// runs).
/// `memory_pct`: the service's memory utilisation, when a policy tracks it.
pub fn metric_value(
    metric: ScalingMetric,
    rps: f64,
    cpu_s_per_request: f64,
    running: u32,
    task_vcpus: f64,
    memory_pct: Option<f64>,
) -> Option<f64> {
    if running == 0 {
        return None;
    }
    let n = f64::from(running);
    Some(match metric {
        ScalingMetric::RequestsPerTarget => rps * 60.0 / n,
        // Tasks cannot use more CPU than they have: the metric saturates at 100 %.
        ScalingMetric::Cpu => (100.0 * rps * cpu_s_per_request / (n * task_vcpus)).min(100.0),
        ScalingMetric::Memory => memory_pct?,
    })
}

/// CloudWatch's service memory utilisation: the memory the tasks use over the memory their task
/// definitions reserve, %; `None` with no task reporting. (Usage may exceed the reservation.)
pub fn memory_utilisation(used_mib: u64, reserved_mib: u64) -> Option<f64> {
    (reserved_mib > 0).then(|| 100.0 * used_mib as f64 / reserved_mib as f64)
}

/// Target tracking's capacity for one policy: the capacity at which the metric would be at
/// target, rounded up.
pub fn tracked_capacity(current: u32, value: f64, target: f64) -> u32 {
    let c = f64::from(current) * value / target;
    // Rounding noise must not add a task: 10 × 60 / 60 is 10.
    (c - 1e-9).ceil().max(0.0) as u32
}

/// One period: updates the alarms with this datapoint of each policy and returns the new
/// desired count, if the service scales. A policy's capacity is worked out from the tasks the
/// metric was measured on (`running`), so tasks already added but not yet running count toward
/// the desired count instead of being asked for again. Several policies: out if any policy's high alarm is
/// in ALARM (the largest capacity wins); in only if every policy that may scale in is in its low
/// alarm (and to the largest capacity any policy asks for). Cooldowns: within the scale-out
/// cooldown only a larger scale-out than the last; no scale-in within the scale-in cooldown; a
/// scale-out ends the scale-in cooldown.
pub fn decide(a: &mut Alarms, spec: &ServiceAutoScaling, values: &[Option<f64>], current: u32, running: u32, now: SimTime) -> Option<u32> {
    let policies: &[TargetTracking] = &spec.policies;
    let mut out: Option<u32> = None;
    let mut in_ok = policies.iter().any(|p| !p.disable_scale_in);
    let mut wanted = 0u32;
    for (i, (p, v)) in policies.iter().zip(values).enumerate() {
        let Some(v) = *v else {
            // INSUFFICIENT_DATA: this policy neither scales out nor agrees to scale in.
            a.high[i] = 0;
            a.low[i] = 0;
            in_ok = false;
            continue;
        };
        a.high[i] = if v > p.target { a.high[i] + 1 } else { 0 };
        a.low[i] = if v < LOW_FRACTION * p.target { a.low[i] + 1 } else { 0 };
        let cap = tracked_capacity(running, v, p.target);
        wanted = wanted.max(cap);
        if a.high[i] >= HIGH_DATAPOINTS && cap > current {
            out = Some(out.map_or(cap, |o| o.max(cap)));
        }
        if !p.disable_scale_in && a.low[i] < LOW_DATAPOINTS {
            in_ok = false;
        }
    }
    if let Some(to) = out {
        let to = to.clamp(a.min, a.max);
        let in_cooldown = a.last_out.filter(|&(at, _)| now < at + spec.scale_out_cooldown);
        if let Some((_, reached)) = in_cooldown
            && to <= reached
        {
            return None;
        }
        if to <= current {
            return None;
        }
        a.last_out = Some((now, to));
        a.last_in = None;
        return Some(to);
    }
    if in_ok {
        if a.last_in.is_some_and(|at| now < at + spec.scale_in_cooldown) {
            return None;
        }
        let to = wanted.clamp(a.min, a.max);
        if to < current {
            a.last_in = Some(now);
            return Some(to);
        }
    }
    None
}

/// `PercentChangeInCapacity` of `current`, rounded as Application Auto Scaling does: above 1
/// down, between 0 and 1 to 1, between -1 and 0 to -1, below -1 up (toward 0); at least
/// `min_magnitude` either way.
pub fn percent_change(current: u32, percent: i32, min_magnitude: u32) -> i64 {
    let raw = f64::from(current) * f64::from(percent) / 100.0;
    let rounded = if raw > 1.0 {
        raw.floor()
    } else if raw > 0.0 {
        1.0
    } else if raw == 0.0 {
        0.0
    } else if raw >= -1.0 {
        -1.0
    } else {
        raw.ceil()
    } as i64;
    let m = i64::from(min_magnitude);
    if rounded > 0 && rounded < m {
        m
    } else if rounded < 0 && -rounded < m {
        -m
    } else {
        rounded
    }
}

/// The step whose range holds `breach` (metric − threshold): above the threshold a step holds
/// its lower bound, below it its upper bound.
pub fn step_for(p: &StepPolicy, breach: f64) -> Option<i32> {
    p.steps
        .iter()
        .find(|s| {
            let lo = s.lower.unwrap_or(f64::NEG_INFINITY);
            let hi = s.upper.unwrap_or(f64::INFINITY);
            if breach >= 0.0 { lo <= breach && breach < hi } else { lo < breach && breach <= hi }
        })
        .map(|s| s.adjustment)
}

/// The capacity `adjustment` asks for from `from`.
fn adjusted(p: &StepPolicy, from: u32, adjustment: i32) -> i64 {
    match p.adjustment {
        Adjustment::ChangeInCapacity => i64::from(from) + i64::from(adjustment),
        Adjustment::PercentChangeInCapacity => i64::from(from) + percent_change(from, adjustment, p.min_adjustment_magnitude),
        Adjustment::ExactCapacity => i64::from(adjustment),
    }
}

/// One period of a step policy: updates its alarm with this datapoint (`None`: missing, not
/// breaching) and, while the alarm is in ALARM, returns the count its step asks for. Cooldown:
/// within it a scale-out counts the capacity the last one added (it adds only what goes beyond
/// the capacity before it, from there), and no scale-in happens; a scale-out ends a scale-in's
/// cooldown.
pub fn step_decide(a: &mut StepAlarm, p: &StepPolicy, value: Option<f64>, current: u32, bounds: (u32, u32), now: SimTime) -> Option<u32> {
    let breaching = value.is_some_and(|v| p.comparison.breaches(v, p.threshold));
    a.window.push_back(breaching);
    if a.window.len() > p.evaluation_periods as usize {
        a.window.pop_front();
    }
    let in_alarm = a.window.iter().filter(|&&b| b).count() >= p.datapoints_to_alarm as usize;
    let (Some(v), true) = (value, in_alarm) else { return None };
    let adjustment = step_for(p, v - p.threshold)?;
    let clamp = |c: i64| c.clamp(i64::from(bounds.0), i64::from(bounds.1)) as u32;
    let to = clamp(adjusted(p, current, adjustment));
    if to > current {
        let to = match a.last_out {
            Some((at, before)) if now < at + p.cooldown => clamp(adjusted(p, before, adjustment)),
            _ => {
                a.last_out = Some((now, current));
                to
            }
        };
        if to <= current {
            return None;
        }
        a.last_in = None;
        return Some(to);
    }
    if to < current {
        if a.last_in.is_some_and(|at| now < at + p.cooldown) {
            return None;
        }
        a.last_in = Some(now);
        return Some(to);
    }
    None
}

/// The per-run state of service auto scaling.
pub(super) struct AutoScaling {
    /// (service, workload, alarms) per scaled service.
    pub scaled: Vec<(u32, u32, Alarms)>,
    /// Per workload: tasks RUNNING (or stopping) now.
    pub running: Vec<u32>,
    /// Per scaled service: the first policy's last value, for the time series.
    pub last_metric: Vec<f64>,
    pub period: SimTime,
}

impl AutoScaling {
    pub fn new(scenario: &crate::scenario::Scenario, service_of: impl Fn(u32) -> Option<u32>) -> Option<AutoScaling> {
        let mut scaled = Vec::new();
        let mut period = SimTime::from_secs(60);
        for (w, spec) in scenario.auto_scaling.iter().enumerate() {
            if let Some(spec) = spec {
                let service = service_of(w as u32).expect("auto scaling is read for services only");
                scaled.push((service, w as u32, Alarms::new(spec)));
                period = period.min(spec.period());
            }
        }
        if scaled.is_empty() {
            return None;
        }
        let n = scaled.len();
        Some(AutoScaling { scaled, running: vec![0; scenario.workloads.len()], last_metric: vec![f64::NAN; n], period })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::RateSchedule;

    fn spec(policies: Vec<TargetTracking>) -> ServiceAutoScaling {
        ServiceAutoScaling {
            min_capacity: 1,
            max_capacity: 100,
            policies,
            step_policies: Vec::new(),
            scale_out_cooldown: SimTime::from_secs(300),
            scale_in_cooldown: SimTime::from_secs(300),
            load: RateSchedule::constant(1.0),
            cpu_seconds_per_request: 0.01,
            high_resolution: false,
            scheduled: Vec::new(),
        }
    }

    fn cpu(target: f64) -> TargetTracking {
        TargetTracking { metric: ScalingMetric::Cpu, target, disable_scale_in: false }
    }

    fn minute(m: u64) -> SimTime {
        SimTime::from_secs(60 * m)
    }

    fn step_policy(adjustment: Adjustment, steps: &[(Option<f64>, Option<f64>, i32)]) -> StepPolicy {
        StepPolicy {
            metric: ScalingMetric::Cpu,
            threshold: 70.0,
            comparison: crate::scenario::autoscaling::Comparison::GreaterOrEqual,
            evaluation_periods: 3,
            datapoints_to_alarm: 2,
            adjustment,
            steps: steps
                .iter()
                .map(|&(lower, upper, adjustment)| crate::scenario::autoscaling::Step { lower, upper, adjustment })
                .collect(),
            cooldown: SimTime::from_secs(300),
            min_adjustment_magnitude: 0,
        }
    }

    #[test]
    fn percent_changes_round_as_application_auto_scaling_does() {
        assert_eq!(percent_change(10, 25, 0), 2, "2.5 rounds down");
        assert_eq!(percent_change(2, 25, 0), 1, "0.5 rounds to 1");
        assert_eq!(percent_change(2, -25, 0), -1, "-0.5 rounds to -1");
        assert_eq!(percent_change(10, -25, 0), -2, "-2.5 rounds toward 0");
        // The documented example: 25 % of 4 tasks is 1, MinAdjustmentMagnitude 2 makes it 2.
        assert_eq!(percent_change(4, 25, 2), 2);
    }

    #[test]
    fn a_step_is_picked_by_the_breach_and_the_alarm_needs_m_of_n_datapoints() {
        let p = step_policy(Adjustment::ChangeInCapacity, &[(Some(0.0), Some(15.0), 2), (Some(15.0), None, 3)]);
        assert_eq!((step_for(&p, 0.0), step_for(&p, 14.9), step_for(&p, 15.0), step_for(&p, -0.1)), (Some(2), Some(2), Some(3), None));
        let mut a = StepAlarm::default();
        let b = (1, 100);
        // 2 of 3 breaching: the first breach alone does not alarm, the second does.
        assert_eq!(step_decide(&mut a, &p, Some(80.0), 10, b, minute(1)), None);
        assert_eq!(step_decide(&mut a, &p, Some(60.0), 10, b, minute(2)), None);
        assert_eq!(step_decide(&mut a, &p, Some(80.0), 10, b, minute(3)), Some(12));
        // The documented cooldown example: +2 done, then within the cooldown a +3 step adds
        // only 1 (the 2 already added count), to 10 + 3 = 13.
        assert_eq!(step_decide(&mut a, &p, Some(90.0), 12, b, minute(4)), Some(13));
        // A +2 step inside the cooldown adds nothing: 10 + 2 is not above 13.
        assert_eq!(step_decide(&mut a, &p, Some(75.0), 13, b, minute(5)), None);
        // After it, the same step adds 2 from the current count.
        assert_eq!(step_decide(&mut a, &p, Some(75.0), 13, b, minute(9)), Some(15));
    }

    #[test]
    fn a_step_scale_in_waits_its_cooldown_and_exact_capacity_sets_the_count() {
        let mut p = step_policy(Adjustment::PercentChangeInCapacity, &[(None, Some(0.0), -20)]);
        p.comparison = crate::scenario::autoscaling::Comparison::LessOrEqual;
        p.threshold = 30.0;
        p.datapoints_to_alarm = 3;
        let mut a = StepAlarm::default();
        let b = (2, 100);
        assert_eq!(step_decide(&mut a, &p, Some(20.0), 10, b, minute(1)), None);
        assert_eq!(step_decide(&mut a, &p, Some(20.0), 10, b, minute(2)), None);
        assert_eq!(step_decide(&mut a, &p, Some(20.0), 10, b, minute(3)), Some(8), "-20 % of 10");
        assert_eq!(step_decide(&mut a, &p, Some(20.0), 8, b, minute(4)), None, "scale-in cooldown");
        assert_eq!(step_decide(&mut a, &p, Some(20.0), 8, b, minute(8)), Some(7), "-1.6 rounds toward 0: -1");
        let exact = step_policy(Adjustment::ExactCapacity, &[(Some(0.0), None, 30)]);
        let mut e = StepAlarm::default();
        step_decide(&mut e, &exact, Some(99.0), 10, b, minute(1));
        assert_eq!(step_decide(&mut e, &exact, Some(99.0), 10, b, minute(2)), Some(30));
        // The bounds hold.
        let mut f = StepAlarm::default();
        step_decide(&mut f, &exact, Some(99.0), 10, (2, 20), minute(1));
        assert_eq!(step_decide(&mut f, &exact, Some(99.0), 10, (2, 20), minute(2)), Some(20));
    }

    #[test]
    fn scheduled_actions_move_the_bounds_and_force_the_count_into_them() {
        let s = spec(vec![cpu(60.0)]);
        let mut a = Alarms::new(&s);
        assert_eq!(a.apply_scheduled(Some(20), None, 10), Some(20), "a higher minimum scales out");
        assert_eq!((a.min, a.max), (20, 100));
        assert_eq!(a.apply_scheduled(None, Some(15), 20), Some(15), "a lower maximum scales in");
        assert_eq!((a.min, a.max), (15, 15));
        assert_eq!(a.apply_scheduled(Some(2), Some(40), 15), None, "inside the new bounds: no change");
        // Target tracking then works within them.
        for m in 1..3 {
            decide(&mut a, &s, &[Some(100.0)], 30, 30, minute(m));
        }
        assert_eq!(decide(&mut a, &s, &[Some(100.0)], 30, 30, minute(3)), Some(40), "capped at the scheduled maximum");
    }

    #[test]
    fn metrics_from_the_load() {
        // 100 requests/s at 10 ms of CPU each on 4 tasks of 0.5 vCPU: 1 vCPU used of 2 = 50 %.
        assert_eq!(metric_value(ScalingMetric::Cpu, 100.0, 0.01, 4, 0.5, None), Some(50.0));
        assert_eq!(metric_value(ScalingMetric::Cpu, 1000.0, 0.01, 4, 0.5, None), Some(100.0), "saturates");
        assert_eq!(metric_value(ScalingMetric::RequestsPerTarget, 50.0, 0.0, 3, 1.0, None), Some(1000.0));
        assert_eq!(metric_value(ScalingMetric::Cpu, 100.0, 0.01, 0, 0.5, None), None);
    }

    #[test]
    fn a_step_in_cpu_scales_out_at_the_third_datapoint_to_the_tracked_count() {
        let s = spec(vec![cpu(60.0)]);
        let mut a = Alarms::new(&s);
        // 10 tasks at 90 % against a 60 % target: ceil(10 × 90 / 60) = 15, at the third minute.
        assert_eq!(decide(&mut a, &s, &[Some(90.0)], 10, 10, minute(1)), None);
        assert_eq!(decide(&mut a, &s, &[Some(90.0)], 10, 10, minute(2)), None);
        assert_eq!(decide(&mut a, &s, &[Some(90.0)], 10, 10, minute(3)), Some(15));
        assert_eq!(tracked_capacity(10, 60.0, 60.0), 10);
    }

    #[test]
    fn within_the_scale_out_cooldown_only_a_larger_scale_out_goes_ahead() {
        let s = spec(vec![cpu(50.0)]);
        let mut a = Alarms::new(&s);
        for m in 1..3 {
            decide(&mut a, &s, &[Some(100.0)], 10, 10, minute(m));
        }
        assert_eq!(decide(&mut a, &s, &[Some(100.0)], 10, 10, minute(3)), Some(20));
        // 10 of the 20 are running a minute later, still at 100 %: they ask for 20 again, which
        // the added capacity already covers.
        let mut d = a.clone();
        assert_eq!(decide(&mut d, &s, &[Some(100.0)], 20, 10, minute(4)), None);
        // One minute later, 20 tasks at 60 %: 24 > 20, allowed within the cooldown.
        assert_eq!(decide(&mut a, &s, &[Some(60.0)], 20, 20, minute(4)), Some(24));
        // A smaller one is not: the last reached 24; a reading asking 22 is refused.
        let mut b = a.clone();
        assert_eq!(decide(&mut b, &s, &[Some(55.0)], 20, 20, minute(5)), None, "22 ≤ 24 reached by the last scale-out");
        // After the cooldown, the same reading scales out.
        let mut c = a.clone();
        assert_eq!(decide(&mut c, &s, &[Some(55.0)], 20, 20, minute(10)), Some(22));
    }

    #[test]
    fn scale_in_waits_fifteen_low_datapoints_and_its_cooldown_and_a_scale_out_ends_the_cooldown() {
        let s = spec(vec![cpu(60.0)]);
        let mut a = Alarms::new(&s);
        // 20 tasks at 30 % (< 54): scale in at the 15th datapoint to ceil(20 × 30 / 60) = 10.
        for m in 1..15 {
            assert_eq!(decide(&mut a, &s, &[Some(30.0)], 20, 20, minute(m)), None, "minute {m}");
        }
        assert_eq!(decide(&mut a, &s, &[Some(30.0)], 20, 20, minute(15)), Some(10));
        // Still low a minute later: blocked by the 300 s scale-in cooldown.
        assert_eq!(decide(&mut a, &s, &[Some(20.0)], 10, 10, minute(16)), None);
        assert_eq!(decide(&mut a, &s, &[Some(20.0)], 10, 10, minute(20)), Some(4), "cooldown over at 20 min");
        // A scale-out ends the scale-in cooldown.
        let mut b = Alarms::new(&s);
        b.last_in = Some(minute(30));
        b.high[0] = 2;
        assert_eq!(decide(&mut b, &s, &[Some(90.0)], 4, 4, minute(31)), Some(6));
        assert_eq!(b.last_in, None);
        // Readings between 90 % of the target and the target move nothing.
        let mut c = Alarms::new(&s);
        for m in 1..40 {
            assert_eq!(decide(&mut c, &s, &[Some(55.0)], 10, 10, minute(m)), None);
        }
    }

    #[test]
    fn several_policies_out_if_any_in_only_if_all_the_largest_capacity_wins() {
        let requests = TargetTracking { metric: ScalingMetric::RequestsPerTarget, target: 1000.0, disable_scale_in: false };
        let s = spec(vec![cpu(50.0), requests]);
        let mut a = Alarms::new(&s);
        // CPU low, requests high: out to ceil(10 × 1500 / 1000) = 15.
        for m in 1..3 {
            decide(&mut a, &s, &[Some(20.0), Some(1500.0)], 10, 10, minute(m));
        }
        assert_eq!(decide(&mut a, &s, &[Some(20.0), Some(1500.0)], 10, 10, minute(3)), Some(15));
        // Both low for 15 minutes: in to the larger of ceil(10 × 20 / 50) = 4 and ceil(10 × 500 / 1000) = 5.
        let mut b = Alarms::new(&s);
        let mut got = None;
        for m in 1..=15 {
            got = decide(&mut b, &s, &[Some(20.0), Some(500.0)], 10, 10, minute(m));
        }
        assert_eq!(got, Some(5));
        // A policy with scale-in disabled need not be low: the other decides, and the largest
        // capacity still wins (ceil(10 × 20 / 50) = 4 against ceil(10 × 300 / 1000) = 3).
        let s2 = spec(vec![cpu(50.0), TargetTracking { disable_scale_in: true, ..requests }]);
        let mut c = Alarms::new(&s);
        let mut got = None;
        for m in 1..=15 {
            got = decide(&mut c, &s2, &[Some(20.0), Some(300.0)], 10, 10, minute(m));
        }
        assert_eq!(got, Some(4));
        // Without the switch the requests policy must be low too: 950 is not below 900.
        let mut e = Alarms::new(&s);
        for m in 1..=20 {
            assert_eq!(decide(&mut e, &s, &[Some(20.0), Some(950.0)], 10, 10, minute(m)), None);
        }
        // Missing data blocks scale-in.
        let mut d = Alarms::new(&s);
        for m in 1..=20 {
            assert_eq!(decide(&mut d, &s, &[Some(20.0), None], 10, 10, minute(m)), None);
        }
    }
}
