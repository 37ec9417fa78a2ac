//! Auto Scaling groups under host failures and AZ outages, as the coordinator sees them: an
//! instance of a capacity provider's group that fails leaves placement at once and its tasks
//! stop; the group's health check finds it `asg_health_check_delay` later, terminates it (its
//! addresses go back) and launches a replacement in the AZ with the fewest instances, which
//! registers after the provider's launch time. While an AZ is down the group launches nowhere
//! there (launches under way there fail), so its replacements go to the other AZs; when the AZ
//! returns the group evens out its AZs (AZRebalance): it launches in the returned AZ first and
//! terminates as many instances in its fullest AZs as they register — with managed termination
//! protection only instances without tasks (docs/model.md#capacity-providers-under-failures).
//!
//! Owns nothing: the state is the groups' (`capacity.rs`: failed slots, pending registrations,
//! replacements owed, rebalancing still to do) and the failures part's (pending failures).

use super::addresses::host_ips;
use super::capacity::{CapacityEvent, rebalance_allowance};
use super::failures::{Cause, FailureEvent};
use super::world::{Event, World};
use crate::model::{AzId, HostId};

impl World<'_> {
    /// A host that joins the cluster now (at the start, a replacement, an Auto Scaling group's
    /// new instance) draws when it fails (with `[failures]` and a failure process for its group).
    pub(super) fn schedule_failure(&mut self, host: HostId) {
        let now = self.now();
        let horizon = self.scenario.horizon;
        let Some(f) = self.failures.as_mut() else { return };
        if let Some(at) = f.draw_failure_at(host, now).filter(|&at| at <= horizon) {
            let id = self.queue.schedule(at, Event::Failure(FailureEvent::HostFails { host }));
            let old = f.set_pending(host, Some(id));
            debug_assert!(old.is_none(), "instance {} had a failure pending", host.0);
        }
    }

    /// An instance of `provider`'s group failed (its group's process, or its AZ went down): it
    /// leaves placement and its tasks stop; the group's health check replaces it later. A
    /// draining instance only loses its tasks: it was being terminated, and terminates once
    /// empty. The caller checks the invariants once every failing host has lost its tasks.
    pub(super) fn asg_instance_fails(&mut self, provider: u32, host: HostId, cause: Cause) {
        let asg = &mut self.capacity_mut().asgs[provider as usize];
        let slot = asg.slot_of(host);
        if let Some(notice) = asg.notices[slot].take() {
            self.queue.cancel(notice);
        }
        let asg = &mut self.capacity_mut().asgs[provider as usize];
        if asg.is_draining(host) {
            return self.stop_failed_host_tasks(host, cause);
        }
        asg.failed(host);
        if self.fleet.cluster().host(host).active {
            self.fleet.host_leaves(host);
        }
        self.stop_failed_host_tasks(host, cause);
        let delay = self.scenario.failures.as_ref().expect("failures imply [failures]").asg_health_check_delay;
        let at = self.now() + delay;
        if at <= self.scenario.horizon {
            self.queue.schedule(at, Event::Capacity(CapacityEvent::Replace { host }));
        }
    }

    /// The health check found the failed instance: the group terminates it and launches a
    /// replacement (unless EC2 is reclaiming it as a Spot instance: the reclaim launches one).
    pub(super) fn replace_failed_instance(&mut self, host: HostId) {
        let provider = self.provider_of(host);
        let asg = &self.capacity_mut().asgs[provider as usize];
        if !asg.is_failed(host) {
            return; // terminated meanwhile
        }
        let reclaiming = asg.reclaiming[asg.slot_of(host)];
        self.finish_termination(provider, host);
        if !reclaiming {
            self.capacity_mut().asgs[provider as usize].owed += 1;
            self.launch_owed(provider);
        }
    }

    /// Launches the replacements the group owes, as far as its maximum size and the AZs that are
    /// up allow; what it cannot launch now it tries again at the next minute and when an AZ
    /// returns.
    pub(super) fn launch_owed(&mut self, provider: u32) {
        let max = self.scenario.capacity.providers[provider as usize].max_size;
        let asg = &self.capacity_mut().asgs[provider as usize];
        let n = asg.owed.min(max.saturating_sub(asg.size()));
        if n == 0 {
            self.capacity_mut().asgs[provider as usize].owed = 0;
            return;
        }
        let launched = self.launch_instances(provider, n);
        self.capacity_mut().asgs[provider as usize].owed = n - launched;
    }

    /// The AZs go down: every group's launches there fail (the instance never registers; its
    /// addresses go back) and the group launches them elsewhere.
    pub(super) fn asg_azs_down(&mut self, azs: &[AzId]) {
        let Some(groups) = self.capacity.as_ref().map(|c| c.asgs.len() as u32) else { return };
        let now = self.now();
        for provider in 0..groups {
            let launching: Vec<HostId> = azs.iter().flat_map(|&az| self.capacity_mut().asgs[provider as usize].launching_in(az)).collect();
            for &host in &launching {
                let asg = &mut self.capacity_mut().asgs[provider as usize];
                let slot = asg.slot_of(host);
                if let Some(registration) = asg.registrations[slot].take() {
                    self.queue.cancel(registration);
                }
                self.capacity_mut().asgs[provider as usize].launch_failed(host, now);
                if let Some(subnet) = self.fleet.cluster().host(host).subnet {
                    let n = host_ips(self.scenario, self.fleet.cluster(), host);
                    self.addresses.host_left(subnet, n);
                }
            }
            self.capacity_mut().asgs[provider as usize].owed += launching.len() as u32;
            self.launch_owed(provider);
        }
    }

    /// The AZ is back: each group that spans it launches what it owes, then rebalances: it
    /// launches in the AZ until the AZ holds its share of the group (at most 10 % above the
    /// group's maximum size in all), and terminates as many elsewhere as they register.
    pub(super) fn asg_az_back(&mut self, az: AzId) {
        let Some(groups) = self.capacity.as_ref().map(|c| c.asgs.len() as u32) else { return };
        for provider in 0..groups {
            if !self.capacity_mut().asgs[provider as usize].spans(az) {
                continue;
            }
            self.launch_owed(provider);
            let failures = self.failures.as_ref().expect("an AZ outage implies [failures]");
            let asg = &self.capacity.as_ref().expect("checked").asgs[provider as usize];
            let up: Vec<AzId> = asg.azs().into_iter().filter(|&a| !failures.az_down(a)).collect();
            let size = asg.size();
            let here = asg.count_in(az);
            let fullest = up.iter().map(|&a| asg.count_in(a)).max().unwrap_or(0);
            let share = size / up.len() as u32;
            if fullest <= here + 1 || share <= here {
                continue; // balanced: the AZs differ by one instance at most
            }
            let max = self.scenario.capacity.providers[provider as usize].max_size;
            let room = (max + rebalance_allowance(max)).saturating_sub(size);
            let launched = self.launch_instances(provider, (share - here).min(room));
            self.recorder.instances_rebalanced(launched);
            let asg = &mut self.capacity_mut().asgs[provider as usize];
            if asg.rebalance == 0 {
                asg.rebalance_floor = size;
            }
            asg.rebalance += launched;
        }
    }

    /// Up to `max` of the terminations a rebalance still owes, from the group's fullest AZs
    /// (the scale-in choice), each only while more instances are in service than before the
    /// rebalance; none once the group is back at its size before it.
    pub(super) fn rebalance_terminations(&mut self, provider: u32, max: u32) {
        let protected = self.scenario.capacity.providers[provider as usize].managed_termination_protection;
        for _ in 0..max {
            let c = self.capacity.as_mut().expect("a group implies the capacity part");
            let asg = &mut c.asgs[provider as usize];
            if asg.rebalance == 0 {
                return;
            }
            if asg.size() <= asg.rebalance_floor {
                asg.rebalance = 0;
                return;
            }
            // Launch before terminate: one goes only once one more is in service.
            if asg.in_service_hosts().count() as u32 <= asg.rebalance_floor {
                return;
            }
            // Only from an AZ that holds more than the emptiest AZ that is up: never the
            // instances the rebalance launched.
            let failures = self.failures.as_ref().expect("a rebalance follows an AZ outage");
            let fewest = asg.azs().into_iter().filter(|&a| !failures.az_down(a)).map(|a| asg.count_in(a)).min().unwrap_or(0);
            let Some(&victim) = asg.victims_in(self.fleet.cluster(), 1, protected, |az| asg.count_in(az) > fewest).first() else { return };
            asg.rebalance -= 1;
            self.terminate_instance(provider, victim);
        }
    }
}
