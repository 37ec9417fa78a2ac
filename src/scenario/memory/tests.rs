//! `[memory]` and `[cpu]`: what they resolve to, and the errors for what they refuse.

use super::*;
use crate::workload::{Arrivals, LaunchType};

const WEB: &str = include_str!("../../../scenarios/taskdefs/web.json");
const WORKER: &str = include_str!("../../../scenarios/taskdefs/worker.json");

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
    error(memory("[memory.web.web]\nstart = \"1MiB\"\nmovement = \"jump\""), "memory.web.web.movement", "allowed: steady, redraw, walk");
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
