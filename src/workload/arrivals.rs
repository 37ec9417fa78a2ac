//! Poisson arrivals with a constant or piecewise-constant rate.

use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1};

use crate::engine::SimTime;

/// Arrival rate as steps: from `steps[i].0` on, the rate is `steps[i].1` per second. With a
/// `period` (e.g. 24 h), the pattern repeats (a diurnal profile).
#[derive(Debug, Clone, PartialEq)]
pub struct RateSchedule {
    /// Sorted by start time; the first starts at 0.
    pub steps: Vec<(SimTime, f64)>,
    pub period: Option<SimTime>,
}

impl RateSchedule {
    pub fn constant(rate_per_s: f64) -> RateSchedule {
        RateSchedule { steps: vec![(SimTime::ZERO, rate_per_s)], period: None }
    }

    /// Rate in force at `t`.
    pub fn rate_at(&self, t: SimTime) -> f64 {
        self.step_at(t).0
    }

    /// Rate in force at `t`, and when that step ends (`SimTime::MAX` if never).
    fn step_at(&self, t: SimTime) -> (f64, SimTime) {
        let (offset, base) = match self.period {
            Some(p) if p.0 > 0 => (SimTime(t.0 % p.0), SimTime(t.0 - t.0 % p.0)),
            _ => (t, SimTime::ZERO),
        };
        let i = self.steps.partition_point(|&(start, _)| start <= offset) - 1;
        let end = match (self.steps.get(i + 1), self.period) {
            (Some(&(next, _)), _) => base + next,
            (None, Some(p)) => base + p,
            (None, None) => SimTime::MAX,
        };
        (self.steps[i].1, end)
    }

    /// Time-average rate (over one period, or the last step if there is no period).
    pub fn mean_rate(&self) -> f64 {
        match self.period {
            None => self.steps.last().map_or(0.0, |s| s.1),
            Some(p) => {
                let mut total = 0.0;
                for (i, &(start, rate)) in self.steps.iter().enumerate() {
                    let end = self.steps.get(i + 1).map_or(p, |s| s.0);
                    total += rate * end.saturating_sub(start).as_secs_f64();
                }
                total / p.as_secs_f64()
            }
        }
    }

    /// The next arrival strictly after `now`, or `None` if the rate is zero from now on.
    ///
    /// Exact for a piecewise-constant rate: draw a unit-mean exponential "work" amount and spend
    /// it across steps at each step's rate (the time-change construction of a non-homogeneous
    /// Poisson process), so no thinning and no rejected draws.
    pub fn next_arrival(&self, now: SimTime, horizon: SimTime, rng: &mut ChaCha8Rng) -> Option<SimTime> {
        let mut work: f64 = Exp1.sample(rng);
        let mut t = now;
        loop {
            if t >= horizon {
                return None;
            }
            let (rate, step_end) = self.step_at(t);
            let span = step_end.saturating_sub(t).as_secs_f64();
            if rate > 0.0 && work <= rate * span {
                let next = t + SimTime::from_secs_f64(work / rate);
                // A zero gap would schedule two arrivals at the same microsecond; both are kept
                // (they are distinct events ordered by sequence).
                return Some(next);
            }
            if step_end == SimTime::MAX {
                return None;
            }
            work -= rate * span;
            t = step_end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;

    fn count_arrivals(s: &RateSchedule, horizon: SimTime) -> Vec<SimTime> {
        let mut rng = RngStreams::new(3).stream("arrivals", 0);
        let mut out = Vec::new();
        let mut t = SimTime::ZERO;
        while let Some(next) = s.next_arrival(t, horizon, &mut rng) {
            if next >= horizon {
                break;
            }
            out.push(next);
            t = next;
        }
        out
    }

    #[test]
    fn constant_rate_gives_the_expected_count() {
        let n = count_arrivals(&RateSchedule::constant(2.0), SimTime::from_secs(50_000)).len() as f64;
        // Poisson(100,000): sd ≈ 316.
        assert!((n - 100_000.0).abs() < 1_300.0, "{n}");
    }

    #[test]
    fn diurnal_steps_get_their_own_rates() {
        // 0–12 h: 1/s, 12–24 h: 3/s, repeating.
        let s =
            RateSchedule { steps: vec![(SimTime::ZERO, 1.0), (SimTime::from_secs(43_200), 3.0)], period: Some(SimTime::from_secs(86_400)) };
        assert_eq!(s.mean_rate(), 2.0);
        let arrivals = count_arrivals(&s, SimTime::from_secs(2 * 86_400));
        let in_day2_night = arrivals.iter().filter(|t| t.0 >= 86_400_000_000 && t.0 < 86_400_000_000 + 43_200_000_000).count() as f64;
        let in_day2_day = arrivals.iter().filter(|t| t.0 >= 86_400_000_000 + 43_200_000_000).count() as f64;
        assert!((in_day2_night - 43_200.0).abs() < 1_000.0, "{in_day2_night}");
        assert!((in_day2_day - 129_600.0).abs() < 1_800.0, "{in_day2_day}");
    }

    #[test]
    fn zero_rate_forever_means_no_more_arrivals() {
        let s = RateSchedule { steps: vec![(SimTime::ZERO, 1.0), (SimTime::from_secs(10), 0.0)], period: None };
        let a = count_arrivals(&s, SimTime::from_secs(1_000));
        assert!(a.iter().all(|t| *t <= SimTime::from_secs(10)));
    }
}
