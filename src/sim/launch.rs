//! The way into RUNNING, as the coordinator sees it: a task is created, placed on a host (EC2)
//! or admitted by Fargate, gets its ENI address (awsvpc), provisions, and runs.
//!
//! Each step asks one part and tells the recorder; the order of the calls is the order ECS
//! does things in (docs/model.md#placement-order): placement never looks at addresses, so a full subnet fails
//! the task after it was placed.

use super::fargate::Fargate;
use super::lifecycle::{FARGATE, TaskEvent};
use super::result::DecisionRow;
use super::world::{Event, World};
use crate::engine::SimTime;
use crate::model::{HostId, StopReason, SubnetId, TaskId, TaskState};
use crate::scenario::capacity::{FARGATE_SPOT, fargate_provider};
use crate::workload::LaunchType;

/// How one launch attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Launch {
    /// Placed (EC2) or accepted (Fargate), and provisioning.
    Started,
    /// No host could take it (EC2).
    NotPlaced,
    /// Placed or accepted, then stopped before running (no address, Fargate quota).
    FailedToStart,
    /// Fargate's launch bucket was empty: nothing happened; try again when it refills.
    Throttled,
    /// No instance of its capacity provider could take it: it waits in PROVISIONING for the
    /// Auto Scaling group to grow (managed scaling).
    WaitingForCapacity,
}

impl World<'_> {
    /// Creates a task record. Run times are drawn here, in arrival order, from the workload's
    /// own stream: a different placement strategy sees the same run times.
    pub(super) fn new_task(&mut self, workload: u32, task_definition: u32, run_time: Option<SimTime>) -> TaskId {
        let run_time = self.workloads.run_time(self.scenario, workload, run_time);
        let id = self.tasks.create(workload, task_definition, self.now(), run_time);
        self.recorder.task_arrived();
        id
    }

    /// RunTask: launch now or drop.
    pub(super) fn run_task(&mut self, task: TaskId) {
        let reason = match self.attempt(task) {
            Launch::Started | Launch::FailedToStart | Launch::WaitingForCapacity => return,
            Launch::NotPlaced => StopReason::PlacementFailed,
            Launch::Throttled => StopReason::FargateThrottled,
        };
        self.recorder.task_dropped();
        self.tasks.dropped(task, self.now(), reason);
    }

    /// One launch: a placement decision on EC2, or a Fargate launch.
    pub(super) fn attempt(&mut self, task: TaskId) -> Launch {
        let t = self.tasks.get(task);
        let (workload, td) = (t.workload, t.task_definition);
        if self.scenario.workloads[workload as usize].launch_type == LaunchType::Fargate {
            let spot = self.capacity.as_ref().and_then(|c| c.choose(self.scenario, workload)) == Some(FARGATE_SPOT);
            return self.launch_fargate(task, workload, td, spot);
        }
        let provider = self.capacity.as_ref().and_then(|c| c.choose(self.scenario, workload));
        let mask = provider.map_or(u64::MAX, |p| self.provider_mask(p));
        let decision = self.fleet.decide(self.scenario, workload, td, mask, self.options.explain, &mut self.rng_placement);
        if let Some((explanation, agrees)) = decision.explained {
            let row = DecisionRow { time: self.now(), task: self.tasks.get(task).serial, workload, outcome: decision.outcome, explanation };
            self.recorder.decision_explained(row, agrees);
        }
        self.recorder.placement_decided(decision.outcome.map(|_| ()));
        match decision.outcome {
            Ok(host) => self.place(task, host, td, workload),
            Err(_) => match provider {
                Some(p) if self.wait_for_capacity(task, p) => Launch::WaitingForCapacity,
                _ => Launch::NotPlaced,
            },
        }
    }

    #[inline]
    pub(super) fn place(&mut self, task: TaskId, host: HostId, td: u32, workload: u32) -> Launch {
        let (az, was_idle) = self.fleet.reserve(host, td, workload);
        if let Some(c) = self.capacity.as_mut() {
            let provider = c.provider_of_host_group(self.fleet.cluster().host(host).group);
            c.placed_changed(self.scenario, workload, provider, 1);
        }
        if let Some(failures) = self.failures.as_mut() {
            failures.task_placed(host, task, self.tasks.get(task).serial);
        }
        let needs = self.fleet.needs(td);
        let (need, eni) = (needs.need, needs.eni);
        let now = self.now();
        self.recorder.task_placed(now, az, need, was_idle);
        self.tasks.provisioning(task, now, Some(host));
        if self.deployments.is_active() {
            self.member_placed(task);
        }
        if eni {
            // The task ENI goes into the task's subnet in the host's AZ. Placement never looked at
            // free addresses: a full subnet fails the task here, after it was placed.
            let w = &self.scenario.workloads[workload as usize];
            let subnet = w
                .subnets
                .iter()
                .copied()
                .find(|s| self.addresses.subnet(*s).az == az)
                .expect("LOCATION filter kept the host in a subnet's AZ");
            if !self.take_ip(task, subnet) {
                self.fail_start_later(task, host, td, workload);
                return Launch::FailedToStart;
            }
        }
        self.begin_provisioning(task, workload, eni, host);
        Launch::Started
    }

    /// A Fargate launch: the account's launch bucket, the vCPU quota, then an address in one of
    /// the workload's subnets, AZs with the fewest tasks of the group first (Fargate keeps a
    /// service balanced across its subnets' AZs).
    /// `spot`: on FARGATE_SPOT, whose capacity can be short in an AZ (no On-Demand fallback).
    fn launch_fargate(&mut self, task: TaskId, workload: u32, td: u32, spot: bool) -> Launch {
        let now = self.now();
        let scenario = self.scenario;
        let mut candidates: &[SubnetId] = &scenario.workloads[workload as usize].subnets;
        let usable: Vec<SubnetId>;
        let short = |az| scenario.capacity.fargate_spot.shortages.iter().any(|&(a, from, to)| a == az && from <= now && now < to);
        if spot && candidates.iter().any(|&s| short(self.addresses.subnet(s).az)) {
            usable = candidates.iter().copied().filter(|&s| !short(self.addresses.subnet(s).az)).collect();
            if usable.is_empty() {
                // "Capacity is unavailable at this time. Please try again later or in a different
                // availability zone."
                self.recorder.spot_capacity_unavailable();
                return Launch::NotPlaced;
            }
            candidates = &usable;
        } else if self.failures.is_some() {
            // Subnets of an AZ that is down take no new ENI; with none left ECS cannot launch.
            usable = candidates.iter().copied().filter(|&s| self.subnet_usable(s)).collect();
            if usable.is_empty() {
                return Launch::NotPlaced;
            }
            candidates = &usable;
        }
        if !self.fargate.try_launch(now) {
            self.recorder.fargate_throttled();
            return Launch::Throttled;
        }
        let cpu = self.fleet.needs(td).need.cpu_units;
        self.recorder.fargate_accepted();
        self.tasks.provisioning(task, now, None);
        if self.deployments.is_active() {
            self.member_placed(task);
        }
        if !self.fargate.within_quota(cpu) {
            self.recorder.fargate_quota_refused();
            self.stop_task(task, FARGATE, td, workload, StopReason::FargateVcpuQuota, TaskState::Provisioning);
            return Launch::FailedToStart;
        }
        let fleet = &self.fleet;
        let chosen = Fargate::choose_subnet(
            candidates,
            self.addresses.subnets(),
            |az| fleet.group_tasks_in_az(workload, az),
            &mut self.rng_placement,
        );
        let subnet = match chosen {
            Ok(subnet) => subnet,
            Err(first) => {
                // Accepted, then stopped in PROVISIONING: every subnet is out of addresses.
                self.tasks.eni_tried(task, first, false);
                self.fail_start_later(task, FARGATE, td, workload);
                return Launch::FailedToStart;
            }
        };
        assert!(self.take_ip(task, subnet), "the subnet had a free address");
        self.fleet.hostless_task_started(workload, self.addresses.subnet(subnet).az);
        if let Some(c) = self.capacity.as_mut() {
            c.placed_changed(scenario, workload, Some(fargate_provider(spot)), 1);
            if spot {
                self.tasks.set_spot(task);
            }
        }
        self.fargate.started(cpu);
        self.recorder.fargate_started(cpu);
        self.begin_provisioning(task, workload, true, super::lifecycle::FARGATE);
        Launch::Started
    }

    /// Gives the task's ENI an address of `subnet`; false if the subnet is full. Either way the
    /// task records the subnet it tried.
    fn take_ip(&mut self, task: TaskId, subnet: SubnetId) -> bool {
        let attached = self.addresses.take(subnet);
        self.tasks.eni_tried(task, subnet, attached);
        if attached {
            self.recorder.address_taken(subnet, self.addresses.subnet(subnet).free());
            if self.deployments.is_active() {
                self.member_address_taken(task);
            }
        }
        attached
    }

    /// The task ENI could not be created (no free address). ECS learns this during PROVISIONING
    /// and stops the task then: until the ENI attach delay has passed, the task keeps its host
    /// resources and ENI slot, so tasks launched at the same moment cannot reuse them.
    fn fail_start_later(&mut self, task: TaskId, host: HostId, td: u32, workload: u32) {
        let delay = self.addresses.attach_delay(self.scenario);
        if delay == SimTime::ZERO {
            self.stop_task(task, host, td, workload, StopReason::InsufficientFreeAddresses, TaskState::Provisioning);
        } else {
            // Validation caps workloads and task definitions at u16::MAX.
            let (task_definition, workload) = (td as u16, workload as u16);
            let at = self.now() + delay;
            self.schedule_for_task(at, Event::Task(TaskEvent::StartFailed { task, host, task_definition, workload }));
        }
    }

    /// Schedules RUNNING after the ENI attach (awsvpc) and the workload's start delay; with
    /// egress, the ENI attach is followed by the image pulls (PENDING) instead.
    fn begin_provisioning(&mut self, task: TaskId, workload: u32, eni: bool, host: HostId) {
        if self.egress.is_some() {
            let delay = if eni { self.addresses.attach_delay(self.scenario) } else { SimTime::ZERO };
            if delay == SimTime::ZERO {
                self.begin_pulls(task);
            } else {
                let at = self.now() + delay;
                self.schedule_for_task(at, Event::Egress(super::egress::EgressEvent::PullsBegin { task, host }));
            }
            return;
        }
        let mut delay = self.scenario.workloads[workload as usize].start_delay;
        if eni {
            delay = delay + self.addresses.attach_delay(self.scenario);
        }
        if delay == SimTime::ZERO {
            self.start_task(task);
        } else {
            let at = self.now() + delay;
            self.schedule_for_task(at, Event::Task(TaskEvent::Started { task }));
        }
    }

    /// Service auto scaling counts the task as running; Fargate Spot may interrupt it.
    #[cold]
    fn on_running_hooks(&mut self, task: TaskId, ends_at: Option<SimTime>) {
        if self.autoscaling.is_some() {
            self.service_running_count(self.tasks.get(task).workload, 1);
        }
        if self.spot_interrupts {
            self.schedule_spot_interruption(task, ends_at);
        }
    }

    pub(super) fn start_task(&mut self, task: TaskId) {
        let now = self.now();
        self.recorder.task_running();
        if self.tracks_recovery
            && let Some(service) = self.services.of_workload(self.tasks.get(task).workload)
        {
            self.recorder.service_running_changed(service, 1, now);
        }
        let mut ends_at = None;
        if let Some((at, finished)) = self.tasks.running(task, now) {
            let event = self.queue.schedule(at, Event::Task(finished));
            self.tasks.set_finish_event(task, event);
            ends_at = Some(at);
        }
        self.start_containers(task);
        if self.running_hooks {
            self.on_running_hooks(task, ends_at);
        }
        if let Some(egress) = self.egress.as_mut() {
            egress.task_running(now, task, self.tasks.get(task).task_definition, ends_at);
            self.apply_flow_changes();
        }
        if self.deployments.is_active() {
            self.member_running(task);
        }
    }
}
