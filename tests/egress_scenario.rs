//! The egress keys of a scenario: `[images]`, the NAT and endpoint keys of `[network]`, `[logs]`,
//! `[prices]` and a workload's `awsvpc_configuration` are read with their defaults, and every
//! mistake names the file, the key and what is allowed.

use std::fs;

use clustersim::model::AzId;
use clustersim::model::egress::PullBehavior;
use clustersim::placement::StrategyRegistry;
use clustersim::scenario::sweep::Plan;
use clustersim::scenario::{HostBandwidth, NatChoice, RawScenario, Scenario};

const FARGATE: &str = r#"{ "family": "fg", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
  "containerDefinitions": [{ "name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1" },
                           { "name": "envoy", "image": "envoy:1" }] }"#;
const EC2: &str = r#"{ "family": "tiny", "networkMode": "awsvpc", "requiresCompatibilities": ["EC2"],
  "containerDefinitions": [{ "name": "app", "image": "app:1", "cpu": 128, "memory": 128 }] }"#;

/// Two AZs, a public subnet with a NAT gateway and a private subnet in each.
const BASE: &str = r#"name = "egress"
horizon = "10m"
task_definitions = ["fg.json", "tiny.json"]

[cluster]
azs = ["us-east-1a", "us-east-1b"]

[network.subnets.pub-a]
az = "us-east-1a"
cidr = "10.0.0.0/24"
public = true
nat_gateway = true

[network.subnets.priv-a]
az = "us-east-1a"
cidr = "10.0.1.0/24"

[network.subnets.priv-b]
az = "us-east-1b"
cidr = "10.0.2.0/24"

[host_groups.main]
instance_type = "m5.large"
count_per_az = 1
subnets = ["priv-a", "priv-b"]

[workload.web]
kind = "service"
task_definition = "fg"
desired_count = 2
subnets = ["priv-a", "priv-b"]
"#;

fn load(extra: &str, network_extra: &str) -> Result<Scenario, String> {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fg.json"), FARGATE).unwrap();
    fs::write(dir.path().join("tiny.json"), EC2).unwrap();
    let path = dir.path().join("s.toml");
    let body = BASE.replace("[network.subnets.pub-a]", &format!("[network]\n{network_extra}\n\n[network.subnets.pub-a]"));
    fs::write(&path, format!("{body}\n{extra}")).unwrap();
    let raw = RawScenario::read(&path).map_err(|e| e.to_string())?;
    Plan::build(&raw, None, &StrategyRegistry::new())
        .and_then(|p| p.run(0))
        .map(|r| Scenario::clone(&r.scenario))
        .map_err(|e| e.to_string())
}

fn error(extra: &str, network_extra: &str, key: &str, needle: &str) {
    let e = load(extra, network_extra).expect_err("accepted a bad scenario");
    assert!(e.contains(key), "error does not name `{key}`: {e}");
    assert!(e.contains(needle), "error does not say `{needle}`: {e}");
    assert!(e.contains("s.toml"), "error does not name the file: {e}");
}

#[test]
fn a_scenario_without_egress_keys_keeps_pulls_and_logs_off() {
    let s = load("", "").unwrap();
    assert!(!s.egress.enabled);
    assert_eq!(s.network.as_ref().unwrap().egress.nat, NatChoice::PerAz);
    assert_eq!(s.egress.workloads.len(), 1);
    assert!(!s.egress.workloads[0].assign_public_ip);
}

#[test]
fn egress_keys_are_read_with_their_units() {
    let s = load(
        r#"
[images]
default_size = "250MB"
pull_behavior = "prefer-cached"
pull_timeout = "90s"
soci = ["envoy:1"]
[images.sizes]
"123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1" = "500MB"

[logs]
default_rate = "1KB/s"
[logs.rates]
"fg" = "20KB/s"
"fg/envoy" = "8kbps"

[prices]
nat_gateway_hour = 0.059
"#,
        "nat = \"single\"\nnat_bandwidth = \"45Gbps\"\nhost_bandwidth = \"burst\"\n[network.endpoints]\necr = true\ns3_gateway = true\nazs = [\"us-east-1b\"]",
    )
    .unwrap();
    assert!(s.egress.enabled);
    let im = &s.egress.images;
    assert_eq!(im.size_bytes("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"), 500 << 20);
    assert_eq!(im.size_bytes("envoy:1"), 250 << 20, "MB is binary in scenarios");
    assert!(im.has_soci_index("envoy:1") && !im.has_soci_index("app:1"));
    assert_eq!(im.pull_behavior, PullBehavior::PreferCached);
    assert_eq!(im.pull_timeout.as_micros(), 90_000_000);
    assert_eq!(s.egress.logs.rate_bps("fg", "app"), 20_480.0);
    assert_eq!(s.egress.logs.rate_bps("fg", "envoy"), 1_000.0, "8 kbit/s");
    assert_eq!(s.egress.logs.rate_bps("tiny", "app"), 1_024.0);
    assert_eq!(s.egress.prices.nat_gateway_hour, 0.059);
    assert_eq!(s.egress.prices.nat_gateway_gb, 0.045, "unset prices keep their default");
    let net = &s.network.as_ref().unwrap().egress;
    assert_eq!(net.nat, NatChoice::Single(Some(AzId(0))), "the only AZ with a NAT gateway");
    assert_eq!(net.nat_bandwidth_bps, 45e9 / 8.0);
    assert_eq!(net.host_bandwidth, HostBandwidth::Burst);
    assert!(net.endpoints.ecr && net.endpoints.s3_gateway && !net.endpoints.logs);
    assert_eq!(net.endpoints.azs, vec![AzId(1)]);
}

#[test]
fn assign_public_ip_is_read_from_the_awsvpc_configuration() {
    let s = load("[workload.web.awsvpc_configuration]\nassign_public_ip = \"ENABLED\"\n", "").unwrap();
    assert!(s.egress.workloads[0].assign_public_ip);
}

#[test]
fn bad_egress_keys_name_the_key_and_what_is_allowed() {
    error("[images]\npull_behavior = \"sometimes\"\n", "", "images.pull_behavior", "prefer-cached");
    error("[images]\ndefault_size = \"big\"\n", "", "images.default_size", "size");
    error("[images]\npull_timeout = \"0s\"\n", "", "images.pull_timeout", "greater than zero");
    error("[images]\ncolour = 1\n", "", "images.colour", "unknown key");
    error("[images.sizes]\n\"app:1\" = true\n", "", "images.sizes.app:1", "size");
    error("[logs.rates]\n\"fg\" = \"lots\"\n", "", "logs.rates.fg", "5Gbps");
    error("[logs.rates]\n\"fg/\" = \"1KB/s\"\n", "", "logs.rates.fg/", "family/container");
    error("[prices]\nnat_gateway_hour = -1\n", "", "prices.nat_gateway_hour", "out of range");
    error("[prices]\nnat_hourly = 1\n", "", "prices.nat_hourly", "unknown key");
    error("", "nat = \"two\"", "network.nat", "per_az, single, none");
    error("", "nat = \"single\"\nnat_az = \"us-east-1b\"", "network.nat_az", "nat_gateway = true");
    error("", "nat = \"single\"\nnat_az = \"mars-1a\"", "network.nat_az", "cluster.azs");
    error("", "nat_az = \"us-east-1a\"", "network.nat_az", "only with nat = \"single\"");
    error("", "nat_bandwidth = \"200Gbps\"", "network.nat_bandwidth", "100 Gbps");
    error("", "host_bandwidth = \"max\"", "network.host_bandwidth", "baseline, burst");
    error("", "[network.endpoints]\necr = \"yes\"", "network.endpoints.ecr", "true or false");
    error("", "[network.endpoints]\nazs = [\"x\"]", "network.endpoints.azs", "cluster.azs");
    error(
        "[workload.web.awsvpc_configuration]\nassign_public_ip = \"YES\"\n",
        "",
        "workload.web.awsvpc_configuration.assign_public_ip",
        "ENABLED, DISABLED",
    );
}

#[test]
fn ec2_task_enis_cannot_ask_for_a_public_ip() {
    let extra = "[workload.jobs]\nkind = \"batch\"\nat = \"1m\"\ncount = 1\ntask_definition = \"tiny\"\nsubnets = [\"priv-a\"]\n[workload.jobs.awsvpc_configuration]\nassign_public_ip = \"ENABLED\"\n";
    error(extra, "", "workload.jobs.awsvpc_configuration.assign_public_ip", "EC2 task ENIs never get public IPs");
}

#[test]
fn validate_warns_about_subnets_with_no_route_before_running() {
    // Per-AZ NAT, but only us-east-1a has one: Fargate tasks in priv-b cannot pull their ECR image.
    let s = load("[images]\n", "").unwrap();
    let w = clustersim::scenario::unrouted_warnings(&s);
    assert!(w.iter().any(|m| m.contains("priv-b") && m.contains("ResourceInitializationError")), "{w:?}");
    assert!(!w.iter().any(|m| m.contains("priv-a")), "priv-a routes to its AZ's NAT gateway: {w:?}");
    // A shared NAT gateway serves both AZs.
    let s = load("[images]\n", "nat = \"single\"").unwrap();
    assert_eq!(clustersim::scenario::unrouted_warnings(&s), Vec::<String>::new());
    // Without egress keys nothing is simulated, so nothing is reported.
    assert!(clustersim::scenario::unrouted_warnings(&load("", "").unwrap()).is_empty());
}

#[test]
fn the_validate_command_prints_the_no_route_warnings_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fg.json"), FARGATE).unwrap();
    fs::write(dir.path().join("tiny.json"), EC2).unwrap();
    let path = dir.path().join("s.toml");
    let body = BASE.replace("[network.subnets.pub-a]", "[network]\n\n[network.subnets.pub-a]");
    fs::write(&path, format!("{body}\n[images]\n")).unwrap();
    let bin = env!("CARGO_BIN_EXE_clustersim");
    let text = std::process::Command::new(bin).arg("validate").arg(&path).output().unwrap();
    assert!(text.status.success());
    let out = String::from_utf8(text.stdout).unwrap();
    let line = out.lines().find(|l| l.contains("warning:")).unwrap_or_else(|| panic!("no warning printed:\n{out}"));
    assert!(line.contains("priv-b") && line.contains("ResourceInitializationError"), "{line}");
    let json = std::process::Command::new(bin).arg("validate").arg("--json").arg(&path).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let warnings = v["warnings"].as_array().expect("a warnings array");
    assert!(warnings.iter().any(|w| w.as_str().unwrap().contains("priv-b")), "{warnings:?}");
}
