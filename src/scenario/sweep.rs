//! Sweeps: a `[sweep]` table turns one scenario into many runs.
//!
//! ```toml
//! [sweep]
//! replications = 10
//! [[sweep.axis]]
//! key = "placement.strategy"                   # any key path of the scenario
//! values = ["binpack(memory)", "random"]
//! [[sweep.axis]]
//! key = "workload.jobs.arrival.rate_per_s"
//! from = 0.5                                   # or a numeric range
//! to = 2.0
//! step = 0.5
//! ```
//!
//! Several keys can move together on one axis (linked keys), e.g. every subnet's size:
//!
//! ```toml
//! [[sweep.axis]]
//! keys = ["network.subnets.a.cidr", "network.subnets.b.cidr"]
//! values = [["10.0.1.0/24", "10.0.2.0/24"], ["10.0.1.0/26", "10.0.2.0/26"]]
//! labels = ["/24", "/26"]                       # how the values appear in CSVs and charts
//! name = "subnet size"                          # the axis' column name (default: the keys joined by +)
//! ```
//!
//! Runs are the Cartesian product of the axes (first axis slowest) × replications. Replication
//! `r` of every point uses the same seed, derived from (scenario seed, r): every point sees the
//! same arrivals (common random numbers). The last axis is the x axis of charts; the others make
//! the lines.

use std::sync::Arc;

use toml::Value;

use super::reader::Table;
use super::{RawScenario, Scenario, ScenarioError};
use crate::engine::derive_seed;
use crate::placement::StrategyRegistry;

/// Most runs one sweep may expand to.
pub const MAX_RUNS: usize = 1_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct SweepAxis {
    /// Key path, e.g. `workload.web.arrival.rate_per_s`; for linked keys, `keys` joined by `+`.
    pub key: String,
    /// The key paths this axis sets (one, or several linked).
    pub keys: Vec<String>,
    /// One value per point; for linked keys, an array with one value per key.
    pub values: Vec<Value>,
    /// How each value is written in CSVs and charts (default: the value itself).
    pub labels: Vec<String>,
}

/// One run, without its scenario: what names it and seeds it. Cheap to make for any run of a
/// plan ([`Plan::run_info`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    /// Stable id, e.g. `p002-r07`.
    pub run_id: String,
    pub point: usize,
    pub replication: u32,
    pub seed: u64,
    /// (axis key, value as text), in axis order.
    pub params: Vec<(String, String)>,
}

/// One run to execute: a validated scenario for its sweep point, and its seed
/// ([`Plan::run`] materialises it when it is about to run).
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Stable id, e.g. `p002-r07`.
    pub run_id: String,
    pub point: usize,
    pub replication: u32,
    pub seed: u64,
    /// (axis key, value as text), in axis order.
    pub params: Vec<(String, String)>,
    pub scenario: Arc<Scenario>,
}

/// Every run of a scenario file, in a fixed order (first axis slowest, then replications), held
/// lazily: a run is an index into the axes, and its scenario is built when it is asked for. So a
/// plan of the maximum 1,000,000 runs costs a few kilobytes plus its axes, whatever the scenario.
#[derive(Clone)]
pub struct Plan {
    pub axes: Vec<SweepAxis>,
    pub replications: u32,
    pub base_seed: u64,
    /// Point 0 (every axis at its first value), validated: the scenario's name, input hash,
    /// `[report]` settings and whether it has a `[network]`, which no sweep changes.
    pub base: Arc<Scenario>,
    raw: Arc<RawScenario>,
    registry: StrategyRegistry,
    point_count: usize,
    /// Digits of the point and replication numbers in run ids.
    id_widths: (usize, usize),
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("scenario", &self.base.name)
            .field("axes", &self.axes)
            .field("replications", &self.replications)
            .field("base_seed", &self.base_seed)
            .field("runs", &self.run_count())
            .finish_non_exhaustive()
    }
}

impl Plan {
    /// Reads a scenario file's sweep and validates it before anything runs: the axes, the base
    /// point (every axis at its first value), and each value of each axis with the other axes at
    /// their first value. A run's own combination of values is validated again when it is
    /// materialised ([`Plan::run`]), so a combination that is only invalid together is reported,
    /// naming its point, when that run is about to start. `seed` overrides the file's seed.
    pub fn build(raw: &RawScenario, seed: Option<u64>, registry: &StrategyRegistry) -> Result<Plan, ScenarioError> {
        let (axes, replications) = read_sweep(raw)?;
        let combos: usize = axes.iter().try_fold(1usize, |n, a| n.checked_mul(a.values.len())).unwrap_or(usize::MAX);
        if combos.saturating_mul(replications as usize) > MAX_RUNS {
            return Err(ScenarioError::new(&raw.display, "sweep", format!("expands to more than {MAX_RUNS} runs")));
        }
        let first = vec![0; axes.len()];
        let base = scenario_at(raw, &axes, registry, &first)?;
        for (a, axis) in axes.iter().enumerate() {
            for v in 1..axis.values.len() {
                let mut choice = first.clone();
                choice[a] = v;
                scenario_at(raw, &axes, registry, &choice)?;
            }
        }
        let plan = Plan {
            axes,
            replications,
            base_seed: seed.unwrap_or(base.seed),
            base: Arc::new(base),
            raw: Arc::new(raw.clone()),
            registry: registry.clone(),
            point_count: combos,
            id_widths: (digits(combos.saturating_sub(1)), digits(replications.saturating_sub(1) as usize)),
        };
        if let Some(id) = plan.base.report.timeseries_runs.iter().find(|id| plan.run_index(id).is_none()) {
            return Err(ScenarioError::new(
                &plan.raw.display,
                "report.timeseries_runs",
                format!("no run `{id}`; this plan's runs are {} … {}", plan.run_id(0), plan.run_id(plan.run_count() - 1)),
            ));
        }
        Ok(plan)
    }

    /// Sweep points (combinations of axis values).
    pub fn point_count(&self) -> usize {
        self.point_count
    }

    /// Runs: points × replications.
    pub fn run_count(&self) -> usize {
        self.point_count * self.replications as usize
    }

    /// Whether runs write subnet files: the `[network]` table cannot be swept in or out.
    pub fn has_network(&self) -> bool {
        self.base.network.is_some()
    }

    /// Whether a service is managed (deployments, a load balancer, health failures): runs write
    /// `deployments.csv` rows and an events file.
    pub fn has_managed_services(&self) -> bool {
        self.base.has_managed_services()
    }

    /// The value index on each axis of point `p` (first axis slowest).
    fn choice(&self, p: usize) -> Vec<usize> {
        let mut rest = p;
        let mut choice = vec![0; self.axes.len()];
        for (i, axis) in self.axes.iter().enumerate().rev() {
            choice[i] = rest % axis.values.len();
            rest /= axis.values.len();
        }
        choice
    }

    /// (axis key, value text) of point `p`.
    pub fn point_params(&self, p: usize) -> Vec<(String, String)> {
        self.axes.iter().zip(self.choice(p)).map(|(axis, c)| (axis.key.clone(), axis.labels[c].clone())).collect()
    }

    /// The id of run `index`, e.g. `p02-r07`.
    pub fn run_id(&self, index: usize) -> String {
        let reps = self.replications as usize;
        let (pw, rw) = self.id_widths;
        format!("p{:0pw$}-r{:0rw$}", index / reps, index % reps)
    }

    /// The index of the run called `run_id`, if there is one.
    pub fn run_index(&self, run_id: &str) -> Option<usize> {
        let (p, r) = run_id.strip_prefix('p')?.split_once("-r")?;
        let (p, r): (usize, usize) = (p.parse().ok()?, r.parse().ok()?);
        let index = p.checked_mul(self.replications as usize)?.checked_add(r)?;
        (r < self.replications as usize && index < self.run_count() && self.run_id(index) == run_id).then_some(index)
    }

    /// Run `index`'s id, point, replication, seed and parameters, without building its scenario.
    pub fn run_info(&self, index: usize) -> RunInfo {
        assert!(index < self.run_count(), "run {index} of a plan of {} runs", self.run_count());
        let reps = self.replications as usize;
        let replication = (index % reps) as u32;
        RunInfo {
            run_id: self.run_id(index),
            point: index / reps,
            replication,
            seed: derive_seed(self.base_seed, u64::from(replication)),
            params: self.point_params(index / reps),
        }
    }

    /// Run `index`, its scenario built and validated now.
    pub fn run(&self, index: usize) -> Result<RunSpec, ScenarioError> {
        let info = self.run_info(index);
        let scenario = if info.point == 0 { Arc::clone(&self.base) } else { Arc::new(self.point_scenario(info.point)?) };
        Ok(RunSpec {
            run_id: info.run_id,
            point: info.point,
            replication: info.replication,
            seed: info.seed,
            params: info.params,
            scenario,
        })
    }

    /// The validated scenario of point `p`.
    pub fn point_scenario(&self, p: usize) -> Result<Scenario, ScenarioError> {
        scenario_at(&self.raw, &self.axes, &self.registry, &self.choice(p))
    }
}

/// The validated scenario with axis `i` at its value `choice[i]`.
fn scenario_at(raw: &RawScenario, axes: &[SweepAxis], registry: &StrategyRegistry, choice: &[usize]) -> Result<Scenario, ScenarioError> {
    let mut table = raw.table.clone();
    for (axis, &c) in axes.iter().zip(choice) {
        let value = axis.values[c].clone();
        let err = |m: String| ScenarioError::new(&raw.display, format!("sweep axis `{}`", axis.key), m);
        if axis.keys.len() == 1 {
            set_path(&mut table, &axis.keys[0], value).map_err(err)?;
        } else {
            let Value::Array(parts) = value else { unreachable!("validated: linked values are arrays") };
            for (k, v) in axis.keys.iter().zip(parts) {
                set_path(&mut table, k, v).map_err(err)?;
            }
        }
    }
    Scenario::from_table(raw, &table, registry).map_err(|mut e| {
        if !axes.is_empty() {
            let params: Vec<String> = axes.iter().zip(choice).map(|(axis, &c)| format!("{} = {}", axis.key, axis.labels[c])).collect();
            e.message = format!("{} (at sweep point {})", e.message, params.join(", "));
        }
        e
    })
}

fn digits(n: usize) -> usize {
    n.to_string().len().max(2)
}

fn read_sweep(raw: &RawScenario) -> Result<(Vec<SweepAxis>, u32), ScenarioError> {
    let mut root = Table::root(&raw.display, &raw.table);
    let Some(mut sweep) = root.opt_table("sweep")? else { return Ok((Vec::new(), 1)) };
    let replications = sweep.opt_u32_min("replications", 1)?.unwrap_or(1);
    let mut axes = Vec::new();
    if let Some(items) = sweep.opt_array("axis")? {
        for (i, item) in items.iter().enumerate() {
            let key = format!("axis[{i}]");
            let t =
                item.as_table().ok_or_else(|| sweep.error(&key, "expected a table with `key` and `values` (or `from`, `to`, `step`)"))?;
            let mut at = Table::nested(&raw.display, format!("sweep.{key}"), t);
            let axis = read_axis(&sweep, &key, &mut at, &axes)?;
            at.finish()?;
            axes.push(axis);
        }
    }
    sweep.finish()?;
    Ok((axes, replications))
}

/// Reads one axis table (`key`/`keys`, `values` or `from`/`to`/`step`, `labels`, `name`) at
/// `parent.<key>`, leaving `at` open for the caller's own keys (then `at.finish()`). `existing`
/// are the axes read before it, so a key path is not used twice. Sweep axes and plan knobs are
/// both read with it.
pub(super) fn read_axis(parent: &Table<'_>, key: &str, at: &mut Table<'_>, existing: &[SweepAxis]) -> Result<SweepAxis, ScenarioError> {
    let keys: Vec<String> = match (at.opt_str("key"), at.opt_strings("keys")) {
        (Ok(Some(k)), Ok(None)) => vec![k.to_string()],
        (Ok(None), Ok(Some(ks))) if !ks.is_empty() => ks.into_iter().map(str::to_string).collect(),
        _ => return Err(parent.error(key, "give `key = \"a.b\"`, or `keys = [\"a.b\", \"c.d\"]` for linked keys (not both)")),
    };
    let name = at.opt_str("name")?;
    let path = name.map_or_else(|| keys.join("+"), str::to_string);
    let values: Vec<Value> = if let Some(vs) = at.opt_array("values")? {
        vs.to_vec()
    } else {
        let num = |at: &mut Table<'_>, k: &str| {
            at.opt_f64(k)?.ok_or_else(|| at.error(k, "missing; give `values = [...]` or `from`, `to` and `step`"))
        };
        let (from, to, step) = (num(at, "from")?, num(at, "to")?, num(at, "step")?);
        if step <= 0.0 || to < from {
            return Err(parent.error(key, "a range needs step > 0 and to ≥ from"));
        }
        let steps = ((to - from) / step + 1e-9).floor();
        if !steps.is_finite() || steps >= 10_000.0 {
            return Err(parent.error(key, "a range of more than 10,000 values"));
        }
        let n = steps as usize + 1;
        let all_int = [from, to, step].iter().all(|v| v.fract() == 0.0);
        (0..n)
            .map(|k| {
                let v = from + step * k as f64;
                // Round away float noise (0.1 + 0.2) so values print as the user wrote them.
                let v = (v * 1e9).round() / 1e9;
                if all_int { Value::Integer(v as i64) } else { Value::Float(v) }
            })
            .collect()
    };
    let labels: Vec<String> = match at.opt_strings("labels")? {
        Some(l) if l.len() == values.len() => l.into_iter().map(str::to_string).collect(),
        Some(l) => return Err(parent.error(&format!("{key}.labels"), format!("{} labels for {} values", l.len(), values.len()))),
        None => values.iter().map(value_text).collect(),
    };
    if values.is_empty() {
        return Err(parent.error(key, "an axis needs at least one value"));
    }
    if keys.len() > 1
        && let Some((i, _)) = values.iter().enumerate().find(|(_, v)| v.as_array().is_none_or(|a| a.len() != keys.len()))
    {
        return Err(parent.error(&format!("{key}.values[{i}]"), format!("linked keys need an array of {} values per point", keys.len())));
    }
    if keys.iter().any(|k| matches!(k.split('.').next(), Some("sweep" | "plan")) || k == "name" || k == "network") {
        return Err(parent.error(key, format!("`{path}` cannot be swept")));
    }
    if existing.iter().any(|a| a.key == path) {
        return Err(parent.error(key, format!("`{path}` is swept twice")));
    }
    Ok(SweepAxis { key: path, keys, values, labels })
}

/// Splits a key path on dots outside double quotes: `instance_types."m5.xlarge".hourly_usd`.
fn split_path(path: &str) -> Result<Vec<String>, String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in path.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(format!("unclosed quote in key path `{path}`"));
    }
    parts.push(cur);
    if parts.iter().any(String::is_empty) {
        return Err(format!("`{path}` is not a key path; write names separated by dots, e.g. workload.web.desired_count"));
    }
    Ok(parts)
}

/// Sets `path` in `table`. Every parent must exist (a typo must not create a new section); the
/// last key may be new (validation then rejects it if the section does not allow it).
pub fn set_path(table: &mut toml::Table, path: &str, value: Value) -> Result<(), String> {
    let parts = split_path(path)?;
    let (last, parents) = parts.split_last().expect("at least one part");
    let mut cur = table;
    let mut walked = String::new();
    for p in parents {
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(p);
        cur = match cur.get_mut(p.as_str()) {
            Some(Value::Table(t)) => t,
            Some(_) => return Err(format!("`{walked}` is not a table")),
            None => return Err(format!("`{walked}` does not exist in the scenario; add it (the sweep only changes existing sections)")),
        };
    }
    cur.insert(last.clone(), value);
    Ok(())
}

/// A sweep value as text for CSV columns and legends.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(value_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_with_quoted_dots() {
        assert_eq!(split_path("instance_types.\"m5.xlarge\".vcpu").unwrap(), vec!["instance_types", "m5.xlarge", "vcpu"]);
        assert!(split_path("a..b").is_err());
        assert!(split_path("a.\"b").is_err());
    }

    #[test]
    fn set_path_refuses_missing_parents_but_allows_a_new_leaf() {
        let mut t: toml::Table = toml::from_str("[workload.web]\nkind = \"service\"\n").unwrap();
        set_path(&mut t, "workload.web.desired_count", Value::Integer(3)).unwrap();
        assert_eq!(t["workload"]["web"]["desired_count"].as_integer(), Some(3));
        let e = set_path(&mut t, "workload.api.desired_count", Value::Integer(3)).unwrap_err();
        assert!(e.contains("workload.api"), "{e}");
    }
}
