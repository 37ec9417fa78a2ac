//! Host failures and AZ outages in whole runs, against counts computed by hand from the input:
//! what an outage takes down and where replacements go, what spread(AZ) and binpack lose, the
//! number of failures a failure process produces, and the recovery metrics.

use std::fs;

use clustersim::engine::SimTime;
use clustersim::metrics::Metric;
use clustersim::model::StopReason;
use clustersim::placement::StrategyRegistry;
use clustersim::scenario::RawScenario;
use clustersim::scenario::sweep::Plan;
use clustersim::sim::{RunOptions, RunResult, TaskRow, run};

/// 1 vCPU, 2 GiB: four per m5.xlarge (4,096 CPU units), by CPU.
const API: &str = r#"{ "family": "api", "requiresCompatibilities": ["EC2"], "cpu": "1024", "memory": "2048",
  "containerDefinitions": [{ "name": "app", "image": "app:1", "essential": true }] }"#;
const API_VPC: &str = r#"{ "family": "api-vpc", "networkMode": "awsvpc", "requiresCompatibilities": ["EC2"], "cpu": "1024", "memory": "2048",
  "containerDefinitions": [{ "name": "app", "image": "app:1", "essential": true }] }"#;
const FG: &str = r#"{ "family": "fg", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
  "containerDefinitions": [{ "name": "app", "image": "app:1", "essential": true }] }"#;

fn run_text(body: &str, seed: u64) -> RunResult {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("api.json", API), ("api-vpc.json", API_VPC), ("fg.json", FG)] {
        fs::write(dir.path().join(name), text).unwrap();
    }
    let path = dir.path().join("s.toml");
    fs::write(
        &path,
        format!("name = \"failures\"\nseed = {seed}\ntask_definitions = [\"api.json\", \"api-vpc.json\", \"fg.json\"]\n{body}"),
    )
    .unwrap();
    let raw = RawScenario::read(&path).unwrap();
    let plan = Plan::build(&raw, None, &StrategyRegistry::new()).unwrap_or_else(|e| panic!("{e}"));
    let spec = plan.run(0).unwrap_or_else(|e| panic!("{e}"));
    run(&spec.scenario, spec.seed, RunOptions { record_tasks: true, explain: true }).unwrap_or_else(|e| panic!("invariant: {e}"))
}

const H: u64 = 3600;

fn at(row: &TaskRow, t: SimTime) -> bool {
    row.placed_at.is_some_and(|p| p <= t) && row.stopped_at.is_none_or(|s| s > t)
}

/// Three AZs with a private subnet each; `hosts` m5.xlarge per AZ; AZ `a` is down from 1 h to 2 h.
fn outage_scenario(hosts: u32, workloads: &str) -> String {
    format!(
        r#"horizon = "3h"
[cluster]
azs = ["a", "b", "c"]
[network.subnets.sa]
az = "a"
cidr = "10.0.1.0/24"
[network.subnets.sb]
az = "b"
cidr = "10.0.2.0/24"
[network.subnets.sc]
az = "c"
cidr = "10.0.3.0/24"
[host_groups.main]
instance_type = "m5.xlarge"
count_per_az = {hosts}
subnets = ["sa", "sb", "sc"]
[failures]
replacement_delay = "2m"
[[failures.az_outage]]
az = "a"
start = "1h"
end = "2h"
{workloads}"#
    )
}

#[test]
fn while_an_az_is_down_nothing_is_placed_there_and_every_task_it_held_is_lost_then_replaced_or_pending() {
    let workloads = r#"
[workload.web]
kind = "service"
task_definition = "api-vpc"
desired_count = 18
start_delay = "10s"
subnets = ["sa", "sb", "sc"]
[workload.fg]
kind = "service"
task_definition = "fg"
launch_type = "FARGATE"
desired_count = 9
start_delay = "20s"
subnets = ["sa", "sb", "sc"]
"#;
    let r = run_text(&outage_scenario(3, workloads), 5);
    let (t1, t2) = (SimTime::from_secs(H), SimTime::from_secs(2 * H));
    let in_a = |row: &TaskRow| row.az == Some(clustersim::model::AzId(0));
    // Nothing placed in a from the outage until its hosts are back (2 min after it ends).
    let placed_in_a_while_down =
        r.tasks.iter().filter(|t| in_a(t) && t.placed_at.is_some_and(|p| p >= t1 && p < t2 + SimTime::from_secs(120))).count();
    assert_eq!(placed_in_a_while_down, 0);
    // Everything that ran in a at t1 stopped at t1, as lost.
    let there: Vec<&TaskRow> = r.tasks.iter().filter(|t| in_a(t) && at(t, SimTime(t1.0 - 1))).collect();
    assert!(there.len() >= 9, "spread(AZ) put a third of 27 tasks in a: {}", there.len());
    for t in &there {
        assert_eq!(t.stopped_at, Some(t1), "task {}", t.task);
        let expected = if t.host.is_some() { StopReason::HostTerminated } else { StopReason::AzUnavailable };
        assert_eq!(t.stop_reason, Some(expected), "task {}", t.task);
    }
    assert_eq!(r.metrics.get(Metric::TasksLostAzOutage), there.len() as f64);
    assert_eq!(r.metrics.get(Metric::OutcomeLost), there.len() as f64);
    // The other AZs have room (6 hosts × 4 slots for 18 EC2 tasks; Fargate has no hosts): every
    // lost task is replaced there before the AZ returns.
    let running_before_return = r.tasks.iter().filter(|t| at(t, SimTime(t2.0 - 1)) && t.running_at.is_some_and(|s| s < t2)).count();
    assert_eq!(running_before_return, 27);
    // At the horizon each service holds its desired count, running or pending.
    let live = |w: u32| r.tasks.iter().filter(|t| t.workload == w && t.stopped_at.is_none()).count();
    assert_eq!((live(0), live(1)), (9, 18), "fg and web (workloads in name order)");
}

#[test]
fn spread_across_three_azs_loses_exactly_a_third_of_the_service_to_one_az() {
    let workloads = r#"
[workload.web]
kind = "service"
task_definition = "api"
desired_count = 24
placement = { strategy = "spread(attribute:ecs.availability-zone),binpack(cpu)" }
"#;
    let r = run_text(&outage_scenario(4, workloads), 1);
    assert_eq!(r.metrics.get(Metric::TasksLostAzOutage), 8.0);
    // 16 of 24 ran until the replacements (no start delay) ran in the same instant: no dip lasted.
    assert_eq!(r.metrics.get(Metric::ServiceRunningFractionMin), 1.0);
}

#[test]
fn binpack_loses_what_it_packed_into_the_lost_az() {
    // One host per AZ of different sizes: binpack(memory) fills the tightest fit first, the
    // m5.large in a (7,987 MiB registered: 3 tasks of 2 GiB), then the m5.xlarge in b (15,974 MiB:
    // 7), then the m5.2xlarge in c. 12 tasks: 3 in a, 7 in b, 2 in c. Losing b loses 7, and c
    // (15 tasks by memory) takes them all: 3 + 9 running, none waiting.
    let body = r#"horizon = "3h"
[cluster]
azs = ["a", "b", "c"]
[host_groups.small]
instance_type = "m5.large"
count_per_az = 1
azs = ["a"]
[host_groups.medium]
instance_type = "m5.xlarge"
count_per_az = 1
azs = ["b"]
[host_groups.large]
instance_type = "m5.2xlarge"
count_per_az = 1
azs = ["c"]
[workload.web]
kind = "service"
task_definition = "mem"
desired_count = 12
start_delay = "1m"
placement = { strategy = "binpack(memory)" }
[failures]
[[failures.az_outage]]
az = "b"
start = "1h"
end = "2h"
"#;
    let dir = tempfile::tempdir().unwrap();
    // 0.25 vCPU, 2 GiB: memory binds on every type.
    fs::write(
        dir.path().join("mem.json"),
        r#"{ "family": "mem", "requiresCompatibilities": ["EC2"], "cpu": "256", "memory": "2048", "containerDefinitions": [{ "name": "app", "image": "app:1" }] }"#,
    )
    .unwrap();
    let path = dir.path().join("s.toml");
    fs::write(&path, format!("name = \"binpack\"\ntask_definitions = [\"mem.json\"]\n{body}")).unwrap();
    let raw = RawScenario::read(&path).unwrap();
    let plan = Plan::build(&raw, None, &StrategyRegistry::new()).unwrap();
    let spec = plan.run(0).unwrap();
    let r = run(&spec.scenario, spec.seed, RunOptions { record_tasks: true, explain: true }).unwrap();
    assert_eq!(r.metrics.get(Metric::TasksLostAzOutage), 7.0);
    let per_host_at = |t: SimTime| {
        let mut n = [0; 3];
        for row in r.tasks.iter().filter(|row| at(row, t)) {
            n[row.host.unwrap().0 as usize] += 1;
        }
        n
    };
    // Hosts are numbered by group name: large (c), medium (b), small (a).
    assert_eq!(per_host_at(SimTime::from_secs(H - 1)), [2, 7, 3]);
    assert_eq!(per_host_at(SimTime::from_secs(2 * H - 1)), [9, 0, 3]);
    // 5 of 12 ran for the start delay: the lowest share 5/12, below 90 % for exactly 1 minute,
    // one episode of 1 minute.
    assert_eq!(r.metrics.get(Metric::ServiceRunningFractionMin), 5.0 / 12.0);
    assert_eq!(r.metrics.get(Metric::ServiceTimeDegraded), 60.0);
    assert_eq!(r.metrics.get(Metric::RecoveryEpisodes), 1.0);
    assert_eq!(r.metrics.get(Metric::RecoveryTimeMax), 60.0);
    // No rebalancing when b returns: its host comes back empty and stays so.
    assert_eq!(per_host_at(SimTime::from_secs(3 * H - 1)), [9, 0, 3]);
}

#[test]
fn host_failures_at_rate_one_over_mtbf_match_the_poisson_count_within_three_standard_errors() {
    // 30 hosts, MTBF 10 days, instant replacement, 1,000 days: failures are a Poisson process of
    // rate 30 / 10 d, so the count is Poisson with mean 3,000 and standard deviation √3,000.
    let body = r#"horizon = "1000d"
sample_interval = "1d"
[cluster]
azs = ["a", "b", "c"]
[host_groups.main]
instance_type = "m5.xlarge"
count_per_az = 10
[workload.web]
kind = "service"
task_definition = "api"
desired_count = 3
[failures]
replacement_delay = 0
[failures.host_groups.main]
mtbf = "10d"
"#;
    let mean = 3000.0_f64;
    for seed in [1, 2, 3] {
        let r = run_text(body, seed);
        let n = r.metrics.get(Metric::HostFailures);
        assert!((n - mean).abs() < 3.0 * mean.sqrt(), "seed {seed}: {n} failures, expected {mean} ± {}", 3.0 * mean.sqrt());
        // Every failure of a host holding a task lost it, and the service replaced it.
        assert_eq!(
            r.metrics.get(Metric::TasksLostHostFailure),
            r.tasks.iter().filter(|t| t.stop_reason == Some(StopReason::HostTerminated)).count() as f64
        );
        assert_eq!(r.tasks.iter().filter(|t| t.stopped_at.is_none()).count(), 3);
    }
}

#[test]
fn weibull_host_failures_renew_at_one_over_the_mean() {
    // Renewal theorem: over t ≫ MTBF a host fails t / MTBF times on average (plus (CV² − 1) / 2,
    // small), with variance (t / MTBF) · CV²; for shape 2, CV² = 4/π − 1.
    let body = r#"horizon = "1000d"
sample_interval = "1d"
[cluster]
azs = ["a"]
[host_groups.main]
instance_type = "m5.xlarge"
count_per_az = 30
[workload.web]
kind = "service"
task_definition = "api"
desired_count = 1
[failures]
replacement_delay = 0
[failures.host_groups.main]
mtbf = "10d"
distribution = "weibull"
weibull_shape = 2.0
"#;
    let cv2 = 4.0 / std::f64::consts::PI - 1.0;
    let mean = 3000.0 + 30.0 * (cv2 - 1.0) / 2.0;
    let sd = (3000.0 * cv2).sqrt();
    let n = run_text(body, 4).metrics.get(Metric::HostFailures);
    assert!((n - mean).abs() < 3.0 * sd, "{n} failures, expected {mean} ± {}", 3.0 * sd);
}

#[test]
fn a_replacement_waits_for_its_delay_and_the_service_recovers_after_it() {
    // One host, one task: the host fails at some time T; its replacement registers at T + 5 min
    // and the task, waiting meanwhile (no other host), is placed then and runs 30 s later.
    let body = r#"horizon = "20d"
[cluster]
azs = ["a"]
[host_groups.main]
instance_type = "m5.xlarge"
count_per_az = 1
[service_scheduler]
retry_initial = "1s"
retry_max = "1s"
[workload.web]
kind = "service"
task_definition = "api"
desired_count = 1
start_delay = "30s"
[failures]
replacement_delay = "5m"
[failures.host_groups.main]
mtbf = "5d"
"#;
    let r = run_text(body, 9);
    let lost: Vec<&TaskRow> = r.tasks.iter().filter(|t| t.stop_reason == Some(StopReason::HostTerminated)).collect();
    assert!(!lost.is_empty(), "20 days at an MTBF of 5 days: some failure");
    for l in &lost {
        let failed = l.stopped_at.unwrap();
        let next = r.tasks.iter().find(|t| t.arrived_at == failed && t.task != l.task).expect("a replacement task is wanted at once");
        let placed = next.placed_at.expect("placed once the host is back");
        // Placed at the first retry (1 s apart) at or after the host's return.
        assert!(placed >= failed + SimTime::from_secs(300) && placed <= failed + SimTime::from_secs(301), "{placed:?}");
        assert_eq!(next.running_at, Some(placed + SimTime::from_secs(30)));
    }
    assert_eq!(r.metrics.get(Metric::ServiceRunningFractionMin), 0.0);
}

#[test]
fn an_az_outage_takes_its_nat_gateway_down_and_a_pull_through_it_stalls_for_the_outage() {
    // The host is in AZ b, its private subnet routes through the one NAT gateway, in AZ a. 937.5 MB
    // at the m5.large's 93.75 MB/s take 10 s alone from 10 s; AZ a is down from 15 s to 75 s, so
    // 5 s of the pull remain at 75 s: the image is present at 80 s and the task runs 1 s later
    // (container start delay).
    let body = r#"horizon = "1h"
[cluster]
azs = ["a", "b"]
[network]
nat = "single"
[network.subnets.pub-a]
az = "a"
cidr = "10.0.0.0/24"
public = true
nat_gateway = true
[network.subnets.priv-b]
az = "b"
cidr = "10.0.2.0/24"
[host_groups.main]
instance_type = "m5.large"
count_per_az = 1
azs = ["b"]
subnets = ["priv-b"]
[images]
default_size = 937500000
[workload.one]
kind = "batch"
at = "10s"
count = 1
task_definition = "api"
run_time = "10m"
[failures]
[[failures.az_outage]]
az = "a"
start = "15s"
end = "75s"
"#;
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("small.json"),
        r#"{ "family": "api", "requiresCompatibilities": ["EC2"], "containerDefinitions": [{ "name": "app", "image": "public.ecr.aws/docker/library/busybox:1.36", "cpu": 128, "memory": 128 }] }"#,
    )
    .unwrap();
    let path = dir.path().join("s.toml");
    fs::write(&path, format!("name = \"nat-az\"\nseed = 2\ntask_definitions = [\"small.json\"]\n{body}")).unwrap();
    let raw = RawScenario::read(&path).unwrap();
    let plan = Plan::build(&raw, None, &StrategyRegistry::new()).unwrap_or_else(|e| panic!("{e}"));
    let spec = plan.run(0).unwrap();
    let r = run(&spec.scenario, spec.seed, RunOptions { record_tasks: true, explain: false }).unwrap();
    assert_eq!(r.tasks[0].running_at, Some(SimTime::from_secs(81)));
    assert_eq!(r.metrics.get(Metric::TasksLostAzOutage), 0.0, "no host and no Fargate task in a");
}
