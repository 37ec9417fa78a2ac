//! The way out of RUNNING, and the service scheduler's reaction: a stopped task gives back its
//! host resources (EC2) or vCPUs (Fargate), its ENI enters clean-up, and its service wants a
//! replacement, launched at the service's rate with ECS's back-off after failures.

use super::addresses::{AddressEvent, Addresses};
use super::launch::Launch;
use super::lifecycle::FARGATE;
use super::services::ServiceEvent;
use super::world::{Event, World};
use crate::engine::SimTime;
use crate::model::{HostId, StopReason, TaskId, TaskIp, TaskState};
use crate::scenario::capacity::fargate_provider;
use crate::scenario::deployment::ReleaseAt;

impl World<'_> {
    /// Stops a provisioning or running task: gives back its host resources (EC2) or its vCPUs
    /// (Fargate), starts its ENI clean-up, and lets its service know. Start failures come here
    /// too: ECS stops them the same way.
    ///
    /// The caller says what it knows (`was`: the task's state) so that stopping a task without an
    /// ENI never loads its cold record — on a million-task run that load is the hot path's main
    /// cache miss; the record is only written.
    pub(super) fn stop_task(&mut self, task: TaskId, host: HostId, td: u32, workload: u32, reason: StopReason, was: TaskState) {
        if was.has_containers() {
            self.stop_containers(task, host, workload, reason);
            if self.autoscaling.is_some() {
                self.service_running_count(workload, -1);
            }
        }
        let now = self.now();
        if let Some(egress) = self.egress.as_mut() {
            // A reused buffer: no allocation per stopped task.
            let mut cancel = std::mem::take(&mut self.flow_events_to_cancel);
            egress.task_stopped(now, task, &mut cancel);
            for e in cancel.drain(..) {
                self.queue.cancel(e);
            }
            self.flow_events_to_cancel = cancel;
            self.apply_flow_changes();
        }
        let needs = self.fleet.needs(td);
        let (need, eni) = (needs.need, needs.eni);
        let (subnet, ip) = if eni || host == FARGATE { self.tasks.eni(task) } else { (None, TaskIp::None) };
        debug_assert!(
            host == FARGATE || {
                let t = self.tasks.get(task);
                (t.host, t.task_definition, t.workload) == (Some(host), td, workload)
            }
        );
        if host == FARGATE {
            if ip == TaskIp::Held {
                self.fargate.stopped(need.cpu_units);
                self.recorder.fargate_stopped(need.cpu_units);
                let az = self.addresses.subnet(subnet.expect("an ENI has a subnet")).az;
                self.fleet.hostless_task_stopped(workload, az);
                if let Some(c) = self.capacity.as_mut()
                    && c.splits(workload)
                {
                    c.placed_changed(self.scenario, workload, Some(fargate_provider(self.tasks.get(task).spot)), -1);
                }
            }
        } else if !(was == TaskState::Stopping && self.scenario.service_scheduler.lifecycle.release_resources_at == ReleaseAt::Stopping) {
            self.release_host(task, host, td, workload);
        }
        if ip == TaskIp::Held {
            self.addresses.begin_release(subnet.expect("an ENI has a subnet"));
            let at = now + Addresses::cleanup_delay(self.scenario);
            self.schedule_for_task(at, Event::Address(AddressEvent::EniReleased { task }));
        }
        if let Some(finish) = self.tasks.stopped(task, now, reason, was) {
            self.queue.cancel(finish);
        }
        let service = self.services.of_workload(workload);
        self.recorder.task_stopped(was, reason, service.is_none());
        let Some(service) = service else { return };
        if was.has_containers() && self.tracks_recovery {
            self.recorder.service_running_changed(service, -1, now);
        }
        if self.replaced_early > 0 && self.tasks.get(task).interrupted {
            // Its service replaced it at the Spot notice or the instance drain.
            self.replaced_early -= 1;
            return;
        }
        // A start that failed during its own launch is handled by `service_launch`, which also
        // backs off.
        let launch_failure = reason.fails_the_launch();
        if self.deployments.rollout(service).is_some() {
            if let Some((_, deployment)) = self.deployments.left(task)
                && !launch_failure
            {
                self.services.task_stopped(service);
                if matches!(reason, StopReason::PullFailed(_))
                    && self.deployments.rollout(service).is_some_and(|r| r.primary_index() == deployment)
                {
                    self.new_task_failed(service);
                }
                self.request_step(service);
            }
        } else if !launch_failure {
            // The service scheduler replaces a stopped task; one that failed in PENDING (its
            // images could not be pulled) counts as a failed launch and backs off. A task
            // stopped because the desired count went down is not replaced.
            self.services.task_stopped(service);
            if !self.services.wants_more(service) {
                return;
            }
            self.queue_replacement(service);
            if matches!(reason, StopReason::PullFailed(_)) {
                let backoff = self.services.back_off(service);
                self.schedule_check(service, now + backoff);
            } else if !self.services.check_pending(service) {
                self.service_launch(service);
            }
        }
    }

    /// How long a task's containers take to exit after SIGTERM: the workload's
    /// `exit_after_sigterm`, at most the task definition's stop timeout (SIGKILL then).
    pub(super) fn sigterm_exit_delay(&self, td: u32, workload: u32) -> SimTime {
        let s = self.scenario;
        let timeout = s.task_definitions[td as usize].stop_timeout(s.service_scheduler.lifecycle.container_stop_timeout);
        let exits = s.workloads[workload as usize].rollout.as_ref().and_then(|r| r.exit_after_sigterm);
        exits.map_or(timeout, |e| e.min(timeout))
    }

    /// Gives an EC2 task's CPU, memory, ports and ENI slot back to its host.
    pub(super) fn release_host(&mut self, task: TaskId, host: HostId, td: u32, workload: u32) {
        let need = self.fleet.needs(td).need;
        let (az, now_idle) = self.fleet.release(host, td, workload);
        self.recorder.host_released(self.now(), az, need, now_idle);
        if let Some(failures) = self.failures.as_mut() {
            failures.task_left(host, task);
        }
        if let Some(c) = self.capacity.as_mut() {
            let provider = c.provider_of_host_group(self.fleet.cluster().host(host).group);
            c.placed_changed(self.scenario, workload, provider, -1);
            self.capacity_freed(host);
        }
    }

    /// A stopped task's ENI clean-up is over: the address goes back to its subnet.
    pub(super) fn release_eni(&mut self, task: TaskId) {
        let subnet = self.tasks.eni_released(task);
        self.addresses.finish_release(subnet);
        self.recorder.address_released();
        if self.deployments.is_active()
            && let Some(service) = self.services.of_workload(self.tasks.get(task).workload)
        {
            self.deployments.address_released(service);
        }
    }

    /// Launches waiting service tasks while the launch rate allows. A failed placement or a
    /// failed start backs off (doubling, capped at 15 minutes); an empty Fargate launch bucket
    /// waits for its next token.
    pub(super) fn service_launch(&mut self, service: u32) {
        let rollout = self.deployments.rollout(service);
        if rollout.is_some_and(|r| !r.may_launch()) {
            return;
        }
        let rollout = rollout.is_some();
        let mut started = std::mem::take(&mut self.started_serials);
        loop {
            let now = self.now();
            let task = match self.services.take_next(service, now) {
                Ok(Some(task)) => task,
                Ok(None) => break,
                Err(next_token) => {
                    self.schedule_check(service, next_token);
                    break;
                }
            };
            match self.attempt(task) {
                Launch::WaitingForCapacity => {
                    // It exists now, in PROVISIONING: the service counts it and goes on; a
                    // deployment counts it among its started tasks (toward maximumPercent).
                    if rollout {
                        self.deployments.placed(task);
                        started.push(self.tasks.get(task).serial);
                    }
                }
                Launch::Started => {
                    self.services.reset_backoff(service);
                    self.recorder.service_task_launched(now.saturating_sub(self.tasks.get(task).arrived_at));
                    if rollout {
                        started.push(self.tasks.get(task).serial);
                    }
                    if self.services.check_pending(service) {
                        break; // the task failed in PENDING at once: the service backs off
                    }
                }
                Launch::Throttled => {
                    self.services.put_back(service, task);
                    let at = self.fargate.next_token_at(now);
                    self.schedule_check(service, at);
                    break;
                }
                Launch::NotPlaced => {
                    self.services.put_back(service, task);
                    if rollout {
                        self.task_not_placed(service);
                    }
                    let backoff = self.services.back_off(service);
                    self.schedule_check(service, now + backoff);
                    break;
                }
                Launch::FailedToStart => {
                    self.service_start_failed(service, task);
                    break;
                }
            }
        }
        if !started.is_empty() {
            self.tasks_started_event(service, &started);
            started.clear();
        }
        self.started_serials = started;
    }

    /// A service task taken for a launch failed to start (or gave up waiting for capacity):
    /// the service wants a new one and backs off. With deployments the task leaves its
    /// deployment, the circuit breaker counts it and the next step replaces it.
    pub(super) fn service_start_failed(&mut self, service: u32, task: TaskId) {
        self.services.start_failed(service);
        if self.deployments.rollout(service).is_some() {
            self.deployments.left(task);
            self.new_task_failed(service);
            self.request_step(service);
        } else {
            self.queue_replacement(service);
        }
        let backoff = self.services.back_off(service);
        let now = self.now();
        self.schedule_check(service, now + backoff);
    }

    /// The service wants a new task in place of one that stopped or failed to start.
    pub(super) fn queue_replacement(&mut self, service: u32) {
        let w = self.services.workload(service);
        let td = self.scenario.workloads[w as usize].task_definition;
        let replacement = self.new_task(w, td, None);
        self.services.want(service, replacement);
    }

    pub(super) fn schedule_check(&mut self, service: u32, at: SimTime) {
        if let Some(old) = self.services.set_check(service, None) {
            self.queue.cancel(old);
        }
        let id = self.queue.schedule(at, Event::Service(ServiceEvent::Check { service }));
        self.services.set_check(service, Some(id));
    }
}
