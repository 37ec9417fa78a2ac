//! `check SCENARIO --baseline summary.csv`: the regression gate for scheduler changes.

use std::path::Path;
use std::process::ExitCode;

use super::commands::{jobs_or_default, load_plan};
use super::{CliResult, Failure};
use clustersim::metrics::stats::Estimate;
use clustersim::metrics::{Direction, Metric};
use clustersim::report;
use clustersim::sim::RunOptions;
use clustersim::sweep;

/// One baseline row: axis values and per-metric estimates.
struct BaselineRow {
    params: Vec<String>,
    estimates: Vec<Option<Estimate>>,
}

fn read_baseline(path: &Path, axes: &[String]) -> Result<Vec<BaselineRow>, Failure> {
    let bad = |m: String| Failure::BadInput(format!("{}: {m}", path.display()));
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let headers = r.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let axis_cols: Vec<usize> = axes
        .iter()
        .map(|a| col(a).ok_or_else(|| bad(format!("no column `{a}`: the baseline was written by a scenario with other sweep axes"))))
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let num = |c: Option<usize>| -> Option<f64> { c.and_then(|i| rec.get(i)).and_then(|v| v.parse().ok()) };
        let reps = num(col("replications")).unwrap_or(0.0) as usize;
        let estimates = Metric::ALL
            .iter()
            .map(|m| {
                let n = m.name();
                Some(Estimate {
                    n: reps,
                    mean: num(col(&format!("{n}_mean")))?,
                    std_dev: num(col(&format!("{n}_std"))).unwrap_or(f64::NAN),
                    ci_low: num(col(&format!("{n}_ci95_low")))?,
                    ci_high: num(col(&format!("{n}_ci95_high")))?,
                })
            })
            .collect();
        rows.push(BaselineRow { params: axis_cols.iter().map(|&i| rec[i].to_string()).collect(), estimates });
    }
    Ok(rows)
}

pub fn check(path: &Path, baseline: &Path, jobs: Option<usize>) -> CliResult {
    let plan = load_plan(path, None)?;
    let axes: Vec<String> = plan.axes.iter().map(|a| a.key.clone()).collect();
    let base = read_baseline(baseline, &axes)?;
    let tmp = tempdir().map_err(|e| Failure::Internal(e.to_string()))?;
    let work = tmp.join("work");
    let out = tmp.join("out");
    let runs: Vec<_> = plan.runs.iter().collect();
    let result = (|| {
        sweep::execute(&plan, &runs, &work, jobs_or_default(jobs), RunOptions::default(), false, &|_, _| {})
            .map_err(super::commands::exec_failure)?;
        report::assemble(&plan, std::slice::from_ref(&work), &out, RunOptions::default(), false).map_err(Failure::Internal)
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    let assembled = result?;
    let tolerance = |m: Metric| plan.points[0].report.tolerances.iter().find(|(t, _)| *t == m).map(|(_, f)| *f);
    let mut regressions = Vec::new();
    let mut moved = Vec::new();
    for s in &assembled.summaries {
        let values: Vec<String> = s.params.iter().map(|(_, v)| v.clone()).collect();
        let Some(b) = base.iter().find(|b| b.params == values) else {
            return Err(Failure::BadInput(format!("{}: no baseline row for sweep point {}", baseline.display(), values.join(", "))));
        };
        for m in Metric::ALL {
            let (Some(old), new) = (b.estimates[*m as usize], s.estimate(*m)) else { continue };
            if old.mean.is_nan() || new.mean.is_nan() || m.direction() == Direction::Neutral {
                continue;
            }
            let delta = new.mean - old.mean;
            let worse = match m.direction() {
                Direction::HigherIsBetter => delta < 0.0,
                Direction::LowerIsBetter => delta > 0.0,
                Direction::Neutral => false,
            };
            let relative = if old.mean == 0.0 { if delta == 0.0 { 0.0 } else { f64::INFINITY } } else { delta.abs() / old.mean.abs() };
            let separated = !new.overlaps(&old);
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
