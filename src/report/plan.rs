//! The files of a plan's results folder: `plan-runs.csv` (every run of every candidate, keyed by
//! the candidate's scenario and the seed, so that a later `plan` in the same folder reuses them),
//! `plan.csv` (every candidate: its metrics with 95 % CIs, each target met or not and by what
//! margin, its cost lines), `plan.md` (the answer in words) and `charts/plan.png`/`.svg`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::charts::{self, BandPoint, BandSeries, ChartError, ChartText};
use super::fmt_f64;
use crate::metrics::{Direction, Metric, MetricValues};
use crate::plan::{Evaluation, Outcome};
use crate::scenario::plan::{Choice, PlanSpec};

/// The cached runs: (candidate key, seed) → the run's metrics.
pub type PlanRuns = BTreeMap<(String, u64), MetricValues>;

/// The cost lines of the catalog, in its order (the total last).
pub const COST_LINES: [Metric; 11] = [
    Metric::CostEc2,
    Metric::CostFargateVcpu,
    Metric::CostFargateMemory,
    Metric::CostNatHours,
    Metric::CostNatData,
    Metric::CostPublicIpv4,
    Metric::CostCrossAz,
    Metric::CostEndpointHours,
    Metric::CostEndpointData,
    Metric::CostInternetEgress,
    Metric::CostMonthTotal,
];

/// One evaluated candidate, as reported.
pub struct PlanRow<'a> {
    /// The search round that first ran it.
    pub round: usize,
    pub choice: &'a Choice,
    pub evaluation: &'a Evaluation,
}

/// Reads `plan-runs.csv`; a missing file is an empty cache. A row that lacks a metric this
/// version has (written by an older clustersim) is left out, so that run is done again.
pub fn read_plan_runs(path: &Path) -> Result<PlanRuns, String> {
    let mut runs = PlanRuns::new();
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(runs) };
    let damaged = |line: u64, what: String| {
        format!("`{}` line {line} is damaged ({what}); delete the file to run its candidates again", path.display())
    };
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| damaged(1, e.to_string()))?.clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(key_col), Some(seed_col)) = (column("candidate_key"), column("seed")) else {
        return Err(damaged(1, "no candidate_key and seed columns".into()));
    };
    let metric_cols: Option<Vec<usize>> = Metric::ALL.iter().map(|m| column(m.name())).collect();
    let Some(metric_cols) = metric_cols else { return Ok(runs) };
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record = record.map_err(|e| damaged(line, e.to_string()))?;
        let field = |c: usize| record.get(c).ok_or_else(|| damaged(line, format!("no column {}", c + 1)));
        let seed: u64 = field(seed_col)?.parse().map_err(|_| damaged(line, "seed is not a number".into()))?;
        let mut values = MetricValues::default();
        for (m, &c) in Metric::ALL.iter().zip(&metric_cols) {
            let cell = field(c)?;
            let v = if cell.is_empty() { f64::NAN } else { cell.parse().map_err(|_| damaged(line, format!("{} `{cell}`", m.name())))? };
            values.set(*m, v);
        }
        runs.insert((field(key_col)?.to_string(), seed), values);
    }
    Ok(runs)
}

/// `plan-runs.csv` as text: one row per run, in key order.
pub fn plan_runs_csv(runs: &PlanRuns) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["candidate_key".to_string(), "seed".to_string()];
    header.extend(Metric::ALL.iter().map(|m| m.name().to_string()));
    w.write_record(&header).expect("in memory");
    for ((key, seed), values) in runs {
        let mut row = vec![key.clone(), seed.to_string()];
        row.extend(Metric::ALL.iter().map(|&m| fmt_f64(values.get(m))));
        w.write_record(&row).expect("in memory");
    }
    String::from_utf8(w.into_inner().expect("in memory")).expect("UTF-8")
}

/// The metrics `plan.csv` shows: the objective, the targets' metrics, then the cost lines.
fn shown_metrics(spec: &PlanSpec) -> Vec<Metric> {
    let mut out = vec![spec.objective];
    for m in spec.targets.iter().map(|t| t.metric).chain(COST_LINES) {
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

/// `plan.csv`: one row per candidate, in the order they were run.
pub fn plan_csv(spec: &PlanSpec, rows: &[PlanRow<'_>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let metrics = shown_metrics(spec);
    let mut header = vec!["round".to_string()];
    header.extend(spec.knobs.iter().map(|k| k.axis.key.clone()));
    header.extend(["replications".to_string(), "meets_all_targets".to_string()]);
    for i in 0..spec.targets.len() {
        header.extend([format!("target{}_met", i + 1), format!("target{}_margin", i + 1)]);
    }
    for m in &metrics {
        header.extend(["mean", "ci95_low", "ci95_high"].map(|s| format!("{}_{s}", m.name())));
    }
    w.write_record(&header).expect("in memory");
    for row in rows {
        let e = row.evaluation;
        let mut cells = vec![row.round.to_string()];
        cells.extend(spec.knobs.iter().zip(row.choice).map(|(k, &c)| k.axis.labels[c].clone()));
        cells.push(e.estimate(spec.objective).n.to_string());
        cells.push(e.meets_all().to_string());
        for j in &e.judgements {
            cells.extend([j.met.to_string(), fmt_f64(j.margin)]);
        }
        for &m in &metrics {
            let est = e.estimate(m);
            cells.extend([fmt_f64(est.mean), fmt_f64(est.ci_low), fmt_f64(est.ci_high)]);
        }
        w.write_record(&cells).expect("in memory");
    }
    String::from_utf8(w.into_inner().expect("in memory")).expect("UTF-8")
}

/// A number for people: whole numbers as they are, others to 4 significant digits.
pub fn short(v: f64) -> String {
    if v.is_nan() {
        "no value".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
        let s = format!("{v:.digits$}");
        if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
    }
}

/// "cheapest" when the objective is a cost, else "best".
fn best_word(spec: &PlanSpec) -> &'static str {
    if spec.objective.unit().starts_with("USD") { "cheapest" } else { "best" }
}

fn value_with_ci(e: &Evaluation, m: Metric) -> String {
    let est = e.estimate(m);
    format!("{} (95 % CI {} … {}) {}", short(est.mean), short(est.ci_low), short(est.ci_high), m.unit())
}

/// The report of a plan, as Markdown (`plan.md`; the terminal shows the same text).
pub fn plan_markdown(spec: &PlanSpec, rows: &[PlanRow<'_>], outcome: &Outcome, runs_total: usize) -> String {
    let find = |c: &Choice| rows.iter().find(|r| r.choice == c).map(|r| r.evaluation).expect("an evaluated candidate");
    let objective = spec.objective;
    let direction = if objective.direction() == Direction::HigherIsBetter { "higher is better" } else { "lower is better" };
    let mut md = String::new();
    let _ = writeln!(md, "# Plan for `{}`\n", spec.name);
    let _ = writeln!(
        md,
        "{} candidates, {} runs ({} replications each, the same seeds for every candidate). Objective: `{}` ({direction}).",
        rows.len(),
        runs_total,
        spec.replications,
        objective.name()
    );
    let _ = writeln!(md, "A target counts as met only when the unfavourable end of its 95 % confidence interval meets it.\n");
    for (i, t) in spec.targets.iter().enumerate() {
        let _ = writeln!(md, "- target {}: `{}`", i + 1, t.text());
    }
    let word = best_word(spec);
    let _ = writeln!(md, "\n## Answer\n");
    match &outcome.best {
        Some(best) => {
            let e = find(best);
            let _ = writeln!(md, "The {word} configuration that meets every target: **{}**.", spec.label(best));
            let _ = writeln!(md, "Its {}: {}.\n", objective.name(), value_with_ci(e, objective));
            let _ = writeln!(md, "| target | value (95 % CI) | margin |\n| --- | --- | --- |");
            for (t, j) in spec.targets.iter().zip(&e.judgements) {
                let _ = writeln!(md, "| `{}` | {} | {} |", t.text(), value_with_ci(e, t.metric), short(j.margin));
            }
        }
        None => {
            let _ = writeln!(md, "**No configuration tried meets every target.**");
        }
    }
    if let Some(next) = &outcome.next {
        let e = find(next);
        let heading = match (outcome.best.is_some(), word) {
            (true, "cheapest") => "The next cheaper one".to_string(),
            (true, _) => "The next better one".to_string(),
            (false, _) => "The nearest".to_string(),
        };
        let _ =
            writeln!(md, "\n{heading}, **{}** ({}: {}), misses:\n", spec.label(next), objective.name(), short(e.estimate(objective).mean));
        for (t, j) in spec.targets.iter().zip(&e.judgements).filter(|(_, j)| !j.met) {
            let _ = writeln!(md, "- `{}`: {}, missed by {}", t.text(), value_with_ci(e, t.metric), short(-j.margin));
        }
    }
    if let Some(best) = &outcome.best {
        let e = find(best);
        let _ = writeln!(md, "\n## Cost by line ({})\n", spec.label(best));
        let _ = writeln!(md, "| line | USD/month (mean) | 95 % CI |\n| --- | ---: | --- |");
        for m in COST_LINES {
            let est = e.estimate(m);
            if est.mean.is_nan() || (est.mean == 0.0 && m != Metric::CostMonthTotal) {
                continue;
            }
            let _ = writeln!(md, "| {} | {} | {} … {} |", m.title(), short(est.mean), short(est.ci_low), short(est.ci_high));
        }
    }
    let _ = writeln!(md, "\n## Every candidate, in the order run\n");
    let mut header = format!("| round | candidate | {} | meets all |", objective.name());
    let mut rule = "| ---: | --- | ---: | --- |".to_string();
    for i in 0..spec.targets.len() {
        let _ = write!(header, " target {} margin |", i + 1);
        rule.push_str(" ---: |");
    }
    let _ = writeln!(md, "{header}\n{rule}");
    for r in rows {
        let mut line = format!(
            "| {} | {} | {} | {} |",
            r.round,
            spec.label(r.choice),
            short(r.evaluation.estimate(objective).mean),
            if r.evaluation.meets_all() { "yes" } else { "no" }
        );
        for j in &r.evaluation.judgements {
            let _ = write!(line, " {} |", short(j.margin));
        }
        let _ = writeln!(md, "{line}");
    }
    md
}

/// `manifest.json` of a plan's results folder: what reproduces it (and marks the folder as
/// clustersim's).
pub fn plan_manifest(spec: &PlanSpec, inputs_hash: &str, base_seed: u64, runs: &PlanRuns) -> String {
    let value = serde_json::json!({
        "clustersim_version": env!("CARGO_PKG_VERSION"),
        "scenario": spec.name,
        "kind": "plan",
        "inputs_fnv1a64": inputs_hash,
        "base_seed": base_seed,
        "replications": spec.replications,
        "knobs": spec.knobs.iter().map(|k| serde_json::json!({"key": k.axis.key, "values": k.axis.labels})).collect::<Vec<_>>(),
        "targets": spec.targets.iter().map(|t| t.text()).collect::<Vec<_>>(),
        "objective": spec.objective.name(),
        "runs": runs.keys().map(|(key, seed)| serde_json::json!({"candidate_key": key, "seed": seed})).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&value).expect("plain data") + "\n"
}

/// `charts/plan.png` and `.svg`: the objective against the bisected knob (or every candidate, on
/// a categorical axis, when no knob is bisected), with candidates that meet every target and
/// those that miss one as separate series, per combination of the exhaustive knobs.
pub fn plan_chart(stem: &Path, spec: &PlanSpec, rows: &[PlanRow<'_>], outcome: &Outcome) -> Result<(), ChartError> {
    let objective = spec.objective;
    let bisected = spec.bisected();
    let others: Vec<usize> = (0..spec.knobs.len()).filter(|&k| Some(k) != bisected).collect();
    let mut series: BTreeMap<(Vec<usize>, bool), BandSeries> = BTreeMap::new();
    let mut categories = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let est = r.evaluation.estimate(objective);
        let x = match bisected {
            Some(b) => {
                let v = &spec.knobs[b].axis.values[r.choice[b]];
                v.as_integer().map(|i| i as f64).or(v.as_float()).unwrap_or(f64::NAN)
            }
            None => {
                categories.push(spec.label(r.choice));
                i as f64
            }
        };
        let combo: Vec<usize> = others.iter().map(|&k| r.choice[k]).collect();
        let met = r.evaluation.meets_all();
        let label = {
            let words = if met { "meets every target" } else { "misses a target" };
            let what: Vec<String> = others.iter().map(|&k| spec.knobs[k].axis.labels[r.choice[k]].clone()).collect();
            if bisected.is_some() && !what.is_empty() { format!("{}: {words}", what.join(", ")) } else { words.to_string() }
        };
        series.entry((combo, !met)).or_insert_with(|| BandSeries { label, points: Vec::new() }).points.push(BandPoint {
            x,
            mean: est.mean,
            low: est.ci_low,
            high: est.ci_high,
        });
    }
    let x_label = match bisected {
        Some(b) => {
            let (name, unit) = charts::axis_words(&spec.knobs[b].axis.key);
            match unit {
                Some(u) => format!("{name} [{u}]"),
                None => name,
            }
        }
        None => "candidate".to_string(),
    };
    let answer = match &outcome.best {
        Some(b) => format!("{}: {}", best_word(spec), spec.label(b)),
        None => "no candidate meets every target".to_string(),
    };
    let text = ChartText {
        title: format!("{} of each candidate, and which meet the targets", objective.title()),
        subtitle: format!("mean of {} replications, 95 % CI · filled: meets every target, open: misses one · {answer}", spec.replications),
        x_label,
        y_label: format!("{} [{}]", objective.title(), objective.unit()),
    };
    let series: Vec<BandSeries> = series.into_values().collect();
    charts::sweep_chart(stem, &text, &series, if bisected.is_none() { Some(&categories) } else { None })
}
