//! `validate` shows what the simulator derived from a scenario, checked against hand-computed
//! values: registered resources (physical × 0.975 − reserved memory, 1,024 CPU units per vCPU),
//! tasks per host by CPU, memory, ports and ENI slots and the binding one, usable and free subnet
//! addresses (size − 5, minus hosts' ENIs and NAT gateways), and each Fargate task's size.

use std::fs;
use std::path::Path;
use std::process::Command;

use clustersim::placement::StrategyRegistry;
use clustersim::scenario::Scenario;
use clustersim::scenario::derived::{Binding, derive};

const BIN: &str = env!("CARGO_BIN_EXE_clustersim");
const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn shipped(name: &str) -> Scenario {
    Scenario::load(&Path::new(REPO).join("scenarios").join(name), &StrategyRegistry::new()).expect("valid shipped scenario")
}

#[test]
fn registered_resources_apply_the_fraction_then_the_agent_reservation() {
    let d = derive(&shipped("quickstart.toml"));
    let names: Vec<&str> = d.host_types.iter().map(|t| t.instance_type.as_str()).collect();
    assert_eq!(names, ["c5.large", "m5.xlarge"]);
    let c5 = &d.host_types[0];
    // c5.large: 2 vCPU, 4 GiB; floor(4096 × 0.975) = 3993, − 256 reserved = 3737.
    assert_eq!((c5.registered_cpu_units, c5.registered_memory_mib, c5.hosts), (2048, 3737, 6));
    let m5 = &d.host_types[1];
    // m5.xlarge: floor(16384 × 0.975) = 15974, − 256 = 15718; 4 ENIs − the primary = 3 slots.
    assert_eq!((m5.registered_cpu_units, m5.registered_memory_mib, m5.eni_task_limit), (4096, 15718, 3));
}

#[test]
fn tasks_per_host_name_the_binding_resource() {
    let d = derive(&shipped("quickstart.toml"));
    let fit = |t: &str, f: &str| d.fits.iter().find(|r| r.instance_type == t && r.family == f).expect("row").clone();
    // web: cpu 256, memoryReservation 512 → 4096/256 = 16 by CPU, 15718/512 = 30 by memory.
    let web = fit("m5.xlarge", "web");
    assert_eq!(
        (web.by_cpu, web.by_memory, web.by_ports, web.by_eni_slots, web.fit, web.binding),
        (Some(16), 30, None, None, 16, Binding::Cpu)
    );
    // scorekeep pins host port 8080: one per host, whatever the memory allows.
    let scorekeep = fit("m5.xlarge", "scorekeep");
    assert_eq!((scorekeep.by_memory, scorekeep.by_ports, scorekeep.fit, scorekeep.binding), (7, Some(1), 1, Binding::Ports));
    // On c5.large, memory (3737/2048 = 1) binds first in the order cpu, memory, ports.
    let small = fit("c5.large", "scorekeep");
    assert_eq!((small.by_cpu, small.by_memory, small.fit, small.binding), (Some(2), 1, 1, Binding::Memory));
}

#[test]
fn awsvpc_tasks_per_host_are_bound_by_eni_slots_and_subnets_show_free_addresses() {
    let d = derive(&shipped("ip-exhaustion.toml"));
    let api = d.fits.iter().find(|r| r.family == "api-awsvpc").unwrap();
    assert_eq!((api.by_cpu, api.by_memory, api.by_eni_slots, api.fit, api.binding), (Some(16), 31, Some(3), 3, Binding::EniSlots));
    let subnet = |n: &str| d.subnets.iter().find(|s| s.subnet == n).unwrap().clone();
    // /24: 256 − 5 = 251 usable, 10 hosts' primary ENIs → 241 for tasks.
    let a = subnet("private-a");
    assert_eq!((a.usable_ips, a.held_by_hosts_and_nat, a.free_for_tasks), (251, 10, 241));
    // /28 with a NAT gateway: 16 − 5 = 11, the NAT holds one.
    let public = subnet("public-a");
    assert_eq!((public.usable_ips, public.held_by_hosts_and_nat, public.free_for_tasks), (11, 1, 10));
    assert_eq!(d.fargate.len(), 1);
    let f = &d.fargate[0];
    assert_eq!((f.family.as_str(), f.cpu_units, f.vcpu, f.memory_mib), ("api-fargate", 512, 0.5, 1024));
}

#[test]
fn trunking_gives_the_trunk_limit_and_holds_a_trunk_eni_per_host() {
    let d = derive(&shipped("bench-awsvpc.toml"));
    let m5 = &d.host_types[0];
    assert!(m5.trunking);
    assert_eq!(m5.eni_task_limit, 20);
    let total_held: u64 = d.subnets.iter().map(|s| s.held_by_hosts_and_nat).sum();
    assert_eq!(total_held, 2 * m5.hosts, "a primary and a trunk ENI per host");
}

#[test]
fn an_agent_reserved_static_port_fits_no_task() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("ssh.json"),
        r#"{ "family": "ssh", "networkMode": "bridge", "containerDefinitions": [
             { "name": "ssh", "image": "sshd", "memory": 128, "portMappings": [ { "containerPort": 22, "hostPort": 22 } ] } ] }"#,
    )
    .unwrap();
    let scenario = r#"name = "ports"
horizon = "1h"
task_definitions = ["ssh.json"]
[cluster]
azs = ["a"]
[host_groups.main]
instance_type = "m5.large"
count_per_az = 1
[workload.ssh]
kind = "service"
task_definition = "ssh"
desired_count = 1
"#;
    fs::write(dir.path().join("s.toml"), scenario).unwrap();
    let s = Scenario::load(&dir.path().join("s.toml"), &StrategyRegistry::new()).unwrap();
    let d = derive(&s);
    assert_eq!((d.fits[0].by_ports, d.fits[0].fit, d.fits[0].binding), (Some(0), 0, Binding::Ports));
}

#[test]
fn validate_prints_the_derived_tables() {
    let o = Command::new(BIN).args(["validate", "scenarios/ip-exhaustion.toml"]).current_dir(REPO).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8(o.stdout).unwrap();
    for fragment in
        ["valid", "registered memory = physical × 0.975", "15974", "eni_slots", "public-a", "241", "Fargate task sizes", "api-fargate"]
    {
        assert!(out.contains(fragment), "`{fragment}` missing from:\n{out}");
    }
}

#[test]
fn validate_json_prints_the_same_for_scripts() {
    let o = Command::new(BIN).args(["validate", "--json", "scenarios/ip-exhaustion.toml"]).current_dir(REPO).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v["valid"], true);
    assert_eq!(v["runs"], 30);
    assert_eq!(v["derived"]["host_types"][0]["registered_memory_mib"], 15974);
    assert_eq!(v["derived"]["fits"][0]["binding"], "eni_slots");
    assert_eq!(v["derived"]["fits"][0]["by_ports"], serde_json::Value::Null);
    assert_eq!(v["derived"]["subnets"][3]["free_for_tasks"], 10);
    assert_eq!(v["derived"]["fargate"][0]["memory_mib"], 1024);
}

#[test]
fn capacity_providers_show_their_group_bounds_and_workloads() {
    let d = derive(&shipped("cluster-autoscaling.toml"));
    let p = &d.capacity_providers[0];
    assert_eq!((p.name.as_str(), p.instance_type.as_str(), p.start_size, p.min_size, p.max_size), ("workers", "m5.xlarge", 3, 3, 150));
    assert_eq!(p.workloads, ["jobs", "web"]);
    let out = Command::new(BIN).args(["validate", &format!("{REPO}/scenarios/cluster-autoscaling.toml")]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Capacity providers (Auto Scaling groups)") && text.contains("target 100 %, warm-up 300 s"), "{text}");
}
