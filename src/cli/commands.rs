//! `run`, `validate` and `merge`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use super::{CliResult, Command, Failure, check, decisions, validate};
use clustersim::metrics::Metric;
use clustersim::placement::StrategyRegistry;
use clustersim::report::{self, FolderKind, OutputLock, ResultsFolder};
use clustersim::scenario::input::read_text_file;
use clustersim::scenario::sweep::Plan;
use clustersim::scenario::{RawScenario, ScenarioError};
use clustersim::sim::RunOptions;
use clustersim::sweep::{self, Shard};

pub fn dispatch(cli: super::Cli) -> CliResult {
    match cli.command {
        Command::Run { scenario, seed, out, jobs, tasks, explain, shard, resume, no_charts, write_baseline } => {
            let options = RunOptions { record_tasks: tasks, explain };
            let shard = shard.map(|s| Shard::parse(&s)).transpose().map_err(Failure::BadInput)?;
            run(&scenario, seed, out, jobs, options, shard, resume, !no_charts, write_baseline.as_deref())
        }
        Command::Validate { scenario, json } => validate::validate(&scenario, json),
        Command::Check { scenario, baseline, jobs } => check::check(&scenario, &baseline, jobs),
        Command::Merge { shards, out, scenario } => merge(&shards, &out, scenario.as_deref()),
        Command::DiffDecisions { a, b } => decisions::diff(&a, &b),
    }
}

pub fn exec_failure(e: sweep::ExecError) -> Failure {
    match e {
        sweep::ExecError::Input(m) => Failure::BadInput(m),
        sweep::ExecError::Internal(m) => Failure::Internal(m),
    }
}

/// Damaged or missing per-run files and unwritable outputs are the user's to fix (exit 2), named
/// by path; only a broken invariant is exit 3.
pub fn assemble_failure(e: report::AssembleError) -> Failure {
    match e {
        report::AssembleError::Input(m) => Failure::BadInput(m),
        report::AssembleError::Internal(m) => Failure::Internal(m),
    }
}

pub fn bad(e: ScenarioError) -> Failure {
    Failure::BadInput(e.to_string())
}

pub fn load_plan(path: &Path, seed: Option<u64>) -> Result<Plan, Failure> {
    let raw = RawScenario::read(path).map_err(bad)?;
    Plan::build(&raw, seed, &StrategyRegistry::new()).map_err(bad)
}

/// Written into a shard folder so `merge` can rebuild the plan.
#[derive(Debug, Serialize, Deserialize)]
struct ShardInfo {
    scenario_file: String,
    scenario_fnv1a64: String,
    seed: Option<u64>,
    shard: String,
    record_tasks: bool,
    explain: bool,
}

fn progress_bar(total: usize) -> ProgressBar {
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40.cyan/blue} {pos}/{len} runs  {elapsed_precise} elapsed, ETA {eta}  {msg}")
            .expect("valid template"),
    );
    bar
}

/// Checked before any run, so a bad `--out` costs nothing (the results folder checks again).
fn check_out(out: &Path, kind: FolderKind) -> Result<(), Failure> {
    report::check_replaceable(out, kind).map_err(Failure::BadInput)
}

/// Everything about `--out` that can go wrong, checked before any run: the folder may be
/// replaced, its work folder is clustersim's, no other process is writing it (the returned lock
/// says so until released), and what interrupted runs left beside it is cleaned up (and said).
/// Without `resume`, the work folder's previous per-run files are deleted.
fn claim_out(out: &Path, work: &Path, resume: bool) -> Result<OutputLock, Failure> {
    check_out(out, FolderKind::Results)?;
    if std::fs::symlink_metadata(work).is_ok()
        && let Err(e) = report::check_own(work, FolderKind::Work)
    {
        // Another run that is filling the folder right now is recognised by its lock.
        return Err(Failure::BadInput(OutputLock::held_elsewhere(work).unwrap_or(e)));
    }
    let lock = OutputLock::acquire(work).map_err(Failure::BadInput)?;
    for note in report::clean_stale(out).map_err(Failure::BadInput)? {
        eprintln!("note: {note}");
    }
    check_out(out, FolderKind::Results)?;
    if !resume {
        report::remove_own(work, FolderKind::Work, &[report::LOCK_FILE]).map_err(Failure::BadInput)?;
    }
    Ok(lock)
}

/// Deletes the work folder of a finished command, its lock last.
fn release_out(work: &Path, lock: OutputLock) -> Result<(), Failure> {
    report::remove_own(work, FolderKind::Work, &[report::LOCK_FILE]).map_err(Failure::BadInput)?;
    lock.release().map_err(Failure::BadInput)?;
    // Another run may have created its lock here meanwhile: then the folder is its.
    let _ = std::fs::remove_dir(work);
    Ok(())
}

/// A baseline file must be writable where asked, checked before any run.
fn check_baseline_path(path: &Path) -> Result<(), Failure> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let not_a_file = std::fs::metadata(path).is_ok_and(|m| !m.is_file());
    if not_a_file || !parent.is_dir() {
        return Err(Failure::BadInput(format!(
            "cannot write the baseline `{}`: its folder does not exist, or it is a folder, device or pipe",
            path.display()
        )));
    }
    Ok(())
}

/// `--jobs`, or all cores; `sweep::execute` clamps it to the runs and a multiple of the cores.
pub fn jobs_or_default(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
}

#[allow(clippy::too_many_arguments)]
fn run(
    path: &Path,
    seed: Option<u64>,
    out: Option<PathBuf>,
    jobs: Option<usize>,
    options: RunOptions,
    shard: Option<Shard>,
    resume: bool,
    charts: bool,
    baseline: Option<&Path>,
) -> CliResult {
    let plan = load_plan(path, seed)?;
    for w in clustersim::scenario::unrouted_warnings(&plan.base) {
        eprintln!("warning: {w}");
    }
    let name = plan.base.name.clone();
    let jobs = jobs_or_default(jobs);
    let started = Instant::now();
    let runs: Vec<usize> = (0..plan.run_count()).filter(|&i| shard.is_none_or(|s| s.contains(i))).collect();
    let bar = progress_bar(runs.len());
    let progress = |done: u64, events: u64| {
        bar.set_position(done);
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{:.1} M events/s", events as f64 / secs / 1e6));
    };
    if let Some(b) = baseline {
        check_baseline_path(b)?;
    }
    if let Some(shard) = shard {
        let out = out.unwrap_or_else(|| PathBuf::from("results").join(format!("{name}.shard-{}-of-{}", shard.index, shard.count)));
        check_out(&out, FolderKind::Shard)?;
        let lock = OutputLock::acquire(&out).map_err(Failure::BadInput)?;
        if !resume {
            report::remove_own(&out, FolderKind::Shard, &[report::LOCK_FILE]).map_err(Failure::BadInput)?;
        }
        let info = ShardInfo {
            scenario_file: path.display().to_string(),
            scenario_fnv1a64: plan.base.file_hash.clone(),
            seed,
            shard: format!("{}/{}", shard.index, shard.count),
            record_tasks: options.record_tasks,
            explain: options.explain,
        };
        // Written first, so that an interrupted shard is still recognised by `merge`, which then
        // names the runs it lacks.
        let info_path = out.join("shard.json");
        report::write_atomically(&info_path, &(serde_json::to_string_pretty(&info).expect("serialisable") + "\n"))
            .map_err(Failure::BadInput)?;
        let stats = sweep::execute(&plan, &runs, &out, jobs, options, resume, &progress).map_err(exec_failure)?;
        bar.finish_and_clear();
        lock.release().map_err(Failure::BadInput)?;
        eprintln!(
            "shard {}/{}: {} runs ({} already done) in {:.2} s → {}",
            shard.index,
            shard.count,
            stats.runs_done,
            stats.runs_skipped,
            stats.wall_seconds,
            out.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let out = out.unwrap_or_else(|| PathBuf::from("results").join(&name));
    let work = sweep::work_dir_for(&out);
    let lock = claim_out(&out, &work, resume)?;
    let stats = match sweep::execute(&plan, &runs, &work, jobs, options, resume, &progress) {
        Ok(stats) => stats,
        Err(e @ sweep::ExecError::Internal(_)) => {
            // A bug's partial results are not worth resuming: leave nothing behind.
            bar.finish_and_clear();
            release_out(&work, lock)?;
            return Err(exec_failure(e));
        }
        Err(e) => return Err(exec_failure(e)),
    };
    bar.finish_and_clear();
    let folder = ResultsFolder::create(&out).map_err(Failure::BadInput)?;
    let assembled = report::assemble(&plan, std::slice::from_ref(&work), folder.path(), options, charts).map_err(assemble_failure)?;
    if let Some(b) = baseline {
        let from = folder.path().join("summary.csv");
        std::fs::copy(&from, b).map_err(|e| Failure::BadInput(format!("cannot copy `{}` to `{}`: {e}", from.display(), b.display())))?;
    }
    let final_path = folder.commit().map_err(Failure::BadInput)?;
    release_out(&work, lock)?;
    print_summary(&plan, &assembled, stats, &final_path);
    Ok(ExitCode::SUCCESS)
}

fn print_summary(plan: &Plan, a: &report::Assembled, stats: sweep::ExecStats, out: &Path) {
    let s = &plan.base;
    println!("{}: {} run(s) of {} simulated on {} hosts", s.name, plan.run_count(), fmt_duration(s.horizon.as_secs_f64()), s.host_count());
    let show = summary_metrics(s);
    let report_only: Vec<Metric> = s.report.metrics.clone();
    let show: &[Metric] = if plan.axes.is_empty() { &show } else { &report_only };
    for p in &a.summaries {
        if !p.params.is_empty() {
            println!("  {}", p.params.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", "));
        }
        for &m in show {
            let e = p.estimate(m);
            if e.mean.is_nan() {
                continue;
            }
            let ci = if p.replications > 1 { format!("  (95 % CI {:.4} … {:.4})", e.ci_low, e.ci_high) } else { String::new() };
            println!("    {:<28} {:>14}{ci}", m.name(), fmt_value(e.mean));
        }
    }
    let events: f64 = a.metrics.iter().map(|m| m.get(Metric::Events)).sum();
    eprintln!(
        "{} runs ({} resumed), {:.0} events in {:.2} s wall ({:.2} M events/s)",
        stats.runs_done,
        stats.runs_skipped,
        events,
        stats.wall_seconds,
        stats.events as f64 / stats.wall_seconds.max(1e-9) / 1e6
    );
    println!("results: {}", out.display());
}

/// What the printed summary shows: per-task outcomes for every run; placements and host
/// utilisation when EC2 workloads run, Fargate starts and refusals when Fargate ones do, address
/// failures with a network.
fn summary_metrics(s: &clustersim::scenario::Scenario) -> Vec<Metric> {
    use clustersim::workload::LaunchType;
    let has = |lt: LaunchType| s.workloads.iter().any(|w| w.launch_type == lt);
    let mut show = vec![Metric::TasksArrived, Metric::TaskFailureFraction, Metric::TasksFailed];
    if has(LaunchType::Ec2) {
        show.extend([
            Metric::TasksPlaced,
            Metric::PlacementFailureRate,
            Metric::CpuReservedMean,
            Metric::MemReservedMean,
            Metric::HostsUsedMean,
        ]);
    }
    if has(LaunchType::Fargate) {
        show.extend([Metric::FargateLaunched, Metric::FargateThrottled, Metric::FargateFailedQuota]);
    }
    if s.network.is_some() {
        show.extend([Metric::StartFailedNoIps, Metric::MinFreeIps]);
    }
    show.extend([Metric::ServiceWaitP95, Metric::ServiceTasksUnplaced]);
    show
}

fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e12 { format!("{}", v as i64) } else { format!("{v:.4}") }
}

fn fmt_duration(secs: f64) -> String {
    if secs >= 3600.0 {
        format!("{:.1} h", secs / 3600.0)
    } else if secs >= 60.0 {
        format!("{:.1} min", secs / 60.0)
    } else {
        format!("{secs:.1} s")
    }
}

fn merge(shards: &[PathBuf], out: &Path, scenario: Option<&Path>) -> CliResult {
    let mut info: Option<ShardInfo> = None;
    for dir in shards {
        let text = read_text_file(&dir.join("shard.json"))
            .map_err(|e| Failure::BadInput(format!("`{}` is not a shard folder ({e})", dir.display())))?;
        let this: ShardInfo = serde_json::from_str(&text).map_err(|e| Failure::BadInput(format!("{}: shard.json: {e}", dir.display())))?;
        if let Some(first) = &info
            && (first.scenario_fnv1a64 != this.scenario_fnv1a64
                || first.seed != this.seed
                || first.record_tasks != this.record_tasks
                || first.explain != this.explain)
        {
            return Err(Failure::BadInput(format!(
                "`{}` was run from a different scenario file, seed or options than `{}`",
                dir.display(),
                shards[0].display()
            )));
        }
        info.get_or_insert(this);
    }
    let info = info.expect("at least one shard");
    let path = scenario.map_or_else(|| PathBuf::from(&info.scenario_file), Path::to_path_buf);
    let plan = load_plan(&path, info.seed)?;
    if plan.base.file_hash != info.scenario_fnv1a64 {
        return Err(Failure::BadInput(format!(
            "`{}` has changed since the shards ran (hash {} ≠ {})",
            path.display(),
            plan.base.file_hash,
            info.scenario_fnv1a64
        )));
    }
    let options = RunOptions { record_tasks: info.record_tasks, explain: info.explain };
    let work = sweep::work_dir_for(out);
    let lock = claim_out(out, &work, true)?;
    let merged = (|| {
        let folder = ResultsFolder::create(out).map_err(Failure::BadInput)?;
        let assembled = report::assemble(&plan, shards, folder.path(), options, true).map_err(assemble_failure)?;
        Ok((assembled, folder.commit().map_err(Failure::BadInput)?))
    })();
    // Merge writes no per-run files: its work folder only ever holds the lock.
    let released = lock.release().map_err(Failure::BadInput);
    let _ = std::fs::remove_dir(&work);
    let (assembled, final_path) = merged?;
    released?;
    print_summary(&plan, &assembled, sweep::ExecStats::default(), &final_path);
    Ok(ExitCode::SUCCESS)
}
