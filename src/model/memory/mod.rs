//! Container memory: usage processes, the three levels at which a limit is enforced, and the OOM
//! killer's choice of victim.
//!
//! ECS maps a container's `memory` to Docker's hard limit (cgroup `memory.max`) and its
//! `memoryReservation` to the soft limit (`memory.low`); a task-level `memory` is a hard limit on
//! the task's cgroup, always set on Fargate
//! (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html).
//! So, whenever a container's usage changes:
//!
//! 1. a container above its hard `memory` (plus its `maxSwap`, if it may swap) is killed;
//! 2. a task whose containers together use more than the task's `memory` loses its largest
//!    container (the cgroup OOM killer uses the same `oom_score` as the global one);
//! 3. a host whose containers use more than its physical memory less what the OS and agent use
//!    swaps if its containers may swap that much, and otherwise loses a victim chosen by the
//!    [`VictimPolicy`], repeatedly, until the rest fits.
//!
//! A killed container exits with code 137 and the reason
//! `OutOfMemoryError: Container killed due to memory usage`; if it is essential, its task stops
//! (the other containers stop with it: their memory is released at once).
//!
//! The model owns its state and never the event queue: each call says which usage changes to
//! schedule next and what was killed, in a caller-owned [`MemoryOutcome`] that is cleared and
//! reused, so a usage-change event allocates nothing. Checking a host after a change costs
//! O(containers on that host).
//!
//! Architecture invariant: per host, the usage the model tracks equals the sum over its live
//! containers (`check_invariants`; asserted after every check in debug builds).

mod usage;
mod victim;

pub use usage::{Movement, SizeDistribution, Spike, UsageProcess, UsageState};
pub use victim::{Candidate, VictimPolicy, choose};

use rand_chacha::ChaCha8Rng;

use crate::engine::{RngStreams, SimTime};
use crate::model::taskdef::{ContainerDefinition, TaskDefinition};
use crate::model::{HostId, TaskId};

/// Exit code of an OOM-killed container: 128 + SIGKILL.
pub const OOM_EXIT_CODE: i32 = 137;
/// The container reason the ECS agent reports when Docker says `OOMKilled`.
pub const OOM_REASON: &str = "OutOfMemoryError: Container killed due to memory usage";
/// The name of the RNG stream family that drives usage processes (one stream per container).
pub const USAGE_STREAM: &str = "memory-usage";

/// Where a limit was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OomLevel {
    /// The container's own hard `memory`.
    Container,
    /// The task's `memory` (the task cgroup).
    Task,
    /// The host's physical memory (the global OOM killer).
    Host,
}

impl OomLevel {
    pub const ALL: [OomLevel; 3] = [OomLevel::Container, OomLevel::Task, OomLevel::Host];

    pub fn as_str(self) -> &'static str {
        match self {
            OomLevel::Container => "container",
            OomLevel::Task => "task",
            OomLevel::Host => "host",
        }
    }
}

/// What the model needs to know about one container of a task definition.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerMemorySpec {
    /// `memory`: the hard limit.
    pub hard_limit_mib: Option<u32>,
    /// `memoryReservation`, else `memory`, else 0: what ECS reserves for it.
    pub reservation_mib: u32,
    /// Swap it may use on EC2: `maxSwap`, or 0 when unset or when `swappiness` is 0 (a cgroup
    /// with swappiness 0 does not swap at all).
    pub max_swap_mib: u32,
    pub essential: bool,
    /// Index into the model's processes; `None` keeps usage constant at `reservation_mib`.
    pub process: Option<u32>,
}

impl ContainerMemorySpec {
    pub fn from_definition(c: &ContainerDefinition, process: Option<u32>) -> ContainerMemorySpec {
        // ECS omits maxSwap → the instance's swap configuration, and ECS-optimized AMIs have no
        // swap (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-swap.html).
        let max_swap_mib = if c.swappiness == Some(0) { 0 } else { c.max_swap_mib.unwrap_or(0) };
        ContainerMemorySpec {
            hard_limit_mib: c.memory_mib,
            reservation_mib: c.memory_reservation_mib.or(c.memory_mib).unwrap_or(0),
            max_swap_mib,
            essential: c.essential,
            process,
        }
    }
}

/// What the model needs to know about one task definition.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskMemorySpec {
    /// Task-level `memory` (always set on Fargate).
    pub task_limit_mib: Option<u32>,
    pub containers: Vec<ContainerMemorySpec>,
}

impl TaskMemorySpec {
    /// `process_of(container name)` gives the usage process the scenario sets for it.
    pub fn from_definition(td: &TaskDefinition, process_of: impl Fn(&str) -> Option<u32>) -> TaskMemorySpec {
        TaskMemorySpec {
            task_limit_mib: td.memory_mib,
            containers: td.containers.iter().map(|c| ContainerMemorySpec::from_definition(c, process_of(&c.name))).collect(),
        }
    }
}

/// One OOM kill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OomKill {
    pub task: TaskId,
    pub container: u16,
    pub level: OomLevel,
    /// The victim's usage when it died.
    pub usage_mib: u32,
    /// It was essential: its task stops (stop code `EssentialContainerExited`).
    pub stops_task: bool,
}

/// A usage change to schedule: call [`MemoryModel::change`] for `(task, container)` at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageChange {
    pub task: TaskId,
    pub container: u16,
    pub at: SimTime,
}

/// A container started or stopped swapping (its work slows down while it swaps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapChange {
    pub task: TaskId,
    pub container: u16,
    pub swapping: bool,
}

/// What one call did, for the caller to act on. Cleared at the start of every call.
#[derive(Debug, Clone, Default)]
pub struct MemoryOutcome {
    pub kills: Vec<OomKill>,
    pub next_changes: Vec<UsageChange>,
    pub swap_changes: Vec<SwapChange>,
}

impl MemoryOutcome {
    fn clear(&mut self) {
        self.kills.clear();
        self.next_changes.clear();
        self.swap_changes.clear();
    }
}

#[derive(Debug, Clone)]
struct ContainerMemory {
    spec: ContainerMemorySpec,
    state: Option<UsageState>,
    rng: Option<ChaCha8Rng>,
    usage_mib: u32,
    /// Usage less what its own limit pushed into swap.
    ram_mib: u32,
    swapped_mib: u32,
    alive: bool,
    /// As last reported in a [`SwapChange`].
    swapping: bool,
}

impl ContainerMemory {
    fn swap_room_mib(&self) -> u32 {
        self.spec.max_swap_mib - self.swapped_mib
    }
}

#[derive(Debug, Clone)]
struct TaskMemory {
    task: TaskId,
    /// The task's number in arrival order: its containers' usage streams and the victim
    /// tie-break follow it (the id is a reusable slot).
    serial: u32,
    host: Option<HostId>,
    task_limit_mib: Option<u32>,
    ram_mib: u64,
    /// Position in its host's task list.
    host_pos: u32,
    alive: bool,
    containers: Vec<ContainerMemory>,
}

#[derive(Debug, Clone, Default)]
struct HostMemory {
    capacity_mib: u64,
    usage_mib: u64,
    ram_mib: u64,
    /// Σ over live containers of the swap each may still take.
    swap_room_mib: u64,
    swapping: bool,
    tasks: Vec<u32>,
}

const NO_SLOT: u32 = u32::MAX;

/// Memory usage and enforcement for every running task of a run.
#[derive(Debug, Clone)]
pub struct MemoryModel {
    policy: VictimPolicy,
    processes: Vec<UsageProcess>,
    specs: Vec<TaskMemorySpec>,
    hosts: Vec<HostMemory>,
    tasks: Vec<TaskMemory>,
    free_slots: Vec<u32>,
    /// Task id → slot in `tasks`.
    slot_of: Vec<u32>,
}

impl MemoryModel {
    /// `specs` is indexed by task definition, `host_capacity_mib` by host: physical memory less
    /// what the OS and agent use.
    pub fn new(policy: VictimPolicy, processes: Vec<UsageProcess>, specs: Vec<TaskMemorySpec>, host_capacity_mib: &[u64]) -> MemoryModel {
        for spec in &specs {
            for c in &spec.containers {
                assert!(c.process.is_none_or(|p| (p as usize) < processes.len()), "container process index out of range");
            }
        }
        let hosts = host_capacity_mib.iter().map(|&capacity_mib| HostMemory { capacity_mib, ..HostMemory::default() }).collect();
        MemoryModel { policy, processes, specs, hosts, tasks: Vec::new(), free_slots: Vec::new(), slot_of: Vec::new() }
    }

    pub fn policy(&self) -> VictimPolicy {
        self.policy
    }

    /// A task's containers start (the task reached RUNNING) on `host`, or on Fargate (`None`:
    /// its own VM, so no host level and no swap). Draws each container's start usage from its
    /// own stream, enforces every level, and lists the first usage change of each container.
    /// `serial`: the task's number in arrival order (its streams and the victim tie-break
    /// follow it; `task` is a reusable slot).
    pub fn start_task(
        &mut self,
        (task, serial): (TaskId, u32),
        task_definition: u32,
        host: Option<HostId>,
        now: SimTime,
        streams: &RngStreams,
        out: &mut MemoryOutcome,
    ) {
        out.clear();
        let spec = &self.specs[task_definition as usize];
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                self.tasks.push(TaskMemory {
                    task,
                    serial,
                    host: None,
                    task_limit_mib: None,
                    ram_mib: 0,
                    host_pos: 0,
                    alive: false,
                    containers: Vec::new(),
                });
                (self.tasks.len() - 1) as u32
            }
        };
        let t = &mut self.tasks[slot as usize];
        t.task = task;
        t.serial = serial;
        t.host = host;
        t.task_limit_mib = spec.task_limit_mib;
        t.ram_mib = 0;
        t.alive = true;
        t.containers.clear();
        for (i, c) in spec.containers.iter().enumerate() {
            let mut c = c.clone();
            if host.is_none() {
                c.max_swap_mib = 0;
            }
            let (state, rng) = match c.process {
                None => (None, None),
                Some(p) => {
                    let mut rng = streams.stream(USAGE_STREAM, (u64::from(serial) << 16) | i as u64);
                    let state = UsageState::start(&self.processes[p as usize], &mut rng, now);
                    let next = state.next_change_at();
                    if let Some(at) = next {
                        out.next_changes.push(UsageChange { task, container: i as u16, at });
                    }
                    // A container whose usage never moves needs no stream after its start.
                    (Some(state), next.map(|_| rng))
                }
            };
            t.containers.push(ContainerMemory {
                spec: c,
                state,
                rng,
                usage_mib: 0,
                ram_mib: 0,
                swapped_mib: 0,
                alive: true,
                swapping: false,
            });
        }
        if let Some(h) = host {
            let hm = &mut self.hosts[h.index()];
            t.host_pos = hm.tasks.len() as u32;
            hm.tasks.push(slot);
            // A container at zero usage holds no memory but brings its swap room.
            hm.swap_room_mib += t.containers.iter().map(|c| u64::from(c.spec.max_swap_mib)).sum::<u64>();
        }
        let id = task.0 as usize;
        if self.slot_of.len() <= id {
            self.slot_of.resize(id + 1, NO_SLOT);
        }
        assert_eq!(self.slot_of[id], NO_SLOT, "task {id} started twice in the memory model");
        self.slot_of[id] = slot;
        // Usage goes in container by container, then each level is checked once.
        for i in 0..self.tasks[slot as usize].containers.len() {
            let c = &self.tasks[slot as usize].containers[i];
            let usage = match &c.state {
                Some(s) => s.usage_mib(),
                None => c.spec.reservation_mib,
            };
            self.set_usage(slot, i, usage);
        }
        for i in 0..self.tasks[slot as usize].containers.len() {
            self.check_container(slot, i, out);
        }
        self.check_task(slot, out);
        if let Some(h) = host {
            self.check_host(h, out);
        }
        // Changes of containers that died at the start are not worth scheduling.
        let tasks = &self.tasks;
        out.next_changes.retain(|ch| tasks[slot as usize].containers[ch.container as usize].alive);
        self.debug_check(host);
    }

    /// A usage change of one container is due at `now` (the event a [`UsageChange`] asked for).
    /// Does nothing if the task has stopped or the container is dead since it was scheduled.
    pub fn change(&mut self, task: TaskId, container: u16, now: SimTime, out: &mut MemoryOutcome) {
        out.clear();
        let Some(slot) = self.slot(task) else { return };
        let i = container as usize;
        let t = &mut self.tasks[slot as usize];
        if !t.alive || !t.containers[i].alive {
            return;
        }
        let host = t.host;
        let c = &mut t.containers[i];
        let (Some(state), Some(rng), Some(p)) = (c.state.as_mut(), c.rng.as_mut(), c.spec.process) else { return };
        debug_assert_eq!(state.next_change_at(), Some(now), "usage change at the wrong time");
        state.advance(&self.processes[p as usize], rng, now);
        let usage = state.usage_mib();
        if let Some(at) = state.next_change_at() {
            out.next_changes.push(UsageChange { task, container, at });
        }
        self.set_usage(slot, i, usage);
        self.check_container(slot, i, out);
        self.check_task(slot, out);
        if let Some(h) = host {
            self.check_host(h, out);
        }
        if !self.tasks[slot as usize].containers[i].alive {
            out.next_changes.clear();
        }
        self.debug_check(host);
    }

    /// The task stopped (for any reason, including an OOM kill the model reported): its memory
    /// is released. Unknown tasks are ignored. Swap changes caused by the release (the host stops
    /// swapping) are reported in `out`.
    pub fn stop_task(&mut self, task: TaskId, out: &mut MemoryOutcome) {
        out.clear();
        let Some(slot) = self.slot(task) else { return };
        self.release_task(slot);
        let host = self.tasks[slot as usize].host;
        if let Some(h) = host {
            let pos = self.tasks[slot as usize].host_pos as usize;
            let hm = &mut self.hosts[h.index()];
            debug_assert_eq!(hm.tasks[pos], slot);
            hm.tasks.swap_remove(pos);
            if let Some(&moved) = hm.tasks.get(pos) {
                self.tasks[moved as usize].host_pos = pos as u32;
            }
            self.check_host(h, out);
        }
        self.slot_of[task.0 as usize] = NO_SLOT;
        self.free_slots.push(slot);
        self.debug_check(host);
    }

    /// Usage of the live containers on a host, in MiB.
    pub fn host_usage_mib(&self, host: HostId) -> u64 {
        self.hosts[host.index()].usage_mib
    }

    /// Physical memory less OS and agent, in MiB.
    pub fn host_capacity_mib(&self, host: HostId) -> u64 {
        self.hosts[host.index()].capacity_mib
    }

    /// Whether the host is absorbing pressure with swap.
    pub fn host_swapping(&self, host: HostId) -> bool {
        self.hosts[host.index()].swapping
    }

    /// The host a task the model knows runs on (`None` on Fargate or if unknown).
    pub fn task_host(&self, task: TaskId) -> Option<HostId> {
        self.tasks[self.slot(task)? as usize].host
    }

    /// A running task's usage (its live containers), in MiB; `None` if the model does not know it.
    pub fn task_usage_mib(&self, task: TaskId) -> Option<u64> {
        let t = &self.tasks[self.slot(task)? as usize];
        Some(t.containers.iter().filter(|c| c.alive).map(|c| u64::from(c.usage_mib)).sum())
    }

    /// A container's usage, in MiB; `None` if its task is unknown or it is dead.
    pub fn container_usage_mib(&self, task: TaskId, container: u16) -> Option<u32> {
        let t = &self.tasks[self.slot(task)? as usize];
        t.containers.get(container as usize).filter(|c| c.alive).map(|c| c.usage_mib)
    }

    /// Whether a live container swaps.
    pub fn container_swapping(&self, task: TaskId, container: u16) -> bool {
        self.slot(task).is_some_and(|s| self.tasks[s as usize].containers.get(container as usize).is_some_and(|c| c.alive && c.swapping))
    }

    /// Conservation: per host and per task, the tracked sums equal the sums over live containers.
    pub fn check_invariants(&self) -> Result<(), String> {
        for h in 0..self.hosts.len() {
            self.check_host_sums(HostId(h as u32))?;
        }
        for (slot, t) in self.tasks.iter().enumerate() {
            if self.slot(t.task) == Some(slot as u32) {
                let ram: u64 = t.containers.iter().filter(|c| c.alive).map(|c| u64::from(c.ram_mib)).sum();
                if ram != t.ram_mib {
                    return Err(format!("task {}: tracked {} MiB, containers hold {ram} MiB", t.task.0, t.ram_mib));
                }
            }
        }
        Ok(())
    }

    fn check_host_sums(&self, host: HostId) -> Result<(), String> {
        let hm = &self.hosts[host.index()];
        let (mut usage, mut ram, mut room) = (0u64, 0u64, 0u64);
        for &slot in &hm.tasks {
            for c in self.tasks[slot as usize].containers.iter().filter(|c| c.alive) {
                usage += u64::from(c.usage_mib);
                ram += u64::from(c.ram_mib);
                room += u64::from(c.swap_room_mib());
            }
        }
        if (usage, ram, room) != (hm.usage_mib, hm.ram_mib, hm.swap_room_mib) {
            return Err(format!(
                "host {}: tracked usage/ram/swap room {}/{}/{} MiB, containers hold {usage}/{ram}/{room} MiB",
                host.0, hm.usage_mib, hm.ram_mib, hm.swap_room_mib
            ));
        }
        if hm.ram_mib > hm.capacity_mib + hm.swap_room_mib && !hm.tasks.is_empty() {
            return Err(format!("host {}: {} MiB in RAM above its {} MiB after enforcement", host.0, hm.ram_mib, hm.capacity_mib));
        }
        Ok(())
    }

    fn debug_check(&self, host: Option<HostId>) {
        if cfg!(debug_assertions)
            && let Some(h) = host
            && let Err(e) = self.check_host_sums(h)
        {
            panic!("memory conservation broken: {e}");
        }
    }

    fn slot(&self, task: TaskId) -> Option<u32> {
        self.slot_of.get(task.0 as usize).copied().filter(|&s| s != NO_SLOT)
    }

    /// Sets a live container's usage and keeps every sum right (no enforcement).
    fn set_usage(&mut self, slot: u32, i: usize, usage_mib: u32) {
        let t = &mut self.tasks[slot as usize];
        let c = &mut t.containers[i];
        let (old_usage, old_ram, old_room) = (c.usage_mib, c.ram_mib, c.swap_room_mib());
        c.usage_mib = usage_mib;
        c.ram_mib = c.spec.hard_limit_mib.map_or(usage_mib, |limit| usage_mib.min(limit));
        // Above the hard limit the excess is in swap, as far as maxSwap allows (the container
        // check kills it beyond that); the swap room cannot go below zero.
        c.swapped_mib = (usage_mib - c.ram_mib).min(c.spec.max_swap_mib);
        let (new_ram, new_room) = (c.ram_mib, c.swap_room_mib());
        t.ram_mib = t.ram_mib - u64::from(old_ram) + u64::from(new_ram);
        if let Some(h) = t.host {
            let hm = &mut self.hosts[h.index()];
            hm.usage_mib = hm.usage_mib - u64::from(old_usage) + u64::from(usage_mib);
            hm.ram_mib = hm.ram_mib - u64::from(old_ram) + u64::from(new_ram);
            hm.swap_room_mib = hm.swap_room_mib - u64::from(old_room) + u64::from(new_room);
        }
    }

    /// Level 1: the container's own hard limit (plus its swap).
    fn check_container(&mut self, slot: u32, i: usize, out: &mut MemoryOutcome) {
        let c = &self.tasks[slot as usize].containers[i];
        if !c.alive {
            return;
        }
        if let Some(limit) = c.spec.hard_limit_mib
            && u64::from(c.usage_mib) > u64::from(limit) + u64::from(c.spec.max_swap_mib)
        {
            self.kill(slot, i, OomLevel::Container, out);
            return;
        }
        self.update_swapping(slot, i, out);
    }

    /// Level 2: the task's `memory`; the largest container inside the task dies until it fits.
    fn check_task(&mut self, slot: u32, out: &mut MemoryOutcome) {
        loop {
            let t = &self.tasks[slot as usize];
            let Some(limit) = t.task_limit_mib else { return };
            if !t.alive || t.ram_mib <= u64::from(limit) {
                return;
            }
            let victim = choose(VictimPolicy::Largest, candidates(slot, t)).expect("a task over its limit has a live container");
            self.kill(slot, victim.order.1 as usize, OomLevel::Task, out);
        }
    }

    /// Level 3: the host's memory; swap if the containers may absorb the excess, else kill by
    /// the policy until the rest fits.
    fn check_host(&mut self, host: HostId, out: &mut MemoryOutcome) {
        loop {
            let hm = &self.hosts[host.index()];
            let excess = hm.ram_mib.saturating_sub(hm.capacity_mib);
            if excess <= hm.swap_room_mib {
                self.set_host_swapping(host, excess > 0, out);
                return;
            }
            let tasks = &self.tasks;
            let victim = choose(self.policy, hm.tasks.iter().flat_map(|&s| candidates(s, &tasks[s as usize])))
                .expect("a host over its memory has a live container");
            self.kill(victim.slot, victim.order.1 as usize, OomLevel::Host, out);
        }
    }

    fn set_host_swapping(&mut self, host: HostId, swapping: bool, out: &mut MemoryOutcome) {
        if self.hosts[host.index()].swapping == swapping {
            return;
        }
        self.hosts[host.index()].swapping = swapping;
        for k in 0..self.hosts[host.index()].tasks.len() {
            let slot = self.hosts[host.index()].tasks[k];
            for i in 0..self.tasks[slot as usize].containers.len() {
                self.update_swapping(slot, i, out);
            }
        }
    }

    /// Reports a change of a container's swapping status.
    fn update_swapping(&mut self, slot: u32, i: usize, out: &mut MemoryOutcome) {
        let t = &mut self.tasks[slot as usize];
        let host_swapping = t.host.is_some_and(|h| self.hosts[h.index()].swapping);
        let c = &mut t.containers[i];
        let swapping = c.alive && (c.swapped_mib > 0 || (host_swapping && c.spec.max_swap_mib > 0));
        if swapping != c.swapping {
            c.swapping = swapping;
            out.swap_changes.push(SwapChange { task: t.task, container: i as u16, swapping });
        }
    }

    fn kill(&mut self, slot: u32, i: usize, level: OomLevel, out: &mut MemoryOutcome) {
        let t = &self.tasks[slot as usize];
        let c = &t.containers[i];
        debug_assert!(t.alive && c.alive);
        out.kills.push(OomKill { task: t.task, container: i as u16, level, usage_mib: c.usage_mib, stops_task: c.spec.essential });
        if c.spec.essential {
            self.release_task(slot);
        } else {
            self.release_container(slot, i, out);
        }
    }

    fn release_container(&mut self, slot: u32, i: usize, out: &mut MemoryOutcome) {
        self.bury(slot, i);
        self.update_swapping(slot, i, out);
    }

    /// A live container dies: its usage and its swap room leave every sum.
    fn bury(&mut self, slot: u32, i: usize) {
        self.set_usage(slot, i, 0);
        let t = &mut self.tasks[slot as usize];
        let c = &mut t.containers[i];
        c.alive = false;
        if let Some(h) = t.host {
            self.hosts[h.index()].swap_room_mib -= u64::from(c.spec.max_swap_mib);
        }
    }

    /// Every container of the task stops; swap statuses are not reported (the task is gone).
    fn release_task(&mut self, slot: u32) {
        if !self.tasks[slot as usize].alive {
            return;
        }
        for i in 0..self.tasks[slot as usize].containers.len() {
            if self.tasks[slot as usize].containers[i].alive {
                self.bury(slot, i);
                self.tasks[slot as usize].containers[i].swapping = false;
            }
        }
        self.tasks[slot as usize].alive = false;
    }
}

fn candidates(slot: u32, t: &TaskMemory) -> impl Iterator<Item = Candidate> + '_ {
    t.containers.iter().enumerate().filter(|(_, c)| c.alive && t.alive).map(move |(i, c)| Candidate {
        slot,
        order: (t.serial, i as u16),
        usage_mib: c.usage_mib,
        reservation_mib: c.spec.reservation_mib,
    })
}

#[cfg(test)]
mod tests;
