//! How one container's memory usage moves over time: a start value drawn from a distribution,
//! then, at every tick of its interval, a re-draw or a bounded random-walk step, a steady leak
//! and, with some probability, a spike that lasts a while.
//!
//! Usage is a step function: it changes only at ticks and at spike ends, so a container costs one
//! event per change and nothing in between. The interval is the model's time resolution (a leak
//! that crosses a limit mid-interval is seen at the next tick).

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Normal};

use crate::engine::SimTime;

/// A distribution of memory sizes, in MiB. Draws below zero become zero.
#[derive(Debug, Clone, PartialEq)]
pub enum SizeDistribution {
    Constant {
        mib: f64,
    },
    Uniform {
        min_mib: f64,
        max_mib: f64,
    },
    /// Truncated at zero.
    Normal {
        mean_mib: f64,
        std_dev_mib: f64,
    },
    /// Parameterised by the mean and standard deviation of the size itself (not of its log).
    LogNormal {
        mean_mib: f64,
        std_dev_mib: f64,
    },
}

impl SizeDistribution {
    /// One draw, in MiB, never negative.
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> f64 {
        let mib = match *self {
            SizeDistribution::Constant { mib } => mib,
            SizeDistribution::Uniform { min_mib, max_mib } => {
                if max_mib > min_mib {
                    rng.random_range(min_mib..max_mib)
                } else {
                    min_mib
                }
            }
            SizeDistribution::Normal { mean_mib, std_dev_mib } => {
                Normal::<f64>::new(mean_mib, std_dev_mib).expect("validated std_dev ≥ 0").sample(rng)
            }
            SizeDistribution::LogNormal { mean_mib, std_dev_mib } => {
                let sigma2 = (1.0 + (std_dev_mib * std_dev_mib) / (mean_mib * mean_mib)).ln();
                LogNormal::<f64>::new(mean_mib.ln() - sigma2 / 2.0, sigma2.sqrt()).expect("validated mean > 0").sample(rng)
            }
        };
        mib.max(0.0)
    }

    /// The mean of the distribution before truncation, in MiB.
    pub fn mean_mib(&self) -> f64 {
        match *self {
            SizeDistribution::Constant { mib } => mib,
            SizeDistribution::Uniform { min_mib, max_mib } => (min_mib + max_mib) / 2.0,
            SizeDistribution::Normal { mean_mib, .. } | SizeDistribution::LogNormal { mean_mib, .. } => mean_mib,
        }
    }
}

/// How usage moves at each tick (before leak and spikes).
#[derive(Debug, Clone, PartialEq)]
pub enum Movement {
    /// Stays at its start value.
    Steady,
    /// Re-drawn from the start distribution.
    Redraw,
    /// A bounded random walk: a step drawn uniformly from [−step, +step], clamped to [min, max].
    Walk { step_mib: f64, min_mib: f64, max_mib: f64 },
}

/// A temporary extra allocation (a burst of requests, a batch of work).
#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    /// Chance, at each tick without a spike, that one starts.
    pub probability: f64,
    pub size: SizeDistribution,
    pub length: SimTime,
}

/// One container's usage process, as the scenario sets it for a family and container name.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageProcess {
    pub start: SizeDistribution,
    /// Time between ticks; each tick moves usage, adds the leak and may start a spike.
    pub interval: SimTime,
    pub movement: Movement,
    /// Steady growth, added at each tick in proportion to the interval.
    pub leak_mib_per_hour: f64,
    pub spike: Option<Spike>,
}

impl UsageProcess {
    /// A container whose usage never changes.
    pub fn constant(mib: f64) -> UsageProcess {
        UsageProcess {
            start: SizeDistribution::Constant { mib },
            interval: SimTime::from_secs(60),
            movement: Movement::Steady,
            leak_mib_per_hour: 0.0,
            spike: None,
        }
    }

    /// Whether usage ever changes after the start (so the container needs events at all).
    pub fn moves(&self) -> bool {
        self.movement != Movement::Steady || self.leak_mib_per_hour != 0.0 || self.spike.as_ref().is_some_and(|s| s.probability > 0.0)
    }
}

/// Where one container's process is now.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageState {
    base_mib: f64,
    leaked_mib: f64,
    spike_mib: f64,
    spike_ends_at: Option<SimTime>,
    next_tick_at: Option<SimTime>,
}

impl UsageState {
    /// Draws the start value at `now` (the container reaching RUNNING).
    pub fn start(process: &UsageProcess, rng: &mut ChaCha8Rng, now: SimTime) -> UsageState {
        let mut base_mib = process.start.sample(rng);
        if let Movement::Walk { min_mib, max_mib, .. } = process.movement {
            base_mib = base_mib.clamp(min_mib, max_mib);
        }
        let next_tick_at = process.moves().then(|| now + process.interval);
        UsageState { base_mib, leaked_mib: 0.0, spike_mib: 0.0, spike_ends_at: None, next_tick_at }
    }

    /// Current usage in whole MiB (rounded; integer so that host sums are exact).
    pub fn usage_mib(&self) -> u32 {
        let mib = (self.base_mib + self.leaked_mib + self.spike_mib).round();
        if mib <= 0.0 {
            0
        } else if mib >= f64::from(u32::MAX) {
            u32::MAX
        } else {
            mib as u32
        }
    }

    /// When usage next changes; `None` if never.
    pub fn next_change_at(&self) -> Option<SimTime> {
        match (self.next_tick_at, self.spike_ends_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Applies every change due at `now` (a spike end, a tick, or both). Draws happen in a fixed
    /// order — movement, then the spike's start and size — from the container's own stream.
    pub fn advance(&mut self, process: &UsageProcess, rng: &mut ChaCha8Rng, now: SimTime) {
        if self.spike_ends_at.is_some_and(|t| t <= now) {
            self.spike_mib = 0.0;
            self.spike_ends_at = None;
        }
        let Some(tick) = self.next_tick_at.filter(|t| *t <= now) else { return };
        match process.movement {
            Movement::Steady => {}
            Movement::Redraw => self.base_mib = process.start.sample(rng),
            Movement::Walk { step_mib, min_mib, max_mib } => {
                let step = if step_mib > 0.0 { rng.random_range(-step_mib..step_mib) } else { 0.0 };
                self.base_mib = (self.base_mib + step).clamp(min_mib, max_mib);
            }
        }
        self.leaked_mib += process.leak_mib_per_hour * process.interval.as_secs_f64() / 3600.0;
        if let Some(spike) = &process.spike
            && self.spike_ends_at.is_none()
            && spike.probability > 0.0
            && rng.random_bool(spike.probability.min(1.0))
        {
            self.spike_mib = spike.size.sample(rng);
            self.spike_ends_at = Some(tick + spike.length);
        }
        self.next_tick_at = Some(tick + process.interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;

    fn rng() -> ChaCha8Rng {
        RngStreams::new(3).stream("memory-usage-test", 0)
    }

    fn steady(mib: f64) -> UsageProcess {
        UsageProcess::constant(mib)
    }

    #[test]
    fn a_steady_process_without_leak_or_spikes_never_changes() {
        let p = steady(300.0);
        let s = UsageState::start(&p, &mut rng(), SimTime::ZERO);
        assert_eq!(s.usage_mib(), 300);
        assert_eq!(s.next_change_at(), None);
    }

    #[test]
    fn a_leak_adds_its_hourly_rate_in_proportion_to_the_interval() {
        let p = UsageProcess { leak_mib_per_hour: 60.0, ..steady(100.0) };
        let mut r = rng();
        let mut s = UsageState::start(&p, &mut r, SimTime::ZERO);
        for minute in 1..=30 {
            assert_eq!(s.next_change_at(), Some(SimTime::from_secs(60 * minute)));
            s.advance(&p, &mut r, SimTime::from_secs(60 * minute));
        }
        // 60 MiB per hour for half an hour.
        assert_eq!(s.usage_mib(), 130);
    }

    #[test]
    fn a_random_walk_stays_within_its_bounds() {
        let p = UsageProcess { movement: Movement::Walk { step_mib: 50.0, min_mib: 200.0, max_mib: 400.0 }, ..steady(300.0) };
        let mut r = rng();
        let mut s = UsageState::start(&p, &mut r, SimTime::ZERO);
        let mut seen = (u32::MAX, 0);
        for i in 1..=2_000 {
            s.advance(&p, &mut r, SimTime::from_secs(60 * i));
            seen = (seen.0.min(s.usage_mib()), seen.1.max(s.usage_mib()));
        }
        assert!(seen.0 >= 200 && seen.1 <= 400, "{seen:?}");
        assert!(seen.0 < 220 && seen.1 > 380, "the walk should reach near both bounds: {seen:?}");
    }

    #[test]
    fn a_certain_spike_adds_its_size_for_its_length_then_ends() {
        let spike = Spike { probability: 1.0, size: SizeDistribution::Constant { mib: 500.0 }, length: SimTime::from_secs(90) };
        let p = UsageProcess { spike: Some(spike), ..steady(100.0) };
        let mut r = rng();
        let mut s = UsageState::start(&p, &mut r, SimTime::ZERO);
        s.advance(&p, &mut r, SimTime::from_secs(60));
        assert_eq!(s.usage_mib(), 600);
        // The tick at 120 s finds the spike still on (it ends at 150 s) and starts none.
        assert_eq!(s.next_change_at(), Some(SimTime::from_secs(120)));
        s.advance(&p, &mut r, SimTime::from_secs(120));
        assert_eq!(s.next_change_at(), Some(SimTime::from_secs(150)));
        s.advance(&p, &mut r, SimTime::from_secs(150));
        assert_eq!(s.usage_mib(), 100);
        // The next tick starts a new one.
        s.advance(&p, &mut r, SimTime::from_secs(180));
        assert_eq!(s.usage_mib(), 600);
    }

    #[test]
    fn redraws_have_the_distribution_mean() {
        let p = UsageProcess { movement: Movement::Redraw, ..steady(0.0) };
        let p = UsageProcess { start: SizeDistribution::Normal { mean_mib: 400.0, std_dev_mib: 40.0 }, ..p };
        let mut r = rng();
        let mut s = UsageState::start(&p, &mut r, SimTime::ZERO);
        let n = 20_000;
        let mut sum = 0u64;
        for i in 1..=n {
            s.advance(&p, &mut r, SimTime::from_secs(60 * i));
            sum += u64::from(s.usage_mib());
        }
        let mean = sum as f64 / n as f64;
        // Standard error 40/√20000 ≈ 0.28 MiB; rounding to whole MiB adds no bias.
        assert!((mean - 400.0).abs() < 1.5, "mean {mean}");
    }

    #[test]
    fn draws_below_zero_become_zero() {
        let d = SizeDistribution::Normal { mean_mib: 0.0, std_dev_mib: 100.0 };
        let mut r = rng();
        assert!((0..1_000).all(|_| d.sample(&mut r) >= 0.0));
    }
}
