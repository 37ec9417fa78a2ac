//! Rolling deployments, as the coordinator sees them: an update makes a new deployment primary,
//! and every change of a member task's state asks for a step, which starts new tasks up to
//! `maximumPercent` and stops old ones down to `minimumHealthyPercent` (the deployments part
//! decides how many). An old running task goes DEACTIVATING (its deregistration delay), then
//! STOPPING (SIGTERM; SIGKILL at its stop timeout), then STOPPED; its host's CPU, memory and
//! ports come back at STOPPING, or at STOPPED with the older switch
//! (docs/model.md#rolling-deployments).

use rand::RngExt;

use super::deployments::{Breaker, Cause, Outcome, Phase};
use super::health;
use super::lifecycle::{FARGATE, TaskEvent};
use super::result::{DeploymentRow, EventRow};
use super::services::ServiceEvent;
use super::world::{Event, World};
use crate::engine::SimTime;
use crate::metrics::Metric;
use crate::model::taskdef::MAX_CONTAINERS_PER_TASK_DEFINITION;
use crate::model::{StopReason, TaskId, TaskState};
use crate::scenario::deployment::{ReleaseAt, Stage, UnhealthyTasks};

/// Task serials named in one service event, at most (ECS lists a few and counts the rest).
const NAMED_TASKS: usize = 10;

impl World<'_> {
    /// Schedules each service's updates.
    pub(super) fn schedule_deployments(&mut self) {
        for (i, w) in self.scenario.workloads.iter().enumerate() {
            let Some(service) = self.services.of_workload(i as u32) else { continue };
            let Some(rollout) = w.rollout.as_ref().filter(|r| r.has_deployments()) else { continue };
            for (index, d) in rollout.deployments.iter().enumerate() {
                self.queue.schedule(d.at, Event::Service(ServiceEvent::Deploy { service, index: index as u16 }));
            }
        }
    }

    pub(super) fn on_service(&mut self, event: ServiceEvent) {
        match event {
            ServiceEvent::Check { service } => {
                self.services.set_check(service, None);
                self.service_launch(service);
            }
            ServiceEvent::Deploy { service, index } => {
                let w = self.services.workload(service);
                let spec = self.scenario.workloads[w as usize].rollout.as_ref().expect("a rollout").deployments[index as usize];
                let desired = spec.desired_count.unwrap_or_else(|| self.deployments.rollout(service).expect("a rollout").desired);
                self.begin_deployment(service, spec.task_definition, Cause::Update, desired);
            }
            ServiceEvent::Step { service } => self.step(service),
            ServiceEvent::Shift { service, index, step } => self.shift_traffic(service, index, step),
            ServiceEvent::HookDone { service, index, stage, step, failed } => self.hooks_reported(service, index, stage, step, failed),
            ServiceEvent::Baked { service, index } => {
                let r = self.deployments.rollout_mut(service).expect("a rollout");
                // A newer deployment started meanwhile: its own shift and bake decide.
                if r.primary_index() == index {
                    r.baked = true;
                    self.request_step(service);
                }
            }
        }
    }

    /// A new primary deployment: waiting tasks take its revision, the back-off starts over.
    fn begin_deployment(&mut self, service: u32, task_definition: u32, cause: Cause, desired: u32) {
        let now = self.now();
        let index = self.deployments.deploy(service, task_definition, cause, desired, now);
        let waiting: Vec<TaskId> = self.services.waiting(service).iter().copied().collect();
        for task in waiting {
            self.tasks.retarget(task, task_definition);
        }
        self.services.set_desired(service, desired);
        self.services.reset_backoff(service);
        if let Some(old) = self.services.set_check(service, None) {
            self.queue.cancel(old);
        }
        let family = &self.scenario.task_definitions[task_definition as usize].family;
        let message = match cause {
            Cause::Rollback { of } => {
                format!("rolling back to deployment ecs-svc/{index} ({family}) after deployment ecs-svc/{of} failed.")
            }
            _ => format!("started deployment ecs-svc/{index}: task definition {family}, desired count {desired}."),
        };
        self.service_event(service, index, message);
        let r = self.deployments.rollout_mut(service).expect("a rollout");
        if cause == Cause::Update && r.blue_green.is_some_and(|b| b.hooks[Stage::PreScaleUp as usize].any) {
            r.scale_up_held = true;
            self.run_stage(service, index, Stage::PreScaleUp, 0);
        }
        self.request_step(service);
    }

    /// Asks for a step at this instant (once, however many changes the instant brings).
    pub(super) fn request_step(&mut self, service: u32) {
        let r = self.deployments.rollout_mut(service).expect("a rollout");
        if !r.step_requested {
            r.step_requested = true;
            let now = self.now();
            self.queue.schedule(now, Event::Service(ServiceEvent::Step { service }));
        }
    }

    /// Blue/green, linear or canary: step `step` of the `index`-th deployment's traffic shift,
    /// then its PRODUCTION_TRAFFIC_SHIFT hooks.
    fn shift_traffic(&mut self, service: u32, index: u16, step: u16) {
        let r = self.deployments.rollout(service).expect("a rollout");
        // A newer deployment started meanwhile: its own shift decides.
        if r.primary_index() != index {
            return;
        }
        let spec = r.blue_green.expect("a traffic shift");
        // This step's share, and the wait before the next step (none after the last).
        let share = spec.shift.steps().nth(step as usize).expect("a step of the shift").1;
        let next = spec.shift.wait_after(step);
        let message = match next {
            None => format!(
                "(deployment ecs-svc/{index}) production traffic shifted to the new revision; bake time {} s.",
                spec.bake.as_secs_f64()
            ),
            Some(wait) => format!(
                "(deployment ecs-svc/{index}) shifted {} % of production traffic to the new revision; next step in {} s.",
                f64::from(share) / 10.0,
                wait.as_secs_f64()
            ),
        };
        self.service_event(service, index, message);
        self.run_stage(service, index, Stage::ProductionTrafficShift, step);
    }

    /// Runs a stage's lifecycle hooks; without any, the deployment moves on at once.
    fn run_stage(&mut self, service: u32, index: u16, stage: Stage, step: u16) {
        let r = self.deployments.rollout(service).expect("a rollout");
        let hooks = r.blue_green.expect("a blue/green deployment").hooks[stage as usize];
        if !hooks.any {
            self.stage_done(service, index, stage, step);
            return;
        }
        let (after, failed) = match hooks.failed_after {
            Some(f) => (f, true),
            None => (hooks.done_after, false),
        };
        self.service_event(service, index, format!("(deployment ecs-svc/{index}) running lifecycle hooks for {}.", stage.name()));
        let at = self.now() + after;
        self.queue.schedule(at, Event::Service(ServiceEvent::HookDone { service, index, stage, step, failed }));
    }

    /// A stage's hooks reported: SUCCEEDED moves the deployment on, FAILED rolls it back.
    fn hooks_reported(&mut self, service: u32, index: u16, stage: Stage, step: u16, failed: bool) {
        let r = self.deployments.rollout(service).expect("a rollout");
        if r.primary_index() != index || r.primary().outcome != Outcome::InProgress {
            return;
        }
        if !failed {
            self.stage_done(service, index, stage, step);
            return;
        }
        let now = self.now();
        let desired = r.desired;
        let message = format!("(deployment ecs-svc/{index}) deployment failed: a lifecycle hook for {} returned FAILED.", stage.name());
        self.service_event(service, index, message);
        match self.deployments.fail_primary(service, now, true) {
            Some((to, td)) => self.roll_back(service, index, to, td, desired),
            None => self.request_step(service),
        }
    }

    /// What follows a stage once its hooks have succeeded.
    fn stage_done(&mut self, service: u32, index: u16, stage: Stage, step: u16) {
        match stage {
            Stage::PreScaleUp => {
                self.deployments.rollout_mut(service).expect("a rollout").scale_up_held = false;
                self.request_step(service);
            }
            Stage::PostScaleUp => self.run_stage(service, index, Stage::TestTrafficShift, 0),
            Stage::TestTrafficShift => self.run_stage(service, index, Stage::PostTestTrafficShift, 0),
            Stage::PostTestTrafficShift => self.shift_traffic(service, index, 0),
            Stage::ProductionTrafficShift => {
                let spec = self.deployments.rollout(service).expect("a rollout").blue_green.expect("a traffic shift");
                match spec.shift.wait_after(step) {
                    None => self.run_stage(service, index, Stage::PostProductionTrafficShift, 0),
                    Some(wait) => {
                        let at = self.now() + wait;
                        self.queue.schedule(at, Event::Service(ServiceEvent::Shift { service, index, step: step + 1 }));
                    }
                }
            }
            Stage::PostProductionTrafficShift => {
                let bake = self.deployments.rollout(service).expect("a rollout").blue_green.expect("a traffic shift").bake;
                let at = self.now() + bake;
                self.queue.schedule(at, Event::Service(ServiceEvent::Baked { service, index }));
            }
        }
    }

    /// Back to deployment `to` (revision `td`) after deployment `of` failed. Blue/green: its
    /// tasks still run and take the traffic back; the failed revision's tasks stop.
    fn roll_back(&mut self, service: u32, of: u16, to: u16, td: u32, desired: u32) {
        self.begin_deployment(service, td, Cause::Rollback { of }, desired);
        if self.deployments.rollout(service).expect("a rollout").blue_green.is_some() {
            let now = self.now();
            self.deployments.adopt(service, to, now);
            let index = self.deployments.rollout(service).expect("a rollout").primary_index();
            self.service_event(
                service,
                index,
                format!("(deployment ecs-svc/{index}) production traffic shifted back to deployment ecs-svc/{to}."),
            );
        }
    }

    /// One step of the rolling update.
    fn step(&mut self, service: u32) {
        let now = self.now();
        let counting = self.deployments.counting();
        let r = self.deployments.rollout_mut(service).expect("a rollout");
        r.step_requested = false;
        r.note_healthy(now);
        if !r.registered.is_empty() {
            let mut serials = std::mem::take(&mut r.registered);
            let (index, name) = (r.primary_index(), self.target_group_name(service));
            let message = format!("registered {} targets in (target-group {name}): {}.", serials.len(), task_list(&serials));
            self.service_event(service, index, message);
            serials.clear();
            self.deployments.rollout_mut(service).expect("a rollout").registered = serials;
        }
        let r = self.deployments.rollout_mut(service).expect("a rollout");
        if r.primary_done() {
            let cause = r.primary().cause;
            let index = r.primary_index();
            if self.deployments.complete_primary(service, now) {
                if cause != Cause::Created {
                    self.service_event(service, index, format!("(deployment ecs-svc/{index}) deployment completed."));
                }
                self.service_event(service, index, "has reached a steady state.".to_string());
            }
            return;
        }
        let r = self.deployments.rollout(service).expect("a rollout");
        if r.ready_to_shift() {
            let index = r.primary_index();
            let r = self.deployments.rollout_mut(service).expect("a rollout");
            r.deployments.last_mut().expect("a deployment").shifted_at = Some(now);
            self.run_stage(service, index, Stage::PostScaleUp, 0);
        }
        let r = self.deployments.rollout(service).expect("a rollout");
        let plan = r.plan(counting);
        let primary = r.primary_index();
        // The old tasks to stop: every one not healthy, then healthy ones (newest first); the
        // tasks of draining instances count as old, go first and stop for the drain.
        let mut stop: Vec<(TaskId, Phase, StopReason)> = Vec::new();
        let mut healthy_left = plan.stop_healthy as usize;
        let drained = r.draining_lists();
        if plan.draining_apart {
            // Blue/green: the draining instances' tasks on their own terms.
            for phase in [Phase::Provisioning, Phase::Running, Phase::Unhealthy] {
                stop.extend(drained[phase as usize].iter().map(|&t| (t, phase, StopReason::InstanceDraining)));
            }
            let healthy = &drained[Phase::Healthy as usize];
            stop.extend(
                healthy.iter().rev().take(plan.stop_draining_healthy as usize).map(|&t| (t, Phase::Healthy, StopReason::InstanceDraining)),
            );
        }
        let with_drained = (!plan.draining_apart).then_some((drained, StopReason::InstanceDraining));
        let old = with_drained
            .into_iter()
            .chain(r.deployments[..primary as usize].iter().map(|d| (d.lists(), StopReason::ServiceSchedulerInitiated)));
        for (lists, reason) in old.clone() {
            let tasks = |phase: Phase| lists[phase as usize].iter().map(move |&t| (t, phase, reason));
            if plan.stop_provisioning > 0 {
                stop.extend(tasks(Phase::Provisioning));
            }
            if plan.stop_unhealthy > 0 {
                stop.extend(tasks(Phase::Running));
                stop.extend(tasks(Phase::Unhealthy));
            }
        }
        for (lists, reason) in old {
            let healthy = &lists[Phase::Healthy as usize];
            let take = healthy_left.min(healthy.len());
            stop.extend(healthy.iter().rev().take(take).map(|&t| (t, Phase::Healthy, reason)));
            healthy_left -= take;
        }
        // The primary's failed tasks whose replacements are healthy, the oldest first.
        let p = r.primary();
        if plan.stop_failed > 0 {
            let mut failed: Vec<TaskId> = p.tasks(Phase::Unhealthy).to_vec();
            failed.sort_by_key(|&t| self.tasks.get(t).serial);
            stop.extend(
                failed.into_iter().take(plan.stop_failed as usize).map(|t| (t, Phase::Unhealthy, StopReason::ServiceSchedulerInitiated)),
            );
        }
        // A lowered desired count: the new deployment's extra tasks go, waiting ones first.
        let mut trim: Vec<(TaskId, Phase)> = Vec::new();
        for phase in [Phase::Waiting, Phase::Provisioning, Phase::Running, Phase::Healthy] {
            let left = plan.trim as usize - trim.len();
            trim.extend(p.tasks(phase).iter().rev().take(left).map(|&t| (t, phase)));
        }
        let at_rest = r.at_rest() && !r.baking() && !r.scale_up_held;
        let reported_stuck = p.reported_stuck;
        let mut stopped_running = Vec::new();
        let trim_reason = r.trim_reason;
        for (task, phase, reason) in stop.into_iter().chain(trim.iter().map(|&(t, p)| (t, p, trim_reason))) {
            if phase != Phase::Waiting && phase != Phase::Provisioning {
                stopped_running.push(self.tasks.get(task).serial);
            }
            self.scheduler_stop(service, task, phase, reason);
        }
        if !stopped_running.is_empty() {
            let message = format!("has stopped {} running tasks: {}.", stopped_running.len(), task_list(&stopped_running));
            self.service_event(service, primary, message);
        }
        let w = self.services.workload(service);
        let td = self.deployments.rollout(service).expect("a rollout").primary().task_definition;
        for _ in 0..plan.start {
            let task = self.new_task(w, td, None);
            self.services.want(service, task);
            self.deployments.wanted(service, task);
        }
        if plan.start > 0 && !self.services.check_pending(service) {
            self.service_launch(service);
        }
        if plan.is_empty() && at_rest && !reported_stuck {
            let r = self.deployments.rollout_mut(service).expect("a rollout");
            r.deployments.last_mut().expect("a deployment").reported_stuck = true;
            let message = "was unable to stop or start tasks during a deployment because of the service deployment configuration. \
                           Update the minimumHealthyPercent or maximumPercent value and try again.";
            self.service_event(service, primary, message.to_string());
        }
    }

    /// The scheduler stops one task of the service: a waiting one is dropped, a provisioning one
    /// stops at once, a running one deregisters and then stops. `reason`: its stop reason
    /// (a task that failed its health checks keeps its own).
    fn scheduler_stop(&mut self, service: u32, task: TaskId, phase: Phase, reason: StopReason) {
        let now = self.now();
        let t = self.tasks.get(task);
        let (host, td, workload) = (t.host.unwrap_or(FARGATE), t.task_definition, t.workload);
        match phase {
            Phase::Waiting => {
                self.services.unwant(service, task);
                self.deployments.left(task);
                self.recorder.service_task_cancelled();
                self.tasks.dropped(task, now, reason);
            }
            Phase::Provisioning if self.tasks.get(task).state == TaskState::AwaitingPlacement => {
                // Still waiting for capacity (no instance yet): it leaves its provider's queue.
                self.deployments.stopped_provisioning(task);
                self.deployments.left(task);
                let w = self.capacity.as_mut().and_then(|c| c.take_waiting(task)).expect("a task waiting for capacity is in a queue");
                self.recorder.capacity_wait_ended(now.saturating_sub(w.since), Some(false));
                self.services.task_stopped(service);
                self.tasks.dropped(task, now, reason);
                self.request_step(service);
            }
            Phase::Provisioning => {
                self.deployments.stopped_provisioning(task);
                self.stop_task(task, host, td, workload, reason, TaskState::Provisioning);
            }
            Phase::Running | Phase::Healthy => {
                self.deployments.stopping(task, reason);
                self.deactivate(task, workload, true);
            }
            Phase::Unhealthy => {
                self.deployments.stopping_unhealthy(task, false);
                self.deactivate(task, workload, true);
            }
            Phase::Stopping => unreachable!("a stopping task is not stopped again"),
        }
    }

    /// A Fargate Spot notice for a task of a service with deployments: the task leaves its
    /// deployment's counts at once (DEACTIVATING, then SIGTERM now: its containers exit within
    /// the stop timeout, which Fargate caps at two minutes) and the next step replaces it.
    /// Returns false if the task was not running or is stopping already.
    pub(super) fn interrupt_member(&mut self, service: u32, task: TaskId) -> bool {
        if self.tasks.get(task).state != TaskState::Running
            || !matches!(self.deployments.phase(task), Some(Phase::Running | Phase::Healthy | Phase::Unhealthy))
        {
            return false;
        }
        let workload = self.services.workload(service);
        self.deployments.interrupted(task, StopReason::SpotInterrupted);
        self.deactivate(task, workload, false);
        self.request_step(service);
        true
    }

    /// A running task goes DEACTIVATING: with `drain`, its target drains for the deregistration
    /// delay before STOPPING; without (or with no delay), it goes STOPPING at once.
    fn deactivate(&mut self, task: TaskId, workload: u32, drain: bool) {
        if let Some(finish) = self.tasks.deactivating(task) {
            self.queue.cancel(finish);
        }
        let delay = self.scenario.workloads[workload as usize].rollout.as_ref().expect("a rollout").deregistration_delay;
        if !drain || delay == SimTime::ZERO {
            self.begin_stopping(task);
        } else {
            let at = self.now() + delay;
            self.schedule_for_task(at, Event::Task(TaskEvent::Deregistered { task }));
        }
    }

    /// DEACTIVATING is over: SIGTERM. The host gets the task's resources back now (unless the
    /// older behaviour is switched on); the containers exit when they handle the signal, or are
    /// killed at the stop timeout.
    fn begin_stopping(&mut self, task: TaskId) {
        self.tasks.stopping(task);
        let t = self.tasks.get(task);
        let (host, td, workload) = (t.host, t.task_definition, t.workload);
        let lifecycle = &self.scenario.service_scheduler.lifecycle;
        if let Some(host) = host
            && lifecycle.release_resources_at == ReleaseAt::Stopping
        {
            self.release_host(task, host, td, workload);
        }
        // A task whose essential container failed its health check may have exited already.
        let after = if self.deployments.exited(task) { SimTime::ZERO } else { self.sigterm_exit_delay(td, workload) };
        let at = self.now() + after;
        self.schedule_for_task(at, Event::Task(TaskEvent::Exited { task }));
    }

    /// The rolling-update task events: healthy, deregistered, exited. Each is stale if the task
    /// stopped some other way meanwhile (its host failed, it ran out of memory, it finished).
    pub(super) fn on_rollout_task(&mut self, event: TaskEvent) {
        let task = event.task();
        let t = self.tasks.get(task);
        match event {
            TaskEvent::Healthy { .. } => {
                if t.state == TaskState::Running && self.deployments.phase(task) == Some(Phase::Running) {
                    let service = self.deployments.service_of(task).expect("a member");
                    self.deployments.healthy(task);
                    self.request_step(service);
                }
            }
            TaskEvent::Unhealthy { container, .. } => {
                if t.state == TaskState::Running && matches!(self.deployments.phase(task), Some(Phase::Running | Phase::Healthy)) {
                    let service = self.deployments.service_of(task).expect("a member");
                    match self.scenario.service_scheduler.lifecycle.unhealthy_tasks {
                        UnhealthyTasks::ReplaceFirst => self.failed_checks(service, task, container),
                        UnhealthyTasks::StopFirst => self.stop_unhealthy(service, task, container),
                    }
                }
            }
            TaskEvent::Deregistered { .. } => {
                if t.state == TaskState::Deactivating {
                    self.begin_stopping(task);
                }
            }
            TaskEvent::Exited { .. } => {
                if t.state == TaskState::Stopping {
                    let (host, td, workload) = (t.host.unwrap_or(FARGATE), t.task_definition, t.workload);
                    let reason = self.deployments.stop_reason(task);
                    self.stop_task(task, host, td, workload, reason, TaskState::Stopping);
                }
            }
            _ => unreachable!("not a rolling-update event"),
        }
    }

    /// A member task reached RUNNING: its target is registered and its checks begin. It turns
    /// healthy when they pass (40 s after RUNNING without checks); a task drawn to fail them is
    /// stopped when they fail, not within the grace period (docs/model.md#load-balancers-and-health-checks).
    pub(super) fn member_running(&mut self, task: TaskId) {
        let Some(service) = self.deployments.service_of(task) else { return };
        self.deployments.running(task);
        let t = self.tasks.get(task);
        let (td, serial) = (t.task_definition, t.serial);
        let spec = self.scenario.workloads[t.workload as usize].rollout.as_ref().expect("a rollout");
        let lifecycle = &self.scenario.service_scheduler.lifecycle;
        // Whether (and from when) its target checks and its container check fail.
        let (target_fails, container_fails) = match spec.health_failures {
            None => (None, None),
            Some(f) => {
                let rng = &mut self.deployments.rng_health;
                let mut draw = |p: f64| (p > 0.0 && rng.random::<f64>() < p).then_some(f.after);
                (draw(f.target), draw(f.container))
            }
        };
        let registration = lifecycle.target_registration_time;
        let target = spec
            .target_group
            .map(|tg| health::registered_target_verdict(&tg.health_check, lifecycle.new_target_health, registration, target_fails));
        let mut containers = [health::Verdict::default(); MAX_CONTAINERS_PER_TASK_DEFINITION];
        let mut n = 0;
        for hc in self.scenario.task_definitions[td as usize].essential_health_checks() {
            // The first essential container with a check is the one that fails.
            containers[n] = health::container_verdict(hc, if n == 0 { container_fails } else { None });
            n += 1;
        }
        let plan = health::plan(target, &containers[..n], lifecycle.healthy_after_running, spec.grace_period);
        if target.is_some() {
            // Named in one event per instant, as ECS groups its registrations.
            self.deployments.rollout_mut(service).expect("a rollout").registered.push(serial);
            self.request_step(service);
        }
        let now = self.now();
        match plan.healthy_at {
            Some(SimTime::ZERO) => {
                self.deployments.healthy(task);
                self.request_step(service);
            }
            Some(after) => self.schedule_for_task(now + after, Event::Task(TaskEvent::Healthy { task })),
            None => {}
        }
        if let Some((after, check)) = plan.stop {
            let container = check == health::FailedCheck::Container;
            self.schedule_for_task(now + after, Event::Task(TaskEvent::Unhealthy { task, container }));
        }
    }

    /// `targetgroup/<load balancer>-<service>`: the service's target group as events name it.
    fn target_group_name(&self, service: u32) -> String {
        let w = &self.scenario.workloads[self.services.workload(service) as usize];
        let tg = w.rollout.as_ref().and_then(|r| r.target_group).expect("a target group");
        format!("targetgroup/{}-{}", self.scenario.load_balancers[tg.load_balancer as usize].name, w.name)
    }

    /// A task failed its health checks: the service says so. Returns why it will stop.
    fn report_unhealthy(&mut self, service: u32, task: TaskId, container: bool) -> StopReason {
        let serial = self.tasks.get(task).serial;
        let index = self.deployments.rollout(service).expect("a rollout").primary_index();
        if container {
            self.service_event(service, index, format!("(task {serial}) failed container health checks."));
            StopReason::ContainerHealthCheck
        } else {
            let name = self.target_group_name(service);
            let message = format!("(task {serial}) is unhealthy in (target-group {name}) due to (reason Health checks failed).");
            self.service_event(service, index, message);
            StopReason::ElbHealthCheck
        }
    }

    /// Replacement first: the failed task runs on, counted toward the maximum but not toward the
    /// desired count, so the next step starts its replacement; it stops once a replacement is
    /// healthy, or first when the maximum leaves no room.
    fn failed_checks(&mut self, service: u32, task: TaskId, container: bool) {
        let reason = self.report_unhealthy(service, task, container);
        let in_primary = self.deployments.in_primary(task);
        self.deployments.failed_checks(task, reason);
        // The circuit breaker counts it in its second stage.
        if in_primary {
            self.count_failure(service, true);
        }
        self.request_step(service);
    }

    /// Stop first (the earlier behaviour): a failed target drains (the deregistration delay), a
    /// failed container has exited and has nothing to drain; the next step starts a task in its
    /// place.
    fn stop_unhealthy(&mut self, service: u32, task: TaskId, container: bool) {
        let reason = self.report_unhealthy(service, task, container);
        let (serial, workload) = (self.tasks.get(task).serial, self.services.workload(service));
        let index = self.deployments.rollout(service).expect("a rollout").primary_index();
        self.service_event(service, index, format!("has stopped 1 running tasks: (task {serial})."));
        let in_primary = self.deployments.in_primary(task);
        self.deployments.failed_checks(task, reason);
        self.deployments.stopping_unhealthy(task, container);
        self.deactivate(task, workload, !container);
        if in_primary {
            self.count_failure(service, true);
        }
        self.request_step(service);
    }

    /// A member was placed or accepted; its ENI's address, if it took one, counts for the service.
    /// A task that waited for capacity is a provisioning member already.
    pub(super) fn member_placed(&mut self, task: TaskId) {
        if self.deployments.phase(task) == Some(Phase::Waiting) {
            self.deployments.placed(task);
        }
    }

    pub(super) fn member_address_taken(&mut self, task: TaskId) {
        if let Some(service) = self.deployments.service_of(task) {
            self.deployments.address_taken(service);
        }
    }

    /// A new task could not be placed: the circuit breaker counts it; the service reports it once.
    pub(super) fn task_not_placed(&mut self, service: u32) {
        let r = self.deployments.rollout_mut(service).expect("a rollout");
        let index = r.primary_index();
        let p = r.deployments.last_mut().expect("a deployment");
        if !p.reported_unplaced {
            p.reported_unplaced = true;
            self.service_event(
                service,
                index,
                "was unable to place a task because no container instance met all of its requirements.".to_string(),
            );
        }
        self.new_task_failed(service);
    }

    /// A new task failed to be placed or to start: the circuit breaker counts it, and may trip.
    pub(super) fn new_task_failed(&mut self, service: u32) {
        self.count_failure(service, false);
    }

    /// The circuit breaker counts a failure of the primary's tasks (`health`: a failed health
    /// check, its second stage), and may trip.
    fn count_failure(&mut self, service: u32, health: bool) {
        let now = self.now();
        let r = self.deployments.rollout(service).expect("a rollout");
        let (index, desired) = (r.primary_index(), r.desired);
        if let Breaker::Tripped { rollback_to } = self.deployments.count_failure(service, now, health) {
            let what = if health { "tasks failed health checks" } else { "tasks failed to start" };
            self.service_event(service, index, format!("(deployment ecs-svc/{index}) deployment failed: {what}."));
            match rollback_to {
                Some((to, td)) => self.roll_back(service, index, to, td, desired),
                None => self.request_step(service),
            }
        }
    }

    /// "has started N tasks: (task …) …", for the tasks one launch round placed.
    pub(super) fn tasks_started_event(&mut self, service: u32, serials: &[u32]) {
        let index = self.deployments.rollout(service).expect("a rollout").primary_index();
        let message = format!("has started {} tasks: {}.", serials.len(), task_list(serials));
        self.service_event(service, index, message);
    }

    fn service_event(&mut self, service: u32, deployment: u16, message: String) {
        let workload = self.services.workload(service);
        let name = &self.scenario.workloads[workload as usize].name;
        let message = format!("(service {name}) {message}");
        self.deployments.events.push(EventRow { time: self.now(), workload, deployment, message });
    }
}

impl World<'_> {
    /// Each deployment's row, and the deployment metrics (NaN without deployments).
    pub(super) fn deployment_results(&mut self, m: &mut Vec<(Metric, f64)>) -> Vec<DeploymentRow> {
        let horizon = self.scenario.horizon;
        self.deployments.finish();
        let mut rows = Vec::new();
        let (mut count, mut completed, mut failed, mut rolled_back, mut stuck) = (0u32, 0u32, 0u32, 0u32, 0u32);
        let (mut ended, mut ended_s, mut longest) = (0u32, 0.0f64, 0.0f64);
        let (mut peak_tasks, mut peak_addresses, mut started, mut stopped, mut failed_tasks) = (0u32, 0u32, 0u32, 0u32, 0u32);
        let mut below = SimTime::ZERO;
        for r in self.deployments.rollouts() {
            below = below + r.time_below(horizon);
            for (i, d) in r.deployments.iter().enumerate() {
                let cause = match d.cause {
                    Cause::Created => "created".to_string(),
                    Cause::Update => "update".to_string(),
                    Cause::Rollback { of } => format!("rollback of ecs-svc/{of}"),
                };
                rows.push(DeploymentRow {
                    workload: r.workload,
                    deployment: i as u16,
                    cause,
                    task_definition: d.task_definition,
                    desired: d.desired,
                    started_at: d.started_at,
                    ended_at: d.ended_at,
                    outcome: d.outcome.as_str(),
                    tasks_started: d.tasks_started,
                    tasks_stopped: d.tasks_stopped,
                    failed_tasks: d.failed_tasks,
                    peak_tasks: d.peak_tasks,
                    peak_addresses: d.peak_addresses,
                });
                if d.cause == Cause::Created {
                    continue;
                }
                count += 1;
                match d.outcome {
                    Outcome::Completed => completed += 1,
                    Outcome::Failed => failed += 1,
                    Outcome::RolledBack => {
                        failed += 1;
                        rolled_back += 1;
                    }
                    Outcome::Stuck => stuck += 1,
                    Outcome::InProgress | Outcome::Superseded => {}
                }
                let duration = d.ended_at.unwrap_or(horizon).saturating_sub(d.started_at).as_secs_f64();
                if d.ended_at.is_some() {
                    ended += 1;
                    ended_s += duration;
                }
                longest = longest.max(duration);
                peak_tasks = peak_tasks.max(d.peak_tasks);
                peak_addresses = peak_addresses.max(d.peak_addresses);
                started += d.tasks_started;
                stopped += d.tasks_stopped;
                failed_tasks += d.failed_tasks;
            }
        }
        let any = self.scenario.has_deployments();
        let v = |x: f64| if any { x } else { f64::NAN };
        m.push((Metric::Deployments, v(f64::from(count))));
        m.push((Metric::DeploymentsCompleted, v(f64::from(completed))));
        m.push((Metric::DeploymentsFailed, v(f64::from(failed))));
        m.push((Metric::DeploymentsRolledBack, v(f64::from(rolled_back))));
        m.push((Metric::DeploymentsStuck, v(f64::from(stuck))));
        m.push((Metric::DeploymentDurationMean, if ended == 0 { f64::NAN } else { ended_s / f64::from(ended) }));
        m.push((Metric::DeploymentDurationMax, v(longest)));
        m.push((Metric::DeploymentPeakTasks, v(f64::from(peak_tasks))));
        m.push((Metric::DeploymentPeakAddresses, v(f64::from(peak_addresses))));
        m.push((Metric::DeploymentTasksStarted, v(f64::from(started))));
        m.push((Metric::DeploymentTasksStopped, v(f64::from(stopped))));
        m.push((Metric::DeploymentFailedTasks, v(f64::from(failed_tasks))));
        m.push((Metric::TimeBelowMinimumHealthy, v(below.as_secs_f64())));
        rows
    }
}

/// `(task 12) (task 13) …`, naming at most [`NAMED_TASKS`].
fn task_list(serials: &[u32]) -> String {
    let mut s: String = serials.iter().take(NAMED_TASKS).map(|t| format!("(task {t})")).collect::<Vec<_>>().join(" ");
    if serials.len() > NAMED_TASKS {
        s.push_str(&format!(" and {} more", serials.len() - NAMED_TASKS));
    }
    s
}
