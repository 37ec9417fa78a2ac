//! What the recorder keeps of capacity providers: tasks' waits for capacity, the groups'
//! instance counts, and the columns of the time series.

use super::tally::CountedSamples;
use crate::engine::SimTime;
use crate::metrics::{Metric, MetricValues};
use crate::scenario::Scenario;

pub(super) struct ScalingTally {
    /// Waits for capacity that ended after the warm-up, in microseconds.
    waits: CountedSamples,
    wait_max: SimTime,
    wait_sum_us: u128,
    /// The most instances the groups' sizes added up to at once.
    instances_peak: u32,
}

impl ScalingTally {
    pub fn new(instances: u32) -> ScalingTally {
        ScalingTally { waits: CountedSamples::default(), wait_max: SimTime::ZERO, wait_sum_us: 0, instances_peak: instances }
    }

    /// The time-series columns: each group's instances and its CapacityProviderReservation,
    /// then the tasks waiting for capacity.
    pub fn columns(scenario: &Scenario) -> Vec<String> {
        let mut out = Vec::new();
        for p in &scenario.capacity.providers {
            out.push(format!("instances_{}", p.name));
            out.push(format!("capacity_reservation_pct_{}", p.name));
        }
        if !scenario.capacity.is_empty() {
            out.push("tasks_waiting_capacity".into());
        }
        for (w, spec) in scenario.workloads.iter().zip(&scenario.auto_scaling) {
            if let Some(spec) = spec {
                out.push(format!("desired_{}", w.name));
                out.push(format!("scaling_{}_{}", spec.metrics().next().expect("a policy").as_str(), w.name));
            }
        }
        out
    }

    pub fn wait_ended(&mut self, wait: SimTime) {
        self.waits.push(wait.0);
        self.wait_max = self.wait_max.max(wait);
        self.wait_sum_us += u128::from(wait.0);
    }

    pub fn sized(&mut self, total: u32) {
        self.instances_peak = self.instances_peak.max(total);
    }

    pub fn set_metrics(&mut self, m: &mut MetricValues) {
        self.waits.merge();
        let n = self.waits.len();
        m.set(Metric::CapacityWaitTasks, n as f64);
        m.set(Metric::CapacityWaitMean, if n == 0 { f64::NAN } else { self.wait_sum_us as f64 / 1e6 / n as f64 });
        m.set(Metric::CapacityWaitP95, self.waits.quantile_secs(0.95));
        m.set(Metric::CapacityWaitMax, if n == 0 { f64::NAN } else { self.wait_max.as_secs_f64() });
        m.set(Metric::InstancesPeak, f64::from(self.instances_peak));
    }

    /// The capacity metrics of a run without capacity providers.
    pub fn set_absent(m: &mut MetricValues) {
        for metric in [
            Metric::CapacityWaitTasks,
            Metric::CapacityWaitMean,
            Metric::CapacityWaitP95,
            Metric::CapacityWaitMax,
            Metric::CapacityWaitRefused,
            Metric::ScaleOuts,
            Metric::ScaleIns,
            Metric::InstancesLaunched,
            Metric::InstancesTerminated,
            Metric::InstancesRebalanced,
            Metric::InstanceLaunchesFailed,
            Metric::InstancesPeak,
            Metric::InstanceHours,
        ] {
            m.set(metric, f64::NAN);
        }
    }
}
