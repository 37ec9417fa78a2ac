//! Workloads: when tasks arrive and how long they run.
//!
//! Owns: one arrival stream and one run-time stream per workload, and the arrival events
//! ([`WorkloadEvent`]). Poisson workloads keep exactly one pending arrival each; a trace keeps
//! its cursor in the event.
//!
//! Architecture invariant: workloads decide when and what is asked for, never where it goes.
//! Run times are drawn at arrival, in arrival order, from the workload's own stream, so a
//! placement change leaves arrivals and run times alone (common random numbers).

use rand_chacha::ChaCha8Rng;

use crate::engine::{RngStreams, SimTime};
use crate::scenario::Scenario;
use crate::workload::Arrivals;

#[derive(Debug, Clone, Copy)]
pub(super) enum WorkloadEvent {
    Poisson { workload: u32 },
    Batch { workload: u32 },
    Trace { workload: u32, record: u32 },
}

pub(super) struct Workloads {
    rng_arrivals: Vec<ChaCha8Rng>,
    rng_run_time: Vec<ChaCha8Rng>,
}

impl Workloads {
    pub fn new(scenario: &Scenario, streams: &RngStreams) -> Workloads {
        let n = scenario.workloads.len() as u64;
        Workloads {
            rng_arrivals: (0..n).map(|i| streams.stream("arrivals", i)).collect(),
            rng_run_time: (0..n).map(|i| streams.stream("run_time", i)).collect(),
        }
    }

    /// The first arrival of a Poisson, batch or trace workload (services have none).
    pub fn first_arrival(&mut self, scenario: &Scenario, workload: u32) -> Option<(SimTime, WorkloadEvent)> {
        match &scenario.workloads[workload as usize].arrivals {
            Arrivals::Poisson(schedule) => schedule
                .next_arrival(SimTime::ZERO, scenario.horizon, &mut self.rng_arrivals[workload as usize])
                .map(|t| (t, WorkloadEvent::Poisson { workload })),
            Arrivals::Batch { at, .. } => Some((*at, WorkloadEvent::Batch { workload })),
            Arrivals::Trace(records) => records.first().map(|r| (r.at, WorkloadEvent::Trace { workload, record: 0 })),
            Arrivals::Service { .. } => None,
        }
    }

    /// The Poisson arrival after `now`, if it falls within the horizon.
    pub fn next_poisson(&mut self, scenario: &Scenario, workload: u32, now: SimTime) -> Option<(SimTime, WorkloadEvent)> {
        let Arrivals::Poisson(schedule) = &scenario.workloads[workload as usize].arrivals else { return None };
        let t = schedule.next_arrival(now, scenario.horizon, &mut self.rng_arrivals[workload as usize])?;
        (t <= scenario.horizon).then_some((t, WorkloadEvent::Poisson { workload }))
    }

    /// A new task's run time: the trace's, else drawn from the workload's distribution.
    pub fn run_time(&mut self, scenario: &Scenario, workload: u32, from_trace: Option<SimTime>) -> Option<SimTime> {
        from_trace.or_else(|| scenario.workloads[workload as usize].run_time.sample(&mut self.rng_run_time[workload as usize]))
    }
}
