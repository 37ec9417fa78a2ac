//! The memory part: every running container's memory usage, and the OOM kills it causes.
//!
//! Owns: the [`MemoryModel`] (usage processes, the container, task and host limits, the victim
//! policy), the run's `RngStreams` for the per-container `memory-usage` streams, and the usage
//! change events ([`MemoryEvent`]). Present only when the scenario has a `[memory]` table.
//!
//! The coordinator tells it when a task's containers start (RUNNING) and stop, and runs its
//! usage changes; each call leaves what happened (kills, next changes, swap changes) in an
//! outcome buffer the coordinator borrows with [`Memory::take_outcome`] and gives back, so a
//! usage change allocates nothing.
//!
//! Architecture invariant: it never stops a task itself; a kill of an essential container is
//! reported, and the coordinator stops the task through `stop_task` with the OOM reason.

use crate::engine::{RngStreams, SimTime};
use crate::model::memory::{MemoryModel, MemoryOutcome};
use crate::model::{Cluster, HostId, TaskId};
use crate::scenario::Scenario;

#[derive(Debug, Clone, Copy)]
pub(super) enum MemoryEvent {
    /// A task that just reached RUNNING starts its containers' usage. An event of its own (at the
    /// same instant) so that a container that starts above its limit is killed after the launch
    /// that started it has finished, never inside it.
    Start { task: TaskId },
    /// One container's usage changes (the next step of its usage process).
    UsageChange { task: TaskId, container: u16 },
}

pub(super) struct Memory {
    model: MemoryModel,
    streams: RngStreams,
    out: MemoryOutcome,
    /// Work done per CPU unit while a container swaps: 1 / `memory.swap_slowdown`.
    swap_speed: f64,
}

impl Memory {
    /// `None` when the scenario models no memory usage.
    pub fn new(scenario: &Scenario, cluster: &Cluster, streams: &RngStreams) -> Option<Memory> {
        let spec = scenario.memory.as_ref()?;
        let capacity: Vec<u64> = cluster
            .hosts
            .iter()
            .map(|h| {
                spec.host_capacity_mib(cluster.instance_types[h.instance_type as usize].memory_mib, scenario.registered_memory_fraction)
            })
            .collect();
        let model = MemoryModel::new(spec.victim_policy, spec.processes.clone(), spec.task_specs(&scenario.task_definitions), &capacity);
        Some(Memory { model, streams: *streams, out: MemoryOutcome::default(), swap_speed: 1.0 / spec.swap_slowdown })
    }

    pub fn swap_speed(&self) -> f64 {
        self.swap_speed
    }

    /// The outcome buffer, to fill with one call and give back with [`Memory::put_outcome`].
    pub fn take_outcome(&mut self) -> MemoryOutcome {
        std::mem::take(&mut self.out)
    }

    pub fn put_outcome(&mut self, out: MemoryOutcome) {
        self.out = out;
    }

    /// `serial`: the task's number in arrival order (its usage streams follow it).
    pub fn start(&mut self, task: TaskId, serial: u32, task_definition: u32, host: Option<HostId>, now: SimTime, out: &mut MemoryOutcome) {
        self.model.start_task((task, serial), task_definition, host, now, &self.streams, out);
    }

    pub fn change(&mut self, task: TaskId, container: u16, now: SimTime, out: &mut MemoryOutcome) {
        self.model.change(task, container, now, out);
    }

    pub fn stop(&mut self, task: TaskId, out: &mut MemoryOutcome) {
        self.model.stop_task(task, out);
    }

    /// What the task's live containers use now, MiB; `None` if the model does not track it.
    pub fn task_usage_mib(&self, task: TaskId) -> Option<u64> {
        self.model.task_usage_mib(task)
    }

    /// Whether the model tracks the task (its containers started and it has not stopped).
    pub fn knows(&self, task: TaskId) -> bool {
        self.model.task_usage_mib(task).is_some()
    }

    pub fn task_host(&self, task: TaskId) -> Option<HostId> {
        self.model.task_host(task)
    }

    pub fn host_usage_mib(&self, host: HostId) -> u64 {
        self.model.host_usage_mib(host)
    }

    pub fn check_invariants(&self) -> Result<(), String> {
        self.model.check_invariants()
    }
}
