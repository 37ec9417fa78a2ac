//! Memory and CPU contention through whole runs: the shipped scenarios `cpu-shares.toml` and
//! `memory-contention.toml` against their hand-worked outcomes, an OOM kill through the
//! lifecycle and the service scheduler, and scenarios without `[memory]`/`[cpu]` unchanged.

use std::fs;
use std::path::Path;

use clustersim::engine::SimTime;
use clustersim::metrics::Metric;
use clustersim::model::StopReason;
use clustersim::placement::StrategyRegistry;
use clustersim::scenario::RawScenario;
use clustersim::scenario::sweep::Plan;
use clustersim::sim::{RunOptions, RunResult, run};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn plan_of(path: &Path) -> Plan {
    let raw = RawScenario::read(path).unwrap();
    Plan::build(&raw, None, &StrategyRegistry::new()).unwrap_or_else(|e| panic!("{e}"))
}

fn run_point(plan: &Plan, index: usize) -> RunResult {
    let spec = plan.run(index).unwrap();
    run(&spec.scenario, spec.seed, RunOptions { record_tasks: true, explain: false }).unwrap()
}

/// Writes a scenario and a task definition into a temporary folder and runs it.
fn run_scenario(taskdef: &str, body: &str) -> RunResult {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("app.json"), taskdef).unwrap();
    let path = dir.path().join("s.toml");
    fs::write(&path, format!("name = \"mem\"\nseed = 3\ntask_definitions = [\"app.json\"]\n{body}")).unwrap();
    run_point(&plan_of(&path), 0)
}

#[test]
fn cpu_shares_scenario_gives_the_seed_containers_25_and_75_percent_and_the_batch_finishes_at_20_minutes() {
    let plan = plan_of(&Path::new(REPO).join("scenarios/cpu-shares.toml"));
    let r = run_point(&plan, 0);
    let col = |name: &str| r.timeseries.column(name).unwrap_or_else(|| panic!("no column {name}"));
    // One sample a minute from 0 s: row m is minute m.
    let (frontend, api) = (col("cpu_units_seed-app.frontend"), col("cpu_units_seed-app.api"));
    for m in [1, 10, 25] {
        assert_eq!((frontend[m], api[m]), (256.0, 768.0), "minute {m}");
    }
    let (noisy, batch) = (col("cpu_units_noisy.encoder"), col("cpu_units_crunch.solver"));
    assert_eq!((noisy[2], batch[2]), (1024.0, 0.0), "the neighbour takes the idle vCPU");
    assert_eq!((noisy[10], batch[10]), (512.0, 512.0), "shares 512 : 512");
    assert_eq!((noisy[17], batch[17]), (0.0, 1024.0));
    let crunch = r.tasks.iter().find(|t| t.task_definition == 2).unwrap(); // crunch.json
    assert_eq!((crunch.running_at, crunch.stopped_at), (Some(SimTime::from_secs(300)), Some(SimTime::from_secs(1200))));
    assert_eq!(crunch.stop_reason, Some(StopReason::Completed));
    assert_eq!(r.metrics.get(Metric::CpuSlowdownMean), 1.5);
}

#[test]
fn memory_contention_scenario_shows_the_victim_policies_apart_and_hard_limits_never_exhaust_a_host() {
    let plan = plan_of(&Path::new(REPO).join("scenarios/memory-contention.toml"));
    let point = |policy: &str, limits: &str| {
        (0..plan.run_count())
            .map(|i| plan.run_info(i))
            .position(|s| s.replication == 0 && s.params[0].1 == policy && s.params[1].1 == limits)
            .unwrap_or_else(|| panic!("no point {policy} / {limits}"))
    };
    let kills = |i: usize, m: Metric| run_point(&plan, i).metrics.get(m);
    // Reservation 768 below the 700 MiB mean plus spikes, next to a 2.6 GiB cache: Linux's
    // killer takes the cache (the largest, within its reservation) again and again; sparing
    // those within their reservation kills far fewer.
    let largest = kills(point("largest", "soft 768"), Metric::OomKillsHost);
    let furthest = kills(point("furthest_above_reservation", "soft 768"), Metric::OomKillsHost);
    assert!(largest > 0.0 && furthest < largest, "largest {largest}, furthest {furthest}");
    // Hard limits equal to reservations can never over-commit a host.
    let r = run_point(&plan, point("largest", "hard 1024"));
    assert_eq!(r.metrics.get(Metric::OomKillsHost), 0.0);
    assert!(r.metrics.get(Metric::OomKillsContainer) > 0.0, "spikes above 1,024 MiB are killed");
    assert!(r.tasks.iter().any(|t| t.stop_reason == Some(StopReason::OutOfMemory)));
}

const LEAKY: &str = r#"{ "family": "leaky", "networkMode": "bridge", "requiresCompatibilities": ["EC2"],
  "containerDefinitions": [{ "name": "app", "image": "app:1", "cpu": 128, "memory": 512 }] }"#;

#[test]
fn an_oom_killed_service_task_stops_with_the_oom_reason_and_is_replaced() {
    // 400 MiB growing 10 MiB a minute against a 512 MiB limit: killed at minute 12 after each
    // start (520 MiB), replaced at once. Over 1 h: kills at 12, 24, 36, 48 and 60 minutes (the
    // horizon's own events still run).
    let r = run_scenario(
        LEAKY,
        r#"horizon = "1h"
[cluster]
azs = ["a"]
[host_groups.main]
instance_type = "m5.large"
count_per_az = 1
[workload.svc]
kind = "service"
task_definition = "leaky"
desired_count = 1
[memory.leaky.app]
start = "400MiB"
leak_per_hour = "600MiB"
"#,
    );
    let stops: Vec<SimTime> = r.tasks.iter().filter_map(|t| t.stopped_at).collect();
    assert_eq!(stops, [12, 24, 36, 48, 60].map(|m| SimTime::from_secs(60 * m)));
    assert!(r.tasks.iter().filter(|t| t.stopped_at.is_some()).all(|t| t.stop_reason == Some(StopReason::OutOfMemory)));
    assert_eq!(r.metrics.get(Metric::OomKillsContainer), 5.0);
    assert_eq!(r.metrics.get(Metric::TasksStoppedOom), 5.0);
    assert_eq!(r.metrics.get(Metric::OomReplacements), 5.0);
    // 5 kills in 1 task-hour.
    assert!((r.metrics.get(Metric::OomKillsPer1000TaskHours) - 5000.0).abs() < 1e-6);
}

#[test]
fn a_runtask_killed_by_oom_counts_the_time_it_ran_as_lost_work() {
    let r = run_scenario(
        LEAKY,
        r#"horizon = "1h"
[cluster]
azs = ["a"]
[host_groups.main]
instance_type = "m5.large"
count_per_az = 1
[workload.jobs]
kind = "batch"
task_definition = "leaky"
at = "0s"
count = 2
[memory.leaky.app]
start = "400MiB"
leak_per_hour = "600MiB"
"#,
    );
    assert_eq!(r.metrics.get(Metric::OomLostTaskSeconds), 2.0 * 720.0);
    assert!(r.metrics.get(Metric::OomReplacements) == 0.0);
}

#[test]
fn a_task_killed_by_oom_before_its_run_time_ends_stops_once() {
    // Run time 30 min, killed at minute 12: the end of the run time must not stop it again (it
    // used to, giving its host's resources back twice and panicking the run).
    let r = run_scenario(
        LEAKY,
        r#"horizon = "1h"
[cluster]
azs = ["a"]
[host_groups.main]
instance_type = "m5.large"
count_per_az = 1
[workload.jobs]
kind = "batch"
task_definition = "leaky"
at = "0s"
count = 2
run_time = "30m"
[memory.leaky.app]
start = "400MiB"
leak_per_hour = "600MiB"
"#,
    );
    assert_eq!(r.tasks.len(), 2);
    for t in &r.tasks {
        assert_eq!((t.stopped_at, t.stop_reason), (Some(SimTime::from_secs(720)), Some(StopReason::OutOfMemory)));
    }
    assert_eq!(r.metrics.get(Metric::TasksStoppedOom), 2.0);
}

#[test]
fn without_memory_or_cpu_tables_the_new_metrics_are_empty_and_the_time_series_unchanged() {
    let plan = plan_of(&Path::new(REPO).join("scenarios/quickstart.toml"));
    let r = run_point(&plan, 0);
    for m in [Metric::OomKillsHost, Metric::MemUsedMean, Metric::CpuUsedMean, Metric::CpuSlowdownMean] {
        assert!(r.metrics.get(m).is_nan(), "{}", m.name());
    }
    assert!(r.timeseries.columns.iter().all(|c| !c.starts_with("mem_used") && !c.starts_with("cpu_used")));
}
