//! Capacity providers under host failures and AZ outages, in whole runs with hand-worked
//! timelines: a failed instance is replaced by its group after the health-check delay and the
//! launch time; an AZ outage sends the group's replacements to the other AZs; when the AZ
//! returns the group launches there and terminates as many elsewhere (only empty instances under
//! managed termination protection); and the conservation checks hold under random failures.

mod common;

use clustersim::metrics::Metric;
use clustersim::model::{AzId, StopReason};
use clustersim::scenario::sweep::Plan;
use clustersim::sim::{RunOptions, RunResult, run};
use proptest::prelude::*;

/// One vCPU and 1 GiB, bridge mode: four fit an m5.xlarge by CPU.
const JOB: &str = r#"{ "family": "job", "networkMode": "bridge", "requiresCompatibilities": ["EC2"],
  "containerDefinitions": [{ "name": "job", "image": "job:1", "cpu": 1024, "memory": 1024, "essential": true }] }"#;

fn plan_text(body: &str) -> Result<Plan, String> {
    common::plan(&[("job.json", JOB)], &format!("name = \"casf\"\nseed = 7\ntask_definitions = [\"job.json\"]\n{body}"))
}

/// Three AZs, two m5.xlarge per AZ behind provider `cp` (max 10; launches take 30 s), a service
/// of `desired` one-vCPU tasks, AZ `c` down from 1 h to 2 h; `provider` and `failures` add keys.
fn outage(desired: u32, provider: &str, failures: &str) -> RunResult {
    common::run_first(plan_text(&format!(
        r#"horizon = "3h"
sample_interval = "1m"
[cluster]
azs = ["a", "b", "c"]
default_capacity_provider_strategy = [{{ capacity_provider = "cp", weight = 1 }}]
[host_groups.asg]
instance_type = "m5.xlarge"
count_per_az = 2
[capacity_providers.cp]
host_group = "asg"
max_size = 10
min_size = 6
instance_launch_time = {{ min = "30s", max = "30s" }}
{provider}
[workload.web]
kind = "service"
task_definition = "job"
desired_count = {desired}
[failures]
{failures}
[[failures.az_outage]]
az = "c"
start = "1h"
end = "2h"
"#
    )))
}

fn metric(r: &RunResult, m: Metric) -> f64 {
    r.metrics.get(m)
}

/// The `instances_cp` column of the time series at `t` seconds.
fn instances_at(r: &RunResult, t: u64) -> f64 {
    let col = r.timeseries.columns.iter().position(|c| c == "instances_cp").expect("instances column");
    r.timeseries.rows.iter().find(|row| row[0] as u64 == t).map(|row| row[col]).expect("a sample at t")
}

/// Tasks running at the horizon, per AZ.
fn running_per_az(r: &RunResult) -> [usize; 3] {
    let mut n = [0; 3];
    for t in r.tasks.iter().filter(|t| t.running_at.is_some() && t.stopped_at.is_none()) {
        n[t.az.expect("a placed task").0 as usize] += 1;
    }
    n
}

#[test]
fn an_az_outage_moves_the_group_to_the_other_azs_and_its_return_rebalances_tasks_and_all() {
    // A fixed-size group (no managed scaling), 12 tasks on 6 instances.
    let r = outage(12, "managed_scaling = false", "");
    // At 1 h the two instances of c fail with their tasks; 60 s later (the default health-check
    // delay) the group terminates them and launches two replacements, in a and b (fewest).
    assert_eq!(metric(&r, Metric::TasksLostAzOutage), running_at_outage(&r));
    assert_eq!(instances_at(&r, 3600), 6.0, "failed instances count until the health check");
    assert_eq!(instances_at(&r, 3660), 6.0, "two replacements launching");
    // At 2 h c is back: the group launches two there (a and b hold 3 each, c none: share 2),
    // then terminates one in a and one in b as they register, 30 s later.
    assert_eq!(metric(&r, Metric::InstancesRebalanced), 2.0);
    assert_eq!(instances_at(&r, 7200), 8.0);
    assert_eq!(instances_at(&r, 7260), 6.0);
    assert_eq!(metric(&r, Metric::InstancesLaunched), 4.0);
    assert_eq!(metric(&r, Metric::InstancesTerminated), 4.0);
    // With managed draining (the default) the two oldest instances of a and b drain: their
    // tasks are replaced first — in c, the AZ with the fewest tasks — and stop 30 s later.
    let stopped = |r: &RunResult, reason| r.tasks.iter().filter(|t| t.stop_reason == Some(reason)).count();
    let lost = metric(&r, Metric::TasksLostAzOutage) as usize;
    assert_eq!(stopped(&r, StopReason::HostTerminated), lost);
    let drained: Vec<_> = r.tasks.iter().filter(|t| t.stop_reason == Some(StopReason::InstanceDraining)).collect();
    assert!(!drained.is_empty());
    assert!(drained.iter().all(|t| t.stopped_at.unwrap().as_secs_f64() == 7260.0 && t.az != Some(AzId(2))));
    let per_az = running_per_az(&r);
    assert_eq!(per_az.iter().sum::<usize>(), 12);
    assert_eq!(per_az[2], drained.len(), "the drained tasks' replacements run in c");
    // Without managed draining the rebalance takes its instances' tasks along.
    let hard = outage(12, "managed_scaling = false\nmanaged_draining = false", "");
    assert_eq!(stopped(&hard, StopReason::HostTerminated), lost + drained.len());
    assert_eq!(stopped(&hard, StopReason::InstanceDraining), 0);
    assert_eq!(running_per_az(&hard).iter().sum::<usize>(), 12);
    // No task ran in c while it was down.
    for t in &r.tasks {
        if let (Some(at), Some(AzId(2))) = (t.placed_at, t.az) {
            assert!(at.as_secs_f64() < 3600.0 || at.as_secs_f64() >= 7200.0, "task {} placed in c at {at:?}", t.task);
        }
    }
}

/// Tasks running in c at the start of the outage (the ones it stops).
fn running_at_outage(r: &RunResult) -> f64 {
    r.tasks
        .iter()
        .filter(|t| t.az == Some(AzId(2)) && t.running_at.is_some_and(|at| at.as_secs_f64() < 3600.0))
        .filter(|t| t.stopped_at.is_some_and(|at| at.as_secs_f64() == 3600.0))
        .count() as f64
}

#[test]
fn with_managed_termination_protection_the_rebalance_terminates_only_empty_instances() {
    // 24 tasks fill the six instances; managed scaling at target 100 keeps the group as it is
    // while every instance is busy.
    let full = outage(24, "target_capacity = 100\nmanaged_termination_protection = true", "");
    assert_eq!(metric(&full, Metric::TasksLostAzOutage), 8.0);
    assert_eq!(metric(&full, Metric::InstancesRebalanced), 2.0);
    // The two instances launched in c register empty ... and no old instance is empty, so none
    // goes: the group stays two above its size until one empties.
    let stopped_by_instance = full.tasks.iter().filter(|t| t.stop_reason == Some(StopReason::HostTerminated)).count();
    assert_eq!(stopped_by_instance, 8, "only the outage's tasks stopped with an instance");
    assert_eq!(instances_at(&full, 7260), 8.0);
}

#[test]
fn a_failed_instance_is_replaced_after_the_health_check_delay_and_the_launch_time() {
    // A failure process on the group; a 2-minute health check. Every failure terminates one
    // instance and launches one, and the service gets its tasks back.
    let r = outage(12, "managed_scaling = false", "asg_health_check_delay = \"2m\"\n[failures.host_groups.asg]\nmtbf = \"2h\"");
    let failures = metric(&r, Metric::HostFailures);
    assert!(failures >= 3.0, "{failures} failures");
    // Failures during the outage's launch-free minutes may be replaced later, but each failed
    // instance is terminated once, and each rebalance adds one launch and one termination.
    let rebalanced = metric(&r, Metric::InstancesRebalanced);
    assert_eq!(metric(&r, Metric::InstancesLaunched) - rebalanced, metric(&r, Metric::InstancesTerminated) - rebalanced);
    assert!(metric(&r, Metric::TasksLostHostFailure) > 0.0);
    // A failure mid-run: the failed instance still counts in the group for the two minutes of
    // the health check, then its replacement launches; the group never drops below 6.
    let col = r.timeseries.columns.iter().position(|c| c == "instances_cp").unwrap();
    assert!(r.timeseries.rows.iter().all(|row| row[col] >= 6.0));
}

/// A random case: a group scaling under a failure process (and an outage with several AZs).
#[allow(clippy::too_many_arguments)]
fn conservation_case(
    rate: f64,
    max_size: u32,
    protection: bool,
    draining: bool,
    azs: usize,
    mtbf_h: u32,
    seed: u64,
) -> Result<(), TestCaseError> {
    let az_names = ["a", "b", "c"];
    let az_list = az_names[..azs].iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ");
    let outage = if azs > 1 { "[[failures.az_outage]]\naz = \"b\"\nstart = \"1h\"\nend = \"90m\"" } else { "" };
    let body = format!(
        r#"horizon = "3h"
[cluster]
azs = [{az_list}]
default_capacity_provider_strategy = [{{ capacity_provider = "cp", weight = 1 }}]
provisioning_timeout = {{ min = "5m", max = "20m" }}
[host_groups.asg]
instance_type = "m5.xlarge"
count_per_az = 1
[capacity_providers.cp]
host_group = "asg"
max_size = {max_size}
managed_termination_protection = {protection}
managed_draining = {draining}
[workload.jobs]
kind = "poisson"
task_definition = "job"
run_time = {{ distribution = "exponential", mean = "10m" }}
[workload.jobs.arrival]
rate_per_s = {rate}
[workload.svc]
kind = "service"
task_definition = "job"
desired_count = 3
[failures]
[failures.host_groups.asg]
mtbf = "{mtbf_h}h"
{outage}
"#
    );
    let r = run_accounted(&body, seed)?;
    let limit = max_size + max_size.div_ceil(10).max(1);
    prop_assert!(r.metrics.get(Metric::InstancesPeak) <= f64::from(limit));
    Ok(())
}

/// A random case of everything at once on one group: a rolling service with an update and
/// target tracking on CPU, EC2 Spot with or without the agent's draining, a failure process and
/// an AZ outage. The run keeps its invariants (checked after every rare event, and in debug
/// builds all along) and accounts for every task.
fn everything_case(spot_rate: f64, spot_draining: bool, mtbf_h: u32, distribution: &str, seed: u64) -> Result<(), TestCaseError> {
    let body = format!(
        r#"horizon = "3h"
[cluster]
azs = ["a", "b", "c"]
default_capacity_provider_strategy = [{{ capacity_provider = "cp", weight = 1 }}]
[host_groups.asg]
instance_type = "m5.xlarge"
count_per_az = 1
[capacity_providers.cp]
host_group = "asg"
max_size = 6
target_capacity = 90
instance_launch_time = {{ min = "30s", max = "90s" }}
az_distribution = "{distribution}"
spot = {{ interruptions_per_instance_hour = {spot_rate}, price_fraction = 0.4, instance_draining = {spot_draining} }}
[workload.web]
kind = "service"
task_definition = "job"
desired_count = 6
deployments = [{{ at = "40m" }}]
exit_after_sigterm = "5s"
[workload.web.auto_scaling]
min_capacity = 3
max_capacity = 20
cpu_seconds_per_request = 0.02
policies = [{{ metric = "cpu", target = 60 }}]
load = {{ schedule = [{{ from = "0h", rate_per_s = 100 }}, {{ from = "1h", rate_per_s = 300 }}, {{ from = "2h", rate_per_s = 50 }}] }}
[failures]
[failures.host_groups.asg]
mtbf = "{mtbf_h}h"
[[failures.az_outage]]
az = "a"
start = "70m"
end = "100m"
"#
    );
    run_accounted(&body, seed).map(|_| ())
}

/// Runs the scenario `body` once with `seed` and checks that every task that arrived is counted
/// once by how it ended.
fn run_accounted(body: &str, seed: u64) -> Result<RunResult, TestCaseError> {
    let plan = plan_text(body).map_err(TestCaseError::fail)?;
    let spec = plan.run(0).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let r = run(&spec.scenario, seed, RunOptions { record_tasks: false, explain: false }).map_err(TestCaseError::fail)?;
    let outcomes: f64 = Metric::OUTCOMES.iter().map(|m| r.metrics.get(*m)).sum();
    prop_assert_eq!(outcomes, r.metrics.get(Metric::TasksArrived));
    Ok(r)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]
    #[test]
    fn everything_at_once_keeps_the_invariants(
        spot_rate in prop::sample::select(vec![0.0f64, 0.5, 2.0]),
        spot_draining in any::<bool>(),
        mtbf_h in 1u32..8,
        distribution in prop::sample::select(vec!["balanced-best-effort", "balanced-only"]),
        seed in 0u64..1000,
    ) {
        everything_case(spot_rate, spot_draining, mtbf_h, distribution, seed)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, .. ProptestConfig::default() })]
    #[test]
    fn conservation_holds_while_instances_fail_and_are_replaced(
        rate in 0.005f64..0.05,
        max_size in 3u32..9,
        protection in any::<bool>(),
        draining in any::<bool>(),
        azs in 1usize..4,
        mtbf_h in 1u32..6,
        seed in 0u64..1000,
    ) {
        conservation_case(rate, max_size, protection, draining, azs, mtbf_h, seed)?;
    }
}

#[test]
fn the_same_seed_gives_the_same_failures_and_replacements() {
    let a = outage(12, "", "[failures.host_groups.asg]\nmtbf = \"3h\"");
    let b = outage(12, "", "[failures.host_groups.asg]\nmtbf = \"3h\"");
    assert_eq!(a.tasks, b.tasks);
    assert_eq!(a.timeseries.rows, b.timeseries.rows);
}

#[test]
fn a_balanced_only_group_waits_for_the_az_instead_of_launching_elsewhere() {
    let r = outage(12, "managed_scaling = false\naz_distribution = \"balanced-only\"", "");
    // The health check terminates c's two failed instances at 1 h + 1 min; their replacements
    // belong in c, which is down: the launch fails and the group stays at four ...
    assert_eq!(instances_at(&r, 3660), 4.0);
    assert!(metric(&r, Metric::InstanceLaunchesFailed) >= 1.0);
    assert_eq!(instances_at(&r, 7140), 4.0);
    // ... until c returns: both launch there, and no rebalancing is needed.
    assert_eq!(instances_at(&r, 7200), 6.0);
    assert_eq!(metric(&r, Metric::InstancesLaunched), 2.0);
    assert_eq!(metric(&r, Metric::InstancesRebalanced), 0.0);
    // The service ran its 12 tasks on the four instances meanwhile (room for 16).
    assert_eq!(running_per_az(&r).iter().sum::<usize>(), 12);
    let bad = "horizon = \"1h\"\n[cluster]\nazs = [\"a\"]\n[host_groups.asg]\ninstance_type = \"m5.xlarge\"\ncount_per_az = 1\n[capacity_providers.cp]\nhost_group = \"asg\"\nmax_size = 2\naz_distribution = \"even\"\n";
    let e = plan_text(bad).unwrap_err();
    assert!(e.contains("capacity_providers.cp.az_distribution") && e.contains("balanced-only"), "{e}");
}
