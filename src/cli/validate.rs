//! `validate`: checks a scenario and prints what the simulator derives from it
//! ([`clustersim::scenario::derived`]), as aligned tables or, with `--json`, as one JSON object.

use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use super::CliResult;
use super::commands::{bad, load_plan};
use clustersim::placement::StrategyRegistry;
use clustersim::scenario::RawScenario;
use clustersim::scenario::derived::{self, Derived};
use clustersim::scenario::plan::{PlanSpec, Search};
use clustersim::scenario::unrouted_warnings;

/// What `validate --json` prints.
#[derive(Serialize)]
struct Report<'a> {
    scenario: String,
    valid: bool,
    hosts: u64,
    azs: usize,
    task_definitions: usize,
    workloads: usize,
    sweep_points: usize,
    replications: u32,
    runs: usize,
    /// Layouts where some task could never pull its images or ship its logs (the run would
    /// stop those tasks with ECS's reasons): one line per workload, subnet and container.
    warnings: Vec<String>,
    /// Derived from the first sweep point (the scenario as written when there is no sweep).
    derived: &'a Derived,
    /// The `[plan]` search, if the scenario has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<serde_json::Value>,
}

pub fn validate(path: &Path, json: bool) -> CliResult {
    let plan = load_plan(path, None)?;
    // What `plan` would refuse in a [plan] table, refused here too.
    let raw = RawScenario::read(path).map_err(bad)?;
    let search = PlanSpec::read(&raw, &StrategyRegistry::new()).map_err(bad)?;
    let s = &plan.base;
    let table = derived::derive(s);
    let warnings = unrouted_warnings(s);
    if json {
        let report = Report {
            scenario: path.display().to_string(),
            valid: true,
            hosts: s.host_count(),
            azs: s.azs.len(),
            task_definitions: s.task_definitions.len(),
            workloads: s.workloads.len(),
            sweep_points: plan.point_count(),
            replications: plan.replications,
            runs: plan.run_count(),
            warnings,
            derived: &table,
            plan: search.as_ref().map(|p| {
                serde_json::json!({
                    "knobs": p.knobs.iter().map(|k| serde_json::json!({"name": k.axis.key, "keys": k.axis.keys, "values": k.axis.values.len(), "search": search_word(k.search)})).collect::<Vec<_>>(),
                    "targets": p.targets.iter().map(|t| t.text()).collect::<Vec<_>>(),
                    "objective": p.objective.name(),
                    "replications": p.replications,
                })
            }),
        };
        println!("{}", serde_json::to_string_pretty(&report).expect("plain data serialises"));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}: valid — {} hosts in {} AZs, {} task definitions, {} workloads, {} sweep points × {} replications = {} runs",
        path.display(),
        s.host_count(),
        s.azs.len(),
        s.task_definitions.len(),
        s.workloads.len(),
        plan.point_count(),
        plan.replications,
        plan.run_count()
    );
    if let Some(p) = &search {
        let knobs: Vec<String> =
            p.knobs.iter().map(|k| format!("{} ({} values, {})", k.axis.key, k.axis.values.len(), search_word(k.search))).collect();
        println!(
            "plan: knobs {}; targets {}; objective {}; {} replications per candidate",
            knobs.join(", "),
            p.targets.iter().map(|t| t.text()).collect::<Vec<_>>().join(", "),
            p.objective.name(),
            p.replications
        );
        println!("(derived values below are for the scenario as written, before any knob is set)");
    }
    if plan.point_count() > 1 {
        println!("(derived values below are for the first sweep point)");
    }
    if !warnings.is_empty() {
        println!("\nWarnings: tasks that can never start (the run stops them with these reasons)");
        for w in &warnings {
            println!("  warning: {w}");
        }
    }
    print!("{}", render(&table));
    Ok(ExitCode::SUCCESS)
}

fn search_word(s: Search) -> &'static str {
    match s {
        Search::Bisect => "bisect",
        Search::Exhaustive => "exhaustive",
    }
}

fn opt(n: Option<u32>) -> String {
    n.map_or_else(|| "-".to_string(), |n| n.to_string())
}

/// The derived tables as text; `-` marks a resource that sets no limit.
fn render(d: &Derived) -> String {
    let mut out = String::new();
    if let Some(first) = d.host_types.first() {
        out += &format!(
            "\nHost types: registered memory = physical × {} − reserved {} MiB; registered CPU = 1024 units per vCPU\n",
            first.registered_memory_fraction, first.reserved_memory_mib
        );
        let rows = d.host_types.iter().map(|t| {
            vec![
                t.instance_type.clone(),
                t.host_groups.join(","),
                t.hosts.to_string(),
                t.vcpu.to_string(),
                t.physical_memory_mib.to_string(),
                t.registered_cpu_units.to_string(),
                t.registered_memory_mib.to_string(),
                t.eni_task_limit.to_string(),
                if t.trunking { "yes" } else { "no" }.to_string(),
            ]
        });
        out += &table(
            &["instance type", "host groups", "hosts", "vCPU", "physical MiB", "registered CPU", "registered MiB", "ENI slots", "trunking"],
            rows,
        );
    }
    if !d.fits.is_empty() {
        out += "\nTasks per host (an empty host holding only this family; binding = the resource that limits it)\n";
        let rows = d.fits.iter().map(|f| {
            vec![
                f.instance_type.clone(),
                f.family.clone(),
                f.task_cpu_units.to_string(),
                f.task_memory_mib.to_string(),
                opt(f.by_cpu),
                f.by_memory.to_string(),
                opt(f.by_ports),
                opt(f.by_eni_slots),
                f.fit.to_string(),
                f.binding.as_str().to_string(),
            ]
        });
        out += &table(
            &["instance type", "family", "task CPU", "task MiB", "by cpu", "by memory", "by ports", "by ENI slots", "fit", "binding"],
            rows,
        );
    }
    if !d.subnets.is_empty() {
        out += "\nSubnets: usable = addresses − 5 reserved by AWS; hosts' primary and trunk ENIs, NAT gateways and load balancers hold theirs from the start\n";
        let rows = d.subnets.iter().map(|s| {
            vec![
                s.subnet.clone(),
                s.az.clone(),
                s.cidr.clone(),
                s.usable_ips.to_string(),
                s.held_by_hosts_and_nat.to_string(),
                s.held_by_load_balancers.to_string(),
                s.free_for_tasks.to_string(),
            ]
        });
        out += &table(&["subnet", "az", "cidr", "usable", "held by hosts/NAT", "held by load balancers", "free for tasks"], rows);
    }
    if !d.capacity_providers.is_empty() {
        out += "\nCapacity providers (Auto Scaling groups): the group's size moves between min and max with managed scaling\n";
        let rows = d.capacity_providers.iter().map(|p| {
            vec![
                p.name.clone(),
                p.host_group.clone(),
                p.instance_type.clone(),
                p.start_size.to_string(),
                format!("{}–{}", p.min_size, p.max_size),
                if p.managed_scaling { format!("target {} %, warm-up {} s", p.target_capacity, p.instance_warmup_s) } else { "off".into() },
                if p.managed_termination_protection { "yes".into() } else { "no".into() },
                if p.az_balanced_only { "balanced only".into() } else { "balanced best effort".into() },
                match p.spot {
                    None => "On-Demand".into(),
                    Some(sp) => format!(
                        "Spot: {} interruptions/instance-hour, {} × On-Demand{}",
                        sp.interruptions_per_instance_hour,
                        sp.price_fraction,
                        if sp.instance_draining { ", drained at notice" } else { "" }
                    ),
                },
                if p.workloads.is_empty() { "-".into() } else { p.workloads.join(", ") },
            ]
        });
        out += &table(
            &[
                "provider",
                "host group",
                "instance type",
                "at start",
                "min–max",
                "managed scaling",
                "termination protection",
                "AZ distribution",
                "pricing",
                "workloads",
            ],
            rows,
        );
    }
    if !d.fargate.is_empty() {
        out += "\nFargate task sizes\n";
        let rows = d
            .fargate
            .iter()
            .map(|f| vec![f.workload.clone(), f.family.clone(), f.cpu_units.to_string(), format!("{}", f.vcpu), f.memory_mib.to_string()]);
        out += &table(&["workload", "family", "CPU units", "vCPU", "memory MiB"], rows);
    }
    out
}

/// Left-aligned text columns, two spaces apart.
fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    lines.extend(rows);
    let widths: Vec<usize> =
        (0..header.len()).map(|c| lines.iter().map(|l| l.get(c).map_or(0, |v| v.chars().count())).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for line in &lines {
        let cells: Vec<String> = line.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}")).collect();
        out += cells.join("  ").trim_end();
        out += "\n";
    }
    out
}
