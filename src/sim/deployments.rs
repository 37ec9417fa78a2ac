//! Rolling deployments: for every service with `[[workload.<name>.deployments]]`, which of its
//! tasks belong to which deployment and in which phase, the per-step plan (how many new tasks
//! to start, which old ones to stop), the circuit breaker, and each deployment's record
//! (docs/model.md#rolling-deployments).
//!
//! Owns: per service its [`Rollout`] (deployments, newest last: the primary), per task its
//! membership, the deployment rows and the service events of the run. Is told: a member was
//! placed, ran, became healthy, began stopping, left; a launch failed; an address was taken or
//! given back.
//!
//! Architecture invariant: this part decides and counts, the coordinator (`rollout.rs`) acts:
//! it never places, stops or schedules anything itself.

use super::result::EventRow;
use crate::engine::SimTime;
use crate::model::{StopReason, TaskId};
use crate::scenario::Scenario;
use crate::scenario::deployment::{BlueGreenSpec, MaximumCounts, RolloutSpec};

/// Where a member task is, as a deployment counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Wanted, not placed yet.
    Waiting = 0,
    Provisioning = 1,
    /// RUNNING, not healthy yet.
    Running = 2,
    Healthy = 3,
    /// Stopped by the scheduler: DEACTIVATING or STOPPING.
    Stopping = 4,
    /// RUNNING but failed its health checks: it counts toward `maximumPercent`, not toward the
    /// desired count, and stops once a replacement is healthy.
    Unhealthy = 5,
}

const PHASES: usize = 6;

#[derive(Debug, Clone, Copy)]
struct Member {
    service: u32,
    deployment: u16,
    phase: Phase,
    /// Index in its deployment's list for its phase.
    slot: u32,
    /// Why the scheduler is stopping it (phase Stopping), or will (phase Unhealthy).
    reason: StopReason,
    /// Its failed essential container has exited already (`unhealthy_tasks = "stop_first"`):
    /// nothing to drain, nothing left to signal.
    exited: bool,
}

/// Why a deployment exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The service's creation at time 0.
    Created,
    /// An `UpdateService` call (a `deployments` entry).
    Update,
    /// The circuit breaker rolled back deployment `of`.
    Rollback { of: u16 },
}

/// How a deployment ended, or where it was at the horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    InProgress,
    Completed,
    /// The circuit breaker tripped.
    Failed,
    /// The circuit breaker tripped and a rollback deployment replaced it.
    RolledBack,
    /// A newer update replaced it before it finished.
    Superseded,
    /// At the horizon: unfinished, with nothing in flight that could move it on.
    Stuck,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::InProgress => "in_progress",
            Outcome::Completed => "completed",
            Outcome::Failed => "failed",
            Outcome::RolledBack => "rolled_back",
            Outcome::Superseded => "superseded",
            Outcome::Stuck => "stuck",
        }
    }
}

/// The deployment index of the tasks on draining instances (see [`Rollout::draining`]).
pub const DRAINING: u16 = u16::MAX;

/// One deployment of one service.
#[derive(Debug)]
pub(super) struct Deployment {
    pub task_definition: u32,
    pub cause: Cause,
    pub started_at: SimTime,
    pub ended_at: Option<SimTime>,
    pub outcome: Outcome,
    pub desired: u32,
    lists: [Vec<TaskId>; PHASES],
    pub tasks_started: u32,
    pub tasks_stopped: u32,
    pub failed_tasks: u32,
    pub peak_tasks: u32,
    pub peak_addresses: u32,
    /// What the circuit breaker counts: failed launches before any task ran (stage 1), failed
    /// health checks (stage 2).
    breaker_count: u32,
    /// A task of this deployment has reached RUNNING: the circuit breaker's first stage is over.
    pub ever_running: bool,
    /// "unable to place a task" has been reported for this deployment.
    pub reported_unplaced: bool,
    /// "unable to stop or start tasks" has been reported for this deployment.
    pub reported_stuck: bool,
    /// Blue/green: when production traffic moved to it (every task healthy); the old tasks stop
    /// one bake time later.
    pub shifted_at: Option<SimTime>,
}

impl Deployment {
    fn new(task_definition: u32, cause: Cause, at: SimTime, desired: u32) -> Deployment {
        Deployment {
            task_definition,
            cause,
            started_at: at,
            ended_at: None,
            outcome: Outcome::InProgress,
            desired,
            lists: Default::default(),
            tasks_started: 0,
            tasks_stopped: 0,
            failed_tasks: 0,
            peak_tasks: 0,
            peak_addresses: 0,
            breaker_count: 0,
            ever_running: false,
            reported_unplaced: false,
            reported_stuck: false,
            shifted_at: None,
        }
    }

    pub fn count(&self, phase: Phase) -> u32 {
        self.lists[phase as usize].len() as u32
    }

    fn counts(&self) -> Counts {
        Counts::of(&self.lists)
    }

    pub fn tasks(&self, phase: Phase) -> &[TaskId] {
        &self.lists[phase as usize]
    }

    /// Its tasks by phase.
    pub fn lists(&self) -> &[Vec<TaskId>; PHASES] {
        &self.lists
    }
}

/// A deployment's (or several's) tasks by phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub waiting: u32,
    pub provisioning: u32,
    pub running: u32,
    pub healthy: u32,
    pub stopping: u32,
    pub unhealthy: u32,
}

impl Counts {
    /// The tasks of phase lists, counted.
    fn of(lists: &[Vec<TaskId>; PHASES]) -> Counts {
        let n = |p: Phase| lists[p as usize].len() as u32;
        Counts {
            waiting: n(Phase::Waiting),
            provisioning: n(Phase::Provisioning),
            running: n(Phase::Running),
            healthy: n(Phase::Healthy),
            stopping: n(Phase::Stopping),
            unhealthy: n(Phase::Unhealthy),
        }
    }

    fn add(&mut self, o: Counts) {
        self.unhealthy += o.unhealthy;
        self.waiting += o.waiting;
        self.provisioning += o.provisioning;
        self.running += o.running;
        self.healthy += o.healthy;
        self.stopping += o.stopping;
    }

    /// Toward the desired count: waiting, provisioning, running or healthy.
    fn live(&self) -> u32 {
        self.waiting + self.provisioning + self.running + self.healthy
    }

    fn total(&self) -> u32 {
        self.live() + self.unhealthy + self.stopping
    }

    /// Replacements on their way, or stops under way: waiting, provisioning, running (not yet
    /// healthy) or stopping.
    fn in_motion(&self) -> u32 {
        self.waiting + self.provisioning + self.running + self.stopping
    }
}

/// What one step of a rolling update does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Plan {
    /// Old tasks still provisioning: stopped (they never served).
    pub stop_provisioning: u32,
    /// Old tasks running but not healthy yet (or failed): stopped first.
    pub stop_unhealthy: u32,
    /// The primary's tasks that failed their health checks, to stop now that replacements are
    /// healthy (or, when the maximum leaves no room for a replacement, one of them).
    pub stop_failed: u32,
    /// Old healthy tasks: stopped down to the lower limit.
    pub stop_healthy: u32,
    /// New tasks to create.
    pub start: u32,
    /// New tasks beyond a lowered desired count: waiting ones dropped first, then stopped.
    pub trim: u32,
    /// Blue/green: the tasks of draining instances are not old deployments' tasks (which stop
    /// with the bake) but tasks to replace: those not healthy stop at once, healthy ones down to
    /// the lower limit (`stop_draining_healthy`). Rolling plans count them with the old tasks.
    pub draining_apart: bool,
    pub stop_draining_healthy: u32,
}

impl Plan {
    /// Nothing to stop or start (whichever way draining tasks are counted).
    pub fn is_empty(&self) -> bool {
        Plan { draining_apart: false, ..*self } == Plan::default()
    }
}

/// `minimumHealthyPercent` of `desired`, rounded up: the fewest healthy tasks a step may leave.
pub fn lower_limit(desired: u32, minimum_healthy_percent: u32) -> u32 {
    (u64::from(desired) * u64::from(minimum_healthy_percent)).div_ceil(100) as u32
}

/// `maximumPercent` of `desired`, rounded down: the most tasks a step may have.
pub fn upper_limit(desired: u32, maximum_percent: u32) -> u32 {
    (u64::from(desired) * u64::from(maximum_percent) / 100) as u32
}

/// One step of the rolling update: stop every old task that is not healthy, stop old healthy
/// tasks while the healthy count stays at or above the lower limit, and start new tasks while
/// the counted tasks stay at or below the upper limit (and the new deployment below its desired
/// count). `primary`: the newest deployment's tasks; `old`: every older deployment's.
pub fn plan(
    desired: u32,
    minimum_healthy_percent: u32,
    maximum_percent: u32,
    counting: MaximumCounts,
    primary: Counts,
    old: Counts,
) -> Plan {
    let lower = lower_limit(desired, minimum_healthy_percent);
    let upper = upper_limit(desired, maximum_percent);
    let healthy = primary.healthy + old.healthy;
    let stop_healthy = healthy.saturating_sub(lower).min(old.healthy);
    let mut all = primary;
    all.add(old);
    // Old provisioning tasks stop at once; old running ones go on counting while they stop when
    // stopping tasks count toward the maximum.
    let counted_after = match counting {
        MaximumCounts::RunningPendingStopping => all.total() - old.provisioning,
        MaximumCounts::RunningPending => all.live() + primary.unhealthy - old.provisioning - old.running - stop_healthy,
    };
    let start = upper.saturating_sub(counted_after).min(desired.saturating_sub(primary.live()));
    let trim = primary.live().saturating_sub(desired);
    let stop_failed = replaced_failures(desired, healthy, primary, start);
    Plan {
        stop_provisioning: old.provisioning,
        stop_unhealthy: old.running + old.unhealthy,
        stop_failed,
        stop_healthy,
        start,
        trim,
        ..Plan::default()
    }
}

/// Blue/green: how many healthy tasks of draining instances stop this step — as many as the
/// primary's healthy tasks and theirs exceed `minimumHealthyPercent` of `desired` (their
/// replacements are healthy).
fn drained_stops(desired: u32, minimum_healthy_percent: u32, primary_healthy: u32, drained_healthy: u32) -> u32 {
    (primary_healthy + drained_healthy).saturating_sub(lower_limit(desired, minimum_healthy_percent)).min(drained_healthy)
}

/// How many of the primary's failed tasks stop this step: as many as healthy tasks stand beyond
/// the desired count (their replacements are healthy); when no replacement can start and
/// nothing is on its way, one, to make room.
fn replaced_failures(desired: u32, healthy: u32, primary: Counts, start: u32) -> u32 {
    let replaced = (healthy + primary.unhealthy).saturating_sub(desired);
    let make_room = u32::from(start == 0 && primary.in_motion() == 0);
    primary.unhealthy.min(replaced.max(make_room))
}

/// The circuit breaker's failure threshold: half the desired count, rounded up, clamped to
/// `[minimum, 200]`.
pub fn breaker_threshold(desired: u32, minimum: u32) -> u32 {
    desired.div_ceil(2).clamp(minimum, 200)
}

/// One service's deployments.
#[derive(Debug)]
pub(super) struct Rollout {
    pub workload: u32,
    pub desired: u32,
    /// Its tasks have ENIs (awsvpc or Fargate): each holds an address.
    eni: bool,
    /// Blue/green, linear or canary; `None`: a rolling update.
    pub blue_green: Option<BlueGreenSpec>,
    minimum_healthy_percent: u32,
    maximum_percent: u32,
    breaker: Option<bool>,
    /// Deployments in creation order; the last is the primary.
    pub deployments: Vec<Deployment>,
    /// The newest deployment that completed: what a rollback goes back to.
    last_completed: Option<u16>,
    /// Addresses the service's ENIs hold, clean-up included.
    addresses: u32,
    /// A step is queued for this instant.
    pub step_requested: bool,
    /// Blue/green: the primary's bake time is over; its old tasks may stop.
    pub baked: bool,
    /// Blue/green: the new revision waits for its PRE_SCALE_UP hooks.
    pub scale_up_held: bool,
    /// Why tasks beyond a lowered desired count stop: an update (`ServiceSchedulerInitiated`)
    /// or service auto scaling (`ScaledIn`).
    pub trim_reason: StopReason,
    /// Serials of the tasks whose targets registered this instant, for one service event
    /// (the buffer is kept between instants).
    pub registered: Vec<u32>,
    /// Tasks on instances that drain (managed draining): whatever their deployment, they are
    /// replaced like an old deployment's tasks, within minimumHealthyPercent and maximumPercent.
    draining: [Vec<TaskId>; PHASES],
    /// Time-below-minimum accounting: since when, if below now; whether it ever reached it.
    below_since: Option<SimTime>,
    reached_lower: bool,
    time_below: SimTime,
}

impl Rollout {
    fn new(workload: u32, desired: u32, spec: &RolloutSpec, task_definition: u32, eni: bool) -> Rollout {
        Rollout {
            workload,
            desired,
            eni,
            blue_green: spec.blue_green,
            minimum_healthy_percent: spec.minimum_healthy_percent,
            maximum_percent: spec.maximum_percent,
            breaker: spec.circuit_breaker.map(|c| c.rollback),
            deployments: vec![Deployment::new(task_definition, Cause::Created, SimTime::ZERO, desired)],
            last_completed: None,
            addresses: 0,
            step_requested: false,
            baked: false,
            scale_up_held: false,
            trim_reason: StopReason::ServiceSchedulerInitiated,
            registered: Vec::new(),
            draining: Default::default(),
            below_since: None,
            reached_lower: false,
            time_below: SimTime::ZERO,
        }
    }

    pub fn primary_index(&self) -> u16 {
        (self.deployments.len() - 1) as u16
    }

    pub fn primary(&self) -> &Deployment {
        self.deployments.last().expect("a service has a deployment")
    }

    /// Lists of deployment `d`'s tasks by phase, or of the draining tasks for [`DRAINING`].
    fn lists_mut(&mut self, d: u16) -> &mut [Vec<TaskId>; PHASES] {
        if d == DRAINING { &mut self.draining } else { &mut self.deployments[d as usize].lists }
    }

    /// The draining tasks by phase.
    pub fn draining_lists(&self) -> &[Vec<TaskId>; PHASES] {
        &self.draining
    }

    fn old_counts(&self) -> Counts {
        let mut c = Counts::of(&self.draining);
        c.add(self.old_deployment_counts());
        c
    }

    /// The old deployments' tasks, without the draining instances' ones.
    fn old_deployment_counts(&self) -> Counts {
        let mut c = Counts::default();
        for d in &self.deployments[..self.deployments.len() - 1] {
            c.add(d.counts());
        }
        c
    }

    /// This instant's step.
    pub fn plan(&self, counting: MaximumCounts) -> Plan {
        let primary = self.primary();
        if primary.outcome != Outcome::InProgress && primary.outcome != Outcome::Completed {
            // A failed deployment without rollback launches nothing more.
            return Plan::default();
        }
        if self.blue_green.is_some() && primary.cause != Cause::Created {
            return self.blue_green_plan();
        }
        plan(self.desired, self.minimum_healthy_percent, self.maximum_percent, counting, primary.counts(), self.old_counts())
    }

    /// Blue/green: the new (green) revision starts at full size, whatever `maximumPercent`
    /// says; the old (blue) tasks all stop once the bake time after the traffic shift is over
    /// (the coordinator marks it with [`Rollout::baked`]).
    /// A draining instance's tasks are replaced by the primary (they left it) and stop as a
    /// rolling update's old tasks would: at once when not healthy, healthy ones once the
    /// primary's healthy tasks keep the service at `minimumHealthyPercent`.
    fn blue_green_plan(&self) -> Plan {
        let p = self.primary().counts();
        let old = self.old_deployment_counts();
        let drained = Counts::of(&self.draining);
        let start = if self.scale_up_held { 0 } else { self.desired.saturating_sub(p.live()) };
        let trim = p.live().saturating_sub(self.desired);
        let stop_failed = replaced_failures(self.desired, p.healthy, p, start);
        let stop_draining_healthy = drained_stops(self.desired, self.minimum_healthy_percent, p.healthy, drained.healthy);
        let draining = Plan { draining_apart: true, stop_draining_healthy, ..Plan::default() };
        if self.baked {
            Plan {
                stop_provisioning: old.provisioning,
                stop_unhealthy: old.running + old.unhealthy,
                stop_failed,
                stop_healthy: old.healthy,
                start,
                trim,
                ..draining
            }
        } else {
            Plan { start, trim, stop_failed, ..draining }
        }
    }

    /// Blue/green: every green task is healthy and blue ones remain: production traffic shifts.
    pub fn ready_to_shift(&self) -> bool {
        let p = self.primary();
        self.blue_green.is_some()
            && p.cause != Cause::Created
            && p.shifted_at.is_none()
            && p.count(Phase::Healthy) == self.desired
            && self.old_counts().live() > 0
    }

    /// Blue/green: traffic has shifted and the bake time is not over yet.
    pub fn baking(&self) -> bool {
        self.blue_green.is_some() && self.primary().shifted_at.is_some() && !self.baked
    }

    /// Whether the primary deployment is done: its desired count healthy, nothing else left.
    pub fn primary_done(&self) -> bool {
        let p = self.primary();
        p.count(Phase::Healthy) == self.desired && p.counts().total() == self.desired && self.old_counts().total() == 0
    }

    /// Every deployment's tasks by phase.
    fn all_counts(&self) -> Counts {
        let mut c = self.old_counts();
        c.add(self.primary().counts());
        c
    }

    /// Nothing but tasks waiting for placement is on its way: no task provisions, is running but
    /// not yet healthy, or stops.
    pub fn only_waiting(&self) -> bool {
        let c = self.all_counts();
        c.provisioning + c.running + c.unhealthy + c.stopping == 0
    }

    /// Nothing at all is on its way that could change the plan (not even a waiting task).
    pub fn at_rest(&self) -> bool {
        self.only_waiting() && self.all_counts().waiting == 0
    }

    /// Tasks placed (provisioning, running or stopping), all deployments.
    fn placed(&self) -> u32 {
        let c = self.all_counts();
        c.total() - c.waiting
    }

    pub fn healthy(&self) -> u32 {
        self.deployments.iter().map(|d| d.count(Phase::Healthy)).sum()
    }

    /// The primary may launch its waiting tasks: it has not failed.
    pub fn may_launch(&self) -> bool {
        matches!(self.primary().outcome, Outcome::InProgress | Outcome::Completed)
    }

    /// Updates the time below the lower limit; call whenever the healthy count may have moved.
    pub fn note_healthy(&mut self, now: SimTime) {
        let lower = lower_limit(self.desired, self.minimum_healthy_percent);
        let healthy = self.healthy();
        if healthy >= lower {
            self.reached_lower = true;
            if let Some(since) = self.below_since.take() {
                self.time_below = self.time_below + now.saturating_sub(since);
            }
        } else if self.reached_lower && self.below_since.is_none() {
            self.below_since = Some(now);
        }
    }

    fn note_peaks(&mut self) {
        let (placed, addresses) = (self.placed(), self.addresses);
        let p = self.deployments.last_mut().expect("a deployment");
        if p.cause != Cause::Created && p.outcome == Outcome::InProgress {
            p.peak_tasks = p.peak_tasks.max(placed);
            p.peak_addresses = p.peak_addresses.max(addresses);
        }
    }

    /// The circuit breaker's threshold for the primary, if it has one (updates only).
    fn breaker_threshold(&self, minimum: u32) -> Option<u32> {
        let p = self.primary();
        (self.breaker.is_some() && p.cause != Cause::Created && p.outcome == Outcome::InProgress)
            .then(|| breaker_threshold(self.desired, minimum))
    }

    pub fn time_below(&self, horizon: SimTime) -> SimTime {
        self.time_below + self.below_since.map_or(SimTime::ZERO, |s| horizon.saturating_sub(s))
    }
}

/// What a launch failure did to the primary deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Breaker {
    /// Counted (or not counted: past the first stage, or no breaker).
    Holds,
    /// The breaker tripped; roll back to this task definition if `Some`.
    Tripped { rollback_to: Option<(u16, u32)> },
}

/// Every service's rollout; empty when no service has deployments.
pub(super) struct Deployments {
    /// The service events of the run, in time order.
    pub events: Vec<EventRow>,
    rollouts: Vec<Option<Rollout>>,
    members: Vec<Option<Member>>,
    counting: MaximumCounts,
    breaker_minimum: u32,
    active: bool,
    /// Which tasks fail their health checks: a stream of its own.
    pub rng_health: rand_chacha::ChaCha8Rng,
}

impl Deployments {
    /// `services`: per service, its workload.
    pub fn new(scenario: &Scenario, services: impl Iterator<Item = (u32, u32)>, streams: &crate::engine::RngStreams) -> Deployments {
        let mut rollouts = Vec::new();
        for (workload, desired) in services {
            let w = &scenario.workloads[workload as usize];
            // A service keeps its network mode across revisions; Fargate tasks are awsvpc.
            let eni = w.launch_type == crate::workload::LaunchType::Fargate
                || scenario.task_definitions[w.task_definition as usize].network_mode == crate::model::taskdef::NetworkMode::Awsvpc;
            let r = w.rollout.as_ref().filter(|r| r.is_managed()).map(|r| Rollout::new(workload, desired, r, w.task_definition, eni));
            rollouts.push(r);
        }
        let active = rollouts.iter().any(Option::is_some);
        let l = &scenario.service_scheduler.lifecycle;
        Deployments {
            events: Vec::new(),
            rollouts,
            members: Vec::new(),
            counting: l.maximum_counts,
            breaker_minimum: l.circuit_breaker_minimum,
            active,
            rng_health: streams.stream("health", 0),
        }
    }

    /// Some service has deployments.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// The tasks being stopped (DEACTIVATING or STOPPING), and the addresses their ENIs hold.
    pub fn stopping_now(&self) -> (u32, u32) {
        let mut tasks = 0;
        let mut addresses = 0;
        for r in self.rollouts.iter().flatten() {
            let n: u32 = r.deployments.iter().map(|d| d.count(Phase::Stopping)).sum();
            tasks += n;
            if r.eni {
                addresses += n;
            }
        }
        (tasks, addresses)
    }

    pub fn rollout(&self, service: u32) -> Option<&Rollout> {
        self.rollouts.get(service as usize).and_then(Option::as_ref)
    }

    pub fn rollout_mut(&mut self, service: u32) -> Option<&mut Rollout> {
        self.rollouts.get_mut(service as usize).and_then(Option::as_mut)
    }

    pub fn rollouts(&self) -> impl Iterator<Item = &Rollout> {
        self.rollouts.iter().flatten()
    }

    pub fn counting(&self) -> MaximumCounts {
        self.counting
    }

    fn member(&self, task: TaskId) -> Option<Member> {
        self.members.get(task.index()).copied().flatten()
    }

    /// The service of `task`, if it is a member of a rollout.
    pub fn service_of(&self, task: TaskId) -> Option<u32> {
        self.member(task).map(|m| m.service)
    }

    pub fn phase(&self, task: TaskId) -> Option<Phase> {
        self.member(task).map(|m| m.phase)
    }

    /// A new task of the service's primary deployment, waiting for placement.
    pub fn wanted(&mut self, service: u32, task: TaskId) {
        let r = self.rollouts[service as usize].as_mut().expect("a rollout service");
        let deployment = (r.deployments.len() - 1) as u16;
        let list = &mut r.deployments[deployment as usize].lists[Phase::Waiting as usize];
        let slot = list.len() as u32;
        list.push(task);
        if self.members.len() <= task.index() {
            self.members.resize(task.index() + 1, None);
        }
        debug_assert!(self.members[task.index()].is_none(), "task {} is already a member", task.0);
        self.members[task.index()] =
            Some(Member { service, deployment, phase: Phase::Waiting, slot, reason: StopReason::ServiceSchedulerInitiated, exited: false });
    }

    /// Moves a member to another phase (and, for a waiting task, possibly another deployment).
    fn move_to(&mut self, task: TaskId, deployment: u16, phase: Phase) -> Member {
        let m = self.members[task.index()].expect("a member");
        self.unlink(task, m);
        let r = self.rollouts[m.service as usize].as_mut().expect("a rollout");
        let list = &mut r.lists_mut(deployment)[phase as usize];
        let slot = list.len() as u32;
        list.push(task);
        let new = Member { deployment, phase, slot, ..m };
        self.members[task.index()] = Some(new);
        new
    }

    /// A new deployment of `task_definition` becomes the primary; the tasks still waiting move
    /// to it (they were never placed, so they start with the new revision). Returns its index.
    pub fn deploy(&mut self, service: u32, task_definition: u32, cause: Cause, desired: u32, now: SimTime) -> u16 {
        let r = self.rollouts[service as usize].as_mut().expect("a rollout");
        let previous = r.deployments.last_mut().expect("a deployment");
        if previous.outcome == Outcome::InProgress {
            previous.outcome = Outcome::Superseded;
            previous.ended_at = Some(now);
        }
        r.desired = desired;
        r.baked = false;
        r.scale_up_held = false;
        r.trim_reason = StopReason::ServiceSchedulerInitiated;
        r.deployments.push(Deployment::new(task_definition, cause, now, desired));
        let index = (r.deployments.len() - 1) as u16;
        let waiting: Vec<TaskId> = r.deployments.iter().flat_map(|d| d.tasks(Phase::Waiting).iter().copied()).collect();
        for task in waiting {
            self.move_to(task, index, Phase::Waiting);
        }
        index
    }

    /// A waiting member was placed (EC2) or accepted (Fargate).
    pub fn placed(&mut self, task: TaskId) {
        let m = self.member(task).expect("a member");
        self.move_to(task, m.deployment, Phase::Provisioning);
        let r = self.rollouts[m.service as usize].as_mut().expect("a rollout");
        debug_assert_ne!(m.deployment, DRAINING, "a draining task was placed before");
        r.deployments[m.deployment as usize].tasks_started += 1;
        r.note_peaks();
    }

    /// A member's ENI took an address.
    pub fn address_taken(&mut self, service: u32) {
        let r = self.rollout_mut(service).expect("a rollout");
        r.addresses += 1;
        r.note_peaks();
    }

    /// `task` is on an instance that drains: it is replaced like an old deployment's task. A
    /// waiting or stopping task is left as it is; so is one that drains already.
    pub fn drain(&mut self, task: TaskId) -> bool {
        let Some(m) = self.member(task) else { return false };
        if matches!(m.phase, Phase::Waiting | Phase::Stopping) || m.deployment == DRAINING {
            return false;
        }
        self.move_to(task, DRAINING, m.phase);
        true
    }

    /// A member reached RUNNING.
    pub fn running(&mut self, task: TaskId) {
        let m = self.member(task).expect("a member");
        self.move_to(task, m.deployment, Phase::Running);
        let r = self.rollouts[m.service as usize].as_mut().expect("a rollout");
        if m.deployment != DRAINING {
            r.deployments[m.deployment as usize].ever_running = true;
        }
    }

    /// A running member became healthy.
    pub fn healthy(&mut self, task: TaskId) {
        let m = self.member(task).expect("a member");
        debug_assert_eq!(m.phase, Phase::Running);
        self.move_to(task, m.deployment, Phase::Healthy);
    }

    /// The scheduler stopped a running member: it deregisters and stops, with `reason`.
    pub fn stopping(&mut self, task: TaskId, reason: StopReason) {
        let m = self.move_for(task, Phase::Stopping, reason);
        let r = self.rollouts[m.service as usize].as_mut().expect("a rollout");
        r.deployments.last_mut().expect("a deployment").tasks_stopped += 1;
    }

    /// A running member is stopped by something other than the scheduler (a Spot notice), for
    /// `reason`; not counted among the deployment's stops.
    pub fn interrupted(&mut self, task: TaskId, reason: StopReason) {
        self.move_for(task, Phase::Stopping, reason);
    }

    /// A running member failed its health checks: it waits for its replacement.
    pub fn failed_checks(&mut self, task: TaskId, reason: StopReason) {
        self.move_for(task, Phase::Unhealthy, reason);
    }

    /// Moves a member to `phase` within its deployment, stopping (or to stop) for `reason`.
    fn move_for(&mut self, task: TaskId, phase: Phase, reason: StopReason) -> Member {
        let m = self.member(task).expect("a member");
        let moved = self.move_to(task, m.deployment, phase);
        self.members[task.index()].as_mut().expect("a member").reason = reason;
        moved
    }

    /// The scheduler stops a running member that failed its health checks (not counted as a
    /// deployment's stop), for the reason `failed_checks` gave. `exited`: its failed container
    /// has exited already.
    pub fn stopping_unhealthy(&mut self, task: TaskId, exited: bool) {
        let m = self.member(task).expect("a member");
        self.move_to(task, m.deployment, Phase::Stopping);
        self.members[task.index()].as_mut().expect("a member").exited = exited;
    }

    /// The member's failed container has exited already: nothing to drain or signal.
    pub fn exited(&self, task: TaskId) -> bool {
        self.member(task).is_some_and(|m| m.exited)
    }

    /// Why the scheduler is stopping `task`.
    pub fn stop_reason(&self, task: TaskId) -> StopReason {
        self.member(task).map_or(StopReason::ServiceSchedulerInitiated, |m| m.reason)
    }

    /// The member's deployment is the primary.
    pub fn in_primary(&self, task: TaskId) -> bool {
        self.member(task).is_some_and(|m| self.rollout(m.service).is_some_and(|r| r.primary_index() == m.deployment))
    }

    /// The scheduler stopped a provisioning member.
    pub fn stopped_provisioning(&mut self, task: TaskId) {
        let m = self.member(task).expect("a member");
        let r = self.rollouts[m.service as usize].as_mut().expect("a rollout");
        r.deployments.last_mut().expect("a deployment").tasks_stopped += 1;
    }

    /// A member left: stopped, or failed to start. Returns its service and its deployment.
    pub fn left(&mut self, task: TaskId) -> Option<(u32, u16)> {
        let m = self.member(task)?;
        self.unlink(task, m);
        self.members[task.index()] = None;
        Some((m.service, m.deployment))
    }

    /// Takes `task` out of its phase list (the last task of the list takes its slot).
    fn unlink(&mut self, task: TaskId, m: Member) {
        let r = self.rollouts[m.service as usize].as_mut().expect("a rollout");
        let list = &mut r.lists_mut(m.deployment)[m.phase as usize];
        debug_assert_eq!(list[m.slot as usize], task);
        list.swap_remove(m.slot as usize);
        if let Some(&moved) = list.get(m.slot as usize) {
            self.members[moved.index()].as_mut().expect("a member").slot = m.slot;
        }
    }

    /// A member's ENI address went back to its subnet (after clean-up).
    pub fn address_released(&mut self, service: u32) {
        if let Some(r) = self.rollout_mut(service) {
            r.addresses -= 1;
        }
    }

    /// A launch of the primary's task failed (not placed, or failed to start), or, with
    /// `stage_two`, one of its tasks failed its health checks. Counts it and trips the circuit
    /// breaker at the threshold: launch failures count in the first stage only (no task of the
    /// deployment has reached RUNNING yet), health-check failures in the second.
    pub fn count_failure(&mut self, service: u32, now: SimTime, stage_two: bool) -> Breaker {
        let minimum = self.breaker_minimum;
        let Some(r) = self.rollout_mut(service) else { return Breaker::Holds };
        let threshold = r.breaker_threshold(minimum);
        let rollback = r.breaker == Some(true);
        let p = r.deployments.last_mut().expect("a deployment");
        if p.cause == Cause::Created || p.outcome != Outcome::InProgress {
            return Breaker::Holds;
        }
        p.failed_tasks += 1;
        if !stage_two && p.ever_running {
            return Breaker::Holds;
        }
        p.breaker_count += 1;
        match threshold {
            Some(t) if p.breaker_count >= t => Breaker::Tripped { rollback_to: self.fail_primary(service, now, rollback) },
            _ => Breaker::Holds,
        }
    }

    /// Service auto scaling moved the desired count: the steps start or trim tasks to it.
    pub fn scale(&mut self, service: u32, to: u32) {
        let r = self.rollout_mut(service).expect("a rollout");
        r.desired = to;
        r.trim_reason = StopReason::ScaledIn;
    }

    /// An update of the service is rolling out (Application Auto Scaling suspends scale-in).
    pub fn deploying(&self, service: u32) -> bool {
        self.rollout(service).is_some_and(|r| r.primary().cause != Cause::Created && r.primary().outcome == Outcome::InProgress)
    }

    /// The primary fails (its circuit breaker tripped, or a lifecycle hook failed); with
    /// `rollback` it rolls back to the last completed deployment, whose index and revision this
    /// returns (none: it just fails).
    pub fn fail_primary(&mut self, service: u32, now: SimTime, rollback: bool) -> Option<(u16, u32)> {
        let r = self.rollout_mut(service).expect("a rollout");
        let target = r.last_completed.filter(|_| rollback).map(|i| (i, r.deployments[i as usize].task_definition));
        let p = r.deployments.last_mut().expect("a deployment");
        p.outcome = if target.is_some() { Outcome::RolledBack } else { Outcome::Failed };
        p.ended_at = Some(now);
        target
    }

    /// Blue/green rollback: the new primary (the old revision again) takes over the tasks of
    /// deployment `from`, which still run, and traffic is back on them: the failed revision's
    /// tasks stop at once.
    pub fn adopt(&mut self, service: u32, from: u16, now: SimTime) {
        let r = self.rollout(service).expect("a rollout");
        let index = r.primary_index();
        let d = &r.deployments[from as usize];
        let moving: Vec<(TaskId, Phase)> = [Phase::Waiting, Phase::Provisioning, Phase::Running, Phase::Healthy, Phase::Unhealthy]
            .into_iter()
            .flat_map(|phase| d.tasks(phase).iter().map(move |&t| (t, phase)))
            .collect();
        for (task, phase) in moving {
            self.move_to(task, index, phase);
        }
        let r = self.rollout_mut(service).expect("a rollout");
        r.baked = true;
        r.deployments.last_mut().expect("a deployment").shifted_at = Some(now);
    }

    /// The primary is done (called by the step): marks it completed; true the first time.
    pub fn complete_primary(&mut self, service: u32, now: SimTime) -> bool {
        let r = self.rollout_mut(service).expect("a rollout");
        let index = r.primary_index();
        let p = r.deployments.last_mut().expect("a deployment");
        if p.outcome != Outcome::InProgress {
            return false;
        }
        p.outcome = Outcome::Completed;
        p.ended_at = Some(now);
        r.last_completed = Some(index);
        true
    }

    /// At the horizon: unfinished deployments with nothing in flight are stuck.
    pub fn finish(&mut self) {
        for r in self.rollouts.iter_mut().flatten() {
            let stuck = !r.baking() && (r.only_waiting() || r.plan(self.counting).is_empty());
            let p = r.deployments.last_mut().expect("a deployment");
            if p.outcome == Outcome::InProgress && stuck {
                p.outcome = Outcome::Stuck;
            }
        }
    }

    /// The per-service (waiting, placed) counts, for the services' own invariants.
    pub fn check(&self, service: u32) -> Option<(u32, u32)> {
        let r = self.rollout(service)?;
        Some((r.all_counts().waiting, r.placed()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy(n: u32) -> Counts {
        Counts { healthy: n, ..Counts::default() }
    }

    const RPS: MaximumCounts = MaximumCounts::RunningPendingStopping;

    #[test]
    fn a_blue_green_service_stops_a_draining_instance_s_tasks_once_their_replacements_are_healthy() {
        // Desired 4 at minimumHealthyPercent 100: a drained task and 3 healthy in the primary,
        // its replacement on its way: it stays; once the replacement is healthy it stops.
        assert_eq!(drained_stops(4, 100, 3, 1), 0);
        assert_eq!(drained_stops(4, 100, 4, 1), 1);
        // Two drained, one replacement healthy: one stops.
        assert_eq!(drained_stops(4, 100, 3, 2), 1);
        // At 50 % (lower limit 2) they may stop before their replacements are healthy.
        assert_eq!(drained_stops(4, 50, 2, 2), 2);
        assert_eq!(drained_stops(4, 50, 1, 2), 1);
    }

    #[test]
    fn documented_rounding_examples() {
        // minimumHealthyPercent 50 of 4: two may stop.
        assert_eq!(plan(4, 50, 100, RPS, Counts::default(), healthy(4)).stop_healthy, 2);
        // 75 of 2: ceil(1.5) = 2, none may stop.
        assert_eq!(plan(2, 75, 200, RPS, Counts::default(), healthy(2)).stop_healthy, 0);
        // maximumPercent 200 of 4: four may start.
        assert_eq!(plan(4, 100, 200, RPS, Counts::default(), healthy(4)).start, 4);
        // 125 of 3: floor(3.75) = 3, none may start.
        assert_eq!(plan(3, 100, 125, RPS, Counts::default(), healthy(3)).start, 0);
        assert_eq!((lower_limit(4, 50), lower_limit(2, 75), upper_limit(4, 200), upper_limit(3, 125)), (2, 2, 8, 3));
    }

    #[test]
    fn unhealthy_old_tasks_stop_first_and_stopping_ones_count_toward_the_maximum_by_default() {
        let old = Counts { provisioning: 1, running: 2, healthy: 3, ..Counts::default() };
        let p = plan(6, 50, 100, RPS, Counts::default(), old);
        assert_eq!((p.stop_provisioning, p.stop_unhealthy, p.stop_healthy), (1, 2, 0));
        // 6 − 1 provisioning gone = 5 counted (2 stopping): one may start.
        assert_eq!(p.start, 1);
        let p = plan(6, 50, 100, MaximumCounts::RunningPending, Counts::default(), old);
        // Only the 3 healthy still count.
        assert_eq!(p.start, 3);
    }

    #[test]
    fn a_failed_task_is_replaced_first_and_stops_once_the_replacement_is_healthy() {
        let none = Counts::default();
        // Desired 4 at (100, 200), one task failed: a replacement starts, nothing stops yet.
        let failed = Counts { healthy: 3, unhealthy: 1, ..none };
        let p = plan(4, 100, 200, RPS, failed, none);
        assert_eq!((p.start, p.stop_failed), (1, 0));
        // The replacement runs but is not healthy yet: still nothing stops.
        let p = plan(4, 100, 200, RPS, Counts { running: 1, ..failed }, none);
        assert_eq!((p.start, p.stop_failed), (0, 0));
        // It is healthy: the failed task stops.
        let p = plan(4, 100, 200, RPS, Counts { healthy: 4, ..failed }, none);
        assert_eq!((p.start, p.stop_failed), (0, 1));
        // At (100, 100) there is no room: one failed task stops to make some, then the next
        // only after the replacement is up and nothing is on its way.
        let two_failed = Counts { healthy: 2, unhealthy: 2, ..none };
        assert_eq!(plan(4, 100, 100, RPS, two_failed, none).stop_failed, 1);
        assert_eq!(plan(4, 100, 100, RPS, Counts { stopping: 1, healthy: 2, unhealthy: 1, ..none }, none).stop_failed, 0);
        assert_eq!(plan(4, 100, 100, RPS, Counts { running: 1, healthy: 2, unhealthy: 1, ..none }, none).stop_failed, 0);
        assert_eq!(plan(4, 100, 100, RPS, Counts { healthy: 3, unhealthy: 1, ..none }, none).stop_failed, 1);
    }

    #[test]
    fn a_step_never_starts_more_than_the_new_deployment_lacks() {
        let primary = Counts { waiting: 2, healthy: 3, ..Counts::default() };
        let p = plan(6, 100, 300, RPS, primary, healthy(6));
        // Upper 18 leaves room for 7, but the new deployment lacks only 1.
        assert_eq!(p.start, 1);
        assert_eq!(p.stop_healthy, 3);
    }

    #[test]
    fn breaker_threshold_is_half_the_desired_count_clamped() {
        assert_eq!(breaker_threshold(1, 3), 3);
        assert_eq!(breaker_threshold(1, 10), 10);
        assert_eq!(breaker_threshold(25, 3), 13);
        assert_eq!(breaker_threshold(1000, 3), 200);
    }
}
