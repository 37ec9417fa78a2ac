//! Cluster auto scaling, as the coordinator sees it: a task of a capacity provider that fits no
//! instance waits in PROVISIONING (with managed scaling) until an instance registers or frees
//! room, or until its provisioning timeout; every minute each group's
//! CapacityProviderReservation is computed and the group grows (launch, then registration after
//! the launch time) or shrinks (termination: of empty instances only with managed termination
//! protection, else by the group's own choice, tasks and all)
//! (docs/model.md#capacity-providers-and-cluster-auto-scaling).

use super::addresses::host_ips;
use super::capacity::{CapacityEvent, METRIC_PERIOD, Need, Scaling, Waiting, instances_needed};
use super::launch::Launch;
use super::world::{Event, World};
use crate::model::{HostId, StopReason, TaskId, TaskState};

impl World<'_> {
    /// The first minute's evaluation, if any provider scales.
    pub(super) fn start_capacity(&mut self) {
        if self.capacity.is_some() && super::capacity::Capacity::any_managed(self.scenario) {
            self.queue.schedule(crate::engine::SimTime::ZERO, Event::Capacity(CapacityEvent::Tick));
        }
        self.schedule_initial_spot_notices();
    }

    pub(super) fn on_capacity(&mut self, event: CapacityEvent) {
        match event {
            CapacityEvent::Tick => self.capacity_tick(),
            CapacityEvent::Registered { host } => self.instance_registered(host),
            CapacityEvent::Timeout { task } => self.capacity_timeout(task),
            CapacityEvent::Drained { host } => {
                let provider = self.provider_of(host);
                if self.fleet.cluster().host(host).task_count == 0 && self.capacity_mut().asgs[provider as usize].is_draining(host) {
                    self.finish_termination(provider, host);
                }
            }
            CapacityEvent::Retry { provider } => {
                self.capacity_mut().asgs[provider as usize].retried();
                self.retry_waiting(provider);
            }
            CapacityEvent::SpotNotice { host } => self.ec2_spot_notice(host),
            CapacityEvent::SpotReclaim { host } => self.ec2_spot_reclaim(host),
            CapacityEvent::Replace { host } => self.replace_failed_instance(host),
        }
    }

    /// The provider of an Auto Scaling group's host.
    pub(super) fn provider_of(&self, host: HostId) -> u32 {
        self.asg_of(host).expect("an Auto Scaling group's host")
    }

    /// An EC2 Spot instance entered service: when its interruption notice comes.
    fn schedule_ec2_spot_notice(&mut self, provider: u32, host: HostId) {
        let Some(spot) = self.scenario.capacity.providers[provider as usize].spot else { return };
        if spot.interruptions_per_instance_hour <= 0.0 {
            return;
        }
        let at = self.now() + self.capacity_mut().draw_instance_interruption(spot.interruptions_per_instance_hour);
        if at <= self.scenario.horizon {
            let id = self.queue.schedule(at, Event::Capacity(CapacityEvent::SpotNotice { host }));
            let asg = &mut self.capacity_mut().asgs[provider as usize];
            let slot = asg.slot_of(host);
            asg.notices[slot] = Some(id);
        }
    }

    /// The instances in service at the start get their notices drawn too.
    pub(super) fn schedule_initial_spot_notices(&mut self) {
        let Some(c) = &self.capacity else { return };
        let hosts: Vec<(u32, HostId)> = c
            .asgs
            .iter()
            .enumerate()
            .filter(|(i, _)| self.scenario.capacity.providers[*i].spot.is_some())
            .flat_map(|(i, a)| a.in_service_hosts().map(move |(h, _)| (i as u32, h)))
            .collect();
        for (provider, host) in hosts {
            self.schedule_ec2_spot_notice(provider, host);
        }
    }

    /// The two-minute notice: with `instance_draining` the agent drains the instance (its
    /// service tasks are replaced elsewhere at once); either way EC2 reclaims it two minutes on.
    fn ec2_spot_notice(&mut self, host: HostId) {
        let provider = self.provider_of(host);
        let asg = &mut self.capacity_mut().asgs[provider as usize];
        let slot = asg.slot_of(host);
        asg.notices[slot] = None;
        asg.reclaiming[slot] = true;
        let draining = asg.is_draining(host);
        self.recorder.ec2_spot_interrupted();
        let spot = self.scenario.capacity.providers[provider as usize].spot.expect("a Spot group");
        if spot.instance_draining && !draining {
            self.fleet.host_leaves(host);
            self.drain_instance(provider, host);
        }
        let at = self.now() + SPOT_NOTICE;
        self.queue.schedule(at, Event::Capacity(CapacityEvent::SpotReclaim { host }));
    }

    /// EC2 reclaims the instance: the tasks still on it stop with it, and the group launches a
    /// replacement to keep its size.
    fn ec2_spot_reclaim(&mut self, host: HostId) {
        let provider = self.provider_of(host);
        let asg = &self.capacity_mut().asgs[provider as usize];
        // It may have drained and terminated already (its slot may even hold a new instance).
        if asg.reclaiming[asg.slot_of(host)] {
            if !asg.is_draining(host) && !asg.is_failed(host) {
                self.fleet.host_leaves(host);
            }
            self.stop_all_on(host);
            self.finish_termination(provider, host);
        }
        let size = self.capacity_mut().asgs[provider as usize].size();
        if size < self.scenario.capacity.providers[provider as usize].max_size {
            self.launch_instances(provider, 1);
        }
    }

    /// Stops every task placed on `host` (`Host EC2 (instance …) terminated`).
    fn stop_all_on(&mut self, host: HostId) {
        if self.fleet.cluster().host(host).task_count == 0 {
            return;
        }
        let tasks: Vec<(TaskId, u32, u32, TaskState)> = self
            .tasks
            .live()
            .filter(|t| t.host == Some(host) && t.state.is_placed())
            .map(|t| (t.id, t.task_definition, t.workload, t.state))
            .collect();
        for (task, td, workload, state) in tasks {
            self.stop_task(task, host, td, workload, StopReason::HostTerminated, state);
        }
    }

    pub(super) fn capacity_mut(&mut self) -> &mut super::capacity::Capacity {
        self.capacity.as_mut().expect("capacity events need the capacity part")
    }

    /// The host groups a task of `provider` may be placed on.
    pub(super) fn provider_mask(&self, provider: u32) -> u64 {
        self.scenario.capacity.providers[provider as usize].host_groups.iter().fold(0u64, |m, &g| m | (1u64 << g))
    }

    /// A task of `provider` found no instance. With managed scaling and room in the cluster's
    /// PROVISIONING limit it waits (true); otherwise it fails as without capacity providers.
    pub(super) fn wait_for_capacity(&mut self, task: TaskId, provider: u32) -> bool {
        let s = self.scenario;
        if !s.capacity.providers[provider as usize].managed_scaling {
            return false;
        }
        let now = self.now();
        let t = self.tasks.get(task);
        let waiting = Waiting { task, workload: t.workload, task_definition: t.task_definition, since: now };
        let c = self.capacity.as_mut().expect("a provider implies the capacity part");
        if c.waiting_total() >= s.capacity.max_provisioning_tasks {
            self.recorder.capacity_wait_refused();
            return false;
        }
        c.asgs[provider as usize].waiting.push_back(waiting);
        let at = now + c.draw_timeout(s.capacity.provisioning_timeout);
        if at <= s.horizon {
            self.schedule_for_task(at, Event::Capacity(CapacityEvent::Timeout { task }));
        }
        true
    }

    /// A host of a provider's group freed room: its waiting tasks get another try in this
    /// instant, once.
    pub(super) fn capacity_freed(&mut self, host: HostId) {
        let group = self.fleet.cluster().host(host).group;
        let empty = self.fleet.cluster().host(host).task_count == 0;
        let now = self.now();
        let c = self.capacity.as_mut().expect("checked by the caller");
        let Some(provider) = c.provider_of_host_group(group) else { return };
        let asg = &mut c.asgs[provider as usize];
        if asg.is_draining(host) {
            if empty {
                self.queue.schedule(now, Event::Capacity(CapacityEvent::Drained { host }));
            }
            return;
        }
        if !asg.waiting.is_empty() && asg.want_retry() {
            self.queue.schedule(now, Event::Capacity(CapacityEvent::Retry { provider }));
        }
    }

    /// Tries every waiting task of `provider` once, oldest first; after one of a workload finds
    /// no instance, the workload's later tasks are not tried (they need the same).
    fn retry_waiting(&mut self, provider: u32) {
        let n = self.capacity_mut().asgs[provider as usize].waiting.len();
        let mut blocked: Vec<u32> = Vec::new();
        let mask = self.provider_mask(provider);
        for _ in 0..n {
            let w = self.capacity_mut().asgs[provider as usize].waiting.pop_front().expect("n entries");
            if blocked.contains(&w.workload) {
                self.capacity_mut().asgs[provider as usize].waiting.push_back(w);
                continue;
            }
            let decision = self.fleet.decide(self.scenario, w.workload, w.task_definition, mask, false, &mut self.rng_placement);
            let Ok(host) = decision.outcome else {
                blocked.push(w.workload);
                self.capacity_mut().asgs[provider as usize].waiting.push_back(w);
                continue;
            };
            let now = self.now();
            self.recorder.capacity_wait_ended(now.saturating_sub(w.since), None);
            let launch = self.place(w.task, host, w.task_definition, w.workload);
            let Some(service) = self.services.of_workload(w.workload) else { continue };
            match launch {
                Launch::Started => {
                    let arrived = self.tasks.get(w.task).arrived_at;
                    self.recorder.service_task_launched(now.saturating_sub(arrived));
                }
                _ => self.service_start_failed(service, w.task),
            }
        }
    }

    /// A waiting task's provisioning timeout: if it still waits, ECS stops it.
    fn capacity_timeout(&mut self, task: TaskId) {
        if self.tasks.get(task).state != TaskState::AwaitingPlacement {
            return; // placed meanwhile
        }
        let Some(w) = self.capacity_mut().take_waiting(task) else { return };
        let now = self.now();
        let service = self.services.of_workload(w.workload);
        self.recorder.capacity_wait_ended(now.saturating_sub(w.since), Some(service.is_none()));
        self.tasks.dropped(task, now, StopReason::CapacityTimeout);
        if let Some(service) = service {
            self.service_start_failed(service, task);
        }
    }

    /// The minute's metric and alarms for every group with managed scaling.
    fn capacity_tick(&mut self) {
        let s = self.scenario;
        let now = self.now();
        for i in 0..s.capacity.providers.len() as u32 {
            self.launch_owed(i);
            let pending = self.capacity_mut().asgs[i as usize].rebalance;
            self.rebalance_terminations(i, pending);
        }
        for (i, p) in s.capacity.providers.iter().enumerate().filter(|(_, p)| p.managed_scaling) {
            let cluster = self.fleet.cluster();
            let asg = &self.capacity.as_ref().expect("ticking").asgs[i];
            // ECS bin-packs the waiting tasks on the group's largest instance type, and leaves
            // out those that do not fit its smallest.
            let types: Vec<(crate::model::Resources, u32)> = asg
                .type_hosts()
                .map(|h| (s.registered(&s.instance_types[cluster.host(h).instance_type as usize]), cluster.host(h).eni_task_limit))
                .collect();
            let size = |r: &(crate::model::Resources, u32)| (r.0.cpu_units, r.0.memory_mib);
            let largest = *types.iter().max_by_key(|r| size(r)).expect("a group has an instance type");
            let smallest = *types.iter().min_by_key(|r| size(r)).expect("a group has an instance type");
            let busy = asg.in_service_hosts().filter(|(h, _)| cluster.host(*h).task_count > 0).count() as u32;
            let fleet = &self.fleet;
            let needs = asg.waiting.iter().map(|w| {
                let n = fleet.needs(w.task_definition);
                Need { resources: n.need, eni: n.eni, ports: &n.ports }
            });
            let fits_smallest = |n: &Need<'_>| n.resources.fits_in(smallest.0) && (!n.eni || smallest.1 > 0);
            let needed = instances_needed(needs.filter(fits_smallest), largest.0, largest.1);
            match self.capacity_mut().evaluate(i, p, needed, busy, now) {
                Scaling::None => {}
                Scaling::Out(to) => {
                    self.recorder.scaled(true);
                    let asg = &mut self.capacity_mut().asgs[i];
                    // A larger desired capacity takes in what an AZ rebalance launched.
                    asg.rebalance = 0;
                    let size = asg.size();
                    self.launch_instances(i as u32, to - size);
                }
                Scaling::In(to) => {
                    let c = self.capacity.as_ref().expect("ticking");
                    let asg = &c.asgs[i];
                    // The desired capacity leaves out the instances an AZ rebalance launched
                    // beyond it: the rebalance terminates as many itself.
                    let desired = asg.size().saturating_sub(asg.rebalance);
                    if to >= desired {
                        continue;
                    }
                    let victims = asg.victims(self.fleet.cluster(), desired - to, p.managed_termination_protection);
                    if !victims.is_empty() {
                        self.recorder.scaled(false);
                    }
                    for host in victims {
                        self.terminate_instance(i as u32, host);
                    }
                }
            }
        }
        let next = now + METRIC_PERIOD;
        if next <= s.horizon {
            self.queue.schedule(next, Event::Capacity(CapacityEvent::Tick));
        }
    }

    /// Launches up to `count` instances, each in the AZ with the fewest; an AZ whose subnet has
    /// no address for one takes no more this minute, and an AZ that is down takes none. Returns
    /// how many it launched.
    pub(super) fn launch_instances(&mut self, provider: u32, count: u32) -> u32 {
        let s = self.scenario;
        let p = &s.capacity.providers[provider as usize];
        let now = self.now();
        let mut skip = 0u32;
        // Balanced best effort: the group launches elsewhere while an AZ is down.
        if let Some(f) = self.failures.as_ref().filter(|_| !p.az_balanced_only) {
            for az in 0..s.azs.len().min(32) as u32 {
                if f.az_down(crate::model::AzId(az)) {
                    skip |= 1 << az;
                }
            }
        }
        let mut launched = 0;
        while launched < count {
            let Some(host) = self.capacity_mut().asgs[provider as usize].free_slot(skip) else { break };
            let h = self.fleet.cluster().host(host);
            // Balanced only: the launch in a down AZ fails, and the group tries again later.
            if self.failures.as_ref().is_some_and(|f| f.az_down(h.az)) {
                self.recorder.instance_launch_failed();
                break;
            }
            if let Some(subnet) = h.subnet {
                let n = host_ips(s, self.fleet.cluster(), host);
                if !self.addresses.host_joins(subnet, n) {
                    self.recorder.instance_launch_failed();
                    skip |= if h.az.0 < 32 { 1 << h.az.0 } else { 0 };
                    continue;
                }
            }
            let c = self.capacity_mut();
            c.asgs[provider as usize].launched(host, now, p.instance_warmup_period);
            let at = now + c.draw_launch_time(p);
            self.recorder.instance_launched();
            if at <= s.horizon {
                let id = self.queue.schedule(at, Event::Capacity(CapacityEvent::Registered { host }));
                let asg = &mut self.capacity_mut().asgs[provider as usize];
                let slot = asg.slot_of(host);
                asg.registrations[slot] = Some(id);
            }
            launched += 1;
        }
        let total = self.capacity_mut().asgs.iter().map(|a| a.size()).sum();
        self.recorder.group_sizes(total);
        launched
    }

    /// A launched instance registered: placement sees it, and the waiting tasks try it.
    fn instance_registered(&mut self, host: HostId) {
        let now = self.now();
        let provider = self.provider_of(host);
        let asg = &mut self.capacity_mut().asgs[provider as usize];
        let slot = asg.slot_of(host);
        asg.registrations[slot] = None;
        asg.registered(host);
        self.fleet.host_joins(host);
        let h = self.fleet.cluster().host(host);
        self.recorder.instance_changed(now, h.az, h.registered, true);
        if let Some(egress) = self.egress.as_mut() {
            egress.host_replaced(host);
        }
        self.schedule_ec2_spot_notice(provider, host);
        self.schedule_failure(host);
        self.rebalance_terminations(provider, 1);
        self.retry_waiting(provider);
        self.check_after_rare_event();
    }

    /// Terminates an instance in service: it leaves placement; with managed draining it drains
    /// first, without it its tasks stop at once (`Host EC2 (instance …) terminated`) and their
    /// services replace them elsewhere; then its addresses go back to the subnet.
    pub(super) fn terminate_instance(&mut self, provider: u32, host: HostId) {
        self.fleet.host_leaves(host);
        if self.scenario.capacity.providers[provider as usize].managed_draining && self.fleet.cluster().host(host).task_count > 0 {
            return self.drain_instance(provider, host);
        }
        self.stop_all_on(host);
        self.finish_termination(provider, host);
    }

    /// Managed draining: the instance has left placement; its service tasks get SIGTERM and
    /// their services start replacements at once (the old task stops at its stop timeout) —
    /// a service with deployments replaces them within its minimumHealthyPercent and
    /// maximumPercent instead, as it replaces an old deployment's tasks; its other tasks run to
    /// their end. It terminates when the last one is gone.
    fn drain_instance(&mut self, provider: u32, host: HostId) {
        self.capacity_mut().asgs[provider as usize].draining(host);
        let tasks: Vec<(TaskId, u32, u32)> = self
            .tasks
            .live()
            .filter(|t| t.host == Some(host) && t.state.is_placed() && self.services.of_workload(t.workload).is_some())
            .map(|t| (t.id, t.workload, t.task_definition))
            .collect();
        for (task, workload, td) in tasks {
            let service = self.services.of_workload(workload).expect("service tasks only");
            if self.deployments.rollout(service).is_some() {
                // Replaced within the service's minimumHealthyPercent and maximumPercent, as
                // its old deployment's tasks would be.
                if self.deployments.drain(task) {
                    self.request_step(service);
                }
                continue;
            }
            if self.replace_before_stop(task, workload) {
                let at = self.now() + self.sigterm_exit_delay(td, workload);
                self.schedule_for_task(at, Event::Task(super::lifecycle::TaskEvent::ExitsAfterNotice { task }));
            }
        }
        self.check_after_rare_event();
    }

    /// The instance is out of placement and empty: its addresses go back, the group counts it
    /// gone.
    pub(super) fn finish_termination(&mut self, provider: u32, host: HostId) {
        let now = self.now();
        let h = self.fleet.cluster().host(host);
        assert!(h.task_count == 0 && h.eni_tasks == 0, "instance {} still holds tasks after terminating", host.0);
        let (az, registered, subnet) = (h.az, h.registered, h.subnet);
        if let Some(subnet) = subnet {
            let n = host_ips(self.scenario, self.fleet.cluster(), host);
            self.addresses.host_left(subnet, n);
        }
        let asg = &mut self.capacity_mut().asgs[provider as usize];
        let slot = asg.slot_of(host);
        asg.reclaiming[slot] = false;
        if let Some(notice) = asg.notices[slot].take() {
            self.queue.cancel(notice);
        }
        if let Some(failure) = self.failures.as_mut().and_then(|f| f.set_pending(host, None)) {
            self.queue.cancel(failure);
        }
        self.capacity_mut().asgs[provider as usize].terminated(host, now);
        self.recorder.instance_changed(now, az, registered, false);
        self.check_after_rare_event();
    }

    /// A time-series row's capacity columns: each group's instances and metric, the tasks
    /// waiting for capacity, each scaled service's desired count and first policy's metric.
    pub(super) fn capacity_sample(&self) -> Vec<f64> {
        let mut row = Vec::new();
        if let Some(c) = &self.capacity {
            row.extend(c.asgs.iter().flat_map(|a| [f64::from(a.size()), a.last_metric]));
            row.push(f64::from(c.waiting_total()));
        }
        if let Some(a) = &self.autoscaling {
            for (i, &(service, _, _)) in a.scaled.iter().enumerate() {
                row.push(f64::from(self.services.all()[service as usize].desired));
                row.push(a.last_metric[i]);
            }
        }
        row
    }
}

/// Fargate Spot interruptions: at the notice the task gets SIGTERM and its service starts a
/// replacement at once; the task stops when its containers exit, at most min(stopTimeout, 120 s)
/// later (docs/model.md#fargate-spot).
impl World<'_> {
    /// Draws when a Spot task that just started is interrupted; schedules the notice if it comes
    /// before the task's own end (`ends_at`) and the horizon.
    pub(super) fn schedule_spot_interruption(&mut self, task: TaskId, ends_at: Option<crate::engine::SimTime>) {
        if !self.tasks.get(task).spot {
            return;
        }
        let rate = self.scenario.capacity.fargate_spot.interruptions_per_task_hour;
        let now = self.now();
        let at = now + self.capacity_mut().draw_interruption(rate);
        if at <= self.scenario.horizon && ends_at.is_none_or(|end| at < end) {
            self.schedule_for_task(at, Event::Task(super::lifecycle::TaskEvent::SpotWarning { task }));
        }
    }

    pub(super) fn spot_warning(&mut self, task: TaskId) {
        let (td, workload) = (self.tasks.get(task).task_definition, self.tasks.get(task).workload);
        if let Some(service) = self.services.of_workload(workload)
            && self.deployments.rollout(service).is_some()
        {
            if self.interrupt_member(service, task) {
                self.recorder.spot_interrupted();
            }
            return;
        }
        if !self.replace_before_stop(task, workload) {
            return;
        }
        self.recorder.spot_interrupted();
        let after = self.sigterm_exit_delay(td, workload).min(SPOT_NOTICE);
        let at = self.now() + after;
        self.schedule_for_task(at, Event::Task(super::lifecycle::TaskEvent::ExitsAfterNotice { task }));
    }

    /// A RUNNING task is told to stop (a Spot notice, an instance drain) and its service, if it
    /// has one, starts its replacement now; the task stops later, when its containers exit.
    /// Returns false if the task was not RUNNING or was replaced already.
    fn replace_before_stop(&mut self, task: TaskId, workload: u32) -> bool {
        if !self.tasks.replace_early(task) {
            return false;
        }
        self.replaced_early += 1;
        if let Some(service) = self.services.of_workload(workload) {
            self.services.task_stopped(service);
            self.queue_replacement(service);
            if !self.services.check_pending(service) {
                self.service_launch(service);
            }
        }
        true
    }

    /// A task told to stop (Spot notice, instance drain) stops once its containers have exited.
    pub(super) fn exits_after_notice(&mut self, task: TaskId) {
        let t = self.tasks.get(task);
        if t.state != TaskState::Running {
            return; // it ended by itself first
        }
        let reason = if t.spot { StopReason::SpotInterrupted } else { StopReason::InstanceDraining };
        let (td, workload, host) = (t.task_definition, t.workload, t.host.unwrap_or(super::lifecycle::FARGATE));
        self.stop_task(task, host, td, workload, reason, TaskState::Running);
    }
}

/// Fargate Spot's notice: the task is stopped two minutes after it at the latest.
const SPOT_NOTICE: crate::engine::SimTime = crate::engine::SimTime::from_secs(120);
