//! NAT gateway outages in whole runs, against hand-computed times and bytes: a pull stalls for
//! exactly the outage and resumes, or fails at the image pull timeout; logs behind the gateway
//! lose max(0, rate × outage − buffer) per container in non-blocking mode and nothing in
//! blocking mode, where the task's work stalls for the outage instead; bad outage tables are
//! refused with the key and what is allowed.

use std::fs;

use clustersim::metrics::Metric;
use clustersim::model::StopReason;
use clustersim::model::egress::StartFailure;
use clustersim::placement::StrategyRegistry;
use clustersim::scenario::RawScenario;
use clustersim::scenario::sweep::Plan;
use clustersim::sim::{RunOptions, RunResult, run};

const US: u64 = 1_000_000;

/// A task definition with two awslogs containers; `mode` is the driver's `mode` option.
fn logging_taskdef(mode: &str) -> String {
    let container = |name: &str| {
        format!(
            r#"{{ "name": "{name}", "image": "public.ecr.aws/docker/library/busybox:1.36", "cpu": 128, "memory": 128,
               "logConfiguration": {{ "logDriver": "awslogs",
                 "options": {{ "awslogs-group": "/ecs/app", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app", "mode": "{mode}" }} }} }}"#
        )
    };
    format!(
        r#"{{ "family": "app", "requiresCompatibilities": ["EC2"], "containerDefinitions": [{}, {}] }}"#,
        container("a"),
        container("b")
    )
}

/// One m5.large host (93.75 MB/s) in a private subnet of AZ a, behind the NAT gateway of the
/// public subnet of AZ a; one task at 10 s.
fn scenario(taskdef: &str, body: &str) -> Result<RunResult, String> {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("app.json"), taskdef).unwrap();
    let path = dir.path().join("s.toml");
    let text = format!(
        r#"name = "nat-outage"
seed = 5
horizon = "3h"
task_definitions = ["app.json"]
[cluster]
azs = ["a", "b"]
[network.subnets.pub-a]
az = "a"
cidr = "10.0.0.0/24"
public = true
nat_gateway = true
[network.subnets.priv-a]
az = "a"
cidr = "10.0.1.0/24"
[host_groups.main]
instance_type = "m5.large"
count_per_az = 1
azs = ["a"]
subnets = ["priv-a"]
{body}"#
    );
    fs::write(&path, text).unwrap();
    let raw = RawScenario::read(&path).map_err(|e| e.to_string())?;
    let plan = Plan::build(&raw, None, &StrategyRegistry::new()).map_err(|e| e.to_string())?;
    let spec = plan.run(0).map_err(|e| e.to_string())?;
    Ok(run(&spec.scenario, spec.seed, RunOptions { record_tasks: true, explain: false }).unwrap())
}

const PULLER: &str = r#"{ "family": "app", "requiresCompatibilities": ["EC2"],
  "containerDefinitions": [{ "name": "app", "image": "public.ecr.aws/docker/library/busybox:1.36", "cpu": 128, "memory": 128 }] }"#;

fn one_pull(images_extra: &str) -> RunResult {
    // 937.5 MB at the host's 93.75 MB/s: 10 s alone, from 10 s; the NAT is down from 15 s to 75 s.
    scenario(
        PULLER,
        &format!(
            r#"[images]
default_size = 937500000
{images_extra}
[workload.one]
kind = "batch"
at = "10s"
count = 1
task_definition = "app"
run_time = "10m"
[failures]
nat_outage = [{{ az = "a", start = "15s", end = "75s" }}]
"#
        ),
    )
    .unwrap()
}

#[test]
fn a_nat_outage_stalls_a_pull_for_exactly_its_length() {
    let r = one_pull("");
    let t = &r.tasks[0];
    // 5 s of pull, 60 s stalled, the other 5 s, then the 1 s container start.
    assert_eq!(t.running_at.unwrap().0, (10 + 5 + 60 + 5 + 1) * US);
    assert!((r.metrics.get(Metric::NatGb) - 0.9375).abs() < 1e-9, "{}", r.metrics.get(Metric::NatGb));
    assert_eq!(r.metrics.get(Metric::PullFailedTimeout), 0.0);
}

#[test]
fn a_pull_stalled_past_the_image_pull_timeout_fails_with_cannot_pull_container() {
    let r = one_pull("image_pull_timeout = \"30s\"");
    let t = &r.tasks[0];
    assert_eq!(t.running_at, None);
    assert_eq!(t.stopped_at.unwrap().0, 40 * US, "began at 10 s, gave up 30 s later");
    assert_eq!(t.stop_reason, Some(StopReason::PullFailed(StartFailure::PullTimeout)));
    assert_eq!(r.metrics.get(Metric::PullFailedTimeout), 1.0);
    // Only the 5 s moved before the outage crossed the NAT gateway: 468.75 MB.
    assert!((r.metrics.get(Metric::NatGb) - 0.46875).abs() < 1e-9, "{}", r.metrics.get(Metric::NatGb));
}

#[test]
fn a_timeout_longer_than_the_stall_lets_the_pull_finish() {
    let r = one_pull("image_pull_timeout = \"71s\"");
    assert_eq!(r.tasks[0].running_at.unwrap().0, 81 * US, "finished at 80 s, one second inside the timeout");
}

fn logging_run(mode: &str) -> RunResult {
    // A 1-byte image (pulled in an instant), RUNNING at 11 s for 1 h; each container logs
    // 10,000 B/s; the NAT is down for 30 minutes from 20 minutes.
    scenario(
        &logging_taskdef(mode),
        r#"[images]
default_size = 1
[logs]
default_rate = "10000B/s"
[workload.one]
kind = "batch"
at = "10s"
count = 1
task_definition = "app"
run_time = "1h"
[failures]
nat_outage = [{ az = "a", start = "20m", end = "50m" }]
"#,
    )
    .unwrap()
}

#[test]
fn non_blocking_logs_lose_the_outage_minus_the_buffer_per_container() {
    let r = logging_run("non-blocking");
    // Per container: 10,000 B/s × 1,800 s = 18,000,000 B, of which the 10 MiB buffer keeps
    // 10,485,760: 7,514,240 B lost; two containers.
    let lost = r.metrics.get(Metric::LostLogBytes);
    assert!((lost - 2.0 * 7_514_240.0).abs() < 1e-3, "{lost}");
    assert_eq!(r.metrics.get(Metric::LogStalledS), 0.0);
    let t = &r.tasks[0];
    assert_eq!(t.stopped_at.unwrap().0 - t.running_at.unwrap().0, 3600 * US, "the work did not wait for the logs");
}

#[test]
fn blocking_logs_lose_nothing_and_the_task_stalls_for_the_outage() {
    let r = logging_run("blocking");
    assert_eq!(r.metrics.get(Metric::LostLogBytes), 0.0);
    assert!((r.metrics.get(Metric::LogStalledS) - 2.0 * 1800.0).abs() < 1e-6, "{}", r.metrics.get(Metric::LogStalledS));
    let t = &r.tasks[0];
    assert_eq!(t.stop_reason, Some(StopReason::Completed));
    assert_eq!(t.stopped_at.unwrap().0 - t.running_at.unwrap().0, (3600 + 1800) * US, "1 h of work plus 30 min blocked");
}

#[test]
fn a_task_that_starts_during_the_outage_with_blocking_logs_works_only_once_the_gateway_is_back() {
    // Pull behaviour `once`: the first task pulls at 10 s, the second (at 25 min, inside the
    // 20–50 min outage) starts from the host's cache at 25 min + 1 s with its logs already
    // blocked, so its hour of work runs from 50 min.
    let r = scenario(
        &logging_taskdef("blocking"),
        r#"[images]
default_size = 1
pull_behavior = "once"
[logs]
default_rate = "10000B/s"
[workload.first]
kind = "batch"
at = "10s"
count = 1
task_definition = "app"
run_time = "1m"
[workload.second]
kind = "batch"
at = "25m"
count = 1
task_definition = "app"
run_time = "1h"
[failures]
nat_outage = [{ az = "a", start = "20m", end = "50m" }]
"#,
    )
    .unwrap();
    let t = r.tasks.iter().find(|t| t.workload == 1).unwrap();
    assert_eq!(t.running_at.unwrap().0, (1500 + 1) * US);
    assert_eq!(t.stopped_at.unwrap().0, (3000 + 3600) * US);
    // Blocked from 25 min + 1 s to 50 min, both containers.
    assert!((r.metrics.get(Metric::LogStalledS) - 2.0 * 1499.0).abs() < 1e-6, "{}", r.metrics.get(Metric::LogStalledS));
}

fn refused(failures: &str, key: &str, needle: &str) {
    let body =
        format!("[images]\n[workload.one]\nkind = \"batch\"\nat = \"10s\"\ncount = 1\ntask_definition = \"app\"\n[failures]\n{failures}\n");
    let e = scenario(PULLER, &body).err().unwrap_or_else(|| panic!("accepted {failures}"));
    assert!(e.contains(key), "error does not name `{key}`: {e}");
    assert!(e.contains(needle), "error does not say `{needle}`: {e}");
    assert!(e.contains("s.toml"), "error does not name the file: {e}");
}

#[test]
fn bad_nat_outages_are_refused_with_the_key_and_what_is_allowed() {
    refused(r#"nat_outage = [{ az = "z", start = "1m", end = "2m" }]"#, "failures.nat_outage[0].az", "cluster.azs: a, b");
    refused(r#"nat_outage = [{ az = "b", start = "1m", end = "2m" }]"#, "failures.nat_outage[0].az", "AZs with one: a");
    refused(r#"nat_outage = [{ az = "a", start = "2m", end = "1m" }]"#, "failures.nat_outage[0].end", "later than start");
    refused(r#"nat_outage = [{ az = "a", start = "4h", end = "5h" }]"#, "failures.nat_outage[0].start", "before the horizon");
    refused(
        r#"nat_outage = [{ az = "a", start = "1m", end = "5m" }, { az = "a", start = "4m", end = "6m" }]"#,
        "failures.nat_outage[1].start",
        "overlaps failures.nat_outage[0]",
    );
    refused(r#"nat_outage = [{ az = "a", start = "1m", end = "2m", extra = 1 }]"#, "failures.nat_outage[0].extra", "unknown key");
    refused(r#"nat_outage = ["a"]"#, "failures.nat_outage[0]", "expected a table");
    // Nothing crosses a NAT gateway without [images] or [logs].
    let body = "[workload.one]\nkind = \"batch\"\nat = \"10s\"\ncount = 1\ntask_definition = \"app\"\n[failures]\nnat_outage = [{ az = \"a\", start = \"1m\", end = \"2m\" }]\n";
    let e = scenario(PULLER, body).err().unwrap();
    assert!(e.contains("failures.nat_outage[0]") && e.contains("[images] or [logs]"), "{e}");
}

#[test]
fn a_pull_too_slow_for_the_image_pull_timeout_fails_without_any_outage() {
    // 10 GB at 93.75 MB/s would take 106.7 s; the agent gives up after 60 s.
    let r = scenario(
        PULLER,
        "[images]\ndefault_size = 10000000000\nimage_pull_timeout = \"60s\"\n[workload.one]\nkind = \"batch\"\nat = \"10s\"\ncount = 1\ntask_definition = \"app\"\n",
    )
    .unwrap();
    let t = &r.tasks[0];
    assert_eq!((t.stopped_at.unwrap().0, t.stop_reason), (70 * US, Some(StopReason::PullFailed(StartFailure::PullTimeout))));
}

#[test]
fn the_shipped_nat_outage_scenario_shows_lost_logs_without_blocking_and_stalls_with_it() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/nat-outage.toml");
    let raw = RawScenario::read(&path).unwrap();
    let plan = Plan::build(&raw, None, &StrategyRegistry::new()).unwrap();
    let run_point = |point: usize| {
        let index = (0..plan.run_count()).find(|&i| plan.run_info(i).point == point).unwrap();
        let spec = plan.run(index).unwrap();
        run(&spec.scenario, spec.seed, RunOptions::default()).unwrap()
    };
    let (non_blocking, blocking) = (run_point(0), run_point(1));
    // The 60 API containers alone: 20 KiB/s × 1,800 s − 10 MiB each lost, or 1,800 s blocked each.
    let api_lost = 60.0 * (20.0 * 1024.0 * 1800.0 - 10.0 * 1024.0 * 1024.0);
    assert!(non_blocking.metrics.get(Metric::LostLogBytes) > api_lost, "{}", non_blocking.metrics.get(Metric::LostLogBytes));
    assert_eq!(non_blocking.metrics.get(Metric::LogStalledS), 0.0);
    assert_eq!(blocking.metrics.get(Metric::LostLogBytes), 0.0);
    assert!(blocking.metrics.get(Metric::LogStalledS) > 60.0 * 1800.0, "{}", blocking.metrics.get(Metric::LogStalledS));
}
