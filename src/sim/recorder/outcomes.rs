//! The end of a run: per-task outcomes, and what the recorder hands over.

use super::super::result::DecisionRow;
use crate::engine::SimTime;
use crate::metrics::{Metric, MetricValues, TimeSeries};
use crate::model::{StopReason, SubnetId, Task, TaskState};

/// What the end of a run needs to know besides the records.
pub(crate) struct FinishContext<'a> {
    pub events: u64,
    pub has_services: bool,
    /// Subnets that task ENIs use (the minimum of free addresses is taken over them).
    pub task_subnets: &'a [SubnetId],
    /// What egress measured (`None` without `[images]`/`[logs]`).
    pub egress: Option<&'a super::super::egress::EgressTotals>,
    pub bill: &'a crate::model::cost::Bill,
}

/// Each task that arrived after the warm-up, counted once by how it ended (or where it was at
/// the horizon).
pub(super) fn set_outcomes(m: &mut MetricValues, tasks: &[Task], warmup: SimTime) {
    let mut n = [0u64; 11];
    for t in tasks.iter().filter(|t| t.arrived_at >= warmup) {
        let slot = match (t.state, t.stop_reason) {
            (TaskState::Stopped, Some(StopReason::Completed)) => 0,
            (TaskState::Stopped, Some(StopReason::PlacementFailed)) => 1,
            (TaskState::Stopped, Some(StopReason::FargateThrottled)) => 2,
            (TaskState::Stopped, Some(StopReason::InsufficientFreeAddresses)) => 3,
            (TaskState::Stopped, Some(StopReason::FargateVcpuQuota)) => 4,
            (TaskState::Stopped, Some(StopReason::OutOfMemory)) => 8,
            (TaskState::Stopped, Some(StopReason::PullFailed(_))) => 9,
            (TaskState::Stopped, Some(StopReason::HostTerminated | StopReason::AzUnavailable)) => 10,
            (TaskState::Running, _) => 5,
            (TaskState::Provisioning, _) => 6,
            (TaskState::AwaitingPlacement, _) => 7,
            (TaskState::Stopped, other) => unreachable!("a stopped task with reason {other:?}"),
        };
        n[slot] += 1;
    }
    let metrics = [
        Metric::OutcomeCompleted,
        Metric::OutcomeNotPlaced,
        Metric::OutcomeThrottled,
        Metric::OutcomeNoAddress,
        Metric::OutcomeVcpuQuota,
        Metric::OutcomeRunningEnd,
        Metric::OutcomeProvisioningEnd,
        Metric::OutcomeWaitingEnd,
        Metric::OutcomeOom,
        Metric::OutcomePullFailed,
        Metric::OutcomeLost,
    ];
    for (metric, count) in metrics.iter().zip(n) {
        m.set(*metric, count as f64);
    }
    let total: u64 = n.iter().sum();
    let failed = n[1] + n[2] + n[3] + n[4] + n[9];
    m.set(Metric::TaskFailureFraction, if total == 0 { 0.0 } else { failed as f64 / total as f64 });
}

/// What the recorder hands over at the end of a run.
pub(crate) struct Finished {
    pub metrics: MetricValues,
    pub timeseries: TimeSeries,
    pub decisions: Vec<DecisionRow>,
    pub min_free: Vec<u32>,
}
