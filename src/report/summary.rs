//! `summary.csv` (one row per sweep point: every metric's mean, standard deviation and 95 %
//! Student-t confidence interval over the replications) and `comparison.csv` (paired differences
//! between strategies at the same point, on the same seeds).

use std::path::Path;

use super::fmt_f64;
use crate::metrics::stats::{Estimate, paired_difference};
use crate::metrics::{Metric, MetricValues};
use crate::scenario::sweep::Plan;

/// One sweep point's estimates, in `Metric::ALL` order.
#[derive(Debug, Clone)]
pub struct PointSummary {
    pub point: usize,
    pub params: Vec<(String, String)>,
    pub replications: usize,
    pub estimates: Vec<Estimate>,
}

impl PointSummary {
    pub fn estimate(&self, m: Metric) -> Estimate {
        self.estimates[m as usize]
    }
}

/// The metrics of point `p`'s runs (a plan's runs are point-major: point `p`'s replications are
/// runs `p × replications ..`), in replication order.
fn point_rows<'m>(plan: &Plan, metrics: &'m [MetricValues], p: usize) -> &'m [MetricValues] {
    let reps = plan.replications as usize;
    &metrics[p * reps..(p + 1) * reps]
}

/// Summaries per point; `metrics[i]` belongs to run `i` of the plan. Sums run sequentially in
/// plan order, so the result does not depend on which thread ran what.
pub fn summarise(plan: &Plan, metrics: &[MetricValues]) -> Vec<PointSummary> {
    assert_eq!(metrics.len(), plan.run_count(), "one metrics row per run");
    (0..plan.point_count())
        .map(|p| {
            let rows = point_rows(plan, metrics, p);
            let estimates = Metric::ALL
                .iter()
                .map(|m| {
                    let xs: Vec<f64> = rows.iter().map(|r| r.get(*m)).filter(|v| !v.is_nan()).collect();
                    Estimate::from_samples(&xs)
                })
                .collect();
            PointSummary { point: p, params: plan.point_params(p), replications: rows.len(), estimates }
        })
        .collect()
}

pub fn write_summary(path: &Path, plan: &Plan, summaries: &[PointSummary]) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_path(path)?;
    let mut header = vec!["point".to_string()];
    header.extend(plan.axes.iter().map(|a| a.key.clone()));
    header.push("replications".into());
    for m in Metric::ALL {
        for suffix in ["mean", "std", "ci95_low", "ci95_high"] {
            header.push(format!("{}_{suffix}", m.name()));
        }
    }
    w.write_record(&header)?;
    for s in summaries {
        let mut row = vec![s.point.to_string()];
        row.extend(s.params.iter().map(|(_, v)| v.clone()));
        row.push(s.replications.to_string());
        for e in &s.estimates {
            row.extend([fmt_f64(e.mean), fmt_f64(e.std_dev), fmt_f64(e.ci_low), fmt_f64(e.ci_high)]);
        }
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

/// The axis that holds strategies, if any (`placement.strategy` or `workload.<w>.placement.strategy`).
pub fn strategy_axis(plan: &Plan) -> Option<usize> {
    plan.axes.iter().position(|a| a.key == "placement.strategy" || a.key.ends_with(".placement.strategy"))
}

/// One row of `comparison.csv`.
#[derive(Debug, Clone)]
pub struct ComparisonRow {
    /// The other axes' values.
    pub context: Vec<(String, String)>,
    pub strategy: String,
    pub baseline: String,
    pub differences: Vec<Estimate>,
}

/// Paired differences (strategy − first strategy of the axis), per point of the other axes.
pub fn comparison_rows(plan: &Plan, metrics: &[MetricValues]) -> Vec<ComparisonRow> {
    let Some(axis) = strategy_axis(plan) else { return Vec::new() };
    let strategies = plan.axes[axis].values.len();
    let mut rows = Vec::new();
    // The first point with each combination of labels (labels may repeat).
    let mut first_with: std::collections::BTreeMap<Vec<(String, String)>, usize> = std::collections::BTreeMap::new();
    for p in 0..plan.point_count() {
        first_with.entry(plan.point_params(p)).or_insert(p);
    }
    for p in 0..plan.point_count() {
        let params = &plan.point_params(p);
        let baseline_params: Vec<(String, String)> = params
            .iter()
            .enumerate()
            .map(|(i, kv)| if i == axis { (kv.0.clone(), plan.axes[axis].labels[0].clone()) } else { kv.clone() })
            .collect();
        if params == &baseline_params || strategies < 2 {
            continue;
        }
        let base_point = *first_with.get(&baseline_params).expect("baseline point exists in the product");
        let values_of = |point: usize, m: Metric| -> Vec<f64> { point_rows(plan, metrics, point).iter().map(|v| v.get(m)).collect() };
        let differences = Metric::ALL.iter().map(|m| paired_difference(&values_of(p, *m), &values_of(base_point, *m))).collect();
        rows.push(ComparisonRow {
            context: params.iter().enumerate().filter(|(i, _)| *i != axis).map(|(_, kv)| kv.clone()).collect(),
            strategy: params[axis].1.clone(),
            baseline: baseline_params[axis].1.clone(),
            differences,
        });
    }
    rows
}

pub fn write_comparison(path: &Path, rows: &[ComparisonRow]) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_path(path)?;
    let mut header: Vec<String> = rows.first().map(|r| r.context.iter().map(|(k, _)| k.clone()).collect()).unwrap_or_default();
    header.push("strategy".into());
    header.push("baseline_strategy".into());
    for m in Metric::ALL {
        for suffix in ["diff_mean", "diff_ci95_low", "diff_ci95_high"] {
            header.push(format!("{}_{suffix}", m.name()));
        }
    }
    w.write_record(&header)?;
    for r in rows {
        let mut row: Vec<String> = r.context.iter().map(|(_, v)| v.clone()).collect();
        row.push(r.strategy.clone());
        row.push(r.baseline.clone());
        for e in &r.differences {
            row.extend([fmt_f64(e.mean), fmt_f64(e.ci_low), fmt_f64(e.ci_high)]);
        }
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}
