//! Everything that touches files for results: CSV writers, the manifest, charts, and the
//! temporary-folder-then-rename discipline that never leaves a half-written results folder.
//!
//! Architecture invariant: only `report` (and the CLI) write files; the simulation never does.

mod assemble;
pub mod charts;
mod csvout;
mod folder;
pub mod plan;
mod summary;

pub use assemble::{AssembleError, Assembled, assemble, prepare_work_dir, read_run_metrics, run_is_complete, write_run_files};
pub use csvout::{write_decisions, write_runs, write_subnets, write_tasks, write_timeseries};
pub use folder::{
    FolderKind, LOCK_FILE, OutputLock, PLAN_RUNS, RESULTS_MARKER, ResultsFolder, check_own, check_replaceable, clean_stale, remove_own,
    sibling, write_atomically,
};
pub use summary::{ComparisonRow, PointSummary, comparison_rows, strategy_axis, summarise, write_comparison, write_summary};

use std::path::Path;

use serde::Serialize;

use crate::scenario::sweep::Plan;

/// `manifest.json`: what is needed to reproduce the results.
#[derive(Debug, Serialize)]
pub struct Manifest<'a> {
    pub clustersim_version: &'a str,
    pub scenario: &'a str,
    /// The scenario's file name (not the path it was run from, so that runs from different
    /// folders and merged shards write the same manifest).
    pub scenario_file: String,
    /// Hash of the scenario file and every file it references.
    pub inputs_fnv1a64: &'a str,
    pub base_seed: u64,
    pub replications: u32,
    pub axes: Vec<ManifestAxis>,
    pub runs: Vec<ManifestRun>,
}

#[derive(Debug, Serialize)]
pub struct ManifestAxis {
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ManifestRun {
    pub run_id: String,
    pub seed: u64,
    pub params: Vec<(String, String)>,
}

impl<'a> Manifest<'a> {
    pub fn new(plan: &'a Plan) -> Manifest<'a> {
        let s = &plan.base;
        Manifest {
            clustersim_version: env!("CARGO_PKG_VERSION"),
            scenario: &s.name,
            scenario_file: std::path::Path::new(&s.file).file_name().map_or_else(|| s.file.clone(), |n| n.to_string_lossy().into_owned()),
            inputs_fnv1a64: &s.file_hash,
            base_seed: plan.base_seed,
            replications: plan.replications,
            axes: plan.axes.iter().map(|a| ManifestAxis { key: a.key.clone(), values: a.labels.clone() }).collect(),
            runs: (0..plan.run_count())
                .map(|i| {
                    let r = plan.run_info(i);
                    ManifestRun { run_id: r.run_id, seed: r.seed, params: r.params }
                })
                .collect(),
        }
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        text.push('\n');
        std::fs::write(path, text)
    }
}

/// A float for CSV: shortest round-trip form, empty for NaN (a missing value, e.g. service wait
/// in a run without services).
pub fn fmt_f64(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}
