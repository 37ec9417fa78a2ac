//! PENDING, as the coordinator sees it: after the ENI attach a task's images are pulled (the
//! egress part plans and runs the flows), then its containers start; a pull with no route or a
//! missing execution role stops the task through `stop_task` with ECS's reason.

use super::egress::{EgressEvent, PullStart};
use super::lifecycle::{FARGATE, TaskEvent};
use super::world::{Event, World};
use crate::engine::SimTime;
use crate::model::egress::{FlowId, StartFailure};
use crate::model::{StopReason, TaskId, TaskState};

impl World<'_> {
    /// The task's ENI is attached: its pulls begin.
    pub(super) fn begin_pulls(&mut self, task: TaskId) {
        let now = self.now();
        let t = self.tasks.get(task);
        let (td, workload, host) = (t.task_definition, t.workload, t.host);
        let subnet = if host.is_none() { t.subnet.map(|s| super::egress::Egress::subnet_routing(self.scenario, s)) } else { None };
        let egress = self.egress.as_mut().expect("pulls only with egress");
        match egress.begin_pulls(self.scenario, now, task, td, workload, host, subnet) {
            PullStart::Ready => self.pulls_done(task),
            PullStart::Pulling => self.apply_flow_changes(),
            PullStart::FailNow(f) => {
                self.recorder.pull_failed(f);
                self.stop_task(task, host.unwrap_or(FARGATE), td, workload, StopReason::PullFailed(f), TaskState::Provisioning);
            }
            PullStart::Timeout(at) => {
                self.schedule_for_task(at, Event::Egress(EgressEvent::PullTimedOut { task }));
            }
        }
    }

    pub(super) fn on_egress(&mut self, event: EgressEvent) {
        if let EgressEvent::PullsBegin { task, .. } | EgressEvent::PullTimedOut { task } | EgressEvent::PullDeadline { task } = event
            && (self.failures.is_some() || self.deployments.is_active())
            && self.tasks.get(task).state == TaskState::Stopped
        {
            return; // its host failed, or a deployment stopped it, while it provisioned
        }
        match event {
            EgressEvent::PullsBegin { task, .. } => self.begin_pulls(task),
            EgressEvent::Flow { flow, generation } => self.flow_event(flow, generation),
            EgressEvent::PullDeadline { task } => {
                let now = self.now();
                if self.egress.as_mut().expect("egress").pull_overdue(now, task) {
                    let t = self.tasks.get(task);
                    let (td, workload, host) = (t.task_definition, t.workload, t.host.unwrap_or(FARGATE));
                    let f = StartFailure::PullTimeout;
                    self.recorder.pull_failed(f);
                    self.stop_task(task, host, td, workload, StopReason::PullFailed(f), TaskState::Provisioning);
                }
            }
            EgressEvent::NatOutage { az, up } => {
                let now = self.now();
                self.egress.as_mut().expect("egress").set_nat_up(now, az, up);
                self.apply_flow_changes();
            }
            EgressEvent::PullTimedOut { task } => {
                let failure = self.egress.as_mut().expect("egress").timed_out(task);
                match failure {
                    None => self.pulls_done(task),
                    Some(f) => {
                        let t = self.tasks.get(task);
                        let (td, workload, host) = (t.task_definition, t.workload, t.host.unwrap_or(FARGATE));
                        self.recorder.pull_failed(f);
                        self.stop_task(task, host, td, workload, StopReason::PullFailed(f), TaskState::Provisioning);
                    }
                }
            }
        }
    }

    fn flow_event(&mut self, flow: FlowId, generation: u32) {
        let now = self.now();
        let egress = self.egress.as_mut().expect("egress");
        let Some(task) = egress.flow_owner(flow, generation) else { return };
        // An event left in place when the flow slowed down: re-armed at the flow's due time.
        match egress.flow_due(flow) {
            Some(due) if due > now => {
                let id = self.queue.schedule(due, Event::Egress(EgressEvent::Flow { flow, generation }));
                return egress.set_event(flow, Some((id, due)));
            }
            None => return egress.set_event(flow, None),
            Some(_) => {}
        }
        let host = self.tasks.get(task).host;
        let mut done = std::mem::take(&mut self.pulls_finished);
        egress.flow_event(now, flow, host, &mut done);
        self.apply_flow_changes();
        for &t in &done {
            self.pulls_done(t);
        }
        done.clear();
        self.pulls_finished = done;
    }

    /// Every image is present: the containers start after the start delay.
    fn pulls_done(&mut self, task: TaskId) {
        let now = self.now();
        if let Some(began) = self.egress.as_ref().and_then(|e| e.pull_began(task)) {
            self.recorder.pull_finished(now.saturating_sub(began));
        }
        let at = now + self.scenario.egress.images.container_start_delay;
        self.schedule_for_task(at, Event::Task(TaskEvent::Started { task }));
    }

    /// Reschedules the flows whose event time the egress part reported as changed, schedules
    /// the pull deadlines that became reachable, and moves the run-time end of tasks whose
    /// blocking-mode logs changed speed.
    pub(super) fn apply_flow_changes(&mut self) {
        let Some(egress) = self.egress.as_mut() else { return };
        let mut changes = std::mem::take(&mut self.flow_changes);
        egress.take_changes(&mut changes);
        for &(flow, generation, at) in &changes {
            let pending = egress.event(flow);
            // Due later than its pending event: the event fires early and re-arms.
            if let (Some((_, when)), Some(at)) = (pending, at)
                && when <= at
            {
                continue;
            }
            if let Some((old, _)) = pending {
                self.queue.cancel(old);
            }
            let id = at.map(|at| (self.queue.schedule(at, Event::Egress(EgressEvent::Flow { flow, generation })), at));
            egress.set_event(flow, id);
        }
        changes.clear();
        self.flow_changes = changes;
        let mut deadlines = std::mem::take(&mut self.pull_deadlines);
        egress.take_deadlines(&mut deadlines);
        let now = self.queue.now();
        let mut ends = std::mem::take(&mut self.run_end_changes);
        egress.take_finish_changes(&mut ends);
        if egress.has_stall_changes() {
            egress.settle_stalls(now, &mut ends);
        }
        // Deadlines are scheduled before the moved run ends, as they always were.
        for &(task, at) in &deadlines {
            self.schedule_for_task(at, Event::Egress(EgressEvent::PullDeadline { task }));
        }
        deadlines.clear();
        self.pull_deadlines = deadlines;
        for &(task, at) in &ends {
            self.move_run_end(task, at);
        }
        ends.clear();
        self.run_end_changes = ends;
    }

    /// The task's run time now ends at `at` (`None`: not while its work is stalled).
    fn move_run_end(&mut self, task: TaskId, at: Option<SimTime>) {
        if let Some(old) = self.tasks.take_finish_event(task) {
            self.queue.cancel(old);
        }
        let Some(at) = at else { return };
        let t = self.tasks.get(task);
        debug_assert_eq!(t.state, TaskState::Running);
        let host = t.host.unwrap_or(FARGATE);
        // Scenario validation caps workloads and task definitions at u16::MAX.
        let (task_definition, workload) = (t.task_definition as u16, t.workload as u16);
        let event = self.queue.schedule(at, Event::Task(TaskEvent::Finished { task, host, task_definition, workload }));
        self.tasks.set_finish_event(task, event);
    }
}
