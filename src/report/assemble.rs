//! Per-run files in a work folder, and the assembly of a complete results folder from them.
//!
//! Work folder layout (one file per run; `runs/<id>.csv` is written last and marks the run done):
//! `runs/<id>.csv`, `timeseries/<id>.csv`, `tasks/<id>.csv`, `decisions/<id>.csv`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::charts::{self, BandPoint, BandSeries, ChartText, LineSeries};
use super::{Manifest, csvout, summary};
use crate::metrics::{Metric, MetricValues};
use crate::scenario::sweep::{Plan, RunInfo, RunSpec};
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

/// Whether `work` holds every file of run `run_id` (`has_network`: [`Plan::has_network`]).
pub fn run_is_complete(work: &Path, run_id: &str, has_network: bool, options: RunOptions) -> bool {
    file(work, "runs", run_id).is_file()
        && file(work, "timeseries", run_id).is_file()
        && (!has_network || file(work, "subnets", run_id).is_file())
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
        match sources.iter().find(|s| run_is_complete(s, &run_id, plan.has_network(), options)) {
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
    let (mut decisions, mut subnets): (Option<fs::File>, Option<fs::File>) = (None, None);
    if options.record_tasks {
        fs::create_dir_all(out.join("tasks")).map_err(at(&out.join("tasks")))?;
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
        draw(plan, &summaries, out).map_err(|e| AssembleError::Internal(format!("charts in `{}`: {e}", out.join("charts").display())))?;
    }
    Ok(Assembled { metrics, summaries })
}

fn parse_num(text: &str) -> Option<f64> {
    text.parse::<f64>().ok()
}

/// Charts: each `[report]` metric against the last sweep axis (one line per combination of the
/// other axes, with its 95 % CI band), and the time series of the first run.
fn draw(plan: &Plan, summaries: &[summary::PointSummary], out: &Path) -> Result<(), charts::ChartError> {
    let dir = out.join("charts");
    fs::create_dir_all(&dir).map_err(|e| charts::ChartError(e.to_string()))?;
    let scenario = &plan.base;
    if let Some((x_axis, line_axes)) = plan.axes.split_last() {
        let x_values: Vec<String> = x_axis.labels.clone();
        let x_labels: Vec<String> = x_values.iter().map(|v| pretty_value(v)).collect();
        let numeric = x_values.iter().all(|v| parse_num(v).is_some());
        let x_of = |text: &str| -> f64 {
            if numeric { parse_num(text).unwrap_or(f64::NAN) } else { x_values.iter().position(|v| v == text).unwrap_or(0) as f64 }
        };
        for metric in &scenario.report.metrics {
            let mut series: Vec<BandSeries> = Vec::new();
            for s in summaries {
                let label = if line_axes.is_empty() {
                    metric.name().replace('_', " ")
                } else {
                    s.params[..line_axes.len()].iter().map(|(_, v)| pretty_value(v)).collect::<Vec<_>>().join(" · ")
                };
                let e = s.estimate(*metric);
                // Every metric is non-negative: a t-interval reaching below 0 is drawn from 0 (summary.csv
                // keeps the interval as computed).
                let point = BandPoint { x: x_of(&s.params[line_axes.len()].1), mean: e.mean, low: e.ci_low.max(0.0), high: e.ci_high };
                match series.iter_mut().find(|b| b.label == label) {
                    Some(b) => b.points.push(point),
                    None => series.push(BandSeries { label, points: vec![point] }),
                }
            }
            let text = ChartText {
                title: format!(
                    "{} vs {} ({} replications, 95 % CI)",
                    metric.name().replace('_', " "),
                    short_key(&x_axis.key),
                    plan.replications
                ),
                x_label: short_key(&x_axis.key),
                y_label: metric.label(),
            };
            let categories = (!numeric).then_some(x_labels.as_slice());
            charts::sweep_chart(&dir.join(metric.name()), &text, &series, categories)?;
        }
    }
    // Time series of the runs `[report] timeseries_runs` names, else of replication 0 of each
    // sweep point (at most MAX_TIMESERIES_CHARTS).
    let chosen = &scenario.report.timeseries_runs;
    let charted = (0..plan.run_count())
        .filter(|&i| if chosen.is_empty() { i % plan.replications as usize == 0 } else { chosen.contains(&plan.run_id(i)) });
    for i in charted.take(MAX_TIMESERIES_CHARTS) {
        time_series_chart(scenario, &plan.run_info(i), out, &dir)?;
    }
    Ok(())
}

/// Most time-series charts one results folder gets (one per sweep point).
const MAX_TIMESERIES_CHARTS: usize = 24;

/// Stacked panels of one run's time series. Each panel is a list of series picked from the
/// CSV's columns by name or prefix: a new sampled quantity is one more line here.
fn time_series_chart(scenario: &crate::scenario::Scenario, spec: &RunInfo, out: &Path, dir: &Path) -> Result<(), charts::ChartError> {
    let ts =
        fs::read_to_string(out.join("timeseries").join(format!("{}.csv", spec.run_id))).map_err(|e| charts::ChartError(e.to_string()))?;
    let mut reader = csv::Reader::from_reader(ts.as_bytes());
    let headers: Vec<String> = reader.headers().map_err(|e| charts::ChartError(e.to_string()))?.iter().map(str::to_string).collect();
    let rows: Vec<Vec<f64>> =
        reader.records().filter_map(Result::ok).map(|r| r.iter().map(|c| parse_num(c).unwrap_or(f64::NAN)).collect()).collect();
    let hours = scenario.horizon.as_secs_f64() >= 3.0 * 3600.0;
    let x_scale = if hours { 3600.0 } else { 60.0 };
    let column = |name: &str, label: &str| -> Option<LineSeries> {
        let i = headers.iter().position(|h| h == name)?;
        Some(LineSeries { label: label.to_string(), points: rows.iter().map(|r| (r[0] / x_scale, r[i])).collect() })
    };
    let by_prefix = |prefix: &str| -> Vec<LineSeries> {
        headers.iter().filter_map(|h| h.strip_prefix(prefix).and_then(|name| column(h, name))).collect()
    };
    let panel = |title: &str, y_label: &str, series: Vec<LineSeries>| {
        (ChartText { title: title.into(), x_label: String::new(), y_label: y_label.into() }, series)
    };
    let mut panels = vec![
        panel(
            "Tasks",
            "tasks / hosts",
            [
                column("tasks_running", "running"),
                column("tasks_pending", "pending (waiting or starting)"),
                column("hosts_used", "hosts with ≥ 1 task"),
            ]
            .into_iter()
            .flatten()
            .collect(),
        ),
        panel("Reserved CPU per AZ", "% of registered", by_prefix("cpu_reserved_pct_")),
        panel("Reserved memory per AZ", "% of registered", by_prefix("mem_reserved_pct_")),
    ];
    let free_ips = by_prefix("free_ips_");
    if !free_ips.is_empty() {
        panels.push(panel("Free addresses per subnet", "addresses", free_ips));
    }
    let params = if spec.params.is_empty() {
        String::new()
    } else {
        format!(" ({})", spec.params.iter().map(|(_, v)| pretty_value(v)).collect::<Vec<_>>().join(", "))
    };
    charts::time_series_panels(
        &dir.join(format!("timeseries-{}", spec.run_id)),
        &format!("{}: run {}{params}", scenario.name, spec.run_id),
        if hours { "simulated time [h]" } else { "simulated time [min]" },
        &panels,
    )
}

/// Strategy chains read shorter in legends: `spread(attribute:ecs.availability-zone),binpack(memory)`
/// → `spread(AZ) + binpack(memory)`.
fn pretty_value(v: &str) -> String {
    v.replace("attribute:ecs.availability-zone", "AZ").replace("attribute:", "").replace("),", ") + ")
}

/// `workload.web.arrival.rate_per_s` → `web arrival rate per s`, for axis labels.
fn short_key(key: &str) -> String {
    let trimmed = key.strip_prefix("workload.").unwrap_or(key);
    trimmed.replace(['.', '_'], " ")
}
