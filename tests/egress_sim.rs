//! Egress in whole runs, against hand-computed times and bytes: pulls through a NAT gateway,
//! no route, a missing execution role, cross-AZ bytes, EC2 image caches, and the shipped
//! egress scenarios.

use std::fs;

use clustersim::metrics::Metric;
use clustersim::model::StopReason;
use clustersim::model::egress::StartFailure;
use clustersim::placement::StrategyRegistry;
use clustersim::scenario::RawScenario;
use clustersim::scenario::sweep::Plan;
use clustersim::sim::{RunOptions, RunResult, run};

const FG: &str = r#"{ "family": "fg", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
  "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
  "containerDefinitions": [{ "name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1" }] }"#;
const FG_NO_ROLE: &str = r#"{ "family": "norole", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
  "containerDefinitions": [{ "name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1" }] }"#;
const EC2: &str = r#"{ "family": "ec2", "requiresCompatibilities": ["EC2"],
  "containerDefinitions": [{ "name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1", "cpu": 128, "memory": 128 }] }"#;

/// EC2 with another image (a second download, not one joining the first).
const EC2_B: &str = r#"{ "family": "ec2b", "requiresCompatibilities": ["EC2"],
  "containerDefinitions": [{ "name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:2", "cpu": 128, "memory": 128 }] }"#;

/// Two AZs: a public subnet with a NAT gateway in a, private subnets in a and b.
const NETWORK: &str = r#"
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
[network.subnets.priv-b]
az = "b"
cidr = "10.0.2.0/24"
"#;

fn run_body(body: &str) -> RunResult {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fg.json"), FG).unwrap();
    fs::write(dir.path().join("norole.json"), FG_NO_ROLE).unwrap();
    fs::write(dir.path().join("ec2.json"), EC2).unwrap();
    fs::write(dir.path().join("ec2b.json"), EC2_B).unwrap();
    let path = dir.path().join("s.toml");
    let text = format!(
        "name = \"egress\"\nseed = 3\nhorizon = \"30m\"\ntask_definitions = [\"fg.json\", \"norole.json\", \"ec2.json\", \"ec2b.json\"]\n{body}"
    );
    fs::write(&path, text).unwrap();
    let raw = RawScenario::read(&path).unwrap();
    let plan = Plan::build(&raw, None, &StrategyRegistry::new()).unwrap_or_else(|e| panic!("{e}"));
    let spec = plan.run(0).unwrap_or_else(|e| panic!("{e}"));
    run(&spec.scenario, spec.seed, RunOptions { record_tasks: true, explain: false }).unwrap()
}

fn with_network(network_keys: &str, rest: &str) -> String {
    NETWORK.replace("[network.subnets.pub-a]", &format!("[network]\n{network_keys}\n[network.subnets.pub-a]")) + rest
}

fn fargate_batch(family: &str, count: u32, subnet: &str) -> String {
    format!(
        "[workload.jobs]\nkind = \"batch\"\nat = \"10s\"\ncount = {count}\ntask_definition = \"{family}\"\nrun_time = \"10m\"\nsubnets = [\"{subnet}\"]\n"
    )
}

const US: u64 = 1_000_000;

#[test]
fn equal_pulls_through_one_nat_gateway_finish_at_n_s_over_c() {
    // 4 Fargate tasks pull 500 MB each through a 100 MB/s NAT gateway (task ENIs 100 MB/s): 25 MB/s
    // each, so 20 s of pulls after the 5 s ENI attach, then the 1 s container start.
    let r = run_body(&with_network(
        "nat_bandwidth = \"800Mbps\"",
        &format!("[images]\ndefault_size = 500000000\n{}", fargate_batch("fg", 4, "priv-a")),
    ));
    assert_eq!(r.tasks.len(), 4);
    for t in &r.tasks {
        let placed = t.placed_at.unwrap().0;
        assert_eq!(t.running_at.unwrap().0, placed + (5 + 20 + 1) * US, "task {}", t.task);
    }
    let m = &r.metrics;
    assert_eq!(m.get(Metric::PullTimeMean), 20.0);
    assert!((m.get(Metric::NatGb) - 2.0).abs() < 1e-9, "4 × 500 MB through the NAT: {}", m.get(Metric::NatGb));
    assert_eq!(m.get(Metric::CrossAzGb), 0.0);
    assert!((m.get(Metric::NatUtilPeak) - 1.0).abs() < 1e-12, "the NAT gateway was the bottleneck");
    assert_eq!(m.get(Metric::TimeToRunningP50), 26.0, "arrival = placement here: ENI 5 s + pull 20 s + start 1 s");
}

#[test]
fn a_shared_nat_in_another_az_makes_every_pulled_byte_cross_azs() {
    let same =
        run_body(&with_network("nat = \"single\"", &format!("[images]\ndefault_size = 100000000\n{}", fargate_batch("fg", 2, "priv-a"))));
    assert_eq!(same.metrics.get(Metric::CrossAzGb), 0.0);
    let other =
        run_body(&with_network("nat = \"single\"", &format!("[images]\ndefault_size = 100000000\n{}", fargate_batch("fg", 2, "priv-b"))));
    assert!((other.metrics.get(Metric::CrossAzGb) - 0.2).abs() < 1e-9, "{}", other.metrics.get(Metric::CrossAzGb));
    assert!((other.metrics.get(Metric::NatGb) - 0.2).abs() < 1e-9);
}

#[test]
fn no_route_fails_every_fargate_task_after_the_pull_timeout() {
    // priv-b has no NAT gateway in its AZ (per-AZ layout) and there are no endpoints.
    let r = run_body(&with_network("", &format!("[images]\npull_timeout = \"1m\"\n{}", fargate_batch("fg", 3, "priv-b"))));
    assert_eq!(r.metrics.get(Metric::PullFailedRegistryAuth), 3.0);
    assert_eq!(r.metrics.get(Metric::OutcomePullFailed), 3.0);
    for t in &r.tasks {
        assert_eq!(t.stop_reason, Some(StopReason::PullFailed(StartFailure::RegistryAuthTimeout)));
        assert_eq!(t.stopped_at.unwrap().0, t.placed_at.unwrap().0 + (5 + 60) * US, "ENI attach, then the pull timeout");
        assert!(t.running_at.is_none());
    }
    assert_eq!(r.metrics.get(Metric::NatGb), 0.0);
}

#[test]
fn a_missing_execution_role_fails_at_once_with_no_pull() {
    let r = run_body(&with_network("", &format!("[images]\n{}", fargate_batch("norole", 2, "priv-a"))));
    assert_eq!(r.metrics.get(Metric::PullFailedExecutionRole), 2.0);
    for t in &r.tasks {
        assert_eq!(t.stop_reason, Some(StopReason::PullFailed(StartFailure::ExecutionRoleForEcr)));
        assert_eq!(t.stopped_at.unwrap().0, t.placed_at.unwrap().0 + 5 * US, "stopped when its pull would begin");
    }
    assert_eq!(r.metrics.get(Metric::NatGb), 0.0, "nothing was pulled");
}

fn ec2_two_waves(behavior: &str) -> RunResult {
    // One host in priv-a; a task at 10 s and another at 5 min, both with the same 100 MB image.
    run_body(&with_network(
        "",
        &format!(
            r#"[images]
default_size = 100000000
pull_behavior = "{behavior}"
[host_groups.main]
instance_type = "m5.large"
count_per_az = 1
azs = ["a"]
subnets = ["priv-a"]
[workload.first]
kind = "batch"
at = "10s"
count = 1
task_definition = "ec2"
run_time = "1m"
[workload.second]
kind = "batch"
at = "5m"
count = 1
task_definition = "ec2"
run_time = "1m"
"#
        ),
    ))
}

#[test]
fn the_second_task_on_an_ec2_host_uses_the_cache_unless_the_behaviour_is_always() {
    // m5.large baseline 0.75 Gbps = 93.75 MB/s: 100 MB in 1.066667 s.
    let once = ec2_two_waves("once");
    assert!((once.metrics.get(Metric::NatGb) - 0.1).abs() < 1e-9, "one download: {}", once.metrics.get(Metric::NatGb));
    let second = once.tasks.iter().find(|t| t.workload == 1).unwrap();
    assert_eq!(second.running_at.unwrap().0, second.placed_at.unwrap().0 + US, "no pull: only the container start");
    let default = ec2_two_waves("default");
    assert!((default.metrics.get(Metric::NatGb) - 0.1).abs() < 1e-9, "default asks the registry but downloads nothing");
    let always = ec2_two_waves("always");
    assert!((always.metrics.get(Metric::NatGb) - 0.2).abs() < 1e-9, "always downloads again");
    let first = always.tasks.iter().find(|t| t.workload == 0).unwrap();
    assert_eq!(first.running_at.unwrap().0, first.placed_at.unwrap().0 + 1_066_667 + US);
}

#[test]
fn staggered_pulls_on_one_host_link_end_at_the_processor_sharing_times() {
    // One m5.large (93.75 MB/s) pulls 937.5 MB for a task at 10 s, and another image of the same
    // size for a task at 15 s. The first pulls alone for 5 s (half its image), then both share
    // the link: the first ends at 25 s (its completion, due at 20 s when it started, fires early
    // and is re-armed), the second pulls alone again from then and ends at 30 s.
    let mut body = String::from(
        "[images]\ndefault_size = 937500000\npull_behavior = \"always\"\n[host_groups.main]\ninstance_type = \"m5.large\"\ncount_per_az = 1\nazs = [\"a\"]\nsubnets = [\"priv-a\"]\n",
    );
    for (name, at, td) in [("one", "10s", "ec2"), ("two", "15s", "ec2b")] {
        body += &format!("[workload.{name}]\nkind = \"batch\"\nat = \"{at}\"\ncount = 1\ntask_definition = \"{td}\"\nrun_time = \"1m\"\n");
    }
    let r = run_body(&with_network("", &body));
    let running: Vec<u64> = r.tasks.iter().map(|t| t.running_at.unwrap().0).collect();
    assert_eq!(running, vec![25 * US + US, 30 * US + US], "pull ends at 25 s and 30 s, then the 1 s container start");
    assert!((r.metrics.get(Metric::NatGb) - 1.875).abs() < 1e-9, "{}", r.metrics.get(Metric::NatGb));
}

#[test]
fn a_pull_meters_its_size_whichever_way_its_completion_time_rounds() {
    // One m5.large (93.75 MB/s) pulls for a task at 10 s and again (pull behaviour `always`) for
    // one at 20 s: 99,999,966 bytes take 1,066,666.3 µs (the completion rounds down, 28 bytes
    // early), 100,000,000 bytes take 1,066,666.7 µs (it rounds up). Either way the NAT meters
    // exactly two images (a completion rounded down used to leave the flow metering at full
    // rate until the next pull through the NAT, here 9 s later, rescheduled it).
    for (size, pull_us) in [(99_999_966u64, 1_066_666u64), (100_000_000, 1_066_667)] {
        let mut body = format!(
            "[images]\ndefault_size = {size}\npull_behavior = \"always\"\n[host_groups.main]\ninstance_type = \"m5.large\"\ncount_per_az = 1\nazs = [\"a\"]\nsubnets = [\"priv-a\"]\n"
        );
        for (name, at) in [("one", "10s"), ("two", "20s")] {
            body +=
                &format!("[workload.{name}]\nkind = \"batch\"\nat = \"{at}\"\ncount = 1\ntask_definition = \"ec2\"\nrun_time = \"1m\"\n");
        }
        let r = run_body(&with_network("", &body));
        let nat_bytes = r.metrics.get(Metric::NatGb) * 1e9;
        assert!((nat_bytes - 2.0 * size as f64).abs() < 1e-6, "size {size}: {nat_bytes} bytes metered for two pulls");
        for t in &r.tasks {
            assert_eq!(t.running_at.unwrap().0, t.placed_at.unwrap().0 + pull_us + US, "size {size}");
        }
    }
}

#[test]
fn a_busy_nat_gateway_meters_exactly_the_bytes_of_every_pull() {
    // 40 hosts pull a 37 MB image for 1,000 tasks (four overlapping waves) through one 5 Gbps
    // NAT gateway, saturated for a minute: completions fall between microseconds and flows share
    // links all the time, yet the NAT meters exactly downloads × size (a pull whose completion
    // was rounded down used to keep metering until another flow's change rescheduled it).
    let mut body = String::from(
        r#"[images]
default_size = 37000000
pull_behavior = "always"
[host_groups.main]
instance_type = "m5.large"
count_per_az = 40
azs = ["a"]
subnets = ["priv-a"]
"#,
    );
    for (k, at) in ["10s", "23.3s", "41.7s", "60.1s"].iter().enumerate() {
        body +=
            &format!("[workload.wave{k}]\nkind = \"batch\"\nat = \"{at}\"\ncount = 250\ntask_definition = \"ec2\"\nrun_time = \"2s\"\n");
    }
    let r = run_body(&with_network("", &body));
    let pulled = r.tasks.iter().filter(|t| t.running_at.is_some()).count();
    assert_eq!(pulled, 1_000, "every task pulled and ran");
    // A task placed on a host already downloading the image joins that download.
    let downloads = 1_000.0 - r.metrics.get(Metric::PullsJoined);
    assert!((40.0..=160.0).contains(&downloads), "{downloads} downloads: at most one per host and wave");
    let nat_bytes = r.metrics.get(Metric::NatGb) * 1e9;
    assert!((nat_bytes - downloads * 37e6).abs() < 1e-9 * nat_bytes, "{nat_bytes} bytes metered for {downloads} downloads of 37 MB");
    assert!(r.metrics.get(Metric::NatUtilPeak) > 0.999, "the NAT gateway was saturated");
}

#[test]
fn a_second_pull_of_an_image_on_the_same_host_joins_the_download_in_progress() {
    // One m5.large (93.75 MB/s), pull behaviour `always`: the task at 10 s downloads 937.5 MB
    // (10 s); the task at 15 s waits for that download instead of starting its own, so the NAT
    // gateway carries the image once and both are RUNNING at 21 s. The one at 30 s finds no
    // download in progress and pulls again (10 s alone).
    let mut body = String::from(
        "[images]\ndefault_size = 937500000\npull_behavior = \"always\"\n[host_groups.main]\ninstance_type = \"m5.large\"\ncount_per_az = 1\nazs = [\"a\"]\nsubnets = [\"priv-a\"]\n",
    );
    for (name, at) in [("first", "10s"), ("second", "15s"), ("third", "30s")] {
        body += &format!("[workload.{name}]\nkind = \"batch\"\nat = \"{at}\"\ncount = 1\ntask_definition = \"ec2\"\nrun_time = \"1m\"\n");
    }
    let r = run_body(&with_network("", &body));
    let running = |w: u32| r.tasks.iter().find(|t| t.workload == w).unwrap().running_at.unwrap().0;
    assert_eq!((running(0), running(1), running(2)), (21 * US, 21 * US, 41 * US));
    assert!((r.metrics.get(Metric::NatGb) - 2.0 * 0.9375).abs() < 1e-9, "{}", r.metrics.get(Metric::NatGb));
    assert_eq!(r.metrics.get(Metric::PullsJoined), 1.0);
}

#[test]
fn fargate_pulls_again_for_every_task() {
    let r = run_body(&with_network(
        "",
        &format!("[images]\ndefault_size = 100000000\npull_behavior = \"once\"\n{}", fargate_batch("fg", 3, "priv-a")),
    ));
    assert!((r.metrics.get(Metric::NatGb) - 0.3).abs() < 1e-9);
}

/// Runs replication 0 of every point of a shipped scenario.
fn shipped(name: &str) -> Vec<RunResult> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name);
    let raw = RawScenario::read(&path).unwrap();
    let plan = Plan::build(&raw, None, &StrategyRegistry::new()).unwrap_or_else(|e| panic!("{e}"));
    (0..plan.run_count())
        .map(|i| plan.run(i).unwrap_or_else(|e| panic!("{e}")))
        .filter(|r| r.replication == 0)
        .map(|r| run(&r.scenario, r.seed, RunOptions { record_tasks: true, explain: false }).unwrap())
        .collect()
}

#[test]
fn crash_looping_fargate_re_pulls_through_the_nat_while_ec2_pulls_once() {
    let runs = shipped("crash-loop-pulls.toml");
    let (fargate, ec2) = (&runs[0], &runs[1]);
    // Every Fargate task that began its pull downloaded the whole 500 MB image.
    let pulled = fargate.tasks.iter().filter(|t| t.running_at.is_some()).count() as f64;
    let nat = fargate.metrics.get(Metric::NatGb);
    let image_gb = 500.0 * 1024.0 * 1024.0 / 1e9;
    assert!(nat >= image_gb * pulled && nat <= image_gb * (pulled + 2.0), "{nat} GB for {pulled} tasks");
    assert!(nat > 1000.0, "a day of one-minute tasks: over a TB through the NAT gateway");
    // EC2: the first two tasks start together (no cache yet): the second joins the first's
    // download, so the image crosses the NAT gateway once; every replacement starts from the cache.
    assert!((ec2.metrics.get(Metric::NatGb) - image_gb).abs() < 1e-6, "{}", ec2.metrics.get(Metric::NatGb));
    assert_eq!(ec2.metrics.get(Metric::PullsJoined), 1.0);
    let per_gb = 0.045 * 730.0 / 24.0;
    assert!((fargate.metrics.get(Metric::CostNatData) - nat * per_gb).abs() < 1e-6 * nat * per_gb);
}

#[test]
fn nat_versus_public_ranks_the_four_layouts_by_cost() {
    let runs = shipped("nat-vs-public.toml");
    let [per_az, single, public, endpoints] = [&runs[0], &runs[1], &runs[2], &runs[3]];
    let cost = |r: &RunResult| r.metrics.get(Metric::CostMonthTotal);
    assert!(per_az.metrics.get(Metric::NatGb) > 0.0 && single.metrics.get(Metric::NatGb) > 0.0);
    assert_eq!(per_az.metrics.get(Metric::CrossAzGb), 0.0);
    assert!(single.metrics.get(Metric::CrossAzGb) > 0.0, "two AZs of three reach the shared NAT across AZs");
    assert_eq!(public.metrics.get(Metric::NatGb), 0.0);
    assert!(public.metrics.get(Metric::IgwGb) > 0.0);
    assert_eq!(endpoints.metrics.get(Metric::NatGb), 0.0);
    assert!(endpoints.metrics.get(Metric::S3GatewayGb) > 0.0);
    assert!(cost(single) > cost(per_az), "on this workload the cross-AZ bytes cost more than two NAT gateways");
    assert!(cost(public) < cost(per_az) && cost(endpoints) < cost(per_az));
    for r in &runs {
        assert!(r.metrics.get(Metric::TimeToRunningP99).is_finite());
        assert!(r.timeseries.columns.iter().any(|c| c.starts_with("nat_util_")) || r.metrics.get(Metric::NatGb) == 0.0);
    }
}
