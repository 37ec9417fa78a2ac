//! `check SCENARIO --baseline summary.csv`: the regression gate for scheduler changes.

use std::path::Path;
use std::process::ExitCode;

use super::commands::{jobs_or_default, load_plan};
use super::{CliResult, Failure};
use clustersim::metrics::stats::Estimate;
use clustersim::metrics::{Direction, Metric};
use clustersim::report;
use clustersim::scenario::input::read_text_file;
use clustersim::scenario::sweep::Plan;
use clustersim::sim::RunOptions;
use clustersim::sweep;

/// One baseline row: axis values and per-metric estimates (`None`: the baseline has no columns
/// for that metric).
struct BaselineRow {
    params: Vec<String>,
    estimates: Vec<Option<Estimate>>,
}

/// The columns of one metric in `summary.csv`.
const SUFFIXES: [&str; 4] = ["mean", "std", "ci95_low", "ci95_high"];

/// Reads a baseline `summary.csv`. Every value must be a number or empty (no value); a metric's
/// columns are all there or all absent (a baseline from before the metric existed); the sweep
/// axes must be this scenario's. Errors name the file, row and column.
fn read_baseline(path: &Path, plan: &Plan) -> Result<(Vec<BaselineRow>, Vec<Metric>), Failure> {
    let bad = |m: String| Failure::BadInput(format!("baseline `{}`: {m}", path.display()));
    let text = read_text_file(path).map_err(Failure::BadInput)?;
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(point_col), Some(reps_col)) = (col("point"), col("replications")) else {
        return Err(bad(
            "not a summary.csv (no `point` and `replications` columns); write one with `clustersim run --write-baseline`".into()
        ));
    };
    let axes: Vec<&str> = plan.axes.iter().map(|a| a.key.as_str()).collect();
    let found: Vec<&str> = headers.iter().take(reps_col).skip(point_col + 1).collect();
    if found != axes {
        return Err(bad(format!(
            "its sweep axes are [{}], this scenario's are [{}]: the baseline was written by another scenario",
            found.join(", "),
            axes.join(", ")
        )));
    }
    // Which columns each metric has; partial sets are damage.
    let mut columns: Vec<Option<[usize; 4]>> = Vec::with_capacity(Metric::ALL.len());
    let mut absent = Vec::new();
    for m in Metric::ALL {
        let cols: Vec<Option<usize>> = SUFFIXES.iter().map(|s| col(&format!("{}_{s}", m.name()))).collect();
        match cols.iter().position(Option::is_none) {
            None => columns.push(Some([0, 1, 2, 3].map(|i| cols[i].expect("checked")))),
            Some(_) if cols.iter().all(Option::is_none) => {
                absent.push(*m);
                columns.push(None);
            }
            Some(i) => return Err(bad(format!("no column `{}_{}` (the other columns of {} are there)", m.name(), SUFFIXES[i], m.name()))),
        }
    }
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let num = |i: usize| -> Result<f64, Failure> {
            let cell = rec.get(i).ok_or_else(|| bad(format!("row {line} has no column `{}`", &headers[i])))?;
            if cell.is_empty() {
                return Ok(f64::NAN);
            }
            cell.parse().map_err(|_| bad(format!("row {line}, column `{}`: `{cell}` is not a number", &headers[i])))
        };
        let reps = num(reps_col)?;
        if !(reps >= 0.0 && reps.fract() == 0.0) {
            return Err(bad(format!("row {line}, column `replications`: `{}` is not a count", &rec[reps_col])));
        }
        let mut estimates = Vec::with_capacity(columns.len());
        for c in &columns {
            estimates.push(match c {
                None => None,
                Some([mean, std, low, high]) => {
                    Some(Estimate { n: reps as usize, mean: num(*mean)?, std_dev: num(*std)?, ci_low: num(*low)?, ci_high: num(*high)? })
                }
            });
        }
        let params: Vec<String> = (point_col + 1..reps_col)
            .map(|i| rec.get(i).map(str::to_string).ok_or_else(|| bad(format!("row {line} has no column `{}`", &headers[i]))))
            .collect::<Result<_, _>>()?;
        if rows.iter().any(|b: &BaselineRow| b.params == params) {
            return Err(bad(format!("row {line} repeats sweep point {}", params.join(", "))));
        }
        rows.push(BaselineRow { params, estimates });
    }
    // A results folder's baseline names its scenario in the manifest beside it.
    if let Ok(manifest) = std::fs::read_to_string(path.with_file_name(report::RESULTS_MARKER))
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(&manifest)
        && let Some(name) = value.get("scenario").and_then(|v| v.as_str())
        && name != plan.base.name
    {
        return Err(bad(format!("it belongs to scenario `{name}` (its manifest.json says so), not `{}`", plan.base.name)));
    }
    Ok((rows, absent))
}

pub fn check(path: &Path, baseline: &Path, jobs: Option<usize>) -> CliResult {
    let plan = load_plan(path, None)?;
    let (base, absent) = read_baseline(baseline, &plan)?;
    let tmp = tempdir().map_err(|e| Failure::Internal(e.to_string()))?;
    let work = tmp.join("work");
    let out = tmp.join("out");
    let runs: Vec<usize> = (0..plan.run_count()).collect();
    let result = (|| {
        sweep::execute(&plan, &runs, &work, jobs_or_default(jobs), RunOptions::default(), false, &|_, _| {})
            .map_err(super::commands::exec_failure)?;
        report::assemble(&plan, std::slice::from_ref(&work), &out, RunOptions::default(), false).map_err(super::commands::assemble_failure)
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    let assembled = result?;
    let tolerance = |m: Metric| plan.base.report.tolerances.iter().find(|(t, _)| *t == m).map(|(_, f)| *f);
    let mut regressions = Vec::new();
    let mut moved = Vec::new();
    // Metrics the comparison had to leave out, said rather than skipped.
    let mut no_baseline_value = Vec::new();
    let mut no_interval = Vec::new();
    if base.len() != assembled.summaries.len() {
        return Err(Failure::BadInput(format!(
            "baseline `{}` has {} sweep points, this scenario {}: it was written by another scenario",
            baseline.display(),
            base.len(),
            assembled.summaries.len()
        )));
    }
    for s in &assembled.summaries {
        let values: Vec<String> = s.params.iter().map(|(_, v)| v.clone()).collect();
        let Some(b) = base.iter().find(|b| b.params == values) else {
            return Err(Failure::BadInput(format!("baseline `{}`: no row for sweep point {}", baseline.display(), values.join(", "))));
        };
        for m in Metric::ALL {
            let (Some(old), new) = (b.estimates[*m as usize], s.estimate(*m)) else { continue };
            if m.direction() == Direction::Neutral || (old.mean.is_nan() && new.mean.is_nan()) {
                continue;
            }
            if old.mean.is_nan() || new.mean.is_nan() {
                no_baseline_value.push(format!("{} at point {}", m.name(), s.point));
                continue;
            }
            let intervals = [old.ci_low, old.ci_high, new.ci_low, new.ci_high].iter().all(|v| v.is_finite());
            if !intervals && tolerance(*m).is_none() {
                if !no_interval.contains(&m.name()) {
                    no_interval.push(m.name());
                }
                continue;
            }
            let delta = new.mean - old.mean;
            let worse = match m.direction() {
                Direction::HigherIsBetter => delta < 0.0,
                Direction::LowerIsBetter => delta > 0.0,
                Direction::Neutral => false,
            };
            let relative = if old.mean == 0.0 { if delta == 0.0 { 0.0 } else { f64::INFINITY } } else { delta.abs() / old.mean.abs() };
            let separated = intervals && !new.overlaps(&old);
            let regressed = worse
                && match tolerance(*m) {
                    Some(tol) => relative > tol,
                    None => separated,
                };
            if separated || regressed {
                let row = format!(
                    "{:<24} {:<36} {:>14.6} {:>14.6} {:>+9.1}%  {}",
                    values.join(","),
                    m.name(),
                    old.mean,
                    new.mean,
                    100.0 * delta / old.mean.abs().max(f64::MIN_POSITIVE),
                    if regressed {
                        "REGRESSION"
                    } else if worse {
                        "worse (within tolerance)"
                    } else {
                        "better"
                    }
                );
                if regressed {
                    regressions.push(row);
                } else {
                    moved.push(row);
                }
            }
        }
    }
    if !absent.is_empty() {
        let names: Vec<&str> = absent.iter().map(|m| m.name()).collect();
        println!("check: not in the baseline (not compared): {}", names.join(", "));
    }
    if !no_baseline_value.is_empty() {
        println!("check: a value now or in the baseline but not both (not compared): {}", no_baseline_value.join(", "));
    }
    if !no_interval.is_empty() {
        println!("check: no confidence interval (one replication) and no [report] tolerance (not compared): {}", no_interval.join(", "));
    }
    if regressions.is_empty() && moved.is_empty() {
        println!("check: no metric moved beyond its confidence interval or tolerance ({} points)", assembled.summaries.len());
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<24} {:<36} {:>14} {:>14} {:>10}  verdict", "point", "metric", "baseline", "now", "change");
    for r in regressions.iter().chain(&moved) {
        println!("{r}");
    }
    if regressions.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        println!("check: {} regression(s)", regressions.len());
        Ok(ExitCode::from(1))
    }
}

fn tempdir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("clustersim-check-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
