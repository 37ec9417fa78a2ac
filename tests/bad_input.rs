//! Bad input through the binary: every mistake a user can make in a scenario file, a task
//! definition or on the command line ends in a clear error — naming the file, the key (or JSON
//! path) and what is allowed — and exit status 2. Never a panic (exit 101), and never a results
//! folder (or a leftover `.out.tmp-*` / `.out.work` folder) left behind.
//!
//! Each case is one edit of a small scenario that is itself valid
//! (`the_base_scenario_is_valid_and_runs`), so the edit is what the error is about.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_clustersim");
const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// The scenario every case edits: valid, and quick to run.
const BASE: &str = r#"name = "bad-input"
seed = 7
horizon = "10m"
task_definitions = ["taskdefs/web.json", "taskdefs/worker.json"]

[cluster]
azs = ["us-east-1a", "us-east-1b"]
reserved_memory = "256MiB"

[host_groups.main]
instance_type = "m5.large"
count_per_az = 2

[workload.web]
kind = "service"
task_definition = "web"
desired_count = 3

[workload.jobs]
kind = "poisson"
task_definition = "worker"
run_time = "2m"
arrival = { rate_per_s = 0.05 }
"#;

/// A valid bridge-mode task definition with family `web`, for task-definition cases to break.
const WEB_TASKDEF: &str = r#"{
  "family": "web",
  "cpu": "256",
  "memory": "1024",
  "networkMode": "bridge",
  "requiresCompatibilities": ["EC2"],
  "containerDefinitions": [
    { "name": "app", "image": "nginx:1.27", "cpu": 128, "memory": 512, "essential": true,
      "portMappings": [ { "containerPort": 80, "hostPort": 0 } ] },
    { "name": "sidecar", "image": "busybox:1.36", "memoryReservation": 64, "essential": false,
      "dependsOn": [ { "containerName": "app", "condition": "START" } ] }
  ]
}
"#;

/// A temporary directory holding a scenario and copies of the shipped task definitions; the
/// binary runs with it as its working directory, so a default `results/` would land here too.
struct Case {
    dir: TempDir,
}

impl Case {
    fn new() -> Case {
        let dir = tempfile::tempdir().expect("tempdir");
        let taskdefs = dir.path().join("taskdefs");
        fs::create_dir(&taskdefs).expect("mkdir taskdefs");
        for name in ["web.json", "worker.json", "scorekeep.json", "api-fargate.json"] {
            fs::copy(Path::new(REPO).join("scenarios/taskdefs").join(name), taskdefs.join(name)).expect("copy task definition");
        }
        Case { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(&path, text).expect("write");
        path
    }

    /// Writes `text` as `scenario.toml` and returns its path.
    fn scenario(&self, text: &str) -> PathBuf {
        self.write("scenario.toml", text)
    }

    fn out(&self) -> PathBuf {
        self.path().join("out")
    }

    fn clustersim(&self, args: &[&str]) -> Output {
        Command::new(BIN).args(args).current_dir(self.path()).output().expect("run clustersim")
    }

    /// `validate SCENARIO`.
    fn validate(&self, scenario: &Path) -> Output {
        self.clustersim(&["validate", scenario.to_str().expect("utf-8 path")])
    }

    /// `run SCENARIO --out <tmp>/out`.
    fn run(&self, scenario: &Path, extra: &[&str]) -> Output {
        let out = self.out();
        let mut args = vec!["run", scenario.to_str().expect("utf-8 path"), "--out", out.to_str().expect("utf-8 path"), "--no-charts"];
        args.extend_from_slice(extra);
        self.clustersim(&args)
    }

    /// No results folder, no temporary or work folder beside it, no default `results/`.
    fn assert_nothing_written(&self, context: &str) {
        assert!(!self.out().exists(), "{context}: a results folder was left at {}", self.out().display());
        let leftovers: Vec<String> = fs::read_dir(self.path())
            .expect("read tempdir")
            .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".out") || n == "results")
            .collect();
        assert!(leftovers.is_empty(), "{context}: left behind {leftovers:?}");
    }
}

/// Modifies `BASE` (or any text): replaces `from`, which must occur, with `to`.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the edit target `{from}` is not in the text");
    text.replacen(from, to, 1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit status 2, no panic, and every expected fragment in stderr.
fn assert_exit_2(o: &Output, expect: &[&str], context: &str) {
    let err = stderr(o);
    assert!(!err.contains("panicked"), "{context}: panicked:\n{err}");
    assert_eq!(o.status.code(), Some(2), "{context}: expected exit status 2, got {:?}\nstderr:\n{err}", o.status.code());
    for fragment in expect {
        assert!(err.contains(fragment), "{context}: stderr does not contain `{fragment}`:\n{err}");
    }
}

/// The project rule for bad input, through both `validate` and `run --out`: exit 2, stderr names
/// `file`, `key` and says what is `allowed`, no panic, nothing written.
fn assert_rejected(case: &Case, scenario: &Path, file: &str, key: &str, allowed: &str) {
    let expect = [file, key, allowed];
    assert_exit_2(&case.validate(scenario), &expect, "validate");
    assert_exit_2(&case.run(scenario, &["--jobs", "1"]), &expect, "run");
    case.assert_nothing_written("run");
}

/// Writes `text` as the scenario and checks it is rejected as [`assert_rejected`] says.
fn rejects(text: &str, key: &str, allowed: &str) {
    let case = Case::new();
    let scenario = case.scenario(text);
    assert_rejected(&case, &scenario, "scenario.toml", key, allowed);
}

/// The base scenario with the task definition `web` replaced by `json` (written as
/// `taskdefs/bad.json`); the error must name that file.
fn rejects_taskdef(json: &str, json_path: &str, allowed: &str) {
    let case = Case::new();
    case.write("taskdefs/bad.json", json);
    let scenario = case.scenario(&edit(BASE, "\"taskdefs/web.json\"", "\"taskdefs/bad.json\""));
    assert_rejected(&case, &scenario, "bad.json", json_path, allowed);
}

// ---------------------------------------------------------------------------------------------
// The baseline
// ---------------------------------------------------------------------------------------------

#[test]
fn the_base_scenario_is_valid_and_runs() {
    let case = Case::new();
    case.write("taskdefs/web-own.json", WEB_TASKDEF);
    let scenario = case.scenario(BASE);
    let v = case.validate(&scenario);
    assert_eq!(v.status.code(), Some(0), "validate: {}", stderr(&v));
    // The hand-written task definition used by the task-definition cases is valid too.
    let own = case.write("own.toml", &edit(BASE, "\"taskdefs/web.json\"", "\"taskdefs/web-own.json\""));
    let v = case.validate(&own);
    assert_eq!(v.status.code(), Some(0), "validate with WEB_TASKDEF: {}", stderr(&v));
    let r = case.run(&scenario, &["--jobs", "1"]);
    assert_eq!(r.status.code(), Some(0), "run: {}", stderr(&r));
    assert!(case.out().join("summary.csv").is_file(), "run wrote no summary.csv");
}

// ---------------------------------------------------------------------------------------------
// Syntax
// ---------------------------------------------------------------------------------------------

#[test]
fn malformed_toml_names_the_line_and_column() {
    // Line 6 is `[cluster` (unclosed bracket).
    let text = edit(BASE, "[cluster]", "[cluster");
    assert_eq!(text.lines().nth(5), Some("[cluster"));
    rejects(&text, "line 6, column", "not valid TOML");
}

#[test]
fn malformed_task_definition_json_names_the_file_and_position() {
    let broken = "{\n  \"family\": \"web\",\n  \"containerDefinitions\": [\n    { \"name\": \"web\", \"image\": \"nginx\", \"memory\": 512 },\n  ]\n}\n";
    rejects_taskdef(broken, "$: the file is not valid JSON", "(line 5, column");
}

#[test]
fn a_leftover_template_placeholder_as_task_definition_is_named_as_such() {
    let placeholder = fs::read_to_string(Path::new(REPO).join("tests/data/taskdefs/placeholder-braces.json")).expect("fixture");
    assert!(placeholder.contains("{{ TASK_DEF }}"));
    rejects_taskdef(&placeholder, "$: ", "`{{ TASK_DEF }}` looks like an unrendered template placeholder");
}

#[test]
fn an_empty_task_definition_file_is_named_as_empty() {
    rejects_taskdef("", "$: ", "the file is empty; expected a JSON task definition");
}

// ---------------------------------------------------------------------------------------------
// Missing required fields
// ---------------------------------------------------------------------------------------------

#[test]
fn a_missing_horizon_is_named() {
    rejects(&edit(BASE, "horizon = \"10m\"\n", ""), "horizon", "missing (required)");
}

#[test]
fn a_host_group_without_count_per_az_is_named() {
    rejects(&edit(BASE, "count_per_az = 2\n", ""), "host_groups.main.count_per_az", "missing (required), a whole number from 1 to 100000");
}

#[test]
fn a_workload_without_kind_is_named() {
    rejects(&edit(BASE, "kind = \"service\"\n", ""), "workload.web.kind", "missing (required)");
}

#[test]
fn a_scenario_without_host_groups_says_one_is_required() {
    let text = edit(BASE, "[host_groups.main]\ninstance_type = \"m5.large\"\ncount_per_az = 2\n", "");
    rejects(&text, "host_groups", "at least one host group is required");
}

// ---------------------------------------------------------------------------------------------
// Zero and negative sizes
// ---------------------------------------------------------------------------------------------

#[test]
fn count_per_az_zero_is_out_of_range() {
    rejects(&edit(BASE, "count_per_az = 2", "count_per_az = 0"), "host_groups.main.count_per_az", "allowed: 1 to");
}

#[test]
fn a_zero_horizon_must_be_greater_than_zero() {
    rejects(&edit(BASE, "horizon = \"10m\"", "horizon = \"0s\""), "horizon", "must be greater than zero");
}

#[test]
fn a_negative_reserved_memory_must_be_zero_or_positive() {
    rejects(&edit(BASE, "reserved_memory = \"256MiB\"", "reserved_memory = \"-1GiB\""), "cluster.reserved_memory", "zero or positive");
}

#[test]
fn a_quoted_memory_without_a_unit_is_refused_with_the_accepted_units() {
    let text = edit(BASE, "reserved_memory = \"256MiB\"", "reserved_memory = \"256\"");
    rejects(&text, "cluster.reserved_memory", "has no unit; write e.g. \"256MiB\"; units: B, KiB, MiB, GiB, TiB");
}

#[test]
fn a_memory_of_the_wrong_type_names_the_accepted_units() {
    let text = edit(BASE, "reserved_memory = \"256MiB\"", "reserved_memory = 2.5");
    rejects(&text, "cluster.reserved_memory", "a bare integer, unquoted, is MiB");
}

#[test]
fn a_task_definition_with_zero_memory_must_be_greater_than_zero() {
    let json = edit(WEB_TASKDEF, "\"memory\": \"1024\"", "\"memory\": 0");
    rejects_taskdef(&json, "$.memory", "memory must be greater than 0");
}

#[test]
fn a_container_with_negative_memory_must_be_greater_than_zero() {
    let json = edit(WEB_TASKDEF, "\"memory\": 512", "\"memory\": -512");
    rejects_taskdef(&json, "$.containerDefinitions[0].memory", "must be greater than 0 MiB");
}

// ---------------------------------------------------------------------------------------------
// Unknown keys and names
// ---------------------------------------------------------------------------------------------

#[test]
fn an_unknown_key_is_named_with_the_allowed_keys() {
    // A typo next to the real key: nothing may silently ignore it.
    let text = edit(BASE, "count_per_az = 2\n", "count_per_az = 2\ncount_per_azz = 3\n");
    rejects(&text, "host_groups.main.count_per_azz", "unknown key; allowed here: attributes, azs, count_per_az, instance_type");
}

#[test]
fn an_unknown_top_level_key_is_named_with_the_allowed_keys() {
    rejects(&edit(BASE, "seed = 7\n", "seed = 7\nhorizn = \"1h\"\n"), "horizn", "unknown key; allowed here:");
}

/// A typo *instead of* a required key: the message must name the typo as well as the missing
/// key, or the user cannot see why the key they wrote is "missing".
#[test]

fn a_misspelt_required_key_names_the_typo() {
    rejects(&edit(BASE, "count_per_az = 2", "count_per_azz = 2"), "count_per_azz", "count_per_az");
}

#[test]
fn binpack_over_an_unknown_field_lists_the_allowed_fields() {
    let text = edit(BASE, "desired_count = 3\n", "desired_count = 3\nplacement = { strategy = [\"binpack(disk)\"] }\n");
    rejects(&text, "workload.web.placement.strategy[0]", "binpack field `disk` is not valid; allowed: cpu, memory");
}

#[test]
fn an_unknown_strategy_lists_the_allowed_strategies() {
    let text = edit(BASE, "desired_count = 3\n", "desired_count = 3\nplacement = { strategy = \"firstfit\" }\n");
    rejects(&text, "workload.web.placement.strategy[0]", "unknown placement strategy `firstfit`; allowed: binpack(cpu|memory)");
}

#[test]
fn spread_over_an_unknown_attribute_lists_the_known_attributes() {
    let text = edit(BASE, "desired_count = 3\n", "desired_count = 3\nplacement = { strategy = \"spread(attribute:ecs.nonexistent)\" }\n");
    rejects(&text, "workload.web.placement.strategy", "unknown attribute `ecs.nonexistent`; known: ecs.availability-zone");
}

#[test]
fn member_of_an_unknown_attribute_lists_the_known_attributes() {
    let text =
        edit(BASE, "desired_count = 3\n", "desired_count = 3\nplacement = { constraints = [\"memberOf(attribute:colour == red)\"] }\n");
    rejects(&text, "workload.web.placement.constraints[0]", "unknown attribute `colour`; known: ecs.availability-zone");
}

#[test]
fn an_unknown_constraint_lists_the_allowed_constraints() {
    let text = edit(BASE, "desired_count = 3\n", "desired_count = 3\nplacement = { constraints = [\"distinctHost\"] }\n");
    rejects(&text, "workload.web.placement.constraints[0]", "allowed: distinctInstance, memberOf");
}

#[test]
fn an_unknown_instance_type_lists_the_known_types() {
    rejects(&edit(BASE, "\"m5.large\"", "\"m5.huge\""), "host_groups.main.instance_type", "unknown instance type `m5.huge`; known:");
}

#[test]
fn an_unknown_workload_kind_lists_the_allowed_kinds() {
    rejects(&edit(BASE, "kind = \"service\"", "kind = \"cron\""), "workload.web.kind", "allowed: service, poisson, batch, trace");
}

#[test]
fn an_unknown_task_family_in_a_workload_lists_the_loaded_families() {
    rejects(
        &edit(BASE, "task_definition = \"web\"", "task_definition = \"wbe\""),
        "workload.web.task_definition",
        "unknown task definition family `wbe`; loaded: web, worker",
    );
}

#[test]
fn an_unknown_duration_unit_lists_the_allowed_units() {
    rejects(&edit(BASE, "run_time = \"2m\"", "run_time = \"2 fortnights\""), "workload.jobs.run_time", "allowed: us, ms, s, m, h, d");
}

// ---------------------------------------------------------------------------------------------
// Missing files
// ---------------------------------------------------------------------------------------------

#[test]
fn a_missing_task_definition_file_is_named() {
    let text = edit(BASE, "\"taskdefs/worker.json\"", "\"taskdefs/missing.json\"");
    rejects(&text, "task_definitions[1]", "cannot read `");
    // The message names the missing file itself, not only the key.
    let case = Case::new();
    let o = case.validate(&case.scenario(&text));
    assert!(stderr(&o).contains("missing.json"), "{}", stderr(&o));
}

#[test]
fn a_missing_trace_file_is_named() {
    let text = BASE.to_string() + "\n[workload.replay]\nkind = \"trace\"\nfile = \"traces/missing.csv\"\n";
    rejects(&text, "workload.replay.file", "cannot read `");
    let case = Case::new();
    let o = case.validate(&case.scenario(&text));
    assert!(stderr(&o).contains("missing.csv"), "{}", stderr(&o));
}

#[test]
fn a_missing_scenario_file_is_named() {
    let case = Case::new();
    let missing = case.path().join("nope.toml");
    assert_exit_2(&case.validate(&missing), &["nope.toml", "cannot read the scenario file"], "validate");
    assert_exit_2(&case.run(&missing, &[]), &["nope.toml", "cannot read the scenario file"], "run");
    case.assert_nothing_written("run");
}

#[test]
fn a_bad_trace_row_names_the_trace_file_and_line() {
    let case = Case::new();
    case.write("traces/jobs.csv", "time_s,family,duration_s\n0,worker,60\nsoon,worker,60\n");
    let scenario = case.scenario(&(BASE.to_string() + "\n[workload.replay]\nkind = \"trace\"\nfile = \"traces/jobs.csv\"\n"));
    assert_rejected(&case, &scenario, "jobs.csv", "line 3", "is not a number");
}

// ---------------------------------------------------------------------------------------------
// Task-definition rules (the JSON path must be in the message)
// ---------------------------------------------------------------------------------------------

#[test]
fn container_memory_above_the_task_memory_is_refused() {
    let json = edit(WEB_TASKDEF, "\"memory\": 512", "\"memory\": 4096");
    rejects_taskdef(&json, "$.containerDefinitions[0].memory", "4096 MiB is above the task's memory (1024 MiB)");
}

#[test]
fn a_task_definition_without_an_essential_container_is_refused() {
    let json = edit(WEB_TASKDEF, "\"essential\": true", "\"essential\": false");
    rejects_taskdef(&json, "$.containerDefinitions", "a task needs at least one essential container");
}

#[test]
fn depends_on_a_missing_container_is_refused() {
    let json = edit(WEB_TASKDEF, "\"containerName\": \"app\"", "\"containerName\": \"db\"");
    rejects_taskdef(&json, "$.containerDefinitions[1].dependsOn[0].containerName", "(containers: app, sidecar)");
}

#[test]
fn a_proxy_configuration_naming_a_missing_container_is_refused() {
    let json = edit(
        WEB_TASKDEF,
        "\"containerDefinitions\"",
        "\"proxyConfiguration\": { \"type\": \"APPMESH\", \"containerName\": \"envoy\" },\n  \"containerDefinitions\"",
    );
    rejects_taskdef(&json, "$.proxyConfiguration.containerName", "container \"envoy\" does not exist in this task definition");
}

#[test]
fn a_described_task_definition_error_points_into_the_wrapper() {
    let json = format!("{{ \"taskDefinition\": {} }}", edit(WEB_TASKDEF, "\"essential\": true", "\"essential\": false"));
    rejects_taskdef(&json, "$.taskDefinition.containerDefinitions", "at least one essential container");
}

#[test]
fn two_files_defining_one_family_are_refused() {
    let case = Case::new();
    case.write("taskdefs/web-again.json", WEB_TASKDEF);
    let scenario = case.scenario(&edit(BASE, "\"taskdefs/worker.json\"]", "\"taskdefs/worker.json\", \"taskdefs/web-again.json\"]"));
    assert_rejected(&case, &scenario, "scenario.toml", "task_definitions[2]", "family `web` is defined by two files");
}

// ---------------------------------------------------------------------------------------------
// A task that fits nowhere
// ---------------------------------------------------------------------------------------------

#[test]
fn a_task_that_fits_no_host_type_is_refused_before_anything_runs() {
    // 64 GiB on m5.large hosts (8 GiB).
    let json = edit(WEB_TASKDEF, "\"memory\": \"1024\"", "\"memory\": \"64 GB\"");
    rejects_taskdef_named(&json, "workload.web.task_definition", "which no host type of the scenario can register: m5.large");
}

/// As [`rejects_taskdef`], but the error is about the scenario (it names a workload).
fn rejects_taskdef_named(json: &str, key: &str, allowed: &str) {
    let case = Case::new();
    case.write("taskdefs/big.json", json);
    let scenario = case.scenario(&edit(BASE, "\"taskdefs/web.json\"", "\"taskdefs/big.json\""));
    assert_rejected(&case, &scenario, "scenario.toml", key, allowed);
}

#[test]
fn a_task_that_needs_more_cpu_than_any_host_is_refused() {
    let json = edit(WEB_TASKDEF, "\"cpu\": \"256\"", "\"cpu\": \"4 vCPU\"");
    rejects_taskdef_named(&json, "workload.web.task_definition", "needs 4096 CPU units");
}

#[test]
fn reserved_memory_that_leaves_nothing_is_refused() {
    rejects(&edit(BASE, "reserved_memory = \"256MiB\"", "reserved_memory = \"64GiB\""), "cluster.reserved_memory", "leaves no memory");
}

// ---------------------------------------------------------------------------------------------
// Sweeps
// ---------------------------------------------------------------------------------------------

#[test]
fn a_sweep_axis_whose_key_path_does_not_exist_is_named() {
    let text = BASE.to_string() + "\n[sweep]\n[[sweep.axis]]\nkey = \"workload.nope.desired_count\"\nvalues = [1, 2]\n";
    rejects(&text, "sweep axis `workload.nope.desired_count`", "`workload.nope` does not exist in the scenario");
}

#[test]
fn a_sweep_value_of_the_wrong_type_is_named_with_its_point() {
    let text = BASE.to_string() + "\n[sweep]\n[[sweep.axis]]\nkey = \"host_groups.main.count_per_az\"\nvalues = [\"ten\"]\n";
    rejects(&text, "host_groups.main.count_per_az", "expected a whole number ≥ 0, found string");
    let case = Case::new();
    let o = case.validate(&case.scenario(&text));
    assert!(stderr(&o).contains("at sweep point host_groups.main.count_per_az = ten"), "{}", stderr(&o));
}

#[test]
fn a_sweep_value_that_fails_validation_at_a_later_point_is_refused_before_any_run() {
    let text = BASE.to_string() + "\n[sweep]\n[[sweep.axis]]\nkey = \"host_groups.main.count_per_az\"\nvalues = [1, 2, 0]\n";
    rejects(&text, "host_groups.main.count_per_az", "(at sweep point host_groups.main.count_per_az = 0)");
}

#[test]
fn sweeping_the_name_is_refused() {
    let text = BASE.to_string() + "\n[sweep]\n[[sweep.axis]]\nkey = \"name\"\nvalues = [\"a\", \"b\"]\n";
    rejects(&text, "sweep.axis[0]", "`name` cannot be swept");
}

#[test]
fn a_sweep_range_with_a_zero_step_is_refused() {
    let text = BASE.to_string() + "\n[sweep]\n[[sweep.axis]]\nkey = \"workload.web.desired_count\"\nfrom = 1\nto = 5\nstep = 0\n";
    rejects(&text, "sweep.axis[0]", "a range needs step > 0 and to ≥ from");
}

#[test]
fn a_sweep_with_too_many_runs_is_refused() {
    let text = BASE.to_string()
        + "\n[sweep]\nreplications = 1000\n[[sweep.axis]]\nkey = \"workload.web.desired_count\"\nfrom = 1\nto = 5000\nstep = 1\n";
    rejects(&text, "sweep", "expands to more than 1000000 runs");
}

/// Six axes of 4,096 values each are 2^72 points: the count must not wrap around.
#[test]

fn a_sweep_whose_point_count_overflows_is_refused() {
    let mut text = BASE.to_string() + "\n[sweep]\n";
    for k in ["a", "b", "c", "d", "e", "f"] {
        text += &format!("[[sweep.axis]]\nkey = \"{k}\"\nfrom = 1\nto = 4096\nstep = 1\n");
    }
    rejects(&text, "sweep", "expands to more than 1000000 runs");
}

/// A range whose length is not representable (to − from overflows to infinity).
#[test]

fn a_sweep_range_too_long_to_count_is_refused() {
    let text =
        BASE.to_string() + "\n[sweep]\n[[sweep.axis]]\nkey = \"workload.web.desired_count\"\nfrom = -1.0e308\nto = 1.0e308\nstep = 1.0\n";
    rejects(&text, "sweep.axis[0]", "more than 10,000 values");
}

// ---------------------------------------------------------------------------------------------
// Limits that keep `run` from running out of memory
// ---------------------------------------------------------------------------------------------

/// A custom instance type whose CPU units overflow u32 (vcpu × 1024).
#[test]

fn an_instance_type_with_an_absurd_vcpu_count_is_refused() {
    let text = edit(BASE, "[host_groups.main]", "[instance_types.\"x.huge\"]\nvcpu = 4194304\nmemory = \"16GiB\"\n\n[host_groups.main]");
    let text = edit(&text, "\"m5.large\"", "\"x.huge\"");
    rejects(&text, "instance_types.x.huge.vcpu", "allowed");
}

/// 4,294,967,295 hosts per AZ would abort `run` allocating the fleet: it is refused up front.
#[test]

fn a_fleet_larger_than_ecs_allows_is_refused() {
    rejects(&edit(BASE, "count_per_az = 2", "count_per_az = 4294967295"), "host_groups.main.count_per_az", "allowed: 1 to 100000");
}

// ---------------------------------------------------------------------------------------------
// Messages that must name the inner key
// ---------------------------------------------------------------------------------------------

#[test]
fn a_sweep_axis_without_key_says_how_to_give_one() {
    let text = BASE.to_string() + "\n[sweep]\n[[sweep.axis]]\nvalues = [1, 2]\n";
    rejects(&text, "sweep.axis[0]", "give `key = ");
}

#[test]

fn an_unknown_key_in_a_sweep_axis_is_named() {
    let text = BASE.to_string() + "\n[sweep]\n[[sweep.axis]]\nkey = \"workload.web.desired_count\"\nvalues = [1]\nvaluez = [2]\n";
    rejects(&text, "sweep.axis[0].valuez", "unknown key; allowed here: key");
}

#[test]

fn sweep_values_of_the_wrong_type_name_values() {
    let text = BASE.to_string() + "\n[sweep]\n[[sweep.axis]]\nkey = \"workload.web.desired_count\"\nvalues = \"1\"\n";
    rejects(&text, "sweep.axis[0].values", "expected an array");
}

#[test]

fn an_unknown_metric_in_a_tolerance_lists_the_metrics() {
    let text = BASE.to_string() + "\n[report]\ntolerance = { nonsense = 0.1 }\n";
    rejects(&text, "report.tolerance.nonsense", "allowed: ");
}

#[test]
fn an_unknown_metric_in_the_report_lists_the_metrics() {
    let text = BASE.to_string() + "\n[report]\nmetrics = [\"nonsense\"]\n";
    rejects(&text, "report.metrics", "unknown metric `nonsense`; allowed: ");
}

#[test]

fn an_unknown_family_in_a_trace_names_the_line() {
    let case = Case::new();
    case.write("traces/jobs.csv", "time_s,family,duration_s\n0,worker,60\n5,nope,60\n");
    let scenario = case.scenario(&(BASE.to_string() + "\n[workload.replay]\nkind = \"trace\"\nfile = \"traces/jobs.csv\"\n"));
    assert_rejected(&case, &scenario, "jobs.csv", "line 3", "unknown task definition family `nope`; loaded: web, worker");
}

// ---------------------------------------------------------------------------------------------
// Results paths
// ---------------------------------------------------------------------------------------------

/// `--out` naming an existing regular file: the file must be kept and the run refused.
#[test]

fn out_naming_an_existing_file_is_refused_and_the_file_is_kept() {
    let case = Case::new();
    let scenario = case.scenario(BASE);
    let notes = case.write("notes.txt", "precious\n");
    let o = case.clustersim(&["run", scenario.to_str().expect("utf-8"), "--out", notes.to_str().expect("utf-8"), "--no-charts"]);
    assert_exit_2(&o, &["notes.txt"], "run --out notes.txt");
    assert_eq!(fs::read_to_string(&notes).ok().as_deref(), Some("precious\n"), "notes.txt was not kept");
    let left: Vec<_> = fs::read_dir(case.path())
        .expect("read")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".notes"))
        .collect();
    assert!(left.is_empty(), "left behind {left:?}");
}

/// `--out` under a regular file cannot be created: bad input (2), not an internal error (3).
#[test]

fn out_under_a_regular_file_is_a_bad_input() {
    let case = Case::new();
    let scenario = case.scenario(BASE);
    let out = case.path().join("scenario.toml/out");
    let o = case.clustersim(&["run", scenario.to_str().expect("utf-8"), "--out", out.to_str().expect("utf-8"), "--no-charts"]);
    assert_exit_2(&o, &["scenario.toml/"], "run --out scenario.toml/out");
}

/// `--write-baseline` into a missing folder: refused before any run, nothing left behind.
#[test]

fn an_unwritable_baseline_path_is_refused_before_running_and_leaves_nothing() {
    let case = Case::new();
    let scenario = case.scenario(BASE);
    let baseline = case.path().join("missing-dir/baseline.csv");
    let o = case.run(&scenario, &["--write-baseline", baseline.to_str().expect("utf-8")]);
    assert_exit_2(&o, &["missing-dir/baseline.csv"], "run --write-baseline missing-dir/baseline.csv");
    case.assert_nothing_written("run --write-baseline");
}

/// `--out` naming a folder that is not a results folder must not delete what is in it.
#[test]

fn out_naming_a_folder_that_is_not_a_results_folder_is_refused() {
    let case = Case::new();
    let scenario = case.scenario(BASE);
    let docs = case.path().join("docs");
    case.write("docs/thesis.txt", "important\n");
    let o = case.clustersim(&["run", scenario.to_str().expect("utf-8"), "--out", docs.to_str().expect("utf-8"), "--no-charts"]);
    assert_exit_2(&o, &["docs"], "run --out docs");
    assert!(docs.join("thesis.txt").is_file(), "docs/thesis.txt was deleted");
}

// ---------------------------------------------------------------------------------------------
// Usage errors
// ---------------------------------------------------------------------------------------------

fn assert_usage_error(args: &[&str], expect: &[&str]) {
    let case = Case::new();
    let scenario = case.scenario(BASE);
    let scenario = scenario.to_str().expect("utf-8 path");
    let args: Vec<String> =
        args.iter().map(|a| a.replace("SCENARIO", scenario).replace("OUT", case.out().to_str().expect("utf-8 path"))).collect();
    let o = Command::new(BIN).args(&args).current_dir(case.path()).output().expect("run clustersim");
    assert_exit_2(&o, expect, &format!("clustersim {args:?}"));
    case.assert_nothing_written(&format!("clustersim {args:?}"));
}

#[test]
fn no_arguments_is_a_usage_error() {
    assert_usage_error(&[], &["Usage"]);
}

#[test]
fn an_unknown_subcommand_is_a_usage_error() {
    assert_usage_error(&["simulate", "SCENARIO"], &["simulate"]);
}

#[test]
fn run_without_a_scenario_is_a_usage_error() {
    assert_usage_error(&["run"], &["SCENARIO"]);
}

#[test]
fn shard_zero_is_a_usage_error() {
    assert_usage_error(&["run", "SCENARIO", "--out", "OUT", "--shard", "0/3"], &["shard 0/3", "1 to N"]);
}

#[test]
fn a_shard_above_the_count_is_a_usage_error() {
    assert_usage_error(&["run", "SCENARIO", "--out", "OUT", "--shard", "4/3"], &["shard 4/3", "1 to N"]);
}

#[test]
fn a_shard_that_is_not_i_of_n_is_a_usage_error() {
    assert_usage_error(&["run", "SCENARIO", "--out", "OUT", "--shard", "two"], &["`two` is not a shard; write I/N"]);
}

#[test]
fn a_non_numeric_seed_is_a_usage_error() {
    assert_usage_error(&["run", "SCENARIO", "--out", "OUT", "--seed", "many"], &["invalid value 'many' for '--seed <SEED>'"]);
}

// ---------------------------------------------------------------------------------------------
// Shipped scenarios stay valid
// ---------------------------------------------------------------------------------------------

#[test]
fn every_shipped_scenario_validates() {
    let dir = Path::new(REPO).join("scenarios");
    let mut scenarios: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("scenarios/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    scenarios.sort();
    assert!(!scenarios.is_empty(), "no scenarios/*.toml");
    for s in &scenarios {
        let o = Command::new(BIN).arg("validate").arg(s).current_dir(REPO).output().expect("run clustersim");
        assert_eq!(o.status.code(), Some(0), "{} does not validate:\n{}", s.display(), stderr(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("valid"), "{}", s.display());
    }
}

/// A horizon so long that the workloads would launch more tasks than a run can number.
#[test]
fn a_horizon_that_would_launch_billions_of_tasks_is_refused() {
    let busy = edit(BASE, "rate_per_s = 0.05", "rate_per_s = 50000");
    rejects(&edit(&busy, "horizon = \"10m\"", "horizon = \"1d\""), "horizon", "tasks; at most");
    rejects(&edit(BASE, "horizon = \"10m\"", "horizon = \"5000d\""), "horizon", "at most 1000 days");
}

// ---------------------------------------------------------------------------------------------
// [failures]
// ---------------------------------------------------------------------------------------------

#[test]
fn a_failure_process_for_an_unknown_host_group_names_the_known_ones() {
    rejects(&format!("{BASE}\n[failures.host_groups.mian]\nmtbf = \"30d\"\n"), "failures.host_groups.mian", "known: main");
}

#[test]
fn an_outage_in_an_unknown_az_or_ending_before_it_starts_is_refused() {
    let outage =
        |az: &str, start: &str, end: &str| format!("{BASE}\n[[failures.az_outage]]\naz = \"{az}\"\nstart = \"{start}\"\nend = \"{end}\"\n");
    rejects(&outage("us-east-1z", "1m", "2m"), "failures.az_outage[0].az", "us-east-1a, us-east-1b");
    rejects(&outage("us-east-1a", "5m", "5m"), "failures.az_outage[0].end", "must be after start");
    rejects(&outage("us-east-1a", "20m", "30m"), "failures.az_outage[0].start", "before the horizon");
}

#[test]
fn overlapping_outages_of_one_az_are_refused_naming_the_other_window() {
    let text = format!(
        "{BASE}\n[[failures.az_outage]]\naz = \"us-east-1a\"\nstart = \"1m\"\nend = \"5m\"\n\
         [[failures.az_outage]]\naz = \"us-east-1a\"\nstart = \"4m\"\nend = \"6m\"\n"
    );
    rejects(&text, "failures.az_outage[1].start", "overlaps failures.az_outage[0]");
}

// ---------------------------------------------------------------------------------------------
// Rolling deployments
// ---------------------------------------------------------------------------------------------

/// The base scenario with `lines` added to the `web` service.
fn web_with(lines: &str) -> String {
    edit(BASE, "desired_count = 3\n", &format!("desired_count = 3\n{lines}\n"))
}

#[test]
fn deployment_settings_outside_what_ecs_accepts_are_refused() {
    rejects(&web_with("maximum_percent = 50"), "workload.web.maximum_percent", "100");
    rejects(&web_with("minimum_healthy_percent = 150"), "workload.web.minimum_healthy_percent", "100");
    rejects(&web_with("deployments = [{ at = \"20m\" }]"), "at", "horizon");
    rejects(&web_with("deployments = [{ at = \"5m\" }, { at = \"2m\" }]"), "at", "increasing");
    rejects(&web_with("deployments = [{ at = \"5m\", task_definition = \"nope\" }]"), "task_definition", "nope");
    rejects(&web_with("deployment_circuit_breaker = { rollback = true }"), "enable", "true or false");
    rejects(
        &edit(BASE, "[cluster]", "[service_scheduler]\nrelease_resources_at = \"later\"\n\n[cluster]"),
        "release_resources_at",
        "stopping, stopped",
    );
    rejects(
        &edit(BASE, "[cluster]", "[service_scheduler]\ncircuit_breaker_minimum = 5\n\n[cluster]"),
        "circuit_breaker_minimum",
        "3 (current), 10",
    );
}

#[test]
fn a_valid_deployment_runs_and_writes_its_files() {
    let case = Case::new();
    let scenario = case.scenario(&web_with("minimum_healthy_percent = 50\ndeployments = [{ at = \"5m\" }]"));
    let v = case.validate(&scenario);
    assert_eq!(v.status.code(), Some(0), "validate: {}", stderr(&v));
    let r = case.run(&scenario, &["--jobs", "1"]);
    assert_eq!(r.status.code(), Some(0), "run: {}", stderr(&r));
    let deployments = fs::read_to_string(case.out().join("deployments.csv")).unwrap();
    assert!(deployments.lines().any(|l| l.contains("ecs-svc/1") && l.contains("completed")), "{deployments}");
    assert!(case.out().join("events").read_dir().unwrap().count() > 0);
}

/// The base scenario with a network of two /24 subnets and a /28, and an ALB entry `lb`.
fn with_load_balancer(lb: &str, web: &str) -> String {
    let network = "[network]\n[network.subnets.a]\naz = \"us-east-1a\"\ncidr = \"10.0.1.0/24\"\n\
                   [network.subnets.b]\naz = \"us-east-1b\"\ncidr = \"10.0.2.0/24\"\n\
                   [network.subnets.tiny]\naz = \"us-east-1b\"\ncidr = \"10.0.3.0/28\"\n\
                   [host_groups.main]\nsubnets = [\"a\", \"b\"]";
    let text = edit(BASE, "[host_groups.main]", network);
    let text = edit(&text, "[workload.web]", &format!("[load_balancers.front]\n{lb}\n\n[workload.web]"));
    edit(&text, "desired_count = 3", &format!("desired_count = 3\n{web}"))
}

#[test]
fn load_balancers_and_health_checks_elb_or_ecs_refuses_are_refused() {
    let alb = "type = \"alb\"\nsubnets = [\"a\", \"b\"]";
    rejects(
        &with_load_balancer("type = \"alb\"\nsubnets = [\"a\"]", ""),
        "load_balancers.front.subnets",
        "at least two Availability Zones",
    );
    rejects(&with_load_balancer("type = \"alb\"\nsubnets = [\"a\", \"tiny\"]", ""), "load_balancers.front.subnets", "/27 or larger");
    rejects(&with_load_balancer("type = \"clb\"\nsubnets = [\"a\", \"b\"]", ""), "load_balancers.front.type", "alb, nlb");
    rejects(
        &with_load_balancer("type = \"nlb\"\nsubnets = [\"a\"]", "load_balancer = \"front\""),
        "workload.web.load_balancer",
        "has no subnet",
    );
    rejects(&with_load_balancer(alb, "load_balancer = \"back\""), "workload.web.load_balancer", "front");
    rejects(
        &with_load_balancer(alb, "load_balancer = \"front\"\ntarget_health_check = { interval = \"2s\" }"),
        "workload.web.target_health_check.interval",
        "5 to 300",
    );
    rejects(&with_load_balancer(alb, "health_failures = { target = 0.5 }"), "workload.web.health_failures.target", "no `load_balancer`");
    rejects(&with_load_balancer(alb, "health_failures = { container = 0.5 }"), "workload.web.health_failures.container", "healthCheck");
    rejects(&with_load_balancer(alb, "strategy = \"dark_launch\""), "workload.web.strategy", "rolling, blue_green, linear, canary");
    rejects(&with_load_balancer(alb, "strategy = \"canary\"\nbake_time = \"5m\""), "workload.web.strategy", "load_balancer");
    let lb = "load_balancer = \"front\"\n";
    let linear = format!("{lb}strategy = \"linear\"\nbake_time = \"5m\"\nlinear = {{ step_percent = 2.5 }}");
    rejects(&with_load_balancer(alb, &linear), "workload.web.linear.step_percent", "multiple of 0.1 from 3 to 100");
    let canary = format!("{lb}strategy = \"canary\"\nbake_time = \"5m\"\ncanary = {{ canary_percent = 10.05 }}");
    rejects(&with_load_balancer(alb, &canary), "workload.web.canary.canary_percent", "multiple of 0.1");
    let canary = format!("{lb}strategy = \"canary\"\nbake_time = \"5m\"\ncanary = {{ canary_bake_time = \"90s\" }}");
    rejects(&with_load_balancer(alb, &canary), "workload.web.canary.canary_bake_time", "whole minutes from 0 to 1440");
    let wrong_table = format!("{lb}strategy = \"blue_green\"\nbake_time = \"5m\"\nlinear = {{ step_percent = 10 }}");
    rejects(&with_load_balancer(alb, &wrong_table), "workload.web.linear", "only a linear strategy");
    let cd = format!("{lb}deployment_controller = \"code_deploy\"");
    rejects(&with_load_balancer(alb, &cd), "workload.web.code_deploy", "missing");
    let cd_config = |config: &str| format!("{cd}\ncode_deploy = {{ config = {config}, termination_wait = \"5m\" }}");
    rejects(&with_load_balancer(alb, &cd_config("\"ECSLinear\"")), "workload.web.code_deploy.config", "CodeDeployDefault.ECSAllAtOnce");
    let nlb = "type = \"nlb\"\nsubnets = [\"a\", \"b\"]";
    let linear_config = cd_config("\"CodeDeployDefault.ECSLinear10PercentEvery1Minutes\"");
    rejects(&with_load_balancer(nlb, &linear_config), "workload.web.code_deploy.config", "only all at once");
    rejects(
        &with_load_balancer(alb, &cd_config("{ type = \"canary\", percent = 10 }")),
        "workload.web.code_deploy.config.interval",
        "missing",
    );
    rejects(
        &with_load_balancer(alb, &format!("{linear_config}\nstrategy = \"linear\"")),
        "workload.web.strategy",
        "ECS deployment controller",
    );
    rejects(&with_load_balancer(alb, &format!("{linear_config}\nmaximum_percent = 150")), "workload.web.maximum_percent", "CODE_DEPLOY");
    rejects(
        &with_load_balancer(alb, &format!("{linear_config}\ndeployment_circuit_breaker = {{ enable = true }}")),
        "workload.web.deployment_circuit_breaker",
        "rolling update",
    );
    rejects(&with_load_balancer(alb, "code_deploy = { termination_wait = \"5m\" }"), "workload.web.code_deploy", "deployment_controller");
    rejects(&with_load_balancer(alb, "strategy = \"blue_green\"\nbake_time = \"5m\""), "workload.web.strategy", "load_balancer");
    rejects(&with_load_balancer(alb, "bake_time = \"5m\""), "workload.web.bake_time", "blue_green");
}

#[test]
fn a_service_behind_a_load_balancer_validates_and_runs() {
    let case = Case::new();
    let text =
        with_load_balancer("type = \"alb\"\nsubnets = [\"a\", \"b\"]", "load_balancer = \"front\"\nhealth_failures = { target = 0.5 }");
    let scenario = case.scenario(&text);
    let v = case.validate(&scenario);
    assert_eq!(v.status.code(), Some(0), "validate: {}", stderr(&v));
    assert!(String::from_utf8_lossy(&v.stdout).contains("held by load balancers"));
    let r = case.run(&scenario, &["--jobs", "1"]);
    assert_eq!(r.status.code(), Some(0), "run: {}", stderr(&r));
    let events = case.out().join("events").read_dir().unwrap().next().unwrap().unwrap().path();
    assert!(fs::read_to_string(events).unwrap().contains("targets in (target-group targetgroup/front-web)"));
}

// ---------------------------------------------------------------------------------------------
// Capacity providers
// ---------------------------------------------------------------------------------------------

/// The base scenario with its hosts behind provider `cp` (`extra` added to the provider) and
/// the cluster's default strategy on it.
fn with_provider(extra: &str) -> String {
    let text = edit(
        BASE,
        "reserved_memory = \"256MiB\"",
        "reserved_memory = \"256MiB\"\ndefault_capacity_provider_strategy = [{ capacity_provider = \"cp\", weight = 1 }]",
    );
    format!("{text}\n[capacity_providers.cp]\nhost_group = \"main\"\nmax_size = 10\n{extra}\n")
}

#[test]
fn a_scenario_with_a_capacity_provider_is_valid_and_runs() {
    let case = Case::new();
    let scenario = case.scenario(&with_provider("target_capacity = 90"));
    let o = case.run(&scenario, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn an_ec2_spot_group_validates_shows_its_pricing_and_runs() {
    let case = Case::new();
    let spot = "spot = { interruptions_per_instance_hour = 0.2, price_fraction = 0.35, instance_draining = true }";
    let scenario = case.scenario(&with_provider(spot));
    let v = case.validate(&scenario);
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    let text = String::from_utf8_lossy(&v.stdout);
    assert!(text.contains("Spot: 0.2 interruptions/instance-hour, 0.35 × On-Demand, drained at notice"), "{text}");
    let o = case.run(&scenario, &["--jobs", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    rejects(
        &with_provider("spot = { interruptions_per_instance_hour = 0.2, price_fraction = 1.5 }"),
        "capacity_providers.cp.spot.price_fraction",
        "0 to 1",
    );
}

#[test]
fn capacity_provider_mistakes_name_their_key() {
    rejects(
        &with_provider("").replace("host_group = \"main\"", "host_group = \"nope\""),
        "capacity_providers.cp.host_group",
        "unknown host group `nope`",
    );
    rejects(&with_provider("").replace("max_size = 10\n", ""), "capacity_providers.cp.max_size", "missing (required)");
    rejects(&with_provider("min_size = 5"), "capacity_providers.cp.max_size", "starts with 4 instances");
    rejects(
        &with_provider("").replace("max_size = 10", "max_size = 3"),
        "capacity_providers.cp.max_size",
        "outside min_size 0 to max_size 3",
    );
    rejects(&with_provider("target_capacity = 0"), "capacity_providers.cp.target_capacity", "allowed: 1 to 100");
    rejects(&with_provider("host_groups = [\"main\"]"), "capacity_providers.cp.host_groups", "not both");
    let twice = with_provider("").replace("host_group = \"main\"", "host_groups = [\"main\", \"main\"]");
    rejects(&twice, "capacity_providers.cp.host_groups", "listed twice");
    rejects(&with_provider("instance_warmup_period = \"3h\""), "capacity_providers.cp.instance_warmup_period", "at most 10000 s");
    rejects(
        &with_provider("minimum_scaling_step_size = 5\nmaximum_scaling_step_size = 2"),
        "capacity_providers.cp.maximum_scaling_step_size",
        "must not be below",
    );
    rejects(
        &with_provider("managed_scaling = false\nmanaged_termination_protection = true"),
        "capacity_providers.cp.managed_termination_protection",
        "needs managed_scaling",
    );
    rejects(
        &with_provider("instance_launch_time = { min = \"90s\", max = \"60s\" }"),
        "capacity_providers.cp.instance_launch_time",
        "max must not be below min",
    );
    rejects(&with_provider("managed_draining = 1"), "capacity_providers.cp.managed_draining", "expected true or false");
}

#[test]
fn strategy_mistakes_are_refused_as_ecs_refuses_them() {
    let strategy = |s: &str| with_provider("").replace("[{ capacity_provider = \"cp\", weight = 1 }]", s);
    rejects(&strategy("[{ capacity_provider = \"cp\" }]"), "cluster.default_capacity_provider_strategy", "every weight is 0");
    rejects(
        &strategy("[{ capacity_provider = \"other\", weight = 1 }]"),
        "cluster.default_capacity_provider_strategy[0].capacity_provider",
        "unknown capacity provider `other`",
    );
    rejects(
        &strategy("[{ capacity_provider = \"FARGATE\", weight = 1 }]"),
        "workload.jobs.launch_type",
        "names Fargate providers, but this workload runs on EC2",
    );
    rejects(
        &strategy("[{ capacity_provider = \"cp\", weight = 1 }, { capacity_provider = \"cp\", weight = 2 }]"),
        "cluster.default_capacity_provider_strategy[1]",
        "listed twice",
    );
    rejects(
        &strategy("[{ capacity_provider = \"cp\", weight = 1001 }]"),
        "cluster.default_capacity_provider_strategy[0].weight",
        "allowed: 0 to 1000",
    );
    rejects(&strategy("[]"), "cluster.default_capacity_provider_strategy", "give 1 to 20 items");
    let two = format!(
        "{}\n[host_groups.more]\ninstance_type = \"m5.large\"\ncount_per_az = 1\n[capacity_providers.cp2]\nhost_group = \"more\"\nmax_size = 4\n",
        strategy("[{ capacity_provider = \"cp\", base = 1, weight = 1 }, { capacity_provider = \"cp2\", base = 2, weight = 1 }]")
    );
    rejects(&two, "cluster.default_capacity_provider_strategy[1].base", "only one item of a strategy may have a base");
    let both = edit(
        &with_provider(""),
        "desired_count = 3",
        "desired_count = 3\nlaunch_type = \"EC2\"\ncapacity_provider_strategy = [{ capacity_provider = \"cp\", weight = 1 }]",
    );
    rejects(&both, "workload.web.capacity_provider_strategy", "not both");
    // The group replaces its failed instances itself: a fixed group's replacement delay does
    // not apply to it, and the group's health-check delay needs a group.
    rejects(
        &(with_provider("") + "\n[failures.host_groups.main]\nmtbf = \"30d\"\nreplacement_delay = \"5m\"\n"),
        "failures.host_groups.main.replacement_delay",
        "asg_health_check_delay",
    );
    rejects(
        &(BASE.to_string() + "\n[failures]\nasg_health_check_delay = \"2m\"\n"),
        "failures.asg_health_check_delay",
        "only with a capacity provider",
    );
}

#[test]
fn an_empty_host_group_needs_a_capacity_provider() {
    // Without a provider, an empty group is refused (count_per_az_zero_is_out_of_range).
    let case = Case::new();
    let scenario = case.scenario(&with_provider("").replace("count_per_az = 2", "count_per_az = 0"));
    let o = case.clustersim(&["validate", scenario.to_str().unwrap()]);
    assert!(o.status.success(), "an Auto Scaling group may start empty: {}", stderr(&o));
}

#[test]
fn a_deployed_service_uses_a_capacity_provider() {
    let deployed = edit(&with_provider(""), "desired_count = 3", "desired_count = 3\ndeployments = [{ at = \"5m\" }]");
    let case = Case::new();
    for fine in [
        deployed.clone(),
        edit(&deployed, "desired_count = 3", "desired_count = 3\nlaunch_type = \"EC2\""),
        edit(&deployed, "max_size = 10", "max_size = 10\nmanaged_termination_protection = true"),
        edit(&deployed, "max_size = 10", "max_size = 10\nspot = { interruptions_per_instance_hour = 0.2, price_fraction = 0.35 }"),
    ] {
        let scenario = case.scenario(&fine);
        assert_eq!(case.validate(&scenario).status.code(), Some(0));
        let o = case.run(&scenario, &[]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
}

#[test]
fn service_auto_scaling_mistakes_name_their_key() {
    let scaled = |t: &str| edit(BASE, "desired_count = 3", &format!("desired_count = 3\n[workload.web.auto_scaling]\n{t}"));
    let ok = "min_capacity = 1\nmax_capacity = 10\nload = { rate_per_s = 50 }\ncpu_seconds_per_request = 0.01\npolicies = [{ metric = \"cpu\", target = 60 }]";
    let case = Case::new();
    let scenario = case.scenario(&scaled(ok));
    let o = case.run(&scenario, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    rejects(
        &scaled(&ok.replace("max_capacity = 10", "max_capacity = 2")),
        "workload.web.desired_count",
        "outside auto_scaling's min_capacity 1 to max_capacity 2",
    );
    rejects(&scaled(&ok.replace("max_capacity = 10\n", "")), "workload.web.auto_scaling.max_capacity", "missing (required)");
    rejects(
        &scaled(&ok.replace("\"cpu\"", "\"disk\"")),
        "workload.web.auto_scaling.policies[0].metric",
        "allowed: cpu, memory, requests_per_target",
    );
    rejects(&scaled(&ok.replace("\"cpu\"", "\"memory\"")), "workload.web.auto_scaling.policies[0].metric", "a usage model in [memory.");
    let step = |steps: &str| {
        ok.replace(
            "policies = [{ metric = \"cpu\", target = 60 }]",
            &format!("step_policies = [{{ metric = \"cpu\", alarm = {{ threshold = 70 }}, steps = {steps} }}]"),
        )
    };
    let case = Case::new();
    let valid = case.scenario(&scaled(&step("[{ lower = 0, adjustment = 1 }]")));
    let v = case.validate(&valid);
    assert_eq!(v.status.code(), Some(0), "validate: {}", stderr(&v));
    let gap = "[{ lower = 0, upper = 10, adjustment = 1 }, { lower = 20, adjustment = 2 }]";
    rejects(&scaled(&step(gap)), "workload.web.auto_scaling.step_policies[0].steps", "overlap or leave a gap");
    rejects(&scaled(&step("[{ adjustment = 1 }]")), "workload.web.auto_scaling.step_policies[0].steps[0].lower", "lower or an upper");
    rejects(&scaled(&step("[{ lower = -10, adjustment = -1 }]")), "workload.web.auto_scaling.step_policies[0].steps", "no lower bound");
    let many =
        format!("[{}]", (0..21).map(|i| format!("{{ lower = {i}, upper = {}, adjustment = 1 }}", i + 1)).collect::<Vec<_>>().join(", "));
    rejects(&scaled(&step(&many)), "workload.web.auto_scaling.step_policies[0].steps", "1 to 20");
    rejects(&scaled(&ok.replace("target = 60", "target = 150")), "workload.web.auto_scaling.policies[0].target", "at most 100");
    rejects(
        &scaled(&ok.replace("cpu_seconds_per_request = 0.01\n", "")),
        "workload.web.auto_scaling.policies[0].metric",
        "cpu_seconds_per_request > 0",
    );
    rejects(
        &scaled(&ok.replace("policies = [{ metric = \"cpu\", target = 60 }]", "policies = []")),
        "workload.web.auto_scaling.policies",
        "give 1 to 50",
    );
    rejects(
        &scaled(&ok.replace("load = { rate_per_s = 50 }\n", "")),
        "workload.web.auto_scaling.policies[0].metric",
        "need auto_scaling.load",
    );
    let jobs =
        edit(BASE, "arrival = { rate_per_s = 0.05 }", &format!("arrival = {{ rate_per_s = 0.05 }}\n[workload.jobs.auto_scaling]\n{ok}"));
    rejects(&jobs, "workload.jobs.auto_scaling", "this workload is not a service");
    // With deployments it validates and runs: scaling moves the desired count the steps follow.
    let deployed = edit(&scaled(ok), "desired_count = 3", "desired_count = 3\ndeployments = [{ at = \"5m\" }]");
    let case = Case::new();
    let scenario = case.scenario(&deployed);
    assert_eq!(case.validate(&scenario).status.code(), Some(0));
    let r = case.run(&scenario, &["--jobs", "1"]);
    assert_eq!(r.status.code(), Some(0), "run: {}", stderr(&r));
}

#[test]
fn fargate_capacity_provider_mistakes_are_refused() {
    // A Fargate-only cluster: no host groups.
    let fargate = |extra: &str| {
        format!(
            "name = \"spot\"\nseed = 1\nhorizon = \"10m\"\ntask_definitions = [\"taskdefs/api-fargate.json\"]\n[cluster]\nazs = [\"us-east-1a\"]\n\
             [network]\n[network.subnets.a]\naz = \"us-east-1a\"\ncidr = \"10.0.1.0/24\"\n[workload.api]\nkind = \"service\"\n\
             task_definition = \"api-fargate\"\ndesired_count = 2\nsubnets = [\"a\"]\n{extra}\n"
        )
    };
    let spot = "capacity_provider_strategy = [{ capacity_provider = \"FARGATE\", base = 1, weight = 1 }, { capacity_provider = \"FARGATE_SPOT\", weight = 1 }]";
    let case = Case::new();
    let scenario = case.scenario(&(fargate(spot) + "[fargate_spot]\ninterruptions_per_task_hour = 0.1\n"));
    let o = case.run(&scenario, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let on_ec2 = edit(
        BASE,
        "desired_count = 3",
        "desired_count = 3\ncapacity_provider_strategy = [{ capacity_provider = \"FARGATE\", weight = 1 }]",
    );
    rejects(&on_ec2, "workload.web.capacity_provider_strategy", "need a task definition that runs only on Fargate");
    rejects(
        &fargate("capacity_provider_strategy = [{ capacity_provider = \"FARGATE\", weight = 0 }]"),
        "workload.api.capacity_provider_strategy",
        "every weight is 0",
    );
    rejects(
        &(fargate("") + "[fargate_spot]\ninterruptions_per_task_hour = 0.1\n"),
        "fargate_spot",
        "no workload's capacity_provider_strategy names FARGATE_SPOT",
    );
    rejects(
        &(fargate(spot) + "[fargate_spot]\ncapacity_shortages = [{ az = \"nowhere\", start = \"1m\", end = \"2m\" }]\n"),
        "fargate_spot.capacity_shortages[0].az",
        "not one of cluster.azs",
    );
    rejects(
        &(fargate(spot) + "[fargate_spot]\ncapacity_shortages = [{ az = \"us-east-1a\", start = \"2m\", end = \"1m\" }]\n"),
        "fargate_spot.capacity_shortages[0].end",
        "must be after start",
    );
    rejects(&(fargate(spot) + "[prices]\nfargate_spot_discount = 1.5\n"), "prices.fargate_spot_discount", "allowed");
}

#[test]
fn scheduled_actions_and_the_scale_out_estimate_name_their_key() {
    let scaled = |t: &str| {
        edit(
            BASE,
            "desired_count = 3",
            &format!(
                "desired_count = 3\n[workload.web.auto_scaling]\nmin_capacity = 1\nmax_capacity = 10\nload = {{ rate_per_s = 5 }}\npolicies = [{{ metric = \"requests_per_target\", target = 100 }}]\n{t}"
            ),
        )
    };
    rejects(
        &scaled("scheduled_actions = [{ at = \"1m\" }]"),
        "workload.web.auto_scaling.scheduled_actions[0].min_capacity",
        "give min_capacity, max_capacity or both",
    );
    rejects(
        &scaled("scheduled_actions = [{ at = \"1m\", min_capacity = 5, max_capacity = 2 }]"),
        "workload.web.auto_scaling.scheduled_actions[0].min_capacity",
        "must not be above",
    );
    rejects(
        &scaled("scheduled_actions = [{ at = \"5m\", min_capacity = 2 }, { at = \"1m\", min_capacity = 3 }]"),
        "workload.web.auto_scaling.scheduled_actions[1].at",
        "increasing time order",
    );
    rejects(
        &with_provider("scale_out_estimate = \"guess\""),
        "capacity_providers.cp.scale_out_estimate",
        "allowed: bin_pack, minimum_step",
    );
}

#[test]
fn a_blue_green_service_may_use_a_provider_that_drains_busy_instances() {
    let alb = "type = \"alb\"\nsubnets = [\"a\", \"b\"]";
    let web = "load_balancer = \"front\"\nstrategy = \"blue_green\"\nbake_time = \"5m\"";
    let text = edit(
        &with_load_balancer(alb, web),
        "reserved_memory = \"256MiB\"",
        "reserved_memory = \"256MiB\"\ndefault_capacity_provider_strategy = [{ capacity_provider = \"cp\", weight = 1 }]",
    );
    let with = |extra: &str| format!("{text}\n[capacity_providers.cp]\nhost_group = \"main\"\nmax_size = 10\n{extra}\n");
    for extra in ["", "managed_termination_protection = true"] {
        let case = Case::new();
        let scenario = case.scenario(&with(extra));
        assert_eq!(case.validate(&scenario).status.code(), Some(0), "{}", stderr(&case.validate(&scenario)));
        let o = case.run(&scenario, &[]);
        assert!(o.status.success(), "{extra}: {}", stderr(&o));
    }
}
