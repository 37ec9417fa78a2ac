//! Workloads end to end: trace replay is exact, a service ramps at 250 launches per minute, a
//! service that cannot place backs off 10 s, 20 s, 40 s … capped at 15 minutes
//! (docs/model.md#runtask-and-the-service-scheduler), and a stopped service task is replaced.

use std::fs;

use clustersim::engine::SimTime;
use clustersim::metrics::Metric;
use clustersim::model::StopReason;
use clustersim::placement::StrategyRegistry;
use clustersim::scenario::RawScenario;
use clustersim::scenario::sweep::Plan;
use clustersim::sim::{RunOptions, RunResult, run};

const SMALL: &str = r#"{ "family": "small", "containerDefinitions": [{ "name": "a", "image": "a:1", "cpu": 64, "memory": 64 }] }"#;
const HUGE: &str = r#"{ "family": "huge", "containerDefinitions": [{ "name": "a", "image": "a:1", "cpu": 64, "memory": 7000 }] }"#;

fn run_with(body: &str, trace: Option<&str>) -> RunResult {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("small.json"), SMALL).unwrap();
    fs::write(dir.path().join("huge.json"), HUGE).unwrap();
    if let Some(t) = trace {
        fs::write(dir.path().join("trace.csv"), t).unwrap();
    }
    let path = dir.path().join("s.toml");
    fs::write(
        &path,
        format!("name = \"w\"\nseed = 3\ntask_definitions = [\"small.json\", \"huge.json\"]\n{body}\n[cluster]\nazs = [\"a\", \"b\"]\n"),
    )
    .unwrap();
    let raw = RawScenario::read(&path).unwrap();
    let plan = Plan::build(&raw, None, &StrategyRegistry::new()).unwrap_or_else(|e| panic!("{e}"));
    run(&plan.run(0).unwrap().scenario, plan.run(0).unwrap().seed, RunOptions { record_tasks: true, explain: false }).unwrap()
}

#[test]
fn a_trace_is_replayed_at_its_times_with_its_durations_and_counts() {
    let r = run_with(
        "horizon = \"1h\"\n[host_groups.main]\ninstance_type = \"m5.xlarge\"\ncount_per_az = 2\n[workload.replay]\nkind = \"trace\"\nfile = \"trace.csv\"\n",
        Some("time_s,family,duration_s,count\n30,small,60,3\n5.5,small,10\n100,huge,20,2\n"),
    );
    let rows: Vec<(u64, u64, u32)> =
        r.tasks.iter().map(|t| (t.arrived_at.0, t.stopped_at.unwrap().0 - t.running_at.unwrap().0, t.task_definition)).collect();
    assert_eq!(
        rows,
        vec![
            (5_500_000, 10_000_000, 0),
            (30_000_000, 60_000_000, 0),
            (30_000_000, 60_000_000, 0),
            (30_000_000, 60_000_000, 0),
            (100_000_000, 20_000_000, 1),
            (100_000_000, 20_000_000, 1),
        ]
    );
    assert!(r.tasks.iter().all(|t| t.stop_reason == Some(StopReason::Completed)));
}

#[test]
fn a_service_launches_at_most_250_tasks_per_minute_on_ec2() {
    // 600 tasks fit easily; the service scheduler ramps them: 250 at once, then one every 240 ms.
    let r = run_with(
        "horizon = \"5m\"\nsample_interval = \"1s\"\n[host_groups.main]\ninstance_type = \"m5.4xlarge\"\ncount_per_az = 5\n[workload.api]\nkind = \"service\"\ntask_definition = \"small\"\ndesired_count = 600\n",
        None,
    );
    let placed_by = |secs: u64| r.tasks.iter().filter(|t| t.placed_at.is_some_and(|p| p <= SimTime::from_secs(secs))).count();
    assert_eq!(placed_by(0), 250);
    assert_eq!(placed_by(60), 500, "250 more in the first minute");
    assert_eq!(placed_by(84), 600, "the last 100 by 84 s (1 per 240 ms)");
    assert_eq!(placed_by(83), 595);
    assert_eq!(r.metrics.get(Metric::ServiceTasksUnplaced), 0.0);
}

#[test]
fn a_service_that_cannot_place_backs_off_doubling_up_to_15_minutes() {
    // The only host (an m5.large, 7,987 MiB registered) is taken by a 7,000 MiB batch task that
    // runs for 10 h, so the service's 7,000 MiB task can never be placed.
    let r = run_with(
        r#"horizon = "3h"
[host_groups.main]
instance_type = "m5.large"
count_per_az = 1
azs = ["a"]
[workload.a-blocker]   # name order: before `api`, so it takes the host first
kind = "batch"
task_definition = "huge"
at = "0s"
count = 1
run_time = "10h"
[workload.api]
kind = "service"
task_definition = "huge"
desired_count = 1
"#,
        None,
    );
    // Attempts at 0, then after 10, 20, 40, … s, capped at 900 s: count them in 3 hours.
    let mut t = 0u64;
    let mut delay = 10u64;
    let mut attempts = 0;
    while t <= 3 * 3600 {
        attempts += 1;
        t += delay;
        delay = (delay * 2).min(900);
    }
    // The blocker's own RunTask decision is one more attempt (it succeeds).
    assert_eq!(r.metrics.get(Metric::PlacementAttempts), f64::from(attempts + 1));
    assert_eq!(r.metrics.get(Metric::PlacementFailures), f64::from(attempts));
    assert_eq!(r.metrics.get(Metric::FailedResourceMemory), f64::from(attempts));
    assert_eq!(r.metrics.get(Metric::ServiceTasksUnplaced), 1.0);
}

#[test]
fn a_stopped_service_task_is_replaced() {
    let r = run_with(
        "horizon = \"1h\"\n[host_groups.main]\ninstance_type = \"m5.xlarge\"\ncount_per_az = 1\n[workload.api]\nkind = \"service\"\ntask_definition = \"small\"\ndesired_count = 4\nrun_time = \"10m\"\n",
        None,
    );
    // Every 10 minutes the 4 tasks complete and 4 replacements start: 6 generations in an hour
    // (the last still running), 24 tasks created, 20 completed.
    assert_eq!(r.metrics.get(Metric::TasksArrived), 28.0);
    assert_eq!(r.metrics.get(Metric::TasksCompleted), 24.0);
    assert_eq!(r.tasks.iter().filter(|t| t.stopped_at.is_none()).count(), 4);
}
