//! The CPU part: every running container's CPU rate, and the completion of work measured in
//! CPU-seconds.
//!
//! Owns: the [`CpuModel`] (shares, caps, work progress), a reusable buffer of moved completion
//! times, and the id of each task's pending completion event ([`CpuEvent`]), so that a change
//! of load reschedules only the tasks of the host whose load changed. Present only when the
//! scenario has a `[cpu]` table.
//!
//! Architecture invariant: the model never touches the event queue; the coordinator schedules
//! what [`Cpu::take_changes`] reports.

use rustc_hash::FxHashMap;

use crate::engine::{EventId, SimTime};
use crate::model::cpu::{CpuEnd, CpuModel, FinishChange};
use crate::model::{Cluster, HostId, TaskId};
use crate::scenario::Scenario;

#[derive(Debug, Clone, Copy)]
pub(super) enum CpuEvent {
    /// The task's CPU-second work is done: it completes.
    WorkDone { task: TaskId },
}

pub(super) struct Cpu {
    model: CpuModel,
    changes: Vec<FinishChange>,
    /// Pending `WorkDone` per task (looked up, never iterated).
    work_events: FxHashMap<TaskId, EventId>,
    /// Containers per task definition.
    containers: Vec<usize>,
}

impl Cpu {
    /// `None` when the scenario models no CPU contention.
    pub fn new(scenario: &Scenario, cluster: &Cluster) -> Option<Cpu> {
        let spec = scenario.cpu.as_ref()?;
        let capacity: Vec<u32> = cluster.hosts.iter().map(|h| h.registered.cpu_units).collect();
        let model = CpuModel::new(spec.task_specs(&scenario.task_definitions), &capacity);
        let containers = scenario.task_definitions.iter().map(|td| td.containers.len()).collect();
        Some(Cpu { model, changes: Vec::new(), work_events: FxHashMap::default(), containers })
    }

    /// The moved completion times of the last call, to schedule; give the buffer back with
    /// [`Cpu::put_changes`].
    pub fn take_changes(&mut self) -> Vec<FinishChange> {
        std::mem::take(&mut self.changes)
    }

    pub fn put_changes(&mut self, changes: Vec<FinishChange>) {
        self.changes = changes;
    }

    pub fn start(&mut self, task: TaskId, task_definition: u32, host: Option<HostId>, now: SimTime) {
        self.model.start_task(task, task_definition, host, now, &mut self.changes);
    }

    pub fn stop(&mut self, task: TaskId, now: SimTime) -> Option<CpuEnd> {
        self.model.stop_task(task, now, &mut self.changes)
    }

    pub fn stop_container(&mut self, task: TaskId, container: u16, now: SimTime) {
        self.model.stop_container(task, container, now, &mut self.changes);
    }

    pub fn set_speed(&mut self, task: TaskId, container: u16, speed: f64, now: SimTime) {
        self.model.set_container_speed(task, container, speed, now, &mut self.changes);
    }

    pub fn finish_at(&self, task: TaskId) -> Option<SimTime> {
        self.model.finish_at(task)
    }

    pub fn host_used_units(&self, host: HostId) -> f64 {
        self.model.host_used_units(host)
    }

    /// Replaces the task's pending completion event; returns the one it had.
    pub fn set_work_event(&mut self, task: TaskId, event: Option<EventId>) -> Option<EventId> {
        match event {
            Some(id) => self.work_events.insert(task, id),
            None => self.work_events.remove(&task),
        }
    }

    /// CPU units each container of each task definition gets now, summed over running tasks, in
    /// task-definition then container order.
    pub fn container_rates(&self) -> Vec<f64> {
        let mut per: Vec<Vec<f64>> = self.containers.iter().map(|&n| vec![0.0; n]).collect();
        self.model.add_container_rates(&mut per);
        per.into_iter().flatten().collect()
    }
}
