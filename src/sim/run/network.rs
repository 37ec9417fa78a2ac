//! The awsvpc and Fargate paths of the loop: task ENI addresses, failed ENI creation, Fargate
//! launches (account bucket, vCPU quota, AZ-balanced subnets) and ENI clean-up.

use rand::RngExt;

use super::{Event, FARGATE, Launch, World};
use crate::engine::SimTime;
use crate::metrics::Metric;
use crate::model::{HostId, StopReason, SubnetId, TaskId, TaskIp, TaskState};

impl World<'_> {
    /// Gives the task's ENI an address of `subnet`; false if the subnet is full. Either way the
    /// task records the subnet it tried.
    pub(super) fn take_ip(&mut self, task: TaskId, subnet: SubnetId) -> bool {
        self.tasks[task.index()].subnet = Some(subnet);
        if !self.subnets[subnet.0 as usize].try_take() {
            return false;
        }
        self.tasks[task.index()].ip = TaskIp::Held;
        self.task_enis += 1;
        if self.warm {
            self.task_enis_peak = self.task_enis_peak.max(self.task_enis);
        }
        true
    }

    /// The task ENI could not be created (no free address). ECS learns this during PROVISIONING
    /// and stops the task then (ECS-REFERENCE §2.5): until the ENI attach delay has passed, the
    /// task keeps its host resources and ENI slot, so tasks launched at the same moment cannot
    /// reuse them.
    pub(super) fn fail_start_later(&mut self, task: TaskId, host: HostId, td: u32, workload: u32) {
        let delay = self.eni_attach_delay();
        if delay == SimTime::ZERO {
            self.stop_task(task, host, td, workload, StopReason::InsufficientFreeAddresses, TaskState::Provisioning);
        } else {
            let now = self.now();
            // Validation caps workloads and task definitions at u16::MAX.
            let (task_definition, workload) = (td as u16, workload as u16);
            self.queue.schedule(now + delay, Event::StartFailed { task, host, task_definition, workload });
        }
    }

    /// One task's ENI attach delay, drawn from the scenario's constant or distribution.
    pub(super) fn eni_attach_delay(&mut self) -> SimTime {
        match &self.scenario.network {
            Some(n) => n.eni_attach_delay.sample(&mut self.rng_eni).unwrap_or(SimTime::ZERO),
            None => SimTime::ZERO,
        }
    }

    /// A Fargate launch: the account's launch bucket, the vCPU quota, then an address in one of
    /// the workload's subnets, AZs with the fewest tasks of the group first (Fargate keeps a
    /// service balanced across its subnets' AZs, ECS-REFERENCE §1.4).
    pub(super) fn launch_fargate(&mut self, task: TaskId) -> Launch {
        let now = self.now();
        let (td, workload) = {
            let t = &self.tasks[task.index()];
            (t.task_definition, t.workload)
        };
        if !self.fargate_bucket.try_take(now) {
            self.count(Metric::FargateThrottled);
            return Launch::Throttled;
        }
        let cpu = u64::from(self.needs[td as usize].need.cpu_units);
        self.awaiting -= 1;
        self.provisioning += 1;
        {
            let t = &mut self.tasks[task.index()];
            t.state = TaskState::Provisioning;
            t.placed_at = Some(now);
        }
        if let Some(quota) = self.scenario.fargate.vcpu_quota
            && self.fargate_cpu_units + cpu > u64::from(quota) * 1024
        {
            self.count(Metric::FargateFailedQuota);
            self.stop_task(task, FARGATE, td, workload, StopReason::FargateVcpuQuota, TaskState::Provisioning);
            return Launch::FailedToStart;
        }
        let group = self.workload_group[workload as usize];
        let w = &self.scenario.workloads[workload as usize];
        // Subnets ordered by the group's task count in their AZ; ties broken at random.
        let mut order: Vec<(u32, u32, SubnetId)> = w
            .subnets
            .iter()
            .map(|&s| (self.groups.in_az(group, self.subnets[s.0 as usize].az), self.rng_placement.random::<u32>(), s))
            .collect();
        order.sort_unstable();
        let chosen = order.iter().map(|o| o.2).find(|s| self.subnets[s.0 as usize].free() > 0);
        let Some(subnet) = chosen else {
            // Accepted, then stopped in PROVISIONING: every subnet is out of addresses.
            let first = order[0].2;
            self.tasks[task.index()].subnet = Some(first);
            self.fail_start_later(task, FARGATE, td, workload);
            return Launch::FailedToStart;
        };
        assert!(self.take_ip(task, subnet), "the subnet had a free address");
        self.groups.add_hostless(group, self.subnets[subnet.0 as usize].az);
        self.fargate_cpu_units += cpu;
        self.count(Metric::FargateLaunched);
        self.begin_provisioning(task, workload, true);
        Launch::Started
    }

    pub(super) fn release_eni(&mut self, task: TaskId) {
        let t = &mut self.tasks[task.index()];
        debug_assert_eq!(t.ip, TaskIp::Releasing);
        t.ip = TaskIp::Released;
        let s = t.subnet.expect("an ENI has a subnet");
        self.subnets[s.0 as usize].finish_release();
        self.task_enis -= 1;
    }

    /// Addresses held for the whole run: each host's primary ENI and trunk ENI, each NAT gateway.
    pub(super) fn infrastructure_ips(&self) -> Vec<u32> {
        let mut held = vec![0u32; self.subnets.len()];
        let trunking = self.scenario.network.as_ref().is_some_and(|n| n.trunking);
        for h in &self.cluster.hosts {
            if let Some(s) = h.subnet {
                let trunk = trunking && self.cluster.instance_types[h.instance_type as usize].trunk_task_limit.is_some();
                held[s.0 as usize] += 1 + u32::from(trunk);
            }
        }
        for (i, s) in self.subnets.iter().enumerate() {
            held[i] += u32::from(s.nat_gateway);
        }
        held
    }
}
