//! A task's record is recycled once the task has stopped and no queued event names it. Two
//! properties, through whole runs:
//! * the results do not depend on it: every shipped scenario small enough to run here gives the
//!   same metrics, time series and subnet rows whether records are recycled or all kept (as
//!   `--tasks` keeps them), host failures, OOM kills, pulls and NAT outages included;
//! * memory follows what is in flight: twenty times as many arrivals at the same rate and run
//!   time need about as many records, not twenty times as many.

use std::path::Path;

use clustersim::metrics::Metric;
use clustersim::placement::StrategyRegistry;
use clustersim::scenario::RawScenario;
use clustersim::scenario::sweep::Plan;
use clustersim::sim::{RunOptions, RunResult, run};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn plan_of(path: &Path) -> Plan {
    let raw = RawScenario::read(path).unwrap();
    Plan::build(&raw, None, &StrategyRegistry::new()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn run_point(plan: &Plan, index: usize, record_tasks: bool) -> RunResult {
    let spec = plan.run(index).unwrap();
    run(&spec.scenario, spec.seed, RunOptions { record_tasks, explain: false }).unwrap_or_else(|e| panic!("run {index}: {e}"))
}

fn assert_same_results(name: &str, index: usize, kept: &RunResult, recycled: &RunResult) {
    for &m in Metric::ALL {
        let (a, b) = (kept.metrics.get(m), recycled.metrics.get(m));
        assert!(a.to_bits() == b.to_bits(), "{name} run {index}: {m:?} is {a} with every record kept, {b} with records recycled");
    }
    assert!(kept.timeseries == recycled.timeseries, "{name} run {index}: the time series differ");
    assert_eq!(kept.subnets, recycled.subnets, "{name} run {index}: the subnet rows differ");
    assert!(recycled.tasks.is_empty(), "no per-task rows unless asked for");
}

#[test]
fn recycling_task_records_changes_no_result_of_the_shipped_scenarios() {
    // (scenario, how many of its runs): every run of the small ones, the first few of sweeps.
    let scenarios = [
        ("az-outage", usize::MAX),
        ("asg-az-outage", 4),
        ("crash-loop-pulls", usize::MAX),
        ("memory-contention", usize::MAX),
        ("nat-outage", usize::MAX),
        ("cpu-shares", usize::MAX),
        ("quickstart", usize::MAX),
        ("replay-ecs-events", usize::MAX),
        ("ip-exhaustion", 4),
        ("nat-vs-public", 8),
        ("compare-placement", 3),
    ];
    for (name, most) in scenarios {
        let plan = plan_of(&Path::new(REPO).join(format!("scenarios/{name}.toml")));
        for index in 0..plan.run_count().min(most) {
            let kept = run_point(&plan, index, true);
            let recycled = run_point(&plan, index, false);
            assert_same_results(name, index, &kept, &recycled);
            assert_eq!(kept.task_records, kept.tasks.len(), "{name}: with every record kept, one per task");
        }
    }
}

/// A Poisson stream of 10-second tasks at 5 per second on a few hosts (about 50 in flight),
/// for `hours`.
fn steady_stream(hours: u32) -> RunResult {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.json"),
        r#"{"family": "t", "containerDefinitions": [{"name": "c", "image": "busybox", "cpu": 256, "memoryReservation": 256, "essential": true}]}"#,
    )
    .unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(
        &path,
        format!(
            r#"name = "steady"
seed = 11
horizon = "{hours}h"
task_definitions = ["t.json"]

[cluster]
azs = ["us-east-1a", "us-east-1b", "us-east-1c"]

[host_groups.main]
instance_type = "m5.xlarge"
count_per_az = 4

[workload.jobs]
kind = "poisson"
task_definition = "t"
run_time = {{ distribution = "exponential", mean = "10s" }}

[workload.jobs.arrival]
rate_per_s = 5.0
"#
        ),
    )
    .unwrap();
    run_point(&plan_of(&path), 0, false)
}

#[test]
fn task_records_follow_the_tasks_in_flight_not_the_tasks_of_the_run() {
    let (short, long) = (steady_stream(1), steady_stream(20));
    let (arrived_short, arrived_long) = (short.metrics.get(Metric::TasksArrived), long.metrics.get(Metric::TasksArrived));
    assert!(arrived_short > 15_000.0 && arrived_long > 20.0 * 15_000.0, "{arrived_short} and {arrived_long} arrivals");
    // About 50 tasks in flight on average (Little's law: 5/s × 10 s); the peak of a Poisson
    // count with mean 50 over 20 hours stays far below 200.
    assert!(short.task_records < 200, "{} records for {arrived_short} tasks", short.task_records);
    assert!(long.task_records < 200, "{} records for {arrived_long} tasks", long.task_records);
    assert!(long.task_records <= 2 * short.task_records, "{} records for 20 h against {} for 1 h", long.task_records, short.task_records);
}
