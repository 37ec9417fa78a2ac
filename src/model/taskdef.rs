//! ECS task definitions: loading the JSON people keep on disk and refusing what
//! `RegisterTaskDefinition` would refuse.
//!
//! The simulator needs only a few facts from a task definition: how much memory
//! and CPU placement subtracts from an instance (docs/model.md#what-an-instance-registers-and-what-a-task-reserves), which
//! static host ports the task pins, and whether it runs on Fargate with a
//! legal task size (§3.1). Everything else in the file is ignored.
//!
//! Accepted inputs are the `register-task-definition --cli-input-json` form, the
//! `describe-task-definition` output (the `taskDefinition` wrapper is removed),
//! and console exports in which unset fields are `null`. Every rejection is a
//! [`TaskDefError`] naming the file, the JSON path and the problem in plain
//! words, so a broken scenario can be fixed without reading serde messages.
//! When the input was wrapped, paths start with `$.taskDefinition` so that they
//! point into the file as it is on disk.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::engine::SimTime;

/// Fargate task cpu values (Linux), docs/model.md#fargate.
pub const FARGATE_CPU_CHOICES: [u32; 7] = [256, 512, 1024, 2048, 4096, 8192, 16384];

/// Where ECS documents the task-definition parameters and their register-time rules.
pub const TASK_DEFINITION_PARAMETERS_URL: &str =
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html";
/// Where ECS documents its quotas (containers per task definition).
pub const SERVICE_QUOTAS_URL: &str = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html";
/// Where ECS lists the valid Fargate task sizes.
pub const FARGATE_TASK_SIZES_URL: &str = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html";
/// Where the RegisterTaskDefinition API states the EC2 and external task cpu range.
pub const REGISTER_TASK_DEFINITION_URL: &str = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html";

/// ECS refuses a task definition with more container definitions than this (a fixed quota).
pub const MAX_CONTAINERS_PER_TASK_DEFINITION: usize = 10;
/// Longest family or container name ECS registers.
pub const MAX_NAME_CHARS: usize = 255;
/// Task-level cpu ECS accepts on EC2 and external instances: 0.125 to 192 vCPU.
pub const EC2_TASK_CPU_UNITS: std::ops::RangeInclusive<u32> = 128..=196_608;

/// ECS counts "GB" in task sizes as GiB.
const GIB: u32 = 1024;

/// ECS defines 1 vCPU as 1024 CPU units (docs/model.md#units).
const UNITS_PER_VCPU: u32 = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum NetworkMode {
    Awsvpc,
    /// ECS's default for Linux tasks on EC2 when `networkMode` is absent.
    #[default]
    Bridge,
    Host,
    None,
}

impl NetworkMode {
    /// The spelling the ECS API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkMode::Awsvpc => "awsvpc",
            NetworkMode::Bridge => "bridge",
            NetworkMode::Host => "host",
            NetworkMode::None => "none",
        }
    }
}

impl fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Compatibility {
    Ec2,
    Fargate,
    External,
}

impl Compatibility {
    /// The spelling the ECS API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Compatibility::Ec2 => "EC2",
            Compatibility::Fargate => "FARGATE",
            Compatibility::External => "EXTERNAL",
        }
    }
}

impl fmt::Display for Compatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    /// The spelling the ECS API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    pub container_port: u16,
    /// The host port as ECS will use it. In awsvpc and host mode an absent
    /// `hostPort` means "same as `containerPort`", so it is filled in here. In
    /// bridge mode `None` means a dynamic port: ECS treats an absent `hostPort`
    /// and `0` alike, so both become `None`.
    pub host_port: Option<u16>,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerDefinition {
    pub name: String,
    pub image: String,
    /// 0 when unset.
    pub cpu_units: u32,
    /// Hard limit.
    pub memory_mib: Option<u32>,
    /// Soft limit.
    pub memory_reservation_mib: Option<u32>,
    /// ECS's default is true (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_essential>).
    pub essential: bool,
    pub port_mappings: Vec<PortMapping>,
    /// `logConfiguration.logDriver`.
    pub log_driver: Option<String>,
    /// `logConfiguration.options` `mode` and `max-buffer-size` (the driver's delivery mode).
    pub log_options: LogOptions,
    /// Names of the containers this one waits for.
    pub depends_on: Vec<String>,
    /// `linuxParameters.maxSwap` in MiB (EC2 only; absent = the instance's swap setting).
    pub max_swap_mib: Option<u32>,
    /// `linuxParameters.swappiness`, 0 to 100 (ECS's default is 60 when maxSwap is set).
    pub swappiness: Option<u32>,
    /// `stopTimeout` in seconds: how long ECS waits after SIGTERM before killing the container
    /// (unset: the agent's default, `ECS_CONTAINER_STOP_TIMEOUT`, 30 s).
    pub stop_timeout_s: Option<u32>,
    /// `healthCheck`: the container's own health check, run by the container runtime.
    pub health_check: Option<ContainerHealthCheck>,
}

/// A container's `healthCheck`, in seconds, with ECS's defaults filled in (interval 30, timeout
/// 5, retries 3, startPeriod 0; <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContainerHealthCheck {
    pub interval_s: u32,
    pub timeout_s: u32,
    pub retries: u32,
    pub start_period_s: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDefinition {
    pub family: String,
    /// Task-level cpu in CPU units.
    pub cpu_units: Option<u32>,
    /// Task-level memory in MiB.
    pub memory_mib: Option<u32>,
    pub network_mode: NetworkMode,
    pub requires_compatibilities: Vec<Compatibility>,
    pub execution_role_arn: Option<String>,
    /// `runtimePlatform.cpuArchitecture`; Fargate prices Arm below x86.
    pub cpu_architecture: CpuArchitecture,
    pub containers: Vec<ContainerDefinition>,
}

/// `runtimePlatform.cpuArchitecture`: `X86_64` (ECS's default) or `ARM64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CpuArchitecture {
    #[default]
    X86_64,
    Arm64,
}

/// A log driver's delivery mode (`logConfiguration.options.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogDriverMode {
    /// Writes to stdout/stderr block while the driver cannot deliver: nothing is lost, the
    /// application stalls.
    Blocking,
    /// Lines go to an in-memory buffer of `max-buffer-size`; when it is full new lines are dropped.
    NonBlocking,
}

/// The `logConfiguration.options` the simulator reads; absent options keep ECS's defaults,
/// which the egress model applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogOptions {
    pub mode: Option<LogDriverMode>,
    /// `max-buffer-size` in bytes (Docker's units: `k`, `m`, `g` are powers of 1,024).
    pub max_buffer_size_bytes: Option<u64>,
}

/// Why a task definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {json_path}: {message}")]
pub struct TaskDefError {
    pub file: String,
    /// Where the problem is, e.g. `$.containerDefinitions[1].memory`.
    pub json_path: String,
    pub message: String,
}

impl TaskDefinition {
    /// Parse and validate. `file` is only used in error messages.
    pub fn from_json_str(text: &str, file: &str) -> Result<TaskDefinition, TaskDefError> {
        // Windows editors and PowerShell's Out-File add a byte-order mark that
        // serde_json refuses; the file is otherwise fine, so accept it.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let value: Value = serde_json::from_str(text).map_err(|e| syntax_error(text, file, &e))?;
        let (object, root) = task_definition_object(&value, file)?;
        Parser { file, root }.task_definition(object)
    }

    /// Memory ECS reserves on an EC2 instance (docs/model.md#what-an-instance-registers-and-what-a-task-reserves): task memory
    /// if set, else the sum over containers of (memoryReservation if set, else
    /// memory).
    pub fn reserved_memory_mib(&self) -> u32 {
        if let Some(memory) = self.memory_mib {
            return memory;
        }
        self.containers.iter().map(|c| c.memory_reservation_mib.or(c.memory_mib).unwrap_or(0)).fold(0, u32::saturating_add)
    }

    /// CPU units ECS reserves: task cpu if set, else the sum of container cpu.
    pub fn reserved_cpu_units(&self) -> u32 {
        if let Some(cpu) = self.cpu_units {
            return cpu;
        }
        self.containers.iter().map(|c| c.cpu_units).fold(0, u32::saturating_add)
    }

    /// How long STOPPING may last: ECS sends SIGTERM to every container at once and kills those
    /// still running after their `stopTimeout` (`agent_default` for containers that set none).
    pub fn stop_timeout(&self, agent_default: SimTime) -> SimTime {
        self.containers
            .iter()
            .map(|c| c.stop_timeout_s.map_or(agent_default, |s| SimTime::from_secs(u64::from(s))))
            .max()
            .unwrap_or(agent_default)
    }

    /// The health checks that decide the task's health: those of its essential containers.
    pub fn essential_health_checks(&self) -> impl Iterator<Item = &ContainerHealthCheck> {
        self.containers.iter().filter(|c| c.essential).filter_map(|c| c.health_check.as_ref())
    }

    /// Static host ports this task occupies on its instance, sorted and
    /// deduplicated. Bridge mode pins the non-zero `hostPort`s, host mode pins
    /// every `containerPort`; awsvpc ports live on the task's own ENI and none
    /// mode has no ports, so neither takes any host port.
    pub fn static_host_ports(&self) -> Vec<(Protocol, u16)> {
        let mut ports: Vec<(Protocol, u16)> =
            self.containers.iter().flat_map(|c| &c.port_mappings).filter_map(|m| static_host_port(self.network_mode, m)).collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }

    /// True when `requiresCompatibilities` contains FARGATE.
    pub fn is_fargate(&self) -> bool {
        self.requires_compatibilities.contains(&Compatibility::Fargate)
    }
}

/// Whether `cpu_units` / `memory_mib` is a Fargate task size (Linux,
/// docs/model.md#fargate).
pub fn fargate_size_is_valid(cpu_units: u32, memory_mib: u32) -> bool {
    fargate_memory_choices_mib(cpu_units).contains(&memory_mib)
}

/// The valid memory values (MiB) for a Fargate cpu value, ascending; empty if
/// the cpu value itself is invalid (docs/model.md#fargate).
pub fn fargate_memory_choices_mib(cpu_units: u32) -> Vec<u32> {
    let (low_gib, high_gib, step_gib) = match cpu_units {
        // The smallest size is the only one that offers a half-GiB option.
        256 => return vec![512, GIB, 2 * GIB],
        512 => (1, 4, 1),
        1024 => (2, 8, 1),
        2048 => (4, 16, 1),
        4096 => (8, 30, 1),
        8192 => (16, 60, 4),
        16384 => (32, 120, 8),
        _ => return Vec::new(),
    };
    (low_gib..=high_gib).step_by(step_gib).map(|gib| gib * GIB).collect()
}

fn static_host_port(mode: NetworkMode, mapping: &PortMapping) -> Option<(Protocol, u16)> {
    match mode {
        NetworkMode::Bridge => mapping.host_port.filter(|&port| port != 0).map(|port| (mapping.protocol, port)),
        NetworkMode::Host => Some((mapping.protocol, mapping.container_port)),
        NetworkMode::Awsvpc | NetworkMode::None => None,
    }
}

// ---------------------------------------------------------------------------
// Syntax errors and the outer wrapper
// ---------------------------------------------------------------------------

fn syntax_error(text: &str, file: &str, error: &serde_json::Error) -> TaskDefError {
    let message = if text.trim().is_empty() {
        "the file is empty; expected a JSON task definition".to_string()
    } else {
        let mut message =
            format!("the file is not valid JSON: {} (line {}, column {})", plain_json_error(error), error.line(), error.column());
        // Only blame a placeholder on the line serde_json stopped at: a
        // placeholder inside a JSON string elsewhere is valid JSON and is not
        // the cause.
        let error_line = text.lines().nth(error.line().saturating_sub(1)).unwrap_or("");
        if let Some(placeholder) = find_placeholder(error_line) {
            message.push_str(&format!(
                "; `{placeholder}` looks like an unrendered template placeholder \
                 (render the template before loading the file)"
            ));
        }
        message
    };
    TaskDefError { file: file.to_string(), json_path: "$".to_string(), message }
}

/// serde_json's message without its position suffix, reworded where its
/// wording assumes the reader knows the parser.
fn plain_json_error(error: &serde_json::Error) -> String {
    if error.classify() == serde_json::error::Category::Eof {
        return "the text ends before the JSON value is complete (is the file truncated?)".to_string();
    }
    let full = error.to_string();
    let short = full.rfind(" at line ").map_or(full.as_str(), |i| &full[..i]);
    match short {
        "expected value" => "expected a JSON value (object, array, string, number, true, false or null)",
        "key must be a string" => "object keys must be double-quoted strings",
        "trailing comma" => "a comma before a closing `}` or `]` is not allowed in JSON",
        "trailing characters" => "unexpected text after the end of the JSON value",
        other => other,
    }
    .to_string()
}

/// The first `{{ … }}`, `${…}`, `<% … %>` or `#{…}` in `text`, if any. These
/// are the Jinja/Helm/Go, shell/envsubst/Terraform, ERB and Ruby forms that
/// show up when a task definition template was copied instead of rendered.
fn find_placeholder(text: &str) -> Option<&str> {
    const DELIMITERS: [(&str, &str); 4] = [("{{", "}}"), ("${", "}"), ("<%", "%>"), ("#{", "}")];
    DELIMITERS.iter().find_map(|&(open, close)| {
        let start = text.find(open)?;
        let inner_start = start + open.len();
        let inner_len = text[inner_start..].find(close)?;
        let inner = &text[inner_start..inner_start + inner_len];
        // JSON punctuation inside means this is nested JSON, not a template.
        let plausible = !inner.trim().is_empty() && inner.len() <= 80 && !inner.contains(['{', '}', ':', '\n']);
        plausible.then(|| &text[start..inner_start + inner_len + close.len()])
    })
}

/// The task-definition object and the JSON path it sits at.
fn task_definition_object<'v>(value: &'v Value, file: &str) -> Result<(&'v Map<String, Value>, &'static str), TaskDefError> {
    let error = |json_path: &str, message: String| TaskDefError { file: file.to_string(), json_path: json_path.to_string(), message };
    match value {
        Value::Object(object) => {
            // describe-task-definition output; a register-form object with a
            // stray "taskDefinition" key still has its containers at the top.
            if !object.contains_key("containerDefinitions")
                && let Some(inner) = object.get("taskDefinition")
            {
                return match inner {
                    Value::Object(inner) => Ok((inner, "$.taskDefinition")),
                    other => Err(error("$.taskDefinition", format!("expected a task definition object, found {}", describe(other)))),
                };
            }
            Ok((object, "$"))
        }
        Value::Array(items) => {
            let looks_like_containers =
                !items.is_empty() && items.iter().all(|item| item.get("name").is_some() || item.get("image").is_some());
            let hint = if looks_like_containers {
                " (it looks like a bare list of container definitions, as Terraform's \
                 container_definitions takes; wrap it as \
                 {\"family\": \"...\", \"containerDefinitions\": [...]})"
            } else {
                ""
            };
            Err(error("$", format!("expected a task definition object, found {}{hint}", describe(value))))
        }
        other => Err(error("$", format!("expected a task definition object, found {}", describe(other)))),
    }
}

/// How a JSON value reads in an "expected …, found …" message.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => {
            let shown: String = if s.chars().count() > 60 { s.chars().take(57).chain("...".chars()).collect() } else { s.clone() };
            let mut text = format!("the string {shown:?}");
            if find_placeholder(s).is_some() {
                text.push_str(" (looks like an unrendered template placeholder)");
            }
            text
        }
        Value::Array(items) if items.is_empty() => "an empty array".to_string(),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

/// A Docker size option (`"10m"`, `"512k"`, `"1g"`, `"4096"`): a whole number with an optional
/// binary unit k, m or g (optionally followed by `b`), case-insensitive, from 1 byte to 1 GiB.
fn parse_docker_size(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (digits, scale) = match t.as_bytes().last()? {
        b'k' => (&t[..t.len() - 1], 1u64 << 10),
        b'm' => (&t[..t.len() - 1], 1 << 20),
        b'g' => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let n: u64 = digits.parse().ok()?;
    let bytes = n.checked_mul(scale)?;
    (1..=1 << 30).contains(&bytes).then_some(bytes)
}

/// A field's value, with `null` treated as absent as console exports and
/// describe output use it.
fn field<'v>(object: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    object.get(key).filter(|v| !v.is_null())
}

/// For "missing X" messages: CloudFormation and hand-written files often get
/// the capitalisation wrong, and the API is case-sensitive.
fn case_hint(object: &Map<String, Value>, key: &str) -> String {
    object
        .keys()
        .find(|k| k.as_str() != key && k.eq_ignore_ascii_case(key))
        .map(|k| format!(" (found \"{k}\"; field names are case-sensitive, expected \"{key}\")"))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Walking the task definition
// ---------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum TaskSize {
    Cpu,
    Memory,
}

impl TaskSize {
    fn key(self) -> &'static str {
        match self {
            TaskSize::Cpu => "cpu",
            TaskSize::Memory => "memory",
        }
    }

    fn expected(self) -> &'static str {
        match self {
            TaskSize::Cpu => "a number of CPU units or a size like \"1 vCPU\"",
            TaskSize::Memory => "a number of MiB or a size like \"2 GB\"",
        }
    }

    /// The forms this size accepts, as said in every error about it.
    fn accepted(self) -> &'static str {
        match self {
            TaskSize::Cpu => "accepted: CPU units (\"512\") or vCPU (\"0.5 vCPU\"; 1 vCPU = 1024 units)",
            TaskSize::Memory => {
                "accepted: MiB (\"2048\") or a size in MiB, MB, GiB or GB (\"2 GB\"; ECS reads MB as MiB and GB as GiB = 1024 MiB)"
            }
        }
    }

    fn not_whole(self) -> &'static str {
        match self {
            TaskSize::Cpu => "is not a whole number of CPU units (1 vCPU = 1024 units)",
            TaskSize::Memory => "is not a whole number of MiB (1 GB = 1024 MiB)",
        }
    }

    /// Units per unit-suffix; `None` for a suffix this size does not take.
    fn factor(self, unit: &str) -> Option<u32> {
        match (self, unit) {
            (_, "") => Some(1),
            (TaskSize::Cpu, "vcpu" | "vcpus") => Some(UNITS_PER_VCPU),
            // ECS reads MB as MiB and GB as GiB.
            (TaskSize::Memory, "mb" | "mib") => Some(1),
            (TaskSize::Memory, "gb" | "gib") => Some(GIB),
            _ => None,
        }
    }
}

enum DecimalError {
    Malformed,
    TooLarge,
    TooPrecise,
}

/// `digits[.digits]` as an exact fraction `numerator / 10^scale`, so that
/// "0.25 vCPU" is checked for whole units without float rounding.
fn parse_decimal(text: &str) -> Result<(u128, u32), DecimalError> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return Err(DecimalError::Malformed);
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    // Bounds keep the arithmetic inside u128; anything past them is far
    // outside u32 or cannot come out whole after multiplying by 1024.
    if int.len() > 12 {
        return Err(DecimalError::TooLarge);
    }
    if frac.len() > 12 {
        return Err(DecimalError::TooPrecise);
    }
    let scale = frac.len() as u32;
    let digits = format!("{int}{frac}");
    let numerator = if digits.is_empty() { 0 } else { digits.parse::<u128>().map_err(|_| DecimalError::Malformed)? };
    Ok((numerator, scale))
}

/// The values `validate` needs that are not kept in the public types.
struct Container {
    definition: ContainerDefinition,
    path: String,
}

/// Running state while containers are walked in file order.
struct Seen {
    names: BTreeMap<String, String>,
    static_ports: BTreeMap<(Protocol, u16), String>,
}

struct Parser<'a> {
    file: &'a str,
    /// `$`, or `$.taskDefinition` for describe-task-definition output.
    root: &'static str,
}

impl Parser<'_> {
    fn error(&self, json_path: &str, message: impl Into<String>) -> TaskDefError {
        TaskDefError { file: self.file.to_string(), json_path: json_path.to_string(), message: message.into() }
    }

    fn path(&self, relative: &str) -> String {
        format!("{}{relative}", self.root)
    }

    fn task_definition(&self, object: &Map<String, Value>) -> Result<TaskDefinition, TaskDefError> {
        let family = self.required_string(object, "family", &self.path(".family"), "family")?;
        self.check_name(family, &self.path(".family"), "family")?;
        let network_mode = self.network_mode(object)?;
        let cpu_units = self.task_size(object, TaskSize::Cpu)?;
        let memory_mib = self.task_size(object, TaskSize::Memory)?;
        let requires_compatibilities = self.compatibilities(object)?;
        let execution_role_arn = self
            .optional_string(object, "executionRoleArn", &self.path(".executionRoleArn"))?
            .filter(|arn| !arn.is_empty())
            .map(str::to_string);

        let mut task = TaskDefinition {
            family: family.to_string(),
            cpu_units,
            memory_mib,
            network_mode,
            requires_compatibilities,
            execution_role_arn,
            cpu_architecture: self.cpu_architecture(object)?,
            containers: Vec::new(),
        };
        // Before the containers, so that a Fargate task without a task size
        // is told that rather than that its containers lack memory.
        if task.is_fargate() {
            self.check_fargate(&task, field(object, "networkMode").is_some())?;
        } else if let Some(cpu) = task.cpu_units
            && !EC2_TASK_CPU_UNITS.contains(&cpu)
        {
            return Err(self.error(
                &self.path(".cpu"),
                format!(
                    "task cpu {cpu} units is outside what ECS registers for EC2 and external instances: {} to {} units \
                     (0.125 to 192 vCPU; {REGISTER_TASK_DEFINITION_URL})",
                    EC2_TASK_CPU_UNITS.start(),
                    EC2_TASK_CPU_UNITS.end()
                ),
            ));
        }
        let containers = self.containers(object, &task)?;
        self.check_totals(&task, &containers)?;
        self.check_references(object, &containers)?;
        task.containers = containers.into_iter().map(|c| c.definition).collect();
        Ok(task)
    }

    /// ECS's rule for family and container names: up to 255 letters, digits, hyphens and
    /// underscores.
    fn check_name(&self, name: &str, path: &str, what: &str) -> Result<(), TaskDefError> {
        let chars = name.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(self.error(
                path,
                format!("{what} is {chars} characters long; ECS allows at most {MAX_NAME_CHARS} ({TASK_DEFINITION_PARAMETERS_URL})"),
            ));
        }
        if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))) {
            return Err(self.error(
                path,
                format!(
                    "{what} {name:?} contains {bad:?}; ECS allows only letters, digits, hyphens and underscores \
                     ({TASK_DEFINITION_PARAMETERS_URL})"
                ),
            ));
        }
        Ok(())
    }

    fn required_string<'v>(&self, object: &'v Map<String, Value>, key: &str, path: &str, what: &str) -> Result<&'v str, TaskDefError> {
        match field(object, key) {
            None => Err(self.error(path, format!("missing {what}{}", case_hint(object, key)))),
            Some(Value::String(s)) if s.trim().is_empty() => Err(self.error(path, format!("{what} is empty"))),
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(self.error(path, format!("expected a string, found {}", describe(other)))),
        }
    }

    fn optional_string<'v>(&self, object: &'v Map<String, Value>, key: &str, path: &str) -> Result<Option<&'v str>, TaskDefError> {
        match field(object, key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.error(path, format!("expected a string, found {}", describe(other)))),
        }
    }

    /// An optional array field; `null` and absent both give an empty slice.
    fn optional_array<'v>(
        &self,
        object: &'v Map<String, Value>,
        key: &str,
        path: &str,
        of_what: &str,
    ) -> Result<&'v [Value], TaskDefError> {
        match field(object, key) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(self.error(path, format!("expected an array of {of_what}, found {}", describe(other)))),
        }
    }

    fn object<'v>(&self, value: &'v Value, path: &str, what: &str) -> Result<&'v Map<String, Value>, TaskDefError> {
        value.as_object().ok_or_else(|| self.error(path, format!("expected {what} object, found {}", describe(value))))
    }

    fn network_mode(&self, object: &Map<String, Value>) -> Result<NetworkMode, TaskDefError> {
        let path = self.path(".networkMode");
        let Some(mode) = self.optional_string(object, "networkMode", &path)? else {
            return Ok(NetworkMode::default());
        };
        const MODES: [NetworkMode; 4] = [NetworkMode::Awsvpc, NetworkMode::Bridge, NetworkMode::Host, NetworkMode::None];
        if let Some(&known) = MODES.iter().find(|m| m.as_str() == mode) {
            return Ok(known);
        }
        let hint = MODES
            .iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(mode))
            .map(|m| format!("; network modes are case-sensitive: did you mean \"{m}\"?"))
            .unwrap_or_else(|| "; expected one of awsvpc, bridge, host, none".to_string());
        Err(self.error(&path, format!("unknown networkMode {mode:?}{hint}")))
    }

    fn compatibilities(&self, object: &Map<String, Value>) -> Result<Vec<Compatibility>, TaskDefError> {
        const ALL: [Compatibility; 3] = [Compatibility::Ec2, Compatibility::Fargate, Compatibility::External];
        let path = self.path(".requiresCompatibilities");
        let items = self.optional_array(object, "requiresCompatibilities", &path, "strings")?;
        let mut result = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            let Value::String(name) = item else {
                return Err(self.error(&item_path, format!("expected a string, found {}", describe(item))));
            };
            if let Some(&known) = ALL.iter().find(|c| c.as_str() == name) {
                result.push(known);
                continue;
            }
            let hint = ALL
                .iter()
                .find(|c| c.as_str().eq_ignore_ascii_case(name))
                .map(|c| format!("; compatibilities are case-sensitive: did you mean \"{c}\"?"))
                .unwrap_or_else(|| "; expected one of EC2, FARGATE, EXTERNAL".to_string());
            return Err(self.error(&item_path, format!("unknown compatibility {name:?}{hint}")));
        }
        Ok(result)
    }

    /// Task-level cpu or memory: a number, a numeric string, or a string with
    /// a unit ("0.5 vCPU", "2 GB", "512 MiB"). Every error says which units
    /// are accepted.
    fn task_size(&self, object: &Map<String, Value>, kind: TaskSize) -> Result<Option<u32>, TaskDefError> {
        self.task_size_value(object, kind).map_err(|mut e| {
            e.message = format!("{}; {}", e.message, kind.accepted());
            e
        })
    }

    fn task_size_value(&self, object: &Map<String, Value>, kind: TaskSize) -> Result<Option<u32>, TaskDefError> {
        let key = kind.key();
        let path = self.path(&format!(".{key}"));
        let Some(value) = field(object, key) else {
            return Ok(None);
        };
        let (text, shown) = match value {
            Value::Number(n) => (n.to_string(), n.to_string()),
            Value::String(s) => (s.clone(), format!("{s:?}")),
            other => {
                return Err(self.error(&path, format!("expected {}, found {}", kind.expected(), describe(other))));
            }
        };
        let expected = || self.error(&path, format!("expected {}, found {}", kind.expected(), describe(value)));
        let lower = text.trim().to_ascii_lowercase();
        let split = lower.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')).unwrap_or(lower.len());
        let (number, unit) = lower.split_at(split);
        let factor = kind.factor(unit.trim()).ok_or_else(expected)?;
        if let Some(magnitude) = number.strip_prefix('-') {
            return match parse_decimal(magnitude) {
                Ok(_) => Err(self.error(&path, format!("{key} must be greater than 0, found {shown}"))),
                Err(_) => Err(expected()),
            };
        }
        let (numerator, scale) = match parse_decimal(number) {
            Ok(parsed) => parsed,
            Err(DecimalError::Malformed) => return Err(expected()),
            Err(DecimalError::TooLarge) => {
                return Err(self.error(&path, format!("{key} {shown} is too large")));
            }
            Err(DecimalError::TooPrecise) => {
                return Err(self.error(&path, format!("{key} {shown} {}", kind.not_whole())));
            }
        };
        let scaled = numerator * u128::from(factor);
        let divisor = 10u128.pow(scale);
        if scaled % divisor != 0 {
            return Err(self.error(&path, format!("{key} {shown} {}", kind.not_whole())));
        }
        match u32::try_from(scaled / divisor) {
            Ok(0) => Err(self.error(&path, format!("{key} must be greater than 0, found {shown}"))),
            Ok(units) => Ok(Some(units)),
            Err(_) => Err(self.error(&path, format!("{key} {shown} is too large"))),
        }
    }

    /// A container-level integer. The API takes JSON integers; numeric strings
    /// are accepted too because templating tools often quote everything.
    fn integer(&self, object: &Map<String, Value>, key: &str, path: &str) -> Result<Option<i64>, TaskDefError> {
        let Some(value) = field(object, key) else {
            return Ok(None);
        };
        let parsed = match value {
            Value::Number(n) if n.as_i64().is_none() && n.as_u64().is_some() => {
                return Err(self.error(path, format!("{key} {n} is too large")));
            }
            // Some exporters write whole numbers as 512.0.
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 1e15).map(|f| f as i64)),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        parsed.map(Some).ok_or_else(|| self.error(path, format!("expected an integer, found {}", describe(value))))
    }

    /// `memory` / `memoryReservation` in MiB, which must be positive.
    fn container_memory(&self, object: &Map<String, Value>, key: &str, path: &str) -> Result<Option<u32>, TaskDefError> {
        match self.integer(object, key, path)? {
            None => Ok(None),
            Some(v) if v <= 0 => Err(self
                .error(path, format!("{key} must be greater than 0 MiB, found {v} (container sizes are whole MiB, written as integers)"))),
            Some(v) => u32::try_from(v).map(Some).map_err(|_| self.error(path, format!("{key} {v} MiB is too large"))),
        }
    }

    fn port(&self, object: &Map<String, Value>, key: &str, path: &str, lowest: i64) -> Result<Option<u16>, TaskDefError> {
        match self.integer(object, key, path)? {
            None => Ok(None),
            Some(v) if (lowest..=65535).contains(&v) => Ok(Some(v as u16)),
            Some(v) => Err(self.error(
                path,
                format!("{key} must be between {lowest} and 65535, found {v} (ECS port mappings: {TASK_DEFINITION_PARAMETERS_URL})"),
            )),
        }
    }

    /// docs/model.md#fargate: Fargate needs awsvpc and a task size from the table.
    fn check_fargate(&self, task: &TaskDefinition, network_mode_given: bool) -> Result<(), TaskDefError> {
        if task.network_mode != NetworkMode::Awsvpc {
            let found = if network_mode_given {
                format!("found \"{}\"", task.network_mode)
            } else {
                "but networkMode is not set, which means bridge".to_string()
            };
            return Err(self.error(&self.path(".networkMode"), format!("FARGATE requires networkMode \"awsvpc\", {found}")));
        }
        let Some(cpu) = task.cpu_units else {
            return Err(self.error(
                &self.path(".cpu"),
                format!("FARGATE requires a task-level cpu; valid cpu values: {}", join(&FARGATE_CPU_CHOICES)),
            ));
        };
        let choices = fargate_memory_choices_mib(cpu);
        let Some(memory) = task.memory_mib else {
            let valid = if choices.is_empty() { String::new() } else { format!("; valid memory for cpu {cpu}: {} MiB", join(&choices)) };
            return Err(self.error(&self.path(".memory"), format!("FARGATE requires a task-level memory{valid}")));
        };
        if choices.is_empty() {
            return Err(self.error(
                &self.path(".cpu"),
                format!(
                    "Fargate task size cpu {cpu} / memory {memory} MiB is not valid; \
                     valid cpu values: {} ({FARGATE_TASK_SIZES_URL})",
                    join(&FARGATE_CPU_CHOICES)
                ),
            ));
        }
        if !choices.contains(&memory) {
            return Err(self.error(
                &self.path(".memory"),
                format!(
                    "Fargate task size cpu {cpu} / memory {memory} MiB is not valid; \
                     valid memory for cpu {cpu}: {} MiB ({FARGATE_TASK_SIZES_URL})",
                    join(&choices)
                ),
            ));
        }
        Ok(())
    }

    fn containers(&self, object: &Map<String, Value>, task: &TaskDefinition) -> Result<Vec<Container>, TaskDefError> {
        let path = self.path(".containerDefinitions");
        let items = match field(object, "containerDefinitions") {
            None => {
                return Err(self.error(
                    &path,
                    format!(
                        "missing containerDefinitions; a task definition needs at least one \
                         container{}",
                        case_hint(object, "containerDefinitions")
                    ),
                ));
            }
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(self.error(&path, format!("expected an array of container definitions, found {}", describe(other))));
            }
        };
        if items.is_empty() {
            return Err(self.error(&path, "containerDefinitions is empty; a task definition needs at least one container"));
        }
        if items.len() > MAX_CONTAINERS_PER_TASK_DEFINITION {
            return Err(self.error(
                &path,
                format!(
                    "{} container definitions; ECS allows at most {MAX_CONTAINERS_PER_TASK_DEFINITION} per task definition \
                     ({SERVICE_QUOTAS_URL})",
                    items.len()
                ),
            ));
        }
        let mut seen = Seen { names: BTreeMap::new(), static_ports: BTreeMap::new() };
        items.iter().enumerate().map(|(i, item)| self.container(item, &format!("{path}[{i}]"), task, &mut seen)).collect()
    }

    fn container(&self, value: &Value, path: &str, task: &TaskDefinition, seen: &mut Seen) -> Result<Container, TaskDefError> {
        let object = self.object(value, path, "a container definition")?;
        let name = self.required_string(object, "name", &format!("{path}.name"), "container name")?;
        self.check_name(name, &format!("{path}.name"), "container name")?;
        if let Some(first) = seen.names.get(name) {
            return Err(
                self.error(&format!("{path}.name"), format!("container name {name:?} is already used by {first}; names must be unique"))
            );
        }
        seen.names.insert(name.to_string(), path.to_string());
        let image = self.required_string(object, "image", &format!("{path}.image"), "container image")?;

        let cpu_path = format!("{path}.cpu");
        // Container cpu is a relative share and may be 0 (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_cpu>).
        let cpu_units = match self.integer(object, "cpu", &cpu_path)? {
            None => 0,
            Some(v) if v < 0 => {
                return Err(self.error(&cpu_path, format!("cpu must not be negative, found {v}")));
            }
            Some(v) => u32::try_from(v).map_err(|_| self.error(&cpu_path, format!("cpu {v} is too large")))?,
        };
        let memory_path = format!("{path}.memory");
        let reservation_path = format!("{path}.memoryReservation");
        let memory_mib = self.container_memory(object, "memory", &memory_path)?;
        let memory_reservation_mib = self.container_memory(object, "memoryReservation", &reservation_path)?;
        self.check_container_memory(name, path, memory_mib, memory_reservation_mib, task.memory_mib)?;

        let essential = match field(object, "essential") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(self.error(&format!("{path}.essential"), format!("expected true or false, found {}", describe(other))));
            }
        };
        let port_mappings = self.port_mappings(object, path, task.network_mode, seen)?;
        let log_driver = self.log_driver(object, path)?;
        let log_options = self.log_options(object, path)?;
        let depends_on = self.depends_on(object, path)?;
        let (max_swap_mib, swappiness) = self.swap(object, path)?;
        let health_check = self.health_check(object, path)?;
        let stop_timeout_path = format!("{path}.stopTimeout");
        let stop_timeout_s = match self.integer(object, "stopTimeout", &stop_timeout_path)? {
            None => None,
            Some(v) if !(0..=86_400).contains(&v) => {
                return Err(self.error(&stop_timeout_path, format!("stopTimeout is in seconds, 0 to 86400; found {v}")));
            }
            Some(v) => Some(v as u32),
        };

        Ok(Container {
            definition: ContainerDefinition {
                name: name.to_string(),
                image: image.to_string(),
                cpu_units,
                memory_mib,
                memory_reservation_mib,
                essential,
                port_mappings,
                log_driver,
                log_options,
                depends_on,
                max_swap_mib,
                swappiness,
                stop_timeout_s,
                health_check,
            },
            path: path.to_string(),
        })
    }

    /// docs/model.md#what-an-instance-registers-and-what-a-task-reserves and <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_memory>.
    fn check_container_memory(
        &self,
        name: &str,
        path: &str,
        memory: Option<u32>,
        reservation: Option<u32>,
        task_memory: Option<u32>,
    ) -> Result<(), TaskDefError> {
        if memory.is_none() && reservation.is_none() && task_memory.is_none() {
            return Err(self.error(
                path,
                format!(
                    "container {name:?} has neither memory nor memoryReservation; \
                     without a task-level memory each container needs memory or memoryReservation"
                ),
            ));
        }
        if let (Some(memory), Some(reservation)) = (memory, reservation)
            && reservation >= memory
        {
            return Err(self.error(
                &format!("{path}.memoryReservation"),
                format!("memoryReservation ({reservation} MiB) must be less than memory ({memory} MiB)"),
            ));
        }
        if let (Some(memory), Some(task_memory)) = (memory, task_memory)
            && memory > task_memory
        {
            return Err(self.error(&format!("{path}.memory"), format!("{memory} MiB is above the task's memory ({task_memory} MiB)")));
        }
        Ok(())
    }

    fn port_mappings(
        &self,
        object: &Map<String, Value>,
        container_path: &str,
        mode: NetworkMode,
        seen: &mut Seen,
    ) -> Result<Vec<PortMapping>, TaskDefError> {
        let path = format!("{container_path}.portMappings");
        let items = self.optional_array(object, "portMappings", &path, "port mappings")?;
        let mut mappings = Vec::with_capacity(items.len());
        for (j, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{j}]");
            let entry = self.object(item, &item_path, "a port mapping")?;
            let container_port_path = format!("{item_path}.containerPort");
            let host_port_path = format!("{item_path}.hostPort");
            let Some(container_port) = self.port(entry, "containerPort", &container_port_path, 1)? else {
                // A containerPortRange gets host ports from the ephemeral
                // range, so it pins no static port and carries no single port.
                if field(entry, "containerPortRange").is_some() {
                    continue;
                }
                return Err(self.error(&container_port_path, "missing containerPort"));
            };
            let host_port = self.port(entry, "hostPort", &host_port_path, 0)?;
            let protocol = match self.optional_string(entry, "protocol", &format!("{item_path}.protocol"))? {
                None | Some("tcp") => Protocol::Tcp,
                Some("udp") => Protocol::Udp,
                Some(other) => {
                    let hint = if other.eq_ignore_ascii_case("tcp") || other.eq_ignore_ascii_case("udp") {
                        format!("; protocols are lower case: did you mean \"{}\"?", other.to_ascii_lowercase())
                    } else {
                        "; expected tcp or udp".to_string()
                    };
                    return Err(self.error(&format!("{item_path}.protocol"), format!("unknown protocol {other:?}{hint}")));
                }
            };
            let host_port = match mode {
                // The task shares the host's (or its ENI's) network stack, so
                // there is no translation between the two ports.
                NetworkMode::Awsvpc | NetworkMode::Host => match host_port {
                    Some(port) if port != container_port => {
                        return Err(self.error(
                            &host_port_path,
                            format!(
                                "in {mode} network mode hostPort must be absent or equal to \
                                 containerPort ({container_port}), found {port} ({TASK_DEFINITION_PARAMETERS_URL})"
                            ),
                        ));
                    }
                    _ => Some(container_port),
                },
                NetworkMode::Bridge => host_port.filter(|&port| port != 0),
                NetworkMode::None => host_port,
            };
            let mapping = PortMapping { container_port, host_port, protocol };
            if let Some(key) = static_host_port(mode, &mapping) {
                let where_path = if field(entry, "hostPort").is_some() { host_port_path } else { container_port_path };
                if let Some(first) = seen.static_ports.get(&key) {
                    return Err(self.error(
                        &where_path,
                        format!(
                            "host port {}/{} is already used by {first}; a static host port \
                             can appear only once in a task",
                            key.1, key.0
                        ),
                    ));
                }
                seen.static_ports.insert(key, item_path);
            }
            mappings.push(mapping);
        }
        Ok(mappings)
    }

    fn log_driver(&self, object: &Map<String, Value>, container_path: &str) -> Result<Option<String>, TaskDefError> {
        let path = format!("{container_path}.logConfiguration");
        let Some(value) = field(object, "logConfiguration") else {
            return Ok(None);
        };
        let config = self.object(value, &path, "a logConfiguration")?;
        Ok(self.optional_string(config, "logDriver", &format!("{path}.logDriver"))?.map(str::to_string))
    }

    /// `logConfiguration.options.mode` and `max-buffer-size`, as the ECS API defines them
    /// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LogConfiguration.html).
    /// Other options (`awslogs-group`, …) are ignored.
    fn log_options(&self, object: &Map<String, Value>, container_path: &str) -> Result<LogOptions, TaskDefError> {
        let path = format!("{container_path}.logConfiguration.options");
        let Some(config) = field(object, "logConfiguration").and_then(Value::as_object) else {
            return Ok(LogOptions::default());
        };
        let Some(value) = field(config, "options") else {
            return Ok(LogOptions::default());
        };
        let options = self.object(value, &path, "a log options")?;
        let mode = match self.optional_string(options, "mode", &format!("{path}.mode"))? {
            None => None,
            Some("blocking") => Some(LogDriverMode::Blocking),
            Some("non-blocking") => Some(LogDriverMode::NonBlocking),
            Some(other) => {
                return Err(
                    self.error(&format!("{path}.mode"), format!("unknown log mode {other:?}; expected \"blocking\" or \"non-blocking\""))
                );
            }
        };
        let size_path = format!("{path}.max-buffer-size");
        let max_buffer_size_bytes = match self.optional_string(options, "max-buffer-size", &size_path)? {
            None => None,
            Some(text) => Some(parse_docker_size(text).ok_or_else(|| {
                self.error(
                    &size_path,
                    format!("{text:?} is not a buffer size; write a whole number with k, m or g, e.g. \"10m\" (1 byte to 1g)"),
                )
            })?),
        };
        Ok(LogOptions { mode, max_buffer_size_bytes })
    }

    /// `runtimePlatform.cpuArchitecture`: `X86_64` or `ARM64`.
    fn cpu_architecture(&self, object: &Map<String, Value>) -> Result<CpuArchitecture, TaskDefError> {
        let path = self.path(".runtimePlatform");
        let Some(value) = field(object, "runtimePlatform") else { return Ok(CpuArchitecture::default()) };
        let platform = self.object(value, &path, "a runtimePlatform")?;
        match self.optional_string(platform, "cpuArchitecture", &format!("{path}.cpuArchitecture"))? {
            None | Some("X86_64") => Ok(CpuArchitecture::X86_64),
            Some("ARM64") => Ok(CpuArchitecture::Arm64),
            Some(other) => {
                Err(self.error(&format!("{path}.cpuArchitecture"), format!("unknown cpuArchitecture {other:?}; expected X86_64 or ARM64")))
            }
        }
    }

    fn depends_on(&self, object: &Map<String, Value>, container_path: &str) -> Result<Vec<String>, TaskDefError> {
        let path = format!("{container_path}.dependsOn");
        let items = self.optional_array(object, "dependsOn", &path, "dependencies")?;
        items
            .iter()
            .enumerate()
            .map(|(k, item)| {
                let item_path = format!("{path}[{k}]");
                let entry = self.object(item, &item_path, "a dependency")?;
                self.required_string(entry, "containerName", &format!("{item_path}.containerName"), "containerName").map(str::to_string)
            })
            .collect()
    }

    /// `linuxParameters.maxSwap` (MiB, ≥ 0) and `swappiness` (0 to 100), as in
    /// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-swap.html
    fn swap(&self, object: &Map<String, Value>, container_path: &str) -> Result<(Option<u32>, Option<u32>), TaskDefError> {
        let path = format!("{container_path}.linuxParameters");
        let Some(value) = field(object, "linuxParameters") else {
            return Ok((None, None));
        };
        let linux = self.object(value, &path, "a linuxParameters")?;
        let max_swap_path = format!("{path}.maxSwap");
        let max_swap_mib = match self.integer(linux, "maxSwap", &max_swap_path)? {
            None => None,
            Some(v) if v < 0 => return Err(self.error(&max_swap_path, format!("maxSwap must be 0 or more MiB, found {v}"))),
            Some(v) => Some(u32::try_from(v).map_err(|_| self.error(&max_swap_path, format!("maxSwap {v} MiB is too large")))?),
        };
        let swappiness_path = format!("{path}.swappiness");
        let swappiness = match self.integer(linux, "swappiness", &swappiness_path)? {
            None => None,
            Some(v @ 0..=100) => Some(v as u32),
            Some(v) => return Err(self.error(&swappiness_path, format!("swappiness must be between 0 and 100, found {v}"))),
        };
        Ok((max_swap_mib, swappiness))
    }

    /// `healthCheck`: a non-empty `command` and the documented ranges.
    fn health_check(&self, object: &Map<String, Value>, container_path: &str) -> Result<Option<ContainerHealthCheck>, TaskDefError> {
        let path = format!("{container_path}.healthCheck");
        let Some(value) = field(object, "healthCheck") else {
            return Ok(None);
        };
        let check = self.object(value, &path, "a healthCheck")?;
        match field(check, "command") {
            Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_string) => {}
            _ => {
                return Err(self.error(
                    &format!("{path}.command"),
                    "a healthCheck needs a command: a non-empty array of strings, e.g. [\"CMD-SHELL\", \"curl -f http://localhost/ || exit 1\"]",
                ));
            }
        }
        let seconds = |key: &str, min: i64, max: i64, default: u32| -> Result<u32, TaskDefError> {
            let key_path = format!("{path}.{key}");
            match self.integer(check, key, &key_path)? {
                None => Ok(default),
                Some(v) if (min..=max).contains(&v) => Ok(v as u32),
                Some(v) => Err(self.error(&key_path, format!("{key} is {min} to {max}; found {v}"))),
            }
        };
        let interval_s = seconds("interval", 5, 300, 30)?;
        let timeout_s = seconds("timeout", 2, 60, 5)?;
        let retries = seconds("retries", 1, 10, 3)?;
        let start_period_s = seconds("startPeriod", 0, 300, 0)?;
        Ok(Some(ContainerHealthCheck { interval_s, timeout_s, retries, start_period_s }))
    }

    /// Rules over the whole container list (docs/model.md#task-definition-limits).
    fn check_totals(&self, task: &TaskDefinition, containers: &[Container]) -> Result<(), TaskDefError> {
        let path = self.path(".containerDefinitions");
        if let Some(task_memory) = task.memory_mib {
            let reserved: u64 = containers.iter().filter_map(|c| c.definition.memory_reservation_mib).map(u64::from).sum();
            if reserved > u64::from(task_memory) {
                return Err(self.error(
                    &path,
                    format!(
                        "the containers' memoryReservation values add up to {reserved} MiB, \
                         above the task's memory ({task_memory} MiB)"
                    ),
                ));
            }
        }
        if let Some(task_cpu) = task.cpu_units {
            let total: u64 = containers.iter().map(|c| u64::from(c.definition.cpu_units)).sum();
            if total > u64::from(task_cpu) {
                return Err(self.error(
                    &path,
                    format!(
                        "the containers' cpu values add up to {total} units, \
                         above the task's cpu ({task_cpu} units)"
                    ),
                ));
            }
        }
        if !containers.iter().any(|c| c.definition.essential) {
            return Err(self.error(&path, "no container is essential; a task needs at least one essential container"));
        }
        Ok(())
    }

    /// Names used in dependsOn and proxyConfiguration must exist.
    fn check_references(&self, object: &Map<String, Value>, containers: &[Container]) -> Result<(), TaskDefError> {
        let exists = |name: &str| containers.iter().any(|c| c.definition.name == name);
        let known = || containers.iter().map(|c| c.definition.name.as_str()).collect::<Vec<_>>().join(", ");
        for container in containers {
            for (k, target) in container.definition.depends_on.iter().enumerate() {
                if !exists(target) {
                    return Err(self.error(
                        &format!("{}.dependsOn[{k}].containerName", container.path),
                        format!(
                            "container {target:?} does not exist in this task definition \
                             (containers: {})",
                            known()
                        ),
                    ));
                }
            }
        }
        let proxy_path = self.path(".proxyConfiguration");
        if let Some(value) = field(object, "proxyConfiguration") {
            let proxy = self.object(value, &proxy_path, "a proxyConfiguration")?;
            let name_path = format!("{proxy_path}.containerName");
            let name = self.required_string(proxy, "containerName", &name_path, "containerName")?;
            if !exists(name) {
                return Err(self.error(
                    &name_path,
                    format!(
                        "container {name:?} does not exist in this task definition \
                         (containers: {})",
                        known()
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn join(values: &[u32]) -> String {
    values.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SCOREKEEP: &str = include_str!("../../scenarios/taskdefs/scorekeep.json");
    const SCOREKEEP_DESCRIBED: &str = include_str!("../../scenarios/taskdefs/scorekeep-described.json");
    const WEB: &str = include_str!("../../scenarios/taskdefs/web.json");
    const WORKER: &str = include_str!("../../scenarios/taskdefs/worker.json");
    const BENCH_TASK: &str = include_str!("../../scenarios/taskdefs/bench-task.json");
    const API_FARGATE: &str = include_str!("../../scenarios/taskdefs/api-fargate.json");

    const SHIPPED: [(&str, &str); 6] = [
        ("scorekeep.json", SCOREKEEP),
        ("scorekeep-described.json", SCOREKEEP_DESCRIBED),
        ("web.json", WEB),
        ("worker.json", WORKER),
        ("bench-task.json", BENCH_TASK),
        ("api-fargate.json", API_FARGATE),
    ];

    const PLACEHOLDER_BRACES: &str = include_str!("../../tests/data/taskdefs/placeholder-braces.json");
    const PLACEHOLDER_DOLLAR: &str = include_str!("../../tests/data/taskdefs/placeholder-dollar.json");
    const PLACEHOLDER_IN_VALUE: &str = include_str!("../../tests/data/taskdefs/placeholder-in-value.json");
    const TRAILING_COMMA: &str = include_str!("../../tests/data/taskdefs/trailing-comma.json");
    const TRUNCATED: &str = include_str!("../../tests/data/taskdefs/truncated.json");
    const EMPTY: &str = include_str!("../../tests/data/taskdefs/empty.json");
    const UTF8_BOM: &str = include_str!("../../tests/data/taskdefs/utf8-bom.json");
    const CONSOLE_EXPORT_NULLS: &str = include_str!("../../tests/data/taskdefs/console-export-nulls.json");
    const UNKNOWN_FIELDS: &str = include_str!("../../tests/data/taskdefs/unknown-fields.json");
    const TERRAFORM_CONTAINER_LIST: &str = include_str!("../../tests/data/taskdefs/terraform-container-list.json");
    const CLOUDFORMATION_CASE: &str = include_str!("../../tests/data/taskdefs/cloudformation-case.json");
    const DESCRIBED_FARGATE_WITH_NULLS: &str = include_str!("../../tests/data/taskdefs/described-fargate-with-nulls.json");

    fn parse(text: &str) -> Result<TaskDefinition, TaskDefError> {
        TaskDefinition::from_json_str(text, "taskdefs/test.json")
    }

    fn parse_value(value: &Value) -> Result<TaskDefinition, TaskDefError> {
        parse(&value.to_string())
    }

    fn accepted(value: Value) -> TaskDefinition {
        parse_value(&value).unwrap_or_else(|e| panic!("expected {value} to be accepted: {e}"))
    }

    /// Asserts the rejection names `path` and says `phrase`, and returns it.
    #[track_caller]
    fn rejected(value: Value, path: &str, phrase: &str) -> TaskDefError {
        rejected_text(&value.to_string(), path, phrase)
    }

    #[track_caller]
    fn rejected_text(text: &str, path: &str, phrase: &str) -> TaskDefError {
        let error = match parse(text) {
            Ok(td) => panic!("expected rejection at {path}, got {td:?}"),
            Err(e) => e,
        };
        assert_eq!(error.json_path, path, "wrong path in: {error}");
        assert!(error.message.contains(phrase), "message should contain {phrase:?}: {error}");
        assert_eq!(error.file, "taskdefs/test.json");
        error
    }

    /// A minimal valid EC2 task with one container; tests change one thing.
    fn base() -> Value {
        json!({
            "family": "app",
            "containerDefinitions": [
                { "name": "app", "image": "busybox", "memoryReservation": 256 }
            ]
        })
    }

    fn fargate(cpu: Value, memory: Value) -> Value {
        json!({
            "family": "f",
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "cpu": cpu,
            "memory": memory,
            "containerDefinitions": [ { "name": "app", "image": "busybox" } ]
        })
    }

    fn with(mut value: Value, key: &str, field_value: Value) -> Value {
        value[key] = field_value;
        value
    }

    fn with_container(mut value: Value, key: &str, field_value: Value) -> Value {
        value["containerDefinitions"][0][key] = field_value;
        value
    }

    fn containers(list: Value) -> Value {
        with(base(), "containerDefinitions", list)
    }

    fn ports(mode: &str, mappings: Value) -> Value {
        let value = with(base(), "networkMode", json!(mode));
        with_container(value, "portMappings", mappings)
    }

    // --- accepted forms -------------------------------------------------

    #[test]
    fn register_form_scorekeep_parses_with_every_field() {
        let td = TaskDefinition::from_json_str(SCOREKEEP, "scorekeep.json").unwrap();
        assert_eq!(td.family, "scorekeep");
        assert_eq!(td.cpu_units, Some(1024));
        assert_eq!(td.memory_mib, Some(2048));
        assert_eq!(td.network_mode, NetworkMode::Bridge);
        assert_eq!(td.requires_compatibilities, vec![Compatibility::Ec2]);
        assert_eq!(td.execution_role_arn.as_deref(), Some("arn:aws:iam::123456789012:role/scorekeepExecutionRole"));
        assert!(!td.is_fargate());
        let names: Vec<&str> = td.containers.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["scorekeep-frontend", "scorekeep-api"]);
        let frontend = &td.containers[0];
        assert_eq!(frontend.cpu_units, 256);
        assert_eq!(frontend.memory_mib, None);
        assert_eq!(frontend.memory_reservation_mib, Some(512));
        assert!(frontend.essential);
        assert_eq!(frontend.log_driver.as_deref(), Some("awslogs"));
        assert_eq!(frontend.port_mappings, vec![PortMapping { container_port: 8080, host_port: Some(8080), protocol: Protocol::Tcp }]);
        assert_eq!(td.containers[1].cpu_units, 768);
        assert_eq!(td.static_host_ports(), vec![(Protocol::Tcp, 5000), (Protocol::Tcp, 8080)]);
        assert_eq!(td.reserved_memory_mib(), 2048);
        assert_eq!(td.reserved_cpu_units(), 1024);
    }

    #[test]
    fn describe_output_is_unwrapped_and_equals_the_register_form() {
        let registered = TaskDefinition::from_json_str(SCOREKEEP, "scorekeep.json").unwrap();
        let described = TaskDefinition::from_json_str(SCOREKEEP_DESCRIBED, "scorekeep-described.json").unwrap();
        assert_eq!(described, registered);
    }

    #[test]
    fn describe_output_errors_are_reported_under_task_definition() {
        let value = json!({
            "taskDefinition": {
                "family": "x",
                "revision": 4,
                "status": "ACTIVE",
                "containerDefinitions": [ { "name": "a", "image": "i", "memory": 0 } ]
            },
            "tags": []
        });
        rejected(value, "$.taskDefinition.containerDefinitions[0].memory", "must be greater than 0");
    }

    #[test]
    fn describe_output_with_a_non_object_task_definition_is_rejected() {
        rejected(json!({ "taskDefinition": "web:3" }), "$.taskDefinition", "expected a task definition object, found the string \"web:3\"");
    }

    #[test]
    fn described_fargate_export_with_nulls_and_unit_sizes_parses() {
        let td = TaskDefinition::from_json_str(DESCRIBED_FARGATE_WITH_NULLS, "d.json").unwrap();
        assert!(td.is_fargate());
        assert_eq!(td.cpu_units, Some(256));
        assert_eq!(td.memory_mib, Some(512));
        assert_eq!(td.network_mode, NetworkMode::Awsvpc);
        assert_eq!(td.containers[0].memory_mib, None);
        assert_eq!(td.containers[0].memory_reservation_mib, None);
        assert!(td.static_host_ports().is_empty());
    }

    #[test]
    fn console_export_nulls_mean_absent() {
        let td = TaskDefinition::from_json_str(CONSOLE_EXPORT_NULLS, "c.json").unwrap();
        assert_eq!(td.network_mode, NetworkMode::Bridge);
        assert_eq!(td.cpu_units, None);
        assert_eq!(td.memory_mib, None);
        assert!(td.requires_compatibilities.is_empty());
        assert_eq!(td.execution_role_arn, None);
        let app = &td.containers[0];
        assert_eq!(app.cpu_units, 0);
        assert_eq!(app.memory_mib, Some(256));
        assert_eq!(app.memory_reservation_mib, None);
        assert!(app.essential, "essential: null means the default, true");
        assert!(app.port_mappings.is_empty());
        assert_eq!(app.log_driver, None);
        assert!(app.depends_on.is_empty());
        let sidecar = &td.containers[1];
        assert!(!sidecar.essential);
        assert_eq!(sidecar.log_driver, None);
        assert_eq!(sidecar.depends_on, ["app"]);
        assert_eq!(sidecar.port_mappings, vec![PortMapping { container_port: 9000, host_port: None, protocol: Protocol::Tcp }]);
        assert_eq!(td.reserved_memory_mib(), 256 + 64);
    }

    #[test]
    fn unknown_fields_are_ignored_everywhere() {
        let td = TaskDefinition::from_json_str(UNKNOWN_FIELDS, "u.json").unwrap();
        assert_eq!(td.family, "unknown-fields");
        assert_eq!(td.containers[0].log_driver.as_deref(), Some("json-file"));
        assert_eq!(td.static_host_ports(), vec![(Protocol::Tcp, 8080)]);
    }

    #[test]
    fn a_utf8_byte_order_mark_is_accepted() {
        assert!(UTF8_BOM.starts_with('\u{feff}'), "the fixture must keep its BOM");
        let td = TaskDefinition::from_json_str(UTF8_BOM, "bom.json").unwrap();
        assert_eq!(td.family, "bom");
    }

    #[test]
    fn task_cpu_accepts_numbers_numeric_strings_and_vcpu_strings() {
        let cases = [
            (json!(1024), 1024),
            (json!("1024"), 1024),
            (json!(" 256 "), 256),
            (json!(2048.0), 2048),
            (json!("1 vCPU"), 1024),
            (json!("0.5 vCPU"), 512),
            (json!(".25 vcpu"), 256),
            (json!("2vCPU"), 2048),
            (json!("0.125 VCPU"), 128),
            (json!("16 vCPU"), 16384),
        ];
        for (cpu, units) in cases {
            let td = accepted(with(base(), "cpu", cpu.clone()));
            assert_eq!(td.cpu_units, Some(units), "cpu {cpu}");
        }
    }

    #[test]
    fn task_memory_accepts_numbers_numeric_strings_and_unit_strings() {
        let cases = [
            (json!(2048), 2048),
            (json!("2048"), 2048),
            (json!("3 GB"), 3072),
            (json!("0.5GB"), 512),
            (json!("512 MiB"), 512),
            (json!("2 GiB"), 2048),
            (json!("1024 MB"), 1024),
            (json!("1.5 gb"), 1536),
            (json!("256mib"), 256),
        ];
        for (memory, mib) in cases {
            let td = accepted(with(base(), "memory", memory.clone()));
            assert_eq!(td.memory_mib, Some(mib), "memory {memory}");
        }
    }

    #[test]
    fn container_sizes_accept_integers_and_numeric_strings() {
        let value = containers(json!([
            { "name": "a", "image": "i", "cpu": "128", "memory": "512", "memoryReservation": "256" },
            { "name": "b", "image": "i", "cpu": 0, "memory": 300.0 }
        ]));
        let td = accepted(value);
        assert_eq!(td.containers[0].cpu_units, 128);
        assert_eq!(td.containers[0].memory_mib, Some(512));
        assert_eq!(td.containers[0].memory_reservation_mib, Some(256));
        assert_eq!(td.containers[1].cpu_units, 0);
        assert_eq!(td.containers[1].memory_mib, Some(300));
    }

    #[test]
    fn network_mode_absent_or_null_defaults_to_bridge() {
        assert_eq!(accepted(base()).network_mode, NetworkMode::Bridge);
        let td = accepted(with(base(), "networkMode", Value::Null));
        assert_eq!(td.network_mode, NetworkMode::Bridge);
        assert_eq!(NetworkMode::default(), NetworkMode::Bridge);
    }

    #[test]
    fn every_network_mode_value_parses() {
        for (text, mode) in
            [("awsvpc", NetworkMode::Awsvpc), ("bridge", NetworkMode::Bridge), ("host", NetworkMode::Host), ("none", NetworkMode::None)]
        {
            let td = accepted(with(base(), "networkMode", json!(text)));
            assert_eq!(td.network_mode, mode);
            assert_eq!(mode.to_string(), text);
        }
    }

    #[test]
    fn every_compatibility_value_parses() {
        let td = accepted(with(base(), "requiresCompatibilities", json!(["EC2", "EXTERNAL"])));
        assert_eq!(td.requires_compatibilities, vec![Compatibility::Ec2, Compatibility::External]);
        assert!(!td.is_fargate());
    }

    #[test]
    fn essential_defaults_to_true_and_protocol_to_tcp() {
        let value = ports("bridge", json!([{ "containerPort": 53, "protocol": "udp" }, { "containerPort": 80 }]));
        let td = accepted(value);
        let c = &td.containers[0];
        assert!(c.essential);
        assert_eq!(c.port_mappings[0].protocol, Protocol::Udp);
        assert_eq!(c.port_mappings[1].protocol, Protocol::Tcp);
    }

    #[test]
    fn absent_host_port_equals_container_port_in_awsvpc_and_host_mode() {
        for mode in ["awsvpc", "host"] {
            let td = accepted(ports(mode, json!([{ "containerPort": 8080 }])));
            assert_eq!(td.containers[0].port_mappings[0].host_port, Some(8080), "{mode}");
        }
    }

    #[test]
    fn absent_or_zero_host_port_in_bridge_mode_is_dynamic() {
        let td = accepted(ports("bridge", json!([{ "containerPort": 80 }, { "containerPort": 81, "hostPort": 0 }])));
        for mapping in &td.containers[0].port_mappings {
            assert_eq!(mapping.host_port, None);
        }
        assert!(td.static_host_ports().is_empty());
    }

    #[test]
    fn port_ranges_without_a_container_port_take_no_static_port() {
        let td = accepted(ports("bridge", json!([{ "containerPortRange": "9000-9099" }, { "containerPort": 80, "hostPort": 80 }])));
        assert_eq!(td.containers[0].port_mappings.len(), 1);
        assert_eq!(td.static_host_ports(), vec![(Protocol::Tcp, 80)]);
    }

    #[test]
    fn log_driver_and_depends_on_are_read() {
        let value = containers(json!([
            { "name": "db", "image": "postgres", "memory": 512,
              "logConfiguration": { "logDriver": "awslogs", "options": { "awslogs-group": "g" } } },
            { "name": "app", "image": "app", "memory": 256,
              "dependsOn": [ { "containerName": "db", "condition": "HEALTHY" } ] }
        ]));
        let td = accepted(value);
        assert_eq!(td.containers[0].log_driver.as_deref(), Some("awslogs"));
        assert_eq!(td.containers[1].depends_on, ["db"]);
    }

    #[test]
    fn linux_parameters_max_swap_and_swappiness_are_read() {
        let value = containers(json!([
            { "name": "app", "image": "app", "memory": 512, "linuxParameters": { "maxSwap": 1024, "swappiness": 0 } },
            { "name": "side", "image": "side", "memory": 128 }
        ]));
        let td = accepted(value);
        assert_eq!((td.containers[0].max_swap_mib, td.containers[0].swappiness), (Some(1024), Some(0)));
        assert_eq!((td.containers[1].max_swap_mib, td.containers[1].swappiness), (None, None));
    }

    #[test]
    fn negative_max_swap_and_swappiness_above_100_are_rejected() {
        let swap = |linux: Value| containers(json!([{ "name": "app", "image": "app", "memory": 512, "linuxParameters": linux }]));
        rejected(swap(json!({ "maxSwap": -1 })), "$.containerDefinitions[0].linuxParameters.maxSwap", "0 or more");
        rejected(swap(json!({ "swappiness": 101 })), "$.containerDefinitions[0].linuxParameters.swappiness", "between 0 and 100");
        rejected(swap(json!(7)), "$.containerDefinitions[0].linuxParameters", "expected a linuxParameters object");
    }

    #[test]
    fn proxy_configuration_naming_an_existing_container_is_accepted() {
        let value = containers(json!([
            { "name": "app", "image": "app", "memory": 256 },
            { "name": "envoy", "image": "envoy", "memory": 128 }
        ]));
        accepted(with(value, "proxyConfiguration", json!({ "type": "APPMESH", "containerName": "envoy" })));
    }

    #[test]
    fn every_shipped_example_parses() {
        for (name, text) in SHIPPED {
            let td = TaskDefinition::from_json_str(text, name).unwrap_or_else(|e| panic!("{name} should parse: {e}"));
            assert!(!td.containers.is_empty(), "{name}");
        }
    }

    #[test]
    fn shipped_examples_have_the_documented_shapes() {
        let web = parse(WEB).unwrap();
        assert_eq!(web.network_mode, NetworkMode::Bridge);
        assert_eq!(web.containers[0].port_mappings[0].host_port, None);
        assert_eq!(web.reserved_memory_mib(), 512);
        assert_eq!(web.reserved_cpu_units(), 256);
        assert!(web.static_host_ports().is_empty());

        let worker = parse(WORKER).unwrap();
        assert_eq!(worker.cpu_units, None);
        assert_eq!(worker.memory_mib, None);
        assert_eq!(worker.reserved_memory_mib(), 1024);
        assert_eq!(worker.reserved_cpu_units(), 512);

        let bench = parse(BENCH_TASK).unwrap();
        assert_eq!(bench.network_mode, NetworkMode::Bridge);
        assert_eq!(bench.reserved_memory_mib(), 2048);
        assert_eq!(bench.reserved_cpu_units(), 512);
        assert!(bench.static_host_ports().is_empty());

        let api = parse(API_FARGATE).unwrap();
        assert!(api.is_fargate());
        assert_eq!(api.network_mode, NetworkMode::Awsvpc);
        assert_eq!((api.cpu_units, api.memory_mib), (Some(512), Some(1024)));
        assert_eq!(api.containers[0].port_mappings[0].host_port, Some(8080));
        assert!(api.static_host_ports().is_empty());
    }

    // --- reserved resources ------------------------------------------------

    #[test]
    fn reserved_memory_is_task_memory_even_when_above_the_containers_sum() {
        let td = accepted(with(base(), "memory", json!(4096)));
        assert_eq!(td.reserved_memory_mib(), 4096);
    }

    #[test]
    fn reserved_memory_without_task_memory_sums_reservation_else_memory() {
        let td = accepted(containers(json!([
            { "name": "soft", "image": "i", "memoryReservation": 256 },
            { "name": "hard", "image": "i", "memory": 512 },
            { "name": "both", "image": "i", "memory": 1024, "memoryReservation": 128 }
        ])));
        assert_eq!(td.reserved_memory_mib(), 256 + 512 + 128);
    }

    #[test]
    fn reserved_cpu_is_task_cpu_if_set_else_the_containers_sum() {
        let two = json!([
            { "name": "a", "image": "i", "cpu": 100, "memory": 128 },
            { "name": "b", "image": "i", "memory": 128, "cpu": 28 }
        ]);
        let td = accepted(containers(two.clone()));
        assert_eq!(td.reserved_cpu_units(), 128);
        let td = accepted(with(containers(two), "cpu", json!("1 vCPU")));
        assert_eq!(td.reserved_cpu_units(), 1024);
    }

    // --- static host ports -------------------------------------------------

    fn mixed_mappings() -> Value {
        json!([
            { "containerPort": 8080, "hostPort": 8080 },
            { "containerPort": 53, "hostPort": 53, "protocol": "udp" },
            { "containerPort": 53, "hostPort": 53, "protocol": "tcp" },
            { "containerPort": 9000 }
        ])
    }

    #[test]
    fn bridge_mode_pins_only_non_zero_host_ports_sorted() {
        let td = accepted(ports(
            "bridge",
            json!([
                { "containerPort": 8080, "hostPort": 8080 },
                { "containerPort": 53, "hostPort": 53, "protocol": "udp" },
                { "containerPort": 80, "hostPort": 0 },
                { "containerPort": 9000, "hostPort": 443 }
            ]),
        ));
        assert_eq!(td.static_host_ports(), vec![(Protocol::Tcp, 443), (Protocol::Tcp, 8080), (Protocol::Udp, 53)]);
    }

    #[test]
    fn host_mode_pins_every_container_port() {
        let td = accepted(ports("host", mixed_mappings()));
        assert_eq!(td.static_host_ports(), vec![(Protocol::Tcp, 53), (Protocol::Tcp, 8080), (Protocol::Tcp, 9000), (Protocol::Udp, 53)]);
    }

    #[test]
    fn awsvpc_and_none_modes_pin_no_host_ports() {
        for mode in ["awsvpc", "none"] {
            let td = accepted(ports(mode, mixed_mappings()));
            assert!(td.static_host_ports().is_empty(), "{mode}");
        }
    }

    #[test]
    fn the_same_port_on_tcp_and_udp_is_not_a_duplicate() {
        let td = accepted(ports(
            "bridge",
            json!([
                { "containerPort": 53, "hostPort": 53, "protocol": "tcp" },
                { "containerPort": 53, "hostPort": 53, "protocol": "udp" }
            ]),
        ));
        assert_eq!(td.static_host_ports().len(), 2);
    }

    #[test]
    fn many_dynamic_ports_for_the_same_container_port_are_fine() {
        let value = containers(json!([
            { "name": "a", "image": "i", "memory": 128, "portMappings": [ { "containerPort": 80 } ] },
            { "name": "b", "image": "i", "memory": 128, "portMappings": [ { "containerPort": 80, "hostPort": 0 } ] }
        ]));
        assert!(accepted(value).static_host_ports().is_empty());
    }

    // --- Fargate sizes -----------------------------------------------------

    #[test]
    fn fargate_memory_choices_follow_the_reference_table() {
        let counts: Vec<usize> = FARGATE_CPU_CHOICES.iter().map(|&cpu| fargate_memory_choices_mib(cpu).len()).collect();
        assert_eq!(counts, [3, 4, 7, 13, 23, 12, 12]);
        assert_eq!(fargate_memory_choices_mib(256), [512, 1024, 2048]);
        assert_eq!(fargate_memory_choices_mib(512), [1024, 2048, 3072, 4096]);
        assert_eq!(fargate_memory_choices_mib(4096).last(), Some(&30720));
        assert_eq!(fargate_memory_choices_mib(8192)[..2], [16384, 20480]);
        assert_eq!(fargate_memory_choices_mib(16384)[..2], [32768, 40960]);
        assert_eq!(fargate_memory_choices_mib(16384).last(), Some(&122880));
        assert!(fargate_memory_choices_mib(300).is_empty());
        assert!(fargate_memory_choices_mib(0).is_empty());
    }

    #[test]
    fn every_valid_fargate_size_is_accepted() {
        for cpu in FARGATE_CPU_CHOICES {
            for memory in fargate_memory_choices_mib(cpu) {
                assert!(fargate_size_is_valid(cpu, memory), "{cpu}/{memory}");
                let td = accepted(fargate(json!(cpu.to_string()), json!(memory.to_string())));
                assert_eq!((td.cpu_units, td.memory_mib), (Some(cpu), Some(memory)));
            }
        }
    }

    #[test]
    fn invalid_fargate_sizes_are_rejected() {
        let invalid = [
            (256, 4096),
            (256, 256),
            (512, 512),
            (512, 5120),
            (1024, 1024),
            (1024, 9216),
            (2048, 3072),
            (2048, 17408),
            (4096, 31744),
            (8192, 18432),
            (8192, 65536),
            (16384, 36864),
            (16384, 131072),
            (300, 1024),
            (128, 512),
            (32768, 65536),
        ];
        for (cpu, memory) in invalid {
            assert!(!fargate_size_is_valid(cpu, memory), "{cpu}/{memory}");
            let error = parse_value(&fargate(json!(cpu), json!(memory))).expect_err("invalid Fargate size accepted");
            assert!(error.message.contains("is not valid"), "{cpu}/{memory}: {error}");
        }
    }

    #[test]
    fn fargate_invalid_pair_lists_the_valid_memory_for_that_cpu() {
        let error = rejected(fargate(json!("256"), json!("4 GB")), "$.memory", "not valid");
        assert_eq!(
            error.message,
            "Fargate task size cpu 256 / memory 4096 MiB is not valid; \
             valid memory for cpu 256: 512, 1024, 2048 MiB \
             (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html)"
        );
    }

    #[test]
    fn eleven_container_definitions_are_refused_naming_the_quota_of_ten() {
        let many = |n: usize| {
            containers(json!((0..n).map(|i| json!({"name": format!("c{i}"), "image": "busybox", "memory": 16})).collect::<Vec<_>>()))
        };
        assert_eq!(accepted(many(10)).containers.len(), 10);
        let error = rejected(many(11), "$.containerDefinitions", "11 container definitions; ECS allows at most 10");
        assert!(error.message.contains(SERVICE_QUOTAS_URL), "{}", error.message);
        rejected(many(1000), "$.containerDefinitions", "1000 container definitions");
    }

    #[test]
    fn container_names_follow_ecs_rules_of_255_letters_digits_hyphens_underscores() {
        accepted(with_container(base(), "name", json!("Web_app-2")));
        accepted(with_container(base(), "name", json!("a".repeat(255))));
        let error = rejected(with_container(base(), "name", json!("a".repeat(256))), "$.containerDefinitions[0].name", "at most 255");
        assert!(error.message.contains(TASK_DEFINITION_PARAMETERS_URL));
        for bad in ["web app", "web.app", "web/app", "wéb"] {
            rejected(
                with_container(base(), "name", json!(bad)),
                "$.containerDefinitions[0].name",
                "only letters, digits, hyphens and underscores",
            );
        }
    }

    #[test]
    fn family_names_follow_the_same_rules_as_container_names() {
        accepted(with(base(), "family", json!("my-family_2")));
        rejected(with(base(), "family", json!("my family")), "$.family", "only letters, digits, hyphens and underscores");
        rejected(with(base(), "family", json!("f".repeat(256))), "$.family", "at most 255");
    }

    #[test]
    fn ec2_task_cpu_is_limited_to_128_to_196608_units() {
        assert_eq!(accepted(with(base(), "cpu", json!("128"))).cpu_units, Some(128));
        assert_eq!(accepted(with(base(), "cpu", json!("192 vCPU"))).cpu_units, Some(196_608));
        let error =
            rejected(with(base(), "cpu", json!("64")), "$.cpu", "outside what ECS registers for EC2 and external instances: 128 to 196608");
        assert!(error.message.contains(REGISTER_TASK_DEFINITION_URL));
        rejected(with(base(), "cpu", json!("193 vCPU")), "$.cpu", "128 to 196608 units");
    }

    #[test]
    fn port_errors_cite_the_ecs_port_mapping_rules() {
        let error = rejected(
            ports("bridge", json!([{ "containerPort": 65536 }])),
            "$.containerDefinitions[0].portMappings[0].containerPort",
            "between 1 and 65535",
        );
        assert!(error.message.contains(TASK_DEFINITION_PARAMETERS_URL));
        let error = rejected(
            ports("awsvpc", json!([{ "containerPort": 80, "hostPort": 8080 }])),
            "$.containerDefinitions[0].portMappings[0].hostPort",
            "hostPort must be absent or equal to containerPort (80)",
        );
        assert!(error.message.contains(TASK_DEFINITION_PARAMETERS_URL));
    }

    #[test]
    fn fargate_invalid_cpu_lists_the_valid_cpu_values() {
        rejected(fargate(json!(300), json!(1024)), "$.cpu", "valid cpu values: 256, 512, 1024, 2048, 4096, 8192, 16384");
    }

    #[test]
    fn fargate_with_bridge_network_mode_is_rejected() {
        let value = with(fargate(json!(256), json!(512)), "networkMode", json!("bridge"));
        rejected(value, "$.networkMode", "FARGATE requires networkMode \"awsvpc\", found \"bridge\"");
    }

    #[test]
    fn fargate_without_network_mode_is_rejected_as_bridge() {
        let mut value = fargate(json!(256), json!(512));
        value.as_object_mut().unwrap().remove("networkMode");
        rejected(value, "$.networkMode", "not set, which means bridge");
    }

    #[test]
    fn fargate_without_task_cpu_is_rejected() {
        rejected(fargate(Value::Null, json!(512)), "$.cpu", "FARGATE requires a task-level cpu");
    }

    #[test]
    fn fargate_without_task_memory_is_rejected_with_the_choices() {
        rejected(
            fargate(json!(512), Value::Null),
            "$.memory",
            "FARGATE requires a task-level memory; valid memory for cpu 512: 1024, 2048, 3072, 4096 MiB",
        );
    }

    // --- not JSON ----------------------------------------------------------

    #[test]
    fn a_braces_template_placeholder_is_reported_as_unrendered() {
        let error = rejected_text(PLACEHOLDER_BRACES, "$", "not valid JSON");
        assert!(error.message.contains("line 1, column"), "{error}");
        assert!(error.message.contains("looks like an unrendered template placeholder"), "{error}");
        assert!(error.message.contains("{{ TASK_DEF }}"), "{error}");
    }

    #[test]
    fn a_dollar_template_placeholder_is_reported_as_unrendered() {
        let error = rejected_text(PLACEHOLDER_DOLLAR, "$", "not valid JSON");
        assert!(error.message.contains("line 1, column 1"), "{error}");
        assert!(error.message.contains("`${TASKDEF_JSON}` looks like an unrendered template placeholder"), "{error}");
    }

    #[test]
    fn a_placeholder_inside_the_json_is_reported_on_its_line() {
        let error = rejected_text(PLACEHOLDER_IN_VALUE, "$", "not valid JSON");
        assert!(error.message.contains("line 3"), "{error}");
        assert!(error.message.contains("`{{ cpu }}` looks like an unrendered template placeholder"), "{error}");
    }

    #[test]
    fn a_placeholder_in_a_typed_field_is_pointed_out() {
        rejected(with(base(), "memory", json!("${MEMORY}")), "$.memory", "looks like an unrendered template placeholder");
    }

    #[test]
    fn a_trailing_comma_is_reported_with_line_and_column_and_no_template_hint() {
        let error = rejected_text(TRAILING_COMMA, "$", "not valid JSON");
        assert!(error.message.contains("comma"), "{error}");
        assert!(error.message.contains("line 5, column 3"), "{error}");
        assert!(!error.message.contains("template"), "{error}");
    }

    #[test]
    fn a_truncated_file_is_reported_as_incomplete() {
        rejected_text(TRUNCATED, "$", "truncated");
    }

    #[test]
    fn an_empty_file_is_rejected() {
        rejected_text(EMPTY, "$", "the file is empty");
        rejected_text("  \n\t ", "$", "the file is empty");
    }

    #[test]
    fn a_bare_container_list_is_rejected_with_a_hint() {
        rejected_text(TERRAFORM_CONTAINER_LIST, "$", "bare list of container definitions");
    }

    #[test]
    fn a_scalar_top_level_is_rejected() {
        rejected(json!("web"), "$", "expected a task definition object, found the string");
    }

    #[test]
    fn wrongly_capitalised_fields_are_named_in_the_missing_message() {
        rejected_text(CLOUDFORMATION_CASE, "$.family", "found \"Family\"; field names are case-sensitive");
    }

    #[test]
    fn syntax_errors_do_not_leak_serde_wording() {
        let error = rejected_text("{ family: 1 }", "$", "object keys must be double-quoted strings");
        assert!(!error.message.contains(" at line "), "{error}");
    }

    // --- wrong types -------------------------------------------------------

    #[test]
    fn container_definitions_as_an_object_is_rejected_with_expected_and_found() {
        rejected(
            with(base(), "containerDefinitions", json!({})),
            "$.containerDefinitions",
            "expected an array of container definitions, found an object",
        );
    }

    #[test]
    fn task_memory_that_is_not_a_size_is_rejected_with_expected_and_found() {
        rejected(
            with(base(), "memory", json!("lots")),
            "$.memory",
            "expected a number of MiB or a size like \"2 GB\", found the string \"lots\"; accepted: MiB (\"2048\") or a size in MiB, MB, GiB or GB",
        );
    }

    #[test]
    fn every_task_memory_error_names_the_accepted_units() {
        for bad in [json!("lots"), json!(0), json!("-1 GB"), json!("0.3 GB"), json!("5000000 GB"), json!("2 TB")] {
            let error = TaskDefinition::from_json_str(&with(base(), "memory", bad.clone()).to_string(), "t.json").unwrap_err();
            assert!(error.message.contains("accepted: MiB (\"2048\") or a size in MiB, MB, GiB or GB"), "{bad}: {}", error.message);
        }
        let error = TaskDefinition::from_json_str(&with(base(), "cpu", json!("2 GB")).to_string(), "t.json").unwrap_err();
        assert!(error.message.contains("accepted: CPU units"), "{}", error.message);
    }

    #[test]
    fn task_cpu_with_a_memory_unit_is_rejected() {
        rejected(with(base(), "cpu", json!("2 GB")), "$.cpu", "expected a number of CPU units");
    }

    #[test]
    fn wrong_types_in_containers_name_their_path() {
        rejected(
            with_container(base(), "memory", json!("big")),
            "$.containerDefinitions[0].memory",
            "expected an integer, found the string \"big\"",
        );
        rejected(
            with_container(base(), "cpu", json!(true)),
            "$.containerDefinitions[0].cpu",
            "expected an integer, found the boolean true",
        );
        rejected(with_container(base(), "essential", json!("yes")), "$.containerDefinitions[0].essential", "expected true or false");
        rejected(
            with_container(base(), "portMappings", json!({})),
            "$.containerDefinitions[0].portMappings",
            "expected an array of port mappings",
        );
        rejected(
            with_container(base(), "logConfiguration", json!("awslogs")),
            "$.containerDefinitions[0].logConfiguration",
            "expected a logConfiguration object",
        );
        rejected(with_container(base(), "name", json!(7)), "$.containerDefinitions[0].name", "expected a string, found the number 7");
        rejected(containers(json!(["app"])), "$.containerDefinitions[0]", "expected a container definition object");
        rejected(with(base(), "requiresCompatibilities", json!("EC2")), "$.requiresCompatibilities", "expected an array of strings");
        rejected(with(base(), "family", json!(["a"])), "$.family", "expected a string, found an array");
        rejected(with(base(), "networkMode", json!(1)), "$.networkMode", "expected a string");
    }

    #[test]
    fn port_numbers_outside_their_range_are_rejected() {
        rejected(
            ports("bridge", json!([{ "containerPort": 0 }])),
            "$.containerDefinitions[0].portMappings[0].containerPort",
            "between 1 and 65535",
        );
        rejected(
            ports("bridge", json!([{ "containerPort": 80, "hostPort": 70000 }])),
            "$.containerDefinitions[0].portMappings[0].hostPort",
            "between 0 and 65535, found 70000",
        );
        rejected(
            ports("bridge", json!([{ "hostPort": 80 }])),
            "$.containerDefinitions[0].portMappings[0].containerPort",
            "missing containerPort",
        );
        rejected(
            ports("bridge", json!([{ "containerPort": 80, "protocol": "TCP" }])),
            "$.containerDefinitions[0].portMappings[0].protocol",
            "did you mean \"tcp\"",
        );
        rejected(
            ports("bridge", json!([{ "containerPort": 80, "protocol": "sctp" }])),
            "$.containerDefinitions[0].portMappings[0].protocol",
            "expected tcp or udp",
        );
    }

    // --- missing or empty required fields ------------------------------------

    #[test]
    fn missing_family_is_rejected() {
        let mut value = base();
        value.as_object_mut().unwrap().remove("family");
        rejected(value, "$.family", "missing family");
    }

    #[test]
    fn empty_family_is_rejected() {
        rejected(with(base(), "family", json!("")), "$.family", "family is empty");
    }

    #[test]
    fn missing_container_definitions_is_rejected() {
        rejected(json!({ "family": "x" }), "$.containerDefinitions", "missing containerDefinitions");
        rejected(with(base(), "containerDefinitions", Value::Null), "$.containerDefinitions", "missing containerDefinitions");
    }

    #[test]
    fn empty_container_definitions_is_rejected() {
        rejected(containers(json!([])), "$.containerDefinitions", "containerDefinitions is empty");
    }

    #[test]
    fn container_without_a_name_is_rejected_with_its_path() {
        rejected(
            containers(json!([{ "name": "a", "image": "i", "memory": 64 }, { "image": "i", "memory": 64 }])),
            "$.containerDefinitions[1].name",
            "missing container name",
        );
    }

    #[test]
    fn container_without_an_image_is_rejected_with_its_path() {
        rejected(
            containers(json!([{ "name": "a", "image": " ", "memory": 64 }])),
            "$.containerDefinitions[0].image",
            "container image is empty",
        );
        rejected(containers(json!([{ "name": "a", "memory": 64 }])), "$.containerDefinitions[0].image", "missing container image");
    }

    #[test]
    fn duplicate_container_names_are_rejected_at_the_second_one() {
        rejected(
            containers(json!([
                { "name": "app", "image": "i", "memory": 64 },
                { "name": "app", "image": "j", "memory": 64 }
            ])),
            "$.containerDefinitions[1].name",
            "container name \"app\" is already used by $.containerDefinitions[0]",
        );
    }

    // --- sizes ---------------------------------------------------------------

    #[test]
    fn zero_or_negative_task_sizes_are_rejected() {
        rejected(with(base(), "cpu", json!(0)), "$.cpu", "cpu must be greater than 0, found 0");
        rejected(with(base(), "cpu", json!("-1024")), "$.cpu", "cpu must be greater than 0");
        rejected(with(base(), "memory", json!(-512)), "$.memory", "memory must be greater than 0, found -512");
        rejected(with(base(), "memory", json!("0 GB")), "$.memory", "memory must be greater than 0");
    }

    #[test]
    fn fractional_units_are_rejected() {
        rejected(with(base(), "cpu", json!("0.1 vCPU")), "$.cpu", "not a whole number of CPU units");
        rejected(with(base(), "cpu", json!(0.5)), "$.cpu", "not a whole number of CPU units");
        rejected(with(base(), "memory", json!("0.3 GB")), "$.memory", "not a whole number of MiB");
        rejected(with(base(), "memory", json!("10.5")), "$.memory", "not a whole number of MiB");
    }

    #[test]
    fn task_sizes_beyond_u32_are_rejected_not_wrapped() {
        rejected(with(base(), "memory", json!("5000000 GB")), "$.memory", "too large");
        rejected(with(base(), "cpu", json!(99_999_999_999u64)), "$.cpu", "too large");
        rejected(with(base(), "memory", json!("1000000000000000000000")), "$.memory", "too large");
        rejected(with_container(base(), "memory", json!(u64::MAX)), "$.containerDefinitions[0].memory", "too large");
    }

    #[test]
    fn zero_or_negative_container_memory_is_rejected() {
        rejected(with_container(base(), "memory", json!(0)), "$.containerDefinitions[0].memory", "memory must be greater than 0 MiB");
        rejected(
            with_container(base(), "memoryReservation", json!(-5)),
            "$.containerDefinitions[0].memoryReservation",
            "memoryReservation must be greater than 0 MiB, found -5",
        );
    }

    #[test]
    fn container_cpu_may_be_zero_but_not_negative() {
        assert_eq!(accepted(with_container(base(), "cpu", json!(0))).containers[0].cpu_units, 0);
        rejected(with_container(base(), "cpu", json!(-1)), "$.containerDefinitions[0].cpu", "cpu must not be negative");
    }

    #[test]
    fn container_without_memory_or_reservation_is_rejected_when_the_task_has_no_memory() {
        let value = containers(json!([{ "name": "app", "image": "i" }]));
        rejected(value.clone(), "$.containerDefinitions[0]", "neither memory nor memoryReservation");
        let td = accepted(with(value, "memory", json!("1 GB")));
        assert_eq!(td.reserved_memory_mib(), 1024);
    }

    #[test]
    fn memory_reservation_not_below_memory_is_rejected() {
        for reservation in [512, 600] {
            let value = with_container(base(), "memory", json!(512));
            rejected(
                with_container(value, "memoryReservation", json!(reservation)),
                "$.containerDefinitions[0].memoryReservation",
                &format!("memoryReservation ({reservation} MiB) must be less than memory (512 MiB)"),
            );
        }
    }

    #[test]
    fn container_memory_above_task_memory_is_rejected_with_its_path() {
        let value = json!({
            "family": "web",
            "memory": "2048",
            "containerDefinitions": [
                { "name": "a", "image": "i", "memory": 1024 },
                { "name": "b", "image": "i", "memory": 4096 }
            ]
        });
        let error = rejected(value, "$.containerDefinitions[1].memory", "above the task's memory");
        assert_eq!(
            error.to_string(),
            "taskdefs/test.json: $.containerDefinitions[1].memory: \
             4096 MiB is above the task's memory (2048 MiB)"
        );
    }

    #[test]
    fn container_memory_equal_to_task_memory_is_accepted() {
        let value = with(with_container(base(), "memory", json!(2048)), "memory", json!(2048));
        accepted(value);
    }

    #[test]
    fn container_reservations_adding_up_above_task_memory_are_rejected() {
        let value = json!({
            "family": "web",
            "memory": 1024,
            "containerDefinitions": [
                { "name": "a", "image": "i", "memoryReservation": 512 },
                { "name": "b", "image": "i", "memoryReservation": 768 }
            ]
        });
        rejected(value, "$.containerDefinitions", "add up to 1280 MiB, above the task's memory (1024 MiB)");
    }

    #[test]
    fn container_cpu_adding_up_above_task_cpu_is_rejected() {
        let value = json!({
            "family": "web",
            "cpu": "0.5 vCPU",
            "containerDefinitions": [
                { "name": "a", "image": "i", "cpu": 256, "memory": 128 },
                { "name": "b", "image": "i", "cpu": 512, "memory": 128 }
            ]
        });
        rejected(value, "$.containerDefinitions", "cpu values add up to 768 units, above the task's cpu (512 units)");
    }

    #[test]
    fn a_task_without_an_essential_container_is_rejected() {
        rejected(with_container(base(), "essential", json!(false)), "$.containerDefinitions", "no container is essential");
    }

    // --- references ----------------------------------------------------------

    #[test]
    fn depends_on_an_unknown_container_is_rejected_with_its_path() {
        let value = containers(json!([
            { "name": "app", "image": "i", "memory": 64 },
            { "name": "side", "image": "i", "memory": 64,
              "dependsOn": [ { "containerName": "app", "condition": "START" }, { "containerName": "db", "condition": "HEALTHY" } ] }
        ]));
        rejected(
            value,
            "$.containerDefinitions[1].dependsOn[1].containerName",
            "container \"db\" does not exist in this task definition (containers: app, side)",
        );
    }

    #[test]
    fn depends_on_without_a_container_name_is_rejected() {
        rejected(
            with_container(base(), "dependsOn", json!([{ "condition": "START" }])),
            "$.containerDefinitions[0].dependsOn[0].containerName",
            "missing containerName",
        );
    }

    #[test]
    fn proxy_configuration_naming_an_unknown_container_is_rejected() {
        rejected(
            with(base(), "proxyConfiguration", json!({ "type": "APPMESH", "containerName": "envoy" })),
            "$.proxyConfiguration.containerName",
            "container \"envoy\" does not exist",
        );
    }

    // --- ports ---------------------------------------------------------------

    #[test]
    fn duplicate_static_host_ports_in_bridge_mode_are_rejected() {
        let value = containers(json!([
            { "name": "a", "image": "i", "memory": 64, "portMappings": [ { "containerPort": 80, "hostPort": 8080 } ] },
            { "name": "b", "image": "i", "memory": 64, "portMappings": [ { "containerPort": 81, "hostPort": 8080 } ] }
        ]));
        rejected(
            value,
            "$.containerDefinitions[1].portMappings[0].hostPort",
            "host port 8080/tcp is already used by $.containerDefinitions[0].portMappings[0]",
        );
    }

    #[test]
    fn duplicate_container_ports_in_host_mode_are_rejected() {
        rejected(
            ports("host", json!([{ "containerPort": 80 }, { "containerPort": 80, "protocol": "tcp" }])),
            "$.containerDefinitions[0].portMappings[1].containerPort",
            "host port 80/tcp is already used",
        );
    }

    #[test]
    fn awsvpc_host_port_different_from_container_port_is_rejected() {
        rejected(
            ports("awsvpc", json!([{ "containerPort": 8080, "hostPort": 80 }])),
            "$.containerDefinitions[0].portMappings[0].hostPort",
            "in awsvpc network mode hostPort must be absent or equal to containerPort (8080), found 80",
        );
    }

    #[test]
    fn host_mode_host_port_different_from_container_port_is_rejected() {
        rejected(
            ports("host", json!([{ "containerPort": 8080, "hostPort": 0 }])),
            "$.containerDefinitions[0].portMappings[0].hostPort",
            "in host network mode hostPort must be absent or equal",
        );
    }

    #[test]
    fn awsvpc_host_port_equal_to_container_port_is_accepted() {
        let td = accepted(ports("awsvpc", json!([{ "containerPort": 8080, "hostPort": 8080 }])));
        assert_eq!(td.containers[0].port_mappings[0].host_port, Some(8080));
    }

    // --- enumerations ----------------------------------------------------------

    #[test]
    fn unknown_network_mode_is_rejected() {
        rejected(
            with(base(), "networkMode", json!("nat")),
            "$.networkMode",
            "unknown networkMode \"nat\"; expected one of awsvpc, bridge, host, none",
        );
        rejected(with(base(), "networkMode", json!("AWSVPC")), "$.networkMode", "did you mean \"awsvpc\"");
    }

    #[test]
    fn unknown_compatibility_is_rejected() {
        rejected(
            with(base(), "requiresCompatibilities", json!(["EC2", "LAMBDA"])),
            "$.requiresCompatibilities[1]",
            "unknown compatibility \"LAMBDA\"; expected one of EC2, FARGATE, EXTERNAL",
        );
        rejected(with(base(), "requiresCompatibilities", json!(["fargate"])), "$.requiresCompatibilities[0]", "did you mean \"FARGATE\"");
    }

    // --- robustness ------------------------------------------------------------

    #[test]
    fn error_display_is_file_path_message() {
        let error = parse("{}").unwrap_err();
        assert_eq!(error.to_string(), "taskdefs/test.json: $.family: missing family");
    }

    #[test]
    fn truncated_prefixes_and_garbage_never_panic() {
        let mut inputs: Vec<String> = Vec::new();
        for (_, text) in SHIPPED {
            inputs.extend(text.char_indices().map(|(i, _)| text[..i].to_string()).step_by(3));
        }
        let garbage: [&[u8]; 7] = [
            b"\xff\xfe\x00{",
            b"\x00\x00\x00",
            b"{\"family\": \"\xc3\x28\", \"containerDefinitions\": [{}]}",
            b"{\"cpu\": 1e400}",
            b"{\"family\": \"x\", \"cpu\": \"-.\", \"memory\": \"..GB\"}",
            b"{\"family\":\"x\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\",\"memory\":1e300}]}",
            b"\"\\ud800\"",
        ];
        inputs.extend(garbage.iter().map(|b| String::from_utf8_lossy(b).into_owned()));
        // Deeper than serde_json's recursion limit.
        inputs.push("[".repeat(500));
        let mut nested = "{\"taskDefinition\":".repeat(200);
        nested.push_str(&"}".repeat(200));
        inputs.push(nested);
        assert!(inputs.len() > 1000);
        for input in &inputs {
            if let Err(error) = TaskDefinition::from_json_str(input, "fuzz.json") {
                assert_eq!(error.file, "fuzz.json");
                assert!(error.json_path.starts_with('$'), "{error}");
                assert!(!error.message.is_empty());
            }
        }
    }
}
