//! `plan`: searches a scenario's `[plan]` knobs for the best configuration that meets its
//! targets. The search is `clustersim::plan::search`; this file runs each round's new
//! candidates as one sweep (`sweep::execute`, in parallel), keeps every run in
//! `plan-runs.csv` keyed by the candidate's scenario and seed (so no run is done twice, also
//! across invocations on the same results folder), prints each step and writes the results.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use super::commands::{bad, claim_out, exec_failure, jobs_or_default, progress_bar, release_out};
use super::{CliResult, Failure};
use clustersim::engine::derive_seed;
use clustersim::metrics::MetricValues;
use clustersim::placement::StrategyRegistry;
use clustersim::plan::{self, Evaluation};
use clustersim::report::plan::{self as plan_report, PlanRow, PlanRuns};
use clustersim::report::{self, FolderKind, LOCK_FILE, PLAN_RUNS, ResultsFolder};
use clustersim::scenario::plan::{Choice, Op, PlanSpec, batch_scenario, candidate_key, candidate_table};
use clustersim::scenario::sweep::Plan;
use clustersim::scenario::{RawScenario, Scenario};
use clustersim::sim::RunOptions;
use clustersim::sweep;

/// Reads a scenario's `[plan]`; a scenario without one is refused.
pub fn read_spec(raw: &RawScenario, registry: &StrategyRegistry) -> Result<PlanSpec, Failure> {
    PlanSpec::read(raw, registry).map_err(bad)?.ok_or_else(|| {
        Failure::BadInput(format!(
            "{}: no [plan] table; add one with `targets` and at least one [[plan.knob]] (see docs/scenario.md#plan)",
            raw.display
        ))
    })
}

/// One plan's state between rounds: the runs known (from earlier invocations and this one) and
/// the candidates judged so far, in the order they were first run.
struct Rounds<'a> {
    raw: &'a RawScenario,
    spec: &'a PlanSpec,
    registry: &'a StrategyRegistry,
    base_seed: u64,
    /// Replication r's seed, the same for every candidate.
    seeds: Vec<u64>,
    work: &'a Path,
    jobs: usize,
    runs: PlanRuns,
    order: Vec<(usize, Choice)>,
    evaluations: BTreeMap<Choice, Evaluation>,
    runs_done: usize,
    runs_reused: usize,
}

impl Rounds<'_> {
    /// Runs the runs of `choices` not known yet as one sweep, saves them in the work folder's
    /// `plan-runs.csv`, prints and judges every candidate.
    fn run(&mut self, round: usize, choices: &[Choice]) -> Result<Vec<bool>, Failure> {
        let (raw, spec, registry) = (self.raw, self.spec, self.registry);
        let reps = self.seeds.len();
        let keys: Vec<String> = choices.iter().map(|c| candidate_key(raw, spec, c, registry)).collect::<Result<_, _>>().map_err(bad)?;
        // Run index c × R + r of the batch is replication r of candidate c.
        let missing: Vec<usize> =
            (0..choices.len() * reps).filter(|&i| !self.runs.contains_key(&(keys[i / reps].clone(), self.seeds[i % reps]))).collect();
        let reused = choices.len() * reps - missing.len();
        self.runs_reused += reused;
        println!("round {round}: {} candidate(s), {} new run(s), {reused} reused", choices.len(), missing.len());
        if !missing.is_empty() {
            let batch = Plan::build(&batch_scenario(raw, spec, choices), Some(self.base_seed), registry).map_err(bad)?;
            clear_runs(self.work)?;
            let bar = progress_bar(missing.len());
            let progress = |done: u64, _events: u64| bar.set_position(done);
            let executed = sweep::execute(&batch, &missing, self.work, self.jobs, RunOptions::default(), false, &progress);
            bar.finish_and_clear();
            executed.map_err(exec_failure)?;
            for &i in &missing {
                let info = batch.run_info(i);
                debug_assert_eq!(info.seed, self.seeds[i % reps], "the batch gives replication r the plan's seed r");
                let values = report::read_run_metrics(self.work, &info.run_id).map_err(|e| Failure::Internal(e.to_string()))?;
                self.runs.insert((keys[i / reps].clone(), info.seed), values);
            }
            self.runs_done += missing.len();
            report::write_atomically(&self.work.join(PLAN_RUNS), &plan_report::plan_runs_csv(&self.runs)).map_err(Failure::BadInput)?;
            clear_runs(self.work)?;
        }
        let mut met = Vec::with_capacity(choices.len());
        for (choice, key) in choices.iter().zip(&keys) {
            let rows: Vec<MetricValues> = self.seeds.iter().map(|&s| self.runs[&(key.clone(), s)].clone()).collect();
            let e = Evaluation::from_runs(spec, &rows);
            println!("  {}", step_line(spec, choice, &e));
            met.push(e.meets_all());
            self.order.push((round, choice.clone()));
            self.evaluations.insert(choice.clone(), e);
        }
        Ok(met)
    }

    /// The candidates judged, in the order they were first run.
    fn rows(&self) -> Vec<PlanRow<'_>> {
        self.order.iter().map(|(round, c)| PlanRow { round: *round, choice: c, evaluation: &self.evaluations[c] }).collect()
    }
}

pub fn plan(path: &Path, seed: Option<u64>, out: Option<PathBuf>, jobs: Option<usize>, charts: bool) -> CliResult {
    let raw = RawScenario::read(path).map_err(bad)?;
    let registry = StrategyRegistry::new();
    let spec = read_spec(&raw, &registry)?;
    let base_seed = seed.unwrap_or(spec.seed);
    let out = out.unwrap_or_else(|| PathBuf::from("results").join(format!("{}-plan", spec.name)));
    let work = sweep::work_dir_for(&out);
    let lock = claim_out(&out, &work, true)?;
    // Runs of earlier invocations: those of the last complete plan in `out`, and those an
    // interrupted one kept in the work folder. Both are keyed by content, so any of them is valid.
    let mut runs: PlanRuns = plan_report::read_plan_runs(&out.join(PLAN_RUNS)).map_err(Failure::BadInput)?;
    runs.extend(plan_report::read_plan_runs(&work.join(PLAN_RUNS)).map_err(Failure::BadInput)?);
    println!(
        "plan {}: {} knob(s), {} target(s), {} replications per candidate{}",
        spec.name,
        spec.knobs.len(),
        spec.targets.len(),
        spec.replications,
        if runs.is_empty() { String::new() } else { format!(", {} earlier runs available", runs.len()) }
    );
    let started = Instant::now();
    let mut rounds = Rounds {
        raw: &raw,
        spec: &spec,
        registry: &registry,
        base_seed,
        seeds: (0..spec.replications).map(|r| derive_seed(base_seed, u64::from(r))).collect(),
        work: &work,
        jobs: jobs_or_default(jobs),
        runs,
        order: Vec::new(),
        evaluations: BTreeMap::new(),
        runs_done: 0,
        runs_reused: 0,
    };
    if let Err(e) = plan::search(&spec, |round, choices| rounds.run(round, choices)) {
        // Keep what was run (plan-runs.csv) for the next attempt; drop the lock.
        clear_runs(&work)?;
        lock.release().map_err(Failure::BadInput)?;
        return Err(e);
    }
    let rows = rounds.rows();
    let evaluated: Vec<(Choice, Evaluation)> = rows.iter().map(|r| (r.choice.clone(), r.evaluation.clone())).collect();
    let outcome = plan::outcome(&spec, &evaluated);
    let markdown = plan_report::plan_markdown(&spec, &rows, &outcome, rows.len() * rounds.seeds.len());
    let folder = ResultsFolder::create(&out).map_err(Failure::BadInput)?;
    let write = |name: &str, text: &str| {
        std::fs::write(folder.path().join(name), text)
            .map_err(|e| Failure::BadInput(format!("cannot write `{}`: {e}", out.join(name).display())))
    };
    write("plan.csv", &plan_report::plan_csv(&spec, &rows))?;
    write("plan.md", &markdown)?;
    write(PLAN_RUNS, &plan_report::plan_runs_csv(&rounds.runs))?;
    if charts {
        let stem = folder.path().join("charts").join("plan");
        plan_report::plan_chart(&stem, &spec, &rows, &outcome)
            .map_err(|e| Failure::Internal(format!("charts in `{}`: {e}", out.join("charts").display())))?;
    }
    // The inputs' hash as `run` writes it: the scenario file and every file it references.
    let table = candidate_table(&raw, &spec, &vec![0; spec.knobs.len()]).map_err(bad)?;
    let inputs = Scenario::from_table(&raw, &table, &registry).map_err(bad)?.file_hash;
    write("manifest.json", &plan_report::plan_manifest(&spec, &inputs, base_seed, &rounds.runs))?;
    let final_path = folder.commit().map_err(Failure::BadInput)?;
    release_out(&work, lock)?;
    println!("\n{markdown}");
    eprintln!(
        "{} candidates; {} runs done, {} reused, in {:.2} s wall",
        rows.len(),
        rounds.runs_done,
        rounds.runs_reused,
        started.elapsed().as_secs_f64()
    );
    println!("results: {}", final_path.display());
    Ok(ExitCode::SUCCESS)
}

/// Deletes the per-run files of the last batch, keeping the lock, the marker and the plan's runs.
fn clear_runs(work: &Path) -> Result<(), Failure> {
    report::remove_own(work, FolderKind::Work, &[LOCK_FILE, "inputs.txt", PLAN_RUNS]).map_err(Failure::BadInput)
}

/// One candidate's result for the terminal: `count_per_az = 4: misses placement_failure_rate …`.
fn step_line(spec: &PlanSpec, choice: &[usize], e: &Evaluation) -> String {
    let objective = e.estimate(spec.objective);
    let verdicts: Vec<String> = spec
        .targets
        .iter()
        .zip(&e.judgements)
        .map(|(t, j)| {
            let est = e.estimate(t.metric);
            let worst = if t.op == Op::AtMost { est.ci_high } else { est.ci_low };
            let mark = if j.met { "met" } else { "MISSED" };
            format!("{} {mark} ({} at worst, margin {})", t.metric.name(), plan_report::short(worst), plan_report::short(j.margin))
        })
        .collect();
    format!(
        "{}: {} {} {}; {}",
        spec.label(choice),
        spec.objective.name(),
        plan_report::short(objective.mean),
        spec.objective.unit(),
        verdicts.join("; ")
    )
}
