//! When a task turns healthy and when it is found unhealthy, from its health checks: its target
//! group's (behind a load balancer) and its essential containers' own `healthCheck`s
//! (docs/model.md#load-balancers-and-health-checks).
//!
//! Pure functions of the check settings and of when the task's checks start failing; times are
//! offsets from RUNNING (when the target is registered and the containers' checks begin).
//!
//! Architecture invariant: nothing here schedules or draws; `rollout.rs` does.

use crate::engine::SimTime;
use crate::model::taskdef::ContainerHealthCheck;
use crate::scenario::deployment::NewTargetHealth;
use crate::scenario::load_balancer::TargetHealthCheck;

/// Which check found a task unhealthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedCheck {
    /// Its target group's health check (ELB).
    Target,
    /// An essential container's `healthCheck`.
    Container,
}

/// One check's verdicts: when it first passes, when it finds the task unhealthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verdict {
    pub healthy_at: Option<SimTime>,
    pub unhealthy_at: Option<SimTime>,
}

/// The first check (at `k × interval`, k ≥ 1) at or after `fails_from`.
fn first_failing(interval: SimTime, fails_from: SimTime) -> u64 {
    fails_from.0.div_ceil(interval.0).max(1)
}

/// A target group's checks run every `interval` from registration, `registration` after
/// RUNNING. A new target is healthy after `healthy_threshold` passing checks (or one, with the
/// other reading), and unhealthy after `unhealthy_threshold` consecutive failing ones.
/// `fails_from`: when, after RUNNING, its checks start failing (`None`: they always pass).
/// Times are from RUNNING.
pub fn registered_target_verdict(
    hc: &TargetHealthCheck,
    reading: NewTargetHealth,
    registration: SimTime,
    fails_from: Option<SimTime>,
) -> Verdict {
    let v = target_verdict(hc, reading, fails_from.map(|f| f.saturating_sub(registration)));
    let later = |t: Option<SimTime>| t.map(|t| t + registration);
    Verdict { healthy_at: later(v.healthy_at), unhealthy_at: later(v.unhealthy_at) }
}

/// The same, from registration.
pub fn target_verdict(hc: &TargetHealthCheck, reading: NewTargetHealth, fails_from: Option<SimTime>) -> Verdict {
    let passes = match reading {
        NewTargetHealth::Threshold => u64::from(hc.healthy_threshold),
        NewTargetHealth::OneCheck => 1,
    };
    let healthy = SimTime(hc.interval.0 * passes);
    match fails_from {
        None => Verdict { healthy_at: Some(healthy), unhealthy_at: None },
        Some(from) => {
            let k = first_failing(hc.interval, from);
            Verdict {
                healthy_at: (k > passes).then_some(healthy),
                unhealthy_at: Some(SimTime(hc.interval.0 * (k + u64::from(hc.unhealthy_threshold) - 1))),
            }
        }
    }
}

/// A container's check runs every `interval` after it starts; the first pass makes it HEALTHY.
/// It is UNHEALTHY after `retries` consecutive failures, not counting those within its
/// `startPeriod`.
pub fn container_verdict(hc: &ContainerHealthCheck, fails_from: Option<SimTime>) -> Verdict {
    let interval = SimTime::from_secs(u64::from(hc.interval_s));
    match fails_from {
        None => Verdict { healthy_at: Some(interval), unhealthy_at: None },
        Some(from) => {
            let k = first_failing(interval, from);
            // The first check that counts comes after the start period.
            let first_counted = u64::from(hc.start_period_s) / u64::from(hc.interval_s) + 1;
            let k_counted = k.max(first_counted);
            Verdict {
                healthy_at: (k > 1).then_some(interval),
                unhealthy_at: Some(SimTime(interval.0 * (k_counted + u64::from(hc.retries) - 1))),
            }
        }
    }
}

/// What one task's checks decide, as offsets from RUNNING.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthPlan {
    /// When it counts as healthy for the deployment (`None`: never).
    pub healthy_at: Option<SimTime>,
    /// When ECS stops it as unhealthy (after the grace period), and which check failed.
    pub stop: Option<(SimTime, FailedCheck)>,
}

/// Combines the task's checks: healthy once every check has passed (40 s after RUNNING, or
/// `no_checks`, when it has none); stopped at the first failed check, but not within the
/// `grace` period. `target`, `containers`: the verdicts of the checks it has.
pub fn plan(target: Option<Verdict>, containers: &[Verdict], no_checks: SimTime, grace: SimTime) -> HealthPlan {
    let mut checks = target.iter().chain(containers);
    let healthy_at = if target.is_none() && containers.is_empty() {
        Some(no_checks)
    } else {
        checks.try_fold(SimTime::ZERO, |latest, v| v.healthy_at.map(|h| latest.max(h)))
    };
    let failed_target = target.and_then(|v| v.unhealthy_at).map(|t| (t, FailedCheck::Target));
    let failed_container = containers.iter().filter_map(|v| v.unhealthy_at).min().map(|t| (t, FailedCheck::Container));
    // Ties go to the container check: a dead container has nothing to drain.
    let first = match (failed_target, failed_container) {
        (Some(t), Some(c)) => Some(if c.0 <= t.0 { c } else { t }),
        (t, c) => t.or(c),
    };
    let stop = first.map(|(at, check)| (at.max(grace), check));
    // A task found unhealthy before it passed does not count as healthy.
    let healthy_at = healthy_at.filter(|&h| stop.is_none_or(|(at, _)| h < at));
    HealthPlan { healthy_at, stop }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: u64) -> SimTime {
        SimTime::from_secs(x)
    }

    fn alb() -> TargetHealthCheck {
        TargetHealthCheck::default_for(crate::scenario::load_balancer::LbType::Application)
    }

    const CONTAINER: ContainerHealthCheck = ContainerHealthCheck { interval_s: 30, timeout_s: 5, retries: 3, start_period_s: 0 };

    #[test]
    fn a_new_target_is_healthy_after_threshold_times_interval_or_one_check() {
        // ALB defaults: 5 × 30 s = 150 s; the one-check reading: 30 s.
        assert_eq!(target_verdict(&alb(), NewTargetHealth::Threshold, None).healthy_at, Some(s(150)));
        assert_eq!(target_verdict(&alb(), NewTargetHealth::OneCheck, None).healthy_at, Some(s(30)));
        // Registered 10 s after RUNNING: checked from then on, failing from 100 s after RUNNING
        // (90 s after registration: the check at 90 s fails, the one at 120 s too).
        let late = registered_target_verdict(&alb(), NewTargetHealth::Threshold, s(10), None);
        assert_eq!(late.healthy_at, Some(s(160)));
        let failing = registered_target_verdict(&alb(), NewTargetHealth::Threshold, s(10), Some(s(100)));
        assert_eq!((failing.healthy_at, failing.unhealthy_at), (None, Some(s(130))));
        // Users' faster setting: 2 × 10 s = 20 s.
        let fast = TargetHealthCheck { interval: s(10), healthy_threshold: 2, ..alb() };
        assert_eq!(target_verdict(&fast, NewTargetHealth::Threshold, None).healthy_at, Some(s(20)));
    }

    #[test]
    fn a_failing_target_is_unhealthy_after_unhealthy_threshold_checks() {
        // Failing from the start: checks at 30 and 60 s fail, unhealthy at 60 s, never healthy.
        let v = target_verdict(&alb(), NewTargetHealth::Threshold, Some(SimTime::ZERO));
        assert_eq!(v, Verdict { healthy_at: None, unhealthy_at: Some(s(60)) });
        // Failing from 10 min: healthy at 150 s, then the checks at 600 and 630 s fail.
        let v = target_verdict(&alb(), NewTargetHealth::Threshold, Some(s(600)));
        assert_eq!(v, Verdict { healthy_at: Some(s(150)), unhealthy_at: Some(s(630)) });
        // Failing from 100 s: the checks at 30, 60, 90 s passed, not five: never healthy.
        let v = target_verdict(&alb(), NewTargetHealth::Threshold, Some(s(100)));
        assert_eq!(v, Verdict { healthy_at: None, unhealthy_at: Some(s(150)) });
    }

    #[test]
    fn a_container_check_counts_no_failure_within_its_start_period() {
        assert_eq!(container_verdict(&CONTAINER, None).healthy_at, Some(s(30)));
        // Defaults: failures at 30, 60, 90 s: UNHEALTHY at 90 s.
        assert_eq!(container_verdict(&CONTAINER, Some(SimTime::ZERO)).unhealthy_at, Some(s(90)));
        // startPeriod 60 s: the checks at 30 and 60 s do not count; 90, 120, 150 s do.
        let slow = ContainerHealthCheck { start_period_s: 60, ..CONTAINER };
        assert_eq!(container_verdict(&slow, Some(SimTime::ZERO)).unhealthy_at, Some(s(150)));
    }

    #[test]
    fn health_needs_every_check_and_the_grace_period_defers_the_stop() {
        let t = target_verdict(&alb(), NewTargetHealth::Threshold, None);
        let c = container_verdict(&CONTAINER, None);
        assert_eq!(plan(Some(t), &[c], s(40), SimTime::ZERO), HealthPlan { healthy_at: Some(s(150)), stop: None });
        assert_eq!(plan(None, &[], s(40), SimTime::ZERO).healthy_at, Some(s(40)));
        let failing = target_verdict(&alb(), NewTargetHealth::Threshold, Some(SimTime::ZERO));
        let p = plan(Some(failing), &[c], s(40), s(300));
        assert_eq!(p, HealthPlan { healthy_at: None, stop: Some((s(300), FailedCheck::Target)) });
        let dead = container_verdict(&CONTAINER, Some(SimTime::ZERO));
        assert_eq!(plan(Some(failing), &[dead], s(40), SimTime::ZERO).stop, Some((s(60), FailedCheck::Target)));
        let late = target_verdict(&alb(), NewTargetHealth::Threshold, Some(s(600)));
        assert_eq!(plan(Some(late), &[dead], s(40), SimTime::ZERO).stop, Some((s(90), FailedCheck::Container)));
    }
}
