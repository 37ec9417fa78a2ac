//! The recorder: every metric accumulator of a run — counts after the warm-up, failure reasons,
//! time-weighted utilisation, per-AZ reservations, task-state gauges, service waits, address
//! minima — plus the time series and the decision log.
//!
//! It is told what happened (a task arrived, was placed on a host that was empty, an address was
//! taken leaving N free, …) and derives the metrics; it owns the warm-up and sampling events
//! ([`RecorderEvent`]). At the end it turns its accumulators into [`MetricValues`].
//!
//! Architecture invariant: the recorder is never consulted by the models; nothing it holds
//! changes what the simulation does. A new model adds `*_happened`-style calls here and rows in
//! `metrics::Metric`, never counters of its own.

mod contention;
mod egress;
mod outcomes;
mod recovery;
mod scaling;
mod tally;

use contention::Contention;
pub(super) use outcomes::{FinishContext, Finished};
use recovery::Recovery;
use scaling::ScalingTally;
use tally::TaskTally;
pub(super) use tally::{FargateShare, FargateUsage};

use super::result::DecisionRow;
use crate::engine::SimTime;
use crate::metrics::{Metric, MetricValues, TimeSeries, TimeWeighted, small_u64_to_f64, stats};
use crate::model::egress::StartFailure;
use crate::model::{AzId, Cluster, Resources, StopReason, Subnet, SubnetId, Task, TaskState};
use crate::placement::PlacementFailure;
use crate::scenario::Scenario;

#[derive(Debug, Clone, Copy)]
pub(super) enum RecorderEvent {
    /// Counting starts: accumulators open their window.
    WarmupEnd,
    /// A row of the time series.
    Sample,
}

#[derive(Debug, Clone, Copy, Default)]
struct Resources64 {
    cpu: u64,
    mem: u64,
}

pub(super) struct Recorder {
    warm: bool,
    counts: [u64; Metric::COUNT],
    failures: [u64; PlacementFailure::ALL.len()],
    cpu_reserved: TimeWeighted,
    mem_reserved: TimeWeighted,
    hosts_used: TimeWeighted,
    reserved_cpu_by_az: Vec<u64>,
    reserved_mem_by_az: Vec<u64>,
    registered_cpu_by_az: Vec<u64>,
    registered_mem_by_az: Vec<u64>,
    registered_total: Resources64,
    reserved_total: Resources64,
    hosts_busy: u32,
    awaiting: u32,
    provisioning: u32,
    running: u32,
    service_waits_s: Vec<f64>,
    /// Task ENIs attached or being cleaned up, and the most at once after the warm-up.
    task_enis: u32,
    task_enis_peak: u32,
    /// Per subnet: fewest free addresses seen (after the warm-up, once it has ended).
    min_free: Vec<u32>,
    timeseries: TimeSeries,
    decisions: Vec<DecisionRow>,
    /// With `explain`: decisions where the indexed choice was not among the full scan's best.
    oracle_mismatches: u64,
    contention: Contention,
    /// Fargate CPU units in use (`None` when no workload runs on Fargate).
    fargate_cpu_units: Option<u64>,
    /// Pull phases that ended after the warm-up, in seconds.
    pull_times_s: Vec<f64>,
    pull_failures: [u64; StartFailure::ALL.len()],
    /// NAT gateways sampled in the time series (empty without egress).
    nat_columns: usize,
    /// Services' running counts against their desired counts (with `[failures]`).
    recovery: Option<Recovery>,
    /// What each task contributed once done with: outcome, time to running, Fargate usage.
    tally: TaskTally,
    /// Waits for capacity and instance counts (with `[capacity_providers]`).
    scaling: Option<ScalingTally>,
    /// With service auto scaling: the largest total desired count of the scaled services.
    desired_peak: Option<u32>,
    /// Some workload runs on FARGATE_SPOT.
    spot: bool,
}

impl Recorder {
    /// `subnets` as they are once the infrastructure's addresses are taken.
    /// `nat_azs`: AZs of the NAT gateways the egress part meters (empty without egress).
    pub fn new(scenario: &Scenario, cluster: &Cluster, subnets: &[Subnet], nat_azs: &[AzId]) -> Recorder {
        let azs = cluster.azs.len();
        let (mut reg_cpu, mut reg_mem) = (vec![0u64; azs], vec![0u64; azs]);
        for h in cluster.hosts.iter().filter(|h| h.active) {
            reg_cpu[h.az.0 as usize] += u64::from(h.registered.cpu_units);
            reg_mem[h.az.0 as usize] += u64::from(h.registered.memory_mib);
        }
        let registered_total = Resources64 { cpu: reg_cpu.iter().sum(), mem: reg_mem.iter().sum() };
        let mut columns = vec!["time_s".to_string(), "tasks_running".into(), "tasks_pending".into(), "hosts_used".into()];
        columns.extend(cluster.azs.iter().map(|az| format!("cpu_reserved_pct_{az}")));
        columns.extend(cluster.azs.iter().map(|az| format!("mem_reserved_pct_{az}")));
        if !subnets.is_empty() {
            columns.push("task_enis".into());
            columns.extend(subnets.iter().map(|s| format!("free_ips_{}", s.name)));
        }
        let (memory, cpu) = (scenario.memory.is_some(), scenario.cpu.is_some());
        if memory {
            columns.extend(cluster.azs.iter().map(|az| format!("mem_used_pct_{az}")));
        }
        if cpu {
            columns.extend(cluster.azs.iter().map(|az| format!("cpu_used_pct_{az}")));
            for td in &scenario.task_definitions {
                columns.extend(td.containers.iter().map(|c| format!("cpu_units_{}.{}", td.family, c.name)));
            }
        }
        columns.extend(nat_azs.iter().map(|az| format!("nat_mbps_{}", cluster.azs[az.0 as usize])));
        columns.extend(nat_azs.iter().map(|az| format!("nat_util_{}", cluster.azs[az.0 as usize])));
        // Fargate tasks take no host: their vCPUs are charted instead of host utilisation.
        let fargate = scenario.workloads.iter().any(|w| w.launch_type == crate::workload::LaunchType::Fargate);
        if fargate {
            columns.push("fargate_vcpus".into());
        }
        columns.extend(Recovery::columns(scenario));
        let deployments = scenario.has_managed_services();
        if deployments {
            columns.extend(["tasks_stopping".to_string(), "addresses_stopping".to_string()]);
        }
        columns.extend(ScalingTally::columns(scenario));
        let scaling = (!scenario.capacity.is_empty()).then(|| {
            let groups: Vec<u32> = scenario.capacity.providers.iter().flat_map(|p| p.host_groups.iter().copied()).collect();
            ScalingTally::new(cluster.hosts.iter().filter(|h| h.active && groups.contains(&h.group)).count() as u32)
        });
        let from = scenario.warmup.0;
        Recorder {
            tally: TaskTally::new(scenario.warmup, scenario.horizon),
            scaling,
            spot: scenario.capacity.uses_spot(),
            desired_peak: scenario.auto_scaling.iter().any(Option::is_some).then(|| {
                scenario.workloads.iter().zip(&scenario.auto_scaling).filter(|(_, a)| a.is_some()).map(|(w, _)| w.arrivals.desired()).sum()
            }),
            fargate_cpu_units: fargate.then_some(0),
            warm: scenario.warmup == SimTime::ZERO,
            counts: [0; Metric::COUNT],
            failures: [0; PlacementFailure::ALL.len()],
            cpu_reserved: TimeWeighted::new(from),
            mem_reserved: TimeWeighted::new(from),
            hosts_used: TimeWeighted::new(from),
            reserved_cpu_by_az: vec![0; azs],
            reserved_mem_by_az: vec![0; azs],
            registered_cpu_by_az: reg_cpu,
            registered_mem_by_az: reg_mem,
            registered_total,
            reserved_total: Resources64::default(),
            hosts_busy: 0,
            awaiting: 0,
            provisioning: 0,
            running: 0,
            service_waits_s: Vec::new(),
            task_enis: 0,
            task_enis_peak: 0,
            min_free: subnets.iter().map(Subnet::free).collect(),
            timeseries: TimeSeries::new(columns),
            decisions: Vec::new(),
            oracle_mismatches: 0,
            contention: Contention::new(from, memory, cpu, azs),
            pull_times_s: Vec::new(),
            pull_failures: [0; StartFailure::ALL.len()],
            nat_columns: nat_azs.len(),
            recovery: Recovery::new(scenario),
        }
    }

    fn count(&mut self, m: Metric) {
        if self.warm {
            self.counts[m as usize] += 1;
        }
    }

    /// Task-state gauges, for the invariants: (awaiting placement, provisioning, running).
    pub fn task_gauges(&self) -> (u32, u32, u32) {
        (self.awaiting, self.provisioning, self.running)
    }

    /// Task ENIs attached or being cleaned up, for the invariants.
    pub fn task_enis(&self) -> u32 {
        self.task_enis
    }

    pub fn oracle_mismatches(&self) -> u64 {
        self.oracle_mismatches
    }

    pub fn warmup_ended(&mut self, now: SimTime, subnets: &[Subnet]) {
        self.warm = true;
        self.task_enis_peak = self.task_enis;
        for (min, s) in self.min_free.iter_mut().zip(subnets) {
            *min = s.free();
        }
        self.cpu_reserved.start_window(now.0);
        self.mem_reserved.start_window(now.0);
        self.hosts_used.start_window(now.0);
        let c = &mut self.contention;
        for tw in [&mut c.mem_used, &mut c.cpu_used, &mut c.task_count, &mut c.host_task_count] {
            tw.start_window(now.0);
        }
        self.recovery_warmup_ended(now);
    }

    pub fn task_arrived(&mut self) {
        self.awaiting += 1;
        self.count(Metric::TasksArrived);
    }

    pub fn placement_decided(&mut self, outcome: Result<(), PlacementFailure>) {
        self.count(Metric::PlacementAttempts);
        if let Err(reason) = outcome {
            self.count(Metric::PlacementFailures);
            if self.warm {
                self.failures[PlacementFailure::ALL.iter().position(|r| *r == reason).expect("listed")] += 1;
            }
        }
    }

    /// With `explain`: the decision's row, and whether the indexed choice was among the full
    /// scan's best hosts.
    pub fn decision_explained(&mut self, row: DecisionRow, agrees_with_oracle: bool) {
        if !agrees_with_oracle {
            self.oracle_mismatches += 1;
        }
        self.decisions.push(row);
    }

    /// A task was placed on a host of `az` (empty before when `was_idle`) and provisions.
    pub fn task_placed(&mut self, now: SimTime, az: AzId, need: Resources, was_idle: bool) {
        self.reserved_cpu_by_az[az.0 as usize] += u64::from(need.cpu_units);
        self.reserved_mem_by_az[az.0 as usize] += u64::from(need.memory_mib);
        if was_idle {
            self.hosts_busy += 1;
        }
        self.utilisation_changed(now, i64::from(need.cpu_units), i64::from(need.memory_mib));
        self.count(Metric::TasksPlaced);
        self.awaiting -= 1;
        self.provisioning += 1;
    }

    /// A stopped task gave its host resources back (the host is empty now when `now_idle`).
    pub fn host_released(&mut self, now: SimTime, az: AzId, need: Resources, now_idle: bool) {
        self.reserved_cpu_by_az[az.0 as usize] -= u64::from(need.cpu_units);
        self.reserved_mem_by_az[az.0 as usize] -= u64::from(need.memory_mib);
        if now_idle {
            self.hosts_busy -= 1;
        }
        self.utilisation_changed(now, -i64::from(need.cpu_units), -i64::from(need.memory_mib));
    }

    pub fn fargate_throttled(&mut self) {
        self.count(Metric::FargateThrottled);
    }

    /// Fargate took a task in (it provisions).
    pub fn fargate_accepted(&mut self) {
        self.awaiting -= 1;
        self.provisioning += 1;
    }

    pub fn fargate_quota_refused(&mut self) {
        self.count(Metric::FargateFailedQuota);
    }

    /// A Fargate task of `cpu_units` got its ENI and provisions.
    pub fn fargate_started(&mut self, cpu_units: u32) {
        self.count(Metric::FargateLaunched);
        if let Some(units) = &mut self.fargate_cpu_units {
            *units += u64::from(cpu_units);
        }
    }

    /// A Fargate task that had started stopped.
    pub fn fargate_stopped(&mut self, cpu_units: u32) {
        if let Some(units) = &mut self.fargate_cpu_units {
            *units -= u64::from(cpu_units);
        }
    }

    /// A task ENI got an address of `subnet`, leaving `free`.
    pub fn address_taken(&mut self, subnet: SubnetId, free: u32) {
        let min = &mut self.min_free[subnet.0 as usize];
        *min = (*min).min(free);
        self.task_enis += 1;
        if self.warm {
            self.task_enis_peak = self.task_enis_peak.max(self.task_enis);
        }
    }

    pub fn address_released(&mut self) {
        self.task_enis -= 1;
    }

    pub fn task_running(&mut self) {
        self.provisioning -= 1;
        self.running += 1;
    }

    /// `run_task`: the task was launched by RunTask (not by a service, which retries instead).
    pub fn task_stopped(&mut self, was: TaskState, reason: StopReason, run_task: bool) {
        match was {
            TaskState::Running | TaskState::Deactivating | TaskState::Stopping => self.running -= 1,
            TaskState::Provisioning => self.provisioning -= 1,
            other => unreachable!("stopping a task in state {other:?}"),
        }
        match reason {
            StopReason::Completed => self.count(Metric::TasksCompleted),
            StopReason::InsufficientFreeAddresses => self.count(Metric::StartFailedNoIps),
            StopReason::OutOfMemory => self.count(Metric::TasksStoppedOom),
            _ => {}
        }
        if run_task && reason.failed_to_start() {
            self.count(Metric::TasksFailed);
        }
    }

    /// RunTask could not launch the task: it never left AWAITING.
    /// A waiting service task is no longer wanted (its service's desired count went down).
    pub fn service_task_cancelled(&mut self) {
        self.awaiting -= 1;
    }

    /// A task found no instance of its capacity provider and waits in PROVISIONING.
    pub fn capacity_wait_refused(&mut self) {
        self.count(Metric::CapacityWaitRefused);
    }

    /// A task's wait for capacity ended (placed, or given up); a RunTask task that gave up
    /// counts as failed.
    pub fn capacity_wait_ended(&mut self, wait: SimTime, gave_up_standalone: Option<bool>) {
        if self.warm
            && let Some(s) = self.scaling.as_mut()
        {
            s.wait_ended(wait);
        }
        match gave_up_standalone {
            Some(true) => self.task_dropped(),
            Some(false) => self.awaiting -= 1,
            None => {}
        }
    }

    /// Service auto scaling changed a desired count; `total`: the scaled services' sum now.
    pub fn service_scaled(&mut self, out: bool, total: u32) {
        self.count(if out { Metric::ServiceScaleOuts } else { Metric::ServiceScaleIns });
        if let Some(p) = self.desired_peak.as_mut() {
            *p = (*p).max(total);
        }
    }

    pub fn spot_interrupted(&mut self) {
        self.count(Metric::SpotInterruptions);
    }

    pub fn ec2_spot_interrupted(&mut self) {
        self.count(Metric::Ec2SpotInterruptions);
    }

    pub fn spot_capacity_unavailable(&mut self) {
        self.count(Metric::SpotCapacityUnavailable);
    }

    /// A waiting service task is no longer wanted (the desired count went down).
    pub fn task_unwanted(&mut self) {
        self.awaiting -= 1;
    }

    pub fn scaled(&mut self, out: bool) {
        self.count(if out { Metric::ScaleOuts } else { Metric::ScaleIns });
    }

    pub fn instance_launched(&mut self) {
        self.count(Metric::InstancesLaunched);
    }

    /// The Auto Scaling groups' sizes (launching or in service; a draining instance has left
    /// its group's size) add up to `total` now.
    pub fn group_sizes(&mut self, total: u32) {
        if let Some(s) = self.scaling.as_mut() {
            s.sized(total);
        }
    }

    /// An Auto Scaling group launched `n` instances in an AZ back from an outage.
    pub fn instances_rebalanced(&mut self, n: u32) {
        for _ in 0..n {
            self.count(Metric::InstancesRebalanced);
        }
    }

    pub fn instance_launch_failed(&mut self) {
        self.count(Metric::InstanceLaunchesFailed);
    }

    /// An instance registered (`joined`) or was terminated: its resources join or leave the
    /// registered totals utilisation is measured against.
    pub fn instance_changed(&mut self, now: SimTime, az: AzId, registered: Resources, joined: bool) {
        let (cpu, mem) = (u64::from(registered.cpu_units), u64::from(registered.memory_mib));
        let a = az.0 as usize;
        if joined {
            self.registered_cpu_by_az[a] += cpu;
            self.registered_mem_by_az[a] += mem;
            self.registered_total.cpu += cpu;
            self.registered_total.mem += mem;
        } else {
            self.registered_cpu_by_az[a] -= cpu;
            self.registered_mem_by_az[a] -= mem;
            self.registered_total.cpu -= cpu;
            self.registered_total.mem -= mem;
            self.count(Metric::InstancesTerminated);
        }
        self.utilisation_changed(now, 0, 0);
    }

    pub fn task_dropped(&mut self) {
        self.count(Metric::TasksFailed);
        self.awaiting -= 1;
    }

    /// A service task launched after waiting `wait` since it was wanted.
    pub fn service_task_launched(&mut self, wait: SimTime) {
        if self.warm {
            self.service_waits_s.push(wait.as_secs_f64());
        }
    }

    /// `delta_*`: what was just reserved (positive) or released (negative), cluster-wide.
    fn utilisation_changed(&mut self, now: SimTime, delta_cpu: i64, delta_mem: i64) {
        let now = now.0;
        self.reserved_total.cpu = self.reserved_total.cpu.wrapping_add_signed(delta_cpu);
        self.reserved_total.mem = self.reserved_total.mem.wrapping_add_signed(delta_mem);
        self.cpu_reserved.set(now, ratio(self.reserved_total.cpu, self.registered_total.cpu));
        self.mem_reserved.set(now, ratio(self.reserved_total.mem, self.registered_total.mem));
        self.hosts_used.set(now, f64::from(self.hosts_busy));
    }

    /// `nat`: per NAT gateway, (AZ, bytes/s, utilisation), as the egress part reports them.
    /// `stopping`: with deployments, the tasks the scheduler is stopping (DEACTIVATING or
    /// STOPPING) and the addresses their ENIs hold.
    /// `capacity`: per capacity provider, its instances and its last CapacityProviderReservation,
    /// then the tasks waiting for capacity (empty without providers).
    pub fn sample(&mut self, now: SimTime, subnets: &[Subnet], nat: &[(AzId, f64, f64)], stopping: Option<(u32, u32)>, capacity: &[f64]) {
        let mut row = Vec::with_capacity(self.timeseries.columns.len());
        row.push(now.as_secs_f64());
        row.push(f64::from(self.running));
        row.push(f64::from(self.awaiting + self.provisioning));
        row.push(f64::from(self.hosts_busy));
        for az in 0..self.reserved_cpu_by_az.len() {
            row.push(100.0 * ratio(self.reserved_cpu_by_az[az], self.registered_cpu_by_az[az]));
        }
        for az in 0..self.reserved_mem_by_az.len() {
            row.push(100.0 * ratio(self.reserved_mem_by_az[az], self.registered_mem_by_az[az]));
        }
        if !subnets.is_empty() {
            row.push(f64::from(self.task_enis));
            row.extend(subnets.iter().map(|s| f64::from(s.free())));
        }
        let c = &mut self.contention;
        if c.memory {
            for az in 0..c.mem_used_by_az.len() {
                row.push(100.0 * ratio(c.mem_used_by_az[az], self.registered_mem_by_az[az]));
            }
        }
        if c.cpu {
            for az in 0..c.cpu_used_by_az.len() {
                let registered = self.registered_cpu_by_az[az] as f64;
                row.push(if registered > 0.0 { 100.0 * c.cpu_used_by_az[az].max(0.0) / registered } else { 0.0 });
            }
            row.extend_from_slice(&c.container_cpu);
        }
        if self.warm {
            c.mem_used_samples.push(ratio(c.mem_used_total, self.registered_total.mem));
            c.mem_reserved_samples.push(ratio(self.reserved_total.mem, self.registered_total.mem));
        }
        debug_assert_eq!(nat.len(), self.nat_columns);
        row.extend(nat.iter().map(|n| n.1 * 8.0 / 1e6));
        row.extend(nat.iter().map(|n| n.2));
        if let Some(units) = self.fargate_cpu_units {
            row.push(units as f64 / 1024.0);
        }
        self.recovery_sample(&mut row);
        if let Some((tasks, addresses)) = stopping {
            row.extend([f64::from(tasks), f64::from(addresses)]);
        }
        row.extend_from_slice(capacity);
        self.timeseries.push(row);
    }

    /// A task whose record is no longer needed: it stopped (or the run ended). `fargate`: what
    /// it is billed for, when it ran on Fargate.
    pub fn task_done(&mut self, task: &Task, fargate: Option<FargateShare>) {
        self.tally.add(task, fargate);
    }

    /// Σ over the Fargate tasks folded in so far of what they used.
    pub fn fargate_usage(&self) -> &FargateUsage {
        self.tally.fargate()
    }

    /// The run's metrics, time series, decision log and per-subnet minima, once every task is
    /// folded in with [`Recorder::task_done`]. `still_waiting_since`: when each service task
    /// still waiting at the horizon was wanted (its wait is right-censored there).
    pub fn finish(mut self, end: SimTime, still_waiting_since: &[SimTime], ctx: FinishContext<'_>) -> Finished {
        if self.warm {
            self.service_waits_s.extend(still_waiting_since.iter().map(|&at| end.saturating_sub(at).as_secs_f64()));
        }
        let censored = if self.warm { still_waiting_since.len() } else { 0 };
        let end = end.0;
        let mut m = MetricValues::default();
        for metric in Metric::ALL {
            m.set(*metric, self.counts[*metric as usize] as f64);
        }
        let attempts = self.counts[Metric::PlacementAttempts as usize];
        let failures = self.counts[Metric::PlacementFailures as usize];
        m.set(Metric::PlacementFailureRate, if attempts == 0 { 0.0 } else { failures as f64 / attempts as f64 });
        for (i, reason) in PlacementFailure::ALL.iter().enumerate() {
            let metric = match reason {
                PlacementFailure::ResourceCpu => Metric::FailedResourceCpu,
                PlacementFailure::ResourceMemory => Metric::FailedResourceMemory,
                PlacementFailure::ResourcePorts => Metric::FailedResourcePorts,
                PlacementFailure::ResourceEni => Metric::FailedResourceEni,
                PlacementFailure::Location => Metric::FailedLocation,
                PlacementFailure::DistinctInstance => Metric::FailedDistinctInstance,
                PlacementFailure::MemberOf => Metric::FailedMemberOf,
                PlacementFailure::NoContainerInstances => continue,
            };
            m.set(metric, self.failures[i] as f64);
        }
        m.set(Metric::CpuReservedMean, self.cpu_reserved.mean(end));
        m.set(Metric::CpuReservedPeak, self.cpu_reserved.peak());
        m.set(Metric::MemReservedMean, self.mem_reserved.mean(end));
        m.set(Metric::MemReservedPeak, self.mem_reserved.peak());
        m.set(Metric::HostsUsedMean, self.hosts_used.mean(end));
        m.set(Metric::HostsUsedPeak, self.hosts_used.peak());
        self.service_waits_s.sort_by(f64::total_cmp);
        let waits = &self.service_waits_s;
        let or_nan = |v: f64| if ctx.has_services { v } else { f64::NAN };
        m.set(Metric::ServiceWaitMean, or_nan(if waits.is_empty() { 0.0 } else { waits.iter().sum::<f64>() / waits.len() as f64 }));
        m.set(Metric::ServiceWaitP95, or_nan(if waits.is_empty() { 0.0 } else { stats::quantile_sorted(waits, 0.95) }));
        m.set(Metric::ServiceWaitMax, or_nan(waits.last().copied().unwrap_or(0.0)));
        m.set(Metric::ServiceWaitsCensored, or_nan(censored as f64));
        m.set(Metric::ServiceTasksUnplaced, self.awaiting as f64);
        m.set(Metric::Events, ctx.events as f64);
        self.tally.set_outcomes(&mut m);
        let has_network = !self.min_free.is_empty();
        // Over the subnets task ENIs use: a small public subnet holding only a NAT gateway would
        // otherwise always be the minimum.
        let min_free = ctx.task_subnets.iter().map(|s| self.min_free[s.0 as usize]).min();
        m.set(Metric::MinFreeIps, min_free.map_or(f64::NAN, f64::from));
        m.set(Metric::TaskEnisPeak, if has_network { f64::from(self.task_enis_peak) } else { f64::NAN });
        self.contention.finish(&mut m, self.hosts_used.mean(end), end);
        self.finish_egress(&mut m, &ctx);
        self.finish_recovery(&mut m, SimTime(end));
        match self.scaling.as_mut() {
            Some(s) => s.set_metrics(&mut m),
            None => ScalingTally::set_absent(&mut m),
        }
        if !self.spot {
            m.set(Metric::SpotInterruptions, f64::NAN);
            m.set(Metric::SpotCapacityUnavailable, f64::NAN);
        }
        match self.desired_peak {
            Some(p) => m.set(Metric::ServiceDesiredMax, f64::from(p)),
            None => {
                for metric in [Metric::ServiceScaleOuts, Metric::ServiceScaleIns, Metric::ServiceDesiredMax] {
                    m.set(metric, f64::NAN);
                }
            }
        }
        Finished { metrics: m, timeseries: self.timeseries, decisions: self.decisions, min_free: self.min_free }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { small_u64_to_f64(a) / small_u64_to_f64(b) }
}
