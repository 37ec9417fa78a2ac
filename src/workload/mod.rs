//! Where tasks come from: Poisson arrivals (constant or piecewise-constant over the day), batch
//! bursts (RunTask at a time), services with a desired count, and trace replay; and how long they
//! run once started.
//!
//! Architecture invariant: workloads decide *when* and *what* is asked for, never *where* it goes;
//! they know nothing of placement.

mod arrivals;
mod run_time;
mod trace;

pub use arrivals::RateSchedule;
pub use run_time::RunTime;
pub use trace::{TraceRecord, parse_trace};

use crate::engine::SimTime;
use crate::placement::PlacementSpec;

/// How a workload launches tasks.
#[derive(Debug, Clone)]
pub enum Arrivals {
    /// A service keeps `desired_count` tasks; it replaces stopped ones and retries failed
    /// placements with back-off.
    Service { desired_count: u32 },
    /// Standalone RunTask calls at the epochs of a Poisson process.
    Poisson(RateSchedule),
    /// `count` tasks launched at `at` (RunTask, 10 per call as the API allows).
    Batch { at: SimTime, count: u32 },
    /// Recorded arrivals, sorted by time.
    Trace(Vec<TraceRecord>),
}

impl Arrivals {
    pub fn is_service(&self) -> bool {
        matches!(self, Arrivals::Service { .. })
    }

    /// A service's initial desired count (0 for other kinds).
    pub fn desired(&self) -> u32 {
        match self {
            Arrivals::Service { desired_count } => *desired_count,
            _ => 0,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Arrivals::Service { .. } => "service",
            Arrivals::Poisson(_) => "poisson",
            Arrivals::Batch { .. } => "batch",
            Arrivals::Trace(_) => "trace",
        }
    }
}

/// Where a workload's tasks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaunchType {
    /// On the scenario's container instances, through the placement engine.
    Ec2,
    /// Each task in its own micro-VM: no hosts, no placement strategies (docs/model.md#placement-strategies-and-defaults).
    Fargate,
}

/// One workload of a scenario, fully resolved.
#[derive(Debug, Clone)]
pub struct WorkloadSpec {
    pub name: String,
    pub arrivals: Arrivals,
    /// Task definition index (for traces, the records carry their own).
    pub task_definition: u32,
    pub run_time: RunTime,
    /// Time from placement to RUNNING (ENI attach, image pull) — a constant until the network
    /// model replaces it.
    pub start_delay: SimTime,
    pub placement: PlacementSpec,
    /// Task group spread and distinctInstance count against: `service:<name>` for a service
    /// (fixed, as in ECS), else the configured group or `family:<family>` (docs/model.md#placement-strategies-and-defaults).
    pub group: String,
    pub launch_type: LaunchType,
    /// The `awsvpcConfiguration` subnets (awsvpc tasks only), in the order given.
    pub subnets: Vec<crate::model::SubnetId>,
    /// A service's rolling-update settings and deployments; `None` for RunTask workloads.
    pub rollout: Option<crate::scenario::deployment::RolloutSpec>,
}
