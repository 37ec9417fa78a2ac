//! `[plan]`: what `clustersim plan` searches — the knobs, the targets and the objective.
//!
//! ```toml
//! [plan]
//! replications = 5                                   # per candidate, ≥ 2 (the same seeds for all)
//! objective = "cost_total_month_usd"                 # default; any metric with a better direction
//! targets = ["placement_failure_rate <= 0.01", "time_to_running_p99_s <= 60"]
//!
//! [[plan.knob]]
//! key = "host_groups.general.count_per_az"           # any scenario key path, as a sweep axis
//! from = 1                                           # a range is searched by bisection
//! to = 40
//! step = 1
//!
//! [[plan.knob]]
//! key = "host_groups.general.instance_type"          # a list is tried exhaustively
//! values = ["m5.large", "m5.xlarge"]
//! ```
//!
//! A knob is read exactly like a sweep axis (`key` or linked `keys`, `values` or `from`/`to`/
//! `step`, `labels`, `name`), plus `search = "bisect" | "exhaustive"`. A candidate is one value of
//! every knob; its scenario is the file's table without `[plan]`, with the knob values set
//! ([`candidate_table`]), and it is known by a hash of that table and of the files it references
//! ([`candidate_key`]), so a candidate is recognised whatever the `[plan]` around it says.

use toml::Value;

use super::reader::Table;
use super::sweep::{SweepAxis, read_axis, set_path, value_text};
use super::{RawScenario, Scenario, ScenarioError};
use crate::engine::stable_hash64;
use crate::metrics::stats::Estimate;
use crate::metrics::{Direction, Metric};
use crate::placement::StrategyRegistry;

/// Most combinations of the exhaustive knobs ("small lists").
pub const MAX_EXHAUSTIVE: usize = 256;
/// Most replications per candidate.
pub const MAX_REPLICATIONS: u32 = 1000;
/// Replications per candidate when `[plan]` does not say.
pub const DEFAULT_REPLICATIONS: u32 = 5;

/// How a target compares its metric with its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<=`: the metric must be at most the bound.
    AtMost,
    /// `>=`: the metric must be at least the bound.
    AtLeast,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::AtMost => "<=",
            Op::AtLeast => ">=",
        }
    }
}

/// `metric <= bound` or `metric >= bound`.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub metric: Metric,
    pub op: Op,
    pub bound: f64,
}

/// Whether a candidate meets a target, and by how much.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judgement {
    pub met: bool,
    /// How far the unfavourable end of the 95 % CI lies on the good side of the bound, in the
    /// metric's unit: ≥ 0 when met, < 0 (missed by that much) otherwise; NaN without a value.
    pub margin: f64,
}

impl Target {
    /// Judges an estimate over replications: the target is met only when the unfavourable end
    /// of the 95 % CI meets it (the upper end for `<=`, the lower end for `>=`). A metric without
    /// a value (NaN) never meets a target.
    ///
    /// ```
    /// use clustersim::metrics::Metric;
    /// use clustersim::metrics::stats::Estimate;
    /// use clustersim::scenario::plan::{Op, Target};
    /// let t = Target { metric: Metric::PlacementFailureRate, op: Op::AtMost, bound: 0.01 };
    /// // Mean 0.008 is below the bound, but the CI reaches 0.012: not met, missed by 0.002.
    /// let e = Estimate { n: 5, mean: 0.008, std_dev: 0.003, ci_low: 0.004, ci_high: 0.012 };
    /// let j = t.judge(&e);
    /// assert!(!j.met && (j.margin + 0.002).abs() < 1e-12);
    /// ```
    pub fn judge(&self, e: &Estimate) -> Judgement {
        let margin = match self.op {
            Op::AtMost => self.bound - e.ci_high,
            Op::AtLeast => e.ci_low - self.bound,
        };
        Judgement { met: margin >= 0.0, margin }
    }

    /// As written in a scenario: `placement_failure_rate <= 0.01`.
    pub fn text(&self) -> String {
        format!("{} {} {}", self.metric.name(), self.op.as_str(), self.bound)
    }
}

/// How a knob's values are searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// The knob is monotone: once the targets are met at a value, they stay met at every larger
    /// one (more hosts). The smallest such value is found by bisection.
    Bisect,
    /// Every value is tried.
    Exhaustive,
}

/// One knob: a sweep axis and how it is searched.
#[derive(Debug, Clone, PartialEq)]
pub struct Knob {
    pub axis: SweepAxis,
    pub search: Search,
}

/// A candidate: the index of its value on each knob, in knob order.
pub type Choice = Vec<usize>;

/// A validated `[plan]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanSpec {
    /// The scenario's name and seed.
    pub name: String,
    pub seed: u64,
    pub knobs: Vec<Knob>,
    pub targets: Vec<Target>,
    pub objective: Metric,
    pub replications: u32,
}

impl PlanSpec {
    /// Reads and validates the `[plan]` table of a scenario file (`None` if it has none): the
    /// knobs, targets and objective; every value of every knob with the others at their first
    /// value; and every combination of the exhaustive knobs with the bisected knob at both ends.
    pub fn read(raw: &RawScenario, registry: &StrategyRegistry) -> Result<Option<PlanSpec>, ScenarioError> {
        let mut root = Table::root(&raw.display, &raw.table);
        let Some(mut plan) = root.opt_table("plan")? else { return Ok(None) };
        if root.has("sweep") {
            return Err(root.error(
                "sweep",
                "a scenario with [plan] has no [sweep]: the plan's knobs are its axes and plan.replications its replications",
            ));
        }
        let replications = plan.opt_u32_range("replications", 2, MAX_REPLICATIONS)?.unwrap_or(DEFAULT_REPLICATIONS);
        let objective = match plan.opt_str("objective")? {
            None => Metric::CostMonthTotal,
            Some(name) => {
                let m = Metric::from_name(name).ok_or_else(|| plan.error("objective", unknown_metric(name)))?;
                if m.direction() == Direction::Neutral {
                    return Err(plan.error(
                        "objective",
                        format!(
                            "`{name}` has no better direction (it describes the input); choose a metric that is better lower or higher"
                        ),
                    ));
                }
                m
            }
        };
        let texts = plan.opt_strings("targets")?.ok_or_else(|| {
            plan.error("targets", "missing; e.g. targets = [\"placement_failure_rate <= 0.001\", \"time_to_running_p99_s <= 60\"]")
        })?;
        if texts.is_empty() {
            return Err(plan.error("targets", "give at least one target, e.g. \"placement_failure_rate <= 0.001\""));
        }
        let mut targets = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            targets.push(parse_target(text).map_err(|m| plan.error(&format!("targets[{i}]"), m))?);
        }
        let items = plan.opt_array("knob")?.ok_or_else(|| {
            plan.error("knob", "missing; add at least one [[plan.knob]] with `key` and `values` (or `from`, `to`, `step`)")
        })?;
        if items.is_empty() {
            return Err(plan.error("knob", "give at least one [[plan.knob]]"));
        }
        let mut knobs: Vec<Knob> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let key = format!("knob[{i}]");
            let t =
                item.as_table().ok_or_else(|| plan.error(&key, "expected a table with `key` and `values` (or `from`, `to`, `step`)"))?;
            let mut at = Table::nested(&raw.display, format!("plan.{key}"), t);
            let axes: Vec<SweepAxis> = knobs.iter().map(|k| k.axis.clone()).collect();
            let axis = read_axis(&plan, &key, &mut at, &axes)?;
            let search = match at.opt_str("search")? {
                None if at.has("from") => Search::Bisect,
                None => Search::Exhaustive,
                Some("bisect") => Search::Bisect,
                Some("exhaustive") => Search::Exhaustive,
                Some(other) => return Err(at.error("search", format!("`{other}` is not a search; allowed: bisect, exhaustive"))),
            };
            at.finish()?;
            if search == Search::Bisect {
                let numbers: Option<Vec<f64>> = axis.values.iter().map(|v| v.as_integer().map(|i| i as f64).or(v.as_float())).collect();
                let increasing = numbers.as_ref().is_some_and(|n| n.windows(2).all(|w| w[0] < w[1]));
                if axis.keys.len() != 1 || !increasing {
                    return Err(plan.error(
                        &key,
                        "a bisected knob is one key with increasing numbers (e.g. from = 1, to = 40, step = 1); use search = \"exhaustive\" for a list",
                    ));
                }
                if knobs.iter().any(|k| k.search == Search::Bisect) {
                    return Err(plan.error(&key, "only one knob can be bisected; give the others search = \"exhaustive\""));
                }
            }
            knobs.push(Knob { axis, search });
        }
        plan.finish()?;
        let name = raw.table.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        let seed = raw.table.get("seed").and_then(Value::as_integer).map_or(1, |s| s as u64);
        let spec = PlanSpec { name, seed, knobs, targets, objective, replications };
        let exhaustive: Vec<usize> = spec.knobs.iter().filter(|k| k.search == Search::Exhaustive).map(|k| k.axis.values.len()).collect();
        if exhaustive.iter().try_fold(1usize, |n, &k| n.checked_mul(k)).is_none_or(|n| n > MAX_EXHAUSTIVE) {
            let sizes: Vec<String> = exhaustive.iter().map(usize::to_string).collect();
            return Err(ScenarioError::new(
                &raw.display,
                "plan.knob",
                format!(
                    "the exhaustive knobs make {} combinations; at most {MAX_EXHAUSTIVE} (bisect a numeric knob instead)",
                    sizes.join(" × ")
                ),
            ));
        }
        let combos = spec.combos();
        // What `plan` would refuse, refused now (and by `validate`).
        let first = vec![0; spec.knobs.len()];
        candidate_scenario(raw, &spec, &first, registry)?;
        for (k, knob) in spec.knobs.iter().enumerate() {
            for v in 1..knob.axis.values.len() {
                let mut choice = first.clone();
                choice[k] = v;
                candidate_scenario(raw, &spec, &choice, registry)?;
            }
        }
        if let Some(b) = spec.bisected() {
            let top = spec.knobs[b].axis.values.len() - 1;
            for combo in &combos {
                for end in [0, top] {
                    let mut choice = combo.clone();
                    choice[b] = end;
                    candidate_scenario(raw, &spec, &choice, registry)?;
                }
            }
        } else {
            for combo in &combos {
                candidate_scenario(raw, &spec, combo, registry)?;
            }
        }
        Ok(Some(spec))
    }

    /// The bisected knob, if there is one.
    pub fn bisected(&self) -> Option<usize> {
        self.knobs.iter().position(|k| k.search == Search::Bisect)
    }

    /// Every combination of the exhaustive knobs' values (first knob slowest), with the bisected
    /// knob at index 0; at most [`MAX_EXHAUSTIVE`] for a spec [`PlanSpec::read`] accepted.
    pub fn combos(&self) -> Vec<Choice> {
        let mut out: Vec<Choice> = vec![Vec::new()];
        for knob in &self.knobs {
            let n = if knob.search == Search::Exhaustive { knob.axis.values.len() } else { 1 };
            out = out.iter().flat_map(|c| (0..n).map(move |v| [c.as_slice(), &[v]].concat())).collect();
        }
        out
    }

    /// A candidate in words: `host_groups.web.count_per_az = 4, instance type = m5.large`.
    pub fn label(&self, choice: &[usize]) -> String {
        self.knobs.iter().zip(choice).map(|(k, &c)| format!("{} = {}", k.axis.key, k.axis.labels[c])).collect::<Vec<_>>().join(", ")
    }
}

/// The message for a metric name that is not in the catalog.
fn unknown_metric(name: &str) -> String {
    format!("unknown metric `{name}`; allowed: {}", Metric::ALL.iter().map(|m| m.name()).collect::<Vec<_>>().join(", "))
}

/// `metric <= number` or `metric >= number`.
fn parse_target(text: &str) -> Result<Target, String> {
    let (at, op) = match (text.find("<="), text.find(">=")) {
        (Some(i), None) => (i, Op::AtMost),
        (None, Some(i)) => (i, Op::AtLeast),
        _ => {
            return Err(format!(
                "`{text}` is not a target; write `metric <= number` or `metric >= number` (allowed operators: <=, >=), e.g. \"placement_failure_rate <= 0.001\""
            ));
        }
    };
    let name = text[..at].trim();
    let bound_text = text[at + 2..].trim();
    let metric = Metric::from_name(name).ok_or_else(|| unknown_metric(name))?;
    let bound: f64 =
        bound_text.parse().ok().filter(|b: &f64| b.is_finite()).ok_or_else(|| format!("`{bound_text}` in `{text}` is not a number"))?;
    Ok(Target { metric, op, bound })
}

/// The scenario table of a candidate: the file's table without `[plan]` (and `[sweep]`), with
/// each knob at its chosen value.
pub fn candidate_table(raw: &RawScenario, spec: &PlanSpec, choice: &[usize]) -> Result<toml::Table, ScenarioError> {
    let mut table = raw.table.clone();
    table.remove("plan");
    table.remove("sweep");
    for (knob, &c) in spec.knobs.iter().zip(choice) {
        let err = |m: String| ScenarioError::new(&raw.display, format!("plan knob `{}`", knob.axis.key), m);
        for (key, value) in knob_values(&knob.axis, c) {
            set_path(&mut table, &key, value).map_err(err)?;
        }
    }
    Ok(table)
}

/// The (key path, value) pairs knob value `c` sets.
fn knob_values(axis: &SweepAxis, c: usize) -> Vec<(String, Value)> {
    match (&axis.values[c], axis.keys.len()) {
        (Value::Array(parts), n) if n > 1 => axis.keys.iter().cloned().zip(parts.iter().cloned()).collect(),
        (value, _) => vec![(axis.keys[0].clone(), value.clone())],
    }
}

/// A candidate's scenario, validated; errors name the candidate.
fn candidate_scenario(
    raw: &RawScenario,
    spec: &PlanSpec,
    choice: &[usize],
    registry: &StrategyRegistry,
) -> Result<Scenario, ScenarioError> {
    let table = candidate_table(raw, spec, choice)?;
    Scenario::from_table(raw, &table, registry).map_err(|mut e| {
        e.message = format!("{} (at plan candidate {})", e.message, spec.label(choice));
        e
    })
}

/// What identifies a candidate's runs, whatever the `[plan]` around it: a hash of its scenario
/// table (as TOML text), of every file that scenario references (task definitions, traces) and
/// of the clustersim version, in hex. Validates the candidate on the way.
pub fn candidate_key(raw: &RawScenario, spec: &PlanSpec, choice: &[usize], registry: &StrategyRegistry) -> Result<String, ScenarioError> {
    let table = candidate_table(raw, spec, choice)?;
    // With the file's own hash zeroed, the scenario's input hash covers only the files it
    // references: the file's text is in the table already, and its [plan] must not count.
    let referenced = RawScenario { hash: 0, ..raw.clone() };
    let scenario = Scenario::from_table(&referenced, &table, registry).map_err(|mut e| {
        e.message = format!("{} (at plan candidate {})", e.message, spec.label(choice));
        e
    })?;
    let text = toml::to_string(&table).map_err(|e| ScenarioError::new(&raw.display, "plan", format!("cannot write a candidate: {e}")))?;
    let key = stable_hash64(format!("clustersim {}\n{}\n{text}", env!("CARGO_PKG_VERSION"), scenario.file_hash).as_bytes());
    Ok(format!("{key:016x}"))
}

/// The scenario whose sweep runs `choices`: one sweep axis setting every knob key together
/// (linked keys), one value per candidate, and the plan's replications. Its run `c × R + r` is
/// replication `r` of `choices[c]`, with the seed every candidate's replication `r` gets.
pub fn batch_scenario(raw: &RawScenario, spec: &PlanSpec, choices: &[Choice]) -> RawScenario {
    let mut table = raw.table.clone();
    table.remove("plan");
    let mut axis = toml::Table::new();
    let keys: Vec<String> = spec.knobs.iter().flat_map(|k| k.axis.keys.iter().cloned()).collect();
    let values: Vec<Value> = choices
        .iter()
        .map(|choice| {
            let mut parts: Vec<Value> = spec.knobs.iter().zip(choice).flat_map(|(k, &c)| knob_values(&k.axis, c)).map(|(_, v)| v).collect();
            if parts.len() == 1 { parts.remove(0) } else { Value::Array(parts) }
        })
        .collect();
    if keys.len() == 1 {
        axis.insert("key".into(), Value::String(keys[0].clone()));
    } else {
        axis.insert("keys".into(), Value::Array(keys.into_iter().map(Value::String).collect()));
    }
    axis.insert("values".into(), Value::Array(values));
    axis.insert("labels".into(), Value::Array(choices.iter().map(|c| Value::String(spec.label(c))).collect()));
    axis.insert("name".into(), Value::String("candidate".into()));
    let mut sweep = toml::Table::new();
    sweep.insert("replications".into(), Value::Integer(i64::from(spec.replications)));
    sweep.insert("axis".into(), Value::Array(vec![Value::Table(axis)]));
    table.insert("sweep".into(), Value::Table(sweep));
    RawScenario { table, ..raw.clone() }
}

/// A knob value as text (its label).
pub fn knob_label(knob: &Knob, c: usize) -> String {
    knob.axis.labels.get(c).cloned().unwrap_or_else(|| value_text(&knob.axis.values[c]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_or_without_spaces_and_refuse_other_operators() {
        let t = parse_target("placement_failure_rate<=0.001").unwrap();
        assert_eq!((t.metric, t.op, t.bound), (Metric::PlacementFailureRate, Op::AtMost, 0.001));
        assert_eq!(parse_target(" tasks_placed >= 10 ").unwrap().op, Op::AtLeast);
        assert!(parse_target("placement_failure_rate < 0.001").unwrap_err().contains("allowed operators: <=, >="));
        assert!(parse_target("placement_failure_rate == 0.001").unwrap_err().contains("allowed operators"));
        assert!(parse_target("no_such_metric <= 1").unwrap_err().contains("allowed: tasks_arrived"));
        assert!(parse_target("placement_failure_rate <= lots").unwrap_err().contains("not a number"));
    }

    /// A scenario with a two-type cluster, the given `[plan]` and its task definition on disk.
    fn raw(dir: &std::path::Path, plan: &str) -> RawScenario {
        std::fs::write(
            dir.join("job.json"),
            r#"{"family": "job", "cpu": "512", "memory": "1024", "containerDefinitions": [{"name": "a", "image": "busybox", "essential": true}]}"#,
        )
        .unwrap();
        let text = format!(
            "name = \"k\"\nhorizon = \"1h\"\ntask_definitions = [\"job.json\"]\n[cluster]\nazs = [\"a\", \"b\"]\n\
             [host_groups.main]\ninstance_type = \"m5.large\"\ncount_per_az = 1\n\
             [workload.jobs]\nkind = \"poisson\"\ntask_definition = \"job\"\narrival = {{ rate_per_s = 0.1 }}\n{plan}"
        );
        let path = dir.join("k.toml");
        std::fs::write(&path, &text).unwrap();
        RawScenario::read(&path).unwrap()
    }

    const KNOBS: &str = "[[plan.knob]]\nkey = \"host_groups.main.count_per_az\"\nfrom = 1\nto = 4\nstep = 1\n\
                         [[plan.knob]]\nkeys = [\"host_groups.main.instance_type\", \"host_groups.main.azs\"]\n\
                         values = [[\"m5.large\", [\"a\", \"b\"]], [\"m5.xlarge\", [\"a\"]]]\nlabels = [\"large in 2\", \"xlarge in 1\"]\n";

    #[test]
    fn a_candidate_is_known_by_its_scenario_whatever_the_plan_around_it_says() {
        let dir = tempfile::tempdir().unwrap();
        let registry = StrategyRegistry::new();
        let loose = raw(dir.path(), &format!("[plan]\ntargets = [\"placement_failure_rate <= 0.1\"]\n{KNOBS}"));
        let spec = PlanSpec::read(&loose, &registry).unwrap().unwrap();
        assert_eq!((spec.bisected(), spec.combos()), (Some(0), vec![vec![0, 0], vec![0, 1]]));
        let key = |raw: &RawScenario, spec: &PlanSpec, choice: &[usize]| candidate_key(raw, spec, choice, &registry).unwrap();
        let k = key(&loose, &spec, &[2, 1]);
        // Other targets and replications: the same candidates, the same keys.
        let tight = raw(dir.path(), &format!("[plan]\nreplications = 9\ntargets = [\"placement_failure_rate <= 0.001\"]\n{KNOBS}"));
        let tight_spec = PlanSpec::read(&tight, &registry).unwrap().unwrap();
        assert_eq!(key(&tight, &tight_spec, &[2, 1]), k);
        // Another knob value, or another task definition on disk: another key.
        assert_ne!(key(&loose, &spec, &[1, 1]), k);
        assert_ne!(key(&loose, &spec, &[2, 0]), k);
        std::fs::write(
            dir.path().join("job.json"),
            r#"{"family": "job", "cpu": "1024", "memory": "1024", "containerDefinitions": [{"name": "a", "image": "busybox", "essential": true}]}"#,
        )
        .unwrap();
        assert_ne!(key(&loose, &spec, &[2, 1]), k);
        // The linked knob sets both its keys.
        let table = candidate_table(&loose, &spec, &[2, 1]).unwrap();
        let group = &table["host_groups"]["main"];
        assert_eq!((group["count_per_az"].as_integer(), group["instance_type"].as_str()), (Some(3), Some("m5.xlarge")));
        assert_eq!(group["azs"].as_array().map(Vec::len), Some(1));
        assert!(!table.contains_key("plan"));
    }

    #[test]
    fn a_rounds_batch_runs_each_candidate_with_its_values_and_the_plans_replications() {
        let dir = tempfile::tempdir().unwrap();
        let registry = StrategyRegistry::new();
        let r = raw(dir.path(), &format!("[plan]\nreplications = 3\ntargets = [\"placement_failure_rate <= 0.1\"]\n{KNOBS}"));
        let spec = PlanSpec::read(&r, &registry).unwrap().unwrap();
        let choices = vec![vec![3, 0], vec![0, 1]];
        let batch = crate::scenario::sweep::Plan::build(&batch_scenario(&r, &spec, &choices), None, &registry).unwrap();
        assert_eq!((batch.point_count(), batch.replications), (2, 3));
        for (p, choice) in choices.iter().enumerate() {
            let s = batch.point_scenario(p).unwrap();
            let expected = candidate_table(&r, &spec, choice).unwrap();
            let g = &expected["host_groups"]["main"];
            assert_eq!(i64::from(s.host_groups[0].count_per_az), g["count_per_az"].as_integer().unwrap());
            assert_eq!(s.instance_types[s.host_groups[0].instance_type as usize].name, g["instance_type"].as_str().unwrap());
            assert_eq!(s.host_groups[0].azs.len(), g["azs"].as_array().unwrap().len());
        }
        // Replication r has the same seed for every candidate.
        assert_eq!(batch.run_info(1).seed, batch.run_info(4).seed);
    }

    #[test]
    fn a_target_counts_as_met_only_when_the_unfavourable_end_of_its_ci_meets_it() {
        let e = |low: f64, high: f64| Estimate { n: 5, mean: (low + high) / 2.0, std_dev: 1.0, ci_low: low, ci_high: high };
        let at_most = Target { metric: Metric::TimeToRunningP99, op: Op::AtMost, bound: 60.0 };
        // Mean 55 is below 60, but the CI reaches 62: missed by 2.
        assert_eq!(at_most.judge(&e(48.0, 62.0)), Judgement { met: false, margin: -2.0 });
        assert_eq!(at_most.judge(&e(40.0, 60.0)), Judgement { met: true, margin: 0.0 });
        let at_least = Target { metric: Metric::TasksPlaced, op: Op::AtLeast, bound: 100.0 };
        // Mean 104 is above 100, but the CI starts at 98: missed by 2.
        assert_eq!(at_least.judge(&e(98.0, 110.0)), Judgement { met: false, margin: -2.0 });
        assert_eq!(at_least.judge(&e(103.0, 110.0)), Judgement { met: true, margin: 3.0 });
        let none = at_most.judge(&Estimate { n: 5, mean: f64::NAN, std_dev: f64::NAN, ci_low: f64::NAN, ci_high: f64::NAN });
        assert!(!none.met && none.margin.is_nan());
    }
}
