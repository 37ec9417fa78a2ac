//! `clustersim plan` against a closed form, and `import-ecs-events` on the shipped sample, through
//! the binary.
//!
//! Identical one-slot hosts and Poisson arrivals of exponential jobs that are refused when no host
//! is free form an M/M/c/c loss system, whose refusal rate is the Erlang-B blocking B(c, a). So
//! the smallest host count meeting `placement_failure_rate <= target` is known by hand: the plan
//! must find it, must never call a candidate "met" whose confidence interval misses, must not give
//! a cheaper answer for a tighter target, and must run nothing again when asked a second time.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use clustersim::metrics::stats::erlang_b;

const BIN: &str = env!("CARGO_BIN_EXE_clustersim");
const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// Offered load in Erlang: 0.2 arrivals per second × 100 s mean run time.
const LOAD: f64 = 20.0;
const AZS: u32 = 3;

const TASK_DEFINITION: &str = r#"{
  "family": "slot-job", "cpu": "1024", "memory": "2048", "networkMode": "bridge",
  "requiresCompatibilities": ["EC2"],
  "containerDefinitions": [{ "name": "job", "image": "public.ecr.aws/docker/library/busybox:1.36", "essential": true }]
}"#;

/// A one-knob plan: one-slot hosts per AZ from 1 to 20.
fn scenario(target: f64, extra: &str) -> String {
    format!(
        r#"
name = "erlang-plan"
seed = 11
horizon = "40000s"
warmup = "1000s"
sample_interval = "1h"
task_definitions = ["slot-job.json"]

[cluster]
azs = ["a", "b", "c"]
registered_memory_fraction = 1.0

[instance_types.slot1]
vcpu = 1
memory = "2GiB"
hourly_usd = 0.05

[host_groups.slots]
instance_type = "slot1"
count_per_az = 1

[workload.jobs]
kind = "poisson"
task_definition = "slot-job"
run_time = {{ distribution = "exponential", mean = "100s" }}
arrival = {{ rate_per_s = {rate} }}

[plan]
replications = 8
targets = ["placement_failure_rate <= {target}"]
{extra}
[[plan.knob]]
key = "host_groups.slots.count_per_az"
from = 1
to = 20
step = 1
"#,
        rate = LOAD / 100.0
    )
}

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("slot-job.json"), TASK_DEFINITION).unwrap();
        Case { dir }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        fs::write(&p, text).unwrap();
        p
    }
    fn clustersim(&self, args: &[&str]) -> Output {
        Command::new(BIN).args(args).current_dir(self.dir.path()).output().unwrap()
    }
    fn plan(&self, scenario: &Path) -> Output {
        let o = self.clustersim(&["plan", scenario.to_str().unwrap(), "--out", "out"]);
        assert_eq!(o.status.code(), Some(0), "plan failed:\n{}", text(&o.stderr));
        o
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The rows of `plan.csv` as (column → cell) maps.
fn plan_rows(out: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(out.join("plan.csv")).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records().map(|rec| headers.iter().zip(rec.unwrap().iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect()).collect()
}

/// The host count per AZ of the cheapest row meeting every target.
fn answer(out: &Path) -> u32 {
    let rows = plan_rows(out);
    let met = rows.iter().filter(|r| r["meets_all_targets"] == "true");
    let cheapest = met.min_by(|a, b| {
        a["cost_total_month_usd_mean"].parse::<f64>().unwrap().total_cmp(&b["cost_total_month_usd_mean"].parse::<f64>().unwrap())
    });
    cheapest.expect("a configuration meets the target")["host_groups.slots.count_per_az"].parse().unwrap()
}

/// The smallest hosts per AZ whose Erlang-B blocking is at most `target`, checked to be clear of
/// the target on both sides (so sampling noise cannot move the answer).
fn closed_form(target: f64) -> u32 {
    let k = (1..=20).find(|&k| erlang_b(AZS * k, LOAD) <= target).expect("20 hosts per AZ suffice");
    assert!(erlang_b(AZS * k, LOAD) <= target / 1.7, "B({}) too close to the target for a sharp test", AZS * k);
    assert!(erlang_b(AZS * (k - 1), LOAD) >= target * 1.5, "B({}) too close to the target", AZS * (k - 1));
    k
}

/// "N runs done, M reused" from the plan's report on stderr.
fn runs_done(o: &Output) -> (u32, u32) {
    let err = text(&o.stderr);
    let line = err.lines().find(|l| l.contains("runs done")).unwrap_or_else(|| panic!("no run count in:\n{err}"));
    let num = |before: &str| -> u32 {
        let head = line.split(before).next().unwrap();
        head.rsplit(|c: char| !c.is_ascii_digit()).find(|w| !w.is_empty()).unwrap().parse().unwrap()
    };
    (num(" runs done"), num(" reused"))
}

#[test]
fn plan_finds_the_smallest_host_count_whose_erlang_b_blocking_meets_the_target_and_reuses_every_run_when_asked_again() {
    let case = Case::new();
    let loose = case.write("loose.toml", &scenario(0.015, ""));
    let first = case.plan(&loose);
    let expected = closed_form(0.015);
    assert_eq!(answer(&case.path("out")), expected, "Erlang-B says {expected} hosts per AZ\n{}", text(&first.stdout));
    let (done, reused) = runs_done(&first);
    assert!(done > 0 && reused == 0, "{done} done, {reused} reused");
    // The host count just below the answer was run, and it misses.
    let rows = plan_rows(&case.path("out"));
    let below = rows.iter().find(|r| r["host_groups.slots.count_per_az"] == (expected - 1).to_string()).expect("the next cheaper one");
    assert_eq!(below["meets_all_targets"], "false");
    assert!(text(&first.stdout).contains("The next cheaper one"), "{}", text(&first.stdout));

    // Asked again: every candidate's runs are reused, none is run, and the files are the same.
    let before: Vec<String> =
        ["plan.csv", "plan.md", "plan-runs.csv"].iter().map(|f| fs::read_to_string(case.path("out").join(f)).unwrap()).collect();
    let again = case.plan(&loose);
    assert_eq!(runs_done(&again), (0, done), "{}", text(&again.stderr));
    let after: Vec<String> =
        ["plan.csv", "plan.md", "plan-runs.csv"].iter().map(|f| fs::read_to_string(case.path("out").join(f)).unwrap()).collect();
    assert!(before == after, "a rerun from reused runs wrote different files");

    // A tighter target in the same folder: never a cheaper answer, and the runs both share are reused.
    let tight = case.write("tight.toml", &scenario(0.005, ""));
    let third = case.plan(&tight);
    let tighter = answer(&case.path("out"));
    assert_eq!(tighter, closed_form(0.005));
    assert!(tighter >= expected, "tighter target, cheaper answer: {tighter} < {expected}");
    let (_, reused) = runs_done(&third);
    assert!(reused > 0, "the candidates both plans tried were run again");
}

#[test]
fn plan_never_reports_a_target_as_met_when_the_unfavourable_end_of_its_ci_misses_it() {
    let case = Case::new();
    let s = case.write("p.toml", &scenario(0.015, ""));
    case.plan(&s);
    let rows = plan_rows(&case.path("out"));
    assert!(rows.len() >= 4);
    for r in &rows {
        let num = |k: &str| r[k].parse::<f64>().unwrap();
        let high = num("placement_failure_rate_ci95_high");
        assert_eq!(r["target1_met"] == "true", high <= 0.015, "{r:?}");
        assert!((num("target1_margin") - (0.015 - high)).abs() < 1e-12, "{r:?}");
    }
    let md = fs::read_to_string(case.path("out/plan.md")).unwrap();
    assert!(md.contains("unfavourable end of its 95 % confidence interval"), "{md}");
    assert!(case.path("out/charts/plan.png").is_file() && case.path("out/charts/plan.svg").is_file());
}

/// A bad `[plan]`: exit 2 from `plan` and from `validate`, the message names the file and key,
/// and `plan` leaves no results or work folder behind.
fn refused(plan_part: &str, key: &str, says: &str) {
    let case = Case::new();
    let text_in = scenario(0.015, "").replace("[plan]\nreplications = 8\ntargets = [\"placement_failure_rate <= 0.015\"]\n", plan_part);
    assert_ne!(text_in, scenario(0.015, ""), "the edit applies");
    case.write("bad.toml", &text_in);
    for args in [vec!["plan", "bad.toml", "--out", "out"], vec!["validate", "bad.toml"]] {
        let o = case.clustersim(&args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?} accepted:\n{plan_part}\n{err}");
        assert!(err.contains("bad.toml") && err.contains(key) && err.contains(says), "{args:?}: expected `{key}` and `{says}` in:\n{err}");
    }
    let left: Vec<String> = fs::read_dir(case.dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(left.iter().all(|n| n == "bad.toml" || n == "slot-job.json"), "left behind: {left:?}");
}

#[test]
fn a_bad_plan_table_is_refused_naming_the_file_and_key_by_plan_and_validate_alike() {
    let plan = |body: &str| format!("[plan]\n{body}\n");
    refused(&plan("targets = [\"placement_failure_rat <= 0.01\"]"), "plan.targets[0]", "allowed: tasks_arrived");
    refused(&plan("targets = [\"placement_failure_rate < 0.01\"]"), "plan.targets[0]", "allowed operators: <=, >=");
    refused(&plan("targets = [\"placement_failure_rate <= often\"]"), "plan.targets[0]", "not a number");
    refused(&plan("targets = []"), "plan.targets", "at least one target");
    refused(&plan("targets = [\"placement_failure_rate <= 0.01\"]\nobjective = \"cheapness\""), "plan.objective", "unknown metric");
    refused(
        &plan("targets = [\"placement_failure_rate <= 0.01\"]\nobjective = \"tasks_arrived\""),
        "plan.objective",
        "no better direction",
    );
    refused(&plan("targets = [\"placement_failure_rate <= 0.01\"]\nreplications = 1"), "plan.replications", "allowed: 2 to");
    refused(&plan("targets = [\"placement_failure_rate <= 0.01\"]\nbudget = 3"), "plan.budget", "unknown key");
    refused(
        &plan("targets = [\"placement_failure_rate <= 0.01\"]\n[[plan.knob]]\nkey = \"placement.strategy\"\nvalues = []"),
        "plan.knob[0]",
        "at least one value",
    );
    refused(
        &plan(
            "targets = [\"placement_failure_rate <= 0.01\"]\n[[plan.knob]]\nkey = \"workload.jobs.arrival.rate_per_s\"\nfrom = 2\nto = 1\nstep = 1",
        ),
        "plan.knob[0]",
        "to ≥ from",
    );
    refused(
        &plan(
            "targets = [\"placement_failure_rate <= 0.01\"]\n[[plan.knob]]\nkey = \"host_groups.slots.instance_type\"\nvalues = [\"slot1\", \"m5.large\"]\nsearch = \"bisect\"",
        ),
        "plan.knob[0]",
        "increasing numbers",
    );
    refused(
        &plan("targets = [\"placement_failure_rate <= 0.01\"]\n[[plan.knob]]\nkey = \"horizon\"\nvalues = [\"1h\"]\nsearch = \"sideways\""),
        "plan.knob[0].search",
        "allowed: bisect, exhaustive",
    );
    refused(
        &plan(
            "targets = [\"placement_failure_rate <= 0.01\"]\n[[plan.knob]]\nkey = \"host_groups.slots.instance_type\"\nvalues = [\"slot1\", \"slot9\"]",
        ),
        "host_groups.slots.instance_type",
        "unknown instance type `slot9`",
    );
    refused(&plan("targets = [\"placement_failure_rate <= 0.01\"]\n[sweep]\nreplications = 3"), "sweep", "has no [sweep]");
    refused(
        &plan(
            "targets = [\"placement_failure_rate <= 0.01\"]\n[[plan.knob]]\nkey = \"seed\"\nfrom = 1\nto = 20\nstep = 1\nsearch = \"exhaustive\"\n[[plan.knob]]\nkey = \"warmup\"\nfrom = 0\nto = 20\nstep = 1\nsearch = \"exhaustive\"",
        ),
        "plan.knob",
        "20 × 21 combinations; at most 256",
    );
}

#[test]
fn a_knob_value_the_scenario_refuses_is_reported_with_its_candidate_before_anything_runs() {
    let case = Case::new();
    let s = case.write("zero.toml", &scenario(0.015, "").replace("from = 1\n", "from = 0\n"));
    let o = case.clustersim(&["plan", s.to_str().unwrap(), "--out", "out"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("host_groups.slots.count_per_az") && err.contains("at plan candidate host_groups.slots.count_per_az = 0"),
        "{err}"
    );
    assert!(!case.path("out").exists() && !case.path(".out.work").exists());
}

#[test]
fn a_scenario_without_a_plan_table_is_refused_by_plan() {
    let case = Case::new();
    let plain = scenario(0.015, "");
    let cut = plain.find("[plan]").unwrap();
    let s = case.write("plain.toml", &plain[..cut]);
    let o = case.clustersim(&["plan", s.to_str().unwrap(), "--out", "out"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("no [plan] table"), "{}", text(&o.stderr));
}

#[test]
fn the_shipped_plan_example_finds_the_answer_its_comment_works_out_by_hand_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (folder, jobs) in [(&out, "1"), (&dir.path().join("two"), "2")] {
        let o = Command::new(BIN)
            .args(["plan", "scenarios/plan-erlang-b.toml", "--out", folder.to_str().unwrap(), "--jobs", jobs])
            .current_dir(REPO)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    }
    for f in ["plan.csv", "plan.md", "plan-runs.csv", "manifest.json", "charts/plan.png", "charts/plan.svg"] {
        assert!(fs::read(out.join(f)).unwrap() == fs::read(dir.path().join("two").join(f)).unwrap(), "{f} differs between --jobs 1 and 2");
    }
    // c = 30 slots: 5 two-slot hosts per AZ (cheaper than 10 one-slot ones).
    assert!(erlang_b(27, 20.0) > 0.015 && erlang_b(30, 20.0) < 0.015);
    let md = fs::read_to_string(out.join("plan.md")).unwrap();
    assert!(md.contains("meets every target: **hosts per AZ = 5, instance type = slot2**"), "{md}");
}

#[test]
fn the_shipped_trace_is_what_the_importer_makes_of_the_shipped_events() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trace.csv");
    let defs = dir.path().join("defs");
    let o = Command::new(BIN)
        .args([
            "import-ecs-events",
            "scenarios/traces/ecs-events-sample.jsonl",
            "--out",
            out.to_str().unwrap(),
            "--taskdefs",
            defs.to_str().unwrap(),
        ])
        .current_dir(REPO)
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let shipped = Path::new(REPO).join("scenarios/traces");
    assert_eq!(fs::read_to_string(&out).unwrap(), fs::read_to_string(shipped.join("ecs-events-sample.csv")).unwrap());
    for f in ["report.json", "web.json", "worker.json"] {
        assert_eq!(
            fs::read_to_string(defs.join(f)).unwrap(),
            fs::read_to_string(shipped.join("ecs-events-sample-taskdefs").join(f)).unwrap(),
            "{f}"
        );
    }
    // The sample's failed start is named, with its line, and counted.
    assert!(err.contains("line 13: task") && err.contains("stopped before it ran"), "{err}");
    assert!(err.contains("1 line(s) or task(s) skipped"), "{err}");
}

#[test]
fn the_importer_reports_each_unusable_line_by_number_and_keeps_the_rest() {
    let case = Case::new();
    let sample = fs::read_to_string(Path::new(REPO).join("scenarios/traces/ecs-events-sample.jsonl")).unwrap();
    let mut lines: Vec<&str> = sample.lines().collect();
    lines.insert(2, "{\"detail-type\": \"ECS Task State Change\"");
    lines.insert(5, "{\"detail-type\": \"ECS Service Action\", \"detail\": {}}");
    let input = case.write("events.jsonl", &(lines.join("\n") + "\n"));
    let o = case.clustersim(&["import-ecs-events", input.to_str().unwrap(), "--out", "trace.csv"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("events.jsonl: line 3: not JSON"), "{err}");
    assert!(err.contains("events.jsonl: line 6: not an ECS Task State Change event (detail-type `ECS Service Action`)"), "{err}");
    assert!(err.contains("3 line(s) or task(s) skipped"), "{err}");
    let trace = fs::read_to_string(case.path("trace.csv")).unwrap();
    assert_eq!(trace, fs::read_to_string(Path::new(REPO).join("scenarios/traces/ecs-events-sample.csv")).unwrap());
    // Nothing usable at all: exit 2, saying so.
    let empty = case.write("none.jsonl", "{}\n");
    let o = case.clustersim(&["import-ecs-events", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("no task to replay"), "{}", text(&o.stderr));
}

#[test]
fn a_plan_killed_after_a_round_keeps_that_rounds_runs_for_the_next_attempt() {
    use std::io::{BufRead, BufReader};
    let case = Case::new();
    // Long runs, so the kill lands while round 2 is still running.
    let s = case.write("slow.toml", &scenario(0.015, "").replace("horizon = \"40000s\"", "horizon = \"400000s\""));
    let mut child = Command::new(BIN)
        .args(["plan", s.to_str().unwrap(), "--out", "out", "--jobs", "1"])
        .current_dir(case.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // "round 2: …" is printed after round 1's runs are saved.
    let saw_round_2 = BufReader::new(stdout).lines().map_while(Result::ok).any(|l| l.starts_with("round 2:"));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(saw_round_2, "the plan ended before its second round");
    assert!(!case.path("out").exists(), "a killed plan left a results folder");
    let again = case.plan(&s);
    let (_, reused) = runs_done(&again);
    assert!(reused >= 8, "round 1's 8 runs were not reused: {}", text(&again.stderr));
}
