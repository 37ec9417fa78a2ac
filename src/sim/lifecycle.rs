//! The task lifecycle: every task record and its state machine.
//!
//! ```text
//! AwaitingPlacement ──placed / accepted──▶ Provisioning ──started──▶ Running ──▶ Stopped
//!        │                                       │                                 ▲
//!        └──── dropped (RunTask not placed) ─────┴── failed to start ──────────────┘
//! ```
//!
//! Owns: the task arena ([`Task`]) and the task events ([`TaskEvent`]). The states ECS adds
//! around these (image pull in PENDING, ACTIVATING, DEACTIVATING, STOPPING with its stop
//! timeout, DEPROVISIONING) become new states here and new `TaskEvent`s, with the coordinator
//! asking the part that owns each phase (egress for pulls, load balancers for registration).
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
}

/// Stands for "no host" in events and stop calls: the task runs on Fargate.
pub(super) const FARGATE: HostId = HostId(u32::MAX);

#[derive(Default)]
pub(super) struct Lifecycle {
    tasks: Vec<Task>,
}

impl Lifecycle {
    pub fn all(&self) -> &[Task] {
        &self.tasks
    }

    /// The records in use.
    pub fn live(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter()
    }

    pub fn get(&self, task: TaskId) -> &Task {
        &self.tasks[task.index()]
    }

    /// A new task that waits for placement.
    pub fn create(&mut self, workload: u32, task_definition: u32, now: SimTime, run_time: Option<SimTime>) -> TaskId {
        let id = TaskId(self.tasks.len() as u32);
        self.tasks.push(Task {
            id,
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
        });
        id
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

    /// STOPPED from `was` (PROVISIONING or RUNNING). Its ENI, if it held an address, enters
    /// clean-up. Returns the end-of-run-time event to cancel when something else stopped it.
    #[must_use]
    pub fn stopped(&mut self, task: TaskId, now: SimTime, reason: StopReason, was: TaskState) -> Option<EventId> {
        let t = &mut self.tasks[task.index()];
        debug_assert_eq!(t.state, was);
        assert!(matches!(was, TaskState::Running | TaskState::Provisioning), "stopping a task in state {was:?}");
        t.state = TaskState::Stopped;
        t.stop_reason = Some(reason);
        t.stopped_at = Some(now);
        if t.ip == TaskIp::Held {
            t.ip = TaskIp::Releasing;
        }
        let finish = t.finish_event.take();
        if reason == StopReason::Completed { None } else { finish }
    }

    /// Never placed: RunTask returned it in `failures[]`.
    pub fn dropped(&mut self, task: TaskId, now: SimTime, reason: StopReason) {
        let t = &mut self.tasks[task.index()];
        debug_assert_eq!(t.state, TaskState::AwaitingPlacement);
        t.state = TaskState::Stopped;
        t.stop_reason = Some(reason);
        t.stopped_at = Some(now);
    }

    /// The stopped task's ENI clean-up is over. Returns the subnet that gets the address back.
    pub fn eni_released(&mut self, task: TaskId) -> SubnetId {
        let t = &mut self.tasks[task.index()];
        debug_assert_eq!(t.ip, TaskIp::Releasing);
        t.ip = TaskIp::Released;
        t.subnet.expect("an ENI has a subnet")
    }
}
