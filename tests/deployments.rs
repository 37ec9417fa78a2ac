//! Rolling deployments in whole runs, against what the ECS documentation works out by hand: the
//! best-practices example (six tasks, room for eight), the circuit breaker's threshold and
//! rollback, resources freed at STOPPING (and the older switch), and how long an old task keeps
//! its address.

use std::fs;

use clustersim::engine::SimTime;
use clustersim::metrics::Metric;
use clustersim::model::StopReason;
use clustersim::placement::StrategyRegistry;
use clustersim::scenario::RawScenario;
use clustersim::scenario::sweep::Plan;
use clustersim::sim::{RunOptions, RunResult, run};

/// 1 vCPU: four per m5.xlarge (4,096 CPU units).
const API: &str = r#"{ "family": "api", "requiresCompatibilities": ["EC2"], "cpu": "1024", "memory": "2048",
  "containerDefinitions": [{ "name": "app", "image": "app:1", "essential": true }] }"#;
const API2: &str = r#"{ "family": "api2", "requiresCompatibilities": ["EC2"], "cpu": "1024", "memory": "2048",
  "containerDefinitions": [{ "name": "app", "image": "app:2", "essential": true }] }"#;
/// A whole m5.xlarge.
const WHOLE: &str = r#"{ "family": "whole", "requiresCompatibilities": ["EC2"], "cpu": "4096", "memory": "4096",
  "containerDefinitions": [{ "name": "app", "image": "app:1", "essential": true }] }"#;
/// More memory than an m5.xlarge has: no host can take it.
const BIG: &str = r#"{ "family": "gpu", "requiresCompatibilities": ["EC2"], "cpu": "1024", "memory": "30000",
  "containerDefinitions": [{ "name": "app", "image": "app:1", "essential": true }] }"#;
const FG: &str = r#"{ "family": "fg", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
  "containerDefinitions": [{ "name": "app", "image": "app:1", "essential": true }] }"#;

fn run_text(body: &str) -> RunResult {
    let dir = tempfile::tempdir().unwrap();
    let files = [("api.json", API), ("api2.json", API2), ("whole.json", WHOLE), ("gpu.json", BIG), ("fg.json", FG)];
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    let path = dir.path().join("s.toml");
    let list = files.iter().map(|(n, _)| format!("\"{n}\"")).collect::<Vec<_>>().join(", ");
    fs::write(&path, format!("name = \"deploy\"\nseed = 1\ntask_definitions = [{list}]\n{body}")).unwrap();
    let raw = RawScenario::read(&path).unwrap();
    let plan = Plan::build(&raw, None, &StrategyRegistry::new()).unwrap_or_else(|e| panic!("{e}"));
    let spec = plan.run(0).unwrap_or_else(|e| panic!("{e}"));
    run(&spec.scenario, spec.seed, RunOptions { record_tasks: true, explain: false }).unwrap_or_else(|e| panic!("invariant: {e}"))
}

/// `hosts` m5.xlarge in one AZ and a service `web` of `desired` tasks of `td`, updated at 10 min.
fn ec2(hosts: u32, td: &str, desired: u32, service: &str, scheduler: &str) -> String {
    format!(
        r#"horizon = "2h"
[cluster]
azs = ["a"]
[service_scheduler]
{scheduler}
[host_groups.main]
instance_type = "m5.xlarge"
count_per_az = {hosts}
[workload.web]
kind = "service"
task_definition = "{td}"
desired_count = {desired}
{service}
"#
    )
}

/// The started/stopped counts of the service events after `from`, in order: +n started, −n stopped.
fn steps(r: &RunResult, from: SimTime) -> Vec<i64> {
    let mut out = Vec::new();
    for e in r.service_events.iter().filter(|e| e.time >= from) {
        let words: Vec<&str> = e.message.split_whitespace().collect();
        if let Some(i) = words.iter().position(|w| *w == "started" || *w == "stopped")
            && words.get(i - 1) == Some(&"has")
        {
            let n: i64 = words[i + 1].parse().unwrap();
            out.push(if words[i] == "started" { n } else { -n });
        }
    }
    out
}

const T0: SimTime = SimTime::from_secs(600);

#[test]
fn six_tasks_room_for_eight_at_100_200_take_three_rounds_of_two() {
    let r = run_text(&ec2(2, "api", 6, "deployments = [{ at = \"10m\", task_definition = \"api2\" }]\nexit_after_sigterm = \"1s\"", ""));
    assert_eq!(steps(&r, T0), [2, -2, 2, -2, 2, -2]);
    let d = &r.deployments[1];
    assert_eq!((d.outcome, d.tasks_started, d.tasks_stopped, d.peak_tasks), ("completed", 6, 6, 8));
}

#[test]
fn six_tasks_room_for_eight_at_50_200_stop_three_start_five_stop_three_start_one() {
    let service = "minimum_healthy_percent = 50\ndeployments = [{ at = \"10m\", task_definition = \"api2\" }]\nexit_after_sigterm = \"1s\"";
    let r = run_text(&ec2(2, "api", 6, service, ""));
    assert_eq!(steps(&r, T0), [-3, 5, -3, 1]);
    assert_eq!(r.deployments[1].outcome, "completed");
}

#[test]
fn a_new_task_takes_the_host_of_a_task_still_stopping_unless_resources_wait_for_stopped() {
    let service = "minimum_healthy_percent = 0\nmaximum_percent = 100\ndeployments = [{ at = \"10m\" }]";
    let placed_new = |r: &RunResult| r.tasks.iter().filter(|t| t.arrived_at >= T0).map(|t| t.placed_at.unwrap()).min().unwrap();
    // Counting only pending and running tasks toward the maximum, the new task is started while
    // the old one stops (30 s stop timeout: it ignores SIGTERM).
    let pending = "maximum_percent_counts = \"running_pending\"";
    let now = run_text(&ec2(1, "whole", 1, service, pending));
    assert_eq!(placed_new(&now), T0);
    let later = run_text(&ec2(1, "whole", 1, service, &format!("{pending}\nrelease_resources_at = \"stopped\"")));
    // Not placed at STOPPING; retried after the back-off once the old task stopped at 30 s.
    assert!(placed_new(&later) >= T0 + SimTime::from_secs(30), "{:?}", placed_new(&later));
    let old = later.tasks.iter().find(|t| t.stop_reason == Some(StopReason::ServiceSchedulerInitiated)).unwrap();
    assert_eq!(old.stopped_at, Some(T0 + SimTime::from_secs(30)));
}

#[test]
fn circuit_breaker_fails_after_three_failures_and_rolls_back_or_after_ten_with_the_older_rule() {
    let service =
        "deployment_circuit_breaker = { enable = true, rollback = true }\ndeployments = [{ at = \"10m\", task_definition = \"gpu\" }]";
    let r = run_text(&ec2(1, "api", 1, service, ""));
    let d = &r.deployments[1];
    assert_eq!((d.outcome, d.failed_tasks), ("rolled_back", 3));
    assert_eq!(r.deployments.len(), 3);
    assert_eq!((r.deployments[2].cause.as_str(), r.deployments[2].outcome), ("rollback of ecs-svc/1", "completed"));
    assert_eq!(r.metrics.get(Metric::DeploymentsRolledBack), 1.0);
    let older = run_text(&ec2(1, "api", 1, service, "circuit_breaker_minimum = 10"));
    assert_eq!((older.deployments[1].outcome, older.deployments[1].failed_tasks), ("rolled_back", 10));
}

/// A Fargate service of `desired` tasks in one /24, updated at 10 min.
fn fargate(desired: u32, service: &str) -> String {
    format!(
        r#"horizon = "2h"
[cluster]
azs = ["a"]
[network]
eni_attach_delay = "0s"
eni_cleanup_delay = "60s"
[network.subnets.s]
az = "a"
cidr = "10.0.1.0/24"
[workload.web]
kind = "service"
task_definition = "fg"
launch_type = "FARGATE"
subnets = ["s"]
desired_count = {desired}
deregistration_delay = "300s"
deployments = [{{ at = "10m" }}]
{service}
"#
    )
}

#[test]
fn an_old_task_holds_its_address_through_deregistration_stop_timeout_and_clean_up() {
    let r = run_text(&fargate(1, "minimum_healthy_percent = 0\nmaximum_percent = 100"));
    let old = r.tasks.iter().find(|t| t.stop_reason == Some(StopReason::ServiceSchedulerInitiated)).unwrap();
    // 300 s deregistration + 30 s stop timeout, then STOPPED.
    assert_eq!(old.stopped_at, Some(T0 + SimTime::from_secs(330)));
    // Stopping tasks count toward the maximum: the new task starts when the old one stopped,
    // while its ENI is still being cleaned up, so the service holds two addresses.
    let new = r.tasks.iter().find(|t| t.arrived_at >= T0 && t.placed_at.is_some()).unwrap();
    assert_eq!(new.placed_at, Some(T0 + SimTime::from_secs(330)));
    assert_eq!(r.deployments[1].peak_addresses, 2);
    // The time series shows the stopping task's address until it stopped.
    let time = r.timeseries.column("time_s").unwrap();
    let held = r.timeseries.column("addresses_stopping").unwrap();
    let during: Vec<f64> = time.iter().zip(&held).filter(|(t, _)| **t > 600.0 && **t < 930.0).map(|(_, h)| *h).collect();
    assert!(!during.is_empty() && during.iter().all(|&h| h == 1.0), "{during:?}");
    assert!(time.iter().zip(&held).filter(|(t, _)| **t >= 930.0).all(|(_, h)| *h == 0.0));
}

#[test]
fn peak_addresses_follow_the_closed_form() {
    // (100, 200): all four new tasks start at once: 2d.
    let r = run_text(&fargate(4, ""));
    assert_eq!(r.deployments[1].peak_addresses, 8);
    // (50, 100): half stop; their replacements start when they stopped, while their ENIs are
    // cleaned up: d + d/2.
    let r = run_text(&fargate(4, "minimum_healthy_percent = 50\nmaximum_percent = 100"));
    assert_eq!(r.deployments[1].peak_addresses, 6);
    assert_eq!(r.deployments[1].outcome, "completed");
}
