//! One rule for sizes across the project: a scenario reads `"9000MB"` and `"9GB"` as ECS reads
//! them in a task definition (binary units: 9,000 MiB and 9,216 MiB), so the registered memory of
//! a custom instance type is what the user meant.

use std::path::Path;

use clustersim::placement::StrategyRegistry;
use clustersim::scenario::{RawScenario, Scenario};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn scenario_with_instance_memory(memory: &str) -> Scenario {
    let text = format!(
        r#"name = "units"
horizon = "1h"
task_definitions = ["taskdefs/web.json"]

[cluster]
azs = ["us-east-1a"]

[instance_types.custom]
vcpu = 4
memory = {memory}

[host_groups.main]
instance_type = "custom"
count_per_az = 1

[workload.web]
kind = "service"
task_definition = "web"
desired_count = 1
"#
    );
    // Task-definition paths are relative to the scenario's folder.
    let path = Path::new(REPO).join("scenarios/units.toml");
    let raw = RawScenario::parse(&text, &path, 0).expect("valid TOML");
    Scenario::from_table(&raw, &raw.table, &StrategyRegistry::new()).expect("valid scenario")
}

fn registered_memory_mib(memory: &str) -> u32 {
    let s = scenario_with_instance_memory(memory);
    let t = s.instance_types.iter().find(|t| t.name == "custom").unwrap();
    s.registered(t).memory_mib
}

#[test]
fn megabytes_in_a_scenario_are_mebibytes_as_in_task_definitions() {
    // floor(9000 × 0.975) = 8775: the same as "9000MiB", not 8583 (decimal megabytes).
    assert_eq!(registered_memory_mib("\"9000MB\""), 8775);
    assert_eq!(registered_memory_mib("\"9000MiB\""), 8775);
}

#[test]
fn gigabytes_in_a_scenario_are_gibibytes() {
    // floor(16 × 1024 × 0.975) = 15974.
    assert_eq!(registered_memory_mib("\"16GB\""), 15974);
    assert_eq!(registered_memory_mib("\"16GiB\""), 15974);
}

#[test]
fn a_bare_integer_memory_is_mebibytes() {
    assert_eq!(registered_memory_mib("9000"), 8775);
}
