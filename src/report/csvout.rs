//! The per-run CSV files. Column names are stable; the README documents each one.

use std::path::Path;

use super::fmt_f64;
use crate::metrics::Metric;
use crate::scenario::sweep::RunSpec;
use crate::sim::RunResult;

type CsvResult = Result<(), csv::Error>;

/// `runs.csv`: one row per run: `run_id`, the swept parameters, `seed`, then every metric.
pub fn write_runs(path: &Path, runs: &[RunSpec], results: &[RunResult]) -> CsvResult {
    let mut w = csv::Writer::from_path(path)?;
    let mut header = vec!["run_id".to_string()];
    if let Some(first) = runs.first() {
        header.extend(first.params.iter().map(|(k, _)| k.clone()));
    }
    header.push("replication".into());
    header.push("seed".into());
    header.extend(Metric::ALL.iter().map(|m| m.name().to_string()));
    w.write_record(&header)?;
    for (spec, result) in runs.iter().zip(results) {
        let mut row = vec![spec.run_id.clone()];
        row.extend(spec.params.iter().map(|(_, v)| v.clone()));
        row.push(spec.replication.to_string());
        row.push(spec.seed.to_string());
        row.extend(Metric::ALL.iter().map(|m| fmt_f64(result.metrics.get(*m))));
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

/// `timeseries/<run_id>.csv`.
pub fn write_timeseries(path: &Path, result: &RunResult) -> CsvResult {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(&result.timeseries.columns)?;
    for row in &result.timeseries.rows {
        w.write_record(row.iter().map(|v| fmt_f64(*v)))?;
    }
    w.flush()?;
    Ok(())
}

fn opt_time(t: Option<crate::engine::SimTime>) -> String {
    t.map_or_else(String::new, |t| t.to_string())
}

/// `tasks/<run_id>.csv`: one row per task.
pub fn write_tasks(path: &Path, spec: &RunSpec, result: &RunResult) -> CsvResult {
    let s = &spec.scenario;
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "task_id",
        "workload",
        "family",
        "arrived_s",
        "placed_s",
        "running_s",
        "stopped_s",
        "host",
        "az",
        "subnet",
        "stop_reason",
    ])?;
    for t in &result.tasks {
        w.write_record([
            t.task.to_string(),
            s.workloads[t.workload as usize].name.clone(),
            s.task_definitions[t.task_definition as usize].family.clone(),
            t.arrived_at.to_string(),
            opt_time(t.placed_at),
            opt_time(t.running_at),
            opt_time(t.stopped_at),
            t.host.map_or_else(String::new, crate::model::cluster::instance_name),
            t.az.map_or_else(String::new, |az| s.azs[az.0 as usize].clone()),
            t.subnet.and_then(|id| s.network.as_ref().map(|n| n.subnets[id.0 as usize].name.clone())).unwrap_or_default(),
            t.stop_reason
                .map_or_else(|| if t.placed_at.is_some() { "running".into() } else { "waiting".into() }, |r| r.stopped_reason(t.host)),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// `decisions.csv`: one row per placement decision of every run.
pub fn write_decisions(path: &Path, runs: &[RunSpec], results: &[RunResult]) -> CsvResult {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "run_id",
        "time_s",
        "task_id",
        "workload",
        "host",
        "failure_reason",
        "hosts",
        "after_resources",
        "after_constraints",
        "best_after_strategies",
    ])?;
    for (spec, result) in runs.iter().zip(results) {
        for d in &result.decisions {
            let (host, reason) = match d.outcome {
                Ok(h) => (crate::model::cluster::instance_name(h), String::new()),
                Err(r) => (String::new(), r.ecs_reason().to_string()),
            };
            w.write_record([
                spec.run_id.clone(),
                d.time.to_string(),
                d.task.to_string(),
                spec.scenario.workloads[d.workload as usize].name.clone(),
                host,
                reason,
                d.explanation.hosts.to_string(),
                d.explanation.after_resources.to_string(),
                d.explanation.after_constraints.to_string(),
                d.explanation.best.to_string(),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// `subnets/<run_id>.csv`: a row per subnet of one run (assembled into `subnets.csv`).
pub fn write_subnets(path: &Path, spec: &RunSpec, result: &RunResult) -> CsvResult {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(["run_id", "subnet", "az", "cidr", "public", "usable_ips", "min_free_ips", "free_ips_end"])?;
    let Some(net) = spec.scenario.network.as_ref() else { return Ok(w.flush()?) };
    for row in &result.subnets {
        let s = &net.subnets[row.subnet.0 as usize];
        w.write_record([
            spec.run_id.clone(),
            s.name.clone(),
            spec.scenario.azs[s.az.0 as usize].clone(),
            s.cidr.to_string(),
            s.public.to_string(),
            row.usable.to_string(),
            row.min_free.to_string(),
            row.free_at_end.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// `deployments/<run_id>.csv`: a row per deployment of one run (assembled into `deployments.csv`).
pub fn write_deployments(path: &Path, spec: &RunSpec, result: &RunResult) -> CsvResult {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "run_id",
        "workload",
        "deployment",
        "cause",
        "task_definition",
        "desired_count",
        "started_s",
        "ended_s",
        "duration_s",
        "outcome",
        "tasks_started",
        "tasks_stopped",
        "failed_tasks",
        "peak_tasks",
        "peak_addresses",
    ])?;
    let s = &spec.scenario;
    for d in &result.deployments {
        let duration = d.ended_at.unwrap_or(s.horizon).saturating_sub(d.started_at);
        w.write_record([
            spec.run_id.clone(),
            s.workloads[d.workload as usize].name.clone(),
            format!("ecs-svc/{}", d.deployment),
            d.cause.clone(),
            s.task_definitions[d.task_definition as usize].family.clone(),
            d.desired.to_string(),
            d.started_at.to_string(),
            opt_time(d.ended_at),
            duration.to_string(),
            d.outcome.to_string(),
            d.tasks_started.to_string(),
            d.tasks_stopped.to_string(),
            d.failed_tasks.to_string(),
            d.peak_tasks.to_string(),
            d.peak_addresses.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// `providers/<run_id>.csv`: what each capacity provider used and cost in one run (assembled
/// into `providers.csv`).
pub fn write_providers(path: &Path, spec: &RunSpec, result: &RunResult) -> CsvResult {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "run_id",
        "provider",
        "kind",
        "pricing",
        "instance_hours",
        "vcpu_hours",
        "memory_gb_hours",
        "cost_run_usd",
        "cost_month_usd",
    ])?;
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for r in &result.providers {
        w.write_record([
            spec.run_id.clone(),
            r.name.clone(),
            r.kind.to_string(),
            r.pricing.to_string(),
            opt(r.instance_hours),
            opt(r.vcpu_hours),
            opt(r.memory_gb_hours),
            r.cost_run_usd.to_string(),
            r.cost_month_usd.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// `events/<run_id>.csv`: the service events of one run, in ECS's words, in time order.
pub fn write_service_events(path: &Path, spec: &RunSpec, result: &RunResult) -> CsvResult {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(["time_s", "workload", "deployment", "message"])?;
    for e in &result.service_events {
        w.write_record([
            e.time.to_string(),
            spec.scenario.workloads[e.workload as usize].name.clone(),
            format!("ecs-svc/{}", e.deployment),
            e.message.clone(),
        ])?;
    }
    w.flush()?;
    Ok(())
}
