//! Service scheduler state — desired count, the tasks it wants placed, its launch-rate token
//! bucket (250 tasks/min per service on EC2, 500 on Fargate; ECS-REFERENCE §1.10) and its retry
//! back-off after failed placements or failed starts (doubling, capped at 15 minutes) — and the
//! token bucket itself, also used for the Fargate account launch bucket (burst 100, 20/s).

use std::collections::VecDeque;

use crate::engine::{EventId, SimTime};
use crate::model::TaskId;

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
