//! CPU: shares, caps and work measured in CPU-seconds.
//!
//! ECS counts 1,024 CPU units per vCPU. A container's `cpu` becomes Docker's `--cpu-shares`, a
//! relative weight, not a cap: busy containers divide CPU in proportion to their shares, and an
//! idle container's share goes to the busy ones; `cpu` unset, 0 or 1 is passed as 2 shares, the
//! kernel minimum. A task-level `cpu` on EC2 Linux is a hard cap (CFS quota); without one, the
//! task's cgroup weighs the sum of its containers' `cpu` and may use idle host CPU. On Fargate the
//! task's `cpu` is its VM's size
//! (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html,
//! "cpu"; https://docs.docker.com/engine/containers/resource_constraints/#cpu).
//!
//! So the rate of every container follows from two rounds of weighted max-min division
//! ([`share_out`]): the host's CPU among its tasks (weights: task shares; demand: what the task
//! wants, capped by its `cpu`), then each task's allocation among its containers (weights:
//! container shares). A task with work (CPU-seconds) progresses at the sum of its containers'
//! rates, times a speed factor (below 1 while a container swaps).
//!
//! The model owns its state and never the event queue. Whenever a host's load changes (a task
//! starts or stops, a container's demand or speed changes) only that host is recomputed — O(tasks
//! and containers on it) — and the tasks whose completion time moved are written into a
//! caller-owned buffer that is cleared and reused.

use crate::engine::SimTime;
use crate::model::taskdef::TaskDefinition;
use crate::model::{HostId, TaskId};

/// CPU units per vCPU.
pub const CPU_UNITS_PER_VCPU: u32 = 1024;
/// The fewest shares a container gets (`cpu` unset, 0 or 1 → 2).
pub const MIN_CPU_SHARES: u32 = 2;

/// The `--cpu-shares` ECS gives a container with this `cpu` value.
pub fn container_shares(cpu_units: u32) -> u32 {
    cpu_units.max(MIN_CPU_SHARES)
}

/// Weighted max-min division of `capacity` among claimants with `demands` and `weights`
/// (water-filling): nobody gets more than it asks for, and what the satisfied leave is shared
/// by weight among the rest. Writes `alloc` (same length as `demands`); `order` is scratch.
///
/// Sums run in a fixed order (by demand per weight, then index), so the result is deterministic.
///
/// ```
/// use clustersim::model::cpu::share_out;
/// let mut alloc = [0.0; 3];
/// // 1,024 units; the first wants only 100, the other two split the rest 1 : 3.
/// share_out(1024.0, &[100.0, 2048.0, 2048.0], &[1.0, 1.0, 3.0], &mut alloc, &mut Vec::new());
/// assert_eq!(alloc, [100.0, 231.0, 693.0]);
/// ```
pub fn share_out(capacity: f64, demands: &[f64], weights: &[f64], alloc: &mut [f64], order: &mut Vec<u32>) {
    debug_assert!(demands.len() == weights.len() && demands.len() == alloc.len());
    order.clear();
    let mut weight_left = 0.0;
    for (i, (&d, &w)) in demands.iter().zip(weights).enumerate() {
        alloc[i] = 0.0;
        if d > 0.0 {
            debug_assert!(w > 0.0, "a claimant with demand has a positive weight");
            order.push(i as u32);
            weight_left += w;
        }
    }
    order.sort_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        (demands[a] / weights[a]).total_cmp(&(demands[b] / weights[b])).then(a.cmp(&b))
    });
    let mut left = capacity.max(0.0);
    for (k, &i) in order.iter().enumerate() {
        let i = i as usize;
        let per_weight = left / weight_left;
        if demands[i] <= per_weight * weights[i] {
            alloc[i] = demands[i];
            left -= demands[i];
            weight_left -= weights[i];
        } else {
            // Everyone from here on wants more than its fair part: all get exactly that part.
            for &j in &order[k..] {
                alloc[j as usize] = per_weight * weights[j as usize];
            }
            return;
        }
    }
}

/// One container as the CPU model sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerCpuSpec {
    pub shares: u32,
    /// CPU units it would use with nothing holding it back (busy fraction × vCPUs × 1,024).
    pub demand_units: f64,
}

/// One task definition as the CPU model sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskCpuSpec {
    /// Task-level `cpu`: a hard cap.
    pub cap_units: Option<u32>,
    /// Weight of the task's cgroup against the host's other tasks.
    pub shares: u32,
    pub containers: Vec<ContainerCpuSpec>,
    /// Work each task must do before it completes, in CPU-seconds; `None` = runs by time.
    pub work_cpu_seconds: Option<f64>,
}

impl TaskCpuSpec {
    /// `demand_units(container name)` is the container's demand set by the scenario (0 = idle).
    pub fn from_definition(td: &TaskDefinition, demand_units: impl Fn(&str) -> f64, work_cpu_seconds: Option<f64>) -> TaskCpuSpec {
        let containers: Vec<ContainerCpuSpec> = td
            .containers
            .iter()
            .map(|c| ContainerCpuSpec { shares: container_shares(c.cpu_units), demand_units: demand_units(&c.name) })
            .collect();
        // Without a task size the agent gives the task cgroup the sum of its containers' cpu.
        let summed = td.containers.iter().map(|c| c.cpu_units).fold(0, u32::saturating_add);
        TaskCpuSpec { cap_units: td.cpu_units, shares: td.cpu_units.unwrap_or(summed).max(MIN_CPU_SHARES), containers, work_cpu_seconds }
    }
}

/// A task's completion time moved: `None` when it cannot progress (rate 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinishChange {
    pub task: TaskId,
    pub finish_at: Option<SimTime>,
}

/// What a stopped task had done.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuEnd {
    /// CPU-seconds of its work done (0 for tasks without work).
    pub done_cpu_seconds: f64,
    /// CPU-seconds still to do (lost if it was killed).
    pub remaining_cpu_seconds: f64,
    /// How long its work took so far / would take alone on an idle host (tasks with work; the
    /// second is `None` if it wanted no CPU when it started).
    pub elapsed: SimTime,
    pub alone: Option<SimTime>,
}

impl CpuEnd {
    /// Time taken over time alone: the slowdown of completed work (≥ 1 up to rounding).
    pub fn slowdown(&self) -> Option<f64> {
        self.alone.filter(|a| a.0 > 0).map(|a| self.elapsed.0 as f64 / a.0 as f64)
    }
}

const UNIT_US_PER_CPU_SECOND: f64 = CPU_UNITS_PER_VCPU as f64 * SimTime::US_PER_SECOND as f64;
const NO_SLOT: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct TaskCpu {
    task: TaskId,
    task_definition: u32,
    host: Option<HostId>,
    host_pos: u32,
    /// Per container: 0 once dead (it demands nothing).
    demand_units: Vec<f64>,
    /// Per container: work done per CPU unit received (1, or less while swapping).
    speed: Vec<f64>,
    alloc_units: Vec<f64>,
    /// What it would get alone: min(cap, demand, host).
    want_units: f64,
    /// Work progress per µs, in CPU units: Σ alloc × speed.
    rate_units: f64,
    /// Work left, in CPU-unit-µs.
    remaining: Option<f64>,
    work_total: f64,
    last_update: SimTime,
    finish_at: Option<SimTime>,
    started_at: SimTime,
    /// The rate it got at the start if it had been alone (its demand, capped).
    alone_rate_units: f64,
}

#[derive(Debug, Clone, Default)]
struct HostCpu {
    capacity_units: f64,
    tasks: Vec<u32>,
}

#[derive(Debug, Clone, Default)]
struct Scratch {
    demands: Vec<f64>,
    weights: Vec<f64>,
    alloc: Vec<f64>,
    order: Vec<u32>,
}

/// CPU rates and work progress of every running task of a run.
#[derive(Debug, Clone)]
pub struct CpuModel {
    specs: Vec<TaskCpuSpec>,
    hosts: Vec<HostCpu>,
    tasks: Vec<TaskCpu>,
    free_slots: Vec<u32>,
    slot_of: Vec<u32>,
    hosts_scratch: Scratch,
    task_scratch: Scratch,
}

impl CpuModel {
    /// `specs` is indexed by task definition, `host_capacity_units` by host (vCPUs × 1,024).
    pub fn new(specs: Vec<TaskCpuSpec>, host_capacity_units: &[u32]) -> CpuModel {
        let hosts = host_capacity_units.iter().map(|&c| HostCpu { capacity_units: f64::from(c), tasks: Vec::new() }).collect();
        CpuModel {
            specs,
            hosts,
            tasks: Vec::new(),
            free_slots: Vec::new(),
            slot_of: Vec::new(),
            hosts_scratch: Scratch::default(),
            task_scratch: Scratch::default(),
        }
    }

    /// A task's containers start on `host`, or on Fargate (`None`: a VM of the task's size).
    /// Rates on that host are recomputed; `out` gets the completion times that moved, this
    /// task's first one included.
    pub fn start_task(&mut self, task: TaskId, task_definition: u32, host: Option<HostId>, now: SimTime, out: &mut Vec<FinishChange>) {
        out.clear();
        let spec = &self.specs[task_definition as usize];
        let work = spec.work_cpu_seconds;
        let record = TaskCpu {
            task,
            task_definition,
            host,
            host_pos: 0,
            demand_units: spec.containers.iter().map(|c| c.demand_units).collect(),
            speed: vec![1.0; spec.containers.len()],
            alloc_units: vec![0.0; spec.containers.len()],
            want_units: 0.0,
            rate_units: 0.0,
            remaining: work.map(|w| w * UNIT_US_PER_CPU_SECOND),
            work_total: work.unwrap_or(0.0),
            last_update: now,
            finish_at: None,
            started_at: now,
            alone_rate_units: 0.0,
        };
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.tasks[slot as usize] = record;
                slot
            }
            None => {
                self.tasks.push(record);
                (self.tasks.len() - 1) as u32
            }
        };
        if let Some(h) = host {
            let hc = &mut self.hosts[h.index()];
            self.tasks[slot as usize].host_pos = hc.tasks.len() as u32;
            hc.tasks.push(slot);
        }
        let id = task.0 as usize;
        if self.slot_of.len() <= id {
            self.slot_of.resize(id + 1, NO_SLOT);
        }
        assert_eq!(self.slot_of[id], NO_SLOT, "task {id} started twice in the CPU model");
        self.slot_of[id] = slot;
        self.rebalance(host, slot, now, out);
        let t = &mut self.tasks[slot as usize];
        t.alone_rate_units = t.want_units;
    }

    /// The task stopped (completed, killed, or stopped by anyone): its CPU goes back to the
    /// host's other tasks, whose moved completion times are written to `out`.
    pub fn stop_task(&mut self, task: TaskId, now: SimTime, out: &mut Vec<FinishChange>) -> Option<CpuEnd> {
        out.clear();
        let slot = self.slot(task)?;
        Self::accrue(&mut self.tasks[slot as usize], now);
        let t = &self.tasks[slot as usize];
        let remaining = t.remaining.map_or(0.0, |r| r / UNIT_US_PER_CPU_SECOND);
        let alone = (t.alone_rate_units > 0.0 && t.work_total > 0.0)
            .then(|| SimTime::from_secs_f64(t.work_total * f64::from(CPU_UNITS_PER_VCPU) / t.alone_rate_units));
        let end = CpuEnd {
            done_cpu_seconds: (t.work_total - remaining).max(0.0),
            remaining_cpu_seconds: remaining,
            elapsed: now.saturating_sub(t.started_at),
            alone,
        };
        let host = t.host;
        if let Some(h) = host {
            let pos = t.host_pos as usize;
            let hc = &mut self.hosts[h.index()];
            debug_assert_eq!(hc.tasks[pos], slot);
            hc.tasks.swap_remove(pos);
            if let Some(&moved) = hc.tasks.get(pos) {
                self.tasks[moved as usize].host_pos = pos as u32;
            }
        }
        self.slot_of[task.0 as usize] = NO_SLOT;
        self.free_slots.push(slot);
        if let Some(h) = host {
            self.rebalance_host(h, now, out);
        }
        Some(end)
    }

    /// A container died (it demands nothing from now on); its task keeps running.
    pub fn stop_container(&mut self, task: TaskId, container: u16, now: SimTime, out: &mut Vec<FinishChange>) {
        out.clear();
        let Some(slot) = self.slot(task) else { return };
        self.tasks[slot as usize].demand_units[container as usize] = 0.0;
        let host = self.tasks[slot as usize].host;
        self.rebalance(host, slot, now, out);
    }

    /// A container's work per CPU unit changed (e.g. `speed` < 1 while it swaps).
    pub fn set_container_speed(&mut self, task: TaskId, container: u16, speed: f64, now: SimTime, out: &mut Vec<FinishChange>) {
        out.clear();
        let Some(slot) = self.slot(task) else { return };
        // Rates elsewhere do not change, but this task's progress must be accrued at the old
        // speed first: a full recompute of its host does both and stays simple.
        self.tasks[slot as usize].speed[container as usize] = speed;
        let host = self.tasks[slot as usize].host;
        self.rebalance(host, slot, now, out);
    }

    /// When the task completes its work at the current rates; `None` if it has none or cannot
    /// progress.
    pub fn finish_at(&self, task: TaskId) -> Option<SimTime> {
        self.tasks[self.slot(task)? as usize].finish_at
    }

    /// CPU units the task receives now (Σ over its containers).
    pub fn task_rate_units(&self, task: TaskId) -> Option<f64> {
        let t = &self.tasks[self.slot(task)? as usize];
        Some(t.alloc_units.iter().sum())
    }

    /// CPU units one container receives now.
    pub fn container_rate_units(&self, task: TaskId, container: u16) -> Option<f64> {
        self.tasks[self.slot(task)? as usize].alloc_units.get(container as usize).copied()
    }

    /// How much slower the task's work goes than it would alone on an idle host, without swap
    /// (≥ 1; 1 for a task that wants nothing).
    pub fn slowdown(&self, task: TaskId) -> Option<f64> {
        let t = &self.tasks[self.slot(task)? as usize];
        Some(match (t.want_units > 0.0, t.rate_units > 0.0) {
            (false, _) => 1.0,
            (true, false) => f64::INFINITY,
            (true, true) => t.want_units / t.rate_units,
        })
    }

    /// CPU units in use on a host (Σ over its tasks' containers).
    pub fn host_used_units(&self, host: HostId) -> f64 {
        self.hosts[host.index()].tasks.iter().map(|&s| self.tasks[s as usize].alloc_units.iter().sum::<f64>()).sum()
    }

    /// Adds each running container's rate to `per_container[task definition][container]`.
    pub fn add_container_rates(&self, per_container: &mut [Vec<f64>]) {
        for (slot, t) in self.tasks.iter().enumerate() {
            if self.slot(t.task) == Some(slot as u32) {
                for (sum, a) in per_container[t.task_definition as usize].iter_mut().zip(&t.alloc_units) {
                    *sum += a;
                }
            }
        }
    }

    fn slot(&self, task: TaskId) -> Option<u32> {
        self.slot_of.get(task.0 as usize).copied().filter(|&s| s != NO_SLOT)
    }

    fn rebalance(&mut self, host: Option<HostId>, slot: u32, now: SimTime, out: &mut Vec<FinishChange>) {
        match host {
            Some(h) => self.rebalance_host(h, now, out),
            None => {
                // Fargate: the task alone in a VM of its size.
                let cap = self.specs[self.tasks[slot as usize].task_definition as usize].cap_units.map_or(0.0, f64::from);
                let t = &mut self.tasks[slot as usize];
                Self::accrue(t, now);
                let want = t.demand_units.iter().sum::<f64>().min(cap);
                t.want_units = want;
                Self::divide_within(&self.specs, t, want, &mut self.task_scratch);
                Self::reschedule(t, now, out);
            }
        }
    }

    /// Recomputes every rate on one host.
    fn rebalance_host(&mut self, host: HostId, now: SimTime, out: &mut Vec<FinishChange>) {
        let hc = &self.hosts[host.index()];
        let s = &mut self.hosts_scratch;
        s.demands.clear();
        s.weights.clear();
        for &slot in &hc.tasks {
            let t = &mut self.tasks[slot as usize];
            Self::accrue(t, now);
            let spec = &self.specs[t.task_definition as usize];
            let demand: f64 = t.demand_units.iter().sum();
            let want = spec.cap_units.map_or(demand, |cap| demand.min(f64::from(cap))).min(hc.capacity_units);
            t.want_units = want;
            s.demands.push(want);
            s.weights.push(f64::from(spec.shares));
        }
        s.alloc.resize(s.demands.len(), 0.0);
        share_out(hc.capacity_units, &s.demands, &s.weights, &mut s.alloc, &mut s.order);
        for (k, &slot) in hc.tasks.iter().enumerate() {
            let t = &mut self.tasks[slot as usize];
            Self::divide_within(&self.specs, t, s.alloc[k], &mut self.task_scratch);
            Self::reschedule(t, now, out);
        }
    }

    /// Divides a task's allocation among its containers by their shares.
    fn divide_within(specs: &[TaskCpuSpec], t: &mut TaskCpu, task_alloc: f64, s: &mut Scratch) {
        let spec = &specs[t.task_definition as usize];
        s.weights.clear();
        s.weights.extend(spec.containers.iter().map(|c| f64::from(c.shares)));
        share_out(task_alloc, &t.demand_units, &s.weights, &mut t.alloc_units, &mut s.order);
        t.rate_units = t.alloc_units.iter().zip(&t.speed).map(|(a, v)| a * v).sum();
    }

    fn accrue(t: &mut TaskCpu, now: SimTime) {
        debug_assert!(now >= t.last_update);
        if let Some(r) = t.remaining.as_mut() {
            *r = (*r - t.rate_units * (now.0 - t.last_update.0) as f64).max(0.0);
        }
        t.last_update = now;
    }

    fn reschedule(t: &mut TaskCpu, now: SimTime, out: &mut Vec<FinishChange>) {
        let Some(remaining) = t.remaining else { return };
        let finish_at = (t.rate_units > 0.0).then(|| {
            let us = (remaining / t.rate_units).ceil();
            if us >= (u64::MAX - now.0) as f64 { SimTime::MAX } else { SimTime(now.0 + us as u64) }
        });
        if finish_at != t.finish_at {
            t.finish_at = finish_at;
            out.push(FinishChange { task: t.task, finish_at });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(cpu: u32, demand_units: f64) -> ContainerCpuSpec {
        ContainerCpuSpec { shares: container_shares(cpu), demand_units }
    }

    fn spec(cap: Option<u32>, shares: u32, containers: Vec<ContainerCpuSpec>, work: Option<f64>) -> TaskCpuSpec {
        TaskCpuSpec { cap_units: cap, shares, containers, work_cpu_seconds: work }
    }

    const BUSY: f64 = 1024.0;

    #[test]
    fn the_seed_example_splits_a_1024_unit_task_25_75_and_gives_all_of_it_to_the_only_busy_container() {
        // Task cpu 1024; frontend cpu 256, api cpu 768, both busy (one vCPU each).
        let both = spec(Some(1024), 1024, vec![one(256, BUSY), one(768, BUSY)], None);
        let one_idle = spec(Some(1024), 1024, vec![one(256, 0.0), one(768, BUSY)], None);
        let mut m = CpuModel::new(vec![both, one_idle], &[4096]);
        let mut out = Vec::new();
        m.start_task(TaskId(0), 0, None, SimTime::ZERO, &mut out);
        assert_eq!(m.container_rate_units(TaskId(0), 0), Some(256.0));
        assert_eq!(m.container_rate_units(TaskId(0), 1), Some(768.0));
        m.start_task(TaskId(1), 1, None, SimTime::ZERO, &mut out);
        assert_eq!(m.container_rate_units(TaskId(1), 0), Some(0.0));
        assert_eq!(m.container_rate_units(TaskId(1), 1), Some(1024.0));
        // The same on an EC2 host with room to spare: the task's cap holds.
        m.start_task(TaskId(2), 0, Some(HostId(0)), SimTime::ZERO, &mut out);
        assert_eq!(m.task_rate_units(TaskId(2)), Some(1024.0));
        assert_eq!(m.container_rate_units(TaskId(2), 0), Some(256.0));
    }

    #[test]
    fn cpu_zero_gets_the_minimum_share_of_two() {
        let s = spec(Some(1024), 1024, vec![one(0, BUSY), one(1022, BUSY)], None);
        let mut m = CpuModel::new(vec![s], &[]);
        m.start_task(TaskId(0), 0, None, SimTime::ZERO, &mut Vec::new());
        assert_eq!(m.container_rate_units(TaskId(0), 0), Some(2.0));
        assert_eq!(m.container_rate_units(TaskId(0), 1), Some(1022.0));
    }

    #[test]
    fn an_uncapped_task_uses_idle_host_cpu_and_a_capped_one_does_not() {
        // Two vCPUs wanted by each; host of 4 vCPUs.
        let uncapped = spec(None, 256, vec![one(256, 2048.0)], None);
        let capped = spec(Some(512), 512, vec![one(512, 2048.0)], None);
        let mut m = CpuModel::new(vec![uncapped, capped], &[4096, 4096]);
        let mut out = Vec::new();
        m.start_task(TaskId(0), 0, Some(HostId(0)), SimTime::ZERO, &mut out);
        m.start_task(TaskId(1), 1, Some(HostId(1)), SimTime::ZERO, &mut out);
        assert_eq!(m.task_rate_units(TaskId(0)), Some(2048.0));
        assert_eq!(m.task_rate_units(TaskId(1)), Some(512.0));
    }

    #[test]
    fn a_contended_host_divides_cpu_by_task_shares() {
        // One vCPU; tasks of shares 256 and 768, both wanting a full vCPU: 256 / 768.
        let a = spec(None, 256, vec![one(256, BUSY)], None);
        let b = spec(None, 768, vec![one(768, BUSY)], None);
        let mut m = CpuModel::new(vec![a, b], &[1024]);
        let mut out = Vec::new();
        m.start_task(TaskId(0), 0, Some(HostId(0)), SimTime::ZERO, &mut out);
        m.start_task(TaskId(1), 1, Some(HostId(0)), SimTime::ZERO, &mut out);
        assert_eq!(m.task_rate_units(TaskId(0)), Some(256.0));
        assert_eq!(m.task_rate_units(TaskId(1)), Some(768.0));
        assert_eq!(m.slowdown(TaskId(0)), Some(4.0));
        assert_eq!(m.host_used_units(HostId(0)), 1024.0);
    }

    #[test]
    fn batch_work_finishes_when_the_share_weighted_rate_says_through_a_change_of_load() {
        // One vCPU host. Task A: shares 256, 100 CPU-seconds of work, starts at 0. Task B: shares
        // 768, 60 CPU-seconds, starts at 50 s.
        //   0–50 s   A alone at 1,024 units (1 CPU-s/s): 50 done, 50 left.
        //   50 s–    A at 256 (0.25/s), B at 768 (0.75/s): B needs 60/0.75 = 80 s → ends at 130 s;
        //            A does 80 × 0.25 = 20 meanwhile, 30 left.
        //   130 s–   A alone again: 30 s more → ends at 160 s.
        let a = spec(None, 256, vec![one(256, BUSY)], Some(100.0));
        let b = spec(None, 768, vec![one(768, BUSY)], Some(60.0));
        let mut m = CpuModel::new(vec![a, b], &[1024]);
        let mut out = Vec::new();
        m.start_task(TaskId(0), 0, Some(HostId(0)), SimTime::ZERO, &mut out);
        assert_eq!(out, [FinishChange { task: TaskId(0), finish_at: Some(SimTime::from_secs(100)) }]);
        m.start_task(TaskId(1), 1, Some(HostId(0)), SimTime::from_secs(50), &mut out);
        assert_eq!(
            out,
            [
                FinishChange { task: TaskId(0), finish_at: Some(SimTime::from_secs(250)) },
                FinishChange { task: TaskId(1), finish_at: Some(SimTime::from_secs(130)) },
            ]
        );
        let end = m.stop_task(TaskId(1), SimTime::from_secs(130), &mut out).unwrap();
        assert!(end.remaining_cpu_seconds.abs() < 1e-9 && (end.done_cpu_seconds - 60.0).abs() < 1e-9, "{end:?}");
        assert_eq!(out, [FinishChange { task: TaskId(0), finish_at: Some(SimTime::from_secs(160)) }]);
        let end = m.stop_task(TaskId(0), SimTime::from_secs(160), &mut out).unwrap();
        assert!(end.remaining_cpu_seconds.abs() < 1e-6, "{end:?}");
        // 160 s for what takes 100 s alone.
        assert_eq!(end.slowdown(), Some(1.6));
    }

    #[test]
    fn a_load_change_reschedules_only_the_tasks_on_that_host() {
        let s = spec(None, 1024, vec![one(1024, BUSY)], Some(10.0));
        let mut m = CpuModel::new(vec![s], &[1024, 1024]);
        let mut out = Vec::new();
        m.start_task(TaskId(0), 0, Some(HostId(0)), SimTime::ZERO, &mut out);
        m.start_task(TaskId(1), 0, Some(HostId(1)), SimTime::ZERO, &mut out);
        m.start_task(TaskId(2), 0, Some(HostId(1)), SimTime::from_secs(5), &mut out);
        // Task 1 had 5 CPU-s left, now at half speed: 10 s more.
        assert_eq!(
            out,
            [
                FinishChange { task: TaskId(1), finish_at: Some(SimTime::from_secs(15)) },
                FinishChange { task: TaskId(2), finish_at: Some(SimTime::from_secs(25)) },
            ]
        );
        assert_eq!(m.finish_at(TaskId(0)), Some(SimTime::from_secs(10)));
    }

    #[test]
    fn a_swapping_container_progresses_at_its_speed_and_a_dead_one_stops_demanding() {
        let s = spec(Some(1024), 1024, vec![one(512, BUSY), one(512, BUSY)], Some(100.0));
        let mut m = CpuModel::new(vec![s], &[]);
        let mut out = Vec::new();
        m.start_task(TaskId(0), 0, None, SimTime::ZERO, &mut out);
        assert_eq!(m.finish_at(TaskId(0)), Some(SimTime::from_secs(100)));
        // From 20 s container 0 works at half speed: rate 0.5 × 512 + 512 = 768 units → 80 CPU-s
        // left take 80 × 1024 / 768 s.
        m.set_container_speed(TaskId(0), 0, 0.5, SimTime::from_secs(20), &mut out);
        let expected = SimTime::from_secs(20).0 + (80.0 * 1024.0 / 768.0 * 1e6_f64).ceil() as u64;
        assert_eq!(m.finish_at(TaskId(0)), Some(SimTime(expected)));
        // Container 1 dies at 40 s: container 0 gets all 1,024 units at half speed (512).
        m.stop_container(TaskId(0), 1, SimTime::from_secs(40), &mut out);
        assert_eq!(m.container_rate_units(TaskId(0), 0), Some(1024.0));
        let left = 80.0 - 20.0 * 768.0 / 1024.0;
        let expected = SimTime::from_secs(40).0 + (left * 1024.0 / 512.0 * 1e6_f64).ceil() as u64;
        let got = m.finish_at(TaskId(0)).unwrap().0;
        assert!(got.abs_diff(expected) <= 1, "{got} vs {expected}");
    }

    #[test]
    fn share_out_never_gives_more_than_demanded_nor_more_than_there_is() {
        let demands = [300.0, 0.0, 900.0, 50.0, 2000.0];
        let weights = [2.0, 2.0, 1024.0, 10.0, 512.0];
        let mut alloc = [0.0; 5];
        for capacity in [0.0, 10.0, 350.0, 1024.0, 2048.0, 10_000.0] {
            share_out(capacity, &demands, &weights, &mut alloc, &mut Vec::new());
            let total: f64 = alloc.iter().sum();
            assert!(total <= capacity + 1e-9 && alloc.iter().zip(&demands).all(|(a, d)| *a <= *d + 1e-9), "{capacity}: {alloc:?}");
            let demanded: f64 = demands.iter().sum();
            assert!((total - capacity.min(demanded)).abs() < 1e-9, "work-conserving at {capacity}: {alloc:?}");
        }
    }
}
