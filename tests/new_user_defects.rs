//! What a new user hit, each pinned by a test: an EXTERNAL task definition that passed `validate`
//! and panicked in `run`, panics that were not internal errors, Fargate-only clusters that were
//! impossible, a summary that hid Fargate, task outcomes measured per attempt, and service waits
//! that left out the tasks that waited longest.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use clustersim::metrics::Metric;
use clustersim::model::HostId;
use clustersim::placement::{ClusterView, PlacementRequest, PlacementStrategy, StrategyRegistry};
use clustersim::scenario::RawScenario;
use clustersim::scenario::sweep::Plan;
use clustersim::sim::{RunOptions, RunResult, run};
use clustersim::sweep::{self, ExecError};

const BIN: &str = env!("CARGO_BIN_EXE_clustersim");

const FARGATE_TD: &str = r#"{ "family": "fg", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "1024", "memory": "2048",
  "containerDefinitions": [{ "name": "app", "image": "app:1" }] }"#;
const SMALL_EC2: &str = r#"{ "family": "small", "containerDefinitions": [{ "name": "a", "image": "a:1", "cpu": 256, "memory": 512 }] }"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

fn plan_of(path: &Path) -> Result<Plan, String> {
    let raw = RawScenario::read(path).map_err(|e| e.to_string())?;
    Plan::build(&raw, None, &StrategyRegistry::new()).map_err(|e| e.to_string())
}

fn first_run(path: &Path) -> RunResult {
    let plan = plan_of(path).unwrap_or_else(|e| panic!("{e}"));
    let spec = plan.run(0).unwrap();
    run(&spec.scenario, spec.seed, RunOptions { record_tasks: true, explain: false }).unwrap()
}

fn clustersim(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN).args(args).current_dir(dir).output().expect("run clustersim")
}

/// Leaves only the files the test wrote: no results folder, no `.work` folder.
fn assert_no_folders(dir: &Path) {
    let folders: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(folders.is_empty(), "left behind: {folders:?}");
}

const FARGATE_ONLY: &str = r#"
name = "fargate-only"
seed = 7
horizon = "30m"
task_definitions = ["fg.json"]
[cluster]
azs = ["a", "b"]
[network]
[network.subnets.pa]
az = "a"
cidr = "10.0.1.0/26"
[network.subnets.pb]
az = "b"
cidr = "10.0.2.0/26"
[workload.api]
kind = "service"
desired_count = 20
task_definition = "fg"
subnets = ["pa", "pb"]
"#;

#[test]
fn an_external_only_task_definition_is_refused_by_validate_with_what_to_do_instead() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "ext.json",
        r#"{ "family": "edge", "requiresCompatibilities": ["EXTERNAL"], "networkMode": "bridge",
             "containerDefinitions": [{ "name": "a", "image": "a:1", "cpu": 256, "memory": 256 }] }"#,
    );
    let s = write(
        d,
        "s.toml",
        "name = \"ext\"\nhorizon = \"10m\"\ntask_definitions = [\"ext.json\"]\n[cluster]\nazs = [\"a\"]\n\
         [host_groups.main]\ninstance_type = \"m5.large\"\ncount_per_az = 2\n\
         [workload.edge]\nkind = \"service\"\ndesired_count = 2\ntask_definition = \"edge\"\n",
    );
    for cmd in ["validate", "run"] {
        let o = clustersim(d, &[cmd, s.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {err}");
        assert!(err.contains("s.toml") && err.contains("workload.edge.launch_type") && err.contains("EXTERNAL"), "{cmd}: {err}");
        assert!(err.contains("add \"EC2\" to requiresCompatibilities"), "{cmd}: {err}");
    }
    assert_no_folders(d);
    // Asking for it explicitly is refused the same way.
    let explicit = fs::read_to_string(&s).unwrap().replace("kind = \"service\"", "kind = \"service\"\nlaunch_type = \"EXTERNAL\"");
    fs::write(&s, explicit).unwrap();
    let o = clustersim(d, &["validate", s.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("EXTERNAL launch type (ECS Anywhere) is not simulated"));
}

/// A user strategy that panics: the simplest real way a simulator panic reaches a sweep.
struct Panics;

impl PlacementStrategy for Panics {
    fn name(&self) -> &str {
        "panics"
    }
    fn rank(&self, _request: &PlacementRequest<'_>, _view: &ClusterView<'_>, _host: HostId) -> i64 {
        panic!("strategy bug on purpose")
    }
}

#[test]
fn a_panic_in_a_run_is_an_internal_error_naming_the_run_seed_and_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "small.json", SMALL_EC2);
    let s = write(
        d,
        "s.toml",
        "name = \"boom\"\nseed = 42\nhorizon = \"10m\"\ntask_definitions = [\"small.json\"]\n[cluster]\nazs = [\"a\"]\n\
         [host_groups.main]\ninstance_type = \"m5.large\"\ncount_per_az = 2\n\
         [workload.w]\nkind = \"service\"\ndesired_count = 2\ntask_definition = \"small\"\n\
         [workload.w.placement]\nstrategy = [\"panics\"]\n",
    );
    let mut registry = StrategyRegistry::new();
    registry.register(Arc::new(Panics)).unwrap();
    let raw = RawScenario::read(&s).unwrap();
    let plan = Plan::build(&raw, None, &registry).unwrap();
    let runs: Vec<usize> = (0..plan.run_count()).collect();
    let work = d.join(".boom.work");
    let outcome = sweep::execute(&plan, &runs, &work, 1, RunOptions::default(), false, &|_, _| {});
    let Err(ExecError::Internal(message)) = outcome else { panic!("expected an internal error") };
    assert!(message.contains("the simulator panicked: strategy bug on purpose"), "{message}");
    assert!(message.contains(&format!("seed {}", plan.run_info(0).seed)) && message.contains("s.toml"), "{message}");
    assert!(message.contains(&plan.run_info(0).run_id), "{message}");
}

#[test]
fn a_fargate_only_cluster_needs_no_host_group_and_its_summary_shows_fargate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "fg.json", FARGATE_TD);
    let s = write(d, "s.toml", FARGATE_ONLY);
    let r = first_run(&s);
    assert_eq!(r.metrics.get(Metric::FargateLaunched), 20.0);
    // No container instance takes an address: a /26 has 59 usable, and 10 tasks run in each.
    for subnet in ["pa", "pb"] {
        assert_eq!(r.timeseries.column(&format!("free_ips_{subnet}")).unwrap().last().copied(), Some(49.0), "{subnet}");
    }
    // Fargate's vCPUs are charted where a host panel would be: 20 tasks of 1 vCPU.
    assert_eq!(r.timeseries.column("fargate_vcpus").unwrap().last().copied(), Some(20.0));
    let o = clustersim(d, &["run", s.to_str().unwrap(), "--no-charts", "--out", "out"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("fargate_tasks_started") && stdout.contains("20"), "{stdout}");
    assert!(!stdout.contains("tasks_placed"), "a Fargate-only run has no EC2 placements to show:\n{stdout}");
    // An EC2 workload still needs hosts, and the message says why.
    write(d, "small.json", SMALL_EC2);
    let ec2 = FARGATE_ONLY.replace("[\"fg.json\"]", "[\"fg.json\", \"small.json\"]")
        + "[workload.batch]\nkind = \"batch\"\nat = \"1s\"\ncount = 1\ntask_definition = \"small\"\n";
    let err = plan_of(&write(d, "ec2.toml", &ec2)).unwrap_err();
    assert!(err.contains("host_groups") && err.contains("workload `batch` runs on EC2"), "{err}");
}

#[test]
fn every_task_ends_as_exactly_one_outcome_and_tasks_failed_counts_quota_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "fg.json", FARGATE_TD);
    // A RunTask batch of 10 one-vCPU tasks under a 4-vCPU quota: 4 run, 6 are refused. A service
    // of 30 in 2 × /27 subnets (27 usable each) can never have all 30: some fail to start.
    let text = FARGATE_ONLY.replace("desired_count = 20", "desired_count = 60").replace("/26", "/27")
        + "[fargate]\nvcpu_quota = 40\n[workload.batch]\nkind = \"batch\"\nat = \"10m\"\ncount = 10\ntask_definition = \"fg\"\nsubnets = [\"pa\"]\nrun_time = \"5m\"\n";
    let r = first_run(&write(d, "s.toml", &text));
    let m = |x: Metric| r.metrics.get(x);
    assert_eq!(Metric::OUTCOMES.iter().map(|o| m(*o)).sum::<f64>(), m(Metric::TasksArrived));
    assert_eq!(r.tasks.len() as f64, m(Metric::TasksArrived), "no warm-up: every task counts");
    // The service took all 40 vCPUs of quota before the batch came: every batch task is refused.
    assert_eq!(m(Metric::OutcomeRunningEnd), 40.0);
    assert_eq!(m(Metric::OutcomeWaitingEnd), 20.0);
    let refused_batch = r.tasks.iter().filter(|t| t.workload == 1).count() as f64;
    assert_eq!(refused_batch, 10.0);
    assert_eq!(m(Metric::TasksFailed), 10.0, "RunTask tasks refused by the vCPU quota are failed tasks");
    assert!(m(Metric::OutcomeVcpuQuota) >= 10.0);
    let failed = m(Metric::OutcomeNotPlaced) + m(Metric::OutcomeThrottled) + m(Metric::OutcomeNoAddress) + m(Metric::OutcomeVcpuQuota);
    assert_eq!(m(Metric::TaskFailureFraction), failed / m(Metric::TasksArrived));
}

#[test]
fn tasks_still_waiting_at_the_horizon_count_in_the_service_wait_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "small.json", SMALL_EC2);
    // Two m5.large hosts take 12 tasks of 256 CPU units (2048 registered each... 8 per host by
    // CPU); 50 more wait the whole hour.
    let text = "name = \"wait\"\nseed = 1\nhorizon = \"1h\"\ntask_definitions = [\"small.json\"]\n[cluster]\nazs = [\"a\"]\n\
                [host_groups.main]\ninstance_type = \"m5.large\"\ncount_per_az = 2\n\
                [workload.w]\nkind = \"service\"\ndesired_count = 66\ntask_definition = \"small\"\n";
    let r = first_run(&write(d, "s.toml", text));
    let waiting = r.metrics.get(Metric::ServiceTasksUnplaced);
    assert_eq!(waiting, 50.0);
    assert_eq!(r.metrics.get(Metric::ServiceWaitsCensored), 50.0);
    assert_eq!(r.metrics.get(Metric::ServiceWaitMax), 3600.0, "the longest wait is the whole run");
    assert!(r.metrics.get(Metric::ServiceWaitP95) > 3000.0);
}

/// Every combination of compatibility set, network mode and size, as a task definition.
fn task_definitions() -> Vec<String> {
    let compat_sets: [&[&str]; 8] = [
        &[],
        &["EC2"],
        &["FARGATE"],
        &["EXTERNAL"],
        &["EC2", "FARGATE"],
        &["EC2", "EXTERNAL"],
        &["FARGATE", "EXTERNAL"],
        &["EC2", "FARGATE", "EXTERNAL"],
    ];
    let modes = [None, Some("awsvpc"), Some("bridge"), Some("host"), Some("none")];
    let sizes = [None, Some(("256", "512")), Some(("1024", "2048")), Some(("256", "4096"))];
    let mut out = Vec::new();
    for compat in compat_sets {
        for mode in modes {
            for size in sizes {
                let mut fields = vec![r#""family": "gen""#.to_string()];
                if !compat.is_empty() {
                    let list: Vec<String> = compat.iter().map(|c| format!("\"{c}\"")).collect();
                    fields.push(format!(r#""requiresCompatibilities": [{}]"#, list.join(", ")));
                }
                if let Some(m) = mode {
                    fields.push(format!(r#""networkMode": "{m}""#));
                }
                if let Some((cpu, mem)) = size {
                    fields.push(format!(r#""cpu": "{cpu}", "memory": "{mem}""#));
                }
                fields.push(r#""containerDefinitions": [{ "name": "a", "image": "a:1", "cpu": 128, "memory": 256 }]"#.to_string());
                out.push(format!("{{ {} }}", fields.join(", ")));
            }
        }
    }
    out
}

/// Whatever `validate` accepts, `run` runs to the end with its invariants holding: every task
/// definition shape × launch type × workload kind × subnets given or not × hosts or none.
#[test]
fn any_task_definition_and_launch_type_that_validates_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (mut accepted, mut fargate_runs, mut ec2_runs) = (0, 0, 0);
    for td in task_definitions() {
        write(d, "gen.json", &td);
        for launch in [None, Some("EC2"), Some("FARGATE"), Some("EXTERNAL")] {
            for kind in ["service", "batch"] {
                for (subnets, hosts) in [(false, false), (false, true), (true, false), (true, true)] {
                    let mut text = String::from(
                        "name = \"gen\"\nseed = 3\nhorizon = \"20m\"\ntask_definitions = [\"gen.json\"]\n[cluster]\nazs = [\"a\", \"b\"]\n\
                         [network]\n[network.subnets.sa]\naz = \"a\"\ncidr = \"10.0.1.0/26\"\n[network.subnets.sb]\naz = \"b\"\ncidr = \"10.0.2.0/26\"\n",
                    );
                    if hosts {
                        text += "[host_groups.main]\ninstance_type = \"m5.large\"\ncount_per_az = 2\nsubnets = [\"sa\", \"sb\"]\n";
                    }
                    text += "[workload.w]\ntask_definition = \"gen\"\n";
                    text += if kind == "service" {
                        "kind = \"service\"\ndesired_count = 6\n"
                    } else {
                        "kind = \"batch\"\nat = \"1m\"\ncount = 8\nrun_time = \"5m\"\n"
                    };
                    if let Some(l) = launch {
                        text += &format!("launch_type = \"{l}\"\n");
                    }
                    if subnets {
                        text += "subnets = [\"sa\", \"sb\"]\n";
                    }
                    let path = write(d, "s.toml", &text);
                    let Ok(plan) = plan_of(&path) else { continue };
                    let Ok(spec) = plan.run(0) else { continue };
                    accepted += 1;
                    let outcome =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&spec.scenario, spec.seed, RunOptions::default())));
                    let Ok(Ok(result)) = outcome else { panic!("validated but did not run:\n{td}\n{text}") };
                    if result.metrics.get(Metric::FargateLaunched) > 0.0 {
                        fargate_runs += 1;
                    }
                    if result.metrics.get(Metric::TasksPlaced) > 0.0 {
                        ec2_runs += 1;
                    }
                }
            }
        }
    }
    // The space is not vacuous: both launch types validate and run in many shapes.
    assert!(accepted >= 100 && fargate_runs >= 10 && ec2_runs >= 50, "accepted {accepted}, Fargate {fargate_runs}, EC2 {ec2_runs}");
}
