//! What the memory and CPU parts tell the recorder: memory and CPU in use per AZ, tasks whose
//! containers are tracked, OOM kills and the work they lost, CPU slowdowns.

use super::{Recorder, ratio};
use crate::engine::SimTime;
use crate::metrics::{Metric, MetricValues, TimeWeighted, stats};
use crate::model::AzId;
use crate::model::memory::OomLevel;

/// What the memory and CPU parts tell the recorder (with `[memory]` / `[cpu]`).
pub(super) struct Contention {
    /// Start of the counting window (the warm-up's end).
    pub(super) from_us: u64,
    pub(super) memory: bool,
    pub(super) cpu: bool,
    pub(super) mem_used_by_az: Vec<u64>,
    pub(super) mem_used_total: u64,
    pub(super) mem_used: TimeWeighted,
    pub(super) cpu_used_by_az: Vec<f64>,
    pub(super) cpu_used_total: f64,
    pub(super) cpu_used: TimeWeighted,
    /// Running tasks whose containers the memory part tracks, and those on EC2 hosts.
    pub(super) tasks: u32,
    pub(super) task_count: TimeWeighted,
    pub(super) host_tasks: u32,
    pub(super) host_task_count: TimeWeighted,
    pub(super) lost_cpu_s: f64,
    pub(super) lost_task_s: f64,
    pub(super) slowdowns: Vec<f64>,
    pub(super) mem_used_samples: Vec<f64>,
    pub(super) mem_reserved_samples: Vec<f64>,
    /// Per-container CPU units at the next sample.
    pub(super) container_cpu: Vec<f64>,
}

impl Contention {
    pub(super) fn new(from: u64, memory: bool, cpu: bool, azs: usize) -> Contention {
        Contention {
            from_us: from,
            memory,
            cpu,
            mem_used_by_az: vec![0; azs],
            mem_used_total: 0,
            mem_used: TimeWeighted::new(from),
            cpu_used_by_az: vec![0.0; azs],
            cpu_used_total: 0.0,
            cpu_used: TimeWeighted::new(from),
            tasks: 0,
            task_count: TimeWeighted::new(from),
            host_tasks: 0,
            host_task_count: TimeWeighted::new(from),
            lost_cpu_s: 0.0,
            lost_task_s: 0.0,
            slowdowns: Vec::new(),
            mem_used_samples: Vec::new(),
            mem_reserved_samples: Vec::new(),
            container_cpu: Vec::new(),
        }
    }

    pub(super) fn finish(&mut self, m: &mut MetricValues, hosts_used_mean: f64, end: u64) {
        let span_us = end.saturating_sub(self.from_us);
        let p95 = |xs: &mut Vec<f64>| {
            xs.sort_by(f64::total_cmp);
            if xs.is_empty() { f64::NAN } else { stats::quantile_sorted(xs, 0.95) }
        };
        m.set(Metric::MemReservedP95, p95(&mut self.mem_reserved_samples));
        let kills = [Metric::OomKillsContainer, Metric::OomKillsTask, Metric::OomKillsHost].iter().map(|k| m.get(*k)).sum::<f64>();
        let task_hours = self.task_count.mean(end) * span_us as f64 / 3.6e9;
        let nan_unless = |on: bool, v: f64| if on { v } else { f64::NAN };
        let memory = self.memory;
        m.set(Metric::OomKillsPer1000TaskHours, nan_unless(memory, if task_hours > 0.0 { 1000.0 * kills / task_hours } else { 0.0 }));
        let per_host = if hosts_used_mean > 0.0 { self.host_task_count.mean(end) / hosts_used_mean } else { 0.0 };
        m.set(Metric::TasksPerHostMean, nan_unless(memory, per_host));
        m.set(Metric::MemUsedMean, nan_unless(memory, self.mem_used.mean(end)));
        m.set(Metric::MemUsedP95, nan_unless(memory, p95(&mut self.mem_used_samples)));
        m.set(Metric::OomLostCpuSeconds, nan_unless(memory && self.cpu, self.lost_cpu_s));
        m.set(Metric::OomLostTaskSeconds, nan_unless(memory, self.lost_task_s));
        for k in [Metric::OomKillsContainer, Metric::OomKillsTask, Metric::OomKillsHost, Metric::TasksStoppedOom, Metric::OomReplacements] {
            m.set(k, nan_unless(memory, m.get(k)));
        }
        m.set(Metric::CpuUsedMean, nan_unless(self.cpu, self.cpu_used.mean(end)));
        let slowdowns = &mut self.slowdowns;
        let mean = if slowdowns.is_empty() { f64::NAN } else { slowdowns.iter().sum::<f64>() / slowdowns.len() as f64 };
        m.set(Metric::CpuSlowdownMean, mean);
        m.set(Metric::CpuSlowdownP95, p95(slowdowns));
    }
}

impl Recorder {
    /// A task's containers started (`on_host`: EC2) or stopped: the memory part tracks them.
    pub fn memory_task_started(&mut self, now: SimTime, on_host: bool) {
        let c = &mut self.contention;
        c.tasks += 1;
        c.task_count.set(now.0, f64::from(c.tasks));
        if on_host {
            c.host_tasks += 1;
            c.host_task_count.set(now.0, f64::from(c.host_tasks));
        }
    }

    pub fn memory_task_stopped(&mut self, now: SimTime, on_host: bool) {
        let c = &mut self.contention;
        c.tasks -= 1;
        c.task_count.set(now.0, f64::from(c.tasks));
        if on_host {
            c.host_tasks -= 1;
            c.host_task_count.set(now.0, f64::from(c.host_tasks));
        }
    }

    /// Memory in use on a host of `az` moved by `delta_mib`.
    pub fn memory_used_changed(&mut self, now: SimTime, az: AzId, delta_mib: i64) {
        let c = &mut self.contention;
        let used = &mut c.mem_used_by_az[az.0 as usize];
        *used = used.checked_add_signed(delta_mib).expect("memory in use stays ≥ 0");
        c.mem_used_total = c.mem_used_total.checked_add_signed(delta_mib).expect("memory in use stays ≥ 0");
        c.mem_used.set(now.0, ratio(c.mem_used_total, self.registered_total.mem));
    }

    /// CPU units in use on a host of `az` moved by `delta_units`.
    pub fn cpu_used_changed(&mut self, now: SimTime, az: AzId, delta_units: f64) {
        let c = &mut self.contention;
        c.cpu_used_by_az[az.0 as usize] += delta_units;
        c.cpu_used_total += delta_units;
        let registered = self.registered_total.cpu as f64;
        c.cpu_used.set(now.0, if registered > 0.0 { c.cpu_used_total.max(0.0) / registered } else { 0.0 });
    }

    pub fn oom_killed(&mut self, level: OomLevel) {
        self.count(match level {
            OomLevel::Container => Metric::OomKillsContainer,
            OomLevel::Task => Metric::OomKillsTask,
            OomLevel::Host => Metric::OomKillsHost,
        });
    }

    /// A service must replace a task an OOM kill stopped.
    pub fn oom_replacement_wanted(&mut self) {
        self.count(Metric::OomReplacements);
    }

    /// A RunTask task stopped by an OOM kill: its CPU-seconds done (tasks with CPU-second work),
    /// or the time it had run.
    pub fn oom_work_lost(&mut self, cpu_s: Option<f64>, ran: SimTime) {
        if self.warm {
            match cpu_s {
                Some(s) => self.contention.lost_cpu_s += s,
                None => self.contention.lost_task_s += ran.as_secs_f64(),
            }
        }
    }

    /// CPU-second work completed, `slowdown` times slower than alone on an idle host.
    pub fn cpu_work_completed(&mut self, slowdown: f64) {
        if self.warm {
            self.contention.slowdowns.push(slowdown);
        }
    }

    /// Each container's CPU units (task-definition, then container order) for the next sample.
    pub fn container_cpu_sampled(&mut self, units: Vec<f64>) {
        self.contention.container_cpu = units;
    }
}
