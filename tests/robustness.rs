//! What clustersim does to the file system when things go wrong: it never deletes a file it did
//! not write, two runs on one `--out` cannot corrupt each other, interrupted runs leave nothing
//! that breaks the next one, `check` refuses a baseline it cannot read, inputs that are not
//! files are refused, every error names its path, and the largest allowed sweep validates in
//! seconds. Ends with fault injection: a sweep killed (SIGKILL or SIGINT) at spread-out moments
//! leaves no results folder or a complete one, and `--resume` completes it byte for byte.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use clustersim::placement::StrategyRegistry;
use clustersim::report::OutputLock;
use clustersim::scenario::RawScenario;
use clustersim::scenario::sweep::Plan;

const BIN: &str = env!("CARGO_BIN_EXE_clustersim");

fn clustersim(args: &[&str], cwd: &Path) -> Output {
    Command::new(BIN).args(args).current_dir(cwd).output().expect("binary runs")
}

fn spawn(args: &[&str], cwd: &Path) -> Child {
    Command::new(BIN).args(args).current_dir(cwd).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("binary starts")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) {
    assert!(o.status.success(), "exit {:?}\nstdout:\n{}\nstderr:\n{}", o.status, String::from_utf8_lossy(&o.stdout), stderr(o));
}

fn exit_2(o: &Output, expect: &[&str]) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    for x in expect {
        assert!(e.contains(x), "stderr lacks `{x}`:\n{e}");
    }
}

/// Waits for `child` at most `limit`; a command that hangs fails the test instead of hanging it.
fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("clustersim still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// A small study: `replications` × two loads, one simulated hour.
fn study(dir: &Path, replications: u32) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/taskdefs");
    fs::create_dir_all(dir.join("taskdefs")).unwrap();
    for f in ["small-job.json", "large-job.json"] {
        fs::copy(src.join(f), dir.join("taskdefs").join(f)).unwrap();
    }
    let text = format!(
        r#"
name = "study"
seed = 11
horizon = "1h"
warmup = "10m"
sample_interval = "5m"
task_definitions = ["taskdefs/small-job.json", "taskdefs/large-job.json"]
[cluster]
azs = ["a", "b", "c"]
[host_groups.main]
instance_type = "m5.xlarge"
count_per_az = 4
[placement]
strategy = "binpack(memory)"
[workload.small]
kind = "poisson"
task_definition = "small-job"
run_time = {{ distribution = "exponential", mean = "5m" }}
arrival = {{ rate_per_s = 0.2 }}
[workload.large]
kind = "poisson"
task_definition = "large-job"
run_time = {{ distribution = "exponential", mean = "15m" }}
arrival = {{ rate_per_s = 0.004 }}
[sweep]
replications = {replications}
[[sweep.axis]]
key = "workload.large.arrival.rate_per_s"
values = [0.004, 0.008]
[report]
metrics = ["placement_failure_rate", "hosts_used_mean"]
"#
    );
    let path = dir.join("study.toml");
    fs::write(&path, text).unwrap();
    path
}

/// Every file under `root`, relative path → bytes.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(p.strip_prefix(root).unwrap().display().to_string(), fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in tree(from) {
        let dest = to.join(rel);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::write(dest, bytes).unwrap();
    }
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------
// 1. Never lose a user's files
// ---------------------------------------------------------------------------------------------

#[test]
fn a_folder_that_merely_contains_a_manifest_json_is_not_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    study(dir, 1);
    fs::create_dir(dir.join("app")).unwrap();
    fs::write(dir.join("app/manifest.json"), "{\"name\": \"my web app\"}\n").unwrap();
    fs::write(dir.join("app/index.html"), "<h1>mine</h1>").unwrap();
    exit_2(&clustersim(&["run", "study.toml", "--out", "app"], dir), &["app"]);
    assert_eq!(names(&dir.join("app")), ["index.html", "manifest.json"]);
    assert_eq!(fs::read_to_string(dir.join("app/index.html")).unwrap(), "<h1>mine</h1>");
}

#[test]
fn a_results_folder_with_a_users_file_added_is_refused_naming_that_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    study(dir, 1);
    ok(&clustersim(&["run", "study.toml", "--out", "r", "--no-charts"], dir));
    fs::write(dir.join("r/notes.txt"), "my analysis").unwrap();
    exit_2(&clustersim(&["run", "study.toml", "--out", "r", "--no-charts"], dir), &["notes.txt", "did not write"]);
    assert_eq!(fs::read_to_string(dir.join("r/notes.txt")).unwrap(), "my analysis");
}

#[test]
fn a_work_folder_holding_a_users_file_is_not_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    study(dir, 1);
    fs::create_dir(dir.join(".r.work")).unwrap();
    fs::write(dir.join(".r.work/thesis.tex"), "chapter 1").unwrap();
    exit_2(&clustersim(&["run", "study.toml", "--out", "r"], dir), &["thesis.tex"]);
    assert_eq!(fs::read_to_string(dir.join(".r.work/thesis.tex")).unwrap(), "chapter 1");
}

// ---------------------------------------------------------------------------------------------
// 2. Two runs on one --out
// ---------------------------------------------------------------------------------------------

#[test]
fn a_run_on_an_out_another_process_holds_exits_2_naming_that_process() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    study(dir, 1);
    let lock = OutputLock::acquire(&dir.join(".r.work")).unwrap();
    exit_2(&clustersim(&["run", "study.toml", "--out", "r"], dir), &[&format!("clustersim process {}", std::process::id())]);
    assert!(!dir.join("r").exists());
    lock.release().unwrap();
    ok(&clustersim(&["run", "study.toml", "--out", "r", "--no-charts"], dir));
    assert_eq!(names(dir), ["r", "study.toml", "taskdefs"], "no work folder or lock left behind");
}

#[test]
fn two_runs_started_together_on_one_out_never_fail_as_a_bug_and_leave_complete_results() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    study(dir, 3);
    ok(&clustersim(&["run", "study.toml", "--out", "reference", "--no-charts"], dir));
    for _ in 0..3 {
        let args = ["run", "study.toml", "--out", "r", "--no-charts", "--jobs", "1"];
        let (a, b) = (spawn(&args, dir), spawn(&args, dir));
        let outcomes = [wait_bounded(a, Duration::from_secs(120)), wait_bounded(b, Duration::from_secs(120))];
        for o in &outcomes {
            assert!(matches!(o.status.code(), Some(0 | 2)), "exit {:?}: {}", o.status, stderr(o));
            if o.status.code() == Some(2) {
                assert!(stderr(o).contains("in use by clustersim process"), "{}", stderr(o));
            }
        }
        assert!(outcomes.iter().any(|o| o.status.success()), "one of the two completes");
        assert_eq!(tree(&dir.join("r")), tree(&dir.join("reference")));
        assert_eq!(names(dir), ["r", "reference", "study.toml", "taskdefs"]);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Leftovers of interrupted runs
// ---------------------------------------------------------------------------------------------

#[test]
fn folders_left_by_a_run_killed_while_assembling_are_removed_and_named_by_the_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    study(dir, 1);
    ok(&clustersim(&["run", "study.toml", "--out", "r", "--no-charts"], dir));
    copy_tree(&dir.join("r"), &dir.join(".r.tmp-4000000"));
    copy_tree(&dir.join("r"), &dir.join(".r.old"));
    let o = clustersim(&["run", "study.toml", "--out", "r", "--no-charts"], dir);
    ok(&o);
    assert!(stderr(&o).contains(".r.tmp-4000000") && stderr(&o).contains(".r.old"), "{}", stderr(&o));
    assert_eq!(names(dir), ["r", "study.toml", "taskdefs"]);
}

// ---------------------------------------------------------------------------------------------
// 4. check refuses a baseline it cannot read
// ---------------------------------------------------------------------------------------------

/// A baseline of `study` (3 replications), and its CSV as rows of cells.
fn baseline(dir: &Path) -> Vec<Vec<String>> {
    study(dir, 3);
    ok(&clustersim(&["run", "study.toml", "--out", "r", "--no-charts", "--write-baseline", "base.csv"], dir));
    fs::read_to_string(dir.join("base.csv")).unwrap().lines().map(|l| l.split(',').map(str::to_string).collect()).collect()
}

fn write_csv(path: &Path, rows: &[Vec<String>]) {
    fs::write(path, rows.iter().map(|r| r.join(",") + "\n").collect::<String>()).unwrap();
}

#[test]
fn check_refuses_a_baseline_value_it_cannot_read_naming_file_row_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut rows = baseline(dir);
    let col = rows[0].iter().position(|h| h == "placement_failure_rate_mean").unwrap();
    rows[2][col] = "0;5".to_string();
    write_csv(&dir.join("bad.csv"), &rows);
    exit_2(
        &clustersim(&["check", "study.toml", "--baseline", "bad.csv"], dir),
        &["bad.csv", "row 3", "placement_failure_rate_mean", "0;5"],
    );
}

#[test]
fn check_refuses_a_baseline_missing_one_column_of_a_metric() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut rows = baseline(dir);
    let col = rows[0].iter().position(|h| h == "hosts_used_mean_ci95_low").unwrap();
    for r in &mut rows {
        r.remove(col);
    }
    write_csv(&dir.join("bad.csv"), &rows);
    exit_2(&clustersim(&["check", "study.toml", "--baseline", "bad.csv"], dir), &["bad.csv", "hosts_used_mean_ci95_low"]);
}

#[test]
fn check_reports_a_metric_the_baseline_does_not_have() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut rows = baseline(dir);
    let keep: Vec<bool> = rows[0].iter().map(|h| !h.starts_with("hosts_used_mean_")).collect();
    for r in &mut rows {
        *r = r.iter().zip(&keep).filter(|(_, k)| **k).map(|(c, _)| c.clone()).collect();
    }
    write_csv(&dir.join("old.csv"), &rows);
    let o = clustersim(&["check", "study.toml", "--baseline", "old.csv"], dir);
    ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("not in the baseline") && stdout.contains("hosts_used_mean"), "{stdout}");
}

#[test]
fn check_refuses_a_baseline_written_by_a_scenario_with_other_sweep_axes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let rows = baseline(dir);
    // The same summary with one more axis column, as another scenario's would have.
    let other: Vec<Vec<String>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut r = r.clone();
            r.insert(1, if i == 0 { "placement.strategy".into() } else { "random".into() });
            r
        })
        .collect();
    write_csv(&dir.join("other.csv"), &other);
    exit_2(&clustersim(&["check", "study.toml", "--baseline", "other.csv"], dir), &["other.csv", "placement.strategy", "another scenario"]);
}

// ---------------------------------------------------------------------------------------------
// 5. Every error names its place; outputs are checked before anything runs
// ---------------------------------------------------------------------------------------------

#[test]
fn a_scenario_that_is_not_utf8_is_named_with_the_line_of_the_bad_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = study(dir, 1);
    let text = fs::read(&path).unwrap();
    fs::write(&path, [b"# caf\xe9\n".as_slice(), &text].concat()).unwrap();
    exit_2(&clustersim(&["validate", "study.toml"], dir), &["study.toml", "not UTF-8", "line 1, column 6", "byte offset 5"]);
}

#[test]
fn a_damaged_per_run_file_is_named_by_resume_and_merge_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    study(dir, 1);
    ok(&clustersim(&["run", "study.toml", "--shard", "1/1", "--out", "s"], dir));
    fs::write(dir.join("s/runs/p01-r00.csv"), "run_id,replication\np01-r00,0,1\n").unwrap();
    exit_2(&clustersim(&["merge", "s", "--out", "merged"], dir), &["p01-r00.csv", "damaged"]);
    // The same damage in an interrupted run's work folder.
    fs::rename(dir.join("s"), dir.join(".r.work")).unwrap();
    fs::remove_file(dir.join(".r.work/shard.json")).unwrap();
    exit_2(&clustersim(&["run", "study.toml", "--out", "r", "--resume"], dir), &["p01-r00.csv", "damaged"]);
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_as_out_is_refused_before_any_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    study(dir, 1);
    std::os::unix::fs::symlink(dir.join("gone"), dir.join("link")).unwrap();
    exit_2(&clustersim(&["run", "study.toml", "--out", "link"], dir), &["link", "symbolic link"]);
    assert_eq!(names(dir), ["link", "study.toml", "taskdefs"], "nothing was run or written");
}

#[test]
fn out_dot_is_refused_before_any_run_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let scenario = study(dir, 1);
    fs::create_dir(dir.join("empty")).unwrap();
    exit_2(&clustersim(&["run", scenario.to_str().unwrap(), "--out", "."], &dir.join("empty")), &["does not name a folder"]);
    assert!(names(&dir.join("empty")).is_empty());
}

// ---------------------------------------------------------------------------------------------
// 6. Inputs that are not files
// ---------------------------------------------------------------------------------------------

fn with_trace(dir: &Path, trace: &Path) {
    let path = study(dir, 1);
    let text = fs::read_to_string(&path).unwrap() + &format!("\n[workload.replay]\nkind = \"trace\"\nfile = \"{}\"\n", trace.display());
    fs::write(&path, text).unwrap();
}

#[cfg(unix)]
#[test]
fn dev_zero_as_a_trace_is_refused_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    with_trace(dir, Path::new("/dev/zero"));
    let o = wait_bounded(spawn(&["validate", "study.toml"], dir), Duration::from_secs(20));
    exit_2(&o, &["/dev/zero", "not a regular file"]);
}

#[cfg(unix)]
#[test]
fn a_fifo_as_a_trace_is_refused_without_waiting_for_a_writer() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let fifo = dir.join("trace.csv");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    with_trace(dir, &fifo);
    let o = wait_bounded(spawn(&["validate", "study.toml"], dir), Duration::from_secs(20));
    exit_2(&o, &["trace.csv", "not a regular file"]);
}

#[cfg(unix)]
#[test]
fn a_fifo_as_a_baseline_is_refused_without_waiting_for_a_writer() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    study(dir, 1);
    assert!(Command::new("mkfifo").arg(dir.join("base.csv")).status().unwrap().success());
    let o = wait_bounded(spawn(&["check", "study.toml", "--baseline", "base.csv"], dir), Duration::from_secs(20));
    exit_2(&o, &["base.csv", "not a regular file"]);
}

// ---------------------------------------------------------------------------------------------
// 7. The largest sweep; --jobs
// ---------------------------------------------------------------------------------------------

#[test]
fn the_largest_allowed_sweep_validates_in_seconds_and_materialises_any_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = study(dir, 1);
    let text = fs::read_to_string(&path).unwrap().replace(
        "values = [0.004, 0.008]\n",
        "from = 1\nto = 1000\nstep = 1\n[[sweep.axis]]\nkey = \"workload.small.arrival.rate_per_s\"\nfrom = 0.001\nto = 1.0\nstep = 0.001\n",
    );
    fs::write(&path, text).unwrap();
    let start = Instant::now();
    let plan = Plan::build(&RawScenario::read(&path).unwrap(), None, &StrategyRegistry::new()).unwrap();
    // Expanding and validating 1,000,000 points eagerly took minutes and gigabytes; lazily, the
    // cost is one validation per axis value. The bound is loose for a loaded machine.
    assert!(start.elapsed() < Duration::from_secs(60), "took {:?}", start.elapsed());
    assert_eq!(plan.run_count(), 1_000_000);
    let last = plan.run(999_999).unwrap();
    assert_eq!(last.run_id, "p999999-r00");
    assert_eq!(
        last.params,
        [
            ("workload.large.arrival.rate_per_s".to_string(), "1000".to_string()),
            ("workload.small.arrival.rate_per_s".to_string(), "1.0".to_string())
        ]
    );
    assert_eq!(plan.run_index("p999999-r00"), Some(999_999));
    assert_eq!(plan.run(1_001).unwrap().params[1].1, "0.002");
}

#[test]
fn jobs_far_above_the_runs_is_clamped_and_the_run_succeeds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    study(dir, 1);
    let o = wait_bounded(spawn(&["run", "study.toml", "--out", "r", "--jobs", "5000", "--no-charts"], dir), Duration::from_secs(60));
    ok(&o);
    assert_eq!(clustersim::sweep::effective_jobs(5000, 2), 2);
}

// ---------------------------------------------------------------------------------------------
// Fault injection
// ---------------------------------------------------------------------------------------------

/// Twelve trials (or `CLUSTERSIM_FAULT_TRIALS`), alternately SIGKILL and SIGINT, at moments spread over the run (and, every
/// other pair, over a run replacing earlier results): afterwards the results folder is absent or
/// complete, and `--resume` leaves exactly the uninterrupted result and nothing else.
#[cfg(unix)]
#[test]
fn a_sweep_killed_at_any_moment_leaves_no_or_complete_results_and_resume_completes_it_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    study(dir, 6);
    let start = Instant::now();
    ok(&clustersim(&["run", "study.toml", "--out", "reference", "--jobs", "1"], dir));
    let duration = start.elapsed();
    let reference = tree(&dir.join("reference"));
    let mut interrupted = 0;
    // More trials for a longer soak: CLUSTERSIM_FAULT_TRIALS=200 cargo test --release --test robustness
    let trials: u32 = std::env::var("CLUSTERSIM_FAULT_TRIALS").ok().and_then(|v| v.parse().ok()).unwrap_or(12).max(12);
    for trial in 0..trials {
        let out = format!("t{trial}");
        if trial % 4 >= 2 {
            copy_tree(&dir.join("reference"), &dir.join(&out));
        }
        let mut child = spawn(&["run", "study.toml", "--out", &out, "--jobs", "1"], dir);
        // Moments spread over the whole run, in a fixed order (a low-discrepancy sequence).
        let fraction = f64::from((trial * 7 + 3) % 12) / 12.0 + 0.02 + f64::from(trial / 12) / f64::from(trials);
        std::thread::sleep(duration.mul_f64(fraction * 1.1));
        if trial % 2 == 0 {
            let _ = child.kill();
        } else {
            let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
        }
        let _ = child.wait();
        let out_dir = dir.join(&out);
        if names(dir).iter().any(|n| n.starts_with(&format!(".{out}."))) {
            interrupted += 1;
        }
        if out_dir.exists() {
            assert_eq!(tree(&out_dir), reference, "trial {trial}: a results folder is complete");
        }
        ok(&clustersim(&["run", "study.toml", "--out", &out, "--jobs", "1", "--resume"], dir));
        assert_eq!(tree(&out_dir), reference, "trial {trial}: resume reproduces the uninterrupted result");
        let debris: Vec<String> = names(dir).into_iter().filter(|n| n.starts_with(&format!(".{out}."))).collect();
        assert!(debris.is_empty(), "trial {trial}: left {debris:?}");
    }
    assert!(interrupted >= trials / 2, "only {interrupted} of {trials} kills landed mid-run: the trials test nothing");
}
