//! ECS task placement for the EC2 launch type (docs/model.md#placement-order): the resource filter
//! (CPU, memory as ECS reserves it, static host ports), constraints (`distinctInstance`,
//! `memberOf`), then up to five strategies applied lexicographically, final ties broken by the
//! placement random stream.
//!
//! Architecture invariant: placement never mutates the cluster. [`Placer::decide`] reads a
//! [`ClusterView`] and returns a decision; `sim` applies it and then tells the placer's index what
//! changed ([`Placer::host_changed`]).
//!
//! Architecture invariant: the indexed decision and the full-scan oracle ([`Placer::explain`])
//! agree — the chosen host is always one of the oracle's best candidates. Tests check it.

mod constraint;
mod decide;
mod groups;
mod index;
pub mod query;
mod spread;
mod strategy;
#[cfg(test)]
mod tests;

pub use constraint::{Constraint, MAX_CONSTRAINTS};
pub use decide::{Explanation, MAX_AZS, Placer};
pub use groups::{GroupCounts, GroupId};
pub use strategy::{AZ_ATTRIBUTE, MAX_STRATEGIES, PlacementStrategy, Resource, SpreadField, StrategyRegistry, StrategySpec};

use crate::model::taskdef::Protocol;
use crate::model::{Cluster, HostId, Resources};

/// The strategies and constraints one workload places with.
#[derive(Debug, Clone, Default)]
pub struct PlacementSpec {
    pub strategies: Vec<StrategySpec>,
    pub constraints: Vec<Constraint>,
}

impl PlacementSpec {
    /// ECS's default for a service with no strategy: spread across AZs, then fewest tasks of the
    /// service per instance (docs/model.md#placement-strategies-and-defaults).
    pub fn service_default() -> PlacementSpec {
        PlacementSpec {
            strategies: vec![
                StrategySpec::Spread(SpreadField::Attribute(AZ_ATTRIBUTE.into())),
                StrategySpec::Spread(SpreadField::InstanceId),
            ],
            constraints: Vec::new(),
        }
    }

    /// ECS's default for RunTask with no strategy: random (docs/model.md#placement-strategies-and-defaults).
    pub fn run_task_default() -> PlacementSpec {
        PlacementSpec { strategies: vec![StrategySpec::Random], constraints: Vec::new() }
    }

    /// Whether deciding for this spec reads per-host task-group counts.
    pub fn reads_host_group_counts(&self) -> bool {
        self.strategies.iter().any(|s| match s {
            StrategySpec::Spread(SpreadField::Attribute(a)) => a != AZ_ATTRIBUTE,
            StrategySpec::Spread(SpreadField::InstanceId) | StrategySpec::Custom(_) => true,
            StrategySpec::Binpack(_) | StrategySpec::Random => false,
        }) || self.constraints.iter().any(|c| match c {
            Constraint::DistinctInstance => true,
            Constraint::MemberOf(e) => e.depends_on_tasks(),
        })
    }

    /// `spread(attribute:ecs.availability-zone),binpack(memory)` — for CSV columns and charts.
    pub fn strategy_label(&self) -> String {
        self.strategies.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
    }
}

/// What one task needs from a host.
#[derive(Debug, Clone, Copy)]
pub struct PlacementRequest<'a> {
    pub need: Resources,
    pub ports: &'a [(Protocol, u16)],
    /// An `awsvpc` task: needs a free ENI slot on the host.
    pub eni: bool,
    /// AZs the task may go to (bit `i` = `AzId(i)`): for `awsvpc`, those of its subnets
    /// (`LOCATION`). `u32::MAX` = anywhere.
    pub az_mask: u32,
    /// Host groups the task may go to (bit `i` = group `i`, bit 63 = groups 63 and later): a
    /// capacity provider's Auto Scaling group. `u64::MAX` = any host.
    pub host_groups: u64,
    pub group: GroupId,
    pub spec: &'a PlacementSpec,
}

/// Read-only view a placement decision (or a user strategy) sees.
#[derive(Clone, Copy)]
pub struct ClusterView<'a> {
    pub cluster: &'a Cluster,
    pub groups: &'a GroupCounts,
}

/// Why a task could not be placed, in ECS's vocabulary (docs/model.md#placement-failure-reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlacementFailure {
    ResourceCpu,
    ResourceMemory,
    ResourcePorts,
    /// No free ENI attachment slot (awsvpc).
    ResourceEni,
    /// No host in an AZ of the task's subnets (awsvpc).
    Location,
    DistinctInstance,
    MemberOf,
    /// The cluster has no container instances at all.
    NoContainerInstances,
}

impl PlacementFailure {
    pub const ALL: [PlacementFailure; 8] = [
        PlacementFailure::ResourceCpu,
        PlacementFailure::ResourceMemory,
        PlacementFailure::ResourcePorts,
        PlacementFailure::ResourceEni,
        PlacementFailure::Location,
        PlacementFailure::DistinctInstance,
        PlacementFailure::MemberOf,
        PlacementFailure::NoContainerInstances,
    ];

    /// The reason string ECS reports.
    pub fn ecs_reason(self) -> &'static str {
        match self {
            PlacementFailure::ResourceCpu => "RESOURCE:CPU",
            PlacementFailure::ResourceMemory => "RESOURCE:MEMORY",
            PlacementFailure::ResourcePorts => "RESOURCE:PORTS",
            PlacementFailure::ResourceEni => "RESOURCE:ENI",
            PlacementFailure::Location => "LOCATION",
            PlacementFailure::DistinctInstance => "distinctInstance placement constraint unsatisfied",
            PlacementFailure::MemberOf => "MemberOf placement constraint unsatisfied",
            PlacementFailure::NoContainerInstances => "No Container Instances were found in your cluster",
        }
    }

    /// Stable snake-case name for CSV columns (`failed_resource_memory`).
    pub fn column_suffix(self) -> &'static str {
        match self {
            PlacementFailure::ResourceCpu => "resource_cpu",
            PlacementFailure::ResourceMemory => "resource_memory",
            PlacementFailure::ResourcePorts => "resource_ports",
            PlacementFailure::ResourceEni => "resource_eni",
            PlacementFailure::Location => "location",
            PlacementFailure::DistinctInstance => "constraint_distinct_instance",
            PlacementFailure::MemberOf => "constraint_member_of",
            PlacementFailure::NoContainerInstances => "no_container_instances",
        }
    }
}

/// The facts a `memberOf` expression may ask about one host.
pub struct HostFacts<'a> {
    view: ClusterView<'a>,
    host: HostId,
}

impl query::InstanceFacts for HostFacts<'_> {
    fn attribute(&self, name: &str) -> Option<&str> {
        let cluster = self.view.cluster;
        let host = cluster.host(self.host);
        match name {
            "ecs.availability-zone" => Some(cluster.az_name(host.az)),
            "ecs.instance-type" => Some(&cluster.instance_type_of(self.host).name),
            "ecs.os-type" => Some("linux"),
            "ecs.os-family" => Some("LINUX"),
            "ecs.cpu-architecture" => Some("x86_64"),
            _ => {
                let attrs = &cluster.host_groups[host.group as usize].attributes;
                attrs.binary_search_by(|(k, _)| k.as_str().cmp(name)).ok().map(|i| attrs[i].1.as_str())
            }
        }
    }

    fn ec2_instance_id(&self) -> &str {
        &self.view.cluster.host(self.host).instance_id
    }

    fn running_tasks_count(&self) -> u32 {
        self.view.cluster.host(self.host).task_count
    }

    fn has_task_group(&self, group: &str) -> bool {
        self.view.groups.id_of(group).is_some_and(|g| self.view.groups.on_host(g, self.host) > 0)
    }
}

/// Built-in attributes every host has, for validating `memberOf` and `spread(attribute:…)`.
pub const BUILT_IN_ATTRIBUTES: [&str; 5] =
    ["ecs.availability-zone", "ecs.instance-type", "ecs.os-type", "ecs.os-family", "ecs.cpu-architecture"];
