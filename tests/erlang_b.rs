//! Proves the whole simulator (scenario loading, sweep expansion, Poisson arrivals, exponential
//! run times, placement, RunTask's drop-on-failure and the warm-up window) against a closed form:
//! identical tasks on identical hosts form an M/M/c/c loss system, so the measured
//! `placement_failure_rate` must equal the Erlang-B blocking probability B(c, a = λ·s) within
//! three standard errors (over independent replications), below, near and above capacity and for
//! every built-in strategy. Because every host offers the same slots and the strategies share the
//! arrival and run-time streams (common random numbers), blocking cannot depend on the strategy at
//! all: replication r must give exactly the same counts under each strategy.

use std::fmt::Write as _;
use std::path::Path;

use clustersim::metrics::Metric;
use clustersim::metrics::stats::erlang_b;
use clustersim::placement::StrategyRegistry;
use clustersim::scenario::RawScenario;
use clustersim::scenario::sweep::Plan;
use clustersim::sim::{self, RunOptions};

/// 6 hosts (2 per AZ) × 4 slots.
const HOSTS: u32 = 6;
const SLOTS_PER_HOST: u32 = 4;
const SLOTS: u32 = HOSTS * SLOTS_PER_HOST;
/// Mean run time s, in seconds.
const MEAN_RUN_S: f64 = 100.0;
const REPLICATIONS: u32 = 20;

const STRATEGIES: [&str; 4] = [
    "binpack(memory)",
    "spread(attribute:ecs.availability-zone),binpack(memory)",
    "spread(attribute:ecs.availability-zone),spread(instanceId)",
    "random",
];

/// Task size: exactly a quarter of a `slot4` host (4 vCPU, 8 GiB, all of it registered).
const TASK_DEFINITION: &str = r#"{
  "family": "slot",
  "cpu": "1024",
  "memory": "2048",
  "networkMode": "bridge",
  "requiresCompatibilities": ["EC2"],
  "containerDefinitions": [
    { "name": "work", "image": "public.ecr.aws/docker/library/busybox:1.36", "essential": true }
  ]
}"#;

/// The scenario at offered load a = `load` × c, swept over the strategies.
fn scenario_text(load: f64) -> String {
    let rate = load * f64::from(SLOTS) / MEAN_RUN_S;
    let strategies: Vec<String> = STRATEGIES.iter().map(|s| format!("\"{s}\"")).collect();
    format!(
        r#"
name = "erlang-b"
seed = 20240601
horizon = "100000s"
warmup = "2000s"
sample_interval = "1h"
task_definitions = ["slot.json"]

[cluster]
azs = ["az-a", "az-b", "az-c"]
registered_memory_fraction = 1.0

[instance_types.slot4]
vcpu = 4
memory = "8GiB"

[host_groups.slots]
instance_type = "slot4"
count_per_az = 2

[placement]
strategy = "random"

[workload.jobs]
kind = "poisson"
task_definition = "slot"
run_time = {{ distribution = "exponential", mean = "{MEAN_RUN_S}s" }}

[workload.jobs.arrival]
rate_per_s = {rate}

[sweep]
replications = {REPLICATIONS}

[[sweep.axis]]
key = "placement.strategy"
values = [{strategies}]
"#,
        strategies = strategies.join(", ")
    )
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// One strategy's replications: blocking rate and failure count of each, in replication order.
struct Point {
    strategy: String,
    rates: Vec<f64>,
    failures: Vec<f64>,
}

/// Runs every replication of every strategy at offered load `load` × c and checks the measured
/// blocking against Erlang-B, and the strategies against each other.
fn check_blocking_at(load: f64) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "slot.json", TASK_DEFINITION);
    let path = write(dir.path(), "erlang-b.toml", &scenario_text(load));
    let raw = RawScenario::read(&path).unwrap_or_else(|e| panic!("{e}"));
    let plan = Plan::build(&raw, None, &StrategyRegistry::new()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.run_count(), STRATEGIES.len() * REPLICATIONS as usize);

    // The scenario really is c identical slots.
    let s = &plan.base;
    assert_eq!(s.host_count(), u64::from(HOSTS));
    let registered = s.registered(&s.instance_types[s.host_groups[0].instance_type as usize]);
    let td = &s.task_definitions[0];
    assert_eq!(registered.cpu_units / td.reserved_cpu_units(), SLOTS_PER_HOST);
    assert_eq!(registered.memory_mib / td.reserved_memory_mib(), SLOTS_PER_HOST);
    assert_eq!(registered.cpu_units % td.reserved_cpu_units() + registered.memory_mib % td.reserved_memory_mib(), 0);

    let mut points: Vec<Point> = (0..plan.point_count())
        .map(|p| plan.point_scenario(p).unwrap())
        .zip(STRATEGIES)
        .map(|(scenario, strategy)| {
            assert_eq!(scenario.workloads[0].placement.strategy_label(), strategy, "sweep point order");
            Point { strategy: strategy.to_string(), rates: Vec::new(), failures: Vec::new() }
        })
        .collect();
    for spec in (0..plan.run_count()).map(|i| plan.run(i).unwrap()) {
        let r = sim::run(&spec.scenario, spec.seed, RunOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", spec.run_id));
        let m = &r.metrics;
        assert!(m.get(Metric::PlacementAttempts) > 1000.0, "too few arrivals after the warm-up");
        points[spec.point].rates.push(m.get(Metric::PlacementFailureRate));
        points[spec.point].failures.push(m.get(Metric::PlacementFailures));
    }

    let a = load * f64::from(SLOTS);
    let expected = erlang_b(SLOTS, a);
    let mut report = String::new();
    let mut bad = Vec::new();
    writeln!(report, "c = {SLOTS}, a = {a:.1}, s = {MEAN_RUN_S} s, {REPLICATIONS} replications per strategy").unwrap();
    writeln!(report, "{:>10} {:>10} {:>10} {:>7}  strategy", "Erlang-B", "measured", "std err", "z").unwrap();
    for p in &points {
        let n = p.rates.len() as f64;
        let mean = p.rates.iter().sum::<f64>() / n;
        let sd = (p.rates.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let se = sd / n.sqrt();
        let z = (mean - expected) / se;
        writeln!(report, "{expected:>10.5} {mean:>10.5} {se:>10.5} {z:>7.2}  {}", p.strategy).unwrap();
        // NaN (no variation at all) fails too.
        if z.is_nan() || z.abs() > 3.0 {
            bad.push(format!("{}: |z| = {:.2} > 3", p.strategy, z.abs()));
        }
    }
    eprintln!("{report}");
    assert!(bad.is_empty(), "measured blocking differs from Erlang-B by more than 3 standard errors:\n{report}{}", bad.join("\n"));

    // Same slots, same arrivals, same run times: the strategy cannot change which tasks block.
    for other in &points[1..] {
        assert_eq!(
            points[0].failures, other.failures,
            "failures per replication differ between `{}` and `{}`\n{report}",
            points[0].strategy, other.strategy
        );
    }
}

#[test]
fn blocking_below_capacity_matches_erlang_b_for_every_strategy() {
    check_blocking_at(0.6);
}

#[test]
fn blocking_near_capacity_matches_erlang_b_for_every_strategy() {
    check_blocking_at(1.0);
}

#[test]
fn blocking_above_capacity_matches_erlang_b_for_every_strategy() {
    check_blocking_at(1.3);
}
