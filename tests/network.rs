//! awsvpc networking against closed forms: usable addresses, the asynchronous
//! InsufficientFreeAddressesInSubnet failure, ENI slots with and without trunking, the ENI
//! clean-up delay, and Fargate's quota, launch bucket and AZ balance
//! (docs/model.md#awsvpc-task-enis-eni-slots-and-trunking, docs/model.md#subnets-and-addresses, docs/model.md#fargate).

use std::fs;
use std::path::Path;

use clustersim::metrics::Metric;
use clustersim::model::StopReason;
use clustersim::placement::StrategyRegistry;
use clustersim::scenario::RawScenario;
use clustersim::scenario::sweep::Plan;
use clustersim::sim::{RunOptions, RunResult, run};

const AWSVPC_EC2: &str = r#"{ "family": "tiny", "networkMode": "awsvpc", "requiresCompatibilities": ["EC2"],
  "containerDefinitions": [{ "name": "app", "image": "app:1", "cpu": 128, "memory": 128 }] }"#;
const FARGATE: &str = r#"{ "family": "fg", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
  "containerDefinitions": [{ "name": "app", "image": "app:1" }] }"#;

/// Writes the scenario and both task definitions into a temporary folder and runs its first run.
fn run_scenario(body: &str) -> (RunResult, Plan) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("tiny.json"), AWSVPC_EC2).unwrap();
    fs::write(dir.path().join("fg.json"), FARGATE).unwrap();
    let path = dir.path().join("s.toml");
    let text = format!("name = \"net\"\nseed = 5\ntask_definitions = [\"tiny.json\", \"fg.json\"]\nsample_interval = \"1s\"\n{body}");
    fs::write(&path, text).unwrap();
    let raw = RawScenario::read(&path).unwrap();
    let plan = Plan::build(&raw, None, &StrategyRegistry::new()).unwrap_or_else(|e| panic!("{e}"));
    let spec = &plan.run(0).unwrap();
    let result = run(&spec.scenario, spec.seed, RunOptions { record_tasks: true, explain: true }).unwrap();
    (result, plan)
}

fn load_error(body: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("tiny.json"), AWSVPC_EC2).unwrap();
    fs::write(
        dir.path().join("bad-fg.json"),
        FARGATE.replace("\"memory\": \"1024\"", "\"memory\": \"4096\"").replace("\"cpu\": \"512\"", "\"cpu\": \"256\""),
    )
    .unwrap();
    let path = dir.path().join("s.toml");
    fs::write(&path, format!("name = \"net\"\n{body}")).unwrap();
    let raw = RawScenario::read(&path).unwrap();
    Plan::build(&raw, None, &StrategyRegistry::new()).unwrap_err().to_string()
}

fn column(result: &RunResult, name: &str) -> Vec<f64> {
    result.timeseries.column(name).unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn a_26_subnet_with_ten_hosts_and_a_nat_gateway_runs_48_tasks_and_the_49th_fails_after_placement() {
    // 59 usable − 10 host ENIs − 1 NAT gateway = 48 task addresses.
    let (r, _) = run_scenario(
        r#"
horizon = "10m"
[cluster]
azs = ["a"]
[network]
eni_cleanup_delay = "30s"
[network.subnets.only]
az = "a"
cidr = "10.0.0.0/26"
public = true
nat_gateway = true
[host_groups.main]
instance_type = "m5.4xlarge"      # 7 task ENIs each: ENI slots are not the limit
count_per_az = 10
subnets = ["only"]
[workload.jobs]
kind = "batch"
task_definition = "tiny"
at = "10s"
count = 49
subnets = ["only"]
"#,
    );
    let m = &r.metrics;
    assert_eq!(m.get(Metric::TasksPlaced), 49.0, "placement does not look at addresses: all 49 are placed");
    assert_eq!(m.get(Metric::PlacementFailures), 0.0);
    assert_eq!(m.get(Metric::StartFailedNoIps), 1.0);
    assert_eq!(m.get(Metric::MinFreeIps), 0.0);
    assert!(m.get(Metric::CpuReservedPeak) < 0.05 && m.get(Metric::MemReservedPeak) < 0.05, "CPU and memory were plentiful");
    let failed: Vec<_> = r.tasks.iter().filter(|t| t.stop_reason == Some(StopReason::InsufficientFreeAddresses)).collect();
    assert_eq!(failed.len(), 1);
    // It failed in PROVISIONING: ECS stops it once the ENI creation has failed, one ENI attach
    // delay (default 5 s) after placement; until then it held its host resources.
    assert_eq!(failed[0].stopped_at.unwrap().0, failed[0].placed_at.unwrap().0 + 5_000_000);
    assert!(failed[0].running_at.is_none());
    assert!(failed[0].host.is_some());
    let running = r.tasks.iter().filter(|t| t.running_at.is_some() && t.stopped_at.is_none()).count();
    assert_eq!(running, 48);
    // Its host resources came back: 48 tasks × 128 CPU units of 10 × 16,384 registered.
    let cpu = column(&r, "cpu_reserved_pct_a");
    assert_eq!(*cpu.last().unwrap(), 100.0 * 48.0 * 128.0 / 163_840.0);
    assert_eq!(*column(&r, "free_ips_only").last().unwrap(), 0.0);
}

fn eni_limit_scenario(trunking: bool) -> RunResult {
    run_scenario(&format!(
        r#"
horizon = "5m"
[cluster]
azs = ["a"]
[network]
awsvpc_trunking = {trunking}
[network.subnets.big]
az = "a"
cidr = "10.0.0.0/24"
[host_groups.main]
instance_type = "m5.large"
count_per_az = 1
subnets = ["big"]
[workload.jobs]
kind = "batch"
task_definition = "tiny"
at = "1s"
count = 12
subnets = ["big"]
"#
    ))
    .0
}

#[test]
fn an_m5_large_runs_two_awsvpc_tasks_without_trunking_and_ten_with_it() {
    let plain = eni_limit_scenario(false);
    assert_eq!(plain.metrics.get(Metric::TasksPlaced), 2.0, "3 ENIs − the primary");
    assert_eq!(plain.metrics.get(Metric::FailedResourceEni), 10.0);
    let trunked = eni_limit_scenario(true);
    assert_eq!(trunked.metrics.get(Metric::TasksPlaced), 10.0, "the ECS trunking table for m5.large");
    assert_eq!(trunked.metrics.get(Metric::FailedResourceEni), 2.0);
    // The trunk ENI holds an address too: 251 − primary − trunk − 10 tasks.
    assert_eq!(trunked.metrics.get(Metric::MinFreeIps), 239.0);
    assert_eq!(plain.metrics.get(Metric::MinFreeIps), 248.0);
}

fn cleanup_scenario(delay: &str) -> RunResult {
    // A /28: 11 usable − 2 hosts = 9 task addresses, all taken by nine 100-second tasks at t = 0.
    // One more task arrives at 110 s (10 s after they stop) and another at 140 s.
    run_scenario(&format!(
        r#"
horizon = "5m"
[cluster]
azs = ["a"]
[network]
eni_cleanup_delay = "{delay}"
[network.subnets.small]
az = "a"
cidr = "10.0.0.0/28"
[host_groups.main]
instance_type = "m5.4xlarge"
count_per_az = 2
subnets = ["small"]
[workload.first]
kind = "batch"
task_definition = "tiny"
at = "0s"
count = 9
run_time = "100s"
subnets = ["small"]
[workload.early]
kind = "batch"
task_definition = "tiny"
at = "110s"
count = 1
run_time = "100s"
subnets = ["small"]
[workload.late]
kind = "batch"
task_definition = "tiny"
at = "140s"
count = 1
run_time = "100s"
subnets = ["small"]
"#
    ))
    .0
}

#[test]
fn an_address_freed_by_a_stopped_task_is_not_reused_before_the_eni_clean_up_delay() {
    let r = cleanup_scenario("30s");
    let reason = |workload: u32| r.tasks.iter().find(|t| t.workload == workload).unwrap().stop_reason;
    // Workloads in name order: early = 0, first = 1, late = 2.
    assert_eq!(reason(0), Some(StopReason::InsufficientFreeAddresses), "at 110 s the nine addresses are still being cleaned up");
    assert_ne!(reason(2), Some(StopReason::InsufficientFreeAddresses), "at 140 s they are free again");
    // Control: with no clean-up delay the early task gets an address.
    let r0 = cleanup_scenario("0s");
    assert_ne!(r0.tasks.iter().find(|t| t.workload == 0).unwrap().stop_reason, Some(StopReason::InsufficientFreeAddresses));
    // The time series shows the addresses coming back 30 s after the stop, not at it.
    let free = column(&r, "free_ips_small");
    assert_eq!(free[120], 0.0, "t = 120 s: still releasing");
    assert_eq!(free[135], 9.0, "t = 135 s: all nine released (the early task never got one)");
}

fn fargate_scenario(extra: &str, workload: &str) -> RunResult {
    run_scenario(&format!(
        r#"
horizon = "10m"
[cluster]
azs = ["a", "b", "c"]
[network]
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
instance_type = "m5.large"
count_per_az = 1
subnets = ["sa", "sb", "sc"]
{extra}
[workload.fg]
task_definition = "fg"
subnets = ["sa", "sb", "sc"]
{workload}
"#
    ))
    .0
}

#[test]
fn a_fargate_service_is_balanced_across_the_azs_of_its_subnets() {
    let r = fargate_scenario("", "kind = \"service\"\ndesired_count = 30\n");
    assert_eq!(r.metrics.get(Metric::FargateLaunched), 30.0);
    assert_eq!(r.metrics.get(Metric::HostsUsedPeak), 0.0, "Fargate tasks take no container instance");
    for subnet in ["sa", "sb", "sc"] {
        assert_eq!(*column(&r, &format!("free_ips_{subnet}")).last().unwrap(), 251.0 - 1.0 - 10.0, "{subnet}: one host ENI and 10 tasks");
    }
}

#[test]
fn fargate_refuses_launches_beyond_the_vcpu_quota() {
    // 2 vCPUs of quota, 0.5 vCPU tasks: 4 run; the other 6 are refused with the quota message.
    let r = fargate_scenario("[fargate]\nvcpu_quota = 2\n", "kind = \"batch\"\nat = \"1s\"\ncount = 10\n");
    assert_eq!(r.metrics.get(Metric::FargateLaunched), 4.0);
    assert_eq!(r.metrics.get(Metric::FargateFailedQuota), 6.0);
    assert_eq!(r.tasks.iter().filter(|t| t.stop_reason == Some(StopReason::FargateVcpuQuota)).count(), 6);
}

#[test]
fn fargate_run_task_beyond_the_launch_bucket_is_throttled() {
    // Burst 100: a batch of 150 at one instant launches 100; 50 get ThrottlingException.
    let r = fargate_scenario("", "kind = \"batch\"\nat = \"1s\"\ncount = 150\n");
    assert_eq!(r.metrics.get(Metric::FargateLaunched), 100.0);
    assert_eq!(r.metrics.get(Metric::FargateThrottled), 50.0);
    // A service waits for tokens instead: 20 per second after the burst.
    let s = fargate_scenario("", "kind = \"service\"\ndesired_count = 150\n");
    assert_eq!(s.metrics.get(Metric::FargateLaunched), 150.0);
    assert!(
        s.metrics.get(Metric::ServiceWaitMax) >= 2.4 && s.metrics.get(Metric::ServiceWaitMax) < 3.0,
        "{}",
        s.metrics.get(Metric::ServiceWaitMax)
    );
}

#[test]
fn an_invalid_fargate_size_is_rejected_with_the_valid_memory_values() {
    let e = load_error(
        r#"
horizon = "1h"
task_definitions = ["tiny.json", "bad-fg.json"]
[cluster]
azs = ["a"]
[host_groups.main]
instance_type = "m5.large"
count_per_az = 1
[workload.x]
kind = "batch"
task_definition = "tiny"
at = "1s"
count = 1
"#,
    );
    assert!(e.contains("bad-fg.json") && e.contains("512, 1024, 2048"), "{e}");
}

#[test]
fn subnet_validation_names_the_key_and_what_is_allowed() {
    let base = |net: &str| {
        format!(
            "horizon = \"1h\"\ntask_definitions = [\"tiny.json\"]\n[cluster]\nazs = [\"a\"]\n{net}\n[host_groups.main]\ninstance_type = \"m5.large\"\ncount_per_az = 20\nsubnets = [\"s\"]\n[workload.x]\nkind = \"batch\"\ntask_definition = \"tiny\"\nat = \"1s\"\ncount = 1\nsubnets = [\"s\"]\n"
        )
    };
    let e = load_error(&base("[network.subnets.s]\naz = \"a\"\ncidr = \"10.0.0.0/33\""));
    assert!(e.contains("network.subnets.s.cidr") && e.contains("0 to 32"), "{e}");
    let e = load_error(&base("[network.subnets.s]\naz = \"a\"\ncidr = \"10.0.0.0/29\""));
    assert!(e.contains("/16 (largest) to /28 (smallest)"), "{e}");
    let e = load_error(&base("[network.subnets.s]\naz = \"a\"\ncidr = \"10.0.0.0/12\""));
    assert!(e.contains("/16 (largest)"), "{e}");
    let e = load_error(&base(
        "[network.subnets.s]\naz = \"a\"\ncidr = \"10.0.0.0/24\"\n[network.subnets.t]\naz = \"a\"\ncidr = \"10.0.0.128/25\"",
    ));
    assert!(e.contains("overlaps subnet `s`"), "{e}");
    // 20 hosts do not fit a /28 (11 usable).
    let e = load_error(&base("[network.subnets.s]\naz = \"a\"\ncidr = \"10.0.0.0/28\""));
    assert!(e.contains("host_groups.main.subnets") && e.contains("cannot hold its hosts"), "{e}");
}

#[test]
fn the_ip_exhaustion_study_shows_eni_limits_without_trunking_and_silent_failures_in_small_subnets() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/ip-exhaustion.toml");
    let raw = RawScenario::read(&path).unwrap();
    let plan = Plan::build(&raw, None, &StrategyRegistry::new()).unwrap();
    let point = |trunking: &str, size: &str| {
        let spec =
            (0..plan.run_count()).map(|i| plan.run(i).unwrap()).find(|r| r.params[0].1 == trunking && r.params[1].1 == size).unwrap();
        run(&spec.scenario, spec.seed, RunOptions::default()).unwrap().metrics
    };
    let roomy = point("no trunking", "/24");
    assert!(roomy.get(Metric::FailedResourceEni) > 0.0 && roomy.get(Metric::StartFailedNoIps) == 0.0);
    let tight = point("no trunking", "/26");
    assert!(tight.get(Metric::StartFailedNoIps) > 0.0 && tight.get(Metric::MinFreeIps) == 0.0);
    let trunked = point("awsvpcTrunking", "/24");
    assert_eq!(trunked.get(Metric::FailedResourceEni), 0.0);
    assert_eq!(trunked.get(Metric::ServiceTasksUnplaced), 0.0, "with trunking and /24 subnets every task runs");
    let trunked_small = point("awsvpcTrunking", "/25");
    assert!(trunked_small.get(Metric::StartFailedNoIps) > 0.0, "trunking moves the bottleneck to addresses");
}

#[test]
fn subnets_csv_has_a_row_per_run_and_subnet_and_shards_merge_it_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    fs::create_dir_all(dir.join("taskdefs")).unwrap();
    for f in ["api-awsvpc.json", "api-fargate.json"] {
        fs::copy(src.join("taskdefs").join(f), dir.join("taskdefs").join(f)).unwrap();
    }
    let text = fs::read_to_string(src.join("ip-exhaustion.toml"))
        .unwrap()
        .replace("horizon = \"6h\"", "horizon = \"2h\"")
        .replace("replications = 5", "replications = 2");
    fs::write(dir.join("ipx.toml"), text).unwrap();
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_clustersim")).args(args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    cli(&["run", "ipx.toml", "--out", "whole", "--no-charts"]);
    cli(&["run", "ipx.toml", "--shard", "1/2", "--out", "s1"]);
    cli(&["run", "ipx.toml", "--shard", "2/2", "--out", "s2"]);
    cli(&["merge", "s1", "s2", "--out", "merged"]);
    let whole = fs::read_to_string(dir.join("whole/subnets.csv")).unwrap();
    assert_eq!(whole, fs::read_to_string(dir.join("merged/subnets.csv")).unwrap());
    // 2 trunking settings × 3 sizes × 2 replications × 4 subnets, plus the header.
    assert_eq!(whole.lines().count(), 1 + 12 * 4);
    // Each run's min_free_ips metric is the least min_free_ips of its task subnets.
    let runs = fs::read_to_string(dir.join("whole/runs.csv")).unwrap();
    let header: Vec<&str> = runs.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "min_free_ips").unwrap();
    for line in runs.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let least = whole
            .lines()
            .filter(|l| l.starts_with(cells[0]) && l.contains("private-"))
            .map(|l| l.split(',').nth(6).unwrap().parse::<u32>().unwrap())
            .min()
            .unwrap();
        assert_eq!(cells[col].parse::<u32>().unwrap(), least, "{line}");
    }
}

#[test]
fn the_eni_attach_delay_can_be_drawn_from_a_distribution() {
    // docs/model.md#awsvpc-task-enis-eni-slots-and-trunking: ~5 s, uniform 2–10 s observed. Without a start delay, PROVISIONING is
    // exactly the attach delay.
    let (r, _) = run_scenario(
        r#"
horizon = "10m"
[cluster]
azs = ["a"]
[network]
eni_attach_delay = { distribution = "uniform", min = "2s", max = "10s" }
[network.subnets.s]
az = "a"
cidr = "10.0.0.0/24"
[host_groups.main]
instance_type = "m5.4xlarge"
count_per_az = 10
subnets = ["s"]
[workload.jobs]
kind = "batch"
task_definition = "tiny"
at = "1s"
count = 60
subnets = ["s"]
"#,
    );
    let delays: Vec<u64> = r.tasks.iter().map(|t| t.running_at.unwrap().0 - t.placed_at.unwrap().0).collect();
    assert_eq!(delays.len(), 60);
    assert!(delays.iter().all(|d| (2_000_000..10_000_000).contains(d)), "{delays:?}");
    let mean = delays.iter().sum::<u64>() as f64 / 60.0 / 1e6;
    // Uniform(2, 10): mean 6 s, standard error 2.31 / √60 ≈ 0.3 s.
    assert!((mean - 6.0).abs() < 1.2, "mean {mean}");
    let mut distinct = delays.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() > 50, "the delays vary from task to task");
}

#[test]
fn a_fargate_service_launches_500_tasks_per_minute_not_the_ec2_250() {
    // 700 tasks, and an account bucket roomy enough not to bind: the service's own rate does.
    // 500 at once, then one every 120 ms: the last 200 by 24 s. At EC2's 250/min it would take
    // until 108 s.
    let r = fargate_scenario("[fargate]\nlaunch_burst = 10000\nlaunch_rate_per_s = 10000\n", "kind = \"service\"\ndesired_count = 700\n");
    let placed_by = |secs: u64| r.tasks.iter().filter(|t| t.placed_at.is_some_and(|p| p.0 <= secs * 1_000_000)).count();
    assert_eq!(placed_by(0), 500);
    assert_eq!(placed_by(24), 700);
    assert_eq!(placed_by(23), 691);
}
