//! The `[memory]` and `[cpu]` tables: containers' memory usage processes and the OOM victim
//! policy; containers' CPU demand and tasks' work in CPU-seconds.
//!
//! ```toml
//! [memory]
//! victim_policy = "largest"          # or "furthest_above_reservation"
//! host_overhead = "256MiB"           # used by the OS, the ECS agent and Docker on each host
//! swap_slowdown = 2.0                # work takes this much longer while a container swaps
//!
//! [memory.web.app]                   # family `web`, container `app`
//! start = { distribution = "normal", mean = "400MiB", std_dev = "60MiB" }
//! interval = "1m"                    # how often usage moves
//! movement = "walk"                  # "steady" (default), "redraw" or "walk"
//! step = "25MiB"                     # walk: each step uniform in [−step, +step] …
//! min = "100MiB"                     # … within [min, max]
//! max = "2GiB"
//! leak_per_hour = "20MiB"
//! spike = { probability = 0.01, size = "300MiB", length = "2m" }
//!
//! [cpu.batch]                        # family `batch`
//! cpu_seconds = 600                  # each task completes after 600 CPU-seconds of work
//! [cpu.batch.worker]                 # its container `worker`
//! busy = 1.0                         # fraction of the time it is runnable …
//! vcpus = 1                          # … on this many threads
//! ```
//!
//! A scenario without these tables models no usage and no CPU contention (and its results do not
//! change).

use toml::Value;

use super::ScenarioError;
use super::reader::Table;
use super::units;
use crate::engine::SimTime;
use crate::model::cpu::{CPU_UNITS_PER_VCPU, TaskCpuSpec};
use crate::model::memory::{Movement, SizeDistribution, Spike, TaskMemorySpec, UsageProcess, VictimPolicy};
use crate::model::taskdef::TaskDefinition;
use crate::workload::{RunTime, WorkloadSpec};

/// Keys of `[memory]` that are settings, not families.
const MEMORY_SETTINGS: [&str; 3] = ["victim_policy", "host_overhead", "swap_slowdown"];
/// Longest usage interval: one day (shorter is finer; longer would make the model meaningless).
const MAX_INTERVAL: SimTime = SimTime::from_secs(86_400);
/// Shortest usage interval: one second (a usage event per container per second is already a
/// heavy run).
const MIN_INTERVAL: SimTime = SimTime::from_secs(1);

/// `[memory]`, resolved against the task definitions.
#[derive(Debug, Clone, PartialEq)]
pub struct MemorySpec {
    pub victim_policy: VictimPolicy,
    /// Memory the OS, the ECS agent and Docker use on each host, outside any task.
    pub host_overhead_mib: u32,
    /// Work takes this factor longer while a container swaps (≥ 1).
    pub swap_slowdown: f64,
    /// The usage processes, in (family, container) name order.
    pub processes: Vec<UsageProcess>,
    /// Per task definition, per container: its process, if the scenario sets one.
    pub process_of: Vec<Vec<Option<u32>>>,
}

impl MemorySpec {
    /// What the memory model needs per task definition (same order as `task_definitions`).
    pub fn task_specs(&self, task_definitions: &[TaskDefinition]) -> Vec<TaskMemorySpec> {
        task_definitions
            .iter()
            .zip(&self.process_of)
            .map(|(td, processes)| {
                TaskMemorySpec::from_definition(td, |name| td.containers.iter().position(|c| c.name == name).and_then(|i| processes[i]))
            })
            .collect()
    }

    /// Memory containers can use on a host: its MemTotal (nominal × the registered fraction) less
    /// what the OS and agent use. `ECS_RESERVED_MEMORY` only lowers what is advertised for
    /// placement; it reserves nothing at run time, so it does not enter here.
    pub fn host_capacity_mib(&self, nominal_memory_mib: u32, registered_memory_fraction: f64) -> u64 {
        let mem_total = (f64::from(nominal_memory_mib) * registered_memory_fraction).floor() as u64;
        mem_total.saturating_sub(u64::from(self.host_overhead_mib))
    }
}

/// `[cpu]`, resolved against the task definitions.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuSpec {
    /// Per task definition, per container: CPU units it wants (busy × vCPUs × 1,024).
    pub demand_units: Vec<Vec<f64>>,
    /// Per task definition: its work in CPU-seconds, if it has any.
    pub work_cpu_seconds: Vec<Option<f64>>,
}

impl CpuSpec {
    /// What the CPU model needs per task definition (same order as `task_definitions`).
    pub fn task_specs(&self, task_definitions: &[TaskDefinition]) -> Vec<TaskCpuSpec> {
        task_definitions
            .iter()
            .enumerate()
            .map(|(d, td)| {
                let demands = &self.demand_units[d];
                TaskCpuSpec::from_definition(
                    td,
                    |name| td.containers.iter().position(|c| c.name == name).map_or(0.0, |i| demands[i]),
                    self.work_cpu_seconds[d],
                )
            })
            .collect()
    }
}

/// The family named `name` and its index, or an error listing the loaded ones.
fn family<'t>(t: &Table<'_>, name: &str, tds: &'t [TaskDefinition]) -> Result<(usize, &'t TaskDefinition), ScenarioError> {
    tds.iter().enumerate().find(|(_, td)| td.family == name).ok_or_else(|| {
        let loaded: Vec<&str> = tds.iter().map(|td| td.family.as_str()).collect();
        t.error(name, format!("unknown task definition family `{name}`; loaded: {}", loaded.join(", ")))
    })
}

fn container_index(t: &Table<'_>, name: &str, td: &TaskDefinition) -> Result<usize, ScenarioError> {
    td.containers.iter().position(|c| c.name == name).ok_or_else(|| {
        let names: Vec<&str> = td.containers.iter().map(|c| c.name.as_str()).collect();
        t.error(name, format!("family `{}` has no container `{name}`; its containers: {}", td.family, names.join(", ")))
    })
}

/// The sub-table keys of `t` (families or containers), in name order; any other key that is not
/// in `settings` is refused, naming what is allowed.
fn sub_tables<'a>(t: &mut Table<'a>, settings: &[&str], what: &str) -> Result<Vec<&'a str>, ScenarioError> {
    let mut names = Vec::new();
    for (k, v) in t.entries() {
        if settings.contains(&k) {
            continue;
        }
        if !v.is_table() {
            let allowed = if settings.is_empty() {
                format!("expected a table per {what}")
            } else {
                format!("allowed here: {}, or a table per {what}", settings.join(", "))
            };
            return Err(t.error(k, format!("unknown key; {allowed}")));
        }
        names.push(k);
    }
    Ok(names)
}

pub fn read_memory(root: &mut Table<'_>, tds: &[TaskDefinition]) -> Result<Option<MemorySpec>, ScenarioError> {
    let Some(mut m) = root.opt_table("memory")? else { return Ok(None) };
    let victim_policy = match m.opt_str("victim_policy")? {
        None => VictimPolicy::default(),
        Some(name) => VictimPolicy::from_name(name).ok_or_else(|| {
            let allowed: Vec<&str> = VictimPolicy::ALL.iter().map(|p| p.as_str()).collect();
            m.error("victim_policy", format!("unknown victim policy `{name}`; allowed: {}", allowed.join(", ")))
        })?,
    };
    // [unsourced] No published figure for what the OS, agent and Docker use on an ECS-optimized
    // AMI; users commonly set ECS_RESERVED_MEMORY to 128–512 MiB for it. Configurable.
    let host_overhead_mib = m.opt_mib("host_overhead")?.unwrap_or(256);
    // [unsourced] How much swapping slows work depends on the disk and the access pattern.
    let swap_slowdown = m.opt_f64_in("swap_slowdown", 1.0, 1000.0)?.unwrap_or(2.0);
    let mut processes = Vec::new();
    let mut process_of: Vec<Vec<Option<u32>>> = tds.iter().map(|td| vec![None; td.containers.len()]).collect();
    for fam in sub_tables(&mut m, &MEMORY_SETTINGS, "family ([memory.<family>.<container>])")? {
        let (d, td) = family(&m, fam, tds)?;
        let mut f = m.table(fam)?;
        for name in sub_tables(&mut f, &[], "container ([memory.<family>.<container>])")? {
            let i = container_index(&f, name, td)?;
            let mut c = f.table(name)?;
            process_of[d][i] = Some(processes.len() as u32);
            processes.push(read_process(&mut c)?);
            c.finish()?;
        }
        f.finish()?;
    }
    m.finish()?;
    Ok(Some(MemorySpec { victim_policy, host_overhead_mib, swap_slowdown, processes, process_of }))
}

fn read_process(c: &mut Table<'_>) -> Result<UsageProcess, ScenarioError> {
    let start = read_size_distribution(c, "start")?.ok_or_else(|| c.error("start", "missing (required); e.g. start = \"400MiB\""))?;
    let interval = c.opt_duration("interval")?.unwrap_or(SimTime::from_secs(60));
    if !(MIN_INTERVAL..=MAX_INTERVAL).contains(&interval) {
        return Err(c.error("interval", "must be from 1s to 1d"));
    }
    let movement = match c.opt_str("movement")?.unwrap_or("steady") {
        "steady" => Movement::Steady,
        "redraw" => Movement::Redraw,
        "walk" => {
            let step_mib = size_mib(c, "step")?.ok_or_else(|| c.error("step", "missing (required for a walk); e.g. step = \"25MiB\""))?;
            let min_mib = size_mib(c, "min")?.unwrap_or(0.0);
            let max_mib = size_mib(c, "max")?.unwrap_or(f64::from(u32::MAX));
            if max_mib < min_mib {
                return Err(c.error("max", "must not be below min"));
            }
            Movement::Walk { step_mib, min_mib, max_mib }
        }
        other => return Err(c.error("movement", format!("unknown movement `{other}`; allowed: steady, redraw, walk"))),
    };
    if !matches!(movement, Movement::Walk { .. })
        && let Some(key) = ["step", "min", "max"].into_iter().find(|k| c.has(k))
    {
        return Err(c.error(key, "only a random walk (movement = \"walk\") takes step, min and max"));
    }
    let leak_mib_per_hour = size_mib(c, "leak_per_hour")?.unwrap_or(0.0);
    let spike = match c.opt_table("spike")? {
        None => None,
        Some(mut s) => {
            let probability = s
                .opt_f64_in("probability", 0.0, 1.0)?
                .ok_or_else(|| s.error("probability", "missing (required); the chance per interval that a spike starts, 0 to 1"))?;
            let size = read_size_distribution(&mut s, "size")?.ok_or_else(|| s.error("size", "missing (required); e.g. \"300MiB\""))?;
            let length = s.duration("length")?;
            if length == SimTime::ZERO {
                return Err(s.error("length", "must be greater than zero"));
            }
            s.finish()?;
            Some(Spike { probability, size, length })
        }
    };
    Ok(UsageProcess { start, interval, movement, leak_mib_per_hour, spike })
}

/// A size in MiB, possibly fractional: `"300MiB"`, `"1.5GiB"`, or a bare number of MiB.
fn size_mib(t: &mut Table<'_>, key: &str) -> Result<Option<f64>, ScenarioError> {
    let mib = match t.opt_value(key) {
        None => return Ok(None),
        Some(Value::String(s)) => units::parse_bytes(s).map_err(|m| t.error(key, m))? as f64 / (1024.0 * 1024.0),
        Some(Value::Integer(i)) if *i >= 0 => *i as f64,
        Some(Value::Float(f)) if f.is_finite() && *f >= 0.0 => *f,
        Some(v) => return Err(t.error(key, format!("expected a size such as \"512MiB\" or \"2GiB\", found {} `{v}`", v.type_str()))),
    };
    if mib > f64::from(u32::MAX) {
        return Err(t.error(key, "is too large"));
    }
    Ok(Some(mib))
}

/// A size or a distribution of sizes: `"400MiB"` or
/// `{ distribution = "constant" | "uniform" | "normal" | "lognormal", … }`.
fn read_size_distribution(t: &mut Table<'_>, key: &str) -> Result<Option<SizeDistribution>, ScenarioError> {
    if !matches!(t.opt_value(key), Some(Value::Table(_))) {
        return Ok(size_mib(t, key)?.map(|mib| SizeDistribution::Constant { mib }));
    }
    let mut d = t.table(key)?;
    let required = |d: &mut Table<'_>, k: &str| size_mib(d, k)?.ok_or_else(|| d.error(k, "missing (required); e.g. \"400MiB\""));
    let dist = match d.str("distribution")? {
        "constant" => SizeDistribution::Constant { mib: required(&mut d, "value")? },
        "uniform" => {
            let (min_mib, max_mib) = (required(&mut d, "min")?, required(&mut d, "max")?);
            if max_mib < min_mib {
                return Err(d.error("max", "must not be below min"));
            }
            SizeDistribution::Uniform { min_mib, max_mib }
        }
        "normal" => SizeDistribution::Normal { mean_mib: required(&mut d, "mean")?, std_dev_mib: required(&mut d, "std_dev")? },
        "lognormal" => {
            let mean_mib = required(&mut d, "mean")?;
            if mean_mib <= 0.0 {
                return Err(d.error("mean", "must be greater than zero"));
            }
            SizeDistribution::LogNormal { mean_mib, std_dev_mib: required(&mut d, "std_dev")? }
        }
        other => {
            return Err(d.error("distribution", format!("unknown distribution `{other}`; allowed: constant, uniform, normal, lognormal")));
        }
    };
    d.finish()?;
    Ok(Some(dist))
}

pub fn read_cpu(
    root: &mut Table<'_>,
    file: &str,
    tds: &[TaskDefinition],
    workloads: &[WorkloadSpec],
) -> Result<Option<CpuSpec>, ScenarioError> {
    let Some(mut cpu) = root.opt_table("cpu")? else { return Ok(None) };
    let mut demand_units: Vec<Vec<f64>> = tds.iter().map(|td| vec![0.0; td.containers.len()]).collect();
    let mut work_cpu_seconds: Vec<Option<f64>> = vec![None; tds.len()];
    for fam in sub_tables(&mut cpu, &[], "family ([cpu.<family>])")? {
        let (d, td) = family(&cpu, fam, tds)?;
        let mut f = cpu.table(fam)?;
        work_cpu_seconds[d] = f.opt_f64_in("cpu_seconds", 0.0, 1e12)?;
        if work_cpu_seconds[d] == Some(0.0) {
            return Err(f.error("cpu_seconds", "must be greater than zero"));
        }
        for name in sub_tables(&mut f, &["cpu_seconds"], "container ([cpu.<family>.<container>])")? {
            let i = container_index(&f, name, td)?;
            let mut c = f.table(name)?;
            let busy = c.opt_f64_in("busy", 0.0, 1.0)?.unwrap_or(1.0);
            let vcpus = c.opt_f64_in("vcpus", 0.0, 1024.0)?.unwrap_or(1.0);
            c.finish()?;
            demand_units[d][i] = busy * vcpus * f64::from(CPU_UNITS_PER_VCPU);
        }
        if work_cpu_seconds[d].is_some() && demand_units[d].iter().all(|&u| u == 0.0) {
            return Err(f.error(
                "cpu_seconds",
                format!("no container of `{fam}` wants CPU, so its work would never be done; add [cpu.{fam}.<container>] busy = 1.0"),
            ));
        }
        f.finish()?;
    }
    cpu.finish()?;
    for w in workloads {
        let td = &tds[w.task_definition as usize];
        if work_cpu_seconds[w.task_definition as usize].is_some() && w.run_time != RunTime::Forever {
            return Err(ScenarioError::new(
                file,
                format!("workload.{}.run_time", w.name),
                format!(
                    "family `{}` does its work in CPU-seconds ([cpu.{}] cpu_seconds); remove run_time or cpu_seconds",
                    td.family, td.family
                ),
            ));
        }
    }
    Ok(Some(CpuSpec { demand_units, work_cpu_seconds }))
}

#[cfg(test)]
mod tests {
    // `[memory]` and `[cpu]`: what they resolve to, and the errors for what they refuse.

    use super::*;
    use crate::workload::{Arrivals, LaunchType};

    const WEB: &str = include_str!("../../scenarios/taskdefs/web.json");
    const WORKER: &str = include_str!("../../scenarios/taskdefs/worker.json");

    fn tds() -> Vec<TaskDefinition> {
        vec![TaskDefinition::from_json_str(WEB, "web.json").unwrap(), TaskDefinition::from_json_str(WORKER, "worker.json").unwrap()]
    }

    fn memory(text: &str) -> Result<Option<MemorySpec>, ScenarioError> {
        let table: toml::Table = toml::from_str(text).unwrap();
        let mut root = Table::root("s.toml", &table);
        read_memory(&mut root, &tds())
    }

    fn cpu(text: &str, workloads: &[WorkloadSpec]) -> Result<Option<CpuSpec>, ScenarioError> {
        let table: toml::Table = toml::from_str(text).unwrap();
        let mut root = Table::root("s.toml", &table);
        read_cpu(&mut root, "s.toml", &tds(), workloads)
    }

    fn error(result: Result<impl std::fmt::Debug, ScenarioError>, key: &str, phrase: &str) {
        let e = result.expect_err("expected an error");
        assert_eq!(e.key, key, "{e}");
        assert!(e.message.contains(phrase), "`{}` lacks `{phrase}`", e.message);
    }

    fn workload(task_definition: u32, run_time: RunTime) -> WorkloadSpec {
        WorkloadSpec {
            name: "jobs".into(),
            arrivals: Arrivals::Batch { at: SimTime::ZERO, count: 1 },
            task_definition,
            run_time,
            start_delay: SimTime::ZERO,
            placement: crate::placement::PlacementSpec::run_task_default(),
            group: "family:worker".into(),
            launch_type: LaunchType::Ec2,
            subnets: Vec::new(),
            rollout: None,
        }
    }

    #[test]
    fn no_memory_table_models_no_usage() {
        assert_eq!(memory("").unwrap(), None);
        assert_eq!(cpu("", &[]).unwrap(), None);
    }

    #[test]
    fn a_full_usage_process_resolves_to_mib_and_durations() {
        let spec = memory(
            r#"
            [memory]
            victim_policy = "furthest_above_reservation"
            host_overhead = "512MiB"
            swap_slowdown = 3
            [memory.web.web]
            start = { distribution = "normal", mean = "400MiB", std_dev = "0.0625GiB" }
            interval = "30s"
            movement = "walk"
            step = 25
            max = "1GiB"
            leak_per_hour = "20MiB"
            spike = { probability = 0.01, size = { distribution = "uniform", min = "100MiB", max = "300MiB" }, length = "2m" }
            "#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(spec.victim_policy, VictimPolicy::FurthestAboveReservation);
        assert_eq!((spec.host_overhead_mib, spec.swap_slowdown), (512, 3.0));
        assert_eq!(spec.process_of, [vec![Some(0)], vec![None]]);
        assert_eq!(
            spec.processes[0],
            UsageProcess {
                start: SizeDistribution::Normal { mean_mib: 400.0, std_dev_mib: 64.0 },
                interval: SimTime::from_secs(30),
                movement: Movement::Walk { step_mib: 25.0, min_mib: 0.0, max_mib: 1024.0 },
                leak_mib_per_hour: 20.0,
                spike: Some(Spike {
                    probability: 0.01,
                    size: SizeDistribution::Uniform { min_mib: 100.0, max_mib: 300.0 },
                    length: SimTime::from_secs(120)
                }),
            }
        );
        let tasks = spec.task_specs(&tds());
        assert_eq!(tasks[0].containers[0].process, Some(0));
        assert_eq!((tasks[0].containers[0].hard_limit_mib, tasks[0].containers[0].reservation_mib), (Some(1024), 512));
        assert_eq!(tasks[1].containers[0].process, None);
    }

    #[test]
    fn defaults_are_the_largest_victim_256_mib_of_overhead_and_a_steady_process() {
        let spec = memory("[memory.worker.worker]\nstart = \"700MiB\"").unwrap().unwrap();
        assert_eq!((spec.victim_policy, spec.host_overhead_mib, spec.swap_slowdown), (VictimPolicy::Largest, 256, 2.0));
        assert_eq!(spec.processes[0], UsageProcess::constant(700.0));
        // m5.large: 8,192 MiB × 0.975 = 7,987 MiB of MemTotal, less 256.
        assert_eq!(spec.host_capacity_mib(8192, 0.975), 7987 - 256);
    }

    #[test]
    fn memory_errors_name_the_key_and_what_is_allowed() {
        error(memory("[memory]\nvictim_policy = \"oldest\""), "memory.victim_policy", "allowed: largest, furthest_above_reservation");
        error(
            memory("[memory]\nvictim_polcy = \"largest\""),
            "memory.victim_polcy",
            "allowed here: victim_policy, host_overhead, swap_slowdown",
        );
        error(memory("[memory.api.app]\nstart = \"1MiB\""), "memory.api", "unknown task definition family `api`; loaded: web, worker");
        error(memory("[memory.web.nginx]\nstart = \"1MiB\""), "memory.web.nginx", "has no container `nginx`; its containers: web");
        error(memory("[memory.web.web]\ninterval = \"1m\""), "memory.web.web.start", "missing");
        error(memory("[memory.web.web]\nstart = \"1MiB\"\nstep = \"5MiB\""), "memory.web.web.step", "only a random walk");
        error(memory("[memory.web.web]\nstart = \"1MiB\"\nmovement = \"walk\""), "memory.web.web.step", "missing");
        error(
            memory("[memory.web.web]\nstart = \"1MiB\"\nmovement = \"jump\""),
            "memory.web.web.movement",
            "allowed: steady, redraw, walk",
        );
        error(memory("[memory.web.web]\nstart = \"1MiB\"\ninterval = \"0s\""), "memory.web.web.interval", "1s to 1d");
        error(memory("[memory.web.web]\nstart = \"-1MiB\""), "memory.web.web.start", "zero or positive");
        error(memory("[memory.web.web]\nstart = { distribution = \"pareto\" }"), "memory.web.web.start.distribution", "allowed: constant");
        error(
            memory("[memory.web.web]\nstart = \"1MiB\"\nspike = { probability = 2, size = \"1MiB\", length = \"1m\" }"),
            "memory.web.web.spike.probability",
            "out of range",
        );
        error(
            memory("[memory.web.web]\nstart = \"1MiB\"\nspike = { probability = 0.5, size = \"1MiB\" }"),
            "memory.web.web.spike.length",
            "missing",
        );
        error(memory("[memory]\nswap_slowdown = 0.5"), "memory.swap_slowdown", "out of range");
        error(memory("[memory.web]\nstart = \"1MiB\""), "memory.web.start", "a table per container");
    }

    #[test]
    fn cpu_demand_is_busy_times_vcpus_times_1024_and_work_is_per_family() {
        let spec = cpu("[cpu.worker]\ncpu_seconds = 600\n[cpu.worker.worker]\nbusy = 0.5\nvcpus = 2\n[cpu.web.web]\nbusy = 0.25", &[])
            .unwrap()
            .unwrap();
        assert_eq!(spec.demand_units, [vec![256.0], vec![1024.0]]);
        assert_eq!(spec.work_cpu_seconds, [None, Some(600.0)]);
        let tasks = spec.task_specs(&tds());
        // worker.json: container cpu 512, no task cpu → task shares 512, no cap.
        assert_eq!((tasks[1].cap_units, tasks[1].shares, tasks[1].containers[0].shares), (None, 512, 512));
        assert_eq!(tasks[1].work_cpu_seconds, Some(600.0));
    }

    #[test]
    fn cpu_errors_name_the_key_and_what_is_allowed() {
        error(cpu("[cpu.worker]\ncpu_seconds = 60", &[]), "cpu.worker.cpu_seconds", "no container of `worker` wants CPU");
        error(cpu("[cpu.worker]\ncpu_seconds = 0\n[cpu.worker.worker]\nbusy = 1", &[]), "cpu.worker.cpu_seconds", "greater than zero");
        error(cpu("[cpu.worker.worker]\nbusy = 1.5", &[]), "cpu.worker.worker.busy", "out of range");
        error(cpu("[cpu.worker.worker]\nthreads = 2", &[]), "cpu.worker.worker.threads", "allowed here: busy, vcpus");
        error(cpu("[cpu.worker]\nwork = 2", &[]), "cpu.worker.work", "allowed here: cpu_seconds");
        let jobs = workload(1, RunTime::Constant(SimTime::from_secs(60)));
        error(
            cpu("[cpu.worker]\ncpu_seconds = 60\n[cpu.worker.worker]\nbusy = 1", &[jobs]),
            "workload.jobs.run_time",
            "remove run_time or cpu_seconds",
        );
        let jobs = workload(1, RunTime::Forever);
        assert!(cpu("[cpu.worker]\ncpu_seconds = 60\n[cpu.worker.worker]\nbusy = 1", &[jobs]).is_ok());
    }
}
