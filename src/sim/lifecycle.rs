//! The task lifecycle: every task record and its state machine.
//!
//! ```text
//! AwaitingPlacement ──placed / accepted──▶ Provisioning ──started──▶ Running ──────────▶ Stopped
//!        │                                       │                     │ scheduler stop     ▲
//!        │                                       │                     ▼                    │
//!        │                                       │     Deactivating ──▶ Stopping ──exited───┤
//!        └──── dropped (RunTask not placed) ─────┴── failed to start ───────────────────────┘
//! ```
//!
//! Owns: the task arena ([`Task`]), which recycles a stopped task's slot once no queued event
//! names it, and the task events ([`TaskEvent`]). A task stopped by the service scheduler (a
//! deployment) deregisters (DEACTIVATING), then gets SIGTERM and up to its stop timeout
//! (STOPPING); a task that exits by itself goes straight to STOPPED. PENDING (image pulls) is
//! part of Provisioning here, owned by egress; DEPROVISIONING is the ENI clean-up after STOPPED
//! ([`TaskIp::Releasing`]).
//!
//! Architecture invariant: every state change goes through a method here that asserts the state
//! it leaves; the lifecycle knows nothing of hosts' resources, subnets or metrics.

use crate::engine::{EventId, SimTime};
use crate::model::{HostId, StopReason, SubnetId, Task, TaskId, TaskIp, TaskState};

/// Events that move a task along its lifecycle.
#[derive(Debug, Clone, Copy)]
pub(super) enum TaskEvent {
    /// Provisioning (ENI attach, start delay) is over: the task runs.
    Started { task: TaskId },
    /// Carries what stopping needs, so the hot path does not first load the task's cold record
    /// (queue entries are 32 bytes either way).
    Finished { task: TaskId, host: HostId, task_definition: u16, workload: u16 },
    /// A task whose ENI could not be created stops (TaskFailedToStart). `host` as in `Finished`.
    StartFailed { task: TaskId, host: HostId, task_definition: u16, workload: u16 },
    /// A task of a managed service passed its health checks (or has been RUNNING for the
    /// healthy delay, without checks).
    Healthy { task: TaskId },
    /// A task of a managed service failed a health check, past its grace period: ECS stops it.
    Unhealthy { task: TaskId, container: bool },
    /// The deregistration delay of a task the scheduler stopped is over: STOPPING.
    Deregistered { task: TaskId },
    /// A stopping task's containers exited (SIGTERM handled, or SIGKILL at the stop timeout).
    Exited { task: TaskId },
    /// Fargate Spot's two-minute interruption notice (SIGTERM) to a running Spot task.
    SpotWarning { task: TaskId },
    /// A task told to stop early (a Spot notice, an instance drain; its replacement started
    /// then): its containers exited or were killed.
    ExitsAfterNotice { task: TaskId },
}

impl TaskEvent {
    pub fn task(self) -> TaskId {
        match self {
            TaskEvent::Started { task }
            | TaskEvent::Finished { task, .. }
            | TaskEvent::StartFailed { task, .. }
            | TaskEvent::Healthy { task }
            | TaskEvent::Unhealthy { task, .. }
            | TaskEvent::Deregistered { task }
            | TaskEvent::Exited { task }
            | TaskEvent::SpotWarning { task }
            | TaskEvent::ExitsAfterNotice { task } => task,
        }
    }
}

/// Stands for "no host" in events and stop calls: the task runs on Fargate.
pub(super) const FARGATE: HostId = HostId(u32::MAX);

/// The task arena. With recycling on, a task's slot is handed back once the task has stopped
/// and no queued event names it (its pins are gone): the coordinator folds the record into the
/// run's totals ([`Lifecycle::next_done`]) and the slot takes the next new task, so memory
/// follows the tasks in flight, not every task of the run.
pub(super) struct Lifecycle {
    tasks: Vec<Task>,
    /// Free slots, reused last-in first-out.
    free: Vec<TaskId>,
    /// Stopped and unpinned during the current event: to fold in and free after it.
    done: Vec<TaskId>,
    recycle: bool,
    created: u64,
}

impl Lifecycle {
    /// `recycle` false keeps every record to the end (per-task records were asked for).
    pub fn new(recycle: bool) -> Lifecycle {
        Lifecycle { tasks: Vec::new(), free: Vec::new(), done: Vec::new(), recycle, created: 0 }
    }

    /// The records in use: tasks not yet folded in.
    pub fn live(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(|t| !t.recycled)
    }

    /// Whether stopped tasks' slots are reused.
    pub fn recycles(&self) -> bool {
        self.recycle
    }

    /// Slots in the arena: the most records held at once.
    pub fn slots(&self) -> usize {
        self.tasks.len()
    }

    pub fn get(&self, task: TaskId) -> &Task {
        let t = &self.tasks[task.index()];
        debug_assert!(!t.recycled, "task slot {} read after it was recycled", task.0);
        t
    }

    /// Starts loading the task's record into the cache (see [`crate::engine::prefetch`]).
    #[inline]
    pub fn prefetch(&self, task: TaskId) {
        if let Some(t) = self.tasks.get(task.index()) {
            crate::engine::prefetch(t);
        }
    }

    /// A queued event names `task`: keep its record until [`Lifecycle::unpin`].
    pub fn pin(&mut self, task: TaskId) {
        let t = &mut self.tasks[task.index()];
        t.pins = t.pins.checked_add(1).expect("fewer than 256 queued events per task");
    }

    /// An event that named `task` was handled.
    pub fn unpin(&mut self, task: TaskId) {
        let t = &mut self.tasks[task.index()];
        t.pins = t.pins.checked_sub(1).expect("an event that named a task was scheduled with schedule_for_task");
        self.retire_if_done(task);
    }

    /// A stopped task that no queued event names is done with: it is folded in and freed after
    /// the current event (when recycling).
    fn retire_if_done(&mut self, task: TaskId) {
        let t = &self.tasks[task.index()];
        if self.recycle && t.pins == 0 && t.state == TaskState::Stopped {
            self.done.push(task);
        }
    }

    /// A task stopped and unpinned during the last event, to fold in; then [`Lifecycle::free`].
    pub fn next_done(&mut self) -> Option<TaskId> {
        self.done.pop()
    }

    pub fn has_done(&self) -> bool {
        !self.done.is_empty()
    }

    /// Tasks stopped and unpinned in the current event, not yet folded in.
    pub fn done_count(&self) -> usize {
        self.done.len()
    }

    /// The slot of a folded-in task takes a new task from now on.
    pub fn free(&mut self, task: TaskId) {
        let t = &mut self.tasks[task.index()];
        debug_assert!(t.state == TaskState::Stopped && t.pins == 0 && !t.recycled);
        t.recycled = true;
        self.free.push(task);
    }

    /// A new task that waits for placement.
    pub fn create(&mut self, workload: u32, task_definition: u32, now: SimTime, run_time: Option<SimTime>) -> TaskId {
        let serial = u32::try_from(self.created).expect("at most 4,294,967,296 tasks in one run");
        self.created += 1;
        let id = self.free.pop().unwrap_or(TaskId(self.tasks.len() as u32));
        let record = Task {
            id,
            serial,
            pins: 0,
            recycled: false,
            spot: false,
            interrupted: false,
            workload,
            task_definition,
            arrived_at: now,
            placed_at: None,
            running_at: None,
            stopped_at: None,
            host: None,
            state: TaskState::AwaitingPlacement,
            stop_reason: None,
            run_time,
            subnet: None,
            ip: TaskIp::None,
            finish_event: None,
        };
        match self.tasks.get_mut(id.index()) {
            Some(slot) => *slot = record,
            None => self.tasks.push(record),
        }
        id
    }

    /// The task runs on FARGATE_SPOT.
    pub fn set_spot(&mut self, task: TaskId) {
        self.tasks[task.index()].spot = true;
    }

    /// The task's service replaces it now, before it stops (a Spot notice, an instance drain);
    /// returns whether it was RUNNING and not replaced already.
    pub fn replace_early(&mut self, task: TaskId) -> bool {
        let t = &mut self.tasks[task.index()];
        let running = t.state == TaskState::Running && !t.interrupted;
        t.interrupted |= running;
        running
    }

    /// Placed on `host` (EC2) or accepted by Fargate (`None`): PROVISIONING.
    pub fn provisioning(&mut self, task: TaskId, now: SimTime, host: Option<HostId>) {
        let t = &mut self.tasks[task.index()];
        debug_assert_eq!(t.state, TaskState::AwaitingPlacement);
        t.state = TaskState::Provisioning;
        t.placed_at = Some(now);
        if host.is_some() {
            t.host = host;
        }
    }

    /// The task's ENI went for an address of `subnet`; `attached` if it got one.
    pub fn eni_tried(&mut self, task: TaskId, subnet: SubnetId, attached: bool) {
        let t = &mut self.tasks[task.index()];
        t.subnet = Some(subnet);
        if attached {
            t.ip = TaskIp::Held;
        }
    }

    /// RUNNING. Returns the event that ends it, when it has a run time.
    pub fn running(&mut self, task: TaskId, now: SimTime) -> Option<(SimTime, TaskEvent)> {
        let t = &mut self.tasks[task.index()];
        debug_assert_eq!(t.state, TaskState::Provisioning);
        t.state = TaskState::Running;
        t.running_at = Some(now);
        let run_time = t.run_time?;
        let host = t.host.unwrap_or(FARGATE);
        // Scenario validation caps workloads and task definitions at u16::MAX.
        let (task_definition, workload) = (t.task_definition as u16, t.workload as u16);
        Some((now + run_time, TaskEvent::Finished { task, host, task_definition, workload }))
    }

    /// The task's ENI subnet and address state, for a stop that must give them back.
    pub fn eni(&self, task: TaskId) -> (Option<SubnetId>, TaskIp) {
        let t = &self.tasks[task.index()];
        (t.subnet, t.ip)
    }

    /// The scheduled end of the task's run time, taken to be moved.
    pub fn take_finish_event(&mut self, task: TaskId) -> Option<EventId> {
        self.tasks[task.index()].finish_event.take()
    }

    /// The event that ends the task's run time was scheduled.
    pub fn set_finish_event(&mut self, task: TaskId, event: EventId) {
        self.tasks[task.index()].finish_event = Some(event);
    }

    /// A waiting service task is taken over by the newest deployment (it was never placed, so it
    /// starts with the new revision).
    pub fn retarget(&mut self, task: TaskId, task_definition: u32) {
        let t = &mut self.tasks[task.index()];
        debug_assert_eq!(t.state, TaskState::AwaitingPlacement);
        t.task_definition = task_definition;
    }

    /// The scheduler stops a RUNNING task: DEACTIVATING. Returns the end of its run time, which
    /// no longer applies (its containers now stop on SIGTERM).
    #[must_use]
    pub fn deactivating(&mut self, task: TaskId) -> Option<EventId> {
        let t = &mut self.tasks[task.index()];
        debug_assert_eq!(t.state, TaskState::Running);
        t.state = TaskState::Deactivating;
        t.finish_event.take()
    }

    /// Deregistered: SIGTERM, STOPPING.
    pub fn stopping(&mut self, task: TaskId) {
        let t = &mut self.tasks[task.index()];
        debug_assert_eq!(t.state, TaskState::Deactivating);
        t.state = TaskState::Stopping;
    }

    /// STOPPED from `was` (PROVISIONING, RUNNING, DEACTIVATING or STOPPING). Its ENI, if it held
    /// an address, enters clean-up. Returns the end-of-run-time event to cancel when something
    /// else stopped it.
    #[must_use]
    pub fn stopped(&mut self, task: TaskId, now: SimTime, reason: StopReason, was: TaskState) -> Option<EventId> {
        let t = &mut self.tasks[task.index()];
        debug_assert_eq!(t.state, was);
        assert!(was.is_placed(), "stopping a task in state {was:?}");
        t.state = TaskState::Stopped;
        t.stop_reason = Some(reason);
        t.stopped_at = Some(now);
        if t.ip == TaskIp::Held {
            t.ip = TaskIp::Releasing;
        }
        let finish = t.finish_event.take();
        self.retire_if_done(task);
        if reason == StopReason::Completed { None } else { finish }
    }

    /// Never placed: RunTask returned it in `failures[]`.
    pub fn dropped(&mut self, task: TaskId, now: SimTime, reason: StopReason) {
        let t = &mut self.tasks[task.index()];
        debug_assert_eq!(t.state, TaskState::AwaitingPlacement);
        t.state = TaskState::Stopped;
        t.stop_reason = Some(reason);
        t.stopped_at = Some(now);
        self.retire_if_done(task);
    }

    /// The stopped task's ENI clean-up is over. Returns the subnet that gets the address back.
    pub fn eni_released(&mut self, task: TaskId) -> SubnetId {
        let t = &mut self.tasks[task.index()];
        debug_assert_eq!(t.ip, TaskIp::Releasing);
        t.ip = TaskIp::Released;
        t.subnet.expect("an ENI has a subnet")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_briefly(l: &mut Lifecycle, at: u64) -> TaskId {
        let t = l.create(0, 0, SimTime(at), Some(SimTime(10)));
        l.provisioning(t, SimTime(at), None);
        let _ = l.running(t, SimTime(at));
        t
    }

    #[test]
    fn a_stopped_task_is_freed_only_once_no_queued_event_names_it() {
        let mut l = Lifecycle::new(true);
        let a = run_briefly(&mut l, 0);
        l.pin(a); // e.g. its ENI clean-up is queued
        let _ = l.stopped(a, SimTime(10), StopReason::Completed, TaskState::Running);
        assert!(!l.has_done(), "still named by a queued event");
        let b = l.create(0, 0, SimTime(11), None);
        assert_ne!(a, b, "a pinned slot is not reused");
        l.unpin(a);
        assert_eq!(l.next_done(), Some(a));
        l.free(a);
        let c = l.create(0, 0, SimTime(12), None);
        assert_eq!(c, a, "the freed slot takes the next task");
        assert_eq!((l.get(a).serial, l.get(b).serial, l.get(c).serial), (2, 1, 2));
        assert_eq!((l.created, l.slots(), l.live().count()), (3, 2, 2));
        assert_eq!(l.get(c).state, TaskState::AwaitingPlacement, "the new record starts afresh");
    }

    #[test]
    fn a_dropped_task_without_events_is_freed_at_once_and_kept_when_records_are_asked_for() {
        for recycle in [true, false] {
            let mut l = Lifecycle::new(recycle);
            let t = l.create(0, 0, SimTime(0), None);
            l.dropped(t, SimTime(0), StopReason::PlacementFailed);
            assert_eq!(l.has_done(), recycle);
        }
    }

    #[test]
    fn a_task_record_stays_within_two_cache_lines() {
        assert!(std::mem::size_of::<Task>() <= 128, "{} bytes", std::mem::size_of::<Task>());
    }
}
