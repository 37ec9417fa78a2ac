//! Failures: when hosts fail and come back, and when AZs are down — per host, a time to failure
//! drawn from its group's process each time it (re)joins and the delay until its replacement
//! registers; the `[[failures.az_outage]]` windows (docs/model.md#host-failures-and-az-outages).
//!
//! Owns: each host's pending failure or join event, the tasks placed on each host (so a failure
//! finds them without a scan), which AZs are down, one `host-failures` random stream per host
//! ([`FailureEvent`]). Is told: a task was placed on or left a host.
//!
//! Architecture invariant: this part stops nothing and moves no host itself; the coordinator's
//! handlers in `outages.rs` stop tasks through `stop_task` and tell the fleet, the addresses and
//! egress. Present only with `[failures]`: without it no event, draw or per-task call happens.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Weibull};

use crate::engine::{EventId, RngStreams, SimTime};
use crate::model::{AzId, Cluster, HostId, TaskId};
use crate::scenario::{AzOutage, FailureProcess, FailuresSpec};

#[derive(Debug, Clone, Copy)]
pub(super) enum FailureEvent {
    /// The host's instance fails (its group's failure process).
    HostFails {
        host: HostId,
    },
    /// A replacement instance registers in the failed host's place.
    HostJoins {
        host: HostId,
    },
    /// `[[failures.az_outage]]` number `outage` (in start order) begins.
    OutageStarts {
        outage: u32,
    },
    OutageEnds {
        outage: u32,
    },
}

/// Why a host left the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cause {
    /// Its group's failure process.
    HostFailure,
    /// Its AZ went down.
    AzOutage,
}

pub(super) struct Failures {
    spec: FailuresSpec,
    /// Per host: its group's index.
    group_of: Vec<u32>,
    /// Per host: its pending `HostFails` or `HostJoins` event.
    pending: Vec<Option<EventId>>,
    /// Per host: tasks placed on it and not stopped.
    /// Per host, its tasks as (serial, slot): "oldest first" is by serial.
    host_tasks: Vec<Vec<(u32, TaskId)>>,
    /// Per host: its failure stream (only hosts of groups with a failure process draw).
    rng: Vec<Option<ChaCha8Rng>>,
    az_down: Vec<bool>,
}

impl Failures {
    pub fn new(spec: &FailuresSpec, cluster: &Cluster, streams: &RngStreams) -> Failures {
        let hosts = cluster.hosts.len();
        let rng = cluster
            .hosts
            .iter()
            .map(|h| spec.host_groups[h.group as usize].process.map(|_| streams.stream("host-failures", u64::from(h.id.0))))
            .collect();
        Failures {
            spec: spec.clone(),
            group_of: cluster.hosts.iter().map(|h| h.group).collect(),
            pending: vec![None; hosts],
            host_tasks: vec![Vec::new(); hosts],
            rng,
            az_down: vec![false; cluster.azs.len()],
        }
    }

    pub fn outages(&self) -> &[AzOutage] {
        &self.spec.az_outages
    }

    /// When a host that (re)joins at `now` fails next; `None` for a group without a process.
    pub fn draw_failure_at(&mut self, host: HostId, now: SimTime) -> Option<SimTime> {
        let process = self.spec.host_groups[self.group_of[host.index()] as usize].process?;
        let rng = self.rng[host.index()].as_mut().expect("a host with a failure process has a stream");
        Some(now + SimTime::from_secs_f64(time_to_failure_s(process, rng)))
    }

    /// From a failure (or its AZ's return) until `host`'s replacement registers.
    pub fn replacement_delay(&self, host: HostId) -> SimTime {
        self.spec.host_groups[self.group_of[host.index()] as usize].replacement_delay
    }

    /// Records the host's pending event; returns the one it replaces, for the caller to cancel.
    pub fn set_pending(&mut self, host: HostId, event: Option<EventId>) -> Option<EventId> {
        std::mem::replace(&mut self.pending[host.index()], event)
    }

    /// `serial`: the task's number in arrival order.
    pub fn task_placed(&mut self, host: HostId, task: TaskId, serial: u32) {
        self.host_tasks[host.index()].push((serial, task));
    }

    pub fn task_left(&mut self, host: HostId, task: TaskId) {
        let tasks = &mut self.host_tasks[host.index()];
        let i = tasks.iter().position(|&(_, t)| t == task).expect("a stopping task was placed on its host");
        tasks.swap_remove(i);
    }

    /// The tasks on `host`, oldest first, for the caller to stop.
    pub fn tasks_on(&self, host: HostId) -> Vec<TaskId> {
        let mut tasks = self.host_tasks[host.index()].clone();
        tasks.sort_unstable();
        tasks.into_iter().map(|(_, t)| t).collect()
    }

    pub fn az_down(&self, az: AzId) -> bool {
        self.az_down[az.0 as usize]
    }

    pub fn set_az_down(&mut self, az: AzId, down: bool) {
        debug_assert_ne!(self.az_down[az.0 as usize], down, "outage windows of one AZ never overlap");
        self.az_down[az.0 as usize] = down;
    }

    /// Tasks the part believes are on each host, for the invariants.
    pub fn host_task_counts(&self) -> impl Iterator<Item = usize> + '_ {
        self.host_tasks.iter().map(Vec::len)
    }
}

/// One time to failure in seconds. Weibull's scale makes its mean the MTBF:
/// scale = MTBF / Γ(1 + 1/shape).
pub(super) fn time_to_failure_s(process: FailureProcess, rng: &mut ChaCha8Rng) -> f64 {
    match process {
        FailureProcess::Exponential { mtbf } => {
            // Inverse transform of a uniform in (0, 1]: never infinite.
            let u = 1.0 - rng.random::<f64>();
            -u.ln() * mtbf.as_secs_f64()
        }
        FailureProcess::Weibull { mtbf, shape } => {
            let scale = mtbf.as_secs_f64() / crate::metrics::stats::ln_gamma(1.0 + 1.0 / shape).exp();
            Weibull::<f64>::new(scale, shape).expect("validated shape and MTBF").sample(rng)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_of(process: FailureProcess, n: usize) -> (f64, f64) {
        let mut rng = RngStreams::new(7).stream("host-failures", 0);
        let xs: Vec<f64> = (0..n).map(|_| time_to_failure_s(process, &mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
        (mean, var)
    }

    #[test]
    fn exponential_times_to_failure_have_the_mtbf_as_mean_and_standard_deviation() {
        let n = 40_000;
        let (mean, var) = mean_of(FailureProcess::Exponential { mtbf: SimTime::from_secs(1000) }, n);
        // Standard error of the mean: 1000 / √n = 5 s.
        assert!((mean - 1000.0).abs() < 3.0 * 1000.0 / (n as f64).sqrt(), "mean {mean}");
        assert!((var.sqrt() - 1000.0).abs() < 30.0, "sd {}", var.sqrt());
    }

    #[test]
    fn weibull_times_to_failure_have_the_mtbf_as_mean_whatever_the_shape() {
        let n = 40_000;
        for shape in [0.7, 1.0, 2.0, 4.0] {
            let (mean, var) = mean_of(FailureProcess::Weibull { mtbf: SimTime::from_secs(1000), shape }, n);
            assert!((mean - 1000.0).abs() < 3.0 * (var / n as f64).sqrt(), "shape {shape}: mean {mean}");
        }
        // Shape 2 (Rayleigh): variance = mean² (4/π − 1).
        let (_, var) = mean_of(FailureProcess::Weibull { mtbf: SimTime::from_secs(1000), shape: 2.0 }, n);
        let expected = 1e6 * (4.0 / std::f64::consts::PI - 1.0);
        assert!((var - expected).abs() < 0.05 * expected, "variance {var} vs {expected}");
    }
}
