//! Plug your own placement strategy into clustersim and compare it with ECS's binpack on the same
//! arrivals.
//!
//! ```sh
//! cargo run --release --example custom_strategy
//! ```
//!
//! The strategy, `worst-fit`, places each task on the host with the MOST free memory — the
//! opposite of binpack(memory). A scenario selects it by name in its strategy list, exactly like a
//! built-in one (`strategy = ["spread(attribute:ecs.availability-zone)", "worst-fit"]`).

use std::path::Path;
use std::sync::Arc;

use clustersim::metrics::Metric;
use clustersim::model::HostId;
use clustersim::placement::{ClusterView, PlacementRequest, PlacementStrategy, StrategyRegistry};
use clustersim::scenario::RawScenario;
use clustersim::scenario::sweep::{Plan, set_path};
use clustersim::sim::{RunOptions, run};

/// Worst fit on memory: lower rank wins, so rank by negative free memory.
struct WorstFit;

impl PlacementStrategy for WorstFit {
    fn name(&self) -> &str {
        "worst-fit"
    }

    fn rank(&self, _request: &PlacementRequest<'_>, view: &ClusterView<'_>, host: HostId) -> i64 {
        -i64::from(view.cluster.host(host).free().memory_mib)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut registry = StrategyRegistry::new();
    registry.register(Arc::new(WorstFit))?;

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/compare-placement.toml");
    let mut raw = RawScenario::read(&path)?;
    // One sweep point per strategy, on the study's middle load; the same seeds for both.
    raw.table.remove("sweep");
    set_path(&mut raw.table, "workload.large.arrival.rate_per_s", toml::Value::Float(0.015))?;

    println!("{:<18} {:>22} {:>16}", "strategy", "placement_failure_rate", "hosts_used_mean");
    for strategy in ["binpack(memory)", "worst-fit"] {
        let mut table = raw.table.clone();
        set_path(&mut table, "placement.strategy", toml::Value::String(strategy.into()))?;
        let variant = RawScenario { table, ..raw.clone() };
        let plan = Plan::build(&variant, None, &registry)?;
        let spec = plan.run(0)?;
        let result = run(&spec.scenario, spec.seed, RunOptions::default())?;
        println!(
            "{:<18} {:>22.5} {:>16.2}",
            strategy,
            result.metrics.get(Metric::PlacementFailureRate),
            result.metrics.get(Metric::HostsUsedMean)
        );
    }
    Ok(())
}
