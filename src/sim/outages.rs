//! Host failures and AZ outages, as the coordinator sees them: a failed host leaves placement at
//! once, its tasks stop through `stop_task` (`Host EC2 (instance i-…) terminated`) and their
//! services launch replacements elsewhere; its primary ENI's address goes back to its subnet; a
//! replacement registers after the group's delay with a new address and an empty image cache.
//! An AZ outage fails every host of the AZ (no replacement until it ends), stops the Fargate
//! tasks there and keeps new ENIs out of its subnets; when it ends, the hosts come back after
//! their replacement delay. Services are not rebalanced when the AZ returns
//! (docs/model.md#host-failures-and-az-outages).

use super::addresses::host_ips;
use super::failures::{Cause, FailureEvent};
use super::world::{Event, World};
use crate::engine::SimTime;
use crate::model::{AzId, HostId, StopReason};

impl World<'_> {
    /// Schedules every host's first failure and every outage window.
    pub(super) fn start_failures(&mut self) {
        if self.failures.is_none() {
            return;
        }
        let horizon = self.scenario.horizon;
        for h in 0..self.fleet.cluster().hosts.len() as u32 {
            // An Auto Scaling group's empty slots draw when an instance registers there.
            if self.fleet.cluster().host(HostId(h)).active {
                self.schedule_failure(HostId(h));
            }
        }
        let failures = self.failures.as_ref().expect("checked");
        for (i, o) in failures.outages().iter().enumerate() {
            let outage = i as u32;
            self.queue.schedule(o.start, Event::Failure(FailureEvent::OutageStarts { outage }));
            if o.end <= horizon {
                self.queue.schedule(o.end, Event::Failure(FailureEvent::OutageEnds { outage }));
            }
        }
    }

    pub(super) fn on_failure(&mut self, event: FailureEvent) {
        let now = self.now();
        match event {
            FailureEvent::HostFails { host } => {
                self.failures_mut().set_pending(host, None);
                self.recorder.host_failed();
                if let Some(provider) = self.asg_of(host) {
                    self.asg_instance_fails(provider, host, Cause::HostFailure);
                    return self.check_after_rare_event();
                }
                self.host_leaves(host, Cause::HostFailure);
                let at = now + self.failures_mut().replacement_delay(host);
                self.schedule_join(host, at);
            }
            FailureEvent::HostJoins { host } => {
                self.failures_mut().set_pending(host, None);
                self.host_joins(host);
            }
            FailureEvent::OutageStarts { outage } => {
                // Outages that begin in the same instant go down together: no replacement for a
                // task of one lands in another.
                let f = self.failures_mut();
                let start = f.outages()[outage as usize].start;
                let azs: Vec<AzId> = f.outages().iter().filter(|o| o.start == start && !f.az_down(o.az)).map(|o| o.az).collect();
                if !azs.is_empty() {
                    self.azs_go_down(&azs);
                }
            }
            FailureEvent::OutageEnds { outage } => {
                let az = self.failures_mut().outages()[outage as usize].az;
                self.az_comes_back(az);
            }
        }
    }

    pub(super) fn failures_mut(&mut self) -> &mut super::failures::Failures {
        self.failures.as_mut().expect("failure events need the failures part")
    }

    fn schedule_join(&mut self, host: HostId, at: SimTime) {
        if at > self.scenario.horizon {
            return;
        }
        let id = self.queue.schedule(at, Event::Failure(FailureEvent::HostJoins { host }));
        let old = self.failures_mut().set_pending(host, Some(id));
        debug_assert!(old.is_none(), "host {} had an event pending", host.0);
    }

    /// The host leaves placement, then its tasks stop (their services place replacements on the
    /// hosts left), then its instance's addresses go back to the subnet.
    fn host_leaves(&mut self, host: HostId, cause: Cause) {
        self.fleet.host_leaves(host);
        self.stop_host_tasks(host, cause);
    }

    /// Stops every task of a host that has left placement and gives back its addresses.
    fn stop_host_tasks(&mut self, host: HostId, cause: Cause) {
        self.stop_failed_host_tasks(host, cause);
        let h = self.fleet.cluster().host(host);
        if let Some(subnet) = h.subnet {
            let n = host_ips(self.scenario, self.fleet.cluster(), host);
            self.addresses.host_left(subnet, n);
        }
    }

    /// Stops every task of a host that has left placement (`Host EC2 (instance …) terminated`),
    /// counted as lost to `cause`.
    pub(super) fn stop_failed_host_tasks(&mut self, host: HostId, cause: Cause) {
        debug_assert!(!self.fleet.cluster().host(host).active);
        let tasks = self.failures_mut().tasks_on(host);
        for task in tasks {
            let t = self.tasks.get(task);
            let (td, workload, state) = (t.task_definition, t.workload, t.state);
            self.recorder.task_lost(cause);
            self.stop_task(task, host, td, workload, StopReason::HostTerminated, state);
        }
        let h = self.fleet.cluster().host(host);
        assert!(h.task_count == 0 && h.eni_tasks == 0, "host {} still holds tasks after failing", host.0);
    }

    /// The capacity provider whose Auto Scaling group `host` belongs to, if any.
    pub(super) fn asg_of(&self, host: HostId) -> Option<u32> {
        let group = self.fleet.cluster().host(host).group;
        self.capacity.as_ref().and_then(|c| c.provider_of_host_group(group))
    }

    /// A replacement instance registers in `host`'s place, unless its subnet has no address for
    /// it (then EC2 cannot launch it: another attempt after the replacement delay).
    fn host_joins(&mut self, host: HostId) {
        let now = self.now();
        let h = self.fleet.cluster().host(host);
        debug_assert!(self.failures.as_ref().is_some_and(|f| !f.az_down(h.az)), "a host joined a down AZ");
        if let Some(subnet) = h.subnet {
            let n = host_ips(self.scenario, self.fleet.cluster(), host);
            if !self.addresses.host_joins(subnet, n) {
                let at = now + self.failures_mut().replacement_delay(host);
                return self.schedule_join(host, at);
            }
        }
        self.fleet.host_joins(host);
        if let Some(egress) = self.egress.as_mut() {
            egress.host_replaced(host);
        }
        self.schedule_failure(host);
    }

    /// Every host of `azs` fails and stays down; their Fargate tasks stop; their subnets take no
    /// new ENI until the outages end.
    fn azs_go_down(&mut self, azs: &[AzId]) {
        for &az in azs {
            self.failures_mut().set_az_down(az, true);
            self.nat_gateway_down(az);
        }
        let hosts: Vec<HostId> = self.fleet.cluster().hosts.iter().filter(|h| azs.contains(&h.az)).map(|h| h.id).collect();
        let mut failing = Vec::new();
        let mut draining = Vec::new();
        for host in hosts {
            // A pending failure of a live host, or a pending join of a failed one: the AZ's
            // return decides when it comes back now.
            if let Some(old) = self.failures_mut().set_pending(host, None) {
                self.queue.cancel(old);
            }
            if self.fleet.cluster().host(host).active {
                failing.push(host);
            } else if self.capacity.as_ref().is_some_and(|c| c.is_draining(host)) {
                draining.push(host);
            }
        }
        // Every host leaves placement before any task stops: replacements never land in the AZ.
        for &host in &failing {
            self.fleet.host_leaves(host);
        }
        // Auto Scaling groups: launches in the AZ fail, and the groups launch elsewhere.
        self.asg_azs_down(azs);
        for host in failing {
            match self.asg_of(host) {
                Some(provider) => self.asg_instance_fails(provider, host, Cause::AzOutage),
                None => self.stop_host_tasks(host, Cause::AzOutage),
            }
        }
        // A draining instance there loses its tasks too; it terminates once empty.
        for host in draining {
            self.stop_failed_host_tasks(host, Cause::AzOutage);
        }
        let subnets = self.addresses.subnets();
        let fargate: Vec<_> = self
            .tasks
            .live()
            .filter(|t| t.host.is_none() && t.state.is_placed() && t.subnet.is_some_and(|s| azs.contains(&subnets[s.0 as usize].az)))
            .map(|t| (t.id, t.task_definition, t.workload, t.state))
            .collect();
        for (task, td, workload, state) in fargate {
            self.recorder.task_lost(Cause::AzOutage);
            self.stop_task(task, super::lifecycle::FARGATE, td, workload, StopReason::AzUnavailable, state);
        }
        self.check_after_rare_event();
    }

    /// The AZ is back: each of its hosts registers again after its replacement delay. Tasks are
    /// not moved back (ECS rebalances only when the service asks for it).
    fn az_comes_back(&mut self, az: AzId) {
        let now = self.now();
        self.failures_mut().set_az_down(az, false);
        self.nat_gateway_up(az);
        let hosts: Vec<HostId> = self.fleet.cluster().hosts.iter().filter(|h| h.az == az && !h.active).map(|h| h.id).collect();
        for host in hosts {
            if self.asg_of(host).is_none() {
                let at = now + self.failures_mut().replacement_delay(host);
                self.schedule_join(host, at);
            }
        }
        self.asg_az_back(az);
        self.check_after_rare_event();
    }

    /// Egress is told here that the NAT gateway of `az` (if it has one) passes no traffic.
    fn nat_gateway_down(&mut self, az: AzId) {
        self.set_nat_up(az, false);
    }

    /// Egress is told here that the NAT gateway of `az` passes traffic again.
    fn nat_gateway_up(&mut self, az: AzId) {
        self.set_nat_up(az, true);
    }

    fn set_nat_up(&mut self, az: AzId, up: bool) {
        let now = self.now();
        if let Some(egress) = self.egress.as_mut() {
            egress.set_nat_up(now, az, up);
            self.apply_flow_changes();
        }
    }

    /// Whether the subnet's AZ is up (always, without `[failures]`).
    pub(super) fn subnet_usable(&self, subnet: crate::model::SubnetId) -> bool {
        self.failures.as_ref().is_none_or(|f| !f.az_down(self.addresses.subnet(subnet).az))
    }
}
