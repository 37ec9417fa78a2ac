//! Property tests of the input layer: whatever bytes a scenario or task-definition file holds,
//! loading it never panics; mutations of a valid scenario either fail validation with an error or
//! run with every invariant intact; and scenarios generated from a grammar of valid inputs always
//! validate and run (with the indexed placement checked against the full-scan oracle).
//!
//! Everything goes through the library rather than the binary, for speed.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use clustersim::model::taskdef::TaskDefinition;
use clustersim::placement::StrategyRegistry;
use clustersim::scenario::sweep::Plan;
use clustersim::scenario::{RawScenario, Scenario};
use clustersim::sim::{self, RunOptions, RunResult};
use clustersim::workload::Arrivals;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use tempfile::TempDir;
use toml::Value;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// Counts how many cases of a property reached a stage, so a property that silently stops
/// exercising anything (every case rejected early) fails instead of passing vacuously.
#[derive(Default)]
struct Reached(std::sync::atomic::AtomicUsize);

impl Reached {
    fn hit(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn count(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// `default` cases, or `PROPTEST_CASES` when set (for a longer hunt).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn runner(cases: u32) -> TestRunner {
    // No regression files: this suite must not write into the source tree.
    TestRunner::new(Config { cases, failure_persistence: None, rng_seed: seed(), ..Config::default() })
}

/// Runs a property and turns a failure (with its shrunk input) into a test failure.
fn check<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    if let Err(e) = runner(self::cases(cases)).run(&strategy, test) {
        panic!("{e}");
    }
}

/// A directory with copies of the shipped task definitions under `taskdefs/` and a small trace
/// under `traces/`, so generated scenarios can refer to them.
fn workspace() -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let taskdefs = dir.path().join("taskdefs");
    fs::create_dir(&taskdefs).expect("mkdir");
    for e in fs::read_dir(Path::new(REPO).join("scenarios/taskdefs")).expect("scenarios/taskdefs") {
        let p = e.expect("entry").path();
        fs::copy(&p, taskdefs.join(p.file_name().expect("name"))).expect("copy");
    }
    fs::create_dir(dir.path().join("traces")).expect("mkdir");
    fs::write(dir.path().join("traces/jobs.csv"), "time_s,family,duration_s,count\n0,worker,60,2\n30,web,120,1\n90.5,worker,0,3\n")
        .expect("write trace");
    dir
}

/// Loads `text` as if it were the file `path`: parse, then expand and validate. Any `Err` is fine.
fn load(text: &str, path: &Path) -> Option<Plan> {
    let raw = RawScenario::parse(text, path, 0).ok()?;
    Plan::build(&raw, None, &StrategyRegistry::new()).ok()
}

// ---------------------------------------------------------------------------------------------
// Bounding what a mutated scenario may ask the simulator to do
// ---------------------------------------------------------------------------------------------

/// Whether a run of `s` stays small enough for a property test: few hosts, few tasks, few samples.
/// (Without the host bound a mutated `count_per_az` makes `sim::run` allocate the fleet and
/// abort the process — see `count_per_az` in the report.)
fn affordable(s: &Scenario) -> bool {
    let horizon_s = s.horizon.as_secs_f64();
    if s.host_count() > 2_000 || horizon_s > 4.0 * 3600.0 || horizon_s / s.sample_interval.as_secs_f64() > 20_000.0 {
        return false;
    }
    let launches_per_service = f64::from(s.service_scheduler.launch_rate_per_min) * (horizon_s / 60.0 + 1.0);
    let tasks: f64 = s
        .workloads
        .iter()
        .map(|w| match &w.arrivals {
            Arrivals::Service { desired_count } => {
                let d = f64::from(*desired_count);
                let restarts = d * horizon_s / w.run_time.mean_secs();
                d + restarts.min(launches_per_service)
            }
            Arrivals::Poisson(schedule) => schedule.steps.iter().map(|&(_, rate)| rate).fold(0.0, f64::max) * horizon_s + 1.0,
            Arrivals::Batch { count, .. } => f64::from(*count),
            Arrivals::Trace(records) => records.iter().map(|r| f64::from(r.count)).sum(),
        })
        .sum();
    tasks <= 50_000.0
}

/// Runs the first run of `plan` and requires `Ok` (a conservation invariant holds).
fn run_first(plan: &Plan, options: RunOptions) -> Result<Option<RunResult>, TestCaseError> {
    let spec = &plan.run(0).unwrap();
    if !affordable(&spec.scenario) {
        return Ok(None);
    }
    match sim::run(&spec.scenario, spec.seed, options) {
        Ok(r) => Ok(Some(r)),
        Err(e) => Err(TestCaseError::fail(format!("sim::run broke an invariant: {e}"))),
    }
}

// ---------------------------------------------------------------------------------------------
// Arbitrary bytes
// ---------------------------------------------------------------------------------------------

#[test]
fn random_bytes_as_a_scenario_never_panic() {
    let ws = workspace();
    let path = ws.path().join("scenario.toml");
    check(256, prop::collection::vec(any::<u8>(), 0..2048), |bytes| {
        let text = String::from_utf8_lossy(&bytes);
        let _ = load(&text, &path);
        Ok(())
    });
}

#[test]
fn random_printable_text_as_a_scenario_never_panics() {
    let ws = workspace();
    let path = ws.path().join("scenario.toml");
    check(256, "\\PC{0,1024}", |text| {
        let _ = load(&text, &path);
        Ok(())
    });
}

/// Text made of TOML-ish fragments reaches the validator far more often than arbitrary text.
#[test]
fn random_toml_fragments_as_a_scenario_never_panic() {
    const FRAGMENTS: &[&str] = &[
        "name = \"x\"\n",
        "horizon = \"10m\"\n",
        "horizon = \"0s\"\n",
        "seed = -1\n",
        "task_definitions = [\"taskdefs/web.json\"]\n",
        "task_definitions = [\"taskdefs/web.json\", \"taskdefs/web.json\"]\n",
        "[cluster]\n",
        "azs = [\"a\", \"b\"]\n",
        "azs = []\n",
        "[host_groups.g]\n",
        "instance_type = \"m5.large\"\n",
        "count_per_az = 1\n",
        "[workload.w]\n",
        "kind = \"service\"\n",
        "kind = \"poisson\"\n",
        "kind = \"batch\"\n",
        "kind = \"trace\"\n",
        "file = \"traces/jobs.csv\"\n",
        "task_definition = \"web\"\n",
        "desired_count = 2\n",
        "at = \"1m\"\n",
        "count = 3\n",
        "arrival = { rate_per_s = 0.5 }\n",
        "[workload.w.arrival]\n",
        "schedule = [{ from = \"0s\", rate_per_s = 1 }]\n",
        "period = \"0s\"\n",
        "placement = { strategy = \"binpack(memory),spread(instanceId)\" }\n",
        "placement = { constraints = [\"memberOf(attribute:ecs.instance-type =~ m5.*)\"] }\n",
        "[sweep]\n",
        "[[sweep.axis]]\n",
        "key = \"workload.w.desired_count\"\n",
        "values = [1, 2]\n",
        "from = 1\nto = 3\nstep = 1\n",
        "[report]\n",
        "metrics = [\"hosts_used_mean\"]\n",
        "[",
        "]",
        "=",
        "\"",
        "\n",
        "é",
    ];
    let ws = workspace();
    let path = ws.path().join("scenario.toml");
    let (parsed, validated) = (Reached::default(), Reached::default());
    check(256, prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40), |parts| {
        let text = parts.concat();
        let Ok(raw) = RawScenario::parse(&text, &path, 0) else { return Ok(()) };
        parsed.hit();
        if Plan::build(&raw, None, &StrategyRegistry::new()).is_ok() {
            validated.hit();
        }
        Ok(())
    });
    let n = cases(256) as usize;
    eprintln!("fragments: {} of {n} parsed, {} validated", parsed.count(), validated.count());
    assert!(parsed.count() >= n / 25, "only {} of {n} fragment scenarios parsed as TOML", parsed.count());
}

#[test]
fn random_bytes_as_a_task_definition_never_panic() {
    check(256, prop::collection::vec(any::<u8>(), 0..2048), |bytes| {
        let _ = TaskDefinition::from_json_str(&String::from_utf8_lossy(&bytes), "fuzz.json");
        Ok(())
    });
}

const JSON_KEYS: &[&str] = &[
    "family",
    "taskDefinition",
    "containerDefinitions",
    "name",
    "image",
    "cpu",
    "memory",
    "memoryReservation",
    "essential",
    "portMappings",
    "containerPort",
    "hostPort",
    "containerPortRange",
    "protocol",
    "networkMode",
    "requiresCompatibilities",
    "executionRoleArn",
    "logConfiguration",
    "logDriver",
    "dependsOn",
    "containerName",
    "proxyConfiguration",
];

const JSON_STRINGS: &[&str] = &[
    "web",
    "app",
    "bridge",
    "awsvpc",
    "host",
    "none",
    "AWSVPC",
    "EC2",
    "FARGATE",
    "ec2",
    "tcp",
    "udp",
    "TCP",
    "512",
    "0.25 vCPU",
    "1 GB",
    "0.5GB",
    "-1",
    "1.5",
    "0",
    "{{ x }}",
    "${X}",
    "",
    " ",
    "99999999999999999999",
];

/// Arbitrary JSON built from the field names the task-definition parser looks at.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as J;
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        (-70_000i64..70_000).prop_map(J::from),
        prop::sample::select(vec![0i64, -1, 1, 65_535, 65_536, i64::from(u32::MAX), i64::MAX, i64::MIN]).prop_map(J::from),
        prop::sample::select(vec![0.5, 512.0, -0.0, 1e300, 4294967296.0]).prop_map(J::from),
        any::<u64>().prop_map(J::from),
        prop::sample::select(JSON_STRINGS).prop_map(J::from),
        "\\PC{0,8}".prop_map(J::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
            prop::collection::vec((prop::sample::select(JSON_KEYS), inner), 0..7)
                .prop_map(|kv| J::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

#[test]
fn random_task_definition_shaped_json_never_panics() {
    let accepted = Reached::default();
    check(256, json_value(), |value| {
        let text = value.to_string();
        if let Ok(td) = TaskDefinition::from_json_str(&text, "fuzz.json") {
            accepted.hit();
            // An accepted definition answers every question placement asks without panicking.
            let _ = (td.reserved_memory_mib(), td.reserved_cpu_units(), td.static_host_ports(), td.is_fargate());
            prop_assert!(!td.containers.is_empty(), "accepted a task definition without containers: {text}");
            prop_assert!(td.containers.iter().any(|c| c.essential), "accepted a task definition without an essential container: {text}");
        }
        Ok(())
    });
    eprintln!("task-definition JSON: {} of {} accepted", accepted.count(), cases(256));
}

/// As [`mutate_toml_leaf`], for JSON.
fn mutate_json_leaf(v: &mut serde_json::Value, choices: &[u32], m: &Mutation<serde_json::Value>) {
    use serde_json::Value as J;
    let c = choices.first().copied().unwrap_or(0) as usize;
    let rest = if choices.len() > 1 { &choices[1..] } else { choices };
    match v {
        J::Object(o) if !o.is_empty() => {
            let key = o.keys().nth(c % o.len()).expect("in range").clone();
            mutate_json_leaf(o.get_mut(&key).expect("exists"), rest, m);
        }
        J::Array(a) if !a.is_empty() => {
            let n = a.len();
            mutate_json_leaf(&mut a[c % n], rest, m);
        }
        J::Number(_) => *v = J::from(m.int),
        J::String(_) => *v = J::from(m.string),
        J::Bool(b) => *b = !*b,
        J::Null => *v = J::from(m.int),
        _ => {}
    }
}

/// Sets, adds or deletes the member reached by walking `choices` (objects and arrays).
fn set_json_path(v: &mut serde_json::Value, choices: &[u32], value: serde_json::Value) {
    use serde_json::Value as J;
    let Some((&c, rest)) = choices.split_first() else {
        *v = value;
        return;
    };
    let c = c as usize;
    match v {
        J::Object(o) => {
            let keys: Vec<String> = o.keys().cloned().collect();
            let key =
                if c % (keys.len() + 1) < keys.len() { keys[c % (keys.len() + 1)].clone() } else { JSON_KEYS[c % JSON_KEYS.len()].into() };
            if rest.is_empty() && c.is_multiple_of(7) {
                o.remove(&key);
            } else {
                set_json_path(o.entry(key).or_insert(J::Null), rest, value);
            }
        }
        J::Array(a) if !a.is_empty() => {
            let n = a.len();
            if rest.is_empty() && c.is_multiple_of(5) {
                a.push(value);
            } else {
                set_json_path(&mut a[c % n], rest, value);
            }
        }
        other => *other = value,
    }
}

#[test]
fn structural_mutations_of_valid_task_definitions_never_panic() {
    let dir = Path::new(REPO).join("scenarios/taskdefs");
    let bases: Vec<serde_json::Value> = ["scorekeep.json", "scorekeep-described.json", "web.json", "worker.json", "api-fargate.json"]
        .iter()
        .map(|f| serde_json::from_str(&fs::read_to_string(dir.join(f)).expect("read")).expect("json"))
        .collect();
    let (accepted, rejected) = (Reached::default(), Reached::default());
    check(256, (0..bases.len(), prop::collection::vec(mutation(JSON_STRINGS, json_value()), 1..4)), |(b, mutations)| {
        let mut value = bases[b].clone();
        for m in &mutations {
            if m.same_type {
                mutate_json_leaf(&mut value, &m.path, m);
            } else {
                set_json_path(&mut value, &m.path, m.any.clone());
            }
        }
        let text = serde_json::to_string_pretty(&value).expect("serialise");
        match TaskDefinition::from_json_str(&text, "fuzz.json") {
            Ok(td) => {
                accepted.hit();
                let _ = (td.reserved_memory_mib(), td.reserved_cpu_units(), td.static_host_ports(), td.is_fargate());
                prop_assert!(td.containers.iter().any(|c| c.essential), "accepted without an essential container: {text}");
            }
            Err(e) => {
                rejected.hit();
                prop_assert!(e.json_path.starts_with('$'), "error without a JSON path: {e}");
                prop_assert!(e.to_string().contains("fuzz.json"), "error without the file name: {e}");
            }
        }
        Ok(())
    });
    eprintln!("task-definition mutations: {} accepted, {} rejected", accepted.count(), rejected.count());
    let n = cases(256) as usize;
    assert!(accepted.count() >= n / 25 && rejected.count() >= n / 25, "{} accepted, {} rejected", accepted.count(), rejected.count());
}

// ---------------------------------------------------------------------------------------------
// Mutations of a valid scenario
// ---------------------------------------------------------------------------------------------

/// quickstart.toml made short: a 10-minute horizon, its batch moved inside it.
fn short_quickstart() -> String {
    let text = fs::read_to_string(Path::new(REPO).join("scenarios/quickstart.toml")).expect("quickstart.toml");
    let text = set_horizon(&text);
    assert!(text.contains("at = \"4h\""), "quickstart.toml changed: update short_quickstart()");
    text.replace("at = \"4h\"", "at = \"4m\"")
}

fn set_horizon(text: &str) -> String {
    let re = regex::Regex::new(r#"(?m)^horizon\s*=.*$"#).expect("regex");
    re.replace_all(text, "horizon = \"10m\"").into_owned()
}

#[derive(Debug, Clone)]
enum Edit {
    /// Replace the n-th number (mod the count) with `value`.
    Number(usize, i64),
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let n = lines.len().max(1);
    match *edit {
        Edit::Number(k, value) => {
            let re = regex::Regex::new(r"\d+(\.\d+)?").expect("regex");
            let spans: Vec<_> = re.find_iter(text).map(|m| m.range()).collect();
            if spans.is_empty() {
                return text.to_string();
            }
            let r = spans[k % spans.len()].clone();
            return format!("{}{value}{}", &text[..r.start], &text[r.end..]);
        }
        Edit::Delete(i) => {
            if !lines.is_empty() {
                lines.remove(i % n);
            }
        }
        Edit::Duplicate(i) => {
            if !lines.is_empty() {
                lines.insert(i % n, lines[i % n]);
            }
        }
        Edit::Swap(i, j) => {
            if !lines.is_empty() {
                lines.swap(i % n, j % n);
            }
        }
    }
    lines.join("\n") + "\n"
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), -5i64..100_000).prop_map(|(k, v)| Edit::Number(k, v)),
        1 => any::<usize>().prop_map(Edit::Delete),
        1 => any::<usize>().prop_map(Edit::Duplicate),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Edit::Swap(i, j)),
    ]
}

#[test]
fn the_short_quickstart_is_valid_and_runs() {
    let ws = workspace();
    let path = ws.path().join("scenario.toml");
    fs::write(&path, short_quickstart()).expect("write");
    let raw = RawScenario::read(&path).expect("parses");
    let plan = Plan::build(&raw, None, &StrategyRegistry::new()).expect("validates");
    assert!(affordable(&plan.run(0).unwrap().scenario));
    sim::run(&plan.run(0).unwrap().scenario, plan.run(0).unwrap().seed, RunOptions { record_tasks: true, explain: true }).expect("runs");
}

/// 1–3 text edits of `base` per case (`shorten`: the horizon set back to 10 minutes after the
/// edits): loading never panics, and whatever validates runs with its invariants intact. Returns
/// how many cases validated and how many ran.
fn text_mutations(base: &str, cases_default: u32, shorten: bool) -> (usize, usize) {
    let ws = workspace();
    let path = ws.path().join("scenario.toml");
    let (validated, ran) = (Reached::default(), Reached::default());
    check(cases_default, prop::collection::vec(edit_strategy(), 1..4), |edits| {
        let mut text = base.to_string();
        for e in &edits {
            text = apply(&text, e);
        }
        let text = if shorten { set_horizon(&text) } else { text };
        fs::write(&path, &text).expect("write");
        let Ok(raw) = RawScenario::read(&path) else { return Ok(()) };
        let Ok(plan) = Plan::build(&raw, None, &StrategyRegistry::new()) else { return Ok(()) };
        validated.hit();
        if run_first(&plan, RunOptions::default())?.is_some() {
            ran.hit();
        }
        Ok(())
    });
    (validated.count(), ran.count())
}

#[test]
fn mutations_of_a_valid_scenario_never_panic_and_runs_keep_their_invariants() {
    let (validated, ran) = text_mutations(&short_quickstart(), 256, true);
    let n = cases(256) as usize;
    eprintln!("text mutations: {validated} of {n} validated, {ran} ran");
    assert!(ran >= n / 10, "only {ran} of {n} mutated scenarios ran");
}

#[test]
fn mutations_of_an_auto_scaling_group_under_an_az_outage_never_panic_and_keep_their_invariants() {
    // asg-az-outage.toml: capacity providers, managed scaling, draining, a failure window and
    // AZ rebalancing in one small run; its numbers, lines and keys mutated (the horizon kept, so
    // the outage and the return stay inside it).
    let base = fs::read_to_string(Path::new(REPO).join("scenarios/asg-az-outage.toml")).expect("asg-az-outage.toml");
    let base = base + "[failures.host_groups.main]\nmtbf = \"2h\"\n";
    let (validated, ran) = text_mutations(&base, 128, false);
    let n = cases(128) as usize;
    eprintln!("auto scaling group mutations: {validated} of {n} validated, {ran} ran");
    assert!(ran >= n / 10, "only {ran} of {n} mutated scenarios ran");
}

/// One structural edit of a parsed file: most replace an existing leaf with a value of the same
/// type (so the result often still validates and runs); the rest set an existing or vocabulary
/// key path to an arbitrary value.
#[derive(Debug, Clone)]
struct Mutation<V> {
    /// One choice per level of the walk.
    path: Vec<u32>,
    same_type: bool,
    int: i64,
    float: f64,
    string: &'static str,
    any: V,
}

fn mutation<V: std::fmt::Debug + Clone>(
    strings: &'static [&'static str],
    arbitrary: impl Strategy<Value = V>,
) -> impl Strategy<Value = Mutation<V>> {
    let int = prop_oneof![
        4 => 0i64..20,
        2 => -5i64..100_000,
        1 => prop::sample::select(vec![-1i64, 0, 1, 5_000, 5_001, 65_535, 65_536, i64::from(u32::MAX), i64::from(u32::MAX) + 1, i64::MAX, i64::MIN]),
    ];
    let float = prop_oneof![
        4 => 0.0f64..3.0,
        1 => prop::sample::select(vec![0.0, -0.5, 1e-300, 1e300, -1e300, f64::NAN, f64::INFINITY, f64::NEG_INFINITY]),
    ];
    (prop::collection::vec(any::<u32>(), 1..6), prop::bool::weighted(0.75), int, float, prop::sample::select(strings), arbitrary)
        .prop_map(|(path, same_type, int, float, string, any)| Mutation { path, same_type, int, float, string, any })
}

/// Replaces the leaf reached by walking `choices` (repeating the last one) with a value of the
/// same type taken from `m`.
fn mutate_toml_leaf(v: &mut Value, choices: &[u32], m: &Mutation<Value>) {
    let c = choices.first().copied().unwrap_or(0) as usize;
    let rest = if choices.len() > 1 { &choices[1..] } else { choices };
    match v {
        Value::Table(t) if !t.is_empty() => {
            let key = t.keys().nth(c % t.len()).expect("in range").clone();
            mutate_toml_leaf(t.get_mut(&key).expect("exists"), rest, m);
        }
        Value::Array(a) if !a.is_empty() => {
            let n = a.len();
            mutate_toml_leaf(&mut a[c % n], rest, m);
        }
        Value::Integer(_) => *v = Value::Integer(m.int),
        Value::Float(_) => *v = Value::Float(m.float),
        Value::String(_) => *v = Value::String(m.string.to_string()),
        Value::Boolean(b) => *b = !*b,
        _ => {}
    }
}

/// Structural mutations: 1–3 edits of the parsed quickstart (see [`Mutation`]).
#[test]
fn structural_mutations_of_a_valid_scenario_never_panic_and_runs_keep_their_invariants() {
    let ws = workspace();
    let path = ws.path().join("scenario.toml");
    let base = RawScenario::parse(&short_quickstart(), &path, 0).expect("parses");
    let (validated, ran) = (Reached::default(), Reached::default());
    check(256, prop::collection::vec(mutation(STRINGS, toml_value()), 1..4), |mutations| {
        let mut raw = base.clone();
        for m in &mutations {
            if m.same_type {
                let mut root = Value::Table(std::mem::take(&mut raw.table));
                mutate_toml_leaf(&mut root, &m.path, m);
                let Value::Table(t) = root else { unreachable!("the root stays a table") };
                raw.table = t;
            } else {
                set_random_path(&mut raw.table, &m.path, m.any.clone());
            }
        }
        let Ok(plan) = Plan::build(&raw, None, &StrategyRegistry::new()) else { return Ok(()) };
        validated.hit();
        if run_first(&plan, RunOptions::default())?.is_some() {
            ran.hit();
        }
        Ok(())
    });
    let n = cases(256) as usize;
    eprintln!("structural mutations: {} of {n} validated, {} ran", validated.count(), ran.count());
    assert!(ran.count() >= n / 25, "only {} of {n} mutated scenarios ran", ran.count());
}

const KEYS: &[&str] = &[
    "name",
    "seed",
    "horizon",
    "warmup",
    "sample_interval",
    "task_definitions",
    "cluster",
    "azs",
    "registered_memory_fraction",
    "reserved_memory",
    "instance_types",
    "vcpu",
    "memory",
    "max_enis",
    "trunk_task_limit",
    "hourly_usd",
    "host_groups",
    "instance_type",
    "count_per_az",
    "attributes",
    "workload",
    "kind",
    "task_definition",
    "desired_count",
    "arrival",
    "rate_per_s",
    "schedule",
    "from",
    "period",
    "at",
    "count",
    "file",
    "run_time",
    "distribution",
    "mean",
    "std_dev",
    "min",
    "max",
    "value",
    "start_delay",
    "placement",
    "strategy",
    "constraints",
    "type",
    "field",
    "expression",
    "group",
    "service_scheduler",
    "launch_rate_per_min",
    "retry_initial",
    "retry_max",
    "report",
    "metrics",
    "tolerance",
    "sweep",
    "replications",
    "axis",
    "key",
    "values",
    "to",
    "step",
    "web",
    "jobs",
    "m5.large",
];

const STRINGS: &[&str] = &[
    "10m",
    "0s",
    "-1s",
    "1us",
    "90",
    "5 fortnights",
    "forever",
    "1.5d",
    "99999999999999999999999d",
    "512MiB",
    "-1GiB",
    "64GiB",
    "0",
    "m5.large",
    "t3.medium",
    "m5.*",
    "x.huge",
    "us-east-1a",
    "us-east-1d",
    "service",
    "poisson",
    "batch",
    "trace",
    "cron",
    "web",
    "worker",
    "scorekeep",
    "api-fargate",
    "taskdefs/web.json",
    "taskdefs/api-fargate.json",
    "taskdefs/missing.json",
    "traces/jobs.csv",
    "binpack(memory)",
    "binpack(cpu)",
    "binpack(disk)",
    "binpack(",
    "spread(attribute:ecs.availability-zone)",
    "spread(instanceId)",
    "spread(attribute:pool)",
    "spread()",
    "random",
    "random(x)",
    "firstfit",
    "binpack(memory),spread(instanceId),random",
    "distinctInstance",
    "memberOf(attribute:ecs.instance-type =~ m5.*)",
    "memberOf(attribute:pool == compute)",
    "memberOf(attribute:ecs.instance-type in [m5.large, c5.large])",
    "memberOf(task:group == service:web)",
    "memberOf(runningTasksCount < 3)",
    "memberOf(((((",
    "memberOf(attribute:ecs.instance-type =~ ([)",
    "exponential",
    "lognormal",
    "uniform",
    "constant",
    "placement_failure_rate",
    "hosts_used_mean",
    "service_wait_p95_s",
    "workload.web.desired_count",
    "host_groups.general.count_per_az",
    "workload.jobs.arrival.rate_per_s",
    "instance_types.\"m5.large\".vcpu",
    "sweep.replications",
    "",
    "..",
    "\"",
    "é",
];

fn toml_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        (-5i64..100_000).prop_map(Value::Integer),
        prop::sample::select(vec![0i64, -1, 1, 5_000, 5_001, i64::from(u32::MAX), i64::from(u32::MAX) + 1, i64::MAX, i64::MIN])
            .prop_map(Value::Integer),
        prop::sample::select(vec![0.0, -0.5, 0.5, 1.0, 2.0, 1e300, -1e300, f64::NAN, f64::INFINITY, 1e-300]).prop_map(Value::Float),
        (-1.0e4f64..1.0e4).prop_map(Value::Float),
        prop::sample::select(STRINGS).prop_map(|s| Value::String(s.to_string())),
        "\\PC{0,12}".prop_map(Value::String),
        any::<bool>().prop_map(Value::Boolean),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..4)
                .prop_map(|kv| Value::Table(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

/// Walks `table` by `choices` — at each level an existing key, an array element, or (one time in
/// `len + 1`) a vocabulary key — and sets the last step to `value`.
fn set_random_path(table: &mut toml::Table, choices: &[u32], value: Value) {
    let (&last, walk) = choices.split_last().expect("at least one choice");
    let pick = |t: &toml::Table, c: u32| -> String {
        let keys: Vec<&String> = t.keys().collect();
        let i = c as usize % (keys.len() + 1);
        if i < keys.len() { keys[i].clone() } else { KEYS[c as usize % KEYS.len()].to_string() }
    };
    let mut cur = table;
    for &c in walk {
        let key = pick(cur, c);
        let next = cur.entry(key).or_insert_with(|| Value::Table(toml::Table::new()));
        let descend = match &*next {
            Value::Table(_) => true,
            Value::Array(items) => items.get(c as usize % items.len().max(1)).is_some_and(Value::is_table),
            _ => false,
        };
        if !descend {
            *next = value;
            return;
        }
        cur = match next {
            Value::Table(t) => t,
            Value::Array(items) => {
                let n = items.len();
                items[c as usize % n].as_table_mut().expect("checked above")
            }
            _ => unreachable!("checked above"),
        };
    }
    let key = pick(cur, last);
    cur.insert(key, value);
}

// ---------------------------------------------------------------------------------------------
// Scenarios from a grammar of valid inputs
// ---------------------------------------------------------------------------------------------

const INSTANCE_TYPES: [&str; 5] = ["m5.large", "m5.xlarge", "c5.large", "r5.large", "t3.medium"];
const STRATEGIES: [&str; 5] =
    ["binpack(cpu)", "binpack(memory)", "spread(attribute:ecs.availability-zone)", "spread(instanceId)", "random"];
const CONSTRAINTS: [&str; 2] = ["distinctInstance", "memberOf(attribute:ecs.instance-type =~ m5.*)"];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ports {
    None,
    Static8080,
    Dynamic,
}

#[derive(Debug, Clone)]
struct GenTaskDef {
    cpu: u32,
    memory_reservation: u32,
    ports: Ports,
}

#[derive(Debug, Clone)]
struct GenGroup {
    instance_type: &'static str,
    count_per_az: u32,
    /// Bit i: the group is in AZ i; 0 (or no AZ left) means every AZ.
    az_mask: u8,
}

#[derive(Debug, Clone)]
enum GenKind {
    Service { desired_count: u32, run_time_s: Option<u32> },
    Poisson { rate_per_s: f64, run_time_s: Option<u32> },
    Batch { at_fraction: f64, count: u32, run_time_s: u32 },
}

#[derive(Debug, Clone)]
struct GenWorkload {
    kind: GenKind,
    task_definition: usize,
    strategies: Vec<&'static str>,
    /// Write the chain as one comma-separated string instead of an array.
    as_chain: bool,
    constraints: Vec<&'static str>,
    start_delay_s: u32,
}

#[derive(Debug, Clone)]
struct GenScenario {
    seed: u64,
    azs: usize,
    horizon_min: u32,
    groups: Vec<GenGroup>,
    task_definitions: Vec<GenTaskDef>,
    workloads: Vec<GenWorkload>,
}

fn gen_scenario() -> impl Strategy<Value = GenScenario> {
    let task_def = (128u32..=2048, 128u32..=4096, prop::sample::select(vec![Ports::None, Ports::Static8080, Ports::Dynamic]))
        .prop_map(|(cpu, memory_reservation, ports)| GenTaskDef { cpu, memory_reservation, ports });
    let group = (prop::sample::select(INSTANCE_TYPES.to_vec()), 1u32..=4, any::<u8>())
        .prop_map(|(instance_type, count_per_az, az_mask)| GenGroup { instance_type, count_per_az, az_mask });
    let run_time = prop::option::of(1u32..=1200);
    let kind = prop_oneof![
        (0u32..=20, run_time.clone()).prop_map(|(desired_count, run_time_s)| GenKind::Service { desired_count, run_time_s }),
        (0.01f64..=2.0, run_time).prop_map(|(rate_per_s, run_time_s)| GenKind::Poisson { rate_per_s, run_time_s }),
        (0.0f64..0.95, 1u32..=100, 1u32..=1200).prop_map(|(at_fraction, count, run_time_s)| GenKind::Batch {
            at_fraction,
            count,
            run_time_s
        }),
    ];
    let workload = (
        kind,
        any::<usize>(),
        prop::collection::vec(prop::sample::select(STRATEGIES.to_vec()), 1..=3),
        any::<bool>(),
        prop::sample::subsequence(CONSTRAINTS.to_vec(), 0..=2),
        0u32..=30,
    )
        .prop_map(|(kind, task_definition, strategies, as_chain, constraints, start_delay_s)| GenWorkload {
            kind,
            task_definition,
            strategies,
            as_chain,
            constraints,
            start_delay_s,
        });
    (
        // TOML integers are i64.
        0..=i64::MAX as u64,
        1usize..=3,
        5u32..=30,
        prop::collection::vec(group, 1..=3),
        prop::collection::vec(task_def, 1..=3),
        prop::collection::vec(workload, 1..=3),
    )
        .prop_map(|(seed, azs, horizon_min, groups, task_definitions, workloads)| GenScenario {
            seed,
            azs,
            horizon_min,
            groups,
            task_definitions,
            workloads,
        })
}

const AZ_NAMES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

fn quote_list(items: &[&str]) -> String {
    format!("[{}]", items.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", "))
}

impl GenScenario {
    fn group_azs(&self, g: &GenGroup) -> Option<Vec<&'static str>> {
        let chosen: Vec<&str> = (0..self.azs).filter(|i| g.az_mask & (1 << i) != 0).map(|i| AZ_NAMES[i]).collect();
        (!chosen.is_empty() && g.az_mask & 0x80 != 0).then_some(chosen)
    }

    fn render_task_definition(i: usize, td: &GenTaskDef) -> String {
        let ports = match td.ports {
            Ports::None => String::new(),
            Ports::Static8080 => ", \"portMappings\": [{ \"containerPort\": 8080, \"hostPort\": 8080, \"protocol\": \"tcp\" }]".into(),
            Ports::Dynamic => ", \"portMappings\": [{ \"containerPort\": 80, \"hostPort\": 0 }]".into(),
        };
        format!(
            "{{\n  \"family\": \"td{i}\",\n  \"networkMode\": \"bridge\",\n  \"requiresCompatibilities\": [\"EC2\"],\n  \
             \"containerDefinitions\": [{{ \"name\": \"app\", \"image\": \"busybox:1.36\", \"cpu\": {}, \
             \"memoryReservation\": {}, \"essential\": true{ports} }}]\n}}\n",
            td.cpu, td.memory_reservation
        )
    }

    fn render(&self) -> String {
        let mut s = String::new();
        s += &format!("name = \"generated\"\nseed = {}\nhorizon = \"{}m\"\nsample_interval = \"1m\"\n", self.seed, self.horizon_min);
        let files: Vec<String> = (0..self.task_definitions.len()).map(|i| format!("taskdefs/td{i}.json")).collect();
        s += &format!("task_definitions = {}\n\n", quote_list(&files.iter().map(String::as_str).collect::<Vec<_>>()));
        s += &format!("[cluster]\nazs = {}\n\n", quote_list(&AZ_NAMES[..self.azs]));
        for (i, g) in self.groups.iter().enumerate() {
            s += &format!("[host_groups.g{i}]\ninstance_type = \"{}\"\ncount_per_az = {}\n", g.instance_type, g.count_per_az);
            if let Some(azs) = self.group_azs(g) {
                s += &format!("azs = {}\n", quote_list(&azs));
            }
            s += "\n";
        }
        let horizon_s = f64::from(self.horizon_min) * 60.0;
        for (i, w) in self.workloads.iter().enumerate() {
            let td = w.task_definition % self.task_definitions.len();
            s += &format!("[workload.w{i}]\ntask_definition = \"td{td}\"\nstart_delay = \"{}s\"\n", w.start_delay_s);
            match &w.kind {
                GenKind::Service { desired_count, run_time_s } => {
                    s += &format!("kind = \"service\"\ndesired_count = {desired_count}\n");
                    if let Some(r) = run_time_s {
                        s += &format!("run_time = {{ distribution = \"exponential\", mean = \"{r}s\" }}\n");
                    }
                }
                GenKind::Poisson { rate_per_s, run_time_s } => {
                    s += &format!("kind = \"poisson\"\narrival = {{ rate_per_s = {rate_per_s} }}\n");
                    if let Some(r) = run_time_s {
                        s += &format!("run_time = \"{r}s\"\n");
                    }
                }
                GenKind::Batch { at_fraction, count, run_time_s } => {
                    let at = (horizon_s * at_fraction).floor();
                    s += &format!(
                        "kind = \"batch\"\nat = \"{at}s\"\ncount = {count}\nrun_time = {{ distribution = \"uniform\", min = \"1s\", max = \"{run_time_s}s\" }}\n"
                    );
                }
            }
            let strategy = if w.as_chain { format!("\"{}\"", w.strategies.join(",")) } else { quote_list(&w.strategies) };
            s += &format!("placement = {{ strategy = {strategy}, constraints = {} }}\n\n", quote_list(&w.constraints));
        }
        s
    }

    fn write(&self, dir: &Path) -> PathBuf {
        fs::create_dir_all(dir.join("taskdefs")).expect("mkdir");
        for (i, td) in self.task_definitions.iter().enumerate() {
            fs::write(dir.join(format!("taskdefs/td{i}.json")), Self::render_task_definition(i, td)).expect("write task definition");
        }
        let path = dir.join("generated.toml");
        fs::write(&path, self.render()).expect("write scenario");
        path
    }
}

/// Where each host is: (instance type name, registered resources), in `HostId` order — host
/// groups in name order, then AZs, then index, as `sim::run` builds the fleet.
fn fleet(s: &Scenario) -> Vec<(String, u32, clustersim::model::Resources)> {
    let mut hosts = Vec::new();
    for g in &s.host_groups {
        let t = &s.instance_types[g.instance_type as usize];
        for az in &g.azs {
            for _ in 0..g.count_per_az {
                hosts.push((t.name.clone(), az.0, s.registered(t)));
            }
        }
    }
    hosts
}

/// Independent checks of a run's task rows: lifecycle order, capacity, static ports and the
/// constraints, replayed from the rows alone. Releases at an instant count before acquisitions
/// at the same instant, so the replay never blames a legal order.
fn check_rows(s: &Scenario, r: &RunResult) -> Result<(), TestCaseError> {
    let hosts = fleet(s);
    let horizon = s.horizon;
    // (time, is_acquire, task index)
    let mut events: Vec<(clustersim::engine::SimTime, bool, usize)> = Vec::new();
    for (i, t) in r.tasks.iter().enumerate() {
        let ctx = || format!("task {} ({:?})", t.task, t);
        prop_assert!(t.arrived_at <= horizon, "{}: arrived after the horizon", ctx());
        prop_assert_eq!(t.placed_at.is_some(), t.host.is_some(), "{}: placed without a host or vice versa", ctx());
        if let Some(p) = t.placed_at {
            prop_assert!(t.arrived_at <= p && p <= horizon, "{}: placed before arriving or after the horizon", ctx());
            let h = t.host.expect("checked").index();
            prop_assert!(h < hosts.len(), "{}: no such host", ctx());
            prop_assert_eq!(Some(clustersim::model::AzId(hosts[h].1)), t.az, "{}: host/AZ layout differs from the scenario", ctx());
            let w = &s.workloads[t.workload as usize];
            for c in &w.placement.constraints {
                if c.to_string().starts_with("memberOf(attribute:ecs.instance-type =~ m5.") {
                    prop_assert!(hosts[h].0.starts_with("m5."), "{}: memberOf m5.* placed on {}", ctx(), hosts[h].0);
                }
            }
            events.push((p, true, i));
            if let Some(stop) = t.stopped_at {
                events.push((stop, false, i));
            }
        }
        if let (Some(p), Some(run)) = (t.placed_at, t.running_at) {
            prop_assert!(p <= run, "{}: running before placed", ctx());
        }
        if let Some(stop) = t.stopped_at {
            prop_assert!(t.arrived_at <= stop && stop <= horizon, "{}: stopped before arriving or after the horizon", ctx());
            if let Some(run) = t.running_at {
                prop_assert!(run <= stop, "{}: stopped before running", ctx());
            }
        }
    }
    events.sort_by_key(|&(time, acquire, i)| (time, acquire, i));
    let mut used = vec![(0u64, 0u64); hosts.len()];
    let mut ports: BTreeMap<(usize, u16), usize> = BTreeMap::new();
    let mut group_on_host: BTreeMap<(usize, &str), u32> = BTreeMap::new();
    for (time, acquire, i) in events {
        let t = &r.tasks[i];
        let h = t.host.expect("placed").index();
        let td = &s.task_definitions[t.task_definition as usize];
        let (cpu, mem) = (u64::from(td.reserved_cpu_units()), u64::from(td.reserved_memory_mib()));
        let w = &s.workloads[t.workload as usize];
        let static_ports: Vec<u16> = td.static_host_ports().into_iter().map(|(_, p)| p).collect();
        let on_host = group_on_host.entry((h, w.group.as_str())).or_insert(0);
        if acquire {
            if w.placement.constraints.iter().any(|c| c.to_string() == "distinctInstance") {
                prop_assert_eq!(*on_host, 0, "task {} placed at {} on host {} beside another task of group {}", t.task, time, h, w.group);
            }
            *on_host += 1;
            used[h].0 += cpu;
            used[h].1 += mem;
            let reg = hosts[h].2;
            prop_assert!(
                used[h].0 <= u64::from(reg.cpu_units) && used[h].1 <= u64::from(reg.memory_mib),
                "host {h} over capacity at {time}: {:?} reserved of {:?}",
                used[h],
                reg
            );
            for p in static_ports {
                if let Some(other) = ports.insert((h, p), i) {
                    return Err(TestCaseError::fail(format!(
                        "host {h}: port {p} taken by task {} and task {} at {time}",
                        r.tasks[other].task, t.task
                    )));
                }
            }
        } else {
            *on_host -= 1;
            used[h].0 -= cpu;
            used[h].1 -= mem;
            for p in static_ports {
                ports.remove(&(h, p));
            }
        }
    }
    Ok(())
}

#[test]
fn generated_valid_scenarios_validate_and_run_with_every_invariant() {
    let fits_nowhere = "which no host type of the scenario can register";
    let (ran, placed) = (Reached::default(), Reached::default());
    check(64, gen_scenario(), |g| {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = g.write(dir.path());
        let raw = RawScenario::read(&path).map_err(|e| TestCaseError::fail(format!("does not parse: {e}\n{}", g.render())))?;
        let plan = match Plan::build(&raw, None, &StrategyRegistry::new()) {
            Ok(plan) => plan,
            Err(e) if e.message.contains(fits_nowhere) => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(format!("a generated scenario does not validate: {e}\n{}", g.render()))),
        };
        prop_assert_eq!(plan.run_count(), 1);
        let spec = &plan.run(0).unwrap();
        let result = sim::run(&spec.scenario, spec.seed, RunOptions { record_tasks: true, explain: true })
            .map_err(|e| TestCaseError::fail(format!("sim::run broke an invariant: {e}\n{}", g.render())))?;
        check_rows(&spec.scenario, &result).map_err(|e| TestCaseError::fail(format!("{e}\n{}", g.render())))?;
        ran.hit();
        if result.tasks.iter().any(|t| t.placed_at.is_some()) {
            placed.hit();
        }
        Ok(())
    });
    let n = cases(64) as usize;
    eprintln!("generated: {} of {n} ran, {} placed tasks", ran.count(), placed.count());
    assert!(ran.count() >= n / 2, "only {} of {n} generated scenarios fit their hosts and ran", ran.count());
}

/// A fixed seed unless `PROPTEST_RNG_SEED` asks for another: the coverage guards ("enough cases
/// reached X") must not make CI flaky. Longer or different hunts: `PROPTEST_RNG_SEED=… PROPTEST_CASES=…`.
fn seed() -> RngSeed {
    std::env::var("PROPTEST_RNG_SEED").ok().and_then(|v| v.parse().ok()).map_or(RngSeed::Fixed(0x5EED_C0DE), RngSeed::Fixed)
}
