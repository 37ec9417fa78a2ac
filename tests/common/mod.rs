//! Shared by the whole-run test files: a scenario written with its task definitions into a
//! temporary directory, read as the CLI reads it, and run.

use std::fs;

use clustersim::placement::StrategyRegistry;
use clustersim::scenario::RawScenario;
use clustersim::scenario::sweep::Plan;
use clustersim::sim::{RunOptions, RunResult, run};

/// Writes `files` (name, JSON) and `scenario` (the whole TOML text) to a temporary directory and
/// builds its plan; `Err` is the scenario error as the user would see it.
pub fn plan(files: &[(&str, &str)], scenario: &str) -> Result<Plan, String> {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    let path = dir.path().join("s.toml");
    fs::write(&path, scenario).unwrap();
    let raw = RawScenario::read(&path).unwrap();
    Plan::build(&raw, None, &StrategyRegistry::new()).map_err(|e| e.to_string())
}

/// Runs the plan's first run with per-task records; panics on a scenario error or a broken
/// invariant.
pub fn run_first(plan: Result<Plan, String>) -> RunResult {
    let plan = plan.unwrap_or_else(|e| panic!("{e}"));
    let spec = plan.run(0).unwrap_or_else(|e| panic!("{e}"));
    run(&spec.scenario, spec.seed, RunOptions { record_tasks: true, explain: false }).unwrap_or_else(|e| panic!("invariant: {e}"))
}
