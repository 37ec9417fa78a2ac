//! Sweeps end to end through the CLI: sharded runs merge into exactly what one machine writes,
//! `--resume` runs only what is missing and never rewrites a finished run, `check` passes on its
//! own baseline and fails on a clearly worse strategy, `diff-decisions` finds the first change.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn clustersim(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clustersim")).args(args).current_dir(cwd).output().expect("binary runs")
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A small study: two strategies × two loads × 3 replications, one simulated hour.
fn study(dir: &Path, strategy_axis: bool) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/taskdefs");
    fs::create_dir_all(dir.join("taskdefs")).unwrap();
    for f in ["small-job.json", "large-job.json"] {
        fs::copy(src.join(f), dir.join("taskdefs").join(f)).unwrap();
    }
    let axis =
        if strategy_axis { "[[sweep.axis]]\nkey = \"placement.strategy\"\nvalues = [\"binpack(memory)\", \"random\"]\n" } else { "" };
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
replications = 3
{axis}
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

fn assert_same_tree(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>(), "different files");
    for (name, bytes) in &ta {
        assert!(bytes == &tb[name], "{name} differs between {} and {}", a.display(), b.display());
    }
}

#[test]
fn three_shards_merged_equal_the_unsharded_output_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    study(dir, true);
    ok(&clustersim(&["run", "study.toml", "--out", "whole", "--jobs", "2", "--tasks", "--explain"], dir));
    for i in 1..=3 {
        ok(&clustersim(&["run", "study.toml", "--shard", &format!("{i}/3"), "--out", &format!("shard{i}"), "--tasks", "--explain"], dir));
    }
    ok(&clustersim(&["merge", "shard1", "shard2", "shard3", "--out", "merged"], dir));
    assert_same_tree(&dir.join("whole"), &dir.join("merged"));
    // What was compared is the real thing: runs, summary, comparison, charts, decisions.
    let files = tree(&dir.join("whole"));
    for f in [
        "runs.csv",
        "summary.csv",
        "comparison.csv",
        "manifest.json",
        "decisions.csv",
        "charts/placement_failure_rate.png",
        "charts/hosts_used_mean.svg",
    ] {
        assert!(files.contains_key(f), "missing {f}");
    }
    assert_eq!(String::from_utf8_lossy(&files["runs.csv"]).lines().count(), 1 + 2 * 2 * 3);
}

#[test]
fn merge_names_the_runs_a_missing_shard_would_have_made() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    study(dir, false);
    ok(&clustersim(&["run", "study.toml", "--shard", "1/2", "--out", "s1"], dir));
    let out = clustersim(&["merge", "s1", "--out", "merged"], dir);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("3 of 6 runs have no results") && err.contains("p00-r01"), "{err}");
    assert!(!dir.join("merged").exists(), "no half-written results folder");
}

#[test]
fn resume_runs_only_the_missing_runs_and_never_rewrites_finished_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    study(dir, false);
    ok(&clustersim(&["run", "study.toml", "--out", "fresh"], dir));
    // An interrupted sweep: its work folder holds some runs, not all.
    ok(&clustersim(&["run", "study.toml", "--shard", "1/1", "--out", ".resumed.work"], dir));
    let work = dir.join(".resumed.work");
    // A work folder has no shard.json (and clustersim refuses to treat a folder holding a
    // file it does not expect there as its own).
    fs::remove_file(work.join("shard.json")).unwrap();
    fs::remove_file(work.join("runs/p01-r02.csv")).unwrap();
    fs::remove_file(work.join("runs/p00-r00.csv")).unwrap();
    // Mark a finished run: if resume re-ran it, the marker would be overwritten.
    let kept = work.join("timeseries/p00-r01.csv");
    let original = fs::read(&kept).unwrap();
    fs::write(&kept, [original.as_slice(), b"marker\n"].concat()).unwrap();
    let out = clustersim(&["run", "study.toml", "--out", "resumed", "--resume"], dir);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 runs (4 resumed)"), "{}", String::from_utf8_lossy(&out.stderr));
    let resumed_ts = fs::read(dir.join("resumed/timeseries/p00-r01.csv")).unwrap();
    assert!(resumed_ts.ends_with(b"marker\n"), "a finished run was rewritten");
    // Without the marker, the resumed results equal a fresh run.
    fs::write(dir.join("resumed/timeseries/p00-r01.csv"), original).unwrap();
    assert_same_tree(&dir.join("fresh"), &dir.join("resumed"));
    assert!(!work.exists(), "the work folder is removed once results are complete");
}

#[test]
fn resume_refuses_a_folder_written_from_other_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = study(dir, false);
    ok(&clustersim(&["run", "study.toml", "--shard", "1/2", "--out", "s1"], dir));
    fs::write(&path, fs::read_to_string(&path).unwrap().replace("seed = 11", "seed = 12")).unwrap();
    let out = clustersim(&["run", "study.toml", "--shard", "1/2", "--out", "s1", "--resume"], dir);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to resume"));
}

#[test]
fn check_passes_on_its_own_baseline_and_fails_on_a_clearly_worse_strategy() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = study(dir, false);
    ok(&clustersim(&["run", "study.toml", "--out", "base", "--write-baseline", "baseline.csv", "--no-charts"], dir));
    let pass = clustersim(&["check", "study.toml", "--baseline", "baseline.csv"], dir);
    assert_eq!(pass.status.code(), Some(0), "{}", String::from_utf8_lossy(&pass.stdout));
    // Random placement keeps far more hosts busy than binpack: hosts_used_mean regresses.
    fs::write(&path, fs::read_to_string(&path).unwrap().replace("strategy = \"binpack(memory)\"", "strategy = \"random\"")).unwrap();
    let fail = clustersim(&["check", "study.toml", "--baseline", "baseline.csv"], dir);
    let stdout = String::from_utf8_lossy(&fail.stdout);
    assert_eq!(fail.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("hosts_used_mean") && stdout.contains("REGRESSION"), "{stdout}");
}

#[test]
fn a_relative_tolerance_turns_a_small_move_into_a_regression() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = study(dir, false);
    ok(&clustersim(&["run", "study.toml", "--out", "base", "--write-baseline", "baseline.csv", "--no-charts"], dir));
    // Spreading across AZs first keeps slightly more hosts busy: within the confidence
    // intervals, so no regression by default...
    let base = fs::read_to_string(&path).unwrap();
    let spread = base.replace("strategy = \"binpack(memory)\"", "strategy = \"spread(attribute:ecs.availability-zone),binpack(memory)\"");
    fs::write(&path, &spread).unwrap();
    let control = clustersim(&["check", "study.toml", "--baseline", "baseline.csv"], dir);
    assert_eq!(control.status.code(), Some(0), "{}", String::from_utf8_lossy(&control.stdout));
    // ...but with a 0 % tolerance any move in the bad direction fails.
    fs::write(&path, spread.replace("[report]\n", "[report]\ntolerance = { hosts_used_mean = 0.0 }\n")).unwrap();
    let out = clustersim(&["check", "study.toml", "--baseline", "baseline.csv"], dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("hosts_used_mean"), "{stdout}");
}

#[test]
fn diff_decisions_reports_the_first_decision_a_strategy_change_altered() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = study(dir, false);
    ok(&clustersim(&["run", "study.toml", "--out", "a", "--explain", "--no-charts"], dir));
    ok(&clustersim(&["run", "study.toml", "--out", "a2", "--explain", "--no-charts"], dir));
    let same = clustersim(&["diff-decisions", "a/decisions.csv", "a2/decisions.csv"], dir);
    assert_eq!(same.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&same.stdout).starts_with("identical"));
    fs::write(&path, fs::read_to_string(&path).unwrap().replace("strategy = \"binpack(memory)\"", "strategy = \"binpack(cpu)\"")).unwrap();
    ok(&clustersim(&["run", "study.toml", "--out", "b", "--explain", "--no-charts"], dir));
    let diff = clustersim(&["diff-decisions", "a/decisions.csv", "b/decisions.csv"], dir);
    let stdout = String::from_utf8_lossy(&diff.stdout);
    assert_eq!(diff.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("first difference at decision") && stdout.contains("decisions differ"), "{stdout}");
    // Common random numbers: the logs agree before the first difference.
    let first: usize = stdout.split("decision ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    let (a, b) = (fs::read_to_string(dir.join("a/decisions.csv")).unwrap(), fs::read_to_string(dir.join("b/decisions.csv")).unwrap());
    assert!(a.lines().take(first).eq(b.lines().take(first)));
}

#[test]
fn time_series_are_charted_for_the_chosen_runs_and_an_unknown_run_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = study(dir, false);
    let text = fs::read_to_string(&path).unwrap().replace("[report]\n", "[report]\ntimeseries_runs = [\"p01-r02\"]\n");
    fs::write(&path, &text).unwrap();
    ok(&clustersim(&["run", "study.toml", "--out", "chosen"], dir));
    let charts: Vec<String> = fs::read_dir(dir.join("chosen/charts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("timeseries"))
        .collect();
    let mut charts = charts;
    charts.sort();
    assert_eq!(charts, vec!["timeseries-p01-r02.png", "timeseries-p01-r02.svg"]);
    fs::write(&path, text.replace("p01-r02", "p09-r00")).unwrap();
    let out = clustersim(&["run", "study.toml", "--out", "bad"], dir);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("report.timeseries_runs") && err.contains("no run `p09-r00`"), "{err}");
}
