//! Replay of real ECS history: Amazon ECS "Task State Change" events, as EventBridge delivers them
//! (one JSON event per line, or one JSON array of events), turned into the trace CSV the `trace`
//! workload replays (`time_s,family,duration_s`), and task definitions sized as the events say.
//!
//! The fields used are those of the example event in the ECS developer guide
//! (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html>):
//! `detail-type` (must be `ECS Task State Change`), and in `detail`: `taskArn` (events of one task
//! are combined), `taskDefinitionArn` (its family), `createdAt` (the arrival), `startedAt` and
//! `stoppedAt` (the run time is the time between them; these are ISO 8601 timestamps), the task's
//! `cpu` and `memory` (strings, as in the example: `"256"`, `"512"`; `"1 vCPU"` and `"2 GB"` are
//! read too) or the same keys in `overrides`, which win, and the first container's `image`.
//!
//! A task that never stopped in the file is replayed as still running at the end: its duration is
//! [`STILL_RUNNING_S`], longer than any horizon. A task that stopped without ever running (a
//! failed start) is not replayed, and said. Every line that cannot be used is reported with its
//! line number and why, and skipped without losing the rest.
//!
//! Architecture invariant: `import` does no I/O: text in, text out (the CLI reads and writes).

mod time;

use std::collections::BTreeMap;

use serde_json::Value;

pub use time::parse_rfc3339_us;

/// The duration written for a task still running at the end of the file: the longest horizon a
/// scenario may have, so the replayed task runs to the end of any run.
pub const STILL_RUNNING_S: u64 = crate::scenario::MAX_HORIZON_DAYS * 86_400;

/// Defaults for tasks whose events give no size (e.g. EC2 tasks sized by their containers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// CPU units.
    pub cpu: Option<u32>,
    pub memory_mib: Option<u32>,
}

/// A line (or array element) of the input that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// 1-based line where the event starts.
    pub line: usize,
    pub message: String,
}

/// One task of the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceTask {
    /// Microseconds after the first task's `createdAt`.
    pub time_us: u64,
    /// The trace's family: the task definition family, or `<family>-<cpu>-<memory>` when the
    /// file has the family in several sizes.
    pub family: String,
    /// `startedAt` → `stoppedAt`; `None`: still running at the end of the file.
    pub run_time_us: Option<u64>,
    pub task_arn: String,
}

/// A trace family's task definition, as the events describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilySize {
    pub family: String,
    pub cpu: Option<u32>,
    pub memory_mib: Option<u32>,
    pub image: Option<String>,
}

/// What an import found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Import {
    /// Events read (usable or not).
    pub events: usize,
    pub tasks: Vec<TraceTask>,
    /// One per trace family, by name.
    pub families: Vec<FamilySize>,
    /// Lines and tasks not used, in line order.
    pub skipped: Vec<Skipped>,
    /// Tasks still running (or waiting) at the end of the file.
    pub still_running: usize,
}

/// A task's (CPU units, memory MiB), each if known.
type Size = (Option<u32>, Option<u32>);

/// An event and the line it starts on, or why that line is not JSON.
type LineEvent = (usize, Result<Value, String>);

/// One task's events, combined.
#[derive(Debug, Default)]
struct TaskEvents {
    line: usize,
    family: String,
    created_us: Option<i64>,
    started_us: Option<i64>,
    stopped_us: Option<i64>,
    cpu: Option<u32>,
    memory_mib: Option<u32>,
    image: Option<String>,
    stop_code: Option<String>,
    stopped_reason: Option<String>,
}

/// Reads the events of `text` (JSON Lines, or a JSON array) and builds the trace.
pub fn import(text: &str, options: ImportOptions) -> Import {
    let mut out = Import::default();
    let events = match split_events(text) {
        Ok(events) => events,
        Err(skip) => {
            out.skipped.push(skip);
            return out;
        }
    };
    let mut tasks: BTreeMap<String, TaskEvents> = BTreeMap::new();
    for (line, event) in events {
        out.events += 1;
        if let Err(message) = event.and_then(|event| read_event(&event, line, &mut tasks)) {
            out.skipped.push(Skipped { line, message });
        }
    }
    let mut kept: Vec<(String, TaskEvents)> = Vec::new();
    for (arn, t) in tasks {
        let id = arn.rsplit('/').next().unwrap_or(&arn).to_string();
        match (t.created_us, t.started_us, t.stopped_us) {
            (None, _, _) => {
                out.skipped.push(Skipped { line: t.line, message: format!("task {id}: no event gives its createdAt; not replayed") })
            }
            (Some(_), None, Some(_)) => out.skipped.push(Skipped {
                line: t.line,
                message: format!(
                    "task {id} stopped before it ran (stopCode {}: {}); not replayed",
                    t.stop_code.as_deref().unwrap_or("none"),
                    t.stopped_reason.as_deref().unwrap_or("no stoppedReason")
                ),
            }),
            (Some(_), Some(start), Some(stop)) if stop < start => {
                out.skipped.push(Skipped { line: t.line, message: format!("task {id}: stoppedAt is before startedAt; not replayed") })
            }
            _ => kept.push((arn, t)),
        }
    }
    let Some(origin) = kept.iter().filter_map(|(_, t)| t.created_us).min() else {
        out.skipped.sort_by_key(|s| s.line);
        return out;
    };
    // The sizes each family appears in, with the defaults applied.
    let size = |t: &TaskEvents| (t.cpu.or(options.cpu), t.memory_mib.or(options.memory_mib));
    let mut sizes: BTreeMap<&str, Vec<Size>> = BTreeMap::new();
    for (_, t) in &kept {
        let s = sizes.entry(t.family.as_str()).or_default();
        if !s.contains(&size(t)) {
            s.push(size(t));
        }
    }
    let trace_family = |t: &TaskEvents| match (sizes[t.family.as_str()].len(), size(t)) {
        (n, (Some(cpu), Some(mem))) if n > 1 => format!("{}-{cpu}-{mem}", t.family),
        _ => t.family.clone(),
    };
    let mut families: BTreeMap<String, FamilySize> = BTreeMap::new();
    for (arn, t) in &kept {
        let family = trace_family(t);
        let (cpu, memory_mib) = size(t);
        let entry = families.entry(family.clone()).or_insert(FamilySize { family: family.clone(), cpu, memory_mib, image: None });
        if entry.image.is_none() {
            entry.image.clone_from(&t.image);
        }
        let run_time_us = match (t.started_us, t.stopped_us) {
            (Some(start), Some(stop)) => Some((stop - start) as u64),
            _ => None,
        };
        out.still_running += usize::from(run_time_us.is_none());
        let created = t.created_us.expect("kept tasks have createdAt");
        out.tasks.push(TraceTask { time_us: (created - origin) as u64, family, run_time_us, task_arn: arn.clone() });
    }
    out.tasks.sort_by(|a, b| (a.time_us, &a.family, &a.task_arn).cmp(&(b.time_us, &b.family, &b.task_arn)));
    out.families = families.into_values().collect();
    out.skipped.sort_by_key(|s| s.line);
    out
}

/// The events of `text` with the line each starts on. A JSON array is split into its elements; a
/// syntax error in it cannot be skipped past and ends the import (as an `Err` naming its line).
fn split_events(text: &str) -> Result<Vec<LineEvent>, Skipped> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with('[') {
        return Ok(text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| (i + 1, serde_json::from_str::<Value>(line).map_err(|e| format!("not JSON: {e}"))))
            .collect());
    }
    let offset = text.len() - trimmed.len();
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Skipped { line: e.line(), message: format!("not a JSON array of events: {e}; nothing imported") })?;
    let items = value.as_array().cloned().unwrap_or_default();
    let starts = element_starts(&text[offset..]);
    let line_of = |byte: usize| text[..offset + byte].matches('\n').count() + 1;
    Ok(items.into_iter().enumerate().map(|(i, v)| (starts.get(i).map_or(1, |&b| line_of(b)), Ok(v))).collect())
}

/// Byte offsets of the top-level elements of a JSON array (valid JSON, starting with `[`).
fn element_starts(array: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let (mut depth, mut in_string, mut escaped, mut expecting) = (0usize, false, false, false);
    for (i, c) in array.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if depth == 1 && expecting && !c.is_whitespace() && c != ']' {
            starts.push(i);
            expecting = false;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => {
                depth += 1;
                if depth == 1 {
                    expecting = true;
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 1 => expecting = true,
            _ => {}
        }
    }
    starts
}

/// Folds one event into its task's record, or says why it cannot be used.
fn read_event(event: &Value, line: usize, tasks: &mut BTreeMap<String, TaskEvents>) -> Result<(), String> {
    let obj = event.as_object().ok_or("not a JSON object (an EventBridge event is one)")?;
    match obj.get("detail-type").and_then(Value::as_str) {
        Some("ECS Task State Change") => {}
        Some(other) => return Err(format!("not an ECS Task State Change event (detail-type `{other}`)")),
        None => return Err("no `detail-type`: not an EventBridge event".into()),
    }
    let detail = obj.get("detail").and_then(Value::as_object).ok_or("no `detail` object")?;
    let text = |key: &str| detail.get(key).and_then(Value::as_str);
    let arn = text("taskArn").ok_or("`detail.taskArn` is missing")?;
    let td_arn = text("taskDefinitionArn").ok_or("`detail.taskDefinitionArn` is missing")?;
    let family = family_of(td_arn).ok_or_else(|| format!("`detail.taskDefinitionArn` `{td_arn}` is not a task definition ARN"))?;
    let time = |key: &str| -> Result<Option<i64>, String> {
        match detail.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => parse_rfc3339_us(s).map(Some).map_err(|e| format!("`detail.{key}` `{s}`: {e}")),
            Some(other) => Err(format!("`detail.{key}` is {other}, not an ISO 8601 timestamp")),
        }
    };
    let (created, started) = (time("createdAt")?, time("startedAt")?);
    let stopped = match time("stoppedAt")? {
        Some(t) => Some(t),
        None => time("executionStoppedAt")?,
    };
    let overrides = detail.get("overrides").and_then(Value::as_object);
    let size = |key: &str, parse: fn(&str) -> Option<u32>| -> Result<Option<u32>, String> {
        let from_override = overrides.and_then(|o| o.get(key)).map(|v| (format!("detail.overrides.{key}"), v));
        let from_task = detail.get(key).map(|v| (format!("detail.{key}"), v));
        match from_override.or(from_task) {
            None | Some((_, Value::Null)) => Ok(None),
            Some((path, v)) => {
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    other => return Err(format!("`{path}` is {other}, not a size")),
                };
                parse(&s).map(Some).ok_or_else(|| format!("`{path}` `{s}` is not a size"))
            }
        }
    };
    let cpu = size("cpu", parse_cpu_units)?;
    let memory_mib = size("memory", parse_memory_mib)?;
    let image = detail
        .get("containers")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .and_then(|c| c.get("image"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let t = tasks.entry(arn.to_string()).or_insert_with(|| TaskEvents { line, family: family.to_string(), ..TaskEvents::default() });
    if t.family != family {
        return Err(format!("task {arn} was of family `{}` on line {}, here `{family}`", t.family, t.line));
    }
    let earliest = |a: Option<i64>, b: Option<i64>| match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    };
    t.created_us = earliest(t.created_us, created);
    t.started_us = earliest(t.started_us, started);
    t.stopped_us = earliest(t.stopped_us, stopped);
    t.cpu = cpu.or(t.cpu);
    t.memory_mib = memory_mib.or(t.memory_mib);
    t.image = t.image.take().or(image);
    if let Some(code) = text("stopCode") {
        t.stop_code = Some(code.to_string());
    }
    if let Some(reason) = text("stoppedReason") {
        t.stopped_reason = Some(reason.to_string());
    }
    Ok(())
}

/// `arn:aws:ecs:us-west-2:111122223333:task-definition/web:3` → `web`.
fn family_of(arn: &str) -> Option<&str> {
    let (_, rest) = arn.split_once(":task-definition/")?;
    let family = rest.split(':').next()?;
    (!family.is_empty()).then_some(family)
}

/// `"256"` (CPU units) or `"1 vCPU"` / `"0.5 vcpu"`.
fn parse_cpu_units(s: &str) -> Option<u32> {
    let lower = s.trim().to_ascii_lowercase();
    let (number, scale) = match lower.strip_suffix("vcpu") {
        Some(n) => (n.trim(), 1024.0),
        None => (lower.as_str(), 1.0),
    };
    let v: f64 = number.parse().ok()?;
    let units = (v * scale).round();
    (units >= 1.0 && units <= f64::from(u32::MAX)).then_some(units as u32)
}

/// `"512"` (MiB) or `"2 GB"` / `"2GiB"` (ECS reads GB as GiB).
fn parse_memory_mib(s: &str) -> Option<u32> {
    let lower = s.trim().to_ascii_lowercase();
    let (number, scale) = match lower.strip_suffix("gib").or(lower.strip_suffix("gb")) {
        Some(n) => (n.trim(), 1024.0),
        None => (lower.strip_suffix("mib").or(lower.strip_suffix("mb")).unwrap_or(&lower).trim(), 1.0),
    };
    let v: f64 = number.parse().ok()?;
    let mib = (v * scale).round();
    (mib >= 1.0 && mib <= f64::from(u32::MAX)).then_some(mib as u32)
}

/// Seconds from microseconds, with no trailing zeros: `12.5`, `3`.
fn secs(us: u64) -> String {
    let (s, frac) = (us / 1_000_000, us % 1_000_000);
    if frac == 0 { s.to_string() } else { format!("{s}.{frac:06}").trim_end_matches('0').to_string() }
}

/// The trace CSV (`time_s,family,duration_s`), one row per task, by arrival.
pub fn trace_csv(import: &Import) -> String {
    let mut out = String::from("time_s,family,duration_s\n");
    for t in &import.tasks {
        let duration = t.run_time_us.map_or_else(|| STILL_RUNNING_S.to_string(), secs);
        out.push_str(&format!("{},{},{duration}\n", secs(t.time_us), t.family));
    }
    out
}

/// A task definition (register-task-definition JSON) for a trace family, sized as its events
/// say; `Err` says what is missing.
pub fn task_definition_json(f: &FamilySize) -> Result<String, String> {
    let (Some(cpu), Some(memory)) = (f.cpu, f.memory_mib) else {
        return Err(format!(
            "family `{}`: its events give no task cpu and memory; pass --cpu and --memory, or write its task definition yourself",
            f.family
        ));
    };
    let value = serde_json::json!({
        "family": f.family,
        "cpu": cpu.to_string(),
        "memory": memory.to_string(),
        "networkMode": "bridge",
        "requiresCompatibilities": ["EC2"],
        "containerDefinitions": [{
            "name": "main",
            "image": f.image.clone().unwrap_or_else(|| "public.ecr.aws/docker/library/busybox:latest".to_string()),
            "essential": true
        }]
    });
    Ok(serde_json::to_string_pretty(&value).expect("plain data") + "\n")
}

#[cfg(test)]
mod tests;
