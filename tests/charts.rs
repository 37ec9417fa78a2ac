//! Charts end to end through the CLI: what a results folder's charts say, read back from the
//! text of their SVG twins (every PNG is drawn from the same layout).

use std::fs;
use std::path::Path;
use std::process::Command;

fn run(dir: &Path, scenario: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_clustersim"))
        .args(["run", scenario, "--out", "out"])
        .current_dir(dir)
        .output()
        .expect("binary runs");
    assert!(out.status.success(), "exit {:?}\nstderr:\n{}", out.status, String::from_utf8_lossy(&out.stderr));
}

/// Contents of every `<text>` element of an SVG chart, XML entities decoded.
fn svg_texts(path: &Path) -> Vec<String> {
    let svg = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..t.find("</text>")?];
            Some(body.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").trim().to_string())
        })
        .collect()
}

fn copy_taskdefs(dir: &Path, files: &[&str]) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/taskdefs");
    for f in files {
        fs::copy(src.join(f), dir.join(f)).unwrap();
    }
}

/// A small Poisson sweep of one replication over the arrival rate.
const ONE_REP: &str = r#"# Question: does a one-replication sweep chart read right?
name = "one-rep"
seed = 5
horizon = "30m"
sample_interval = "5m"
task_definitions = ["large-job.json"]
[cluster]
azs = ["a", "b"]
[host_groups.main]
instance_type = "m5.xlarge"
count_per_az = 2
[workload.large]
kind = "poisson"
task_definition = "large-job"
run_time = { distribution = "exponential", mean = "10m" }
arrival = { rate_per_s = 0.01 }
[sweep]
replications = 1
[[sweep.axis]]
key = "workload.large.arrival.rate_per_s"
values = [0.005, 0.01]
[report]
metrics = ["placement_failure_rate"]
"#;

#[test]
fn a_one_replication_sweep_chart_claims_no_confidence_interval_and_uses_the_catalog_words() {
    let dir = tempfile::tempdir().unwrap();
    copy_taskdefs(dir.path(), &["large-job.json"]);
    let scenario = ONE_REP;
    fs::write(dir.path().join("s.toml"), scenario).unwrap();
    run(dir.path(), "s.toml");
    let texts = svg_texts(&dir.path().join("out/charts/placement_failure_rate.svg"));
    let all = texts.join(" | ");
    assert!(texts.iter().any(|t| t == "1 replication, no confidence interval"), "{all}");
    assert!(!all.contains("replications") && !all.contains("95 %") && !all.contains("CI"), "{all}");
    assert!(texts.iter().any(|t| t == "Placement failure rate vs arrival rate (large)"), "{all}");
    assert!(!all.contains("placement_failure_rate") && !all.contains("placement failure rate"), "{all}");
    assert!(texts.iter().any(|t| t == "Placement failure rate [%]"), "{all}");
}

#[test]
fn a_run_whose_tasks_all_ran_on_fargate_has_no_host_or_cpu_panel() {
    let dir = tempfile::tempdir().unwrap();
    copy_taskdefs(dir.path(), &["api-fargate.json"]);
    // The one host group is required but idle: every task is a Fargate task.
    let scenario = r#"# Question: what does a Fargate service's time-series chart show?
name = "fargate"
seed = 1
horizon = "1h"
sample_interval = "5m"
task_definitions = ["api-fargate.json"]
[cluster]
azs = ["a", "b"]
[network.subnets.sa]
az = "a"
cidr = "10.0.1.0/26"
[network.subnets.sb]
az = "b"
cidr = "10.0.2.0/26"
[host_groups.main]
instance_type = "m5.xlarge"
count_per_az = 1
subnets = ["sa", "sb"]
[workload.worker]
kind = "service"
task_definition = "api-fargate"
launch_type = "FARGATE"
desired_count = 40
run_time = { distribution = "exponential", mean = "20m" }
subnets = ["sa", "sb"]
"#;
    fs::write(dir.path().join("s.toml"), scenario).unwrap();
    run(dir.path(), "s.toml");
    let texts = svg_texts(&dir.path().join("out/charts/timeseries-p00-r00.svg"));
    let all = texts.join(" | ");
    for want in ["Tasks", "Task ENIs (awsvpc on EC2 and Fargate)", "Free addresses per subnet", "sa", "sb"] {
        assert!(texts.iter().any(|t| t == want), "no {want:?} in {all}");
    }
    for unwanted in ["EC2 hosts running at least one task", "Reserved CPU per AZ", "Reserved memory per AZ", "no data"] {
        assert!(!texts.iter().any(|t| t == unwanted), "{unwanted:?} drawn: {all}");
    }
}

#[test]
fn a_sweep_with_capacity_providers_charts_the_cost_of_each() {
    let dir = tempfile::tempdir().unwrap();
    copy_taskdefs(dir.path(), &["large-job.json"]);
    // The same sweep on an Auto Scaling group provider next to two fixed hosts, swept over the
    // provider's target capacity with two replications.
    let scenario = ONE_REP
        .replace(
            "azs = [\"a\", \"b\"]",
            "azs = [\"a\", \"b\"]\ndefault_capacity_provider_strategy = [{ capacity_provider = \"workers\", weight = 1 }]",
        )
        .replace(
            "[host_groups.main]\ninstance_type = \"m5.xlarge\"\ncount_per_az = 2",
            "[host_groups.asg]\ninstance_type = \"m5.xlarge\"\ncount_per_az = 0\n[host_groups.fixed]\ninstance_type = \"m5.large\"\n\
             count_per_az = 1\n[capacity_providers.workers]\nhost_group = \"asg\"\nmax_size = 20",
        )
        .replace("replications = 1", "replications = 2")
        .replace(
            "key = \"workload.large.arrival.rate_per_s\"\nvalues = [0.005, 0.01]",
            "key = \"capacity_providers.workers.target_capacity\"\nvalues = [75, 100]",
        )
        .replace("horizon = \"30m\"", "horizon = \"2h\"");
    assert!(scenario.contains("[capacity_providers.workers]") && scenario.contains("target_capacity"));
    fs::write(dir.path().join("s.toml"), scenario).unwrap();
    run(dir.path(), "s.toml");
    let rows = fs::read_to_string(dir.path().join("out/providers.csv")).unwrap();
    assert_eq!(rows.lines().count(), 1 + 4 * 2, "two providers in each of four runs:\n{rows}");
    let texts = svg_texts(&dir.path().join("out/charts/cost_per_provider.svg"));
    let all = texts.join(" | ");
    assert!(texts.iter().any(|t| t.starts_with("Monthly cost per capacity provider vs")), "{all}");
    assert!(texts.iter().any(|t| t == "workers") && texts.iter().any(|t| t == "(no capacity provider)"), "{all}");
    assert!(texts.iter().any(|t| t == "Monthly cost [USD/month]"), "{all}");
}
