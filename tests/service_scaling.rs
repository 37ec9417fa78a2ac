//! Service auto scaling in whole runs: a step in the request load scales out at the third
//! datapoint to the tracked count, a drop scales in after fifteen and stops tasks without
//! replacing them, the bounds hold, and a scaled service on a capacity provider makes its Auto
//! Scaling group grow.

mod common;

use clustersim::metrics::Metric;
use clustersim::sim::RunResult;

/// A quarter vCPU, 512 MiB.
const WEB: &str = r#"{ "family": "web", "networkMode": "bridge", "requiresCompatibilities": ["EC2"],
  "containerDefinitions": [{ "name": "web", "image": "web:1", "cpu": 256, "memory": 512, "essential": true }] }"#;

fn run_text(body: &str) -> RunResult {
    let text = format!("name = \"sas\"\nseed = 5\nsample_interval = \"1m\"\ntask_definitions = [\"web.json\"]\n{body}");
    common::run_first(common::plan(&[("web.json", WEB)], &text))
}

/// Ten m5.xlarge in one AZ; service `web` of 10 tasks scaled between 2 and 40 by
/// `auto_scaling` (the rest of its table), then `extra`.
fn scaled_service(horizon: &str, auto_scaling: &str, extra: &str) -> String {
    format!(
        r#"horizon = "{horizon}"
[cluster]
azs = ["a"]
[host_groups.main]
instance_type = "m5.xlarge"
count_per_az = 10
[workload.web]
kind = "service"
task_definition = "web"
desired_count = 10
[workload.web.auto_scaling]
min_capacity = 2
max_capacity = 40
{auto_scaling}
{extra}
"#
    )
}

/// Service `web` tracking CPU (`policy`) under `load`, 10 ms of CPU a request.
fn scenario(horizon: &str, load: &str, policy: &str, extra: &str) -> String {
    scaled_service(horizon, &format!("cpu_seconds_per_request = 0.01\npolicies = [{policy}]\nload = {load}"), extra)
}

fn column(r: &RunResult, name: &str) -> Vec<(u64, f64)> {
    let col = r.timeseries.columns.iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name}"));
    r.timeseries.rows.iter().map(|row| (row[0] as u64, row[col])).collect()
}

fn at(series: &[(u64, f64)], t: u64) -> f64 {
    series.iter().find(|(s, _)| *s == t).map(|(_, v)| *v).unwrap_or_else(|| panic!("no sample at {t}"))
}

/// 150 requests/s, then 225 from 10.5 minutes: 60 % CPU on 10 tasks, then 90 %.
const STEP_LOAD: &str = r#"{ schedule = [{ from = "0s", rate_per_s = 150 }, { from = "630s", rate_per_s = 225 }] }"#;

#[test]
fn a_step_in_load_scales_out_at_the_third_datapoint_to_the_tracked_count() {
    // 10 tasks of 0.25 vCPU; 150 requests/s of 10 ms = 1.5 vCPU = 60 % until 10 min, then 225/s
    // = 90 %: datapoints at 11, 12 and 13 min are above 60, so at 13 min the count goes to
    // ceil(10 × 90 / 60) = 15. (Readings at the 10-minute mark still see 60 %: not above.)
    let r = run_text(&scenario("30m", STEP_LOAD, r#"{ metric = "cpu", target = 60 }"#, ""));
    let desired = column(&r, "desired_web");
    // Samples come before the minute's evaluation at the same instant.
    assert_eq!(at(&desired, 13 * 60), 10.0);
    assert_eq!(at(&desired, 14 * 60), 15.0);
    // With 15 tasks the load is 60 %: no further step.
    assert_eq!(desired.last().unwrap().1, 15.0);
    assert_eq!(r.metrics.get(Metric::ServiceScaleOuts), 1.0);
    assert_eq!(r.metrics.get(Metric::OutcomeRunningEnd), 15.0);
    let cpu = column(&r, "scaling_cpu_web");
    assert!((at(&cpu, 12 * 60) - 90.0).abs() < 1e-9);
}

#[test]
fn a_drop_in_load_scales_in_after_fifteen_datapoints_without_replacements() {
    // 150/s until 30 s, then 50/s: 20 % on 10 tasks, below 54 from the first minute; the 15th
    // low datapoint is at 15 min: ceil(10 × 20 / 60) = 4 tasks.
    let load = r#"{ schedule = [{ from = "0s", rate_per_s = 150 }, { from = "30s", rate_per_s = 50 }] }"#;
    let r = run_text(&scenario("40m", load, r#"{ metric = "cpu", target = 60 }"#, ""));
    let desired = column(&r, "desired_web");
    assert_eq!(at(&desired, 15 * 60), 10.0);
    assert_eq!(at(&desired, 16 * 60), 4.0);
    assert_eq!(r.metrics.get(Metric::OutcomeScaledIn), 6.0);
    assert_eq!(r.metrics.get(Metric::OutcomeRunningEnd), 4.0, "stopped tasks are not replaced");
    // 4 tasks at 50 %: between 54 and 60, nothing more.
    assert_eq!(r.metrics.get(Metric::ServiceScaleIns), 1.0);
    // With [failures] (none happen in 40 minutes at this rate) the service's running count is
    // followed against its desired count as it moves: a scale-in is not a loss.
    let calm = "[failures]\n[failures.host_groups.main]\nmtbf = \"100000d\"";
    let r = run_text(&scenario("40m", load, r#"{ metric = "cpu", target = 60 }"#, calm));
    assert_eq!(r.metrics.get(Metric::HostFailures), 0.0);
    assert_eq!((r.metrics.get(Metric::ServiceRunningFractionMin), r.metrics.get(Metric::ServiceTimeDegraded)), (1.0, 0.0));
    assert_eq!(r.metrics.get(Metric::RecoveryEpisodes), 0.0);
}

#[test]
fn requests_per_target_and_the_bounds() {
    // 1,000 requests per target per minute wanted; 50/s on 10 tasks is 300: scale in, but not
    // below min_capacity 2 … ceil(10 × 300 / 1000) = 3.
    let load = r#"{ rate_per_s = 50 }"#;
    let r = run_text(&scenario("30m", load, r#"{ metric = "requests_per_target", target = 1000 }"#, ""));
    assert_eq!(column(&r, "desired_web").last().unwrap().1, 3.0);
    // 2,000/s on 10 tasks: 12,000 per target; ceil(10 × 12) = 120, capped at max_capacity 40.
    let r = run_text(&scenario("10m", r#"{ rate_per_s = 2000 }"#, r#"{ metric = "requests_per_target", target = 1000 }"#, ""));
    assert_eq!(r.metrics.get(Metric::ServiceDesiredMax), 40.0);
}

#[test]
fn a_scaled_service_on_a_capacity_provider_grows_its_auto_scaling_group() {
    // 1,600 requests/s at 10 ms = 16 vCPU; at 60 %: 107 tasks of 0.25 vCPU, capped at 40;
    // 40 tasks need 3 m5.xlarge by CPU (16 per instance); the group starts with 1.
    let body = scenario("1h", r#"{ rate_per_s = 1600 }"#, r#"{ metric = "cpu", target = 60 }"#, "")
        .replace("count_per_az = 10", "count_per_az = 1")
        .replace("[cluster]\n", "[cluster]\ndefault_capacity_provider_strategy = [{ capacity_provider = \"cp\", weight = 1 }]\n")
        + "[capacity_providers.cp]\nhost_group = \"main\"\nmax_size = 10\n";
    let r = run_text(&body);
    assert_eq!(r.metrics.get(Metric::ServiceDesiredMax), 40.0);
    assert_eq!(r.metrics.get(Metric::OutcomeRunningEnd), 40.0);
    assert_eq!(column(&r, "instances_cp").last().unwrap().1, 3.0);
    assert!(r.metrics.get(Metric::CapacityWaitTasks) > 0.0, "the new tasks waited for instances");
}

#[test]
fn scheduled_actions_move_the_bounds_and_the_count_at_their_time() {
    // 50 requests/s on 10 tasks is 300 per target per minute: at target, no tracking step.
    let body = scenario(
        "40m",
        r#"{ rate_per_s = 50 }"#,
        r#"{ metric = "requests_per_target", target = 300 }"#,
        r#"scheduled_actions = [{ at = "10m", min_capacity = 20 }, { at = "25m", max_capacity = 12 }]"#,
    );
    let r = run_text(&body);
    let desired = column(&r, "desired_web");
    assert_eq!(at(&desired, 540), 10.0);
    assert_eq!(at(&desired, 660), 20.0, "the new minimum applies at 10 min, whatever the cooldown");
    // 20 tasks at 150 per target are low, but the minimum holds them at 20 until 25 min.
    assert_eq!(at(&desired, 1440), 20.0);
    assert_eq!(at(&desired, 1560), 12.0);
    assert_eq!(desired.last().unwrap().1, 12.0);
}

/// Service `web` of 10 tasks whose container uses a constant `usage` of its 512 MiB, tracking
/// memory at 50 % (no request load).
fn memory_tracked(usage: &str) -> RunResult {
    let memory = format!("[memory]\n[memory.web.web]\nstart = {{ distribution = \"constant\", value = \"{usage}\" }}\ninterval = \"1h\"");
    run_text(&scaled_service("1h", "policies = [{ metric = \"memory\", target = 50 }]", &memory))
}

#[test]
fn memory_tracking_follows_what_the_tasks_use_and_keeps_scaling_out_when_usage_does_not_follow_load() {
    // 384 of 512 MiB = 75 % against a 50 % target: ceil(10 × 75 / 50) = 15. New tasks use as
    // much, so the service stays at 75 % and scales again after each 300 s cooldown:
    // ceil(15 × 1.5) = 23, ceil(23 × 1.5) = 35, then the maximum of 40.
    let r = memory_tracked("384MiB");
    let desired = column(&r, "desired_web");
    let mut steps: Vec<f64> = desired.iter().map(|&(_, d)| d).collect();
    steps.dedup();
    assert_eq!(steps, vec![10.0, 15.0, 23.0, 35.0, 40.0]);
    let memory = column(&r, "scaling_memory_web");
    assert!((at(&memory, 30 * 60) - 75.0).abs() < 1e-9);
    // At 40 % (205 of 512 MiB) it scales in after fifteen low datapoints, to ceil(10 × 40.04 / 50) = 9.
    let r = memory_tracked("205MiB");
    let mut steps: Vec<f64> = column(&r, "desired_web").iter().map(|&(_, d)| d).collect();
    steps.dedup();
    assert_eq!(steps[..2], [10.0, 9.0]);
}

#[test]
fn memory_tracking_needs_a_usage_model() {
    let text = scenario("1h", "{ rate_per_s = 1 }", r#"{ metric = "memory", target = 50 }"#, "");
    let full = format!("name = \"sas\"\nseed = 5\ntask_definitions = [\"web.json\"]\n{text}");
    let e = common::plan(&[("web.json", WEB)], &full).unwrap_err();
    assert!(e.contains("workload.web.auto_scaling.policies[0].metric") && e.contains("[memory.web.<container>]"), "{e}");
}

#[test]
fn a_step_policy_scales_by_the_step_the_breach_falls_in_once_its_alarm_fires() {
    // The load of the first test: 60 % CPU until 10.5 min, then 90 %. The alarm (≥ 70 %, 3 of 3
    // minutes) fires at 13 min; 90 − 70 = 20 falls in the second step: + 5, to 15 tasks, which
    // brings CPU to 60 %: no further step.
    let step = r#"cpu_seconds_per_request = 0.01
load = LOAD
step_policies = [{ metric = "cpu", alarm = { threshold = 70, evaluation_periods = 3 },
  steps = [{ lower = 0, upper = 15, adjustment = 2 }, { lower = 15, adjustment = 5 }] }]"#
        .replace("LOAD", STEP_LOAD);
    let r = run_text(&scaled_service("30m", &step, ""));
    let desired = column(&r, "desired_web");
    assert_eq!(at(&desired, 13 * 60), 10.0);
    assert_eq!(at(&desired, 14 * 60), 15.0);
    assert_eq!(desired.last().unwrap().1, 15.0);
    assert_eq!(r.metrics.get(Metric::ServiceScaleOuts), 1.0);
    assert!((at(&column(&r, "scaling_cpu_web"), 12 * 60) - 90.0).abs() < 1e-9);
}

/// Service auto scaling while hosts fail (a mean of 4 hours between failures per host, two
/// minutes to replace one): under a rising then falling load the service scales out and in,
/// its lost tasks are replaced, and the service's bookkeeping holds at the end of every run
/// (checked by the run itself), for several seeds.
#[test]
fn a_scaled_service_scales_through_host_failures() {
    let load =
        r#"{ schedule = [{ from = "0s", rate_per_s = 150 }, { from = "30m", rate_per_s = 300 }, { from = "2h", rate_per_s = 60 }] }"#;
    let failures = "[failures]\nreplacement_delay = \"2m\"\n[failures.host_groups.main]\nmtbf = \"4h\"";
    let mut lost = 0.0;
    for seed in 1..=4 {
        let body = scenario("4h", load, r#"{ metric = "cpu", target = 60 }"#, failures);
        let text = format!("name = \"sas\"\nseed = {seed}\nsample_interval = \"1m\"\ntask_definitions = [\"web.json\"]\n{body}");
        let r = common::run_first(common::plan(&[("web.json", WEB)], &text));
        let (outs, ins) = (r.metrics.get(Metric::ServiceScaleOuts), r.metrics.get(Metric::ServiceScaleIns));
        assert!(outs >= 1.0 && ins >= 1.0, "seed {seed}: {outs} out, {ins} in");
        lost += r.metrics.get(Metric::TasksLostHostFailure);
    }
    assert!(lost >= 4.0, "{lost} tasks lost to host failures in four runs");
}
