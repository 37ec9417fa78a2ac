//! Service scheduler state: desired count, the tasks it wants placed, its launch-rate token
//! bucket (250 tasks/min per service on EC2, ECS-REFERENCE §1.10) and its retry back-off after
//! failed placements (doubling, capped at 15 minutes).

use std::collections::VecDeque;

use crate::engine::{EventId, SimTime};
use crate::model::TaskId;

#[derive(Debug)]
pub struct ServiceState {
    pub workload: u32,
    pub desired: u32,
    /// Tasks wanted but not placed, oldest first.
    pub waiting: VecDeque<TaskId>,
    /// Tasks placed and not stopped.
    pub active: u32,
    /// Launch credit, in microseconds of accrual: one launch costs `us_per_launch`.
    credit_us: u64,
    credit_at: SimTime,
    us_per_launch: u64,
    credit_cap_us: u64,
    pub backoff: SimTime,
    /// The pending scheduler check, if any (at most one per service).
    pub check: Option<EventId>,
}

impl ServiceState {
    pub fn new(workload: u32, desired: u32, launch_rate_per_min: u32, initial_backoff: SimTime) -> ServiceState {
        let us_per_launch = 60_000_000 / u64::from(launch_rate_per_min.max(1));
        // A full minute's worth of launches is available at once; then it refills steadily.
        let credit_cap_us = us_per_launch * u64::from(launch_rate_per_min);
        ServiceState {
            workload,
            desired,
            waiting: VecDeque::new(),
            active: 0,
            credit_us: credit_cap_us,
            credit_at: SimTime::ZERO,
            us_per_launch,
            credit_cap_us,
            backoff: initial_backoff,
            check: None,
        }
    }

    fn refill(&mut self, now: SimTime) {
        let elapsed = now.saturating_sub(self.credit_at).0;
        self.credit_us = (self.credit_us + elapsed).min(self.credit_cap_us);
        self.credit_at = now;
    }

    /// Takes one launch token if available.
    pub fn try_take_token(&mut self, now: SimTime) -> bool {
        self.refill(now);
        if self.credit_us >= self.us_per_launch {
            self.credit_us -= self.us_per_launch;
            true
        } else {
            false
        }
    }

    /// When the next token will be available.
    pub fn next_token_at(&mut self, now: SimTime) -> SimTime {
        self.refill(now);
        now + SimTime(self.us_per_launch.saturating_sub(self.credit_us))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_rate_allows_a_minute_of_burst_then_refills_steadily() {
        let mut s = ServiceState::new(0, 1000, 250, SimTime::from_secs(10));
        let now = SimTime::ZERO;
        let burst = (0..1000).take_while(|_| s.try_take_token(now)).count();
        assert_eq!(burst, 250);
        // 250/min = one every 240 ms.
        assert_eq!(s.next_token_at(now), SimTime::from_millis(240));
        assert!(!s.try_take_token(SimTime::from_millis(239)));
        assert!(s.try_take_token(SimTime::from_millis(240)));
        // Over the next minute exactly 250 more.
        let mut launched = 0;
        let mut t = SimTime::from_millis(240);
        while t <= SimTime::from_millis(240 + 60_000) {
            if s.try_take_token(t) {
                launched += 1;
            }
            t = t + SimTime::from_millis(10);
        }
        assert_eq!(launched, 250);
    }
}
