//! The coordinator of one run: it holds the parts, the event queue and the placement stream,
//! runs the loop, and dispatches each event to the handler of the part it belongs to.
//!
//! The handlers that call more than one part live in `launch.rs` (arrival → placement or
//! Fargate admission → address → RUNNING) and `stop.rs` (STOPPED → resources, address clean-up,
//! the service's replacement). Everything else is a call into one part.
//!
//! Architecture invariant: this is the only place where the parts meet; a part's fields are
//! private to its file.

use rand_chacha::ChaCha8Rng;

use super::addresses::{AddressEvent, Addresses};
use super::fargate::Fargate;
use super::fleet::Fleet;
use super::lifecycle::{Lifecycle, TaskEvent};
use super::recorder::{FinishContext, Recorder, RecorderEvent};
use super::result::{RunOptions, RunResult, SubnetRow, TaskRow};
use super::services::{ServiceEvent, Services};
use super::workloads::{WorkloadEvent, Workloads};
use crate::engine::{EventQueue, RngStreams, SimTime};
use crate::model::{StopReason, SubnetId, TaskState};
use crate::scenario::Scenario;
use crate::workload::Arrivals;

/// Every event of a run: each part's own events, side by side. Nested enums keep it at 16 bytes
/// (a queue entry stays 32), checked by a test below.
#[derive(Debug, Clone, Copy)]
pub(super) enum Event {
    Recorder(RecorderEvent),
    Workload(WorkloadEvent),
    Task(TaskEvent),
    Address(AddressEvent),
    Service(ServiceEvent),
}

pub(super) struct World<'s> {
    pub(super) scenario: &'s Scenario,
    pub(super) options: RunOptions,
    pub(super) queue: EventQueue<Event>,
    /// Placement tie-breaks, EC2 and Fargate's subnet choice alike.
    pub(super) rng_placement: ChaCha8Rng,
    pub(super) workloads: Workloads,
    pub(super) tasks: Lifecycle,
    pub(super) fleet: Fleet,
    pub(super) addresses: Addresses,
    pub(super) fargate: Fargate,
    pub(super) services: Services,
    pub(super) recorder: Recorder,
}

/// Runs `scenario` with `seed`. An `Err` is a broken invariant: a bug in the simulator, never a
/// property of the input.
pub fn run(scenario: &Scenario, seed: u64, options: RunOptions) -> Result<RunResult, String> {
    let mut world = World::new(scenario, seed, options);
    world.start();
    world.event_loop();
    world.check_invariants()?;
    Ok(world.finish(seed))
}

impl<'s> World<'s> {
    fn new(scenario: &'s Scenario, seed: u64, options: RunOptions) -> World<'s> {
        let streams = RngStreams::new(seed);
        let fleet = Fleet::new(scenario);
        let mut addresses = Addresses::new(scenario, &streams);
        addresses.take_infrastructure(scenario, fleet.cluster());
        let recorder = Recorder::new(scenario, fleet.cluster(), addresses.subnets());
        World {
            scenario,
            options,
            queue: EventQueue::new(),
            rng_placement: streams.stream("placement", 0),
            workloads: Workloads::new(scenario, &streams),
            tasks: Lifecycle::default(),
            fleet,
            addresses,
            fargate: Fargate::new(scenario),
            services: Services::new(scenario),
            recorder,
        }
    }

    pub(super) fn now(&self) -> SimTime {
        self.queue.now()
    }

    fn start(&mut self) {
        let s = self.scenario;
        self.queue.schedule(s.warmup, Event::Recorder(RecorderEvent::WarmupEnd));
        self.queue.schedule(SimTime::ZERO, Event::Recorder(RecorderEvent::Sample));
        for (i, w) in s.workloads.iter().enumerate() {
            let workload = i as u32;
            if let Arrivals::Service { desired_count } = w.arrivals {
                let service = self.services.of_workload(workload).expect("service workload");
                for _ in 0..desired_count {
                    let task = self.new_task(workload, w.task_definition, None);
                    self.services.want(service, task);
                }
                self.schedule_check(service, SimTime::ZERO);
            } else if let Some((t, e)) = self.workloads.first_arrival(s, workload) {
                self.queue.schedule(t, Event::Workload(e));
            }
        }
    }

    fn event_loop(&mut self) {
        let horizon = self.scenario.horizon;
        let debug_every = if cfg!(debug_assertions) { 5_000 } else { 0 };
        while let Some((t, event)) = self.queue.pop() {
            if t > horizon {
                break;
            }
            match event {
                Event::Recorder(e) => self.on_recorder(e),
                Event::Workload(e) => self.on_arrival(e),
                Event::Task(e) => self.on_task(e),
                Event::Address(AddressEvent::EniReleased { task }) => self.release_eni(task),
                Event::Service(ServiceEvent::Check { service }) => {
                    self.services.set_check(service, None);
                    self.service_launch(service);
                }
            }
            if debug_every > 0 && self.queue.events_processed().is_multiple_of(debug_every) {
                self.check_invariants().expect("invariant broken during the run");
            }
        }
    }

    fn on_recorder(&mut self, event: RecorderEvent) {
        let now = self.now();
        match event {
            RecorderEvent::WarmupEnd => self.recorder.warmup_ended(now, self.addresses.subnets()),
            RecorderEvent::Sample => {
                self.recorder.sample(now, self.addresses.subnets());
                let next = now + self.scenario.sample_interval;
                if next <= self.scenario.horizon {
                    self.queue.schedule(next, Event::Recorder(RecorderEvent::Sample));
                }
            }
        }
    }

    fn on_arrival(&mut self, event: WorkloadEvent) {
        let s = self.scenario;
        match event {
            WorkloadEvent::Poisson { workload } => {
                let task = self.new_task(workload, s.workloads[workload as usize].task_definition, None);
                self.run_task(task);
                if let Some((t, e)) = self.workloads.next_poisson(s, workload, self.now()) {
                    self.queue.schedule(t, Event::Workload(e));
                }
            }
            WorkloadEvent::Batch { workload } => {
                let w = &s.workloads[workload as usize];
                if let Arrivals::Batch { count, .. } = w.arrivals {
                    for _ in 0..count {
                        let task = self.new_task(workload, w.task_definition, None);
                        self.run_task(task);
                    }
                }
            }
            WorkloadEvent::Trace { workload, record } => {
                let Arrivals::Trace(records) = &s.workloads[workload as usize].arrivals else {
                    unreachable!("trace event for a trace workload")
                };
                let r = &records[record as usize];
                for _ in 0..r.count {
                    let task = self.new_task(workload, r.task_definition, Some(r.run_time));
                    self.run_task(task);
                }
                if let Some(next) = records.get(record as usize + 1) {
                    self.queue.schedule(next.at, Event::Workload(WorkloadEvent::Trace { workload, record: record + 1 }));
                }
            }
        }
    }

    fn on_task(&mut self, event: TaskEvent) {
        match event {
            TaskEvent::Started { task } => self.start_task(task),
            TaskEvent::StartFailed { task, host, task_definition, workload } => self.stop_task(
                task,
                host,
                u32::from(task_definition),
                u32::from(workload),
                StopReason::InsufficientFreeAddresses,
                TaskState::Provisioning,
            ),
            TaskEvent::Finished { task, host, task_definition, workload } => {
                self.stop_task(task, host, u32::from(task_definition), u32::from(workload), StopReason::Completed, TaskState::Running)
            }
        }
    }

    fn finish(self, seed: u64) -> RunResult {
        let task_subnets: Vec<SubnetId> = self.scenario.workloads.iter().flat_map(|w| w.subnets.iter().copied()).collect();
        let events = self.queue.events_processed();
        let tasks = if self.options.record_tasks {
            let (cluster, subnets) = (self.fleet.cluster(), self.addresses.subnets());
            self.tasks
                .all()
                .iter()
                .map(|t| TaskRow {
                    task: t.id.0,
                    workload: t.workload,
                    task_definition: t.task_definition,
                    arrived_at: t.arrived_at,
                    placed_at: t.placed_at,
                    running_at: t.running_at,
                    stopped_at: t.stopped_at,
                    host: t.host,
                    az: t.host.map(|h| cluster.host(h).az).or(t.subnet.map(|s| subnets[s.0 as usize].az)),
                    subnet: t.subnet,
                    ip: t.ip,
                    stop_reason: t.stop_reason,
                })
                .collect()
        } else {
            Vec::new()
        };
        let free_at_end: Vec<(u32, u32)> = self.addresses.subnets().iter().map(|s| (s.usable, s.free())).collect();
        let still_waiting_since: Vec<SimTime> =
            self.services.all().iter().flat_map(|svc| svc.waiting.iter().map(|&t| self.tasks.get(t).arrived_at)).collect();
        let ctx = FinishContext { events, has_services: !self.services.is_empty(), task_subnets: &task_subnets };
        let done = self.recorder.finish(self.scenario.horizon, self.scenario.warmup, self.tasks.all(), &still_waiting_since, ctx);
        let subnets = free_at_end
            .iter()
            .zip(&done.min_free)
            .enumerate()
            .map(|(i, (&(usable, free_at_end), &min_free))| SubnetRow { subnet: SubnetId(i as u32), usable, min_free, free_at_end })
            .collect();
        RunResult { seed, metrics: done.metrics, timeseries: done.timeseries, tasks, decisions: done.decisions, subnets }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_stay_16_bytes_so_queue_entries_stay_32() {
        // results/bench/README.md and the TaskFinished design rely on it.
        assert_eq!(std::mem::size_of::<Event>(), 16);
    }
}
