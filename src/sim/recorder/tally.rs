//! What each task contributed, folded in once its record is no longer needed (it stopped and no
//! queued event names it, or the run ended): how it ended, its time to running and its parts,
//! and its Fargate usage for the bill.
//!
//! Every sum is an integer (microseconds, or CPU units and MiB times microseconds) and the time
//! to running is kept as a multiset, so the totals do not depend on the order tasks are folded
//! in: a run that recycles task records and one that keeps them all (`--tasks`) report the same
//! bytes.

use crate::engine::SimTime;
use crate::metrics::{Metric, MetricValues, stats};
use crate::model::{StopReason, Task, TaskIp, TaskState};

/// What a Fargate task is billed for, besides its duration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FargateShare {
    pub cpu_units: u32,
    pub memory_mib: u32,
    pub arm: bool,
    /// Its ENI has a public IPv4 address (`assignPublicIp`).
    pub public_ip: bool,
    /// It ran on FARGATE_SPOT.
    pub spot: bool,
}

/// Σ over Fargate tasks of resources × microseconds from acceptance to stop (or the horizon).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FargateUsage {
    pub x86_cpu_unit_us: u128,
    pub x86_mib_us: u128,
    pub arm_cpu_unit_us: u128,
    pub arm_mib_us: u128,
    pub spot_cpu_unit_us: u128,
    pub spot_mib_us: u128,
    pub public_ip_us: u128,
}

const US_PER_HOUR: f64 = 3_600_000_000.0;

impl FargateUsage {
    pub fn x86_vcpu_hours(&self) -> f64 {
        self.x86_cpu_unit_us as f64 / 1024.0 / US_PER_HOUR
    }
    pub fn x86_gb_hours(&self) -> f64 {
        self.x86_mib_us as f64 / 1024.0 / US_PER_HOUR
    }
    pub fn arm_vcpu_hours(&self) -> f64 {
        self.arm_cpu_unit_us as f64 / 1024.0 / US_PER_HOUR
    }
    pub fn arm_gb_hours(&self) -> f64 {
        self.arm_mib_us as f64 / 1024.0 / US_PER_HOUR
    }
    pub fn spot_vcpu_hours(&self) -> f64 {
        self.spot_cpu_unit_us as f64 / 1024.0 / US_PER_HOUR
    }
    pub fn spot_gb_hours(&self) -> f64 {
        self.spot_mib_us as f64 / 1024.0 / US_PER_HOUR
    }
    pub fn public_ip_hours(&self) -> f64 {
        self.public_ip_us as f64 / US_PER_HOUR
    }
}

pub(crate) struct TaskTally {
    warmup: SimTime,
    horizon: SimTime,
    /// Tasks that arrived after the warm-up, by how they ended: counts of `Metric::OUTCOMES`,
    /// indexed by `outcome_slot`.
    outcomes: [u64; Metric::OUTCOMES.len()],
    /// Arrival → RUNNING of the tasks that arrived after the warm-up and ran, in microseconds.
    to_running: CountedSamples,
    wait_us: u128,
    provisioning_us: u128,
    fargate: FargateUsage,
}

impl TaskTally {
    pub fn new(warmup: SimTime, horizon: SimTime) -> TaskTally {
        TaskTally {
            warmup,
            horizon,
            outcomes: [0; Metric::OUTCOMES.len()],
            to_running: CountedSamples::default(),
            wait_us: 0,
            provisioning_us: 0,
            fargate: FargateUsage::default(),
        }
    }

    /// Folds in one task, as it is now (stopped, or wherever it is at the end of the run).
    pub fn add(&mut self, t: &Task, fargate: Option<FargateShare>) {
        if let (Some(f), Some(placed)) = (fargate, t.placed_at) {
            let us = u128::from(t.stopped_at.unwrap_or(self.horizon).min(self.horizon).saturating_sub(placed).0);
            if f.spot {
                self.fargate.spot_cpu_unit_us += u128::from(f.cpu_units) * us;
                self.fargate.spot_mib_us += u128::from(f.memory_mib) * us;
            } else if f.arm {
                self.fargate.arm_cpu_unit_us += u128::from(f.cpu_units) * us;
                self.fargate.arm_mib_us += u128::from(f.memory_mib) * us;
            } else {
                self.fargate.x86_cpu_unit_us += u128::from(f.cpu_units) * us;
                self.fargate.x86_mib_us += u128::from(f.memory_mib) * us;
            }
            if f.public_ip && t.ip != TaskIp::None {
                self.fargate.public_ip_us += us;
            }
        }
        if t.arrived_at < self.warmup {
            return;
        }
        self.outcomes[outcome_slot(t)] += 1;
        if let (Some(placed), Some(running)) = (t.placed_at, t.running_at) {
            self.to_running.push(running.saturating_sub(t.arrived_at).0);
            self.wait_us += u128::from(placed.saturating_sub(t.arrived_at).0);
            self.provisioning_us += u128::from(running.saturating_sub(placed).0);
        }
    }

    pub fn fargate(&self) -> &FargateUsage {
        &self.fargate
    }

    /// Each task that arrived after the warm-up, counted once by how it ended (or where it was
    /// at the horizon).
    pub fn set_outcomes(&self, m: &mut MetricValues) {
        let n = &self.outcomes;
        for (metric, &count) in Metric::OUTCOMES.iter().zip(n) {
            m.set(*metric, count as f64);
        }
        let total: u64 = n.iter().sum();
        let failed = n[1] + n[2] + n[3] + n[4] + n[9] + n[13];
        m.set(Metric::TaskFailureFraction, if total == 0 { 0.0 } else { failed as f64 / total as f64 });
    }

    /// Arrival → RUNNING over tasks that arrived after the warm-up and ran, and its parts.
    pub fn set_time_to_running(&mut self, m: &mut MetricValues) {
        let samples = &mut self.to_running;
        samples.merge();
        let n = samples.len();
        let q = |p: f64| samples.quantile_secs(p);
        m.set(Metric::TimeToRunningP50, q(0.5));
        m.set(Metric::TimeToRunningP95, q(0.95));
        m.set(Metric::TimeToRunningP99, q(0.99));
        let mean = |us: u128| if n == 0 { f64::NAN } else { us as f64 / 1e6 / n as f64 };
        m.set(Metric::PlacementWaitMean, mean(self.wait_us));
        m.set(Metric::ProvisioningMean, mean(self.provisioning_us));
    }
}

/// Where a task ended, as an index of `Metric::OUTCOMES`.
fn outcome_slot(t: &Task) -> usize {
    match (t.state, t.stop_reason) {
        (TaskState::Stopped, Some(StopReason::Completed)) => 0,
        (TaskState::Stopped, Some(StopReason::PlacementFailed)) => 1,
        (TaskState::Stopped, Some(StopReason::FargateThrottled)) => 2,
        (TaskState::Stopped, Some(StopReason::InsufficientFreeAddresses)) => 3,
        (TaskState::Stopped, Some(StopReason::FargateVcpuQuota)) => 4,
        (TaskState::Stopped, Some(StopReason::OutOfMemory)) => 8,
        (TaskState::Stopped, Some(StopReason::PullFailed(_))) => 9,
        (TaskState::Stopped, Some(StopReason::HostTerminated | StopReason::AzUnavailable)) => 10,
        (TaskState::Stopped, Some(StopReason::ServiceSchedulerInitiated | StopReason::InstanceDraining)) => 11,
        (TaskState::Stopped, Some(StopReason::ElbHealthCheck | StopReason::ContainerHealthCheck)) => 12,
        (TaskState::Stopped, Some(StopReason::CapacityTimeout)) => 13,
        (TaskState::Stopped, Some(StopReason::ScaledIn)) => 14,
        (TaskState::Stopped, Some(StopReason::SpotInterrupted)) => 15,
        (TaskState::Running | TaskState::Deactivating | TaskState::Stopping, _) => 5,
        (TaskState::Provisioning, _) => 6,
        (TaskState::AwaitingPlacement, _) => 7,
        (TaskState::Stopped, other) => unreachable!("a stopped task with reason {other:?}"),
    }
}

/// A multiset of microsecond durations for exact quantiles. Values are appended, and from time
/// to time sorted and merged into (value, count) runs, so memory follows the number of distinct
/// values rather than the number of samples (a fixed start delay gives a handful).
#[derive(Debug, Default)]
pub(crate) struct CountedSamples {
    fresh: Vec<u64>,
    /// (value, count), sorted by value, each value once.
    runs: Vec<(u64, u64)>,
    len: u64,
}

impl CountedSamples {
    /// Fewest fresh samples before a merge: merges cost the runs' length, so they wait until at
    /// least as many new samples have come (amortised O(log n) per sample).
    const MIN_FRESH: usize = 1 << 16;

    pub fn push(&mut self, v: u64) {
        self.fresh.push(v);
        self.len += 1;
        if self.fresh.len() >= Self::MIN_FRESH.max(self.runs.len()) {
            self.merge();
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    /// Folds the fresh samples into the runs: sorting the fresh ones costs O(f log f), merging
    /// them into the runs O(m) for m ≤ twice the fresh samples (a merge waits for as many as
    /// there are runs).
    pub fn merge(&mut self) {
        self.fresh.sort_unstable();
        self.runs.extend(self.fresh.chunk_by(|a, b| a == b).map(|same| (same[0], same.len() as u64)));
        self.fresh.clear();
        // Two sorted runs back to back: the stable sort finds them and merges them in one pass
        // (an unstable sort would sort the whole again).
        self.runs.sort_by_key(|&(v, _)| v);
        self.runs.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 += later.1;
            }
            same
        });
    }

    /// The `k`-th smallest sample (0-based); runs must be merged.
    fn nth(&self, k: u64) -> u64 {
        let mut seen = 0;
        for &(v, c) in &self.runs {
            seen += c;
            if k < seen {
                return v;
            }
        }
        unreachable!("rank {k} of {} samples", self.len)
    }

    /// The `q` quantile in seconds, as [`stats::quantile_sorted`] gives it over the sorted
    /// samples in seconds; NaN without samples. The fresh samples must be merged.
    pub fn quantile_secs(&self, q: f64) -> f64 {
        debug_assert!(self.fresh.is_empty(), "merge before asking for quantiles");
        stats::quantile_by_rank(self.len as usize, q, |k| SimTime(self.nth(k as u64)).as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Same quantiles as sorting every sample, whatever the order and repetition.
        #[test]
        fn counted_quantiles_equal_the_sorted_samples(values in prop::collection::vec(0u64..2_000, 0..3_000), q in 0.0f64..=1.0) {
            let mut s = CountedSamples::default();
            for &v in &values {
                s.push(v);
            }
            let mut secs: Vec<f64> = values.iter().map(|&v| SimTime(v).as_secs_f64()).collect();
            secs.sort_by(f64::total_cmp);
            let want = stats::quantile_sorted(&secs, q);
            s.merge();
            let got = s.quantile_secs(q);
            prop_assert!(want.to_bits() == got.to_bits() || (want.is_nan() && got.is_nan()), "q {q}: {got} != {want}");
        }
    }

    #[test]
    fn merges_keep_every_sample_once() {
        let mut s = CountedSamples::default();
        let n = 3 * CountedSamples::MIN_FRESH as u64 + 17;
        for i in 0..n {
            s.push((i * 7919) % 1000);
        }
        s.merge();
        assert_eq!(s.runs.iter().map(|r| r.1).sum::<u64>(), n);
        assert_eq!(s.runs.len(), 1000, "one run per distinct value");
        assert!(s.runs.windows(2).all(|w| w[0].0 < w[1].0));
        // Median of 0..999 repeated (nearly) evenly: 499 or 500.
        let med = s.quantile_secs(0.5);
        assert!((med - 0.000_499).abs() <= 1e-6 + 1e-12, "{med}");
    }
}
