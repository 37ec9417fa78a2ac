//! Conservation checks of a run: host reservations equal their tasks', every task is in exactly
//! one state, services hold their desired count, the placement index follows the cluster, and
//! every subnet's held addresses equal their owners'. Run at the end of every run, and every
//! 5,000 events in debug builds.

use super::addresses::infrastructure_ips;
use super::world::World;
use crate::model::{Resources, TaskIp, TaskState};
use crate::scenario::deployment::ReleaseAt;
use crate::workload::LaunchType;

impl World<'_> {
    /// Conservation checks: resources, tasks, groups and the placement index.
    pub(super) fn check_invariants(&self) -> Result<(), String> {
        let hosts = self.fleet.cluster().hosts.len();
        let mut reserved = vec![Resources::default(); hosts];
        let mut per_host = vec![0u32; hosts];
        let (mut awaiting, mut provisioning, mut running, mut stopped) = (0u32, 0u32, 0u32, 0u32);
        let release_at_stopping = self.scenario.service_scheduler.lifecycle.release_resources_at == ReleaseAt::Stopping;
        for t in self.tasks.live() {
            match t.state {
                TaskState::AwaitingPlacement => awaiting += 1,
                TaskState::Provisioning | TaskState::Running | TaskState::Deactivating | TaskState::Stopping => {
                    if t.state == TaskState::Provisioning {
                        provisioning += 1
                    } else {
                        running += 1
                    }
                    if t.state == TaskState::Stopping && release_at_stopping {
                        // Its CPU, memory and ports went back to the host at STOPPING.
                        continue;
                    }
                    let fargate = self.scenario.workloads[t.workload as usize].launch_type == LaunchType::Fargate;
                    match (t.host, fargate) {
                        (Some(h), false) => {
                            let n = &self.fleet.needs(t.task_definition).need;
                            reserved[h.index()].cpu_units += n.cpu_units;
                            reserved[h.index()].memory_mib += n.memory_mib;
                            per_host[h.index()] += 1;
                        }
                        (None, true) => {}
                        _ => return Err(format!("task {}: host {:?} does not match its launch type", t.serial, t.host)),
                    }
                }
                TaskState::Stopped => stopped += 1,
            }
        }
        for h in &self.fleet.cluster().hosts {
            let draining = self.capacity.as_ref().is_some_and(|c| c.is_draining(h.id));
            if !h.active && per_host[h.id.index()] > 0 && !draining {
                return Err(format!("host {} failed but {} of its tasks still provision or run", h.id.0, per_host[h.id.index()]));
            }
            if h.reserved != reserved[h.id.index()] || h.task_count != per_host[h.id.index()] {
                return Err(format!(
                    "host {}: reserved {:?} and {} tasks, but its tasks add up to {:?} and {}",
                    h.id.0,
                    h.reserved,
                    h.task_count,
                    reserved[h.id.index()],
                    per_host[h.id.index()]
                ));
            }
        }
        let (g_awaiting, g_provisioning, g_running) = self.recorder.task_gauges();
        let count = self.tasks.live().count() as u64;
        // Every stopped task still in the arena is named by a queued event, or waits to be
        // folded in at the end of this event (or recycling is off): none is left behind, so the
        // arena follows what is in flight.
        let unpinned = self.tasks.live().filter(|t| t.state == TaskState::Stopped && t.pins == 0).count();
        if self.tasks.recycles() && unpinned != self.tasks.done_count() {
            return Err(format!("{unpinned} stopped tasks are kept that no queued event names"));
        }
        let total = u64::from(awaiting + provisioning + running + stopped);
        if total != count || awaiting != g_awaiting || provisioning != g_provisioning || running != g_running {
            return Err(format!(
                "task accounting: {} tasks but awaiting {awaiting}/{}, provisioning {provisioning}/{}, running {running}/{}, stopped {stopped}",
                count, g_awaiting, g_provisioning, g_running
            ));
        }
        let waiting_in_services: usize = self.services.all().iter().map(|s| s.waiting.len()).sum();
        let waiting_for_capacity = self.capacity.as_ref().map_or(0, |c| c.waiting_total() as usize);
        if waiting_in_services + waiting_for_capacity != awaiting as usize {
            return Err(format!(
                "{awaiting} tasks await placement but services hold {waiting_in_services} and capacity providers {waiting_for_capacity}"
            ));
        }
        self.check_capacity()?;
        for (i, svc) in self.services.all().iter().enumerate() {
            if let Some((waiting, placed)) = self.deployments.check(i as u32) {
                // A rolling update runs more or fewer tasks than desired; its part counts them.
                if (waiting, placed) != (svc.waiting.len() as u32, svc.active) {
                    return Err(format!(
                        "service {}: {} active and {} waiting, but its deployments count {placed} placed and {waiting} waiting",
                        svc.workload,
                        svc.active,
                        svc.waiting.len()
                    ));
                }
                continue;
            }
            if svc.active as usize + svc.waiting.len() != svc.desired as usize {
                return Err(format!(
                    "service {}: {} active + {} waiting ≠ desired {}",
                    svc.workload,
                    svc.active,
                    svc.waiting.len(),
                    svc.desired
                ));
            }
        }
        self.check_failures()?;
        self.check_ip_conservation()?;
        if self.recorder.oracle_mismatches() > 0 {
            return Err(format!("{} placement decisions chose a host the full-scan oracle ranks lower", self.recorder.oracle_mismatches()));
        }
        self.fleet.placer().verify(self.fleet.cluster())
    }

    /// With capacity providers: every waiting task awaits placement; each group's instances are
    /// its hosts in the cluster, within its maximum size.
    fn check_capacity(&self) -> Result<(), String> {
        let Some(c) = &self.capacity else { return Ok(()) };
        for (a, p) in c.asgs.iter().zip(&self.scenario.capacity.providers) {
            if let Some(w) = a.waiting.iter().find(|w| self.tasks.get(w.task).state != TaskState::AwaitingPlacement) {
                return Err(format!("task {} waits for capacity but is {:?}", self.tasks.get(w.task).serial, self.tasks.get(w.task).state));
            }
            let active = self.fleet.cluster().hosts.iter().filter(|h| p.host_groups.contains(&h.group) && h.active).count();
            // A rebalancing group may exceed its maximum by 10 % for a while.
            let limit = p.max_size + super::capacity::rebalance_allowance(p.max_size);
            if active != a.in_service_hosts().count() || a.size() > limit {
                return Err(format!(
                    "provider {}: {active} registered hosts, {} in service, {} in all (max {})",
                    p.name,
                    a.in_service_hosts().count(),
                    a.size(),
                    p.max_size
                ));
            }
        }
        Ok(())
    }

    /// The conservation checks after a rare event (an outage, an instance that joins or
    /// leaves), in every build: a broken invariant is kept and returned by the run.
    pub(super) fn check_after_rare_event(&mut self) {
        if let Err(e) = self.check_invariants() {
            self.broken.get_or_insert(e);
        }
    }

    /// With `[failures]`: the failures part knows exactly the tasks on each host, and no task
    /// provisions or runs in an AZ that is down.
    fn check_failures(&self) -> Result<(), String> {
        let Some(failures) = &self.failures else { return Ok(()) };
        for (h, known) in self.fleet.cluster().hosts.iter().zip(failures.host_task_counts()) {
            if known != h.task_count as usize {
                return Err(format!("host {}: {} tasks, but the failures part knows {known}", h.id.0, h.task_count));
            }
        }
        let subnets = self.addresses.subnets();
        for t in self.tasks.live().filter(|t| matches!(t.state, TaskState::Provisioning | TaskState::Running | TaskState::Deactivating)) {
            let az = match (t.host, t.subnet) {
                (Some(h), _) => self.fleet.cluster().host(h).az,
                (None, Some(s)) => subnets[s.0 as usize].az,
                (None, None) => continue,
            };
            if failures.az_down(az) {
                return Err(format!("task {} is {:?} in {}, which is down", t.serial, t.state, self.scenario.azs[az.0 as usize]));
            }
        }
        Ok(())
    }

    /// Every subnet: held = infrastructure + task ENIs attached or being cleaned up, and
    /// free + held = usable. Each held address is counted once, under its one owner.
    pub(super) fn check_ip_conservation(&self) -> Result<(), String> {
        let subnets = self.addresses.subnets();
        let mut held = infrastructure_ips(self.scenario, self.fleet.cluster(), subnets, &self.addresses.lb_held(self.scenario));
        // An Auto Scaling group's instance holds its addresses from launch to termination, also
        // while it is not in placement (launching, draining).
        for h in self.capacity.iter().flat_map(|c| &c.asgs).flat_map(|a| a.unregistered_hosts()) {
            let cluster = self.fleet.cluster();
            if let (Some(s), false) = (cluster.host(h).subnet, cluster.host(h).active) {
                held[s.0 as usize] += super::addresses::host_ips(self.scenario, cluster, h);
            }
        }
        let mut releasing = vec![0u32; subnets.len()];
        let mut enis = 0;
        for t in self.tasks.live() {
            match (t.ip, t.subnet) {
                (TaskIp::Held, Some(s)) => {
                    held[s.0 as usize] += 1;
                    enis += 1;
                    if !t.state.is_placed() {
                        return Err(format!("task {} holds an address while {:?}", t.serial, t.state));
                    }
                }
                (TaskIp::Releasing, Some(s)) => {
                    held[s.0 as usize] += 1;
                    releasing[s.0 as usize] += 1;
                    enis += 1;
                }
                (TaskIp::Held | TaskIp::Releasing, None) => return Err(format!("task {} holds an address of no subnet", t.serial)),
                _ => {}
            }
        }
        for (i, s) in subnets.iter().enumerate() {
            if s.held != held[i] || s.releasing != releasing[i] || s.held > s.usable || s.free() + s.held != s.usable {
                return Err(format!(
                    "subnet {}: {} held ({} releasing) of {} usable, but its owners hold {} ({} releasing)",
                    s.name, s.held, s.releasing, s.usable, held[i], releasing[i]
                ));
            }
        }
        let release_at_stopping = self.scenario.service_scheduler.lifecycle.release_resources_at == ReleaseAt::Stopping;
        let hosts_enis: u32 = self.fleet.cluster().hosts.iter().map(|h| h.eni_tasks).sum();
        // ENI slots: every awsvpc task on a host while it provisions or runs (one whose ENI could
        // not be created holds its slot until it stops).
        let ec2_slots = self
            .tasks
            .live()
            .filter(|t| {
                t.host.is_some()
                    && (matches!(t.state, TaskState::Provisioning | TaskState::Running | TaskState::Deactivating)
                        || (t.state == TaskState::Stopping && !release_at_stopping))
                    && self.fleet.needs(t.task_definition).eni
            })
            .count() as u32;
        if enis != self.recorder.task_enis() || hosts_enis != ec2_slots {
            return Err(format!(
                "{} task ENIs counted, owners hold {enis}; hosts count {hosts_enis} ENI slots for {ec2_slots} awsvpc tasks",
                self.recorder.task_enis()
            ));
        }
        // Memory: per host and task, the usage the model tracks equals its containers'.
        if let Some(memory) = &self.memory {
            memory.check_invariants()?;
        }
        Ok(())
    }
}
