//! Per-run files in a work folder, and the assembly of a complete results folder from them.
//!
//! Work folder layout (one file per run; `runs/<id>.csv` is written last and marks the run done):
//! `runs/<id>.csv`, `timeseries/<id>.csv`, `tasks/<id>.csv`, `decisions/<id>.csv`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::charts;
use super::{Manifest, csvout, summary};
use crate::metrics::{Metric, MetricValues};
use crate::scenario::sweep::{Plan, RunSpec};
use crate::sim::{RunOptions, RunResult};

pub fn prepare_work_dir(work: &Path) -> std::io::Result<()> {
    for sub in ["runs", "timeseries", "tasks", "decisions", "subnets"] {
        fs::create_dir_all(work.join(sub))?;
    }
    Ok(())
}

fn file(work: &Path, sub: &str, run_id: &str) -> PathBuf {
    work.join(sub).join(format!("{run_id}.csv"))
}

pub fn run_is_complete(work: &Path, spec: &RunSpec, options: RunOptions) -> bool {
    file(work, "runs", &spec.run_id).is_file()
        && file(work, "timeseries", &spec.run_id).is_file()
        && (spec.scenario.network.is_none() || file(work, "subnets", &spec.run_id).is_file())
        && (!options.record_tasks || file(work, "tasks", &spec.run_id).is_file())
        && (!options.explain || file(work, "decisions", &spec.run_id).is_file())
}

/// Writes `write` to `path` under a temporary name, then renames it into place.
fn atomically(path: &Path, write: impl FnOnce(&Path) -> Result<(), csv::Error>) -> std::io::Result<()> {
    let tmp = path.with_extension("csv.tmp");
    write(&tmp).map_err(std::io::Error::other)?;
    fs::rename(&tmp, path)
}

/// Writes one finished run's files into the work folder.
pub fn write_run_files(work: &Path, spec: &RunSpec, result: &RunResult, options: RunOptions) -> std::io::Result<()> {
    atomically(&file(work, "timeseries", &spec.run_id), |p| csvout::write_timeseries(p, result))?;
    if spec.scenario.network.is_some() {
        atomically(&file(work, "subnets", &spec.run_id), |p| csvout::write_subnets(p, spec, result))?;
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

/// Reads the metrics row of a per-run file.
fn read_metrics(path: &Path) -> Result<(String, MetricValues), String> {
    let text = fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let record = reader.records().next().ok_or_else(|| format!("`{}` has no row", path.display()))?.map_err(|e| e.to_string())?;
    let mut values = MetricValues::default();
    for m in Metric::ALL {
        let i = headers.iter().position(|h| h == m.name()).ok_or_else(|| format!("`{}` lacks column {}", path.display(), m.name()))?;
        let cell = &record[i];
        values.set(
            *m,
            if cell.is_empty() { f64::NAN } else { cell.parse().map_err(|_| format!("`{}`: bad number `{cell}`", path.display()))? },
        );
    }
    let data_line = text.split_once('\n').map_or("", |(_, rest)| rest).to_string();
    Ok((data_line, values))
}

/// Appends a per-run CSV's rows to a combined file, writing its header once.
fn append_rows(from: &Path, to: &Path, combined: &mut Option<fs::File>) -> std::io::Result<()> {
    let text = fs::read_to_string(from)?;
    let (header, body) = text.split_once('\n').unwrap_or((&text, ""));
    let f = match combined.as_mut() {
        Some(f) => f,
        None => {
            let mut f = fs::File::create(to)?;
            writeln!(f, "{header}")?;
            combined.insert(f)
        }
    };
    f.write_all(body.as_bytes())
}

/// What `assemble` produced, for printing and for `check`.
pub struct Assembled {
    pub metrics: Vec<MetricValues>,
    pub summaries: Vec<summary::PointSummary>,
}

/// Builds a complete results folder in `out` from the per-run files found in `sources`.
pub fn assemble(plan: &Plan, sources: &[PathBuf], out: &Path, options: RunOptions, draw_charts: bool) -> Result<Assembled, String> {
    let io = |e: std::io::Error| e.to_string();
    let mut missing = Vec::new();
    let mut found: Vec<&Path> = Vec::with_capacity(plan.runs.len());
    for spec in &plan.runs {
        match sources.iter().find(|s| run_is_complete(s, spec, options)) {
            Some(s) => found.push(s),
            None => missing.push(spec.run_id.clone()),
        }
    }
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(10).map(String::as_str).collect();
        return Err(format!(
            "{} of {} runs have no results ({}{})",
            missing.len(),
            plan.runs.len(),
            shown.join(", "),
            if missing.len() > 10 { ", …" } else { "" }
        ));
    }
    fs::create_dir_all(out.join("timeseries")).map_err(io)?;
    // runs.csv: the header once, then each run's row exactly as written.
    let mut runs_csv = Vec::new();
    {
        let mut w = csv::Writer::from_writer(&mut runs_csv);
        let mut header = vec!["run_id".to_string()];
        header.extend(plan.axes.iter().map(|a| a.key.clone()));
        header.extend(["replication".to_string(), "seed".to_string()]);
        header.extend(Metric::ALL.iter().map(|m| m.name().to_string()));
        w.write_record(&header).map_err(|e| e.to_string())?;
        w.flush().map_err(io)?;
    }
    let mut metrics = Vec::with_capacity(plan.runs.len());
    let (mut decisions, mut subnets): (Option<fs::File>, Option<fs::File>) = (None, None);
    if options.record_tasks {
        fs::create_dir_all(out.join("tasks")).map_err(io)?;
    }
    for (spec, src) in plan.runs.iter().zip(&found) {
        let (line, values) = read_metrics(&file(src, "runs", &spec.run_id))?;
        runs_csv.extend_from_slice(line.as_bytes());
        metrics.push(values);
        fs::copy(file(src, "timeseries", &spec.run_id), out.join("timeseries").join(format!("{}.csv", spec.run_id))).map_err(io)?;
        if options.record_tasks {
            fs::copy(file(src, "tasks", &spec.run_id), out.join("tasks").join(format!("{}.csv", spec.run_id))).map_err(io)?;
        }
        if options.explain {
            append_rows(&file(src, "decisions", &spec.run_id), &out.join("decisions.csv"), &mut decisions).map_err(io)?;
        }
        if spec.scenario.network.is_some() {
            append_rows(&file(src, "subnets", &spec.run_id), &out.join("subnets.csv"), &mut subnets).map_err(io)?;
        }
    }
    fs::write(out.join("runs.csv"), runs_csv).map_err(io)?;
    let summaries = summary::summarise(plan, &metrics);
    summary::write_summary(&out.join("summary.csv"), plan, &summaries).map_err(|e| e.to_string())?;
    let comparison = summary::comparison_rows(plan, &metrics);
    if !comparison.is_empty() {
        summary::write_comparison(&out.join("comparison.csv"), &comparison).map_err(|e| e.to_string())?;
    }
    Manifest::new(plan).write(&out.join("manifest.json")).map_err(io)?;
    if draw_charts {
        charts::draw_results(plan, &summaries, out).map_err(|e| format!("charts: {e}"))?;
    }
    Ok(Assembled { metrics, summaries })
}
