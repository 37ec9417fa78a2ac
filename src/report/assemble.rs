//! Per-run files in a work folder, and the assembly of a complete results folder from them.
//!
//! Work folder layout (one file per run; `runs/<id>.csv` is written last and marks the run done):
//! `runs/<id>.csv`, `timeseries/<id>.csv`, `tasks/<id>.csv`, `decisions/<id>.csv`,
//! `subnets/<id>.csv`, `deployments/<id>.csv`, `events/<id>.csv`, `providers/<id>.csv` (a run
//! with capacity providers).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::charts;
use super::{Manifest, csvout, summary};
use crate::metrics::{Metric, MetricValues};
use crate::scenario::sweep::{Plan, RunSpec};
use crate::sim::{RunOptions, RunResult};

pub fn prepare_work_dir(work: &Path) -> std::io::Result<()> {
    for sub in super::folder::RUN_SUBFOLDERS {
        fs::create_dir_all(work.join(sub))?;
    }
    Ok(())
}

fn file(work: &Path, sub: &str, run_id: &str) -> PathBuf {
    work.join(sub).join(format!("{run_id}.csv"))
}

/// Whether `work` holds every file of run `run_id` (`has_network`: [`Plan::has_network`]).
pub fn run_is_complete(work: &Path, run_id: &str, plan: &Plan, options: RunOptions) -> bool {
    file(work, "runs", run_id).is_file()
        && file(work, "timeseries", run_id).is_file()
        && (!plan.has_network() || file(work, "subnets", run_id).is_file())
        && (!plan.has_managed_services() || (file(work, "deployments", run_id).is_file() && file(work, "events", run_id).is_file()))
        && (!options.record_tasks || file(work, "tasks", run_id).is_file())
        && (!options.explain || file(work, "decisions", run_id).is_file())
}

/// Writes `write` to `path` under a temporary name, then renames it into place.
fn atomically(path: &Path, write: impl FnOnce(&Path) -> Result<(), csv::Error>) -> std::io::Result<()> {
    let tmp = path.with_extension("csv.tmp");
    write(&tmp).map_err(|e| std::io::Error::other(format!("`{}`: {e}", tmp.display())))?;
    fs::rename(&tmp, path).map_err(|e| std::io::Error::other(format!("cannot rename `{}` to `{}`: {e}", tmp.display(), path.display())))
}

/// Writes one finished run's files into the work folder.
pub fn write_run_files(work: &Path, spec: &RunSpec, result: &RunResult, options: RunOptions) -> std::io::Result<()> {
    atomically(&file(work, "timeseries", &spec.run_id), |p| csvout::write_timeseries(p, result))?;
    if spec.scenario.network.is_some() {
        atomically(&file(work, "subnets", &spec.run_id), |p| csvout::write_subnets(p, spec, result))?;
    }
    if spec.scenario.has_managed_services() {
        atomically(&file(work, "deployments", &spec.run_id), |p| csvout::write_deployments(p, spec, result))?;
        atomically(&file(work, "events", &spec.run_id), |p| csvout::write_service_events(p, spec, result))?;
    }
    if !spec.scenario.capacity.is_empty() {
        atomically(&file(work, "providers", &spec.run_id), |p| csvout::write_providers(p, spec, result))?;
    }
    if options.record_tasks {
        atomically(&file(work, "tasks", &spec.run_id), |p| csvout::write_tasks(p, spec, result))?;
    }
    if options.explain {
        atomically(&file(work, "decisions", &spec.run_id), |p| {
            csvout::write_decisions(p, std::slice::from_ref(spec), std::slice::from_ref(result))
        })?;
    }
    atomically(&file(work, "runs", &spec.run_id), |p| csvout::write_runs(p, std::slice::from_ref(spec), std::slice::from_ref(result)))
}

/// Why `assemble` failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssembleError {
    /// A per-run file is missing or damaged, or an output cannot be written; the message names
    /// the path.
    Input(String),
    /// A bug (e.g. a chart that cannot be drawn from valid data).
    Internal(String),
}

impl std::fmt::Display for AssembleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AssembleError::Input(m) | AssembleError::Internal(m) => f.write_str(m),
        }
    }
}

/// An I/O error at `path`, as a message naming it.
fn at(path: &Path) -> impl Fn(std::io::Error) -> AssembleError + '_ {
    move |e| AssembleError::Input(format!("`{}`: {e}", path.display()))
}

/// A CSV error at `path`, as a message naming it.
fn csv_at(path: &Path) -> impl Fn(csv::Error) -> AssembleError + '_ {
    move |e| AssembleError::Input(format!("`{}`: {e}", path.display()))
}

/// Why a per-run file cannot be used, and what to do about it.
fn damaged(path: &Path, what: impl std::fmt::Display) -> AssembleError {
    AssembleError::Input(format!("`{}` is damaged ({what}); delete it and rerun with --resume to redo that run", path.display()))
}

/// Reads the metrics row of a per-run file.
fn read_metrics(path: &Path) -> Result<(String, MetricValues), AssembleError> {
    let text = fs::read_to_string(path).map_err(|e| damaged(path, e))?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| damaged(path, e))?.clone();
    let record = reader.records().next().ok_or_else(|| damaged(path, "no row"))?.map_err(|e| damaged(path, e))?;
    let mut values = MetricValues::default();
    for m in Metric::ALL {
        let i = headers.iter().position(|h| h == m.name()).ok_or_else(|| damaged(path, format!("no column {}", m.name())))?;
        let cell = record.get(i).ok_or_else(|| damaged(path, format!("row 2 has no column {}", m.name())))?;
        values.set(
            *m,
            if cell.is_empty() {
                f64::NAN
            } else {
                cell.parse().map_err(|_| damaged(path, format!("row 2, column {}: `{cell}` is not a number", m.name())))?
            },
        );
    }
    let data_line = text.split_once('\n').map_or("", |(_, rest)| rest).to_string();
    if !data_line.ends_with('\n') {
        return Err(damaged(path, "its row does not end with a line break"));
    }
    Ok((data_line, values))
}

/// The metrics of run `run_id` from its per-run file in `work`.
pub fn read_run_metrics(work: &Path, run_id: &str) -> Result<MetricValues, AssembleError> {
    read_metrics(&file(work, "runs", run_id)).map(|(_, values)| values)
}

/// Appends a per-run CSV's rows to a combined file, writing its header once.
fn append_rows(from: &Path, to: &Path, combined: &mut Option<fs::File>) -> Result<(), AssembleError> {
    let text = fs::read_to_string(from).map_err(|e| damaged(from, e))?;
    let (header, body) = text.split_once('\n').unwrap_or((&text, ""));
    let f = match combined.as_mut() {
        Some(f) => f,
        None => {
            let mut f = fs::File::create(to).map_err(at(to))?;
            writeln!(f, "{header}").map_err(at(to))?;
            combined.insert(f)
        }
    };
    f.write_all(body.as_bytes()).map_err(at(to))
}

/// Copies a per-run file into the results folder.
fn copy(from: &Path, to: &Path) -> Result<(), AssembleError> {
    fs::copy(from, to).map(|_| ()).map_err(|e| AssembleError::Input(format!("cannot copy `{}` to `{}`: {e}", from.display(), to.display())))
}

/// What `assemble` produced, for printing and for `check`.
pub struct Assembled {
    pub metrics: Vec<MetricValues>,
    pub summaries: Vec<summary::PointSummary>,
}

/// Builds a complete results folder in `out` from the per-run files found in `sources`.
pub fn assemble(plan: &Plan, sources: &[PathBuf], out: &Path, options: RunOptions, draw_charts: bool) -> Result<Assembled, AssembleError> {
    let mut missing = Vec::new();
    let mut found: Vec<&Path> = Vec::with_capacity(plan.run_count());
    for i in 0..plan.run_count() {
        let run_id = plan.run_id(i);
        match sources.iter().find(|s| run_is_complete(s, &run_id, plan, options)) {
            Some(s) => found.push(s),
            None => missing.push(run_id),
        }
    }
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(10).map(String::as_str).collect();
        return Err(AssembleError::Input(format!(
            "{} of {} runs have no results ({}{})",
            missing.len(),
            plan.run_count(),
            shown.join(", "),
            if missing.len() > 10 { ", …" } else { "" }
        )));
    }
    let ts_dir = out.join("timeseries");
    fs::create_dir_all(&ts_dir).map_err(at(&ts_dir))?;
    // runs.csv: the header once, then each run's row exactly as written.
    let mut runs_csv = Vec::new();
    {
        let mut w = csv::Writer::from_writer(&mut runs_csv);
        let mut header = vec!["run_id".to_string()];
        header.extend(plan.axes.iter().map(|a| a.key.clone()));
        header.extend(["replication".to_string(), "seed".to_string()]);
        header.extend(Metric::ALL.iter().map(|m| m.name().to_string()));
        w.write_record(&header).and_then(|()| w.flush().map_err(csv::Error::from)).map_err(csv_at(&out.join("runs.csv")))?;
    }
    let mut metrics = Vec::with_capacity(plan.run_count());
    let (mut decisions, mut subnets, mut deployments): (Option<fs::File>, Option<fs::File>, Option<fs::File>) = (None, None, None);
    let mut providers: Option<fs::File> = None;
    if options.record_tasks {
        fs::create_dir_all(out.join("tasks")).map_err(at(&out.join("tasks")))?;
    }
    if plan.has_managed_services() {
        fs::create_dir_all(out.join("events")).map_err(at(&out.join("events")))?;
    }
    for (i, src) in found.iter().enumerate() {
        let spec = plan.run_info(i);
        let (line, values) = read_metrics(&file(src, "runs", &spec.run_id))?;
        runs_csv.extend_from_slice(line.as_bytes());
        metrics.push(values);
        copy(&file(src, "timeseries", &spec.run_id), &out.join("timeseries").join(format!("{}.csv", spec.run_id)))?;
        if options.record_tasks {
            copy(&file(src, "tasks", &spec.run_id), &out.join("tasks").join(format!("{}.csv", spec.run_id)))?;
        }
        if options.explain {
            append_rows(&file(src, "decisions", &spec.run_id), &out.join("decisions.csv"), &mut decisions)?;
        }
        if plan.has_network() {
            append_rows(&file(src, "subnets", &spec.run_id), &out.join("subnets.csv"), &mut subnets)?;
        }
        if plan.has_managed_services() {
            append_rows(&file(src, "deployments", &spec.run_id), &out.join("deployments.csv"), &mut deployments)?;
            copy(&file(src, "events", &spec.run_id), &out.join("events").join(format!("{}.csv", spec.run_id)))?;
        }
        // Written by the runs whose scenario has capacity providers (a sweep may change that).
        let provider_file = file(src, "providers", &spec.run_id);
        if provider_file.is_file() {
            append_rows(&provider_file, &out.join("providers.csv"), &mut providers)?;
        }
    }
    let runs_path = out.join("runs.csv");
    fs::write(&runs_path, runs_csv).map_err(at(&runs_path))?;
    let summaries = summary::summarise(plan, &metrics);
    let summary_path = out.join("summary.csv");
    summary::write_summary(&summary_path, plan, &summaries).map_err(csv_at(&summary_path))?;
    let comparison = summary::comparison_rows(plan, &metrics);
    if !comparison.is_empty() {
        let comparison_path = out.join("comparison.csv");
        summary::write_comparison(&comparison_path, &comparison).map_err(csv_at(&comparison_path))?;
    }
    let manifest_path = out.join("manifest.json");
    Manifest::new(plan).write(&manifest_path).map_err(at(&manifest_path))?;
    if draw_charts {
        charts::draw_results(plan, &summaries, out)
            .map_err(|e| AssembleError::Internal(format!("charts in `{}`: {e}", out.join("charts").display())))?;
    }
    Ok(Assembled { metrics, summaries })
}
