//! Running the runs of a plan: in parallel with rayon, one shard of them, or only the missing ones
//! (resume). Each finished run is written at once to its own files in a work folder (atomically:
//! written under a temporary name, then renamed), so an interrupted sweep loses at most the runs in
//! flight and `--resume` never rewrites a completed run. The final results are always assembled
//! from those per-run files (`report::assemble`), so one machine, a resumed sweep and merged
//! shards give byte-identical output by construction.
//!
//! Architecture invariant: `sweep` knows nothing of model internals: it calls `sim::run` and
//! writes what comes back through `report`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use crate::report;
use crate::scenario::sweep::Plan;
use crate::sim::{self, RunOptions};

/// `--shard I/N`: the runs whose index in the plan is ≡ I−1 (mod N).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text.split_once('/').ok_or_else(|| format!("`{text}` is not a shard; write I/N, e.g. 2/8"))?;
        let index: u32 = i.trim().parse().map_err(|_| format!("`{i}` is not a shard number"))?;
        let count: u32 = n.trim().parse().map_err(|_| format!("`{n}` is not a shard count"))?;
        if count == 0 || index == 0 || index > count {
            return Err(format!("shard {index}/{count}: I must be from 1 to N"));
        }
        Ok(Shard { index, count })
    }

    pub fn contains(&self, run_index: usize) -> bool {
        run_index % self.count as usize == (self.index - 1) as usize
    }
}

/// What a batch of runs did, for the user (never written into deterministic outputs).
#[derive(Debug, Clone, Copy, Default)]
pub struct ExecStats {
    pub runs_done: usize,
    pub runs_skipped: usize,
    pub events: u64,
    pub wall_seconds: f64,
}

/// Why `execute` stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecError {
    /// The folder cannot be used as asked (e.g. resuming into runs of other inputs), a file
    /// cannot be written (the message names it), or a run's combination of sweep values is
    /// invalid.
    Input(String),
    /// A broken invariant: a bug.
    Internal(String),
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecError::Input(m) | ExecError::Internal(m) => f.write_str(m),
        }
    }
}

/// Per-run progress callback: called after each run with (runs done, events so far).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// Most threads per core `execute` starts: runs are CPU-bound, so more only costs memory.
pub const MAX_JOBS_PER_CORE: usize = 4;

/// The threads to run `runs` runs on when `requested` were asked for: at least 1, at most one
/// per run and [`MAX_JOBS_PER_CORE`] per core.
pub fn effective_jobs(requested: usize, runs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    requested.min(runs).min(MAX_JOBS_PER_CORE * cores).max(1)
}

/// Runs the plan's runs `runs` (indices into the plan) on up to `jobs` threads
/// ([`effective_jobs`]), writing per-run files into `work`. Each run's scenario is built when it
/// starts. With `resume`, runs whose files are complete are skipped.
pub fn execute(
    plan: &Plan,
    runs: &[usize],
    work: &Path,
    jobs: usize,
    options: RunOptions,
    resume: bool,
    progress: Progress<'_>,
) -> Result<ExecStats, ExecError> {
    report::prepare_work_dir(work).map_err(|e| ExecError::Input(format!("cannot create `{}`: {e}", work.display())))?;
    // A folder holds the runs of one set of inputs, seed and options only: resuming with
    // anything else changed would silently mix results.
    let signature = format!(
        "inputs_fnv1a64={}\nbase_seed={}\nruns={}\nrecord_tasks={}\nexplain={}\n",
        plan.base.file_hash,
        plan.base_seed,
        plan.run_count(),
        options.record_tasks,
        options.explain
    );
    let sig_path = work.join("inputs.txt");
    let existing = std::fs::read_to_string(&sig_path).ok();
    if resume && existing.as_ref().is_some_and(|e| *e != signature) {
        return Err(ExecError::Input(format!(
            "`{}` holds runs of other inputs, seed or options; refusing to resume into it (delete it, or run without --resume)",
            work.display()
        )));
    }
    if existing.as_ref() != Some(&signature) {
        report::write_atomically(&sig_path, &signature).map_err(ExecError::Input)?;
    }
    let todo: Vec<usize> =
        runs.iter().copied().filter(|&i| !(resume && report::run_is_complete(work, &plan.run_id(i), plan, options))).collect();
    let skipped = runs.len() - todo.len();
    let events = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let start = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(effective_jobs(jobs, todo.len()))
        .build()
        .map_err(|e| ExecError::Internal(format!("cannot start worker threads: {e}")))?;
    let outcome: Result<Vec<()>, ExecError> = pool.install(|| {
        todo.par_iter()
            .map(|&index| {
                let spec = plan.run(index).map_err(|e| ExecError::Input(e.to_string()))?;
                if spec.scenario.network.is_some() != plan.has_network() {
                    return Err(ExecError::Internal(format!("run {}: [network] differs from the base scenario's", spec.run_id)));
                }
                // A panic is a simulator bug: report it like a broken invariant, naming the run.
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sim::run(&spec.scenario, spec.seed, options)))
                    .map_err(|panic| {
                        ExecError::Internal(format!(
                            "run {} (scenario {}, seed {}): the simulator panicked: {}",
                            spec.run_id,
                            spec.scenario.file,
                            spec.seed,
                            panic_message(panic.as_ref())
                        ))
                    })?
                    .map_err(|e| {
                        ExecError::Internal(format!(
                            "run {} (scenario {}, seed {}): internal invariant broken: {e}",
                            spec.run_id, spec.scenario.file, spec.seed
                        ))
                    })?;
                report::write_run_files(work, &spec, &result, options)
                    .map_err(|e| ExecError::Input(format!("run {}: cannot write its results in `{}`: {e}", spec.run_id, work.display())))?;
                let this_run = result.metrics.get(crate::metrics::Metric::Events) as u64;
                let events_so_far = events.fetch_add(this_run, Ordering::Relaxed) + this_run;
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(d, events_so_far);
                Ok(())
            })
            .collect()
    });
    outcome?;
    Ok(ExecStats {
        runs_done: todo.len(),
        runs_skipped: skipped,
        events: events.load(Ordering::Relaxed),
        wall_seconds: start.elapsed().as_secs_f64(),
    })
}

/// Where the per-run files of a full (unsharded) run go: beside the results folder.
pub fn work_dir_for(out: &Path) -> PathBuf {
    let name = out.file_name().map_or_else(|| "results".into(), |n| n.to_string_lossy().into_owned());
    out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).join(format!(".{name}.work"))
}

thread_local! {
    /// Where the last panic on this thread happened, recorded by [`quiet_panics`]' hook.
    static PANIC_LOCATION: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Replaces the default panic output (a message and a backtrace hint on stderr) with a hook that
/// only records where the panic happened; [`panic_message`] adds it to the error the caller
/// reports. For a command-line program that reports panics as internal errors itself.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
        PANIC_LOCATION.with(|p| *p.borrow_mut() = at);
    }));
}

/// The text of a panic's payload (`panic!` with a message gives a `String` or a `&str`), with
/// where it happened when [`quiet_panics`] recorded it on this thread.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = match (payload.downcast_ref::<String>(), payload.downcast_ref::<&str>()) {
        (Some(s), _) => s.clone(),
        (None, Some(s)) => (*s).to_string(),
        _ => "(no message)".to_string(),
    };
    match PANIC_LOCATION.with(|p| p.borrow_mut().take()) {
        Some(at) => format!("{text} (at {at})"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_at_least_one_at_most_one_per_run_and_at_most_four_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(effective_jobs(5000, 1), 1);
        assert_eq!(effective_jobs(0, 10), 1);
        assert_eq!(effective_jobs(3, 0), 1);
        assert_eq!(effective_jobs(5000, 1_000_000), MAX_JOBS_PER_CORE * cores);
        assert_eq!(effective_jobs(1, 1_000_000), 1);
    }
}
