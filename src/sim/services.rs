//! Services: the service scheduler's state — desired count, the tasks it wants placed, its
//! launch-rate token bucket (250 tasks/min per service on EC2, 500 on Fargate) and its retry
//! back-off after failed placements or failed starts (doubling, capped at 15 minutes;
//! docs/model.md#runtask-and-the-service-scheduler) — and the token bucket itself, also used for the Fargate account
//! launch bucket (burst 100, 20/s).
//!
//! Owns: [`ServiceState`] per service workload and the scheduler check event
//! ([`ServiceEvent`]). Is told: a task of the service launched, failed, or stopped.
//!
//! Architecture invariant: a service never places or stops a task itself; the coordinator's
//! `service_launch` asks the fleet or Fargate and tells the service what happened. Deployments
//! and the circuit breaker (`deployments.rs`) decide the same way and let the coordinator act.

use std::collections::VecDeque;

use crate::engine::{EventId, SimTime};
use crate::model::TaskId;
use crate::scenario::Scenario;
use crate::scenario::deployment::Stage;
use crate::workload::{Arrivals, LaunchType};

/// A token bucket in integer microseconds of accrual: one token costs `us_per_token`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    credit_us: u64,
    credit_at: SimTime,
    us_per_token: u64,
    cap_us: u64,
}

impl TokenBucket {
    /// Starts full with `burst` tokens; refills at `per_second` tokens per second.
    pub fn new(burst: u32, per_second: f64) -> TokenBucket {
        let us_per_token = ((1e6 / per_second).round() as u64).max(1);
        let cap_us = us_per_token * u64::from(burst.max(1));
        TokenBucket { credit_us: cap_us, credit_at: SimTime::ZERO, us_per_token, cap_us }
    }

    fn refill(&mut self, now: SimTime) {
        let elapsed = now.saturating_sub(self.credit_at).0;
        self.credit_us = (self.credit_us + elapsed).min(self.cap_us);
        self.credit_at = now;
    }

    /// Takes one token if available.
    pub fn try_take(&mut self, now: SimTime) -> bool {
        self.refill(now);
        if self.credit_us >= self.us_per_token {
            self.credit_us -= self.us_per_token;
            true
        } else {
            false
        }
    }

    /// When the next token will be available.
    pub fn next_token_at(&mut self, now: SimTime) -> SimTime {
        self.refill(now);
        now + SimTime(self.us_per_token.saturating_sub(self.credit_us))
    }
}

#[derive(Debug)]
pub struct ServiceState {
    pub workload: u32,
    pub desired: u32,
    /// Tasks wanted but not placed, oldest first.
    pub waiting: VecDeque<TaskId>,
    /// Tasks placed and not stopped.
    pub active: u32,
    pub launches: TokenBucket,
    pub backoff: SimTime,
    /// The pending scheduler check, if any (at most one per service).
    pub check: Option<EventId>,
}

impl ServiceState {
    pub fn new(workload: u32, desired: u32, launch_rate_per_min: u32, initial_backoff: SimTime) -> ServiceState {
        // A full minute's worth of launches is available at once; then it refills steadily.
        let launches = TokenBucket::new(launch_rate_per_min, f64::from(launch_rate_per_min.max(1)) / 60.0);
        ServiceState { workload, desired, waiting: VecDeque::new(), active: 0, launches, backoff: initial_backoff, check: None }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) enum ServiceEvent {
    /// The service scheduler looks at its waiting tasks again (launch rate, back-off).
    Check { service: u32 },
    /// `UpdateService`: the service's `index`-th deployment begins.
    Deploy { service: u32, index: u16 },
    /// A rolling update's step: start and stop what the deployment configuration allows.
    Step { service: u32 },
    /// Blue/green: the bake time of deployment `index` after its traffic shift is over.
    Baked { service: u32, index: u16 },
    /// Blue/green, linear or canary: the `index`-th deployment's traffic shift takes its
    /// `step`-th step.
    Shift { service: u32, index: u16, step: u16 },
    /// The lifecycle hooks of `stage` reported (at production-shift step `step`).
    HookDone { service: u32, index: u16, stage: Stage, step: u16, failed: bool },
}

/// Every service of the run, and which workload each is.
pub(super) struct Services {
    states: Vec<ServiceState>,
    /// Per workload: its service, if it is one.
    service_of: Vec<Option<u32>>,
    retry_initial: SimTime,
    retry_max: SimTime,
}

impl Services {
    pub fn new(scenario: &Scenario) -> Services {
        let mut states = Vec::new();
        let mut service_of = Vec::new();
        let sched = &scenario.service_scheduler;
        for (i, w) in scenario.workloads.iter().enumerate() {
            if let Arrivals::Service { desired_count } = w.arrivals {
                service_of.push(Some(states.len() as u32));
                // 250 tasks/min per service on EC2, 500 on Fargate.
                let rate = match w.launch_type {
                    LaunchType::Ec2 => sched.launch_rate_per_min,
                    LaunchType::Fargate => scenario.fargate.service_launch_rate_per_min,
                };
                states.push(ServiceState::new(i as u32, desired_count, rate, sched.retry_initial));
            } else {
                service_of.push(None);
            }
        }
        Services { states, service_of, retry_initial: sched.retry_initial, retry_max: sched.retry_max }
    }

    pub fn all(&self) -> &[ServiceState] {
        &self.states
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    pub fn of_workload(&self, workload: u32) -> Option<u32> {
        self.service_of[workload as usize]
    }

    pub fn workload(&self, service: u32) -> u32 {
        self.states[service as usize].workload
    }

    /// Takes the oldest waiting task for a launch, if the launch rate allows one now: it counts
    /// as active from here (a task that stops during its own launch finds the count right).
    /// `Err(at)`: the next token's time; `Ok(None)`: nothing waits.
    pub fn take_next(&mut self, service: u32, now: SimTime) -> Result<Option<TaskId>, SimTime> {
        let s = &mut self.states[service as usize];
        if s.waiting.is_empty() {
            return Ok(None);
        }
        if !s.launches.try_take(now) {
            return Err(s.launches.next_token_at(now));
        }
        s.active += 1;
        Ok(s.waiting.pop_front())
    }

    /// The task taken was not placed: it waits again, first in line.
    pub fn put_back(&mut self, service: u32, task: TaskId) {
        let s = &mut self.states[service as usize];
        s.active -= 1;
        s.waiting.push_front(task);
    }

    /// The service wants `task` placed (initially, or in place of one that stopped).
    pub fn want(&mut self, service: u32, task: TaskId) {
        self.states[service as usize].waiting.push_back(task);
    }

    /// A task launched, or a new deployment began: the back-off starts over.
    pub fn reset_backoff(&mut self, service: u32) {
        self.states[service as usize].backoff = self.retry_initial;
    }

    /// The task taken was placed and then failed to start: it is not active (the caller wants a
    /// replacement).
    pub fn start_failed(&mut self, service: u32) {
        self.states[service as usize].active -= 1;
    }

    /// A waiting task is no longer wanted (the desired count went down).
    pub fn unwant(&mut self, service: u32, task: TaskId) {
        let waiting = &mut self.states[service as usize].waiting;
        let at = waiting.iter().position(|&t| t == task).expect("a waiting task");
        waiting.remove(at);
    }

    pub fn set_desired(&mut self, service: u32, desired: u32) {
        self.states[service as usize].desired = desired;
    }

    pub fn waiting(&self, service: u32) -> &VecDeque<TaskId> {
        &self.states[service as usize].waiting
    }

    /// A launch failed: returns how long to wait before trying again, and doubles the wait.
    pub fn back_off(&mut self, service: u32) -> SimTime {
        let s = &mut self.states[service as usize];
        let backoff = s.backoff;
        s.backoff = SimTime((backoff.0 * 2).min(self.retry_max.0));
        backoff
    }

    /// Whether the service has fewer tasks (active and waiting) than it desires.
    pub fn wants_more(&self, service: u32) -> bool {
        let s = &self.states[service as usize];
        (s.active as usize + s.waiting.len()) < s.desired as usize
    }

    /// An active task stopped.
    pub fn task_stopped(&mut self, service: u32) {
        self.states[service as usize].active -= 1;
    }

    /// Whether a scheduler check is pending.
    pub fn check_pending(&self, service: u32) -> bool {
        self.states[service as usize].check.is_some()
    }

    /// Records the pending check; returns the one it replaces, for the caller to cancel.
    pub fn set_check(&mut self, service: u32, check: Option<EventId>) -> Option<EventId> {
        std::mem::replace(&mut self.states[service as usize].check, check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_rate_allows_a_minute_of_burst_then_refills_steadily() {
        let mut s = ServiceState::new(0, 1000, 250, SimTime::from_secs(10));
        let now = SimTime::ZERO;
        let burst = (0..1000).take_while(|_| s.launches.try_take(now)).count();
        assert_eq!(burst, 250);
        // 250/min = one every 240 ms.
        assert_eq!(s.launches.next_token_at(now), SimTime::from_millis(240));
        assert!(!s.launches.try_take(SimTime::from_millis(239)));
        assert!(s.launches.try_take(SimTime::from_millis(240)));
        // Over the next minute exactly 250 more.
        let mut launched = 0;
        let mut t = SimTime::from_millis(240);
        while t <= SimTime::from_millis(240 + 60_000) {
            if s.launches.try_take(t) {
                launched += 1;
            }
            t = t + SimTime::from_millis(10);
        }
        assert_eq!(launched, 250);
    }

    #[test]
    fn fargate_bucket_bursts_100_then_20_per_second() {
        let mut b = TokenBucket::new(100, 20.0);
        assert_eq!((0..500).take_while(|_| b.try_take(SimTime::ZERO)).count(), 100);
        let one_second_later = (0..500).take_while(|_| b.try_take(SimTime::from_secs(1))).count();
        assert_eq!(one_second_later, 20);
    }
}
