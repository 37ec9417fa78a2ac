//! Service auto scaling, as the coordinator sees it: every metric period each scaled service's
//! policies read the request load and its RUNNING tasks, the alarms decide, and the desired
//! count moves. A higher count creates tasks the scheduler launches at its usual rate (they may
//! wait for capacity); a lower one drops tasks not yet placed first, then stops placed ones
//! from the AZ with the most of the service's tasks, the instance with the most of them first
//! (docs/model.md#service-auto-scaling).

use super::autoscaling::{AutoScalingEvent, decide, memory_utilisation, metric_value, step_decide};
use super::lifecycle::FARGATE;
use super::world::{Event, World};
use crate::model::{AzId, HostId, StopReason, TaskId, TaskState};
use crate::scenario::autoscaling::ScalingMetric;

impl World<'_> {
    pub(super) fn start_service_scaling(&mut self) {
        let Some(a) = &self.autoscaling else { return };
        self.queue.schedule(crate::engine::SimTime::ZERO, Event::AutoScaling(AutoScalingEvent::Tick));
        let s = self.scenario;
        let mut actions = Vec::new();
        for (i, &(_, workload, _)) in a.scaled.iter().enumerate() {
            let spec = s.auto_scaling[workload as usize].as_ref().expect("a scaled service");
            for (j, action) in spec.scheduled.iter().enumerate().filter(|(_, x)| x.at <= s.horizon) {
                actions.push((action.at, AutoScalingEvent::Scheduled { scaled: i as u32, action: j as u32 }));
            }
        }
        for (at, e) in actions {
            self.queue.schedule(at, Event::AutoScaling(e));
        }
    }

    pub(super) fn on_auto_scaling(&mut self, event: AutoScalingEvent) {
        match event {
            AutoScalingEvent::Tick => self.service_scaling_tick(),
            AutoScalingEvent::Scheduled { scaled, action } => self.scheduled_action(scaled as usize, action as usize),
        }
    }

    /// A scheduled action sets the scalable target's bounds; a desired count outside them moves
    /// into them at once, whatever the cooldowns.
    fn scheduled_action(&mut self, i: usize, action: usize) {
        let a = self.autoscaling.as_ref().expect("scheduled actions need auto scaling");
        let (service, workload) = (a.scaled[i].0, a.scaled[i].1);
        let x = self.scenario.auto_scaling[workload as usize].as_ref().expect("a scaled service").scheduled[action];
        let current = self.services.all()[service as usize].desired;
        let a = self.autoscaling.as_mut().expect("scheduled actions need auto scaling");
        if let Some(to) = a.scaled[i].2.apply_scheduled(x.min_capacity, x.max_capacity, current) {
            self.set_service_desired(service, to);
            self.record_service_scaled(to > current);
        }
    }

    fn record_service_scaled(&mut self, out: bool) {
        let a = self.autoscaling.as_ref().expect("auto scaling");
        let total: u32 = a.scaled.iter().map(|&(svc, _, _)| self.services.all()[svc as usize].desired).sum();
        self.recorder.service_scaled(out, total);
    }

    /// A task of `workload` entered RUNNING (`delta` 1) or left it (-1).
    pub(super) fn service_running_count(&mut self, workload: u32, delta: i32) {
        if let Some(a) = self.autoscaling.as_mut() {
            let r = &mut a.running[workload as usize];
            *r = r.checked_add_signed(delta).expect("running counts stay positive");
        }
    }

    fn service_scaling_tick(&mut self) {
        let s = self.scenario;
        let now = self.now();
        let a = self.autoscaling.as_ref().expect("ticking");
        let period = a.period;
        for i in 0..a.scaled.len() {
            let a = self.autoscaling.as_ref().expect("ticking");
            let (service, workload) = (a.scaled[i].0, a.scaled[i].1);
            let spec = s.auto_scaling[workload as usize].as_ref().expect("a scaled service");
            if !now.0.is_multiple_of(spec.period().0) {
                continue; // a 60 s service when another scales at 20 s
            }
            let tracks_memory = spec.metrics().any(|m| m == ScalingMetric::Memory);
            let memory_pct = if tracks_memory { self.service_memory_utilisation(workload) } else { None };
            let a = self.autoscaling.as_mut().expect("ticking");
            let td = &s.task_definitions[s.workloads[workload as usize].task_definition as usize];
            let vcpus = f64::from(td.reserved_cpu_units().max(1)) / 1024.0;
            let rps = spec.load.rate_at(now);
            let running = a.running[workload as usize];
            let value = |m| metric_value(m, rps, spec.cpu_seconds_per_request, running, vcpus, memory_pct);
            let values: Vec<Option<f64>> = spec.policies.iter().map(|p| value(p.metric)).collect();
            a.last_metric[i] = spec.metrics().next().and_then(value).unwrap_or(f64::NAN);
            let current = self.services.all()[service as usize].desired;
            let a = self.autoscaling.as_mut().expect("ticking");
            let alarms = &mut a.scaled[i].2;
            // Every policy decides on the same datapoint; the largest scale-out wins, else the
            // smallest scale-in.
            let mut proposals: Vec<u32> = decide(alarms, spec, &values, current, running, now).into_iter().collect();
            let bounds = (alarms.min, alarms.max);
            for (p, st) in spec.step_policies.iter().zip(alarms.steps.iter_mut()) {
                proposals.extend(step_decide(st, p, value(p.metric), current, bounds, now));
            }
            let out = proposals.iter().copied().filter(|&to| to > current).max();
            // Application Auto Scaling suspends scale-in while a deployment rolls out.
            let scale_in =
                if self.deployments.deploying(service) { None } else { proposals.iter().copied().filter(|&to| to < current).max() };
            if let Some(to) = out.or(scale_in) {
                self.set_service_desired(service, to);
                self.record_service_scaled(to > current);
            }
        }
        let next = now + period;
        if next <= s.horizon {
            self.queue.schedule(next, Event::AutoScaling(AutoScalingEvent::Tick));
        }
    }

    /// The memory the workload's tasks with running containers use, over what their task
    /// definitions reserve, % (a scan of the tasks in flight, once a metric period).
    fn service_memory_utilisation(&self, workload: u32) -> Option<f64> {
        let memory = self.memory.as_ref()?;
        let (mut used, mut reserved) = (0u64, 0u64);
        for t in self.tasks.live().filter(|t| t.workload == workload && t.state.has_containers()) {
            let Some(mib) = memory.task_usage_mib(t.id) else { continue };
            used += mib;
            reserved += u64::from(self.scenario.task_definitions[t.task_definition as usize].reserved_memory_mib());
        }
        memory_utilisation(used, reserved)
    }

    /// Moves a service's desired count to `to`. A service the scheduler manages through
    /// deployments (updates, a load balancer, health checks) gets there by its steps: new tasks
    /// within `maximumPercent`, extra ones stopped through the stopping sequence.
    fn set_service_desired(&mut self, service: u32, to: u32) {
        let workload = self.services.workload(service);
        let from = self.services.all()[service as usize].desired;
        self.services.set_desired(service, to);
        let now = self.now();
        self.recorder.service_desired_changed(service, to, now);
        if self.deployments.rollout(service).is_some() {
            self.deployments.scale(service, to);
            self.request_step(service);
            return;
        }
        if to > from {
            let td = self.scenario.workloads[workload as usize].task_definition;
            for _ in from..to {
                let task = self.new_task(workload, td, None);
                self.services.want(service, task);
            }
            if !self.services.check_pending(service) {
                self.service_launch(service);
            }
            return;
        }
        let now = self.now();
        let mut excess = from - to;
        // Tasks not placed yet go first: the newest waiting ones, then those waiting for capacity.
        while excess > 0 {
            let Some(&task) = self.services.waiting(service).back() else { break };
            self.services.unwant(service, task);
            self.recorder.task_unwanted();
            self.tasks.dropped(task, now, StopReason::ScaledIn);
            excess -= 1;
        }
        while excess > 0 {
            let Some(task) = self.take_capacity_waiter(workload) else { break };
            self.services.start_failed(service);
            self.tasks.dropped(task, now, StopReason::ScaledIn);
            excess -= 1;
        }
        if excess == 0 {
            return;
        }
        // Then placed tasks, keeping the AZs balanced.
        let mut placed: Vec<(TaskId, u32, HostId, AzId, TaskState)> = Vec::new();
        let subnets = self.addresses.subnets();
        // A task told to stop already (a Spot notice, a draining instance) was replaced then and
        // no longer counts for the service: it is not a candidate.
        for t in self.tasks.live().filter(|t| t.workload == workload && t.state.is_placed() && !t.interrupted) {
            let az = match (t.host, t.subnet) {
                (Some(h), _) => self.fleet.cluster().host(h).az,
                (None, Some(s)) => subnets[s.0 as usize].az,
                (None, None) => AzId(0),
            };
            placed.push((t.id, t.serial, t.host.unwrap_or(FARGATE), az, t.state));
        }
        let victims = scale_in_victims(&mut placed, excess as usize);
        for (task, host, state) in victims {
            let t = self.tasks.get(task);
            let (td, w) = (t.task_definition, t.workload);
            self.stop_task(task, host, td, w, StopReason::ScaledIn, state);
        }
    }

    /// Takes a waiting-for-capacity task of `workload` out of its queue (the newest), if any.
    fn take_capacity_waiter(&mut self, workload: u32) -> Option<TaskId> {
        let now = self.now();
        let c = self.capacity.as_mut()?;
        for asg in c.asgs.iter_mut() {
            if let Some(pos) = asg.waiting.iter().rposition(|w| w.workload == workload) {
                let w = asg.waiting.remove(pos).expect("found");
                self.recorder.capacity_wait_ended(now.saturating_sub(w.since), Some(false));
                return Some(w.task);
            }
        }
        None
    }
}

/// The tasks a scale-in stops, one at a time: from the AZ with the most of the service's
/// tasks, on the instance with the most of them, the newest first (ties: lowest AZ, lowest
/// host). Each entry: (task, serial, host, AZ, state). The counts per AZ and per host are kept
/// as tasks are picked, so each pick is one pass over the tasks left.
fn scale_in_victims(placed: &mut Vec<(TaskId, u32, HostId, AzId, TaskState)>, count: usize) -> Vec<(TaskId, HostId, TaskState)> {
    let mut in_az: std::collections::BTreeMap<AzId, usize> = std::collections::BTreeMap::new();
    let mut on_host: std::collections::BTreeMap<HostId, usize> = std::collections::BTreeMap::new();
    for t in placed.iter() {
        *in_az.entry(t.3).or_default() += 1;
        if t.2 != FARGATE {
            *on_host.entry(t.2).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    while out.len() < count && !placed.is_empty() {
        let pos = (0..placed.len())
            .max_by_key(|&i| {
                let t = placed[i];
                let host_count = on_host.get(&t.2).copied().unwrap_or(0);
                (in_az[&t.3], std::cmp::Reverse(t.3.0), host_count, std::cmp::Reverse(t.2.0), t.1)
            })
            .expect("not empty");
        let (task, _, host, az, state) = placed.swap_remove(pos);
        *in_az.get_mut(&az).expect("counted") -= 1;
        if let Some(n) = on_host.get_mut(&host) {
            *n -= 1;
        }
        out.push((task, host, state));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_in_keeps_the_azs_balanced_and_empties_the_fullest_instance_first() {
        let t = |id: u32, host: u32, az: u32| (TaskId(id), id, HostId(host), AzId(az), TaskState::Running);
        // AZ 0: 3 tasks (two on host 1); AZ 1: 1 task.
        let mut placed = vec![t(0, 0, 0), t(1, 1, 0), t(2, 1, 0), t(3, 5, 1)];
        let v = scale_in_victims(&mut placed, 2);
        let ids: Vec<u32> = v.iter().map(|x| x.0.0).collect();
        // First the newest on host 1 (AZ 0 has most, host 1 has most), then AZ 0 still has 2
        // against 1: host 0 and host 1 have one each, the lower host id goes.
        assert_eq!(ids, vec![2, 0]);
    }
}
