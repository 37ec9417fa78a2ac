//! Capacity providers: each Auto Scaling group's instances (launching, in service), its managed
//! scaling state (the CapacityProviderReservation metric, the alarms' datapoints, the warm-up),
//! the tasks waiting in PROVISIONING for it, and each workload's split over its strategy.
//!
//! Owns: [`Asg`] per provider, the waiting queues, the `capacity` random stream (instance launch
//! times, provisioning timeouts) and [`CapacityEvent`]. Is told: a task of a strategy was placed
//! on or left a provider's host, a task found no instance. Decides: how many instances to launch
//! or terminate and which; the coordinator (`scaling.rs`) makes it happen.
//!
//! The rules are pure functions at the bottom ([`reservation`], [`scale_out_step`],
//! [`instances_needed`], [`scale_out_to`], [`scale_in_to`]) with closed-form tests
//! (docs/model.md#capacity-providers-and-cluster-auto-scaling).

use std::collections::VecDeque;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::engine::{RngStreams, SimTime};
use crate::model::taskdef::Protocol;
use crate::model::{AzId, Cluster, HostId, Resources, TaskId};
use crate::scenario::Scenario;
use crate::scenario::capacity::{CapacityProviderSpec, StrategyItem};

/// ECS publishes the metric, and the alarms evaluate it, once a minute.
pub(super) const METRIC_PERIOD: SimTime = SimTime::from_secs(60);
/// Datapoints below target before the scale-in alarm fires (15 of 15 minutes).
pub(super) const SCALE_IN_DATAPOINTS: u32 = 15;

#[derive(Debug, Clone, Copy)]
pub(super) enum CapacityEvent {
    /// The minute's metric and alarms, for every provider with managed scaling.
    Tick,
    /// A launched instance registered with the cluster.
    Registered { host: HostId },
    /// A waiting task's provisioning timeout (ignored if it was placed meanwhile).
    Timeout { task: TaskId },
    /// Capacity may have appeared (an instance registered, a task left): try the waiting tasks.
    Retry { provider: u32 },
    /// A draining instance's last task left: the group terminates it.
    Drained { host: HostId },
    /// An EC2 Spot instance gets its two-minute interruption notice.
    SpotNotice { host: HostId },
    /// Two minutes after the notice EC2 reclaims the Spot instance.
    SpotReclaim { host: HostId },
    /// The group's health check finds a failed instance: it terminates it and launches a
    /// replacement.
    Replace { host: HostId },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    Off,
    Launching {
        launched_at: SimTime,
    },
    InService {
        launched_at: SimTime,
    },
    /// Chosen for scale-in with managed draining: out of placement, terminated once empty.
    Draining {
        launched_at: SimTime,
    },
    /// Its instance failed: out of placement, its tasks stopped, still in the group's size until
    /// the group's health check replaces it.
    Failed {
        launched_at: SimTime,
    },
}

impl Slot {
    /// When the slot's instance was launched; `None` when the slot is empty.
    fn launched_at(self) -> Option<SimTime> {
        match self {
            Slot::Launching { launched_at }
            | Slot::InService { launched_at }
            | Slot::Draining { launched_at }
            | Slot::Failed { launched_at } => Some(launched_at),
            Slot::Off => None,
        }
    }
}

/// A task waiting in PROVISIONING for a provider.
#[derive(Debug, Clone, Copy)]
pub(super) struct Waiting {
    pub task: TaskId,
    pub workload: u32,
    pub task_definition: u32,
    pub since: SimTime,
}

/// One Auto Scaling group.
pub(super) struct Asg {
    /// The group's slots' hosts, in id order (one host group per instance type).
    hosts: Vec<HostId>,
    /// Per slot: its instance type's launch priority (0 first).
    priority: Vec<u16>,
    slots: Vec<Slot>,
    slot_az: Vec<AzId>,
    /// Launching or in service, per AZ.
    per_az: Vec<u32>,
    launching: u32,
    /// In service or failed (the group counts a failed instance until it replaces it).
    in_service: u32,
    /// No scale-out before this time (the newest instance's warm-up).
    warm_until: SimTime,
    low_datapoints: u32,
    pub waiting: VecDeque<Waiting>,
    retry_pending: bool,
    /// Per slot: the time its terminated instances ran.
    slot_time: Vec<SimTime>,
    /// The last metric published (100 before the first).
    pub last_metric: f64,
    /// Per slot: its Spot instance's pending interruption notice.
    pub notices: Vec<Option<crate::engine::EventId>>,
    /// Per slot: its instance got its notice and EC2 will reclaim it.
    pub reclaiming: Vec<bool>,
    /// Per slot: the pending registration of its launching instance.
    pub registrations: Vec<Option<crate::engine::EventId>>,
    /// Replacements the group could not launch yet (no AZ up, or no address): it launches them
    /// as soon as it can.
    pub owed: u32,
    /// AZ rebalancing: instances still to terminate for those launched in a returned AZ, while
    /// the group is larger than `rebalance_floor`.
    pub rebalance: u32,
    pub rebalance_floor: u32,
}

impl Asg {
    /// Launching plus in service: N, and the group's size as the ASG counts it.
    pub fn size(&self) -> u32 {
        self.launching + self.in_service
    }

    /// Instances out of placement that still hold their addresses: launched and not yet
    /// registered, draining before their termination, or failed and not yet replaced.
    pub fn unregistered_hosts(&self) -> impl Iterator<Item = HostId> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s, Slot::Launching { .. } | Slot::Draining { .. } | Slot::Failed { .. }))
            .map(|(i, _)| self.hosts[i])
    }

    /// The group's instances launching in `az`.
    pub fn launching_in(&self, az: AzId) -> Vec<HostId> {
        (0..self.slots.len())
            .filter(|&i| self.slot_az[i] == az && matches!(self.slots[i], Slot::Launching { .. }))
            .map(|i| self.hosts[i])
            .collect()
    }

    /// A launching instance that will never register (its AZ went down): the slot is free
    /// again, and the time it was billed is kept.
    pub fn launch_failed(&mut self, host: HostId, now: SimTime) {
        let i = self.slot_of(host);
        let Slot::Launching { launched_at } = self.slots[i] else { unreachable!("a launch failed for a slot not launching") };
        self.slots[i] = Slot::Off;
        self.per_az[self.slot_az[i].0 as usize] -= 1;
        self.launching -= 1;
        self.slot_time[i] = self.slot_time[i] + now.saturating_sub(launched_at);
    }

    /// The AZs the group has slots in, in id order.
    pub fn azs(&self) -> Vec<AzId> {
        let mut azs = self.slot_az.clone();
        azs.sort_unstable();
        azs.dedup();
        azs
    }

    /// Whether the group has a slot in `az`.
    pub fn spans(&self, az: AzId) -> bool {
        self.slot_az.contains(&az)
    }

    /// Instances (launching or in service) per AZ.
    pub fn count_in(&self, az: AzId) -> u32 {
        self.per_az[az.0 as usize]
    }

    pub fn in_service_hosts(&self) -> impl Iterator<Item = (HostId, SimTime)> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, s)| match *s {
            Slot::InService { launched_at } => Some((self.hosts[i], launched_at)),
            _ => None,
        })
    }

    /// The slot for a new instance in the AZ with the fewest instances (ties: the first AZ), if
    /// any AZ has a free slot. `skip`: AZs that cannot take one now.
    pub fn free_slot(&self, skip: u32) -> Option<HostId> {
        let mut azs = self.azs();
        azs.retain(|az| az.0 >= 32 || skip & (1 << az.0) == 0);
        azs.sort_by_key(|az| (self.per_az[az.0 as usize], az.0));
        for az in azs {
            // The highest-priority instance type with a free slot in the AZ.
            let free = (0..self.slots.len()).filter(|&i| self.slot_az[i] == az && self.slots[i] == Slot::Off);
            if let Some(i) = free.min_by_key(|&i| (self.priority[i], i)) {
                return Some(self.hosts[i]);
            }
        }
        None
    }

    pub fn launched(&mut self, host: HostId, now: SimTime, warmup: SimTime) {
        let i = self.slot_of(host);
        debug_assert_eq!(self.slots[i], Slot::Off);
        self.slots[i] = Slot::Launching { launched_at: now };
        self.per_az[self.slot_az[i].0 as usize] += 1;
        self.launching += 1;
        self.warm_until = self.warm_until.max(now + warmup);
    }

    pub fn registered(&mut self, host: HostId) {
        let i = self.slot_of(host);
        let Slot::Launching { launched_at } = self.slots[i] else { unreachable!("registered a slot that was not launching") };
        self.slots[i] = Slot::InService { launched_at };
        self.launching -= 1;
        self.in_service += 1;
    }

    /// `host`'s slot index.
    pub fn slot_of(&self, host: HostId) -> usize {
        self.hosts.binary_search(&host).expect("a host of this group")
    }

    /// An instance in service failed: it stays in the group's size until it is replaced.
    pub fn failed(&mut self, host: HostId) {
        let i = self.slot_of(host);
        let Slot::InService { launched_at } = self.slots[i] else { unreachable!("a slot not in service failed") };
        self.slots[i] = Slot::Failed { launched_at };
    }

    /// Whether `host` is one of this group's failed instances awaiting replacement.
    pub fn is_failed(&self, host: HostId) -> bool {
        self.hosts.binary_search(&host).is_ok_and(|i| matches!(self.slots[i], Slot::Failed { .. }))
    }

    /// Whether `host` is one of this group's draining instances.
    pub fn is_draining(&self, host: HostId) -> bool {
        self.hosts.binary_search(&host).is_ok_and(|i| matches!(self.slots[i], Slot::Draining { .. }))
    }

    /// An instance in service starts draining: it leaves the group's size at once.
    pub fn draining(&mut self, host: HostId) {
        let i = self.slot_of(host);
        let Slot::InService { launched_at } = self.slots[i] else { unreachable!("drained a slot not in service") };
        self.slots[i] = Slot::Draining { launched_at };
        self.per_az[self.slot_az[i].0 as usize] -= 1;
        self.in_service -= 1;
    }

    pub fn terminated(&mut self, host: HostId, now: SimTime) {
        let i = self.slot_of(host);
        let launched_at = match self.slots[i] {
            Slot::InService { launched_at } | Slot::Failed { launched_at } => {
                self.per_az[self.slot_az[i].0 as usize] -= 1;
                self.in_service -= 1;
                launched_at
            }
            Slot::Draining { launched_at } => launched_at,
            _ => unreachable!("terminated a slot not in service"),
        };
        self.slots[i] = Slot::Off;
        self.slot_time[i] = self.slot_time[i] + now.saturating_sub(launched_at);
    }

    /// Time the instances of `host`'s slot ran, up to `now`.
    pub fn instance_time_of(&self, host: HostId, now: SimTime) -> SimTime {
        self.slot_time_at(self.slot_of(host), now)
    }

    fn slot_time_at(&self, i: usize, now: SimTime) -> SimTime {
        self.slot_time[i] + self.slots[i].launched_at().map_or(SimTime::ZERO, |at| now.saturating_sub(at))
    }

    /// Instance time so far, including instances still running at `now`.
    pub fn instance_time_at(&self, now: SimTime) -> SimTime {
        (0..self.slots.len()).fold(SimTime::ZERO, |t, i| t + self.slot_time_at(i, now))
    }

    /// A host of each of the group's instance types, in priority order.
    pub fn type_hosts(&self) -> impl Iterator<Item = HostId> + '_ {
        let types = self.priority.iter().copied().max().map_or(0, |p| p + 1);
        (0..types).filter_map(move |p| self.priority.iter().position(|&q| q == p).map(|i| self.hosts[i]))
    }

    /// Instances to terminate at scale-in, one at a time: from the AZ with the most instances,
    /// the longest-running first (ties: lowest id); with managed termination protection only
    /// instances without tasks.
    pub fn victims(&self, cluster: &Cluster, count: u32, protected_busy: bool) -> Vec<HostId> {
        self.victims_in(cluster, count, protected_busy, |_| true)
    }

    /// [`Asg::victims`] among the instances of the AZs `az_ok` accepts.
    pub fn victims_in(&self, cluster: &Cluster, count: u32, protected_busy: bool, az_ok: impl Fn(AzId) -> bool) -> Vec<HostId> {
        let mut per_az = self.per_az.clone();
        let mut out = Vec::new();
        let mut candidates: Vec<(HostId, SimTime)> = self
            .in_service_hosts()
            .filter(|(h, _)| {
                let host = cluster.host(*h);
                (!protected_busy || host.task_count == 0) && az_ok(host.az)
            })
            .collect();
        while (out.len() as u32) < count && !candidates.is_empty() {
            let (pos, _) = candidates
                .iter()
                .enumerate()
                .min_by_key(|(_, (h, at))| (std::cmp::Reverse(per_az[cluster.host(*h).az.0 as usize]), *at, h.0))
                .expect("a candidate");
            let (h, _) = candidates.swap_remove(pos);
            per_az[cluster.host(h).az.0 as usize] -= 1;
            out.push(h);
        }
        out.sort_unstable_by_key(|h| h.0);
        out
    }

    pub fn warming(&self, now: SimTime) -> bool {
        now < self.warm_until
    }

    /// Whether a retry event is pending; sets it.
    pub fn want_retry(&mut self) -> bool {
        !std::mem::replace(&mut self.retry_pending, true)
    }

    pub fn retried(&mut self) {
        self.retry_pending = false;
    }
}

/// What the minute's evaluation decided for one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scaling {
    None,
    /// Raise the desired capacity to this size.
    Out(u32),
    /// Lower it to this size.
    In(u32),
}

pub(super) struct Capacity {
    pub asgs: Vec<Asg>,
    rng: ChaCha8Rng,
    /// Per workload with a strategy of several items: its tasks placed per item.
    placed: Vec<Vec<u32>>,
    /// Per host group: its provider, if any.
    provider_of_group: Vec<Option<u32>>,
    /// Fargate Spot interruption times: the `spot` stream.
    spot_rng: ChaCha8Rng,
    /// EC2 Spot interruption times: the `ec2_spot` stream.
    ec2_spot_rng: ChaCha8Rng,
}

impl Capacity {
    pub fn new(scenario: &Scenario, cluster: &Cluster, streams: &RngStreams) -> Option<Capacity> {
        let spec = &scenario.capacity;
        if spec.is_empty() {
            return None;
        }
        let mut asgs = Vec::new();
        for p in &spec.providers {
            let hosts: Vec<&crate::model::Host> = cluster.hosts.iter().filter(|h| p.host_groups.contains(&h.group)).collect();
            debug_assert!(hosts.windows(2).all(|w| w[0].id < w[1].id), "hosts in id order");
            let mut per_az = vec![0; cluster.azs.len()];
            let slots: Vec<Slot> = hosts
                .iter()
                .map(|h| {
                    if h.active {
                        per_az[h.az.0 as usize] += 1;
                        Slot::InService { launched_at: SimTime::ZERO }
                    } else {
                        Slot::Off
                    }
                })
                .collect();
            let in_service = slots.iter().filter(|s| **s != Slot::Off).count() as u32;
            asgs.push(Asg {
                hosts: hosts.iter().map(|h| h.id).collect(),
                priority: hosts
                    .iter()
                    .map(|h| p.host_groups.iter().position(|&g| g == h.group).expect("a group of the provider") as u16)
                    .collect(),
                slot_az: hosts.iter().map(|h| h.az).collect(),
                slots,
                per_az,
                launching: 0,
                in_service,
                warm_until: SimTime::ZERO,
                low_datapoints: 0,
                waiting: VecDeque::new(),
                retry_pending: false,
                slot_time: vec![SimTime::ZERO; hosts.len()],
                last_metric: 100.0,
                notices: vec![None; hosts.len()],
                reclaiming: vec![false; hosts.len()],
                registrations: vec![None; hosts.len()],
                owed: 0,
                rebalance: 0,
                rebalance_floor: 0,
            });
        }
        let placed = spec.workload_strategies.iter().map(|s| if s.len() > 1 { vec![0; s.len()] } else { Vec::new() }).collect();
        let provider_of_group = (0..scenario.host_groups.len() as u32).map(|g| spec.provider_of_group(g)).collect();
        Some(Capacity {
            asgs,
            rng: streams.stream("capacity", 0),
            placed,
            provider_of_group,
            spot_rng: streams.stream("spot", 0),
            ec2_spot_rng: streams.stream("ec2_spot", 0),
        })
    }

    /// Tasks waiting in PROVISIONING in the cluster.
    /// Takes `task` out of its provider's queue of tasks waiting for capacity, if it is in one.
    pub fn take_waiting(&mut self, task: TaskId) -> Option<Waiting> {
        self.asgs.iter_mut().find_map(|a| a.waiting.iter().position(|w| w.task == task).and_then(|pos| a.waiting.remove(pos)))
    }

    pub fn waiting_total(&self) -> u32 {
        self.asgs.iter().map(|a| a.waiting.len() as u32).sum()
    }

    /// Whether any provider scales (the minute's tick is needed).
    pub fn any_managed(scenario: &Scenario) -> bool {
        scenario.capacity.providers.iter().any(|p| p.managed_scaling)
    }

    pub fn provider_of_host_group(&self, group: u32) -> Option<u32> {
        self.provider_of_group[group as usize]
    }

    /// Whether `host` is draining before its termination.
    pub fn is_draining(&self, host: HostId) -> bool {
        self.asgs.iter().any(|a| a.is_draining(host))
    }

    /// The provider the workload's next task goes to (its strategy's split), or `None` for a
    /// launch-type workload.
    pub fn choose(&self, scenario: &Scenario, workload: u32) -> Option<u32> {
        let strategy = &scenario.capacity.workload_strategies[workload as usize];
        match strategy.len() {
            0 => None,
            1 => Some(strategy[0].provider),
            _ => {
                let i = crate::scenario::capacity::next_item(strategy, &self.placed[workload as usize]);
                Some(strategy[i].provider)
            }
        }
    }

    /// Whether `workload` splits its tasks over several providers (its counts are kept).
    pub fn splits(&self, workload: u32) -> bool {
        !self.placed[workload as usize].is_empty()
    }

    /// A task of `workload` started on (`delta` 1) or left (-1) `provider`: an Auto Scaling
    /// group's provider (`provider_of_host_group`), FARGATE or FARGATE_SPOT.
    pub fn placed_changed(&mut self, scenario: &Scenario, workload: u32, provider: Option<u32>, delta: i32) {
        let counts = &mut self.placed[workload as usize];
        let Some(provider) = provider.filter(|_| !counts.is_empty()) else { return };
        let strategy: &[StrategyItem] = &scenario.capacity.workload_strategies[workload as usize];
        if let Some(i) = strategy.iter().position(|s| s.provider == provider) {
            counts[i] = counts[i].checked_add_signed(delta).expect("placed counts stay positive");
        }
    }

    /// Time from a Spot task's start to its interruption notice (exponential, `rate` per hour).
    pub fn draw_interruption(&mut self, rate_per_hour: f64) -> SimTime {
        draw_exponential(&mut self.spot_rng, rate_per_hour)
    }

    /// How long an EC2 Spot instance runs before its notice, at `rate_per_hour`.
    pub fn draw_instance_interruption(&mut self, rate_per_hour: f64) -> SimTime {
        draw_exponential(&mut self.ec2_spot_rng, rate_per_hour)
    }

    /// How long a launched instance takes to register.
    pub fn draw_launch_time(&mut self, p: &CapacityProviderSpec) -> SimTime {
        draw(&mut self.rng, p.instance_launch_time)
    }

    pub fn draw_timeout(&mut self, range: (SimTime, SimTime)) -> SimTime {
        draw(&mut self.rng, range)
    }

    /// The minute's evaluation of group `i`: publishes the metric and says what to do.
    /// `needed`: instances the waiting tasks need (0: none waits, or none fits an instance).
    /// `busy`: in-service instances with at least one task.
    pub fn evaluate(&mut self, i: usize, p: &CapacityProviderSpec, needed: u32, busy: u32, now: SimTime) -> Scaling {
        let a = &mut self.asgs[i];
        let n = a.size();
        let m = if a.waiting.is_empty() {
            busy
        } else if needed == 0 {
            // Tasks wait that no instance of the group can ever take: the metric stays at 100.
            n
        } else if p.bin_pack_estimate {
            n + scale_out_step(needed, p.minimum_scaling_step_size, p.maximum_scaling_step_size)
        } else {
            n + p.minimum_scaling_step_size
        };
        let metric = reservation(m, n);
        a.last_metric = metric;
        let target = f64::from(p.target_capacity);
        if metric > target {
            a.low_datapoints = 0;
            if a.warming(now) {
                return Scaling::None;
            }
            let to = scale_out_to(m, n, p.target_capacity).min(p.max_size);
            if to > n { Scaling::Out(to) } else { Scaling::None }
        } else if metric < target {
            a.low_datapoints += 1;
            if a.low_datapoints < SCALE_IN_DATAPOINTS {
                return Scaling::None;
            }
            let to = scale_in_to(m, n, p.target_capacity).max(p.min_size);
            if to < n { Scaling::In(to) } else { Scaling::None }
        } else {
            a.low_datapoints = 0;
            Scaling::None
        }
    }
}

/// How far above its maximum size a group may grow while it rebalances its AZs: 10 %, at least
/// one instance.
pub fn rebalance_allowance(max_size: u32) -> u32 {
    max_size.div_ceil(10).max(1)
}

/// A wait until the next event of a Poisson process of `rate_per_hour`.
fn draw_exponential(rng: &mut ChaCha8Rng, rate_per_hour: f64) -> SimTime {
    let hours: f64 = rand_distr::Distribution::sample(&rand_distr::Exp1, rng);
    SimTime::from_secs_f64(hours / rate_per_hour * 3600.0)
}

fn draw(rng: &mut ChaCha8Rng, (min, max): (SimTime, SimTime)) -> SimTime {
    if max <= min { min } else { SimTime(min.0 + rng.random_range(0..=max.0 - min.0)) }
}

/// CapacityProviderReservation: M / N × 100, with 100 for an empty group that needs nothing and
/// 200 for an empty group that needs instances.
pub fn reservation(m: u32, n: u32) -> f64 {
    match (m, n) {
        (0, 0) => 100.0,
        (_, 0) => 200.0,
        _ => 100.0 * f64::from(m) / f64::from(n),
    }
}

/// Instances one scale-out adds for an estimate: the minimum step if the estimate is below it,
/// else the estimate up to the maximum step.
pub fn scale_out_step(estimate: u32, minimum: u32, maximum: u32) -> u32 {
    if estimate < minimum { minimum } else { estimate.min(maximum) }
}

/// Target tracking's new size on a high metric: the size at which M / size = target. From an
/// empty group the first scale-out is always 2 instances.
pub fn scale_out_to(m: u32, n: u32, target: u32) -> u32 {
    if n == 0 {
        return 2;
    }
    (u64::from(m) * 100).div_ceil(u64::from(target)) as u32
}

/// Target tracking's new size on a low metric, removing at most half the group in one step
/// (and at least one instance).
pub fn scale_in_to(m: u32, n: u32, target: u32) -> u32 {
    let tracked = (u64::from(m) * 100).div_ceil(u64::from(target)) as u32;
    let floor = n - (n / 2).max(1).min(n);
    tracked.max(floor)
}

/// What a task needs of an instance, for the scale-out estimate.
#[derive(Debug, Clone, Copy)]
pub struct Need<'a> {
    pub resources: Resources,
    pub eni: bool,
    pub ports: &'a [(Protocol, u16)],
}

/// Instances of one type the waiting tasks need, first fit in queue order over fresh instances
/// (CPU, memory, ENI slots, static ports). Tasks that fit no empty instance are left out.
pub fn instances_needed<'a>(tasks: impl Iterator<Item = Need<'a>>, registered: Resources, eni_slots: u32) -> u32 {
    struct Bin<'a> {
        free: Resources,
        enis: u32,
        ports: Vec<&'a [(Protocol, u16)]>,
    }
    let fits_empty = |n: &Need<'_>| n.resources.fits_in(registered) && (!n.eni || eni_slots > 0);
    let mut bins: Vec<Bin<'a>> = Vec::new();
    for t in tasks.filter(fits_empty) {
        let clash = |b: &Bin<'_>| b.ports.iter().any(|ps| ps.iter().any(|p| t.ports.contains(p)));
        let slot = bins.iter_mut().find(|b| t.resources.fits_in(b.free) && (!t.eni || b.enis < eni_slots) && !clash(b));
        let b = match slot {
            Some(b) => b,
            None => {
                bins.push(Bin { free: registered, enis: 0, ports: Vec::new() });
                bins.last_mut().expect("just pushed")
            }
        };
        b.free.cpu_units -= t.resources.cpu_units;
        b.free.memory_mib -= t.resources.memory_mib;
        b.enis += u32::from(t.eni);
        if !t.ports.is_empty() {
            b.ports.push(t.ports);
        }
    }
    bins.len() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reservation_metric_and_its_special_cases() {
        assert_eq!(reservation(0, 0), 100.0, "nothing needed, nothing running");
        assert_eq!(reservation(3, 0), 200.0, "tasks wait on an empty group");
        assert_eq!(reservation(10, 8), 125.0, "10 instances needed on 8");
        assert_eq!(reservation(49, 50), 98.0, "one empty instance out of 50");
        assert_eq!(reservation(50, 50), 100.0);
    }

    #[test]
    fn steps_are_clamped_to_the_minimum_and_maximum() {
        assert_eq!(scale_out_step(1, 3, 10), 3);
        assert_eq!(scale_out_step(5, 3, 10), 5);
        assert_eq!(scale_out_step(50, 3, 10), 10);
    }

    #[test]
    fn target_tracking_sizes() {
        assert_eq!(scale_out_to(5, 0, 100), 2, "the first step from zero is two instances");
        assert_eq!(scale_out_to(10, 8, 100), 10);
        // Ten busy instances at target 90: ceil(10 / 0.9) = 12.
        assert_eq!(scale_out_to(10, 10, 90), 12);
        assert_eq!(scale_in_to(49, 50, 100), 49);
        // 2 busy of 40: at most half goes in one step.
        assert_eq!(scale_in_to(2, 40, 100), 20);
        assert_eq!(scale_in_to(0, 1, 100), 0);
        assert_eq!(scale_in_to(0, 3, 100), 2);
    }

    #[test]
    fn first_fit_counts_instances_for_the_waiting_tasks() {
        let reg = Resources { cpu_units: 4096, memory_mib: 8192 };
        let task = |cpu, mem| Need { resources: Resources { cpu_units: cpu, memory_mib: mem }, eni: false, ports: &[] };
        // Ten 1-vCPU tasks on 4-vCPU instances: 3.
        assert_eq!(instances_needed((0..10).map(|_| task(1024, 1024)), reg, 3), 3);
        // One that fits no instance is left out.
        assert_eq!(instances_needed([task(8192, 512), task(1024, 512)].into_iter(), reg, 3), 1);
        // awsvpc: 3 ENI slots per instance.
        let eni = Need { eni: true, ..task(256, 256) };
        assert_eq!(instances_needed((0..7).map(|_| eni), reg, 3), 3);
        // The same static port twice never shares an instance.
        let port = [(Protocol::Tcp, 80)];
        let web = Need { ports: &port, ..task(256, 256) };
        assert_eq!(instances_needed((0..4).map(|_| web), reg, 3), 4);
    }
}
