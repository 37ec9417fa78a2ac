//! Egress: image pulls and log shipping as bytes over links (host and task ENIs, NAT gateways,
//! the internet gateway, VPC endpoints), the routes that decide which links, image caches, log
//! buffers, and the ECS rules that stop a task before or during its pull.
//!
//! - [`flows`]: [`FlowNetwork`] — links, max-min fair pull flows with incremental updates, fluid
//!   log loads with buffers, byte meters.
//! - [`routes`]: [`RouteTable`] — internet gateway, NAT (per AZ or shared), endpoints, no route.
//! - [`images`]: [`PullBehavior`], [`ImageCache`], SOCI lazy loading.
//!
//! Model documentation with sources: `docs/model.md`, section "Egress".
//!
//! Architecture invariant: nothing here owns an event queue or reads files; methods take `now`
//! and report changed event times into caller-supplied buffers.

pub mod flows;
pub mod images;
pub mod routes;

pub use flows::{FlowChange, FlowId, FlowNetwork, LinkId, LogMode, LogPathId, LogSourceId, LogTotals, MAX_PATH_LINKS, Path};
pub use images::{ImageCache, ImageId, PullBehavior, PullPlan, lazy_loading_milestone_bytes, plan_pull};
pub use routes::{EndpointService, Endpoints, Hop, NatLayout, Origin, Route, RouteTable, SubnetRouting, Traffic, is_private_ecr};

use crate::model::taskdef::{LogDriverMode, TaskDefinition};

/// Bytes per second in one gigabit per second.
pub const BYTES_PER_GBIT: f64 = 1e9 / 8.0;

/// awslogs' default buffer in non-blocking mode: 10 MiB
/// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LogConfiguration.html).
pub const DEFAULT_LOG_BUFFER_BYTES: u64 = 10 * 1024 * 1024;

/// Why a task stopped before it ran, for reasons egress decides. The strings are ECS's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StartFailure {
    /// No route to the registry: the pull times out
    /// (stopCode `TaskFailedToStart`, `CannotPullContainerError: … Client.Timeout exceeded`).
    CannotPullContainer,
    /// Fargate could not reach ECR for registry auth (private subnet, no NAT, no endpoints):
    /// `ResourceInitializationError: unable to pull secrets or registry auth`.
    RegistryAuthTimeout,
    /// Fargate's awslogs could not reach CloudWatch Logs:
    /// `ResourceInitializationError: failed to validate logger args`.
    LoggerUnreachable,
    /// A Fargate task with a private ECR image and no `executionRoleArn`.
    ExecutionRoleForEcr,
    /// A Fargate task using awslogs with no `executionRoleArn`.
    ExecutionRoleForAwslogs,
    /// The pull had a route but did not finish within the agent's image pull timeout (a NAT
    /// gateway outage, a crawling link).
    PullTimeout,
}

impl StartFailure {
    pub const ALL: [StartFailure; 6] = [
        StartFailure::CannotPullContainer,
        StartFailure::RegistryAuthTimeout,
        StartFailure::LoggerUnreachable,
        StartFailure::ExecutionRoleForEcr,
        StartFailure::ExecutionRoleForAwslogs,
        StartFailure::PullTimeout,
    ];

    /// The stopped reason as ECS words it.
    pub fn as_str(self) -> &'static str {
        match self {
            StartFailure::CannotPullContainer => "CannotPullContainerError: Client.Timeout exceeded while awaiting headers",
            StartFailure::RegistryAuthTimeout => {
                "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: context deadline exceeded"
            }
            StartFailure::LoggerUnreachable => "ResourceInitializationError: failed to validate logger args: signal: killed",
            StartFailure::ExecutionRoleForEcr => {
                "ClientException: Fargate requires task definition to have execution role ARN to support ECR images."
            }
            StartFailure::ExecutionRoleForAwslogs => {
                "ClientException: Fargate requires task definition to have execution role ARN to support log driver awslogs."
            }
            StartFailure::PullTimeout => "CannotPullContainerError: context canceled",
        }
    }

    /// A short column-friendly name.
    pub fn name(self) -> &'static str {
        match self {
            StartFailure::CannotPullContainer => "cannot_pull_container",
            StartFailure::RegistryAuthTimeout => "registry_auth_timeout",
            StartFailure::LoggerUnreachable => "logger_unreachable",
            StartFailure::ExecutionRoleForEcr => "execution_role_ecr",
            StartFailure::ExecutionRoleForAwslogs => "execution_role_awslogs",
            StartFailure::PullTimeout => "pull_timeout",
        }
    }
}

/// The task execution role rule
/// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html): on
/// Fargate, pulling from a private ECR repository or logging with awslogs needs an execution role;
/// ECS refuses such a task without one, before any pull. On EC2 the container instance role
/// serves both, so no rule applies.
pub fn execution_role_failure(td: &TaskDefinition, fargate: bool) -> Option<StartFailure> {
    if !fargate || td.execution_role_arn.is_some() {
        return None;
    }
    if td.containers.iter().any(|c| is_private_ecr(&c.image)) {
        return Some(StartFailure::ExecutionRoleForEcr);
    }
    if td.containers.iter().any(|c| c.log_driver.as_deref() == Some("awslogs")) {
        return Some(StartFailure::ExecutionRoleForAwslogs);
    }
    None
}

/// The log mode a container's `logConfiguration.options` give, with ECS's defaults: non-blocking
/// (the default since 25 June 2025) with a 10 MiB buffer.
pub fn log_mode(options: &crate::model::taskdef::LogOptions) -> LogMode {
    match options.mode {
        Some(LogDriverMode::Blocking) => LogMode::Blocking,
        Some(LogDriverMode::NonBlocking) | None => {
            LogMode::NonBlocking { buffer_bytes: options.max_buffer_size_bytes.unwrap_or(DEFAULT_LOG_BUFFER_BYTES) }
        }
    }
}

#[cfg(test)]
mod tests;
