//! Reading `[workload.<name>]` tables (arrivals, run times, launch type, subnets) and placement
//! specs (`strategy`, `constraints`, in the short form or ECS's JSON form).

use std::collections::BTreeSet;

use toml::Value;

use super::reader::Table;
use super::{NetworkSpec, RawScenario, ScenarioError, combine_hash, units};
use crate::engine::SimTime;
use crate::model::taskdef::{Compatibility, NetworkMode, TaskDefinition};
use crate::placement::{Constraint, MAX_CONSTRAINTS, MAX_STRATEGIES, PlacementSpec, SpreadField, StrategyRegistry, StrategySpec};
use crate::workload::{Arrivals, LaunchType, RateSchedule, RunTime, WorkloadSpec, parse_trace};

pub(super) fn read_placement(
    t: &mut Table<'_>,
    registry: &StrategyRegistry,
    known_attributes: &BTreeSet<&str>,
) -> Result<PlacementSpec, ScenarioError> {
    let mut spec = PlacementSpec::default();
    if let Some(v) = t.opt_value("strategy") {
        let items: Vec<&Value> = match v {
            // One string may hold a chain: "spread(attribute:ecs.availability-zone),binpack(memory)".
            Value::String(_) => vec![v],
            Value::Array(a) => a.iter().collect(),
            other => return Err(t.error("strategy", format!("expected a string or an array, found {}", other.type_str()))),
        };
        for (i, item) in items.iter().enumerate() {
            let key = format!("strategy[{i}]");
            match item {
                Value::String(s) => {
                    for part in split_chain(s) {
                        spec.strategies.push(StrategySpec::parse(part, registry).map_err(|m| t.error(&key, m))?);
                    }
                }
                // ECS JSON form: { type = "binpack", field = "memory" }.
                Value::Table(tt) => {
                    let kind = tt
                        .get("type")
                        .and_then(Value::as_str)
                        .ok_or_else(|| t.error(&key, "a strategy table needs `type` (binpack, spread, random)"))?;
                    let field = tt.get("field").and_then(Value::as_str);
                    if let Some(extra) = tt.keys().find(|k| *k != "type" && *k != "field") {
                        return Err(t.error(&key, format!("unknown key `{extra}`; allowed: type, field")));
                    }
                    spec.strategies.push(StrategySpec::from_type_and_field(kind, field, registry).map_err(|m| t.error(&key, m))?);
                }
                other => return Err(t.error(&key, format!("expected a string or a table, found {}", other.type_str()))),
            }
        }
        if spec.strategies.is_empty() || spec.strategies.len() > MAX_STRATEGIES {
            return Err(t.error("strategy", format!("give 1 to {MAX_STRATEGIES} strategies (ECS limit)")));
        }
        for s in &spec.strategies {
            if let StrategySpec::Spread(SpreadField::Attribute(a)) = s
                && !known_attributes.contains(a.as_str())
            {
                return Err(t.error(
                    "strategy",
                    format!(
                        "spread over unknown attribute `{a}`; known: {}",
                        known_attributes.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
    }
    if let Some(items) = t.opt_array("constraints")? {
        for (i, item) in items.iter().enumerate() {
            let key = format!("constraints[{i}]");
            let c = match item {
                Value::String(s) => Constraint::parse(s),
                Value::Table(tt) => {
                    let kind = tt
                        .get("type")
                        .and_then(Value::as_str)
                        .ok_or_else(|| t.error(&key, "a constraint table needs `type` (distinctInstance, memberOf)"))?;
                    if let Some(extra) = tt.keys().find(|k| *k != "type" && *k != "expression") {
                        return Err(t.error(&key, format!("unknown key `{extra}`; allowed: type, expression")));
                    }
                    Constraint::from_type_and_expression(kind, tt.get("expression").and_then(Value::as_str))
                }
                other => Err(format!("expected a string or a table, found {}", other.type_str())),
            }
            .map_err(|m| t.error(&key, m))?;
            if let Constraint::MemberOf(e) = &c {
                for a in e.attribute_names() {
                    if !known_attributes.contains(a.as_str()) {
                        return Err(t.error(
                            &key,
                            format!("unknown attribute `{a}`; known: {}", known_attributes.iter().copied().collect::<Vec<_>>().join(", ")),
                        ));
                    }
                }
            }
            spec.constraints.push(c);
        }
        if spec.constraints.len() > MAX_CONSTRAINTS {
            return Err(t.error("constraints", format!("at most {MAX_CONSTRAINTS} constraints (ECS limit)")));
        }
    }
    Ok(spec)
}

/// Splits `a(x),b(y)` on commas outside parentheses.
fn split_chain(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(s[start..].trim());
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

fn read_run_time(t: &mut Table<'_>) -> Result<RunTime, ScenarioError> {
    Ok(read_distribution(t, "run_time", true)?.unwrap_or(RunTime::Forever))
}

/// A duration or a distribution of durations at `key`: `"90s"`, `"forever"` (when allowed), or
/// `{ distribution = "constant" | "exponential" | "lognormal" | "uniform", … }`.
pub(super) fn read_distribution(t: &mut Table<'_>, key: &str, forever_allowed: bool) -> Result<Option<RunTime>, ScenarioError> {
    let forever = if forever_allowed { "\"forever\", " } else { "" };
    match t.opt_value(key) {
        None => Ok(None),
        Some(Value::String(s)) if s == "forever" && forever_allowed => Ok(Some(RunTime::Forever)),
        Some(Value::String(s)) => units::parse_duration(s)
            .map(|d| Some(RunTime::Constant(d)))
            .map_err(|m| t.error(key, format!("{m}; or {forever}a table such as {{ distribution = \"exponential\", mean = \"10m\" }}"))),
        Some(Value::Integer(_) | Value::Float(_)) => Ok(t.opt_duration(key)?.map(RunTime::Constant)),
        Some(Value::Table(_)) => {
            let mut d = t.table(key)?;
            let dist = d.str("distribution")?;
            let positive = |d: &mut Table<'_>, key: &str| -> Result<f64, ScenarioError> {
                let v = d.duration(key)?;
                if v == SimTime::ZERO {
                    return Err(d.error(key, "must be greater than zero"));
                }
                Ok(v.as_secs_f64())
            };
            let rt = match dist {
                "constant" => RunTime::Constant(d.duration("value")?),
                "exponential" => RunTime::Exponential { mean_s: positive(&mut d, "mean")? },
                "lognormal" => RunTime::LogNormal { mean_s: positive(&mut d, "mean")?, std_dev_s: d.duration("std_dev")?.as_secs_f64() },
                "uniform" => {
                    let min_s = d.duration("min")?.as_secs_f64();
                    let max_s = d.duration("max")?.as_secs_f64();
                    if max_s < min_s {
                        return Err(d.error("max", "must not be below min"));
                    }
                    RunTime::Uniform { min_s, max_s }
                }
                other => {
                    return Err(d.error(
                        "distribution",
                        format!("unknown distribution `{other}`; allowed: constant, exponential, lognormal, uniform"),
                    ));
                }
            };
            d.finish()?;
            Ok(Some(rt))
        }
        Some(other) => Err(t.error(key, format!("expected a duration, {forever}or a table, found {}", other.type_str()))),
    }
}

/// What reading a workload needs from the rest of the scenario.
pub(super) struct WorkloadContext<'a> {
    pub(super) raw: &'a RawScenario,
    pub(super) task_definitions: &'a [TaskDefinition],
    pub(super) default_placement: &'a Option<PlacementSpec>,
    pub(super) registry: &'a StrategyRegistry,
    pub(super) known_attributes: &'a BTreeSet<&'a str>,
    pub(super) horizon: SimTime,
    pub(super) network: Option<&'a NetworkSpec>,
    pub(super) load_balancers: &'a [super::load_balancer::LoadBalancerSpec],
    /// The AZs the host groups have hosts in.
    pub(super) host_azs: &'a [crate::model::AzId],
    pub(super) azs: &'a [String],
}

pub(super) fn read_workload(
    name: &str,
    w: &mut Table<'_>,
    ctx: &WorkloadContext<'_>,
    input_hash: &mut u64,
) -> Result<WorkloadSpec, ScenarioError> {
    let WorkloadContext { raw, task_definitions, default_placement, registry, known_attributes, horizon, network, .. } = *ctx;
    let kind = w.opt_str("kind")?.ok_or_else(|| w.error("kind", "missing (required); allowed: service, poisson, batch, trace"))?;
    let family_index = |w: &Table<'_>, key: &str, family: &str| -> Result<u32, ScenarioError> {
        task_definitions.iter().position(|t| t.family == family).map(|i| i as u32).ok_or_else(|| {
            w.error(
                key,
                format!(
                    "unknown task definition family `{family}`; loaded: {}",
                    task_definitions.iter().map(|t| t.family.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
        })
    };
    let (arrivals, task_definition) = match kind {
        "service" => {
            let desired_count =
                w.opt_u32_min("desired_count", 0)?.ok_or_else(|| w.error("desired_count", "missing (required for a service)"))?;
            if desired_count > 5_000 {
                return Err(w.error("desired_count", "at most 5,000 tasks per service (ECS quota)"));
            }
            (Arrivals::Service { desired_count }, {
                let fam = w.str("task_definition")?;
                family_index(w, "task_definition", fam)?
            })
        }
        "poisson" => {
            let mut a = w.table("arrival")?;
            let schedule = read_rate_schedule(&mut a)?;
            a.finish()?;
            (Arrivals::Poisson(schedule), {
                let fam = w.str("task_definition")?;
                family_index(w, "task_definition", fam)?
            })
        }
        "batch" => {
            let at = w.duration("at")?;
            let count = w.opt_u32_min("count", 1)?.ok_or_else(|| w.error("count", "missing (required), a whole number ≥ 1"))?;
            if at >= horizon {
                return Err(w.error("at", "is at or after the horizon; nothing would run"));
            }
            (Arrivals::Batch { at, count }, {
                let fam = w.str("task_definition")?;
                family_index(w, "task_definition", fam)?
            })
        }
        "trace" => {
            let rel = w.str("file")?;
            let path = raw.dir.join(rel);
            let text = super::input::read_text_file(&path).map_err(|e| w.error("file", e))?;
            *input_hash = combine_hash(*input_hash, &text);
            let mut records =
                parse_trace(&text).map_err(|(line, m)| ScenarioError::new(path.display().to_string(), format!("line {line}"), m))?;
            for r in &mut records {
                r.task_definition = family_index(w, "file", &r.family)
                    .map_err(|e| ScenarioError::new(path.display().to_string(), format!("line {}, family", r.line), e.message))?;
            }
            let td = match records.first() {
                Some(r) => r.task_definition,
                None => return Err(w.error("file", "the trace has no rows")),
            };
            (Arrivals::Trace(records), td)
        }
        other => return Err(w.error("kind", format!("unknown workload kind `{other}`; allowed: service, poisson, batch, trace"))),
    };
    let run_time = if matches!(arrivals, Arrivals::Trace(_)) { RunTime::Forever } else { read_run_time(w)? };
    let start_delay = w.opt_duration("start_delay")?.unwrap_or(SimTime::ZERO);
    let placement = match w.opt_table("placement")? {
        Some(mut p) => {
            let spec = read_placement(&mut p, registry, known_attributes)?;
            p.finish()?;
            let mut spec = spec;
            if spec.strategies.is_empty() {
                spec.strategies = default_for(&arrivals).strategies;
            }
            spec
        }
        None => default_placement.clone().map_or_else(
            || default_for(&arrivals),
            |mut p| {
                if p.strategies.is_empty() {
                    p.strategies = default_for(&arrivals).strategies;
                }
                p
            },
        ),
    };
    let family = &task_definitions[task_definition as usize].family;
    let group = if arrivals.is_service() {
        if w.has("group") {
            return Err(w.error("group", "a service's task group is its name and cannot be set (ECS)"));
        }
        format!("service:{name}")
    } else {
        let g = w.opt_str("group")?.map_or_else(|| format!("family:{family}"), str::to_string);
        if g.is_empty() || g.len() > 255 {
            return Err(w.error("group", "task group names are 1 to 255 characters"));
        }
        g
    };
    let td = &task_definitions[task_definition as usize];
    let ec2_ok = td.requires_compatibilities.is_empty() || td.requires_compatibilities.contains(&Compatibility::Ec2);
    let launch_type = match w.opt_str("launch_type")? {
        None if ec2_ok => LaunchType::Ec2,
        None if td.is_fargate() => LaunchType::Fargate,
        None | Some("EXTERNAL") => {
            // ECS Anywhere: EXTERNAL instances are on-premises hosts the user registers; their
            // network is not a VPC. Not modelled: say how to study them instead.
            return Err(w.error(
                "launch_type",
                format!(
                    "task definition `{family}` requires {}: the EXTERNAL launch type (ECS Anywhere) is not simulated; \
                     to study your registered instances, add \"EC2\" to requiresCompatibilities and describe them as a host group",
                    td.requires_compatibilities.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        Some("EC2") if ec2_ok => LaunchType::Ec2,
        Some("FARGATE") if td.is_fargate() => LaunchType::Fargate,
        Some(lt @ ("EC2" | "FARGATE")) => {
            return Err(w.error("launch_type", format!("task definition `{family}` is not compatible with {lt} (requiresCompatibilities)")));
        }
        Some(other) => {
            return Err(w.error("launch_type", format!("unknown launch type `{other}`; allowed: EC2, FARGATE (EXTERNAL is not simulated)")));
        }
    };
    if launch_type == LaunchType::Fargate {
        if matches!(arrivals, Arrivals::Trace(_)) {
            return Err(w.error("launch_type", "trace workloads run on EC2 in this version"));
        }
        if w.has("placement") {
            return Err(w.error("placement", "Fargate supports no placement strategies or constraints (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement.html)"));
        }
    }
    let awsvpc = td.network_mode == NetworkMode::Awsvpc;
    let subnets = match (w.opt_strings("subnets")?, awsvpc) {
        (Some(_), false) => {
            return Err(w.error("subnets", format!("`{family}` does not use the awsvpc network mode; only awsvpc tasks take subnets")));
        }
        (None, true) => {
            return Err(w.error(
                "subnets",
                "an awsvpc task needs subnets (its awsvpcConfiguration), e.g. subnets = [\"private-a\", \"private-b\"]",
            ));
        }
        (None, false) => Vec::new(),
        (Some(names), true) => {
            let net = network.ok_or_else(|| w.error("subnets", "there is no [network] table declaring subnets"))?;
            if names.is_empty() || names.len() > 16 {
                return Err(w.error("subnets", "give 1 to 16 subnets (ECS limit per awsvpcConfiguration)"));
            }
            let mut ids = Vec::new();
            for n in names {
                let id = net.subnet_id(n).ok_or_else(|| w.error("subnets", format!("unknown subnet `{n}`; declared: {}", net.names())))?;
                if ids.contains(&id) {
                    return Err(w.error("subnets", format!("`{n}` is listed twice")));
                }
                ids.push(id);
            }
            ids
        }
    };
    let rollout = if arrivals.is_service() {
        // Where the tasks can run: their subnets' AZs (awsvpc), else every AZ with hosts.
        let task_azs: Vec<crate::model::AzId> = match network {
            Some(net) if !subnets.is_empty() => subnets.iter().map(|s| net.subnets[s.0 as usize].az).collect(),
            _ => ctx.host_azs.to_vec(),
        };
        let target_group = super::load_balancer::read_target_group(w, ctx.load_balancers, network, &task_azs, ctx.azs)?;
        let rollout = super::deployment::read_rollout(w, horizon, task_definitions, family_index, task_definition, target_group)?;
        for d in &rollout.deployments {
            let new = &task_definitions[d.task_definition as usize];
            let ok = match launch_type {
                LaunchType::Fargate => new.is_fargate(),
                LaunchType::Ec2 => new.requires_compatibilities.is_empty() || new.requires_compatibilities.contains(&Compatibility::Ec2),
            };
            if !ok {
                return Err(w.error(
                    "deployments",
                    format!("task definition `{}` is not compatible with {launch_type:?} (requiresCompatibilities)", new.family),
                ));
            }
        }
        Some(rollout)
    } else {
        for key in ["load_balancer", "health_failures", "health_check_grace_period", "target_health_check"] {
            if w.has(key) {
                return Err(w.error(key, "only a service (kind = \"service\") sits behind a load balancer and is health-checked by ECS"));
            }
        }
        None
    };
    if launch_type == LaunchType::Fargate {
        // Fargate kills a container at most 120 s after SIGTERM.
        let revisions =
            std::iter::once(task_definition).chain(rollout.iter().flat_map(|r| r.deployments.iter().map(|d| d.task_definition)));
        for td in revisions {
            let td = &task_definitions[td as usize];
            if let Some(c) = td.containers.iter().find(|c| c.stop_timeout_s.is_some_and(|s| s > 120)) {
                return Err(w.error(
                    "task_definition",
                    format!(
                        "container `{}` of `{}` has stopTimeout {} s; on Fargate the maximum is 120 s",
                        c.name,
                        td.family,
                        c.stop_timeout_s.unwrap_or(0)
                    ),
                ));
            }
        }
    }
    Ok(WorkloadSpec {
        name: name.to_string(),
        arrivals,
        task_definition,
        run_time,
        start_delay,
        placement,
        group,
        launch_type,
        subnets,
        rollout,
    })
}

/// A rate: `rate_per_s`, or `schedule`, steps `{ from = "0h", rate_per_s = … }` starting at 0 with
/// an optional `period` after which they repeat.
pub(super) fn read_rate_schedule(a: &mut Table<'_>) -> Result<RateSchedule, ScenarioError> {
    let schedule = if a.has("schedule") {
        let steps = a.opt_array("schedule")?.expect("checked");
        let mut out = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let key = format!("schedule[{i}]");
            let st = step.as_table().ok_or_else(|| a.error(&key, "expected a table { from = \"8h\", rate_per_s = 2.0 }"))?;
            let from = st
                .get("from")
                .and_then(Value::as_str)
                .ok_or_else(|| a.error(&format!("{key}.from"), "missing; a duration such as \"8h\""))?;
            let from = units::parse_duration(from).map_err(|m| a.error(&format!("{key}.from"), m))?;
            let rate = st
                .get("rate_per_s")
                .and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64)))
                .ok_or_else(|| a.error(&format!("{key}.rate_per_s"), "missing; a number ≥ 0"))?;
            if !(rate.is_finite() && rate >= 0.0) {
                return Err(a.error(&format!("{key}.rate_per_s"), "must be a number ≥ 0"));
            }
            if let Some(extra) = st.keys().find(|k| *k != "from" && *k != "rate_per_s") {
                return Err(a.error(&key, format!("unknown key `{extra}`; allowed: from, rate_per_s")));
            }
            out.push((from, rate));
        }
        if out.first().map(|s| s.0) != Some(SimTime::ZERO) || out.windows(2).any(|p| p[1].0 <= p[0].0) {
            return Err(a.error("schedule", "steps must start at \"0s\" and be in increasing `from` order"));
        }
        let period = a.opt_duration("period")?;
        if let Some(p) = period
            && out.last().is_some_and(|s| s.0 >= p)
        {
            return Err(a.error("period", "every step must start before the period ends"));
        }
        RateSchedule { steps: out, period }
    } else {
        let rate = a.opt_f64("rate_per_s")?.ok_or_else(|| a.error("rate_per_s", "missing; give rate_per_s, or a schedule of steps"))?;
        if rate <= 0.0 {
            return Err(a.error("rate_per_s", "must be greater than zero"));
        }
        RateSchedule::constant(rate)
    };
    Ok(schedule)
}

fn default_for(arrivals: &Arrivals) -> PlacementSpec {
    if arrivals.is_service() { PlacementSpec::service_default() } else { PlacementSpec::run_task_default() }
}
