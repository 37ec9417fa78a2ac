//! Service recovery after failures (with `[failures]`): tasks lost by cause, each service's
//! running count against its desired count — loss episodes and how long each took to recover,
//! the lowest running fraction, the time spent below `failures.degraded_below` of the desired
//! count.
//!
//! A state counts only if it lasts: tasks stopped by one failure and replacements started in the
//! same instant are one change, not a dip. Counting starts after the warm-up, once the service
//! first runs its desired count (the initial launch is not a loss).

use super::Recorder;
use crate::engine::SimTime;
use crate::metrics::{Metric, MetricValues, stats};
use crate::scenario::Scenario;
use crate::sim::failures::Cause;
use crate::workload::Arrivals;

pub(super) struct Recovery {
    degraded_below: f64,
    warmup: SimTime,
    services: Vec<ServiceRecord>,
    /// Loss episodes that ended, in seconds from the first short moment to the desired count.
    episodes_s: Vec<f64>,
}

struct ServiceRecord {
    desired: u32,
    running: u32,
    /// Since when `running` has held.
    since: SimTime,
    /// Counting has started: after the warm-up, the desired count ran.
    tracking: bool,
    short_since: Option<SimTime>,
    degraded_since: Option<SimTime>,
    degraded_us: u64,
    min_fraction: f64,
}

impl ServiceRecord {
    fn fraction(&self) -> f64 {
        if self.desired == 0 { 1.0 } else { f64::from(self.running) / f64::from(self.desired) }
    }

    /// The state held since `since` lasted: it counts.
    fn commit(&mut self, warmup: SimTime, degraded_below: f64, episodes_s: &mut Vec<f64>) {
        let at = self.since;
        if at < warmup {
            return;
        }
        if !self.tracking {
            if self.running < self.desired {
                return;
            }
            self.tracking = true;
        }
        let fraction = self.fraction();
        self.min_fraction = self.min_fraction.min(fraction);
        match (self.running < self.desired, self.short_since) {
            (true, None) => self.short_since = Some(at),
            (false, Some(from)) => {
                episodes_s.push(at.saturating_sub(from).as_secs_f64());
                self.short_since = None;
            }
            _ => {}
        }
        match (fraction < degraded_below, self.degraded_since) {
            (true, None) => self.degraded_since = Some(at),
            (false, Some(from)) => {
                self.degraded_us += at.saturating_sub(from).0;
                self.degraded_since = None;
            }
            _ => {}
        }
    }
}

impl Recovery {
    /// `None` without `[failures]`: nothing is tracked, and the recovery metrics are NaN.
    pub(super) fn new(scenario: &Scenario) -> Option<Recovery> {
        let degraded_below = scenario.recovery_threshold()?;
        let services = scenario
            .workloads
            .iter()
            .filter_map(|w| match w.arrivals {
                Arrivals::Service { desired_count } => Some(ServiceRecord {
                    desired: desired_count,
                    running: 0,
                    since: SimTime::ZERO,
                    tracking: false,
                    short_since: None,
                    degraded_since: None,
                    degraded_us: 0,
                    min_fraction: 1.0,
                }),
                _ => None,
            })
            .collect();
        Some(Recovery { degraded_below, warmup: scenario.warmup, services, episodes_s: Vec::new() })
    }

    /// Time-series columns: each service's running tasks as a percentage of its desired count.
    pub(super) fn columns(scenario: &Scenario) -> Vec<String> {
        if scenario.recovery_threshold().is_none() {
            return Vec::new();
        }
        scenario
            .workloads
            .iter()
            .filter(|w| matches!(w.arrivals, Arrivals::Service { .. }))
            .map(|w| format!("running_pct_{}", w.name))
            .collect()
    }

    pub(super) fn warmup_ended(&mut self, now: SimTime) {
        for s in &mut self.services {
            s.since = s.since.max(now);
        }
    }

    /// The service's state held until `now` counts; the caller changes it from `now` on.
    fn at(&mut self, service: u32, now: SimTime) -> &mut ServiceRecord {
        let s = &mut self.services[service as usize];
        if now > s.since {
            s.commit(self.warmup, self.degraded_below, &mut self.episodes_s);
        }
        s.since = now;
        s
    }

    fn changed(&mut self, service: u32, delta: i32, now: SimTime) {
        let s = self.at(service, now);
        s.running = s.running.checked_add_signed(delta).expect("a service's running count stays ≥ 0");
    }

    /// Service auto scaling moved the desired count: the running count is measured against the
    /// new one from now on.
    fn desired_changed(&mut self, service: u32, desired: u32, now: SimTime) {
        self.at(service, now).desired = desired;
    }

    fn sample(&self, row: &mut Vec<f64>) {
        row.extend(self.services.iter().map(|s| 100.0 * s.fraction()));
    }

    fn finish(mut self, m: &mut MetricValues, end: SimTime) {
        let mut censored = 0u32;
        let (mut min_fraction, mut degraded_s) = (f64::NAN, f64::NAN);
        for s in &mut self.services {
            if end > s.since {
                s.commit(self.warmup, self.degraded_below, &mut self.episodes_s);
            }
            // Still short or degraded at the horizon: counted up to it (right-censored).
            if let Some(from) = s.short_since {
                self.episodes_s.push(end.saturating_sub(from).as_secs_f64());
                censored += 1;
            }
            if let Some(from) = s.degraded_since {
                s.degraded_us += end.saturating_sub(from).0;
            }
            if s.tracking {
                min_fraction = if min_fraction.is_nan() { s.min_fraction } else { min_fraction.min(s.min_fraction) };
                let d = s.degraded_us as f64 / 1e6;
                degraded_s = if degraded_s.is_nan() { d } else { degraded_s.max(d) };
            }
        }
        self.episodes_s.sort_by(f64::total_cmp);
        let episodes = &self.episodes_s;
        m.set(Metric::RecoveryEpisodes, episodes.len() as f64);
        m.set(Metric::RecoveriesCensored, f64::from(censored));
        m.set(Metric::RecoveryTimeP50, if episodes.is_empty() { 0.0 } else { stats::quantile_sorted(episodes, 0.5) });
        m.set(Metric::RecoveryTimeMax, episodes.last().copied().unwrap_or(0.0));
        m.set(Metric::ServiceRunningFractionMin, min_fraction);
        m.set(Metric::ServiceTimeDegraded, degraded_s);
    }
}

impl Recorder {
    /// A host's instance failed (its group's failure process; not an AZ outage).
    pub fn host_failed(&mut self) {
        self.count(Metric::HostFailures);
    }

    /// A provisioning or running task is about to stop because its host or AZ failed.
    pub fn task_lost(&mut self, cause: Cause) {
        self.count(match cause {
            Cause::HostFailure => Metric::TasksLostHostFailure,
            Cause::AzOutage => Metric::TasksLostAzOutage,
        });
    }

    /// A task of `service` reached RUNNING (`delta` 1) or stopped from RUNNING (−1).
    pub fn service_running_changed(&mut self, service: u32, delta: i32, now: SimTime) {
        if let Some(r) = self.recovery.as_mut() {
            r.changed(service, delta, now);
        }
    }

    /// Service auto scaling set `service`'s desired count to `desired`.
    pub fn service_desired_changed(&mut self, service: u32, desired: u32, now: SimTime) {
        if let Some(r) = self.recovery.as_mut() {
            r.desired_changed(service, desired, now);
        }
    }

    pub(super) fn recovery_warmup_ended(&mut self, now: SimTime) {
        if let Some(r) = self.recovery.as_mut() {
            r.warmup_ended(now);
        }
    }

    pub(super) fn recovery_sample(&self, row: &mut Vec<f64>) {
        if let Some(r) = &self.recovery {
            r.sample(row);
        }
    }

    pub(super) fn finish_recovery(&mut self, m: &mut MetricValues, end: SimTime) {
        match self.recovery.take() {
            Some(r) => r.finish(m, end),
            None => {
                for metric in [
                    Metric::RecoveryEpisodes,
                    Metric::RecoveriesCensored,
                    Metric::RecoveryTimeP50,
                    Metric::RecoveryTimeMax,
                    Metric::ServiceRunningFractionMin,
                    Metric::ServiceTimeDegraded,
                ] {
                    m.set(metric, f64::NAN);
                }
            }
        }
    }
}
